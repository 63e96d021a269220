//! The TLS certificate store (Traefik's `default` store): the certificates of
//! `tls.certificates` keyed by their names, the default certificate, and the choice of a
//! certificate for a ClientHello's server name.

use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;

use super::names::certificate_names;

/// A certificate chain and private key from PEM text, checked to belong together.
pub fn certified_key(cert_pem: &[u8], key_pem: &[u8]) -> Result<CertifiedKey, String> {
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(cert_pem)
        .collect::<Result<_, _>>()
        .map_err(|e| format!("unable to read certificate: {e:?}"))?;
    if chain.is_empty() {
        return Err("tls: failed to find any PEM data in certificate input".into());
    }
    let key = PrivateKeyDer::from_pem_slice(key_pem)
        .map_err(|_| "tls: failed to find any PEM data in key input".to_string())?;
    let provider = rustls::crypto::ring::default_provider();
    let signing = provider
        .key_provider
        .load_private_key(key)
        .map_err(|e| format!("unable to load private key: {e}"))?;
    let ck = CertifiedKey::new(chain, signing);
    ck.keys_match()
        .map_err(|_| "tls: private key does not match public key".to_string())?;
    Ok(ck)
}

/// One certificate of the store with the names it serves.
#[derive(Debug)]
struct Entry {
    /// Its names, sorted and joined with `,` (Traefik's certificate key).
    key: String,
    names: Vec<String>,
    cert: Arc<CertifiedKey>,
}

/// The certificates a TLS entry point can present.
#[derive(Debug, Default)]
pub struct CertStore {
    /// Sorted by key, descending: Traefik tries the keys in reverse order.
    entries: Vec<Entry>,
    default: Option<Arc<CertifiedKey>>,
}

impl CertStore {
    /// An empty store with `default` as its default certificate.
    pub fn new(default: Option<Arc<CertifiedKey>>) -> Self {
        CertStore {
            entries: Vec::new(),
            default,
        }
    }

    /// Adds a certificate; one whose names equal an earlier one's is skipped (returns false), as
    /// Traefik keeps the first certificate per name set.
    pub fn add(&mut self, cert: CertifiedKey) -> Result<bool, String> {
        let leaf = cert.end_entity_cert().map_err(|e| e.to_string())?;
        let mut names = certificate_names(leaf)?;
        names.sort();
        let key = names.join(",");
        if self.entries.iter().any(|e| e.key == key) {
            return Ok(false);
        }
        self.entries.push(Entry {
            key,
            names,
            cert: Arc::new(cert),
        });
        self.entries.sort_by(|a, b| b.key.cmp(&a.key));
        Ok(true)
    }

    /// The certificate for a server name: the first certificate (in reverse key order) with a
    /// name equal to it or a `*.` name matching its first label; `None` when none matches.
    pub fn best(&self, server_name: &str) -> Option<&Arc<CertifiedKey>> {
        let server_name = server_name.trim().to_ascii_lowercase();
        if server_name.is_empty() {
            return None;
        }
        let wildcard = match server_name.split_once('.') {
            Some((_, rest)) => format!("*.{rest}"),
            None => "*".to_string(),
        };
        self.entries
            .iter()
            .find(|e| {
                e.names
                    .iter()
                    .any(|n| *n == server_name || n.trim_end_matches('.') == wildcard)
            })
            .map(|e| &e.cert)
    }

    /// Every IP address a certificate names, with the first certificate (in Traefik's order)
    /// naming it.
    pub fn ip_certificates(&self) -> Vec<(std::net::IpAddr, Arc<CertifiedKey>)> {
        let mut out: Vec<(std::net::IpAddr, Arc<CertifiedKey>)> = Vec::new();
        for e in &self.entries {
            for ip in e.names.iter().filter_map(|n| n.parse().ok()) {
                if !out.iter().any(|(seen, _)| *seen == ip) {
                    out.push((ip, Arc::clone(&e.cert)));
                }
            }
        }
        out
    }

    /// The default certificate.
    pub fn default_certificate(&self) -> Option<&Arc<CertifiedKey>> {
        self.default.as_ref()
    }
}

/// Picks the certificate of a handshake from the store: by server name, else the default
/// certificate unless `sniStrict` (then the handshake fails).
#[derive(Debug)]
pub struct SniResolver {
    /// The store.
    pub store: Arc<CertStore>,
    /// `sniStrict`.
    pub strict: bool,
}

impl ResolvesServerCert for SniResolver {
    fn resolve(&self, hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        if let Some(c) = hello.server_name().and_then(|n| self.store.best(n)) {
            return Some(Arc::clone(c));
        }
        if self.strict {
            return None;
        }
        self.store.default_certificate().cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cert(names: &[&str]) -> CertifiedKey {
        let key = rcgen::KeyPair::generate().unwrap();
        let mut params =
            rcgen::CertificateParams::new(names.iter().map(|s| s.to_string()).collect::<Vec<_>>())
                .unwrap();
        params.distinguished_name = rcgen::DistinguishedName::new();
        let c = params.self_signed(&key).unwrap();
        certified_key(c.pem().as_bytes(), key.serialize_pem().as_bytes()).unwrap()
    }

    #[test]
    fn selection_exact_wildcard_default() {
        let default = Arc::new(cert(&["default.test"]));
        let mut store = CertStore::new(Some(Arc::clone(&default)));
        assert!(store.add(cert(&["a.example.com"])).unwrap());
        assert!(store.add(cert(&["*.example.com"])).unwrap());
        assert!(
            !store.add(cert(&["a.example.com"])).unwrap(),
            "same names: skipped"
        );
        let names =
            |c: &Arc<CertifiedKey>| certificate_names(c.end_entity_cert().unwrap()).unwrap();
        assert_eq!(
            names(store.best("A.Example.com").unwrap()),
            ["a.example.com"]
        );
        assert_eq!(
            names(store.best("b.example.com").unwrap()),
            ["*.example.com"]
        );
        assert!(
            store.best("x.b.example.com").is_none(),
            "a wildcard covers one label"
        );
        assert!(store.best("example.com").is_none());
        assert!(store.best("").is_none());
        assert!(Arc::ptr_eq(store.default_certificate().unwrap(), &default));
    }

    #[test]
    fn mismatched_key_and_bad_pem_are_errors() {
        let key = rcgen::KeyPair::generate().unwrap();
        let other = rcgen::KeyPair::generate().unwrap();
        let c = rcgen::CertificateParams::new(vec!["a.test".to_string()])
            .unwrap()
            .self_signed(&key)
            .unwrap();
        let err = certified_key(c.pem().as_bytes(), other.serialize_pem().as_bytes()).unwrap_err();
        assert!(err.contains("does not match"), "{err}");
        assert!(certified_key(b"nope", b"nope").is_err());
    }
}
