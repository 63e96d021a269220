//! The worker serving HTTP/2 (h2c with prior knowledge), driven by an in-memory `h2` client:
//! concurrent streams, request and response bodies, resets, and the HTTP/1.1 upstream side.

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};

use bytes::{Buf, Bytes, BytesMut};
use trafficcop_core::config::dynamic::load_dynamic;
use trafficcop_core::config::static_config::load_static;
use trafficcop_core::config::Format;
use trafficcop_core::proxy::{compile, ConnId, Input, Output, Timestamp, Worker};

/// The client's end of an in-memory connection.
#[derive(Clone, Default)]
struct ClientIo(Arc<Mutex<(BytesMut, Vec<u8>)>>);

impl tokio::io::AsyncRead for ClientIo {
    fn poll_read(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let mut g = self.0.lock().unwrap();
        if g.0.is_empty() {
            return Poll::Pending;
        }
        let n = g.0.len().min(buf.remaining());
        buf.put_slice(&g.0[..n]);
        g.0.advance(n);
        Poll::Ready(Ok(()))
    }
}

impl tokio::io::AsyncWrite for ClientIo {
    fn poll_write(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        d: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        self.0.lock().unwrap().1.extend_from_slice(d);
        Poll::Ready(Ok(d.len()))
    }
    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

fn poll<F: Future + Unpin>(f: &mut F) -> Poll<F::Output> {
    Pin::new(f).poll(&mut Context::from_waker(Waker::noop()))
}

/// A backend that answers every request with `size` bytes (path `/size/<n>`), echoing the
/// request body length otherwise; one HTTP/1.1 request per connection.
#[derive(Default)]
struct Backends {
    conns: Vec<(ConnId, Vec<u8>, bool)>,
}

struct Rig {
    w: Worker,
    conn: ConnId,
    io: ClientIo,
    client: h2::client::Connection<ClientIo, Bytes>,
    send: h2::client::SendRequest<Bytes>,
    backends: Backends,
    now: u64,
    closed: bool,
}

/// A worker routing every request to one HTTP/1.1 backend.
fn worker() -> Worker {
    let st = load_static(
        "entryPoints: {web: {address: ':8000'}}\n",
        Format::Yaml,
        None,
    );
    let dy = load_dynamic(
        "http:\n  routers:\n    r: {rule: \"PathPrefix(`/`)\", service: s}\n  services:\n    s: {loadBalancer: {servers: [{url: \"http://backend:9000\"}]}}\n",
        Format::Yaml,
        None,
    );
    let cfg = compile(&st.config, &dy.config, 1);
    assert!(cfg.errors.is_empty(), "{:?}", cfg.errors);
    Worker::new(cfg, "proxy-host")
}

impl Rig {
    fn new() -> Rig {
        let mut w = worker();
        let conn = w.accept(Timestamp(0), 0, "10.0.0.1:1000".parse().unwrap());
        let io = ClientIo::default();
        let mut hs = Box::pin(
            h2::client::Builder::new()
                .initial_window_size(1 << 20)
                .initial_connection_window_size(16 << 20)
                .handshake::<_, Bytes>(io.clone()),
        );
        let mut rig_io = io.clone();
        let _ = &mut rig_io;
        // The client handshake completes without the server's SETTINGS.
        let (send, client) = match poll(&mut hs) {
            Poll::Ready(Ok(x)) => x,
            _ => panic!("client handshake"),
        };
        let mut rig = Rig {
            w,
            conn,
            io,
            client,
            send,
            backends: Backends::default(),
            now: 1,
            closed: false,
        };
        rig.pump();
        rig
    }

