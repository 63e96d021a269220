//! One socket: a reader task that forwards bytes (pausable), and writes made by the driver at
//! the end of each batch of events (a non-blocking vectored `try_write` of everything queued for the
//! connection, so outputs of several events leave in one write); only what the socket does not
//! take at once is left to a flush task, which reports `Writable` when the queue is empty.

use std::cell::RefCell;
use std::rc::Rc;

use bytes::Bytes;
use tokio::io::AsyncRead;
use tokio::net::tcp::OwnedWriteHalf;
use tokio::net::TcpStream;
use tokio::sync::{mpsc, watch};
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
}

/// The adapter's handle on one socket. Dropping the last reference to the write half (the
/// handle's, then the flush task's) shuts the connection's write side down.
pub struct ConnHandle {
    conn: ConnId,
    wr: Rc<OwnedWriteHalf>,
    pending: Rc<RefCell<Pending>>,
    events: mpsc::UnboundedSender<Input>,
    pub paused: watch::Sender<bool>,
    pub reader: JoinHandle<()>,
}

const READ_BUF: usize = 64 * 1024;

thread_local! {
    /// One datagram buffer per worker thread, shared by all its UDP sockets (each datagram is
    /// copied out at once).
    pub(crate) static READ_BUFFER: std::cell::RefCell<Vec<u8>> = std::cell::RefCell::new(vec![0u8; READ_BUF]);
    /// One TCP read buffer per worker thread, shared by all its connections.
    static TCP_READ_BUFFER: std::cell::RefCell<ReadBuffer> = std::cell::RefCell::new(ReadBuffer::default());
}

/// Reads what the socket has into the worker's buffer (empty at end of stream). Through
/// `poll_read`, which knows that a read that did not fill the buffer drained the socket
/// (edge-triggered epoll): no extra `recv` that would only say `EAGAIN`. The buffer is only
/// borrowed within one poll, so connections can share it.
async fn read(rd: &mut tokio::net::tcp::OwnedReadHalf) -> std::io::Result<Bytes> {
    std::future::poll_fn(|cx| {
        TCP_READ_BUFFER.with(|b| {
            let mut b = b.borrow_mut();
            let mut buf = tokio::io::ReadBuf::new(b.space());
            match std::pin::Pin::new(&mut *rd).poll_read(cx, &mut buf) {
                std::task::Poll::Ready(Ok(())) => {
                    let n = buf.filled().len();
                    std::task::Poll::Ready(Ok(b.take(n)))
                }
                std::task::Poll::Ready(Err(e)) => std::task::Poll::Ready(Err(e)),
                std::task::Poll::Pending => std::task::Poll::Pending,
            }
        })
    })
    .await
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
            Ok(true) => true,
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

    /// Closes the connection once what is queued is written; returns the task still writing,
    /// if any (its end shuts the socket down).
    pub fn close(self) -> Option<JoinHandle<()>> {
        self.reader.abort();
        let mut p = self.pending.borrow_mut();
        p.closing = true;
        if p.flush.is_none() && !p.queue.is_empty() && !p.failed {
            return Some(self.spawn_flush());
        }
        p.flush.take()
    }

    /// Stops everything at once.
    pub fn abort(self) {
        self.reader.abort();
        if let Some(f) = self.pending.borrow_mut().flush.take() {
            f.abort();
        }
    }
}

/// Starts the reader task of `stream`; events go to `events`.
pub fn spawn(conn: ConnId, stream: TcpStream, events: mpsc::UnboundedSender<Input>) -> ConnHandle {
    let _ = stream.set_nodelay(true);
    let (mut rd, wr) = stream.into_split();
    let (paused_tx, mut paused_rx) = watch::channel(false);
    let ev = events.clone();
    let reader = tokio::task::spawn_local(async move {
        loop {
            while *paused_rx.borrow() {
                if paused_rx.changed().await.is_err() {
                    return;
                }
            }
            match read(&mut rd).await {
                Ok(data) if data.is_empty() => {
                    let _ = ev.send(Input::Eof { conn });
                    return;
                }
                Ok(data) => {
                    if ev.send(Input::Received { conn, data }).is_err() {
                        return;
                    }
                    // A read from a ready socket may not count against tokio's cooperative
                    // budget: without this, a fast peer could keep this task reading (into
                    // the unbounded event queue) before the worker ever sees its bytes and
                    // can pause it.
                    tokio::task::consume_budget().await;
                }
                Err(_) => {
                    let _ = ev.send(Input::Reset { conn });
                    return;
                }
            }
        }
    });
    ConnHandle {
        conn,
        wr: Rc::new(wr),
        pending: Rc::new(RefCell::new(Pending::default())),
        events,
        paused: paused_tx,
        reader,
    }
}
