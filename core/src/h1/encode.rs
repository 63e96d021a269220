//! Writing message heads: the request sent upstream and the response sent downstream.

use crate::http::{reason_phrase, LocalResponse, RequestHead, ResponseHead};

/// Appends `name: value\r\n` for every header line whose name `skip` does not refuse, sorted
/// by name as Go's `Header.Write` does (lines of one name keep their order).
fn write_headers(headers: &crate::http::Headers, skip: impl Fn(&str) -> bool, out: &mut Vec<u8>) {
    let mut write = |h: &crate::http::Header| {
        out.extend_from_slice(h.name.as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(&h.value);
        out.extend_from_slice(b"\r\n");
    };
    let n = headers.len();
    if n <= 64 {
        // Sort line indices on the stack (stable: lines of one name keep their order), by the
        // names' first sixteen bytes first (one integer comparison), the whole names on a tie.
        let mut idx = [(0u128, 0u8); 64];
        let line = |i: u8| headers.line(usize::from(i)).expect("index in range");
        let mut kept = 0;
        for (i, h) in headers.iter().enumerate() {
            if !skip(&h.name) {
                idx[kept] = (name_prefix(&h.name), i as u8);
                kept += 1;
            }
        }
        let order = &mut idx[..kept];
        order.sort_by(|a, b| {
            a.0.cmp(&b.0)
                .then_with(|| line(a.1).name.cmp(&line(b.1).name))
        });
        for (_, i) in order.iter() {
            write(line(*i));
        }
        return;
    }
    let mut lines: Vec<&crate::http::Header> = headers.iter().filter(|h| !skip(&h.name)).collect();
    lines.sort_by(|a, b| a.name.cmp(&b.name));
    for h in lines {
        write(h);
    }
}

/// A name's first sixteen bytes as a big-endian integer (zero-padded): integers compare as the
/// byte strings do, up to that length. Sixteen, not eight: the `X-Forwarded-*` names the
/// proxy adds to every request share their first eleven bytes.
pub(crate) fn name_prefix(name: &str) -> u128 {
    let mut b = [0u8; 16];
    let n = name.len().min(16);
    b[..n].copy_from_slice(&name.as_bytes()[..n]);
    u128::from_be_bytes(b)
}

/// Appends one `name: value\r\n` line.
fn write_line(name: &str, value: &[u8], out: &mut Vec<u8>) {
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(b": ");
    out.extend_from_slice(value);
    out.extend_from_slice(b"\r\n");
}

/// Go's server writes the lines it adds itself after the handler's sorted headers, in this
/// order: `Date` (when the handler set none), `Content-Length`, `Connection`,
/// `Transfer-Encoding`.
fn write_server_lines(
    headers: &crate::http::Headers,
    date: &[u8],
    content_length: Option<usize>,
    content_type: Option<&str>,
    out: &mut Vec<u8>,
) {
    if !date.is_empty() && !headers.contains("Date") {
        write_line("Date", date, out);
    }
    if let Some(n) = content_length {
        write_line("Content-Length", n.to_string().as_bytes(), out);
    }
    // A guessed type (`contentType`) goes where Go's server writes the type it sniffed.
    if let Some(t) = content_type {
        write_line("Content-Type", t.as_bytes(), out);
    }
    for name in ["Connection", "Transfer-Encoding"] {
        for v in headers.get_all(name) {
            write_line(name, v, out);
        }
    }
}

fn is_server_line(name: &str) -> bool {
    name.eq_ignore_ascii_case("Connection") || name.eq_ignore_ascii_case("Transfer-Encoding")
}

/// How many bytes [`encode_request_head`] writes for `head` and `host`.
fn request_head_len(head: &RequestHead, host: &str) -> usize {
    let query = head.raw_query.as_ref().map_or(0, |q| 1 + q.len());
    let lines: usize = head
        .headers
        .iter()
        .map(|h| h.name.len() + h.value.len() + 4)
        .sum();
    // `METHOD path?query HTTP/1.1\r\nHost: host\r\n` ... `\r\n`
    head.method.len() + 1 + head.path.len() + query + 17 + host.len() + 2 + lines + 2
}

/// The line Go's transport adds after every other header when it asks for gzip itself.
const ACCEPT_GZIP: &[u8] = b"Accept-Encoding: gzip\r\n";

/// The head sent to a backend: [`encode_request_head`], with Go's transport's own
/// `Accept-Encoding: gzip` after every other line when `accept_gzip`. A head of a few lines
/// fits the first 512 bytes; a longer one (a browser's: cookies, `Sec-Fetch-*`, ...) is
/// measured first, so the buffer is not regrown while the head is written.
pub fn upstream_request_head(head: &RequestHead, host: &str, accept_gzip: bool) -> Vec<u8> {
    let capacity = if head.headers.len() <= 10 {
        512
    } else {
        (request_head_len(head, host) + ACCEPT_GZIP.len()).max(512)
    };
    let mut out = Vec::with_capacity(capacity);
    write_request_lines(head, host, &mut out);
    if accept_gzip {
        out.extend_from_slice(ACCEPT_GZIP);
    }
    out.extend_from_slice(b"\r\n");
    out
}

/// Writes a request head as Go's `Request.Write`: `METHOD target HTTP/1.1`, `Host`,
/// `User-Agent`, the framing lines (`Content-Length`, `Transfer-Encoding`), then the other
/// headers sorted.
pub fn encode_request_head(head: &RequestHead, host: &str, out: &mut Vec<u8>) {
    write_request_lines(head, host, out);
    out.extend_from_slice(b"\r\n");
}

/// [`encode_request_head`] but the empty line that ends it.
fn write_request_lines(head: &RequestHead, host: &str, out: &mut Vec<u8>) {
    out.extend_from_slice(head.method.as_bytes());
    out.push(b' ');
    out.extend_from_slice(head.path.as_bytes());
    if let Some(q) = &head.raw_query {
        out.push(b'?');
        out.extend_from_slice(q.as_bytes());
    }
    out.extend_from_slice(b" HTTP/1.1\r\nHost: ");
    out.extend_from_slice(host.as_bytes());
    out.extend_from_slice(b"\r\n");
    const FIRST: [&str; 3] = ["User-Agent", "Content-Length", "Transfer-Encoding"];
    let is_first = |n: &str| match n.len() {
        10 => n.eq_ignore_ascii_case(FIRST[0]),
        14 => n.eq_ignore_ascii_case(FIRST[1]),
        17 => n.eq_ignore_ascii_case(FIRST[2]),
        _ => false,
    };
    for name in FIRST {
        for v in head.headers.get_all(name) {
            write_line(name, v, out);
        }
    }
    write_headers(&head.headers, is_first, out);
}

/// `HTTP/1.1 200 OK\r\n` (codes are 100 to 999, so three digits).
fn write_status_line(version: &str, status: u16, reason: &str, out: &mut Vec<u8>) {
    out.extend_from_slice(version.as_bytes());
    out.push(b' ');
    if (100..1000).contains(&status) {
        // Three digits, written without the formatting machinery.
        let digits = [
            b'0' + (status / 100) as u8,
            b'0' + (status / 10 % 10) as u8,
            b'0' + (status % 10) as u8,
        ];
        out.extend_from_slice(&digits);
    } else {
        out.extend_from_slice(status.to_string().as_bytes());
    }
    out.push(b' ');
    out.extend_from_slice(reason.as_bytes());
    out.extend_from_slice(b"\r\n");
}

/// Writes a downstream response head with Go's reason phrase for the code; the version is
/// `HTTP/1.0` for HTTP/1.0 clients, `HTTP/1.1` otherwise. As Go's server: the backend's headers
/// sorted, then `Date` when the backend sent none, then `Connection` and `Transfer-Encoding`
/// (which only the proxy sets; a `101`'s `Connection: Upgrade` stays among the sorted ones).
pub fn encode_response_head(head: &ResponseHead, http10: bool, date: &[u8], out: &mut Vec<u8>) {
    encode_response_head_sized(head, http10, date, None, None, out);
}

/// [`encode_response_head`] with the server's own `Content-Length` (a length Go's server
/// computed itself: written after `Date`, not among the handler's lines).
pub fn encode_response_head_sized(
    head: &ResponseHead,
    http10: bool,
    date: &[u8],
    server_length: Option<usize>,
    sniffed: Option<&str>,
    out: &mut Vec<u8>,
) {
    let reason = reason_phrase(head.status);
    let version = if http10 { "HTTP/1.0" } else { "HTTP/1.1" };
    out.reserve(64 + head.headers.len() * 48);
    write_status_line(version, head.status, &reason, out);
    match head.status {
        101 => write_headers(&head.headers, |_| false, out),
        // Interim answers: Go's server writes the handler's lines less the framing ones, and
        // no `Date`.
        100..=199 => write_headers(&head.headers, is_framing_line, out),
        // Go's server drops the lines a message without a body must not have (and, on a 304,
        // the type).
        204 => write_headers(
            &head.headers,
            |n| is_framing_line(n) || is_server_line(n),
            out,
        ),
        304 => write_headers(
            &head.headers,
            |n| is_framing_line(n) || is_server_line(n) || n.eq_ignore_ascii_case("Content-Type"),
            out,
        ),
        _ => write_headers(&head.headers, is_server_line, out),
    }
    if head.status >= 200 {
        write_server_lines(&head.headers, date, server_length, sniffed, out);
    }
    out.extend_from_slice(b"\r\n");
}

/// `Content-Length` or `Transfer-Encoding`.
fn is_framing_line(name: &str) -> bool {
    name.eq_ignore_ascii_case("Content-Length") || name.eq_ignore_ascii_case("Transfer-Encoding")
}

/// Writes a complete local response with `Content-Length` (and `Date` when `date` is given),
/// followed by its body unless `head_request`. As Go's server: to an HTTP/1.1 client that will
/// be disconnected it says `Connection: close`; to an HTTP/1.0 client it answers `HTTP/1.0`
/// and says `Connection: keep-alive` only when the connection stays open.
pub fn encode_local_response(
    resp: &LocalResponse,
    date: &[u8],
    close: bool,
    head_request: bool,
    http10: bool,
    out: &mut Vec<u8>,
) {
    let version = if http10 { "HTTP/1.0" } else { "HTTP/1.1" };
    out.extend_from_slice(
        format!(
            "{version} {} {}\r\n",
            resp.status,
            reason_phrase(resp.status)
        )
        .as_bytes(),
    );
    let mut headers = resp.headers.clone();
    if close && !http10 {
        headers.set("Connection", "close");
    } else if !close && http10 {
        headers.set("Connection", "keep-alive");
    }
    let no_body = resp.status == 204 || resp.status == 304 || (100..200).contains(&resp.status);
    let length = (!no_body && !headers.contains("Content-Length")).then_some(resp.body.len());
    // Go's server guesses from what the handler wrote, a HEAD answer's body included.
    let sniffed =
        (resp.sniff && !no_body && !resp.body.is_empty() && !headers.contains("Content-Type"))
            .then(|| crate::http::sniff::detect_content_type(&resp.body));
    write_headers(&headers, is_server_line, out);
    write_server_lines(&headers, date, length, sniffed, out);
    out.extend_from_slice(b"\r\n");
    if !head_request && !no_body {
        out.extend_from_slice(&resp.body);
    }
}

/// Go's server's answer to an expectation other than `100-continue`: 417 with its own head
/// (`Connection` before `Date`, no body), before any handler.
pub fn encode_expectation_failed(date: &[u8], http10: bool, out: &mut Vec<u8>) {
    let version: &[u8] = if http10 { b"HTTP/1.0" } else { b"HTTP/1.1" };
    out.extend_from_slice(version);
    out.extend_from_slice(b" 417 Expectation Failed\r\nConnection: close\r\n");
    if !date.is_empty() {
        write_line("Date", date, out);
    }
    out.extend_from_slice(b"Content-Length: 0\r\n\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::{Headers, Version};

    /// The lines Go's server leaves out of answers without a body (checked against Traefik
    /// 3.7.15): 1xx lose the framing lines and get no `Date`, 204 lose the framing lines, 304
    /// also their type; a 200 keeps them all.
    #[test]
    fn bodiless_answers_lose_the_lines_go_leaves_out() {
        let mut h = Headers::new();
        for (n, v) in [
            ("Content-Type", "text/html"),
            ("Content-Length", "10"),
            ("Link", "</s.css>"),
            ("Connection", "keep-alive"),
        ] {
            h.append(n, v);
        }
        let written = |status: u16| {
            let head = ResponseHead {
                status,
                version: Version::Http11,
                headers: h.clone(),
            };
            let mut out = Vec::new();
            encode_response_head(&head, false, b"D", &mut out);
            let text = String::from_utf8(out).unwrap();
            text.split_once("\r\n").unwrap().1.to_string()
        };
        assert_eq!(
            written(103),
            "Connection: keep-alive\r\nContent-Type: text/html\r\nLink: </s.css>\r\n\r\n"
        );
        assert_eq!(
            written(204),
            "Content-Type: text/html\r\nLink: </s.css>\r\nDate: D\r\nConnection: keep-alive\r\n\r\n"
        );
        assert_eq!(
            written(304),
            "Link: </s.css>\r\nDate: D\r\nConnection: keep-alive\r\n\r\n"
        );
        assert_eq!(
            written(200),
            "Content-Length: 10\r\nContent-Type: text/html\r\nLink: </s.css>\r\nDate: D\r\nConnection: keep-alive\r\n\r\n"
        );
    }

    #[test]
    fn request_head() {
        let mut h = Headers::new();
        h.append("x-a", "1");
        let head = RequestHead {
            method: "GET".into(),
            path: "/p".into(),
            raw_query: Some("q=1".into()),
            host: "ignored".into(),
            version: Version::Http11,
            headers: h,
        };
        let mut out = Vec::new();
        encode_request_head(&head, "example.com", &mut out);
        assert_eq!(
            out,
            b"GET /p?q=1 HTTP/1.1\r\nHost: example.com\r\nX-A: 1\r\n\r\n"
        );
    }

    #[test]
    fn request_head_len_is_what_is_written_and_upstream_heads_end_with_gzip() {
        let mut h = Headers::new();
        for (name, value) in [
            ("x-a", "1"),
            ("User-Agent", "curl/8"),
            ("Content-Length", "12"),
            ("Cookie", "a=1; b=2"),
            ("Cookie", ""),
            ("Transfer-Encoding", "chunked"),
        ] {
            h.append(name, value);
            for query in [None, Some(String::new()), Some("q=1&r".to_string())] {
                let head = RequestHead {
                    method: "OPTIONS".into(),
                    path: "/a/b".into(),
                    raw_query: query,
                    host: "ignored".into(),
                    version: Version::Http11,
                    headers: h.clone(),
                };
                let mut out = Vec::new();
                encode_request_head(&head, "example.com:8080", &mut out);
                assert_eq!(request_head_len(&head, "example.com:8080"), out.len());
                // The backend's head: the same lines, Go's `Accept-Encoding: gzip` last.
                assert_eq!(upstream_request_head(&head, "example.com:8080", false), out);
                let gzip = upstream_request_head(&head, "example.com:8080", true);
                let end = out.len() - 2;
                assert_eq!(gzip[..end], out[..end]);
                assert_eq!(&gzip[end..], b"Accept-Encoding: gzip\r\n\r\n");
            }
        }
    }

    #[test]
    fn local_response() {
        let mut out = Vec::new();
        encode_local_response(
            &LocalResponse::go_error(404, "404 page not found"),
            b"D",
            true,
            false,
            false,
            &mut out,
        );
        // Traefik 3.7.15's bytes: the handler's headers sorted, then Date, Content-Length,
        // Connection.
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "HTTP/1.1 404 Not Found\r\nContent-Type: text/plain; charset=utf-8\r\nX-Content-Type-Options: nosniff\r\nDate: D\r\nContent-Length: 19\r\nConnection: close\r\n\r\n404 page not found\n"
        );
    }

    #[test]
    fn proxied_response_head_adds_date_and_framing_last() {
        let mut head = ResponseHead {
            status: 200,
            version: Version::Http11,
            headers: Headers::new(),
        };
        head.headers.append("Z-Last", "1");
        head.headers.append("Transfer-Encoding", "chunked");
        head.headers.append("Connection", "close");
        head.headers.append("A-First", "1");
        let mut out = Vec::new();
        encode_response_head(&head, false, b"D", &mut out);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "HTTP/1.1 200 OK\r\nA-First: 1\r\nZ-Last: 1\r\nDate: D\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\n"
        );
        head.headers.append("Date", "backend");
        let mut out = Vec::new();
        encode_response_head(&head, false, b"D", &mut out);
        assert!(String::from_utf8(out)
            .unwrap()
            .contains("\r\nDate: backend\r\nZ-Last: 1\r\nConnection"));
    }

    #[test]
    fn request_head_writes_user_agent_and_framing_first() {
        let mut h = Headers::new();
        h.append("Accept", "*/*");
        h.append("Content-Length", "3");
        h.append("User-Agent", "curl");
        let head = RequestHead {
            method: "POST".into(),
            path: "/".into(),
            raw_query: None,
            host: "h".into(),
            version: Version::Http11,
            headers: h,
        };
        let mut out = Vec::new();
        encode_request_head(&head, "h", &mut out);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "POST / HTTP/1.1\r\nHost: h\r\nUser-Agent: curl\r\nContent-Length: 3\r\nAccept: */*\r\n\r\n"
        );
    }
}
