//! What Go's `x509.ParseCertificate` gives `passTLSClientCert` about a client certificate:
//! the serial number (decimal), the subject and issuer names (`pkix.Name`: the attributes
//! in order, and the ones Go keeps by kind), the validity period and the subject alternative
//! names (DNS names, email addresses, IP addresses, URIs, in that order).

use super::names::tlv;

/// A distinguished name as Go's `pkix.Name` holds it.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Name {
    /// Every attribute, in order: (OID content bytes, value).
    pub attributes: Vec<(Vec<u8>, String)>,
    /// `C`.
    pub country: Vec<String>,
    /// `ST`.
    pub province: Vec<String>,
    /// `L`.
    pub locality: Vec<String>,
    /// `O`.
    pub organization: Vec<String>,
    /// `OU`.
    pub organizational_unit: Vec<String>,
    /// The last `serialNumber` attribute.
    pub serial_number: String,
    /// The last `CN`.
    pub common_name: String,
}

/// The OID of `domainComponent` (0.9.2342.19200300.100.1.25).
pub const DOMAIN_COMPONENT: &[u8] = &[0x09, 0x92, 0x26, 0x89, 0x93, 0xf2, 0x2c, 0x64, 0x01, 0x19];

impl Name {
    /// The `DC` values, in order.
    pub fn domain_components(&self) -> impl Iterator<Item = &str> {
        (self.attributes.iter())
            .filter(|(oid, _)| oid == DOMAIN_COMPONENT)
            .map(|(_, v)| v.as_str())
    }
}

/// A certificate's details.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct CertInfo {
    /// The serial number in decimal (`-` first when negative).
    pub serial: String,
    /// The issuer.
    pub issuer: Name,
    /// The subject.
    pub subject: Name,
    /// `notBefore`, seconds since the epoch.
    pub not_before: u64,
    /// `notAfter`, seconds since the epoch.
    pub not_after: u64,
    /// DNS names, then email addresses, IP addresses and URIs (Go's order).
    pub sans: Vec<String>,
}

/// Parses a DER certificate; `None` when it is not one.
pub fn parse(der: &[u8]) -> Option<CertInfo> {
    let (_, cert, _) = tlv(der)?;
    let (_, tbs, _) = tlv(cert)?;
    let (mut tag, mut field, mut rest) = tlv(tbs)?;
    if tag == 0xa0 {
        // The version.
        (tag, field, rest) = tlv(rest)?;
    }
    if tag != 0x02 {
        return None;
    }
    let serial = decimal(field);
    let (_, _signature, rest) = tlv(rest)?;
    let (_, issuer, rest) = tlv(rest)?;
    let (_, validity, rest) = tlv(rest)?;
    let (_, subject, _) = tlv(rest)?;
    let (t1, a, after) = tlv(validity)?;
    let (t2, b, _) = tlv(after)?;
    let mut info = CertInfo {
        serial,
        issuer: name(issuer),
        subject: name(subject),
        not_before: super::client::asn1_time(t1, a)?,
        not_after: super::client::asn1_time(t2, b)?,
        sans: Vec::new(),
    };
    let mut by_kind: [Vec<String>; 4] = Default::default();
    for (tag, value) in super::names::alt_names(der) {
        match tag {
            0x82 => by_kind[0].push(String::from_utf8_lossy(value).into_owned()),
            0x81 => by_kind[1].push(String::from_utf8_lossy(value).into_owned()),
            0x87 => {
                let ip = match value.len() {
                    4 => std::net::IpAddr::from(<[u8; 4]>::try_from(value).ok()?),
                    16 => {
                        let v6 = std::net::Ipv6Addr::from(<[u8; 16]>::try_from(value).ok()?);
                        // Go prints an IPv4-mapped address as IPv4.
                        match v6.to_ipv4_mapped() {
                            Some(v4) => v4.into(),
                            None => v6.into(),
                        }
                    }
                    _ => continue,
                };
                by_kind[2].push(ip.to_string());
            }
            0x86 => by_kind[3].push(String::from_utf8_lossy(value).into_owned()),
            _ => {}
        }
    }
    info.sans = by_kind.into_iter().flatten().collect();
    Some(info)
}

