//! The `retry` middleware's attempts (Traefik `pkg/middlewares/retry`): a request a `retry`
//! middleware marked keeps the request as the middleware saw it ([`RetryPoint`]). When an
//! attempt fails before its head went to the backend (the dial or the TLS handshake failed:
//! Traefik's "network error"), or (3.7 `status`) the backend answers a retried code, the
//! request waits its back-off, then goes again through the middlewares after `retry` and the
//! service's balancer, so another server may take it.
//!
//! The body goes with it: while no byte of it reached the backend, what was read is carried
//! to the next attempt; for status retries the body is kept as it is sent, up to
//! `maxRequestBodyBytes` (a larger one turns status retries off for that request, as in
//! Traefik). The last attempt answers whatever comes, as Traefik's does. Interim (1xx)
//! answers other than the backend's `100 Continue` are not relayed while a retry may follow
//! (Traefik's retry writer drops them).

use std::sync::Arc;

use crate::h1::{BodyDecoder, ParsedRequest};
use crate::middleware::{BackOff, RetryPolicy};

use super::down::{Delayed, Routed};
use super::io::{ConnId, Timestamp};
use super::worker::{DState, Worker};

/// Where a `retry` middleware marked a request: what its next attempt starts from.
pub(super) struct RetryPoint {
    pub policy: Arc<RetryPolicy>,
    /// The request as the middleware saw it.
    pub req: ParsedRequest,
    /// The route as it stood then (with an outer `retry` middleware's point, if any).
    pub routed: Routed,
    /// Places `inFlightReq` middlewares before this one held (later ones are given back
    /// between attempts, and taken again by the next).
    pub held: usize,
    /// The middleware after `retry`.
    pub next: usize,
    /// The attempt running, from 1.
    pub attempt: u32,
    /// When the first attempt started (the `timeout` counts from it).
    pub start: Timestamp,
    pub backoff: BackOff,
}

impl RetryPoint {
    /// The point `policy` sets at middleware `at` for `req`, routed as `routed`.
    pub fn new(
        policy: Arc<RetryPolicy>,
        req: &ParsedRequest,
        routed: &Routed,
        at: usize,
        now: Timestamp,
    ) -> Self {
        RetryPoint {
            backoff: BackOff::new(&policy),
            policy,
            req: req.clone(),
            routed: routed.snapshot(),
            held: routed.held.len(),
            next: at + 1,
            attempt: 1,
            start: now,
        }
    }

    /// A copy (an inner point keeps its outer one's state as it was when it was set).
    pub fn snapshot(&self) -> Self {
        RetryPoint {
            policy: self.policy.clone(),
            req: self.req.clone(),
            routed: self.routed.snapshot(),
            held: self.held,
            next: self.next,
            attempt: self.attempt,
            start: self.start,
            backoff: self.backoff.clone(),
        }
    }

    /// How much body status retries of a `method` request keep, from the innermost `retry`
    /// that retries on status codes; `None` when none does.
    pub fn body_limit(&self, method: &str) -> Option<i64> {
        let mut point = Some(self);
        while let Some(p) = point {
            if p.policy.keeps_body(method) {
                return Some(p.policy.max_request_body_bytes);
            }
            point = p.routed.extra.as_ref().and_then(|e| e.retry.as_deref());
        }
        None
    }

    /// Whether this point retries after `failure` at `now`.
    fn takes(&self, failure: Failure, method: &str, now: Timestamp) -> bool {
        if self.attempt >= self.policy.attempts
            || self.policy.timed_out(now.0.saturating_sub(self.start.0))
        {
            return false;
        }
        match failure {
            Failure::Network => self.policy.network,
            Failure::Status(code, body_kept) => {
                body_kept && self.policy.retries_status(method, code)
            }
        }
    }
}

/// The request body carried from one attempt to the next.
pub(super) struct CarriedBody {
    /// Where reading the client's body stands.
    pub decoder: BodyDecoder,
    /// The body framed for the backend, read and not sent.
    pub pending: Vec<u8>,
    /// The whole body was read.
    pub done: bool,
    /// The client was not asked for the body yet (`Expect: 100-continue`).
    pub expect_pending: bool,
    /// The body kept for status retries.
    pub kept: Option<Box<KeptBody>>,
}

/// Why an attempt failed.
#[derive(Debug, Clone, Copy)]
pub(super) enum Failure {
    /// Nothing reached the backend (dial, TLS handshake, dial timeout).
    Network,
    /// The backend answered this status; whether the whole body is kept to send again.
    Status(u16, bool),
}

