//! The per-worker mio event loop.

use std::collections::VecDeque;
use std::io::{ErrorKind, Read};
use std::net::ToSocketAddrs;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use mio::net::{TcpListener, TcpStream};
use mio::{Events, Interest, Poll, Token, Waker};
use trafficcop_core::proxy::{
    heap, remove_shrinking, AccessSink, ConnId, ConnectError, Event, IdMap, Input, Output,
    ReadBuffer, Timestamp, Worker,
};

use crate::conn::{Conn, Flush};
use crate::udp::{self, Udp};
use crate::{Shared, DRAIN, STOP};

const WAKER: Token = Token(usize::MAX - 1);
const LISTENER_BASE: usize = usize::MAX - 1_000;
const READ_BUF: usize = 64 * 1024;
/// Events handled per loop turn (the rest wait in the kernel for the next poll). Small turns
/// keep the work interleaved: with 1024, a turn under HTTP/2 load held hundreds of events, so
/// hundreds of backend responses finished together, more connections went idle at once than
/// the pool keeps (`maxIdleConnsPerHost`), and the next turn dialled them again (h2 bench: one
/// new backend connection per 7 requests and 33k req/s; with 64: one per 90 and 43k).
const EVENTS_PER_TURN: usize = 64;

struct Loop {
    poll: Poll,
    worker: Worker,
    origin: Instant,
    /// The time read after the last poll returned: every input of one poll's events gets it
    /// (as nginx caches its clock per loop turn), one clock read per turn instead of one per
    /// input.
    clock: Timestamp,
    conns: IdMap<usize, Conn>,
    tokens: IdMap<ConnId, usize>,
    next_token: usize,
    /// UDP datagrams are read here.
    buf: Vec<u8>,
    /// TCP reads land here and go to the core as slices of it.
    rbuf: ReadBuffer,
    /// Inputs produced while carrying out outputs (flush results), fed after.
    deferred: VecDeque<Input>,
    /// Connections to read again (resumed while bytes may be waiting).
    pending_reads: Vec<usize>,
    /// UDP entry point and session sockets.
    udp: Udp,
    /// Connections with bytes (or a close) queued since the last flush: written once the
    /// events of a poll are handled, so outputs of several events leave in one write.
    dirty: VecDeque<usize>,
    /// Where access records go.
    access: Option<AccessSink>,
}

impl Loop {
    /// Hands the worker's access records to the sink (the worker makes none without one).
    fn hand_access_records(&mut self) {
        let Some(sink) = &self.access else {
            return;
        };
        let (clock, wall) = (self.clock, SystemTime::now());
        while let Some(Event::Access(record)) = self.worker.poll_event() {
            sink(record, clock, wall);
        }
    }

    fn now(&self) -> Timestamp {
        self.clock
    }

    /// Reads the clock (after a poll returns, and before deadlines are checked).
    fn tick(&mut self) -> Timestamp {
        self.clock = Timestamp(self.origin.elapsed().as_nanos() as u64);
        self.clock
    }

    fn add(
        &mut self,
        mut stream: TcpStream,
        id: ConnId,
        connecting: bool,
    ) -> std::io::Result<usize> {
        let token = self.next_token;
        self.next_token += 1;
        self.poll.registry().register(
            &mut stream,
            Token(token),
            Interest::READABLE | Interest::WRITABLE,
        )?;
        self.conns.insert(token, Conn::new(stream, id, connecting));
        self.tokens.insert(id, token);
        Ok(token)
    }

    fn remove(&mut self, token: usize) {
        if let Some(c) = remove_shrinking(&mut self.conns, &token) {
            // Dropping the socket closes it (FIN after what is queued, as `shutdown` would
            // send) and takes it out of the epoll set: no syscall of our own. Its token is
            // never reused, so an event of it still in this turn finds nothing.
            remove_shrinking(&mut self.tokens, &c.id);
        }
    }

    fn input(&mut self, input: Input) {
        let now = self.now();
        self.worker.handle_input(now, input);
        self.carry_out();
    }

