//! The header lines that decide an HTTP/1 message's framing and its connection's fate
//! (`Transfer-Encoding`, `Content-Length`, `Connection`, `Expect`, `Upgrade`), read in one pass
//! for requests and responses alike.

use crate::http::Headers;

/// What the framing and connection decisions read from a message's header lines, gathered in
/// one pass over them (names compared ignoring case, as lookups do).
#[derive(Default)]
pub(crate) struct FramingLines<'a> {
    /// How many `Transfer-Encoding` lines, and the first one's value.
    pub(crate) transfer_encodings: usize,
    pub(crate) transfer_encoding: &'a [u8],
    /// How many `Content-Length` lines, the first one's value (trimmed), and whether another
    /// differs from it.
    pub(crate) content_lengths: usize,
    pub(crate) content_length: &'a [u8],
    pub(crate) content_lengths_differ: bool,
    /// `Connection` lists `close`, `keep-alive`, `upgrade`.
    pub(crate) close: bool,
    pub(crate) keep_alive: bool,
    pub(crate) upgrade_token: bool,
    /// The first `Expect` line lists `100-continue` (Go's `expectsContinue`).
    pub(crate) expect_continue: bool,
    /// The first `Expect` line is not empty and does not list it (Go answers 417).
    pub(crate) expect_other: bool,
    /// An `Upgrade` line is present.
    pub(crate) upgrade: bool,
}

impl<'a> FramingLines<'a> {
    /// Reads `headers` once.
    pub(crate) fn of(headers: &'a Headers) -> Self {
        let mut l = FramingLines::default();
        let mut expect_seen = false;
        for h in headers.iter() {
            let name: &str = &h.name;
            let value = &h.value[..];
            match name.len() {
                17 if name.eq_ignore_ascii_case("Transfer-Encoding") => {
                    if l.transfer_encodings == 0 {
                        l.transfer_encoding = value;
                    }
                    l.transfer_encodings += 1;
                }
                14 if name.eq_ignore_ascii_case("Content-Length") => {
                    let v = value.trim_ascii();
                    if l.content_lengths == 0 {
                        l.content_length = v;
                    } else if v != l.content_length {
                        l.content_lengths_differ = true;
                    }
                    l.content_lengths += 1;
                }
                10 if name.eq_ignore_ascii_case("Connection") => {
                    for token in value.split(|b| *b == b',').map(<[u8]>::trim_ascii) {
                        l.close |= token.eq_ignore_ascii_case(b"close");
                        l.keep_alive |= token.eq_ignore_ascii_case(b"keep-alive");
                        l.upgrade_token |= token.eq_ignore_ascii_case(b"upgrade");
                    }
                }
                6 if name.eq_ignore_ascii_case("Expect") && !expect_seen => {
                    expect_seen = true;
                    l.expect_continue = value
                        .split(|b| *b == b',')
                        .any(|t| t.trim_ascii().eq_ignore_ascii_case(b"100-continue"));
                    l.expect_other = !l.expect_continue && !value.is_empty();
                }
                7 if name.eq_ignore_ascii_case("Upgrade") => l.upgrade = true,
                _ => {}
            }
        }
        l
    }
}
