//! Writing message heads: the request sent upstream and the response sent downstream.

use crate::http::{status_text, LocalResponse, RequestHead, ResponseHead};

/// Appends `name: value\r\n` for every header line, sorted by name as Go's `Header.Write`
/// does (lines of one name keep their order).
fn write_headers(headers: &crate::http::Headers, out: &mut Vec<u8>) {
    let mut write = |h: &crate::http::Header| {
        out.extend_from_slice(h.name.as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(&h.value);
        out.extend_from_slice(b"\r\n");
    };
    let n = headers.len();
    if n <= 64 {
        // Sort line indices on the stack (stable: lines of one name keep their order).
        let mut idx = [0u8; 64];
        for (i, slot) in idx.iter_mut().enumerate().take(n) {
            *slot = i as u8;
        }
        let line = |i: u8| headers.line(usize::from(i)).expect("index in range");
        let order = &mut idx[..n];
        order.sort_by(|a, b| line(*a).name.cmp(&line(*b).name));
        for i in order.iter() {
            write(line(*i));
        }
        return;
    }
    let mut lines: Vec<&crate::http::Header> = headers.iter().collect();
    lines.sort_by(|a, b| a.name.cmp(&b.name));
    for h in lines {
        write(h);
    }
}

/// Writes an upstream request head: `METHOD target HTTP/1.1`, `Host`, then the headers.
pub fn encode_request_head(head: &RequestHead, host: &str, out: &mut Vec<u8>) {
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
    write_headers(&head.headers, out);
    out.extend_from_slice(b"\r\n");
}

/// Writes a downstream response head with Go's reason phrase for the code; the version is
/// `HTTP/1.0` for HTTP/1.0 clients, `HTTP/1.1` otherwise.
pub fn encode_response_head(head: &ResponseHead, http10: bool, out: &mut Vec<u8>) {
    let reason = status_text(head.status);
    let version = if http10 { "HTTP/1.0" } else { "HTTP/1.1" };
    out.reserve(64 + head.headers.len() * 48);
    out.extend_from_slice(format!("{version} {} {}\r\n", head.status, reason).as_bytes());
    write_headers(&head.headers, out);
    out.extend_from_slice(b"\r\n");
}

/// Writes a complete local response with `Content-Length` (and `Date` when `date` is given),
/// followed by its body unless `head_request`. As Go's server: to an HTTP/1.1 client that will
/// be disconnected it says `Connection: close`; to an HTTP/1.0 client it answers `HTTP/1.0`
/// and says `Connection: keep-alive` only when the connection stays open.
pub fn encode_local_response(
    resp: &LocalResponse,
    date: &str,
    close: bool,
    head_request: bool,
    http10: bool,
    out: &mut Vec<u8>,
) {
    let version = if http10 { "HTTP/1.0" } else { "HTTP/1.1" };
    out.extend_from_slice(
        format!("{version} {} {}\r\n", resp.status, status_text(resp.status)).as_bytes(),
    );
    let mut headers = resp.headers.clone();
    if close && !http10 {
        headers.set("Connection", "close");
    } else if !close && http10 {
        headers.set("Connection", "keep-alive");
    }
    let no_body = resp.status == 204 || resp.status == 304 || (100..200).contains(&resp.status);
    if !no_body {
        headers.set("Content-Length", resp.body.len().to_string());
    }
    if !date.is_empty() && !headers.contains("Date") {
        headers.set("Date", date);
    }
    write_headers(&headers, out);
    out.extend_from_slice(b"\r\n");
    if !head_request && !no_body {
        out.extend_from_slice(&resp.body);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::{Headers, Version};

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
    fn local_response() {
        let mut out = Vec::new();
        encode_local_response(
            &LocalResponse::go_error(404, "404 page not found"),
            "",
            false,
            false,
            false,
            &mut out,
        );
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "HTTP/1.1 404 Not Found\r\nContent-Length: 19\r\nContent-Type: text/plain; charset=utf-8\r\nX-Content-Type-Options: nosniff\r\n\r\n404 page not found\n"
        );
    }
}
