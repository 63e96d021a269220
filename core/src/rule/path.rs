//! The request path as Traefik's router sees it.
//!
//! Before routing, the entry point normalises the raw path ([`normalize_raw_path`]: decode
//! percent-encoded *unreserved* characters, upper-case the other encodings; a truncated `%` is
//! a 400) and, with `sanitizePath` (default on), cleans it ([`sanitize_path`]: dot segments
//! removed, `//` collapsed, as Go's `URL.JoinPath()`). The HTTP layer applies those to the
//! request it forwards. The matchers then work on the *routing path* ([`routing_path`]): the
//! escaped path with every `%XX` decoded except the reserved characters, which stay encoded, so
//! `/foo%20bar` routes as `/foo bar` while `/foo%2Fbar` does not match `PathPrefix(`/foo/`)`.

use std::borrow::Cow;

use crate::http::percent::{
    escaped_byte, push_escaped, should_escape_path, unescape, valid_encoded_path,
};

/// A path that cannot be routed: Traefik answers 400 before routing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum PathError {
    /// A `%` not followed by two hexadecimal digits.
    InvalidPercentEncoding,
}

impl std::fmt::Display for PathError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("invalid percent-encoding in URL path")
    }
}

impl std::error::Error for PathError {}

/// Percent-encoded characters that stay encoded in the routing path (RFC 3986 reserved, plus
/// `%` itself), as upper-case hexadecimal codes.
const RESERVED: &[u8] = b":/?#[]@!$&'()*+,;=%";

/// Checks that every `%` starts a `%XX` escape, without decoding.
fn check_escapes(s: &str) -> Result<(), PathError> {
    let b = s.as_bytes();
    let mut i = 0;
    while let Some(off) = b[i..].iter().position(|&c| c == b'%') {
        let at = i + off;
        if !(b.get(at + 1).is_some_and(u8::is_ascii_hexdigit)
            && b.get(at + 2).is_some_and(u8::is_ascii_hexdigit))
        {
            return Err(PathError::InvalidPercentEncoding);
        }
        i = at + 3;
    }
    Ok(())
}

/// Go's `URL.EscapedPath()` for a request whose raw path is `raw`: the raw path when it is a
/// valid encoding, otherwise the decoded path re-encoded.
pub fn escaped_path(raw: &str) -> Result<Cow<'_, str>, PathError> {
    if valid_encoded_path(raw) {
        check_escapes(raw)?;
        return Ok(Cow::Borrowed(raw));
    }
    let decoded = unescape(raw, false).map_err(|_| PathError::InvalidPercentEncoding)?;
    let mut out = String::with_capacity(raw.len() + 8);
    for c in decoded {
        if should_escape_path(c) {
            push_escaped(&mut out, c);
        } else {
            out.push(c as char);
        }
    }
    Ok(Cow::Owned(out))
}

/// The routing path of a request whose raw (escaped) path is `raw`: percent-encodings decoded
/// except the reserved ones (kept, upper-cased). Bytes, because a decoded path need not be UTF-8.
pub fn routing_path(raw: &str) -> Result<Cow<'_, [u8]>, PathError> {
    let escaped = escaped_path(raw)?;
    if !escaped.contains('%') {
        return Ok(match escaped {
            Cow::Borrowed(s) => Cow::Borrowed(s.as_bytes()),
            Cow::Owned(s) => Cow::Owned(s.into_bytes()),
        });
    }
    let b = escaped.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] != b'%' {
            out.push(b[i]);
            i += 1;
            continue;
        }
        let c = escaped_byte(b, i).map_err(|_| PathError::InvalidPercentEncoding)?;
        if RESERVED.contains(&c) {
            out.push(b'%');
            out.extend(b[i + 1..i + 3].iter().map(u8::to_ascii_uppercase));
        } else {
            out.push(c);
        }
        i += 3;
    }
    Ok(Cow::Owned(out))
}

