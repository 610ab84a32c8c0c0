//! Who is asking: staff passwords hashed with argon2id (PHC strings), session tokens (random,
//! 32 bytes; only their SHA-256 is stored), a CSRF token per session checked on every form,
//! and a limit on failed logins per username.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;

/// The session cookie's name.
pub const COOKIE: &str = "hallmark_session";
/// How long a session lasts.
pub const SESSION_HOURS: i32 = 8;
/// The shortest password accepted.
pub const MIN_PASSWORD: usize = 10;

/// An argon2id hash of `password` with a fresh salt.
pub fn hash_password(password: &str) -> Result<String, String> {
    if password.chars().count() < MIN_PASSWORD {
        return Err(format!("the password is shorter than {MIN_PASSWORD} characters: choose a longer one"));
    }
    let mut salt = [0u8; 16];
    getrandom::getrandom(&mut salt).map_err(|e| format!("no randomness for the salt: {e}"))?;
    let salt = SaltString::encode_b64(&salt).map_err(|e| e.to_string())?;
    Ok(Argon2::default().hash_password(password.as_bytes(), &salt).map_err(|e| e.to_string())?.to_string())
}

/// Whether `password` matches the PHC string `hash`. At most [`CHECKS_AT_ONCE`] checks run at
/// once (each takes ~19 MiB and tens of milliseconds): a flood of logins waits, it does not
/// exhaust the server's memory.
pub fn password_matches(password: &str, hash: &str) -> bool {
    static GATE: (Mutex<usize>, std::sync::Condvar) = (Mutex::new(0), std::sync::Condvar::new());
    {
        let mut running = GATE.0.lock().unwrap_or_else(|e| e.into_inner());
        while *running >= CHECKS_AT_ONCE {
            running = GATE.1.wait(running).unwrap_or_else(|e| e.into_inner());
        }
        *running += 1;
    }
    let ok = PasswordHash::new(hash).is_ok_and(|h| Argon2::default().verify_password(password.as_bytes(), &h).is_ok());
    *GATE.0.lock().unwrap_or_else(|e| e.into_inner()) -= 1;
    GATE.1.notify_one();
    ok
}

/// How many password checks run at once.
pub const CHECKS_AT_ONCE: usize = 4;

/// Whether a username has the shape every username has (`staff.username`'s check): anything
/// else is refused before any work, and never written anywhere.
pub fn plausible_username(u: &str) -> bool {
    (2..=40).contains(&u.len()) && u.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b))
}

/// A hash no password matches in reasonable time: checked against when the username is
/// unknown, so a wrong username takes as long as a wrong password.
pub fn decoy_hash() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| hash_password("decoy password never used").expect("hashing works"))
}

/// 32 random bytes as hex.
pub fn token() -> Result<String, String> {
    let mut b = [0u8; 32];
    getrandom::getrandom(&mut b).map_err(|e| format!("no randomness: {e}"))?;
    Ok(hallmark_core::hex::hex(&b))
}

pub fn token_sha256(token: &str) -> String {
    hallmark_core::hex::sha256_hex(token.as_bytes())
}

/// The session token in a `Cookie` header.
pub fn cookie_token(cookie_header: &str) -> Option<&str> {
    cookie_header
        .split(';')
        .map(str::trim)
        .find_map(|c| c.strip_prefix(COOKIE).and_then(|r| r.strip_prefix('=')))
        .filter(|t| t.len() == 64 && t.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// Compares two tokens in time independent of where they differ.
pub fn same_token(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Login attempts per username: each attempt is counted *before* its password is checked (so
/// parallel guesses count too); after [`LoginLimit::MAX_FAILURES`] within the window the
/// username is refused (even with the right password) until the window passes; a success
/// clears the count.
#[derive(Default)]
pub struct LoginLimit {
    failures: Mutex<HashMap<String, (u32, Instant)>>,
}

impl LoginLimit {
    pub const MAX_FAILURES: u32 = 5;
    pub const WINDOW: Duration = Duration::from_secs(15 * 60);

    /// `Some(wait)` while the username is locked.
    pub fn locked(&self, username: &str) -> Option<Duration> {
        let map = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        let (n, since) = map.get(username)?;
        let elapsed = since.elapsed();
        (*n >= Self::MAX_FAILURES && elapsed < Self::WINDOW).then(|| Self::WINDOW - elapsed)
    }

    /// Counts an attempt, or refuses it while the username is locked (`Err(wait)`).
    pub fn attempt(&self, username: &str) -> Result<(), Duration> {
        let mut map = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() > 100_000 {
            map.retain(|_, (_, since)| since.elapsed() < Self::WINDOW);
        }
        let e = map.entry(username.to_string()).or_insert((0, Instant::now()));
        if e.1.elapsed() >= Self::WINDOW {
            *e = (0, Instant::now());
        }
        if e.0 >= Self::MAX_FAILURES {
            return Err(Self::WINDOW - e.1.elapsed());
        }
        e.0 += 1;
        Ok(())
    }

    pub fn succeeded(&self, username: &str) {
        self.failures.lock().unwrap_or_else(|e| e.into_inner()).remove(username);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_matches_its_hash_only() {
        let h = hash_password("correct horse battery").unwrap();
        assert!(h.starts_with("$argon2id$"), "{h}");
        assert!(password_matches("correct horse battery", &h));
        assert!(!password_matches("correct horse batterY", &h));
        assert!(!password_matches("correct horse battery", "not a hash"));
        assert!(hash_password("short").unwrap_err().contains("shorter than 10"));
    }

    #[test]
    fn the_cookie_token_is_read_only_in_its_shape() {
        let t = "a".repeat(64);
        assert_eq!(cookie_token(&format!("x=1; {COOKIE}={t}; y=2")), Some(t.as_str()));
        assert_eq!(cookie_token(&format!("{COOKIE}=abc")), None);
        assert_eq!(cookie_token(&format!("{COOKIE}x={t}")), None);
    }

    #[test]
    fn five_failures_lock_a_username_and_a_success_clears() {
        let l = LoginLimit::default();
        for _ in 0..5 {
            assert!(l.attempt("zhang").is_ok());
        }
        assert!(l.locked("zhang").is_some());
        assert!(l.attempt("zhang").is_err(), "the sixth attempt is refused before its password is checked");
        assert!(l.attempt("li").is_ok());
        l.succeeded("zhang");
        assert!(l.locked("zhang").is_none() && l.attempt("zhang").is_ok());
    }
}
