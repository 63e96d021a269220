//! The check behind the `worker_ops` fuzz target and its replay test: a whole [`Worker`] driven
//! by an arbitrary script of operations over several connections at once — clients connecting,
//! sending bytes, closing or resetting; backends (HTTP/1.1 and `h2c://`) accepting or refusing,
//! answering arbitrary bytes, closing or resetting; writability; time passing (timeouts); on a
//! second entry point, TCP routers (a catch-all without TLS, TLS passthrough and termination,
//! a PROXY header and TLS to the server). The
//! script is the input: each operation is one byte (the kind and which connection) followed by
//! its data. Nothing may panic; every output names a connection the worker opened and has not
//! closed; the connection table stays bounded; once time runs far ahead and every peer is gone,
//! nothing is left open.

use std::sync::Arc;

use bytes::Bytes;
use trafficcop_core::config::dynamic::load_dynamic;
use trafficcop_core::config::static_config::load_static;
use trafficcop_core::config::Format;
use trafficcop_core::proxy::{
    compile, CompiledConfig, ConnId, ConnectError, Event, Input, Output, Timestamp, Worker,
};

fn config() -> Arc<CompiledConfig> {
    let st = load_static(
        "entryPoints: {web: {address: ':8000', transport: {respondingTimeouts: {readTimeout: 5s, idleTimeout: 10s}}}, tcp: {address: ':8001'}}\naccessLog: {fields: {headers: {defaultMode: keep}}}\n",
        Format::Yaml,
        None,
    );
    let dy = load_dynamic(
        concat!(
            "http:\n  routers:\n    h1: {rule: \"PathPrefix(`/`)\", service: h1}\n    h2: {rule: \"PathPrefix(`/g`)\", service: h2}\n",
            "    cb: {rule: \"PathPrefix(`/c`)\", service: h1, middlewares: [cb, auth]}\n",
            "  middlewares:\n",
            "    cb: {circuitBreaker: {expression: \"NetworkErrorRatio() > 0.3 || LatencyAtQuantileMS(50.0) > 100\", checkPeriod: 1ms, fallbackDuration: 2s, recoveryDuration: 2s}}\n",
            "    auth: {basicAuth: {users: [\"test:$apr1$H6uskkkW$IgXLP6ewTrSuBkTrqE8wj/\"]}}\n",
            "  services:\n    h1: {loadBalancer: {servers: [{url: \"http://one:9000\"}, {url: \"http://two:9000\"}]}}\n    h2: {loadBalancer: {servers: [{url: \"h2c://grpc:9001\"}]}}\n",
            "tcp:\n  routers:\n",
            "    any: {entryPoints: [tcp], rule: \"HostSNI(`*`)\", service: db}\n",
            "    pass: {entryPoints: [tcp], rule: \"HostSNI(`pass.example`)\", service: db, tls: {passthrough: true}}\n",
            "    term: {entryPoints: [tcp], rule: \"HostSNI(`term.example`)\", service: up, tls: {}}\n",
            "  services:\n",
            "    db: {loadBalancer: {servers: [{address: \"db:5432\"}], serversTransport: slow}}\n",
            "    up: {loadBalancer: {servers: [{address: \"up:443\", tls: true}], serversTransport: pp}}\n",
            "  serversTransports:\n    slow: {terminationDelay: 1s}\n    pp: {proxyProtocol: {version: 2}, tls: {insecureSkipVerify: true}}\n",
        ),
        Format::Yaml,
        None,
    );
    compile(&st.config, &dy.config, 1)
}

/// Connections the worker has opened or accepted and not closed.
#[derive(Default)]
struct Open {
    clients: Vec<ConnId>,
    backends: Vec<ConnId>,
    /// Backends whose connect is not answered yet.
    dialling: Vec<ConnId>,
}

impl Open {
    fn forget(&mut self, c: ConnId) {
        self.clients.retain(|x| *x != c);
        self.backends.retain(|x| *x != c);
        self.dialling.retain(|x| *x != c);
    }

    fn knows(&self, c: ConnId) -> bool {
        self.clients.contains(&c) || self.backends.contains(&c) || self.dialling.contains(&c)
    }
}

fn pick(list: &[ConnId], b: u8) -> Option<ConnId> {
    (!list.is_empty()).then(|| list[usize::from(b) % list.len()])
}

