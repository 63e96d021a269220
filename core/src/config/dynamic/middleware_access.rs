//! Access-control middlewares: authentication, rate and in-flight limits, client certificates.

use super::*;

// http.middlewares.<name>.rateLimit (pkg/config/dynamic.RateLimit)
section! {
    /// `http.middlewares.<name>.rateLimit`.
    pub struct RateLimit {
        /// `http.middlewares.<name>.rateLimit.average`.
        average: i64 = "average",
        /// `http.middlewares.<name>.rateLimit.period`.
        period: Duration = "period" => Duration::from_secs(1),
        /// `http.middlewares.<name>.rateLimit.burst`.
        burst: i64 = "burst" => 1,
        /// `http.middlewares.<name>.rateLimit.sourceCriterion`.
        source_criterion: Option<SourceCriterion> = "sourceCriterion",
        /// `http.middlewares.<name>.rateLimit.redis` (since v3.4.0).
        redis: Option<Redis> = "redis",
    }
}

// http.middlewares.<name>.rateLimit.sourceCriterion (pkg/config/dynamic.SourceCriterion)
section! {
    /// `http.middlewares.<name>.rateLimit.sourceCriterion`.
    pub struct SourceCriterion {
        /// `http.middlewares.<name>.rateLimit.sourceCriterion.ipStrategy`.
        ip_strategy: Option<IPStrategy> = "ipStrategy",
        /// `http.middlewares.<name>.rateLimit.sourceCriterion.requestHeaderName`.
        request_header_name: String = "requestHeaderName",
        /// `http.middlewares.<name>.rateLimit.sourceCriterion.requestHost`.
        request_host: bool = "requestHost",
    }
}

// http.middlewares.<name>.rateLimit.redis (pkg/config/dynamic.Redis)
section! {
    /// `http.middlewares.<name>.rateLimit.redis`.
    pub struct Redis {
        /// `http.middlewares.<name>.rateLimit.redis.endpoints` (since v3.4.0).
        endpoints: Vec<String> = "endpoints" => vec!["localhost:6379".into()],
        /// `http.middlewares.<name>.rateLimit.redis.tls` (since v3.4.0).
        tls: Option<ClientTLS> = "tls",
        /// `http.middlewares.<name>.rateLimit.redis.username` (since v3.4.0).
        username: String = "username",
        /// `http.middlewares.<name>.rateLimit.redis.password` (since v3.4.0).
        password: String = "password",
        /// `http.middlewares.<name>.rateLimit.redis.db` (since v3.4.0).
        db: i64 = "db",
        /// `http.middlewares.<name>.rateLimit.redis.poolSize` (since v3.4.0).
        pool_size: i64 = "poolSize",
        /// `http.middlewares.<name>.rateLimit.redis.minIdleConns` (since v3.4.0).
        min_idle_conns: i64 = "minIdleConns",
        /// `http.middlewares.<name>.rateLimit.redis.maxActiveConns` (since v3.4.0).
        max_active_conns: i64 = "maxActiveConns",
        /// `http.middlewares.<name>.rateLimit.redis.readTimeout` (since v3.4.0).
        read_timeout: Option<Duration> = "readTimeout" => Some(Duration::from_secs(3)),
        /// `http.middlewares.<name>.rateLimit.redis.writeTimeout` (since v3.4.0).
        write_timeout: Option<Duration> = "writeTimeout" => Some(Duration::from_secs(3)),
        /// `http.middlewares.<name>.rateLimit.redis.dialTimeout` (since v3.4.0).
        dial_timeout: Option<Duration> = "dialTimeout" => Some(Duration::from_secs(5)),
    }
}

// http.middlewares.<name>.basicAuth (pkg/config/dynamic.BasicAuth)
section! {
    /// `http.middlewares.<name>.basicAuth`.
    pub struct BasicAuth {
        /// `http.middlewares.<name>.basicAuth.users`.
        users: Vec<String> = "users",
        /// `http.middlewares.<name>.basicAuth.usersFile`.
        users_file: String = "usersFile",
        /// `http.middlewares.<name>.basicAuth.realm`.
        realm: String = "realm",
        /// `http.middlewares.<name>.basicAuth.removeHeader`.
        remove_header: bool = "removeHeader",
        /// `http.middlewares.<name>.basicAuth.headerField`.
        header_field: String = "headerField",
    }
}

