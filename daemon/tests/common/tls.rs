//! TLS helpers for the black-box tests: a test CA writing certificates to files, and a rustls
//! client that accepts any server certificate (the tests check the presented chain themselves).

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, SignatureScheme};

/// A CA writing leaf certificates to files.
pub struct Pki {
    issuer: rcgen::Issuer<'static, rcgen::KeyPair>,
    pub ca_pem: String,
}

impl Pki {
    pub fn new() -> Self {
        let key = rcgen::KeyPair::generate().unwrap();
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        params.distinguished_name = rcgen::DistinguishedName::new();
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "trafficcop test ca");
        let ca_pem = params.self_signed(&key).unwrap().pem();
        Pki {
            issuer: rcgen::Issuer::new(params, key),
            ca_pem,
        }
    }

    /// Writes `<stem>.crt` and `<stem>.key` for `names` under `dir`.
    pub fn leaf(&self, dir: &Path, stem: &str, names: &[&str]) -> (String, String) {
        let key = rcgen::KeyPair::generate().unwrap();
        let mut params =
            rcgen::CertificateParams::new(names.iter().map(|s| s.to_string()).collect::<Vec<_>>())
                .unwrap();
        params.distinguished_name = rcgen::DistinguishedName::new();
        let cert = params.signed_by(&key, &self.issuer).unwrap();
        let (c, k) = (
            dir.join(format!("{stem}.crt")),
            dir.join(format!("{stem}.key")),
        );
        std::fs::write(&c, cert.pem()).unwrap();
        std::fs::write(&k, key.serialize_pem()).unwrap();
        (c.display().to_string(), k.display().to_string())
    }
}

#[derive(Debug)]
pub struct AcceptAll;

impl ServerCertVerifier for AcceptAll {
    fn verify_server_cert(
        &self,
        _: &CertificateDer<'_>,
        _: &[CertificateDer<'_>],
        _: &ServerName<'_>,
        _: &[u8],
        _: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }
    fn verify_tls12_signature(
        &self,
        _: &[u8],
        _: &CertificateDer<'_>,
        _: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        Ok(HandshakeSignatureValid::assertion())
    }
    fn verify_tls13_signature(
        &self,
        _: &[u8],
        _: &CertificateDer<'_>,
        _: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        Ok(HandshakeSignatureValid::assertion())
    }
    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        rustls::crypto::ring::default_provider()
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// What a TLS exchange showed: the version, the leaf certificate's names, the response.
pub struct Exchange {
    pub version: Option<rustls::ProtocolVersion>,
    pub names: Vec<String>,
    pub response: String,
}

/// One request over TLS with `sni` (TLS 1.2 only when `tls12`), optionally with a client
/// certificate; `Err` when the handshake or the exchange fails.
pub fn tls_get(
    port: u16,
    sni: &str,
    host: &str,
    tls12: bool,
    client: Option<(&str, &str)>,
) -> Result<Exchange, String> {
    let versions: &[&rustls::SupportedProtocolVersion] = if tls12 {
        &[&rustls::version::TLS12]
    } else {
        &[&rustls::version::TLS13, &rustls::version::TLS12]
    };
    let b = ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_protocol_versions(versions)
        .unwrap()
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(AcceptAll));
    let config = match client {
        None => b.with_no_client_auth(),
        Some((c, k)) => {
            let chain = CertificateDer::pem_file_iter(c)
                .unwrap()
                .map(|c| c.unwrap())
                .collect();
            b.with_client_auth_cert(chain, PrivateKeyDer::from_pem_file(k).unwrap())
                .unwrap()
        }
    };
    let conn = rustls::ClientConnection::new(
        Arc::new(config),
        ServerName::try_from(sni.to_string()).unwrap(),
    )
    .unwrap();
    let sock = TcpStream::connect(("127.0.0.1", port)).unwrap();
    sock.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut tls = rustls::StreamOwned::new(conn, sock);
    tls.write_all(
        format!("GET /hello HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n").as_bytes(),
    )
    .map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    let read = tls.read_to_end(&mut out);
    if out.is_empty() {
        return Err(format!("no response: {read:?}"));
    }
    let names = tls
        .conn
        .peer_certificates()
        .map(|c| trafficcop_core::tls::names::certificate_names(&c[0]).unwrap())
        .unwrap_or_default();
    Ok(Exchange {
        version: tls.conn.protocol_version(),
        names,
        response: String::from_utf8_lossy(&out).into_owned(),
    })
}

/// Sends `raw` over TLS with `sni` (offering only `http/1.1`) and returns everything read until
/// the server closes (empty when the handshake fails).
pub fn tls_raw(port: u16, sni: &str, raw: &[u8]) -> Vec<u8> {
    let mut config =
        ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .unwrap()
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AcceptAll))
            .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    let conn = rustls::ClientConnection::new(
        Arc::new(config),
        ServerName::try_from(sni.to_string()).unwrap(),
    )
    .unwrap();
    let sock = TcpStream::connect(("127.0.0.1", port)).unwrap();
    sock.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut tls = rustls::StreamOwned::new(conn, sock);
    let mut out = Vec::new();
    if tls.write_all(raw).is_ok() {
        let _ = tls.read_to_end(&mut out);
    }
    out
}
