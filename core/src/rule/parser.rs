//! The rule grammar, over the tokens of the lexer (`super::lexer`).
//!
//! ```text
//! rule    := or [SEMI] EOF
//! or      := and { "||" and }
//! and     := unary { "&&" unary }
//! unary   := "!" unary | "(" or ")" | call
//! call    := IDENT "(" [ STRING { "," STRING } [ "..." ] [ "," ] ] ")"
//! ```
//!
//! This is exactly what Traefik accepts: its parser (vulcand/predicate over Go's `ParseExpr`)
//! rejects every other Go expression form (numbers, bare identifiers, comparisons, calls as
//! arguments, parenthesised arguments). A matcher name is accepted in four spellings: canonical,
//! lower case, upper case, and Title case (`PathPrefix`, `pathprefix`, `PATHPREFIX`,
//! `Pathprefix`).

use super::ast::{MatcherCall, RuleTree};
use super::error::RuleError;
use super::lexer::{tokenize, Tok, Token};

/// The deepest nesting of parentheses and `!` a rule may use; deeper rules are rejected (Go's
/// parser has a similar bound), which keeps parsing and matching time and stack bounded.
pub const MAX_NESTING: usize = 100;

/// Longest rule text accepted, in bytes.
pub const MAX_RULE_LEN: usize = 64 * 1024;

/// Most matcher calls one rule may contain.
pub const MAX_MATCHERS: usize = 1000;

