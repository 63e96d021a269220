//! `ipAllowList` and its deprecated alias `ipWhiteList` (Traefik `pkg/middlewares/ipallowlist`):
//! requests whose client address (per `ipStrategy`) is outside `sourceRange` get
//! `rejectStatusCode` (403 by default) with the status text as body.

use super::ip_strategy::IpStrategy;
use super::{Middleware, RequestAction, RequestContext};
use crate::config::dynamic;
use crate::http::{go_status_text, LocalResponse, RequestHead};
use crate::rule::ip::{parse_remote_addr, IpChecker};

/// The built `ipAllowList` / `ipWhiteList` middleware.
#[derive(Debug, Clone)]
pub struct IpAllowList {
    checker: IpChecker,
    strategy: IpStrategy,
    reject_status: u16,
}

impl IpAllowList {
    /// Builds `ipAllowList`.
    pub fn new(cfg: &dynamic::IPAllowList) -> Result<Self, String> {
        if cfg.source_range.is_empty() {
            return Err("sourceRange is empty, IPAllowLister not created".into());
        }
        let reject_status = match cfg.reject_status_code {
            0 => 403,
            c if (100..=999).contains(&c) && !go_status_text(c as u16).is_empty() => c as u16,
            c => return Err(format!("invalid HTTP status code {c}")),
        };
        Ok(IpAllowList {
            checker: IpChecker::parse(&cfg.source_range)
                .map_err(|e| format!("cannot parse CIDRs {:?}: {e}", cfg.source_range))?,
            strategy: IpStrategy::new(cfg.ip_strategy.as_ref())?,
            reject_status,
        })
    }

    /// Builds the deprecated `ipWhiteList` (always 403).
    pub fn white_list(cfg: &dynamic::IPWhiteList) -> Result<Self, String> {
        if cfg.source_range.is_empty() {
            return Err("sourceRange is empty, IPWhiteLister not created".into());
        }
        Ok(IpAllowList {
            checker: IpChecker::parse(&cfg.source_range)
                .map_err(|e| format!("cannot parse CIDR whitelist {:?}: {e}", cfg.source_range))?,
            strategy: IpStrategy::new(cfg.ip_strategy.as_ref())?,
            reject_status: 403,
        })
    }
}

impl Middleware for IpAllowList {
    fn has_response_side(&self) -> bool {
        false
    }

    fn on_request(&self, head: &mut RequestHead, cx: &RequestContext<'_>) -> RequestAction {
        let ip = self.strategy.client_ip(head, cx);
        if parse_remote_addr(&ip).is_some_and(|ip| self.checker.contains(ip)) {
            return RequestAction::Continue;
        }
        // The status text as body, no Content-Type (checked against Traefik).
        RequestAction::Respond(LocalResponse::new(
            self.reject_status,
            go_status_text(self.reject_status),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::middleware::tests_support::{cx, get};

    fn mw(range: &[&str], code: i64) -> Result<IpAllowList, String> {
        IpAllowList::new(&dynamic::IPAllowList {
            source_range: range.iter().map(|s| s.to_string()).collect(),
            ip_strategy: None,
            reject_status_code: code,
        })
    }

    #[test]
    fn allows_and_rejects() {
        let m = mw(&["192.0.2.0/24"], 0).unwrap();
        assert_eq!(m.on_request(&mut get("/"), &cx()), RequestAction::Continue);
        let m = mw(&["10.0.0.1"], 404).unwrap();
        let RequestAction::Respond(r) = m.on_request(&mut get("/"), &cx()) else {
            panic!()
        };
        assert_eq!((r.status, r.body.as_slice()), (404, &b"Not Found"[..]));
        assert!(r.headers.is_empty());
        let mut no_peer = cx();
        no_peer.client_ip = None;
        assert!(matches!(
            mw(&["0.0.0.0/0"], 0)
                .unwrap()
                .on_request(&mut get("/"), &no_peer),
            RequestAction::Respond(_)
        ));
    }

    #[test]
    fn config_errors() {
        assert!(mw(&[], 0).is_err());
        assert!(mw(&["foo"], 0).is_err());
        assert_eq!(
            mw(&["10.0.0.1"], 600).unwrap_err(),
            "invalid HTTP status code 600"
        );
    }
}
