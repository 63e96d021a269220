//! HTTP/1.1 framing, IO-free: request and response heads, body decoding and encoding.

pub mod body;
pub mod encode;
mod framing_lines;
pub mod request;
pub mod response;

pub use body::{
    chunk_size_line, encode_chunk, frame_body, last_chunk, trailer_fields, BodyDecoder, Decoded,
    Framing, FramingError, LAST_CHUNK,
};
pub(crate) use encode::name_prefix;
pub use encode::{
    encode_expectation_failed, encode_local_response, encode_request_head, encode_response_head,
    encode_response_head_sized, upstream_request_head,
};
pub use request::{parse_request, ParsedRequest, RequestBody, RequestError, RequestLimits};
pub use response::{parse_response, ParsedResponse, ResponseError};
