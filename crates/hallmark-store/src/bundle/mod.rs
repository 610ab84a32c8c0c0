//! Signed bundles in the store: one inspection exported as one `.hallmark` file, and bundles
//! imported into the lead's database.
//!
//! The format and its verification are hallmark-bundle's ([`hallmark_bundle::format`],
//! [`hallmark_bundle::verify`]), shared with anything that reads bundles without this store.
//! Here: [`export`] builds the manifest from the database and streams the files, and
//! [`apply`] verifies a bundle (staging its files in the same pass) and applies it in one
//! transaction. The conversions between the store's structs and the wire types live in
//! these two files and nowhere else.

pub mod apply;
pub mod export;
pub mod rules;

use serde::Serialize;
use std::path::PathBuf;

pub use apply::{copy_listed, is_received, is_stored, receive_file, received_path, stored_path, BundleRecord};
pub use export::{assemble_bundle, assemble_bundle_from};
pub use hallmark_bundle::format::{Manifest, EXTENSION, FORMAT};
pub use hallmark_bundle::verify::Progress;

use crate::StoreError;

impl From<hallmark_bundle::BundleError> for StoreError {
    fn from(e: hallmark_bundle::BundleError) -> StoreError {
        match e {
            hallmark_bundle::BundleError::Refused(m) => StoreError::Bundle(m),
            hallmark_bundle::BundleError::Io(m) => StoreError::Io(m),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Exported {
    pub path: PathBuf,
    pub bytes: u64,
    pub photos: usize,
    pub events: usize,
    /// SHA-256 of the signed manifest: the bundle's identity.
    pub bundle_id: String,
    pub fingerprint: String,
}

#[derive(Debug, Clone, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Imported {
    /// Applied: `new_events` of `events` were new to this database.
    Applied {
        bundle_id: String,
        inspection_id: String,
        site: String,
        assessor: String,
        fingerprint: String,
        /// The roster name of the signer, if the key is on the roster.
        known_as: Option<String>,
        /// Who the signer's certificate says it is (issue #10).
        certified: Certified,
        events: usize,
        new_events: usize,
        photos: usize,
        new_photos: usize,
    },
    /// This very bundle was imported before: nothing changed.
    AlreadyImported {
        bundle_id: String,
        inspection_id: String,
        assessor: String,
        fingerprint: String,
        known_as: Option<String>,
        certified: Certified,
    },
}

/// Who signed a bundle, as its certificate chain says (issue #10), checked when this store
/// first saw it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "assurance", rename_all = "snake_case")]
pub enum Certified {
    /// The chain led to a trusted root, with the role assessor, naming the bundle's assessor.
    Enrolled { name: String, unit: String, root: String, serial: String },
    /// It carries a certificate, but this store trusts no root yet (`hallmark trust add`).
    Unchecked { name: String },
    /// No certificate (format 1, or a tablet not enrolled): the roster is the only assurance.
    Unenrolled,
}

impl Certified {
    /// The Chinese phrase the import line ends with.
    pub fn phrase(&self) -> String {
        match self {
            Certified::Enrolled { name, unit, root, .. } if unit.is_empty() => format!("证书：{name}，经「{root}」核验"),
            Certified::Enrolled { name, unit, root, .. } => format!("证书：{name}（{unit}），经「{root}」核验"),
            Certified::Unchecked { name } => format!("⚠ 证书（{name}）未核验：导入时本库没有医保局根证书（hallmark trust add）"),
            Certified::Unenrolled => "⚠ 未登记设备（无证书，仅凭名册）".into(),
        }
    }
}

impl Imported {
    pub fn line(&self, file: &str) -> String {
        match self {
            Imported::Applied { site, assessor, fingerprint, known_as, certified, events, new_events, photos, new_photos, .. } => {
                // A certificate the bureau vouches for makes the roster unnecessary.
                let who = match (known_as, certified) {
                    (Some(n), _) => format!("签名者 {fingerprint}（名册：{n}）"),
                    (None, Certified::Enrolled { .. }) => format!("签名者 {fingerprint}"),
                    (None, _) => format!("签名者 {fingerprint}（⚠ 不在名册中：请核实签名者后加入名册）"),
                };
                let cert = certified.phrase();
                format!("{file}: 已导入 {site} · {assessor}：事件 {new_events}/{events} 条为新，照片 {new_photos}/{photos} 张为新；{who}；{cert}")
            }
            Imported::AlreadyImported { assessor, fingerprint, known_as, certified, .. } => {
                let flag = if known_as.is_some() || matches!(certified, Certified::Enrolled { .. }) { "" } else { "（⚠ 不在名册中）" };
                format!("{file}: already imported（{assessor}，签名者 {fingerprint}{flag}）：数据库未改变")
            }
        }
    }
}
