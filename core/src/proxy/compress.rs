//! The `compress` middleware on the response path: the `Vary` line each one adds, the coding
//! the innermost one that can compresses with (the others then find the body encoded), and a
//! body already here whole compressed at once. Such a body leaves with its compressed length
//! when that is small, as Go's server gives a handler that finished without flushing
//! (2048 bytes over HTTP/1.x, 4096 over HTTP/2); anything else goes chunked, compressed as it
//! comes (`Resp::compress`, flushed after each read as Go's proxy flushes bodies of unknown
//! length).

use bytes::Bytes;

use crate::h1::Framing;
use crate::http::compress::{Codec, Compressor};
use crate::http::ResponseHead;
use crate::middleware::{BodyLength, CompressChoice};

/// The most Go's HTTP/1.x server buffers before it must send a response chunked.
const HTTP1_BUFFERED: usize = 2048;
/// The same for Go's HTTP/2 server.
const HTTP2_BUFFERED: usize = 4096;

/// A body compressed whole as its head arrived.
pub(super) struct Whole {
    /// The compressed body.
    pub bytes: Vec<u8>,
    /// Too large to go with its length: sent as one chunk. Otherwise its length is the
    /// server's own `Content-Length` line (after `Date`, where Go's server writes it).
    pub chunked: bool,
    /// The backend's body bytes it took.
    pub consumed: usize,
}

/// Decides the compression of a response with `head` and the backend's `framing` (`gunzip`:
/// the proxy decompresses it), `input` being what was read after the head; `stream`: the
/// client is an HTTP/2 stream. Returns the coding to stream the body with, or the body
/// compressed whole.
pub(super) fn decide(
    choices: &[CompressChoice],
    head: &mut ResponseHead,
    framing: Framing,
    gunzip: bool,
    input: &[u8],
    stream: bool,
) -> (Option<Codec>, Option<Whole>) {
    // Each handler adds its line before the backend's headers are copied.
    let vary = vec![Bytes::from_static(b"Accept-Encoding"); choices.len()];
    head.headers.prepend_shared("Vary", &vary);
    let body = match framing {
        _ if gunzip => BodyLength::Unknown,
        Framing::Empty | Framing::Length(0) => BodyLength::Empty,
        Framing::Length(n) => BodyLength::Known(n),
        Framing::Chunked | Framing::Close => BodyLength::Unknown,
    };
    // Go's proxy flushes event streams after each read, whatever their length.
    let event_stream = head
        .headers
        .get("Content-Type")
        .and_then(|v| std::str::from_utf8(v).ok())
        .is_some_and(|v| crate::middleware::media_type_of(v) == "text/event-stream");
    let mut codec = None;
    for choice in choices.iter().rev() {
        if let Some(c) = choice.decide(head, body, event_stream) {
            codec = Some(c);
        }
    }
    let Some(codec) = codec else {
        return (None, None);
    };
    let whole = match framing {
        Framing::Length(n) if !gunzip && !event_stream && input.len() as u64 >= n => n as usize,
        _ => return (Some(codec), None),
    };
    let mut c = Compressor::new(codec);
    let mut bytes = c.write(&input[..whole]);
    bytes.extend(c.finish());
    let limit = if stream {
        HTTP2_BUFFERED
    } else {
        HTTP1_BUFFERED
    };
    let chunked = bytes.len() > limit;
    (
        None,
        Some(Whole {
            bytes,
            chunked,
            consumed: whole,
        }),
    )
}
