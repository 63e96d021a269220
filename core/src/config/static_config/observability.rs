//! `api`, `metrics`, `ping`, `log`, `accessLog` and `tracing`.

use super::*;

// api (pkg/config/static.Api)
section! {
    /// `api`.
    pub struct Api {
        /// `api.basePath` (since v3.3.0).
        base_path: String = "basePath" => "/".into(),
        /// `api.insecure`.
        insecure: bool = "insecure",
        /// `api.dashboard`.
        dashboard: bool = "dashboard" => true,
        /// `api.debug`.
        debug: bool = "debug",
        /// `api.disableDashboardAd`.
        disable_dashboard_ad: bool = "disableDashboardAd",
        /// `api.dashboardName` (since v3.7.0).
        dashboard_name: String = "dashboardName",
    }
}

// metrics (pkg/observability/types.Metrics)
section! {
    /// `metrics`.
    pub struct Metrics {
        /// `metrics.addInternals`.
        add_internals: bool = "addInternals",
        /// `metrics.prometheus`.
        @allow_empty prometheus: Option<Prometheus> = "prometheus",
        /// `metrics.datadog`.
        @allow_empty datadog: Option<Datadog> = "datadog",
        /// `metrics.statsD`.
        @allow_empty statsd: Option<Statsd> = "statsD",
        /// `metrics.influxDB2`.
        @allow_empty influx_db2: Option<InfluxDB2> = "influxDB2",
        /// `metrics.otlp`.
        @allow_empty otlp: Option<Otlp> = "otlp",
    }
}

// metrics.prometheus (pkg/observability/types.Prometheus)
section! {
    /// `metrics.prometheus`.
    pub struct Prometheus {
        /// `metrics.prometheus.buckets`.
        buckets: Vec<f64> = "buckets" => vec![0.1, 0.3, 1.2, 5.0],
        /// `metrics.prometheus.addEntryPointsLabels`.
        add_entry_points_labels: bool = "addEntryPointsLabels" => true,
        /// `metrics.prometheus.addRoutersLabels`.
        add_routers_labels: bool = "addRoutersLabels",
        /// `metrics.prometheus.addServicesLabels`.
        add_services_labels: bool = "addServicesLabels" => true,
        /// `metrics.prometheus.entryPoint`.
        entry_point: String = "entryPoint" => "traefik".into(),
        /// `metrics.prometheus.manualRouting`.
        manual_routing: bool = "manualRouting",
        /// `metrics.prometheus.headerLabels`.
        header_labels: BTreeMap<String, String> = "headerLabels",
    }
}

// metrics.datadog (pkg/observability/types.Datadog)
section! {
    /// `metrics.datadog`.
    pub struct Datadog {
        /// `metrics.datadog.address`.
        address: String = "address" => "localhost:8125".into(),
        /// `metrics.datadog.pushInterval`.
        push_interval: Duration = "pushInterval" => Duration::from_secs(10),
        /// `metrics.datadog.addEntryPointsLabels`.
        add_entry_points_labels: bool = "addEntryPointsLabels" => true,
        /// `metrics.datadog.addRoutersLabels`.
        add_routers_labels: bool = "addRoutersLabels",
        /// `metrics.datadog.addServicesLabels`.
        add_services_labels: bool = "addServicesLabels" => true,
        /// `metrics.datadog.prefix`.
        prefix: String = "prefix" => "traefik".into(),
    }
}

// metrics.statsD (pkg/observability/types.Statsd)
section! {
    /// `metrics.statsD`.
    pub struct Statsd {
        /// `metrics.statsD.address`.
        address: String = "address" => "localhost:8125".into(),
        /// `metrics.statsD.pushInterval`.
        push_interval: Duration = "pushInterval" => Duration::from_secs(10),
        /// `metrics.statsD.addEntryPointsLabels`.
        add_entry_points_labels: bool = "addEntryPointsLabels" => true,
        /// `metrics.statsD.addRoutersLabels`.
        add_routers_labels: bool = "addRoutersLabels",
        /// `metrics.statsD.addServicesLabels`.
        add_services_labels: bool = "addServicesLabels" => true,
        /// `metrics.statsD.prefix`.
        prefix: String = "prefix" => "traefik".into(),
    }
}

