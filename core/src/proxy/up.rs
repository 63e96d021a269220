//! The backend side: connecting, relaying the response head and body to the client, pooling
//! connections, and turning backend failures into Traefik's answers (502 `Bad Gateway`,
//! 504 `Gateway Timeout`).

use bytes::Bytes;

use crate::h1::{
    encode_response_head, encode_response_head_sized, frame_body, last_chunk, parse_response,
    BodyDecoder, Decoded, Framing,
};
use crate::http::compress::Compressor;
use crate::http::LocalResponse;

use super::discard::After;
use super::forward;
use super::h2up::Mux;
use super::inbox::{detached, SLICE_AT_LEAST};
use super::io::{ConnId, ConnectError, Event, Timestamp};
use super::txn::Resp;
use super::worker::{DState, Transport, UState, Worker, HIGH_WATER};

/// Interim (1xx) responses relayed per request before the backend is considered broken.
const MAX_INTERIM: u32 = 1024;
/// The largest response-head scratch buffer a worker keeps between responses.
const HEAD_SCRATCH_KEPT: usize = 16 * 1024;
/// Decompressed bytes produced per step for a gzip body (bounded, whatever the ratio).
const GUNZIP_STEP: usize = 64 * 1024;
/// How long an idle connection beyond the pool's `maxIdleConnsPerHost` is kept, or its
/// `idleConnTimeout` when that is shorter (the pool hands back the newest first, so these are
/// reused before the others).
pub const SURPLUS_IDLE: crate::config::Duration = crate::config::Duration::from_secs(1);
/// Go's `TLSHandshakeTimeout` in Traefik's transports.
const TLS_HANDSHAKE_TIMEOUT: crate::config::Duration = crate::config::Duration::from_secs(10);

/// Whether a response to a request the proxy asked gzip for itself is gzip to decompress on
/// the way (a body, `Content-Encoding: gzip`); its encoding and length lines then go, as Go's
/// transport removes them.
pub(super) fn undo_gzip(
    requested: bool,
    framing: Framing,
    head: &mut crate::http::ResponseHead,
) -> bool {
    let gunzip = requested
        && !matches!(framing, Framing::Empty | Framing::Length(0))
        && head
            .headers
            .get("Content-Encoding")
            .is_some_and(|v| v.eq_ignore_ascii_case(b"gzip"));
    if gunzip {
        head.headers.remove("Content-Encoding");
        head.headers.remove("Content-Length");
    }
    gunzip
}

impl Worker {
    pub(super) fn up_connected(&mut self, now: Timestamp, id: ConnId) {
        let Some(u) = self.up.get_mut(&id) else {
            return;
        };
        if u.state != UState::Connecting {
            return;
        }
        u.state = UState::Busy;
        u.deadline = None;
        let key = u.key.clone();
        self.forget_dial(&key, id);
        let Some(u) = self.up.get_mut(&id) else {
            return;
        };
        if u.tls_unusable {
            return self.up_tls_failed(id);
        }
        if let Some(tls) = u.tls.as_mut() {
            // The request waits for the handshake (which says the protocol when `h2` was
            // offered), within Go's TLS handshake timeout (504 after it).
            let mut hello = Vec::new();
            tls.flush(&mut hello);
            let deadline = Some(now.after(TLS_HANDSHAKE_TIMEOUT));
            u.deadline = deadline;
            self.note_deadline(deadline);
            self.send_raw(id, hello);
            return;
        }
        let Some(u) = self.up.get(&id) else {
            return;
        };
        if matches!(u.mux, Mux::Session(_)) {
            return self.session_connected(now, id);
        }
        if let Some(down) = u.down {
            self.flush_pending(now, down);
        } else if u.tls.is_none() {
            // Its request took a connection that went idle meanwhile: this one is pooled (or
            // given to another waiting request; past the pool's limit it is kept only for
            // `SURPLUS_IDLE`, and with no pooling it is closed).
            self.release_up(now, id, true);
        } else {
            self.close_up(id);
        }
    }

    /// The TLS handshake with a backend failed (certificate not trusted, not TLS at all, ...):
    /// Go's transport error is not a network error, so Traefik answers 500.
    fn up_tls_failed(&mut self, id: ConnId) {
        let down = self.up.get(&id).and_then(|u| u.down);
        self.close_up(id);
        if let Some(down) = down {
            let now = self.now;
            self.upstream_failed(now, down, 500);
        }
    }

    pub(super) fn up_connect_failed(&mut self, now: Timestamp, id: ConnId, error: ConnectError) {
        if matches!(self.up.get(&id).map(|u| &u.mux), Some(Mux::Session(_))) {
            return self.session_connect_failed(now, id, &error);
        }
        let Some(u) = super::io::remove_shrinking(&mut self.up, &id) else {
            return;
        };
        self.forget_dial(&u.key, id);
        if let Mux::Stream(st) = &u.mux {
            self.stream_up_closed(st, id);
        }
        if let Some(down) = u.down {
            self.upstream_failed(now, down, Self::connect_error_status(&error));
        }
    }

