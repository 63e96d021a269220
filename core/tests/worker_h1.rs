//! The worker proxying HTTP/1.1, driven by hand: routing, Traefik's own answers, backend
//! failures, keep-alive and pooling, chunked bodies, pipelining, upgrades.

use std::sync::Arc;

use bytes::Bytes;
use trafficcop_core::config::dynamic::load_dynamic;
use trafficcop_core::config::static_config::load_static;
use trafficcop_core::config::Format;
use trafficcop_core::proxy::{compile, ConnId, ConnectError, Input, Output, Timestamp, Worker};

const STATIC: &str = "entryPoints: {web: {address: ':8000'}}\nping: {entryPoint: web}\n";
const DYNAMIC: &str = r#"
http:
  routers:
    app:
      rule: "Host(`app.example`)"
      service: app
    other:
      rule: "PathPrefix(`/other`)"
      service: empty
  services:
    app:
      loadBalancer:
        servers: [{url: "http://backend:9000"}]
    empty:
      loadBalancer:
        servers: []
"#;

fn worker() -> Worker {
    worker_with(STATIC)
}

fn worker_with(static_yaml: &str) -> Worker {
    worker_from(static_yaml, DYNAMIC)
}

/// A worker serving these configurations, which must load and compile without a problem.
fn worker_from(static_yaml: &str, dynamic_yaml: &str) -> Worker {
    let st = load_static(static_yaml, Format::Yaml, None);
    assert!(!st.is_fatal(), "{:?}", st.diagnostics);
    let dy = load_dynamic(dynamic_yaml, Format::Yaml, None);
    assert!(!dy.is_fatal(), "{:?}", dy.diagnostics);
    let cfg = compile(&st.config, &dy.config, 1);
    assert!(cfg.errors.is_empty(), "{:?}", cfg.errors);
    Worker::new(cfg, "proxy-host")
}

fn t(ms: u64) -> Timestamp {
    Timestamp(ms * 1_000_000)
}

/// A request for `app` and a short keep-alive answer from its backend.
const REQ: &str = "GET / HTTP/1.1\r\nHost: app.example\r\n\r\n";
const RESP: &str = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";

struct Harness {
    w: Worker,
    now: Timestamp,
}

impl Harness {
    fn new() -> Self {
        Harness::with(worker())
    }

    fn with(w: Worker) -> Self {
        Harness { w, now: t(0) }
    }

    fn accept(&mut self) -> ConnId {
        let ep = self.w.config().entry_point("web").unwrap();
        self.w
            .accept(self.now, ep, "10.1.2.3:5555".parse().unwrap())
    }

    fn input(&mut self, i: Input) -> Vec<Output> {
        self.w.handle_input(self.now, i);
        std::iter::from_fn(|| self.w.poll_output()).collect()
    }

    /// A new client sends `request`; the backend it dials connects. Returns the client, the
    /// backend and what the backend was sent.
    fn dialled(&mut self, request: &str) -> (ConnId, ConnId, String) {
        let c = self.accept();
        let out = self.recv(c, request);
        let (up, ..) = connect(&out).expect("a dial");
        let sent = sent_to(&self.input(Input::Connected { conn: up }), up);
        (c, up, sent)
    }

    fn recv(&mut self, conn: ConnId, data: &str) -> Vec<Output> {
        self.input(Input::Received {
            conn,
            data: Bytes::copy_from_slice(data.as_bytes()),
        })
    }
}

/// `len` zero bytes, gzipped.
fn gzipped_zeros(len: usize) -> Vec<u8> {
    use std::io::Write;
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(&vec![0u8; len]).unwrap();
    e.finish().unwrap()
}

fn sent_to(out: &[Output], conn: ConnId) -> String {
    out.iter()
        .filter_map(|o| match o {
            Output::Send { conn: c, data } if *c == conn => {
                Some(String::from_utf8_lossy(data).into_owned())
            }
            _ => None,
        })
        .collect()
}

fn connect(out: &[Output]) -> Option<(ConnId, String, u16)> {
    out.iter().find_map(|o| match o {
        Output::Connect { conn, host, port } => Some((*conn, host.clone(), *port)),
        _ => None,
    })
}

fn closed(out: &[Output], conn: ConnId) -> bool {
    out.iter()
        .any(|o| matches!(o, Output::Close { conn: c } if *c == conn))
}

#[test]
fn proxies_and_reuses_connections() {
    let mut h = Harness::new();
    let c = h.accept();
    let out = h.recv(
        c,
        "GET /x?y=1 HTTP/1.1\r\nHost: app.example\r\nX-Forwarded-For: 6.6.6.6\r\n\r\n",
    );
    let (up, host, port) = connect(&out).expect("connect");
    assert_eq!((host.as_str(), port), ("backend", 9000));
    let out = h.input(Input::Connected { conn: up });
    let req = sent_to(&out, up);
    assert!(
        req.starts_with("GET /x?y=1 HTTP/1.1\r\nHost: app.example\r\n"),
        "{req}"
    );
    assert!(req.contains("X-Forwarded-For: 10.1.2.3\r\n"), "{req}");
    assert!(req.contains("X-Forwarded-Server: proxy-host\r\n"), "{req}");
    let out = h.recv(
        up,
        "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-B: 1\r\n\r\nhello",
    );
    let resp = sent_to(&out, c);
    assert_eq!(
        resp,
        "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-B: 1\r\n\r\nhello"
    );
    // Second request on the same client connection reuses the pooled upstream.
    let out = h.recv(c, "GET /again HTTP/1.1\r\nHost: app.example\r\n\r\n");
    assert!(connect(&out).is_none(), "pooled connection reused");
    assert!(sent_to(&out, up).starts_with("GET /again HTTP/1.1\r\n"));
    let out = h.recv(up, "HTTP/1.1 204 No Content\r\n\r\n");
    assert_eq!(sent_to(&out, c), "HTTP/1.1 204 No Content\r\n\r\n");
    assert_eq!(h.w.connection_counts(), (1, 1));
}

