//! `http.middlewares.<name>`: the middleware union and the request/response rewriting middlewares.

use super::*;

// http.middlewares.<name> (pkg/config/dynamic.Middleware)
section! {
    /// `http.middlewares.<name>`.
    pub struct Middleware {
        /// `http.middlewares.<name>.addPrefix`.
        add_prefix: Option<Box<AddPrefix>> = "addPrefix",
        /// `http.middlewares.<name>.stripPrefix`.
        strip_prefix: Option<Box<StripPrefix>> = "stripPrefix",
        /// `http.middlewares.<name>.stripPrefixRegex`.
        strip_prefix_regex: Option<Box<StripPrefixRegex>> = "stripPrefixRegex",
        /// `http.middlewares.<name>.replacePath`.
        replace_path: Option<Box<ReplacePath>> = "replacePath",
        /// `http.middlewares.<name>.replacePathRegex`.
        replace_path_regex: Option<Box<ReplacePathRegex>> = "replacePathRegex",
        /// `http.middlewares.<name>.chain`.
        chain: Option<Box<Chain>> = "chain",
        /// `http.middlewares.<name>.ipWhiteList`.
        ip_white_list: Option<Box<IPWhiteList>> = "ipWhiteList",
        /// `http.middlewares.<name>.ipAllowList`.
        ip_allow_list: Option<Box<IPAllowList>> = "ipAllowList",
        /// `http.middlewares.<name>.headers`.
        headers: Option<Box<Headers>> = "headers",
        /// `http.middlewares.<name>.encodedCharacters` (since v3.7.0).
        encoded_characters: Option<Box<EncodedCharacters>> = "encodedCharacters",
        /// `http.middlewares.<name>.errors`.
        errors: Option<Box<ErrorPage>> = "errors",
        /// `http.middlewares.<name>.rateLimit`.
        rate_limit: Option<Box<RateLimit>> = "rateLimit",
        /// `http.middlewares.<name>.redirectRegex`.
        redirect_regex: Option<Box<RedirectRegex>> = "redirectRegex",
        /// `http.middlewares.<name>.redirectScheme`.
        redirect_scheme: Option<Box<RedirectScheme>> = "redirectScheme",
        /// `http.middlewares.<name>.basicAuth`.
        basic_auth: Option<Box<BasicAuth>> = "basicAuth",
        /// `http.middlewares.<name>.digestAuth`.
        digest_auth: Option<Box<DigestAuth>> = "digestAuth",
        /// `http.middlewares.<name>.forwardAuth`.
        forward_auth: Option<Box<ForwardAuth>> = "forwardAuth",
        /// `http.middlewares.<name>.inFlightReq`.
        in_flight_req: Option<Box<InFlightReq>> = "inFlightReq",
        /// `http.middlewares.<name>.buffering`.
        buffering: Option<Box<Buffering>> = "buffering",
        /// `http.middlewares.<name>.circuitBreaker`.
        circuit_breaker: Option<Box<CircuitBreaker>> = "circuitBreaker",
        /// `http.middlewares.<name>.compress`.
        @allow_empty compress: Option<Box<Compress>> = "compress",
        /// `http.middlewares.<name>.passTLSClientCert`.
        pass_tls_client_cert: Option<Box<PassTLSClientCert>> = "passTLSClientCert",
        /// `http.middlewares.<name>.retry`.
        retry: Option<Box<Retry>> = "retry",
        /// `http.middlewares.<name>.contentType`.
        @allow_empty content_type: Option<Box<ContentType>> = "contentType",
        /// `http.middlewares.<name>.grpcWeb`.
        grpc_web: Option<Box<GrpcWeb>> = "grpcWeb",
        /// `http.middlewares.<name>.plugin`.
        plugin: AnyValue = "plugin",
    }
    ignore ["requestHeaderModifier", "responseHeaderModifier", "requestRedirect", "URLRewrite", "authTLSPassCertificateToUpstream", "snippet", "rewriteTarget", "upstreamVHost", "appRoot"]
}

// http.middlewares.<name>.addPrefix (pkg/config/dynamic.AddPrefix)
section! {
    /// `http.middlewares.<name>.addPrefix`.
    pub struct AddPrefix {
        /// `http.middlewares.<name>.addPrefix.prefix`.
        prefix: String = "prefix",
    }
}

