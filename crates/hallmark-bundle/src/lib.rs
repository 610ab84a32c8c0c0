//! hallmark-bundle: the signed `.hallmark` bundle, one inspection as one file, as bytes.
//!
//! - [`format`]: the wire types, one struct per version (`ManifestV1`, `EventV1`, …). They are
//!   never the store's internal structs: a new field is a new version, and every version ever
//!   written still reads (docs/bundles.md lists which issue introduced which).
//! - [`ustar`]: the strict POSIX ustar reader and writer (regular files only, checksums,
//!   zero padding), pure over `Read`/`Write`.
//! - [`verify`]: a path or bytes in, a [`verify::Verified`] bundle out: the manifest's
//!   signature, format and rules, and every file's name, size and SHA-256. Files stream
//!   through a [`verify::FileSink`], so an importer stages them in the same single pass.
//! - [`signature`]: Ed25519 (`verify_strict`) and key fingerprints.
//!
//! Knows nothing of SQLite, the store or Tauri: a server verifies a bundle with this crate
//! alone. Reads no clock.

pub mod format;
pub mod signature;
pub mod ustar;
pub mod verify;

/// Why a bundle was refused, or could not be read. The message names the file and the fix.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum BundleError {
    /// The bundle itself is wrong: refused, nothing may change.
    #[error("{0}")]
    Refused(String),
    /// Reading the bundle or writing a staged file failed (disk, permissions).
    #[error("{0}")]
    Io(String),
}

pub type Result<T> = std::result::Result<T, BundleError>;

pub(crate) fn refused(file: &str, what: String) -> BundleError {
    BundleError::Refused(format!("bundle '{file}': {what}"))
}
