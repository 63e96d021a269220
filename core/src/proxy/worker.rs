//! The worker: one per thread, owning its connections. Every call takes `now`; after any call,
//! drain [`Worker::poll_output`] before the next (the single-mutation rule). Peer misbehaviour
//! never returns an error: it becomes a response (400, 502, ...) or a close.
//!
//! Connection life cycle (downstream): `Head` (waiting for a request head, idle between
//! keep-alive requests) -> `Active` (one request in flight: body streamed to the upstream,
//! response streamed back) -> `Head` again, or closed; `Tunnel` after a `101` upgrade.
//! Upstream: `Connecting` -> `Busy` (serving one downstream request) -> `Idle` in the pool, or
//! closed.

use std::collections::{BTreeMap, VecDeque};
use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;

use super::compile::CompiledConfig;
use super::inbox::Inbox;
use super::io::{ConnId, ConnectError, Event, Input, Output, Timestamp};
use super::txn::Txn;

/// Bytes queued to a peer before the connection feeding it is paused. 256 KiB: with 1 MiB, the
/// 10-minute soak's slow readers and 1 MiB bodies kept several MiB queued at once (RSS +12.6 %
/// from minute 2 to the end, against +5.1 % with 256 KiB, and no loss of throughput).
pub const HIGH_WATER: usize = 256 << 10;
/// Consecutive writes to one connection are merged into one output up to this size (bigger
/// ones are not copied: the adapter writes them one after the other). Kept although adapters
/// write a connection's queue with one `writev`: a 2-slice `writev` of a response head and a
/// small body costs more than copying them together (measured on `small`, mio, 1 worker:
/// without the merge 16.05-16.36 µs CPU per request against 15.43-15.56, p99 4.4-4.6 ms
/// against 3.9).
const MERGE_WRITES_UP_TO: usize = 16 * 1024;
/// Observations kept for [`Worker::poll_event`] before the oldest are dropped.
const MAX_EVENTS: usize = 4096;
/// Pipelined bytes buffered beyond the request in flight before reading pauses.
pub(super) const MAX_PIPELINED: usize = 64 * 1024;

pub(super) enum DState {
    Head,
    Active(Box<Txn>),
    Tunnel(ConnId),
    /// A request waits before going on through its middlewares (see `down::Delayed`).
    Delayed(Box<super::down::Delayed>),
    /// A local answer waits while the request's body is read and dropped (see `Discard`).
    Discard(Box<super::discard::Discard>),
    /// Answered and closing while the client may still send its body: what arrives is
    /// dropped until it stops or the deadline passes, so that closing with unread bytes
    /// (a reset, which can destroy the answer in flight) is unlikely (see `linger`).
    Linger,
}

/// What carries a client connection's bytes: decided by its first byte (a TLS handshake
/// record starts with 0x16), as Traefik's entry points sniff every connection.
pub(super) enum Transport {
    /// The entry point has `proxyProtocol`: a PROXY header may come first.
    ProxyHeader,
    Sniffing,
    /// A Postgres `SSLRequest` was answered `S`: the ClientHello comes next (TCP routers).
    PostgresHello,
    Plain,
    Tls(Box<crate::tls::ServerTls>),
    /// A virtual connection carrying one HTTP/2 stream of another connection.
    Stream(Box<super::h2down::StreamDown>),
}

pub(super) struct Down {
    pub ep: usize,
    pub transport: Transport,
    pub peer: SocketAddr,
    /// Request bytes received and not yet handled.
    pub input: Inbox,
    pub state: DState,
    pub deadline: Option<Timestamp>,
    pub unacked: usize,
    pub paused: bool,
    pub read_closed: bool,
    pub requests: u64,
    /// When the connection was accepted (`keepAliveMaxTime`).
    pub accepted_at: Timestamp,
    /// `respondingTimeouts.writeTimeout`: the response in progress must be written by then.
    pub write_deadline: Option<Timestamp>,
    /// The local address the client connected to, when the adapter knows it.
    pub local: Option<SocketAddr>,
    /// The HTTP/2 side, once the connection speaks HTTP/2.
    pub h2: Option<Box<super::h2down::H2Down>>,
    /// The client address as text (`X-Real-Ip`, `X-Forwarded-For`), made once per connection.
    pub peer_text: Option<(std::net::IpAddr, bytes::Bytes)>,
}

