//! Access logs end to end, TrafficCop and real Traefik 3.7.15 on the same configurations and
//! requests, their lines compared with what changes from run to run blanked (times,
//! durations, client ports, `Date` values):
//! - `common`: proxied answers (length and chunked), the user of `basicAuth` (right and
//!   wrong), no router (404), the internal ping (not logged), a dead server (502), an
//!   untrusted `X-Forwarded-For` (dropped), HTTP/1.0, a router with `observability.accessLogs:
//!   false` (not logged), `User-Agent` kept and `Referer` redacted;
//! - `json` with every header kept (`Authorization` redacted), `ClientHost` dropped, a trusted
//!   `X-Forwarded-For`, and a `statusCodes` filter keeping 4xx only.

mod common;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{assert_same, free_port, get, raw_exchange, recording_backend, wait_port, Kill};

fn answer(first: &str, _: &str) -> String {
    if first.starts_with("GET /slow") {
        std::thread::sleep(Duration::from_secs(1));
    }
    if first.starts_with("GET /chunked") {
        return "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n7\r\n world!\r\n0\r\n\r\n".into();
    }
    "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nok\n".into()
}

const DYNAMIC: &str = r#"
http:
  routers:
    app:
      rule: "Host(`app.example`)"
      service: app
    auth:
      rule: "Host(`auth.example`)"
      service: app
      middlewares: [auth]
    quiet:
      rule: "Host(`quiet.example`)"
      service: app
      observability:
        accessLogs: false
    dead:
      rule: "Host(`dead.example`)"
      service: dead
    limited:
      rule: "Host(`limited.example`)"
      service: app
      middlewares: [limit]
    checked:
      rule: "Host(`checked.example`)"
      service: app
      middlewares: [check]
  middlewares:
    auth:
      basicAuth:
        users: ["test:$apr1$H6uskkkW$IgXLP6ewTrSuBkTrqE8wj/"]
    limit:
      rateLimit: {average: 1, burst: 1}
    check:
      forwardAuth: {address: "http://127.0.0.1:BACKEND/slow-auth"}
  services:
    app:
      loadBalancer:
        servers: [{url: "http://127.0.0.1:BACKEND"}]
    dead:
      loadBalancer:
        servers: [{url: "http://127.0.0.1:DEAD"}]
"#;

