//! `rateLimit` end to end, over HTTP/1.1 and h2c: two tokens a second with a burst of one, so
//! a second request at once must wait 500 ms, more than the 250 ms Traefik delays at most
//! (429 with `Retry-After: 1`), and a request 300 ms after the first waits about 200 ms and
//! goes on. The same requests go to TrafficCop and, when its binary is here
//! (`scripts/fetch-traefik.sh`), real Traefik 3.7.15: the same statuses, headers (the
//! `X-Retry-In` and `Date` values aside) and delays.

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use common::{echo_backend, free_port, traefik_bin};

/// One request with `Host: host`: the answer (values of `Date` and `X-Retry-In` blanked, the
/// echoed body left out) and whether it took more than 100 ms.
fn exchange(port: u16, path: &str, host: &str) -> (String, bool) {
    let start = Instant::now();
    let r = common::get(port, path, host);
    let slow = start.elapsed() > Duration::from_millis(100);
    let (head, body) = r.split_once("\r\n\r\n").unwrap_or((&r, ""));
    let head: Vec<&str> = head
        .lines()
        .filter(|l| !l.starts_with("Content-Length:"))
        .map(|l| match l.split_once(": ") {
            Some(("Date" | "X-Retry-In", _)) => l.split(':').next().unwrap_or(""),
            _ => l,
        })
        .collect();
    let body = if head[0].contains(" 200 ") { "" } else { body };
    (format!("{}\n\n{body}", head.join("\n")), slow)
}

/// The same over h2c: status, `retry-after`, and whether it took more than 100 ms.
fn h2_exchange(port: u16, host: &str) -> (String, bool) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async move {
        let start = Instant::now();
        let tcp = tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .unwrap();
        let (h2, conn) = h2::client::handshake(tcp).await.unwrap();
        tokio::spawn(async move {
            let _ = conn.await;
        });
        let mut h2 = h2.ready().await.unwrap();
        let req = http::Request::get(format!("http://{host}/limited"))
            .body(())
            .unwrap();
        let (resp, _) = h2.send_request(req, true).unwrap();
        let resp = resp.await.unwrap();
        let retry = resp
            .headers()
            .get("retry-after")
            .map(|v| v.to_str().unwrap_or("").to_string());
        (
            format!("h2 {} {retry:?}", resp.status()),
            start.elapsed() > Duration::from_millis(100),
        )
    })
}

fn scenario(bin: &Path) -> Vec<(String, bool)> {
    let b = echo_backend();
    let port = free_port();
    let _proxy = common::start_with_dynamic(
        "ratelimit",
        bin,
        port,
        &format!(
            "http:\n  routers:\n    r: {{rule: \"PathPrefix(`/limited`)\", service: s, middlewares: [rl]}}\n    ready: {{rule: \"PathPrefix(`/ready`)\", service: s}}\n  middlewares:\n    rl: {{rateLimit: {{average: 2, burst: 1, sourceCriterion: {{requestHost: true}}}}}}\n  services:\n    s: {{loadBalancer: {{servers: [{{url: \"http://127.0.0.1:{b}\"}}]}}}}\n"
        ),
    );
    common::wait_served(port, "/ready");
    let mut out = Vec::new();
    for host in ["a.example", "b.example"] {
        out.push(exchange(port, "/limited", host));
        out.push(exchange(port, "/limited", host));
        std::thread::sleep(Duration::from_millis(300));
        out.push(exchange(port, "/limited", host));
    }
    std::thread::sleep(Duration::from_millis(600));
    out.push(h2_exchange(port, "c.example"));
    out.push(h2_exchange(port, "c.example"));
    std::thread::sleep(Duration::from_millis(300));
    out.push(h2_exchange(port, "c.example"));
    out
}

#[test]
fn requests_are_delayed_or_refused_as_traefik_does() {
    let ours = scenario(Path::new(env!("CARGO_BIN_EXE_trafficcop")));
    let ok = "HTTP/1.1 200 OK\nDate\nConnection: close\n\n".to_string();
    let refused = "HTTP/1.1 429 Too Many Requests\nRetry-After: 1\nX-Retry-In\nDate\nConnection: close\n\nToo Many Requests".to_string();
    let want = [
        (ok.clone(), false),
        (refused.clone(), false),
        (ok.clone(), true),
    ];
    assert_eq!(ours[..3], want, "TrafficCop, first host");
    assert_eq!(ours[3..6], want, "TrafficCop, second host (its own bucket)");
    assert_eq!(
        ours[6..],
        [
            ("h2 200 OK None".to_string(), false),
            ("h2 429 Too Many Requests Some(\"1\")".to_string(), false),
            ("h2 200 OK None".to_string(), true),
        ],
        "TrafficCop over h2c"
    );
    let Some(traefik) = traefik_bin() else {
        eprintln!("SKIPPED the comparison with Traefik: no Traefik binary (run scripts/fetch-traefik.sh or set TRAFFICCOP_TRAEFIK_BIN)");
        return;
    };
    assert_eq!(scenario(&traefik), ours, "Traefik");
}
