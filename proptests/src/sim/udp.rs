//! The UDP side of the simulator: clients sending datagrams to UDP entry points, echo servers
//! behind them, and a network that loses, duplicates and reorders datagrams, around the same
//! core `Worker`. Faults: servers going down (their port answers ICMP unreachable) and coming
//! back, names that do not resolve, configuration reloads (another service, or no router,
//! which keeps the entry point on its previous one, as Traefik), and draining.
//!
//! Invariants, checked as the run goes and at its end:
//! - no fabrication, no cross-talk: every datagram a server receives on a session's socket is
//!   one the session's client sent, and every datagram a client receives is the echo of one it
//!   sent;
//! - sessions: a client's datagram goes out on its open session, or opens one (unless its entry
//!   point has no router, or the worker is draining), and is forwarded exactly once (an empty
//!   one not at all); a socket error ends the session in the same step;
//! - routing: a new session's server belongs to the service the reference model says its entry
//!   point serves, and each balancer takes its servers in one fixed cyclic order (equal weights:
//!   the first `n` picks are distinct, then they repeat with period `n`);
//! - timeouts: a session ends exactly `udp.timeout` after its last datagram in either
//!   direction, never later (checked after every step), never earlier (a `Close` not caused by
//!   a socket error must be due);
//! - no leak: at the end no session, socket or deadline is left.

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;

use bytes::Bytes;
use trafficcop_core::config::dynamic::load_dynamic;
use trafficcop_core::config::static_config::load_static;
use trafficcop_core::config::Format;
use trafficcop_core::proxy::{
    compile, CompiledConfig, ConnId, ConnectError, Input, Output, Timestamp, Worker,
};

use super::clock::{Clock, MS, SEC, US};
use super::queue::{next_step, EventQueue, Step};
use super::rng::Rng;
use super::trace::Trace;

/// Entry points: `ep0` (always routed at start) and `ep1` (sometimes without a router).
const ENTRY_POINTS: usize = 2;

/// One configuration: per entry point, the servers of its router's service (`None`: no
/// router).
#[derive(Debug, Clone)]
struct UdpConfigSpec {
    routes: [Option<Vec<usize>>; ENTRY_POINTS],
    compiled: Arc<CompiledConfig>,
}

/// A client: its address, entry point and datagrams (payload, gap before it).
#[derive(Debug, Clone)]
struct UdpClient {
    addr: SocketAddr,
    ep: usize,
    datagrams: Vec<(Bytes, u64)>,
}

/// What happens at a point in time.
#[derive(Debug)]
enum Ev {
    ClientSend(usize, usize),
    ToWorker(SocketAddr, usize, Bytes),
    ToServer(ConnId, Bytes),
    FromServer(ConnId, Bytes),
    ToClient(SocketAddr, Bytes),
    Opened(ConnId),
    Icmp(ConnId),
    ServerDown(usize),
    ServerUp(usize),
    Reload(usize),
    Shutdown,
}

/// The simulator's view of one session.
#[derive(Debug)]
struct SessionModel {
    client: usize,
    ep: usize,
    server: usize,
    connected: bool,
    open: bool,
    last_activity: Timestamp,
    timeout: u64,
    /// Datagrams the worker must still send on it (while connecting).
    owed: Vec<Bytes>,
}

/// The result of one UDP seed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UdpReport {
    /// The seed.
    pub seed: u64,
    /// Hash of every event.
    pub trace_hash: u64,
    /// Datagrams clients sent.
    pub sent: u64,
    /// Echoes clients received.
    pub echoed: u64,
    /// Sessions opened.
    pub sessions: u64,
    /// Sessions ended by their timeout.
    pub timed_out: u64,
    /// Sessions ended by a socket error (ICMP).
    pub reset: u64,
}

