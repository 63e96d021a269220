//! TCP routing of client connections, as Traefik's TCP router serves them
//! (`pkg/server/router/tcp/router.go`, `pkg/tcp/proxy.go`).
//!
//! On an entry point with TCP routers, a connection's first bytes are read before it is given
//! to HTTP: with routers without TLS only (and no HTTPS router), a matching one takes the
//! connection at once, before the client sends anything (server-first protocols); otherwise
//! a TLS ClientHello is read whole (its server name and ALPN protocols) and the connection
//! goes to, in Traefik's order: an HTTPS router naming its server name, a TLS router other
//! than the catch-all `HostSNI(*)`, an HTTPS router without `Host`, the TLS catch-all, then
//! HTTPS (404s). Anything else than a ClientHello goes to a router without TLS that matches,
//! else to HTTP. A Postgres `SSLRequest` is answered `S` here, as Traefik does, and the
//! ClientHello that follows goes to a TLS router (passthrough servers are asked for STARTTLS
//! in turn), or the connection closes.
//!
//! A routed connection leaves the HTTP tables: it becomes one end of a [`TcpEnd`] pair with
//! the server connection the router's service picked. Bytes go both ways (decrypted first
//! when the router terminates TLS, encrypted for servers with `tls`), with backpressure. When
//! one end finishes sending, the other is half-closed and has `terminationDelay` to finish
//! (Go's `CloseWrite` and read deadline); then both close.

use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;

use crate::rule::TcpConnView;
use crate::tls::{ChosenOptions, ClientTls, Received, ServerTls};

use super::io::{ConnId, Output, Timestamp};
use super::tcp_router::{InFlightConn, TcpHandler, TcpMiddleware, TcpTls};
use super::tcp_service::TcpServer;
use super::worker::{ConnMap, Transport, Worker, HIGH_WATER};

/// The first bytes of a ClientHello kept while it is incomplete, at most (a ClientHello is a
/// few hundred bytes; the largest legal one is 64 KiB plus record headers).
const MAX_HELLO: usize = 70 * 1024;

/// Postgres' `SSLRequest`, which Traefik answers itself (see [`Worker::tcp_sniff`]).
const POSTGRES_SSL_REQUEST: [u8; 8] = [0, 0, 0, 8, 4, 0xd2, 0x16, 0x2f];

/// The TLS layer of one end.
enum EndTls {
    None,
    /// The client's connection, TLS terminated here.
    Server(Box<ServerTls>),
    /// The server's connection with `tls: true`.
    Client(Box<ClientTls>),
}

/// One end of a TCP-routed pair: the client's connection or the server's.
pub(super) struct TcpEnd {
    /// The other end.
    peer: ConnId,
    tls: EndTls,
    /// Server end: dialling (bytes for it wait in `waiting`).
    connecting: bool,
    /// Server end with TLS: the handshake is not done (bytes for it wait in `waiting`).
    handshaking: bool,
    /// Server end of a Postgres STARTTLS passthrough: its `S` to the `SSLRequest` is awaited
    /// (and dropped; anything else closes the pair) before the client's bytes go.
    awaiting_s: bool,
    /// Plaintext for this end held until it can be sent.
    waiting: Vec<Bytes>,
    /// Server end: the PROXY header, sent first once connected (before any TLS).
    preamble: Option<Bytes>,
    /// Bytes queued to the adapter and not reported written.
    unacked: usize,
    paused: bool,
    /// This end finished sending (its EOF or `close_notify` was read).
    done: bool,
    /// This end was half-closed (its writing side shut down).
    shut: bool,
    /// Half-close this end once `waiting` is sent.
    shut_when_sent: bool,
    deadline: Option<Timestamp>,
    /// `terminationDelay` of the pair's server transport (`None`: wait).
    delay: Option<crate::config::Duration>,
    /// Client end: the `inFlightConn` places the connection holds.
    _held: Vec<InFlightConn>,
}

impl TcpEnd {
    fn new(peer: ConnId, delay: Option<crate::config::Duration>) -> Self {
        TcpEnd {
            peer,
            tls: EndTls::None,
            connecting: false,
            handshaking: false,
            awaiting_s: false,
            waiting: Vec::new(),
            preamble: None,
            unacked: 0,
            paused: false,
            done: false,
            shut: false,
            shut_when_sent: false,
            deadline: None,
            delay,
            _held: Vec::new(),
        }
    }

