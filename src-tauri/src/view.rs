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

use std::collections::BTreeMap;

use base64::Engine;
use hallmark_core::{aggregate as agg, finding as fnd, rubric as rub, score as sc};
use hallmark_store::{bundle, merge, Store, StoreError};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A decimal (`Decimal` or `Num`) as the library's serde wrote it.
fn text(d: &impl std::fmt::Display) -> String {
    d.to_string()
}

fn texts(d: &Option<impl std::fmt::Display>) -> Option<String> {
    d.as_ref().map(text)
}

// ---------- errors ----------

/// An error as the UI sees it: it branches on `code`, shows `message`.
#[derive(Debug, Serialize)]
pub struct CommandError {
    pub code: &'static str,
    pub message: String,
}

impl From<StoreError> for CommandError {
    fn from(e: StoreError) -> Self {
        CommandError { code: e.code(), message: e.to_string() }
    }
}

impl From<hallmark_report::ReportError> for CommandError {
    fn from(e: hallmark_report::ReportError) -> Self {
        CommandError { code: e.code(), message: e.to_string() }
    }
}

pub fn invalid(message: impl Into<String>) -> CommandError {
    CommandError { code: "invalid", message: message.into() }
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

/// The `.hallmark` files in the bundle folder (the lead's inbox).
#[derive(Debug, Serialize)]
pub struct Inbox {
    pub dir: String,
    pub files: Vec<InboxFile>,
}

#[derive(Debug, Serialize)]
pub struct ReportMade {
    pub pdf: String,
    pub sidecar: String,
    pub number: String,
    pub final_score: Option<String>,
    pub conclusion: String,
    pub valid_until: Option<String>,
}

impl From<&hallmark_report::Made> for ReportMade {
    fn from(m: &hallmark_report::Made) -> Self {
        ReportMade {
            pdf: m.pdf.display().to_string(),
            sidecar: m.sidecar.display().to_string(),
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

/// What the lead adds to a report: the hall's contact details and who leads.
#[derive(Debug, Default, Deserialize)]
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
        }
    }
}

// ---------- the checklist screen ----------

/// Everything the checklist screen shows, recomputed from the store.
#[derive(Debug, Serialize)]
pub struct InspectionView {
    pub inspection: Inspection,
    pub rubric: Rubric,
    pub answers: BTreeMap<String, Value>,
    pub sheet: ScoreSheet,
    pub evidence: Vec<Evidence>,
    pub services: Vec<ServiceRecord>,
    /// The handwritten signature as a data URL, if drawn.
    pub signature: Option<String>,
}

impl InspectionView {
    /// Reads the inspection, its pinned rubric, answers, computed sheet, photos (with their
    /// thumbnails), services and signature from the store.
    pub fn load(store: &Store, id: &str) -> Result<InspectionView, CommandError> {
        let inspection = store.inspection(id)?;
        let (rubric, sheet) = store.sheet(id)?;
        let evidence: Vec<(hallmark_store::Evidence, Vec<u8>)> = store
            .evidence(id)?
            .into_iter()
            .map(|e| {
                let thumb = std::fs::read(store.thumb_path(&e.photo.sha256)).unwrap_or_default();
                (e, thumb)
            })
            .collect();
        let signature = store.signature_image(id)?.and_then(|s| std::fs::read(store.signature_path(&s.sha256)).ok());
        let services = store.service_entries(id)?;
        let answers = store.answers(id)?;
        Ok(InspectionView::new(Parts {
            inspection: &inspection,
            rubric: &rubric,
            answers,
            sheet: &sheet,
            evidence: &evidence,
            services: &services,
            signature: signature.as_deref(),
        }))
    }

    pub fn new(p: Parts<'_>) -> InspectionView {
        InspectionView {
            inspection: p.inspection.into(),
            rubric: p.rubric.into(),
            answers: p.answers,
            sheet: p.sheet.into(),
            evidence: p.evidence.iter().map(|(e, thumb)| Evidence::of(e, thumb)).collect(),
            services: p.services.iter().map(ServiceRecord::from).collect(),
            signature: p.signature.map(|png| data_url("image/png", png)),
        }
    }
}

/// The library values an [`InspectionView`] is made of.
pub struct Parts<'a> {
    pub inspection: &'a hallmark_store::Inspection,
    pub rubric: &'a rub::Rubric,
    pub answers: BTreeMap<String, Value>,
    pub sheet: &'a sc::ScoreSheet,
    /// Each photo with its thumbnail's JPEG bytes.
    pub evidence: &'a [(hallmark_store::Evidence, Vec<u8>)],
    pub services: &'a [hallmark_store::ServiceRecord],
    /// The signature's PNG bytes.
    pub signature: Option<&'a [u8]>,
}

pub fn data_url(mime: &str, bytes: &[u8]) -> String {
    format!("data:{mime};base64,{}", base64::engine::general_purpose::STANDARD.encode(bytes))
}

