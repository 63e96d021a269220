//! The `forwardAuth` middleware end to end: the auth server's 401 (headers, body), a
//! redirect with a relative `Location`, `authSigninURL`, a 2xx letting the request go on with
//! `authResponseHeaders` (client copies removed) and `authResponseHeadersRegex` lines,
//! `addAuthCookiesToResponse`, the three `trustForwardHeader` modes, `authRequestHeaders`,
//! `preserveRequestMethod`, a request with a body, and an auth server that is down. The same
//! requests go to TrafficCop and, when its binary is here (`scripts/fetch-traefik.sh`), real
//! Traefik 3.7.15: the answers (the `Date` value aside) and what the auth server and the
//! backend received must be the same.

mod common;

use std::path::Path;

use common::{free_port, recording_backend, traefik_bin, Seen};

/// The auth server: its path says what to answer.
fn auth(first: &str, _: &str) -> String {
    let path = first.split(' ').nth(1).unwrap_or("/");
    let (status, extra, body) = match path.trim_start_matches('/').split('?').next().unwrap_or("") {
        "deny" => ("401 Unauthorized", "WWW-Authenticate: Basic realm=\"x\"\r\nX-Deny: 1\r\nConnection: keep-alive\r\n", "denied"),
        "login" => ("302 Found", "Location: ../login/page?from=auth\r\n", ""),
        "signin" => ("401 Unauthorized", "", "nope"),
        _ => ("200 OK", "X-Auth-User: bob\r\nX-Auth-Group: admins\r\nX-Auth-Other: skip\r\nX-Id-Token: t1\r\nSet-Cookie: session=auth; Path=/\r\nSet-Cookie: other=auth\r\n", "ok"),
    };
    format!(
        "HTTP/1.1 {status}\r\n{extra}Content-Type: text/plain\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
}

fn backend(_: &str, _: &str) -> String {
    "HTTP/1.1 200 OK\r\nSet-Cookie: session=backend\r\nSet-Cookie: mine=backend\r\nContent-Length: 7\r\n\r\nbackend".to_string()
}

fn scenario(bin: &Path) -> Vec<String> {
    let (a, auth_seen) = recording_backend(auth);
    let (b, backend_seen) = recording_backend(backend);
    let down = free_port();
    let port = free_port();
    let mw = |name: &str, path: &str, extra: &str| {
        format!("    {name}: {{forwardAuth: {{address: \"http://127.0.0.1:{a}{path}\"{extra}}}}}\n")
    };
    let routers: String = [
        "ok",
        "deny",
        "login",
        "signin",
        "trusted",
        "untrusted",
        "filtered",
        "method",
        "down",
    ]
    .iter()
    .map(|r| format!("    {r}: {{rule: \"PathPrefix(`/{r}`)\", service: s, middlewares: [{r}]}}\n"))
    .collect();
    let dynamic = format!(
        "http:\n  routers:\n{routers}  middlewares:\n{}{}{}{}{}{}{}{}    down: {{forwardAuth: {{address: \"http://127.0.0.1:{down}/\"}}}}\n  services:\n    s: {{loadBalancer: {{servers: [{{url: \"http://127.0.0.1:{b}\"}}]}}}}\n",
        mw("ok", "/ok", ", authResponseHeaders: [X-Auth-User, X-Missing], authResponseHeadersRegex: \"^X-Auth-G\", addAuthCookiesToResponse: [session]"),
        mw("deny", "/deny", ""),
        mw("login", "/login/check", ""),
        mw("signin", "/signin", ", authSigninURL: \"https://sso.example/start?x=1&y=2\""),
        mw("trusted", "/ok", ", trustForwardHeader: true"),
        mw("untrusted", "/ok", ", trustForwardHeader: false"),
        mw("filtered", "/ok", ", authRequestHeaders: [Accept, X-Keep]"),
        mw("method", "/ok?q=1", ", preserveRequestMethod: true"),
    );
    let _proxy = common::start_with_dynamic("forward-auth", bin, port, &dynamic);
    common::wait_served(port, "/ok/ready");
    auth_seen.lock().unwrap().clear();
    backend_seen.lock().unwrap().clear();
    let mut out = Vec::new();
    let mask = |seen: &Seen| {
        let lines: Vec<String> = seen.lock().unwrap().drain(..).collect();
        format!("{lines:?}").replace(&format!("127.0.0.1:{a}"), "<auth>")
    };
    let headers = "Accept: text/html\r\nX-Keep: 1\r\nX-Drop: 2\r\nX-Auth-User: mallory\r\nX-Auth-Gx: forged\r\nX-Forwarded-Prefix: /p\r\nX-Forwarded-For: 10.9.9.9\r\nConnection: close, X-Drop\r\n";
    for path in [
        "/ok/a?b=c",
        "/deny",
        "/login",
        "/signin",
        "/trusted",
        "/untrusted",
        "/filtered",
        "/down",
    ] {
        out.push(common::raw_exchange(
            port,
            &format!("GET {path} HTTP/1.1\r\nHost: app.example:8080\r\n{headers}\r\n"),
        ));
        out.push(format!("auth saw: {}", mask(&auth_seen)));
        out.push(format!("backend saw: {}", mask(&backend_seen)));
    }
    // Over h2c: the request waits on its stream as on a connection.
    for path in ["/ok/h2", "/deny/h2"] {
        let (lines, body) = common::h2_get(port, "app.example", path, &[("x-keep", "1")]);
        let lines: Vec<String> = lines
            .into_iter()
            .map(|l| {
                if l.starts_with("Date:") {
                    "Date: <now>".into()
                } else {
                    l
                }
            })
            .collect();
        out.push(format!(
            "h2 {path}\n{}\n\n{}",
            lines.join("\n"),
            String::from_utf8_lossy(&body)
        ));
        out.push(format!("auth saw: {}", mask(&auth_seen)));
        out.push(format!("backend saw: {}", mask(&backend_seen)));
    }
    out.push(common::raw_exchange(
        port,
        "POST /method HTTP/1.1\r\nHost: app.example\r\nContent-Length: 4\r\nConnection: close\r\n\r\nbody",
    ));
    out.push(format!("auth saw: {}", mask(&auth_seen)));
    out.push(format!("backend saw: {}", mask(&backend_seen)));
    out
}

#[test]
fn forward_auth_as_traefik() {
    let ours = scenario(Path::new(env!("CARGO_BIN_EXE_trafficcop")));
    if std::env::var_os("SHOW").is_some() {
        eprintln!("{}", ours.join("\n=====\n"));
    }
    assert!(ours[0].contains("backend"), "{}", ours[0]);
    assert!(
        ours[3].starts_with("HTTP/1.1 401 Unauthorized\n"),
        "{}",
        ours[3]
    );
    let Some(traefik) = traefik_bin() else {
        eprintln!("SKIPPED the comparison with Traefik: no Traefik binary (run scripts/fetch-traefik.sh or set TRAFFICCOP_TRAEFIK_BIN)");
        return;
    };
    common::assert_same(&ours, &scenario(&traefik));
}
