//! `inFlightReq` (Traefik `pkg/middlewares/inflightreq`, oxy's `connlimit`): at most `amount`
//! requests of one source (by default its host) at a time; one more gets `429` with
//! `max connections reached: <amount>`. A request holds its place until its answer is done
//! (the [`InFlight`] it leaves with the proxy is dropped then), or, for an upgrade, until the
//! backend switched protocols.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use super::source_criterion::Source;
use super::{Middleware, RequestAction, RequestContext};
use crate::config::dynamic;
use crate::http::{LocalResponse, RequestHead};

/// Requests in flight by source.
type Counts = Arc<Mutex<HashMap<String, i64>>>;

/// The built `inFlightReq` middleware.
#[derive(Debug)]
pub struct InFlightReq {
    amount: i64,
    source: Source,
    counts: Counts,
}

/// A request's place among its source's requests in flight: given back when dropped.
pub struct InFlight {
    counts: Counts,
    source: String,
}

impl std::fmt::Debug for InFlight {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InFlight")
            .field("source", &self.source)
            .finish()
    }
}

impl PartialEq for InFlight {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.counts, &other.counts) && self.source == other.source
    }
}

impl Eq for InFlight {}

impl Drop for InFlight {
    fn drop(&mut self) {
        if let Ok(mut counts) = self.counts.lock() {
            if let Some(n) = counts.get_mut(&self.source) {
                *n -= 1;
                if *n <= 0 {
                    counts.remove(&self.source);
                }
            }
        }
    }
}

impl InFlightReq {
    /// Builds `inFlightReq`.
    pub fn new(cfg: &dynamic::InFlightReq) -> Result<Self, String> {
        let source = Source::new(cfg.source_criterion.as_ref())
            .map_err(|e| format!("error creating requests limiter: {e}"))?;
        Ok(InFlightReq {
            amount: cfg.amount,
            source,
            counts: Arc::default(),
        })
    }
}

impl Middleware for InFlightReq {
    fn has_response_side(&self) -> bool {
        false
    }

    fn on_request(&self, head: &mut RequestHead, cx: &RequestContext<'_>) -> RequestAction {
        let source = self.source.of(head, cx);
        let Ok(mut counts) = self.counts.lock() else {
            return RequestAction::Continue;
        };
        let n = counts.entry(source.clone()).or_insert(0);
        if *n >= self.amount {
            if *n == 0 {
                counts.remove(&source);
            }
            return RequestAction::Respond(LocalResponse::new(
                429,
                format!("max connections reached: {}", self.amount),
            ));
        }
        *n += 1;
        RequestAction::Hold(InFlight {
            counts: Arc::clone(&self.counts),
            source,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::middleware::tests_support::{cx, get};

    fn build(yaml: &str) -> InFlightReq {
        let doc = format!("http:\n  middlewares:\n    m:\n      inFlightReq: {yaml}\n");
        let l = crate::config::dynamic::load_dynamic(&doc, crate::config::Format::Yaml, None);
        assert!(!l.is_fatal(), "{:?}", l.diagnostics);
        let http = l.config.http.unwrap();
        InFlightReq::new(http.middlewares["m"].in_flight_req.as_deref().unwrap()).unwrap()
    }

    fn held(a: RequestAction) -> InFlight {
        match a {
            RequestAction::Hold(h) => h,
            other => panic!("not held: {other:?}"),
        }
    }

    #[test]
    fn a_source_holds_at_most_amount_places_until_they_are_dropped() {
        let m = build("{amount: 2}");
        let mut a = get("/");
        let first = held(m.on_request(&mut a, &cx()));
        let second = held(m.on_request(&mut a, &cx()));
        let RequestAction::Respond(r) = m.on_request(&mut a, &cx()) else {
            panic!("a third request let through");
        };
        assert_eq!(
            (r.status, &r.body[..]),
            (429, &b"max connections reached: 2"[..])
        );
        assert!(r.headers.is_empty());
        // Another host is another source (the default criterion).
        let mut other = get("/");
        other.host = "other".into();
        let _third = held(m.on_request(&mut other, &cx()));
        drop(first);
        let _again = held(m.on_request(&mut a, &cx()));
        drop(second);
        drop(_again);
        assert!(m.counts.lock().unwrap().get("localhost").is_none());
    }

    #[test]
    fn amount_zero_refuses_everything() {
        let m = build("{amount: 0, sourceCriterion: {ipStrategy: {ipv6Subnet: 64}}}");
        let RequestAction::Respond(r) = m.on_request(&mut get("/"), &cx()) else {
            panic!("let through");
        };
        assert_eq!(r.body, b"max connections reached: 0");
        assert!(m.counts.lock().unwrap().is_empty());
    }
}
