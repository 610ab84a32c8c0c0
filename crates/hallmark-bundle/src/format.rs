//! The bundle's wire types. **Do not modify a versioned struct**: signed bundles in the field
//! were written with exactly these fields. A new field means a `ManifestV2` (with its own
//! entry types where they change), a reader arm in [`parse_manifest`], an upgrade from V1, and
//! a line in docs/bundles.md naming the issue that introduced it. The committed bundles under
//! `tests/bundles/` must keep verifying and importing.
//!
//! | version | introduced by | what |
//! |---------|---------------|------|
//! | 1       | #4 signed bundles | manifest, Ed25519 signature file, photos, thumbnails, handwritten signature |
//! | 2       | #10 trust chain | v1, and the signing device's X.509 certificate chain (`device.certificates`, PEM, leaf first; empty when the tablet is not enrolled) |
//! | 3       | #11 sync | v2, and the evaluation assignment the inspection was started from (`assignment`: its id and registry hall). Written only for an inspection with one; others are still written as version 2 |
//!
//! A bundle is a ustar archive: `manifest.json`, `manifest.sig`, then the files the manifest
//! lists (`photos/<sha256>.jpg`, `thumbs/<sha256>.jpg`, `signature/<sha256>.png`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

pub const FORMAT: &str = "hallmark-bundle";
/// The version this hallmark writes.
pub const CURRENT_VERSION: u32 = 3;
pub const EXTENSION: &str = "hallmark";

pub const MANIFEST: &str = "manifest.json";
pub const SIGNATURE: &str = "manifest.sig";

/// Limits that keep a hostile bundle from exhausting memory or disk before it is refused.
pub const MAX_MANIFEST_BYTES: u64 = 64 << 20;
pub const MAX_SIGNATURE_BYTES: u64 = 4 << 10;
/// The most one file of a bundle may declare; the importer refuses more. Kept at 200 MiB so
/// bundles from tablets of before issue #15 (photos up to 200 MiB) still import.
pub const MAX_FILE_BYTES: u64 = 200 << 20;
pub const MAX_FILES: usize = 30_000;
/// The one photo size limit (issue #15): the tablet refuses a larger photo on capture, so every
/// photo it stores fits in a bundle the lead imports. A 64-megapixel camera JPEG is ≈ 30 MB;
/// phones append a gain or depth map after the picture. Export checks each file against
/// [`MAX_FILE_BYTES`], the importer's own limit, which must stay at or above this.
pub const MAX_PHOTO_BYTES: u64 = 64 << 20;
const _: () = assert!(MAX_PHOTO_BYTES <= MAX_FILE_BYTES, "a photo the tablet accepts must import");

/// The manifest as this hallmark works with it: the newest version. Older versions are
/// upgraded to it by [`parse_manifest`] (`format_version` keeps what the bundle says).
pub type Manifest = ManifestV3;

/// Format version 1 (issue #4). Do not modify.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ManifestV1 {
    pub format: String,
    pub format_version: u32,
    pub created_at: String,
    pub device: DeviceV1,
    pub rubric: RubricRefV1,
    pub inspection: HeaderV1,
    pub events: Vec<EventV1>,
    pub service_entries: Vec<ServiceEntryV1>,
    pub evidence: Vec<EvidenceV1>,
    pub photos: Vec<PhotoV1>,
    pub signature_image: Option<SignatureImageV1>,
}

/// Format version 2 (issue #10). Do not modify: v1 with the device's certificate chain.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ManifestV2 {
    pub format: String,
    pub format_version: u32,
    pub created_at: String,
    pub device: DeviceV2,
    pub rubric: RubricRefV1,
    pub inspection: HeaderV1,
    pub events: Vec<EventV1>,
    pub service_entries: Vec<ServiceEntryV1>,
    pub evidence: Vec<EvidenceV1>,
    pub photos: Vec<PhotoV1>,
    pub signature_image: Option<SignatureImageV1>,
}

/// Format version 3 (issue #11). Do not modify: v2 with the assignment the inspection belongs
/// to — a panel is an assignment's members, never a match on typed names.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ManifestV3 {
    pub format: String,
    pub format_version: u32,
    pub created_at: String,
    pub device: DeviceV2,
    pub rubric: RubricRefV1,
    pub inspection: HeaderV1,
    pub assignment: Option<AssignmentRefV1>,
    pub events: Vec<EventV1>,
    pub service_entries: Vec<ServiceEntryV1>,
    pub evidence: Vec<EvidenceV1>,
    pub photos: Vec<PhotoV1>,
    pub signature_image: Option<SignatureImageV1>,
}