// metrics.influxDB2 (pkg/observability/types.InfluxDB2)
section! {
    /// `metrics.influxDB2`.
    pub struct InfluxDB2 {
        /// `metrics.influxDB2.address`.
        address: String = "address" => "http://localhost:8086".into(),
        /// `metrics.influxDB2.token`.
        token: String = "token",
        /// `metrics.influxDB2.pushInterval`.
        push_interval: Duration = "pushInterval" => Duration::from_secs(10),
        /// `metrics.influxDB2.org`.
        org: String = "org",
        /// `metrics.influxDB2.bucket`.
        bucket: String = "bucket",
        /// `metrics.influxDB2.addEntryPointsLabels`.
        add_entry_points_labels: bool = "addEntryPointsLabels" => true,
        /// `metrics.influxDB2.addRoutersLabels`.
        add_routers_labels: bool = "addRoutersLabels",
        /// `metrics.influxDB2.addServicesLabels`.
        add_services_labels: bool = "addServicesLabels" => true,
        /// `metrics.influxDB2.additionalLabels`.
        additional_labels: BTreeMap<String, String> = "additionalLabels",
    }
}

// metrics.otlp (pkg/observability/types.Otlp)
section! {
    /// `metrics.otlp`.
    pub struct Otlp {
        /// `metrics.otlp.grpc`.
        @allow_empty grpc: Option<OTelGRPC> = "grpc",
        /// `metrics.otlp.http`.
        @allow_empty http: Option<OTelHTTP> = "http" => Some(OTelHTTP::default()),
        /// `metrics.otlp.addEntryPointsLabels`.
        add_entry_points_labels: bool = "addEntryPointsLabels" => true,
        /// `metrics.otlp.addRoutersLabels`.
        add_routers_labels: bool = "addRoutersLabels",
        /// `metrics.otlp.addServicesLabels`.
        add_services_labels: bool = "addServicesLabels" => true,
        /// `metrics.otlp.explicitBoundaries`.
        explicit_boundaries: Vec<f64> = "explicitBoundaries" => vec![0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0],
        /// `metrics.otlp.pushInterval`.
        push_interval: Duration = "pushInterval" => Duration::from_secs(10),
        /// `metrics.otlp.serviceName` (since v3.2.0).
        service_name: String = "serviceName" => "traefik".into(),
        /// `metrics.otlp.resourceAttributes` (since v3.5.0).
        resource_attributes: BTreeMap<String, String> = "resourceAttributes",
    }
}

// metrics.otlp.grpc (pkg/observability/types.OTelGRPC)
section! {
    /// `metrics.otlp.grpc`.
    pub struct OTelGRPC {
        /// `metrics.otlp.grpc.endpoint`.
        endpoint: String = "endpoint" => "localhost:4317".into(),
        /// `metrics.otlp.grpc.insecure`.
        insecure: bool = "insecure",
        /// `metrics.otlp.grpc.tls`.
        tls: Option<ClientTLS> = "tls",
        /// `metrics.otlp.grpc.headers`.
        headers: BTreeMap<String, String> = "headers",
    }
}

// metrics.otlp.http (pkg/observability/types.OTelHTTP)
section! {
    /// `metrics.otlp.http`.
    pub struct OTelHTTP {
        /// `metrics.otlp.http.endpoint`.
        endpoint: String = "endpoint" => "https://localhost:4318".into(),
        /// `metrics.otlp.http.tls`.
        tls: Option<ClientTLS> = "tls",
        /// `metrics.otlp.http.headers`.
        headers: BTreeMap<String, String> = "headers",
    }
}

// ping (pkg/ping.Ping)
section! {
    /// `ping`.
    pub struct Ping {
        /// `ping.entryPoint`.
        entry_point: String = "entryPoint" => "traefik".into(),
        /// `ping.manualRouting`.
        manual_routing: bool = "manualRouting",
        /// `ping.terminatingStatusCode`.
        terminating_status_code: i64 = "terminatingStatusCode" => 503,
    }
}

// log (pkg/observability/types.TraefikLog)
section! {
    /// `log`.
    pub struct TraefikLog {
        /// `log.level`.
        level: String = "level" => "ERROR".into(),
        /// `log.format`.
        format: String = "format" => "common".into(),
        /// `log.noColor`.
        no_color: bool = "noColor",
        /// `log.filePath`.
        file_path: String = "filePath",
        /// `log.maxSize`.
        max_size: i64 = "maxSize",
        /// `log.maxAge`.
        max_age: i64 = "maxAge",
        /// `log.maxBackups`.
        max_backups: i64 = "maxBackups",
        /// `log.compress`.
        compress: bool = "compress",
        /// `log.otlp` (since v3.3.0).
        @allow_empty otlp: Option<OTelLog> = "otlp",
    }
}

// log.otlp (pkg/observability/types.OTelLog)
section! {
    /// `log.otlp`.
    pub struct OTelLog {
        /// `log.otlp.serviceName` (since v3.3.0).
        service_name: String = "serviceName" => "traefik".into(),
        /// `log.otlp.resourceAttributes` (since v3.3.0).
        resource_attributes: BTreeMap<String, String> = "resourceAttributes",
        /// `log.otlp.grpc` (since v3.3.0).
        @allow_empty grpc: Option<OTelGRPC> = "grpc",
        /// `log.otlp.http` (since v3.3.0).
        @allow_empty http: Option<OTelHTTP> = "http",
    }
}

