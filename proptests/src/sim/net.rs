//! The network between the worker and the simulated peers: one [`Link`] per TCP connection,
//! byte streams cut into random segments with random (order-preserving) latency, half-close
//! (`Eof`) and resets (which may overtake data still in flight, as a real RST discards it).

use std::collections::VecDeque;

use bytes::Bytes;
use trafficcop_core::proxy::{ConnId, Timestamp};

use super::clock::{MS, US};
use super::rng::Rng;

/// What travels in one direction of a connection.
#[derive(Debug, Clone)]
pub enum Seg {
    /// Bytes.
    Data(Bytes),
    /// The sender finished (half-close).
    Eof,
    /// The connection broke.
    Reset,
}

impl Seg {
    /// A short description for the trace.
    pub fn describe(&self) -> String {
        match self {
            Seg::Data(b) => format!(
                "{}B #{:04x}",
                b.len(),
                super::trace::fnv(super::trace::FNV_START, b) & 0xffff
            ),
            Seg::Eof => "EOF".into(),
            Seg::Reset => "RST".into(),
        }
    }
}

/// Who is at the far end of a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// Client number.
    Client(usize),
    /// Backend number.
    Backend(usize),
}

/// One TCP connection between the worker and a peer.
#[derive(Debug)]
pub struct Link {
    /// The peer.
    pub side: Side,
    /// Delivery time of the last segment scheduled towards the worker (order is kept).
    pub to_worker_last: Timestamp,
    /// Delivery time of the last segment scheduled towards the peer.
    pub to_peer_last: Timestamp,
    /// The worker still tracks it: no `Close` issued, no `ConnectFailed` delivered.
    pub worker_open: bool,
    /// The peer reset it or crashed: nothing reaches the peer any more.
    pub peer_gone: bool,
    /// An upstream connect not answered yet.
    pub connecting: bool,
    /// The worker asked to stop reading (`PauseRead`).
    pub paused: bool,
    /// Segments that arrived while reads were paused, in order.
    pub held: VecDeque<Seg>,
    /// Bytes the worker sent towards the peer that the peer has not received yet.
    pub in_flight: usize,
    /// The peer reads slowly: each byte towards it takes this long to be delivered, ns.
    pub read_ns_per_byte: u64,
}

impl Link {
    /// A new connection at `now`.
    pub fn new(side: Side, now: Timestamp, connecting: bool) -> Self {
        Link {
            side,
            to_worker_last: now,
            to_peer_last: now,
            worker_open: true,
            peer_gone: false,
            connecting,
            paused: false,
            held: VecDeque::new(),
            in_flight: 0,
            read_ns_per_byte: 0,
        }
    }
}

/// One-way latency of a segment: mostly up to 3 ms, sometimes a spike up to 50 ms.
pub fn latency(rng: &mut Rng) -> u64 {
    if rng.chance(50) {
        rng.range(3 * MS, 50 * MS)
    } else {
        rng.range(10 * US, 3 * MS)
    }
}

/// Cuts `data` into segments of 1 byte up to a full segment (1,460 bytes; 16 KiB for writes
/// over 64 KiB), favouring tiny ones often enough to split every head and chunk header
/// somewhere.
pub fn cut(rng: &mut Rng, data: &Bytes) -> Vec<Bytes> {
    let mut out = Vec::new();
    let mut at = 0;
    while at < data.len() {
        // Large writes travel in large segments (as on loopback), which keeps megabyte
        // bodies to a few hundred events.
        let max = if rng.chance(300) {
            16
        } else if data.len() > 64 * 1024 {
            16 * 1024
        } else {
            1460
        };
        let n = rng.range_usize(1, max).min(data.len() - at);
        out.push(data.slice(at..at + n));
        at += n;
    }
    out
}

/// A connection id as text for the trace.
pub fn id(c: ConnId) -> String {
    format!("#{}", c.0)
}
