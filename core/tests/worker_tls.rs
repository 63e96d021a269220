//! The worker terminating TLS, driven by an in-memory rustls client: certificate choice by SNI,
//! router TLS semantics, options per host, domain fronting (421), sniStrict, client
//! certificates, broken options and entry point redirections.

use std::io::{Read, Write};
use std::sync::Arc;

use bytes::Bytes;
use rustls::pki_types::ServerName;
use rustls::ClientConnection;
use trafficcop_core::config::dynamic::load_dynamic;
use trafficcop_core::config::static_config::load_static;
use trafficcop_core::config::{Format, Severity};
use trafficcop_core::proxy::{
    compile_with, CompiledConfig, ConnId, Input, Output, Timestamp, Worker,
};
use trafficcop_core::tls::names::certificate_names;

#[path = "support/test_pki.rs"]
mod test_pki;
use test_pki::{client_config, Pki};

fn yaml_block(pem: &str, indent: usize) -> String {
    let pad = " ".repeat(indent);
    let mut s = String::from("|\n");
    for line in pem.lines() {
        s.push_str(&pad);
        s.push_str(line);
        s.push('\n');
    }
    s
}

fn default_cert() -> Arc<rustls::sign::CertifiedKey> {
    let key = rcgen::KeyPair::generate().unwrap();
    let mut params =
        rcgen::CertificateParams::new(vec!["generated.traefik.default".to_string()]).unwrap();
    params.distinguished_name = rcgen::DistinguishedName::new();
    let c = params.self_signed(&key).unwrap();
    Arc::new(
        trafficcop_core::tls::certified_key(c.pem().as_bytes(), key.serialize_pem().as_bytes())
            .unwrap(),
    )
}

fn compiled(static_yaml: &str, dynamic_yaml: &str) -> Arc<CompiledConfig> {
    let st = load_static(static_yaml, Format::Yaml, None);
    assert!(!st.is_fatal(), "{:?}", st.diagnostics);
    let dy = load_dynamic(dynamic_yaml, Format::Yaml, None);
    assert!(!dy.is_fatal(), "{:?}", dy.diagnostics);
    compile_with(&st.config, &dy.config, 1, Some(default_cert()))
}

/// A client configuration offering `http/1.1`, optionally with a client certificate.
fn http11_client(client_cert: Option<(String, String)>) -> Arc<rustls::ClientConfig> {
    let cert = client_cert.as_ref().map(|(c, k)| (c.as_str(), k.as_str()));
    client_config(
        &[&rustls::version::TLS13, &rustls::version::TLS12],
        &[b"http/1.1"],
        cert,
    )
}

/// A worker, one TLS client connection to it, and the upstream the request goes to.
struct Session {
    w: Worker,
    conn: ConnId,
    client: ClientConnection,
    closed: bool,
    upstream: Vec<Output>,
}

impl Session {
    fn open(
        cfg: Arc<CompiledConfig>,
        ep: &str,
        sni: &str,
        client_cert: Option<(String, String)>,
    ) -> Self {
        Self::open_with(cfg, ep, sni, http11_client(client_cert))
    }

    fn open_with(
        cfg: Arc<CompiledConfig>,
        ep: &str,
        sni: &str,
        client: Arc<rustls::ClientConfig>,
    ) -> Self {
        Self::open_at(cfg, ep, sni, client, None)
    }

    /// `sni` may be an IP address: then the client sends no SNI. `local` is the address the
    /// client connected to.
    fn open_at(
        cfg: Arc<CompiledConfig>,
        ep: &str,
        sni: &str,
        client: Arc<rustls::ClientConfig>,
        local: Option<std::net::SocketAddr>,
    ) -> Self {
        let mut w = Worker::new(Arc::clone(&cfg), "proxy-host");
        let ep = cfg.entry_point(ep).unwrap();
        let conn = w.accept_at(Timestamp(0), ep, "10.1.2.3:5555".parse().unwrap(), local);
        let name = ServerName::try_from(sni.to_string()).unwrap();
        let client = ClientConnection::new(client, name).unwrap();
        let mut s = Session {
            w,
            conn,
            client,
            closed: false,
            upstream: Vec::new(),
        };
        s.pump();
        s
    }

