//! The per-worker event loop: accepts, socket events, the core's one deadline, configuration
//! snapshots and shutdown, all fed to the [`Worker`](trafficcop_core::proxy::Worker), whose outputs are carried out here.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, watch};
use trafficcop_core::proxy::{
    heap, remove_shrinking, AccessSink, CompiledConfig, ConnId, ConnectError, Event, IdMap, Input,
    Output, Timestamp, Worker,
};

use crate::conn::{self, ConnHandle, ReadyList};
use crate::udp::{self, Udp};

/// Requests from the daemon to the workers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Control {
    /// Serve normally.
    Run,
    /// Stop accepting, tell the core (ping turns 503, keep-alive ends), finish in-flight work.
    Drain,
    /// Close everything now.
    Stop,
}

fn now(origin: Instant) -> Timestamp {
    Timestamp(origin.elapsed().as_nanos() as u64)
}

/// A worker's listening sockets: TCP entry points, then UDP entry points, each with its index
/// (into the configuration's `entry_points` or `udp_entry_points`).
pub type Sockets = (
    Vec<(usize, std::net::TcpListener)>,
    Vec<(usize, std::net::UdpSocket)>,
);

/// Hands the worker's access records to `sink` (dropped without one: the worker makes none
/// then).
fn hand_access_records(worker: &mut Worker, sink: Option<&AccessSink>, origin: Instant) {
    let Some(sink) = sink else {
        while worker.poll_event().is_some() {}
        return;
    };
    let (clock, wall) = (now(origin), std::time::SystemTime::now());
    while let Some(Event::Access(record)) = worker.poll_event() {
        sink(record, clock, wall);
    }
}

