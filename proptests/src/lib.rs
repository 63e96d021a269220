//! Property tests and the deterministic simulator over the core. The tests live in `tests/`;
//! the simulator is [`sim`].

pub mod seeds;
pub mod sim;
