//! `basicAuth` (Traefik `pkg/middlewares/auth/basic_auth.go`): a request whose
//! `Authorization: Basic` credentials match an htpasswd user goes on (its user name in
//! `headerField` when set, without `Authorization` when `removeHeader`); any other gets Go's
//! `401 Unauthorized` with `WWW-Authenticate: Basic realm="<realm>"`.
//!
//! bcrypt and MD5-crypt checks are slow by design (milliseconds), and a worker runs them on
//! its event loop, so the result of a check is remembered per middleware (a SHA-256 of the
//! user, password and secret: no password is kept), as Caddy does: a client repeating its
//! credentials costs one check, not one per request. A user name Traefik does not know is
//! checked against another user's secret, so that it takes as long as a known one.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

use super::htpasswd::{check_secret, Scheme};
use super::users::{basic_user, load_users, pass_user};
use super::{FileReader, Middleware, RequestAction, RequestContext};
use crate::config::dynamic;
use crate::http::{HeaderName, LocalResponse, RequestHead};

/// How many check results a middleware remembers; it forgets them all when full.
const REMEMBERED: usize = 4096;

/// The built `basicAuth` middleware.
#[derive(Debug)]
pub struct BasicAuth {
    users: BTreeMap<String, String>,
    /// The secret a name without user is checked against (Traefik's `notFoundSecret`).
    not_found_secret: String,
    realm_challenge: bytes::Bytes,
    header_field: Option<HeaderName>,
    remove_header: bool,
    remembered: Mutex<HashMap<[u8; 32], bool>>,
}

impl BasicAuth {
    /// Builds `basicAuth`; `read` reads `usersFile`.
    pub fn new(cfg: &dynamic::BasicAuth, read: FileReader) -> Result<Self, String> {
        let users = load_users(&cfg.users_file, &cfg.users, read, basic_user)?;
        let Some(not_found_secret) = users.values().next().cloned() else {
            return Err(format!("no users found in {}", cfg.users_file));
        };
        let realm = if cfg.realm.is_empty() {
            "traefik"
        } else {
            &cfg.realm
        };
        Ok(BasicAuth {
            users,
            not_found_secret,
            realm_challenge: format!("Basic realm=\"{realm}\"").into(),
            header_field: (!cfg.header_field.is_empty())
                .then(|| HeaderName::verbatim(&cfg.header_field)),
            remove_header: cfg.remove_header,
            remembered: Mutex::new(HashMap::new()),
        })
    }

    /// Whether `password` is `user`'s.
    fn check(&self, user: &str, password: &[u8]) -> bool {
        let (secret, known) = match self.users.get(user) {
            Some(s) => (s.as_str(), true),
            None => (self.not_found_secret.as_str(), false),
        };
        if !Scheme::of(secret).is_slow() {
            return check_secret(password, secret) && known;
        }
        let key = remember_key(user, password, secret);
        let remembered = self
            .remembered
            .lock()
            .ok()
            .and_then(|m| m.get(&key).copied());
        let matched = match remembered {
            Some(m) => m,
            None => {
                let m = check_secret(password, secret);
                if let Ok(mut map) = self.remembered.lock() {
                    if map.len() >= REMEMBERED {
                        map.clear();
                    }
                    map.insert(key, m);
                }
                m
            }
        };
        matched && known
    }

    /// Go's `RequireAuth`: 401, `Content-Type: text/plain`, the challenge.
    fn challenge(&self) -> LocalResponse {
        let mut r = LocalResponse::new(401, &b"401 Unauthorized\n"[..]);
        r.headers.set("Content-Type", "text/plain");
        r.headers
            .set_shared("Www-Authenticate", self.realm_challenge.clone());
        r
    }
}

/// The key a check's result is remembered under.
fn remember_key(user: &str, password: &[u8], secret: &str) -> [u8; 32] {
    let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
    for part in [user.as_bytes(), password, secret.as_bytes()] {
        ctx.update(&(part.len() as u64).to_le_bytes());
        ctx.update(part);
    }
    let mut key = [0u8; 32];
    key.copy_from_slice(ctx.finish().as_ref());
    key
}

/// Go's `Request.BasicAuth`: the first `Authorization` value, `Basic ` in any case, Go's
/// base64, then user and password split at the first `:`.
pub fn basic_credentials(head: &RequestHead) -> Option<(String, Vec<u8>)> {
    let value = head.headers.get("Authorization")?;
    if value.len() < 6 || !value[..6].eq_ignore_ascii_case(b"Basic ") {
        return None;
    }
    let decoded = super::go_base64::decode(&value[6..])?;
    let colon = decoded.iter().position(|b| *b == b':')?;
    let user = String::from_utf8_lossy(&decoded[..colon]).into_owned();
    Some((user, decoded[colon + 1..].to_vec()))
}

