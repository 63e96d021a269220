//! The `trafficcop` binary as a user runs it: static source discovery and precedence, `check`
//! output and exit codes, `version`, `healthcheck` without ping.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

mod common;
use common::free_port;

fn tmpdir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("trafficcop-cli-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// The binary under test, run in `dir` with an empty environment but `HOME` (inside `dir`).
fn proxy(dir: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_trafficcop"));
    c.current_dir(dir).env_clear().env("HOME", dir.join("home"));
    c
}

fn run(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut c = proxy(dir);
    c.args(args);
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// Runs `check` in `dir`: asserts its exit code and that its output says each of `wants`.
fn check_says(dir: &Path, code: i32, wants: &[&str]) {
    let o = run(dir, &["check"], &[]);
    let t = text(&o);
    assert_eq!(o.status.code(), Some(code), "{t}");
    for want in wants {
        assert!(t.contains(want), "missing {want:?} in:\n{t}");
    }
}

#[test]
fn file_in_working_directory_wins_over_flags_and_env() {
    let d = tmpdir("precedence");
    std::fs::write(
        d.join("traefik.yml"),
        "entryPoints:\n  web:\n    adress: ':8000'\n",
    )
    .unwrap();
    let o = run(
        &d,
        &["check", "--entryPoints.web.address=:8002"],
        &[("TRAEFIK_ENTRYPOINTS_WEB_ADDRESS", ":8001")],
    );
    let t = text(&o);
    assert_eq!(o.status.code(), Some(1), "{t}");
    assert!(t.contains("Configuration loaded from file:"), "{t}");
    assert!(t.contains("traefik.yml:3:5: entryPoints.web.adress: field not found, node: adress (did you mean \"address\"?)"), "{t}");
}

#[test]
fn missing_config_file_flag_falls_back_to_flags_then_env() {
    let d = tmpdir("fallback");
    let o = run(
        &d,
        &[
            "check",
            "--configFile=nope.yml",
            "--entryPoints.web.address=:8002",
        ],
        &[],
    );
    let t = text(&o);
    assert_eq!(o.status.code(), Some(0), "{t}");
    assert!(t.contains("Configuration loaded from flags"), "{t}");
    let o = run(
        &d,
        &["check"],
        &[
            ("TRAEFIK_ENTRYPOINTS_WEB_ADDRESS", ":8001"),
            ("TRAEFIK_API_NOPE", "1"),
        ],
    );
    let t = text(&o);
    assert!(
        t.contains("Configuration loaded from environment variables"),
        "{t}"
    );
    assert_eq!(
        o.status.code(),
        Some(1),
        "unknown key from env is refused: {t}"
    );
    let o = run(&d, &["check", "--nope=1"], &[]);
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o).contains("field not found, node: nope"));
}

#[test]
fn search_path_finds_home_config_and_trafficcop_names() {
    let d = tmpdir("search");
    std::fs::create_dir_all(d.join("home/.config")).unwrap();
    std::fs::write(
        d.join("home/.config/traefik.toml"),
        "[entryPoints.web]\naddress = \":8000\"\n",
    )
    .unwrap();
    let o = run(&d, &["check"], &[]);
    assert!(
        text(&o).contains("home/.config/traefik.toml"),
        "{}",
        text(&o)
    );
    let x = tmpdir("search-xdg");
    std::fs::write(
        x.join("trafficcop.yaml"),
        "entryPoints: {web: {address: ':8000'}}\n",
    )
    .unwrap();
    let o = run(&d, &["check"], &[("XDG_CONFIG_HOME", x.to_str().unwrap())]);
    assert!(text(&o).contains("trafficcop.yaml"), "{}", text(&o));
}

