//! Go `text/template` rendering of dynamic configuration files, as Traefik's file provider does
//! before decoding: `{{ }}` actions with `-` trimming, fields of the data, variables, pipelines,
//! `if`/`else if`/`else`, `range` (lists, maps, integers), `with`, and the functions in
//! `funcs` (Sprig's `env`, `default`, `until`, ... and Traefik's `split` and `normalize`).
//!
//! Rendering is pure: the environment comes in as a lookup function.

mod exec;
pub(crate) mod funcs;
mod lex;
mod parse;
mod value;

pub use value::Value;

/// A template error (parse or execution), with the line where it happened when known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateError(pub String);

impl std::fmt::Display for TemplateError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "template: {}", self.0)
    }
}

/// Limits that keep a hostile template bounded in time and memory.
const MAX_OUTPUT: usize = 64 << 20;

/// Renders `src` with `data` as `.` (Traefik's file provider passes `false`), resolving `env`
/// lookups with `env`.
pub fn render(
    src: &str,
    data: &Value,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<String, TemplateError> {
    if !src.contains("{{") {
        return Ok(src.to_string());
    }
    let pieces = lex::lex(src).map_err(TemplateError)?;
    let tree = parse::parse(pieces).map_err(TemplateError)?;
    let mut out = String::new();
    exec::Exec::new(env, MAX_OUTPUT)
        .run(&tree, data, &mut out)
        .map_err(TemplateError)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn r(src: &str) -> Result<String, TemplateError> {
        let env = |k: &str| (k == "HOME_HOST").then(|| "example.com".to_string());
        render(src, &Value::Bool(false), &env)
    }

    #[test]
    fn range_until_like_traefik_fixtures() {
        let out = r("routers:\n{{ range $i, $e := until 3 }}  r{{ $e }}: {}\n{{ end }}").unwrap();
        assert_eq!(out, "routers:\n  r0: {}\n  r1: {}\n  r2: {}\n");
    }

    #[test]
    fn env_default_split_and_if() {
        assert_eq!(r("{{ env \"HOME_HOST\" }}").unwrap(), "example.com");
        assert_eq!(r("{{ env \"NOPE\" | default \"x\" }}").unwrap(), "x");
        assert_eq!(
            r("{{ range $p := split \"a,b\" \",\" }}[{{ $p }}]{{ end }}").unwrap(),
            "[a][b]"
        );
        assert_eq!(
            r("{{ if env \"NOPE\" }}y{{ else if true }}z{{ else }}n{{ end }}").unwrap(),
            "z"
        );
        assert_eq!(r("a {{- \" b \" -}} c").unwrap(), "a b c");
        assert_eq!(r("{{ normalize \"a.b--c!\" }}").unwrap(), "a-b-c");
        assert_eq!(r("{{/* comment */}}ok").unwrap(), "ok");
    }

    #[test]
    fn data_fields_and_with() {
        let mut m = BTreeMap::new();
        m.insert("Port".to_string(), Value::Int(8080));
        let data = Value::Map(m);
        let out = render(
            "{{ .Port }}{{ with .Missing }}x{{ else }}-{{ end }}",
            &data,
            &|_| None,
        );
        assert_eq!(out.unwrap(), "8080-");
    }

    #[test]
    fn non_ascii_in_actions_does_not_panic() {
        // Found by the config_loader fuzz target: a multi-byte character inside an action.
        assert!(r("{{ rﻝue }}").is_err());
        assert!(r("{{ $ﻝ := 1 }}{{ $ﻝ }}").is_ok());
        assert!(r("{{ .ﻝa }}").is_ok());
    }

    #[test]
    fn errors() {
        assert!(r("{{ if true }}").is_err());
        assert!(r("{{ nosuchfunc 1 }}").is_err());
        assert!(r("{{ end }}").is_err());
        assert!(r("{{ \"unterminated }}").is_err());
    }
}
