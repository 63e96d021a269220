//! The HTTP/2 client side of one backend connection (h2c with prior knowledge, or TLS with
//! ALPN `h2`), driven without a runtime exactly as [`super::H2Server`]: the `h2` crate runs
//! over an in-memory pipe and is polled after every input and every action. Streams are
//! opened by the worker, their responses come back as [`H2Event`]s.

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use h2::client::{Connection, ResponseFuture, SendRequest};
use h2::Reason;

use super::pipe::Pipe;
use super::server::{H2Event, StreamKey};
use super::stream::{Incoming, Outgoing, WakeFlag};

/// Per-stream and per-connection receive windows towards the backend (what a backend may make
/// the proxy buffer before the client reads).
const STREAM_WINDOW: u32 = 1024 * 1024;
const CONNECTION_WINDOW: u32 = 4 * 1024 * 1024;

type HandshakeFuture = Pin<
    Box<
        dyn Future<Output = Result<(SendRequest<Bytes>, Connection<Pipe, Bytes>), h2::Error>>
            + Send,
    >,
>;

enum State {
    Handshake(HandshakeFuture),
    Open {
        send: SendRequest<Bytes>,
        conn: Box<Connection<Pipe, Bytes>>,
    },
    Closed,
}

#[derive(Default)]
struct Stream {
    /// The request head, until `h2` is ready to open the stream.
    request: Option<(http::Request<()>, bool)>,
    response: Option<ResponseFuture>,
    incoming: Incoming,
    out: Outgoing,
}

/// One HTTP/2 client connection.
pub struct H2Client {
    pipe: Pipe,
    state: State,
    streams: BTreeMap<StreamKey, Stream>,
    next: StreamKey,
    /// The server said GOAWAY or the connection failed: no new streams.
    refusing: bool,
}

impl std::fmt::Debug for H2Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("H2Client")
            .field("streams", &self.streams.len())
            .finish_non_exhaustive()
    }
}

impl Default for H2Client {
    fn default() -> Self {
        Self::new()
    }
}

impl H2Client {
    /// A connection whose preface is written at the first [`H2Client::poll`].
    pub fn new() -> Self {
        let pipe = Pipe::default();
        let handshake = h2::client::Builder::new()
            .initial_window_size(STREAM_WINDOW)
            .initial_connection_window_size(CONNECTION_WINDOW)
            .max_header_list_size(1 << 20)
            .enable_push(false)
            .max_send_buffer_size(256 * 1024)
            .handshake::<_, Bytes>(pipe.clone());
        H2Client {
            pipe,
            state: State::Handshake(Box::pin(handshake)),
            streams: BTreeMap::new(),
            next: 1,
            refusing: false,
        }
    }

    /// Bytes from the server.
    pub fn receive(&mut self, data: &[u8]) {
        self.pipe.with(|s| s.inbox.extend_from_slice(data));
    }

    /// The server finished sending.
    pub fn receive_eof(&mut self) {
        self.pipe.with(|s| s.eof = true);
    }

    /// Frames to send to the server.
    pub fn take_output(&mut self) -> Vec<u8> {
        self.pipe.with(|s| std::mem::take(&mut s.outbox))
    }

    /// Whether the connection is over.
    pub fn is_closed(&self) -> bool {
        matches!(self.state, State::Closed)
    }

    /// Streams not yet closed.
    pub fn stream_count(&self) -> usize {
        self.streams.len()
    }

    /// Whether another stream may be opened here: the connection is usable and below the
    /// server's `SETTINGS_MAX_CONCURRENT_STREAMS` (Go's transport dials another connection
    /// otherwise).
    pub fn can_open(&self) -> bool {
        if self.refusing {
            return false;
        }
        match &self.state {
            State::Handshake(_) => self.streams.len() < 100,
            State::Open { send, .. } => self.streams.len() < send.current_max_send_streams(),
            State::Closed => false,
        }
    }

    /// Opens a stream with `head` (an absolute URI: scheme, authority, path); `end_stream`
    /// when there is no body. It is sent as soon as the connection allows.
    pub fn open(&mut self, head: http::Request<()>, end_stream: bool) -> StreamKey {
        let key = self.next;
        self.next += 1;
        self.streams.insert(
            key,
            Stream {
                request: Some((head, end_stream)),
                ..Stream::default()
            },
        );
        key
    }

    /// Queues request body bytes; `end_stream` ends the request after them.
    pub fn send_data(&mut self, stream: StreamKey, data: Bytes, end_stream: bool) {
        if let Some(s) = self.streams.get_mut(&stream) {
            s.out.queue(data, end_stream);
        }
    }

