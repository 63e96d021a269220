//! Query strings as Go's `url.Query()` reads them (used by `Query` and `QueryRegexp`).

use std::borrow::Cow;

/// One decoded `key=value` pair.
pub type QueryPair<'a> = (Cow<'a, [u8]>, Cow<'a, [u8]>);

/// Go's `url.ParseQuery`, keeping what it keeps: pairs split on `&`, a pair containing `;` is
/// dropped, keys and values are percent-decoded with `+` as space, and a pair whose decoding
/// fails is dropped. Order is preserved.
///
/// The entry point turns `;` into `&` before routing (Go's `AllowQuerySemicolons`); the HTTP
/// layer does that on the query it hands to the router.
pub fn parse_query(raw: &str) -> Vec<QueryPair<'_>> {
    let mut out = Vec::new();
    for part in raw.split('&') {
        if part.is_empty() || part.contains(';') {
            continue;
        }
        let (k, v) = part.split_once('=').unwrap_or((part, ""));
        if let (Some(k), Some(v)) = (unescape(k), unescape(v)) {
            out.push((k, v));
        }
    }
    out
}

/// Go's `QueryUnescape`.
fn unescape(s: &str) -> Option<Cow<'_, [u8]>> {
    if !s.contains(['%', '+']) {
        return Some(Cow::Borrowed(s.as_bytes()));
    }
    crate::http::percent::unescape(s, true).ok().map(Cow::Owned)
}

/// The first value of `key`, if present (gorilla/mux's query matching reads only that one).
pub(crate) fn first_value<'q>(pairs: &'q [QueryPair<'_>], key: &[u8]) -> Option<&'q [u8]> {
    pairs
        .iter()
        .find(|(k, _)| k.as_ref() == key)
        .map(|(_, v)| v.as_ref())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_go() {
        let q = parse_query("a=1&b&c=x+y%21&a=2&bad=%zz&s;x=1&=e");
        let flat: Vec<(&[u8], &[u8])> = q.iter().map(|(k, v)| (k.as_ref(), v.as_ref())).collect();
        assert_eq!(
            flat,
            vec![
                (&b"a"[..], &b"1"[..]),
                (b"b", b""),
                (b"c", b"x y!"),
                (b"a", b"2"),
                (b"", b"e")
            ]
        );
        assert_eq!(first_value(&q, b"a"), Some(&b"1"[..]));
    }
}