    fn waits(&self) -> bool {
        self.connecting || self.handshaking || self.awaiting_s
    }
}

/// Every TCP-routed connection of a worker, both ends.
#[derive(Default)]
pub(super) struct TcpEnds {
    ends: ConnMap<TcpEnd>,
}

impl TcpEnds {
    /// Whether `conn` is a TCP-routed connection.
    pub fn contains(&self, conn: ConnId) -> bool {
        self.ends.contains_key(&conn)
    }

    /// Connections.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// The earliest deadline.
    pub fn earliest(&self) -> Option<Timestamp> {
        self.ends.values().filter_map(|e| e.deadline).min()
    }
}

/// What a connection's first bytes decided.
enum Sniffed {
    /// More bytes are needed.
    NeedMore,
    /// Not a ClientHello (or a broken one: closed).
    Close,
    /// HTTP without TLS.
    Http,
    /// HTTPS.
    Https,
    /// A TCP router.
    Tcp(Arc<TcpHandler>),
    /// A Postgres `SSLRequest`: answered here, the ClientHello follows.
    Postgres,
}

impl Worker {
    /// The entry point's TCP routers, when it has any.
    fn tcp_routes(&self, ep: usize) -> Option<Arc<super::tcp_router::TcpEntryRoutes>> {
        self.config.entry_points.get(ep)?.tcp.clone()
    }

    /// A connection ready for its first bytes (accepted, or its PROXY header read): with
    /// routers without TLS only on its entry point (and no HTTPS router), a matching one takes
    /// it before the client sends anything. Returns whether one did.
    pub(super) fn tcp_accepted(&mut self, now: Timestamp, id: ConnId) -> bool {
        let Some(d) = self.down.get(&id) else {
            return false;
        };
        let Some(routes) = self.tcp_routes(d.ep) else {
            return false;
        };
        let https = self
            .config
            .entry_points
            .get(d.ep)
            .is_some_and(|e| e.tls.https_routes);
        if routes.plain_handlers.is_empty() || !routes.tls_handlers.is_empty() || https {
            return false;
        }
        let view = TcpConnView {
            sni: "",
            client_ip: Some(d.peer.ip()),
            alpn: &[],
        };
        let Some((handler, _)) = routes.find_plain(&view) else {
            return false;
        };
        let handler = Arc::clone(handler);
        self.tcp_start(now, id, handler, Vec::new(), false);
        true
    }

