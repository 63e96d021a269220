//! What the simulated peers are: client scripts (requests, pipelining, vanishing) and backend
//! behaviours, as plain data generated from the seed.

use super::http::encode_chunked;
use super::rng::Rng;
use super::scenario::{HOSTS, PREFIXES};

/// A request body.
#[derive(Debug, Clone)]
pub enum BodySpec {
    /// `GET`, no body.
    None,
    /// `Content-Length` body.
    Length(Vec<u8>),
    /// Chunked body.
    Chunked(Vec<u8>),
}

/// One request a client sends.
#[derive(Debug, Clone)]
pub struct ReqSpec {
    /// Unique id, sent as `X-Req` and echoed back by every backend.
    pub id: String,
    /// `GET` or `POST`.
    pub method: &'static str,
    /// `Host` header.
    pub host: String,
    /// Path (what routing sees).
    pub path: String,
    /// Query, without `?`.
    pub query: Option<String>,
    /// The body.
    pub body: BodySpec,
    /// Sends `Connection: close`.
    pub close: bool,
    /// A WebSocket upgrade: after a `101`, these bytes go through the tunnel and must come
    /// back echoed (the last request of its client).
    pub upgrade: Option<Vec<u8>>,
}

impl ReqSpec {
    /// The request target.
    pub fn target(&self) -> String {
        match &self.query {
            Some(q) => format!("{}?{q}", self.path),
            None => self.path.clone(),
        }
    }

    /// The body bytes.
    pub fn body_bytes(&self) -> &[u8] {
        match &self.body {
            BodySpec::None => &[],
            BodySpec::Length(b) | BodySpec::Chunked(b) => b,
        }
    }

    /// The request on the wire (chunk sizes drawn from `rng`).
    pub fn encode(&self, rng: &mut Rng) -> Vec<u8> {
        let mut out = format!(
            "{} {} HTTP/1.1\r\nHost: {}\r\nX-Req: {}\r\nUser-Agent: sim\r\n",
            self.method,
            self.target(),
            self.host,
            self.id
        )
        .into_bytes();
        if self.close {
            out.extend_from_slice(b"Connection: close\r\n");
        }
        if self.upgrade.is_some() {
            out.extend_from_slice(b"Connection: Upgrade\r\nUpgrade: websocket\r\n");
        }
        match &self.body {
            BodySpec::None => out.extend_from_slice(b"\r\n"),
            BodySpec::Length(b) => {
                out.extend_from_slice(format!("Content-Length: {}\r\n\r\n", b.len()).as_bytes());
                out.extend_from_slice(b);
            }
            BodySpec::Chunked(b) => {
                out.extend_from_slice(b"Transfer-Encoding: chunked\r\n\r\n");
                out.extend_from_slice(&encode_chunked(b, rng));
            }
        }
        out
    }

    /// What an echoing backend answers: `METHOD target\n` then the body.
    pub fn echo(&self) -> Vec<u8> {
        let mut out = format!("{} {}\n", self.method, self.target()).into_bytes();
        out.extend_from_slice(self.body_bytes());
        out
    }
}

/// Where a client stops being a client.
#[derive(Debug, Clone)]
pub struct Vanish {
    /// The request during which it vanishes.
    pub at_req: usize,
    /// How much of that request it sends first, per mille.
    pub sent_per_mille: u64,
    /// Reset (else half-close).
    pub reset: bool,
}

/// A client: one connection and a script.
#[derive(Debug, Clone)]
pub struct ClientSpec {
    /// When it connects, ns.
    pub start_ns: u64,
    /// Sends every request at once (else waits for each response).
    pub pipelined: bool,
    /// Pause between a response and the next request, ns.
    pub think_ns: u64,
    /// The requests.
    pub requests: Vec<ReqSpec>,
    /// Vanishes mid-request.
    pub vanish: Option<Vanish>,
    /// Closes its connection when finished (else leaves it idle for the worker to time out).
    pub close_when_done: bool,
    /// A slow reader: bytes reach it at this many ns each (0: as fast as the network).
    pub read_ns_per_byte: u64,
}

