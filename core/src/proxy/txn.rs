//! One request in flight on a downstream connection.

use crate::h1::BodyDecoder;

use super::io::ConnId;

/// The response side of a transaction, once the upstream's head arrived.
pub(super) struct Resp {
    pub decoder: BodyDecoder,
    /// Re-encode the body as chunked (the upstream's framing was chunked or close-delimited).
    pub chunked_out: bool,
    /// The upstream connection can be reused afterwards.
    pub upstream_keep_alive: bool,
    pub status: u16,
    /// The body is gzip the proxy asked for itself: it is decompressed on the way (Go's
    /// transport does so transparently).
    pub gunzip: Option<Box<crate::http::gunzip::Gunzip>>,
    /// A `compress` middleware compresses the body on its way out.
    pub compress: Option<Box<crate::http::compress::Compressor>>,
    /// Body bytes sent to the client when they are not the backend's as decoded (the body
    /// was decompressed or compressed on the way), for access logs.
    pub recoded: Option<u64>,
}

impl Resp {
    /// Body bytes sent to the client so far.
    pub fn sent_body(&self) -> u64 {
        self.recoded.unwrap_or_else(|| self.decoder.decoded())
    }

    /// Counts `n` body bytes sent after decompressing or compressing.
    pub fn sent_recoded(&mut self, n: usize) {
        if let Some(r) = &mut self.recoded {
            *r += n as u64;
        }
    }
}

/// A request being proxied.
pub(super) struct Txn {
    /// The upstream connection serving it.
    pub up: Option<ConnId>,
    pub req_body: BodyDecoder,
    /// Re-encode the request body as chunked.
    pub req_chunked: bool,
    /// The request head for the upstream while it is still connecting (sent before
    /// `pending`).
    pub pending_head: Option<bytes::Bytes>,
    /// Request body bytes for the upstream while it is still connecting.
    pub pending: Vec<u8>,
    pub request_done: bool,
    /// Interim responses relayed so far.
    pub interim: u32,
    /// The upstream connection came from the pool (it may have died while idle).
    pub reused: bool,
    /// The upstream request head, kept to retry an idempotent request once on a new connection
    /// when a pooled connection turns out dead (as Go's transport does).
    pub retry_head: Option<bytes::Bytes>,
    /// The request may be sent again on a new connection if a reused one dies before
    /// answering (idempotent, no body, no upgrade): decides `retry_head` when the request is
    /// handed a pooled connection after it started dialling.
    pub retryable: bool,
    /// The backend server's address, for a retry.
    pub key: super::worker::ServerKey,
    /// The service's transport settings, for a retry.
    pub transport: super::compile::TransportSettings,
    /// The client spoke HTTP/1.0: answers are `HTTP/1.0`, never chunked.
    pub http10: bool,
    pub head_request: bool,
    /// The client connection stays open after the response.
    pub keep_alive: bool,
    /// The protocol the request asks to upgrade to (its `Upgrade` value), when it does.
    pub upgrade: Option<Vec<u8>>,
    pub resp: Option<Resp>,
    pub response_header_timeout: crate::config::Duration,
    pub method: crate::http::Method,
    /// Its access-log record (see `proxy::access`), when it has one.
    pub access: Option<Box<super::access::AccessRecord>>,
    /// The middlewares the request went through, for the response side (run only when one of
    /// them has one: see `mw_request`).
    pub middlewares: crate::middleware::Chain,
    /// The request head as the middlewares left it and the entry point's name, for their
    /// response side (only kept when some middleware has one).
    pub mw_request: Option<(crate::http::RequestHead, std::sync::Arc<str>)>,
    pub client_ip: Option<std::net::IpAddr>,
    /// When the request was routed (the worker's clock), for the response side.
    pub started: u64,
    pub absolute_target: Option<String>,
    /// The client connection is TLS.
    pub tls: bool,
    /// The proxy added `Accept-Encoding: gzip` to the request (the client sent none).
    pub requested_gzip: bool,
    /// `Expect: 100-continue` towards an HTTP/1.1 backend: the body waits (the client is not
    /// asked for it) until the backend answers 100, which is relayed, or
    /// [`EXPECT_CONTINUE_TIMEOUT`] after the head went out, as Go's transport does.
    pub awaiting_continue: bool,
    /// The backend gave its final answer before asking for the body: the body is never sent,
    /// and the client's connection closes after the answer (Go's server never read it).
    pub body_refused: bool,
    /// `Set-Cookie` values of sticky services, for the answer (before the backend's own).
    pub sticky_cookies: Vec<bytes::Bytes>,
    /// Until when the answer's head waits for its body's first bytes (`contentType`).
    pub sniff_wait: Option<super::io::Timestamp>,
    /// Places held by `inFlightReq` middlewares, given back when the transaction is dropped
    /// (kept for that alone).
    #[allow(dead_code)]
    pub held: Vec<crate::middleware::InFlight>,
    /// The configuration, service and server of a request whose service has a passive
    /// health check, to report how it ended.
    pub passive: Option<(std::sync::Arc<super::compile::CompiledConfig>, usize, usize)>,
    /// What `retry`, `compress`, `errors` and `forwardAuth` middlewares left with the
    /// exchange (most meet none: one pointer to carry).
    pub extra: Option<Box<TxnExtra>>,
}

