//! What `redirectScheme` and `redirectRegex` share (Traefik `pkg/middlewares/redirect`): a Go
//! regex rewrites the request's full URL; an unchanged URL lets the request through, a changed
//! one is answered with a redirect to it, and a result Go's `url.Parse` rejects gets 502.

use std::sync::OnceLock;

use regex::bytes::Regex;

use super::go_expand::GoRegex;
use super::url_path::GoPath;
use super::{RequestAction, RequestContext};
use crate::http::{status_text, LocalResponse, RequestHead};
use crate::rule::regex_compat::compile_go_regex;

/// Splits an absolute URL into scheme, host, `:port` and the rest (Traefik's `uriRegexp`).
pub(crate) fn uri_regexp() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        compile_go_regex(r"^(https?):\/\/(\[[\w:.]+\]|[\w\._-]+)?(:\d+)?(.*)$")
            .expect("static pattern compiles")
    })
}

/// The request URL as both redirect middlewares rebuild it: scheme, host, port (with its
/// colon, or empty) and the request URI.
pub(crate) struct UrlParts {
    pub scheme: String,
    pub host: String,
    pub port: String,
    pub uri: String,
}

/// The request URL seen from `host` and `port` (the caller's split of the `Host` header): an
/// absolute-form target's scheme, host, port and path win over them, and TLS makes the scheme
/// `https` whatever the target said.
pub(crate) fn request_url(
    host: String,
    port: String,
    head: &RequestHead,
    cx: &RequestContext<'_>,
) -> UrlParts {
    let mut url = UrlParts {
        scheme: "http".into(),
        host,
        port,
        uri: request_uri(head, cx),
    };
    if let Some(c) = uri_regexp().captures(url.uri.as_bytes()) {
        let s = |i: usize| {
            c.get(i)
                .map(|m| String::from_utf8_lossy(m.as_bytes()).into_owned())
                .unwrap_or_default()
        };
        url.scheme = s(1);
        if !s(2).is_empty() {
            url.host = s(2);
        }
        if !s(3).is_empty() {
            url.port = s(3);
        }
        url.uri = s(4);
    }
    if cx.tls {
        url.scheme = "https".into();
    }
    url
}

/// Go's `req.RequestURI`: the absolute-form target as received while no middleware has rewritten
/// the path or query, else the current origin-form target.
fn request_uri(head: &RequestHead, cx: &RequestContext<'_>) -> String {
    let current = head.target();
    if let Some(abs) = cx.absolute_target {
        let after_scheme = abs.split_once("://").map_or(abs, |(_, r)| r);
        let rest = after_scheme
            .find(['/', '?'])
            .map_or("", |i| &after_scheme[i..]);
        let origin = if rest.starts_with('/') {
            rest.to_string()
        } else {
            format!("/{rest}")
        };
        if origin == current {
            return abs.to_string();
        }
    }
    current
}

/// The regex rewrite and the redirect answer.
#[derive(Debug, Clone)]
pub(crate) struct Redirect {
    regex: GoRegex,
    replacement: String,
    permanent: bool,
    status: Option<u16>,
}

impl Redirect {
    pub(crate) fn new(
        regex: &str,
        replacement: String,
        permanent: bool,
        status: Option<u16>,
    ) -> Result<Self, String> {
        Ok(Redirect {
            regex: GoRegex::new(regex)?,
            replacement,
            permanent,
            status,
        })
    }

    /// Rewrites `old_url`, answering with a redirect when it changed.
    pub(crate) fn apply(&self, old_url: &str, method: &str) -> RequestAction {
        if !self.regex.regex.is_match(old_url.as_bytes()) {
            return RequestAction::Continue;
        }
        let new_url = self
            .regex
            .replace_all(old_url.as_bytes(), &self.replacement);
        let new_url = String::from_utf8_lossy(&new_url).into_owned();
        let Some(location) = go_url_string(&new_url) else {
            // oxy's error handler: the status text, no Content-Type (checked against Traefik).
            return RequestAction::Respond(LocalResponse::new(502, status_text(502)));
        };
        if new_url == old_url {
            return RequestAction::Continue;
        }
        let get = method == "GET";
        let status = self.status.unwrap_or(match (self.permanent, get) {
            (false, true) => 302,
            (false, false) => 307,
            (true, true) => 301,
            (true, false) => 308,
        });
        let mut r = LocalResponse::new(status, status_text(status));
        r.headers.set("Location", location);
        RequestAction::Respond(r)
    }
}

/// Go's `url.Parse(s)` followed by `String()`: `None` when Go refuses the URL (control
/// characters, a bad `%` escape outside an IPv6 zone, a bad port, a missing scheme), else the
/// URL as Go writes it back (the path re-escaped when its encoding is not valid).
pub fn go_url_string(s: &str) -> Option<String> {
    if s.bytes().any(|b| b < 0x20 || b == 0x7f) {
        return None;
    }
    let (rest, fragment) = match s.split_once('#') {
        Some((r, f)) => (r, Some(f)),
        None => (s, None),
    };
    if let Some(f) = fragment {
        super::url_path::unescape(f).ok()?;
    }
    let (scheme, rest) = split_scheme(rest)?;
    let (rest, query) = match rest.split_once('?') {
        Some((r, q)) => (r, Some(q)),
        None => (rest, None),
    };
    let mut out = String::with_capacity(s.len());
    if let Some(sc) = scheme {
        if !rest.starts_with('/') {
            // Opaque URL (`mailto:x`): kept as is.
            return Some(s.to_string());
        }
        out.push_str(&sc.to_ascii_lowercase());
        out.push(':');
    }
    let path = if let Some(after) = rest.strip_prefix("//") {
        let end = after.find('/').unwrap_or(after.len());
        let authority = &after[..end];
        check_authority(authority)?;
        out.push_str("//");
        out.push_str(authority);
        &after[end..]
    } else {
        if scheme.is_none() {
            // A first path segment with a colon would read as a scheme.
            let seg = rest.split('/').next().unwrap_or("");
            if seg.contains(':') {
                return None;
            }
        }
        rest
    };
    let p = GoPath::parse(path).ok()?;
    out.push_str(&p.escaped_path());
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    if let Some(f) = fragment {
        out.push('#');
        out.push_str(f);
    }
    Some(out)
}

