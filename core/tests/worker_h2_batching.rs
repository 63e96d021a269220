//! HTTP/2 responses completed by several backends in one adapter turn leave together: the
//! backends' bytes queue them, `poll_timeout` makes the encoding due at once, and the adapter's
//! end-of-turn `handle_timeout` sends them to the client in one write.

use bytes::Bytes;
use trafficcop_core::config::dynamic::load_dynamic;
use trafficcop_core::config::static_config::load_static;
use trafficcop_core::config::Format;
use trafficcop_core::h2::{H2Client, H2Event};
use trafficcop_core::proxy::{compile, ConnId, Input, Output, Timestamp, Worker};

const RESPONSE: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";

fn worker() -> Worker {
    let st = load_static("entryPoints: {web: {address: ':80'}}\n", Format::Yaml, None);
    let dy = load_dynamic(
        "http:\n  routers:\n    r: {rule: \"PathPrefix(`/`)\", service: s}\n  services:\n    s: {loadBalancer: {servers: [{url: \"http://backend:9000\"}]}}\n",
        Format::Yaml,
        None,
    );
    let cfg = compile(&st.config, &dy.config, 1);
    assert!(cfg.errors.is_empty(), "{:?}", cfg.errors);
    Worker::new(cfg, "proxy-host")
}

/// Carries out the worker's outputs: dials succeed, bytes to the client are collected, upstream
/// connections that were sent a request are listed.
fn drain(w: &mut Worker, client: ConnId, to_client: &mut Vec<Vec<u8>>, asked: &mut Vec<ConnId>) {
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

#[test]
fn responses_of_one_turn_reach_the_client_in_one_write() {
    let mut w = worker();
    let t = Timestamp(1);
    let client = w.accept(t, 0, "10.0.0.1:1000".parse().unwrap());
    let mut h2 = H2Client::new();
    for i in 0..3 {
        let req = http::Request::builder()
            .uri(format!("http://example.com/{i}"))
            .body(())
            .unwrap();
        h2.open(req, true);
    }
    let mut events = Vec::new();
    h2.poll(&mut events);
    let (mut to_client, mut asked) = (Vec::new(), Vec::new());
    w.handle_input(
        t,
        Input::Received {
            conn: client,
            data: Bytes::from(h2.take_output()),
        },
    );
    drain(&mut w, client, &mut to_client, &mut asked);
    assert_eq!(asked.len(), 3, "one backend request per stream");
    h2.receive(&to_client.concat());
    to_client.clear();
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
    w.handle_timeout(t);
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
        .filter(|e| matches!(e, H2Event::Data { data, end_stream: true, .. } if &data[..] == b"ok"))
        .count();
    assert_eq!((heads, ends), (3, 3), "{events:?}");
}

#[test]
fn client_input_takes_the_waiting_responses_with_it() {
    let mut w = worker();
    let t = Timestamp(1);
    let client = w.accept(t, 0, "10.0.0.1:1000".parse().unwrap());
    let mut h2 = H2Client::new();
    let req = http::Request::builder()
        .uri("http://example.com/")
        .body(())
        .unwrap();
    h2.open(req, true);
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
    h2.receive(&to_client.concat());
    to_client.clear();
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
