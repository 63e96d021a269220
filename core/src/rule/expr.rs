//! A compiled rule: matchers combined with n-ary `and`/`or`, negation on the leaves.

use super::ast::RuleTree;
use super::error::RuleError;

/// A boolean combination of compiled matchers `M`.
#[derive(Debug, Clone)]
pub(crate) enum Expr<M> {
    /// Every child must match.
    All(Vec<Expr<M>>),
    /// At least one child must match.
    Any(Vec<Expr<M>>),
    /// A matcher, possibly negated.
    Leaf(M, bool),
}

impl<M> Expr<M> {
    /// Compiles a parse tree, building each leaf with `leaf` (which also validates it).
    pub(crate) fn compile(
        tree: &RuleTree,
        leaf: &mut dyn FnMut(&super::ast::MatcherCall) -> Result<M, RuleError>,
    ) -> Result<Self, RuleError> {
        Ok(match tree {
            RuleTree::And(l, r) => {
                let mut v = Vec::new();
                for side in [l, r] {
                    match Self::compile(side, leaf)? {
                        Expr::All(inner) => v.extend(inner),
                        e => v.push(e),
                    }
                }
                Expr::All(v)
            }
            RuleTree::Or(l, r) => {
                let mut v = Vec::new();
                for side in [l, r] {
                    match Self::compile(side, leaf)? {
                        Expr::Any(inner) => v.extend(inner),
                        e => v.push(e),
                    }
                }
                Expr::Any(v)
            }
            RuleTree::Matcher(m) => {
                m.check()?;
                Expr::Leaf(leaf(m)?, m.not)
            }
        })
    }

    /// Evaluates with `f` deciding each (non-negated) matcher.
    pub(crate) fn eval(&self, f: &mut dyn FnMut(&M) -> bool) -> bool {
        match self {
            Expr::All(v) => v.iter().all(|e| e.eval(f)),
            Expr::Any(v) => v.iter().any(|e| e.eval(f)),
            Expr::Leaf(m, not) => f(m) != *not,
        }
    }
}

/// Hosts a rule can only match, used to index the router table: a request whose folded host
/// (or host without one trailing dot) is not among `exact`, and whose suffix after the first
/// label is not among `suffixes`, cannot match.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HostKeys {
    /// Exact host keys.
    pub exact: Vec<String>,
    /// Wildcard suffixes, starting with `.` (`*.example.com` gives `.example.com`).
    pub suffixes: Vec<String>,
}

impl<M> Expr<M> {
    /// The host keys this expression requires, if every way of matching it needs one; `keys`
    /// gives them for a non-negated leaf.
    pub(crate) fn host_keys(&self, keys: &dyn Fn(&M) -> Option<HostKeys>) -> Option<HostKeys> {
        match self {
            Expr::Leaf(m, false) => keys(m),
            Expr::Leaf(_, true) => None,
            Expr::All(v) => v
                .iter()
                .filter_map(|e| e.host_keys(keys))
                .min_by_key(|k| k.exact.len() + k.suffixes.len()),
            Expr::Any(v) => {
                let mut all = HostKeys::default();
                for e in v {
                    let k = e.host_keys(keys)?;
                    all.exact.extend(k.exact);
                    all.suffixes.extend(k.suffixes);
                }
                Some(all)
            }
        }
    }
}
