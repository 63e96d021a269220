//! The TLS side of a compiled configuration: the `default` certificate store, every TLS option
//! built once, and per entry point the options chosen by a ClientHello's server name (from the
//! `Host` rules of its TLS routers, as Traefik's TCP router does).

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::sync::Arc;

use rustls::server::ServerConfig;
use rustls::sign::CertifiedKey;

use super::options::build_options;
use super::session::ChosenOptions;
use super::store::{certified_key, CertStore};
use crate::config::dynamic::{Options, TLSConfiguration};

/// The name of the TLS options (and store) every router uses unless told otherwise.
pub const DEFAULT: &str = "default";

/// A problem found while building the TLS side: `(key path, message, fatal for the object)`.
pub type TlsProblem = (String, String, bool);

/// Every TLS option of a configuration, built over one certificate store.
#[derive(Debug, Default)]
pub struct TlsSetup {
    /// Qualified option name -> its configuration, or why it could not be built.
    pub options: BTreeMap<String, Result<Arc<ServerConfig>, String>>,
    /// For handshakes without SNI: per IP a certificate names, the `default` options serving
    /// that certificate (built here once, not per connection).
    pub by_ip: Vec<(IpAddr, Arc<ServerConfig>)>,
}

impl TlsSetup {
    /// Builds the store from `tls.certificates` and `tls.stores.default` (certificate and key
    /// strings are PEM contents: file paths were resolved at load), with `generated` as the
    /// default certificate when none is configured, then every option. Problems are reported
    /// with their key path; a broken option stays in the map as an error so that routers using
    /// it are disabled.
    pub fn build(
        tls: Option<&TLSConfiguration>,
        generated: Option<Arc<CertifiedKey>>,
        problems: &mut Vec<TlsProblem>,
    ) -> TlsSetup {
        let empty = TLSConfiguration::default();
        let tls = tls.unwrap_or(&empty);
        let mut default_cert = generated;
        if let Some(dc) = tls
            .stores
            .get(DEFAULT)
            .and_then(|s| s.default_certificate.as_ref())
        {
            match certified_key(dc.cert_file.as_bytes(), dc.key_file.as_bytes()) {
                Ok(c) => default_cert = Some(Arc::new(c)),
                Err(e) => problems.push((
                    "tls.stores.default.defaultCertificate".into(),
                    format!("error while creating certificate store: {e}"),
                    false,
                )),
            }
        }
        for (name, store) in &tls.stores {
            if store.default_generated_cert.is_some() {
                problems.push((
                    format!("tls.stores.{name}.defaultGeneratedCert"),
                    "defaultGeneratedCert needs an ACME certificate resolver, which TrafficCop does not support yet: the default certificate is used".into(),
                    false,
                ));
            }
        }
        let mut store = CertStore::new(default_cert);
        for (i, c) in tls.certificates.iter().enumerate() {
            if !c.stores.is_empty() && !c.stores.iter().any(|s| s == DEFAULT) {
                continue;
            }
            let path = format!("tls.certificates[{i}]");
            match certified_key(c.cert_file.as_bytes(), c.key_file.as_bytes()) {
                Ok(k) => match store.add(k) {
                    Ok(true) => {}
                    Ok(false) => problems.push((
                        path,
                        "a certificate for the same domains already exists in the default store: skipped".into(),
                        false,
                    )),
                    Err(e) => problems.push((path, format!("unable to parse certificate: {e}"), false)),
                },
                Err(e) => problems.push((path, format!("unable to parse certificate: {e}"), false)),
            }
        }
        let store = Arc::new(store);
        let mut options = BTreeMap::new();
        let builtin = Options {
            min_version: "VersionTLS12".into(),
            ..Options::default()
        };
        let mut all: Vec<(String, &Options)> = vec![(DEFAULT.into(), &builtin)];
        for (name, o) in &tls.options {
            let q = if name == DEFAULT {
                DEFAULT.to_string()
            } else {
                format!("{name}@file")
            };
            all.retain(|(n, _)| *n != q);
            all.push((q, o));
        }
        for (name, o) in all {
            let built = build_options(o, &store).map(|b| {
                for w in b.warnings {
                    problems.push((
                        format!("tls.options.{}", name.trim_end_matches("@file")),
                        w,
                        false,
                    ));
                }
                b.config
            });
            if let Err(e) = &built {
                problems.push((
                    format!("tls.options.{}", name.trim_end_matches("@file")),
                    format!("building TLS config: {e}"),
                    true,
                ));
            }
            options.insert(name, built);
        }
        let by_ip = match options.get(DEFAULT) {
            Some(Ok(default)) => store
                .ip_certificates()
                .into_iter()
                .map(|(ip, cert)| {
                    let mut c = (**default).clone();
                    c.cert_resolver = Arc::new(FixedCert(cert));
                    (ip, Arc::new(c))
                })
                .collect(),
            _ => Vec::new(),
        };
        TlsSetup { options, by_ip }
    }

