//! The deterministic simulator: clients, TrafficCop's core `Worker` and backends in one
//! process, a seeded RNG, a virtual clock and a `(deliver_at, seq)` event queue, TCP as byte
//! streams cut into random segments with latency, resets and half-closes, and faults (backend
//! crash and restart, black-holed connects, network partitions (deliveries held until they heal), resets, malformed answers, configuration reloads
//! mid-request). Invariants are checked after every step; a failure names the seed, which
//! `TC_SEED=<n>` replays exactly.
//!
//! Layout: [`rng`], [`clock`], [`queue`], [`trace`] are the deterministic machinery; [`net`]
//! the links; [`http`] the peers' own HTTP/1.1 reader; [`scenario`] the configuration
//! generator and reference routing; [`models`] and [`plan`] the peers and faults;
//! [`world`] the adapter loop; `client`, `backend` and `check` the peers' behaviour and the
//! invariants; [`udp`] the UDP world (datagrams lost, duplicated and reordered, sessions,
//! timeouts, ICMP, reloads) around the same worker.

mod backend;
mod check;
pub mod client;
pub mod clock;
pub mod http;
pub mod models;
pub mod net;
pub mod plan;
pub mod queue;
pub mod rng;
pub mod scenario;
pub mod trace;
pub mod udp;
pub mod world;

pub use udp::{UdpReport, UdpSim};
pub use world::{Options, RunReport, Sim};

/// Runs one seed; panics with the seed, the scenario and the last events on a violation.
pub fn run_seed(seed: u64) -> RunReport {
    Sim::new(seed).run()
}

/// Runs one seed with `options`.
pub fn run_seed_with(seed: u64, options: Options) -> RunReport {
    Sim::with_options(seed, options).run()
}

/// The text of a caught panic (the core's, inside a simulation step).
pub(crate) fn panic_text(p: &(dyn std::any::Any + Send)) -> String {
    p.downcast_ref::<String>()
        .cloned()
        .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_default()
}
