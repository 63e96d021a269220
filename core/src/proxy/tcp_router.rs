//! TCP routers as Traefik's TCP router manager builds them (`pkg/server/router/tcp`): per
//! entry point, the routers without TLS (`muxerTCP`) and the TLS ones, passthrough or
//! terminating (`muxerTCPTLS`), each with its middlewares (`ipAllowList`, `ipWhiteList`,
//! `inFlightConn`) and its service built for that entry point. Which table a connection is
//! looked up in, and in what order with the HTTPS routers, is the worker's (`proxy::tcp`).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

use crate::config::dynamic::{TCPConfiguration, TCPMiddleware};
use crate::config::Severity;
use crate::rule::priority::{effective_priority, Protocol, ProviderPrecedence};
use crate::rule::{tcp_domains, RouteSpec, RuleSyntax, TcpConnView, TcpRouterTable};
use crate::tls::{ChosenOptions, TlsSetup};

use super::round_robin::qualified;
use super::tcp_service::{TcpBalancer, TcpServices};

/// An entry point's TCP routers.
#[derive(Debug)]
pub struct TcpEntryRoutes {
    /// Routers without TLS, and their handlers by lookup index.
    pub plain: TcpRouterTable,
    /// Handlers of `plain`.
    pub plain_handlers: Vec<Arc<TcpHandler>>,
    /// TLS routers (passthrough or terminating).
    pub tls: TcpRouterTable,
    /// Handlers of `tls`.
    pub tls_handlers: Vec<Arc<TcpHandler>>,
}

impl TcpEntryRoutes {
    /// The first router without TLS matching `view`, and whether it is the catch-all.
    pub fn find_plain(&self, view: &TcpConnView<'_>) -> Option<(&Arc<TcpHandler>, bool)> {
        let (i, catch_all) = self.plain.lookup(view)?;
        Some((&self.plain_handlers[i], catch_all))
    }

    /// The first TLS router matching `view`, and whether it is the catch-all.
    pub fn find_tls(&self, view: &TcpConnView<'_>) -> Option<(&Arc<TcpHandler>, bool)> {
        let (i, catch_all) = self.tls.lookup(view)?;
        Some((&self.tls_handlers[i], catch_all))
    }
}

/// What a TLS router does with the handshake.
#[derive(Debug)]
pub enum TcpTls {
    /// The client's TLS bytes go to the server as they are.
    Passthrough,
    /// The handshake is done here with these options (`None`: broken options, the connection
    /// is closed), and the plaintext goes to the server.
    Terminate(ChosenOptions),
}

/// What a matched connection goes through.
#[derive(Debug)]
pub struct TcpHandler {
    /// The router's name (`name@file`).
    pub name: String,
    /// `None` for routers without TLS.
    pub tls: Option<TcpTls>,
    /// The router's middlewares, in order.
    pub middlewares: Vec<TcpMiddleware>,
    /// The service; `None` for a router whose TLS options are broken (connections closed).
    pub service: Option<Arc<TcpBalancer>>,
}

/// A TCP middleware.
#[derive(Debug)]
pub enum TcpMiddleware {
    /// `ipAllowList` / `ipWhiteList`: connections from other addresses are closed.
    AllowList(crate::rule::ip::IpChecker),
    /// `inFlightConn`: connections per client IP.
    InFlight(Arc<InFlightConns>),
}

/// `inFlightConn`'s counts, shared by every worker.
#[derive(Debug)]
pub struct InFlightConns {
    amount: i64,
    open: Mutex<HashMap<IpAddr, i64>>,
}

/// A place taken by a connection in an [`InFlightConns`]; given back when dropped.
#[derive(Debug)]
pub struct InFlightConn {
    of: Arc<InFlightConns>,
    ip: IpAddr,
}

impl InFlightConns {
    /// Takes a place for `ip`, or `None` when `amount` connections from it are open.
    pub fn acquire(self: &Arc<Self>, ip: IpAddr) -> Option<InFlightConn> {
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        let n = open.entry(ip).or_insert(0);
        if *n >= self.amount {
            if *n == 0 {
                open.remove(&ip);
            }
            return None;
        }
        *n += 1;
        Some(InFlightConn {
            of: Arc::clone(self),
            ip,
        })
    }
}

impl Drop for InFlightConn {
    fn drop(&mut self) {
        let mut open = self.of.open.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(n) = open.get_mut(&self.ip) {
            *n -= 1;
            if *n <= 0 {
                open.remove(&self.ip);
            }
        }
    }
}

/// Builds a TCP middleware, or Traefik's error.
fn build_middleware(name: &str, m: &TCPMiddleware) -> Result<TcpMiddleware, String> {
    let allow = |kind: &str, range: &[String]| {
        if range.is_empty() {
            return Err(format!("sourceRange is empty, {kind} not created"));
        }
        crate::rule::ip::IpChecker::parse(range)
            .map(TcpMiddleware::AllowList)
            .map_err(|e| format!("cannot parse CIDRs {range:?}: {e}"))
    };
    let set = [
        m.in_flight_conn.is_some(),
        m.ip_white_list.is_some(),
        m.ip_allow_list.is_some(),
    ];
    match set.iter().filter(|s| **s).count() {
        0 => return Err(format!("invalid middleware \"{name}\" configuration: invalid middleware type or middleware does not exist")),
        1 => {}
        _ => return Err("cannot create middleware: multi-types middleware not supported, consider declaring two different pieces of middleware instead".into()),
    }
    if let Some(f) = &m.in_flight_conn {
        return Ok(TcpMiddleware::InFlight(Arc::new(InFlightConns {
            amount: f.amount,
            open: Mutex::new(HashMap::new()),
        })));
    }
    if let Some(w) = &m.ip_white_list {
        return allow("IPWhiteLister", &w.source_range);
    }
    match &m.ip_allow_list {
        Some(a) => allow("IPAllowLister", &a.source_range),
        None => unreachable!("one middleware type is set"),
    }
}

