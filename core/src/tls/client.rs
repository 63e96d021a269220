//! TLS to `https://` backends without IO: the client side of rustls over byte slices, and the
//! rustls client configuration a `serversTransport` describes (`serverName`,
//! `insecureSkipVerify`, `rootCAs`, `certificates`).

use std::io::{Read, Write};
use std::sync::Arc;

use rustls::client::danger::{ServerCertVerified, ServerCertVerifier};
use rustls::client::ClientConnection;
use rustls::crypto::WebPkiSupportedAlgorithms;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{ClientConfig, RootCertStore};

#[cfg(test)]
mod tests {
    #[test]
    fn asn1_times() {
        assert_eq!(super::asn1_time(0x17, b"700101000000Z"), Some(0));
        assert_eq!(super::asn1_time(0x17, b"000301120000Z"), Some(951_912_000));
        assert_eq!(
            super::asn1_time(0x18, b"20261125231912Z"),
            Some(1_795_648_752)
        );
        assert_eq!(super::asn1_time(0x18, b"garbage"), None);
    }
}

use super::session::Received;

/// How a transport talks TLS to its backends.
#[derive(Clone)]
pub struct UpstreamTls {
    /// Identifies the configuration (connections are pooled per backend and configuration).
    pub id: u32,
    /// The rustls configuration (ALPN `h2` and `http/1.1` unless `disableHTTP2`).
    pub config: Arc<ClientConfig>,
    /// The same offering only `http/1.1`, for requests that upgrade the connection.
    pub config_h1: Arc<ClientConfig>,
    /// HTTP/2 may be negotiated (the transport does not set `disableHTTP2`).
    pub http2: bool,
    /// `serverName`: the name sent and verified instead of the URL's host.
    pub server_name: Option<Arc<str>>,
}

impl std::fmt::Debug for UpstreamTls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UpstreamTls")
            .field("id", &self.id)
            .field("server_name", &self.server_name)
            .finish_non_exhaustive()
    }
}

impl PartialEq for UpstreamTls {
    fn eq(&self, other: &Self) -> bool {
        self.id == other.id
    }
}

impl Eq for UpstreamTls {}

/// What a `serversTransport` says about TLS (PEM contents: file paths were resolved at load).
#[derive(Debug, Default)]
pub struct TransportTls<'a> {
    /// `serverName`.
    pub server_name: &'a str,
    /// `insecureSkipVerify`.
    pub insecure_skip_verify: bool,
    /// `rootCAs`.
    pub root_cas: &'a [String],
    /// `certificates` (certificate PEM, key PEM): the first is presented.
    pub certificates: Vec<(&'a str, &'a str)>,
    /// `disableHTTP2`.
    pub disable_http2: bool,
    /// No ALPN at all (Go's TCP dialer offers none); implies `disable_http2`.
    pub no_alpn: bool,
    /// `peerCertURI`: a URI SAN the backend's certificate must have.
    pub peer_cert_uri: &'a str,
    /// `cipherSuites`, `minVersion`, `maxVersion` (see [`super::backend_protocols`]).
    pub protocols: super::backend_protocols::BackendProtocols,
}

