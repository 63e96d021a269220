//! Escapes and bracketed classes of Go RE2 patterns, re-emitted as Rust `regex` syntax (the
//! rest of the translation is in [`super::regex_compat`]).

use super::regex_compat::{err, push_literal, Translator};

impl Translator {
    /// An escape outside a class.
    pub(super) fn escape(&mut self) -> Result<(), String> {
        let Some(c) = self.peek(1) else {
            return err("trailing backslash at end of expression", &[]);
        };
        match c {
            'A' | 'z' => {
                self.at += 2;
                self.out.push('\\');
                self.out.push(c);
                self.operand();
            }
            'b' | 'B' => {
                self.at += 2;
                self.out.push_str(&format!("(?-u:\\{c})"));
                self.operand();
            }
            'Q' => {
                self.at += 2;
                while let Some(q) = self.peek(0) {
                    if q == '\\' && self.peek(1) == Some('E') {
                        self.at += 2;
                        break;
                    }
                    self.at += 1;
                    push_literal(&mut self.out, q);
                    self.operand();
                }
            }
            _ => {
                if let Some(class) = self.class_escape()? {
                    self.out.push_str(&class);
                } else {
                    let ch = self.char_escape()?;
                    push_literal(&mut self.out, ch);
                }
                self.operand();
            }
        }
        Ok(())
    }

    /// `\d \D \s \S \w \W \pX \p{..} \PX \P{..}` at the cursor, as a Rust class (outside
    /// brackets) or class item text usable inside brackets; consumes it.
    pub(super) fn class_escape(&mut self) -> Result<Option<String>, String> {
        let c = self.peek(1);
        let ascii = match c {
            Some('d') => "[0-9]",
            Some('D') => "[^0-9]",
            Some('s') => "[\\t\\n\\x0C\\r ]",
            Some('S') => "[^\\t\\n\\x0C\\r ]",
            Some('w') => "[0-9A-Za-z_]",
            Some('W') => "[^0-9A-Za-z_]",
            Some('p') | Some('P') => {
                let start = self.at;
                let text: String = match self.peek(2) {
                    Some('{') => {
                        let rest: String = self.src[self.at + 3..].iter().collect();
                        let Some(end) = rest.find('}') else {
                            return err("invalid character class range", &self.src[start..]);
                        };
                        let name = &rest[..end];
                        if name.is_empty()
                            || !name
                                .trim_start_matches('^')
                                .chars()
                                .all(|c| c.is_ascii_alphanumeric() || c == '_')
                        {
                            return err("invalid character class range", &self.src[start..]);
                        }
                        self.at += 3 + name.chars().count() + 1;
                        format!("\\{}{{{name}}}", c.unwrap_or('p'))
                    }
                    Some(l) if l.is_ascii_alphabetic() => {
                        self.at += 3;
                        format!("\\{}{l}", c.unwrap_or('p'))
                    }
                    _ => return err("invalid character class range", &self.src[start..]),
                };
                return Ok(Some(text));
            }
            _ => return Ok(None),
        };
        self.at += 2;
        Ok(Some(ascii.to_string()))
    }

