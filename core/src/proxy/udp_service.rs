//! UDP routing as Traefik builds it: per UDP entry point, one router (names sorted in
//! descending order, the first whose service builds), and its service as a tree of round-robin
//! balancers (`loadBalancer` servers with weight 1, `weighted` services with their weights)
//! whose leaves are server addresses. A balancer is shared by every worker, so sessions are
//! spread as Traefik's single balancer spreads them.
//!
//! The balancer is Traefik's UDP one, not the HTTP earliest-deadline one (see
//! `round_robin`).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use crate::config::dynamic::{UDPConfiguration, UDPService};
use crate::config::static_config::StaticConfiguration;
use crate::config::{Duration, Severity};

use super::lb::SplitMix;
use super::round_robin::{qualified, split_host_port, weighted_members, Balancer, Member};

/// Traefik's UDP round robin over servers or services.
pub type UdpBalancer = Balancer<UdpServer>;

/// One UDP entry point of a configuration generation.
#[derive(Debug)]
pub struct CompiledUdpEntryPoint {
    /// Its name.
    pub name: String,
    /// Host (may be empty: every address) and port to listen on.
    pub address: crate::config::static_config::ListenAddress,
    /// `udp.timeout`: a session without traffic for this long ends.
    pub timeout: Duration,
    /// The service of the router this generation serves on it, if one builds.
    pub handler: Option<Arc<UdpBalancer>>,
}

/// A UDP server address as configured (`host:port`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UdpServer {
    /// Host name or IP.
    pub host: Arc<str>,
    /// Port; `None` when the address has no numeric port (dialling it fails, as in Traefik).
    pub port: Option<u16>,
}

struct Builder<'a> {
    services: &'a BTreeMap<String, UDPService>,
    rng: &'a mut SplitMix,
    building: BTreeSet<String>,
    errors: &'a mut Vec<(String, String, Severity)>,
}

impl Builder<'_> {
    /// Builds the balancer of service `name` (qualified), as a new instance for this router
    /// (Traefik builds one per router as well).
    fn build(&mut self, name: &str) -> Result<Arc<UdpBalancer>, String> {
        let local = name.strip_suffix("@file").unwrap_or(name);
        let Some(svc) = self.services.get(local).filter(|_| name.ends_with("@file")) else {
            return Err(format!("the UDP service \"{name}\" does not exist"));
        };
        let path = format!("udp.services.{local}");
        if !self.building.insert(name.to_string()) {
            let e = format!("recursion detected in the UDP service \"{name}\"");
            self.errors.push((path, e.clone(), Severity::ObjectError));
            return Err(e);
        }
        let built = match (&svc.load_balancer, &svc.weighted) {
            (Some(_), Some(_)) => {
                let e = "cannot create service: multi-types service not supported, consider declaring two different pieces of service instead".to_string();
                self.errors.push((path, e.clone(), Severity::ObjectError));
                Err(e)
            }
            (Some(lb), None) => {
                let mut servers: Vec<&str> =
                    lb.servers.iter().map(|s| s.address.as_str()).collect();
                self.rng.shuffle(&mut servers);
                let members = servers
                    .into_iter()
                    .filter_map(|a| {
                        let Some((host, port)) = split_host_port(a) else {
                            self.errors.push((
                                path.clone(),
                                format!("server address {a:?}: missing port in address; the server is left out"),
                                Severity::Warning,
                            ));
                            return None;
                        };
                        // An empty host is the local system, as Go's dialer takes it.
                        let host = if host.is_empty() { "127.0.0.1" } else { host };
                        let server = UdpServer {
                            host: host.into(),
                            port: port.parse().ok(),
                        };
                        Some((Member::Server(server), 1))
                    })
                    .collect();
                Ok(Arc::new(UdpBalancer::new(members)))
            }
            (None, Some(w)) => {
                let mut children: Vec<_> = (w.services.iter())
                    .map(|c| (c.name.as_str(), c.weight))
                    .collect();
                self.rng.shuffle(&mut children);
                weighted_members(children, |n| self.build(n))
                    .map(|members| Arc::new(UdpBalancer::new(members)))
            }
            (None, None) => {
                let e = format!("the UDP service \"{name}\" does not have any type defined");
                self.errors.push((path, e.clone(), Severity::ObjectError));
                Err(e)
            }
        };
        self.building.remove(name);
        built
    }
}

/// Compiles the UDP entry points of `st` with the routers and services of `udp`. Problems are
/// returned as (key path, message, severity); routers whose key path is in `broken` (already
/// reported by validation) are left out.
pub fn compile_udp(
    st: &StaticConfiguration,
    udp: Option<&UDPConfiguration>,
    broken: &BTreeSet<String>,
    rng: &mut SplitMix,
    errors: &mut Vec<(String, String, Severity)>,
) -> Vec<CompiledUdpEntryPoint> {
    let empty = UDPConfiguration::default();
    let udp = udp.unwrap_or(&empty);
    let mut out = Vec::new();
    let udp_eps: Vec<&String> = st
        .entry_points
        .iter()
        .filter(|(_, ep)| ep.is_udp())
        .map(|(n, _)| n)
        .collect();
    for (name, ep) in &st.entry_points {
        let Ok(address) = ep.parsed_address() else {
            continue;
        };
        if !ep.is_udp() {
            continue;
        }
        // Routers without entry points are on every UDP entry point.
        let mut routers: Vec<(&String, &String)> = udp
            .routers
            .iter()
            .filter(|(n, r)| {
                if broken.contains(&format!("udp.routers.{n}")) {
                    return false;
                }
                if r.entry_points.is_empty() {
                    udp_eps.contains(&name)
                } else {
                    r.entry_points.contains(name)
                }
            })
            .map(|(n, r)| (n, &r.service))
            .collect();
        if routers.len() > 1 {
            errors.push((
                format!("entryPoints.{name}"),
                "config has more than one udp router for a given entrypoint: only the first one (router names in descending order) whose service builds is served".into(),
                Severity::Warning,
            ));
        }
        // As Traefik: names in descending order, the first that builds.
        routers.sort_by(|a, b| b.0.cmp(a.0));
        let mut handler = None;
        for (router, service) in routers {
            if service.is_empty() {
                continue;
            }
            let mut b = Builder {
                services: &udp.services,
                rng,
                building: BTreeSet::new(),
                errors,
            };
            match b.build(&qualified(service)) {
                Ok(h) => {
                    handler = Some(h);
                    break;
                }
                Err(e) => errors.push((format!("udp.routers.{router}"), e, Severity::ObjectError)),
            }
        }
        let timeout = ep
            .udp
            .as_ref()
            .map_or(Duration::from_secs(3), |u| u.timeout);
        out.push(CompiledUdpEntryPoint {
            name: name.clone(),
            address,
            timeout,
            handler,
        });
    }
    out
}
