//! The worker's UDP sessions, driven by hand: session per client address, round robin across
//! sessions, datagrams held until the backend socket is open, the idle timeout, backend
//! failures, empty datagrams, entry points without a router, reloads and draining.

use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use trafficcop_core::config::dynamic::load_dynamic;
use trafficcop_core::config::static_config::load_static;
use trafficcop_core::config::{Format, Severity};
use trafficcop_core::proxy::{compile, CompiledConfig, ConnId, Input, Output, Timestamp, Worker};

const STATIC: &str = "entryPoints:\n  dns: {address: ':5353/udp', udp: {timeout: 2s}}\n  other: {address: ':5354/udp'}\n";

const TWO_SERVERS: &str = r#"
udp:
  routers:
    dns:
      entryPoints: [dns]
      service: pair
  services:
    pair:
      loadBalancer:
        servers: [{address: "a.backend:53"}, {address: "b.backend:53"}]
"#;

fn config(dynamic: &str, generation: u64) -> Arc<CompiledConfig> {
    let st = load_static(STATIC, Format::Yaml, None);
    assert!(!st.is_fatal(), "{:?}", st.diagnostics);
    let dy = load_dynamic(dynamic, Format::Yaml, None);
    assert!(!dy.is_fatal(), "{:?}", dy.diagnostics);
    compile(&st.config, &dy.config, generation)
}

fn ms(n: u64) -> Timestamp {
    Timestamp(n * 1_000_000)
}

fn client(n: u16) -> SocketAddr {
    SocketAddr::from(([10, 0, 0, 1], 40_000 + n))
}

struct Harness {
    w: Worker,
}

impl Harness {
    fn new(dynamic: &str) -> Self {
        Harness {
            w: Worker::new(config(dynamic, 1), "proxy"),
        }
    }

    fn outputs(&mut self) -> Vec<Output> {
        std::iter::from_fn(|| self.w.poll_output()).collect()
    }

    fn datagram(&mut self, now: Timestamp, ep: usize, from: u16, data: &str) -> Vec<Output> {
        let input = Input::Datagram {
            ep,
            peer: client(from),
            data: Bytes::copy_from_slice(data.as_bytes()),
        };
        self.w.handle_input(now, input);
        self.outputs()
    }

    fn input(&mut self, now: Timestamp, input: Input) -> Vec<Output> {
        self.w.handle_input(now, input);
        self.outputs()
    }

    /// A new session's datagram: the server it dialled, after the socket opened and the
    /// datagram went out on it.
    fn open(&mut self, now: Timestamp, from: u16, data: &str) -> (ConnId, String) {
        let out = self.datagram(now, 0, from, data);
        let [Output::ConnectUdp { conn, host, port }] = out.as_slice() else {
            panic!("expected one ConnectUdp, got {out:?}");
        };
        assert_eq!(*port, 53);
        let (conn, host) = (*conn, host.clone());
        let out = self.input(now, Input::Connected { conn });
        assert_eq!(
            out,
            vec![Output::Send {
                conn,
                data: Bytes::copy_from_slice(data.as_bytes())
            }]
        );
        (conn, host)
    }
}

#[test]
fn sessions_take_the_servers_in_turn_and_stick() {
    let mut h = Harness::new(TWO_SERVERS);
    let (s1, first) = h.open(ms(0), 1, "q1");
    let (s2, second) = h.open(ms(1), 2, "q2");
    let (_, third) = h.open(ms(2), 3, "q3");
    assert_ne!(first, second);
    assert_eq!(first, third);
    // The same client stays on its session (no new socket), both ways.
    let out = h.datagram(ms(3), 0, 1, "again");
    assert_eq!(
        out,
        vec![Output::Send {
            conn: s1,
            data: Bytes::from_static(b"again")
        }]
    );
    let reply = Bytes::from_static(b"answer");
    let out = h.input(
        ms(4),
        Input::Received {
            conn: s2,
            data: reply.clone(),
        },
    );
    assert_eq!(
        out,
        vec![Output::SendTo {
            ep: 0,
            peer: client(2),
            data: reply
        }]
    );
    assert_eq!(h.w.connection_counts(), (0, 3));
}

