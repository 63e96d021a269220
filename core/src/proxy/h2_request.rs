//! An HTTP/2 request head as the HTTP/1.1 pipeline reads it. The reference is
//! [`request_head`]: the HTTP/1.1 bytes a stream's virtual connection is fed, which the
//! pipeline parses as any client's. [`direct_request`] builds the parsed request those bytes
//! give without writing and parsing them, for the requests where that is certain (plain
//! values, an origin-form target, a head well below the size limit); any other request takes
//! the bytes, so every answer (400, 431...) stays the HTTP/1.1 path's.

use bytes::Bytes;

use crate::h1::{ParsedRequest, RequestBody};
use crate::http::{Headers, Version};

use super::h2down::CONNECTION_SPECIFIC;

/// Fields not carried to the HTTP/1.1 head (`host` becomes the `Host` line).
fn skipped(name: &str) -> bool {
    name == "host" || name == "expect" || CONNECTION_SPECIFIC.contains(&name)
}

/// The authority the request names: `:authority`, else its `host` field, else empty.
fn authority(head: &http::request::Parts) -> &[u8] {
    head.uri
        .authority()
        .map(|a| a.as_str().as_bytes())
        .or_else(|| {
            head.headers
                .get(http::header::HOST)
                .filter(|h| h.to_str().is_ok())
                .map(|h| h.as_bytes())
        })
        .unwrap_or_default()
}