/// The evaluation assignment an inspection was started from (V1, issue #11). Do not modify.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AssignmentRefV1 {
    pub id: String,
    /// The hall's id in the server's registry (none for an assignment made without it).
    pub hall_id: Option<String>,
}

impl From<ManifestV2> for ManifestV3 {
    /// A v2 (or older) bundle as v3: no assignment. `format_version` stays what it was.
    fn from(m: ManifestV2) -> ManifestV3 {
        ManifestV3 {
            format: m.format,
            format_version: m.format_version,
            created_at: m.created_at,
            device: m.device,
            rubric: m.rubric,
            inspection: m.inspection,
            assignment: None,
            events: m.events,
            service_entries: m.service_entries,
            evidence: m.evidence,
            photos: m.photos,
            signature_image: m.signature_image,
        }
    }
}

impl ManifestV3 {
    /// The manifest's JSON as written into a bundle: version 3 only when it names an
    /// assignment, otherwise version 2 exactly as before (a lead with an older hallmark still
    /// reads it). `format_version` is set to match.
    pub fn to_bundle_json(&self) -> Vec<u8> {
        match &self.assignment {
            Some(_) => serde_json::to_vec_pretty(&ManifestV3 { format_version: 3, ..self.clone() }).expect("manifest serializes"),
            None => {
                let m = self.clone();
                let v2 = ManifestV2 {
                    format: m.format,
                    format_version: 2,
                    created_at: m.created_at,
                    device: m.device,
                    rubric: m.rubric,
                    inspection: m.inspection,
                    events: m.events,
                    service_entries: m.service_entries,
                    evidence: m.evidence,
                    photos: m.photos,
                    signature_image: m.signature_image,
                };
                serde_json::to_vec_pretty(&v2).expect("manifest serializes")
            }
        }
    }
}

/// The signing device (V2, issue #10). Do not modify.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeviceV2 {
    pub id: String,
    /// Ed25519 public key, 64 hex digits.
    pub public_key: String,
    pub fingerprint: String,
    /// The device's certificate and the CAs above it, one PEM block each, leaf first, the root
    /// excluded (the importer has it). Empty: the tablet is not enrolled.
    pub certificates: Vec<String>,
}

impl From<ManifestV1> for ManifestV2 {
    /// A v1 bundle as v2: no certificates (unenrolled). `format_version` stays 1.
    fn from(m: ManifestV1) -> ManifestV2 {
        ManifestV2 {
            format: m.format,
            format_version: m.format_version,
            created_at: m.created_at,
            device: DeviceV2 { id: m.device.id, public_key: m.device.public_key, fingerprint: m.device.fingerprint, certificates: Vec::new() },
            rubric: m.rubric,
            inspection: m.inspection,
            events: m.events,
            service_entries: m.service_entries,
            evidence: m.evidence,
            photos: m.photos,
            signature_image: m.signature_image,
        }
    }
}

/// The signing device (V1). Do not modify.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeviceV1 {
    pub id: String,
    /// Ed25519 public key, 64 hex digits.
    pub public_key: String,
    pub fingerprint: String,
}

/// The pinned rubric (V1): the lead scores with exactly the copy the tablet used. Do not modify.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RubricRefV1 {
    pub id: String,
    pub version: String,
    pub sha256: String,
    pub content: String,
}

/// The inspection's header (V1). Do not modify.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HeaderV1 {
    pub id: String,
    pub site_name: String,
    pub site_address: String,
    pub site_level: String,
    pub visited_on: String,
    pub assessor_name: String,
    pub assessor_unit: String,
    pub assessor_title: String,
    pub assessor_phone: String,
    pub device_id: String,
    pub created_at: String,
    pub finished_at: Option<String>,
}

/// One observation event (V1). Do not modify.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventV1 {
    pub id: String,
    pub key: String,
    pub value: Option<Value>,
    pub previous: Option<Value>,
    pub author: String,
    pub device_id: String,
    pub recorded_at: String,
    pub amendment: Option<String>,
}

/// One observed service (V1). Do not modify.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceEntryV1 {
    pub id: String,
    pub item_id: String,
    pub kind: String,
    pub observed_at: String,
    pub note: String,
    pub occurrences: BTreeMap<String, u64>,
    pub author: String,
    pub device_id: String,
    pub recorded_at: String,
}

