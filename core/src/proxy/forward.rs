//! What the entry point and the reverse proxy do to headers on the way to the backend and back:
//! Traefik's forwarded-headers rules (delete untrusted `X-Forwarded-*`, set `X-Real-Ip`,
//! `X-Forwarded-Proto/Host/Port/Server`, append to `X-Forwarded-For`) and Go's hop-by-hop
//! header removal.

use std::net::IpAddr;

use crate::http::{Headers, RequestHead, ResponseHead};

use super::compile::ForwardedPolicy;

/// The `X-Forwarded-*` family Traefik removes from untrusted clients.
const FORWARDED: &[&str] = &[
    "X-Forwarded-Proto",
    "X-Forwarded-For",
    "X-Forwarded-Host",
    "X-Forwarded-Port",
    "X-Forwarded-Server",
    "X-Forwarded-Uri",
    "X-Forwarded-Method",
    "X-Forwarded-Prefix",
    "X-Forwarded-Tls-Client-Cert",
    "X-Forwarded-Tls-Client-Cert-Info",
    "X-Real-Ip",
];

/// Go's hop-by-hop headers (`net/http/httputil`); `is_hop_by_hop` matches them by length.
#[cfg(test)]
const HOP_BY_HOP: &[&str] = &[
    "Connection",
    "Proxy-Connection",
    "Keep-Alive",
    "Proxy-Authenticate",
    "Proxy-Authorization",
    "Te",
    "Trailer",
    "Transfer-Encoding",
    "Upgrade",
];

/// Whether a header name is one of the forwarded family, also in its underscore spelling.
fn is_forwarded(name: &str) -> bool {
    // Every managed name starts with `X` and is 9 to 31 bytes long.
    if !name.starts_with(['X', 'x']) || !(9..=31).contains(&name.len()) {
        return false;
    }
    FORWARDED.iter().any(|f| {
        f.len() == name.len()
            && f.bytes()
                .zip(name.bytes())
                .all(|(a, b)| a.eq_ignore_ascii_case(&b) || (a == b'-' && b == b'_'))
    })
}

/// Whether the entry point trusts forwarded headers from `client`.
pub fn trusted(policy: &ForwardedPolicy, client: Option<IpAddr>) -> bool {
    policy.insecure
        || match (&policy.trusted, client) {
            (Some(t), Some(ip)) => t.contains(ip),
            _ => false,
        }
}

/// The values of a message's `Connection` lines, held as shared slices (no copies), the first
/// one inline: almost every message has at most one line, and then nothing is allocated.
#[derive(Default)]
struct ConnectionLists {
    first: Option<bytes::Bytes>,
    more: Vec<bytes::Bytes>,
    /// Bit `n` set when some listed name is `n` bytes long (bit 63: 63 or more): most header
    /// names are told apart from the listed ones by their length alone.
    lengths: u64,
}

/// A name length's bit in [`ConnectionLists::lengths`].
fn length_bit(len: usize) -> u64 {
    1 << len.min(63)
}

impl ConnectionLists {
    /// The `Connection` values of `h`.
    fn of(h: &Headers) -> Self {
        let mut lists = ConnectionLists::default();
        for line in h
            .iter()
            .filter(|l| l.name.eq_ignore_ascii_case("Connection"))
        {
            lists.push(line.value.clone());
        }
        lists
    }

    fn push(&mut self, value: bytes::Bytes) {
        for t in value.split(|b| *b == b',') {
            self.lengths |= length_bit(t.trim_ascii().len());
        }
        match self.first {
            None => self.first = Some(value),
            Some(_) => self.more.push(value),
        }
    }

    /// Whether some line lists `name` (comma-separated, case-insensitive).
    fn names(&self, name: &str) -> bool {
        if self.lengths & length_bit(name.len()) == 0 {
            return false;
        }
        self.first
            .iter()
            .chain(&self.more)
            .any(|v| lists_name(v, name))
    }