/// Builds the client configuration; `system_roots` verify backends when `rootCAs` is empty (as
/// Go uses the system pool). ALPN offers `h2` then `http/1.1`, as Go's transport, unless
/// `disableHTTP2`.
pub fn client_config(
    t: &TransportTls<'_>,
    system_roots: &[CertificateDer<'static>],
    id: u32,
) -> Result<UpstreamTls, String> {
    let provider = Arc::new(rustls::crypto::CryptoProvider {
        cipher_suites: t.protocols.suites.clone(),
        ..rustls::crypto::ring::default_provider()
    });
    let builder = ClientConfig::builder_with_provider(Arc::clone(&provider))
        .with_protocol_versions(&t.protocols.versions)
        .map_err(|e| e.to_string())?;
    // The roots: `rootCAs` (whose certificates are also accepted pinned, as Go does), else the
    // system's.
    let mut roots = RootCertStore::empty();
    let mut pinned: Vec<CertificateDer<'static>> = Vec::new();
    if t.root_cas.is_empty() {
        roots.add_parsable_certificates(system_roots.iter().cloned());
    } else {
        for ca in t.root_cas {
            let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(ca.as_bytes())
                .collect::<Result<_, _>>()
                .map_err(|_| "failed to parse root certificate".to_string())?;
            pinned.extend(certs.iter().cloned());
            if roots.add_parsable_certificates(certs).0 == 0 {
                return Err("failed to parse root certificate".into());
            }
        }
    }
    let roots = Arc::new(roots);
    let algorithms = provider.signature_verification_algorithms;
    let verifier: Arc<dyn ServerCertVerifier> = if t.insecure_skip_verify {
        Arc::new(NoVerification(algorithms))
    } else {
        let webpki = rustls::client::WebPkiServerVerifier::builder_with_provider(
            Arc::clone(&roots),
            Arc::clone(&provider),
        )
        .build()
        .map_err(|e| format!("backend certificate verifier: {e}"))?;
        Arc::new(RootsOrPinned {
            webpki,
            pinned: pinned.clone(),
            algorithms,
        })
    };
    let verifier: Arc<dyn ServerCertVerifier> = if t.peer_cert_uri.is_empty() {
        verifier
    } else {
        Arc::new(PeerCertUri {
            inner: verifier,
            roots,
            pinned,
            uri: t.peer_cert_uri.to_string(),
            algorithms,
        })
    };
    let builder = builder
        .dangerous()
        .with_custom_certificate_verifier(verifier);
    let mut config = match t.certificates.first() {
        None => builder.with_no_client_auth(),
        Some((cert, key)) => {
            let chain: Vec<CertificateDer<'static>> =
                CertificateDer::pem_slice_iter(cert.as_bytes())
                    .collect::<Result<_, _>>()
                    .map_err(|e| format!("unable to read client certificate: {e:?}"))?;
            let key = PrivateKeyDer::from_pem_slice(key.as_bytes())
                .map_err(|e| format!("unable to read client key: {e:?}"))?;
            builder
                .with_client_auth_cert(chain, key)
                .map_err(|e| format!("client certificate: {e}"))?
        }
    };
    config.alpn_protocols = if t.no_alpn {
        Vec::new()
    } else {
        vec![b"http/1.1".to_vec()]
    };
    let config_h1 = Arc::new(config.clone());
    let config = if t.disable_http2 || t.no_alpn {
        Arc::clone(&config_h1)
    } else {
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        Arc::new(config)
    };
    Ok(UpstreamTls {
        id,
        config,
        config_h1,
        http2: !(t.disable_http2 || t.no_alpn),
        server_name: (!t.server_name.is_empty()).then(|| Arc::from(t.server_name)),
    })
}

/// [`client_config`] reading the system's roots with `system_roots` only when the
/// configuration verifies with them (no `rootCAs`, no `insecureSkipVerify`): reading them
/// costs milliseconds, and most transports never need them.
pub fn client_config_from(
    t: &TransportTls<'_>,
    system_roots: impl FnOnce() -> Arc<Vec<CertificateDer<'static>>>,
    id: u32,
) -> Result<UpstreamTls, String> {
    let roots = if t.root_cas.is_empty() && !t.insecure_skip_verify {
        system_roots()
    } else {
        Arc::default()
    };
    client_config(t, &roots, id)
}

/// `peerCertURI`, as Traefik's `VerifyPeerCertificate`: after the usual verification (none
/// with `insecureSkipVerify`), the chain must lead to the roots (the name is not checked) and
/// one URI SAN must equal the URI, ASCII case aside.
#[derive(Debug)]
struct PeerCertUri {
    inner: Arc<dyn ServerCertVerifier>,
    roots: Arc<RootCertStore>,
    pinned: Vec<CertificateDer<'static>>,
    uri: String,
    algorithms: WebPkiSupportedAlgorithms,
}

impl ServerCertVerifier for PeerCertUri {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        self.inner
            .verify_server_cert(end_entity, intermediates, server_name, ocsp, now)?;
        if !self
            .pinned
            .iter()
            .any(|p| p.as_ref() == end_entity.as_ref())
        {
            let parsed = rustls::server::ParsedCertificate::try_from(end_entity)?;
            rustls::client::verify_server_cert_signed_by_trust_anchor(
                &parsed,
                &self.roots,
                intermediates,
                now,
                self.algorithms.all,
            )?;
        }
        if super::names::uri_names(end_entity)
            .iter()
            .any(|u| u.eq_ignore_ascii_case(&self.uri))
        {
            Ok(ServerCertVerified::assertion())
        } else {
            Err(rustls::Error::General(format!(
                "peer certificate mismatch: no SAN URI match {}",
                self.uri
            )))
        }
    }

    handshake_signatures!(algorithms);
}

