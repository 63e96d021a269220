//! What a `circuitBreaker` watches (oxy's `memmetrics.RTMetrics`, as Traefik builds it): the
//! answers of the last 10 seconds counted per second (all, network errors, per status code),
//! and their latencies in an HDR histogram of 2 significant figures rolled over six periods of
//! 10 seconds. Times are the worker's clock in nanoseconds.

use std::collections::BTreeMap;

/// Seconds a counter remembers (oxy: 10 buckets of one second).
const COUNTER_BUCKETS: usize = 10;
/// Sub-histograms of the rolling latency histogram.
const HIST_BUCKETS: usize = 6;
/// How long one sub-histogram takes values before the next one (10 s).
const HIST_PERIOD: u64 = 10_000_000_000;
/// Counts of an HDR histogram from 1 µs to an hour with 2 significant figures (26 half
/// buckets of 128); a value beyond is not recorded, as the HDR library refuses it.
const HIST_COUNTS: u32 = 26 * 128;

/// A count over the last [`COUNTER_BUCKETS`] seconds (oxy's `RollingCounter`).
#[derive(Debug, Clone, Default)]
struct RollingCounter {
    values: [i64; COUNTER_BUCKETS],
    /// The second of the last increment; `None` before the first.
    last: Option<i64>,
}

impl RollingCounter {
    fn bucket(second: i64) -> usize {
        second.rem_euclid(COUNTER_BUCKETS as i64) as usize
    }

    /// Forgets the seconds that passed since the last increment.
    fn cleanup(&mut self, now: u64) {
        let second = seconds(now);
        for i in 0..COUNTER_BUCKETS as i64 {
            let at = second - i;
            if self.last.is_some_and(|last| at <= last) {
                break;
            }
            self.values[Self::bucket(at)] = 0;
        }
    }

    fn inc(&mut self, now: u64) {
        self.cleanup(now);
        let second = seconds(now);
        self.values[Self::bucket(second)] += 1;
        self.last = Some(second);
    }

    fn count(&mut self, now: u64) -> i64 {
        self.cleanup(now);
        self.values.iter().sum()
    }
}

fn seconds(now: u64) -> i64 {
    (now / 1_000_000_000) as i64
}

/// An HDR histogram of microseconds (1 µs to an hour, 2 significant figures), counts kept
/// sparse by index: the index order is the value order.
#[derive(Debug, Clone, Default)]
struct Hdr {
    counts: BTreeMap<u32, u64>,
}

impl Hdr {
    /// The count index of `v`: 256 sub-buckets, the upper half of each bucket after the first
    /// doubling the unit.
    fn index(v: u64) -> u32 {
        let bucket = (64 - (v | 255).leading_zeros()) - 8;
        let sub = (v >> bucket) as u32;
        ((bucket + 1) << 7) + sub - 128
    }

    /// The highest value counted at `index`.
    fn highest_at(index: u32) -> u64 {
        let (bucket, sub) = match (index >> 7).checked_sub(1) {
            Some(b) => (b, (index & 127) + 128),
            None => (0, index & 127),
        };
        (u64::from(sub) << bucket) + (1u64 << bucket) - 1
    }

    fn record(&mut self, micros: u64) {
        let i = Self::index(micros);
        if i < HIST_COUNTS {
            *self.counts.entry(i).or_default() += 1;
        }
    }

    /// The value at percentile `q` (0–100), as the HDR library gives it: the highest value
    /// equivalent to the first one whose cumulated count reaches `q`% of the total (rounded).
    fn value_at_quantile(&self, q: f64) -> u64 {
        let total: u64 = self.counts.values().sum();
        let wanted = ((q.min(100.0) / 100.0) * total as f64 + 0.5) as i64;
        if wanted <= 0 {
            return 0;
        }
        let mut seen = 0u64;
        for (&i, &n) in &self.counts {
            seen += n;
            if seen as i64 >= wanted {
                return Self::highest_at(i);
            }
        }
        0
    }
}

/// Latencies over the last six periods (oxy's `RollingHDRHistogram`).
#[derive(Debug, Clone, Default)]
struct RollingHdr {
    buckets: [Hdr; HIST_BUCKETS],
    idx: usize,
    /// When the current sub-histogram started; `None` before the first value.
    last_roll: Option<u64>,
}

impl RollingHdr {
    fn record(&mut self, micros: u64, now: u64) {
        let due = self
            .last_roll
            .is_none_or(|at| now.saturating_sub(at) >= HIST_PERIOD);
        if due {
            self.idx = (self.idx + 1) % HIST_BUCKETS;
            self.buckets[self.idx] = Hdr::default();
            self.last_roll = Some(now);
        }
        self.buckets[self.idx].record(micros);
    }

    fn merged(&self) -> Hdr {
        let mut all = Hdr::default();
        for b in &self.buckets {
            for (&i, &n) in &b.counts {
                *all.counts.entry(i).or_default() += n;
            }
        }
        all
    }

    fn reset(&mut self, now: u64) {
        *self = RollingHdr {
            last_roll: Some(now),
            ..RollingHdr::default()
        };
    }
}

/// The answers a circuit breaker saw (oxy's `RTMetrics`).
#[derive(Debug, Clone, Default)]
pub(super) struct Metrics {
    total: RollingCounter,
    network_errors: RollingCounter,
    codes: BTreeMap<u16, RollingCounter>,
    latency: RollingHdr,
}

