//! HTTP/2 client connections (ALPN `h2` over TLS, or h2c with prior knowledge). Each stream
//! becomes a *virtual* client connection that the HTTP/1.1 pipeline serves unchanged: the
//! request head and body are written to it as an HTTP/1.1 message (the virtual connection ends
//! with its exchange), and the HTTP/1.1 response the pipeline writes
//! back is parsed and re-sent as HTTP/2 frames. Routing, middlewares, forwarding, upstream
//! pooling and every status code are therefore those of the HTTP/1.1 path. Virtual
//! connections never reach the adapter: their output, pauses and closes go to the parent's
//! [`H2Server`].

use std::collections::BTreeMap;
use std::sync::Arc;

use bytes::Bytes;

use crate::h1::{parse_response, BodyDecoder};
use crate::h2::{H2Event, H2Server, StreamKey};

use super::h2_request::{direct_request, request_head};
use super::io::{ConnId, Timestamp};
use super::worker::{DState, Down, Transport, Worker, HIGH_WATER};

/// The HTTP/2 side of a client connection.
pub(super) struct H2Down {
    pub server: H2Server,
    /// Open streams and their virtual connections.
    pub streams: BTreeMap<StreamKey, ConnId>,
}

/// A virtual client connection carrying one stream.
pub(super) struct StreamDown {
    pub parent: ConnId,
    pub key: StreamKey,
    /// The request body is chunk-encoded for the pipeline (no content-length was given).
    pub chunked_request: bool,
    pub head_request: bool,
    /// The connection below is TLS, with these options.
    pub tls: bool,
    pub tls_options: Option<Arc<str>>,
    resp_buf: Vec<u8>,
    resp: RespState,
}

enum RespState {
    Head,
    Body(BodyDecoder),
    Done,
}

impl StreamDown {
    /// Body bytes of a length-delimited response with nothing buffered (the common case):
    /// the body part of `data`, as it is, and whether it ends the body (bytes past the length
    /// are dropped, as the buffered path drops them). `None`: the buffered path decodes it.
    fn length_body(&mut self, data: &[u8]) -> Option<(Bytes, bool)> {
        if !self.resp_buf.is_empty() {
            return None;
        }
        let RespState::Body(dec) = &mut self.resp else {
            return None;
        };
        if !matches!(dec.framing(), crate::h1::Framing::Length(_)) || dec.is_done() {
            return None;
        }
        let Ok((_, crate::h1::Decoded::Data(range))) = dec.decode(data) else {
            return None;
        };
        let end = dec.is_done();
        if end {
            self.resp = RespState::Done;
        }
        Some((Bytes::copy_from_slice(&data[range]), end))
    }
}

/// Connection-specific fields HTTP/2 forbids (RFC 9113 8.2.2), dropped in both directions
/// (towards clients here, towards backends in `h2up`).
pub(super) const CONNECTION_SPECIFIC: &[&str] = &[
    "connection",
    "keep-alive",
    "proxy-connection",
    "transfer-encoding",
    "upgrade",
];

/// HTTP/1.1 trailer lines as HTTP/2 trailer fields (lower-case names; connection-specific
/// and invalid fields left out).
pub(super) fn header_map(lines: &[u8]) -> http::HeaderMap {
    let mut map = http::HeaderMap::new();
    for (name, value) in crate::h1::trailer_fields(lines) {
        let lower = name.to_ascii_lowercase();
        if CONNECTION_SPECIFIC.iter().any(|c| c.as_bytes() == lower) {
            continue;
        }
        if let (Ok(n), Ok(v)) = (
            http::HeaderName::from_bytes(&lower),
            http::HeaderValue::from_bytes(value),
        ) {
            map.append(n, v);
        }
    }
    map
}

/// Where a field goes in an HTTP/2 response head: a guessed `content-type` (rank 1, see
/// [`response_head`]), `content-length`, then `date` last.
fn field_rank(name: &str) -> u8 {
    match name.len() {
        14 if name.eq_ignore_ascii_case("content-length") => 2,
        4 if name.eq_ignore_ascii_case("date") => 3,
        _ => 0,
    }
}

