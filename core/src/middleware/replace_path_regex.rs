//! `replacePathRegex`: rewrites the escaped path with a Go regex and `$1` template (Traefik
//! `pkg/middlewares/replacepathregex`). The regex runs on the escaped path; on a match the old
//! escaped path goes in `X-Replaced-Path`, the result is taken as an encoded path, and a result
//! that normalisation would change is refused with 400. The replacement is trimmed, so `" "`
//! means an empty replacement.

use super::go_expand::GoRegex;
use super::replace_path::{set_raw_path, REPLACED_PATH_HEADER};
use super::url_path::{bad_request, head_path};
use super::{Middleware, RequestAction, RequestContext};
use crate::config::dynamic;
use crate::http::RequestHead;

/// The built `replacePathRegex` middleware.
#[derive(Debug, Clone)]
pub struct ReplacePathRegex {
    regex: GoRegex,
    replacement: String,
}

impl ReplacePathRegex {
    /// Builds it; an invalid regex is an error.
    pub fn new(cfg: &dynamic::ReplacePathRegex) -> Result<Self, String> {
        let regex = GoRegex::new(cfg.regex.trim())
            .map_err(|e| format!("error compiling regular expression {}: {e}", cfg.regex))?;
        Ok(ReplacePathRegex {
            regex,
            replacement: cfg.replacement.trim().to_string(),
        })
    }
}

impl Middleware for ReplacePathRegex {
    fn has_response_side(&self) -> bool {
        false
    }

    fn on_request(&self, head: &mut RequestHead, _cx: &RequestContext<'_>) -> RequestAction {
        let current = match head_path(head) {
            Ok(p) => p.escaped_path(),
            Err(r) => return RequestAction::Respond(r),
        };
        if !self.regex.regex.is_match(current.as_bytes()) {
            return RequestAction::Continue;
        }
        head.headers.append(
            REPLACED_PATH_HEADER,
            bytes::Bytes::copy_from_slice(current.as_bytes()),
        );
        let replaced = self
            .regex
            .replace_all(current.as_bytes(), &self.replacement);
        let replaced = String::from_utf8_lossy(&replaced).into_owned();
        let p = match set_raw_path(head, &replaced) {
            Ok(p) => p,
            Err(r) => return RequestAction::Respond(r),
        };
        match p.normalised() {
            Some(_) => RequestAction::Continue,
            None => RequestAction::Respond(bad_request()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::middleware::tests_support::{cx, get};

    fn mw(re: &str, rep: &str) -> ReplacePathRegex {
        ReplacePathRegex::new(&dynamic::ReplacePathRegex {
            regex: re.into(),
            replacement: rep.into(),
        })
        .unwrap()
    }

    #[test]
    fn rewrites_on_match_only() {
        let mut h = get("/whoami/and/whoami?x");
        mw("^/whoami/(.*)", "/who-am-i/$1").on_request(&mut h, &cx());
        assert_eq!(h.target(), "/who-am-i/and/whoami?x");
        assert_eq!(
            h.headers.get_str("X-Replaced-Path"),
            Some("/whoami/and/whoami")
        );
        let mut h = get("/aaa%2Fbbb");
        mw("/aaa/bbb", "/foo/bar").on_request(&mut h, &cx());
        assert_eq!(h.path, "/aaa%2Fbbb");
        assert!(!h.headers.contains("X-Replaced-Path"));
        let mut h = get("/whoami/and/whoami");
        mw("/whoami", " ").on_request(&mut h, &cx());
        assert_eq!(h.path, "/and");
    }

    #[test]
    fn dots_and_bad_regex() {
        let mut h = get("/foo../bar");
        let a = mw("^/foo(.*)", "/$1").on_request(&mut h, &cx());
        assert!(matches!(a, RequestAction::Respond(r) if r.status == 400));
        let e = ReplacePathRegex::new(&dynamic::ReplacePathRegex {
            regex: "^(?err)/x".into(),
            replacement: String::new(),
        })
        .unwrap_err();
        assert!(
            e.starts_with("error compiling regular expression ^(?err)/x: "),
            "{e}"
        );
    }
}
