//! The untyped configuration tree that YAML and TOML documents are parsed into.
//!
//! Traefik's decoder (paerser) first turns every document into a generic tree and only then fills the
//! typed structures, matching keys case-insensitively. [`Node`] is that tree: it keeps each value's
//! source position so that every later error can name the file, line and column.

use std::fmt;

/// A 1-based line and column in a configuration file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, PartialOrd, Ord, Hash)]
pub struct Pos {
    /// 1-based line number (0 when unknown).
    pub line: u32,
    /// 1-based column number (0 when unknown).
    pub col: u32,
}

impl Pos {
    /// A position with the given 1-based line and column.
    pub fn new(line: u32, col: u32) -> Self {
        Pos { line, col }
    }
}

impl fmt::Display for Pos {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.col)
    }
}

/// The kind of a scalar as the source format wrote it (YAML plain scalars are resolved with the
/// YAML 1.2 core schema as Go's yaml.v3 does; TOML values keep their TOML type).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScalarKind {
    /// A string (quoted, or a plain YAML scalar that is not a number, bool or null).
    Str,
    /// An integer literal.
    Int,
    /// A floating-point literal.
    Float,
    /// A boolean literal.
    Bool,
    /// A TOML date/time literal.
    DateTime,
}

/// A value in the configuration tree.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// YAML `~`, `null` or an empty value: Traefik drops such keys before decoding.
    Null,
    /// A scalar with its textual form (booleans as `true`/`false`).
    Scalar(String, ScalarKind),
    /// A sequence (YAML sequence, TOML array).
    Seq(Vec<Node>),
    /// A mapping, in source order (YAML mapping, TOML table).
    Map(Vec<Entry>),
}

/// One `key: value` entry of a mapping.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// The key as written (map keys keep their case).
    pub key: String,
    /// Where the key was written.
    pub key_pos: Pos,
    /// The value.
    pub value: Node,
}

/// A value with its position in the source.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// The value.
    pub value: Value,
    /// Where the value starts.
    pub pos: Pos,
}

impl Node {
    /// A node holding `value` at `pos`.
    pub fn new(value: Value, pos: Pos) -> Self {
        Node { value, pos }
    }

    /// Whether this is a null value (dropped by Traefik's decoder).
    pub fn is_null(&self) -> bool {
        matches!(self.value, Value::Null)
    }

    /// The scalar text, if this is a scalar.
    pub fn as_scalar(&self) -> Option<&str> {
        match &self.value {
            Value::Scalar(s, _) => Some(s),
            _ => None,
        }
    }

    /// The entries, if this is a mapping.
    pub fn as_map(&self) -> Option<&[Entry]> {
        match &self.value {
            Value::Map(m) => Some(m),
            _ => None,
        }
    }

    /// Looks up a key case-insensitively in a mapping.
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.as_map()?
            .iter()
            .find(|e| e.key.eq_ignore_ascii_case(key))
            .map(|e| &e.value)
    }

    /// The position of the value at a key path (keys matched case-insensitively), or of the
    /// deepest key found on the way.
    pub fn pos_at(&self, path: &[&str]) -> Pos {
        let mut node = self;
        let mut pos = self.pos;
        for key in path {
            let Some(entry) = node
                .as_map()
                .and_then(|m| m.iter().find(|e| e.key.eq_ignore_ascii_case(key)))
            else {
                break;
            };
            pos = entry.key_pos;
            node = &entry.value;
        }
        pos
    }

    /// Whether two trees hold the same values, ignoring source positions.
    pub fn same_value(&self, other: &Node) -> bool {
        match (&self.value, &other.value) {
            (Value::Seq(a), Value::Seq(b)) => {
                a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.same_value(y))
            }
            (Value::Map(a), Value::Map(b)) => {
                a.len() == b.len()
                    && a.iter().all(|x| {
                        b.iter()
                            .any(|y| y.key == x.key && y.value.same_value(&x.value))
                    })
            }
            (a, b) => a == b,
        }
    }

    /// A short description of the node's type for error messages.
    pub fn type_name(&self) -> &'static str {
        match &self.value {
            Value::Null => "null",
            Value::Scalar(..) => "a scalar",
            Value::Seq(_) => "a list",
            Value::Map(_) => "a map",
        }
    }
}