    /// Carries out every pending output of the core.
    fn carry_out(&mut self) {
        // Records go before the answers they describe (a write may reach the client at
        // once): a client that saw its answer finds its line queued.
        self.hand_access_records();
        while let Some(out) = self.worker.poll_output() {
            match out {
                Output::Send { conn, data } if self.udp.has(conn) => {
                    self.udp.send(conn, &data, &mut self.deferred)
                }
                Output::Close { conn } if self.udp.has(conn) => {
                    self.udp.close(self.poll.registry(), conn)
                }
                Output::SendTo { ep, peer, data } => self.udp.send_to(ep, peer, &data),
                Output::ConnectUdp { conn, host, port } => {
                    let token = self.next_token;
                    self.next_token += 1;
                    let input =
                        match self
                            .udp
                            .connect(self.poll.registry(), conn, token, &host, port)
                        {
                            Ok(()) => Input::Connected { conn },
                            Err(e) => Input::ConnectFailed {
                                conn,
                                error: ConnectError::Failed(e.to_string()),
                            },
                        };
                    self.deferred.push_back(input);
                }
                Output::Send { conn, data } => {
                    if let Some(&t) = self.tokens.get(&conn) {
                        let mut now = false;
                        if let Some(c) = self.conns.get_mut(&t) {
                            now = c.out.push(data);
                            c.owes_writable = true;
                        }
                        if now {
                            self.flush(t);
                        } else if !self.dirty.contains(&t) {
                            self.dirty.push_back(t);
                        }
                    }
                }
                Output::Close { conn } => {
                    if let Some(&t) = self.tokens.get(&conn) {
                        if let Some(c) = self.conns.get_mut(&t) {
                            c.closing = true;
                        }
                        if !self.dirty.contains(&t) {
                            self.dirty.push_back(t);
                        }
                    }
                }
                Output::ShutdownWrite { conn } => {
                    if let Some(&t) = self.tokens.get(&conn) {
                        if let Some(c) = self.conns.get_mut(&t) {
                            c.shutdown_write = true;
                        }
                        if !self.dirty.contains(&t) {
                            self.dirty.push_back(t);
                        }
                    }
                }
                Output::PauseRead { conn } => {
                    if let Some(c) = self.tokens.get(&conn).and_then(|t| self.conns.get_mut(t)) {
                        c.paused = true;
                    }
                }
                Output::ResumeRead { conn } => {
                    if let Some(&t) = self.tokens.get(&conn) {
                        if let Some(c) = self.conns.get_mut(&t) {
                            c.paused = false;
                        }
                        // Edge-triggered: bytes that arrived while paused raise no new event.
                        self.pending_reads.push(t);
                    }
                }
                Output::Connect { conn, host, port } => self.connect(conn, &host, port),
            }
        }
    }

    fn connect(&mut self, conn: ConnId, host: &str, port: u16) {
        // Host names are resolved here, synchronously (IP literals cost nothing).
        let addr = (host, port)
            .to_socket_addrs()
            .ok()
            .and_then(|mut a| a.next());
        let result = match addr {
            Some(a) => TcpStream::connect(a).and_then(|s| {
                let _ = s.set_nodelay(true);
                self.add(s, conn, true)
            }),
            None => Err(std::io::Error::other(format!(
                "lookup {host}: no such host"
            ))),
        };
        if let Err(e) = result {
            self.deferred.push_back(Input::ConnectFailed {
                conn,
                error: ConnectError::Failed(e.to_string()),
            });
        }
    }

    /// Writes what is queued for `token`; reports `Writable`, completes closes, and reports
    /// write failures.
    fn flush(&mut self, token: usize) {
        let Some(c) = self.conns.get_mut(&token) else {
            return;
        };
        match c.flush() {
            Flush::Done => {
                let id = c.id;
                if c.closing {
                    self.remove(token);
                    return;
                }
                if std::mem::take(&mut c.owes_writable) {
                    self.deferred.push_back(Input::Writable { conn: id });
                }
            }
            Flush::Blocked => {}
            Flush::Failed => {
                let id = c.id;
                let closing = c.closing;
                self.remove(token);
                if !closing {
                    self.deferred.push_back(Input::Reset { conn: id });
                }
            }
        }
    }

