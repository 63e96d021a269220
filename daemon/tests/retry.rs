//! The `retry` middleware end to end: requests to a service whose first server refuses
//! connections reach the other one, with their bodies; when every server refuses, the last
//! failure is the answer; with `status`, a server answering 503 is passed over for the next
//! (idempotent methods only); interim answers are not relayed while a retry may follow. The
//! same requests go to TrafficCop and, when its binary is here (`scripts/fetch-traefik.sh`),
//! real Traefik 3.7.15: the answers (the `Date` value aside) and what each backend received
//! must be the same.

mod common;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::sync::{Arc, Mutex};

use common::{free_port, traefik_bin};

/// What a backend received: one entry per request, its head lines sorted and its body.
type Seen = Arc<Mutex<Vec<String>>>;

/// A backend answering `answer` (after `103 Early Hints` for paths with `hints`), recording
/// each request it reads whole.
fn backend(answer: &'static str) -> (u16, Seen) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let seen = Seen::default();
    let log = seen.clone();
    std::thread::spawn(move || {
        for s in l.incoming().flatten() {
            let log = log.clone();
            std::thread::spawn(move || serve(s, answer, &log));
        }
    });
    (port, seen)
}

fn serve(mut s: TcpStream, answer: &str, log: &Mutex<Vec<String>>) {
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    let end = loop {
        if let Some(i) = got.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        match s.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => got.extend_from_slice(&buf[..n]),
        }
    };
    let head = String::from_utf8_lossy(&got[..end]).into_owned();
    let length: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("Content-Length: "))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    while got.len() < end + length {
        match s.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => got.extend_from_slice(&buf[..n]),
        }
    }
    let mut lines: Vec<&str> = head.lines().filter(|l| !l.is_empty()).collect();
    lines[1..].sort_unstable();
    let body = String::from_utf8_lossy(&got[end..end + length]);
    log.lock()
        .unwrap()
        .push(format!("{}\n\n{body}", lines.join("\n")));
    if lines[0].contains("hints") {
        let _ = s.write_all(b"HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n");
    }
    let _ = s.write_all(answer.as_bytes());
}

const GOOD: &str = "HTTP/1.1 200 OK\r\nContent-Length: 4\r\nConnection: close\r\n\r\ngood";
const BAD: &str =
    "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 4\r\nConnection: close\r\n\r\nnope";

/// The scenario against `bin`: the answers, in order (a pair whose order depends on which
/// server the round robin starts with sorted), then what the good backend received.
fn scenario(bin: &Path) -> Vec<String> {
    let (good, good_seen) = backend(GOOD);
    let (bad, bad_seen) = backend(BAD);
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
