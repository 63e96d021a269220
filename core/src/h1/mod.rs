//! HTTP/1.1 framing, IO-free: request and response heads, body decoding and encoding.

pub mod body;
pub mod request;

pub use request::{parse_request, ParsedRequest, RequestBody, RequestError, RequestLimits};
