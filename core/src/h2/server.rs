//! The HTTP/2 server side of one client connection, driven without a runtime: the `h2` crate
//! runs over an in-memory `Pipe` and is polled with a no-op waker after every input and
//! every action, which is the only way it makes progress. The API is small on purpose (events
//! out; respond, send, reset in) so that an own HTTP/2 implementation could replace it.

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use bytes::Bytes;
use h2::server::{Connection, Handshake, SendResponse};
use h2::Reason;

use super::pipe::Pipe;
use super::stream::{Incoming, Outgoing, Readiness, WakeFlag};

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

/// Something the peer did (the client of an [`H2Server`], the server of an
/// [`super::H2Client`]).
#[derive(Debug)]
pub enum H2Event {
    /// A new request head (servers only).
    Request {
        /// Its stream.
        stream: StreamKey,
        /// Method, URI (scheme, authority, path) and headers.
        head: http::request::Parts,
        /// No body follows.
        end_stream: bool,
    },
    /// A response head (clients only).
    Response {
        /// Its stream.
        stream: StreamKey,
        /// Status and headers.
        head: http::response::Parts,
        /// No body follows.
        end_stream: bool,
    },
    /// Body bytes.
    Data {
        /// Its stream.
        stream: StreamKey,
        /// The bytes (possibly empty when only the end is signalled).
        data: Bytes,
        /// The body is complete.
        end_stream: bool,
    },
    /// Trailers (the body is complete).
    Trailers {
        /// Its stream.
        stream: StreamKey,
        /// The trailer fields.
        trailers: http::HeaderMap,
    },
    /// The peer reset the stream (or it broke): forget it.
    Reset {
        /// Its stream.
        stream: StreamKey,
    },
    /// (Clients only.) The server did not process the stream: it refused it
    /// (`REFUSED_STREAM`), it was above the last stream of a `GOAWAY`, or it was never sent
    /// because the connection became unusable. Sending the request again is safe (Go's
    /// transport does).
    Refused {
        /// Its stream.
        stream: StreamKey,
    },
}

struct Stream {
    incoming: Incoming,
    respond: Option<SendResponse<Bytes>>,
    out: Outgoing,
    /// The worker is done with it; it goes once its queued response is written.
    detached: bool,
    /// The response broke after its head was handed over: the stream is reset with this
    /// reason once the connection has written what it queued (the head goes out first, as
    /// Go's server flushes it before the handler aborts).
    reset_after_flush: Option<Reason>,
    ready: Readiness,
}

