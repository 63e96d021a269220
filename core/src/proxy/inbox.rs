//! What a connection received and has not handled yet. A read arrives as a slice of the
//! worker's read buffer ([`super::io::ReadBuffer`]) and stays that slice while it is handled,
//! so body bytes go on to the other side without a copy; only a remainder that must wait for
//! more (a partial head or chunk line) is copied into a buffer of the connection's own.

use bytes::{Buf, Bytes};

/// Body bytes from one read that go on as a slice of the worker's read buffer rather than a
/// copy. A slice keeps its whole 64 KiB buffer alive until it is written, so a smaller one is
/// copied: a peer that reads slowly then holds at most four times what is queued to it.
pub const SLICE_AT_LEAST: usize = 16 * 1024;

/// Received bytes not yet handled: at most one of the two parts holds bytes.
#[derive(Debug, Default)]
pub struct Inbox {
    /// Bytes kept for more to arrive, in the connection's own buffer.
    kept: Vec<u8>,
    /// Bytes as the read gave them.
    read: Bytes,
}

impl Inbox {
    /// Takes a read: as it came when nothing is pending, else after what is.
    pub fn receive(&mut self, data: Bytes) {
        if self.is_empty() {
            self.read = data;
        } else {
            self.keep_rest();
            self.kept.extend_from_slice(&data);
        }
    }

    /// Takes bytes that are not a read's own (decrypted, or handed over): they are copied.
    pub fn receive_slice(&mut self, data: &[u8]) {
        self.keep_rest();
        self.kept.extend_from_slice(data);
    }

    /// The bytes not yet handled.
    pub fn bytes(&self) -> &[u8] {
        if self.read.is_empty() {
            &self.kept
        } else {
            &self.read
        }
    }

    /// Whether nothing is pending.
    pub fn is_empty(&self) -> bool {
        self.read.is_empty() && self.kept.is_empty()
    }

    /// Bytes pending.
    pub fn len(&self) -> usize {
        self.read.len() + self.kept.len()
    }

    /// Marks the first `n` bytes handled.
    pub fn consume(&mut self, n: usize) {
        if self.read.is_empty() {
            self.kept.drain(..n);
        } else {
            self.read.advance(n);
            if self.read.is_empty() {
                // An empty slice still holds its read buffer: an idle connection must not.
                self.read = Bytes::new();
            }
        }
    }

    /// `bytes()[range]` to queue towards the other side: [`Inbox::large_slice`], else a copy.
    pub fn slice(&self, range: std::ops::Range<usize>) -> Bytes {
        self.large_slice(range.clone())
            .unwrap_or_else(|| Bytes::copy_from_slice(&self.bytes()[range]))
    }

    /// `bytes()[range]` as a slice of the read, when it is large enough to go on as one (see
    /// [`SLICE_AT_LEAST`]); `None` when it is better copied where it is queued.
    pub fn large_slice(&self, range: std::ops::Range<usize>) -> Option<Bytes> {
        (!self.read.is_empty() && range.len() >= SLICE_AT_LEAST).then(|| self.read.slice(range))
    }

    /// Everything pending, leaving nothing (see [`detached`]).
    pub fn take(&mut self) -> Bytes {
        if self.read.is_empty() {
            Bytes::from(std::mem::take(&mut self.kept))
        } else {
            detached(std::mem::take(&mut self.read))
        }
    }

    /// Everything pending as a buffer of its own, leaving nothing.
    pub fn take_vec(&mut self) -> Vec<u8> {
        self.keep_rest();
        std::mem::take(&mut self.kept)
    }

    /// Waiting for more bytes: what is left of the read moves to the connection's own
    /// buffer (a partial head or chunk line, small), so that the read buffer is not held
    /// meanwhile.
    pub fn keep_rest(&mut self) {
        if !self.read.is_empty() {
            self.kept.extend_from_slice(&self.read);
            self.read = Bytes::new();
        }
    }

    /// A connection going idle gives back buffer space a large exchange left behind (a `Vec`
    /// keeps its capacity when drained), so that idle keep-alive and pooled connections hold
    /// little memory.
    pub fn trim_idle(&mut self) {
        const KEEP: usize = 4096;
        self.keep_rest();
        if self.kept.capacity() > 4 * KEEP && self.kept.len() <= KEEP {
            self.kept.shrink_to(KEEP);
        }
    }

    /// The capacity of the connection's own buffer.
    #[cfg(test)]
    fn capacity(&self) -> usize {
        self.kept.capacity()
    }
}

/// Received bytes to queue towards the other side: a slice of the read as it is when large,
/// else a copy of their own, so that a few bytes do not hold a whole read buffer.
pub fn detached(data: Bytes) -> Bytes {
    if data.len() >= SLICE_AT_LEAST {
        data
    } else {
        Bytes::copy_from_slice(&data)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_buffer_slice(len: usize) -> (Bytes, *const u8) {
        let whole = Bytes::from(vec![7u8; 64 * 1024]);
        let start = whole.as_ptr();
        (whole.slice(..len), start)
    }

    #[test]
    fn a_large_read_goes_on_without_a_copy_and_a_small_one_is_copied() {
        let (large, start) = read_buffer_slice(32 * 1024);
        let mut inbox = Inbox::default();
        inbox.receive(large);
        assert_eq!(inbox.slice(0..20_000).as_ptr(), start);
        let (small, start) = read_buffer_slice(100);
        let mut inbox = Inbox::default();
        inbox.receive(small);
        assert_ne!(inbox.slice(0..100).as_ptr(), start);
    }

    #[test]
    fn a_read_handled_to_its_end_lets_its_buffer_go() {
        let whole = Bytes::from(vec![7u8; 64 * 1024]);
        let mut inbox = Inbox::default();
        inbox.receive(whole.slice(..100));
        inbox.consume(60);
        inbox.consume(40);
        assert!(inbox.is_empty());
        assert!(whole.is_unique(), "the inbox still holds the read buffer");
    }

    #[test]
    fn a_remainder_waits_in_a_buffer_of_its_own_and_reads_append_to_it() {
        let mut inbox = Inbox::default();
        inbox.receive(Bytes::from_static(b"GET / HTTP/1.1\r\nHo"));
        inbox.consume(4);
        inbox.keep_rest();
        inbox.receive(Bytes::from_static(b"st: a\r\n\r\n"));
        assert_eq!(inbox.bytes(), b"/ HTTP/1.1\r\nHost: a\r\n\r\n");
        assert_eq!(inbox.len(), 23);
        inbox.consume(23);
        assert!(inbox.is_empty());
        // A read after a paused one (not moved to the buffer) still lands after it.
        inbox.receive(Bytes::from_static(b"ab"));
        inbox.receive(Bytes::from_static(b"cd"));
        assert_eq!(inbox.take(), Bytes::from_static(b"abcd"));
        assert!(inbox.is_empty());
    }

    #[test]
    fn idle_buffers_give_back_what_a_large_exchange_left() {
        let mut inbox = Inbox::default();
        inbox.receive_slice(&vec![0u8; 1 << 20]);
        inbox.consume((1 << 20) - 12);
        inbox.trim_idle();
        assert!(inbox.capacity() < 8192 && inbox.len() == 12);
        let mut busy = Inbox::default();
        busy.receive_slice(&vec![0u8; 100_000]);
        busy.trim_idle();
        assert_eq!(busy.len(), 100_000);
    }
}
