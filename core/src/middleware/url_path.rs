//! Go's model of a request path, which the path-rewriting middlewares (stripPrefix, addPrefix,
//! replacePath and their regex forms) manipulate: `URL.Path` is the decoded path, `URL.RawPath`
//! the received encoding, kept only when it differs from Go's default escaping of `Path`, and the
//! request-target sent upstream is `URL.RequestURI()`, built from `EscapedPath()`.
//!
//! Decoded paths are bytes: `%FF` decodes to a byte that is not UTF-8, as in Go strings.

use crate::http::percent::{self, escape_path, valid_encoded_path};
use crate::http::{status_text, LocalResponse, RequestHead};

/// A request path as Go's `net/url` holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GoPath {
    /// `URL.Path`: the decoded path.
    pub path: Vec<u8>,
    /// `URL.RawPath`: the encoded path when it is not Go's default encoding of `path`, else empty.
    pub raw_path: String,
}

impl GoPath {
    /// Go's `URL.setPath`: reads an encoded path. Fails on a malformed `%` escape with Go's
    /// message (`invalid URL escape "%zz"`).
    pub fn parse(encoded: &str) -> Result<Self, String> {
        // The usual path: nothing escaped and nothing Go would escape (no `%` among them), so
        // it decodes to itself and is its own default encoding.
        if !encoded.bytes().any(percent::should_escape_path) {
            return Ok(GoPath {
                path: encoded.as_bytes().to_vec(),
                raw_path: String::new(),
            });
        }
        let path = unescape(encoded)?;
        let raw_path = if escape_path(&path) == encoded {
            String::new()
        } else {
            encoded.to_string()
        };
        Ok(GoPath { path, raw_path })
    }

    /// Go's `URL.EscapedPath`: `raw_path` when it is a valid encoding of `path`, else the
    /// default escaping of `path`.
    pub fn escaped_path(&self) -> String {
        if !self.raw_path.is_empty()
            && valid_encoded_path(&self.raw_path)
            && unescape(&self.raw_path).is_ok_and(|p| p == self.path)
        {
            return self.raw_path.clone();
        }
        if self.path == b"*" {
            return "*".to_string();
        }
        escape_path(&self.path)
    }

    /// The path part of Go's `URL.RequestURI`: the escaped path, or `/` when it is empty.
    pub fn request_path(&self) -> String {
        let p = self.escaped_path();
        if p.is_empty() {
            "/".to_string()
        } else {
            p
        }
    }

    /// Go's `URL.JoinPath()` without arguments: the escaped path cleaned of `.`, `..` and
    /// repeated slashes (a trailing slash kept). `Err` when the result does not decode.
    pub fn join_path(&self) -> Result<GoPath, String> {
        let mut first = self.escaped_path();
        let cleaned = if first.starts_with('/') {
            clean(&first)
        } else {
            first.insert(0, '/');
            clean(&first)[1..].to_string()
        };
        let mut p = cleaned;
        if first.ends_with('/') && !p.ends_with('/') {
            p.push('/');
        }
        GoPath::parse(&p)
    }

    /// The check Traefik (v3.7.3+) makes after stripping or replacing a path: when the path is
    /// not empty, normalising it (`JoinPath`) must not change the decoded path. Returns the
    /// normalised path, or `None` when the request must be refused with 400.
    pub fn normalised(self) -> Option<GoPath> {
        if self.path.is_empty() {
            return Some(self);
        }
        match self.join_path() {
            Ok(joined) if joined.path == self.path => Some(joined),
            _ => None,
        }
    }
}

/// Go's `url.PathUnescape` (`+` stays `+`), failing with Go's message.
pub fn unescape(s: &str) -> Result<Vec<u8>, String> {
    percent::unescape(s, false).map_err(|e| e.to_string())
}

/// Go's `path.Clean`.
pub fn clean(p: &str) -> String {
    if p.is_empty() {
        return ".".to_string();
    }
    let rooted = p.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for seg in p.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                if parts.last().is_some_and(|l| *l != "..") {
                    parts.pop();
                } else if !rooted {
                    parts.push("..");
                }
            }
            s => parts.push(s),
        }
    }
    let joined = parts.join("/");
    match (rooted, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".to_string(),
        (false, false) => joined,
    }
}