impl Down {
    pub fn new(
        ep: usize,
        peer: SocketAddr,
        now: Timestamp,
        deadline: Option<Timestamp>,
        transport: Transport,
    ) -> Self {
        Down {
            ep,
            transport,
            peer,
            input: Inbox::default(),
            state: DState::Head,
            deadline,
            unacked: 0,
            paused: false,
            read_closed: false,
            requests: 0,
            accepted_at: now,
            write_deadline: None,
            local: None,
            h2: None,
            peer_text: None,
        }
    }
}

#[derive(Debug, PartialEq, Eq)]
pub(super) enum UState {
    Connecting,
    Busy,
    Idle,
    Tunnel,
}

/// A backend's dial address, its TLS configuration id (0 for plain HTTP) and protocol
/// (HTTP/1.1, or HTTP/2 with prior knowledge): the key of its idle-connection pool and of its
/// HTTP/2 sessions.
pub type ServerKey = (std::sync::Arc<str>, u16, u32, u8);

pub(super) struct Up {
    pub key: ServerKey,
    pub down: Option<ConnId>,
    pub state: UState,
    /// Response bytes received and not yet handled.
    pub input: Inbox,
    pub deadline: Option<Timestamp>,
    pub unacked: usize,
    pub paused: bool,
    pub max_idle: usize,
    pub idle_timeout: crate::config::Duration,
    /// TLS to an `https://` server.
    pub tls: Option<Box<crate::tls::ClientTls>>,
    /// The server name cannot be used for TLS: the exchange fails once connected.
    pub tls_unusable: bool,
    /// An HTTP/2 session, or a virtual upstream on one.
    pub mux: super::h2up::Mux,
    /// TLS handshake in progress: the request waits for it (which also decides the protocol
    /// when `h2` was offered), within Go's TLS handshake timeout.
    pub handshaking: bool,
    /// In its server's pool (`Worker::pools`): closing it takes it out.
    pub pooled: bool,
}

/// Bytes to queue to a connection: owned ones are queued as they are; borrowed ones are
/// copied only when they cannot join the bytes queued just before them.
pub(super) trait Chunk: AsRef<[u8]> {
    /// The bytes as a queue entry of their own.
    fn into_bytes(self) -> Bytes;
}

impl Chunk for Bytes {
    fn into_bytes(self) -> Bytes {
        self
    }
}

impl Chunk for Vec<u8> {
    fn into_bytes(self) -> Bytes {
        Bytes::from(self)
    }
}

impl Chunk for &[u8] {
    fn into_bytes(self) -> Bytes {
        Bytes::copy_from_slice(self)
    }
}

/// Connections by id, looked up several times per event. Never iterated where order shows:
/// `handle_timeout` sorts what it collects.
pub(super) type ConnMap<V> = super::io::IdMap<ConnId, V>;

