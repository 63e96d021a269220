//! The `forwardAuth` middleware's exchange with the auth server: the request waits (its body
//! unread) while the auth request goes out on a connection of its own, as Go's client sends
//! it; the answer is read whole (decompressed when the proxy asked for gzip, bounded by
//! `maxResponseBodySize`), then decides: the client gets it, or the request goes on through
//! the next middleware with the auth server's lines. An auth server that cannot be reached,
//! or answers what Go's client cannot read, is Traefik's empty 500.

use std::sync::Arc;

use crate::h1::{parse_response, BodyDecoder, Decoded, Framing, ParsedRequest};
use crate::http::LocalResponse;
use crate::middleware::{AuthCall, AuthOutcome, RequestContext};

use super::down::{respond_through, Routed};
use super::io::{ConnId, Timestamp};
use super::txn::{Resp, Txn};
use super::worker::{DState, Worker};

/// Decompressed bytes produced per step for a gzip auth answer.
const GUNZIP_STEP: usize = 64 * 1024;

/// A request waiting for its auth answer.
pub(super) struct AuthWait {
    pub call: Box<AuthCall>,
    pub req: ParsedRequest,
    pub routed: Routed,
    /// The `forwardAuth` middleware's place in the chain.
    pub at: usize,
    /// The answer's status and lines, once its head came.
    pub head: Option<(u16, crate::http::Headers)>,
    pub body: Vec<u8>,
}

impl Worker {
    /// Sends the auth request `call` of the middleware at `at` for `req`.
    pub(super) fn start_auth(
        &mut self,
        now: Timestamp,
        id: ConnId,
        req: ParsedRequest,
        routed: Routed,
        at: usize,
        call: Box<AuthCall>,
    ) {
        let wait = AuthWait {
            call,
            req,
            routed,
            at,
            head: None,
            body: Vec::new(),
        };
        let Ok(server) = wait.call.policy.server.clone() else {
            return self.auth_answer(id, wait, LocalResponse::new(500, Vec::new()));
        };
        let call = &wait.call;
        let tls_id = call.policy.tls.as_ref().map_or(0, |t| t.id);
        let key: super::worker::ServerKey = (
            Arc::from(server.host.as_str()),
            server.port,
            tls_id,
            super::h2up::PROTO_HTTP1,
        );
        let transport = super::compile::TransportSettings {
            dial_timeout: crate::middleware::AUTH_TIMEOUT,
            response_header_timeout: crate::middleware::AUTH_TIMEOUT,
            idle_conn_timeout: crate::middleware::AUTH_TIMEOUT,
            max_idle_per_host: 0,
            tls: call.policy.tls.clone(),
            flush_interval: crate::config::Duration::from_millis(100),
        };
        let head_bytes = bytes::Bytes::from(crate::h1::upstream_request_head(
            &call.head,
            &call.head.host,
            call.gzip,
        ));
        let head_request = call.head.method == "HEAD";
        let requested_gzip = call.gzip;
        let method = call.head.method.clone();
        let (client_ip, tls) = (wait.routed.client_ip, wait.routed.tls);
        let (up, _) = self.open_upstream(now, &key, &transport, false);
        let txn = Txn {
            up: Some(up),
            req_body: BodyDecoder::new(Framing::Empty),
            req_chunked: false,
            pending_head: Some(head_bytes),
            pending: Vec::new(),
            request_done: true,
            interim: 0,
            reused: false,
            retry_head: None,
            retryable: false,
            key,
            transport: transport.clone(),
            http10: false,
            head_request,
            keep_alive: true,
            upgrade: None,
            resp: None,
            response_header_timeout: transport.response_header_timeout,
            method,
            access: None,
            middlewares: crate::middleware::Chain::new(Vec::new()),
            mw_request: None,
            client_ip,
            started: wait.routed.started.0,
            absolute_target: None,
            tls,
            requested_gzip,
            awaiting_continue: false,
            body_refused: false,
            sticky_cookies: Vec::new(),
            sniff_wait: None,
            held: Vec::new(),
            passive: None,
            extra: Some(Box::new(super::txn::TxnExtra {
                auth: Some(Box::new(wait)),
                ..Default::default()
            })),
        };
        let Some(d) = self.down.get_mut(&id) else {
            return self.close_up(up);
        };
        d.state = DState::Active(Box::new(txn));
        if let Some(u) = self.up.get_mut(&up) {
            u.down = Some(id);
        }
    }