// http.middlewares.<name>.digestAuth (pkg/config/dynamic.DigestAuth)
section! {
    /// `http.middlewares.<name>.digestAuth`.
    pub struct DigestAuth {
        /// `http.middlewares.<name>.digestAuth.users`.
        users: Vec<String> = "users",
        /// `http.middlewares.<name>.digestAuth.usersFile`.
        users_file: String = "usersFile",
        /// `http.middlewares.<name>.digestAuth.removeHeader`.
        remove_header: bool = "removeHeader",
        /// `http.middlewares.<name>.digestAuth.realm`.
        realm: String = "realm",
        /// `http.middlewares.<name>.digestAuth.headerField`.
        header_field: String = "headerField",
    }
}

// http.middlewares.<name>.forwardAuth (pkg/config/dynamic.ForwardAuth)
section! {
    /// `http.middlewares.<name>.forwardAuth`.
    pub struct ForwardAuth {
        /// `http.middlewares.<name>.forwardAuth.address`.
        address: String = "address",
        /// `http.middlewares.<name>.forwardAuth.tls`.
        tls: Option<ForwardAuthTLS> = "tls",
        /// `http.middlewares.<name>.forwardAuth.trustForwardHeader`.
        trust_forward_header: Option<bool> = "trustForwardHeader",
        /// `http.middlewares.<name>.forwardAuth.authResponseHeaders`.
        auth_response_headers: Vec<String> = "authResponseHeaders",
        /// `http.middlewares.<name>.forwardAuth.authResponseHeadersRegex`.
        auth_response_headers_regex: String = "authResponseHeadersRegex",
        /// `http.middlewares.<name>.forwardAuth.authRequestHeaders`.
        auth_request_headers: Vec<String> = "authRequestHeaders",
        /// `http.middlewares.<name>.forwardAuth.maxResponseBodySize` (since v3.6.9).
        max_response_body_size: Option<i64> = "maxResponseBodySize",
        /// `http.middlewares.<name>.forwardAuth.addAuthCookiesToResponse`.
        add_auth_cookies_to_response: Vec<String> = "addAuthCookiesToResponse",
        /// `http.middlewares.<name>.forwardAuth.headerField` (since v3.2.0).
        header_field: String = "headerField",
        /// `http.middlewares.<name>.forwardAuth.forwardBody` (since v3.3.0).
        forward_body: bool = "forwardBody",
        /// `http.middlewares.<name>.forwardAuth.maxBodySize` (since v3.3.0).
        max_body_size: Option<i64> = "maxBodySize" => Some(-1),
        /// `http.middlewares.<name>.forwardAuth.preserveLocationHeader` (since v3.3.0).
        preserve_location_header: bool = "preserveLocationHeader",
        /// `http.middlewares.<name>.forwardAuth.preserveRequestMethod` (since v3.4.0).
        preserve_request_method: bool = "preserveRequestMethod",
        /// `http.middlewares.<name>.forwardAuth.authSigninURL` (since v3.7.0).
        auth_signin_url: String = "authSigninURL",
    }
}

// http.middlewares.<name>.forwardAuth.tls (pkg/config/dynamic.ClientTLS)
section! {
    /// `http.middlewares.<name>.forwardAuth.tls`.
    pub struct ForwardAuthTLS {
        /// `http.middlewares.<name>.forwardAuth.tls.ca`.
        ca: String = "ca",
        /// `http.middlewares.<name>.forwardAuth.tls.cert`.
        cert: String = "cert",
        /// `http.middlewares.<name>.forwardAuth.tls.key`.
        key: String = "key",
        /// `http.middlewares.<name>.forwardAuth.tls.insecureSkipVerify`.
        insecure_skip_verify: bool = "insecureSkipVerify",
        /// `http.middlewares.<name>.forwardAuth.tls.caOptional`.
        ca_optional: Option<bool> = "caOptional",
    }
}

// http.middlewares.<name>.inFlightReq (pkg/config/dynamic.InFlightReq)
section! {
    /// `http.middlewares.<name>.inFlightReq`.
    pub struct InFlightReq {
        /// `http.middlewares.<name>.inFlightReq.amount`.
        amount: i64 = "amount",
        /// `http.middlewares.<name>.inFlightReq.sourceCriterion`.
        source_criterion: Option<SourceCriterion> = "sourceCriterion",
    }
}