    /// Moves bytes between the client, the worker and the backends until nothing moves.
    fn pump(&mut self) {
        for _ in 0..10_000 {
            let mut moved = false;
            let _ = poll(&mut self.client);
            let out = std::mem::take(&mut self.io.0.lock().unwrap().1);
            if !out.is_empty() && !self.closed {
                moved = true;
                self.now += 1;
                self.w.handle_input(
                    Timestamp(self.now),
                    Input::Received {
                        conn: self.conn,
                        data: Bytes::from(out),
                    },
                );
            }
            while let Some(o) = self.w.poll_output() {
                moved = true;
                match o {
                    Output::Send { conn, data } if conn == self.conn => {
                        self.io.0.lock().unwrap().0.extend_from_slice(&data);
                        self.w
                            .handle_input(Timestamp(self.now), Input::Writable { conn });
                    }
                    Output::Close { conn } if conn == self.conn => self.closed = true,
                    Output::Connect { conn, .. } => {
                        self.backends.conns.push((conn, Vec::new(), false));
                        self.w
                            .handle_input(Timestamp(self.now), Input::Connected { conn });
                    }
                    Output::Send { conn, data } => {
                        self.w
                            .handle_input(Timestamp(self.now), Input::Writable { conn });
                        if let Some(b) = self.backends.conns.iter_mut().find(|b| b.0 == conn) {
                            b.1.extend_from_slice(&data);
                        }
                    }
                    _ => {}
                }
            }
            // Backends answer complete requests.
            let mut replies = Vec::new();
            for b in self.backends.conns.iter_mut().filter(|b| !b.2) {
                let text = String::from_utf8_lossy(&b.1).into_owned();
                let Some(end) = text.find("\r\n\r\n") else {
                    continue;
                };
                let head = &text[..end];
                let body = &b.1[end + 4..];
                let complete = if let Some(cl) = head
                    .lines()
                    .find_map(|l| l.strip_prefix("Content-Length: "))
                {
                    body.len() >= cl.trim().parse::<usize>().unwrap()
                } else if head.contains("Transfer-Encoding: chunked") {
                    body.ends_with(b"0\r\n\r\n")
                } else {
                    true
                };
                if !complete {
                    continue;
                }
                b.2 = true;
                let path = head.split_whitespace().nth(1).unwrap_or("/").to_string();
                let size: usize = path
                    .strip_prefix("/size/")
                    .and_then(|s| s.parse().ok())
                    .unwrap_or(0);
                let reply = if path == "/broken-body" {
                    // A head and a body that breaks (not a chunk size), read in one turn.
                    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-Backend: yes\r\n\r\nzz\r\n"
                        .to_vec()
                } else if path == "/early" {
                    b"HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok".to_vec()
                } else if path == "/bytewise-trailers" {
                    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n4\r\ndefg\r\n0\r\ngrpc-status: 0\r\nx-t: v\r\n\r\n".to_vec()
                } else if size > 0 {
                    let mut r =
                        format!("HTTP/1.1 200 OK\r\nContent-Length: {size}\r\n\r\n").into_bytes();
                    r.extend(std::iter::repeat_n(b'x', size));
                    r
                } else {
                    let msg = format!("{} {}", path, body.len());
                    format!(
                        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nX-Backend: yes\r\n\r\n{msg}",
                        msg.len()
                    )
                    .into_bytes()
                };
                replies.push((b.0, reply));
            }
            for (c, r) in replies {
                moved = true;
                // Chunked replies arrive one byte at a time (every split of the framing).
                let step = if r.starts_with(b"HTTP/1.1 200 OK\r\nTransfer-Encoding") {
                    1
                } else {
                    r.len()
                };
                for piece in r.chunks(step) {
                    self.w.handle_input(
                        Timestamp(self.now),
                        Input::Received {
                            conn: c,
                            data: Bytes::copy_from_slice(piece),
                        },
                    );
                }
            }
            // As an adapter does at the end of its turn: what the core made due now (the
            // HTTP/2 responses the backends' bytes completed) is done.
            moved |= self.w.handle_due(Timestamp(self.now));
            if !moved {
                break;
            }
        }
    }

