//! `udp`: UDP routers and services.

use super::*;

// udp (pkg/config/dynamic.UDPConfiguration)
section! {
    /// `udp`.
    pub struct UDPConfiguration {
        /// `udp.routers`.
        routers: BTreeMap<String, UDPRouter> = "routers",
        /// `udp.services`.
        services: BTreeMap<String, UDPService> = "services",
    }
}

// udp.routers.<name> (pkg/config/dynamic.UDPRouter)
section! {
    /// `udp.routers.<name>`.
    pub struct UDPRouter {
        /// `udp.routers.<name>.entryPoints`.
        entry_points: Vec<String> = "entryPoints",
        /// `udp.routers.<name>.service`.
        service: String = "service",
    }
}

// udp.services.<name> (pkg/config/dynamic.UDPService)
section! {
    /// `udp.services.<name>`.
    pub struct UDPService {
        /// `udp.services.<name>.loadBalancer`.
        load_balancer: Option<UDPServersLoadBalancer> = "loadBalancer",
        /// `udp.services.<name>.weighted`.
        weighted: Option<UDPWeightedRoundRobin> = "weighted",
    }
}

// udp.services.<name>.loadBalancer (pkg/config/dynamic.UDPServersLoadBalancer)
section! {
    /// `udp.services.<name>.loadBalancer`.
    pub struct UDPServersLoadBalancer {
        /// `udp.services.<name>.loadBalancer.servers`.
        servers: Vec<UDPServer> = "servers",
    }
}

// udp.services.<name>.loadBalancer.servers (pkg/config/dynamic.UDPServer)
section! {
    /// `udp.services.<name>.loadBalancer.servers`.
    pub struct UDPServer {
        /// `udp.services.<name>.loadBalancer.servers[].address`.
        address: String = "address",
    }
    ignore ["Port"]
}

// udp.services.<name>.weighted (pkg/config/dynamic.UDPWeightedRoundRobin)
section! {
    /// `udp.services.<name>.weighted`.
    pub struct UDPWeightedRoundRobin {
        /// `udp.services.<name>.weighted.services`.
        services: Vec<UDPWRRService> = "services",
    }
}

// udp.services.<name>.weighted.services (pkg/config/dynamic.UDPWRRService)
section! {
    /// `udp.services.<name>.weighted.services`.
    pub struct UDPWRRService {
        /// `udp.services.<name>.weighted.services[].name`.
        name: String = "name",
        /// `udp.services.<name>.weighted.services[].weight`.
        weight: Option<i64> = "weight",
    }
}
