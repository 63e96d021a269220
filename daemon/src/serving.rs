//! Turning a loaded configuration into what the workers serve: file-or-content strings read
//! from disk, Traefik's self-signed default certificate generated (a new one at every
//! configuration change, as Traefik does), then the core's compile.

use std::sync::Arc;

use trafficcop_core::config::dynamic::DynamicConfiguration;
use trafficcop_core::config::static_config::StaticConfiguration;
use trafficcop_core::proxy::{compile_with, CompiledConfig};

/// Reads `path` when it names an existing file (Traefik's `FileOrContent.IsPath`).
fn read_file(path: &str) -> Option<String> {
    let p = std::path::Path::new(path);
    if !p.is_file() {
        return None;
    }
    std::fs::read_to_string(p).ok()
}

/// A self-signed certificate like Traefik's default one: common name `TRAEFIK DEFAULT CERT`,
/// one DNS name `<hex>.<hex>.traefik.default`, valid for a year. (Traefik's key is RSA-2048;
/// this one is ECDSA P-256, which the ring provider can generate.)
pub fn default_certificate() -> Option<Arc<rustls::sign::CertifiedKey>> {
    let key = rcgen::KeyPair::generate().ok()?;
    let mut random = [0u8; 32];
    rustls::crypto::ring::default_provider()
        .secure_random
        .fill(&mut random)
        .ok()?;
    let hex: String = random.iter().map(|b| format!("{b:02x}")).collect();
    let name = format!("{}.{}.traefik.default", &hex[..32], &hex[32..]);
    let mut params = rcgen::CertificateParams::new(vec![name]).ok()?;
    params.distinguished_name = rcgen::DistinguishedName::new();
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "TRAEFIK DEFAULT CERT");
    let now = std::time::SystemTime::now();
    params.not_before = now.into();
    params.not_after = (now + std::time::Duration::from_secs(365 * 24 * 3600)).into();
    let cert = params.self_signed(&key).ok()?;
    trafficcop_core::tls::certified_key(cert.pem().as_bytes(), key.serialize_pem().as_bytes())
        .ok()
        .map(Arc::new)
}

/// Compiles a configuration generation for serving.
pub fn compile_for_serving(
    st: &StaticConfiguration,
    dy: &DynamicConfiguration,
    generation: u64,
) -> Arc<CompiledConfig> {
    let mut dy = dy.clone();
    trafficcop_core::config::file_or_content::resolve(&mut dy, &read_file);
    compile_with(st, &dy, generation, default_certificate())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_certificate_is_traefiks_shape() {
        let c = default_certificate().expect("generated");
        let names =
            trafficcop_core::tls::names::certificate_names(c.end_entity_cert().unwrap()).unwrap();
        assert_eq!(names[0], "traefik default cert");
        assert!(names[1].ends_with(".traefik.default"), "{names:?}");
        assert_eq!(names[1].len(), 32 + 1 + 32 + ".traefik.default".len());
        let other = default_certificate().unwrap();
        assert_ne!(c.cert, other.cert, "a new one every time");
    }
}
