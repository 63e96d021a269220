//! Benchmarks: micro-benchmarks of the core's hot paths and the load-test scripts against peers.

use trafficcop_core::config::dynamic::load_dynamic;
use trafficcop_core::config::static_config::load_static;
use trafficcop_core::config::Format;
use trafficcop_core::proxy::{compile, Worker};

/// The first command-line argument as a count, else `default`.
pub fn count_arg(default: u64) -> u64 {
    std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(default)
}

/// A worker for the bench configuration: entry point `web`, one router for `bench.local`, one
/// backend server (the cycle benchmarks answer for it).
pub fn bench_worker() -> Worker {
    let st = load_static("entryPoints: {web: {address: ':80'}}\n", Format::Yaml, None).config;
    let dy = load_dynamic(
        "http:\n  routers:\n    bench: {rule: \"Host(`bench.local`)\", service: backend}\n  services:\n    backend:\n      loadBalancer:\n        servers: [{url: \"http://127.0.0.1:8080\"}]\n",
        Format::Yaml,
        None,
    )
    .config;
    Worker::new(compile(&st, &dy, 1), "bench-host")
}
