//! TCP routers end to end, TrafficCop and real Traefik 3.7.15 on one configuration: one entry
//! point with HTTPS routers, a catch-all TCP router without TLS, TLS passthrough by server
//! name (exact and wildcard) and by ALPN, TLS termination, a refused client address, a
//! PROXY header to the server, TLS to the server, Postgres STARTTLS, a weighted service,
//! `inFlightConn`, a half-close with
//! `terminationDelay`, and the HTTPS 404 for other names. Every connection's outcome (what
//! came back and which certificate the client saw) must be the same.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::tls::{client_config, Pki};
use common::{free_port, start_with_dynamic, traefik_bin};

/// Answers each line `l` of a connection with `<tag>:l`; after the client's FIN, `<tag>:eof:`
/// and what was left, then closes.
fn serve_lines(tag: &str, mut rd: impl BufRead, mut wr: impl FnMut(&[u8])) {
    let mut line = Vec::new();
    loop {
        line.clear();
        match rd.read_until(b'\n', &mut line) {
            Ok(0) | Err(_) => break,
            Ok(_) if line.ends_with(b"\n") => {
                wr(format!("{tag}:{}", String::from_utf8_lossy(&line)).as_bytes())
            }
            Ok(_) => break,
        }
    }
    wr(format!("{tag}:eof:{}", String::from_utf8_lossy(&line)).as_bytes());
}

/// A plain TCP server answering lines (see [`serve_lines`]).
fn line_server(tag: &'static str) -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for s in l.incoming().flatten() {
            std::thread::spawn(move || {
                let mut w = s.try_clone().unwrap();
                serve_lines(tag, BufReader::new(s), |b| {
                    let _ = w.write_all(b);
                });
            });
        }
    });
    port
}

/// A TLS server (certificate for `names`) answering lines; with `postgres`, it first answers
/// a Postgres `SSLRequest` with `S`, as a Postgres server does.
fn tls_line_server(tag: &'static str, pki: &Pki, names: &[&str], postgres: bool) -> u16 {
    use rustls::pki_types::pem::PemObject;
    let (cert, key) = pki.leaf_pem(names);
    let chain = rustls::pki_types::CertificateDer::pem_slice_iter(cert.as_bytes())
        .map(|c| c.unwrap())
        .collect();
    let key = rustls::pki_types::PrivateKeyDer::from_pem_slice(key.as_bytes()).unwrap();
    let config = Arc::new(
        rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .unwrap(),
    );
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for s in l.incoming().flatten() {
            let config = Arc::clone(&config);
            std::thread::spawn(move || {
                let mut s = s;
                if postgres {
                    let mut request = [0u8; 8];
                    if s.read_exact(&mut request).is_err() || request != SSL_REQUEST {
                        return;
                    }
                    s.write_all(b"S").unwrap();
                }
                let conn = rustls::ServerConnection::new(config).unwrap();
                let tls = std::sync::Mutex::new(rustls::StreamOwned::new(conn, s));
                let mut line = Vec::new();
                loop {
                    let mut b = [0u8; 1];
                    let mut t = tls.lock().unwrap();
                    match t.read(&mut b) {
                        Ok(1) => {
                            line.push(b[0]);
                            if b[0] == b'\n' {
                                let answer = format!("{tag}:{}", String::from_utf8_lossy(&line));
                                let _ = t.write_all(answer.as_bytes());
                                line.clear();
                            }
                        }
                        _ => break,
                    }
                }
            });
        }
    });
    port
}

/// Postgres' `SSLRequest`.
const SSL_REQUEST: [u8; 8] = [0, 0, 0, 8, 4, 0xd2, 0x16, 0x2f];

/// Reads until the peer closes or 3 s pass; `Err` text when nothing came at all.
fn read_all(mut r: impl Read) -> String {
    let mut out = Vec::new();
    let _ = r.read_to_end(&mut out);
    String::from_utf8_lossy(&out).into_owned()
}

