//! An ordered HTTP header list with Go's header-name canonicalisation (`x-foo` -> `X-Foo`), which
//! is what backends and clients see from Traefik.

use crate::rule::RequestHeaders;

/// A canonical header name: the common ones are static (no allocation per request).
#[derive(Debug, Clone, Eq)]
pub enum HeaderName {
    /// One of [`COMMON`], or a configured name (see [`HeaderName::shared`]).
    Static(&'static str),
    /// Any other name.
    Owned(String),
}

impl HeaderName {
    /// The canonical form of `name`, to be set on many messages (a middleware's configured
    /// header): static, so clones copy nothing. A name outside [`COMMON`] is stored once for
    /// the life of the process, however many configurations name it: what is kept grows with
    /// the distinct names configurations use, not with reloads or requests. (A third,
    /// reference-counted variant cost every header-name read on every request a branch.)
    pub fn shared(name: &str) -> HeaderName {
        match header_name(name) {
            HeaderName::Owned(s) => HeaderName::Static(configured_name(s)),
            other => other,
        }
    }
}

impl HeaderName {
    /// `name` spelled exactly as given, not canonicalised (Traefik's `basicAuth` `headerField`
    /// is a raw Go map key): kept once for the life of the process, as [`HeaderName::shared`].
    pub fn verbatim(name: &str) -> HeaderName {
        HeaderName::Static(configured_name(name.to_string()))
    }
}

/// The one process-wide copy of a configured header name.
fn configured_name(name: String) -> &'static str {
    static NAMES: std::sync::Mutex<std::collections::BTreeSet<&'static str>> =
        std::sync::Mutex::new(std::collections::BTreeSet::new());
    let mut names = NAMES.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(kept) = names.get(name.as_str()) {
        return kept;
    }
    let kept: &'static str = Box::leak(name.into_boxed_str());
    names.insert(kept);
    kept
}

impl std::ops::Deref for HeaderName {
    type Target = str;
    fn deref(&self) -> &str {
        match self {
            HeaderName::Static(s) => s,
            HeaderName::Owned(s) => s,
        }
    }
}

impl std::fmt::Display for HeaderName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self)
    }
}

/// Names are equal when they are spelled the same, however they are held.
impl PartialEq for HeaderName {
    fn eq(&self, other: &HeaderName) -> bool {
        **self == **other
    }
}

impl PartialEq<&str> for HeaderName {
    fn eq(&self, other: &&str) -> bool {
        **self == **other
    }
}

/// Header names common enough to be kept without allocating.
pub const COMMON: &[&str] = &[
    "Accept",
    "Accept-Encoding",
    "Accept-Language",
    "Authorization",
    "Cache-Control",
    "Connection",
    "Content-Encoding",
    "Content-Length",
    "Content-Type",
    "Cookie",
    "Date",
    "Etag",
    "Expect",
    "Host",
    "Keep-Alive",
    "Last-Modified",
    "Location",
    "Origin",
    "Referer",
    "Server",
    "Set-Cookie",
    "Transfer-Encoding",
    "Upgrade",
    "User-Agent",
    "Vary",
    "X-Forwarded-For",
    "X-Forwarded-Host",
    "X-Forwarded-Port",
    "X-Forwarded-Proto",
    "X-Forwarded-Server",
    "X-Real-Ip",
    "X-Request-Id",
    "Accept-Ranges",
    "Content-Range",
    "Range",
    "If-None-Match",
    "If-Modified-Since",
    "Pragma",
    "Sec-Websocket-Key",
    "Sec-Websocket-Version",
    "Sec-Websocket-Accept",
    "X-Content-Type-Options",
    "X-Frame-Options",
    "Strict-Transport-Security",
    // What browsers send besides the above.
    "Sec-Fetch-Dest",
    "Sec-Fetch-Mode",
    "Sec-Fetch-Site",
    "Sec-Fetch-User",
    "Sec-Ch-Ua",
    "Sec-Ch-Ua-Mobile",
    "Sec-Ch-Ua-Platform",
    "Upgrade-Insecure-Requests",
    "Priority",
    "Dnt",
    "Te",
    "If-Match",
    "If-Unmodified-Since",
    "If-Range",
    "X-Requested-With",
    "Sec-Websocket-Extensions",
    "Sec-Websocket-Protocol",
    "Access-Control-Request-Method",
    "Access-Control-Request-Headers",
    // Proxies, tracing, and what Traefik's middlewares add.
    "Forwarded",
    "Via",
    "Traceparent",
    "Tracestate",
    "X-Forwarded-Prefix",
    "X-Forwarded-Uri",
    "X-Forwarded-Method",
    "Proxy-Authorization",
    // What backends answer besides the above.
    "Age",
    "Expires",
    "Content-Disposition",
    "Content-Language",
    "Content-Security-Policy",
    "Access-Control-Allow-Origin",
    "Access-Control-Allow-Credentials",
    "Access-Control-Allow-Methods",
    "Access-Control-Allow-Headers",
    "Access-Control-Expose-Headers",
    "Access-Control-Max-Age",
    "Referrer-Policy",
    "Permissions-Policy",
    "X-Xss-Protection",
    "X-Powered-By",
    "Cross-Origin-Opener-Policy",
    "Cross-Origin-Resource-Policy",
    "Cross-Origin-Embedder-Policy",
    "Alt-Svc",
    "Link",
    "Retry-After",
    "Www-Authenticate",
    "Proxy-Authenticate",
    "Server-Timing",
    "Trailer",
];