    /// The backend failed before a response head reached the client: answers `status` (502 or
    /// 504 with Go's status text as body) and closes or keeps the client connection.
    pub(super) fn fail_txn(&mut self, down: ConnId, status: u16) {
        if self.awaits_auth(down) {
            return self.auth_failed(down);
        }
        let Some(d) = self.down.get_mut(&down) else {
            return;
        };
        let DState::Active(txn) = &mut d.state else {
            return;
        };
        if txn.resp.is_some() {
            // The response already started: all we can do is cut the client off.
            self.close_down(down);
            return;
        }
        // Kept when the request was read whole; while the client may still be sending the
        // body the backend never took, lingering first.
        let after = match (txn.keep_alive, txn.request_done) {
            (true, true) => After::Keep,
            (true, false) => After::Linger,
            (false, _) => After::Close,
        };
        let head_request = txn.head_request;
        let version = if txn.http10 {
            crate::http::Version::Http10
        } else {
            crate::http::Version::Http11
        };
        let mut access = txn.access.take().map(|mut a| {
            a.origin_status = Some(status);
            a.origin_size = crate::http::status_text(status).len() as u64;
            a.request_size = txn.req_body.decoded();
            a
        });
        txn.report_outcome(status, self.now);
        // An `errors` page request failing still answers the caught status.
        let mut resp = LocalResponse::new(
            txn.extra
                .as_ref()
                .and_then(|x| x.status_override)
                .unwrap_or(status),
            crate::http::status_text(status),
        );
        resp.sniff = txn.middlewares.sniffs_content_type(None);
        if txn.mw_request.is_some() || !txn.sticky_cookies.is_empty() {
            let mut head = crate::http::ResponseHead {
                status,
                version: crate::http::Version::Http11,
                headers: std::mem::take(&mut resp.headers),
            };
            txn.finish_response_head(&mut head, self.now);
            resp.status = head.status;
            resp.headers = head.headers;
        }
        d.state = DState::Head;
        if let Some(a) = &mut access {
            a.origin_answer(&resp.headers);
            a.downstream_answer(&resp.headers);
        }
        self.write_local_answer(down, &resp, head_request, version, after);
        if let Some(a) = access {
            let size = resp.body.len() as u64;
            let now = self.now;
            self.record(Event::Access(*a.end(resp.status, size, now)));
        }
        if after == After::Keep {
            // Requests pipelined behind the failed one are answered next.
            let now = self.now;
            self.drive_down(now, down);
        }
    }

    pub(super) fn up_received(&mut self, now: Timestamp, id: ConnId, data: Bytes) {
        let Some(u) = self.up.get_mut(&id) else {
            return;
        };
        let Some(tls) = u.tls.as_mut() else {
            return self.up_plaintext(now, id, data);
        };
        let mut got = crate::tls::Received::default();
        tls.receive(&data, &mut got);
        let chosen = (u.handshaking && !tls.is_handshaking()).then(|| tls.negotiated_h2());
        self.send_raw(id, got.ciphertext);
        if got.failed {
            return self.up_tls_failed(id);
        }
        if let Some(h2) = chosen {
            if let Some(u) = self.up.get_mut(&id) {
                u.handshaking = false;
                u.deadline = None;
            }
            if h2 {
                self.promote_to_session(now, id);
            } else if let Some(down) = self.up.get(&id).and_then(|u| u.down) {
                self.flush_pending(now, down);
            }
        }
        if !got.plaintext.is_empty() {
            self.up_plaintext(now, id, Bytes::from(got.plaintext));
        }
        if got.peer_closed {
            self.up_eof(now, id, false);
        }
    }

    /// Response bytes from a backend (decrypted, for `https://` servers).
    fn up_plaintext(&mut self, now: Timestamp, id: ConnId, data: Bytes) {
        let Some(u) = self.up.get_mut(&id) else {
            return;
        };
        if matches!(u.mux, Mux::Session(_)) {
            return self.session_received(id, &data);
        }
        match u.state {
            UState::Tunnel => {
                if let Some(down) = u.down {
                    self.send(down, detached(data));
                    self.backpressure(id, down);
                }
            }
            UState::Busy => {
                u.input.receive(data);
                self.drive_up(now, id);
            }
            // Bytes from an idle or connecting backend: it is not speaking HTTP to us.
            UState::Idle | UState::Connecting => self.close_up(id),
        }
    }

