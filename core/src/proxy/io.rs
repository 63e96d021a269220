//! The worker's inputs and outputs: the closed list of things an adapter feeds in and carries
//! out (see DESIGN.md, "Core API").

use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;

use super::compile::CompiledConfig;

/// A point in time, in nanoseconds since an arbitrary origin chosen by the adapter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Timestamp(pub u64);

impl Timestamp {
    /// `self + d` (saturating), where `d` is a configuration duration.
    pub fn after(self, d: crate::config::Duration) -> Timestamp {
        Timestamp(self.0.saturating_add(d.0.max(0) as u64))
    }
}

/// A connection, allocated by the worker (downstream by [`super::Worker::accept`], upstream
/// with [`Output::Connect`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ConnId(pub u64);

/// A hash table keyed by connection ids or adapter tokens (dense counters, so a multiplication
/// spreads them): deterministic (no random seed, so simulations replay) and far cheaper per
/// lookup than the default SipHash, which showed in profiles of the adapters' event loops.
pub type IdMap<K, V> = std::collections::HashMap<K, V, std::hash::BuildHasherDefault<IdHasher>>;

/// Removes `key` from `map`, and gives the table's spare room back once it is under an eighth
/// full: a table grown by a burst of connections (640 HTTP/2 streams, say) would otherwise keep
/// its peak size, some hundreds of KiB per worker, until the worker exits. Each shrink rehashes
/// what is left, at most an eighth of the removals since the table last grew.
pub fn remove_shrinking<K: Eq + std::hash::Hash, V>(map: &mut IdMap<K, V>, key: &K) -> Option<V> {
    let value = map.remove(key)?;
    if map.capacity() > 64 && map.len() < map.capacity() / 8 {
        map.shrink_to(map.len() * 2);
    }
    Some(value)
}

/// Hashes a [`ConnId`] or a `usize` token by a Fibonacci multiplication.
#[derive(Debug, Default, Clone, Copy)]
pub struct IdHasher(u64);

impl std::hash::Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(*b)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0 ^ n).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
    fn write_usize(&mut self, n: usize) {
        self.write_u64(n as u64);
    }
}

/// A worker's TCP read buffer, shared by all its connections (an idle or waiting connection
/// holds none of its own). A read lands in [`ReadBuffer::space`] and goes to the worker as
/// [`ReadBuffer::take`]'s frozen slice of it: no allocation or copy per read. The worker sends
/// large body slices on as they are and copies what it keeps or sends in small pieces (see
/// `proxy::inbox`), so a spent buffer is freed with its last slice; one with less than 16 KiB
/// of room left is replaced by a fresh 64 KiB one.
#[derive(Debug, Default)]
pub struct ReadBuffer {
    buf: bytes::BytesMut,
}

impl ReadBuffer {
    const SIZE: usize = 64 * 1024;
    const MIN_ROOM: usize = 16 * 1024;

    /// Where the next read goes (at least 16 KiB).
    pub fn space(&mut self) -> &mut [u8] {
        if self.buf.len() < Self::MIN_ROOM {
            self.buf = bytes::BytesMut::zeroed(Self::SIZE);
        }
        &mut self.buf
    }

    /// The first `n` bytes of [`ReadBuffer::space`], which a read filled, for an
    /// [`Input::Received`].
    pub fn take(&mut self, n: usize) -> Bytes {
        self.buf.split_to(n).freeze()
    }
}

/// What an adapter has yet to write to one socket: the core's chunks in order, written with
/// vectored writes (up to [`WriteQueue::SLICES`] chunks per call), so the outputs of several
/// events for one connection leave in one system call instead of one per chunk. Chunks are
/// shared bytes: nothing is copied. It also says when to write at once rather than at the end
/// of the adapter's turn ([`WRITE_AT_ONCE`]).
///
/// The first chunk is held inline: most writes are one chunk (a response's head and small
/// body), and they allocate nothing. Chunks after it go in a list whose buffer is given back
/// when the queue empties, so an idle connection (a pooled backend connection, say) holds no
/// allocation: hundreds of small ones left behind by a burst, each in a page of its own, kept
/// the allocator from returning the free memory around them.
#[derive(Debug, Default)]
pub struct WriteQueue {
    /// The first chunk; empty when nothing is queued.
    first: Bytes,
    /// The chunks after it.
    rest: std::collections::VecDeque<Bytes>,
    len: usize,
    /// Bytes queued since the last write.
    fresh: usize,
}