impl Stream {
    /// Resets the stream, through its response if one was started.
    fn send_reset(&mut self, reason: Reason) {
        if let Some(send) = &mut self.out.send {
            send.send_reset(reason);
        } else if let Some(r) = &mut self.respond {
            r.send_reset(reason);
        }
    }
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
    /// Woken by `h2` when the connection (or, through [`Readiness`], a stream) can progress.
    woken: Arc<WakeFlag>,
    waker: Waker,
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
        let (woken, waker) = WakeFlag::new();
        H2Server {
            pipe,
            state: State::Handshake(Box::new(handshake)),
            streams: BTreeMap::new(),
            next: 1,
            woken,
            waker,
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
            s.incoming.paused = paused;
            s.ready.touched = true;
        }
    }

    /// Response bytes queued for a stream and not yet handed to the connection (flow control).
    pub fn pending(&self, stream: StreamKey) -> usize {
        self.streams.get(&stream).map_or(0, |s| s.out.pending_len)
    }

    /// Sends a response head; `end_stream` when there is no body.
    pub fn respond(&mut self, stream: StreamKey, head: http::Response<()>, end_stream: bool) {
        let Some(s) = self.streams.get_mut(&stream) else {
            return;
        };
        let Some(mut respond) = s.respond.take() else {
            return;
        };
        s.ready.touched = true;
        match respond.send_response(head, end_stream) {
            Ok(send) => {
                s.out.send = Some(send);
                s.out.done = end_stream;
                s.out.end = end_stream;
            }
            Err(_) => s.out.done = true,
        }
    }

    /// Sends an interim (1xx) response head before the final one.
    pub fn respond_informational(&mut self, stream: StreamKey, head: http::Response<()>) {
        if let Some(r) = self
            .streams
            .get_mut(&stream)
            .and_then(|s| s.respond.as_mut())
        {
            let _ = r.send_informational(head);
        }
    }

    /// Queues response body bytes; `end_stream` ends the response after them.
    pub fn send_data(&mut self, stream: StreamKey, data: Bytes, end_stream: bool) {
        if let Some(s) = self.streams.get_mut(&stream) {
            s.out.queue(data, end_stream);
            s.ready.touched = true;
        }
    }

    /// Queues trailers, which end the response.
    pub fn send_trailers(&mut self, stream: StreamKey, trailers: http::HeaderMap) {
        if let Some(s) = self.streams.get_mut(&stream) {
            s.out.queue_trailers(trailers);
            s.ready.touched = true;
        }
    }

    /// Forgets a stream; one whose response did not end is reset (`CANCEL`, or
    /// `INTERNAL_ERROR` when `error`).
    pub fn close_stream(&mut self, stream: StreamKey, error: bool) {
        if !error {
            if let Some(s) = self.streams.get_mut(&stream) {
                if s.out.end && !s.out.complete() {
                    // The whole response is queued: it goes out as flow control allows.
                    s.detached = true;
                    s.incoming.recv = None;
                    s.ready.touched = true;
                    return;
                }
            }
        }
        let reason = if error {
            Reason::INTERNAL_ERROR
        } else {
            Reason::CANCEL
        };
        if let Some(s) = self.streams.get_mut(&stream) {
            if s.out.send.is_some() && !s.out.complete() {
                // The head may still be queued in the connection: reset after the next write.
                s.reset_after_flush = Some(reason);
                s.detached = true;
                s.incoming.recv = None;
                s.ready.touched = true;
                return;
            }
        }
        let Some(mut s) = self.streams.remove(&stream) else {
            return;
        };
        if !s.out.complete() {
            s.send_reset(reason);
        }
    }

    /// Resets a stream with `reason`, whatever its response (a request that cannot be read is
    /// `PROTOCOL_ERROR`, as Go's server answers it).
    pub fn reset_stream(&mut self, stream: StreamKey, reason: Reason) {
        if let Some(mut s) = self.streams.remove(&stream) {
            s.send_reset(reason);
        }
    }

    /// Refuses a stream without processing it (`RST_STREAM` with `REFUSED_STREAM`): the client
    /// may send the request again.
    pub fn refuse_stream(&mut self, stream: StreamKey) {
        if let Some(mut s) = self.streams.remove(&stream) {
            if let Some(r) = &mut s.respond {
                r.send_reset(Reason::REFUSED_STREAM);
            }
        }
    }

    /// Whether a stream's response has been completely handed to the connection.
    pub fn response_complete(&self, stream: StreamKey) -> bool {
        self.streams.get(&stream).is_none_or(|s| s.out.complete())
    }

    /// Drives the connection: reads frames, accepts streams, reads bodies, writes what was
    /// queued. Call after every input and every action, then send [`H2Server::take_output`].
    pub fn poll(&mut self, events: &mut Vec<H2Event>) {
        // `h2` asks to be polled again through the waker (after queueing frames, when capacity
        // is assigned): the flag turns that into another round here.
        let waker = self.waker.clone();
        let mut cx = Context::from_waker(&waker);
        for _ in 0..1024 {
            self.woken.take();
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
                                    incoming: Incoming {
                                        recv: (!end_stream).then_some(body),
                                        paused: false,
                                    },
                                    respond: Some(respond),
                                    out: Outgoing::default(),
                                    detached: false,
                                    reset_after_flush: None,
                                    ready: Readiness::new(&self.woken),
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
            // Only the streams `h2` woke or the worker acted upon need polling.
            let mut finished = false;
            for (key, s) in self.streams.iter_mut() {
                if !s.ready.take() {
                    continue;
                }
                if let Some(reason) = s.reset_after_flush.take() {
                    // The connection was polled above: the head queued before is written.
                    s.send_reset(reason);
                    s.out.abandon();
                    finished = true;
                    sent = true;
                    continue;
                }
                let waker = s.ready.waker().clone();
                let mut scx = Context::from_waker(&waker);
                sent |= poll_stream(*key, s, &mut scx, events);
                finished |= s.detached && s.out.complete();
            }
            if finished {
                self.streams
                    .retain(|_, s| !(s.detached && s.out.complete()));
            }
            // `h2` asks for another round through a waker (it queued frames, assigned
            // capacity, a stream became ready); nothing else can change until the next input.
            if !self.woken.take() && !sent {
                break;
            }
        }
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
    // The client may reset a stream at any time.
    let reset = match (&mut s.out.send, &mut s.respond) {
        (Some(send), _) => matches!(send.poll_reset(cx), Poll::Ready(_)),
        (None, Some(r)) => matches!(r.poll_reset(cx), Poll::Ready(_)),
        _ => false,
    };
    if reset && !s.out.complete() {
        s.incoming.recv = None;
        s.out.abandon();
        events.push(H2Event::Reset { stream: key });
        return false;
    }
    if !s.incoming.poll(key, cx, events) {
        return false;
    }
    s.out.flush(cx)
}
