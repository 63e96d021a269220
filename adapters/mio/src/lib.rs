//! The raw mio adapter: a thread-per-core event loop over the same core API as the tokio adapter.
//! It is built after the tokio adapter (see `spec/COMPATIBILITY.md`).