/// One worker's proxy state machine.
pub struct Worker {
    pub(super) config: Arc<CompiledConfig>,
    pub(super) hostname: bytes::Bytes,
    next_id: u64,
    pub(super) down: ConnMap<Down>,
    pub(super) up: ConnMap<Up>,
    pub(super) pools: BTreeMap<ServerKey, Vec<ConnId>>,
    /// Plain HTTP/1.1 connections being dialled, by server: a request waiting on one takes a
    /// connection that goes idle first (Go's transport does the same), and the dialled one
    /// joins the pool when it connects.
    pub(super) dialing: BTreeMap<ServerKey, Vec<ConnId>>,
    /// HTTP/2 sessions to backends, by server.
    pub(super) sessions: BTreeMap<ServerKey, Vec<ConnId>>,
    pub(super) out: VecDeque<Output>,
    pub(super) events: VecDeque<Event>,
    pub(super) shutting_down: bool,
    /// The `Date` value (shared: HTTP/2 heads take it without a copy).
    pub(super) date: bytes::Bytes,
    /// A lower bound of every connection deadline (it may be early after a deadline is
    /// cleared; `handle_timeout` recomputes it exactly).
    earliest: Option<Timestamp>,
    /// Whether access records are produced (see [`Worker::set_access_records`]).
    pub(super) access_records: bool,
    /// The time of the call being handled.
    pub(super) now: Timestamp,
    /// HTTP/2 connections to drive before the call returns. After an input from a backend
    /// they wait instead for the next `handle_timeout`, which [`Worker::poll_timeout`] makes
    /// due at once while any wait: the responses backends sent to HTTP/2 clients are encoded
    /// together, one polling round per client connection per adapter turn, not per response.
    pub(super) h2_dirty: Vec<ConnId>,
    /// Reused list of one HTTP/2 connection's streams and their queued bytes.
    pub(super) stream_scratch: Vec<(ConnId, usize)>,
    /// Reused list of the events one HTTP/2 connection's polling round gave (a request head
    /// is large: growing a new list for every round was ~1 % of an h2 request's instructions).
    pub(super) h2_events: Vec<crate::h2::H2Event>,
    /// Reused buffer a response head is encoded into before it is copied, with the body
    /// bytes that came with it, into a buffer of exactly their size (see `drive_up`).
    pub(super) head_scratch: Vec<u8>,
    /// UDP sessions.
    pub(super) udp: super::udp::UdpSessions,
    /// Connections routed by TCP routers, both ends.
    pub(super) tcp: super::tcp::TcpEnds,
}

impl Worker {
    /// A worker serving `config`; `hostname` is sent as `X-Forwarded-Server`.
    pub fn new(config: Arc<CompiledConfig>, hostname: &str) -> Self {
        let mut udp = super::udp::UdpSessions::default();
        udp.configure(&config);
        Worker {
            config,
            hostname: bytes::Bytes::copy_from_slice(hostname.as_bytes()),
            next_id: 1,
            down: ConnMap::default(),
            up: ConnMap::default(),
            pools: BTreeMap::new(),
            dialing: BTreeMap::new(),
            sessions: BTreeMap::new(),
            out: VecDeque::new(),
            events: VecDeque::new(),
            shutting_down: false,
            date: bytes::Bytes::new(),
            earliest: None,
            access_records: false,
            now: Timestamp(0),
            h2_dirty: Vec::new(),
            stream_scratch: Vec::new(),
            h2_events: Vec::new(),
            head_scratch: Vec::new(),
            udp,
            tcp: Default::default(),
        }
    }

    /// Turns access records ([`Event::Access`] from [`Worker::poll_event`]) on or off; they are
    /// off by default so that requests cost nothing for them when no access log is written.
    pub fn set_access_records(&mut self, on: bool) {
        self.access_records = on;
    }

    /// Sets the `Date` header value of TrafficCop's own responses (the adapter calls this
    /// about once a second with [`crate::http::http_date`]).
    pub fn set_date(&mut self, date: String) {
        self.date = date.into();
    }

    /// The configuration new requests use.
    pub fn config(&self) -> &Arc<CompiledConfig> {
        &self.config
    }

    /// Number of open connections (downstream, upstream); a UDP session counts as one
    /// upstream (its backend socket).
    pub fn connection_counts(&self) -> (usize, usize) {
        (
            self.down.len() + self.tcp.len().div_ceil(2),
            self.up.len() + self.udp.len() + self.tcp.len() / 2,
        )
    }

    /// Whether `conn` is a connection the worker still tracks (an adapter closes sockets the
    /// worker has forgotten, e.g. a connect that completed after its dial timeout).
    pub fn is_open(&self, conn: ConnId) -> bool {
        self.down.contains_key(&conn)
            || self.up.contains_key(&conn)
            || self.udp.contains(conn)
            || self.tcp.contains(conn)
    }

    pub(super) fn alloc(&mut self) -> ConnId {
        let id = ConnId(self.next_id);
        self.next_id += 1;
        id
    }

