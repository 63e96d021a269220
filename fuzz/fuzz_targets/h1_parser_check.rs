//! The check behind the `h1_parser` fuzz target and its replay test: arbitrary bytes as an
//! HTTP/1 request head, a response head and a chunked body. Nothing may panic; a parsed head
//! must have consumed no more than the input.

use trafficcop_core::h1::{
    parse_request, parse_response, BodyDecoder, Decoded, Framing, RequestLimits,
};

/// Runs the HTTP/1 parsers over `data`.
pub fn check(data: &[u8]) {
    if let Ok(Some((_, n))) = parse_request(data, &RequestLimits::default()) {
        assert!(n <= data.len());
    }
    for head in [false, true] {
        if let Ok(Some((_, n))) = parse_response(data, head) {
            assert!(n <= data.len());
        }
    }
    for framing in [Framing::Chunked, Framing::Length(7), Framing::Close] {
        let mut d = BodyDecoder::new(framing);
        let mut pos = 0;
        // Feed in two pieces to exercise resumption.
        let split = data.len() / 2;
        let mut buf: Vec<u8> = data[..split].to_vec();
        let mut fed_rest = false;
        for _ in 0..10_000 {
            match d.decode(&buf) {
                Ok((n, r)) => {
                    assert!(n <= buf.len());
                    if let Decoded::Data(range) = &r {
                        assert!(range.end <= buf.len());
                    }
                    buf.drain(..n);
                    pos += n;
                    if matches!(r, Decoded::Done) {
                        break;
                    }
                    if matches!(r, Decoded::NeedMore) || n == 0 {
                        if fed_rest {
                            break;
                        }
                        buf.extend_from_slice(&data[split..]);
                        fed_rest = true;
                    }
                }
                Err(_) => break,
            }
        }
        assert!(pos <= data.len());
    }
}