/// A plain connection: each of `lines` sent and its answer read, then `tail` sent with a
/// half-close and everything until the close read.
fn plain(port: u16, lines: &[&str], tail: Option<&str>) -> String {
    let s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
    let mut r = BufReader::new(s.try_clone().unwrap());
    let mut w = s;
    let mut out = String::new();
    for l in lines {
        w.write_all(format!("{l}\n").as_bytes()).unwrap();
        let mut answer = String::new();
        let _ = r.read_line(&mut answer);
        out.push_str(&answer);
    }
    if let Some(t) = tail {
        w.write_all(t.as_bytes()).unwrap();
        w.shutdown(Shutdown::Write).unwrap();
        out.push_str(&read_all(r));
    }
    out
}

/// A TLS connection with `sni` offering `alpn`: the certificate's names, then the answers to
/// `lines` (each read up to its newline); `closed` when the handshake fails.
fn tls(port: u16, sni: &str, alpn: &[&[u8]], lines: &[&str]) -> String {
    tls_after(port, sni, alpn, lines, false)
}

/// [`tls`], after a Postgres `SSLRequest` when `postgres` (its answer shown first).
fn tls_after(port: u16, sni: &str, alpn: &[&[u8]], lines: &[&str], postgres: bool) -> String {
    let config = client_config(
        &[&rustls::version::TLS13, &rustls::version::TLS12],
        alpn,
        None,
    );
    let name = rustls::pki_types::ServerName::try_from(sni.to_string()).unwrap();
    let conn = rustls::ClientConnection::new(config, name).unwrap();
    let mut sock = TcpStream::connect(("127.0.0.1", port)).unwrap();
    sock.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
    let mut out = String::new();
    if postgres {
        sock.write_all(&SSL_REQUEST).unwrap();
        let mut answer = [0u8; 1];
        if sock.read_exact(&mut answer).is_err() {
            return "closed".into();
        }
        out.push_str(&format!("{} ", answer[0] as char));
    }
    let mut t = rustls::StreamOwned::new(conn, sock);
    for l in lines {
        if t.write_all(format!("{l}\n").as_bytes()).is_err() {
            return out + "closed";
        }
        let mut answer = Vec::new();
        let mut b = [0u8; 1];
        while !answer.ends_with(b"\n") {
            match t.read(&mut b) {
                Ok(1) => answer.push(b[0]),
                _ => break,
            }
        }
        if !out.contains("cert=") {
            let names = t
                .conn
                .peer_certificates()
                .map(|c| trafficcop_core::tls::names::certificate_names(&c[0]).unwrap())
                .unwrap_or_default();
            if names.is_empty() {
                return out + "closed";
            }
            out.push_str(&format!("cert={} ", names[0]));
        }
        // An HTTP answer: its status line is enough.
        let answer = String::from_utf8_lossy(&answer).into_owned();
        out.push_str(answer.split("\r\n").next().unwrap_or(""));
        out.push('|');
    }
    out
}

