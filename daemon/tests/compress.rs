//! The `compress` middleware end to end: the same requests (codings accepted in different
//! ways, HEAD) for the same backend answers (lengths around the minimum, chunked, already
//! encoded, types excluded or not, ranges, `Vary`, empty) go to TrafficCop and, when its
//! binary is here (`scripts/fetch-traefik.sh`), real Traefik 3.7.15. Compressors differ, so
//! compressed bodies are compared decoded, and their lengths are masked; everything else (the
//! status, every header, chunked or not, what the backend was asked) must be the same.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::time::Duration;

use common::{free_port, traefik_bin};

/// A body that compresses well: `n` bytes of numbered lines.
fn text(n: usize) -> Vec<u8> {
    (0..)
        .flat_map(|i| format!("line {i} of a compressible body\n").into_bytes())
        .take(n)
        .collect()
}

/// The body the backend sends for `path`.
fn body_of(path: &str) -> Vec<u8> {
    match path {
        "/big" => text(5000),
        "/huge" => text(300_000),
        "/small" => text(1023),
        "/limit" => text(1024),
        "/ranges" => text(4000),
        "/encoded" | "/image" | "/grpc" | "/events" | "/chunked" => text(3000),
        "/chunked-small" => text(40),
        "/nocontent" => Vec::new(),
        _ => b"?".to_vec(),
    }
}

