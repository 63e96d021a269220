//! `errors` (Traefik `pkg/middlewares/customerrors`): when the answer's status is in `status`,
//! its body is dropped and the page `service` gives for `query` is sent instead, with the
//! status (or its `statusRewrites` mapping). The middleware marks the request with what the
//! page request needs; the worker catches the status and sends the page request
//! (`proxy::errors`).

use std::sync::Arc;

use super::{Middleware, RequestAction, RequestContext};
use crate::config::dynamic;
use crate::http::{Headers, RequestHead};

/// The built `errors` middleware.
#[derive(Debug)]
pub struct Errors {
    policy: Arc<ErrorsPolicy>,
}

/// What an `errors` middleware catches and where its pages come from.
#[derive(Debug, PartialEq, Eq)]
pub struct ErrorsPolicy {
    /// The statuses caught (inclusive ranges).
    status: Vec<(i64, i64)>,
    /// `statusRewrites`, in key order (Traefik walks a Go map: any order).
    rewrites: Vec<(Vec<(i64, i64)>, u16)>,
    /// The page service, qualified (`errors@file`).
    pub service: String,
    query: String,
    /// `errorRequestHeaders`: only these go to the page service (all when `None`).
    request_headers: Option<Vec<String>>,
}

/// A request an `errors` middleware let through: the request as it saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorsMark {
    /// The middleware's policy.
    pub policy: Arc<ErrorsPolicy>,
    /// The request's host, path (as received, escaped), query and headers at the middleware.
    pub request: RequestHead,
    /// The client connection is TLS (for `{url}`).
    pub tls: bool,
}

impl Errors {
    /// Builds `errors` from `name`'s configuration; `provider` qualifies the service name,
    /// and `service_exists` says whether a qualified service can be built.
    pub fn new(
        cfg: &dynamic::ErrorPage,
        provider: &str,
        service_exists: &dyn Fn(&str) -> bool,
    ) -> Result<Self, String> {
        let status = super::retry::http_code_ranges(&cfg.status)?;
        let service = if cfg.service.contains('@') || provider.is_empty() {
            cfg.service.clone()
        } else {
            format!("{}@{provider}", cfg.service)
        };
        if !service_exists(&service) {
            return Err(format!("the service {service:?} does not exist"));
        }
        let mut rewrites = Vec::new();
        for (from, to) in &cfg.status_rewrites {
            let ranges = super::retry::http_code_ranges(std::slice::from_ref(from))?;
            let to = u16::try_from(*to)
                .ok()
                .filter(|c| (100..=999).contains(c))
                .ok_or_else(|| format!("invalid status code {to}"))?;
            rewrites.push((ranges, to));
        }
        Ok(Errors {
            policy: Arc::new(ErrorsPolicy {
                status,
                rewrites,
                service,
                query: cfg.query.clone(),
                request_headers: (!cfg.error_request_headers.is_empty())
                    .then(|| cfg.error_request_headers.clone()),
            }),
        })
    }
}

impl Middleware for Errors {
    fn has_response_side(&self) -> bool {
        false
    }

    fn page_service(&self) -> Option<&str> {
        Some(&self.policy.service)
    }

    fn on_request(&self, head: &mut RequestHead, cx: &RequestContext<'_>) -> RequestAction {
        RequestAction::Errors(ErrorsMark {
            policy: self.policy.clone(),
            request: head.clone(),
            tls: cx.tls,
        })
    }
}

impl ErrorsMark {
    /// The status the client gets for a caught `status` (its rewrite, if any), or `None`
    /// when `status` is not caught.
    pub fn catches(&self, status: u16) -> Option<u16> {
        let code = i64::from(status);
        let within =
            |ranges: &[(i64, i64)]| ranges.iter().any(|&(lo, hi)| (lo..=hi).contains(&code));
        if !within(&self.policy.status) {
            return None;
        }
        Some(
            self.policy
                .rewrites
                .iter()
                .find(|(from, _)| within(from))
                .map_or(status, |(_, to)| *to),
        )
    }

    /// The page request for an answer of `original` turned into `code`: GET of `query` (its
    /// `{status}`, `{originalStatus}` and `{url}` filled in) to the request's host, with the
    /// request's headers (or `errorRequestHeaders` only).
    pub fn page_request(&self, code: u16, original: u16) -> RequestHead {
        let r = &self.request;
        let mut target = String::new();
        if !self.policy.query.is_empty() {
            let url = format!(
                "{}://{}{}{}",
                if self.tls { "https" } else { "http" },
                r.host,
                r.path,
                r.raw_query
                    .as_deref()
                    .map(|q| format!("?{q}"))
                    .unwrap_or_default()
            );
            target = format!("/{}", self.policy.query.trim_start_matches('/'))
                .replace("{status}", &code.to_string())
                .replace("{originalStatus}", &original.to_string())
                .replace("{url}", &crate::http::percent::query_escape(&url));
        }
        let (path, raw_query) = match target.split_once('?') {
            Some((p, q)) => (p.to_string(), Some(q.to_string())),
            None => (target, None),
        };
        let headers = match &self.policy.request_headers {
            None => r.headers.clone(),
            Some(names) => {
                let mut h = Headers::new();
                for name in names {
                    for v in r.headers.get_all(name) {
                        h.append(
                            &crate::http::canonical_name(name),
                            bytes::Bytes::copy_from_slice(v),
                        );
                    }
                }
                h
            }
        };
        RequestHead {
            method: crate::http::Method::Borrowed("GET"),
            path: if path.is_empty() { "/".into() } else { path },
            raw_query,
            host: r.host.clone(),
            version: crate::http::Version::Http11,
            headers,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::dynamic::load_dynamic;
    use crate::config::Format;

    fn built(yaml: &str) -> Result<Errors, String> {
        let l = load_dynamic(
            &format!("http:\n  middlewares:\n    e:\n      errors: {yaml}\n"),
            Format::Yaml,
            None,
        );
        assert!(!l.is_fatal(), "{:?}", l.diagnostics);
        let http = l.config.http.unwrap();
        Errors::new(
            http.middlewares["e"].errors.as_deref().unwrap(),
            "file",
            &|s| s == "pages@file",
        )
    }

    #[test]
    fn catches_rewrites_and_builds_the_page_request() {
        let e = built("{status: ['500-503', '404'], service: pages, query: '/{status}.html?from={originalStatus}&u={url}', statusRewrites: {'502-503': 500}}").unwrap();
        let mut head = crate::middleware::tests_support::get("/a b?x=1");
        head.headers.append("Accept", "text/html".to_string());
        let RequestAction::Errors(mark) =
            e.on_request(&mut head, &crate::middleware::tests_support::cx())
        else {
            panic!("not marked");
        };
        assert_eq!(mark.catches(200), None);
        assert_eq!(mark.catches(404), Some(404));
        assert_eq!(mark.catches(503), Some(500));
        let page = mark.page_request(500, 503);
        assert_eq!(page.method, "GET");
        assert_eq!(page.path, "/500.html");
        assert_eq!(
            page.raw_query.as_deref(),
            Some("from=503&u=http%3A%2F%2Flocalhost%2Fa+b%3Fx%3D1")
        );
        assert_eq!(page.headers.get("Accept"), Some(&b"text/html"[..]));
    }

    #[test]
    fn errors_as_traefik() {
        assert_eq!(
            built("{status: ['5xx'], service: pages}").err().unwrap(),
            "strconv.Atoi: parsing \"5xx\": invalid syntax"
        );
        assert_eq!(
            built("{status: ['500'], service: nope}").err().unwrap(),
            "the service \"nope@file\" does not exist"
        );
    }
}
