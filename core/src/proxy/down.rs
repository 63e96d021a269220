//! The client side: parsing requests, routing them, answering locally or starting the upstream
//! exchange, and streaming request bodies.

use std::net::SocketAddr;

use crate::h1::{
    encode_local_response, parse_request, upstream_request_head, BodyDecoder, Decoded, Framing,
    ParsedRequest, RequestBody, RequestLimits, LAST_CHUNK,
};
use std::sync::Arc;

use bytes::Bytes;

use crate::http::{LocalResponse, RequestHead, ResponseHead};
use crate::middleware::{Middleware, RequestAction, RequestContext};
use crate::rule::path::{normalize_raw_path, sanitize_path};
use crate::rule::HttpRequestView;

use super::compile::{Target, UnderscoreHeaders};
use super::discard::{After, Discard, DiscardStep};
use super::forward;
use super::inbox::detached;
use super::io::{AccessRecord, ConnId, Event, Output, Timestamp};
use super::txn::Txn;
use super::worker::{DState, Transport, UState, Up, Worker, HIGH_WATER, MAX_PIPELINED};

impl Worker {
    pub(super) fn down_received(&mut self, now: Timestamp, id: ConnId, data: Bytes) {
        let Some(d) = self.down.get_mut(&id) else {
            return;
        };
        if let Transport::ProxyHeader = d.transport {
            return self.proxy_header(now, id, &data);
        }
        if let Transport::PostgresHello = d.transport {
            return self.tcp_sniff(now, id, &data);
        }
        if let Transport::Sniffing = d.transport {
            let tcp_routes = (self.config.entry_points.get(d.ep)).is_some_and(|e| e.tcp.is_some());
            if tcp_routes {
                return self.tcp_sniff(now, id, &data);
            }
            d.transport = if data.first() == Some(&0x16) {
                Transport::Tls(Box::default())
            } else {
                Transport::Plain
            };
        }
        let Transport::Tls(tls) = &mut d.transport else {
            return self.down_plaintext(now, id, data);
        };
        let config = Arc::clone(&self.config);
        let ep_tls = config.entry_points.get(d.ep).map(|e| &e.tls);
        let local = d.local.map(|a| a.ip());
        let mut got = crate::tls::Received::default();
        tls.receive(
            &data,
            |sni| ep_tls.and_then(|t| t.choose_for(sni, local)),
            &mut got,
        );
        let start_h2 = d.h2.is_none() && tls.alpn() == Some(b"h2");
        self.send_raw(id, got.ciphertext);
        if start_h2 {
            self.start_h2(now, id, &got.plaintext);
        } else if !got.plaintext.is_empty() {
            self.down_plaintext(now, id, Bytes::from(got.plaintext));
        }
        if got.failed {
            self.abort_down(id);
        } else if got.peer_closed {
            self.down_eof(now, id);
        }
    }

    /// The first bytes of a connection on an entry point with `proxyProtocol`: a PROXY header
    /// (its address used when the peer is trusted), then the client's own bytes.
    fn proxy_header(&mut self, now: Timestamp, id: ConnId, data: &[u8]) {
        use super::proxy_protocol::{parse, Parsed};
        let Some(d) = self.down.get_mut(&id) else {
            return;
        };
        d.input.receive_slice(data);
        let (len, source) = match parse(d.input.bytes()) {
            Parsed::NeedMore => return,
            Parsed::Invalid => return self.close_down(id),
            Parsed::NotProxy => (0, None),
            Parsed::Header { len, source } => (len, source),
        };
        let policy = self
            .config
            .entry_points
            .get(d.ep)
            .and_then(|e| e.proxy_protocol.as_ref());
        if let Some(addr) = source.filter(|_| policy.is_some_and(|p| p.trusts(d.peer.ip()))) {
            d.peer = addr;
        }
        d.transport = Transport::Sniffing;
        let mut rest = d.input.take_vec();
        rest.drain(..len);
        if self.tcp_accepted(now, id) {
            // A TCP router took the connection at once: what followed the header goes on.
            if !rest.is_empty() {
                self.tcp_received(id, Bytes::from(rest));
            }
            return;
        }
        if !rest.is_empty() {
            self.down_received(now, id, Bytes::from(rest));
        }
    }

    /// Application bytes from a client (decrypted, on TLS connections).
    pub(super) fn down_plaintext(&mut self, now: Timestamp, id: ConnId, data: Bytes) {
        let Some(d) = self.down.get_mut(&id) else {
            return;
        };
        if d.h2.is_some() {
            return self.h2_received(id, &data);
        }
        // HTTP/2 with prior knowledge (h2c) starts with the connection preface.
        if d.requests == 0 && !matches!(d.transport, Transport::Stream(_)) {
            let preface = crate::h2::PREFACE;
            // Compare what arrived so far (buffered, then new) with the preface.
            let seen = d.input.bytes().iter().chain(&data).take(preface.len());
            if seen.clone().zip(preface).all(|(a, b)| a == b) {
                if seen.count() == preface.len() {
                    let mut all = d.input.take_vec();
                    all.extend_from_slice(&data);
                    return self.start_h2(now, id, &all);
                }
                d.input.receive_slice(&data);
                return;
            }
        }
        if let DState::Tunnel(up) = d.state {
            self.send(up, detached(data));
            self.backpressure(id, up);
            return;
        }
        d.input.receive(data);
        self.drive_down(now, id);
    }

    /// Pauses `from` when too much is queued towards `to`.
    pub(super) fn backpressure(&mut self, from: ConnId, to: ConnId) {
        let queued = self
            .down
            .get(&to)
            .map(|d| d.unacked)
            .or_else(|| self.up.get(&to).map(|u| u.unacked))
            .unwrap_or(0);
        if queued > HIGH_WATER {
            self.pause(from);
        }
    }

