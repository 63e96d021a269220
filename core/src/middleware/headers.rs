//! `headers`: custom request/response headers, CORS and security headers (Traefik
//! `pkg/middlewares/headers`). On the request: a CORS preflight is answered locally first, then
//! `customRequestHeaders` are applied (an empty value deletes; `Host` sets the upstream host),
//! then `allowedHosts` is checked. On the response: the security headers, then
//! `customResponseHeaders`, then the CORS headers, so custom values can override or delete
//! security ones.

use super::cors::Cors;
use super::secure::Secure;
use super::{Middleware, RequestAction, RequestContext};
use crate::config::dynamic;
use crate::http::{HeaderName, Headers, RequestHead, ResponseHead};

/// The built `headers` middleware.
#[derive(Debug, Clone)]
pub struct HeadersMiddleware {
    /// `customRequestHeaders` and `customResponseHeaders`, each entry's effect decided with
    /// the configuration.
    custom_request: Vec<Custom>,
    custom_response: Vec<Custom>,
    cors: Cors,
    secure: Secure,
    suppress_xff: bool,
    /// Whether a response is touched: custom response headers, security headers or CORS
    /// (a middleware with `customRequestHeaders` only has nothing to do on the way back).
    response_side: bool,
}

impl HeadersMiddleware {
    /// Builds it; a configuration that sets no option is Traefik's `headers configuration not
    /// valid`, an invalid origin regex is an error.
    pub fn new(cfg: &dynamic::Headers) -> Result<Self, String> {
        let secure = Secure::new(cfg);
        let has_custom =
            !cfg.custom_request_headers.is_empty() || !cfg.custom_response_headers.is_empty();
        let cors = Cors::new(cfg)?;
        if !secure.defined && !has_custom && !cors.defined {
            return Err("headers configuration not valid".into());
        }
        let customs = |m: &std::collections::BTreeMap<String, String>, request: bool| {
            m.iter()
                .map(|(k, v)| Custom::new(k, v, request))
                .collect::<Vec<_>>()
        };
        let response_side =
            !cfg.custom_response_headers.is_empty() || secure.defined || cors.defined;
        Ok(HeadersMiddleware {
            response_side,
            custom_request: customs(&cfg.custom_request_headers, true),
            custom_response: customs(&cfg.custom_response_headers, false),
            // Only this exact spelling leaves the nil value Go's reverse proxy looks for.
            suppress_xff: cfg
                .custom_request_headers
                .get("X-Forwarded-For")
                .is_some_and(|v| v.is_empty()),
            cors,
            secure,
        })
    }

    /// `customResponseHeaders` and CORS, on a backend response or on this middleware's own
    /// `Bad Host` answer.
    fn outer_response(&self, h: &mut Headers, request: &RequestHead) {
        for c in &self.custom_response {
            c.apply(h, None);
        }
        self.cors.on_response(h, request);
    }
}

/// One `customRequestHeaders` or `customResponseHeaders` entry.
#[derive(Debug, Clone)]
enum Custom {
    /// An empty value: the header is removed.
    Remove(HeaderName),
    /// `Host` among the request headers: it sets the request's host.
    Host(String),
    /// Any other: the header is set, its name and value made once and shared.
    Set(HeaderName, bytes::Bytes),
}

impl Custom {
    fn new(name: &str, value: &str, request: bool) -> Self {
        if value.is_empty() {
            Custom::Remove(HeaderName::shared(name))
        } else if request && name.eq_ignore_ascii_case("Host") {
            Custom::Host(value.to_string())
        } else {
            Custom::Set(HeaderName::shared(name), value.to_string().into())
        }
    }

    /// Applies it to `headers` (and to `host`, the request's, on the request side).
    fn apply(&self, headers: &mut Headers, host: Option<&mut String>) {
        match self {
            Custom::Remove(name) => {
                headers.remove(name);
            }
            Custom::Host(value) => {
                if let Some(host) = host {
                    host.clone_from(value);
                }
            }
            Custom::Set(name, value) => headers.set_named(name, value.clone()),
        }
    }
}

impl Middleware for HeadersMiddleware {
    fn on_request(&self, head: &mut RequestHead, _cx: &RequestContext<'_>) -> RequestAction {
        if let Some(r) = self.cors.preflight(head) {
            return RequestAction::Respond(r);
        }
        for c in &self.custom_request {
            c.apply(&mut head.headers, Some(&mut head.host));
        }
        if let Some(mut r) = self.secure.check_request(head) {
            self.outer_response(&mut r.headers, head);
            return RequestAction::Respond(r);
        }
        RequestAction::Continue
    }

