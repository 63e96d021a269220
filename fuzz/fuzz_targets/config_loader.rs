//! Arbitrary bytes to the configuration loaders (static and dynamic, YAML and TOML, Go
//! templates), validation and compilation: nothing may panic, and alias expansion, nesting and
//! template work are bounded.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "config_loader_check.rs"]
mod config_loader_check;

fuzz_target!(|data: &[u8]| config_loader_check::check(data));