    pub(super) fn drive_down(&mut self, now: Timestamp, id: ConnId) {
        loop {
            let Some(d) = self.down.get_mut(&id) else {
                return;
            };
            match &mut d.state {
                DState::Head => {
                    if d.input.is_empty() {
                        if d.read_closed {
                            self.close_down(id);
                        }
                        return;
                    }
                    let limits = RequestLimits {
                        max_header_bytes: self
                            .config
                            .entry_points
                            .get(d.ep)
                            .map_or(1 << 20, |e| e.max_header_bytes),
                    };
                    match parse_request(d.input.bytes(), &limits) {
                        Err(e)
                            if e.status == 400 && matches!(d.transport, Transport::Stream(_)) =>
                        {
                            return self.stream_malformed(id);
                        }
                        Err(e) => {
                            self.send(id, e.to_bytes());
                            self.close_down(id);
                            return;
                        }
                        Ok(None) => {
                            d.input.keep_rest();
                            if d.read_closed {
                                self.close_down(id);
                            }
                            return;
                        }
                        Ok(Some((req, n))) => {
                            d.input.consume(n);
                            d.requests += 1;
                            self.start_request(now, id, req);
                        }
                    }
                }
                DState::Active(txn) => {
                    if txn.request_done {
                        // Pipelined requests wait for this one's response.
                        d.input.keep_rest();
                        if d.input.len() > MAX_PIPELINED {
                            self.pause(id);
                        }
                        return;
                    }
                    match txn.req_body.decode(d.input.bytes()) {
                        Err(_) => {
                            // A broken request body: the exchange cannot continue. Go's
                            // transport fails writing it, which Traefik answers 500, and the
                            // server closes (`closeAfterReply`).
                            if txn.resp.is_none() {
                                let up = txn.up;
                                txn.keep_alive = false;
                                if let Some(u) = up {
                                    self.close_up(u);
                                }
                                self.fail_txn(id, 500);
                            } else {
                                self.abort_down(id);
                            }
                            return;
                        }
                        Ok((n, Decoded::Data(range))) => {
                            let body = d.input.slice(range);
                            d.input.consume(n);
                            let chunked = txn.req_chunked;
                            self.send_upstream(id, body, chunked);
                        }
                        Ok((n, Decoded::NeedMore)) => {
                            d.input.consume(n);
                            d.input.keep_rest();
                            if d.read_closed {
                                self.abort_down(id);
                            }
                            return;
                        }
                        Ok((n, Decoded::Done)) => {
                            d.input.consume(n);
                            txn.request_done = true;
                            // Request trailers are announced (`Trailer`) but not relayed:
                            // Traefik sends none either.
                            let last = if txn.req_chunked {
                                Bytes::from_static(LAST_CHUNK)
                            } else {
                                Bytes::new()
                            };
                            let finished = txn.resp.as_ref().is_some_and(|r| r.decoder.is_done());
                            self.send_upstream(id, last, false);
                            if finished {
                                self.finish_txn(now, id);
                                continue;
                            }
                        }
                    }
                }
                DState::Tunnel(_) => return,
                DState::Delayed(_) => {
                    // The request's body (and what follows) waits with it.
                    d.input.keep_rest();
                    if d.input.len() > MAX_PIPELINED {
                        self.pause(id);
                    }
                    return;
                }
                DState::Linger => {
                    let all = d.input.len();
                    d.input.consume(all);
                    d.input.keep_rest();
                    if d.read_closed {
                        self.close_down(id);
                    }
                    return;
                }
                DState::Discard(x) => {
                    let step = x.read(d.input.bytes());
                    let read_closed = d.read_closed;
                    match step {
                        DiscardStep::Read(n) => {
                            d.input.consume(n);
                            continue;
                        }
                        DiscardStep::NeedMore(n) => {
                            d.input.consume(n);
                            d.input.keep_rest();
                            if !read_closed {
                                return;
                            }
                            // The body ends early: answered, then closed (Go's
                            // `closeAfterReply`).
                            self.end_discard(id, After::Close);
                            return;
                        }
                        DiscardStep::Done(n) => {
                            d.input.consume(n);
                            self.end_discard(id, After::Keep);
                        }
                        DiscardStep::Refused => {
                            self.end_discard(id, After::Close);
                            return;
                        }
                        DiscardStep::TooLarge => {
                            self.end_discard(id, After::Linger);
                            return;
                        }
                    }
                }
            }
        }
    }

    /// Queues request body bytes to the backend (as one chunk when `chunked`), or keeps them
    /// until it is connected.
    pub(super) fn send_upstream(&mut self, down: ConnId, bytes: Bytes, chunked: bool) {
        if bytes.is_empty() {
            return;
        }
        let Some(crate::proxy::worker::Down {
            state: DState::Active(txn),
            ..
        }) = self.down.get_mut(&down)
        else {
            return;
        };
        if txn.body_refused {
            // The backend answered without it: the body goes nowhere.
            return;
        }
        if let Some(kept) = txn.extra.as_mut().and_then(|x| x.kept_body.as_mut()) {
            // Only the last chunk goes unframed when the body is chunked.
            let len = if txn.req_chunked && !chunked {
                0
            } else {
                bytes.len()
            };
            let fits = if chunked {
                let mut framed = Vec::with_capacity(bytes.len() + 12);
                crate::h1::encode_chunk(&bytes, &mut framed);
                kept.keep(&framed, len)
            } else {
                kept.keep(&bytes, len)
            };
            if !fits {
                if let Some(x) = txn.extra.as_mut() {
                    x.kept_body = None;
                }
            }
        }
        let ready = !txn.awaiting_continue
            && txn
                .up
                .and_then(|u| self.up.get(&u))
                .is_some_and(|u| u.state == UState::Busy);
        if ready {
            let up = txn.up.expect("ready upstream");
            self.send_body(up, bytes, chunked);
            self.backpressure(down, up);
        } else {
            if chunked {
                crate::h1::encode_chunk(&bytes, &mut txn.pending);
            } else {
                txn.pending.extend_from_slice(&bytes);
            }
            if txn.pending.len() > HIGH_WATER {
                self.pause(down);
            }
        }
    }

    pub(super) fn local_response(
        &mut self,
        id: ConnId,
        resp: LocalResponse,
        req: &ParsedRequest,
        access: Option<Box<AccessRecord>>,
    ) {
        if !self.down.contains_key(&id) {
            return;
        }
        // What the handler wrote (Go's server drops a HEAD answer's body after counting it).
        let size = if matches!(resp.status, 100..=199 | 204 | 304) {
            0
        } else {
            resp.body.len() as u64
        };
        self.answer_locally(id, &resp, req);
        if let Some(mut a) = access {
            a.downstream_answer(&resp.headers);
            let now = self.now;
            self.record(Event::Access(*a.end(resp.status, size, now)));
        }
    }