    fn request(&mut self, path: &str, body: Option<&[u8]>) -> h2::client::ResponseFuture {
        let mut b = http::Request::builder()
            .method(if body.is_some() { "POST" } else { "GET" })
            .uri(format!("http://app.example{path}"));
        if let Some(body) = body {
            b = b.header("content-length", body.len());
        }
        let (resp, mut stream) = self
            .send
            .send_request(b.body(()).unwrap(), body.is_none())
            .unwrap();
        if let Some(body) = body {
            stream
                .send_data(Bytes::copy_from_slice(body), true)
                .unwrap();
        }
        resp
    }
}

/// Reads a whole response body.
fn read_body(rig: &mut Rig, mut body: h2::RecvStream) -> Vec<u8> {
    let mut out = Vec::new();
    for _ in 0..10_000 {
        match poll(&mut Box::pin(std::future::poll_fn(|cx| body.poll_data(cx)))) {
            Poll::Ready(Some(Ok(d))) => {
                let _ = body.flow_control().release_capacity(d.len());
                out.extend_from_slice(&d);
            }
            Poll::Ready(None) => return out,
            Poll::Ready(Some(Err(e))) => panic!("body error: {e}"),
            Poll::Pending => rig.pump(),
        }
    }
    panic!("body never ended ({} bytes)", out.len());
}

fn response(rig: &mut Rig, mut f: h2::client::ResponseFuture) -> http::Response<h2::RecvStream> {
    for _ in 0..1000 {
        rig.pump();
        if let Poll::Ready(r) = poll(&mut f) {
            return r.expect("response");
        }
    }
    panic!("no response");
}

#[test]
fn one_request() {
    let mut rig = Rig::new();
    let f = rig.request("/hello", None);
    let r = response(&mut rig, f);
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["x-backend"], "yes");
    let body = read_body(&mut rig, r.into_body());
    assert_eq!(body, b"/hello 0");
    let head = String::from_utf8_lossy(&rig.backends.conns[0].1).into_owned();
    assert!(
        head.starts_with("GET /hello HTTP/1.1\r\nHost: app.example\r\n"),
        "{head}"
    );
}

/// A stream's request carries no `Connection` field, as Go's HTTP/2 requests do not: a field
/// the client named `close` is not taken for a connection option and reaches the backend (as
/// Traefik 3.7 sends it), on the direct path and on the HTTP/1.1-bytes path (a value with a
/// trailing space takes that one). Each stream ends its own virtual connection only.
#[test]
fn a_field_named_close_reaches_the_backend() {
    let mut rig = Rig::new();
    let pending: Vec<_> = ["plain", "trailing space "]
        .into_iter()
        .enumerate()
        .map(|(i, extra)| {
            let req = http::Request::builder()
                .uri(format!("http://app.example/c{i}"))
                .header("close", "x")
                .header("x-extra", extra)
                .body(())
                .unwrap();
            rig.send.send_request(req, true).unwrap().0
        })
        .collect();
    for (i, f) in pending.into_iter().enumerate() {
        let r = response(&mut rig, f);
        assert_eq!(r.status(), 200);
        assert_eq!(
            read_body(&mut rig, r.into_body()),
            format!("/c{i} 0").as_bytes()
        );
    }
    assert_eq!(rig.backends.conns.len(), 2);
    for (_, seen, _) in &rig.backends.conns {
        let head = String::from_utf8_lossy(seen);
        assert!(head.contains("\r\nClose: x\r\n"), "{head}");
        assert!(!head.to_ascii_lowercase().contains("connection:"), "{head}");
    }
    assert!(!rig.closed);
}

