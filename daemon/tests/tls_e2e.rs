//! TLS termination by the real binary over 127.0.0.1: certificates from files chosen by SNI
//! (checked from the presented chain, and by curl against the CA), TLS 1.2 and 1.3, the
//! default certificate, sniStrict, client certificates, and the HTTP-to-HTTPS redirection.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;

use common::tls::{tls_get, tls_raw, Pki};
use common::{echo_backend, free_port, spawn_trafficcop, wait_port};

/// Starts the binary with entry points `web` (plain, redirecting to `websecure`) and
/// `websecure`, and `dynamic` as the file provider's file; returns (process, web, websecure).
fn start(dir: &Path, dynamic: &str) -> (common::Kill, u16, u16) {
    let (web, secure) = (free_port(), free_port());
    std::fs::write(dir.join("dynamic.yml"), dynamic).unwrap();
    let st = format!(
        "entryPoints:\n  web:\n    address: '127.0.0.1:{web}'\n    http:\n      redirections:\n        entryPoint: {{to: websecure}}\n  websecure:\n    address: '127.0.0.1:{secure}'\nproviders:\n  file:\n    filename: {}\n",
        dir.join("dynamic.yml").display()
    );
    std::fs::write(dir.join("traefik.yml"), st).unwrap();
    let p = spawn_trafficcop(&dir.join("traefik.yml"));
    wait_port(web);
    wait_port(secure);
    (p, web, secure)
}

