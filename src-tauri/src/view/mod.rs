//! The IPC's own types: what the commands in `lib.rs` send to the UI (and the few the UI sends
//! back), each built from the library's types field by field. No library struct crosses the
//! IPC, embedded or flattened, so a field added to `hallmark_store::Inspection` or
//! `hallmark_core::score::ScoreSheet` changes nothing the UI receives until it is added here.
//!
//! **Version 1** (issue #9): the JSON these types produce is, field for field and byte for
//! byte, what the app sent before they existed (the library structs serialized), so
//! `ui/app.js` reads it unchanged; `src-tauri/tests/ipc.rs` shows it. Each type's shape is
//! pinned by `tests/schemas/ipc-<name>.txt`. The UI and the app ship together in one build, so
//! the IPC carries no version number, only this note: a new, renamed or retyped field is a
//! documented change — edit the type here and the UI that reads it, regenerate the schema files
//! (`UPDATE_EXPECT=1 cargo test -p hallmark-app --test ipc`), review their diff and say why in
//! the commit.
//!
//! Numbers that are `Decimal` in the library travel as strings, exactly as the library's serde
//! wrote them ("90.2", never 90.2).

pub(crate) use std::collections::BTreeMap;

pub(crate) use base64::Engine;
pub(crate) use hallmark_core::{aggregate as agg, finding as fnd, rubric as rub, score as sc};
pub(crate) use hallmark_store::{bundle, merge, Store, StoreError};
pub(crate) use serde::{Deserialize, Serialize};
pub(crate) use serde_json::Value;

mod enrollment;
mod inspection;
mod lead;
mod rubric;
mod sheet;
mod sync;

pub use enrollment::*;
pub use inspection::*;
pub use lead::*;
pub use rubric::*;
pub use sheet::*;
pub use sync::*;

/// A decimal (`Decimal` or `Num`) as the library's serde wrote it.
pub(crate) fn text(d: &impl std::fmt::Display) -> String {
    d.to_string()
}

pub(crate) fn texts(d: &Option<impl std::fmt::Display>) -> Option<String> {
    d.as_ref().map(text)
}

// ---------- errors ----------

/// An error as the UI sees it: it branches on `code` and words the error (in Chinese) from
/// `fields`, never from `message` (English, for logs). `fields` is always an object (issue
/// #14): a refused reading {kind: "reading", input, label, value, min, max, unit}; text too
/// long {kind: "too_long", field, length, max}; a refused bundle {file, reason_code}; a
/// finished inspection {inspection}; a damaged database {file, detail}; a clock {value}; a
/// refused photo {kind: "photo"} (attach_photo); a refused bundle's reason_code is one of
/// untrusted, signature, altered, damaged, too_big, newer_format, unknown_rubric, own_device,
/// contradicts, invalid;
/// `{}` when there is nothing to add ([`StoreError::fields`]).
#[derive(Debug, Serialize)]
pub struct CommandError {
    pub code: &'static str,
    pub message: String,
    pub fields: Value,
}

impl CommandError {
    pub fn new(code: &'static str, message: impl Into<String>) -> CommandError {
        CommandError { code, message: message.into(), fields: Value::Object(Default::default()) }
    }
}

impl Clone for CommandError {
    fn clone(&self) -> Self {
        CommandError { code: self.code, message: self.message.clone(), fields: self.fields.clone() }
    }
}

impl From<StoreError> for CommandError {
    fn from(e: StoreError) -> Self {
        CommandError { code: e.code(), message: e.to_string(), fields: e.fields() }
    }
}

impl From<hallmark_report::ReportError> for CommandError {
    fn from(e: hallmark_report::ReportError) -> Self {
        let fields = match &e {
            hallmark_report::ReportError::Store(s) => s.fields(),
            // The open returns in Chinese words, for the lead's dialog (issue #13).
            hallmark_report::ReportError::ReviewsOpen { open, .. } => serde_json::json!({ "open": open }),
            _ => Value::Object(Default::default()),
        };
        CommandError { code: e.code(), message: e.to_string(), fields }
    }
}

pub fn invalid(message: impl Into<String>) -> CommandError {
    CommandError::new("invalid", message)
}

// ---------- small app-made values ----------