    /// Reads `token`, feeding the core, until it would block; or, unless `until_block`, until
    /// a read does not fill the buffer: with edge-triggered epoll that read drained the
    /// socket and new bytes bring a new event, so the `recv` that would only say `EAGAIN` is
    /// saved. (`until_block` when the event said the peer closed, to read the end of stream,
    /// and for resumed connections, whose state is unknown.)
    fn read(&mut self, token: usize, until_block: bool) {
        loop {
            let Some(c) = self.conns.get_mut(&token) else {
                return;
            };
            if c.paused || c.closing || c.connecting {
                return;
            }
            let id = c.id;
            let space = self.rbuf.space();
            let room = space.len();
            match c.stream.read(space) {
                Ok(0) => {
                    self.input(Input::Eof { conn: id });
                    return;
                }
                Ok(n) => {
                    let data = self.rbuf.take(n);
                    self.input(Input::Received { conn: id, data });
                    if n < room && !until_block {
                        self.run_deferred();
                        return;
                    }
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(_) => {
                    self.remove(token);
                    self.input(Input::Reset { conn: id });
                    return;
                }
            }
            self.run_deferred();
        }
    }

    /// Writes every connection with queued bytes (see `dirty`), feeding what that brings.
    fn flush_dirty(&mut self) {
        // Queues taken from the front keep their capacity (flushing adds no connection to
        // `dirty`; the inputs it defers may).
        while !self.dirty.is_empty() {
            while let Some(t) = self.dirty.pop_front() {
                self.flush(t);
            }
            self.run_deferred();
        }
    }

    fn run_deferred(&mut self) {
        // In arrival order; inputs that handling these defer come after them.
        while let Some(input) = self.deferred.pop_front() {
            self.input(input);
        }
        while let Some(t) = self.pending_reads.pop() {
            self.read(t, true);
        }
    }
}

impl Loop {
    fn writable_event(&mut self, token: usize) {
        let Some(c) = self.conns.get_mut(&token) else {
            return;
        };
        if c.connecting {
            let id = c.id;
            match c.stream.take_error() {
                Ok(Some(e)) | Err(e) => {
                    self.remove(token);
                    let error = if e.kind() == ErrorKind::TimedOut {
                        ConnectError::TimedOut
                    } else {
                        ConnectError::Failed(e.to_string())
                    };
                    self.input(Input::ConnectFailed { conn: id, error });
                    return;
                }
                Ok(None) => {}
            }
            match c.stream.peer_addr() {
                Ok(_) => {
                    c.connecting = false;
                    self.input(Input::Connected { conn: id });
                }
                Err(e) if e.kind() == ErrorKind::NotConnected => return,
                Err(e) => {
                    self.remove(token);
                    self.input(Input::ConnectFailed {
                        conn: id,
                        error: ConnectError::Failed(e.to_string()),
                    });
                    return;
                }
            }
        }
        self.flush(token);
    }
}

// Deferred inputs and reads live beside the loop (see `Loop::run_deferred`).
impl Loop {
    fn new(poll: Poll, worker: Worker) -> Self {
        Loop {
            poll,
            worker,
            origin: Instant::now(),
            clock: Timestamp(0),
            conns: IdMap::default(),
            tokens: IdMap::default(),
            next_token: 0,
            buf: vec![0; READ_BUF],
            rbuf: ReadBuffer::default(),
            deferred: VecDeque::new(),
            pending_reads: Vec::new(),
            udp: Udp::default(),
            dirty: VecDeque::new(),
            access: None,
        }
    }
}

fn http_date_now() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    trafficcop_core::http::http_date(secs)
}

/// A worker's listening sockets: TCP entry points, then UDP entry points, each with its index
/// (into the configuration's `entry_points` or `udp_entry_points`).
pub type Sockets = (
    Vec<(usize, std::net::TcpListener)>,
    Vec<(usize, std::net::UdpSocket)>,
);