    /// A client connected to entry point `ep` (index into the configuration's entry points).
    pub fn accept(&mut self, now: Timestamp, ep: usize, peer: SocketAddr) -> ConnId {
        self.accept_at(now, ep, peer, None)
    }

    /// Whether [`Worker::accept_at`] needs the connection's local address on entry point `ep`:
    /// only when a certificate of its TLS store names an IP (a handshake without SNI then gets
    /// it) or it has TCP routers (a PROXY header to a server names it), so adapters can save
    /// the `getsockname` otherwise.
    pub fn wants_local_address(&self, ep: usize) -> bool {
        self.config
            .entry_points
            .get(ep)
            .is_some_and(|e| !e.tls.by_ip.is_empty() || e.tcp.is_some())
    }

    /// [`Worker::accept`] with the connection's local address, which picks the certificate of
    /// a TLS handshake without SNI (a certificate for that IP, as Traefik does).
    pub fn accept_at(
        &mut self,
        now: Timestamp,
        ep: usize,
        peer: SocketAddr,
        local: Option<SocketAddr>,
    ) -> ConnId {
        let id = self.alloc();
        let read_timeout = self.config.entry_points.get(ep).map(|e| e.read_timeout);
        let proxy_protocol = self
            .config
            .entry_points
            .get(ep)
            .is_some_and(|e| e.proxy_protocol.is_some());
        let deadline = read_timeout.filter(|d| d.0 > 0).map(|d| now.after(d));
        self.note_deadline(deadline);
        let transport = if proxy_protocol {
            Transport::ProxyHeader
        } else {
            Transport::Sniffing
        };
        let mut d = Down::new(ep, peer, now, deadline, transport);
        d.local = local;
        self.down.insert(id, d);
        if !proxy_protocol {
            self.tcp_accepted(now, id);
        }
        id
    }

    /// Feeds one input.
    pub fn handle_input(&mut self, now: Timestamp, input: Input) {
        self.now = now;
        // A backend's bytes or writability only add to responses: what they queue on HTTP/2
        // connections is encoded at the next `handle_timeout` (due at once, so at the end of
        // the adapter's turn), together with what the turn's other backends answered. Client
        // input is handled at once (and takes the deferred work with it).
        let later = match &input {
            Input::Received { conn, .. } | Input::Writable { conn } => self.up.contains_key(conn),
            _ => false,
        };
        match input {
            Input::Received { conn, data } => {
                if self.down.contains_key(&conn) {
                    self.down_received(now, conn, data);
                } else if self.up.contains_key(&conn) {
                    self.up_received(now, conn, data);
                } else if self.udp.contains(conn) {
                    self.udp_received(now, conn, data);
                } else if self.tcp.contains(conn) {
                    self.tcp_received(conn, data);
                }
            }
            Input::Eof { conn } => {
                if self.down.contains_key(&conn) {
                    self.down_eof(now, conn);
                } else if self.up.contains_key(&conn) {
                    self.up_eof(now, conn, false);
                } else if self.tcp.contains(conn) {
                    self.tcp_eof(conn);
                }
            }
            Input::Reset { conn } => {
                if self.down.contains_key(&conn) {
                    self.abort_down(conn);
                } else if self.up.contains_key(&conn) {
                    self.up_eof(now, conn, true);
                } else if self.udp.contains(conn) {
                    self.udp_end(conn, true);
                } else if self.tcp.contains(conn) {
                    self.tcp_close(conn);
                }
            }
            Input::Connected { conn } if self.udp.contains(conn) => self.udp_connected(conn),
            Input::Connected { conn } if self.tcp.contains(conn) => self.tcp_connected(conn),
            Input::ConnectFailed { conn, .. } if self.tcp.contains(conn) => {
                self.tcp_connect_failed(conn)
            }
            Input::Writable { conn } if self.tcp.contains(conn) => self.tcp_writable(conn),
            Input::Connected { conn } => self.up_connected(now, conn),
            Input::ConnectFailed { conn, .. } if self.udp.contains(conn) => {
                self.udp_end(conn, false)
            }
            Input::ConnectFailed { conn, error } => self.up_connect_failed(now, conn, error),
            Input::Datagram { ep, peer, data } => self.udp_datagram(now, ep, peer, data),
            Input::Writable { conn } => self.writable(conn),
            Input::Config(cfg) => {
                self.udp.configure(&cfg);
                self.config = cfg;
            }
            Input::Shutdown => self.begin_shutdown(),
        }
        if !later {
            self.settle_h2(now);
        }
    }

