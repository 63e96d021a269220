//! HTTP matchers: the compiled form of each matcher call, how it is evaluated, and the v3
//! builders. The v2 builders are in [`super::matchers_http_v2`].

use regex::bytes::Regex;

use super::ast::MatcherCall;
use super::error::RuleError;
use super::expr::HostKeys;
use super::host::{host_matches, host_matches_v2, mux_host};
use super::ip::IpChecker;
use super::query::first_value;
use super::regex_compat::compile_go_regex;
use super::text::{fold_key, go_lower, go_upper};
use super::view::PreparedRequest;

/// The v3 HTTP matcher names.
pub const HTTP_V3: &[&str] = &[
    "ClientIP",
    "Method",
    "Host",
    "HostRegexp",
    "Path",
    "PathRegexp",
    "PathPrefix",
    "Header",
    "HeaderRegexp",
    "Query",
    "QueryRegexp",
];

/// One compiled HTTP matcher.
#[derive(Debug, Clone)]
pub(crate) enum HttpMatcher {
    /// `Host(`*`)`: every request.
    Always,
    /// Never matches (a header name Go would not canonicalise never appears on the wire).
    Never,
    /// v3 `Host`: lower-cased expression, maybe `*.`-prefixed.
    Host(String),
    /// v3 `HostRegexp`, over the canonical host.
    HostRegexp(Regex),
    /// `Path`: exact routing path.
    Path(String),
    /// `PathPrefix`: plain string prefix of the routing path.
    PathPrefix(String),
    /// `PathRegexp`, over the routing path.
    PathRegexp(Regex),
    /// `Method`: upper-cased, compared exactly.
    Method(String),
    /// `Header`: one value line equal to the value.
    Header(String, Vec<u8>),
    /// `HeaderRegexp`: one value line matching.
    HeaderRegexp(String, Regex),
    /// `Query`: some value of the key equal to the value (empty for the one-argument form).
    Query(Vec<u8>, Vec<u8>),
    /// `QueryRegexp`: some value of the key matching.
    QueryRegexp(Vec<u8>, Regex),
    /// `ClientIP`.
    ClientIp(IpChecker),
    /// v2 `Host`/`HostHeader`: lower-cased exact hosts.
    HostsV2(Vec<String>),
    /// v2 `HostRegexp`: host templates over the raw host without its port.
    HostTemplatesV2(Vec<Regex>),
    /// v2 `Path`/`PathPrefix`: path templates over the routing path.
    PathTemplatesV2(Vec<Regex>),
    /// v2 `Method`: any of the upper-cased methods.
    MethodsV2(Vec<String>),
    /// v2 `Headers`: every (name, value) present; an empty value only needs the header.
    HeadersV2(Vec<(String, Vec<u8>)>),
    /// v2 `HeadersRegexp`: every name has a line matching its regex.
    HeadersRegexpV2(Vec<(String, Regex)>),
    /// v2 `Query`: every (key, template) matches `key=<first value>`.
    QueriesV2(Vec<(Vec<u8>, Regex)>),
}

impl HttpMatcher {
    /// Whether the request matches (ignoring negation).
    pub(crate) fn matches(&self, req: &PreparedRequest<'_>) -> bool {
        let v = req.view;
        match self {
            HttpMatcher::Always => true,
            HttpMatcher::Never => false,
            HttpMatcher::Host(expr) => host_matches(&req.host, expr),
            HttpMatcher::HostRegexp(re) => re.is_match(req.host.as_bytes()),
            HttpMatcher::Path(p) => req.path.as_deref() == Some(p.as_bytes()),
            HttpMatcher::PathPrefix(p) => req
                .path
                .as_deref()
                .is_some_and(|rp| rp.starts_with(p.as_bytes())),
            HttpMatcher::PathRegexp(re) => req.path.as_deref().is_some_and(|rp| re.is_match(rp)),
            HttpMatcher::Method(m) => v.method == m,
            HttpMatcher::Header(name, value) => v
                .headers
                .any_value(name, &mut |line| line == value.as_slice()),
            HttpMatcher::HeaderRegexp(name, re) => {
                v.headers.any_value(name, &mut |line| re.is_match(line))
            }
            HttpMatcher::Query(key, value) => req
                .query()
                .iter()
                .any(|(k, val)| k.as_ref() == key.as_slice() && val.as_ref() == value.as_slice()),
            HttpMatcher::QueryRegexp(key, re) => req
                .query()
                .iter()
                .any(|(k, val)| k.as_ref() == key.as_slice() && re.is_match(val)),
            HttpMatcher::ClientIp(checker) => v.client_ip.is_some_and(|ip| checker.contains(ip)),
            HttpMatcher::HostsV2(hosts) => hosts.iter().any(|h| host_matches_v2(&req.host, h)),
            HttpMatcher::HostTemplatesV2(res) => {
                let host = mux_host(v.host);
                res.iter().any(|re| re.is_match(host.as_bytes()))
            }
            HttpMatcher::PathTemplatesV2(res) => req
                .path
                .as_deref()
                .is_some_and(|rp| res.iter().any(|re| re.is_match(rp))),
            HttpMatcher::MethodsV2(ms) => ms.iter().any(|m| m == v.method),
            HttpMatcher::HeadersV2(pairs) => pairs.iter().all(|(name, value)| {
                if value.is_empty() {
                    v.headers.contains(name)
                } else {
                    v.headers
                        .any_value(name, &mut |line| line == value.as_slice())
                }
            }),
            HttpMatcher::HeadersRegexpV2(pairs) => pairs
                .iter()
                .all(|(name, re)| v.headers.any_value(name, &mut |line| re.is_match(line))),
            HttpMatcher::QueriesV2(qs) => {
                let pairs = req.query();
                qs.iter().all(|(key, re)| {
                    let text = match first_value(pairs, key) {
                        Some(val) => [key.as_slice(), b"=", val].concat(),
                        None => Vec::new(),
                    };
                    re.is_match(&text)
                })
            }
        }
    }