    /// Request bytes queued for a stream and not yet handed to the connection.
    pub fn pending(&self, stream: StreamKey) -> usize {
        self.streams.get(&stream).map_or(0, |s| s.out.pending_len)
    }

    /// Stops (or resumes) reading a stream's response body: its window then stops the server.
    pub fn set_paused(&mut self, stream: StreamKey, paused: bool) {
        if let Some(s) = self.streams.get_mut(&stream) {
            s.incoming.paused = paused;
        }
    }

    /// Forgets a stream; one still in progress is reset with `CANCEL`.
    pub fn close_stream(&mut self, stream: StreamKey) {
        let Some(mut s) = self.streams.remove(&stream) else {
            return;
        };
        let finished = s.out.complete() && s.incoming.recv.is_none() && s.response.is_none();
        if !finished {
            if let Some(send) = &mut s.out.send {
                send.send_reset(Reason::CANCEL);
            }
        }
    }

    /// Drives the connection: writes the preface and requests, reads responses and bodies,
    /// writes queued bodies. Call after every input and every action, then send
    /// [`H2Client::take_output`].
    pub fn poll(&mut self, events: &mut Vec<H2Event>) {
        let (woken, waker) = WakeFlag::new();
        let mut cx = Context::from_waker(&waker);
        for _ in 0..1024 {
            woken.take();
            let before = events.len();
            let out_before = self.pipe.with(|s| s.outbox.len());
            let mut sent = false;
            match &mut self.state {
                State::Closed => return,
                State::Handshake(h) => match h.as_mut().poll(&mut cx) {
                    Poll::Ready(Ok((send, conn))) => {
                        self.state = State::Open {
                            send,
                            conn: Box::new(conn),
                        };
                        continue;
                    }
                    Poll::Ready(Err(_)) => {
                        self.fail(events);
                        return;
                    }
                    Poll::Pending => return,
                },
                State::Open { send, conn } => {
                    if Pin::new(conn.as_mut()).poll(&mut cx).is_ready() {
                        // The connection ended (GOAWAY done, EOF or a protocol error).
                        self.fail(events);
                        return;
                    }
                    for (key, s) in self.streams.iter_mut() {
                        if s.request.is_some() {
                            match send.poll_ready(&mut cx) {
                                Poll::Ready(Ok(())) => {}
                                Poll::Ready(Err(_)) => {
                                    self.refusing = true;
                                    s.request = None;
                                    s.out.abandon();
                                    events.push(H2Event::Refused { stream: *key });
                                    continue;
                                }
                                Poll::Pending => break,
                            }
                            let (head, end) = s.request.take().expect("request to send");
                            match send.send_request(head, end) {
                                Ok((response, stream)) => {
                                    s.response = Some(response);
                                    s.out.send = Some(stream);
                                    // Body bytes may already be queued (and their end).
                                    if end {
                                        s.out.done = true;
                                        s.out.end = true;
                                    }
                                    sent = true;
                                }
                                Err(_) => {
                                    self.refusing = true;
                                    s.out.abandon();
                                    events.push(H2Event::Refused { stream: *key });
                                }
                            }
                        }
                    }
                }
            }
            for (key, s) in self.streams.iter_mut() {
                sent |= poll_stream(*key, s, &mut cx, events);
            }
            let out_after = self.pipe.with(|s| s.outbox.len());
            if events.len() == before && out_after == out_before && !sent && !woken.take() {
                break;
            }
        }
    }

    /// The connection is unusable: every stream is reset (refused when its request was never
    /// sent).
    fn fail(&mut self, events: &mut Vec<H2Event>) {
        self.state = State::Closed;
        self.refusing = true;
        for (key, s) in std::mem::take(&mut self.streams) {
            if s.request.is_some() {
                events.push(H2Event::Refused { stream: key });
            } else {
                events.push(H2Event::Reset { stream: key });
            }
        }
    }
}

