//! The simulator as a runtime adapter: owns the worker, the virtual clock, the event queue and
//! the links, and plays the adapter's part of the core API (accepts, inputs, draining every
//! output after every call, `Writable` after delivery, pauses, the one deadline).

use std::collections::BTreeMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;

use bytes::Bytes;
use trafficcop_core::proxy::{ConnId, ConnectError, Event, Input, Output, Timestamp, Worker};

use super::backend::Backend;
use super::client::Client;
use super::clock::{Clock, SEC};
use super::net::{cut, id, latency, Link, Seg, Side};
use super::plan::{Fault, Scenario};
use super::queue::{next_step, EventQueue, Step};
use super::rng::Rng;
use super::trace::Trace;

/// How far virtual time may run before the run is declared stuck.
const TIME_LIMIT: u64 = 3 * 3600 * SEC;

/// What a scheduled event does.
#[derive(Debug)]
pub(crate) enum Ev {
    /// A segment reaches the worker.
    ToWorker(ConnId, Seg),
    /// A segment reaches the peer.
    ToPeer(ConnId, Seg),
    /// Everything sent so far was delivered: report `Writable`.
    Writable(ConnId),
    /// Feed segments held while reading was paused.
    Unhold(ConnId),
    /// An upstream connect succeeded.
    Connected(ConnId),
    /// An upstream connect was refused.
    Refused(ConnId),
    /// Client connects.
    ClientStart(usize),
    /// Client sends its next request.
    ClientSend(usize),
    /// Client vanishes (reset or half-close).
    ClientVanish(usize, bool),
    /// A backend writes a (delayed) answer, then maybe closes.
    BackendReply(ConnId, Bytes, After),
    /// A fault.
    Fault(Fault),
}

/// What a backend does after writing an answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum After {
    /// Keeps the connection.
    Keep,
    /// Half-closes (close-delimited body).
    Eof,
    /// Resets (a crash).
    Reset,
}

/// The result of one seed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunReport {
    /// The seed.
    pub seed: u64,
    /// Hash of every event.
    pub trace_hash: u64,
    /// Events processed.
    pub events: u64,
    /// Virtual time at the end, ns.
    pub virtual_ns: u64,
    /// Requests clients finished sending.
    pub requests: u64,
    /// Complete responses clients read.
    pub responses: u64,
    /// Of which came from a backend.
    pub proxied: u64,
    /// Known core bugs this run hit (tolerated only with [`Options::tolerate_known_bugs`]).
    pub known_bugs: u64,
    /// WebSocket tunnels whose whole payload came back echoed.
    pub tunnels: u64,
    /// Deliveries a network partition held until it healed.
    pub partition_held: u64,
}

/// How strict a run is.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    /// Tolerate the signatures of the known core bugs (see `check::KNOWN_BUGS`), so the other
    /// invariants keep running on every seed until they are fixed.
    pub tolerate_known_bugs: bool,
}

/// One simulation run.
pub struct Sim {
    pub(crate) options: Options,
    pub(crate) seed: u64,
    pub(crate) rng: Rng,
    pub(crate) clock: Clock,
    pub(crate) queue: EventQueue<Ev>,
    pub(crate) worker: Worker,
    pub(crate) trace: Trace,
    pub(crate) scenario: Scenario,
    pub(crate) links: BTreeMap<ConnId, Link>,
    pub(crate) clients: Vec<Client>,
    pub(crate) backends: Vec<Backend>,
    /// `(activated at, config index)`, in order.
    pub(crate) config_log: Vec<(Timestamp, usize)>,
    /// `X-Req` id -> (client, request index).
    pub(crate) requests: BTreeMap<String, (usize, usize)>,
    /// How many times each request reached a backend.
    pub(crate) receipts: BTreeMap<String, u32>,
    /// Deliveries to or from partitioned backends, held until the partition heals.
    pub(crate) partition_held: Vec<Ev>,
    pub(crate) report: RunReport,
}

impl Sim {
    /// Builds the run for `seed`, fully strict.
    pub fn new(seed: u64) -> Self {
        Self::with_options(seed, Options::default())
    }

