//! `forwardAuth` (Traefik `pkg/middlewares/auth/forward.go`): before the request goes on, a
//! request of its own goes to `address` (GET, or the request's method with
//! `preserveRequestMethod`) with the request's headers less the hop-by-hop ones and
//! Traefik's `X-Forwarded-*` lines (three ways, by `trustForwardHeader`). A 2xx answer lets the
//! request go on with `authResponseHeaders` (and `authResponseHeadersRegex` matches) copied
//! into it; any other answer is the client's (its headers less hop-by-hop ones, a relative
//! `Location` made absolute against `address`, its body), or a 302 to `authSigninURL` for a
//! 401. This file builds the auth request and reads the answer; the worker sends it
//! (`proxy::forward_auth`).

use std::sync::Arc;

use super::{Middleware, RequestAction, RequestContext};
use crate::config::dynamic;
use crate::http::{canonical_name, Headers, LocalResponse, RequestHead};

/// How long the whole auth exchange may take (Go's `http.Client.Timeout` in Traefik).
pub const AUTH_TIMEOUT: crate::config::Duration = crate::config::Duration::from_secs(30);
/// The most of an auth answer's body kept when `maxResponseBodySize` sets no limit (Traefik
/// reads it all; a bound keeps a broken auth server from filling memory).
const UNBOUNDED_BODY_CAP: u64 = 16 << 20;
/// Hop-by-hop lines dropped from the auth request and from an auth answer given to the client
/// (`Proxy-Authenticate` and `Proxy-Authorization` are kept, as in Traefik).
const HOP_HEADERS: [&str; 6] = [
    "Connection",
    "Keep-Alive",
    "Te",
    "Trailers",
    "Transfer-Encoding",
    "Upgrade",
];
/// The `X-Forwarded-*` family Traefik manages (`forwardedheaders.XHeadersSet`).
const X_HEADERS: [&str; 13] = [
    "X-Forwarded-Proto",
    "X-Forwarded-Scheme",
    "X-Forwarded-For",
    "X-Forwarded-Host",
    "X-Forwarded-Port",
    "X-Forwarded-Server",
    "X-Forwarded-Uri",
    "X-Forwarded-Method",
    "X-Forwarded-Prefix",
    "X-Forwarded-Tls-Client-Cert",
    "X-Forwarded-Tls-Client-Cert-Info",
    "X-Scheme",
    "X-Real-Ip",
];

/// The built `forwardAuth` middleware.
#[derive(Debug)]
pub struct ForwardAuth {
    policy: Arc<ForwardAuthPolicy>,
}

/// Where the auth server is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthServer {
    /// `https` or `http`.
    pub tls: bool,
    /// Host name or address, without brackets.
    pub host: String,
    /// Port (the scheme's default when the address names none).
    pub port: u16,
    /// The `Host` the request carries (the address's host as written).
    pub authority: String,
    /// Path and query of the address, as Go's client writes them.
    pub request_uri: String,
}

/// A `forwardAuth` middleware's settings, shared by the requests it sends.
#[derive(Debug)]
pub struct ForwardAuthPolicy {
    /// The auth server, or why the address cannot be called (every request is then 500).
    pub server: Result<AuthServer, String>,
    /// TLS towards an `https` address.
    pub tls: Option<crate::tls::UpstreamTls>,
    trust_forward_header: Option<bool>,
    auth_response_headers: Vec<String>,
    auth_response_headers_regex: Option<regex::bytes::Regex>,
    auth_request_headers: Vec<String>,
    /// The largest auth answer body read (401 beyond it).
    max_response_body: Option<u64>,
    add_auth_cookies: Vec<String>,
    preserve_location_header: bool,
    preserve_request_method: bool,
    auth_signin_url: String,
}

impl PartialEq for ForwardAuthPolicy {
    fn eq(&self, other: &Self) -> bool {
        std::ptr::eq(self, other)
    }
}

impl Eq for ForwardAuthPolicy {}

/// An auth request a `forwardAuth` middleware asks the worker to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthCall {
    /// The middleware's settings.
    pub policy: Arc<ForwardAuthPolicy>,
    /// The auth request (its `host` is the address's authority).
    pub head: RequestHead,
    /// The proxy must ask for gzip and decompress (Go's transport), the request naming no
    /// `Accept-Encoding`.
    pub gzip: bool,
}

