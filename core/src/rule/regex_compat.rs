//! Go RE2 regular expressions, compiled with the Rust `regex` crate.
//!
//! Traefik compiles rule regexes with Go's `regexp.Compile` (RE2 syntax, Perl flags) and matches
//! them unanchored. The two syntaxes mostly agree, but not everywhere, and each difference would
//! either turn a valid Traefik rule into a load error or change what it matches. This module
//! reads the pattern with Go's rules and writes an equivalent Rust pattern:
//!
//! * a `{` that does not start a valid repetition (`{name:[a-z]+}`, `x{`, `{,3}`, `{01}`) is a
//!   literal in Go; Rust rejects it, so it is escaped;
//! * `\d`, `\s`, `\w`, `\b`, `\B` are ASCII-only in Go and Unicode-aware in Rust: they become
//!   explicit ASCII classes and ASCII word boundaries;
//! * inside `[...]`, Rust gives `[`, `&&`, `--` and `~~` special meanings Go does not have: class
//!   items are re-emitted as escaped characters and ranges;
//! * `\Q...\E` (Go only) becomes escaped literals; octal escapes (`\012`) become `\x{..}`;
//!   escaped punctuation becomes `\x{..}` (Rust reads `\<` and `\>` as word boundaries);
//! * Go rejects what Rust would accept: stacked repetitions (`a**`), repeat counts above 1000,
//!   backreferences, unknown escapes, flags other than `imsU`, duplicate group names.
//!
//! Group names are dropped (captures are never read by matching). Compiled regexes are bounded
//! ([`REGEX_SIZE_LIMIT`], [`MAX_GROUP_NESTING`]) so a hostile rule cannot make loading or
//! matching slow.

use regex::bytes::{Regex, RegexBuilder};

/// Most bytes a compiled regex (and its lazy DFA cache) may use.
pub const REGEX_SIZE_LIMIT: usize = 1 << 20;

/// Deepest nesting of groups accepted in a regex.
pub const MAX_GROUP_NESTING: usize = 100;

/// Largest repeat count Go accepts in `{n,m}`.
const MAX_REPEAT: u32 = 1000;

/// Compiles a Go RE2 pattern for unanchored matching over bytes. The error is Go-like prose.
pub fn compile_go_regex(pattern: &str) -> Result<Regex, String> {
    let translated = translate(pattern)?;
    RegexBuilder::new(&translated)
        .size_limit(REGEX_SIZE_LIMIT)
        .dfa_size_limit(REGEX_SIZE_LIMIT)
        .nest_limit(2 * MAX_GROUP_NESTING as u32 + 20)
        .build()
        .map_err(|e| match e {
            regex::Error::CompiledTooBig(_) => "expression too large".to_string(),
            other => other
                .to_string()
                .lines()
                .last()
                .unwrap_or("invalid regular expression")
                .trim_start_matches("error: ")
                .to_string(),
        })
}

/// Translates a Go RE2 pattern into Rust `regex` syntax with the same meaning.
pub fn translate(pattern: &str) -> Result<String, String> {
    let mut t = Translator {
        src: pattern.chars().collect(),
        at: 0,
        out: String::with_capacity(pattern.len() + 8),
        depth: 0,
        names: Vec::new(),
        can_repeat: false,
        last_repeat: false,
        pending_flags: String::new(),
    };
    t.run()?;
    Ok(t.out)
}

pub(super) struct Translator {
    pub(super) src: Vec<char>,
    pub(super) at: usize,
    pub(super) out: String,
    pub(super) depth: usize,
    pub(super) names: Vec<String>,
    /// Whether the last item can take a repetition operator.
    pub(super) can_repeat: bool,
    /// Whether the last item was a repetition operator (Go rejects `a**`).
    pub(super) last_repeat: bool,
    /// A flag group (`(?i)`) not yet written: Go lets a repetition that follows it apply to the
    /// item before it (`a(?i)*`), which Rust rejects, so the flags are written after that
    /// repetition instead.
    pub(super) pending_flags: String,
}

pub(super) fn err<T>(what: &str, at: &[char]) -> Result<T, String> {
    let s: String = at.iter().take(16).collect();
    Err(format!("error parsing regexp: {what}: `{s}`"))
}

/// Writes `c` so that Rust reads it as exactly that literal character, in or out of a class.
pub(super) fn push_literal(out: &mut String, c: char) {
    if c.is_alphanumeric() || c == '_' || (c as u32 > 0x7f && !c.is_whitespace()) {
        out.push(c);
    } else {
        out.push_str(&format!("\\x{{{:x}}}", c as u32));
    }
}

impl Translator {
    pub(super) fn peek(&self, n: usize) -> Option<char> {
        self.src.get(self.at + n).copied()
    }