/// A response whose body breaks in the same read as its head: the client gets the head, then
/// the stream is reset with `INTERNAL_ERROR` (Traefik 3.7.15 sends HEADERS before it resets, as
/// Go's server flushes the head before the handler aborts), and the connection serves on.
#[test]
fn a_body_that_breaks_after_its_head_resets_the_stream_after_the_head() {
    let mut rig = Rig::new();
    let f = rig.request("/broken-body", None);
    let r = response(&mut rig, f);
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["x-backend"], "yes");
    let mut body = r.into_body();
    let mut outcome = None;
    for _ in 0..1000 {
        match poll(&mut Box::pin(std::future::poll_fn(|cx| body.poll_data(cx)))) {
            Poll::Ready(Some(Ok(_))) => {}
            Poll::Ready(Some(Err(e))) => {
                outcome = Some(e.reason());
                break;
            }
            Poll::Ready(None) => panic!("the broken body ended cleanly"),
            Poll::Pending => rig.pump(),
        }
    }
    assert_eq!(outcome, Some(Some(h2::Reason::INTERNAL_ERROR)));
    assert!(!rig.closed);
    let f = rig.request("/after", None);
    let r = response(&mut rig, f);
    assert_eq!(read_body(&mut rig, r.into_body()), b"/after 0");
}

/// A request the HTTP/1.1 parser refuses (a bad `%` escape in `:path`) resets its stream
/// with `PROTOCOL_ERROR`, as Go's HTTP/2 server does, and the connection serves on.
#[test]
fn a_malformed_path_resets_the_stream() {
    let mut rig = Rig::new();
    let f = rig.request("/a%zzb", None);
    let mut f = Box::pin(f);
    let mut outcome = None;
    for _ in 0..1000 {
        rig.pump();
        if let Poll::Ready(r) = poll(&mut f) {
            outcome = Some(r.map(|r| r.status()).map_err(|e| e.reason()));
            break;
        }
    }
    assert_eq!(outcome, Some(Err(Some(h2::Reason::PROTOCOL_ERROR))));
    assert!(rig.backends.conns.is_empty() && !rig.closed);
    let f = rig.request("/fine", None);
    let r = response(&mut rig, f);
    assert_eq!(read_body(&mut rig, r.into_body()), b"/fine 0");
}

#[test]
fn chunked_response_in_any_split_keeps_body_and_trailers() {
    let mut rig = Rig::new();
    let f = rig.request("/bytewise-trailers", None);
    let r = response(&mut rig, f);
    assert_eq!(r.status(), 200);
    let mut body = r.into_body();
    let mut data = Vec::new();
    for _ in 0..10_000 {
        match poll(&mut Box::pin(std::future::poll_fn(|cx| body.poll_data(cx)))) {
            Poll::Ready(Some(Ok(d))) => data.extend_from_slice(&d),
            Poll::Ready(None) => break,
            Poll::Ready(Some(Err(e))) => panic!("{e}"),
            Poll::Pending => rig.pump(),
        }
    }
    assert_eq!(data, b"abcdefg");
    let trailers = match poll(&mut Box::pin(std::future::poll_fn(|cx| {
        body.poll_trailers(cx)
    }))) {
        Poll::Ready(Ok(Some(t))) => t,
        other => panic!("no trailers: {other:?}"),
    };
    assert_eq!(trailers["grpc-status"], "0");
    assert_eq!(trailers["x-t"], "v");
}

#[test]
fn early_hints_are_relayed_before_the_response() {
    let mut rig = Rig::new();
    let mut f = rig.request("/early", None);
    let mut hints = None;
    for _ in 0..1000 {
        rig.pump();
        match poll(&mut Box::pin(std::future::poll_fn(|cx| {
            f.poll_informational(cx)
        }))) {
            Poll::Ready(Some(Ok(r))) => {
                hints = Some(r);
                break;
            }
            Poll::Ready(other) => panic!("no interim response: {other:?}"),
            Poll::Pending => {}
        }
    }
    let hints = hints.expect("103 received");
    assert_eq!(hints.status(), 103);
    assert_eq!(hints.headers()["link"], "</a.css>; rel=preload");
    let r = response(&mut rig, f);
    assert_eq!(r.status(), 200);
    assert_eq!(read_body(&mut rig, r.into_body()), b"ok");
}

