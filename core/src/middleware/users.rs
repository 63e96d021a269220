//! The user lists of `basicAuth` and `digestAuth` (Traefik `pkg/middlewares/auth/auth.go`):
//! the lines of `usersFile` (trimmed; blank lines and `#` comments skipped), then the inline
//! `users`, each parsed into a name and a secret; a later line for the same name wins.

use std::collections::BTreeMap;

use super::FileReader;

/// Reads `users_file` (when set) with `read`, appends `inline`, and parses every line with
/// `parse` into (name, secret). Errors are Traefik's: the file's read error, or the parser's.
pub fn load_users(
    users_file: &str,
    inline: &[String],
    read: FileReader,
    parse: fn(&str) -> Result<(String, String), String>,
) -> Result<BTreeMap<String, String>, String> {
    let mut lines: Vec<String> = Vec::new();
    if !users_file.is_empty() {
        let text = read(users_file)?;
        lines.extend(
            text.split('\n')
                .map(go_trim_space)
                .filter(|l| !l.is_empty() && !l.starts_with('#'))
                .map(str::to_string),
        );
    }
    lines.extend(inline.iter().cloned());
    let mut users = BTreeMap::new();
    for line in &lines {
        let (name, secret) = parse(line)?;
        users.insert(name, secret);
    }
    Ok(users)
}

/// What `basicAuth` and `digestAuth` do to a request they let through: the user name in
/// `headerField` (the canonical name deleted, then the name set as configured), and
/// `Authorization` removed with `removeHeader`.
pub fn pass_user(
    head: &mut crate::http::RequestHead,
    header_field: Option<&crate::http::HeaderName>,
    remove_header: bool,
    user: String,
) {
    if let Some(field) = header_field {
        head.headers.remove(field);
        head.headers.append_named(field, user.into());
    }
    if remove_header {
        head.headers.remove("Authorization");
    }
}

/// Go's `strings.TrimSpace` for the ASCII white space a users file holds.
fn go_trim_space(s: &str) -> &str {
    s.trim_matches(|c: char| c.is_whitespace())
}

/// `basicAuth`'s line parser: exactly one `:` between name and secret.
pub fn basic_user(line: &str) -> Result<(String, String), String> {
    let mut parts = line.split(':');
    match (parts.next(), parts.next(), parts.next()) {
        (Some(name), Some(secret), None) => Ok((name.to_string(), secret.to_string())),
        _ => Err(format!("error parsing BasicUser: {line}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(path: &str) -> Result<String, String> {
        match path {
            "/users" => Ok("# admins\n  a:1  \n\n\tb:2\r\nc:3".into()),
            _ => Err(format!("open {path}: no such file or directory")),
        }
    }

    #[test]
    fn file_lines_then_inline_users_and_the_last_wins() {
        let u = load_users("/users", &["b:9".into(), "d:4".into()], file, basic_user).unwrap();
        let got: Vec<(&str, &str)> = u.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        assert_eq!(got, [("a", "1"), ("b", "9"), ("c", "3"), ("d", "4")]);
    }

    #[test]
    fn errors_are_traefiks() {
        assert_eq!(
            load_users("/nope", &[], file, basic_user).unwrap_err(),
            "open /nope: no such file or directory"
        );
        assert_eq!(
            load_users("", &["test".into()], file, basic_user).unwrap_err(),
            "error parsing BasicUser: test"
        );
        assert!(load_users("", &["a:b:c".into()], file, basic_user).is_err());
        assert!(load_users("", &[], file, basic_user).unwrap().is_empty());
    }
}