    /// Fires every deadline at or before `now`.
    pub fn handle_timeout(&mut self, now: Timestamp) {
        self.now = now;
        if self.earliest.is_none_or(|t| t > now) {
            // Nothing is due (`earliest` is never late): only the deferred HTTP/2 work.
            self.settle_h2(now);
            return;
        }
        let mut downs: Vec<ConnId> = self
            .down
            .iter()
            .filter(|(_, d)| {
                d.deadline.is_some_and(|t| t <= now) || d.write_deadline.is_some_and(|t| t <= now)
            })
            .map(|(id, _)| *id)
            .collect();
        downs.sort_unstable();
        for id in downs {
            self.down_timeout(now, id);
        }
        let mut ups: Vec<ConnId> = self
            .up
            .iter()
            .filter(|(_, u)| u.deadline.is_some_and(|t| t <= now))
            .map(|(id, _)| *id)
            .collect();
        ups.sort_unstable();
        // Idle connections that expire together (surplus ones after a burst) leave their pools
        // in one pass.
        self.unpool(&ups);
        for id in ups {
            self.up_timeout(now, id);
        }
        self.udp_timeouts(now);
        self.tcp_timeouts(now);
        self.settle_h2(now);
        let d = self
            .down
            .values()
            .flat_map(|d| d.deadline.into_iter().chain(d.write_deadline));
        let u = self.up.values().filter_map(|u| u.deadline);
        self.earliest = (d.chain(u))
            .chain(self.udp.earliest())
            .chain(self.tcp.earliest())
            .min();
    }

    /// The next thing to do, until `None`.
    pub fn poll_output(&mut self) -> Option<Output> {
        self.out.pop_front()
    }

    /// When to call [`Worker::handle_timeout`] next, if ever. It may be earlier than the
    /// earliest deadline (a wake-up that finds nothing due is harmless); never later. After
    /// an input from a backend it can be the time of that input: HTTP/2 responses wait to be
    /// encoded together, so an adapter calls `handle_timeout` when its turn's inputs are
    /// handled, before it writes or sleeps (the next client input also takes them along).
    pub fn poll_timeout(&self) -> Option<Timestamp> {
        if !self.h2_dirty.is_empty() {
            return Some(self.earliest.map_or(self.now, |t| t.min(self.now)));
        }
        self.earliest
    }

    /// [`Worker::handle_timeout`] if [`Worker::poll_timeout`] is due at `now`; whether it
    /// was. Adapters call it once the inputs of a turn are handled, before writing or
    /// sleeping.
    pub fn handle_due(&mut self, now: Timestamp) -> bool {
        let due = self.poll_timeout().is_some_and(|t| t <= now);
        if due {
            self.handle_timeout(now);
        }
        due
    }

    pub(super) fn note_deadline(&mut self, t: Option<Timestamp>) {
        if let Some(t) = t {
            self.earliest = Some(self.earliest.map_or(t, |e| e.min(t)));
        }
    }

    /// Arms the idle timeout of a client connection that waits for its next request.
    pub(super) fn arm_idle(&mut self, id: ConnId) {
        let now = self.now;
        let Some(d) = self.down.get_mut(&id) else {
            return;
        };
        let idle = self.config.entry_points.get(d.ep).map(|e| e.idle_timeout);
        let deadline = idle.filter(|t| t.0 > 0).map(|t| now.after(t));
        d.deadline = deadline;
        d.input.trim_idle();
        // The response is written: writeTimeout no longer applies.
        d.write_deadline = None;
        self.note_deadline(deadline);
    }

    /// Queues an observation; the oldest are dropped beyond a bound, so an adapter that does not
    /// poll events cannot make memory grow.
    pub(super) fn record(&mut self, event: Event) {
        if !self.access_records {
            return;
        }
        if self.events.len() >= MAX_EVENTS {
            self.events.pop_front();
        }
        self.events.push_back(event);
    }

