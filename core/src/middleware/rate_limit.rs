//! `rateLimit` (Traefik `pkg/middlewares/ratelimiter`, in memory): a token bucket per source
//! (`<middleware>:<source>`, the client address by default) filling at `average / period` per
//! second up to `max(burst, 1)` tokens, as Go's `x/time/rate` limiter: each request reserves a
//! token; one that must wait at most `maxDelay` (half the time between two tokens, 500 ms
//! below one token a second) waits and goes on; a longer wait is cancelled and answered `429`
//! `Too Many Requests` with `Retry-After` (seconds, rounded up) and `X-Retry-In` (a Go
//! duration). A bucket unused for its lifetime (2 s, or 1 + 1/rate s below one token a
//! second) is forgotten; at most 65,536 are kept, beyond which Traefik answers 500.

use std::collections::HashMap;
use std::sync::Mutex;

use super::source_criterion::Source;
use super::{Middleware, RequestAction, RequestContext};
use crate::config::dynamic;
use crate::http::{LocalResponse, RequestHead};

const SECOND: f64 = 1e9;

/// How many buckets are kept at most.
const MAX_BUCKETS: usize = 65_536;

/// Go's `rate.Limiter`, times in nanoseconds.
#[derive(Debug, Clone)]
struct Bucket {
    tokens: f64,
    /// When `tokens` was counted (`None`: never, the bucket is full).
    last: Option<u64>,
    /// When the latest reservation may act.
    last_event: u64,
}

/// The built `rateLimit` middleware.
#[derive(Debug)]
pub struct RateLimit {
    name: String,
    /// Tokens per second (`None`: no limit).
    rate: Option<f64>,
    burst: f64,
    max_delay: u64,
    ttl: u64,
    source: Source,
    buckets: Mutex<HashMap<String, (Bucket, u64)>>,
}

impl RateLimit {
    /// Builds `rateLimit` named `name` (the buckets' key prefix).
    pub fn new(name: &str, cfg: &dynamic::RateLimit) -> Result<Self, String> {
        if cfg.redis.is_some() {
            return Err("rateLimit with redis is not supported yet by TrafficCop".into());
        }
        let source = Source::new_remote_addr_default(cfg.source_criterion.as_ref())?;
        if cfg.period.0 < 0 {
            return Err(format!(
                "negative value not valid for period: {}",
                cfg.period
            ));
        }
        let period = if cfg.period.0 == 0 {
            SECOND
        } else {
            cfg.period.0 as f64
        };
        let burst = cfg.burst.max(1) as f64;
        let (rate, max_delay) = if cfg.average > 0 {
            let rate = cfg.average as f64 * SECOND / period;
            let max_delay = if rate < 1.0 {
                500_000_000
            } else {
                1_000_000_000 / (2 * rate as u64)
            };
            (Some(rate), max_delay)
        } else {
            (None, 0)
        };
        let ttl_secs = match rate {
            None => 1,
            Some(r) if r >= 1.0 => 2,
            Some(r) => 1 + (1.0 / r) as u64,
        };
        Ok(RateLimit {
            name: name.to_string(),
            rate,
            burst,
            max_delay,
            ttl: ttl_secs * 1_000_000_000,
            source,
            buckets: Mutex::new(HashMap::new()),
        })
    }

    /// Go's `advance`: the bucket's tokens at `now`.
    fn advance(&self, b: &Bucket, rate: f64, now: u64) -> f64 {
        match b.last {
            None => self.burst,
            Some(last) => {
                let elapsed = now.saturating_sub(last) as f64 / SECOND;
                (b.tokens + elapsed * rate).min(self.burst)
            }
        }
    }

    /// Reserves a token for `source` at `now`: how long the request must wait, or `None` when
    /// no bucket can be kept for it.
    fn reserve(&self, source: &str, now: u64) -> Option<u64> {
        let rate = self.rate?;
        let key = format!("{}:{source}", self.name);
        let mut buckets = self.buckets.lock().ok()?;
        let fresh = Bucket {
            tokens: 0.0,
            last: None,
            last_event: 0,
        };
        let mut bucket = match buckets.get(&key) {
            Some((b, expires)) if *expires > now => b.clone(),
            _ => fresh,
        };
        if !buckets.contains_key(&key) && buckets.len() >= MAX_BUCKETS {
            buckets.retain(|_, (_, expires)| *expires > now);
            if buckets.len() >= MAX_BUCKETS {
                return None;
            }
        }
        let tokens = self.advance(&bucket, rate, now) - 1.0;
        let wait = if tokens < 0.0 {
            (-tokens / rate * SECOND) as u64
        } else {
            0
        };
        let act_at = now + wait;
        if wait > self.max_delay {
            // Go's `Reservation.Cancel` right after reserving: the token goes back.
            let restored = (tokens + 1.0).min(self.burst);
            bucket.tokens = restored;
            bucket.last = Some(now);
        } else {
            bucket.tokens = tokens;
            bucket.last = Some(now);
            bucket.last_event = act_at;
        }
        buckets.insert(key, (bucket, now + self.ttl));
        Some(wait)
    }
}

