//! A whole scenario from one seed: static and dynamic configurations (the extra ones are
//! reloads), backends, clients and the fault plan.

use std::fmt::Write as _;

use super::clock::MS;
use super::models::{BackendSpec, ClientSpec};
use super::rng::Rng;
use super::scenario::{static_yaml, ConfigSpec};

/// A fault injected at a point in virtual time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// The backend dies: its connections reset, connects are refused.
    Crash(usize),
    /// The backend comes back.
    Restart(usize),
    /// Connects to the backend are never answered (the worker's dial timeout must fire).
    BlackHoleOn(usize),
    /// Connects are answered again.
    BlackHoleOff(usize),
    /// The worker gets configuration number `n` (`Input::Config`).
    Reload(usize),
    /// The network to the backend is cut: nothing reaches it or comes back from it (segments,
    /// connects, resets) until the partition heals; then what was held is delivered in order,
    /// as TCP's retransmissions would.
    PartitionOn(usize),
    /// The partition heals.
    PartitionOff(usize),
}

/// Everything a seed decides before the run starts.
pub struct Scenario {
    /// Static configuration text.
    pub static_yaml: String,
    /// Dynamic configurations: the first is served at start, the others arrive as reloads.
    pub configs: Vec<ConfigSpec>,
    /// Backends `b<i>.sim`.
    pub backends: Vec<BackendSpec>,
    /// Clients.
    pub clients: Vec<ClientSpec>,
    /// Faults, `(at ns, fault)`.
    pub faults: Vec<(u64, Fault)>,
}

impl Scenario {
    /// The scenario for `seed`.
    pub fn generate(seed: u64) -> Self {
        let mut rng = Rng::new(seed ^ 0x5343_454e_4152_494f);
        let static_yaml = static_yaml(&mut rng);
        let n_backends = rng.range_usize(1, 4);
        let backends: Vec<BackendSpec> = (0..n_backends)
            .map(|_| BackendSpec::generate(&mut rng))
            .collect();
        let mut configs = vec![ConfigSpec::generate(&mut rng, n_backends, &static_yaml, 1)];
        let clients: Vec<ClientSpec> = (0..rng.range_usize(1, 4))
            .map(|n| ClientSpec::generate(&mut rng, n))
            .collect();
        let mut faults = Vec::new();
        for _ in 0..rng.range_usize(0, 3) {
            let at = rng.range(0, 400 * MS);
            let b = rng.below(n_backends as u64) as usize;
            match rng.below(3) {
                0 => {
                    faults.push((at, Fault::Crash(b)));
                    faults.push((at + rng.range(MS, 500 * MS), Fault::Restart(b)));
                }
                1 => {
                    faults.push((at, Fault::BlackHoleOn(b)));
                    faults.push((at + rng.range(MS, 500 * MS), Fault::BlackHoleOff(b)));
                }
                _ => {
                    let generation = configs.len() as u64 + 1;
                    configs.push(ConfigSpec::generate(
                        &mut rng,
                        n_backends,
                        &static_yaml,
                        generation,
                    ));
                    faults.push((at, Fault::Reload(configs.len() - 1)));
                }
            }
        }
        // Partitions come from their own stream, so the scenarios above stay what they were
        // for every seed (regression seeds keep replaying the same runs).
        let mut prng = Rng::new(seed ^ 0x7061_7274_6974_696f);
        for _ in 0..prng.range_usize(0, 2) {
            let at = prng.range(0, 300 * MS);
            let b = prng.below(n_backends as u64) as usize;
            faults.push((at, Fault::PartitionOn(b)));
            faults.push((at + prng.range(MS, 2_000 * MS), Fault::PartitionOff(b)));
        }
        faults.sort_by_key(|(t, _)| *t);
        Scenario {
            static_yaml,
            configs,
            backends,
            clients,
            faults,
        }
    }

    /// A readable description for failure reports.
    pub fn summary(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(s, "static: {}", self.static_yaml.replace('\n', " "));
        for (i, c) in self.configs.iter().enumerate() {
            let _ = writeln!(s, "config {i}: {}", c.summary());
        }
        for (i, b) in self.backends.iter().enumerate() {
            let _ = writeln!(
                s,
                "backend b{i}: {:?} fail {}‰ slow<= {}ms fixed {}B",
                b.behaviour,
                b.fail_per_mille,
                b.slow_max_ns / MS,
                b.fixed_body.len()
            );
        }
        for (i, c) in self.clients.iter().enumerate() {
            let reqs: Vec<String> = c
                .requests
                .iter()
                .map(|r| {
                    format!(
                        "{} {} {}{} {}B{}",
                        r.id,
                        r.method,
                        r.host,
                        r.target(),
                        r.body_bytes().len(),
                        match r.body {
                            super::models::BodySpec::Chunked(_) => " chunked",
                            _ => "",
                        }
                    )
                })
                .collect();
            let _ = writeln!(
                s,
                "client {i}: start {}ms {} think {}ms vanish {:?} close_when_done {} [{}]",
                c.start_ns / MS,
                if c.pipelined {
                    "pipelined"
                } else {
                    "keep-alive"
                },
                c.think_ns / MS,
                c.vanish,
                c.close_when_done,
                reqs.join(", ")
            );
        }
        let _ = writeln!(
            s,
            "faults: {:?}",
            self.faults
                .iter()
                .map(|(t, f)| format!("{}ms {f:?}", t / MS))
                .collect::<Vec<_>>()
        );
        s
    }
}
