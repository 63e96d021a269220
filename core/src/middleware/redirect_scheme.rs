//! `redirectScheme`: redirects to another scheme and port (Traefik
//! `pkg/middlewares/redirect/redirect_scheme.go`). The client's URL is rebuilt from the
//! absolute-form target, TLS, and `X-Forwarded-Proto` (`http`/`ws`, `https`/`wss`); default
//! ports are dropped; an unchanged URL (`X-Forwarded-Proto: https` already) passes through.

use super::redirect::{request_url, Redirect, UrlParts};
use super::{Middleware, RequestAction, RequestContext};
use crate::config::dynamic;
use crate::http::RequestHead;
use crate::rule::text::split_host_port;

/// Traefik's pattern splitting the client URL into scheme, host, port and the rest.
const URI_PATTERN: &str = r"^(https?:\/\/)?(\[[\w:.]+\]|[\w\._-]+)?(:\d+)?(.*)$";

/// The built `redirectScheme` middleware.
#[derive(Debug, Clone)]
pub struct RedirectScheme {
    redirect: Redirect,
}

impl RedirectScheme {
    /// Builds it from the file-provider options.
    pub fn new(cfg: &dynamic::RedirectScheme) -> Result<Self, String> {
        Self::with_force_permanent(cfg, false)
    }

    /// Builds it; `force_permanent` is Traefik's internal `ForcePermanentRedirect` (308 for
    /// every method), which entry point redirections set and the file provider cannot.
    pub fn with_force_permanent(
        cfg: &dynamic::RedirectScheme,
        force_permanent: bool,
    ) -> Result<Self, String> {
        if cfg.scheme.is_empty() {
            return Err("you must provide a target scheme".into());
        }
        let default_port = (cfg.scheme == "http" && cfg.port == "80")
            || (cfg.scheme == "https" && cfg.port == "443");
        let port = if cfg.port.is_empty() || default_port {
            String::new()
        } else {
            format!(":{}", cfg.port)
        };
        let replacement = format!("{}://${{2}}{port}${{4}}", cfg.scheme);
        let status = force_permanent.then_some(308);
        Ok(RedirectScheme {
            redirect: Redirect::new(URI_PATTERN, replacement, cfg.permanent, status)?,
        })
    }
}

/// The URL the client asked for, as Traefik's `clientRequestURL` rebuilds it.
fn client_request_url(head: &RequestHead, cx: &RequestContext<'_>) -> String {
    let (host, port) = match split_host_port(&head.host) {
        Some((h, p)) => (h.to_string(), format!(":{p}")),
        None => (head.host.clone(), String::new()),
    };
    let UrlParts {
        mut scheme,
        host,
        mut port,
        uri,
    } = request_url(host, port, head, cx);
    if let Some(proto) = head
        .headers
        .get_str("X-Forwarded-Proto")
        .filter(|p| !p.is_empty())
    {
        if proto.eq_ignore_ascii_case("http") || proto.eq_ignore_ascii_case("ws") {
            scheme = "http".into();
        } else if proto.eq_ignore_ascii_case("https") || proto.eq_ignore_ascii_case("wss") {
            scheme = "https".into();
        }
    }
    if (scheme == "http" && port == ":80") || (scheme == "https" && port == ":443") {
        port.clear();
    }
    format!("{scheme}://{host}{port}{uri}")
}

impl Middleware for RedirectScheme {
    fn has_response_side(&self) -> bool {
        false
    }

    fn on_request(&self, head: &mut RequestHead, cx: &RequestContext<'_>) -> RequestAction {
        let url = client_request_url(head, cx);
        self.redirect.apply(&url, &head.method)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::middleware::tests_support::{cx, get};

    fn mw(scheme: &str, port: &str) -> RedirectScheme {
        RedirectScheme::new(&dynamic::RedirectScheme {
            scheme: scheme.into(),
            port: port.into(),
            permanent: false,
        })
        .unwrap()
    }

    fn location(m: &RedirectScheme, host: &str, target: &str, xfp: Option<&str>) -> Option<String> {
        let mut h = get(target);
        h.host = host.into();
        if let Some(p) = xfp {
            h.headers.append("X-Forwarded-Proto", p.to_string());
        }
        match m.on_request(&mut h, &cx()) {
            RequestAction::Respond(r) => Some(r.headers.get_str("Location").unwrap().to_string()),
            _ => None,
        }
    }

    #[test]
    fn redirects_origin_form() {
        let m = mw("https", "");
        assert_eq!(
            location(&m, "foo", "/a?b", None).as_deref(),
            Some("https://foo/a?b")
        );
        assert_eq!(
            location(&m, "foo:8080", "/", None).as_deref(),
            Some("https://foo/")
        );
        assert_eq!(location(&m, "foo", "/", Some("https")), None);
        assert_eq!(location(&m, "foo", "/", Some("wss")), None);
        assert_eq!(
            location(&m, "foo", "/", Some("bar")).as_deref(),
            Some("https://foo/")
        );
        let m = mw("https", "8443");
        assert_eq!(
            location(&m, "[::1]", "/", None).as_deref(),
            Some("https://[::1]:8443/")
        );
        assert_eq!(location(&mw("http", "80"), "foo:80", "/", None), None);
    }

    #[test]
    fn absolute_form_and_tls() {
        let m = mw("https", "");
        let mut h = get("/theother");
        h.host = "foo:8000".into();
        let mut c = cx();
        c.tls = true;
        c.absolute_target = Some("https://foo:8000/theother");
        let RequestAction::Respond(r) = m.on_request(&mut h, &c) else {
            panic!()
        };
        assert_eq!(r.status, 302);
        assert_eq!(r.headers.get_str("Location"), Some("https://foo/theother"));
    }

    #[test]
    fn config_errors_and_force() {
        assert_eq!(
            RedirectScheme::new(&dynamic::RedirectScheme::default()).unwrap_err(),
            "you must provide a target scheme"
        );
        let m = RedirectScheme::with_force_permanent(
            &dynamic::RedirectScheme {
                scheme: "https".into(),
                ..Default::default()
            },
            true,
        )
        .unwrap();
        let mut h = get("/");
        let RequestAction::Respond(r) = m.on_request(&mut h, &cx()) else {
            panic!()
        };
        assert_eq!(r.status, 308);
    }
}
