//! The deterministic simulation over the whole core: a fixed list of seeds, the determinism
//! check, `TC_SEED=<n>` to replay one seed and `TC_SIM_RANDOM=<n>` for fresh random seeds.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::Instant;

use trafficcop_proptests::seeds::{env_u64, fresh_seeds};

use trafficcop_proptests::sim::{run_seed, run_seed_with, Options, RunReport};

/// Strict checking: the two core bugs the simulator found are fixed, so nothing is tolerated.
const TOLERANT: Options = Options {
    tolerate_known_bugs: false,
};

/// The fixed seeds every `cargo test` runs.
const FIXED_SEEDS: std::ops::RangeInclusive<u64> = 1..=300;

/// Simulation failures are printed by [`run_many`] (the first in full, then one line per
/// seed); every other panic goes to the default hook.
fn quiet_sim_panics() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let sim = info
                .payload()
                .downcast_ref::<String>()
                .is_some_and(|m| m.starts_with("simulation invariant violated"));
            if !sim {
                default(info);
            }
        }));
    });
}

/// Runs `seeds`, collecting failures (each with its seed) instead of stopping at the first.
fn run_many(label: &str, seeds: impl IntoIterator<Item = u64>) -> Vec<RunReport> {
    quiet_sim_panics();
    let started = Instant::now();
    let mut reports = Vec::new();
    let mut failed = Vec::new();
    for seed in seeds {
        match catch_unwind(AssertUnwindSafe(|| run_seed_with(seed, TOLERANT))) {
            Ok(r) => reports.push(r),
            Err(p) => {
                let msg = p
                    .downcast_ref::<String>()
                    .cloned()
                    .unwrap_or_else(|| "non-string panic".into());
                if failed.is_empty() {
                    eprintln!("sim {label}: first failure:\n{msg}");
                } else {
                    eprintln!(
                        "sim {label}: seed {seed}: {}",
                        msg.lines().next().unwrap_or("")
                    );
                }
                failed.push(seed);
            }
        }
    }
    let secs = started.elapsed().as_secs_f64();
    let n = reports.len() + failed.len();
    let requests: u64 = reports.iter().map(|r| r.requests).sum();
    let proxied: u64 = reports.iter().map(|r| r.proxied).sum();
    let events: u64 = reports.iter().map(|r| r.events).sum();
    let known: usize = reports.iter().filter(|r| r.known_bugs > 0).count();
    let tunnels: u64 = reports.iter().map(|r| r.tunnels).sum();
    let held: u64 = reports.iter().map(|r| r.partition_held).sum();
    let virtual_s: f64 = reports.iter().map(|r| r.virtual_ns as f64 / 1e9).sum();
    eprintln!(
        "sim {label}: {n} seeds in {secs:.2}s ({:.0} seeds/s), {requests} requests ({proxied} answered by backends, {tunnels} WebSocket echoes), {held} deliveries held by partitions, {events} events, {virtual_s:.0} virtual seconds, {known} seeds hit a known core bug",
        n as f64 / secs.max(1e-9)
    );
    assert!(
        failed.is_empty(),
        "sim {label}: failing seeds {failed:?} (replay one with TC_SEED=<seed>)"
    );
    reports
}

#[test]
fn fixed_seeds() {
    if let Some(seed) = env_u64("TC_SEED") {
        let r = run_seed(seed);
        eprintln!("sim replay (strict): {r:?}");
        return;
    }
    let reports = run_many("fixed", FIXED_SEEDS);
    assert!(reports.len() >= 200);
    // The scenarios must actually exercise the proxy, not just fail locally.
    let proxied: u64 = reports.iter().map(|r| r.proxied).sum();
    let requests: u64 = reports.iter().map(|r| r.requests).sum();
    assert!(
        proxied * 6 > requests,
        "too few requests reached a backend: {proxied} of {requests}"
    );
}

#[test]
fn same_seed_same_trace() {
    let mut hashes = std::collections::BTreeSet::new();
    for seed in 1..=25 {
        let a = run_seed_with(seed, TOLERANT);
        let b = run_seed_with(seed, TOLERANT);
        assert_eq!(a, b, "seed {seed} is not deterministic");
        hashes.insert(a.trace_hash);
    }
    assert!(
        hashes.len() >= 24,
        "different seeds should give different traces"
    );
}

#[test]
fn random_seeds_from_env() {
    let Some(n) = env_u64("TC_SIM_RANDOM") else {
        eprintln!("sim random: set TC_SIM_RANDOM=<n> to run n fresh seeds");
        return;
    };
    let seeds = fresh_seeds(n, 0);
    eprintln!(
        "sim random: seeds {}..{} ({n} seeds, first {:?})",
        seeds.first().copied().unwrap_or(0),
        seeds.last().copied().unwrap_or(0),
        &seeds[..seeds.len().min(5)]
    );
    run_many("random", seeds);
}

/// Regression: the core bugs the simulator found (no idle deadline after TrafficCop's own
/// answer, seed 4; pipelined requests behind a 500/502/504 never read, seed 144; a request
/// retried after a dead reused connection re-armed for a second retry when it was handed an
/// idle connection, and reached the backend three times, seed 12591767378234141835), replayed
/// strictly.
#[test]
fn fixed_core_bugs_stay_fixed() {
    for seed in [4, 144, 12_591_767_378_234_141_835] {
        run_seed(seed);
    }
}