/// Runs one worker until stopped.
pub async fn run(
    (listeners, udp_sockets): Sockets,
    mut config: watch::Receiver<Arc<CompiledConfig>>,
    control: watch::Receiver<Control>,
    hostname: String,
    access: Option<AccessSink>,
) -> std::io::Result<()> {
    let local = tokio::task::LocalSet::new();
    local
        .run_until(async move {
            let origin = Instant::now();
            let mut worker = Worker::new(config.borrow_and_update().clone(), &hostname);
            worker.set_access_records(access.is_some());
            let (events_tx, mut events) = mpsc::unbounded_channel::<Input>();
            // Accepted: entry point, socket, peer, and the local address when the listener is
            // bound to one (then every connection has it: no `getsockname` per connection).
            let (accept_tx, mut accepts) =
                mpsc::unbounded_channel::<(usize, TcpStream, SocketAddr, Option<SocketAddr>)>();
            let mut acceptors = Vec::new();
            for (ep, l) in listeners {
                l.set_nonblocking(true)?;
                // The daemon's listeners have `TCP_NODELAY`, which Linux copies to the sockets
                // they accept.
                let nodelay_inherited = cfg!(target_os = "linux")
                    && socket2::SockRef::from(&l).tcp_nodelay().unwrap_or(false);
                let l = TcpListener::from_std(l)?;
                let fixed_local = l.local_addr().ok().filter(|a| !a.ip().is_unspecified());
                let tx = accept_tx.clone();
                acceptors.push(tokio::task::spawn_local(async move {
                    loop {
                        match l.accept().await {
                            Ok((s, peer)) => {
                                if !nodelay_inherited {
                                    let _ = s.set_nodelay(true);
                                }
                                if tx.send((ep, s, peer, fixed_local)).is_err() {
                                    return;
                                }
                            }
                            Err(_) => tokio::time::sleep(Duration::from_millis(5)).await,
                        }
                    }
                }));
            }
            let mut udp = Udp::default();
            for (ep, s) in udp_sockets {
                udp.listen(ep, s, events_tx.clone())?;
            }
            let (udp_tx, mut udp_connected) = mpsc::unbounded_channel::<udp::Connected>();
            let mut conns: IdMap<ConnId, ConnHandle> = IdMap::default();
            // Connections whose sockets may be readable (their wakers mark them), and those
            // taken from it for the current batch.
            let ready = Arc::new(ReadyList::default());
            let mut readable: VecDeque<ConnId> = VecDeque::new();
            // Writers of closed connections still flushing their last bytes.
            let mut closing: Vec<tokio::task::JoinHandle<()>> = Vec::new();
            let (connected_tx, mut connected) = mpsc::unbounded_channel::<(ConnId, std::io::Result<TcpStream>)>();
            let mut draining = false;
            let mut written: Vec<ConnId> = Vec::new();
            // Connections with bytes queued in this batch.
            let mut dirty: Vec<ConnId> = Vec::new();
            let mut clock = tokio::time::interval(Duration::from_secs(1));
            let mut notices = watch_notices(config, control);
            // One timer for the core's deadline, moved when the deadline moves (a new timer
            // every turn of the loop was registered with the runtime and cancelled each time).
            let never = origin + Duration::from_secs(100 * 365 * 86_400);
            let sleep = tokio::time::sleep_until(never.into());
            tokio::pin!(sleep);
            let mut armed: Option<Timestamp> = None;
            let mut quiet = heap::Quiet::default();
            loop {
                let mut ticked = false;
                let deadline = worker.poll_timeout();
                if deadline != armed {
                    armed = deadline;
                    let at = deadline.map_or(never, |t| origin + Duration::from_nanos(t.0));
                    sleep.as_mut().reset(at.into());
                }
                tokio::select! {
                    Some((ep, stream, peer, fixed_local)) = accepts.recv(), if !draining => {
                        let local = if worker.wants_local_address(ep) {
                            fixed_local.or_else(|| stream.local_addr().ok())
                        } else {
                            None
                        };
                        let id = worker.accept_at(now(origin), ep, peer, local);
                        conns.insert(id, conn::open(id, stream, &ready, events_tx.clone()));
                    }
                    Some(input) = events.recv() => {
                        worker.handle_input(now(origin), input);
                    }
                    // The batch below reads the marked connections.
                    () = ready.wait() => {}
                    Some((id, result)) = connected.recv() => {
                        if let Some(w) = dialled(&mut worker, now(origin), &mut conns, &ready, &events_tx, id, result) {
                            closing.push(w);
                        }
                    }
                    Some((id, result)) = udp_connected.recv() => {
                        let input = match result {
                            Ok(socket) => {
                                udp.opened(id, socket, events_tx.clone());
                                Input::Connected { conn: id }
                            }
                            Err(e) => Input::ConnectFailed { conn: id, error: ConnectError::Failed(e.to_string()) },
                        };
                        worker.handle_input(now(origin), input);
                        if !worker.is_open(id) {
                            udp.close(id);
                        }
                    }
                    () = &mut sleep, if armed.is_some() => {
                        // Fired: a deadline the core gives again is armed again.
                        armed = None;
                        worker.handle_timeout(now(origin));
                    }
                    _ = clock.tick() => {
                        let secs = std::time::SystemTime::now()
                            .duration_since(std::time::UNIX_EPOCH)
                            .map_or(0, |d| d.as_secs());
                        worker.set_date(trafficcop_core::http::http_date(secs));
                        ticked = true;
                    }
                    Some(notice) = notices.recv() => {
                        let control = match notice {
                            Notice::Config(cfg) => {
                                worker.handle_input(now(origin), Input::Config(cfg));
                                continue;
                            }
                            Notice::Control(c) => c,
                        };
                        match control {
                            Control::Run => {}
                            Control::Drain => {
                                draining = true;
                                for a in &acceptors { a.abort(); }
                                worker.handle_input(now(origin), Input::Shutdown);
                            }
                            Control::Stop => {
                                for a in &acceptors { a.abort(); }
                                for (_, c) in conns.drain() {
                                    c.abort();
                                }
                                for w in closing.drain(..) { w.abort(); }
                                udp.stop();
                                return Ok(());
                            }
                        }
                    }
                }
                // Outputs are carried out after every input (the core's rule); socket events
                // already waiting are taken in the same batch, so bytes for one connection from
                // several events (HTTP/2 responses of several streams) leave in one write at its
                // end. Connections whose bytes were all written then are reported writable at
                // once, which may bring more outputs.
                // One clock read for the batch (as nginx caches its time per loop turn).
                let turn = now(origin);
                if !ticked {
                    quiet.work(turn);
                } else if quiet.due(turn) {
                    heap::settle_thread_cache();
                }
                let mut batch = 0;
                ready.take(&mut readable);
                loop {
                    // Records go before the answers they describe (a write may reach the
                    // client at once): a client that saw its answer finds its line queued.
                    hand_access_records(&mut worker, access.as_ref(), origin);
                    while let Some(out) = worker.poll_output() {
                        let mut io = Io { conns: &mut conns, ready: &ready, udp: &mut udp, events: &events_tx, connected: &connected_tx, udp_connected: &udp_tx };
                        if let Some(w) = carry_out(out, &mut io, &mut dirty) {
                            closing.push(w);
                        }
                    }
                    if batch < MAX_BATCH {
                        if let Ok(input) = events.try_recv() {
                            batch += 1;
                            worker.handle_input(turn, input);
                            continue;
                        }
                        // Finished dials first: they carry requests waiting for a backend
                        // (left in the channel, the core would dial again for the next ones).
                        if let Ok((id, result)) = connected.try_recv() {
                            batch += 1;
                            if let Some(w) = dialled(&mut worker, turn, &mut conns, &ready, &events_tx, id, result) {
                                closing.push(w);
                            }
                            continue;
                        }
                        if let Some(input) = read_one(&mut conns, &mut readable) {
                            batch += 1;
                            worker.handle_input(turn, input);
                            continue;
                        }
                    }
                    // Work the core left for the end of the batch (HTTP/2 responses of this
                    // batch's backends, encoded together) is due now: done before the writes.
                    if worker.handle_due(turn) {
                        continue;
                    }
                    for conn in dirty.drain(..) {
                        if conns.get(&conn).is_some_and(ConnHandle::flush_now) {
                            written.push(conn);
                        }
                    }
                    if written.is_empty() {
                        break;
                    }
                    for conn in written.drain(..) {
                        worker.handle_input(turn, Input::Writable { conn });
                    }
                }
                // Connections not read in this batch wait for the next.
                for id in readable.drain(..) {
                    ready.push(id);
                }
                // With connections still marked, the loop would go on at once: it yields first,
                // so the runtime polls its sockets (marking more connections), runs the
                // connect and flush tasks, and renews the cooperative budget that reads count
                // against. (Without it, under h2 load, finished connects waited so long that
                // the core dialled thousands more.)
                if !ready.is_empty() {
                    tokio::task::yield_now().await;
                }
                if closing.len() > 64 {
                    closing.retain(|w| !w.is_finished());
                }
                if draining && worker.connection_counts() == (0, 0) {
                    // Let the last responses reach their clients (bounded).
                    for w in closing.drain(..) {
                        let _ = tokio::time::timeout(Duration::from_secs(5), w).await;
                    }
                    udp.stop();
                    return Ok(());
                }
            }
        })
        .await
}