/// The HTTP/2 head for an HTTP/1.1 response head, in the order Go's HTTP/2 server writes
/// fields: the others sorted by name, then `content-length`, then the server's `date` (added
/// when the head has none and `date` is not empty). A `Date` of the head's own is one of the
/// sorted fields when `own_date_sorted` (a backend's, as Traefik sends it); heads the pipeline
/// wrote and this worker parsed back carry the server's `Date`, which stays last.
fn response_head(
    head: &crate::http::ResponseHead,
    date: &Bytes,
    own_date_sorted: bool,
    sniffed: Option<&str>,
) -> http::Response<()> {
    let lines = &head.headers;
    let with_date = !date.is_empty() && !lines.contains("Date");
    // Go's HTTP/2 server writes a type it guessed after the handler's fields.
    let sniffed_line = sniffed.map(|t| ("Content-Type", Bytes::copy_from_slice(t.as_bytes())));
    // Sorted as keys (rank, the name's first sixteen bytes as one integer, line index; the
    // indexes after the last line are the added `Date`, then the guessed type), the whole
    // names compared on a tie; stable, so lines of one name keep their order.
    let added_date = lines.len() + usize::from(with_date);
    let name = |i: usize| match lines.line(i) {
        Some(h) => &*h.name,
        None if i < added_date => "Date",
        None => "Content-Type",
    };
    let count = added_date + usize::from(sniffed_line.is_some());
    let mut order: Vec<(u8, u128, usize)> = (0..count)
        .map(|i| {
            let n = name(i);
            let rank = match field_rank(n) {
                _ if i >= added_date => 1,
                3 if own_date_sorted && i < lines.len() => 0,
                r => r,
            };
            (rank, crate::h1::name_prefix(n), i)
        })
        .collect();
    order.sort_by(|a, b| {
        (a.0, a.1)
            .cmp(&(b.0, b.1))
            .then_with(|| name(a.2).cmp(name(b.2)))
    });
    h2_head(
        head.status,
        order.iter().map(|&(_, _, i)| match lines.line(i) {
            Some(h) => (&*h.name, h.value.clone()),
            None if i < added_date => ("Date", date.clone()),
            None => sniffed_line
                .clone()
                .unwrap_or(("Content-Type", Bytes::new())),
        }),
    )
}

/// Builds the head from `(name, value)` lines in order, leaving out connection-specific and
/// invalid fields; values are shared, not copied.
fn h2_head<'a>(
    status: u16,
    lines: impl ExactSizeIterator<Item = (&'a str, Bytes)>,
) -> http::Response<()> {
    let mut resp = http::Response::new(());
    *resp.status_mut() =
        http::StatusCode::from_u16(status).unwrap_or(http::StatusCode::BAD_GATEWAY);
    let headers = resp.headers_mut();
    headers.reserve(lines.len());
    for (name, value) in lines {
        // Standard names are recognised case-insensitively without a lower-case copy.
        let Ok(name) = http::HeaderName::from_bytes(name.as_bytes()) else {
            continue;
        };
        if CONNECTION_SPECIFIC.contains(&name.as_str()) {
            continue;
        }
        let Ok(value) = http::HeaderValue::from_maybe_shared(value) else {
            continue;
        };
        headers.append(name, value);
    }
    resp
}

impl Worker {
    /// Switches a client connection to HTTP/2; `data` is what it sent so far.
    pub(super) fn start_h2(&mut self, now: Timestamp, id: ConnId, data: &[u8]) {
        let Some(d) = self.down.get_mut(&id) else {
            return;
        };
        let settings = self
            .config
            .entry_points
            .get(d.ep)
            .map(|e| e.h2)
            .unwrap_or_default();
        let mut server = H2Server::new(settings);
        server.receive(data);
        d.h2 = Some(Box::new(H2Down {
            server,
            streams: BTreeMap::new(),
        }));
        self.mark_h2(id);
        self.settle_h2(now);
    }