#[derive(Debug, Serialize)]
pub struct Inspection {
    pub id: String,
    pub rubric_id: String,
    pub rubric_version: String,
    pub rubric_hash: String,
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

impl From<&hallmark_store::Inspection> for Inspection {
    fn from(i: &hallmark_store::Inspection) -> Self {
        Inspection {
            id: i.id.clone(),
            rubric_id: i.rubric_id.clone(),
            rubric_version: i.rubric_version.clone(),
            rubric_hash: i.rubric_hash.clone(),
            site_name: i.site_name.clone(),
            site_address: i.site_address.clone(),
            site_level: i.site_level.clone(),
            visited_on: i.visited_on.clone(),
            assessor_name: i.assessor_name.clone(),
            assessor_unit: i.assessor_unit.clone(),
            assessor_title: i.assessor_title.clone(),
            assessor_phone: i.assessor_phone.clone(),
            device_id: i.device_id.clone(),
            created_at: i.created_at.clone(),
            finished_at: i.finished_at.clone(),
        }
    }
}

#[derive(Debug, Serialize)]
pub struct Evidence {
    pub id: String,
    pub item_id: String,
    pub caption: String,
    pub attached_at: String,
    pub photo: Photo,
    /// The 320 px thumbnail as a data URL.
    pub thumbnail: String,
}

impl Evidence {
    pub fn of(e: &hallmark_store::Evidence, thumb_jpeg: &[u8]) -> Evidence {
        Evidence {
            id: e.id.clone(),
            item_id: e.item_id.clone(),
            caption: e.caption.clone(),
            attached_at: e.attached_at.clone(),
            photo: (&e.photo).into(),
            thumbnail: data_url("image/jpeg", thumb_jpeg),
        }
    }
}

#[derive(Debug, Serialize)]
pub struct Photo {
    pub sha256: String,
    pub size: u64,
    pub width: u32,
    pub height: u32,
    pub orientation: u16,
    pub taken_at: Option<String>,
}

impl From<&hallmark_store::photo::PhotoMeta> for Photo {
    fn from(p: &hallmark_store::photo::PhotoMeta) -> Self {
        Photo { sha256: p.sha256.clone(), size: p.size, width: p.width, height: p.height, orientation: p.orientation, taken_at: p.taken_at.clone() }
    }
}

#[derive(Debug, Serialize)]
pub struct ServiceRecord {
    pub id: String,
    pub item_id: String,
    pub kind: String,
    pub observed_at: String,
    pub note: String,
    pub occurrences: BTreeMap<String, u64>,
    pub recorded_at: String,
    pub events: Vec<Event>,
}

impl From<&hallmark_store::ServiceRecord> for ServiceRecord {
    fn from(r: &hallmark_store::ServiceRecord) -> Self {
        ServiceRecord {
            id: r.id.clone(),
            item_id: r.item_id.clone(),
            kind: r.entry.kind.clone(),
            observed_at: r.entry.observed_at.clone(),
            note: r.entry.note.clone(),
            occurrences: r.entry.occurrences.clone(),
            recorded_at: r.recorded_at.clone(),
            events: r.events.iter().map(Event::from).collect(),
        }
    }
}

#[derive(Debug, Serialize)]
pub struct Event {
    pub id: String,
    pub key: String,
    pub value: Option<Value>,
    pub previous: Option<Value>,
    pub author: String,
    pub device_id: String,
    pub recorded_at: String,
    pub amendment: Option<String>,
}

impl From<&hallmark_store::Event> for Event {
    fn from(e: &hallmark_store::Event) -> Self {
        Event {
            id: e.id.clone(),
            key: e.key.clone(),
            value: e.value.clone(),
            previous: e.previous.clone(),
            author: e.author.clone(),
            device_id: e.device_id.clone(),
            recorded_at: e.recorded_at.clone(),
            amendment: e.amendment.clone(),
        }
    }
}

// ---------- the rubric, as the checklist draws it ----------

#[derive(Debug, Serialize)]
pub struct Rubric {
    pub format: String,
    pub id: String,
    pub version: String,
    pub title: String,
    pub source: String,
    pub points: String,
    pub levels: Vec<String>,
    pub result: ResultRule,
    pub veto: Vec<Veto>,
    pub group: Vec<Group>,
    pub item: Vec<Item>,
    pub content_hash: String,
}

impl From<&rub::Rubric> for Rubric {
    fn from(r: &rub::Rubric) -> Self {
        Rubric {
            format: r.format.clone(),
            id: r.id.clone(),
            version: r.version.clone(),
            title: r.title.clone(),
            source: r.source.clone(),
            points: r.points.to_string(),
            levels: r.levels.clone(),
            result: (&r.result).into(),
            veto: r.veto.iter().map(|v| Veto { id: v.id.clone(), text: v.text.clone() }).collect(),
            group: r.group.iter().map(Group::from).collect(),
            item: r.item.iter().map(Item::from).collect(),
            content_hash: r.content_hash.clone(),
        }
    }
}

#[derive(Debug, Serialize)]
pub struct ResultRule {
    pub min_assessors: u32,
    pub odd_assessors: bool,
    pub pass_at: Option<String>,
    pub pass_text: Option<String>,
    pub fail_text: Option<String>,
    pub insufficient_text: Option<String>,
    pub veto_text: String,
    pub valid_months: Option<u32>,
    pub report_title: Option<String>,
    pub process: Option<String>,
}

impl From<&rub::ResultRule> for ResultRule {
    fn from(r: &rub::ResultRule) -> Self {
        ResultRule {
            min_assessors: r.min_assessors,
            odd_assessors: r.odd_assessors,
            pass_at: texts(&r.pass_at),
            pass_text: r.pass_text.clone(),
            fail_text: r.fail_text.clone(),
            insufficient_text: r.insufficient_text.clone(),
            veto_text: r.veto_text.clone(),
            valid_months: r.valid_months,
            report_title: r.report_title.clone(),
            process: r.process.clone(),
        }
    }
}

#[derive(Debug, Serialize)]
pub struct Veto {
    pub id: String,
    pub text: String,
}

#[derive(Debug, Serialize)]
pub struct Group {
    pub id: String,
    pub parent: Option<String>,
    pub number: Option<String>,
    pub name: String,
    pub points: String,
}

impl From<&rub::Group> for Group {
    fn from(g: &rub::Group) -> Self {
        Group { id: g.id.clone(), parent: g.parent.clone(), number: g.number.clone(), name: g.name.clone(), points: g.points.to_string() }
    }
}

#[derive(Debug, Serialize)]
pub struct Item {
    pub id: String,
    pub group: String,
    pub number: Option<String>,
    pub name: String,
    pub text: String,
    pub criteria: String,
    pub method: Vec<String>,
    pub points: String,
    pub input: Vec<Input>,
    pub part: Vec<Part>,
    pub interpretation: Vec<Interpretation>,
    pub service_log: Option<ServiceLog>,
}

impl From<&rub::Item> for Item {
    fn from(i: &rub::Item) -> Self {
        Item {
            id: i.id.clone(),
            group: i.group.clone(),
            number: i.number.clone(),
            name: i.name.clone(),
            text: i.text.clone(),
            criteria: i.criteria.clone(),
            method: i.method.clone(),
            points: i.points.to_string(),
            input: i.input.iter().map(Input::from).collect(),
            part: i.part.iter().map(Part::from).collect(),
            interpretation: i
                .interpretation
                .iter()
                .map(|n| Interpretation { finding: n.finding.clone(), text: n.text.clone(), note: n.note })
                .collect(),
            service_log: i.service_log.as_ref().map(|l| ServiceLog {
                real: l.real.clone(),
                simulated: l.simulated.clone(),
                categories: l.categories.clone(),
            }),
        }
    }
}

#[derive(Debug, Serialize)]
pub struct ServiceLog {
    pub real: String,
    pub simulated: String,
    pub categories: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct Input {
    pub id: String,
    /// yes_no | count | tally | elements | window_equipment | measurement | ratio | choice | time_sample
    pub kind: &'static str,
    pub label: String,
    pub help: Option<String>,
    pub required: bool,
    pub expect_at_least: Option<u64>,
    pub unit: Option<String>,
    pub min: Option<String>,
    pub max: Option<String>,
    pub elements: Vec<String>,
    pub options: Vec<ChoiceOption>,
    pub units: Vec<String>,
    pub default_from: Option<String>,
}

impl From<&rub::Input> for Input {
    fn from(i: &rub::Input) -> Self {
        Input {
            id: i.id.clone(),
            kind: i.kind.name(),
            label: i.label.clone(),
            help: i.help.clone(),
            required: i.required,
            expect_at_least: i.expect_at_least,
            unit: i.unit.clone(),
            min: texts(&i.min),
            max: texts(&i.max),
            elements: i.elements.clone(),
            options: i.options.iter().map(|o| ChoiceOption { id: o.id.clone(), label: o.label.clone() }).collect(),
            units: i.units.clone(),
            default_from: i.default_from.clone(),
        }
    }
}

#[derive(Debug, Serialize)]
pub struct ChoiceOption {
    pub id: String,
    pub label: String,
}

#[derive(Debug, Serialize)]
pub struct Part {
    pub label: String,
    pub points: String,
    pub text_points: Option<String>,
    pub implied_points: bool,
    pub vacuous: bool,
    pub zero_when: Vec<Condition>,
    pub rule: Rule,
}

impl From<&rub::Part> for Part {
    fn from(p: &rub::Part) -> Self {
        Part {
            label: p.label.clone(),
            points: p.points.to_string(),
            text_points: texts(&p.text_points),
            implied_points: p.implied_points,
            vacuous: p.vacuous,
            zero_when: p
                .zero_when
                .iter()
                .map(|c| Condition { input: c.input.clone(), is: c.is, above: texts(&c.above), below: texts(&c.below) })
                .collect(),
            rule: (&p.rule).into(),
        }
    }
}

#[derive(Debug, Serialize)]
pub struct Condition {
    pub input: String,
    pub is: Option<bool>,
    pub above: Option<String>,
    pub below: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Rule {
    Yes { input: String },
    Bands { input: String, bands: Vec<Band> },
    Deduct { input: Option<String>, inputs: Vec<String>, per: String, key: Vec<String> },
    Shortfall { input: String, target: String, per: String },
    Excess { input: String, limit: String, step: String, per: String },
    LevelShortfall { input: String, level: String, requirement: BTreeMap<String, String>, step_percent: String, per: String },
    Range { checks: Vec<RangeCheck> },
}

impl From<&rub::Rule> for Rule {
    fn from(r: &rub::Rule) -> Self {
        match r {
            rub::Rule::Yes { input } => Rule::Yes { input: input.clone() },
            rub::Rule::Bands { input, bands } => Rule::Bands {
                input: input.clone(),
                bands: bands.iter().map(|b| Band { from: b.from.to_string(), to: texts(&b.to), points: b.points.to_string() }).collect(),
            },
            rub::Rule::Deduct { input, inputs, per, key } => {
                Rule::Deduct { input: input.clone(), inputs: inputs.clone(), per: per.to_string(), key: key.clone() }
            }
            rub::Rule::Shortfall { input, target, per } => Rule::Shortfall { input: input.clone(), target: target.to_string(), per: per.to_string() },
            rub::Rule::Excess { input, limit, step, per } => {
                Rule::Excess { input: input.clone(), limit: limit.to_string(), step: step.to_string(), per: per.to_string() }
            }
            rub::Rule::LevelShortfall { input, level, requirement, step_percent, per } => Rule::LevelShortfall {
                input: input.clone(),
                level: level.clone(),
                requirement: requirement.iter().map(|(k, n)| (k.clone(), n.to_string())).collect(),
                step_percent: step_percent.to_string(),
                per: per.to_string(),
            },
            rub::Rule::Range { checks } => Rule::Range {
                checks: checks.iter().map(|c| RangeCheck { input: c.input.clone(), min: c.min.to_string(), max: c.max.to_string() }).collect(),
            },
        }
    }
}

#[derive(Debug, Serialize)]
pub struct Band {
    pub from: String,
    pub to: Option<String>,
    pub points: String,
}

#[derive(Debug, Serialize)]
pub struct RangeCheck {
    pub input: String,
    pub min: String,
    pub max: String,
}

#[derive(Debug, Serialize)]
pub struct Interpretation {
    pub finding: String,
    pub text: String,
    pub note: bool,
}

// ---------- the score sheet ----------

#[derive(Debug, Serialize)]
pub struct ScoreSheet {
    pub rubric: String,
    pub rubric_version: String,
    pub rubric_hash: String,
    pub site: Option<String>,
    pub assessor: Option<String>,
    pub items: Vec<ItemScore>,
    pub groups: Vec<GroupScore>,
    pub total: String,
    pub max_total: String,
    pub complete: bool,
    pub veto: VetoOutcome,
    pub diagnostics: Vec<Diagnostic>,
}

impl From<&sc::ScoreSheet> for ScoreSheet {
    fn from(s: &sc::ScoreSheet) -> Self {
        ScoreSheet {
            rubric: s.rubric.clone(),
            rubric_version: s.rubric_version.clone(),
            rubric_hash: s.rubric_hash.clone(),
            site: s.site.clone(),
            assessor: s.assessor.clone(),
            items: s.items.iter().map(ItemScore::from).collect(),
            groups: s
                .groups
                .iter()
                .map(|g| GroupScore {
                    id: g.id.clone(),
                    name: g.name.clone(),
                    depth: g.depth,
                    max: text(&g.max),
                    points: text(&g.points),
                    complete: g.complete,
                })
                .collect(),
            total: text(&s.total),
            max_total: text(&s.max_total),
            complete: s.complete,
            veto: VetoOutcome {
                triggered: s.veto.triggered.clone(),
                unanswered: s.veto.unanswered.clone(),
                vetoed: s.veto.vetoed,
                text: s.veto.text.clone(),
            },
            diagnostics: s
                .diagnostics
                .iter()
                .map(|d| Diagnostic {
                    severity: match d.severity {
                        sc::Severity::Missing => "missing",
                        sc::Severity::Warning => "warning",
                    },
                    item: d.item.clone(),
                    message: d.message.clone(),
                })
                .collect(),
        }
    }
}

#[derive(Debug, Serialize)]
pub struct ItemScore {
    pub id: String,
    pub group: String,
    pub name: String,
    pub max: String,
    /// `None` when no part is answered.
    pub points: Option<String>,
    /// complete | partial | unanswered
    pub status: &'static str,
    pub parts: Vec<PartScore>,
}

impl From<&sc::ItemScore> for ItemScore {
    fn from(i: &sc::ItemScore) -> Self {
        ItemScore {
            id: i.id.clone(),
            group: i.group.clone(),
            name: i.name.clone(),
            max: text(&i.max),
            points: texts(&i.points),
            status: match i.status {
                sc::Status::Complete => "complete",
                sc::Status::Partial => "partial",
                sc::Status::Unanswered => "unanswered",
            },
            parts: i.parts.iter().map(PartScore::from).collect(),
        }
    }
}

#[derive(Debug, Serialize)]
pub struct PartScore {
    pub label: String,
    pub max: String,
    pub points: Option<String>,
    /// In Chinese, naming the observation; read it, never parse it.
    pub explanation: String,
    pub finding: Finding,
}

impl From<&sc::PartScore> for PartScore {
    fn from(p: &sc::PartScore) -> Self {
        PartScore {
            label: p.label.clone(),
            max: text(&p.max),
            points: texts(&p.points),
            explanation: p.explanation.clone(),
            finding: (&p.finding).into(),
        }
    }
}

#[derive(Debug, Serialize)]
pub struct GroupScore {
    pub id: String,
    pub name: String,
    pub depth: usize,
    pub max: String,
    pub points: String,
    pub complete: bool,
}

#[derive(Debug, Serialize)]
pub struct VetoOutcome {
    pub triggered: Vec<String>,
    pub unanswered: Vec<String>,
    pub vetoed: bool,
    pub text: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct Diagnostic {
    /// missing | warning
    pub severity: &'static str,
    pub item: Option<String>,
    pub message: String,
}

/// What one part found, as data (hallmark_core::finding).
#[derive(Debug, Serialize)]
pub struct Finding {
    pub rule: String,
    pub inputs: Vec<String>,
    pub outcome: Outcome,
    pub fact: Fact,
}

impl From<&fnd::Finding> for Finding {
    fn from(f: &fnd::Finding) -> Self {
        Finding { rule: f.rule.to_string(), inputs: f.inputs.clone(), outcome: (&f.outcome).into(), fact: (&f.fact).into() }
    }
}

#[derive(Debug, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Outcome {
    Awarded { points: String },
    Deducted { deduction: String },
    Zero,
    Unanswered,
}

impl From<&fnd::Outcome> for Outcome {
    fn from(o: &fnd::Outcome) -> Self {
        match o {
            fnd::Outcome::Awarded { points } => Outcome::Awarded { points: text(points) },
            fnd::Outcome::Deducted { deduction } => Outcome::Deducted { deduction: text(deduction) },
            fnd::Outcome::Zero => Outcome::Zero,
            fnd::Outcome::Unanswered => Outcome::Unanswered,
        }
    }
}

#[derive(Debug, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Fact {
    Yes {
        answer: bool,
    },
    Bands {
        reading: Reading,
        reached: Option<String>,
        lowest: String,
        unit: String,
    },
    Deduct {
        tallies: Vec<Tally>,
    },
    Shortfall {
        count: u64,
        target: String,
        short: String,
    },
    Excess {
        value: String,
        unit: String,
        limit: String,
        step: String,
        steps: Option<String>,
    },
    LevelShortfall {
        value: String,
        unit: String,
        level: String,
        level_label: String,
        requirement: String,
        step_percent: String,
        short: Option<LevelShort>,
    },
    Range {
        readings: Vec<RangeReading>,
    },
    ZeroWhen {
        input: String,
        label: String,
        held: Held,
    },
    KeyMissing {
        input: String,
        element: String,
    },
    Unanswered {
        inputs: Vec<String>,
        labels: Vec<String>,
    },
}

impl From<&fnd::Fact> for Fact {
    fn from(f: &fnd::Fact) -> Self {
        match f {
            fnd::Fact::Yes { answer } => Fact::Yes { answer: *answer },
            fnd::Fact::Bands { reading, reached, lowest, unit } => {
                Fact::Bands { reading: reading.into(), reached: texts(reached), lowest: text(lowest), unit: unit.clone() }
            }
            fnd::Fact::Deduct { tallies } => Fact::Deduct { tallies: tallies.iter().map(Tally::from).collect() },
            fnd::Fact::Shortfall { count, target, short } => Fact::Shortfall { count: *count, target: text(target), short: text(short) },
            fnd::Fact::Excess { value, unit, limit, step, steps } => {
                Fact::Excess { value: text(value), unit: unit.clone(), limit: text(limit), step: text(step), steps: texts(steps) }
            }
            fnd::Fact::LevelShortfall { value, unit, level, level_label, requirement, step_percent, short } => Fact::LevelShortfall {
                value: text(value),
                unit: unit.clone(),
                level: level.clone(),
                level_label: level_label.clone(),
                requirement: text(requirement),
                step_percent: text(step_percent),
                short: short.map(|s| LevelShort { percent: text(&s.percent), steps: text(&s.steps) }),
            },
            fnd::Fact::Range { readings } => Fact::Range {
                readings: readings
                    .iter()
                    .map(|r| RangeReading {
                        input: r.input.clone(),
                        label: r.label.clone(),
                        value: text(&r.value),
                        unit: r.unit.clone(),
                        min: text(&r.min),
                        max: text(&r.max),
                    })
                    .collect(),
            },
            fnd::Fact::ZeroWhen { input, label, held } => Fact::ZeroWhen { input: input.clone(), label: label.clone(), held: held.into() },
            fnd::Fact::KeyMissing { input, element } => Fact::KeyMissing { input: input.clone(), element: element.clone() },
            fnd::Fact::Unanswered { inputs, labels } => Fact::Unanswered { inputs: inputs.clone(), labels: labels.clone() },
        }
    }
}

#[derive(Debug, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Reading {
    Measured { value: String, unit: String },
    Counted { value: u64 },
    Percent { percent: String, numerator: Option<u64>, denominator: Option<u64> },
    Present { elements: Vec<String> },
}

impl From<&fnd::Reading> for Reading {
    fn from(r: &fnd::Reading) -> Self {
        match r {
            fnd::Reading::Measured { value, unit } => Reading::Measured { value: text(value), unit: unit.clone() },
            fnd::Reading::Counted { value } => Reading::Counted { value: *value },
            fnd::Reading::Percent { percent, numerator, denominator } => {
                Reading::Percent { percent: text(percent), numerator: *numerator, denominator: *denominator }
            }
            fnd::Reading::Present { elements } => Reading::Present { elements: elements.clone() },
        }
    }
}

#[derive(Debug, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Tally {
    Count { input: String, label: String, value: u64 },
    Missing { input: String, elements: Vec<String> },
    Windows { input: String, windows: usize, lacking: Vec<WindowLack> },
    TimeSample { input: String, sampled: usize, late: usize, units: String },
}