    /// Whether the response an upstream is relaying has decoded bytes still to produce, or
    /// received bytes still to decode (a gzip body paused for a slow client: the backend may
    /// have sent everything already, so nothing else would wake it).
    pub(super) fn up_has_pending_output(&self, id: ConnId) -> bool {
        let Some(u) = self.up.get(&id) else {
            return false;
        };
        let Some(down) = u.down else {
            return false;
        };
        let undecoded = !u.input.is_empty();
        matches!(self.down.get(&down).map(|d| &d.state),
            Some(DState::Active(txn)) if txn.resp.as_ref().and_then(|r| r.gunzip.as_ref()).is_some_and(|g| undecoded || g.has_pending()))
    }

    pub(super) fn drive_up(&mut self, now: Timestamp, id: ConnId) {
        loop {
            let Some(u) = self.up.get_mut(&id) else {
                return;
            };
            let Some(down) = u.down else {
                self.close_up(id);
                return;
            };
            let Some(d) = self.down.get_mut(&down) else {
                self.close_up(id);
                return;
            };
            let DState::Active(txn) = &mut d.state else {
                self.close_up(id);
                return;
            };
            if txn.extra.as_ref().is_some_and(|x| x.auth.is_some()) {
                return self.drive_auth(now, id, down);
            }
            let Some(resp) = &mut txn.resp else {
                // Waiting for the response head.
                match parse_response(u.input.bytes(), txn.head_request) {
                    Err(_) => {
                        // A response Go's transport cannot parse is not a network error:
                        // Traefik answers 500.
                        self.close_up(id);
                        self.fail_txn(down, 500);
                        return;
                    }
                    Ok(None) => return u.input.keep_rest(),
                    Ok(Some((parsed, n))) => {
                        if txn.middlewares.sniffs_content_type(None) {
                            let body_here = u.input.bytes().len().saturating_sub(n);
                            if let Some(until) = sniff_hold(txn, &parsed, body_here, now) {
                                // Read again when more comes or the wait is over.
                                u.deadline = Some(until);
                                u.input.keep_rest();
                                return self.note_deadline(Some(until));
                            }
                        }
                        if let Some(f) = txn.extra.as_mut().and_then(|x| x.inflight.as_mut()) {
                            // `leasttime`: the time to the answer's first byte.
                            f.first_byte(now);
                        }
                        if txn.extra.as_ref().is_some_and(|x| x.retry.is_some())
                            && parsed.head.status >= 200
                        {
                            // A `retry` middleware may send the request again on this status
                            // (the body must be here whole, and kept). When it does not, the
                            // answer is read again, now without a retry to follow.
                            let no_body = txn.req_body.framing() == Framing::Empty;
                            let kept = txn.request_done
                                && (no_body
                                    || txn.extra.as_ref().is_some_and(|x| x.kept_body.is_some()));
                            let failure = super::retry::Failure::Status(parsed.head.status, kept);
                            if self.retry_attempt(now, down, failure) {
                                return;
                            }
                            continue;
                        }
                        if parsed.head.status >= 200
                            && !txn.errors().is_empty()
                            && self.catch_error_status(now, down, id, parsed.head.status)
                        {
                            return;
                        }
                        // Not caught: the same connections, borrowed again.
                        let Some(u) = self.up.get_mut(&id) else {
                            return;
                        };
                        let Some(d) = self.down.get_mut(&down) else {
                            return;
                        };
                        let DState::Active(txn) = &mut d.state else {
                            return;
                        };
                        u.input.consume(n);
                        u.deadline = None;
                        let mut head = parsed.head;
                        if let (101, Some(asked)) = (head.status, txn.upgrade.as_deref()) {
                            if !forward::switch_accepted(&head, asked) {
                                self.close_up(id);
                                self.fail_txn(down, 500);
                                return;
                            }
                            forward::downstream_response(&mut head);
                            // Go's proxy writes the backend's 101 as it came (its version
                            // too, whatever the client's).
                            let mut out = Vec::new();
                            let http10 = head.version == crate::http::Version::Http10;
                            encode_response_head(&head, http10, &self.date, &mut out);
                            let rest = u.input.take();
                            u.state = UState::Tunnel;
                            d.state = DState::Tunnel(id);
                            let client_rest = d.input.take();
                            self.send(down, out);
                            self.send(down, rest);
                            self.send(id, client_rest);
                            return;
                        }
                        if head.status == 101 {
                            // Go's transport refuses a 101 to a request that did not ask to
                            // upgrade (Traefik answers 500).
                            self.close_up(id);
                            self.fail_txn(down, 500);
                            return;
                        }
                        if (100..200).contains(&head.status) {
                            // Interim responses are relayed as they come, up to a bound.
                            txn.interim += 1;
                            if txn.interim > MAX_INTERIM {
                                self.close_up(id);
                                self.fail_txn(down, 500);
                                return;
                            }
                            let asked = head.status == 100 && txn.awaiting_continue;
                            if txn.extra.as_ref().is_some_and(|x| x.retry.is_some()) && !asked {
                                // Traefik's retry writer drops interim answers while a
                                // retry may follow (the backend asking for the body stands
                                // for Go's server's own 100 Continue).
                                continue;
                            }
                            // Relayed with its lines as they are (Go's proxy copies a 1xx's
                            // header whole).
                            let mut out = Vec::new();
                            encode_response_head(&head, txn.http10, &self.date, &mut out);
                            self.send(down, out);
                            if asked {
                                // The backend asks for the body: it goes now.
                                self.release_body(now, down, false);
                            }
                            continue;
                        }
                        // A final answer before the backend asked for the body. When the backend
                        // keeps its connection, Go's transport goes on to send the body: the
                        // client is asked for it (its 100 Continue goes before the answer),
                        // and a body already here whole is sent, the exchange ending as any
                        // other. Otherwise, and for a body not here yet, the body is never
                        // sent and the client connection closes after the answer (Go's
                        // server had not read the body to its end when it wrote the head).
                        let continue_first = txn.awaiting_continue && parsed.keep_alive;
                        let send_body_anyway = continue_first && txn.request_done;
                        if txn.awaiting_continue && !send_body_anyway {
                            txn.awaiting_continue = false;
                            txn.body_refused = true;
                            txn.keep_alive = false;
                            txn.pending = Vec::new();
                            d.deadline = None;
                        }
                        let trailer = (parsed.framing == Framing::Chunked)
                            .then(|| forward::trailer_names(&head.headers, ", "))
                            .flatten();
                        let mut framing = parsed.framing;
                        let gunzip = undo_gzip(txn.requested_gzip, framing, &mut head);
                        forward::downstream_response(&mut head);
                        let stream = matches!(d.transport, Transport::Stream(_));
                        // `compress` middlewares: the coding, and a body here whole compressed
                        // at once (see `proxy::compress`).
                        let choices = txn.extra.as_ref().map_or(&[][..], |x| &x.compress[..]);
                        let (compress, whole) = if choices.is_empty() {
                            (None, None)
                        } else {
                            super::compress::decide(
                                choices,
                                &mut head,
                                framing,
                                gunzip,
                                u.input.bytes(),
                                stream,
                            )
                        };
                        // `contentType`: an answer of known length without a type gets the
                        // type of the body bytes that came with its head. Go sniffs what is
                        // buffered when the head is written: a body that comes later leaves
                        // it without, and a body of unknown length is streamed, its head
                        // flushed at once (checked with Traefik 3.7.15).
                        let sniffed = (matches!(framing, Framing::Length(_))
                            && txn.transport.flush_interval.0 >= 0
                            && compress.is_none()
                            && whole.is_none()
                            && !gunzip
                            && !txn.head_request
                            && !matches!(head.status, 100..=199 | 204 | 304)
                            && txn.middlewares.sniffs_content_type(None)
                            && !head.headers.contains("Content-Type"))
                        .then(|| first_body_bytes(framing, u.input.bytes()))
                        .filter(|b| !b.is_empty())
                        .map(crate::http::sniff::detect_content_type);
                        // A body compressed whole and small enough: its length is the server's.
                        let server_length =
                            whole.as_ref().filter(|w| !w.chunked).map(|w| w.bytes.len());
                        if let (Some(n), true) = (server_length, stream) {
                            head.headers.set("Content-Length", n.to_string());
                        }
                        txn.report_outcome(head.status, now);
                        if let Some(code) = txn.extra.as_ref().and_then(|x| x.status_override) {
                            // An `errors` page goes with the caught status.
                            head.status = code;
                        }
                        if let Some(a) = &mut txn.access {
                            a.origin_answer(&head.headers);
                        }
                        txn.finish_response_head(&mut head, now);
                        if let Some(a) = &mut txn.access {
                            a.downstream_answer(&head.headers);
                        }
                        // HTTP/1.0 clients cannot take chunked: they get the body until close.
                        // A decompressed or compressed body's length is unknown, as a chunked
                        // one's (unless it was compressed whole).
                        let out_framing = match &whole {
                            Some(w) if !w.chunked => Framing::Length(w.bytes.len() as u64),
                            _ if gunzip || compress.is_some() || whole.is_some() => {
                                Framing::Chunked
                            }
                            _ => framing,
                        };
                        let chunked_out =
                            !txn.http10 && matches!(out_framing, Framing::Chunked | Framing::Close);
                        if txn.http10 && matches!(out_framing, Framing::Chunked | Framing::Close) {
                            txn.keep_alive = false;
                        }
                        if framing == Framing::Empty
                            && !txn.head_request
                            && !matches!(head.status, 204 | 304)
                            && !head.headers.contains("Content-Length")
                        {
                            head.headers.set("Content-Length", "0");
                        }
                        if chunked_out {
                            head.headers.remove("Content-Length");
                            head.headers.set("Transfer-Encoding", "chunked");
                            if let Some(t) = trailer {
                                head.headers.set("Trailer", t);
                            }
                        }
                        if !txn.keep_alive || self.shutting_down {
                            txn.keep_alive = false;
                            if !txn.http10 {
                                head.headers.set("Connection", "close");
                            }
                        } else if txn.http10 {
                            head.headers.set("Connection", "keep-alive");
                        }
                        framing = parsed.framing;
                        let mut decoder = BodyDecoder::new(framing);
                        if let Some(w) = &whole {
                            // The body was compressed whole: it is consumed here.
                            let _ = decoder.decode(u.input.bytes());
                            u.input.consume(w.consumed);
                        }
                        // A small body sent as it is joins its head with the bytes of it that
                        // came in the same read (usually all): the response leaves as one
                        // buffer of exactly its size, one allocation and one write.
                        let mut joined = None;
                        if !stream {
                            self.head_scratch.clear();
                            encode_response_head_sized(
                                &head,
                                txn.http10,
                                &self.date,
                                server_length,
                                sniffed,
                                &mut self.head_scratch,
                            );
                            let small =
                                matches!(framing, Framing::Length(n) if n < SLICE_AT_LEAST as u64);
                            // Decoded only when it joins (decoding moves the decoder on); a
                            // length-delimited body's data is the bytes decoding consumed.
                            let body = if small && !chunked_out && !gunzip && compress.is_none() {
                                match decoder.decode(u.input.bytes()) {
                                    Ok((n, Decoded::Data(_))) => n,
                                    _ => 0,
                                }
                            } else {
                                0
                            };
                            // Exactly its size: a `Vec` with spare room costs another allocation
                            // when it becomes `Bytes`.
                            const CONTINUE: &[u8] = b"HTTP/1.1 100 Continue\r\n\r\n";
                            let first: &[u8] = if continue_first { CONTINUE } else { b"" };
                            let mut out =
                                Vec::with_capacity(first.len() + self.head_scratch.len() + body);
                            out.extend_from_slice(first);
                            out.extend_from_slice(&self.head_scratch);
                            out.extend_from_slice(&u.input.bytes()[..body]);
                            u.input.consume(body);
                            if let Some(w) = &whole {
                                out.extend_from_slice(&frame_body(&w.bytes, chunked_out));
                            }
                            if self.head_scratch.capacity() > HEAD_SCRATCH_KEPT {
                                // One very large head does not stay with the worker.
                                self.head_scratch = Vec::new();
                            }
                            joined = Some(out);
                        }
                        txn.resp = Some(Resp {
                            decoder,
                            chunked_out,
                            // A backend sent a head announcing a body it did not get.
                            upstream_keep_alive: parsed.keep_alive && !txn.body_refused,
                            status: head.status,
                            gunzip: gunzip.then(Box::default),
                            recoded: (gunzip || compress.is_some() || whole.is_some())
                                .then(|| whole.as_ref().map_or(0, |w| w.bytes.len() as u64)),
                            compress: compress.map(|c| Box::new(Compressor::new(c))),
                        });
                        if stream {
                            // An HTTP/2 stream takes the head as it is, with the framing its
                            // body will be written in.
                            let written = if chunked_out {
                                Framing::Chunked
                            } else {
                                out_framing
                            };
                            self.stream_respond(down, &head, written, sniffed);
                            if let Some(w) = whole {
                                self.send(down, frame_body(&w.bytes, chunked_out));
                            }
                        } else if let Some(out) = joined {
                            self.send(down, out);
                        }
                        if send_body_anyway {
                            self.release_body(now, down, false);
                        }
                        continue;
                    }
                }
            };
            if let Some(g) = &mut resp.gunzip {
                if g.has_pending() || resp.decoder.is_done() {
                    let mut out = Vec::new();
                    let step = g.produce(GUNZIP_STEP, &mut out);
                    let finished = resp.decoder.is_done() && out.is_empty() && step.is_ok();
                    let broken = step.is_err() || (finished && g.finish().is_err());
                    let chunked = resp.chunked_out;
                    if broken {
                        // Go aborts the response: the client sees it cut off.
                        self.close_up(id);
                        self.close_down(down);
                        return;
                    }
                    let out = match &mut resp.compress {
                        Some(c) if !out.is_empty() => c.write(&out),
                        _ => out,
                    };
                    if !out.is_empty() {
                        resp.sent_recoded(out.len());
                        self.send(down, frame_body(&out, chunked));
                        if self.down.get(&down).is_some_and(|d| d.unacked > HIGH_WATER) {
                            // Decoding goes on when the client has read (see `writable`);
                            // what is left of the read waits in a buffer of its own.
                            if let Some(u) = self.up.get_mut(&id) {
                                u.input.keep_rest();
                            }
                            self.pause(id);
                            return;
                        }
                        continue;
                    }
                    // Everything fed is decoded: read on, or finish below.
                }
            }
            if resp.decoder.is_done() {
                if txn.request_done || txn.body_refused {
                    self.finish_txn(now, down);
                } else if !u.input.is_empty() {
                    // Bytes after the response, before the request has ended, belong to no
                    // exchange: they are dropped, not held (a backend could send without
                    // end), and the connection is not reused.
                    u.input = super::inbox::Inbox::default();
                    resp.upstream_keep_alive = false;
                }
                return;
            }
            match resp.decoder.decode(u.input.bytes()) {
                Err(_) => {
                    // A malformed body after the head: cut both sides.
                    self.close_up(id);
                    self.close_down(down);
                    return;
                }
                Ok((n, Decoded::Data(range))) => {
                    if let Some(g) = &mut resp.gunzip {
                        g.feed(&u.input.bytes()[range]);
                        u.input.consume(n);
                        continue;
                    }
                    let chunked = resp.chunked_out;
                    if let Some(c) = &mut resp.compress {
                        let out = c.write(&u.input.bytes()[range]);
                        u.input.consume(n);
                        if !out.is_empty() {
                            resp.sent_recoded(out.len());
                            self.send(down, frame_body(&out, chunked));
                            self.backpressure(id, down);
                        }
                        continue;
                    }
                    // Large body bytes go on as a slice of the read; smaller ones are copied
                    // where they are queued (or by an HTTP/2 stream's send buffer).
                    let input = std::mem::take(&mut u.input);
                    match input.large_slice(range.clone()) {
                        Some(body) => self.send_body(down, body, chunked),
                        None => self.send_body(down, &input.bytes()[range], chunked),
                    }
                    if let Some(u) = self.up.get_mut(&id) {
                        u.input = input;
                        u.input.consume(n);
                    }
                    self.backpressure(id, down);
                }
                Ok((n, Decoded::NeedMore)) => {
                    u.input.consume(n);
                    u.input.keep_rest();
                    // What was compressed of this read goes now (Go's proxy flushes).
                    if let Some(out) = resp.compress.as_mut().and_then(|c| c.flush()) {
                        let chunked = resp.chunked_out;
                        resp.sent_recoded(out.len());
                        self.send(down, frame_body(&out, chunked));
                    }
                    return;
                }
                Ok((n, Decoded::Done)) => {
                    u.input.consume(n);
                    // Loop once more: `is_done` finishes the transaction.
                }
            }
        }
    }

