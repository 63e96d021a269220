//! TCP matchers (`HostSNI`, `HostSNIRegexp`, `ClientIP`, `ALPN`) in both syntaxes, and the
//! compiled TCP rule.

use regex::bytes::Regex;

use super::ast::{MatcherCall, RuleTree};
use super::error::RuleError;
use super::expr::{Expr, HostKeys};
use super::host::{domain_match, valid_host_sni, valid_host_sni_v2};
use super::http_rule::RuleSyntax;
use super::ip::IpChecker;
use super::parser::parse_tree;
use super::regex_compat::compile_go_regex;
use super::template::{compile_template, TemplateKind};
use super::text::{fold_key, go_lower};
use super::view::{PreparedConn, TcpConnView};

/// The TCP matcher names (the same in v2 and v3).
pub const TCP_MATCHERS: &[&str] = &["ALPN", "ClientIP", "HostSNI", "HostSNIRegexp"];

/// The ALPN protocol reserved for ACME TLS challenges; `ALPN` may not name it.
const ACME_TLS_1: &str = "acme-tls/1";

#[derive(Debug, Clone)]
enum TcpMatcher {
    Always,
    /// v3 `HostSNI`: one host expression (trailing dot removed), maybe `*.`-prefixed.
    Sni(String),
    /// v2 `HostSNI`: lower-cased hosts, compared exactly; `*` anywhere matches any non-empty
    /// SNI.
    SnisV2(Vec<String>),
    /// `HostSNIRegexp` (v3: one unanchored regex; v2: anchored host templates).
    SniRegexp(Vec<Regex>),
    ClientIp(IpChecker),
    Alpn(Vec<String>),
}

/// A parsed and compiled TCP router rule.
#[derive(Debug, Clone)]
pub struct TcpRule {
    expr: Expr<TcpMatcher>,
    catch_all: bool,
}

/// Parses and compiles a TCP rule.
pub fn parse_tcp_rule(text: &str, syntax: RuleSyntax) -> Result<TcpRule, RuleError> {
    TcpRule::parse(text, syntax)
}

/// Whether the tree is exactly one `HostSNI` call with the single argument `*` (negation is
/// not looked at, as in Traefik).
pub(crate) fn tree_is_catch_all(tree: &RuleTree) -> bool {
    matches!(tree, RuleTree::Matcher(MatcherCall { name: "HostSNI", values, .. }) if values.len() == 1 && values[0] == "*")
}

impl TcpRule {
    /// Parses and compiles `text` with the given syntax.
    pub fn parse(text: &str, syntax: RuleSyntax) -> Result<Self, RuleError> {
        let tree = parse_tree(text, TCP_MATCHERS)?;
        let expr = Expr::compile(&tree, &mut |m| match syntax {
            RuleSyntax::V3 => build_v3(m),
            RuleSyntax::V2 => build_v2(m),
        })?;
        Ok(TcpRule {
            expr,
            catch_all: tree_is_catch_all(&tree),
        })
    }

    /// Whether the rule is the catch-all `HostSNI(`*`)` (default priority −1; the TLS
    /// passthrough/termination fallback).
    pub fn is_catch_all(&self) -> bool {
        self.catch_all
    }

    /// Whether the connection matches.
    pub fn matches(&self, view: &TcpConnView<'_>) -> bool {
        self.matches_prepared(&PreparedConn::new(view))
    }

    /// Whether an already prepared connection matches.
    pub fn matches_prepared(&self, conn: &PreparedConn<'_>) -> bool {
        self.expr.eval(&mut |m| eval(m, conn))
    }

    /// The SNIs a connection must have for this rule to match, if the rule restricts them.
    pub fn host_keys(&self) -> Option<HostKeys> {
        self.expr.host_keys(&|m| match m {
            TcpMatcher::Sni(expr) if expr.starts_with('*') => Some(HostKeys {
                exact: Vec::new(),
                suffixes: vec![fold_key(&expr[1..]).into_owned()],
            }),
            TcpMatcher::Sni(expr) => Some(HostKeys {
                exact: vec![fold_key(expr).into_owned()],
                suffixes: Vec::new(),
            }),
            TcpMatcher::SnisV2(hosts) if !hosts.iter().any(|h| h == "*") => {
                let mut exact = Vec::new();
                for h in hosts {
                    exact.push(h.clone());
                    if let Some(t) = h.strip_suffix('.') {
                        exact.push(t.to_string());
                    }
                }
                Some(HostKeys {
                    exact,
                    suffixes: Vec::new(),
                })
            }
            _ => None,
        })
    }
}