    /// Moves bytes both ways until nothing moves.
    fn pump(&mut self) {
        for _ in 0..50 {
            let mut moved = false;
            let mut buf = Vec::new();
            while self.client.wants_write() {
                self.client.write_tls(&mut buf).unwrap();
            }
            if !buf.is_empty() && !self.closed {
                moved = true;
                self.w.handle_input(
                    Timestamp(1),
                    Input::Received {
                        conn: self.conn,
                        data: Bytes::from(buf),
                    },
                );
            }
            while let Some(o) = self.w.poll_output() {
                match o {
                    Output::Send { conn, data } if conn == self.conn => {
                        moved = true;
                        let mut rd = &data[..];
                        while !rd.is_empty() {
                            if self.client.read_tls(&mut rd).is_err() {
                                break;
                            }
                            if self.client.process_new_packets().is_err() {
                                break;
                            }
                        }
                    }
                    Output::Close { conn } if conn == self.conn => self.closed = true,
                    other => self.upstream.push(other),
                }
            }
            if !moved {
                break;
            }
        }
    }

    fn request(&mut self, raw: &str) -> String {
        // A refused handshake makes the write fail; the assertions look at what came back.
        let _ = self.client.writer().write_all(raw.as_bytes());
        self.pump();
        let mut out = Vec::new();
        let _ = self.client.reader().read_to_end(&mut out);
        String::from_utf8_lossy(&out).into_owned()
    }

    fn peer_names(&self) -> Vec<String> {
        let chain = self.client.peer_certificates().expect("a certificate");
        certificate_names(&chain[0]).unwrap()
    }

    fn upstream_request(&self) -> String {
        self.upstream
            .iter()
            .filter_map(|o| match o {
                Output::Send { data, .. } => Some(String::from_utf8_lossy(data).into_owned()),
                _ => None,
            })
            .collect()
    }

    fn connected_upstream(&mut self) {
        let up = self.upstream.iter().find_map(|o| match o {
            Output::Connect { conn, .. } => Some(*conn),
            _ => None,
        });
        let up = up.expect("an upstream connect");
        self.w
            .handle_input(Timestamp(2), Input::Connected { conn: up });
        self.pump();
    }
}

const STATIC: &str = "entryPoints: {websecure: {address: ':8443'}}\n";

fn dynamic(pki: &Pki, extra: &str) -> String {
    let (a_cert, a_key) = pki.leaf_pem(&["a.example"]);
    let (w_cert, w_key) = pki.leaf_pem(&["*.wild.example"]);
    format!(
        r#"
http:
  routers:
    a:
      rule: "Host(`a.example`)"
      service: app
      tls: {{}}
    plain:
      rule: "Host(`plain.example`)"
      service: app
{extra}
  services:
    app:
      loadBalancer:
        servers: [{{url: "http://backend:9000"}}]
tls:
  certificates:
    - certFile: {}
      keyFile: {}
    - certFile: {}
      keyFile: {}
"#,
        yaml_block(&a_cert, 8),
        yaml_block(&a_key, 8),
        yaml_block(&w_cert, 8),
        yaml_block(&w_key, 8),
    )
}

#[test]
fn sni_picks_the_certificate_and_tls_routers_serve_tls_only() {
    let pki = Pki::new();
    let cfg = compiled(STATIC, &dynamic(&pki, ""));
    assert!(cfg.errors.is_empty(), "{:?}", cfg.errors);

    let mut s = Session::open(Arc::clone(&cfg), "websecure", "a.example", None);
    assert_eq!(s.peer_names(), ["a.example"]);
    assert_eq!(
        s.client.alpn_protocol(),
        Some(&b"http/1.1"[..]),
        "h2 is not offered yet"
    );
    s.request("GET /x HTTP/1.1\r\nHost: a.example\r\n\r\n");
    s.connected_upstream();
    let up = s.upstream_request();
    assert!(
        up.starts_with("GET /x HTTP/1.1\r\nHost: a.example\r\n"),
        "{up}"
    );
    assert!(up.contains("X-Forwarded-Proto: https\r\n"), "{up}");
    assert!(up.contains("X-Forwarded-Port: 443\r\n"), "{up}");

    // A plain router is not served over TLS: 404.
    let resp = s.request("GET / HTTP/1.1\r\nHost: plain.example\r\n\r\n");
    assert!(resp.is_empty(), "the first request is still in flight");

    let mut s = Session::open(Arc::clone(&cfg), "websecure", "b.wild.example", None);
    assert_eq!(s.peer_names(), ["*.wild.example"]);
    let resp = s.request("GET / HTTP/1.1\r\nHost: plain.example\r\n\r\n");
    assert!(resp.starts_with("HTTP/1.1 404 Not Found\r\n"), "{resp}");
    assert!(resp.ends_with("404 page not found\n"), "{resp}");

    // No matching name: the default certificate.
    let s = Session::open(Arc::clone(&cfg), "websecure", "other.example", None);
    assert_eq!(s.peer_names(), ["generated.traefik.default"]);
}