/// One UDP simulation run.
pub struct UdpSim {
    seed: u64,
    rng: Rng,
    clock: Clock,
    queue: EventQueue<Ev>,
    worker: Worker,
    trace: Trace,
    configs: Vec<UdpConfigSpec>,
    /// Per entry point: the servers new sessions go to and the balancer's id (the config that
    /// built it), as the reference model keeps them.
    serving: [Option<(Vec<usize>, usize)>; ENTRY_POINTS],
    timeouts: [u64; ENTRY_POINTS],
    clients: Vec<UdpClient>,
    servers_up: Vec<bool>,
    servers: usize,
    loss: u64,
    dup: u64,
    unresolvable: BTreeSet<usize>,
    draining: bool,
    sessions: BTreeMap<ConnId, SessionModel>,
    /// Open session per (entry point, client address).
    by_client: BTreeMap<(usize, SocketAddr), ConnId>,
    /// Payloads each client sent.
    sent: Vec<BTreeSet<Bytes>>,
    /// Picks per balancer (server indexes in order).
    picks: BTreeMap<(usize, usize), Vec<usize>>,
    /// The client datagram being fed (a `ConnectUdp` output takes it).
    pending_new: Option<(SocketAddr, usize, Bytes)>,
    /// The session whose socket error is being fed (its `Close` needs no due timeout).
    resetting: Option<ConnId>,
    report: UdpReport,
}

fn server_host(i: usize) -> String {
    format!("u{i}.sim")
}

fn build_config(
    timeouts: &[u64; ENTRY_POINTS],
    routes: &[Option<Vec<usize>>; ENTRY_POINTS],
    generation: u64,
) -> Arc<CompiledConfig> {
    let mut st = String::from("entryPoints:\n");
    for (i, t) in timeouts.iter().enumerate() {
        st.push_str(&format!(
            "  ep{i}: {{address: ':{}/udp', udp: {{timeout: {}ms}}}}\n",
            5300 + i,
            t / MS
        ));
    }
    let mut dy = String::from("udp:\n  routers:\n");
    let mut services = String::from("  services:\n");
    for (i, r) in routes.iter().enumerate() {
        let Some(servers) = r else { continue };
        dy.push_str(&format!(
            "    r{i}: {{entryPoints: [ep{i}], service: s{i}}}\n"
        ));
        let list: Vec<String> = servers
            .iter()
            .map(|s| format!("{{address: '{}:53'}}", server_host(*s)))
            .collect();
        services.push_str(&format!(
            "    s{i}: {{loadBalancer: {{servers: [{}]}}}}\n",
            list.join(", ")
        ));
    }
    if routes.iter().all(Option::is_none) {
        // A router on no UDP entry point keeps the document valid.
        dy = "udp:\n  services:\n    idle: {loadBalancer: {servers: [{address: 'u0.sim:53'}]}}\n"
            .into();
        services.clear();
    }
    dy.push_str(&services);
    let st = load_static(&st, Format::Yaml, None);
    assert!(!st.is_fatal(), "static: {:?}", st.diagnostics);
    let d = load_dynamic(&dy, Format::Yaml, None);
    assert!(!d.is_fatal(), "dynamic: {:?}\n{dy}", d.diagnostics);
    let c = compile(&st.config, &d.config, generation);
    assert!(c.errors.is_empty(), "compile: {:?}\n{dy}", c.errors);
    c
}

