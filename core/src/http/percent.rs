//! Go's `net/url` percent-encoding for paths and queries, shared by the routing path
//! (`rule::path`), the path-rewriting middlewares (`middleware::url_path`) and query matching.

/// A `%` not followed by two hexadecimal digits; displays as Go's `invalid URL escape "%4"`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadEscape(pub String);

impl std::fmt::Display for BadEscape {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "invalid URL escape {:?}", self.0)
    }
}

impl std::error::Error for BadEscape {}

fn hex(b: u8) -> Option<u8> {
    (b as char).to_digit(16).map(|d| d as u8)
}

/// The byte that the escape starting at `b[i]` (a `%`) encodes.
pub fn escaped_byte(b: &[u8], i: usize) -> Result<u8, BadEscape> {
    match (
        b.get(i + 1).and_then(|&x| hex(x)),
        b.get(i + 2).and_then(|&x| hex(x)),
    ) {
        (Some(h), Some(l)) => Ok(h << 4 | l),
        _ => {
            let end = (i + 3).min(b.len());
            Err(BadEscape(String::from_utf8_lossy(&b[i..end]).into_owned()))
        }
    }
}

/// Decodes every `%XX` (Go's `PathUnescape`; with `plus_is_space`, `QueryUnescape`).
pub fn unescape(s: &str, plus_is_space: bool) -> Result<Vec<u8>, BadEscape> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' => {
                out.push(escaped_byte(b, i)?);
                i += 3;
            }
            b'+' if plus_is_space => {
                out.push(b' ');
                i += 1;
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    Ok(out)
}

/// Bit 0: Go leaves the byte unescaped in a path (`!shouldEscape(c, encodePath)`); bit 1: a
/// path may carry it as it is (`validEncoded(s, encodePath)`). One table look-up per byte: paths
/// are scanned on every request.
const PATH_BYTES: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut c = 0;
    while c < 256 {
        let b = c as u8;
        let unescaped = b.is_ascii_alphanumeric()
            || matches!(
                b,
                b'-' | b'_'
                    | b'.'
                    | b'~'
                    | b'$'
                    | b'&'
                    | b'+'
                    | b','
                    | b'/'
                    | b':'
                    | b';'
                    | b'='
                    | b'@'
            );
        let carried =
            unescaped || matches!(b, b'!' | b'\'' | b'(' | b')' | b'*' | b'[' | b']' | b'%');
        t[c] = (unescaped as u8) | ((carried as u8) << 1);
        c += 1;
    }
    t
};

/// Whether Go escapes `c` in a path (`shouldEscape(c, encodePath)`).
pub fn should_escape_path(c: u8) -> bool {
    PATH_BYTES[usize::from(c)] & 1 == 0
}

/// Go's `validEncoded(s, encodePath)`: only characters a path may carry unescaped.
pub fn valid_encoded_path(s: &str) -> bool {
    s.bytes().all(|c| PATH_BYTES[usize::from(c)] & 2 != 0)
}

/// Appends `c` as `%XX` (upper-case hexadecimal).
pub fn push_escaped(out: &mut String, c: u8) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    out.push('%');
    out.push(HEX[usize::from(c >> 4)] as char);
    out.push(HEX[usize::from(c & 15)] as char);
}

/// Go's `url.QueryEscape`: letters, digits and `-_.~` kept, a space as `+`, the rest `%XX`.
pub fn query_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for &b in s.as_bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            _ => push_escaped(&mut out, b),
        }
    }
    out
}

/// Go's default path escaping (`escape(path, encodePath)`), upper-case hex.
pub fn escape_path(path: &[u8]) -> String {
    let mut out = String::with_capacity(path.len());
    for &c in path {
        if should_escape_path(c) {
            push_escaped(&mut out, c);
        } else {
            out.push(c as char);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The table says what Go's `shouldEscape(c, encodePath)` and `validEncoded` say, byte by
    /// byte (their rules written out as lists).
    #[test]
    fn path_byte_table_matches_gos_lists() {
        for c in 0..=255u8 {
            let unescaped = c.is_ascii_alphanumeric() || b"-_.~$&+,/:;=@".contains(&c);
            assert_eq!(should_escape_path(c), !unescaped, "{c}");
            let carried = b"!$&'()*+,;=:@[]%".contains(&c) || unescaped;
            let s = [c];
            if let Ok(s) = std::str::from_utf8(&s) {
                assert_eq!(valid_encoded_path(s), carried, "{c}");
            }
            assert_eq!(PATH_BYTES[usize::from(c)] & 2 != 0, carried, "{c}");
        }
    }

    #[test]
    fn unescape_path_and_query() {
        assert_eq!(unescape("/a%20b+c", false).unwrap(), b"/a b+c");
        assert_eq!(unescape("a%2Bb+c", true).unwrap(), b"a+b c");
        assert_eq!(
            unescape("/x%4", false).unwrap_err().to_string(),
            r#"invalid URL escape "%4""#
        );
        assert_eq!(
            unescape("%zz/", false).unwrap_err().to_string(),
            r#"invalid URL escape "%zz""#
        );
    }

    #[test]
    fn escape_and_valid_encoded() {
        assert_eq!(escape_path(b"/a b?c!"), "/a%20b%3Fc%21");
        assert_eq!(escape_path(b"/$&+,:;=@~"), "/$&+,:;=@~");
        assert_eq!(escape_path(&[b'/', 0xff, 0x0a]), "/%FF%0A");
        assert!(valid_encoded_path("/a%20b!(x)"));
        assert!(!valid_encoded_path("/a b"));
        assert!(!valid_encoded_path("/a?b"));
    }
}
