//! Parsing upstream response heads (strictly: a malformed response is a 502, never relayed) and
//! deciding their body framing (HEAD, 1xx, 204 and 304 have none; no length means
//! close-delimited).

use super::body::Framing;
use super::framing_lines::FramingLines;
use super::request::parse_content_length;
use crate::http::{Headers, ResponseHead, Version};

/// A parsed response head.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedResponse {
    /// The head.
    pub head: ResponseHead,
    /// Body framing, given the request method.
    pub framing: Framing,
    /// Whether the upstream connection can be reused after this response.
    pub keep_alive: bool,
}

/// Why an upstream response was refused (TrafficCop answers 502).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResponseError(pub &'static str);

const MAX_HEADERS: usize = 512;
/// The most response-head bytes read from a backend (Go's transport default is 1 MiB).
pub const MAX_RESPONSE_HEAD: usize = 1 << 20;

/// The end of a head: an empty line (`\r\n` or bare `\n`), as an index just past it.
fn head_end(buf: &[u8]) -> Option<usize> {
    let mut line_start = 0;
    for i in memchr::memchr_iter(b'\n', buf) {
        let line = &buf[line_start..i];
        if line.is_empty() || line == b"\r" {
            return Some(i + 1);
        }
        line_start = i + 1;
    }
    None
}

/// Whether every header line of `head` (after its status line) has a name of token bytes and
/// blanks before its colon: the names Go's reader accepts.
fn names_with_blanks_only(head: &[u8]) -> bool {
    head.split(|b| *b == b'\n')
        .skip(1)
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l))
        .filter(|l| !l.is_empty() && !l.starts_with(b" ") && !l.starts_with(b"\t"))
        .all(|l| match l.iter().position(|b| *b == b':') {
            Some(colon) if colon > 0 => l[..colon]
                .iter()
                .all(|b| *b == b' ' || crate::http::is_token_byte(*b)),
            _ => false,
        })
}

/// The major version digit of a head whose status line says `HTTP/d.d` other than `1.0` and
/// `1.1`.
fn other_version(head: &[u8]) -> Option<u8> {
    match head.get(..9)? {
        [b'H', b'T', b'T', b'P', b'/', major, b'.', minor, b' ']
            if major.is_ascii_digit()
                && minor.is_ascii_digit()
                && !(*major == b'1' && matches!(minor, b'0' | b'1')) =>
        {
            Some(*major)
        }
        _ => None,
    }
}

/// A value folded over several lines as Go's reader joins it: each line trimmed of blanks, the
/// lines joined by one space.
fn unfold(value: &[u8]) -> bytes::Bytes {
    let mut out = Vec::with_capacity(value.len());
    for (i, line) in value.split(|b| *b == b'\n').enumerate() {
        if i > 0 {
            out.push(b' ');
        }
        out.extend_from_slice(line.trim_ascii());
    }
    bytes::Bytes::from(out)
}

