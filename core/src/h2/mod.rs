//! HTTP/2 through a narrow shim over the `h2` crate, driven in memory (no runtime, no IO):
//! see [`server::H2Server`] (client connections) and [`client::H2Client`] (backends).

pub mod client;
mod pipe;
pub mod server;
mod stream;

pub use client::H2Client;
pub use server::{H2Event, H2Server, H2Settings, StreamKey};

/// The client connection preface of HTTP/2 with prior knowledge (h2c).
pub const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
