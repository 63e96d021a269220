//! YAML documents into the [`Node`] tree, with Go yaml.v3's rules: YAML 1.2 core-schema scalars
//! (`yes`/`no` stay strings), anchors and aliases, `<<` merge keys, and duplicate keys as errors.

use std::collections::HashMap;

use saphyr_parser::{Event, Parser, ScalarStyle, ScanError, Span};

use super::node::{Entry, Node, Pos, ScalarKind, Value};

/// How deeply collections may nest before the document is refused.
const MAX_DEPTH: usize = 128;
/// How many nodes a document may expand to (aliases included) before it is refused.
const MAX_NODES: usize = 2_000_000;

/// A YAML syntax or structure error, with its position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct YamlError {
    /// Where the problem is.
    pub pos: Pos,
    /// What is wrong.
    pub message: String,
}

/// Parses the first YAML document of `text`. An empty document gives a [`Value::Null`] root.
pub fn parse(text: &str) -> Result<Node, YamlError> {
    let mut builder = Builder {
        parser: Parser::new_from_str(text),
        anchors: HashMap::new(),
        nodes: 0,
    };
    builder.document()
}

struct Builder<'a> {
    parser: Parser<'a, saphyr_parser::StrInput<'a>>,
    anchors: HashMap<usize, Node>,
    nodes: usize,
}

fn pos_of(span: &Span) -> Pos {
    Pos::new(span.start.line() as u32, span.start.col() as u32 + 1)
}

fn scan_error(e: ScanError) -> YamlError {
    YamlError {
        pos: Pos::new(e.marker().line() as u32, e.marker().col() as u32 + 1),
        message: e.info().to_string(),
    }
}

impl<'a> Builder<'a> {
    fn next(&mut self) -> Result<(Event<'a>, Span), YamlError> {
        match self.parser.next_event() {
            Some(Ok(ev)) => Ok(ev),
            Some(Err(e)) => Err(scan_error(e)),
            None => Err(YamlError {
                pos: Pos::default(),
                message: "unexpected end of YAML stream".into(),
            }),
        }
    }

    fn document(&mut self) -> Result<Node, YamlError> {
        loop {
            let (ev, span) = self.next()?;
            match ev {
                Event::StreamStart => continue,
                Event::StreamEnd => return Ok(Node::new(Value::Null, pos_of(&span))),
                Event::DocumentStart(_) => break,
                _ => {
                    return Err(YamlError {
                        pos: pos_of(&span),
                        message: "unexpected YAML event before the document".into(),
                    })
                }
            }
        }
        let (ev, span) = self.next()?;
        if matches!(ev, Event::DocumentEnd) {
            return Ok(Node::new(Value::Null, pos_of(&span)));
        }
        self.node(ev, span, 0)
    }

    fn count(&mut self, pos: Pos, n: usize) -> Result<(), YamlError> {
        self.nodes += n;
        if self.nodes > MAX_NODES {
            return Err(YamlError {
                pos,
                message: format!("document expands to more than {MAX_NODES} values"),
            });
        }
        Ok(())
    }

    fn node(&mut self, ev: Event<'a>, span: Span, depth: usize) -> Result<Node, YamlError> {
        let pos = pos_of(&span);
        if depth > MAX_DEPTH {
            return Err(YamlError {
                pos,
                message: format!("nesting deeper than {MAX_DEPTH} levels"),
            });
        }
        self.count(pos, 1)?;
        let (node, anchor) = match ev {
            Event::Alias(id) => {
                let Some(target) = self.anchors.get(&id).cloned() else {
                    return Err(YamlError {
                        pos,
                        message: "unknown anchor".into(),
                    });
                };
                self.count(pos, size_of_tree(&target))?;
                return Ok(Node::new(target.value, pos));
            }
            Event::Scalar(text, style, anchor, tag) => {
                let explicit_str = tag
                    .as_ref()
                    .is_some_and(|t| t.is_yaml_core_schema() && t.suffix == "str");
                let value = if style == ScalarStyle::Plain && !explicit_str {
                    resolve_plain(&text)
                } else {
                    Value::Scalar(text.into_owned(), ScalarKind::Str)
                };
                (Node::new(value, pos), anchor)
            }
            Event::SequenceStart(anchor, _) => {
                let mut items = Vec::new();
                loop {
                    let (ev, span) = self.next()?;
                    if matches!(ev, Event::SequenceEnd) {
                        break;
                    }
                    items.push(self.node(ev, span, depth + 1)?);
                }
                (Node::new(Value::Seq(items), pos), anchor)
            }
            Event::MappingStart(anchor, _) => (self.mapping(pos, depth)?, anchor),
            _ => {
                return Err(YamlError {
                    pos,
                    message: "unexpected YAML event".into(),
                })
            }
        };
        if anchor != 0 {
            self.anchors.insert(anchor, node.clone());
        }
        Ok(node)
    }