impl From<&fnd::Tally> for Tally {
    fn from(t: &fnd::Tally) -> Self {
        match t {
            fnd::Tally::Count { input, label, value } => Tally::Count { input: input.clone(), label: label.clone(), value: *value },
            fnd::Tally::Missing { input, elements } => Tally::Missing { input: input.clone(), elements: elements.clone() },
            fnd::Tally::Windows { input, windows, lacking } => Tally::Windows {
                input: input.clone(),
                windows: *windows,
                lacking: lacking.iter().map(|w| WindowLack { window: w.window.clone(), missing: w.missing.clone() }).collect(),
            },
            fnd::Tally::TimeSample { input, sampled, late, units } => {
                Tally::TimeSample { input: input.clone(), sampled: *sampled, late: *late, units: text(units) }
            }
        }
    }
}

#[derive(Debug, Serialize)]
pub struct WindowLack {
    pub window: String,
    pub missing: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct LevelShort {
    pub percent: String,
    pub steps: String,
}

#[derive(Debug, Serialize)]
pub struct RangeReading {
    pub input: String,
    pub label: String,
    pub value: String,
    pub unit: String,
    pub min: String,
    pub max: String,
}

#[derive(Debug, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Held {
    Is { value: bool },
    Above { value: String, limit: String },
    Below { value: String, limit: String },
}