#[test]
fn traefik_answers() {
    let mut h = Harness::new();
    let c = h.accept();
    let out = h.recv(c, "GET / HTTP/1.1\r\nHost: nowhere\r\n\r\n");
    assert_eq!(
        sent_to(&out, c),
        "HTTP/1.1 404 Not Found\r\nContent-Type: text/plain; charset=utf-8\r\nX-Content-Type-Options: nosniff\r\nContent-Length: 19\r\n\r\n404 page not found\n"
    );
    let out = h.recv(c, "GET /other HTTP/1.1\r\nHost: x\r\n\r\n");
    assert!(sent_to(&out, c).starts_with("HTTP/1.1 503 Service Unavailable\r\n"));
    assert!(sent_to(&out, c).ends_with("\r\n\r\nno available server\n"));
    let out = h.recv(c, "GET /ping HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(
        sent_to(&out, c),
        "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nOK"
    );
    let out = h.recv(c, "CONNECT x:443 HTTP/1.1\r\nHost: x:443\r\n\r\n");
    // Traefik 3.7.15's bytes (no Date here: the harness sets none).
    assert_eq!(
        sent_to(&out, c),
        "HTTP/1.1 501 Not Implemented\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    );
    assert!(closed(&out, c), "Go closes after refusing CONNECT");
    let c = h.accept();
    let out = h.recv(c, "GET / HTTP/1.1\r\n\r\n");
    assert!(
        sent_to(&out, c).starts_with("HTTP/1.1 400 Bad Request: missing required Host header\r\n")
    );
    assert!(closed(&out, c));
}

/// The asterisk form, as Go's server reads it (checked against Traefik 3.7.15): `OPTIONS *` is
/// answered by the server itself (200, `Content-Length: 0`, the connection kept), with no
/// routing even where a router would match; any other method is routed with the path `*`.
#[test]
fn the_asterisk_form() {
    let mut h = Harness::new();
    let c = h.accept();
    let out = h.recv(c, "OPTIONS * HTTP/1.1\r\nHost: app.example\r\n\r\n");
    assert_eq!(
        sent_to(&out, c),
        "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"
    );
    assert!(connect(&out).is_none() && !closed(&out, c));
    let out = h.recv(c, "GET * HTTP/1.1\r\nHost: nowhere\r\n\r\n");
    assert!(sent_to(&out, c).starts_with("HTTP/1.1 404 Not Found\r\n"));
    let out = h.recv(c, "GET * HTTP/1.1\r\nHost: app.example\r\n\r\n");
    let (up, ..) = connect(&out).expect("routed to the backend");
    let sent = sent_to(&h.input(Input::Connected { conn: up }), up);
    assert!(
        sent.starts_with("GET * HTTP/1.1\r\nHost: app.example\r\n"),
        "{sent}"
    );
    // Not the asterisk form: a query after it, or `*` as an absolute-form path.
    let c = h.accept();
    let out = h.recv(c, "OPTIONS *?x HTTP/1.1\r\nHost: app.example\r\n\r\n");
    assert!(sent_to(&out, c).starts_with("HTTP/1.1 400 Bad Request\r\n"));
}

#[test]
fn backend_failures() {
    let mut h = Harness::new();
    let c = h.accept();
    let out = h.recv(c, "GET / HTTP/1.1\r\nHost: app.example\r\n\r\n");
    let (up, ..) = connect(&out).unwrap();
    let out = h.input(Input::ConnectFailed {
        conn: up,
        error: ConnectError::Failed("refused".into()),
    });
    assert_eq!(
        sent_to(&out, c),
        "HTTP/1.1 502 Bad Gateway\r\nContent-Length: 11\r\n\r\nBad Gateway"
    );
    // Dial timeout (30 s by default).
    let out = h.recv(c, "GET / HTTP/1.1\r\nHost: app.example\r\n\r\n");
    let (up, ..) = connect(&out).unwrap();
    assert_eq!(h.w.poll_timeout(), Some(t(30_000)));
    h.now = t(30_000);
    h.w.handle_timeout(h.now);
    let out: Vec<Output> = std::iter::from_fn(|| h.w.poll_output()).collect();
    assert_eq!(
        sent_to(&out, c),
        "HTTP/1.1 504 Gateway Timeout\r\nContent-Length: 15\r\n\r\nGateway Timeout"
    );
    assert!(closed(&out, up));
    // The backend closes before answering.
    let out = h.recv(c, "GET / HTTP/1.1\r\nHost: app.example\r\n\r\n");
    let (up, ..) = connect(&out).unwrap();
    h.input(Input::Connected { conn: up });
    let out = h.input(Input::Eof { conn: up });
    assert!(sent_to(&out, c).starts_with("HTTP/1.1 502 Bad Gateway\r\n"));
    // A malformed response.
    let out = h.recv(c, "GET / HTTP/1.1\r\nHost: app.example\r\n\r\n");
    let (up, ..) = connect(&out).unwrap();
    h.input(Input::Connected { conn: up });
    let out = h.recv(
        up,
        "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
    );
    // Traefik answers 500 to a response Go cannot parse (it is not a network error).
    assert!(sent_to(&out, c).starts_with("HTTP/1.1 500 Internal Server Error\r\n"));
}

#[test]
fn chunked_bodies_both_ways() {
    let mut h = Harness::new();
    let (c, up, mut sent) = h.dialled(
        "POST /up HTTP/1.1\r\nHost: app.example\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel",
    );
    let out = h.recv(c, "lo\r\n0\r\n\r\n");
    sent.push_str(&sent_to(&out, up));
    // Chunks are re-framed as they arrive (the chunk sizes are ours, never the client's).
    assert!(
        sent.contains("Transfer-Encoding: chunked\r\n")
            && sent.ends_with("\r\n\r\n3\r\nhel\r\n2\r\nlo\r\n0\r\n\r\n"),
        "{sent}"
    );
    // A close-delimited response is re-framed as chunked for the client.
    let out = h.recv(up, "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\npart1");
    let mut resp = sent_to(&out, c);
    let out = h.input(Input::Eof { conn: up });
    resp.push_str(&sent_to(&out, c));
    assert_eq!(
        resp,
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\npart1\r\n0\r\n\r\n"
    );
    assert!(closed(&out, up));
}

/// Large bodies in single reads, both ways: the bytes arrive framed as before, and a large
/// response body goes out as the very bytes the backend's read brought (no copy).
#[test]
fn large_bodies_in_one_read_go_through_both_ways() {
    let mut h = Harness::new();
    let part = "x".repeat(40_000);
    // A chunk that waits for the dial, then one sent on to the connected backend.
    let (c, up, mut sent) = h.dialled(&format!(
        "POST /up HTTP/1.1\r\nHost: app.example\r\nTransfer-Encoding: chunked\r\n\r\n9c40\r\n{part}\r\n"
    ));
    sent.push_str(&sent_to(
        &h.recv(c, &format!("9c40\r\n{part}\r\n0\r\n\r\n")),
        up,
    ));
    let expected = format!("\r\n\r\n9c40\r\n{part}\r\n9c40\r\n{part}\r\n0\r\n\r\n");
    assert!(sent.ends_with(&expected), "{}", &sent[..200]);
    // A length-delimited response of 100 KB in one read.
    let body = "y".repeat(100_000);
    let read = Bytes::from(format!(
        "HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n{body}"
    ));
    let out = h.input(Input::Received {
        conn: up,
        data: read.clone(),
    });
    let resp = sent_to(&out, c);
    assert!(resp.starts_with("HTTP/1.1 200 OK\r\n") && resp.ends_with(&format!("\r\n\r\n{body}")));
    let from_the_read = out.iter().any(|o| {
        matches!(o, Output::Send { conn, data } if *conn == c
            && data.len() == body.len() && data.as_ptr() == read[read.len() - body.len()..].as_ptr())
    });
    assert!(from_the_read, "the body was copied");
    // The next response is close-delimited: re-framed as one chunk, then the last chunk.
    let out = h.recv(c, "GET / HTTP/1.1\r\nHost: app.example\r\n\r\n");
    assert!(sent_to(&out, up).starts_with("GET / HTTP/1.1\r\n"));
    let out = h.recv(
        up,
        &format!("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n{part}"),
    );
    let mut resp = sent_to(&out, c);
    resp.push_str(&sent_to(&h.input(Input::Eof { conn: up }), c));
    assert_eq!(
        resp,
        format!("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n9c40\r\n{part}\r\n0\r\n\r\n")
    );
}

#[test]
fn response_trailers_relayed_request_trailers_announced_only() {
    let mut h = Harness::new();
    let c = h.accept();
    let out = h.recv(
        c,
        "POST / HTTP/1.1\r\nHost: app.example\r\nTrailer: b-t, a-t\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\nb-t: 1\r\n\r\n",
    );
    let (up, ..) = connect(&out).unwrap();
    let sent = sent_to(&h.input(Input::Connected { conn: up }), up);
    assert!(sent.contains("\r\nTrailer: A-T,B-T\r\n"), "{sent}");
    assert!(sent.ends_with("\r\n\r\n2\r\nhi\r\n0\r\n\r\n"), "{sent}");
    let out = h.recv(
        up,
        "HTTP/1.1 200 OK\r\nTrailer: x-t\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nx-u: w\r\nx-t: v\r\n\r\n",
    );
    let resp = sent_to(&out, c);
    assert!(
        resp.starts_with("HTTP/1.1 200 OK\r\nTrailer: X-T\r\n"),
        "{resp}"
    );
    assert!(
        resp.ends_with("\r\n\r\n3\r\nabc\r\n0\r\nX-T: v\r\nX-U: w\r\n\r\n"),
        "{resp}"
    );
}

#[test]
fn gzip_asked_by_the_proxy_is_decompressed_in_bounded_steps() {
    let mut h = Harness::new();
    let c = h.accept();
    let out = h.recv(c, "GET /big HTTP/1.1\r\nHost: app.example\r\n\r\n");
    let (up, ..) = connect(&out).unwrap();
    let sent = sent_to(&h.input(Input::Connected { conn: up }), up);
    assert!(
        sent.ends_with("\r\nAccept-Encoding: gzip\r\n\r\n"),
        "{sent}"
    );
    // 16 MiB of zeros in about 16 KiB of gzip, all at once.
    let gz = gzipped_zeros(16 << 20);
    let mut resp = format!(
        "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: {}\r\n\r\n",
        gz.len()
    )
    .into_bytes();
    resp.extend_from_slice(&gz);
    let out = h.input(Input::Received {
        conn: up,
        data: Bytes::from(resp),
    });
    let queued: usize = out
        .iter()
        .map(|o| match o {
            Output::Send { conn, data } if *conn == c => data.len(),
            _ => 0,
        })
        .sum();
    let head = sent_to(&out[..1], c);
    assert!(
        head.starts_with("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
            && !head.contains("Content-Encoding"),
        "{head}"
    );
    assert!(
        queued < 1 << 20,
        "a client that does not read gets at most ~256 KiB queued, not {queued}"
    );
    // Each time the client has read, decoding goes on, to the end.
    let mut total = 0usize;
    let mut body = Vec::new();
    let mut out = out;
    for _ in 0..1000 {
        for o in &out {
            if let Output::Send { conn, data } = o {
                if *conn == c {
                    body.extend_from_slice(data);
                }
            }
        }
        if body.ends_with(b"\r\n0\r\n\r\n") {
            break;
        }
        out = h.input(Input::Writable { conn: c });
    }
    // De-chunk and count.
    let text = &body[body.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4..];
    let mut rest = text;
    while let Some(nl) = rest.windows(2).position(|w| w == b"\r\n") {
        let size = usize::from_str_radix(std::str::from_utf8(&rest[..nl]).unwrap(), 16).unwrap();
        if size == 0 {
            break;
        }
        assert!(rest[nl + 2..nl + 2 + size].iter().all(|b| *b == 0));
        total += size;
        rest = &rest[nl + 2 + size + 2..];
    }
    assert_eq!(total, 16 << 20);
}

/// A chunked gzip response whose first chunk fills the client's queue exactly as its bytes
/// run out: the rest of the backend's read (here the last chunk) is decoded once the client
/// has read, though the backend sends nothing more.
#[test]
fn a_gzip_response_paused_between_chunks_finishes_when_the_client_reads() {
    for size in [256usize << 10, (256 << 10) + 1, 300 << 10] {
        let mut h = Harness::new();
        let (c, up, _) = h.dialled("GET /big HTTP/1.1\r\nHost: app.example\r\n\r\n");
        let gz = gzipped_zeros(size);
        let mut resp = format!(
            "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n{:x}\r\n",
            gz.len()
        )
        .into_bytes();
        resp.extend_from_slice(&gz);
        resp.extend_from_slice(b"\r\n0\r\n\r\n");
        let mut out = h.input(Input::Received {
            conn: up,
            data: Bytes::from(resp),
        });
        let mut body = Vec::new();
        for _ in 0..100 {
            body.extend_from_slice(sent_to(&out, c).as_bytes());
            if body.ends_with(b"\r\n0\r\n\r\n") {
                break;
            }
            out = h.input(Input::Writable { conn: c });
        }
        assert!(
            body.ends_with(b"\r\n0\r\n\r\n"),
            "{size} bytes: the response stalled after {} bytes",
            body.len()
        );
    }
}

/// Bytes a backend sends after its response while the request's body is still coming are
/// dropped, and the connection is not reused: the client's exchange goes on unchanged.
#[test]
fn bytes_after_an_early_response_are_dropped_and_the_backend_not_reused() {
    let mut h = Harness::new();
    let (c, up, _) =
        h.dialled("POST /up HTTP/1.1\r\nHost: app.example\r\nContent-Length: 10\r\n\r\nhello");
    let out = h.recv(up, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokextra");
    assert!(sent_to(&out, c).ends_with("\r\n\r\nok"));
    for _ in 0..100 {
        let out = h.recv(up, &"x".repeat(60_000));
        assert!(sent_to(&out, c).is_empty() && !closed(&out, c));
    }
    let out = h.recv(c, "world");
    assert_eq!(sent_to(&out, up), "world");
    assert!(
        closed(&out, up),
        "a backend that sent extra bytes was pooled"
    );
    // The client's connection goes on: its next request dials again.
    let out = h.recv(c, REQ);
    assert!(connect(&out).is_some());
}

#[test]
fn a_small_response_is_one_write() {
    let mut h = Harness::new();
    let c = h.accept();
    let out = h.recv(c, "GET / HTTP/1.1\r\nHost: app.example\r\n\r\n");
    let (up, ..) = connect(&out).unwrap();
    h.input(Input::Connected { conn: up });
    let out = h.recv(
        up,
        "HTTP/1.1 200 OK\r\nContent-Length: 13\r\n\r\nHello, world!",
    );
    let writes: Vec<&Output> = out
        .iter()
        .filter(|o| matches!(o, Output::Send { conn, .. } if *conn == c))
        .collect();
    assert_eq!(writes.len(), 1, "head and body in one write: {writes:?}");
    assert!(sent_to(&out, c).ends_with("\r\n\r\nHello, world!"));
}

#[test]
fn a_small_body_split_across_reads_is_relayed_whole_and_the_backend_reused() {
    let mut h = Harness::new();
    let (c, up, _) = h.dialled(REQ);
    // The head arrives with part of the body: that part leaves with the head, the rest when
    // it comes, and the response then ends (the backend goes back to the pool).
    let out = h.recv(up, "HTTP/1.1 200 OK\r\nContent-Length: 13\r\n\r\nHello, ");
    assert!(sent_to(&out, c).ends_with("\r\n\r\nHello, "), "{out:?}");
    assert_eq!(sent_to(&h.recv(up, "world!"), c), "world!");
    let out = h.recv(c, REQ);
    assert!(connect(&out).is_none(), "the backend is reused: {out:?}");
    assert!(sent_to(&out, up).starts_with("GET / HTTP/1.1\r\n"));
    // A head alone, then its whole body.
    let out = h.recv(up, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n");
    assert!(sent_to(&out, c).ends_with("\r\n\r\n"), "{out:?}");
    assert_eq!(sent_to(&h.recv(up, "ok"), c), "ok");
    assert!(connect(&h.recv(c, REQ)).is_none(), "reused again");
}
#[test]
fn pipelined_requests_answer_in_order() {
    let mut h = Harness::new();
    let c = h.accept();
    let out = h.recv(
        c,
        "GET /1 HTTP/1.1\r\nHost: app.example\r\n\r\nGET /2 HTTP/1.1\r\nHost: nowhere\r\n\r\n",
    );
    let (up, ..) = connect(&out).unwrap();
    assert_eq!(sent_to(&out, c), "", "second answer waits for the first");
    h.input(Input::Connected { conn: up });
    let out = h.recv(up, "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nA");
    let resp = sent_to(&out, c);
    assert!(
        resp.starts_with("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nAHTTP/1.1 404 Not Found\r\n"),
        "{resp}"
    );
}

#[test]
fn websocket_upgrade_becomes_a_tunnel() {
    let mut h = Harness::new();
    let c = h.accept();
    let out = h.recv(c, "GET /ws HTTP/1.1\r\nHost: app.example\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Key: x\r\n\r\n");
    let (up, ..) = connect(&out).unwrap();
    let out = h.input(Input::Connected { conn: up });
    let req = sent_to(&out, up);
    assert!(
        req.contains("Connection: Upgrade\r\n")
            && req.contains("Upgrade: websocket\r\n")
            && req.contains("X-Forwarded-Proto: ws\r\n"),
        "{req}"
    );
    let out = h.recv(up, "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\nframe1");
    let resp = sent_to(&out, c);
    assert!(
        resp.starts_with("HTTP/1.1 101 Switching Protocols\r\n")
            && resp.ends_with("\r\n\r\nframe1"),
        "{resp}"
    );
    let out = h.recv(c, "client-frame");
    assert_eq!(sent_to(&out, up), "client-frame");
    let out = h.input(Input::Eof { conn: up });
    assert!(closed(&out, c) && closed(&out, up));
    assert_eq!(h.w.connection_counts(), (0, 0));
}

/// As Traefik 3.7.15 (differential test): the `Sec-WebSocket-*` names go in RFC spelling, the
/// 101 keeps the backend's version whatever the client's, and a switch to another protocol
/// than the one asked for (or without `Connection: Upgrade`) is 500.
#[test]
fn websocket_names_versions_and_protocol_checks() {
    let upgrade = |client_version: &str, answer: &str| {
        let mut h = Harness::new();
        let c = h.accept();
        let out = h.recv(c, &format!("GET /ws {client_version}\r\nHost: app.example\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nsec-websocket-key: k\r\nSEC-WEBSOCKET-VERSION: 13\r\nSec-Websocket-Protocol: chat\r\n\r\n"));
        let (up, ..) = connect(&out).unwrap();
        let out = h.input(Input::Connected { conn: up });
        let req = sent_to(&out, up);
        let out = h.recv(up, answer);
        (req, sent_to(&out, c))
    };
    let ok =
        "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: WebSocket\r\n\r\n";
    let (req, resp) = upgrade("HTTP/1.1", ok);
    assert!(
        req.contains(
            "Sec-WebSocket-Key: k\r\nSec-WebSocket-Protocol: chat\r\nSec-WebSocket-Version: 13\r\n"
        ),
        "{req}"
    );
    assert!(
        resp.starts_with("HTTP/1.1 101 Switching Protocols\r\n"),
        "{resp}"
    );
    let (_, resp) = upgrade("HTTP/1.0", ok);
    assert!(
        resp.starts_with("HTTP/1.1 101 Switching Protocols\r\n"),
        "{resp}"
    );
    for refused in [
        "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n",
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n",
    ] {
        let (_, resp) = upgrade("HTTP/1.1", refused);
        assert!(
            resp.starts_with("HTTP/1.1 500 Internal Server Error\r\n"),
            "{refused:?}: {resp}"
        );
    }
}

/// A path with bytes Go escapes (raw UTF-8, `"`, `{`) goes to the backend escaped, its other
/// escapes decoded where Go decodes them (`URL.EscapedPath()` of the parsed target).
#[test]
fn paths_with_unescaped_bytes_go_escaped() {
    for (sent, forwarded) in [
        ("/p/\u{20ac}", "/p/%E2%82%AC"),
        ("/p/\u{20ac}/%41%2F", "/p/%E2%82%AC/A/"),
        ("/p/a\"b{c}", "/p/a%22b%7Bc%7D"),
        ("/p/%E2%82%AC/ok", "/p/%E2%82%AC/ok"),
    ] {
        let mut h = Harness::new();
        let c = h.accept();
        let out = h.recv(
            c,
            &format!("GET {sent} HTTP/1.1\r\nHost: app.example\r\n\r\n"),
        );
        let (up, ..) = connect(&out).unwrap();
        let out = h.input(Input::Connected { conn: up });
        let req = sent_to(&out, up);
        assert!(
            req.starts_with(&format!("GET {forwarded} HTTP/1.1\r\n")),
            "{sent}: {req}"
        );
    }
}

/// What Go's transport writes for a request's length (checked against Traefik 3.7.15): POST,
/// PUT and PATCH without a body say `Content-Length: 0`, other methods nothing; a length with
/// leading zeros goes as the number; a signed one is Go's plain 400.
#[test]
fn request_lengths_as_gos_transport_writes_them() {
    for (request, forwarded_length) in [
        ("POST /p HTTP/1.1\r\nHost: app.example\r\n\r\n", Some("0")),
        ("PUT /p HTTP/1.0\r\nHost: app.example\r\n\r\n", Some("0")),
        (
            "PATCH /p HTTP/1.1\r\nHost: app.example\r\nContent-Length: 0\r\n\r\n",
            Some("0"),
        ),
        (
            "DELETE /p HTTP/1.1\r\nHost: app.example\r\nContent-Length: 0\r\n\r\n",
            None,
        ),
        ("GET /p HTTP/1.1\r\nHost: app.example\r\n\r\n", None),
        (
            "POST /p HTTP/1.1\r\nHost: app.example\r\nContent-Length: 002\r\n\r\nhi",
            Some("2"),
        ),
    ] {
        let mut h = Harness::new();
        let c = h.accept();
        let out = h.recv(c, request);
        let (up, ..) = connect(&out).unwrap();
        let out = h.input(Input::Connected { conn: up });
        let req = sent_to(&out, up);
        let lengths: Vec<&str> = req
            .lines()
            .filter_map(|l| l.strip_prefix("Content-Length: "))
            .collect();
        assert_eq!(
            lengths,
            forwarded_length.into_iter().collect::<Vec<_>>(),
            "{request:?}: {req}"
        );
    }
    let mut h = Harness::new();
    let c = h.accept();
    let out = h.recv(
        c,
        "POST /p HTTP/1.1\r\nHost: app.example\r\nContent-Length: +2\r\n\r\nhi",
    );
    assert!(
        sent_to(&out, c).starts_with("HTTP/1.1 400 Bad Request\r\n"),
        "{}",
        sent_to(&out, c)
    );
    assert!(sent_to(&out, c).ends_with("\r\n\r\n400 Bad Request"));
}

#[test]
fn config_reload_applies_to_new_requests() {
    let mut h = Harness::new();
    let st = load_static(STATIC, Format::Yaml, None).config;
    let dy = load_dynamic(
        "http:\n  routers:\n    r: {rule: \"PathPrefix(`/`)\", service: noop@internal}\n",
        Format::Yaml,
        None,
    )
    .config;
    let c = h.accept();
    let out = h.recv(c, "GET / HTTP/1.1\r\nHost: app.example\r\n\r\n");
    let (up, ..) = connect(&out).unwrap();
    h.input(Input::Config(Arc::clone(&compile(&st, &dy, 2))));
    h.input(Input::Connected { conn: up });
    let out = h.recv(up, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
    assert!(
        sent_to(&out, c).starts_with("HTTP/1.1 200 OK"),
        "in-flight request finished on its configuration"
    );
    let out = h.recv(c, "GET / HTTP/1.1\r\nHost: app.example\r\n\r\n");
    assert!(sent_to(&out, c).starts_with("HTTP/1.1 418 I'm a teapot\r\n"));
}

#[test]
fn a_dead_pooled_connection_is_retried_once_for_idempotent_requests() {
    let mut h = Harness::new();
    let c = h.accept();
    let out = h.recv(c, "GET /1 HTTP/1.1\r\nHost: app.example\r\n\r\n");
    let (up, ..) = connect(&out).unwrap();
    h.input(Input::Connected { conn: up });
    h.recv(up, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
    // The pooled connection is reused, then the backend closes it before answering.
    let out = h.recv(c, "GET /2 HTTP/1.1\r\nHost: app.example\r\n\r\n");
    assert!(connect(&out).is_none());
    let out = h.input(Input::Eof { conn: up });
    let (up2, ..) = connect(&out).expect("retried on a new connection");
    assert_eq!(sent_to(&out, c), "", "no error sent to the client");
    let out = h.input(Input::Connected { conn: up2 });
    assert!(sent_to(&out, up2).starts_with("GET /2 HTTP/1.1\r\n"));
    let out = h.recv(up2, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
    assert!(sent_to(&out, c).ends_with("\r\n\r\nok"));
    // A POST is not retried: the client gets 502.
    let out = h.recv(
        c,
        "POST /3 HTTP/1.1\r\nHost: app.example\r\nContent-Length: 1\r\n\r\nx",
    );
    assert!(connect(&out).is_none());
    let out = h.input(Input::Eof { conn: up2 });
    assert!(connect(&out).is_none());
    assert!(sent_to(&out, c).starts_with("HTTP/1.1 502 Bad Gateway\r\n"));
}

#[test]
fn unsolicited_101_and_interim_floods_are_500() {
    let mut h = Harness::new();
    let c = h.accept();
    let out = h.recv(c, "GET / HTTP/1.1\r\nHost: app.example\r\n\r\n");
    let (up, ..) = connect(&out).unwrap();
    h.input(Input::Connected { conn: up });
    let out = h.recv(
        up,
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
    );
    assert!(sent_to(&out, c).starts_with("HTTP/1.1 500 Internal Server Error\r\n"));
    let out = h.recv(c, "GET / HTTP/1.1\r\nHost: app.example\r\n\r\n");
    let (up, ..) = connect(&out).unwrap();
    h.input(Input::Connected { conn: up });
    let out = h.recv(up, &"HTTP/1.1 100 Continue\r\n\r\n".repeat(1025));
    let resp = sent_to(&out, c);
    assert!(
        resp.contains("HTTP/1.1 500 Internal Server Error\r\n"),
        "{resp}"
    );
    assert_eq!(resp.matches("100 Continue").count(), 1024);
}

#[test]
fn access_records_when_enabled_and_none_otherwise() {
    use trafficcop_core::proxy::Event;
    let line = |e: &Event| {
        let Event::Access(r) = e;
        format!(
            "{} {} {} {:?} {} {} {} {} {:?} {:?} {:?} {:?}",
            r.method,
            r.path,
            r.protocol,
            r.query,
            r.host,
            r.status,
            r.size,
            r.request_size,
            r.router,
            r.service,
            r.server,
            r.origin_status
        )
    };
    // Without `accessLog`, nothing even when records are on.
    let mut h = Harness::new();
    h.w.set_access_records(true);
    let c = h.accept();
    let out = h.recv(c, "GET /off HTTP/1.1\r\nHost: app.example\r\n\r\n");
    let (up, ..) = connect(&out).unwrap();
    h.input(Input::Connected { conn: up });
    h.recv(up, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
    assert_eq!(h.w.poll_event(), None, "no accessLog, no records");

    let st = "entryPoints: {web: {address: ':8000'}}\nping: {entryPoint: web}\naccessLog: {}\n";
    let mut h = Harness::with(worker_with(st));
    let c = h.accept();
    let out = h.recv(c, "GET /off HTTP/1.1\r\nHost: app.example\r\n\r\n");
    let (up, ..) = connect(&out).unwrap();
    h.input(Input::Connected { conn: up });
    h.recv(up, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
    assert_eq!(h.w.poll_event(), None, "records are off by default");

    h.w.set_access_records(true);
    // Proxied, Traefik's own answer, the internal ping (not logged), and a backend failure.
    h.recv(c, "GET /a?b=1 HTTP/1.1\r\nHost: app.example\r\n\r\n");
    h.recv(
        up,
        "HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n",
    );
    h.recv(c, "HEAD /nope HTTP/1.1\r\nHost: nowhere\r\n\r\n");
    h.recv(c, "GET /ping HTTP/1.1\r\nHost: nowhere\r\n\r\n");
    h.recv(
        c,
        "POST /x HTTP/1.1\r\nHost: app.example\r\nContent-Length: 4\r\n\r\nbody",
    );
    h.input(Input::Eof { conn: up });
    // A client that leaves before the answer.
    let c2 = h.accept();
    let out = h.recv(c2, "GET /gone HTTP/1.1\r\nHost: app.example\r\n\r\n");
    let (up2, ..) = connect(&out).unwrap();
    h.input(Input::Connected { conn: up2 });
    h.input(Input::Eof { conn: c2 });
    let events: Vec<Event> = std::iter::from_fn(|| h.w.poll_event()).collect();
    let lines: Vec<String> = events.iter().map(line).collect();
    let server = "Some(\"app@file\") Some(\"http://backend:9000\")";
    assert_eq!(
        lines,
        vec![
            format!("GET /a HTTP/1.1 Some(\"b=1\") app.example 201 5 0 Some(\"app@file\") {server} Some(201)"),
            "HEAD /nope HTTP/1.1 None nowhere 404 19 0 None None None None".to_string(),
            format!("POST /x HTTP/1.1 None app.example 502 11 4 Some(\"app@file\") {server} Some(502)"),
            format!("GET /gone HTTP/1.1 None app.example 499 21 0 Some(\"app@file\") {server} None"),
        ]
    );
    let counts: Vec<u64> = events
        .iter()
        .map(|e| {
            let Event::Access(r) = e;
            r.count
        })
        .collect();
    assert!(counts.windows(2).all(|w| w[1] == w[0] + 1), "{counts:?}");
}

#[test]
fn keep_alive_max_requests_and_time_close_the_connection() {
    let st = "entryPoints:\n  web:\n    address: ':8000'\n    transport: {keepAliveMaxRequests: 2, keepAliveMaxTime: 10s}\nping: {entryPoint: web}\n";
    let mut h = Harness::with(worker_with(st));
    let c = h.accept();
    let out = h.recv(c, "GET /ping HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(
        sent_to(&out, c),
        "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nOK"
    );
    let out = h.recv(c, "GET /ping HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(
        sent_to(&out, c),
        "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nOK"
    );
    assert!(closed(&out, c), "the second request was the last");
    // keepAliveMaxTime: the first request after 10 s closes.
    let c = h.accept();
    h.now = t(10_001);
    let out = h.recv(c, "GET /ping HTTP/1.1\r\nHost: x\r\n\r\n");
    assert!(sent_to(&out, c).contains("Connection: close\r\n"));
    assert!(closed(&out, c));
}

#[test]
fn proxy_protocol_headers_from_trusted_peers_set_the_client_address() {
    let st = "entryPoints:\n  web:\n    address: ':8000'\n    proxyProtocol: {trustedIPs: [10.1.2.0/24]}\n    forwardedHeaders: {insecure: true}\nping: {entryPoint: web}\n";
    let mut h = Harness::with(worker_with(st));
    // Trusted peer (10.1.2.3): the header's address is the client's, in pieces.
    let c = h.accept();
    h.recv(c, "PROXY TCP4 192.0.2.9 10.0.0.1 5555 8000\r");
    let out = h.recv(c, "\nGET / HTTP/1.1\r\nHost: app.example\r\n\r\n");
    let (up, ..) = connect(&out).expect("connect");
    let out = h.input(Input::Connected { conn: up });
    assert!(
        sent_to(&out, up).contains("X-Forwarded-For: 192.0.2.9\r\n"),
        "{}",
        sent_to(&out, up)
    );
    // No header at all: served as it is.
    let c = h.accept();
    let out = h.recv(c, "GET /ping HTTP/1.1\r\nHost: x\r\n\r\n");
    assert!(sent_to(&out, c).starts_with("HTTP/1.1 200 OK\r\n"));
    // A broken header closes the connection.
    let c = h.accept();
    let out = h.recv(c, "PROXY TCP4 nonsense\r\n");
    assert!(closed(&out, c));
    // An untrusted peer's header is read and ignored.
    let c = h.w.accept(h.now, 0, "172.16.0.1:4444".parse().unwrap());
    h.recv(c, "PROXY TCP4 192.0.2.9 10.0.0.1 5555 8000\r\n");
    let out = h.recv(c, "GET / HTTP/1.1\r\nHost: app.example\r\n\r\n");
    let (up, ..) = connect(&out).expect("connect");
    let out = h.input(Input::Connected { conn: up });
    assert!(
        sent_to(&out, up).contains("X-Forwarded-For: 172.16.0.1\r\n"),
        "{}",
        sent_to(&out, up)
    );
}

#[test]
fn write_timeout_bounds_the_response_not_the_idle_time() {
    let st = "entryPoints:\n  web:\n    address: ':8000'\n    transport: {respondingTimeouts: {writeTimeout: 2s}}\nping: {entryPoint: web}\n";
    let mut h = Harness::with(worker_with(st));
    // A quick local answer, then idle well past writeTimeout: still open.
    let c = h.accept();
    let out = h.recv(c, "GET /ping HTTP/1.1\r\nHost: x\r\n\r\n");
    assert!(sent_to(&out, c).starts_with("HTTP/1.1 200 OK\r\n"));
    h.now = t(5_000);
    h.w.handle_timeout(h.now);
    assert!(
        std::iter::from_fn(|| h.w.poll_output()).next().is_none(),
        "idle is not a write"
    );
    // A backend that takes longer than writeTimeout: the connection closes.
    let out = h.recv(c, "GET / HTTP/1.1\r\nHost: app.example\r\n\r\n");
    let (up, ..) = connect(&out).expect("connect");
    h.input(Input::Connected { conn: up });
    h.now = t(7_001);
    h.w.handle_timeout(h.now);
    let out: Vec<Output> = std::iter::from_fn(|| h.w.poll_output()).collect();
    assert!(closed(&out, c), "{out:?}");
}

#[test]
fn a_request_waiting_for_a_dial_takes_a_connection_that_goes_idle_first() {
    let mut h = Harness::new();
    let (a, b, c) = (h.accept(), h.accept(), h.accept());
    let (u1, _, _) = connect(&h.recv(a, REQ)).expect("dial for a");
    h.input(Input::Connected { conn: u1 });
    // b finds no idle connection: a second dial starts.
    let (u2, _, _) = connect(&h.recv(b, REQ)).expect("dial for b");
    // u1 answers a before u2 connects: b's request goes out on u1 at once (as Go's transport).
    let out = h.recv(u1, RESP);
    assert!(sent_to(&out, a).ends_with("ok"));
    assert!(
        sent_to(&out, u1).starts_with("GET / HTTP/1.1\r\n"),
        "b on u1"
    );
    // u2 connects with nobody waiting: it is pooled, nothing is sent, it is not closed.
    let out = h.input(Input::Connected { conn: u2 });
    assert!(sent_to(&out, u2).is_empty() && !closed(&out, u2));
    assert!(sent_to(&h.recv(u1, RESP), b).ends_with("ok"));
    // c takes a pooled connection: no new dial.
    let out = h.recv(c, REQ);
    assert!(connect(&out).is_none());
    assert!(!sent_to(&out, u1).is_empty() || !sent_to(&out, u2).is_empty());
}

#[test]
fn a_handed_over_connection_that_dies_is_retried_for_idempotent_requests() {
    let mut h = Harness::new();
    let (a, b) = (h.accept(), h.accept());
    let (u1, _, _) = connect(&h.recv(a, REQ)).expect("dial for a");
    h.input(Input::Connected { conn: u1 });
    let (u2, _, _) = connect(&h.recv(b, REQ)).expect("dial for b");
    h.recv(u1, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
    // u1 (now carrying b's request) closes without answering: b is sent again on a new
    // connection, as for any reused connection.
    let out = h.input(Input::Eof { conn: u1 });
    assert_eq!(sent_to(&out, b), "", "no 502 for b");
    let (u3, ..) = connect(&out).expect("retried on a new connection");
    assert_ne!(u3, u2);
    let out = h.input(Input::Connected { conn: u3 });
    assert!(sent_to(&out, u3).starts_with("GET / HTTP/1.1\r\n"));
    let out = h.recv(u3, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
    assert!(sent_to(&out, b).ends_with("\r\n\r\nok"));
}

#[test]
fn underscore_and_alias_header_strategies_keep_delete_and_reject() {
    const REQ: &str =
        "GET / HTTP/1.1\r\nHost: app.example\r\nX_Secret: s\r\nX.Dot: d\r\nX-Ok: o\r\n\r\n";
    // (key, strategy, whether `X_Secret` and `X.Dot` go on; `None`: refused).
    for (key, strategy, kept) in [
        ("underscoreHeadersStrategy", "keep", Some((true, true))),
        ("underscoreHeadersStrategy", "delete", Some((false, true))),
        ("underscoreHeadersStrategy", "reject", None),
        ("aliasHeadersStrategy", "keep", Some((true, true))),
        ("aliasHeadersStrategy", "delete", Some((false, false))),
        ("aliasHeadersStrategy", "reject", None),
    ] {
        let mut h = Harness::with(worker_with(&format!(
            "entryPoints: {{web: {{address: ':8000', http: {{{key}: {strategy}}}}}}}\n"
        )));
        let c = h.accept();
        let out = h.recv(c, REQ);
        match kept {
            None => {
                assert!(connect(&out).is_none(), "{strategy}");
                assert!(sent_to(&out, c).starts_with("HTTP/1.1 400 Bad Request\r\n"));
            }
            Some((underscore, dot)) => {
                let (up, ..) = connect(&out).expect(strategy);
                let req = sent_to(&h.input(Input::Connected { conn: up }), up);
                assert!(req.contains("X-Ok: o\r\n"), "{req}");
                assert_eq!(
                    req.contains("X_secret: s\r\n"),
                    underscore,
                    "{key} {strategy}: {req}"
                );
                assert_eq!(req.contains("X.dot: d\r\n"), dot, "{key} {strategy}: {req}");
            }
        }
    }
    // Only a name with `-` and alphanumerics is not an alias.
    let mut h = Harness::with(worker_with(
        "entryPoints: {web: {address: ':8000', http: {aliasHeadersStrategy: reject}}}\n",
    ));
    let c = h.accept();
    let out = h.recv(c, "GET / HTTP/1.1\r\nHost: app.example\r\nX~A: 1\r\n\r\n");
    assert!(sent_to(&out, c).starts_with("HTTP/1.1 400 Bad Request\r\n"));
}

/// The balancer's choice: one server of positive weight every time (taken without the
/// shared lock), one of weight 0 never, and two servers by Traefik's weighted round robin.
#[test]
fn next_server_with_one_server_and_with_weights() {
    let st = load_static(
        "entryPoints: {web: {address: ':8000'}}\n",
        Format::Yaml,
        None,
    );
    let dy = load_dynamic(
        r#"
http:
  services:
    one: {loadBalancer: {servers: [{url: "http://a:1"}]}}
    zero: {loadBalancer: {servers: [{url: "http://a:1", weight: 0}]}}
    two: {loadBalancer: {servers: [{url: "http://a:1", weight: 3}, {url: "http://b:1", weight: 1}]}}
"#,
        Format::Yaml,
        None,
    );
    assert!(!dy.is_fatal(), "{:?}", dy.diagnostics);
    let cfg = compile(&st.config, &dy.config, 1);
    let service = |name: &str| {
        cfg.services
            .iter()
            .find(|s| s.name == name)
            .unwrap_or_else(|| panic!("{name}: {:?}", cfg.errors))
    };
    let one = service("one@file");
    assert!((0..5).all(|_| one.next_server() == Some(0)));
    assert_eq!(service("zero@file").next_server(), None);
    let two = service("two@file");
    let picks: Vec<&str> = (0..8)
        .map(|_| two.servers[two.next_server().unwrap()].host.as_ref())
        .collect();
    assert_eq!(picks.iter().filter(|h| **h == "a").count(), 6, "{picks:?}");
}

/// One request from each of `clients` at once, then each answered: on new connections (dialled
/// and connected), or on `pooled` ones when given. Returns the connection each request used,
/// checking none closes when its response ends.
fn burst(h: &mut Harness, clients: &[ConnId], pooled: Option<&[ConnId]>) -> Vec<ConnId> {
    let mut used = Vec::new();
    for c in clients {
        let out = h.recv(*c, REQ);
        match connect(&out) {
            Some((u, _, _)) => {
                assert!(pooled.is_none(), "a dial with connections pooled");
                h.input(Input::Connected { conn: u });
                used.push(u);
            }
            None => {
                let pooled = pooled.expect("a dial for a fresh burst");
                let u = *pooled
                    .iter()
                    .find(|u| sent_to(&out, **u).starts_with("GET / "))
                    .expect("sent on a pooled connection");
                used.push(u);
            }
        }
    }
    for (c, u) in clients.iter().zip(&used) {
        let out = h.recv(*u, RESP);
        assert!(sent_to(&out, *c).ends_with("ok"));
        assert!(!closed(&out, *u), "closed at once past the limit");
    }
    used
}

/// Connections going idle past `maxIdleConnsPerHost` (a burst of responses completing
/// together) are kept for `SURPLUS_IDLE` and taken first, so the requests that follow do not
/// dial again; those still idle then close, leaving the limit. No limit (`-1`) pools nothing.
#[test]
fn idle_connections_past_the_limit_are_kept_a_moment() {
    use trafficcop_core::proxy::SURPLUS_IDLE;
    let mut h = Harness::with(worker_with(
        "entryPoints: {web: {address: ':8000'}}\nserversTransport: {maxIdleConnsPerHost: 1}\n",
    ));
    let clients: Vec<ConnId> = (0..3).map(|_| h.accept()).collect();
    let ups = burst(&mut h, &clients, None);
    assert_eq!(h.w.connection_counts(), (3, 3));
    // The next burst within the moment reuses all three, the newest first.
    h.now = t(500);
    h.w.handle_timeout(h.now);
    let again = burst(&mut h, &clients, Some(&ups));
    assert_eq!(again, [ups[2], ups[1], ups[0]], "newest first");
    // A moment later, two close and one stays (until `idleConnTimeout`).
    h.now = Timestamp(t(500).0 + SURPLUS_IDLE.0 as u64);
    h.w.handle_timeout(h.now);
    let out: Vec<Output> = std::iter::from_fn(|| h.w.poll_output()).collect();
    assert_eq!(ups.iter().filter(|u| closed(&out, **u)).count(), 2);
    assert_eq!(h.w.connection_counts(), (3, 1));
    // The one left is still in the pool.
    let out = h.recv(clients[0], REQ);
    assert!(connect(&out).is_none(), "the pooled connection is reused");
    assert!(sent_to(&out, ups[2]).starts_with("GET / "));

    let mut h = Harness::with(worker_with(
        "entryPoints: {web: {address: ':8000'}}\nserversTransport: {maxIdleConnsPerHost: -1}\n",
    ));
    let (a, b) = (h.accept(), h.accept());
    let (u, _, _) = connect(&h.recv(a, REQ)).expect("dial for a");
    h.input(Input::Connected { conn: u });
    let (u2, _, _) = connect(&h.recv(b, REQ)).expect("dial for b");
    // Not pooled, and not handed to b's waiting request either (Go closes it).
    let out = h.recv(u, RESP);
    assert!(closed(&out, u), "no pooling with -1");
    assert!(
        sent_to(&out, u).is_empty(),
        "b's request not sent on a closing connection"
    );
    let out = h.input(Input::Connected { conn: u2 });
    assert!(
        sent_to(&out, u2).starts_with("GET / "),
        "b's request on its own dial"
    );
}

/// `maxIdleConnsPerHost` bounds the idle connections of the whole transport, as in Traefik:
/// each worker keeps its share (rounded up). Four requests in flight on four connections;
/// once answered and past the surplus moment, a worker alone keeps 3 of them idle, one of two
/// workers 2, one of three 1.
#[test]
fn max_idle_conns_per_host_is_split_between_workers() {
    use trafficcop_core::proxy::SURPLUS_IDLE;
    let st = load_static(
        "entryPoints: {web: {address: ':8000'}}\nserversTransport: {maxIdleConnsPerHost: 3}\n",
        Format::Yaml,
        None,
    );
    assert!(!st.is_fatal(), "{:?}", st.diagnostics);
    let dy = load_dynamic(DYNAMIC, Format::Yaml, None);
    for (workers, kept) in [(1, 3), (2, 2), (3, 1)] {
        let inputs = trafficcop_core::proxy::CompileInputs {
            workers,
            ..Default::default()
        };
        let cfg = trafficcop_core::proxy::compile_serving(&st.config, &dy.config, 1, &inputs);
        let mut h = Harness::with(Worker::new(cfg, "proxy-host"));
        let clients: Vec<ConnId> = (0..4).map(|_| h.accept()).collect();
        burst(&mut h, &clients, None);
        h.now = Timestamp(SURPLUS_IDLE.0 as u64);
        h.w.handle_timeout(h.now);
        assert_eq!(h.w.connection_counts(), (4, kept), "{workers} worker(s)");
    }
}

/// A chain with a `headers` middleware applies it on both sides, after the other middlewares
/// (whose response side is nothing); a chain without one leaves the response as it came.
#[test]
fn response_side_middlewares_run_only_where_the_chain_has_them() {
    let mut h = Harness::with(worker_from(
        STATIC,
        r#"
http:
  routers:
    with-headers:
      rule: "Host(`app.example`)"
      middlewares: [strip, hdrs]
      service: app
    strip-only:
      rule: "Host(`plain.example`)"
      middlewares: [strip]
      service: app
  middlewares:
    strip:
      stripPrefix: {prefixes: ["/api"]}
    hdrs:
      headers:
        customRequestHeaders: {X-Env: prod, X-Drop: ""}
        customResponseHeaders: {X-Served-By: trafficcop}
        frameDeny: true
  services:
    app:
      loadBalancer:
        servers: [{url: "http://backend:9000"}]
"#,
    ));

    // The second request reuses the client connection and the pooled backend connection.
    let req = "GET /api/x HTTP/1.1\r\nHost: app.example\r\nX-Drop: 1\r\n\r\n";
    let (c, up, mut sent) = h.dialled(req);
    for round in 0..2 {
        if round > 0 {
            sent = sent_to(&h.recv(c, req), up);
        }
        assert!(sent.starts_with("GET /x HTTP/1.1\r\n"), "{sent}");
        assert!(sent.contains("\r\nX-Env: prod\r\n"), "{sent}");
        assert!(!sent.contains("X-Drop"), "{sent}");
        let out = h.recv(up, RESP);
        let resp = sent_to(&out, c);
        assert!(
            resp.contains("\r\nX-Served-By: trafficcop\r\n"),
            "round {round}: {resp}"
        );
        assert!(
            resp.contains("\r\nX-Frame-Options: DENY\r\n"),
            "round {round}: {resp}"
        );
        assert!(resp.ends_with("\r\n\r\nok"), "{resp}");
    }

    let sent = sent_to(
        &h.recv(c, "GET /api/y HTTP/1.1\r\nHost: plain.example\r\n\r\n"),
        up,
    );
    assert!(sent.starts_with("GET /y HTTP/1.1\r\n"), "{sent}");
    assert!(!sent.contains("X-Env"), "{sent}");
    let out = h.recv(up, RESP);
    let resp = sent_to(&out, c);
    assert!(resp.starts_with("HTTP/1.1 200 OK\r\n"), "{resp}");
    assert!(
        !resp.contains("X-Served-By") && !resp.contains("X-Frame-Options"),
        "{resp}"
    );
}

/// An entry point's `http.middlewares` run before the router's, on every router it serves,
/// and their response side runs too when only the entry point's chain has one.
#[test]
fn entry_point_middlewares_run_before_the_routers() {
    let mut h = Harness::with(worker_from(
        "entryPoints:\n  web:\n    address: ':8000'\n    http:\n      middlewares: [strip-api@file, ep-hdrs@file]\n",
        r#"
http:
  routers:
    app:
      rule: "Host(`app.example`)"
      middlewares: [v1]
      service: app
  middlewares:
    strip-api:
      stripPrefix: {prefixes: ["/api"]}
    ep-hdrs:
      headers:
        customResponseHeaders: {X-Ep: "1"}
    v1:
      addPrefix: {prefix: "/v1"}
  services:
    app:
      loadBalancer:
        servers: [{url: "http://backend:9000"}]
"#,
    ));
    let (c, up, sent) = h.dialled("GET /api/x HTTP/1.1\r\nHost: app.example\r\n\r\n");
    // stripPrefix first (/api/x -> /x), then the router's addPrefix (-> /v1/x).
    assert!(sent.starts_with("GET /v1/x HTTP/1.1\r\n"), "{sent}");
    let resp = sent_to(&h.recv(up, RESP), c);
    assert!(resp.contains("\r\nX-Ep: 1\r\n"), "{resp}");
}

/// A local answer to a request with a body waits for the body, reads and drops it (up to
/// 256 KiB, Go's `maxPostHandlerReadBytes`) and keeps the connection, as Traefik 3.7.15 does;
/// a body declared larger is answered at once and closed.
#[test]
fn local_answers_read_small_bodies_and_keep_the_connection() {
    let mut h = Harness::new();
    let c = h.accept();
    let out = h.recv(
        c,
        "POST / HTTP/1.1\r\nHost: nowhere\r\nContent-Length: 5\r\n\r\nab",
    );
    assert_eq!(sent_to(&out, c), "", "the answer waits for the body");
    let out = h.recv(c, "cde");
    let answer = sent_to(&out, c);
    assert!(answer.starts_with("HTTP/1.1 404 Not Found\r\n"), "{answer}");
    assert!(!answer.contains("Connection: close") && !closed(&out, c));
    // A chunked body, and a pipelined request after it in the same read.
    let out = h.recv(
        c,
        "POST / HTTP/1.1\r\nHost: nowhere\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\nGET /ping HTTP/1.1\r\nHost: x\r\n\r\n",
    );
    let answers = sent_to(&out, c);
    assert!(
        answers.starts_with("HTTP/1.1 404 Not Found\r\n"),
        "{answers}"
    );
    assert!(answers.ends_with("\r\n\r\nOK"), "{answers}");
    assert!(!closed(&out, c));
    // Declared at 256 KiB or more: answered at once with `Connection: close`; what the
    // client still sends is read and dropped for 500 ms (Go's `rstAvoidanceDelay`: closing
    // with unread bytes would reset the connection, and the answer with it), then it closes.
    let out = h.recv(
        c,
        "POST / HTTP/1.1\r\nHost: nowhere\r\nContent-Length: 262144\r\n\r\n",
    );
    assert!(sent_to(&out, c).contains("Connection: close\r\n"));
    assert!(!closed(&out, c));
    let out = h.recv(c, &"a".repeat(100_000));
    assert!(out.is_empty(), "{out:?}");
    h.now = t(499);
    h.w.handle_timeout(h.now);
    assert!(h.w.poll_output().is_none());
    h.now = t(500);
    h.w.handle_timeout(h.now);
    let out: Vec<Output> = std::iter::from_fn(|| h.w.poll_output()).collect();
    assert!(closed(&out, c), "{out:?}");
    // A client that stops sending and closes ends it at once.
    let c = h.accept();
    h.recv(
        c,
        "POST / HTTP/1.1\r\nHost: nowhere\r\nContent-Length: 999999\r\n\r\nabc",
    );
    let out = h.input(Input::Eof { conn: c });
    assert!(closed(&out, c), "{out:?}");
}

/// The body cannot be read whole: longer than 256 KiB (chunked), malformed, cut short by the
/// client, or not sent within the read timeout. The answer goes out with
/// `Connection: close`, then the connection closes (Go's `closeAfterReply`).
#[test]
fn local_answers_close_when_the_body_cannot_be_read() {
    let mut h = Harness::new();
    let answered_and_closed = |out: &[Output], c: ConnId| {
        let answer = sent_to(out, c);
        assert!(answer.starts_with("HTTP/1.1 404 Not Found\r\n"), "{answer}");
        assert!(answer.contains("Connection: close\r\n"), "{answer}");
        assert!(closed(out, c));
    };
    let answered_closing = |out: &[Output], c: ConnId| {
        let answer = sent_to(out, c);
        assert!(answer.starts_with("HTTP/1.1 404 Not Found\r\n"), "{answer}");
        assert!(answer.contains("Connection: close\r\n"), "{answer}");
    };
    let c = h.accept();
    let chunk = format!("10000\r\n{}\r\n", "a".repeat(0x10000));
    h.recv(
        c,
        "POST / HTTP/1.1\r\nHost: nowhere\r\nTransfer-Encoding: chunked\r\n\r\n",
    );
    for _ in 0..4 {
        let out = h.recv(c, &chunk);
        assert_eq!(sent_to(&out, c), "", "256 KiB are read");
    }
    // Past 256 KiB: answered, then it lingers (as above).
    let out = h.recv(c, &chunk);
    answered_closing(&out, c);
    let out = h.input(Input::Eof { conn: c });
    assert!(closed(&out, c));

    let c = h.accept();
    let out = h.recv(
        c,
        "POST / HTTP/1.1\r\nHost: nowhere\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
    );
    answered_and_closed(&out, c);

    let c = h.accept();
    h.recv(
        c,
        "POST / HTTP/1.1\r\nHost: nowhere\r\nContent-Length: 9\r\n\r\nabc",
    );
    let out = h.input(Input::Eof { conn: c });
    answered_and_closed(&out, c);

    // readTimeout (60 s by default) runs from the request's head.
    let c = h.accept();
    h.recv(
        c,
        "POST / HTTP/1.1\r\nHost: nowhere\r\nContent-Length: 9\r\n\r\nabc",
    );
    h.now = t(60_001);
    h.w.handle_timeout(h.now);
    let out: Vec<Output> = std::iter::from_fn(|| h.w.poll_output()).collect();
    answered_and_closed(&out, c);
}

/// A backend that fails while the client is still sending its body: the 502 goes out with
/// `Connection: close` and the connection lingers, reading and dropping the rest, so the
/// answer is not lost to a reset.
#[test]
fn a_failed_upload_lingers_after_its_answer() {
    let mut h = Harness::new();
    let c = h.accept();
    let out = h.recv(
        c,
        "POST /up HTTP/1.1\r\nHost: app.example\r\nContent-Length: 1000000\r\n\r\nabc",
    );
    let (up, ..) = connect(&out).expect("a dial");
    let out = h.input(Input::ConnectFailed {
        conn: up,
        error: ConnectError::Failed("refused".into()),
    });
    let answer = sent_to(&out, c);
    assert!(
        answer.starts_with("HTTP/1.1 502 Bad Gateway\r\n"),
        "{answer}"
    );
    assert!(answer.contains("Connection: close\r\n"), "{answer}");
    assert!(!closed(&out, c));
    assert!(h.recv(c, &"x".repeat(50_000)).is_empty());
    h.now = t(500);
    h.w.handle_timeout(h.now);
    let out: Vec<Output> = std::iter::from_fn(|| h.w.poll_output()).collect();
    assert!(closed(&out, c), "{out:?}");
}

/// `Expect: 100-continue` as Go's transport handles it (`ExpectContinueTimeout` 1 s): the head
/// goes to the backend with its `Expect`, the client is not asked for the body until the
/// backend answers 100 (relayed once), and body bytes the client sends anyway wait.
#[test]
fn expect_continue_waits_for_the_backends_100() {
    let mut h = Harness::new();
    let (c, up, sent) = h.dialled(
        "POST /up HTTP/1.1\r\nHost: app.example\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n",
    );
    assert!(sent.contains("Expect: 100-continue\r\n"), "{sent}");
    let out = h.recv(c, "abc");
    assert_eq!(sent_to(&out, c), "", "no 100 of the proxy's own");
    assert_eq!(sent_to(&out, up), "", "the body waits");
    let out = h.recv(up, "HTTP/1.1 100 Continue\r\n\r\n");
    assert_eq!(sent_to(&out, c), "HTTP/1.1 100 Continue\r\n\r\n");
    assert_eq!(sent_to(&out, up), "abc");
    let out = h.recv(up, RESP);
    assert_eq!(
        sent_to(&out, c),
        "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
    );
    assert!(!closed(&out, c) && !closed(&out, up));
}

/// No 100 from the backend within 1 s: the client gets its 100 then and the body goes.
#[test]
fn expect_continue_asks_the_client_after_a_second() {
    let mut h = Harness::new();
    let (c, up, _) = h.dialled(
        "POST /up HTTP/1.1\r\nHost: app.example\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n",
    );
    assert_eq!(h.w.poll_timeout(), Some(t(1_000)));
    h.now = t(1_000);
    h.w.handle_timeout(h.now);
    let out: Vec<Output> = std::iter::from_fn(|| h.w.poll_output()).collect();
    assert_eq!(sent_to(&out, c), "HTTP/1.1 100 Continue\r\n\r\n");
    let out = h.recv(c, "abc");
    assert_eq!(sent_to(&out, up), "abc");
    let out = h.recv(up, RESP);
    assert!(sent_to(&out, c).starts_with("HTTP/1.1 200 OK\r\n"));
    assert!(!closed(&out, c));
}

/// A backend that answers before asking for the body (checked against Traefik 3.7.15): the
/// answer reaches the client with `Connection: close`, the body is never sent (what the client
/// sends is dropped until it stops), and the backend connection, which announced no body it
/// got, is not reused. A backend that closes gets no 100 relayed; one that keeps its
/// connection makes Go's transport go on to the body, so the client gets 100 Continue first.
#[test]
fn expect_continue_answered_at_once_never_sends_the_body() {
    for (backend_close, continue_first) in [(true, false), (false, true)] {
        let mut h = Harness::new();
        let (c, up, _) = h.dialled(
            "POST /up HTTP/1.1\r\nHost: app.example\r\nExpect: 100-continue\r\nContent-Length: 100000\r\n\r\n",
        );
        let answer = if backend_close {
            "HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        } else {
            "HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n"
        };
        let out = h.recv(up, answer);
        let answer = sent_to(&out, c);
        let expected_start = if continue_first {
            "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 401 Unauthorized\r\n"
        } else {
            "HTTP/1.1 401 Unauthorized\r\n"
        };
        assert!(answer.starts_with(expected_start), "{answer}");
        assert!(answer.contains("Connection: close\r\n"), "{answer}");
        assert!(closed(&out, up), "not pooled: {out:?}");
        let out = h.recv(c, &"a".repeat(50_000));
        assert!(out.is_empty(), "{out:?}");
        let out = h.input(Input::Eof { conn: c });
        assert!(closed(&out, c));
    }
}

/// A final answer before the backend asked for the body, when the whole body is already here
/// and the backend keeps its connection: the client gets 100 Continue before the answer and the
/// body is sent anyway (Go's transport does), and both connections are kept.
#[test]
fn expect_continue_answered_at_once_with_the_body_here_sends_it() {
    let mut h = Harness::new();
    let (c, up, _) = h.dialled(
        "POST /up HTTP/1.1\r\nHost: app.example\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\nabc",
    );
    let out = h.recv(up, RESP);
    assert_eq!(
        sent_to(&out, c),
        "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
    );
    assert_eq!(sent_to(&out, up), "abc");
    assert!(!closed(&out, c) && !closed(&out, up));
    let out = h.recv(c, REQ);
    assert!(connect(&out).is_none(), "the backend connection is reused");
    assert!(sent_to(&out, up).starts_with("GET / HTTP/1.1\r\n"));
}

/// An expectation other than `100-continue` is refused by Go's server before any routing:
/// 417 with its own head (`Connection` first) and a close (checked against Traefik 3.7.15).
#[test]
fn unknown_expectations_are_417() {
    let mut h = Harness::new();
    let c = h.accept();
    let out = h.recv(
        c,
        "POST / HTTP/1.1\r\nHost: app.example\r\nExpect: foo\r\nContent-Length: 3\r\n\r\nabc",
    );
    assert_eq!(
        sent_to(&out, c),
        "HTTP/1.1 417 Expectation Failed\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"
    );
    assert!(closed(&out, c) && connect(&out).is_none());
    // A list naming 100-continue, and an empty value, are not refused.
    for expect in ["100-Continue, foo", ""] {
        let c = h.accept();
        let out = h.recv(
            c,
            &format!("GET / HTTP/1.1\r\nHost: app.example\r\nExpect: {expect}\r\n\r\n"),
        );
        assert!(
            connect(&out).is_some(),
            "{expect:?}: {:?}",
            sent_to(&out, c)
        );
    }
}

/// A request body that turns out malformed while it is proxied, before the backend answered:
/// Go's transport fails writing it, which Traefik answers 500 `Internal Server Error`, and the
/// connections close (checked against Traefik 3.7.15).
#[test]
fn a_malformed_body_while_proxying_is_500() {
    let mut h = Harness::new();
    let (c, up, _) = h.dialled(
        "POST /up HTTP/1.1\r\nHost: app.example\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n",
    );
    let out = h.recv(c, "zz\r\n");
    assert_eq!(
        sent_to(&out, c),
        "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 21\r\nConnection: close\r\n\r\nInternal Server Error"
    );
    assert!(closed(&out, c) && closed(&out, up));
}

/// A worker whose `app` router goes through `retry` (configured as `retry`) to two servers, `a`
/// then `b` in the round robin (one worker's shuffle with seed 1 is checked below).
fn retry_harness(retry: &str) -> Harness {
    let dynamic = format!(
        r#"
http:
  routers:
    app:
      rule: "Host(`app.example`)"
      service: app
      middlewares: [retry]
  middlewares:
    retry:
      retry: {retry}
  services:
    app:
      loadBalancer:
        servers: [{{url: "http://a:9000"}}, {{url: "http://b:9000"}}]
"#
    );
    Harness::with(worker_from(STATIC, &dynamic))
}

#[test]
fn retry_sends_a_request_that_never_reached_a_server_to_the_next_one() {
    let mut h = retry_harness("{attempts: 3}");
    let c = h.accept();
    let out = h.recv(
        c,
        "POST / HTTP/1.1\r\nHost: app.example\r\nContent-Length: 4\r\n\r\nbo",
    );
    let (first, host, _) = connect(&out).unwrap();
    // The dial fails: no answer, the request goes to the other server at once (no back-off).
    let out = h.input(Input::ConnectFailed {
        conn: first,
        error: ConnectError::Failed("refused".into()),
    });
    assert_eq!(sent_to(&out, c), "");
    let (second, other, _) = connect(&out).expect("a second attempt");
    assert_ne!(host, other);
    // The body read before goes with it, and the rest follows.
    let out = h.input(Input::Connected { conn: second });
    assert!(sent_to(&out, second).ends_with("\r\n\r\nbo"));
    let out = h.recv(c, "dy");
    assert_eq!(sent_to(&out, second), "dy");
    let out = h.recv(second, RESP);
    assert!(sent_to(&out, c).ends_with("\r\n\r\nok"));
    // Every attempt failing: the last one's failure is the answer (3 attempts in all).
    let mut h = retry_harness("{attempts: 3}");
    let c = h.accept();
    let out = h.recv(c, REQ);
    let mut up = connect(&out).unwrap().0;
    for attempt in 1..=3 {
        let out = h.input(Input::ConnectFailed {
            conn: up,
            error: ConnectError::Failed("refused".into()),
        });
        if attempt < 3 {
            assert_eq!(sent_to(&out, c), "");
            up = connect(&out).expect("another attempt").0;
        } else {
            assert!(connect(&out).is_none());
            assert!(sent_to(&out, c).starts_with("HTTP/1.1 502 Bad Gateway\r\n"));
        }
    }
    // A request that reached the backend is not sent again.
    let out = h.recv(c, REQ);
    let up = connect(&out).unwrap().0;
    h.input(Input::Connected { conn: up });
    let out = h.input(Input::Eof { conn: up });
    assert!(connect(&out).is_none());
    assert!(sent_to(&out, c).starts_with("HTTP/1.1 502 Bad Gateway\r\n"));
}

#[test]
fn retry_waits_its_back_off_between_attempts() {
    let mut h = retry_harness("{attempts: 2, initialInterval: 100ms}");
    let c = h.accept();
    let out = h.recv(c, REQ);
    let up = connect(&out).unwrap().0;
    let out = h.input(Input::ConnectFailed {
        conn: up,
        error: ConnectError::Failed("refused".into()),
    });
    assert!(connect(&out).is_none());
    // Between 50 and 150 ms (the interval ± 50 %).
    let at = h.w.poll_timeout().unwrap();
    assert!((t(50)..=t(151)).contains(&at), "{at:?}");
    h.now = at;
    h.w.handle_timeout(at);
    let out: Vec<Output> = std::iter::from_fn(|| h.w.poll_output()).collect();
    assert!(connect(&out).is_some());
}

#[test]
fn retry_on_status_codes_sends_the_kept_body_again() {
    let mut h = retry_harness("{attempts: 2, status: ['500-503']}");
    let (c, up, sent) =
        h.dialled("PUT / HTTP/1.1\r\nHost: app.example\r\nContent-Length: 4\r\n\r\nbody");
    assert!(sent.ends_with("\r\n\r\nbody"));
    // A retried status: not relayed; the request goes to the other server with its body.
    let out = h.recv(
        up,
        "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 4\r\n\r\nnope",
    );
    assert_eq!(sent_to(&out, c), "");
    assert!(closed(&out, up));
    let (second, ..) = connect(&out).expect("a second attempt");
    let out = h.input(Input::Connected { conn: second });
    assert!(sent_to(&out, second).starts_with("PUT / HTTP/1.1\r\n"));
    assert!(sent_to(&out, second).ends_with("\r\n\r\nbody"));
    // The last attempt's answer goes to the client, whatever its status.
    let out = h.recv(
        second,
        "HTTP/1.1 502 Bad Gateway\r\nContent-Length: 3\r\n\r\nbad",
    );
    assert!(sent_to(&out, c).starts_with("HTTP/1.1 502 Bad Gateway\r\n"));
    // POST is not retried on status codes (Traefik: not idempotent).
    let out = h.recv(
        c,
        "POST / HTTP/1.1\r\nHost: app.example\r\nContent-Length: 4\r\n\r\nbody",
    );
    let up = match connect(&out) {
        Some((up, ..)) => {
            h.input(Input::Connected { conn: up });
            up
        }
        None => second,
    };
    let out = h.recv(
        up,
        "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 4\r\n\r\nnope",
    );
    assert!(sent_to(&out, c).starts_with("HTTP/1.1 503 Service Unavailable\r\n"));
}

#[test]
fn retry_on_status_codes_gives_up_on_bodies_larger_than_kept() {
    let mut h = retry_harness("{attempts: 2, status: ['503'], maxRequestBodyBytes: 3}");
    let (c, up, _) =
        h.dialled("PUT / HTTP/1.1\r\nHost: app.example\r\nContent-Length: 4\r\n\r\nbody");
    let out = h.recv(
        up,
        "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 4\r\n\r\nnope",
    );
    assert!(connect(&out).is_none());
    assert!(sent_to(&out, c).starts_with("HTTP/1.1 503 Service Unavailable\r\n"));
    assert!(sent_to(&out, c).ends_with("nope"));
}

#[test]
fn retry_stops_after_its_timeout_and_without_network_retries() {
    // `timeout`: a failure past it since the first attempt is answered, not retried.
    let mut h = retry_harness("{attempts: 5, timeout: 100ms}");
    let c = h.accept();
    let out = h.recv(c, REQ);
    let up = connect(&out).unwrap().0;
    let out = h.input(Input::ConnectFailed {
        conn: up,
        error: ConnectError::Failed("refused".into()),
    });
    let up = connect(&out).expect("retried within the timeout").0;
    h.now = t(150);
    let out = h.input(Input::ConnectFailed {
        conn: up,
        error: ConnectError::Failed("refused".into()),
    });
    assert!(connect(&out).is_none());
    assert!(sent_to(&out, c).starts_with("HTTP/1.1 502 Bad Gateway\r\n"));
    // `disableRetryOnNetworkError` with status codes: a dial failure is answered at once.
    let mut h = retry_harness("{attempts: 3, status: ['503'], disableRetryOnNetworkError: true}");
    let c = h.accept();
    let out = h.recv(c, REQ);
    let up = connect(&out).unwrap().0;
    let out = h.input(Input::ConnectFailed {
        conn: up,
        error: ConnectError::Failed("refused".into()),
    });
    assert!(connect(&out).is_none());
    assert!(sent_to(&out, c).starts_with("HTTP/1.1 502 Bad Gateway\r\n"));
}

/// A worker whose router `app.example` has `contentType`, a client that asked `GET /x` and
/// the backend it reached: (harness, client, backend).
fn content_type_exchange() -> (Harness, ConnId, ConnId) {
    let dynamic = r#"
http:
  routers:
    app:
      rule: "Host(`app.example`)"
      service: app
      middlewares: [ct]
  middlewares:
    ct:
      contentType: {}
  services:
    app:
      loadBalancer:
        servers: [{url: "http://backend:9000"}]
"#;
    let mut h = Harness::with(worker_from(STATIC, dynamic));
    let c = h.accept();
    let out = h.recv(c, "GET /x HTTP/1.1\r\nHost: app.example\r\n\r\n");
    let (up, ..) = connect(&out).unwrap();
    h.input(Input::Connected { conn: up });
    (h, c, up)
}

#[test]
fn content_type_waits_for_a_body_that_comes_soon() {
    let (mut h, c, up) = content_type_exchange();
    let out = h.recv(up, "HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\n");
    assert_eq!(sent_to(&out, c), "", "the head waits for its body");
    let out = h.recv(up, "<html>");
    let resp = sent_to(&out, c);
    assert!(
        resp.contains("Content-Type: text/html; charset=utf-8\r\n"),
        "{resp}"
    );
    // A body that does not come within 100 ms: the head goes without a type.
    let out = h.recv(c, "GET /y HTTP/1.1\r\nHost: app.example\r\n\r\n");
    assert!(connect(&out).is_none(), "the connection is reused");
    let out = h.recv(up, "HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\n");
    assert_eq!(sent_to(&out, c), "");
    h.now = t(200);
    h.w.handle_timeout(h.now);
    let out: Vec<Output> = std::iter::from_fn(|| h.w.poll_output()).collect();
    let resp = sent_to(&out, c);
    assert!(
        resp.starts_with("HTTP/1.1 200 OK\r\n") && !resp.contains("Content-Type"),
        "{resp}"
    );
}

#[test]
fn content_type_sends_a_held_head_when_the_backend_closes() {
    let (mut h, c, up) = content_type_exchange();
    let out = h.recv(up, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n<htm");
    assert_eq!(sent_to(&out, c), "", "the head waits for its body");
    // The backend ends before its body: the head goes with what came, then the client's
    // connection is cut (a truncated answer), not a 502 or a retry.
    let out = h.input(Input::Eof { conn: up });
    let resp = sent_to(&out, c);
    assert!(resp.starts_with("HTTP/1.1 200 OK\r\n"), "{resp}");
    assert!(resp.ends_with("\r\n\r\n<htm"), "{resp}");
    assert!(
        out.iter()
            .any(|o| matches!(o, Output::Close { conn } if *conn == c)),
        "{out:?}"
    );
}
