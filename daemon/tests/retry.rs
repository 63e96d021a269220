//! The `retry` middleware end to end: requests to a service whose first server refuses
//! connections reach the other one, with their bodies; when every server refuses, the last
//! failure is the answer; with `status`, a server answering 503 is passed over for the next
//! (idempotent methods only); interim answers are not relayed while a retry may follow. The
//! same requests go to TrafficCop and, when its binary is here (`scripts/fetch-traefik.sh`),
//! real Traefik 3.7.15: the answers (the `Date` value aside) and what each backend received
//! must be the same.

mod common;

use std::path::Path;

use common::{free_port, recording_backend, traefik_bin};

const GOOD: &str = "HTTP/1.1 200 OK\r\nContent-Length: 4\r\nConnection: close\r\n\r\ngood";
const BAD: &str =
    "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 4\r\nConnection: close\r\n\r\nnope";

/// The good backend: `103 Early Hints` first for paths with `hints`.
fn good(first: &str, _: &str) -> String {
    let hints = if first.contains("hints") {
        "HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n"
    } else {
        ""
    };
    format!("{hints}{GOOD}")
}

fn bad(_: &str, _: &str) -> String {
    BAD.to_string()
}

/// The scenario against `bin`: the answers, in order (a pair whose order depends on which
/// server the round robin starts with sorted), then what the good backend received.
fn scenario(bin: &Path) -> Vec<String> {
    let (good, good_seen) = recording_backend(good);
    let (bad, bad_seen) = recording_backend(bad);
    let (closed, other_closed) = (free_port(), free_port());
    let port = free_port();
    let server = |p: u16| format!("{{url: \"http://127.0.0.1:{p}\"}}");
    let _proxy = common::start_with_dynamic(
        "retry",
        bin,
        port,
        &format!(
            "http:\n  routers:\n    net: {{rule: \"PathPrefix(`/net`)\", service: closed-good, middlewares: [net]}}\n    all: {{rule: \"PathPrefix(`/all`)\", service: all-closed, middlewares: [net]}}\n    status: {{rule: \"PathPrefix(`/status`)\", service: bad-good, middlewares: [status]}}\n    hints: {{rule: \"PathPrefix(`/hints`)\", service: good, middlewares: [net]}}\n  middlewares:\n    net: {{retry: {{attempts: 2}}}}\n    status: {{retry: {{attempts: 3, status: [\"500-503\"]}}}}\n  services:\n    closed-good: {{loadBalancer: {{servers: [{}, {}]}}}}\n    all-closed: {{loadBalancer: {{servers: [{}, {}]}}}}\n    bad-good: {{loadBalancer: {{servers: [{}, {}]}}}}\n    good: {{loadBalancer: {{servers: [{}]}}}}\n",
            server(closed),
            server(good),
            server(closed),
            server(other_closed),
            server(bad),
            server(good),
            server(good),
        ),
    );
    common::wait_served(port, "/net/ready");
    // What waiting for the router sent.
    good_seen.lock().unwrap().clear();
    let get = |path: &str| {
        common::raw_exchange(
            port,
            &format!("GET {path} HTTP/1.1\r\nHost: app.example\r\nConnection: close\r\n\r\n"),
        )
    };
    let with_body = |method: &str, path: &str| {
        common::raw_exchange(
            port,
            &format!("{method} {path} HTTP/1.1\r\nHost: app.example\r\nConnection: close\r\nContent-Length: 9\r\n\r\nthe-body!"),
        )
    };
    let mut out = Vec::new();
    for i in 0..4 {
        out.push(get(&format!("/net/{i}")));
    }
    out.push(with_body("POST", "/net/post"));
    out.push(get("/all"));
    for i in 0..4 {
        out.push(get(&format!("/status/{i}")));
    }
    out.push(with_body("PUT", "/status/put"));
    // Not retried on status codes: one of the two meets the 503.
    let mut posts = [
        with_body("POST", "/status/post"),
        with_body("POST", "/status/post"),
    ];
    posts.sort();
    out.extend(posts);
    out.push(get("/hints"));
    // Over h2c: a stream retried as a connection's request.
    for path in ["/net/h2", "/status/h2"] {
        let (lines, body) = common::h2_get(port, "app.example", path, &[]);
        let head = common::blank_date(&lines.join("\n"));
        out.push(format!(
            "h2 {path}\n{head}\n\n{}",
            String::from_utf8_lossy(&body)
        ));
    }
    let mut good_seen = good_seen.lock().unwrap().clone();
    good_seen.sort();
    out.push(format!("good received:\n{}", good_seen.join("\n---\n")));
    // How many requests met the 503 depends on where the round robin starts (Traefik's
    // shuffle is random): 3 or 4 of the GETs, the PUT, one POST, and maybe the h2c GET.
    let bad = bad_seen.lock().unwrap().len();
    assert!((5..=7).contains(&bad), "bad received {bad} requests");
    out
}

#[test]
fn retries_as_traefik() {
    let ours = scenario(Path::new(env!("CARGO_BIN_EXE_trafficcop")));
    let good = "HTTP/1.1 200 OK\nContent-Length: 4\nDate: <now>\nConnection: close\n\ngood";
    let refused = "HTTP/1.1 503 Service Unavailable\nContent-Length: 4\nDate: <now>\nConnection: close\n\nnope";
    assert!(ours[..5].iter().all(|a| a == good), "{:#?}", &ours[..5]);
    assert!(
        ours[5].starts_with("HTTP/1.1 502 Bad Gateway\n"),
        "{}",
        ours[5]
    );
    assert!(ours[6..11].iter().all(|a| a == good), "{:#?}", &ours[6..11]);
    assert_eq!(ours[11..13], [good, refused]);
    assert_eq!(ours[13], good, "no 103 relayed");
    assert!(ours[16].contains("POST /net/post HTTP/1.1") && ours[16].contains("the-body!"));
    assert!(ours[16].contains("PUT /status/put HTTP/1.1"));
    let Some(traefik) = traefik_bin() else {
        eprintln!("SKIPPED the comparison with Traefik: no Traefik binary (run scripts/fetch-traefik.sh or set TRAFFICCOP_TRAEFIK_BIN)");
        return;
    };
    common::assert_same(&ours, &scenario(&traefik));
}
