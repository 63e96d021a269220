//! The event queue: a min-heap keyed by `(deliver_at, seq)`, where `seq` is the insertion order,
//! so events due at the same instant run in the order they were scheduled (a total order, which
//! is what makes a run a function of its seed).

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use trafficcop_core::proxy::Timestamp;

struct Entry<T> {
    at: Timestamp,
    seq: u64,
    item: T,
}

impl<T> PartialEq for Entry<T> {
    fn eq(&self, other: &Self) -> bool {
        (self.at, self.seq) == (other.at, other.seq)
    }
}
impl<T> Eq for Entry<T> {}
impl<T> PartialOrd for Entry<T> {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl<T> Ord for Entry<T> {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.at, self.seq).cmp(&(other.at, other.seq))
    }
}

/// A priority queue of scheduled events.
pub struct EventQueue<T> {
    heap: BinaryHeap<Reverse<Entry<T>>>,
    seq: u64,
}

impl<T> Default for EventQueue<T> {
    fn default() -> Self {
        EventQueue {
            heap: BinaryHeap::new(),
            seq: 0,
        }
    }
}

impl<T> EventQueue<T> {
    /// Schedules `item` at `at`.
    pub fn push(&mut self, at: Timestamp, item: T) {
        self.seq += 1;
        self.heap.push(Reverse(Entry {
            at,
            seq: self.seq,
            item,
        }));
    }

    /// When the next event is due.
    pub fn peek_time(&self) -> Option<Timestamp> {
        self.heap.peek().map(|e| e.0.at)
    }

    /// Removes the next event.
    pub fn pop(&mut self) -> Option<(Timestamp, T)> {
        self.heap.pop().map(|e| (e.0.at, e.0.item))
    }

    /// Number of scheduled events.
    pub fn len(&self) -> usize {
        self.heap.len()
    }

    /// Whether nothing is scheduled.
    pub fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }
}

/// What a simulation does next: fire the worker's deadline (at or before the next event, so
/// a timeout due now fires before events of the same instant), handle the next event, or stop
/// (nothing left).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Call `handle_timeout` at this time.
    Timeout(Timestamp),
    /// Pop and handle the next event.
    Event,
    /// The run is quiet.
    Done,
}

/// The next [`Step`] from the next event's time and the worker's deadline.
pub fn next_step(next_event: Option<Timestamp>, deadline: Option<Timestamp>) -> Step {
    match (next_event, deadline) {
        (None, None) => Step::Done,
        (_, None) => Step::Event,
        (None, Some(t)) => Step::Timeout(t),
        (Some(e), Some(t)) if t <= e => Step::Timeout(t),
        _ => Step::Event,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordered_by_time_then_insertion() {
        let mut q = EventQueue::default();
        q.push(Timestamp(5), "b");
        q.push(Timestamp(1), "a");
        q.push(Timestamp(5), "c");
        let order: Vec<_> = std::iter::from_fn(|| q.pop()).map(|(_, x)| x).collect();
        assert_eq!(order, ["a", "b", "c"]);
    }
}
