//! Backend models: read requests from the worker, check them against what the client sent and
//! the reference routing, and answer by behaviour (echo, fixed bodies in every framing, slow
//! heads, crashes mid-body, resets, malformed responses).

use std::collections::BTreeMap;

use bytes::Bytes;
use trafficcop_core::proxy::ConnId;

use super::clock::MS;
use super::http::{encode_chunked, parse_body, parse_head, request_framing, Head};
use super::models::Behaviour;
use super::net::Seg;
use super::world::{After, Ev, Sim};

/// One accepted connection on a backend.
#[derive(Debug, Default)]
pub struct BConn {
    /// Bytes received, not yet read as a request.
    pub rx: Vec<u8>,
    /// Answering a request (a delayed head is on its way).
    pub answering: bool,
    /// The backend closed or reset it: it ignores anything more.
    pub done: bool,
    /// Upgraded (after a `101`): it echoes every byte.
    pub tunnel: bool,
}

/// A backend's state during the run.
#[derive(Debug)]
pub struct Backend {
    /// Accepting connections (not crashed).
    pub up: bool,
    /// Connects are never answered.
    pub black_hole: bool,
    /// Cut off by a network partition: what travels to or from it is held.
    pub partitioned: bool,
    /// Its connections.
    pub conns: BTreeMap<ConnId, BConn>,
}

impl Default for Backend {
    fn default() -> Self {
        Backend {
            up: true,
            black_hole: false,
            partitioned: false,
            conns: BTreeMap::new(),
        }
    }
}

impl Sim {
    pub(crate) fn backend_receive(&mut self, b: usize, conn: ConnId, seg: Seg) {
        let Some(bc) = self.backends[b].conns.get_mut(&conn) else {
            return;
        };
        if bc.done {
            return;
        }
        if bc.tunnel {
            match seg {
                Seg::Data(data) => self.peer_send(conn, Seg::Data(data)),
                Seg::Eof => {
                    self.backends[b].conns.remove(&conn);
                    self.peer_send(conn, Seg::Eof);
                }
                Seg::Reset => {
                    self.backends[b].conns.remove(&conn);
                }
            }
            return;
        }
        match seg {
            Seg::Data(data) => {
                if bc.answering {
                    self.fail(&format!(
                        "backend b{b} got {}B on {conn:?} while still answering the previous request",
                        data.len()
                    ));
                }
                bc.rx.extend_from_slice(&data);
                self.backend_read(b, conn);
            }
            Seg::Eof | Seg::Reset => {
                bc.done = true;
                self.backends[b].conns.remove(&conn);
            }
        }
    }

    fn backend_read(&mut self, b: usize, conn: ConnId) {
        loop {
            let Some(bc) = self.backends[b].conns.get(&conn) else {
                return;
            };
            if bc.rx.is_empty() || bc.answering || bc.done || bc.tunnel {
                return;
            }
            let (head, n) = match parse_head(&bc.rx) {
                Err(e) => self.fail(&format!("backend b{b} got an unparsable request: {e}")),
                Ok(None) => return,
                Ok(Some(x)) => x,
            };
            let framing = match request_framing(&head) {
                Ok(f) => f,
                Err(e) => self.fail(&format!("backend b{b}: bad request framing: {e}")),
            };
            let (body, m) = match parse_body(&bc.rx[n..], framing, false) {
                Err(e) => self.fail(&format!("backend b{b}: bad request body: {e}")),
                Ok(None) => return,
                Ok(Some(x)) => x,
            };
            let bc = self.backends[b].conns.get_mut(&conn).expect("conn");
            bc.rx.drain(..n + m);
            self.backend_request(b, conn, &head, &body);
        }
    }