impl ClientSpec {
    /// A random client number `n`.
    pub fn generate(rng: &mut Rng, n: usize) -> Self {
        let count = rng.range_usize(1, 4);
        let requests = (0..count)
            .map(|k| {
                let host = if rng.chance(100) {
                    "unknown.sim".to_string()
                } else {
                    format!("h{}.sim", rng.below(HOSTS as u64))
                };
                let p = rng.below(PREFIXES as u64);
                let path = match rng.below(5) {
                    0 => "/".to_string(),
                    1 => format!("/p{p}"),
                    2 => format!("/p{p}/x/y"),
                    3 => format!("/p{p}abc"),
                    _ => "/zz".to_string(),
                };
                let size = if rng.chance(100) {
                    rng.range_usize(0, 20_000)
                } else {
                    rng.range_usize(0, 2_000)
                };
                let (method, body) = match rng.below(10) {
                    0..=5 => ("GET", BodySpec::None),
                    6 | 7 => ("POST", BodySpec::Length(rng.bytes(size))),
                    _ => ("POST", BodySpec::Chunked(rng.bytes(size))),
                };
                ReqSpec {
                    id: format!("c{n}r{k}"),
                    method,
                    host,
                    path,
                    query: rng.chance(200).then(|| format!("q={}", rng.below(100))),
                    body,
                    close: k + 1 == count && rng.chance(100),
                    upgrade: None,
                }
            })
            .collect::<Vec<_>>();
        let mut requests = requests;
        let pipelined = rng.chance(300);
        // 1 in 6 one-at-a-time clients ends with a WebSocket upgrade.
        if !pipelined && rng.chance(160) {
            let last = requests.last_mut().expect("a request");
            last.method = "GET";
            last.body = BodySpec::None;
            last.close = false;
            let size = rng.range_usize(1, 4000);
            last.upgrade = Some(rng.bytes(size));
        }
        ClientSpec {
            start_ns: rng.range(0, 100 * super::clock::MS),
            pipelined,
            think_ns: if rng.chance(100) {
                rng.range(0, 3 * super::clock::SEC)
            } else {
                rng.range(0, 30 * super::clock::MS)
            },
            vanish: rng.chance(100).then(|| Vanish {
                at_req: rng.range_usize(0, count - 1),
                sent_per_mille: rng.range(0, 999),
                reset: rng.chance(500),
            }),
            requests,
            close_when_done: rng.chance(700),
            // 1 in 10 clients read at 100 KiB/s to 10 MiB/s.
            read_ns_per_byte: if rng.chance(100) {
                rng.range(100, 10_000)
            } else {
                0
            },
        }
    }
}

/// How a backend answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Behaviour {
    /// Echoes `METHOD target\n` and the body, with `Content-Length`.
    Echo,
    /// A fixed body with `Content-Length`.
    FixedLength,
    /// A fixed body, chunked.
    FixedChunked,
    /// A fixed body delimited by closing the connection.
    FixedClose,
    /// Echoes after a delay before the head.
    SlowHeaders,
    /// Sometimes sends the head and half the body, then resets.
    CrashMidBody,
    /// Sometimes resets instead of answering.
    ResetBeforeAnswer,
    /// Sometimes answers with a response that cannot be parsed.
    Malformed,
}

impl Behaviour {
    /// Whether a complete response carries the backend's fixed body (else the echo).
    pub fn fixed(self) -> bool {
        matches!(
            self,
            Behaviour::FixedLength | Behaviour::FixedChunked | Behaviour::FixedClose
        )
    }
}

/// A backend server `b<i>.sim:9000`.
#[derive(Debug, Clone)]
pub struct BackendSpec {
    /// How it answers.
    pub behaviour: Behaviour,
    /// How often a faulty behaviour misbehaves, per mille.
    pub fail_per_mille: u64,
    /// Longest head delay for `SlowHeaders`, ns.
    pub slow_max_ns: u64,
    /// The fixed body.
    pub fixed_body: Vec<u8>,
}

impl BackendSpec {
    /// A random backend.
    pub fn generate(rng: &mut Rng) -> Self {
        let behaviour = match rng.below(20) {
            0..=6 => Behaviour::Echo,
            7 => Behaviour::FixedLength,
            8 => Behaviour::FixedChunked,
            9 => Behaviour::FixedClose,
            10..=11 => Behaviour::SlowHeaders,
            12..=13 => Behaviour::CrashMidBody,
            14..=15 => Behaviour::ResetBeforeAnswer,
            16..=17 => Behaviour::Malformed,
            _ => Behaviour::Echo,
        };
        // Now and then a body well past the worker's 256 KiB high-water mark, so that slow
        // readers make backpressure work.
        let size = if rng.chance(50) {
            rng.range_usize(1 << 20, 3 << 20)
        } else {
            rng.range_usize(0, 3000)
        };
        BackendSpec {
            behaviour,
            fail_per_mille: rng.range(200, 800),
            slow_max_ns: rng.range(10 * super::clock::MS, 3 * super::clock::SEC),
            fixed_body: rng.bytes(size),
        }
    }
}