    /// First bytes of a connection on an entry point with TCP routers: kept until they decide
    /// where it goes.
    pub(super) fn tcp_sniff(&mut self, now: Timestamp, id: ConnId, data: &[u8]) {
        let Some(d) = self.down.get_mut(&id) else {
            return;
        };
        d.input.receive_slice(data);
        let ep = d.ep;
        let Some(routes) = self.tcp_routes(ep) else {
            return;
        };
        let Some(d) = self.down.get(&id) else {
            return;
        };
        let ep_tls = self.config.entry_points.get(d.ep).map(|e| &e.tls);
        let buf = d.input.bytes();
        let peer_ip = d.peer.ip();
        let postgres = matches!(d.transport, Transport::PostgresHello);
        // The ClientHello's name and protocols, once it is here whole.
        let hello = |buf: &[u8]| match client_hello(buf) {
            Hello::NeedMore if buf.len() <= MAX_HELLO => Err(Sniffed::NeedMore),
            Hello::NeedMore | Hello::Broken => Err(Sniffed::Close),
            Hello::Read { sni, alpn } => Ok((sni, alpn)),
        };
        let tls_route = |sni: &str, alpn: &[Vec<u8>]| {
            let alpn: Vec<&[u8]> = alpn.iter().map(Vec::as_slice).collect();
            let view = TcpConnView {
                sni,
                client_ip: Some(peer_ip),
                alpn: &alpn,
            };
            routes
                .find_tls(&view)
                .map(|(h, catch_all)| (Arc::clone(h), catch_all))
        };
        let tls_start = |b: &[u8]| b.first() == Some(&0x16) || b.first() == Some(&0x80);
        let decided = if postgres {
            // After a Postgres `SSLRequest`, only a ClientHello for a TLS router goes on.
            match hello(buf) {
                _ if buf.is_empty() => Sniffed::NeedMore,
                _ if !tls_start(buf) => Sniffed::Close,
                Err(s) => s,
                Ok((sni, alpn)) => match tls_route(&sni, &alpn) {
                    Some((h, _)) => Sniffed::Tcp(h),
                    None => Sniffed::Close,
                },
            }
        } else if buf.len() < POSTGRES_SSL_REQUEST.len() && POSTGRES_SSL_REQUEST.starts_with(buf) {
            Sniffed::NeedMore
        } else if buf.starts_with(&POSTGRES_SSL_REQUEST) {
            Sniffed::Postgres
        } else if tls_start(buf) {
            match hello(buf) {
                Err(s) => s,
                Ok((sni, alpn)) => {
                    let canonical = crate::rule::host::canonical_sni(&sni);
                    let https_host = ep_tls.is_some_and(|t| t.host(&canonical).is_some());
                    let https_any = ep_tls.is_some_and(|t| t.https_catch_all);
                    match tls_route(&sni, &alpn) {
                        _ if https_host => Sniffed::Https,
                        Some((h, false)) => Sniffed::Tcp(h),
                        _ if https_any => Sniffed::Https,
                        Some((h, true)) => Sniffed::Tcp(h),
                        None => Sniffed::Https,
                    }
                }
            }
        } else {
            let view = TcpConnView {
                sni: "",
                client_ip: Some(peer_ip),
                alpn: &[],
            };
            match routes.find_plain(&view) {
                Some((h, _)) => Sniffed::Tcp(Arc::clone(h)),
                None => Sniffed::Http,
            }
        };
        match decided {
            Sniffed::NeedMore => {}
            Sniffed::Close => self.close_down(id),
            Sniffed::Postgres => {
                // Traefik answers the STARTTLS request itself, then routes the ClientHello.
                let Some(d) = self.down.get_mut(&id) else {
                    return;
                };
                d.transport = Transport::PostgresHello;
                let mut rest = d.input.take_vec();
                rest.drain(..POSTGRES_SSL_REQUEST.len());
                self.send_raw(id, &b"S"[..]);
                self.tcp_sniff(now, id, &rest);
            }
            Sniffed::Http | Sniffed::Https => {
                let Some(d) = self.down.get_mut(&id) else {
                    return;
                };
                let first = d.input.take_vec();
                if matches!(decided, Sniffed::Https) {
                    d.transport = Transport::Tls(Box::default());
                    self.down_received(now, id, Bytes::from(first));
                } else {
                    d.transport = Transport::Plain;
                    self.down_plaintext(now, id, Bytes::from(first));
                }
            }
            Sniffed::Tcp(handler) => {
                let first = self
                    .down
                    .get_mut(&id)
                    .map(|d| d.input.take_vec())
                    .unwrap_or_default();
                self.tcp_start(now, id, handler, first, postgres);
            }
        }
    }