impl From<&fnd::Held> for Held {
    fn from(h: &fnd::Held) -> Self {
        match h {
            fnd::Held::Is { value } => Held::Is { value: *value },
            fnd::Held::Above { value, limit } => Held::Above { value: text(value), limit: text(limit) },
            fnd::Held::Below { value, limit } => Held::Below { value: text(value), limit: text(limit) },
        }
    }
}

// ---------- bundles ----------

#[derive(Debug, Serialize)]
pub struct Exported {
    pub path: String,
    pub bytes: u64,
    pub photos: usize,
    pub events: usize,
    /// SHA-256 of the signed manifest: the bundle's identity.
    pub bundle_id: String,
    pub fingerprint: String,
}

impl From<&bundle::Exported> for Exported {
    fn from(e: &bundle::Exported) -> Self {
        Exported {
            path: e.path.display().to_string(),
            bytes: e.bytes,
            photos: e.photos,
            events: e.events,
            bundle_id: e.bundle_id.clone(),
            fingerprint: e.fingerprint.clone(),
        }
    }
}

/// One bundle's import: its result or why it was refused, and the line the UI shows.
#[derive(Debug, Serialize)]
pub struct ImportOutcome {
    pub file: String,
    pub result: Option<Imported>,
    pub error: Option<CommandError>,
    pub line: String,
}

