//! TCP services as Traefik builds them (`pkg/server/service/tcp`, `pkg/tcp/dialer.go`): a
//! `loadBalancer` is a round robin over its servers (weight 1 each, shuffled once), a
//! `weighted` service a round robin over other TCP services; the leaves are servers with the
//! dialling settings of their `serversTransport`. Built per router, as Traefik builds a
//! handler per router.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use crate::config::dynamic::{TCPServersTransport, TCPService};
use crate::config::{Duration, Severity};
use crate::tls::client::UpstreamTls;

use super::compile::RootsLoader;
use super::lb::SplitMix;
use super::round_robin::{qualified, split_host_port, weighted_members, Balancer, Member};

/// A TCP service's balancer.
pub type TcpBalancer = Balancer<TcpServer>;

/// How connections to a server are dialled (its service's `serversTransport`).
#[derive(Debug)]
pub struct TcpTransport {
    /// `dialTimeout`: a connect not done by then closes the client connection.
    pub dial_timeout: Duration,
    /// After one side finished sending and the other was half-closed, how long the other
    /// side has to finish (`terminationDelay`); `None` (negative) waits for it.
    pub termination_delay: Option<Duration>,
    /// `proxyProtocol.version` (1 or 2): a PROXY header goes first to the server.
    pub proxy_protocol: Option<u8>,
    /// The TLS client for servers with `tls: true` (no ALPN, as Go's TCP dialer).
    pub tls: Option<UpstreamTls>,
}

/// One server of a TCP service.
#[derive(Debug, Clone)]
pub struct TcpServer {
    /// Host name or IP (empty means the local system, as Go's dialer takes it).
    pub host: Arc<str>,
    /// Port; `None` when the address has no numeric port (dialling fails, as in Traefik).
    pub port: Option<u16>,
    /// `tls: true`: TLS to the server with the transport's client configuration.
    pub tls: bool,
    /// Its dialling settings.
    pub transport: Arc<TcpTransport>,
}

/// Builds TCP services for routers.
pub(super) struct TcpServices<'a> {
    /// `default@internal`: the static `tcpServersTransport`.
    pub default: TCPServersTransport,
    pub services: &'a BTreeMap<String, TCPService>,
    pub transports: &'a BTreeMap<String, TCPServersTransport>,
    pub rng: &'a mut SplitMix,
    pub system_roots: RootsLoader,
    /// Transports built so far, by qualified name (`Err`: Traefik's error for it).
    pub built: BTreeMap<String, Result<Arc<TcpTransport>, String>>,
    pub next_tls_id: u32,
    pub building: BTreeSet<String>,
    /// Problems found: (key path, message, severity).
    pub errors: Vec<(String, String, Severity)>,
}

/// The static `tcpServersTransport` as the `default@internal` TCP transport.
pub(super) fn default_transport(
    st: Option<&crate::config::static_config::TCPServersTransport>,
) -> TCPServersTransport {
    let Some(st) = st else {
        return TCPServersTransport::default();
    };
    TCPServersTransport {
        dial_keep_alive: st.dial_keep_alive,
        dial_timeout: st.dial_timeout,
        termination_delay: st.termination_delay,
        tls: st
            .tls
            .as_ref()
            .map(|t| crate::config::dynamic::TLSClientConfig {
                insecure_skip_verify: t.insecure_skip_verify,
                root_cas: t.root_cas.clone(),
                spiffe: t.spiffe.as_ref().map(|_| Default::default()),
                ..Default::default()
            }),
        ..TCPServersTransport::default()
    }
}

