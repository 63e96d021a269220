//! TLS without IO (rustls over byte slices): certificates and the `default` store,
//! TLS options, client authentication, per-entry-point option choice by server name, and the
//! TLS layer of a client connection; TLS to `https://` backends.

pub mod client;
pub mod client_auth;
pub mod names;
pub mod options;
pub mod session;
pub mod setup;
pub mod store;

pub use client::{ClientTls, UpstreamTls};
pub use session::{ChosenOptions, Received, ServerTls};
pub use setup::{EntryPointTls, TlsSetup, DEFAULT};
pub use store::{certified_key, CertStore};