#[test]
fn plain_connections_do_not_reach_tls_routers() {
    let pki = Pki::new();
    let cfg = compiled(STATIC, &dynamic(&pki, ""));
    let mut w = Worker::new(Arc::clone(&cfg), "proxy-host");
    let c = w.accept(Timestamp(0), 0, "10.1.2.3:5555".parse().unwrap());
    w.handle_input(
        Timestamp(1),
        Input::Received {
            conn: c,
            data: Bytes::from_static(b"GET / HTTP/1.1\r\nHost: a.example\r\n\r\n"),
        },
    );
    let out: String = std::iter::from_fn(|| w.poll_output())
        .filter_map(|o| match o {
            Output::Send { data, .. } => Some(String::from_utf8_lossy(&data).into_owned()),
            _ => None,
        })
        .collect();
    assert!(out.starts_with("HTTP/1.1 404 Not Found\r\n"), "{out}");
}

#[test]
fn options_per_host_domain_fronting_and_sni_strict() {
    let pki = Pki::new();
    let extra = r#"    strict:
      rule: "Host(`s.wild.example`)"
      service: app
      tls: {options: strict}
"#;
    let mut dy = dynamic(&pki, extra);
    dy.push_str("  options:\n    strict:\n      sniStrict: true\n      minVersion: VersionTLS13\n");
    let cfg = compiled(STATIC, &dy);
    assert!(cfg.errors.is_empty(), "{:?}", cfg.errors);

    // SNI s.wild.example uses the `strict` options (TLS 1.3 only).
    let mut s = Session::open(Arc::clone(&cfg), "websecure", "s.wild.example", None);
    assert_eq!(
        s.client.protocol_version(),
        Some(rustls::ProtocolVersion::TLSv1_3)
    );
    // Host a.example belongs to a router with the default options: 421.
    let resp = s.request("GET / HTTP/1.1\r\nHost: a.example\r\n\r\n");
    assert!(
        resp.starts_with("HTTP/1.1 421 Misdirected Request\r\n"),
        "{resp}"
    );
    assert!(
        resp.contains("Content-Type: text/plain; charset=utf-8\r\n"),
        "{resp}"
    );
    assert!(resp.ends_with("\r\n\r\nMisdirected Request\n"), "{resp}");

    // The other way round: SNI a.example (default options), Host s.wild.example: 421 too.
    let mut s = Session::open(Arc::clone(&cfg), "websecure", "a.example", None);
    let resp = s.request("GET / HTTP/1.1\r\nHost: s.wild.example\r\n\r\n");
    assert!(resp.starts_with("HTTP/1.1 421 "), "{resp}");
}

#[test]
fn sni_strict_refuses_unknown_names() {
    let pki = Pki::new();
    let mut dy = dynamic(&pki, "");
    dy.push_str("  options:\n    default:\n      sniStrict: true\n");
    let cfg = compiled(STATIC, &dy);
    let s = Session::open(Arc::clone(&cfg), "websecure", "unknown.example", None);
    assert!(s.closed, "the handshake fails");
    assert!(s.client.peer_certificates().is_none());
    let s = Session::open(cfg, "websecure", "a.example", None);
    assert!(!s.closed);
    assert_eq!(s.peer_names(), ["a.example"]);
}

#[test]
fn client_certificates_are_verified() {
    let pki = Pki::new();
    let extra = r#"    mtls:
      rule: "Host(`m.wild.example`)"
      service: app
      tls: {options: mtls}
"#;
    let mut dy = dynamic(&pki, extra);
    dy.push_str(&format!(
        "  options:\n    mtls:\n      clientAuth:\n        caFiles:\n          - {}",
        yaml_block(&pki.ca_pem, 12)
    ));
    let cfg = compiled(STATIC, &dy);
    assert!(cfg.errors.is_empty(), "{:?}", cfg.errors);

    let mut good = Session::open(
        Arc::clone(&cfg),
        "websecure",
        "m.wild.example",
        Some(pki.leaf_pem(&["client"])),
    );
    good.request("GET / HTTP/1.1\r\nHost: m.wild.example\r\n\r\n");
    assert!(!good.closed);
    good.connected_upstream();
    assert!(good.upstream_request().starts_with("GET / HTTP/1.1\r\n"));

    let mut none = Session::open(Arc::clone(&cfg), "websecure", "m.wild.example", None);
    let resp = none.request("GET / HTTP/1.1\r\nHost: m.wild.example\r\n\r\n");
    assert!(none.closed && resp.is_empty(), "no certificate: refused");
    assert!(none.upstream.is_empty());

    let stranger = Pki::new();
    let mut bad = Session::open(
        cfg,
        "websecure",
        "m.wild.example",
        Some(stranger.leaf_pem(&["client"])),
    );
    let resp = bad.request("GET / HTTP/1.1\r\nHost: m.wild.example\r\n\r\n");
    assert!(bad.closed && resp.is_empty(), "unknown CA: refused");
    assert!(bad.upstream.is_empty());
}

