//! The HTTP/2 server side of one client connection, driven without a runtime: the `h2` crate
//! runs over an in-memory [`Pipe`] and is polled with a no-op waker after every input and
//! every action, which is the only way it makes progress. The API is small on purpose (events
//! out; respond, send, reset in) so that an own HTTP/2 implementation could replace it.

use std::collections::{BTreeMap, VecDeque};
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

use bytes::Bytes;
use h2::server::{Connection, Handshake, SendResponse};
use h2::{Reason, RecvStream, SendStream};

use super::pipe::Pipe;

/// A stream of the connection, numbered by the server in accept order.
pub type StreamKey = u64;

/// Limits of one connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct H2Settings {
    /// `http2.maxConcurrentStreams` (Traefik's default 250).
    pub max_concurrent_streams: u32,
    /// Largest header list accepted (the entry point's `maxHeaderBytes`).
    pub max_header_list_size: u32,
    /// `http2.maxDecoderHeaderTableSize`: the HPACK table the client may use towards us.
    pub header_table_size: u32,
}

impl Default for H2Settings {
    fn default() -> Self {
        H2Settings {
            max_concurrent_streams: 250,
            max_header_list_size: 1 << 20,
            header_table_size: 4096,
        }
    }
}

/// Flow-control windows: each stream may have 256 KiB unread, the whole connection 1 MiB, which
/// bounds what a client can make the proxy buffer.
const STREAM_WINDOW: u32 = 256 * 1024;
const CONNECTION_WINDOW: u32 = 1024 * 1024;

/// Something the client did.
#[derive(Debug)]
pub enum H2Event {
    /// A new request head.
    Request {
        /// Its stream.
        stream: StreamKey,
        /// Method, URI (scheme, authority, path) and headers.
        head: http::request::Parts,
        /// No body follows.
        end_stream: bool,
    },
    /// Request body bytes.
    Data {
        /// Its stream.
        stream: StreamKey,
        /// The bytes (possibly empty when only the end is signalled).
        data: Bytes,
        /// The body is complete.
        end_stream: bool,
    },
    /// Request trailers (the body is complete).
    Trailers {
        /// Its stream.
        stream: StreamKey,
        /// The trailer fields.
        trailers: http::HeaderMap,
    },
    /// The client reset the stream (or it broke): forget it.
    Reset {
        /// Its stream.
        stream: StreamKey,
    },
}

#[derive(Default)]
struct Stream {
    recv: Option<RecvStream>,
    respond: Option<SendResponse<Bytes>>,
    send: Option<SendStream<Bytes>>,
    pending: VecDeque<Bytes>,
    pending_len: usize,
    /// The response ends after `pending` (and the trailers, if any).
    end: bool,
    trailers: Option<http::HeaderMap>,
    /// End of stream was sent.
    done: bool,
    paused: bool,
    /// The worker is done with it; it goes once its queued response is written.
    detached: bool,
}

enum State {
    Handshake(Box<Handshake<Pipe, Bytes>>),
    Open(Box<Connection<Pipe, Bytes>>),
    Closed,
}

/// One HTTP/2 server connection.
pub struct H2Server {
    pipe: Pipe,
    state: State,
    streams: BTreeMap<StreamKey, Stream>,
    next: StreamKey,
}

impl std::fmt::Debug for H2Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("H2Server")
            .field("streams", &self.streams.len())
            .finish_non_exhaustive()
    }
}

impl H2Server {
    /// A connection whose client preface has not been read yet.
    pub fn new(settings: H2Settings) -> Self {
        let pipe = Pipe::default();
        let handshake = h2::server::Builder::new()
            .max_concurrent_streams(settings.max_concurrent_streams)
            .max_header_list_size(settings.max_header_list_size)
            .header_table_size(settings.header_table_size)
            .initial_window_size(STREAM_WINDOW)
            .initial_connection_window_size(CONNECTION_WINDOW)
            .max_pending_accept_reset_streams(20)
            .max_local_error_reset_streams(Some(1024))
            .max_send_buffer_size(256 * 1024)
            .handshake(pipe.clone());
        H2Server {
            pipe,
            state: State::Handshake(Box::new(handshake)),
            streams: BTreeMap::new(),
            next: 1,
        }
    }

    /// Bytes from the client.
    pub fn receive(&mut self, data: &[u8]) {
        self.pipe.with(|s| s.inbox.extend_from_slice(data));
    }

    /// The client finished sending.
    pub fn receive_eof(&mut self) {
        self.pipe.with(|s| s.eof = true);
    }

    /// Frames to send to the client.
    pub fn take_output(&mut self) -> Vec<u8> {
        self.pipe.with(|s| std::mem::take(&mut s.outbox))
    }