impl Metrics {
    /// Counts an answer of `status` that took `latency` nanoseconds; 502 and 504 are network
    /// errors.
    pub fn record(&mut self, status: u16, latency: u64, now: u64) {
        self.total.inc(now);
        if status == 502 || status == 504 {
            self.network_errors.inc(now);
        }
        self.codes.entry(status).or_default().inc(now);
        self.latency.record(latency / 1_000, now);
    }

    /// `NetworkErrorRatio()`: network errors over all answers (0 without answers).
    pub fn network_error_ratio(&mut self, now: u64) -> f64 {
        let total = self.total.count(now);
        if total == 0 {
            return 0.0;
        }
        self.network_errors.count(now) as f64 / total as f64
    }

    /// `ResponseCodeRatio(a, b, c, d)`: answers with a status in `[a, b)` over those in
    /// `[c, d)` (0 when there are none of the latter).
    pub fn response_code_ratio(&mut self, a: (i64, i64), b: (i64, i64), now: u64) -> f64 {
        let (mut x, mut y) = (0i64, 0i64);
        for (&code, counter) in &mut self.codes {
            let code = i64::from(code);
            let n = counter.count(now);
            if code >= a.0 && code < a.1 {
                x += n;
            }
            if code >= b.0 && code < b.1 {
                y += n;
            }
        }
        if y == 0 {
            return 0.0;
        }
        x as f64 / y as f64
    }

    /// `LatencyAtQuantileMS(q)`: the latency at percentile `q`, in whole milliseconds.
    pub fn latency_at_quantile_ms(&self, q: f64) -> i64 {
        (self.latency.merged().value_at_quantile(q) / 1_000) as i64
    }

    /// `RequestThreshold()`: the answers counted.
    pub fn total(&mut self, now: u64) -> i64 {
        self.total.count(now)
    }

    /// Forgets everything (when the breaker trips).
    pub fn reset(&mut self, now: u64) {
        self.total = RollingCounter::default();
        self.network_errors = RollingCounter::default();
        self.codes.clear();
        self.latency.reset(now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: u64 = 1_000_000_000;

    #[test]
    fn counters_forget_after_ten_seconds() {
        let mut c = RollingCounter::default();
        c.inc(100 * S);
        c.inc(100 * S + S / 2);
        c.inc(105 * S);
        assert_eq!(c.count(105 * S), 3);
        assert_eq!(c.count(109 * S + S - 1), 3);
        assert_eq!(c.count(110 * S), 1, "second 100 left the window");
        assert_eq!(c.count(115 * S), 0);
        // Early times (the worker's clock starts at 0) do not wrap.
        let mut c = RollingCounter::default();
        c.inc(0);
        assert_eq!(c.count(S), 1);
    }

    #[test]
    fn hdr_indexes_and_values_as_the_library() {
        for v in [
            0u64,
            1,
            127,
            128,
            255,
            256,
            257,
            1000,
            12_345,
            3_600_000_000,
        ] {
            let i = Hdr::index(v);
            let top = Hdr::highest_at(i);
            assert!(top >= v, "{v}: {top}");
            assert_eq!(Hdr::index(top), i, "{v}");
            assert_ne!(Hdr::index(top + 1), i, "{v}");
        }
        // Values up to 255 are exact; then 2 significant figures (1/128 at most).
        assert_eq!(Hdr::highest_at(Hdr::index(200)), 200);
        assert_eq!(Hdr::highest_at(Hdr::index(256)), 257);
        assert_eq!(Hdr::highest_at(Hdr::index(100_000)), 100_351);
    }

    #[test]
    fn quantiles_as_the_library() {
        let mut h = Hdr::default();
        assert_eq!(h.value_at_quantile(50.0), 0);
        for v in 1..=100 {
            h.record(v * 1_000);
        }
        // 50% of 100 = the 50th value (50 ms, rounded up to its bucket's top).
        assert_eq!(h.value_at_quantile(50.0) / 1_000, 50);
        assert_eq!(h.value_at_quantile(100.0) / 1_000, 100);
        assert_eq!(h.value_at_quantile(0.0), 0);
    }

    #[test]
    fn ratios_and_latency() {
        let mut m = Metrics::default();
        let now = 50 * S;
        assert_eq!(m.network_error_ratio(now), 0.0);
        assert_eq!(m.response_code_ratio((500, 600), (0, 600), now), 0.0);
        m.record(200, 10_000_000, now);
        m.record(502, 30_000_000, now);
        m.record(504, 30_000_000, now);
        m.record(500, 30_000_000, now);
        assert_eq!(m.network_error_ratio(now), 0.5);
        assert_eq!(m.response_code_ratio((500, 600), (0, 600), now), 0.75);
        assert_eq!(m.total(now), 4);
        assert_eq!(m.latency_at_quantile_ms(50.0), 30);
        assert_eq!(m.latency_at_quantile_ms(25.0), 10);
        assert_eq!(
            m.latency_at_quantile_ms(10.0),
            0,
            "0.4 of a value rounds to none"
        );
        m.reset(now);
        assert_eq!(m.total(now), 0);
        assert_eq!(m.latency_at_quantile_ms(50.0), 0);
        // Latencies stay for a minute, counts for ten seconds.
        m.record(200, 80_000_000, now);
        assert_eq!(m.total(now + 11 * S), 0);
        assert_eq!(m.latency_at_quantile_ms(50.0), 80);
    }
}
