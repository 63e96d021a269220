//! One socket: a reader task that forwards bytes (pausable) and a writer task that writes in
//! order and reports when everything queued has been written.

use bytes::Bytes;
use tokio::io::{AsyncRead, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use trafficcop_core::proxy::{ConnId, Input};

/// Commands for a connection's writer.
pub enum WriteCmd {
    /// Write bytes.
    Data(Bytes),
    /// Flush and close.
    Close,
}

/// The adapter's handle on one socket.
pub struct ConnHandle {
    pub writer: mpsc::UnboundedSender<WriteCmd>,
    pub paused: watch::Sender<bool>,
    pub reader: JoinHandle<()>,
    /// The writer task: awaited at shutdown so queued bytes reach the peer.
    pub writer_task: JoinHandle<()>,
}

const READ_BUF: usize = 64 * 1024;

thread_local! {
    /// One read buffer per worker thread, shared by all its connections (each read is copied
    /// out at once), so an idle or waiting connection holds no 64 KiB buffer of its own.
    static READ_BUFFER: std::cell::RefCell<Vec<u8>> = std::cell::RefCell::new(vec![0u8; READ_BUF]);
}

/// Reads what the socket has into the worker's buffer (empty at end of stream). Through
/// `poll_read`, which knows that a read that did not fill the buffer drained the socket
/// (edge-triggered epoll): no extra `recv` that would only say `EAGAIN`. The buffer is only
/// borrowed within one poll, so connections can share it.
async fn read(rd: &mut tokio::net::tcp::OwnedReadHalf) -> std::io::Result<Bytes> {
    std::future::poll_fn(|cx| {
        READ_BUFFER.with(|b| {
            let mut b = b.borrow_mut();
            let mut buf = tokio::io::ReadBuf::new(&mut b);
            match std::pin::Pin::new(&mut *rd).poll_read(cx, &mut buf) {
                std::task::Poll::Ready(Ok(())) => {
                    std::task::Poll::Ready(Ok(Bytes::copy_from_slice(buf.filled())))
                }
                std::task::Poll::Ready(Err(e)) => std::task::Poll::Ready(Err(e)),
                std::task::Poll::Pending => std::task::Poll::Pending,
            }
        })
    })
    .await
}

/// Starts the reader and writer tasks of `stream`; events go to `events`.
pub fn spawn(conn: ConnId, stream: TcpStream, events: mpsc::UnboundedSender<Input>) -> ConnHandle {
    let _ = stream.set_nodelay(true);
    let (mut rd, mut wr) = stream.into_split();
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
                    // budget: without this, a fast peer could keep this task
                    // reading (into the unbounded event queue) before the worker ever sees
                    // its bytes and can pause it.
                    tokio::task::consume_budget().await;
                }
                Err(_) => {
                    let _ = ev.send(Input::Reset { conn });
                    return;
                }
            }
        }
    });
    let (tx, mut rx) = mpsc::unbounded_channel::<WriteCmd>();
    let writer_task = tokio::task::spawn_local(async move {
        while let Some(cmd) = rx.recv().await {
            match cmd {
                WriteCmd::Data(data) => {
                    if wr.write_all(&data).await.is_err() {
                        let _ = events.send(Input::Reset { conn });
                        return;
                    }
                    if rx.is_empty() {
                        let _ = events.send(Input::Writable { conn });
                    }
                }
                WriteCmd::Close => {
                    let _ = wr.shutdown().await;
                    return;
                }
            }
        }
    });
    ConnHandle {
        writer: tx,
        paused: paused_tx,
        reader,
        writer_task,
    }
}