    /// The response is complete: ends the chunked encoding, pools or closes the upstream, and
    /// returns the client connection to reading requests (or closes it).
    pub(super) fn finish_txn(&mut self, now: Timestamp, down: ConnId) {
        if self.awaits_auth(down) {
            return self.auth_answered(now, down);
        }
        let Some(d) = self.down.get_mut(&down) else {
            return;
        };
        let DState::Active(txn) = std::mem::replace(&mut d.state, DState::Head) else {
            return;
        };
        let mut txn = *txn;
        let resp = txn
            .resp
            .as_mut()
            .expect("finished transaction has a response");
        let trailers = resp.decoder.take_trailers();
        let (status, chunked_out, upstream_keep_alive) =
            (resp.status, resp.chunked_out, resp.upstream_keep_alive);
        let compressed_end = resp.compress.take().map(|c| c.finish());
        let mut access = txn.access.take().map(|mut a| {
            a.origin_status = Some(status);
            a.origin_size = resp.decoder.decoded();
            a.request_size = txn.req_body.decoded();
            a
        });
        if let Some(a) = &mut access {
            a.size = resp.sent_body() + compressed_end.as_ref().map_or(0, |e| e.len() as u64);
        }
        self.arm_idle(down);
        if let Some(end) = compressed_end.filter(|e| !e.is_empty()) {
            self.send(down, frame_body(&end, chunked_out));
        }
        if chunked_out {
            self.send(down, last_chunk(&forward::go_trailers(&trailers)));
        }
        if let Some(up) = txn.up {
            self.release_up(now, up, upstream_keep_alive && txn.request_done);
        }
        if let Some(a) = access {
            let size = a.size;
            self.record(Event::Access(*a.end(status, size, now)));
        }
        if txn.keep_alive {
            self.resume(down);
            self.drive_down(now, down);
        } else if txn.body_refused && !txn.request_done {
            // The client may be sending the body no one will read.
            self.linger(down);
        } else {
            self.close_down(down);
        }
    }