impl WriteQueue {
    /// Chunks handed to one vectored write.
    pub const SLICES: usize = 64;

    /// Queues `data` after what is already queued. Returns whether [`WRITE_AT_ONCE`] bytes
    /// or more were queued since the last write: then the adapter writes now (large writes
    /// gain nothing from waiting for the end of its turn, and memory stays bounded).
    pub fn push(&mut self, data: Bytes) -> bool {
        if !data.is_empty() {
            self.len += data.len();
            self.fresh += data.len();
            if self.first.is_empty() {
                self.first = data;
            } else {
                self.rest.push_back(data);
            }
        }
        self.fresh >= WRITE_AT_ONCE
    }

    /// Bytes queued.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether nothing is queued.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Drops everything queued.
    pub fn clear(&mut self) {
        self.first = Bytes::new();
        self.rest = std::collections::VecDeque::new();
        self.len = 0;
    }

    /// Writes the queue through `write` (a vectored write to the socket) until it is empty
    /// (`Ok(true)`) or the socket would block (`Ok(false)`); any other error is returned.
    pub fn write_with(
        &mut self,
        mut write: impl FnMut(&[std::io::IoSlice<'_>]) -> std::io::Result<usize>,
    ) -> std::io::Result<bool> {
        use std::io::{ErrorKind, IoSlice};
        self.fresh = 0;
        while !self.first.is_empty() {
            let mut slices = [IoSlice::new(&[]); Self::SLICES];
            let mut n = 0;
            let chunks = std::iter::once(&self.first).chain(&self.rest);
            for (slot, chunk) in slices.iter_mut().zip(chunks) {
                *slot = IoSlice::new(chunk);
                n += 1;
            }
            match write(&slices[..n]) {
                Ok(0) => return Err(ErrorKind::WriteZero.into()),
                Ok(written) => self.consume(written),
                Err(e) if e.kind() == ErrorKind::WouldBlock => return Ok(false),
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        if self.rest.capacity() > 0 {
            self.rest = std::collections::VecDeque::new();
        }
        Ok(true)
    }

    /// Drops the first `n` bytes (written).
    fn consume(&mut self, mut n: usize) {
        self.len -= n.min(self.len);
        while n > 0 && !self.first.is_empty() {
            if n < self.first.len() {
                bytes::Buf::advance(&mut self.first, n);
                return;
            }
            n -= self.first.len();
            self.first = self.rest.pop_front().unwrap_or_default();
        }
    }
}

/// Why an upstream connection could not be opened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConnectError {
    /// Refused, unreachable, DNS failure, or any other error: Traefik answers 502.
    Failed(String),
    /// The dial timed out: Traefik answers 504.
    TimedOut,
}

/// Something that happened on a connection.
#[derive(Debug, Clone)]
pub enum Input {
    /// Bytes arrived.
    Received {
        /// The connection.
        conn: ConnId,
        /// The bytes.
        data: Bytes,
    },
    /// The peer finished sending (read side closed).
    Eof {
        /// The connection.
        conn: ConnId,
    },
    /// The connection broke (reset, write error).
    Reset {
        /// The connection.
        conn: ConnId,
    },
    /// An upstream connection requested with [`Output::Connect`] is established.
    Connected {
        /// The connection.
        conn: ConnId,
    },
    /// An upstream connection could not be established.
    ConnectFailed {
        /// The connection.
        conn: ConnId,
        /// Why.
        error: ConnectError,
    },
    /// Everything sent to the connection so far has been written to the socket.
    Writable {
        /// The connection.
        conn: ConnId,
    },
    /// A datagram arrived on a UDP entry point's socket. (Datagrams from a UDP session's
    /// backend socket arrive as [`Input::Received`], one per datagram; a socket error there,
    /// such as an ICMP port unreachable, as [`Input::Reset`].)
    Datagram {
        /// The UDP entry point (index into the configuration's `udp_entry_points`).
        ep: usize,
        /// The client's address.
        peer: SocketAddr,
        /// The datagram's payload (possibly empty).
        data: Bytes,
    },
    /// A new configuration: new requests use it, requests in flight finish on theirs.
    Config(Arc<CompiledConfig>),
    /// Graceful shutdown began: ping answers its terminating status; idle connections close.
    Shutdown,
}

/// Something the adapter must do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output {
    /// Write bytes to a connection, in order.
    Send {
        /// The connection.
        conn: ConnId,
        /// The bytes.
        data: Bytes,
    },
    /// Open an upstream TCP connection; answer with `Connected` or `ConnectFailed`.
    Connect {
        /// The id the worker chose for it.
        conn: ConnId,
        /// Host name or IP to resolve and dial.
        host: String,
        /// Port.
        port: u16,
    },
    /// Send one datagram from a UDP entry point's socket to a client.
    SendTo {
        /// The UDP entry point (index into the configuration's `udp_entry_points`).
        ep: usize,
        /// The client's address.
        peer: SocketAddr,
        /// The payload.
        data: Bytes,
    },
    /// Open a UDP socket connected to a backend server, for one session; answer with
    /// `Connected` or `ConnectFailed`. Each [`Output::Send`] to it is one datagram, each
    /// datagram it receives one [`Input::Received`]; [`Output::Close`] releases it.
    ConnectUdp {
        /// The id the worker chose for it.
        conn: ConnId,
        /// Host name or IP to resolve.
        host: String,
        /// Port.
        port: u16,
    },
    /// Flush what was sent, then close the connection. No input for it follows.
    Close {
        /// The connection.
        conn: ConnId,
    },
    /// Write what was sent, then shut the connection's writing side down (a TCP FIN: the
    /// peer reads the end of the stream) while reading goes on. TCP routers half-close this
    /// way when the other side of their connection finished sending.
    ShutdownWrite {
        /// The connection.
        conn: ConnId,
    },
    /// Stop reading from a connection (backpressure).
    PauseRead {
        /// The connection.
        conn: ConnId,
    },
    /// Resume reading.
    ResumeRead {
        /// The connection.
        conn: ConnId,
    },
}

/// Bytes queued for one connection past which an adapter writes them at once rather than at
/// the end of its batch of events: outputs of several events for one connection are meant to
/// leave in one write, but large writes gain nothing from waiting, and this bounds the memory
/// a batch can hold ([`WriteQueue::push`] says when).
pub const WRITE_AT_ONCE: usize = 32 * 1024;

/// The local address a session socket for [`Output::ConnectUdp`] binds before connecting to
/// `target`: any address of the target's family, an ephemeral port (as Go's `net.Dial("udp")`).
pub fn udp_local_for(target: SocketAddr) -> SocketAddr {
    if target.is_ipv6() {
        (std::net::Ipv6Addr::UNSPECIFIED, 0).into()
    } else {
        (std::net::Ipv4Addr::UNSPECIFIED, 0).into()
    }
}

/// An observation for logs and metrics.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// A request was answered (an access-log record).
    Access(AccessRecord),
}

pub use super::access::AccessRecord;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_table_emptied_after_a_burst_gives_its_room_back() {
        let mut map: IdMap<ConnId, [u8; 256]> = IdMap::default();
        for i in 0..1000 {
            map.insert(ConnId(i), [0; 256]);
        }
        let peak = map.capacity();
        for i in 0..995 {
            assert!(remove_shrinking(&mut map, &ConnId(i)).is_some());
        }
        assert!(map.capacity() <= 64, "{} of {peak} kept", map.capacity());
        assert_eq!(remove_shrinking(&mut map, &ConnId(0)), None);
        assert!(
            (995..1000).all(|i| map.contains_key(&ConnId(i))),
            "what is left stays"
        );
    }