/// Go's `getScheme`: `(Some(scheme), rest)`, `(None, whole)` when there is none, `None` for
/// `missing protocol scheme`.
fn split_scheme(s: &str) -> Option<(Option<&str>, &str)> {
    for (i, c) in s.char_indices() {
        match c {
            'a'..='z' | 'A'..='Z' => {}
            '0'..='9' | '+' | '-' | '.' if i > 0 => {}
            ':' if i == 0 => return None,
            ':' => return Some((Some(&s[..i]), &s[i + 1..])),
            _ => return Some((None, s)),
        }
    }
    Some((None, s))
}

/// Go's `parseAuthority` / `parseHost` checks that can fail.
fn check_authority(authority: &str) -> Option<()> {
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let port = if let Some(v6) = host.strip_prefix('[') {
        let close = v6.find(']')?;
        let zone_ok = match v6[..close].split_once("%25") {
            Some((_, zone)) => super::url_path::unescape(zone).is_ok(),
            None => !v6[..close].contains('%'),
        };
        if !zone_ok {
            return None;
        }
        let after = &v6[close + 1..];
        if after.is_empty() {
            return Some(());
        }
        after.strip_prefix(':')?
    } else {
        if host.contains('%') {
            return None;
        }
        match host.rsplit_once(':') {
            // Go's parser (as in Traefik 3.7.15) refuses more than one colon outside brackets
            // (`http://::1/`, `http://localhost:80:80/`).
            Some((name, _)) if name.contains(':') => return None,
            Some((_, port)) => port,
            None => return Some(()),
        }
    };
    port.bytes().all(|b| b.is_ascii_digit()).then_some(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::middleware::tests_support::{cx, get};

    #[test]
    fn go_url_parse() {
        assert_eq!(
            go_url_string("https://foo:443").as_deref(),
            Some("https://foo:443")
        );
        assert_eq!(go_url_string("http://192.168.0.%31/"), None);
        assert_eq!(go_url_string("http://foo:8x/"), None);
        assert_eq!(go_url_string("http://localhost:80:80/"), None);
        assert_eq!(go_url_string("https://:8443::1:8000/x"), None);
        assert_eq!(
            go_url_string("https://[::1]:8443/x").as_deref(),
            Some("https://[::1]:8443/x")
        );
        assert_eq!(go_url_string(":foo"), None);
        assert_eq!(
            go_url_string("http://foo/a b").as_deref(),
            Some("http://foo/a%20b")
        );
        assert_eq!(
            go_url_string("http://[::1]:80/x?q#f").as_deref(),
            Some("http://[::1]:80/x?q#f")
        );
        assert_eq!(
            go_url_string("http://[fe80::1%25en0]/").as_deref(),
            Some("http://[fe80::1%25en0]/")
        );
        assert_eq!(go_url_string("/relative").as_deref(), Some("/relative"));
        assert_eq!(go_url_string("http://x/\n"), None);
    }

    #[test]
    fn request_uri_prefers_untouched_absolute_target() {
        let mut c = cx();
        c.absolute_target = Some("http://foo:8080");
        let h = get("/");
        assert_eq!(request_uri(&h, &c), "http://foo:8080");
        let h = get("/rewritten");
        assert_eq!(request_uri(&h, &c), "/rewritten");
        c.absolute_target = Some("http://foo/a?b");
        assert_eq!(request_uri(&get("/a?b"), &c), "http://foo/a?b");
    }

    #[test]
    fn request_url_takes_absolute_target_parts_and_tls() {
        let parts = |u: UrlParts| (u.scheme, u.host, u.port, u.uri);
        let mut c = cx();
        c.absolute_target = Some("http://[::1]:80/x");
        let u = request_url("h".into(), ":81".into(), &get("/x"), &c);
        assert_eq!(
            parts(u),
            ("http".into(), "[::1]".into(), ":80".into(), "/x".into())
        );
        c.absolute_target = None;
        let u = request_url("h".into(), ":81".into(), &get("/x"), &c);
        assert_eq!(
            parts(u),
            ("http".into(), "h".into(), ":81".into(), "/x".into())
        );
        c.tls = true;
        assert_eq!(
            request_url("h".into(), "".into(), &get("/x"), &c).scheme,
            "https"
        );
    }

    #[test]
    fn statuses() {
        let r = Redirect::new("^http://", "https://".into(), false, None).unwrap();
        let st = |m| match r.apply("http://foo", m) {
            RequestAction::Respond(r) => r.status,
            _ => 0,
        };
        assert_eq!((st("GET"), st("POST"), st("HEAD")), (302, 307, 307));
        let r = Redirect::new("^http://", "https://".into(), true, None).unwrap();
        let RequestAction::Respond(resp) = r.apply("http://foo", "GET") else {
            panic!()
        };
        assert_eq!(resp.status, 301);
        assert_eq!(resp.body, b"Moved Permanently");
        assert!(!resp.headers.contains("Content-Type"));
        assert_eq!(resp.headers.get_str("Location"), Some("https://foo"));
        assert_eq!(r.apply("https://foo", "GET"), RequestAction::Continue);
    }
}
