//! Arbitrary bytes as a TLS stream (first byte 0x16) to a whole worker: the ClientHello peek,
//! the choice of options by server name and the handshake: nothing may panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "client_bytes_check.rs"]
mod client_bytes_check;

fuzz_target!(|data: &[u8]| client_bytes_check::check(data, client_bytes_check::Front::Tls));
