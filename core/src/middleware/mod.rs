//! HTTP middlewares as decisions on request and response heads: each middleware may rewrite the
//! request head before it is forwarded, answer it locally instead (redirects, auth failures,
//! CORS preflights), and rewrite the response head on the way back. Bodies are not touched here.
//!
//! The worker runs `on_request` in chain order (entry point middlewares first, then the
//! router's), and `on_response` in reverse order for the middlewares whose `on_request` ran.
//!
//! [`build_chain`] turns a router's middleware names into built middlewares, one file per
//! Traefik middleware type:
//!
//! | file | Traefik middleware |
//! | --- | --- |
//! | `builder.rs` | name resolution, `chain` flattening, recursion detection |
//! | `add_prefix.rs` | `addPrefix` |
//! | `strip_prefix.rs` | `stripPrefix` |
//! | `strip_prefix_regex.rs` | `stripPrefixRegex` |
//! | `replace_path.rs` | `replacePath` |
//! | `replace_path_regex.rs` | `replacePathRegex` |
//! | `redirect.rs` | the shared redirect logic (`redirectScheme`, `redirectRegex`) |
//! | `redirect_scheme.rs`, `redirect_regex.rs` | `redirectScheme`, `redirectRegex` |
//! | `headers.rs`, `cors.rs`, `secure.rs` | `headers` (custom headers, CORS, security headers) |
//! | `ip_allow_list.rs`, `ip_strategy.rs` | `ipAllowList`, `ipWhiteList` |
//! | `basic_auth.rs` | `basicAuth` |
//! | `digest_auth.rs` | `digestAuth` (nonces issued and counted per middleware) |
//! | `pass_tls_client_cert.rs` | `passTLSClientCert` (the certificates' details: `tls::cert_info`) |
//! | `circuit_breaker.rs`, `circuit_expression.rs`, `circuit_metrics.rs` | `circuitBreaker` (its states; the expression; the counts and latencies it watches) |
//! | `content_type.rs` | `contentType` (whether answers get a guessed type; the guess is `http::sniff`, applied by the worker) |
//! | `compress.rs` | `compress` (the coding picked, and whether a response is compressed; the body is the worker's, `proxy::compress`) |
//! | `encoded_characters.rs` | `encodedCharacters` |
//! | `forward_auth.rs` | `forwardAuth` (the auth request and what its answer decides; sent by the worker, `proxy::forward_auth`) |
//! | `errors.rs` | `errors` (what is caught, the page request; the page is sent by the worker, `proxy::errors`) |
//! | `rate_limit.rs` | `rateLimit` (in memory) |
//! | `retry.rs` | `retry` (its policy and back-off; the attempts are the worker's, `proxy::retry`) |
//! | `in_flight_req.rs`, `source_criterion.rs` | `inFlightReq` and the `sourceCriterion` it shares with `rateLimit` |
//! | `users.rs`, `htpasswd.rs`, `go_base64.rs` | the users of `basicAuth` (`usersFile`, `users`), htpasswd secrets, Go's base64 |
//! | `url_path.rs` | Go's `URL.Path` / `URL.RawPath` model the path rewriters share |
//! | `go_expand.rs` | Go's `$1` / `${name}` regex replacement templates |

use std::fmt::Debug;
use std::net::IpAddr;

use crate::http::{LocalResponse, RequestHead, ResponseHead};

mod add_prefix;
mod basic_auth;
mod builder;
mod circuit_breaker;
mod circuit_expression;
mod circuit_metrics;
mod compress;
mod content_type;
mod cors;
mod digest_auth;
mod encoded_characters;
mod errors;
mod forward_auth;
pub mod go_base64;
mod go_expand;
mod headers;
mod htpasswd;
mod in_flight_req;
mod ip_allow_list;
mod ip_strategy;
mod pass_tls_client_cert;
mod rate_limit;
mod redirect;
mod redirect_regex;
mod redirect_scheme;
mod replace_path;
mod replace_path_regex;
mod retry;
mod secure;
mod source_criterion;
mod strip_prefix;
mod strip_prefix_regex;
pub mod url_path;
mod users;