    fn backend_request(&mut self, b: usize, conn: ConnId, head: &Head, body: &[u8]) {
        let Some(id) = head.get("X-Req").map(str::to_string) else {
            self.fail(&format!(
                "backend b{b} got a request without X-Req: {}",
                head.start
            ));
        };
        self.note(format!("backend b{b} request {id} on {conn:?}"));
        let req = self.check_backend_request(b, &id, head, body);
        let spec = self.scenario.backends[b].clone();
        let misbehave = self.rng.chance(spec.fail_per_mille);
        let payload = if spec.behaviour.fixed() {
            spec.fixed_body.clone()
        } else {
            req.echo()
        };
        let common = format!("X-Backend: b{b}\r\nX-Req: {id}\r\n");
        let length_response = |payload: &[u8]| {
            let mut r = format!(
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\n{common}\r\n",
                payload.len()
            )
            .into_bytes();
            r.extend_from_slice(payload);
            r
        };
        let bc = self.backends[b].conns.get_mut(&conn).expect("conn");
        if req.upgrade.is_some() && spec.behaviour == Behaviour::Echo {
            if head.get("Upgrade") != Some("websocket") {
                self.fail(&format!("{id}: the upgrade did not reach b{b}"));
            }
            // Switch: from here on the connection echoes.
            bc.tunnel = true;
            let r = format!(
                "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n{common}\r\n"
            );
            let rest = std::mem::take(&mut bc.rx);
            self.backend_write(conn, Bytes::from(r.into_bytes()), After::Keep);
            if !rest.is_empty() {
                self.peer_send(conn, Seg::Data(Bytes::from(rest)));
            }
            return;
        }
        match spec.behaviour {
            Behaviour::Echo | Behaviour::FixedLength => {
                let r = length_response(&payload);
                self.backend_write(conn, Bytes::from(r), After::Keep);
            }
            Behaviour::FixedChunked => {
                let mut r =
                    format!("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n{common}\r\n")
                        .into_bytes();
                r.extend_from_slice(&encode_chunked(&payload, &mut self.rng));
                self.backend_write(conn, Bytes::from(r), After::Keep);
            }
            Behaviour::FixedClose => {
                let mut r =
                    format!("HTTP/1.1 200 OK\r\nConnection: close\r\n{common}\r\n").into_bytes();
                r.extend_from_slice(&payload);
                self.backend_write(conn, Bytes::from(r), After::Eof);
            }
            Behaviour::SlowHeaders => {
                bc.answering = true;
                let at = self.clock.in_nanos(self.rng.range(0, spec.slow_max_ns));
                let r = length_response(&payload);
                self.queue
                    .push(at, Ev::BackendReply(conn, Bytes::from(r), After::Keep));
            }
            Behaviour::CrashMidBody if misbehave => {
                bc.answering = true;
                let mut r = length_response(&payload);
                r.truncate(r.len() - payload.len().div_ceil(2).max(1));
                let at = self.clock.in_nanos(self.rng.range(0, 2 * MS));
                self.backend_write(conn, Bytes::from(r), After::Keep);
                self.queue
                    .push(at, Ev::BackendReply(conn, Bytes::new(), After::Reset));
            }
            Behaviour::ResetBeforeAnswer if misbehave => {
                self.backend_write(conn, Bytes::new(), After::Reset);
            }
            Behaviour::Malformed if misbehave => {
                let r: &[u8] = if self.rng.chance(500) {
                    b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n"
                } else {
                    b"SPDY/9 banana\r\n\r\n"
                };
                self.backend_write(conn, Bytes::from_static(r), After::Keep);
            }
            Behaviour::CrashMidBody | Behaviour::ResetBeforeAnswer | Behaviour::Malformed => {
                let r = length_response(&payload);
                self.backend_write(conn, Bytes::from(r), After::Keep);
            }
        }
    }

    /// A backend writes `bytes` on `conn` (if it still has it), then keeps, half-closes or
    /// resets the connection.
    pub(crate) fn backend_write(&mut self, conn: ConnId, bytes: Bytes, after: After) {
        let Some(super::net::Side::Backend(b)) = self.links.get(&conn).map(|l| l.side) else {
            return;
        };
        let Some(bc) = self.backends[b].conns.get_mut(&conn) else {
            return;
        };
        if bc.done {
            return;
        }
        bc.answering = false;
        if after != After::Keep {
            bc.done = true;
            self.backends[b].conns.remove(&conn);
        }
        if !bytes.is_empty() {
            self.peer_send(conn, Seg::Data(bytes));
        }
        match after {
            After::Keep => self.backend_read(b, conn),
            After::Eof => self.peer_send(conn, Seg::Eof),
            After::Reset => self.peer_send(conn, Seg::Reset),
        }
    }
}