    fn release_up(&mut self, now: Timestamp, id: ConnId, reusable: bool) {
        let Some(u) = self.up.get_mut(&id) else {
            return;
        };
        if !matches!(u.mux, Mux::None) {
            // A virtual upstream's stream is over: it is never pooled (its session is).
            return self.close_up(id);
        }
        // No pooling (a negative `maxIdleConnsPerHost`): Go's transport closes the connection
        // rather than give it to a waiting request too.
        if !reusable || !u.input.is_empty() || self.shutting_down || u.max_idle == 0 {
            self.close_up(id);
            return;
        }
        let key = u.key.clone();
        if self.hand_to_waiting(now, &key, id) {
            return;
        }
        let Some(u) = self.up.get_mut(&id) else {
            return;
        };
        let pool_len = self.pools.get(&u.key).map_or(0, Vec::len);
        // A connection past `maxIdleConnsPerHost` is kept for a moment only: the responses of
        // a burst complete together, and the requests that follow would otherwise dial again
        // what was just closed.
        let surplus = pool_len >= u.max_idle;
        u.down = None;
        u.state = UState::Idle;
        u.input.trim_idle();
        let keep = if surplus && (u.idle_timeout.0 <= 0 || u.idle_timeout > SURPLUS_IDLE) {
            SURPLUS_IDLE
        } else {
            u.idle_timeout
        };
        let deadline = (keep.0 > 0).then(|| now.after(keep));
        u.deadline = deadline;
        u.pooled = true;
        let key = u.key.clone();
        self.note_deadline(deadline);
        self.resume(id);
        self.pools.entry(key).or_default().push(id);
    }

