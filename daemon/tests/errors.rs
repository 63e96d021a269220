//! The `errors` middleware end to end: answers of caught statuses are replaced by the page
//! service's answer for the query (its placeholders filled), with the caught status or its
//! rewrite; uncaught ones go through; the page request carries the request's headers (or
//! `errorRequestHeaders` only); a page service that is down or has no server still answers
//! the caught status. The same requests go to TrafficCop and, when its binary is here
//! (`scripts/fetch-traefik.sh`), real Traefik 3.7.15: the answers must be the same bytes (the
//! `Date` value aside), the page backend's echo of its request included.

mod common;

use std::path::Path;

use common::{free_port, recording_backend, traefik_bin};

fn app(first: &str, _: &str) -> String {
    let path = first.split(' ').nth(1).unwrap_or("/");
    let status = match path
        .split('?')
        .next()
        .unwrap_or("")
        .rsplit('/')
        .next()
        .unwrap_or("")
    {
        "missing" => "404 Not Found",
        "boom" => "500 Internal Server Error",
        "teapot" => "418 I'm a teapot",
        "bad" => "502 Bad Gateway",
        _ => "200 OK",
    };
    let body = format!("app says {status}");
    format!(
        "HTTP/1.1 {status}\r\nContent-Type: text/plain\r\nX-App: 1\r\nSet-Cookie: app=1\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
}

/// The page service: the request's target and headers echoed (not its method, nor the
/// `Accept-Encoding` Go's transport adds to GET only: a page answers HEAD as GET).
fn pages(first: &str, headers: &str) -> String {
    let target = first.split_once(' ').map_or(first, |(_, rest)| rest);
    let headers: Vec<&str> = headers
        .lines()
        .filter(|l| !l.starts_with("Accept-Encoding:"))
        .collect();
    let body = format!("page for {target}\n{}", headers.join("\n"));
    format!(
        "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nX-Page: 1\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
}

fn scenario(bin: &Path) -> Vec<String> {
    let (a, p, closed) = (
        recording_backend(app).0,
        recording_backend(pages).0,
        free_port(),
    );
    let port = free_port();
    let _proxy = common::start_with_dynamic(
        "errors",
        bin,
        port,
        &format!(
            "http:\n  routers:\n    r: {{rule: \"PathPrefix(`/`)\", service: app, middlewares: [e]}}\n    h: {{rule: \"PathPrefix(`/hdr`)\", service: app, middlewares: [eh]}}\n    d: {{rule: \"PathPrefix(`/down`)\", service: app, middlewares: [ed]}}\n    n: {{rule: \"PathPrefix(`/nosrv`)\", service: app, middlewares: [en]}}\n  middlewares:\n    e: {{errors: {{status: [\"404\", \"500-599\"], service: pages, query: \"/{{status}}.html?orig={{originalStatus}}&url={{url}}\", statusRewrites: {{\"502-504\": 500}}}}}}\n    eh: {{errors: {{status: [\"400-599\"], service: pages, query: \"err\", errorRequestHeaders: [Accept, X-Custom]}}}}\n    ed: {{errors: {{status: [\"500-599\"], service: closed}}}}\n    en: {{errors: {{status: [\"500\"], service: empty}}}}\n  services:\n    app: {{loadBalancer: {{servers: [{{url: \"http://127.0.0.1:{a}\"}}]}}}}\n    pages: {{loadBalancer: {{servers: [{{url: \"http://127.0.0.1:{p}\"}}]}}}}\n    closed: {{loadBalancer: {{servers: [{{url: \"http://127.0.0.1:{closed}\"}}]}}}}\n    empty: {{loadBalancer: {{servers: []}}}}\n",
        ),
    );
    common::wait_served(port, "/ok");
    let get = |path: &str, extra: &str| {
        common::raw_exchange(
            port,
            &format!(
                "GET {path} HTTP/1.1\r\nHost: app.example\r\n{extra}Connection: close\r\n\r\n"
            ),
        )
    };
    let mut out = Vec::new();
    for path in [
        "/ok",
        "/missing",
        "/boom",
        "/teapot",
        "/bad",
        "/x/missing?q=a%20b",
    ] {
        out.push(get(path, "Accept: text/html\r\n"));
    }
    out.push(get(
        "/hdr/missing",
        "Accept: text/html\r\nX-Custom: yes\r\nX-Other: no\r\n",
    ));
    out.push(get("/hdr/ok", ""));
    out.push(get("/down/boom", ""));
    // A HEAD request's page: the headers of the page, no body.
    out.push(common::raw_exchange(
        port,
        "HEAD /missing HTTP/1.1\r\nHost: app.example\r\nConnection: close\r\n\r\n",
    ));
    out.push(get("/nosrv/boom", ""));
    // Over h2c: the answer caught and replaced on a stream as on a connection.
    for path in ["/missing", "/teapot", "/down/boom"] {
        let (lines, body) = common::h2_get(port, "app.example", path, &[("accept", "text/html")]);
        let head = common::blank_date(&lines.join("\n"));
        out.push(format!(
            "h2 {path}\n{head}\n\n{}",
            String::from_utf8_lossy(&body)
        ));
    }
    out.push(common::raw_exchange(
        port,
        "POST /boom HTTP/1.1\r\nHost: app.example\r\nContent-Length: 4\r\nConnection: close\r\n\r\nbody",
    ));
    out
}

#[test]
fn error_pages_as_traefik() {
    let ours = scenario(Path::new(env!("CARGO_BIN_EXE_trafficcop")));
    assert!(
        ours[1].starts_with("HTTP/1.1 404 Not Found\n"),
        "{}",
        ours[1]
    );
    assert!(
        ours[1].contains(
            "page for /404.html?orig=404&url=http%3A%2F%2Fapp.example%2Fmissing HTTP/1.1"
        ),
        "{}",
        ours[1]
    );
    assert!(
        ours[4].starts_with("HTTP/1.1 500 Internal Server Error\n"),
        "{}",
        ours[4]
    );
    assert!(ours[3].contains("app says 418"), "{}", ours[3]);
    let Some(traefik) = traefik_bin() else {
        eprintln!("SKIPPED the comparison with Traefik: no Traefik binary (run scripts/fetch-traefik.sh or set TRAFFICCOP_TRAEFIK_BIN)");
        return;
    };
    common::assert_same(&ours, &scenario(&traefik));
}