#[test]
fn check_reports_object_errors_and_strict_fails_on_them() {
    let d = tmpdir("objects");
    std::fs::write(
        d.join("traefik.yml"),
        "entryPoints: {web: {address: ':8000'}}\nproviders: {file: {directory: dyn}}\n",
    )
    .unwrap();
    std::fs::create_dir_all(d.join("dyn/sub")).unwrap();
    std::fs::write(
        d.join("dyn/a.yml"),
        "http:\n  routers:\n    r: {rule: \"Path(`/`)\", service: missing}\n",
    )
    .unwrap();
    std::fs::write(
        d.join("dyn/sub/b.toml"),
        "[http.routers.r]\nrule = \"Path(`/b`)\"\nservice = \"s\"\n",
    )
    .unwrap();
    std::fs::write(d.join("dyn/notes.txt"), "ignored").unwrap();
    let o = run(&d, &["check"], &[]);
    let t = text(&o);
    assert_eq!(o.status.code(), Some(0), "{t}");
    assert!(
        t.contains("dyn/a.yml:3:5: http.routers.r: the service \"missing@file\" does not exist"),
        "{t}"
    );
    assert!(
        t.contains("HTTP router already configured, skipping: r"),
        "{t}"
    );
    let o = run(&d, &["check", "--strict"], &[]);
    assert_eq!(o.status.code(), Some(1));
}

#[test]
fn a_broken_dynamic_file_is_a_refusal_for_check() {
    let d = tmpdir("broken");
    std::fs::write(
        d.join("traefik.yml"),
        "providers: {file: {filename: dyn.yml}}\n",
    )
    .unwrap();
    std::fs::write(
        d.join("dyn.yml"),
        "http:\n  routers:\n    r: {rule: x, service: s, priority: high}\n",
    )
    .unwrap();
    let o = run(&d, &["check"], &[]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        text(&o).contains("dyn.yml:3:40: http.routers.r.priority"),
        "{}",
        text(&o)
    );
}

#[test]
fn version_and_healthcheck_without_ping() {
    let d = tmpdir("version");
    let o = run(&d, &["version"], &[]);
    assert!(text(&o).starts_with("Version:"));
    std::fs::write(
        d.join("traefik.yml"),
        "entryPoints: {web: {address: ':8000'}}\n",
    )
    .unwrap();
    let o = run(&d, &["healthcheck"], &[]);
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o).contains("please enable `ping` to use health check"));
    let o = run(&d, &["bogus"], &[]);
    assert!(text(&o).contains("command not found: bogus"));
}

#[test]
fn healthcheck_asks_the_ping_entry_point() {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = std::thread::spawn(move || {
        let (mut s, _) = listener.accept().unwrap();
        let mut req = Vec::new();
        let mut buf = [0u8; 512];
        while !req.ends_with(b"\r\n\r\n") {
            let n = s.read(&mut buf).unwrap();
            if n == 0 {
                break;
            }
            req.extend_from_slice(&buf[..n]);
        }
        let req = String::from_utf8_lossy(&req).to_string();
        s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
            .unwrap();
        req
    });
    let d = tmpdir("health");
    std::fs::write(
        d.join("traefik.yml"),
        format!("entryPoints: {{traefik: {{address: '127.0.0.1:{port}'}}}}\nping: {{}}\n"),
    )
    .unwrap();
    let o = run(&d, &["healthcheck"], &[]);
    let req = server.join().unwrap();
    assert!(req.starts_with("HEAD /ping HTTP/1.1\r\n"), "{req}");
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(text(&o).contains(&format!("OK: http://127.0.0.1:{port}/ping")));
}

