//! The sync protocol's wire types (`hallmark-sync/1`, issue #11): what travels as JSON between
//! a tablet (or lead, or relaying server) and `hallmark serve`. Never the store's structs: a
//! new field is a new version (a new struct, and a row in docs/sync.md), and every version
//! ever written keeps reading.

use serde::{Deserialize, Serialize};

/// The protocol's name, and the version of these types.
pub const PROTOCOL: &str = "hallmark-sync";
pub const PROTOCOL_VERSION: u32 = 1;
/// Receipts are their own signed document.
pub const RECEIPT_FORMAT: &str = "hallmark-receipt";
/// The media type of a bundle's head (its first two ustar entries) and of a whole bundle.
pub const HEAD_TYPE: &str = "application/vnd.hallmark.bundle-head";
pub const BUNDLE_TYPE: &str = "application/vnd.hallmark.bundle";

/// `PUT /v1/device`: the requesting device's certificate chain (leaf first, PEM blocks).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct DeviceV1 {
    pub certificates: Vec<String>,
}

/// The answer to `PUT /v1/device`: who the server takes the device to be.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct DeviceKnownV1 {
    pub name: String,
    pub unit: String,
    pub roles: Vec<String>,
    pub not_after: String,
    pub server_time: String,
}

/// One file of a bundle the server does not hold yet.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct WantedFileV1 {
    /// The entry's name in the bundle (`photos/<sha256>.jpg`, …).
    pub entry: String,
    pub sha256: String,
    pub size: u64,
}

/// The answer to `POST /v1/bundles` (a bundle's head): what the server still needs.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct OfferV1 {
    pub protocol: String,
    pub protocol_version: u32,
    pub bundle_id: String,
    pub inspection_id: String,
    /// Files to `PUT` before `commit`; empty when the server holds them all.
    pub missing: Vec<WantedFileV1>,
    /// Present when the server committed this very bundle before ("already have it").
    pub receipt: Option<SignedReceiptV1>,
}

/// The answer to `PUT /v1/bundles/{id}/files/{sha256}`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct StoredV1 {
    pub sha256: String,
    pub bytes: u64,
}

/// The answer to `POST /v1/bundles/{id}/commit`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct CommittedV1 {
    /// `applied` (new here) or `already_had`.
    pub outcome: String,
    pub new_events: u64,
    pub receipt: SignedReceiptV1,
}

/// What the server vouches for: it holds this bundle, committed.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ReceiptV1 {
    pub format: String,
    pub format_version: u32,
    pub bundle_id: String,
    pub inspection_id: String,
    /// The bundle signer's key fingerprint.
    pub signer: String,
    pub events: u64,
    pub photos: u64,
    /// The server's clock when it committed the bundle (RFC 3339 UTC): the trusted time
    /// the bundle was first held by the bureau's side.
    pub received_at: String,
    /// The server certificate's name.
    pub server: String,
}

/// A receipt as sent: its exact JSON text, the server's ECDSA P-256 signature over those
/// bytes, and the server's certificate chain (leaf first, root left out).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SignedReceiptV1 {
    pub receipt: String,
    /// `ecdsa-p256-sha256` (ASN.1 DER signature, hex).
    pub algorithm: String,
    pub signature: String,
    pub certificates: Vec<String>,
}

/// `GET /v1/pull`: the bundles the requesting lead may fetch.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct PullListV1 {
    pub bundles: Vec<PullItemV1>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct PullItemV1 {
    pub bundle_id: String,
    pub inspection_id: String,
    pub assignment: String,
    pub site: String,
    pub assessor: String,
    pub received_at: String,
}

/// Every refusal: a stable code, a message that names the bad input and the fix, and the
/// server's clock (a client whose clock is off learns by how much).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ErrorV1 {
    pub error: String,
    pub message: String,
    pub server_time: String,
}

