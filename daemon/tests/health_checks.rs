//! Active health checks end to end: two backends whose `/health` answer the test changes, a
//! `loadBalancer` service probing them every 100 ms, and a `weighted` service with its own
//! `healthCheck` over one service per backend. The same scenario runs against TrafficCop and,
//! when its binary is here (`scripts/fetch-traefik.sh`), real Traefik 3.7.15: both must show
//! the same servers taking requests at each step.

mod common;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{free_port, traefik_bin};

/// A backend answering `/health…` with the status in `health` (a 302 to `/ok` when it is
/// 302; `/ok` is 200) and anything else with 200 and its name. It records the probes' heads.
fn backend(name: &'static str, health: Arc<AtomicU16>, probes: Arc<Mutex<Vec<String>>>) -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for s in l.incoming().flatten() {
            let (health, probes) = (health.clone(), probes.clone());
            std::thread::spawn(move || serve(s, name, &health, &probes));
        }
    });
    port
}

fn serve(mut s: TcpStream, name: &str, health: &AtomicU16, probes: &Mutex<Vec<String>>) {
    s.set_read_timeout(Some(Duration::from_secs(5))).ok();
    let mut head = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        while !head.windows(4).any(|w| w == b"\r\n\r\n") {
            match s.read(&mut buf) {
                Ok(0) | Err(_) => return,
                Ok(n) => head.extend_from_slice(&buf[..n]),
            }
        }
        let end = head.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
        let text = String::from_utf8_lossy(&head[..end]).into_owned();
        head.drain(..end);
        let path = text.split(' ').nth(1).unwrap_or("");
        let answer = if path.starts_with("/health") {
            probes.lock().unwrap().push(text.clone());
            match health.load(Ordering::Relaxed) {
                302 => {
                    "HTTP/1.1 302 Found\r\nLocation: /ok\r\nContent-Length: 0\r\n\r\n".to_string()
                }
                code => format!("HTTP/1.1 {code} X\r\nContent-Length: 0\r\n\r\n"),
            }
        } else if path == "/fails" && name == "B" {
            "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 4\r\n\r\nfail".to_string()
        } else if path == "/ok" {
            "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n".to_string()
        } else {
            format!(
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n{name}",
                name.len()
            )
        };
        if s.write_all(answer.as_bytes()).is_err() {
            return;
        }
    }
}

/// The bodies of `n` requests to `path` (the status line when it is not 200), sorted and
/// deduplicated.
fn seen(port: u16, path: &str, n: usize) -> Vec<String> {
    let mut out = std::collections::BTreeSet::new();
    for _ in 0..n {
        let r = common::get(port, path, "x");
        let (head, body) = r.split_once("\r\n\r\n").unwrap_or((&r, ""));
        let status = head.lines().next().unwrap_or("").to_string();
        out.insert(if status.contains(" 200 ") {
            body.to_string()
        } else {
            format!("{status} {body:?}")
        });
    }
    out.into_iter().collect()
}

/// Runs the scenario against `bin`; returns what each step saw.
fn scenario(bin: &Path) -> (Vec<String>, Vec<String>) {
    let (ha, hb) = (Arc::new(AtomicU16::new(200)), Arc::new(AtomicU16::new(200)));
    let probes = Arc::new(Mutex::new(Vec::new()));
    let a = backend("A", ha.clone(), probes.clone());
    let b = backend("B", hb.clone(), probes.clone());
    let port = free_port();
    let hc = "{path: \"/health?probe=1\", interval: 100ms, timeout: 500ms, hostname: probe.example, headers: {X-Probe: yes}}";
    let _proxy = common::start_with_dynamic(
        "health",
        bin,
        port,
        &format!(
            "http:\n  routers:\n    lb: {{rule: \"PathPrefix(`/lb`)\", service: both}}\n    w: {{rule: \"PathPrefix(`/w`)\", service: w}}\n    f: {{rule: \"PathPrefix(`/f`)\", service: fo}}\n    g: {{rule: \"PathPrefix(`/g`)\", service: fohc}}\n  services:\n    both:\n      loadBalancer:\n        servers: [{{url: \"http://127.0.0.1:{a}\"}}, {{url: \"http://127.0.0.1:{b}\"}}]\n        healthCheck: {hc}\n    only-a:\n      loadBalancer:\n        servers: [{{url: \"http://127.0.0.1:{a}\"}}]\n        healthCheck: {hc}\n    only-b:\n      loadBalancer:\n        servers: [{{url: \"http://127.0.0.1:{b}\"}}]\n        healthCheck: {hc}\n    w:\n      weighted:\n        services: [{{name: only-a}}, {{name: only-b}}]\n        healthCheck: {{}}\n    fo:\n      failover: {{service: only-b, fallback: only-a}}\n    fohc:\n      failover: {{service: only-b, fallback: only-a, healthCheck: {{}}}}\n",
        ),
    );
    common::wait_served(port, "/lb");
    let settle = || std::thread::sleep(Duration::from_millis(600));
    let mut steps = Vec::new();
    let mut step = |what: &str| {
        steps.push(format!(
            "{what}: lb {:?} w {:?} failover {:?} {:?}",
            seen(port, "/lb", 8),
            seen(port, "/w", 8),
            seen(port, "/f", 4),
            seen(port, "/g", 4)
        ));
    };
    settle();
    step("both healthy");
    hb.store(503, Ordering::Relaxed);
    settle();
    step("B answers 503");
    ha.store(500, Ordering::Relaxed);
    settle();
    step("both unhealthy");
    ha.store(302, Ordering::Relaxed);
    hb.store(200, Ordering::Relaxed);
    settle();
    step("A redirects to a 200, B healthy");
    let probe = probes.lock().unwrap().first().cloned().unwrap_or_default();
    // What every proxy's probe carries (Go's client adds lines of its own).
    let mut probe_lines: Vec<String> = probe
        .lines()
        .filter(|l| l.starts_with("GET ") || l.starts_with("Host:") || l.starts_with("X-Probe:"))
        .map(str::to_string)
        .collect();
    probe_lines.sort();
    (steps, probe_lines)
}

