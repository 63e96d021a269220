//! Runs the cases of `../shared/conformance/middlewares.yaml` for the middlewares the core
//! implements: each case's `config` is rendered into a one-middleware dynamic configuration
//! (the `chain` cases carry a whole `http` section), loaded with the core's loader, built with
//! `build_chain`, and driven with the case's request (and, when the request reaches the
//! backend, the case's upstream response). `backend_sees` and `response` are the expectations.
//! The YAML is read at test time with the core's own YAML parser.

use std::collections::BTreeMap;
use std::fs;
use std::sync::Arc;

use trafficcop_core::config::dynamic::{load_dynamic, HTTPConfiguration};
use trafficcop_core::config::node::{Node, ScalarKind, Value};
use trafficcop_core::config::{yaml, Format};
use trafficcop_core::http::{Headers, RequestHead, ResponseHead, Version};
use trafficcop_core::middleware::url_path::GoPath;
use trafficcop_core::middleware::{
    build_chain_reading, go_base64, Middleware, RedirectScheme, RequestAction, RequestContext,
};
use trafficcop_core::rule::ip::parse_remote_addr;

const IMPLEMENTED: &[&str] = &[
    "chain",
    "stripPrefix",
    "stripPrefixRegex",
    "addPrefix",
    "replacePath",
    "replacePathRegex",
    "redirectScheme",
    "redirectRegex",
    "headers",
    "ipAllowList",
    "ipWhiteList",
    "basicAuth",
    "circuitBreaker",
    "contentType",
    "passTLSClientCert",
    "digestAuth",
];

/// Lower-case hex MD5.
fn md5_hex(data: &str) -> String {
    use md5::Digest;
    md5::Md5::digest(data.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A quoted parameter of a `WWW-Authenticate: Digest` challenge.
fn challenge_param(challenge: &str, key: &str) -> String {
    let start = challenge
        .find(&format!("{key}=\""))
        .map(|i| i + key.len() + 2);
    start
        .and_then(|s| {
            challenge[s..]
                .find('"')
                .map(|e| challenge[s..s + e].to_string())
        })
        .unwrap_or_default()
}

/// The client side of digest authentication, as Go's test client does it: the request is sent
/// once without credentials, and the challenge answered (`qop=auth`, count 1).
fn digest_authorize(
    chain: &[Arc<dyn Middleware>],
    head: &RequestHead,
    cx: &RequestContext<'_>,
    user: &str,
    password: &str,
) -> Result<String, String> {
    let mut first = head.clone();
    let challenge = chain
        .iter()
        .find_map(|m| match m.on_request(&mut first, cx) {
            RequestAction::Respond(r) => r.headers.get("Www-Authenticate").map(|v| v.to_vec()),
            _ => None,
        })
        .ok_or("no challenge to a request without credentials")?;
    let challenge = String::from_utf8_lossy(&challenge).into_owned();
    let (realm, nonce, opaque) = (
        challenge_param(&challenge, "realm"),
        challenge_param(&challenge, "nonce"),
        challenge_param(&challenge, "opaque"),
    );
    let uri = head.target();
    let ha1 = md5_hex(&format!("{user}:{realm}:{password}"));
    let ha2 = md5_hex(&format!("{}:{uri}", &*head.method));
    let response = md5_hex(&format!("{ha1}:{nonce}:00000001:0a4f113b:auth:{ha2}"));
    Ok(format!(
        "Digest username=\"{user}\", realm=\"{realm}\", nonce=\"{nonce}\", uri=\"{uri}\", qop=auth, nc=00000001, cnonce=\"0a4f113b\", response=\"{response}\", opaque=\"{opaque}\", algorithm=MD5"
    ))
}

/// The corpus's `fixtures.certificates`, DER, by name.
static CERTIFICATES: std::sync::OnceLock<BTreeMap<String, Vec<u8>>> = std::sync::OnceLock::new();

/// The DER of a PEM certificate as the corpus spells it (line breaks folded into blanks).
fn pem_der(pem: &str) -> Vec<u8> {
    let body: String = pem
        .replace("-----BEGIN CERTIFICATE-----", "")
        .replace("-----END CERTIFICATE-----", "")
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    go_base64::decode(body.as_bytes()).expect("fixture certificate in base64")
}

/// The certificates a case's request presents (`fixtures.certificates.<name>` references).
fn peer_certificates(req: &Node) -> Vec<rustls::pki_types::CertificateDer<'static>> {
    let Some(Value::Seq(items)) = req.get("peer_certificates").map(|n| &n.value) else {
        return Vec::new();
    };
    let all = CERTIFICATES.get().expect("fixtures read");
    items
        .iter()
        .filter_map(Node::as_scalar)
        .map(|r| {
            let name = r.trim_start_matches("fixtures.certificates.");
            let der = all.get(name).unwrap_or_else(|| panic!("no fixture {name}"));
            rustls::pki_types::CertificateDer::from(der.clone())
        })
        .collect()
}

fn s<'a>(n: &'a Node, key: &str) -> Option<&'a str> {
    n.get(key).and_then(Node::as_scalar)
}

