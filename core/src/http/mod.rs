//! HTTP message model shared by the protocol codecs and the proxy pipeline.

pub mod head;
pub mod headers;

pub use head::{status_text, LocalResponse, RequestHead, ResponseHead, Version};
pub use headers::{canonical_name, Header, Headers};
