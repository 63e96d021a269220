//! `stripPrefix`: removes the first matching literal prefix from the path (Traefik
//! `pkg/middlewares/stripprefix`). The match is a plain string prefix of the decoded path, not
//! segment-aware; the raw path loses as many characters, `%XX` counting as one. The stripped
//! prefix is added as `X-Forwarded-Prefix`, and a result that normalisation would change
//! (`/api./foo` minus `/api`) is refused with 400.

use super::url_path::{
    bad_request, encoded_prefix_len, ensure_leading_slash, ensure_leading_slash_bytes, head_path,
    GoPath,
};
use super::{Middleware, RequestAction, RequestContext};
use crate::config::dynamic;
use crate::http::RequestHead;

/// The header listing stripped prefixes.
pub const FORWARDED_PREFIX_HEADER: &str = "X-Forwarded-Prefix";

/// The built `stripPrefix` middleware.
#[derive(Debug, Clone)]
pub struct StripPrefix {
    prefixes: Vec<String>,
    force_slash: bool,
}

impl StripPrefix {
    /// Builds it (prefixes are trimmed of surrounding spaces; the deprecated `forceSlash`
    /// defaults to false).
    pub fn new(cfg: &dynamic::StripPrefix) -> Result<Self, String> {
        Ok(StripPrefix {
            prefixes: cfg.prefixes.iter().map(|p| p.trim().to_string()).collect(),
            force_slash: cfg.force_slash.unwrap_or(false),
        })
    }
}

/// Cuts `prefix_len` decoded bytes off `p` (and the matching raw characters), applies the
/// deprecated `forceSlash` rule or a leading slash, then normalises. `None` means 400.
pub(crate) fn cut_prefix(mut p: GoPath, prefix_len: usize, force_slash: bool) -> Option<GoPath> {
    let rest = p.path[prefix_len..].to_vec();
    let raw_rest = if p.raw_path.is_empty() {
        None
    } else {
        Some(p.raw_path[encoded_prefix_len(&p.raw_path, prefix_len)..].to_string())
    };
    if force_slash {
        let trimmed = rest.strip_prefix(b"/").unwrap_or(&rest);
        p.path = [b"/".as_slice(), trimmed].concat();
        if let Some(r) = raw_rest {
            p.raw_path = format!("/{}", r.strip_prefix('/').unwrap_or(&r));
        }
    } else {
        p.path = ensure_leading_slash_bytes(&rest);
        if let Some(r) = raw_rest {
            p.raw_path = ensure_leading_slash(&r);
        }
    }
    p.normalised()
}

impl Middleware for StripPrefix {
    fn has_response_side(&self) -> bool {
        false
    }

    fn on_request(&self, head: &mut RequestHead, _cx: &RequestContext<'_>) -> RequestAction {
        let p = match head_path(head) {
            Ok(p) => p,
            Err(r) => return RequestAction::Respond(r),
        };
        let Some(prefix) = self
            .prefixes
            .iter()
            .find(|pre| p.path.starts_with(pre.as_bytes()))
        else {
            return RequestAction::Continue;
        };
        let Some(p) = cut_prefix(p, prefix.len(), self.force_slash) else {
            return RequestAction::Respond(bad_request());
        };
        head.headers.append(
            FORWARDED_PREFIX_HEADER,
            bytes::Bytes::copy_from_slice(prefix.as_bytes()),
        );
        head.path = p.request_path();
        RequestAction::Continue
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::middleware::tests_support::{cx, get};

    fn mw(prefixes: &[&str]) -> StripPrefix {
        StripPrefix::new(&dynamic::StripPrefix {
            prefixes: prefixes.iter().map(|s| s.to_string()).collect(),
            force_slash: None,
        })
        .unwrap()
    }

    fn run(m: &StripPrefix, target: &str) -> (RequestAction, RequestHead) {
        let mut h = get(target);
        let a = m.on_request(&mut h, &cx());
        (a, h)
    }

    #[test]
    fn strips_string_prefixes() {
        let (_, h) = run(&mw(&["/stat"]), "/status?q");
        assert_eq!(h.target(), "/us?q");
        assert_eq!(h.headers.get_str("X-Forwarded-Prefix"), Some("/stat"));
        let (_, h) = run(&mw(&["/stat"]), "/stat");
        assert_eq!(h.path, "/");
        let (_, h) = run(&mw(&["/mismatch", "/stat/"]), "/stat/us");
        assert_eq!(h.path, "/us");
        let (_, h) = run(&mw(&["/stat/"]), "/status");
        assert_eq!(h.path, "/status");
        assert!(!h.headers.contains("X-Forwarded-Prefix"));
    }

    #[test]
    fn raw_path_counts_escapes_as_one() {
        let (_, h) = run(&mw(&["/api/"]), "/ap%69/a%2Fb");
        assert_eq!(h.path, "/a%2Fb");
    }

    #[test]
    fn dot_segments_are_refused() {
        let (a, _) = run(&mw(&["/api"]), "/api./foo");
        let RequestAction::Respond(r) = a else {
            panic!("expected 400")
        };
        assert_eq!(r.status, 400);
        assert_eq!(r.body, b"Bad Request\n");
        let (a, _) = run(&mw(&["/api"]), "/api/./foo");
        assert!(matches!(a, RequestAction::Respond(_)));
    }

    #[test]
    fn force_slash() {
        let m = StripPrefix::new(&dynamic::StripPrefix {
            prefixes: vec!["/api".into()],
            force_slash: Some(true),
        })
        .unwrap();
        let (_, h) = run(&m, "/api");
        assert_eq!(h.path, "/");
    }
}
