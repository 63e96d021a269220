//! `ClientIP`: the IPs and CIDR ranges a rule accepts, with Go's parsing rules.

use std::net::IpAddr;

use super::text::split_host_port;

/// One accepted address or network.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Entry {
    Ip(IpAddr),
    Net(IpAddr, u8),
}

/// The set of client addresses a `ClientIP` matcher accepts (Traefik's `ip.Checker`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IpChecker {
    entries: Vec<Entry>,
}

impl IpChecker {
    /// Parses IPs (`127.0.0.1`, `::1`) and CIDRs (`10.0.0.0/8`); Go's strict parsing applies
    /// (`0127.2.3.1` is invalid, zones are rejected).
    pub fn parse(values: &[String]) -> Result<Self, String> {
        let mut entries = Vec::with_capacity(values.len());
        for v in values {
            if let Ok(ip) = v.parse::<IpAddr>() {
                entries.push(Entry::Ip(ip.to_canonical()));
                continue;
            }
            let bad = || format!("parsing CIDR trusted IPs {v}: invalid CIDR address: {v}");
            let (addr, bits) = v.split_once('/').ok_or_else(bad)?;
            let ip: IpAddr = addr.parse().map_err(|_| bad())?;
            if bits.is_empty() || bits.len() > 3 || !bits.bytes().all(|b| b.is_ascii_digit()) {
                return Err(bad());
            }
            let bits: u8 = bits.parse().map_err(|_| bad())?;
            let max = if ip.is_ipv4() { 32 } else { 128 };
            if bits > max {
                return Err(bad());
            }
            entries.push(Entry::Net(ip, bits));
        }
        Ok(IpChecker { entries })
    }

    /// Whether `ip` is one of the addresses or inside one of the networks. An IPv4-mapped IPv6
    /// address counts as its IPv4 address, as in Go.
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        self.entries.iter().any(|e| match *e {
            Entry::Ip(a) => a == ip,
            Entry::Net(net, bits) => in_net(ip, net, bits),
        })
    }
}

fn in_net(ip: IpAddr, net: IpAddr, bits: u8) -> bool {
    match (ip, net) {
        (IpAddr::V4(a), IpAddr::V4(n)) => {
            let mask = if bits == 0 {
                0
            } else {
                u32::MAX << (32 - bits)
            };
            u32::from(a) & mask == u32::from(n) & mask
        }
        (IpAddr::V6(a), IpAddr::V6(n)) => {
            let mask = if bits == 0 {
                0
            } else {
                u128::MAX << (128 - bits)
            };
            u128::from(a) & mask == u128::from(n) & mask
        }
        _ => false,
    }
}

/// The client IP Traefik's `ClientIP` sees for a Go `RemoteAddr` string: the host part of
/// `host:port` (or the whole value when it has no port), parsed as an IP (an IPv6 zone is
/// ignored). `None` when it is not an IP; such a request never matches `ClientIP`.
pub fn parse_remote_addr(remote: &str) -> Option<IpAddr> {
    let host = split_host_port(remote).map_or(remote, |(h, _)| h);
    let host = match host.split_once('%') {
        Some((h, zone)) if h.contains(':') && !zone.is_empty() => h,
        _ => host,
    };
    host.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(v: &[&str]) -> Result<IpChecker, String> {
        IpChecker::parse(&v.iter().map(|s| s.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn checker() {
        assert!(c(&["1"]).is_err());
        assert!(c(&["0127.2.3.1"]).is_err());
        assert!(c(&["10.0.0.0/33"]).is_err());
        let k = c(&["192.168.1.0/24", "::1", "10.0.0.1"]).unwrap();
        assert!(k.contains("192.168.1.7".parse().unwrap()));
        assert!(k.contains("::ffff:10.0.0.1".parse().unwrap()));
        assert!(k.contains("::1".parse().unwrap()));
        assert!(!k.contains("192.168.2.1".parse().unwrap()));
    }

    #[test]
    fn remote_addr() {
        assert_eq!(parse_remote_addr("1.2.3.4:80"), "1.2.3.4".parse().ok());
        assert_eq!(parse_remote_addr("1.2.3.4"), "1.2.3.4".parse().ok());
        assert_eq!(
            parse_remote_addr("[fe80::1%eth0]:80"),
            "fe80::1".parse().ok()
        );
        assert_eq!(parse_remote_addr(""), None);
        assert_eq!(parse_remote_addr("foo:80"), None);
    }
}