#[test]
fn datagrams_wait_for_the_socket_and_are_bounded() {
    let mut h = Harness::new(TWO_SERVERS);
    let out = h.datagram(ms(0), 0, 1, "d0");
    let Output::ConnectUdp { conn, .. } = out[0] else {
        panic!("{out:?}")
    };
    for i in 1..100 {
        assert!(h.datagram(ms(0), 0, 1, &format!("d{i}")).is_empty());
    }
    let out = h.input(ms(1), Input::Connected { conn });
    // The first 64 kept, in order; the rest dropped as a full socket buffer would.
    assert_eq!(out.len(), 64);
    for (i, o) in out.iter().enumerate() {
        assert_eq!(
            *o,
            Output::Send {
                conn,
                data: Bytes::from(format!("d{i}"))
            }
        );
    }
}

#[test]
fn an_idle_session_ends_after_the_entry_point_timeout() {
    let mut h = Harness::new(TWO_SERVERS);
    let (s1, first) = h.open(ms(0), 1, "q");
    // A reply is activity too: the deadline moves to 2 s after it.
    h.input(
        ms(1500),
        Input::Received {
            conn: s1,
            data: Bytes::from_static(b"r"),
        },
    );
    h.w.handle_timeout(ms(3499));
    assert!(h.outputs().is_empty());
    assert_eq!(h.w.poll_timeout(), Some(ms(3500)));
    h.w.handle_timeout(ms(3500));
    assert_eq!(h.outputs(), vec![Output::Close { conn: s1 }]);
    assert_eq!(h.w.connection_counts(), (0, 0));
    assert_eq!(h.w.poll_timeout(), None);
    // The client's next datagram opens a new session, on the next server.
    let (_, next) = h.open(ms(4000), 1, "q");
    assert_ne!(first, next);
}

#[test]
fn a_failed_backend_socket_ends_the_session() {
    let mut h = Harness::new(TWO_SERVERS);
    let (s1, first) = h.open(ms(0), 1, "q");
    // ICMP port unreachable: the socket reports an error.
    assert_eq!(
        h.input(ms(1), Input::Reset { conn: s1 }),
        vec![Output::Close { conn: s1 }]
    );
    let (_, next) = h.open(ms(2), 1, "q");
    assert_ne!(first, next);
    // A socket that cannot be opened (name not resolved): the session ends, datagram lost.
    let out = h.datagram(ms(3), 0, 2, "x");
    let Output::ConnectUdp { conn, .. } = out[0] else {
        panic!("{out:?}")
    };
    let failed = Input::ConnectFailed {
        conn,
        error: trafficcop_core::proxy::ConnectError::Failed("no such host".into()),
    };
    assert!(h.input(ms(3), failed).is_empty());
    assert!(!h.w.is_open(conn));
    assert_eq!(h.w.connection_counts(), (0, 1));
}

#[test]
fn an_empty_datagram_opens_a_session_but_is_not_forwarded() {
    let mut h = Harness::new(TWO_SERVERS);
    let out = h.datagram(ms(0), 0, 1, "");
    let Output::ConnectUdp { conn, ref host, .. } = out[0] else {
        panic!("{out:?}")
    };
    let empty_server = host.clone();
    assert!(h.input(ms(0), Input::Connected { conn }).is_empty());
    // It took its turn in the round robin.
    let (_, next) = h.open(ms(1), 2, "x");
    assert_ne!(empty_server, next);
    // An empty reply is not forwarded either.
    let none = Input::Received {
        conn,
        data: Bytes::new(),
    };
    assert!(h.input(ms(2), none).is_empty());
}

