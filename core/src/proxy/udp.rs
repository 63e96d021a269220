//! UDP sessions, as Traefik's UDP entry points keep them: datagrams from one client address on
//! one entry point form a session; its first datagram picks a server (the entry point's
//! router's service, round robin) and opens a socket connected to it; datagrams go through
//! that socket both ways until the session has seen no traffic for the entry point's
//! `udp.timeout` (3 s by default) or the backend socket fails (ICMP port unreachable). Then
//! the next datagram from that client starts a new session, on the next server.
//!
//! As in Traefik: an empty datagram starts or refreshes a session but is not forwarded;
//! datagrams for a client without a router, or whose service has no server, are dropped; a
//! new configuration that has no router for an entry point leaves the entry point on its
//! previous one (Traefik only switches the entry points the new configuration routes); while
//! draining, datagrams from new clients are dropped and sessions end by their timeout.

use std::collections::{BTreeMap, VecDeque};
use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;

use super::compile::CompiledConfig;
use super::io::{ConnId, Output, Timestamp};
use super::udp_service::UdpBalancer;
use super::worker::Worker;
use crate::config::Duration;

/// Datagrams kept for a session whose backend socket is not open yet; later ones are dropped.
const MAX_QUEUED: usize = 64;
/// Sessions per worker; datagrams from further new clients are dropped (each session holds a
/// socket).
pub(super) const MAX_SESSIONS: usize = 65_536;

/// One client's session on one UDP entry point.
struct Session {
    ep: usize,
    peer: SocketAddr,
    /// Datagrams waiting for the backend socket (`None` once it is open).
    waiting: Option<VecDeque<Bytes>>,
    deadline: Timestamp,
}

/// A worker's UDP sessions and the services its UDP entry points serve.
#[derive(Default)]
pub(super) struct UdpSessions {
    by_peer: BTreeMap<(usize, SocketAddr), ConnId>,
    sessions: BTreeMap<ConnId, Session>,
    /// Per UDP entry point: the service new sessions go to, and the session timeout.
    handlers: Vec<(Option<Arc<UdpBalancer>>, Duration)>,
}

impl UdpSessions {
    /// Takes the UDP entry points of a new configuration (see the module docs for why an
    /// entry point without a router keeps its service).
    pub fn configure(&mut self, config: &CompiledConfig) {
        for (i, ep) in config.udp_entry_points.iter().enumerate() {
            if i >= self.handlers.len() {
                self.handlers.push((None, ep.timeout));
            }
            let h = &mut self.handlers[i];
            h.1 = ep.timeout;
            if ep.handler.is_some() {
                h.0 = ep.handler.clone();
            }
        }
    }

    /// Whether `conn` is a session's backend socket.
    pub fn contains(&self, conn: ConnId) -> bool {
        self.sessions.contains_key(&conn)
    }

    /// Number of sessions.
    pub fn len(&self) -> usize {
        self.sessions.len()
    }

    /// The earliest session deadline.
    pub fn earliest(&self) -> Option<Timestamp> {
        self.sessions.values().map(|s| s.deadline).min()
    }
}

impl Worker {
    fn udp_timeout(&self, ep: usize) -> Duration {
        self.udp
            .handlers
            .get(ep)
            .map_or(Duration::from_secs(3), |h| h.1)
    }

    /// A datagram from a client on UDP entry point `ep`.
    pub(super) fn udp_datagram(
        &mut self,
        now: Timestamp,
        ep: usize,
        peer: SocketAddr,
        data: Bytes,
    ) {
        let deadline = now.after(self.udp_timeout(ep));
        let id = match self.udp.by_peer.get(&(ep, peer)) {
            Some(id) => *id,
            None => {
                if self.shutting_down || self.udp.sessions.len() >= MAX_SESSIONS {
                    return;
                }
                let Some((Some(service), _)) = self.udp.handlers.get(ep) else {
                    return;
                };
                let Some(server) = service.pick() else {
                    return;
                };
                // An address without a numeric port fails to dial: the session ends at once.
                let Some(port) = server.port else {
                    return;
                };
                let id = self.alloc();
                self.udp.by_peer.insert((ep, peer), id);
                self.udp.sessions.insert(
                    id,
                    Session {
                        ep,
                        peer,
                        waiting: Some(VecDeque::new()),
                        deadline,
                    },
                );
                self.out.push_back(Output::ConnectUdp {
                    conn: id,
                    host: server.host.to_string(),
                    port,
                });
                id
            }
        };
        self.note_deadline(Some(deadline));
        let Some(s) = self.udp.sessions.get_mut(&id) else {
            return;
        };
        s.deadline = deadline;
        if data.is_empty() {
            return;
        }
        match &mut s.waiting {
            Some(q) if q.len() < MAX_QUEUED => q.push_back(data),
            Some(_) => {}
            None => self.out.push_back(Output::Send { conn: id, data }),
        }
    }

    /// A datagram from a session's backend.
    pub(super) fn udp_received(&mut self, now: Timestamp, conn: ConnId, data: Bytes) {
        if data.is_empty() {
            return;
        }
        let timeout = match self.udp.sessions.get(&conn) {
            Some(s) => self.udp_timeout(s.ep),
            None => return,
        };
        let deadline = now.after(timeout);
        if let Some(s) = self.udp.sessions.get_mut(&conn) {
            s.deadline = deadline;
            self.out.push_back(Output::SendTo {
                ep: s.ep,
                peer: s.peer,
                data,
            });
        }
        self.note_deadline(Some(deadline));
    }

    /// A session's backend socket is open: what waited goes out.
    pub(super) fn udp_connected(&mut self, conn: ConnId) {
        let Some(q) = self
            .udp
            .sessions
            .get_mut(&conn)
            .and_then(|s| s.waiting.take())
        else {
            return;
        };
        for data in q {
            self.out.push_back(Output::Send { conn, data });
        }
    }

    /// The session ends: its backend socket could not be opened (`close` false: the adapter
    /// has nothing to release) or failed or timed out (`close` true).
    pub(super) fn udp_end(&mut self, conn: ConnId, close: bool) {
        if let Some(s) = self.udp.sessions.remove(&conn) {
            self.udp.by_peer.remove(&(s.ep, s.peer));
            if close {
                self.out.push_back(Output::Close { conn });
            }
        }
    }

    /// Ends the sessions whose timeout passed.
    pub(super) fn udp_timeouts(&mut self, now: Timestamp) {
        let due: Vec<ConnId> = self
            .udp
            .sessions
            .iter()
            .filter(|(_, s)| s.deadline <= now)
            .map(|(id, _)| *id)
            .collect();
        for id in due {
            self.udp_end(id, true);
        }
    }
}