// http.middlewares.<name>.stripPrefix (pkg/config/dynamic.StripPrefix)
section! {
    /// `http.middlewares.<name>.stripPrefix`.
    pub struct StripPrefix {
        /// `http.middlewares.<name>.stripPrefix.prefixes`.
        prefixes: Vec<String> = "prefixes",
        /// `http.middlewares.<name>.stripPrefix.forceSlash`.
        force_slash: Option<bool> = "forceSlash",
    }
}

// http.middlewares.<name>.stripPrefixRegex (pkg/config/dynamic.StripPrefixRegex)
section! {
    /// `http.middlewares.<name>.stripPrefixRegex`.
    pub struct StripPrefixRegex {
        /// `http.middlewares.<name>.stripPrefixRegex.regex`.
        regex: Vec<String> = "regex",
    }
}

// http.middlewares.<name>.replacePath (pkg/config/dynamic.ReplacePath)
section! {
    /// `http.middlewares.<name>.replacePath`.
    pub struct ReplacePath {
        /// `http.middlewares.<name>.replacePath.path`.
        path: String = "path",
    }
}

// http.middlewares.<name>.replacePathRegex (pkg/config/dynamic.ReplacePathRegex)
section! {
    /// `http.middlewares.<name>.replacePathRegex`.
    pub struct ReplacePathRegex {
        /// `http.middlewares.<name>.replacePathRegex.regex`.
        regex: String = "regex",
        /// `http.middlewares.<name>.replacePathRegex.replacement`.
        replacement: String = "replacement",
    }
}

// http.middlewares.<name>.chain (pkg/config/dynamic.Chain)
section! {
    /// `http.middlewares.<name>.chain`.
    pub struct Chain {
        /// `http.middlewares.<name>.chain.middlewares`.
        middlewares: Vec<String> = "middlewares",
    }
}

// http.middlewares.<name>.ipWhiteList (pkg/config/dynamic.IPWhiteList)
section! {
    /// `http.middlewares.<name>.ipWhiteList`.
    pub struct IPWhiteList {
        /// `http.middlewares.<name>.ipWhiteList.sourceRange`.
        source_range: Vec<String> = "sourceRange",
        /// `http.middlewares.<name>.ipWhiteList.ipStrategy`.
        @allow_empty ip_strategy: Option<IPStrategy> = "ipStrategy",
    }
}

// http.middlewares.<name>.ipWhiteList.ipStrategy (pkg/config/dynamic.IPStrategy)
section! {
    /// `http.middlewares.<name>.ipWhiteList.ipStrategy`.
    pub struct IPStrategy {
        /// `http.middlewares.<name>.ipWhiteList.ipStrategy.depth`.
        depth: i64 = "depth",
        /// `http.middlewares.<name>.ipWhiteList.ipStrategy.excludedIPs`.
        excluded_ips: Vec<String> = "excludedIPs",
        /// `http.middlewares.<name>.ipWhiteList.ipStrategy.ipv6Subnet` (since v3.2.0).
        ipv6_subnet: Option<i64> = "ipv6Subnet",
    }
}

// http.middlewares.<name>.ipAllowList (pkg/config/dynamic.IPAllowList)
section! {
    /// `http.middlewares.<name>.ipAllowList`.
    pub struct IPAllowList {
        /// `http.middlewares.<name>.ipAllowList.sourceRange`.
        source_range: Vec<String> = "sourceRange",
        /// `http.middlewares.<name>.ipAllowList.ipStrategy`.
        @allow_empty ip_strategy: Option<IPStrategy> = "ipStrategy",
        /// `http.middlewares.<name>.ipAllowList.rejectStatusCode`.
        @allow_empty reject_status_code: i64 = "rejectStatusCode" => 403,
    }
}

