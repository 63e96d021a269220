//! `digestAuth` (Traefik `pkg/middlewares/auth/digest_auth.go` over its fork of
//! `go-http-auth`): RFC 2617 digest authentication with `qop="auth"` and MD5. A request whose
//! `Authorization: Digest` answer is right for a nonce this middleware issued, with a nonce
//! count above the last one seen, goes on (its user name in `headerField` when set, without
//! `Authorization` when `removeHeader`); any other gets `401 Unauthorized` with a new
//! challenge (`stale="true"` when the count went backwards: out-of-order requests).
//!
//! Users are `user:realm:HA1` lines (`users`, `usersFile`). The nonces issued are remembered
//! (up to 1,100; the 200 least recently used are forgotten past that), with the count last
//! seen for each. The opaque value and the nonces are random: keyed SipHash over a counter,
//! its keys drawn from the operating system by the standard library.

use std::collections::{BTreeMap, HashMap};
use std::hash::{BuildHasher, Hasher};
use std::sync::Mutex;

use md5::{Digest, Md5};

use super::users::{load_users, pass_user};
use super::{FileReader, Middleware, RequestAction, RequestContext};
use crate::config::dynamic;
use crate::http::{HeaderName, LocalResponse, RequestHead};

/// Nonces remembered before some are forgotten, and how many are forgotten then (twice the
/// tolerance), as `go-http-auth`'s defaults.
const CACHE_SIZE: usize = 1000;
const CACHE_TOLERANCE: usize = 100;

/// What is known of an issued nonce.
#[derive(Debug, Clone, Copy)]
struct Client {
    /// The last nonce count accepted (0: none yet).
    nc: u64,
    /// When it was issued or last used (the worker's clock).
    last_seen: u64,
}

/// The built `digestAuth` middleware.
#[derive(Debug)]
pub struct DigestAuth {
    /// `user:realm` to HA1.
    users: BTreeMap<String, String>,
    realm: String,
    opaque: String,
    header_field: Option<HeaderName>,
    remove_header: bool,
    clients: Mutex<HashMap<String, Client>>,
    random: Random,
}

/// Random keys: SipHash under keys the standard library draws from the operating system,
/// over a counter.
#[derive(Debug)]
struct Random {
    keys: std::collections::hash_map::RandomState,
    counter: std::sync::atomic::AtomicU64,
}

impl Random {
    fn new() -> Self {
        Random {
            keys: std::collections::hash_map::RandomState::new(),
            counter: std::sync::atomic::AtomicU64::new(0),
        }
    }

    /// `go-http-auth`'s `RandomKey`: 12 random bytes in standard base64.
    fn key(&self) -> String {
        let mut bytes = [0u8; 16];
        for half in bytes.chunks_mut(8) {
            let n = self
                .counter
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let mut h = self.keys.build_hasher();
            h.write_u64(n);
            half.copy_from_slice(&h.finish().to_le_bytes());
        }
        super::go_base64::encode(&bytes[..12])
    }
}

