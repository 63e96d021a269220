//! UDP through the real binary, with real UDP sockets on 127.0.0.1: sessions take the servers
//! in turn, a client's datagrams stick to its session until `udp.timeout` passes, weighted
//! services share sessions by weight, an empty datagram opens a session (taking a turn) but is
//! not forwarded, a session on a closed port ends (ICMP) and the client's next datagram goes
//! to the next server, an entry point without a router stays silent, a 60,000-byte datagram
//! comes back whole, and a reload that drops the router keeps the entry point on it (as
//! Traefik, which only switches the entry points a configuration routes). With the Traefik
//! oracle present, the same script through Traefik must print the same observations.

mod common;

use std::net::UdpSocket;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::Kill;

fn traefik_bin() -> Option<PathBuf> {
    let p = std::env::var_os("TRAFFICCOP_TRAEFIK_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/oracle/traefik"));
    p.is_file().then_some(p)
}

/// A UDP echo server answering `tag:` + the datagram; returns its port.
fn echo(tag: &'static str) -> u16 {
    let s = UdpSocket::bind("127.0.0.1:0").unwrap();
    let port = s.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let mut buf = vec![0u8; 65_536];
        while let Ok((n, from)) = s.recv_from(&mut buf) {
            let mut reply = format!("{tag}:").into_bytes();
            reply.extend_from_slice(&buf[..n]);
            let _ = s.send_to(&reply, from);
        }
    });
    port
}

/// A UDP port nothing listens on.
fn closed_port() -> u16 {
    let s = UdpSocket::bind("127.0.0.1:0").unwrap();
    s.local_addr().unwrap().port()
}

fn free_udp_port() -> u16 {
    closed_port()
}

/// A client socket of its own (its own session).
fn client() -> UdpSocket {
    let s = UdpSocket::bind("127.0.0.1:0").unwrap();
    s.set_read_timeout(Some(Duration::from_millis(400)))
        .unwrap();
    s
}

/// Sends `data` to `port` and waits for one answer: its text, or `-` for none.
fn ask(s: &UdpSocket, port: u16, data: &[u8]) -> String {
    s.send_to(data, ("127.0.0.1", port)).unwrap();
    let mut buf = vec![0u8; 65_536];
    match s.recv(&mut buf) {
        Ok(n) if n > 100 => format!("{}:{}B", String::from_utf8_lossy(&buf[..1]), n),
        Ok(n) => String::from_utf8_lossy(&buf[..n]).into_owned(),
        Err(_) => "-".into(),
    }
}

/// The server tag of an answer (`A:x` -> `A`).
fn tag(answer: &str) -> String {
    answer.split(':').next().unwrap_or("-").to_string()
}

struct Ports {
    dns: u16,
    weighted: u16,
    half: u16,
    silent: u16,
    probe: u16,
}

fn dynamic(a: u16, b: u16, dead: u16, probe_tag_port: u16, with_dns_router: bool) -> String {
    let dns_router = if with_dns_router {
        "    dns:\n      entryPoints: [dns]\n      service: pair\n"
    } else {
        ""
    };
    format!(
        "udp:\n  routers:\n{dns_router}    weighted:\n      entryPoints: [weighted]\n      service: split\n    half:\n      entryPoints: [half]\n      service: half\n    probe:\n      entryPoints: [probe]\n      service: probe\n  services:\n    pair:\n      loadBalancer:\n        servers: [{{address: \"127.0.0.1:{a}\"}}, {{address: \"127.0.0.1:{b}\"}}]\n    split:\n      weighted:\n        services: [{{name: big, weight: 3}}, {{name: small, weight: 1}}]\n    big:\n      loadBalancer:\n        servers: [{{address: \"127.0.0.1:{a}\"}}]\n    small:\n      loadBalancer:\n        servers: [{{address: \"127.0.0.1:{b}\"}}]\n    half:\n      loadBalancer:\n        servers: [{{address: \"127.0.0.1:{a}\"}}, {{address: \"127.0.0.1:{dead}\"}}]\n    probe:\n      loadBalancer:\n        servers: [{{address: \"127.0.0.1:{probe_tag_port}\"}}]\n"
    )
}

/// Waits until the probe entry point answers with `want` (the file provider is loaded).
fn wait_probe(port: u16, want: &str) {
    let start = Instant::now();
    loop {
        let s = client();
        s.set_read_timeout(Some(Duration::from_millis(100)))
            .unwrap();
        if tag(&ask(&s, port, b"probe")) == want {
            return;
        }
        assert!(
            start.elapsed() < Duration::from_secs(15),
            "the probe entry point never answered {want}"
        );
    }
}

