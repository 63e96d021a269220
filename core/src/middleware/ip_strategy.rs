//! Traefik's `ipStrategy` (`pkg/ip/strategy.go`): which address is "the client" for
//! ipAllowList and friends. `depth` takes the n-th `X-Forwarded-For` entry from the right,
//! `excludedIPs` the right-most entry not excluded, otherwise the TCP peer; `ipv6Subnet` maps an
//! IPv6 address to the first address of its subnet.

use std::net::{IpAddr, Ipv6Addr};

use super::RequestContext;
use crate::config::dynamic;
use crate::http::RequestHead;
use crate::rule::ip::IpChecker;

/// A built IP strategy.
#[derive(Debug, Clone)]
pub enum IpStrategy {
    /// The TCP peer.
    RemoteAddr {
        /// `ipv6Subnet`.
        ipv6_subnet: Option<u8>,
    },
    /// The `depth`-th `X-Forwarded-For` entry from the right.
    Depth {
        /// `depth` (> 0).
        depth: usize,
        /// `ipv6Subnet`.
        ipv6_subnet: Option<u8>,
    },
    /// The right-most `X-Forwarded-For` entry not in `excludedIPs`.
    Pool(IpChecker),
}

impl IpStrategy {
    /// Traefik's `IPStrategy.Get`.
    pub fn new(cfg: Option<&dynamic::IPStrategy>) -> Result<Self, String> {
        let Some(s) = cfg else {
            return Ok(IpStrategy::RemoteAddr { ipv6_subnet: None });
        };
        let subnet = || match s.ipv6_subnet {
            Some(n) if !(1..=128).contains(&n) => Err(format!(
                "invalid IPv6 subnet {n} value, should be greater to 0 and lower or equal to 128"
            )),
            other => Ok(other.map(|n| n as u8)),
        };
        if s.depth > 0 {
            return Ok(IpStrategy::Depth {
                depth: s.depth as usize,
                ipv6_subnet: subnet()?,
            });
        }
        if !s.excluded_ips.is_empty() {
            return Ok(IpStrategy::Pool(IpChecker::parse(&s.excluded_ips)?));
        }
        Ok(IpStrategy::RemoteAddr {
            ipv6_subnet: subnet()?,
        })
    }

    /// The client address as text, as Go's strategies return it ("" when there is none).
    pub fn client_ip(&self, head: &RequestHead, cx: &RequestContext<'_>) -> String {
        let xff = || head.headers.get_str("X-Forwarded-For").unwrap_or("");
        match self {
            IpStrategy::RemoteAddr { ipv6_subnet } => match cx.client_ip {
                Some(ip) => mask(&ip.to_string(), *ipv6_subnet),
                None => String::new(),
            },
            IpStrategy::Depth { depth, ipv6_subnet } => {
                let parts: Vec<&str> = xff().split(',').collect();
                if parts.len() < *depth {
                    return String::new();
                }
                mask(parts[parts.len() - depth].trim(), *ipv6_subnet)
            }
            IpStrategy::Pool(checker) => xff()
                .split(',')
                .rev()
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .find(|v| !v.parse::<IpAddr>().is_ok_and(|ip| checker.contains(ip)))
                .unwrap_or("")
                .to_string(),
        }
    }
}

/// Go's `getIPv6SubnetIP`: the first address of the `/bits` subnet of an IPv6 address; other
/// values unchanged.
fn mask(ip: &str, bits: Option<u8>) -> String {
    let (Some(bits), Ok(IpAddr::V6(v6))) = (bits, ip.parse::<IpAddr>()) else {
        return ip.to_string();
    };
    let m = if bits == 0 {
        0
    } else {
        u128::MAX << (128 - u32::from(bits))
    };
    Ipv6Addr::from(u128::from(v6) & m).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::middleware::tests_support::{cx, get};

    fn strat(depth: i64, excluded: &[&str], subnet: Option<i64>) -> Result<IpStrategy, String> {
        IpStrategy::new(Some(&dynamic::IPStrategy {
            depth,
            excluded_ips: excluded.iter().map(|s| s.to_string()).collect(),
            ipv6_subnet: subnet,
        }))
    }

    #[test]
    fn strategies() {
        let mut h = get("/");
        h.headers
            .append("X-Forwarded-For", "10.0.0.1, 10.0.0.2,10.0.0.3");
        let c = cx();
        assert_eq!(
            IpStrategy::new(None).unwrap().client_ip(&h, &c),
            "192.0.2.1"
        );
        assert_eq!(strat(1, &[], None).unwrap().client_ip(&h, &c), "10.0.0.3");
        assert_eq!(strat(3, &[], None).unwrap().client_ip(&h, &c), "10.0.0.1");
        assert_eq!(strat(4, &[], None).unwrap().client_ip(&h, &c), "");
        assert_eq!(
            strat(0, &["10.0.0.3", "10.0.0.2"], None)
                .unwrap()
                .client_ip(&h, &c),
            "10.0.0.1"
        );
        assert!(strat(0, &[], Some(129)).is_err());
        assert_eq!(mask("2001:db8::abcd:1", Some(80)), "2001:db8::");
        assert_eq!(mask("1.2.3.4", Some(80)), "1.2.3.4");
    }
}