#[test]
fn broken_options_disable_the_router_and_close_its_handshakes() {
    let pki = Pki::new();
    let extra = r#"    broken:
      rule: "Host(`x.wild.example`)"
      service: app
      tls: {options: broken}
    missing:
      rule: "Host(`y.wild.example`)"
      service: app
      tls: {options: nope}
"#;
    let mut dy = dynamic(&pki, extra);
    dy.push_str("  options:\n    broken:\n      cipherSuites: [TLS_NOT_A_SUITE]\n");
    let cfg = compiled(STATIC, &dy);
    let errs: Vec<String> = cfg
        .errors
        .iter()
        .filter(|e| e.severity == Severity::ObjectError)
        .map(|e| format!("{}: {}", e.path, e.message))
        .collect();
    assert!(
        errs.iter()
            .any(|e| e.contains("invalid CipherSuite: TLS_NOT_A_SUITE")),
        "{errs:?}"
    );
    assert!(
        errs.iter()
            .any(|e| e.starts_with("http.routers.missing: unknown TLS options: nope@file")),
        "{errs:?}"
    );
    let s = Session::open(Arc::clone(&cfg), "websecure", "x.wild.example", None);
    assert!(
        s.closed,
        "a handshake for a broken router's domain is closed"
    );
    let s = Session::open(cfg, "websecure", "a.example", None);
    assert!(!s.closed);
}

#[test]
fn entry_point_tls_and_redirections() {
    let st = "entryPoints:\n  web:\n    address: ':8000'\n    http:\n      redirections:\n        entryPoint: {to: websecure}\n  websecure:\n    address: ':8443'\n    http:\n      tls: {}\n";
    let dy = "http:\n  routers:\n    r:\n      rule: \"Host(`any.example`)\"\n      service: app\n  services:\n    app:\n      loadBalancer:\n        servers: [{url: \"http://backend:9000\"}]\n";
    let cfg = compiled(st, dy);
    assert!(cfg.errors.is_empty(), "{:?}", cfg.errors);

    // web: everything is redirected to https on websecure's port.
    let mut w = Worker::new(Arc::clone(&cfg), "proxy-host");
    let c = w.accept(
        Timestamp(0),
        cfg.entry_point("web").unwrap(),
        "10.1.2.3:5555".parse().unwrap(),
    );
    w.handle_input(
        Timestamp(1),
        Input::Received {
            conn: c,
            data: Bytes::from_static(b"GET /p?q=1 HTTP/1.1\r\nHost: any.example\r\n\r\n"),
        },
    );
    let out: String = std::iter::from_fn(|| w.poll_output())
        .filter_map(|o| match o {
            Output::Send { data, .. } => Some(String::from_utf8_lossy(&data).into_owned()),
            _ => None,
        })
        .collect();
    assert!(
        out.starts_with("HTTP/1.1 301 Moved Permanently\r\n"),
        "{out}"
    );
    assert!(
        out.contains("Location: https://any.example:8443/p?q=1\r\n"),
        "{out}"
    );

    // websecure: the router took the entry point's TLS, so it serves TLS.
    let mut s = Session::open(cfg, "websecure", "any.example", None);
    s.request("GET / HTTP/1.1\r\nHost: any.example\r\n\r\n");
    s.connected_upstream();
    assert!(s
        .upstream_request()
        .contains("X-Forwarded-Proto: https\r\n"));
}

#[test]
fn alpn_picks_h2_when_offered() {
    let pki = Pki::new();
    let cfg = compiled(STATIC, &dynamic(&pki, ""));
    let versions = [&rustls::version::TLS13, &rustls::version::TLS12];
    let client = client_config(&versions, &[b"h2", b"http/1.1"], None);
    let s = Session::open_with(cfg, "websecure", "a.example", client);
    assert_eq!(s.client.alpn_protocol(), Some(&b"h2"[..]));
}

