//! `providers`: the file and HTTP providers (in scope) and the sections of providers that
//! TrafficCop accepts but ignores (Docker, Kubernetes, Consul, ...).

use super::*;

// providers (pkg/config/static.Providers)
section! {
    /// `providers`.
    pub struct Providers {
        /// `providers.providersThrottleDuration`.
        providers_throttle_duration: Duration = "providersThrottleDuration" => Duration::from_secs(2),
        /// `providers.precedence` (since v3.7.0).
        precedence: Vec<String> = "precedence" => default_precedence(),
        /// `providers.docker`.
        @allow_empty docker: Option<DockerProvider> = "docker",
        /// `providers.swarm`.
        @allow_empty swarm: Option<SwarmProvider> = "swarm",
        /// `providers.file`.
        file: Option<FileProvider> = "file",
        /// `providers.kubernetesIngress`.
        @allow_empty kubernetes_ingress: Option<AnyValue> = "kubernetesIngress",
        /// `providers.kubernetesIngressNGINX` (since v3.5.0).
        @allow_empty kubernetes_ingress_nginx: Option<AnyValue> = "kubernetesIngressNGINX",
        /// `providers.kubernetesCRD`.
        @allow_empty kubernetes_crd: Option<AnyValue> = "kubernetesCRD",
        /// `providers.kubernetesGateway`.
        @allow_empty kubernetes_gateway: Option<AnyValue> = "kubernetesGateway",
        /// `providers.knative` (since v3.6.0).
        @allow_empty knative: Option<AnyValue> = "knative",
        /// `providers.rest`.
        @allow_empty rest: Option<RestProvider> = "rest",
        /// `providers.consulCatalog`.
        @allow_empty consul_catalog: Option<ConsulCatalogProviderBuilder> = "consulCatalog",
        /// `providers.nomad`.
        @allow_empty nomad: Option<NomadProviderBuilder> = "nomad",
        /// `providers.ecs`.
        @allow_empty ecs: Option<EcsProvider> = "ecs",
        /// `providers.consul`.
        @allow_empty consul: Option<ConsulProviderBuilder> = "consul",
        /// `providers.etcd`.
        @allow_empty etcd: Option<EtcdProvider> = "etcd",
        /// `providers.zooKeeper`.
        @allow_empty zoo_keeper: Option<AnyValue> = "zooKeeper",
        /// `providers.redis`.
        @allow_empty redis: Option<AnyValue> = "redis",
        /// `providers.http`.
        @allow_empty http: Option<HttpProvider> = "http",
        /// `providers.plugin`.
        plugin: AnyValue = "plugin",
    }
}

// providers.docker (pkg/provider/docker.Shared)
section! {
    /// `providers.docker`.
    pub struct DockerProvider {
        /// `providers.docker.exposedByDefault`.
        exposed_by_default: bool = "exposedByDefault",
        /// `providers.docker.constraints`.
        constraints: String = "constraints",
        /// `providers.docker.allowEmptyServices`.
        allow_empty_services: bool = "allowEmptyServices",
        /// `providers.docker.network`.
        network: String = "network",
        /// `providers.docker.useBindPortIP`.
        use_bind_port_ip: bool = "useBindPortIP",
        /// `providers.docker.watch`.
        watch: bool = "watch",
        /// `providers.docker.defaultRule`.
        default_rule: String = "defaultRule",
        /// `providers.docker.username` (since v3.2.0).
        username: String = "username",
        /// `providers.docker.password` (since v3.2.0).
        password: String = "password",
        /// `providers.docker.endpoint`.
        endpoint: String = "endpoint",
        /// `providers.docker.tls`.
        tls: Option<ClientTLS> = "tls",
        /// `providers.docker.httpClientTimeout`.
        http_client_timeout: Duration = "httpClientTimeout",
    }
}

// providers.swarm (pkg/provider/docker.Shared)
section! {
    /// `providers.swarm`.
    pub struct SwarmProvider {
        /// `providers.swarm.exposedByDefault`.
        exposed_by_default: bool = "exposedByDefault",
        /// `providers.swarm.constraints`.
        constraints: String = "constraints",
        /// `providers.swarm.allowEmptyServices`.
        allow_empty_services: bool = "allowEmptyServices",
        /// `providers.swarm.network`.
        network: String = "network",
        /// `providers.swarm.useBindPortIP`.
        use_bind_port_ip: bool = "useBindPortIP",
        /// `providers.swarm.watch`.
        watch: bool = "watch",
        /// `providers.swarm.defaultRule`.
        default_rule: String = "defaultRule",
        /// `providers.swarm.username` (since v3.2.0).
        username: String = "username",
        /// `providers.swarm.password` (since v3.2.0).
        password: String = "password",
        /// `providers.swarm.endpoint`.
        endpoint: String = "endpoint",
        /// `providers.swarm.tls`.
        tls: Option<ClientTLS> = "tls",
        /// `providers.swarm.httpClientTimeout`.
        http_client_timeout: Duration = "httpClientTimeout",
        /// `providers.swarm.refreshSeconds`.
        refresh_seconds: Duration = "refreshSeconds",
    }
}

