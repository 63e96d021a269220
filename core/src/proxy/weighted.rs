//! `weighted` services (Traefik's `WeightedRoundRobin`): a weighted round robin over other
//! services, each a `loadBalancer` or another `weighted` service. Children are shuffled once
//! when the service is built, as Traefik does; a child of weight 0 or less is never picked but
//! must still build; a service that leads back to itself is Traefik's recursion error. A pick
//! walks down the weighted services to a `loadBalancer` one, which then picks its server.

use std::collections::BTreeMap;

use super::compile::CompiledService;
use super::io::Timestamp;
use super::lb::{SplitMix, Wrr};
use super::sticky::Sticky;
use crate::config::dynamic::{HTTPConfiguration, WeightedRoundRobin};
use crate::config::validate::qualify;
use crate::http::Headers;

/// A child of a weighted service.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServiceRef {
    /// A `loadBalancer` service (index into `CompiledConfig::services`).
    LoadBalancer(usize),
    /// A `weighted` service (index into `CompiledConfig::weighted`).
    Weighted(usize),
}

/// A `weighted` service as served.
#[derive(Debug)]
pub struct CompiledWeighted {
    /// Qualified name.
    pub name: String,
    /// Its children, in the order they were shuffled into.
    pub children: Vec<ServiceRef>,
    /// The round-robin state over `children`, shared by every worker.
    pub wrr: std::sync::Mutex<Wrr>,
    /// `sticky.cookie`: children by cookie.
    pub sticky: Option<Sticky>,
    /// `healthCheck`: children whose servers are all down are not picked.
    pub health_check: bool,
    /// A `failover` service: `children` are its service and its fallback, in that order.
    pub failover: bool,
    /// A `highestRandomWeight` service: each child's name as configured and its weight, for
    /// the rendezvous hash of the client's address (`None` for the round robin).
    pub hrw: Option<Vec<(String, i64)>>,
}

impl CompiledWeighted {
    /// The child (index into `children`) a request with `headers` goes to, as
    /// [`super::compile::CompiledService::pick`] picks a server.
    fn pick_child(
        &self,
        up: impl Fn(ServiceRef) -> bool,
        headers: &Headers,
        cookies: &mut Vec<bytes::Bytes>,
        client: Option<std::net::IpAddr>,
    ) -> Option<usize> {
        if let Some(named) = &self.hrw {
            let key = super::compile::client_key(client);
            let mut best = None;
            let mut best_score = 0.0;
            for (i, (name, weight)) in named.iter().enumerate() {
                if self.health_check && !up(self.children[i]) {
                    continue;
                }
                let score = super::lb::hrw_score(&key, name, *weight);
                if score > best_score {
                    best = Some(i);
                    best_score = score;
                }
            }
            return best;
        }
        if self.failover {
            // The service while it is up (its health check is required), else the fallback
            // (whose status counts only when the failover service has its own check).
            if up(self.children[0]) {
                return Some(0);
            }
            return (!self.health_check || up(self.children[1])).then_some(1);
        }
        let up = |i: usize| !self.health_check || up(self.children[i]);
        if let Some(sticky) = &self.sticky {
            if let Some((i, rewrite)) = sticky.chosen(headers).filter(|(i, _)| up(*i)) {
                if rewrite {
                    cookies.push(sticky.set_cookie(i));
                }
                return Some(i);
            }
        }
        let i = self.wrr.lock().ok()?.next(up)?;
        if let Some(sticky) = &self.sticky {
            cookies.push(sticky.set_cookie(i));
        }
        Some(i)
    }
}

/// Picks, from the weighted service `index`, the `loadBalancer` service a request with
/// `headers` goes to (sticky cookies first; the `Set-Cookie` values the client must get go to
/// `cookies`); `None` when some weighted service on the way has no child to pick (Traefik's
/// 503 `no available server`).
pub fn pick(
    services: &[CompiledService],
    weighted: &[CompiledWeighted],
    mut index: usize,
    headers: &Headers,
    cookies: &mut Vec<bytes::Bytes>,
    now: Timestamp,
    client: Option<std::net::IpAddr>,
) -> Result<usize, &'static str> {
    loop {
        let w = &weighted[index];
        let up = |c| is_up(services, weighted, c, now);
        let Some(child) = w.pick_child(up, headers, cookies, client) else {
            // Traefik's failover answers with the status text, a balancer with its own words.
            return Err(if w.failover {
                "Service Unavailable"
            } else {
                "no available server"
            });
        };
        match w.children[child] {
            ServiceRef::LoadBalancer(i) => return Ok(i),
            ServiceRef::Weighted(next) => index = next,
        }
    }
}

