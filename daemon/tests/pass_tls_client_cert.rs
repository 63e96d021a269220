//! `passTLSClientCert` end to end, TrafficCop and real Traefik 3.7.15 on one configuration: a
//! client certificate with a full subject and every kind of alternative name, issued by a CA
//! with its own names, presented over TLS 1.2, 1.3 and HTTP/2 (`clientAuth: RequestClientCert`);
//! the backend must see the same `X-Forwarded-Tls-Client-Cert` and
//! `X-Forwarded-Tls-Client-Cert-Info` lines.
//! Without a certificate nothing is set (and the entry point drops a line the client sent
//! itself, since it does not trust its forwarded headers).

mod common;

use common::tls::{tls_get, tls_raw};
use common::{free_port, recording_backend, start_with_dynamic, traefik_bin};

/// A CA with a subject of several kinds, and a client certificate it signs.
fn certificates(dir: &std::path::Path) -> (String, String) {
    let ca_key = rcgen::KeyPair::generate().unwrap();
    let mut ca = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    let mut dn = rcgen::DistinguishedName::new();
    dn.push(
        rcgen::DnType::CustomDnType(vec![0, 9, 2342, 19200300, 100, 1, 25]),
        rcgen::DnValue::Ia5String("org".try_into().unwrap()),
    );
    dn.push(rcgen::DnType::CountryName, "FR");
    dn.push(rcgen::DnType::StateOrProvinceName, "Occitanie");
    dn.push(rcgen::DnType::OrganizationName, "Cheese CA");
    dn.push(rcgen::DnType::CommonName, "Cheese Signing CA");
    ca.distinguished_name = dn;
    let ca_cert = ca.self_signed(&ca_key).unwrap();
    let issuer = rcgen::Issuer::new(ca, ca_key);

    let key = rcgen::KeyPair::generate().unwrap();
    let mut leaf = rcgen::CertificateParams::new(vec!["client.example".to_string()]).unwrap();
    leaf.subject_alt_names
        .push(rcgen::SanType::IpAddress("10.0.0.7".parse().unwrap()));
    leaf.subject_alt_names.push(rcgen::SanType::Rfc822Name(
        "ops@client.example".try_into().unwrap(),
    ));
    leaf.subject_alt_names.push(rcgen::SanType::URI(
        "spiffe://client.example/app".try_into().unwrap(),
    ));
    leaf.serial_number = Some(rcgen::SerialNumber::from_slice(&[
        0x00, 0x9a, 0x31, 0x42, 0x05, 0x66, 0x77, 0x10, 0x21,
    ]));
    let mut dn = rcgen::DistinguishedName::new();
    dn.push(rcgen::DnType::CountryName, "FR");
    dn.push(rcgen::DnType::LocalityName, "Toulouse");
    dn.push(rcgen::DnType::OrganizationName, "Cheese");
    dn.push(rcgen::DnType::OrganizationalUnitName, "Fromagerie");
    dn.push(rcgen::DnType::CommonName, "client one");
    leaf.distinguished_name = dn;
    let cert = leaf.signed_by(&key, &issuer).unwrap();
    let (c, k) = (dir.join("client.crt"), dir.join("client.key"));
    // The chain the client presents: its certificate, then the CA's.
    std::fs::write(&c, format!("{}{}", cert.pem(), ca_cert.pem())).unwrap();
    std::fs::write(&k, key.serialize_pem()).unwrap();
    (c.display().to_string(), k.display().to_string())
}