/// Runs the proxy in `dir` and waits for it to exit; `never` is the failure when it is still
/// running after 10 s (it is then killed).
fn exit_within(dir: &Path, never: &str) -> Output {
    let mut child = proxy(dir)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let start = std::time::Instant::now();
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > std::time::Duration::from_secs(10) {
            let _ = child.kill();
            panic!("{never}");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

/// Runs the proxy in `dir` until its output shows `line` (it must not exit first); fails after
/// 10 s. Returns the output.
fn runs_until_it_logs(dir: &Path, line: &str) -> String {
    let log = dir.join("run.log");
    let file = std::fs::File::create(&log).unwrap();
    let mut child = proxy(dir)
        .stdout(file.try_clone().unwrap())
        .stderr(file)
        .spawn()
        .unwrap();
    let start = std::time::Instant::now();
    loop {
        let t = std::fs::read_to_string(&log).unwrap_or_default();
        if t.contains(line) {
            let _ = child.kill();
            let _ = child.wait();
            return t;
        }
        if child.try_wait().unwrap().is_some()
            || start.elapsed() > std::time::Duration::from_secs(10)
        {
            let _ = child.kill();
            let _ = child.wait();
            panic!("never logged {line:?}: {t}");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

/// Another process listening with `SO_REUSEPORT` (a second TrafficCop, say): without
/// `reusePort` the proxy does not start, as Traefik, instead of silently taking part of the
/// connections; with `reusePort: true` on the entry point it starts and shares the address.
#[test]
fn an_address_another_process_holds_needs_reuse_port() {
    use socket2::{Domain, Socket, Type};
    let d = tmpdir("held-port");
    for udp in [false, true] {
        let (kind, suffix) = if udp {
            (Type::DGRAM, "/udp")
        } else {
            (Type::STREAM, "")
        };
        let held = Socket::new(Domain::IPV4, kind, None).unwrap();
        held.set_reuse_address(true).unwrap();
        held.set_reuse_port(true).unwrap();
        // The kernel picks a port free for this protocol (a port found free for TCP may be
        // taken for UDP, or taken by a parallel test before this bind).
        let any: std::net::SocketAddr = "127.0.0.1:0".parse().unwrap();
        held.bind(&any.into()).unwrap();
        let port = held.local_addr().unwrap().as_socket().unwrap().port();
        if !udp {
            held.listen(16).unwrap();
        }
        let config = |reuse: bool| {
            format!("entryPoints:\n  e: {{address: \"127.0.0.1:{port}{suffix}\", reusePort: {reuse}}}\nlog: {{level: INFO}}\n")
        };
        std::fs::write(d.join("traefik.yml"), config(false)).unwrap();
        let o = exit_within(
            &d,
            &format!("started on port {port}, held by another socket"),
        );
        let t = text(&o);
        assert_eq!(o.status.code(), Some(1), "{t}");
        // Traefik 3.7.15's words for each.
        let wanted = if udp {
            format!("error while building entryPoint e: error creating listener: listen packet: listen udp 127.0.0.1:{port}: bind: address already in use")
        } else {
            format!("error while building entryPoint e: building listener: error opening listener: listen tcp 127.0.0.1:{port}: bind: address already in use")
        };
        assert!(t.contains(&wanted), "{t}");
        std::fs::write(d.join("traefik.yml"), config(true)).unwrap();
        // Logged once every worker's socket is bound.
        runs_until_it_logs(&d, "Starting entryPoint e on");
    }
}

#[test]
fn two_entry_points_on_one_port_fail_to_start_as_in_traefik() {
    let d = tmpdir("same-port");
    let port = free_port();
    std::fs::write(
        d.join("traefik.yml"),
        format!(
            "entryPoints:\n  a: {{address: \"127.0.0.1:{port}\"}}\n  b: {{address: \":{port}\"}}\n"
        ),
    )
    .unwrap();
    // Without the check the proxy would serve both on the shared port: bound the wait.
    let o = exit_within(&d, &format!("started with two entry points on port {port}"));
    let t = text(&o);
    assert_eq!(o.status.code(), Some(1), "{t}");
    assert!(
        t.contains(&format!(
            "error while building entryPoint b: building listener: error opening listener: listen tcp :{port}: bind: address already in use"
        )),
        "{t}"
    );
    // Both with `reusePort`: Traefik starts, and the kernel spreads connections between them.
    std::fs::write(
        d.join("traefik.yml"),
        format!(
            "entryPoints:\n  a: {{address: \"127.0.0.1:{port}\", reusePort: true}}\n  b: {{address: \":{port}\", reusePort: true}}\nlog: {{level: INFO}}\n"
        ),
    )
    .unwrap();
    runs_until_it_logs(&d, "Starting entryPoint b on");
}

#[test]
fn check_reports_what_only_compiling_finds() {
    let d = tmpdir("tls-check");
    std::fs::write(
        d.join("traefik.yml"),
        "entryPoints: {web: {address: ':8000'}}\nproviders: {file: {filename: dyn.yml}}\n",
    )
    .unwrap();
    std::fs::write(
        d.join("dyn.yml"),
        "http:\n  routers:\n    r: {rule: \"Host(`a`)\", service: s, tls: {options: bad}}\n  services:\n    s: {loadBalancer: {servers: [{url: \"http://127.0.0.1:1\"}]}}\ntls:\n  certificates:\n    - {certFile: missing.crt, keyFile: missing.key}\n  options:\n    bad: {cipherSuites: [TLS_NOPE]}\n",
    )
    .unwrap();
    let o = run(&d, &["check"], &[]);
    let t = text(&o);
    assert!(
        t.contains("tls.certificates[0]: warning: unable to parse certificate"),
        "{t}"
    );
    assert!(
        t.contains("http.routers.r: building TLS config: invalid CipherSuite: TLS_NOPE"),
        "{t}"
    );
    let o = run(&d, &["check", "--strict"], &[]);
    assert_eq!(o.status.code(), Some(1), "the router is in error");
}

/// What TrafficCop accepts but has not built is said at load: static sections as warnings,
/// TCP health checks as object errors (their service and its routers are not served), and
/// `--strict` fails on those.
#[test]
fn check_says_what_is_not_built() {
    let d = tmpdir("not-built");
    std::fs::write(
        d.join("traefik.yml"),
        "entryPoints: {web: {address: ':8000'}}\napi: {dashboard: true}\nmetrics: {prometheus: {}}\nexperimental: {otlpLogs: true}\naccessLog: {otlp: {}}\ntracing: {}\nproviders:\n  file: {filename: dyn.yml}\n  http: {endpoint: 'http://127.0.0.1:9/c'}\n",
    )
    .unwrap();
    std::fs::write(
        d.join("dyn.yml"),
        "tcp:\n  routers:\n    db: {rule: \"HostSNI(`*`)\", service: db}\n  services:\n    db: {loadBalancer: {servers: [{address: '127.0.0.1:5432'}], healthCheck: {}}}\n",
    )
    .unwrap();
    check_says(
        &d,
        0,
        &[
            "api: warning: the API and dashboard are not built in TrafficCop yet",
            "metrics: warning: metrics are not built",
            "accessLog.otlp: warning: sending access logs with OTLP is not built",
            "tracing: warning: tracing is not built",
            "providers.http: warning: the HTTP provider is not built",
            "tcp.services.db: health checks of TCP services are not built in TrafficCop: this service is not served",
            "tcp.routers.db: health checks of TCP services are not built in TrafficCop: this service is not served",
        ],
    );
    let o = run(&d, &["check", "--strict"], &[]);
    assert_eq!(o.status.code(), Some(1));
}

/// Starts the proxy in `dir` with `env`, waits until `port` accepts, stops it and returns what
/// it printed.
fn start_and_stop(dir: &Path, port: u16, env: &[(&str, &str)]) -> String {
    let mut c = proxy(dir);
    c.stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    for (k, v) in env {
        c.env(k, v);
    }
    let mut child = c.spawn().unwrap();
    let start = std::time::Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        if start.elapsed() > std::time::Duration::from_secs(10)
            || child.try_wait().unwrap().is_some()
        {
            let _ = child.kill();
            panic!(
                "never listened: {}",
                text(&child.wait_with_output().unwrap())
            );
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let _ = child.kill();
    text(&child.wait_with_output().unwrap())
}

#[test]
fn the_trafficcop_section_chooses_the_runtime_and_the_workers() {
    let d = tmpdir("ours");
    std::fs::write(
        d.join("traefik.yml"),
        "entryPoints: {web: {address: ':8000'}}\ntrafficcop: {runtime: quic, workers: -1}\n",
    )
    .unwrap();
    check_says(
        &d,
        1,
        &[
            "trafficcop.runtime",
            "unknown runtime \"quic\": expected tokio or mio",
            "trafficcop.workers",
        ],
    );
    let port = free_port();
    std::fs::write(
        d.join("traefik.yml"),
        format!("entryPoints: {{web: {{address: '127.0.0.1:{port}'}}}}\nlog: {{level: INFO}}\ntrafficcop: {{runtime: mio, workers: 1}}\n"),
    )
    .unwrap();
    let t = start_and_stop(&d, port, &[]);
    assert!(t.contains("starting 1 worker(s) on the mio runtime"), "{t}");
    // The environment wins over the file.
    let t = start_and_stop(
        &d,
        port,
        &[("TRAFFICCOP_RUNTIME", "tokio"), ("TRAFFICCOP_WORKERS", "2")],
    );
    assert!(
        t.contains("starting 2 worker(s) on the tokio runtime"),
        "{t}"
    );
}
