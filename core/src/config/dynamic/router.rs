//! `http.routers.<name>` and `http.models.<name>`.

use super::*;

// http.routers.<name> (pkg/config/dynamic.Router)
section! {
    /// `http.routers.<name>`.
    pub struct Router {
        /// `http.routers.<name>.entryPoints`.
        entry_points: Vec<String> = "entryPoints",
        /// `http.routers.<name>.middlewares`.
        middlewares: Vec<String> = "middlewares",
        /// `http.routers.<name>.service`.
        service: String = "service",
        /// `http.routers.<name>.rule`.
        rule: String = "rule",
        /// `http.routers.<name>.parentRefs` (since v3.6.0).
        parent_refs: Vec<String> = "parentRefs",
        /// `http.routers.<name>.ruleSyntax`.
        rule_syntax: String = "ruleSyntax",
        /// `http.routers.<name>.priority`.
        priority: i64 = "priority",
        /// `http.routers.<name>.tls`.
        @allow_empty tls: Option<RouterTLSConfig> = "tls",
        /// `http.routers.<name>.observability` (since v3.3.0).
        observability: Option<RouterObservabilityConfig> = "observability",
    }
    ignore ["DefaultRule", "DeniedEncodedPathCharacters"]
}

// http.routers.<name>.tls (pkg/config/dynamic.RouterTLSConfig)
section! {
    /// `http.routers.<name>.tls`.
    pub struct RouterTLSConfig {
        /// `http.routers.<name>.tls.options`.
        options: String = "options",
        /// `http.routers.<name>.tls.certResolver`.
        cert_resolver: String = "certResolver",
        /// `http.routers.<name>.tls.domains`.
        domains: Vec<Domain> = "domains",
    }
    ignore ["ResolvedOptions"]
}

// http.routers.<name>.observability (pkg/config/dynamic.RouterObservabilityConfig)
section! {
    /// `http.routers.<name>.observability`.
    pub struct RouterObservabilityConfig {
        /// `http.routers.<name>.observability.accessLogs` (since v3.3.0).
        access_logs: Option<bool> = "accessLogs",
        /// `http.routers.<name>.observability.metrics` (since v3.3.0).
        metrics: Option<bool> = "metrics",
        /// `http.routers.<name>.observability.tracing` (since v3.3.0).
        tracing: Option<bool> = "tracing",
        /// `http.routers.<name>.observability.traceVerbosity` (since v3.5.0).
        trace_verbosity: String = "traceVerbosity",
    }
    ignore ["metadata"]
}

// http.models.<name> (pkg/config/dynamic.Model)
section! {
    /// `http.models.<name>`.
    pub struct Model {
        /// `http.models.<name>.middlewares`.
        middlewares: Vec<String> = "middlewares",
        /// `http.models.<name>.tls`.
        @allow_empty tls: Option<RouterTLSConfig> = "tls",
        /// `http.models.<name>.observability` (since v3.3.0).
        observability: RouterObservabilityConfig = "observability",
    }
    ignore ["DeniedEncodedPathCharacters", "DefaultRuleSyntax"]
}