#[test]
fn servers_leave_and_rejoin_as_their_health_checks_say() {
    let (steps, probe) = scenario(Path::new(env!("CARGO_BIN_EXE_trafficcop")));
    let want = [
        "both healthy: lb [\"A\", \"B\"] w [\"A\", \"B\"] failover [\"B\"] [\"B\"]",
        "B answers 503: lb [\"A\"] w [\"A\"] failover [\"A\"] [\"A\"]",
        "both unhealthy: lb [\"HTTP/1.1 503 Service Unavailable \\\"no available server\\\\n\\\"\"] w [\"HTTP/1.1 503 Service Unavailable \\\"no available server\\\\n\\\"\"] failover [\"HTTP/1.1 503 Service Unavailable \\\"no available server\\\\n\\\"\"] [\"HTTP/1.1 503 Service Unavailable \\\"Service Unavailable\\\\n\\\"\"]",
        "A redirects to a 200, B healthy: lb [\"A\", \"B\"] w [\"A\", \"B\"] failover [\"B\"] [\"B\"]",
    ];
    assert_eq!(steps, want, "TrafficCop");
    assert_eq!(
        probe,
        [
            "GET /health?probe=1 HTTP/1.1",
            "Host: probe.example",
            "X-Probe: yes"
        ],
        "TrafficCop's probe"
    );
    let Some(traefik) = traefik_bin() else {
        eprintln!("SKIPPED the comparison with Traefik: no Traefik binary (run scripts/fetch-traefik.sh or set TRAFFICCOP_TRAEFIK_BIN)");
        return;
    };
    let (t_steps, t_probe) = scenario(&traefik);
    assert_eq!(t_steps, want, "Traefik");
    assert_eq!(t_probe, probe, "Traefik's probe");
}

/// Runs the passive-check scenario against `bin`: B answers `/fails` with 500.
fn passive_scenario(bin: &Path) -> Vec<String> {
    let up = Arc::new(AtomicU16::new(200));
    let probes = Arc::new(Mutex::new(Vec::new()));
    let a = backend("A", up.clone(), probes.clone());
    let b = backend("B", up, probes);
    let port = free_port();
    let _proxy = common::start_with_dynamic(
        "passive",
        bin,
        port,
        &format!(
            "http:\n  routers:\n    lb: {{rule: \"PathPrefix(`/`)\", service: both}}\n    ready: {{rule: \"PathPrefix(`/ready`)\", service: only-a}}\n  services:\n    only-a:\n      loadBalancer:\n        servers: [{{url: \"http://127.0.0.1:{a}\"}}]\n    both:\n      loadBalancer:\n        servers: [{{url: \"http://127.0.0.1:{a}\"}}, {{url: \"http://127.0.0.1:{b}\"}}]\n        passiveHealthCheck: {{maxFailedAttempts: 2, failureWindow: 1s}}\n",
        ),
    );
    // Served once `/ready` (another service) answers.
    common::wait_served(port, "/ready");
    let mut steps = vec![format!("both: {:?}", seen(port, "/fails", 4))];
    steps.push(format!("B down: {:?}", seen(port, "/fails", 4)));
    std::thread::sleep(Duration::from_millis(1_300));
    steps.push(format!("B back: {:?}", seen(port, "/fails", 4)));
    steps
}

#[test]
fn passive_checks_take_failing_servers_out_for_the_window() {
    let ours = passive_scenario(Path::new(env!("CARGO_BIN_EXE_trafficcop")));
    let failing = "[\"A\", \"HTTP/1.1 500 Internal Server Error \\\"fail\\\"\"]";
    assert_eq!(
        ours,
        [
            format!("both: {failing}"),
            "B down: [\"A\"]".to_string(),
            format!("B back: {failing}"),
        ],
        "TrafficCop"
    );
    let Some(traefik) = traefik_bin() else {
        eprintln!("SKIPPED the comparison with Traefik: no Traefik binary (run scripts/fetch-traefik.sh or set TRAFFICCOP_TRAEFIK_BIN)");
        return;
    };
    assert_eq!(passive_scenario(&traefik), ours, "Traefik");
}
