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

use serde::Serialize;
use std::path::PathBuf;

pub use apply::BundleRecord;
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
        events: usize,
        new_events: usize,
        photos: usize,
        new_photos: usize,
    },
    /// This very bundle was imported before: nothing changed.
    AlreadyImported { bundle_id: String, inspection_id: String, assessor: String, fingerprint: String, known_as: Option<String> },
}

impl Imported {
    pub fn line(&self, file: &str) -> String {
        match self {
            Imported::Applied { site, assessor, fingerprint, known_as, events, new_events, photos, new_photos, .. } => {
                let who = match known_as {
                    Some(n) => format!("签名者 {fingerprint}（名册：{n}）"),
                    None => format!("签名者 {fingerprint}（⚠ 不在名册中：请核实签名者后加入名册）"),
                };
                format!("{file}: 已导入 {site} · {assessor}：事件 {new_events}/{events} 条为新，照片 {new_photos}/{photos} 张为新；{who}")
            }
            Imported::AlreadyImported { assessor, fingerprint, known_as, .. } => {
                let flag = if known_as.is_some() { "" } else { "（⚠ 不在名册中）" };
                format!("{file}: already imported（{assessor}，签名者 {fingerprint}{flag}）：数据库未改变")
            }
        }
    }
}
