//! The worker's TCP routers, driven by hand: a router without TLS taking a connection before
//! its first byte, bytes held until the server's connection is open, half-closes and
//! `terminationDelay`, backpressure both ways, dial failures and timeouts, `ipAllowList`, and
//! a ClientHello read whole (in pieces) before a passthrough router forwards it unchanged.

use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use trafficcop_core::config::dynamic::load_dynamic;
use trafficcop_core::config::static_config::load_static;
use trafficcop_core::config::Format;
use trafficcop_core::proxy::{compile, CompiledConfig, ConnId, Input, Output, Timestamp, Worker};

const STATIC: &str = "entryPoints:\n  tcp: {address: ':9000'}\n";

fn config(dynamic: &str) -> Arc<CompiledConfig> {
    let st = load_static(STATIC, Format::Yaml, None);
    assert!(!st.is_fatal(), "{:?}", st.diagnostics);
    let dy = load_dynamic(dynamic, Format::Yaml, None);
    assert!(!dy.is_fatal(), "{:?}", dy.diagnostics);
    let c = compile(&st.config, &dy.config, 1);
    assert!(c.errors.is_empty(), "{:?}", c.errors);
    c
}

fn ms(n: u64) -> Timestamp {
    Timestamp(n * 1_000_000)
}

const CATCH_ALL: &str = r#"
tcp:
  routers:
    db:
      rule: "HostSNI(`*`)"
      service: db
  services:
    db:
      loadBalancer:
        servers: [{address: "db.backend:5432"}]
        serversTransport: quick
  serversTransports:
    quick: {terminationDelay: 100ms, dialTimeout: 2s}
"#;

struct Harness {
    w: Worker,
}

impl Harness {
    fn new(dynamic: &str) -> Self {
        Harness {
            w: Worker::new(config(dynamic), "proxy"),
        }
    }

    fn outputs(&mut self) -> Vec<Output> {
        std::iter::from_fn(|| self.w.poll_output()).collect()
    }

    fn accept(&mut self, now: Timestamp, from: [u8; 4]) -> (ConnId, Vec<Output>) {
        let c = self.w.accept(now, 0, SocketAddr::from((from, 40_000)));
        (c, self.outputs())
    }

    fn input(&mut self, now: Timestamp, input: Input) -> Vec<Output> {
        self.w.handle_input(now, input);
        self.outputs()
    }

    fn recv(&mut self, now: Timestamp, conn: ConnId, data: &[u8]) -> Vec<Output> {
        let data = Bytes::copy_from_slice(data);
        self.input(now, Input::Received { conn, data })
    }

    fn timeout(&mut self, now: Timestamp) -> Vec<Output> {
        self.w.handle_timeout(now);
        self.outputs()
    }
}

/// The connection a single `Connect` opened, with its target.
fn dialled(out: &[Output]) -> (ConnId, String, u16) {
    let dials: Vec<_> = out
        .iter()
        .filter_map(|o| match o {
            Output::Connect { conn, host, port } => Some((*conn, host.clone(), *port)),
            _ => None,
        })
        .collect();
    assert_eq!(dials.len(), 1, "{out:?}");
    dials[0].clone()
}

fn sent(out: &[Output], to: ConnId) -> Vec<u8> {
    out.iter()
        .filter_map(|o| match o {
            Output::Send { conn, data } if *conn == to => Some(data.to_vec()),
            _ => None,
        })
        .flatten()
        .collect()
}

#[test]
fn a_catch_all_without_tls_dials_at_once_and_holds_bytes_until_connected() {
    let mut h = Harness::new(CATCH_ALL);
    let (client, out) = h.accept(ms(0), [10, 0, 0, 1]);
    // Server-first protocols: nothing is read before the server is dialled.
    let (server, host, port) = dialled(&out);
    assert_eq!((host.as_str(), port), ("db.backend", 5432));
    assert!(h.recv(ms(1), client, b"hello ").is_empty());
    assert!(h.recv(ms(2), client, b"world").is_empty());
    let out = h.input(ms(3), Input::Connected { conn: server });
    assert_eq!(sent(&out, server), b"hello world");
    let out = h.recv(ms(4), server, b"greeting");
    assert_eq!(sent(&out, client), b"greeting");
    // No deadline while both sides are open (no idle timeout for TCP routers): once the
    // dial's has passed unused, none is left.
    assert!(h.timeout(ms(2001)).is_empty());
    assert_eq!(h.w.poll_timeout(), None);
}

