//! One socket: reads made by the driver when the socket's waker reports it readable (no task
//! of its own: the bytes go to the core in the same turn, without a channel hop), and writes
//! made by the driver at the end of each batch of events (a non-blocking vectored `try_write`
//! of everything queued for the connection, so outputs of several events leave in one write);
//! only what the socket does not take at once is left to a flush task, which reports
//! `Writable` when the queue is empty.

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};

use bytes::Bytes;
use tokio::io::AsyncRead;
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use trafficcop_core::proxy::{ConnId, Input, ReadBuffer, WriteQueue};

/// Bytes the socket did not take yet, and the task writing them.
#[derive(Default)]
struct Pending {
    queue: WriteQueue,
    flush: Option<JoinHandle<()>>,
    /// The connection is closed: no `Writable` any more.
    closing: bool,
    /// A write failed (reported as a reset once).
    failed: bool,
    /// Shut the writing side down once the queue is written (`Output::ShutdownWrite`).
    shutdown_write: bool,
}

/// Shuts the writing side down if that was asked and everything queued is written.
fn shutdown_if_asked(wr: &OwnedWriteHalf, p: &mut Pending) {
    if p.queue.is_empty() && std::mem::take(&mut p.shutdown_write) {
        // The peer may have gone already: reading reports that.
        let _ = socket2::SockRef::from(wr.as_ref()).shutdown(std::net::Shutdown::Write);
    }
}

/// The connections a worker should read, as their sockets' wakers report them, and the
/// driver's waker. Wakers are `Send`, so this is behind a mutex, though only the worker's
/// thread touches it.
#[derive(Default)]
pub struct ReadyList {
    inner: Mutex<Ready>,
}

#[derive(Default)]
struct Ready {
    conns: Vec<ConnId>,
    driver: Option<Waker>,
}

impl ReadyList {
    /// Marks `conn` to be read, and wakes the driver.
    pub fn push(&self, conn: ConnId) {
        let driver = {
            let mut r = self.inner.lock().unwrap_or_else(|e| e.into_inner());
            r.conns.push(conn);
            r.driver.take()
        };
        if let Some(w) = driver {
            w.wake();
        }
    }

    /// Waits until some connection is marked.
    pub async fn wait(&self) {
        std::future::poll_fn(|cx| {
            let mut r = self.inner.lock().unwrap_or_else(|e| e.into_inner());
            if r.conns.is_empty() {
                if !r.driver.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
                    r.driver = Some(cx.waker().clone());
                }
                Poll::Pending
            } else {
                Poll::Ready(())
            }
        })
        .await
    }

    /// Whether no connection is marked.
    pub fn is_empty(&self) -> bool {
        self.inner
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .conns
            .is_empty()
    }

    /// Moves the marked connections into `into` (in the order they were marked).
    pub fn take(&self, into: &mut std::collections::VecDeque<ConnId>) {
        let mut r = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        into.extend(r.conns.drain(..));
    }
}

/// A socket's read waker: marks its connection in the worker's [`ReadyList`].
struct ReadWaker {
    conn: ConnId,
    ready: Arc<ReadyList>,
}

impl Wake for ReadWaker {
    fn wake(self: Arc<Self>) {
        self.ready.push(self.conn);
    }
    fn wake_by_ref(self: &Arc<Self>) {
        self.ready.push(self.conn);
    }
}

/// The adapter's handle on one socket. Dropping the last reference to the write half (the
/// handle's, then the flush task's) shuts the connection's write side down.
pub struct ConnHandle {
    conn: ConnId,
    rd: OwnedReadHalf,
    /// Marks this connection in the worker's [`ReadyList`] when its socket turns readable.
    waker: Waker,
    /// The core paused reading (backpressure).
    paused: bool,
    /// The read side is finished: end of stream or an error, reported once.
    read_done: bool,
    wr: Rc<OwnedWriteHalf>,
    pending: Rc<RefCell<Pending>>,
    events: mpsc::UnboundedSender<Input>,
}

const READ_BUF: usize = 64 * 1024;

thread_local! {
    /// One datagram buffer per worker thread, shared by all its UDP sockets (each datagram is
    /// copied out at once).
    pub(crate) static READ_BUFFER: std::cell::RefCell<Vec<u8>> = std::cell::RefCell::new(vec![0u8; READ_BUF]);
    /// One TCP read buffer per worker thread, shared by all its connections.
    static TCP_READ_BUFFER: std::cell::RefCell<ReadBuffer> = std::cell::RefCell::new(ReadBuffer::default());
}