    /// Gives the reusable connection `id` to a request still waiting for a dial to `key`, as
    /// Go's transport does (the dial goes on, and joins the pool when it connects). Returns
    /// whether it did.
    fn hand_to_waiting(
        &mut self,
        now: Timestamp,
        key: &super::worker::ServerKey,
        id: ConnId,
    ) -> bool {
        while let Some(dial) = self.dialing.get_mut(key).and_then(Vec::pop) {
            let Some(waiting) = self.up.get_mut(&dial) else {
                continue;
            };
            if waiting.state != UState::Connecting || waiting.tls.is_some() {
                continue;
            }
            let Some(down) = waiting.down.take() else {
                // Nobody waits for this dial any more.
                continue;
            };
            let Some(DState::Active(txn)) = self.down.get_mut(&down).map(|d| &mut d.state) else {
                continue;
            };
            txn.up = Some(id);
            txn.reused = true;
            if txn.retryable && txn.retry_head.is_none() {
                txn.retry_head = txn.pending_head.clone();
            }
            // The dial goes on without a request: it joins the pool when it connects.
            let Some(u) = self.up.get_mut(&id) else {
                return false;
            };
            u.down = Some(down);
            u.state = UState::Busy;
            u.deadline = None;
            self.resume(id);
            self.flush_pending(now, down);
            return true;
        }
        false
    }