impl ImportOutcome {
    pub fn of(file: String, result: Result<bundle::Imported, StoreError>) -> ImportOutcome {
        match result {
            Ok(r) => ImportOutcome { line: r.line(&file), result: Some((&r).into()), error: None, file },
            Err(e) => ImportOutcome { line: e.to_string(), result: None, error: Some(e.into()), file },
        }
    }
}

#[derive(Debug, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Imported {
    Applied {
        bundle_id: String,
        inspection_id: String,
        site: String,
        assessor: String,
        fingerprint: String,
        known_as: Option<String>,
        events: usize,
        new_events: usize,
        photos: usize,
        new_photos: usize,
    },
    AlreadyImported {
        bundle_id: String,
        inspection_id: String,
        assessor: String,
        fingerprint: String,
        known_as: Option<String>,
    },
}

impl From<&bundle::Imported> for Imported {
    fn from(i: &bundle::Imported) -> Self {
        match i {
            bundle::Imported::Applied { bundle_id, inspection_id, site, assessor, fingerprint, known_as, events, new_events, photos, new_photos } => {
                Imported::Applied {
                    bundle_id: bundle_id.clone(),
                    inspection_id: inspection_id.clone(),
                    site: site.clone(),
                    assessor: assessor.clone(),
                    fingerprint: fingerprint.clone(),
                    known_as: known_as.clone(),
                    events: *events,
                    new_events: *new_events,
                    photos: *photos,
                    new_photos: *new_photos,
                }
            }
            bundle::Imported::AlreadyImported { bundle_id, inspection_id, assessor, fingerprint, known_as } => Imported::AlreadyImported {
                bundle_id: bundle_id.clone(),
                inspection_id: inspection_id.clone(),
                assessor: assessor.clone(),
                fingerprint: fingerprint.clone(),
                known_as: known_as.clone(),
            },
        }
    }
}