    /// Hands client connection `id` to a TCP router: its middlewares, then a server of its
    /// service, dialled; `first` are the bytes read so far (a ClientHello, ...). After a
    /// Postgres `SSLRequest` (`postgres`), a passthrough server is asked for STARTTLS as the
    /// client asked, before the client's TLS bytes go to it.
    fn tcp_start(
        &mut self,
        now: Timestamp,
        id: ConnId,
        handler: Arc<TcpHandler>,
        first: Vec<u8>,
        postgres: bool,
    ) {
        let Some(d) = super::io::remove_shrinking(&mut self.down, &id) else {
            return;
        };
        let close = |w: &mut Worker| w.out.push_back(Output::Close { conn: id });
        // Middlewares, in order: a refused connection is closed.
        let mut held = Vec::new();
        for m in &handler.middlewares {
            let ok = match m {
                TcpMiddleware::AllowList(checker) => checker.contains(d.peer.ip()),
                TcpMiddleware::InFlight(counts) => match counts.acquire(d.peer.ip()) {
                    Some(place) => {
                        held.push(place);
                        true
                    }
                    None => false,
                },
            };
            if !ok {
                return close(self);
            }
        }
        let Some(server) = handler.service.as_ref().and_then(|s| s.pick()) else {
            // Broken TLS options, or no server to pick: closed.
            return close(self);
        };
        let Some(port) = server.port else {
            return close(self);
        };
        let transport = Arc::clone(&server.transport);
        let mut client = TcpEnd::new(ConnId(0), transport.termination_delay);
        client._held = held;
        let first_plain;
        if let Some(TcpTls::Terminate(options)) = &handler.tls {
            let mut tls = Box::new(ServerTls::new());
            let mut got = Received::default();
            let options: ChosenOptions = options.clone();
            tls.receive(&first, move |_| options, &mut got);
            if !got.ciphertext.is_empty() {
                self.out.push_back(Output::Send {
                    conn: id,
                    data: Bytes::from(got.ciphertext),
                });
            }
            if got.failed {
                return close(self);
            }
            first_plain = got.plaintext;
            client.done = got.peer_closed;
            client.tls = EndTls::Server(tls);
        } else {
            first_plain = first;
        }
        // The server's end.
        let up = self.alloc();
        client.peer = up;
        let mut server_end = TcpEnd::new(id, transport.termination_delay);
        server_end.connecting = true;
        let deadline = now.after(transport.dial_timeout);
        server_end.deadline = (transport.dial_timeout.0 > 0).then_some(deadline);
        self.note_deadline(server_end.deadline);
        if server.tls {
            let made = transport
                .tls
                .as_ref()
                .ok_or_else(String::new)
                .and_then(|t| ClientTls::new(t, &server.host, false));
            match made {
                Ok(tls) => {
                    server_end.tls = EndTls::Client(Box::new(tls));
                    server_end.handshaking = true;
                }
                Err(_) => return close(self),
            }
        }
        // The PROXY header goes first, before any TLS (Go's dialer writes it on the raw
        // connection).
        if let Some(version) = transport.proxy_protocol {
            let local = d.local.unwrap_or(SocketAddr::from(([0, 0, 0, 0], 0)));
            server_end.preamble = Some(Bytes::from(proxy_header(version, d.peer, local)));
        }
        if postgres && matches!(handler.tls, Some(TcpTls::Passthrough)) {
            let mut preamble = server_end
                .preamble
                .take()
                .map(Vec::from)
                .unwrap_or_default();
            preamble.extend_from_slice(&POSTGRES_SSL_REQUEST);
            server_end.preamble = Some(Bytes::from(preamble));
            server_end.awaiting_s = true;
        }
        let host = proxy_host(&server);
        self.tcp.ends.insert(id, client);
        self.tcp.ends.insert(up, server_end);
        self.out.push_back(Output::Connect {
            conn: up,
            host,
            port,
        });
        if !first_plain.is_empty() {
            self.tcp_forward(id, Bytes::from(first_plain));
        }
        let client_done = self.tcp.ends.get(&id).is_some_and(|e| e.done);
        if client_done {
            self.tcp_end_done(id);
        }
    }

    /// Bytes read from a TCP-routed connection.
    pub(super) fn tcp_received(&mut self, id: ConnId, data: Bytes) {
        let Some(end) = self.tcp.ends.get_mut(&id) else {
            return;
        };
        let mut got = Received::default();
        let mut plain = match &mut end.tls {
            EndTls::None => super::inbox::detached(data),
            EndTls::Server(tls) => {
                tls.receive(&data, |_| None, &mut got);
                Bytes::from(std::mem::take(&mut got.plaintext))
            }
            EndTls::Client(tls) => {
                tls.receive(&data, &mut got);
                let finished = end.handshaking && !tls.is_handshaking() && !got.failed;
                if finished {
                    end.handshaking = false;
                    end.deadline = None;
                }
                Bytes::from(std::mem::take(&mut got.plaintext))
            }
        };
        if !got.ciphertext.is_empty() {
            self.tcp_queue(id, Bytes::from(std::mem::take(&mut got.ciphertext)));
        }
        if got.failed {
            return self.tcp_close(id);
        }
        if let Some(end) = self.tcp.ends.get_mut(&id).filter(|e| e.awaiting_s) {
            // The server's answer to the Postgres STARTTLS request the client made here.
            match plain.first() {
                None => {}
                Some(b'S') => {
                    end.awaiting_s = false;
                    bytes::Buf::advance(&mut plain, 1);
                }
                Some(_) => return self.tcp_close(id),
            }
        }
        self.tcp_send_waiting(id);
        if !plain.is_empty() {
            self.tcp_forward(id, plain);
        }
        if got.peer_closed {
            self.tcp_eof(id);
        }
    }

