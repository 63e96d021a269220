//! Arbitrary bytes after the HTTP/2 connection preface, to a whole worker (the h2 front end,
//! the stream-to-HTTP/1.1 translation, local answers): nothing may panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "client_bytes_check.rs"]
mod client_bytes_check;

fuzz_target!(|data: &[u8]| client_bytes_check::check(data, client_bytes_check::Front::H2));
