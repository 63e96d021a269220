//! TLS helpers for the black-box tests: the test CA and client configurations shared with the
//! core's tests, and requests over TLS to the binary.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use rustls::pki_types::ServerName;

#[path = "../../../core/tests/support/test_pki.rs"]
mod test_pki;
#[allow(unused_imports)] // not every test crate uses the CA
pub use test_pki::{client_config, Pki};

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
    let versions: &[&'static rustls::SupportedProtocolVersion] = if tls12 {
        &[&rustls::version::TLS12]
    } else {
        &[&rustls::version::TLS13, &rustls::version::TLS12]
    };
    let files = client.map(|(c, k)| {
        (
            std::fs::read_to_string(c).unwrap(),
            std::fs::read_to_string(k).unwrap(),
        )
    });
    let config = client_config(
        versions,
        &[b"http/1.1"],
        files.as_ref().map(|(c, k)| (c.as_str(), k.as_str())),
    );
    let conn =
        rustls::ClientConnection::new(config, ServerName::try_from(sni.to_string()).unwrap())
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
    let config = client_config(
        &[&rustls::version::TLS13, &rustls::version::TLS12],
        &[b"http/1.1"],
        None,
    );
    let conn =
        rustls::ClientConnection::new(config, ServerName::try_from(sni.to_string()).unwrap())
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
