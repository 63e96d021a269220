//! One socket of the mio loop: its write queue and flags.

use std::io::Write;

use mio::net::TcpStream;
use trafficcop_core::proxy::{ConnId, WriteQueue};

/// A socket and what is queued for it.
pub struct Conn {
    pub stream: TcpStream,
    pub id: ConnId,
    pub out: WriteQueue,
    pub paused: bool,
    /// Close once `out` is flushed.
    pub closing: bool,
    /// An upstream connect still in progress.
    pub connecting: bool,
    /// Data was queued since the last `Writable` report.
    pub owes_writable: bool,
    /// Shut the writing side down once `out` is flushed (`Output::ShutdownWrite`).
    pub shutdown_write: bool,
}

/// What a flush achieved.
pub enum Flush {
    /// Everything queued is written.
    Done,
    /// The socket is full; wait for writability.
    Blocked,
    /// The write failed.
    Failed,
}

impl Conn {
    /// A connection around `stream`.
    pub fn new(stream: TcpStream, id: ConnId, connecting: bool) -> Self {
        Conn {
            stream,
            id,
            out: WriteQueue::default(),
            paused: false,
            closing: false,
            connecting,
            owes_writable: false,
            shutdown_write: false,
        }
    }

    /// Writes as much of the queue as the socket takes (vectored: every queued chunk in one
    /// call).
    pub fn flush(&mut self) -> Flush {
        if self.connecting {
            return Flush::Blocked;
        }
        let stream = &mut self.stream;
        // One chunk goes by `send` (as before vectored writes), several by `writev`.
        let write = |slices: &[std::io::IoSlice<'_>]| match slices {
            [one] => stream.write(one),
            _ => stream.write_vectored(slices),
        };
        match self.out.write_with(write) {
            Ok(true) => {
                if std::mem::take(&mut self.shutdown_write) {
                    // The peer may have gone already: reading reports that.
                    let _ = self.stream.shutdown(std::net::Shutdown::Write);
                }
                Flush::Done
            }
            Ok(false) => Flush::Blocked,
            Err(_) => Flush::Failed,
        }
    }
}
