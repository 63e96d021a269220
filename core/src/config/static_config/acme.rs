//! `certificatesResolvers.<name>`: ACME (and Tailscale) certificate resolvers.

use super::*;

// certificatesResolvers.<name> (pkg/config/static.CertificateResolver)
section! {
    /// `certificatesResolvers.<name>`.
    pub struct CertificateResolver {
        /// `certificatesResolvers.<name>.acme`.
        acme: Option<AcmeConfiguration> = "acme",
        /// `certificatesResolvers.<name>.tailscale`.
        @allow_empty tailscale: Option<AnyValue> = "tailscale",
    }
}

// certificatesResolvers.<name>.acme (pkg/provider/acme.AcmeConfiguration)
section! {
    /// `certificatesResolvers.<name>.acme`.
    pub struct AcmeConfiguration {
        /// `certificatesResolvers.<name>.acme.email`.
        email: String = "email",
        /// `certificatesResolvers.<name>.acme.caServer`.
        ca_server: String = "caServer" => "https://acme-v02.api.letsencrypt.org/directory".into(),
        /// `certificatesResolvers.<name>.acme.preferredChain`.
        preferred_chain: String = "preferredChain",
        /// `certificatesResolvers.<name>.acme.profile` (since v3.4.0).
        profile: String = "profile",
        /// `certificatesResolvers.<name>.acme.emailAddresses` (since v3.4.0).
        email_addresses: Vec<String> = "emailAddresses",
        /// `certificatesResolvers.<name>.acme.disableCommonName` (since v3.6.0).
        disable_common_name: bool = "disableCommonName",
        /// `certificatesResolvers.<name>.acme.storage`.
        storage: String = "storage" => "acme.json".into(),
        /// `certificatesResolvers.<name>.acme.keyType`.
        key_type: String = "keyType" => "RSA4096".into(),
        /// `certificatesResolvers.<name>.acme.eab`.
        eab: Option<Eab> = "eab",
        /// `certificatesResolvers.<name>.acme.certificatesDuration`.
        certificates_duration: i64 = "certificatesDuration" => 2160,
        /// `certificatesResolvers.<name>.acme.clientTimeout` (since v3.5.0).
        @allow_empty client_timeout: Duration = "clientTimeout" => Duration::from_secs(120),
        /// `certificatesResolvers.<name>.acme.clientResponseHeaderTimeout` (since v3.5.0).
        @allow_empty client_response_header_timeout: Duration = "clientResponseHeaderTimeout" => Duration::from_secs(30),
        /// `certificatesResolvers.<name>.acme.certificateTimeout` (since v3.7.0).
        @allow_empty certificate_timeout: Duration = "certificateTimeout" => Duration::from_secs(30),
        /// `certificatesResolvers.<name>.acme.caCertificates` (since v3.2.0).
        ca_certificates: Vec<String> = "caCertificates",
        /// `certificatesResolvers.<name>.acme.caSystemCertPool` (since v3.2.0).
        ca_system_cert_pool: bool = "caSystemCertPool",
        /// `certificatesResolvers.<name>.acme.caServerName` (since v3.2.0).
        ca_server_name: String = "caServerName",
        /// `certificatesResolvers.<name>.acme.dnsChallenge`.
        @allow_empty dns_challenge: Option<DNSChallenge> = "dnsChallenge",
        /// `certificatesResolvers.<name>.acme.httpChallenge`.
        @allow_empty http_challenge: Option<HTTPChallenge> = "httpChallenge",
        /// `certificatesResolvers.<name>.acme.tlsChallenge`.
        @allow_empty tls_challenge: Option<TLSChallenge> = "tlsChallenge",
    }
}

// certificatesResolvers.<name>.acme.eab (pkg/provider/acme.Eab)
section! {
    /// `certificatesResolvers.<name>.acme.eab`.
    pub struct Eab {
        /// `certificatesResolvers.<name>.acme.eab.kid`.
        kid: String = "kid",
        /// `certificatesResolvers.<name>.acme.eab.hmacEncoded`.
        hmac_encoded: String = "hmacEncoded",
    }
}

// certificatesResolvers.<name>.acme.dnsChallenge (pkg/provider/acme.DNSChallenge)
section! {
    /// `certificatesResolvers.<name>.acme.dnsChallenge`.
    pub struct DNSChallenge {
        /// `certificatesResolvers.<name>.acme.dnsChallenge.provider`.
        provider: String = "provider",
        /// `certificatesResolvers.<name>.acme.dnsChallenge.resolvers`.
        resolvers: Vec<String> = "resolvers",
        /// `certificatesResolvers.<name>.acme.dnsChallenge.propagation` (since v3.3.0).
        @allow_empty propagation: Option<Propagation> = "propagation",
        /// `certificatesResolvers.<name>.acme.dnsChallenge.delayBeforeCheck`.
        delay_before_check: Duration = "delayBeforeCheck",
        /// `certificatesResolvers.<name>.acme.dnsChallenge.disablePropagationCheck`.
        disable_propagation_check: bool = "disablePropagationCheck",
    }
}

// certificatesResolvers.<name>.acme.dnsChallenge.propagation (pkg/provider/acme.Propagation)
section! {
    /// `certificatesResolvers.<name>.acme.dnsChallenge.propagation`.
    pub struct Propagation {
        /// `certificatesResolvers.<name>.acme.dnsChallenge.propagation.disableChecks` (since v3.3.0).
        disable_checks: bool = "disableChecks",
        /// `certificatesResolvers.<name>.acme.dnsChallenge.propagation.disableANSChecks` (since v3.3.0).
        disable_ans_checks: bool = "disableANSChecks",
        /// `certificatesResolvers.<name>.acme.dnsChallenge.propagation.requireAllRNS` (since v3.3.0).
        require_all_rns: bool = "requireAllRNS",
        /// `certificatesResolvers.<name>.acme.dnsChallenge.propagation.delayBeforeChecks` (since v3.3.0).
        delay_before_checks: Duration = "delayBeforeChecks",
    }
}

// certificatesResolvers.<name>.acme.httpChallenge (pkg/provider/acme.HTTPChallenge)
section! {
    /// `certificatesResolvers.<name>.acme.httpChallenge`.
    pub struct HTTPChallenge {
        /// `certificatesResolvers.<name>.acme.httpChallenge.entryPoint`.
        entry_point: String = "entryPoint",
        /// `certificatesResolvers.<name>.acme.httpChallenge.delay` (since v3.5.0).
        delay: Duration = "delay",
    }
}

// certificatesResolvers.<name>.acme.tlsChallenge (pkg/provider/acme.TLSChallenge)
section! {
    /// `certificatesResolvers.<name>.acme.tlsChallenge`.
    pub struct TLSChallenge {
        /// `certificatesResolvers.<name>.acme.tlsChallenge.delay` (since v3.6.0).
        delay: Duration = "delay",
    }
}