fn tempdir(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("trafficcop-tls-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn certificates_by_sni_versions_default_certificate_and_redirection() {
    let dir = tempdir("sni");
    let pki = Pki::new();
    let (a_crt, a_key) = pki.leaf_files(&dir, "a", &["a.example"]);
    let (w_crt, w_key) = pki.leaf_files(&dir, "wild", &["*.wild.example"]);
    std::fs::write(dir.join("ca.pem"), &pki.ca_pem).unwrap();
    let backend = echo_backend();
    let dynamic = format!(
        "http:\n  routers:\n    secure:\n      rule: \"Host(`a.example`) || HostRegexp(`wild`)\"\n      service: echo\n      tls: {{}}\n  services:\n    echo:\n      loadBalancer:\n        servers: [{{url: \"http://127.0.0.1:{backend}\"}}]\ntls:\n  certificates:\n    - {{certFile: {a_crt}, keyFile: {a_key}}}\n    - {{certFile: {w_crt}, keyFile: {w_key}}}\n"
    );
    let (_p, web, secure) = start(&dir, &dynamic);

    for tls12 in [false, true] {
        let x = tls_get(secure, "a.example", "a.example", tls12, None).unwrap();
        let want = if tls12 {
            rustls::ProtocolVersion::TLSv1_2
        } else {
            rustls::ProtocolVersion::TLSv1_3
        };
        assert_eq!(x.version, Some(want));
        assert_eq!(x.names, ["a.example"]);
        assert!(
            x.response.starts_with("HTTP/1.1 200 OK\r\n"),
            "{}",
            x.response
        );
        assert!(
            x.response.contains("X-Forwarded-Proto: https\r\n"),
            "{}",
            x.response
        );
        assert!(
            x.response.contains("X-Forwarded-Port: 443\r\n"),
            "{}",
            x.response
        );
    }
    let x = tls_get(secure, "b.wild.example", "b.wild.example", false, None).unwrap();
    assert_eq!(x.names, ["*.wild.example"]);
    assert!(x.response.starts_with("HTTP/1.1 200 OK\r\n"));
    // An unknown name gets Traefik's generated default certificate; the router does not match.
    let x = tls_get(secure, "nobody.example", "nobody.example", false, None).unwrap();
    assert_eq!(x.names[0], "traefik default cert");
    assert!(x.names[1].ends_with(".traefik.default"), "{:?}", x.names);
    assert!(
        x.response.starts_with("HTTP/1.1 404 Not Found\r\n"),
        "{}",
        x.response
    );
    // The TLS router is not served on plain connections; the web entry point redirects.
    let mut s = TcpStream::connect(("127.0.0.1", web)).unwrap();
    s.write_all(b"GET /p?q=1 HTTP/1.1\r\nHost: a.example\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    assert!(
        out.starts_with("HTTP/1.1 301 Moved Permanently\r\n"),
        "{out}"
    );
    assert!(
        out.contains(&format!("Location: https://a.example:{secure}/p?q=1\r\n")),
        "{out}"
    );

    // curl verifies the chain against the CA (skipped when curl is not installed).
    if std::process::Command::new("curl")
        .arg("--version")
        .output()
        .is_ok()
    {
        for v in [
            ["--tlsv1.2", "--tls-max", "1.2"],
            ["--tlsv1.3", "--tls-max", "1.3"],
        ] {
            let out = std::process::Command::new("curl")
                .args(["-s", "--http1.1", "--cacert"])
                .arg(dir.join("ca.pem"))
                .args(v)
                .args(["--resolve", &format!("a.example:{secure}:127.0.0.1")])
                .arg(format!("https://a.example:{secure}/from-curl"))
                .output()
                .unwrap();
            let body = String::from_utf8_lossy(&out.stdout);
            assert!(out.status.success(), "curl {v:?}: {out:?}");
            assert!(body.starts_with("GET /from-curl HTTP/1.1\r\n"), "{body}");
        }
    } else {
        eprintln!("SKIPPED the curl checks: curl is not installed");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn sni_strict_and_client_certificates() {
    let dir = tempdir("mtls");
    let pki = Pki::new();
    let (s_crt, s_key) = pki.leaf_files(&dir, "server", &["m.example", "s.example"]);
    let (c_crt, c_key) = pki.leaf_files(&dir, "client", &["client.example"]);
    let stranger = Pki::new();
    let (x_crt, x_key) = stranger.leaf_files(&dir, "stranger", &["client.example"]);
    std::fs::write(dir.join("ca.pem"), &pki.ca_pem).unwrap();
    let backend = echo_backend();
    let dynamic = format!(
        "http:\n  routers:\n    mtls:\n      rule: \"Host(`m.example`)\"\n      service: echo\n      tls: {{options: mtls}}\n    strict:\n      rule: \"Host(`s.example`)\"\n      service: echo\n      tls: {{}}\n  services:\n    echo:\n      loadBalancer:\n        servers: [{{url: \"http://127.0.0.1:{backend}\"}}]\ntls:\n  certificates:\n    - {{certFile: {s_crt}, keyFile: {s_key}}}\n  options:\n    default:\n      sniStrict: true\n    mtls:\n      clientAuth:\n        caFiles: [{ca}]\n",
        ca = dir.join("ca.pem").display()
    );
    let (_p, _web, secure) = start(&dir, &dynamic);

    // sniStrict on the default options: a known name works, an unknown one is refused.
    let x = tls_get(secure, "s.example", "s.example", false, None).unwrap();
    assert!(
        x.response.starts_with("HTTP/1.1 200 OK\r\n"),
        "{}",
        x.response
    );
    assert!(tls_get(secure, "unknown.example", "unknown.example", false, None).is_err());

    // mTLS: a certificate from the CA is accepted, none or a stranger's is refused.
    let x = tls_get(
        secure,
        "m.example",
        "m.example",
        false,
        Some((&c_crt, &c_key)),
    )
    .unwrap();
    assert!(
        x.response.starts_with("HTTP/1.1 200 OK\r\n"),
        "{}",
        x.response
    );
    assert!(tls_get(secure, "m.example", "m.example", false, None).is_err());
    assert!(tls_get(
        secure,
        "m.example",
        "m.example",
        false,
        Some((&x_crt, &x_key))
    )
    .is_err());
    // Domain fronting: SNI of the mTLS host, Host of the other router: 421.
    let x = tls_get(
        secure,
        "m.example",
        "s.example",
        false,
        Some((&c_crt, &c_key)),
    )
    .unwrap();
    assert!(
        x.response
            .starts_with("HTTP/1.1 421 Misdirected Request\r\n"),
        "{}",
        x.response
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// Runs curl with `args`; `None` when curl is not installed.
fn curl(args: &[&str]) -> Option<std::process::Output> {
    std::process::Command::new("curl").args(args).output().ok()
}

#[test]
fn http2_over_tls_alpn_and_h2c_prior_knowledge() {
    if curl(&["--version"]).is_none() {
        eprintln!("SKIPPED http2_over_tls_alpn_and_h2c_prior_knowledge: curl is not installed");
        return;
    }
    let dir = tempdir("h2");
    let pki = Pki::new();
    let (crt, key) = pki.leaf_files(&dir, "a", &["a.example"]);
    let backend = echo_backend();
    let dynamic = format!(
        "http:\n  routers:\n    secure:\n      rule: \"Host(`a.example`)\"\n      service: echo\n      tls: {{}}\n  services:\n    echo:\n      loadBalancer:\n        servers: [{{url: \"http://127.0.0.1:{backend}\"}}]\ntls:\n  certificates:\n    - {{certFile: {crt}, keyFile: {key}}}\n"
    );
    let (_p, web, secure) = start(&dir, &dynamic);
    let resolve = format!("a.example:{secure}:127.0.0.1");
    let url = format!("https://a.example:{secure}/h2?x=1");
    let out = curl(&[
        "-sk",
        "--http2",
        "--resolve",
        &resolve,
        "-w",
        "\n%{http_version} %{http_code}",
        &url,
    ])
    .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(text.ends_with("\n2 200"), "{text}");
    // The backend got an HTTP/1.1 request with the usual forwarded headers.
    assert!(
        text.starts_with("GET /h2?x=1 HTTP/1.1\r\nHost: a.example:"),
        "{text}"
    );
    assert!(text.contains("X-Forwarded-Proto: https\r\n"), "{text}");
    // Several streams on one connection.
    let urls: Vec<String> = (0..20)
        .map(|i| format!("https://a.example:{secure}/s{i}"))
        .collect();
    let mut args = vec![
        "-sk",
        "--http2",
        "--parallel",
        "--resolve",
        &resolve,
        "-w",
        "%{http_version}:%{http_code}\n",
    ];
    args.extend(urls.iter().map(String::as_str));
    let out = curl(&args).unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(text.matches("2:200").count(), 20, "{text}");
    // h2c with prior knowledge on the plain entry point: the redirection router answers.
    let out = curl(&[
        "-s",
        "--http2-prior-knowledge",
        "-H",
        "Host: a.example",
        "-w",
        "\n%{http_version} %{http_code} %{redirect_url}",
        &format!("http://127.0.0.1:{web}/p"),
    ])
    .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        text.ends_with(&format!("\n2 301 https://a.example:{secure}/p")),
        "{text}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// An HTTPS backend on 127.0.0.1 presenting `cert`/`key` (files), answering every request
/// `200 secure-backend`. Returns its port.
fn https_backend(cert: &str, key: &str) -> u16 {
    use rustls::pki_types::pem::PemObject;
    use std::io::BufReader;
    let chain = rustls::pki_types::CertificateDer::pem_file_iter(cert)
        .unwrap()
        .map(|c| c.unwrap())
        .collect();
    let key = rustls::pki_types::PrivateKeyDer::from_pem_file(key).unwrap();
    let config = std::sync::Arc::new(
        rustls::ServerConfig::builder_with_provider(std::sync::Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .unwrap(),
    );
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for s in l.incoming().flatten() {
            let config = std::sync::Arc::clone(&config);
            std::thread::spawn(move || {
                let conn = rustls::ServerConnection::new(config).unwrap();
                let mut tls = rustls::StreamOwned::new(conn, s);
                let got = common::read_head(&mut BufReader::new(&mut tls)).is_some();
                if got {
                    // The body names what was negotiated: `secure-backend TLSv1_3 TLS13_...`.
                    let body = format!(
                        "secure-backend {:?} {:?}",
                        tls.conn.protocol_version().unwrap(),
                        tls.conn.negotiated_cipher_suite().unwrap().suite()
                    );
                    let head = format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n", body.len());
                    let _ = tls.write_all(format!("{head}{body}").as_bytes());
                    let _ = tls.flush();
                }
            });
        }
    });
    port
}

#[test]
fn https_backends_with_a_private_ca() {
    let dir = tempdir("https-backend");
    let pki = Pki::new();
    let (crt, key) = pki.leaf_files(&dir, "backend", &["backend.example"]);
    std::fs::write(dir.join("ca.pem"), &pki.ca_pem).unwrap();
    let good = https_backend(&crt, &key);
    let stranger = Pki::new();
    let (xcrt, xkey) = stranger.leaf_files(&dir, "stranger", &["backend.example"]);
    let bad = https_backend(&xcrt, &xkey);
    let dynamic = format!(
        "http:\n  routers:\n    good: {{rule: \"Path(`/good`)\", service: good, tls: {{}}}}\n    bad: {{rule: \"Path(`/bad`)\", service: bad, tls: {{}}}}\n  services:\n    good: {{loadBalancer: {{serversTransport: ca, servers: [{{url: \"https://127.0.0.1:{good}\"}}]}}}}\n    bad: {{loadBalancer: {{serversTransport: ca, servers: [{{url: \"https://127.0.0.1:{bad}\"}}]}}}}\n  serversTransports:\n    ca: {{serverName: backend.example, rootCAs: [{ca}]}}\n",
        ca = dir.join("ca.pem").display()
    );
    let (_p, _web, secure) = start(&dir, &dynamic);
    let get = |path: &str| {
        let raw = format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        String::from_utf8_lossy(&tls_raw(secure, "x.example", raw.as_bytes())).into_owned()
    };
    let good_resp = get("/good");
    let bad_resp = get("/bad");
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        good_resp.contains("\r\n\r\nsecure-backend TLSv1_3"),
        "{good_resp}"
    );
    assert!(
        bad_resp.starts_with("HTTP/1.1 500 Internal Server Error\r\n"),
        "{bad_resp}"
    );
}

/// `cipherSuites`, `minVersion` and `maxVersion` of a `serversTransport` towards an `https://`
/// backend, and Traefik 3.7's fallback: settings its transport manager refuses (an unknown
/// suite, or a minimum above the maximum, which an unset maximum always is) make the transport
/// use the default TLS configuration, so a backend signed by a private CA is no longer trusted.
#[test]
fn backend_tls_versions_and_cipher_suites() {
    let dir = tempdir("backend-versions");
    let pki = Pki::new();
    let (crt, key) = pki.leaf_files(&dir, "backend", &["backend.example"]);
    std::fs::write(dir.join("ca.pem"), &pki.ca_pem).unwrap();
    let backend = https_backend(&crt, &key);
    let cases = [
        ("plain", ""),
        ("max12", "maxVersion: VersionTLS12"),
        (
            "only13",
            "minVersion: VersionTLS13, maxVersion: VersionTLS13",
        ),
        (
            "suite",
            "maxVersion: VersionTLS12, cipherSuites: [TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384]",
        ),
        ("minonly", "minVersion: VersionTLS12"),
        ("badsuite", "cipherSuites: [TLS_NOPE]"),
    ];
    let mut dynamic = String::from("http:\n  routers:\n");
    for (name, _) in cases {
        dynamic.push_str(&format!(
            "    {name}: {{rule: \"Path(`/{name}`)\", service: {name}, tls: {{}}}}\n"
        ));
    }
    dynamic.push_str("  services:\n");
    for (name, _) in cases {
        dynamic.push_str(&format!(
            "    {name}: {{loadBalancer: {{serversTransport: {name}, servers: [{{url: \"https://127.0.0.1:{backend}\"}}]}}}}\n"
        ));
    }
    dynamic.push_str("  serversTransports:\n");
    for (name, extra) in cases {
        let sep = if extra.is_empty() { "" } else { ", " };
        dynamic.push_str(&format!(
            "    {name}: {{serverName: backend.example, rootCAs: [{ca}]{sep}{extra}}}\n",
            ca = dir.join("ca.pem").display()
        ));
    }
    let (_p, _web, secure) = start(&dir, &dynamic);
    let get = |path: &str| {
        let raw = format!("GET /{path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        let r = String::from_utf8_lossy(&tls_raw(secure, "x.example", raw.as_bytes())).into_owned();
        match r.split_once("\r\n\r\n") {
            Some((head, body)) if head.starts_with("HTTP/1.1 200") => body.to_string(),
            _ => r.lines().next().unwrap_or("").to_string(),
        }
    };
    let got: Vec<String> = cases.iter().map(|(name, _)| get(name)).collect();
    let _ = std::fs::remove_dir_all(&dir);
    assert!(got[0].starts_with("secure-backend TLSv1_3"), "{got:?}");
    assert!(got[1].starts_with("secure-backend TLSv1_2"), "{got:?}");
    assert!(got[2].starts_with("secure-backend TLSv1_3"), "{got:?}");
    assert_eq!(
        got[3], "secure-backend TLSv1_2 TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
        "{got:?}"
    );
    assert_eq!(got[4], "HTTP/1.1 500 Internal Server Error", "{got:?}");
    assert_eq!(got[5], "HTTP/1.1 500 Internal Server Error", "{got:?}");
}
