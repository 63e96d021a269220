//! `redirectRegex`: redirects when a Go regex rewrites the request URL (Traefik
//! `pkg/middlewares/redirect/redirect_regex.go`). The regex runs on `scheme://Host[:port]uri`,
//! the scheme from TLS or an absolute-form target (never `X-Forwarded-Proto`); the replacement
//! uses Go's `$1` / `${1}` templates.

use super::redirect::{request_url, Redirect, UrlParts};
use super::{Middleware, RequestAction, RequestContext};
use crate::config::dynamic;
use crate::http::RequestHead;

/// The built `redirectRegex` middleware.
#[derive(Debug, Clone)]
pub struct RedirectRegex {
    redirect: Redirect,
}

impl RedirectRegex {
    /// Builds it; an invalid regex is an error.
    pub fn new(cfg: &dynamic::RedirectRegex) -> Result<Self, String> {
        Ok(RedirectRegex {
            redirect: Redirect::new(&cfg.regex, cfg.replacement.clone(), cfg.permanent, None)?,
        })
    }
}

/// Traefik's `rawURL`: the request URL the regex sees.
fn raw_url(head: &RequestHead, cx: &RequestContext<'_>) -> String {
    let UrlParts {
        scheme,
        host,
        port,
        uri,
    } = request_url(head.host.clone(), String::new(), head, cx);
    format!("{scheme}://{host}{port}{uri}")
}

impl Middleware for RedirectRegex {
    fn has_response_side(&self) -> bool {
        false
    }

    fn on_request(&self, head: &mut RequestHead, cx: &RequestContext<'_>) -> RequestAction {
        let url = raw_url(head, cx);
        self.redirect.apply(&url, &head.method)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::middleware::tests_support::{cx, get};

    fn mw(re: &str, rep: &str) -> RedirectRegex {
        RedirectRegex::new(&dynamic::RedirectRegex {
            regex: re.into(),
            replacement: rep.into(),
            permanent: false,
        })
        .unwrap()
    }

    #[test]
    fn rewrites_full_url() {
        let m = mw(r"^http://([^/]+)/(.*)$", "https://${1}/new/$2");
        let mut h = get("/old?x=1");
        h.host = "foo.com:8080".into();
        let RequestAction::Respond(r) = m.on_request(&mut h, &cx()) else {
            panic!()
        };
        assert_eq!(
            r.headers.get_str("Location"),
            Some("https://foo.com:8080/new/old?x=1")
        );
        // X-Forwarded-Proto is not consulted.
        let mut h = get("/");
        h.headers.append("X-Forwarded-Proto", "https");
        assert!(matches!(
            m.on_request(&mut h, &cx()),
            RequestAction::Respond(_)
        ));
    }

    #[test]
    fn no_match_unchanged_and_errors() {
        let mut h = get("/");
        assert_eq!(
            mw("^https://", "x").on_request(&mut h, &cx()),
            RequestAction::Continue
        );
        assert_eq!(
            mw("^(.*)$", "$1").on_request(&mut h, &cx()),
            RequestAction::Continue
        );
        let a = mw("^(.*)$", "http://192.168.0.%31/").on_request(&mut h, &cx());
        assert!(matches!(a, RequestAction::Respond(r) if r.status == 502));
        assert!(RedirectRegex::new(&dynamic::RedirectRegex {
            regex: "^(.*".into(),
            ..Default::default()
        })
        .is_err());
    }
}