impl Source {
    /// `rateLimit`'s criterion: the client address when none is set.
    fn new_remote_addr_default(cfg: Option<&dynamic::SourceCriterion>) -> Result<Self, String> {
        let set = cfg.is_some_and(|c| {
            c.ip_strategy.is_some() || !c.request_header_name.is_empty() || c.request_host
        });
        if set {
            Source::new(cfg).map_err(|e| format!("getting source extractor: {e}"))
        } else {
            Ok(Source::Ip(super::IpStrategy::new(None)?))
        }
    }
}

impl Middleware for RateLimit {
    fn has_response_side(&self) -> bool {
        false
    }

    fn on_request(&self, head: &mut RequestHead, cx: &RequestContext<'_>) -> RequestAction {
        if self.rate.is_none() {
            return RequestAction::Continue;
        }
        let source = self.source.of(head, cx);
        let Some(wait) = self.reserve(&source, cx.now) else {
            return RequestAction::Respond(LocalResponse::go_error(
                500,
                "Could not insert/update bucket",
            ));
        };
        if wait > self.max_delay {
            let mut r = LocalResponse::new(429, &b"Too Many Requests"[..]);
            r.headers
                .set("Retry-After", format!("{}", wait.div_ceil(1_000_000_000)));
            r.headers.set(
                "X-Retry-In",
                crate::config::Duration(wait as i64).to_string(),
            );
            return RequestAction::Respond(r);
        }
        if wait == 0 {
            RequestAction::Continue
        } else {
            RequestAction::Delay(wait)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::middleware::tests_support::{cx, get};

    fn build(yaml: &str) -> Result<RateLimit, String> {
        let doc = format!("http:\n  middlewares:\n    m:\n      rateLimit: {yaml}\n");
        let l = crate::config::dynamic::load_dynamic(&doc, crate::config::Format::Yaml, None);
        assert!(!l.is_fatal(), "{:?}", l.diagnostics);
        let http = l.config.http.unwrap();
        RateLimit::new(
            "m@file",
            http.middlewares["m"].rate_limit.as_deref().unwrap(),
        )
    }

    fn at(m: &RateLimit, ms: u64) -> RequestAction {
        let mut c = cx();
        c.now = ms * 1_000_000;
        m.on_request(&mut get("/"), &c)
    }

    #[test]
    fn bursts_delays_and_refusals() {
        // 10 a second, burst 2: maxDelay 50 ms, a token every 100 ms.
        let m = build("{average: 10, burst: 2}").unwrap();
        assert_eq!(m.max_delay, 50_000_000);
        assert_eq!(at(&m, 1000), RequestAction::Continue);
        assert_eq!(at(&m, 1000), RequestAction::Continue);
        // The bucket is empty: the next token in 100 ms, more than maxDelay.
        let RequestAction::Respond(r) = at(&m, 1000) else {
            panic!("not refused")
        };
        assert_eq!((r.status, &r.body[..]), (429, &b"Too Many Requests"[..]));
        assert_eq!(r.headers.get_str("Retry-After"), Some("1"));
        assert_eq!(r.headers.get_str("X-Retry-In"), Some("100ms"));
        // 60 ms later, 40 ms to wait: within maxDelay, delayed.
        assert_eq!(at(&m, 1060), RequestAction::Delay(40_000_000));
        // That token is taken: the next waits 140 ms, refused.
        assert!(matches!(at(&m, 1060), RequestAction::Respond(_)));
        // Another source has its own bucket.
        let mut c = cx();
        c.now = 1_060_000_000;
        c.client_ip = "192.0.2.9".parse().ok();
        assert_eq!(m.on_request(&mut get("/"), &c), RequestAction::Continue);
    }

    #[test]
    fn buckets_are_bounded_and_expire() {
        let m = build("{average: 10}").unwrap();
        for i in 0..MAX_BUCKETS {
            assert_eq!(m.reserve(&i.to_string(), 0), Some(0));
        }
        // Full: a new source cannot get a bucket (Traefik's 500), a known one still can.
        assert_eq!(m.reserve("new", 0), None);
        let mut c = cx();
        c.client_ip = "198.51.100.7".parse().ok();
        let RequestAction::Respond(r) = m.on_request(&mut get("/"), &c) else {
            panic!("served without a bucket")
        };
        assert_eq!(
            (r.status, &r.body[..]),
            (500, &b"Could not insert/update bucket\n"[..])
        );
        assert!(m.reserve("1", 50_000_000).is_some());
        // Once their 2 s are over, the old buckets make room.
        assert_eq!(m.reserve("new", 3_000_000_000), Some(0));
        assert!(m.buckets.lock().unwrap().len() < 10);
    }

    #[test]
    fn slow_rates_and_defaults() {
        // One a minute: maxDelay 500 ms, buckets kept 61 s.
        let m = build("{average: 1, period: 1m}").unwrap();
        assert_eq!((m.max_delay, m.ttl), (500_000_000, 61_000_000_000));
        assert_eq!(at(&m, 0), RequestAction::Continue);
        let RequestAction::Respond(r) = at(&m, 1000) else {
            panic!("not refused")
        };
        assert_eq!(r.headers.get_str("Retry-After"), Some("59"));
        assert_eq!(r.headers.get_str("X-Retry-In"), Some("59s"));
        // No average: no limit.
        let m = build("{burst: 5}").unwrap();
        for _ in 0..10 {
            assert_eq!(at(&m, 0), RequestAction::Continue);
        }
        assert!(build("{average: 1, period: -1s}").is_err());
    }
}
