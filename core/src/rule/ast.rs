//! The parsed rule tree, after `!` has been pushed down to the matchers (De Morgan), as
//! Traefik's `pkg/rules` builds it.

use super::error::RuleError;
use super::text::go_lower;

/// A rule tree: matchers combined with `&&` and `||`. Negations live on the matchers only:
/// `!(A && B)` is stored as `!A || !B`, which matches the same requests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RuleTree {
    /// Both sides must match.
    And(Box<RuleTree>, Box<RuleTree>),
    /// Either side must match.
    Or(Box<RuleTree>, Box<RuleTree>),
    /// One matcher call.
    Matcher(MatcherCall),
}

/// One matcher call, `Name(args...)`, possibly negated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MatcherCall {
    /// The canonical matcher name (`PathPrefix`, whichever of the four accepted spellings the
    /// rule used).
    pub name: &'static str,
    /// Whether the call is negated.
    pub not: bool,
    /// The decoded string arguments.
    pub values: Vec<String>,
    /// Byte offset of the matcher name in the rule text.
    pub position: usize,
}

impl MatcherCall {
    /// Traefik's `CheckRule`: a matcher needs at least one argument and no empty argument.
    pub fn check(&self) -> Result<(), RuleError> {
        if self.values.is_empty() {
            return Err(RuleError::new(
                self.position,
                format!("no args for matcher {}", self.name),
            ));
        }
        if self.values.iter().any(String::is_empty) {
            return Err(RuleError::new(
                self.position,
                format!("empty args for matcher {}, {:?}", self.name, self.values),
            ));
        }
        Ok(())
    }
}

impl RuleTree {
    /// Inverts the tree in place (De Morgan): `And` and `Or` swap and every matcher toggles its
    /// negation.
    pub(crate) fn invert(&mut self) {
        match self {
            RuleTree::And(l, r) => {
                l.invert();
                r.invert();
                let (l, r) = (std::mem::replace(l, dummy()), std::mem::replace(r, dummy()));
                *self = RuleTree::Or(l, r);
            }
            RuleTree::Or(l, r) => {
                l.invert();
                r.invert();
                let (l, r) = (std::mem::replace(l, dummy()), std::mem::replace(r, dummy()));
                *self = RuleTree::And(l, r);
            }
            RuleTree::Matcher(m) => m.not = !m.not,
        }
    }

    /// The values of every matcher (negated or not) whose canonical name is in `names`,
    /// lower-cased, left to right (Traefik's `Tree.ParseMatchers`).
    pub fn values_of(&self, names: &[&str]) -> Vec<String> {
        let mut out = Vec::new();
        self.for_each_matcher(&mut |m| {
            if names.contains(&m.name) {
                out.extend(m.values.iter().map(|v| go_lower(v).into_owned()));
            }
        });
        out
    }

    /// Calls `f` on every matcher, left to right.
    pub fn for_each_matcher(&self, f: &mut dyn FnMut(&MatcherCall)) {
        match self {
            RuleTree::And(l, r) | RuleTree::Or(l, r) => {
                l.for_each_matcher(f);
                r.for_each_matcher(f);
            }
            RuleTree::Matcher(m) => f(m),
        }
    }

    /// The number of nodes in the tree.
    pub fn node_count(&self) -> usize {
        match self {
            RuleTree::And(l, r) | RuleTree::Or(l, r) => 1 + l.node_count() + r.node_count(),
            RuleTree::Matcher(_) => 1,
        }
    }
}

fn dummy() -> Box<RuleTree> {
    Box::new(RuleTree::Matcher(MatcherCall {
        name: "",
        not: false,
        values: Vec::new(),
        position: 0,
    }))
}