/// Whether `child` reports up to a parent with a health check: a `loadBalancer` service when
/// one of its servers is up, a `weighted` one (with its own health check) when one of its
/// children is.
fn is_up(
    services: &[CompiledService],
    weighted: &[CompiledWeighted],
    child: ServiceRef,
    now: Timestamp,
) -> bool {
    match child {
        ServiceRef::LoadBalancer(i) => services[i].any_up(now),
        ServiceRef::Weighted(i) => weighted[i]
            .children
            .iter()
            .any(|c| is_up(services, weighted, *c, now)),
    }
}

/// Builds every `weighted` service of `http`; `load_balancers` are the built `loadBalancer`
/// services by qualified name, `broken` the paths already in error. Errors go to `error`
/// (path, message), and a service in error is left out of the result's index.
pub fn build_weighted(
    http: &HTTPConfiguration,
    load_balancers: &BTreeMap<String, usize>,
    services: &[CompiledService],
    broken: &std::collections::BTreeSet<String>,
    rng: &mut SplitMix,
    error: &mut dyn FnMut(String, String),
) -> (Vec<CompiledWeighted>, BTreeMap<String, usize>) {
    let mut b = Builder {
        http,
        load_balancers,
        services,
        broken,
        rng,
        built: Vec::new(),
        index: BTreeMap::new(),
        failed: BTreeMap::new(),
    };
    for (name, svc) in &http.services {
        if svc.weighted.is_some() || svc.failover.is_some() || svc.highest_random_weight.is_some() {
            let q = qualify(name, "file");
            if let Err(e) = b.service(&q, &mut Vec::new()) {
                if !broken.contains(&format!("http.services.{name}")) {
                    error(format!("http.services.{name}"), e);
                }
            }
        }
    }
    (b.built, b.index)
}

struct Builder<'a> {
    http: &'a HTTPConfiguration,
    load_balancers: &'a BTreeMap<String, usize>,
    services: &'a [CompiledService],
    broken: &'a std::collections::BTreeSet<String>,
    rng: &'a mut SplitMix,
    built: Vec<CompiledWeighted>,
    index: BTreeMap<String, usize>,
    failed: BTreeMap<String, String>,
}

