//! The device's identity: an Ed25519 key pair made on first run. The private key lives in the
//! data folder as `device.key` (32-byte seed, mode 0600); its fingerprint is shown in the app
//! and will sign every bundle this device exports.

use std::path::Path;

use ed25519_dalek::{Signer, SigningKey};
use hallmark_core::hex::hex;

use crate::durable::write_private_new;

pub const KEY_FILE: &str = "device.key";

#[derive(Clone)]
pub struct DeviceKey {
    signing: SigningKey,
}

impl DeviceKey {
    /// Loads `dir/device.key`, or makes and stores a new key pair if there is none. A key file
    /// others can read is made private (0600) and the fix noted in `notices`.
    pub fn load_or_create(dir: &Path, notices: &mut Vec<String>) -> Result<DeviceKey, String> {
        let path = dir.join(KEY_FILE);
        match read_key(&path, notices, true) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let mut seed = [0u8; 32];
                getrandom::getrandom(&mut seed).map_err(|e| format!("no randomness for a device key: {e}"))?;
                if write_private_new(&path, &seed).map_err(|e| format!("cannot store {}: {e}", path.display()))? {
                    Ok(DeviceKey { signing: SigningKey::from_bytes(&seed) })
                } else {
                    // Another opener made the key first: that one is this device's key.
                    DeviceKey::load_or_create(dir, notices)
                }
            }
            other => other.map_err(|e| format!("cannot read {}: {e}", path.display()))?,
        }
    }

    /// Loads `dir/device.key` without making or changing anything (a read-only open). With
    /// no key file, a throwaway key stands in: it names nothing and [`crate::Store::signing_key`]
    /// refuses read-only stores anyway.
    pub fn load(dir: &Path, notices: &mut Vec<String>) -> Result<DeviceKey, String> {
        let path = dir.join(KEY_FILE);
        match read_key(&path, notices, false) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(DeviceKey { signing: SigningKey::from_bytes(&[0u8; 32]) }),
            other => other.map_err(|e| format!("cannot read {}: {e}", path.display()))?,
        }
    }

    pub fn public_key_hex(&self) -> String {
        hex(self.signing.verifying_key().as_bytes())
    }

    /// Short, readable form of the public key: the first 16 hex digits of its SHA-256 in
    /// groups of four ("3f9a 07c2 …"), as shown to the team lead.
    pub fn fingerprint(&self) -> String {
        fingerprint_of(self.signing.verifying_key().as_bytes())
    }

    pub fn sign(&self, message: &[u8]) -> [u8; 64] {
        self.signing.sign(message).to_bytes()
    }
}

/// Reads a key file: exactly 32 bytes. One that group or others may read is fixed to 0600
/// when `fix` (else only noted): the key signs as this device.
fn read_key(path: &Path, notices: &mut Vec<String>, fix: bool) -> std::io::Result<Result<DeviceKey, String>> {
    let bytes = std::fs::read(path)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path)?.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            if fix {
                std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
                notices.push(format!(
                    "{} was readable by others (mode {mode:o}): made private (0600); if others could read it, treat the key as exposed",
                    path.display()
                ));
            } else {
                notices.push(format!("{} is readable by others (mode {mode:o}): make it private with `chmod 600`", path.display()));
            }
        }
    }
    let seed: Result<[u8; 32], _> = bytes.as_slice().try_into();
    Ok(match seed {
        Ok(seed) => Ok(DeviceKey { signing: SigningKey::from_bytes(&seed) }),
        Err(_) => Err(format!(
            "{} is {} bytes, not a 32-byte Ed25519 key (restore it from a backup; deleting it makes this device a new signer)",
            path.display(),
            bytes.len()
        )),
    })
}

/// Installs a given key seed as `dir/device.key` (0600) unless a key is already there: for demo
/// data and tests that need the same key every run. A real device makes its own.
pub fn install_seed(dir: &Path, seed: &[u8; 32]) -> Result<(), String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let path = dir.join(KEY_FILE);
    write_private_new(&path, seed).map(|_| ()).map_err(|e| format!("cannot store {}: {e}", path.display()))
}

pub use hallmark_bundle::signature::{fingerprint_of, verify};
