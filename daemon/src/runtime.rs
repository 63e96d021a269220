//! Picking the runtime adapter (`--runtime=tokio|mio` or `TRAFFICCOP_RUNTIME`, our extension)
//! and talking to it the same way whichever it is: publish configurations, drain, stop, join.

use std::net::SocketAddr;
use std::sync::Arc;
use std::thread::JoinHandle;

use tokio::sync::watch;
use trafficcop_core::proxy::CompiledConfig;

/// Which adapter runs the workers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Runtime {
    /// `adapters/tokio`.
    Tokio,
    /// `adapters/mio`.
    Mio,
}

impl Runtime {
    /// Parses `tokio` or `mio`.
    pub fn parse(s: &str) -> Option<Runtime> {
        match s {
            "tokio" => Some(Runtime::Tokio),
            "mio" => Some(Runtime::Mio),
            _ => None,
        }
    }
}

/// Removes `--runtime=X` from `args` (it is ours, not a Traefik flag) and returns the runtime
/// the flag or `TRAFFICCOP_RUNTIME` asks for, if any.
pub fn take_runtime(args: &mut Vec<String>) -> Result<Option<Runtime>, String> {
    let mut chosen = None;
    let mut rest = Vec::with_capacity(args.len());
    for a in args.drain(..) {
        match a
            .strip_prefix("--runtime=")
            .or_else(|| a.strip_prefix("-runtime="))
        {
            Some(v) => {
                chosen = Some(
                    Runtime::parse(v)
                        .ok_or_else(|| format!("unknown runtime {v:?} (tokio or mio)"))?,
                )
            }
            None => rest.push(a),
        }
    }
    *args = rest;
    if chosen.is_some() {
        return Ok(chosen);
    }
    match std::env::var("TRAFFICCOP_RUNTIME") {
        Ok(v) if !v.is_empty() => Runtime::parse(&v)
            .map(Some)
            .ok_or_else(|| format!("unknown TRAFFICCOP_RUNTIME {v:?} (tokio or mio)")),
        _ => Ok(None),
    }
}

/// The runtime to start: the flag's or the environment's, else the static configuration's
/// `trafficcop.runtime` (validated at load), else [`DEFAULT`].
pub fn choose_runtime(asked: Option<Runtime>, configured: &str) -> Runtime {
    asked
        .or_else(|| Runtime::parse(configured))
        .unwrap_or(DEFAULT)
}

/// The worker count: `TRAFFICCOP_WORKERS`, else `trafficcop.workers`, else one per core.
pub fn choose_workers(env: Option<&str>, configured: i64) -> usize {
    env.and_then(|w| w.parse::<usize>().ok())
        .filter(|w| *w > 0)
        .or_else(|| usize::try_from(configured).ok().filter(|w| *w > 0))
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}

/// The default runtime, chosen by measurement (`benches/RESULTS.md`, fifth session): the mio
/// adapter costs less CPU per request in 7 of the 10 benchmark cells (TLS equal) and holds
/// less memory under the mixed soak (16 MiB against tokio's 21).
pub const DEFAULT: Runtime = Runtime::Mio;

/// Running worker threads of either adapter, with the handle that reaches them.
pub struct Workers {
    handle: Handle,
    threads: Vec<JoinHandle<std::io::Result<()>>>,
}

/// A cloneable handle to publish configurations and request shutdown.
#[derive(Clone)]
pub enum Handle {
    /// tokio channels.
    Tokio(
        watch::Sender<Arc<CompiledConfig>>,
        watch::Sender<trafficcop_tokio::Control>,
    ),
    /// mio shared state.
    Mio(Arc<trafficcop_mio::Shared>),
}

impl Handle {
    /// Publishes a configuration snapshot to every worker.
    pub fn publish(&self, config: Arc<CompiledConfig>) {
        match self {
            Handle::Tokio(c, _) => {
                let _ = c.send(config);
            }
            Handle::Mio(s) => s.set_config(config),
        }
    }

    /// Stop accepting and finish in-flight work.
    pub fn drain(&self) {
        match self {
            Handle::Tokio(_, c) => {
                let _ = c.send(trafficcop_tokio::Control::Drain);
            }
            Handle::Mio(s) => s.set_control(trafficcop_mio::DRAIN),
        }
    }

    /// Close everything now.
    pub fn stop(&self) {
        match self {
            Handle::Tokio(_, c) => {
                let _ = c.send(trafficcop_tokio::Control::Stop);
            }
            Handle::Mio(s) => s.set_control(trafficcop_mio::STOP),
        }
    }
}

/// A socket of `kind` bound to `addr` with `SO_REUSEPORT` (every worker binds its own on the
/// entry point's address); `[::]` takes IPv4 too, as Go's `:80` does.
fn reuse_port_socket(addr: SocketAddr, kind: socket2::Type) -> std::io::Result<socket2::Socket> {
    use socket2::{Domain, Socket};
    let socket = Socket::new(Domain::for_address(addr), kind, None)?;
    socket.set_reuse_address(true)?;
    socket.set_reuse_port(true)?;
    if addr.is_ipv6() {
        let _ = socket.set_only_v6(false);
    }
    socket.bind(&addr.into())?;
    socket.set_nonblocking(true)?;
    Ok(socket)
}

