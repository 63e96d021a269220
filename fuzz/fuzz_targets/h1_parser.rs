//! Arbitrary bytes to the HTTP/1 request, response and body parsers: nothing may panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "h1_parser_check.rs"]
mod h1_parser_check;

fuzz_target!(|data: &[u8]| h1_parser_check::check(data));