    /// The options named `name` (qualified), or Traefik's error.
    pub fn get(&self, name: &str) -> Result<&Arc<ServerConfig>, String> {
        match self.options.get(name) {
            None => Err(format!("unknown TLS options: {name}")),
            Some(Err(e)) => Err(format!("building TLS config: {e}")),
            Some(Ok(c)) => Ok(c),
        }
    }

    /// [`TlsSetup::by_ip`] as chosen options.
    pub fn chosen_by_ip(&self) -> Vec<(IpAddr, ChosenOptions)> {
        self.by_ip
            .iter()
            .map(|(ip, c)| (*ip, Some((Arc::clone(c), Arc::from(DEFAULT)))))
            .collect()
    }

    /// The chosen options for `name`: `None` when broken or unknown.
    pub fn chosen(&self, name: &str) -> ChosenOptions {
        self.get(name)
            .ok()
            .map(|c| (Arc::clone(c), Arc::from(name)))
    }
}

/// Per entry point: which TLS options a handshake uses, by server name.
#[derive(Debug, Clone, Default)]
pub struct EntryPointTls {
    /// Domains from the `Host` rules of the entry point's TLS routers (lower-cased; `*.`
    /// wildcards allowed) and their options (`None`: broken, the handshake is refused).
    pub hosts: Vec<(String, ChosenOptions)>,
    /// The options of every other handshake (`None` when `default` is broken).
    pub default: ChosenOptions,
    /// Handshakes without SNI on a connection to one of these local IPs get these options
    /// (the default ones, serving the certificate that names the IP).
    pub by_ip: Vec<(IpAddr, ChosenOptions)>,
    /// The entry point has HTTP routers with TLS (Traefik's HTTPS muxer has routes): a
    /// connection cannot go to a TCP router without TLS before its first bytes are read.
    pub https_routes: bool,
    /// One of them has no `Host` domain: every server name has an HTTPS route (after the TLS
    /// routers that name it, see `proxy::tcp`).
    pub https_catch_all: bool,
}

impl EntryPointTls {
    /// [`EntryPointTls::choose`], and for a handshake without SNI on a connection whose local
    /// IP a certificate of the store names, that certificate (Traefik matches the local address
    /// when there is no server name, before `sniStrict` and the default certificate).
    pub fn choose_for(&self, server_name: Option<&str>, local: Option<IpAddr>) -> ChosenOptions {
        let no_sni = server_name.is_none_or(str::is_empty);
        if let (true, Some(ip)) = (no_sni, local) {
            if let Some((_, chosen)) = self.by_ip.iter().find(|(i, _)| *i == ip) {
                return chosen.clone();
            }
        }
        self.choose(server_name)
    }

    /// The options for a ClientHello's server name: an exact domain, then a `*.` wildcard
    /// matching its first label, else the default options.
    pub fn choose(&self, server_name: Option<&str>) -> ChosenOptions {
        match server_name.and_then(|sni| self.host(sni)) {
            Some(c) => c.clone(),
            None => self.default.clone(),
        }
    }

    /// The options of the HTTPS routers' domain matching `sni` (lower-cased): exact, then a
    /// `*.` wildcard matching its first label.
    pub fn host(&self, sni: &str) -> Option<&ChosenOptions> {
        if sni.is_empty() {
            return None;
        }
        if let Some((_, c)) = self.hosts.iter().find(|(d, _)| d == sni) {
            return Some(c);
        }
        let (_, rest) = sni.split_once('.')?;
        let wildcard = format!("*.{rest}");
        self.hosts
            .iter()
            .find(|(d, _)| *d == wildcard)
            .map(|(_, c)| c)
    }
}

/// Always the same certificate.
#[derive(Debug)]
struct FixedCert(Arc<CertifiedKey>);

impl rustls::server::ResolvesServerCert for FixedCert {
    fn resolve(&self, _: rustls::server::ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(Arc::clone(&self.0))
    }
}