/// `POST /v1/admin/assignments` (with the server's admin token): a panel to evaluate one hall
/// with one rubric — its lead and members by their device certificates (their keys make the
/// panel, never typed names).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct AssignmentV1 {
    pub id: String,
    pub site: String,
    pub rubric_id: String,
    /// The lead's certificate chain (PEM, leaf first).
    pub lead_certificate: String,
    /// Each member's certificate chain (PEM, leaf first).
    pub member_certificates: Vec<String>,
}

/// The answer: who the certificates name.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct AssignmentAddedV1 {
    pub id: String,
    pub site: String,
    pub rubric_id: String,
    pub lead: String,
    pub members: Vec<String>,
}

/// `GET /v1/assignments`: the assignments the requesting device is a member or the lead of, so
/// that 新建评价 offers them (the hall and rubric are never retyped).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct AssignmentListV1 {
    pub assignments: Vec<AssignmentItemV1>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct AssignmentItemV1 {
    pub id: String,
    pub site: String,
    pub rubric_id: String,
    /// `member` or `lead`.
    pub role: String,
}

/// A hall of the registry (issue #11): a stable id, the six-digit GB/T 2260 行政区划代码 of its
/// county (or city, or province), its name, address and level (`province`, `city`, `county`
/// or `township`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct HallV1 {
    pub id: String,
    pub region_code: String,
    pub name: String,
    pub address: String,
    pub level: String,
}

/// `POST /v1/admin/halls` (admin token): halls to add or update, by id (a registry imported
/// again updates names and addresses; assignments keep pointing at the same ids).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct HallListV1 {
    pub halls: Vec<HallV1>,
}

/// The answer to `POST /v1/admin/halls`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct HallsImportedV1 {
    pub added: u64,
    pub updated: u64,
    pub unchanged: u64,
}

/// `POST /v2/admin/assignments` (admin token): V1 with the hall by its registry id instead of
/// a typed site name, and the planned dates (`YYYY-MM-DD`, both or neither).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct AssignmentV2 {
    pub id: String,
    pub hall_id: String,
    pub rubric_id: String,
    pub lead_certificate: String,
    pub member_certificates: Vec<String>,
    pub planned_from: Option<String>,
    pub planned_to: Option<String>,
}

/// `GET /v2/assignments`: V1's list with each assignment's hall from the registry and dates.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct AssignmentListV2 {
    pub assignments: Vec<AssignmentItemV2>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct AssignmentItemV2 {
    pub id: String,
    /// The hall's name (for an assignment made with V1, the name typed then).
    pub site: String,
    pub rubric_id: String,
    /// `member` or `lead`.
    pub role: String,
    /// The registry's hall; absent for an assignment made with V1.
    pub hall: Option<HallV1>,
    pub planned_from: Option<String>,
    pub planned_to: Option<String>,
}

/// `GET /v1/trust` (unsigned: everything in it is public and checked by the reader): the
/// bureau roots and current revocation lists the server trusts. A tablet that is not enrolled
/// yet reads it over a connection it cannot check, and keeps a root only when its SHA-256
/// matches the fingerprint the bureau gave the inspector (`hallmark enroll submit
/// --root-fingerprint`); every later request then checks the server's certificate with it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct TrustV1 {
    /// PEM, one certificate each.
    pub roots: Vec<String>,
    /// PEM, one CRL each.
    pub crls: Vec<String>,
    pub server_time: String,
}

/// `POST /v1/enrollments`, signed with the device's own key (it has no certificate yet): the
/// enrollment request (PKCS#10, signed by the same key, naming the person and the device).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct EnrollmentRequestV1 {
    pub request: String,
}

