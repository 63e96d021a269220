//! Router priorities and the order routers are tried in.
//!
//! A router's priority is its configured `priority`, or, when that is 0 or unset, the byte
//! length of its rule text (whitespace and quotes included). A TCP rule that is exactly
//! `HostSNI(`*`)` defaults to −1 instead, so the catch-all is tried last. Routers are tried
//! highest priority first. Ties are broken by `providers.precedence` (a provider listed
//! earlier wins; any listed provider beats an unlisted one), and remaining ties by the router's
//! full name in ascending byte order (`a@file` before `b@file`). Traefik leaves that last order
//! unspecified; TrafficCop makes it deterministic.

use std::cmp::Ordering;

use super::matchers_tcp::tree_is_catch_all;
use super::parser::parse_tree;

/// The highest priority a user-defined router may have: `i64::MAX - 1000`. The band above is
/// reserved for `@internal` routers.
pub const MAX_USER_PRIORITY: i64 = i64::MAX - 1000;

/// Which router kind a rule belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Protocol {
    /// An HTTP router.
    Http,
    /// A TCP router.
    Tcp,
}

/// The priority a router gets when its configured priority is 0 or unset: the rule's byte
/// length, or −1 for the TCP catch-all `HostSNI(`*`)` (any spelling and spacing).
pub fn default_priority(rule: &str, protocol: Protocol) -> i64 {
    if protocol == Protocol::Tcp && is_catch_all(rule) {
        return -1;
    }
    rule.len() as i64
}

/// Whether a TCP rule is the catch-all: a single `HostSNI` call whose only argument is `*`.
pub fn is_catch_all(rule: &str) -> bool {
    parse_tree(rule, &["HostSNI"]).is_ok_and(|t| tree_is_catch_all(&t))
}

/// The priority a router is sorted by: `configured` unless it is 0, else [`default_priority`].
pub fn effective_priority(configured: i64, rule: &str, protocol: Protocol) -> i64 {
    if configured == 0 {
        default_priority(rule, protocol)
    } else {
        configured
    }
}

/// Checks a configured priority against [`MAX_USER_PRIORITY`]; `internal` routers (provider
/// `internal`) are exempt. The error is Traefik's message.
pub fn check_priority(configured: i64, internal: bool) -> Result<(), String> {
    if !internal && configured > MAX_USER_PRIORITY {
        return Err(format!(
            "the router priority {configured} exceeds the max user-defined priority {MAX_USER_PRIORITY}"
        ));
    }
    Ok(())
}

/// A provider's place in `providers.precedence`: lower wins ties; unlisted providers rank last.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ProviderRank(pub u32);

impl ProviderRank {
    /// The rank of providers absent from the precedence list.
    pub const UNLISTED: ProviderRank = ProviderRank(u32::MAX);
}

/// The static `providers.precedence` list, highest precedence first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProviderPrecedence {
    list: Vec<String>,
}

impl ProviderPrecedence {
    /// A precedence list, highest first.
    pub fn new<S: Into<String>>(list: impl IntoIterator<Item = S>) -> Self {
        ProviderPrecedence {
            list: list.into_iter().map(Into::into).collect(),
        }
    }

    /// The rank of `provider` (a provider name such as `file` or `kubernetescrd`).
    pub fn rank(&self, provider: &str) -> ProviderRank {
        self.list
            .iter()
            .position(|p| p == provider)
            .map_or(ProviderRank::UNLISTED, |i| ProviderRank(i as u32))
    }
}

/// The order routers are tried in: priority descending, then provider rank ascending, then name
/// ascending.
pub fn route_order(a: (i64, ProviderRank, &str), b: (i64, ProviderRank, &str)) -> Ordering {
    b.0.cmp(&a.0).then(a.1.cmp(&b.1)).then(a.2.cmp(b.2))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults() {
        assert_eq!(default_priority("Host(`example.org`)", Protocol::Http), 19);
        assert_eq!(
            default_priority("HostSNI(`example.org`)", Protocol::Tcp),
            22
        );
        assert_eq!(
            default_priority("   HostSNI ( `*` )       ", Protocol::Tcp),
            -1
        );
        assert_eq!(default_priority("HostSNI(`*`)", Protocol::Http), 12);
        assert_eq!(effective_priority(5, "x", Protocol::Http), 5);
        assert!(check_priority(MAX_USER_PRIORITY + 1, false).is_err());
        assert!(check_priority(MAX_USER_PRIORITY + 1, true).is_ok());
        assert!(check_priority(MAX_USER_PRIORITY, false).is_ok());
    }

    #[test]
    fn order() {
        let p = ProviderPrecedence::new(["kubernetescrd", "kubernetes"]);
        assert!(p.rank("kubernetescrd") < p.rank("kubernetes"));
        assert!(p.rank("kubernetes") < p.rank("file"));
        assert_eq!(
            route_order((10, p.rank("file"), "a"), (20, p.rank("kubernetes"), "b")),
            Ordering::Greater
        );
        assert_eq!(
            route_order((10, p.rank("file"), "a"), (10, p.rank("file"), "b")),
            Ordering::Less
        );
    }
}
