//! Sticky sessions by cookie (Traefik `pkg/server/service/loadbalancer/sticky.go` and
//! `pkg/server/cookie`), for `loadBalancer` and `weighted` services.
//!
//! Each pickable child (a server by its configured URL, or a weighted service's child by its
//! configured name) is known by the first 16 hex digits of the SHA-256 of that name. A request
//! whose cookie holds such a value goes to that child with no new cookie; one holding a legacy
//! value (the name itself, its FNV-64 in hex, or the FNV-64 of that) goes there too and gets
//! the new value; any other is balanced and gets a cookie for the child picked. The cookie is
//! written as Go's `http.SetCookie` writes it, before the backend's own `Set-Cookie` lines.

use std::collections::HashMap;

use crate::config::dynamic::Cookie;
use crate::http::Headers;

/// A service's sticky cookie and its children's values.
#[derive(Debug)]
pub struct Sticky {
    /// The cookie's name (configured and sanitised, or generated from the service's name).
    name: String,
    /// `Set-Cookie` values by child index.
    set_cookie: Vec<bytes::Bytes>,
    /// Child index by current value.
    by_value: HashMap<String, usize>,
    /// Child index by legacy value.
    legacy: HashMap<String, usize>,
}

impl Sticky {
    /// The sticky cookie of service `service` (qualified name) configured as `cfg`, over
    /// children named `children` (index = child index; an empty name is a child no cookie
    /// may name).
    pub fn new(cfg: &Cookie, service: &str, children: &[&str]) -> Sticky {
        let name = cookie_name(&cfg.name, service);
        let mut s = Sticky {
            name,
            set_cookie: Vec::with_capacity(children.len()),
            by_value: HashMap::new(),
            legacy: HashMap::new(),
        };
        for (i, child) in children.iter().enumerate() {
            if child.is_empty() {
                // Not pickable (weight 0): no cookie names it.
                s.set_cookie.push(bytes::Bytes::new());
                continue;
            }
            let value = sha256_16(child);
            s.set_cookie.push(set_cookie(&s.name, &value, cfg).into());
            s.by_value.insert(value, i);
            let fnv = fnv64_hex(child);
            s.legacy.insert(fnv64_hex(&fnv), i);
            s.legacy.insert(fnv, i);
            s.legacy.insert((*child).to_string(), i);
        }
        s
    }

    /// The child the request's cookie names, and whether its cookie must be rewritten.
    pub fn chosen(&self, headers: &Headers) -> Option<(usize, bool)> {
        let value = request_cookie(headers, &self.name)?;
        if let Some(i) = self.by_value.get(value) {
            return Some((*i, false));
        }
        self.legacy.get(value).map(|i| (*i, true))
    }

    /// The `Set-Cookie` value sending a client to child `index`.
    pub fn set_cookie(&self, index: usize) -> bytes::Bytes {
        self.set_cookie[index].clone()
    }
}

/// Traefik's cookie name: the configured one with bytes outside the token set as `_`, else
/// `_` and the first 5 hex digits of SHA-1(`_TRAEFIK_BACKEND_` + service).
pub fn cookie_name(configured: &str, service: &str) -> String {
    if !configured.is_empty() {
        return configured
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || "!#$%&'*+-.^`|~".contains(c) {
                    c
                } else {
                    '_'
                }
            })
            .collect();
    }
    let digest = ring::digest::digest(
        &ring::digest::SHA1_FOR_LEGACY_USE_ONLY,
        format!("_TRAEFIK_BACKEND_{service}").as_bytes(),
    );
    format!("_{}", hex(&digest.as_ref()[..3]))[..6].to_string()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The first 16 hex digits of SHA-256(`name`).
fn sha256_16(name: &str) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, name.as_bytes());
    hex(&digest.as_ref()[..8])
}

/// Go's `fnv.New64` (FNV-1, not 1a) of `s`, as `strconv.FormatUint(h, 16)`.
fn fnv64_hex(s: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in s.bytes() {
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
        h ^= u64::from(b);
    }
    format!("{h:x}")
}

/// Go's `Cookie.String()` for the sticky cookie: `name=value`, then `Path`, `Domain` (when
/// valid, without a leading dot), `Max-Age`, `HttpOnly`, `Secure`, `SameSite`.
fn set_cookie(name: &str, value: &str, cfg: &Cookie) -> String {
    let mut out = format!("{name}={value}");
    let path: String = cfg
        .path
        .as_deref()
        .unwrap_or("/")
        .chars()
        .filter(|c| (' '..'\x7f').contains(c) && *c != ';')
        .collect();
    if !path.is_empty() {
        out.push_str("; Path=");
        out.push_str(&path);
    }
    if valid_cookie_domain(&cfg.domain) {
        out.push_str("; Domain=");
        out.push_str(cfg.domain.strip_prefix('.').unwrap_or(&cfg.domain));
    }
    match cfg.max_age {
        n if n > 0 => out.push_str(&format!("; Max-Age={n}")),
        n if n < 0 => out.push_str("; Max-Age=0"),
        _ => {}
    }
    if cfg.http_only {
        out.push_str("; HttpOnly");
    }
    if cfg.secure {
        out.push_str("; Secure");
    }
    match cfg.same_site.to_ascii_lowercase().as_str() {
        "none" => out.push_str("; SameSite=None"),
        "lax" => out.push_str("; SameSite=Lax"),
        "strict" => out.push_str("; SameSite=Strict"),
        _ => {}
    }
    out
}

