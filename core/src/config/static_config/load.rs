//! Loading a static configuration document with Traefik's rules: the deprecation check that runs
//! first, the "no configuration found" errors, decoding over the process defaults, then
//! `SetEffectiveConfiguration` and `ValidateConfiguration`.

use std::sync::Arc;

use super::*;
use crate::config::decode::Cx;
use crate::config::document::{decode_root, parse_document, Format};
use crate::config::error::{ConfigError, Severity};
use crate::config::node::Node;

/// The result of loading a static configuration: the model (with defaults and effective
/// settings applied) and every problem found. The configuration is usable only when no
/// diagnostic is fatal.
#[derive(Debug, Clone)]
pub struct StaticLoad {
    /// The configuration.
    pub config: StaticConfiguration,
    /// Problems and warnings, in the order found.
    pub diagnostics: Vec<ConfigError>,
}

impl StaticLoad {
    /// Whether Traefik would refuse to start with this configuration.
    pub fn is_fatal(&self) -> bool {
        self.diagnostics.iter().any(ConfigError::is_fatal)
    }
}

/// Options that Traefik v3 removed: their presence makes it refuse to start.
const INCOMPATIBLE: &[&[&str]] = &[
    &["pilot"],
    &["providers", "marathon"],
    &["providers", "rancher"],
    &["providers", "docker", "swarmMode"],
    &["providers", "docker", "tls", "caOptional"],
    &["providers", "swarm", "tls", "caOptional"],
    &["providers", "etcd", "tls", "caOptional"],
    &["providers", "redis", "tls", "caOptional"],
    &["providers", "consul", "tls", "caOptional"],
    &[
        "providers",
        "consulCatalog",
        "endpoint",
        "tls",
        "caOptional",
    ],
    &["providers", "nomad", "endpoint", "tls", "caOptional"],
    &["providers", "http", "tls", "caOptional"],
    &["providers", "consul", "namespace"],
    &["providers", "consulCatalog", "namespace"],
    &["providers", "nomad", "namespace"],
    &["experimental", "http3"],
    &["tracing", "spanNameLimit"],
    &["tracing", "jaeger"],
    &["tracing", "zipkin"],
    &["tracing", "datadog"],
    &["tracing", "instana"],
    &["tracing", "haystack"],
    &["tracing", "elastic"],
];

/// Options that still work but are deprecated: Traefik only logs them.
const DEPRECATED: &[(&[&str], &str)] = &[
    (
        &["core", "defaultRuleSyntax"],
        "core.defaultRuleSyntax is deprecated (v2 rule syntax will be removed)",
    ),
    (
        &["tracing", "globalAttributes"],
        "tracing.globalAttributes is deprecated, use tracing.resourceAttributes",
    ),
    (
        &["experimental", "kubernetesGateway"],
        "experimental.kubernetesGateway is deprecated and has no effect",
    ),
    (
        &["experimental", "kubernetesIngressNGINX"],
        "experimental.kubernetesIngressNGINX is deprecated and has no effect",
    ),
];

/// Provider sections TrafficCop accepts but does not run (out of scope).
const IGNORED_PROVIDERS: &[&str] = &[
    "docker",
    "swarm",
    "kubernetesIngress",
    "kubernetesIngressNGINX",
    "kubernetesCRD",
    "kubernetesGateway",
    "knative",
    "consulCatalog",
    "nomad",
    "ecs",
    "consul",
    "etcd",
    "zooKeeper",
    "redis",
    "plugin",
];

fn lookup<'n>(root: &'n Node, path: &[&str]) -> Option<&'n Node> {
    path.iter().try_fold(root, |node, key| node.get(key))
}

impl StaticConfiguration {
    /// The configuration Traefik starts from before any source is read: the process defaults of
    /// `NewTraefikConfiguration` (`global.checkNewVersion`, the default transports, providers'
    /// throttle duration).
    pub fn process_defaults() -> Self {
        StaticConfiguration {
            global: Some(Global::default()),
            servers_transport: Some(ServersTransport {
                max_idle_conns_per_host: 200,
                ..ServersTransport::default()
            }),
            tcp_servers_transport: Some(TCPServersTransport {
                dial_keep_alive: Duration::from_secs(15),
                dial_timeout: Duration::from_secs(30),
                ..TCPServersTransport::default()
            }),
            providers: Some(Providers::default()),
            ..StaticConfiguration::default()
        }
    }
}

