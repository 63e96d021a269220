//! What both ends of the shim do with one stream: read its body (as events, unless paused) and
//! hand queued bytes to `h2` as flow control allows, then end it (with trailers or an empty
//! DATA frame).

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

use bytes::Bytes;
use h2::{RecvStream, SendStream};

use super::server::{H2Event, StreamKey};

/// The receiving half of a stream.
#[derive(Default)]
pub(super) struct Incoming {
    pub recv: Option<RecvStream>,
    /// Reading stopped: unread data is not acknowledged, so the peer's window closes.
    pub paused: bool,
}

impl Incoming {
    /// Reads what arrived; returns `false` when the stream broke (a `Reset` event was pushed).
    pub fn poll(
        &mut self,
        key: StreamKey,
        cx: &mut Context<'_>,
        events: &mut Vec<H2Event>,
    ) -> bool {
        while !self.paused {
            let Some(recv) = &mut self.recv else {
                break;
            };
            match recv.poll_data(cx) {
                Poll::Ready(Some(Ok(data))) => {
                    let _ = recv.flow_control().release_capacity(data.len());
                    let end_stream = recv.is_end_stream();
                    if end_stream {
                        self.recv = None;
                    }
                    events.push(H2Event::Data {
                        stream: key,
                        data,
                        end_stream,
                    });
                }
                Poll::Ready(Some(Err(_))) => {
                    self.recv = None;
                    events.push(H2Event::Reset { stream: key });
                    return false;
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
                    self.recv = None;
                }
                Poll::Pending => break,
            }
        }
        true
    }
}

/// The sending half of a stream: bytes queued by the worker until `h2` grants capacity.
#[derive(Default)]
pub(super) struct Outgoing {
    pub send: Option<SendStream<Bytes>>,
    pending: VecDeque<Bytes>,
    pub pending_len: usize,
    /// The stream ends after `pending` (and the trailers, if any).
    pub end: bool,
    trailers: Option<http::HeaderMap>,
    /// End of stream was sent (or the stream broke).
    pub done: bool,
}

impl Outgoing {
    /// Queues bytes; `end_stream` ends the stream after them.
    pub fn queue(&mut self, data: Bytes, end_stream: bool) {
        if self.end {
            return;
        }
        if !data.is_empty() {
            self.pending_len += data.len();
            self.pending.push_back(data);
        }
        self.end = end_stream;
    }

    /// Queues trailers, which end the stream.
    pub fn queue_trailers(&mut self, trailers: http::HeaderMap) {
        if !self.end {
            self.trailers = Some(trailers);
            self.end = true;
        }
    }

    /// Everything queued was handed over, end of stream included.
    pub fn complete(&self) -> bool {
        self.done && self.pending.is_empty()
    }

    /// The stream broke: forget what was queued.
    pub fn abandon(&mut self) {
        self.pending.clear();
        self.pending_len = 0;
        self.done = true;
    }

    /// Hands queued bytes to `h2` as capacity allows; returns whether anything was handed over.
    pub fn flush(&mut self, cx: &mut Context<'_>) -> bool {
        let mut sent = false;
        let Some(send) = &mut self.send else {
            return sent;
        };
        while let Some(front) = self.pending.front_mut() {
            if send.capacity() == 0 {
                send.reserve_capacity(self.pending_len);
                match send.poll_capacity(cx) {
                    Poll::Ready(Some(Ok(n))) if n > 0 => {}
                    Poll::Ready(Some(Err(_))) | Poll::Ready(None) => {
                        self.abandon();
                        return sent;
                    }
                    _ => return sent,
                }
            }
            let n = send.capacity().min(front.len());
            let chunk = front.split_to(n);
            if front.is_empty() {
                self.pending.pop_front();
            }
            self.pending_len -= n;
            let last = self.pending.is_empty() && self.end && self.trailers.is_none();
            sent = true;
            if send.send_data(chunk, last).is_err() {
                self.abandon();
                return sent;
            }
            if last {
                self.done = true;
            }
        }
        if self.pending.is_empty() && self.end && !self.done {
            let _ = match self.trailers.take() {
                Some(t) => send.send_trailers(t),
                None => send.send_data(Bytes::new(), true),
            };
            self.done = true;
            sent = true;
        }
        sent
    }
}

/// A waker that only records that it was woken: `h2` asks to be polled again through it
/// (after queueing frames, when capacity is assigned), which the drivers turn into another
/// polling round.
pub(super) struct WakeFlag(AtomicBool);

impl WakeFlag {
    /// A flag and the waker that sets it.
    pub fn new() -> (Arc<WakeFlag>, Waker) {
        let flag = Arc::new(WakeFlag(AtomicBool::new(false)));
        let waker = Waker::from(Arc::clone(&flag));
        (flag, waker)
    }

    /// Whether it was woken since the last call (and clears it).
    pub fn take(&self) -> bool {
        self.0.swap(false, Ordering::Relaxed)
    }
}

/// One stream's readiness: `h2` wakes a stream's own waker when that stream can make
/// progress (data or trailers arrived, capacity was assigned, the peer reset it), which also
/// wakes the connection's flag so that the polling loop goes another round. The loop then
/// polls only the streams that were woken or acted upon, not every open stream.
pub(super) struct Readiness {
    flag: Arc<StreamFlag>,
    waker: Waker,
    /// The worker acted on the stream (queued a response, data, a pause...): poll it.
    pub touched: bool,
}

struct StreamFlag {
    own: AtomicBool,
    conn: Arc<WakeFlag>,
}

impl Readiness {
    /// A stream's readiness, waking `conn` too; a new stream is polled at the next round.
    pub fn new(conn: &Arc<WakeFlag>) -> Self {
        let flag = Arc::new(StreamFlag {
            own: AtomicBool::new(false),
            conn: Arc::clone(conn),
        });
        let waker = Waker::from(Arc::clone(&flag));
        Readiness {
            flag,
            waker,
            touched: true,
        }
    }

    /// Whether the stream needs polling (woken or touched since the last call); clears both.
    pub fn take(&mut self) -> bool {
        let woken = self.flag.own.swap(false, Ordering::Relaxed);
        std::mem::take(&mut self.touched) || woken
    }

    /// The waker to poll the stream with.
    pub fn waker(&self) -> &Waker {
        &self.waker
    }
}

impl Wake for StreamFlag {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.own.store(true, Ordering::Relaxed);
        self.conn.0.store(true, Ordering::Relaxed);
    }
}

impl Wake for WakeFlag {
    fn wake(self: Arc<Self>) {
        self.0.store(true, Ordering::Relaxed);
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.0.store(true, Ordering::Relaxed);
    }
}
