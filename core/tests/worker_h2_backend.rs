//! The worker proxying to `h2c://` backends, driven by hand: HTTP/1.1 clients over one
//! multiplexed HTTP/2 connection to an in-memory HTTP/2 origin (the core's own `H2Server`),
//! bodies and trailers (gRPC-style), resets, dial failures and idle sessions.

use std::collections::BTreeMap;

use bytes::Bytes;
use trafficcop_core::config::dynamic::load_dynamic;
use trafficcop_core::config::static_config::load_static;
use trafficcop_core::config::Format;
use trafficcop_core::h2::{H2Event, H2Server, H2Settings, StreamKey};
use trafficcop_core::proxy::{compile, ConnId, ConnectError, Input, Output, Timestamp, Worker};

const DYNAMIC: &str = r#"
http:
  routers:
    grpc:
      rule: "PathPrefix(`/`)"
      service: grpc
  services:
    grpc:
      loadBalancer:
        servers: [{url: "h2c://origin:50051"}]
"#;

struct Rig {
    w: Worker,
    now: u64,
    /// The backend connection the worker dialled and the origin behind it.
    origin: Option<(ConnId, H2Server)>,
    /// What each client connection received.
    received: BTreeMap<ConnId, String>,
    closed: Vec<ConnId>,
    /// Requests the origin saw: stream, head, body so far, ended.
    requests: Vec<(StreamKey, http::request::Parts, Vec<u8>, bool)>,
    resets: Vec<StreamKey>,
}

impl Rig {
    fn new() -> Rig {
        let st = load_static(
            "entryPoints: {web: {address: ':8000'}}\n",
            Format::Yaml,
            None,
        );
        let dy = load_dynamic(DYNAMIC, Format::Yaml, None);
        assert!(!dy.is_fatal(), "{:?}", dy.diagnostics);
        let cfg = compile(&st.config, &dy.config, 1);
        assert!(cfg.errors.is_empty(), "{:?}", cfg.errors);
        Rig {
            w: Worker::new(cfg, "proxy"),
            now: 0,
            origin: None,
            received: BTreeMap::new(),
            closed: Vec::new(),
            requests: Vec::new(),
            resets: Vec::new(),
        }
    }

    fn t(&self) -> Timestamp {
        Timestamp(self.now * 1_000_000)
    }

    fn accept(&mut self) -> ConnId {
        let now = self.t();
        self.w.accept(now, 0, "10.0.0.1:4000".parse().unwrap())
    }

    fn input(&mut self, i: Input) {
        let now = self.t();
        self.w.handle_input(now, i);
        self.drain();
    }

    fn send(&mut self, conn: ConnId, data: &str) {
        self.input(Input::Received {
            conn,
            data: Bytes::copy_from_slice(data.as_bytes()),
        });
    }

    /// Handles the worker's outputs: connects are answered (connected) unless `refuse`,
    /// backend bytes go to the origin, client bytes are recorded; repeats until quiet.
    fn drain(&mut self) {
        loop {
            let mut inputs = Vec::new();
            while let Some(o) = self.w.poll_output() {
                match o {
                    Output::Connect { conn, host, port } => {
                        assert_eq!((host.as_str(), port), ("origin", 50051));
                        assert!(self.origin.is_none(), "one connection carries every stream");
                        self.origin = Some((conn, H2Server::new(H2Settings::default())));
                        inputs.push(Input::Connected { conn });
                    }
                    Output::Send { conn, data } => match &mut self.origin {
                        Some((o, server)) if *o == conn => server.receive(&data),
                        _ => self
                            .received
                            .entry(conn)
                            .or_default()
                            .push_str(&String::from_utf8_lossy(&data)),
                    },
                    Output::Close { conn } => {
                        if self.origin.as_ref().is_some_and(|(o, _)| *o == conn) {
                            self.origin = None;
                        }
                        self.closed.push(conn);
                    }
                    _ => {}
                }
            }
            if let Some((conn, server)) = &mut self.origin {
                let mut events = Vec::new();
                server.poll(&mut events);
                let out = server.take_output();
                if !out.is_empty() {
                    inputs.push(Input::Received {
                        conn: *conn,
                        data: Bytes::from(out),
                    });
                }
                for e in events {
                    match e {
                        H2Event::Request {
                            stream,
                            head,
                            end_stream,
                        } => self.requests.push((stream, head, Vec::new(), end_stream)),
                        H2Event::Data {
                            stream,
                            data,
                            end_stream,
                        } => {
                            let r = self.requests.iter_mut().find(|r| r.0 == stream).unwrap();
                            r.2.extend_from_slice(&data);
                            r.3 |= end_stream;
                        }
                        H2Event::Reset { stream } => self.resets.push(stream),
                        _ => {}
                    }
                }
            }
            if inputs.is_empty() {
                // As an adapter does at the end of its turn: work the core made due now
                // (what the backend's frames bring to the clients) is done.
                let now = self.t();
                if self.w.handle_due(now) {
                    continue;
                }
                return;
            }
            for i in inputs {
                let now = self.t();
                self.w.handle_input(now, i);
            }
        }
    }

