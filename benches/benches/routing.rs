//! Per-request routing cost: router table lookup with 1, 100 and 10,000 `Host` routers, a
//! `Host && PathPrefix` match, and mixed tables of `PathPrefix`, `Header` and regex rules (which
//! the host index cannot file, so they are scanned in priority order).

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use trafficcop_core::rule::{
    effective_priority, parse_http_rule, HttpRequestView, Protocol, ProviderRank, RequestHeaders,
    RouteSpec, RouterTable, RuleSyntax,
};

fn table(rules: &[String]) -> RouterTable {
    RouterTable::build(
        rules
            .iter()
            .enumerate()
            .map(|(i, r)| RouteSpec {
                name: format!("r{i}@file"),
                rule: parse_http_rule(r, RuleSyntax::V3).expect("rule"),
                priority: effective_priority(0, r, Protocol::Http),
                rank: ProviderRank::UNLISTED,
            })
            .collect(),
    )
}

fn view<'a>(host: &'a str, path: &'a str, headers: &'a dyn RequestHeaders) -> HttpRequestView<'a> {
    HttpRequestView {
        method: "GET",
        host,
        path,
        raw_query: "",
        headers,
        client_ip: "10.0.0.1".parse().ok(),
        tls: false,
    }
}

fn host_tables(c: &mut Criterion) {
    let headers: [(&str, &str); 2] = [("Accept", "*/*"), ("User-Agent", "bench")];
    let mut group = c.benchmark_group("host_routers");
    for n in [1usize, 100, 10_000] {
        let rules: Vec<String> = (0..n)
            .map(|i| format!("Host(`host{i}.example.com`)"))
            .collect();
        let t = table(&rules);
        let host = format!("host{}.example.com", n / 2);
        let v = view(&host, "/index.html", &headers);
        assert!(t.lookup(&v).is_some());
        group.bench_function(format!("{n}"), |b| {
            b.iter(|| black_box(&t).lookup(black_box(&v)))
        });
    }
    let rules: Vec<String> = (0..10_000)
        .map(|i| format!("Host(`host{i}.example.com`)"))
        .collect();
    let t = table(&rules);
    let v = view("unknown.example.com", "/", &headers);
    group.bench_function("10000_miss", |b| {
        b.iter(|| black_box(&t).lookup(black_box(&v)))
    });
    group.finish();
}

fn host_and_prefix(c: &mut Criterion) {
    let headers: [(&str, &str); 1] = [("Accept", "*/*")];
    let rule =
        parse_http_rule("Host(`example.com`) && PathPrefix(`/api`)", RuleSyntax::V3).expect("rule");
    let v = view("example.com", "/api/v1/users", &headers);
    assert!(rule.matches(&v));
    c.bench_function("host_pathprefix_match", |b| {
        b.iter(|| black_box(&rule).matches(black_box(&v)))
    });
    let t = table(&["Host(`example.com`) && PathPrefix(`/api`)".to_string()]);
    c.bench_function("host_pathprefix_table_1", |b| {
        b.iter(|| black_box(&t).lookup(black_box(&v)))
    });
}

fn mixed(c: &mut Criterion) {
    let headers: [(&str, &str); 2] = [("X-Tenant", "t7"), ("Accept", "*/*")];
    let mut group = c.benchmark_group("mixed_routers");
    for n in [100usize, 1_000] {
        let rules: Vec<String> = (0..n)
            .map(|i| match i % 5 {
                0 => format!("Host(`svc{i}.example.com`) && PathPrefix(`/api/{i}`)"),
                1 => format!("PathPrefix(`/static/{i}/`)"),
                2 => format!("Header(`X-Tenant`, `t{i}`) && PathPrefix(`/t`)"),
                3 => format!("HostRegexp(`^svc{i}\\.internal\\.`)"),
                _ => format!("PathRegexp(`^/v[0-9]+/item{i}$`)"),
            })
            .collect();
        let t = table(&rules);
        // Hits a scanned rule far down the order, and a host-indexed one.
        let late = format!("/v2/item{}", n - 1);
        let v_scan = view("nowhere.example.com", &late, &headers);
        assert!(t.lookup(&v_scan).is_some());
        group.bench_function(format!("{n}_scanned_hit"), |b| {
            b.iter(|| black_box(&t).lookup(black_box(&v_scan)))
        });
        let v_host = view("svc0.example.com", "/api/0/x", &headers);
        assert!(t.lookup(&v_host).is_some());
        group.bench_function(format!("{n}_host_hit"), |b| {
            b.iter(|| black_box(&t).lookup(black_box(&v_host)))
        });
    }
    group.finish();
}

// `criterion_group!` generates a public function that cannot carry a doc comment.
#[allow(missing_docs)]
mod group {
    use super::*;
    criterion_group! {
    name = benches;
    config = Criterion::default();
    targets = host_tables, host_and_prefix, mixed
    }
}
criterion_main!(group::benches);
