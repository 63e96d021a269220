//! `contentType` (Traefik `pkg/middlewares/contenttype`): Traefik's entry points stop Go's
//! server from guessing a `Content-Type`; this middleware lets it guess again for the answers
//! of what comes after it (the next middlewares and the service). An answer without a
//! `Content-Type` and with a body then gets the type of its first bytes
//! ([`crate::http::sniff`]): for a backend's answer of known length, what of its body came
//! within the service's `responseForwarding.flushInterval` of its head (Go sniffs what is
//! buffered when the head is flushed); for TrafficCop's own answers, their body.
//! `autoDetect: false` (deprecated) makes it do nothing, as in Traefik.

use super::{Middleware, RequestAction, RequestContext};
use crate::config::dynamic;
use crate::http::RequestHead;

/// The built `contentType` middleware.
#[derive(Debug)]
pub struct ContentType {
    sniff: bool,
}

impl ContentType {
    /// Builds `contentType`.
    pub fn new(cfg: &dynamic::ContentType) -> Self {
        ContentType {
            sniff: cfg.auto_detect != Some(false),
        }
    }
}

impl Middleware for ContentType {
    fn has_response_side(&self) -> bool {
        false
    }

    fn sniffs_content_type(&self) -> bool {
        self.sniff
    }

    fn on_request(&self, _head: &mut RequestHead, _cx: &RequestContext<'_>) -> RequestAction {
        RequestAction::Continue
    }
}
