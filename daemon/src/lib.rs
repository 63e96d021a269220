//! The `trafficcop` daemon's library: static configuration sources, the file provider's IO and
//! watch, the health check, and the `check` command. The binary is `src/main.rs`.

pub mod check;
pub mod file_provider;
pub mod healthcheck;
pub mod log;
pub mod run;
pub mod runtime;
pub mod serving;
pub mod static_source;
pub mod watch;