/// The longest [`COMMON`] name.
const COMMON_MAX: usize = 32;

/// The [`COMMON`] names by length: a lookup compares the few of the same length.
fn common_by_len() -> &'static [Vec<&'static str>; COMMON_MAX + 1] {
    static INDEX: std::sync::OnceLock<[Vec<&'static str>; COMMON_MAX + 1]> =
        std::sync::OnceLock::new();
    INDEX.get_or_init(|| {
        let mut by_len: [Vec<&'static str>; COMMON_MAX + 1] = std::array::from_fn(|_| Vec::new());
        for c in COMMON {
            by_len[c.len()].push(c);
        }
        by_len
    })
}

/// The canonical name of `name`, static when it is a [`COMMON`] one.
pub fn header_name(name: &str) -> HeaderName {
    if let Some(candidates) = common_by_len().get(name.len()) {
        // Most names arrive spelled canonically: exact comparisons first.
        if let Some(c) = candidates.iter().find(|c| c.as_bytes() == name.as_bytes()) {
            return HeaderName::Static(c);
        }
        let first = name.as_bytes().first().map(u8::to_ascii_lowercase);
        for c in candidates {
            // A name equal to a common one but for case canonicalises to exactly that
            // spelling (common names are valid tokens, so only letter case changes).
            if c.as_bytes().first().map(u8::to_ascii_lowercase) == first
                && c.eq_ignore_ascii_case(name)
            {
                return HeaderName::Static(c);
            }
        }
    }
    HeaderName::Owned(canonical_name(name))
}

/// One header line: canonical name and raw value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    /// The canonical name (Go's `CanonicalMIMEHeaderKey`).
    pub name: HeaderName,
    /// The value bytes (without surrounding whitespace).
    pub value: bytes::Bytes,
}

/// Header lines in received order; lookups are ASCII case-insensitive.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Headers {
    lines: Vec<Header>,
}

/// Whether `b` may appear in a header field name (RFC 9110 `tchar`).
pub fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// Go's `CanonicalMIMEHeaderKey`: upper-cases the first letter and every letter after `-`,
/// lower-cases the rest; names with bytes outside the token set (or a space) are kept as is.
pub fn canonical_name(name: &str) -> String {
    // Fast path: most names arrive canonical already.
    let mut upper = true;
    let canonical = name.bytes().all(|b| {
        let ok = if upper {
            !b.is_ascii_lowercase()
        } else {
            !b.is_ascii_uppercase()
        };
        upper = b == b'-';
        ok && (b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
    });
    if canonical {
        return name.to_string();
    }
    let valid = name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b));
    if !valid {
        return name.to_string();
    }
    let mut out = String::with_capacity(name.len());
    let mut upper = true;
    for c in name.chars() {
        out.push(if upper {
            c.to_ascii_uppercase()
        } else {
            c.to_ascii_lowercase()
        });
        upper = c == '-';
    }
    out
}

