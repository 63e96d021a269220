//! Traefik's runtime error model for dynamic configuration: references between routers,
//! services, middlewares, TLS options and servers transports are resolved (qualified with
//! `@provider` when they have no `@`), and each broken object gets errors while every other
//! object stays usable. These problems never refuse the file: they are
//! [`Severity::ObjectError`]s (or warnings).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use super::dynamic::{DynamicConfiguration, HTTPConfiguration, Middleware, Service, SourceMap};
use super::error::{ConfigError, Severity};
use super::static_config::StaticConfiguration;

/// The highest priority a user router may have (`MaxInt64 - 1000`).
pub const MAX_USER_PRIORITY: i64 = i64::MAX - 1000;

/// Qualifies `name` with `provider` unless it already names one (`svc` -> `svc@file`).
pub fn qualify(name: &str, provider: &str) -> String {
    if name.contains('@') {
        name.to_string()
    } else {
        format!("{name}@{provider}")
    }
}

/// The `@internal` services the static configuration enables.
pub fn internal_services(st: &StaticConfiguration) -> BTreeSet<String> {
    let mut s = BTreeSet::from(["noop@internal".to_string()]);
    if let Some(api) = &st.api {
        s.insert("api@internal".into());
        if api.dashboard {
            s.insert("dashboard@internal".into());
        }
    }
    if st.ping.is_some() {
        s.insert("ping@internal".into());
    }
    if st.metrics.as_ref().is_some_and(|m| m.prometheus.is_some()) {
        s.insert("prometheus@internal".into());
    }
    if st.providers.as_ref().is_some_and(|p| p.rest.is_some()) {
        s.insert("rest@internal".into());
    }
    if st
        .certificates_resolvers
        .values()
        .any(|r| r.acme.as_ref().is_some_and(|a| a.http_challenge.is_some()))
    {
        s.insert("acme-http@internal".into());
    }
    s
}

struct Checker<'a> {
    provider: &'a str,
    sources: &'a SourceMap,
    out: Vec<ConfigError>,
}

impl Checker<'_> {
    fn report(&mut self, key: &str, severity: Severity, message: String) {
        let (file, pos) = match self.sources.get(key) {
            Some((f, p)) => (f.clone(), Some(*p)),
            None => (None::<Arc<str>>, None),
        };
        self.out.push(ConfigError {
            file,
            pos,
            path: key.to_string(),
            message,
            severity,
        });
    }

    fn error(&mut self, key: &str, message: String) {
        self.report(key, Severity::ObjectError, message);
    }

    /// Resolves a reference to a local object map; `internal` lists the `@internal` names.
    fn exists<T>(
        &self,
        name: &str,
        local: &BTreeMap<String, T>,
        internal: &BTreeSet<String>,
    ) -> bool {
        let q = qualify(name, self.provider);
        match q.split_once('@') {
            Some((n, p)) if p == self.provider => local.contains_key(n),
            Some(_) => internal.contains(&q),
            None => false,
        }
    }
}