fn is_true(n: &Node, key: &str) -> bool {
    s(n, key) == Some("true")
}

/// Renders a node as YAML flow text (JSON-like). With `drop_empty`, map entries whose value is
/// an empty map are left out: the chain cases build Traefik's runtime configuration in-process
/// with `retry: {}`, which a file cannot express ("cannot be a standalone element").
fn render(n: &Node, out: &mut String, drop_empty: bool) {
    match &n.value {
        Value::Null => out.push_str("null"),
        Value::Scalar(v, ScalarKind::Str) => quote(v, out),
        Value::Scalar(v, _) => out.push_str(v),
        Value::Seq(items) => {
            out.push('[');
            for (i, it) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                render(it, out, drop_empty);
            }
            out.push(']');
        }
        // `usersFile: {content: ...}`: the file's content; the middleware gets a path to it.
        Value::Map(_) if n.get("content").is_some() && n.as_map().is_some_and(|m| m.len() == 1) => {
            quote(&users_file(s(n, "content").unwrap_or("")), out);
        }
        Value::Map(entries) => {
            out.push('{');
            let mut first = true;
            let empty = |n: &Node| n.as_map().is_some_and(<[_]>::is_empty);
            for e in entries
                .iter()
                .filter(|e| !(e.key.starts_with("_internal_") || drop_empty && empty(&e.value)))
            {
                if !first {
                    out.push_str(", ");
                }
                first = false;
                quote(&e.key, out);
                out.push_str(": ");
                render(&e.value, out, drop_empty);
            }
            out.push('}');
        }
    }
}

/// Writes a case's users file and gives its path.
fn users_file(content: &str) -> String {
    static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("tc-mw-conformance-{}", std::process::id()));
    fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join(format!("users-{n}"));
    fs::write(&path, content).expect("write users file");
    path.to_string_lossy().into_owned()
}

/// The middlewares' file reader: the file system, with Go's error text for a missing file.
fn read_file(path: &str) -> Result<String, String> {
    fs::read_to_string(path).map_err(|_| format!("open {path}: no such file or directory"))
}