    /// Writes a response of the proxy's own to `req`, then closes the connection or waits
    /// for its next request.
    fn answer_locally(&mut self, id: ConnId, resp: &LocalResponse, req: &ParsedRequest) {
        if !self.down.contains_key(&id) {
            return;
        }
        let has_body = req.body != RequestBody::None;
        // Go closes after a CONNECT it refuses.
        let may_keep = req.keep_alive && !self.shutting_down && req.head.method != "CONNECT";
        // Go reads the body before answering unless the client waits for a 100 it never got.
        let reads_body = has_body && may_keep && !req.expect_continue;
        if reads_body {
            if let Some(discard) = Discard::new(resp, req) {
                // The answer waits for the body to be read (`drive_down`), as Go's does.
                let read_timeout = self.config.entry_points.get(self.down[&id].ep);
                let deadline = read_timeout
                    .map(|e| e.read_timeout)
                    .filter(|t| t.0 > 0)
                    .map(|t| self.now.after(t));
                let d = self.down.get_mut(&id).expect("checked above");
                d.state = DState::Discard(Box::new(discard));
                d.deadline = deadline;
                self.note_deadline(deadline);
                return;
            }
        }
        let after = if may_keep && !has_body {
            After::Keep
        } else if reads_body {
            // Declared too large to read: the client may be sending it still.
            After::Linger
        } else {
            After::Close
        };
        self.write_local_answer(id, resp, req.head.method == "HEAD", req.head.version, after);
    }

    /// Sends a local answer, then closes the connection or waits for its next request.
    pub(super) fn write_local_answer(
        &mut self,
        id: ConnId,
        resp: &LocalResponse,
        head_request: bool,
        version: crate::http::Version,
        after: After,
    ) {
        let keep_alive = after == After::Keep;
        let mut out = Vec::new();
        encode_local_response(
            resp,
            &self.date,
            !keep_alive,
            head_request,
            version == crate::http::Version::Http10,
            &mut out,
        );
        self.send(id, out);
        match after {
            After::Keep => self.arm_idle(id),
            After::Close => self.close_down(id),
            After::Linger => self.linger(id),
        }
    }

    /// A request already parsed (an HTTP/2 stream's, see `h2_request`): counted and started
    /// as one read from the connection, then its body (if any) is read as usual.
    pub(super) fn start_parsed_request(&mut self, now: Timestamp, id: ConnId, req: ParsedRequest) {
        let Some(d) = self.down.get_mut(&id) else {
            return;
        };
        d.requests += 1;
        self.start_request(now, id, req);
        self.drive_down(now, id);
    }

