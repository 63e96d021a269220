//! The other two static configuration sources, CLI flags and `TRAEFIK_*` environment variables,
//! turned into the same [`Node`] tree a file gives, so that one decoder serves all three.
//!
//! Paths are dot-separated (`--entryPoints.web.address=:80`) or underscore-separated after the
//! prefix (`TRAEFIK_ENTRYPOINTS_WEB_ADDRESS=:80`); `name[0]` indexes a list of sections; a flag
//! without a value means `true`; a repeated flag's values are concatenated.

use super::node::{Entry, Node, Pos, ScalarKind, Value};
use super::static_config::StaticConfiguration;

/// Flags the decoder does not see: they only select the configuration file.
const FILE_FLAGS: &[&str] = &["configfile"];

/// The parsed command line: the configuration file flag and the configuration tree.
#[derive(Debug, Clone, Default)]
pub struct Flags {
    /// `--configFile` (or `--configfile`).
    pub config_file: Option<String>,
    /// The configuration given by flags (a map; empty when there were no configuration flags).
    pub tree: Node,
    /// Whether any argument was given at all (then flags win over environment variables).
    pub any: bool,
    /// Problems: unknown top-level keys, stray arguments.
    pub errors: Vec<String>,
}

impl Default for Node {
    fn default() -> Self {
        Node::new(Value::Map(Vec::new()), Pos::default())
    }
}

fn known_root(key: &str) -> bool {
    StaticConfiguration::KEYS
        .iter()
        .any(|k| k.eq_ignore_ascii_case(key))
}

/// Parses configuration flags (`args` excludes the program name and sub-command).
pub fn parse_flags(args: &[String]) -> Flags {
    let mut flags = Flags {
        any: !args.is_empty(),
        ..Flags::default()
    };
    let mut pairs: Vec<(String, String)> = Vec::new();
    let mut i = 0;
    while i < args.len() {
        let arg = &args[i];
        i += 1;
        if arg == "--" {
            break;
        }
        let Some(body) = arg.strip_prefix("--").or_else(|| arg.strip_prefix('-')) else {
            flags.errors.push(format!("unexpected argument: {arg}"));
            continue;
        };
        let (key, value) = match body.split_once('=') {
            Some((k, v)) => (k.to_string(), v.to_string()),
            None if FILE_FLAGS.contains(&body.to_ascii_lowercase().as_str()) && i < args.len() => {
                i += 1;
                (body.to_string(), args[i - 1].clone())
            }
            None => (body.to_string(), "true".to_string()),
        };
        if FILE_FLAGS.contains(&key.to_ascii_lowercase().as_str()) {
            if key == "configFile" || key == "configfile" {
                flags.config_file = Some(value);
            }
            continue;
        }
        pairs.push((key, value));
    }
    for (key, value) in pairs {
        let segments: Vec<String> = key.split('.').map(str::to_string).collect();
        if !known_root(&segments[0]) {
            flags.errors.push(format!(
                "failed to decode configuration from flags: field not found, node: {}",
                segments[0]
            ));
            continue;
        }
        insert(&mut flags.tree, &segments, value);
    }
    finish(&mut flags.tree);
    flags
}

/// Builds the configuration tree from `TRAEFIK_*` variables (`vars` as name/value pairs).
/// Returns the tree and whether any variable was used.
pub fn parse_env(vars: &[(String, String)]) -> (Node, bool) {
    let mut tree = Node::default();
    let mut any = false;
    for (name, value) in vars {
        let Some(rest) = name.strip_prefix("TRAEFIK_") else {
            continue;
        };
        let lower = rest.to_ascii_lowercase();
        let segments: Vec<String> = lower.split('_').map(str::to_string).collect();
        if !rest.starts_with(|c: char| c.is_ascii_uppercase())
            || !known_root(&segments[0])
            || FILE_FLAGS.contains(&segments[0].as_str())
        {
            continue;
        }
        insert(&mut tree, &segments, value.clone());
        any = true;
    }
    finish(&mut tree);
    (tree, any)
}

fn scalar(v: String) -> Node {
    Node::new(Value::Scalar(v, ScalarKind::Str), Pos::default())
}

