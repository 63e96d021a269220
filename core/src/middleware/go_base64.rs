//! Go's `base64.StdEncoding`: the standard alphabet with `=` padding, as `DecodeString` reads
//! it (carriage returns and line feeds are skipped anywhere, padding must be complete, nothing
//! may follow it; unused low bits of the last character are not checked) and
//! `EncodeToString` writes it. `Authorization: Basic` credentials and `{SHA}` htpasswd secrets
//! are read and compared this way.

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// The 6-bit value of an alphabet byte.
fn value(b: u8) -> Option<u32> {
    match b {
        b'A'..=b'Z' => Some(u32::from(b - b'A')),
        b'a'..=b'z' => Some(u32::from(b - b'a') + 26),
        b'0'..=b'9' => Some(u32::from(b - b'0') + 52),
        b'+' => Some(62),
        b'/' => Some(63),
        _ => None,
    }
}

/// Decodes `text` as Go's `base64.StdEncoding.DecodeString`; `None` where Go returns an error.
pub fn decode(text: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() / 4 * 3);
    let mut quantum = [0u32; 4];
    let mut filled = 0;
    let mut bytes = text.iter().copied().filter(|b| *b != b'\r' && *b != b'\n');
    while let Some(b) = bytes.next() {
        if b == b'=' {
            // Padding ends the input: "xx==" or "xxx=", then nothing but line breaks.
            match filled {
                2 => {
                    if bytes.next() != Some(b'=') {
                        return None;
                    }
                }
                3 => {}
                _ => return None,
            }
            if bytes.next().is_some() {
                return None;
            }
            let n = (quantum[0] << 18) | (quantum[1] << 12) | (quantum[2] << 6);
            out.push((n >> 16) as u8);
            if filled == 3 {
                out.push((n >> 8) as u8);
            }
            return Some(out);
        }
        quantum[filled] = value(b)?;
        filled += 1;
        if filled == 4 {
            let n = (quantum[0] << 18) | (quantum[1] << 12) | (quantum[2] << 6) | quantum[3];
            out.extend_from_slice(&[(n >> 16) as u8, (n >> 8) as u8, n as u8]);
            filled = 0;
        }
    }
    // Without padding, the input must end on a whole quantum.
    (filled == 0).then_some(out)
}

/// Encodes `data` as Go's `base64.StdEncoding.EncodeToString`.
pub fn encode(data: &[u8]) -> String {
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i)) as usize & 63] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_as_gos_std_encoding() {
        let ok = |t: &str, want: &[u8]| assert_eq!(decode(t.as_bytes()).as_deref(), Some(want));
        ok("", b"");
        ok("dGVzdDp0ZXN0", b"test:test");
        ok("dTE6cHcx", b"u1:pw1");
        ok("YQ==", b"a");
        ok("YWI=", b"ab");
        ok("YWJj", b"abc");
        // Line breaks are skipped anywhere, padding included.
        ok("Y\r\nQ=\n=", b"a");
        ok("YWJj\n", b"abc");
        // Unused low bits are not checked (Go's non-strict mode).
        ok("YR==", b"a");
        for bad in [
            "YQ",
            "YQ=",
            "YWJ",
            "Y===",
            "=",
            "YQ==YQ==",
            "YQ==x",
            "dGVz dA==",
            "dGVzdA-=",
            "a",
        ] {
            assert_eq!(decode(bad.as_bytes()), None, "{bad:?}");
        }
    }

    #[test]
    fn encodes_and_round_trips() {
        assert_eq!(encode(b""), "");
        assert_eq!(encode(b"a"), "YQ==");
        assert_eq!(encode(b"ab"), "YWI=");
        assert_eq!(encode(b"test:test"), "dGVzdDp0ZXN0");
        let all: Vec<u8> = (0..=255).collect();
        for n in 0..all.len() {
            assert_eq!(decode(encode(&all[..n]).as_bytes()).unwrap(), &all[..n]);
        }
    }
}
