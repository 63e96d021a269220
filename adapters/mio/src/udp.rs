//! UDP sockets of the mio loop: the entry points' sockets (each datagram read becomes an
//! `Input::Datagram`) and the sessions' backend sockets (connected; each datagram a
//! `Received`, an error such as an ICMP port unreachable a `Reset`). Sends never wait: a
//! datagram the socket cannot take at once is dropped, as the network may drop it.

use std::io::ErrorKind;
use std::net::{SocketAddr, ToSocketAddrs};

use bytes::Bytes;
use mio::net::UdpSocket;
use mio::{Interest, Registry, Token};
use trafficcop_core::proxy::{ConnId, IdMap, Input};

/// Tokens of UDP entry point sockets: `ENTRY_BASE + i`.
pub const ENTRY_BASE: usize = usize::MAX - 2_000;

/// A worker's UDP sockets.
#[derive(Default)]
pub struct Udp {
    /// Entry point sockets with their entry point index, by `token - ENTRY_BASE`.
    entry_points: Vec<(usize, UdpSocket)>,
    /// Sessions' backend sockets by token.
    sessions: IdMap<usize, (ConnId, UdpSocket)>,
    tokens: IdMap<ConnId, usize>,
}

impl Udp {
    /// Registers entry point `ep`'s socket.
    pub fn listen(
        &mut self,
        registry: &Registry,
        ep: usize,
        socket: std::net::UdpSocket,
    ) -> std::io::Result<()> {
        socket.set_nonblocking(true)?;
        let mut socket = UdpSocket::from_std(socket);
        let token = Token(ENTRY_BASE + self.entry_points.len());
        registry.register(&mut socket, token, Interest::READABLE)?;
        self.entry_points.push((ep, socket));
        Ok(())
    }

    /// Reads every datagram waiting on the entry point socket of `token` into `inputs`.
    pub fn read_entry_point(&self, token: usize, buf: &mut [u8], inputs: &mut Vec<Input>) {
        let Some((ep, s)) = self.entry_points.get(token - ENTRY_BASE) else {
            return;
        };
        loop {
            match s.recv_from(buf) {
                Ok((n, peer)) => inputs.push(Input::Datagram {
                    ep: *ep,
                    peer,
                    data: Bytes::copy_from_slice(&buf[..n]),
                }),
                Err(e) if e.kind() == ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                // Errors of earlier sends (ICMP) concern no session.
                Err(_) => {}
            }
        }
    }

    /// Sends one datagram from entry point `ep` to `peer`.
    pub fn send_to(&self, ep: usize, peer: SocketAddr, data: &Bytes) {
        if let Some((_, s)) = self.entry_points.iter().find(|(e, _)| *e == ep) {
            let _ = s.send_to(data, peer);
        }
    }

    /// Opens a socket connected to `host:port` (names resolved here, synchronously) under
    /// `token`.
    pub fn connect(
        &mut self,
        registry: &Registry,
        conn: ConnId,
        token: usize,
        host: &str,
        port: u16,
    ) -> std::io::Result<()> {
        let addr = (host, port)
            .to_socket_addrs()?
            .next()
            .ok_or_else(|| std::io::Error::other(format!("lookup {host}: no such host")))?;
        let local = trafficcop_core::proxy::udp_local_for(addr);
        let mut socket = UdpSocket::bind(local)?;
        socket.connect(addr)?;
        registry.register(&mut socket, Token(token), Interest::READABLE)?;
        self.sessions.insert(token, (conn, socket));
        self.tokens.insert(conn, token);
        Ok(())
    }

    /// Whether `conn` is a session's backend socket.
    pub fn has(&self, conn: ConnId) -> bool {
        self.tokens.contains_key(&conn)
    }

    /// Whether `token` is a session's backend socket.
    pub fn has_token(&self, token: usize) -> bool {
        self.sessions.contains_key(&token)
    }

    /// Reads every datagram waiting on a session's socket into `inputs` (a failure as a reset).
    pub fn read_session(&self, token: usize, buf: &mut [u8], inputs: &mut Vec<Input>) {
        let Some((conn, s)) = self.sessions.get(&token) else {
            return;
        };
        loop {
            match s.recv(buf) {
                Ok(n) => inputs.push(Input::Received {
                    conn: *conn,
                    data: Bytes::copy_from_slice(&buf[..n]),
                }),
                Err(e) if e.kind() == ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(_) => {
                    inputs.push(Input::Reset { conn: *conn });
                    return;
                }
            }
        }
    }

    /// Sends one datagram on a session's socket; a failure other than a full buffer is
    /// reported as a reset into `inputs`.
    pub fn send(&self, conn: ConnId, data: &Bytes, inputs: &mut std::collections::VecDeque<Input>) {
        let Some((_, s)) = self.tokens.get(&conn).and_then(|t| self.sessions.get(t)) else {
            return;
        };
        match s.send(data) {
            Ok(_) => {}
            Err(e) if e.kind() == ErrorKind::WouldBlock => {}
            Err(_) => inputs.push_back(Input::Reset { conn }),
        }
    }

    /// Releases a session's socket.
    pub fn close(&mut self, registry: &Registry, conn: ConnId) {
        if let Some(t) = self.tokens.remove(&conn) {
            if let Some((_, mut s)) = self.sessions.remove(&t) {
                let _ = registry.deregister(&mut s);
            }
        }
    }

    /// Whether no session socket is open.
    pub fn is_empty(&self) -> bool {
        self.sessions.is_empty()
    }
}
