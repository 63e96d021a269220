//! `circuitBreaker` (Traefik `pkg/middlewares/circuitbreaker`, oxy's `cbreaker`): watches the
//! answers of what comes after it (the next middlewares and the service) and, when its
//! expression holds, answers `responseCode` itself for `fallbackDuration`, then lets a growing
//! share of requests through for `recoveryDuration`, then serves normally again.
//!
//! - **Standby:** requests go on; each answer is counted ([`super::circuit_metrics`]: status,
//!   time from the request to the answer's head) and, at most once per `checkPeriod`, the
//!   expression is checked; when it holds the breaker trips and forgets its counts.
//! - **Tripped:** every request is answered `responseCode` with its status text until
//!   `fallbackDuration` has passed, then the breaker is recovering.
//! - **Recovering:** a request goes on when letting it keeps the share let through below a
//!   target rising from 0 to ½ over `recoveryDuration`; after it, standby. Answers are counted
//!   and checked as in standby, so the breaker may trip again.
//!
//! One breaker per router using the middleware, shared by all workers (Traefik builds one per
//! router). A request's latency is taken at its answer's head, where Go's ends when the body
//! has been written.

use std::sync::Mutex;

use super::circuit_expression::Condition;
use super::circuit_metrics::Metrics;
use super::{Middleware, RequestAction, RequestContext};
use crate::config::dynamic;
use crate::http::{LocalResponse, RequestHead, ResponseHead};

/// oxy's defaults, kept when the configuration gives zero or less.
const DEFAULT_CHECK_PERIOD: u64 = 100_000_000;
const DEFAULT_FALLBACK: u64 = 10_000_000_000;
const DEFAULT_RECOVERY: u64 = 10_000_000_000;

/// The built `circuitBreaker` middleware.
#[derive(Debug)]
pub struct CircuitBreaker {
    condition: Condition,
    check_period: u64,
    fallback: u64,
    recovery: u64,
    response_code: i64,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    mode: Mode,
    /// The end of the fallback or recovery.
    until: u64,
    /// The next time the expression may be checked (`None`: at once).
    next_check: Option<u64>,
    ratio: Ratio,
    metrics: Metrics,
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
enum Mode {
    #[default]
    Standby,
    Tripped,
    Recovering,
}

/// The share of requests let through while recovering (oxy's `ratioController`).
#[derive(Debug, Default)]
struct Ratio {
    start: u64,
    allowed: u64,
    denied: u64,
}

impl Ratio {
    fn allow(&mut self, now: u64, duration: u64) -> bool {
        let target = 0.5 / duration as f64 * now.saturating_sub(self.start) as f64;
        let share = (self.allowed + 1) as f64 / (self.allowed + 1 + self.denied) as f64;
        if share < target {
            self.allowed += 1;
            true
        } else {
            self.denied += 1;
            false
        }
    }
}

fn positive_or(d: crate::config::Duration, default: u64) -> u64 {
    if d.0 > 0 {
        d.0 as u64
    } else {
        default
    }
}

impl CircuitBreaker {
    /// Builds `circuitBreaker`; an expression oxy refuses is the error.
    pub fn new(cfg: &dynamic::CircuitBreaker) -> Result<Self, String> {
        let condition = Condition::parse(&cfg.expression)?;
        Ok(CircuitBreaker {
            condition,
            check_period: positive_or(cfg.check_period, DEFAULT_CHECK_PERIOD),
            fallback: positive_or(cfg.fallback_duration, DEFAULT_FALLBACK),
            recovery: positive_or(cfg.recovery_duration, DEFAULT_RECOVERY),
            response_code: cfg.response_code,
            state: Mutex::default(),
        })
    }

    /// Whether a request at `now` gets the fallback answer (oxy's `activateFallback`).
    fn falls_back(&self, s: &mut State, now: u64) -> bool {
        if s.mode == Mode::Tripped {
            if now < s.until {
                return true;
            }
            s.mode = Mode::Recovering;
            s.until = now.saturating_add(self.recovery);
            s.ratio = Ratio {
                start: now,
                ..Ratio::default()
            };
        }
        if s.mode == Mode::Recovering {
            if now > s.until {
                s.mode = Mode::Standby;
                s.until = now;
                return false;
            }
            return !s.ratio.allow(now, self.recovery);
        }
        false
    }

    /// The fallback answer: `responseCode` and its status text (Go's `WriteHeader` refuses a
    /// code outside 100–999; Traefik's recovery then answers 500).
    fn fallback_answer(&self) -> LocalResponse {
        match u16::try_from(self.response_code) {
            Ok(code) if (100..=999).contains(&code) => {
                LocalResponse::new(code, crate::http::status_text(code))
            }
            _ => LocalResponse::go_error(500, "Internal Server Error"),
        }
    }
}

impl Middleware for CircuitBreaker {
    fn has_response_side(&self) -> bool {
        true
    }

    fn on_request(&self, _head: &mut RequestHead, cx: &RequestContext<'_>) -> RequestAction {
        let Ok(mut s) = self.state.lock() else {
            return RequestAction::Continue;
        };
        if self.falls_back(&mut s, cx.now) {
            return RequestAction::Respond(self.fallback_answer());
        }
        RequestAction::Continue
    }