    /// The origin answers stream `k` with a body and `grpc-status` trailers.
    fn answer(&mut self, k: StreamKey, body: &[u8], status: &str) {
        let (_, server) = self.origin.as_mut().unwrap();
        let head = http::Response::builder()
            .status(200)
            .header("content-type", "application/grpc")
            .body(())
            .unwrap();
        server.respond(k, head, false);
        server.send_data(k, Bytes::copy_from_slice(body), false);
        let mut t = http::HeaderMap::new();
        t.insert("grpc-status", status.parse().unwrap());
        server.send_trailers(k, t);
        server.close_stream(k, false);
        self.drain();
    }
}

const GRPC_CALL: &str = "POST /echo.Echo/Say HTTP/1.1\r\nHost: api.example\r\nContent-Type: application/grpc\r\nTe: trailers\r\nTransfer-Encoding: chunked\r\n\r\n7\r\n\0\0\0\0\x02hi\r\n0\r\n\r\n";

#[test]
fn requests_share_one_http2_connection_and_trailers_come_back() {
    let mut rig = Rig::new();
    let a = rig.accept();
    let b = rig.accept();
    rig.send(a, GRPC_CALL);
    rig.send(b, GRPC_CALL);
    assert_eq!(
        rig.requests.len(),
        2,
        "both calls on the one backend connection"
    );
    for (_, head, body, ended) in &rig.requests {
        assert_eq!(head.method, "POST");
        assert_eq!(head.uri.path(), "/echo.Echo/Say");
        assert_eq!(head.uri.authority().unwrap().as_str(), "api.example");
        assert_eq!(head.headers["te"], "trailers");
        assert_eq!(head.headers["x-forwarded-for"], "10.0.0.1");
        assert!(!head.headers.contains_key("transfer-encoding"));
        assert_eq!(body, b"\0\0\0\0\x02hi");
        assert!(ended);
    }
    let (k1, k2) = (rig.requests[0].0, rig.requests[1].0);
    rig.answer(k2, b"\0\0\0\0\x02yo", "0");
    rig.answer(k1, b"\0\0\0\0\x02ho", "13");
    let ra = &rig.received[&a];
    assert!(
        ra.starts_with("HTTP/1.1 200 OK\r\nContent-Type: application/grpc\r\n"),
        "{ra}"
    );
    assert!(
        ra.ends_with("\r\n\r\n7\r\n\0\0\0\0\x02ho\r\n0\r\nGrpc-Status: 13\r\n\r\n"),
        "{ra:?}"
    );
    assert!(rig.received[&b].ends_with("0\r\nGrpc-Status: 0\r\n\r\n"));
    // Another request reuses the session.
    rig.send(a, "GET /again HTTP/1.1\r\nHost: api.example\r\n\r\n");
    assert_eq!(rig.requests.len(), 3);
    let (k3, head3) = (rig.requests[2].0, rig.requests[2].1.clone());
    assert!(
        rig.requests[2].3,
        "no body: the HEADERS frame ends the stream"
    );
    assert_eq!(head3.uri.path(), "/again");
    let (_, server) = rig.origin.as_mut().unwrap();
    let head = http::Response::builder()
        .status(404)
        .header("content-length", "3")
        .body(())
        .unwrap();
    server.respond(k3, head, false);
    server.send_data(k3, Bytes::from_static(b"nop"), true);
    server.close_stream(k3, false);
    rig.drain();
    // A length from the backend is kept (no chunking).
    let ra = &rig.received[&a];
    assert!(
        ra.contains("HTTP/1.1 404 Not Found\r\nContent-Length: 3\r\n")
            && ra.ends_with("\r\n\r\nnop"),
        "{ra:?}"
    );
    assert!(rig.closed.is_empty(), "{:?}", rig.closed);
}

#[test]
fn interim_responses_from_the_backend_are_relayed() {
    let mut rig = Rig::new();
    let a = rig.accept();
    rig.send(a, "GET /hints HTTP/1.1\r\nHost: h\r\n\r\n");
    let k = rig.requests[0].0;
    let (_, server) = rig.origin.as_mut().unwrap();
    let hints = http::Response::builder()
        .status(103)
        .header("link", "</a.css>; rel=preload")
        .body(())
        .unwrap();
    server.respond_informational(k, hints);
    rig.drain();
    let ra = rig.received[&a].clone();
    assert!(
        ra.starts_with("HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n"),
        "{ra:?}"
    );
    rig.answer(k, b"", "0");
    assert!(
        rig.received[&a].contains("\r\n\r\nHTTP/1.1 200 OK\r\n"),
        "{:?}",
        rig.received[&a]
    );
}

