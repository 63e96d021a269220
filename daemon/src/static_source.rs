//! Where the static configuration comes from, exactly as Traefik decides: `--configFile` (a
//! missing one is silently skipped), then `/etc/traefik`, `$XDG_CONFIG_HOME`, `$HOME/.config`
//! and the working directory for `traefik.{toml,yaml,yml}` (`trafficcop.*` is accepted too);
//! a file found wins and flags and environment variables are ignored; otherwise flags when any
//! argument was given; otherwise `TRAEFIK_*` variables. The three never merge.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use trafficcop_core::config::decode::Cx;
use trafficcop_core::config::sources::{parse_env, parse_flags};
use trafficcop_core::config::static_config::{
    load_static, load_static_node, StaticConfiguration, StaticLoad,
};
use trafficcop_core::config::{ConfigError, Format};

/// Which source the static configuration came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// A configuration file (absolute path).
    File(PathBuf),
    /// Command-line flags.
    Flags,
    /// `TRAEFIK_*` environment variables.
    Env,
}

/// The loaded static configuration and where it came from.
pub struct Loaded {
    /// The source used.
    pub source: Source,
    /// The configuration and its diagnostics.
    pub load: StaticLoad,
}

/// Expands `$VAR` and `${VAR}` in a path, as Go's `os.ExpandEnv`.
fn expand_env(s: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        let (name, used) = if let Some(inner) = after.strip_prefix('{') {
            match inner.find('}') {
                Some(end) => (&inner[..end], end + 2),
                None => ("", 0),
            }
        } else {
            let end = after
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(after.len());
            (&after[..end], end)
        };
        if used == 0 {
            out.push('$');
            rest = after;
            continue;
        }
        out.push_str(&std::env::var(name).unwrap_or_default());
        rest = &after[used..];
    }
    out.push_str(rest);
    out
}

/// The candidate configuration files, in search order.
pub fn candidates(explicit: Option<&str>) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = vec![PathBuf::from("/etc/traefik")];
    if let Ok(x) = std::env::var("XDG_CONFIG_HOME") {
        if !x.is_empty() {
            dirs.push(PathBuf::from(x));
        }
    }
    if let Ok(h) = std::env::var("HOME") {
        if !h.is_empty() {
            dirs.push(Path::new(&h).join(".config"));
        }
    }
    dirs.push(PathBuf::from("."));
    let mut out = Vec::new();
    if let Some(f) = explicit {
        out.push(PathBuf::from(expand_env(f)));
    }
    for dir in dirs {
        for base in ["traefik", "trafficcop"] {
            for ext in ["toml", "yaml", "yml"] {
                out.push(dir.join(format!("{base}.{ext}")));
            }
        }
    }
    out
}

/// Loads the static configuration from `args` (after the sub-command) and the process
/// environment.
pub fn load(args: &[String]) -> Result<Loaded, Vec<ConfigError>> {
    let flags = parse_flags(args);
    let found = candidates(flags.config_file.as_deref())
        .into_iter()
        .find(|p| p.is_file());
    if let Some(path) = found {
        let abs = std::fs::canonicalize(&path).unwrap_or(path);
        let name: Arc<str> = abs.display().to_string().into();
        let Some(format) = Format::from_path(&name) else {
            return Err(vec![ConfigError::fatal(
                "",
                format!("unsupported file extension: {name}"),
            )]);
        };
        let text = std::fs::read_to_string(&abs).map_err(|e| {
            vec![ConfigError::fatal(
                "",
                format!("failed to read {name}: {e}"),
            )]
        })?;
        return Ok(Loaded {
            source: Source::File(abs),
            load: load_static(&text, format, Some(name)),
        });
    }
    let mut config = StaticConfiguration::process_defaults();
    if flags.any {
        if !flags.errors.is_empty() {
            return Err(flags
                .errors
                .into_iter()
                .map(|e| ConfigError::fatal("", e))
                .collect());
        }
        let mut cx = Cx::new(Some("<flags>".into()));
        load_static_node(&flags.tree, &mut config, &mut cx, "flags");
        return Ok(Loaded {
            source: Source::Flags,
            load: StaticLoad {
                config,
                diagnostics: cx.diagnostics,
            },
        });
    }
    let vars: Vec<(String, String)> = std::env::vars().collect();
    let (tree, _) = parse_env(&vars);
    let mut cx = Cx::new(Some("<env>".into()));
    load_static_node(&tree, &mut config, &mut cx, "environment variables");
    // An environment without TRAEFIK_* variables is the all-defaults configuration.
    cx.diagnostics
        .retain(|d| !d.message.starts_with("no valid configuration found"));
    config.set_effective();
    Ok(Loaded {
        source: Source::Env,
        load: StaticLoad {
            config,
            diagnostics: cx.diagnostics,
        },
    })
}