fn drain(w: &mut Worker, open: &mut Open) {
    while let Some(Event::Access(r)) = w.poll_event() {
        assert!(r.finished >= r.started, "answered before routed: {r:?}");
        assert!((100..=999).contains(&r.status), "status: {r:?}");
    }
    while let Some(o) = w.poll_output() {
        match o {
            Output::Connect { conn, .. } => {
                assert!(!open.knows(conn), "connection id reused: {conn:?}");
                open.dialling.push(conn);
            }
            Output::Close { conn } => {
                assert!(open.knows(conn), "close of an unknown connection: {conn:?}");
                open.forget(conn);
            }
            Output::SendTo { .. } | Output::ConnectUdp { .. } => {
                panic!("UDP output without UDP entry points: {o:?}")
            }
            Output::Send { conn, .. }
            | Output::PauseRead { conn }
            | Output::ShutdownWrite { conn }
            | Output::ResumeRead { conn } => {
                assert!(
                    open.clients.contains(&conn) || open.backends.contains(&conn),
                    "output for a connection not open: {conn:?}"
                );
            }
        }
    }
}

/// Runs the script `data`.
pub fn check(data: &[u8]) {
    thread_local! {
        static CONFIG: Arc<CompiledConfig> = config();
    }
    let mut w = Worker::new(CONFIG.with(Arc::clone), "fuzz");
    w.set_access_records(true);
    let mut open = Open::default();
    let mut now: u64 = 1;
    let mut i = 0;
    while i < data.len() {
        let op = data[i];
        let arg = data.get(i + 1).copied().unwrap_or(0);
        i = (i + 2).min(data.len());
        let t = Timestamp(now);
        match op % 12 {
            0 if open.clients.len() < 16 => {
                // Entry point 1 has TCP routers (plain, passthrough, terminating).
                let c = w.accept(t, usize::from(arg % 2), "10.0.0.1:1000".parse().unwrap());
                open.clients.push(c);
            }
            1 | 2 => {
                // Bytes from a client (op 1) or a backend (op 2): `arg` bytes follow.
                let len = usize::from(arg % 128);
                let end = (i + len).min(data.len());
                let bytes = Bytes::copy_from_slice(&data[i..end]);
                i = end;
                let target = if op % 12 == 1 {
                    pick(&open.clients, op / 12)
                } else {
                    pick(&open.backends, op / 12)
                };
                if let Some(conn) = target {
                    w.handle_input(t, Input::Received { conn, data: bytes });
                }
            }
            3 => {
                if let Some(conn) = pick(&open.clients, arg) {
                    w.handle_input(t, Input::Eof { conn });
                }
            }
            4 => {
                if let Some(conn) = pick(&open.clients, arg) {
                    w.handle_input(t, Input::Reset { conn });
                }
            }
            5 => {
                if let Some(conn) = pick(&open.dialling, arg) {
                    open.dialling.retain(|c| *c != conn);
                    open.backends.push(conn);
                    w.handle_input(t, Input::Connected { conn });
                }
            }
            6 => {
                if let Some(conn) = pick(&open.dialling, arg) {
                    open.dialling.retain(|c| *c != conn);
                    let error = if arg % 2 == 0 {
                        ConnectError::TimedOut
                    } else {
                        ConnectError::Failed("refused".into())
                    };
                    w.handle_input(t, Input::ConnectFailed { conn, error });
                }
            }
            7 => {
                if let Some(conn) = pick(&open.backends, arg) {
                    w.handle_input(t, Input::Eof { conn });
                }
            }
            8 => {
                if let Some(conn) = pick(&open.backends, arg) {
                    w.handle_input(t, Input::Reset { conn });
                }
            }
            9 => {
                let all: Vec<ConnId> = open.clients.iter().chain(&open.backends).copied().collect();
                if let Some(conn) = pick(&all, arg) {
                    w.handle_input(t, Input::Writable { conn });
                }
            }
            10 => {
                // Time passes: up to ~4 minutes, past every timeout of the configuration.
                now += u64::from(arg) * 1_000_000_000;
                w.handle_timeout(Timestamp(now));
            }
            _ => {
                now += u64::from(arg) * 1_000_000;
            }
        }
        drain(&mut w, &mut open);
        let (down, up) = w.connection_counts();
        assert!(
            down <= 16 + 4096 && up <= 4096,
            "connection table grew: {down} {up}"
        );
    }
    // Every peer goes away, then time runs far ahead: nothing may be left.
    for conn in open
        .clients
        .clone()
        .into_iter()
        .chain(open.backends.clone())
    {
        w.handle_input(Timestamp(now), Input::Reset { conn });
        drain(&mut w, &mut open);
    }
    for conn in open.dialling.clone() {
        w.handle_input(
            Timestamp(now),
            Input::ConnectFailed {
                conn,
                error: ConnectError::Failed("gone".into()),
            },
        );
        drain(&mut w, &mut open);
    }
    w.handle_timeout(Timestamp(u64::MAX / 2));
    drain(&mut w, &mut open);
    assert_eq!(
        w.connection_counts(),
        (0, 0),
        "connections left after every peer went away"
    );
}