#[derive(Debug, Serialize)]
pub struct AppInfo {
    pub version: &'static str,
    pub device_id: String,
    /// The device's Ed25519 key fingerprint, which signs its bundles.
    pub fingerprint: String,
    /// The full public key, for the lead's roster.
    pub public_key: String,
    pub data_dir: String,
    /// Where bundles are exported to and imported from (`$HALLMARK_BUNDLE_DIR`, else
    /// `~/hallmark-bundles`): a USB stick's folder can be set there.
    pub bundle_dir: String,
}

impl AppInfo {
    pub fn of(store: &Store, bundle_dir: &std::path::Path) -> AppInfo {
        AppInfo {
            version: env!("CARGO_PKG_VERSION"),
            device_id: store.device_id().into(),
            fingerprint: store.device_key().fingerprint(),
            public_key: store.device_key().public_key_hex(),
            data_dir: store.dir().display().to_string(),
            bundle_dir: bundle_dir.display().to_string(),
        }
    }
}

#[derive(Debug, Serialize)]
pub struct RubricChoice {
    pub id: String,
    pub title: String,
    pub version: String,
}

impl From<&rub::Rubric> for RubricChoice {
    fn from(r: &rub::Rubric) -> Self {
        RubricChoice { id: r.id.clone(), title: r.title.clone(), version: r.version.clone() }
    }
}

/// Export and import progress, sent on a channel.
#[derive(Debug, Serialize, Clone)]
pub struct Progress {
    pub done: u64,
    pub total: u64,
}

#[derive(Debug, Serialize)]
pub struct InboxFile {
    pub path: String,
    pub name: String,
    pub size: u64,
}

/// What `receive_reviews` found in the bundle folder (issue #13): how many reviews of this
/// tablet's sheets are new, and the files refused (by name; the reason goes to the log).
#[derive(Debug, Serialize)]
pub struct ReviewsReceived {
    pub received: usize,
    pub refused: Vec<String>,
}

/// The `.hallmark` files in the bundle folder (the lead's inbox).
#[derive(Debug, Serialize)]
pub struct Inbox {
    pub dir: String,
    pub files: Vec<InboxFile>,
}

/// Why the store could not be opened, and what the recovery screen can offer (#15).
#[derive(Debug, Serialize)]
pub struct Recovery {
    pub code: &'static str,
    pub message: String,
    /// The error's facts, as in [`CommandError::fields`] (a damaged database: {file, detail}).
    pub fields: Value,
    pub data_dir: String,
    pub bundle_dir: String,
    /// `.hallmark-backup` files in the bundle folder, newest first.
    pub backups: Vec<InboxFile>,
    /// How many `.hallmark` bundles a rebuild would read.
    pub bundles: usize,
}