/// A new configuration or a control request, as the driver receives them.
enum Notice {
    Config(Arc<CompiledConfig>),
    Control(Control),
}

/// Forwards the daemon's configuration and control changes into one channel. A `watch`
/// receiver's `changed()` future joins (and leaves) its notifier's waiting list each time it is
/// created: as two branches of the driver's `select!` that was done twice on every turn of
/// its loop, where a channel's `recv` only looks at the queue.
fn watch_notices(
    mut config: watch::Receiver<Arc<CompiledConfig>>,
    mut control: watch::Receiver<Control>,
) -> mpsc::UnboundedReceiver<Notice> {
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::task::spawn_local(async move {
        loop {
            let notice = tokio::select! {
                Ok(()) = config.changed() => Notice::Config(config.borrow_and_update().clone()),
                Ok(()) = control.changed() => Notice::Control(*control.borrow_and_update()),
                else => return,
            };
            if tx.send(notice).is_err() {
                return;
            }
        }
    });
    rx
}

/// Hands a finished dial to the core (the socket joins `conns` first); returns the task still
/// writing when the core closed it at once.
fn dialled(
    worker: &mut Worker,
    now: Timestamp,
    conns: &mut IdMap<ConnId, ConnHandle>,
    ready: &Arc<ReadyList>,
    events: &mpsc::UnboundedSender<Input>,
    id: ConnId,
    result: std::io::Result<TcpStream>,
) -> Option<tokio::task::JoinHandle<()>> {
    let input = match result {
        Ok(stream) => {
            let _ = stream.set_nodelay(true);
            conns.insert(id, conn::open(id, stream, ready, events.clone()));
            Input::Connected { conn: id }
        }
        Err(e) => Input::ConnectFailed {
            conn: id,
            error: ConnectError::Failed(e.to_string()),
        },
    };
    worker.handle_input(now, input);
    if worker.is_open(id) {
        return None;
    }
    remove_shrinking(conns, &id).and_then(ConnHandle::close)
}

