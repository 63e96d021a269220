//! The `errors` middleware on the response path (Traefik's `codeCatcher` and
//! `codeModifier`): an answer whose status an `errors` middleware catches is dropped (its
//! connection closed, where Go reads the body to the end) and a page request goes to the
//! middleware's service instead: GET of its `query` with the request's headers as the
//! middleware saw them, no `X-Forwarded-For` of the proxy's own (Go's page request has no
//! client address). Its answer, or the proxy's own failure, goes to the client with the
//! caught status (or its rewrite), through the middlewares before the `errors` one.

use crate::h1::{ParsedRequest, RequestBody};

use super::io::{ConnId, Timestamp};
use super::worker::{DState, Worker};

impl Worker {
    /// The answer of `status` from upstream `up` to the request on `down`: when an `errors`
    /// middleware catches it, the page request goes instead (and `true` is returned).
    pub(super) fn catch_error_status(
        &mut self,
        now: Timestamp,
        down: ConnId,
        up: ConnId,
        status: u16,
    ) -> bool {
        let Some(d) = self.down.get_mut(&down) else {
            return false;
        };
        let DState::Active(txn) = &mut d.state else {
            return false;
        };
        // The innermost middleware sees the answer first.
        let Some((at, mark, code)) = txn
            .errors()
            .iter()
            .rev()
            .find_map(|(at, mark)| mark.catches(status).map(|code| (*at, mark, code)))
        else {
            return false;
        };
        let Some(target) = txn
            .extra
            .as_ref()
            .and_then(|x| x.page.as_ref())
            .and_then(|p| p.config.service_targets.get(&mark.policy.service).cloned())
        else {
            return false;
        };
        let mut head = mark.page_request(code, status);
        if txn.head_request {
            // Go's server drops the page's body for a HEAD request; asking the page service
            // with HEAD gives the client the same answer without a body to drop.
            head.method = crate::http::Method::Borrowed("HEAD");
        }
        txn.report_outcome(status, now);
        let keep_alive = txn.keep_alive && txn.request_done;
        let held = std::mem::take(&mut txn.held);
        let Some(mut routed) = txn.extra.as_mut().and_then(|x| x.page.take()).map(|r| *r) else {
            return false;
        };
        // The page's answer goes through the middlewares before the `errors` one only.
        routed.chain = crate::middleware::Chain::new(routed.chain[..at].to_vec());
        let extra = routed.extra();
        extra.errors.clear();
        extra.retry = None;
        extra.carried = None;
        extra.target = Some(target);
        extra.status = Some(code);
        routed.client_ip = None;
        routed.held = held;
        routed.access = txn.access.take();
        let req = ParsedRequest {
            head,
            body: RequestBody::None,
            keep_alive,
            expect_continue: false,
            expectation_failed: false,
            upgrade: false,
            absolute_form: false,
            absolute_target: None,
        };
        d.state = DState::Head;
        self.close_up(up);
        let from = routed.chain.len();
        self.run_chain(now, down, req, routed, from);
        true
    }
}
