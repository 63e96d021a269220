//! `tls`: certificates, TLS options and certificate stores.

use super::*;

// tls (pkg/config/dynamic.TLSConfiguration)
section! {
    /// `tls`.
    pub struct TLSConfiguration {
        /// `tls.certificates`.
        certificates: Vec<CertAndStores> = "certificates",
        /// `tls.options`.
        options: BTreeMap<String, Options> = "options",
        /// `tls.stores`.
        stores: BTreeMap<String, Store> = "stores",
    }
}

// tls.certificates (pkg/tls.Certificate)
section! {
    /// `tls.certificates`.
    pub struct CertAndStores {
        /// `tls.certificates[].certFile`.
        cert_file: String = "certFile",
        /// `tls.certificates[].keyFile`.
        key_file: String = "keyFile",
        /// `tls.certificates[].stores`.
        stores: Vec<String> = "stores" => Vec::new(),
    }
}

// tls.options.<name> (pkg/tls.Options)
section! {
    /// `tls.options.<name>`.
    pub struct Options {
        /// `tls.options.<name>.minVersion`.
        min_version: String = "minVersion",
        /// `tls.options.<name>.maxVersion`.
        max_version: String = "maxVersion",
        /// `tls.options.<name>.cipherSuites`.
        cipher_suites: Vec<String> = "cipherSuites" => default_cipher_suites(),
        /// `tls.options.<name>.curvePreferences`.
        curve_preferences: Vec<String> = "curvePreferences",
        /// `tls.options.<name>.clientAuth`.
        client_auth: ClientAuth = "clientAuth",
        /// `tls.options.<name>.sniStrict`.
        sni_strict: bool = "sniStrict",
        /// `tls.options.<name>.alpnProtocols`.
        alpn_protocols: Vec<String> = "alpnProtocols" => vec!["h2".into(), "http/1.1".into(), "acme-tls/1".into()],
        /// `tls.options.<name>.disableSessionTickets` (since v3.4.0).
        disable_session_tickets: bool = "disableSessionTickets",
        /// `tls.options.<name>.preferServerCipherSuites`.
        prefer_server_cipher_suites: Option<bool> = "preferServerCipherSuites",
    }
}

// tls.options.<name>.clientAuth (pkg/tls.ClientAuth)
section! {
    /// `tls.options.<name>.clientAuth`.
    pub struct ClientAuth {
        /// `tls.options.<name>.clientAuth.caFiles`.
        ca_files: Vec<String> = "caFiles",
        /// `tls.options.<name>.clientAuth.clientAuthType`.
        client_auth_type: String = "clientAuthType",
    }
}

// tls.stores.<name> (pkg/tls.Store)
section! {
    /// `tls.stores.<name>`.
    pub struct Store {
        /// `tls.stores.<name>.defaultCertificate`.
        default_certificate: Option<Certificate> = "defaultCertificate",
        /// `tls.stores.<name>.defaultGeneratedCert`.
        default_generated_cert: Option<GeneratedCert> = "defaultGeneratedCert",
    }
}

// tls.stores.<name>.defaultGeneratedCert (pkg/tls.GeneratedCert)
section! {
    /// `tls.stores.<name>.defaultGeneratedCert`.
    pub struct GeneratedCert {
        /// `tls.stores.<name>.defaultGeneratedCert.resolver`.
        resolver: String = "resolver",
        /// `tls.stores.<name>.defaultGeneratedCert.domain`.
        domain: Option<Domain> = "domain",
    }
}

// http.serversTransports.<name>.certificates (pkg/tls.Certificate)
section! {
    /// `http.serversTransports.<name>.certificates`.
    pub struct Certificate {
        /// `http.serversTransports.<name>.certificates[].certFile`.
        cert_file: String = "certFile",
        /// `http.serversTransports.<name>.certificates[].keyFile`.
        key_file: String = "keyFile",
    }
}
