//! The tokio adapter: one single-threaded tokio runtime per worker thread, each with its own
//! `SO_REUSEPORT` listeners, feeding one [`Worker`](trafficcop_core::proxy::Worker) and carrying out its outputs. It owns
//! sockets, read buffers and one timer; every decision is the core's.

mod conn;
mod driver;
mod udp;

use std::sync::Arc;
use std::thread::JoinHandle;

use tokio::sync::watch;
use trafficcop_core::proxy::{AccessSink, CompiledConfig};

pub use driver::{Control, Sockets};

/// Starts one worker thread per entry of `listeners` (each worker's listening sockets, TCP and
/// UDP, bound by the daemon with `SO_REUSEPORT`, with their entry point index); `hostname` is sent as `X-Forwarded-Server`,
/// `config` carries configuration snapshots and `control` shutdown requests. The threads end
/// when every connection is closed after a drain or stop. With `access`, the workers make
/// access records and hand them there.
pub fn start(
    listeners: Vec<Sockets>,
    hostname: &str,
    config: watch::Receiver<Arc<CompiledConfig>>,
    control: watch::Receiver<Control>,
    access: Option<AccessSink>,
) -> std::io::Result<Vec<JoinHandle<std::io::Result<()>>>> {
    let mut threads = Vec::new();
    for (i, listeners) in listeners.into_iter().enumerate() {
        let config = config.clone();
        let control = control.clone();
        let hostname = hostname.to_string();
        let access = access.clone();
        threads.push(
            std::thread::Builder::new()
                .name(format!("trafficcop-worker-{i}"))
                .spawn(move || {
                    let rt = tokio::runtime::Builder::new_current_thread()
                        .enable_io()
                        .enable_time()
                        .build()?;
                    rt.block_on(driver::run(listeners, config, control, hostname, access))
                })?,
        );
    }
    Ok(threads)
}
