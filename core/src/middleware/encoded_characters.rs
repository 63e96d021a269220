//! The `encodedCharacters` middleware (Traefik 3.7, `pkg/middlewares/encodedcharacters`):
//! refuses with an empty `400` a request whose escaped path (Go's `URL.EscapedPath()`, after
//! the middlewares before it) holds an encoding it does not allow. Every `allow*` flag is
//! false unless set, so the middleware alone refuses all seven (the entry point option of the
//! same name allows them unless told otherwise).

use super::{Middleware, RequestAction, RequestContext};
use crate::config::dynamic;
use crate::http::{LocalResponse, RequestHead};

/// The built `encodedCharacters` middleware.
#[derive(Debug, Clone)]
pub struct EncodedCharacters {
    /// Refused encodings, upper-case hex (compared without case where they have letters).
    denied: Vec<&'static [u8; 3]>,
}

impl EncodedCharacters {
    /// Builds `encodedCharacters`.
    pub fn new(cfg: &dynamic::EncodedCharacters) -> Self {
        let denied = [
            (cfg.allow_encoded_slash, b"%2F"),
            (cfg.allow_encoded_back_slash, b"%5C"),
            (cfg.allow_encoded_null_character, b"%00"),
            (cfg.allow_encoded_semicolon, b"%3B"),
            (cfg.allow_encoded_percent, b"%25"),
            (cfg.allow_encoded_question_mark, b"%3F"),
            (cfg.allow_encoded_hash, b"%23"),
        ]
        .into_iter()
        .filter(|(allowed, _)| !allowed)
        .map(|(_, enc)| enc)
        .collect();
        EncodedCharacters { denied }
    }
}

impl Middleware for EncodedCharacters {
    fn has_response_side(&self) -> bool {
        false
    }

    fn on_request(&self, head: &mut RequestHead, _cx: &RequestContext<'_>) -> RequestAction {
        if self.denied.is_empty() {
            return RequestAction::Continue;
        }
        let refuse = || RequestAction::Respond(LocalResponse::new(400, Vec::new()));
        let Ok(escaped) = crate::rule::path::escaped_path(&head.path) else {
            return refuse();
        };
        let bytes = escaped.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] == b'%' {
                let Some(enc) = bytes.get(i..i + 3) else {
                    return refuse();
                };
                if self.denied.iter().any(|d| d.eq_ignore_ascii_case(enc)) {
                    return refuse();
                }
                i += 3;
            } else {
                i += 1;
            }
        }
        RequestAction::Continue
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::middleware::tests_support::{cx, get};

    fn build(yaml: &str) -> EncodedCharacters {
        let doc = format!("http:\n  middlewares:\n    m:\n      encodedCharacters: {yaml}\n");
        let l = crate::config::dynamic::load_dynamic(&doc, crate::config::Format::Yaml, None);
        assert!(!l.is_fatal(), "{:?}", l.diagnostics);
        let http = l.config.http.unwrap();
        EncodedCharacters::new(http.middlewares["m"].encoded_characters.as_deref().unwrap())
    }

    fn refused(m: &EncodedCharacters, path: &str) -> bool {
        let mut req = get(path);
        matches!(m.on_request(&mut req, &cx()), RequestAction::Respond(r) if r.status == 400 && r.body.is_empty())
    }

    #[test]
    fn every_encoding_refused_unless_allowed() {
        let m = build("{allowEncodedHash: false}");
        for p in [
            "/a%2Fb", "/a%2fb", "/a%5c", "/%00", "/a%3B", "/%25", "/%3f", "/%23", "/a\\b",
        ] {
            assert!(refused(&m, p), "{p}");
        }
        for p in ["/a/b", "/a%20b", "/%E2%82%AC", "/a;b"] {
            assert!(!refused(&m, p), "{p}");
        }
        let m = build("{allowEncodedSlash: true, allowEncodedPercent: true}");
        assert!(!refused(&m, "/a%2Fb%25"));
        assert!(refused(&m, "/a%2Fb%3B"));
        let all = build("{allowEncodedSlash: true, allowEncodedBackSlash: true, allowEncodedNullCharacter: true, allowEncodedSemicolon: true, allowEncodedPercent: true, allowEncodedQuestionMark: true, allowEncodedHash: true}");
        assert!(!refused(&all, "/%2F%5C%00%3B%25%3F%23"));
    }
}