/// Checks a provider's dynamic configuration against the static configuration and returns
/// the object errors Traefik would attach to routers, services and middlewares.
pub fn validate_dynamic(
    dynamic: &DynamicConfiguration,
    st: &StaticConfiguration,
    provider: &str,
    sources: &SourceMap,
) -> Vec<ConfigError> {
    let mut c = Checker {
        provider,
        sources,
        out: Vec::new(),
    };
    let internal = internal_services(st);
    let no_internal = BTreeSet::new();
    let empty_http = HTTPConfiguration::default();
    let http = dynamic.http.as_ref().unwrap_or(&empty_http);
    let tls_options: BTreeMap<String, ()> = dynamic
        .tls
        .as_ref()
        .map(|t| t.options.keys().map(|k| (k.clone(), ())).collect())
        .unwrap_or_default();
    let defaults = st.default_entry_points();

    for (name, svc) in &http.services {
        check_service(&mut c, name, svc, http, &internal);
    }
    for (name, mw) in &http.middlewares {
        check_middleware(&mut c, name, mw, http);
    }
    for (name, r) in &http.routers {
        let key = format!("http.routers.{name}");
        check_entry_points(&mut c, &key, &r.entry_points, st, &defaults, false);
        if r.service.is_empty() {
            if r.parent_refs.is_empty() {
                c.error(&key, "router has no service and no child routers".into());
            }
        } else if !c.exists(&r.service, &http.services, &internal) {
            let q = qualify(&r.service, provider);
            c.error(&key, format!("the service \"{q}\" does not exist"));
        }
        for m in &r.middlewares {
            if !c.exists(m, &http.middlewares, &no_internal) {
                let q = qualify(m, provider);
                c.error(&key, format!("middleware \"{q}\" does not exist"));
            }
        }
        if let Some(tls) = &r.tls {
            if !tls.options.is_empty()
                && tls.options != "default"
                && !c.exists(&tls.options, &tls_options, &no_internal)
            {
                let q = qualify(&tls.options, provider);
                c.error(&key, format!("unknown TLS options: {q}"));
            }
        }
        if r.priority > MAX_USER_PRIORITY {
            c.error(
                &key,
                format!(
                    "the router priority {} exceeds the max user-defined priority {MAX_USER_PRIORITY}",
                    r.priority
                ),
            );
        }
        if !matches!(r.rule_syntax.as_str(), "" | "v2" | "v3") {
            c.error(&key, format!("invalid rule syntax: {}", r.rule_syntax));
        }
    }
    if let Some(tcp) = &dynamic.tcp {
        for (name, r) in &tcp.routers {
            let key = format!("tcp.routers.{name}");
            check_entry_points(&mut c, &key, &r.entry_points, st, &defaults, false);
            if r.service.is_empty() {
                c.error(&key, "the service is missing on the router".into());
            } else if !c.exists(&r.service, &tcp.services, &no_internal) {
                let q = qualify(&r.service, provider);
                c.error(&key, format!("the service \"{q}\" does not exist"));
            }
            if r.rule.is_empty() {
                c.error(&key, "router has no rule".into());
            }
            for m in &r.middlewares {
                if !c.exists(m, &tcp.middlewares, &no_internal) {
                    let q = qualify(m, provider);
                    c.error(&key, format!("middleware \"{q}\" does not exist"));
                }
            }
        }
    }
    if let Some(udp) = &dynamic.udp {
        let udp_eps: Vec<String> = st
            .entry_points
            .iter()
            .filter(|(_, ep)| ep.is_udp())
            .map(|(n, _)| n.clone())
            .collect();
        for (name, r) in &udp.routers {
            let key = format!("udp.routers.{name}");
            check_entry_points(&mut c, &key, &r.entry_points, st, &udp_eps, true);
            if r.service.is_empty() {
                c.error(&key, "the service is missing on the router".into());
            } else if !c.exists(&r.service, &udp.services, &no_internal) {
                let q = qualify(&r.service, provider);
                c.error(&key, format!("the service \"{q}\" does not exist"));
            }
        }
    }
    c.out
}

fn check_entry_points(
    c: &mut Checker<'_>,
    key: &str,
    eps: &[String],
    st: &StaticConfiguration,
    defaults: &[String],
    udp: bool,
) {
    let list: &[String] = if eps.is_empty() { defaults } else { eps };
    let mut valid = 0;
    for ep in list {
        match st.entry_points.get(ep) {
            Some(e) if e.is_udp() == udp => valid += 1,
            _ => c.report(
                key,
                Severity::Warning,
                format!("entryPoint \"{ep}\" doesn't exist"),
            ),
        }
    }
    if valid == 0 {
        c.error(key, "no valid entryPoint for this router".into());
    }
}