/// Inserts `value` at `path`, splitting `name[i]` segments into a key and an index key `[i]`.
fn insert(tree: &mut Node, path: &[String], value: String) {
    let mut parts: Vec<String> = Vec::new();
    for seg in path {
        match seg.find('[') {
            Some(open) if seg.ends_with(']') => {
                parts.push(seg[..open].to_string());
                parts.push(seg[open..].to_string());
            }
            _ => parts.push(seg.clone()),
        }
    }
    let mut node = tree;
    for (i, part) in parts.iter().enumerate() {
        let last = i + 1 == parts.len();
        if !matches!(node.value, Value::Map(_)) {
            node.value = Value::Map(Vec::new());
        }
        let Value::Map(entries) = &mut node.value else {
            unreachable!()
        };
        let idx = match entries
            .iter()
            .position(|e| e.key.eq_ignore_ascii_case(part))
        {
            Some(idx) => idx,
            None => {
                entries.push(Entry {
                    key: part.clone(),
                    key_pos: Pos::default(),
                    value: if last {
                        scalar(String::new())
                    } else {
                        Node::default()
                    },
                });
                entries.len() - 1
            }
        };
        let child = &mut entries[idx].value;
        if last {
            match &mut child.value {
                Value::Scalar(existing, _) if !existing.is_empty() => {
                    existing.push(',');
                    existing.push_str(&value);
                }
                _ => *child = scalar(value.clone()),
            }
            return;
        }
        node = child;
    }
}

/// Turns maps whose keys are all `[i]` into lists, recursively.
fn finish(node: &mut Node) {
    if let Value::Map(entries) = &mut node.value {
        for e in entries.iter_mut() {
            finish(&mut e.value);
        }
        let all_indices = !entries.is_empty()
            && entries
                .iter()
                .all(|e| e.key.starts_with('[') && e.key.ends_with(']'));
        if all_indices {
            let mut items: Vec<(usize, Node)> = entries
                .drain(..)
                .map(|e| {
                    (
                        e.key[1..e.key.len() - 1].parse().unwrap_or(usize::MAX),
                        e.value,
                    )
                })
                .collect();
            items.sort_by_key(|(i, _)| *i);
            node.value = Value::Seq(items.into_iter().map(|(_, n)| n).collect());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::decode::Cx;
    use crate::config::static_config::load_static_node;

    fn load(root: &Node) -> (StaticConfiguration, Vec<crate::config::ConfigError>) {
        let mut cfg = StaticConfiguration::process_defaults();
        let mut cx = Cx::new(None);
        load_static_node(root, &mut cfg, &mut cx, "flags");
        (cfg, cx.diagnostics)
    }

    #[test]
    fn flags_build_the_same_model() {
        let args: Vec<String> = [
            "--entryPoints.WebSecure.address=:443",
            "--entrypoints.websecure.http.tls",
            "--entryPoints.websecure.http.tls.domains[0].main=example.com",
            "--entryPoints.websecure.http.tls.domains[0].sans=*.example.com,www.example.com",
            "--providers.file.directory=dir",
            "--api",
            "--configFile=x.yml",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let f = parse_flags(&args);
        assert!(f.errors.is_empty(), "{:?}", f.errors);
        assert_eq!(f.config_file.as_deref(), Some("x.yml"));
        let (cfg, diags) = load(&f.tree);
        assert!(diags.iter().all(|d| !d.is_fatal()), "{diags:?}");
        let ep = &cfg.entry_points["WebSecure"];
        assert_eq!(ep.address, ":443");
        let tls = ep.http.tls.as_ref().unwrap();
        assert_eq!(tls.domains[0].main, "example.com");
        assert_eq!(
            tls.domains[0].sans,
            vec!["*.example.com", "www.example.com"]
        );
        assert_eq!(cfg.providers.unwrap().file.unwrap().directory, "dir");
        assert!(cfg.api.is_some());
    }

    #[test]
    fn unknown_flags_are_errors() {
        let f = parse_flags(&["--nope.x=1".to_string()]);
        assert_eq!(f.errors.len(), 1);
        let f = parse_flags(&["--entryPoints.web.adress=:80".to_string()]);
        let (_, diags) = load(&f.tree);
        assert!(diags
            .iter()
            .any(|d| d.is_fatal() && d.message.contains("adress")));
    }

    #[test]
    fn env_vars_lower_case_map_keys() {
        let vars = vec![
            (
                "TRAEFIK_ENTRYPOINTS_WEBSECURE_ADDRESS".to_string(),
                ":8443".to_string(),
            ),
            ("TRAEFIK_API_INSECURE".to_string(), "true".to_string()),
            ("traefik_api_debug".to_string(), "true".to_string()),
            ("HOME".to_string(), "/root".to_string()),
        ];
        let (tree, any) = parse_env(&vars);
        assert!(any);
        let (cfg, diags) = load(&tree);
        assert!(diags.iter().all(|d| !d.is_fatal()), "{diags:?}");
        assert_eq!(cfg.entry_points["websecure"].address, ":8443");
        let api = cfg.api.unwrap();
        assert!(api.insecure && !api.debug);
    }
}