// http.middlewares.<name>.headers (pkg/config/dynamic.Headers)
section! {
    /// `http.middlewares.<name>.headers`.
    pub struct Headers {
        /// `http.middlewares.<name>.headers.customRequestHeaders`.
        custom_request_headers: BTreeMap<String, String> = "customRequestHeaders",
        /// `http.middlewares.<name>.headers.customResponseHeaders`.
        custom_response_headers: BTreeMap<String, String> = "customResponseHeaders",
        /// `http.middlewares.<name>.headers.accessControlAllowCredentials`.
        access_control_allow_credentials: bool = "accessControlAllowCredentials",
        /// `http.middlewares.<name>.headers.accessControlAllowHeaders`.
        access_control_allow_headers: Vec<String> = "accessControlAllowHeaders",
        /// `http.middlewares.<name>.headers.accessControlAllowMethods`.
        access_control_allow_methods: Vec<String> = "accessControlAllowMethods",
        /// `http.middlewares.<name>.headers.accessControlAllowOriginList`.
        access_control_allow_origin_list: Vec<String> = "accessControlAllowOriginList",
        /// `http.middlewares.<name>.headers.accessControlAllowOriginListRegex`.
        access_control_allow_origin_list_regex: Vec<String> = "accessControlAllowOriginListRegex",
        /// `http.middlewares.<name>.headers.accessControlExposeHeaders`.
        access_control_expose_headers: Vec<String> = "accessControlExposeHeaders",
        /// `http.middlewares.<name>.headers.accessControlMaxAge`.
        access_control_max_age: Option<i64> = "accessControlMaxAge",
        /// `http.middlewares.<name>.headers.addVaryHeader`.
        add_vary_header: bool = "addVaryHeader",
        /// `http.middlewares.<name>.headers.allowedHosts`.
        allowed_hosts: Vec<String> = "allowedHosts",
        /// `http.middlewares.<name>.headers.hostsProxyHeaders`.
        hosts_proxy_headers: Vec<String> = "hostsProxyHeaders",
        /// `http.middlewares.<name>.headers.sslProxyHeaders`.
        ssl_proxy_headers: BTreeMap<String, String> = "sslProxyHeaders",
        /// `http.middlewares.<name>.headers.stsSeconds`.
        sts_seconds: Option<i64> = "stsSeconds",
        /// `http.middlewares.<name>.headers.stsIncludeSubdomains`.
        sts_include_subdomains: bool = "stsIncludeSubdomains",
        /// `http.middlewares.<name>.headers.stsPreload`.
        sts_preload: bool = "stsPreload",
        /// `http.middlewares.<name>.headers.forceSTSHeader`.
        force_sts_header: bool = "forceSTSHeader",
        /// `http.middlewares.<name>.headers.frameDeny`.
        frame_deny: bool = "frameDeny",
        /// `http.middlewares.<name>.headers.customFrameOptionsValue`.
        custom_frame_options_value: String = "customFrameOptionsValue",
        /// `http.middlewares.<name>.headers.contentTypeNosniff`.
        content_type_nosniff: bool = "contentTypeNosniff",
        /// `http.middlewares.<name>.headers.browserXssFilter`.
        browser_xss_filter: bool = "browserXssFilter",
        /// `http.middlewares.<name>.headers.customBrowserXSSValue`.
        custom_browser_xss_value: String = "customBrowserXSSValue",
        /// `http.middlewares.<name>.headers.contentSecurityPolicy`.
        content_security_policy: String = "contentSecurityPolicy",
        /// `http.middlewares.<name>.headers.contentSecurityPolicyReportOnly` (since v3.1.0).
        content_security_policy_report_only: String = "contentSecurityPolicyReportOnly",
        /// `http.middlewares.<name>.headers.publicKey`.
        public_key: String = "publicKey",
        /// `http.middlewares.<name>.headers.referrerPolicy`.
        referrer_policy: String = "referrerPolicy",
        /// `http.middlewares.<name>.headers.permissionsPolicy`.
        permissions_policy: String = "permissionsPolicy",
        /// `http.middlewares.<name>.headers.isDevelopment`.
        is_development: bool = "isDevelopment",
        /// `http.middlewares.<name>.headers.featurePolicy`.
        feature_policy: Option<String> = "featurePolicy",
        /// `http.middlewares.<name>.headers.sslRedirect`.
        ssl_redirect: Option<bool> = "sslRedirect",
        /// `http.middlewares.<name>.headers.sslTemporaryRedirect`.
        ssl_temporary_redirect: Option<bool> = "sslTemporaryRedirect",
        /// `http.middlewares.<name>.headers.sslHost`.
        ssl_host: Option<String> = "sslHost",
        /// `http.middlewares.<name>.headers.sslForceHost`.
        ssl_force_host: Option<bool> = "sslForceHost",
    }
}

