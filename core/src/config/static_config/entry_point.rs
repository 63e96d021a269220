//! `entryPoints.<name>`: listeners, their timeouts, forwarded headers, HTTP defaults.

use super::*;

// entryPoints.<name> (pkg/config/static.EntryPoint)
section! {
    /// `entryPoints.<name>`.
    pub struct EntryPoint {
        /// `entryPoints.<name>.address`.
        address: String = "address",
        /// `entryPoints.<name>.allowACMEByPass` (since v3.1.3).
        allow_acme_by_pass: bool = "allowACMEByPass",
        /// `entryPoints.<name>.reusePort`.
        reuse_port: bool = "reusePort",
        /// `entryPoints.<name>.asDefault`.
        as_default: bool = "asDefault",
        /// `entryPoints.<name>.transport`.
        transport: Option<EntryPointsTransport> = "transport" => Some(EntryPointsTransport::default()),
        /// `entryPoints.<name>.proxyProtocol`.
        @allow_empty proxy_protocol: Option<ProxyProtocol> = "proxyProtocol",
        /// `entryPoints.<name>.forwardedHeaders`.
        forwarded_headers: Option<ForwardedHeaders> = "forwardedHeaders" => Some(ForwardedHeaders::default()),
        /// `entryPoints.<name>.http`.
        http: HTTPConfig = "http",
        /// `entryPoints.<name>.http2`.
        http2: Option<HTTP2Config> = "http2" => Some(HTTP2Config::default()),
        /// `entryPoints.<name>.http3`.
        @allow_empty http3: Option<HTTP3Config> = "http3",
        /// `entryPoints.<name>.udp`.
        udp: Option<UDPConfig> = "udp" => Some(UDPConfig::default()),
        /// `entryPoints.<name>.observability` (since v3.3.0).
        observability: Option<ObservabilityConfig> = "observability",
    }
}

// entryPoints.<name>.transport (pkg/config/static.EntryPointsTransport)
section! {
    /// `entryPoints.<name>.transport`.
    pub struct EntryPointsTransport {
        /// `entryPoints.<name>.transport.lifeCycle`.
        life_cycle: Option<LifeCycle> = "lifeCycle" => Some(LifeCycle::default()),
        /// `entryPoints.<name>.transport.respondingTimeouts`.
        responding_timeouts: Option<RespondingTimeouts> = "respondingTimeouts" => Some(RespondingTimeouts::default()),
        /// `entryPoints.<name>.transport.keepAliveMaxTime`.
        keep_alive_max_time: Duration = "keepAliveMaxTime",
        /// `entryPoints.<name>.transport.keepAliveMaxRequests`.
        keep_alive_max_requests: i64 = "keepAliveMaxRequests",
    }
}

// entryPoints.<name>.transport.lifeCycle (pkg/config/static.LifeCycle)
section! {
    /// `entryPoints.<name>.transport.lifeCycle`.
    pub struct LifeCycle {
        /// `entryPoints.<name>.transport.lifeCycle.requestAcceptGraceTimeout`.
        request_accept_grace_timeout: Duration = "requestAcceptGraceTimeout",
        /// `entryPoints.<name>.transport.lifeCycle.graceTimeOut`.
        grace_time_out: Duration = "graceTimeOut" => Duration::from_secs(10),
    }
}

// entryPoints.<name>.transport.respondingTimeouts (pkg/config/static.RespondingTimeouts)
section! {
    /// `entryPoints.<name>.transport.respondingTimeouts`.
    pub struct RespondingTimeouts {
        /// `entryPoints.<name>.transport.respondingTimeouts.readTimeout`.
        read_timeout: Duration = "readTimeout" => Duration::from_secs(60),
        /// `entryPoints.<name>.transport.respondingTimeouts.writeTimeout`.
        write_timeout: Duration = "writeTimeout",
        /// `entryPoints.<name>.transport.respondingTimeouts.idleTimeout`.
        idle_timeout: Duration = "idleTimeout" => Duration::from_secs(180),
    }
}

// entryPoints.<name>.proxyProtocol (pkg/config/static.ProxyProtocol)
section! {
    /// `entryPoints.<name>.proxyProtocol`.
    pub struct ProxyProtocol {
        /// `entryPoints.<name>.proxyProtocol.insecure`.
        insecure: bool = "insecure",
        /// `entryPoints.<name>.proxyProtocol.trustedIPs`.
        trusted_ips: Vec<String> = "trustedIPs",
    }
}