    /// Bytes for an HTTP/2 connection.
    pub(super) fn h2_received(&mut self, id: ConnId, data: &[u8]) {
        if let Some(h2) = self.down.get_mut(&id).and_then(|d| d.h2.as_mut()) {
            h2.server.receive(data);
            self.mark_h2(id);
        }
    }

    /// The client of an HTTP/2 connection finished sending.
    pub(super) fn h2_eof(&mut self, id: ConnId) {
        if let Some(h2) = self.down.get_mut(&id).and_then(|d| d.h2.as_mut()) {
            h2.server.receive_eof();
            self.mark_h2(id);
        }
    }

    pub(super) fn mark_h2(&mut self, id: ConnId) {
        if !self.h2_dirty.contains(&id) {
            self.h2_dirty.push(id);
        }
    }

    /// Drives every HTTP/2 connection touched by the last call until nothing moves: events
    /// become virtual-connection input, queued frames are sent, finished connections close.
    pub(super) fn settle_h2(&mut self, now: Timestamp) {
        let mut rounds = 0;
        while let Some(id) = self.h2_dirty.pop() {
            rounds += 1;
            if rounds > 10_000 {
                break;
            }
            if self.up.contains_key(&id) {
                self.settle_session(now, id);
                continue;
            }
            let Some(d) = self.down.get_mut(&id) else {
                continue;
            };
            // A client that does not read: leave everything queued until it does.
            if d.unacked > HIGH_WATER {
                continue;
            }
            let Some(h2) = d.h2.as_mut() else {
                continue;
            };
            // Handling an event may poll another connection, which then takes a new list.
            let mut events = std::mem::take(&mut self.h2_events);
            h2.server.poll(&mut events);
            let out = h2.server.take_output();
            let closed = h2.server.is_closed();
            let idle = h2.streams.is_empty() && events.is_empty();
            self.send(id, out);
            for e in events.drain(..) {
                self.h2_event(now, id, e);
            }
            self.h2_events = events;
            self.update_stream_backpressure(id);
            if closed {
                self.abort_down(id);
            } else if idle && self.shutting_down {
                self.close_down(id);
            }
            // Whatever the events made the pipeline do on a stream (a response, a pause, a
            // close) marked this connection again: the loop polls it once more.
        }
    }