/// What the auth answer decides.
#[derive(Debug)]
pub enum AuthOutcome {
    /// The client gets this answer.
    Respond(LocalResponse),
    /// The request goes on, these lines replacing its own of the same names (`None`: the
    /// name is removed), and these `Set-Cookie` values of the auth answer for the response.
    Continue {
        /// Request lines to remove (canonical names), then to add.
        set: Vec<(String, Option<Vec<bytes::Bytes>>)>,
        /// Every request line `authResponseHeadersRegex` matches goes first.
        clear_regex: bool,
        /// The auth answer's cookies (`Set-Cookie` values) when it has some.
        cookies: Vec<bytes::Bytes>,
    },
}

impl ForwardAuth {
    /// Builds `forwardAuth` with Traefik's errors; `read` reads the TLS files, `roots` gives
    /// the system's roots for an `https` address without `tls.ca`.
    pub fn new(
        cfg: &dynamic::ForwardAuth,
        read: super::FileReader,
        roots: fn() -> Arc<Vec<rustls::pki_types::CertificateDer<'static>>>,
        tls_id: u32,
    ) -> Result<Self, String> {
        if cfg.forward_body {
            return Err(
                "forwardAuth.forwardBody is not built in TrafficCop yet: this middleware is not served"
                    .into(),
            );
        }
        let server = parse_address(&cfg.address);
        let tls = match (&server, &cfg.tls) {
            (Ok(s), t) if s.tls => {
                let file_or_content = |v: &str| -> String {
                    if v.is_empty() {
                        return String::new();
                    }
                    read(v).unwrap_or_else(|_| v.to_string())
                };
                let (ca, cert, key, insecure) = match t {
                    Some(t) => (
                        file_or_content(&t.ca),
                        file_or_content(&t.cert),
                        file_or_content(&t.key),
                        t.insecure_skip_verify,
                    ),
                    None => (String::new(), String::new(), String::new(), false),
                };
                let cas = if ca.is_empty() { Vec::new() } else { vec![ca] };
                let certificates = if cert.is_empty() || key.is_empty() {
                    Vec::new()
                } else {
                    vec![(cert.as_str(), key.as_str())]
                };
                let settings = crate::tls::client::TransportTls {
                    insecure_skip_verify: insecure,
                    root_cas: &cas,
                    certificates,
                    disable_http2: true,
                    ..Default::default()
                };
                Some(
                    crate::tls::client::client_config_from(&settings, roots, tls_id)
                        .map_err(|e| format!("unable to create client TLS configuration: {e}"))?,
                )
            }
            _ => None,
        };
        let auth_response_headers_regex = if cfg.auth_response_headers_regex.is_empty() {
            None
        } else {
            Some(
                crate::rule::regex_compat::compile_go_regex(&cfg.auth_response_headers_regex)
                    .map_err(|e| {
                        format!(
                            "error compiling regular expression {}: {e}",
                            cfg.auth_response_headers_regex
                        )
                    })?,
            )
        };
        let mut auth_request_headers = cfg.auth_request_headers.clone();
        if cfg.trust_forward_header == Some(true) && !auth_request_headers.is_empty() {
            auth_request_headers.extend(X_HEADERS.iter().map(|h| h.to_string()));
        }
        Ok(ForwardAuth {
            policy: Arc::new(ForwardAuthPolicy {
                server,
                tls,
                trust_forward_header: cfg.trust_forward_header,
                auth_response_headers: cfg.auth_response_headers.clone(),
                auth_response_headers_regex,
                auth_request_headers,
                max_response_body: cfg
                    .max_response_body_size
                    .and_then(|n| u64::try_from(n).ok()),
                add_auth_cookies: cfg.add_auth_cookies_to_response.clone(),
                preserve_location_header: cfg.preserve_location_header,
                preserve_request_method: cfg.preserve_request_method,
                auth_signin_url: cfg.auth_signin_url.clone(),
            }),
        })
    }
}

/// The auth server of `address`: host, port and authority as a service's server URL is
/// read (`compile::parse_server_url`; `h2c` is not a client's scheme), and the path and query
/// Go's client writes.
fn parse_address(address: &str) -> Result<AuthServer, String> {
    let server = crate::proxy::compile::parse_server_url(address)?;
    if server.h2c {
        return Err(format!("unsupported protocol scheme in {address:?}"));
    }
    let rest = address.split_once("://").map_or("", |(_, r)| r);
    let uri = rest.find(['/', '?']).map_or("", |i| &rest[i..]);
    let request_uri = match uri.split('#').next().unwrap_or("") {
        "" => "/".to_string(),
        u if u.starts_with('?') => format!("/{u}"),
        u => u.to_string(),
    };
    Ok(AuthServer {
        tls: server.tls,
        host: server.host.to_string(),
        port: server.port,
        authority: server.authority,
        request_uri,
    })
}