// providers.file (pkg/provider/file.DockerProvider)
section! {
    /// `providers.file`.
    pub struct FileProvider {
        /// `providers.file.directory`.
        directory: String = "directory",
        /// `providers.file.watch`.
        watch: bool = "watch" => true,
        /// `providers.file.filename`.
        filename: String = "filename",
        /// `providers.file.debugLogGeneratedTemplate`.
        debug_log_generated_template: bool = "debugLogGeneratedTemplate",
    }
}

// providers.rest (pkg/provider/rest.DockerProvider)
section! {
    /// `providers.rest`.
    pub struct RestProvider {
        /// `providers.rest.insecure`.
        insecure: bool = "insecure",
    }
}

// providers.consulCatalog (pkg/provider/consulcatalog.AcmeConfiguration)
section! {
    /// `providers.consulCatalog`.
    pub struct ConsulCatalogProviderBuilder {
        /// `providers.consulCatalog.constraints`.
        constraints: String = "constraints",
        /// `providers.consulCatalog.endpoint`.
        endpoint: Option<ConsulCatalogEndpointConfig> = "endpoint",
        /// `providers.consulCatalog.prefix`.
        prefix: String = "prefix",
        /// `providers.consulCatalog.refreshInterval`.
        refresh_interval: Duration = "refreshInterval",
        /// `providers.consulCatalog.requireConsistent`.
        require_consistent: bool = "requireConsistent",
        /// `providers.consulCatalog.stale`.
        stale: bool = "stale",
        /// `providers.consulCatalog.cache`.
        cache: bool = "cache",
        /// `providers.consulCatalog.exposedByDefault`.
        exposed_by_default: bool = "exposedByDefault",
        /// `providers.consulCatalog.defaultRule`.
        default_rule: String = "defaultRule",
        /// `providers.consulCatalog.connectAware`.
        connect_aware: bool = "connectAware",
        /// `providers.consulCatalog.connectByDefault`.
        connect_by_default: bool = "connectByDefault",
        /// `providers.consulCatalog.serviceName`.
        service_name: String = "serviceName",
        /// `providers.consulCatalog.watch`.
        watch: bool = "watch",
        /// `providers.consulCatalog.strictChecks`.
        strict_checks: Vec<String> = "strictChecks",
        /// `providers.consulCatalog.namespaces`.
        namespaces: Vec<String> = "namespaces",
    }
}

// providers.consulCatalog.endpoint (pkg/provider/consulcatalog.ConsulCatalogEndpointConfig)
section! {
    /// `providers.consulCatalog.endpoint`.
    pub struct ConsulCatalogEndpointConfig {
        /// `providers.consulCatalog.endpoint.address`.
        address: String = "address",
        /// `providers.consulCatalog.endpoint.scheme`.
        scheme: String = "scheme",
        /// `providers.consulCatalog.endpoint.datacenter`.
        datacenter: String = "datacenter",
        /// `providers.consulCatalog.endpoint.token`.
        token: String = "token",
        /// `providers.consulCatalog.endpoint.tls`.
        tls: Option<ClientTLS> = "tls",
        /// `providers.consulCatalog.endpoint.httpAuth`.
        http_auth: Option<EndpointHTTPAuthConfig> = "httpAuth",
        /// `providers.consulCatalog.endpoint.endpointWaitTime`.
        endpoint_wait_time: Duration = "endpointWaitTime",
    }
}

// providers.consulCatalog.endpoint.httpAuth (pkg/provider/consulcatalog.EndpointHTTPAuthConfig)
section! {
    /// `providers.consulCatalog.endpoint.httpAuth`.
    pub struct EndpointHTTPAuthConfig {
        /// `providers.consulCatalog.endpoint.httpAuth.username`.
        username: String = "username",
        /// `providers.consulCatalog.endpoint.httpAuth.password`.
        password: String = "password",
    }
}

// providers.nomad (pkg/provider/nomad.AcmeConfiguration)
section! {
    /// `providers.nomad`.
    pub struct NomadProviderBuilder {
        /// `providers.nomad.defaultRule`.
        default_rule: String = "defaultRule",
        /// `providers.nomad.constraints`.
        constraints: String = "constraints",
        /// `providers.nomad.endpoint`.
        endpoint: Option<NomadEndpointConfig> = "endpoint",
        /// `providers.nomad.prefix`.
        prefix: String = "prefix",
        /// `providers.nomad.stale`.
        stale: bool = "stale",
        /// `providers.nomad.exposedByDefault`.
        exposed_by_default: bool = "exposedByDefault",
        /// `providers.nomad.refreshInterval`.
        refresh_interval: Duration = "refreshInterval",
        /// `providers.nomad.allowEmptyServices`.
        allow_empty_services: bool = "allowEmptyServices",
        /// `providers.nomad.watch` (since v3.2.0).
        watch: bool = "watch",
        /// `providers.nomad.throttleDuration` (since v3.2.0).
        throttle_duration: Duration = "throttleDuration",
        /// `providers.nomad.namespaces`.
        namespaces: Vec<String> = "namespaces",
    }
}