    /// The hosts this matcher requires, for the router table index.
    pub(crate) fn host_keys(&self) -> Option<HostKeys> {
        let mut keys = HostKeys::default();
        let mut exact = |h: &str| {
            let k = fold_key(h).into_owned();
            if let Some(t) = k.strip_suffix('.') {
                keys.exact.push(t.to_string());
            }
            keys.exact.push(k);
        };
        match self {
            HttpMatcher::Host(expr) if expr.starts_with('*') => {
                let suffix = fold_key(&expr[1..]).into_owned();
                if let Some(t) = suffix.strip_suffix('.') {
                    keys.suffixes.push(t.to_string());
                }
                keys.suffixes.push(suffix);
            }
            HttpMatcher::Host(expr) => exact(expr),
            HttpMatcher::HostsV2(hosts) => hosts.iter().for_each(|h| exact(h)),
            _ => return None,
        }
        Some(keys)
    }
}

/// Whether `name` is an HTTP token (Go canonicalises only such header names).
pub(crate) fn is_token(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

fn regex_arg(m: &MatcherCall, pattern: &str, what: &str) -> Result<Regex, RuleError> {
    compile_go_regex(pattern)
        .map_err(|e| RuleError::new(m.position, format!("compiling {what} matcher: {e}")))
}

/// Builds a v3 matcher from a checked call.
pub(crate) fn build_v3(m: &MatcherCall) -> Result<HttpMatcher, RuleError> {
    let counts: &[usize] = match m.name {
        "Header" | "HeaderRegexp" => &[2],
        "Query" | "QueryRegexp" => &[1, 2],
        _ => &[1],
    };
    if !counts.contains(&m.values.len()) {
        return Err(RuleError::new(
            m.position,
            format!(
                "error while adding rule {}: unexpected number of parameters; got {}, expected one of {:?}",
                m.name,
                m.values.len(),
                counts
            ),
        ));
    }
    let a = &m.values[0];
    let err = |p: String| {
        RuleError::new(
            m.position,
            format!("error while adding rule {}: {p}", m.name),
        )
    };
    Ok(match m.name {
        "ClientIP" => HttpMatcher::ClientIp(IpChecker::parse(&m.values).map_err(err)?),
        "Method" => HttpMatcher::Method(go_upper(a)),
        "Host" if a == "*" => HttpMatcher::Always,
        "Host" | "HostRegexp" if !a.is_ascii() => {
            return Err(err(format!(
                "invalid value {a:?} for {} matcher, non-ASCII characters are not allowed",
                m.name
            )))
        }
        "Host" => HttpMatcher::Host(go_lower(a).into_owned()),
        "HostRegexp" => HttpMatcher::HostRegexp(regex_arg(m, a, "HostRegexp")?),
        "Path" | "PathPrefix" if !a.starts_with('/') => {
            return Err(err(format!("path {a:?} does not start with a '/'")))
        }
        "Path" => HttpMatcher::Path(a.clone()),
        "PathPrefix" => HttpMatcher::PathPrefix(a.clone()),
        "PathRegexp" => HttpMatcher::PathRegexp(regex_arg(m, a, "PathRegexp")?),
        "Header" | "HeaderRegexp" if !is_token(a) => HttpMatcher::Never,
        "Header" => HttpMatcher::Header(a.clone(), m.values[1].clone().into_bytes()),
        "HeaderRegexp" => {
            HttpMatcher::HeaderRegexp(a.clone(), regex_arg(m, &m.values[1], "HeaderRegexp")?)
        }
        "Query" | "QueryRegexp" if m.values.len() == 1 => {
            HttpMatcher::Query(a.clone().into_bytes(), Vec::new())
        }
        "Query" => HttpMatcher::Query(a.clone().into_bytes(), m.values[1].clone().into_bytes()),
        "QueryRegexp" => HttpMatcher::QueryRegexp(
            a.clone().into_bytes(),
            regex_arg(m, &m.values[1], "QueryRegexp")?,
        ),
        other => {
            return Err(RuleError::new(
                m.position,
                format!("unsupported function: {other}"),
            ))
        }
    })
}