fn check_service(
    c: &mut Checker<'_>,
    name: &str,
    svc: &Service,
    http: &HTTPConfiguration,
    internal: &BTreeSet<String>,
) {
    let key = format!("http.services.{name}");
    let kinds = [
        svc.load_balancer.is_some(),
        svc.highest_random_weight.is_some(),
        svc.weighted.is_some(),
        svc.mirroring.is_some(),
        svc.failover.is_some(),
    ]
    .iter()
    .filter(|b| **b)
    .count();
    let q = qualify(name, c.provider);
    if kinds == 0 {
        c.error(
            &key,
            format!("the service \"{q}\" does not have any type defined"),
        );
        return;
    }
    if kinds > 1 {
        c.error(
            &key,
            "cannot create service: multi-types service not supported, consider declaring two different pieces of service instead".into(),
        );
        return;
    }
    if let Some(lb) = &svc.load_balancer {
        if !matches!(lb.strategy.as_str(), "wrr" | "p2c" | "hrw" | "leasttime") {
            c.error(
                &key,
                format!("unsupported load-balancer strategy {:?}", lb.strategy),
            );
        }
        if !lb.servers_transport.is_empty()
            && !c.exists(
                &lb.servers_transport,
                &http.servers_transports,
                &BTreeSet::from(["default@internal".to_string()]),
            )
        {
            let t = qualify(&lb.servers_transport, c.provider);
            c.error(&key, format!("servers transport not found {t}"));
        }
        for (i, s) in lb.servers.iter().enumerate() {
            if !s.url.contains("://") {
                c.error(
                    &key,
                    format!("servers[{i}]: error parsing server URL {:?}", s.url),
                );
            }
        }
    }
    let children: Vec<&str> = svc
        .weighted
        .iter()
        .flat_map(|w| w.services.iter().map(|s| s.name.as_str()))
        .chain(
            svc.highest_random_weight
                .iter()
                .flat_map(|w| w.services.iter().map(|s| s.name.as_str())),
        )
        .chain(svc.mirroring.iter().flat_map(|m| {
            std::iter::once(m.service.as_str()).chain(m.mirrors.iter().map(|s| s.name.as_str()))
        }))
        .chain(
            svc.failover
                .iter()
                .flat_map(|f| [f.service.as_str(), f.fallback.as_str()]),
        )
        .filter(|s| !s.is_empty())
        .collect();
    for child in children {
        if !c.exists(child, &http.services, internal) {
            let q = qualify(child, c.provider);
            c.error(&key, format!("the service \"{q}\" does not exist"));
        }
    }
    if let Some(cycle) = service_cycle(name, http, c.provider) {
        c.error(
            &key,
            format!("could not instantiate service {q}: recursion detected in {cycle}"),
        );
    }
}

fn service_children(svc: &Service) -> Vec<&str> {
    let mut out: Vec<&str> = Vec::new();
    if let Some(w) = &svc.weighted {
        out.extend(w.services.iter().map(|s| s.name.as_str()));
    }
    if let Some(w) = &svc.highest_random_weight {
        out.extend(w.services.iter().map(|s| s.name.as_str()));
    }
    if let Some(m) = &svc.mirroring {
        out.push(&m.service);
        out.extend(m.mirrors.iter().map(|s| s.name.as_str()));
    }
    if let Some(f) = &svc.failover {
        out.push(&f.service);
        out.push(&f.fallback);
    }
    out
}

/// A cycle through `start` in the service graph, as `service:a->service:b->service:a`.
fn service_cycle(start: &str, http: &HTTPConfiguration, provider: &str) -> Option<String> {
    let local = |n: &str| -> Option<String> {
        let q = qualify(n, provider);
        let (name, p) = q.split_once('@')?;
        (p == provider && http.services.contains_key(name)).then(|| name.to_string())
    };
    let mut stack = vec![(start.to_string(), vec![start.to_string()])];
    let mut steps = 0;
    while let Some((node, path)) = stack.pop() {
        steps += 1;
        if steps > 100_000 {
            return None;
        }
        for child in service_children(&http.services[&node]) {
            let Some(child) = local(child) else { continue };
            if child == start {
                let mut p: Vec<String> = path.iter().map(|n| format!("service:{n}")).collect();
                p.push(format!("service:{start}"));
                return Some(p.join("->"));
            }
            if !path.contains(&child) {
                let mut next = path.clone();
                next.push(child.clone());
                stack.push((child, next));
            }
        }
    }
    None
}