/// What some middlewares leave with an exchange (see [`Txn::extra`]).
#[derive(Default)]
pub(super) struct TxnExtra {
    /// The `retry` middleware's point of a request it may send again.
    pub retry: Option<Box<super::retry::RetryPoint>>,
    /// The body as sent, kept to send again when a `retry` middleware retries on status
    /// codes (`None` when it is not kept, or grew larger than allowed).
    pub kept_body: Option<Box<super::retry::KeptBody>>,
    /// What `compress` middlewares decided, outermost first (see `proxy::compress`).
    pub compress: Vec<crate::middleware::CompressChoice>,
    /// The status the client gets whatever the answer's (an `errors` page).
    pub status_override: Option<u16>,
    /// The route of a request `errors` middlewares watch, to send their page request (see
    /// `proxy::errors`).
    pub page: Option<Box<super::down::Routed>>,
    /// A `forwardAuth` exchange: the request waiting for this auth answer.
    pub auth: Option<Box<super::forward_auth::AuthWait>>,
    /// Cookies of auth answers for the response (`addAuthCookiesToResponse`).
    pub auth_cookies: Vec<AuthCookies>,
    /// The request counted in flight to its server (a `p2c` service), until it is dropped.
    #[allow(dead_code)]
    pub inflight: Option<super::compile::InFlightServer>,
}

impl TxnExtra {
    /// Whether any middleware left something.
    pub fn is_used(&self) -> bool {
        self.retry.is_some()
            || self.kept_body.is_some()
            || !self.compress.is_empty()
            || self.status_override.is_some()
            || self.page.is_some()
            || self.auth.is_some()
            || !self.auth_cookies.is_empty()
            || self.inflight.is_some()
    }
}

/// The cookies of an auth answer, and the `forwardAuth` settings that merge them.
pub(super) type AuthCookies = (
    std::sync::Arc<crate::middleware::ForwardAuthPolicy>,
    Vec<bytes::Bytes>,
);

/// How long the body of an `Expect: 100-continue` request waits for the backend's 100 (Go's
/// `ExpectContinueTimeout` in Traefik's transport).
pub(super) const EXPECT_CONTINUE_TIMEOUT: crate::config::Duration =
    crate::config::Duration(1_000_000_000);

impl Txn {
    /// The `errors` middlewares the request went through, outermost first.
    pub fn errors(&self) -> &[(usize, crate::middleware::ErrorsMark)] {
        self.extra
            .as_ref()
            .and_then(|x| x.page.as_ref())
            .and_then(|p| p.extra.as_ref())
            .map_or(&[], |e| &e.errors)
    }

    /// Puts the sticky cookies in `head`, before its own `Set-Cookie` lines (the order Go's
    /// proxy gives: the balancer's `SetCookie`, then the backend's lines added), then runs
    /// the response side of the middlewares.
    pub fn finish_response_head(
        &self,
        head: &mut crate::http::ResponseHead,
        now: super::io::Timestamp,
    ) {
        if !self.sticky_cookies.is_empty() {
            head.headers
                .prepend_shared("Set-Cookie", &self.sticky_cookies);
        }
        if let Some(x) = &self.extra {
            for (policy, cookies) in &x.auth_cookies {
                policy.merge_cookies(&mut head.headers, cookies);
            }
        }
        self.apply_response_middlewares(head, now);
    }

    /// Reports a final answer of `status` (or Traefik's own 502/504 for a backend that gave
    /// none) to the service's passive health check.
    pub fn report_outcome(&self, status: u16, now: super::io::Timestamp) {
        if let Some((config, service, server)) = &self.passive {
            if let Some(s) = config.services.get(*service) {
                s.report(*server, status >= 500, now);
            }
        }
    }

    /// Runs the response side of the middlewares over `head`.
    pub fn apply_response_middlewares(
        &self,
        head: &mut crate::http::ResponseHead,
        now: super::io::Timestamp,
    ) {
        let Some((request, entry_point)) = &self.mw_request else {
            return;
        };
        let cx = crate::middleware::RequestContext {
            client_ip: self.client_ip,
            tls: self.tls,
            entry_point,
            absolute_target: self.absolute_target.as_deref(),
            now: now.0,
            started: self.started,
            peer_certificates: &[],
        };
        for m in self.middlewares.iter().rev() {
            m.on_response(head, request, &cx);
        }
    }
}
