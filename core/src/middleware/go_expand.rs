//! Go's `Regexp.ReplaceAllString` with its template syntax: `$1`, `${1}`, `$name`, `${name}`
//! and `$$`. A name is the longest run of letters, digits and `_`, so `$1bar` names a group
//! called `1bar` (empty unless it exists). An unknown or unmatched group expands to nothing; a
//! `$` that starts no valid reference is kept.
//!
//! The Go-to-Rust regex translation drops group names, so the names are read from the Go
//! pattern here ([`group_names`]) and looked up by group number.

use regex::bytes::{Captures, Regex};

/// A compiled Go regex with its capture group names (index = group number).
#[derive(Debug, Clone)]
pub struct GoRegex {
    /// The compiled regex.
    pub regex: Regex,
    names: Vec<Option<String>>,
}

impl GoRegex {
    /// Compiles a Go RE2 pattern.
    pub fn new(pattern: &str) -> Result<Self, String> {
        let regex = crate::rule::regex_compat::compile_go_regex(pattern)?;
        let mut names = group_names(pattern);
        names.resize(regex.captures_len(), None);
        Ok(GoRegex { regex, names })
    }

    /// Go's `ReplaceAllString(src, template)`.
    pub fn replace_all(&self, src: &[u8], template: &str) -> Vec<u8> {
        let mut out = Vec::with_capacity(src.len());
        let mut last = 0;
        for caps in self.regex.captures_iter(src) {
            let m = caps.get(0).expect("group 0 always matches");
            out.extend_from_slice(&src[last..m.start()]);
            self.expand(template, &caps, &mut out);
            last = m.end();
        }
        out.extend_from_slice(&src[last..]);
        out
    }

    fn expand(&self, template: &str, caps: &Captures<'_>, out: &mut Vec<u8>) {
        let t = template.as_bytes();
        let mut i = 0;
        while i < t.len() {
            if t[i] != b'$' {
                out.push(t[i]);
                i += 1;
                continue;
            }
            if t.get(i + 1) == Some(&b'$') {
                out.push(b'$');
                i += 2;
                continue;
            }
            let is_name = |c: &u8| c.is_ascii_alphanumeric() || *c == b'_';
            let (name, next) = if t.get(i + 1) == Some(&b'{') {
                let start = i + 2;
                let len = t[start..].iter().take_while(|c| is_name(c)).count();
                if len == 0 || t.get(start + len) != Some(&b'}') {
                    (None, i + 1)
                } else {
                    (Some(&t[start..start + len]), start + len + 1)
                }
            } else {
                let start = i + 1;
                let len = t[start..].iter().take_while(|c| is_name(c)).count();
                if len == 0 {
                    (None, i + 1)
                } else {
                    (Some(&t[start..start + len]), start + len)
                }
            };
            match name {
                None => {
                    out.push(b'$');
                    i = next;
                }
                Some(name) => {
                    if let Some(g) = self.group_of(name).and_then(|n| caps.get(n)) {
                        out.extend_from_slice(g.as_bytes());
                    }
                    i = next;
                }
            }
        }
    }

    fn group_of(&self, name: &[u8]) -> Option<usize> {
        let name = std::str::from_utf8(name).ok()?;
        if name.bytes().all(|b| b.is_ascii_digit()) {
            // Go's strconv.Atoi: too large a number is not a group.
            return name.parse::<usize>().ok();
        }
        self.names.iter().position(|n| n.as_deref() == Some(name))
    }
}

/// The capture group names of a Go pattern, indexed by group number (0 = the whole match).
pub fn group_names(pattern: &str) -> Vec<Option<String>> {
    let b = pattern.as_bytes();
    let mut names = vec![None];
    let (mut i, mut in_class) = (0, false);
    while i < b.len() {
        match b[i] {
            b'\\' => {
                // \Q...\E is literal text.
                if b.get(i + 1) == Some(&b'Q') {
                    match pattern[i + 2..].find("\\E") {
                        Some(e) => i += 2 + e + 2,
                        None => break,
                    }
                    continue;
                }
                i += 2;
                continue;
            }
            b'[' if !in_class => {
                in_class = true;
                // A `]` right after `[` or `[^` is a literal.
                i += 1;
                if b.get(i) == Some(&b'^') {
                    i += 1;
                }
                if b.get(i) == Some(&b']') {
                    i += 1;
                }
                continue;
            }
            b'[' if in_class && b.get(i + 1) == Some(&b':') => {
                // [:alpha:] inside a class.
                if let Some(e) = pattern[i..].find(":]") {
                    i += e + 2;
                    continue;
                }
            }
            b']' if in_class => in_class = false,
            b'(' if !in_class => {
                if b.get(i + 1) != Some(&b'?') {
                    names.push(None);
                } else {
                    let skip = match (b.get(i + 2), b.get(i + 3)) {
                        (Some(b'P'), Some(b'<')) => Some(4),
                        (Some(b'<'), _) => Some(3),
                        _ => None,
                    };
                    if let Some(skip) = skip {
                        let rest = &pattern[i + skip..];
                        let end = rest.find('>').unwrap_or(rest.len());
                        names.push(Some(rest[..end].to_string()));
                    }
                }
            }
            _ => {}
        }
        i += 1;
    }
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rep(re: &str, src: &str, t: &str) -> String {
        String::from_utf8(GoRegex::new(re).unwrap().replace_all(src.as_bytes(), t)).unwrap()
    }

    #[test]
    fn templates_as_go() {
        assert_eq!(
            rep("^/whoami/(.*)", "/whoami/and/whoami", "/who-am-i/$1"),
            "/who-am-i/and/whoami"
        );
        assert_eq!(rep("(foo)", "foo", "${1}bar"), "foobar");
        assert_eq!(rep("(foo)", "foo", "$1bar"), "");
        assert_eq!(rep("(foo)", "foo", "$$1"), "$1");
        assert_eq!(rep("(foo)", "foo", "$!x${"), "$!x${");
        assert_eq!(rep("(?P<first>a)(?<second>b)", "ab", "$second$first"), "ba");
        assert_eq!(rep("/whoami", "/whoami/and/whoami", ""), "/and");
        assert_eq!(rep("a*", "baaac", "-"), "-b-c-");
    }

    #[test]
    fn names_skip_escapes_and_classes() {
        let n = group_names(r"\((a)[(](?:b)(?P<x>c)\Q(\E(d)");
        assert_eq!(n, vec![None, None, Some("x".into()), None]);
    }
}
