//! The folding layer between the untyped [`Node`] tree and the typed configuration model, with
//! Traefik's (paerser's) rules: field names match case-insensitively, scalars are coerced like Go's
//! `strconv`, a comma-separated string is accepted for any string list, null values are dropped,
//! and empty sections are refused unless the field allows them.
//!
//! Errors never stop decoding: each is recorded in the [`Cx`] with its file, position and key
//! path, so `trafficcop check` can print every problem at once.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::duration::Duration;
use super::error::{ConfigError, Severity};
use super::node::{Entry, Node, Pos, ScalarKind, Value};

/// The decoding context: where we are (file and key path) and what went wrong so far.
#[derive(Debug, Default)]
pub struct Cx {
    file: Option<Arc<str>>,
    path: Vec<String>,
    /// Every problem found, in order.
    pub diagnostics: Vec<ConfigError>,
}

impl Cx {
    /// A context for decoding `file` (or flags/env when `None`).
    pub fn new(file: Option<Arc<str>>) -> Self {
        Cx {
            file,
            path: Vec::new(),
            diagnostics: Vec::new(),
        }
    }

    /// The file being decoded.
    pub fn file(&self) -> Option<&Arc<str>> {
        self.file.as_ref()
    }

    /// Enters a key (or a `[i]` index) of the key path.
    pub fn push(&mut self, segment: impl Into<String>) {
        self.path.push(segment.into());
    }

    /// Leaves the innermost key of the key path.
    pub fn pop(&mut self) {
        self.path.pop();
    }

    /// The current key path, e.g. `http.services.s1.loadBalancer.servers[0].url`.
    pub fn path(&self) -> String {
        let mut out = String::new();
        for seg in &self.path {
            if !out.is_empty() && !seg.starts_with('[') {
                out.push('.');
            }
            out.push_str(seg);
        }
        out
    }

    /// The innermost key.
    pub fn last_key(&self) -> &str {
        self.path.last().map_or("", String::as_str)
    }

    /// Records a problem of the given severity at `pos` for the current key path.
    pub fn report(&mut self, severity: Severity, pos: Pos, message: impl Into<String>) {
        self.diagnostics.push(ConfigError {
            file: self.file.clone(),
            pos: Some(pos).filter(|p| p.line > 0),
            path: self.path(),
            message: message.into(),
            severity,
        });
    }

    /// Records a fatal error (Traefik refuses the whole file).
    pub fn error(&mut self, pos: Pos, message: impl Into<String>) {
        self.report(Severity::Fatal, pos, message);
    }

    /// Records a warning.
    pub fn warn(&mut self, pos: Pos, message: impl Into<String>) {
        self.report(Severity::Warning, pos, message);
    }

    /// Whether a fatal error has been recorded.
    pub fn has_fatal(&self) -> bool {
        self.diagnostics.iter().any(ConfigError::is_fatal)
    }

    /// The entries of a section, or `None` when there is nothing to decode (an empty section where
    /// allowed, or an error already recorded).
    pub fn section_entries<'n>(
        &mut self,
        node: &'n Node,
        allow_empty: bool,
    ) -> Option<&'n [Entry]> {
        match &node.value {
            Value::Map(entries) if entries.iter().any(|e| !e.value.is_null()) => Some(entries),
            Value::Map(_) | Value::Null => {
                if !allow_empty {
                    let key = self.last_key().to_string();
                    self.error(node.pos, format!("{key} cannot be a standalone element"));
                }
                None
            }
            Value::Scalar(..) if allow_empty => None,
            _ => {
                self.error(
                    node.pos,
                    format!("expected a map of settings, found {}", node.type_name()),
                );
                None
            }
        }
    }

    /// Records Traefik's `field not found` error for an unknown key, with a suggestion.
    pub fn unknown_field(&mut self, entry: &Entry, known: &[&str]) {
        self.push(entry.key.clone());
        let hint = closest(&entry.key, known)
            .map(|k| format!(" (did you mean \"{k}\"?)"))
            .unwrap_or_default();
        self.error(
            entry.key_pos,
            format!("field not found, node: {}{hint}", entry.key),
        );
        self.pop();
    }
}

/// The known name closest to `key` (edit distance at most 2 on lower-cased text).
fn closest<'a>(key: &str, known: &[&'a str]) -> Option<&'a str> {
    let key = key.to_ascii_lowercase();
    known
        .iter()
        .map(|k| (edit_distance(&key, &k.to_ascii_lowercase()), *k))
        .filter(|(d, _)| *d <= 2)
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

/// A type that Traefik's decoder can fill from a [`Node`].
pub trait Decode: Sized + Default {
    /// Decodes `node` into `slot`, which holds the current value (its defaults). Problems are
    /// recorded in `cx`. `allow_empty` is the field's `allowEmpty` tag.
    fn decode_into(slot: &mut Self, node: &Node, cx: &mut Cx, allow_empty: bool);

    /// Whether this is a section (a struct with named fields) rather than a scalar.
    fn is_section() -> bool {
        false
    }
}

