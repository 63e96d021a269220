//! `tls.options.<name>` as a rustls server configuration: versions, cipher suites, curves,
//! ALPN, client authentication and session tickets, with Traefik's validation. What rustls
//! cannot do (TLS 1.0/1.1, CBC/RC4/3DES/RSA-key-exchange suites, P-521, post-quantum groups
//! on the ring provider) is reported as a warning when other choices remain, or as an error
//! when nothing usable is left.

use std::sync::Arc;

use rustls::crypto::CryptoProvider;
use rustls::server::ServerConfig;
use rustls::{NamedGroup, SupportedCipherSuite};

use super::client_auth::client_verifier;
use super::store::{CertStore, SniResolver};
use crate::config::dynamic::Options;

/// Cipher suite names Traefik accepts (Go's `crypto/tls` names).
pub(super) const GO_SUITES: &[&str] = &[
    "TLS_RSA_WITH_RC4_128_SHA",
    "TLS_RSA_WITH_3DES_EDE_CBC_SHA",
    "TLS_RSA_WITH_AES_128_CBC_SHA",
    "TLS_RSA_WITH_AES_256_CBC_SHA",
    "TLS_RSA_WITH_AES_128_CBC_SHA256",
    "TLS_RSA_WITH_AES_128_GCM_SHA256",
    "TLS_RSA_WITH_AES_256_GCM_SHA384",
    "TLS_ECDHE_ECDSA_WITH_RC4_128_SHA",
    "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA",
    "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA",
    "TLS_ECDHE_RSA_WITH_RC4_128_SHA",
    "TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA",
    "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA",
    "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA",
    "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256",
    "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256",
    "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
    "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
    "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
    "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
    "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305",
    "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
    "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305",
    "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
    "TLS_AES_128_GCM_SHA256",
    "TLS_AES_256_GCM_SHA384",
    "TLS_CHACHA20_POLY1305_SHA256",
    "TLS_FALLBACK_SCSV",
];

/// Curve names Traefik accepts, with the rustls group when the ring provider has one.
const GO_CURVES: &[(&str, Option<NamedGroup>)] = &[
    ("secp256r1", Some(NamedGroup::secp256r1)),
    ("CurveP256", Some(NamedGroup::secp256r1)),
    ("secp384r1", Some(NamedGroup::secp384r1)),
    ("CurveP384", Some(NamedGroup::secp384r1)),
    ("secp521r1", None),
    ("CurveP521", None),
    ("x25519", Some(NamedGroup::X25519)),
    ("X25519", Some(NamedGroup::X25519)),
    ("x25519mlkem768", None),
    ("X25519MLKEM768", None),
    ("secp256r1mlkem768", None),
    ("SecP256r1MLKEM768", None),
    ("secp384r1mlkem1024", None),
    ("SecP384r1MLKEM1024", None),
];

/// ALPN protocols TrafficCop does not serve yet (ACME TLS-ALPN): never negotiated.
const UNSERVED_ALPN: &[&str] = &["acme-tls/1"];

/// A built option: the server configuration and what was dropped from the user's choices.
pub struct BuiltOptions {
    /// The configuration handshakes use.
    pub config: Arc<ServerConfig>,
    /// Choices rustls cannot honour that were left out (shown as warnings).
    pub warnings: Vec<String>,
}

pub(super) fn version_rank(v: &str) -> Option<u8> {
    match v {
        "VersionTLS10" => Some(10),
        "VersionTLS11" => Some(11),
        "VersionTLS12" => Some(12),
        "VersionTLS13" => Some(13),
        _ => None,
    }
}

/// The name rustls knows a Go suite name by (Go's ChaCha20 aliases lack `_SHA256`).
pub(super) fn canonical_suite(name: &str) -> String {
    match name {
        "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305" | "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305" => {
            format!("{name}_SHA256")
        }
        _ => name.to_string(),
    }
}

/// The Go name of a rustls suite (rustls writes TLS 1.3 suites as `TLS13_...`).
pub(super) fn rustls_suite_name(s: &SupportedCipherSuite) -> String {
    let name = format!("{:?}", s.suite());
    match name.strip_prefix("TLS13_") {
        Some(rest) => format!("TLS_{rest}"),
        None => name,
    }
}