    /// Every listed name, lower-cased, in order.
    fn tokens(&self) -> impl Iterator<Item = String> + '_ {
        self.first
            .iter()
            .chain(&self.more)
            .flat_map(|v| v.split(|b| *b == b','))
            .map(|t| String::from_utf8_lossy(t.trim_ascii()).to_ascii_lowercase())
            .filter(|t| !t.is_empty())
    }
}

/// Which of the headers the entry point manages a request carries (one pass over its lines).
#[derive(Default)]
struct Managed {
    real_ip: bool,
    proto: bool,
    port: bool,
    host: bool,
    server: bool,
    xff: usize,
    connection: bool,
}

impl Managed {
    fn note(&mut self, name: &str) {
        // Only `X-…` names and `Connection` matter; lengths tell most others apart at once.
        match name.len() {
            9 => self.real_ip |= name.eq_ignore_ascii_case("X-Real-Ip"),
            10 => self.connection |= name.eq_ignore_ascii_case("Connection"),
            15 if name.eq_ignore_ascii_case("X-Forwarded-For") => self.xff += 1,
            16 => {
                self.port |= name.eq_ignore_ascii_case("X-Forwarded-Port");
                self.host |= name.eq_ignore_ascii_case("X-Forwarded-Host");
            }
            17 => self.proto |= name.eq_ignore_ascii_case("X-Forwarded-Proto"),
            18 => self.server |= name.eq_ignore_ascii_case("X-Forwarded-Server"),
            _ => {}
        }
    }
}

/// The entry point's forwarded-headers middleware: applied to every request before routing.
/// `client` is the client's address and its text.
pub fn apply_entry_point(
    head: &mut RequestHead,
    policy: &ForwardedPolicy,
    client: Option<(IpAddr, &bytes::Bytes)>,
    hostname: &bytes::Bytes,
    websocket: bool,
    tls: bool,
) {
    let trust = trusted(policy, client.map(|c| c.0));
    let mut have = Managed::default();
    head.headers.retain(|line| {
        if !trust && is_forwarded(&line.name) {
            return false;
        }
        have.note(&line.name);
        true
    });
    let h = &mut head.headers;
    if let Some((_, text)) = client {
        if !have.real_ip {
            h.append_canonical("X-Real-Ip", text.clone());
        }
    }
    let proto: &'static str = match (websocket, tls) {
        (true, true) => "wss",
        (true, false) => "ws",
        (false, true) => "https",
        (false, false) => "http",
    };
    if !have.proto {
        h.append_canonical(
            "X-Forwarded-Proto",
            bytes::Bytes::from_static(proto.as_bytes()),
        );
    }
    if !have.port {
        let secure = if have.proto {
            let given = h.get("X-Forwarded-Proto").unwrap_or_default();
            given.eq_ignore_ascii_case(b"https") || given.eq_ignore_ascii_case(b"wss")
        } else {
            matches!(proto, "https" | "wss")
        };
        let port = match host_port(&head.host) {
            Some(p) => crate::http::head_copy(p.as_bytes()),
            None if tls || secure => bytes::Bytes::from_static(b"443"),
            None => bytes::Bytes::from_static(b"80"),
        };
        h.append_canonical("X-Forwarded-Port", port);
    }
    if !have.host {
        h.append_canonical(
            "X-Forwarded-Host",
            crate::http::head_copy(head.host.as_bytes()),
        );
    }
    if have.server {
        h.set_shared("X-Forwarded-Server", hostname.clone());
    } else {
        h.append_canonical("X-Forwarded-Server", hostname.clone());
    }
    // Several X-Forwarded-For lines become one.
    if have.xff > 1 {
        let xff: Vec<&[u8]> = h.get_all("X-Forwarded-For").collect();
        let joined = xff.join(&b", "[..]);
        h.set("X-Forwarded-For", joined);
    }
    if !have.connection {
        return;
    }
    // Headers the client lists in Connection are removed, except the ones Traefik manages and
    // those allowed by forwardedHeaders.connection; Connection is then rewritten to the kept
    // names (plus Upgrade) or removed.
    let listed = ConnectionLists::of(h);
    let upgrade = if listed.names("upgrade") {
        h.get("Upgrade").map(<[u8]>::to_vec)
    } else {
        None
    };
    let allowed = |name: &str| {
        policy
            .connection
            .iter()
            .any(|c| c.eq_ignore_ascii_case(name))
    };
    // Names to keep listed: allocated only when the entry point allows some.
    let mut kept: Vec<String> = if policy.connection.is_empty() {
        Vec::new()
    } else {
        listed
            .tokens()
            .filter(|t| !is_forwarded(t) && allowed(t))
            .collect()
    };
    h.retain(|line| {
        let name: &str = &line.name;
        !listed.names(name) || is_forwarded(name) || allowed(name)
    });
    if let Some(u) = upgrade {
        kept.push("Upgrade".into());
        h.set("Upgrade", u);
    }
    if kept.is_empty() {
        h.remove("Connection");
    } else {
        h.set("Connection", kept.join(","));
    }
}