/// Go's `validCookieDomain`: a domain name (letters required, labels of 1 to 63 bytes, no `-`
/// at a label's edge, a leading dot allowed) or an IPv4 address.
fn valid_cookie_domain(d: &str) -> bool {
    if d.is_empty() {
        return false;
    }
    if !d.contains(':') && d.parse::<std::net::IpAddr>().is_ok() {
        return true;
    }
    if d.len() > 255 {
        return false;
    }
    let s = d.strip_prefix('.').unwrap_or(d);
    let (mut last, mut letter, mut part) = (b'.', false, 0);
    for c in s.bytes() {
        match c {
            b'a'..=b'z' | b'A'..=b'Z' => {
                letter = true;
                part += 1;
            }
            b'0'..=b'9' => part += 1,
            b'-' if last != b'.' => part += 1,
            b'.' if last != b'.' && last != b'-' && (1..=63).contains(&part) => part = 0,
            _ => return false,
        }
        last = c;
    }
    last != b'-' && part <= 63 && letter
}

/// Go's `Request.Cookie(name)`: the first well-formed cookie of that name over every `Cookie`
/// line (pairs split at `;` and trimmed; a value in double quotes is unquoted; a value with a
/// byte outside Go's cookie-value set is skipped).
pub fn request_cookie<'a>(headers: &'a Headers, name: &str) -> Option<&'a str> {
    for line in headers.get_all("Cookie") {
        let Ok(line) = std::str::from_utf8(line) else {
            continue;
        };
        for part in line.split(';') {
            let part = part.trim_matches([' ', '\t']);
            let (n, v) = part.split_once('=').unwrap_or((part, ""));
            if n.trim_matches([' ', '\t']) != name {
                continue;
            }
            let v = match v.strip_prefix('"').and_then(|v| v.strip_suffix('"')) {
                Some(inner) if v.len() > 1 => inner,
                _ => v,
            };
            if v.bytes()
                .all(|b| (0x20..0x7f).contains(&b) && !matches!(b, b'"' | b';' | b'\\'))
            {
                return Some(v);
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cookie(yaml: &str) -> Cookie {
        let doc = format!(
            "http:\n  services:\n    s:\n      loadBalancer:\n        servers: [{{url: 'http://a'}}]\n        sticky: {{cookie: {yaml}}}\n"
        );
        let l = crate::config::dynamic::load_dynamic(&doc, crate::config::Format::Yaml, None);
        assert!(!l.is_fatal(), "{:?}", l.diagnostics);
        let http = l.config.http.unwrap();
        let lb = http.services["s"].load_balancer.clone().unwrap();
        lb.sticky.unwrap().cookie.unwrap()
    }

    #[test]
    fn names_as_traefik() {
        // Traefik's documented examples.
        assert_eq!(cookie_name("", "backend"), "_76eb3");
        assert_eq!(cookie_name("", "whoami@file"), "_77b1f");
        assert_eq!(cookie_name("my cookie/é", "x"), "my_cookie__");
        assert_eq!(cookie_name("a!#$%&'*+-.^`|~z", "x"), "a!#$%&'*+-.^`|~z");
    }

    #[test]
    fn set_cookie_as_go_writes_it() {
        assert_eq!(set_cookie("n", "v", &cookie("{}")), "n=v; Path=/");
        assert_eq!(
            set_cookie(
                "n",
                "v",
                &cookie("{path: /app, domain: .example.com, maxAge: 60, httpOnly: true, secure: true, sameSite: LAX}")
            ),
            "n=v; Path=/app; Domain=example.com; Max-Age=60; HttpOnly; Secure; SameSite=Lax"
        );
        assert_eq!(
            set_cookie(
                "n",
                "v",
                &cookie("{path: '', maxAge: -1, sameSite: other, domain: 'bad_domain'}")
            ),
            "n=v; Max-Age=0"
        );
        assert_eq!(
            set_cookie("n", "v", &cookie("{domain: 10.0.0.1, sameSite: none}")),
            "n=v; Path=/; Domain=10.0.0.1; SameSite=None"
        );
        for bad in ["", "-a.com", "a-.com", "a..com", "123", "::1", "a.com:80"] {
            assert!(!valid_cookie_domain(bad), "{bad}");
        }
        assert!(valid_cookie_domain("a-b.example"));
    }

    #[test]
    fn choices_by_current_and_legacy_values() {
        let s = Sticky::new(
            &cookie("{name: sticky}"),
            "s@file",
            &["http://a", "http://b"],
        );
        let with = |v: &str| {
            let mut h = Headers::new();
            h.append("Cookie", format!("other=1; sticky={v}"));
            s.chosen(&h)
        };
        let b = sha256_16("http://b");
        assert_eq!(b.len(), 16);
        assert_eq!(with(&b), Some((1, false)));
        assert_eq!(with(&format!("\"{b}\"")), Some((1, false)));
        assert_eq!(with("http://a"), Some((0, true)));
        assert_eq!(with(&fnv64_hex("http://a")), Some((0, true)));
        assert_eq!(with(&fnv64_hex(&fnv64_hex("http://b"))), Some((1, true)));
        assert_eq!(with("nothing"), None);
        assert_eq!(s.chosen(&Headers::new()), None);
        assert_eq!(
            &s.set_cookie(1)[..],
            format!("sticky={b}; Path=/").as_bytes()
        );
        // FNV-1 64 of "" is the offset basis.
        assert_eq!(fnv64_hex(""), "cbf29ce484222325");
    }

    #[test]
    fn request_cookies_as_go_reads_them() {
        let mut h = Headers::new();
        h.append("Cookie", "a=1;b=bad\\value; b=\"q\" ");
        h.append("Cookie", "c=3");
        assert_eq!(request_cookie(&h, "a"), Some("1"));
        assert_eq!(request_cookie(&h, "b"), Some("q"));
        assert_eq!(request_cookie(&h, "c"), Some("3"));
        assert_eq!(request_cookie(&h, "d"), None);
    }
}
