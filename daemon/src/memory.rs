//! Giving freed heap back to the operating system.
//!
//! glibc's allocator keeps what a burst of load freed: after an HTTP/2 load of 640 streams the
//! idle process stayed 5.8 MiB above its starting size until it exited. Go's runtime, and so
//! Traefik, returns idle heap to the system in the background; TrafficCop does the same with
//! glibc's `malloc_trim`, from one thread that reads the process's CPU time once a second and
//! trims when the process has worked since the last trim and then went quiet (and once more
//! [`TrimPolicy::AGAIN_AFTER`] later), or, under steady load, at most every
//! [`TrimPolicy::STEADY_EVERY`]. Each trim costs a walk of the free lists
//! and a few `madvise` calls; nothing on the request path changes.

use std::time::{Duration, Instant};

/// When to trim, from samples of the process's CPU time (in clock ticks).
#[derive(Debug)]
pub struct TrimPolicy {
    /// CPU time at the previous sample.
    last_cpu: u64,
    /// CPU time at the last trim (or at the start).
    cpu_at_trim: u64,
    /// When the last trim happened (or the start).
    trimmed_at: Instant,
    /// When to trim once more after a trim at a quiet moment, if still quiet then.
    again_at: Option<Instant>,
}

impl TrimPolicy {
    /// How often the CPU time is sampled.
    pub const TICK: Duration = Duration::from_secs(1);
    /// CPU ticks (of 10 ms) within one [`TrimPolicy::TICK`] that still count as quiet.
    pub const QUIET_TICKS: u64 = 1;
    /// Under load that never goes quiet, the longest time between trims.
    pub const STEADY_EVERY: Duration = Duration::from_secs(30);
    /// After a trim at a quiet moment, the wait before trimming once more. The worker threads
    /// settle their allocator caches when they go quiet (`trafficcop_core::proxy::heap`),
    /// which may come just after the first trim; the second returns what that freed.
    pub const AGAIN_AFTER: Duration = Duration::from_secs(2);

    /// A policy starting at `now`, with the process's CPU time `cpu` so far.
    pub fn new(now: Instant, cpu: u64) -> Self {
        TrimPolicy {
            last_cpu: cpu,
            cpu_at_trim: cpu,
            trimmed_at: now,
            again_at: None,
        }
    }

    /// Takes one sample; returns whether to trim now.
    pub fn sample(&mut self, now: Instant, cpu: u64) -> bool {
        let worked = cpu.saturating_sub(self.cpu_at_trim) > Self::QUIET_TICKS;
        let quiet = cpu.saturating_sub(self.last_cpu) <= Self::QUIET_TICKS;
        self.last_cpu = cpu;
        if self.again_at.is_some_and(|at| now >= at) {
            self.again_at = None;
            if !worked {
                self.trimmed_at = now;
                return true;
            }
        }
        let due = now.duration_since(self.trimmed_at) >= Self::STEADY_EVERY;
        if worked && (quiet || due) {
            self.cpu_at_trim = cpu;
            self.trimmed_at = now;
            self.again_at = quiet.then(|| now + Self::AGAIN_AFTER);
            return true;
        }
        false
    }
}

/// The process's user and system CPU time in clock ticks, from `/proc/self/stat`.
fn cpu_ticks() -> Option<u64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name (which may hold spaces) start with field 3, the state;
    // utime and stime are fields 14 and 15.
    let rest = &stat[stat.rfind(')')? + 1..];
    let mut fields = rest.split_ascii_whitespace().skip(11);
    let user: u64 = fields.next()?.parse().ok()?;
    let system: u64 = fields.next()?.parse().ok()?;
    Some(user + system)
}

/// Whether this build's allocator is glibc's, which keeps freed heap until told.
const GLIBC: bool = cfg!(all(target_os = "linux", target_env = "gnu"));

/// Returns the allocator's free pages to the system.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)]
fn trim() {
    // SAFETY: malloc_trim takes a byte count and has no other precondition; glibc locks each
    // arena while it trims, so other threads may allocate meanwhile.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// Other allocators return memory themselves (or lack `malloc_trim`); never called.
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn trim() {}

/// Starts the trimming thread (glibc only). Does nothing when the CPU time cannot be read.
pub fn start_trimming() {
    if !GLIBC {
        return;
    }
    let Some(cpu) = cpu_ticks() else { return };
    let mut policy = TrimPolicy::new(Instant::now(), cpu);
    let _ = std::thread::Builder::new()
        .name("trafficcop-memory".into())
        .spawn(move || loop {
            std::thread::sleep(TrimPolicy::TICK);
            let Some(cpu) = cpu_ticks() else { return };
            if policy.sample(Instant::now(), cpu) {
                trim();
            }
        });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(start: Instant, secs: u64) -> Instant {
        start + Duration::from_secs(secs)
    }

    #[test]
    fn an_idle_process_is_never_trimmed() {
        let t = Instant::now();
        let mut p = TrimPolicy::new(t, 50);
        assert!((1..120).all(|s| !p.sample(at(t, s), 50 + s / 60)));
    }

    #[test]
    fn work_then_a_quiet_second_trims_and_once_more_two_seconds_later() {
        let t = Instant::now();
        let mut p = TrimPolicy::new(t, 0);
        assert!(!p.sample(at(t, 1), 80), "busy: wait");
        assert!(!p.sample(at(t, 2), 170), "still busy");
        assert!(p.sample(at(t, 3), 170), "quiet after work");
        assert!(!p.sample(at(t, 4), 170), "nothing freed since");
        assert!(
            p.sample(at(t, 5), 171),
            "once more, for the worker threads' caches"
        );
        assert!((6..100).all(|s| !p.sample(at(t, s), 171)));
    }

    #[test]
    fn work_before_the_second_trim_waits_for_the_next_quiet_moment() {
        let t = Instant::now();
        let mut p = TrimPolicy::new(t, 0);
        assert!(!p.sample(at(t, 1), 80));
        assert!(p.sample(at(t, 2), 80));
        assert!(!p.sample(at(t, 3), 150), "busy again");
        assert!(
            !p.sample(at(t, 4), 240),
            "still busy at the second trim's time"
        );
        assert!(p.sample(at(t, 5), 240), "quiet after that work");
    }

    #[test]
    fn steady_load_trims_every_thirty_seconds() {
        let t = Instant::now();
        let mut p = TrimPolicy::new(t, 0);
        let trims: Vec<u64> = (1..=95).filter(|&s| p.sample(at(t, s), s * 90)).collect();
        assert_eq!(trims, vec![30, 60, 90]);
    }

    #[test]
    fn reads_this_process_cpu_time() {
        let before = cpu_ticks().expect("/proc/self/stat");
        let spin = Instant::now();
        let mut x = 0u64;
        while spin.elapsed() < Duration::from_millis(60) {
            x = std::hint::black_box(x.wrapping_add(1));
        }
        assert!(cpu_ticks().unwrap() > before, "60 ms of spinning shows up");
    }
}