/// The body kept to send again for status retries: the bytes as framed for the backend, and
/// the body's own length, against `maxRequestBodyBytes`.
pub(super) struct KeptBody {
    pub framed: Vec<u8>,
    pub len: u64,
    pub max: i64,
}

impl KeptBody {
    /// Nothing kept yet, at most `max` bytes (negative: no limit).
    pub fn new(max: i64) -> Self {
        KeptBody {
            framed: Vec::new(),
            len: 0,
            max,
        }
    }

    /// Keeps `bytes` (`framed`: as sent, `len` of them the body's own); `false` once the body
    /// is larger than allowed (it is then no longer kept).
    pub fn keep(&mut self, framed: &[u8], len: usize) -> bool {
        self.len += len as u64;
        if self.max >= 0 && self.len > self.max as u64 {
            return false;
        }
        self.framed.extend_from_slice(framed);
        true
    }
}

impl Worker {
    /// An upstream failed before answering (`status` is Traefik's answer for it): the request
    /// is sent again when a `retry` middleware takes the failure, else answered `status`.
    pub(super) fn upstream_failed(&mut self, now: Timestamp, down: ConnId, status: u16) {
        if !self.retry_attempt(now, down, Failure::Network) {
            self.fail_txn(down, status);
        }
    }

    /// An attempt of a request marked by `retry` failed: when a `retry` middleware takes the
    /// failure, the request goes again (after its back-off) and `true` is returned; else the
    /// failure is answered as usual. The caller has closed (or is done with) the upstream.
    pub(super) fn retry_attempt(&mut self, now: Timestamp, down: ConnId, failure: Failure) -> bool {
        let Some(d) = self.down.get_mut(&down) else {
            return false;
        };
        let DState::Active(txn) = &mut d.state else {
            return false;
        };
        if txn.extra.as_ref().is_none_or(|x| x.retry.is_none()) || txn.resp.is_some() {
            return false;
        }
        if matches!(failure, Failure::Network) && txn.pending_head.is_none() {
            // The request went out: Traefik retries only what never reached the backend.
            return false;
        }
        // The innermost `retry` that takes the failure; one that does not leaves it to the
        // one around it.
        let mut point = txn.extra.as_mut().and_then(|x| x.retry.take());
        while let Some(p) = point.as_mut() {
            if p.takes(failure, &txn.method, now) {
                break;
            }
            point = p.routed.extra.as_mut().and_then(|e| e.retry.take());
        }
        let Some(mut point) = point else {
            return false;
        };
        let mut random = super::lb::SplitMix(now.0 ^ (down.0 << 32));
        let random = (random.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
        let elapsed = now.0.saturating_sub(point.start.0);
        let Some(wait) = point.backoff.next(&point.policy, elapsed, random) else {
            return false;
        };
        let status = match failure {
            Failure::Network => 502,
            Failure::Status(code, _) => code,
        };
        txn.report_outcome(status, now);
        let carried = match failure {
            Failure::Network => CarriedBody {
                decoder: txn.req_body.clone(),
                pending: std::mem::take(&mut txn.pending),
                done: txn.request_done,
                expect_pending: txn.awaiting_continue,
                kept: txn.extra.as_mut().and_then(|x| x.kept_body.take()),
            },
            Failure::Status(..) => {
                let kept = txn.extra.as_mut().and_then(|x| x.kept_body.take());
                CarriedBody {
                    decoder: txn.req_body.clone(),
                    pending: kept.as_ref().map(|k| k.framed.clone()).unwrap_or_default(),
                    done: true,
                    expect_pending: false,
                    kept,
                }
            }
        };
        let mut held = std::mem::take(&mut txn.held);
        held.truncate(point.held);
        let access = txn.access.take();
        if let Some(up) = txn.up.take() {
            self.close_up(up);
        }
        point.attempt += 1;
        let req = point.req.clone();
        let next = point.next;
        let mut routed = point.routed.snapshot();
        routed.held = held;
        routed.access = access.map(|mut a| {
            a.retry_attempts += 1;
            a
        });
        routed.extra().carried = Some(Box::new(carried));
        if point.attempt < point.policy.attempts {
            routed.extra().retry = Some(point);
        }
        let Some(d) = self.down.get_mut(&down) else {
            return true;
        };
        if wait == 0 {
            d.state = DState::Head;
            self.run_chain(now, down, req, routed, next);
        } else {
            let at = now.after(crate::config::Duration(
                i64::try_from(wait).unwrap_or(i64::MAX),
            ));
            d.deadline = Some(at);
            d.state = DState::Delayed(Box::new(Delayed { req, routed, next }));
            self.note_deadline(Some(at));
        }
        true
    }
}