    #[test]
    fn read_buffer_slices_outlive_the_buffer_they_came_from() {
        let mut rb = ReadBuffer::default();
        let mut taken = Vec::new();
        // Enough reads of 5 KiB that the buffer is replaced several times.
        for i in 0..40u8 {
            let space = rb.space();
            assert!(space.len() >= 16 * 1024);
            space[..5 * 1024].fill(i);
            taken.push(rb.take(5 * 1024));
        }
        for (i, t) in taken.iter().enumerate() {
            assert_eq!(t.len(), 5 * 1024);
            assert!(t.iter().all(|b| *b == i as u8), "read {i}");
        }
    }

    /// A socket that takes at most `room` bytes per call, then blocks once every `block_every`
    /// calls; records what it got.
    struct Socket {
        got: Vec<u8>,
        calls: usize,
        room: usize,
        block_every: usize,
    }

    impl Socket {
        fn write(&mut self, slices: &[std::io::IoSlice<'_>]) -> std::io::Result<usize> {
            self.calls += 1;
            if self.calls % self.block_every == 0 {
                return Err(std::io::ErrorKind::WouldBlock.into());
            }
            let mut n = 0;
            for s in slices {
                let take = s.len().min(self.room - n);
                self.got.extend_from_slice(&s[..take]);
                n += take;
            }
            Ok(n)
        }
    }