#[test]
fn concurrent_streams_with_bodies() {
    let mut rig = Rig::new();
    let mut pending = VecDeque::new();
    for i in 0..40 {
        let body = vec![b'a'; i * 1000];
        pending.push_back((i, rig.request(&format!("/p{i}"), Some(&body))));
    }
    let mut big = Vec::new();
    for _ in 0..5 {
        big.push(rig.request("/size/300000", None));
    }
    for (i, f) in pending {
        let r = response(&mut rig, f);
        assert_eq!(r.status(), 200);
        let body = read_body(&mut rig, r.into_body());
        assert_eq!(
            String::from_utf8(body).unwrap(),
            format!("/p{i} {}", i * 1000)
        );
    }
    for f in big {
        let r = response(&mut rig, f);
        assert_eq!(read_body(&mut rig, r.into_body()).len(), 300_000);
    }
    rig.pump();
    assert_eq!(
        rig.w.connection_counts().0,
        1,
        "only the client connection is left"
    );
}

#[test]
fn h2c_preface_in_pieces_and_lookalikes() {
    let rig = Rig::new();
    let mut w = rig.w;
    // The preface one byte at a time: the server's SETTINGS come once it is complete.
    let c = w.accept(Timestamp(0), 0, "10.0.0.2:1000".parse().unwrap());
    let mut sent = Vec::new();
    for b in trafficcop_core::h2::PREFACE {
        w.handle_input(
            Timestamp(1),
            Input::Received {
                conn: c,
                data: Bytes::copy_from_slice(&[*b]),
            },
        );
        while let Some(o) = w.poll_output() {
            if let Output::Send { data, .. } = o {
                sent.extend_from_slice(&data);
            }
        }
    }
    w.handle_input(
        Timestamp(1),
        Input::Received {
            conn: c,
            data: Bytes::from_static(&[0, 0, 0, 4, 0, 0, 0, 0, 0]),
        },
    );
    while let Some(o) = w.poll_output() {
        if let Output::Send { data, .. } = o {
            sent.extend_from_slice(&data);
        }
    }
    assert!(
        sent.len() >= 9 && sent[3] == 4,
        "a SETTINGS frame first: {sent:?}"
    );
    // A request that only starts like the preface is HTTP/1.1.
    let c = w.accept(Timestamp(0), 0, "10.0.0.3:1000".parse().unwrap());
    w.handle_input(
        Timestamp(2),
        Input::Received {
            conn: c,
            data: Bytes::from_static(b"PRI"),
        },
    );
    w.handle_input(
        Timestamp(2),
        Input::Received {
            conn: c,
            data: Bytes::from_static(b"NT / HTTP/1.1\r\nHost: x\r\n\r\n"),
        },
    );
    let out: Vec<u8> = std::iter::from_fn(|| w.poll_output())
        .filter_map(|o| match o {
            Output::Connect { .. } => Some(b"CONNECT".to_vec()),
            Output::Send { data, .. } => Some(data.to_vec()),
            _ => None,
        })
        .flatten()
        .collect();
    assert!(
        out.starts_with(b"CONNECT"),
        "routed as an HTTP/1.1 request: {}",
        String::from_utf8_lossy(&out)
    );
}

/// HTTP/2 responses completed by several backends in one adapter turn leave together: the
/// backends' bytes queue them, `poll_timeout` makes the encoding due at once, and the
/// adapter's end-of-turn `handle_timeout` sends them to the client in one write.
mod per_turn_encoding {
    use super::*;
    use trafficcop_core::h2::{H2Client, H2Event};

    const RESPONSE: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";

    /// Carries out the worker's outputs: dials succeed, bytes to the client are collected, upstream
    /// connections that were sent a request are listed.
    fn drain(
        w: &mut Worker,
        client: ConnId,
        to_client: &mut Vec<Vec<u8>>,
        asked: &mut Vec<ConnId>,
    ) {
        let mut inputs = Vec::new();
        while let Some(o) = w.poll_output() {
            match o {
                Output::Connect { conn, .. } => inputs.push(Input::Connected { conn }),
                Output::Send { conn, data } if conn == client => to_client.push(data.to_vec()),
                Output::Send { conn, .. } => {
                    asked.push(conn);
                    inputs.push(Input::Writable { conn });
                }
                _ => {}
            }
        }
        for i in inputs {
            w.handle_input(Timestamp(1), i);
            drain(w, client, to_client, asked);
        }
    }