/// The entry point's `normalizePath`: percent-encoded unreserved characters (`A-Z a-z 0-9 - . _
/// ~`) are decoded, other encodings upper-cased.
pub fn normalize_raw_path(raw: &str) -> Result<Cow<'_, str>, PathError> {
    if !raw.contains('%') {
        return Ok(Cow::Borrowed(raw));
    }
    let b = raw.as_bytes();
    let mut out = String::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] != b'%' {
            let ch = raw[i..].chars().next().unwrap_or('\u{fffd}');
            out.push(ch);
            i += ch.len_utf8();
            continue;
        }
        let c = escaped_byte(b, i).map_err(|_| PathError::InvalidPercentEncoding)?;
        if c.is_ascii_alphanumeric() || matches!(c, b'-' | b'.' | b'_' | b'~') {
            out.push(c as char);
        } else {
            push_escaped(&mut out, c);
        }
        i += 3;
    }
    Ok(Cow::Owned(out))
}

/// Whether `sanitize_path` leaves `path` as it is: rooted, no `.` or `..` segment, no empty
/// segment but a trailing one.
fn is_clean_path(path: &str) -> bool {
    let Some(rest) = path.strip_prefix('/') else {
        return false;
    };
    let mut segments = rest.split('/').peekable();
    while let Some(seg) = segments.next() {
        let last = segments.peek().is_none();
        if seg == "." || seg == ".." || (seg.is_empty() && !last) {
            return false;
        }
    }
    true
}

/// The entry point's `sanitizePath` (`URL.JoinPath()`): `.` and `..` segments resolved and
/// repeated slashes collapsed, keeping a trailing slash.
pub fn sanitize_path(path: &str) -> Cow<'_, str> {
    if is_clean_path(path) {
        return Cow::Borrowed(path);
    }
    join_path(path)
}

/// `sanitize_path` the long way: segments split, resolved and joined again.
fn join_path(path: &str) -> Cow<'_, str> {
    let rooted = path.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for seg in path.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            s => parts.push(s),
        }
    }
    let joined = parts.join("/");
    let mut out = if rooted { format!("/{joined}") } else { joined };
    if path.ends_with('/') && !out.ends_with('/') {
        out.push('/');
    }
    if out == path {
        Cow::Borrowed(path)
    } else {
        Cow::Owned(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rp(s: &str) -> Vec<u8> {
        routing_path(s).unwrap().into_owned()
    }

    #[test]
    fn routing() {
        assert_eq!(rp("/foo%20bar"), b"/foo bar");
        assert_eq!(rp("/foo%2Fbar"), b"/foo%2Fbar");
        assert_eq!(rp("/foo%2fbar"), b"/foo%2Fbar");
        assert_eq!(rp("/foo%20bar%2Fbaz%23qux"), b"/foo bar%2Fbaz%23qux");
        assert_eq!(rp("/a{b}"), b"/a{b}");
        assert_eq!(rp("/é"), "/é".as_bytes());
        assert!(routing_path("/a%").is_err());
        assert!(routing_path("/a%zz").is_err());
    }

    #[test]
    fn normalize_and_sanitize() {
        assert_eq!(normalize_raw_path("/%41%2f%7e").unwrap(), "/A%2F~");
        assert!(normalize_raw_path("/a%4").is_err());
        assert_eq!(sanitize_path("/a/./b/../c//d/"), "/a/c/d/");
        // The shortcut for clean paths agrees with the long way on every short path.
        let mut paths = vec![String::new()];
        for _ in 0..6 {
            let longer: Vec<String> = paths
                .iter()
                .flat_map(|p| ["a", ".", "/"].map(|c| format!("{p}{c}")))
                .collect();
            paths.extend(longer);
            paths.sort();
            paths.dedup();
        }
        for p in &paths {
            assert_eq!(sanitize_path(p), join_path(p), "{p:?}");
        }
        assert_eq!(sanitize_path("/../x"), "/x");
        assert_eq!(sanitize_path("/"), "/");
        assert_eq!(sanitize_path(""), "");
        assert_eq!(sanitize_path("/a/.."), "/");
        assert_eq!(sanitize_path("a/../../b/"), "b/");
    }
}
