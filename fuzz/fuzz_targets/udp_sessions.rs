//! The worker's UDP sessions driven by an arbitrary script: see `udp_sessions_check.rs`.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "udp_sessions_check.rs"]
mod udp_sessions_check;

fuzz_target!(|data: &[u8]| udp_sessions_check::check(data));
