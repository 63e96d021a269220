//! `serversTransport` and `tcpServersTransport`: the default transports to backends.

use super::*;

// serversTransport (pkg/config/static.ServersTransport)
section! {
    /// `serversTransport`.
    pub struct ServersTransport {
        /// `serversTransport.insecureSkipVerify`.
        insecure_skip_verify: bool = "insecureSkipVerify",
        /// `serversTransport.rootCAs`.
        root_cas: Vec<String> = "rootCAs",
        /// `serversTransport.maxIdleConnsPerHost`.
        max_idle_conns_per_host: i64 = "maxIdleConnsPerHost" => 200,
        /// `serversTransport.forwardingTimeouts`.
        forwarding_timeouts: Option<ForwardingTimeouts> = "forwardingTimeouts",
        /// `serversTransport.spiffe`.
        @allow_empty spiffe: Option<Spiffe> = "spiffe",
    }
}

// serversTransport.forwardingTimeouts (pkg/config/static.ForwardingTimeouts)
section! {
    /// `serversTransport.forwardingTimeouts`.
    pub struct ForwardingTimeouts {
        /// `serversTransport.forwardingTimeouts.dialTimeout`.
        dial_timeout: Duration = "dialTimeout" => Duration::from_secs(30),
        /// `serversTransport.forwardingTimeouts.responseHeaderTimeout`.
        response_header_timeout: Duration = "responseHeaderTimeout",
        /// `serversTransport.forwardingTimeouts.idleConnTimeout`.
        idle_conn_timeout: Duration = "idleConnTimeout" => Duration::from_secs(90),
    }
}

// serversTransport.spiffe (pkg/config/static.Spiffe)
section! {
    /// `serversTransport.spiffe`.
    pub struct Spiffe {
        /// `serversTransport.spiffe.ids`.
        ids: Vec<String> = "ids",
        /// `serversTransport.spiffe.trustDomain`.
        trust_domain: String = "trustDomain",
    }
}

// tcpServersTransport (pkg/config/static.TCPServersTransport)
section! {
    /// `tcpServersTransport`.
    pub struct TCPServersTransport {
        /// `tcpServersTransport.dialKeepAlive`.
        dial_keep_alive: Duration = "dialKeepAlive" => Duration::from_secs(15),
        /// `tcpServersTransport.dialTimeout`.
        dial_timeout: Duration = "dialTimeout" => Duration::from_secs(30),
        /// `tcpServersTransport.terminationDelay`.
        termination_delay: Duration = "terminationDelay",
        /// `tcpServersTransport.tls`.
        @allow_empty tls: Option<TLSClientConfig> = "tls",
    }
}

// tcpServersTransport.tls (pkg/config/static.TLSClientConfig)
section! {
    /// `tcpServersTransport.tls`.
    pub struct TLSClientConfig {
        /// `tcpServersTransport.tls.insecureSkipVerify`.
        insecure_skip_verify: bool = "insecureSkipVerify",
        /// `tcpServersTransport.tls.rootCAs`.
        root_cas: Vec<String> = "rootCAs",
        /// `tcpServersTransport.tls.spiffe`.
        @allow_empty spiffe: Option<Spiffe> = "spiffe",
    }
}