pub use add_prefix::AddPrefix;
pub use basic_auth::{basic_credentials, BasicAuth};
pub use builder::{
    build_chain, build_chain_reading, build_chain_with, build_middleware, no_roots, RootsReader,
};
pub use circuit_breaker::CircuitBreaker;
pub use compress::{media_type_of, BodyLength, Compress, CompressChoice};
pub use content_type::ContentType;
pub use digest_auth::DigestAuth;
pub use encoded_characters::EncodedCharacters;
pub use errors::{Errors, ErrorsMark};
pub use forward_auth::{AuthCall, AuthOutcome, ForwardAuth, ForwardAuthPolicy, AUTH_TIMEOUT};
pub use headers::HeadersMiddleware;
pub use in_flight_req::{InFlight, InFlightReq};
pub use ip_allow_list::IpAllowList;
pub use ip_strategy::IpStrategy;
pub use pass_tls_client_cert::PassTlsClientCert;
pub use rate_limit::RateLimit;
pub use redirect_regex::RedirectRegex;
pub use redirect_scheme::RedirectScheme;
pub use replace_path::ReplacePath;
pub use replace_path_regex::ReplacePathRegex;
pub use retry::{http_code_ranges, BackOff, Retry, RetryPolicy};
pub use strip_prefix::StripPrefix;
pub use strip_prefix_regex::StripPrefixRegex;

/// Reads a file a middleware's configuration names (`basicAuth.usersFile`): its content, or
/// the error text Traefik gives (`open <path>: no such file or directory`). The core does no
/// IO; the daemon passes its reader.
pub type FileReader = fn(&str) -> Result<String, String>;

/// A [`FileReader`] for configurations compiled without files: every read fails.
pub fn no_files(path: &str) -> Result<String, String> {
    Err(format!("open {path}: no such file or directory"))
}

/// What a middleware decided about a request.
#[derive(Debug, PartialEq, Eq)]
pub enum RequestAction {
    /// Pass the (possibly rewritten) request on.
    Continue,
    /// Pass the request on, holding this place until its answer is done (`inFlightReq`).
    Hold(InFlight),
    /// Pass the request on after this many nanoseconds (`rateLimit`).
    Delay(u64),
    /// Ask the auth server first; its answer decides (`forwardAuth`).
    Auth(Box<AuthCall>),
    /// Pass the request on; a caught status is answered with a page (`errors`).
    Errors(ErrorsMark),
    /// Pass the request on; its response is compressed as decided (`compress`).
    Compress(CompressChoice),
    /// Pass the request on, sending it again from here as the policy allows (`retry`).
    Retry(std::sync::Arc<RetryPolicy>),
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
    /// The request-target exactly as received when it was in absolute form
    /// (`http://foo:8080/x?y`), else `None`. Go keeps it as `req.RequestURI`, and the redirect
    /// middlewares read the scheme, host and port from it; it is ignored once a middleware has
    /// rewritten the path or query.
    pub absolute_target: Option<&'a str>,
    /// The worker's clock (nanoseconds), for middlewares that count time (`rateLimit`); on
    /// the response side, when the answer's head came.
    pub now: u64,
    /// When the request was routed (the worker's clock), for middlewares that time answers
    /// (`circuitBreaker`).
    pub started: u64,
    /// The certificates the client presented over TLS, leaf first (empty without; filled
    /// only for chains with a middleware that reads them, see
    /// [`Middleware::wants_peer_certificates`]).
    pub peer_certificates: &'a [rustls::pki_types::CertificateDer<'static>],
}

/// The middlewares a route runs, in order, built with the configuration and shared: a request
/// takes a reference, not a copy, and whether any acts on responses is known in advance.
#[derive(Debug, Clone)]
pub struct Chain {
    list: std::sync::Arc<[std::sync::Arc<dyn Middleware>]>,
    response_side: bool,
    peer_certificates: bool,
    sniff: bool,
}

impl Chain {
    /// A chain of `list`, in order.
    pub fn new(list: Vec<std::sync::Arc<dyn Middleware>>) -> Self {
        let response_side = list.iter().any(|m| m.has_response_side());
        let peer_certificates = list.iter().any(|m| m.wants_peer_certificates());
        let sniff = list.iter().any(|m| m.sniffs_content_type());
        Chain {
            list: list.into(),
            response_side,
            peer_certificates,
            sniff,
        }
    }

