//! Streaming gzip decoding of response bodies, as Go's transport does transparently when it
//! asked the backend for gzip itself: RFC 1952 members (several in a row, as Go's multistream
//! reader), CRC-32 and length checked. Input is stashed and decoded in bounded steps, so a
//! small compressed body that inflates enormously never makes more than one step's output
//! exist at a time.

use flate2::{Crc, Decompress, FlushDecompress, Status};

/// A body that is not valid gzip (Go's `gzip: invalid header`, checksum or flate errors).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GzipError(pub &'static str);

enum State {
    /// Reading a member header.
    Header,
    /// Inflating a member.
    Body,
    /// Reading a member's CRC-32 and size.
    Trailer,
}

/// A gzip decoder fed compressed bytes and drained in bounded steps.
pub struct Gunzip {
    state: State,
    inflate: Decompress,
    crc: Crc,
    /// Compressed bytes not decoded yet.
    stash: Vec<u8>,
    /// No member started, or the last one completed and nothing of a next one was seen (an
    /// empty body is an empty body for Go's reader too).
    at_boundary: bool,
}

impl std::fmt::Debug for Gunzip {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Gunzip")
            .field("stash", &self.stash.len())
            .finish_non_exhaustive()
    }
}

impl Default for Gunzip {
    fn default() -> Self {
        Self::new()
    }
}

const FHCRC: u8 = 2;
const FEXTRA: u8 = 4;
const FNAME: u8 = 8;
const FCOMMENT: u8 = 16;

impl Gunzip {
    /// A decoder at the start of a body.
    pub fn new() -> Self {
        Gunzip {
            state: State::Header,
            inflate: Decompress::new(false),
            crc: Crc::new(),
            stash: Vec::new(),
            at_boundary: true,
        }
    }

    /// Compressed bytes.
    pub fn feed(&mut self, input: &[u8]) {
        self.stash.extend_from_slice(input);
    }

    /// Whether fed bytes are still waiting to be decoded.
    pub fn has_pending(&self) -> bool {
        !self.stash.is_empty()
    }

    /// Decodes what was fed, appending at most `max` decompressed bytes to `out`.
    pub fn produce(&mut self, max: usize, out: &mut Vec<u8>) -> Result<(), GzipError> {
        let limit = out.len() + max;
        let mut pos = 0;
        let result = loop {
            match self.state {
                State::Header => {
                    if pos == self.stash.len() {
                        break Ok(());
                    }
                    match header_len(&self.stash[pos..])? {
                        Some(n) => {
                            pos += n;
                            self.at_boundary = false;
                            self.inflate.reset(false);
                            self.crc.reset();
                            self.state = State::Body;
                        }
                        None => break Ok(()),
                    }
                }
                State::Body => {
                    if out.len() >= limit {
                        break Ok(());
                    }
                    let start = out.len();
                    // Decompress into spare capacity, at most up to the limit.
                    out.reserve((limit - start).min(64 * 1024));
                    let room = (limit - start).min(out.capacity() - start);
                    let before_in = self.inflate.total_in();
                    let before_out = self.inflate.total_out();
                    let status = {
                        let input = &self.stash[pos..];
                        out.resize(start + room, 0);
                        let r = self.inflate.decompress(
                            input,
                            &mut out[start..],
                            FlushDecompress::None,
                        );
                        let written = (self.inflate.total_out() - before_out) as usize;
                        out.truncate(start + written);
                        r.map_err(|_| GzipError("flate: corrupt input"))?
                    };
                    let consumed = (self.inflate.total_in() - before_in) as usize;
                    pos += consumed;
                    self.crc.update(&out[start..]);
                    match status {
                        Status::StreamEnd => self.state = State::Trailer,
                        _ if consumed == 0 && out.len() == start => break Ok(()),
                        _ => {}
                    }
                }
                State::Trailer => {
                    let rest = &self.stash[pos..];
                    if rest.len() < 8 {
                        break Ok(());
                    }
                    let crc = u32::from_le_bytes([rest[0], rest[1], rest[2], rest[3]]);
                    let size = u32::from_le_bytes([rest[4], rest[5], rest[6], rest[7]]);
                    if crc != self.crc.sum() || size != self.crc.amount() {
                        break Err(GzipError("gzip: invalid checksum"));
                    }
                    pos += 8;
                    self.at_boundary = true;
                    self.state = State::Header;
                }
            }
        };
        self.stash.drain(..pos);
        result
    }

