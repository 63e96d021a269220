//! Enumerating and preparing Traefik's reference configurations from `../shared`: which files
//! are static or dynamic, and filling the integration fixtures' `{{ .Placeholders }}` the way
//! Traefik's Go test harness does.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use trafficcop_core::config::template::{render, Value};

/// The reference snapshot directory inside the shared data.
pub fn reference_dir(shared: &Path) -> PathBuf {
    shared.join("traefik/reference/v3.7.9")
}

/// Every file below `dir` with one of `exts`, sorted.
pub fn files_with_ext(dir: &Path, exts: &[&str]) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p
                .extension()
                .and_then(|x| x.to_str())
                .is_some_and(|x| exts.contains(&x.to_ascii_lowercase().as_str()))
            {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// A plausible value for an integration-test placeholder name, as the Go harness would give.
fn placeholder_value(name: &str, self_path: &str) -> Value {
    let lower = name.to_ascii_lowercase();
    if lower == "selffilename" || lower == "dynamicconfpath" {
        return Value::Str(self_path.to_string());
    }
    match name {
        "PortHTTP" => return Value::Str(":8000".into()),
        "PortHTTPS" => return Value::Str(":8443".into()),
        "Precedence" => return Value::Str("[\"file\"]".into()),
        "IdleConnTimeout" => return Value::Str("1s".into()),
        "DefaultRuleSyntax" => return Value::Str("v3".into()),
        // simple_underscore_headers.toml: entryPoints.web.http.underscoreHeadersStrategy.
        "Strategy" => return Value::Str("delete".into()),
        "DefaultRule" => return Value::Str("Host(`{{ normalize .Name }}`)".into()),
        _ => {}
    }
    if lower.contains("port") {
        return Value::Str("8000".into());
    }
    if lower.contains("content") {
        return Value::Str(String::new());
    }
    if lower.starts_with("is") {
        return Value::Bool(true);
    }
    if lower.contains("url") {
        return Value::Str("http://127.0.0.1:8081".into());
    }
    if lower.contains("address") || lower.contains("addr") || lower.contains("endpoint") {
        return Value::Str("127.0.0.1:8081".into());
    }
    if lower == "acme" || lower == "domains" || lower == "sans" {
        return Value::Map(BTreeMap::new());
    }
    Value::Str("127.0.0.1".into())
}

/// Renders an integration fixture's Go-template placeholders. `self_path` is what
/// `{{ .SelfFilename }}` becomes.
pub fn render_fixture(text: &str, self_path: &str) -> Result<String, String> {
    let mut data = BTreeMap::new();
    let mut rest = text;
    while let Some(i) = rest.find('.') {
        let after = &rest[i + 1..];
        let end = after
            .find(|c: char| !c.is_ascii_alphanumeric())
            .unwrap_or(after.len());
        let name = &after[..end];
        if name.chars().next().is_some_and(|c| c.is_ascii_uppercase()) {
            data.entry(name.to_string())
                .or_insert_with(|| placeholder_value(name, self_path));
        }
        rest = &after[end..];
    }
    render(text, &Value::Map(data), &|_| None).map_err(|e| e.to_string())
}
