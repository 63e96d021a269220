//! Body framing: decoding Content-Length, chunked and close-delimited bodies from a byte stream
//! in bounded steps, and re-encoding chunks. Chunk sizes are strict `1*HEXDIG` (no `0x`, sign,
//! spaces or overflow); extensions are skipped up to a cap; trailers are kept (bounded) so the
//! proxy can relay them.

/// How a message body is delimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    /// No body.
    Empty,
    /// Exactly this many bytes.
    Length(u64),
    /// Chunked transfer coding.
    Chunked,
    /// Until the connection closes (responses only).
    Close,
}

/// What one decoding step produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decoded {
    /// Body bytes: `input[range]`.
    Data(std::ops::Range<usize>),
    /// More input is needed.
    NeedMore,
    /// The body is complete; the message ended after consuming the returned bytes.
    Done,
}

/// A malformed body framing (bad chunk size, bad chunk terminator, oversized extension).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FramingError(pub &'static str);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ChunkState {
    Size,
    Data(u64),
    DataEnd,
    Trailers,
}

/// Decodes one body incrementally.
#[derive(Debug, Clone)]
pub struct BodyDecoder {
    framing: Framing,
    remaining: u64,
    chunk: ChunkState,
    trailer_bytes: usize,
    /// The trailer section read so far (`name: value` lines, CRLF-terminated).
    trailers: Vec<u8>,
    done: bool,
    /// Body bytes decoded so far.
    decoded: u64,
}

const MAX_CHUNK_LINE: usize = 4096;
const MAX_TRAILERS: usize = 64 * 1024;

impl BodyDecoder {
    /// A decoder for a body with `framing`.
    pub fn new(framing: Framing) -> Self {
        BodyDecoder {
            framing,
            remaining: match framing {
                Framing::Length(n) => n,
                _ => 0,
            },
            chunk: ChunkState::Size,
            trailer_bytes: 0,
            trailers: Vec::new(),
            done: matches!(framing, Framing::Empty | Framing::Length(0)),
            decoded: 0,
        }
    }

    /// Whether the whole body has been decoded.
    pub fn is_done(&self) -> bool {
        self.done
    }

