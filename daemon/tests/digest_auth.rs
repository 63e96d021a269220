//! `digestAuth` end to end, TrafficCop and real Traefik 3.7.15 on one configuration: the
//! challenge (nonce and opaque values blanked: they are random), a right answer (the user name
//! in `headerField`, `Authorization` removed), the same nonce count again, a lower one
//! (`stale`), a wrong password, Basic credentials, a URI that is a prefix of the path, and a
//! parameter without a value.

mod common;

use md5::Digest;

use common::{assert_same, free_port, raw_exchange, recording_backend, start_with_dynamic};

fn md5_hex(data: &str) -> String {
    md5::Md5::digest(data.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A quoted parameter of a challenge.
fn param(challenge: &str, key: &str) -> String {
    let Some(start) = challenge
        .find(&format!("{key}=\""))
        .map(|i| i + key.len() + 2)
    else {
        return String::new();
    };
    let end = challenge[start..].find('"').unwrap_or(0);
    challenge[start..start + end].to_string()
}

/// The answer with the random values of a challenge blanked.
fn blank_nonces(answer: &str) -> String {
    answer
        .lines()
        .map(|l| {
            if l.starts_with("Www-Authenticate:") {
                let (n, o) = (param(l, "nonce"), param(l, "opaque"));
                l.replace(&n, "<nonce>").replace(&o, "<opaque>")
            } else {
                l.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn get(port: u16, path: &str, authorization: Option<&str>) -> String {
    let auth = authorization.map_or(String::new(), |a| format!("Authorization: {a}\r\n"));
    raw_exchange(
        port,
        &format!("GET {path} HTTP/1.1\r\nHost: digest.example\r\n{auth}Connection: close\r\n\r\n"),
    )
}

/// The answer to a challenge `c` for `user`/`password`, `uri` and count `nc`.
fn answer(c: &str, user: &str, password: &str, uri: &str, nc: &str) -> String {
    let (realm, nonce, opaque) = (param(c, "realm"), param(c, "nonce"), param(c, "opaque"));
    let ha1 = md5_hex(&format!("{user}:{realm}:{password}"));
    let ha2 = md5_hex(&format!("GET:{uri}"));
    let response = md5_hex(&format!("{ha1}:{nonce}:{nc}:c0ffee:auth:{ha2}"));
    format!("Digest username=\"{user}\", realm=\"{realm}\", nonce=\"{nonce}\", uri=\"{uri}\", qop=auth, nc={nc}, cnonce=\"c0ffee\", response=\"{response}\", opaque=\"{opaque}\"")
}

fn outcomes(bin: &std::path::Path) -> Vec<String> {
    let (backend, seen) =
        recording_backend(|_, _| "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nin\n".to_string());
    let port = free_port();
    // test:traefik:test
    let dynamic = format!(
        r#"
http:
  routers:
    r:
      rule: "Host(`digest.example`)"
      service: app
      middlewares: [digest]
  middlewares:
    digest:
      digestAuth:
        users: ["test:traefik:a2688e031edb4be6a3797f3882655c05"]
        headerField: X-Webauth-User
        removeHeader: true
  services:
    app:
      loadBalancer:
        servers: [{{url: "http://127.0.0.1:{backend}"}}]
"#
    );
    let _p = start_with_dynamic("digest-auth", bin, port, &dynamic);
    let start = std::time::Instant::now();
    let mut first = get(port, "/a/b", None);
    while !first.starts_with("HTTP/1.1 401") {
        assert!(
            start.elapsed() < std::time::Duration::from_secs(10),
            "not served: {first}"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
        first = get(port, "/a/b", None);
    }
    let challenge = first
        .lines()
        .find(|l| l.starts_with("Www-Authenticate:"))
        .unwrap_or("")
        .to_string();
    let mut out = vec![blank_nonces(&first)];
    out.push(get(
        port,
        "/a/b",
        Some(&answer(&challenge, "test", "test", "/a/b", "00000002")),
    ));
    out.push(blank_nonces(&get(
        port,
        "/a/b",
        Some(&answer(&challenge, "test", "test", "/a/b", "00000002")),
    )));
    out.push(blank_nonces(&get(
        port,
        "/a/b",
        Some(&answer(&challenge, "test", "test", "/a/b", "00000001")),
    )));
    out.push(blank_nonces(&get(
        port,
        "/a/b",
        Some(&answer(&challenge, "test", "nope", "/a/b", "00000003")),
    )));
    out.push(blank_nonces(&get(port, "/a/b", Some("Basic dGVzdDp0ZXN0"))));
    // The URI given may be a prefix of the request's path.
    out.push(get(
        port,
        "/a/b?x=1",
        Some(&answer(&challenge, "test", "test", "/a", "00000004")),
    ));
    out.push(blank_nonces(&get(
        port,
        "/a/b",
        Some("Digest username=\"test\", nonce="),
    )));
    // What the backend saw of the two that went through.
    for request in seen.lock().unwrap().iter() {
        out.push(
            request
                .lines()
                .filter(|l| {
                    l.starts_with("GET")
                        || l.starts_with("Authorization")
                        || l.starts_with("X-Webauth-User")
                })
                .collect::<Vec<_>>()
                .join("\n"),
        );
    }
    out
}

#[test]
fn digest_auth_answers_as_traefik() {
    let ours = outcomes(env!("CARGO_BIN_EXE_trafficcop").as_ref());
    assert!(
        ours[0].starts_with("HTTP/1.1 401 Unauthorized\n"),
        "{}",
        ours[0]
    );
    assert!(
        ours[0].contains("Www-Authenticate: Digest realm=\"traefik\", nonce=\"<nonce>\", opaque=\"<opaque>\", algorithm=\"MD5\", qop=\"auth\""),
        "{}",
        ours[0]
    );
    assert!(ours[1].starts_with("HTTP/1.1 200 OK"), "{}", ours[1]);
    assert!(
        ours[2].starts_with("HTTP/1.1 401"),
        "a count seen again: {}",
        ours[2]
    );
    assert!(
        ours[3].contains("stale=\"true\""),
        "a lower count: {}",
        ours[3]
    );
    assert!(ours[6].starts_with("HTTP/1.1 200 OK"), "{}", ours[6]);
    assert_eq!(ours[8], "GET /a/b HTTP/1.1\nX-Webauth-User: test");
    let Some(traefik) = common::traefik_bin() else {
        eprintln!("skipped the comparison: no Traefik binary (scripts/fetch-traefik.sh)");
        return;
    };
    assert_same(&ours, &outcomes(&traefik));
}
