//! Benchmarks of the per-request hot paths of an HTTP/1.1 proxied request, each on its own:
//! parse the client's request head, rewrite the forwarded headers, encode the head sent to the
//! backend, parse the backend's response head; and the whole exchange through a worker (no
//! sockets). Routing has its own file (`routing.rs`).
//! Run: `cargo bench -p trafficcop-benches --bench hot_paths`.

use std::net::{IpAddr, Ipv4Addr};

use bytes::Bytes;
use criterion::{black_box, criterion_group, criterion_main, BatchSize, Criterion};
use trafficcop_core::h1::{encode_request_head, parse_request, parse_response, RequestLimits};
use trafficcop_core::http::RequestHead;
use trafficcop_core::proxy::compile::ForwardedPolicy;
use trafficcop_core::proxy::forward::{apply_entry_point, upstream_request};
use trafficcop_core::proxy::{ConnId, Input, Output, Timestamp, Worker};

use trafficcop_benches::{
    APP_RESPONSE, BACKEND_RESPONSE, BROWSER_REQUEST as BROWSER, WRK_REQUEST as WRK,
};

/// A client at 192.0.2.7 on an entry point that trusts no forwarded headers, behind the proxy
/// host `proxy-host`: what the forwarded-headers work applies to every request.
struct Forwarding {
    policy: ForwardedPolicy,
    client: IpAddr,
    text: Bytes,
    hostname: Bytes,
}

impl Forwarding {
    fn new() -> Self {
        Forwarding {
            policy: ForwardedPolicy {
                insecure: false,
                trusted: None,
                connection: Vec::new(),
                not_append_xff: false,
            },
            client: IpAddr::V4(Ipv4Addr::new(192, 0, 2, 7)),
            text: Bytes::from_static(b"192.0.2.7"),
            hostname: Bytes::from_static(b"proxy-host"),
        }
    }

    /// The entry point's forwarded headers, then the upstream request's hop-by-hop removal and
    /// `X-Forwarded-For`.
    fn apply(&self, head: &mut RequestHead) {
        let client = Some((self.client, &self.text));
        apply_entry_point(head, &self.policy, client, &self.hostname, false, false);
        upstream_request(head, Some(&self.text), self.policy.not_append_xff, None);
    }
}

fn parse_request_head(c: &mut Criterion) {
    let limits = RequestLimits::default();
    let mut group = c.benchmark_group("parse_request_head");
    for (name, bytes) in [("wrk", WRK), ("browser", BROWSER)] {
        group.bench_function(name, |b| {
            b.iter(|| parse_request(black_box(bytes), &limits).unwrap().unwrap())
        });
    }
    group.finish();
}

fn forwarded_headers(c: &mut Criterion) {
    let limits = RequestLimits::default();
    let fwd = Forwarding::new();
    let mut group = c.benchmark_group("forwarded_headers");
    for (name, bytes) in [("wrk", WRK), ("browser", BROWSER)] {
        let parsed = parse_request(bytes, &limits).unwrap().unwrap().0;
        group.bench_function(name, |b| {
            b.iter_batched_ref(
                || parsed.head.clone(),
                |head| fwd.apply(head),
                BatchSize::SmallInput,
            )
        });
    }
    group.finish();
}

fn encode_upstream_request(c: &mut Criterion) {
    let limits = RequestLimits::default();
    let fwd = Forwarding::new();
    let mut group = c.benchmark_group("encode_upstream_request");
    for (name, bytes) in [("wrk", WRK), ("browser", BROWSER)] {
        let mut head = parse_request(bytes, &limits).unwrap().unwrap().0.head;
        fwd.apply(&mut head);
        let mut out = Vec::with_capacity(1024);
        group.bench_function(name, |b| {
            b.iter(|| {
                out.clear();
                encode_request_head(black_box(&head), "bench.local", &mut out);
                out.len()
            })
        });
    }
    group.finish();
}

fn parse_response_head(c: &mut Criterion) {
    let mut group = c.benchmark_group("parse_response_head");
    for (name, bytes) in [("nginx", BACKEND_RESPONSE), ("app", APP_RESPONSE)] {
        group.bench_function(name, |b| {
            b.iter(|| parse_response(black_box(bytes), false).unwrap().unwrap())
        });
    }
    group.finish();
}

/// Every output of the worker drained; the upstream connection it asked to dial, if any.
fn drain(w: &mut Worker) -> Option<ConnId> {
    let mut connect = None;
    while let Some(o) = w.poll_output() {
        if let Output::Connect { conn, .. } = o {
            connect = Some(conn);
        }
    }
    while w.poll_event().is_some() {}
    connect
}

fn feed(w: &mut Worker, conn: ConnId, data: &Bytes) {
    let t = Timestamp(0);
    w.handle_input(
        t,
        Input::Received {
            conn,
            data: data.clone(),
        },
    );
}

/// One keep-alive request and its response through a worker: client bytes in, the backend's
/// head out, the backend's response in, the client's response out, both writes reported.
fn proxy_exchange(c: &mut Criterion) {
    let mut group = c.benchmark_group("proxy_exchange");
    for (name, req, resp) in [
        ("wrk", WRK, BACKEND_RESPONSE),
        ("browser", BROWSER, APP_RESPONSE),
    ] {
        let mut w = trafficcop_benches::bench_worker();
        let t = Timestamp(0);
        let client = w.accept(t, 0, "127.0.0.1:40000".parse().unwrap());
        let req = Bytes::from_static(req);
        let resp = Bytes::from_static(resp);
        feed(&mut w, client, &req);
        let up = drain(&mut w).expect("the worker dials the backend");
        w.handle_input(t, Input::Connected { conn: up });
        drain(&mut w);
        feed(&mut w, up, &resp);
        drain(&mut w);
        group.bench_function(name, |b| {
            b.iter(|| {
                feed(&mut w, client, &req);
                drain(&mut w);
                w.handle_input(t, Input::Writable { conn: up });
                drain(&mut w);
                feed(&mut w, up, &resp);
                drain(&mut w);
                w.handle_input(t, Input::Writable { conn: client });
                drain(&mut w);
            })
        });
    }
    group.finish();
}

// `criterion_group!` generates a public function that cannot carry a doc comment.
#[allow(missing_docs)]
mod groups {
    use super::*;
    criterion_group!(
        hot_paths,
        parse_request_head,
        forwarded_headers,
        encode_upstream_request,
        parse_response_head,
        proxy_exchange
    );
}
criterion_main!(groups::hot_paths);