/// An address as Go prints it (IPv4 dotted decimal written by hand: `Display` costs more than
/// the rest of the forwarded-headers step).
pub fn ip_text(ip: IpAddr) -> bytes::Bytes {
    match ip {
        IpAddr::V4(v4) => {
            let mut out = [0u8; 15];
            let mut n = 0;
            let mut push = |b: u8| {
                out[n] = b;
                n += 1;
            };
            for (i, octet) in v4.octets().into_iter().enumerate() {
                if i > 0 {
                    push(b'.');
                }
                if octet >= 100 {
                    push(b'0' + octet / 100);
                }
                if octet >= 10 {
                    push(b'0' + octet / 10 % 10);
                }
                push(b'0' + octet % 10);
            }
            bytes::Bytes::copy_from_slice(&out[..n])
        }
        IpAddr::V6(_) => bytes::Bytes::from(ip.to_string()),
    }
}

fn host_port(host: &str) -> Option<&str> {
    let (h, p) = host.rsplit_once(':')?;
    if h.contains(':') && !h.ends_with(']') {
        return None;
    }
    (!p.is_empty() && p.bytes().all(|b| b.is_ascii_digit())).then_some(p)
}

/// Whether `name` is one of Go's hop-by-hop headers (`te` aside, which has its own rule).
fn is_hop_by_hop(name: &str) -> bool {
    // By length first: most lines are none of these and differ in length from all but two.
    let is = |h: &str| name.eq_ignore_ascii_case(h);
    match name.len() {
        7 => is("Trailer") || is("Upgrade"),
        10 => is("Connection") || is("Keep-Alive"),
        16 => is("Proxy-Connection"),
        17 => is("Transfer-Encoding"),
        18 => is("Proxy-Authenticate"),
        19 => is("Proxy-Authorization"),
        _ => false,
    }
}

/// The message hop-by-hop lines are removed from: the two differ in `Te` and in what a
/// `Connection: close` does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hop {
    /// A client's request on its way to a backend.
    Request,
    /// A backend's response on its way to the client; `http10` when it is an HTTP/1.0 one.
    Response {
        /// The response says `HTTP/1.0`.
        http10: bool,
    },
}

/// Go's `removeHopByHopHeaders`, plus the headers listed in `Connection`, in one pass.
///
/// - A request keeps `Te: trailers` when its `Te` lists `trailers` among other codings (Go's
///   proxy sets that one value again, for gRPC); a response loses every `Te`.
/// - An HTTP/1.1 response whose `Connection` says `close` keeps the lines that `Connection`
///   lists: Go's transport removes such a `Connection` line before the proxy sees it.
pub fn remove_hop_by_hop(h: &mut Headers, hop: Hop) {
    // One look at the lines first: the `Connection` values (naming more lines to remove), and
    // whether a `Te` lists `trailers`.
    let mut listed = ConnectionLists::default();
    let mut te_trailers = false;
    for line in h.iter() {
        match line.name.len() {
            10 if line.name.eq_ignore_ascii_case("Connection") => listed.push(line.value.clone()),
            2 => {
                te_trailers |=
                    line.name.eq_ignore_ascii_case("Te") && lists_name(&line.value, "trailers")
            }
            _ => {}
        }
    }
    let keep_te = te_trailers && hop == Hop::Request;
    if hop == (Hop::Response { http10: false }) && listed.names("close") {
        listed = ConnectionLists::default();
    }
    let mut te_kept = false;
    h.retain(|line| {
        let name: &str = &line.name;
        let hop = if name.len() == 2 && name.eq_ignore_ascii_case("Te") {
            // The first `Te` line stays (its value set below); the others go.
            !keep_te || std::mem::replace(&mut te_kept, true)
        } else {
            is_hop_by_hop(name)
        };
        !hop && !listed.names(name)
    });
    if keep_te {
        h.set("Te", "trailers");
    }
}