/// Loads a static configuration file's text. `file` names it in every diagnostic.
pub fn load_static(text: &str, format: Format, file: Option<Arc<str>>) -> StaticLoad {
    let mut cx = Cx::new(file.clone());
    let mut config = StaticConfiguration::process_defaults();
    let root = match parse_document(text, format, file.as_ref()) {
        Ok(root) => root,
        Err(e) => {
            return StaticLoad {
                config,
                diagnostics: vec![e],
            }
        }
    };
    let name = file.as_deref().unwrap_or("<input>").to_string();
    if root.is_null() || root.as_map().is_some_and(|m| m.is_empty()) {
        cx.error(root.pos, format!("no configuration found in file: {name}"));
        return StaticLoad {
            config,
            diagnostics: cx.diagnostics,
        };
    }
    load_static_node(&root, &mut config, &mut cx, &name);
    StaticLoad {
        config,
        diagnostics: cx.diagnostics,
    }
}

/// Decodes a static configuration tree (from a file, flags or environment variables) over
/// `config`, then applies Traefik's effective-configuration rules and validation.
pub fn load_static_node(root: &Node, config: &mut StaticConfiguration, cx: &mut Cx, name: &str) {
    for path in INCOMPATIBLE {
        if let Some(node) = lookup(root, path) {
            cx.push(path.join("."));
            cx.error(
                node.pos,
                "incompatible deprecated install configuration option found: it was removed in Traefik v3",
            );
            cx.pop();
        }
    }
    for (path, message) in DEPRECATED {
        if let Some(node) = lookup(root, path) {
            cx.push(path.join("."));
            cx.warn(node.pos, *message);
            cx.pop();
        }
    }
    if cx.has_fatal() {
        return;
    }
    let any = decode_root(root, StaticConfiguration::KEYS, config, cx);
    if !any {
        cx.error(
            root.pos,
            format!("no valid configuration found in file: {name}"),
        );
        return;
    }
    warn_ignored(root, config, cx);
    config.set_effective();
    validate(root, config, cx);
}

/// Static sections TrafficCop accepts but has not built yet, with what the warning says.
const NOT_BUILT: &[(&[&str], &str)] = &[
    (&["api"], "the API and dashboard are not built in TrafficCop yet and are ignored"),
    (&["metrics"], "metrics are not built in TrafficCop yet and are ignored"),
    (
        &["accessLog", "otlp"],
        "sending access logs with OTLP is not built in TrafficCop yet: without dualOutput no access log line is written",
    ),
    (&["tracing"], "tracing is not built in TrafficCop yet and is ignored"),
    (
        &["certificatesResolvers"],
        "ACME certificate resolvers are not built in TrafficCop yet: routers that name one are served with the store's certificates",
    ),
    (
        &["providers", "http"],
        "the HTTP provider is not built in TrafficCop yet and is ignored",
    ),
    (
        &["providers", "rest"],
        "the REST provider is not built in TrafficCop yet and is ignored",
    ),
    (
        &["hostResolver", "cnameFlattening"],
        "CNAME flattening for Host matching is not built in TrafficCop yet and is ignored",
    ),
    (&["ocsp"], "OCSP stapling is not built in TrafficCop yet and is ignored"),
    (
        &["spiffe"],
        "SPIFFE is not built in TrafficCop yet: servers transports that use it are disabled",
    ),
    (
        &["experimental", "fastProxy"],
        "experimental.fastProxy is ignored: TrafficCop has its own proxy engine",
    ),
    (
        &["experimental", "otlplogs"],
        "OpenTelemetry logs are not built in TrafficCop yet and are ignored",
    ),
];

/// Warns once about each section TrafficCop accepts but does not act on.
fn warn_ignored(root: &Node, config: &StaticConfiguration, cx: &mut Cx) {
    for (path, message) in NOT_BUILT {
        let mut node = Some(root);
        for key in *path {
            node = node.and_then(|n| n.get(key));
        }
        if let Some(node) = node {
            cx.push(path.join("."));
            cx.warn(node.pos, *message);
            cx.pop();
        }
    }
    if let Some(providers) = root.get("providers") {
        for name in IGNORED_PROVIDERS {
            if let Some(node) = providers.get(name) {
                cx.push(format!("providers.{name}"));
                cx.warn(
                    node.pos,
                    format!("the {name} provider is out of scope for TrafficCop and is ignored"),
                );
                cx.pop();
            }
        }
    }
    if let Some(exp) = &config.experimental {
        if !exp.plugins.is_empty() || !exp.local_plugins.is_empty() {
            cx.push("experimental.plugins");
            cx.warn(
                root.pos_at(&["experimental", "plugins"]),
                "Traefik Go plugins are out of scope for TrafficCop; middlewares using them will be disabled",
            );
            cx.pop();
        }
    }
}

