//! The dynamic configuration (file provider, HTTP provider): `http`, `tcp`, `udp` and `tls`.
//! Each section mirrors a Traefik Go struct; defaults are Traefik's `SetDefaults`.

mod load;
mod middleware;
mod middleware_access;
mod router;
mod service;
mod tcp;
mod tls;
mod transport;
mod udp;

pub use load::*;
pub use middleware::*;
pub use middleware_access::*;
pub use router::*;
pub use service::*;
pub use tcp::*;
pub use tls::*;
pub use transport::*;
pub use udp::*;

pub(crate) use super::prelude::*;

/// The cipher suites a TLS option lists by default: every suite Go supports (Traefik's
/// `SetDefaults` fills the list; which of them rustls can serve is decided when TLS is built).
pub fn default_cipher_suites() -> Vec<String> {
    [
        "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
        "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
        "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
        "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
        "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
        "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
        "TLS_AES_128_GCM_SHA256",
        "TLS_AES_256_GCM_SHA384",
        "TLS_CHACHA20_POLY1305_SHA256",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

// <root> (pkg/config/dynamic.Configuration)
section! {
    /// `<root>`.
    pub struct DynamicConfiguration {
        /// `http`.
        http: Option<HTTPConfiguration> = "http",
        /// `tcp`.
        tcp: Option<TCPConfiguration> = "tcp",
        /// `udp`.
        udp: Option<UDPConfiguration> = "udp",
        /// `tls`.
        tls: Option<TLSConfiguration> = "tls",
    }
}

// http (pkg/config/dynamic.HTTPConfiguration)
section! {
    /// `http`.
    pub struct HTTPConfiguration {
        /// `http.routers`.
        routers: BTreeMap<String, Router> = "routers",
        /// `http.services`.
        services: BTreeMap<String, Service> = "services",
        /// `http.middlewares`.
        middlewares: BTreeMap<String, Middleware> = "middlewares",
        /// `http.models`.
        models: BTreeMap<String, Model> = "models",
        /// `http.serversTransports`.
        servers_transports: BTreeMap<String, ServersTransport> = "serversTransports",
    }
}