/// Whether another socket already holds `addr` (TCP, or UDP when `udp`). Every worker binds
/// with `SO_REUSEPORT`, which a second process doing the same would share silently, each
/// getting part of the connections; Traefik, unless the entry point sets `reusePort`, fails
/// to start instead. A socket bound without `SO_REUSEPORT` (with `SO_REUSEADDR` for TCP, as
/// Go's listeners) finds out: its bind fails with `EADDRINUSE` while another socket listens
/// on the address (TCP) or is bound to it (UDP). Another process could still bind between
/// this probe and the workers' binds.
pub fn address_taken(addr: SocketAddr, udp: bool) -> bool {
    use socket2::{Domain, Socket, Type};
    let kind = if udp { Type::DGRAM } else { Type::STREAM };
    let Ok(socket) = Socket::new(Domain::for_address(addr), kind, None) else {
        return false;
    };
    if !udp && socket.set_reuse_address(true).is_err() {
        return false;
    }
    if addr.is_ipv6() {
        let _ = socket.set_only_v6(false);
    }
    matches!(socket.bind(&addr.into()), Err(e) if e.kind() == std::io::ErrorKind::AddrInUse)
}

/// A listening socket with `SO_REUSEPORT`, so that every worker thread has its own socket on
/// the entry point's address and the kernel spreads connections between them. It has
/// `TCP_NODELAY`, which Linux copies to every socket it accepts: the adapters then skip a
/// `setsockopt` per connection.
pub fn bind(addr: SocketAddr) -> std::io::Result<std::net::TcpListener> {
    let socket = reuse_port_socket(addr, socket2::Type::STREAM)?;
    let _ = socket.set_tcp_nodelay(true);
    socket.listen(1024)?;
    Ok(socket.into())
}

/// A UDP socket with `SO_REUSEPORT`: every worker has its own on the entry point's address,
/// and the kernel hashes each client address to one of them, so a client's datagrams (its
/// session) always reach the same worker.
pub fn bind_udp(addr: SocketAddr) -> std::io::Result<std::net::UdpSocket> {
    Ok(reuse_port_socket(addr, socket2::Type::DGRAM)?.into())
}

impl Workers {
    /// Binds every entry point once per worker (so address errors surface here, before any
    /// thread starts) and starts `workers` threads of `runtime`. `addresses` are the TCP entry
    /// points', `udp_addresses` the UDP ones', each with its index in the configuration.
    pub fn start(
        runtime: Runtime,
        workers: usize,
        addresses: Vec<(usize, SocketAddr)>,
        udp_addresses: Vec<(usize, SocketAddr)>,
        hostname: String,
        config: Arc<CompiledConfig>,
        access: Option<trafficcop_core::proxy::AccessSink>,
    ) -> std::io::Result<Workers> {
        let mut listeners = Vec::new();
        for _ in 0..workers.max(1) {
            let mut tcp = Vec::new();
            for (ep, addr) in &addresses {
                tcp.push((*ep, bind(*addr)?));
            }
            let mut udp = Vec::new();
            for (ep, addr) in &udp_addresses {
                udp.push((*ep, bind_udp(*addr)?));
            }
            listeners.push((tcp, udp));
        }
        let (handle, threads) = match runtime {
            Runtime::Tokio => {
                let (config_tx, config_rx) = watch::channel(config);
                let (control_tx, control_rx) = watch::channel(trafficcop_tokio::Control::Run);
                let threads =
                    trafficcop_tokio::start(listeners, &hostname, config_rx, control_rx, access)?;
                (Handle::Tokio(config_tx, control_tx), threads)
            }
            Runtime::Mio => {
                let shared = trafficcop_mio::Shared::new(config);
                let threads = trafficcop_mio::start(listeners, &hostname, shared.clone(), access)?;
                (Handle::Mio(shared), threads)
            }
        };
        Ok(Workers { handle, threads })
    }

    /// A handle for publishing and shutdown.
    pub fn handle(&self) -> Handle {
        self.handle.clone()
    }

    /// Waits for every worker thread to stop; returns the first error.
    pub fn join(self) -> std::io::Result<()> {
        let mut result = Ok(());
        for t in self.threads {
            let r = t
                .join()
                .unwrap_or_else(|_| Err(std::io::Error::other("worker thread panicked")));
            if result.is_ok() {
                result = r;
            }
        }
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_flag_or_environment_wins_over_the_file_which_wins_over_the_default() {
        assert_eq!(choose_runtime(Some(Runtime::Tokio), "mio"), Runtime::Tokio);
        assert_eq!(choose_runtime(None, "mio"), Runtime::Mio);
        assert_eq!(choose_runtime(None, "tokio"), Runtime::Tokio);
        assert_eq!(choose_runtime(None, ""), DEFAULT);
        assert_eq!(choose_workers(Some("3"), 2), 3);
        assert_eq!(choose_workers(Some("x"), 2), 2);
        assert_eq!(choose_workers(None, 2), 2);
        assert!(choose_workers(None, 0) >= 1);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn connections_accepted_from_an_entry_point_listener_have_nodelay() {
        let listener = bind("127.0.0.1:0".parse().unwrap()).unwrap();
        listener.set_nonblocking(false).unwrap();
        let _client = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (accepted, _) = listener.accept().unwrap();
        assert!(accepted.nodelay().unwrap());
    }
}
