//! The TLS layer of one client connection, without IO: ciphertext in, plaintext out, and the
//! reverse. The ClientHello is read first (rustls `Acceptor`) so that the entry point can pick
//! the TLS options for its server name before the handshake goes on.

use std::io::{Read, Write};
use std::sync::Arc;

use rustls::server::{Acceptor, ServerConfig, ServerConnection};

/// The TLS options chosen for a server name: the configuration and its qualified name (the
/// name routers compare against, Traefik's domain-fronting check); `None` when the options are
/// broken and matching handshakes must be refused.
pub type ChosenOptions = Option<(Arc<ServerConfig>, Arc<str>)>;

/// What one batch of received ciphertext produced.
#[derive(Debug, Default)]
pub struct Received {
    /// Decrypted application bytes.
    pub plaintext: Vec<u8>,
    /// Bytes to send back (handshake messages, alerts).
    pub ciphertext: Vec<u8>,
    /// The peer sent `close_notify`: no more application data follows.
    pub peer_closed: bool,
    /// The connection failed (bad handshake, refused, corrupt records): send `ciphertext`
    /// (an alert, when there is one) and close.
    pub failed: bool,
}

enum State {
    Accepting(Acceptor),
    Serving(ServerConnection),
    Failed,
}

/// The TLS state of a client connection.
pub struct ServerTls {
    state: State,
    options: Option<Arc<str>>,
    server_name: Option<String>,
    /// The client's certificates, once asked for (shared by the connection's requests).
    peer_certificates: Option<Arc<[rustls::pki_types::CertificateDer<'static>]>>,
}

impl std::fmt::Debug for ServerTls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerTls")
            .field("options", &self.options)
            .field("server_name", &self.server_name)
            .finish_non_exhaustive()
    }
}

impl Default for ServerTls {
    fn default() -> Self {
        Self::new()
    }
}

impl ServerTls {
    /// A connection whose ClientHello has not arrived yet.
    pub fn new() -> Self {
        ServerTls {
            state: State::Accepting(Acceptor::default()),
            options: None,
            server_name: None,
            peer_certificates: None,
        }
    }

    /// The name of the TLS options the handshake used (`default`, `name@file`).
    pub fn options_name(&self) -> Option<&Arc<str>> {
        self.options.as_ref()
    }

    /// The server name the client sent (SNI), lower-cased.
    pub fn server_name(&self) -> Option<&str> {
        self.server_name.as_deref()
    }

    /// The protocol ALPN chose (`h2`, `http/1.1`), once the handshake finished.
    pub fn alpn(&self) -> Option<&[u8]> {
        match &self.state {
            State::Serving(c) => c.alpn_protocol(),
            _ => None,
        }
    }

    /// The certificates the client presented (leaf first), once the handshake finished;
    /// `None` without.
    pub fn peer_certificates(
        &mut self,
    ) -> Option<Arc<[rustls::pki_types::CertificateDer<'static>]>> {
        if self.peer_certificates.is_none() {
            let State::Serving(c) = &self.state else {
                return None;
            };
            self.peer_certificates = c.peer_certificates().map(Arc::from);
        }
        self.peer_certificates.clone()
    }

    /// The negotiated version as Traefik logs it (`1.2`, `1.3`) and the cipher suite by rustls'
    /// name (`TLS13_AES_128_GCM_SHA256`), once the handshake finished.
    pub fn negotiated(&self) -> Option<(&'static str, &'static str)> {
        let State::Serving(c) = &self.state else {
            return None;
        };
        let version = match c.protocol_version()? {
            rustls::ProtocolVersion::TLSv1_3 => "1.3",
            rustls::ProtocolVersion::TLSv1_2 => "1.2",
            _ => "unknown",
        };
        Some((version, c.negotiated_cipher_suite()?.suite().as_str()?))
    }

    /// Whether the handshake finished.
    pub fn is_established(&self) -> bool {
        matches!(&self.state, State::Serving(c) if !c.is_handshaking())
    }

    /// Feeds ciphertext; `choose` picks the options from the ClientHello's server name.
    pub fn receive(
        &mut self,
        mut data: &[u8],
        choose: impl FnOnce(Option<&str>) -> ChosenOptions,
        out: &mut Received,
    ) {
        let mut choose = Some(choose);
        while !data.is_empty() && !out.failed {
            match &mut self.state {
                State::Failed => return,
                State::Accepting(acceptor) => {
                    if acceptor.read_tls(&mut data).is_err() {
                        out.failed = true;
                        self.state = State::Failed;
                        return;
                    }
                    match acceptor.accept() {
                        Ok(None) => {}
                        Err((_, mut alert)) => {
                            let _ = alert.write_all(&mut out.ciphertext);
                            out.failed = true;
                            self.state = State::Failed;
                            return;
                        }
                        Ok(Some(accepted)) => {
                            let sni = accepted
                                .client_hello()
                                .server_name()
                                .map(|s| s.trim().to_ascii_lowercase());
                            let chosen = choose.take().and_then(|c| c(sni.as_deref()));
                            self.server_name = sni;
                            let Some((config, name)) = chosen else {
                                // Broken options: the connection is closed without an answer.
                                out.failed = true;
                                self.state = State::Failed;
                                return;
                            };
                            self.options = Some(name);
                            match accepted.into_connection(config) {
                                Ok(mut conn) => {
                                    // The worker bounds what it queues itself.
                                    conn.set_buffer_limit(None);
                                    self.state = State::Serving(conn);
                                    self.process(out);
                                }
                                Err((_, mut alert)) => {
                                    let _ = alert.write_all(&mut out.ciphertext);
                                    out.failed = true;
                                    self.state = State::Failed;
                                    return;
                                }
                            }
                        }
                    }
                }
                State::Serving(conn) => {
                    if conn.read_tls(&mut data).is_err() {
                        out.failed = true;
                        self.state = State::Failed;
                        return;
                    }
                    self.process(out);
                }
            }
        }
    }

    /// Processes buffered records: plaintext and replies into `out`.
    fn process(&mut self, out: &mut Received) {
        let State::Serving(conn) = &mut self.state else {
            return;
        };
        let result = conn.process_new_packets();
        let mut closed = false;
        if let Ok(io) = &result {
            closed = io.peer_has_closed();
            if io.plaintext_bytes_to_read() > 0 {
                let mut buf = vec![0u8; io.plaintext_bytes_to_read()];
                if conn.reader().read_exact(&mut buf).is_ok() {
                    out.plaintext.extend_from_slice(&buf);
                }
            }
        }
        while conn.wants_write() {
            if conn.write_tls(&mut out.ciphertext).is_err() {
                break;
            }
        }
        out.peer_closed |= closed;
        if result.is_err() {
            out.failed = true;
            self.state = State::Failed;
        }
    }

    /// Encrypts application bytes (buffered until the handshake completes).
    pub fn seal(&mut self, plaintext: &[u8], out: &mut Vec<u8>) {
        if let State::Serving(conn) = &mut self.state {
            let _ = conn.writer().write_all(plaintext);
            while conn.wants_write() {
                if conn.write_tls(out).is_err() {
                    break;
                }
            }
        }
    }

    /// The `close_notify` alert to send before closing.
    pub fn close_notify(&mut self, out: &mut Vec<u8>) {
        if let State::Serving(conn) = &mut self.state {
            conn.send_close_notify();
            while conn.wants_write() {
                if conn.write_tls(out).is_err() {
                    break;
                }
            }
        }
    }
}
