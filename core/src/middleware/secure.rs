//! The security-header half of the `headers` middleware (Traefik
//! `pkg/middlewares/headers/secure.go`, over unrolled/secure): the `allowedHosts` check on the
//! request (500 `Bad Host`), and `Strict-Transport-Security`, `X-Frame-Options`,
//! `X-Content-Type-Options`, `X-XSS-Protection`, `Public-Key-Pins`, `Content-Security-Policy`
//! (+`-Report-Only`), `Referrer-Policy` and `Permissions-Policy` on the response.

use super::RequestContext;
use crate::config::dynamic;
use crate::http::{Headers, LocalResponse, RequestHead};

/// The security options of a `headers` middleware.
#[derive(Debug, Clone)]
pub(crate) struct Secure {
    /// Whether any security option is set (Traefik's `HasSecureHeadersDefined`).
    pub defined: bool,
    /// `allowedHosts`, lower-cased once (compared ignoring case, as Go's `strings.EqualFold`).
    allowed_hosts: Vec<String>,
    hosts_proxy_headers: Vec<String>,
    ssl_proxy_headers: Vec<(String, String)>,
    is_development: bool,
    /// The `Strict-Transport-Security` value (`stsSeconds` not 0), made once.
    sts: Option<bytes::Bytes>,
    force_sts: bool,
    /// Headers set on every response, in order; names and values are made once, so setting
    /// them copies nothing.
    fixed: Vec<(crate::http::HeaderName, bytes::Bytes)>,
    /// `Public-Key-Pins` and its value, when `publicKey` is set (HTTPS only).
    public_key: Option<(crate::http::HeaderName, bytes::Bytes)>,
}

impl Secure {
    pub(crate) fn new(cfg: &dynamic::Headers) -> Self {
        let set = |b: &Option<bool>| b.unwrap_or(false);
        let defined = !cfg.allowed_hosts.is_empty()
            || !cfg.hosts_proxy_headers.is_empty()
            || set(&cfg.ssl_redirect)
            || set(&cfg.ssl_temporary_redirect)
            || set(&cfg.ssl_force_host)
            || cfg.ssl_host.as_ref().is_some_and(|h| !h.is_empty())
            || !cfg.ssl_proxy_headers.is_empty()
            || cfg.sts_seconds.is_some()
            || cfg.sts_include_subdomains
            || cfg.sts_preload
            || cfg.force_sts_header
            || cfg.frame_deny
            || !cfg.custom_frame_options_value.is_empty()
            || cfg.content_type_nosniff
            || cfg.browser_xss_filter
            || !cfg.custom_browser_xss_value.is_empty()
            || !cfg.content_security_policy.is_empty()
            || !cfg.content_security_policy_report_only.is_empty()
            || !cfg.public_key.is_empty()
            || !cfg.referrer_policy.is_empty()
            || cfg.feature_policy.as_ref().is_some_and(|f| !f.is_empty())
            || !cfg.permissions_policy.is_empty()
            || cfg.is_development;
        let mut fixed = Vec::new();
        if !cfg.custom_frame_options_value.is_empty() {
            fixed.push((
                "X-Frame-Options",
                cfg.custom_frame_options_value.clone().into(),
            ));
        } else if cfg.frame_deny {
            fixed.push(("X-Frame-Options", bytes::Bytes::from_static(b"DENY")));
        }
        if cfg.content_type_nosniff {
            fixed.push((
                "X-Content-Type-Options",
                bytes::Bytes::from_static(b"nosniff"),
            ));
        }
        if !cfg.custom_browser_xss_value.is_empty() {
            fixed.push((
                "X-XSS-Protection",
                cfg.custom_browser_xss_value.clone().into(),
            ));
        } else if cfg.browser_xss_filter {
            fixed.push((
                "X-XSS-Protection",
                bytes::Bytes::from_static(b"1; mode=block"),
            ));
        }
        for (name, v) in [
            ("Content-Security-Policy", &cfg.content_security_policy),
            (
                "Content-Security-Policy-Report-Only",
                &cfg.content_security_policy_report_only,
            ),
            ("Referrer-Policy", &cfg.referrer_policy),
            ("Permissions-Policy", &cfg.permissions_policy),
        ] {
            if !v.is_empty() {
                fixed.push((name, v.clone().into()));
            }
        }
        Secure {
            defined,
            allowed_hosts: cfg.allowed_hosts.iter().map(|h| h.to_lowercase()).collect(),
            hosts_proxy_headers: cfg.hosts_proxy_headers.clone(),
            ssl_proxy_headers: cfg
                .ssl_proxy_headers
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            is_development: cfg.is_development,
            sts: cfg.sts_seconds.filter(|s| *s != 0).map(|seconds| {
                let mut v = format!("max-age={seconds}");
                if cfg.sts_include_subdomains {
                    v.push_str("; includeSubDomains");
                }
                if cfg.sts_preload {
                    v.push_str("; preload");
                }
                v.into()
            }),
            force_sts: cfg.force_sts_header,
            fixed: fixed
                .into_iter()
                .map(|(name, v)| (crate::http::HeaderName::shared(name), v))
                .collect(),
            public_key: (!cfg.public_key.is_empty()).then(|| {
                (
                    crate::http::HeaderName::shared("Public-Key-Pins"),
                    cfg.public_key.clone().into(),
                )
            }),
        }
    }

    /// The `allowedHosts` check: the 500 `Bad Host` answer when the request's host (or the
    /// first non-empty `hostsProxyHeaders` header) is not allowed.
    pub(crate) fn check_request(&self, head: &RequestHead) -> Option<LocalResponse> {
        if self.allowed_hosts.is_empty() || self.is_development {
            return None;
        }
        let host = self
            .hosts_proxy_headers
            .iter()
            .find_map(|h| head.headers.get_str(h).filter(|v| !v.is_empty()))
            .unwrap_or(&head.host);
        // An ASCII host equals a lower-cased entry when its ASCII letters do: no copy per request.
        let good = if host.is_ascii() {
            self.allowed_hosts
                .iter()
                .any(|a| a.eq_ignore_ascii_case(host))
        } else {
            let host = host.to_lowercase();
            self.allowed_hosts.contains(&host)
        };
        (!good).then(|| LocalResponse::go_error(500, "Bad Host"))
    }

    /// Whether the request is HTTPS: TLS, an `https` absolute-form target, or an
    /// `sslProxyHeaders` entry matching exactly.
    fn is_ssl(&self, request: &RequestHead, cx: &RequestContext<'_>) -> bool {
        cx.tls
            || cx.absolute_target.is_some_and(|t| {
                t.get(..8)
                    .is_some_and(|s| s.eq_ignore_ascii_case("https://"))
            })
            || self
                .ssl_proxy_headers
                .iter()
                .any(|(k, v)| request.headers.get_str(k).unwrap_or("") == v)
    }

    /// Sets the security headers on a response.
    pub(crate) fn on_response(
        &self,
        h: &mut Headers,
        request: &RequestHead,
        cx: &RequestContext<'_>,
    ) {
        let ssl = self.is_ssl(request, cx);
        let sts_due = (ssl || self.force_sts) && !self.is_development;
        if let Some(v) = self.sts.as_ref().filter(|_| sts_due) {
            h.set("Strict-Transport-Security", v.clone());
        }
        for (name, v) in &self.fixed {
            h.set_named(name, v.clone());
        }
        if let Some((name, v)) = self
            .public_key
            .as_ref()
            .filter(|_| ssl && !self.is_development)
        {
            h.set_named(name, v.clone());
        }
    }
}