impl Middleware for BasicAuth {
    /// Traefik logs the user of the credentials given, right or wrong (an empty one without).
    fn client_username(&self, head: &RequestHead) -> Option<String> {
        Some(
            basic_credentials(head)
                .map(|(user, _)| user)
                .unwrap_or_default(),
        )
    }

    fn has_response_side(&self) -> bool {
        false
    }

    fn on_request(&self, head: &mut RequestHead, _cx: &RequestContext<'_>) -> RequestAction {
        let Some((user, password)) = basic_credentials(head) else {
            return RequestAction::Respond(self.challenge());
        };
        if !self.check(&user, &password) {
            return RequestAction::Respond(self.challenge());
        }
        pass_user(head, self.header_field.as_ref(), self.remove_header, user);
        RequestAction::Continue
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::middleware::tests_support::{cx, get};

    const TEST: &str = "test:$apr1$H6uskkkW$IgXLP6ewTrSuBkTrqE8wj/";

    fn no_files(path: &str) -> Result<String, String> {
        Err(format!("open {path}: no such file or directory"))
    }

    fn build(yaml: &str) -> Result<BasicAuth, String> {
        let doc = format!("http:\n  middlewares:\n    m:\n      basicAuth: {yaml}\n");
        let l = crate::config::dynamic::load_dynamic(&doc, crate::config::Format::Yaml, None);
        assert!(!l.is_fatal(), "{:?}", l.diagnostics);
        let http = l.config.http.unwrap();
        BasicAuth::new(
            http.middlewares["m"].basic_auth.as_deref().unwrap(),
            no_files,
        )
    }

    fn with_auth(value: &str) -> RequestHead {
        let mut r = get("/");
        r.headers.append("Authorization", value.to_string());
        r
    }

    fn basic(user_password: &str) -> RequestHead {
        with_auth(&format!(
            "Basic {}",
            crate::middleware::go_base64::encode(user_password.as_bytes())
        ))
    }

    #[test]
    fn good_credentials_go_on_and_others_get_the_challenge() {
        let m = build(&format!("{{users: [\"{TEST}\"]}}")).unwrap();
        let mut ok = basic("test:test");
        assert_eq!(m.on_request(&mut ok, &cx()), RequestAction::Continue);
        assert!(ok.headers.contains("Authorization"), "kept by default");
        for mut bad in [
            get("/"),
            basic("test:wrong"),
            basic("nobody:test"),
            basic("test"),
            with_auth("Bearer dGVzdDp0ZXN0"),
            with_auth("Basic dGVzdDp0ZXN0="),
        ] {
            let RequestAction::Respond(r) = m.on_request(&mut bad, &cx()) else {
                panic!("let through: {:?}", bad.headers);
            };
            assert_eq!(r.status, 401);
            assert_eq!(r.body, b"401 Unauthorized\n");
            assert_eq!(r.headers.get_str("Content-Type"), Some("text/plain"));
            assert_eq!(
                r.headers.get_str("Www-Authenticate"),
                Some("Basic realm=\"traefik\"")
            );
        }
        // The scheme's name in any case, as Go reads it.
        let mut lower = with_auth("basic dGVzdDp0ZXN0");
        assert_eq!(m.on_request(&mut lower, &cx()), RequestAction::Continue);
        // A remembered result answers the same.
        assert_eq!(m.remembered.lock().unwrap().len(), 3);
        let mut again = basic("test:wrong");
        assert!(matches!(
            m.on_request(&mut again, &cx()),
            RequestAction::Respond(_)
        ));
    }

    #[test]
    fn header_field_realm_and_remove_header() {
        let m = build(&format!(
            "{{users: [\"{TEST}\"], headerField: x-user, removeHeader: true, realm: \"my \\\"realm\\\"\"}}"
        ))
        .unwrap();
        let mut req = basic("test:test");
        req.headers.append("X-User", "admin");
        req.headers.append("x-user", "b");
        assert_eq!(m.on_request(&mut req, &cx()), RequestAction::Continue);
        let lines: Vec<(&str, &[u8])> = req
            .headers
            .iter()
            .map(|l| (&*l.name, &l.value[..]))
            .collect();
        assert_eq!(lines, [("x-user", &b"test"[..])]);
        let RequestAction::Respond(r) = m.on_request(&mut get("/"), &cx()) else {
            panic!()
        };
        assert_eq!(
            r.headers.get_str("Www-Authenticate"),
            Some("Basic realm=\"my \"realm\"\"")
        );
    }

    #[test]
    fn configuration_errors_are_traefiks() {
        assert_eq!(build("{users: []}").unwrap_err(), "no users found in ");
        assert_eq!(
            build("{users: [test]}").unwrap_err(),
            "error parsing BasicUser: test"
        );
        assert_eq!(
            build("{usersFile: /nope}").unwrap_err(),
            "open /nope: no such file or directory"
        );
    }
}