impl Middleware for ForwardAuth {
    fn has_response_side(&self) -> bool {
        false
    }

    fn on_request(&self, head: &mut RequestHead, cx: &RequestContext<'_>) -> RequestAction {
        RequestAction::Auth(Box::new(self.policy.auth_call(head, cx)))
    }
}

fn is_hop(name: &str) -> bool {
    HOP_HEADERS.iter().any(|h| h.eq_ignore_ascii_case(name))
}

/// `forwardedheaders.isManagedXHeader`: a managed name, or one with `_` for `-`.
fn is_x_header(name: &str) -> bool {
    let canonical = canonical_name(&name.replace('_', "-"));
    X_HEADERS.iter().any(|h| *h == canonical)
}

impl ForwardAuthPolicy {
    /// The auth request for `head` (the request as the middleware sees it).
    fn auth_call(self: &Arc<Self>, head: &RequestHead, cx: &RequestContext<'_>) -> AuthCall {
        let mut h = head.headers.clone();
        // Lines the `Connection` header names, then the hop-by-hop ones.
        let named: Vec<String> = h
            .get_all("Connection")
            .flat_map(|v| {
                String::from_utf8_lossy(v)
                    .split(',')
                    .map(|s| s.trim().to_string())
                    .collect::<Vec<_>>()
            })
            .filter(|s| !s.is_empty())
            .collect();
        for n in named {
            h.remove(&n);
        }
        h.retain(|l| !is_hop(&l.name));
        if self.trust_forward_header == Some(false) {
            h.retain(|l| !is_x_header(&l.name));
        }
        let had_user_agent = head.headers.contains("User-Agent");
        if self.trust_forward_header.is_some() && !had_user_agent {
            // No User-Agent of Go's client's own.
            h.set("User-Agent", "");
        }
        if !self.auth_request_headers.is_empty() {
            let mut kept = Headers::new();
            for name in &self.auth_request_headers {
                let canonical = canonical_name(name);
                for v in h.get_all(name) {
                    kept.append(&canonical, bytes::Bytes::copy_from_slice(v));
                }
            }
            h = kept;
        }
        let client = cx
            .client_ip
            .map(|ip| String::from_utf8_lossy(&crate::proxy::forward::ip_text(ip)).into_owned());
        let request_uri = match &head.raw_query {
            Some(q) => format!("{}?{q}", head.path),
            None => head.path.clone(),
        };
        let proto = if cx.tls { "https" } else { "http" };
        match self.trust_forward_header {
            Some(_) => {
                if let Some(ip) = client {
                    let prior: Vec<String> = h
                        .get_all("X-Forwarded-For")
                        .map(|v| String::from_utf8_lossy(v).into_owned())
                        .collect();
                    let value = if prior.is_empty() {
                        ip
                    } else {
                        format!("{}, {ip}", prior.join(", "))
                    };
                    h.set("X-Forwarded-For", value);
                }
                let set_absent = |h: &mut Headers, name: &str, value: String| {
                    if !h.contains(name) {
                        h.set(name, value);
                    }
                };
                set_absent(&mut h, "X-Forwarded-Method", head.method.to_string());
                set_absent(&mut h, "X-Forwarded-Proto", proto.to_string());
                let port = forwarded_port(head, cx.tls, &h);
                set_absent(&mut h, "X-Forwarded-Port", port);
                set_absent(&mut h, "X-Forwarded-Host", head.host.clone());
                set_absent(&mut h, "X-Forwarded-Uri", request_uri);
            }
            None => {
                if let Some(ip) = client {
                    h.set("X-Forwarded-For", ip);
                }
                h.set("X-Forwarded-Proto", proto);
                h.set("X-Forwarded-Method", head.method.to_string());
                h.set("X-Forwarded-Host", head.host.clone());
                h.set("X-Forwarded-Uri", request_uri);
            }
        }
        // Go's client writes the framing of its own (no body) and never these lines of the
        // map; its own User-Agent when the request names none, and gzip asked for (and
        // undone) when it names no encoding.
        for name in ["Content-Length", "Transfer-Encoding", "Trailer", "Host"] {
            h.remove(name);
        }
        match h.get("User-Agent") {
            None => h.set("User-Agent", "Go-http-client/1.1"),
            Some([]) => {
                h.remove("User-Agent");
            }
            Some(_) => {}
        }
        let method = if self.preserve_request_method {
            head.method.clone()
        } else {
            crate::http::Method::Borrowed("GET")
        };
        if matches!(&*method, "POST" | "PUT" | "PATCH") {
            // Go's client says `Content-Length: 0` for these methods without a body.
            h.set("Content-Length", "0");
        }
        let gzip = h.get("Accept-Encoding").is_none_or(<[u8]>::is_empty)
            && h.get("Range").is_none_or(<[u8]>::is_empty)
            && method != "HEAD";
        let (authority, uri) = match &self.server {
            Ok(s) => (s.authority.clone(), s.request_uri.clone()),
            Err(_) => (String::new(), "/".into()),
        };
        let (path, raw_query) = match uri.split_once('?') {
            Some((p, q)) => (p.to_string(), Some(q.to_string())),
            None => (uri, None),
        };
        AuthCall {
            policy: self.clone(),
            head: RequestHead {
                method,
                path,
                raw_query,
                host: authority,
                version: crate::http::Version::Http11,
                headers: h,
            },
            gzip,
        }
    }