/// Writes as much of `queue` as the socket takes now (vectored: every queued chunk in one
/// call); `Ok(true)` when all of it went.
fn write_now(wr: &OwnedWriteHalf, queue: &mut WriteQueue) -> std::io::Result<bool> {
    // One chunk goes by `send`, several by `writev`.
    queue.write_with(|slices| match slices {
        [one] => wr.try_write(one),
        _ => wr.try_write_vectored(slices),
    })
}

/// Writes the queue as the socket becomes writable; reports `Writable` once it is empty.
async fn flush(
    conn: ConnId,
    wr: Rc<OwnedWriteHalf>,
    pending: Rc<RefCell<Pending>>,
    events: mpsc::UnboundedSender<Input>,
) {
    loop {
        if wr.writable().await.is_err() {
            let _ = events.send(Input::Reset { conn });
            return;
        }
        let mut p = pending.borrow_mut();
        if write_now(&wr, &mut p.queue).is_err() {
            p.failed = true;
            p.queue.clear();
            if !p.closing {
                let _ = events.send(Input::Reset { conn });
            }
            return;
        }
        if p.queue.is_empty() {
            p.flush = None;
            shutdown_if_asked(&wr, &mut p);
            if !p.closing {
                let _ = events.send(Input::Writable { conn });
            }
            return;
        }
    }
}

impl ConnHandle {
    /// Queues `data`; it is written by [`ConnHandle::flush_now`] at the end of the driver's
    /// batch of events (so several outputs for one connection leave in one write), or by the
    /// flush task when one is running. Returns `true` when [`WRITE_AT_ONCE`](trafficcop_core::proxy::WRITE_AT_ONCE) bytes or more wait:
    /// the caller writes them at once (large writes gain nothing from waiting, and memory
    /// stays bounded).
    pub fn send(&self, data: Bytes) -> bool {
        let mut p = self.pending.borrow_mut();
        if p.failed {
            return false;
        }
        p.queue.push(data) && p.flush.is_none()
    }

    /// Writes what is queued as far as the socket takes it now. Returns `true` when
    /// everything handed to this connection so far is written (the caller reports `Writable`
    /// itself); otherwise a flush task writes the rest and reports it later.
    pub fn flush_now(&self) -> bool {
        let mut p = self.pending.borrow_mut();
        if p.failed || p.flush.is_some() {
            return false;
        }
        match write_now(&self.wr, &mut p.queue) {
            Ok(true) => {
                shutdown_if_asked(&self.wr, &mut p);
                true
            }
            Ok(false) => {
                p.flush = Some(self.spawn_flush());
                false
            }
            Err(_) => {
                p.failed = true;
                p.queue.clear();
                let _ = self.events.send(Input::Reset { conn: self.conn });
                false
            }
        }
    }

    fn spawn_flush(&self) -> JoinHandle<()> {
        tokio::task::spawn_local(flush(
            self.conn,
            Rc::clone(&self.wr),
            Rc::clone(&self.pending),
            self.events.clone(),
        ))
    }

    /// Reads what the socket has into the worker's buffer, unless reading is paused or over:
    /// `None` when there is nothing (the socket's waker marks the connection when bytes
    /// come, and after a read that may have left some). Through `poll_read`, which knows
    /// that a read that did not fill the buffer drained the socket (edge-triggered epoll):
    /// asking again costs no `recv` that would only say `EAGAIN`. Each read counts against the driver task's cooperative budget; when
    /// it is spent the read waits, and the connection is marked again for the next turn.
    pub fn read(&mut self) -> Option<Input> {
        if self.paused || self.read_done {
            return None;
        }
        let conn = self.conn;
        let mut cx = Context::from_waker(&self.waker);
        let polled = TCP_READ_BUFFER.with(|b| {
            let mut b = b.borrow_mut();
            let mut buf = tokio::io::ReadBuf::new(b.space());
            match std::pin::Pin::new(&mut self.rd).poll_read(&mut cx, &mut buf) {
                Poll::Ready(Ok(())) => {
                    let n = buf.filled().len();
                    Poll::Ready(Ok(b.take(n)))
                }
                Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
                Poll::Pending => Poll::Pending,
            }
        });
        match polled {
            Poll::Pending => None,
            Poll::Ready(Ok(data)) if data.is_empty() => {
                self.read_done = true;
                Some(Input::Eof { conn })
            }
            Poll::Ready(Ok(data)) => {
                // A read that drained the socket cleared its readiness: asking again only
                // registers the waker (no system call). A socket still ready is marked to be
                // read again after the connections already marked.
                if self.rd.as_ref().poll_read_ready(&mut cx).is_ready() {
                    self.waker.wake_by_ref();
                }
                Some(Input::Received { conn, data })
            }
            Poll::Ready(Err(_)) => {
                self.read_done = true;
                Some(Input::Reset { conn })
            }
        }
    }