// ---------- the lead's merge view ----------

#[derive(Debug, Serialize)]
pub struct MergeGroup {
    pub site: String,
    pub site_address: String,
    pub site_level: String,
    pub rubric_id: String,
    pub rubric_version: String,
    pub rubric_hash: String,
    pub rubric_title: String,
    pub assessors: Vec<Assessor>,
    /// `None` when the sheets cannot be aggregated; `error` says why.
    pub panel: Option<Panel>,
    pub error: Option<String>,
}

impl From<&merge::MergeGroup> for MergeGroup {
    fn from(g: &merge::MergeGroup) -> Self {
        MergeGroup {
            site: g.site.clone(),
            site_address: g.site_address.clone(),
            site_level: g.site_level.clone(),
            rubric_id: g.rubric_id.clone(),
            rubric_version: g.rubric_version.clone(),
            rubric_hash: g.rubric_hash.clone(),
            rubric_title: g.rubric_title.clone(),
            assessors: g.assessors.iter().map(Assessor::from).collect(),
            panel: g.panel.as_ref().map(Panel::from),
            error: g.error.clone(),
        }
    }
}

#[derive(Debug, Serialize)]
pub struct Assessor {
    pub inspection_id: String,
    pub name: String,
    pub unit: String,
    pub title: String,
    pub phone: String,
    pub visited_on: String,
    pub finished_at: Option<String>,
    pub fingerprint: String,
    pub public_key: String,
    /// `None` flags a signer not on the roster.
    pub known_as: Option<String>,
    pub local: bool,
    pub bundles: usize,
    pub total: String,
    pub complete: bool,
    pub vetoed: bool,
    /// item id → photos the assessor attached there.
    pub photos: BTreeMap<String, Vec<PhotoRef>>,
    pub conflicts: Vec<Conflict>,
    pub signature: Option<SignatureImage>,
}

