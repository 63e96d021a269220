//! `tcp`: TCP routers, services, middlewares and servers transports.

use super::*;

// tcp (pkg/config/dynamic.TCPConfiguration)
section! {
    /// `tcp`.
    pub struct TCPConfiguration {
        /// `tcp.routers`.
        routers: BTreeMap<String, TCPRouter> = "routers",
        /// `tcp.services`.
        services: BTreeMap<String, TCPService> = "services",
        /// `tcp.middlewares`.
        middlewares: BTreeMap<String, TCPMiddleware> = "middlewares",
        /// `tcp.serversTransports`.
        servers_transports: BTreeMap<String, TCPServersTransport> = "serversTransports",
    }
    ignore ["Models"]
}

// tcp.routers.<name> (pkg/config/dynamic.TCPRouter)
section! {
    /// `tcp.routers.<name>`.
    pub struct TCPRouter {
        /// `tcp.routers.<name>.entryPoints`.
        entry_points: Vec<String> = "entryPoints",
        /// `tcp.routers.<name>.middlewares`.
        middlewares: Vec<String> = "middlewares",
        /// `tcp.routers.<name>.service`.
        service: String = "service",
        /// `tcp.routers.<name>.rule`.
        rule: String = "rule",
        /// `tcp.routers.<name>.ruleSyntax`.
        rule_syntax: String = "ruleSyntax",
        /// `tcp.routers.<name>.priority`.
        priority: i64 = "priority",
        /// `tcp.routers.<name>.tls`.
        @allow_empty tls: Option<RouterTCPTLSConfig> = "tls",
    }
}

// tcp.routers.<name>.tls (pkg/config/dynamic.RouterTCPTLSConfig)
section! {
    /// `tcp.routers.<name>.tls`.
    pub struct RouterTCPTLSConfig {
        /// `tcp.routers.<name>.tls.passthrough`.
        passthrough: bool = "passthrough",
        /// `tcp.routers.<name>.tls.options`.
        options: String = "options",
        /// `tcp.routers.<name>.tls.certResolver`.
        cert_resolver: String = "certResolver",
        /// `tcp.routers.<name>.tls.domains`.
        domains: Vec<Domain> = "domains",
    }
}

// tcp.services.<name> (pkg/config/dynamic.TCPService)
section! {
    /// `tcp.services.<name>`.
    pub struct TCPService {
        /// `tcp.services.<name>.loadBalancer`.
        load_balancer: Option<TCPServersLoadBalancer> = "loadBalancer",
        /// `tcp.services.<name>.weighted`.
        weighted: Option<TCPWeightedRoundRobin> = "weighted",
    }
}

// tcp.services.<name>.loadBalancer (pkg/config/dynamic.TCPServersLoadBalancer)
section! {
    /// `tcp.services.<name>.loadBalancer`.
    pub struct TCPServersLoadBalancer {
        /// `tcp.services.<name>.loadBalancer.servers`.
        servers: Vec<TCPServer> = "servers",
        /// `tcp.services.<name>.loadBalancer.serversTransport`.
        servers_transport: String = "serversTransport",
        /// `tcp.services.<name>.loadBalancer.proxyProtocol`.
        @allow_empty proxy_protocol: Option<ProxyProtocol> = "proxyProtocol",
        /// `tcp.services.<name>.loadBalancer.terminationDelay`.
        termination_delay: Option<i64> = "terminationDelay",
        /// `tcp.services.<name>.loadBalancer.healthCheck` (since v3.6.0).
        @allow_empty health_check: Option<TCPServerHealthCheck> = "healthCheck",
    }
}

// tcp.services.<name>.loadBalancer.servers (pkg/config/dynamic.TCPServer)
section! {
    /// `tcp.services.<name>.loadBalancer.servers`.
    pub struct TCPServer {
        /// `tcp.services.<name>.loadBalancer.servers[].address`.
        address: String = "address",
        /// `tcp.services.<name>.loadBalancer.servers[].Port`.
        port: String = "Port",
        /// `tcp.services.<name>.loadBalancer.servers[].tls`.
        tls: bool = "tls",
    }
}

// tcp.services.<name>.loadBalancer.proxyProtocol (pkg/config/dynamic.ProxyProtocol)
section! {
    /// `tcp.services.<name>.loadBalancer.proxyProtocol`.
    pub struct ProxyProtocol {
        /// `tcp.services.<name>.loadBalancer.proxyProtocol.version`.
        version: i64 = "version" => 2,
    }
}

// tcp.services.<name>.loadBalancer.healthCheck (pkg/config/dynamic.TCPServerHealthCheck)
section! {
    /// `tcp.services.<name>.loadBalancer.healthCheck`.
    pub struct TCPServerHealthCheck {
        /// `tcp.services.<name>.loadBalancer.healthCheck.port` (since v3.6.0).
        port: i64 = "port",
        /// `tcp.services.<name>.loadBalancer.healthCheck.send` (since v3.6.0).
        send: String = "send",
        /// `tcp.services.<name>.loadBalancer.healthCheck.expect` (since v3.6.0).
        expect: String = "expect",
        /// `tcp.services.<name>.loadBalancer.healthCheck.interval` (since v3.6.0).
        interval: Duration = "interval" => Duration::from_secs(30),
        /// `tcp.services.<name>.loadBalancer.healthCheck.unhealthyInterval` (since v3.6.0).
        unhealthy_interval: Option<Duration> = "unhealthyInterval",
        /// `tcp.services.<name>.loadBalancer.healthCheck.timeout` (since v3.6.0).
        timeout: Duration = "timeout" => Duration::from_secs(5),
    }
}