    fn start_request(&mut self, now: Timestamp, id: ConnId, mut req: ParsedRequest) {
        let config = self.config.clone();
        let Some(d) = self.down.get_mut(&id) else {
            return;
        };
        d.deadline = None;
        let write_timeout = config.entry_points.get(d.ep).map(|e| e.write_timeout);
        let mut write_deadline = None;
        if let Some(t) = write_timeout.filter(|t| t.0 > 0) {
            if !matches!(d.transport, Transport::Stream(_)) {
                write_deadline = Some(now.after(t));
                d.write_deadline = write_deadline;
            }
        }
        self.note_deadline(write_deadline);
        let Some(d) = self.down.get_mut(&id) else {
            return;
        };
        let peer: SocketAddr = d.peer;
        let stream = matches!(d.transport, Transport::Stream(_));
        let (tls, tls_options) = match &d.transport {
            Transport::Tls(t) => (true, t.options_name().cloned()),
            Transport::Stream(st) => (st.tls, st.tls_options.clone()),
            _ => (false, None),
        };
        let (requests, accepted_at) = (d.requests, d.accepted_at);
        // An HTTP/2 stream's virtual connection carries one exchange.
        if matches!(d.transport, Transport::Stream(_)) {
            req.keep_alive = false;
        }
        let ep_index = d.ep;
        let Some(ep) = config.entry_points.get(d.ep) else {
            self.close_down(id);
            return;
        };
        if req.expectation_failed {
            // Go's server refuses an expectation it does not know before any handler.
            let mut out = Vec::new();
            crate::h1::encode_expectation_failed(
                &self.date,
                req.head.version == crate::http::Version::Http10,
                &mut out,
            );
            self.send(id, out);
            return self.close_down(id);
        }
        if req.head.method == "OPTIONS" && req.head.path == "*" && !req.absolute_form {
            // Go's server answers `OPTIONS *` itself, before Traefik sees the request (no
            // routing, no middleware, no access log line).
            let mut resp = LocalResponse::new(200, Vec::new());
            resp.headers.set("Content-Length", "0");
            return self.answer_locally(id, &resp, &req);
        }
        if req.head.method == "CONNECT" {
            return self.local_response(id, LocalResponse::new(501, Vec::new()), &req, None);
        }
        // keepAliveMaxRequests / keepAliveMaxTime: this response closes the connection.
        let max_time = ep.keep_alive_max_time;
        if (ep.keep_alive_max_requests > 0 && requests >= ep.keep_alive_max_requests)
            || (max_time.0 > 0 && now > accepted_at.after(max_time))
        {
            req.keep_alive = false;
        }
        // The entry point's header and path handling, in Traefik's order: underscore headers,
        // fragment, normalise encodings, sanitise dot segments; then encoded characters.
        match ep.underscore_headers {
            UnderscoreHeaders::Delete(alias) => req
                .head
                .headers
                .retain(|h| !UnderscoreHeaders::watches(alias, &h.name)),
            UnderscoreHeaders::Reject(alias)
                if req
                    .head
                    .headers
                    .iter()
                    .any(|h| UnderscoreHeaders::watches(alias, &h.name)) =>
            {
                return self.local_response(
                    id,
                    LocalResponse::go_error(400, "Bad Request"),
                    &req,
                    None,
                )
            }
            _ => {}
        }
        if req.head.path.contains('#') {
            return self.local_response(id, LocalResponse::new(400, Vec::new()), &req, None);
        }
        if req.head.path != "*" {
            match normalize_raw_path(&req.head.path) {
                Ok(p) => {
                    // Only a changed path is written back (most are left as they came).
                    if let std::borrow::Cow::Owned(p) = p {
                        req.head.path = p;
                    }
                    if ep.sanitize_path {
                        if let std::borrow::Cow::Owned(p) = sanitize_path(&req.head.path) {
                            req.head.path = p;
                        }
                    }
                }
                Err(_) => {
                    return self.local_response(id, LocalResponse::new(400, Vec::new()), &req, None)
                }
            }
        }
        let raw_path_denied = ep.denied_encodings.iter().any(|enc| {
            req.head
                .path
                .as_bytes()
                .windows(3)
                .any(|w| w.eq_ignore_ascii_case(enc.as_bytes()))
        });
        if raw_path_denied {
            return self.local_response(id, LocalResponse::new(400, Vec::new()), &req, None);
        }
        if let Some(q) = &mut req.head.raw_query {
            *q = if ep.encode_query_semicolons {
                q.replace(';', "%3B")
            } else {
                q.replace(';', "&")
            };
        }
        let client_ip = Some(peer.ip().to_canonical());
        let client_text = match self.down.get_mut(&id) {
            Some(d) => match &d.peer_text {
                Some((ip, text)) if Some(*ip) == client_ip => text.clone(),
                _ => {
                    let ip = peer.ip().to_canonical();
                    let text = forward::ip_text(ip);
                    d.peer_text = Some((ip, text.clone()));
                    text
                }
            },
            None => return,
        };
        let websocket = req.upgrade
            && req
                .head
                .headers
                .get("Upgrade")
                .is_some_and(|u| u.eq_ignore_ascii_case(b"websocket"));
        forward::apply_entry_point(
            &mut req.head,
            &ep.forwarded,
            client_ip.map(|ip| (ip, &client_text)),
            &self.hostname,
            websocket,
            tls,
        );
        let route = {
            let view = HttpRequestView {
                method: &req.head.method,
                host: &req.head.host,
                path: &req.head.path,
                raw_query: req.head.raw_query.as_deref().unwrap_or(""),
                headers: &req.head.headers,
                client_ip,
                tls,
            };
            if tls {
                ep.tls_table.lookup(&view).map(|i| {
                    let (router, options, chain) = &ep.tls_routes[i];
                    (*router, Some(options), chain)
                })
            } else {
                ep.table.lookup(&view).map(|i| {
                    let (router, chain) = &ep.routes[i];
                    (*router, None, chain)
                })
            }
        };
        // Access logs take the request as the entry point left it, before the router's
        // middlewares.
        let begin_access = |router: Option<&super::compile::CompiledRouter>| {
            (self.access_records && config.logs_access(ep, router)).then(|| {
                let mut a = AccessRecord::begin(&req.head, peer, &ep.name, tls, stream, now);
                a.router = router.map(|r| r.name.clone());
                if config.access_log_headers {
                    a.take_headers(&req.head.headers);
                }
                if let Some((version, cipher)) = self.tls_negotiated(id) {
                    a.tls_version = Some(version);
                    a.tls_cipher = Some(cipher);
                }
                a
            })
        };
        let Some((router_idx, router_tls, chain)) = route else {
            let access = begin_access(None);
            return self.local_response(
                id,
                LocalResponse::go_error(404, "404 page not found"),
                &req,
                access,
            );
        };
        let router = &config.routers[router_idx];
        // Domain fronting: the handshake's options must be the router's (Traefik's snicheck).
        if let Some(wanted) = router_tls {
            if tls_options.as_ref() != Some(wanted) {
                // Refused before the router's handler: no access log line.
                return self.local_response(
                    id,
                    LocalResponse::go_error(421, "Misdirected Request"),
                    &req,
                    None,
                );
            }
        }
        // Middlewares: the entry point's, then the router's (joined with the configuration).
        let routed = Routed {
            config: config.clone(),
            ep: ep_index,
            router: router_idx,
            chain: chain.clone(),
            tls,
            client_ip,
            client_text,
            absolute_target: req.absolute_target.clone(),
            suppress_xff: false,
            held: Vec::new(),
            extra: None,
            started: now,
            access: begin_access(Some(router)),
        };
        self.run_chain(now, id, req, routed, 0);
    }

    /// The TLS version and cipher suite of the client connection of `id` (the connection
    /// below, for an HTTP/2 stream).
    fn tls_negotiated(&self, id: ConnId) -> Option<(&'static str, &'static str)> {
        let parent = match &self.down.get(&id)?.transport {
            Transport::Stream(s) => s.parent,
            _ => id,
        };
        match &self.down.get(&parent)?.transport {
            Transport::Tls(tls) => tls.negotiated(),
            _ => None,
        }
    }

    /// The certificates the client of `id` presented over TLS (the connection below, for an
    /// HTTP/2 stream).
    fn peer_certificates(
        &mut self,
        id: ConnId,
    ) -> Option<Arc<[rustls::pki_types::CertificateDer<'static>]>> {
        let parent = match &self.down.get(&id)?.transport {
            Transport::Stream(s) => s.parent,
            _ => id,
        };
        match &mut self.down.get_mut(&parent)?.transport {
            Transport::Tls(tls) => tls.peer_certificates(),
            _ => None,
        }
    }

