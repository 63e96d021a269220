//! The deterministic UDP simulation (`sim::udp`): a fixed list of seeds, the determinism
//! check, `TC_UDP_SEED=<n>` to replay one seed and `TC_SIM_RANDOM=<n>` for fresh random seeds.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::Instant;

use trafficcop_proptests::seeds::{env_u64, fresh_seeds};

use trafficcop_proptests::sim::{UdpReport, UdpSim};

/// Runs `seeds`, printing the first failure in full and every failing seed.
fn run_many(label: &str, seeds: impl IntoIterator<Item = u64>) -> Vec<UdpReport> {
    let started = Instant::now();
    let mut reports = Vec::new();
    let mut failed = Vec::new();
    for seed in seeds {
        match catch_unwind(AssertUnwindSafe(|| UdpSim::new(seed).run())) {
            Ok(r) => reports.push(r),
            Err(p) => {
                let msg = p
                    .downcast_ref::<String>()
                    .cloned()
                    .unwrap_or_else(|| "non-string panic".into());
                if failed.is_empty() {
                    eprintln!("udp sim {label}: first failure:\n{msg}");
                }
                failed.push(seed);
            }
        }
    }
    let secs = started.elapsed().as_secs_f64();
    let n = reports.len() + failed.len();
    let sum = |f: fn(&UdpReport) -> u64| reports.iter().map(f).sum::<u64>();
    eprintln!(
        "udp sim {label}: {n} seeds in {secs:.2}s ({:.0} seeds/s), {} datagrams sent, {} echoes received, {} sessions ({} timed out, {} ended by ICMP)",
        n as f64 / secs.max(1e-9),
        sum(|r| r.sent),
        sum(|r| r.echoed),
        sum(|r| r.sessions),
        sum(|r| r.timed_out),
        sum(|r| r.reset),
    );
    assert!(
        failed.is_empty(),
        "udp sim {label}: failing seeds {failed:?} (replay one with TC_UDP_SEED=<seed>)"
    );
    reports
}

#[test]
fn fixed_udp_seeds() {
    if let Some(seed) = env_u64("TC_UDP_SEED") {
        eprintln!("udp sim replay: {:?}", UdpSim::new(seed).run());
        return;
    }
    let reports = run_many("fixed", 1..=300);
    // The scenarios must exercise sessions, timeouts and socket errors, not only drops.
    let sessions: u64 = reports.iter().map(|r| r.sessions).sum();
    let timed_out: u64 = reports.iter().map(|r| r.timed_out).sum();
    let reset: u64 = reports.iter().map(|r| r.reset).sum();
    let echoed: u64 = reports.iter().map(|r| r.echoed).sum();
    assert!(sessions > 1000 && timed_out > 500 && reset > 20 && echoed > 2000,
        "too little exercised: {sessions} sessions, {timed_out} timeouts, {reset} resets, {echoed} echoes");
}

#[test]
fn same_udp_seed_same_trace() {
    let mut hashes = std::collections::BTreeSet::new();
    for seed in 1..=20 {
        let a = UdpSim::new(seed).run();
        let b = UdpSim::new(seed).run();
        assert_eq!(a, b, "seed {seed} is not deterministic");
        hashes.insert(a.trace_hash);
    }
    assert!(
        hashes.len() >= 19,
        "different seeds should give different traces"
    );
}

#[test]
fn random_udp_seeds_from_env() {
    let Some(n) = env_u64("TC_SIM_RANDOM") else {
        eprintln!("udp sim random: set TC_SIM_RANDOM=<n> to run n fresh seeds");
        return;
    };
    let seeds = fresh_seeds(n, 0x7564_7000);
    eprintln!(
        "udp sim random: {n} seeds, first {:?}",
        &seeds[..seeds.len().min(5)]
    );
    run_many("random", seeds);
}