/// Lower-case hex MD5.
fn h(data: &str) -> String {
    Md5::digest(data.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// `digestAuth`'s line parser: `user:realm:HA1`.
fn digest_user(line: &str) -> Result<(String, String), String> {
    let parts: Vec<&str> = line.split(':').collect();
    match parts.as_slice() {
        [user, realm, ha1] => Ok((format!("{user}:{realm}"), ha1.to_string())),
        _ => Err(format!("error parsing DigestUser: {line}")),
    }
}

/// The parameters of an `Authorization: Digest ...` value (`go-http-auth`'s
/// `DigestAuthParams`: the scheme exactly `Digest`, then comma-separated pairs, quoted values
/// unquoted; an empty value is empty, as Traefik 3.7.15 reads it).
fn params(value: &str) -> Option<HashMap<String, String>> {
    let (scheme, rest) = value.split_once(' ')?;
    if scheme != "Digest" {
        return None;
    }
    let mut out = HashMap::new();
    for pair in list(rest.trim()) {
        match pair.split_once('=') {
            None => {
                out.insert(pair, String::new());
            }
            Some((k, v)) => {
                let v = if v.len() >= 2 && v.starts_with('"') && v.ends_with('"') {
                    &v[1..v.len() - 1]
                } else {
                    v
                };
                out.insert(k.to_string(), v.to_string());
            }
        }
    }
    Some(out)
}

/// RFC 2068 list splitting as `go-http-auth`'s `ParseList`: commas outside quotes split,
/// a backslash inside quotes escapes the next character (dropped), parts trimmed.
fn list(value: &str) -> Vec<String> {
    let mut out = Vec::new();
    let (mut escape, mut quote) = (false, false);
    let mut part = String::new();
    for c in value.chars() {
        if escape {
            part.push(c);
            escape = false;
        } else if quote {
            if c == '\\' {
                escape = true;
            } else {
                if c == '"' {
                    quote = false;
                }
                part.push(c);
            }
        } else if c == ',' {
            out.push(part.trim().to_string());
            part.clear();
        } else {
            if c == '"' {
                quote = true;
            }
            part.push(c);
        }
    }
    if !part.is_empty() {
        out.push(part.trim().to_string());
    }
    out
}

/// What checking a request's answer gave.
enum Checked {
    User(String),
    Refused,
    /// Right, but its nonce count went backwards.
    Stale,
}

impl DigestAuth {
    /// Builds `digestAuth`; `read` reads `usersFile`.
    pub fn new(cfg: &dynamic::DigestAuth, read: FileReader) -> Result<Self, String> {
        let users = load_users(&cfg.users_file, &cfg.users, read, digest_user)?;
        let random = Random::new();
        Ok(DigestAuth {
            users,
            realm: if cfg.realm.is_empty() {
                "traefik".into()
            } else {
                cfg.realm.clone()
            },
            opaque: random.key(),
            header_field: (!cfg.header_field.is_empty())
                .then(|| HeaderName::verbatim(&cfg.header_field)),
            remove_header: cfg.remove_header,
            clients: Mutex::new(HashMap::new()),
            random,
        })
    }

    /// `go-http-auth`'s `CheckAuth`.
    fn check(&self, head: &RequestHead, now: u64) -> Checked {
        let Some(value) = head.headers.get("Authorization") else {
            return Checked::Refused;
        };
        let Some(auth) = params(&String::from_utf8_lossy(value)) else {
            return Checked::Refused;
        };
        let get = |k: &str| auth.get(k).map_or("", String::as_str);
        let algorithm = auth.get("algorithm").map_or("MD5", String::as_str);
        if self.opaque != get("opaque") || algorithm != "MD5" || get("qop") != "auth" {
            return Checked::Refused;
        }
        let uri = get("uri");
        if head.target() != uri {
            // Another form of the request's path is accepted when it is a prefix of it.
            let path = uri.split(['?', '#']).next().unwrap_or("");
            let Ok(path) = crate::http::percent::unescape(path, false) else {
                return Checked::Refused;
            };
            let Ok(current) = crate::http::percent::unescape(&head.path, false) else {
                return Checked::Refused;
            };
            if path.len() > current.len() || !current.starts_with(&path) {
                return Checked::Refused;
            }
        }
        let user = get("username");
        let ha1 = self
            .users
            .get(&format!("{user}:{}", self.realm))
            .map_or("", String::as_str);
        let ha2 = h(&format!("{}:{uri}", &*head.method));
        let (nonce, nc_text, cnonce) = (get("nonce"), get("nc"), get("cnonce"));
        let kd = h(&format!(
            "{ha1}:{nonce}:{nc_text}:{cnonce}:{}:{ha2}",
            get("qop")
        ));
        if !ring_eq(kd.as_bytes(), get("response").as_bytes()) {
            return Checked::Refused;
        }
        let Ok(nc) = u64::from_str_radix(nc_text, 16) else {
            return Checked::Refused;
        };
        let mut clients = self.clients.lock().unwrap_or_else(|e| e.into_inner());
        let Some(client) = clients.get_mut(nonce) else {
            return Checked::Refused;
        };
        if client.nc != 0 {
            if nc == client.nc {
                return Checked::Refused;
            }
            if nc < client.nc {
                return Checked::Stale;
            }
        }
        client.nc = nc;
        client.last_seen = now;
        Checked::User(user.to_string())
    }

    /// `requireAuth`: a new nonce, and the 401 carrying it.
    fn challenge(&self, now: u64, stale: bool) -> LocalResponse {
        let nonce = self.random.key();
        {
            let mut clients = self.clients.lock().unwrap_or_else(|e| e.into_inner());
            if clients.len() > CACHE_SIZE + CACHE_TOLERANCE {
                let mut by_age: Vec<(u64, String)> = clients
                    .iter()
                    .map(|(n, c)| (c.last_seen, n.clone()))
                    .collect();
                by_age.sort_unstable();
                for (_, n) in by_age.into_iter().take(CACHE_TOLERANCE * 2) {
                    clients.remove(&n);
                }
            }
            clients.insert(
                nonce.clone(),
                Client {
                    nc: 0,
                    last_seen: now,
                },
            );
        }
        let stale = if stale { "stale=\"true\", " } else { "" };
        let challenge = format!(
            "Digest realm=\"{}\", nonce=\"{nonce}\", opaque=\"{}\", {stale}algorithm=\"MD5\", qop=\"auth\"",
            self.realm, self.opaque
        );
        let mut r = LocalResponse::new(401, &b"401 Unauthorized\n"[..]);
        r.headers.set("Content-Type", "text/plain");
        r.headers.set("Www-Authenticate", challenge);
        r
    }
}

/// Constant-time equality (Go's `subtle.ConstantTimeCompare`).
fn ring_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

impl Middleware for DigestAuth {
    /// The `username` of the digest answer, right or wrong (Traefik reads a refused answer's
    /// from `headerField` when set, where this reads `Authorization`).
    fn client_username(&self, head: &RequestHead) -> Option<String> {
        let value = head.headers.get("Authorization")?;
        params(&String::from_utf8_lossy(value))?
            .remove("username")
            .filter(|u| !u.is_empty())
    }

    fn has_response_side(&self) -> bool {
        false
    }

    fn on_request(&self, head: &mut RequestHead, cx: &RequestContext<'_>) -> RequestAction {
        let user = match self.check(head, cx.now) {
            Checked::User(user) => user,
            Checked::Refused => return RequestAction::Respond(self.challenge(cx.now, false)),
            Checked::Stale => return RequestAction::Respond(self.challenge(cx.now, true)),
        };
        pass_user(head, self.header_field.as_ref(), self.remove_header, user);
        RequestAction::Continue
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::middleware::tests_support::{cx, get};

    fn build(users: &[&str]) -> DigestAuth {
        let cfg = dynamic::DigestAuth {
            users: users.iter().map(|u| u.to_string()).collect(),
            ..Default::default()
        };
        DigestAuth::new(&cfg, crate::middleware::no_files).unwrap()
    }

    /// The nonce of a challenge.
    fn nonce(r: &LocalResponse) -> String {
        let v = String::from_utf8(r.headers.get("Www-Authenticate").unwrap().to_vec()).unwrap();
        let start = v.find("nonce=\"").unwrap() + 7;
        v[start..start + v[start..].find('"').unwrap()].to_string()
    }

    /// An answer for `user`/`password` to `nonce` with count `nc`.
    fn answer(m: &DigestAuth, user: &str, password: &str, nonce: &str, nc: &str) -> RequestHead {
        let ha1 = h(&format!("{user}:traefik:{password}"));
        let ha2 = h("GET:/");
        let response = h(&format!("{ha1}:{nonce}:{nc}:abc:auth:{ha2}"));
        let mut r = get("/");
        r.headers.append(
            "Authorization",
            format!("Digest username=\"{user}\", realm=\"traefik\", nonce=\"{nonce}\", uri=\"/\", qop=auth, nc={nc}, cnonce=\"abc\", response=\"{response}\", opaque=\"{}\"", m.opaque),
        );
        r
    }

    #[test]
    fn the_challenge_then_a_right_answer_then_replays_and_stale_counts() {
        let m = build(&["test:traefik:a2688e031edb4be6a3797f3882655c05"]);
        let RequestAction::Respond(first) = m.on_request(&mut get("/"), &cx()) else {
            panic!("no challenge")
        };
        assert_eq!(first.status, 401);
        let www =
            String::from_utf8(first.headers.get("Www-Authenticate").unwrap().to_vec()).unwrap();
        assert!(
            www.starts_with("Digest realm=\"traefik\", nonce=\""),
            "{www}"
        );
        assert!(
            www.ends_with("\", algorithm=\"MD5\", qop=\"auth\""),
            "{www}"
        );
        let n = nonce(&first);
        let mut ok = answer(&m, "test", "test", &n, "00000002");
        assert_eq!(m.on_request(&mut ok, &cx()), RequestAction::Continue);
        // The same count again is refused; a lower one is stale.
        let mut again = answer(&m, "test", "test", &n, "00000002");
        let RequestAction::Respond(r) = m.on_request(&mut again, &cx()) else {
            panic!("replay let through")
        };
        assert!(
            !String::from_utf8_lossy(r.headers.get("Www-Authenticate").unwrap()).contains("stale")
        );
        let mut older = answer(&m, "test", "test", &n, "00000001");
        let RequestAction::Respond(r) = m.on_request(&mut older, &cx()) else {
            panic!("stale let through")
        };
        assert!(
            String::from_utf8_lossy(r.headers.get("Www-Authenticate").unwrap())
                .contains("stale=\"true\", algorithm")
        );
        // A wrong password, or a nonce never issued.
        for mut bad in [
            answer(&m, "test", "nope", &n, "00000003"),
            answer(&m, "test", "test", "bm90IGlzc3VlZA==", "00000001"),
        ] {
            assert!(matches!(
                m.on_request(&mut bad, &cx()),
                RequestAction::Respond(_)
            ));
        }
    }

    #[test]
    fn lines_and_lists_as_go_reads_them() {
        assert!(digest_user("test").is_err());
        assert_eq!(
            digest_user("a:r:h").unwrap(),
            ("a:r".to_string(), "h".to_string())
        );
        assert_eq!(list(r#"a="x, y", b=c"#), vec![r#"a="x, y""#, "b=c"]);
        let p = params(r#"Digest a="q\"d", b=2, c, d="#).unwrap();
        assert_eq!(p["a"], "q\"d");
        assert_eq!(p["b"], "2");
        assert_eq!(p["c"], "");
        assert_eq!(p["d"], "");
        assert!(params("Basic abc").is_none());
    }
}
