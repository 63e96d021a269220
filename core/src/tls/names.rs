//! The names a certificate serves, as Traefik computes them for SNI selection: the subject's
//! common name, the DNS subject alternative names (lower-cased) and the IP address ones (as
//! text, matched when a handshake has no SNI), without duplicates.

use rustls::pki_types::CertificateDer;

/// The DNS names (and common name) of a DER certificate, lower-cased, first occurrence first.
/// A certificate webpki cannot parse yields an error naming why.
pub fn certificate_names(der: &CertificateDer<'_>) -> Result<Vec<String>, String> {
    let cert = webpki::EndEntityCert::try_from(der).map_err(|e| format!("{e}"))?;
    let mut names: Vec<String> = Vec::new();
    let mut push = |n: &str| {
        let n = n.to_ascii_lowercase();
        if !n.is_empty() && !names.contains(&n) {
            names.push(n);
        }
    };
    if let Some(cn) = common_name(cert.subject()) {
        push(&cn);
    }
    for n in cert.valid_dns_names() {
        push(n);
    }
    for ip in ip_addresses(der.as_ref()) {
        push(&ip.to_string());
    }
    Ok(names)
}

/// The IP address subject alternative names of a DER certificate (webpki only lists DNS ones).
fn ip_addresses(der: &[u8]) -> Vec<std::net::IpAddr> {
    let mut out = Vec::new();
    for (tag, name) in alt_names(der) {
        match (tag, name.len()) {
            (0x87, 4) => out.push(std::net::IpAddr::from(
                <[u8; 4]>::try_from(name).unwrap_or_default(),
            )),
            (0x87, 16) => out.push(std::net::IpAddr::from(
                <[u8; 16]>::try_from(name).unwrap_or_default(),
            )),
            _ => {}
        }
    }
    out
}

/// The URI subject alternative names of a DER certificate (`peerCertURI` matches them).
pub fn uri_names(der: &[u8]) -> Vec<String> {
    alt_names(der)
        .into_iter()
        .filter(|(tag, _)| *tag == 0x86)
        .filter_map(|(_, v)| std::str::from_utf8(v).ok().map(str::to_string))
        .collect()
}

/// The subject alternative names of a DER certificate as (context tag, value) pairs.
pub(super) fn alt_names(der: &[u8]) -> Vec<(u8, &[u8])> {
    const SAN_OID: &[u8] = &[0x55, 0x1d, 0x11];
    let mut out = Vec::new();
    let Some((_, cert, _)) = tlv(der) else {
        return out;
    };
    let Some((_, tbs, _)) = tlv(cert) else {
        return out;
    };
    // Skip to the extensions: the only [3] element of the TBSCertificate.
    let mut rest = tbs;
    let mut extensions = None;
    while let Some((tag, content, more)) = tlv(rest) {
        rest = more;
        if tag == 0xa3 {
            extensions = tlv(content).map(|(_, list, _)| list);
        }
    }
    let Some(mut list) = extensions else {
        return out;
    };
    while let Some((_, ext, more)) = tlv(list) {
        list = more;
        let Some((0x06, oid, after)) = tlv(ext) else {
            continue;
        };
        if oid != SAN_OID {
            continue;
        }
        // An optional `critical` BOOLEAN, then the OCTET STRING holding GeneralNames.
        let mut after = after;
        while let Some((tag, value, more)) = tlv(after) {
            after = more;
            if tag != 0x04 {
                continue;
            }
            let Some((_, mut names, _)) = tlv(value) else {
                break;
            };
            while let Some((tag, name, more)) = tlv(names) {
                names = more;
                out.push((tag, name));
            }
        }
    }
    out
}

/// One DER TLV: (tag, content, rest).
pub(super) fn tlv(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = input.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = if first < 0x80 {
        (first as usize, rest)
    } else {
        let n = (first & 0x7f) as usize;
        if n == 0 || n > 4 || rest.len() < n {
            return None;
        }
        let len = rest[..n].iter().fold(0usize, |a, b| (a << 8) | *b as usize);
        (len, &rest[n..])
    };
    if rest.len() < len {
        return None;
    }
    Some((tag, &rest[..len], &rest[len..]))
}

/// The first common name (OID 2.5.4.3) of a subject (an RDN sequence without its outer tag).
fn common_name(mut subject: &[u8]) -> Option<String> {
    const CN_OID: &[u8] = &[0x55, 0x04, 0x03];
    while let Some((_, set, rest)) = tlv(subject) {
        subject = rest;
        let mut attrs = set;
        while let Some((_, attr, more)) = tlv(attrs) {
            attrs = more;
            let Some((0x06, oid, value)) = tlv(attr) else {
                continue;
            };
            if oid != CN_OID {
                continue;
            }
            let (_, text, _) = tlv(value)?;
            return String::from_utf8(text.to_vec()).ok();
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_name_and_sans() {
        let mut params = rcgen::CertificateParams::new(vec![
            "Www.Example.com".into(),
            "*.api.example.com".into(),
        ])
        .unwrap();
        params.distinguished_name = rcgen::DistinguishedName::new();
        params
            .distinguished_name
            .push(rcgen::DnType::OrganizationName, "Acme");
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "Example.COM");
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = params.self_signed(&key).unwrap();
        let names = certificate_names(cert.der()).unwrap();
        assert_eq!(
            names,
            ["example.com", "www.example.com", "*.api.example.com"]
        );
    }

    #[test]
    fn uri_sans() {
        let mut params = rcgen::CertificateParams::new(vec!["a.example".into()]).unwrap();
        params.subject_alt_names.push(rcgen::SanType::URI(
            "spiffe://cluster.local/ns/default/sa/app"
                .try_into()
                .unwrap(),
        ));
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = params.self_signed(&key).unwrap();
        assert_eq!(
            uri_names(cert.der()),
            ["spiffe://cluster.local/ns/default/sa/app"]
        );
        assert!(certificate_names(cert.der())
            .unwrap()
            .iter()
            .all(|n| !n.contains("spiffe")));
    }

    #[test]
    fn garbage_is_an_error() {
        assert!(certificate_names(&CertificateDer::from(vec![0x30, 0x03, 1, 2, 3])).is_err());
        assert_eq!(common_name(&[0x31, 0x80]), None);
    }
}
