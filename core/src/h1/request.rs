//! Strict HTTP/1.1 request-head parsing (RFC 9112), on top of `httparse`, with the extra checks
//! that keep a proxy from forwarding an ambiguous message: bare LF, CL+TE, invalid or
//! conflicting Content-Length, any Transfer-Encoding but `chunked`, missing or repeated Host.
//! Errors carry the exact answer Go's `net/http` server (and so Traefik) gives.

use super::framing_lines::FramingLines;
use crate::http::{Headers, RequestHead, Version};

/// How the request body is delimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestBody {
    /// No body.
    None,
    /// Exactly this many bytes.
    Length(u64),
    /// Chunked transfer coding.
    Chunked,
}

/// A parsed request head and what the connection layer needs to know about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedRequest {
    /// The head, with `Host` moved into `head.host`.
    pub head: RequestHead,
    /// Body framing.
    pub body: RequestBody,
    /// Whether the connection may carry another request after this one.
    pub keep_alive: bool,
    /// `Expect: 100-continue` (HTTP/1.1).
    pub expect_continue: bool,
    /// An expectation other than `100-continue`, which Go's server refuses with 417 before
    /// any handler.
    pub expectation_failed: bool,
    /// The request asks for a protocol upgrade (`Connection: Upgrade` + `Upgrade`).
    pub upgrade: bool,
    /// The request target was in absolute form (`http://host/path`).
    pub absolute_form: bool,
    /// The request target as received, when it was in absolute form.
    pub absolute_target: Option<String>,
}

/// Why a request head was refused, with Go's response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestError {
    /// Status code (400, 431, 501, 505).
    pub status: u16,
    /// The status line's text after the code, as Go writes it (`Bad Request: missing required
    /// Host header`); also the body after the code.
    pub text: String,
}

impl RequestError {
    fn bad(detail: &str) -> Self {
        let text = if detail.is_empty() {
            "Bad Request".to_string()
        } else {
            format!("Bad Request: {detail}")
        };
        RequestError { status: 400, text }
    }

    /// The raw response Go's server writes for this error, then closes the connection.
    pub fn to_bytes(&self) -> Vec<u8> {
        format!(
            "HTTP/1.1 {code} {text}\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n{code} {text}",
            code = self.status,
            text = self.text
        )
        .into_bytes()
    }
}

/// Limits applied while parsing.
#[derive(Debug, Clone, Copy)]
pub struct RequestLimits {
    /// `entryPoints.<name>.http.maxHeaderBytes` (Go adds 4096 bytes of slack).
    pub max_header_bytes: usize,
}

impl Default for RequestLimits {
    fn default() -> Self {
        RequestLimits {
            max_header_bytes: 1 << 20,
        }
    }
}

const MAX_HEADERS: usize = 512;