    fn h2_event(&mut self, now: Timestamp, parent: ConnId, event: H2Event) {
        match event {
            H2Event::Request {
                stream,
                head,
                end_stream,
            } => {
                let Some(p) = self.down.get_mut(&parent) else {
                    return;
                };
                p.deadline = None;
                let (tls, tls_options) = match &p.transport {
                    Transport::Tls(t) => (true, t.options_name().cloned()),
                    _ => (false, None),
                };
                let (ep, peer) = (p.ep, p.peer);
                // The client address's text is written once per connection, not per stream.
                let peer_text = p
                    .peer_text
                    .get_or_insert_with(|| {
                        let ip = peer.ip().to_canonical();
                        (ip, super::forward::ip_text(ip))
                    })
                    .clone();
                let limit = self
                    .config
                    .entry_points
                    .get(ep)
                    .map_or(1 << 20, |e| e.max_header_bytes);
                // The parsed request directly when that is certain, else the HTTP/1.1 bytes.
                let (request, chunked) = match direct_request(&head, end_stream, limit) {
                    Some((parsed, chunked)) => (Ok(parsed), chunked),
                    None => {
                        let (bytes, chunked) = request_head(&head, end_stream);
                        (Err(bytes), chunked)
                    }
                };
                let vid = self.alloc();
                let mut down = Down::new(
                    ep,
                    peer,
                    now,
                    None,
                    Transport::Stream(Box::new(StreamDown {
                        parent,
                        key: stream,
                        chunked_request: chunked,
                        head_request: head.method == http::Method::HEAD,
                        tls,
                        tls_options,
                        resp_buf: Vec::new(),
                        resp: RespState::Head,
                    })),
                );
                down.peer_text = Some(peer_text);
                self.down.insert(vid, down);
                if let Some(h2) = self.down.get_mut(&parent).and_then(|d| d.h2.as_mut()) {
                    h2.streams.insert(stream, vid);
                }
                match request {
                    Ok(parsed) => self.start_parsed_request(now, vid, parsed),
                    Err(bytes) => self.down_plaintext(now, vid, bytes.into()),
                }
            }
            H2Event::Data {
                stream,
                data,
                end_stream,
            } => {
                let Some(vid) = self.stream_conn(parent, stream) else {
                    return;
                };
                let chunked = matches!(
                    self.down.get(&vid).map(|d| &d.transport),
                    Some(Transport::Stream(s)) if s.chunked_request
                );
                if !chunked {
                    // The stream's bytes go on as they are.
                    if !data.is_empty() {
                        self.down_plaintext(now, vid, data);
                    }
                } else {
                    let mut bytes = Vec::with_capacity(data.len() + 16);
                    crate::h1::encode_chunk(&data, &mut bytes);
                    if end_stream {
                        bytes.extend_from_slice(crate::h1::LAST_CHUNK);
                    }
                    if !bytes.is_empty() {
                        self.down_plaintext(now, vid, bytes.into());
                    }
                }
            }
            H2Event::Trailers { stream, .. } => {
                // The body ends; its trailers are not relayed (Traefik sends none to backends).
                let Some(vid) = self.stream_conn(parent, stream) else {
                    return;
                };
                let chunked = matches!(
                    self.down.get(&vid).map(|d| &d.transport),
                    Some(Transport::Stream(s)) if s.chunked_request
                );
                if chunked {
                    self.down_plaintext(now, vid, Bytes::from_static(crate::h1::LAST_CHUNK));
                }
            }
            H2Event::Reset { stream } => {
                if let Some(vid) = self.stream_conn(parent, stream) {
                    self.abort_down(vid);
                }
            }
            // A server never sees responses.
            H2Event::Response { .. } | H2Event::Refused { .. } => {}
        }
    }

    fn stream_conn(&self, parent: ConnId, stream: StreamKey) -> Option<ConnId> {
        self.down
            .get(&parent)
            .and_then(|d| d.h2.as_ref())
            .and_then(|h| h.streams.get(&stream).copied())
    }

    /// After a response part was queued on a stream: the virtual connection counts what the
    /// stream holds unsent (`pending` bytes), and the connection is polled again.
    fn stream_queued(&mut self, vid: ConnId, parent: ConnId, pending: usize) {
        if let Some(d) = self.down.get_mut(&vid) {
            d.unacked = pending;
        }
        self.mark_h2(parent);
    }

