//! Client models: one connection each, requests sent one at a time (keep-alive) or all at once
//! (pipelined), responses read in order and checked as they complete, vanishing mid-request.

use std::collections::VecDeque;

use bytes::Bytes;
use trafficcop_core::proxy::{ConnId, Timestamp};

use super::http::{parse_body, parse_head, response_framing, Head};
use super::models::ClientSpec;
use super::net::{Link, Seg, Side};
use super::world::{Ev, Sim};

/// How a request ended, from its client's point of view.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// A complete response with this status.
    Response(u16),
    /// The connection closed before a complete response (an observable close).
    Closed,
    /// The client itself went away.
    Vanished,
}

/// One request's progress.
#[derive(Debug, Clone, Default)]
pub struct ReqState {
    /// When its first byte was written.
    pub sent_at: Option<Timestamp>,
    /// Every byte was written.
    pub fully_sent: bool,
    /// How it ended.
    pub outcome: Option<Outcome>,
}

/// A client's state during the run.
#[derive(Debug)]
pub struct Client {
    /// Its connection, once connected.
    pub conn: Option<ConnId>,
    /// One per scripted request.
    pub reqs: Vec<ReqState>,
    /// The next request to send.
    pub next: usize,
    /// Requests sent and waiting for their response, in order.
    pub outstanding: VecDeque<usize>,
    /// Bytes received and not yet read as a response.
    pub rx: Vec<u8>,
    /// The connection ended (EOF or reset seen).
    pub closed: bool,
    /// The client went away on purpose.
    pub vanished: bool,
    /// A response said `Connection: close`: nothing may follow.
    pub expect_close: bool,
    /// It closed its side after finishing.
    pub hung_up: bool,
    /// The status of the last complete response when TrafficCop answered it itself.
    pub last_local: Option<u16>,
    /// Upgraded: what came back through the tunnel so far.
    pub tunnel: Option<Vec<u8>>,
}

impl Client {
    /// A client about to run `spec`.
    pub fn new(spec: &ClientSpec) -> Self {
        Client {
            conn: None,
            reqs: vec![ReqState::default(); spec.requests.len()],
            next: 0,
            outstanding: VecDeque::new(),
            rx: Vec::new(),
            closed: false,
            vanished: false,
            expect_close: false,
            hung_up: false,
            last_local: None,
            tunnel: None,
        }
    }

    /// Nothing more will happen on this client.
    pub fn done(&self) -> bool {
        self.closed
            || self.vanished
            || (self.next == self.reqs.len() && self.outstanding.is_empty())
    }
}

impl Sim {
    pub(crate) fn client_start(&mut self, i: usize) {
        let now = self.clock.now();
        let peer = format!("10.0.0.{}:{}", i + 1, 40_000 + i)
            .parse()
            .expect("addr");
        let ep = self
            .worker
            .config()
            .entry_point("web")
            .expect("web entry point");
        self.note(format!("client {i} connects"));
        let conn = self.worker.accept(now, ep, peer);
        self.drain_after_accept(conn, i);
        if self.scenario.clients[i].pipelined {
            while self.clients[i].next < self.clients[i].reqs.len() && !self.clients[i].vanished {
                self.client_send_next(i);
            }
        } else {
            self.client_send_next(i);
        }
    }

    fn drain_after_accept(&mut self, conn: ConnId, i: usize) {
        if self.links.contains_key(&conn) {
            self.fail(&format!("accept reused connection id {conn:?}"));
        }
        let mut link = Link::new(Side::Client(i), self.clock.now(), false);
        link.read_ns_per_byte = self.scenario.clients[i].read_ns_per_byte;
        self.links.insert(conn, link);
        self.clients[i].conn = Some(conn);
        self.call("accept", |_, _| {});
    }