    /// Runs the route's middlewares from `from` on, then sends the request on (or answers it).
    /// A middleware may ask for a delay (`rateLimit`): the request then waits in
    /// [`DState::Delayed`] and goes on from the next middleware when its deadline comes.
    pub(super) fn run_chain(
        &mut self,
        now: Timestamp,
        id: ConnId,
        mut req: ParsedRequest,
        mut routed: Routed,
        from: usize,
    ) {
        let config = routed.config.clone();
        let Some(ep) = config.entry_points.get(routed.ep) else {
            return self.close_down(id);
        };
        let router = &config.routers[routed.router];
        let chain = routed.chain.clone();
        let (tls, client_ip) = (routed.tls, routed.client_ip);
        let absolute_target = routed.absolute_target.clone();
        let certs = if chain.wants_peer_certificates() {
            self.peer_certificates(id)
        } else {
            None
        };
        {
            let cx = RequestContext {
                client_ip,
                tls,
                entry_point: &ep.name,
                absolute_target: absolute_target.as_deref(),
                now: now.0,
                started: routed.started.0,
                peer_certificates: certs.as_deref().unwrap_or(&[]),
            };
            for (i, m) in chain.iter().enumerate().skip(from) {
                if let Some(a) = routed.access.as_mut() {
                    if let Some(user) = m.client_username(&req.head) {
                        a.username = Some(user);
                    }
                }
                match m.on_request(&mut req.head, &cx) {
                    RequestAction::Continue => {
                        routed.suppress_xff |= m.suppresses_x_forwarded_for();
                    }
                    RequestAction::Hold(place) => {
                        routed.held.push(place);
                        routed.suppress_xff |= m.suppresses_x_forwarded_for();
                    }
                    RequestAction::Auth(call) => {
                        routed.suppress_xff |= m.suppresses_x_forwarded_for();
                        return self.start_auth(now, id, req, routed, i, call);
                    }
                    RequestAction::Errors(mark) => {
                        routed.suppress_xff |= m.suppresses_x_forwarded_for();
                        routed.extra().errors.push((i, mark));
                    }
                    RequestAction::Compress(choice) => {
                        routed.suppress_xff |= m.suppresses_x_forwarded_for();
                        routed.extra().compress.push(choice);
                    }
                    RequestAction::Retry(policy) => {
                        routed.suppress_xff |= m.suppresses_x_forwarded_for();
                        let point = super::retry::RetryPoint::new(policy, &req, &routed, i, now);
                        routed.extra().retry = Some(Box::new(point));
                    }
                    RequestAction::Delay(wait) => {
                        routed.suppress_xff |= m.suppresses_x_forwarded_for();
                        let at = Timestamp(now.0.saturating_add(wait));
                        let Some(d) = self.down.get_mut(&id) else {
                            return;
                        };
                        d.deadline = Some(at);
                        d.state = DState::Delayed(Box::new(Delayed {
                            req,
                            routed,
                            next: i + 1,
                        }));
                        self.note_deadline(Some(at));
                        return;
                    }
                    RequestAction::Respond(resp) => {
                        let resp = respond_through(&chain[..i], resp, &req.head, &cx);
                        let access = routed.access.take().map(|mut a| {
                            a.headers_after_middlewares(&req.head.headers);
                            a
                        });
                        return self.local_response(id, resp, &req, access);
                    }
                }
            }
        }
        if let Some(a) = &mut routed.access {
            a.headers_after_middlewares(&req.head.headers);
        }
        let suppress_xff = routed.suppress_xff;
        let held = std::mem::take(&mut routed.held);
        let client_text = routed.client_text.clone();
        let cx = RequestContext {
            client_ip,
            tls,
            entry_point: &ep.name,
            absolute_target: absolute_target.as_deref(),
            now: now.0,
            started: routed.started.0,
            peer_certificates: &[],
        };
        // The sticky cookies the client gets with the answer (Go's `http.SetCookie` before
        // the backend's lines).
        let mut sticky_cookies = Vec::new();
        let target = routed
            .extra
            .as_ref()
            .and_then(|e| e.target.clone())
            .unwrap_or_else(|| router.target.clone());
        let status = routed.extra.as_ref().and_then(|e| e.status);
        let svc_idx = match target {
            Target::Ping => {
                let resp = if self.shutting_down {
                    let code = config.ping_terminating_status;
                    LocalResponse::new(code, crate::http::status_text(code))
                } else {
                    LocalResponse::new(200, "OK")
                };
                let resp = respond_through(&chain, resp, &req.head, &cx);
                return self.local_response(
                    id,
                    with_status(resp, status),
                    &req,
                    routed.access.take(),
                );
            }
            Target::Noop => {
                let resp =
                    respond_through(&chain, LocalResponse::new(418, Vec::new()), &req.head, &cx);
                return self.local_response(
                    id,
                    with_status(resp, status),
                    &req,
                    routed.access.take(),
                );
            }
            Target::Service(i) => Ok(i),
            Target::Weighted(w) => super::weighted::pick(
                &config.services,
                &config.weighted,
                w,
                &req.head.headers,
                &mut sticky_cookies,
                now,
                client_ip,
            ),
        };
        let picked = svc_idx.and_then(|i| {
            let s = &config.services[i];
            s.pick(&req.head.headers, &mut sticky_cookies, now, client_ip)
                .map(|server| (i, s, server))
                .ok_or("no available server")
        });
        let (svc_idx, service, server_idx) = match picked {
            Ok(p) => p,
            Err(text) => {
                let mut answer = LocalResponse::go_error(503, text);
                for c in sticky_cookies {
                    answer.headers.append_shared("Set-Cookie", c);
                }
                let resp = respond_through(&chain, answer, &req.head, &cx);
                return self.local_response(
                    id,
                    with_status(resp, status),
                    &req,
                    routed.access.take(),
                );
            }
        };
        let server = &service.servers[server_idx];

        // The request as the backend sees it.
        // The request head and the chain are kept for the response only when some middleware
        // acts on responses (most act on requests only).
        let response_side = chain.has_response_side();
        let mw_request = response_side.then(|| (req.head.clone(), ep.name.clone()));
        let http10 = req.head.version == crate::http::Version::Http10;
        // The head moves to the backend request (no copy of its headers).
        let mut head = std::mem::replace(
            &mut req.head,
            crate::http::RequestHead {
                method: crate::http::Method::Borrowed(""),
                path: String::new(),
                raw_query: None,
                host: String::new(),
                version: crate::http::Version::Http11,
                headers: crate::http::Headers::new(),
            },
        );
        if server.preserve_path && !server.path.is_empty() {
            let base = server.path.trim_end_matches('/');
            head.path = format!("{base}{}", head.path);
        }
        let upgrade = if req.upgrade {
            head.headers.get("Upgrade").map(<[u8]>::to_vec)
        } else {
            None
        };
        let trailer = (req.body == RequestBody::Chunked)
            .then(|| forward::trailer_names(&head.headers, ","))
            .flatten();
        forward::upstream_request(
            &mut head,
            client_ip.map(|_| &client_text),
            ep.forwarded.not_append_xff || suppress_xff,
            upgrade.as_deref(),
        );
        // `Expect` goes on to the backend as Go's transport sends it (see `awaiting_continue`).
        let (req_body, req_chunked) = match req.body {
            RequestBody::None => {
                // Go's transport says `Content-Length: 0` for these methods without a body
                // ("many servers expect" it), and nothing for the others.
                if matches!(&*head.method, "POST" | "PUT" | "PATCH") {
                    head.headers.set("Content-Length", "0");
                } else {
                    head.headers.remove("Content-Length");
                }
                (BodyDecoder::new(Framing::Empty), false)
            }
            RequestBody::Length(n) => (BodyDecoder::new(Framing::Length(n)), false),
            RequestBody::Chunked => {
                head.headers.remove("Content-Length");
                head.headers.set("Transfer-Encoding", "chunked");
                if let Some(t) = trailer {
                    head.headers.set("Trailer", t);
                }
                (BodyDecoder::new(Framing::Chunked), true)
            }
        };
        // The client's host and method move out of the head once it is written.
        let host = if service.pass_host_header {
            std::mem::take(&mut head.host)
        } else {
            server.authority.clone()
        };
        // Go's transport asks for gzip itself when the client did not say (and not for ranges
        // or HEAD), after every other header, and then decompresses what it gets.
        let requested_gzip = head
            .headers
            .get("Accept-Encoding")
            .is_none_or(<[u8]>::is_empty)
            && head.headers.get("Range").is_none_or(<[u8]>::is_empty)
            && head.method != "HEAD";
        let head_bytes = upstream_request_head(&head, &host, requested_gzip);
        let method = std::mem::take(&mut head.method);

        let transport = service.transport.clone();
        let tls_id = match (&transport.tls, server.tls) {
            (Some(t), true) => t.id,
            _ => 0,
        };
        // Requests that upgrade the connection always use HTTP/1.1 (Traefik's smart round
        // tripper does the same).
        let proto = if req.upgrade {
            super::h2up::PROTO_HTTP1
        } else if server.h2c {
            super::h2up::PROTO_H2C
        } else if server.tls && transport.tls.as_ref().is_some_and(|t| t.http2) {
            super::h2up::PROTO_ALPN
        } else {
            super::h2up::PROTO_HTTP1
        };
        // `Expect: 100-continue` to an HTTP/1.1 backend waits for its 100 (see
        // `Txn::awaiting_continue`); to an HTTP/2 one the client is asked for the body at once
        // (Go's server answers 100 Continue as soon as the handler reads the body).
        // A retried attempt goes on with the body as the last one left it.
        let carried = routed.extra.as_mut().and_then(|e| e.carried.take());
        let expects = req.expect_continue
            && req.body != RequestBody::None
            && carried.as_ref().is_none_or(|c| c.expect_pending);
        let awaiting_continue = expects && proto == super::h2up::PROTO_HTTP1;
        if expects && !awaiting_continue {
            self.send(id, b"HTTP/1.1 100 Continue\r\n\r\n".to_vec());
        }
        let key = (server.host.clone(), server.port, tls_id, proto);
        // The connection first: the transaction then takes the key and transport (clones of
        // shared reference counts, which the workers would pass between them).
        let (up_id, reused) = self.open_upstream(now, &key, &transport, true);
        let (proto, response_header_timeout) = (key.3, transport.response_header_timeout);
        let retry = routed.extra.as_mut().and_then(|e| e.retry.take());
        let (req_body, pending, request_done, kept_body) = match carried {
            Some(c) => {
                let c = *c;
                (c.decoder, c.pending, c.done, c.kept)
            }
            None => {
                // A body status retries may send again is kept as it goes.
                let kept = retry
                    .as_ref()
                    .filter(|_| req.body != RequestBody::None)
                    .and_then(|p| p.body_limit(&method))
                    .map(|max| Box::new(super::retry::KeptBody::new(max)));
                (req_body, Vec::new(), req.body == RequestBody::None, kept)
            }
        };
        // Most requests meet no middleware that leaves anything: nothing is built for them.
        // A `p2c` or `leasttime` service counts the request in flight until it is done.
        let inflight = service.begin(server_idx, now);
        let extra = if routed.extra.is_none() && kept_body.is_none() && inflight.is_none() {
            None
        } else {
            let page = routed
                .extra
                .as_ref()
                .is_some_and(|e| !e.errors.is_empty())
                .then(|| Box::new(routed.snapshot()));
            let (compress, auth_cookies) = routed
                .extra
                .as_mut()
                .map(|e| {
                    (
                        std::mem::take(&mut e.compress),
                        std::mem::take(&mut e.auth_cookies),
                    )
                })
                .unwrap_or_default();
            let x = super::txn::TxnExtra {
                retry,
                kept_body,
                compress,
                status_override: status,
                page,
                auth: None,
                auth_cookies,
                inflight,
            };
            x.is_used().then(|| Box::new(x))
        };
        let txn = Txn {
            up: None,
            req_body,
            req_chunked,
            pending_head: None,
            pending,
            request_done,
            interim: 0,
            reused: false,
            retry_head: None,
            retryable: false,
            key,
            transport,
            http10,
            head_request: method == "HEAD",
            keep_alive: req.keep_alive && !self.shutting_down,
            upgrade,
            resp: None,
            response_header_timeout,
            method,
            access: routed.access.take().map(|mut a| {
                a.service = Some(service.name.clone());
                a.server = Some(server.url.clone());
                a.server_addr = Some(server.authority.clone());
                a.origin_started = Some(now);
                a
            }),
            middlewares: chain,
            mw_request,
            client_ip,
            started: routed.started.0,
            absolute_target: absolute_target.clone(),
            tls,
            requested_gzip,
            awaiting_continue,
            body_refused: false,
            sticky_cookies,
            sniff_wait: None,
            held,
            passive: service
                .passive
                .is_some()
                .then(|| (config.clone(), svc_idx, server_idx)),
            extra,
        };
        let idempotent = matches!(&*txn.method, "GET" | "HEAD" | "OPTIONS" | "TRACE");
        // Kept to send again: an idempotent request on a reused pooled connection, or any
        // request without a body that may go out as an HTTP/2 stream (a refused stream): on
        // `h2c://`, or `https://` unless it took a pooled connection, which speaks HTTP/1.1.
        let may_be_stream =
            proto == super::h2up::PROTO_H2C || (proto == super::h2up::PROTO_ALPN && !reused);
        let retryable = idempotent && txn.request_done && txn.upgrade.is_none();
        // Kept and sent, one buffer: the copy for a retry costs a reference count.
        let head_bytes = bytes::Bytes::from(head_bytes);
        let retry_head = (((reused && idempotent) || may_be_stream)
            && txn.request_done
            && txn.upgrade.is_none())
        .then(|| head_bytes.clone());
        let Some(d) = self.down.get_mut(&id) else {
            return;
        };
        d.state = DState::Active(Box::new(Txn {
            up: Some(up_id),
            reused,
            retry_head,
            retryable,
            ..txn
        }));
        if let DState::Active(t) = &mut d.state {
            t.pending_head = Some(head_bytes);
        }
        let u = self.up.get_mut(&up_id).expect("upstream just chosen");
        u.down = Some(id);
        if u.state == UState::Idle {
            u.state = UState::Busy;
            u.deadline = None;
            self.flush_pending(now, id);
        }
    }

