//! TrafficCop's core: a pure, IO-free state machine for a Traefik-compatible reverse proxy.
//!
//! The core never touches a socket, a clock, a thread or the OS random number generator: adapters
//! feed it bytes, timers and configuration snapshots, and it answers with bytes to send and
//! connections to open. See `ARCHITECTURE.md` at the repository root.

#![forbid(unsafe_code)]

pub mod config;
pub mod h1;
pub mod h2;
pub mod http;
pub mod middleware;
pub mod proxy;
pub mod rule;
pub mod tls;