/// The connections' outcomes on `bin`.
fn outcomes(bin: &std::path::Path, dir: &std::path::Path, backends: &Backends) -> Vec<String> {
    let port = free_port();
    let (cert, key) = (
        dir.join("store.crt").display().to_string(),
        dir.join("store.key").display().to_string(),
    );
    let b = backends;
    let dynamic = format!(
        r#"
http:
  routers:
    site:
      rule: "Host(`www.example`)"
      service: site
      tls: {{}}
  services:
    site:
      loadBalancer:
        servers: [{{url: "http://127.0.0.1:{http}"}}]
tcp:
  routers:
    any:
      rule: "HostSNI(`*`)"
      service: plain
    pass:
      rule: "HostSNI(`pass.example`) || HostSNI(`*.wild.example`)"
      service: tlsback
      tls: {{passthrough: true}}
    alpn:
      rule: "HostSNI(`alpn.example`) && ALPN(`x-proto`)"
      service: tlsback
      tls: {{passthrough: true}}
    term:
      rule: "HostSNI(`term.example`)"
      service: term
      tls: {{}}
    denied:
      rule: "HostSNI(`denied.example`)"
      service: term
      middlewares: [lan-only]
      tls: {{}}
    pp:
      rule: "HostSNI(`pp.example`)"
      service: pp
      tls: {{}}
    wrr:
      rule: "HostSNI(`wrr.example`)"
      service: wrr
      tls: {{}}
    pg:
      rule: "HostSNI(`pg.example`)"
      service: pg
      tls: {{passthrough: true}}
    tlsup:
      rule: "HostSNI(`tlsup.example`)"
      service: tlsup
      tls: {{}}
    limited:
      rule: "HostSNI(`limited.example`)"
      service: term
      middlewares: [one-each]
      tls: {{}}
  middlewares:
    lan-only:
      ipAllowList: {{sourceRange: ["10.0.0.0/8"]}}
    one-each:
      inFlightConn: {{amount: 1}}
  services:
    plain:
      loadBalancer:
        servers: [{{address: "127.0.0.1:{plain}"}}]
        serversTransport: slow-end
    tlsback:
      loadBalancer:
        servers: [{{address: "127.0.0.1:{tlsback}"}}]
    term:
      loadBalancer:
        servers: [{{address: "127.0.0.1:{term}"}}]
    pp:
      loadBalancer:
        servers: [{{address: "127.0.0.1:{pp}"}}]
        serversTransport: with-proxy
    pg:
      loadBalancer:
        servers: [{{address: "127.0.0.1:{pg}"}}]
    tlsup:
      loadBalancer:
        servers: [{{address: "127.0.0.1:{tlsback}", tls: true}}]
        serversTransport: skip-verify
    wrr:
      weighted:
        services: [{{name: w1, weight: 3}}, {{name: w2, weight: 1}}]
    w1:
      loadBalancer:
        servers: [{{address: "127.0.0.1:{w1}"}}]
    w2:
      loadBalancer:
        servers: [{{address: "127.0.0.1:{w2}"}}]
  serversTransports:
    slow-end:
      terminationDelay: 800ms
    with-proxy:
      proxyProtocol: {{version: 1}}
    skip-verify:
      tls: {{insecureSkipVerify: true}}
tls:
  certificates:
    - certFile: "{cert}"
      keyFile: "{key}"
"#,
        http = b.http,
        plain = b.plain,
        tlsback = b.tlsback,
        term = b.term,
        pp = b.pp,
        w1 = b.w1,
        w2 = b.w2,
        pg = b.pg,
    );
    let _p = start_with_dynamic("tcp-routers", bin, port, &dynamic);
    // Routers are served once the configuration is applied.
    let start = Instant::now();
    loop {
        let got = tls(port, "term.example", &[], &["ready"]);
        if got == "cert=term.example E:ready\n|" {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "TCP routers not served: {got:?}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let mut out = vec![
        // No ClientHello: the catch-all without TLS (HTTP routers are not reached); the
        // half-closed side has terminationDelay to answer.
        plain(port, &["one", "two"], Some("tail")),
        plain(port, &["GET / HTTP/1.1"], None),
        tls(port, "pass.example", &[], &["three"]),
        tls(port, "a.wild.example", &[b"http/1.1"], &["four"]),
        tls(port, "alpn.example", &[b"x-proto"], &["five"]),
        // Without its ALPN protocol: HTTPS (no router for the name: the default certificate).
        tls(
            port,
            "alpn.example",
            &[b"http/1.1"],
            &["GET / HTTP/1.1\r\nHost: x\r\n\r"],
        ),
        tls(port, "term.example", &[], &["six", "seven"]),
        tls(port, "denied.example", &[], &["eight"]),
        // Terminated here, and TLS again to the server.
        tls(port, "tlsup.example", &[], &["ten"]),
        // Postgres STARTTLS: answered here, then passed through (the server asked in turn)
        // or terminated; a name without a TLS router is closed.
        tls_after(port, "pg.example", &[], &["eleven"], true),
        tls_after(port, "term.example", &[], &["twelve"], true),
        tls_after(port, "www.example", &[], &["thirteen"], true),
        tls(
            port,
            "www.example",
            &[b"http/1.1"],
            &["GET / HTTP/1.1\r\nHost: www.example\r\n\r"],
        ),
        tls(
            port,
            "other.example",
            &[b"http/1.1"],
            &["GET / HTTP/1.1\r\nHost: x\r\n\r"],
        ),
    ];
    // The PROXY header names the client's port: blanked.
    let pp = tls(port, "pp.example", &[], &["nine"]);
    let words: Vec<&str> = pp.split(' ').collect();
    out.push(match words.as_slice() {
        [cert, proxy, tcp4, src, dst, _, dport] => {
            let dport = if *dport == format!("{port}|") {
                "PORT"
            } else {
                dport
            };
            format!("{cert} {proxy} {tcp4} {src} {dst} SPORT {dport}")
        }
        _ => pp.clone(),
    });
    // Weighted 3:1 over eight connections (the children's order is shuffled: counted).
    let mut counts = std::collections::BTreeMap::new();
    for _ in 0..8 {
        *counts
            .entry(tls(port, "wrr.example", &[], &["w"]))
            .or_insert(0) += 1;
    }
    out.push(format!("{counts:?}"));
    // inFlightConn: a second connection from the address is refused while the first is open.
    let first = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let config = client_config(&[&rustls::version::TLS13], &[], None);
    let name = rustls::pki_types::ServerName::try_from("limited.example").unwrap();
    let mut held =
        rustls::StreamOwned::new(rustls::ClientConnection::new(config, name).unwrap(), first);
    held.sock
        .set_read_timeout(Some(Duration::from_secs(3)))
        .unwrap();
    held.write_all(b"held\n").unwrap();
    let mut b = [0u8; 64];
    let n = held.read(&mut b).unwrap_or(0);
    out.push(String::from_utf8_lossy(&b[..n]).into_owned());
    out.push(tls(port, "limited.example", &[], &["refused"]));
    drop(held);
    std::thread::sleep(Duration::from_millis(300));
    out.push(tls(port, "limited.example", &[], &["again"]));
    out
}

struct Backends {
    http: u16,
    plain: u16,
    tlsback: u16,
    term: u16,
    pp: u16,
    w1: u16,
    w2: u16,
    pg: u16,
}

#[test]
fn tcp_routers_route_and_relay_as_traefik() {
    let dir = std::env::temp_dir().join(format!("tc-tcp-routers-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let pki = Pki::new();
    pki.leaf_files(
        &dir,
        "store",
        &[
            "term.example",
            "pp.example",
            "wrr.example",
            "limited.example",
            "denied.example",
            "tlsup.example",
        ],
    );
    let backends = Backends {
        http: common::echo_backend(),
        plain: line_server("P"),
        tlsback: tls_line_server("T", &pki, &["backend.example"], false),
        pg: tls_line_server("G", &pki, &["pg.example"], true),
        term: line_server("E"),
        pp: line_server("R"),
        w1: line_server("W1"),
        w2: line_server("W2"),
    };
    let ours = outcomes(env!("CARGO_BIN_EXE_trafficcop").as_ref(), &dir, &backends);
    // The store's certificate names term.example first.
    let expected = [
        "P:one\nP:two\nP:eof:tail",
        "P:GET / HTTP/1.1\n",
        "cert=backend.example T:three\n|",
        "cert=backend.example T:four\n|",
        "cert=backend.example T:five\n|",
        "cert=traefik default cert HTTP/1.1 404 Not Found|",
        "cert=term.example E:six\n|E:seven\n|",
        "closed",
        "cert=term.example T:ten\n|",
        "S cert=pg.example G:eleven\n|",
        "S cert=term.example E:twelve\n|",
        "S closed",
        "cert=traefik default cert HTTP/1.1 200 OK|",
        "cert=traefik default cert HTTP/1.1 404 Not Found|",
        "cert=term.example R:PROXY TCP4 127.0.0.1 127.0.0.1 SPORT PORT",
        "{\"cert=term.example W1:w\\n|\": 6, \"cert=term.example W2:w\\n|\": 2}",
        "E:held\n",
        "closed",
        "cert=term.example E:again\n|",
    ];
    assert_eq!(ours, expected);
    let Some(traefik) = traefik_bin() else {
        eprintln!("skipped the comparison: no Traefik binary (scripts/fetch-traefik.sh)");
        return;
    };
    let theirs = outcomes(&traefik, &dir, &backends);
    assert_eq!(ours, theirs);
}
