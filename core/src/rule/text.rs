//! Small string helpers with Go's semantics: `strings.ToLower`/`ToUpper` (simple, per-character
//! case mapping), `strings.EqualFold`, `strings.TrimSpace`, `net.SplitHostPort`.

use std::borrow::Cow;

/// Go's `strings.ToLower`: every character mapped with its simple lower-case mapping (no
/// context-dependent or multi-character mappings). Borrows when nothing changes.
pub fn go_lower(s: &str) -> Cow<'_, str> {
    if s.is_ascii() {
        if !s.bytes().any(|b| b.is_ascii_uppercase()) {
            return Cow::Borrowed(s);
        }
        return Cow::Owned(s.to_ascii_lowercase());
    }
    Cow::Owned(
        s.chars()
            .map(|c| {
                let mut l = c.to_lowercase();
                match (l.next(), l.next()) {
                    (Some(one), None) => one,
                    // Only U+0130 has a multi-character full mapping; its simple mapping is 'i'.
                    (Some(first), Some(_)) => first,
                    _ => c,
                }
            })
            .collect(),
    )
}

/// Go's `strings.ToUpper` with simple per-character mappings (a character whose upper case is
/// several characters, like `ß`, is kept).
pub fn go_upper(s: &str) -> String {
    s.chars()
        .map(|c| {
            let mut u = c.to_uppercase();
            match (u.next(), u.next()) {
                (Some(one), None) => one,
                _ => c,
            }
        })
        .collect()
}

/// Folds a character for comparison with an ASCII string the way Go's `EqualFold` would: ASCII
/// letters to lower case, and the two non-ASCII characters whose case folding reaches ASCII
/// (U+017F LONG S, U+212A KELVIN SIGN) to `s` and `k`.
pub(crate) fn fold_char(c: char) -> char {
    match c {
        '\u{17F}' => 's',
        '\u{212A}' => 'k',
        c => c.to_ascii_lowercase(),
    }
}

/// Go's `strings.EqualFold` for the cases that matter here (one side is ASCII or both are
/// already lower-cased): ASCII case-insensitive, with U+017F and U+212A folding to `s` and `k`.
pub fn eq_fold(a: &str, b: &str) -> bool {
    if a.len() == b.len() && a.eq_ignore_ascii_case(b) {
        return true;
    }
    if a.is_ascii() && b.is_ascii() {
        return false;
    }
    let mut x = a.chars().map(fold_char);
    let mut y = b.chars().map(fold_char);
    loop {
        match (x.next(), y.next()) {
            (None, None) => return true,
            (Some(p), Some(q)) if p == q => {}
            (Some(p), Some(q)) => {
                // Other Unicode case pairs: compare their simple lower-case forms.
                let lp = p.to_lowercase().next();
                let lq = q.to_lowercase().next();
                if lp != lq {
                    return false;
                }
            }
            _ => return false,
        }
    }
}

/// The key under which a host is indexed: [`fold_char`] applied to every character. Borrows
/// when the host is already folded.
pub(crate) fn fold_key(s: &str) -> Cow<'_, str> {
    if s.is_ascii() {
        return if s.bytes().any(|b| b.is_ascii_uppercase()) {
            Cow::Owned(s.to_ascii_lowercase())
        } else {
            Cow::Borrowed(s)
        };
    }
    Cow::Owned(s.chars().map(fold_char).collect())
}

/// Go's `strings.TrimSpace` (Unicode white space).
pub fn trim_space(s: &str) -> &str {
    s.trim_matches(|c: char| c.is_whitespace())
}

/// Go's `net.SplitHostPort`: splits `host:port`, `[host]:port`; the port may be empty. Returns
/// `None` where Go returns an error (no colon, too many colons, misplaced brackets).
pub fn split_host_port(hostport: &str) -> Option<(&str, &str)> {
    let i = hostport.rfind(':')?;
    let (host, j, k);
    if let Some(rest) = hostport.strip_prefix('[') {
        let end = rest.find(']')? + 1;
        if end + 1 != i {
            return None;
        }
        host = &hostport[1..end];
        j = 1;
        k = end + 1;
    } else {
        host = &hostport[..i];
        if host.contains(':') {
            return None;
        }
        j = 0;
        k = i + 1;
    }
    if hostport[j..].contains('[') || hostport[k..].contains(']') {
        return None;
    }
    Some((host, &hostport[i + 1..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_host_port_like_go() {
        assert_eq!(split_host_port("a.com:80"), Some(("a.com", "80")));
        assert_eq!(split_host_port("a.com:"), Some(("a.com", "")));
        assert_eq!(split_host_port("[::1]:80"), Some(("::1", "80")));
        assert_eq!(split_host_port("a.com"), None);
        assert_eq!(split_host_port("::1"), None);
        assert_eq!(split_host_port("[::1]"), None);
        assert_eq!(split_host_port("[::1]x:80"), None);
        assert_eq!(split_host_port("[a[b]:80"), None);
    }

    #[test]
    fn case_helpers() {
        assert_eq!(go_lower("AbC"), "abc");
        assert_eq!(go_lower("İ"), "i");
        assert_eq!(go_upper("get"), "GET");
        assert_eq!(go_upper("ß"), "ß");
        assert!(eq_fold("Example.COM", "example.com"));
        assert!(eq_fold("\u{17F}.com", "s.com"));
        assert!(!eq_fold("a.com", "b.com"));
    }
}