/// A photo linked to an item (V1). Do not modify.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EvidenceV1 {
    pub id: String,
    pub item_id: String,
    pub sha256: String,
    pub caption: String,
    pub author: String,
    pub device_id: String,
    pub attached_at: String,
}

/// A photo file and its thumbnail (V1). Do not modify.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PhotoV1 {
    pub sha256: String,
    pub size: u64,
    pub width: u32,
    pub height: u32,
    pub orientation: u16,
    pub taken_at: Option<String>,
    pub thumb_sha256: String,
    pub thumb_size: u64,
}

/// The handwritten signature image (V1). Do not modify.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignatureImageV1 {
    pub sha256: String,
    pub size: u64,
    pub signed_at: String,
}

/// `manifest.sig` (V1): the signature over the exact bytes of `manifest.json`. Do not modify.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignatureFileV1 {
    pub algorithm: String,
    pub public_key: String,
    pub signature: String,
}

/// What a file in the bundle is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum FileKind {
    Photo,
    Thumb,
    SignatureImage,
}

/// One file the manifest lists: its entry name, size and hash.
#[derive(Debug, Clone, PartialEq)]
pub struct ListedFile {
    pub kind: FileKind,
    /// The photo's (or signature image's) SHA-256: where the store keeps it.
    pub key: String,
    pub entry: String,
    pub sha256: String,
    pub size: u64,
}

impl ManifestV3 {
    /// Every file the manifest lists, in the order an exporter writes them.
    pub fn files(&self) -> Vec<ListedFile> {
        let mut out = Vec::new();
        for p in &self.photos {
            out.push(ListedFile {
                kind: FileKind::Photo,
                key: p.sha256.clone(),
                entry: entry_name(FileKind::Photo, &p.sha256),
                sha256: p.sha256.clone(),
                size: p.size,
            });
            out.push(ListedFile {
                kind: FileKind::Thumb,
                key: p.sha256.clone(),
                entry: entry_name(FileKind::Thumb, &p.sha256),
                sha256: p.thumb_sha256.clone(),
                size: p.thumb_size,
            });
        }
        if let Some(s) = &self.signature_image {
            out.push(ListedFile {
                kind: FileKind::SignatureImage,
                key: s.sha256.clone(),
                entry: entry_name(FileKind::SignatureImage, &s.sha256),
                sha256: s.sha256.clone(),
                size: s.size,
            });
        }
        out
    }
}

/// The archive entry name of a file.
pub fn entry_name(kind: FileKind, sha256: &str) -> String {
    match kind {
        FileKind::Photo => format!("photos/{sha256}.jpg"),
        FileKind::Thumb => format!("thumbs/{sha256}.jpg"),
        FileKind::SignatureImage => format!("signature/{sha256}.png"),
    }
}

/// The manifest's format version, checked before its structure (and before its signature), so
/// a bundle from a newer hallmark gets the right advice.
pub fn manifest_version(value: &Value) -> Result<u32, String> {
    match value.get("format").and_then(Value::as_str) {
        Some(FORMAT) => {}
        other => return Err(format!("format {:?} is not a hallmark bundle (expected \"{FORMAT}\")", other.unwrap_or("none"))),
    }
    match value.get("format_version").and_then(Value::as_u64) {
        Some(v @ (1..=3)) => Ok(v as u32),
        Some(v) => {
            Err(format!("format version {v} is unknown (this hallmark reads versions 1 to {CURRENT_VERSION}): update hallmark on this computer"))
        }
        None => Err("manifest has no format_version (export the bundle again)".into()),
    }
}

/// Reads a manifest of a version [`manifest_version`] accepted, as the current [`Manifest`]
/// (a later version's arm upgrades the older structs here).
pub fn parse_manifest(version: u32, value: Value) -> Result<Manifest, String> {
    let structure = |e: serde_json::Error| format!("manifest does not have the bundle structure: {e} (export it again with this hallmark version)");
    match version {
        1 => serde_json::from_value::<ManifestV1>(value).map(ManifestV2::from).map(ManifestV3::from).map_err(structure),
        2 => serde_json::from_value::<ManifestV2>(value).map(ManifestV3::from).map_err(structure),
        3 => serde_json::from_value::<ManifestV3>(value).map_err(structure),
        v => Err(format!("format version {v} is unknown (this hallmark reads versions 1 to {CURRENT_VERSION}): update hallmark on this computer")),
    }
}
