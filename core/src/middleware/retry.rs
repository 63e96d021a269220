//! `retry` (Traefik `pkg/middlewares/retry`): sends a request again, to a server the service
//! picks again, when the attempt failed before the request reached the backend (the dial, or
//! the TLS handshake, failed), and (3.7) when the backend answered one of the `status` codes.
//! Between attempts it waits as `cenkalti/backoff`'s exponential back-off, scaled so the wait
//! at most doubles over the attempts.
//!
//! The middleware only marks the request; the worker keeps the request as the middleware saw
//! it and runs the rest of the chain again for each attempt (`proxy::retry`).

use std::sync::Arc;

use super::{Middleware, RequestAction, RequestContext};
use crate::config::dynamic;
use crate::http::RequestHead;

/// The longest wait `cenkalti/backoff` gives (`DefaultMaxInterval`).
const MAX_INTERVAL: f64 = 60e9;
/// How long `cenkalti/backoff` goes on retrying (`DefaultMaxElapsedTime`).
const MAX_ELAPSED: u64 = 15 * 60 * 1_000_000_000;
/// `cenkalti/backoff`'s `DefaultRandomizationFactor`.
const RANDOMIZATION: f64 = 0.5;

/// The built `retry` middleware.
#[derive(Debug)]
pub struct Retry {
    policy: Arc<RetryPolicy>,
}

/// What a `retry` middleware allows, shared by the requests it marks.
#[derive(Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in all, the first included (at least 2 when a request is marked).
    pub attempts: u32,
    /// No retry once this many nanoseconds passed since the first attempt (0: no limit).
    pub timeout: u64,
    /// The first wait in nanoseconds (0: no wait).
    pub initial_interval: u64,
    /// The largest request body kept to send again for a status retry (negative: any).
    pub max_request_body_bytes: i64,
    /// Status codes answered by the backend that are retried (inclusive ranges).
    pub status: Vec<(i64, i64)>,
    /// Whether a request that never reached the backend is retried.
    pub network: bool,
    /// Whether status retries also apply to POST, PATCH and LOCK.
    pub non_idempotent: bool,
}

impl Retry {
    /// Builds `retry`, with Traefik's errors.
    pub fn new(cfg: &dynamic::Retry) -> Result<Self, String> {
        if cfg.status.is_empty() && cfg.disable_retry_on_network_error {
            return Err(
                "retry middleware requires at least HTTP status codes or retry on TCP".into(),
            );
        }
        if cfg.attempts <= 0 {
            return Err(format!(
                "incorrect (or empty) value for attempt ({})",
                cfg.attempts
            ));
        }
        let status =
            http_code_ranges(&cfg.status).map_err(|e| format!("creating HTTP code ranges: {e}"))?;
        Ok(Retry {
            policy: Arc::new(RetryPolicy {
                attempts: u32::try_from(cfg.attempts).unwrap_or(u32::MAX),
                timeout: u64::try_from(cfg.timeout.0).unwrap_or(0),
                initial_interval: u64::try_from(cfg.initial_interval.0).unwrap_or(0),
                max_request_body_bytes: cfg.max_request_body_bytes.unwrap_or(2 << 20),
                status,
                network: !cfg.disable_retry_on_network_error,
                non_idempotent: cfg.retry_non_idempotent_method,
            }),
        })
    }
}

impl Middleware for Retry {
    fn has_response_side(&self) -> bool {
        false
    }

    fn on_request(&self, _head: &mut RequestHead, _cx: &RequestContext<'_>) -> RequestAction {
        if self.policy.attempts == 1 {
            // One attempt: Traefik passes the request on untouched.
            return RequestAction::Continue;
        }
        RequestAction::Retry(self.policy.clone())
    }
}

impl RetryPolicy {
    /// Whether a backend answer of `status` to a `method` request is retried (Traefik: POST,
    /// PATCH and LOCK only with `retryNonIdempotentMethod`).
    pub fn retries_status(&self, method: &str, status: u16) -> bool {
        let idempotent = !matches!(method, "POST" | "PATCH" | "LOCK");
        (idempotent || self.non_idempotent)
            && self
                .status
                .iter()
                .any(|&(lo, hi)| (lo..=hi).contains(&i64::from(status)))
    }

    /// Whether status retries may apply to a `method` request at all (its body is then kept).
    pub fn keeps_body(&self, method: &str) -> bool {
        !self.status.is_empty()
            && (self.non_idempotent || !matches!(method, "POST" | "PATCH" | "LOCK"))
    }

    /// Whether `elapsed` nanoseconds since the first attempt are past the `timeout`.
    pub fn timed_out(&self, elapsed: u64) -> bool {
        self.timeout > 0 && elapsed >= self.timeout
    }

    /// The back-off's multiplier: the interval at most doubles over the attempts.
    fn multiplier(&self) -> f64 {
        2f64.powf(1.0 / f64::from(self.attempts.saturating_sub(1).max(1)))
    }
}