    /// The trailer fields of a chunked body (after [`Decoded::Done`]), as `name: value` lines
    /// each ending in CRLF; empty when there were none. Taking them leaves none behind.
    pub fn take_trailers(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.trailers)
    }

    /// The framing being decoded.
    pub fn framing(&self) -> Framing {
        self.framing
    }

    /// The peer closed the connection: completes a close-delimited body, errors otherwise.
    pub fn eof(&mut self) -> Result<(), FramingError> {
        match self.framing {
            Framing::Close => {
                self.done = true;
                Ok(())
            }
            _ if self.done => Ok(()),
            _ => Err(FramingError("unexpected EOF in body")),
        }
    }

    /// Decodes everything `buf` holds, removing what was consumed from it and appending the
    /// body bytes to `out`; returns whether the body is complete. (For callers that buffer
    /// bytes and forward them whole; consumed framing never stays behind to be read twice.)
    pub fn decode_buffered(
        &mut self,
        buf: &mut Vec<u8>,
        out: &mut Vec<bytes::Bytes>,
    ) -> Result<bool, FramingError> {
        loop {
            let (n, decoded) = self.decode(buf)?;
            if let Decoded::Data(range) = &decoded {
                out.push(bytes::Bytes::copy_from_slice(&buf[range.clone()]));
            }
            buf.drain(..n);
            match decoded {
                Decoded::Data(_) => {}
                Decoded::NeedMore => return Ok(false),
                Decoded::Done => return Ok(true),
            }
        }
    }

    /// Decodes from `input`; returns how many bytes were consumed and what they were.
    pub fn decode(&mut self, input: &[u8]) -> Result<(usize, Decoded), FramingError> {
        let step = self.step(input)?;
        if let Decoded::Data(range) = &step.1 {
            self.decoded += range.len() as u64;
        }
        Ok(step)
    }

    /// Body bytes decoded so far (what the body's data came to).
    pub fn decoded(&self) -> u64 {
        self.decoded
    }

    fn step(&mut self, input: &[u8]) -> Result<(usize, Decoded), FramingError> {
        if self.done {
            return Ok((0, Decoded::Done));
        }
        match self.framing {
            Framing::Empty => {
                self.done = true;
                Ok((0, Decoded::Done))
            }
            Framing::Close => {
                if input.is_empty() {
                    Ok((0, Decoded::NeedMore))
                } else {
                    Ok((input.len(), Decoded::Data(0..input.len())))
                }
            }
            Framing::Length(_) => {
                if input.is_empty() {
                    return Ok((0, Decoded::NeedMore));
                }
                let n = (self.remaining.min(input.len() as u64)) as usize;
                self.remaining -= n as u64;
                if self.remaining == 0 {
                    self.done = true;
                }
                Ok((n, Decoded::Data(0..n)))
            }
            Framing::Chunked => self.decode_chunked(input),
        }
    }

    fn decode_chunked(&mut self, input: &[u8]) -> Result<(usize, Decoded), FramingError> {
        let mut pos = 0;
        loop {
            match self.chunk {
                ChunkState::Size => {
                    let Some(nl) = find_crlf(&input[pos..]) else {
                        if input.len() - pos > MAX_CHUNK_LINE {
                            return Err(FramingError("chunk size line too long"));
                        }
                        check_no_bare_lf(&input[pos..])?;
                        return Ok((pos, Decoded::NeedMore));
                    };
                    let line = &input[pos..pos + nl];
                    if line.len() > MAX_CHUNK_LINE {
                        return Err(FramingError("chunk size line too long"));
                    }
                    let size = parse_chunk_size(line)?;
                    pos += nl + 2;
                    self.chunk = if size == 0 {
                        ChunkState::Trailers
                    } else {
                        ChunkState::Data(size)
                    };
                }
                ChunkState::Data(left) => {
                    if pos == input.len() {
                        return Ok((pos, Decoded::NeedMore));
                    }
                    let n = left.min((input.len() - pos) as u64) as usize;
                    let rest = left - n as u64;
                    self.chunk = if rest == 0 {
                        ChunkState::DataEnd
                    } else {
                        ChunkState::Data(rest)
                    };
                    return Ok((pos + n, Decoded::Data(pos..pos + n)));
                }
                ChunkState::DataEnd => {
                    if input.len() - pos < 2 {
                        if input.len() > pos && input[pos] != b'\r' {
                            return Err(FramingError("missing CRLF after chunk data"));
                        }
                        return Ok((pos, Decoded::NeedMore));
                    }
                    if &input[pos..pos + 2] != b"\r\n" {
                        return Err(FramingError("missing CRLF after chunk data"));
                    }
                    pos += 2;
                    self.chunk = ChunkState::Size;
                }
                ChunkState::Trailers => {
                    let Some(nl) = find_crlf(&input[pos..]) else {
                        self.trailer_bytes += input.len() - pos;
                        if self.trailer_bytes > MAX_TRAILERS {
                            return Err(FramingError("trailers too large"));
                        }
                        check_no_bare_lf(&input[pos..])?;
                        // Keep the partial line unconsumed.
                        self.trailer_bytes -= input.len() - pos;
                        return Ok((pos, Decoded::NeedMore));
                    };
                    self.trailer_bytes += nl + 2;
                    if self.trailer_bytes > MAX_TRAILERS {
                        return Err(FramingError("trailers too large"));
                    }
                    let line = &input[pos..pos + nl];
                    pos += nl + 2;
                    if line.is_empty() {
                        self.done = true;
                        return Ok((pos, Decoded::Done));
                    }
                    check_trailer_line(line)?;
                    self.trailers.extend_from_slice(line);
                    self.trailers.extend_from_slice(b"\r\n");
                }
            }
        }
    }
}

fn find_crlf(b: &[u8]) -> Option<usize> {
    b.windows(2).position(|w| w == b"\r\n")
}

fn check_no_bare_lf(b: &[u8]) -> Result<(), FramingError> {
    match b.iter().position(|c| *c == b'\n') {
        Some(_) => Err(FramingError("bare LF in chunked framing")),
        None => Ok(()),
    }
}

/// A trailer field line: a token name, a colon, a value without control characters (as Go's
/// MIME header reader requires; obs-fold is refused).
fn check_trailer_line(line: &[u8]) -> Result<(), FramingError> {
    let bad = FramingError("malformed trailer line");
    let colon = line.iter().position(|b| *b == b':').ok_or(bad.clone())?;
    let name = &line[..colon];
    if name.is_empty() || !name.iter().all(|b| crate::http::is_token_byte(*b)) {
        return Err(bad);
    }
    if line[colon + 1..]
        .iter()
        .any(|b| (*b < 0x20 && *b != b'\t') || *b == 0x7f)
    {
        return Err(bad);
    }
    Ok(())
}