    /// Shuts the writing side down once what is queued is written (by
    /// [`ConnHandle::flush_now`] or the flush task); reading goes on.
    pub fn shutdown_write(&self) {
        self.pending.borrow_mut().shutdown_write = true;
    }

    /// Stops reading until [`ConnHandle::resume`].
    pub fn pause(&mut self) {
        self.paused = true;
    }

    /// Reads again: the connection is marked in `ready`, since bytes may already wait.
    pub fn resume(&mut self, ready: &ReadyList) {
        if std::mem::replace(&mut self.paused, false) {
            ready.push(self.conn);
        }
    }

    /// Closes the connection once what is queued is written; returns the task still writing,
    /// if any (its end shuts the socket down).
    pub fn close(self) -> Option<JoinHandle<()>> {
        let mut p = self.pending.borrow_mut();
        p.closing = true;
        if p.flush.is_none() && !p.queue.is_empty() && !p.failed {
            // The last bytes (a response before `Connection: close`) usually fit the socket
            // at once: a task is spawned only for what it does not take.
            return match write_now(&self.wr, &mut p.queue) {
                Ok(true) => None,
                Ok(false) => Some(self.spawn_flush()),
                Err(_) => None,
            };
        }
        p.flush.take()
    }

    /// Stops everything at once.
    pub fn abort(self) {
        if let Some(f) = self.pending.borrow_mut().flush.take() {
            f.abort();
        }
    }
}

/// A handle on `stream`, marked in `ready` for its first read (which also registers its
/// waker); the flush task reports to `events`. The caller has seen to `TCP_NODELAY` (set on
/// a dialled socket; an accepted one has it from its listener, or had it set on accepting).
pub fn open(
    conn: ConnId,
    stream: TcpStream,
    ready: &Arc<ReadyList>,
    events: mpsc::UnboundedSender<Input>,
) -> ConnHandle {
    let (rd, wr) = stream.into_split();
    ready.push(conn);
    ConnHandle {
        conn,
        rd,
        waker: Waker::from(Arc::new(ReadWaker {
            conn,
            ready: Arc::clone(ready),
        })),
        paused: false,
        read_done: false,
        wr: Rc::new(wr),
        pending: Rc::new(RefCell::new(Pending::default())),
        events,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::VecDeque;
    use tokio::io::AsyncReadExt;

    /// Closing hands over everything queued, then the end of stream: a response the socket
    /// takes at once is written by `close` itself (no task), a larger one partly, with a flush
    /// task for the rest.
    #[test]
    fn closing_delivers_what_is_queued_then_the_end() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let local = tokio::task::LocalSet::new();
        local.block_on(&rt, async {
            for (size, spawns_a_task) in [(13usize, false), (64 << 20, true)] {
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
                let mut client = TcpStream::connect(listener.local_addr().unwrap())
                    .await
                    .unwrap();
                let (server, _) = listener.accept().await.unwrap();
                let (events, _unused) = mpsc::unbounded_channel();
                let c = open(ConnId(1), server, &Arc::new(ReadyList::default()), events);
                let body: Vec<u8> = (0..size).map(|i| (i % 251) as u8).collect();
                c.send(Bytes::from(body.clone()));
                let task = c.close();
                assert_eq!(task.is_some(), spawns_a_task, "{size} bytes");
                let mut got = Vec::new();
                tokio::time::timeout(
                    std::time::Duration::from_secs(20),
                    client.read_to_end(&mut got),
                )
                .await
                .expect("the end of stream comes")
                .unwrap();
                assert!(got == body, "{size} bytes: {} arrived", got.len());
                if let Some(t) = task {
                    t.await.unwrap();
                }
            }
        });
    }

    #[test]
    fn a_socket_waker_marks_its_connection_and_wakes_the_driver() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap();
        let ready = Arc::new(ReadyList::default());
        let waker = Waker::from(Arc::new(ReadWaker {
            conn: ConnId(7),
            ready: Arc::clone(&ready),
        }));
        rt.block_on(async {
            let waiting = {
                let ready = Arc::clone(&ready);
                tokio::spawn(async move { ready.wait().await })
            };
            tokio::task::yield_now().await;
            assert!(!waiting.is_finished(), "nothing marked: the driver waits");
            waker.wake_by_ref();
            ready.push(ConnId(3));
            tokio::time::timeout(std::time::Duration::from_secs(5), waiting)
                .await
                .expect("the mark wakes the driver")
                .unwrap();
        });
        assert!(!ready.is_empty());
        let mut taken = VecDeque::new();
        ready.take(&mut taken);
        assert_eq!(
            taken,
            [ConnId(7), ConnId(3)],
            "in the order they were marked"
        );
        assert!(ready.is_empty());
    }
}