/// Parses a response head from `buf`. `head_request` is whether the request was HEAD.
pub fn parse_response(
    buf: &[u8],
    head_request: bool,
) -> Result<Option<(ParsedResponse, usize)>, ResponseError> {
    // Go's reader accepts bare LF line endings in responses (the head is re-written with CRLF
    // before it reaches the client, so nothing ambiguous is relayed); a bare CR is refused.
    let Some(end) = head_end(buf) else {
        if buf.len() > MAX_RESPONSE_HEAD {
            return Err(ResponseError("response head too large"));
        }
        // Go fails as soon as the first line is not a status line.
        if let Some(nl) = buf.iter().position(|b| *b == b'\n') {
            if !buf[..nl].starts_with(b"HTTP/") {
                return Err(ResponseError("malformed HTTP response"));
            }
        } else if buf.len() >= 5 && !buf.starts_with(b"HTTP/") {
            return Err(ResponseError("malformed HTTP response"));
        }
        return Ok(None);
    };
    // The head is copied once and parsed from the copy: every header value is a slice of it.
    let shared = match other_version(&buf[..end]) {
        // Go's reader takes any `HTTP/d.d` version (`HTTP/2.0` from an HTTP/1 server, say);
        // the line parser only `HTTP/1.0` and `HTTP/1.1`: such a head is read as HTTP/1.1
        // (as HTTP/1.0 below version 1, which Go's transport closes after).
        Some(major) => {
            let mut head = buf[..end].to_vec();
            head[5..8].copy_from_slice(if major == b'0' { b"1.0" } else { b"1.1" });
            bytes::Bytes::from(head)
        }
        None => crate::http::head_copy(&buf[..end]),
    };
    let head_bytes = &shared[..];
    // Left uninitialised: httparse writes only the lines it finds.
    let mut storage =
        [const { std::mem::MaybeUninit::<httparse::Header<'_>>::uninit() }; MAX_HEADERS];
    let mut resp = httparse::Response::new(&mut []);
    let mut config = httparse::ParserConfig::default();
    let mut parsed = config.parse_response_with_uninit_headers(&mut resp, head_bytes, &mut storage);
    // Rare heads Go's reader takes and the strict parse refuses, parsed again leniently (the
    // usual head is parsed once, strictly):
    // - a value folded over several lines (obs-fold), which Go joins;
    // - a name with blanks in it, which Go leaves as it is and its server drops when it
    //   writes the head: such lines are skipped, when every name is made of token bytes and
    //   blanks.
    let lenient = parsed == Err(httparse::Error::HeaderName) && names_with_blanks_only(head_bytes);
    if lenient {
        config.allow_obsolete_multiline_headers_in_responses(true);
        config.ignore_invalid_headers_in_responses(true);
        resp = httparse::Response::new(&mut []);
        parsed = config.parse_response_with_uninit_headers(&mut resp, head_bytes, &mut storage);
    }
    match parsed {
        Ok(httparse::Status::Complete(_)) => {}
        Ok(httparse::Status::Partial) | Err(_) => {
            return Err(ResponseError("malformed response head"))
        }
    }
    let status = resp.code.unwrap_or(0);
    if !(100..=999).contains(&status) {
        return Err(ResponseError("invalid status code"));
    }
    let version = if resp.version == Some(0) {
        Version::Http10
    } else {
        Version::Http11
    };
    let mut headers = Headers::with_capacity(resp.headers.len() + 4);
    // httparse refuses control bytes in values (NUL, CR and LF among them; tab aside):
    // `control_bytes_in_values_are_refused`.
    for h in resp.headers.iter() {
        let value = if lenient && h.value.contains(&b'\n') {
            unfold(h.value)
        } else {
            shared.slice_ref(h.value.trim_ascii())
        };
        headers.append_shared(h.name, value);
    }
    let lines = FramingLines::of(&headers);
    // As Go's transport, before anything else: lengths that differ are an error, and equal
    // ones are kept as one line (also for answers without a body).
    if lines.content_lengths_differ {
        return Err(ResponseError("conflicting Content-Length"));
    }
    let repeated_length =
        (lines.content_lengths > 1).then(|| shared.slice_ref(lines.content_length));
    let lines_had_length = lines.content_lengths > 0;
    let no_body = head_request || (100..200).contains(&status) || status == 204 || status == 304;
    let framing = if no_body {
        Framing::Empty
    } else if lines.transfer_encodings > 0 {
        // Go's transport only speaks chunked, named once.
        if lines.transfer_encodings > 1
            || !lines
                .transfer_encoding
                .trim_ascii()
                .eq_ignore_ascii_case(b"chunked")
        {
            return Err(ResponseError("unsupported transfer encoding"));
        }
        Framing::Chunked
    } else if lines.content_lengths > 0 {
        match parse_content_length(lines.content_length) {
            Some(0) => Framing::Empty,
            Some(n) => Framing::Length(n),
            None => return Err(ResponseError("invalid Content-Length")),
        }
    } else {
        Framing::Close
    };
    let keep_alive = framing != Framing::Close
        && match version {
            Version::Http11 => !lines.close,
            Version::Http10 => lines.keep_alive && !lines.close,
        };
    if framing == Framing::Chunked && lines_had_length {
        // Go's transport drops a length beside chunked.
        headers.remove("Content-Length");
    } else if let Some(length) = repeated_length {
        headers.set_shared("Content-Length", length);
    }
    Ok(Some((
        ParsedResponse {
            head: ResponseHead {
                status,
                version,
                headers,
            },
            framing,
            keep_alive,
        },
        end,
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str, head: bool) -> Result<Option<(ParsedResponse, usize)>, ResponseError> {
        parse_response(s.as_bytes(), head)
    }

    #[test]
    fn framings() {
        let f = |s: &str, head| p(s, head).unwrap().unwrap().0.framing;
        assert_eq!(
            f("HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\n", false),
            Framing::Length(3)
        );
        assert_eq!(
            f("HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\n", true),
            Framing::Empty
        );
        assert_eq!(
            f(
                "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
                false
            ),
            Framing::Chunked
        );
        // Repeated equal lengths are one length.
        assert_eq!(
            f(
                "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length:  5\r\n\r\n",
                false
            ),
            Framing::Length(5)
        );
        assert_eq!(f("HTTP/1.1 200 OK\r\n\r\n", false), Framing::Close);
        assert_eq!(f("HTTP/1.1 204 No Content\r\n\r\n", false), Framing::Empty);
        assert_eq!(
            f(
                "HTTP/1.1 304 Not Modified\r\nContent-Length: 9\r\n\r\n",
                false
            ),
            Framing::Empty
        );
    }

    /// Repeated equal lengths reach the client as one line (Go's transport keeps one; checked
    /// against Traefik 3.7.15), on answers with and without a body.
    #[test]
    fn repeated_equal_lengths_are_one_line() {
        for (head, head_request) in [
            (
                "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-A: 1\r\nContent-Length:  2\r\n\r\n",
                false,
            ),
            (
                "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-A: 1\r\nContent-Length: 2\r\n\r\n",
                true,
            ),
        ] {
            let (r, _) = p(head, head_request).unwrap().unwrap();
            let lengths: Vec<&[u8]> = r.head.headers.get_all("Content-Length").collect();
            assert_eq!(lengths, [b"2"], "{head:?}");
            assert_eq!(r.head.headers.get_str("X-A"), Some("1"));
        }
    }

    /// Go's reader takes any `HTTP/d.d` status line; a length beside chunked is dropped
    /// (both checked against Traefik 3.7.15).
    #[test]
    fn other_versions_and_a_length_beside_chunked() {
        let (r, _) = p("HTTP/2.0 200 OK\r\nContent-Length: 2\r\n\r\nok", false)
            .unwrap()
            .unwrap();
        assert_eq!((r.head.status, r.framing), (200, Framing::Length(2)));
        assert_eq!(r.head.version, Version::Http11);
        assert!(r.keep_alive);
        let (r, _) = p("HTTP/0.9 200 OK\r\nContent-Length: 2\r\n\r\nok", false)
            .unwrap()
            .unwrap();
        assert!(!r.keep_alive);
        assert!(p("HTTP/2 200 OK\r\nContent-Length: 2\r\n\r\nok", false).is_err());
        let (r, _) = p(
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n",
            false,
        )
        .unwrap()
        .unwrap();
        assert_eq!(r.framing, Framing::Chunked);
        assert!(!r.head.headers.contains("Content-Length"));
    }

    /// A value folded over lines is joined as Go's reader joins it (checked against Traefik
    /// 3.7.15), with CRLF or bare LF line ends.
    #[test]
    fn folded_values_are_joined() {
        for head in [
            "HTTP/1.1 200 OK\r\nX-Fold: a \r\n  b\r\n\tc\r\nContent-Length: 2\r\n\r\n",
            "HTTP/1.1 200 OK\nX-Fold: a\n b\n c\nContent-Length: 2\n\n",
        ] {
            let (r, _) = p(head, false).unwrap().unwrap();
            assert_eq!(r.head.headers.get_str("X-Fold"), Some("a b c"), "{head:?}");
            assert_eq!(r.framing, Framing::Length(2));
        }
    }

    /// A name with blanks in it is taken and its line dropped, as Go's reader and server do
    /// (checked against Traefik 3.7.15); other bad names are a malformed head.
    #[test]
    fn names_with_blanks_are_dropped() {
        let (r, _) = p(
            "HTTP/1.1 200 OK\r\nX Bad: 1\r\nX-Good: 2\r\nName : 3\r\nContent-Length: 2\r\n\r\n",
            false,
        )
        .unwrap()
        .unwrap();
        let names: Vec<&str> = r.head.headers.iter().map(|h| &*h.name).collect();
        assert_eq!(names, ["X-Good", "Content-Length"]);
        assert_eq!(r.framing, Framing::Length(2));
        for bad in ["X@Bad: 1", ": 1", "X(Bad: 1", "NoColon"] {
            let head = format!("HTTP/1.1 200 OK\r\n{bad}\r\nContent-Length: 2\r\n\r\n");
            assert!(p(&head, false).is_err(), "{bad}");
        }
    }

    #[test]
    fn malformed_responses() {
        assert!(p(
            "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n",
            false
        )
        .is_err());
        // Also when no body is expected: Go's transport checks the lengths first.
        assert!(p(
            "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n",
            true
        )
        .is_err());
        assert!(p("HTTP/1.1 200 OK\r\nContent-Length: -3\r\n\r\n", false).is_err());
        assert!(p("HTTP/1.1 200 OK\r\nX: y\rz\r\n\r\n", false).is_err());
        assert!(p("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", false).is_err());
        // Two Transfer-Encoding lines, or a coding before chunked: Go's transport refuses both.
        assert!(p(
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n",
            false
        )
        .is_err());
        assert!(p(
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
            false
        )
        .is_err());
        assert!(p("HTTX/1.1 200 OK\r\n\r\n", false).is_err());
    }

    /// No header value the parser accepts holds a control byte (tab aside): values are
    /// relayed without another look at their bytes.
    #[test]
    fn control_bytes_in_values_are_refused() {
        for b in (0u8..0x20).filter(|b| *b != b'\t').chain([0x7f]) {
            let head = [&b"HTTP/1.1 200 OK\r\nX: a"[..], &[b], b"b\r\n\r\n"].concat();
            assert!(parse_response(&head, false).is_err(), "byte {b:#x}");
        }
        let (r, _) = p("HTTP/1.1 200 OK\r\nX: a\tb\r\n\r\n", false)
            .unwrap()
            .unwrap();
        assert_eq!(r.head.headers.get("X"), Some(&b"a\tb"[..]));
        assert!(p("HTTP/1.1 20 OK\r\n\r\n", false).is_err());
    }

    #[test]
    fn bare_lf_heads_are_read_as_go_does() {
        let (r, n) = p("HTTP/1.1 200 OK\nContent-Length: 2\nX: y\n\nok", false)
            .unwrap()
            .unwrap();
        assert_eq!((r.head.status, r.framing, n), (200, Framing::Length(2), 40));
        assert_eq!(r.head.headers.get_str("X"), Some("y"));
    }

    /// A CR not followed by LF is refused wherever it stands in the head: the line parser
    /// takes CR only as the first half of a line ending (there is no separate pass for it).
    #[test]
    fn a_bare_cr_anywhere_in_the_head_is_refused() {
        let head = "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nX-A: b c\r\n\r\n";
        // Up to the last header line's end (a CR put in the empty line starts another header
        // line: the head is not over yet).
        for i in 0..=head.len() - 4 {
            for next in ["x", " ", ":", "\t", "\r"] {
                let bad = format!("{}\r{next}{}", &head[..i], &head[i..]);
                assert!(p(&bad, false).is_err(), "{bad:?}");
            }
        }
        // A bare CR after the head is body, and one still waiting for its next byte may be a
        // line ending.
        let (r, n) = p(&format!("{head}\r\ra"), false).unwrap().unwrap();
        assert_eq!((r.framing, n), (Framing::Length(3), head.len()));
        assert_eq!(p("HTTP/1.1 200 OK\r", false), Ok(None));
    }

    #[test]
    fn keep_alive() {
        let k = |s: &str| p(s, false).unwrap().unwrap().0.keep_alive;
        assert!(k("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"));
        assert!(!k(
            "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"
        ));
        assert!(!k("HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n"));
        assert!(!k("HTTP/1.1 200 OK\r\n\r\n"));
        assert!(k(
            "HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 0\r\n\r\n"
        ));
        assert!(!k(
            "HTTP/1.0 200 OK\r\nConnection: keep-alive, close\r\nContent-Length: 0\r\n\r\n"
        ));
        assert!(!k(
            "HTTP/1.1 200 OK\r\nConnection: x\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"
        ));
    }
}
