//! Configuration problems: every one names the file, the position and the key path.

use std::fmt;
use std::sync::Arc;

use super::node::Pos;

/// How serious a configuration problem is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    /// Informational: something is ignored (e.g. an out-of-scope provider section).
    Warning,
    /// Traefik disables one object (router, service, middleware) and keeps the rest working.
    ObjectError,
    /// Traefik refuses the whole file (parse errors, unknown keys, wrong types).
    Fatal,
}

/// One configuration problem.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// The file the problem is in (`None` for flags, environment variables or generated config).
    pub file: Option<Arc<str>>,
    /// Where in the file, when known.
    pub pos: Option<Pos>,
    /// The key path, e.g. `http.routers.web.rule`.
    pub path: String,
    /// What is wrong.
    pub message: String,
    /// How serious it is.
    pub severity: Severity,
}

impl ConfigError {
    /// A fatal error at `path` without file information.
    pub fn fatal(path: impl Into<String>, message: impl Into<String>) -> Self {
        ConfigError {
            file: None,
            pos: None,
            path: path.into(),
            message: message.into(),
            severity: Severity::Fatal,
        }
    }

    /// Whether Traefik would refuse the configuration because of this problem.
    pub fn is_fatal(&self) -> bool {
        self.severity == Severity::Fatal
    }
}

impl fmt::Display for ConfigError {
    /// Formats as `file:line:col: key.path: message`, leaving out the parts that are unknown.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(file) = &self.file {
            write!(f, "{file}:")?;
            if let Some(pos) = self.pos {
                write!(f, "{}:{}:", pos.line, pos.col)?;
            }
            f.write_str(" ")?;
        } else if let Some(pos) = self.pos {
            write!(f, "{}:{}: ", pos.line, pos.col)?;
        }
        if !self.path.is_empty() {
            write!(f, "{}: ", self.path)?;
        }
        if self.severity == Severity::Warning {
            f.write_str("warning: ")?;
        }
        f.write_str(&self.message)
    }
}

impl std::error::Error for ConfigError {}

/// A list of configuration problems, in the order they were found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Diagnostics(pub Vec<ConfigError>);

impl Diagnostics {
    /// Whether any problem is fatal.
    pub fn has_fatal(&self) -> bool {
        self.0.iter().any(ConfigError::is_fatal)
    }

    /// The fatal problems.
    pub fn fatal(&self) -> impl Iterator<Item = &ConfigError> {
        self.0.iter().filter(|e| e.is_fatal())
    }
}

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}
