//! The tokio adapter: one single-threaded tokio runtime per worker thread, each with its own
//! `SO_REUSEPORT` listeners, feeding one [`Worker`] and carrying out its outputs. It owns
//! sockets, read buffers and one timer; every decision is the core's.

mod conn;
mod driver;

use std::sync::Arc;
use std::thread::JoinHandle;

use tokio::sync::watch;
use trafficcop_core::proxy::CompiledConfig;

pub use driver::Control;

/// What the adapter serves.
pub struct Settings {
    /// One list per worker thread: its listening sockets (the daemon binds them, one per entry
    /// point and worker, with `SO_REUSEPORT`) with their entry point index.
    pub listeners: Vec<Vec<(usize, std::net::TcpListener)>>,
    /// `X-Forwarded-Server`.
    pub hostname: String,
}

/// Running workers.
pub struct Running {
    threads: Vec<JoinHandle<std::io::Result<()>>>,
}

impl Running {
    /// Waits for every worker to stop; returns the first error.
    pub fn join(self) -> std::io::Result<()> {
        let mut result = Ok(());
        for t in self.threads {
            match t.join() {
                Ok(Ok(())) => {}
                Ok(Err(e)) => {
                    if result.is_ok() {
                        result = Err(e);
                    }
                }
                Err(_) => result = Err(std::io::Error::other("worker thread panicked")),
            }
        }
        result
    }
}

/// Starts one worker thread per listener list. `config` carries configuration snapshots; `control` shutdown requests.
pub fn start(
    settings: Settings,
    config: watch::Receiver<Arc<CompiledConfig>>,
    control: watch::Receiver<Control>,
) -> std::io::Result<Running> {
    let mut threads = Vec::new();
    for (i, listeners) in settings.listeners.into_iter().enumerate() {
        let config = config.clone();
        let control = control.clone();
        let hostname = settings.hostname.clone();
        threads.push(
            std::thread::Builder::new()
                .name(format!("trafficcop-worker-{i}"))
                .spawn(move || {
                    let rt = tokio::runtime::Builder::new_current_thread()
                        .enable_io()
                        .enable_time()
                        .build()?;
                    rt.block_on(driver::run(listeners, config, control, hostname))
                })?,
        );
    }
    Ok(Running { threads })
}