#[test]
fn a_reset_stream_is_a_502_and_a_client_gone_cancels_its_stream() {
    let mut rig = Rig::new();
    let a = rig.accept();
    rig.send(a, "GET /x HTTP/1.1\r\nHost: h\r\n\r\n");
    let k = rig.requests[0].0;
    rig.origin.as_mut().unwrap().1.close_stream(k, true);
    rig.drain();
    assert!(
        rig.received[&a].starts_with("HTTP/1.1 502 Bad Gateway\r\n"),
        "{:?}",
        rig.received
    );
    // The session survives a stream reset.
    let b = rig.accept();
    rig.send(b, "GET /slow HTTP/1.1\r\nHost: h\r\n\r\n");
    assert_eq!(rig.requests.len(), 2);
    let k2 = rig.requests[1].0;
    rig.input(Input::Reset { conn: b });
    assert_eq!(rig.resets, [k2], "the origin sees the stream cancelled");
    assert!(rig.origin.is_some());
}

#[test]
fn a_refused_stream_is_sent_again_once_when_it_has_no_body() {
    let mut rig = Rig::new();
    let a = rig.accept();
    rig.send(a, "GET /x HTTP/1.1\r\nHost: h\r\n\r\n");
    let k1 = rig.requests[0].0;
    rig.origin.as_mut().unwrap().1.refuse_stream(k1);
    rig.drain();
    // Sent again at once, on the same connection (it still takes streams).
    assert_eq!(rig.requests.len(), 2, "the request went again");
    assert_eq!(rig.requests[1].1.uri.path(), "/x");
    assert!(!rig.received.contains_key(&a), "{:?}", rig.received);
    let k2 = rig.requests[1].0;
    rig.answer(k2, b"ok", "0");
    assert!(
        rig.received[&a].starts_with("HTTP/1.1 200 OK\r\n"),
        "{:?}",
        rig.received
    );
    // Refused twice: Go waits a second before its next attempt; TrafficCop answers 502.
    let b = rig.accept();
    rig.send(b, "GET /y HTTP/1.1\r\nHost: h\r\n\r\n");
    for _ in 0..2 {
        let k = rig.requests.last().unwrap().0;
        rig.origin.as_mut().unwrap().1.refuse_stream(k);
        rig.drain();
    }
    assert_eq!(rig.requests.len(), 4);
    assert!(
        rig.received[&b].starts_with("HTTP/1.1 502 Bad Gateway\r\n"),
        "{:?}",
        rig.received
    );
    // A request with a body is not sent again.
    let c = rig.accept();
    rig.send(c, GRPC_CALL);
    let k = rig.requests.last().unwrap().0;
    rig.origin.as_mut().unwrap().1.refuse_stream(k);
    rig.drain();
    assert_eq!(rig.requests.len(), 5);
    assert!(
        rig.received[&c].starts_with("HTTP/1.1 502 Bad Gateway\r\n"),
        "{:?}",
        rig.received
    );
}

#[test]
fn dial_failure_is_502_and_the_idle_session_closes() {
    let mut rig = Rig::new();
    let a = rig.accept();
    let now = rig.t();
    rig.w.handle_input(
        now,
        Input::Received {
            conn: a,
            data: Bytes::from_static(b"GET / HTTP/1.1\r\nHost: h\r\n\r\n"),
        },
    );
    let conn = std::iter::from_fn(|| rig.w.poll_output())
        .find_map(|o| match o {
            Output::Connect { conn, .. } => Some(conn),
            _ => None,
        })
        .unwrap();
    rig.input(Input::ConnectFailed {
        conn,
        error: ConnectError::Failed("refused".into()),
    });
    assert!(rig.received[&a].starts_with("HTTP/1.1 502 Bad Gateway\r\n"));
    // A session that served its request closes after idleConnTimeout (90s).
    rig.send(a, "GET / HTTP/1.1\r\nHost: h\r\n\r\n");
    let k = rig.requests[0].0;
    rig.answer(k, b"", "0");
    let (session, _) = rig.origin.as_ref().map(|(c, _)| (*c, ())).unwrap();
    rig.now += 91_000;
    let now = rig.t();
    rig.w.handle_timeout(now);
    rig.drain();
    assert!(rig.closed.contains(&session));
    assert_eq!(rig.w.connection_counts(), (1, 0));
}
