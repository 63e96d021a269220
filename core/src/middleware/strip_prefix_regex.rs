//! `stripPrefixRegex`: removes the first regex match from the path when that match is a prefix
//! of it (Traefik `pkg/middlewares/stripprefixregex`). Regexes are Go RE2, matched unanchored
//! on the decoded path; otherwise as [`super::StripPrefix`].

use regex::bytes::Regex;

use super::strip_prefix::{cut_prefix, FORWARDED_PREFIX_HEADER};
use super::url_path::{bad_request, head_path};
use super::{Middleware, RequestAction, RequestContext};
use crate::config::dynamic;
use crate::http::RequestHead;
use crate::rule::regex_compat::compile_go_regex;

/// The built `stripPrefixRegex` middleware.
#[derive(Debug, Clone)]
pub struct StripPrefixRegex {
    regexes: Vec<Regex>,
}

impl StripPrefixRegex {
    /// Builds it; an invalid regex is an error (each one is trimmed first).
    pub fn new(cfg: &dynamic::StripPrefixRegex) -> Result<Self, String> {
        let regexes = cfg
            .regex
            .iter()
            .map(|r| compile_go_regex(r.trim()))
            .collect::<Result<_, _>>()?;
        Ok(StripPrefixRegex { regexes })
    }
}

impl Middleware for StripPrefixRegex {
    fn has_response_side(&self) -> bool {
        false
    }

    fn on_request(&self, head: &mut RequestHead, _cx: &RequestContext<'_>) -> RequestAction {
        let p = match head_path(head) {
            Ok(p) => p,
            Err(r) => return RequestAction::Respond(r),
        };
        for re in &self.regexes {
            let Some(m) = re.find(&p.path) else { continue };
            let prefix = m.as_bytes();
            if prefix.is_empty() || !p.path.starts_with(prefix) {
                continue;
            }
            let prefix = prefix.to_vec();
            let Some(p) = cut_prefix(p, prefix.len(), false) else {
                return RequestAction::Respond(bad_request());
            };
            head.headers.append(FORWARDED_PREFIX_HEADER, prefix);
            head.path = p.request_path();
            break;
        }
        RequestAction::Continue
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::middleware::tests_support::{cx, get};

    fn mw(r: &[&str]) -> StripPrefixRegex {
        StripPrefixRegex::new(&dynamic::StripPrefixRegex {
            regex: r.iter().map(|s| s.to_string()).collect(),
        })
        .unwrap()
    }

    #[test]
    fn strips_matching_prefix() {
        let m = mw(&["/b/([a-z0-9]+)/"]);
        let mut h = get("/b/ap%69/a%2Fb");
        assert_eq!(m.on_request(&mut h, &cx()), RequestAction::Continue);
        assert_eq!(h.path, "/a%2Fb");
        assert_eq!(h.headers.get_str("X-Forwarded-Prefix"), Some("/b/api/"));
        let mut h = get("/c/api/123/");
        mw(&["/c/[a-z0-9]+/[0-9]+/"]).on_request(&mut h, &cx());
        assert_eq!(h.path, "/");
    }

    #[test]
    fn match_not_at_start_is_ignored() {
        let mut h = get("/x/a/api/test");
        mw(&["/a/api/"]).on_request(&mut h, &cx());
        assert_eq!(h.path, "/x/a/api/test");
        assert!(!h.headers.contains("X-Forwarded-Prefix"));
    }

    #[test]
    fn errors_and_dots() {
        assert!(StripPrefixRegex::new(&dynamic::StripPrefixRegex {
            regex: vec!["(".into()]
        })
        .is_err());
        let mut h = get("/api../foo");
        let a = mw(&["/api"]).on_request(&mut h, &cx());
        assert!(matches!(a, RequestAction::Respond(r) if r.status == 400));
    }
}