/// Records a validation error at a key path, positioned from the source tree.
fn invalid(root: &Node, cx: &mut Cx, path: &[&str], message: String) {
    cx.push(path.join("."));
    cx.report(Severity::Fatal, root.pos_at(path), message);
    cx.pop();
}

/// Traefik's `ValidateConfiguration` plus the start-up checks that refuse a configuration.
fn validate(root: &Node, config: &StaticConfiguration, cx: &mut Cx) {
    if let Some(ours) = &config.trafficcop {
        if !matches!(ours.runtime.as_str(), "" | "tokio" | "mio") {
            invalid(
                root,
                cx,
                &["trafficcop", "runtime"],
                format!("unknown runtime {:?}: expected tokio or mio", ours.runtime),
            );
        }
        if ours.workers < 0 {
            invalid(
                root,
                cx,
                &["trafficcop", "workers"],
                format!(
                    "invalid worker count {}: expected 0 (one per core) or more",
                    ours.workers
                ),
            );
        }
    }
    for (name, ep) in &config.entry_points {
        if let Err(e) = ep.parsed_address() {
            invalid(
                root,
                cx,
                &["entryPoints", name, "address"],
                format!("error while building entryPoint {name}: {e}"),
            );
        }
        let (alias, underscore) = (
            &ep.http.alias_headers_strategy,
            &ep.http.underscore_headers_strategy,
        );
        if let (Some(a), Some(u)) = (alias, underscore) {
            if a != u {
                invalid(
                    root,
                    cx,
                    &["entryPoints", name, "http", "aliasHeadersStrategy"],
                    format!("entry point {name:?} cannot have both underscoreHeadersStrategy and aliasHeadersStrategy options configured with different values"),
                );
            }
        }
        for (key, value) in [
            ("underscoreHeadersStrategy", underscore),
            ("aliasHeadersStrategy", alias),
        ] {
            if let Some(strategy) = value.as_deref() {
                if !matches!(strategy, "keep" | "delete" | "reject") {
                    invalid(
                        root,
                        cx,
                        &["entryPoints", name, "http", key],
                        format!("error while building entryPoint {name}: creating HTTP server: invalid {key} value {strategy:?}"),
                    );
                }
            }
        }
        let trusted = [
            ep.forwarded_headers
                .as_ref()
                .map(|f| (&f.trusted_ips, "forwardedHeaders")),
            ep.proxy_protocol
                .as_ref()
                .map(|p| (&p.trusted_ips, "proxyProtocol")),
        ];
        for (ips, section) in trusted.into_iter().flatten() {
            if !ips.is_empty() {
                if let Err(e) = crate::rule::ip::IpChecker::parse(ips) {
                    invalid(
                        root,
                        cx,
                        &["entryPoints", name, section, "trustedIPs"],
                        format!(
                            "error while building entryPoint {name}: creating HTTP server: {e}"
                        ),
                    );
                }
            }
        }
    }
    let grpc_conflict = |g: Option<&OTelGRPC>| g.is_some_and(|g| g.insecure && g.tls.is_some());
    let otlp_checks: [(&[&str], bool, &str); 4] = [
        (
            &["accessLog", "otlp", "grpc"],
            grpc_conflict(
                config
                    .access_log
                    .as_ref()
                    .and_then(|a| a.otlp.as_ref())
                    .and_then(|o| o.grpc.as_ref()),
            ),
            "access logs OTLP GRPC",
        ),
        (
            &["log", "otlp", "grpc"],
            grpc_conflict(
                config
                    .log
                    .as_ref()
                    .and_then(|a| a.otlp.as_ref())
                    .and_then(|o| o.grpc.as_ref()),
            ),
            "logs OTLP GRPC",
        ),
        (
            &["tracing", "otlp", "grpc"],
            grpc_conflict(
                config
                    .tracing
                    .as_ref()
                    .and_then(|a| a.otlp.as_ref())
                    .and_then(|o| o.grpc.as_ref()),
            ),
            "tracing OTLP GRPC",
        ),
        (
            &["metrics", "otlp", "grpc"],
            grpc_conflict(
                config
                    .metrics
                    .as_ref()
                    .and_then(|a| a.otlp.as_ref())
                    .and_then(|o| o.grpc.as_ref()),
            ),
            "metrics OTLP GRPC",
        ),
    ];
    for (path, conflict, what) in otlp_checks {
        if conflict {
            invalid(
                root,
                cx,
                path,
                format!("{what}: TLS and Insecure options are mutually exclusive"),
            );
        }
    }
    if let Some(providers) = &config.providers {
        let known = default_precedence();
        for p in &providers.precedence {
            if !known.contains(p) {
                invalid(
                    root,
                    cx,
                    &["providers", "precedence"],
                    format!("provider \"{p}\" is not a valid provider name"),
                );
            }
        }
    }
    if let Some(core) = &config.core {
        if core.default_rule_syntax != "v3" && core.default_rule_syntax != "v2" {
            invalid(
                root,
                cx,
                &["core", "defaultRuleSyntax"],
                format!(
                    "unsupported default rule syntax configuration: {}",
                    core.default_rule_syntax
                ),
            );
        }
    }
    if let Some(api) = &config.api {
        if !valid_base_path(&api.base_path) {
            invalid(
                root,
                cx,
                &["api", "basePath"],
                "API basePath must be a valid absolute URL path".to_string(),
            );
        }
    }
    if let Some(ocsp) = &config.ocsp {
        for (k, v) in &ocsp.responder_overrides {
            if v.is_empty() {
                invalid(
                    root,
                    cx,
                    &["ocsp", "responderOverrides", k],
                    "responder override URL must not be empty".to_string(),
                );
            }
        }
    }
    let otlp_logs = config.experimental.as_ref().is_some_and(|e| e.otlplogs);
    let log_otlp = config.log.as_ref().is_some_and(|l| l.otlp.is_some());
    let access_otlp = config.access_log.as_ref().is_some_and(|l| l.otlp.is_some());
    if (log_otlp || access_otlp) && !otlp_logs {
        let path: &[&str] = if log_otlp {
            &["log", "otlp"]
        } else {
            &["accessLog", "otlp"]
        };
        invalid(
            root,
            cx,
            path,
            "the experimental OTLP logs feature must be enabled to use OTLP logging".to_string(),
        );
    }
    for (name, resolver) in &config.certificates_resolvers {
        if resolver.acme.is_some() && resolver.tailscale.is_some() {
            invalid(
                root,
                cx,
                &["certificatesResolvers", name],
                format!("unable to initialize certificates resolver \"{name}\", as ACME and Tailscale providers are mutually exclusive"),
            );
        }
        if let Some(acme) = &resolver.acme {
            if acme.storage.is_empty() {
                invalid(
                    root,
                    cx,
                    &["certificatesResolvers", name, "acme", "storage"],
                    format!("unable to initialize certificates resolver \"{name}\": storage must not be empty"),
                );
            }
        }
    }
}