/// Starts `bin` with `access_log` (the static `accessLog` section, YAML) and the routers
/// above; returns the process and where its access log is.
fn start(
    name: &str,
    bin: &std::path::Path,
    port: u16,
    (backend, dead): (u16, u16),
    forwarded: &str,
    access_log: &str,
) -> (Kill, std::path::PathBuf, usize) {
    let dir = std::env::temp_dir().join(format!(
        "tc-access-{name}-{}-{}",
        std::process::id(),
        bin.file_name().unwrap().to_string_lossy()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let dynamic = DYNAMIC
        .replace("BACKEND", &backend.to_string())
        .replace("DEAD", &dead.to_string());
    std::fs::write(dir.join("dynamic.yml"), dynamic).unwrap();
    let log = dir.join("logs").join("access.log");
    std::fs::write(
        dir.join("static.yml"),
        format!(
            "global: {{checkNewVersion: false, sendAnonymousUsage: false}}\nlog: {{level: ERROR}}\nentryPoints:\n  web:\n    address: \"127.0.0.1:{port}\"\n{forwarded}providers:\n  file:\n    filename: \"{}\"\nping: {{entryPoint: web}}\naccessLog:\n  filePath: \"{}\"\n{access_log}",
            dir.join("dynamic.yml").display(),
            log.display()
        ),
    )
    .unwrap();
    let child = Command::new(bin)
        .arg(format!("--configFile={}", dir.join("static.yml").display()))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_port(port);
    // Ready when the router without access logs answers; what was logged before (404s of
    // probes that came too early) is left out.
    let start = Instant::now();
    while !get(port, "/", "quiet.example").starts_with("HTTP/1.1 200") {
        assert!(start.elapsed() < Duration::from_secs(10), "not served");
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_millis(300));
    let before = std::fs::read_to_string(&log)
        .unwrap_or_default()
        .lines()
        .count();
    (Kill(child), log, before)
}

/// The log's lines after the first `skip`, once `n` are there (5 s at most).
fn lines(log: &std::path::Path, skip: usize, n: usize) -> Vec<String> {
    let start = Instant::now();
    loop {
        let text = std::fs::read_to_string(log).unwrap_or_default();
        let lines: Vec<String> = text.lines().skip(skip).map(str::to_string).collect();
        if lines.len() >= n || start.elapsed() > Duration::from_secs(5) {
            return lines;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// `RequestCount` counted from the first line's (early probes count too).
fn relative_counts(lines: &[(u64, String)]) -> Vec<String> {
    let base = lines.first().map_or(0, |(c, _)| *c);
    lines
        .iter()
        .map(|(c, l)| l.replace("<count>", &(c - base).to_string()))
        .collect()
}

fn request(port: u16, head: &str) {
    raw_exchange(port, &format!("{head}\r\nConnection: close\r\n\r\n"));
}

/// A `common` line with its time and duration blanked.
fn blank_clf(line: &str) -> String {
    let time = line
        .find('[')
        .zip(line.find(']'))
        .map_or(line.to_string(), |(a, b)| {
            format!("{}[<time>]{}", &line[..a], &line[b + 1..])
        });
    match time.rsplit_once(' ') {
        Some((rest, ms)) if ms.ends_with("ms") => format!("{rest} <ms>"),
        _ => time,
    }
}

/// The `common` lines after the first `skip` (once `n` are there), blanked, their counts
/// from the first line's.
fn clf_lines(log: &std::path::Path, skip: usize, n: usize) -> Vec<String> {
    let counted: Vec<(u64, String)> = lines(log, skip, n)
        .iter()
        .map(|l| clf_count(&blank_clf(l)))
        .collect();
    relative_counts(&counted)
}

/// A `common` line's `RequestCount` (the field before the router and service) and the line
/// with it replaced by `<count>`.
fn clf_count(line: &str) -> (u64, String) {
    let parts: Vec<&str> = line.rsplitn(4, ' ').collect();
    let Some((head, count)) = parts.get(3).and_then(|rest| rest.rsplit_once(' ')) else {
        return (0, line.to_string());
    };
    let n = count.parse().unwrap_or(0);
    (
        n,
        format!("{head} <count> {} {} {}", parts[2], parts[1], parts[0]),
    )
}

fn common_lines(bin: &std::path::Path, servers: (u16, u16)) -> Vec<String> {
    let port = free_port();
    let (_p, log, skip) = start(
        "common",
        bin,
        port,
        servers,
        "",
        "  fields:\n    headers:\n      names: {User-Agent: keep, Referer: redact}\n",
    );
    let get_ = |rest: &str| request(port, rest);
    get_("GET /x?q=1 HTTP/1.1\r\nHost: app.example\r\nUser-Agent: UA \"x\"\r\nReferer: http://r/");
    get_("GET /chunked HTTP/1.1\r\nHost: app.example");
    get_("GET /in HTTP/1.1\r\nHost: auth.example\r\nAuthorization: Basic dGVzdDp0ZXN0");
    get_("GET /in HTTP/1.1\r\nHost: auth.example\r\nAuthorization: Basic dGVzdDpub3Bl");
    get_("GET /in HTTP/1.1\r\nHost: auth.example");
    get_("GET /nothing HTTP/1.1\r\nHost: nowhere.example");
    get_("GET /ping HTTP/1.1\r\nHost: app.example");
    get_("GET /quiet HTTP/1.1\r\nHost: quiet.example");
    get_("GET / HTTP/1.1\r\nHost: dead.example");
    get_("GET /xff HTTP/1.1\r\nHost: app.example\r\nX-Forwarded-For: 1.2.3.4");
    get_("GET /old HTTP/1.0\r\nHost: app.example");
    clf_lines(&log, skip, 9)
}

/// The members of a flat JSON object line (`"key":value`), split outside strings.
fn members(line: &str) -> Option<Vec<(String, String)>> {
    let inner = line.trim().strip_prefix('{')?.strip_suffix('}')?;
    let (mut out, mut part) = (Vec::new(), String::new());
    let (mut quoted, mut escaped) = (false, false);
    for c in inner.chars().chain(std::iter::once(',')) {
        if quoted {
            quoted = escaped || c != '"';
            escaped = !escaped && c == '\\';
        } else if c == '"' {
            quoted = true;
        } else if c == ',' {
            let (k, v) = part.split_once("\":")?;
            out.push((k.trim_start_matches('"').to_string(), v.to_string()));
            part.clear();
            continue;
        }
        part.push(c);
    }
    Some(out)
}

/// A `json` line with the values that change blanked, one member per line.
fn blank_json(line: &str) -> String {
    let Some(members) = members(line) else {
        return format!("not JSON: {line}");
    };
    members
        .iter()
        .map(|(k, v)| {
            let changes = matches!(
                k.as_str(),
                "ClientAddr"
                    | "ClientPort"
                    | "Duration"
                    | "OriginDuration"
                    | "Overhead"
                    | "StartLocal"
                    | "StartUTC"
                    | "time"
                    | "request_X-Forwarded-Server"
            ) || k.ends_with("_Date");
            if changes {
                format!("{k}=<blank>")
            } else {
                format!("{k}={v}")
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn json_lines(bin: &std::path::Path, servers: (u16, u16)) -> Vec<String> {
    let port = free_port();
    let (_p, log, skip) = start(
        "json",
        bin,
        port,
        servers,
        "    forwardedHeaders: {insecure: true}\n",
        "  format: json\n  filters: {statusCodes: [\"400-499\"]}\n  fields:\n    names: {ClientHost: drop}\n    headers:\n      defaultMode: keep\n      names: {Authorization: redact}\n",
    );
    let get_ = |rest: &str| request(port, rest);
    get_(
        "GET /kept?a=1&b=%20 HTTP/1.1\r\nHost: app.example:99\r\nX-Forwarded-For: 1.2.3.4, 5.6.7.8",
    );
    get_("GET /in HTTP/1.1\r\nHost: auth.example\r\nAuthorization: Basic dGVzdDpub3Bl");
    get_("GET /in HTTP/1.1\r\nHost: auth.example");
    get_("GET /nothing HTTP/1.1\r\nHost: nowhere.example\r\nUser-Agent: probe");
    let counted: Vec<(u64, String)> = lines(&log, skip, 3)
        .iter()
        .map(|l| {
            let blank = blank_json(l);
            let count = blank
                .lines()
                .find_map(|m| m.strip_prefix("RequestCount="))
                .and_then(|c| c.parse().ok())
                .unwrap_or(0);
            (
                count,
                blank.replace(&format!("RequestCount={count}"), "RequestCount=<count>"),
            )
        })
        .collect();
    relative_counts(&counted)
}

#[test]
fn access_log_lines_as_traefik() {
    // One backend and one dead address for both proxies: their URLs are in the lines.
    let servers = (recording_backend(answer).0, free_port());
    let ours = common_lines(env!("CARGO_BIN_EXE_trafficcop").as_ref(), servers);
    assert_eq!(ours.len(), 9, "{ours:#?}");
    assert!(
        ours[0]
            .contains("\"GET /x?q=1 HTTP/1.1\" 200 3 \"REDACTED\" \"UA \\\"x\\\"\" 0 \"app@file\""),
        "{ours:#?}"
    );
    assert!(ours[2].starts_with("127.0.0.1 - test "), "{ours:#?}");
    assert!(
        ours.iter()
            .all(|l| !l.contains("/ping") && !l.contains("/quiet")),
        "{ours:#?}"
    );
    let json = json_lines(env!("CARGO_BIN_EXE_trafficcop").as_ref(), servers);
    assert_eq!(json.len(), 3, "{json:#?}");
    assert!(json[0].contains("DownstreamStatus=401"), "{json:#?}");
    let Some(traefik) = common::traefik_bin() else {
        eprintln!("skipped the comparison: no Traefik binary (scripts/fetch-traefik.sh)");
        return;
    };
    assert_same(&ours, &common_lines(&traefik, servers));
    assert_same(&json, &json_lines(&traefik, servers));
}

/// After a log rotation moves the file away, `SIGUSR1` makes the proxy open `filePath` again:
/// the next line is in a new file.
fn rotated_lines(bin: &std::path::Path, servers: (u16, u16)) -> (usize, Vec<String>) {
    let port = free_port();
    let (p, log, skip) = start("rotate", bin, port, servers, "", "");
    request(port, "GET /before HTTP/1.1\r\nHost: app.example");
    let before = lines(&log, skip, 1).len();
    let moved = log.with_extension("log.1");
    std::fs::rename(&log, &moved).unwrap();
    let pid = p.0.id().to_string();
    assert!(Command::new("kill")
        .args(["-USR1", &pid])
        .status()
        .unwrap()
        .success());
    // The signal is handled asynchronously: requests until one lands in the new file.
    let start = Instant::now();
    while !log.exists() || std::fs::read_to_string(&log).unwrap_or_default().is_empty() {
        assert!(start.elapsed() < Duration::from_secs(5), "never reopened");
        request(port, "GET /after HTTP/1.1\r\nHost: app.example");
        std::thread::sleep(Duration::from_millis(100));
    }
    let after = lines(&log, 0, 1)
        .iter()
        .map(|l| clf_count(&blank_clf(l)).1)
        .take(1)
        .collect();
    (before, after)
}

#[test]
fn sigusr1_reopens_the_file() {
    let servers = (recording_backend(answer).0, free_port());
    let (before, after) = rotated_lines(env!("CARGO_BIN_EXE_trafficcop").as_ref(), servers);
    assert_eq!(before, 1);
    assert!(
        after[0].contains("\"GET /after HTTP/1.1\" 200 3"),
        "{after:?}"
    );
    if let Some(traefik) = common::traefik_bin() {
        assert_eq!((before, after), rotated_lines(&traefik, servers));
    }
}

/// A graceful stop writes the lines of the last requests before the process exits.
#[test]
fn the_last_lines_are_written_before_exit() {
    let servers = (recording_backend(answer).0, free_port());
    let port = free_port();
    let bin: &std::path::Path = env!("CARGO_BIN_EXE_trafficcop").as_ref();
    let (mut p, log, skip) = start("exit", bin, port, servers, "", "");
    request(port, "GET /last HTTP/1.1\r\nHost: app.example");
    let pid = p.0.id().to_string();
    assert!(Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap()
        .success());
    let _ = p.0.wait();
    let text = std::fs::read_to_string(&log).unwrap_or_default();
    let last: Vec<&str> = text.lines().skip(skip).collect();
    assert_eq!(last.len(), 1, "{text}");
    assert!(last[0].contains("\"GET /last HTTP/1.1\" 200 3"), "{text}");
}

/// Sends `head` and leaves after `after`, before the answer.
fn leave(port: u16, head: &str, after: Duration) {
    use std::io::Write;
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    let _ = s.write_all(format!("{head}\r\n\r\n").as_bytes());
    std::thread::sleep(after);
}

/// Clients that leave before their answer: while proxied (a slow server), while waiting for
/// `forwardAuth` (a slow auth server), while delayed by `rateLimit`.
fn left_lines(bin: &std::path::Path, servers: (u16, u16)) -> Vec<String> {
    let port = free_port();
    let (_p, log, skip) = start("left", bin, port, servers, "", "");
    let gone = Duration::from_millis(200);
    leave(port, "GET /slow HTTP/1.1\r\nHost: app.example", gone);
    leave(port, "GET /in HTTP/1.1\r\nHost: checked.example", gone);
    request(port, "GET /first HTTP/1.1\r\nHost: limited.example");
    std::thread::sleep(Duration::from_millis(600));
    // The bucket's next token is 0.4 s away: delayed, and the client leaves meanwhile.
    leave(
        port,
        "GET /second HTTP/1.1\r\nHost: limited.example",
        Duration::from_millis(100),
    );
    clf_lines(&log, skip, 4)
}

#[test]
fn clients_that_leave_are_logged_as_traefik() {
    let servers = (recording_backend(answer).0, free_port());
    let ours = left_lines(env!("CARGO_BIN_EXE_trafficcop").as_ref(), servers);
    assert_eq!(ours.len(), 4, "{ours:#?}");
    assert!(
        ours[0].contains("\"GET /slow HTTP/1.1\" 499 21"),
        "{ours:#?}"
    );
    let Some(traefik) = common::traefik_bin() else {
        eprintln!("skipped the comparison: no Traefik binary (scripts/fetch-traefik.sh)");
        return;
    };
    assert_same(&ours, &left_lines(&traefik, servers));
}
