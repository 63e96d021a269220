//! The reverse proxy: compiled configuration, load balancing, and the worker state machine
//! that turns connection events into bytes to send.

pub mod compile;
pub mod forward;
pub mod lb;

pub use compile::{
    compile, CompiledConfig, CompiledEntryPoint, CompiledRouter, CompiledService, Target,
};