/// Parses `text` into a tree, accepting only the matcher names in `known` (canonical spelling;
/// the four spellings of each are recognised).
///
/// This does not validate the matchers' arguments (Traefik's `CheckRule` is
/// [`MatcherCall::check`]).
pub fn parse_tree(text: &str, known: &[&'static str]) -> Result<RuleTree, RuleError> {
    if text.len() > MAX_RULE_LEN {
        return Err(RuleError::new(
            MAX_RULE_LEN,
            format!("rule is longer than {MAX_RULE_LEN} bytes"),
        ));
    }
    let tokens = tokenize(text)?;
    let mut p = Parser {
        tokens,
        at: 0,
        known,
        depth: 0,
        calls: 0,
    };
    let tree = p.or()?;
    if p.peek() == &Tok::Semi {
        p.at += 1;
    }
    match p.peek() {
        Tok::Eof => Ok(tree),
        _ => Err(p.unexpected("end of rule")),
    }
}

/// Resolves a spelling to its canonical matcher name.
pub(crate) fn resolve_name(spelling: &str, known: &[&'static str]) -> Option<&'static str> {
    known.iter().copied().find(|&name| {
        spelling == name
            || spelling == name.to_ascii_lowercase()
            || spelling == name.to_ascii_uppercase()
            || spelling == title(name)
    })
}

/// `Pathprefix` from `PathPrefix`.
fn title(name: &str) -> String {
    let lower = name.to_ascii_lowercase();
    let mut chars = lower.chars();
    match chars.next() {
        Some(c) => c.to_ascii_uppercase().to_string() + chars.as_str(),
        None => String::new(),
    }
}

struct Parser<'k> {
    tokens: Vec<Token>,
    at: usize,
    known: &'k [&'static str],
    depth: usize,
    calls: usize,
}

impl Parser<'_> {
    fn peek(&self) -> &Tok {
        &self.tokens[self.at.min(self.tokens.len() - 1)].tok
    }

    fn pos(&self) -> usize {
        self.tokens[self.at.min(self.tokens.len() - 1)].pos
    }

    fn next(&mut self) -> Token {
        let t = self.tokens[self.at.min(self.tokens.len() - 1)].clone();
        self.at += 1;
        t
    }

    fn unexpected(&self, wanted: &str) -> RuleError {
        let found = match self.peek() {
            Tok::Ident(s) => format!("identifier {s:?}"),
            Tok::Str(_) => "a string".to_string(),
            Tok::LParen => "'('".to_string(),
            Tok::RParen => "')'".to_string(),
            Tok::Comma => "','".to_string(),
            Tok::Ellipsis => "'...'".to_string(),
            Tok::And => "'&&'".to_string(),
            Tok::Or => "'||'".to_string(),
            Tok::Not => "'!'".to_string(),
            Tok::Semi => "a newline".to_string(),
            Tok::Eof => "end of rule".to_string(),
        };
        RuleError::new(self.pos(), format!("expected {wanted}, found {found}"))
    }

    fn enter(&mut self) -> Result<(), RuleError> {
        self.depth += 1;
        if self.depth > MAX_NESTING {
            return Err(RuleError::new(
                self.pos(),
                format!("rule nests deeper than {MAX_NESTING} levels"),
            ));
        }
        Ok(())
    }

    fn or(&mut self) -> Result<RuleTree, RuleError> {
        let mut left = self.and()?;
        while self.peek() == &Tok::Or {
            self.at += 1;
            let right = self.and()?;
            left = RuleTree::Or(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<RuleTree, RuleError> {
        let mut left = self.unary()?;
        while self.peek() == &Tok::And {
            self.at += 1;
            let right = self.unary()?;
            left = RuleTree::And(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn unary(&mut self) -> Result<RuleTree, RuleError> {
        match self.peek() {
            Tok::Not => {
                self.at += 1;
                self.enter()?;
                let mut inner = self.unary()?;
                self.depth -= 1;
                inner.invert();
                Ok(inner)
            }
            Tok::LParen => {
                self.at += 1;
                self.enter()?;
                let inner = self.or()?;
                self.depth -= 1;
                if self.peek() != &Tok::RParen {
                    return Err(self.unexpected("')'"));
                }
                self.at += 1;
                Ok(inner)
            }
            Tok::Ident(_) => self.call(),
            _ => Err(self.unexpected("a matcher, '(' or '!'")),
        }
    }

    fn call(&mut self) -> Result<RuleTree, RuleError> {
        let Token {
            tok: Tok::Ident(spelling),
            pos,
        } = self.next()
        else {
            return Err(RuleError::new(self.pos(), "expected a matcher"));
        };
        if self.peek() != &Tok::LParen {
            return Err(self.unexpected(&format!("'(' after {spelling}")));
        }
        self.calls += 1;
        if self.calls > MAX_MATCHERS {
            return Err(RuleError::new(
                pos,
                format!("rule has more than {MAX_MATCHERS} matchers"),
            ));
        }
        let name = resolve_name(&spelling, self.known)
            .ok_or_else(|| RuleError::new(pos, format!("unsupported function: {spelling}")))?;
        self.at += 1;
        let mut values = Vec::new();
        loop {
            match self.peek().clone() {
                Tok::RParen => {
                    self.at += 1;
                    break;
                }
                Tok::Str(s) => {
                    self.at += 1;
                    values.push(s);
                    if self.peek() == &Tok::Ellipsis {
                        self.at += 1;
                        if self.peek() == &Tok::Comma {
                            self.at += 1;
                        }
                        if self.peek() != &Tok::RParen {
                            return Err(self.unexpected("')' after '...'"));
                        }
                        continue;
                    }
                    match self.peek() {
                        Tok::Comma => self.at += 1,
                        Tok::RParen => {}
                        _ => return Err(self.unexpected("',' or ')'")),
                    }
                }
                _ => return Err(self.unexpected("a string argument or ')'")),
            }
        }
        Ok(RuleTree::Matcher(MatcherCall {
            name,
            not: false,
            values,
            position: pos,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const M: &[&str] = &["m", "PathPrefix", "HostSNI"];

    fn leaf(not: bool, v: &str) -> RuleTree {
        RuleTree::Matcher(MatcherCall {
            name: "m",
            not,
            values: vec![v.to_string()],
            position: 0,
        })
    }

    fn strip(t: RuleTree) -> RuleTree {
        match t {
            RuleTree::And(l, r) => RuleTree::And(Box::new(strip(*l)), Box::new(strip(*r))),
            RuleTree::Or(l, r) => RuleTree::Or(Box::new(strip(*l)), Box::new(strip(*r))),
            RuleTree::Matcher(mut m) => {
                m.position = 0;
                RuleTree::Matcher(m)
            }
        }
    }

    #[test]
    fn spellings() {
        for ok in ["PathPrefix", "pathprefix", "PATHPREFIX", "Pathprefix"] {
            assert!(parse_tree(&format!("{ok}(`/`)"), M).is_ok(), "{ok}");
        }
        assert!(parse_tree("pAthPrefix(`/`)", M).is_err());
        assert!(parse_tree("Hostsni(`*`)", M).is_ok());
    }

    #[test]
    fn de_morgan_and_precedence() {
        let t = strip(parse_tree("!(m(`1`) && m(`2`)) || m(`3`)", M).unwrap());
        assert_eq!(
            t,
            RuleTree::Or(
                Box::new(RuleTree::Or(
                    Box::new(leaf(true, "1")),
                    Box::new(leaf(true, "2"))
                )),
                Box::new(leaf(false, "3"))
            )
        );
        let t = strip(parse_tree("m(`1`) || m(`2`) && m(`3`)", M).unwrap());
        assert!(matches!(t, RuleTree::Or(_, ref r) if matches!(**r, RuleTree::And(..))));
    }

    #[test]
    fn rejects_non_rules() {
        for bad in [
            "",
            "m",
            "m(`1`) &&",
            "m(`1`))",
            "m((`1`))",
            "m(1)",
            "m(`1` `2`)",
            "m(`1`)\n&& m(`2`)",
            "m(`1`) == m(`2`)",
            "m(`1`);",
            "x(`1`)",
            "m(m(`1`))",
            "(m)(`1`)",
            "m(`1`) & m(`2`)",
        ] {
            assert!(parse_tree(bad, M).is_err(), "{bad:?}");
        }
        for good in [
            "m(`1`,)",
            "m(`1`...)",
            "  m ( `1` )  ",
            "m(`1`) &&\n m(`2`)\n",
            "!!m(`1`)",
            "m()",
        ] {
            assert!(parse_tree(good, M).is_ok(), "{good:?}");
        }
    }

    #[test]
    fn nesting_is_bounded() {
        let deep = "(".repeat(500) + "m(`1`)" + &")".repeat(500);
        let err = parse_tree(&deep, M).unwrap_err();
        assert!(err.problem.contains("nests"));
        let nots = "!".repeat(5000) + "m(`1`)";
        assert!(parse_tree(&nots, M).is_err());
    }

    #[test]
    fn error_positions() {
        let err = parse_tree("m(`1`) && w(`2`)", M).unwrap_err();
        assert_eq!(err.position, 10);
    }
}