impl Headers {
    /// An empty list.
    pub fn new() -> Self {
        Headers::default()
    }

    /// An empty list with room for `n` lines.
    pub fn with_capacity(n: usize) -> Self {
        Headers {
            lines: Vec::with_capacity(n),
        }
    }

    /// The number of header lines.
    pub fn len(&self) -> usize {
        self.lines.len()
    }

    /// Whether there is no header line.
    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }

    /// The line at `index` (in received order).
    pub fn line(&self, index: usize) -> Option<&Header> {
        self.lines.get(index)
    }

    /// Every line, in order.
    pub fn iter(&self) -> impl Iterator<Item = &Header> {
        self.lines.iter()
    }

    /// Appends a line (the name is canonicalised).
    /// A `&'static str` value is kept as it is, without a copy.
    pub fn append(&mut self, name: &str, value: impl Into<bytes::Bytes>) {
        self.append_shared(name, value.into());
    }

    /// Appends a line whose value is shared (a static or already-counted buffer: no copy).
    pub fn append_shared(&mut self, name: &str, value: bytes::Bytes) {
        self.lines.push(Header {
            name: header_name(name),
            value,
        });
    }

    /// Appends a line whose name is already canonical (a constant of the proxy's own, such as
    /// `X-Forwarded-Host`): no lookup, no allocation for the name.
    pub fn append_canonical(&mut self, name: &'static str, value: bytes::Bytes) {
        self.lines.push(Header {
            name: HeaderName::Static(name),
            value,
        });
    }

    /// Puts one line of `name` per value before every other line (their order kept).
    pub fn prepend_shared(&mut self, name: &str, values: &[bytes::Bytes]) {
        let name = header_name(name);
        self.lines.splice(
            0..0,
            values.iter().map(|v| Header {
                name: name.clone(),
                value: v.clone(),
            }),
        );
    }

    /// Appends a line named `name` as it is spelled (see [`HeaderName::verbatim`]).
    pub fn append_named(&mut self, name: &HeaderName, value: bytes::Bytes) {
        self.lines.push(Header {
            name: name.clone(),
            value,
        });
    }

    /// Replaces every line of `name` with one line holding `value` (at the first line's place).
    /// A `&'static str` value is kept as it is, without a copy.
    pub fn set(&mut self, name: &str, value: impl Into<bytes::Bytes>) {
        self.set_shared(name, value.into());
    }

    /// Replaces every line of `name` with one shared value (no copy).
    pub fn set_shared(&mut self, name: &str, value: bytes::Bytes) {
        if let Err(value) = self.replace(name, value) {
            self.append_shared(name, value);
        }
    }

    /// [`Headers::set_shared`] with a name already canonical (see [`HeaderName::shared`]):
    /// no lookup, no allocation for the name.
    pub fn set_named(&mut self, name: &HeaderName, value: bytes::Bytes) {
        if let Err(value) = self.replace(name, value) {
            self.lines.push(Header {
                name: name.clone(),
                value,
            });
        }
    }

    /// Puts `value` in the first line of `name` and removes the others; gives `value` back
    /// when there is no such line.
    fn replace(&mut self, name: &str, value: bytes::Bytes) -> Result<(), bytes::Bytes> {
        let Some(i) = self
            .lines
            .iter()
            .position(|h| h.name.eq_ignore_ascii_case(name))
        else {
            return Err(value);
        };
        self.lines[i].value = value;
        let mut j = i + 1;
        while j < self.lines.len() {
            if self.lines[j].name.eq_ignore_ascii_case(name) {
                self.lines.remove(j);
            } else {
                j += 1;
            }
        }
        Ok(())
    }

    /// Removes every line of `name`; returns whether any was there.
    pub fn remove(&mut self, name: &str) -> bool {
        let before = self.lines.len();
        self.lines.retain(|h| !h.name.eq_ignore_ascii_case(name));
        before != self.lines.len()
    }

    /// The first value of `name`.
    pub fn get(&self, name: &str) -> Option<&[u8]> {
        self.lines
            .iter()
            .find(|h| h.name.eq_ignore_ascii_case(name))
            .map(|h| &h.value[..])
    }

    /// The first value of `name` as UTF-8 text.
    pub fn get_str(&self, name: &str) -> Option<&str> {
        self.get(name).and_then(|v| std::str::from_utf8(v).ok())
    }

    /// Every value of `name`, in order.
    pub fn get_all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a [u8]> + 'a {
        self.lines
            .iter()
            .filter(move |h| h.name.eq_ignore_ascii_case(name))
            .map(|h| &h.value[..])
    }

    /// Whether `name` is present.
    pub fn contains(&self, name: &str) -> bool {
        self.lines.iter().any(|h| h.name.eq_ignore_ascii_case(name))
    }

    /// Keeps only the lines for which `f` is true.
    pub fn retain(&mut self, f: impl FnMut(&Header) -> bool) {
        self.lines.retain(f);
    }

    /// Whether a comma-separated header `name` lists `token` (case-insensitive), as in
    /// `Connection: keep-alive, Upgrade`.
    pub fn has_token(&self, name: &str, token: &str) -> bool {
        self.get_all(name).any(|v| {
            v.split(|b| *b == b',')
                .any(|t| t.trim_ascii().eq_ignore_ascii_case(token.as_bytes()))
        })
    }
}