impl UdpSim {
    /// Builds the run for `seed`.
    pub fn new(seed: u64) -> Self {
        let mut rng = Rng::new(seed ^ 0x5544_5000);
        let servers = rng.range_usize(1, 4);
        let timeouts = [rng.range(100, 3000) * MS, rng.range(100, 3000) * MS];
        let subset = |rng: &mut Rng| -> Vec<usize> {
            let mut s: Vec<usize> = (0..servers).filter(|_| rng.chance(600)).collect();
            if s.is_empty() {
                s.push(rng.range_usize(0, servers - 1));
            }
            s
        };
        let mut configs = Vec::new();
        let first = [
            Some(subset(&mut rng)),
            rng.chance(500).then(|| subset(&mut rng)),
        ];
        configs.push(first);
        for _ in 0..rng.range_usize(0, 3) {
            let next = [
                rng.chance(700).then(|| subset(&mut rng)),
                rng.chance(500).then(|| subset(&mut rng)),
            ];
            configs.push(next);
        }
        let configs: Vec<UdpConfigSpec> = configs
            .into_iter()
            .enumerate()
            .map(|(g, routes)| UdpConfigSpec {
                compiled: build_config(&timeouts, &routes, g as u64 + 1),
                routes,
            })
            .collect();
        let clients: Vec<UdpClient> = (0..rng.range_usize(1, 12))
            .map(|i| {
                let ip = [10, 0, 0, rng.range(1, 4) as u8];
                let addr = SocketAddr::from((ip, 40_000 + i as u16));
                let ep = usize::from(rng.chance(250));
                let datagrams = (0..rng.range_usize(1, 29))
                    .map(|k| {
                        let mut payload = format!("c{i}-{k}-").into_bytes();
                        let pad = rng.range_usize(0, 600);
                        payload.extend(rng.bytes(pad));
                        let payload = if rng.chance(30) {
                            Bytes::new()
                        } else {
                            Bytes::from(payload)
                        };
                        // Gaps around the timeouts, so sessions end between datagrams.
                        let gap = match rng.below(4) {
                            0 => rng.range(0, 2 * MS),
                            1 => rng.range(0, 200 * MS),
                            2 => rng.range(0, 2 * SEC),
                            _ => rng.range(2 * SEC, 5 * SEC),
                        };
                        (payload, gap)
                    })
                    .collect();
                UdpClient {
                    addr,
                    ep,
                    datagrams,
                }
            })
            .collect();
        let worker = Worker::new(configs[0].compiled.clone(), "sim-proxy");
        let serving = [
            configs[0].routes[0].clone().map(|s| (s, 0)),
            configs[0].routes[1].clone().map(|s| (s, 0)),
        ];
        let unresolvable = (0..servers).filter(|_| rng.chance(80)).collect();
        UdpSim {
            seed,
            loss: rng.range(0, 100),
            dup: rng.range(0, 50),
            rng,
            clock: Clock::default(),
            queue: EventQueue::default(),
            worker,
            trace: Trace::default(),
            serving,
            timeouts,
            sent: vec![BTreeSet::new(); clients.len()],
            clients,
            servers_up: vec![true; servers],
            servers,
            unresolvable,
            draining: false,
            sessions: BTreeMap::new(),
            by_client: BTreeMap::new(),
            picks: BTreeMap::new(),
            pending_new: None,
            resetting: None,
            configs,
            report: UdpReport {
                seed,
                trace_hash: 0,
                sent: 0,
                echoed: 0,
                sessions: 0,
                timed_out: 0,
                reset: 0,
            },
        }
    }

    fn note(&mut self, text: String) {
        self.trace.record(self.clock.now(), text);
    }

    fn fail(&self, msg: &str) -> ! {
        panic!(
            "simulation invariant violated: udp: {msg}\nseed: {} (replay with TC_UDP_SEED={})\nat virtual time {:.6}s\nconfigs: {:?}\ntimeouts: {:?}\nlast events:\n{}",
            self.seed,
            self.seed,
            self.clock.now().0 as f64 / 1e9,
            self.configs.iter().map(|c| &c.routes).collect::<Vec<_>>(),
            self.timeouts,
            self.trace.tail()
        )
    }

    /// Latency of one datagram: 50 µs to 20 ms, so datagrams overtake each other.
    fn latency(&mut self) -> u64 {
        self.rng.range(50 * US, 20 * MS)
    }

    /// Schedules `ev` through the lossy network: dropped, delivered, or delivered twice.
    fn network(&mut self, make: impl Fn() -> Ev) {
        if self.rng.below(1000) < self.loss {
            self.note("network drops a datagram".into());
            return;
        }
        let copies = if self.rng.below(1000) < self.dup {
            2
        } else {
            1
        };
        for _ in 0..copies {
            let delay = self.latency();
            let at = self.clock.in_nanos(delay);
            self.queue.push(at, make());
        }
    }

