//! Conformance runners over `../shared` (Traefik's reference configurations and test cases), and
//! the compatibility table `COMPATIBILITY.md`.
//!
//! The shared data is read at test time from the directory named by `TRAFFICCOP_SHARED`
//! (default: `../shared` beside the repository root); tests skip with a message when it is
//! absent.

use std::path::{Path, PathBuf};

/// The directory holding the shared reference data, if present.
pub fn shared_dir() -> Option<PathBuf> {
    let dir = match std::env::var_os("TRAFFICCOP_SHARED") {
        Some(d) => PathBuf::from(d),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared"),
    };
    dir.is_dir().then(|| dir.canonicalize().unwrap_or(dir))
}

/// The shared directory, or `None` after printing why the calling test is skipped.
pub fn shared_or_skip(test: &str) -> Option<PathBuf> {
    let dir = shared_dir();
    if dir.is_none() {
        eprintln!(
            "SKIPPED {test}: shared reference data not found (set TRAFFICCOP_SHARED or place it at ../shared)"
        );
    }
    dir
}

pub mod fixtures;
