//! Traefik v3 configuration: the model (static and dynamic), and loading it from YAML or TOML
//! with Traefik's decoding rules.
//!
//! Loading is two steps, as in Traefik's paerser: the document is parsed into an untyped
//! [`node::Node`] tree ([`yaml`], [`toml`]), then folded into the typed model by [`decode`]
//! (case-insensitive keys, Go scalar coercion, empty-section rules). Nothing here does IO: the
//! daemon reads files and hands their text in.

#[macro_use]
pub mod macros;

pub mod decode;
pub mod duration;
pub mod dynamic;
pub mod error;
pub mod file_or_content;
pub mod file_provider;
pub mod node;
pub mod sources;
pub mod static_config;
pub mod toml;
pub mod types;
pub mod validate;
pub mod yaml;

mod any;
mod document;
pub mod template;

pub use any::{AnyValue, EmptySection};
pub use document::{parse_document, Format};
pub use duration::Duration;
pub use error::{ConfigError, Diagnostics, Severity};

/// What every model file needs in scope.
pub(crate) mod prelude {
    pub use super::any::{AnyValue, EmptySection};
    pub use super::duration::Duration;
    pub use super::types::*;
    #[allow(unused_imports)]
    pub use crate::section;
    pub use std::collections::BTreeMap;
}
