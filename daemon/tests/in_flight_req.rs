//! `inFlightReq` end to end: with one request of a host in flight to a slow backend, another of
//! the same host gets 429 and one of another host goes through; once the first is answered,
//! the host may send again. The same requests go to TrafficCop and, when its binary is here
//! (`scripts/fetch-traefik.sh`), real Traefik 3.7.15: the answers must be the same bytes (the
//! `Date` value aside).

mod common;

use std::io::Write;
use std::net::TcpListener;
use std::path::Path;
use std::time::Duration;

use common::{free_port, traefik_bin};

/// A backend that answers paths ending in `slow` after 600 ms and anything else at once, `ok` either way.
fn backend() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for mut s in l.incoming().flatten() {
            std::thread::spawn(move || {
                let Some(head) = common::read_request_head(&mut s) else {
                    return;
                };
                if head.windows(5).any(|w| w == b"slow ") {
                    std::thread::sleep(Duration::from_millis(600));
                }
                let _ = s.write_all(
                    b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok",
                );
            });
        }
    });
    port
}

/// One request; the answer with the `Date` value blanked.
fn exchange(port: u16, path: &str, host: &str) -> String {
    common::blank_date(&common::get(port, path, host))
}

fn scenario(bin: &Path) -> Vec<String> {
    let b = backend();
    let port = free_port();
    let _proxy = common::start_with_dynamic(
        "inflight",
        bin,
        port,
        &format!(
            "http:\n  routers:\n    r: {{rule: \"PathPrefix(`/`)\", service: s, middlewares: [one]}}\n    h: {{rule: \"PathPrefix(`/hdr`)\", service: s, middlewares: [by-header]}}\n    z: {{rule: \"PathPrefix(`/zero`)\", service: s, middlewares: [none]}}\n  middlewares:\n    one: {{inFlightReq: {{amount: 1}}}}\n    by-header: {{inFlightReq: {{amount: 1, sourceCriterion: {{requestHeaderName: X-Tenant}}}}}}\n    none: {{inFlightReq: {{amount: 0}}}}\n  services:\n    s: {{loadBalancer: {{servers: [{{url: \"http://127.0.0.1:{b}\"}}]}}}}\n",
        ),
    );
    common::wait_served(port, "/fast");
    let mut out = Vec::new();
    for (slow_path, next_path) in [("/slow", "/fast"), ("/hdr/slow", "/hdr/fast")] {
        let first = std::thread::spawn(move || exchange(port, slow_path, "a.example"));
        std::thread::sleep(Duration::from_millis(200));
        out.push(exchange(port, next_path, "a.example"));
        out.push(exchange(port, next_path, "b.example"));
        out.push(first.join().unwrap());
        out.push(exchange(port, next_path, "a.example"));
    }
    out.push(exchange(port, "/zero", "a.example"));
    out
}

#[test]
fn in_flight_requests_are_limited_per_source() {
    let ours = scenario(Path::new(env!("CARGO_BIN_EXE_trafficcop")));
    let ok = "HTTP/1.1 200 OK\nContent-Length: 2\nDate: <now>\nConnection: close\n\nok";
    let refused = "HTTP/1.1 429 Too Many Requests\nDate: <now>\nContent-Length: 26\nConnection: close\n\nmax connections reached: 1";
    assert_eq!(ours[..4], [refused, ok, ok, ok], "by host");
    // By header: neither request names a tenant, so both have the same (empty) source.
    assert_eq!(ours[4..8], [refused, refused, ok, ok], "by header");
    assert!(ours[8].contains("429") && ours[8].ends_with("max connections reached: 0"));
    let Some(traefik) = traefik_bin() else {
        eprintln!("SKIPPED the comparison with Traefik: no Traefik binary (run scripts/fetch-traefik.sh or set TRAFFICCOP_TRAEFIK_BIN)");
        return;
    };
    assert_eq!(scenario(&traefik), ours);
}
