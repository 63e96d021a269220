//! Traefik's `SetEffectiveConfiguration`: the implicit entry points (`http` on :80 when none is
//! defined, `traefik` on :8080 when the API, ping, metrics or REST need it), and entry point
//! address parsing.

use super::*;

/// The transport protocol of an entry point.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// TCP (the default; `/tcp` suffix).
    Tcp,
    /// UDP (`/udp` suffix).
    Udp,
}

/// An entry point address split into host, port and protocol.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListenAddress {
    /// The host part, without brackets; empty means all interfaces.
    pub host: String,
    /// The port.
    pub port: u16,
    /// TCP or UDP.
    pub protocol: Protocol,
}

impl ListenAddress {
    /// The address as Go's `net.Listen` got it (`:80`, `127.0.0.1:80`, `[::1]:80`), for errors.
    pub fn listen_string(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }

    /// The `host:port` form to bind (`0.0.0.0`/`[::]` style hosts kept; empty host = all
    /// interfaces, IPv6 and IPv4).
    pub fn bind_string(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else if self.host.is_empty() {
            format!("[::]:{}", self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }
}

/// The index of the first of `resolved` (entry point listening addresses, in order, each with
/// its `reusePort`) whose port an earlier one already holds on the same IP or where either is
/// unspecified, unless both set `reusePort`. TrafficCop binds every address once per worker
/// with `SO_REUSEPORT`, so two entry points on one port would share it silently; Traefik fails
/// to start with "address already in use" unless both entry points set `reusePort` (then the
/// kernel spreads connections between them), and so must we.
pub fn overlapping_address(resolved: &[(std::net::SocketAddr, bool)]) -> Option<usize> {
    resolved.iter().enumerate().position(|(i, (a, a_reuse))| {
        resolved[..i].iter().any(|(b, b_reuse)| {
            !(*a_reuse && *b_reuse)
                && a.port() == b.port()
                && a.port() != 0
                && (a.ip() == b.ip() || a.ip().is_unspecified() || b.ip().is_unspecified())
        })
    })
}

impl EntryPoint {
    /// Parses `address` as Traefik does: an optional `/tcp` or `/udp` suffix (case-insensitive),
    /// then `host:port` with an optional host.
    pub fn parsed_address(&self) -> Result<ListenAddress, String> {
        let (addr, protocol) = match self.address.rsplit_once('/') {
            Some((a, p)) if p.eq_ignore_ascii_case("tcp") => (a, Protocol::Tcp),
            Some((a, p)) if p.eq_ignore_ascii_case("udp") => (a, Protocol::Udp),
            Some(_) => return Err("invalid protocol".to_string()),
            None => (self.address.as_str(), Protocol::Tcp),
        };
        if addr.is_empty() {
            // Go listens on a random port of every interface for an empty address.
            return Ok(ListenAddress {
                host: String::new(),
                port: 0,
                protocol,
            });
        }
        let Some((host, port)) = addr.rsplit_once(':') else {
            return Err(format!("address {addr}: missing port in address"));
        };
        let host = host
            .strip_prefix('[')
            .and_then(|h| h.strip_suffix(']'))
            .unwrap_or(host);
        let port = match port {
            "" => 0,
            p => p
                .parse::<u16>()
                .map_err(|_| format!("address {addr}: invalid port \"{p}\""))?,
        };
        Ok(ListenAddress {
            host: host.to_string(),
            port,
            protocol,
        })
    }

    /// Whether this entry point listens on UDP.
    pub fn is_udp(&self) -> bool {
        matches!(self.parsed_address(), Ok(a) if a.protocol == Protocol::Udp)
    }
}

impl StaticConfiguration {
    /// Applies Traefik's `SetEffectiveConfiguration`.
    pub fn set_effective(&mut self) {
        if self.entry_points.is_empty() {
            self.entry_points.insert(
                "http".to_string(),
                EntryPoint {
                    address: ":80".to_string(),
                    ..EntryPoint::default()
                },
            );
        }
        let api_insecure = self.api.as_ref().is_some_and(|a| a.insecure);
        let ping_on_traefik = self
            .ping
            .as_ref()
            .is_some_and(|p| !p.manual_routing && p.entry_point == "traefik");
        let prometheus_on_traefik = self
            .metrics
            .as_ref()
            .and_then(|m| m.prometheus.as_ref())
            .is_some_and(|p| !p.manual_routing && p.entry_point == "traefik");
        let rest_insecure = self
            .providers
            .as_ref()
            .and_then(|p| p.rest.as_ref())
            .is_some_and(|r| r.insecure);
        if (api_insecure || ping_on_traefik || prometheus_on_traefik || rest_insecure)
            && !self.entry_points.contains_key("traefik")
        {
            self.entry_points.insert(
                "traefik".to_string(),
                EntryPoint {
                    address: ":8080".to_string(),
                    ..EntryPoint::default()
                },
            );
        }
        if let Some(tracing) = &mut self.tracing {
            if tracing.resource_attributes.is_empty() && !tracing.global_attributes.is_empty() {
                tracing.resource_attributes = tracing.global_attributes.clone();
            }
        }
        if let Some(providers) = &mut self.providers {
            for p in &mut providers.precedence {
                *p = p.to_ascii_lowercase();
            }
        }
        for resolver in self.certificates_resolvers.values_mut() {
            if let Some(acme) = &mut resolver.acme {
                if acme.ca_server.is_empty()
                    || acme.ca_server.contains("acme-v01.api.letsencrypt.org")
                {
                    acme.ca_server = "https://acme-v02.api.letsencrypt.org/directory".into();
                } else if acme.ca_server.contains("acme-staging.api.letsencrypt.org") {
                    acme.ca_server =
                        "https://acme-staging-v02.api.letsencrypt.org/directory".into();
                }
            }
        }
    }

    /// The entry points that routers without `entryPoints` attach to: every non-UDP entry point
    /// except `traefik`, or only those with `asDefault: true` when any has it; sorted by name.
    pub fn default_entry_points(&self) -> Vec<String> {
        let candidates = || {
            self.entry_points
                .iter()
                .filter(|(name, ep)| name.as_str() != "traefik" && !ep.is_udp())
        };
        let any_default = candidates().any(|(_, ep)| ep.as_default);
        candidates()
            .filter(|(_, ep)| !any_default || ep.as_default)
            .map(|(name, _)| name.clone())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ep(addr: &str) -> EntryPoint {
        EntryPoint {
            address: addr.into(),
            ..EntryPoint::default()
        }
    }

    #[test]
    fn addresses() {
        let a = ep(":80").parsed_address().unwrap();
        assert_eq!(
            (a.host.as_str(), a.port, a.protocol),
            ("", 80, Protocol::Tcp)
        );
        let a = ep("[::1]:53/UDP").parsed_address().unwrap();
        assert_eq!(
            (a.host.as_str(), a.port, a.protocol),
            ("::1", 53, Protocol::Udp)
        );
        assert_eq!(
            ep(":80/sctp").parsed_address().unwrap_err(),
            "invalid protocol"
        );
        assert!(ep("localhost").parsed_address().is_err());
    }

    #[test]
    fn overlapping_addresses() {
        let a = |s: &str| (s.parse::<std::net::SocketAddr>().unwrap(), false);
        let shared = |s: &str| (s.parse::<std::net::SocketAddr>().unwrap(), true);
        // Two entry points that both set `reusePort` may share a port, as in Traefik; one
        // alone may not.
        assert_eq!(
            overlapping_address(&[shared("127.0.0.1:80"), shared("[::]:80")]),
            None
        );
        assert_eq!(
            overlapping_address(&[shared("127.0.0.1:80"), a("127.0.0.1:80")]),
            Some(1)
        );
        assert_eq!(
            overlapping_address(&[a("127.0.0.1:80"), a("127.0.0.2:80")]),
            None
        );
        assert_eq!(
            overlapping_address(&[a("127.0.0.1:80"), a("127.0.0.1:81")]),
            None
        );
        assert_eq!(
            overlapping_address(&[a("127.0.0.1:0"), a("127.0.0.1:0")]),
            None
        );
        assert_eq!(
            overlapping_address(&[a("127.0.0.1:80"), a("127.0.0.1:81"), a("127.0.0.1:80")]),
            Some(2)
        );
        assert_eq!(
            overlapping_address(&[a("[::]:80"), a("127.0.0.1:80")]),
            Some(1)
        );
    }

    #[test]
    fn implicit_entry_points() {
        let mut c = StaticConfiguration::process_defaults();
        c.set_effective();
        assert_eq!(c.entry_points["http"].address, ":80");
        assert!(!c.entry_points.contains_key("traefik"));
        c.ping = Some(Ping::default());
        c.set_effective();
        assert_eq!(c.entry_points["traefik"].address, ":8080");
        assert_eq!(c.default_entry_points(), vec!["http".to_string()]);
    }
}