    /// Builds the run for `seed` with `options`.
    pub fn with_options(seed: u64, options: Options) -> Self {
        let scenario = Scenario::generate(seed);
        let mut worker = Worker::new(scenario.configs[0].compiled.clone(), "sim-proxy");
        worker.set_access_records(true);
        worker.set_date(trafficcop_core::http::http_date(1_700_000_000));
        let clients = scenario.clients.iter().map(Client::new).collect();
        let backends = scenario
            .backends
            .iter()
            .map(|_| Backend::default())
            .collect();
        let mut requests = BTreeMap::new();
        for (i, c) in scenario.clients.iter().enumerate() {
            for (k, r) in c.requests.iter().enumerate() {
                requests.insert(r.id.clone(), (i, k));
            }
        }
        Sim {
            options,
            seed,
            rng: Rng::new(seed),
            clock: Clock::default(),
            queue: EventQueue::default(),
            worker,
            trace: Trace::default(),
            scenario,
            links: BTreeMap::new(),
            clients,
            backends,
            config_log: vec![(Timestamp(0), 0)],
            requests,
            receipts: BTreeMap::new(),
            partition_held: Vec::new(),
            report: RunReport {
                seed,
                trace_hash: 0,
                events: 0,
                virtual_ns: 0,
                requests: 0,
                responses: 0,
                proxied: 0,
                known_bugs: 0,
                tunnels: 0,
                partition_held: 0,
            },
        }
    }

    /// Runs to quiescence and checks the end invariants; panics on any violation.
    pub fn run(mut self) -> RunReport {
        for (i, c) in self.scenario.clients.iter().enumerate() {
            self.queue.push(Timestamp(c.start_ns), Ev::ClientStart(i));
        }
        for (t, f) in self.scenario.faults.clone() {
            self.queue.push(Timestamp(t), Ev::Fault(f));
        }
        let mut same_instant_timeouts = 0;
        loop {
            let step = next_step(self.queue.peek_time(), self.worker.poll_timeout());
            if step == Step::Done {
                break;
            }
            if let Step::Timeout(t) = step {
                let t = t.max(self.clock.now());
                if t == self.clock.now() {
                    same_instant_timeouts += 1;
                    if same_instant_timeouts > 100 {
                        self.fail("poll_timeout stays due after handle_timeout (busy loop)");
                    }
                } else {
                    same_instant_timeouts = 0;
                }
                self.clock.advance_to(t);
                self.note("timeout".into());
                self.call("handle_timeout", |w, now| w.handle_timeout(now));
                // Every deadline that was due fired: none is left at or before now.
                if self
                    .worker
                    .poll_timeout()
                    .is_some_and(|d| d <= self.clock.now())
                {
                    self.fail("a deadline is still due right after handle_timeout");
                }
            } else {
                let (t, ev) = self.queue.pop().expect("event");
                same_instant_timeouts = 0;
                self.clock.advance_to(t);
                self.dispatch(ev);
            }
            self.check_step();
            if self.clock.now().0 > TIME_LIMIT {
                self.fail("virtual time limit reached: the run never quiesces");
            }
        }
        self.check_end();
        self.report.trace_hash = self.trace.hash();
        self.report.events = self.trace.len();
        self.report.virtual_ns = self.clock.now().0;
        self.report
    }

    pub(crate) fn note(&mut self, text: String) {
        let now = self.clock.now();
        self.trace.record(now, text);
    }

    /// Panics with the seed, the scenario and the last events.
    pub(crate) fn fail(&self, msg: &str) -> ! {
        panic!(
            "simulation invariant violated: {msg}\nseed: {} (replay with TC_SEED={})\nat virtual time {:.6}s\nscenario:\n{}last events:\n{}",
            self.seed,
            self.seed,
            self.clock.now().0 as f64 / 1e9,
            self.scenario.summary(),
            self.trace.tail()
        )
    }