    pub(super) fn up_eof(&mut self, now: Timestamp, id: ConnId, reset: bool) {
        // A head held for `contentType` (see `sniff_hold`) goes now: the body it waited for
        // will not come whole. The end is then that of an answer under way.
        let holder = self
            .up
            .get(&id)
            .filter(|u| u.state == UState::Busy && !matches!(u.mux, Mux::Session(_)))
            .and_then(|u| u.down);
        let held =
            holder.is_some_and(
                |down| match self.down.get_mut(&down).map(|d| &mut d.state) {
                    Some(DState::Active(t)) if t.resp.is_none() && t.sniff_wait.is_some() => {
                        t.sniff_wait = Some(now);
                        true
                    }
                    _ => false,
                },
            );
        if held {
            self.drive_up(now, id);
        }
        let Some(u) = self.up.get_mut(&id) else {
            return;
        };
        if matches!(u.mux, Mux::Session(_)) {
            return self.session_eof(id);
        }
        match u.state {
            UState::Idle | UState::Connecting => {
                let down = u.down;
                self.close_up(id);
                if let Some(d) = down {
                    self.upstream_failed(now, d, 502);
                }
            }
            UState::Tunnel => {
                let down = u.down;
                self.close_up(id);
                if let Some(d) = down {
                    self.close_down(d);
                }
            }
            UState::Busy => {
                let Some(down) = u.down else {
                    self.close_up(id);
                    return;
                };
                let started = match self.down.get_mut(&down).map(|d| &mut d.state) {
                    Some(DState::Active(txn)) => match &mut txn.resp {
                        Some(resp) => {
                            if !reset && resp.decoder.framing() == Framing::Close {
                                let _ = resp.decoder.eof();
                                resp.upstream_keep_alive = false;
                                true
                            } else {
                                // Truncated: the client must see the connection end.
                                self.close_up(id);
                                self.close_down(down);
                                return;
                            }
                        }
                        None => false,
                    },
                    _ => false,
                };
                if started {
                    self.close_up_keep_link(id);
                    if let Some(DState::Active(txn)) = self.down.get(&down).map(|d| &d.state) {
                        if txn.request_done || txn.body_refused {
                            self.finish_txn(now, down);
                        } else {
                            self.close_down(down);
                        }
                    }
                } else {
                    // Nothing received: Go's io.EOF, a 502. Part of a head: an unexpected EOF,
                    // which Traefik answers with 500.
                    let partial = self.up.get(&id).is_some_and(|u| !u.input.is_empty());
                    self.close_up(id);
                    if partial {
                        self.fail_txn(down, 500);
                    } else if !self.retry(now, down) {
                        self.fail_txn(down, 502);
                    }
                }
            }
        }
    }

