//! Black-box tests: the real `trafficcop` binary with Traefik-format configuration files, real
//! backends and a raw HTTP client, all on 127.0.0.1.

use std::io::{BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

mod common;
use common::{free_port, read_head, spawn_trafficcop, wait_port, Kill};

struct Proxy {
    child: Kill,
    port: u16,
    dir: PathBuf,
}

impl Proxy {
    fn start(name: &str, dynamic: &str) -> Proxy {
        let dir =
            std::env::temp_dir().join(format!("trafficcop-e2e-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let port = free_port();
        std::fs::write(
            dir.join("traefik.yml"),
            format!(
                "entryPoints:\n  web:\n    address: \"127.0.0.1:{port}\"\n    transport: {{lifeCycle: {{graceTimeOut: 5s}}}}\nping: {{entryPoint: web}}\nproviders:\n  file: {{filename: \"{}\", watch: true}}\n  providersThrottleDuration: 0\n",
                dir.join("dyn.yml").display()
            ),
        )
        .unwrap();
        std::fs::write(dir.join("dyn.yml"), dynamic).unwrap();
        let child = spawn_trafficcop(&dir.join("traefik.yml"));
        wait_port(port);
        Proxy { child, port, dir }
    }

    fn rewrite(&self, dynamic: &str) {
        let tmp = self.dir.join("dyn.tmp");
        std::fs::write(&tmp, dynamic).unwrap();
        std::fs::rename(&tmp, self.dir.join("dyn.yml")).unwrap();
    }
}

/// A backend that records every request head and answers `200` with `name path`.
struct Backend {
    port: u16,
    heads: Arc<Mutex<Vec<String>>>,
    connections: Arc<AtomicUsize>,
}

fn content_length(head: &str) -> usize {
    head.lines()
        .find_map(|l| {
            l.strip_prefix("Content-Length: ")
                .or_else(|| l.strip_prefix("content-length: "))
        })
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0)
}

impl Backend {
    fn start(name: &'static str) -> Backend {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let heads = Arc::new(Mutex::new(Vec::new()));
        let connections = Arc::new(AtomicUsize::new(0));
        let (h, c) = (heads.clone(), connections.clone());
        std::thread::spawn(move || {
            for s in l.incoming().flatten() {
                c.fetch_add(1, Ordering::SeqCst);
                let h = h.clone();
                std::thread::spawn(move || {
                    let mut r = BufReader::new(s.try_clone().unwrap());
                    let mut w = s;
                    while let Some(head) = read_head(&mut r) {
                        let mut body = vec![0u8; content_length(&head)];
                        if r.read_exact(&mut body).is_err() {
                            return;
                        }
                        let path = head.split_whitespace().nth(1).unwrap_or("").to_string();
                        h.lock().unwrap().push(head);
                        let reply = format!("{name} {path} {}", body.len());
                        let _ = write!(
                            w,
                            "HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n{reply}",
                            reply.len()
                        );
                    }
                });
            }
        });
        Backend {
            port,
            heads,
            connections,
        }
    }

    fn last_head(&self) -> String {
        self.heads
            .lock()
            .unwrap()
            .last()
            .cloned()
            .unwrap_or_default()
    }
}

/// Sends one request on a new connection and returns the whole response (read to close).
fn request(port: u16, raw: &str) -> String {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.write_all(raw.as_bytes()).unwrap();
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    String::from_utf8_lossy(&out).into_owned()
}

fn get(port: u16, host: &str, path: &str) -> String {
    request(
        port,
        &format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"),
    )
}

/// The response with its `Date` line removed and CRLF shown as `\n`.
fn without_date(resp: &str) -> String {
    let mut out = String::new();
    let mut rest = resp;
    while let Some(i) = rest.find("\r\n") {
        let line = &rest[..i];
        if !line.starts_with("Date: ") {
            out.push_str(line);
            out.push('\n');
        }
        rest = &rest[i + 2..];
        if line.is_empty() {
            break;
        }
    }
    out.push_str(rest);
    out
}

fn dynamic(a: u16, b: u16) -> String {
    format!(
        r#"http:
  routers:
    by-host:
      rule: "Host(`a.example`)"
      service: a
    by-path:
      rule: "PathPrefix(`/b`)"
      service: b
    none:
      rule: "Path(`/none`)"
      service: empty
    dead:
      rule: "Path(`/dead`)"
      service: dead
  services:
    a:
      loadBalancer:
        servers: [{{url: "http://127.0.0.1:{a}"}}]
    b:
      loadBalancer:
        passHostHeader: false
        servers: [{{url: "http://127.0.0.1:{b}"}}]
    empty:
      loadBalancer:
        servers: []
    dead:
      loadBalancer:
        servers: [{{url: "http://127.0.0.1:{dead}"}}]
"#,
        dead = free_port()
    )
}

#[test]
fn routing_status_codes_and_forwarded_headers() {
    let (a, b) = (Backend::start("A"), Backend::start("B"));
    let p = Proxy::start("routing", &dynamic(a.port, b.port));
    let r = get(p.port, "a.example", "/x?q=1");
    assert!(
        r.starts_with("HTTP/1.1 200 OK\r\n") && r.ends_with("A /x?q=1 0"),
        "{r}"
    );
    let head = a.last_head();
    assert!(head.contains("Host: a.example\r\n"), "{head}");
    assert!(
        head.contains("X-Forwarded-For: 127.0.0.1\r\n")
            && head.contains("X-Real-Ip: 127.0.0.1\r\n"),
        "{head}"
    );
    assert!(
        head.contains("X-Forwarded-Host: a.example\r\n")
            && head.contains("X-Forwarded-Proto: http\r\n"),
        "{head}"
    );
    assert!(head.contains("X-Forwarded-Port: 80\r\n"), "{head}");

    let r = get(p.port, "other", "/b/c");
    assert!(r.ends_with("B /b/c 0"), "{r}");
    assert!(
        b.last_head()
            .contains(&format!("Host: 127.0.0.1:{}\r\n", b.port)),
        "passHostHeader: false"
    );

    assert_eq!(
        without_date(&get(p.port, "other", "/")),
        "HTTP/1.1 404 Not Found\nContent-Type: text/plain; charset=utf-8\nX-Content-Type-Options: nosniff\nContent-Length: 19\nConnection: close\n\n404 page not found\n"
    );
    assert!(get(p.port, "x", "/none").starts_with("HTTP/1.1 503 Service Unavailable\r\n"));
    assert!(get(p.port, "x", "/none").ends_with("no available server\n"));
    let dead = get(p.port, "x", "/dead");
    assert!(
        dead.starts_with("HTTP/1.1 502 Bad Gateway\r\n") && dead.ends_with("Bad Gateway"),
        "{dead}"
    );
    assert!(get(p.port, "x", "/ping").ends_with("\r\n\r\nOK"));
    // A malformed request: Go's 400 and a close.
    let bad = request(
        p.port,
        "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n",
    );
    assert!(bad.starts_with("HTTP/1.1 400 Bad Request"), "{bad}");
}

#[test]
fn keep_alive_both_sides_and_bodies() {
    let a = Backend::start("A");
    let p = Proxy::start("keepalive", &dynamic(a.port, a.port));
    let mut s = TcpStream::connect(("127.0.0.1", p.port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut r = BufReader::new(s.try_clone().unwrap());
    for i in 0..5 {
        write!(
            s,
            "POST /p{i} HTTP/1.1\r\nHost: a.example\r\nContent-Length: 3\r\n\r\nabc"
        )
        .unwrap();
        let head = read_head(&mut r).unwrap();
        let mut body = vec![0; content_length(&head)];
        r.read_exact(&mut body).unwrap();
        assert_eq!(String::from_utf8_lossy(&body), format!("A /p{i} 3"));
    }
    assert_eq!(
        a.connections.load(Ordering::SeqCst),
        1,
        "one upstream connection reused"
    );
    // A chunked upload of 8 MiB streams through and arrives complete.
    let size = 8 << 20;
    write!(
        s,
        "POST /big HTTP/1.1\r\nHost: a.example\r\nTransfer-Encoding: chunked\r\n\r\n"
    )
    .unwrap();
    let chunk = vec![b'x'; 64 * 1024];
    for _ in 0..size / chunk.len() {
        write!(s, "{:x}\r\n", chunk.len()).unwrap();
        s.write_all(&chunk).unwrap();
        s.write_all(b"\r\n").unwrap();
    }
    s.write_all(b"0\r\n\r\n").unwrap();
    let head = read_head(&mut r).unwrap();
    let mut body = vec![0; content_length(&head)];
    r.read_exact(&mut body).unwrap();
    // The test backend only reads Content-Length bodies, so it saw a chunked request it could
    // not size: what matters here is that the proxy forwarded a chunked request.
    assert!(
        a.last_head().contains("Transfer-Encoding: chunked\r\n"),
        "{}",
        a.last_head()
    );
}

#[test]
fn websocket_upgrade_is_a_byte_pipe() {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let (s, _) = l.accept().unwrap();
        let mut r = BufReader::new(s.try_clone().unwrap());
        let mut w = s;
        read_head(&mut r).unwrap();
        w.write_all(b"HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n").unwrap();
        let mut buf = [0u8; 64];
        while let Ok(n) = r.read(&mut buf) {
            if n == 0 || w.write_all(&buf[..n]).is_err() {
                return;
            }
        }
    });
    let p = Proxy::start("ws", &dynamic(port, port));
    let mut s = TcpStream::connect(("127.0.0.1", p.port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s.write_all(b"GET /chat HTTP/1.1\r\nHost: a.example\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n").unwrap();
    let mut r = BufReader::new(s.try_clone().unwrap());
    let head = read_head(&mut r).unwrap();
    assert!(
        head.starts_with("HTTP/1.1 101 Switching Protocols\r\n"),
        "{head}"
    );
    s.write_all(b"ping-frame").unwrap();
    let mut echo = [0u8; 10];
    r.read_exact(&mut echo).unwrap();
    assert_eq!(&echo, b"ping-frame");
}

#[test]
fn reload_applies_and_a_broken_file_keeps_the_last_good_config() {
    let (a, b) = (Backend::start("A"), Backend::start("B"));
    let p = Proxy::start("reload", &dynamic(a.port, b.port));
    assert!(get(p.port, "a.example", "/").ends_with("A / 0"));
    p.rewrite(&dynamic(b.port, a.port));
    let start = Instant::now();
    while !get(p.port, "a.example", "/").ends_with("B / 0") {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "reload not applied"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    p.rewrite("http:\n  routers:\n    r: {rule: x, priority: nope}\n");
    std::thread::sleep(Duration::from_millis(1500));
    assert!(
        get(p.port, "a.example", "/").ends_with("B / 0"),
        "last good configuration kept"
    );
}

#[test]
fn sigterm_lets_requests_in_flight_finish() {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for s in l.incoming().flatten() {
            std::thread::spawn(move || {
                let mut r = BufReader::new(s.try_clone().unwrap());
                let mut w = s;
                if read_head(&mut r).is_some() {
                    std::thread::sleep(Duration::from_millis(800));
                    let _ = w.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nslow");
                }
            });
        }
    });
    let mut p = Proxy::start("shutdown", &dynamic(port, port));
    let proxy_port = p.port;
    let client = std::thread::spawn(move || get(proxy_port, "a.example", "/slow"));
    std::thread::sleep(Duration::from_millis(200));
    let pid = p.child.0.id().to_string();
    Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    let resp = client.join().unwrap();
    assert!(
        resp.ends_with("slow"),
        "in-flight request completed: {resp}"
    );
    let status = p.child.0.wait().unwrap();
    assert!(status.success(), "{status:?}");
    assert!(
        TcpStream::connect(("127.0.0.1", proxy_port)).is_err(),
        "no longer accepting"
    );
}

#[test]
fn reload_under_load_drops_no_request_on_unchanged_routes() {
    let (a, b) = (Backend::start("A"), Backend::start("B"));
    let p = Proxy::start("reload-load", &dynamic(a.port, b.port));
    let port = p.port;
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let clients: Vec<_> = (0..4)
        .map(|_| {
            let stop = stop.clone();
            std::thread::spawn(move || {
                let (mut ok, mut failed) = (0, Vec::new());
                // Keep-alive connections, reopened when the proxy closes them.
                let mut conn: Option<(TcpStream, BufReader<TcpStream>)> = None;
                while !stop.load(Ordering::SeqCst) {
                    if conn.is_none() {
                        let s = TcpStream::connect(("127.0.0.1", port)).unwrap();
                        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
                        let r = BufReader::new(s.try_clone().unwrap());
                        conn = Some((s, r));
                    }
                    let (s, r) = conn.as_mut().unwrap();
                    let sent = s
                        .write_all(b"GET /b/unchanged HTTP/1.1\r\nHost: x\r\n\r\n")
                        .is_ok();
                    match read_head(r).filter(|_| sent) {
                        Some(head) => {
                            let mut body = vec![0; content_length(&head)];
                            let _ = r.read_exact(&mut body);
                            if head.starts_with("HTTP/1.1 200 ")
                                && String::from_utf8_lossy(&body).contains("/b/unchanged")
                            {
                                ok += 1;
                            } else {
                                failed.push(head);
                            }
                        }
                        None => {
                            // The proxy never closes a keep-alive connection on reload: a
                            // request without an answer is a dropped request.
                            failed.push("no response".into());
                            conn = None;
                        }
                    }
                }
                (ok, failed)
            })
        })
        .collect();
    // Ten rewrites: the by-host route moves between backends; /b stays on B (its service is
    // rewritten too, to the same server).
    for i in 0..10 {
        std::thread::sleep(Duration::from_millis(300));
        let (x, y) = if i % 2 == 0 {
            (b.port, b.port)
        } else {
            (a.port, b.port)
        };
        p.rewrite(&dynamic(x, y));
    }
    std::thread::sleep(Duration::from_millis(500));
    stop.store(true, Ordering::SeqCst);
    let mut total = 0;
    for c in clients {
        let (ok, failed) = c.join().unwrap();
        assert!(failed.is_empty(), "failed responses: {failed:?}");
        total += ok;
    }
    assert!(total > 100, "only {total} requests completed");
}

/// Peak resident memory of a process, in KiB.
fn peak_rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        })
        .unwrap_or(0)
}

