//! gRPC through the real binary: a real gRPC client and server (grpcio, `scripts/grpc_echo.py`)
//! over h2c and over TLS (ALPN `h2`) to an `h2c://` backend, and over h2c to an `https://`
//! backend (HTTP/2 chosen by ALPN, verified with `rootCAs` and `serverName`): unary, server- and
//! client-streaming calls, error statuses with trailing metadata, 1 MiB messages, 50
//! concurrent calls, and a backend that is down (UNAVAILABLE). With the Traefik oracle present
//! the same calls through Traefik must print the same results.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use common::tls::Pki;
use common::{free_port, wait_port, Kill};

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/grpc_echo.py")
}

fn grpcio_available() -> bool {
    Command::new("python3")
        .args(["-c", "import grpc"])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn traefik_bin() -> Option<PathBuf> {
    let p = std::env::var_os("TRAFFICCOP_TRAEFIK_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/oracle/traefik"));
    p.is_file().then_some(p)
}

/// The backends: h2c, TLS (certificate for grpc.example from `ca`), and a port nothing
/// listens on.
struct Backends<'a> {
    h2c: u16,
    tls: u16,
    dead: u16,
    ca: &'a Path,
}

/// Writes the configuration and starts `bin`; returns (process, h2c port, TLS port, h2c port
/// routed to the TLS backend).
fn start(
    bin: &Path,
    dir: &Path,
    b: &Backends<'_>,
    cert: &(String, String),
) -> (Kill, u16, u16, u16) {
    std::fs::create_dir_all(dir).unwrap();
    let (web, secure, via) = (free_port(), free_port(), free_port());
    let dynamic = format!(
        "http:\n  routers:\n    dead:\n      rule: \"PathPrefix(`/dead.Dead`)\"\n      service: dead\n      priority: 1000\n    deadtls:\n      rule: \"PathPrefix(`/dead.Dead`)\"\n      service: dead\n      priority: 1000\n      tls: {{}}\n    grpc:\n      rule: \"PathPrefix(`/`)\"\n      entryPoints: [web]\n      service: grpc\n    grpctls:\n      rule: \"PathPrefix(`/`)\"\n      service: grpc\n      tls: {{}}\n    viatls:\n      rule: \"PathPrefix(`/`)\"\n      entryPoints: [via]\n      service: grpcs\n  services:\n    grpc:\n      loadBalancer:\n        servers: [{{url: \"h2c://127.0.0.1:{}\"}}]\n    grpcs:\n      loadBalancer:\n        serversTransport: backendtls\n        servers: [{{url: \"https://127.0.0.1:{}\"}}]\n    dead:\n      loadBalancer:\n        servers: [{{url: \"h2c://127.0.0.1:{}\"}}]\n  serversTransports:\n    backendtls:\n      serverName: grpc.example\n      rootCAs: [\"{}\"]\ntls:\n  certificates:\n    - {{certFile: \"{}\", keyFile: \"{}\"}}\n",
        b.h2c,
        b.tls,
        b.dead,
        b.ca.display(),
        cert.0,
        cert.1
    );
    std::fs::write(dir.join("dynamic.yml"), dynamic).unwrap();
    std::fs::write(
        dir.join("static.yml"),
        format!(
            "global: {{checkNewVersion: false, sendAnonymousUsage: false}}\nentryPoints:\n  web:\n    address: \"127.0.0.1:{web}\"\n  websecure:\n    address: \"127.0.0.1:{secure}\"\n  via:\n    address: \"127.0.0.1:{via}\"\nproviders:\n  file:\n    filename: \"{}\"\n",
            dir.join("dynamic.yml").display()
        ),
    )
    .unwrap();
    let child = Command::new(bin)
        .arg(format!("--configFile={}", dir.join("static.yml").display()))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let k = Kill(child);
    wait_port(web);
    wait_port(secure);
    wait_port(via);
    wait_routes(web);
    (k, web, secure, via)
}