/// Parses a request head from the start of `buf`. `Ok(None)` means more bytes are needed;
/// `Ok(Some((req, n)))` consumed `n` bytes.
pub fn parse_request(
    buf: &[u8],
    limits: &RequestLimits,
) -> Result<Option<(ParsedRequest, usize)>, RequestError> {
    let limit = limits.max_header_bytes + 4096;
    // Go skips empty lines before a request line.
    let lead = buf
        .iter()
        .take_while(|b| **b == b'\r' || **b == b'\n')
        .count();
    let data = &buf[lead..];
    let end = match scan_head(data) {
        Ok(Some(end)) => end,
        Ok(None) if data.len() > limit => return Err(too_large()),
        Ok(None) => return Ok(None),
        // A bare CR or LF anywhere already seen is fatal, whatever comes later; but a head (or
        // what has come of one) over the limit is refused for its size first.
        Err(BareLineEnding) if data.len() <= limit => return Err(RequestError::bad("")),
        Err(BareLineEnding) => {
            return Err(match memchr::memmem::find(data, b"\r\n\r\n") {
                Some(i) if i + 4 <= limit => RequestError::bad(""),
                _ => too_large(),
            })
        }
    };
    if end > limit {
        return Err(too_large());
    }
    // The head is copied once and parsed from the copy: every header value is a slice of it.
    let shared = crate::http::head_copy(&data[..end]);
    let head_bytes = &shared[..];
    // Left uninitialised: httparse writes only the lines it finds (zeroing 512 slots cost more
    // than parsing a typical head).
    let mut storage =
        [const { std::mem::MaybeUninit::<httparse::Header<'_>>::uninit() }; MAX_HEADERS];
    let mut req = httparse::Request::new(&mut []);
    match req.parse_with_uninit_headers(head_bytes, &mut storage) {
        Ok(httparse::Status::Complete(_)) => {}
        Ok(httparse::Status::Partial) => return Err(RequestError::bad("")),
        Err(httparse::Error::Version) => return Err(version_error(head_bytes)),
        Err(httparse::Error::TooManyHeaders) => return Err(too_large()),
        Err(_) => return Err(RequestError::bad("")),
    }
    let method = crate::http::method(req.method.unwrap_or_default());
    let version = if req.version == Some(0) {
        Version::Http10
    } else {
        Version::Http11
    };
    let target = req.path.unwrap_or_default();
    let mut headers = Headers::with_capacity(req.headers.len() + 8);
    // The first two `Host` lines (a second is already an error): no list to allocate.
    let mut hosts: [&[u8]; 2] = [&[], &[]];
    let mut host_lines = 0;
    // httparse refuses control bytes in values (NUL, CR and LF among them; tab aside):
    // `control_bytes_in_values_are_refused`.
    for h in req.headers.iter() {
        if h.name.eq_ignore_ascii_case("host") {
            if host_lines < hosts.len() {
                hosts[host_lines] = h.value;
            }
            host_lines += 1;
            continue;
        }
        headers.append_shared(h.name, shared.slice_ref(h.value.trim_ascii()));
    }
    let consumed = lead + end;
    let parsed = finish(
        method,
        version,
        target,
        headers,
        &hosts[..host_lines.min(hosts.len())],
    )?;
    Ok(Some((parsed, consumed)))
}

fn too_large() -> RequestError {
    RequestError {
        status: 431,
        text: "Request Header Fields Too Large".into(),
    }
}

fn version_error(head: &[u8]) -> RequestError {
    // A well-formed `HTTP/x.y` that is not 1.0/1.1 is 505; anything else is 400.
    let line_end = head.iter().position(|b| *b == b'\r').unwrap_or(head.len());
    let line = &head[..line_end];
    let proto = line.rsplit(|b| *b == b' ').next().unwrap_or_default();
    let well_formed = proto.len() == 8
        && proto.starts_with(b"HTTP/")
        && proto[5].is_ascii_digit()
        && proto[6] == b'.'
        && proto[7].is_ascii_digit();
    if well_formed {
        RequestError {
            status: 505,
            text: "HTTP Version Not Supported".into(),
        }
    } else {
        RequestError::bad("")
    }
}

/// A CR not followed by LF, or an LF not after a CR, in a request head.
struct BareLineEnding;

/// Where the head ends (just past its `\r\n\r\n`), `None` when that has not come yet, found
/// in the same pass that checks line endings: every LF must follow a CR, and every CR precede an
/// LF (one that is the last byte so far may still get it).
fn scan_head(data: &[u8]) -> Result<Option<usize>, BareLineEnding> {
    for i in memchr::memchr2_iter(b'\r', b'\n', data) {
        if data[i] == b'\n' {
            if i == 0 || data[i - 1] != b'\r' {
                return Err(BareLineEnding);
            }
            if i >= 3 && data[i - 3] == b'\r' && data[i - 2] == b'\n' {
                return Ok(Some(i + 1));
            }
        } else if i + 1 < data.len() && data[i + 1] != b'\n' {
            return Err(BareLineEnding);
        }
    }
    Ok(None)
}

/// Whether every `%` in `path` starts an escape of two hex digits.
fn valid_escapes(path: &str) -> bool {
    let b = path.as_bytes();
    memchr::memchr_iter(b'%', b)
        .all(|i| b.len() > i + 2 && b[i + 1].is_ascii_hexdigit() && b[i + 2].is_ascii_hexdigit())
}

fn valid_host(h: &[u8]) -> bool {
    // Go's httpguts.ValidHostHeader: a permissive set of URL and IPv6 bytes.
    h.iter()
        .all(|b| b.is_ascii_alphanumeric() || b"!$%&'()*+,-.:;=[]_~@".contains(b) || *b >= 0x80)
}

pub(crate) fn finish(
    method: crate::http::Method,
    version: Version,
    target: &str,
    mut headers: Headers,
    hosts: &[&[u8]],
) -> Result<ParsedRequest, RequestError> {
    if hosts.len() > 1 {
        // Go answers a plain 400 here (its error is not a badRequestError).
        return Err(RequestError::bad(""));
    }
    let mut host = match hosts.first() {
        Some(h) => {
            let h = h.trim_ascii();
            if !valid_host(h) {
                return Err(RequestError::bad("malformed Host header"));
            }
            String::from_utf8_lossy(h).into_owned()
        }
        None if version == Version::Http11 => {
            return Err(RequestError::bad("missing required Host header"))
        }
        None => String::new(),
    };
    // Request target: origin form, absolute form, asterisk (OPTIONS), authority (CONNECT).
    let mut absolute_form = false;
    let (path, raw_query) = if target.starts_with('/') {
        split_query(target)
    } else if let Some(rest) = target
        .strip_prefix("http://")
        .or_else(|| target.strip_prefix("https://"))
        .or_else(|| target.strip_prefix("HTTP://"))
        .or_else(|| target.strip_prefix("HTTPS://"))
    {
        absolute_form = true;
        let slash = rest.find(['/', '?']).unwrap_or(rest.len());
        let authority = &rest[..slash];
        // Go's URL parsing drops userinfo; an empty host keeps the Host header.
        let authority = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
        if !authority.is_empty() {
            if !valid_host(authority.as_bytes()) {
                return Err(RequestError::bad("malformed Host header"));
            }
            host = authority.to_string();
        }
        let (p, q) = split_query(&rest[slash..]);
        (if p.is_empty() { "/".to_string() } else { p }, q)
    } else if target == "*" {
        // Go's request-target parser takes `*` with any method (`OPTIONS *` is then answered
        // by its server, anything else is routed with the path `*`).
        ("*".to_string(), None)
    } else if method == "CONNECT" {
        (target.to_string(), None)
    } else {
        return Err(RequestError::bad(""));
    };
    // Go's URL parser refuses a path with a `%` that does not start two hex digits (the query
    // is not checked): its plain 400, before any routing.
    if !valid_escapes(&path) {
        return Err(RequestError::bad(""));
    }
    // Body framing.
    let lines = FramingLines::of(&headers);
    let mut one_length = None;
    let body = if lines.transfer_encodings > 0 {
        if lines.transfer_encodings > 1
            || !lines
                .transfer_encoding
                .trim_ascii()
                .eq_ignore_ascii_case(b"chunked")
        {
            return Err(RequestError {
                status: 501,
                text: "Not Implemented".into(),
            });
        }
        if lines.content_lengths > 0 || version == Version::Http10 {
            return Err(RequestError::bad(""));
        }
        RequestBody::Chunked
    } else if lines.content_lengths > 0 {
        if lines.content_lengths_differ {
            return Err(RequestError::bad(""));
        }
        let first = lines.content_length;
        let n = parse_content_length(first).ok_or_else(|| RequestError::bad(""))?;
        if lines.content_lengths > 1 || (first.len() > 1 && first[0] == b'0') {
            // Repeated equal lines are sent on as one, and leading zeros dropped: Go's
            // transport writes the length it parsed.
            one_length = Some(n.to_string().into_bytes());
        }
        if n == 0 {
            RequestBody::None
        } else {
            RequestBody::Length(n)
        }
    } else {
        RequestBody::None
    };
    let keep_alive = match version {
        Version::Http11 => !lines.close,
        Version::Http10 => lines.keep_alive && !lines.close,
    };
    let expect_continue = version == Version::Http11 && lines.expect_continue;
    let upgrade = lines.upgrade_token && lines.upgrade;
    let expectation_failed = lines.expect_other;
    if let Some(v) = one_length {
        headers.set("Content-Length", v);
    }
    Ok(ParsedRequest {
        head: RequestHead {
            method,
            path,
            raw_query,
            host,
            version,
            headers,
        },
        body,
        keep_alive,
        expect_continue,
        expectation_failed,
        upgrade,
        absolute_form,
        absolute_target: absolute_form.then(|| target.to_string()),
    })
}

fn split_query(target: &str) -> (String, Option<String>) {
    match target.split_once('?') {
        Some((p, q)) => (p.to_string(), Some(q.to_string())),
        None => (target.to_string(), None),
    }
}

/// A Content-Length value: 1*DIGIT, no sign, no spaces, fits in 63 bits.
pub fn parse_content_length(v: &[u8]) -> Option<u64> {
    if v.is_empty() || v.len() > 18 || !v.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(v).ok()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Result<Option<(ParsedRequest, usize)>, RequestError> {
        parse_request(s.as_bytes(), &RequestLimits::default())
    }

    fn ok(s: &str) -> ParsedRequest {
        parse(s).unwrap().unwrap().0
    }

    /// `Expect` read as Go reads it: the first line's token list names `100-continue` (that
    /// is waited for only in HTTP/1.1), or, when not empty, it is an expectation Go refuses.
    #[test]
    fn expectations() {
        let e = |v: &str, version: &str| {
            let r = ok(&format!(
                "POST / {version}\r\nHost: a\r\nExpect: {v}\r\nContent-Length: 1\r\n\r\n"
            ));
            (r.expect_continue, r.expectation_failed)
        };
        assert_eq!(e("100-Continue", "HTTP/1.1"), (true, false));
        assert_eq!(e("foo, 100-continue", "HTTP/1.1"), (true, false));
        assert_eq!(e("100-continue", "HTTP/1.0"), (false, false));
        assert_eq!(e("foo", "HTTP/1.1"), (false, true));
        assert_eq!(e("foo", "HTTP/1.0"), (false, true));
        assert_eq!(e("", "HTTP/1.1"), (false, false));
        let r = ok("POST / HTTP/1.1\r\nHost: a\r\nExpect: x\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\n");
        assert!(r.expectation_failed && !r.expect_continue);
    }

    /// A `%` in the path must start two hex digits (Go's URL parser); the query is not
    /// checked, and `*` is a target for any method.
    #[test]
    fn path_escapes_and_the_asterisk_form() {
        for bad in ["/%zz", "/a%2", "/a%", "/%g0/x?q=1", "http://h/a%2x"] {
            let e = parse(&format!("GET {bad} HTTP/1.1\r\nHost: h\r\n\r\n")).unwrap_err();
            assert_eq!(e.status, 400, "{bad}");
        }
        for good in ["/%41%2f%2F", "/p?x=%zz", "/100%25"] {
            ok(&format!("GET {good} HTTP/1.1\r\nHost: h\r\n\r\n"));
        }
        for m in ["OPTIONS", "GET", "HEAD"] {
            assert_eq!(
                ok(&format!("{m} * HTTP/1.1\r\nHost: h\r\n\r\n")).head.path,
                "*"
            );
        }
        assert_eq!(
            parse("OPTIONS *?x HTTP/1.1\r\nHost: h\r\n\r\n")
                .unwrap_err()
                .status,
            400
        );
    }

    fn status(s: &str) -> u16 {
        parse(s).unwrap_err().status
    }

    #[test]
    fn simple_get() {
        let r = ok("GET /a/b?x=1 HTTP/1.1\r\nHost: example.com\r\nx-foo: bar \r\n\r\n");
        assert_eq!(r.head.path, "/a/b");
        assert_eq!(r.head.raw_query.as_deref(), Some("x=1"));
        assert_eq!(r.head.host, "example.com");
        assert_eq!(r.head.headers.get("X-Foo"), Some(&b"bar"[..]));
        assert_eq!(r.head.headers.iter().next().unwrap().name, "X-Foo");
        assert!(r.keep_alive && r.body == RequestBody::None);
    }

    /// No header value the parser accepts holds a control byte (tab aside): a request with
    /// one is a 400, and values are relayed without another look at their bytes.
    #[test]
    fn control_bytes_in_values_are_refused() {
        for b in (0u8..0x20).filter(|b| *b != b'\t').chain([0x7f]) {
            let head = [
                &b"GET / HTTP/1.1\r\nHost: a\r\nX: a"[..],
                &[b],
                b"b\r\n\r\n",
            ]
            .concat();
            let err = parse_request(&head, &RequestLimits::default()).unwrap_err();
            assert_eq!(err.status, 400, "byte {b:#x}");
        }
        let r = ok("GET / HTTP/1.1\r\nHost: a\r\nX: a\tb\r\n\r\n");
        assert_eq!(r.head.headers.get("X"), Some(&b"a\tb"[..]));
    }

    #[test]
    fn partial_heads_wait() {
        assert!(parse("GET / HTTP/1.1\r\nHost: a\r\n").unwrap().is_none());
    }

    #[test]
    fn framing() {
        assert_eq!(
            ok("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\n").body,
            RequestBody::Length(5)
        );
        assert_eq!(
            ok("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n").body,
            RequestBody::Chunked
        );
        assert_eq!(
            ok("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n").body,
            RequestBody::Length(5)
        );
    }

    #[test]
    fn connection_expect_and_upgrade_lines() {
        // `Connection` tokens from every line, any case, spaces around commas.
        assert!(ok("GET / HTTP/1.1\r\nHost: a\r\n\r\n").keep_alive);
        assert!(
            !ok("GET / HTTP/1.1\r\nHost: a\r\nConnection: te\r\nConnection: foo , CLOSE\r\n\r\n")
                .keep_alive
        );
        assert!(!ok("GET / HTTP/1.0\r\n\r\n").keep_alive);
        assert!(ok("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n").keep_alive);
        assert!(!ok("GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n").keep_alive);
        // An upgrade needs the token and an `Upgrade` line.
        assert!(ok("GET / HTTP/1.1\r\nHost: a\r\nConnection: keep-alive, Upgrade\r\nUpgrade: websocket\r\n\r\n").upgrade);
        assert!(!ok("GET / HTTP/1.1\r\nHost: a\r\nConnection: upgrade\r\n\r\n").upgrade);
        assert!(!ok("GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\n\r\n").upgrade);
        // Only the first `Expect` line counts, and only from HTTP/1.1 clients.
        assert!(ok("POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-Continue\r\nExpect: x\r\nContent-Length: 1\r\n\r\n").expect_continue);
        assert!(!ok("POST / HTTP/1.1\r\nHost: a\r\nExpect: x\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\n").expect_continue);
        assert!(
            !ok("POST / HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\n")
                .expect_continue
        );
        // Equal repeated lengths go on as one line.
        let r =
            ok("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\ncontent-length:  5 \r\n\r\n");
        assert_eq!(
            r.head.headers.get_all("Content-Length").collect::<Vec<_>>(),
            [&b"5"[..]]
        );
    }

    #[test]
    fn smuggling_classes_are_refused() {
        assert_eq!(status("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n"), 400);
        assert_eq!(
            status("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n"),
            400
        );
        assert_eq!(
            status("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +5\r\n\r\n"),
            400
        );
        assert_eq!(
            status("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 5\r\n\r\n"),
            400
        );
        assert_eq!(
            status("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: identity, chunked\r\n\r\n"),
            501
        );
        assert_eq!(
            status("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding : chunked\r\n\r\n"),
            400
        );
        assert_eq!(
            status("GET / HTTP/1.1\r\nHost: a\r\nX: a\r\n b\r\n\r\n"),
            400
        );
        assert_eq!(status("GET / HTTP/1.1\nHost: a\n\n"), 400);
        assert_eq!(status("GET / HTTP/1.1\r\nHost: a\r\nX: a\rb\r\n\r\n"), 400);
        assert_eq!(status("GET / HTTP/1.1\r\n\r\n"), 400);
        assert_eq!(status("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"), 400);
        assert_eq!(status("GET /\r\n\r\n"), 400);
        assert_eq!(status("GET / HTTP/1.2\r\nHost: a\r\n\r\n"), 505);
        assert_eq!(status("GET  / HTTP/1.1\r\nHost: a\r\n\r\n"), 400);
        assert_eq!(
            status("GET / HTTP/1.1\r\nHost: a\r\nBad Name: x\r\n\r\n"),
            400
        );
    }

    #[test]
    fn go_error_bytes() {
        let e = parse("GET / HTTP/1.1\r\n\r\n").unwrap_err();
        assert_eq!(
            String::from_utf8(e.to_bytes()).unwrap(),
            "HTTP/1.1 400 Bad Request: missing required Host header\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n400 Bad Request: missing required Host header"
        );
    }

    #[test]
    fn absolute_form_overrides_host() {
        let r = ok("GET http://other.example:8080/p?q HTTP/1.1\r\nHost: a\r\n\r\n");
        assert_eq!(
            (r.head.host.as_str(), r.head.path.as_str()),
            ("other.example:8080", "/p")
        );
        assert!(r.absolute_form);
        let r = ok("GET http://@/ HTTP/1.1\r\nHost: example.com\r\n\r\n");
        assert_eq!(r.head.host, "example.com");
    }

    #[test]
    fn line_endings_are_checked_up_to_the_end_of_the_head() {
        // A bare LF or CR is refused as soon as it is seen, before the head is complete.
        assert_eq!(status("GET / HTTP/1.1\nHost: a\r\n"), 400);
        assert_eq!(status("GET / HTTP/1.1\r\nHost: a\rX"), 400);
        assert_eq!(status("GET / HTTP/1.1\r\nHost: a\r\n\n"), 400);
        assert_eq!(status("GET / HTTP/1.1\r\nHost: a\r\r\n\r\n"), 400);
        // A CR that is the last byte so far may still get its LF.
        assert!(parse("GET / HTTP/1.1\r\nHost: a\r").unwrap().is_none());
        assert!(parse("GET / HTTP/1.1\r\nHost: a\r\n\r").unwrap().is_none());
        // What follows the head is the body's (or the next request's), not checked here.
        let (r, n) = parse("GET / HTTP/1.1\r\nHost: a\r\n\r\nGET\n\r\r")
            .unwrap()
            .unwrap();
        assert_eq!((r.head.host.as_str(), n), ("a", 27));
        // Empty lines before the request line are skipped, as Go does.
        assert_eq!(
            parse("\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n")
                .unwrap()
                .unwrap()
                .1,
            31
        );
    }

    #[test]
    fn size_is_refused_before_line_endings() {
        let limits = RequestLimits {
            max_header_bytes: 16,
        };
        let pad = "a".repeat(5000);
        // Over the limit with a bare LF in it, complete or not: 431, as before the scan was one pass.
        let complete = format!("GET / HTTP/1.1\nHost: a\r\nX: {pad}\r\n\r\n");
        let partial = format!("GET / HTTP/1.1\nHost: a\r\nX: {pad}");
        for head in [complete, partial] {
            assert_eq!(
                parse_request(head.as_bytes(), &limits).unwrap_err().status,
                431
            );
        }
        // A bare LF in a head under the limit is 400, even with more bytes after the head.
        let after = format!("GET / HTTP/1.1\nHost: a\r\n\r\n{pad}");
        assert_eq!(
            parse_request(after.as_bytes(), &limits).unwrap_err().status,
            400
        );
    }

    #[test]
    fn oversized_heads_are_431() {
        let limits = RequestLimits {
            max_header_bytes: 16,
        };
        let big = format!(
            "GET / HTTP/1.1\r\nHost: a\r\nX: {}\r\n\r\n",
            "a".repeat(5000)
        );
        assert_eq!(
            parse_request(big.as_bytes(), &limits).unwrap_err().status,
            431
        );
    }
}