/// The trailer lines of [`BodyDecoder::take_trailers`] as (name, value) pairs, values trimmed.
pub fn trailer_fields(lines: &[u8]) -> impl Iterator<Item = (&[u8], &[u8])> {
    lines.split(|b| *b == b'\n').filter_map(|l| {
        let l = l.strip_suffix(b"\r").unwrap_or(l);
        let colon = l.iter().position(|b| *b == b':')?;
        Some((&l[..colon], l[colon + 1..].trim_ascii()))
    })
}

/// The end of a chunked body: the last chunk, then `trailers` (lines as
/// [`BodyDecoder::take_trailers`] gives them), then the blank line.
pub fn last_chunk(trailers: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(5 + trailers.len());
    out.extend_from_slice(b"0\r\n");
    out.extend_from_slice(trailers);
    out.extend_from_slice(b"\r\n");
    out
}

/// `1*HEXDIG [ chunk-ext ]`; the size must fit in 62 bits.
fn parse_chunk_size(line: &[u8]) -> Result<u64, FramingError> {
    let digits = line.iter().take_while(|b| b.is_ascii_hexdigit()).count();
    if digits == 0 || digits > 15 {
        return Err(FramingError("invalid chunk size"));
    }
    let rest = &line[digits..];
    if !rest.is_empty() {
        // Only an extension may follow: optional whitespace, then `;`.
        let ext = rest.trim_ascii_start();
        if !ext.starts_with(b";") || ext.iter().any(|b| *b == b'\r' || *b == b'\n' || *b == 0) {
            return Err(FramingError("invalid chunk size"));
        }
    }
    let s = std::str::from_utf8(&line[..digits]).map_err(|_| FramingError("invalid chunk size"))?;
    u64::from_str_radix(s, 16).map_err(|_| FramingError("invalid chunk size"))
}

/// Writes one chunk (`size CRLF data CRLF`) of `data` into `out`.
pub fn encode_chunk(data: &[u8], out: &mut Vec<u8>) {
    if data.is_empty() {
        return;
    }
    chunk_size_line(data.len(), out);
    out.extend_from_slice(data);
    out.extend_from_slice(b"\r\n");
}

/// Writes the line that opens a chunk of `len` bytes (`size CRLF`, size in hex) into `out`:
/// the chunk's data and its closing CRLF follow it.
pub fn chunk_size_line(len: usize, out: &mut Vec<u8>) {
    let mut size = [0u8; 16];
    let mut i = size.len();
    let mut n = len;
    loop {
        i -= 1;
        size[i] = b"0123456789abcdef"[n & 15];
        n >>= 4;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&size[i..]);
    out.extend_from_slice(b"\r\n");
}

/// Decoded body bytes framed for the other side: one chunk when it is sent chunked, else as
/// they are (both directions of the proxy re-frame bodies this way).
pub fn frame_body(data: &[u8], chunked: bool) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() + 20);
    if chunked {
        encode_chunk(data, &mut out);
    } else {
        out.extend_from_slice(data);
    }
    out
}

/// The last chunk with no trailers.
pub const LAST_CHUNK: &[u8] = b"0\r\n\r\n";

#[cfg(test)]
mod tests {
    use super::*;

    fn decode_all(framing: Framing, input: &[u8], step: usize) -> Result<Vec<u8>, FramingError> {
        let mut d = BodyDecoder::new(framing);
        let mut out = Vec::new();
        let mut buf: Vec<u8> = Vec::new();
        let mut fed = 0;
        loop {
            let (n, r) = d.decode(&buf)?;
            if let Decoded::Data(range) = &r {
                out.extend_from_slice(&buf[range.clone()]);
            }
            buf.drain(..n);
            if d.is_done() {
                return Ok(out);
            }
            if matches!(r, Decoded::NeedMore) || n == 0 {
                if fed >= input.len() {
                    d.eof()?;
                    return Ok(out);
                }
                let end = (fed + step).min(input.len());
                buf.extend_from_slice(&input[fed..end]);
                fed = end;
            }
        }
    }