    /// The next observation (access records), until `None`.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// Queues application bytes to a connection (encrypted first on a TLS client connection).
    /// Owned or shared bytes: shared ones (kept elsewhere too) are not copied on a plain
    /// connection.
    pub(super) fn send<D: Chunk>(&mut self, conn: ConnId, data: D) {
        if data.as_ref().is_empty() {
            return;
        }
        let sealed = match self.down.get_mut(&conn).map(|d| &mut d.transport) {
            Some(Transport::Stream(_)) => return self.stream_send(conn, data.as_ref()),
            Some(Transport::Tls(tls)) => {
                let data = data.as_ref();
                let mut sealed = Vec::with_capacity(data.len() + 64);
                tls.seal(data, &mut sealed);
                sealed
            }
            _ => match self.up.get_mut(&conn).map(|u| (&u.mux, u.tls.as_mut())) {
                Some((super::h2up::Mux::Stream(_), _)) => {
                    return self.stream_up_send(conn, data.as_ref())
                }
                Some((_, Some(tls))) => {
                    let data = data.as_ref();
                    let mut sealed = Vec::with_capacity(data.len() + 64);
                    tls.seal(data, &mut sealed);
                    sealed
                }
                _ => return self.send_raw(conn, data),
            },
        };
        self.send_raw(conn, sealed);
    }

    /// Queues body bytes to a client or a backend, as one chunk when `chunked`. Over plain TCP
    /// the chunk's data goes as it is, between its size line and CRLF (written together by
    /// one vectored write); over TLS or HTTP/2 the chunk is framed in one piece.
    pub(super) fn send_body<D: Chunk>(&mut self, conn: ConnId, body: D, chunked: bool) {
        if !chunked {
            return self.send(conn, body);
        }
        let len = body.as_ref().len();
        if len == 0 {
            return;
        }
        let plain = match self.down.get(&conn) {
            Some(d) => matches!(d.transport, Transport::Plain),
            None => self
                .up
                .get(&conn)
                .is_some_and(|u| u.tls.is_none() && matches!(u.mux, super::h2up::Mux::None)),
        };
        if plain {
            let mut line = Vec::with_capacity(18);
            crate::h1::chunk_size_line(len, &mut line);
            self.send_raw(conn, line);
            self.send_raw(conn, body);
            self.send_raw(conn, Bytes::from_static(b"\r\n"));
        } else {
            self.send(conn, crate::h1::frame_body(body.as_ref(), true));
        }
    }

    /// Queues bytes to a connection as they are.
    pub(super) fn send_raw<D: Chunk>(&mut self, conn: ConnId, data: D) {
        let len = data.as_ref().len();
        if len == 0 {
            return;
        }
        if let Some(d) = self.down.get_mut(&conn) {
            d.unacked += len;
        } else if let Some(u) = self.up.get_mut(&conn) {
            u.unacked += len;
        }
        // Small writes to the connection of the previous output go out with it (a response
        // head and a small body in one write, not two).
        if let Some(Output::Send {
            conn: last,
            data: queued,
        }) = self.out.back_mut()
        {
            if *last == conn && queued.len() + len <= MERGE_WRITES_UP_TO {
                // The queued bytes are ours alone (nothing else holds them yet): extended in
                // place when their buffer allows, else copied once.
                let merged = match std::mem::take(queued).try_into_mut() {
                    Ok(mut own) => {
                        own.extend_from_slice(data.as_ref());
                        own.freeze()
                    }
                    Err(shared) => {
                        let mut merged = Vec::with_capacity(shared.len() + len);
                        merged.extend_from_slice(&shared);
                        merged.extend_from_slice(data.as_ref());
                        Bytes::from(merged)
                    }
                };
                *queued = merged;
                return;
            }
        }
        self.out.push_back(Output::Send {
            conn,
            data: data.into_bytes(),
        });
    }

    pub(super) fn pause(&mut self, conn: ConnId) {
        self.set_paused(conn, true);
    }