impl From<&merge::Assessor> for Assessor {
    fn from(a: &merge::Assessor) -> Self {
        Assessor {
            inspection_id: a.inspection_id.clone(),
            name: a.name.clone(),
            unit: a.unit.clone(),
            title: a.title.clone(),
            phone: a.phone.clone(),
            visited_on: a.visited_on.clone(),
            finished_at: a.finished_at.clone(),
            fingerprint: a.fingerprint.clone(),
            public_key: a.public_key.clone(),
            known_as: a.known_as.clone(),
            local: a.local,
            bundles: a.bundles,
            total: a.total.clone(),
            complete: a.complete,
            vetoed: a.vetoed,
            photos: a
                .photos
                .iter()
                .map(|(item, refs)| {
                    let refs = refs
                        .iter()
                        .map(|p| PhotoRef {
                            sha256: p.sha256.clone(),
                            caption: p.caption.clone(),
                            taken_at: p.taken_at.clone(),
                            attached_at: p.attached_at.clone(),
                        })
                        .collect();
                    (item.clone(), refs)
                })
                .collect(),
            conflicts: a.conflicts.iter().map(Conflict::from).collect(),
            signature: a.signature.as_ref().map(|s| SignatureImage { sha256: s.sha256.clone(), size: s.size, signed_at: s.signed_at.clone() }),
        }
    }
}

#[derive(Debug, Serialize)]
pub struct PhotoRef {
    pub sha256: String,
    pub caption: String,
    pub taken_at: Option<String>,
    pub attached_at: String,
}

#[derive(Debug, Serialize)]
pub struct SignatureImage {
    pub sha256: String,
    pub size: u64,
    pub signed_at: String,
}

/// A key whose edits diverged between two bundles of one inspection.
#[derive(Debug, Serialize)]
pub struct Conflict {
    pub key: String,
    pub current: Option<Value>,
    pub current_event: Option<String>,
    pub sides: Vec<ConflictSide>,
}

