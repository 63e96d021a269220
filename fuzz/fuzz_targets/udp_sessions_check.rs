//! The worker's UDP side driven by an arbitrary script: datagrams from up to 16 client
//! addresses on two UDP entry points (one routed, one not), backend sockets opening, failing,
//! answering and erroring, time passing, reloads (to a configuration without the router, and
//! back) and draining. Checked: every output names an open session or a known entry point, no
//! session id is reused, a client never has two sessions on one entry point, and once time has
//! passed every timeout nothing is left open.

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::sync::Arc;

use trafficcop_core::config::dynamic::load_dynamic;
use trafficcop_core::config::static_config::load_static;
use trafficcop_core::config::Format;
use trafficcop_core::proxy::{
    compile, CompiledConfig, ConnId, ConnectError, Input, Output, Timestamp, Worker,
};

const STATIC: &str = "entryPoints:\n  a: {address: ':53/udp', udp: {timeout: 1s}}\n  b: {address: ':54/udp', udp: {timeout: 2s}}\n  web: {address: ':80'}\n";

fn config(dynamic: &str, generation: u64) -> Arc<CompiledConfig> {
    let st = load_static(STATIC, Format::Yaml, None).config;
    let dy = load_dynamic(dynamic, Format::Yaml, None).config;
    compile(&st, &dy, generation)
}

fn configs() -> [Arc<CompiledConfig>; 2] {
    [
        config("udp:\n  routers:\n    r: {entryPoints: [a], service: s}\n  services:\n    s: {loadBalancer: {servers: [{address: 'x:1'}, {address: 'y:2'}]}}\n", 1),
        config("udp:\n  routers:\n    o: {entryPoints: [b], service: t}\n  services:\n    t: {weighted: {services: [{name: s, weight: 2}, {name: u, weight: 0}]}}\n    s: {loadBalancer: {servers: [{address: 'x:1'}]}}\n    u: {loadBalancer: {servers: []}}\n", 2),
    ]
}

#[derive(Default)]
struct Open {
    /// Session sockets: id -> (entry point, client, connected).
    sessions: BTreeMap<ConnId, (usize, SocketAddr, bool)>,
    seen: BTreeSet<ConnId>,
}

fn drain(w: &mut Worker, open: &mut Open, client: Option<(usize, SocketAddr)>) {
    while let Some(o) = w.poll_output() {
        match o {
            Output::ConnectUdp { conn, .. } => {
                assert!(open.seen.insert(conn), "session id reused: {conn:?}");
                let (ep, peer) = client.expect("ConnectUdp outside a datagram");
                assert!(
                    !open.sessions.values().any(|s| s.0 == ep && s.1 == peer),
                    "a second session for {peer} on entry point {ep}"
                );
                open.sessions.insert(conn, (ep, peer, false));
            }
            Output::Send { conn, .. } => {
                let s = open.sessions.get(&conn);
                assert!(
                    s.is_some_and(|s| s.2),
                    "datagram on {conn:?}, not an open session"
                );
            }
            Output::SendTo { ep, peer, .. } => {
                assert!(
                    open.sessions.values().any(|s| s.0 == ep && s.1 == peer),
                    "datagram to {peer} on {ep} without a session"
                );
            }
            Output::Close { conn } => {
                assert!(
                    open.sessions.remove(&conn).is_some(),
                    "close of {conn:?}, not a session"
                );
            }
            other => panic!("unexpected output {other:?}"),
        }
    }
}

/// Runs the script `data`.
pub fn check(data: &[u8]) {
    thread_local! {
        static CONFIGS: [Arc<CompiledConfig>; 2] = configs();
    }
    let configs = CONFIGS.with(|c| c.clone());
    let mut w = Worker::new(configs[0].clone(), "fuzz");
    let mut open = Open::default();
    let mut now: u64 = 1;
    let mut i = 0;
    while i < data.len() {
        let op = data[i];
        let arg = data.get(i + 1).copied().unwrap_or(0);
        i = (i + 2).min(data.len());
        let t = Timestamp(now);
        let pick = |b: u8| -> Option<ConnId> {
            let ids: Vec<ConnId> = open.sessions.keys().copied().collect();
            (!ids.is_empty()).then(|| ids[usize::from(b) % ids.len()])
        };
        match op % 10 {
            0..=2 => {
                let ep = usize::from(arg & 1);
                let peer = SocketAddr::from(([10, 0, 0, 1], 1000 + u16::from(arg >> 4)));
                let len = usize::from(op / 10).min(data.len() - i);
                let payload = bytes::Bytes::copy_from_slice(&data[i..i + len]);
                i += len;
                w.handle_input(
                    t,
                    Input::Datagram {
                        ep,
                        peer,
                        data: payload,
                    },
                );
                drain(&mut w, &mut open, Some((ep, peer)));
            }
            3 => {
                if let Some(conn) = pick(arg) {
                    if let Some(s) = open.sessions.get_mut(&conn) {
                        s.2 = true;
                    }
                    w.handle_input(t, Input::Connected { conn });
                }
            }
            4 => {
                if let Some(conn) = pick(arg).filter(|c| !open.sessions[c].2) {
                    open.sessions.remove(&conn);
                    let error = ConnectError::Failed("no such host".into());
                    w.handle_input(t, Input::ConnectFailed { conn, error });
                    assert!(!w.is_open(conn));
                }
            }
            5 => {
                if let Some(conn) = pick(arg).filter(|c| open.sessions[c].2) {
                    let len = usize::from(op / 10).min(data.len() - i);
                    let payload = bytes::Bytes::copy_from_slice(&data[i..i + len]);
                    i += len;
                    w.handle_input(
                        t,
                        Input::Received {
                            conn,
                            data: payload,
                        },
                    );
                }
            }
            6 => {
                if let Some(conn) = pick(arg).filter(|c| open.sessions[c].2) {
                    w.handle_input(t, Input::Reset { conn });
                }
            }
            7 => {
                now += u64::from(arg) * 20_000_000;
                w.handle_timeout(Timestamp(now));
            }
            8 => w.handle_input(t, Input::Config(configs[usize::from(arg & 1)].clone())),
            _ => {
                if arg == 0 {
                    w.handle_input(t, Input::Shutdown);
                }
            }
        }
        drain(&mut w, &mut open, None);
        assert!(w.connection_counts().1 <= 32, "more sessions than clients");
    }
    // Every session ends once its timeout has passed.
    for (conn, s) in open.sessions.clone() {
        if !s.2 {
            w.handle_input(Timestamp(now), Input::Connected { conn });
            if let Some(x) = open.sessions.get_mut(&conn) {
                x.2 = true;
            }
            drain(&mut w, &mut open, None);
        }
    }
    now += 10_000_000_000;
    w.handle_timeout(Timestamp(now));
    drain(&mut w, &mut open, None);
    assert!(
        open.sessions.is_empty(),
        "sessions left: {:?}",
        open.sessions
    );
    assert_eq!(w.connection_counts(), (0, 0));
    assert_eq!(w.poll_timeout(), None);
}