    /// A single-character escape at the cursor (`\n`, `\x41`, `\x{263a}`, `\012`, `\.`);
    /// consumes it and returns the character.
    pub(super) fn char_escape(&mut self) -> Result<char, String> {
        let start = self.at;
        let c = self.peek(1).unwrap_or('\\');
        self.at += 2;
        let simple = match c {
            'a' => Some('\u{7}'),
            'f' => Some('\u{c}'),
            't' => Some('\t'),
            'n' => Some('\n'),
            'r' => Some('\r'),
            'v' => Some('\u{b}'),
            _ => None,
        };
        if let Some(s) = simple {
            return Ok(s);
        }
        match c {
            '1'..='7' if !self.peek(0).is_some_and(|d| ('0'..='7').contains(&d)) => {
                err("invalid escape sequence", &self.src[start..])
            }
            '0'..='7' => {
                let mut v = c.to_digit(8).unwrap_or(0);
                for _ in 0..2 {
                    match self.peek(0).and_then(|d| d.to_digit(8)) {
                        Some(d) => {
                            v = v * 8 + d;
                            self.at += 1;
                        }
                        None => break,
                    }
                }
                Ok(char::from_u32(v).unwrap_or('\0'))
            }
            'x' => {
                let hex: String;
                if self.peek(0) == Some('{') {
                    let rest: String = self.src[self.at + 1..].iter().collect();
                    let Some(end) = rest.find('}') else {
                        return err("invalid escape sequence", &self.src[start..]);
                    };
                    hex = rest[..end].to_string();
                    self.at += 1 + hex.chars().count() + 1;
                } else {
                    hex = self.src[self.at..(self.at + 2).min(self.src.len())]
                        .iter()
                        .collect();
                    self.at += 2;
                    if hex.chars().count() != 2 {
                        return err("invalid escape sequence", &self.src[start..]);
                    }
                }
                u32::from_str_radix(&hex, 16)
                    .ok()
                    .filter(|_| !hex.is_empty() && hex.chars().all(|h| h.is_ascii_hexdigit()))
                    .and_then(char::from_u32)
                    .map_or_else(|| err("invalid escape sequence", &self.src[start..]), Ok)
            }
            c if c.is_ascii() && !c.is_ascii_alphanumeric() => Ok(c),
            _ => err("invalid escape sequence", &self.src[start..]),
        }
    }

    /// A bracketed class, read with Go's rules and re-emitted item by item.
    pub(super) fn class(&mut self) -> Result<(), String> {
        let start = self.at;
        self.at += 1;
        self.out.push('[');
        if self.peek(0) == Some('^') {
            self.at += 1;
            self.out.push('^');
        }
        let mut first = true;
        let mut items = 0;
        loop {
            let Some(c) = self.peek(0) else {
                return err("missing closing ]", &self.src[start..]);
            };
            if c == ']' && !first {
                self.at += 1;
                break;
            }
            first = false;
            // [:alpha:]
            if c == '[' && self.peek(1) == Some(':') {
                let rest: String = self.src[self.at + 2..].iter().collect();
                if let Some(end) = rest.find(":]") {
                    let name = &rest[..end];
                    const NAMES: &[&str] = &[
                        "alnum", "alpha", "ascii", "blank", "cntrl", "digit", "graph", "lower",
                        "print", "punct", "space", "upper", "word", "xdigit",
                    ];
                    if !NAMES.contains(&name.trim_start_matches('^')) {
                        return err("invalid character class range", &self.src[self.at..]);
                    }
                    self.out.push_str(&format!("[:{name}:]"));
                    self.at += 2 + name.chars().count() + 2;
                    items += 1;
                    continue;
                }
            }
            if c == '\\' {
                if let Some(class) = self.class_escape()? {
                    self.out.push_str(&class);
                    items += 1;
                    continue;
                }
            }
            let lo = self.class_char(start)?;
            let mut hi = lo;
            if self.peek(0) == Some('-') && self.peek(1).is_some_and(|n| n != ']') {
                self.at += 1;
                hi = self.class_char(start)?;
                if hi < lo {
                    return err("invalid character class range", &self.src[start..]);
                }
            }
            push_literal(&mut self.out, lo);
            if hi != lo {
                self.out.push('-');
                push_literal(&mut self.out, hi);
            }
            items += 1;
        }
        let _ = items;
        self.out.push(']');
        self.operand();
        Ok(())
    }

    pub(super) fn class_char(&mut self, class_start: usize) -> Result<char, String> {
        match self.peek(0) {
            None => err("missing closing ]", &self.src[class_start..]),
            Some('\\') => self.char_escape(),
            Some(c) => {
                self.at += 1;
                Ok(c)
            }
        }
    }
}
