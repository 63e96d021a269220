//! HTTP message model shared by the protocol codecs and the proxy pipeline.

pub mod compress;
pub mod date;
pub mod gunzip;
pub mod head;
pub mod head_copy;
pub mod headers;
pub mod percent;
pub mod sniff;

pub use date::http_date;
pub use head::{
    go_status_text, method, reason_phrase, status_text, LocalResponse, Method, RequestHead,
    ResponseHead, Version,
};
pub use head_copy::head_copy;
pub use headers::{canonical_name, is_token_byte, Header, HeaderName, Headers};