    pub(crate) fn client_send_next(&mut self, i: usize) {
        let now = self.clock.now();
        let c = &mut self.clients[i];
        let Some(conn) = c.conn else { return };
        if c.closed || c.vanished || c.expect_close || c.next >= c.reqs.len() {
            return;
        }
        let k = c.next;
        c.next += 1;
        let spec = &self.scenario.clients[i];
        let req = spec.requests[k].clone();
        let vanish = spec.vanish.clone().filter(|v| v.at_req == k);
        let mut bytes = req.encode(&mut self.rng);
        c.reqs[k].sent_at = Some(now);
        if req.close {
            c.next = c.reqs.len();
        }
        if let Some(v) = vanish {
            bytes.truncate(bytes.len() * v.sent_per_mille as usize / 1000);
            c.vanished = true;
            for o in c.outstanding.drain(..) {
                c.reqs[o].outcome = Some(Outcome::Vanished);
            }
            c.reqs[k].outcome = Some(Outcome::Vanished);
            self.note(format!(
                "client {i} sends {}B of {} then vanishes",
                bytes.len(),
                req.id
            ));
            if !bytes.is_empty() {
                self.peer_send(conn, Seg::Data(Bytes::from(bytes)));
            }
            let at = self.clock.in_nanos(self.rng.range(0, 5 * super::clock::MS));
            self.queue.push(at, Ev::ClientVanish(i, v.reset));
            return;
        }
        c.reqs[k].fully_sent = true;
        c.outstanding.push_back(k);
        self.report.requests += 1;
        self.note(format!("client {i} sends {} ({}B)", req.id, bytes.len()));
        self.peer_send(conn, Seg::Data(Bytes::from(bytes)));
    }

    pub(crate) fn client_vanish(&mut self, i: usize, reset: bool) {
        if let Some(conn) = self.clients[i].conn {
            self.peer_send(conn, if reset { Seg::Reset } else { Seg::Eof });
        }
    }

    pub(crate) fn client_receive(&mut self, i: usize, seg: Seg) {
        if self.clients[i].vanished {
            return;
        }
        match seg {
            Seg::Data(b) => {
                if self.clients[i].closed {
                    self.fail(&format!("client {i} got bytes after its connection ended"));
                }
                if self.clients[i].tunnel.is_some() {
                    return self.client_tunnel(i, &b);
                }
                self.clients[i].rx.extend_from_slice(&b);
                self.client_read(i, false);
            }
            Seg::Eof | Seg::Reset => {
                self.client_read(i, true);
                let c = &mut self.clients[i];
                c.closed = true;
                for k in c.outstanding.drain(..) {
                    c.reqs[k].outcome = Some(Outcome::Closed);
                }
            }
        }
        self.client_maybe_continue(i);
    }

    fn client_read(&mut self, i: usize, eof: bool) {
        loop {
            let c = &self.clients[i];
            if c.rx.is_empty() {
                return;
            }
            if c.expect_close {
                self.fail(&format!(
                    "client {i} got {} bytes after a `Connection: close` response: {:?}",
                    c.rx.len(),
                    String::from_utf8_lossy(&c.rx[..c.rx.len().min(200)])
                ));
            }
            let Some(&k) = c.outstanding.front() else {
                self.fail(&format!(
                    "client {i} got {} unexpected bytes (no request outstanding): {:?}",
                    c.rx.len(),
                    String::from_utf8_lossy(&c.rx[..c.rx.len().min(200)])
                ));
            };
            let (head, n) = match parse_head(&c.rx) {
                Err(e) => self.fail(&format!("client {i} got an unparsable response: {e}")),
                Ok(None) => return,
                Ok(Some(x)) => x,
            };
            if head.status() == Some(101) {
                return self.client_upgraded(i, k, &head, n);
            }
            let framing = match response_framing(&head) {
                Ok(f) => f,
                Err(e) => self.fail(&format!("client {i}: bad response framing: {e}")),
            };
            let (body, m) = match parse_body(&c.rx[n..], framing, eof) {
                Err(e) => self.fail(&format!("client {i}: bad response body: {e}")),
                Ok(None) => return,
                Ok(Some(x)) => x,
            };
            let c = &mut self.clients[i];
            c.rx.drain(..n + m);
            c.outstanding.pop_front();
            if head.closes() {
                c.expect_close = true;
            }
            self.check_response(i, k, &head, &body);
        }
    }