impl Builder<'_> {
    /// The service `qualified` refers to, building it when it is a weighted one.
    fn child(&mut self, qualified: &str, stack: &mut Vec<String>) -> Result<ServiceRef, String> {
        let has_middlewares = qualified
            .strip_suffix("@file")
            .and_then(|bare| self.http.services.get(bare))
            .is_some_and(|svc| !svc.middlewares.is_empty());
        if has_middlewares {
            return Err(format!(
                "the middlewares of {qualified}, a service picked by a weighted or failover service, are not supported yet by TrafficCop"
            ));
        }
        if let Some(i) = self.load_balancers.get(qualified) {
            return Ok(ServiceRef::LoadBalancer(*i));
        }
        self.service(qualified, stack).map(ServiceRef::Weighted)
    }

    /// Builds the weighted service `qualified` (once).
    fn service(&mut self, qualified: &str, stack: &mut Vec<String>) -> Result<usize, String> {
        if let Some(i) = self.index.get(qualified) {
            return Ok(*i);
        }
        if let Some(e) = self.failed.get(qualified) {
            return Err(e.clone());
        }
        let bare = qualified.strip_suffix("@file");
        let cfg = bare
            .and_then(|b| self.http.services.get(b))
            .ok_or_else(|| format!("the service \"{qualified}\" does not exist"))?;
        if self
            .broken
            .contains(&format!("http.services.{}", bare.unwrap_or("")))
        {
            return Err(format!("the service \"{qualified}\" is in error"));
        }
        if cfg.weighted.is_none() && cfg.failover.is_none() && cfg.highest_random_weight.is_none() {
            // A loadBalancer service that did not build, or a type not built.
            return Err(format!("the service \"{qualified}\" is in error"));
        }
        let entry = format!("service:{qualified}");
        if stack.contains(&entry) {
            stack.push(entry);
            let e = format!(
                "could not instantiate service {qualified}: recursion detected in {}",
                stack.join("->")
            );
            stack.pop();
            return Err(e);
        }
        stack.push(entry);
        let built = match (
            cfg.weighted.as_deref(),
            cfg.failover.as_deref(),
            cfg.highest_random_weight.as_deref(),
        ) {
            (Some(w), ..) => self.children(qualified, w, stack),
            (None, Some(f), _) => self.failover(qualified, f, stack),
            (None, None, Some(h)) => self.hrw(qualified, h, stack),
            (None, None, None) => unreachable!("checked above"),
        };
        stack.pop();
        match built {
            Ok(w) => {
                let i = self.built.len();
                self.built.push(w);
                self.index.insert(qualified.to_string(), i);
                Ok(i)
            }
            Err(e) => {
                self.failed.insert(qualified.to_string(), e.clone());
                Err(e)
            }
        }
    }

    fn children(
        &mut self,
        qualified: &str,
        w: &WeightedRoundRobin,
        stack: &mut Vec<String>,
    ) -> Result<CompiledWeighted, String> {
        let mut order: Vec<usize> = (0..w.services.len()).collect();
        self.rng.shuffle(&mut order);
        let mut children = Vec::new();
        let mut weights = Vec::new();
        let mut names = Vec::new();
        for i in order {
            let c = &w.services[i];
            let child_name = qualify(&c.name, "file");
            let child = self.child(&child_name, stack)?;
            if w.health_check.is_some() && !self.checks(child) {
                // Traefik registers the parent with each child's health status; a child without
                // a health check cannot give it.
                return Err(format!(
                    "cannot register {child_name} as updater for {qualified}: healthCheck not enabled in config for this WRR service"
                ));
            }
            let weight = c.weight.unwrap_or(1);
            if weight > 0 {
                children.push(child);
                weights.push(weight);
                names.push(c.name.as_str());
            }
        }
        // A child is named in the cookie as the configuration writes it.
        let sticky = w
            .sticky
            .as_ref()
            .and_then(|s| s.cookie.as_ref())
            .map(|c| Sticky::new(c, qualified, &names));
        Ok(CompiledWeighted {
            name: qualified.to_string(),
            children,
            wrr: std::sync::Mutex::new(Wrr::new(&weights)),
            sticky,
            health_check: w.health_check.is_some(),
            failover: false,
            hrw: None,
        })
    }

    /// A `highestRandomWeight` service: the child with the highest weighted score for the
    /// client's address (children of weight 0 or less left out, as Traefik's balancer does).
    fn hrw(
        &mut self,
        qualified: &str,
        h: &crate::config::dynamic::HighestRandomWeight,
        stack: &mut Vec<String>,
    ) -> Result<CompiledWeighted, String> {
        let mut children = Vec::new();
        let mut named = Vec::new();
        for c in &h.services {
            let child_name = qualify(&c.name, "file");
            let child = self.child(&child_name, stack)?;
            if h.health_check.is_some() && !self.checks(child) {
                return Err(format!(
                    "cannot register {child_name} as updater for {qualified}: healthCheck not enabled in config for this WRR service"
                ));
            }
            let weight = c.weight.unwrap_or(1);
            if weight > 0 {
                children.push(child);
                named.push((c.name.clone(), weight));
            }
        }
        Ok(CompiledWeighted {
            name: qualified.to_string(),
            children,
            wrr: std::sync::Mutex::new(Wrr::new(&[])),
            sticky: None,
            health_check: h.health_check.is_some(),
            failover: false,
            hrw: Some(named),
        })
    }

    /// Whether `child` has a health check a parent can follow.
    fn checks(&self, child: ServiceRef) -> bool {
        match child {
            ServiceRef::LoadBalancer(i) => self.services[i].health_check.is_some(),
            ServiceRef::Weighted(i) => self.built[i].health_check,
        }
    }

    /// A `failover` service: its service (which must have a health check) while that is up,
    /// else its fallback.
    fn failover(
        &mut self,
        qualified: &str,
        f: &crate::config::dynamic::Failover,
        stack: &mut Vec<String>,
    ) -> Result<CompiledWeighted, String> {
        if f.errors.as_ref().is_some_and(|e| !e.status.is_empty()) {
            return Err(
                "failover on error statuses (errors.status) is not supported yet by TrafficCop"
                    .into(),
            );
        }
        let main_name = qualify(&f.service, "file");
        let main = self.child(&main_name, stack)?;
        if !self.checks(main) {
            return Err(format!(
                "cannot register {main_name} as updater for {qualified}: healthCheck not enabled in config for this WRR service"
            ));
        }
        let fallback_name = qualify(&f.fallback, "file");
        let fallback = self.child(&fallback_name, stack)?;
        if f.health_check.is_some() && !self.checks(fallback) {
            return Err(format!(
                "cannot register {fallback_name} as updater for {qualified}: healthCheck not enabled in config for this WRR service"
            ));
        }
        Ok(CompiledWeighted {
            name: qualified.to_string(),
            children: vec![main, fallback],
            wrr: std::sync::Mutex::new(Wrr::new(&[])),
            sticky: None,
            health_check: f.health_check.is_some(),
            failover: true,
            hrw: None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::dynamic::load_dynamic;
    use crate::config::Format;
    use crate::proxy::compile::{compile, CompiledConfig};

    fn build(yaml: &str) -> std::sync::Arc<CompiledConfig> {
        let l = load_dynamic(yaml, Format::Yaml, None);
        assert!(!l.is_fatal(), "{:?}", l.diagnostics);
        compile(&Default::default(), &l.config, 1)
    }

    fn index(c: &CompiledConfig, name: &str) -> usize {
        c.weighted.iter().position(|w| w.name == name).unwrap()
    }

    fn lb(c: &CompiledConfig, name: &str) -> usize {
        c.services.iter().position(|s| s.name == name).unwrap()
    }

    /// A pick from the weighted (or failover) service `name`, without cookies.
    fn pick_in(c: &CompiledConfig, name: &str) -> Result<usize, &'static str> {
        pick(
            &c.services,
            &c.weighted,
            index(c, name),
            &Headers::new(),
            &mut Vec::new(),
            Timestamp(0),
            None,
        )
    }

    fn error<'a>(c: &'a CompiledConfig, service: &str) -> Option<&'a str> {
        c.errors
            .iter()
            .find(|e| e.path == format!("http.services.{service}"))
            .map(|e| e.message.as_str())
    }

    const THREE: &str = "http:\n  services:\n    a: {loadBalancer: {servers: [{url: 'http://a'}]}}\n    b: {loadBalancer: {servers: [{url: 'http://b'}]}}\n    c: {loadBalancer: {servers: [{url: 'http://c'}]}}\n";

    #[test]
    fn picks_by_weight_through_nested_services() {
        let c = build(&format!("{THREE}    inner: {{weighted: {{services: [{{name: b, weight: 1}}, {{name: c@file, weight: 1}}]}}}}\n    outer: {{weighted: {{services: [{{name: a, weight: 3}}, {{name: inner, weight: 1}}, {{name: c, weight: 0}}]}}}}\n"));
        assert!(c.errors.is_empty(), "{:?}", c.errors);
        let outer = index(&c, "outer@file");
        let mut counts = std::collections::BTreeMap::new();
        for _ in 0..80 {
            let i = pick(
                &c.services,
                &c.weighted,
                outer,
                &Headers::new(),
                &mut Vec::new(),
                Timestamp(0),
                None,
            )
            .unwrap();
            *counts.entry(c.services[i].name.as_str()).or_insert(0) += 1;
        }
        // 3:1 between a and inner, inner split 1:1; c's own weight 0 entry is never picked.
        let want: std::collections::BTreeMap<&str, i32> =
            [("a@file", 60), ("b@file", 10), ("c@file", 10)].into();
        assert_eq!(counts, want);
    }

    #[test]
    fn a_parent_with_a_health_check_skips_children_that_are_down() {
        let c = build(
            "http:\n  services:\n    a: {loadBalancer: {servers: [{url: 'http://a'}, {url: 'http://a2'}], healthCheck: {path: /h}}}\n    b: {loadBalancer: {servers: [{url: 'http://b'}], healthCheck: {path: /h}}}\n    w: {weighted: {services: [{name: a}, {name: b}], healthCheck: {}}}\n    top: {weighted: {services: [{name: w}], healthCheck: {}}}\n    nohc: {weighted: {services: [{name: a}, {name: b}]}}\n",
        );
        assert!(c.errors.is_empty(), "{:?}", c.errors);
        let (a, b) = (lb(&c, "a@file"), lb(&c, "b@file"));
        let pick_from = |w: &str| pick_in(&c, w);
        // Both of a's servers down: a is down for w (and so for top); b takes everything.
        c.services[a].status.set(0, false);
        c.services[a].status.set(1, false);
        for _ in 0..4 {
            assert_eq!(pick_from("w@file"), Ok(b));
            assert_eq!(pick_from("top@file"), Ok(b));
        }
        // Without a health check of its own, a parent is not told: a is still picked.
        let picks: Vec<_> = (0..4).filter_map(|_| pick_from("nohc@file").ok()).collect();
        assert!(picks.contains(&a), "{picks:?}");
        // Everything down: no child to pick.
        c.services[b].status.set(0, false);
        assert_eq!(pick_from("top@file"), Err("no available server"));
        assert_eq!(
            c.services[b].pick(&Headers::new(), &mut Vec::new(), Timestamp(0), None),
            None
        );
    }

    #[test]
    fn errors_are_traefiks() {
        let c = build(&format!(
            "{THREE}    missing: {{weighted: {{services: [{{name: a}}, {{name: nope, weight: 0}}]}}}}\n    hc: {{weighted: {{services: [{{name: a}}], healthCheck: {{}}}}}}\n    empty: {{weighted: {{services: []}}}}\n"
        ));
        assert_eq!(
            error(&c, "missing"),
            Some("the service \"nope@file\" does not exist")
        );
        assert_eq!(
            error(&c, "hc"),
            Some("cannot register a@file as updater for hc@file: healthCheck not enabled in config for this WRR service")
        );
        // No child at all: built, and a request gets 503.
        assert!(error(&c, "empty").is_none());
        let empty = index(&c, "empty@file");
        assert_eq!(
            pick(
                &c.services,
                &c.weighted,
                empty,
                &Headers::new(),
                &mut Vec::new(),
                Timestamp(0),
                None
            ),
            Err("no available server")
        );
    }

    #[test]
    fn failover_uses_its_service_while_it_is_up() {
        let c = build(
            "http:\n  services:\n    main: {loadBalancer: {servers: [{url: 'http://m'}], healthCheck: {path: /h}}}\n    spare: {loadBalancer: {servers: [{url: 'http://s'}], healthCheck: {path: /h}}}\n    plain: {loadBalancer: {servers: [{url: 'http://p'}]}}\n    f: {failover: {service: main, fallback: spare}}\n    fhc: {failover: {service: main, fallback: spare, healthCheck: {}}}\n    nohc: {failover: {service: plain, fallback: spare}}\n    fbnohc: {failover: {service: main, fallback: plain, healthCheck: {}}}\n    errors: {failover: {service: main, fallback: spare, errors: {status: ['500']}}}\n",
        );
        let (main, spare) = (lb(&c, "main@file"), lb(&c, "spare@file"));
        let pick_from = |w: &str| pick_in(&c, w);
        assert_eq!(pick_from("f@file"), Ok(main));
        c.services[main].status.set(0, false);
        assert_eq!(pick_from("f@file"), Ok(spare));
        // Fallback down too: without its own check the failover still sends there (and the
        // fallback answers 503 itself); with one, it answers 503 `Service Unavailable`.
        c.services[spare].status.set(0, false);
        assert_eq!(pick_from("f@file"), Ok(spare));
        assert_eq!(pick_from("fhc@file"), Err("Service Unavailable"));
        assert_eq!(
            error(&c, "nohc"),
            Some("cannot register plain@file as updater for nohc@file: healthCheck not enabled in config for this WRR service")
        );
        assert!(error(&c, "fbnohc")
            .unwrap()
            .starts_with("cannot register plain@file"));
        assert!(error(&c, "errors").unwrap().contains("not supported yet"));
    }

    #[test]
    fn children_with_middlewares_are_refused() {
        let c = build(&format!(
            "{THREE}    d: {{loadBalancer: {{servers: [{{url: 'http://d'}}]}}, middlewares: [m]}}\n    w: {{weighted: {{services: [{{name: a}}, {{name: d}}]}}}}\n  middlewares:\n    m: {{addPrefix: {{prefix: /p}}}}\n"
        ));
        assert!(error(&c, "w")
            .unwrap()
            .starts_with("the middlewares of d@file, a service picked by a weighted"));
    }

    #[test]
    fn loops_are_refused() {
        let mut errors = Vec::new();
        let l = load_dynamic(
            "http:\n  services:\n    loop1: {weighted: {services: [{name: loop2}]}}\n    loop2: {weighted: {services: [{name: loop1}]}}\n",
            Format::Yaml,
            None,
        );
        let http = l.config.http.unwrap();
        let (built, _) = build_weighted(
            &http,
            &BTreeMap::new(),
            &[],
            &Default::default(),
            &mut SplitMix(7),
            &mut |p, m| errors.push((p, m)),
        );
        assert!(built.is_empty());
        assert_eq!(errors[0].1, "could not instantiate service loop1@file: recursion detected in service:loop1@file->service:loop2@file->service:loop1@file");
    }
}