    /// The HTTP/1.1 response bytes the pipeline wrote to a virtual connection, re-sent as
    /// HTTP/2 on its stream.
    pub(super) fn stream_send(&mut self, vid: ConnId, data: &[u8]) {
        let Some(d) = self.down.get_mut(&vid) else {
            return;
        };
        let Transport::Stream(st) = &mut d.transport else {
            return;
        };
        let (parent, key) = (st.parent, st.key);
        if let Some((chunk, end)) = st.length_body(data) {
            let Some(h2) = self.down.get_mut(&parent).and_then(|d| d.h2.as_mut()) else {
                return;
            };
            h2.server.send_data(key, chunk, end);
            let pending = h2.server.pending(key);
            self.stream_queued(vid, parent, pending);
            return;
        }
        st.resp_buf.extend_from_slice(data);
        let mut interim: Vec<http::Response<()>> = Vec::new();
        let mut heads: Vec<(http::Response<()>, bool)> = Vec::new();
        let mut chunks: Vec<(Bytes, bool)> = Vec::new();
        let mut trailers: Option<http::HeaderMap> = None;
        loop {
            match &mut st.resp {
                RespState::Done => {
                    st.resp_buf.clear();
                    break;
                }
                RespState::Head => match parse_response(&st.resp_buf, st.head_request) {
                    Ok(Some((resp, n))) => {
                        st.resp_buf.drain(..n);
                        if (100..200).contains(&resp.head.status) {
                            // Interim responses (103 Early Hints, ...) go out as they come,
                            // as Go's reverse proxy relays them.
                            if resp.head.status != 101 {
                                interim.push(response_head(&resp.head, &Bytes::new(), false, None));
                            }
                            continue;
                        }
                        let empty = matches!(resp.framing, crate::h1::Framing::Empty);
                        heads.push((response_head(&resp.head, &Bytes::new(), false, None), empty));
                        st.resp = if empty {
                            RespState::Done
                        } else {
                            RespState::Body(BodyDecoder::new(resp.framing))
                        };
                    }
                    Ok(None) => break,
                    Err(_) => {
                        st.resp = RespState::Done;
                        break;
                    }
                },
                RespState::Body(dec) => {
                    let mut data = Vec::new();
                    let done = dec.decode_buffered(&mut st.resp_buf, &mut data);
                    chunks.extend(data.into_iter().map(|d| (d, false)));
                    match done {
                        Ok(false) => break,
                        Ok(true) => {
                            let fields = header_map(&dec.take_trailers());
                            if fields.is_empty() {
                                chunks.push((Bytes::new(), true));
                            } else {
                                trailers = Some(fields);
                            }
                            st.resp = RespState::Done;
                        }
                        Err(_) => {
                            chunks.push((Bytes::new(), true));
                            st.resp = RespState::Done;
                        }
                    }
                }
            }
        }
        let Some(h2) = self.down.get_mut(&parent).and_then(|d| d.h2.as_mut()) else {
            return;
        };
        for head in interim {
            h2.server.respond_informational(key, head);
        }
        for (head, end) in heads {
            h2.server.respond(key, head, end);
        }
        for (data, end) in chunks {
            h2.server.send_data(key, data, end);
        }
        if let Some(t) = trailers {
            h2.server.send_trailers(key, t);
        }
        let pending = h2.server.pending(key);
        self.stream_queued(vid, parent, pending);
    }

    /// A final response head for a stream, as the pipeline would write it over HTTP/1.1 with
    /// `framing` (what its body is then written as), sent without the round trip through
    /// HTTP/1.1 bytes. A stream whose response already started falls back to those bytes.
    pub(super) fn stream_respond(
        &mut self,
        vid: ConnId,
        head: &crate::http::ResponseHead,
        framing: crate::h1::Framing,
        sniffed: Option<&str>,
    ) {
        let Some(Transport::Stream(st)) = self.down.get_mut(&vid).map(|d| &mut d.transport) else {
            return;
        };
        if !matches!(st.resp, RespState::Head) || !st.resp_buf.is_empty() {
            let mut out = Vec::new();
            crate::h1::encode_response_head_sized(head, false, &self.date, None, sniffed, &mut out);
            return self.stream_send(vid, &out);
        }
        let empty = matches!(framing, crate::h1::Framing::Empty);
        st.resp = if empty {
            RespState::Done
        } else {
            RespState::Body(BodyDecoder::new(framing))
        };
        let (parent, key) = (st.parent, st.key);
        let h2head = response_head(head, &self.date, true, sniffed);
        let Some(h2) = self.down.get_mut(&parent).and_then(|d| d.h2.as_mut()) else {
            return;
        };
        h2.server.respond(key, h2head, empty);
        let pending = h2.server.pending(key);
        self.stream_queued(vid, parent, pending);
    }

    /// A virtual connection ends: its stream ends (reset when its response is incomplete).
    pub(super) fn stream_closed(&mut self, d: &Down) {
        self.end_stream(d, None);
    }

    /// A stream whose request the HTTP/1.1 parser refused as malformed (`vid` is its virtual
    /// connection): reset with `PROTOCOL_ERROR`, as Go's HTTP/2 server treats a request it
    /// cannot read (a bad escape in `:path`), where an HTTP/1.1 client gets a 400.
    pub(super) fn stream_malformed(&mut self, vid: ConnId) {
        if let Some(d) = super::io::remove_shrinking(&mut self.down, &vid) {
            self.end_stream(&d, Some(h2::Reason::PROTOCOL_ERROR));
        }
    }

