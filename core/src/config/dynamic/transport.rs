//! `http.serversTransports.<name>`: how TrafficCop talks to HTTP backends.

use super::*;

// http.serversTransports.<name> (pkg/config/dynamic.ServersTransport)
section! {
    /// `http.serversTransports.<name>`.
    pub struct ServersTransport {
        /// `http.serversTransports.<name>.serverName`.
        server_name: String = "serverName",
        /// `http.serversTransports.<name>.insecureSkipVerify`.
        insecure_skip_verify: bool = "insecureSkipVerify",
        /// `http.serversTransports.<name>.rootCAs`.
        root_cas: Vec<String> = "rootCAs",
        /// `http.serversTransports.<name>.certificates`.
        certificates: Vec<Certificate> = "certificates",
        /// `http.serversTransports.<name>.cipherSuites` (since v3.7.0).
        cipher_suites: Vec<String> = "cipherSuites",
        /// `http.serversTransports.<name>.minVersion` (since v3.7.0).
        min_version: String = "minVersion",
        /// `http.serversTransports.<name>.maxVersion` (since v3.7.0).
        max_version: String = "maxVersion",
        /// `http.serversTransports.<name>.maxIdleConnsPerHost`.
        max_idle_conns_per_host: i64 = "maxIdleConnsPerHost",
        /// `http.serversTransports.<name>.forwardingTimeouts`.
        forwarding_timeouts: Option<ForwardingTimeouts> = "forwardingTimeouts",
        /// `http.serversTransports.<name>.disableHTTP2`.
        disable_http2: bool = "disableHTTP2",
        /// `http.serversTransports.<name>.peerCertURI`.
        peer_cert_uri: String = "peerCertURI",
        /// `http.serversTransports.<name>.spiffe`.
        @allow_empty spiffe: Option<Spiffe> = "spiffe",
    }
}

// http.serversTransports.<name>.forwardingTimeouts (pkg/config/dynamic.ForwardingTimeouts)
section! {
    /// `http.serversTransports.<name>.forwardingTimeouts`.
    pub struct ForwardingTimeouts {
        /// `http.serversTransports.<name>.forwardingTimeouts.dialTimeout`.
        dial_timeout: Duration = "dialTimeout" => Duration::from_secs(30),
        /// `http.serversTransports.<name>.forwardingTimeouts.responseHeaderTimeout`.
        response_header_timeout: Duration = "responseHeaderTimeout",
        /// `http.serversTransports.<name>.forwardingTimeouts.idleConnTimeout`.
        idle_conn_timeout: Duration = "idleConnTimeout" => Duration::from_secs(90),
        /// `http.serversTransports.<name>.forwardingTimeouts.readIdleTimeout`.
        read_idle_timeout: Duration = "readIdleTimeout",
        /// `http.serversTransports.<name>.forwardingTimeouts.pingTimeout`.
        ping_timeout: Duration = "pingTimeout" => Duration::from_secs(15),
        /// `http.serversTransports.<name>.forwardingTimeouts.ReadTimeout` (since v3.7.0).
        read_timeout: Duration = "ReadTimeout",
        /// `http.serversTransports.<name>.forwardingTimeouts.WriteTimeout` (since v3.7.0).
        write_timeout: Duration = "WriteTimeout",
    }
}

// http.serversTransports.<name>.spiffe (pkg/config/dynamic.Spiffe)
section! {
    /// `http.serversTransports.<name>.spiffe`.
    pub struct Spiffe {
        /// `http.serversTransports.<name>.spiffe.ids`.
        ids: Vec<String> = "ids",
        /// `http.serversTransports.<name>.spiffe.trustDomain`.
        trust_domain: String = "trustDomain",
    }
}