    fn mapping(&mut self, pos: Pos, depth: usize) -> Result<Node, YamlError> {
        let mut entries: Vec<Entry> = Vec::new();
        let mut seen: std::collections::HashMap<String, u32> = std::collections::HashMap::new();
        let mut merged: Vec<Entry> = Vec::new();
        loop {
            let (ev, span) = self.next()?;
            if matches!(ev, Event::MappingEnd) {
                break;
            }
            let key_pos = pos_of(&span);
            let is_merge = matches!(&ev, Event::Scalar(k, ScalarStyle::Plain, _, _) if k == "<<");
            let key_node = self.node(ev, span, depth + 1)?;
            let key = match key_node.value {
                Value::Scalar(s, _) => s,
                Value::Null => String::new(),
                _ => {
                    return Err(YamlError {
                        pos: key_pos,
                        message: "mapping keys must be scalars".into(),
                    })
                }
            };
            let (ev, span) = self.next()?;
            let value = self.node(ev, span, depth + 1)?;
            if is_merge {
                merge_into(&mut merged, value)?;
                continue;
            }
            if let Some(prev_line) = seen.get(&key) {
                return Err(YamlError {
                    pos: key_pos,
                    message: format!("mapping key \"{key}\" already defined at line {prev_line}"),
                });
            }
            seen.insert(key.clone(), key_pos.line);
            entries.push(Entry {
                key,
                key_pos,
                value,
            });
        }
        for m in merged {
            if !seen.contains_key(&m.key) {
                seen.insert(m.key.clone(), m.key_pos.line);
                entries.push(m);
            }
        }
        Ok(Node::new(Value::Map(entries), pos))
    }
}

/// Adds the entries of a `<<` value (a map, or a list of maps; earlier maps win) to `merged`.
fn merge_into(merged: &mut Vec<Entry>, value: Node) -> Result<(), YamlError> {
    let maps = match value.value {
        Value::Map(m) => vec![m],
        Value::Seq(items) => {
            let mut maps = Vec::new();
            for item in items {
                match item.value {
                    Value::Map(m) => maps.push(m),
                    _ => {
                        return Err(YamlError {
                            pos: item.pos,
                            message: "map merge requires map or sequence of maps as the value"
                                .into(),
                        })
                    }
                }
            }
            maps
        }
        _ => {
            return Err(YamlError {
                pos: value.pos,
                message: "map merge requires map or sequence of maps as the value".into(),
            })
        }
    };
    for map in maps {
        for entry in map {
            if !merged.iter().any(|e| e.key == entry.key) {
                merged.push(entry);
            }
        }
    }
    Ok(())
}

fn size_of_tree(node: &Node) -> usize {
    match &node.value {
        Value::Seq(items) => items.iter().map(size_of_tree).sum::<usize>() + 1,
        Value::Map(entries) => {
            entries
                .iter()
                .map(|e| size_of_tree(&e.value))
                .sum::<usize>()
                + 1
        }
        _ => 1,
    }
}

/// Resolves a plain scalar with the YAML 1.2 core schema (as Go's yaml.v3 does).
fn resolve_plain(text: &str) -> Value {
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return Value::Null,
        "true" | "True" | "TRUE" | "false" | "False" | "FALSE" => {
            return Value::Scalar(text.to_ascii_lowercase(), ScalarKind::Bool)
        }
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" | "-.inf" | "-.Inf" | "-.INF"
        | ".nan" | ".NaN" | ".NAN" => return Value::Scalar(text.to_string(), ScalarKind::Float),
        _ => {}
    }
    if let Some(int) = plain_int(text) {
        return Value::Scalar(int, ScalarKind::Int);
    }
    if is_plain_float(text) {
        return Value::Scalar(text.to_string(), ScalarKind::Float);
    }
    Value::Scalar(text.to_string(), ScalarKind::Str)
}