// http.middlewares.<name>.encodedCharacters (pkg/config/dynamic.EncodedCharacters)
section! {
    /// `http.middlewares.<name>.encodedCharacters`.
    pub struct EncodedCharacters {
        /// `http.middlewares.<name>.encodedCharacters.allowEncodedSlash` (since v3.7.0).
        allow_encoded_slash: bool = "allowEncodedSlash",
        /// `http.middlewares.<name>.encodedCharacters.allowEncodedBackSlash` (since v3.7.0).
        allow_encoded_back_slash: bool = "allowEncodedBackSlash",
        /// `http.middlewares.<name>.encodedCharacters.allowEncodedNullCharacter` (since v3.7.0).
        allow_encoded_null_character: bool = "allowEncodedNullCharacter",
        /// `http.middlewares.<name>.encodedCharacters.allowEncodedSemicolon` (since v3.7.0).
        allow_encoded_semicolon: bool = "allowEncodedSemicolon",
        /// `http.middlewares.<name>.encodedCharacters.allowEncodedPercent` (since v3.7.0).
        allow_encoded_percent: bool = "allowEncodedPercent",
        /// `http.middlewares.<name>.encodedCharacters.allowEncodedQuestionMark` (since v3.7.0).
        allow_encoded_question_mark: bool = "allowEncodedQuestionMark",
        /// `http.middlewares.<name>.encodedCharacters.allowEncodedHash` (since v3.7.0).
        allow_encoded_hash: bool = "allowEncodedHash",
    }
}

// http.middlewares.<name>.errors (pkg/config/dynamic.ErrorPage)
section! {
    /// `http.middlewares.<name>.errors`.
    pub struct ErrorPage {
        /// `http.middlewares.<name>.errors.status`.
        status: Vec<String> = "status",
        /// `http.middlewares.<name>.errors.statusRewrites` (since v3.4.0).
        status_rewrites: BTreeMap<String, i64> = "statusRewrites",
        /// `http.middlewares.<name>.errors.service`.
        service: String = "service",
        /// `http.middlewares.<name>.errors.query`.
        query: String = "query",
        /// `http.middlewares.<name>.errors.errorRequestHeaders` (since v3.6.15).
        error_request_headers: Vec<String> = "errorRequestHeaders",
    }
    ignore ["nginxHeaders"]
}

// http.middlewares.<name>.redirectRegex (pkg/config/dynamic.RedirectRegex)
section! {
    /// `http.middlewares.<name>.redirectRegex`.
    pub struct RedirectRegex {
        /// `http.middlewares.<name>.redirectRegex.regex`.
        regex: String = "regex",
        /// `http.middlewares.<name>.redirectRegex.replacement`.
        replacement: String = "replacement",
        /// `http.middlewares.<name>.redirectRegex.permanent`.
        permanent: bool = "permanent",
    }
    ignore ["StatusCode"]
}

// http.middlewares.<name>.redirectScheme (pkg/config/dynamic.RedirectScheme)
section! {
    /// `http.middlewares.<name>.redirectScheme`.
    pub struct RedirectScheme {
        /// `http.middlewares.<name>.redirectScheme.scheme`.
        scheme: String = "scheme",
        /// `http.middlewares.<name>.redirectScheme.port`.
        port: String = "port",
        /// `http.middlewares.<name>.redirectScheme.permanent`.
        permanent: bool = "permanent",
    }
    ignore ["ForcePermanentRedirect"]
}

