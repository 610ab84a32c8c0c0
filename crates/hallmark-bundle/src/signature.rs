//! Ed25519 signatures and the short fingerprint a person compares.

use ed25519_dalek::{Signature, VerifyingKey};
use hallmark_core::hex::sha256_hex;

/// Verifies an Ed25519 signature by a public key (32 bytes) over `message`.
///
/// `verify_strict`, as ed25519-dalek recommends: it also refuses weak (small-order) keys and
/// non-canonical signatures, so one message has one valid signature per key.
pub fn verify(public_key: &[u8], message: &[u8], signature: &[u8]) -> bool {
    let (Ok(pk), Ok(sig)) = (<[u8; 32]>::try_from(public_key), <[u8; 64]>::try_from(signature)) else {
        return false;
    };
    let Ok(key) = VerifyingKey::from_bytes(&pk) else { return false };
    key.verify_strict(message, &Signature::from_bytes(&sig)).is_ok()
}

/// The first 16 hex digits of the key's SHA-256 in groups of four ("3f9a 07c2 …").
pub fn fingerprint_of(public_key: &[u8]) -> String {
    let h = sha256_hex(public_key);
    [&h[0..4], &h[4..8], &h[8..12], &h[12..16]].join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_small_order_key_never_verifies() {
        // The identity point: `verify` (non-strict) accepts some signatures under it for any message.
        let mut weak = [0u8; 32];
        weak[0] = 1;
        let mut sig = [0u8; 64];
        sig[0] = 1;
        assert!(!verify(&weak, b"any message", &sig));
    }
}