impl TcpServices<'_> {
    /// Builds service `name` (qualified) as a new balancer, or Traefik's error.
    pub fn build(&mut self, name: &str) -> Result<Arc<TcpBalancer>, String> {
        let local = name.strip_suffix("@file").unwrap_or(name);
        let Some(svc) = self.services.get(local).filter(|_| name.ends_with("@file")) else {
            return Err(format!("the service \"{name}\" does not exist"));
        };
        let path = format!("tcp.services.{local}");
        if !self.building.insert(name.to_string()) {
            return Err(format!("recursion detected in the TCP service \"{name}\""));
        }
        let built = match (&svc.load_balancer, &svc.weighted) {
            (Some(_), Some(_)) => Err("cannot create service: multi-types service not supported, consider declaring two different pieces of service instead".to_string()),
            (Some(lb), None) => self.load_balancer(&path, lb),
            (None, Some(w)) => {
                let mut children: Vec<_> = (w.services.iter())
                    .map(|c| (c.name.as_str(), c.weight))
                    .collect();
                self.rng.shuffle(&mut children);
                match (weighted_members(children, |n| self.build(n)), &w.health_check) {
                    (Err(e), _) => Err(e),
                    (Ok(_), Some(_)) => Err("health checks of TCP services are not built in TrafficCop: this service is not served".into()),
                    (Ok(members), None) => Ok(Arc::new(Balancer::new(members))),
                }
            }
            (None, None) => Err(format!(
                "the service \"{name}\" does not have any type defined"
            )),
        };
        self.building.remove(name);
        if let Err(e) = &built {
            let entry = (path, e.clone(), Severity::ObjectError);
            if !self.errors.contains(&entry) {
                self.errors.push(entry);
            }
        }
        built
    }

    fn load_balancer(
        &mut self,
        path: &str,
        lb: &crate::config::dynamic::TCPServersLoadBalancer,
    ) -> Result<Arc<TcpBalancer>, String> {
        if lb.health_check.is_some() {
            return Err("health checks of TCP services are not built in TrafficCop: this service is not served".into());
        }
        let transport = self.transport(lb)?;
        let mut servers: Vec<_> = lb.servers.iter().collect();
        self.rng.shuffle(&mut servers);
        let mut members = Vec::new();
        for s in servers {
            let Some((host, port)) = split_host_port(&s.address) else {
                self.errors.push((
                    path.to_string(),
                    format!(
                        "server address {:?}: missing port in address; the server is left out",
                        s.address
                    ),
                    Severity::Warning,
                ));
                continue;
            };
            let server = TcpServer {
                host: host.into(),
                port: port.parse().ok(),
                tls: s.tls,
                transport: Arc::clone(&transport),
            };
            members.push((Member::Server(server), 1));
        }
        Ok(Arc::new(Balancer::new(members)))
    }

    /// The dialling settings of a `loadBalancer`, as Traefik's dialer manager builds them:
    /// `terminationDelay` and `proxyProtocol` from the transport when one is named, else from
    /// the deprecated keys of the load balancer (a delay read as nanoseconds, 0 unset).
    fn transport(
        &mut self,
        lb: &crate::config::dynamic::TCPServersLoadBalancer,
    ) -> Result<Arc<TcpTransport>, String> {
        let name = if lb.servers_transport.is_empty() {
            "default@internal".to_string()
        } else {
            qualified(&lb.servers_transport)
        };
        let default = self.default.clone();
        let st = match name.as_str() {
            "default@internal" => &default,
            _ => match name
                .strip_suffix("@file")
                .and_then(|n| self.transports.get(n))
            {
                Some(st) => st,
                None => return Err(format!("no transport configuration found for \"{name}\"")),
            },
        };
        let (delay, proxy) = if lb.servers_transport.is_empty() {
            let delay = Duration(lb.termination_delay.unwrap_or(0));
            (delay, lb.proxy_protocol.as_ref().map(|p| p.version))
        } else {
            (
                st.termination_delay,
                st.proxy_protocol.as_ref().map(|p| p.version),
            )
        };
        if let Some(v) = proxy.filter(|v| !(1..=2).contains(v)) {
            return Err(format!("unknown proxyProtocol version: {v}"));
        }
        // The TLS client (and the system's roots) only for a service with a TLS server.
        let needs_tls = lb.servers.iter().any(|s| s.tls);
        let key = format!("{name}|{}|{proxy:?}|{needs_tls}", delay.0);
        if let Some(built) = self.built.get(&key) {
            return built.clone();
        }
        let tls = if needs_tls {
            self.client_tls(st)
        } else {
            Ok(None)
        };
        let built = tls.map(|tls| {
            Arc::new(TcpTransport {
                dial_timeout: st.dial_timeout,
                termination_delay: (delay.0 >= 0).then_some(delay),
                proxy_protocol: proxy.map(|v| v as u8),
                tls,
            })
        });
        self.built.insert(key, built.clone());
        built
    }

    /// The transport's TLS client: its `tls` section, or the system's roots and the server's
    /// host as name when it has none.
    fn client_tls(&mut self, st: &TCPServersTransport) -> Result<Option<UpstreamTls>, String> {
        let t = st.tls.clone().unwrap_or_default();
        if t.spiffe.is_some() {
            return Err("SPIFFE is enabled for this transport, but not configured".into());
        }
        let tls = crate::tls::client::TransportTls {
            server_name: &t.server_name,
            insecure_skip_verify: t.insecure_skip_verify,
            root_cas: &t.root_cas,
            certificates: t
                .certificates
                .iter()
                .map(|c| (c.cert_file.as_str(), c.key_file.as_str()))
                .collect(),
            disable_http2: true,
            no_alpn: true,
            peer_cert_uri: &t.peer_cert_uri,
            protocols: Default::default(),
        };
        self.next_tls_id += 1;
        let up = crate::tls::client::client_config_from(&tls, self.system_roots, self.next_tls_id)?;
        Ok(Some(up))
    }
}
