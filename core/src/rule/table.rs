//! The compiled router table of one entry point.
//!
//! Routers are sorted once into the order Traefik tries them ([`super::priority::route_order`]).
//! A lookup must return the first router in that order whose rule matches, exactly as a linear
//! scan would, without scanning every router:
//!
//! * A rule that can only match some hosts (`Host(`a.com`)`, `Host(`*.a.com`)`, an `||` of
//!   such, or an `&&` with one such side) is filed under those hosts: its exact host keys in
//!   one hash map, its wildcard suffixes (`.a.com`) in another. Keys are folded to lower case
//!   and filed both with and without one trailing dot.
//! * Every other rule goes to the scan list.
//!
//! A lookup probes the maps with the request's canonical host (and the host without one
//! trailing dot, and the suffix after its first label), then walks the matching buckets and the
//! scan list merged in priority order, evaluating full rules, and stops at the first match.
//! Since every bucket is a superset of the rules that can match that host, the result is the
//! same as the linear scan (the property test in `proptests/tests/router_table.rs` checks it).

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use super::expr::HostKeys;
use super::http_rule::HttpRule;
use super::matchers_tcp::TcpRule;
use super::priority::{route_order, ProviderRank};
use super::text::fold_key;
use super::view::{HttpRequestView, PreparedConn, PreparedRequest, TcpConnView};

/// One router given to [`RouterTable::build`] / [`TcpRouterTable::build`].
#[derive(Debug, Clone)]
pub struct RouteSpec<R> {
    /// The router's full name (`web@file`): the last tie-breaker.
    pub name: String,
    /// The compiled rule.
    pub rule: R,
    /// The effective priority ([`super::priority::effective_priority`]).
    pub priority: i64,
    /// The provider's `providers.precedence` rank.
    pub rank: ProviderRank,
}

/// A fixed, seedless hasher (FxHash): the core draws no randomness, and host keys come from
/// configuration, not from clients.
#[derive(Default, Clone, Copy)]
struct FxHasher(u64);

impl Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        const K: u64 = 0x51_7c_c1_b7_27_22_0a_95;
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let w = u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]);
            self.0 = (self.0.rotate_left(5) ^ w).wrapping_mul(K);
        }
        for &b in chunks.remainder() {
            self.0 = (self.0.rotate_left(5) ^ u64::from(b)).wrapping_mul(K);
        }
    }

    fn write_u8(&mut self, i: u8) {
        self.0 = (self.0.rotate_left(5) ^ u64::from(i)).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

type Map = HashMap<Box<str>, Vec<u32>, BuildHasherDefault<FxHasher>>;

/// The host index over routes in priority order (positions are indexes into that order).
#[derive(Debug, Clone, Default)]
struct HostIndex {
    exact: Map,
    suffixes: Map,
    scan: Vec<u32>,
}

impl HostIndex {
    fn build(keys: impl Iterator<Item = Option<HostKeys>>) -> Self {
        let mut idx = HostIndex::default();
        for (pos, k) in keys.enumerate() {
            let pos = pos as u32;
            let Some(mut k) = k else {
                idx.scan.push(pos);
                continue;
            };
            for (list, map) in [
                (&mut k.exact, &mut idx.exact),
                (&mut k.suffixes, &mut idx.suffixes),
            ] {
                list.sort();
                list.dedup();
                for key in list.drain(..) {
                    map.entry(key.into_boxed_str()).or_default().push(pos);
                }
            }
        }
        idx
    }

    /// Calls `try_route` on candidate positions in ascending order (each once) until it
    /// returns true; returns that position.
    fn find(&self, host: &str, try_route: &mut dyn FnMut(u32) -> bool) -> Option<u32> {
        let host = fold_key(host);
        let trimmed = host.strip_suffix('.');
        let mut lists: [&[u32]; 5] = [&[]; 5];
        let mut n = 0;
        fn add<'a>(lists: &mut [&'a [u32]; 5], n: &mut usize, l: &'a [u32]) {
            if !l.is_empty() {
                lists[*n] = l;
                *n += 1;
            }
        }
        add(&mut lists, &mut n, &self.scan);
        if !self.exact.is_empty() {
            for h in std::iter::once(&*host).chain(trimmed) {
                if let Some(v) = self.exact.get(h) {
                    add(&mut lists, &mut n, v);
                }
            }
        }
        if !self.suffixes.is_empty() {
            for h in std::iter::once(&*host).chain(trimmed) {
                let suffix = h.find('.').map_or("", |i| &h[i..]);
                if let Some(v) = self.suffixes.get(suffix) {
                    add(&mut lists, &mut n, v);
                }
            }
        }
        let lists = &mut lists[..n];
        match lists {
            [] => return None,
            [only] => return only.iter().copied().find(|&p| try_route(p)),
            _ => {}
        }
        let mut last = None;
        loop {
            let mut best: Option<(usize, u32)> = None;
            for (i, l) in lists.iter().enumerate() {
                if let Some(&p) = l.first() {
                    if best.is_none_or(|(_, b)| p < b) {
                        best = Some((i, p));
                    }
                }
            }
            let (i, p) = best?;
            lists[i] = &lists[i][1..];
            if last == Some(p) {
                continue;
            }
            last = Some(p);
            if try_route(p) {
                return Some(p);
            }
        }
    }
}

