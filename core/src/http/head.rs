//! Request and response heads as the proxy pipeline (router, middlewares, forwarding) sees them.

use super::headers::Headers;

/// The HTTP version of a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    /// HTTP/1.0
    Http10,
    /// HTTP/1.1
    Http11,
}

impl Version {
    /// `HTTP/1.0` or `HTTP/1.1`.
    pub fn as_str(self) -> &'static str {
        match self {
            Version::Http10 => "HTTP/1.0",
            Version::Http11 => "HTTP/1.1",
        }
    }
}

/// A request method: the standard ones as static text (no allocation per request), any other
/// as received.
pub type Method = std::borrow::Cow<'static, str>;

/// The method named `name`: a standard method's static text, else a copy of `name`.
pub fn method(name: &str) -> Method {
    const STANDARD: [&str; 9] = [
        "GET", "POST", "HEAD", "PUT", "DELETE", "OPTIONS", "PATCH", "CONNECT", "TRACE",
    ];
    match STANDARD.iter().find(|m| **m == name) {
        Some(m) => Method::Borrowed(m),
        None => Method::Owned(name.to_string()),
    }
}

/// A request head. `path` and `raw_query` are the request target split at the first `?`, still
/// percent-encoded, after the entry point's normalisation; middlewares rewrite them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestHead {
    /// The method, as received.
    pub method: Method,
    /// The raw path (`/a%2Fb`), never empty for origin-form requests.
    pub path: String,
    /// The raw query without `?` (`None` when the target had no `?`).
    pub raw_query: Option<String>,
    /// Go's `req.Host`: the Host header, or the authority of an absolute-form target.
    pub host: String,
    /// The version.
    pub version: Version,
    /// Header lines (the `Host` header is not among them; see `host`).
    pub headers: Headers,
}

impl RequestHead {
    /// The request target as sent upstream: path, then `?query` when present.
    pub fn target(&self) -> String {
        match &self.raw_query {
            Some(q) => format!("{}?{}", self.path, q),
            None => self.path.clone(),
        }
    }
}

/// A response head. The backend's reason phrase is not kept: Go (and so Traefik) writes
/// its own text for the code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResponseHead {
    /// The status code.
    pub status: u16,
    /// The version.
    pub version: Version,
    /// Header lines.
    pub headers: Headers,
}

/// The reason phrase of a status code as Go's `http.StatusText`, plus Traefik's own
/// `499 Client Closed Request`; empty for other codes.
pub fn status_text(code: u16) -> &'static str {
    match code {
        499 => "Client Closed Request",
        c => go_status_text(c),
    }
}

/// The reason phrase Go's server writes in a status line: the status text, or
/// `status code <n>` for a code it has none for.
pub fn reason_phrase(code: u16) -> std::borrow::Cow<'static, str> {
    match go_status_text(code) {
        "" => std::borrow::Cow::Owned(format!("status code {code}")),
        t => std::borrow::Cow::Borrowed(t),
    }
}

/// Go's `http.StatusText` for every code it knows ("" otherwise).
pub fn go_status_text(code: u16) -> &'static str {
    const TEXTS: &[(u16, &str)] = &[
        (100, "Continue"),
        (101, "Switching Protocols"),
        (102, "Processing"),
        (103, "Early Hints"),
        (200, "OK"),
        (201, "Created"),
        (202, "Accepted"),
        (203, "Non-Authoritative Information"),
        (204, "No Content"),
        (205, "Reset Content"),
        (206, "Partial Content"),
        (207, "Multi-Status"),
        (208, "Already Reported"),
        (226, "IM Used"),
        (300, "Multiple Choices"),
        (301, "Moved Permanently"),
        (302, "Found"),
        (303, "See Other"),
        (304, "Not Modified"),
        (305, "Use Proxy"),
        (307, "Temporary Redirect"),
        (308, "Permanent Redirect"),
        (400, "Bad Request"),
        (401, "Unauthorized"),
        (402, "Payment Required"),
        (403, "Forbidden"),
        (404, "Not Found"),
        (405, "Method Not Allowed"),
        (406, "Not Acceptable"),
        (407, "Proxy Authentication Required"),
        (408, "Request Timeout"),
        (409, "Conflict"),
        (410, "Gone"),
        (411, "Length Required"),
        (412, "Precondition Failed"),
        (413, "Request Entity Too Large"),
        (414, "Request URI Too Long"),
        (415, "Unsupported Media Type"),
        (416, "Requested Range Not Satisfiable"),
        (417, "Expectation Failed"),
        (418, "I'm a teapot"),
        (421, "Misdirected Request"),
        (422, "Unprocessable Entity"),
        (423, "Locked"),
        (424, "Failed Dependency"),
        (425, "Too Early"),
        (426, "Upgrade Required"),
        (428, "Precondition Required"),
        (429, "Too Many Requests"),
        (431, "Request Header Fields Too Large"),
        (451, "Unavailable For Legal Reasons"),
        (500, "Internal Server Error"),
        (501, "Not Implemented"),
        (502, "Bad Gateway"),
        (503, "Service Unavailable"),
        (504, "Gateway Timeout"),
        (505, "HTTP Version Not Supported"),
        (506, "Variant Also Negotiates"),
        (507, "Insufficient Storage"),
        (508, "Loop Detected"),
        (510, "Not Extended"),
        (511, "Network Authentication Required"),
    ];
    TEXTS
        .iter()
        .find(|(c, _)| *c == code)
        .map_or("", |(_, t)| t)
}

/// A complete response produced by TrafficCop itself (an error page, a redirect, ping).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalResponse {
    /// Status code.
    pub status: u16,
    /// Headers to send (Content-Length is added when writing).
    pub headers: Headers,
    /// The body.
    pub body: Vec<u8>,
    /// Without a `Content-Type`, the body's guessed type is sent (a `contentType` middleware
    /// was before whatever answered), where Go's server writes it.
    pub sniff: bool,
}

impl LocalResponse {
    /// A response with no header and `body`.
    pub fn new(status: u16, body: impl Into<Vec<u8>>) -> Self {
        LocalResponse {
            status,
            headers: Headers::new(),
            body: body.into(),
            sniff: false,
        }
    }

    /// Go's `http.Error(w, text, status)`: `text` plus a newline, with
    /// `Content-Type: text/plain; charset=utf-8` and `X-Content-Type-Options: nosniff`.
    pub fn go_error(status: u16, text: &str) -> Self {
        let mut r = LocalResponse::new(status, format!("{text}\n"));
        r.headers.set("Content-Type", "text/plain; charset=utf-8");
        r.headers.set("X-Content-Type-Options", "nosniff");
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standard_methods_are_static_and_others_kept_as_received() {
        for m in [
            "GET", "POST", "HEAD", "PUT", "DELETE", "OPTIONS", "PATCH", "CONNECT", "TRACE",
        ] {
            assert!(matches!(method(m), Method::Borrowed(s) if s == m), "{m}");
        }
        // Methods are case-sensitive: `get` is not `GET`.
        for m in ["get", "PROPFIND", "BREW"] {
            assert!(matches!(method(m), Method::Owned(s) if s == m), "{m}");
        }
    }

    #[test]
    fn reason_phrases_as_go_writes_them() {
        assert_eq!(reason_phrase(409), "Conflict");
        assert_eq!(reason_phrase(103), "Early Hints");
        assert_eq!(reason_phrase(511), "Network Authentication Required");
        assert_eq!(reason_phrase(299), "status code 299");
        assert_eq!(status_text(499), "Client Closed Request");
        assert_eq!(go_status_text(499), "");
    }
}