#[test]
fn a_half_close_is_passed_on_and_the_other_side_has_the_termination_delay() {
    let mut h = Harness::new(CATCH_ALL);
    let (client, out) = h.accept(ms(0), [10, 0, 0, 1]);
    let (server, ..) = dialled(&out);
    h.input(ms(1), Input::Connected { conn: server });
    // The client finishes: the server's side is half-closed, and has 100 ms to finish.
    let out = h.input(ms(10), Input::Eof { conn: client });
    assert_eq!(out, vec![Output::ShutdownWrite { conn: server }]);
    assert_eq!(h.w.poll_timeout(), Some(ms(110)));
    let out = h.recv(ms(50), server, b"last words");
    assert_eq!(sent(&out, client), b"last words");
    // The server finishes in time: the client's side is half-closed, and the pair closes.
    let out = h.input(ms(60), Input::Eof { conn: server });
    assert!(out.contains(&Output::Close { conn: client }), "{out:?}");
    assert!(out.contains(&Output::Close { conn: server }), "{out:?}");
    assert!(!h.w.is_open(client) && !h.w.is_open(server));

    // A server that does not finish is cut off at the delay.
    let (client, out) = h.accept(ms(100), [10, 0, 0, 1]);
    let (server, ..) = dialled(&out);
    h.input(ms(101), Input::Connected { conn: server });
    h.input(ms(110), Input::Eof { conn: client });
    assert!(h.timeout(ms(209)).is_empty());
    let out = h.timeout(ms(210));
    assert_eq!(out.len(), 2, "{out:?}");
    assert!(out.contains(&Output::Close { conn: client }), "{out:?}");
    assert!(out.contains(&Output::Close { conn: server }), "{out:?}");
}

#[test]
fn without_a_transport_the_deprecated_delay_is_zero_and_a_half_close_ends_the_pair() {
    let mut h = Harness::new(
        r#"
tcp:
  routers:
    db: {rule: "HostSNI(`*`)", service: db}
  services:
    db:
      loadBalancer:
        servers: [{address: "db.backend:5432"}]
"#,
    );
    let (client, out) = h.accept(ms(0), [10, 0, 0, 1]);
    let (server, ..) = dialled(&out);
    h.input(ms(1), Input::Connected { conn: server });
    // The client's last bytes and its end arrive together: both still reach the server.
    h.recv(ms(2), client, b"bye");
    let out = h.input(ms(2), Input::Eof { conn: client });
    assert_eq!(out, vec![Output::ShutdownWrite { conn: server }]);
    assert_eq!(h.w.poll_timeout(), Some(ms(2)));
    assert_eq!(h.timeout(ms(2)).len(), 2);
}

#[test]
fn a_client_that_finishes_before_the_dial_is_half_closed_after_its_bytes() {
    let mut h = Harness::new(CATCH_ALL);
    let (client, out) = h.accept(ms(0), [10, 0, 0, 1]);
    let (server, ..) = dialled(&out);
    h.recv(ms(1), client, b"query");
    assert!(h.input(ms(2), Input::Eof { conn: client }).is_empty());
    // Only the dial's deadline runs: the delay starts once the half-close is made.
    assert_eq!(h.w.poll_timeout(), Some(ms(2000)));
    let out = h.input(ms(3), Input::Connected { conn: server });
    assert_eq!(
        out,
        vec![
            Output::Send {
                conn: server,
                data: Bytes::from_static(b"query")
            },
            Output::ShutdownWrite { conn: server }
        ]
    );
    assert_eq!(h.w.poll_timeout(), Some(ms(103)));
}

#[test]
fn dial_failures_and_timeouts_close_the_client() {
    let mut h = Harness::new(CATCH_ALL);
    let (client, out) = h.accept(ms(0), [10, 0, 0, 1]);
    let (server, ..) = dialled(&out);
    let error = trafficcop_core::proxy::ConnectError::Failed("refused".into());
    let out = h.input(
        ms(5),
        Input::ConnectFailed {
            conn: server,
            error,
        },
    );
    assert!(out.contains(&Output::Close { conn: client }), "{out:?}");
    assert!(!h.w.is_open(client));

    let (client, out) = h.accept(ms(10), [10, 0, 0, 1]);
    let (server, ..) = dialled(&out);
    assert!(h.timeout(ms(2009)).is_empty());
    let out = h.timeout(ms(2010));
    assert!(out.contains(&Output::Close { conn: client }), "{out:?}");
    assert!(out.contains(&Output::Close { conn: server }), "{out:?}");
    assert_eq!(h.w.connection_counts(), (0, 0));
}