    /// Runs to quiescence; panics on any violation.
    pub fn run(mut self) -> UdpReport {
        for (i, c) in self.clients.iter().enumerate() {
            let start = c.datagrams[0].1;
            self.queue.push(Timestamp(start), Ev::ClientSend(i, 0));
        }
        for g in 1..self.configs.len() {
            let at = self.rng.range(0, 8 * SEC);
            self.queue.push(Timestamp(at), Ev::Reload(g));
        }
        for s in 0..self.servers {
            if self.rng.chance(300) {
                let down = self.rng.range(0, 6 * SEC);
                self.queue.push(Timestamp(down), Ev::ServerDown(s));
                let up = down + self.rng.range(0, 4 * SEC);
                self.queue.push(Timestamp(up), Ev::ServerUp(s));
            }
        }
        if self.rng.chance(200) {
            let at = self.rng.range(0, 10 * SEC);
            self.queue.push(Timestamp(at), Ev::Shutdown);
        }
        loop {
            let step = next_step(self.queue.peek_time(), self.worker.poll_timeout());
            if let Step::Timeout(t) = step {
                let t = t.max(self.clock.now());
                self.clock.advance_to(t);
                self.note("timeout".into());
                self.call(|w, now| w.handle_timeout(now));
                if self
                    .worker
                    .poll_timeout()
                    .is_some_and(|d| d <= self.clock.now())
                {
                    self.fail("a deadline is still due right after handle_timeout");
                }
            } else if step == Step::Done {
                break;
            } else if let Some((t, ev)) = self.queue.pop() {
                self.clock.advance_to(t);
                self.dispatch(ev);
            }
            self.check_step();
            if self.clock.now().0 > 3600 * SEC {
                self.fail("the run never quiesces");
            }
        }
        if self.worker.connection_counts() != (0, 0) {
            self.fail(&format!(
                "sessions left at the end: {:?}",
                self.worker.connection_counts()
            ));
        }
        if let Some((id, _)) = self.sessions.iter().find(|(_, s)| s.open) {
            self.fail(&format!("session {id:?} never closed"));
        }
        self.report.trace_hash = self.trace.hash();
        self.report
    }

    /// One call into the worker, then every output carried out.
    fn call(&mut self, f: impl FnOnce(&mut Worker, Timestamp)) {
        let now = self.clock.now();
        let worker = &mut self.worker;
        if let Err(p) = catch_unwind(AssertUnwindSafe(|| f(worker, now))) {
            let msg = super::panic_text(&*p);
            self.fail(&format!("the core panicked: {msg}"));
        }
        while let Some(out) = self.worker.poll_output() {
            self.output(out);
        }
    }

    fn check_step(&mut self) {
        let now = self.clock.now();
        for (id, s) in &self.sessions {
            if s.open && s.last_activity.0 + s.timeout < now.0 {
                self.fail(&format!(
                    "session {id:?} outlived its timeout (last activity {:?})",
                    s.last_activity
                ));
            }
        }
    }

