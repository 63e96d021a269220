//! Access-log records (Traefik's `accessLog`): what the worker knows of a request a router with
//! access logs took, begun when the request is routed (the data Traefik's access-log handler
//! takes before the router's middlewares run) and finished when its answer has been written.
//! Made only while access records are on ([`super::Worker::set_access_records`]), for
//! routers whose access logs are on ([`super::compile::CompiledRouter::access_log`]); the
//! daemon formats and writes them.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};

use super::io::Timestamp;

/// Where an adapter hands the access records of its worker, with the worker's clock and the
/// wall clock read together (records carry the worker's clock: the sink dates them).
pub type AccessSink =
    std::sync::Arc<dyn Fn(AccessRecord, Timestamp, std::time::SystemTime) + Send + Sync>;

/// Requests counted by access logs, in this process (Traefik's `RequestCount`).
static REQUEST_COUNT: AtomicU64 = AtomicU64::new(0);

/// One access-log record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessRecord {
    /// The client's address (`ClientAddr`).
    pub client: SocketAddr,
    /// The request's `X-Forwarded-For` after the entry point's forwarded-headers handling (an
    /// untrusted client's is gone): Traefik's `ClientHost` when set.
    pub forwarded_for: Option<String>,
    /// The user an auth middleware read (`ClientUsername`).
    pub username: Option<String>,
    /// Method.
    pub method: crate::http::Method,
    /// The path as received (after the entry point's normalisation), before the router's
    /// middlewares.
    pub path: String,
    /// The query as received (`None`: no `?`).
    pub query: Option<String>,
    /// `HTTP/1.0`, `HTTP/1.1` or `HTTP/2.0`.
    pub protocol: &'static str,
    /// The `Host` (or `:authority`) value (`RequestAddr`).
    pub host: String,
    /// The client connection is TLS.
    pub tls: bool,
    /// The entry point's name.
    pub entry_point: std::sync::Arc<str>,
    /// The router's qualified name, when one matched.
    pub router: Option<String>,
    /// The service's qualified name, when the request was sent to one.
    pub service: Option<String>,
    /// The server's URL, when the request was sent to one.
    pub server: Option<String>,
    /// Its `host:port` as written in the URL (`ServiceAddr`).
    pub server_addr: Option<String>,
    /// The status sent to the client (499 when the client left before the answer).
    pub status: u16,
    /// The status the server answered (`None`: no server answered).
    pub origin_status: Option<u16>,
    /// Body bytes the server's answer had (as decoded from its framing).
    pub origin_size: u64,
    /// When the request went to its service.
    pub origin_started: Option<Timestamp>,
    /// Nanoseconds from then to the end of the answer (`None`: it went to no service).
    pub origin_duration: Option<u64>,
    /// The request's header lines (canonical names) as the router's middlewares left them,
    /// when `accessLog.fields.headers` may log some.
    pub request_headers: Vec<(String, String)>,
    /// The answer's header lines as the service gave them (its handler's header map: an
    /// absent `Content-Type` is an empty one, Traefik's map holding it unset), when logged.
    pub origin_headers: Vec<(String, String)>,
    /// The answer's header lines as sent (same form), when logged.
    pub downstream_headers: Vec<(String, String)>,
    /// Headers are logged: the three lists above are filled.
    pub with_headers: bool,
    /// The TLS version (`1.3`) of a TLS client connection.
    pub tls_version: Option<&'static str>,
    /// Its cipher suite, by rustls' name (the line gives Go's).
    pub tls_cipher: Option<&'static str>,
    /// Body bytes sent to the client.
    pub size: u64,
    /// Body bytes read from the client.
    pub request_size: u64,
    /// Attempts a `retry` middleware made after the first.
    pub retry_attempts: u32,
    /// The request's number among those logged by this process (`RequestCount`).
    pub count: u64,
    /// When the request was routed.
    pub started: Timestamp,
    /// When the answer was written.
    pub finished: Timestamp,
}

impl AccessRecord {
    /// A record begun for `head` (as the entry point left it) from `client` at `now`.
    pub(super) fn begin(
        head: &crate::http::RequestHead,
        client: SocketAddr,
        entry_point: &std::sync::Arc<str>,
        tls: bool,
        stream: bool,
        now: Timestamp,
    ) -> Box<AccessRecord> {
        let forwarded_for = head
            .headers
            .get("X-Forwarded-For")
            .map(|v| String::from_utf8_lossy(v).into_owned());
        let protocol = if stream {
            "HTTP/2.0"
        } else if head.version == crate::http::Version::Http10 {
            "HTTP/1.0"
        } else {
            "HTTP/1.1"
        };
        Box::new(AccessRecord {
            client,
            forwarded_for,
            username: None,
            method: head.method.clone(),
            path: head.path.clone(),
            query: head.raw_query.clone(),
            protocol,
            host: head.host.clone(),
            tls,
            entry_point: entry_point.clone(),
            router: None,
            service: None,
            server: None,
            server_addr: None,
            status: 0,
            origin_status: None,
            origin_size: 0,
            origin_started: None,
            origin_duration: None,
            request_headers: Vec::new(),
            origin_headers: Vec::new(),
            downstream_headers: Vec::new(),
            with_headers: false,
            tls_version: None,
            tls_cipher: None,
            size: 0,
            request_size: 0,
            retry_attempts: 0,
            count: REQUEST_COUNT.fetch_add(1, Ordering::Relaxed) + 1,
            started: now,
            finished: now,
        })
    }

    /// Finishes the record of an answer of `status` with `size` body bytes at `now`.
    pub(super) fn end(mut self: Box<Self>, status: u16, size: u64, now: Timestamp) -> Box<Self> {
        self.status = status;
        self.size = size;
        self.finished = now;
        self.origin_duration = self.origin_started.map(|at| now.0.saturating_sub(at.0));
        self
    }

    /// Copies the request's header lines again once the router's middlewares ran (Traefik
    /// logs the request's header map as they left it), when they are logged.
    pub(super) fn headers_after_middlewares(&mut self, headers: &crate::http::Headers) {
        if self.with_headers {
            self.request_headers = lines(headers);
        }
    }

    /// Copies the request's header lines and logs headers from now on.
    pub(super) fn take_headers(&mut self, headers: &crate::http::Headers) {
        self.with_headers = true;
        self.request_headers = lines(headers);
    }

    /// Copies an answer's header lines as the service gave them (when headers are logged).
    pub(super) fn origin_answer(&mut self, headers: &crate::http::Headers) {
        if self.with_headers {
            self.origin_headers = answer_lines(headers);
        }
    }

    /// Copies an answer's header lines as sent (when headers are logged).
    pub(super) fn downstream_answer(&mut self, headers: &crate::http::Headers) {
        if self.with_headers {
            self.downstream_headers = answer_lines(headers);
        }
    }
}

fn lines(headers: &crate::http::Headers) -> Vec<(String, String)> {
    headers
        .iter()
        .map(|h| {
            (
                // Names are kept canonical (Go's map keys).
                h.name.to_string(),
                String::from_utf8_lossy(&h.value).into_owned(),
            )
        })
        .collect()
}

/// An answer's lines; without `Content-Type`, an empty one (Traefik's entry point leaves the
/// name in the handler's map, unset, so that Go's server does not guess a type).
fn answer_lines(headers: &crate::http::Headers) -> Vec<(String, String)> {
    let mut out = lines(headers);
    if !headers.contains("Content-Type") {
        out.push(("Content-Type".into(), String::new()));
    }
    out
}