/// The HTTP/1.1 request head the pipeline reads for an HTTP/2 request; `true` when its body
/// must be chunk-encoded (no `content-length`).
pub(super) fn request_head(head: &http::request::Parts, end_stream: bool) -> (Vec<u8>, bool) {
    let target = head
        .uri
        .path_and_query()
        .map_or("/", |p| p.as_str())
        .to_string();
    let authority = authority(head);
    let mut out = Vec::with_capacity(256);
    out.extend_from_slice(head.method.as_str().as_bytes());
    out.push(b' ');
    out.extend_from_slice(target.as_bytes());
    out.extend_from_slice(b" HTTP/1.1\r\nHost: ");
    out.extend_from_slice(authority);
    out.extend_from_slice(b"\r\n");
    let mut cookies: Vec<&[u8]> = Vec::new();
    for (name, value) in &head.headers {
        let n = name.as_str();
        // `te` can only be `trailers` in HTTP/2 (h2 refuses others); it reaches the backend.
        if skipped(n) {
            continue;
        }
        if n == "cookie" {
            cookies.push(value.as_bytes());
            continue;
        }
        out.extend_from_slice(n.as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    if !cookies.is_empty() {
        // Go's HTTP/2 server joins split cookie fields with "; ".
        out.extend_from_slice(b"cookie: ");
        out.extend_from_slice(&cookies.join(&b"; "[..]));
        out.extend_from_slice(b"\r\n");
    }
    let chunked = !end_stream && !head.headers.contains_key(http::header::CONTENT_LENGTH);
    if chunked {
        out.extend_from_slice(b"Transfer-Encoding: chunked\r\n");
    }
    // No `Connection: close`: the pipeline ends a stream's virtual connection with its exchange
    // (`start_request`), and Go's HTTP/2 requests carry no `Connection` field, so a field the
    // client named `close` is not taken for a connection option and reaches the backend.
    out.extend_from_slice(b"\r\n");
    (out, chunked)
}

/// A value the HTTP/1.1 parser takes as it is: no control bytes but tab, no surrounding
/// whitespace (which it would trim).
fn plain_value(v: &[u8]) -> bool {
    v.iter().all(|&b| b == b'\t' || (b >= 0x20 && b != 0x7f))
        && !v.first().is_some_and(|b| *b == b' ' || *b == b'\t')
        && !v.last().is_some_and(|b| *b == b' ' || *b == b'\t')
}

/// The request [`request_head`]'s bytes parse to, built directly; `None` when the bytes must
/// be parsed (see the module documentation). `max_header_bytes` is the entry point's limit.
pub(super) fn direct_request(
    head: &http::request::Parts,
    end_stream: bool,
    max_header_bytes: usize,
) -> Option<(ParsedRequest, bool)> {
    let target = head.uri.path_and_query().map_or("/", |p| p.as_str());
    if !target.starts_with('/') || !target.bytes().all(|b| (0x21..0x7f).contains(&b)) {
        return None;
    }
    let authority = authority(head);
    if !plain_value(authority) || head.headers.len() > 100 {
        return None;
    }
    // Every value in one buffer, sliced (one allocation, as the HTTP/1.1 parser does).
    let mut size = head.method.as_str().len() + target.len() + authority.len() + 64;
    let mut values = Vec::with_capacity(256);
    let mut lines: Vec<(&str, std::ops::Range<usize>)> = Vec::with_capacity(head.headers.len());
    let mut cookies: Option<std::ops::Range<usize>> = None;
    for (name, value) in &head.headers {
        let (n, v) = (name.as_str(), value.as_bytes());
        if !plain_value(v) {
            return None;
        }
        size += n.len() + v.len() + 4;
        if skipped(n) {
            continue;
        }
        if n == "cookie" {
            // Go's HTTP/2 server joins split cookie fields with "; ".
            match &mut cookies {
                Some(r) => {
                    values.extend_from_slice(b"; ");
                    values.extend_from_slice(v);
                    r.end = values.len();
                }
                None => {
                    let start = values.len();
                    values.extend_from_slice(v);
                    cookies = Some(start..values.len());
                }
            }
            continue;
        }
        if cookies.is_some() {
            // Cookie values must stay contiguous: the general path handles the rare order.
            return None;
        }
        let start = values.len();
        values.extend_from_slice(v);
        lines.push((n, start..values.len()));
    }
    if size > max_header_bytes {
        return None;
    }
    let values = Bytes::from(values);
    let mut headers = Headers::with_capacity(lines.len() + 8);
    for (n, r) in lines {
        headers.append_shared(n, values.slice(r));
    }
    if let Some(r) = cookies {
        headers.append_shared("cookie", values.slice(r));
    }
    let chunked = !end_stream && !head.headers.contains_key(http::header::CONTENT_LENGTH);
    if chunked {
        headers.append_shared("Transfer-Encoding", Bytes::from_static(b"chunked"));
    }
    let parsed = crate::h1::request::finish(
        crate::http::method(head.method.as_str()),
        Version::Http11,
        target,
        headers,
        &[authority],
    )
    .ok()?;
    // What the body framing says must agree with the stream (checked by the parser's rules).
    debug_assert!(!chunked || parsed.body == RequestBody::Chunked);
    Some((parsed, chunked))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::h1::{parse_request, RequestLimits};

    #[test]
    fn request_heads_translate_to_http11() {
        let req = http::Request::builder()
            .method("POST")
            .uri("https://a.example/p?q=1")
            .header("cookie", "a=1")
            .header("cookie", "b=2")
            .header("x-custom", "v")
            .body(())
            .unwrap();
        let (head, _) = req.into_parts();
        let (bytes, chunked) = request_head(&head, false);
        assert!(chunked);
        assert_eq!(
            String::from_utf8(bytes).unwrap(),
            "POST /p?q=1 HTTP/1.1\r\nHost: a.example\r\nx-custom: v\r\ncookie: a=1; b=2\r\nTransfer-Encoding: chunked\r\n\r\n"
        );
    }

    fn request(method: &str, uri: &str, fields: &[(&str, &[u8])]) -> http::request::Parts {
        let mut b = http::Request::builder().method(method).uri(uri);
        for (n, v) in fields {
            b = b.header(*n, http::HeaderValue::from_bytes(v).unwrap());
        }
        b.body(()).unwrap().into_parts().0
    }

    /// Whenever the direct path answers, it is exactly what parsing the bytes gives; the cases
    /// it declines are the ones whose bytes the parser judges (or might).
    #[test]
    fn direct_requests_match_the_parsed_bytes() {
        let limits = RequestLimits::default();
        let cases: Vec<(http::request::Parts, bool, bool)> = vec![
            (
                request("GET", "http://bench.local/", &[("user-agent", b"h2load")]),
                true,
                true,
            ),
            (
                request(
                    "POST",
                    "https://a.example/p/%2F?q=1&r",
                    &[
                        ("content-type", b"text/plain"),
                        ("content-length", b"5"),
                        ("x-custom", b"v\tw"),
                        ("te", b"trailers"),
                        ("x-obs", b"caf\xc3\xa9"),
                    ],
                ),
                false,
                true,
            ),
            (
                request(
                    "PUT",
                    "https://a.example/u",
                    &[("x-a", b"1"), ("cookie", b"a=1"), ("cookie", b"b=2")],
                ),
                false,
                true,
            ),
            // Taken from `host` when there is no :authority.
            (
                request("GET", "/only-path", &[("host", b"h.example:8080")]),
                true,
                true,
            ),
            (request("GET", "/no-host", &[]), true, true),
            (
                request(
                    "DELETE",
                    "http://a.example/x",
                    &[("expect", b"100-continue")],
                ),
                true,
                true,
            ),
            // Declined: the parser judges these bytes.
            (
                request("GET", "http://a.example/", &[("x-sp", b" padded ")]),
                true,
                false,
            ),
            (
                request(
                    "GET",
                    "http://a.example/",
                    &[("cookie", b"a=1"), ("x-after", b"1")],
                ),
                true,
                false,
            ),
            (
                request("OPTIONS", "*", &[("host", b"a.example")]),
                true,
                false,
            ),
            (request("GET", "/", &[("host", b"bad host")]), true, false),
        ];
        for (i, (head, end, direct_expected)) in cases.into_iter().enumerate() {
            let (bytes, chunked) = request_head(&head, end);
            let parsed = parse_request(&bytes, &limits).map(|r| r.map(|(p, _)| p));
            match direct_request(&head, end, limits.max_header_bytes) {
                Some((direct, direct_chunked)) => {
                    assert!(direct_expected, "case {i}: expected the byte path");
                    assert_eq!(direct_chunked, chunked, "case {i}");
                    assert_eq!(Ok(Some(direct)), parsed, "case {i}");
                }
                None => assert!(!direct_expected, "case {i}: expected the direct path"),
            }
        }
    }

    /// Values the parser would refuse or trim are left to it (`http` refuses to build such
    /// values, so they are checked here rather than as requests).
    #[test]
    fn only_plain_values_skip_the_parser() {
        assert!(plain_value(b"text/plain; q=1\tx"));
        assert!(plain_value(b""));
        for v in [
            &b"a\x01b"[..],
            b"a\x7fb",
            b"a\rb",
            b"a\nb",
            b"a\0b",
            b" a",
            b"a\t",
        ] {
            assert!(!plain_value(v), "{v:?}");
        }
    }

    #[test]
    fn heads_near_the_size_limit_take_the_byte_path() {
        let big = vec![b'x'; 2000];
        let head = request("GET", "http://a.example/", &[("x-big", &big)]);
        assert!(direct_request(&head, true, 1000).is_none());
        assert!(direct_request(&head, true, 1 << 20).is_some());
    }
}