/// Waits until the routers are served: the ports open before the file provider's
/// configuration is in (Traefik loads it a moment later), and before that every request is 404.
fn wait_routes(port: u16) {
    use std::io::{Read, Write};
    let start = std::time::Instant::now();
    while start.elapsed() < std::time::Duration::from_secs(10) {
        if let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", port)) {
            let _ = s.write_all(
                b"GET /dead.Dead/probe HTTP/1.1\r\nHost: probe\r\nConnection: close\r\n\r\n",
            );
            let mut out = Vec::new();
            let _ = s.read_to_end(&mut out);
            if out.starts_with(b"HTTP/1.1 ") && !out.starts_with(b"HTTP/1.1 404") {
                return;
            }
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    panic!("the routers on :{port} were never served");
}

/// Runs the client's checks through `target` (over TLS when `tls` is given); returns its
/// output lines and whether every check passed.
fn call(target: u16, tls: Option<(&Path, &str)>) -> (String, bool) {
    let mut cmd = Command::new("python3");
    cmd.arg(script())
        .args(["call", &format!("127.0.0.1:{target}"), "--dead"]);
    if let Some((ca, sni)) = tls {
        cmd.arg("--tls").arg(ca).arg(sni);
    }
    let out = cmd.output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    (
        format!("{text}{}", String::from_utf8_lossy(&out.stderr)),
        out.status.success(),
    )
}

#[test]
fn grpc_calls_over_h2c_and_tls_to_an_h2c_backend() {
    if !grpcio_available() {
        eprintln!("SKIPPED grpc_calls_over_h2c_and_tls_to_an_h2c_backend: python3 grpcio is not installed (pip install grpcio)");
        return;
    }
    let base = std::env::temp_dir().join(format!("trafficcop-grpc-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&base);
    std::fs::create_dir_all(&base).unwrap();
    let pki = Pki::new();
    let cert = pki.leaf_files(&base, "grpc", &["grpc.example"]);
    let ca = base.join("ca.pem");
    std::fs::write(&ca, &pki.ca_pem).unwrap();

    let serve = |args: &[&str]| {
        Kill(
            Command::new("python3")
                .arg(script())
                .arg("serve")
                .args(args)
                .stdout(Stdio::null())
                .spawn()
                .unwrap(),
        )
    };
    let b = Backends {
        h2c: free_port(),
        tls: free_port(),
        dead: free_port(),
        ca: &ca,
    };
    let _h2c = serve(&[&b.h2c.to_string()]);
    let _tls = serve(&[&b.tls.to_string(), "--tls", &cert.0, &cert.1]);
    wait_port(b.h2c);
    wait_port(b.tls);

    let (_tc, web, secure, via) = start(
        Path::new(env!("CARGO_BIN_EXE_trafficcop")),
        &base.join("trafficcop"),
        &b,
        &cert,
    );
    let (plain, plain_ok) = call(web, None);
    eprintln!("trafficcop, h2c:\n{plain}");
    assert!(plain_ok, "{plain}");
    let (secure_out, secure_ok) = call(secure, Some((&ca, "grpc.example")));
    eprintln!("trafficcop, TLS:\n{secure_out}");
    assert!(secure_ok, "{secure_out}");
    assert_eq!(plain, secure_out, "the same answers over h2c and TLS");
    let (via_out, via_ok) = call(via, None);
    eprintln!("trafficcop, to the https:// backend:\n{via_out}");
    assert!(via_ok, "{via_out}");
    assert_eq!(plain, via_out, "the same answers from the https:// backend");

    let Some(traefik) = traefik_bin() else {
        eprintln!("SKIPPED the Traefik comparison: no Traefik binary (run scripts/fetch-traefik.sh or set TRAFFICCOP_TRAEFIK_BIN)");
        return;
    };
    let (_t, tweb, tsecure, tvia) = start(&traefik, &base.join("traefik"), &b, &cert);
    assert_eq!(
        call(tweb, None).0,
        plain,
        "Traefik and TrafficCop answer alike (h2c)"
    );
    assert_eq!(
        call(tsecure, Some((&ca, "grpc.example"))).0,
        secure_out,
        "Traefik and TrafficCop answer alike (TLS)"
    );
    assert_eq!(
        call(tvia, None).0,
        via_out,
        "Traefik and TrafficCop answer alike (https:// backend)"
    );
    eprintln!("Traefik answered every call alike (h2c, TLS, https:// backend)");
}
