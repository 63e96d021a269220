//! `tls.options.<name>.clientAuth`: Go's five client-authentication modes as rustls
//! client-certificate verifiers.

use std::sync::Arc;

use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::server::WebPkiClientVerifier;
use rustls::{DistinguishedName, RootCertStore};

use crate::config::dynamic::ClientAuth;

/// The verifier for a `clientAuth` section whose `caFiles` hold PEM contents (file paths were
/// resolved at load). Errors read as Traefik's.
pub fn client_verifier(
    auth: &ClientAuth,
    provider: &Arc<CryptoProvider>,
) -> Result<Arc<dyn ClientCertVerifier>, String> {
    let mut roots = RootCertStore::empty();
    for ca in &auth.ca_files {
        let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(ca.as_bytes())
            .collect::<Result<_, _>>()
            .map_err(|_| "invalid certificate(s) content".to_string())?;
        let (added, _) = roots.add_parsable_certificates(certs);
        if added == 0 {
            return Err("invalid certificate(s) content".into());
        }
    }
    let has_cas = !auth.ca_files.is_empty();
    let mode = match auth.client_auth_type.as_str() {
        "" if has_cas => "RequireAndVerifyClientCert",
        "" => "NoClientCert",
        m => m,
    };
    if !has_cas
        && matches!(
            mode,
            "VerifyClientCertIfGiven" | "RequireAndVerifyClientCert"
        )
    {
        return Err(format!(
            "invalid clientAuthType: {mode}, CAFiles is required"
        ));
    }
    let verified = |optional: bool| {
        let b = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), Arc::clone(provider));
        let b = if optional {
            b.allow_unauthenticated()
        } else {
            b
        };
        b.build()
            .map_err(|e| format!("client certificate verifier: {e}"))
    };
    let any = |mandatory: bool| -> Arc<dyn ClientCertVerifier> {
        Arc::new(AnyClientCert {
            mandatory,
            algorithms: provider.signature_verification_algorithms,
        })
    };
    match mode {
        "NoClientCert" => Ok(WebPkiClientVerifier::no_client_auth()),
        "RequestClientCert" => Ok(any(false)),
        "RequireAnyClientCert" => Ok(any(true)),
        "VerifyClientCertIfGiven" => verified(true),
        "RequireAndVerifyClientCert" => verified(false),
        other => Err(format!("unknown client auth type {other:?}")),
    }
}

/// Go's `RequestClientCert` / `RequireAnyClientCert`: any certificate is accepted without
/// checking its chain (the handshake signature is still verified).
#[derive(Debug)]
struct AnyClientCert {
    mandatory: bool,
    algorithms: WebPkiSupportedAlgorithms,
}

impl ClientCertVerifier for AnyClientCert {
    fn client_auth_mandatory(&self) -> bool {
        self.mandatory
    }

    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        &[]
    }

    fn verify_client_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        Ok(ClientCertVerified::assertion())
    }

    handshake_signatures!(algorithms);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn auth(cas: &[&str], mode: &str) -> ClientAuth {
        ClientAuth {
            ca_files: cas.iter().map(|s| s.to_string()).collect(),
            client_auth_type: mode.into(),
        }
    }

    #[test]
    fn modes_and_errors() {
        let p = Arc::new(rustls::crypto::ring::default_provider());
        let key = rcgen::KeyPair::generate().unwrap();
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        let ca = params.self_signed(&key).unwrap().pem();
        assert!(!client_verifier(&auth(&[], ""), &p)
            .unwrap()
            .offer_client_auth());
        let v = client_verifier(&auth(&[&ca], ""), &p).unwrap();
        assert!(v.offer_client_auth() && v.client_auth_mandatory());
        let v = client_verifier(&auth(&[&ca], "VerifyClientCertIfGiven"), &p).unwrap();
        assert!(!v.client_auth_mandatory());
        assert!(!client_verifier(&auth(&[], "RequestClientCert"), &p)
            .unwrap()
            .client_auth_mandatory());
        assert!(client_verifier(&auth(&[], "RequireAnyClientCert"), &p)
            .unwrap()
            .client_auth_mandatory());
        let e = client_verifier(&auth(&[], "RequireAndVerifyClientCert"), &p)
            .err()
            .unwrap();
        assert_eq!(
            e,
            "invalid clientAuthType: RequireAndVerifyClientCert, CAFiles is required"
        );
        let e = client_verifier(&auth(&[&ca], "Sometimes"), &p)
            .err()
            .unwrap();
        assert_eq!(e, "unknown client auth type \"Sometimes\"");
        let e = client_verifier(&auth(&["not a pem"], ""), &p)
            .err()
            .unwrap();
        assert_eq!(e, "invalid certificate(s) content");
    }
}
