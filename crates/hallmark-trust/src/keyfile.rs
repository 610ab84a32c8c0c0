//! Private keys at rest. The CA key is PKCS#8 encrypted with PBES2 (PBKDF2-HMAC-SHA256,
//! 600 000 iterations, AES-256-CBC) under a passphrase, mode 0600 — the standard form that
//! `openssl pkey -in ca.key` also opens, so a bureau can move to other CA software later.
//! A server's TLS key is plain PKCS#8 (mode 0600): a server starts unattended.

use std::path::Path;

use pkcs8::der::pem::LineEnding;
use pkcs8::pkcs5::pbes2;
use pkcs8::{EncryptedPrivateKeyInfo, PrivateKeyInfo};

use crate::{malformed, Result, TrustError};

pub const MIN_PASSPHRASE_CHARS: usize = 10;
const ITERATIONS: u32 = 600_000;

/// Encrypts a PKCS#8 DER private key under `passphrase`, as PEM "ENCRYPTED PRIVATE KEY".
pub fn encrypt(pkcs8_der: &[u8], passphrase: &str) -> Result<String> {
    if passphrase.chars().count() < MIN_PASSPHRASE_CHARS {
        return Err(TrustError::Authority(format!(
            "the passphrase has {} characters; use at least {MIN_PASSPHRASE_CHARS} (it protects the bureau's signing key)",
            passphrase.chars().count()
        )));
    }
    let mut salt = [0u8; 16];
    let mut iv = [0u8; 16];
    getrandom::getrandom(&mut salt).and_then(|_| getrandom::getrandom(&mut iv)).map_err(|e| TrustError::Io(format!("no randomness: {e}")))?;
    let params = pbes2::Parameters::pbkdf2_sha256_aes256cbc(ITERATIONS, &salt, &iv).map_err(|e| TrustError::Io(format!("key encryption: {e}")))?;
    let info = PrivateKeyInfo::try_from(pkcs8_der).map_err(|e| TrustError::Io(format!("not a PKCS#8 key: {e}")))?;
    let doc = info.encrypt_with_params(params, passphrase.as_bytes()).map_err(|e| TrustError::Io(format!("key encryption: {e}")))?;
    let pem = doc.to_pem("ENCRYPTED PRIVATE KEY", LineEnding::LF).map_err(|e| TrustError::Io(format!("key encoding: {e}")))?;
    Ok(pem.to_string())
}

/// Decrypts an encrypted key file's text to PKCS#8 DER. `file` names it in messages.
pub fn decrypt(file: &str, text: &[u8], passphrase: &str) -> Result<Vec<u8>> {
    let text = std::str::from_utf8(text).map_err(|_| malformed(file, "is not a PEM key file (binary data)"))?;
    let (label, der) = pkcs8::der::pem::decode_vec(text.as_bytes())
        .map_err(|e| malformed(file, format!("is not a PEM key file ({e}): truncated or damaged; restore it from the backup")))?;
    match label {
        "ENCRYPTED PRIVATE KEY" => {}
        "PRIVATE KEY" => return Err(malformed(file, "is an unencrypted key: the CA key must be encrypted (hallmark ca init writes it so)")),
        "CERTIFICATE" => return Err(malformed(file, "is a certificate, not the CA's key (the key is ca.key in the CA folder)")),
        other => return Err(malformed(file, format!("holds a '{other}' block, not an encrypted private key"))),
    }
    let info = EncryptedPrivateKeyInfo::try_from(der.as_slice()).map_err(|e| malformed(file, format!("is not an encrypted PKCS#8 key: {e}")))?;
    let doc =
        info.decrypt(passphrase.as_bytes()).map_err(|_| TrustError::Authority(format!("{file}: wrong passphrase (or the key file is damaged)")))?;
    Ok(doc.as_bytes().to_vec())
}

/// Reads an encrypted key file, refusing one that others may read.
pub fn read(path: &Path, passphrase: &str) -> Result<Vec<u8>> {
    let file = path.display().to_string();
    let text = std::fs::read(path).map_err(|e| TrustError::Authority(format!("{file}: cannot read the CA key: {e} (is this the CA folder?)")))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path).map(|m| m.permissions().mode() & 0o777).unwrap_or(0);
        if mode & 0o077 != 0 {
            return Err(TrustError::Authority(format!(
                "{file}: the CA key is readable by others (mode {mode:o}); make it private with `chmod 600 {file}` and consider it exposed"
            )));
        }
    }
    decrypt(&file, &text, passphrase)
}

/// Writes a new private file (mode 0600); refuses to replace one.
pub fn write_private(path: &Path, text: &str) -> Result<()> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(path).map_err(|e| TrustError::Io(format!("cannot create {}: {e} (a key is never overwritten)", path.display())))?;
    f.write_all(text.as_bytes()).and_then(|_| f.sync_all()).map_err(|e| TrustError::Io(format!("cannot write {}: {e}", path.display())))
}