/// Where a request's back-off stands: `cenkalti/backoff`'s `ExponentialBackOff` after
/// `Reset`.
#[derive(Debug, Clone)]
pub struct BackOff {
    /// The current interval in nanoseconds (0: retry at once, `ZeroBackOff`).
    interval: f64,
}

impl BackOff {
    /// A fresh back-off for `policy`.
    pub fn new(policy: &RetryPolicy) -> Self {
        BackOff {
            interval: policy.initial_interval as f64,
        }
    }

    /// The wait before the next attempt in nanoseconds, `None` when the back-off gives up
    /// (15 minutes since the first attempt), given `elapsed` nanoseconds since then and a
    /// uniform `random` number in [0, 1).
    pub fn next(&mut self, policy: &RetryPolicy, elapsed: u64, random: f64) -> Option<u64> {
        if self.interval <= 0.0 {
            return Some(0);
        }
        let current = self.interval;
        let delta = RANDOMIZATION * current;
        let (min, max) = (current - delta, current + delta);
        let wait = (min + random * (max - min + 1.0)) as u64;
        let multiplier = policy.multiplier();
        self.interval = if current >= MAX_INTERVAL / multiplier {
            MAX_INTERVAL
        } else {
            current * multiplier
        };
        (elapsed.saturating_add(wait) <= MAX_ELAPSED).then_some(wait)
    }
}

/// Traefik's `types.NewHTTPCodeRanges`: `"500"` or `"500-599"` per entry.
pub fn http_code_ranges(blocks: &[String]) -> Result<Vec<(i64, i64)>, String> {
    blocks
        .iter()
        .map(|block| {
            let mut codes = block.split('-');
            let low = codes.next().unwrap_or_default();
            let high = codes.next().unwrap_or(low);
            Ok((go_atoi(low)?, go_atoi(high)?))
        })
        .collect()
}

/// Go's `strconv.Atoi`, with its error text.
fn go_atoi(s: &str) -> Result<i64, String> {
    let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("strconv.Atoi: parsing {s:?}: invalid syntax"));
    }
    s.parse()
        .map_err(|_| format!("strconv.Atoi: parsing {s:?}: value out of range"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::dynamic::load_dynamic;
    use crate::config::Format;

    fn built(yaml: &str) -> Result<Retry, String> {
        let l = load_dynamic(
            &format!("http:\n  middlewares:\n    r:\n      retry: {yaml}\n"),
            Format::Yaml,
            None,
        );
        assert!(!l.is_fatal(), "{:?}", l.diagnostics);
        let http = l.config.http.unwrap();
        Retry::new(http.middlewares["r"].retry.as_deref().unwrap())
    }

    #[test]
    fn errors_as_traefik() {
        assert_eq!(
            built("{attempts: 0}").unwrap_err(),
            "incorrect (or empty) value for attempt (0)"
        );
        assert_eq!(
            built("{attempts: 2, disableRetryOnNetworkError: true}").unwrap_err(),
            "retry middleware requires at least HTTP status codes or retry on TCP"
        );
        assert_eq!(
            built("{attempts: 2, status: ['5xx']}").unwrap_err(),
            "creating HTTP code ranges: strconv.Atoi: parsing \"5xx\": invalid syntax"
        );
        assert_eq!(
            built("{attempts: 2, status: ['500-']}").unwrap_err(),
            "creating HTTP code ranges: strconv.Atoi: parsing \"\": invalid syntax"
        );
    }

    #[test]
    fn marks_requests_only_with_attempts_to_spare() {
        let one = built("{attempts: 1}").unwrap();
        let mut head = crate::middleware::tests_support::get("/");
        let cx = crate::middleware::tests_support::cx();
        assert_eq!(one.on_request(&mut head, &cx), RequestAction::Continue);
        let three = built("{attempts: 3, status: ['502', '520-530']}").unwrap();
        let RequestAction::Retry(p) = three.on_request(&mut head, &cx) else {
            panic!("not marked");
        };
        assert_eq!(p.status, vec![(502, 502), (520, 530)]);
        assert!(p.network);
        assert_eq!(p.max_request_body_bytes, 2 << 20);
        assert!(p.retries_status("GET", 525) && !p.retries_status("GET", 503));
        assert!(!p.retries_status("POST", 502) && !p.keeps_body("PATCH"));
        assert!(p.keeps_body("PUT"));
    }

    #[test]
    fn backs_off_as_cenkalti_with_the_doubling_multiplier() {
        let p = built("{attempts: 3, initialInterval: 100ms}")
            .unwrap()
            .policy;
        let mut b = BackOff::new(&p);
        // Randomised within ±50 % of the interval, which grows by √2 per attempt.
        assert_eq!(b.next(&p, 0, 0.0), Some(50_000_000));
        let second = b.next(&p, 0, 0.999_999).unwrap();
        assert!((212_000_000..=212_200_000).contains(&second), "{second}");
        let zero = built("{attempts: 3}").unwrap().policy;
        assert_eq!(BackOff::new(&zero).next(&zero, 0, 0.5), Some(0));
        // Fifteen minutes after the first attempt the back-off gives up.
        assert_eq!(b.next(&p, MAX_ELAPSED, 0.5), None);
    }
}
