//! A deliberately small HTTP/1.1 reader and writer for the simulated peers: clients read
//! responses, backends read requests. Independent of the core's codec, so the core is checked
//! against a second implementation rather than against itself.

use super::rng::Rng;

/// A message head: the start line and the header fields in order.
#[derive(Debug, Clone)]
pub struct Head {
    /// `GET /x HTTP/1.1` or `HTTP/1.1 200 OK`.
    pub start: String,
    /// Header fields as received.
    pub headers: Vec<(String, String)>,
}

impl Head {
    /// The first value of header `name` (case-insensitive).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The response status (for a response head).
    pub fn status(&self) -> Option<u16> {
        self.start.split(' ').nth(1)?.parse().ok()
    }

    /// Whether `Connection: close` is present.
    pub fn closes(&self) -> bool {
        self.get("Connection")
            .is_some_and(|v| v.eq_ignore_ascii_case("close"))
    }
}

/// How a message body ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    /// No body.
    Empty,
    /// `Content-Length`.
    Length(usize),
    /// `Transfer-Encoding: chunked`.
    Chunked,
    /// Until the connection closes (responses only).
    Close,
}

/// A complete message.
#[derive(Debug, Clone)]
pub struct Message {
    /// The head.
    pub head: Head,
    /// The decoded body.
    pub body: Vec<u8>,
}

/// Reads a head ending in CRLF CRLF: `Ok(None)` when more bytes are needed, with the bytes used.
pub fn parse_head(buf: &[u8]) -> Result<Option<(Head, usize)>, String> {
    let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") else {
        if buf.len() > 64 * 1024 {
            return Err("head larger than 64 KiB".into());
        }
        return Ok(None);
    };
    let text = std::str::from_utf8(&buf[..end]).map_err(|_| "head is not UTF-8".to_string())?;
    let mut lines = text.split("\r\n");
    let start = lines.next().unwrap_or_default().to_string();
    if start.split(' ').count() < 2 {
        return Err(format!("bad start line {start:?}"));
    }
    let mut headers = Vec::new();
    for l in lines {
        let (n, v) = l
            .split_once(':')
            .ok_or_else(|| format!("bad header line {l:?}"))?;
        headers.push((n.to_string(), v.trim().to_string()));
    }
    Ok(Some((Head { start, headers }, end + 4)))
}

/// The body framing of a request head.
pub fn request_framing(head: &Head) -> Result<Framing, String> {
    if let Some(te) = head.get("Transfer-Encoding") {
        return if te.eq_ignore_ascii_case("chunked") {
            Ok(Framing::Chunked)
        } else {
            Err(format!("transfer coding {te:?}"))
        };
    }
    match head.get("Content-Length") {
        Some(n) => n
            .parse()
            .map(Framing::Length)
            .map_err(|_| format!("bad Content-Length {n:?}")),
        None => Ok(Framing::Empty),
    }
}

/// The body framing of a response head (to a request that was not `HEAD`).
pub fn response_framing(head: &Head) -> Result<Framing, String> {
    let status = head.status().ok_or("bad status")?;
    if (100..200).contains(&status) || status == 204 || status == 304 {
        return Ok(Framing::Empty);
    }
    match request_framing(head)? {
        Framing::Empty => Ok(Framing::Close),
        f => Ok(f),
    }
}

/// Decodes a complete chunked body at the start of `buf`: `Ok(None)` when incomplete.
pub fn decode_chunked(buf: &[u8]) -> Result<Option<(Vec<u8>, usize)>, String> {
    let mut body = Vec::new();
    let mut at = 0;
    loop {
        let Some(eol) = buf[at..].windows(2).position(|w| w == b"\r\n") else {
            return Ok(None);
        };
        let line = std::str::from_utf8(&buf[at..at + eol]).map_err(|_| "chunk size")?;
        let size_text = line.split(';').next().unwrap_or_default().trim();
        let size =
            usize::from_str_radix(size_text, 16).map_err(|_| format!("bad chunk size {line:?}"))?;
        at += eol + 2;
        if size == 0 {
            // No trailers from our peers or the core: the final CRLF.
            if buf.len() < at + 2 {
                return Ok(None);
            }
            if &buf[at..at + 2] != b"\r\n" {
                return Err("trailers or garbage after the last chunk".into());
            }
            return Ok(Some((body, at + 2)));
        }
        if buf.len() < at + size + 2 {
            return Ok(None);
        }
        body.extend_from_slice(&buf[at..at + size]);
        if &buf[at + size..at + size + 2] != b"\r\n" {
            return Err("chunk not followed by CRLF".into());
        }
        at += size + 2;
    }
}

/// Reads one message with the given framing after its head; `eof` says the peer finished
/// sending (which completes a close-delimited body). `Ok(None)` when more bytes are needed.
pub fn parse_body(
    buf: &[u8],
    framing: Framing,
    eof: bool,
) -> Result<Option<(Vec<u8>, usize)>, String> {
    match framing {
        Framing::Empty => Ok(Some((Vec::new(), 0))),
        Framing::Length(n) => Ok((buf.len() >= n).then(|| (buf[..n].to_vec(), n))),
        Framing::Chunked => decode_chunked(buf),
        Framing::Close => Ok(eof.then(|| (buf.to_vec(), buf.len()))),
    }
}

/// Encodes `body` as chunks of random sizes (and the last chunk).
pub fn encode_chunked(body: &[u8], rng: &mut Rng) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len() + 32);
    let mut rest = body;
    while !rest.is_empty() {
        let n = rng.range_usize(1, rest.len().min(700));
        out.extend_from_slice(format!("{n:x}\r\n").as_bytes());
        out.extend_from_slice(&rest[..n]);
        out.extend_from_slice(b"\r\n");
        rest = &rest[n..];
    }
    out.extend_from_slice(b"0\r\n\r\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunked_round_trip_and_incomplete() {
        let mut rng = Rng::new(3);
        let body = rng.bytes(2000);
        let enc = encode_chunked(&body, &mut rng);
        let (dec, n) = decode_chunked(&enc).unwrap().unwrap();
        assert_eq!((dec, n), (body, enc.len()));
        assert!(decode_chunked(&enc[..enc.len() - 1]).unwrap().is_none());
        assert!(decode_chunked(b"zz\r\n").is_err());
    }

    #[test]
    fn heads_and_framing() {
        let (h, n) = parse_head(b"HTTP/1.1 200 OK\r\ncontent-length: 3\r\n\r\nabc")
            .unwrap()
            .unwrap();
        assert_eq!((h.status(), n), (Some(200), 38));
        assert_eq!(response_framing(&h), Ok(Framing::Length(3)));
        assert!(parse_head(b"HTTP/1.1 200 OK\r\n").unwrap().is_none());
        assert!(parse_head(b"garbage\r\n\r\n").is_err());
    }
}
