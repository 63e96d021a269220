//! `contentType` end to end, TrafficCop and real Traefik 3.7.15 on one configuration: answers
//! without a `Content-Type` get the type of their first bytes (HTML, binary, plain text among
//! other lines, Traefik's own 502), where Go's server writes it, over HTTP/1.1 and h2c; not an
//! empty body, a HEAD, a body that comes after its head, a typed answer, a router without the
//! middleware, or `autoDetect: false`.

mod common;

use std::io::Write;
use std::time::Duration;

use common::{assert_same, free_port, h2_get, raw_exchange, start_with_dynamic, wait_served};

/// A backend answering by path, some answers in two writes (the body later).
fn backend() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for s in l.incoming().flatten() {
            std::thread::spawn(move || {
                let mut r = std::io::BufReader::new(s);
                while let Some(head) = common::read_head(&mut r) {
                    let path = head.split(' ').nth(1).unwrap_or("/").to_string();
                    let w = r.get_mut();
                    let whole = |w: &mut std::net::TcpStream, extra: &str, body: &[u8]| {
                        let mut out = format!(
                            "HTTP/1.1 200 OK\r\n{extra}Content-Length: {}\r\n\r\n",
                            body.len()
                        )
                        .into_bytes();
                        out.extend_from_slice(body);
                        w.write_all(&out)
                    };
                    let done = if path.starts_with("/html") {
                        whole(w, "", b"<html><body>hi</body></html>")
                    } else if path.starts_with("/bin") {
                        whole(w, "", b"\x00\x01\x02binary")
                    } else if path.starts_with("/empty") {
                        whole(w, "", b"")
                    } else if path.starts_with("/typed") {
                        whole(w, "Content-Type: text/x-mine\r\n", b"<html>")
                    } else if path.starts_with("/soon") {
                        let _ = w.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 17\r\n\r\n");
                        std::thread::sleep(Duration::from_millis(30));
                        w.write_all(b"<html>soon</html>")
                    } else if path.starts_with("/late") {
                        let _ = w.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 13\r\n\r\n");
                        std::thread::sleep(Duration::from_millis(300));
                        w.write_all(b"%PDF-1.4 late")
                    } else if path.starts_with("/chunked") {
                        let _ =
                            w.write_all(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
                        std::thread::sleep(Duration::from_millis(300));
                        w.write_all(b"8\r\n{\"a\": 1}\r\n0\r\n\r\n")
                    } else if path.starts_with("/json-chunks") {
                        w.write_all(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n9\r\n<html>hi \r\n0\r\n\r\n")
                    } else {
                        whole(w, "Z-Last: z\r\nA-First: a\r\n", b"plain text here")
                    };
                    if done.is_err() {
                        return;
                    }
                }
            });
        }
    });
    port
}

fn outcomes(bin: &std::path::Path) -> Vec<String> {
    let app = backend();
    let dead = free_port();
    let port = free_port();
    let dynamic = format!(
        r#"
http:
  routers:
    ct:
      rule: "Host(`ct.example`)"
      service: app
      middlewares: [ct]
    plain:
      rule: "Host(`plain.example`)"
      service: app
    dead:
      rule: "Host(`dead.example`)"
      service: dead
      middlewares: [ct]
    off:
      rule: "Host(`off.example`)"
      service: app
      middlewares: [ctoff]
    ready:
      rule: "Host(`ready.example`)"
      service: app
    never:
      rule: "Host(`never.example`)"
      service: app-never
      middlewares: [ct]
    at-once:
      rule: "Host(`at-once.example`)"
      service: app-at-once
      middlewares: [ct]
  middlewares:
    ct:
      contentType: {{}}
    ctoff:
      contentType: {{autoDetect: false}}
  services:
    app:
      loadBalancer:
        servers: [{{url: "http://127.0.0.1:{app}"}}]
    dead:
      loadBalancer:
        servers: [{{url: "http://127.0.0.1:{dead}"}}]
    app-never:
      loadBalancer:
        servers: [{{url: "http://127.0.0.1:{app}"}}]
        responseForwarding: {{flushInterval: 0s}}
    app-at-once:
      loadBalancer:
        servers: [{{url: "http://127.0.0.1:{app}"}}]
        responseForwarding: {{flushInterval: -1ms}}
"#
    );
    let _p = start_with_dynamic("content-type", bin, port, &dynamic);
    wait_served(port, "/");
    let get = |method: &str, path: &str, host: &str| {
        raw_exchange(
            port,
            &format!("{method} {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"),
        )
    };
    let mut out = Vec::new();
    for path in [
        "/html",
        "/bin",
        "/empty",
        "/typed",
        "/soon",
        "/late",
        "/chunked",
        "/json-chunks",
        "/other",
    ] {
        out.push(get("GET", path, "ct.example"));
    }
    out.push(get("HEAD", "/html", "ct.example"));
    out.push(get("GET", "/html", "plain.example"));
    out.push(get("GET", "/html", "off.example"));
    out.push(get("GET", "/", "dead.example"));
    out.push(get("HEAD", "/", "dead.example"));
    // `flushInterval: 0`: the head waits for the body however late; negative: never guessed.
    out.push(get("GET", "/late", "never.example"));
    out.push(get("GET", "/html", "at-once.example"));
    for (host, path) in [
        ("ct.example", "/html"),
        ("ct.example", "/other"),
        ("dead.example", "/"),
    ] {
        let (lines, body) = h2_get(port, host, path, &[]);
        let lines: Vec<String> = lines
            .into_iter()
            .map(|l| {
                if l.to_ascii_lowercase().starts_with("date:") {
                    "date: <now>".into()
                } else {
                    l
                }
            })
            .collect();
        out.push(format!(
            "{}\n{}",
            lines.join("\n"),
            String::from_utf8_lossy(&body)
        ));
    }
    out
}

#[test]
fn content_type_guesses_as_traefik() {
    let ours = outcomes(env!("CARGO_BIN_EXE_trafficcop").as_ref());
    let has_type = |i: usize, t: &str| ours[i].contains(&format!("Content-Type: {t}\n"));
    let untyped = |i: usize| !ours[i].contains("Content-Type");
    assert!(has_type(0, "text/html; charset=utf-8"), "{}", ours[0]);
    assert!(has_type(1, "application/octet-stream"), "{}", ours[1]);
    assert!(untyped(2), "empty: {}", ours[2]);
    assert!(has_type(4, "text/html; charset=utf-8"), "soon: {}", ours[4]);
    assert!(untyped(5), "a body long after its head: {}", ours[5]);
    assert!(untyped(6), "chunked: {}", ours[6]);
    assert!(untyped(10), "no middleware: {}", ours[10]);
    assert!(untyped(11), "autoDetect false: {}", ours[11]);
    assert!(has_type(12, "text/plain; charset=utf-8"), "{}", ours[12]);
    let Some(traefik) = common::traefik_bin() else {
        eprintln!("skipped the comparison: no Traefik binary (scripts/fetch-traefik.sh)");
        return;
    };
    assert_same(&ours, &outcomes(&traefik));
}