/// A Name (RDN sequence content) as Go's `pkix.Name.FillFromRDNSequence` reads it: string
/// values only.
fn name(mut rdns: &[u8]) -> Name {
    let mut n = Name::default();
    while let Some((_, set, rest)) = tlv(rdns) {
        rdns = rest;
        let mut attrs = set;
        while let Some((_, attr, more)) = tlv(attrs) {
            attrs = more;
            let Some((0x06, oid, value)) = tlv(attr) else {
                continue;
            };
            let Some(value) = tlv(value).and_then(|(tag, v, _)| string(tag, v)) else {
                continue;
            };
            match oid {
                [0x55, 0x04, 6] => n.country.push(value.clone()),
                [0x55, 0x04, 8] => n.province.push(value.clone()),
                [0x55, 0x04, 7] => n.locality.push(value.clone()),
                [0x55, 0x04, 10] => n.organization.push(value.clone()),
                [0x55, 0x04, 11] => n.organizational_unit.push(value.clone()),
                [0x55, 0x04, 5] => n.serial_number = value.clone(),
                [0x55, 0x04, 3] => n.common_name = value.clone(),
                _ => {}
            }
            n.attributes.push((oid.to_vec(), value));
        }
    }
    n
}

/// An ASN.1 string value as Go's decoder gives it (UTF-8, printable, IA5, numeric, T.61 as
/// Latin-1, BMP as UTF-16).
fn string(tag: u8, v: &[u8]) -> Option<String> {
    match tag {
        0x0c | 0x13 | 0x16 | 0x12 => String::from_utf8(v.to_vec()).ok(),
        0x14 => Some(v.iter().map(|b| char::from(*b)).collect()),
        0x1e => {
            let units: Vec<u16> = (v.chunks_exact(2))
                .map(|c| u16::from_be_bytes([c[0], c[1]]))
                .collect();
            String::from_utf16(&units).ok()
        }
        _ => None,
    }
}

/// A DER INTEGER's content (two's complement, big-endian) in decimal.
fn decimal(bytes: &[u8]) -> String {
    let negative = bytes.first().is_some_and(|b| b & 0x80 != 0);
    let mut magnitude: Vec<u8> = if negative {
        // Two's complement: invert and add one.
        let mut m: Vec<u8> = bytes.iter().map(|b| !b).collect();
        for b in m.iter_mut().rev() {
            let (v, carry) = b.overflowing_add(1);
            *b = v;
            if !carry {
                break;
            }
        }
        m
    } else {
        bytes.to_vec()
    };
    let mut digits = Vec::new();
    while magnitude.iter().any(|b| *b != 0) {
        let mut rem = 0u32;
        for b in magnitude.iter_mut() {
            let cur = (rem << 8) | u32::from(*b);
            *b = (cur / 10) as u8;
            rem = cur % 10;
        }
        digits.push(b'0' + rem as u8);
    }
    if digits.is_empty() {
        digits.push(b'0');
    }
    if negative {
        digits.push(b'-');
    }
    digits.reverse();
    String::from_utf8(digits).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serial_numbers_in_decimal_as_go_prints_big_ints() {
        assert_eq!(decimal(&[0]), "0");
        assert_eq!(decimal(&[0x01, 0x00]), "256");
        assert_eq!(decimal(&[0x00, 0xff]), "255");
        assert_eq!(decimal(&[0xff]), "-1");
        assert_eq!(decimal(&[0x80]), "-128");
        assert_eq!(
            decimal(&[
                0x54, 0x58, 0xd0, 0xe0, 0x64, 0xfc, 0xbe, 0x52, 0x7b, 0x42, 0x19, 0x46, 0x3d, 0xc2,
                0x32, 0x58, 0xda, 0xc0, 0xbd, 0x94
            ]),
            "481535886039632329873080491016862977516759989652"
        );
    }

    #[test]
    fn strings_of_each_kind() {
        assert_eq!(string(0x13, b"FR").as_deref(), Some("FR"));
        assert_eq!(string(0x14, &[0xe9]).as_deref(), Some("\u{e9}"));
        assert_eq!(string(0x1e, &[0, 0x41, 0, 0x42]).as_deref(), Some("AB"));
        assert_eq!(string(0x04, b"x"), None);
    }

    #[test]
    fn garbage_is_none() {
        assert_eq!(parse(b"not a certificate"), None);
        assert_eq!(parse(&[]), None);
    }
}
