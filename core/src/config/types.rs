//! Value types shared by the static and dynamic configuration (Go package `pkg/types`).

#[allow(unused_imports)]
use super::prelude::*;

// entryPoints.<name>.http.tls.domains (pkg/types.Domain)
section! {
    /// `entryPoints.<name>.http.tls.domains`.
    pub struct Domain {
        /// `entryPoints.<name>.http.tls.domains[].main`.
        main: String = "main",
        /// `entryPoints.<name>.http.tls.domains[].sans`.
        sans: Vec<String> = "sans",
    }
}

// providers.docker.tls (pkg/types.ClientTLS)
section! {
    /// `providers.docker.tls`.
    pub struct ClientTLS {
        /// `providers.docker.tls.ca`.
        ca: String = "ca",
        /// `providers.docker.tls.cert`.
        cert: String = "cert",
        /// `providers.docker.tls.key`.
        key: String = "key",
        /// `providers.docker.tls.insecureSkipVerify`.
        insecure_skip_verify: bool = "insecureSkipVerify",
    }
}