    /// Sends plaintext read from `from` to its peer (held while the peer is not ready).
    fn tcp_forward(&mut self, from: ConnId, data: Bytes) {
        let Some(to) = self.tcp.ends.get(&from).map(|e| e.peer) else {
            return;
        };
        let Some(peer) = self.tcp.ends.get_mut(&to) else {
            return;
        };
        let queued = if peer.waits() {
            peer.waiting.push(data);
            peer.waiting.iter().map(Bytes::len).sum::<usize>()
        } else {
            self.tcp_write(to, data);
            self.tcp.ends.get(&to).map_or(0, |e| e.unacked)
        };
        if queued > HIGH_WATER {
            self.tcp_pause(from, true);
        }
    }

    /// Queues plaintext to `to`, sealed when it speaks TLS.
    fn tcp_write(&mut self, to: ConnId, data: Bytes) {
        let Some(end) = self.tcp.ends.get_mut(&to) else {
            return;
        };
        let sealed = match &mut end.tls {
            EndTls::None => data,
            EndTls::Server(tls) => {
                let mut out = Vec::with_capacity(data.len() + 64);
                tls.seal(&data, &mut out);
                Bytes::from(out)
            }
            EndTls::Client(tls) => {
                let mut out = Vec::with_capacity(data.len() + 64);
                tls.seal(&data, &mut out);
                Bytes::from(out)
            }
        };
        self.tcp_queue(to, sealed);
    }

    /// Queues bytes to a connection as they are.
    fn tcp_queue(&mut self, conn: ConnId, data: Bytes) {
        if data.is_empty() {
            return;
        }
        if let Some(end) = self.tcp.ends.get_mut(&conn) {
            end.unacked += data.len();
        }
        self.out.push_back(Output::Send { conn, data });
    }

    /// Sends what waited for `id` once it is connected and its handshake done, then its
    /// half-close if one waited too.
    fn tcp_send_waiting(&mut self, id: ConnId) {
        let Some(end) = self.tcp.ends.get_mut(&id) else {
            return;
        };
        if end.waits() {
            return;
        }
        let waiting = std::mem::take(&mut end.waiting);
        let shut = std::mem::take(&mut end.shut_when_sent);
        let peer = end.peer;
        for data in waiting {
            self.tcp_write(id, data);
        }
        if shut {
            self.tcp_shut(id);
        }
        // The peer may have been paused on what waited.
        let unacked = self.tcp.ends.get(&id).map_or(0, |e| e.unacked);
        if unacked <= HIGH_WATER {
            self.tcp_pause(peer, false);
        }
    }

    fn tcp_pause(&mut self, conn: ConnId, paused: bool) {
        let Some(end) = self.tcp.ends.get_mut(&conn) else {
            return;
        };
        if std::mem::replace(&mut end.paused, paused) != paused {
            self.out.push_back(if paused {
                Output::PauseRead { conn }
            } else {
                Output::ResumeRead { conn }
            });
        }
    }

    /// The adapter wrote everything queued to `id`: its peer reads again.
    pub(super) fn tcp_writable(&mut self, id: ConnId) {
        let Some(end) = self.tcp.ends.get_mut(&id) else {
            return;
        };
        end.unacked = 0;
        let peer = end.peer;
        self.tcp_pause(peer, false);
    }

    /// The server's connection is established: the PROXY header, the TLS ClientHello or the
    /// bytes that waited go out.
    pub(super) fn tcp_connected(&mut self, id: ConnId) {
        let Some(end) = self.tcp.ends.get_mut(&id) else {
            return;
        };
        end.connecting = false;
        let preamble = end.preamble.take();
        let mut hello = Vec::new();
        if let EndTls::Client(tls) = &mut end.tls {
            // The ClientHello; what the client sent waits for the handshake, which the dial
            // timeout still bounds.
            tls.flush(&mut hello);
        } else {
            end.deadline = None;
        }
        if let Some(header) = preamble {
            self.tcp_queue(id, header);
        }
        self.tcp_queue(id, Bytes::from(hello));
        self.tcp_send_waiting(id);
    }

    /// The server's connection could not be established: the client's is closed (the failed
    /// one is the adapter's already, no `Close` for it).
    pub(super) fn tcp_connect_failed(&mut self, id: ConnId) {
        if let Some(end) = super::io::remove_shrinking(&mut self.tcp.ends, &id) {
            self.tcp_close(end.peer);
        }
    }

    /// `id` finished sending (EOF or `close_notify`): its peer is half-closed and has the
    /// termination delay to finish; once both have, the pair closes.
    pub(super) fn tcp_eof(&mut self, id: ConnId) {
        let Some(end) = self.tcp.ends.get_mut(&id) else {
            return;
        };
        if end.done {
            return;
        }
        end.done = true;
        self.tcp_end_done(id);
    }

