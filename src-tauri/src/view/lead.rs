//! Bundles, the lead's merge view and re-evaluations due.

use super::*;

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
            bundle::Imported::Applied {
                bundle_id,
                inspection_id,
                site,
                assessor,
                fingerprint,
                known_as,
                events,
                new_events,
                photos,
                new_photos,
                ..
            } => Imported::Applied {
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
            },
            bundle::Imported::AlreadyImported { bundle_id, inspection_id, assessor, fingerprint, known_as, .. } => Imported::AlreadyImported {
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
    /// The lead's panel this group is (`panel_list`); `None` for a group made by site name
    /// and rubric (no panels yet).
    pub panel_id: Option<String>,
    /// Members the lead took out, with their reasons (printed in the report).
    pub excluded: Vec<Excluded>,
}

/// A panel member the lead took out, and why.
#[derive(Debug, Serialize)]
pub struct Excluded {
    pub inspection_id: String,
    pub name: String,
    pub reason: String,
    pub author: String,
    pub recorded_at: String,
}

impl From<&merge::Excluded> for Excluded {
    fn from(x: &merge::Excluded) -> Self {
        Excluded {
            inspection_id: x.inspection_id.clone(),
            name: x.name.clone(),
            reason: x.reason.clone(),
            author: x.author.clone(),
            recorded_at: x.recorded_at.clone(),
        }
    }
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
            panel_id: g.panel_id.clone(),
            excluded: g.excluded.iter().map(Excluded::from).collect(),
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
    /// Dates from the tablet no honest clock wrote, one Chinese line each (#15); absent when none.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub date_warnings: Vec<String>,
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
            date_warnings: a.date_warnings.clone(),
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

// ---------- the lead's panels (issue #14) ----------

/// A panel the lead made: which inspections one report merges.
#[derive(Debug, Serialize)]
pub struct PanelMembership {
    pub id: String,
    /// The site's name as the report prints it.
    pub site: String,
    pub author: String,
    pub created_at: String,
    /// Every inspection ever added, in the order first added.
    pub members: Vec<Member>,
}

#[derive(Debug, Serialize)]
pub struct Member {
    pub inspection_id: String,
    pub assessor: String,
    pub included: bool,
    /// Why it was taken out ("" while included).
    pub reason: String,
    pub author: String,
    pub recorded_at: String,
}

impl From<&hallmark_store::panels::Panel> for PanelMembership {
    fn from(p: &hallmark_store::panels::Panel) -> Self {
        PanelMembership {
            id: p.id.clone(),
            site: p.site.clone(),
            author: p.author.clone(),
            created_at: p.created_at.clone(),
            members: p
                .members
                .iter()
                .map(|m| Member {
                    inspection_id: m.inspection_id.clone(),
                    assessor: m.assessor.clone(),
                    included: m.included,
                    reason: m.reason.clone(),
                    author: m.author.clone(),
                    recorded_at: m.recorded_at.clone(),
                })
                .collect(),
        }
    }
}

/// One assessor added from a roster file.
#[derive(Debug, Serialize)]
pub struct RosterLoaded {
    pub name: String,
    pub fingerprint: String,
}

/// One reviewed sheet or item of a panel, as the lead's screen shows it (issue #13).
#[derive(Debug, Serialize)]
pub struct PanelReview {
    pub inspection_id: String,
    pub assessor: String,
    /// `None`: the whole sheet.
    pub item_id: Option<String>,
    /// returned | answered | accepted
    pub state: &'static str,
    pub comment: String,
    pub at: String,
    /// The line in words: "张伟 · 服务实操：退回（…），待评价人员修改".
    pub text: String,
}

impl From<&hallmark_store::reviews::Review> for PanelReview {
    fn from(r: &hallmark_store::reviews::Review) -> Self {
        PanelReview {
            inspection_id: r.inspection_id.clone(),
            assessor: r.assessor.clone(),
            item_id: r.item_id.clone(),
            state: r.state.name(),
            comment: r.state.comment().to_string(),
            at: r.state.at().to_string(),
            text: r.text(),
        }
    }
}

/// One 整改 item as the lead's 整改跟踪 list shows it (issue #13).
#[derive(Debug, Serialize)]
pub struct RectificationView {
    pub id: String,
    pub site: String,
    pub report_number: String,
    pub item_id: String,
    pub item_name: String,
    pub max_points: String,
    pub points_lost: String,
    /// 扣分说明, as the report printed it.
    pub finding: String,
    /// An evidence photo of the finding (SHA-256), if the panel took any.
    pub photo_sha256: Option<String>,
    /// open | in_progress | done | verified
    pub status: hallmark_store::rectifications::Status,
    /// 待整改 | 整改中 | 已整改（待核验） | 已核验
    pub status_label: &'static str,
    pub owner: Option<String>,
    pub due_on: Option<String>,
    pub steps: Vec<RectificationStep>,
}

/// One signed step of a 整改 item.
#[derive(Debug, Serialize)]
pub struct RectificationStep {
    /// assigned | progress | done | reopened | verified
    pub kind: String,
    pub owner: Option<String>,
    pub due_on: Option<String>,
    pub note: String,
    pub photo_sha256: Option<String>,
    pub by_report: Option<String>,
    pub at: String,
}

impl From<&hallmark_store::rectifications::Rectification> for RectificationView {
    fn from(r: &hallmark_store::rectifications::Rectification) -> Self {
        RectificationView {
            id: r.id.clone(),
            site: r.site.clone(),
            report_number: r.report_number.clone(),
            item_id: r.item_id.clone(),
            item_name: r.item_name.clone(),
            max_points: r.max_points.clone(),
            points_lost: r.points_lost.clone(),
            finding: r.finding.clone(),
            photo_sha256: r.photo_sha256.clone(),
            status: r.status,
            status_label: r.status.label(),
            owner: r.owner.clone(),
            due_on: r.due_on.clone(),
            steps: r
                .events
                .iter()
                .map(|e| RectificationStep {
                    kind: e.kind.clone(),
                    owner: e.owner.clone(),
                    due_on: e.due_on.clone(),
                    note: e.note.clone(),
                    photo_sha256: e.photo_sha256.clone(),
                    by_report: e.by_report.clone(),
                    at: e.at.clone(),
                })
                .collect(),
        }
    }
}