/// The two headers the backend saw for each request.
fn outcomes(
    bin: &std::path::Path,
    dir: &std::path::Path,
    client: &(String, String),
) -> Vec<String> {
    let (backend, seen) =
        recording_backend(|_, _| "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok".to_string());
    let port = free_port();
    let dynamic = format!(
        r#"
http:
  routers:
    mtls:
      rule: "Host(`mtls.example`)"
      service: app
      middlewares: [pass]
      tls: {{}}
  middlewares:
    pass:
      passTLSClientCert:
        pem: true
        info:
          notAfter: true
          notBefore: true
          sans: true
          serialNumber: true
          subject:
            country: true
            province: true
            locality: true
            organization: true
            organizationalUnit: true
            commonName: true
            serialNumber: true
            domainComponent: true
          issuer:
            country: true
            province: true
            locality: true
            organization: true
            commonName: true
            serialNumber: true
            domainComponent: true
  services:
    app:
      loadBalancer:
        servers: [{{url: "http://127.0.0.1:{backend}"}}]
tls:
  options:
    default:
      clientAuth:
        clientAuthType: RequestClientCert
"#
    );
    let _p = start_with_dynamic("pass-tls-client-cert", bin, port, &dynamic);
    let _ = dir;
    let start = std::time::Instant::now();
    loop {
        let got = tls_get(
            port,
            "mtls.example",
            "mtls.example",
            false,
            Some((&client.0, &client.1)),
        );
        if got.is_ok_and(|e| e.response.starts_with("HTTP/1.1 200")) {
            break;
        }
        assert!(
            start.elapsed() < std::time::Duration::from_secs(10),
            "not served"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    seen.lock().unwrap().clear();
    // TLS 1.2 and 1.3 with the certificate; without one, with a line of the client's own.
    tls_get(
        port,
        "mtls.example",
        "mtls.example",
        true,
        Some((&client.0, &client.1)),
    )
    .unwrap();
    tls_get(
        port,
        "mtls.example",
        "mtls.example",
        false,
        Some((&client.0, &client.1)),
    )
    .unwrap();
    // Over HTTP/2 (a stream reads the certificates of the connection below), with curl.
    let curl = std::process::Command::new("curl")
        .args([
            "-sk",
            "--http2",
            "-o",
            "/dev/null",
            "--cert",
            &client.0,
            "--key",
            &client.1,
        ])
        .arg("--resolve")
        .arg(format!("mtls.example:{port}:127.0.0.1"))
        .arg(format!("https://mtls.example:{port}/h2"))
        .status();
    if !curl.is_ok_and(|s| s.success()) {
        eprintln!("SKIPPED the HTTP/2 request: curl is not installed or failed");
        tls_get(
            port,
            "mtls.example",
            "mtls.example",
            false,
            Some((&client.0, &client.1)),
        )
        .unwrap();
    }
    tls_raw(
        port,
        "mtls.example",
        b"GET / HTTP/1.1\r\nHost: mtls.example\r\nX-Forwarded-Tls-Client-Cert: forged\r\nConnection: close\r\n\r\n",
    );
    let seen = seen.lock().unwrap().clone();
    seen.iter()
        .map(|request| {
            request
                .lines()
                .filter(|l| l.starts_with("X-Forwarded-Tls-Client-Cert"))
                .collect::<Vec<_>>()
                .join("\n")
        })
        .collect()
}

#[test]
fn client_certificates_reach_the_backend_as_traefik_passes_them() {
    let dir = std::env::temp_dir().join(format!("tc-pass-tls-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let client = certificates(&dir);
    let ours = outcomes(env!("CARGO_BIN_EXE_trafficcop").as_ref(), &dir, &client);
    assert_eq!(ours.len(), 4, "{ours:#?}");
    assert_eq!(ours[0], ours[1], "the same over TLS 1.2 and 1.3");
    assert_eq!(ours[0], ours[2], "the same over HTTP/2");
    let info = ours[0]
        .lines()
        .find_map(|l| l.strip_prefix("X-Forwarded-Tls-Client-Cert-Info: "))
        .expect("info line");
    let info =
        String::from_utf8(trafficcop_core::http::percent::unescape(info, true).unwrap()).unwrap();
    assert!(
        info.starts_with(r#"Subject="C=FR,L=Toulouse,O=Cheese,OU=Fromagerie,CN=client one";Issuer="DC=org,C=FR,ST=Occitanie,O=Cheese CA,CN=Cheese Signing CA";SerialNumber="11110734346661072929";NB=""#),
        "{info}"
    );
    assert!(
        info.contains(r#"SAN="client.example,ops@client.example,10.0.0.7,spiffe://client.example/app",Subject="DC=org,C=FR"#),
        "{info}"
    );
    // The entry point removes the client's own line (it does not trust forwarded headers).
    assert_eq!(ours[3], "");
    let Some(traefik) = traefik_bin() else {
        eprintln!("skipped the comparison: no Traefik binary (scripts/fetch-traefik.sh)");
        return;
    };
    let theirs = outcomes(&traefik, &dir, &client);
    assert_eq!(ours, theirs);
}