    /// The largest auth body read before answering 401 (`maxResponseBodySize`), and
    /// whether going past it is Traefik's 401 (else the proxy's own bound: 500).
    pub fn body_limit(&self) -> (u64, bool) {
        match self.max_response_body {
            Some(n) => (n, true),
            None => (UNBOUNDED_BODY_CAP, false),
        }
    }

    /// What the auth answer (`status`, `headers`, `body`) decides.
    pub fn outcome(&self, status: u16, headers: &Headers, body: Vec<u8>) -> AuthOutcome {
        if !self.auth_signin_url.is_empty() && status == 401 {
            return AuthOutcome::Respond(go_redirect(&self.auth_signin_url));
        }
        if !(200..300).contains(&status) {
            let mut out = headers.clone();
            out.retain(|l| !is_hop(&l.name));
            let location = headers
                .get("Location")
                .map(|l| String::from_utf8_lossy(l).into_owned());
            if let Some(l) = location.filter(|l| !l.is_empty()) {
                let resolved = if self.preserve_location_header {
                    l
                } else {
                    self.resolve(&l)
                };
                out.set("Location", resolved);
            }
            return AuthOutcome::Respond(LocalResponse {
                status,
                headers: out,
                body,
                sniff: false,
            });
        }
        let mut set = Vec::new();
        for name in &self.auth_response_headers {
            let key = canonical_name(name);
            let values: Vec<bytes::Bytes> = headers
                .get_all(&key)
                .map(bytes::Bytes::copy_from_slice)
                .collect();
            set.push((key, (!values.is_empty()).then_some(values)));
        }
        if let Some(re) = &self.auth_response_headers_regex {
            let mut names: Vec<String> = headers.iter().map(|l| l.name.to_string()).collect();
            names.dedup();
            for name in names.into_iter().filter(|n| re.is_match(n.as_bytes())) {
                let values = headers
                    .get_all(&name)
                    .map(bytes::Bytes::copy_from_slice)
                    .collect();
                set.push((name, Some(values)));
            }
        }
        let cookies = headers
            .get_all("Set-Cookie")
            .map(bytes::Bytes::copy_from_slice)
            .collect();
        AuthOutcome::Continue {
            set,
            clear_regex: self.auth_response_headers_regex.is_some(),
            cookies,
        }
    }

    /// Applies a 2xx outcome's lines to the request `head`: the exact names first, then the
    /// regex's (every request line it matches removed before the auth answer's go in).
    pub fn apply(
        &self,
        head: &mut RequestHead,
        set: &[(String, Option<Vec<bytes::Bytes>>)],
        clear_regex: bool,
    ) {
        let exact = self.auth_response_headers.len();
        for (i, (name, values)) in set.iter().enumerate() {
            if i == exact && clear_regex {
                if let Some(re) = &self.auth_response_headers_regex {
                    head.headers.retain(|l| !re.is_match(l.name.as_bytes()));
                }
            }
            head.headers.remove(name);
            for v in values.iter().flatten() {
                head.headers.append(name, v.clone());
            }
        }
        if set.len() == exact && clear_regex {
            if let Some(re) = &self.auth_response_headers_regex {
                head.headers.retain(|l| !re.is_match(l.name.as_bytes()));
            }
        }
    }