    /// A `101` to request `k`: the tunnel opens and the client sends its payload.
    fn client_upgraded(&mut self, i: usize, k: usize, head: &Head, n: usize) {
        let req = self.scenario.clients[i].requests[k].clone();
        let Some(payload) = req.upgrade.clone() else {
            self.fail(&format!(
                "client {i} got a 101 to {}, which asked for none",
                req.id
            ));
        };
        if head.get("X-Req") != Some(req.id.as_str()) || head.get("X-Backend").is_none() {
            self.fail(&format!(
                "client {i}: the 101 is not the backend's answer to {}",
                req.id
            ));
        }
        if head.get("Upgrade") != Some("websocket") {
            self.fail(&format!("client {i}: the 101 lost its Upgrade header"));
        }
        let c = &mut self.clients[i];
        let rest = c.rx.split_off(n);
        c.rx.clear();
        c.outstanding.pop_front();
        c.reqs[k].outcome = Some(Outcome::Response(101));
        c.tunnel = Some(Vec::new());
        self.report.responses += 1;
        self.note(format!("client {i} upgraded ({}B to echo)", payload.len()));
        if let Some(conn) = self.clients[i].conn {
            self.peer_send(conn, Seg::Data(Bytes::from(payload)));
        }
        if !rest.is_empty() {
            self.client_tunnel(i, &rest);
        }
    }

    /// Bytes through the tunnel: they must be the payload, in order; once it is all back the
    /// client hangs up.
    fn client_tunnel(&mut self, i: usize, data: &[u8]) {
        let k = self.clients[i].reqs.len() - 1;
        let payload = self.scenario.clients[i].requests[k]
            .upgrade
            .clone()
            .unwrap_or_default();
        let c = &mut self.clients[i];
        let got = c.tunnel.get_or_insert_with(Vec::new);
        got.extend_from_slice(data);
        if !payload.starts_with(got) {
            self.fail(&format!(
                "client {i}: the tunnel did not echo the bytes sent"
            ));
        }
        if got.len() == payload.len() && !c.hung_up {
            c.hung_up = true;
            self.report.tunnels += 1;
            let conn = c.conn;
            self.note(format!("client {i} got its echo, hangs up"));
            if let Some(conn) = conn {
                self.peer_send(conn, Seg::Eof);
            }
        }
    }

    fn client_maybe_continue(&mut self, i: usize) {
        let spec = &self.scenario.clients[i];
        let c = &self.clients[i];
        if c.closed
            || c.vanished
            || c.expect_close
            || !c.outstanding.is_empty()
            || c.tunnel.is_some()
        {
            return;
        }
        if c.next < c.reqs.len() {
            if !spec.pipelined {
                let at = self.clock.in_nanos(self.rng.range(0, spec.think_ns));
                // One request at a time: mark it scheduled by sending when the timer fires.
                self.queue.push(at, Ev::ClientSend(i));
            }
        } else if spec.close_when_done && !c.hung_up {
            let conn = c.conn;
            self.clients[i].hung_up = true;
            if let Some(conn) = conn {
                self.note(format!("client {i} hangs up"));
                self.peer_send(conn, Seg::Eof);
            }
        }
    }

    /// Checks a complete response to request `k` of client `i`.
    fn check_response(&mut self, i: usize, k: usize, head: &Head, body: &[u8]) {
        let req = self.scenario.clients[i].requests[k].clone();
        let status = head.status().unwrap_or(0);
        self.report.responses += 1;
        self.clients[i].reqs[k].outcome = Some(Outcome::Response(status));
        self.clients[i].last_local = head.get("X-Backend").is_none().then_some(status);
        self.note(format!(
            "client {i} response to {}: {status} {}B",
            req.id,
            body.len()
        ));
        let sent_at = self.clients[i].reqs[k].sent_at.expect("sent");
        self.check_answer(&req, sent_at, status, head, body);
    }
}