// entryPoints.<name>.forwardedHeaders (pkg/config/static.ForwardedHeaders)
section! {
    /// `entryPoints.<name>.forwardedHeaders`.
    pub struct ForwardedHeaders {
        /// `entryPoints.<name>.forwardedHeaders.insecure`.
        insecure: bool = "insecure",
        /// `entryPoints.<name>.forwardedHeaders.trustedIPs`.
        trusted_ips: Vec<String> = "trustedIPs",
        /// `entryPoints.<name>.forwardedHeaders.connection` (since v3.1.3).
        connection: Vec<String> = "connection",
        /// `entryPoints.<name>.forwardedHeaders.notAppendXForwardedFor` (since v3.7.0).
        @allow_empty not_append_x_forwarded_for: bool = "notAppendXForwardedFor",
    }
}

// entryPoints.<name>.http (pkg/config/static.HTTPConfig)
section! {
    /// `entryPoints.<name>.http`.
    pub struct HTTPConfig {
        /// `entryPoints.<name>.http.redirections`.
        redirections: Option<Redirections> = "redirections",
        /// `entryPoints.<name>.http.middlewares`.
        middlewares: Vec<String> = "middlewares",
        /// `entryPoints.<name>.http.tls`.
        @allow_empty tls: Option<TLSConfig> = "tls",
        /// `entryPoints.<name>.http.encodedCharacters` (since v3.6.3).
        encoded_characters: Option<EncodedCharacters> = "encodedCharacters",
        /// `entryPoints.<name>.http.encodeQuerySemicolons`.
        encode_query_semicolons: bool = "encodeQuerySemicolons",
        /// `entryPoints.<name>.http.sanitizePath` (since v3.3.6).
        sanitize_path: Option<bool> = "sanitizePath" => Some(true),
        /// `entryPoints.<name>.http.maxHeaderBytes` (since v3.2.0).
        max_header_bytes: i64 = "maxHeaderBytes" => 1 << 20,
        /// `entryPoints.<name>.http.underscoreHeadersStrategy` (since v3.6.22; `keep` when
        /// not set).
        underscore_headers_strategy: Option<String> = "underscoreHeadersStrategy",
        /// `entryPoints.<name>.http.aliasHeadersStrategy` (3.7.15: header names that alias
        /// another, those with any character besides letters, digits and `-`; `keep` when
        /// not set).
        alias_headers_strategy: Option<String> = "aliasHeadersStrategy",
    }
}

impl HTTPConfig {
    /// What the entry point does with header names it watches (`keep`, `delete` or
    /// `reject`), and whether it watches every alias (`aliasHeadersStrategy`) or names with
    /// `_` only (`underscoreHeadersStrategy`). Load refuses the two set to different values.
    pub fn header_names_strategy(&self) -> (&str, bool) {
        match (
            &self.alias_headers_strategy,
            &self.underscore_headers_strategy,
        ) {
            (Some(a), _) => (a, true),
            (None, Some(u)) => (u, false),
            (None, None) => ("keep", false),
        }
    }
}

// entryPoints.<name>.http.redirections (pkg/config/static.Redirections)
section! {
    /// `entryPoints.<name>.http.redirections`.
    pub struct Redirections {
        /// `entryPoints.<name>.http.redirections.entryPoint`.
        entry_point: Option<RedirectEntryPoint> = "entryPoint",
    }
}

// entryPoints.<name>.http.redirections.entryPoint (pkg/config/static.RedirectEntryPoint)
section! {
    /// `entryPoints.<name>.http.redirections.entryPoint`.
    pub struct RedirectEntryPoint {
        /// `entryPoints.<name>.http.redirections.entryPoint.to`.
        to: String = "to",
        /// `entryPoints.<name>.http.redirections.entryPoint.scheme`.
        scheme: String = "scheme" => "https".into(),
        /// `entryPoints.<name>.http.redirections.entryPoint.permanent`.
        permanent: bool = "permanent" => true,
        /// `entryPoints.<name>.http.redirections.entryPoint.priority`.
        priority: i64 = "priority" => i64::MAX - 1,
    }
}

