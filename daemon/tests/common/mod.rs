//! Helpers shared by the black-box tests that run the `trafficcop` binary (and its peers) as
//! child processes on 127.0.0.1.
#![allow(dead_code)] // each test crate uses its own subset

pub mod tls;

use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A port that was free a moment ago on 127.0.0.1.
pub fn free_port() -> u16 {
    // Never the same port twice in one test process: tests run in parallel threads, and the
    // kernel may hand a just-released port out again before the proxy binds it.
    static GIVEN: std::sync::Mutex<Vec<u16>> = std::sync::Mutex::new(Vec::new());
    let mut given = GIVEN.lock().unwrap_or_else(|e| e.into_inner());
    loop {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        if !given.contains(&port) {
            given.push(port);
            return port;
        }
    }
}

/// A child process killed and reaped when dropped, so a failing test leaves none behind.
pub struct Kill(pub Child);

impl Drop for Kill {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Waits until 127.0.0.1:`port` accepts connections; fails the test after 10 s.
pub fn wait_port(port: u16) {
    let start = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "port {port} never opened"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Starts the `trafficcop` binary under test on `config` (a static configuration file), with
/// its output discarded.
pub fn spawn_trafficcop(config: &std::path::Path) -> Kill {
    // Its log goes beside the configuration (`<config>.stderr`), to read when a test fails.
    let log = std::fs::File::create(config.with_extension("stderr"))
        .map(Stdio::from)
        .unwrap_or_else(|_| Stdio::null());
    let child = Command::new(env!("CARGO_BIN_EXE_trafficcop"))
        .arg(format!("--configFile={}", config.display()))
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .unwrap();
    Kill(child)
}

/// Reads one message head (through the blank line); `None` at end of stream.
pub fn read_head(r: &mut impl std::io::BufRead) -> Option<String> {
    let mut head = String::new();
    loop {
        let mut line = String::new();
        if r.read_line(&mut line).ok()? == 0 {
            return None;
        }
        head.push_str(&line);
        if line == "\r\n" {
            return Some(head);
        }
    }
}

/// A backend on 127.0.0.1 that answers every request `200` with the request head as its body
/// (one request per connection). Returns its port.
pub fn echo_backend() -> u16 {
    use std::io::{BufReader, Write};
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for s in l.incoming().flatten() {
            std::thread::spawn(move || {
                let mut r = BufReader::new(s.try_clone().unwrap());
                let Some(head) = read_head(&mut r) else {
                    return;
                };
                let mut w = s;
                let _ = write!(
                    w,
                    "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{head}",
                    head.len()
                );
            });
        }
    });
    port
}

/// The real Traefik binary for comparisons: `TRAFFICCOP_TRAEFIK_BIN`, else what
/// `scripts/fetch-traefik.sh` puts at `target/oracle/traefik`; `None` when neither is there.
pub fn traefik_bin() -> Option<std::path::PathBuf> {
    let p = std::env::var_os("TRAFFICCOP_TRAEFIK_BIN")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| {
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/oracle/traefik")
        });
    p.is_file().then_some(p)
}

/// Starts `bin` (TrafficCop or Traefik) with one entry point `web` on 127.0.0.1:`port` and
/// the file provider reading `dynamic` (YAML), both files written to a new directory named
/// after `name`, the process and the binary; its log goes to `log` and `stderr` there.
pub fn start_with_dynamic(name: &str, bin: &std::path::Path, port: u16, dynamic: &str) -> Kill {
    let dir = std::env::temp_dir().join(format!(
        "tc-{name}-{}-{}",
        std::process::id(),
        bin.file_name().unwrap().to_string_lossy()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("dynamic.yml"), dynamic).unwrap();
    std::fs::write(
        dir.join("static.yml"),
        format!(
            "global: {{checkNewVersion: false, sendAnonymousUsage: false}}\nlog: {{level: WARN}}\nentryPoints:\n  web:\n    address: \"127.0.0.1:{port}\"\nproviders:\n  file:\n    filename: \"{}\"\n",
            dir.join("dynamic.yml").display()
        ),
    )
    .unwrap();
    let file = |n: &str| {
        std::fs::File::create(dir.join(n))
            .map(Stdio::from)
            .unwrap_or_else(|_| Stdio::null())
    };
    let child = Command::new(bin)
        .arg(format!("--configFile={}", dir.join("static.yml").display()))
        .stdout(file("log"))
        .stderr(file("stderr"))
        .spawn()
        .unwrap();
    wait_port(port);
    Kill(child)
}

/// Waits (up to 10 s) until a `GET path` with `Host: ready.example` on 127.0.0.1:`port` is
/// answered with something else than 404: the proxy serves its routers.
pub fn wait_served(port: u16, path: &str) {
    use std::io::{Read, Write};
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(10) {
        if let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) {
            let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
            let _ = write!(
                s,
                "GET {path} HTTP/1.1\r\nHost: ready.example\r\nConnection: close\r\n\r\n"
            );
            let mut r = String::new();
            let _ = s.read_to_string(&mut r);
            if r.starts_with("HTTP/1.1 ") && !r.starts_with("HTTP/1.1 404") {
                return;
            }
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("127.0.0.1:{port} never served {path}");
}

/// `GET path` with `Host: host` on 127.0.0.1:`port` over its own connection: the whole answer
/// as text (read to the close, 5 s at most).
pub fn get(port: u16, path: &str, host: &str) -> String {
    use std::io::{Read, Write};
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut r = String::new();
    let _ = s.read_to_string(&mut r);
    r
}

/// `GET path` over h2c to `host` with `headers`: `:status` and the header lines (Go's
/// canonical spelling of the names, so HTTP/1.1 normalising applies), and the body.
pub fn h2_get(
    port: u16,
    host: &str,
    path: &str,
    headers: &[(&str, &str)],
) -> (Vec<String>, Vec<u8>) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let tcp = tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .unwrap();
        let (mut client, conn) = h2::client::Builder::new()
            .handshake::<_, &'static [u8]>(tcp)
            .await
            .unwrap();
        tokio::spawn(async move {
            let _ = conn.await;
        });
        let mut b = http::Request::builder()
            .method("GET")
            .uri(format!("http://{host}{path}"));
        for (n, v) in headers {
            b = b.header(*n, *v);
        }
        let (resp, _) = client.send_request(b.body(()).unwrap(), true).unwrap();
        let resp = tokio::time::timeout(std::time::Duration::from_secs(5), resp)
            .await
            .unwrap()
            .unwrap();
        let (parts, mut body) = resp.into_parts();
        let mut lines = vec![format!(":status {}", parts.status.as_u16())];
        for (n, v) in &parts.headers {
            let name: String = n
                .as_str()
                .split('-')
                .map(|w| {
                    let mut c = w.chars();
                    c.next()
                        .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                        .unwrap_or_default()
                })
                .collect::<Vec<_>>()
                .join("-");
            lines.push(format!("{name}: {}", String::from_utf8_lossy(v.as_bytes())));
        }
        let mut data = Vec::new();
        while let Some(chunk) = body.data().await {
            let c = chunk.unwrap();
            let _ = body.flow_control().release_capacity(c.len());
            data.extend_from_slice(&c);
        }
        (lines, data)
    })
}

