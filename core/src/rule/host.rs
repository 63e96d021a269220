//! Host names: the canonical request host, and Traefik's host and SNI comparisons.

use std::borrow::Cow;

use super::text::{eq_fold, go_lower, split_host_port, trim_space};

/// The canonical host Traefik routes on: the raw `Host` value (`req.Host`) with the port and
/// IPv6 brackets removed, surrounding white space trimmed and lower-cased
/// (`requestdecorator.GetCanonicalHost`). `[10::10]:80` becomes `10::10`.
pub fn canonical_host(raw: &str) -> Cow<'_, str> {
    go_lower(trim_space(strip_port(raw)))
}

/// The request-decorator's `parseHost`: the host part of `host:port`; a bracketed IPv6 address
/// without a port loses its brackets; anything unparsable is returned as is.
fn strip_port(addr: &str) -> &str {
    if !addr.contains(':') {
        return addr;
    }
    match split_host_port(addr) {
        Some((host, _)) => host,
        None if addr.len() >= 2 && addr.starts_with('[') && addr.ends_with(']') => {
            &addr[1..addr.len() - 1]
        }
        None => addr,
    }
}

/// gorilla/mux's `parseHost` (used by v2 `HostRegexp`): the host part of `host:port`, or the
/// value unchanged; no trimming, no lower-casing.
pub fn mux_host(addr: &str) -> &str {
    if !addr.contains(':') {
        return addr;
    }
    split_host_port(addr).map_or(addr, |(h, _)| h)
}

/// Traefik's `DomainMatchHostExpression`: `expr` either equals `domain` ignoring case, or starts
/// with `*` and equals `domain` with its first label replaced by `*` (so `*.example.com` matches
/// exactly one extra label).
pub fn domain_match(domain: &str, expr: &str) -> bool {
    if let Some(tail) = expr.strip_prefix('*') {
        let rest = domain.find('.').map_or("", |i| &domain[i..]);
        return eq_fold(tail, rest);
    }
    eq_fold(domain, expr)
}

/// v3 `Host(expr)` against a canonical host (`expr` already lower-cased, not `*`): a direct
/// match, or a match after dropping one trailing dot from the rule or from the request.
pub fn host_matches(canonical: &str, expr: &str) -> bool {
    if canonical.is_empty() {
        return false;
    }
    if domain_match(canonical, expr) {
        return true;
    }
    if let Some(e) = expr.strip_suffix('.') {
        if domain_match(canonical, e) {
            return true;
        }
    }
    if let Some(h) = canonical.strip_suffix('.') {
        if domain_match(h, expr) {
            return true;
        }
    }
    false
}

/// v2 `Host(expr)` against a canonical host: exact (already lower-cased) comparison, or after
/// dropping one trailing dot from either side. No wildcards.
pub fn host_matches_v2(canonical: &str, expr: &str) -> bool {
    !canonical.is_empty()
        && (canonical == expr
            || expr.strip_suffix('.') == Some(canonical)
            || canonical.strip_suffix('.') == Some(expr))
}

/// The canonical SNI Traefik matches TCP rules on: trimmed and lower-cased
/// (`types.CanonicalDomain`).
pub fn canonical_sni(sni: &str) -> Cow<'_, str> {
    go_lower(trim_space(sni))
}

/// Whether a v3 `HostSNI` value is acceptable: `^(\*\.)?[\w.\-:]+$` (ASCII word characters).
pub fn valid_host_sni(v: &str) -> bool {
    let body = v.strip_prefix("*.").unwrap_or(v);
    valid_host_sni_v2(body)
}

/// Whether a v2 `HostSNI` value is acceptable: `^[\w.\-:]+$` (ASCII word characters).
pub fn valid_host_sni_v2(v: &str) -> bool {
    !v.is_empty()
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-' | b':'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical() {
        assert_eq!(canonical_host("Example.COM:8080"), "example.com");
        assert_eq!(canonical_host("[10::10]:80"), "10::10");
        assert_eq!(canonical_host("[10::10]"), "10::10");
        assert_eq!(canonical_host(" a.com "), "a.com");
        assert_eq!(canonical_host("10::10"), "10::10");
        assert_eq!(mux_host("A.com:80"), "A.com");
    }

    #[test]
    fn wildcards_and_dots() {
        assert!(host_matches("a.example.com", "*.example.com"));
        assert!(!host_matches("example.com", "*.example.com"));
        assert!(!host_matches("a.b.example.com", "*.example.com"));
        assert!(host_matches("example.com.", "example.com"));
        assert!(host_matches("example.com", "example.com."));
        assert!(!host_matches("", "example.com"));
        assert!(host_matches_v2("a.com", "a.com."));
        assert!(!host_matches_v2("x.a.com", "*.a.com"));
    }
}