impl RequestHeaders for Headers {
    fn any_value(&self, name: &str, f: &mut dyn FnMut(&[u8]) -> bool) -> bool {
        self.lines
            .iter()
            .any(|h| h.name.eq_ignore_ascii_case(name) && f(&h.value))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A configured name is canonical and static, and stored once however often it is named.
    #[test]
    fn configured_names_are_static_and_stored_once() {
        let a = HeaderName::shared("x-served-by");
        let b = HeaderName::shared("X-SERVED-BY");
        let (HeaderName::Static(a), HeaderName::Static(b)) = (a, b) else {
            panic!("configured names are static");
        };
        assert_eq!(a, "X-Served-By");
        assert!(std::ptr::eq(a, b));
        assert_eq!(
            HeaderName::shared("content-type"),
            HeaderName::Static("Content-Type")
        );
    }

    #[test]
    fn canonical_names_as_go() {
        assert_eq!(canonical_name("x-forwarded-for"), "X-Forwarded-For");
        assert_eq!(canonical_name("CONTENT-type"), "Content-Type");
        assert_eq!(canonical_name("x_foo"), "X_foo");
        assert_eq!(canonical_name("bad header"), "bad header");
    }

    #[test]
    fn common_names_are_found_in_any_case() {
        assert_eq!(COMMON.iter().map(|c| c.len()).max(), Some(COMMON_MAX));
        for c in COMMON {
            // Spelled as Go canonicalises it, so a common name reads the same as any other.
            assert_eq!(canonical_name(c), *c);
            assert_eq!(header_name(&c.to_ascii_lowercase()), HeaderName::Static(c));
            assert_eq!(header_name(&c.to_ascii_uppercase()), HeaderName::Static(c));
        }
        assert_eq!(
            header_name("x-custom"),
            HeaderName::Owned("X-Custom".into())
        );
        assert_eq!(header_name(""), HeaderName::Owned(String::new()));
    }

    #[test]
    fn set_remove_tokens() {
        let mut h = Headers::new();
        h.append("a", "1");
        h.append("b", "2");
        h.append("A", "3");
        h.set("a", "x");
        assert_eq!(h.get_all("a").count(), 1);
        assert_eq!(h.get("A"), Some(&b"x"[..]));
        h.append("connection", "keep-alive, Upgrade");
        assert!(h.has_token("Connection", "upgrade"));
        assert!(h.remove("b"));
        assert_eq!(h.len(), 2);
    }
}
