//! The static (install) configuration: `traefik.yml` / `traefik.toml`, CLI flags or `TRAEFIK_*`
//! variables. Each section mirrors a Traefik Go struct; defaults are Traefik's `SetDefaults`.

mod acme;
mod effective;
mod entry_point;
mod load;
mod observability;
mod providers;
mod transport;

pub use acme::*;
pub use effective::*;
pub use entry_point::*;
pub use load::*;
pub use observability::*;
pub use providers::*;
pub use transport::*;

pub(crate) use super::prelude::*;

/// Traefik's default `providers.precedence` (v3.7): earlier names win priority ties.
pub fn default_precedence() -> Vec<String> {
    [
        "kubernetesgateway",
        "kubernetescrd",
        "kubernetes",
        "kubernetesingressnginx",
        "swarm",
        "docker",
        "file",
        "redis",
        "knative",
        "consul",
        "consulcatalog",
        "nomad",
        "etcd",
        "ecs",
        "http",
        "zookeeper",
        "rest",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

// <root> (pkg/config/static.Configuration)
section! {
    /// `<root>`.
    pub struct StaticConfiguration {
        /// `global`.
        global: Option<Global> = "global",
        /// `serversTransport`.
        servers_transport: Option<ServersTransport> = "serversTransport",
        /// `tcpServersTransport`.
        tcp_servers_transport: Option<TCPServersTransport> = "tcpServersTransport",
        /// `entryPoints`.
        entry_points: BTreeMap<String, EntryPoint> = "entryPoints",
        /// `providers`.
        providers: Option<Providers> = "providers",
        /// `api`.
        @allow_empty api: Option<Api> = "api",
        /// `metrics`.
        metrics: Option<Metrics> = "metrics",
        /// `ping`.
        @allow_empty ping: Option<Ping> = "ping",
        /// `log`.
        @allow_empty log: Option<TraefikLog> = "log",
        /// `accessLog`.
        @allow_empty access_log: Option<AccessLog> = "accessLog",
        /// `tracing`.
        @allow_empty tracing: Option<Tracing> = "tracing",
        /// `hostResolver`.
        @allow_empty host_resolver: Option<HostResolverConfig> = "hostResolver",
        /// `certificatesResolvers`.
        certificates_resolvers: BTreeMap<String, CertificateResolver> = "certificatesResolvers",
        /// `experimental`.
        experimental: Option<Experimental> = "experimental",
        /// `core`.
        core: Option<Core> = "core",
        /// `spiffe`.
        spiffe: Option<SpiffeClientConfig> = "spiffe",
        /// `ocsp` (since v3.5.0).
        @allow_empty ocsp: Option<OCSPConfig> = "ocsp",
        /// `trafficcop`: TrafficCop's own settings (an extension; Traefik refuses this key).
        @allow_empty trafficcop: Option<TrafficCopSettings> = "trafficcop",
    }
}

// trafficcop (our extension namespace; not in Traefik)
section! {
    /// `trafficcop`: settings only TrafficCop has. `--runtime=` and `TRAFFICCOP_RUNTIME`,
    /// `TRAFFICCOP_WORKERS` take precedence over them.
    pub struct TrafficCopSettings {
        /// `trafficcop.runtime`: `tokio` or `mio` (empty: the default).
        runtime: String = "runtime",
        /// `trafficcop.workers`: worker threads (0: one per core).
        workers: i64 = "workers",
    }
}

// global (pkg/config/static.Global)
section! {
    /// `global`.
    pub struct Global {
        /// `global.checkNewVersion`.
        @allow_empty check_new_version: bool = "checkNewVersion" => true,
        /// `global.sendAnonymousUsage`.
        @allow_empty send_anonymous_usage: bool = "sendAnonymousUsage",
        /// `global.notAppendXForwardedFor` (since v3.7.0).
        @allow_empty not_append_x_forwarded_for: bool = "notAppendXForwardedFor",
    }
}

// hostResolver (pkg/types.HostResolverConfig)
section! {
    /// `hostResolver`.
    pub struct HostResolverConfig {
        /// `hostResolver.cnameFlattening`.
        cname_flattening: bool = "cnameFlattening",
        /// `hostResolver.resolvConfig`.
        resolv_config: String = "resolvConfig" => "/etc/resolv.conf".into(),
        /// `hostResolver.resolvDepth`.
        resolv_depth: i64 = "resolvDepth" => 5,
    }
}

// experimental (pkg/config/static.Experimental)
section! {
    /// `experimental`.
    pub struct Experimental {
        /// `experimental.plugins`.
        plugins: BTreeMap<String, Descriptor> = "plugins",
        /// `experimental.localPlugins`.
        local_plugins: BTreeMap<String, LocalDescriptor> = "localPlugins",
        /// `experimental.abortOnPluginFailure` (since v3.3.0).
        abort_on_plugin_failure: bool = "abortOnPluginFailure",
        /// `experimental.fastProxy` (since v3.2.0).
        @allow_empty fast_proxy: Option<FastProxyConfig> = "fastProxy",
        /// `experimental.otlplogs` (since v3.3.0).
        otlplogs: bool = "otlplogs",
        /// `experimental.knative` (since v3.6.0).
        knative: bool = "knative",
        /// `experimental.kubernetesIngressNGINX` (since v3.5.0).
        kubernetes_ingress_nginx: bool = "kubernetesIngressNGINX",
        /// `experimental.kubernetesGateway`.
        kubernetes_gateway: bool = "kubernetesGateway",
    }
}

// experimental.plugins.<name> (pkg/plugins.Descriptor)
section! {
    /// `experimental.plugins.<name>`.
    pub struct Descriptor {
        /// `experimental.plugins.<name>.moduleName`.
        module_name: String = "moduleName",
        /// `experimental.plugins.<name>.version`.
        version: String = "version",
        /// `experimental.plugins.<name>.hash` (since v3.5.3).
        hash: String = "hash",
        /// `experimental.plugins.<name>.settings` (since v3.1.0).
        settings: Settings = "settings",
    }
}

// experimental.plugins.<name>.settings (pkg/plugins.Settings)
section! {
    /// `experimental.plugins.<name>.settings`.
    pub struct Settings {
        /// `experimental.plugins.<name>.settings.envs` (since v3.1.0).
        envs: Vec<String> = "envs",
        /// `experimental.plugins.<name>.settings.mounts` (since v3.1.0).
        mounts: Vec<String> = "mounts",
        /// `experimental.plugins.<name>.settings.useUnsafe` (since v3.5.0).
        use_unsafe: bool = "useUnsafe",
    }
}

// experimental.localPlugins.<name> (pkg/plugins.LocalDescriptor)
section! {
    /// `experimental.localPlugins.<name>`.
    pub struct LocalDescriptor {
        /// `experimental.localPlugins.<name>.moduleName`.
        module_name: String = "moduleName",
        /// `experimental.localPlugins.<name>.settings` (since v3.1.0).
        settings: Settings = "settings",
    }
}

// experimental.fastProxy (pkg/config/static.FastProxyConfig)
section! {
    /// `experimental.fastProxy`.
    pub struct FastProxyConfig {
        /// `experimental.fastProxy.debug` (since v3.2.0).
        debug: bool = "debug",
    }
}

// core (pkg/config/static.Core)
section! {
    /// `core`.
    pub struct Core {
        /// `core.defaultRuleSyntax`.
        default_rule_syntax: String = "defaultRuleSyntax" => "v3".into(),
    }
}

// spiffe (pkg/config/static.SpiffeClientConfig)
section! {
    /// `spiffe`.
    pub struct SpiffeClientConfig {
        /// `spiffe.workloadAPIAddr`.
        workload_api_addr: String = "workloadAPIAddr",
    }
}

// ocsp (pkg/tls.OCSPConfig)
section! {
    /// `ocsp`.
    pub struct OCSPConfig {
        /// `ocsp.responderOverrides` (since v3.5.0).
        responder_overrides: BTreeMap<String, String> = "responderOverrides",
    }
}