/// The scalar text of `node`, or an error recorded for a list or map.
fn scalar<'n>(node: &'n Node, cx: &mut Cx, expected: &str) -> Option<(&'n str, ScalarKind)> {
    match &node.value {
        Value::Scalar(s, k) => Some((s, *k)),
        Value::Null => Some(("", ScalarKind::Str)),
        _ => {
            cx.error(
                node.pos,
                format!("expected {expected}, found {}", node.type_name()),
            );
            None
        }
    }
}

impl Decode for String {
    fn decode_into(slot: &mut Self, node: &Node, cx: &mut Cx, _: bool) {
        if let Some((s, _)) = scalar(node, cx, "a string") {
            *slot = s.to_string();
        }
    }
}

/// Go's `strconv.ParseBool`.
pub fn parse_go_bool(s: &str) -> Option<bool> {
    match s {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
        _ => None,
    }
}

impl Decode for bool {
    fn decode_into(slot: &mut Self, node: &Node, cx: &mut Cx, _: bool) {
        if let Some((s, _)) = scalar(node, cx, "a boolean") {
            match parse_go_bool(s.trim()) {
                Some(b) => *slot = b,
                None => cx.error(
                    node.pos,
                    format!("strconv.ParseBool: parsing \"{s}\": invalid syntax (expected true or false)"),
                ),
            }
        }
    }
}

macro_rules! decode_int {
    ($($t:ty),*) => {$(
        impl Decode for $t {
            fn decode_into(slot: &mut Self, node: &Node, cx: &mut Cx, _: bool) {
                if let Some((s, _)) = scalar(node, cx, "an integer") {
                    match s.trim().parse::<$t>() {
                        Ok(v) => *slot = v,
                        Err(e) => cx.error(
                            node.pos,
                            format!("strconv.ParseInt: parsing \"{s}\": {} (expected an integer)",
                                if matches!(e.kind(), std::num::IntErrorKind::PosOverflow | std::num::IntErrorKind::NegOverflow) { "value out of range" } else { "invalid syntax" }),
                        ),
                    }
                }
            }
        }
    )*};
}
decode_int!(i64, i32, u64, u32, u16, u8, usize);

impl Decode for f64 {
    fn decode_into(slot: &mut Self, node: &Node, cx: &mut Cx, _: bool) {
        if let Some((s, _)) = scalar(node, cx, "a number") {
            match s.trim().parse::<f64>() {
                Ok(v) => *slot = v,
                Err(_) => cx.error(
                    node.pos,
                    format!(
                        "strconv.ParseFloat: parsing \"{s}\": invalid syntax (expected a number)"
                    ),
                ),
            }
        }
    }
}

impl Decode for Duration {
    fn decode_into(slot: &mut Self, node: &Node, cx: &mut Cx, _: bool) {
        if let Some((s, _)) = scalar(node, cx, "a duration") {
            match Duration::parse_traefik(s) {
                Ok(d) => *slot = d,
                Err(e) => cx.error(
                    node.pos,
                    format!("{e} (expected seconds as an integer, or a Go duration such as 300ms or 1h30m)"),
                ),
            }
        }
    }
}

impl<T: Decode> Decode for Option<T> {
    fn decode_into(slot: &mut Self, node: &Node, cx: &mut Cx, allow_empty: bool) {
        if T::is_section() && allow_empty {
            if let Value::Scalar(s, _) = &node.value {
                // An allowEmpty section given a scalar: `true` enables it with its defaults,
                // anything else leaves it disabled.
                if s.eq_ignore_ascii_case("true") {
                    slot.get_or_insert_with(T::default);
                }
                return;
            }
        }
        let mut value = slot.take().unwrap_or_default();
        T::decode_into(&mut value, node, cx, allow_empty);
        *slot = Some(value);
    }

    fn is_section() -> bool {
        T::is_section()
    }
}

impl<T: Decode> Decode for Box<T> {
    fn decode_into(slot: &mut Self, node: &Node, cx: &mut Cx, allow_empty: bool) {
        T::decode_into(slot, node, cx, allow_empty);
    }

    fn is_section() -> bool {
        T::is_section()
    }
}

impl<T: Decode> Decode for Vec<T> {
    fn decode_into(slot: &mut Self, node: &Node, cx: &mut Cx, _: bool) {
        match &node.value {
            Value::Seq(items) => {
                let mut out = Vec::with_capacity(items.len());
                for (i, item) in items.iter().enumerate() {
                    cx.push(format!("[{i}]"));
                    let mut v = T::default();
                    if T::is_section() {
                        if let Some(entries) = item.as_map() {
                            if entries.iter().all(|e| e.value.is_null()) {
                                out.push(v);
                                cx.pop();
                                continue;
                            }
                        }
                    }
                    T::decode_into(&mut v, item, cx, false);
                    out.push(v);
                    cx.pop();
                }
                *slot = out;
            }
            Value::Scalar(s, _) if !T::is_section() => {
                // A single string is split on commas, as paerser does for every list.
                *slot = s
                    .split(',')
                    .map(|part| {
                        let mut v = T::default();
                        let piece = Node::new(
                            Value::Scalar(part.trim().to_string(), ScalarKind::Str),
                            node.pos,
                        );
                        T::decode_into(&mut v, &piece, cx, false);
                        v
                    })
                    .collect();
            }
            Value::Map(_) if T::is_section() => {
                // Traefik silently turns a map given for a list of sections into one element
                // with no field set.
                *slot = vec![T::default()];
            }
            Value::Null => {}
            _ => cx.error(
                node.pos,
                format!("expected a list, found {}", node.type_name()),
            ),
        }
    }
}