/// Reads the next marked connection that has something (bytes, end of stream or an error).
fn read_one(
    conns: &mut IdMap<ConnId, ConnHandle>,
    readable: &mut VecDeque<ConnId>,
) -> Option<Input> {
    while let Some(id) = readable.pop_front() {
        if let Some(input) = conns.get_mut(&id).and_then(ConnHandle::read) {
            return Some(input);
        }
    }
    None
}

/// What carrying out an output touches.
struct Io<'a> {
    conns: &'a mut IdMap<ConnId, ConnHandle>,
    ready: &'a ReadyList,
    udp: &'a mut Udp,
    events: &'a mpsc::UnboundedSender<Input>,
    connected: &'a mpsc::UnboundedSender<(ConnId, std::io::Result<TcpStream>)>,
    udp_connected: &'a mpsc::UnboundedSender<udp::Connected>,
}

/// Inputs handled in one batch before queued writes go out. Small batches keep the work
/// interleaved: under HTTP/2 load, large ones made many backend responses finish together, more
/// connections went idle at once than the pool keeps, and the next batch dialled them again
/// (h2 bench, 1 worker: 64 gave 35k req/s and 9-17k backend connects in 6 s, 16 gives 39-41k
/// and 8-12k; the mio adapter has the same reason for its 64 events per turn).
const MAX_BATCH: usize = 16;

/// Carries out one output; returns the task still writing a connection being closed.
/// `dirty` collects the connections with bytes queued, written at the end of the batch.
fn carry_out(
    out: Output,
    io: &mut Io<'_>,
    dirty: &mut Vec<ConnId>,
) -> Option<tokio::task::JoinHandle<()>> {
    let conns = &mut *io.conns;
    match out {
        Output::Send { conn, data } if io.udp.has(conn) => io.udp.send(conn, &data, io.events),
        Output::Close { conn } if io.udp.has(conn) => io.udp.close(conn),
        Output::SendTo { ep, peer, data } => io.udp.send_to(ep, peer, &data),
        Output::ConnectUdp { conn, host, port } => {
            Udp::connect(conn, host, port, io.udp_connected.clone())
        }
        Output::Send { conn, data } => {
            if let Some(c) = conns.get(&conn) {
                if c.send(data) {
                    // Much is waiting: written now; `Writable` still comes at the batch's end.
                    c.flush_now();
                }
                if !dirty.contains(&conn) {
                    dirty.push(conn);
                }
            }
        }
        Output::Close { conn } => {
            dirty.retain(|w| *w != conn);
            return remove_shrinking(conns, &conn).and_then(ConnHandle::close);
        }
        Output::ShutdownWrite { conn } => {
            if let Some(c) = conns.get(&conn) {
                c.shutdown_write();
                if !dirty.contains(&conn) {
                    dirty.push(conn);
                }
            }
        }
        Output::PauseRead { conn } => {
            if let Some(c) = conns.get_mut(&conn) {
                c.pause();
            }
        }
        Output::ResumeRead { conn } => {
            if let Some(c) = conns.get_mut(&conn) {
                c.resume(io.ready);
            }
        }
        Output::Connect { conn, host, port } => {
            // The dial timeout is the core's; a late success for a connection the core has
            // given up on is closed when it arrives (the core no longer knows the id).
            let connected = io.connected.clone();
            tokio::task::spawn_local(async move {
                let result = TcpStream::connect((host.as_str(), port)).await;
                let _ = connected.send((conn, result));
            });
        }
    }
    None
}