    /// One mutation of the worker, then the output drained (the single-mutation rule). A panic
    /// in the core is reported as a violation with the run's context.
    pub(crate) fn call(&mut self, what: &str, f: impl FnOnce(&mut Worker, Timestamp)) {
        let now = self.clock.now();
        let worker = &mut self.worker;
        if let Err(p) = catch_unwind(AssertUnwindSafe(|| f(worker, now))) {
            let msg = super::panic_text(&*p);
            self.fail(&format!("the core panicked in {what}: {msg}"));
        }
        self.drain();
    }

    pub(crate) fn input(&mut self, input: Input) {
        let what = match &input {
            Input::Received { conn, data } => format!("in {} {}B", id(*conn), data.len()),
            Input::Eof { conn } => format!("in {} EOF", id(*conn)),
            Input::Reset { conn } => format!("in {} RST", id(*conn)),
            Input::Connected { conn } => format!("in {} connected", id(*conn)),
            Input::ConnectFailed { conn, error } => format!("in {} {error:?}", id(*conn)),
            Input::Writable { conn } => format!("in {} writable", id(*conn)),
            Input::Config(c) => format!("in config generation {}", c.generation),
            Input::Shutdown => "in shutdown".into(),
            Input::Datagram { ep, peer, data } => {
                format!("in udp ep{ep} from {peer} {}B", data.len())
            }
        };
        self.note(what.clone());
        self.call(&what, |w, now| w.handle_input(now, input));
    }

    fn drain(&mut self) {
        loop {
            let out = {
                let worker = &mut self.worker;
                match catch_unwind(AssertUnwindSafe(|| worker.poll_output())) {
                    Ok(o) => o,
                    Err(_) => self.fail("the core panicked in poll_output"),
                }
            };
            let Some(out) = out else { break };
            self.output(out);
        }
        while let Some(Event::Access(r)) = self.worker.poll_event() {
            self.note(format!(
                "access {} {}{} {} via {:?} {:?}",
                r.method,
                r.path,
                r.query
                    .as_deref()
                    .map_or(String::new(), |q| format!("?{q}")),
                r.status,
                r.router,
                r.server
            ));
        }
    }

    fn output(&mut self, out: Output) {
        let now = self.clock.now();
        match out {
            Output::Send { conn, data } => {
                self.note(format!(
                    "out {} send {}",
                    id(conn),
                    Seg::Data(data.clone()).describe()
                ));
                let Some(link) = self.links.get(&conn) else {
                    self.fail(&format!("Send to unknown connection {conn:?}"));
                };
                if !link.worker_open {
                    self.fail(&format!("Send on {conn:?} after Close"));
                }
                if link.connecting {
                    self.fail(&format!("Send on {conn:?} before Connected"));
                }
                if link.peer_gone {
                    return;
                }
                if let Some(link) = self.links.get_mut(&conn) {
                    link.in_flight += data.len();
                }
                self.transmit(conn, false, Seg::Data(data));
                let at = self.links[&conn].to_peer_last;
                self.queue.push(at, Ev::Writable(conn));
            }
            Output::Connect { conn, host, port } => {
                self.note(format!("out {} connect {host}:{port}", id(conn)));
                if self.links.contains_key(&conn) {
                    self.fail(&format!("Connect reuses connection id {conn:?}"));
                }
                let backend = host
                    .strip_prefix('b')
                    .and_then(|h| h.strip_suffix(".sim"))
                    .and_then(|n| n.parse::<usize>().ok())
                    .filter(|b| *b < self.backends.len() && port == 9000);
                let Some(b) = backend else {
                    self.fail(&format!(
                        "Connect to {host}:{port}, not a configured backend"
                    ));
                };
                self.links
                    .insert(conn, Link::new(Side::Backend(b), now, true));
                let at = self.clock.in_nanos(latency(&mut self.rng));
                if !self.backends[b].up {
                    self.queue.push(at, Ev::Refused(conn));
                } else if !self.backends[b].black_hole {
                    self.queue.push(at, Ev::Connected(conn));
                }
            }
            Output::Close { conn } => {
                self.note(format!("out {} close", id(conn)));
                let Some(link) = self.links.get_mut(&conn) else {
                    self.fail(&format!("Close of unknown connection {conn:?}"));
                };
                if !link.worker_open {
                    self.fail(&format!("second Close of {conn:?}"));
                }
                link.worker_open = false;
                link.held.clear();
                if !link.connecting && !link.peer_gone {
                    self.transmit(conn, false, Seg::Eof);
                }
            }
            Output::SendTo { .. } | Output::ConnectUdp { .. } => {
                self.fail(&format!("UDP output {out:?} in an HTTP scenario"))
            }
            Output::ShutdownWrite { .. } => {
                self.fail(&format!("TCP router output {out:?} in an HTTP scenario"))
            }
            Output::PauseRead { conn } => {
                self.note(format!("out {} pause", id(conn)));
                if let Some(l) = self.links.get_mut(&conn) {
                    l.paused = true;
                }
            }
            Output::ResumeRead { conn } => {
                self.note(format!("out {} resume", id(conn)));
                if let Some(l) = self.links.get_mut(&conn) {
                    l.paused = false;
                    if !l.held.is_empty() {
                        self.queue.push(now, Ev::Unhold(conn));
                    }
                }
            }
        }
    }

