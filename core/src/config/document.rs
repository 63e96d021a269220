//! Choosing the parser for a document and decoding the two roots (static, dynamic), where
//! Traefik silently drops unknown top-level keys (so YAML `x-anchors:` blocks are legal).

use std::sync::Arc;

use super::decode::{Cx, Decode};
use super::error::{ConfigError, Severity};
use super::node::{Node, Value};

/// A configuration file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// YAML (`.yml`, `.yaml`); JSON documents are YAML too.
    Yaml,
    /// TOML (`.toml`).
    Toml,
}

impl Format {
    /// The format for a file name's extension (case-insensitive), as Traefik accepts them.
    pub fn from_path(path: &str) -> Option<Format> {
        let ext = path.rsplit_once('.')?.1.to_ascii_lowercase();
        match ext.as_str() {
            "yml" | "yaml" | "json" => Some(Format::Yaml),
            "toml" => Some(Format::Toml),
            _ => None,
        }
    }
}

/// Parses `text` into the untyped tree. A syntax error is returned as a fatal [`ConfigError`]
/// naming `file` and the position.
pub fn parse_document(
    text: &str,
    format: Format,
    file: Option<&Arc<str>>,
) -> Result<Node, ConfigError> {
    let (pos, message) = match format {
        Format::Yaml => match super::yaml::parse(text) {
            Ok(n) => return Ok(n),
            Err(e) => (e.pos, format!("yaml: {}", e.message)),
        },
        Format::Toml => match super::toml::parse(text) {
            Ok(n) => return Ok(n),
            Err(e) => (e.pos, format!("toml: {}", e.message)),
        },
    };
    Err(ConfigError {
        file: file.cloned(),
        pos: Some(pos).filter(|p| p.line > 0),
        path: String::new(),
        message,
        severity: Severity::Fatal,
    })
}

/// Decodes a root document over `value`, keeping only the top-level keys in `keys`
/// (case-insensitive) as Traefik does. Returns whether any known key had a value.
pub(crate) fn decode_root<T: Decode>(
    root: &Node,
    keys: &[&str],
    value: &mut T,
    cx: &mut Cx,
) -> bool {
    let entries: Vec<_> = match &root.value {
        Value::Map(entries) => entries
            .iter()
            .filter(|e| !e.value.is_null() && keys.iter().any(|k| k.eq_ignore_ascii_case(&e.key)))
            .cloned()
            .collect(),
        Value::Null => Vec::new(),
        _ => {
            cx.error(
                root.pos,
                format!(
                    "expected a map at the top level, found {}",
                    root.type_name()
                ),
            );
            return false;
        }
    };
    if entries.is_empty() {
        return false;
    }
    T::decode_into(value, &Node::new(Value::Map(entries), root.pos), cx, false);
    true
}