impl From<&hallmark_store::conflicts::Conflict> for Conflict {
    fn from(c: &hallmark_store::conflicts::Conflict) -> Self {
        Conflict {
            key: c.key.clone(),
            current: c.current.clone(),
            current_event: c.current_event.clone(),
            sides: c
                .sides
                .iter()
                .map(|s| ConflictSide {
                    bundle_file: s.bundle_file.clone(),
                    bundle_created_at: s.bundle_created_at.clone(),
                    value: s.value.clone(),
                    recorded_at: s.recorded_at.clone(),
                    event_id: s.event_id.clone(),
                })
                .collect(),
        }
    }
}

#[derive(Debug, Serialize)]
pub struct ConflictSide {
    pub bundle_file: String,
    pub bundle_created_at: String,
    pub value: Option<Value>,
    pub recorded_at: String,
    pub event_id: String,
}

/// The sheets of one site aggregated by the rubric's rule (hallmark_core::aggregate).
#[derive(Debug, Serialize)]
pub struct Panel {
    pub rubric: String,
    pub rubric_version: String,
    pub site: Option<String>,
    pub assessors: Vec<String>,
    /// Each assessor's total, in the order of `assessors`.
    pub totals: Vec<String>,
    pub items: Vec<Spread>,
    pub groups: Vec<Spread>,
    pub total: Spread,
    /// The mean total as the report prints it (2 decimals).
    pub final_score: Option<String>,
    pub conclusion: Conclusion,
    pub warnings: Vec<String>,
}

impl From<&agg::Panel> for Panel {
    fn from(p: &agg::Panel) -> Self {
        Panel {
            rubric: p.rubric.clone(),
            rubric_version: p.rubric_version.clone(),
            site: p.site.clone(),
            assessors: p.assessors.clone(),
            totals: p.totals.iter().map(|d| text(&d.normalize())).collect(),
            items: p.items.iter().map(Spread::from).collect(),
            groups: p.groups.iter().map(Spread::from).collect(),
            total: (&p.total).into(),
            final_score: texts(&p.final_score),
            conclusion: (&p.conclusion).into(),
            warnings: p.warnings.clone(),
        }
    }
}

#[derive(Debug, Serialize)]
pub struct Spread {
    pub id: String,
    pub name: String,
    pub max_points: String,
    /// One per assessor; `None` where that assessor left it unanswered.
    pub scores: Vec<Option<String>>,
    pub mean: Option<String>,
    pub min: Option<String>,
    pub max: Option<String>,
    pub stddev: Option<String>,
    pub outliers: Vec<bool>,
}

impl From<&agg::Spread> for Spread {
    fn from(s: &agg::Spread) -> Self {
        Spread {
            id: s.id.clone(),
            name: s.name.clone(),
            max_points: text(&s.max_points),
            scores: s.scores.iter().map(|d| d.map(|d| text(&d.normalize()))).collect(),
            mean: texts(&s.mean),
            min: texts(&s.min),
            max: texts(&s.max),
            stddev: texts(&s.stddev),
            outliers: s.outliers.clone(),
        }
    }
}

#[derive(Debug, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Conclusion {
    Pass { text: String },
    Fail { text: String },
    Vetoed { text: String, cases: Vec<String>, by: Vec<String> },
    Insufficient { text: String },
    Incomplete { text: String, assessors: Vec<String> },
    NoPassLine { text: String },
}

impl From<&agg::Conclusion> for Conclusion {
    fn from(c: &agg::Conclusion) -> Self {
        match c {
            agg::Conclusion::Pass { text } => Conclusion::Pass { text: text.clone() },
            agg::Conclusion::Fail { text } => Conclusion::Fail { text: text.clone() },
            agg::Conclusion::Vetoed { text, cases, by } => Conclusion::Vetoed { text: text.clone(), cases: cases.clone(), by: by.clone() },
            agg::Conclusion::Insufficient { text } => Conclusion::Insufficient { text: text.clone() },
            agg::Conclusion::Incomplete { text, assessors } => Conclusion::Incomplete { text: text.clone(), assessors: assessors.clone() },
            agg::Conclusion::NoPassLine { text } => Conclusion::NoPassLine { text: text.clone() },
        }
    }
}

// ---------- re-evaluations ----------

/// A hall whose conclusion lapses soon.
#[derive(Debug, Serialize)]
pub struct Due {
    pub site: String,
    pub rubric_id: String,
    pub issued_on: String,
    pub valid_until: String,
    /// Negative once lapsed.
    pub days_left: i64,
}

impl From<&hallmark_report::model::Due> for Due {
    fn from(d: &hallmark_report::model::Due) -> Self {
        Due {
            site: d.site.clone(),
            rubric_id: d.rubric_id.clone(),
            issued_on: d.issued_on.clone(),
            valid_until: d.valid_until.clone(),
            days_left: d.days_left,
        }
    }
}