/// Runs one worker until it is stopped (or drained).
pub fn run(
    (listeners, udp_sockets): Sockets,
    shared: Arc<Shared>,
    hostname: String,
    access: Option<AccessSink>,
) -> std::io::Result<()> {
    let poll = Poll::new()?;
    let waker = Arc::new(Waker::new(poll.registry(), WAKER)?);
    if let Ok(mut w) = shared.wakers.lock() {
        w.push(waker);
    }
    let mut generation = shared.generation.load(Ordering::SeqCst);
    let mut lp = Loop::new(poll, Worker::new(shared.config(), &hostname));
    lp.worker.set_access_records(access.is_some());
    lp.access = access;
    let mut listeners: Vec<(usize, TcpListener)> = listeners
        .into_iter()
        .map(|(ep, l)| {
            let _ = l.set_nonblocking(true);
            (ep, TcpListener::from_std(l))
        })
        .collect();
    // A listener bound to one address gives every connection that local address: no
    // `getsockname` per accepted connection.
    let fixed_local: Vec<Option<std::net::SocketAddr>> = listeners
        .iter()
        .map(|(_, l)| l.local_addr().ok().filter(|a| !a.ip().is_unspecified()))
        .collect();
    // The daemon's listeners have `TCP_NODELAY`, which Linux copies to the sockets they accept.
    let nodelay_inherited: Vec<bool> = listeners
        .iter()
        .map(|(_, l)| {
            cfg!(target_os = "linux") && socket2::SockRef::from(l).tcp_nodelay().unwrap_or(false)
        })
        .collect();
    for (i, (_, l)) in listeners.iter_mut().enumerate() {
        lp.poll
            .registry()
            .register(l, Token(LISTENER_BASE + i), Interest::READABLE)?;
    }
    for (ep, s) in udp_sockets {
        lp.udp.listen(lp.poll.registry(), ep, s)?;
    }
    let mut events = Events::with_capacity(EVENTS_PER_TURN);
    let mut draining = false;
    let mut last_date: Option<Timestamp> = None;
    let mut quiet = heap::Quiet::default();
    loop {
        let now = lp.tick();
        if last_date.is_none_or(|d| now.0.saturating_sub(d.0) >= 1_000_000_000) {
            lp.worker.set_date(http_date_now());
            last_date = Some(now);
        }
        let mut timeout = Duration::from_millis(100);
        if let Some(t) = lp.worker.poll_timeout() {
            timeout = timeout.min(Duration::from_nanos(t.0.saturating_sub(now.0)));
        }
        if let Err(e) = lp.poll.poll(&mut events, Some(timeout)) {
            if e.kind() != ErrorKind::Interrupted {
                return Err(e);
            }
        }
        let now = lp.tick();
        if !events.is_empty() {
            quiet.work(now);
        } else if quiet.due(now) {
            heap::settle_thread_cache();
        }
        for ev in events.iter() {
            let token = ev.token().0;
            if token == WAKER.0 {
                continue;
            }
            if token >= LISTENER_BASE {
                let i = token - LISTENER_BASE;
                loop {
                    if draining {
                        break;
                    }
                    match listeners[i].1.accept() {
                        Ok((stream, peer)) => {
                            if !nodelay_inherited[i] {
                                let _ = stream.set_nodelay(true);
                            }
                            let now = lp.now();
                            let ep = listeners[i].0;
                            let local = if lp.worker.wants_local_address(ep) {
                                fixed_local[i].or_else(|| stream.local_addr().ok())
                            } else {
                                None
                            };
                            let id = lp.worker.accept_at(now, listeners[i].0, peer, local);
                            if lp.add(stream, id, false).is_err() {
                                lp.input(Input::Reset { conn: id });
                            }
                        }
                        Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                        Err(_) => break,
                    }
                }
                continue;
            }
            if token >= udp::ENTRY_BASE || lp.udp.has_token(token) {
                let mut inputs = Vec::new();
                if token >= udp::ENTRY_BASE {
                    lp.udp.read_entry_point(token, &mut lp.buf, &mut inputs);
                } else {
                    lp.udp.read_session(token, &mut lp.buf, &mut inputs);
                }
                for input in inputs {
                    lp.input(input);
                }
                lp.run_deferred();
                continue;
            }
            if ev.is_writable() || ev.is_write_closed() || ev.is_error() {
                lp.writable_event(token);
            }
            if ev.is_readable() || ev.is_read_closed() || ev.is_error() {
                lp.read(token, ev.is_read_closed() || ev.is_error());
            }
            lp.run_deferred();
        }
        let now = lp.tick();
        if lp.worker.handle_due(now) {
            lp.carry_out();
            lp.run_deferred();
        }
        lp.flush_dirty();
        let g = shared.generation.load(Ordering::SeqCst);
        if g != generation {
            generation = g;
            lp.input(Input::Config(shared.config()));
            lp.run_deferred();
        }
        match shared.control.load(Ordering::SeqCst) {
            DRAIN if !draining => {
                draining = true;
                for (_, l) in &mut listeners {
                    let _ = lp.poll.registry().deregister(l);
                }
                listeners.clear();
                lp.input(Input::Shutdown);
                lp.run_deferred();
            }
            STOP => return Ok(()),
            _ => {}
        }
        lp.flush_dirty();
        if draining
            && lp.worker.connection_counts() == (0, 0)
            && lp.conns.is_empty()
            && lp.udp.is_empty()
        {
            return Ok(());
        }
    }
}
