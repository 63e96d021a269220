//! The CORS half of the `headers` middleware (Traefik `pkg/middlewares/headers/header.go`):
//! preflight requests (OPTIONS with `Origin` and `Access-Control-Request-Method`) are answered
//! locally; other responses get `Access-Control-Allow-*` headers and, optionally, `Vary: Origin`.

use super::go_expand::GoRegex;
use crate::config::dynamic;
use crate::http::{Headers, LocalResponse, RequestHead};

/// The CORS options of a `headers` middleware.
#[derive(Debug, Clone)]
pub(crate) struct Cors {
    /// Whether any CORS option is set (Traefik's `HasCorsHeadersDefined`).
    pub defined: bool,
    allow_credentials: bool,
    allow_headers: Vec<String>,
    allow_methods: Vec<String>,
    allow_origins: Vec<String>,
    allow_origin_regexes: Vec<GoRegex>,
    expose_headers: Vec<String>,
    max_age: Option<i64>,
    add_vary: bool,
}

impl Cors {
    pub(crate) fn new(cfg: &dynamic::Headers) -> Result<Self, String> {
        let allow_origin_regexes = cfg
            .access_control_allow_origin_list_regex
            .iter()
            .map(|r| {
                GoRegex::new(r).map_err(|e| format!("error occurred during origin parsing: {e}"))
            })
            .collect::<Result<_, _>>()?;
        let defined = cfg.access_control_allow_credentials
            || !cfg.access_control_allow_headers.is_empty()
            || !cfg.access_control_allow_methods.is_empty()
            || !cfg.access_control_allow_origin_list.is_empty()
            || !cfg.access_control_allow_origin_list_regex.is_empty()
            || !cfg.access_control_expose_headers.is_empty()
            || cfg.access_control_max_age.is_some()
            || cfg.add_vary_header;
        Ok(Cors {
            defined,
            allow_credentials: cfg.access_control_allow_credentials,
            allow_headers: cfg.access_control_allow_headers.clone(),
            allow_methods: cfg.access_control_allow_methods.clone(),
            allow_origins: cfg.access_control_allow_origin_list.clone(),
            allow_origin_regexes,
            expose_headers: cfg.access_control_expose_headers.clone(),
            max_age: cfg.access_control_max_age,
            add_vary: cfg.add_vary_header,
        })
    }

    /// The preflight answer, when `head` is a preflight and CORS is configured.
    pub(crate) fn preflight(&self, head: &RequestHead) -> Option<LocalResponse> {
        if !self.defined || head.method != "OPTIONS" {
            return None;
        }
        let method = head
            .headers
            .get_str("Access-Control-Request-Method")
            .filter(|m| !m.is_empty())?;
        let origin = head.headers.get_str("Origin").filter(|o| !o.is_empty())?;
        let mut r = LocalResponse::new(200, Vec::new());
        let h = &mut r.headers;
        if self.allow_credentials {
            h.set("Access-Control-Allow-Credentials", "true");
        }
        if self.allow_headers.iter().any(|x| x == "*") && self.allow_credentials {
            if let Some(req) = head
                .headers
                .get("Access-Control-Request-Headers")
                .filter(|v| !v.is_empty())
            {
                h.set(
                    "Access-Control-Allow-Headers",
                    bytes::Bytes::copy_from_slice(req),
                );
            }
        } else if !self.allow_headers.is_empty() {
            h.set("Access-Control-Allow-Headers", self.allow_headers.join(","));
        }
        if self.allow_methods.iter().any(|x| x == "*") && self.allow_credentials {
            h.set("Access-Control-Allow-Methods", method.to_string());
        } else if !self.allow_methods.is_empty() {
            h.set("Access-Control-Allow-Methods", self.allow_methods.join(","));
        }
        if let Some(m) = self.match_origin(origin) {
            h.set("Access-Control-Allow-Origin", m);
        }
        if let Some(age) = self.max_age {
            h.set("Access-Control-Max-Age", age.to_string());
        }
        self.set_expose(h);
        // Traefik's preflight answer carries its length among its own headers (sorted with
        // them, before `Date`), not as the server's last line.
        h.set("Content-Length", "0");
        Some(r)
    }

    /// The CORS headers of a non-preflight response to `request`.
    pub(crate) fn on_response(&self, h: &mut Headers, request: &RequestHead) {
        let origin = request.headers.get_str("Origin").unwrap_or("");
        if let Some(m) = self.match_origin(origin) {
            h.set("Access-Control-Allow-Origin", m);
        }
        if self.allow_credentials {
            h.set("Access-Control-Allow-Credentials", "true");
        }
        self.set_expose(h);
        if !self.add_vary {
            return;
        }
        let vary = h.get_str("Vary").unwrap_or("").to_string();
        if vary == "Origin" {
            return;
        }
        let vary = if vary.is_empty() {
            "Origin".to_string()
        } else {
            format!("{vary},Origin")
        };
        h.set("Vary", vary);
    }

    fn set_expose(&self, h: &mut Headers) {
        if self.expose_headers.is_empty()
            || (self.expose_headers.iter().any(|x| x == "*") && self.allow_credentials)
        {
            return;
        }
        h.set(
            "Access-Control-Expose-Headers",
            self.expose_headers.join(","),
        );
    }

    /// The `Access-Control-Allow-Origin` value for `origin`, if allowed. `*` echoes the origin
    /// when credentials are allowed (the wildcard cannot be used with them).
    fn match_origin(&self, origin: &str) -> Option<String> {
        for item in &self.allow_origins {
            if item == origin {
                return Some(item.clone());
            }
            if item == "*" {
                return Some(if self.allow_credentials {
                    origin.to_string()
                } else {
                    item.clone()
                });
            }
        }
        self.allow_origin_regexes
            .iter()
            .any(|r| r.regex.is_match(origin.as_bytes()))
            .then(|| origin.to_string())
    }
}
