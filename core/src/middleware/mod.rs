//! HTTP middlewares as decisions on request and response heads: each middleware may rewrite the
//! request head before it is forwarded, answer it locally instead (redirects, auth failures,
//! CORS preflights), and rewrite the response head on the way back. Bodies are not touched here.
//!
//! The worker runs `on_request` in chain order (entry point middlewares first, then the
//! router's), and `on_response` in reverse order for the middlewares whose `on_request` ran.

use std::fmt::Debug;
use std::net::IpAddr;

use crate::http::{LocalResponse, RequestHead, ResponseHead};

/// What a middleware decided about a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RequestAction {
    /// Pass the (possibly rewritten) request on.
    Continue,
    /// Answer the client with this response; the request goes no further.
    Respond(LocalResponse),
}

/// What a middleware knows about the request besides its head.
#[derive(Debug, Clone, Copy)]
pub struct RequestContext<'a> {
    /// The TCP peer address.
    pub client_ip: Option<IpAddr>,
    /// Whether the request came over TLS (`https`).
    pub tls: bool,
    /// The entry point's name.
    pub entry_point: &'a str,
}

/// A built middleware.
pub trait Middleware: Debug + Send + Sync {
    /// Inspects and may rewrite the request.
    fn on_request(&self, head: &mut RequestHead, cx: &RequestContext<'_>) -> RequestAction;

    /// Inspects and may rewrite the response head of a request this middleware let through.
    fn on_response(&self, _head: &mut ResponseHead, _request: &RequestHead, _cx: &RequestContext<'_>) {}
}