fn check_middleware(c: &mut Checker<'_>, name: &str, mw: &Middleware, http: &HTTPConfiguration) {
    let key = format!("http.middlewares.{name}");
    let q = qualify(name, c.provider);
    let kinds = [
        mw.add_prefix.is_some(),
        mw.strip_prefix.is_some(),
        mw.strip_prefix_regex.is_some(),
        mw.replace_path.is_some(),
        mw.replace_path_regex.is_some(),
        mw.chain.is_some(),
        mw.ip_white_list.is_some(),
        mw.ip_allow_list.is_some(),
        mw.headers.is_some(),
        mw.encoded_characters.is_some(),
        mw.errors.is_some(),
        mw.rate_limit.is_some(),
        mw.redirect_regex.is_some(),
        mw.redirect_scheme.is_some(),
        mw.basic_auth.is_some(),
        mw.digest_auth.is_some(),
        mw.forward_auth.is_some(),
        mw.in_flight_req.is_some(),
        mw.buffering.is_some(),
        mw.circuit_breaker.is_some(),
        mw.compress.is_some(),
        mw.pass_tls_client_cert.is_some(),
        mw.retry.is_some(),
        mw.content_type.is_some(),
        mw.grpc_web.is_some(),
        mw.plugin.0.is_some(),
    ]
    .iter()
    .filter(|b| **b)
    .count();
    if kinds == 0 {
        c.error(
            &key,
            format!("invalid middleware \"{q}\" configuration: invalid middleware type or middleware does not exist"),
        );
        return;
    }
    if kinds > 1 {
        c.error(
            &key,
            "cannot create middleware: multi-types middleware not supported, consider declaring two different pieces of middleware instead".into(),
        );
        return;
    }
    if mw.plugin.0.is_some() {
        c.error(
            &key,
            "Traefik Go plugins are not supported by TrafficCop".into(),
        );
    }
    if mw.add_prefix.as_ref().is_some_and(|a| a.prefix.is_empty()) {
        c.error(&key, "prefix cannot be empty".into());
    }
    if mw
        .redirect_scheme
        .as_ref()
        .is_some_and(|r| r.scheme.is_empty())
    {
        c.error(&key, "you must provide a target scheme".into());
    }
    if mw
        .ip_allow_list
        .as_ref()
        .is_some_and(|r| r.source_range.is_empty())
        || mw
            .ip_white_list
            .as_ref()
            .is_some_and(|r| r.source_range.is_empty())
    {
        c.error(
            &key,
            "sourceRange is empty, IPAllowLister not created".into(),
        );
    }
    if let Some(chain) = &mw.chain {
        for m in &chain.middlewares {
            if !c.exists(m, &http.middlewares, &BTreeSet::new()) {
                let mq = qualify(m, c.provider);
                c.error(&key, format!("middleware \"{mq}\" does not exist"));
            }
        }
        if let Some(cycle) = chain_cycle(name, http, c.provider) {
            c.error(
                &key,
                format!("could not instantiate middleware {q}: recursion detected in {cycle}"),
            );
        }
    }
}

fn chain_cycle(start: &str, http: &HTTPConfiguration, provider: &str) -> Option<String> {
    let mut path = vec![start.to_string()];
    let mut seen = BTreeSet::new();
    fn walk(
        node: &str,
        start: &str,
        http: &HTTPConfiguration,
        provider: &str,
        path: &mut Vec<String>,
        seen: &mut BTreeSet<String>,
    ) -> bool {
        let Some(chain) = http.middlewares.get(node).and_then(|m| m.chain.as_ref()) else {
            return false;
        };
        for m in &chain.middlewares {
            let q = qualify(m, provider);
            let Some((n, p)) = q.split_once('@') else {
                continue;
            };
            if p != provider {
                continue;
            }
            if n == start {
                path.push(n.to_string());
                return true;
            }
            if seen.insert(n.to_string()) {
                path.push(n.to_string());
                if walk(n, start, http, provider, path, seen) {
                    return true;
                }
                path.pop();
            }
        }
        false
    }
    walk(start, start, http, provider, &mut path, &mut seen).then(|| {
        path.iter()
            .map(|n| format!("middleware:{n}"))
            .collect::<Vec<_>>()
            .join("->")
    })
}
