//! HTTP/2 to backends (`h2c://` servers, and `https://` ones that pick `h2` by ALPN), the
//! mirror image of [`super::h2down`]: one real
//! connection per backend (a *session*, an [`H2Client`]) carries many requests, each on a
//! *virtual* upstream connection that the HTTP/1.1 backend side serves unchanged. The request
//! the pipeline writes to a virtual upstream (head and body, as HTTP/1.1) is parsed and sent
//! as an HTTP/2 stream; the stream's response is written back to it as an HTTP/1.1 message
//! (chunked, with the trailers, unless the backend gave a length), so response relaying,
//! timeouts, middlewares and every status code are those of the HTTP/1.1 path. Virtual
//! upstreams never reach the adapter: their output, pauses and closes go to the session.

use std::collections::BTreeMap;

use bytes::Bytes;

use crate::h1::{BodyDecoder, Framing};
use crate::h2::{H2Client, H2Event, StreamKey};

use super::io::{ConnId, ConnectError, Output, Timestamp};
use super::worker::{ServerKey, UState, Up, Worker, HIGH_WATER};

/// Protocol numbers of a [`ServerKey`].
pub(super) const PROTO_HTTP1: u8 = 0;
/// HTTP/2 with prior knowledge.
pub(super) const PROTO_H2C: u8 = 1;
/// TLS offering `h2` and `http/1.1`: HTTP/2 when the backend picks it (Go's transport).
pub(super) const PROTO_ALPN: u8 = 2;

/// What an upstream connection is beyond a plain HTTP/1.1 one.
#[derive(Default)]
pub(super) enum Mux {
    /// One HTTP/1.1 exchange at a time.
    #[default]
    None,
    /// A real HTTP/2 connection carrying the streams of virtual upstreams.
    Session(Box<Session>),
    /// A virtual upstream: one stream of a session.
    Stream(Box<StreamUp>),
}

/// The HTTP/2 side of a backend connection.
pub(super) struct Session {
    pub client: H2Client,
    /// Streams opened, by key, and their virtual upstreams.
    pub streams: BTreeMap<StreamKey, ConnId>,
    /// Virtual upstreams waiting for the connection to be established.
    pub waiting: Vec<ConnId>,
}

/// A virtual upstream carrying one request.
pub(super) struct StreamUp {
    pub session: ConnId,
    /// Its stream, once the request head was sent.
    key: Option<StreamKey>,
    req_buf: Vec<u8>,
    req: ReqState,
    /// The response body is relayed with a length (else chunked, with trailers).
    length_response: bool,
}

enum ReqState {
    Head,
    Body(BodyDecoder),
    Done,
}

/// An HTTP/1.1 request head (as the pipeline wrote it) as an HTTP/2 request to `scheme`
/// servers, with its body framing.
fn request_from_h1(buf: &[u8]) -> Option<(http::Request<()>, Framing, usize)> {
    let mut storage = [httparse::EMPTY_HEADER; 128];
    let mut req = httparse::Request::new(&mut storage);
    let n = match req.parse(buf) {
        Ok(httparse::Status::Complete(n)) => n,
        _ => return None,
    };
    let mut framing = Framing::Empty;
    let mut authority = "";
    let mut b = http::Request::builder().method(req.method?);
    for h in req.headers.iter() {
        let name = h.name.to_ascii_lowercase();
        match name.as_str() {
            "host" => authority = std::str::from_utf8(h.value).ok()?,
            "transfer-encoding" => framing = Framing::Chunked,
            "content-length" if framing == Framing::Empty => {
                framing = Framing::Length(std::str::from_utf8(h.value).ok()?.parse().ok()?);
            }
            "te" if !h.value.eq_ignore_ascii_case(b"trailers") => continue,
            _ => {}
        }
        // `host` became `:authority`.
        if name == "host" || super::h2down::CONNECTION_SPECIFIC.contains(&name.as_str()) {
            continue;
        }
        b = b.header(name, h.value);
    }
    let uri = format!("http://{authority}{}", req.path?);
    let head = b.uri(uri).body(()).ok()?;
    Some((head, framing, n))
}

