//! Tokens of the rule language.
//!
//! Traefik hands the rule to Go's expression parser, so the lexical rules are Go's: identifiers,
//! string literals in backquotes (raw, carriage returns dropped) or double quotes (with Go escape
//! sequences), the operators `&&`, `||`, `!`, parentheses and commas, free whitespace, `//` and
//! `/* */` comments, and Go's automatic semicolon after a line that ends with an identifier, a
//! string or `)` (which makes `Host(`a`)` followed by a newline and `&& Path(`/`)` an error, as in
//! Traefik).

use super::error::RuleError;

/// The kind of a token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Tok {
    /// An identifier (a matcher name).
    Ident(String),
    /// A string literal's value.
    Str(String),
    /// `(`
    LParen,
    /// `)`
    RParen,
    /// `,`
    Comma,
    /// `...` (accepted after the last argument, as Go's parser does).
    Ellipsis,
    /// `&&`
    And,
    /// `||`
    Or,
    /// `!`
    Not,
    /// A semicolon inserted at a newline or at the end of the input.
    Semi,
    /// End of input.
    Eof,
}

/// A token and the byte offset where it starts.
#[derive(Debug, Clone)]
pub(crate) struct Token {
    pub tok: Tok,
    pub pos: usize,
}

/// Splits rule text into tokens.
pub(crate) fn tokenize(src: &str) -> Result<Vec<Token>, RuleError> {
    let bytes = src.as_bytes();
    let mut out: Vec<Token> = Vec::new();
    let mut i = 0;
    // Whether a newline here would insert a semicolon (Go's insertSemi).
    let mut semi_ok = false;
    loop {
        // Skip whitespace and comments, noting newlines.
        let mut newline_at = None;
        loop {
            match bytes.get(i) {
                Some(b' ' | b'\t' | b'\r') => i += 1,
                Some(b'\n') => {
                    newline_at.get_or_insert(i);
                    i += 1;
                }
                Some(b'/') if bytes.get(i + 1) == Some(&b'/') => {
                    let end = src[i..].find('\n').map_or(src.len(), |n| i + n);
                    newline_at.get_or_insert(end);
                    i = end;
                }
                Some(b'/') if bytes.get(i + 1) == Some(&b'*') => {
                    let Some(n) = src[i + 2..].find("*/") else {
                        return Err(RuleError::new(i, "comment not terminated"));
                    };
                    if src[i + 2..i + 2 + n].contains('\n') {
                        newline_at.get_or_insert(i);
                    }
                    i += n + 4;
                }
                _ => break,
            }
        }
        if semi_ok && (newline_at.is_some() || i >= bytes.len()) {
            out.push(Token {
                tok: Tok::Semi,
                pos: newline_at.unwrap_or(i),
            });
        }
        let start = i;
        let Some(&c) = bytes.get(i) else {
            out.push(Token {
                tok: Tok::Eof,
                pos: i,
            });
            return Ok(out);
        };
        let tok = match c {
            b'(' => {
                i += 1;
                Tok::LParen
            }
            b')' => {
                i += 1;
                Tok::RParen
            }
            b',' => {
                i += 1;
                Tok::Comma
            }
            b'.' if src[i..].starts_with("...") => {
                i += 3;
                Tok::Ellipsis
            }
            b'&' if bytes.get(i + 1) == Some(&b'&') => {
                i += 2;
                Tok::And
            }
            b'|' if bytes.get(i + 1) == Some(&b'|') => {
                i += 2;
                Tok::Or
            }
            b'!' if bytes.get(i + 1) != Some(&b'=') => {
                i += 1;
                Tok::Not
            }
            b'`' => {
                let Some(n) = src[i + 1..].find('`') else {
                    return Err(RuleError::new(i, "raw string literal not terminated"));
                };
                let value: String = src[i + 1..i + 1 + n]
                    .chars()
                    .filter(|&c| c != '\r')
                    .collect();
                i += n + 2;
                Tok::Str(value)
            }
            b'"' => {
                let (value, end) = interpreted_string(src, i)?;
                i = end;
                Tok::Str(value)
            }
            _ => {
                let ch = src[i..].chars().next().unwrap_or('\0');
                if ch == '_' || ch.is_alphabetic() {
                    let end = src[i..]
                        .char_indices()
                        .find(|&(_, c)| !(c == '_' || c.is_alphanumeric()))
                        .map_or(src.len(), |(n, _)| i + n);
                    let name = src[i..end].to_string();
                    i = end;
                    Tok::Ident(name)
                } else {
                    return Err(RuleError::new(
                        i,
                        format!("unexpected character {ch:?}: only matchers, string arguments, &&, ||, ! and parentheses are allowed"),
                    ));
                }
            }
        };
        semi_ok = matches!(tok, Tok::Ident(_) | Tok::Str(_) | Tok::RParen);
        out.push(Token { tok, pos: start });
    }
}

