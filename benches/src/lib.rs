//! Benchmarks: micro-benchmarks of the core's hot paths and the load-test scripts against peers.

use trafficcop_core::config::dynamic::load_dynamic;
use trafficcop_core::config::static_config::load_static;
use trafficcop_core::config::Format;
use trafficcop_core::proxy::{compile, Worker};

/// What `wrk` sends (the load tests' request).
pub const WRK_REQUEST: &[u8] = b"GET / HTTP/1.1\r\nHost: bench.local\r\n\r\n";

/// What a browser sends for a page over HTTP/1.1.
pub const BROWSER_REQUEST: &[u8] =
    b"GET /articles/2026/11/proxy-benchmarks?page=2&sort=new HTTP/1.1\r\n\
Host: bench.local\r\n\
User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:132.0) Gecko/20100101 Firefox/132.0\r\n\
Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\n\
Accept-Language: en-GB,en;q=0.5\r\n\
Accept-Encoding: gzip, deflate, br, zstd\r\n\
Referer: https://bench.local/articles/2026/11/\r\n\
Connection: keep-alive\r\n\
Cookie: session=7f3c2a9e1b4d; theme=dark; consent=1\r\n\
Upgrade-Insecure-Requests: 1\r\n\
Sec-Fetch-Dest: document\r\n\
Sec-Fetch-Mode: navigate\r\n\
Sec-Fetch-Site: same-origin\r\n\r\n";

/// What the load tests' nginx backend answers.
pub const BACKEND_RESPONSE: &[u8] =
    b"HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\nDate: Wed, 25 Nov 2026 20:00:00 GMT\r\n\
Content-Type: text/plain\r\nContent-Length: 13\r\nConnection: keep-alive\r\n\r\nHello, world!";

/// What a web application answers for a page (a small body, the usual caching and security
/// headers).
pub const APP_RESPONSE: &[u8] = b"HTTP/1.1 200 OK\r\n\
Server: nginx/1.22.1\r\n\
Date: Wed, 25 Nov 2026 20:00:00 GMT\r\n\
Content-Type: text/html; charset=utf-8\r\n\
Content-Length: 13\r\n\
Connection: keep-alive\r\n\
Cache-Control: private, max-age=0, must-revalidate\r\n\
ETag: \"5f2a-18c3e0b\"\r\n\
Last-Modified: Tue, 24 Nov 2026 09:12:44 GMT\r\n\
Vary: Accept-Encoding, Cookie\r\n\
Set-Cookie: session=7f3c2a9e1b4d; Path=/; HttpOnly; Secure; SameSite=Lax\r\n\
Strict-Transport-Security: max-age=31536000\r\n\
X-Content-Type-Options: nosniff\r\n\
Referrer-Policy: strict-origin-when-cross-origin\r\n\r\n\
Hello, world!";

/// The first command-line argument as a count, else `default`.
pub fn count_arg(default: u64) -> u64 {
    std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(default)
}

/// A worker for the bench configuration: entry point `web`, one router for `bench.local`, one
/// backend server (the cycle benchmarks answer for it).
pub fn bench_worker() -> Worker {
    let st = load_static("entryPoints: {web: {address: ':80'}}\n", Format::Yaml, None).config;
    let dy = load_dynamic(
        "http:\n  routers:\n    bench: {rule: \"Host(`bench.local`)\", service: backend}\n  services:\n    backend:\n      loadBalancer:\n        servers: [{url: \"http://127.0.0.1:8080\"}]\n",
        Format::Yaml,
        None,
    )
    .config;
    Worker::new(compile(&st, &dy, 1), "bench-host")
}
