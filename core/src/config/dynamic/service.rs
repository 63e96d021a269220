//! `http.services.<name>`: load balancers, weighted, mirroring, failover, HRW.

use super::*;

// http.services.<name> (pkg/config/dynamic.Service)
section! {
    /// `http.services.<name>`.
    pub struct Service {
        /// `http.services.<name>.middlewares` (since v3.7.0).
        middlewares: Vec<String> = "middlewares",
        /// `http.services.<name>.loadBalancer`.
        load_balancer: Option<Box<ServersLoadBalancer>> = "loadBalancer",
        /// `http.services.<name>.highestRandomWeight` (since v3.6.0).
        highest_random_weight: Option<Box<HighestRandomWeight>> = "highestRandomWeight",
        /// `http.services.<name>.weighted`.
        weighted: Option<Box<WeightedRoundRobin>> = "weighted",
        /// `http.services.<name>.mirroring`.
        mirroring: Option<Box<Mirroring>> = "mirroring",
        /// `http.services.<name>.failover`.
        failover: Option<Box<Failover>> = "failover",
    }
}

// http.services.<name>.loadBalancer (pkg/config/dynamic.ServersLoadBalancer)
section! {
    /// `http.services.<name>.loadBalancer`.
    pub struct ServersLoadBalancer {
        /// `http.services.<name>.loadBalancer.sticky`.
        @allow_empty sticky: Option<Sticky> = "sticky",
        /// `http.services.<name>.loadBalancer.servers`.
        servers: Vec<Server> = "servers",
        /// `http.services.<name>.loadBalancer.strategy` (since v3.4.0).
        strategy: String = "strategy" => "wrr".into(),
        /// `http.services.<name>.loadBalancer.healthCheck`.
        health_check: Option<ServerHealthCheck> = "healthCheck",
        /// `http.services.<name>.loadBalancer.passiveHealthCheck` (since v3.6.0).
        passive_health_check: Option<PassiveServerHealthCheck> = "passiveHealthCheck",
        /// `http.services.<name>.loadBalancer.passHostHeader`.
        pass_host_header: Option<bool> = "passHostHeader" => Some(true),
        /// `http.services.<name>.loadBalancer.responseForwarding`.
        response_forwarding: Option<ResponseForwarding> = "responseForwarding",
        /// `http.services.<name>.loadBalancer.serversTransport`.
        servers_transport: String = "serversTransport",
    }
    ignore ["nginxUpstreamHashBy"]
}

// http.services.<name>.loadBalancer.sticky (pkg/config/dynamic.Sticky)
section! {
    /// `http.services.<name>.loadBalancer.sticky`.
    pub struct Sticky {
        /// `http.services.<name>.loadBalancer.sticky.cookie`.
        @allow_empty cookie: Option<Cookie> = "cookie",
    }
}

// http.services.<name>.loadBalancer.sticky.cookie (pkg/config/dynamic.Cookie)
section! {
    /// `http.services.<name>.loadBalancer.sticky.cookie`.
    pub struct Cookie {
        /// `http.services.<name>.loadBalancer.sticky.cookie.name`.
        name: String = "name",
        /// `http.services.<name>.loadBalancer.sticky.cookie.secure`.
        secure: bool = "secure",
        /// `http.services.<name>.loadBalancer.sticky.cookie.httpOnly`.
        http_only: bool = "httpOnly",
        /// `http.services.<name>.loadBalancer.sticky.cookie.sameSite`.
        same_site: String = "sameSite",
        /// `http.services.<name>.loadBalancer.sticky.cookie.maxAge`.
        max_age: i64 = "maxAge",
        /// `http.services.<name>.loadBalancer.sticky.cookie.path` (since v3.3.0).
        path: Option<String> = "path" => Some("/".into()),
        /// `http.services.<name>.loadBalancer.sticky.cookie.domain` (since v3.4.0).
        domain: String = "domain",
    }
    ignore ["Expires"]
}

// http.services.<name>.loadBalancer.servers (pkg/config/dynamic.Server)
section! {
    /// `http.services.<name>.loadBalancer.servers`.
    pub struct Server {
        /// `http.services.<name>.loadBalancer.servers[].url`.
        url: String = "url",
        /// `http.services.<name>.loadBalancer.servers[].weight`.
        weight: Option<i64> = "weight",
        /// `http.services.<name>.loadBalancer.servers[].preservePath` (since v3.2.0).
        preserve_path: bool = "preservePath",
    }
    ignore ["fenced", "Scheme", "Port"]
}

// http.services.<name>.loadBalancer.healthCheck (pkg/config/dynamic.ServerHealthCheck)
section! {
    /// `http.services.<name>.loadBalancer.healthCheck`.
    pub struct ServerHealthCheck {
        /// `http.services.<name>.loadBalancer.healthCheck.scheme`.
        scheme: String = "scheme",
        /// `http.services.<name>.loadBalancer.healthCheck.mode`.
        mode: String = "mode" => "http".into(),
        /// `http.services.<name>.loadBalancer.healthCheck.path`.
        path: String = "path",
        /// `http.services.<name>.loadBalancer.healthCheck.method`.
        method: String = "method",
        /// `http.services.<name>.loadBalancer.healthCheck.status`.
        status: i64 = "status",
        /// `http.services.<name>.loadBalancer.healthCheck.port`.
        port: i64 = "port",
        /// `http.services.<name>.loadBalancer.healthCheck.interval`.
        interval: Duration = "interval" => Duration::from_secs(30),
        /// `http.services.<name>.loadBalancer.healthCheck.unhealthyInterval` (since v3.5.0).
        unhealthy_interval: Option<Duration> = "unhealthyInterval",
        /// `http.services.<name>.loadBalancer.healthCheck.timeout`.
        timeout: Duration = "timeout" => Duration::from_secs(5),
        /// `http.services.<name>.loadBalancer.healthCheck.hostname`.
        hostname: String = "hostname",
        /// `http.services.<name>.loadBalancer.healthCheck.followRedirects`.
        follow_redirects: Option<bool> = "followRedirects" => Some(true),
        /// `http.services.<name>.loadBalancer.healthCheck.headers`.
        headers: BTreeMap<String, String> = "headers",
    }
}

