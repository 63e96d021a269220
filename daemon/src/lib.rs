//! The `trafficcop` daemon's library: static configuration sources, the file provider's IO and
//! watch, the health check, the `check` command, and returning freed heap to the system. The
//! binary is `src/main.rs`.

pub mod access_log;
pub mod check;
pub mod file_provider;
pub mod health_probes;
pub mod healthcheck;
pub mod log;
pub mod memory;
pub mod run;
pub mod runtime;
pub mod serving;
pub mod static_source;
pub mod watch;
