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

/// A request head. `path` and `raw_query` are the request target split at the first `?`, still
/// percent-encoded, after the entry point's normalisation; middlewares rewrite them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestHead {
    /// The method, as received.
    pub method: String,
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

/// A response head.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResponseHead {
    /// The status code.
    pub status: u16,
    /// The reason phrase as received (Traefik sends Go's standard text for its own answers).
    pub reason: String,
    /// The version.
    pub version: Version,
    /// Header lines.
    pub headers: Headers,
}

/// Go's `http.StatusText`, for the codes TrafficCop produces or relays.
pub fn status_text(code: u16) -> &'static str {
    match code {
        100 => "Continue",
        101 => "Switching Protocols",
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        204 => "No Content",
        206 => "Partial Content",
        301 => "Moved Permanently",
        302 => "Found",
        303 => "See Other",
        304 => "Not Modified",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        411 => "Length Required",
        413 => "Request Entity Too Large",
        414 => "Request URI Too Long",
        417 => "Expectation Failed",
        418 => "I'm a teapot",
        421 => "Misdirected Request",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        499 => "Client Closed Request",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        505 => "HTTP Version Not Supported",
        _ => "",
    }
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
}

impl LocalResponse {
    /// A response with no header and `body`.
    pub fn new(status: u16, body: impl Into<Vec<u8>>) -> Self {
        LocalResponse {
            status,
            headers: Headers::new(),
            body: body.into(),
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
