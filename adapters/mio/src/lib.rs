//! The raw mio adapter: one event loop per worker thread (mio `Poll`, edge-triggered), each with
//! its own `SO_REUSEPORT` listeners, a table of sockets, reused read buffers, per-connection
//! write queues written as far as the socket takes them, and one timer from the core's
//! deadline. No protocol logic: every decision is the core's.
//!
//! Configuration snapshots and shutdown requests arrive through [`Shared`], which workers check
//! at least every 100 ms (and at once when woken).

mod conn;
mod driver;
mod udp;

pub use driver::Sockets;

use std::sync::atomic::{AtomicU64, AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use trafficcop_core::proxy::{AccessSink, CompiledConfig};

/// What the workers serve, and what the daemon asks of them.
pub struct Shared {
    config: Mutex<Arc<CompiledConfig>>,
    generation: AtomicU64,
    control: AtomicU8,
    wakers: Mutex<Vec<Arc<mio::Waker>>>,
}

/// Serve normally.
pub const RUN: u8 = 0;
/// Stop accepting, tell the core, finish in-flight work, then exit.
pub const DRAIN: u8 = 1;
/// Close everything now.
pub const STOP: u8 = 2;

impl Shared {
    /// Shared state starting with `config`.
    pub fn new(config: Arc<CompiledConfig>) -> Arc<Self> {
        Arc::new(Shared {
            config: Mutex::new(config),
            generation: AtomicU64::new(0),
            control: AtomicU8::new(RUN),
            wakers: Mutex::new(Vec::new()),
        })
    }

    /// Publishes a new configuration snapshot.
    pub fn set_config(&self, config: Arc<CompiledConfig>) {
        if let Ok(mut c) = self.config.lock() {
            *c = config;
        }
        self.generation.fetch_add(1, Ordering::SeqCst);
        self.wake();
    }

    /// Asks the workers to drain ([`DRAIN`]) or stop ([`STOP`]).
    pub fn set_control(&self, control: u8) {
        self.control.store(control, Ordering::SeqCst);
        self.wake();
    }

    fn wake(&self) {
        if let Ok(w) = self.wakers.lock() {
            for w in w.iter() {
                let _ = w.wake();
            }
        }
    }

    fn config(&self) -> Arc<CompiledConfig> {
        self.config
            .lock()
            .map(|c| c.clone())
            .unwrap_or_else(|e| e.into_inner().clone())
    }
}

/// Starts one worker thread per entry of `listeners` (each worker's listening sockets, TCP and
/// UDP, bound by the daemon with `SO_REUSEPORT`, with their entry point index); `hostname` is sent as `X-Forwarded-Server` and
/// `shared` carries configuration snapshots and shutdown requests. The threads end when every
/// connection is closed after a drain or stop. With `access`, the workers make access records
/// and hand them there.
pub fn start(
    listeners: Vec<Sockets>,
    hostname: &str,
    shared: Arc<Shared>,
    access: Option<AccessSink>,
) -> std::io::Result<Vec<JoinHandle<std::io::Result<()>>>> {
    let mut threads = Vec::new();
    for (i, listeners) in listeners.into_iter().enumerate() {
        let shared = shared.clone();
        let hostname = hostname.to_string();
        let access = access.clone();
        threads.push(
            std::thread::Builder::new()
                .name(format!("trafficcop-mio-{i}"))
                .spawn(move || driver::run(listeners, shared, hostname, access))?,
        );
    }
    Ok(threads)
}
