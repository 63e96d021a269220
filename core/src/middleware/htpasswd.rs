//! htpasswd secrets, checked as Traefik's auth library (`go-http-auth`'s `CheckSecret`) does:
//! `{SHA}` is base64 SHA-1, `$2a$`/`$2b$`/`$2x$`/`$2y$` are bcrypt, and anything else is read
//! as an MD5-crypt string `$magic$salt$hash` (`$apr1$` from `htpasswd`, `$1$` from
//! `openssl passwd -1`). A plain-text secret never matches: it is not a hash.

use md5::{Digest, Md5};

/// How a secret is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    /// `{SHA}`: one SHA-1, cheap.
    Sha,
    /// bcrypt: deliberately slow (2^cost rounds).
    Bcrypt,
    /// MD5-crypt: 1,000 MD5 rounds.
    Md5Crypt,
}

impl Scheme {
    /// The scheme of `secret`, by its prefix.
    pub fn of(secret: &str) -> Scheme {
        if secret.starts_with("{SHA}") {
            Scheme::Sha
        } else if ["$2a$", "$2b$", "$2x$", "$2y$"]
            .iter()
            .any(|p| secret.starts_with(p))
        {
            Scheme::Bcrypt
        } else {
            Scheme::Md5Crypt
        }
    }

    /// Whether checking costs enough that a result is worth remembering.
    pub fn is_slow(self) -> bool {
        self != Scheme::Sha
    }
}

/// Whether `password` matches the htpasswd `secret`.
pub fn check_secret(password: &[u8], secret: &str) -> bool {
    match Scheme::of(secret) {
        Scheme::Sha => {
            let digest = ring::digest::digest(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY, password);
            let want = super::go_base64::encode(digest.as_ref());
            constant_time_eq(&secret.as_bytes()[5..], want.as_bytes())
        }
        Scheme::Bcrypt => bcrypt::verify(password, secret).unwrap_or(false),
        Scheme::Md5Crypt => {
            // `$magic$salt$rest`: the magic and salt as found, the whole string compared.
            let mut parts = secret.splitn(4, '$');
            let (Some(_), Some(magic), Some(salt), Some(_)) =
                (parts.next(), parts.next(), parts.next(), parts.next())
            else {
                return false;
            };
            let magic = format!("${magic}$");
            let computed = md5_crypt(password, salt.as_bytes(), magic.as_bytes());
            constant_time_eq(secret.as_bytes(), &computed)
        }
    }
}

/// Compares without stopping at the first difference.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The crypt alphabet.
const ITOA64: &[u8; 64] = b"./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// The order in which MD5-crypt writes the digest's bytes.
const SWAPS: [usize; 16] = [12, 6, 0, 13, 7, 1, 14, 8, 2, 15, 9, 3, 5, 10, 4, 11];

/// Poul-Henning Kamp's MD5-crypt: `magic salt $ hash`, with the salt used whole, as the Go
/// library does (C implementations cut it at 8 bytes; `htpasswd` and `openssl` never write
/// longer ones).
pub fn md5_crypt(password: &[u8], salt: &[u8], magic: &[u8]) -> Vec<u8> {
    let mut d = Md5::new();
    d.update(password);
    d.update(magic);
    d.update(salt);
    let mixin = Md5::new()
        .chain_update(password)
        .chain_update(salt)
        .chain_update(password)
        .finalize();
    for i in 0..password.len() {
        d.update([mixin[i % 16]]);
    }
    let mut i = password.len();
    while i != 0 {
        d.update([if i & 1 == 0 { password[0] } else { 0 }]);
        i >>= 1;
    }
    let mut last: [u8; 16] = d.finalize().into();
    for round in 0..1000 {
        let mut d = Md5::new();
        if round & 1 == 0 {
            d.update(last);
        } else {
            d.update(password);
        }
        if round % 3 != 0 {
            d.update(salt);
        }
        if round % 7 != 0 {
            d.update(password);
        }
        if round & 1 == 0 {
            d.update(password);
        } else {
            d.update(last);
        }
        last = d.finalize().into();
    }
    let mut out = Vec::with_capacity(magic.len() + salt.len() + 23);
    out.extend_from_slice(magic);
    out.extend_from_slice(salt);
    out.push(b'$');
    let (mut v, mut bits) = (0u32, 0u32);
    for i in SWAPS {
        v |= u32::from(last[i]) << bits;
        bits += 8;
        while bits > 6 {
            out.push(ITOA64[(v & 0x3f) as usize]);
            v >>= 6;
            bits -= 6;
        }
    }
    out.push(ITOA64[(v & 0x3f) as usize]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn md5_crypt_matches_htpasswd_and_openssl() {
        // `openssl passwd -apr1 -salt H6uskkkW test` and `openssl passwd -1 -salt abcdefgh pw1`.
        assert!(check_secret(
            b"test",
            "$apr1$H6uskkkW$IgXLP6ewTrSuBkTrqE8wj/"
        ));
        assert!(check_secret(b"pw1", "$1$abcdefgh$CSewKYDMd6dmHkTqkKYk60"));
        assert!(!check_secret(
            b"Test",
            "$apr1$H6uskkkW$IgXLP6ewTrSuBkTrqE8wj/"
        ));
        assert!(!check_secret(
            b"pw1",
            "$apr1$abcdefgh$CSewKYDMd6dmHkTqkKYk60"
        ));
        assert!(!check_secret(b"", "$apr1$H6uskkkW$IgXLP6ewTrSuBkTrqE8wj/"));
        // Traefik's own test users.
        assert!(check_secret(
            b"test2",
            "$apr1$d9hr9HBB$4HxwgUir3HP4EsggP/QNo0"
        ));
        assert!(check_secret(
            b"test3",
            "$apr1$3rJbDP0q$RfzJiorTk78jQ1EcKqWso0"
        ));
    }

    #[test]
    fn sha_and_bcrypt() {
        // `{SHA}` + base64(SHA-1("pw2")).
        assert!(check_secret(b"pw2", "{SHA}8Wyi36Noi/CMek4hVErxW9WYy3A="));
        assert!(!check_secret(b"pw3", "{SHA}8Wyi36Noi/CMek4hVErxW9WYy3A="));
        // Python's bcrypt, cost 5.
        let h = "$2b$05$lS2/kEPDhs39DosUzfTU/e7pUTzV3THTMG18Rl/XFhv3NqclPLw4a";
        assert!(check_secret(b"pw3", h));
        assert!(!check_secret(b"pw2", h));
        for v in ["$2a$", "$2y$"] {
            assert!(check_secret(b"pw3", &h.replacen("$2b$", v, 1)), "{v}");
        }
        assert!(!check_secret(b"pw3", "$2y$05$short"));
    }

    #[test]
    fn plain_text_and_broken_secrets_never_match() {
        for secret in [
            "test",
            "",
            "$",
            "$apr1$",
            "$apr1$salt",
            "{SHA}",
            "{SHA}test",
        ] {
            assert!(!check_secret(b"test", secret), "{secret:?}");
            assert!(!check_secret(b"", secret), "{secret:?}");
        }
        assert_eq!(Scheme::of("test"), Scheme::Md5Crypt);
        assert!(!Scheme::Sha.is_slow());
    }
}
