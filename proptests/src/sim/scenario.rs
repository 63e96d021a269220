//! Scenario generation: a dynamic configuration (routers with `Host`/`PathPrefix` rules,
//! services with weighted servers, optional `responseHeaderTimeout`), rendered as YAML text and
//! compiled by the real loaders, plus the reference model of its routing.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::sync::Arc;

use trafficcop_core::config::dynamic::load_dynamic;
use trafficcop_core::config::static_config::load_static;
use trafficcop_core::config::Format;
use trafficcop_core::proxy::{compile, CompiledConfig};

use super::rng::Rng;

/// Virtual hosts clients may ask for (`h<i>.sim`); the last one is never in a rule.
pub const HOSTS: usize = 4;
/// Path prefixes rules may use (`/p<i>`).
pub const PREFIXES: usize = 4;

/// One generated router.
#[derive(Debug, Clone)]
pub struct RouterSpec {
    /// `Host(`h<i>.sim`)` when set.
    pub host: Option<usize>,
    /// `PathPrefix(`/p<i>`)` when set.
    pub prefix: Option<usize>,
    /// An explicit priority, else Traefik's default (the rule's length).
    pub priority: Option<i64>,
    /// Index into the services.
    pub service: usize,
}

impl RouterSpec {
    /// The rule text.
    pub fn rule(&self) -> String {
        let mut parts = Vec::new();
        if let Some(h) = self.host {
            parts.push(format!("Host(`h{h}.sim`)"));
        }
        if let Some(p) = self.prefix {
            parts.push(format!("PathPrefix(`/p{p}`)"));
        }
        parts.join(" && ")
    }

    fn effective_priority(&self) -> i64 {
        self.priority.unwrap_or(self.rule().len() as i64)
    }

    fn matches(&self, host: &str, path: &str) -> bool {
        self.host
            .is_none_or(|h| host.eq_ignore_ascii_case(&format!("h{h}.sim")))
            && self
                .prefix
                .is_none_or(|p| path.starts_with(&format!("/p{p}")))
    }
}

/// One generated service: servers are backend indexes with weights.
#[derive(Debug, Clone)]
pub struct ServiceSpec {
    /// `(backend, weight)`.
    pub servers: Vec<(usize, u32)>,
    /// `responseHeaderTimeout` in milliseconds, through a servers transport.
    pub response_header_timeout_ms: Option<u64>,
}

/// A dynamic configuration: the spec, its YAML text and the compiled result.
pub struct ConfigSpec {
    /// Routers.
    pub routers: Vec<RouterSpec>,
    /// Services.
    pub services: Vec<ServiceSpec>,
    /// The YAML given to the loader.
    pub yaml: String,
    /// What the core serves.
    pub compiled: Arc<CompiledConfig>,
}

/// What the reference model says about a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// No router matches: Traefik's 404.
    NotFound,
    /// One of these backends may serve it (several when priorities tie).
    Backends(BTreeSet<usize>),
}

impl ConfigSpec {
    /// Generates a configuration over `backends` servers and compiles it.
    pub fn generate(rng: &mut Rng, backends: usize, static_yaml: &str, generation: u64) -> Self {
        let services: Vec<ServiceSpec> = (0..rng.range_usize(1, 3))
            .map(|_| {
                let mut servers: Vec<(usize, u32)> = Vec::new();
                for _ in 0..rng.range_usize(1, 3) {
                    let b = rng.below(backends as u64) as usize;
                    if servers.iter().all(|(s, _)| *s != b) {
                        servers.push((b, rng.range(1, 3) as u32));
                    }
                }
                ServiceSpec {
                    servers,
                    response_header_timeout_ms: rng.chance(300).then(|| rng.range(500, 2500)),
                }
            })
            .collect();
        let routers: Vec<RouterSpec> = (0..rng.range_usize(1, 4))
            .map(|_| {
                let (host, prefix) = match rng.below(5) {
                    0 | 1 => (Some(rng.below(HOSTS as u64 - 1) as usize), None),
                    2 | 3 => (None, Some(rng.below(PREFIXES as u64) as usize)),
                    _ => (
                        Some(rng.below(HOSTS as u64 - 1) as usize),
                        Some(rng.below(PREFIXES as u64) as usize),
                    ),
                };
                RouterSpec {
                    host,
                    prefix,
                    priority: rng.chance(500).then(|| rng.range(1, 100) as i64),
                    service: rng.below(services.len() as u64) as usize,
                }
            })
            .collect();
        let yaml = render(&routers, &services);
        let st = load_static(static_yaml, Format::Yaml, None);
        assert!(!st.is_fatal(), "static config: {:?}", st.diagnostics);
        let dy = load_dynamic(&yaml, Format::Yaml, None);
        assert!(
            !dy.is_fatal(),
            "dynamic config: {:?}\n{yaml}",
            dy.diagnostics
        );
        let compiled = compile(&st.config, &dy.config, generation);
        assert!(
            compiled.errors.is_empty(),
            "compile: {:?}\n{yaml}",
            compiled.errors
        );
        ConfigSpec {
            routers,
            services,
            yaml,
            compiled,
        }
    }

