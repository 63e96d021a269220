//! Loading one dynamic configuration document, and merging the documents of a file provider
//! directory the way Traefik does (the first definition of a name wins; no deep merge).

use std::sync::Arc;

use super::*;
use crate::config::decode::Cx;
use crate::config::document::{decode_root, parse_document, Format};
use crate::config::error::ConfigError;

/// The result of loading dynamic configuration: the model and every problem found. When any
/// diagnostic is fatal, Traefik rejects the whole document (the provider keeps its previous
/// configuration).
#[derive(Debug, Clone, Default)]
pub struct DynamicLoad {
    /// The configuration (empty sections when the document was empty).
    pub config: DynamicConfiguration,
    /// Problems and warnings, in the order found.
    pub diagnostics: Vec<ConfigError>,
    /// Where each named object was defined (`http.routers.<name>` -> file and position).
    pub sources: SourceMap,
}

/// Where each named object of a dynamic configuration was defined, keyed by its section path
/// (`http.routers.<name>`, `tls.options.<name>`, ...).
pub type SourceMap = BTreeMap<String, (Option<Arc<str>>, crate::config::node::Pos)>;

/// The named-object maps of the dynamic configuration.
const OBJECT_MAPS: &[[&str; 2]] = &[
    ["http", "routers"],
    ["http", "services"],
    ["http", "middlewares"],
    ["http", "models"],
    ["http", "serversTransports"],
    ["tcp", "routers"],
    ["tcp", "services"],
    ["tcp", "middlewares"],
    ["tcp", "serversTransports"],
    ["udp", "routers"],
    ["udp", "services"],
    ["tls", "options"],
    ["tls", "stores"],
];

fn record_sources(
    root: &crate::config::node::Node,
    file: &Option<Arc<str>>,
    sources: &mut SourceMap,
) {
    for [section, map] in OBJECT_MAPS {
        let Some(entries) = root
            .get(section)
            .and_then(|s| s.get(map))
            .and_then(|m| m.as_map())
        else {
            continue;
        };
        for e in entries {
            sources
                .entry(format!("{section}.{map}.{}", e.key))
                .or_insert((file.clone(), e.key_pos));
        }
    }
}

impl DynamicLoad {
    /// Whether the document is rejected.
    pub fn is_fatal(&self) -> bool {
        self.diagnostics.iter().any(ConfigError::is_fatal)
    }
}

/// Loads one dynamic configuration document (already template-rendered). An empty document is
/// an empty configuration.
pub fn load_dynamic(text: &str, format: Format, file: Option<Arc<str>>) -> DynamicLoad {
    let mut cx = Cx::new(file.clone());
    let mut config = DynamicConfiguration::default();
    let mut sources = SourceMap::new();
    match parse_document(text, format, file.as_ref()) {
        Ok(root) => {
            decode_root(&root, DynamicConfiguration::KEYS, &mut config, &mut cx);
            warn_plugins(&config, &root, &mut cx);
            record_sources(&root, &file, &mut sources);
        }
        Err(e) => cx.diagnostics.push(e),
    }
    DynamicLoad {
        config,
        diagnostics: cx.diagnostics,
        sources,
    }
}

fn warn_plugins(config: &DynamicConfiguration, root: &crate::config::node::Node, cx: &mut Cx) {
    let Some(http) = &config.http else { return };
    for (name, mw) in &http.middlewares {
        if mw.plugin.0.is_some() {
            let path = ["http", "middlewares", name.as_str(), "plugin"];
            cx.push(path.join("."));
            cx.warn(
                root.pos_at(&path),
                "Traefik Go plugins are out of scope for TrafficCop: this middleware will be disabled",
            );
            cx.pop();
        }
    }
}

/// A warning about a definition that an earlier file already made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MergeWarning {
    /// What kind of object (`HTTP router`, `TLS options`, ...).
    pub kind: &'static str,
    /// Its name.
    pub name: String,
    /// The file whose definition was skipped.
    pub file: Option<Arc<str>>,
}

impl std::fmt::Display for MergeWarning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if let Some(file) = &self.file {
            write!(f, "{file}: ")?;
        }
        write!(
            f,
            "{} already configured, skipping: {}",
            self.kind, self.name
        )
    }
}

fn merge_map<T>(
    into: &mut BTreeMap<String, T>,
    from: BTreeMap<String, T>,
    kind: &'static str,
    file: &Option<Arc<str>>,
    warnings: &mut Vec<MergeWarning>,
) {
    for (name, value) in from {
        match into.entry(name) {
            std::collections::btree_map::Entry::Occupied(e) => warnings.push(MergeWarning {
                kind,
                name: e.key().clone(),
                file: file.clone(),
            }),
            std::collections::btree_map::Entry::Vacant(e) => {
                e.insert(value);
            }
        }
    }
}

