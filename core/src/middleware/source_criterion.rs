//! Traefik's `sourceCriterion` (`pkg/middlewares/extractor.go`): what identifies the source of
//! a request for `inFlightReq` (and `rateLimit`): the client address by an `ipStrategy`, the
//! value of a request header, or the request's host. Setting two is an error; setting none
//! takes the middleware's default.

use super::ip_strategy::IpStrategy;
use super::RequestContext;
use crate::config::dynamic;
use crate::http::RequestHead;

/// A built source criterion.
#[derive(Debug, Clone)]
pub enum Source {
    /// The client address, by an IP strategy.
    Ip(IpStrategy),
    /// The first value of a request header (empty when absent).
    Header(String),
    /// The request's host (Go's `req.Host`, port included).
    Host,
}

impl Source {
    /// Traefik's `GetSourceExtractor` with `inFlightReq`'s default when the criterion sets
    /// nothing: the request's host (`rateLimit`'s would be the client address).
    pub fn new(cfg: Option<&dynamic::SourceCriterion>) -> Result<Self, String> {
        if let Some(c) = cfg {
            if c.ip_strategy.is_some() && !c.request_header_name.is_empty() {
                return Err("iPStrategy and RequestHeaderName are mutually exclusive".into());
            }
            if c.ip_strategy.is_some() && c.request_host {
                return Err("iPStrategy and RequestHost are mutually exclusive".into());
            }
            if !c.request_header_name.is_empty() && c.request_host {
                return Err("requestHost and RequestHeaderName are mutually exclusive".into());
            }
            if let Some(s) = &c.ip_strategy {
                return Ok(Source::Ip(IpStrategy::new(Some(s))?));
            }
            if !c.request_header_name.is_empty() {
                return Ok(Source::Header(c.request_header_name.clone()));
            }
            if c.request_host {
                return Ok(Source::Host);
            }
        }
        Ok(Source::Host)
    }

    /// The source of a request.
    pub fn of(&self, head: &RequestHead, cx: &RequestContext<'_>) -> String {
        match self {
            Source::Ip(s) => s.client_ip(head, cx),
            Source::Header(name) => head.headers.get_str(name).unwrap_or("").to_string(),
            Source::Host => head.host.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::middleware::tests_support::{cx, get};

    fn criterion(yaml: &str) -> Option<dynamic::SourceCriterion> {
        let doc = format!(
            "http:\n  middlewares:\n    m:\n      inFlightReq: {{amount: 1, sourceCriterion: {yaml}}}\n"
        );
        let l = crate::config::dynamic::load_dynamic(&doc, crate::config::Format::Yaml, None);
        assert!(!l.is_fatal(), "{:?}", l.diagnostics);
        let http = l.config.http.unwrap();
        http.middlewares["m"]
            .in_flight_req
            .as_deref()
            .unwrap()
            .source_criterion
            .clone()
    }

    #[test]
    fn sources_and_defaults() {
        let mut req = get("/");
        req.host = "h.example:8080".into();
        req.headers.append("X-Tenant", "t1");
        let of = |s: Source| s.of(&req, &cx());
        assert_eq!(of(Source::new(None).unwrap()), "h.example:8080");
        let c = criterion("{requestHeaderName: x-tenant}");
        assert_eq!(of(Source::new(c.as_ref()).unwrap()), "t1");
        let c = criterion("{requestHeaderName: X-Missing}");
        assert_eq!(of(Source::new(c.as_ref()).unwrap()), "");
        let c = criterion("{ipStrategy: {ipv6Subnet: 64}}");
        assert_eq!(of(Source::new(c.as_ref()).unwrap()), "192.0.2.1");
        let c = criterion("{ipStrategy: {depth: 1}, requestHost: true}");
        assert_eq!(
            Source::new(c.as_ref()).unwrap_err(),
            "iPStrategy and RequestHost are mutually exclusive"
        );
        let c = criterion("{requestHeaderName: a, requestHost: true}");
        assert_eq!(
            Source::new(c.as_ref()).unwrap_err(),
            "requestHost and RequestHeaderName are mutually exclusive"
        );
    }
}