// providers.nomad.endpoint (pkg/provider/nomad.ConsulCatalogEndpointConfig)
section! {
    /// `providers.nomad.endpoint`.
    pub struct NomadEndpointConfig {
        /// `providers.nomad.endpoint.address`.
        address: String = "address",
        /// `providers.nomad.endpoint.region`.
        region: String = "region",
        /// `providers.nomad.endpoint.token`.
        token: String = "token",
        /// `providers.nomad.endpoint.tls`.
        tls: Option<ClientTLS> = "tls",
        /// `providers.nomad.endpoint.endpointWaitTime`.
        endpoint_wait_time: Duration = "endpointWaitTime",
    }
}

// providers.ecs (pkg/provider/ecs.DockerProvider)
section! {
    /// `providers.ecs`.
    pub struct EcsProvider {
        /// `providers.ecs.constraints`.
        constraints: String = "constraints",
        /// `providers.ecs.exposedByDefault`.
        exposed_by_default: bool = "exposedByDefault",
        /// `providers.ecs.refreshSeconds`.
        refresh_seconds: i64 = "refreshSeconds",
        /// `providers.ecs.defaultRule`.
        default_rule: String = "defaultRule",
        /// `providers.ecs.clusters`.
        clusters: Vec<String> = "clusters",
        /// `providers.ecs.autoDiscoverClusters`.
        auto_discover_clusters: bool = "autoDiscoverClusters",
        /// `providers.ecs.healthyTasksOnly`.
        healthy_tasks_only: bool = "healthyTasksOnly",
        /// `providers.ecs.ecsAnywhere`.
        ecs_anywhere: bool = "ecsAnywhere",
        /// `providers.ecs.region`.
        region: String = "region",
        /// `providers.ecs.accessKeyID`.
        access_key_id: String = "accessKeyID",
        /// `providers.ecs.secretAccessKey`.
        secret_access_key: String = "secretAccessKey",
    }
}

// providers.consul (pkg/provider/kv.DockerProvider)
section! {
    /// `providers.consul`.
    pub struct ConsulProviderBuilder {
        /// `providers.consul.rootKey`.
        root_key: String = "rootKey",
        /// `providers.consul.endpoints`.
        endpoints: Vec<String> = "endpoints",
        /// `providers.consul.token`.
        token: String = "token",
        /// `providers.consul.tls`.
        tls: Option<ClientTLS> = "tls",
        /// `providers.consul.namespaces`.
        namespaces: Vec<String> = "namespaces",
    }
}

// providers.etcd (pkg/provider/kv.DockerProvider)
section! {
    /// `providers.etcd`.
    pub struct EtcdProvider {
        /// `providers.etcd.rootKey`.
        root_key: String = "rootKey",
        /// `providers.etcd.endpoints`.
        endpoints: Vec<String> = "endpoints",
        /// `providers.etcd.tls`.
        tls: Option<ClientTLS> = "tls",
        /// `providers.etcd.username`.
        username: String = "username",
        /// `providers.etcd.password`.
        password: String = "password",
    }
}

// providers.zooKeeper (pkg/provider/kv.DockerProvider)
section! {
    /// `providers.zooKeeper`.
    pub struct KvStoreProvider {
        /// `providers.zooKeeper.rootKey`.
        root_key: String = "rootKey",
        /// `providers.zooKeeper.endpoints`.
        endpoints: Vec<String> = "endpoints",
        /// `providers.zooKeeper.username`.
        username: String = "username",
        /// `providers.zooKeeper.password`.
        password: String = "password",
    }
}

// providers.redis.sentinel (pkg/provider/kv/redis.Sentinel)
section! {
    /// `providers.redis.sentinel`.
    pub struct Sentinel {
        /// `providers.redis.sentinel.masterName`.
        master_name: String = "masterName",
        /// `providers.redis.sentinel.username`.
        username: String = "username",
        /// `providers.redis.sentinel.password`.
        password: String = "password",
        /// `providers.redis.sentinel.latencyStrategy`.
        latency_strategy: bool = "latencyStrategy",
        /// `providers.redis.sentinel.randomStrategy`.
        random_strategy: bool = "randomStrategy",
        /// `providers.redis.sentinel.replicaStrategy`.
        replica_strategy: bool = "replicaStrategy",
        /// `providers.redis.sentinel.useDisconnectedReplicas`.
        use_disconnected_replicas: bool = "useDisconnectedReplicas",
    }
}

// providers.http (pkg/provider/http.DockerProvider)
section! {
    /// `providers.http`.
    pub struct HttpProvider {
        /// `providers.http.endpoint`.
        endpoint: String = "endpoint",
        /// `providers.http.pollInterval`.
        poll_interval: Duration = "pollInterval" => Duration::from_secs(5),
        /// `providers.http.pollTimeout`.
        poll_timeout: Duration = "pollTimeout" => Duration::from_secs(5),
        /// `providers.http.headers`.
        headers: BTreeMap<String, String> = "headers",
        /// `providers.http.tls`.
        tls: Option<ClientTLS> = "tls",
        /// `providers.http.maxResponseBodySize` (since v3.6.11).
        max_response_body_size: i64 = "maxResponseBodySize" => -1,
    }
}