// http.services.<name>.loadBalancer.passiveHealthCheck (pkg/config/dynamic.PassiveServerHealthCheck)
section! {
    /// `http.services.<name>.loadBalancer.passiveHealthCheck`.
    pub struct PassiveServerHealthCheck {
        /// `http.services.<name>.loadBalancer.passiveHealthCheck.failureWindow` (since v3.6.0).
        failure_window: Duration = "failureWindow" => Duration::from_secs(10),
        /// `http.services.<name>.loadBalancer.passiveHealthCheck.maxFailedAttempts` (since v3.6.0).
        max_failed_attempts: i64 = "maxFailedAttempts" => 1,
    }
}

// http.services.<name>.loadBalancer.responseForwarding (pkg/config/dynamic.ResponseForwarding)
section! {
    /// `http.services.<name>.loadBalancer.responseForwarding`.
    pub struct ResponseForwarding {
        /// `http.services.<name>.loadBalancer.responseForwarding.flushInterval`.
        flush_interval: Duration = "flushInterval" => Duration::from_millis(100),
    }
}

// http.services.<name>.highestRandomWeight (pkg/config/dynamic.HighestRandomWeight)
section! {
    /// `http.services.<name>.highestRandomWeight`.
    pub struct HighestRandomWeight {
        /// `http.services.<name>.highestRandomWeight.services` (since v3.6.0).
        services: Vec<HRWService> = "services",
        /// `http.services.<name>.highestRandomWeight.healthCheck` (since v3.6.0).
        @allow_empty health_check: Option<EmptySection> = "healthCheck",
    }
}

// http.services.<name>.highestRandomWeight.services (pkg/config/dynamic.HRWService)
section! {
    /// `http.services.<name>.highestRandomWeight.services`.
    pub struct HRWService {
        /// `http.services.<name>.highestRandomWeight.services[].name` (since v3.6.0).
        name: String = "name",
        /// `http.services.<name>.highestRandomWeight.services[].weight` (since v3.6.0).
        weight: Option<i64> = "weight",
    }
}

// http.services.<name>.weighted (pkg/config/dynamic.WeightedRoundRobin)
section! {
    /// `http.services.<name>.weighted`.
    pub struct WeightedRoundRobin {
        /// `http.services.<name>.weighted.services`.
        services: Vec<WRRService> = "services",
        /// `http.services.<name>.weighted.sticky`.
        sticky: Option<Sticky> = "sticky",
        /// `http.services.<name>.weighted.healthCheck`.
        @allow_empty health_check: Option<EmptySection> = "healthCheck",
    }
}

// http.services.<name>.weighted.services (pkg/config/dynamic.WRRService)
section! {
    /// `http.services.<name>.weighted.services`.
    pub struct WRRService {
        /// `http.services.<name>.weighted.services[].name`.
        name: String = "name",
        /// `http.services.<name>.weighted.services[].weight`.
        weight: Option<i64> = "weight",
    }
    ignore ["Headers", "Status", "GRPCStatus"]
}

// http.services.<name>.mirroring (pkg/config/dynamic.Mirroring)
section! {
    /// `http.services.<name>.mirroring`.
    pub struct Mirroring {
        /// `http.services.<name>.mirroring.service`.
        service: String = "service",
        /// `http.services.<name>.mirroring.mirrorBody` (since v3.2.0).
        mirror_body: Option<bool> = "mirrorBody" => Some(true),
        /// `http.services.<name>.mirroring.maxBodySize`.
        max_body_size: Option<i64> = "maxBodySize" => Some(-1),
        /// `http.services.<name>.mirroring.mirrors`.
        mirrors: Vec<MirrorService> = "mirrors",
        /// `http.services.<name>.mirroring.healthCheck`.
        @allow_empty health_check: Option<EmptySection> = "healthCheck",
    }
}

// http.services.<name>.mirroring.mirrors (pkg/config/dynamic.MirrorService)
section! {
    /// `http.services.<name>.mirroring.mirrors`.
    pub struct MirrorService {
        /// `http.services.<name>.mirroring.mirrors[].name`.
        name: String = "name",
        /// `http.services.<name>.mirroring.mirrors[].percent`.
        percent: i64 = "percent",
    }
}

// http.services.<name>.failover (pkg/config/dynamic.Failover)
section! {
    /// `http.services.<name>.failover`.
    pub struct Failover {
        /// `http.services.<name>.failover.service`.
        service: String = "service",
        /// `http.services.<name>.failover.fallback`.
        fallback: String = "fallback",
        /// `http.services.<name>.failover.healthCheck`.
        @allow_empty health_check: Option<EmptySection> = "healthCheck",
        /// `http.services.<name>.failover.errors` (since v3.7.0).
        errors: Option<FailoverError> = "errors",
    }
}

// http.services.<name>.failover.errors (pkg/config/dynamic.FailoverError)
section! {
    /// `http.services.<name>.failover.errors`.
    pub struct FailoverError {
        /// `http.services.<name>.failover.errors.maxRequestBodyBytes` (since v3.7.0).
        max_request_body_bytes: Option<i64> = "maxRequestBodyBytes" => Some(-1),
        /// `http.services.<name>.failover.errors.status` (since v3.7.0).
        status: Vec<String> = "status",
    }
}