    pub(super) fn rest(&self) -> &[char] {
        &self.src[self.at.min(self.src.len())..]
    }

    pub(super) fn operand(&mut self) {
        self.can_repeat = true;
        self.last_repeat = false;
    }

    fn run(&mut self) -> Result<(), String> {
        while let Some(c) = self.peek(0) {
            let repeat =
                matches!(c, '*' | '+' | '?') || (c == '{' && self.parse_repeat().is_some());
            if !repeat {
                self.flush_flags();
            }
            match c {
                '(' => self.open_group()?,
                ')' => {
                    if self.depth == 0 {
                        return err("unexpected )", self.rest());
                    }
                    self.depth -= 1;
                    self.at += 1;
                    self.out.push(')');
                    self.operand();
                }
                '|' => {
                    self.at += 1;
                    self.out.push('|');
                    self.can_repeat = false;
                    self.last_repeat = false;
                }
                '^' | '$' | '.' => {
                    self.at += 1;
                    self.out.push(c);
                    self.operand();
                }
                '[' => self.class()?,
                '*' | '+' | '?' => {
                    let start = self.at;
                    self.at += 1;
                    self.repetition(start, &c.to_string())?;
                }
                '{' => match self.parse_repeat() {
                    Some((min, max, len)) => {
                        let start = self.at;
                        if min > MAX_REPEAT || max.is_some_and(|m| m > MAX_REPEAT || m < min) {
                            return err("invalid repeat count", self.rest());
                        }
                        let text = match max {
                            None => format!("{{{min},}}"),
                            Some(m) if m == min => format!("{{{min}}}"),
                            Some(m) => format!("{{{min},{m}}}"),
                        };
                        let _ = len;
                        self.at += len;
                        self.repetition(start, &text)?;
                    }
                    None => {
                        self.at += 1;
                        push_literal(&mut self.out, '{');
                        self.operand();
                    }
                },
                '\\' => self.escape()?,
                c => {
                    self.at += 1;
                    push_literal(&mut self.out, c);
                    self.operand();
                }
            }
        }
        if self.depth > 0 {
            return err("missing closing )", &self.src);
        }
        Ok(())
    }

    /// Emits a repetition operator (already consumed from `start`), with an optional lazy `?`.
    fn repetition(&mut self, start: usize, op: &str) -> Result<(), String> {
        if self.last_repeat {
            return err("invalid nested repetition operator", &self.src[start..]);
        }
        if !self.can_repeat {
            return err(
                "missing argument to repetition operator",
                &self.src[start..],
            );
        }
        self.out.push_str(op);
        if self.peek(0) == Some('?') {
            self.at += 1;
            self.out.push('?');
        }
        self.last_repeat = true;
        self.flush_flags();
        Ok(())
    }

    fn flush_flags(&mut self) {
        if !self.pending_flags.is_empty() {
            self.out.push_str(&std::mem::take(&mut self.pending_flags));
        }
    }

    /// Go's `parseRepeat`: `{n}`, `{n,}`, `{n,m}` with no leading zeros; `None` if the text at
    /// the cursor is not one of these (then `{` is a literal). Returns (min, max, length).
    fn parse_repeat(&self) -> Option<(u32, Option<u32>, usize)> {
        let mut i = 1;
        let int = |i: &mut usize| -> Option<u32> {
            let start = *i;
            while self.peek(*i).is_some_and(|c| c.is_ascii_digit()) {
                *i += 1;
            }
            let digits: String = self.src[self.at + start..self.at + *i].iter().collect();
            if digits.is_empty() || (digits.len() > 1 && digits.starts_with('0')) {
                return None;
            }
            // Overlong numbers are kept as "too big" rather than failing the parse.
            Some(digits.parse::<u32>().unwrap_or(u32::MAX))
        };
        let min = int(&mut i)?;
        let max = if self.peek(i) == Some(',') {
            i += 1;
            if self.peek(i) == Some('}') {
                None
            } else {
                Some(int(&mut i)?)
            }
        } else {
            Some(min)
        };
        if self.peek(i) != Some('}') {
            return None;
        }
        Some((min, max, i + 1))
    }