/// A worker whose only router sends `/` to `https://backend.example:9443` through
/// `transport`, and an in-memory TLS backend presenting `backend_cert`; returns the client's
/// response and the SNI the backend saw.
fn through_https_backend(
    transport: &str,
    backend_cert: (String, String),
) -> (String, Option<String>) {
    through_https_backend_alpn(transport, backend_cert, false)
}

/// [`through_https_backend`] with a backend that offers `h2` by ALPN when `h2` (and then
/// speaks HTTP/2 when chosen).
fn through_https_backend_alpn(
    transport: &str,
    backend_cert: (String, String),
    h2: bool,
) -> (String, Option<String>) {
    let dy = format!(
        "http:\n  routers:\n    r: {{rule: \"PathPrefix(`/`)\", service: s}}\n  services:\n    s:\n      loadBalancer:\n        serversTransport: t\n        servers: [{{url: \"https://backend.example:9443\"}}]\n  serversTransports:\n    t:\n{transport}"
    );
    let cfg = compiled("entryPoints: {web: {address: ':8000'}}\n", &dy);
    assert!(cfg.errors.is_empty(), "{:?}", cfg.errors);
    use rustls::pki_types::pem::PemObject;
    let chain = rustls::pki_types::CertificateDer::pem_slice_iter(backend_cert.0.as_bytes())
        .map(|c| c.unwrap())
        .collect();
    let key = rustls::pki_types::PrivateKeyDer::from_pem_slice(backend_cert.1.as_bytes()).unwrap();
    let mut server_config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(chain, key)
    .unwrap();
    if h2 {
        server_config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    }
    let server_config = Arc::new(server_config);
    let mut origin = trafficcop_core::h2::H2Server::new(Default::default());
    let mut w = Worker::new(cfg, "proxy-host");
    let c = w.accept(Timestamp(0), 0, "10.1.2.3:5555".parse().unwrap());
    w.handle_input(
        Timestamp(1),
        Input::Received {
            conn: c,
            data: Bytes::from_static(b"GET /x HTTP/1.1\r\nHost: a\r\n\r\n"),
        },
    );
    let mut backend: Option<(ConnId, rustls::ServerConnection)> = None;
    let mut response = String::new();
    let mut answered = false;
    for _ in 0..50 {
        let mut outs: Vec<Output> = std::iter::from_fn(|| w.poll_output()).collect();
        // As an adapter does at the end of its turn: work the core made due now is done.
        if outs.is_empty() && w.handle_due(Timestamp(3)) {
            outs = std::iter::from_fn(|| w.poll_output()).collect();
        }
        if outs.is_empty() {
            break;
        }
        for o in outs {
            match o {
                Output::Connect { conn, host, port } => {
                    assert_eq!((host.as_str(), port), ("backend.example", 9443));
                    backend = Some((
                        conn,
                        rustls::ServerConnection::new(Arc::clone(&server_config)).unwrap(),
                    ));
                    w.handle_input(Timestamp(2), Input::Connected { conn });
                }
                Output::Send { conn, data } if conn == c => {
                    response.push_str(&String::from_utf8_lossy(&data))
                }
                Output::Send { conn, data } => {
                    let (_, srv) = backend.as_mut().unwrap();
                    let mut rd = &data[..];
                    while !rd.is_empty() && srv.read_tls(&mut rd).is_ok() {
                        if srv.process_new_packets().is_err() {
                            break;
                        }
                    }
                    let mut req = Vec::new();
                    let _ = srv.reader().read_to_end(&mut req);
                    if srv.alpn_protocol() == Some(b"h2") {
                        // The origin speaks HTTP/2 over the TLS session.
                        origin.receive(&req);
                        let mut events = Vec::new();
                        origin.poll(&mut events);
                        for e in events {
                            if let trafficcop_core::h2::H2Event::Request { stream, head, .. } = e {
                                assert_eq!(head.uri.path(), "/x");
                                let resp = http::Response::builder()
                                    .status(200)
                                    .header("content-length", "9")
                                    .header("x-proto", "h2")
                                    .body(())
                                    .unwrap();
                                origin.respond(stream, resp, false);
                                origin.send_data(stream, Bytes::from_static(b"over-tls!"), true);
                                origin.poll(&mut Vec::new());
                            }
                        }
                        srv.writer().write_all(&origin.take_output()).unwrap();
                    } else if !answered && req.windows(4).any(|w| w == b"\r\n\r\n") {
                        answered = true;
                        srv.writer()
                            .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nover-tls!")
                            .unwrap();
                    }
                    let mut out = Vec::new();
                    while srv.wants_write() {
                        srv.write_tls(&mut out).unwrap();
                    }
                    if !out.is_empty() {
                        w.handle_input(
                            Timestamp(3),
                            Input::Received {
                                conn,
                                data: Bytes::from(out),
                            },
                        );
                    }
                }
                _ => {}
            }
        }
    }
    let sni = backend.and_then(|(_, s)| s.server_name().map(str::to_string));
    (response, sni)
}