    /// Ends a stream whose virtual connection `d` is gone: its response goes out if complete
    /// (else the stream is reset), or it is reset with `reset`.
    fn end_stream(&mut self, d: &Down, reset: Option<h2::Reason>) {
        let Transport::Stream(st) = &d.transport else {
            return;
        };
        let (parent, key) = (st.parent, st.key);
        let complete = matches!(st.resp, RespState::Done);
        let Some(p) = self.down.get_mut(&parent) else {
            return;
        };
        let Some(h2) = p.h2.as_mut() else {
            return;
        };
        h2.streams.remove(&key);
        match reset {
            Some(reason) => h2.server.reset_stream(key, reason),
            None => h2.server.close_stream(key, !complete),
        }
        let idle = h2.streams.is_empty() && matches!(p.state, DState::Head);
        self.mark_h2(parent);
        if idle {
            self.arm_idle(parent);
        }
    }

    /// Pausing a virtual connection stops reading its stream's body.
    pub(super) fn stream_pause(&mut self, vid: ConnId, paused: bool) {
        let Some(Transport::Stream(st)) = self.down.get(&vid).map(|d| &d.transport) else {
            return;
        };
        let (parent, key) = (st.parent, st.key);
        if let Some(h2) = self.down.get_mut(&parent).and_then(|d| d.h2.as_mut()) {
            h2.server.set_paused(key, paused);
        }
        self.mark_h2(parent);
    }