    /// Counts the answer, then checks the expression when `checkPeriod` has passed (oxy's
    /// `serve` and `checkAndSet`).
    fn on_response(
        &self,
        head: &mut ResponseHead,
        _request: &RequestHead,
        cx: &RequestContext<'_>,
    ) {
        let Ok(mut s) = self.state.lock() else {
            return;
        };
        let now = cx.now;
        s.metrics
            .record(head.status, now.saturating_sub(cx.started), now);
        if s.next_check.is_some_and(|at| now <= at) {
            return;
        }
        s.next_check = Some(now.saturating_add(self.check_period));
        if s.mode == Mode::Tripped {
            return;
        }
        if !self.condition.holds(&mut s.metrics, now) {
            return;
        }
        s.mode = Mode::Tripped;
        s.until = now.saturating_add(self.fallback);
        s.metrics.reset(now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::{Headers, Version};
    use crate::middleware::tests_support::{cx, get};

    const MS: u64 = 1_000_000;
    const S: u64 = 1_000_000_000;

    fn build(yaml: &str) -> Result<CircuitBreaker, String> {
        let doc = format!("http:\n  middlewares:\n    m:\n      circuitBreaker: {yaml}\n");
        let l = crate::config::dynamic::load_dynamic(&doc, crate::config::Format::Yaml, None);
        assert!(!l.is_fatal(), "{:?}", l.diagnostics);
        let http = l.config.http.unwrap();
        CircuitBreaker::new(http.middlewares["m"].circuit_breaker.as_deref().unwrap())
    }

    /// Sends a request at `at` answered `status` after `took`: the fallback's status, or
    /// `None` when it went on.
    fn exchange(cb: &CircuitBreaker, at: u64, status: u16, took: u64) -> Option<u16> {
        let mut c = cx();
        c.now = at;
        c.started = at;
        match cb.on_request(&mut get("/"), &c) {
            RequestAction::Continue => {}
            RequestAction::Respond(r) => return Some(r.status),
            other => panic!("{other:?}"),
        }
        let mut head = ResponseHead {
            status,
            version: Version::Http11,
            headers: Headers::new(),
        };
        c.now = at + took;
        cb.on_response(&mut head, &get("/"), &c);
        None
    }

    #[test]
    fn trips_falls_back_recovers() {
        let cb = build(
            "{expression: 'NetworkErrorRatio() > 0.5', fallbackDuration: 2s, recoveryDuration: 4s, responseCode: 418}",
        )
        .unwrap();
        let t = 10 * S;
        assert_eq!(exchange(&cb, t, 200, MS), None);
        // The expression is checked at most every 100 ms: 2 errors of 3 trip at 100 ms on.
        assert_eq!(exchange(&cb, t + 10 * MS, 502, MS), None);
        assert_eq!(exchange(&cb, t + 20 * MS, 504, MS), None);
        assert_eq!(exchange(&cb, t + 30 * MS, 200, MS), None, "not checked yet");
        assert_eq!(
            exchange(&cb, t + 110 * MS, 200, MS),
            None,
            "checked: 2 of 5"
        );
        assert_eq!(exchange(&cb, t + 150 * MS, 502, MS), None);
        assert_eq!(exchange(&cb, t + 160 * MS, 502, MS), None);
        assert_eq!(
            exchange(&cb, t + 220 * MS, 502, MS),
            None,
            "checked: 5 of 8 trips"
        );
        assert_eq!(exchange(&cb, t + 230 * MS, 200, MS), Some(418));
        assert_eq!(exchange(&cb, t + 2 * S, 200, MS), Some(418));
        // Recovering from 2.222 s: the first request is refused (target 0), then a share.
        let r = t + 2 * S + 222 * MS;
        assert_eq!(exchange(&cb, r, 200, MS), Some(418));
        let mut allowed = 0;
        for i in 1..=40 {
            if exchange(&cb, r + i * 100 * MS, 200, MS).is_none() {
                allowed += 1;
            }
        }
        assert!((15..=21).contains(&allowed), "{allowed} of 40 let through");
        // After the recovery, standby.
        assert_eq!(exchange(&cb, r + 4 * S + MS, 200, MS), None);
        assert_eq!(exchange(&cb, r + 4 * S + 2 * MS, 200, MS), None);
    }

    #[test]
    fn latency_and_code_ratio() {
        let cb = build("{expression: 'LatencyAtQuantileMS(50.0) > 100'}").unwrap();
        assert_eq!(exchange(&cb, S, 200, 150 * MS), None);
        assert_eq!(exchange(&cb, S + 200 * MS, 200, MS), Some(503));
        let cb =
            build("{expression: 'ResponseCodeRatio(500, 600, 0, 600) > 0.25', checkPeriod: 1ms}")
                .unwrap();
        assert_eq!(exchange(&cb, S, 200, MS), None);
        assert_eq!(exchange(&cb, S + 10 * MS, 200, MS), None);
        assert_eq!(exchange(&cb, S + 20 * MS, 200, MS), None);
        assert_eq!(
            exchange(&cb, S + 30 * MS, 500, MS),
            None,
            "1 of 4 is not above 0.25"
        );
        assert_eq!(exchange(&cb, S + 40 * MS, 500, MS), None, "2 of 5 is");
        assert_eq!(exchange(&cb, S + 50 * MS, 200, MS), Some(503));
    }

    #[test]
    fn configuration() {
        assert!(build("{expression: 'Nope() > 1'}").is_err());
        let cb = build("{expression: 'RequestThreshold() > 0', checkPeriod: 0s, responseCode: 0}")
            .unwrap();
        assert_eq!(cb.check_period, DEFAULT_CHECK_PERIOD);
        assert_eq!(cb.fallback_answer().status, 500);
        assert_eq!(exchange(&cb, S, 200, MS), None);
        assert_eq!(exchange(&cb, S + MS, 200, MS), Some(500));
        let cb = build("{expression: 'RequestThreshold() > 0'}").unwrap();
        let answer = cb.fallback_answer();
        assert_eq!(
            (answer.status, answer.body.as_slice()),
            (503, &b"Service Unavailable"[..])
        );
    }
}