    /// Schedules `seg` along a link: towards the worker or towards the peer. Data is cut into
    /// segments; order is kept, except that a reset may overtake data in flight.
    pub(crate) fn transmit(&mut self, conn: ConnId, to_worker: bool, seg: Seg) {
        let now = self.clock.now();
        let pieces = match &seg {
            Seg::Data(b) => cut(&mut self.rng, b).into_iter().map(Seg::Data).collect(),
            _ => vec![seg],
        };
        for piece in pieces {
            let at = self.clock.in_nanos(latency(&mut self.rng));
            let link = self.links.get_mut(&conn).expect("link");
            let last = if to_worker {
                &mut link.to_worker_last
            } else {
                &mut link.to_peer_last
            };
            // A slow reader takes its bytes at its own pace after the previous ones.
            let pace = match (&piece, to_worker) {
                (Seg::Data(b), false) => b.len() as u64 * link.read_ns_per_byte,
                _ => 0,
            };
            let at = if matches!(piece, Seg::Reset) {
                at
            } else {
                let at = at.max(Timestamp(last.0 + pace)).max(now);
                *last = at;
                at
            };
            let ev = if to_worker {
                Ev::ToWorker(conn, piece)
            } else {
                Ev::ToPeer(conn, piece)
            };
            self.queue.push(at, ev);
        }
    }

    /// A peer writes on its connection.
    pub(crate) fn peer_send(&mut self, conn: ConnId, seg: Seg) {
        let Some(link) = self.links.get_mut(&conn) else {
            return;
        };
        if link.peer_gone {
            return;
        }
        if matches!(seg, Seg::Reset) {
            link.peer_gone = true;
        }
        self.transmit(conn, true, seg);
    }

    /// Whether `ev` crosses a partition (then it waits for the heal).
    fn partitioned(&self, ev: &Ev) -> bool {
        let conn = match ev {
            Ev::ToWorker(c, _)
            | Ev::ToPeer(c, _)
            | Ev::Connected(c)
            | Ev::Refused(c)
            | Ev::Writable(c) => *c,
            _ => return false,
        };
        matches!(
            self.links.get(&conn).map(|l| l.side),
            Some(Side::Backend(b)) if self.backends[b].partitioned
        )
    }