/// Whether a `Connection` value lists `name` (comma-separated, case-insensitive).
fn lists_name(value: &[u8], name: &str) -> bool {
    value
        .split(|b| *b == b',')
        .any(|t| t.trim_ascii().eq_ignore_ascii_case(name.as_bytes()))
}

/// The trailer names a chunked message announces in `Trailer`, as Go keeps them (canonical,
/// deduplicated, sorted; the framing names Go refuses left out), joined by `sep`, for the
/// `Trailer` header Go's reverse proxy and transport write again after removing it as
/// hop-by-hop.
pub fn trailer_names(h: &Headers, sep: &str) -> Option<String> {
    let mut names: Vec<String> = h
        .get_all("Trailer")
        .flat_map(|v| v.split(|b| *b == b','))
        .map(|t| crate::http::canonical_name(&String::from_utf8_lossy(t.trim_ascii())))
        .filter(|t| {
            !t.is_empty()
                && !matches!(
                    t.as_str(),
                    "Transfer-Encoding" | "Trailer" | "Content-Length"
                )
        })
        .collect();
    names.sort();
    names.dedup();
    (!names.is_empty()).then(|| names.join(sep))
}

/// A backend's trailer lines as Go's server writes them to the client: canonical names,
/// sorted by name (values of one name in their order), values trimmed.
pub fn go_trailers(lines: &[u8]) -> Vec<u8> {
    let mut fields: Vec<(String, &[u8])> = crate::h1::trailer_fields(lines)
        .map(|(n, v)| (crate::http::canonical_name(&String::from_utf8_lossy(n)), v))
        .collect();
    fields.sort_by(|a, b| a.0.cmp(&b.0));
    let mut out = Vec::with_capacity(lines.len());
    for (name, value) in fields {
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value);
        out.extend_from_slice(b"\r\n");
    }
    out
}

/// The `Sec-WebSocket-*` names Traefik spells as RFC 6455 does on a WebSocket upgrade (some
/// servers compare them case-sensitively), where Go's canonical form is `Sec-Websocket-*`.
const WEBSOCKET_NAMES: [&str; 5] = [
    "Sec-WebSocket-Key",
    "Sec-WebSocket-Extensions",
    "Sec-WebSocket-Accept",
    "Sec-WebSocket-Protocol",
    "Sec-WebSocket-Version",
];

/// Renames the `Sec-Websocket-*` lines of a WebSocket upgrade to their RFC spelling.
fn websocket_names(h: &mut Headers) {
    for name in WEBSOCKET_NAMES {
        let values: Vec<bytes::Bytes> = h
            .iter()
            .filter(|l| l.name.eq_ignore_ascii_case(name))
            .map(|l| l.value.clone())
            .collect();
        if values.is_empty() {
            continue;
        }
        h.remove(name);
        for v in values {
            h.append_canonical(name, v);
        }
    }
}

