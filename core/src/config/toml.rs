//! TOML documents into the [`Node`] tree (TOML 1.0 via the `toml` crate's spanned parser).

use toml::de::{DeTable, DeValue};
use toml::Spanned;

use super::node::{Entry, Node, Pos, ScalarKind, Value};

/// A TOML syntax error, with its position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TomlError {
    /// Where the problem is (0:0 when the parser gave no span).
    pub pos: Pos,
    /// What is wrong.
    pub message: String,
}

/// Maps byte offsets to 1-based line/column positions.
pub(crate) struct LineIndex {
    starts: Vec<usize>,
}

impl LineIndex {
    pub(crate) fn new(text: &str) -> Self {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        LineIndex { starts }
    }

    pub(crate) fn pos(&self, text: &str, offset: usize) -> Pos {
        let line = self.starts.partition_point(|&s| s <= offset).max(1);
        let start = self.starts[line - 1];
        let col = text
            .get(start..offset.min(text.len()))
            .map_or(0, |s| s.chars().count());
        Pos::new(line as u32, col as u32 + 1)
    }
}

/// Parses a TOML document.
pub fn parse(text: &str) -> Result<Node, TomlError> {
    let index = LineIndex::new(text);
    match DeTable::parse(text) {
        Ok(table) => {
            let pos = index.pos(text, table.span().start);
            Ok(Node::new(
                Value::Map(table_entries(table.into_inner(), text, &index)),
                pos,
            ))
        }
        Err(e) => Err(TomlError {
            pos: e
                .span()
                .map_or(Pos::default(), |s| index.pos(text, s.start)),
            message: e.message().trim().to_string(),
        }),
    }
}

/// Converts a table, consuming it so that the parser's tree is freed as ours is built.
fn table_entries(table: DeTable<'_>, text: &str, index: &LineIndex) -> Vec<Entry> {
    table
        .into_iter()
        .map(|(k, v)| Entry {
            key_pos: index.pos(text, k.span().start),
            key: k.into_inner().into_owned(),
            value: convert(v, text, index),
        })
        .collect()
}

fn convert(value: Spanned<DeValue<'_>>, text: &str, index: &LineIndex) -> Node {
    let pos = index.pos(text, value.span().start);
    let v = match value.into_inner() {
        DeValue::String(s) => Value::Scalar(s.into_owned(), ScalarKind::Str),
        DeValue::Integer(i) => {
            let digits: String = i.as_str().chars().filter(|c| *c != '_').collect();
            let text = i128::from_str_radix(&digits, i.radix())
                .map(|v| v.to_string())
                .unwrap_or(digits);
            Value::Scalar(text, ScalarKind::Int)
        }
        DeValue::Float(f) => Value::Scalar(f.as_str().replace('_', ""), ScalarKind::Float),
        DeValue::Boolean(b) => Value::Scalar(b.to_string(), ScalarKind::Bool),
        DeValue::Datetime(d) => Value::Scalar(d.to_string(), ScalarKind::DateTime),
        DeValue::Array(items) => {
            Value::Seq(items.into_iter().map(|v| convert(v, text, index)).collect())
        }
        DeValue::Table(t) => Value::Map(table_entries(t, text, index)),
    };
    Node::new(v, pos)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_and_positions() {
        let text = "[http.routers.r1]\n  rule = \"Host(`a`)\"\n  priority = 1_0\n";
        let n = parse(text).unwrap();
        let r1 = n
            .get("http")
            .unwrap()
            .get("routers")
            .unwrap()
            .get("r1")
            .unwrap();
        let rule = r1.get("rule").unwrap();
        assert_eq!(rule.as_scalar(), Some("Host(`a`)"));
        assert_eq!(rule.pos, Pos::new(2, 10));
        assert_eq!(r1.get("priority").unwrap().as_scalar(), Some("10"));
    }

    #[test]
    fn duplicate_keys_are_errors() {
        let err = parse("a = 1\na = 2\n").unwrap_err();
        assert_eq!(err.pos.line, 2);
    }

    #[test]
    fn arrays_of_tables() {
        let n = parse("[[s]]\nurl = \"a\"\n[[s]]\nurl = \"b\"\n").unwrap();
        match &n.get("s").unwrap().value {
            Value::Seq(items) => assert_eq!(items.len(), 2),
            other => panic!("{other:?}"),
        }
    }
}