// http.middlewares.<name>.retry (pkg/config/dynamic.Retry)
section! {
    /// `http.middlewares.<name>.retry`.
    pub struct Retry {
        /// `http.middlewares.<name>.retry.attempts`.
        attempts: i64 = "attempts",
        /// `http.middlewares.<name>.retry.timeout` (since v3.7.0).
        timeout: Duration = "timeout",
        /// `http.middlewares.<name>.retry.initialInterval`.
        initial_interval: Duration = "initialInterval",
        /// `http.middlewares.<name>.retry.maxRequestBodyBytes` (since v3.7.0).
        max_request_body_bytes: Option<i64> = "maxRequestBodyBytes" => Some(2 << 20),
        /// `http.middlewares.<name>.retry.status` (since v3.7.0).
        status: Vec<String> = "status",
        /// `http.middlewares.<name>.retry.disableRetryOnNetworkError` (since v3.7.0).
        disable_retry_on_network_error: bool = "disableRetryOnNetworkError",
        /// `http.middlewares.<name>.retry.retryNonIdempotentMethod` (since v3.7.0).
        retry_non_idempotent_method: bool = "retryNonIdempotentMethod",
    }
}

// http.middlewares.<name>.contentType (pkg/config/dynamic.ContentType)
section! {
    /// `http.middlewares.<name>.contentType`.
    pub struct ContentType {
        /// `http.middlewares.<name>.contentType.autoDetect`.
        auto_detect: Option<bool> = "autoDetect",
    }
}

// http.middlewares.<name>.grpcWeb (pkg/config/dynamic.GrpcWeb)
section! {
    /// `http.middlewares.<name>.grpcWeb`.
    pub struct GrpcWeb {
        /// `http.middlewares.<name>.grpcWeb.allowOrigins`.
        allow_origins: Vec<String> = "allowOrigins",
    }
}

// http.middlewares.<name>.buffering (pkg/config/dynamic.Buffering)
section! {
    /// `http.middlewares.<name>.buffering`.
    pub struct Buffering {
        /// `http.middlewares.<name>.buffering.maxRequestBodyBytes`.
        max_request_body_bytes: i64 = "maxRequestBodyBytes",
        /// `http.middlewares.<name>.buffering.memRequestBodyBytes`.
        mem_request_body_bytes: i64 = "memRequestBodyBytes",
        /// `http.middlewares.<name>.buffering.maxResponseBodyBytes`.
        max_response_body_bytes: i64 = "maxResponseBodyBytes",
        /// `http.middlewares.<name>.buffering.memResponseBodyBytes`.
        mem_response_body_bytes: i64 = "memResponseBodyBytes",
        /// `http.middlewares.<name>.buffering.retryExpression`.
        retry_expression: String = "retryExpression",
    }
    ignore ["disableRequestBuffer", "disableResponseBuffer"]
}

// http.middlewares.<name>.circuitBreaker (pkg/config/dynamic.CircuitBreaker)
section! {
    /// `http.middlewares.<name>.circuitBreaker`.
    pub struct CircuitBreaker {
        /// `http.middlewares.<name>.circuitBreaker.expression`.
        expression: String = "expression",
        /// `http.middlewares.<name>.circuitBreaker.checkPeriod`.
        check_period: Duration = "checkPeriod" => Duration::from_millis(100),
        /// `http.middlewares.<name>.circuitBreaker.fallbackDuration`.
        fallback_duration: Duration = "fallbackDuration" => Duration::from_secs(10),
        /// `http.middlewares.<name>.circuitBreaker.recoveryDuration`.
        recovery_duration: Duration = "recoveryDuration" => Duration::from_secs(10),
        /// `http.middlewares.<name>.circuitBreaker.responseCode`.
        response_code: i64 = "responseCode" => 503,
    }
}

// http.middlewares.<name>.compress (pkg/config/dynamic.Compress)
section! {
    /// `http.middlewares.<name>.compress`.
    pub struct Compress {
        /// `http.middlewares.<name>.compress.excludedContentTypes`.
        excluded_content_types: Vec<String> = "excludedContentTypes",
        /// `http.middlewares.<name>.compress.includedContentTypes`.
        included_content_types: Vec<String> = "includedContentTypes",
        /// `http.middlewares.<name>.compress.minResponseBodyBytes`.
        min_response_body_bytes: i64 = "minResponseBodyBytes",
        /// `http.middlewares.<name>.compress.encodings` (since v3.2.0).
        encodings: Vec<String> = "encodings" => vec!["gzip".into(), "br".into(), "zstd".into()],
        /// `http.middlewares.<name>.compress.defaultEncoding` (since v3.0.2).
        default_encoding: String = "defaultEncoding",
    }
}
