//! Virtual time: the simulator's clock only moves when the next event or the worker's deadline
//! is due, so simulated minutes cost microseconds.

use trafficcop_core::proxy::Timestamp;

/// Nanoseconds in a microsecond.
pub const US: u64 = 1_000;
/// Nanoseconds in a millisecond.
pub const MS: u64 = 1_000_000;
/// Nanoseconds in a second.
pub const SEC: u64 = 1_000_000_000;

/// The virtual clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct Clock {
    now: Timestamp,
}

impl Clock {
    /// The current virtual time.
    pub fn now(&self) -> Timestamp {
        self.now
    }

    /// Moves to `t`; time never goes backwards.
    pub fn advance_to(&mut self, t: Timestamp) {
        assert!(
            t >= self.now,
            "virtual clock went backwards: {t:?} < {:?}",
            self.now
        );
        self.now = t;
    }

    /// `now + nanos`.
    pub fn in_nanos(&self, nanos: u64) -> Timestamp {
        Timestamp(self.now.0.saturating_add(nanos))
    }
}
