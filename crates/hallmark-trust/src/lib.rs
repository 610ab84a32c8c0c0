//! hallmark-trust: one trust root for reports, bundles and (later) the sync server.
//!
//! A bureau (province or city 医保局) runs a small certificate authority with [`authority`]:
//! an ECDSA P-256 root key kept offline in a passphrase-encrypted PKCS#8 file ([`keyfile`]),
//! optional intermediate (city) CAs under it, X.509 certificates for devices and servers, and a
//! signed revocation list (CRL) with a *next update* date. A device certificate binds the
//! device's existing Ed25519 key (the one that signs bundles and reports) to a person (name,
//! unit, title), a device id, and roles ([`Role`]: assessor, lead, server), carried as
//! extended key usages so any X.509 tool can read them.
//!
//! [`check::TrustStore::check`] answers one question: does this certificate chain lead to a
//! trusted root, with this role, at this *trusted* time (when a store or server first saw the
//! signed thing — never the date a tablet claims), and was it not revoked before then? Chains
//! are built and checked by `rustls-webpki` (rustls's path builder); fields and CRLs are read
//! with `x509-parser`. rcgen issues. Each error names the certificate and the way out.
//!
//! Knows nothing of SQLite, bundles, reports or Tauri, and reads no clock: times are passed in.
//!
//! 国密 (SM2/SM3) is not implemented; docs/trust.md says what a bureau's own SM2 CA would change.

pub mod authority;
pub mod certificate;
pub mod check;
pub mod keyfile;

pub use certificate::{CertInfo, Role};
pub use check::{TrustStore, Trusted};

/// Why a certificate, key or CA folder was refused. Messages are lowercase English for logs and
/// the CLI; the app words them in Chinese from [`TrustError::code`].
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TrustError {
    /// A file that is not what it should be: not PEM, truncated, a key where a certificate
    /// belongs, bad DER.
    #[error("{file}: {detail}")]
    Malformed { file: String, detail: String },
    #[error("no certificate: the signer is not enrolled (its key is not certified by the bureau)")]
    NoCertificate,
    #[error("no trusted root is configured: pass --trust ROOT.pem (the bureau's root certificate)")]
    NoTrustRoot,
    #[error("the certificate of '{name}' expired on {not_after} (checked at {at}): the bureau issues a new one with `hallmark ca issue`")]
    Expired { name: String, not_after: String, at: String },
    #[error("the certificate of '{name}' is not valid before {not_before} (checked at {at}): check the issuing computer's clock")]
    NotYetValid { name: String, not_before: String, at: String },
    #[error("the certificate of '{name}' (serial {serial}) was revoked by '{issuer}' on {revoked_at}, before {at}: it can no longer sign")]
    Revoked { name: String, serial: String, issuer: String, revoked_at: String, at: String },
    #[error("the certificate of '{name}' is self-signed: only a certificate issued by the bureau's CA is trusted (`hallmark ca issue`)")]
    SelfSigned { name: String },
    #[error("the certificate of '{name}' was issued by '{issuer}', which does not lead to a trusted root (wrong bureau, or pass that bureau's root with --trust)")]
    UnknownIssuer { name: String, issuer: String },
    #[error("the certificate of '{name}' has role {has}, not {wanted}: the bureau issues a {wanted} certificate for this device")]
    WrongRole { name: String, has: String, wanted: String },
    #[error("the certificate of '{name}' certifies another key ({cert_key}) than the one that signed ({signer_key})")]
    KeyMismatch { name: String, cert_key: String, signer_key: String },
    #[error("the certificate of '{name}' does not check out: {detail}")]
    Invalid { name: String, detail: String },
    /// The CA folder: missing files, a wrong passphrase, a refused request.
    #[error("{0}")]
    Authority(String),
    #[error("{0}")]
    Io(String),
}

impl TrustError {
    /// A stable code for the UI and scripts (the message is for people).
    pub fn code(&self) -> &'static str {
        match self {
            TrustError::Malformed { .. } => "malformed",
            TrustError::NoCertificate => "unenrolled",
            TrustError::NoTrustRoot => "no_trust_root",
            TrustError::Expired { .. } => "expired",
            TrustError::NotYetValid { .. } => "not_yet_valid",
            TrustError::Revoked { .. } => "revoked",
            TrustError::SelfSigned { .. } => "self_signed",
            TrustError::UnknownIssuer { .. } => "unknown_issuer",
            TrustError::WrongRole { .. } => "wrong_role",
            TrustError::KeyMismatch { .. } => "key_mismatch",
            TrustError::Invalid { .. } => "invalid",
            TrustError::Authority(_) => "authority",
            TrustError::Io(_) => "io",
        }
    }
}

pub type Result<T> = std::result::Result<T, TrustError>;

pub(crate) fn malformed(file: &str, detail: impl Into<String>) -> TrustError {
    TrustError::Malformed { file: file.to_string(), detail: detail.into() }
}