/// Waits for a stream's response head, reads its body, writes its request body; returns
/// whether anything was handed to the connection.
fn poll_stream(
    key: StreamKey,
    s: &mut Stream,
    cx: &mut Context<'_>,
    events: &mut Vec<H2Event>,
) -> bool {
    if let Some(response) = &mut s.response {
        // Interim responses (103 Early Hints, ...) come first, as `Response` events too.
        while let Poll::Ready(Some(Ok(info))) = response.poll_informational(cx) {
            let (head, ()) = info.into_parts();
            events.push(H2Event::Response {
                stream: key,
                head,
                end_stream: false,
            });
        }
        match Pin::new(response).poll(cx) {
            Poll::Ready(Ok(resp)) => {
                s.response = None;
                let (head, body) = resp.into_parts();
                let end_stream = body.is_end_stream();
                s.incoming.recv = (!end_stream).then_some(body);
                events.push(H2Event::Response {
                    stream: key,
                    head,
                    end_stream,
                });
            }
            Poll::Ready(Err(e)) => {
                s.response = None;
                s.out.abandon();
                // Not processed by the server (Go's transport sends such requests again).
                let refused = e.reason() == Some(h2::Reason::REFUSED_STREAM) || e.is_go_away();
                events.push(if refused {
                    H2Event::Refused { stream: key }
                } else {
                    H2Event::Reset { stream: key }
                });
                return false;
            }
            Poll::Pending => {}
        }
    }
    if !s.incoming.poll(key, cx, events) {
        s.out.abandon();
        return false;
    }
    s.out.flush(cx)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::h2::{H2Server, H2Settings};

    /// Moves bytes both ways until neither side has anything to say.
    fn pump(c: &mut H2Client, s: &mut H2Server, ce: &mut Vec<H2Event>, se: &mut Vec<H2Event>) {
        for _ in 0..100 {
            c.poll(ce);
            let to_server = c.take_output();
            s.receive(&to_server);
            s.poll(se);
            let to_client = s.take_output();
            c.receive(&to_client);
            if to_server.is_empty() && to_client.is_empty() {
                return;
            }
        }
    }

    #[test]
    fn a_stream_with_body_and_trailers_both_ways() {
        let mut c = H2Client::new();
        let mut s = H2Server::new(H2Settings::default());
        let (mut ce, mut se) = (Vec::new(), Vec::new());
        let req = http::Request::builder()
            .method("POST")
            .uri("http://backend.example/svc/Echo")
            .header("content-type", "application/grpc")
            .header("te", "trailers")
            .body(())
            .unwrap();
        assert!(c.can_open());
        let k = c.open(req, false);
        c.send_data(k, Bytes::from_static(b"\0\0\0\0\x02hi"), true);
        pump(&mut c, &mut s, &mut ce, &mut se);
        let sk = match &se[0] {
            H2Event::Request {
                stream,
                head,
                end_stream,
            } => {
                assert_eq!(head.uri.path(), "/svc/Echo");
                assert_eq!(head.uri.authority().unwrap().as_str(), "backend.example");
                assert_eq!(head.headers["te"], "trailers");
                assert!(!end_stream);
                *stream
            }
            e => panic!("{e:?}"),
        };
        let body: Vec<u8> = se
            .iter()
            .filter_map(|e| match e {
                H2Event::Data { data, .. } => Some(data.to_vec()),
                _ => None,
            })
            .flatten()
            .collect();
        assert_eq!(body, b"\0\0\0\0\x02hi");
        let resp = http::Response::builder()
            .status(200)
            .header("content-type", "application/grpc")
            .body(())
            .unwrap();
        s.respond(sk, resp, false);
        s.send_data(sk, Bytes::from_static(b"\0\0\0\0\x02ho"), false);
        let mut t = http::HeaderMap::new();
        t.insert("grpc-status", "0".parse().unwrap());
        s.send_trailers(sk, t);
        pump(&mut c, &mut s, &mut ce, &mut se);
        assert!(
            matches!(&ce[0], H2Event::Response { head, end_stream: false, .. } if head.status == 200),
            "{ce:?}"
        );
        assert!(ce
            .iter()
            .any(|e| matches!(e, H2Event::Data { data, .. } if &data[..] == b"\0\0\0\0\x02ho")));
        assert!(
            matches!(ce.last(), Some(H2Event::Trailers { trailers, .. }) if trailers["grpc-status"] == "0"),
            "{ce:?}"
        );
        c.close_stream(k);
        s.close_stream(sk, false);
        assert_eq!(c.stream_count(), 0);
    }

    #[test]
    fn a_server_going_away_resets_open_streams() {
        let mut c = H2Client::new();
        let k = c.open(
            http::Request::builder().uri("http://b/").body(()).unwrap(),
            true,
        );
        let mut ce = Vec::new();
        c.poll(&mut ce);
        assert!(!c.take_output().is_empty(), "preface and request written");
        c.receive(b"garbage that is not HTTP/2 at all");
        c.receive_eof();
        c.poll(&mut ce);
        assert!(
            ce.iter()
                .any(|e| matches!(e, H2Event::Reset { stream } if *stream == k)),
            "{ce:?}"
        );
        assert!(c.is_closed() && !c.can_open());
    }
}