    /// An upstream connection to `key`: an idle pooled one when `may_reuse` and one is there
    /// (returned with `true`), else a new one being dialled.
    pub(super) fn open_upstream(
        &mut self,
        now: Timestamp,
        key: &super::worker::ServerKey,
        transport: &super::compile::TransportSettings,
        may_reuse: bool,
    ) -> (ConnId, bool) {
        if key.3 == super::h2up::PROTO_H2C {
            return (self.open_stream_upstream(now, key, transport), false);
        }
        if key.3 == super::h2up::PROTO_ALPN {
            // A backend that chose HTTP/2 earlier: a stream on its connection.
            if let Some(session) = self.find_session(key) {
                return (self.new_stream_up(session), false);
            }
        }
        if may_reuse {
            while let Some(c) = self.pools.get_mut(key).and_then(Vec::pop) {
                if let Some(u) = self.up.get_mut(&c) {
                    u.pooled = false;
                    return (c, true);
                }
            }
        }
        (self.dial_upstream(now, key, transport), false)
    }

    /// A new connection to `key` being dialled.
    pub(super) fn dial_upstream(
        &mut self,
        now: Timestamp,
        key: &super::worker::ServerKey,
        transport: &super::compile::TransportSettings,
    ) -> ConnId {
        let c = self.alloc();
        let deadline = now.after(transport.dial_timeout);
        // An https:// server: the TLS session starts with the connection (an unusable server
        // name is a failed handshake).
        let tls = match (&transport.tls, key.2) {
            (Some(t), id) if id != 0 => Some(
                crate::tls::ClientTls::new(t, &key.0, key.3 == super::h2up::PROTO_ALPN)
                    .map(Box::new),
            ),
            _ => None,
        };
        let tls_unusable = matches!(tls, Some(Err(_)));
        let tls = tls.and_then(Result::ok);
        let handshaking = tls.is_some();
        self.up.insert(
            c,
            Up {
                key: key.clone(),
                down: None,
                state: UState::Connecting,
                input: super::inbox::Inbox::default(),
                deadline: Some(deadline),
                unacked: 0,
                paused: false,
                max_idle: transport.max_idle_per_host,
                idle_timeout: transport.idle_conn_timeout,
                tls,
                tls_unusable,
                handshaking,
                mux: super::h2up::Mux::None,
                pooled: false,
            },
        );
        self.note_deadline(Some(deadline));
        if key.2 == 0 && key.3 == super::h2up::PROTO_HTTP1 {
            self.dialing.entry(key.clone()).or_default().push(c);
        }
        self.out.push_back(Output::Connect {
            conn: c,
            host: key.0.to_string(),
            port: key.1,
        });
        c
    }

