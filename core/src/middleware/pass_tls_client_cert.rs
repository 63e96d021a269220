//! `passTLSClientCert`: the client's TLS certificates (the chain it sent, leaf first) passed
//! to the backend in `X-Forwarded-Tls-Client-Cert` (each certificate's base64 DER, the PEM
//! without its armour and line breaks, comma-separated) and `X-Forwarded-Tls-Client-Cert-Info`
//! (the chosen details of each, `url.QueryEscape`d), as Traefik's middleware sets them.
//! Without client certificates the request goes on untouched (a header the client sent
//! stays, as in Traefik, unless the entry point removed it as an untrusted forwarded header).

use crate::config::dynamic::{
    PassTLSClientCert, TLSClientCertificateIssuerDNInfo, TLSClientCertificateSubjectDNInfo,
};
use crate::http::RequestHead;
use crate::tls::cert_info::{CertInfo, Name};

use super::{Middleware, RequestAction, RequestContext};

const CERT: &str = "X-Forwarded-Tls-Client-Cert";
const CERT_INFO: &str = "X-Forwarded-Tls-Client-Cert-Info";

/// Which parts of a distinguished name go into the info header (the issuer has no `OU`).
#[derive(Debug, Clone, Default)]
struct NameParts {
    country: bool,
    province: bool,
    locality: bool,
    organization: bool,
    organizational_unit: bool,
    serial_number: bool,
    common_name: bool,
    domain_component: bool,
}

impl NameParts {
    fn subject(s: &TLSClientCertificateSubjectDNInfo) -> Self {
        NameParts {
            country: s.country,
            province: s.province,
            locality: s.locality,
            organization: s.organization,
            organizational_unit: s.organizational_unit,
            serial_number: s.serial_number,
            common_name: s.common_name,
            domain_component: s.domain_component,
        }
    }

    fn issuer(s: &TLSClientCertificateIssuerDNInfo) -> Self {
        NameParts {
            country: s.country,
            province: s.province,
            locality: s.locality,
            organization: s.organization,
            organizational_unit: false,
            serial_number: s.serial_number,
            common_name: s.common_name,
            domain_component: s.domain_component,
        }
    }

    /// Traefik's `DC=..,C=..,ST=..,L=..,O=..,OU=..,SN=..,CN=..` (empty values left out).
    fn render(&self, n: &Name) -> String {
        let mut out = String::new();
        let mut part = |prefix: &str, v: &str| {
            if !v.is_empty() {
                out.push_str(prefix);
                out.push('=');
                out.push_str(v);
                out.push(',');
            }
        };
        if self.domain_component {
            for dc in n.domain_components() {
                part("DC", dc);
            }
        }
        let lists = [
            (self.country, "C", &n.country),
            (self.province, "ST", &n.province),
            (self.locality, "L", &n.locality),
            (self.organization, "O", &n.organization),
            (self.organizational_unit, "OU", &n.organizational_unit),
        ];
        for (on, prefix, values) in lists {
            if on {
                for v in values {
                    part(prefix, v);
                }
            }
        }
        if self.serial_number {
            part("SN", &n.serial_number);
        }
        if self.common_name {
            part("CN", &n.common_name);
        }
        if out.ends_with(',') {
            out.pop();
        }
        out
    }
}

/// `info`.
#[derive(Debug, Clone)]
struct Info {
    not_after: bool,
    not_before: bool,
    sans: bool,
    serial_number: bool,
    subject: Option<NameParts>,
    issuer: Option<NameParts>,
}

impl Info {
    /// One certificate's `Subject="..";Issuer="..";SerialNumber="..";NB="..";NA="..";SAN=".."`.
    fn render(&self, c: &CertInfo) -> String {
        let mut values = Vec::new();
        if let Some(s) = self.subject.as_ref().map(|p| p.render(&c.subject)) {
            if !s.is_empty() {
                values.push(format!("Subject=\"{s}\""));
            }
        }
        if let Some(s) = self.issuer.as_ref().map(|p| p.render(&c.issuer)) {
            if !s.is_empty() {
                values.push(format!("Issuer=\"{s}\""));
            }
        }
        if self.serial_number && !c.serial.is_empty() {
            values.push(format!("SerialNumber=\"{}\"", c.serial));
        }
        if self.not_before {
            values.push(format!("NB=\"{}\"", c.not_before));
        }
        if self.not_after {
            values.push(format!("NA=\"{}\"", c.not_after));
        }
        if self.sans && !c.sans.is_empty() {
            values.push(format!("SAN=\"{}\"", c.sans.join(",")));
        }
        values.join(";")
    }
}

/// The `passTLSClientCert` middleware.
#[derive(Debug, Clone)]
pub struct PassTlsClientCert {
    pem: bool,
    info: Option<Info>,
}

impl PassTlsClientCert {
    /// Builds it from its configuration (it cannot fail).
    pub fn new(c: &PassTLSClientCert) -> Result<Self, String> {
        Ok(PassTlsClientCert {
            pem: c.pem,
            info: c.info.as_ref().map(|i| Info {
                not_after: i.not_after,
                not_before: i.not_before,
                sans: i.sans,
                serial_number: i.serial_number,
                subject: i.subject.as_ref().map(NameParts::subject),
                issuer: i.issuer.as_ref().map(NameParts::issuer),
            }),
        })
    }
}

impl Middleware for PassTlsClientCert {
    fn has_response_side(&self) -> bool {
        false
    }

    fn wants_peer_certificates(&self) -> bool {
        true
    }

    fn on_request(&self, head: &mut RequestHead, cx: &RequestContext<'_>) -> RequestAction {
        let certs = cx.peer_certificates;
        if certs.is_empty() {
            return RequestAction::Continue;
        }
        if self.pem {
            let value: Vec<String> = certs
                .iter()
                .map(|c| super::go_base64::encode(c.as_ref()))
                .collect();
            head.headers.set(CERT, value.join(","));
        }
        if let Some(info) = &self.info {
            let value: Vec<String> = certs
                .iter()
                .map(|c| {
                    crate::tls::cert_info::parse(c.as_ref())
                        .map(|c| info.render(&c))
                        .unwrap_or_default()
                })
                .collect();
            let value = crate::http::percent::query_escape(&value.join(","));
            head.headers.set(CERT_INFO, value);
        }
        RequestAction::Continue
    }
}