    fn tcp_end_done(&mut self, id: ConnId) {
        let Some(end) = self.tcp.ends.get(&id) else {
            return;
        };
        let peer = end.peer;
        let Some(p) = self.tcp.ends.get_mut(&peer) else {
            return self.tcp_close(id);
        };
        if p.done {
            return self.tcp_close(id);
        }
        if p.waits() {
            p.shut_when_sent = true;
        } else {
            self.tcp_shut(peer);
        }
    }

    /// Half-closes `id` (a `close_notify` over TLS, Go's `tls.Conn.CloseWrite`, else a FIN),
    /// which then has the termination delay to finish sending (Go's read deadline on it).
    fn tcp_shut(&mut self, id: ConnId) {
        let now = self.now;
        let Some(end) = self.tcp.ends.get_mut(&id) else {
            return;
        };
        if std::mem::replace(&mut end.shut, true) {
            return;
        }
        if let Some(delay) = end.delay {
            let deadline = now.after(delay);
            end.deadline = Some(end.deadline.map_or(deadline, |t| t.min(deadline)));
            self.note_deadline(Some(deadline));
        }
        let Some(end) = self.tcp.ends.get_mut(&id) else {
            return;
        };
        let mut alert = Vec::new();
        match &mut end.tls {
            EndTls::None => {
                self.out.push_back(Output::ShutdownWrite { conn: id });
                return;
            }
            EndTls::Server(tls) => tls.close_notify(&mut alert),
            EndTls::Client(tls) => tls.close_notify(&mut alert),
        }
        self.tcp_queue(id, Bytes::from(alert));
    }

    /// A deadline of `id` passed: its dial, or the termination delay. The pair closes.
    pub(super) fn tcp_timeouts(&mut self, now: Timestamp) {
        let mut due: Vec<ConnId> = (self.tcp.ends.iter())
            .filter(|(_, e)| e.deadline.is_some_and(|t| t <= now))
            .map(|(id, _)| *id)
            .collect();
        due.sort_unstable();
        for id in due {
            self.tcp_close(id);
        }
    }

    /// Closes both ends of the pair `id` belongs to (TLS ends say `close_notify` first, as
    /// Go's `Close` does).
    pub(super) fn tcp_close(&mut self, id: ConnId) {
        let peer = self.tcp.ends.get(&id).map(|e| e.peer);
        for conn in std::iter::once(id).chain(peer) {
            let Some(mut end) = super::io::remove_shrinking(&mut self.tcp.ends, &conn) else {
                continue;
            };
            let mut alert = Vec::new();
            if !end.shut {
                match &mut end.tls {
                    EndTls::None => {}
                    EndTls::Server(tls) => tls.close_notify(&mut alert),
                    EndTls::Client(tls) if !end.connecting => tls.close_notify(&mut alert),
                    EndTls::Client(_) => {}
                }
            }
            if !alert.is_empty() {
                self.out.push_back(Output::Send {
                    conn,
                    data: Bytes::from(alert),
                });
            }
            self.out.push_back(Output::Close { conn });
        }
    }
}

/// The v2 PROXY header's signature.
const PP2_SIG: [u8; 12] = [
    0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a,
];

/// The host to dial: an empty one is the local system, as Go's dialer takes it.
fn proxy_host(server: &TcpServer) -> String {
    if server.host.is_empty() {
        "127.0.0.1".into()
    } else {
        server.host.to_string()
    }
}

