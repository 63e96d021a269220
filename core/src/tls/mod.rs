//! TLS without IO (rustls over byte slices): certificates and the `default` store,
//! TLS options, client authentication, per-entry-point option choice by server name, and the
//! TLS layer of a client connection; TLS to `https://` backends.

/// The handshake-signature methods every certificate verifier here shares: signatures are
/// checked with the provider's algorithms held in `self.$field` (a `WebPkiSupportedAlgorithms`);
/// only the certificate checks differ between verifiers.
macro_rules! handshake_signatures {
    ($field:tt) => {
        fn verify_tls12_signature(
            &self,
            message: &[u8],
            cert: &rustls::pki_types::CertificateDer<'_>,
            dss: &rustls::DigitallySignedStruct,
        ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
            rustls::crypto::verify_tls12_signature(message, cert, dss, &self.$field)
        }

        fn verify_tls13_signature(
            &self,
            message: &[u8],
            cert: &rustls::pki_types::CertificateDer<'_>,
            dss: &rustls::DigitallySignedStruct,
        ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
            rustls::crypto::verify_tls13_signature(message, cert, dss, &self.$field)
        }

        fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
            self.$field.supported_schemes()
        }
    };
}

pub mod backend_protocols;
pub mod cert_info;
pub mod client;
pub mod client_auth;
pub mod names;
pub mod options;
pub mod session;
pub mod setup;
pub mod store;

pub use client::{ClientTls, UpstreamTls};
pub use session::{ChosenOptions, Received, ServerTls};
pub use setup::{EntryPointTls, TlsSetup, DEFAULT};
pub use store::{certified_key, CertStore};
