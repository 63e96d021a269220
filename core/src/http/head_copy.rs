//! Shared copies of message heads, carved out of one block per thread.
//!
//! A parsed head keeps its header values as slices of one copy of its bytes (the read buffer
//! they came from is reused at once). Made with `Bytes::copy_from_slice`, that copy cost two
//! allocations per head: the bytes, then the shared counter the first slice of them needs.
//! Copies of heads up to [`MAX_COPY`] bytes are instead appended to a per-thread block and
//! split off it: no allocation while the block has room, and when it is full and every head
//! cut from it has been dropped (heads live for one request), the block is reused from its
//! start. A head still alive when the block fills keeps only that block (at most [`BLOCK`]
//! bytes) until it is dropped; the next heads go to a new block.

use std::cell::RefCell;

use bytes::{Bytes, BytesMut};

/// The size of a block.
pub const BLOCK: usize = 4096;

/// Heads longer than this get their own copy (a block holds several heads).
pub const MAX_COPY: usize = BLOCK / 4;

thread_local! {
    static CURRENT: RefCell<BytesMut> = RefCell::new(BytesMut::new());
}

/// A shared copy of `data` (a message head): its slices (`Bytes::slice_ref`) cost no
/// allocation.
pub fn head_copy(data: &[u8]) -> Bytes {
    if data.len() > MAX_COPY {
        return Bytes::copy_from_slice(data);
    }
    CURRENT.with(|current| {
        let mut block = current.borrow_mut();
        if block.capacity() < data.len() {
            // Reuses the block from its start when nothing cut from it is alive, else starts
            // a new one.
            block.reserve(BLOCK);
        }
        block.extend_from_slice(data);
        block.split().freeze()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copies_hold_their_bytes_and_slices_of_them() {
        let a = head_copy(b"HTTP/1.1 200 OK\r\nServer: one\r\n\r\n");
        let b = head_copy(b"HTTP/1.1 404 Not Found\r\n\r\n");
        assert_eq!(&a[..], b"HTTP/1.1 200 OK\r\nServer: one\r\n\r\n");
        assert_eq!(&b[..], b"HTTP/1.1 404 Not Found\r\n\r\n");
        let server = a.slice_ref(&a[25..28]);
        assert_eq!(&server[..], b"one");
        drop(a);
        assert_eq!(&server[..], b"one");
    }

    /// A copy still alive when the block is reused or replaced keeps its bytes: the block is
    /// taken back only once nothing cut from it is left.
    #[test]
    fn live_copies_survive_block_turnover() {
        let kept = head_copy(&[b'k'; 100]);
        let mut last = Vec::new();
        for i in 0..(4 * BLOCK / 50) {
            last.push(head_copy(&[i as u8; 50]));
            if last.len() > 3 {
                last.remove(0);
            }
        }
        assert!(kept.iter().all(|b| *b == b'k'));
        for (j, c) in last.iter().enumerate() {
            let i = 4 * BLOCK / 50 - last.len() + j;
            assert!(c.iter().all(|b| *b == i as u8), "copy {i}");
        }
    }

    #[test]
    fn long_heads_get_their_own_copy() {
        let long = vec![b'x'; MAX_COPY + 1];
        assert_eq!(&head_copy(&long)[..], &long[..]);
        assert_eq!(&head_copy(b"")[..], b"");
    }
}