#[test]
fn bytes_queued_past_the_high_water_mark_pause_the_sending_side() {
    let mut h = Harness::new(CATCH_ALL);
    let (client, out) = h.accept(ms(0), [10, 0, 0, 1]);
    let (server, ..) = dialled(&out);
    h.input(ms(1), Input::Connected { conn: server });
    let chunk = vec![b'x'; 64 * 1024];
    let mut paused = false;
    for i in 0..8 {
        let out = h.recv(ms(2 + i), client, &chunk);
        paused |= out.contains(&Output::PauseRead { conn: client });
    }
    assert!(
        paused,
        "the client is paused while the server does not take its bytes"
    );
    let out = h.input(ms(20), Input::Writable { conn: server });
    assert_eq!(out, vec![Output::ResumeRead { conn: client }]);
    // The other way too.
    let mut paused = false;
    for i in 0..8 {
        let out = h.recv(ms(30 + i), server, &chunk);
        paused |= out.contains(&Output::PauseRead { conn: server });
    }
    assert!(paused);
    let out = h.input(ms(40), Input::Writable { conn: client });
    assert_eq!(out, vec![Output::ResumeRead { conn: server }]);
}

#[test]
fn an_allow_list_closes_other_clients_before_any_dial() {
    let mut h = Harness::new(
        r#"
tcp:
  routers:
    db: {rule: "HostSNI(`*`)", service: db, middlewares: [lan]}
  middlewares:
    lan: {ipAllowList: {sourceRange: ["10.0.0.0/8"]}}
  services:
    db:
      loadBalancer:
        servers: [{address: "db.backend:5432"}]
"#,
    );
    let (client, out) = h.accept(ms(0), [192, 0, 2, 1]);
    assert_eq!(out, vec![Output::Close { conn: client }]);
    let (_, out) = h.accept(ms(0), [10, 1, 2, 3]);
    dialled(&out);
}

#[path = "support/test_pki.rs"]
mod test_pki;

/// A ClientHello for `sni` as a client sends it.
fn client_hello(sni: &str) -> Vec<u8> {
    let config = test_pki::client_config(
        &[&rustls::version::TLS13, &rustls::version::TLS12],
        &[],
        None,
    );
    let name = rustls::pki_types::ServerName::try_from(sni.to_string()).unwrap();
    let mut c = rustls::ClientConnection::new(config, name).unwrap();
    let mut hello = Vec::new();
    c.write_tls(&mut hello).unwrap();
    hello
}

#[test]
fn a_client_hello_in_pieces_is_read_whole_then_passed_through_unchanged() {
    let mut h = Harness::new(
        r#"
tcp:
  routers:
    any: {rule: "HostSNI(`*`)", service: plain}
    pass:
      rule: "HostSNI(`db.example`)"
      service: tlsdb
      tls: {passthrough: true}
  services:
    plain:
      loadBalancer:
        servers: [{address: "plain.backend:1"}]
    tlsdb:
      loadBalancer:
        servers: [{address: "tls.backend:2"}]
"#,
    );
    // With a TLS router on the entry point, the first bytes decide.
    let (client, out) = h.accept(ms(0), [10, 0, 0, 1]);
    assert!(out.is_empty(), "{out:?}");
    let hello = client_hello("DB.example");
    let (a, b) = hello.split_at(hello.len() / 2);
    assert!(h.recv(ms(1), client, a).is_empty());
    let out = h.recv(ms(2), client, b);
    let (server, host, _) = dialled(&out);
    assert_eq!(host, "tls.backend");
    let out = h.input(ms(3), Input::Connected { conn: server });
    assert_eq!(sent(&out, server), hello);

    // Anything else than a ClientHello goes to the router without TLS.
    let (client, _) = h.accept(ms(10), [10, 0, 0, 1]);
    let out = h.recv(ms(11), client, b"PING\r\n");
    let (server, host, _) = dialled(&out);
    assert_eq!(host, "plain.backend");
    let out = h.input(ms(12), Input::Connected { conn: server });
    assert_eq!(sent(&out, server), b"PING\r\n");

    // A ClientHello for another name: no TLS router matches, so HTTPS takes it (and answers
    // the handshake itself); no server is dialled.
    let (client, _) = h.accept(ms(20), [10, 0, 0, 1]);
    let out = h.recv(ms(21), client, &client_hello("other.example"));
    assert!(
        !out.iter().any(|o| matches!(o, Output::Connect { .. })),
        "{out:?}"
    );
    assert!(
        !sent(&out, client).is_empty(),
        "the handshake's answer: {out:?}"
    );
}