    #[test]
    fn chunked_in_any_split() {
        let wire = b"5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nTrailer: x\r\n\r\n";
        for step in 1..wire.len() {
            assert_eq!(
                decode_all(Framing::Chunked, wire, step).unwrap(),
                b"hello world",
                "step {step}"
            );
        }
    }

    #[test]
    fn decode_buffered_leaves_no_consumed_framing_behind() {
        // Split right after a chunk's data and inside the next size line: the consumed CRLF
        // must not be read again (the truncation HTTP/2 clients once saw).
        let mut d = BodyDecoder::new(Framing::Chunked);
        let mut out = Vec::new();
        let mut buf = b"3\r\nabc\r\n4".to_vec();
        assert_eq!(d.decode_buffered(&mut buf, &mut out), Ok(false));
        assert_eq!(buf, b"4", "only the partial size line is left");
        buf.extend_from_slice(b"\r\ndefg\r\n0\r\nX: y\r\n\r\nnext");
        assert_eq!(d.decode_buffered(&mut buf, &mut out), Ok(true));
        assert_eq!(out.concat(), b"abcdefg");
        assert_eq!(buf, b"next");
        assert_eq!(d.take_trailers(), b"X: y\r\n");
    }

    #[test]
    fn trailers_are_kept() {
        let wire = b"3\r\nabc\r\n0\r\nGrpc-Status: 0\r\nX-T:  v w \r\n\r\n";
        for step in 1..wire.len() {
            let mut d = BodyDecoder::new(Framing::Chunked);
            let mut buf = Vec::new();
            for c in wire.chunks(step) {
                buf.extend_from_slice(c);
                while let Ok((n, r)) = d.decode(&buf) {
                    buf.drain(..n);
                    if matches!(r, Decoded::NeedMore | Decoded::Done) {
                        break;
                    }
                }
            }
            assert!(d.is_done(), "step {step}");
            let t = d.take_trailers();
            assert_eq!(t, b"Grpc-Status: 0\r\nX-T:  v w \r\n", "step {step}");
            let fields: Vec<_> = trailer_fields(&t).collect();
            assert_eq!(fields, [(&b"Grpc-Status"[..], &b"0"[..]), (b"X-T", b"v w")]);
            assert_eq!(last_chunk(&t), b"0\r\nGrpc-Status: 0\r\nX-T:  v w \r\n\r\n");
        }
        assert_eq!(last_chunk(b""), LAST_CHUNK);
        for bad in [
            &b"0\r\nNo colon\r\n\r\n"[..],
            b"0\r\nBad Name: x\r\n\r\n",
            b"0\r\n folded\r\n\r\n",
        ] {
            assert!(decode_all(Framing::Chunked, bad, 64).is_err());
        }
    }

    #[test]
    fn bad_chunks() {
        for bad in [
            &b"0x5\r\nhello\r\n0\r\n\r\n"[..],
            b"+5\r\nhello\r\n0\r\n\r\n",
            b" 5\r\nhello\r\n0\r\n\r\n",
            b"5\r\nhelloXX0\r\n\r\n",
            b"5\nhello\r\n0\r\n\r\n",
            b"fffffffffffffffff\r\n",
        ] {
            assert!(
                decode_all(Framing::Chunked, bad, 64).is_err(),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn length_and_close() {
        assert_eq!(
            decode_all(Framing::Length(5), b"hello", 2).unwrap(),
            b"hello"
        );
        assert!(decode_all(Framing::Length(5), b"hel", 2).is_err());
        assert_eq!(decode_all(Framing::Close, b"abc", 1).unwrap(), b"abc");
    }

    #[test]
    fn encode() {
        let mut out = Vec::new();
        encode_chunk(b"abc", &mut out);
        out.extend_from_slice(LAST_CHUNK);
        assert_eq!(decode_all(Framing::Chunked, &out, 3).unwrap(), b"abc");
        let data = vec![b'x'; 0x1a2f];
        let framed = frame_body(&data, true);
        assert!(framed.starts_with(b"1a2f\r\nxx"));
        assert!(framed.ends_with(b"x\r\n"));
        assert_eq!(framed.len(), 4 + 2 + data.len() + 2);
        assert!(
            frame_body(b"", true).is_empty(),
            "an empty chunk would end the body"
        );
        assert_eq!(frame_body(b"raw", false), b"raw");
    }
}
