//! Turning a loaded configuration into what the workers serve: file-or-content strings read
//! from disk, Traefik's self-signed default certificate generated (a new one at every
//! configuration change, as Traefik does), then the core's compile.

use std::sync::Arc;

use trafficcop_core::config::dynamic::DynamicConfiguration;
use trafficcop_core::config::static_config::StaticConfiguration;
use trafficcop_core::proxy::{compile_serving, CompileInputs, CompiledConfig};

/// Reads `path` when it names an existing file (Traefik's `FileOrContent.IsPath`).
fn read_file(path: &str) -> Option<String> {
    let p = std::path::Path::new(path);
    if !p.is_file() {
        return None;
    }
    std::fs::read_to_string(p).ok()
}

/// Reads a file a middleware names (`basicAuth.usersFile`), with Go's `os.ReadFile` error
/// texts: `open <path>: no such file or directory`, `read <path>: is a directory`.
pub fn read_middleware_file(path: &str) -> Result<String, String> {
    let go_text = |e: &std::io::Error| {
        let text = e.to_string();
        let text = text.split(" (os error").next().unwrap_or_default();
        let mut chars = text.chars();
        chars.next().map_or(String::new(), |c| {
            c.to_lowercase().collect::<String>() + chars.as_str()
        })
    };
    let mut file =
        std::fs::File::open(path).map_err(|e| format!("open {path}: {}", go_text(&e)))?;
    let mut bytes = Vec::new();
    std::io::Read::read_to_end(&mut file, &mut bytes)
        .map_err(|e| format!("read {path}: {}", go_text(&e)))?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
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

/// The system's trusted root certificates, as Go finds them on Linux: `SSL_CERT_FILE`, else
/// the first bundle of the usual distribution paths, plus `SSL_CERT_DIR` files. Read once, the
/// first time a transport needs them.
pub fn system_roots() -> Arc<Vec<rustls::pki_types::CertificateDer<'static>>> {
    use rustls::pki_types::pem::PemObject;
    static ROOTS: std::sync::OnceLock<Arc<Vec<rustls::pki_types::CertificateDer<'static>>>> =
        std::sync::OnceLock::new();
    ROOTS
        .get_or_init(|| {
            const BUNDLES: &[&str] = &[
                "/etc/ssl/certs/ca-certificates.crt",
                "/etc/pki/tls/certs/ca-bundle.crt",
                "/etc/ssl/ca-bundle.pem",
                "/etc/pki/tls/cacert.pem",
                "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",
                "/etc/ssl/cert.pem",
            ];
            let mut files: Vec<std::path::PathBuf> = Vec::new();
            match std::env::var_os("SSL_CERT_FILE") {
                Some(f) => files.push(f.into()),
                None => files.extend(
                    BUNDLES
                        .iter()
                        .map(std::path::PathBuf::from)
                        .find(|p| p.is_file()),
                ),
            }
            if let Some(dir) = std::env::var_os("SSL_CERT_DIR") {
                if let Ok(entries) = std::fs::read_dir(dir) {
                    files.extend(entries.flatten().map(|e| e.path()));
                }
            }
            let mut roots = Vec::new();
            for f in files {
                if let Ok(pem) = std::fs::read(&f) {
                    roots.extend(rustls::pki_types::CertificateDer::pem_slice_iter(&pem).flatten());
                }
            }
            Arc::new(roots)
        })
        .clone()
}

/// Compiles a configuration generation for serving by `workers` workers.
pub fn compile_for_serving(
    st: &StaticConfiguration,
    dy: &DynamicConfiguration,
    generation: u64,
    workers: usize,
) -> Arc<CompiledConfig> {
    let mut dy = dy.clone();
    trafficcop_core::config::file_or_content::resolve(&mut dy, &read_file);
    let mut st = st.clone();
    trafficcop_core::config::file_or_content::resolve_static(&mut st, &read_file);
    let inputs = CompileInputs {
        generated_cert: default_certificate(),
        system_roots,
        workers,
        read_file: read_middleware_file,
    };
    compile_serving(&st, &dy, generation, &inputs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn middleware_files_read_with_gos_error_texts() {
        let dir = std::env::temp_dir().join(format!("tc-users-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("users");
        std::fs::write(&f, "a:b\n").unwrap();
        assert_eq!(read_middleware_file(f.to_str().unwrap()).unwrap(), "a:b\n");
        let missing = dir.join("missing");
        let missing = missing.to_str().unwrap();
        assert_eq!(
            read_middleware_file(missing).unwrap_err(),
            format!("open {missing}: no such file or directory")
        );
        let d = dir.to_str().unwrap();
        assert_eq!(
            read_middleware_file(d).unwrap_err(),
            format!("read {d}: is a directory")
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

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
