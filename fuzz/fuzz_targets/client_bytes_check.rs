//! The check behind the `h2_front` and `client_hello` fuzz targets and their replay tests:
//! arbitrary bytes from one client connection to a whole [`Worker`], in pieces, the way the
//! entry point sees them (first-byte sniffing, the TLS ClientHello peek and handshake, the
//! HTTP/2 front end, the HTTP/1.1 parser). Nothing may panic, every output must name a
//! connection the worker opened, and the connection table must stay bounded.

use std::sync::Arc;

use trafficcop_core::config::dynamic::load_dynamic;
use trafficcop_core::config::static_config::load_static;
use trafficcop_core::config::Format;
use trafficcop_core::proxy::{compile_with, CompiledConfig, Input, Output, Timestamp, Worker};

/// A throwaway self-signed certificate for fuzz.example (the fuzzed handshakes never verify it).
const CERT: &str = "-----BEGIN CERTIFICATE-----
MIIBnjCCAUSgAwIBAgIUbVipdP0cY8rWS3RDhIuBbjt9HT8wCgYIKoZIzj0EAwIw
FzEVMBMGA1UEAwwMZnV6ei5leGFtcGxlMCAXDTI2MTEyNTIzMDg0OFoYDzIxMjYx
MTAxMjMwODQ4WjAXMRUwEwYDVQQDDAxmdXp6LmV4YW1wbGUwWTATBgcqhkjOPQIB
BggqhkjOPQMBBwNCAASL3hUWl+eItOQCyAc/2udcCnGnY8LCd5sCOBtkuCLmGlO1
4Rm/fBrJOIxLOV4eXFLJsMlu2+2vCEM2ET3nYzMro2wwajAdBgNVHQ4EFgQU6emC
e/aNZtgqMfm2nUkad5tk1JkwHwYDVR0jBBgwFoAU6emCe/aNZtgqMfm2nUkad5tk
1JkwDwYDVR0TAQH/BAUwAwEB/zAXBgNVHREEEDAOggxmdXp6LmV4YW1wbGUwCgYI
KoZIzj0EAwIDSAAwRQIgb9UFwDx1vFm5DcvKymblkSkZn++QCp82fmkFB2RGms8C
IQDe/p6YjXo8L/OyKnRO96ft9WIezcaIgLwdwsfR0NkjfQ==
-----END CERTIFICATE-----";
const KEY: &str = "-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgzMiQnTLkcK73c/6a
Pn3WvBheE1Tk1K8A9ODzYsD8WLuhRANCAASL3hUWl+eItOQCyAc/2udcCnGnY8LC
d5sCOBtkuCLmGlO14Rm/fBrJOIxLOV4eXFLJsMlu2+2vCEM2ET3nYzMr
-----END PRIVATE KEY-----";

fn config() -> Arc<CompiledConfig> {
    let st = load_static(
        "entryPoints: {web: {address: ':8000'}}\n",
        Format::Yaml,
        None,
    );
    let dy = load_dynamic(
        "http:\n  routers:\n    plain: {rule: \"PathPrefix(`/`)\", service: s}\n    secure: {rule: \"Host(`fuzz.example`)\", service: s, tls: {}}\n  services:\n    s: {loadBalancer: {servers: [{url: \"http://backend:9000\"}]}}\n",
        Format::Yaml,
        None,
    );
    let cert = trafficcop_core::tls::certified_key(CERT.as_bytes(), KEY.as_bytes())
        .expect("fuzz certificate");
    compile_with(&st.config, &dy.config, 1, Some(Arc::new(cert)))
}

/// How the bytes reach the worker.
#[derive(Debug, Clone, Copy)]
#[allow(dead_code)] // each fuzz target uses one of them
pub enum Front {
    /// As they are.
    Raw,
    /// After the HTTP/2 connection preface (the h2 front end).
    H2,
    /// As a TLS stream: a first byte of 0x16 is forced (the ClientHello peek).
    Tls,
}

/// Feeds `data` as one client connection; the first byte picks the piece size.
pub fn check(data: &[u8], front: Front) {
    thread_local! {
        static CONFIG: Arc<CompiledConfig> = config();
    }
    let cfg = CONFIG.with(Arc::clone);
    let mut w = Worker::new(cfg, "fuzz");
    let conn = w.accept(Timestamp(0), 0, "10.0.0.1:1000".parse().unwrap());
    let mut bytes = Vec::with_capacity(data.len() + 32);
    match front {
        Front::Raw => {}
        Front::H2 if !data.starts_with(trafficcop_core::h2::PREFACE) => {
            bytes.extend_from_slice(trafficcop_core::h2::PREFACE)
        }
        Front::H2 => {}
        Front::Tls if data.first() != Some(&0x16) => bytes.push(0x16),
        Front::Tls => {}
    }
    bytes.extend_from_slice(data);
    let piece = usize::from(data.first().copied().unwrap_or(1) % 64) + 1;
    let mut opened = vec![conn];
    let mut now = 1;
    for chunk in bytes.chunks(piece) {
        now += 1;
        w.handle_input(
            Timestamp(now),
            Input::Received {
                conn,
                data: bytes::Bytes::copy_from_slice(chunk),
            },
        );
        while let Some(o) = w.poll_output() {
            match o {
                Output::Connect { conn: up, .. } => {
                    opened.push(up);
                    // Backends refuse: every request gets an answer without a backend.
                    w.handle_input(
                        Timestamp(now),
                        Input::ConnectFailed {
                            conn: up,
                            error: trafficcop_core::proxy::ConnectError::Failed("refused".into()),
                        },
                    );
                }
                Output::SendTo { .. } | Output::ConnectUdp { .. } => {
                    panic!("UDP output without UDP entry points: {o:?}")
                }
                Output::Send { conn: c, .. }
                | Output::Close { conn: c }
                | Output::PauseRead { conn: c }
                | Output::ShutdownWrite { conn: c }
                | Output::ResumeRead { conn: c } => {
                    assert!(
                        opened.contains(&c),
                        "output for a connection never opened: {c:?}"
                    );
                    if c == conn {
                        w.handle_input(Timestamp(now), Input::Writable { conn });
                    }
                }
            }
        }
        let (down, up) = w.connection_counts();
        assert!(
            down <= 1 + 300 && up <= 300,
            "connection table grew: {down} {up}"
        );
    }
    w.handle_input(Timestamp(now + 1), Input::Eof { conn });
    while w.poll_output().is_some() {}
    w.handle_timeout(Timestamp(u64::MAX / 2));
    while w.poll_output().is_some() {}
}
