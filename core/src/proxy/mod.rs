//! The reverse proxy: compiled configuration, load balancing, and the worker state machine
//! that turns connection events into bytes to send.

mod access;
mod access_log;
pub mod compile;
mod compress;
mod discard;
mod down;
mod entry_routes;
mod errors;
pub mod forward;
mod forward_auth;
mod h2_request;
mod h2down;
mod h2up;
pub mod health;
pub mod heap;
mod inbox;
pub mod io;
pub mod lb;
pub mod proxy_protocol;
mod redirections;
mod retry;
pub mod round_robin;
pub mod sticky;
mod tcp;
pub mod tcp_router;
pub mod tcp_service;
mod txn;
mod udp;
pub mod udp_service;
mod up;
pub mod weighted;
mod worker;

pub use access::AccessSink;
pub use access_log::Formatter;
pub use compile::{
    compile, compile_serving, compile_with, CompileInputs, CompiledConfig, CompiledEntryPoint,
    CompiledRouter, CompiledService, RootsLoader, Target,
};
pub use io::{
    remove_shrinking, udp_local_for, AccessRecord, ConnId, ConnectError, Event, IdHasher, IdMap,
    Input, Output, ReadBuffer, Timestamp, WriteQueue, WRITE_AT_ONCE,
};
pub use udp_service::CompiledUdpEntryPoint;
pub use up::SURPLUS_IDLE;
pub use worker::{Worker, HIGH_WATER};