    #[test]
    fn write_queue_writes_every_byte_in_order_through_partial_and_blocked_writes() {
        let mut q = WriteQueue::default();
        let mut want = Vec::new();
        for i in 0..200u32 {
            let chunk: Vec<u8> = (0..(i % 37 + 1)).map(|j| (i + j) as u8).collect();
            want.extend_from_slice(&chunk);
            q.push(Bytes::from(chunk));
        }
        assert!(!q.push(Bytes::new()));
        assert_eq!(q.len(), want.len());
        let mut sock = Socket {
            got: Vec::new(),
            calls: 0,
            room: 50,
            block_every: 3,
        };
        let mut blocked = 0;
        while !q.write_with(|s| sock.write(s)).unwrap() {
            blocked += 1;
            assert_eq!(q.len(), want.len() - sock.got.len());
        }
        assert!(blocked > 0);
        assert!(q.is_empty());
        assert_eq!(sock.got, want);
    }

    #[test]
    fn write_queue_says_to_write_at_once_past_the_threshold_since_the_last_write() {
        let mut q = WriteQueue::default();
        assert!(!q.push(Bytes::from(vec![0; WRITE_AT_ONCE - 1])));
        assert!(q.push(Bytes::from_static(b"x")));
        // A write that blocks at once still starts the count again: the bytes wait for
        // writability, not for the next push.
        assert!(!q
            .write_with(|_| Err(std::io::ErrorKind::WouldBlock.into()))
            .unwrap());
        assert!(!q.push(Bytes::from_static(b"y")));
        assert_eq!(q.len(), WRITE_AT_ONCE + 1);
    }

    #[test]
    fn a_write_queue_holds_no_allocation_for_one_chunk_or_once_drained() {
        let mut q = WriteQueue::default();
        q.push(Bytes::from_static(b"one response"));
        assert_eq!(q.rest.capacity(), 0, "one chunk is held inline");
        q.push(Bytes::from_static(b"a second"));
        assert!(q.rest.capacity() > 0);
        let mut got = Vec::new();
        assert!(q
            .write_with(|s| {
                let n = s[0].len().min(5);
                got.extend_from_slice(&s[0][..n]);
                Ok(n)
            })
            .unwrap());
        assert_eq!(got, b"one responsea second");
        assert!(q.is_empty());
        assert_eq!(q.rest.capacity(), 0, "an idle connection keeps nothing");
    }

    #[test]
    fn write_queue_sends_many_chunks_in_one_call_and_reports_errors() {
        let mut q = WriteQueue::default();
        for _ in 0..10 {
            q.push(Bytes::from_static(b"abc"));
        }
        let mut calls = 0;
        assert!(q
            .write_with(|s| {
                calls += 1;
                Ok(s.iter().map(|s| s.len()).sum())
            })
            .unwrap());
        assert_eq!(calls, 1);
        q.push(Bytes::from_static(b"x"));
        let e = q.write_with(|_| Ok(0)).unwrap_err();
        assert_eq!(e.kind(), std::io::ErrorKind::WriteZero);
        let e = q
            .write_with(|_| Err(std::io::ErrorKind::BrokenPipe.into()))
            .unwrap_err();
        assert_eq!(e.kind(), std::io::ErrorKind::BrokenPipe);
        assert_eq!(q.len(), 1);
    }
}