// entryPoints.<name>.http.tls (pkg/config/static.TLSConfig)
section! {
    /// `entryPoints.<name>.http.tls`.
    pub struct TLSConfig {
        /// `entryPoints.<name>.http.tls.options`.
        options: String = "options",
        /// `entryPoints.<name>.http.tls.certResolver`.
        cert_resolver: String = "certResolver",
        /// `entryPoints.<name>.http.tls.domains`.
        domains: Vec<Domain> = "domains",
    }
}

// entryPoints.<name>.http.encodedCharacters (pkg/config/static.EncodedCharacters)
section! {
    /// `entryPoints.<name>.http.encodedCharacters`.
    pub struct EncodedCharacters {
        /// `entryPoints.<name>.http.encodedCharacters.allowEncodedSlash` (since v3.6.3).
        allow_encoded_slash: bool = "allowEncodedSlash" => true,
        /// `entryPoints.<name>.http.encodedCharacters.allowEncodedBackSlash` (since v3.6.3).
        allow_encoded_back_slash: bool = "allowEncodedBackSlash" => true,
        /// `entryPoints.<name>.http.encodedCharacters.allowEncodedNullCharacter` (since v3.6.3).
        allow_encoded_null_character: bool = "allowEncodedNullCharacter" => true,
        /// `entryPoints.<name>.http.encodedCharacters.allowEncodedSemicolon` (since v3.6.3).
        allow_encoded_semicolon: bool = "allowEncodedSemicolon" => true,
        /// `entryPoints.<name>.http.encodedCharacters.allowEncodedPercent` (since v3.6.3).
        allow_encoded_percent: bool = "allowEncodedPercent" => true,
        /// `entryPoints.<name>.http.encodedCharacters.allowEncodedQuestionMark` (since v3.6.3).
        allow_encoded_question_mark: bool = "allowEncodedQuestionMark" => true,
        /// `entryPoints.<name>.http.encodedCharacters.allowEncodedHash` (since v3.6.3).
        allow_encoded_hash: bool = "allowEncodedHash" => true,
    }
}

// entryPoints.<name>.http2 (pkg/config/static.HTTP2Config)
section! {
    /// `entryPoints.<name>.http2`.
    pub struct HTTP2Config {
        /// `entryPoints.<name>.http2.maxConcurrentStreams`.
        max_concurrent_streams: i32 = "maxConcurrentStreams" => 250,
        /// `entryPoints.<name>.http2.maxDecoderHeaderTableSize` (since v3.6.0).
        max_decoder_header_table_size: i32 = "maxDecoderHeaderTableSize" => 4096,
        /// `entryPoints.<name>.http2.maxEncoderHeaderTableSize` (since v3.6.0).
        max_encoder_header_table_size: i32 = "maxEncoderHeaderTableSize" => 4096,
    }
}

// entryPoints.<name>.http3 (pkg/config/static.HTTP3Config)
section! {
    /// `entryPoints.<name>.http3`.
    pub struct HTTP3Config {
        /// `entryPoints.<name>.http3.advertisedPort`.
        advertised_port: i64 = "advertisedPort",
    }
}

// entryPoints.<name>.udp (pkg/config/static.UDPConfig)
section! {
    /// `entryPoints.<name>.udp`.
    pub struct UDPConfig {
        /// `entryPoints.<name>.udp.timeout`.
        timeout: Duration = "timeout" => Duration::from_secs(3),
    }
}

// entryPoints.<name>.observability (pkg/config/static.ObservabilityConfig)
section! {
    /// `entryPoints.<name>.observability`.
    pub struct ObservabilityConfig {
        /// `entryPoints.<name>.observability.accessLogs` (since v3.3.0).
        access_logs: Option<bool> = "accessLogs" => Some(true),
        /// `entryPoints.<name>.observability.metrics` (since v3.3.0).
        metrics: Option<bool> = "metrics" => Some(true),
        /// `entryPoints.<name>.observability.tracing` (since v3.3.0).
        tracing: Option<bool> = "tracing" => Some(true),
        /// `entryPoints.<name>.observability.traceVerbosity` (since v3.5.0).
        trace_verbosity: String = "traceVerbosity" => "minimal".into(),
    }
}
