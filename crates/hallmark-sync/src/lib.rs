//! hallmark-sync: the sync protocol (`hallmark-sync/1`, issue #11, docs/sync.md) and its
//! blocking client.
//!
//! - [`wire`]: the versioned JSON types that travel.
//! - [`httpsig`]: request signatures (RFC 9421, Ed25519 device keys; RFC 9530 digests).
//! - [`receipt`]: the server's signed receipts (ECDSA P-256, the server's certificate).
//! - [`client`]: push a bundle (manifest first, then only the files the server lacks, then
//!   commit for a receipt) and pull a lead's panels, over rustls trusting only the bureau
//!   roots. Used by the CLI and the app; the server is hallmark-server.
//! - [`enroll`]: enrollment over the network — the bureau root fetched and pinned by its
//!   fingerprint, the request sent, the issued certificate and the CRLs installed.
//!
//! No tokio here: the app and the CLI call the client on a thread of their own.

pub mod client;
pub mod enroll;
pub mod httpsig;
pub mod receipt;
pub mod wire;

/// Why a sync step failed. The app words these in Chinese from [`SyncError::code`].
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    /// No connection (no network, server down, TLS refused): try again later; nothing lost.
    #[error("cannot reach the server {url}: {detail}")]
    Unreachable { url: String, detail: String },
    /// The server answered with a refusal.
    #[error("the server refused ({status} {code}): {message}")]
    Refused { status: u16, code: String, message: String },
    /// The server's answer is wrong (a bad receipt, a malformed reply).
    #[error("the server's answer is not acceptable: {0}")]
    BadAnswer(String),
    #[error(transparent)]
    Store(#[from] hallmark_store::StoreError),
    #[error("{0}")]
    Local(String),
    /// First contact: the root fingerprint typed is malformed, or no root the server offers
    /// has it (a wrong server, a wrong fingerprint, or someone in between).
    #[error("{0}")]
    Fingerprint(String),
}

impl SyncError {
    pub fn code(&self) -> &str {
        match self {
            SyncError::Unreachable { .. } => "unreachable",
            SyncError::Refused { code, .. } => code,
            SyncError::BadAnswer(_) => "bad_answer",
            SyncError::Store(e) => e.code(),
            SyncError::Local(_) => "local",
            SyncError::Fingerprint(_) => "root_fingerprint",
        }
    }

    /// Worth trying again later, unchanged (the network or the server, not the data).
    pub fn is_transient(&self) -> bool {
        matches!(self, SyncError::Unreachable { .. }) || matches!(self, SyncError::Refused { status, .. } if *status >= 500 || *status == 429)
    }
}
