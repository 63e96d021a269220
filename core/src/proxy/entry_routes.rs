//! One entry point's routing: its routers split into the plain-HTTP table and the TLS table
//! (a router with `tls`, or on an entry point with `http.tls`, serves only TLS connections),
//! each TLS router's resolved TLS options, and the options a handshake gets by server name.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use crate::config::dynamic::RouterTLSConfig;
use crate::config::static_config::EntryPoint;
use crate::config::validate::qualify;
use crate::config::Severity;
use crate::rule::domains::http_domains;
use crate::rule::priority::ProviderPrecedence;
use crate::rule::{HttpRule, RouteSpec, RouterTable};
use crate::tls::{EntryPointTls, TlsSetup, DEFAULT};

/// A router placed on entry points, before the per-entry-point split.
pub(super) struct Placed {
    /// Index in `CompiledConfig::routers`.
    pub idx: usize,
    /// Qualified name.
    pub name: String,
    /// Key path for errors (`http.routers.<name>`).
    pub path: String,
    /// Its entry points.
    pub eps: Vec<String>,
    /// The rule as written (for its `Host` domains).
    pub rule_text: String,
    /// The compiled rule.
    pub rule: HttpRule,
    /// Effective priority.
    pub priority: i64,
    /// Its own `tls` section.
    pub tls: Option<RouterTLSConfig>,
    /// Internal routers (`ping@internal`, redirections) take no entry point model.
    pub internal: bool,
}

/// What an entry point serves.
pub(super) struct EntryRoutes {
    /// Plain-HTTP routers.
    pub table: RouterTable,
    /// Router index per plain lookup result.
    pub routes: Vec<usize>,
    /// TLS routers.
    pub tls_table: RouterTable,
    /// Router index and resolved TLS options name per TLS lookup result.
    pub tls_routes: Vec<(usize, Arc<str>)>,
    /// Handshake options by server name.
    pub tls: EntryPointTls,
}

impl EntryRoutes {
    /// An entry point that routes nothing (every request gets 404), TLS handshakes still use
    /// the default options.
    pub fn empty(setup: &TlsSetup) -> Self {
        EntryRoutes {
            table: RouterTable::build(Vec::new()),
            routes: Vec::new(),
            tls_table: RouterTable::build(Vec::new()),
            tls_routes: Vec::new(),
            tls: EntryPointTls {
                hosts: Vec::new(),
                default: setup.chosen(DEFAULT),
                by_ip: setup.chosen_by_ip(),
                https_routes: false,
                https_catch_all: false,
            },
        }
    }
}

/// Problems found while splitting: `(key path, message, severity)`.
pub(super) type Problems = Vec<(String, String, Severity)>;

/// Splits the routers placed on entry point `name`.
pub(super) fn entry_routes(
    name: &str,
    ep: &EntryPoint,
    placed: &[Placed],
    precedence: &ProviderPrecedence,
    setup: &TlsSetup,
    problems: &mut Problems,
) -> EntryRoutes {
    let model = ep.http.tls.as_ref().map(|t| RouterTLSConfig {
        options: t.options.clone(),
        cert_resolver: t.cert_resolver.clone(),
        domains: t.domains.clone(),
    });
    let mut plain: Vec<&Placed> = Vec::new();
    // (router, options name, options usable)
    let mut secure: Vec<(&Placed, String, bool)> = Vec::new();
    for p in placed.iter().filter(|p| p.eps.iter().any(|e| e == name)) {
        let tls = match (&p.tls, p.internal) {
            (Some(t), _) => Some(t),
            (None, false) => model.as_ref(),
            (None, true) => None,
        };
        let Some(tls) = tls else {
            plain.push(p);
            continue;
        };
        let opts = if tls.options.is_empty() || tls.options == DEFAULT {
            DEFAULT.to_string()
        } else {
            qualify(&tls.options, "file")
        };
        if !tls.cert_resolver.is_empty() {
            problems.push((
                format!("{}.tls.certResolver", p.path),
                format!("certificate resolver {:?}: ACME is not supported yet by TrafficCop; the router is served with the default store's certificates", tls.cert_resolver),
                Severity::Warning,
            ));
        }
        let usable = match setup.get(&opts) {
            Ok(_) => true,
            Err(e) => {
                problems.push((p.path.clone(), e, Severity::ObjectError));
                false
            }
        };
        secure.push((p, opts, usable));
    }

    // Which options each domain's handshakes use; a domain claimed by routers with different
    // options falls back to the default ones.
    let mut by_domain: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut domains_of: Vec<Vec<String>> = Vec::new();
    for (p, opts, _) in &secure {
        let ds: Vec<String> = http_domains(&p.rule_text)
            .unwrap_or_default()
            .into_iter()
            .map(|d| d.trim_end_matches('.').to_string())
            .collect();
        for d in &ds {
            by_domain.entry(d.clone()).or_default().insert(opts.clone());
        }
        domains_of.push(ds);
    }
    let mut hosts = Vec::new();
    for (d, names) in &by_domain {
        let n = if names.len() == 1 {
            names.iter().next().map_or(DEFAULT, |s| s.as_str())
        } else {
            DEFAULT
        };
        hosts.push((d.clone(), setup.chosen(n)));
    }

    let spec = |p: &Placed| {
        let provider = p.name.rsplit('@').next().unwrap_or("file");
        RouteSpec {
            name: p.name.clone(),
            rule: p.rule.clone(),
            priority: p.priority,
            rank: precedence.rank(provider),
        }
    };
    let mut tls_specs = Vec::new();
    let mut tls_routes = Vec::new();
    for ((p, opts, usable), ds) in secure.iter().zip(&domains_of) {
        if !usable {
            continue;
        }
        let conflicting = ds.iter().any(|d| by_domain[d].len() > 1);
        let resolved = if ds.is_empty() && opts != DEFAULT {
            problems.push((
                p.path.clone(),
                format!(
                    "no domain found in rule {}, the TLS option {opts} cannot be applied",
                    p.rule_text
                ),
                Severity::Warning,
            ));
            DEFAULT
        } else if conflicting {
            problems.push((
                p.path.clone(),
                "router's TLSOptions configuration is conflicting with other routers on the same entrypoint and host, default TLS options will be used instead".into(),
                Severity::Warning,
            ));
            DEFAULT
        } else {
            opts.as_str()
        };
        tls_specs.push(spec(p));
        tls_routes.push((p.idx, Arc::from(resolved)));
    }
    let https_routes = !secure.is_empty();
    let https_catch_all = domains_of.iter().any(|ds| ds.is_empty());
    EntryRoutes {
        table: RouterTable::build(plain.iter().map(|p| spec(p)).collect()),
        routes: plain.iter().map(|p| p.idx).collect(),
        tls_table: RouterTable::build(tls_specs),
        tls_routes,
        tls: EntryPointTls {
            hosts,
            default: setup.chosen(DEFAULT),
            by_ip: setup.chosen_by_ip(),
            https_routes,
            https_catch_all,
        },
    }
}
