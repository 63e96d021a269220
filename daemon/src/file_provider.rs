//! The file provider's IO: reading `filename`, or `directory` recursively in sorted order
//! (sub-directories at their name's position), and polling for changes for `watch`.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use trafficcop_core::config::file_provider::{
    is_provider_file, load_files, FileProviderLoad, ProviderFile,
};
use trafficcop_core::config::static_config::FileProvider;
use trafficcop_core::config::ConfigError;

/// The files the provider reads, in Traefik's order.
pub fn provider_paths(p: &FileProvider) -> Result<Vec<PathBuf>, String> {
    if !p.directory.is_empty() {
        let mut out = Vec::new();
        walk(Path::new(&p.directory), &mut out)?;
        Ok(out)
    } else if !p.filename.is_empty() {
        Ok(vec![PathBuf::from(&p.filename)])
    } else {
        Err(
            "error using file configuration provider, neither filename nor directory is defined"
                .into(),
        )
    }
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), String> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .map_err(|e| format!("unable to read directory {}: {e}", dir.display()))?
        .filter_map(Result::ok)
        .collect();
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let path = e.path();
        if path.is_dir() {
            walk(&path, out)?;
        } else if is_provider_file(&e.file_name().to_string_lossy()) {
            out.push(path);
        }
    }
    Ok(())
}

/// Reads and loads the provider's files. Read errors are fatal diagnostics.
pub fn load(p: &FileProvider) -> FileProviderLoad {
    let paths = match provider_paths(p) {
        Ok(paths) => paths,
        Err(e) => {
            return FileProviderLoad {
                diagnostics: vec![ConfigError::fatal("providers.file", e)],
                ..FileProviderLoad::default()
            }
        }
    };
    let mut files = Vec::new();
    let mut errors = Vec::new();
    for path in paths {
        match std::fs::read_to_string(&path) {
            Ok(text) => files.push(ProviderFile {
                path: path.display().to_string().into(),
                text,
            }),
            Err(e) => errors.push(ConfigError::fatal(
                "providers.file",
                format!("{}: {e}", path.display()),
            )),
        }
    }
    let env = |k: &str| std::env::var(k).ok();
    let mut load = load_files(&files, &env);
    load.diagnostics.extend(errors);
    load
}

/// What identifies one version of a file: size, modification and change times, inode, and for
/// small files a hash of the content (coarse file-system clocks can give two writes in a row the
/// same times and size).
pub type FileStamp = (PathBuf, u64, Option<SystemTime>, u64, i64, u64);

/// A fingerprint of the provider's files, for polling.
pub fn fingerprint(p: &FileProvider) -> Vec<FileStamp> {
    use std::hash::{Hash, Hasher};
    use std::os::unix::fs::MetadataExt;
    provider_paths(p)
        .unwrap_or_default()
        .into_iter()
        .map(|path| {
            let meta = std::fs::metadata(&path).ok();
            let size = meta.as_ref().map_or(0, |m| m.len());
            let mtime = meta.as_ref().and_then(|m| m.modified().ok());
            let ino = meta.as_ref().map_or(0, |m| m.ino());
            let ctime = meta
                .as_ref()
                .map_or(0, |m| m.ctime_nsec() + m.ctime() * 1_000_000_000);
            let content = if size <= 256 * 1024 {
                let mut h = std::collections::hash_map::DefaultHasher::new();
                std::fs::read(&path).unwrap_or_default().hash(&mut h);
                h.finish()
            } else {
                0
            };
            (path, size, mtime, ino, ctime, content)
        })
        .collect()
}