    fn dispatch(&mut self, ev: Ev) {
        match ev {
            Ev::ClientSend(c, k) => {
                let (payload, addr) =
                    (self.clients[c].datagrams[k].0.clone(), self.clients[c].addr);
                let ep = self.clients[c].ep;
                self.note(format!("client {c} sends #{k} ({}B)", payload.len()));
                self.sent[c].insert(payload.clone());
                self.report.sent += 1;
                self.network(|| Ev::ToWorker(addr, ep, payload.clone()));
                if let Some((_, gap)) = self.clients[c].datagrams.get(k + 1) {
                    let at = self.clock.in_nanos(*gap);
                    self.queue.push(at, Ev::ClientSend(c, k + 1));
                }
            }
            Ev::ToWorker(addr, ep, data) => self.datagram_arrives(addr, ep, data),
            Ev::ToServer(conn, data) => {
                let Some(s) = self.sessions.get(&conn) else {
                    return;
                };
                let server = s.server;
                if !self.servers_up[server] {
                    // The port is closed: ICMP unreachable back to the socket.
                    self.note(format!("server {server} unreachable for {conn:?}"));
                    let delay = self.latency();
                    let at = self.clock.in_nanos(delay);
                    self.queue.push(at, Ev::Icmp(conn));
                    return;
                }
                let mut echo = b"r:".to_vec();
                echo.extend_from_slice(&data);
                let echo = Bytes::from(echo);
                self.network(|| Ev::FromServer(conn, echo.clone()));
            }
            Ev::FromServer(conn, data) => {
                if !self.sessions.get(&conn).is_some_and(|s| s.open) {
                    return;
                }
                self.note(format!("{conn:?} receives {}B", data.len()));
                self.call(|w, now| w.handle_input(now, Input::Received { conn, data }));
            }
            Ev::ToClient(addr, data) => {
                let Some(c) = self.clients.iter().position(|c| c.addr == addr) else {
                    self.fail(&format!("datagram to an unknown client {addr}"));
                };
                let ok = data
                    .strip_prefix(b"r:")
                    .is_some_and(|p| self.sent[c].contains(p));
                if !ok {
                    self.fail(&format!(
                        "client {c} received a datagram that echoes nothing it sent"
                    ));
                }
                self.report.echoed += 1;
            }
            Ev::Opened(conn) => {
                let Some(s) = self.sessions.get(&conn) else {
                    return;
                };
                if !s.open {
                    return;
                }
                let server = s.server;
                if self.unresolvable.contains(&server) {
                    self.close_model(conn);
                    let error = ConnectError::Failed("lookup: no such host".into());
                    self.note(format!("{conn:?} connect failed"));
                    self.call(|w, now| w.handle_input(now, Input::ConnectFailed { conn, error }));
                    if self.worker.is_open(conn) {
                        self.fail("the worker still tracks a session whose socket failed to open");
                    }
                    return;
                }
                if let Some(s) = self.sessions.get_mut(&conn) {
                    s.connected = true;
                }
                self.note(format!("{conn:?} connected"));
                self.call(|w, now| w.handle_input(now, Input::Connected { conn }));
                if let Some(s) = self.sessions.get(&conn) {
                    if s.open && !s.owed.is_empty() {
                        self.fail(&format!(
                            "{} datagrams held for {conn:?} not sent once it opened",
                            s.owed.len()
                        ));
                    }
                }
            }
            Ev::Icmp(conn) => {
                if !self
                    .sessions
                    .get(&conn)
                    .is_some_and(|s| s.open && s.connected)
                {
                    return;
                }
                self.note(format!("{conn:?} socket error"));
                self.report.reset += 1;
                self.resetting = Some(conn);
                self.call(|w, now| w.handle_input(now, Input::Reset { conn }));
                self.resetting = None;
                if self.sessions.get(&conn).is_some_and(|s| s.open) {
                    self.fail("a socket error did not end its session");
                }
            }
            Ev::ServerDown(s) => {
                self.note(format!("server {s} down"));
                self.servers_up[s] = false;
            }
            Ev::ServerUp(s) => {
                self.note(format!("server {s} up"));
                self.servers_up[s] = true;
            }
            Ev::Reload(g) => {
                self.note(format!("reload to config {g}"));
                for ep in 0..ENTRY_POINTS {
                    if let Some(servers) = self.configs[g].routes[ep].clone() {
                        self.serving[ep] = Some((servers, g));
                    }
                }
                let cfg = self.configs[g].compiled.clone();
                self.call(|w, now| w.handle_input(now, Input::Config(cfg)));
            }
            Ev::Shutdown => {
                self.note("shutdown".into());
                self.draining = true;
                self.call(|w, now| w.handle_input(now, Input::Shutdown));
            }
        }
    }

    fn datagram_arrives(&mut self, addr: SocketAddr, ep: usize, data: Bytes) {
        let now = self.clock.now();
        let existing = self.by_client.get(&(ep, addr)).copied();
        self.note(format!(
            "worker receives {}B from {addr} on ep{ep}",
            data.len()
        ));
        // What the worker must send: recorded before the call, crossed off by its outputs.
        if let Some(id) = existing {
            let s = self.sessions.get_mut(&id).expect("session");
            s.last_activity = now;
            if !data.is_empty() {
                s.owed.push(data.clone());
            }
        }
        self.pending_new = Some((addr, ep, data.clone()));
        let input = Input::Datagram {
            ep,
            peer: addr,
            data,
        };
        self.call(|w, now| w.handle_input(now, input));
        let created = self.pending_new.take().is_none();
        if existing.is_none() && !created {
            // No session opened: only allowed without a router or while draining.
            if self.serving[ep].is_some() && !self.draining {
                self.fail(&format!(
                    "a datagram from {addr} on ep{ep} opened no session"
                ));
            }
        }
        if let Some(id) = existing {
            let s = &self.sessions[&id];
            if s.connected && !s.owed.is_empty() {
                self.fail(&format!(
                    "a datagram for {id:?} was not sent on its session"
                ));
            }
        }
    }

    fn close_model(&mut self, conn: ConnId) {
        if let Some(s) = self.sessions.get_mut(&conn) {
            s.open = false;
            let key = (s.ep, self.clients[s.client].addr);
            self.by_client.remove(&key);
        }
    }