    /// Whether the connection is over (closed by the client, a protocol error, or after a
    /// graceful shutdown completed).
    pub fn is_closed(&self) -> bool {
        matches!(self.state, State::Closed)
    }

    /// Streams not yet closed.
    pub fn stream_count(&self) -> usize {
        self.streams.len()
    }

    /// Sends GOAWAY: streams in progress finish, new ones are refused.
    pub fn graceful_shutdown(&mut self) {
        if let State::Open(c) = &mut self.state {
            c.graceful_shutdown();
        }
    }

    /// Stops (or resumes) reading a stream's body: its flow-control window then stops the client.
    pub fn set_paused(&mut self, stream: StreamKey, paused: bool) {
        if let Some(s) = self.streams.get_mut(&stream) {
            s.paused = paused;
        }
    }

    /// Response bytes queued for a stream and not yet handed to the connection (flow control).
    pub fn pending(&self, stream: StreamKey) -> usize {
        self.streams.get(&stream).map_or(0, |s| s.pending_len)
    }

    /// Sends a response head; `end_stream` when there is no body.
    pub fn respond(&mut self, stream: StreamKey, head: http::Response<()>, end_stream: bool) {
        let Some(s) = self.streams.get_mut(&stream) else {
            return;
        };
        let Some(mut respond) = s.respond.take() else {
            return;
        };
        match respond.send_response(head, end_stream) {
            Ok(send) => {
                s.send = Some(send);
                s.done = end_stream;
                s.end = end_stream;
            }
            Err(_) => s.done = true,
        }
    }

    /// Queues response body bytes; `end_stream` ends the response after them.
    pub fn send_data(&mut self, stream: StreamKey, data: Bytes, end_stream: bool) {
        let Some(s) = self.streams.get_mut(&stream) else {
            return;
        };
        if s.end {
            return;
        }
        if !data.is_empty() {
            s.pending_len += data.len();
            s.pending.push_back(data);
        }
        s.end = end_stream;
    }

    /// Queues trailers, which end the response.
    pub fn send_trailers(&mut self, stream: StreamKey, trailers: http::HeaderMap) {
        if let Some(s) = self.streams.get_mut(&stream) {
            if !s.end {
                s.trailers = Some(trailers);
                s.end = true;
            }
        }
    }

    /// Forgets a stream; one whose response did not end is reset (`CANCEL`, or
    /// `INTERNAL_ERROR` when `error`).
    pub fn close_stream(&mut self, stream: StreamKey, error: bool) {
        if !error {
            if let Some(s) = self.streams.get_mut(&stream) {
                if s.end && !(s.done && s.pending.is_empty()) {
                    // The whole response is queued: it goes out as flow control allows.
                    s.detached = true;
                    s.recv = None;
                    return;
                }
            }
        }
        let Some(mut s) = self.streams.remove(&stream) else {
            return;
        };
        let complete = s.done && s.pending.is_empty();
        if !complete {
            let reason = if error {
                Reason::INTERNAL_ERROR
            } else {
                Reason::CANCEL
            };
            if let Some(send) = &mut s.send {
                send.send_reset(reason);
            } else if let Some(r) = &mut s.respond {
                r.send_reset(reason);
            }
        }
    }

    /// Whether a stream's response has been completely handed to the connection.
    pub fn response_complete(&self, stream: StreamKey) -> bool {
        self.streams
            .get(&stream)
            .is_none_or(|s| s.done && s.pending.is_empty())
    }

    /// Drives the connection: reads frames, accepts streams, reads bodies, writes what was
    /// queued. Call after every input and every action, then send [`H2Server::take_output`].
    pub fn poll(&mut self, events: &mut Vec<H2Event>) {
        // `h2` asks to be polled again through the waker (after queueing frames, when capacity
        // is assigned): the flag turns that into another round here.
        let woken = Arc::new(WakeFlag(AtomicBool::new(false)));
        let waker = Waker::from(Arc::clone(&woken));
        let mut cx = Context::from_waker(&waker);
        for _ in 0..1024 {
            woken.0.store(false, Ordering::Relaxed);
            let before = events.len();
            let out_before = self.pipe.with(|s| s.outbox.len());
            let mut sent = false;
            match &mut self.state {
                State::Closed => return,
                State::Handshake(h) => match Pin::new(h.as_mut()).poll(&mut cx) {
                    Poll::Ready(Ok(conn)) => {
                        self.state = State::Open(Box::new(conn));
                        continue;
                    }
                    Poll::Ready(Err(_)) => {
                        self.state = State::Closed;
                        return;
                    }
                    Poll::Pending => return,
                },
                State::Open(conn) => loop {
                    match conn.poll_accept(&mut cx) {
                        Poll::Ready(Some(Ok((req, respond)))) => {
                            let (head, body) = req.into_parts();
                            let end_stream = body.is_end_stream();
                            let key = self.next;
                            self.next += 1;
                            self.streams.insert(
                                key,
                                Stream {
                                    recv: (!end_stream).then_some(body),
                                    respond: Some(respond),
                                    ..Stream::default()
                                },
                            );
                            events.push(H2Event::Request {
                                stream: key,
                                head,
                                end_stream,
                            });
                        }
                        Poll::Ready(Some(Err(_))) | Poll::Ready(None) => {
                            self.state = State::Closed;
                            for key in std::mem::take(&mut self.streams).into_keys() {
                                events.push(H2Event::Reset { stream: key });
                            }
                            return;
                        }
                        Poll::Pending => break,
                    }
                },
            }
            for (key, s) in self.streams.iter_mut() {
                sent |= poll_stream(*key, s, &mut cx, events);
            }
            self.streams
                .retain(|_, s| !(s.detached && s.done && s.pending.is_empty()));
            let out_after = self.pipe.with(|s| s.outbox.len());
            let woke = woken.0.load(Ordering::Relaxed);
            if events.len() == before && out_after == out_before && !sent && !woke {
                break;
            }
        }
    }
}