    /// A pooled connection died before answering an idempotent request: sends it again, once,
    /// on a new connection (Go's transport does the same). Returns whether it did.
    fn retry(&mut self, now: Timestamp, down: ConnId) -> bool {
        let Some(DState::Active(txn)) = self.down.get_mut(&down).map(|d| &mut d.state) else {
            return false;
        };
        if !txn.reused || txn.resp.is_some() {
            return false;
        }
        let Some(head) = txn.retry_head.take() else {
            return false;
        };
        // Sent again once at most: a connection handed over later does not re-arm it.
        txn.retryable = false;
        let (key, transport) = (txn.key.clone(), txn.transport.clone());
        let (up, _) = self.open_upstream(now, &key, &transport, false);
        if let Some(DState::Active(txn)) = self.down.get_mut(&down).map(|d| &mut d.state) {
            txn.up = Some(up);
            txn.reused = false;
            txn.pending_head = Some(head);
        }
        if let Some(u) = self.up.get_mut(&up) {
            u.down = Some(down);
        }
        true
    }

    /// Closes an upstream whose transaction will still be finished (its `up` id is forgotten).
    fn close_up_keep_link(&mut self, id: ConnId) {
        let down = self.up.get(&id).and_then(|u| u.down);
        self.close_up(id);
        if let Some(d) = down.and_then(|d| self.down.get_mut(&d)) {
            if let DState::Active(txn) = &mut d.state {
                txn.up = None;
            }
        }
    }

    pub(super) fn up_timeout(&mut self, now: Timestamp, id: ConnId) {
        let Some(u) = self.up.get(&id) else { return };
        if matches!(u.mux, Mux::Session(_)) {
            return self.session_timeout(now, id);
        }
        let down = u.down;
        match u.state {
            UState::Idle => self.close_up(id),
            UState::Connecting | UState::Busy => {
                let sniffing = down.is_some_and(|d| {
                    matches!(self.down.get(&d).map(|x| &x.state),
                        Some(DState::Active(t)) if t.sniff_wait.is_some() && t.resp.is_none())
                });
                if sniffing && u.state == UState::Busy {
                    // A head held for `contentType` (see `sniff_hold`): its wait is over.
                    return self.drive_up(now, id);
                }
                self.close_up(id);
                if let Some(d) = down {
                    self.upstream_failed(now, d, 504);
                }
            }
            UState::Tunnel => {
                self.close_up(id);
                if let Some(d) = down {
                    self.close_down(d);
                }
            }
        }
    }
}

/// Whether the head `parsed` waits (until the returned time) for more of its body before its
/// type is guessed (`contentType`): an answer of known length without a type, whose first
/// 512 bytes (or whole body) are not here yet, for at most the service's
/// `responseForwarding.flushInterval` after it came (Go's proxy writes such a head with what
/// its body wrote before a flush; with 0, when its buffer fills or the body ends: no time
/// limit here either; a negative one flushes at once and nothing is guessed).
fn sniff_hold(
    txn: &mut super::txn::Txn,
    parsed: &crate::h1::ParsedResponse,
    body_here: usize,
    now: Timestamp,
) -> Option<Timestamp> {
    let Framing::Length(len) = parsed.framing else {
        return None;
    };
    let guessed = !txn.head_request
        // A body the proxy asked gzip for and got is decompressed: not guessed.
        && (!txn.requested_gzip || !parsed.head.headers.contains("Content-Encoding"))
        && !matches!(parsed.head.status, 100..=199 | 204 | 304)
        && !parsed.head.headers.contains("Content-Type")
        && txn.extra.as_ref().is_none_or(|x| x.compress.is_empty());
    if !guessed || body_here >= (len as usize).min(512) {
        return None;
    }
    let wait = txn.transport.flush_interval;
    if wait.0 < 0 {
        return None;
    }
    let wait = if wait.0 == 0 {
        crate::config::Duration::from_secs(365 * 86_400)
    } else {
        wait
    };
    let until = *txn.sniff_wait.get_or_insert(now.after(wait));
    (now < until).then_some(until)
}

/// Up to 512 bytes of a length-delimited body at the start of `input`, for guessing its type.
fn first_body_bytes(framing: Framing, input: &[u8]) -> &[u8] {
    match framing {
        Framing::Length(n) => &input[..input.len().min(n as usize).min(512)],
        _ => &[],
    }
}
