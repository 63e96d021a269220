//! A compiled HTTP rule.

use super::error::RuleError;
use super::expr::{Expr, HostKeys};
use super::matchers_http::{build_v3, HttpMatcher, HTTP_V3};
use super::matchers_http_v2::{build_v2, HTTP_V2};
use super::parser::parse_tree;
use super::view::{HttpRequestView, PreparedRequest};

/// Which rule language a router uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub enum RuleSyntax {
    /// Traefik v3 syntax (the default).
    #[default]
    V3,
    /// Traefik v2 syntax (router `ruleSyntax: v2`, or `core.defaultRuleSyntax: v2`).
    V2,
}

impl RuleSyntax {
    /// The syntax a router's `ruleSyntax` value selects: exactly `"v2"` selects v2; anything
    /// else (empty, `"v3"`, `"default"`, a typo) silently means v3, as in Traefik.
    pub fn from_router_option(value: &str) -> Self {
        if value == "v2" {
            RuleSyntax::V2
        } else {
            RuleSyntax::V3
        }
    }
}

/// A parsed and compiled HTTP router rule.
#[derive(Debug, Clone)]
pub struct HttpRule {
    expr: Expr<HttpMatcher>,
    syntax: RuleSyntax,
}

/// Parses and compiles an HTTP rule. Errors give the position and the problem (syntax errors,
/// unknown matchers, wrong argument counts, empty arguments, invalid regexes, IPs or hosts).
pub fn parse_http_rule(text: &str, syntax: RuleSyntax) -> Result<HttpRule, RuleError> {
    HttpRule::parse(text, syntax)
}

impl HttpRule {
    /// Parses and compiles `text` with the given syntax.
    pub fn parse(text: &str, syntax: RuleSyntax) -> Result<Self, RuleError> {
        let (names, build): (&[&'static str], fn(&_) -> _) = match syntax {
            RuleSyntax::V3 => (HTTP_V3, build_v3),
            RuleSyntax::V2 => (HTTP_V2, build_v2),
        };
        let tree = parse_tree(text, names)?;
        let expr = Expr::compile(&tree, &mut |m| build(m))?;
        Ok(HttpRule { expr, syntax })
    }

    /// The syntax the rule was written in.
    pub fn syntax(&self) -> RuleSyntax {
        self.syntax
    }

    /// Whether the request matches the rule.
    pub fn matches(&self, view: &HttpRequestView<'_>) -> bool {
        self.matches_prepared(&PreparedRequest::new(view))
    }

    /// Whether an already prepared request matches (use this when trying several rules).
    pub fn matches_prepared(&self, req: &PreparedRequest<'_>) -> bool {
        self.expr.eval(&mut |m| m.matches(req))
    }

    /// The hosts a request must have for this rule to match, if the rule restricts them (used
    /// to index the router table).
    pub fn host_keys(&self) -> Option<HostKeys> {
        self.expr.host_keys(&|m| m.host_keys())
    }
}