    /// The upstream is ready: sends what was kept for it.
    pub(super) fn flush_pending(&mut self, now: Timestamp, down: ConnId) {
        let Some(d) = self.down.get_mut(&down) else {
            return;
        };
        let DState::Active(txn) = &mut d.state else {
            return;
        };
        let Some(up) = txn.up else { return };
        let head = txn.pending_head.take();
        // The body of an `Expect: 100-continue` request waits for the backend's 100, or the
        // timeout from now.
        let wait = txn
            .awaiting_continue
            .then(|| now.after(super::txn::EXPECT_CONTINUE_TIMEOUT));
        let pending = if wait.is_some() {
            Vec::new()
        } else {
            std::mem::take(&mut txn.pending)
        };
        let rht = txn.response_header_timeout;
        if wait.is_some() {
            d.deadline = wait;
        }
        self.note_deadline(wait);
        let deadline = (rht.0 > 0).then(|| now.after(rht));
        if let Some(u) = self.up.get_mut(&up) {
            u.deadline = deadline;
        }
        self.note_deadline(deadline);
        if let Some(head) = head {
            self.send(up, head);
        }
        self.send(up, pending);
        self.resume(down);
        self.drive_down(now, down);
    }

    /// The body of an `Expect: 100-continue` request may go: the backend asked for it (its
    /// 100 was relayed) or the wait is over (`tell_client`: the client gets its 100 now, as
    /// Go's server sends it when the body is first read).
    pub(super) fn release_body(&mut self, now: Timestamp, down: ConnId, tell_client: bool) {
        let Some(d) = self.down.get_mut(&down) else {
            return;
        };
        let DState::Active(txn) = &mut d.state else {
            return;
        };
        if !std::mem::replace(&mut txn.awaiting_continue, false) {
            return;
        }
        d.deadline = None;
        // Body bytes that came anyway go now, unless the head itself still waits for the
        // connection (then they follow it).
        let up = txn.up.filter(|_| txn.pending_head.is_none());
        let pending = if up.is_some() {
            std::mem::take(&mut txn.pending)
        } else {
            Vec::new()
        };
        if tell_client {
            self.send(down, b"HTTP/1.1 100 Continue\r\n\r\n".to_vec());
        }
        if let Some(up) = up {
            self.send(up, pending);
        }
        self.resume(down);
        self.drive_down(now, down);
    }

