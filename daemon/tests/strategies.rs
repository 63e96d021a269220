//! The `p2c` and `hrw` load-balancing strategies end to end: `hrw` sends a client to the
//! server with the highest weighted score for its address (the same server as Traefik's, for
//! several sets of servers and weights), and so do `highestRandomWeight` services by child
//! name; `p2c` sends a request to the server with fewer
//! requests in flight when one is busy; `leasttime` leaves a slow server once it has
//! answered; an unknown strategy disables the service as in
//! Traefik. The same requests go to TrafficCop and, when its binary is here
//! (`scripts/fetch-traefik.sh`), real Traefik 3.7.15.

mod common;

use std::io::Write;
use std::net::TcpListener;
use std::path::Path;
use std::time::Duration;

use common::{free_port, traefik_bin};

/// A backend answering its `name`, after 700 ms for paths with `hold`.
fn backend(name: &'static str) -> u16 {
    backend_after(name, 0)
}

/// [`backend`], answering every request `delay` ms late.
fn backend_after(name: &'static str, delay: u64) -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for mut s in l.incoming().flatten() {
            std::thread::spawn(move || {
                let Some(head) = common::read_request_head(&mut s) else {
                    return;
                };
                std::thread::sleep(Duration::from_millis(delay));
                if head.windows(4).any(|w| w == b"hold") {
                    std::thread::sleep(Duration::from_millis(700));
                }
                let _ = write!(
                    s,
                    "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{name}",
                    name.len()
                );
            });
        }
    });
    port
}

/// The body of a GET of `path`.
fn body_of(port: u16, path: &str) -> String {
    let answer = common::get(port, path, "app.example");
    answer
        .split("\r\n\r\n")
        .nth(1)
        .unwrap_or(&answer)
        .to_string()
}

/// The scenario against `bin`, with the backends on `ports` (the same for both binaries: the
/// hash is over the servers' URLs).
fn scenario(bin: &Path, ports: &[u16]) -> Vec<String> {
    let server =
        |i: usize, w: u32| format!("{{url: \"http://127.0.0.1:{}\", weight: {w}}}", ports[i]);
    let port = free_port();
    let services = [
        ("h1", "hrw", vec![server(0, 1), server(1, 1), server(2, 1)]),
        ("h2", "hrw", vec![server(3, 1), server(4, 3), server(5, 1)]),
        ("h3", "hrw", vec![server(0, 5), server(3, 1)]),
        (
            "h4",
            "hrw",
            vec![server(1, 1), server(2, 2), server(4, 1), server(5, 9)],
        ),
        ("p", "p2c", vec![server(0, 1), server(1, 1)]),
        ("bad", "fastest", vec![server(0, 1)]),
        ("lt", "leasttime", vec![server(0, 1), server(6, 1)]),
    ];
    let mut dynamic = String::from("http:\n  routers:\n");
    for (name, ..) in &services {
        dynamic.push_str(&format!(
            "    {name}: {{rule: \"PathPrefix(`/{name}/`)\", service: {name}}}\n"
        ));
    }
    for name in ["hs1", "hs2", "hs3"] {
        dynamic.push_str(&format!(
            "    {name}: {{rule: \"PathPrefix(`/{name}/`)\", service: {name}}}\n"
        ));
    }
    dynamic.push_str("  services:\n");
    // highestRandomWeight services over single-server services (hashed by child name).
    for (i, c) in ["c1", "c2", "c3"].iter().enumerate() {
        dynamic.push_str(&format!(
            "    {c}: {{loadBalancer: {{servers: [{}]}}}}\n",
            server(i, 1)
        ));
    }
    dynamic.push_str("    hs1: {highestRandomWeight: {services: [{name: c1}, {name: c2, weight: 2}, {name: c3}]}}\n");
    dynamic.push_str("    hs2: {highestRandomWeight: {services: [{name: c2, weight: 3}, {name: c3, weight: 1}]}}\n");
    dynamic.push_str("    hs3: {highestRandomWeight: {services: [{name: c1, weight: 1}, {name: c3, weight: 5}, {name: c2, weight: 0}]}}\n");
    for (name, strategy, servers) in &services {
        dynamic.push_str(&format!(
            "    {name}: {{loadBalancer: {{strategy: {strategy}, servers: [{}]}}}}\n",
            servers.join(", ")
        ));
    }
    let _proxy = common::start_with_dynamic("strategies", bin, port, &dynamic);
    common::wait_served(port, "/h1/ready");
    let mut out = Vec::new();
    for name in ["h1", "h2", "h3", "h4", "hs1", "hs2", "hs3"] {
        let picks: Vec<String> = (0..3)
            .map(|i| body_of(port, &format!("/{name}/{i}")))
            .collect();
        out.push(format!("{name}: {picks:?}"));
    }
    // p2c: while one server holds a request, the next goes to the other.
    for _ in 0..3 {
        let held = std::thread::spawn(move || body_of(port, "/p/hold"));
        std::thread::sleep(Duration::from_millis(250));
        let next = body_of(port, "/p/quick");
        let held = held.join().unwrap();
        out.push(format!("p2c: the other server took it: {}", held != next));
    }
    // leasttime: while neither server has a slow answer, equal scores go by the round robin
    // (the first server twice, then the second: which is first depends on the shuffle);
    // once the slow server has answered once, the fast one takes everything.
    let picks: Vec<String> = (0..6).map(|i| body_of(port, &format!("/lt/{i}"))).collect();
    out.push(format!(
        "leasttime: slow took {} of the first 3, then {:?}",
        picks[..3].iter().filter(|p| *p == "slow").count(),
        &picks[3..]
    ));
    out.push(format!(
        "unknown strategy: {}",
        common::get(port, "/bad/x", "app.example")
            .lines()
            .next()
            .unwrap_or("")
    ));
    out
}

#[test]
fn strategies_as_traefik() {
    let names = ["b1", "b2", "b3", "b4", "b5", "b6"];
    let mut ports: Vec<u16> = names.iter().map(|n| backend(n)).collect();
    ports.push(backend_after("slow", 150));
    let ours = scenario(Path::new(env!("CARGO_BIN_EXE_trafficcop")), &ports);
    if std::env::var_os("SHOW").is_some() {
        eprintln!("{ours:#?}");
    }
    assert!(ours[7..10].iter().all(|l| l.ends_with("true")), "{ours:?}");
    assert_eq!(
        ours[10],
        "leasttime: slow took 1 of the first 3, then [\"b1\", \"b1\", \"b1\"]"
    );
    assert_eq!(ours[11], "unknown strategy: HTTP/1.1 404 Not Found");
    let Some(traefik) = traefik_bin() else {
        eprintln!("SKIPPED the comparison with Traefik: no Traefik binary (run scripts/fetch-traefik.sh or set TRAFFICCOP_TRAEFIK_BIN)");
        return;
    };
    common::assert_same(&ours, &scenario(&traefik, &ports));
}