/// `^/[a-zA-Z0-9/_.:~-]*$`
fn valid_base_path(p: &str) -> bool {
    p.starts_with('/')
        && p.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"/_.:~-".contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn messages(http: &str) -> Vec<String> {
        let yaml = format!("entryPoints:\n  web:\n    address: ':80'\n    http: {http}\n");
        load_static(&yaml, crate::config::Format::Yaml, None)
            .diagnostics
            .iter()
            .filter(|d| d.is_fatal())
            .map(|d| d.message.clone())
            .collect()
    }

    /// Traefik 3.7.15's errors for the header name strategies.
    #[test]
    fn header_name_strategies_refused_as_traefik() {
        assert_eq!(
            messages("{aliasHeadersStrategy: delete, underscoreHeadersStrategy: keep}"),
            ["entry point \"web\" cannot have both underscoreHeadersStrategy and aliasHeadersStrategy options configured with different values"]
        );
        assert!(
            messages("{aliasHeadersStrategy: reject, underscoreHeadersStrategy: reject}")
                .is_empty()
        );
        assert_eq!(
            messages("{aliasHeadersStrategy: bogus}"),
            ["error while building entryPoint web: creating HTTP server: invalid aliasHeadersStrategy value \"bogus\""]
        );
        assert_eq!(
            messages("{underscoreHeadersStrategy: nope}"),
            ["error while building entryPoint web: creating HTTP server: invalid underscoreHeadersStrategy value \"nope\""]
        );
    }
}
