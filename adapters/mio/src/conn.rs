//! One socket of the mio loop: its write queue and flags.

use std::collections::VecDeque;
use std::io::{ErrorKind, Write};

use bytes::Bytes;
use mio::net::TcpStream;
use trafficcop_core::proxy::ConnId;

/// A socket and what is queued for it.
pub struct Conn {
    pub stream: TcpStream,
    pub id: ConnId,
    pub out: VecDeque<Bytes>,
    /// Bytes of `out[0]` already written.
    pub written: usize,
    pub paused: bool,
    /// Close once `out` is flushed.
    pub closing: bool,
    /// An upstream connect still in progress.
    pub connecting: bool,
    /// Data was queued since the last `Writable` report.
    pub owes_writable: bool,
    /// Bytes queued since the last flush.
    pub unflushed: usize,
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
            out: VecDeque::new(),
            written: 0,
            paused: false,
            closing: false,
            connecting,
            owes_writable: false,
            unflushed: 0,
        }
    }

    /// Writes as much of the queue as the socket takes.
    pub fn flush(&mut self) -> Flush {
        if self.connecting {
            return Flush::Blocked;
        }
        self.unflushed = 0;
        while let Some(front) = self.out.front() {
            match self.stream.write(&front[self.written..]) {
                Ok(0) => return Flush::Failed,
                Ok(n) => {
                    self.written += n;
                    if self.written == front.len() {
                        self.out.pop_front();
                        self.written = 0;
                    }
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => return Flush::Blocked,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(_) => return Flush::Failed,
            }
        }
        Flush::Done
    }
}