    /// Reads the auth answer from upstream `id` for the request on `down`.
    pub(super) fn drive_auth(&mut self, now: Timestamp, id: ConnId, down: ConnId) {
        loop {
            let (Some(u), Some(d)) = (self.up.get_mut(&id), self.down.get_mut(&down)) else {
                return;
            };
            let DState::Active(txn) = &mut d.state else {
                return self.close_up(id);
            };
            let Some(wait) = txn.extra.as_mut().and_then(|x| x.auth.as_mut()) else {
                return;
            };
            let Some(resp) = &mut txn.resp else {
                match parse_response(u.input.bytes(), txn.head_request) {
                    Err(_) => {
                        self.close_up(id);
                        return self.auth_failed(down);
                    }
                    Ok(None) => return u.input.keep_rest(),
                    Ok(Some((parsed, n))) => {
                        u.input.consume(n);
                        u.deadline = None;
                        let mut head = parsed.head;
                        if (100..200).contains(&head.status) && head.status != 101 {
                            // Go's client reads past interim answers.
                            continue;
                        }
                        let gunzip =
                            super::up::undo_gzip(txn.requested_gzip, parsed.framing, &mut head);
                        wait.head = Some((head.status, head.headers));
                        txn.resp = Some(Resp {
                            decoder: BodyDecoder::new(parsed.framing),
                            chunked_out: false,
                            upstream_keep_alive: false,
                            status: head.status,
                            gunzip: gunzip.then(Box::default),
                            compress: None,
                            recoded: None,
                        });
                        continue;
                    }
                }
            };
            let (limit, traefik_limit) = wait.call.policy.body_limit();
            if let Some(g) = &mut resp.gunzip {
                if g.has_pending() || resp.decoder.is_done() {
                    let mut out = Vec::new();
                    let step = g.produce(GUNZIP_STEP, &mut out);
                    let finished = resp.decoder.is_done() && out.is_empty() && step.is_ok();
                    if step.is_err() || (finished && g.finish().is_err()) {
                        self.close_up(id);
                        return self.auth_failed(down);
                    }
                    if !out.is_empty() {
                        wait.body.extend_from_slice(&out);
                        if wait.body.len() as u64 > limit {
                            self.close_up(id);
                            return self.auth_too_large(down, traefik_limit);
                        }
                        continue;
                    }
                }
            }
            if resp.decoder.is_done() {
                self.close_up(id);
                return self.auth_answered(now, down);
            }
            match resp.decoder.decode(u.input.bytes()) {
                Err(_) => {
                    self.close_up(id);
                    return self.auth_failed(down);
                }
                Ok((n, Decoded::Data(range))) => {
                    match &mut resp.gunzip {
                        Some(g) => g.feed(&u.input.bytes()[range]),
                        None => wait.body.extend_from_slice(&u.input.bytes()[range]),
                    }
                    u.input.consume(n);
                    if wait.body.len() as u64 > limit {
                        self.close_up(id);
                        return self.auth_too_large(down, traefik_limit);
                    }
                }
                Ok((n, Decoded::NeedMore)) => {
                    u.input.consume(n);
                    return u.input.keep_rest();
                }
                Ok((n, Decoded::Done)) => u.input.consume(n),
            }
        }
    }

    /// Takes the auth wait of the request on `down` (its state goes back to reading heads).
    fn take_auth(&mut self, down: ConnId) -> Option<AuthWait> {
        let d = self.down.get_mut(&down)?;
        if !matches!(&d.state, DState::Active(t) if t.extra.as_ref().is_some_and(|x| x.auth.is_some()))
        {
            return None;
        }
        let DState::Active(txn) = std::mem::replace(&mut d.state, DState::Head) else {
            return None;
        };
        let mut txn = *txn;
        if let Some(up) = txn.up.take() {
            self.close_up(up);
        }
        txn.extra.as_mut().and_then(|x| x.auth.take()).map(|w| *w)
    }

    /// Whether the request on `down` waits for an auth answer.
    pub(super) fn awaits_auth(&self, down: ConnId) -> bool {
        self.down
            .get(&down)
            .is_some_and(|d| matches!(&d.state, DState::Active(t) if t.extra.as_ref().is_some_and(|x| x.auth.is_some())))
    }

    /// The auth server could not be asked, or its answer not read: Traefik's empty 500.
    pub(super) fn auth_failed(&mut self, down: ConnId) {
        if let Some(wait) = self.take_auth(down) {
            self.auth_answer(down, wait, LocalResponse::new(500, Vec::new()));
        }
    }

    /// The auth answer's body is larger than allowed: 401 past `maxResponseBodySize`, 500
    /// past the proxy's own bound.
    fn auth_too_large(&mut self, down: ConnId, traefik_limit: bool) {
        if let Some(wait) = self.take_auth(down) {
            let status = if traefik_limit { 401 } else { 500 };
            self.auth_answer(down, wait, LocalResponse::new(status, Vec::new()));
        }
    }

    /// The auth answer is here whole: it decides.
    pub(super) fn auth_answered(&mut self, now: Timestamp, down: ConnId) {
        let Some(mut wait) = self.take_auth(down) else {
            return;
        };
        let Some((status, headers)) = wait.head.take() else {
            return self.auth_answer(down, wait, LocalResponse::new(500, Vec::new()));
        };
        let body = std::mem::take(&mut wait.body);
        let policy = wait.call.policy.clone();
        match policy.outcome(status, &headers, body) {
            AuthOutcome::Respond(resp) => self.auth_answer(down, wait, resp),
            AuthOutcome::Continue {
                set,
                clear_regex,
                cookies,
            } => {
                let AuthWait {
                    mut req,
                    mut routed,
                    at,
                    ..
                } = wait;
                policy.apply(&mut req.head, &set, clear_regex);
                if policy.merges_cookies() && !cookies.is_empty() {
                    routed.extra().auth_cookies.push((policy, cookies));
                }
                self.run_chain(now, down, req, routed, at + 1);
            }
        }
    }

    /// Answers the waiting request with `resp`, through the middlewares before the
    /// `forwardAuth` one.
    fn auth_answer(&mut self, down: ConnId, wait: AuthWait, resp: LocalResponse) {
        let routed = &wait.routed;
        let config = routed.config.clone();
        let Some(ep) = config.entry_points.get(routed.ep) else {
            return self.close_down(down);
        };
        let cx = RequestContext {
            client_ip: routed.client_ip,
            tls: routed.tls,
            entry_point: &ep.name,
            absolute_target: routed.absolute_target.as_deref(),
            now: self.now.0,
            started: routed.started.0,
            peer_certificates: &[],
        };
        let chain = &routed.chain[..wait.at.min(routed.chain.len())];
        let resp = respond_through(chain, resp, &wait.req.head, &cx);
        let mut wait = wait;
        let access = wait.routed.access.take();
        self.local_response(down, resp, &wait.req, access);
    }
}