    fn on_response(&self, head: &mut ResponseHead, request: &RequestHead, cx: &RequestContext<'_>) {
        if self.secure.defined {
            self.secure.on_response(&mut head.headers, request, cx);
        }
        self.outer_response(&mut head.headers, request);
    }

    fn has_response_side(&self) -> bool {
        self.response_side
    }

    fn suppresses_x_forwarded_for(&self) -> bool {
        self.suppress_xff
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::Version;
    use crate::middleware::tests_support::{cx, get};

    fn resp() -> ResponseHead {
        ResponseHead {
            status: 200,
            version: Version::Http11,
            headers: Headers::new(),
        }
    }

    fn cfg(f: impl FnOnce(&mut dynamic::Headers)) -> dynamic::Headers {
        let mut c = dynamic::Headers::default();
        f(&mut c);
        c
    }

    #[test]
    fn empty_config_is_invalid() {
        let e = HeadersMiddleware::new(&dynamic::Headers::default()).unwrap_err();
        assert_eq!(e, "headers configuration not valid");
        assert!(HeadersMiddleware::new(&cfg(|c| c.sts_seconds = Some(0))).is_ok());
    }

    /// The response side is claimed exactly when the configuration touches responses; with
    /// `customRequestHeaders` alone, running it anyway changes nothing.
    #[test]
    fn response_side_follows_the_configuration() {
        let request_only = HeadersMiddleware::new(&cfg(|c| {
            c.custom_request_headers
                .insert("X-Env".into(), "prod".into());
        }))
        .unwrap();
        assert!(!request_only.has_response_side());
        let mut req = get("/");
        req.headers.append("Origin", "https://a.example");
        let mut r = resp();
        r.headers.append("Vary", "Accept");
        let before = r.headers.clone();
        request_only.on_response(&mut r, &req, &cx());
        assert_eq!(r.headers, before);
        for c in [
            cfg(|c| {
                c.custom_response_headers.insert("X-Out".into(), "1".into());
            }),
            cfg(|c| c.frame_deny = true),
            cfg(|c| c.access_control_allow_origin_list = vec!["*".into()]),
        ] {
            assert!(
                HeadersMiddleware::new(&c).unwrap().has_response_side(),
                "{c:?}"
            );
        }
    }

    #[test]
    fn custom_request_headers() {
        let m = HeadersMiddleware::new(&cfg(|c| {
            c.custom_request_headers.insert("Foo".into(), "".into());
            c.custom_request_headers
                .insert("X-Forwarded-For".into(), "".into());
            c.custom_request_headers.insert("x-new".into(), "v".into());
            c.custom_request_headers
                .insert("host".into(), "example.com".into());
        }))
        .unwrap();
        let mut h = get("/");
        h.headers.append("Foo", "bar");
        h.headers.append("X-Forwarded-For", "1.2.3.4");
        assert_eq!(m.on_request(&mut h, &cx()), RequestAction::Continue);
        assert!(!h.headers.contains("Foo"));
        assert!(!h.headers.contains("X-Forwarded-For"));
        assert_eq!(h.headers.get_str("X-New"), Some("v"));
        assert_eq!(h.host, "example.com");
        assert!(m.suppresses_x_forwarded_for());
    }

    #[test]
    fn preflight_is_answered_locally() {
        let m = HeadersMiddleware::new(&cfg(|c| {
            c.access_control_allow_methods = vec!["GET".into(), "PUT".into()];
            c.access_control_allow_origin_list = vec!["*".into()];
            c.access_control_allow_credentials = true;
            c.access_control_max_age = Some(600);
        }))
        .unwrap();
        let mut h = get("/");
        h.method = "OPTIONS".into();
        h.headers.append("Origin", "https://a.org");
        h.headers.append("Access-Control-Request-Method", "GET");
        let RequestAction::Respond(r) = m.on_request(&mut h, &cx()) else {
            panic!("preflight not answered")
        };
        assert_eq!(r.status, 200);
        assert!(r.body.is_empty());
        let hs = &r.headers;
        assert_eq!(
            hs.get_str("Access-Control-Allow-Origin"),
            Some("https://a.org")
        );
        assert_eq!(hs.get_str("Access-Control-Allow-Methods"), Some("GET,PUT"));
        assert_eq!(hs.get_str("Access-Control-Max-Age"), Some("600"));
        assert_eq!(hs.get_str("Access-Control-Allow-Credentials"), Some("true"));
        // Written as Traefik does: the length among the sorted headers, before `Date`.
        let mut out = Vec::new();
        crate::h1::encode_local_response(&r, b"D", false, false, false, &mut out);
        let text = String::from_utf8(out).unwrap();
        assert!(
            text.ends_with("Access-Control-Max-Age: 600\r\nContent-Length: 0\r\nDate: D\r\n\r\n"),
            "{text}"
        );
    }

    #[test]
    fn response_headers_and_vary() {
        let m = HeadersMiddleware::new(&cfg(|c| {
            c.access_control_allow_origin_list = vec!["https://a.org".into()];
            c.add_vary_header = true;
            c.custom_response_headers
                .insert("X-Frame-Options".into(), "".into());
            c.frame_deny = true;
            c.content_type_nosniff = true;
            c.sts_seconds = Some(5);
            c.sts_include_subdomains = true;
        }))
        .unwrap();
        let mut req = get("/");
        req.headers.append("Origin", "https://a.org");
        let mut r = resp();
        r.headers.append("Vary", "Accept");
        m.on_response(&mut r, &req, &cx());
        assert_eq!(r.headers.get_str("Vary"), Some("Accept,Origin"));
        assert_eq!(
            r.headers.get_str("Access-Control-Allow-Origin"),
            Some("https://a.org")
        );
        assert!(!r.headers.contains("X-Frame-Options"));
        assert_eq!(r.headers.get_str("X-Content-Type-Options"), Some("nosniff"));
        // No TLS and no forceSTSHeader: no STS.
        assert!(!r.headers.contains("Strict-Transport-Security"));
        let mut tls = cx();
        tls.tls = true;
        let mut r = resp();
        m.on_response(&mut r, &req, &tls);
        assert_eq!(
            r.headers.get_str("Strict-Transport-Security"),
            Some("max-age=5; includeSubDomains")
        );
    }

    /// `publicKey` is sent over HTTPS only and never in development mode; `forceSTSHeader`
    /// sends STS (with `preload`) over plain HTTP too.
    #[test]
    fn public_key_pins_and_forced_sts() {
        let m = HeadersMiddleware::new(&cfg(|c| {
            c.public_key = "pin-sha256=\"base64+primary==\"; max-age=5184000".into();
            c.sts_seconds = Some(60);
            c.sts_preload = true;
            c.force_sts_header = true;
        }))
        .unwrap();
        let req = get("/");
        let mut plain = resp();
        m.on_response(&mut plain, &req, &cx());
        assert!(!plain.headers.contains("Public-Key-Pins"));
        assert_eq!(
            plain.headers.get_str("Strict-Transport-Security"),
            Some("max-age=60; preload")
        );
        let mut tls = cx();
        tls.tls = true;
        let mut r = resp();
        m.on_response(&mut r, &req, &tls);
        assert_eq!(
            r.headers.get_str("Public-Key-Pins"),
            Some("pin-sha256=\"base64+primary==\"; max-age=5184000")
        );
        let dev = HeadersMiddleware::new(&cfg(|c| {
            c.public_key = "pin".into();
            c.sts_seconds = Some(60);
            c.force_sts_header = true;
            c.is_development = true;
        }))
        .unwrap();
        let mut r = resp();
        dev.on_response(&mut r, &req, &tls);
        assert!(!r.headers.contains("Public-Key-Pins"));
        assert!(!r.headers.contains("Strict-Transport-Security"));
    }

    #[test]
    fn allowed_hosts() {
        let m = HeadersMiddleware::new(&cfg(|c| {
            c.allowed_hosts = vec!["foo.com".into()];
            c.hosts_proxy_headers = vec!["X-Forwarded-Host".into()];
            c.custom_response_headers
                .insert("X-Custom".into(), "1".into());
        }))
        .unwrap();
        let mut h = get("/");
        h.host = "FOO.com".into();
        assert_eq!(m.on_request(&mut h, &cx()), RequestAction::Continue);
        h.headers.append("X-Forwarded-Host", "evil.com");
        let RequestAction::Respond(r) = m.on_request(&mut h, &cx()) else {
            panic!("bad host let through")
        };
        assert_eq!((r.status, r.body.as_slice()), (500, &b"Bad Host\n"[..]));
        assert_eq!(r.headers.get_str("X-Custom"), Some("1"));
    }

    /// Entries are compared ignoring case on both sides (Go's `strings.EqualFold`), beyond
    /// ASCII too.
    #[test]
    fn allowed_hosts_ignore_case() {
        let m = HeadersMiddleware::new(&cfg(|c| {
            c.allowed_hosts = vec!["Bar.ORG".into(), "ÉTÉ.example".into()];
        }))
        .unwrap();
        let allowed = |host: &str| {
            let mut h = get("/");
            h.host = host.into();
            m.on_request(&mut h, &cx()) == RequestAction::Continue
        };
        assert!(allowed("bar.org"));
        assert!(allowed("BAR.org"));
        assert!(allowed("été.EXAMPLE"));
        assert!(allowed("ÉTÉ.example"));
        assert!(!allowed("bar.org."));
        assert!(!allowed("ete.example"));
    }
}