impl<T: Decode> Decode for BTreeMap<String, T> {
    fn decode_into(slot: &mut Self, node: &Node, cx: &mut Cx, allow_empty: bool) {
        let Some(entries) = cx.section_entries(node, allow_empty) else {
            return;
        };
        for entry in entries.iter().filter(|e| !e.value.is_null()) {
            if !T::is_section() {
                if let Value::Map(inner) = &entry.value.value {
                    // A map of scalars given nested keys (TOML `a.b.c = "x"`): paerser reads
                    // the dotted path as the key.
                    flatten_into(slot, &entry.key, inner, cx);
                    continue;
                }
            }
            cx.push(entry.key.clone());
            let value = slot.entry(entry.key.clone()).or_default();
            // An empty map entry (`[http.services.s1]`) is a value with no field set: Traefik
            // accepts it and reports the object's own error later.
            let empty = entry.value.as_map().is_some_and(|m| m.is_empty());
            if !empty {
                T::decode_into(value, &entry.value, cx, false);
            }
            cx.pop();
        }
    }
}

fn flatten_into<T: Decode>(
    slot: &mut BTreeMap<String, T>,
    prefix: &str,
    entries: &[Entry],
    cx: &mut Cx,
) {
    for e in entries.iter().filter(|e| !e.value.is_null()) {
        let key = format!("{prefix}.{}", e.key);
        match &e.value.value {
            Value::Map(inner) => flatten_into(slot, &key, inner, cx),
            _ => {
                cx.push(key.clone());
                T::decode_into(slot.entry(key).or_default(), &e.value, cx, false);
                cx.pop();
            }
        }
    }
}

/// Decodes one field of a section: enters its key, decodes, leaves.
pub fn decode_field<T: Decode>(
    slot: &mut T,
    key: &str,
    node: &Node,
    cx: &mut Cx,
    allow_empty: bool,
) {
    cx.push(key);
    T::decode_into(slot, node, cx, allow_empty);
    cx.pop();
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::yaml;

    fn decode<T: Decode>(text: &str) -> (T, Vec<ConfigError>) {
        let node = yaml::parse(text).unwrap();
        let mut cx = Cx::new(Some("t.yml".into()));
        let mut v = T::default();
        T::decode_into(&mut v, node.get("v").unwrap(), &mut cx, false);
        (v, cx.diagnostics)
    }

    #[test]
    fn bools_follow_go_parse_bool() {
        assert!(decode::<bool>("v: \"1\"").0);
        assert!(decode::<bool>("v: T").0);
        let (_, errs) = decode::<bool>("v: yes");
        assert_eq!(errs.len(), 1);
        assert!(
            errs[0].to_string().starts_with("t.yml:1:4: "),
            "{}",
            errs[0]
        );
    }

    #[test]
    fn ints_refuse_floats() {
        assert_eq!(decode::<i64>("v: \"10\"").0, 10);
        assert_eq!(decode::<i64>("v: 10.5").1.len(), 1);
    }

    #[test]
    fn string_lists_split_on_commas() {
        assert_eq!(
            decode::<Vec<String>>("v: web,websecure").0,
            vec!["web", "websecure"]
        );
        assert_eq!(decode::<Vec<String>>("v: [80, web]").0, vec!["80", "web"]);
    }

    #[test]
    fn durations() {
        assert_eq!(decode::<Duration>("v: 10").0, Duration::from_secs(10));
        assert_eq!(decode::<Duration>("v: 1m30s").0, Duration::from_secs(90));
        assert_eq!(decode::<Duration>("v: 10q").1.len(), 1);
    }

    #[test]
    fn maps_drop_nulls_and_refuse_empty() {
        let (m, errs) = decode::<BTreeMap<String, String>>("v: {a: x, b: }");
        assert_eq!(m.len(), 1);
        assert!(errs.is_empty());
        let (_, errs) = decode::<BTreeMap<String, String>>("v: {b: }");
        assert!(errs[0].message.contains("cannot be a standalone element"));
    }

    #[test]
    fn suggestions() {
        assert_eq!(
            closest("entrypoint", &["entryPoints", "rule"]),
            Some("entryPoints")
        );
        assert_eq!(closest("zzz", &["entryPoints", "rule"]), None);
    }
}
