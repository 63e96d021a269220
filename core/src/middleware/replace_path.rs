//! `replacePath`: replaces the whole path (Traefik `pkg/middlewares/replacepath`). The original
//! escaped path goes in `X-Replaced-Path`; the configured path is an encoded path, so
//! `/foo%2Fbar` stays encoded upstream. The query is kept.

use super::url_path::{head_path, GoPath};
use super::{Middleware, RequestAction, RequestContext};
use crate::config::dynamic;
use crate::http::{LocalResponse, RequestHead};

/// The header holding the path before replacement.
pub const REPLACED_PATH_HEADER: &str = "X-Replaced-Path";

/// The built `replacePath` middleware.
#[derive(Debug, Clone)]
pub struct ReplacePath {
    path: String,
}

impl ReplacePath {
    /// Builds it (Traefik accepts any value, even empty).
    pub fn new(cfg: &dynamic::ReplacePath) -> Result<Self, String> {
        Ok(ReplacePath {
            path: cfg.path.clone(),
        })
    }
}

/// Installs `new_raw` as the request's raw path (Go: `RawPath = new; Path = PathUnescape(new)`),
/// or answers 500 with Go's unescape error when it does not decode.
pub(crate) fn set_raw_path(head: &mut RequestHead, new_raw: &str) -> Result<GoPath, LocalResponse> {
    let path = super::url_path::unescape(new_raw).map_err(|e| LocalResponse::go_error(500, &e))?;
    let p = GoPath {
        path,
        raw_path: new_raw.to_string(),
    };
    head.path = p.request_path();
    Ok(p)
}

impl Middleware for ReplacePath {
    fn has_response_side(&self) -> bool {
        false
    }

    fn on_request(&self, head: &mut RequestHead, _cx: &RequestContext<'_>) -> RequestAction {
        let current = match head_path(head) {
            Ok(p) => p.escaped_path(),
            Err(r) => return RequestAction::Respond(r),
        };
        head.headers.append(REPLACED_PATH_HEADER, current);
        match set_raw_path(head, &self.path) {
            Ok(_) => RequestAction::Continue,
            Err(r) => RequestAction::Respond(r),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::middleware::tests_support::{cx, get};

    fn mw(p: &str) -> ReplacePath {
        ReplacePath::new(&dynamic::ReplacePath { path: p.into() }).unwrap()
    }

    #[test]
    fn replaces_and_records() {
        let mut h = get("/some/long/path?q=1");
        assert_eq!(
            mw("/replacement-path").on_request(&mut h, &cx()),
            RequestAction::Continue
        );
        assert_eq!(h.target(), "/replacement-path?q=1");
        assert_eq!(
            h.headers.get_str("X-Replaced-Path"),
            Some("/some/long/path")
        );
        let mut h = get("/path");
        mw("/foo%2Fbar").on_request(&mut h, &cx());
        assert_eq!(h.path, "/foo%2Fbar");
        let mut h = get("/path/%08bar");
        mw("/path/%08bar").on_request(&mut h, &cx());
        assert_eq!(h.path, "/path/%08bar");
        assert_eq!(h.headers.get_str("X-Replaced-Path"), Some("/path/%08bar"));
    }

    #[test]
    fn undecodable_replacement_is_500() {
        let mut h = get("/x");
        let a = mw("/%zz").on_request(&mut h, &cx());
        assert!(matches!(a, RequestAction::Respond(r) if r.status == 500));
    }
}