// accessLog (pkg/observability/types.AccessLog)
section! {
    /// `accessLog`.
    pub struct AccessLog {
        /// `accessLog.filePath`.
        file_path: String = "filePath",
        /// `accessLog.format`.
        format: String = "format" => "common".into(),
        /// `accessLog.filters`.
        filters: Option<AccessLogFilters> = "filters" => Some(AccessLogFilters::default()),
        /// `accessLog.fields`.
        fields: Option<AccessLogFields> = "fields" => Some(AccessLogFields::default()),
        /// `accessLog.bufferingSize`.
        buffering_size: i64 = "bufferingSize",
        /// `accessLog.addInternals`.
        add_internals: bool = "addInternals",
        /// `accessLog.dualOutput` (since v3.7.0).
        dual_output: bool = "dualOutput",
        /// `accessLog.otlp` (since v3.3.0).
        @allow_empty otlp: Option<OTelLog> = "otlp",
    }
}

// accessLog.filters (pkg/observability/types.AccessLogFilters)
section! {
    /// `accessLog.filters`.
    pub struct AccessLogFilters {
        /// `accessLog.filters.statusCodes`.
        status_codes: Vec<String> = "statusCodes",
        /// `accessLog.filters.retryAttempts`.
        retry_attempts: bool = "retryAttempts",
        /// `accessLog.filters.minDuration`.
        min_duration: Duration = "minDuration",
    }
}

// accessLog.fields (pkg/observability/types.AccessLogFields)
section! {
    /// `accessLog.fields`.
    pub struct AccessLogFields {
        /// `accessLog.fields.defaultMode`.
        default_mode: String = "defaultMode" => "keep".into(),
        /// `accessLog.fields.names`.
        names: BTreeMap<String, String> = "names",
        /// `accessLog.fields.headers`.
        headers: Option<FieldHeaders> = "headers" => Some(FieldHeaders::default()),
        /// `accessLog.fields.queryParameters` (since v3.6.18).
        query_parameters: Option<FieldQueryParameters> = "queryParameters" => Some(FieldQueryParameters::default()),
    }
}

// accessLog.fields.headers (pkg/observability/types.FieldHeaders)
section! {
    /// `accessLog.fields.headers`.
    pub struct FieldHeaders {
        /// `accessLog.fields.headers.defaultMode`.
        default_mode: String = "defaultMode" => "drop".into(),
        /// `accessLog.fields.headers.names`.
        names: BTreeMap<String, String> = "names",
    }
}

// accessLog.fields.queryParameters (pkg/observability/types.FieldQueryParameters)
section! {
    /// `accessLog.fields.queryParameters`.
    pub struct FieldQueryParameters {
        /// `accessLog.fields.queryParameters.defaultMode` (since v3.6.18).
        default_mode: String = "defaultMode" => "keep".into(),
    }
}

// tracing (pkg/config/static.Tracing)
section! {
    /// `tracing`.
    pub struct Tracing {
        /// `tracing.serviceName`.
        service_name: String = "serviceName" => "traefik".into(),
        /// `tracing.resourceAttributes` (since v3.3.0).
        resource_attributes: BTreeMap<String, String> = "resourceAttributes",
        /// `tracing.capturedRequestHeaders`.
        captured_request_headers: Vec<String> = "capturedRequestHeaders",
        /// `tracing.capturedResponseHeaders`.
        captured_response_headers: Vec<String> = "capturedResponseHeaders",
        /// `tracing.safeQueryParams` (since v3.1.0).
        safe_query_params: Vec<String> = "safeQueryParams",
        /// `tracing.sampleRate`.
        sample_rate: f64 = "sampleRate" => 1.0,
        /// `tracing.addInternals`.
        add_internals: bool = "addInternals",
        /// `tracing.otlp`.
        @allow_empty otlp: Option<OTelTracing> = "otlp" => Some(OTelTracing::default()),
        /// `tracing.globalAttributes`.
        global_attributes: BTreeMap<String, String> = "globalAttributes",
    }
}

// tracing.otlp (pkg/observability/types.OTelTracing)
section! {
    /// `tracing.otlp`.
    pub struct OTelTracing {
        /// `tracing.otlp.grpc`.
        @allow_empty grpc: Option<OTelGRPC> = "grpc",
        /// `tracing.otlp.http`.
        @allow_empty http: Option<OTelHTTP> = "http",
    }
}