fn quote(v: &str, out: &mut String) {
    out.push('"');
    for c in v.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\x{:02x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Header lists of a case (`name -> [values]`; a null value is kept as `None`).
fn header_map(n: Option<&Node>) -> Vec<(String, Option<Vec<String>>)> {
    let Some(entries) = n.and_then(Node::as_map) else {
        return Vec::new();
    };
    entries
        .iter()
        .map(|e| {
            let vals = match &e.value.value {
                Value::Seq(items) => Some(
                    items
                        .iter()
                        .map(|i| i.as_scalar().unwrap_or("").to_string())
                        .collect(),
                ),
                Value::Scalar(v, _) => Some(vec![v.clone()]),
                _ => None,
            };
            (e.key.clone(), vals)
        })
        .collect()
}

fn values(h: &Headers, name: &str) -> Vec<String> {
    h.get_all(name)
        .map(|v| String::from_utf8_lossy(v).into_owned())
        .collect()
}

/// Compares a header set with `headers`, `headers_exact` and `headers_absent` expectations.
fn check_headers(h: &Headers, exp: &Node, what: &str, errs: &mut Vec<String>) {
    for (name, vals) in header_map(exp.get("headers")) {
        let got = values(h, &name);
        if Some(&got) != vals.as_ref() {
            errs.push(format!(
                "{what} header {name}: expected {vals:?}, got {got:?}"
            ));
        }
    }
    if let Some(Value::Seq(names)) = exp.get("headers_absent").map(|n| &n.value) {
        for n in names.iter().filter_map(Node::as_scalar) {
            if h.contains(n) {
                errs.push(format!("{what} header {n} should be absent"));
            }
        }
    }
    if exp.get("headers_exact").is_some() {
        let expected = header_map(exp.get("headers_exact"));
        for (name, vals) in &expected {
            let got = values(h, name);
            let want = vals.clone().unwrap_or_default();
            if got != want {
                errs.push(format!(
                    "{what} header {name}: expected exactly {want:?}, got {got:?}"
                ));
            }
        }
        for line in h.iter() {
            if !expected
                .iter()
                .any(|(n, _)| n.eq_ignore_ascii_case(&line.name))
            {
                errs.push(format!("{what} has unexpected header {}", line.name));
            }
        }
    }
}

struct Request {
    head: RequestHead,
    tls: bool,
    client_ip: Option<std::net::IpAddr>,
    absolute_target: Option<String>,
}

fn build_request(req: &Node) -> Request {
    let url = s(req, "url").unwrap_or("/");
    let (scheme, authority, rest) = match url.split_once("://") {
        Some((sc, r)) => {
            let i = r.find(['/', '?']).unwrap_or(r.len());
            (Some(sc), &r[..i], &r[i..])
        }
        None => (None, "example.com", url),
    };
    let (path, query) = match rest.split_once('?') {
        Some((p, q)) => (p, Some(q.to_string())),
        None => (rest, None),
    };
    let path = if path.is_empty() { "/" } else { path };
    let host = s(req, "host").map_or(authority.to_string(), str::to_string);
    let mut headers = Headers::new();
    for (name, vals) in header_map(req.get("headers")) {
        for v in vals.unwrap_or_default() {
            headers.append(&name, v);
        }
    }
    if let Some(Value::Seq(pair)) = req.get("basic_auth").map(|n| &n.value) {
        let part = |i: usize| pair.get(i).and_then(Node::as_scalar).unwrap_or("");
        let credentials = format!("{}:{}", part(0), part(1));
        headers.set(
            "Authorization",
            format!("Basic {}", go_base64::encode(credentials.as_bytes())),
        );
    }
    let absolute_target = s(req, "requestURI")
        .filter(|t| t.contains("://"))
        .map(str::to_string);
    let tls = match s(req, "tls") {
        Some(t) => t == "true",
        None => scheme == Some("https"),
    };
    let client_ip = parse_remote_addr(s(req, "remoteAddr").unwrap_or("192.0.2.1:1234"));
    Request {
        head: RequestHead {
            method: trafficcop_core::http::method(s(req, "method").unwrap_or("GET")),
            path: path.to_string(),
            raw_query: query,
            host,
            version: Version::Http11,
            headers,
        },
        tls,
        client_ip,
        absolute_target,
    }
}

enum Outcome {
    Pass,
    Fail(String),
    Skip(&'static str),
}

fn build(case: &Node, mw: &str) -> Result<Vec<Arc<dyn Middleware>>, String> {
    let config = case.get("config");
    let (text, names, provider) = if mw == "chain" {
        let mut t = String::new();
        render(config.expect("chain cases carry a config"), &mut t, true);
        let names = match case.get("router_middlewares").map(|n| &n.value) {
            Some(Value::Seq(items)) => items
                .iter()
                .filter_map(Node::as_scalar)
                .map(str::to_string)
                .collect(),
            _ => Vec::new(),
        };
        (
            t,
            names,
            s(case, "router_provider").unwrap_or("").to_string(),
        )
    } else {
        let mut body = String::new();
        match config {
            Some(c) => render(c, &mut body, false),
            None => body.push_str("{}"),
        }
        let t = format!("{{\"http\": {{\"middlewares\": {{\"m\": {{\"{mw}\": {body}}}}}}}}}");
        (t, vec!["m".to_string()], "file".to_string())
    };
    let load = load_dynamic(&text, Format::Yaml, None);
    if load.is_fatal() {
        return Err(format!("config rejected: {:?}", load.diagnostics));
    }
    let http: HTTPConfiguration = load.config.http.unwrap_or_default();
    // `_internal_ForcePermanentRedirect` is not settable from a file: build that one directly.
    if mw == "redirectScheme"
        && config.is_some_and(|c| is_true(c, "_internal_ForcePermanentRedirect"))
    {
        let cfg = http.middlewares["m"].redirect_scheme.as_deref().unwrap();
        let m = RedirectScheme::with_force_permanent(cfg, true)?;
        return Ok(vec![Arc::new(m)]);
    }
    build_chain_reading(&names, &http, &provider, read_file)
}

/// A `compress` case of `kind: encoding_selection`: the coding Traefik's
/// `getCompressionEncoding` picks for `accept_encoding` under `config`.
fn compress_selection(case: &Node) -> Result<(), String> {
    let mut body = String::new();
    match case.get("config") {
        Some(c) => render(c, &mut body, false),
        None => body.push_str("{}"),
    }
    let text = format!("{{\"http\": {{\"middlewares\": {{\"m\": {{\"compress\": {body}}}}}}}}}");
    let load = load_dynamic(&text, Format::Yaml, None);
    let http = load.config.http.ok_or("no http section")?;
    let cfg = http.middlewares["m"]
        .compress
        .as_deref()
        .ok_or("no compress")?;
    let c = trafficcop_core::middleware::Compress::new(cfg)?;
    let values: Vec<String> = match case.get("accept_encoding").map(|n| &n.value) {
        Some(Value::Seq(items)) => items
            .iter()
            .map(|i| i.as_scalar().unwrap_or("").to_string())
            .collect(),
        _ => Vec::new(),
    };
    let values: Vec<&[u8]> = values.iter().map(|v| v.as_bytes()).collect();
    let got = c.traefik_encoding(&values);
    let want = s(case, "expect_encoding").unwrap_or("");
    if got == want {
        Ok(())
    } else {
        Err(format!("picked {got:?}, expected {want:?}"))
    }
}

/// Whether `n` is or holds an empty mapping.
fn has_empty_map(n: Option<&Node>) -> bool {
    match n.map(|n| &n.value) {
        Some(Value::Map(entries)) => {
            entries.is_empty() || entries.iter().any(|e| has_empty_map(Some(&e.value)))
        }
        _ => false,
    }
}

fn run_case(case: &Node, mw: &str) -> Outcome {
    if case
        .get("response")
        .and_then(|r| r.get("informational_count"))
        .is_some()
    {
        return Outcome::Skip("1xx interim responses exist only on the wire");
    }
    let id = s(case, "id").unwrap_or("");
    if id.starts_with("headers.TestNewHeader_customRequestHeader_Host.00") {
        // The Go test calls NewHeader directly with `customRequestHeaders: {}`; through a real
        // configuration that is "cannot be a standalone element" / "headers configuration not valid".
        return Outcome::Skip(
            "in-process only: empty headers config accepted by calling NewHeader directly",
        );
    }
    let built = build(case, mw);
    if is_true(case, "expect_config_error") {
        return match built {
            Err(e) => match s(case, "error_message") {
                Some(want) if want != e => Outcome::Fail(format!("error {e:?}, expected {want:?}")),
                _ => Outcome::Pass,
            },
            Ok(_) => Outcome::Fail("built, expected a configuration error".into()),
        };
    }
    let chain = match built {
        Ok(c) => c,
        Err(e)
            if e.contains("cannot be a standalone element")
                && has_empty_map(case.get("config")) =>
        {
            // The Go test builds the middleware in-process from an empty section; a file
            // cannot say that (Traefik's file decoder refuses it as well).
            return Outcome::Skip("empty section: a file cannot express it (\"cannot be a standalone element\" in Traefik too)");
        }
        Err(e) => return Outcome::Fail(format!("build failed: {e}")),
    };
    // Cases of Traefik's behaviour without the middleware (`contentType`'s defaults).
    let chain = if s(case, "chain_note").is_some_and(|n| n.contains("NOT in the chain")) {
        Vec::new()
    } else {
        chain
    };
    let Some(req) = case.get("request") else {
        return Outcome::Pass; // a constructor-only case: building succeeded
    };
    let mut r = build_request(req);
    let original_target = r.head.target();
    let certs = if r.tls {
        peer_certificates(req)
    } else {
        Vec::new()
    };
    let cx = RequestContext {
        client_ip: r.client_ip,
        tls: r.tls,
        entry_point: "web",
        absolute_target: r.absolute_target.as_deref(),
        now: 0,
        started: 0,
        peer_certificates: &certs,
    };
    if let Some(Value::Seq(pair)) = req.get("digest_auth").map(|n| &n.value) {
        let part = |i: usize| pair.get(i).and_then(Node::as_scalar).unwrap_or("");
        match digest_authorize(&chain, &r.head, &cx, part(0), part(1)) {
            Ok(value) => r.head.headers.set("Authorization", value),
            Err(e) => return Outcome::Fail(e),
        }
    }
    let mut errs = Vec::new();
    let mut local = None;
    for m in &chain {
        if let RequestAction::Respond(resp) = m.on_request(&mut r.head, &cx) {
            local = Some(resp);
            break;
        }
    }
    let bs = case.get("backend_sees");
    let resp_exp = case.get("response");
    match local {
        Some(mut resp) => {
            if bs.is_some_and(|b| s(b, "called") != Some("false")) {
                errs.push(format!(
                    "answered locally ({}), backend expected",
                    resp.status
                ));
            }
            if !resp.headers.contains("Content-Length") {
                resp.headers
                    .set("Content-Length", resp.body.len().to_string());
            }
            if let Some(exp) = resp_exp {
                if let Some(st) = s(exp, "status") {
                    if st != resp.status.to_string() {
                        errs.push(format!("status {} expected {st}", resp.status));
                    }
                }
                if let Some(b) = s(exp, "body") {
                    if b.as_bytes() != resp.body.as_slice() {
                        errs.push(format!(
                            "body {:?} expected {b:?}",
                            String::from_utf8_lossy(&resp.body)
                        ));
                    }
                }
                check_headers(&resp.headers, exp, "response", &mut errs);
            }
        }
        None => {
            if let Some(b) = bs {
                if s(b, "called") == Some("false") {
                    errs.push("backend called, expected a local answer".into());
                }
                check_backend(&r.head, &original_target, &chain, b, &mut errs);
            }
            let up = case.get("upstream");
            let mut head = ResponseHead {
                status: up
                    .and_then(|u| s(u, "status"))
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(200),
                version: Version::Http11,
                headers: Headers::new(),
            };
            for (name, vals) in header_map(up.and_then(|u| u.get("headers"))) {
                for v in vals.unwrap_or_default() {
                    head.headers.append(&name, v);
                }
            }
            for m in chain.iter().rev() {
                m.on_response(&mut head, &r.head, &cx);
            }
            // The worker's guess for `contentType` (the case's body, which came whole).
            let body = up.and_then(|u| s(u, "body")).unwrap_or("");
            if chain.iter().any(|m| m.sniffs_content_type())
                && !head.headers.contains("Content-Type")
                && !body.is_empty()
            {
                let guess = trafficcop_core::http::sniff::detect_content_type(body.as_bytes());
                head.headers.append("Content-Type", guess);
            }
            if let Some(exp) = resp_exp {
                if let Some(st) = s(exp, "status") {
                    if st != head.status.to_string() {
                        errs.push(format!("status {} expected {st}", head.status));
                    }
                }
                check_headers(&head.headers, exp, "response", &mut errs);
            }
        }
    }
    if errs.is_empty() {
        Outcome::Pass
    } else {
        Outcome::Fail(errs.join("; "))
    }
}

fn check_backend(
    head: &RequestHead,
    original_target: &str,
    chain: &[Arc<dyn Middleware>],
    b: &Node,
    errs: &mut Vec<String>,
) {
    let parsed = GoPath::parse(&head.path).expect("forwarded path decodes");
    if let Some(p) = s(b, "path") {
        // Go's URL.Path may be "" where the request-target on the wire is "/".
        let want = if p.is_empty() { "/" } else { p };
        if parsed.path != want.as_bytes() {
            errs.push(format!(
                "path {:?} expected {p:?}",
                String::from_utf8_lossy(&parsed.path)
            ));
        }
    }
    if let Some(raw) = s(b, "rawPath") {
        if parsed.raw_path != raw {
            errs.push(format!("rawPath {:?} expected {raw:?}", parsed.raw_path));
        }
    }
    if let Some(uri) = s(b, "requestURI") {
        if head.target() != uri {
            errs.push(format!("requestURI {:?} expected {uri:?}", head.target()));
        }
    }
    if s(b, "requestURI_rewritten") == Some("false") && head.target() != original_target {
        errs.push(format!("request-target rewritten to {:?}", head.target()));
    }
    if let Some(h) = s(b, "host") {
        if head.host != h {
            errs.push(format!("host {:?} expected {h:?}", head.host));
        }
    }
    // A null X-Forwarded-For in headers_exact: absent, and the proxy told not to add it.
    for (name, vals) in header_map(b.get("headers_exact")) {
        if vals.is_none()
            && name == "X-Forwarded-For"
            && !chain.iter().any(|m| m.suppresses_x_forwarded_for())
        {
            errs.push("X-Forwarded-For generation not suppressed".into());
        }
    }
    check_headers(&head.headers, b, "backend", errs);
    // Go map keys as set (a `headerField` is not canonicalised): lines spelled exactly so.
    for (name, vals) in header_map(b.get("headers_raw_go_map")) {
        let got: Vec<String> = head
            .headers
            .iter()
            .filter(|l| *l.name == *name)
            .map(|l| String::from_utf8_lossy(&l.value).into_owned())
            .collect();
        if Some(&got) != vals.as_ref() {
            errs.push(format!(
                "backend map key {name:?}: expected {vals:?}, got {got:?}"
            ));
        }
    }
    // Go's `Header.Get`: the canonical key only; "" for absent.
    if let Some(entries) = b.get("header_get").and_then(Node::as_map) {
        for e in entries {
            let canonical = trafficcop_core::http::canonical_name(&e.key);
            let got = head
                .headers
                .iter()
                .find(|l| *l.name == *canonical)
                .map(|l| String::from_utf8_lossy(&l.value).into_owned())
                .unwrap_or_default();
            let want = e.value.as_scalar().unwrap_or("");
            if got != want {
                errs.push(format!(
                    "backend Get({:?}) = {got:?}, expected {want:?}",
                    e.key
                ));
            }
        }
    }
}

#[test]
fn middlewares_conformance() {
    let Some(dir) = trafficcop_spec::shared_or_skip("middlewares_conformance") else {
        return;
    };
    let text = fs::read_to_string(dir.join("conformance/middlewares.yaml")).expect("read corpus");
    let root = yaml::parse(&text).expect("corpus parses");
    let Some(Value::Seq(cases)) = root.get("cases").map(|n| &n.value) else {
        panic!("no cases")
    };
    let mut certificates = BTreeMap::new();
    if let Some(Value::Map(entries)) = root
        .get("fixtures")
        .and_then(|f| f.get("certificates"))
        .map(|n| &n.value)
    {
        for e in entries {
            if let Some(pem) = e.value.as_scalar() {
                certificates.insert(e.key.clone(), pem_der(pem));
            }
        }
    }
    let _ = CERTIFICATES.set(certificates);
    // middleware -> (run, passed, skipped)
    let mut counts: BTreeMap<&str, (usize, usize, usize)> = BTreeMap::new();
    let mut skips: BTreeMap<&'static str, Vec<String>> = BTreeMap::new();
    let mut failures = Vec::new();
    for case in cases {
        let mw = s(case, "middleware").unwrap_or("");
        if mw == "compress" && s(case, "kind") == Some("encoding_selection") {
            let id = s(case, "id").unwrap_or("?").to_string();
            let c = counts.entry("compress (coding)").or_default();
            c.0 += 1;
            match compress_selection(case) {
                Ok(()) => c.1 += 1,
                Err(why) => failures.push(format!("{id}: {why}")),
            }
            continue;
        }
        let Some(mw) = IMPLEMENTED.iter().find(|m| **m == mw) else {
            continue;
        };
        if case.get("kind").is_some() {
            continue;
        }
        let id = s(case, "id").unwrap_or("?").to_string();
        let c = counts.entry(mw).or_default();
        match run_case(case, mw) {
            Outcome::Pass => {
                c.0 += 1;
                c.1 += 1;
            }
            Outcome::Fail(why) => {
                c.0 += 1;
                failures.push(format!("{id}: {why}"));
            }
            Outcome::Skip(reason) => {
                c.2 += 1;
                skips.entry(reason).or_default().push(id);
            }
        }
    }
    for (mw, (run, passed, skipped)) in &counts {
        println!("{mw:>18}: run {run:>3}, passed {passed:>3}, skipped {skipped}");
    }
    for (reason, ids) in &skips {
        println!("skipped ({reason}): {}", ids.join(", "));
    }
    let total: usize = counts.values().map(|c| c.0).sum();
    assert!(
        total > 100,
        "only {total} cases ran: is the corpus complete?"
    );
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