/// What compiling TCP routers needs from the rest of the configuration.
pub(super) struct TcpInputs<'a> {
    pub tcp: &'a TCPConfiguration,
    pub broken: &'a std::collections::BTreeSet<String>,
    pub default_eps: &'a [String],
    pub default_syntax: &'a str,
    pub precedence: &'a ProviderPrecedence,
    pub tls: &'a TlsSetup,
}

/// Compiles the TCP routers on entry point `ep`, building each router's services and
/// middlewares for it (as Traefik does per entry point). Problems go to `services.errors`.
pub(super) fn compile_entry_point(
    ep: &str,
    inputs: &TcpInputs<'_>,
    services: &mut TcpServices<'_>,
) -> Option<TcpEntryRoutes> {
    let mut plain = (Vec::new(), Vec::new());
    let mut tls = (Vec::new(), Vec::new());
    for (name, r) in &inputs.tcp.routers {
        let path = format!("tcp.routers.{name}");
        if inputs.broken.contains(&path) {
            continue;
        }
        let on_ep = if r.entry_points.is_empty() {
            inputs.default_eps.iter().any(|e| e == ep)
        } else {
            r.entry_points.iter().any(|e| e == ep)
        };
        if !on_ep {
            continue;
        }
        let mut error = |message: String, severity: Severity| {
            let entry = (path.clone(), message, severity);
            if !services.errors.contains(&entry) {
                services.errors.push(entry);
            }
        };
        let domains = match tcp_domains(&r.rule) {
            Ok(d) => d,
            Err(e) => {
                error(
                    format!("invalid rule: {:?} , {e}", r.rule),
                    Severity::ObjectError,
                );
                continue;
            }
        };
        if r.tls.is_none() && domains.first().is_some_and(|d| d != "*") {
            error(
                format!(
                    "invalid rule: {:?} , has HostSNI matcher, but no TLS on router",
                    r.rule
                ),
                Severity::ObjectError,
            );
            continue;
        }
        let syntax = RuleSyntax::from_router_option(if r.rule_syntax.is_empty() {
            inputs.default_syntax
        } else {
            &r.rule_syntax
        });
        let rule = match crate::rule::parse_tcp_rule(&r.rule, syntax) {
            Ok(rule) => rule,
            Err(e) => {
                error(
                    format!("error while parsing rule {}: {e}", r.rule),
                    Severity::ObjectError,
                );
                continue;
            }
        };
        let mode = match &r.tls {
            None => None,
            Some(t) if t.passthrough => Some(TcpTls::Passthrough),
            Some(t) => {
                if !t.cert_resolver.is_empty() {
                    error(
                        format!("certificate resolver {:?}: ACME is not supported yet by TrafficCop; the router is served with the default store's certificates", t.cert_resolver),
                        Severity::Warning,
                    );
                }
                let opts = if t.options.is_empty() || t.options == "default" {
                    "default".to_string()
                } else {
                    qualified(&t.options)
                };
                if let Err(e) = inputs.tls.get(&opts) {
                    error(e, Severity::ObjectError);
                }
                Some(TcpTls::Terminate(inputs.tls.chosen(&opts)))
            }
        };
        let broken_tls = matches!(mode, Some(TcpTls::Terminate(None)));
        let handler = if broken_tls {
            TcpHandler {
                name: format!("{name}@file"),
                tls: mode,
                middlewares: Vec::new(),
                service: None,
            }
        } else {
            let mut middlewares = Vec::new();
            let mut failed = None;
            for m in &r.middlewares {
                let q = qualified(m);
                let local = q.strip_suffix("@file").unwrap_or(&q);
                let built = match inputs.tcp.middlewares.get(local) {
                    Some(conf) => build_middleware(&q, conf),
                    None => Err(format!("middleware \"{q}\" does not exist")),
                };
                match built {
                    Ok(b) => middlewares.push(b),
                    Err(e) => {
                        failed = Some(e);
                        break;
                    }
                }
            }
            let service = match failed {
                Some(e) => Err(e),
                None => services.build(&qualified(&r.service)),
            };
            match service {
                Ok(service) => TcpHandler {
                    name: format!("{name}@file"),
                    tls: mode,
                    middlewares,
                    service: Some(service),
                },
                Err(e) => {
                    let entry = (path.clone(), e, Severity::ObjectError);
                    if !services.errors.contains(&entry) {
                        services.errors.push(entry);
                    }
                    continue;
                }
            }
        };
        let spec = RouteSpec {
            name: format!("{name}@file"),
            rule,
            priority: effective_priority(r.priority, &r.rule, Protocol::Tcp),
            rank: inputs.precedence.rank("file"),
        };
        let (specs, handlers) = if handler.tls.is_some() {
            &mut tls
        } else {
            &mut plain
        };
        specs.push(spec);
        handlers.push(Arc::new(handler));
    }
    if plain.0.is_empty() && tls.0.is_empty() {
        return None;
    }
    Some(TcpEntryRoutes {
        plain: TcpRouterTable::build(plain.0),
        plain_handlers: plain.1,
        tls: TcpRouterTable::build(tls.0),
        tls_handlers: tls.1,
    })
}