/// Verification against the roots, as Go does, including what webpki refuses and Go accepts: a
/// self-signed server certificate that is itself one of `rootCAs` (the common way to pin a
/// backend's certificate), still checked for the server name and validity period.
#[derive(Debug)]
struct RootsOrPinned {
    webpki: Arc<rustls::client::WebPkiServerVerifier>,
    pinned: Vec<CertificateDer<'static>>,
    algorithms: WebPkiSupportedAlgorithms,
}

impl ServerCertVerifier for RootsOrPinned {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let err =
            match self
                .webpki
                .verify_server_cert(end_entity, intermediates, server_name, ocsp, now)
            {
                Ok(v) => return Ok(v),
                Err(e) => e,
            };
        if !self
            .pinned
            .iter()
            .any(|p| p.as_ref() == end_entity.as_ref())
        {
            return Err(err);
        }
        let cert = webpki::EndEntityCert::try_from(end_entity).map_err(|_| err.clone())?;
        cert.verify_is_valid_for_subject_name(server_name)
            .map_err(|_| err.clone())?;
        let (not_before, not_after) = validity(end_entity).ok_or(err.clone())?;
        let t = now.as_secs();
        if t < not_before || t > not_after {
            return Err(err);
        }
        Ok(ServerCertVerified::assertion())
    }

    handshake_signatures!(algorithms);
}

/// A certificate's validity period (seconds since the epoch).
fn validity(der: &[u8]) -> Option<(u64, u64)> {
    let (_, cert, _) = super::names::tlv(der)?;
    let (_, tbs, _) = super::names::tlv(cert)?;
    let mut rest = tbs;
    // version [0] (optional), serial, signature algorithm, issuer, validity
    let (tag, _, r) = super::names::tlv(rest)?;
    if tag == 0xa0 {
        rest = r;
    }
    let (_, _, r) = super::names::tlv(rest)?; // serial
    let (_, _, r) = super::names::tlv(r)?; // signature algorithm
    let (_, _, r) = super::names::tlv(r)?; // issuer
    let (_, validity, _) = super::names::tlv(r)?;
    let (t1, a, r) = super::names::tlv(validity)?;
    let (t2, b, _) = super::names::tlv(r)?;
    Some((asn1_time(t1, a)?, asn1_time(t2, b)?))
}