#[test]
fn a_100_mib_response_streams_to_a_slow_reader_with_flat_memory() {
    const SIZE: usize = 100 << 20;
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for s in l.incoming().flatten() {
            std::thread::spawn(move || {
                let mut r = BufReader::new(s.try_clone().unwrap());
                let mut w = s;
                if read_head(&mut r).is_some() {
                    let _ = write!(w, "HTTP/1.1 200 OK\r\nContent-Length: {SIZE}\r\n\r\n");
                    let block = vec![b'z'; 1 << 20];
                    for _ in 0..SIZE / block.len() {
                        if w.write_all(&block).is_err() {
                            return;
                        }
                    }
                }
            });
        }
    });
    let p = Proxy::start("bigbody", &dynamic(port, port));
    let mut s = TcpStream::connect(("127.0.0.1", p.port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    s.write_all(b"GET /big HTTP/1.1\r\nHost: a.example\r\n\r\n")
        .unwrap();
    // A slow start: the proxy must stop reading the backend instead of buffering.
    std::thread::sleep(Duration::from_millis(1500));
    let during = peak_rss_kib(p.child.0.id());
    let mut r = BufReader::new(s);
    let head = read_head(&mut r).unwrap();
    assert!(head.contains(&format!("Content-Length: {SIZE}")), "{head}");
    let mut total = 0usize;
    let mut buf = vec![0u8; 1 << 16];
    while total < SIZE {
        let n = r.read(&mut buf).unwrap();
        assert!(n > 0, "truncated at {total}");
        total += n;
    }
    let peak = peak_rss_kib(p.child.0.id());
    eprintln!(
        "100 MiB through the proxy: peak RSS {} KiB (after the slow start: {} KiB)",
        peak, during
    );
    assert!(
        peak < 48 * 1024,
        "peak RSS {peak} KiB: the body was buffered"
    );
}
