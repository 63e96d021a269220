//! One socket: a reader task that forwards bytes (pausable) and a writer task that writes in
//! order and reports when everything queued has been written.

use bytes::Bytes;
use tokio::io::AsyncWriteExt;
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

/// One non-blocking read into the worker's buffer: `Ok(None)` when nothing was ready after all.
fn try_read(rd: &tokio::net::tcp::OwnedReadHalf) -> std::io::Result<Option<Bytes>> {
    READ_BUFFER.with(|b| {
        let mut b = b.borrow_mut();
        match rd.try_read(&mut b) {
            Ok(n) => Ok(Some(Bytes::copy_from_slice(&b[..n]))),
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => Ok(None),
            Err(e) => Err(e),
        }
    })
}

/// Starts the reader and writer tasks of `stream`; events go to `events`.
pub fn spawn(conn: ConnId, stream: TcpStream, events: mpsc::UnboundedSender<Input>) -> ConnHandle {
    let _ = stream.set_nodelay(true);
    let (rd, mut wr) = stream.into_split();
    let (paused_tx, mut paused_rx) = watch::channel(false);
    let ev = events.clone();
    let reader = tokio::task::spawn_local(async move {
        loop {
            while *paused_rx.borrow() {
                if paused_rx.changed().await.is_err() {
                    return;
                }
            }
            if rd.readable().await.is_err() {
                let _ = ev.send(Input::Reset { conn });
                return;
            }
            match try_read(&rd) {
                Ok(None) => {}
                Ok(Some(data)) if data.is_empty() => {
                    let _ = ev.send(Input::Eof { conn });
                    return;
                }
                Ok(Some(data)) => {
                    if ev.send(Input::Received { conn, data }).is_err() {
                        return;
                    }
                    // `readable()` on a ready socket does not count against tokio's
                    // cooperative budget: without this, a fast peer would keep this task
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