// tcp.services.<name>.weighted (pkg/config/dynamic.TCPWeightedRoundRobin)
section! {
    /// `tcp.services.<name>.weighted`.
    pub struct TCPWeightedRoundRobin {
        /// `tcp.services.<name>.weighted.services`.
        services: Vec<TCPWRRService> = "services",
        /// `tcp.services.<name>.weighted.healthCheck` (since v3.6.0).
        @allow_empty health_check: Option<EmptySection> = "healthCheck",
    }
}

// tcp.services.<name>.weighted.services (pkg/config/dynamic.TCPWRRService)
section! {
    /// `tcp.services.<name>.weighted.services`.
    pub struct TCPWRRService {
        /// `tcp.services.<name>.weighted.services[].name`.
        name: String = "name",
        /// `tcp.services.<name>.weighted.services[].weight`.
        weight: Option<i64> = "weight",
    }
}

// tcp.middlewares.<name> (pkg/config/dynamic.TCPMiddleware)
section! {
    /// `tcp.middlewares.<name>`.
    pub struct TCPMiddleware {
        /// `tcp.middlewares.<name>.inFlightConn`.
        in_flight_conn: Option<TCPInFlightConn> = "inFlightConn",
        /// `tcp.middlewares.<name>.ipWhiteList`.
        ip_white_list: Option<TCPIPWhiteList> = "ipWhiteList",
        /// `tcp.middlewares.<name>.ipAllowList`.
        ip_allow_list: Option<TCPIPAllowList> = "ipAllowList",
    }
}

// tcp.middlewares.<name>.inFlightConn (pkg/config/dynamic.TCPInFlightConn)
section! {
    /// `tcp.middlewares.<name>.inFlightConn`.
    pub struct TCPInFlightConn {
        /// `tcp.middlewares.<name>.inFlightConn.amount`.
        amount: i64 = "amount",
    }
}

// tcp.middlewares.<name>.ipWhiteList (pkg/config/dynamic.TCPIPWhiteList)
section! {
    /// `tcp.middlewares.<name>.ipWhiteList`.
    pub struct TCPIPWhiteList {
        /// `tcp.middlewares.<name>.ipWhiteList.sourceRange`.
        source_range: Vec<String> = "sourceRange",
    }
}

// tcp.middlewares.<name>.ipAllowList (pkg/config/dynamic.TCPIPAllowList)
section! {
    /// `tcp.middlewares.<name>.ipAllowList`.
    pub struct TCPIPAllowList {
        /// `tcp.middlewares.<name>.ipAllowList.sourceRange`.
        source_range: Vec<String> = "sourceRange",
    }
}

// tcp.serversTransports.<name> (pkg/config/dynamic.TCPServersTransport)
section! {
    /// `tcp.serversTransports.<name>`.
    pub struct TCPServersTransport {
        /// `tcp.serversTransports.<name>.dialKeepAlive`.
        dial_keep_alive: Duration = "dialKeepAlive" => Duration::from_secs(15),
        /// `tcp.serversTransports.<name>.dialTimeout`.
        dial_timeout: Duration = "dialTimeout" => Duration::from_secs(30),
        /// `tcp.serversTransports.<name>.proxyProtocol` (since v3.5.2).
        @allow_empty proxy_protocol: Option<ProxyProtocol> = "proxyProtocol",
        /// `tcp.serversTransports.<name>.terminationDelay`.
        termination_delay: Duration = "terminationDelay" => Duration::from_millis(100),
        /// `tcp.serversTransports.<name>.tls`.
        @allow_empty tls: Option<TLSClientConfig> = "tls",
    }
}

// tcp.serversTransports.<name>.tls (pkg/config/dynamic.TLSClientConfig)
section! {
    /// `tcp.serversTransports.<name>.tls`.
    pub struct TLSClientConfig {
        /// `tcp.serversTransports.<name>.tls.serverName`.
        server_name: String = "serverName",
        /// `tcp.serversTransports.<name>.tls.insecureSkipVerify`.
        insecure_skip_verify: bool = "insecureSkipVerify",
        /// `tcp.serversTransports.<name>.tls.rootCAs`.
        root_cas: Vec<String> = "rootCAs",
        /// `tcp.serversTransports.<name>.tls.certificates`.
        certificates: Vec<Certificate> = "certificates",
        /// `tcp.serversTransports.<name>.tls.peerCertURI`.
        peer_cert_uri: String = "peerCertURI",
        /// `tcp.serversTransports.<name>.tls.spiffe`.
        @allow_empty spiffe: Option<Spiffe> = "spiffe",
    }
}