    fn dispatch(&mut self, ev: Ev) {
        if self.partitioned(&ev) {
            self.report.partition_held += 1;
            self.partition_held.push(ev);
            return;
        }
        match ev {
            Ev::ToWorker(conn, seg) => self.deliver_to_worker(conn, seg),
            Ev::ToPeer(conn, seg) => {
                let Some(link) = self.links.get_mut(&conn) else {
                    return;
                };
                if let Seg::Data(b) = &seg {
                    link.in_flight = link.in_flight.saturating_sub(b.len());
                }
                if link.peer_gone {
                    return;
                }
                let side = link.side;
                self.note(format!("{side:?} {} got {}", id(conn), seg.describe()));
                match side {
                    Side::Client(i) => self.client_receive(i, seg),
                    Side::Backend(b) => self.backend_receive(b, conn, seg),
                }
            }
            Ev::Writable(conn) => {
                // As an adapter: writable once everything sent so far has left.
                if self
                    .links
                    .get(&conn)
                    .is_some_and(|l| l.worker_open && l.in_flight == 0)
                {
                    self.input(Input::Writable { conn });
                }
            }
            Ev::Unhold(conn) => self.unhold(conn),
            Ev::Connected(conn) => {
                let Some(link) = self.links.get_mut(&conn) else {
                    return;
                };
                link.connecting = false;
                let Side::Backend(b) = link.side else { return };
                if !link.worker_open {
                    // The worker gave up (dial timeout): the adapter closes the late socket.
                    link.peer_gone = true;
                    self.note(format!("{} connected after the worker gave up", id(conn)));
                    return;
                }
                if !self.backends[b].up {
                    link.connecting = true;
                    self.dispatch(Ev::Refused(conn));
                    return;
                }
                self.backends[b].conns.insert(conn, Default::default());
                self.input(Input::Connected { conn });
            }
            Ev::Refused(conn) => {
                let Some(link) = self.links.get_mut(&conn) else {
                    return;
                };
                if !link.worker_open {
                    return;
                }
                link.worker_open = false;
                link.peer_gone = true;
                self.input(Input::ConnectFailed {
                    conn,
                    error: ConnectError::Failed("connection refused".into()),
                });
            }
            Ev::ClientStart(i) => self.client_start(i),
            Ev::ClientSend(i) => self.client_send_next(i),
            Ev::ClientVanish(i, reset) => self.client_vanish(i, reset),
            Ev::BackendReply(conn, bytes, after) => self.backend_write(conn, bytes, after),
            Ev::Fault(f) => self.fault(f),
        }
    }

    fn deliver_to_worker(&mut self, conn: ConnId, seg: Seg) {
        let Some(link) = self.links.get_mut(&conn) else {
            return;
        };
        if !link.worker_open {
            return;
        }
        if matches!(seg, Seg::Reset) {
            link.held.clear();
            self.input(Input::Reset { conn });
            return;
        }
        if link.paused || !link.held.is_empty() {
            let schedule = !link.paused && link.held.is_empty();
            link.held.push_back(seg);
            if schedule {
                self.queue.push(self.clock.now(), Ev::Unhold(conn));
            }
            return;
        }
        self.feed(conn, seg);
    }

    fn feed(&mut self, conn: ConnId, seg: Seg) {
        match seg {
            Seg::Data(data) => self.input(Input::Received { conn, data }),
            Seg::Eof => self.input(Input::Eof { conn }),
            Seg::Reset => self.input(Input::Reset { conn }),
        }
    }

    fn unhold(&mut self, conn: ConnId) {
        loop {
            let Some(link) = self.links.get_mut(&conn) else {
                return;
            };
            if link.paused || !link.worker_open {
                return;
            }
            let Some(seg) = link.held.pop_front() else {
                return;
            };
            self.feed(conn, seg);
        }
    }

    fn fault(&mut self, f: Fault) {
        self.note(format!("fault {f:?}"));
        match f {
            Fault::Crash(b) => {
                self.backends[b].up = false;
                let conns: Vec<ConnId> = self.backends[b].conns.keys().copied().collect();
                self.backends[b].conns.clear();
                for c in conns {
                    self.peer_send(c, Seg::Reset);
                }
            }
            Fault::Restart(b) => self.backends[b].up = true,
            Fault::BlackHoleOn(b) => self.backends[b].black_hole = true,
            Fault::BlackHoleOff(b) => self.backends[b].black_hole = false,
            Fault::PartitionOn(b) => self.backends[b].partitioned = true,
            Fault::PartitionOff(b) => {
                self.backends[b].partitioned = false;
                // Held deliveries arrive now, in the order they were due (those of other
                // partitions stay held).
                for ev in std::mem::take(&mut self.partition_held) {
                    self.dispatch(ev);
                }
            }
            Fault::Reload(n) => {
                let cfg = Arc::clone(&self.scenario.configs[n].compiled);
                self.config_log.push((self.clock.now(), n));
                self.input(Input::Config(cfg));
            }
        }
    }
}
