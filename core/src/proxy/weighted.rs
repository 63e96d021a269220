//! `weighted` services (Traefik's `WeightedRoundRobin`): a weighted round robin over other
//! services, each a `loadBalancer` or another `weighted` service. Children are shuffled once
//! when the service is built, as Traefik does; a child of weight 0 or less is never picked but
//! must still build; a service that leads back to itself is Traefik's recursion error. A pick
//! walks down the weighted services to a `loadBalancer` one, which then picks its server.

use std::collections::BTreeMap;

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
}

impl CompiledWeighted {
    /// The child (index into `children`) a request with `headers` goes to, as
    /// [`super::compile::CompiledService::pick`] picks a server.
    fn pick_child(&self, headers: &Headers, cookies: &mut Vec<bytes::Bytes>) -> Option<usize> {
        if let Some(sticky) = &self.sticky {
            if let Some((i, rewrite)) = sticky.chosen(headers) {
                if rewrite {
                    cookies.push(sticky.set_cookie(i));
                }
                return Some(i);
            }
        }
        let i = self.wrr.lock().ok()?.next(|_| true)?;
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
    weighted: &[CompiledWeighted],
    mut index: usize,
    headers: &Headers,
    cookies: &mut Vec<bytes::Bytes>,
) -> Option<usize> {
    loop {
        let w = &weighted[index];
        let child = w.pick_child(headers, cookies)?;
        match w.children[child] {
            ServiceRef::LoadBalancer(i) => return Some(i),
            ServiceRef::Weighted(next) => index = next,
        }
    }
}

/// Builds every `weighted` service of `http`; `load_balancers` are the built `loadBalancer`
/// services by qualified name, `broken` the paths already in error. Errors go to `error`
/// (path, message), and a service in error is left out of the result's index.
pub fn build_weighted(
    http: &HTTPConfiguration,
    load_balancers: &BTreeMap<String, usize>,
    broken: &std::collections::BTreeSet<String>,
    rng: &mut SplitMix,
    error: &mut dyn FnMut(String, String),
) -> (Vec<CompiledWeighted>, BTreeMap<String, usize>) {
    let mut b = Builder {
        http,
        load_balancers,
        broken,
        rng,
        built: Vec::new(),
        index: BTreeMap::new(),
        failed: BTreeMap::new(),
    };
    for (name, svc) in &http.services {
        if svc.weighted.is_some() {
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
    broken: &'a std::collections::BTreeSet<String>,
    rng: &'a mut SplitMix,
    built: Vec<CompiledWeighted>,
    index: BTreeMap<String, usize>,
    failed: BTreeMap<String, String>,
}

impl Builder<'_> {
    /// The service `qualified` refers to, building it when it is a weighted one.
    fn child(&mut self, qualified: &str, stack: &mut Vec<String>) -> Result<ServiceRef, String> {
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
        let Some(w) = cfg.weighted.as_deref() else {
            // A loadBalancer service that did not build, or a type not built.
            return Err(format!("the service \"{qualified}\" is in error"));
        };
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
        let built = self.children(qualified, w, stack);
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
            if w.health_check.is_some() {
                // Traefik registers the parent with each child's health status; a child without
                // a health check cannot take it. Health checks are not built, so no child has one.
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
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::dynamic::load_dynamic;
    use crate::config::Format;

    type Built = (
        Vec<CompiledWeighted>,
        BTreeMap<String, usize>,
        Vec<(String, String)>,
    );

    fn build(yaml: &str, lbs: &[&str]) -> Built {
        let l = load_dynamic(yaml, Format::Yaml, None);
        assert!(!l.is_fatal(), "{:?}", l.diagnostics);
        let http = l.config.http.unwrap();
        let lbs: BTreeMap<String, usize> = lbs
            .iter()
            .enumerate()
            .map(|(i, n)| (format!("{n}@file"), i))
            .collect();
        let mut errors = Vec::new();
        let (built, index) = build_weighted(
            &http,
            &lbs,
            &Default::default(),
            &mut SplitMix(7),
            &mut |p, m| errors.push((p, m)),
        );
        (built, index, errors)
    }

    #[test]
    fn picks_by_weight_through_nested_services() {
        let (w, index, errors) = build(
            "http:\n  services:\n    a: {loadBalancer: {servers: [{url: 'http://a'}]}}\n    b: {loadBalancer: {servers: [{url: 'http://b'}]}}\n    c: {loadBalancer: {servers: [{url: 'http://c'}]}}\n    inner: {weighted: {services: [{name: b, weight: 1}, {name: c@file, weight: 1}]}}\n    outer: {weighted: {services: [{name: a, weight: 3}, {name: inner, weight: 1}, {name: c, weight: 0}]}}\n",
            &["a", "b", "c"],
        );
        assert!(errors.is_empty(), "{errors:?}");
        let outer = index["outer@file"];
        let mut counts = [0; 3];
        for _ in 0..80 {
            counts[pick(&w, outer, &Headers::new(), &mut Vec::new()).unwrap()] += 1;
        }
        // 3:1 between a and inner, inner split 1:1; c's own weight 0 entry is never picked.
        assert_eq!(counts, [60, 10, 10]);
    }

    #[test]
    fn errors_are_traefiks() {
        let (_, index, errors) = build(
            "http:\n  services:\n    a: {loadBalancer: {servers: [{url: 'http://a'}]}}\n    loop1: {weighted: {services: [{name: loop2}]}}\n    loop2: {weighted: {services: [{name: loop1}]}}\n    missing: {weighted: {services: [{name: a}, {name: nope, weight: 0}]}}\n    hc: {weighted: {services: [{name: a}], healthCheck: {}}}\n    empty: {weighted: {services: []}}\n",
            &["a"],
        );
        let msg = |p: &str| {
            errors
                .iter()
                .find(|(path, _)| path == &format!("http.services.{p}"))
                .map(|(_, m)| m.as_str())
        };
        assert_eq!(
            msg("loop1"),
            Some("could not instantiate service loop1@file: recursion detected in service:loop1@file->service:loop2@file->service:loop1@file")
        );
        assert!(msg("loop2").unwrap().contains("recursion detected"));
        assert_eq!(
            msg("missing"),
            Some("the service \"nope@file\" does not exist")
        );
        assert_eq!(
            msg("hc"),
            Some("cannot register a@file as updater for hc@file: healthCheck not enabled in config for this WRR service")
        );
        // No child at all: built, and a request gets 503.
        assert!(msg("empty").is_none());
        assert!(index.contains_key("empty@file"));
    }
}