/// Recognises yaml.v3 integers (decimal, `0x`, `0o`, `0b`, with `_` separators) and returns
/// the decimal text.
fn plain_int(text: &str) -> Option<String> {
    let (neg, body) = match text.as_bytes().first()? {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    let cleaned: String = body.chars().filter(|c| *c != '_').collect();
    if cleaned.is_empty() {
        return None;
    }
    let (radix, digits) = if let Some(d) = cleaned.strip_prefix("0x") {
        (16, d)
    } else if let Some(d) = cleaned.strip_prefix("0o") {
        (8, d)
    } else if let Some(d) = cleaned.strip_prefix("0b") {
        (2, d)
    } else {
        (10, cleaned.as_str())
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    if radix == 10 {
        return Some(if neg {
            format!("-{digits}")
        } else {
            digits.to_string()
        });
    }
    let v = i128::from_str_radix(digits, radix).ok()?;
    Some(if neg { format!("-{v}") } else { v.to_string() })
}

fn is_plain_float(text: &str) -> bool {
    let t = text.strip_prefix(['-', '+']).unwrap_or(text);
    let (mantissa, exp) = match t.find(['e', 'E']) {
        Some(i) => (&t[..i], Some(&t[i + 1..])),
        None => (t, None),
    };
    let mut parts = mantissa.splitn(2, '.');
    let int_part = parts.next().unwrap_or("");
    let frac_part = parts.next();
    let digits = |s: &str| s.chars().all(|c| c.is_ascii_digit());
    let mantissa_ok = match frac_part {
        Some(f) => digits(int_part) && digits(f) && !(int_part.is_empty() && f.is_empty()),
        None => !int_part.is_empty() && digits(int_part),
    };
    let exp_ok = match exp {
        Some(e) => {
            let e = e.strip_prefix(['-', '+']).unwrap_or(e);
            !e.is_empty() && digits(e)
        }
        None => frac_part.is_some(),
    };
    mantissa_ok && exp_ok
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scalar(n: &Node) -> (&str, ScalarKind) {
        match &n.value {
            Value::Scalar(s, k) => (s, *k),
            other => panic!("not a scalar: {other:?}"),
        }
    }

    #[test]
    fn resolves_scalars_like_yaml_v3() {
        let n = parse("a: yes\nb: true\nc: 10\nd: '10'\ne: 1.5\nf:\ng: ~\nh: 0x1F\n").unwrap();
        assert_eq!(scalar(n.get("a").unwrap()), ("yes", ScalarKind::Str));
        assert_eq!(scalar(n.get("b").unwrap()), ("true", ScalarKind::Bool));
        assert_eq!(scalar(n.get("c").unwrap()), ("10", ScalarKind::Int));
        assert_eq!(scalar(n.get("d").unwrap()), ("10", ScalarKind::Str));
        assert_eq!(scalar(n.get("e").unwrap()), ("1.5", ScalarKind::Float));
        assert!(n.get("f").unwrap().is_null());
        assert!(n.get("g").unwrap().is_null());
        assert_eq!(scalar(n.get("h").unwrap()), ("31", ScalarKind::Int));
    }

    #[test]
    fn anchors_aliases_and_merges() {
        let text = "x: &base\n  a: 1\n  b: 2\ny:\n  <<: *base\n  b: 3\nz: *base\n";
        let n = parse(text).unwrap();
        let y = n.get("y").unwrap();
        assert_eq!(scalar(y.get("a").unwrap()).0, "1");
        assert_eq!(scalar(y.get("b").unwrap()).0, "3");
        assert_eq!(scalar(n.get("z").unwrap().get("b").unwrap()).0, "2");
    }

    #[test]
    fn duplicate_keys_are_errors() {
        let err = parse("a: 1\nb: 2\na: 3\n").unwrap_err();
        assert_eq!(err.pos.line, 3);
        assert!(
            err.message.contains("already defined at line 1"),
            "{}",
            err.message
        );
    }

    #[test]
    fn empty_document_is_null() {
        assert!(parse("").unwrap().is_null());
        assert!(parse("# only a comment\n").unwrap().is_null());
    }

    #[test]
    fn alias_bombs_are_refused() {
        let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..12 {
            let p = i - 1;
            text.push_str(&format!(
                "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
            ));
        }
        assert!(parse(&text).is_err());
    }

    #[test]
    fn syntax_errors_have_positions() {
        let err = parse("a: [1, 2\nb: c\n").unwrap_err();
        assert!(err.pos.line >= 1);
    }
}
