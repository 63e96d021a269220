//! UDP sockets: the entry points' sockets (each datagram read becomes an `Input::Datagram`)
//! and the sessions' backend sockets (connected; each datagram a `Received`, an error such as
//! an ICMP port unreachable a `Reset`). Sends never wait: a datagram the socket cannot take at
//! once is dropped, as the network may drop it.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::rc::Rc;

use bytes::Bytes;
use tokio::net::UdpSocket;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use trafficcop_core::proxy::{ConnId, Input};

/// Large enough for any UDP datagram (entry point sockets, one each).
const DATAGRAM_BUF: usize = 65_536;

/// Receives one datagram from a session's connected socket into the worker's shared read
/// buffer (64 KiB: any datagram fits), borrowed only while the socket is read, so a waiting
/// session holds no buffer of its own. It waits for error readiness too, as tokio's own `recv`
/// does: an ICMP port unreachable is then taken from the socket (`SO_ERROR`) and returned.
async fn recv_session(socket: &UdpSocket) -> std::io::Result<Bytes> {
    use tokio::io::Interest;
    loop {
        let ready = socket.ready(Interest::READABLE | Interest::ERROR).await?;
        if ready.is_error() {
            if let Some(e) = socket.take_error()? {
                return Err(e);
            }
            // Nothing pending any more: forget the error readiness.
            let _ = socket.try_io(Interest::ERROR, || {
                Err::<(), _>(std::io::Error::from(std::io::ErrorKind::WouldBlock))
            });
        }
        if !ready.is_readable() {
            continue;
        }
        let got = crate::conn::READ_BUFFER.with(|b| {
            let mut b = b.borrow_mut();
            let n = socket.try_recv(&mut b)?;
            Ok::<_, std::io::Error>(Bytes::copy_from_slice(&b[..n]))
        });
        match got {
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            other => return other,
        }
    }
}

/// A worker's UDP sockets.
#[derive(Default)]
pub struct Udp {
    entry_points: HashMap<usize, (Rc<UdpSocket>, JoinHandle<()>)>,
    sessions: HashMap<ConnId, (Rc<UdpSocket>, JoinHandle<()>)>,
}

/// The result of opening a session's backend socket.
pub type Connected = (ConnId, std::io::Result<UdpSocket>);

impl Udp {
    /// Starts reading entry point `ep`'s socket.
    pub fn listen(
        &mut self,
        ep: usize,
        socket: std::net::UdpSocket,
        events: mpsc::UnboundedSender<Input>,
    ) -> std::io::Result<()> {
        socket.set_nonblocking(true)?;
        let socket = Rc::new(UdpSocket::from_std(socket)?);
        let rd = Rc::clone(&socket);
        let reader = tokio::task::spawn_local(async move {
            let mut buf = vec![0u8; DATAGRAM_BUF];
            loop {
                match rd.recv_from(&mut buf).await {
                    Ok((n, peer)) => {
                        let data = Bytes::copy_from_slice(&buf[..n]);
                        if events.send(Input::Datagram { ep, peer, data }).is_err() {
                            return;
                        }
                        tokio::task::consume_budget().await;
                    }
                    // Errors of earlier sends (ICMP) are reported on unconnected sockets
                    // too; they concern no session.
                    Err(_) => tokio::task::yield_now().await,
                }
            }
        });
        self.entry_points.insert(ep, (socket, reader));
        Ok(())
    }

    /// Sends one datagram from entry point `ep` to `peer`.
    pub fn send_to(&self, ep: usize, peer: SocketAddr, data: &Bytes) {
        if let Some((s, _)) = self.entry_points.get(&ep) {
            let _ = s.try_send_to(data, peer);
        }
    }

    /// Opens a socket connected to `host:port` in the background; the result arrives on
    /// `done`.
    pub fn connect(conn: ConnId, host: String, port: u16, done: mpsc::UnboundedSender<Connected>) {
        tokio::task::spawn_local(async move {
            let result = async {
                let addr = tokio::net::lookup_host((host.as_str(), port))
                    .await?
                    .next()
                    .ok_or_else(|| std::io::Error::other(format!("lookup {host}: no such host")))?;
                let local = trafficcop_core::proxy::udp_local_for(addr);
                let socket = UdpSocket::bind(local).await?;
                socket.connect(addr).await?;
                Ok(socket)
            }
            .await;
            let _ = done.send((conn, result));
        });
    }

    /// Starts reading a session's backend socket.
    pub fn opened(
        &mut self,
        conn: ConnId,
        socket: UdpSocket,
        events: mpsc::UnboundedSender<Input>,
    ) {
        let socket = Rc::new(socket);
        let rd = Rc::clone(&socket);
        let reader = tokio::task::spawn_local(async move {
            loop {
                match recv_session(&rd).await {
                    Ok(data) => {
                        if events.send(Input::Received { conn, data }).is_err() {
                            return;
                        }
                        tokio::task::consume_budget().await;
                    }
                    Err(_) => {
                        let _ = events.send(Input::Reset { conn });
                        return;
                    }
                }
            }
        });
        self.sessions.insert(conn, (socket, reader));
    }

    /// Whether `conn` is a session's backend socket.
    pub fn has(&self, conn: ConnId) -> bool {
        self.sessions.contains_key(&conn)
    }

    /// Sends one datagram on a session's backend socket; a failure other than a full buffer
    /// (the backend's port is closed, ...) is reported as a reset.
    pub fn send(&self, conn: ConnId, data: &Bytes, events: &mpsc::UnboundedSender<Input>) {
        if let Some((s, _)) = self.sessions.get(&conn) {
            match s.try_send(data) {
                Ok(_) => {}
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                Err(_) => {
                    let _ = events.send(Input::Reset { conn });
                }
            }
        }
    }

    /// Releases a session's backend socket.
    pub fn close(&mut self, conn: ConnId) {
        if let Some((_, reader)) = self.sessions.remove(&conn) {
            reader.abort();
        }
    }

    /// Stops every reader.
    pub fn stop(&mut self) {
        let eps = self.entry_points.drain().map(|(_, (_, r))| r);
        for r in eps.chain(self.sessions.drain().map(|(_, (_, r))| r)) {
            r.abort();
        }
    }
}
