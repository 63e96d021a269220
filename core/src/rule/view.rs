//! What the matchers look at: a borrowed view of an HTTP request or a TCP connection, filled by
//! the protocol layer.

use std::borrow::Cow;
use std::cell::OnceCell;
use std::net::IpAddr;

use super::host::{canonical_host, canonical_sni};
use super::path::routing_path;
use super::query::{parse_query, QueryPair};

/// Header lookup for rule matching. Names are compared ASCII case-insensitively (what Go's
/// canonical header keys amount to on the wire); each header line is one value.
pub trait RequestHeaders {
    /// Calls `f` on each value line of the header `name` until it returns `true`; returns
    /// whether it did.
    fn any_value(&self, name: &str, f: &mut dyn FnMut(&[u8]) -> bool) -> bool;

    /// Whether at least one line of header `name` is present.
    fn contains(&self, name: &str) -> bool {
        self.any_value(name, &mut |_| true)
    }
}

impl<N: AsRef<str>, V: AsRef<[u8]>> RequestHeaders for [(N, V)] {
    fn any_value(&self, name: &str, f: &mut dyn FnMut(&[u8]) -> bool) -> bool {
        self.iter()
            .any(|(n, v)| n.as_ref().eq_ignore_ascii_case(name) && f(v.as_ref()))
    }
}

impl<N: AsRef<str>, V: AsRef<[u8]>, const K: usize> RequestHeaders for [(N, V); K] {
    fn any_value(&self, name: &str, f: &mut dyn FnMut(&[u8]) -> bool) -> bool {
        self.as_slice().any_value(name, f)
    }
}

impl<N: AsRef<str>, V: AsRef<[u8]>> RequestHeaders for Vec<(N, V)> {
    fn any_value(&self, name: &str, f: &mut dyn FnMut(&[u8]) -> bool) -> bool {
        self.as_slice().any_value(name, f)
    }
}

/// An HTTP request as the router sees it. Every field borrows from the HTTP layer's request.
#[derive(Clone, Copy)]
pub struct HttpRequestView<'a> {
    /// The request method, exactly as received (`GET`; a lower-case `get` matches nothing).
    pub method: &'a str,
    /// The raw host: Go's `req.Host`, i.e. the `Host` header, or the authority of an
    /// absolute-form request target when it is non-empty. May carry a port.
    pub host: &'a str,
    /// The request path, still percent-encoded, after the entry point's normalisation and
    /// sanitisation ([`super::path::normalize_raw_path`], [`super::path::sanitize_path`]).
    pub path: &'a str,
    /// The raw query (without `?`), after the entry point turned `;` into `&`.
    pub raw_query: &'a str,
    /// The request headers.
    pub headers: &'a dyn RequestHeaders,
    /// The TCP peer address (after a trusted PROXY protocol header), never X-Forwarded-For.
    pub client_ip: Option<IpAddr>,
    /// Whether the request came over TLS. Matchers do not use it: TLS and non-TLS routers are
    /// compiled into separate tables.
    pub tls: bool,
}

impl std::fmt::Debug for HttpRequestView<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpRequestView")
            .field("method", &self.method)
            .field("host", &self.host)
            .field("path", &self.path)
            .field("raw_query", &self.raw_query)
            .field("client_ip", &self.client_ip)
            .field("tls", &self.tls)
            .finish_non_exhaustive()
    }
}

/// A request prepared for matching: the canonical host, routing path and parsed query are
/// computed once and shared by every rule tried.
pub struct PreparedRequest<'a> {
    pub(crate) view: &'a HttpRequestView<'a>,
    pub(crate) host: Cow<'a, str>,
    /// `None` when the path has an invalid percent-encoding (no path matcher then matches).
    pub(crate) path: Option<Cow<'a, [u8]>>,
    query: OnceCell<Vec<QueryPair<'a>>>,
}

impl<'a> PreparedRequest<'a> {
    /// Prepares `view` for matching.
    pub fn new(view: &'a HttpRequestView<'a>) -> Self {
        PreparedRequest {
            view,
            host: canonical_host(view.host),
            path: routing_path(view.path).ok(),
            query: OnceCell::new(),
        }
    }

    /// The canonical host (lower-cased, port and brackets removed).
    pub fn canonical_host(&self) -> &str {
        &self.host
    }

    /// The routing path, or `None` when the path is not validly percent-encoded (Traefik
    /// answers 400 before routing such a request).
    pub fn routing_path(&self) -> Option<&[u8]> {
        self.path.as_deref()
    }

    /// The decoded query pairs, parsed on first use.
    pub(crate) fn query(&self) -> &[QueryPair<'a>] {
        self.query.get_or_init(|| parse_query(self.view.raw_query))
    }
}

/// A TCP connection as the TCP router sees it (after peeking the TLS ClientHello, if any).
#[derive(Debug, Clone, Copy)]
pub struct TcpConnView<'a> {
    /// The server name from the ClientHello, as sent (empty without TLS or without SNI).
    pub sni: &'a str,
    /// The peer address.
    pub client_ip: Option<IpAddr>,
    /// The ALPN protocols the client offered.
    pub alpn: &'a [&'a [u8]],
}

/// A TCP connection prepared for matching (canonical SNI computed once).
pub struct PreparedConn<'a> {
    pub(crate) view: &'a TcpConnView<'a>,
    pub(crate) sni: Cow<'a, str>,
}

impl<'a> PreparedConn<'a> {
    /// Prepares `view` for matching: the SNI is trimmed and lower-cased.
    pub fn new(view: &'a TcpConnView<'a>) -> Self {
        PreparedConn {
            view,
            sni: canonical_sni(view.sni),
        }
    }

    /// The canonical SNI.
    pub fn canonical_sni(&self) -> &str {
        &self.sni
    }
}