/// The number of bytes of `raw` that encode the first `decoded_len` decoded bytes: `%XX`
/// counts as one (Traefik's `encodedPrefixLen`).
pub fn encoded_prefix_len(raw: &str, decoded_len: usize) -> usize {
    let b = raw.as_bytes();
    let (mut i, mut n) = (0, 0);
    while i < b.len() && n < decoded_len {
        i += if b[i] == b'%' && i + 2 < b.len() {
            3
        } else {
            1
        };
        n += 1;
    }
    i
}

/// Prefixes `/` to a non-empty string that lacks it.
pub fn ensure_leading_slash(s: &str) -> String {
    if s.is_empty() || s.starts_with('/') {
        s.to_string()
    } else {
        format!("/{s}")
    }
}

/// [`ensure_leading_slash`] over decoded bytes.
pub fn ensure_leading_slash_bytes(s: &[u8]) -> Vec<u8> {
    if s.is_empty() || s[0] == b'/' {
        s.to_vec()
    } else {
        let mut v = Vec::with_capacity(s.len() + 1);
        v.push(b'/');
        v.extend_from_slice(s);
        v
    }
}

/// Reads a request head's path, or the 400 answer Go's server gives a path it cannot decode.
pub(crate) fn head_path(head: &RequestHead) -> Result<GoPath, LocalResponse> {
    GoPath::parse(&head.path).map_err(|_| bad_request())
}

/// Traefik's `http.Error(rw, "Bad Request", 400)` for a rewritten path that is not normalised.
pub(crate) fn bad_request() -> LocalResponse {
    LocalResponse::go_error(400, status_text(400))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_keeps_raw_only_when_needed() {
        let p = GoPath::parse("/a%2Fb").unwrap();
        assert_eq!(p.path, b"/a/b");
        assert_eq!(p.raw_path, "/a%2Fb");
        assert_eq!(p.escaped_path(), "/a%2Fb");
        let p = GoPath::parse("/ap%69").unwrap();
        assert_eq!(p.path, b"/api");
        assert_eq!(p.raw_path, "/ap%69");
        let p = GoPath::parse("/plain").unwrap();
        assert_eq!(p.raw_path, "");
        assert_eq!(
            GoPath::parse("/%zz").unwrap_err(),
            "invalid URL escape \"%zz\""
        );
        assert!(GoPath::parse("/a%2").is_err());
    }

    /// Paths with nothing to escape take a shortcut; it gives what decoding and re-encoding
    /// gives.
    #[test]
    fn unescaped_paths_parse_as_decoded_and_reencoded() {
        let slow = |s: &str| {
            let path = unescape(s).unwrap();
            let raw_path = if escape_path(&path) == s {
                String::new()
            } else {
                s.to_string()
            };
            GoPath { path, raw_path }
        };
        for s in [
            "/",
            "",
            "/a/b.c",
            "/x-y_z~1",
            "/$&+,:;=@",
            "/a b",
            "/a'b",
            "/(x)",
            "/[v6]",
            "/a!b",
            "/é",
            "/a%20b",
            "/a+b",
            "*",
            "/a?b",
        ] {
            assert_eq!(GoPath::parse(s).unwrap(), slow(s), "{s:?}");
        }
    }

    #[test]
    fn escaping_as_go() {
        // RawPath with a character Go would escape is not "valid encoded": default escaping wins.
        let p = GoPath {
            path: b"/t /x".to_vec(),
            raw_path: "/t /x".into(),
        };
        assert_eq!(p.escaped_path(), "/t%20/x");
    }

    #[test]
    fn clean_and_normalise() {
        assert_eq!(clean("/a/./b/../c//d/"), "/a/c/d");
        assert_eq!(clean("/.."), "/");
        assert_eq!(clean(""), ".");
        assert!(GoPath::parse("/./foo").unwrap().normalised().is_none());
        assert!(GoPath::parse("/..foo").unwrap().normalised().is_some());
        assert!(GoPath::parse("/a//b").unwrap().normalised().is_none());
        let n = GoPath::parse("/a/b/").unwrap().normalised().unwrap();
        assert_eq!(n.escaped_path(), "/a/b/");
        assert!(GoPath::parse("").unwrap().normalised().is_some());
    }

    #[test]
    fn prefix_lengths() {
        assert_eq!(encoded_prefix_len("/ap%69/a%2Fb", 5), 7);
        assert_eq!(encoded_prefix_len("/a", 5), 2);
        assert_eq!(ensure_leading_slash("a"), "/a");
        assert_eq!(ensure_leading_slash(""), "");
        assert_eq!(ensure_leading_slash_bytes(b"x"), b"/x");
    }
}