    /// The reference routing decision for `host` and `path`: the highest-priority matching
    /// router wins; equal priorities allow any of them.
    pub fn route(&self, host: &str, path: &str) -> Route {
        let matching: Vec<&RouterSpec> = self
            .routers
            .iter()
            .filter(|r| r.matches(host, path))
            .collect();
        let Some(best) = matching.iter().map(|r| r.effective_priority()).max() else {
            return Route::NotFound;
        };
        Route::Backends(
            matching
                .iter()
                .filter(|r| r.effective_priority() == best)
                .flat_map(|r| self.services[r.service].servers.iter().map(|(b, _)| *b))
                .collect(),
        )
    }

    /// A one-line description.
    pub fn summary(&self) -> String {
        let mut s = String::new();
        for (i, r) in self.routers.iter().enumerate() {
            let _ = write!(
                s,
                "r{i}[{} prio {:?} -> s{}] ",
                r.rule(),
                r.priority,
                r.service
            );
        }
        for (i, v) in self.services.iter().enumerate() {
            let _ = write!(
                s,
                "s{i}{:?} rht {:?}ms ",
                v.servers, v.response_header_timeout_ms
            );
        }
        s
    }
}

/// Renders the dynamic configuration as YAML text.
fn render(routers: &[RouterSpec], services: &[ServiceSpec]) -> String {
    let mut y = String::from("http:\n  routers:\n");
    for (i, r) in routers.iter().enumerate() {
        let _ = writeln!(y, "    r{i}:\n      rule: \"{}\"", r.rule());
        let _ = writeln!(y, "      service: s{}", r.service);
        if let Some(p) = r.priority {
            let _ = writeln!(y, "      priority: {p}");
        }
    }
    y.push_str("  services:\n");
    for (i, s) in services.iter().enumerate() {
        let _ = writeln!(y, "    s{i}:\n      loadBalancer:\n        servers:");
        for (b, w) in &s.servers {
            let _ = writeln!(
                y,
                "          - url: \"http://b{b}.sim:9000\"\n            weight: {w}"
            );
        }
        if s.response_header_timeout_ms.is_some() {
            let _ = writeln!(y, "        serversTransport: t{i}");
        }
    }
    if services
        .iter()
        .any(|s| s.response_header_timeout_ms.is_some())
    {
        y.push_str("  serversTransports:\n");
        for (i, s) in services.iter().enumerate() {
            if let Some(ms) = s.response_header_timeout_ms {
                let _ = writeln!(
                    y,
                    "    t{i}:\n      forwardingTimeouts:\n        dialTimeout: 3s\n        responseHeaderTimeout: {ms}ms"
                );
            }
        }
    }
    y
}

/// Renders the static configuration: one `web` entry point, sometimes with short
/// `respondingTimeouts`, and an access log with every header (records are made for every
/// request and noted in the trace).
pub fn static_yaml(rng: &mut Rng) -> String {
    const ACCESS_LOG: &str = "accessLog: {fields: {headers: {defaultMode: keep}}}\n";
    if rng.chance(400) {
        format!(
            "entryPoints:\n  web:\n    address: ':8000'\n    transport:\n      respondingTimeouts:\n        readTimeout: {}s\n        idleTimeout: {}s\n{ACCESS_LOG}",
            rng.range(5, 60),
            rng.range(2, 30)
        )
    } else {
        format!("entryPoints:\n  web:\n    address: ':8000'\n{ACCESS_LOG}")
    }
}