/// An HTTP/2 response head as the HTTP/1.1 head the pipeline parses; `true` when its body
/// goes with a length (the backend gave one), else it is chunked. An interim (1xx) head has
/// no framing.
fn response_to_h1(head: &http::response::Parts, end_stream: bool, out: &mut Vec<u8>) -> bool {
    let status = head.status.as_u16();
    out.extend_from_slice(
        format!("HTTP/1.1 {status} {}\r\n", crate::http::status_text(status)).as_bytes(),
    );
    for (name, value) in &head.headers {
        out.extend_from_slice(name.as_str().as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    if (100..200).contains(&status) {
        out.extend_from_slice(b"\r\n");
        return false;
    }
    let length = head.headers.contains_key(http::header::CONTENT_LENGTH);
    if !length {
        if end_stream {
            out.extend_from_slice(b"content-length: 0\r\n");
        } else {
            out.extend_from_slice(b"transfer-encoding: chunked\r\n");
        }
    }
    out.extend_from_slice(b"\r\n");
    length || end_stream
}

impl Worker {
    /// A virtual upstream on a session to `key` with room for another stream (a new session
    /// is dialled when none has). The virtual upstream is `Idle` (ready) when its session is
    /// connected, else `Connecting`.
    pub(super) fn open_stream_upstream(
        &mut self,
        now: Timestamp,
        key: &ServerKey,
        transport: &super::compile::TransportSettings,
    ) -> ConnId {
        let session = match self.find_session(key) {
            Some(s) => s,
            None => {
                let s = self.dial_upstream(now, key, transport);
                self.make_session(s);
                s
            }
        };
        self.new_stream_up(session)
    }

    /// A session to `key` that can take another stream.
    pub(super) fn find_session(&self, key: &ServerKey) -> Option<ConnId> {
        self.sessions.get(key).and_then(|ids| {
            ids.iter().copied().find(|id| {
                matches!(self.up.get(id).map(|u| &u.mux),
                    Some(Mux::Session(s)) if s.client.can_open())
            })
        })
    }

    /// Turns an upstream connection into an HTTP/2 session.
    fn make_session(&mut self, id: ConnId) {
        let Some(u) = self.up.get_mut(&id) else {
            return;
        };
        u.mux = Mux::Session(Box::new(Session {
            client: H2Client::new(),
            streams: BTreeMap::new(),
            waiting: Vec::new(),
        }));
        let key = u.key.clone();
        self.sessions.entry(key).or_default().push(id);
    }

    /// A new virtual upstream on `session`: `Idle` (ready) when the session is connected,
    /// else `Connecting` (it starts when the session does).
    pub(super) fn new_stream_up(&mut self, session: ConnId) -> ConnId {
        let vid = self.alloc();
        let Some(u) = self.up.get_mut(&session) else {
            return vid;
        };
        let connected = u.state != UState::Connecting;
        if connected {
            // Not idle any more.
            u.deadline = None;
        }
        let (key, idle_timeout) = (u.key.clone(), u.idle_timeout);
        if let (Mux::Session(s), false) = (&mut u.mux, connected) {
            s.waiting.push(vid);
        }
        self.up.insert(
            vid,
            Up {
                key,
                down: None,
                state: if connected {
                    UState::Idle
                } else {
                    UState::Connecting
                },
                input: super::inbox::Inbox::default(),
                deadline: None,
                unacked: 0,
                paused: false,
                max_idle: 0,
                idle_timeout,
                tls: None,
                tls_unusable: false,
                handshaking: false,
                pooled: false,
                mux: Mux::Stream(Box::new(StreamUp {
                    session,
                    key: None,
                    req_buf: Vec::new(),
                    req: ReqState::Head,
                    length_response: false,
                })),
            },
        );
        vid
    }

    /// A TLS backend chose HTTP/2 by ALPN: its connection becomes a session and the request
    /// that dialled it moves to a stream on it.
    pub(super) fn promote_to_session(&mut self, now: Timestamp, id: ConnId) {
        self.make_session(id);
        let Some(u) = self.up.get_mut(&id) else {
            return;
        };
        u.deadline = None;
        let down = u.down.take();
        self.mark_h2(id);
        let Some(down) = down else {
            return;
        };
        let vid = self.new_stream_up(id);
        if let Some(super::worker::DState::Active(txn)) =
            self.down.get_mut(&down).map(|d| &mut d.state)
        {
            txn.up = Some(vid);
        }
        if let Some(v) = self.up.get_mut(&vid) {
            v.down = Some(down);
            v.state = UState::Busy;
        }
        self.flush_pending(now, down);
    }

    /// The session's connection is established: its waiting streams start.
    pub(super) fn session_connected(&mut self, now: Timestamp, id: ConnId) {
        let waiting = match self.up.get_mut(&id).map(|u| &mut u.mux) {
            Some(Mux::Session(s)) => std::mem::take(&mut s.waiting),
            _ => return,
        };
        self.mark_h2(id);
        for vid in waiting {
            self.up_connected(now, vid);
        }
    }

    /// The session could not connect: its waiting streams fail as their own dial would.
    pub(super) fn session_connect_failed(
        &mut self,
        now: Timestamp,
        id: ConnId,
        error: &ConnectError,
    ) {
        let Some(u) = super::io::remove_shrinking(&mut self.up, &id) else {
            return;
        };
        self.forget_session(&u.key, id);
        if let Mux::Session(s) = u.mux {
            for vid in s.waiting {
                self.up_connect_failed(now, vid, error.clone());
            }
        }
    }

    fn forget_session(&mut self, key: &ServerKey, id: ConnId) {
        if let Some(ids) = self.sessions.get_mut(key) {
            ids.retain(|c| *c != id);
            if ids.is_empty() {
                self.sessions.remove(key);
            }
        }
    }

    /// Request bytes the pipeline wrote to a virtual upstream: sent on its stream.
    pub(super) fn stream_up_send(&mut self, vid: ConnId, data: &[u8]) {
        let Some(u) = self.up.get_mut(&vid) else {
            return;
        };
        let Mux::Stream(st) = &mut u.mux else {
            return;
        };
        st.req_buf.extend_from_slice(data);
        let session = st.session;
        let mut open: Option<(http::Request<()>, bool)> = None;
        let mut chunks: Vec<(Bytes, bool)> = Vec::new();
        let mut broken = false;
        loop {
            match &mut st.req {
                ReqState::Done => {
                    st.req_buf.clear();
                    break;
                }
                ReqState::Head => match request_from_h1(&st.req_buf) {
                    Some((head, framing, n)) => {
                        st.req_buf.drain(..n);
                        let end = framing == Framing::Empty;
                        open = Some((head, end));
                        st.req = if end {
                            ReqState::Done
                        } else {
                            ReqState::Body(BodyDecoder::new(framing))
                        };
                    }
                    None if st.req_buf.windows(4).any(|w| w == b"\r\n\r\n") => {
                        broken = true;
                        break;
                    }
                    None => break,
                },
                ReqState::Body(dec) => {
                    let mut data = Vec::new();
                    let done = dec.decode_buffered(&mut st.req_buf, &mut data);
                    chunks.extend(data.into_iter().map(|d| (d, false)));
                    match done {
                        Ok(true) => {
                            chunks.push((Bytes::new(), true));
                            st.req = ReqState::Done;
                        }
                        Ok(false) => break,
                        Err(_) => {
                            broken = true;
                            break;
                        }
                    }
                }
            }
        }
        if broken {
            // The pipeline's own request cannot be carried: the exchange fails as a reset.
            let now = self.now;
            return self.up_eof(now, vid, true);
        }
        let Some(Mux::Session(s)) = self.up.get_mut(&session).map(|u| &mut u.mux) else {
            return;
        };
        if let Some((head, end)) = open {
            let key = s.client.open(head, end);
            s.streams.insert(key, vid);
            if let Some(Mux::Stream(st)) = self.up.get_mut(&vid).map(|u| &mut u.mux) {
                st.key = Some(key);
            }
        }
        let Some(key) = self.stream_key(vid) else {
            return;
        };
        let Some(Mux::Session(s)) = self.up.get_mut(&session).map(|u| &mut u.mux) else {
            return;
        };
        for (data, end) in chunks {
            s.client.send_data(key, data, end);
        }
        let pending = s.client.pending(key);
        if let Some(u) = self.up.get_mut(&vid) {
            u.unacked = pending;
        }
        self.mark_h2(session);
    }

    fn stream_key(&self, vid: ConnId) -> Option<StreamKey> {
        match self.up.get(&vid).map(|u| &u.mux) {
            Some(Mux::Stream(st)) => st.key,
            _ => None,
        }
    }

    /// The session of a virtual upstream.
    pub(super) fn stream_session(&self, vid: ConnId) -> Option<ConnId> {
        match self.up.get(&vid).map(|u| &u.mux) {
            Some(Mux::Stream(st)) => Some(st.session),
            _ => None,
        }
    }

    /// Pausing a virtual upstream stops reading its stream's response body.
    pub(super) fn stream_up_pause(&mut self, vid: ConnId, paused: bool) {
        let (Some(session), Some(key)) = (self.stream_session(vid), self.stream_key(vid)) else {
            return;
        };
        if let Some(Mux::Session(s)) = self.up.get_mut(&session).map(|u| &mut u.mux) {
            s.client.set_paused(key, paused);
        }
        self.mark_h2(session);
    }

    /// A virtual upstream ends: its stream is cancelled if still in progress, and a session
    /// left without streams starts its idle timeout (or closes while shutting down).
    pub(super) fn stream_up_closed(&mut self, st: &StreamUp, vid: ConnId) {
        let session = st.session;
        let Some(u) = self.up.get_mut(&session) else {
            return;
        };
        let Mux::Session(s) = &mut u.mux else {
            return;
        };
        s.waiting.retain(|w| *w != vid);
        if let Some(key) = st.key {
            s.streams.remove(&key);
            s.client.close_stream(key);
        }
        let idle = s.streams.is_empty() && s.waiting.is_empty();
        if idle && u.state != UState::Connecting {
            let deadline = (u.idle_timeout.0 > 0).then(|| self.now.after(u.idle_timeout));
            u.deadline = deadline;
            self.note_deadline(deadline);
            if self.shutting_down {
                return self.close_up(session);
            }
        }
        self.mark_h2(session);
    }

    /// Bytes from a session's backend.
    pub(super) fn session_received(&mut self, id: ConnId, data: &[u8]) {
        if let Some(Mux::Session(s)) = self.up.get_mut(&id).map(|u| &mut u.mux) {
            s.client.receive(data);
            self.mark_h2(id);
        }
    }

    /// The session's backend closed its side (or reset): every stream ends.
    pub(super) fn session_eof(&mut self, id: ConnId) {
        if let Some(Mux::Session(s)) = self.up.get_mut(&id).map(|u| &mut u.mux) {
            s.client.receive_eof();
            self.mark_h2(id);
        }
    }

    /// A session's deadline: the dial timed out (its streams get 504) or it was idle.
    pub(super) fn session_timeout(&mut self, now: Timestamp, id: ConnId) {
        let connecting = self
            .up
            .get(&id)
            .is_some_and(|u| u.state == UState::Connecting);
        if connecting {
            self.session_connect_failed(now, id, &ConnectError::TimedOut);
            self.out.push_back(Output::Close { conn: id });
        } else if matches!(self.up.get(&id).map(|u| &u.mux),
            Some(Mux::Session(s)) if s.streams.is_empty() && s.waiting.is_empty())
        {
            self.close_up(id);
        }
    }

    /// Drives a session: its events become virtual-upstream input, its frames are sent.
    pub(super) fn settle_session(&mut self, now: Timestamp, id: ConnId) {
        let Some(u) = self.up.get_mut(&id) else {
            return;
        };
        if u.state == UState::Connecting {
            return;
        }
        let Mux::Session(s) = &mut u.mux else {
            return;
        };
        let mut events = Vec::new();
        s.client.poll(&mut events);
        let out = s.client.take_output();
        let closed = s.client.is_closed();
        self.send(id, out);
        for e in events {
            self.session_event(now, id, e);
        }
        self.update_stream_up_backpressure(id);
        if closed {
            self.close_up(id);
        }
    }

    fn session_event(&mut self, now: Timestamp, session: ConnId, event: H2Event) {
        let stream = match &event {
            H2Event::Response { stream, .. }
            | H2Event::Data { stream, .. }
            | H2Event::Trailers { stream, .. }
            | H2Event::Reset { stream }
            | H2Event::Refused { stream }
            | H2Event::Request { stream, .. } => *stream,
        };
        let Some(vid) = (match self.up.get(&session).map(|u| &u.mux) {
            Some(Mux::Session(s)) => s.streams.get(&stream).copied(),
            _ => None,
        }) else {
            return;
        };
        let length = matches!(self.up.get(&vid).map(|u| &u.mux),
            Some(Mux::Stream(st)) if st.length_response);
        let mut bytes = Vec::new();
        match event {
            H2Event::Response {
                head, end_stream, ..
            } => {
                let interim = head.status.is_informational();
                let length = response_to_h1(&head, end_stream, &mut bytes);
                if let (Some(Mux::Stream(st)), false) =
                    (self.up.get_mut(&vid).map(|u| &mut u.mux), interim)
                {
                    st.length_response = length;
                }
            }
            H2Event::Data {
                data, end_stream, ..
            } => {
                if length {
                    bytes.extend_from_slice(&data);
                } else {
                    bytes = crate::h1::frame_body(&data, true);
                    if end_stream {
                        bytes.extend_from_slice(crate::h1::LAST_CHUNK);
                    }
                }
            }
            H2Event::Trailers { trailers, .. } => {
                if !length {
                    let mut lines = Vec::new();
                    for (name, value) in &trailers {
                        lines.extend_from_slice(name.as_str().as_bytes());
                        lines.extend_from_slice(b": ");
                        lines.extend_from_slice(value.as_bytes());
                        lines.extend_from_slice(b"\r\n");
                    }
                    bytes = crate::h1::last_chunk(&lines);
                }
            }
            H2Event::Reset { .. } => return self.up_eof(now, vid, true),
            H2Event::Refused { .. } => {
                if !self.retry_refused(now, vid) {
                    self.up_eof(now, vid, true);
                }
                return;
            }
            H2Event::Request { .. } => return,
        }
        if !bytes.is_empty() {
            self.up_received(now, vid, Bytes::from(bytes));
        }
    }

    /// A stream the backend did not process ([`H2Event::Refused`]): its request, when it has no
    /// body, goes again once on another stream (a new connection when this one is closing), as
    /// Go's transport retries at once. Returns whether it did.
    pub(super) fn retry_refused(&mut self, now: Timestamp, vid: ConnId) -> bool {
        let Some(down) = self.up.get(&vid).and_then(|u| u.down) else {
            return false;
        };
        let Some(super::worker::DState::Active(txn)) =
            self.down.get_mut(&down).map(|d| &mut d.state)
        else {
            return false;
        };
        if txn.resp.is_some() || txn.up != Some(vid) {
            return false;
        }
        let Some(head) = txn.retry_head.take() else {
            return false;
        };
        // Sent again once at most: a connection handed over later does not re-arm it.
        txn.retryable = false;
        let (key, transport) = (txn.key.clone(), txn.transport.clone());
        self.close_up(vid);
        let (up, _) = self.open_upstream(now, &key, &transport, true);
        if let Some(super::worker::DState::Active(txn)) =
            self.down.get_mut(&down).map(|d| &mut d.state)
        {
            txn.up = Some(up);
            txn.pending_head = Some(head);
        }
        let Some(u) = self.up.get_mut(&up) else {
            return true;
        };
        u.down = Some(down);
        if u.state == UState::Idle {
            u.state = UState::Busy;
            u.deadline = None;
            self.flush_pending(now, down);
        }
        true
    }

    /// After the session wrote what it could: streams whose queued request body shrank let
    /// their client connection read again.
    fn update_stream_up_backpressure(&mut self, session: ConnId) {
        let Some(Mux::Session(s)) = self.up.get(&session).map(|u| &u.mux) else {
            return;
        };
        let streams: Vec<(ConnId, usize)> = s
            .streams
            .iter()
            .map(|(k, v)| (*v, s.client.pending(*k)))
            .collect();
        for (vid, pending) in streams {
            if let Some(u) = self.up.get_mut(&vid) {
                u.unacked = pending;
            }
            if pending <= HIGH_WATER {
                // Only a client connection that was paused needs resuming.
                if let Some(p) = self
                    .partner(vid)
                    .filter(|p| self.down.get(p).is_some_and(|d| d.paused))
                {
                    self.resume(p);
                }
            }
        }
    }

    /// Closes a session and fails the streams still on it (as a reset connection would).
    pub(super) fn session_closed(&mut self, now: Timestamp, id: ConnId, u: Up) {
        self.forget_session(&u.key, id);
        let Mux::Session(s) = u.mux else {
            return;
        };
        for vid in s.streams.into_values().chain(s.waiting) {
            self.up_eof(now, vid, true);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_translate_to_http2() {
        let (req, framing, n) = request_from_h1(
            b"POST /svc/M?x=1 HTTP/1.1\r\nHost: b.example:81\r\nTransfer-Encoding: chunked\r\nTe: trailers\r\nConnection: close\r\nX-A: 1\r\n\r\nrest",
        )
        .unwrap();
        assert_eq!(n, 117, "the head, not the body after it");
        assert_eq!(framing, Framing::Chunked);
        assert_eq!(req.uri().to_string(), "http://b.example:81/svc/M?x=1");
        let names: Vec<&str> = req.headers().keys().map(|k| k.as_str()).collect();
        assert_eq!(names, ["te", "x-a"]);
        let (_, framing, _) =
            request_from_h1(b"PUT / HTTP/1.1\r\nHost: b\r\nContent-Length: 3\r\n\r\n").unwrap();
        assert_eq!(framing, Framing::Length(3));
        assert!(request_from_h1(b"GET / HTTP/1.1\r\nHost: b\r\n").is_none());
    }

    #[test]
    fn responses_translate_to_http11() {
        let resp = http::Response::builder()
            .status(200)
            .header("content-type", "application/grpc")
            .body(())
            .unwrap();
        let (head, _) = resp.into_parts();
        let mut out = Vec::new();
        assert!(!response_to_h1(&head, false, &mut out));
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "HTTP/1.1 200 OK\r\ncontent-type: application/grpc\r\ntransfer-encoding: chunked\r\n\r\n"
        );
        let mut out = Vec::new();
        assert!(response_to_h1(&head, true, &mut out));
        assert!(String::from_utf8(out)
            .unwrap()
            .ends_with("content-length: 0\r\n\r\n"));
    }
}
