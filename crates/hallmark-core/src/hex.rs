//! Hex, the one way hallmark writes hashes, keys and signatures: lowercase, two digits a byte.
//!
//! [`unhex`] reads only that canonical form, so a hash or key has exactly one spelling
//! everywhere (a signed manifest, a sidecar, a file name). Text a person typed (a roster key)
//! is lowercased by the caller before it gets here.

use sha2::{Digest, Sha256};

pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[(b >> 4) as usize] as char);
        s.push(DIGITS[(b & 0xf) as usize] as char);
    }
    s
}

/// The bytes of a lowercase hex string; `None` for odd length, uppercase or any other digit.
pub fn unhex(s: &str) -> Option<Vec<u8>> {
    let digit = |c: u8| match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        _ => None,
    };
    if !s.len().is_multiple_of(2) {
        return None;
    }
    s.as_bytes().chunks(2).map(|p| Some(digit(p[0])? << 4 | digit(p[1])?)).collect()
}

/// SHA-256 of `bytes` in hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

/// True for a SHA-256 written the canonical way (64 lowercase hex digits).
pub fn is_sha256(s: &str) -> bool {
    s.len() == 64 && unhex(s).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_refuses_other_spellings() {
        let bytes: Vec<u8> = (0..=255).collect();
        assert_eq!(unhex(&hex(&bytes)).unwrap(), bytes);
        assert_eq!(hex(&[0x0a, 0xff]), "0aff");
        for bad in ["0AFF", "0g", "abc", " 0a", "0a\n"] {
            assert_eq!(unhex(bad), None, "{bad:?}");
        }
        assert!(is_sha256(&sha256_hex(b"")));
        assert!(!is_sha256(&sha256_hex(b"").to_uppercase()));
    }
}
