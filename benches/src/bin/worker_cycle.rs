//! Benchmark (not a test): the core's cost per proxied request, without sockets. One client
//! connection and one pooled upstream connection; each cycle feeds a request, the backend's
//! response, and the adapter's `Writable` reports, draining every output.
//! Run: `cargo run --release -p trafficcop-benches --bin worker_cycle [N] [browser]`.
#![allow(unsafe_code)] // the counting allocator below only delegates to the system allocator

use std::time::Instant;

use bytes::Bytes;
use trafficcop_core::proxy::{ConnId, Input, Output, Timestamp, Worker};

/// Counts allocations, to report them per request.
struct Counting;
static ALLOCS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
// SAFETY: every method forwards its arguments unchanged to `System`.
unsafe impl std::alloc::GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: std::alloc::Layout) -> *mut u8 {
        ALLOCS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        unsafe { std::alloc::System.alloc(l) }
    }
    unsafe fn dealloc(&self, p: *mut u8, l: std::alloc::Layout) {
        unsafe { std::alloc::System.dealloc(p, l) }
    }
    unsafe fn realloc(&self, p: *mut u8, l: std::alloc::Layout, n: usize) -> *mut u8 {
        ALLOCS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        unsafe { std::alloc::System.realloc(p, l, n) }
    }
}
#[global_allocator]
static GLOBAL: Counting = Counting;

fn drain(w: &mut Worker) -> (Option<ConnId>, usize) {
    let mut connect = None;
    let mut sent = 0;
    while let Some(o) = w.poll_output() {
        match o {
            Output::Connect { conn, .. } => connect = Some(conn),
            Output::Send { data, .. } => sent += data.len(),
            _ => {}
        }
    }
    while w.poll_event().is_some() {}
    (connect, sent)
}

fn main() {
    let n: u64 = trafficcop_benches::count_arg(1_000_000);
    let mut w = trafficcop_benches::bench_worker();
    let t = Timestamp(0);
    let client = w.accept(t, 0, "127.0.0.1:40000".parse().unwrap());
    // `worker_cycle N browser`: a browser's request and a web application's answer instead.
    let browser = std::env::args().nth(2).is_some_and(|a| a == "browser");
    let (req, resp) = if browser {
        (
            trafficcop_benches::BROWSER_REQUEST,
            trafficcop_benches::APP_RESPONSE,
        )
    } else {
        (
            trafficcop_benches::WRK_REQUEST,
            trafficcop_benches::BACKEND_RESPONSE,
        )
    };
    let req = Bytes::from_static(req);
    let resp = Bytes::from_static(resp);
    w.handle_input(
        t,
        Input::Received {
            conn: client,
            data: req.clone(),
        },
    );
    let (up, _) = drain(&mut w);
    let up = up.expect("connect");
    w.handle_input(t, Input::Connected { conn: up });
    drain(&mut w);
    w.handle_input(
        t,
        Input::Received {
            conn: up,
            data: resp.clone(),
        },
    );
    drain(&mut w);
    let a0 = ALLOCS.load(std::sync::atomic::Ordering::Relaxed);
    let start = Instant::now();
    let mut bytes = 0;
    for _ in 0..n {
        w.handle_input(
            t,
            Input::Received {
                conn: client,
                data: req.clone(),
            },
        );
        bytes += drain(&mut w).1;
        w.handle_input(t, Input::Writable { conn: up });
        drain(&mut w);
        w.handle_input(
            t,
            Input::Received {
                conn: up,
                data: resp.clone(),
            },
        );
        bytes += drain(&mut w).1;
        w.handle_input(t, Input::Writable { conn: client });
        drain(&mut w);
    }
    let el = start.elapsed();
    let allocs = ALLOCS.load(std::sync::atomic::Ordering::Relaxed) - a0;
    println!(
        "{n} proxied requests in {:.2?}: {:.0} ns and {:.1} allocations per request ({} bytes sent)",
        el,
        el.as_nanos() as f64 / n as f64,
        allocs as f64 / n as f64,
        bytes
    );
}