    /// The response's `Set-Cookie` lines once the auth answer's `cookies` are merged: the
    /// backend's lines of names in `addAuthCookiesToResponse` give way to the auth server's.
    pub fn merge_cookies(&self, response: &mut Headers, cookies: &[bytes::Bytes]) {
        let listed = |v: &[u8]| {
            let name = v.split(|b| *b == b'=').next().unwrap_or_default();
            let name = String::from_utf8_lossy(name);
            self.add_auth_cookies.iter().any(|n| n == name.trim())
        };
        let kept: Vec<bytes::Bytes> = response
            .get_all("Set-Cookie")
            .filter(|v| !listed(v))
            .map(bytes::Bytes::copy_from_slice)
            .collect();
        response.remove("Set-Cookie");
        for v in kept {
            response.append("Set-Cookie", v);
        }
        for v in cookies.iter().filter(|v| listed(v)) {
            response.append("Set-Cookie", v.clone());
        }
    }

    /// Whether the policy changes responses at all (`addAuthCookiesToResponse`).
    pub fn merges_cookies(&self) -> bool {
        !self.add_auth_cookies.is_empty()
    }

    /// Go's `Response.Location`: `l` resolved against the auth address.
    fn resolve(&self, l: &str) -> String {
        let Ok(s) = &self.server else {
            return l.to_string();
        };
        if l.contains("://") {
            return l.to_string();
        }
        let scheme = if s.tls { "https" } else { "http" };
        if let Some(rest) = l.strip_prefix("//") {
            return format!("{scheme}://{rest}");
        }
        if l.starts_with('/') {
            return format!("{scheme}://{}{l}", s.authority);
        }
        let base = s.request_uri.split('?').next().unwrap_or("/");
        let dir = &base[..base.rfind('/').map_or(0, |i| i + 1)];
        format!(
            "{scheme}://{}{}",
            s.authority,
            crate::middleware::url_path::clean(&format!("{dir}{l}"))
        )
    }
}

/// Go's `X-Forwarded-Port` for the auth request: the `Host`'s port, else 443 for `https`
/// (or `wss`) forwarded, else by the connection.
fn forwarded_port(head: &RequestHead, tls: bool, h: &Headers) -> String {
    if let Some((_, port)) = head.host.rsplit_once(':') {
        if !port.is_empty() && !port.contains(']') {
            return port.to_string();
        }
    }
    let proto = h.get("X-Forwarded-Proto").unwrap_or_default();
    if proto == b"https" || proto == b"wss" || tls {
        "443".into()
    } else {
        "80".into()
    }
}

/// Go's `http.Redirect` with 302 as Traefik's writer makes it: the `Content-Type` entry Traefik
/// leaves empty (to stop Go's sniffing) counts as set, so no type and no body.
fn go_redirect(url: &str) -> LocalResponse {
    let mut headers = Headers::new();
    headers.set("Location", url.to_string());
    LocalResponse {
        status: 302,
        headers,
        body: Vec::new(),
        sniff: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_parse_as_go_urls() {
        let a = parse_address("http://auth:9091/api/verify?rd=x#frag").unwrap();
        assert_eq!((a.tls, a.host.as_str(), a.port), (false, "auth", 9091));
        assert_eq!(a.request_uri, "/api/verify?rd=x");
        let b = parse_address("https://[::1]").unwrap();
        assert_eq!(
            (b.tls, b.host.as_str(), b.port, b.request_uri.as_str()),
            (true, "::1", 443, "/")
        );
        assert_eq!(b.authority, "[::1]");
        assert!(parse_address("auth:9091").is_err());
        assert!(parse_address("ftp://auth").is_err());
        assert!(parse_address("h2c://auth").is_err());
    }

    #[test]
    fn relative_locations_resolve_against_the_address() {
        let cfg = dynamic::ForwardAuth {
            address: "http://auth:9091/a/b/check".into(),
            ..Default::default()
        };
        let fa = ForwardAuth::new(&cfg, super::super::no_files, super::super::no_roots, 1).unwrap();
        let p = &fa.policy;
        assert_eq!(p.resolve("../login?x=1"), "http://auth:9091/a/login?x=1");
        assert_eq!(p.resolve("/root"), "http://auth:9091/root");
        assert_eq!(p.resolve("//other/x"), "http://other/x");
        assert_eq!(p.resolve("https://sso/x"), "https://sso/x");
        let forward_body = dynamic::ForwardAuth {
            forward_body: true,
            ..cfg
        };
        assert!(ForwardAuth::new(
            &forward_body,
            super::super::no_files,
            super::super::no_roots,
            1
        )
        .unwrap_err()
        .contains("not built"));
    }
}
