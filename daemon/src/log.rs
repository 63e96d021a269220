//! The daemon's log: Traefik's console format (`<RFC3339 time> <LVL> <message>`) or JSON lines,
//! filtered by `log.level`, to stdout or `log.filePath`.

use std::io::Write;
use std::sync::{Mutex, OnceLock};
use std::time::{SystemTime, UNIX_EPOCH};

/// Log levels, least to most severe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    /// TRACE
    Trace,
    /// DEBUG
    Debug,
    /// INFO
    Info,
    /// WARN
    Warn,
    /// ERROR
    Error,
}

impl Level {
    fn tag(self) -> &'static str {
        match self {
            Level::Trace => "TRC",
            Level::Debug => "DBG",
            Level::Info => "INF",
            Level::Warn => "WRN",
            Level::Error => "ERR",
        }
    }

    fn name(self) -> &'static str {
        match self {
            Level::Trace => "trace",
            Level::Debug => "debug",
            Level::Info => "info",
            Level::Warn => "warn",
            Level::Error => "error",
        }
    }

    /// Parses Traefik's `log.level` (case-insensitive); unknown values mean ERROR.
    pub fn parse(s: &str) -> Level {
        match s.to_ascii_uppercase().as_str() {
            "TRACE" => Level::Trace,
            "DEBUG" => Level::Debug,
            "INFO" => Level::Info,
            "WARN" | "WARNING" => Level::Warn,
            _ => Level::Error,
        }
    }
}

struct Logger {
    level: Level,
    json: bool,
    out: Mutex<Box<dyn Write + Send>>,
}

static LOGGER: OnceLock<Logger> = OnceLock::new();

/// Configures the log once (later calls are ignored).
pub fn init(level: Level, json: bool, file: Option<&str>) -> std::io::Result<()> {
    let out: Box<dyn Write + Send> = match file {
        Some(path) if !path.is_empty() => Box::new(
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)?,
        ),
        _ => Box::new(std::io::stdout()),
    };
    let _ = LOGGER.set(Logger {
        level,
        json,
        out: Mutex::new(out),
    });
    Ok(())
}

/// UTC time as RFC 3339 (`2026-11-25T19:29:44Z`).
pub fn rfc3339_now() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    trafficcop_core::http::date::rfc3339(UNIX_EPOCH + std::time::Duration::from_secs(secs))
}

/// Writes one log line at `level`.
pub fn log(level: Level, message: &str) {
    let Some(l) = LOGGER.get() else {
        if level >= Level::Error {
            eprintln!("{} {} {message}", rfc3339_now(), level.tag());
        }
        return;
    };
    if level < l.level {
        return;
    }
    let line = if l.json {
        format!(
            "{{\"level\":\"{}\",\"time\":\"{}\",\"message\":{:?}}}\n",
            level.name(),
            rfc3339_now(),
            message
        )
    } else {
        format!("{} {} {message}\n", rfc3339_now(), level.tag())
    };
    if let Ok(mut out) = l.out.lock() {
        let _ = out.write_all(line.as_bytes());
        let _ = out.flush();
    }
}

/// Logs at INFO.
pub fn info(m: &str) {
    log(Level::Info, m)
}

/// Logs at WARN.
pub fn warn(m: &str) {
    log(Level::Warn, m)
}

/// Logs at ERROR.
pub fn error(m: &str) {
    log(Level::Error, m)
}