    /// The body ended: it must end after a complete member.
    pub fn finish(&self) -> Result<(), GzipError> {
        if self.at_boundary && self.stash.is_empty() && matches!(self.state, State::Header) {
            Ok(())
        } else {
            Err(GzipError("unexpected EOF"))
        }
    }
}

/// The length of a complete member header at the start of `b`, `None` when more is needed.
fn header_len(b: &[u8]) -> Result<Option<usize>, GzipError> {
    let bad = GzipError("gzip: invalid header");
    if b.len() >= 2 && (b[0] != 0x1f || b[1] != 0x8b) || b.len() >= 3 && b[2] != 8 {
        return Err(bad);
    }
    if b.len() < 10 {
        return Ok(None);
    }
    let flags = b[3];
    let mut pos = 10;
    if flags & FEXTRA != 0 {
        let Some(x) = b.get(pos..pos + 2) else {
            return Ok(None);
        };
        pos += 2 + u16::from_le_bytes([x[0], x[1]]) as usize;
    }
    for flag in [FNAME, FCOMMENT] {
        if flags & flag != 0 {
            let Some(rest) = b.get(pos..) else {
                return Ok(None);
            };
            match rest.iter().position(|c| *c == 0) {
                Some(z) => pos += z + 1,
                None => return Ok(None),
            }
        }
    }
    if flags & FHCRC != 0 {
        pos += 2;
    }
    Ok((pos <= b.len()).then_some(pos))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    fn decode_all(input: &[u8], step: usize, max: usize) -> Result<Vec<u8>, GzipError> {
        let mut g = Gunzip::new();
        let mut out = Vec::new();
        for c in input.chunks(step) {
            g.feed(c);
            loop {
                let before = out.len();
                g.produce(max, &mut out)?;
                assert!(out.len() - before <= max);
                if out.len() == before {
                    break;
                }
            }
        }
        g.finish()?;
        Ok(out)
    }

    #[test]
    fn members_in_any_split_and_bounded_steps() {
        let text: Vec<u8> = (0..50_000u32).flat_map(|i| i.to_le_bytes()).collect();
        let mut two = gzip(&text);
        two.extend_from_slice(&gzip(b"second member"));
        let mut want = text.clone();
        want.extend_from_slice(b"second member");
        for step in [1, 7, 1000, two.len()] {
            assert_eq!(decode_all(&two, step, 4096).unwrap(), want, "step {step}");
        }
    }

    #[test]
    fn a_bomb_comes_out_in_bounded_steps() {
        let zeros = gzip(&vec![0u8; 64 << 20]);
        assert!(zeros.len() < 100 * 1024);
        let mut g = Gunzip::new();
        g.feed(&zeros);
        let mut total = 0;
        let mut out = Vec::new();
        loop {
            out.clear();
            g.produce(256 * 1024, &mut out).unwrap();
            assert!(out.len() <= 256 * 1024);
            if out.is_empty() {
                break;
            }
            total += out.len();
        }
        assert_eq!(total, 64 << 20);
        g.finish().unwrap();
    }

    #[test]
    fn broken_bodies_are_errors() {
        let good = gzip(b"hello");
        assert!(decode_all(b"not gzip at all", 4, 1024).is_err());
        assert!(
            decode_all(&good[..good.len() - 3], 4, 1024).is_err(),
            "truncated"
        );
        let mut bad_crc = good.clone();
        let n = bad_crc.len();
        bad_crc[n - 8] ^= 1;
        assert!(decode_all(&bad_crc, 4, 1024).is_err());
        let mut trailing = good.clone();
        trailing.extend_from_slice(b"junk");
        assert!(decode_all(&trailing, 4, 1024).is_err());
        assert_eq!(
            decode_all(b"", 4, 1024).unwrap(),
            b"",
            "an empty body stays empty"
        );
        assert!(decode_all(&good[..5], 4, 1024).is_err(), "a partial header");
    }
}