#[test]
fn entry_points_without_a_router_drop_datagrams() {
    let mut h = Harness::new(TWO_SERVERS);
    assert!(h.datagram(ms(0), 1, 1, "x").is_empty());
    assert_eq!(h.w.connection_counts(), (0, 0));
    let mut h = Harness::new("udp:\n  routers:\n    r: {service: none}\n  services:\n    none: {loadBalancer: {servers: []}}\n");
    assert!(h.datagram(ms(0), 0, 1, "x").is_empty());
    assert!(h.datagram(ms(0), 1, 1, "x").is_empty());
}

#[test]
fn weighted_services_share_sessions_by_weight() {
    let dynamic = r#"
udp:
  routers:
    dns: {entryPoints: [dns], service: split}
  services:
    split:
      weighted:
        services: [{name: big, weight: 3}, {name: small, weight: 1}]
    big: {loadBalancer: {servers: [{address: "big:53"}]}}
    small: {loadBalancer: {servers: [{address: "small:53"}]}}
"#;
    let mut h = Harness::new(dynamic);
    let mut big = 0;
    for i in 0..40 {
        let (_, host) = h.open(ms(0), i, "x");
        big += usize::from(host == "big");
    }
    assert_eq!(big, 30);
}

#[test]
fn service_errors_are_reported() {
    let dynamic = r#"
udp:
  routers:
    a: {service: both}
    b: {entryPoints: [other], service: untyped}
  services:
    both:
      loadBalancer: {servers: [{address: "x:1"}]}
      weighted: {services: [{name: untyped}]}
    untyped: {}
"#;
    let cfg = config(dynamic, 1);
    let errors: Vec<(String, String)> = cfg
        .errors
        .iter()
        .filter(|e| e.severity == Severity::ObjectError)
        .map(|e| (e.path.clone(), e.message.clone()))
        .collect();
    assert!(
        errors
            .iter()
            .any(|(p, m)| p == "udp.services.both" && m.contains("multi-types")),
        "{errors:?}"
    );
    assert!(
        errors
            .iter()
            .any(|(p, m)| p == "udp.services.untyped" && m.contains("does not have any type")),
        "{errors:?}"
    );
    assert!(cfg.udp_entry_points.iter().all(|e| e.handler.is_none()));
}

#[test]
fn a_reload_without_a_router_keeps_the_entry_point_on_its_previous_one() {
    let mut h = Harness::new(TWO_SERVERS);
    let (s1, _) = h.open(ms(0), 1, "q");
    let elsewhere = "udp:\n  routers:\n    o: {entryPoints: [other], service: s}\n  services:\n    s: {loadBalancer: {servers: [{address: 'o.backend:53'}]}}\n";
    h.input(ms(1), Input::Config(config(elsewhere, 2)));
    // The session in progress continues, and new clients are still served (Traefik only
    // switches entry points the new configuration routes).
    assert_eq!(h.datagram(ms(2), 0, 1, "q").len(), 1);
    let (_, host) = h.open(ms(3), 2, "q");
    assert!(host.ends_with(".backend"));
    // A configuration that routes it elsewhere takes over for new sessions only.
    let moved = "udp:\n  routers:\n    r: {service: s}\n  services:\n    s: {loadBalancer: {servers: [{address: 'c.backend:53'}]}}\n";
    h.input(ms(4), Input::Config(config(moved, 3)));
    let (_, host) = h.open(ms(5), 3, "q");
    assert_eq!(host, "c.backend");
    let out = h.datagram(ms(6), 0, 1, "still");
    assert_eq!(
        out,
        vec![Output::Send {
            conn: s1,
            data: Bytes::from_static(b"still")
        }]
    );
}

#[test]
fn draining_refuses_new_clients_and_lets_sessions_time_out() {
    let mut h = Harness::new(TWO_SERVERS);
    let (s1, _) = h.open(ms(0), 1, "q");
    h.input(ms(1), Input::Shutdown);
    assert!(h.datagram(ms(2), 0, 2, "new").is_empty());
    assert_eq!(h.datagram(ms(3), 0, 1, "old").len(), 1);
    h.w.handle_timeout(ms(2003));
    assert_eq!(h.outputs(), vec![Output::Close { conn: s1 }]);
    assert_eq!(h.w.connection_counts(), (0, 0));
}