fn sort_specs<R>(specs: Vec<RouteSpec<R>>) -> Vec<(usize, RouteSpec<R>)> {
    let mut v: Vec<(usize, RouteSpec<R>)> = specs.into_iter().enumerate().collect();
    v.sort_by(|(ia, a), (ib, b)| {
        route_order((a.priority, a.rank, &a.name), (b.priority, b.rank, &b.name)).then(ia.cmp(ib))
    });
    v
}

/// The HTTP routers of one entry point (TLS and non-TLS routers go in separate tables).
#[derive(Debug, Clone, Default)]
pub struct RouterTable {
    routes: Vec<(usize, RouteSpec<HttpRule>)>,
    index: HostIndex,
}

impl RouterTable {
    /// Builds the table. Lookups return indexes into `specs`.
    pub fn build(specs: Vec<RouteSpec<HttpRule>>) -> Self {
        let routes = sort_specs(specs);
        let index = HostIndex::build(routes.iter().map(|(_, s)| s.rule.host_keys()));
        RouterTable { routes, index }
    }

    /// The number of routers.
    pub fn len(&self) -> usize {
        self.routes.len()
    }

    /// Whether the table has no router.
    pub fn is_empty(&self) -> bool {
        self.routes.is_empty()
    }

    /// Indexes into the build input, in the order routers are tried.
    pub fn order(&self) -> impl Iterator<Item = usize> + '_ {
        self.routes.iter().map(|(i, _)| *i)
    }

    /// The first router (as an index into the build input) whose rule matches the request.
    pub fn lookup(&self, view: &HttpRequestView<'_>) -> Option<usize> {
        self.lookup_prepared(&PreparedRequest::new(view))
    }

    /// [`Self::lookup`] for an already prepared request.
    pub fn lookup_prepared(&self, req: &PreparedRequest<'_>) -> Option<usize> {
        let pos = self.index.find(req.canonical_host(), &mut |p| {
            self.routes[p as usize].1.rule.matches_prepared(req)
        })?;
        Some(self.routes[pos as usize].0)
    }

    /// How many routers are only reachable by scanning (rules the host index cannot file).
    pub fn scanned_len(&self) -> usize {
        self.index.scan.len()
    }
}

/// The TCP routers of one entry point.
#[derive(Debug, Clone, Default)]
pub struct TcpRouterTable {
    routes: Vec<(usize, RouteSpec<TcpRule>)>,
    index: HostIndex,
}

impl TcpRouterTable {
    /// Builds the table. Lookups return indexes into `specs`.
    pub fn build(specs: Vec<RouteSpec<TcpRule>>) -> Self {
        let routes = sort_specs(specs);
        let index = HostIndex::build(routes.iter().map(|(_, s)| s.rule.host_keys()));
        TcpRouterTable { routes, index }
    }

    /// Indexes into the build input, in the order routers are tried.
    pub fn order(&self) -> impl Iterator<Item = usize> + '_ {
        self.routes.iter().map(|(i, _)| *i)
    }

    /// The first router whose rule matches, and whether it is the catch-all `HostSNI(`*`)`.
    pub fn lookup(&self, view: &TcpConnView<'_>) -> Option<(usize, bool)> {
        let conn = PreparedConn::new(view);
        let pos = self.index.find(conn.canonical_sni(), &mut |p| {
            self.routes[p as usize].1.rule.matches_prepared(&conn)
        })?;
        let (i, spec) = &self.routes[pos as usize];
        Some((*i, spec.rule.is_catch_all()))
    }
}