    pub(super) fn resume(&mut self, conn: ConnId) {
        self.set_paused(conn, false);
    }

    /// Stops or restarts reading `conn`: a real socket through the adapter (once per change),
    /// a virtual connection through the flow control of its HTTP/2 stream.
    fn set_paused(&mut self, conn: ConnId, paused: bool) {
        let (was, stream) = if let Some(d) = self.down.get_mut(&conn) {
            let stream = matches!(d.transport, Transport::Stream(_));
            (std::mem::replace(&mut d.paused, paused), stream)
        } else if let Some(u) = self.up.get_mut(&conn) {
            if matches!(u.mux, super::h2up::Mux::Stream(_)) {
                u.paused = paused;
                return self.stream_up_pause(conn, paused);
            }
            (std::mem::replace(&mut u.paused, paused), false)
        } else {
            return;
        };
        if stream {
            self.stream_pause(conn, paused);
        } else if was != paused {
            self.out.push_back(if paused {
                Output::PauseRead { conn }
            } else {
                Output::ResumeRead { conn }
            });
        }
    }

    /// The peer of `conn` in its transaction or tunnel.
    pub(super) fn partner(&self, conn: ConnId) -> Option<ConnId> {
        if let Some(d) = self.down.get(&conn) {
            return match &d.state {
                DState::Active(t) => t.up,
                DState::Tunnel(u) => Some(*u),
                DState::Head | DState::Discard(_) | DState::Linger | DState::Delayed(_) => None,
            };
        }
        self.up.get(&conn).and_then(|u| u.down)
    }

    fn writable(&mut self, conn: ConnId) {
        if let Some(d) = self.down.get_mut(&conn) {
            d.unacked = 0;
            if d.h2.is_some() {
                self.mark_h2(conn);
                return;
            }
        } else if let Some(u) = self.up.get_mut(&conn) {
            u.unacked = 0;
            if matches!(u.mux, super::h2up::Mux::Session(_)) {
                self.mark_h2(conn);
                return;
            }
        } else {
            return;
        }
        if let Some(p) = self.partner(conn) {
            self.resume(p);
            if self.up_has_pending_output(p) {
                let now = self.now;
                self.drive_up(now, p);
            }
        }
    }

    pub(super) fn close_down(&mut self, id: ConnId) {
        if let Some(mut d) = super::io::remove_shrinking(&mut self.down, &id) {
            // An exchange cut off is logged with what the client got. A client that left
            // before the answer is logged as Traefik's handlers answer a canceled request
            // (checked with Traefik 3.7.15): the proxy's 499 with its status text, the
            // `forwardAuth` wait's bodiless 499, the `rateLimit` delay's 500 with
            // `context canceled`.
            let cut = match &mut d.state {
                DState::Active(txn) => match txn.access.take() {
                    Some(a) => Some((
                        a,
                        txn.resp
                            .as_ref()
                            .map_or((499, crate::http::status_text(499).len() as u64), |r| {
                                (r.status, r.sent_body())
                            }),
                    )),
                    None => txn
                        .extra
                        .as_mut()
                        .and_then(|x| x.auth.as_mut())
                        .and_then(|w| w.routed.access.take())
                        .map(|a| (a, (499, 0))),
                },
                DState::Delayed(delayed) => delayed
                    .routed
                    .access
                    .take()
                    .map(|a| (a, (500, "context canceled\n".len() as u64))),
                _ => None,
            };
            if let Some((a, (status, size))) = cut {
                let now = self.now;
                self.record(Event::Access(*a.end(status, size, now)));
            }
            if let Transport::Stream(_) = &d.transport {
                return self.stream_closed(&d);
            }
            if let Some(h2) = d.h2.take() {
                for vid in h2.streams.into_values() {
                    self.abort_down(vid);
                }
            }
            let mut alert = Vec::new();
            if let Transport::Tls(tls) = &mut d.transport {
                tls.close_notify(&mut alert);
            }
            self.close_with(id, alert);
        }
    }

