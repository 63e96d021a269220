//! Splitting a Go `text/template` source into text and action tokens.

/// A token of an action (`{{ ... }}`).
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Tok {
    /// A keyword or function name.
    Ident(String),
    /// `.Foo.Bar` (the dot alone is an empty path).
    Field(Vec<String>),
    /// `$name.Foo` (`$` alone has an empty name).
    Var(String, Vec<String>),
    /// A string literal (quotes and escapes resolved).
    Str(String),
    /// An integer literal.
    Int(i64),
    /// A floating-point literal.
    Float(f64),
    /// `:=` or `=`.
    Assign,
    /// `|`
    Pipe,
    /// `(`
    Open,
    /// `)`
    Close,
    /// `,`
    Comma,
}

/// A piece of the template: literal text, or the tokens of one action.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Piece {
    Text(String),
    Action(Vec<Tok>, usize),
}

/// Lexes `src`; errors name the byte offset's line.
pub(super) fn lex(src: &str) -> Result<Vec<Piece>, String> {
    let mut pieces = Vec::new();
    let mut rest = src;
    let mut offset = 0;
    let line_of = |off: usize| src[..off].matches('\n').count() + 1;
    while let Some(start) = rest.find("{{") {
        let mut text = rest[..start].to_string();
        let mut inner_start = start + 2;
        if rest[inner_start..].starts_with("- ")
            || rest[inner_start..].starts_with("-\t")
            || rest[inner_start..].starts_with("-\n")
        {
            text.truncate(text.trim_end().len());
            inner_start += 1;
        }
        pieces.push(Piece::Text(text));
        let after = &rest[inner_start..];
        let Some(end) = after.find("}}") else {
            return Err(format!("line {}: unclosed action", line_of(offset + start)));
        };
        let mut inner = &after[..end];
        let mut trim_right = false;
        if inner.ends_with(" -") || inner.ends_with("\t-") || inner.ends_with("\n-") {
            inner = &inner[..inner.len() - 1];
            trim_right = true;
        }
        let line = line_of(offset + start);
        let trimmed = inner.trim();
        if !(trimmed.starts_with("/*") && trimmed.ends_with("*/")) {
            pieces.push(Piece::Action(
                tokens(inner).map_err(|e| format!("line {line}: {e}"))?,
                line,
            ));
        }
        let consumed = inner_start + end + 2;
        offset += consumed;
        rest = &rest[consumed..];
        if trim_right {
            let t = rest.trim_start();
            offset += rest.len() - t.len();
            rest = t;
        }
    }
    pieces.push(Piece::Text(rest.to_string()));
    Ok(pieces)
}

/// Identifier bytes: ASCII letters, digits, `_`, and every byte of a non-ASCII character (so a
/// run of them always ends on a character boundary).
fn ident_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || (c as u32) >= 0x80
}

fn path(s: &str, i: &mut usize) -> Vec<String> {
    let b = s.as_bytes();
    let mut out = Vec::new();
    while *i < b.len() && b[*i] == b'.' {
        *i += 1;
        let start = *i;
        while *i < b.len() && ident_char(b[*i] as char) {
            *i += 1;
        }
        if start == *i {
            break;
        }
        out.push(s[start..*i].to_string());
    }
    out
}

fn tokens(s: &str) -> Result<Vec<Tok>, String> {
    let b = s.as_bytes();
    let mut i = 0;
    let mut out = Vec::new();
    while i < b.len() {
        let c = b[i] as char;
        match c {
            ' ' | '\t' | '\n' | '\r' => i += 1,
            '|' => {
                out.push(Tok::Pipe);
                i += 1
            }
            '(' => {
                out.push(Tok::Open);
                i += 1
            }
            ')' => {
                out.push(Tok::Close);
                i += 1
            }
            ',' => {
                out.push(Tok::Comma);
                i += 1
            }
            '=' => {
                out.push(Tok::Assign);
                i += 1
            }
            ':' if b.get(i + 1) == Some(&b'=') => {
                out.push(Tok::Assign);
                i += 2
            }
            '.' => {
                let p = path(s, &mut i);
                if p.is_empty() {
                    i = i.max(1);
                }
                out.push(Tok::Field(p));
            }
            '$' => {
                i += 1;
                let start = i;
                while i < b.len() && ident_char(b[i] as char) {
                    i += 1;
                }
                let name = s[start..i].to_string();
                out.push(Tok::Var(name, path(s, &mut i)));
            }
            '"' => {
                i += 1;
                let mut v = String::new();
                loop {
                    let Some(ch) = s[i..].chars().next() else {
                        return Err("unterminated quoted string".into());
                    };
                    i += ch.len_utf8();
                    match ch {
                        '"' => break,
                        '\\' => {
                            let e = s[i..].chars().next().ok_or("bad escape")?;
                            i += e.len_utf8();
                            v.push(match e {
                                'n' => '\n',
                                't' => '\t',
                                'r' => '\r',
                                '0' => '\0',
                                other => other,
                            });
                        }
                        _ => v.push(ch),
                    }
                }
                out.push(Tok::Str(v));
            }
            '`' => {
                let end = s[i + 1..].find('`').ok_or("unterminated raw string")?;
                out.push(Tok::Str(s[i + 1..i + 1 + end].to_string()));
                i += end + 2;
            }
            c if c.is_ascii_digit()
                || (c == '-' && b.get(i + 1).is_some_and(u8::is_ascii_digit)) =>
            {
                let start = i;
                i += 1;
                while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'.' || b[i] == b'_')
                {
                    i += 1;
                }
                let t = &s[start..i];
                if let Ok(n) = t.parse::<i64>() {
                    out.push(Tok::Int(n));
                } else if let Ok(f) = t.parse::<f64>() {
                    out.push(Tok::Float(f));
                } else {
                    return Err(format!("bad number syntax: {t:?}"));
                }
            }
            c if ident_char(c) => {
                let start = i;
                while i < b.len() && ident_char(b[i] as char) {
                    i += 1;
                }
                out.push(Tok::Ident(s[start..i].to_string()));
            }
            other => return Err(format!("unexpected {other:?} in action")),
        }
    }
    Ok(out)
}