/// `answer`'s lines with the `Date` value blanked, joined with `\n` (`\r\n` or `\n` apart).
pub fn blank_date(answer: &str) -> String {
    answer
        .lines()
        .map(|l| l.strip_suffix('\r').unwrap_or(l))
        .map(|l| {
            if l.starts_with("Date:") {
                "Date: <now>"
            } else {
                l
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// `raw` sent over its own connection to 127.0.0.1:`port`; the whole answer (read to the
/// close, 5 s at most) with the `Date` value blanked.
pub fn raw_exchange(port: u16, raw: &str) -> String {
    use std::io::{Read, Write};
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s.write_all(raw.as_bytes()).unwrap();
    let mut r = String::new();
    let _ = s.read_to_string(&mut r);
    blank_date(&r)
}

/// Fails listing every output of TrafficCop (`ours`) that differs from Traefik's (`theirs`).
pub fn assert_same(ours: &[String], theirs: &[String]) {
    let diffs: Vec<String> = ours
        .iter()
        .zip(theirs)
        .enumerate()
        .filter(|(_, (a, b))| a != b)
        .map(|(i, (a, b))| format!("{i}:\nTrafficCop:\n{a}\nTraefik:\n{b}\n"))
        .collect();
    assert!(
        diffs.is_empty(),
        "{} differences:\n{}",
        diffs.len(),
        diffs.join("\n")
    );
    assert_eq!(ours.len(), theirs.len(), "as many outputs");
}

/// What a [`recording_backend`] received: one entry per request (its request line, its
/// header lines sorted, its body).
pub type Seen = std::sync::Arc<std::sync::Mutex<Vec<String>>>;

/// A keep-alive backend on 127.0.0.1 answering each request with `answer(request line,
/// sorted header lines)`, and recording each request it reads whole.
pub fn recording_backend(answer: fn(&str, &str) -> String) -> (u16, Seen) {
    use std::io::{Read, Write};
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let seen = Seen::default();
    let log = seen.clone();
    std::thread::spawn(move || {
        for s in l.incoming().flatten() {
            let log = log.clone();
            std::thread::spawn(move || {
                let mut r = std::io::BufReader::new(s);
                while let Some(head) = read_head(&mut r) {
                    let mut lines: Vec<&str> = head.lines().filter(|l| !l.is_empty()).collect();
                    let first = lines.remove(0).to_string();
                    lines.sort_unstable();
                    let length: usize = lines
                        .iter()
                        .find_map(|l| l.strip_prefix("Content-Length: "))
                        .and_then(|v| v.parse().ok())
                        .unwrap_or(0);
                    let mut body = vec![0; length];
                    if r.read_exact(&mut body).is_err() {
                        return;
                    }
                    let headers = lines.join("\n");
                    log.lock().unwrap().push(format!(
                        "{first}\n{headers}\n{}",
                        String::from_utf8_lossy(&body)
                    ));
                    if r.get_mut()
                        .write_all(answer(&first, &headers).as_bytes())
                        .is_err()
                    {
                        return;
                    }
                }
            });
        }
    });
    (port, seen)
}

/// Reads from `s` until a request head has come whole (`\r\n\r\n`); `None` when the peer
/// closes first.
pub fn read_request_head(s: &mut TcpStream) -> Option<Vec<u8>> {
    use std::io::Read;
    let mut head = Vec::new();
    let mut buf = [0u8; 4096];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        match s.read(&mut buf) {
            Ok(0) | Err(_) => return None,
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
    }
    Some(head)
}