/// UTCTime (0x17) or GeneralizedTime (0x18) `...Z` as seconds since the epoch.
pub(super) fn asn1_time(tag: u8, v: &[u8]) -> Option<u64> {
    let s = std::str::from_utf8(v).ok()?.strip_suffix('Z')?;
    let (year, rest) = match tag {
        0x17 => {
            let y: u64 = s.get(..2)?.parse().ok()?;
            (if y >= 50 { 1900 + y } else { 2000 + y }, s.get(2..)?)
        }
        0x18 => (s.get(..4)?.parse().ok()?, s.get(4..)?),
        _ => return None,
    };
    let n = |i: usize| -> Option<u64> { rest.get(i..i + 2)?.parse().ok() };
    let (month, day, hour, min, sec) = (n(0)?, n(2)?, n(4)?, n(6)?, n(8).unwrap_or(0));
    // Days from 1970-01-01 to year-month-day (civil calendar).
    let (y, m) = if month <= 2 {
        (year - 1, month + 9)
    } else {
        (year, month - 3)
    };
    let era = y / 400;
    let yoe = y - era * 400;
    let doy = (153 * m + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(days * 86_400 + hour * 3600 + min * 60 + sec)
}

/// `insecureSkipVerify`: any certificate is accepted (handshake signatures are still checked).
#[derive(Debug)]
struct NoVerification(WebPkiSupportedAlgorithms);

impl ServerCertVerifier for NoVerification {
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

    handshake_signatures!(0);
}

/// The TLS state of a backend connection.
pub struct ClientTls {
    conn: ClientConnection,
    failed: bool,
}

impl std::fmt::Debug for ClientTls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientTls")
            .field("failed", &self.failed)
            .finish_non_exhaustive()
    }
}

impl ClientTls {
    /// A connection to `host` (or the transport's `serverName`), offering `h2` when `http2`
    /// and the transport allows it; its ClientHello is ready to send with
    /// [`ClientTls::flush`].
    pub fn new(tls: &UpstreamTls, host: &str, http2: bool) -> Result<Self, String> {
        let name = tls.server_name.as_deref().unwrap_or(host);
        let name = ServerName::try_from(name.to_string()).map_err(|e| e.to_string())?;
        let config = if http2 { &tls.config } else { &tls.config_h1 };
        let mut conn =
            ClientConnection::new(Arc::clone(config), name).map_err(|e| e.to_string())?;
        // The worker bounds what it queues itself.
        conn.set_buffer_limit(None);
        Ok(ClientTls {
            conn,
            failed: false,
        })
    }

    /// Bytes to send now (the ClientHello, then whatever the handshake and the sealed
    /// requests produce).
    pub fn flush(&mut self, out: &mut Vec<u8>) {
        while self.conn.wants_write() {
            if self.conn.write_tls(out).is_err() {
                break;
            }
        }
    }

    /// Feeds ciphertext from the backend. A failed handshake sets `out.failed`.
    pub fn receive(&mut self, mut data: &[u8], out: &mut Received) {
        while !data.is_empty() && !self.failed {
            if self.conn.read_tls(&mut data).is_err() {
                self.failed = true;
                break;
            }
            match self.conn.process_new_packets() {
                Ok(io) => {
                    out.peer_closed |= io.peer_has_closed();
                    let n = io.plaintext_bytes_to_read();
                    if n > 0 {
                        let mut buf = vec![0u8; n];
                        if self.conn.reader().read_exact(&mut buf).is_ok() {
                            out.plaintext.extend_from_slice(&buf);
                        }
                    }
                }
                Err(_) => self.failed = true,
            }
        }
        self.flush(&mut out.ciphertext);
        out.failed |= self.failed;
    }

    /// Encrypts request bytes (held until the handshake completes).
    pub fn seal(&mut self, plaintext: &[u8], out: &mut Vec<u8>) {
        let _ = self.conn.writer().write_all(plaintext);
        self.flush(out);
    }

    /// Whether the handshake is still in progress.
    pub fn is_handshaking(&self) -> bool {
        self.conn.is_handshaking()
    }

    /// The backend chose HTTP/2 by ALPN.
    pub fn negotiated_h2(&self) -> bool {
        self.conn.alpn_protocol() == Some(b"h2")
    }

    /// The `close_notify` alert.
    pub fn close_notify(&mut self, out: &mut Vec<u8>) {
        self.conn.send_close_notify();
        self.flush(out);
    }
}
