//! Arbitrary text to both rule parsers (HTTP and TCP, v3 and v2), plus domain extraction,
//! default priorities and a match against a fixed request: nothing may panic, and time is bounded
//! by the parser's nesting, length and regex size limits.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "rule_parser_check.rs"]
mod rule_parser_check;

fuzz_target!(|data: &[u8]| rule_parser_check::check(data));