/// The backend's answer for `path` (without its body for HEAD).
fn answer(path: &str, head_only: bool) -> Vec<u8> {
    let body = body_of(path);
    let extra = match path {
        "/big" | "/small" | "/encoded" => "Content-Type: text/html\r\n",
        "/huge" | "/chunked" | "/chunked-small" => "Content-Type: text/plain\r\n",
        "/image" => "Content-Type: image/png\r\n",
        "/grpc" => "Content-Type: application/grpc\r\n",
        "/events" => "Content-Type: text/event-stream\r\n",
        "/ranges" => {
            "Accept-Ranges: bytes\r\nETag: \"abc\"\r\nVary: Origin\r\nContent-Type: text/css\r\n"
        }
        _ => "",
    };
    let extra = if path == "/encoded" {
        format!("Content-Encoding: br\r\n{extra}")
    } else {
        extra.to_string()
    };
    if path == "/nocontent" {
        return b"HTTP/1.1 204 No Content\r\n\r\n".to_vec();
    }
    if path.starts_with("/chunked") {
        let mut out =
            format!("HTTP/1.1 200 OK\r\n{extra}Transfer-Encoding: chunked\r\n\r\n").into_bytes();
        if head_only {
            return out;
        }
        for part in body.chunks(1000) {
            out.extend_from_slice(format!("{:x}\r\n", part.len()).as_bytes());
            out.extend_from_slice(part);
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(b"0\r\n\r\n");
        return out;
    }
    let mut out = format!(
        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\n{extra}\r\n",
        body.len()
    )
    .into_bytes();
    if !head_only {
        out.extend_from_slice(&body);
    }
    out
}

/// A backend answering `answer(path)` and keeping the `Accept-Encoding` lines it got.
fn backend() -> (u16, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let log = seen.clone();
    std::thread::spawn(move || {
        for s in l.incoming().flatten() {
            let log = log.clone();
            std::thread::spawn(move || {
                let mut r = BufReader::new(s);
                loop {
                    let Some(head) = common::read_head(&mut r) else {
                        return;
                    };
                    let path = head.split(' ').nth(1).unwrap_or("/").to_string();
                    let ae: Vec<&str> = head
                        .lines()
                        .filter(|l| l.to_ascii_lowercase().starts_with("accept-encoding:"))
                        .collect();
                    log.lock().unwrap().push(format!("{path} {ae:?}"));
                    if r.get_mut()
                        .write_all(&answer(&path, head.starts_with("HEAD ")))
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

/// Reads one response to a `method` request: the head's lines and the body (chunks joined).
fn read_response(r: &mut BufReader<TcpStream>, method: &str) -> (Vec<String>, Vec<u8>) {
    let head = common::read_head(r).expect("a response");
    let lines: Vec<String> = head.lines().map(str::to_string).collect();
    let header = |name: &str| {
        lines.iter().find_map(|l| {
            let (n, v) = l.split_once(':')?;
            n.eq_ignore_ascii_case(name).then(|| v.trim().to_string())
        })
    };
    let mut body = Vec::new();
    let status: u16 = lines[0].split(' ').nth(1).unwrap().parse().unwrap();
    if method == "HEAD" || status == 204 || status == 304 {
        return (lines, body);
    }
    if header("Transfer-Encoding").is_some() {
        loop {
            let mut size = String::new();
            r.read_line(&mut size).unwrap();
            let n = usize::from_str_radix(size.trim(), 16).unwrap();
            let mut chunk = vec![0; n + 2];
            r.read_exact(&mut chunk).unwrap();
            if n == 0 {
                break;
            }
            body.extend_from_slice(&chunk[..n]);
        }
    } else if let Some(n) = header("Content-Length") {
        body = vec![0; n.parse().unwrap()];
        r.read_exact(&mut body).unwrap();
    }
    (lines, body)
}

/// Decodes `body` per `Content-Encoding` (only what the proxy produced: the backend's own
/// `br` answer stays as it is) and masks the compressed length.
fn normalise(lines: Vec<String>, body: Vec<u8>, path: &str) -> String {
    let encoding = lines
        .iter()
        .find_map(|l| l.strip_prefix("Content-Encoding: "))
        .map(str::to_string);
    let decoded = match encoding.as_deref() {
        _ if path == "/encoded" => body,
        Some("gzip") => {
            let mut out = Vec::new();
            flate2::read::GzDecoder::new(&body[..])
                .read_to_end(&mut out)
                .expect("gzip");
            out
        }
        Some("br") => {
            let mut out = Vec::new();
            brotli::Decompressor::new(&body[..], 4096)
                .read_to_end(&mut out)
                .expect("br");
            out
        }
        Some("zstd") => zstd::stream::decode_all(&body[..]).expect("zstd"),
        _ => body,
    };
    let compressed = encoding.is_some() && path != "/encoded";
    let lines: Vec<String> = lines
        .into_iter()
        .map(|l| {
            if l.starts_with("Date:") {
                "Date: <now>".into()
            } else if compressed && l.starts_with("Content-Length:") {
                "Content-Length: <compressed>".into()
            } else {
                l
            }
        })
        .collect();
    let same = decoded == body_of(path);
    format!(
        "{}\n\n{} bytes, the backend's body: {same}",
        lines.join("\n"),
        decoded.len()
    )
}

const PATHS: &[&str] = &[
    "/big",
    "/huge",
    "/small",
    "/limit",
    "/encoded",
    "/image",
    "/grpc",
    "/events",
    "/ranges",
    "/nocontent",
    "/chunked",
    "/chunked-small",
];

fn scenario(bin: &Path) -> Vec<String> {
    let (b, seen) = backend();
    let port = free_port();
    let _proxy = common::start_with_dynamic(
        "compress",
        bin,
        port,
        &format!(
            "http:\n  routers:\n    r: {{rule: \"PathPrefix(`/`)\", service: s, middlewares: [c]}}\n    d: {{rule: \"PathPrefix(`/`) && Host(`default.example`)\", service: s, middlewares: [d]}}\n  middlewares:\n    c: {{compress: {{excludedContentTypes: [text/event-stream]}}}}\n    d: {{compress: {{defaultEncoding: br, encodings: [zstd, br, gzip], minResponseBodyBytes: 2000}}}}\n  services:\n    s: {{loadBalancer: {{servers: [{{url: \"http://127.0.0.1:{b}\"}}]}}}}\n",
        ),
    );
    common::wait_served(port, "/ready");
    let s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut r = BufReader::new(s);
    let mut out = Vec::new();
    let accepts: &[Option<&str>] = &[
        Some("gzip"),
        Some("br"),
        Some("zstd"),
        Some("gzip, deflate, br, zstd"),
        Some("br;q=1.0, gzip;q=0.5"),
        Some("identity"),
        Some("*"),
        Some("deflate"),
        None,
    ];
    for host in ["app.example", "default.example"] {
        for accept in accepts {
            for path in PATHS {
                for method in ["GET", "HEAD"] {
                    if method == "HEAD" && *path != "/big" {
                        continue;
                    }
                    let ae = accept
                        .map(|a| format!("Accept-Encoding: {a}\r\n"))
                        .unwrap_or_default();
                    write!(
                        r.get_mut(),
                        "{method} {path} HTTP/1.1\r\nHost: {host}\r\n{ae}\r\n"
                    )
                    .unwrap();
                    let (lines, body) = read_response(&mut r, method);
                    out.push(format!(
                        "{method} {path} {host} {accept:?}\n{}",
                        normalise(lines, body, path)
                    ));
                }
            }
        }
    }
    // The same over h2c, for the codings browsers ask for.
    for accept in [Some("gzip, deflate, br, zstd"), Some("br"), None] {
        for path in PATHS {
            let (lines, body) = common::h2_get(
                port,
                "app.example",
                path,
                accept.map(|a| ("accept-encoding", a)).as_slice(),
            );
            out.push(format!(
                "h2 {path} {accept:?}\n{}",
                normalise(lines, body, path)
            ));
        }
    }
    let mut seen = seen.lock().unwrap().clone();
    seen.retain(|l| !l.starts_with("/ready"));
    out.push(seen.join("\n"));
    out
}

#[test]
fn compresses_as_traefik() {
    let ours = scenario(Path::new(env!("CARGO_BIN_EXE_trafficcop")));
    let find = |prefix: &str| {
        ours.iter()
            .find(|o| o.starts_with(prefix))
            .unwrap_or_else(|| panic!("{prefix}"))
            .clone()
    };
    let gzip_big = find("GET /big app.example Some(\"gzip\")");
    assert!(gzip_big.contains("Content-Encoding: gzip"), "{gzip_big}");
    assert!(gzip_big.contains("Vary: Accept-Encoding"), "{gzip_big}");
    assert!(
        gzip_big.ends_with("5000 bytes, the backend's body: true"),
        "{gzip_big}"
    );
    let small = find("GET /small app.example Some(\"gzip\")");
    assert!(!small.contains("Content-Encoding"), "{small}");
    let Some(traefik) = traefik_bin() else {
        eprintln!("SKIPPED the comparison with Traefik: no Traefik binary (run scripts/fetch-traefik.sh or set TRAFFICCOP_TRAEFIK_BIN)");
        return;
    };
    common::assert_same(&ours, &scenario(&traefik));
}