#[test]
fn peer_cert_uri_requires_the_uri_san_and_a_chain_to_the_roots() {
    let pki = Pki::new();
    let ca = yaml_block(&pki.ca_pem, 10);
    let uri = "spiffe://cluster.local/ns/default/sa/api";
    let with = |extra: &str| format!("      rootCAs:\n        - {ca}\n{extra}");
    let ok = |resp: &str| resp.starts_with("HTTP/1.1 200 OK\r\n") && resp.ends_with("over-tls!");
    // The URI SAN is there (ASCII case aside): served.
    let (resp, _) = through_https_backend(
        &with("      peerCertURI: SPIFFE://cluster.local/ns/default/sa/api\n"),
        pki.leaf_pem_uri(&["backend.example"], uri),
    );
    assert!(ok(&resp), "{resp}");
    // Another URI, or none: Traefik's 500.
    for cert in [
        pki.leaf_pem_uri(
            &["backend.example"],
            "spiffe://cluster.local/ns/default/sa/web",
        ),
        pki.leaf_pem(&["backend.example"]),
    ] {
        let (resp, _) = through_https_backend(&with(&format!("      peerCertURI: {uri}\n")), cert);
        assert!(resp.starts_with("HTTP/1.1 500 "), "{resp}");
    }
    // insecureSkipVerify skips the name, not the chain: another CA is still refused.
    let insecure = format!("      insecureSkipVerify: true\n      peerCertURI: {uri}\n");
    let (resp, _) = through_https_backend(
        &with(&insecure),
        pki.leaf_pem_uri(&["elsewhere.example"], uri),
    );
    assert!(ok(&resp), "{resp}");
    let (resp, _) = through_https_backend(
        &with(&insecure),
        Pki::new().leaf_pem_uri(&["backend.example"], uri),
    );
    assert!(resp.starts_with("HTTP/1.1 500 "), "{resp}");
}