/// Runs the script against `bin`; returns the observations, one per line.
fn run(bin: &Path, dir: &Path) -> Vec<String> {
    std::fs::create_dir_all(dir).unwrap();
    let (a, b, dead) = (echo("A"), echo("B"), closed_port());
    let (p1, p2) = (echo("P1"), echo("P2"));
    let ports = Ports {
        dns: free_udp_port(),
        weighted: free_udp_port(),
        half: free_udp_port(),
        silent: free_udp_port(),
        probe: free_udp_port(),
    };
    let dyn_path = dir.join("dynamic.yml");
    std::fs::write(&dyn_path, dynamic(a, b, dead, p1, true)).unwrap();
    let eps = [
        ("dns", ports.dns, "1s"),
        ("weighted", ports.weighted, "1s"),
        ("half", ports.half, "5s"),
        ("silent", ports.silent, "1s"),
        ("probe", ports.probe, "1s"),
    ];
    let mut st =
        String::from("global: {checkNewVersion: false, sendAnonymousUsage: false}\nentryPoints:\n");
    for (name, port, timeout) in eps {
        st.push_str(&format!(
            "  {name}:\n    address: \"127.0.0.1:{port}/udp\"\n    udp: {{timeout: {timeout}}}\n"
        ));
    }
    st.push_str(&format!(
        "providers:\n  file:\n    filename: \"{}\"\n    watch: true\n  providersThrottleDuration: 100ms\n",
        dyn_path.display()
    ));
    std::fs::write(dir.join("static.yml"), st).unwrap();
    let _proc = Kill(
        Command::new(bin)
            .arg(format!("--configFile={}", dir.join("static.yml").display()))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    wait_probe(ports.probe, "P1");
    let mut seen: Vec<String> = Vec::new();
    // Server tags of the `pair` service in order of appearance: X, then Y.
    let mut name = |t: String| -> String {
        if t == "-" {
            return t;
        }
        let i = match seen.iter().position(|s| *s == t) {
            Some(i) => i,
            None => {
                seen.push(t);
                seen.len() - 1
            }
        };
        ["X", "Y", "Z"][i.min(2)].to_string()
    };
    let mut out = Vec::new();

    // Round robin: one session per client.
    let rr: Vec<String> = (0..6)
        .map(|i| name(tag(&ask(&client(), ports.dns, format!("m{i}").as_bytes()))))
        .collect();
    out.push(format!("round robin: {}", rr.join(" ")));

    // Stickiness, then a new session after the timeout (1 s).
    let c = client();
    let sticky: Vec<String> = (0..4)
        .map(|i| name(tag(&ask(&c, ports.dns, format!("s{i}").as_bytes()))))
        .collect();
    std::thread::sleep(Duration::from_millis(1600));
    let after = name(tag(&ask(&c, ports.dns, b"later")));
    out.push(format!(
        "one session: {}; after the timeout: {after}",
        sticky.join(" ")
    ));

    // An empty datagram opens a session (a turn) and gets nothing back.
    let e = client();
    let empty = ask(&e, ports.dns, b"");
    let next: Vec<String> = (0..2)
        .map(|_| name(tag(&ask(&client(), ports.dns, b"n"))))
        .collect();
    out.push(format!(
        "empty datagram: {empty}; next sessions: {}",
        next.join(" ")
    ));

    // Big datagram.
    let big = ask(&client(), ports.dns, &vec![b'z'; 60_000]);
    let (server, size) = big.split_once(':').unwrap_or(("-", ""));
    out.push(format!("60000 bytes: {} {size}", name(server.to_string())));

    // Weighted 3:1 over 8 sessions.
    let mut counts = std::collections::BTreeMap::new();
    for _ in 0..8 {
        *counts
            .entry(tag(&ask(&client(), ports.weighted, b"w")))
            .or_insert(0) += 1;
    }
    out.push(format!("weighted 3:1 over 8 sessions: {counts:?}"));

    // A closed port: the session ends on the ICMP error; the client's next datagram is a new
    // session on the next server.
    let (c1, c2) = (client(), client());
    let first = [
        tag(&ask(&c1, ports.half, b"h")),
        tag(&ask(&c2, ports.half, b"h")),
    ];
    let silent = if first[0] == "-" { &c1 } else { &c2 };
    // Its next datagrams open new sessions: one of the next two goes to the live server
    // (which one depends on the order the servers were shuffled into).
    let again: Vec<String> = (0..2)
        .map(|_| {
            std::thread::sleep(Duration::from_millis(100));
            tag(&ask(silent, ports.half, b"again"))
        })
        .collect();
    let mut sorted = first.clone();
    sorted.sort();
    out.push(format!(
        "closed port: first datagrams {sorted:?}; the silent client answered again: {}",
        again.iter().any(|t| t == "A")
    ));

    // No router.
    out.push(format!("no router: {}", ask(&client(), ports.silent, b"x")));

    // A reload without the `dns` router (and the probe moved to P2 to see it applied).
    std::fs::write(&dyn_path, dynamic(a, b, dead, p2, false)).unwrap();
    wait_probe(ports.probe, "P2");
    let kept = name(tag(&ask(&client(), ports.dns, b"r")));
    out.push(format!("after a reload without its router: {kept}"));
    out
}

#[test]
fn udp_sessions_as_traefik() {
    let base = std::env::temp_dir().join(format!("tc-udp-e2e-{}", std::process::id()));
    let ours = run(
        Path::new(env!("CARGO_BIN_EXE_trafficcop")),
        &base.join("tc"),
    );
    let expected = [
        "round robin: X Y X Y X Y",
        "one session: X X X X; after the timeout: Y",
        "empty datagram: -; next sessions: Y X",
        "60000 bytes: Y 60002B",
        "weighted 3:1 over 8 sessions: {\"A\": 6, \"B\": 2}",
        "closed port: first datagrams [\"-\", \"A\"]; the silent client answered again: true",
        "no router: -",
        "after a reload without its router: X",
    ];
    let shown = ours.join("\n");
    eprintln!("TrafficCop:\n{shown}");
    for (got, want) in ours.iter().zip(expected) {
        assert_eq!(got, want, "TrafficCop:\n{shown}");
    }
    assert_eq!(ours.len(), expected.len(), "TrafficCop:\n{shown}");
    match traefik_bin() {
        Some(bin) => {
            let theirs = run(&bin, &base.join("traefik"));
            eprintln!("Traefik:\n{}", theirs.join("\n"));
            assert_eq!(
                ours,
                theirs,
                "TrafficCop:\n{shown}\nTraefik:\n{}",
                theirs.join("\n")
            );
        }
        None => eprintln!("Traefik oracle not found: compared with the expected observations only"),
    }
    let _ = std::fs::remove_dir_all(&base);
}