/// Builds one TLS option over the certificate store. Errors read as Traefik's
/// (`invalid CipherSuite: X`, `invalid CurveID in curvePreferences: X`, client-auth errors).
pub fn build_options(opts: &Options, store: &Arc<CertStore>) -> Result<BuiltOptions, String> {
    let mut warnings = Vec::new();
    let base = rustls::crypto::ring::default_provider();

    // Versions: Go's server minimum is TLS 1.2 unless configured lower; rustls has no 1.0/1.1.
    let min = version_rank(&opts.min_version).unwrap_or(12);
    let max = version_rank(&opts.max_version).unwrap_or(13);
    if min < 12 {
        warnings.push(format!(
            "minVersion {}: TLS 1.0 and 1.1 are not supported by TrafficCop, TLS 1.2 is the minimum",
            opts.min_version
        ));
    }
    if max < 12 {
        return Err(format!(
            "maxVersion {}: TrafficCop only serves TLS 1.2 and 1.3",
            opts.max_version
        ));
    }
    let tls12 = min <= 12 && max >= 12;
    let tls13 = max >= 13;

    // Cipher suites: the list only governs TLS 1.2 (Go does not configure TLS 1.3 suites).
    let mut wanted: Vec<String> = Vec::new();
    for name in &opts.cipher_suites {
        if !GO_SUITES.contains(&name.as_str()) {
            return Err(format!("invalid CipherSuite: {name}"));
        }
        wanted.push(canonical_suite(name));
    }
    let mut suites: Vec<SupportedCipherSuite> = Vec::new();
    for s in &base.cipher_suites {
        let is13 = matches!(s, SupportedCipherSuite::Tls13(_));
        if is13 || wanted.contains(&rustls_suite_name(s)) {
            suites.push(*s);
        }
    }
    // Go's server order (with AES hardware): AES-128-GCM, AES-256-GCM, then ChaCha20.
    suites.sort_by_key(|s| {
        let n = rustls_suite_name(s);
        if n.contains("AES_128") {
            0
        } else if n.contains("AES_256") {
            1
        } else {
            2
        }
    });
    let servable: Vec<String> = base.cipher_suites.iter().map(rustls_suite_name).collect();
    let dropped: Vec<&String> = wanted
        .iter()
        .filter(|n| !servable.contains(n) && *n != "TLS_FALLBACK_SCSV")
        .collect();
    if !dropped.is_empty() {
        warnings.push(format!(
            "cipher suites not supported by TrafficCop are left out: {}",
            dropped
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    let has12 = suites
        .iter()
        .any(|s| matches!(s, SupportedCipherSuite::Tls12(_)));
    let tls12 = tls12 && has12;
    if !tls12 && !tls13 {
        return Err("no cipher suite TrafficCop supports is left for TLS 1.2".into());
    }

    // Key exchange groups.
    let mut kx = base.kx_groups.clone();
    if !opts.curve_preferences.is_empty() {
        let mut groups = Vec::new();
        for name in &opts.curve_preferences {
            let Some((_, group)) = GO_CURVES.iter().find(|(n, _)| n == name) else {
                return Err(format!("invalid CurveID in curvePreferences: {name}"));
            };
            match group {
                Some(g) => {
                    if let Some(k) = base.kx_groups.iter().find(|k| k.name() == *g) {
                        if !groups
                            .iter()
                            .any(|x: &&dyn rustls::crypto::SupportedKxGroup| x.name() == *g)
                        {
                            groups.push(*k);
                        }
                    }
                }
                None => warnings.push(format!(
                    "curve {name} is not supported by TrafficCop and is left out"
                )),
            }
        }
        if groups.is_empty() {
            return Err("no curve of curvePreferences is supported by TrafficCop".into());
        }
        kx = groups;
    }

    let provider = Arc::new(CryptoProvider {
        cipher_suites: suites,
        kx_groups: kx,
        ..base
    });
    let verifier = client_verifier(&opts.client_auth, &provider)?;
    let mut versions: Vec<&'static rustls::SupportedProtocolVersion> = Vec::new();
    if tls13 {
        versions.push(&rustls::version::TLS13);
    }
    if tls12 {
        versions.push(&rustls::version::TLS12);
    }
    let mut config = ServerConfig::builder_with_provider(Arc::clone(&provider))
        .with_protocol_versions(&versions)
        .map_err(|e| format!("TLS options: {e}"))?
        .with_client_cert_verifier(verifier)
        .with_cert_resolver(Arc::new(SniResolver {
            store: Arc::clone(store),
            strict: opts.sni_strict,
        }));
    // Go's server chooses the suite by its own preference order.
    config.ignore_client_order = true;
    config.alpn_protocols = opts
        .alpn_protocols
        .iter()
        .filter(|p| !UNSERVED_ALPN.contains(&p.as_str()))
        .map(|p| p.as_bytes().to_vec())
        .collect();
    if opts.disable_session_tickets {
        config.session_storage = Arc::new(rustls::server::NoServerSessionStorage {});
        config.send_tls13_tickets = 0;
    } else if let Ok(t) = rustls::crypto::ring::Ticketer::new() {
        config.ticketer = t;
    }
    Ok(BuiltOptions {
        config: Arc::new(config),
        warnings,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts() -> Options {
        Options::default()
    }

    #[test]
    fn defaults_build_without_acme_alpn() {
        let b = build_options(&opts(), &Arc::new(CertStore::default())).unwrap();
        assert!(b.warnings.is_empty(), "{:?}", b.warnings);
        assert_eq!(
            b.config.alpn_protocols,
            [b"h2".to_vec(), b"http/1.1".to_vec()]
        );
    }

    #[test]
    fn traefik_errors_and_warnings() {
        let store = Arc::new(CertStore::default());
        let mut o = opts();
        o.cipher_suites = vec!["TLS_NOPE".into()];
        assert_eq!(
            build_options(&o, &store).err().unwrap(),
            "invalid CipherSuite: TLS_NOPE"
        );
        o.cipher_suites = vec![
            "TLS_RSA_WITH_AES_128_CBC_SHA".into(),
            "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305".into(),
        ];
        let b = build_options(&o, &store).unwrap();
        assert_eq!(b.warnings.len(), 1, "{:?}", b.warnings);
        assert!(b.warnings[0].contains("TLS_RSA_WITH_AES_128_CBC_SHA"));
        let mut o = opts();
        o.curve_preferences = vec!["CurveP999".into()];
        assert_eq!(
            build_options(&o, &store).err().unwrap(),
            "invalid CurveID in curvePreferences: CurveP999"
        );
        o.curve_preferences = vec!["CurveP521".into()];
        assert!(build_options(&o, &store).is_err());
        o.curve_preferences = vec!["CurveP521".into(), "X25519".into()];
        assert_eq!(build_options(&o, &store).unwrap().warnings.len(), 1);
        let mut o = opts();
        o.max_version = "VersionTLS11".into();
        assert!(build_options(&o, &store).is_err());
        o.max_version = String::new();
        o.min_version = "VersionTLS10".into();
        assert_eq!(build_options(&o, &store).unwrap().warnings.len(), 1);
        o.min_version = "VersionTLS99".into();
        assert!(
            build_options(&o, &store).unwrap().warnings.is_empty(),
            "unknown minVersion is ignored"
        );
    }
}