    fn output(&mut self, out: Output) {
        let now = self.clock.now();
        match out {
            Output::ConnectUdp { conn, host, port } => {
                self.note(format!("out {conn:?} connect {host}:{port}"));
                let Some((addr, ep, data)) = self.pending_new.take() else {
                    self.fail("ConnectUdp outside a client datagram");
                };
                if self.draining {
                    self.fail("a session opened while draining");
                }
                if self.sessions.contains_key(&conn) {
                    self.fail("a session reuses a connection id");
                }
                if self.by_client.contains_key(&(ep, addr)) {
                    self.fail(&format!("a second session for {addr} on ep{ep}"));
                }
                let Some((servers, balancer)) = self.serving[ep].clone() else {
                    self.fail(&format!("a session opened on ep{ep}, which has no router"));
                };
                let server = (0..self.servers).find(|s| server_host(*s) == host && port == 53);
                let Some(server) = server.filter(|s| servers.contains(s)) else {
                    self.fail(&format!(
                        "session to {host}:{port}, not a server of ep{ep}'s service {servers:?}"
                    ));
                };
                let picks = self.picks.entry((balancer, ep)).or_default();
                picks.push(server);
                let k = picks.len() - 1;
                let n = servers.len();
                let ok = if k < n {
                    !picks[..k].contains(&server)
                } else {
                    picks[k - n] == server
                };
                if !ok {
                    let picks = picks.clone();
                    self.fail(&format!(
                        "balancer of ep{ep} (config {balancer}) left its round robin: {picks:?} over {n} servers"
                    ));
                }
                let client = self
                    .clients
                    .iter()
                    .position(|c| c.addr == addr && c.ep == ep)
                    .expect("client");
                self.report.sessions += 1;
                self.sessions.insert(
                    conn,
                    SessionModel {
                        client,
                        ep,
                        server,
                        connected: false,
                        open: true,
                        last_activity: now,
                        timeout: self.timeouts[ep],
                        owed: if data.is_empty() { vec![] } else { vec![data] },
                    },
                );
                self.by_client.insert((ep, addr), conn);
                let at = self.clock.in_nanos(self.rng.range(10 * US, 5 * MS));
                self.queue.push(at, Ev::Opened(conn));
            }
            Output::Send { conn, data } => {
                self.note(format!("out {conn:?} send {}B", data.len()));
                let Some(s) = self.sessions.get_mut(&conn) else {
                    self.fail(&format!("Send on {conn:?}, not a session"));
                };
                if !s.open || !s.connected {
                    self.fail(&format!("Send on {conn:?} while it is not open"));
                }
                let Some(i) = s.owed.iter().position(|d| *d == data) else {
                    self.fail(&format!(
                        "{conn:?} sent a datagram its client did not send on it (or twice)"
                    ));
                };
                s.owed.remove(i);
                let client = s.client;
                if !self.sent[client].contains(&data) {
                    self.fail("a datagram its client never sent");
                }
                self.network(|| Ev::ToServer(conn, data.clone()));
            }
            Output::SendTo { ep, peer, data } => {
                self.note(format!("out ep{ep} sendto {peer} {}B", data.len()));
                let Some(id) = self.by_client.get(&(ep, peer)).copied() else {
                    self.fail(&format!("SendTo {peer} on ep{ep}, which has no session"));
                };
                if let Some(s) = self.sessions.get_mut(&id) {
                    s.last_activity = now;
                }
                self.network(|| Ev::ToClient(peer, data.clone()));
            }
            Output::Close { conn } => {
                self.note(format!("out {conn:?} close"));
                let Some(s) = self.sessions.get(&conn) else {
                    self.fail(&format!("Close of {conn:?}, not a session"));
                };
                if !s.open {
                    self.fail(&format!("second Close of {conn:?}"));
                }
                let due = Timestamp(s.last_activity.0 + s.timeout);
                let by_error = self.resetting == Some(conn);
                if !by_error {
                    if due != now {
                        self.fail(&format!(
                            "{conn:?} closed at {now:?}, its timeout is due at {due:?}"
                        ));
                    }
                    self.report.timed_out += 1;
                }
                self.close_model(conn);
            }
            other => self.fail(&format!("unexpected output {other:?}")),
        }
    }
}
