//! The access log's IO (Traefik's `accessLog`): `filePath` (created with its directories,
//! appended to, opened again on `SIGUSR1`) or standard output, and a thread of its own that
//! writes the lines the core's [`Formatter`] makes of the workers' records. The workers only
//! queue records; a line is written as soon as the writer is free (lines that come together
//! are flushed together).

use std::io::Write;
use std::sync::mpsc;
use std::time::SystemTime;

use trafficcop_core::config::static_config::AccessLog as AccessLogConfig;
use trafficcop_core::proxy::{AccessRecord, AccessSink, Formatter, Timestamp};

/// Where lines go.
enum Output {
    File(std::fs::File),
    Stdout,
}

/// Opens `filePath` as Traefik does (directories created, appended to), or standard output
/// without one.
fn open(path: &str) -> Result<Output, String> {
    if path.is_empty() {
        return Ok(Output::Stdout);
    }
    let p = std::path::Path::new(path);
    if let Some(dir) = p.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("failed to create log path {}: {e}", dir.display()))?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.create(true).append(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o664);
    options
        .open(p)
        .map(Output::File)
        .map_err(|e| format!("error opening file {path}: {e}"))
}

/// Records waiting for the writer at most.
const QUEUED: usize = 16_384;

/// What the writer thread is sent.
enum Message {
    Record(Box<AccessRecord>, Timestamp, SystemTime),
    /// Open `filePath` again (after `SIGUSR1`, when a log rotation moved the file).
    Reopen,
}

/// A started access log: the sink the workers hand records to.
pub struct AccessLog {
    /// Give this to the workers.
    pub sink: AccessSink,
    /// Opens the file again (Traefik does on `SIGUSR1`).
    pub reopen: std::sync::Arc<dyn Fn() + Send + Sync>,
    /// Problems with the configuration (logged, not fatal, as in Traefik).
    pub warnings: Vec<String>,
    /// The writer thread: it ends once every sink and `reopen` are dropped, after writing
    /// what was queued.
    pub writer: std::thread::JoinHandle<()>,
}

/// Opens the access log `cfg` describes and starts its writer thread, which ends when every
/// sink is dropped (after writing what is queued).
pub fn start(cfg: &AccessLogConfig) -> Result<AccessLog, String> {
    let (formatter, warnings) = Formatter::new(cfg);
    let mut output =
        open(&cfg.file_path).map_err(|e| format!("error opening access log file: {e}"))?;
    // Bounded: a writer that cannot keep up (a stalled disk) costs records, not memory.
    let (tx, rx) = mpsc::sync_channel::<Message>(QUEUED);
    let dropped = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let dropped_seen = dropped.clone();
    let path = cfg.file_path.clone();
    let writer = std::thread::Builder::new()
        .name("trafficcop-access-log".into())
        .spawn(move || {
            let mut buf = Vec::new();
            while let Ok(first) = rx.recv() {
                let mut next = Some(first);
                while let Some(message) = next.take() {
                    match message {
                        Message::Record(r, clock, wall) => {
                            if let Some(line) = formatter.line(&r, clock, wall) {
                                buf.extend_from_slice(line.as_bytes());
                            }
                        }
                        Message::Reopen if !path.is_empty() => {
                            if let Output::File(f) = &mut output {
                                let _ = f.write_all(&buf);
                                buf.clear();
                            }
                            match open(&path) {
                                Ok(o) => output = o,
                                Err(e) => crate::log::error(&e),
                            }
                        }
                        Message::Reopen => {}
                    }
                    next = rx.try_recv().ok();
                }
                let written = match &mut output {
                    Output::File(f) => f.write_all(&buf),
                    Output::Stdout => {
                        let mut out = std::io::stdout().lock();
                        out.write_all(&buf).and_then(|()| out.flush())
                    }
                };
                if let Err(e) = written {
                    crate::log::error(&format!("writing the access log: {e}"));
                }
                buf.clear();
                let lost = dropped_seen.swap(0, std::sync::atomic::Ordering::Relaxed);
                if lost > 0 {
                    crate::log::error(&format!(
                        "the access log could not keep up: {lost} lines were not written"
                    ));
                }
            }
        })
        .map_err(|e| format!("starting the access log writer: {e}"))?;
    let reopen_tx = tx.clone();
    let sink: AccessSink = std::sync::Arc::new(move |r, clock, wall| {
        if tx
            .try_send(Message::Record(Box::new(r), clock, wall))
            .is_err()
        {
            dropped.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
    });
    let reopen = std::sync::Arc::new(move || {
        let _ = reopen_tx.send(Message::Reopen);
    });
    Ok(AccessLog {
        sink,
        reopen,
        warnings,
        writer,
    })
}