impl DynamicConfiguration {
    /// Merges `other` (from a later file in traversal order) into `self`: names already defined
    /// are kept and the later definitions skipped with a warning; identical certificates are
    /// de-duplicated.
    pub fn merge_from(
        &mut self,
        other: DynamicConfiguration,
        file: Option<Arc<str>>,
        warnings: &mut Vec<MergeWarning>,
    ) {
        if let Some(h) = other.http {
            let into = self.http.get_or_insert_with(Default::default);
            merge_map(&mut into.routers, h.routers, "HTTP router", &file, warnings);
            merge_map(
                &mut into.services,
                h.services,
                "HTTP service",
                &file,
                warnings,
            );
            merge_map(
                &mut into.middlewares,
                h.middlewares,
                "HTTP middleware",
                &file,
                warnings,
            );
            merge_map(&mut into.models, h.models, "HTTP model", &file, warnings);
            merge_map(
                &mut into.servers_transports,
                h.servers_transports,
                "HTTP servers transport",
                &file,
                warnings,
            );
        }
        if let Some(t) = other.tcp {
            let into = self.tcp.get_or_insert_with(Default::default);
            merge_map(&mut into.routers, t.routers, "TCP router", &file, warnings);
            merge_map(
                &mut into.services,
                t.services,
                "TCP service",
                &file,
                warnings,
            );
            merge_map(
                &mut into.middlewares,
                t.middlewares,
                "TCP middleware",
                &file,
                warnings,
            );
            merge_map(
                &mut into.servers_transports,
                t.servers_transports,
                "TCP servers transport",
                &file,
                warnings,
            );
        }
        if let Some(u) = other.udp {
            let into = self.udp.get_or_insert_with(Default::default);
            merge_map(&mut into.routers, u.routers, "UDP router", &file, warnings);
            merge_map(
                &mut into.services,
                u.services,
                "UDP service",
                &file,
                warnings,
            );
        }
        if let Some(t) = other.tls {
            let into = self.tls.get_or_insert_with(Default::default);
            for cert in t.certificates {
                let dup = into
                    .certificates
                    .iter()
                    .any(|c| c.cert_file == cert.cert_file && c.key_file == cert.key_file);
                if dup {
                    warnings.push(MergeWarning {
                        kind: "TLS certificate",
                        name: cert.cert_file.chars().take(40).collect(),
                        file: file.clone(),
                    });
                } else {
                    into.certificates.push(cert);
                }
            }
            merge_map(&mut into.options, t.options, "TLS options", &file, warnings);
            merge_map(&mut into.stores, t.stores, "TLS store", &file, warnings);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_definition_wins() {
        let a = load_dynamic(
            "http:\n  routers:\n    r: {rule: \"Host(`a`)\", service: s}\n",
            Format::Yaml,
            Some("a.yml".into()),
        );
        let b = load_dynamic(
            "[http.routers.r]\nrule = \"Host(`b`)\"\nservice = \"s\"\n[http.routers.q]\nrule = \"Path(`/`)\"\nservice = \"s\"\n",
            Format::Toml,
            Some("b.toml".into()),
        );
        assert!(
            !a.is_fatal() && !b.is_fatal(),
            "{:?} {:?}",
            a.diagnostics,
            b.diagnostics
        );
        let mut merged = a.config;
        let mut warnings = Vec::new();
        merged.merge_from(b.config, Some("b.toml".into()), &mut warnings);
        let routers = &merged.http.unwrap().routers;
        assert_eq!(routers["r"].rule, "Host(`a`)");
        assert_eq!(routers["q"].rule, "Path(`/`)");
        assert_eq!(warnings.len(), 1);
        assert_eq!(
            warnings[0].to_string(),
            "b.toml: HTTP router already configured, skipping: r"
        );
    }

    #[test]
    fn empty_document_is_empty_config() {
        let l = load_dynamic("# nothing\n", Format::Yaml, None);
        assert!(!l.is_fatal());
        assert_eq!(l.config, DynamicConfiguration::default());
    }

    #[test]
    fn errors_name_file_position_and_path() {
        let l = load_dynamic(
            "http:\n  routers:\n    r:\n      rule: \"Path(`/`)\"\n      servce: s\n",
            Format::Yaml,
            Some("d.yml".into()),
        );
        let e = &l.diagnostics[0];
        assert_eq!(
            e.to_string(),
            "d.yml:5:7: http.routers.r.servce: field not found, node: servce (did you mean \"service\"?)"
        );
    }
}
