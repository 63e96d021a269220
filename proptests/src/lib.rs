//! Property tests and (later) the deterministic simulator over the core. The tests live in
//! `tests/`.