/// A waker that only records that it was woken.
struct WakeFlag(AtomicBool);

impl Wake for WakeFlag {
    fn wake(self: Arc<Self>) {
        self.0.store(true, Ordering::Relaxed);
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.0.store(true, Ordering::Relaxed);
    }
}

/// Reads a stream's body and resets, and hands queued response data to the connection as
/// flow control allows; returns whether anything was handed over.
fn poll_stream(
    key: StreamKey,
    s: &mut Stream,
    cx: &mut Context<'_>,
    events: &mut Vec<H2Event>,
) -> bool {
    let mut sent = false;
    // The client may reset a stream at any time.
    let reset = match (&mut s.send, &mut s.respond) {
        (Some(send), _) => matches!(send.poll_reset(cx), Poll::Ready(_)),
        (None, Some(r)) => matches!(r.poll_reset(cx), Poll::Ready(_)),
        _ => false,
    };
    if reset && !(s.done && s.pending.is_empty()) {
        s.recv = None;
        s.pending.clear();
        s.pending_len = 0;
        s.done = true;
        events.push(H2Event::Reset { stream: key });
        return sent;
    }
    while !s.paused {
        let Some(recv) = &mut s.recv else {
            break;
        };
        match recv.poll_data(cx) {
            Poll::Ready(Some(Ok(data))) => {
                let _ = recv.flow_control().release_capacity(data.len());
                let end_stream = recv.is_end_stream();
                if end_stream {
                    s.recv = None;
                }
                events.push(H2Event::Data {
                    stream: key,
                    data,
                    end_stream,
                });
            }
            Poll::Ready(Some(Err(_))) => {
                s.recv = None;
                events.push(H2Event::Reset { stream: key });
                return sent;
            }
            Poll::Ready(None) => {
                match recv.poll_trailers(cx) {
                    Poll::Ready(Ok(Some(trailers))) => {
                        events.push(H2Event::Trailers {
                            stream: key,
                            trailers,
                        });
                    }
                    Poll::Pending => break,
                    _ => events.push(H2Event::Data {
                        stream: key,
                        data: Bytes::new(),
                        end_stream: true,
                    }),
                }
                s.recv = None;
            }
            Poll::Pending => break,
        }
    }
    let Some(send) = &mut s.send else {
        return sent;
    };
    while let Some(front) = s.pending.front_mut() {
        if send.capacity() == 0 {
            send.reserve_capacity(s.pending_len);
            match send.poll_capacity(cx) {
                Poll::Ready(Some(Ok(n))) if n > 0 => {}
                Poll::Ready(Some(Err(_))) | Poll::Ready(None) => {
                    s.pending.clear();
                    s.pending_len = 0;
                    s.done = true;
                    return sent;
                }
                _ => return sent,
            }
        }
        let n = send.capacity().min(front.len());
        let chunk = front.split_to(n);
        if front.is_empty() {
            s.pending.pop_front();
        }
        s.pending_len -= n;
        let last = s.pending.is_empty() && s.end && s.trailers.is_none();
        sent = true;
        if send.send_data(chunk, last).is_err() {
            s.pending.clear();
            s.pending_len = 0;
            s.done = true;
            return sent;
        }
        if last {
            s.done = true;
        }
    }
    if s.pending.is_empty() && s.end && !s.done {
        let ok = match s.trailers.take() {
            Some(t) => send.send_trailers(t).is_ok(),
            None => send.send_data(Bytes::new(), true).is_ok(),
        };
        let _ = ok;
        s.done = true;
        sent = true;
    }
    sent
}
