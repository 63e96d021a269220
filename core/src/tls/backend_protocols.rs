//! A `serversTransport`'s `cipherSuites`, `minVersion` and `maxVersion` as the protocol
//! versions and TLS 1.2 cipher suites offered to `https://` backends, validated as Traefik's
//! transport manager does (`invalid CipherSuite: X`, `invalid TLS minimum version: X`,
//! `TLS minimum version A is above the maximum version B`, where an unset maximum counts as
//! zero). Go's list only governs TLS 1.0–1.2 suites; TLS 1.3 suites are always offered. What
//! rustls cannot speak (TLS 1.0/1.1, CBC, RC4, 3DES and RSA key exchange suites) is left out with
//! a warning, or is an error when nothing usable remains.

use rustls::{SupportedCipherSuite, SupportedProtocolVersion};

use super::options::{canonical_suite, rustls_suite_name, version_rank, GO_SUITES};

/// What a backend handshake offers.
#[derive(Debug, Clone)]
pub struct BackendProtocols {
    /// Cipher suites (TLS 1.3 ones always, TLS 1.2 ones as configured).
    pub suites: Vec<SupportedCipherSuite>,
    /// Protocol versions.
    pub versions: Vec<&'static SupportedProtocolVersion>,
}

impl Default for BackendProtocols {
    fn default() -> Self {
        BackendProtocols {
            suites: rustls::crypto::ring::default_provider().cipher_suites,
            versions: vec![&rustls::version::TLS13, &rustls::version::TLS12],
        }
    }
}

/// Go's version constants, for the "above the maximum" comparison (unset is 0).
fn go_version(name: &str) -> u16 {
    match version_rank(name) {
        Some(r) => 0x0301 + u16::from(r - 10),
        None => 0,
    }
}

/// Why a transport's TLS settings are refused (Traefik then uses the default TLS
/// configuration for that transport), or the protocols with warnings about what was left out.
pub fn backend_protocols(
    cipher_suites: &[String],
    min_version: &str,
    max_version: &str,
) -> Result<(BackendProtocols, Vec<String>), String> {
    let mut wanted = Vec::new();
    for name in cipher_suites {
        if !GO_SUITES.contains(&name.as_str()) {
            return Err(format!("invalid CipherSuite: {name}"));
        }
        wanted.push(canonical_suite(name));
    }
    if !min_version.is_empty() && version_rank(min_version).is_none() {
        return Err(format!("invalid TLS minimum version: {min_version}"));
    }
    if !max_version.is_empty() && version_rank(max_version).is_none() {
        return Err(format!("invalid TLS maximum version: {max_version}"));
    }
    if go_version(min_version) > go_version(max_version) {
        return Err(format!(
            "TLS minimum version {min_version} is above the maximum version {max_version}"
        ));
    }
    let mut warnings = Vec::new();
    let min = version_rank(min_version).unwrap_or(12);
    let max = version_rank(max_version).unwrap_or(13);
    if min < 12 {
        warnings.push(format!(
            "minVersion {min_version}: TLS 1.0 and 1.1 are not supported by TrafficCop, TLS 1.2 is the minimum towards backends"
        ));
    }
    let all = rustls::crypto::ring::default_provider().cipher_suites;
    let mut suites: Vec<SupportedCipherSuite> = all
        .iter()
        .filter(|s| match s {
            SupportedCipherSuite::Tls13(_) => true,
            SupportedCipherSuite::Tls12(_) => {
                wanted.is_empty() || wanted.contains(&rustls_suite_name(s))
            }
        })
        .copied()
        .collect();
    let known: Vec<String> = all.iter().map(rustls_suite_name).collect();
    let dropped: Vec<&str> = wanted
        .iter()
        .filter(|n| !known.contains(n) && *n != "TLS_FALLBACK_SCSV")
        .map(String::as_str)
        .collect();
    if !dropped.is_empty() {
        warnings.push(format!(
            "cipher suites not supported by TrafficCop are left out towards backends: {}",
            dropped.join(", ")
        ));
    }
    let has12 = suites
        .iter()
        .any(|s| matches!(s, SupportedCipherSuite::Tls12(_)));
    let mut versions: Vec<&'static SupportedProtocolVersion> = Vec::new();
    if max >= 13 {
        versions.push(&rustls::version::TLS13);
    }
    if min <= 12 && max >= 12 && has12 {
        versions.push(&rustls::version::TLS12);
    }
    if versions.is_empty() {
        return Err(if max < 12 {
            format!("maxVersion {max_version}: TrafficCop speaks TLS 1.2 and 1.3 to backends")
        } else {
            "no cipher suite TrafficCop supports is left for TLS 1.2".into()
        });
    }
    if !versions.contains(&&rustls::version::TLS12) {
        suites.retain(|s| matches!(s, SupportedCipherSuite::Tls13(_)));
    }
    if !versions.contains(&&rustls::version::TLS13) {
        suites.retain(|s| matches!(s, SupportedCipherSuite::Tls12(_)));
    }
    Ok((BackendProtocols { suites, versions }, warnings))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(p: &BackendProtocols) -> Vec<String> {
        p.suites.iter().map(rustls_suite_name).collect()
    }

    #[test]
    fn traefik_validation() {
        let e = backend_protocols(&["TLS_NOPE".into()], "", "").unwrap_err();
        assert_eq!(e, "invalid CipherSuite: TLS_NOPE");
        let e = backend_protocols(&[], "TLS12", "").unwrap_err();
        assert_eq!(e, "invalid TLS minimum version: TLS12");
        let e = backend_protocols(&[], "", "VersionTLS14").unwrap_err();
        assert_eq!(e, "invalid TLS maximum version: VersionTLS14");
        // An unset maximum counts as zero in Traefik's comparison.
        let e = backend_protocols(&[], "VersionTLS12", "").unwrap_err();
        assert_eq!(
            e,
            "TLS minimum version VersionTLS12 is above the maximum version "
        );
        let e = backend_protocols(&[], "VersionTLS13", "VersionTLS12").unwrap_err();
        assert!(e.contains("above the maximum"), "{e}");
    }

    #[test]
    fn versions_and_suites() {
        let (p, w) = backend_protocols(&[], "", "").unwrap();
        assert_eq!(p.versions.len(), 2);
        assert!(w.is_empty());
        let (p, w) = backend_protocols(&[], "VersionTLS13", "VersionTLS13").unwrap();
        assert_eq!(p.versions, vec![&rustls::version::TLS13]);
        assert!(
            names(&p).iter().all(|n| !n.contains("ECDHE")),
            "{:?}",
            names(&p)
        );
        assert!(w.is_empty());
        let suites = vec![
            "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256".to_string(),
            "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA".to_string(),
        ];
        let (p, w) = backend_protocols(&suites, "VersionTLS10", "VersionTLS12").unwrap();
        assert_eq!(p.versions, vec![&rustls::version::TLS12]);
        assert_eq!(names(&p), vec!["TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"]);
        assert_eq!(w.len(), 2, "{w:?}");
        let e = backend_protocols(&[], "VersionTLS10", "VersionTLS11").unwrap_err();
        assert!(e.contains("TLS 1.2 and 1.3"), "{e}");
        let cbc = vec!["TLS_RSA_WITH_AES_128_CBC_SHA".to_string()];
        let e = backend_protocols(&cbc, "VersionTLS12", "VersionTLS12").unwrap_err();
        assert!(e.contains("no cipher suite"), "{e}");
    }
}