/// A PROXY protocol header (go-proxyproto's `HeaderProxyFromAddrs`): v1 text or v2 binary,
/// `TCP4`/`TCP6` by the client's address family (IPv4 addresses of the other family mapped).
pub fn proxy_header(version: u8, source: SocketAddr, destination: SocketAddr) -> Vec<u8> {
    use std::net::IpAddr;
    let v6 = |ip: IpAddr| match ip {
        IpAddr::V4(v4) => v4.to_ipv6_mapped(),
        IpAddr::V6(v6) => v6,
    };
    let v4 = |ip: IpAddr| match ip {
        IpAddr::V4(v4) => Some(v4),
        IpAddr::V6(v6) => v6.to_ipv4_mapped(),
    };
    let four = match (source.ip(), v4(destination.ip())) {
        (IpAddr::V4(s), Some(d)) => Some((s, d)),
        _ => None,
    };
    if version == 1 {
        return match four {
            Some((s, d)) => format!(
                "PROXY TCP4 {s} {d} {} {}\r\n",
                source.port(),
                destination.port()
            ),
            None => format!(
                "PROXY TCP6 {} {} {} {}\r\n",
                v6(source.ip()),
                v6(destination.ip()),
                source.port(),
                destination.port()
            ),
        }
        .into_bytes();
    }
    let mut out = PP2_SIG.to_vec();
    out.push(0x21); // version 2, PROXY
    match four {
        Some((s, d)) => {
            out.push(0x11); // TCP over IPv4
            out.extend_from_slice(&12u16.to_be_bytes());
            out.extend_from_slice(&s.octets());
            out.extend_from_slice(&d.octets());
        }
        None => {
            out.push(0x21); // TCP over IPv6
            out.extend_from_slice(&36u16.to_be_bytes());
            out.extend_from_slice(&v6(source.ip()).octets());
            out.extend_from_slice(&v6(destination.ip()).octets());
        }
    }
    out.extend_from_slice(&source.port().to_be_bytes());
    out.extend_from_slice(&destination.port().to_be_bytes());
    out
}

/// What the bytes of a connection starting with a TLS record say.
enum Hello {
    NeedMore,
    Broken,
    Read { sni: String, alpn: Vec<Vec<u8>> },
}

/// Reads the ClientHello at the start of `buf` (without consuming it: the bytes may go on to
/// a server as they are): its server name and ALPN protocols.
fn client_hello(buf: &[u8]) -> Hello {
    if buf.first() == Some(&0x80) {
        // SSLv2: TLS for routing, refused by any real handshake.
        return Hello::Read {
            sni: String::new(),
            alpn: Vec::new(),
        };
    }
    let mut acceptor = rustls::server::Acceptor::default();
    let mut rest = buf;
    while !rest.is_empty() {
        match acceptor.read_tls(&mut rest) {
            Ok(0) => break,
            Ok(_) => {}
            Err(_) => return Hello::Broken,
        }
        match acceptor.accept() {
            Ok(None) => {}
            Ok(Some(accepted)) => {
                let hello = accepted.client_hello();
                return Hello::Read {
                    sni: hello.server_name().unwrap_or("").to_string(),
                    alpn: hello
                        .alpn()
                        .map(|a| a.map(<[u8]>::to_vec).collect())
                        .unwrap_or_default(),
                };
            }
            Err(_) => return Hello::Broken,
        }
    }
    Hello::NeedMore
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proxy_headers_as_go_proxyproto_writes_them() {
        let s: SocketAddr = "192.0.2.1:5000".parse().unwrap();
        let d: SocketAddr = "198.51.100.2:443".parse().unwrap();
        assert_eq!(
            proxy_header(1, s, d),
            b"PROXY TCP4 192.0.2.1 198.51.100.2 5000 443\r\n"
        );
        let v2 = proxy_header(2, s, d);
        assert_eq!(&v2[..12], &PP2_SIG);
        assert_eq!(&v2[12..16], &[0x21, 0x11, 0, 12]);
        assert_eq!(&v2[16..20], &[192, 0, 2, 1]);
        assert_eq!(&v2[24..28], &[0x13, 0x88, 0x01, 0xbb]);
        let s6: SocketAddr = "[2001:db8::1]:5000".parse().unwrap();
        let line = String::from_utf8(proxy_header(1, s6, d)).unwrap();
        assert_eq!(
            line,
            "PROXY TCP6 2001:db8::1 ::ffff:198.51.100.2 5000 443\r\n"
        );
        assert_eq!(proxy_header(2, s6, d).len(), 16 + 36);
        // What the PROXY parser of entry points reads back.
        match super::super::proxy_protocol::parse(&proxy_header(2, s, d)) {
            super::super::proxy_protocol::Parsed::Header { source, .. } => {
                assert_eq!(source, Some(s))
            }
            _ => panic!("not read back"),
        }
    }

    #[test]
    fn a_client_hello_is_read_whole_before_it_says_anything() {
        assert!(matches!(client_hello(&[0x16, 3, 1]), Hello::NeedMore));
        assert!(matches!(
            client_hello(&[0x16, 3, 1, 0, 4, 1, 0, 0, 0]),
            Hello::Broken | Hello::NeedMore
        ));
        assert!(matches!(client_hello(&[0x80, 1]), Hello::Read { .. }));
    }
}
