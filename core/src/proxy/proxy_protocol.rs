//! The PROXY protocol header (HAProxy's v1 text and v2 binary forms) that a load balancer in
//! front of an entry point with `proxyProtocol` sends before the client's bytes: it carries the
//! real client address. As Traefik (go-proxyproto): from a trusted peer (or with `insecure`)
//! the address is used; from any other peer the header is read and ignored; a connection
//! without a header is served as it is; a malformed header closes the connection.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use crate::rule::ip::IpChecker;

/// v2's 12-byte signature.
const V2_SIGNATURE: &[u8] = b"\r\n\r\n\0\r\nQUIT\n";
/// v1's longest header (RFC: 107 bytes with CRLF).
const V1_MAX: usize = 107;

/// What the first bytes of a connection are.
#[derive(Debug, PartialEq, Eq)]
pub enum Parsed {
    /// Too few bytes to tell.
    NeedMore,
    /// No PROXY header: the bytes are the client's own.
    NotProxy,
    /// A header of `len` bytes; `source` is the client address it carries (`None` for
    /// `LOCAL`/`UNKNOWN`, where the connection's own address stands).
    Header {
        /// Header length.
        len: usize,
        /// Carried client address.
        source: Option<SocketAddr>,
    },
    /// A broken header: close the connection.
    Invalid,
}

/// Parses the start of a connection.
pub fn parse(buf: &[u8]) -> Parsed {
    let n = buf.len().min(V2_SIGNATURE.len());
    if buf[..n] == V2_SIGNATURE[..n] {
        return if n < V2_SIGNATURE.len() {
            Parsed::NeedMore
        } else {
            parse_v2(buf)
        };
    }
    let n = buf.len().min(6);
    if buf[..n] == b"PROXY "[..n] {
        return if n < 6 {
            Parsed::NeedMore
        } else {
            parse_v1(buf)
        };
    }
    Parsed::NotProxy
}

fn parse_v1(buf: &[u8]) -> Parsed {
    let Some(end) = buf.windows(2).take(V1_MAX).position(|w| w == b"\r\n") else {
        return if buf.len() >= V1_MAX {
            Parsed::Invalid
        } else {
            Parsed::NeedMore
        };
    };
    let Ok(line) = std::str::from_utf8(&buf[6..end]) else {
        return Parsed::Invalid;
    };
    let parts: Vec<&str> = line.split(' ').collect();
    let len = end + 2;
    match parts.as_slice() {
        ["UNKNOWN", ..] => Parsed::Header { len, source: None },
        [proto @ ("TCP4" | "TCP6"), src, _dst, sport, _dport] => {
            let ip: Option<IpAddr> = match *proto {
                "TCP4" => src.parse::<Ipv4Addr>().ok().map(IpAddr::V4),
                _ => src.parse::<Ipv6Addr>().ok().map(IpAddr::V6),
            };
            match (ip, sport.parse::<u16>()) {
                (Some(ip), Ok(port)) => Parsed::Header {
                    len,
                    source: Some(SocketAddr::new(ip, port)),
                },
                _ => Parsed::Invalid,
            }
        }
        _ => Parsed::Invalid,
    }
}

fn parse_v2(buf: &[u8]) -> Parsed {
    if buf.len() < 16 {
        return Parsed::NeedMore;
    }
    let (ver_cmd, family) = (buf[12], buf[13]);
    let body = usize::from(u16::from_be_bytes([buf[14], buf[15]]));
    if ver_cmd >> 4 != 2 {
        return Parsed::Invalid;
    }
    let len = 16 + body;
    if buf.len() < len {
        return Parsed::NeedMore;
    }
    let addr = &buf[16..len];
    match ver_cmd & 0x0f {
        0 => Parsed::Header { len, source: None }, // LOCAL
        1 => {
            let source = match family >> 4 {
                1 if addr.len() >= 12 => {
                    let ip = Ipv4Addr::new(addr[0], addr[1], addr[2], addr[3]);
                    Some(SocketAddr::new(
                        ip.into(),
                        u16::from_be_bytes([addr[8], addr[9]]),
                    ))
                }
                2 if addr.len() >= 36 => {
                    let mut o = [0u8; 16];
                    o.copy_from_slice(&addr[..16]);
                    let port = u16::from_be_bytes([addr[32], addr[33]]);
                    Some(SocketAddr::new(Ipv6Addr::from(o).into(), port))
                }
                1 | 2 => return Parsed::Invalid,
                _ => None, // AF_UNSPEC / AF_UNIX: keep the connection's address
            };
            Parsed::Header { len, source }
        }
        _ => Parsed::Invalid,
    }
}

/// An entry point's `proxyProtocol` policy.
#[derive(Debug, Clone)]
pub struct ProxyProtocolPolicy {
    /// `insecure`: every peer is trusted.
    pub insecure: bool,
    /// `trustedIPs`.
    pub trusted: Option<IpChecker>,
}

impl ProxyProtocolPolicy {
    /// Whether a header from `peer` is used (otherwise it is read and ignored).
    pub fn trusts(&self, peer: IpAddr) -> bool {
        self.insecure || self.trusted.as_ref().is_some_and(|c| c.contains(peer))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v1() {
        let h = b"PROXY TCP4 192.0.2.1 198.51.100.1 56324 443\r\nGET / HTTP/1.1\r\n";
        assert_eq!(
            parse(h),
            Parsed::Header {
                len: 45,
                source: Some("192.0.2.1:56324".parse().unwrap())
            }
        );
        assert_eq!(
            parse(b"PROXY TCP6 2001:db8::1 2001:db8::2 1 2\r\n"),
            Parsed::Header {
                len: 40,
                source: Some("[2001:db8::1]:1".parse().unwrap())
            }
        );
        assert_eq!(
            parse(b"PROXY UNKNOWN\r\n"),
            Parsed::Header {
                len: 15,
                source: None
            }
        );
        assert_eq!(parse(b"PROX"), Parsed::NeedMore);
        assert_eq!(parse(b"PROXY TCP4 1.2.3.4"), Parsed::NeedMore);
        assert_eq!(parse(b"PROXY TCP4 nope 1.2.3.4 1 2\r\n"), Parsed::Invalid);
        assert_eq!(
            parse(&[b'P', b'R', b'O', b'X', b'Y', b' '].repeat(30)),
            Parsed::Invalid
        );
        assert_eq!(parse(b"GET / HTTP/1.1\r\n"), Parsed::NotProxy);
        assert_eq!(parse(&[0x16, 3, 1]), Parsed::NotProxy);
    }

    #[test]
    fn v2() {
        let mut h = V2_SIGNATURE.to_vec();
        h.extend_from_slice(&[
            0x21, 0x11, 0, 12, 10, 0, 0, 7, 10, 0, 0, 1, 0x1f, 0x90, 0, 80,
        ]);
        h.extend_from_slice(b"rest");
        assert_eq!(
            parse(&h),
            Parsed::Header {
                len: 28,
                source: Some("10.0.0.7:8080".parse().unwrap())
            }
        );
        assert_eq!(parse(&h[..20]), Parsed::NeedMore);
        assert_eq!(parse(&h[..5]), Parsed::NeedMore);
        let mut local = V2_SIGNATURE.to_vec();
        local.extend_from_slice(&[0x20, 0x00, 0, 0]);
        assert_eq!(
            parse(&local),
            Parsed::Header {
                len: 16,
                source: None
            }
        );
        let mut bad = V2_SIGNATURE.to_vec();
        bad.extend_from_slice(&[0x11, 0x11, 0, 0]);
        assert_eq!(parse(&bad), Parsed::Invalid);
    }
}