/// Reads a Go interpreted string literal starting at the `"` at `start`; returns its value and
/// the offset just past the closing quote.
fn interpreted_string(src: &str, start: usize) -> Result<(String, usize), RuleError> {
    let bytes = src.as_bytes();
    let mut out: Vec<u8> = Vec::new();
    let mut i = start + 1;
    loop {
        let Some(&c) = bytes.get(i) else {
            return Err(RuleError::new(start, "string literal not terminated"));
        };
        match c {
            b'"' => break,
            b'\n' => return Err(RuleError::new(start, "string literal not terminated")),
            b'\\' => {
                let esc = *bytes
                    .get(i + 1)
                    .ok_or_else(|| RuleError::new(start, "string literal not terminated"))?;
                i += 2;
                match esc {
                    b'a' => out.push(7),
                    b'b' => out.push(8),
                    b'f' => out.push(12),
                    b'n' => out.push(b'\n'),
                    b'r' => out.push(b'\r'),
                    b't' => out.push(b'\t'),
                    b'v' => out.push(11),
                    b'\\' => out.push(b'\\'),
                    b'"' => out.push(b'"'),
                    b'0'..=b'7' => {
                        let digits = src.get(i - 1..i + 2).unwrap_or("");
                        let v = u32::from_str_radix(digits, 8)
                            .ok()
                            .filter(|_| digits.len() == 3)
                            .filter(|&v| v <= 255)
                            .ok_or_else(|| RuleError::new(i - 2, "invalid octal escape"))?;
                        out.push(v as u8);
                        i += 2;
                    }
                    b'x' | b'u' | b'U' => {
                        let n = match esc {
                            b'x' => 2,
                            b'u' => 4,
                            _ => 8,
                        };
                        let digits = src.get(i..i + n).unwrap_or("");
                        let v = u32::from_str_radix(digits, 16)
                            .ok()
                            .filter(|_| {
                                digits.len() == n && digits.bytes().all(|b| b.is_ascii_hexdigit())
                            })
                            .ok_or_else(|| RuleError::new(i - 2, "invalid hexadecimal escape"))?;
                        if esc == b'x' {
                            out.push(v as u8);
                        } else {
                            let ch = char::from_u32(v).ok_or_else(|| {
                                RuleError::new(i - 2, "escape is an invalid Unicode code point")
                            })?;
                            out.extend_from_slice(ch.encode_utf8(&mut [0; 4]).as_bytes());
                        }
                        i += n;
                    }
                    _ => return Err(RuleError::new(i - 2, "unknown escape sequence")),
                }
            }
            _ => {
                out.push(c);
                i += 1;
            }
        }
    }
    let value = String::from_utf8(out).map_err(|_| {
        RuleError::new(
            start,
            "string literal is not valid UTF-8 (byte escapes are not supported in rule arguments)",
        )
    })?;
    Ok((value, i + 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(s: &str) -> Vec<Tok> {
        tokenize(s).unwrap().into_iter().map(|t| t.tok).collect()
    }

    #[test]
    fn strings_and_escapes() {
        assert_eq!(
            toks("a(`x\r\ny`, \"\\x41\\u00e9\\101\\t\")"),
            vec![
                Tok::Ident("a".into()),
                Tok::LParen,
                Tok::Str("x\ny".into()),
                Tok::Comma,
                Tok::Str("AéA\t".into()),
                Tok::RParen,
                Tok::Semi,
                Tok::Eof
            ]
        );
        assert!(tokenize("a(\"\\q\")").is_err());
        assert!(tokenize("a(\"\\'\")").is_err());
        assert!(tokenize("a(\"x\ny\")").is_err());
        assert!(tokenize("a(`x)").is_err());
    }

    #[test]
    fn semicolon_insertion() {
        assert_eq!(
            toks("a\n&&"),
            vec![Tok::Ident("a".into()), Tok::Semi, Tok::And, Tok::Eof]
        );
        assert_eq!(
            toks("a &&\n b"),
            vec![
                Tok::Ident("a".into()),
                Tok::And,
                Tok::Ident("b".into()),
                Tok::Semi,
                Tok::Eof
            ]
        );
        assert_eq!(
            toks("a /* x */ b // c"),
            vec![
                Tok::Ident("a".into()),
                Tok::Ident("b".into()),
                Tok::Semi,
                Tok::Eof
            ]
        );
    }
}