    /// After the connection wrote what it could: streams whose queued response shrank let
    /// their upstream read again.
    fn update_stream_backpressure(&mut self, parent: ConnId) {
        let Some(h2) = self.down.get(&parent).and_then(|d| d.h2.as_ref()) else {
            return;
        };
        // A scratch list kept by the worker (this runs after every event on the connection).
        let mut streams = std::mem::take(&mut self.stream_scratch);
        streams.clear();
        streams.extend(h2.streams.iter().map(|(k, v)| (*v, h2.server.pending(*k))));
        for &(vid, pending) in &streams {
            let Some(d) = self.down.get_mut(&vid) else {
                continue;
            };
            d.unacked = pending;
            if pending > HIGH_WATER {
                continue;
            }
            // Only an upstream that was paused needs resuming (this runs after every event).
            let up = match &d.state {
                DState::Active(t) => t.up,
                DState::Tunnel(u) => Some(*u),
                DState::Head | DState::Discard(_) | DState::Linger | DState::Delayed(_) => None,
            };
            if let Some(p) = up.filter(|p| self.up.get(p).is_some_and(|u| u.paused)) {
                self.resume(p);
            }
        }
        self.stream_scratch = streams;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stream_with_body(framing: crate::h1::Framing) -> StreamDown {
        StreamDown {
            parent: ConnId(1),
            key: StreamKey::default(),
            chunked_request: false,
            head_request: false,
            tls: false,
            tls_options: None,
            resp_buf: Vec::new(),
            resp: RespState::Body(BodyDecoder::new(framing)),
        }
    }

    #[test]
    fn length_delimited_bodies_go_through_unbuffered() {
        let mut st = stream_with_body(crate::h1::Framing::Length(8));
        assert_eq!(
            st.length_body(b"abc"),
            Some((Bytes::from_static(b"abc"), false))
        );
        // The rest of the body ends it; bytes past the length are dropped.
        assert_eq!(
            st.length_body(b"defghXX"),
            Some((Bytes::from_static(b"defgh"), true))
        );
        assert!(matches!(st.resp, RespState::Done));
        assert_eq!(st.length_body(b"more"), None);
        // Chunked bodies, and anything behind buffered bytes, take the buffered path.
        let mut chunked = stream_with_body(crate::h1::Framing::Chunked);
        assert_eq!(chunked.length_body(b"3\r\nabc\r\n"), None);
        let mut behind = stream_with_body(crate::h1::Framing::Length(8));
        behind.resp_buf.extend_from_slice(b"x");
        assert_eq!(behind.length_body(b"abc"), None);
    }

    #[test]
    fn response_heads_drop_connection_fields() {
        let mut headers = crate::http::Headers::new();
        headers.append("Connection", "close");
        headers.append("Transfer-Encoding", "chunked");
        headers.append("X-B", "1");
        let head = crate::http::ResponseHead {
            status: 201,
            version: crate::http::Version::Http11,
            headers,
        };
        let r = response_head(&head, &Bytes::new(), false, None);
        assert_eq!(r.status(), 201);
        assert_eq!(r.headers().len(), 1);
        assert_eq!(r.headers()["x-b"], "1");
    }

    fn fields(r: &http::Response<()>) -> Vec<(String, String)> {
        r.headers()
            .iter()
            .map(|(n, v)| (n.to_string(), String::from_utf8_lossy(v.as_bytes()).into()))
            .collect()
    }

    /// A backend's own `Date` is sorted with the other fields, before `content-length` (as
    /// Traefik 3.7.15 sends it); the server's goes last.
    #[test]
    fn a_backends_date_is_sorted_with_the_fields() {
        let mut headers = crate::http::Headers::new();
        for (n, v) in [
            ("X-Latin", "1"),
            ("Date", "Mon, 01 Jan 2024 00:00:00 GMT"),
            ("Server", "origin/1"),
            ("Content-Length", "2"),
        ] {
            headers.append(n, v);
        }
        let mut head = crate::http::ResponseHead {
            status: 200,
            version: crate::http::Version::Http11,
            headers,
        };
        let now = Bytes::from_static(b"Thu, 26 Nov 2026 10:00:00 GMT");
        let names = |r: &http::Response<()>| -> Vec<String> {
            r.headers().keys().map(|k| k.to_string()).collect()
        };
        let r = response_head(&head, &now, true, None);
        assert_eq!(names(&r), ["date", "server", "x-latin", "content-length"]);
        assert_eq!(r.headers()["date"], "Mon, 01 Jan 2024 00:00:00 GMT");
        head.headers.remove("Date");
        let r = response_head(&head, &now, true, None);
        assert_eq!(names(&r), ["server", "x-latin", "content-length", "date"]);
    }

    /// The head a stream gets directly is the one it got through HTTP/1.1 bytes: the same
    /// fields, in the same order, for heads without `Date`, repeated names, the framing
    /// fields the pipeline sets and custom names in any case.
    #[test]
    fn direct_response_heads_match_the_http11_round_trip() {
        let cases: &[&[(&str, &str)]] = &[
            &[
                ("Server", "nginx"),
                ("Content-Type", "text/plain"),
                ("Content-Length", "13"),
            ],
            &[
                ("x-Zeta", "1"),
                ("Set-Cookie", "a=1"),
                ("X-Alpha", "2"),
                ("set-cookie", "b=2"),
                ("Transfer-Encoding", "chunked"),
                ("Trailer", "Grpc-Status"),
                ("Connection", "close"),
            ],
            &[
                ("Content-Length", "0"),
                ("Vary", "Origin"),
                ("Vary", "Accept"),
            ],
            &[],
        ];
        for (i, case) in cases.iter().enumerate() {
            let mut headers = crate::http::Headers::new();
            for (n, v) in *case {
                headers.append(n, *v);
            }
            let head = crate::http::ResponseHead {
                status: 200 + i as u16,
                version: crate::http::Version::Http11,
                headers,
            };
            let date = b"Thu, 26 Nov 2026 10:00:00 GMT";
            let mut bytes = Vec::new();
            crate::h1::encode_response_head(&head, false, date, &mut bytes);
            let (parsed, _) = parse_response(&bytes, false).unwrap().unwrap();
            let via_bytes = response_head(&parsed.head, &Bytes::new(), false, None);
            let direct = response_head(&head, &Bytes::from_static(date), true, None);
            assert_eq!(direct.status(), via_bytes.status(), "case {i}");
            assert_eq!(fields(&direct), fields(&via_bytes), "case {i}");
        }
    }
}