/// Prepares the request head sent to a backend: hop-by-hop removal (keeping the upgrade),
/// `X-Forwarded-For` append (of `client`, the client address as text), and the framing header
/// for the body.
pub fn upstream_request(
    head: &mut RequestHead,
    client: Option<&bytes::Bytes>,
    not_append_xff: bool,
    upgrade: Option<&[u8]>,
) {
    remove_hop_by_hop(&mut head.headers, Hop::Request);
    if let Some(proto) = upgrade {
        head.headers.set("Connection", "Upgrade");
        if proto.eq_ignore_ascii_case(b"websocket") {
            websocket_names(&mut head.headers);
        }
        head.headers
            .set("Upgrade", bytes::Bytes::copy_from_slice(proto));
    }
    // Go's transport writes `URL.EscapedPath()`: a path with bytes that must be escaped (raw
    // UTF-8, `"`, `{`, ...) goes escaped.
    if !crate::http::percent::valid_encoded_path(&head.path) {
        if let Ok(std::borrow::Cow::Owned(p)) = crate::rule::path::escaped_path(&head.path) {
            head.path = p;
        }
    }
    if let (Some(text), false) = (client, not_append_xff) {
        let value = match head.headers.get("X-Forwarded-For") {
            Some(prior) if !prior.is_empty() => {
                let mut v = prior.to_vec();
                v.extend_from_slice(b", ");
                v.extend_from_slice(text);
                bytes::Bytes::from(v)
            }
            _ => text.clone(),
        };
        head.headers.set_shared("X-Forwarded-For", value);
    }
}

/// Whether a backend's 101 switches to the protocol the request asked for (`asked`, its
/// `Upgrade` value). Go's proxy refuses a switch to another protocol, one not named with
/// `Connection: Upgrade`, or one that is not printable text (Traefik answers 500).
pub fn switch_accepted(head: &ResponseHead, asked: &[u8]) -> bool {
    let offered = if head.headers.has_token("Connection", "upgrade") {
        head.headers.get("Upgrade").unwrap_or_default()
    } else {
        b""
    };
    offered.eq_ignore_ascii_case(asked) && offered.iter().all(|b| (b' '..=b'~').contains(b))
}