    /// Queues the last bytes of a connection (a TLS `close_notify`, when any), then its close.
    fn close_with(&mut self, id: ConnId, last: Vec<u8>) {
        if !last.is_empty() {
            self.out.push_back(Output::Send {
                conn: id,
                data: Bytes::from(last),
            });
        }
        self.out.push_back(Output::Close { conn: id });
    }

    /// Takes the connections `ids` (sorted) out of their pools in one pass over each pool, for
    /// closing many at once: one by one, each would scan its pool.
    pub(super) fn unpool(&mut self, ids: &[ConnId]) {
        let mut any = false;
        for id in ids {
            if let Some(u) = self.up.get_mut(id) {
                any |= std::mem::take(&mut u.pooled);
            }
        }
        if any {
            for pool in self.pools.values_mut() {
                pool.retain(|c| ids.binary_search(c).is_err());
            }
        }
    }

    pub(super) fn close_up(&mut self, id: ConnId) {
        if let Some(mut u) = super::io::remove_shrinking(&mut self.up, &id) {
            if let super::h2up::Mux::Stream(st) = &u.mux {
                // A virtual upstream: only its stream ends.
                return self.stream_up_closed(st, id);
            }
            if u.pooled {
                if let Some(pool) = self.pools.get_mut(&u.key) {
                    pool.retain(|c| *c != id);
                }
            }
            self.forget_dial(&u.key, id);
            let mut alert = Vec::new();
            if let Some(tls) = u.tls.as_mut() {
                tls.close_notify(&mut alert);
            }
            self.close_with(id, alert);
            if matches!(u.mux, super::h2up::Mux::Session(_)) {
                let now = self.now;
                self.session_closed(now, id, u);
            }
        }
    }

    /// `id` is no longer a dial a request could be taken from.
    pub(super) fn forget_dial(&mut self, key: &ServerKey, id: ConnId) {
        if let Some(dials) = self.dialing.get_mut(key) {
            dials.retain(|c| *c != id);
            if dials.is_empty() {
                self.dialing.remove(key);
            }
        }
    }

    /// Closes a downstream connection and its upstream partner at once.
    pub(super) fn abort_down(&mut self, id: ConnId) {
        if let Some(p) = self.partner(id) {
            self.close_up(p);
        }
        self.close_down(id);
    }

    fn begin_shutdown(&mut self) {
        self.shutting_down = true;
        let mut idle: Vec<ConnId> = self
            .down
            .iter()
            .filter(|(_, d)| {
                matches!(d.state, DState::Head)
                    && d.input.is_empty()
                    && d.h2.is_none()
                    && !matches!(d.transport, Transport::Stream(_))
            })
            .map(|(id, _)| *id)
            .collect();
        idle.sort_unstable();
        for id in idle {
            self.close_down(id);
        }
        // HTTP/2 connections say GOAWAY and close once their streams are done.
        let mut h2: Vec<ConnId> = self
            .down
            .iter_mut()
            .filter_map(|(id, d)| {
                d.h2.as_mut().map(|h| {
                    h.server.graceful_shutdown();
                    *id
                })
            })
            .collect();
        h2.sort_unstable();
        for id in h2 {
            self.mark_h2(id);
        }
        let mut idle_up: Vec<ConnId> = self
            .up
            .iter()
            .filter(|(_, u)| u.state == UState::Idle)
            .map(|(id, _)| *id)
            .collect();
        idle_up.sort_unstable();
        self.unpool(&idle_up);
        for id in idle_up {
            self.close_up(id);
        }
        // HTTP/2 sessions without streams close now, the others when their last one ends.
        let mut idle_sessions: Vec<ConnId> = self
            .up
            .iter()
            .filter(|(_, u)| {
                matches!(&u.mux, super::h2up::Mux::Session(s) if s.streams.is_empty() && s.waiting.is_empty())
            })
            .map(|(id, _)| *id)
            .collect();
        idle_sessions.sort_unstable();
        for id in idle_sessions {
            self.close_up(id);
        }
    }

    pub(super) fn connect_error_status(error: &ConnectError) -> u16 {
        match error {
            ConnectError::TimedOut => 504,
            ConnectError::Failed(_) => 502,
        }
    }
}
