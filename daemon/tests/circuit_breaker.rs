//! `circuitBreaker` end to end, TrafficCop and real Traefik 3.7.15 on one configuration:
//! - on server errors (`ResponseCodeRatio`): served until the ratio holds at a check, then the
//!   fallback answer for `fallbackDuration`; the first request after it is refused too (the
//!   recovery starts with nothing let through), and after `recoveryDuration` requests are served
//!   again;
//! - a second router using the same middleware has a breaker of its own;
//! - on a dead server (`NetworkErrorRatio`: the proxy's own 502s count);
//! - on latency (`LatencyAtQuantileMS`), with another `responseCode`;
//! - an expression oxy refuses disables its router (404).

mod common;

use std::time::Duration;

use common::{assert_same, free_port, get, recording_backend, start_with_dynamic};

fn answer(first: &str, _: &str) -> String {
    if first.starts_with("GET /fail") {
        return "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 5\r\n\r\nfail\n".into();
    }
    if first.starts_with("GET /slow") {
        std::thread::sleep(Duration::from_millis(300));
    }
    "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nok\n".into()
}

/// The answer's status line, the header names and values that do not change, and the body.
fn shown(answer: &str) -> String {
    answer
        .lines()
        .map(|l| l.strip_suffix('\r').unwrap_or(l))
        .filter(|l| !l.starts_with("Date:"))
        .collect::<Vec<_>>()
        .join("\n")
}

fn outcomes(bin: &std::path::Path) -> Vec<String> {
    let (backend, _) = recording_backend(answer);
    let dead = free_port();
    let port = free_port();
    let dynamic = format!(
        r#"
http:
  routers:
    codes:
      rule: "Host(`codes.example`)"
      service: app
      middlewares: [cb-codes]
    codes-too:
      rule: "Host(`codes-too.example`)"
      service: app
      middlewares: [cb-codes]
    dead:
      rule: "Host(`dead.example`)"
      service: gone
      middlewares: [cb-network]
    slow:
      rule: "Host(`slow.example`)"
      service: app
      middlewares: [cb-latency]
    broken:
      rule: "Host(`broken.example`)"
      service: app
      middlewares: [cb-broken]
    ready:
      rule: "Host(`ready.example`)"
      service: app
  middlewares:
    cb-codes:
      circuitBreaker:
        expression: "ResponseCodeRatio(500, 600, 0, 600) > 0.5"
        checkPeriod: 20ms
        fallbackDuration: 1s
        recoveryDuration: 1s
    cb-network:
      circuitBreaker:
        expression: "NetworkErrorRatio() > 0.5"
    cb-latency:
      circuitBreaker:
        expression: "LatencyAtQuantileMS(50.0) > 200"
        responseCode: 429
    cb-broken:
      circuitBreaker:
        expression: "LatencyAtQuantileMS(50) > 200"
  services:
    app:
      loadBalancer:
        servers: [{{url: "http://127.0.0.1:{backend}"}}]
    gone:
      loadBalancer:
        servers: [{{url: "http://127.0.0.1:{dead}"}}]
"#
    );
    let _p = start_with_dynamic("circuit-breaker", bin, port, &dynamic);
    common::wait_served(port, "/");
    let pause = || std::thread::sleep(Duration::from_millis(60));
    let mut out = Vec::new();
    let mut ask = |path: &str, host: &str| {
        out.push(shown(&get(port, path, host)));
        pause();
    };
    // Server errors: 1 of 1 is fine, then 2 of 3 trip at the next check.
    ask("/ok", "codes.example");
    ask("/fail", "codes.example");
    ask("/fail", "codes.example");
    ask("/ok", "codes.example");
    ask("/ok", "codes.example");
    // The other router's breaker saw nothing.
    ask("/ok", "codes-too.example");
    // A dead server: its 502 trips the breaker at once (the first check).
    ask("/", "dead.example");
    ask("/", "dead.example");
    // Latency: one slow answer.
    ask("/slow", "slow.example");
    ask("/", "slow.example");
    // A refused expression.
    ask("/", "broken.example");
    // After the fallback: the recovery starts by refusing; after it, served.
    std::thread::sleep(Duration::from_millis(1200));
    ask("/ok", "codes.example");
    std::thread::sleep(Duration::from_millis(1200));
    ask("/ok", "codes.example");
    ask("/ok", "codes.example");
    out
}

#[test]
fn circuit_breaker_answers_as_traefik() {
    let ours = outcomes(env!("CARGO_BIN_EXE_trafficcop").as_ref());
    let status = |i: usize| ours[i].lines().next().unwrap_or("").to_string();
    assert_eq!(status(2), "HTTP/1.1 500 Internal Server Error", "{ours:#?}");
    assert_eq!(status(3), "HTTP/1.1 503 Service Unavailable", "{ours:#?}");
    assert!(ours[3].ends_with("\nService Unavailable"), "{}", ours[3]);
    assert_eq!(status(5), "HTTP/1.1 200 OK", "{ours:#?}");
    assert_eq!(status(6), "HTTP/1.1 502 Bad Gateway", "{ours:#?}");
    assert_eq!(status(7), "HTTP/1.1 503 Service Unavailable", "{ours:#?}");
    assert_eq!(status(9), "HTTP/1.1 429 Too Many Requests", "{ours:#?}");
    assert_eq!(status(10), "HTTP/1.1 404 Not Found", "{ours:#?}");
    assert_eq!(status(11), "HTTP/1.1 503 Service Unavailable", "{ours:#?}");
    assert_eq!(status(13), "HTTP/1.1 200 OK", "{ours:#?}");
    let Some(traefik) = common::traefik_bin() else {
        eprintln!("skipped the comparison: no Traefik binary (scripts/fetch-traefik.sh)");
        return;
    };
    assert_same(&ours, &outcomes(&traefik));
}
