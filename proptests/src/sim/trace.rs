//! The run's trace: every event is hashed (FNV-1a, stable across platforms and Rust versions)
//! into one trace hash, and the last few are kept as text for failure reports.

use std::collections::VecDeque;

use trafficcop_core::proxy::Timestamp;

/// How many recent events a failure report shows.
pub const KEEP: usize = 30;

/// FNV-1a over `bytes`, continuing from `h`.
pub fn fnv(mut h: u64, bytes: &[u8]) -> u64 {
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// FNV-1a's offset basis.
pub const FNV_START: u64 = 0xcbf2_9ce4_8422_2325;

/// The hash of every event so far and the text of the last [`KEEP`].
#[derive(Debug)]
pub struct Trace {
    hash: u64,
    events: u64,
    recent: VecDeque<String>,
}

impl Default for Trace {
    fn default() -> Self {
        Trace {
            hash: FNV_START,
            events: 0,
            recent: VecDeque::with_capacity(KEEP + 1),
        }
    }
}

impl Trace {
    /// Records one event at `now`.
    pub fn record(&mut self, now: Timestamp, text: String) {
        self.hash = fnv(self.hash, &now.0.to_le_bytes());
        self.hash = fnv(self.hash, text.as_bytes());
        self.events += 1;
        if self.recent.len() == KEEP {
            self.recent.pop_front();
        }
        self.recent
            .push_back(format!("{:>12.6}s {text}", now.0 as f64 / 1e9));
    }

    /// The hash of the whole trace.
    pub fn hash(&self) -> u64 {
        self.hash
    }

    /// Number of events recorded.
    pub fn len(&self) -> u64 {
        self.events
    }

    /// Whether nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.events == 0
    }

    /// The last events, oldest first, one a line.
    pub fn tail(&self) -> String {
        self.recent.iter().map(|l| format!("  {l}\n")).collect()
    }
}