    pub(super) fn down_eof(&mut self, now: Timestamp, id: ConnId) {
        let Some(d) = self.down.get_mut(&id) else {
            return;
        };
        if d.h2.is_some() {
            return self.h2_eof(id);
        }
        d.read_closed = true;
        match &d.state {
            // A body being discarded ends early: the answer still goes out (see `Discard`).
            DState::Head | DState::Discard(_) | DState::Linger => self.drive_down(now, id),
            DState::Active(_) | DState::Tunnel(_) | DState::Delayed(_) => self.abort_down(id),
        }
    }

    pub(super) fn down_timeout(&mut self, now: Timestamp, id: ConnId) {
        if let Some(d) = self.down.get_mut(&id) {
            if matches!(d.state, DState::Delayed(_)) {
                // A delayed request's time has come: it goes on through its middlewares.
                let DState::Delayed(delayed) = std::mem::replace(&mut d.state, DState::Head) else {
                    return;
                };
                d.deadline = None;
                let Delayed { req, routed, next } = *delayed;
                return self.run_chain(now, id, req, routed, next);
            }
        }
        if self
            .down
            .get(&id)
            .is_some_and(|d| matches!(&d.state, DState::Active(t) if t.awaiting_continue))
        {
            // No 100 from the backend in time: the body goes, and the client is asked for it.
            return self.release_body(now, id, true);
        }
        if self
            .down
            .get(&id)
            .is_some_and(|d| matches!(d.state, DState::Discard(_)))
        {
            // The body did not come within the read timeout: answered, then closed.
            return self.end_discard(id, After::Close);
        }
        self.abort_down(id);
    }
}

/// A request routed and past the entry point's handling, on its way through its middlewares.
pub(super) struct Routed {
    /// The configuration it was routed with (a reload while it waits does not change it).
    pub config: Arc<super::compile::CompiledConfig>,
    pub ep: usize,
    pub router: usize,
    pub chain: crate::middleware::Chain,
    pub tls: bool,
    pub client_ip: Option<std::net::IpAddr>,
    pub client_text: bytes::Bytes,
    pub absolute_target: Option<String>,
    /// A middleware said not to add `X-Forwarded-For`.
    pub suppress_xff: bool,
    /// Places held by `inFlightReq` middlewares.
    pub held: Vec<crate::middleware::InFlight>,
    /// What `retry`, `compress`, `errors` and `forwardAuth` middlewares left with the
    /// request (most requests meet none: one pointer to carry).
    pub extra: Option<Box<RoutedExtra>>,
    /// When it was routed.
    pub started: Timestamp,
    /// Its access-log record, while it has one to be written.
    pub access: Option<Box<AccessRecord>>,
}

/// What some middlewares leave with a routed request (see [`Routed::extra`]).
#[derive(Default)]
pub(super) struct RoutedExtra {
    /// The innermost `retry` middleware's point, while it may send the request again.
    pub retry: Option<Box<super::retry::RetryPoint>>,
    /// The body a retried attempt carries from the one before.
    pub carried: Option<Box<super::retry::CarriedBody>>,
    /// What `compress` middlewares decided, outermost first.
    pub compress: Vec<crate::middleware::CompressChoice>,
    /// `errors` middlewares the request went through, outermost first, with their place in
    /// the chain.
    pub errors: Vec<(usize, crate::middleware::ErrorsMark)>,
    /// Where the request goes instead of the router's service (an `errors` page request).
    pub target: Option<super::compile::Target>,
    /// The status the answer gets whatever it is (an `errors` page).
    pub status: Option<u16>,
    /// Cookies of auth answers for the response (`forwardAuth`).
    pub auth_cookies: Vec<super::txn::AuthCookies>,
}

impl Routed {
    /// A copy for a `retry` middleware's point: without the places held (they stay with the
    /// request) or a carried body.
    pub fn snapshot(&self) -> Routed {
        Routed {
            config: self.config.clone(),
            ep: self.ep,
            router: self.router,
            chain: self.chain.clone(),
            tls: self.tls,
            client_ip: self.client_ip,
            client_text: self.client_text.clone(),
            absolute_target: self.absolute_target.clone(),
            suppress_xff: self.suppress_xff,
            held: Vec::new(),
            extra: self.extra.as_ref().map(|e| {
                Box::new(RoutedExtra {
                    retry: e.retry.as_ref().map(|r| Box::new(r.snapshot())),
                    carried: None,
                    compress: e.compress.clone(),
                    errors: e.errors.clone(),
                    target: e.target.clone(),
                    status: e.status,
                    auth_cookies: e.auth_cookies.clone(),
                })
            }),
            started: self.started,
            // The record stays with the request (a retry or an error page takes it from the
            // exchange).
            access: None,
        }
    }

    /// The middlewares' extra state, made when first needed.
    pub fn extra(&mut self) -> &mut RoutedExtra {
        self.extra.get_or_insert_with(Box::default)
    }
}

/// A request a middleware delays (`rateLimit`): it goes on from middleware `next` when the
/// connection's deadline comes.
pub(super) struct Delayed {
    pub req: ParsedRequest,
    pub routed: Routed,
    pub next: usize,
}

/// `resp` with the status an `errors` page must have, if any.
fn with_status(mut resp: LocalResponse, status: Option<u16>) -> LocalResponse {
    if let Some(code) = status {
        resp.status = code;
    }
    resp
}

/// Runs the response side of `chain` (in reverse) over a response TrafficCop produced itself;
/// its type is guessed when a `contentType` middleware of `chain` asks.
pub(super) fn respond_through(
    chain: &[Arc<dyn Middleware>],
    resp: LocalResponse,
    request: &RequestHead,
    cx: &RequestContext<'_>,
) -> LocalResponse {
    if chain.is_empty() {
        return resp;
    }
    let mut head = ResponseHead {
        status: resp.status,
        version: crate::http::Version::Http11,
        headers: resp.headers,
    };
    for m in chain.iter().rev() {
        m.on_response(&mut head, request, cx);
    }
    LocalResponse {
        status: head.status,
        headers: head.headers,
        body: resp.body,
        sniff: resp.sniff || chain.iter().any(|m| m.sniffs_content_type()),
    }
}
