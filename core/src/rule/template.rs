//! gorilla/mux route templates, used by the v2 rule syntax (`Host`-style `HostRegexp`, `Path`,
//! `PathPrefix`, `Query`, and TCP `HostSNIRegexp`): literal text with `{name}` or
//! `{name:pattern}` variables.
//!
//! Literal parts are quoted; a variable without a pattern matches `[^.]+` in a host, `[^/]+` in
//! a path and `.*` in a query. Host templates are case-insensitive and anchored at both ends;
//! path templates are anchored at both ends, except `PathPrefix` which is anchored at the start
//! only; query templates (`key=value`) are anchored at both ends.

use regex::bytes::Regex;

use super::regex_compat::compile_go_regex;

/// What a template is matched against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TemplateKind {
    /// A host name (v2 `HostRegexp`, v2 TCP `HostSNIRegexp`).
    Host,
    /// A whole path (v2 `Path`).
    Path,
    /// A path prefix (v2 `PathPrefix`).
    PathPrefix,
    /// One `key=value` query pair (v2 `Query`).
    Query,
}

/// A compiled template: its regex and its variable names.
#[derive(Debug, Clone)]
pub(crate) struct Template {
    pub regex: Regex,
    pub vars: Vec<String>,
}

/// Go's `regexp.QuoteMeta`.
pub(crate) fn quote_meta(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if r"\.+*?()|[]{}^$".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// The top-level `{...}` spans of a template, as (start, end) byte offsets with `end` past `}`.
fn brace_spans(s: &str) -> Result<Vec<(usize, usize)>, String> {
    let (mut level, mut start) = (0i32, 0);
    let mut spans = Vec::new();
    for (i, b) in s.bytes().enumerate() {
        match b {
            b'{' => {
                level += 1;
                if level == 1 {
                    start = i;
                }
            }
            b'}' => {
                level -= 1;
                if level == 0 {
                    spans.push((start, i + 1));
                } else if level < 0 {
                    return Err(format!("mux: unbalanced braces in {s:?}"));
                }
            }
            _ => {}
        }
    }
    if level != 0 {
        return Err(format!("mux: unbalanced braces in {s:?}"));
    }
    Ok(spans)
}

/// Compiles a template of the given kind.
pub(crate) fn compile_template(tpl: &str, kind: TemplateKind) -> Result<Template, String> {
    let spans = brace_spans(tpl)?;
    let default = match kind {
        TemplateKind::Host => "[^.]+",
        TemplateKind::Query => ".*",
        TemplateKind::Path | TemplateKind::PathPrefix => "[^/]+",
    };
    let mut pattern = String::new();
    if kind == TemplateKind::Host {
        pattern.push_str("(?i)");
    }
    pattern.push('^');
    let mut vars = Vec::new();
    let mut end = 0;
    for (i, &(s, e)) in spans.iter().enumerate() {
        let raw = &tpl[end..s];
        end = e;
        let inner = &tpl[s + 1..e - 1];
        let (name, patt) = inner.split_once(':').unwrap_or((inner, default));
        if name.is_empty() || patt.is_empty() {
            return Err(format!("mux: missing name or pattern in {:?}", &tpl[s..e]));
        }
        // gorilla/mux also compiles each variable pattern on its own.
        compile_go_regex(&format!("^{patt}$"))?;
        pattern.push_str(&quote_meta(raw));
        pattern.push_str(&format!("(?P<v{i}>{patt})"));
        vars.push(name.to_string());
    }
    pattern.push_str(&quote_meta(&tpl[end..]));
    if kind == TemplateKind::Query && tpl.split_once('=').is_some_and(|(_, v)| v.is_empty()) {
        pattern.push_str(default);
    }
    if kind != TemplateKind::PathPrefix {
        pattern.push('$');
    }
    Ok(Template {
        regex: compile_go_regex(&pattern)?,
        vars,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(tpl: &str, kind: TemplateKind, s: &str) -> bool {
        compile_template(tpl, kind)
            .unwrap()
            .regex
            .is_match(s.as_bytes())
    }

    #[test]
    fn templates() {
        assert!(m("{sub}.example.com", TemplateKind::Host, "A.Example.com"));
        assert!(!m(
            "{sub}.example.com",
            TemplateKind::Host,
            "a.b.example.com"
        ));
        assert!(m(
            "/css-{n:[0-9]?}",
            TemplateKind::PathPrefix,
            "/css-333333/x"
        ));
        assert!(!m("/a/{id:[0-9]+}", TemplateKind::Path, "/a/1/b"));
        assert!(m("/a.b", TemplateKind::Path, "/a.b"));
        assert!(!m("/a.b", TemplateKind::Path, "/axb"));
        assert!(m("foo=", TemplateKind::Query, "foo=anything"));
        assert!(m("foo={v:[0-9]+}", TemplateKind::Query, "foo=12"));
        assert!(compile_template("{a", TemplateKind::Path).is_err());
        assert!(compile_template("a}", TemplateKind::Path).is_err());
        assert!(compile_template("/{:x}", TemplateKind::Path).is_err());
        assert!(compile_template("/{x:}", TemplateKind::Path).is_err());
        assert!(m("(example.com", TemplateKind::Host, "(example.com"));
    }
}