/// A store brought back by a restore or a rebuild (#15).
#[derive(Debug, Serialize)]
pub struct Recovered {
    pub inspections: usize,
    /// Where the damaged database was kept.
    pub moved_aside: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct ReportMade {
    pub pdf: String,
    /// `None` for a draft, which is not signed.
    pub sidecar: Option<String>,
    pub draft: bool,
    pub number: String,
    pub final_score: Option<String>,
    pub conclusion: String,
    pub valid_until: Option<String>,
}

impl From<&hallmark_report::Made> for ReportMade {
    fn from(m: &hallmark_report::Made) -> Self {
        ReportMade {
            pdf: m.pdf.display().to_string(),
            sidecar: m.sidecar.as_ref().map(|p| p.display().to_string()),
            draft: m.report.draft,
            number: m.report.number.clone(),
            final_score: m.report.final_score.clone(),
            conclusion: m.report.conclusion.clone(),
            valid_until: m.report.valid_until.clone(),
        }
    }
}

// ---------- what the UI sends ----------

#[derive(Debug, Deserialize)]
pub struct CreateInspection {
    pub rubric_id: String,
    pub site_name: String,
    #[serde(default)]
    pub site_address: String,
    pub site_level: String,
    pub visited_on: String,
    pub assessor_name: String,
    #[serde(default)]
    pub assessor_unit: String,
    #[serde(default)]
    pub assessor_title: String,
    #[serde(default)]
    pub assessor_phone: String,
    /// The server's assignment picked in 新建评价 (issue #11), and its registry hall; empty
    /// when the form was filled by hand.
    #[serde(default)]
    pub assignment_id: String,
    #[serde(default)]
    pub hall_id: String,
}

impl CreateInspection {
    pub fn into_new(self, rubric_text: String) -> hallmark_store::NewInspection {
        hallmark_store::NewInspection {
            rubric_text,
            site_name: self.site_name,
            site_address: self.site_address,
            site_level: self.site_level,
            visited_on: self.visited_on,
            assessor_name: self.assessor_name,
            assessor_unit: self.assessor_unit,
            assessor_title: self.assessor_title,
            assessor_phone: self.assessor_phone,
            assignment_id: Some(self.assignment_id).filter(|a| !a.trim().is_empty()),
            hall_id: Some(self.hall_id).filter(|h| !h.trim().is_empty()),
        }
    }
}

/// One observed service as the UI logs it.
#[derive(Debug, Deserialize)]
pub struct NewService {
    /// "real" (实际经办) or "simulated" (模拟服务)
    pub kind: String,
    pub observed_at: String,
    #[serde(default)]
    pub note: String,
    /// tally input id → occurrences seen during this service
    #[serde(default)]
    pub occurrences: BTreeMap<String, u64>,
}

impl From<NewService> for hallmark_store::ServiceEntry {
    fn from(s: NewService) -> Self {
        hallmark_store::ServiceEntry { kind: s.kind, observed_at: s.observed_at, note: s.note, occurrences: s.occurrences }
    }
}

/// What the lead adds to a report: the hall's contact details and who leads. Remembered per
/// site (`report_details`) by each report made.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportDetails {
    #[serde(default)]
    pub site_head: String,
    #[serde(default)]
    pub site_phone: String,
    #[serde(default)]
    pub site_email: String,
    #[serde(default)]
    pub leader: Option<String>,
}

impl From<&ReportDetails> for hallmark_store::site_details::SiteDetails {
    fn from(d: &ReportDetails) -> Self {
        hallmark_store::site_details::SiteDetails {
            site_head: d.site_head.clone(),
            site_phone: d.site_phone.clone(),
            site_email: d.site_email.clone(),
            leader: d.leader.clone(),
        }
    }
}

impl From<&hallmark_store::site_details::SiteDetails> for ReportDetails {
    fn from(d: &hallmark_store::site_details::SiteDetails) -> Self {
        ReportDetails { site_head: d.site_head.clone(), site_phone: d.site_phone.clone(), site_email: d.site_email.clone(), leader: d.leader.clone() }
    }
}

impl From<ReportDetails> for hallmark_report::model::Details {
    fn from(d: ReportDetails) -> Self {
        hallmark_report::model::Details { site_head: d.site_head, site_phone: d.site_phone, site_email: d.site_email, leader: d.leader }
    }
}

// ---------- the inspection list ----------

#[derive(Debug, Serialize)]
pub struct InspectionSummary {
    pub id: String,
    pub rubric_id: String,
    pub rubric_title: String,
    pub site_name: String,
    pub visited_on: String,
    pub assessor_name: String,
    pub finished: bool,
    pub total: String,
    pub complete: bool,
    pub answered_items: usize,
    pub total_items: usize,
    pub last_change: String,
    /// "local" | "imported"
    pub origin: &'static str,
    /// "draft" | "finished" | "amended" | "imported" (草稿 / 已完成 / 已更正 / 导入（只读）)
    pub state: &'static str,
}

impl From<&hallmark_store::InspectionSummary> for InspectionSummary {
    fn from(s: &hallmark_store::InspectionSummary) -> Self {
        InspectionSummary {
            id: s.id.clone(),
            rubric_id: s.rubric_id.clone(),
            rubric_title: s.rubric_title.clone(),
            site_name: s.site_name.clone(),
            visited_on: s.visited_on.clone(),
            assessor_name: s.assessor_name.clone(),
            finished: s.finished,
            total: s.total.clone(),
            complete: s.complete,
            answered_items: s.answered_items,
            total_items: s.total_items,
            last_change: s.last_change.clone(),
            origin: s.origin,
            state: s.state,
        }
    }
}