fn eval(m: &TcpMatcher, conn: &PreparedConn<'_>) -> bool {
    let sni: &str = &conn.sni;
    match m {
        TcpMatcher::Always => true,
        TcpMatcher::Sni(expr) => !sni.is_empty() && domain_match(sni, expr),
        TcpMatcher::SnisV2(hosts) => {
            if hosts[0] == "*" {
                return true;
            }
            !sni.is_empty()
                && hosts
                    .iter()
                    .any(|h| h == "*" || h == sni || h.strip_suffix('.') == Some(sni))
        }
        TcpMatcher::SniRegexp(res) => res.iter().any(|re| re.is_match(sni.as_bytes())),
        TcpMatcher::ClientIp(checker) => conn.view.client_ip.is_some_and(|ip| checker.contains(ip)),
        TcpMatcher::Alpn(protos) => conn
            .view
            .alpn
            .iter()
            .any(|offered| protos.iter().any(|p| p.as_bytes() == *offered)),
    }
}

fn err(m: &MatcherCall, p: String) -> RuleError {
    RuleError::new(
        m.position,
        format!("error while adding rule {}: {p}", m.name),
    )
}

fn build_v3(m: &MatcherCall) -> Result<TcpMatcher, RuleError> {
    if m.values.len() != 1 {
        return Err(err(
            m,
            format!(
                "unexpected number of parameters; got {}, expected 1",
                m.values.len()
            ),
        ));
    }
    let a = &m.values[0];
    Ok(match m.name {
        "ALPN" if a == ACME_TLS_1 => {
            return Err(err(
                m,
                format!("invalid protocol value for ALPN matcher, {a:?} is not allowed"),
            ))
        }
        "ALPN" => TcpMatcher::Alpn(vec![a.clone()]),
        "ClientIP" => TcpMatcher::ClientIp(IpChecker::parse(&m.values).map_err(|e| err(m, e))?),
        "HostSNI" if a == "*" => TcpMatcher::Always,
        "HostSNI" if !valid_host_sni(a) => {
            return Err(err(
                m,
                format!("invalid value for HostSNI matcher, {a:?} is not a valid hostname"),
            ))
        }
        "HostSNI" => TcpMatcher::Sni(a.strip_suffix('.').unwrap_or(a).to_string()),
        "HostSNIRegexp" if !a.is_ascii() => {
            return Err(err(
                m,
                format!("invalid value for HostSNIRegexp matcher, {a:?} is not a valid hostname"),
            ))
        }
        "HostSNIRegexp" => TcpMatcher::SniRegexp(vec![compile_go_regex(a)
            .map_err(|e| err(m, format!("compiling HostSNIRegexp matcher: {e}")))?]),
        other => {
            return Err(RuleError::new(
                m.position,
                format!("unsupported function: {other}"),
            ))
        }
    })
}

fn build_v2(m: &MatcherCall) -> Result<TcpMatcher, RuleError> {
    let vals = &m.values;
    Ok(match m.name {
        "ALPN" if vals.iter().any(|p| p == ACME_TLS_1) => {
            return Err(err(
                m,
                format!(
                    "invalid protocol value for \"ALPN\" matcher, {ACME_TLS_1:?} is not allowed"
                ),
            ))
        }
        "ALPN" => TcpMatcher::Alpn(vals.clone()),
        "ClientIP" => TcpMatcher::ClientIp(IpChecker::parse(vals).map_err(|e| err(m, e))?),
        "HostSNI" => {
            let mut hosts = Vec::new();
            for h in vals {
                if h != "*" && !valid_host_sni_v2(h) {
                    return Err(err(m, format!("invalid value for \"HostSNI\" matcher, {h:?} is not a valid hostname or IP")));
                }
                hosts.push(if h == "*" {
                    h.clone()
                } else {
                    go_lower(h).into_owned()
                });
            }
            TcpMatcher::SnisV2(hosts)
        }
        "HostSNIRegexp" => TcpMatcher::SniRegexp(
            vals.iter()
                .map(|t| compile_template(t, TemplateKind::Host).map(|t| t.regex))
                .collect::<Result<_, _>>()
                .map_err(|e| {
                    err(
                        m,
                        format!("invalid pattern value for \"HostSNIRegexp\" matcher: {e}"),
                    )
                })?,
        ),
        other => {
            return Err(RuleError::new(
                m.position,
                format!("unsupported function: {other}"),
            ))
        }
    })
}