/// Prepares a backend's response head for the client: hop-by-hop headers removed.
pub fn downstream_response(head: &mut ResponseHead) {
    let keep_upgrade = head.status == 101;
    let upgrade = if keep_upgrade {
        head.headers.get("Upgrade").map(<[u8]>::to_vec)
    } else {
        None
    };
    remove_hop_by_hop(
        &mut head.headers,
        Hop::Response {
            http10: head.version == crate::http::Version::Http10,
        },
    );
    if keep_upgrade {
        head.headers.set("Connection", "Upgrade");
        if let Some(u) = upgrade {
            head.headers.set("Upgrade", u);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::Version;

    fn head(headers: &[(&str, &str)]) -> RequestHead {
        let mut h = Headers::new();
        for (n, v) in headers {
            h.append(n, v.to_string());
        }
        RequestHead {
            method: "GET".into(),
            path: "/".into(),
            raw_query: None,
            host: "example.com:8080".into(),
            version: Version::Http11,
            headers: h,
        }
    }

    #[test]
    fn hop_by_hop_names_as_go_lists_them() {
        for name in HOP_BY_HOP.iter().filter(|n| **n != "Te") {
            assert!(is_hop_by_hop(name) && is_hop_by_hop(&name.to_ascii_lowercase()));
        }
        for name in ["Te", "Host", "Upgrades", "X-Connection", "Keep-Alivex"] {
            assert!(!is_hop_by_hop(name), "{name}");
        }
    }

    #[test]
    fn addresses_print_as_display() {
        for ip in [
            "0.0.0.0",
            "10.0.0.1",
            "127.0.0.1",
            "192.168.100.255",
            "1.20.255.9",
            "::1",
            "fe80::1",
        ] {
            let ip: IpAddr = ip.parse().unwrap();
            assert_eq!(&ip_text(ip)[..], ip.to_string().as_bytes());
        }
    }

    #[test]
    fn trailer_announcements_as_go() {
        let h = head(&[
            ("Trailer", "grpc-status, x-b"),
            ("Trailer", "X-A,content-length,Grpc-Status"),
        ]);
        assert_eq!(
            trailer_names(&h.headers, ",").as_deref(),
            Some("Grpc-Status,X-A,X-B")
        );
        assert_eq!(trailer_names(&head(&[]).headers, ","), None);
        assert_eq!(
            go_trailers(b"x-u: w\r\ngrpc-status:0\r\nX-U:  z \r\n"),
            b"Grpc-Status: 0\r\nX-U: w\r\nX-U: z\r\n"
        );
    }

    fn policy(insecure: bool) -> ForwardedPolicy {
        ForwardedPolicy {
            insecure,
            trusted: None,
            connection: vec![],
            not_append_xff: false,
        }
    }

    /// Both steps a plain-HTTP request from 10.0.0.1 goes through on its way to a backend of
    /// an entry point whose `forwardedHeaders.insecure` is `insecure`.
    fn forward(h: &mut RequestHead, insecure: bool) {
        let ip: IpAddr = "10.0.0.1".parse().unwrap();
        let text = ip_text(ip);
        apply_entry_point(
            h,
            &policy(insecure),
            Some((ip, &text)),
            &bytes::Bytes::from_static(b"proxy"),
            false,
            false,
        );
        upstream_request(h, Some(&text), false, None);
    }

    #[test]
    fn untrusted_clients_lose_forwarded_headers() {
        let mut h = head(&[
            ("X-Forwarded-For", "6.6.6.6"),
            ("X_Forwarded_Host", "evil"),
            ("X-Real-Ip", "6.6.6.6"),
        ]);
        forward(&mut h, false);
        assert_eq!(h.headers.get_str("X-Forwarded-For"), Some("10.0.0.1"));
        assert_eq!(h.headers.get_str("X-Real-Ip"), Some("10.0.0.1"));
        assert_eq!(
            h.headers.get_str("X-Forwarded-Host"),
            Some("example.com:8080")
        );
        assert_eq!(h.headers.get_str("X-Forwarded-Port"), Some("8080"));
        assert_eq!(h.headers.get_str("X-Forwarded-Proto"), Some("http"));
        assert_eq!(h.headers.get_str("X-Forwarded-Server"), Some("proxy"));
        assert!(!h.headers.contains("X_Forwarded_Host"));
    }

    #[test]
    fn trusted_clients_keep_and_append() {
        let mut h = head(&[
            ("X-Forwarded-For", "1.1.1.1"),
            ("X-Forwarded-For", "2.2.2.2"),
            ("X-Forwarded-Proto", "https"),
        ]);
        forward(&mut h, true);
        assert_eq!(
            h.headers.get_str("X-Forwarded-For"),
            Some("1.1.1.1, 2.2.2.2, 10.0.0.1")
        );
        assert_eq!(h.headers.get_str("X-Forwarded-Proto"), Some("https"));
    }

    #[test]
    fn connection_listed_headers_are_removed() {
        let mut h = head(&[
            ("Connection", "close, X-Secret, X-Forwarded-Host"),
            ("X-Secret", "s"),
            ("Keep-Alive", "1"),
        ]);
        forward(&mut h, false);
        assert!(
            !h.headers.contains("X-Secret")
                && !h.headers.contains("Connection")
                && !h.headers.contains("Keep-Alive")
        );
        assert!(h.headers.contains("X-Forwarded-Host"));
    }

    #[test]
    fn one_connection_name_as_the_general_case() {
        // One name, no list: the name goes (unless the entry point manages it), then
        // Connection itself; an upgrade keeps its Connection and Upgrade lines.
        for (value, gone, kept) in [
            (" X-Secret ", Some("X-Secret"), None),
            ("x-forwarded-host", None, Some("X-Forwarded-Host")),
            ("close", None, None),
        ] {
            let mut h = head(&[
                ("Connection", value),
                ("X-Secret", "s"),
                ("X-Forwarded-Host", "client.example"),
            ]);
            apply_entry_point(
                &mut h,
                &policy(true),
                None,
                &bytes::Bytes::from_static(b"proxy"),
                false,
                false,
            );
            assert!(!h.headers.contains("Connection"), "{value}");
            if let Some(g) = gone {
                assert!(!h.headers.contains(g), "{value}");
            }
            if let Some(k) = kept {
                assert_eq!(h.headers.get_str(k), Some("client.example"), "{value}");
            }
            assert_eq!(h.headers.contains("X-Secret"), gone.is_none(), "{value}");
        }
        let mut h = head(&[("Connection", "Upgrade"), ("Upgrade", "websocket")]);
        let ws = bytes::Bytes::from_static(b"proxy");
        apply_entry_point(&mut h, &policy(true), None, &ws, true, false);
        assert_eq!(h.headers.get_str("Connection"), Some("Upgrade"));
        assert_eq!(h.headers.get_str("Upgrade"), Some("websocket"));
    }

    #[test]
    fn forwarded_headers_connection_keeps_the_names_it_lists() {
        // `forwardedHeaders.connection: [X-Keep]`: a listed X-Keep survives and stays listed
        // (lower-cased, as Traefik writes it); the other listed names go.
        let mut h = head(&[
            ("Connection", "X-Keep, X-Drop"),
            ("Connection", "keep-alive"),
            ("X-Keep", "k"),
            ("X-Drop", "d"),
        ]);
        let mut p = policy(true);
        p.connection = vec!["X-Keep".into()];
        apply_entry_point(
            &mut h,
            &p,
            None,
            &bytes::Bytes::from_static(b"proxy"),
            false,
            false,
        );
        assert_eq!(h.headers.get_str("X-Keep"), Some("k"));
        assert!(!h.headers.contains("X-Drop") && !h.headers.contains("Keep-Alive"));
        assert_eq!(h.headers.get_str("Connection"), Some("x-keep"));
    }

    #[test]
    fn every_connection_line_counts() {
        let mut h = Headers::new();
        for (n, v) in [
            ("Connection", "X-One"),
            ("X-One", "1"),
            ("Connection", "x-two"),
            ("X-Two", "2"),
            ("Connection", "X-Three"),
            ("X-Three", "3"),
            ("X-Kept", "k"),
        ] {
            h.append(n, v);
        }
        remove_hop_by_hop(&mut h, Hop::Request);
        let left: Vec<&str> = h.iter().map(|l| &*l.name).collect();
        assert_eq!(left, ["X-Kept"]);
    }

    fn lines(h: &Headers) -> Vec<String> {
        h.iter()
            .map(|l| format!("{}: {}", l.name, String::from_utf8_lossy(&l.value)))
            .collect()
    }

    /// `Te`: a request listing `trailers` keeps `Te: trailers` alone (checked against Traefik
    /// 3.7.15); a response never keeps it.
    #[test]
    fn te_trailers_is_kept_on_requests_only() {
        let headers = |te: &[&str]| {
            let mut h = Headers::new();
            for v in te {
                h.append("Te", v.to_string());
            }
            h.append("X-A", "1");
            h
        };
        for (te, kept) in [
            (&["trailers"][..], true),
            (&["deflate, Trailers"], true),
            (&["gzip", "trailers"], true),
            (&["gzip"], false),
            (&["trailers;q=1"], false),
        ] {
            let mut h = headers(te);
            remove_hop_by_hop(&mut h, Hop::Request);
            let want: &[&str] = if kept {
                &["Te: trailers", "X-A: 1"]
            } else {
                &["X-A: 1"]
            };
            assert_eq!(lines(&h), want, "{te:?}");
            let mut h = headers(te);
            remove_hop_by_hop(&mut h, Hop::Response { http10: false });
            assert_eq!(lines(&h), ["X-A: 1"], "response {te:?}");
        }
    }

    /// A backend's `Connection: close` (HTTP/1.1) hides the names it lists: Go's transport
    /// drops that `Connection` line before its proxy removes listed lines (checked against
    /// Traefik 3.7.15). Without `close`, or in an HTTP/1.0 answer, the listed lines go.
    #[test]
    fn a_responses_connection_close_keeps_the_lines_it_lists() {
        for (connection, http10, gone_kept) in [
            ("X-Gone, close", false, true),
            ("Close", false, true),
            ("X-Gone", false, false),
            ("X-Gone, close", true, false),
        ] {
            let mut h = Headers::new();
            h.append("Connection", connection);
            h.append("X-Gone", "1");
            h.append("Keep-Alive", "timeout=5");
            remove_hop_by_hop(&mut h, Hop::Response { http10 });
            let want: &[&str] = if gone_kept { &["X-Gone: 1"] } else { &[] };
            assert_eq!(lines(&h), want, "{connection} http10={http10}");
        }
    }
}
