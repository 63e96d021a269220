//! Helping the allocator give a burst's memory back: what a worker thread does when it goes
//! quiet after work. (The process-wide part, `malloc_trim`, is the daemon's: see its
//! `memory` module.)
//!
//! glibc keeps a small cache per thread (its tcache: up to 7 freed chunks for each size up to
//! about 1 KiB). After a burst, that cache holds the chunks the burst freed last, scattered
//! over the pages of the heap's high-water mark. The allocator counts them as in use, so each
//! keeps its page resident and splits the free memory around it, which `malloc_trim` then
//! cannot return. After a 5 s HTTP/2 burst (2 workers), that was about 0.8 MiB of the idle
//! process's memory.
//!
//! [`settle_thread_cache`] refills the cache with chunks allocated together, after taking the
//! scattered ones out, and frees those: the cache is full then, so they go back to the heap,
//! where the next trim can return their pages. Under another allocator, or a glibc without
//! the cache, it is a few hundred allocations and frees that change nothing.

use super::io::Timestamp;

/// When a worker thread has gone quiet after work: then it settles its allocator cache once.
#[derive(Debug, Default)]
pub struct Quiet {
    /// When the thread last worked, if it has worked since it last settled.
    worked_at: Option<Timestamp>,
}

impl Quiet {
    /// How long without work counts as quiet (shorter than the daemon's trim takes to notice
    /// that the process is quiet, so the cache is settled before the heap is trimmed).
    pub const AFTER_NANOS: u64 = 250_000_000;

    /// The thread worked at `now`.
    pub fn work(&mut self, now: Timestamp) {
        self.worked_at = Some(now);
    }

    /// Whether to settle now: the thread worked, and nothing since [`Quiet::AFTER_NANOS`].
    /// Says yes once per quiet period.
    pub fn due(&mut self, now: Timestamp) -> bool {
        match self.worked_at {
            Some(at) if now.0.saturating_sub(at.0) >= Self::AFTER_NANOS => {
                self.worked_at = None;
                true
            }
            _ => false,
        }
    }
}

/// Chunks glibc's thread cache keeps per size.
const CACHED_PER_SIZE: usize = 7;
/// Sizes the cache serves: requests of 24 bytes, then every 16 bytes more, 64 sizes.
const CACHED_SIZES: usize = 64;

/// Replaces the chunks in this thread's allocator cache with chunks allocated together, and
/// frees the replaced ones to the heap (see the module's text). About 900 allocations and
/// frees: tens of microseconds, once per quiet period.
pub fn settle_thread_cache() {
    let mut cached: Vec<Vec<u8>> = Vec::with_capacity(CACHED_PER_SIZE);
    let mut fresh: Vec<Vec<u8>> = Vec::with_capacity(CACHED_PER_SIZE);
    for class in 0..CACHED_SIZES {
        let size = 24 + 16 * class;
        // The first ones come out of the cache, the next ones from the heap, side by side.
        cached.extend((0..CACHED_PER_SIZE).map(|_| std::hint::black_box(Vec::with_capacity(size))));
        fresh.extend((0..CACHED_PER_SIZE).map(|_| std::hint::black_box(Vec::with_capacity(size))));
        // The fresh ones fill the emptied cache; the scattered ones then go back to the heap.
        fresh.clear();
        cached.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quiet_is_due_once_after_work_and_a_pause() {
        let ms = |n: u64| Timestamp(n * 1_000_000);
        let mut q = Quiet::default();
        assert!(!q.due(ms(10_000)), "no work, nothing to settle");
        q.work(ms(1_000));
        assert!(!q.due(ms(1_100)));
        q.work(ms(1_200));
        assert!(!q.due(ms(1_400)), "work moved the pause");
        assert!(q.due(ms(1_450)));
        assert!(!q.due(ms(5_000)), "once per quiet period");
        q.work(ms(6_000));
        assert!(q.due(ms(7_000)));
    }
}
