//! A request body read and dropped before a local answer (404, 401, a redirect...), as Go's
//! server does when a handler answers without reading the body: up to 256 KiB are read so that
//! the connection can serve its next request. A body declared larger, a longer chunked one, a
//! malformed one or one the client stops short gets the answer with `Connection: close`.
//! Checked against Traefik 3.7.15 (daemon/tests/differential_proxy.rs).

use crate::h1::{BodyDecoder, Decoded, Framing, ParsedRequest, RequestBody};
use crate::http::{LocalResponse, Version};

use super::io::ConnId;
use super::worker::{DState, Worker};

/// The most body bytes read to keep a connection (Go's `maxPostHandlerReadBytes`).
pub(super) const MAX_DISCARD: u64 = 256 << 10;
/// How long a connection answered with `Connection: close` goes on reading what its client
/// still sends before it closes (Go's `rstAvoidanceDelay`).
pub(super) const LINGER: crate::config::Duration = crate::config::Duration(500_000_000);

/// A local answer waiting for its request's body to be read.
pub(super) struct Discard {
    decoder: BodyDecoder,
    /// Body bytes read so far.
    read: u64,
    answer: LocalResponse,
    head_request: bool,
    version: Version,
}

/// What one look at the connection's input found.
pub(super) enum DiscardStep {
    /// Body bytes, this many input bytes long: read on.
    Read(usize),
    /// The input ends inside the body (this many bytes taken).
    NeedMore(usize),
    /// The body ended (this many bytes taken): answer and keep the connection.
    Done(usize),
    /// Malformed: answer and close.
    Refused,
    /// Past the limit: answer, then linger and close.
    TooLarge,
}

impl Discard {
    /// The wait for `req`'s body before `answer`; `None` when the body is declared too large
    /// to be read (the answer then goes out at once, closing the connection).
    pub(super) fn new(answer: &LocalResponse, req: &ParsedRequest) -> Option<Discard> {
        let framing = match req.body {
            RequestBody::Length(n) if n < MAX_DISCARD => Framing::Length(n),
            RequestBody::Chunked => Framing::Chunked,
            _ => return None,
        };
        Some(Discard {
            decoder: BodyDecoder::new(framing),
            read: 0,
            answer: answer.clone(),
            head_request: req.head.method == "HEAD",
            version: req.head.version,
        })
    }

    /// Reads what `input` holds of the body.
    pub(super) fn read(&mut self, input: &[u8]) -> DiscardStep {
        match self.decoder.decode(input) {
            Err(_) => DiscardStep::Refused,
            Ok((n, Decoded::Data(range))) => {
                self.read += range.len() as u64;
                if self.read > MAX_DISCARD {
                    DiscardStep::TooLarge
                } else {
                    DiscardStep::Read(n)
                }
            }
            Ok((n, Decoded::NeedMore)) => DiscardStep::NeedMore(n),
            Ok((n, Decoded::Done)) => DiscardStep::Done(n),
        }
    }
}

/// How a local answer leaves the connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum After {
    /// Kept for the next request.
    Keep,
    /// Closed.
    Close,
    /// Closed after [`LINGER`]: the client may still be sending a body too large to read.
    Linger,
}

impl Worker {
    /// Sends the answer that waited for the body.
    pub(super) fn end_discard(&mut self, id: ConnId, after: After) {
        let Some(d) = self.down.get_mut(&id) else {
            return;
        };
        let DState::Discard(x) = std::mem::replace(&mut d.state, DState::Head) else {
            return;
        };
        d.deadline = None;
        let after = if after == After::Keep && self.shutting_down {
            After::Close
        } else {
            after
        };
        self.write_local_answer(id, &x.answer, x.head_request, x.version, after);
    }

    /// Reads and drops what the client still sends for [`LINGER`], then closes (the answer
    /// is already queued). Go's server does the same after refusing a body as too large.
    pub(super) fn linger(&mut self, id: ConnId) {
        let deadline = self.now.after(LINGER);
        let Some(d) = self.down.get_mut(&id) else {
            return;
        };
        if matches!(d.transport, super::worker::Transport::Stream(_)) {
            return self.close_down(id);
        }
        d.state = DState::Linger;
        d.deadline = Some(deadline);
        d.write_deadline = None;
        self.note_deadline(Some(deadline));
        self.resume(id);
        let now = self.now;
        self.drive_down(now, id);
    }
}