#[test]
fn a_backend_that_never_finishes_the_tls_handshake_is_504_after_10s() {
    for transport in [
        "      insecureSkipVerify: true\n",
        "      insecureSkipVerify: true\n      disableHTTP2: true\n",
    ] {
        let dy = format!(
            "http:\n  routers:\n    r: {{rule: \"PathPrefix(`/`)\", service: s}}\n  services:\n    s:\n      loadBalancer:\n        serversTransport: t\n        servers: [{{url: \"https://backend.example:9443\"}}]\n  serversTransports:\n    t:\n{transport}"
        );
        let cfg = compiled("entryPoints: {web: {address: ':8000'}}\n", &dy);
        let mut w = Worker::new(cfg, "proxy-host");
        let c = w.accept(Timestamp(0), 0, "10.1.2.3:5555".parse().unwrap());
        w.handle_input(
            Timestamp(1),
            Input::Received {
                conn: c,
                data: Bytes::from_static(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n"),
            },
        );
        let up = std::iter::from_fn(|| w.poll_output())
            .find_map(|o| match o {
                Output::Connect { conn, .. } => Some(conn),
                _ => None,
            })
            .unwrap();
        w.handle_input(Timestamp(2), Input::Connected { conn: up });
        while w.poll_output().is_some() {}
        // The backend accepted the connection and says nothing.
        w.handle_timeout(Timestamp(9_000_000_000));
        assert!(std::iter::from_fn(|| w.poll_output()).next().is_none());
        w.handle_timeout(Timestamp(10_000_000_003));
        let out: Vec<Output> = std::iter::from_fn(|| w.poll_output()).collect();
        let resp: String = out
            .iter()
            .filter_map(|o| match o {
                Output::Send { conn, data } if *conn == c => {
                    Some(String::from_utf8_lossy(data).into_owned())
                }
                _ => None,
            })
            .collect();
        assert!(
            resp.starts_with("HTTP/1.1 504 Gateway Timeout\r\n"),
            "{transport}: {resp}"
        );
        assert!(out
            .iter()
            .any(|o| matches!(o, Output::Close { conn } if *conn == up)));
    }
}

#[test]
fn https_backends_that_choose_h2_by_alpn_get_http2() {
    let pki = Pki::new();
    let ca = yaml_block(&pki.ca_pem, 10);
    let transport = format!("      rootCAs:\n        - {ca}");
    let (resp, _) =
        through_https_backend_alpn(&transport, pki.leaf_pem(&["backend.example"]), true);
    assert!(
        resp.starts_with("HTTP/1.1 200 OK\r\n") && resp.ends_with("over-tls!"),
        "{resp}"
    );
    assert!(resp.contains("X-Proto: h2\r\n"), "{resp}");
    // disableHTTP2: the backend is not offered h2, HTTP/1.1 it is.
    let (resp, _) = through_https_backend_alpn(
        &format!("{transport}\n      disableHTTP2: true"),
        pki.leaf_pem(&["backend.example"]),
        true,
    );
    assert!(
        resp.starts_with("HTTP/1.1 200 OK\r\n") && !resp.contains("X-Proto"),
        "{resp}"
    );
}

#[test]
fn https_backends_verified_pinned_skipped_and_refused() {
    let pki = Pki::new();
    let ca = yaml_block(&pki.ca_pem, 10);
    // Verified against rootCAs, SNI = the URL's host.
    let (resp, sni) = through_https_backend(
        &format!("      rootCAs:\n        - {ca}"),
        pki.leaf_pem(&["backend.example"]),
    );
    assert!(
        resp.starts_with("HTTP/1.1 200 OK\r\n") && resp.ends_with("over-tls!"),
        "{resp}"
    );
    assert_eq!(sni.as_deref(), Some("backend.example"));
    // serverName replaces the host for SNI and verification.
    let (resp, sni) = through_https_backend(
        &format!("      serverName: inner.example\n      rootCAs:\n        - {ca}"),
        pki.leaf_pem(&["inner.example"]),
    );
    assert!(resp.starts_with("HTTP/1.1 200 OK\r\n"), "{resp}");
    assert_eq!(sni.as_deref(), Some("inner.example"));
    // A certificate from another CA: Traefik's 500.
    let other = Pki::new();
    let (resp, _) = through_https_backend(
        &format!("      rootCAs:\n        - {ca}"),
        other.leaf_pem(&["backend.example"]),
    );
    assert!(
        resp.starts_with("HTTP/1.1 500 Internal Server Error\r\n"),
        "{resp}"
    );
    assert!(resp.ends_with("\r\n\r\nInternal Server Error"), "{resp}");
    // The wrong name: 500 as well; insecureSkipVerify accepts it.
    let (resp, _) = through_https_backend(
        &format!("      rootCAs:\n        - {ca}"),
        pki.leaf_pem(&["elsewhere.example"]),
    );
    assert!(resp.starts_with("HTTP/1.1 500 "), "{resp}");
    let (resp, _) = through_https_backend(
        "      insecureSkipVerify: true\n",
        other.leaf_pem(&["elsewhere.example"]),
    );
    assert!(resp.starts_with("HTTP/1.1 200 OK\r\n"), "{resp}");
}

#[test]
fn without_sni_the_certificate_for_the_local_ip_is_served() {
    let pki = Pki::new();
    let (ip_cert, ip_key) = pki.leaf_pem(&["127.0.0.1", "ip.example"]);
    let mut dy = dynamic(&pki, "");
    dy.push_str(&format!(
        "    - certFile: {}\n      keyFile: {}\n",
        yaml_block(&ip_cert, 8),
        yaml_block(&ip_key, 8)
    ));
    dy.push_str("  options:\n    default:\n      sniStrict: true\n");
    let cfg = compiled(STATIC, &dy);
    assert!(cfg.errors.is_empty(), "{:?}", cfg.errors);
    // Adapters look the local address up only where a certificate names an IP.
    let ep = cfg.entry_point("websecure").unwrap();
    assert!(Worker::new(Arc::clone(&cfg), "p").wants_local_address(ep));
    let without = compiled(STATIC, &dynamic(&pki, ""));
    assert!(!Worker::new(without, "p").wants_local_address(ep));
    // An IP as the server name: rustls sends no SNI.
    let local = Some("127.0.0.1:8443".parse().unwrap());
    let s = Session::open_at(
        Arc::clone(&cfg),
        "websecure",
        "127.0.0.1",
        http11_client(None),
        local,
    );
    assert!(!s.closed, "served despite sniStrict");
    assert!(s.peer_names().contains(&"ip.example".to_string()));
    // Without the local address (or for another IP) sniStrict refuses the handshake.
    let s = Session::open(cfg, "websecure", "127.0.0.1", None);
    assert!(s.closed);
}

#[test]
fn conflicting_tls_options_fall_back_to_default_with_warnings() {
    let pki = Pki::new();
    let extra = r#"    one:
      rule: "Host(`c.wild.example`) && Path(`/1`)"
      service: app
      tls: {options: strict}
    two:
      rule: "Host(`c.wild.example`) && Path(`/2`)"
      service: app
      tls: {}
    nohost:
      rule: "Path(`/x`)"
      service: app
      tls: {options: strict}
"#;
    let mut dy = dynamic(&pki, extra);
    dy.push_str("  options:\n    strict:\n      minVersion: VersionTLS13\n");
    let cfg = compiled(STATIC, &dy);
    let warnings: Vec<String> = cfg
        .errors
        .iter()
        .filter(|e| e.severity == Severity::Warning)
        .map(|e| format!("{}: {}", e.path, e.message))
        .collect();
    assert!(
        warnings
            .iter()
            .any(|w| w
                .starts_with("http.routers.one: router's TLSOptions configuration is conflicting")),
        "{warnings:?}"
    );
    assert!(
        warnings
            .iter()
            .any(|w| w.starts_with("http.routers.nohost: no domain found in rule")),
        "{warnings:?}"
    );
    // The conflicting host's handshakes use the default options: both routers answer.
    let mut s = Session::open(cfg, "websecure", "c.wild.example", None);
    assert_eq!(
        s.client.protocol_version(),
        Some(rustls::ProtocolVersion::TLSv1_3)
    );
    s.request("GET /1 HTTP/1.1\r\nHost: c.wild.example\r\n\r\n");
    assert!(
        s.upstream
            .iter()
            .any(|o| matches!(o, Output::Connect { .. })),
        "routed, not 421"
    );
}

/// The system's roots are read only when a transport verifies `https://` backends with them:
/// not for plain backends, nor with `rootCAs` or `insecureSkipVerify`, but once per such
/// transport otherwise.
#[test]
fn system_roots_are_read_only_for_a_transport_that_uses_them() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    type Roots = Arc<Vec<rustls::pki_types::CertificateDer<'static>>>;
    static READS: AtomicUsize = AtomicUsize::new(0);
    static SYSTEM: std::sync::OnceLock<Roots> = std::sync::OnceLock::new();
    fn roots() -> Roots {
        READS.fetch_add(1, Ordering::SeqCst);
        SYSTEM.get().cloned().unwrap_or_default()
    }
    let (ca, _) = Pki::new().leaf_pem(&["backend.example"]);
    {
        use rustls::pki_types::pem::PemObject;
        let der = rustls::pki_types::CertificateDer::pem_slice_iter(ca.as_bytes())
            .collect::<Result<Vec<_>, _>>()
            .unwrap();
        SYSTEM.set(Arc::new(der)).unwrap();
    }
    let ca = ca.replace('\n', "\\n");
    let reads = |dy: &str| {
        let st = load_static(
            "entryPoints: {web: {address: ':8000'}}\n",
            Format::Yaml,
            None,
        );
        let dy = load_dynamic(dy, Format::Yaml, None);
        assert!(!dy.is_fatal(), "{:?}", dy.diagnostics);
        let inputs = trafficcop_core::proxy::CompileInputs {
            system_roots: roots,
            ..Default::default()
        };
        let before = READS.load(Ordering::SeqCst);
        let cfg = trafficcop_core::proxy::compile_serving(&st.config, &dy.config, 1, &inputs);
        assert!(
            cfg.services.iter().any(|s| s.name == "s@file"),
            "the service compiled: {:?}",
            cfg.errors
        );
        READS.load(Ordering::SeqCst) - before
    };
    let service = |url: &str, transport: &str| {
        format!(
            "http:\n  routers:\n    r: {{rule: \"PathPrefix(`/`)\", service: s}}\n  services:\n    s:\n      loadBalancer:\n        serversTransport: t\n        servers: [{{url: \"{url}\"}}]\n  serversTransports:\n    t:\n{transport}"
        )
    };
    assert_eq!(
        reads(&service("http://backend:80", "      disableHTTP2: true\n")),
        0
    );
    assert_eq!(
        reads(&service(
            "https://backend.example",
            "      insecureSkipVerify: true\n"
        )),
        0
    );
    assert_eq!(
        reads(&service(
            "https://backend.example",
            &format!("      rootCAs: [\"{ca}\"]\n")
        )),
        0
    );
    assert_eq!(
        reads(&service(
            "https://backend.example",
            "      disableHTTP2: true\n"
        )),
        1
    );
}