    /// `first` (an entry point's middlewares), then `then` (a router's).
    pub fn joined(first: &[std::sync::Arc<dyn Middleware>], then: &Chain) -> Self {
        if first.is_empty() {
            return then.clone();
        }
        Chain::new(first.iter().chain(then.iter()).cloned().collect())
    }

    /// Whether some middleware of the chain acts on responses.
    pub fn has_response_side(&self) -> bool {
        self.response_side
    }

    /// Whether a middleware of the chain reads the client's TLS certificates.
    pub fn wants_peer_certificates(&self) -> bool {
        self.peer_certificates
    }

    /// Whether answers get a guessed `Content-Type` (a `contentType` middleware among the
    /// first `upto` middlewares; `None`: the whole chain).
    pub fn sniffs_content_type(&self, upto: Option<usize>) -> bool {
        match upto {
            None => self.sniff,
            Some(n) => {
                self.sniff
                    && self.list[..n.min(self.list.len())]
                        .iter()
                        .any(|m| m.sniffs_content_type())
            }
        }
    }
}

impl std::ops::Deref for Chain {
    type Target = [std::sync::Arc<dyn Middleware>];
    fn deref(&self) -> &Self::Target {
        &self.list
    }
}

/// A built middleware.
pub trait Middleware: Debug + Send + Sync {
    /// Inspects and may rewrite the request.
    fn on_request(&self, head: &mut RequestHead, cx: &RequestContext<'_>) -> RequestAction;

    /// Inspects and may rewrite the response head of a request this middleware let through.
    fn on_response(
        &self,
        _head: &mut ResponseHead,
        _request: &RequestHead,
        _cx: &RequestContext<'_>,
    ) {
    }

    /// Whether [`Middleware::on_response`] does anything: the request head is kept for the
    /// response only when some middleware of the chain says so. Every middleware states it
    /// (no default), so one that gains a response side cannot leave it unused.
    fn has_response_side(&self) -> bool;

    /// Whether it reads the client's TLS certificates ([`RequestContext::peer_certificates`],
    /// which the worker fills only then).
    fn wants_peer_certificates(&self) -> bool {
        false
    }

    /// Whether answers from after it without a `Content-Type` get a guessed one
    /// (`contentType`).
    fn sniffs_content_type(&self) -> bool {
        false
    }

    /// Whether a request this middleware let through must be forwarded without the proxy's
    /// own `X-Forwarded-For` (Traefik: `customRequestHeaders: {X-Forwarded-For: ""}` leaves a
    /// nil header value, which Go's reverse proxy reads as "do not set X-Forwarded-For").
    fn suppresses_x_forwarded_for(&self) -> bool {
        false
    }

    /// The user name this middleware reads from `head` (before it runs), for access logs'
    /// `ClientUsername` (`basicAuth`, `digestAuth`).
    fn client_username(&self, _head: &RequestHead) -> Option<String> {
        None
    }

    /// The service this middleware sends requests of its own to (`errors`), qualified.
    fn page_service(&self) -> Option<&str> {
        None
    }
}

#[cfg(test)]
pub(crate) mod tests_support {
    use super::RequestContext;
    use crate::http::{Headers, RequestHead, Version};

    /// A plain-HTTP context with client 192.0.2.1.
    pub(crate) fn cx() -> RequestContext<'static> {
        RequestContext {
            client_ip: "192.0.2.1".parse().ok(),
            tls: false,
            entry_point: "web",
            absolute_target: None,
            now: 0,
            started: 0,
            peer_certificates: &[],
        }
    }

    /// A GET request for `target` (origin form) to host `localhost`.
    pub(crate) fn get(target: &str) -> RequestHead {
        let (path, query) = match target.split_once('?') {
            Some((p, q)) => (p.to_string(), Some(q.to_string())),
            None => (target.to_string(), None),
        };
        RequestHead {
            method: "GET".into(),
            path,
            raw_query: query,
            host: "localhost".into(),
            version: Version::Http11,
            headers: Headers::new(),
        }
    }
}