// http.middlewares.<name>.passTLSClientCert (pkg/config/dynamic.PassTLSClientCert)
section! {
    /// `http.middlewares.<name>.passTLSClientCert`.
    pub struct PassTLSClientCert {
        /// `http.middlewares.<name>.passTLSClientCert.pem`.
        pem: bool = "pem",
        /// `http.middlewares.<name>.passTLSClientCert.info`.
        info: Option<TLSClientCertificateInfo> = "info",
    }
}

// http.middlewares.<name>.passTLSClientCert.info (pkg/config/dynamic.TLSClientCertificateInfo)
section! {
    /// `http.middlewares.<name>.passTLSClientCert.info`.
    pub struct TLSClientCertificateInfo {
        /// `http.middlewares.<name>.passTLSClientCert.info.notAfter`.
        not_after: bool = "notAfter",
        /// `http.middlewares.<name>.passTLSClientCert.info.notBefore`.
        not_before: bool = "notBefore",
        /// `http.middlewares.<name>.passTLSClientCert.info.sans`.
        sans: bool = "sans",
        /// `http.middlewares.<name>.passTLSClientCert.info.serialNumber`.
        serial_number: bool = "serialNumber",
        /// `http.middlewares.<name>.passTLSClientCert.info.subject`.
        subject: Option<TLSClientCertificateSubjectDNInfo> = "subject",
        /// `http.middlewares.<name>.passTLSClientCert.info.issuer`.
        issuer: Option<TLSClientCertificateIssuerDNInfo> = "issuer",
    }
}

// http.middlewares.<name>.passTLSClientCert.info.subject (pkg/config/dynamic.TLSClientCertificateSubjectDNInfo)
section! {
    /// `http.middlewares.<name>.passTLSClientCert.info.subject`.
    pub struct TLSClientCertificateSubjectDNInfo {
        /// `http.middlewares.<name>.passTLSClientCert.info.subject.country`.
        country: bool = "country",
        /// `http.middlewares.<name>.passTLSClientCert.info.subject.province`.
        province: bool = "province",
        /// `http.middlewares.<name>.passTLSClientCert.info.subject.locality`.
        locality: bool = "locality",
        /// `http.middlewares.<name>.passTLSClientCert.info.subject.organization`.
        organization: bool = "organization",
        /// `http.middlewares.<name>.passTLSClientCert.info.subject.organizationalUnit`.
        organizational_unit: bool = "organizationalUnit",
        /// `http.middlewares.<name>.passTLSClientCert.info.subject.commonName`.
        common_name: bool = "commonName",
        /// `http.middlewares.<name>.passTLSClientCert.info.subject.serialNumber`.
        serial_number: bool = "serialNumber",
        /// `http.middlewares.<name>.passTLSClientCert.info.subject.domainComponent`.
        domain_component: bool = "domainComponent",
    }
}

// http.middlewares.<name>.passTLSClientCert.info.issuer (pkg/config/dynamic.TLSClientCertificateIssuerDNInfo)
section! {
    /// `http.middlewares.<name>.passTLSClientCert.info.issuer`.
    pub struct TLSClientCertificateIssuerDNInfo {
        /// `http.middlewares.<name>.passTLSClientCert.info.issuer.country`.
        country: bool = "country",
        /// `http.middlewares.<name>.passTLSClientCert.info.issuer.province`.
        province: bool = "province",
        /// `http.middlewares.<name>.passTLSClientCert.info.issuer.locality`.
        locality: bool = "locality",
        /// `http.middlewares.<name>.passTLSClientCert.info.issuer.organization`.
        organization: bool = "organization",
        /// `http.middlewares.<name>.passTLSClientCert.info.issuer.commonName`.
        common_name: bool = "commonName",
        /// `http.middlewares.<name>.passTLSClientCert.info.issuer.serialNumber`.
        serial_number: bool = "serialNumber",
        /// `http.middlewares.<name>.passTLSClientCert.info.issuer.domainComponent`.
        domain_component: bool = "domainComponent",
    }
}
