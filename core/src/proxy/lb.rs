//! Traefik's weighted round robin: earliest deadline first over `1/weight` steps (smooth, so
//! 11:3 gives `AAABAAAABAAABA`), servers with weight <= 0 never picked.

/// The round-robin state of one service.
#[derive(Debug, Clone)]
pub struct Wrr {
    weights: Vec<f64>,
    deadlines: Vec<f64>,
    current: f64,
}

impl Wrr {
    /// A balancer over servers with `weights` (index = server index).
    pub fn new(weights: &[i64]) -> Self {
        let weights: Vec<f64> = weights.iter().map(|w| *w as f64).collect();
        let deadlines = weights
            .iter()
            .map(|w| if *w > 0.0 { 1.0 / w } else { f64::INFINITY })
            .collect();
        Wrr {
            weights,
            deadlines,
            current: 0.0,
        }
    }

    /// The next server among those `up` says are available, or `None` when none is.
    ///
    /// As Traefik's heap, a server that is down still takes its turn: when it comes first it
    /// is passed over and its deadline moves on, so a server coming back is not owed the turns
    /// it missed (it would otherwise take every request until its deadline caught up).
    pub fn next(&mut self, up: impl Fn(usize) -> bool) -> Option<usize> {
        if !(0..self.weights.len()).any(|i| self.weights[i] > 0.0 && up(i)) {
            return None;
        }
        loop {
            let mut best: Option<usize> = None;
            for i in 0..self.weights.len() {
                if self.weights[i] <= 0.0 {
                    continue;
                }
                if best.is_none_or(|b| self.deadlines[i] < self.deadlines[b]) {
                    best = Some(i);
                }
            }
            let i = best?;
            self.current = self.deadlines[i];
            self.deadlines[i] = self.current + 1.0 / self.weights[i];
            if up(i) {
                return Some(i);
            }
        }
    }
}

/// Traefik's rendezvous-hash score of `name` (a server's URL, or a child service's name) with
/// weight `weight` for the client address `key`: `1 / -ln(FNV-1a-64(key + name) / 2^64)`
/// times the weight; the highest score wins.
pub fn hrw_score(key: &str, name: &str, weight: i64) -> f64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in key.bytes().chain(name.bytes()) {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    let score = h as f64 / 2f64.powi(64);
    1.0 / -score.ln() * weight as f64
}

/// A small deterministic PRNG (SplitMix64) for shuffling servers at build time; seeded from
/// configuration, never from the OS.
#[derive(Debug, Clone)]
pub struct SplitMix(pub u64);

impl SplitMix {
    /// The next pseudo-random number.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Shuffles `items` (Fisher-Yates).
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = (self.next_u64() % (i as u64 + 1)) as usize;
            items.swap(i, j);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn traefik_sequence_for_11_3() {
        let mut w = Wrr::new(&[11, 3]);
        let s: String = (0..14)
            .map(|_| {
                if w.next(|_| true) == Some(0) {
                    'A'
                } else {
                    'B'
                }
            })
            .collect();
        assert_eq!(s, "AAABAAAABAAABA");
    }

    #[test]
    fn shares_and_down_servers() {
        let mut w = Wrr::new(&[1, 2, 0]);
        let mut counts = [0; 3];
        for _ in 0..300 {
            counts[w.next(|_| true).unwrap()] += 1;
        }
        assert_eq!(counts, [100, 200, 0]);
        assert_eq!(w.next(|i| i == 2), None);
        assert_eq!(w.next(|i| i == 0), Some(0));
    }

    #[test]
    fn a_server_that_was_down_is_not_owed_its_turns() {
        let mut w = Wrr::new(&[1, 1]);
        let down = std::cell::Cell::new(true);
        for _ in 0..10 {
            assert_eq!(w.next(|i| i == 0 || !down.get()), Some(0));
        }
        down.set(false);
        let picks: Vec<_> = (0..4).map(|_| w.next(|_| true).unwrap()).collect();
        assert_eq!(picks.iter().filter(|i| **i == 1).count(), 2, "{picks:?}");
        assert_eq!(w.next(|_| false), None);
    }
}