#[test]
fn postgres_starttls_is_answered_here_and_asked_of_a_passthrough_server() {
    const SSL_REQUEST: [u8; 8] = [0, 0, 0, 8, 4, 0xd2, 0x16, 0x2f];
    let mut h = Harness::new(
        r#"
tcp:
  routers:
    pg:
      rule: "HostSNI(`pg.example`)"
      service: pg
      tls: {passthrough: true}
  services:
    pg:
      loadBalancer:
        servers: [{address: "pg.backend:5432"}]
"#,
    );
    let (client, _) = h.accept(ms(0), [10, 0, 0, 1]);
    // The request in two pieces: answered `S` once whole.
    assert!(h.recv(ms(1), client, &SSL_REQUEST[..3]).is_empty());
    let out = h.recv(ms(2), client, &SSL_REQUEST[3..]);
    assert_eq!(sent(&out, client), b"S");
    let hello = client_hello("pg.example");
    let out = h.recv(ms(3), client, &hello);
    let (server, host, _) = dialled(&out);
    assert_eq!(host, "pg.backend");
    // The server is asked in turn; the ClientHello waits for its `S`, which is dropped.
    let out = h.input(ms(4), Input::Connected { conn: server });
    assert_eq!(sent(&out, server), SSL_REQUEST);
    let out = h.recv(ms(5), server, b"S");
    assert_eq!(sent(&out, server), hello);
    assert!(sent(&out, client).is_empty());

    // A server that refuses (`N`) closes both.
    let (client, _) = h.accept(ms(10), [10, 0, 0, 1]);
    h.recv(ms(11), client, &SSL_REQUEST);
    let out = h.recv(ms(12), client, &hello);
    let (server, ..) = dialled(&out);
    h.input(ms(13), Input::Connected { conn: server });
    let out = h.recv(ms(14), server, b"N");
    assert!(out.contains(&Output::Close { conn: client }), "{out:?}");
    assert!(out.contains(&Output::Close { conn: server }), "{out:?}");

    // Something else than a ClientHello after the request: closed.
    let (client, _) = h.accept(ms(20), [10, 0, 0, 1]);
    h.recv(ms(21), client, &SSL_REQUEST);
    let out = h.recv(ms(22), client, b"\x00\x00\x00\x10plain");
    assert_eq!(out, vec![Output::Close { conn: client }]);
}

#[test]
fn broken_tcp_routers_are_left_out_with_traefiks_errors() {
    let st = load_static(STATIC, Format::Yaml, None);
    let dy = load_dynamic(
        r#"
tcp:
  routers:
    sni-without-tls: {rule: "HostSNI(`a.example`)", service: db}
    no-transport: {rule: "HostSNI(`*`)", service: lost}
    bad-proxy: {rule: "HostSNI(`b.example`)", service: odd, tls: {passthrough: true}}
    empty-range: {rule: "HostSNI(`c.example`)", service: db, middlewares: [none], tls: {}}
    ok: {rule: "HostSNI(`d.example`)", service: db, tls: {options: missing}}
  middlewares:
    none: {ipAllowList: {sourceRange: []}}
  services:
    db: {loadBalancer: {servers: [{address: "db:1"}]}}
    lost: {loadBalancer: {servers: [{address: "db:1"}], serversTransport: nowhere}}
    odd: {loadBalancer: {servers: [{address: "db:1"}], proxyProtocol: {version: 3}}}
"#,
        Format::Yaml,
        None,
    );
    assert!(!dy.is_fatal(), "{:?}", dy.diagnostics);
    let c = compile(&st.config, &dy.config, 1);
    let said = |path: &str, text: &str| {
        assert!(
            c.errors
                .iter()
                .any(|e| e.path == path && e.message.contains(text)),
            "{path}: {text:?} not in {:#?}",
            c.errors
        )
    };
    said(
        "tcp.routers.sni-without-tls",
        "has HostSNI matcher, but no TLS on router",
    );
    said(
        "tcp.routers.no-transport",
        "no transport configuration found for \"nowhere@file\"",
    );
    said("tcp.routers.bad-proxy", "unknown proxyProtocol version: 3");
    said(
        "tcp.routers.empty-range",
        "sourceRange is empty, IPAllowLister not created",
    );
    said("tcp.routers.ok", "unknown TLS options: missing@file");
    // The broken ones are not served; the one with broken options closes its handshakes.
    let routes = c.entry_points[0].tcp.as_ref().expect("TCP routes");
    let names: Vec<&str> = (routes.tls_handlers.iter())
        .chain(&routes.plain_handlers)
        .map(|h| h.name.as_str())
        .collect();
    assert_eq!(names, ["ok@file"]);
    assert!(routes.tls_handlers[0].service.is_none());
}
