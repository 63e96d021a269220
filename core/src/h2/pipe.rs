//! The in-memory transport the `h2` crate reads from and writes to: bytes the worker received
//! wait in `inbox`, frames `h2` wrote wait in `outbox` until the worker sends them. Reading an
//! empty inbox is `Pending` (the worker polls again after the next input), never an error.

use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use bytes::{Buf, BytesMut};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

#[derive(Debug, Default)]
pub(super) struct PipeState {
    pub inbox: BytesMut,
    pub outbox: Vec<u8>,
    /// The peer finished sending.
    pub eof: bool,
}

/// One end of the pipe, given to `h2`; the worker keeps the other handle.
#[derive(Debug, Clone, Default)]
pub(super) struct Pipe(pub Arc<Mutex<PipeState>>);

impl Pipe {
    pub fn with<R>(&self, f: impl FnOnce(&mut PipeState) -> R) -> R {
        let mut g = self.0.lock().unwrap_or_else(|e| e.into_inner());
        f(&mut g)
    }
}

impl AsyncRead for Pipe {
    fn poll_read(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        self.with(|s| {
            if s.inbox.is_empty() {
                return if s.eof {
                    Poll::Ready(Ok(()))
                } else {
                    Poll::Pending
                };
            }
            let n = s.inbox.len().min(buf.remaining());
            buf.put_slice(&s.inbox[..n]);
            s.inbox.advance(n);
            Poll::Ready(Ok(()))
        })
    }
}

impl AsyncWrite for Pipe {
    fn poll_write(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        self.with(|s| s.outbox.extend_from_slice(data));
        Poll::Ready(Ok(data.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}
