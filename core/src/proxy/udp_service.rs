//! UDP routing as Traefik builds it: per UDP entry point, one router (names sorted in
//! descending order, the first whose service builds), and its service as a tree of round-robin
//! balancers (`loadBalancer` servers with weight 1, `weighted` services with their weights)
//! whose leaves are server addresses. A balancer is shared by every worker, so sessions are
//! spread as Traefik's single balancer spreads them.
//!
//! The balancer is Traefik's UDP one, not the HTTP earliest-deadline one: the classic
//! interleaved weighted round robin (a current weight stepping down by the weights' GCD).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};

use crate::config::dynamic::{UDPConfiguration, UDPService};
use crate::config::static_config::StaticConfiguration;
use crate::config::{Duration, Severity};

use super::lb::SplitMix;

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

/// What a balancer hands a new session to.
#[derive(Debug)]
enum Member {
    Server(UdpServer),
    Service(Arc<UdpBalancer>),
}

/// Traefik's UDP weighted round robin over servers or services.
#[derive(Debug)]
pub struct UdpBalancer {
    members: Vec<(Member, i64)>,
    /// The largest weight (0 or less: nothing is ever picked), fixed at build.
    max: i64,
    /// The weights' GCD, the step the current weight goes down by, fixed at build.
    step: i64,
    state: Mutex<RoundRobin>,
}

#[derive(Debug)]
struct RoundRobin {
    index: Option<usize>,
    current: i64,
}

fn gcd(a: i64, b: i64) -> i64 {
    let (mut a, mut b) = (a.abs(), b.abs());
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

impl UdpBalancer {
    fn new(members: Vec<(Member, i64)>) -> Self {
        UdpBalancer {
            max: members.iter().map(|m| m.1).max().unwrap_or(0),
            step: members.iter().fold(0, |g, m| gcd(g, m.1)).max(1),
            members,
            state: Mutex::new(RoundRobin {
                index: None,
                current: 0,
            }),
        }
    }

    /// The member index the next session goes to, or `None` (no members, or every weight is
    /// zero or less: Traefik closes the session).
    fn next_index(&self) -> Option<usize> {
        let (n, max, step) = (self.members.len(), self.max, self.step);
        if max <= 0 {
            return None;
        }
        let mut rr = self.state.lock().unwrap_or_else(|e| e.into_inner());
        // Within `n * (max / step + 1)` steps some member qualifies; bounded all the same.
        for _ in 0..n.saturating_mul((max / step) as usize + 2) {
            let i = rr.index.map_or(0, |i| (i + 1) % n);
            rr.index = Some(i);
            if i == 0 {
                rr.current -= step;
                if rr.current <= 0 {
                    rr.current = max;
                }
            }
            if self.members[i].1 >= rr.current {
                return Some(i);
            }
        }
        None
    }

    /// The server a new session goes to, walking nested services.
    pub fn pick(&self) -> Option<UdpServer> {
        match &self.members[self.next_index()?].0 {
            Member::Server(s) => Some(s.clone()),
            Member::Service(b) => b.pick(),
        }
    }
}

/// Splits `host:port` as Go's `net.SplitHostPort` (brackets for IPv6); `None` when it fails.
fn split_host_port(address: &str) -> Option<(&str, &str)> {
    if let Some(rest) = address.strip_prefix('[') {
        let (host, port) = rest.split_once("]:")?;
        return Some((host, port));
    }
    let (host, port) = address.rsplit_once(':')?;
    if host.contains(':') {
        return None;
    }
    Some((host, port))
}

/// Qualifies a service name with the provider (`name@file`) unless it names one.
fn qualified(name: &str) -> String {
    if name.contains('@') {
        name.to_string()
    } else {
        format!("{name}@file")
    }
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
                let mut children: Vec<_> = w.services.iter().collect();
                self.rng.shuffle(&mut children);
                let mut members = Vec::new();
                let mut failed = None;
                for c in children {
                    match self.build(&qualified(&c.name)) {
                        Ok(b) => members.push((Member::Service(b), c.weight.unwrap_or(1))),
                        Err(e) => {
                            failed = Some(e);
                            break;
                        }
                    }
                }
                match failed {
                    Some(e) => Err(e),
                    None => Ok(Arc::new(UdpBalancer::new(members))),
                }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn balancer(weights: &[i64]) -> UdpBalancer {
        let members = weights
            .iter()
            .enumerate()
            .map(|(i, w)| {
                let s = UdpServer {
                    host: format!("s{i}").into(),
                    port: Some(1),
                };
                (Member::Server(s), *w)
            })
            .collect();
        UdpBalancer::new(members)
    }

    fn sequence(b: &UdpBalancer, n: usize) -> String {
        (0..n)
            .map(|_| match b.pick() {
                Some(s) => s.host.chars().nth(1).unwrap_or('?'),
                None => '-',
            })
            .collect()
    }

    #[test]
    fn equal_weights_take_turns() {
        assert_eq!(sequence(&balancer(&[1, 1, 1]), 7), "0120120");
    }

    #[test]
    fn weights_interleave_by_gcd_steps() {
        // max 3, gcd 1: round at current 3 takes only s0, at 2 s0 and s1, at 1 all.
        assert_eq!(sequence(&balancer(&[3, 2, 1]), 12), "001012001012");
        // gcd 2: weights 4 and 2 step down 4, 2.
        assert_eq!(sequence(&balancer(&[4, 2]), 6), "001001");
    }

    #[test]
    fn no_member_or_no_weight_picks_nothing() {
        assert_eq!(sequence(&balancer(&[]), 2), "--");
        assert_eq!(sequence(&balancer(&[0, 0]), 2), "--");
        assert_eq!(sequence(&balancer(&[0, 2]), 3), "111");
        // Negative weights never qualify, and never loop forever.
        assert_eq!(sequence(&balancer(&[-3, 1]), 2), "11");
    }

    #[test]
    fn host_port_split_as_go() {
        assert_eq!(split_host_port("a:53"), Some(("a", "53")));
        assert_eq!(split_host_port("[::1]:53"), Some(("::1", "53")));
        assert_eq!(split_host_port("::1:53"), None);
        assert_eq!(split_host_port("a"), None);
        assert_eq!(split_host_port(":53"), Some(("", "53")));
    }
}