    fn open_group(&mut self) -> Result<(), String> {
        let start = self.at;
        self.at += 1;
        if self.peek(0) != Some('?') {
            self.push_group("(")?;
            return Ok(());
        }
        // (?P<name>re) or (?<name>re)
        let name_at = match (self.peek(1), self.peek(2)) {
            (Some('P'), Some('<')) => Some(3),
            (Some('<'), _) => Some(2),
            _ => None,
        };
        if let Some(skip) = name_at {
            let rest: String = self.src[self.at + skip..].iter().collect();
            let Some(end) = rest.find('>') else {
                return err("invalid named capture", &self.src[start..]);
            };
            let name = &rest[..end];
            if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                return err("invalid named capture", &self.src[start..]);
            }
            if self.names.iter().any(|n| n == name) {
                return err("duplicate capture group name", &self.src[start..]);
            }
            self.names.push(name.to_string());
            self.at += skip + name.chars().count() + 1;
            return self.push_group("(");
        }
        // Flags: (?flags) or (?flags:re)
        self.at += 1;
        let (mut on, mut off, mut negated, mut saw) = (String::new(), String::new(), false, false);
        loop {
            let Some(c) = self.peek(0) else {
                return err("missing closing )", &self.src[start..]);
            };
            self.at += 1;
            match c {
                'i' | 'm' | 's' | 'U' => {
                    saw = true;
                    if negated {
                        off.push(c)
                    } else {
                        on.push(c)
                    }
                }
                '-' if !negated => {
                    negated = true;
                    saw = false;
                }
                ':' | ')' => {
                    if negated && !saw {
                        return err("invalid or unsupported Perl syntax", &self.src[start..]);
                    }
                    let mut flags = on;
                    if !off.is_empty() {
                        flags.push('-');
                        flags.push_str(&off);
                    }
                    if c == ':' {
                        return self.push_group(&format!("(?{flags}:"));
                    }
                    if !flags.is_empty() {
                        self.pending_flags.push_str(&format!("(?{flags})"));
                    }
                    self.last_repeat = false;
                    return Ok(());
                }
                _ => return err("invalid or unsupported Perl syntax", &self.src[start..]),
            }
        }
    }

    fn push_group(&mut self, open: &str) -> Result<(), String> {
        self.depth += 1;
        if self.depth > MAX_GROUP_NESTING {
            return err("expression nests too deeply", self.rest());
        }
        self.out.push_str(open);
        self.can_repeat = false;
        self.last_repeat = false;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(p: &str, s: &str) -> bool {
        compile_go_regex(p).unwrap().is_match(s.as_bytes())
    }

    #[test]
    fn unmatched_braces_are_literals() {
        assert!(m(r"{domain:[a-z]+\.com}", "{domain:abc.com}"));
        assert!(!m(r"{domain:[a-z]+\.com}", "abc.com"));
        assert!(m("http{secure:s?}", "http{secure:}"));
        assert!(m("x{", "x{"));
        assert!(m("a{,3}", "a{,3}"));
        assert!(m("a{01}", "a{01}"));
        assert!(m("^a{2}$", "aa"));
        assert!(m("^a{2,}$", "aaaa"));
        assert!(compile_go_regex("a{1001}").is_err());
        assert!(compile_go_regex("a{3,2}").is_err());
    }

    #[test]
    fn go_only_rejections() {
        for bad in [
            "a**",
            "a*+",
            "a{2}*",
            "*a",
            "(?x)a",
            "(?i-)a",
            r"\1",
            r"\8",
            r"\e",
            "(a",
            "a)",
            "[a",
            r"(?P<n>a)(?P<n>b)",
            "(?P<>a)",
            r"[\b]",
            "[z-a]",
            "[[:foo:]]",
        ] {
            assert!(compile_go_regex(bad).is_err(), "{bad}");
        }
        for good in [
            "a*?",
            "a+?b",
            "(?i)A",
            "(?i:a)b",
            "(?)",
            r"\Qa.b\E",
            "^*",
            "[]a]",
            "[^]a]",
            "[a-]",
            r"[\d\-x]",
            r"\pL",
            r"\p{Greek}",
            "(?P<n>a)(?<m>b)",
            "[[:alpha:]]",
            "[[:^digit:]]",
            r"\012",
        ] {
            assert!(compile_go_regex(good).is_ok(), "{good}");
        }
    }

    #[test]
    fn ascii_perl_classes_and_rust_metas() {
        assert!(!m(r"^\d$", "٣"));
        assert!(m(r"^\w+$", "a_1"));
        assert!(!m(r"^\w$", "é"));
        assert!(m("^[[]$", "["));
        assert!(m("^[a&&b]+$", "a&b"));
        assert!(m("^[a-c-e]+$", "b-e"));
        assert!(m(r"^\Qa.b\E$", "a.b"));
        assert!(!m(r"^\Qa.b\E$", "axb"));
        assert!(m(r"^a\<b$", "a<b"));
        assert!(m(r"\bfoo\b", "a foo b"));
        assert!(m("^[~]$", "~"));
        assert!(m(r"^\x41\x{42}\101$", "ABA"));
    }

    #[test]
    fn bounded() {
        let deep = "(".repeat(150) + "a" + &")".repeat(150);
        assert!(compile_go_regex(&deep).is_err());
        assert!(compile_go_regex("((a{1000}){1000}){1000}").is_err());
    }
}