/// A device's enrollment as the server holds it: the answer to `POST /v1/enrollments` and
/// `GET /v1/enrollment` (signed with the device's key), and an item of the admin's list.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct EnrollmentV1 {
    /// hallmark's fingerprint of the device key (what the tablet shows to compare).
    pub fingerprint: String,
    pub public_key: String,
    pub name: String,
    pub unit: String,
    pub title: String,
    pub device_id: Option<String>,
    /// `pending`, `approved` or `refused`.
    pub state: String,
    pub received_at: String,
    pub decided_at: Option<String>,
    /// Why it was refused.
    pub reason: Option<String>,
    /// The request as sent (PEM): what the bureau's CA issues the certificate from.
    pub request: String,
    /// Approved: the device certificate and the CAs above it (PEM each, leaf first).
    pub certificates: Vec<String>,
}

/// `GET /v1/admin/enrollments` (admin token).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct EnrollmentListV1 {
    pub enrollments: Vec<EnrollmentV1>,
}

/// `POST /v1/admin/enrollments/{public_key}` (admin token): approve with the certificate the
/// bureau's CA issued from the request, or refuse with a reason.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct EnrollmentDecisionV1 {
    /// `approve` or `refuse`.
    pub decision: String,
    /// For `approve`: the issued certificate and the CAs above it (PEM, leaf first).
    pub certificates: Vec<String>,
    /// For `refuse`: why (shown on the tablet).
    pub reason: String,
}

/// A rubric release's format name.
pub const RUBRIC_RELEASE_FORMAT: &str = "hallmark-rubric-release";

/// What a server vouches for when it hands out a rubric file: this id and version is the
/// file with this SHA-256, published by the bureau's server at this time.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RubricReleaseV1 {
    pub format: String,
    pub format_version: u32,
    pub rubric_id: String,
    pub version: String,
    pub sha256: String,
    pub published_at: String,
    /// The server certificate's name.
    pub server: String,
}

/// A rubric file as `GET /v1/rubrics` sends it: the release's exact JSON text, the server's
/// ECDSA P-256 signature over it, the server's chain (leaf first), and the file's text.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SignedRubricV1 {
    pub release: String,
    pub algorithm: String,
    pub signature: String,
    pub certificates: Vec<String>,
    pub content: String,
}

/// `GET /v1/rubrics` (any enrolled device): the rubric files published on the server.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct RubricListV1 {
    pub rubrics: Vec<SignedRubricV1>,
}

/// `POST /v1/admin/rubrics` (admin token): a rubric file to publish.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RubricPublishV1 {
    pub content: String,
}

/// The answer to `POST /v1/admin/rubrics`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct RubricPublishedV1 {
    pub rubric_id: String,
    pub version: String,
    pub sha256: String,
}

/// `POST /v1/reviews` (issue #13): how many of the lead's reviews were new to the server, and
/// how many it holds of the lead's panels. The body is the lead's review file
/// (`hallmark_store::reviews::ReviewFileV1`, the one `hallmark review export` writes).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ReviewsStoredV1 {
    pub stored: u64,
    pub held: u64,
}

/// `GET /v1/reviews` (issue #13): the reviews of the requesting device's sheets, one review
/// file per lead (each with that lead's certificate chain), for the tablet to receive as it
/// receives a file from the bundle folder.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ReviewFilesV1 {
    pub files: Vec<hallmark_store::reviews::ReviewFileV1>,
}

/// `POST /v1/reports` (issue #12): a lead sends its signed report to the province server,
/// which verifies it against the panel's bundles it holds and keeps it in the province records
/// (the dashboard's). Do not modify: a new field is a new version.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ReportUploadV1 {
    /// [`REPORT_UPLOAD_FORMAT`].
    pub format: String,
    /// The PDF's bytes, standard base64.
    pub pdf_base64: String,
    /// The signature sidecar (`REPORT.pdf.sig.json`) as written, byte for byte.
    pub sidecar: String,
    /// The registry hall, when the panel's bundles name none (made without an assignment).
    pub hall_id: Option<String>,
}

pub const REPORT_UPLOAD_FORMAT: &str = "hallmark-report-upload/1";

/// The answer to [`ReportUploadV1`]: the report is in the province records (`new` false: it
/// was already).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ReportStoredV1 {
    pub report_number: String,
    pub hall_id: String,
    pub new: bool,
}
