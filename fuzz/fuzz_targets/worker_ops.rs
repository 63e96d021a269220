//! A whole worker driven by an arbitrary script over several client and backend connections
//! (HTTP/1.1 and `h2c://` backends): see `worker_ops_check.rs`.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "worker_ops_check.rs"]
mod worker_ops_check;

fuzz_target!(|data: &[u8]| worker_ops_check::check(data));