    /// A worker with one HTTP/2 client that opened `n` streams, each proxied to its own backend
    /// connection (dialled and sent its request); the client has read the worker's SETTINGS.
    fn with_streams(n: usize) -> (Worker, ConnId, H2Client, Vec<ConnId>) {
        let mut w = worker();
        let t = Timestamp(1);
        let client = w.accept(t, 0, "10.0.0.1:1000".parse().unwrap());
        let mut h2 = H2Client::new();
        for i in 0..n {
            let req = http::Request::builder()
                .uri(format!("http://example.com/{i}"))
                .body(())
                .unwrap();
            h2.open(req, true);
        }
        h2.poll(&mut Vec::new());
        let (mut to_client, mut asked) = (Vec::new(), Vec::new());
        w.handle_input(
            t,
            Input::Received {
                conn: client,
                data: Bytes::from(h2.take_output()),
            },
        );
        drain(&mut w, client, &mut to_client, &mut asked);
        assert_eq!(asked.len(), n, "one backend request per stream");
        h2.receive(&to_client.concat());
        (w, client, h2, asked)
    }

    #[test]
    fn responses_of_one_turn_reach_the_client_in_one_write() {
        let (mut w, client, mut h2, asked) = with_streams(3);
        let t = Timestamp(1);
        let mut events = Vec::new();
        let mut to_client = Vec::new();
        // Every backend answers, one input each, as in one adapter turn.
        for &up in &asked {
            w.handle_input(
                t,
                Input::Received {
                    conn: up,
                    data: Bytes::from_static(RESPONSE),
                },
            );
            drain(&mut w, client, &mut to_client, &mut Vec::new());
        }
        assert!(
            to_client.is_empty(),
            "nothing is encoded before the turn ends"
        );
        assert_eq!(w.poll_timeout(), Some(t), "the encoding is due at once");
        // The adapter's end of turn.
        assert!(w.handle_due(t));
        drain(&mut w, client, &mut to_client, &mut Vec::new());
        assert_eq!(to_client.len(), 1, "the three responses leave in one write");
        assert_ne!(w.poll_timeout(), Some(t), "nothing stays due");
        h2.receive(&to_client[0]);
        h2.poll(&mut events);
        let heads = events
            .iter()
            .filter(|e| matches!(e, H2Event::Response { head, .. } if head.status == 200))
            .count();
        let ends = events
            .iter()
            .filter(
                |e| matches!(e, H2Event::Data { data, end_stream: true, .. } if &data[..] == b"ok"),
            )
            .count();
        assert_eq!((heads, ends), (3, 3), "{events:?}");
    }

    #[test]
    fn client_input_takes_the_waiting_responses_with_it() {
        let (mut w, client, mut h2, asked) = with_streams(1);
        let t = Timestamp(1);
        let mut to_client = Vec::new();
        w.handle_input(
            t,
            Input::Received {
                conn: asked[0],
                data: Bytes::from_static(RESPONSE),
            },
        );
        drain(&mut w, client, &mut to_client, &mut Vec::new());
        assert!(to_client.is_empty());
        // The client writes (a PING): its input is handled at once, the response goes with it.
        h2.poll(&mut Vec::new());
        let ping = b"\x00\x00\x08\x06\x00\x00\x00\x00\x0012345678";
        w.handle_input(
            t,
            Input::Received {
                conn: client,
                data: Bytes::from_static(ping),
            },
        );
        drain(&mut w, client, &mut to_client, &mut Vec::new());
        assert_eq!(to_client.len(), 1);
        assert_ne!(w.poll_timeout(), Some(t));
        let mut events = Vec::new();
        h2.receive(&to_client[0]);
        h2.poll(&mut events);
        assert!(
            events.iter().any(|e| matches!(
                e,
                H2Event::Data {
                    end_stream: true,
                    ..
                }
            )),
            "{events:?}"
        );
    }
}
