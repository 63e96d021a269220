//! `addPrefix`: prepends a fixed prefix to the path (Traefik `pkg/middlewares/addprefix`).

use super::url_path::{ensure_leading_slash, ensure_leading_slash_bytes, head_path};
use super::{Middleware, RequestAction, RequestContext};
use crate::config::dynamic;
use crate::http::RequestHead;

/// The built `addPrefix` middleware.
#[derive(Debug, Clone)]
pub struct AddPrefix {
    prefix: String,
}

impl AddPrefix {
    /// Builds it; an empty prefix is Traefik's `prefix cannot be empty` error.
    pub fn new(cfg: &dynamic::AddPrefix) -> Result<Self, String> {
        if cfg.prefix.is_empty() {
            return Err("prefix cannot be empty".into());
        }
        Ok(AddPrefix {
            prefix: cfg.prefix.clone(),
        })
    }
}

impl Middleware for AddPrefix {
    fn has_response_side(&self) -> bool {
        false
    }

    fn on_request(&self, head: &mut RequestHead, _cx: &RequestContext<'_>) -> RequestAction {
        let mut p = match head_path(head) {
            Ok(p) => p,
            Err(r) => return RequestAction::Respond(r),
        };
        // The prefix is prepended as is to both the decoded and the raw path.
        let mut path = self.prefix.as_bytes().to_vec();
        path.extend_from_slice(&p.path);
        p.path = ensure_leading_slash_bytes(&path);
        if !p.raw_path.is_empty() {
            p.raw_path = ensure_leading_slash(&format!("{}{}", self.prefix, p.raw_path));
        }
        head.path = p.request_path();
        RequestAction::Continue
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::middleware::tests_support::{cx, get};

    fn mw(prefix: &str) -> AddPrefix {
        AddPrefix::new(&dynamic::AddPrefix {
            prefix: prefix.into(),
        })
        .unwrap()
    }

    #[test]
    fn adds_prefix() {
        let mut h = get("/b?x=1");
        assert_eq!(mw("/a").on_request(&mut h, &cx()), RequestAction::Continue);
        assert_eq!(h.target(), "/a/b?x=1");
        let mut h = get("/");
        mw("a").on_request(&mut h, &cx());
        assert_eq!(h.path, "/a/");
        let mut h = get("/b%2Fc");
        mw("/a").on_request(&mut h, &cx());
        assert_eq!(h.path, "/a/b%2Fc");
    }

    #[test]
    fn empty_prefix_is_an_error() {
        let e = AddPrefix::new(&dynamic::AddPrefix::default()).unwrap_err();
        assert_eq!(e, "prefix cannot be empty");
    }
}
