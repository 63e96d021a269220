//! Benchmark (not a test): the core's cost per request proxied from HTTP/2 (h2c with prior
//! knowledge) to HTTP/1.1 backends, without sockets. One client connection keeps `STREAMS`
//! requests in flight, as `h2load -m10` does; each round opens them, answers every upstream
//! request with the backend's response and feeds the frames back to the client.
//! Run: `cargo run --release -p trafficcop-benches --bin h2_cycle [ROUNDS]`.
//!
//! The client is the core's own [`H2Client`]; to count only the proxy, run it under callgrind
//! with `--toggle-collect='*Worker*'`.

use std::collections::HashSet;
use std::time::Instant;

use bytes::Bytes;
use trafficcop_core::h2::{H2Client, H2Event};
use trafficcop_core::proxy::{ConnId, Input, Output, Timestamp, Worker};

/// Requests in flight on the client connection.
const STREAMS: usize = 10;

/// What the worker asked for in one drain.
#[derive(Default)]
struct Drained {
    to_client: Vec<u8>,
    /// Upstream connections that were sent a request.
    requested: Vec<ConnId>,
    connects: Vec<ConnId>,
}

fn drain(w: &mut Worker, client: ConnId, ups: &HashSet<ConnId>, d: &mut Drained) {
    while let Some(o) = w.poll_output() {
        match o {
            Output::Connect { conn, .. } => d.connects.push(conn),
            Output::Send { conn, data } if conn == client => d.to_client.extend_from_slice(&data),
            Output::Send { conn, .. } if ups.contains(&conn) || d.connects.contains(&conn) => {
                d.requested.push(conn)
            }
            _ => {}
        }
    }
    while w.poll_event().is_some() {}
}

fn request() -> http::Request<()> {
    http::Request::builder()
        .uri("http://bench.local/")
        .header("user-agent", "h2load")
        .body(())
        .expect("a valid request")
}

fn main() {
    let rounds: u64 = trafficcop_benches::count_arg(100_000);
    let mut w = trafficcop_benches::bench_worker();
    let t = Timestamp(0);
    let client = w.accept(t, 0, "127.0.0.1:40000".parse().expect("an address"));
    let mut h2 = H2Client::new();
    let mut ups = HashSet::new();
    let resp = Bytes::from_static(trafficcop_benches::BACKEND_RESPONSE);
    let mut events = Vec::new();
    let (mut done, mut bytes) = (0u64, 0usize);
    let start = Instant::now();
    for _ in 0..rounds {
        for _ in 0..STREAMS {
            h2.open(request(), true);
        }
        let mut open = STREAMS;
        let mut guard = 0;
        while open > 0 {
            guard += 1;
            assert!(
                guard < 100,
                "the round does not finish: {open} streams open"
            );
            h2.poll(&mut events);
            let out = h2.take_output();
            let mut d = Drained::default();
            if !out.is_empty() {
                w.handle_input(
                    t,
                    Input::Received {
                        conn: client,
                        data: Bytes::from(out),
                    },
                );
                drain(&mut w, client, &ups, &mut d);
            }
            // Dials succeed; every request sent upstream is answered.
            for c in std::mem::take(&mut d.connects) {
                ups.insert(c);
                w.handle_input(t, Input::Connected { conn: c });
                drain(&mut w, client, &ups, &mut d);
            }
            let mut i = 0;
            while i < d.requested.len() {
                let c = d.requested[i];
                i += 1;
                w.handle_input(t, Input::Writable { conn: c });
                w.handle_input(
                    t,
                    Input::Received {
                        conn: c,
                        data: resp.clone(),
                    },
                );
                drain(&mut w, client, &ups, &mut d);
            }
            // As an adapter does at the end of its turn: the responses those inputs completed
            // are encoded for the client now (the core makes that due at once).
            if w.handle_due(t) {
                drain(&mut w, client, &ups, &mut d);
            }
            if !d.to_client.is_empty() {
                bytes += d.to_client.len();
                w.handle_input(t, Input::Writable { conn: client });
                drain(&mut w, client, &ups, &mut d);
                h2.receive(&d.to_client);
            }
            h2.poll(&mut events);
            for e in events.drain(..) {
                match e {
                    H2Event::Data {
                        stream,
                        end_stream: true,
                        ..
                    } => {
                        h2.close_stream(stream);
                        open -= 1;
                        done += 1;
                    }
                    H2Event::Reset { .. } | H2Event::Refused { .. } => {
                        panic!("a stream failed: {e:?}")
                    }
                    _ => {}
                }
            }
        }
    }
    let el = start.elapsed();
    println!(
        "{done} requests over h2c in {:.2?}: {:.0} ns per request, client included ({} upstream connections, {} bytes to the client)",
        el,
        el.as_nanos() as f64 / done as f64,
        ups.len(),
        bytes
    );
}
