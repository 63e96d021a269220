//! Seeds for the simulation tests: numbers from the environment (`TC_SEED`, `TC_UDP_SEED`,
//! `TC_SIM_RANDOM`) and fresh random seeds. Only the test harness reads the clock here; the
//! simulations themselves are pure functions of their seed.

/// A number from the environment variable `name`, if set and valid.
pub fn env_u64(name: &str) -> Option<u64> {
    std::env::var(name).ok().and_then(|v| v.trim().parse().ok())
}

/// `n` fresh seeds: the wall clock mixed with `salt`, spread by SplitMix64.
pub fn fresh_seeds(n: u64, salt: u64) -> Vec<u64> {
    let mut x = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(1)
        ^ salt;
    (0..n)
        .map(|_| {
            x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = x;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z ^ (z >> 27)
        })
        .collect()
}
