//! The pure part of Traefik's file provider: given the files of a `filename` or `directory`
//! (already read, in Traefik's traversal order), render each as a Go template, decode it, and
//! merge them (first definition wins). Any failing file fails the whole provider configuration,
//! as in Traefik; the caller then keeps the last good one.

use std::sync::Arc;

use super::document::Format;
use super::dynamic::{load_dynamic, DynamicConfiguration, MergeWarning, SourceMap};
use super::error::{ConfigError, Severity};
use super::template::{render, Value};

/// One file of the provider.
#[derive(Debug, Clone)]
pub struct ProviderFile {
    /// Its path, as it will be shown in diagnostics.
    pub path: Arc<str>,
    /// Its content.
    pub text: String,
}

/// The merged configuration of a file provider and what went wrong.
#[derive(Debug, Clone, Default)]
pub struct FileProviderLoad {
    /// The merged configuration (meaningful only when not fatal).
    pub config: DynamicConfiguration,
    /// Decode problems of every file.
    pub diagnostics: Vec<ConfigError>,
    /// Definitions skipped because an earlier file had the same name.
    pub merge_warnings: Vec<MergeWarning>,
    /// Where each object was defined.
    pub sources: SourceMap,
}

impl FileProviderLoad {
    /// Whether the provider configuration is rejected.
    pub fn is_fatal(&self) -> bool {
        self.diagnostics.iter().any(ConfigError::is_fatal)
    }
}

/// Whether the file provider reads this file name in directory mode (`.toml`, `.yaml`, `.yml`,
/// case-insensitive).
pub fn is_provider_file(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    lower.ends_with(".toml") || lower.ends_with(".yaml") || lower.ends_with(".yml")
}

/// Renders, decodes and merges `files`. `env` answers the templates' `env` lookups.
pub fn load_files(
    files: &[ProviderFile],
    env: &dyn Fn(&str) -> Option<String>,
) -> FileProviderLoad {
    let mut out = FileProviderLoad::default();
    for f in files {
        let Some(format) = Format::from_path(&f.path) else {
            out.diagnostics.push(ConfigError {
                file: Some(f.path.clone()),
                pos: None,
                path: String::new(),
                message: "unsupported file extension for file".into(),
                severity: Severity::Fatal,
            });
            continue;
        };
        let rendered = match render(&f.text, &Value::Bool(false), env) {
            Ok(r) => r,
            Err(e) => {
                out.diagnostics.push(ConfigError {
                    file: Some(f.path.clone()),
                    pos: None,
                    path: String::new(),
                    message: e.to_string(),
                    severity: Severity::Fatal,
                });
                continue;
            }
        };
        let load = load_dynamic(&rendered, format, Some(f.path.clone()));
        out.diagnostics.extend(load.diagnostics);
        for (k, v) in load.sources {
            out.sources.entry(k).or_insert(v);
        }
        out.config
            .merge_from(load.config, Some(f.path.clone()), &mut out.merge_warnings);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_are_rendered_before_decoding() {
        let files = [ProviderFile {
            path: "t.yml".into(),
            text: "http:\n  routers:\n  {{ range $i, $e := until 3 }}\n    r{{ $e }}:\n      service: s\n      rule: \"Host(`{{ env \"H\" }}`)\"\n  {{ end }}\n".into(),
        }];
        let env = |k: &str| (k == "H").then(|| "a.example".to_string());
        let l = load_files(&files, &env);
        assert!(!l.is_fatal(), "{:?}", l.diagnostics);
        let routers = &l.config.http.as_ref().unwrap().routers;
        assert_eq!(routers.len(), 3);
        assert_eq!(routers["r2"].rule, "Host(`a.example`)");
    }

    #[test]
    fn one_bad_file_fails_the_provider() {
        let files = [
            ProviderFile {
                path: "a.yml".into(),
                text: "http:\n  routers:\n    r: {service: s, rule: \"Path(`/`)\"}\n".into(),
            },
            ProviderFile {
                path: "b.toml".into(),
                text: "[http.routers.q]\nbogus = 1\n".into(),
            },
        ];
        let l = load_files(&files, &|_| None);
        assert!(l.is_fatal());
        assert_eq!(l.diagnostics[0].file.as_deref(), Some("b.toml"));
    }
}
