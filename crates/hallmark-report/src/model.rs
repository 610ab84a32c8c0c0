//! The report model: everything the PDF prints, built from the lead's merged data and nothing
//! else (no clock: the issue date is the lead's, passed in; the other dates come from the
//! inspections, and a tablet's date never dates the report). The PDF, the golden text form, the
//! sidecar and the CSV/XLSX are all renderings of this one value.

use std::collections::BTreeMap;

use hallmark_core::aggregate::{Conclusion, Panel, Spread};
use hallmark_core::num::fmt;
use hallmark_core::render;
use hallmark_core::rubric::Rubric;
use hallmark_core::score::{PartScore, ScoreSheet};
use hallmark_store::merge::MergeGroup;
use hallmark_store::Store;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::ReportError;

use crate::printable;

/// What the lead adds that no inspection records: the hall's contact details and who leads.
/// Read from a small TOML file (`hallmark report --details FILE`); every field optional.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Details {
    /// 负责人
    #[serde(default)]
    pub site_head: String,
    #[serde(default)]
    pub site_phone: String,
    #[serde(default)]
    pub site_email: String,
    /// 组长: one of the assessors' names (default: the first assessor).
    #[serde(default)]
    pub leader: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// 报告编号: HM-<rubric code>-<issue date>-<first 8 hex digits of the evidence Merkle root>.
    pub number: String,
    pub title: String,
    pub grade: String,
    pub rubric_id: String,
    pub rubric_version: String,
    pub rubric_hash: String,
    pub rubric_title: String,
    /// 评价依据
    pub source: String,
    /// 评价流程
    pub process: String,
    pub site: Site,
    pub evaluated_from: String,
    pub evaluated_to: String,
    pub issued_on: String,
    pub valid_until: Option<String>,
    pub assessors: Vec<AssessorRow>,
    pub items: Vec<ItemRow>,
    pub groups: Vec<GroupRow>,
    pub total: ItemRow,
    /// The mean total as printed and as the sidecar signs it (`seal.rs`), e.g. "90.2". `None`
    /// for a panel smaller than the rubric asks (a draft): no final score (issue #13).
    pub final_score: Option<String>,
    /// The mean total of a panel too small for a final score, printed as 暂定平均分 (a draft).
    pub provisional_mean: Option<String>,
    #[serde(serialize_with = "printed::points_or_null")]
    pub pass_at: Option<Decimal>,
    pub conclusion: String,
    /// pass | fail | vetoed | insufficient | incomplete | no_pass_line
    pub outcome: String,
    pub vetoes: Vec<VetoRow>,
    pub recommendations: Vec<Recommendation>,
    pub warnings: Vec<String>,
    /// Panel members the lead took out, each with the reason (issue #14); printed under 评价人员.
    pub excluded: Vec<ExcludedRow>,
    pub evidence: Vec<EvidenceRow>,
    /// The evidence Merkle root (RFC 6962 tree, [`merkle_root_rfc6962`]; sidecar v2).
    pub merkle_root: String,
    pub signer_public_key: String,
    pub signer_fingerprint: String,
    /// Who signs, from the lead device's certificate (issue #10); printed on the cover and in
    /// the footer. Unenrolled: 未登记设备.
    pub signer: Signer,
    /// The lead device's certificate chain (PEM, leaf first, root excluded) as the store holds
    /// it; empty when unenrolled. Not printed: the sidecar carries it.
    #[serde(skip)]
    pub signer_certificates: Vec<String>,
    /// Every bundle the report is made from and when this store first saw it (sidecar v2's
    /// `bundles`). Not printed.
    #[serde(skip)]
    pub bundles_seen: Vec<BundleSeen>,
    /// What the QR code on the cover says: the report number, the evidence Merkle root and how
    /// to verify (the PDF's own hash cannot be inside the PDF).
    pub qr_text: String,
    /// A draft (issue #14): 草稿 on every page, not sealed; set by `issue::make` when asked.
    pub draft: bool,
    /// A corrected report (更正, issue #13): what it replaces and why, on the cover and in the
    /// sidecar (v3). Its number ends in `-R<revision>`; its 报告日期 and validity stay the first
    /// issue's.
    pub correction: Option<CorrectionRow>,
    /// A re-evaluation (复评, issue #13): the report before it compared item by item, and the
    /// validity by the standard's §12 (`crate::previous`).
    pub previous: Option<crate::previous::PreviousRow>,
    /// The lead's review of the sheets (issue #13 part 1), one line each: "张伟 · 服务实操：退回（…），…".
    pub reviews: Vec<String>,
    /// Signed although returns were open: the lead's reason, printed under 评价结论.
    pub review_override: Option<String>,
}

/// What a corrected report (更正) prints on its cover.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CorrectionRow {
    pub revision: u32,
    pub corrected_on: String,
    pub reason: String,
    pub supersedes_number: String,
    #[serde(skip)]
    pub supersedes_sha256: String,
}

impl Report {
    /// This report as correction `c` of the first issue: the number gains `-R<revision>` (the
    /// QR code with it) and the cover names the report it replaces.
    pub fn corrected(mut self, c: &hallmark_store::report_issues::Correction) -> Report {
        self.number = format!("{}-R{}", self.number, c.revision);
        self.qr_text = qr_text(&self.number, &self.merkle_root);
        self.correction = Some(CorrectionRow {
            revision: c.revision,
            corrected_on: c.corrected_on.clone(),
            reason: printable::clean(&c.reason),
            supersedes_number: c.supersedes_number.clone(),
            supersedes_sha256: c.supersedes_sha256.clone(),
        });
        self
    }
}

/// A bundle a report is made from, and when the lead's store first saw it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BundleSeen {
    pub inspection_id: String,
    pub bundle_id: String,
    pub seen_at: String,
}

/// The signer as the report prints it (from the leaf certificate, as the signer's device
/// holds it; `verify --trust` is what checks it).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Signer {
    pub enrolled: bool,
    /// The certificate's name, or 未登记设备.
    pub name: String,
    pub unit: String,
    pub title: String,
    /// The issuing CA's name ("" unenrolled).
    pub issuer: String,
}

/// Printed for a signer whose device holds no certificate.
pub const UNENROLLED: &str = "未登记设备";

impl Signer {
    /// The signer a chain names: its leaf certificate's subject. An empty chain is an
    /// unenrolled device.
    pub fn of(chain: &[String]) -> Result<Signer, ReportError> {
        let Some(leaf) = chain.first() else {
            return Ok(Signer { enrolled: false, name: UNENROLLED.into(), unit: String::new(), title: String::new(), issuer: String::new() });
        };
        let what = "this device's certificate";
        let bad = |e: hallmark_trust::TrustError| {
            ReportError::Input(format!("{e} (enroll the device again: `hallmark enroll`, or make the report after removing the damaged certificate)"))
        };
        let der = hallmark_trust::certificate::read_pem(what, leaf.as_bytes()).map_err(bad)?;
        let info = hallmark_trust::certificate::info(what, &der[0]).map_err(bad)?;
        Ok(Signer { enrolled: true, name: info.name, unit: info.unit, title: info.title, issuer: info.issuer })
    }
}

/// The QR code's text: the report number, the evidence Merkle root and how to verify.
pub fn qr_text(number: &str, merkle_root: &str) -> String {
    format!("hallmark report {number}\nmerkle {MERKLE_SCHEME} {merkle_root}\nverify: hallmark verify REPORT.pdf --trust BUREAU-ROOT.pem --bundles BUNDLE-DIR\n")
}

/// The Merkle tree a report signs today (sidecar v2): RFC 6962 with leaf and node prefixes.
pub const MERKLE_SCHEME: &str = "rfc6962-sha256";

#[derive(Debug, Clone, Serialize)]
pub struct Site {
    pub name: String,
    pub address: String,
    pub level: String,
    pub head: String,
    pub phone: String,
    pub email: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct AssessorRow {
    pub role: String,
    pub name: String,
    pub unit: String,
    pub title: String,
    pub phone: String,
    pub fingerprint: String,
    pub known_as: Option<String>,
    /// As the sidecar signs it ("—" without a sheet).
    pub total: String,
    pub complete: bool,
    pub inspection_id: String,
    /// The handwritten signature image (PNG, by SHA-256), if drawn.
    pub signature: Option<String>,
    /// item id → points ("" when unanswered): what `verify --bundles` recomputes.
    pub scores: BTreeMap<String, String>,
    /// item id → this assessor's 扣分说明 (the explanations of the parts that lost points).
    pub notes: BTreeMap<String, String>,
}

/// Points are exact `Decimal`s; they serialize (for the PDF template) as the report prints
/// them: "4.33", and "—" where there are none (see [`shown`]).
#[derive(Debug, Clone, Serialize)]
pub struct ItemRow {
    pub id: String,
    pub name: String,
    pub group: String,
    #[serde(serialize_with = "printed::points")]
    pub max: Decimal,
    /// Printed to 2 decimals (`shown_mean`); exact here.
    #[serde(serialize_with = "printed::mean")]
    pub mean: Option<Decimal>,
    /// max − mean, never below 0.
    #[serde(serialize_with = "printed::mean")]
    pub deduction: Option<Decimal>,
    /// One per assessor, in the order of `Report::assessors`; `None` where unanswered.
    #[serde(serialize_with = "printed::all")]
    pub scores: Vec<Option<Decimal>>,
    pub outliers: Vec<bool>,
    #[serde(serialize_with = "printed::maybe")]
    pub min: Option<Decimal>,
    #[serde(serialize_with = "printed::maybe")]
    pub max_score: Option<Decimal>,
    #[serde(serialize_with = "printed::maybe")]
    pub stddev: Option<Decimal>,
    /// 扣分说明: each distinct explanation, with the assessors who gave it.
    pub explanations: Vec<String>,
    /// Notes printed under the item whatever its points: why a sample is smaller than the
    /// rubric asks (issue #14), with the assessors who gave the reason.
    pub notes: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct GroupRow {
    pub name: String,
    pub depth: usize,
    #[serde(serialize_with = "printed::points")]
    pub max: Decimal,
    #[serde(serialize_with = "printed::mean")]
    pub mean: Option<Decimal>,
}

#[derive(Debug, Clone, Serialize)]
pub struct VetoRow {
    pub text: String,
    pub found_by: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Recommendation {
    pub group: String,
    pub lines: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct EvidenceRow {
    pub item: String,
    pub item_name: String,
    pub photos: Vec<PhotoRow>,
}

#[derive(Debug, Clone, Serialize)]
pub struct PhotoRow {
    pub assessor: String,
    pub sha256: String,
    pub prefix: String,
    pub captured_at: String,
    pub caption: String,
}

/// Points as the report prints them: "4.33"; "—" where there are none.
pub fn shown(v: Option<Decimal>) -> String {
    v.map(fmt).unwrap_or_else(|| "—".into())
}

/// A mean as the report prints it: at most 2 decimals, half away from zero ("4.33" for
/// 4.3333). Display only: the sidecar and the CSV/XLSX keep the exact figures.
pub fn shown_mean(v: Option<Decimal>) -> String {
    shown(v.map(|m| m.round_dp_with_strategy(2, rust_decimal::RoundingStrategy::MidpointAwayFromZero)))
}

/// Serializes the model's points in their printed form, so the PDF template reads strings.
mod printed {
    use rust_decimal::Decimal;
    use serde::Serializer;

    pub fn points<S: Serializer>(v: &Decimal, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&super::shown(Some(*v)))
    }

    pub fn maybe<S: Serializer>(v: &Option<Decimal>, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&super::shown(*v))
    }

    pub fn mean<S: Serializer>(v: &Option<Decimal>, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&super::shown_mean(*v))
    }

    pub fn all<S: Serializer>(v: &[Option<Decimal>], s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(v.iter().map(|x| super::shown(*x)))
    }

    pub fn points_or_null<S: Serializer>(v: &Option<Decimal>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(x) => points(x, s),
            None => s.serialize_none(),
        }
    }
}

/// Picks the merged group to report on: the only one, or the one `site`/`rubric` name.
pub fn pick_group(store: &Store, site: Option<&str>, rubric: Option<&str>) -> Result<MergeGroup, ReportError> {
    let groups = store.merge()?;
    let matching: Vec<MergeGroup> =
        groups.iter().filter(|g| site.is_none_or(|s| g.site.contains(s)) && rubric.is_none_or(|r| g.rubric_id == r)).cloned().collect();
    match matching.len() {
        1 => Ok(matching.into_iter().next().expect("one")),
        0 if groups.is_empty() => Err(ReportError::Input("the database holds no inspections (import the assessors' bundles first)".into())),
        n => {
            let list: Vec<String> = groups.iter().map(|g| format!("--site '{}' --rubric {}", g.site, g.rubric_id)).collect();
            Err(ReportError::Input(format!(
                "{} site/rubric groups match; choose one with {}",
                if n == 0 { "no".to_string() } else { n.to_string() },
                list.join(" or ")
            )))
        }
    }
}

/// Builds the report for one merged group, issued on `issued_on` (报告日期, `YYYY-MM-DD`: the
/// lead's date, as [`Store::report_issued_on`] recorded it; never a tablet's).
pub fn build(store: &Store, group: &MergeGroup, details: &Details, issued_on: &str) -> Result<Report, ReportError> {
    hallmark_core::date::parse_date(issued_on).map_err(|e| ReportError::Input(format!("issue date {e}")))?;
    let panel = group
        .panel
        .as_ref()
        .ok_or_else(|| ReportError::Input(format!("cannot report on {}: {}", group.site, group.error.as_deref().unwrap_or("no panel"))))?;
    let first = group.assessors.first().ok_or_else(|| ReportError::Input("the group has no assessors".into()))?;
    let rubric = store.rubric(&first.inspection_id)?;
    let sheets: Vec<&ScoreSheet> = group.assessors.iter().filter_map(|a| a.sheet.as_ref()).collect();
    let names: Vec<String> = group.assessors.iter().map(|a| a.name.clone()).collect();
    // A name inside a list or a sentence (扣分说明, 否决项核查) is cut; the assessor table has it whole.
    let named: Vec<String> = names.iter().map(|n| printable::bounded(&printable::clean(n), printable::NAME_CHARS)).collect();

    // Evidence leaves: each assessor's observation document, each photo, each signature image.
    let mut leaves = Vec::new();
    for a in &group.assessors {
        let doc = store.observation_document(&a.inspection_id)?;
        leaves.push(observation_leaf(&doc));
        for ps in a.photos.values().chain([&a.withdrawn_photos]) {
            for p in ps {
                leaves.push(file_leaf("photo", &p.sha256));
            }
        }
        if let Some(s) = &a.signature {
            leaves.push(file_leaf("signature", &s.sha256));
        }
    }
    let merkle_root = merkle_root_rfc6962(leaves);
    let signer_certificates = store.device_certificates()?.unwrap_or_default();
    let mut bundles_seen = Vec::new();
    for a in &group.assessors {
        for b in store.bundles(&a.inspection_id)? {
            bundles_seen.push(BundleSeen { inspection_id: a.inspection_id.clone(), bundle_id: b.id, seen_at: b.imported_at });
        }
    }
    let signer = Signer::of(&signer_certificates)?;

    let leader = details.leader.clone().unwrap_or_else(|| first.name.clone());
    if !names.contains(&leader) {
        return Err(ReportError::Input(format!(
            "leader '{leader}' is not one of the assessors ({}): fix `leader` in the details file",
            names.join("、")
        )));
    }
    let assessors: Vec<AssessorRow> = group
        .assessors
        .iter()
        .map(|a| AssessorRow {
            role: if a.name == leader { "组长".into() } else { "组员".into() },
            name: a.name.clone(),
            unit: a.unit.clone(),
            title: a.title.clone(),
            phone: a.phone.clone(),
            fingerprint: a.fingerprint.clone(),
            known_as: a.known_as.clone(),
            total: a.total.clone(),
            complete: a.complete,
            inspection_id: a.inspection_id.clone(),
            signature: a.signature.as_ref().map(|s| s.sha256.clone()),
            scores: a.sheet.as_ref().map(item_scores).unwrap_or_default(),
            notes: a.sheet.as_ref().map(item_notes).unwrap_or_default(),
        })
        .collect();

    let items = item_rows(&rubric, panel, &sheets, &named);
    let groups = rubric
        .groups_in_order()
        .into_iter()
        .zip(&panel.groups)
        .map(|((depth, g), sp)| GroupRow { name: g.name.clone(), depth, max: g.points.0, mean: sp.mean })
        .collect();

    let vetoes = rubric
        .veto
        .iter()
        .map(|v| VetoRow {
            text: v.text.clone(),
            found_by: sheets.iter().zip(&named).filter(|(s, _)| s.veto.triggered.contains(&v.id)).map(|(_, n)| n.clone()).collect(),
        })
        .collect();

    let recommendations = recommendations(&rubric, &items, &sheets);
    let dates: Vec<&str> = group.assessors.iter().map(|a| a.visited_on.as_str()).collect();
    let evaluated_from = dates.iter().min().copied().unwrap_or_default().to_string();
    let evaluated_to = dates.iter().max().copied().unwrap_or_default().to_string();
    let issued_on = issued_on.to_string();
    let valid_until = match (&panel.conclusion, rubric.result.valid_months) {
        (Conclusion::Pass { .. }, Some(m)) => Some(add_months(&issued_on, m)),
        _ => None,
    };
    let code: String = match rubric.id.split('-').next() {
        Some("liaoning") => "LN".into(),
        Some("jiangsu") => "JS".into(),
        Some(other) => other.chars().take(2).collect::<String>().to_uppercase(),
        None => "XX".into(),
    };
    let number = format!("HM-{code}-{}-{}", issued_on.replace('-', ""), merkle_root[..8].to_uppercase());
    let (outcome, grade) = outcome(panel, &rubric);
    let evidence = evidence_rows(&rubric, group);
    let key = store.device_key();
    let mut report = Report {
        title: rubric.result.report_title.clone().unwrap_or_else(|| format!("{}评价报告", rubric.title)),
        grade,
        rubric_id: rubric.id.clone(),
        rubric_version: rubric.version.clone(),
        rubric_hash: rubric.content_hash.clone(),
        rubric_title: rubric.title.clone(),
        source: rubric.source.clone(),
        process: rubric.result.process.clone().unwrap_or_default(),
        site: Site {
            name: group.site.clone(),
            address: group.site_address.clone(),
            level: level_name(&group.site_level).into(),
            head: details.site_head.clone(),
            phone: details.site_phone.clone(),
            email: details.site_email.clone(),
        },
        evaluated_from,
        evaluated_to,
        issued_on,
        valid_until,
        assessors,
        items,
        groups,
        total: row(&panel.total, "", Vec::new()),
        final_score: panel.final_score.map(fmt),
        provisional_mean: if panel.final_score.is_none() { panel.mean.map(fmt) } else { None },
        pass_at: rubric.result.pass_at.map(|p| p.0),
        conclusion: panel.conclusion.text().to_string(),
        outcome,
        vetoes,
        recommendations,
        warnings: warnings(panel, group),
        excluded: group.excluded.iter().map(|x| ExcludedRow { name: x.name.clone(), reason: x.reason.clone() }).collect(),
        evidence,
        qr_text: qr_text(&number, &merkle_root),
        number,
        merkle_root,
        signer_public_key: key.public_key_hex(),
        signer_fingerprint: key.fingerprint(),
        signer,
        signer_certificates,
        bundles_seen,
        draft: false,
        correction: None,
        previous: None,
        reviews: Vec::new(),
        review_override: None,
    };
    printable::each_text(&mut report, |s| *s = printable::clean(s));
    Ok(report)
}

/// One row per rubric item: the panel's figures and the 扣分说明 (the explanations of the parts
/// that lost points, each once, with the assessors who gave it).
fn item_rows(rubric: &Rubric, panel: &Panel, sheets: &[&ScoreSheet], names: &[String]) -> Vec<ItemRow> {
    panel
        .items
        .iter()
        .enumerate()
        .map(|(k, sp)| {
            let item = &rubric.item[k];
            let group_name = rubric.group(&item.group).map(|g| g.name.clone()).unwrap_or_default();
            let mut explanations: Vec<(String, Vec<String>)> = Vec::new();
            for (sheet, name) in sheets.iter().zip(names) {
                for part in sheet.items[k].parts.iter().filter(|p| lost(p) && !p.explanation.is_empty()) {
                    match explanations.iter_mut().find(|(t, _)| *t == part.explanation) {
                        Some((_, who)) => who.push(name.clone()),
                        None => explanations.push((part.explanation.clone(), vec![name.clone()])),
                    }
                }
            }
            let by = |(t, who): (String, Vec<String>)| {
                if who.len() == names.len() {
                    format!("{t}（全体评价人员）")
                } else {
                    format!("{t}（{}）", who.join("、"))
                }
            };
            let explanations = explanations.into_iter().map(by).collect();
            let mut notes: Vec<(String, Vec<String>)> = Vec::new();
            for (sheet, name) in sheets.iter().zip(names) {
                for note in sheet.items[k].parts.iter().flat_map(|p| sample_notes(&p.finding.fact)) {
                    match notes.iter_mut().find(|(t, _)| *t == note) {
                        Some((_, who)) => who.push(name.clone()),
                        None => notes.push((note, vec![name.clone()])),
                    }
                }
            }
            ItemRow { notes: notes.into_iter().map(by).collect(), ..row(sp, &group_name, explanations) }
        })
        .collect()
}

/// Why a time sample is smaller than its rubric asks, as the inspector recorded it:
/// "抽样20件，少于规定的50件。原因：本季度仅受理20件".
fn sample_notes(fact: &hallmark_core::finding::Fact) -> Vec<String> {
    use hallmark_core::finding::{Fact, Tally};
    let Fact::Deduct { tallies } = fact else { return Vec::new() };
    tallies
        .iter()
        .filter_map(|t| match t {
            Tally::TimeSample { sampled, sample_size: Some(n), fewer_reason: Some(why), .. } => {
                Some(format!("抽样{sampled}件，少于规定的{n}件。原因：{}", printable::bounded(why, SAMPLE_REASON_CHARS)))
            }
            _ => None,
        })
        .collect()
}

/// The longest sample reason printed (characters; longer is cut with '…').
const SAMPLE_REASON_CHARS: usize = 200;

/// The part was answered and scored below its maximum.
fn lost(part: &PartScore) -> bool {
    part.points.is_some_and(|p| p < part.max)
}

fn row(sp: &Spread, group: &str, explanations: Vec<String>) -> ItemRow {
    ItemRow {
        id: sp.id.clone(),
        name: sp.name.clone(),
        group: group.into(),
        max: sp.max_points,
        mean: sp.mean,
        deduction: sp.mean.map(|m| (sp.max_points - m).max(Decimal::ZERO)),
        scores: sp.scores.clone(),
        outliers: sp.outliers.clone(),
        min: sp.min,
        max_score: sp.max,
        stddev: sp.stddev,
        explanations,
        notes: Vec::new(),
    }
}

/// Each item's points on one sheet ("" when unanswered).
pub fn item_scores(sheet: &ScoreSheet) -> BTreeMap<String, String> {
    sheet.items.iter().map(|i| (i.id.clone(), i.points.map(fmt).unwrap_or_default())).collect()
}

fn item_notes(sheet: &ScoreSheet) -> BTreeMap<String, String> {
    sheet
        .items
        .iter()
        .map(|i| {
            let lost: Vec<&str> = i.parts.iter().filter(|p| lost(p) && !p.explanation.is_empty()).map(|p| p.explanation.as_str()).collect();
            (i.id.clone(), lost.join("；"))
        })
        .collect()
}

fn outcome(panel: &Panel, rubric: &Rubric) -> (String, String) {
    let kind = match &panel.conclusion {
        Conclusion::Pass { .. } => "pass",
        Conclusion::Fail { .. } => "fail",
        Conclusion::Vetoed { .. } => "vetoed",
        Conclusion::Insufficient { .. } => "insufficient",
        Conclusion::Incomplete { .. } => "incomplete",
        Conclusion::NoPassLine { .. } => "no_pass_line",
    };
    let grade = match (&panel.conclusion, &rubric.result.pass_at) {
        (Conclusion::Pass { .. }, Some(p)) => format!("示范窗口（总分{}分，≥{}分）", shown(panel.final_score), fmt(p.0)),
        (Conclusion::Fail { .. }, Some(p)) => format!("未达到示范窗口要求（总分{}分，<{}分）", shown(panel.final_score), fmt(p.0)),
        (Conclusion::NoPassLine { .. }, _) => format!("得分{}分（评分细则未设合格分数线，不定等级）", shown(panel.final_score)),
        // A veto is a conclusion, whatever else is missing: 不予通过, with the rubric's words.
        (Conclusion::Vetoed { .. }, _) => format!("不予通过（{}）", rubric.result.veto_text),
        _ => "不能形成评价结论".into(),
    };
    (kind.into(), grade)
}

fn level_name(level: &str) -> &str {
    match level {
        "province" => "省级",
        "city" => "市级",
        "county" => "县级",
        "township" => "乡镇（街道）",
        other => other,
    }
}

/// 整改建议: every item that lost points, grouped by the rubric's top-level group. Each line
/// says what the lost parts found, each once in the order of the assessors, worded from their
/// findings (`render::deficiency`): never read back out of the explanation text.
fn recommendations(rubric: &Rubric, items: &[ItemRow], sheets: &[&ScoreSheet]) -> Vec<Recommendation> {
    let mut out: Vec<Recommendation> = Vec::new();
    for (k, item) in items.iter().enumerate() {
        let mut found: Vec<String> = Vec::new();
        for part in sheets.iter().flat_map(|s| &s.items[k].parts).filter(|p| lost(p)) {
            let f = render::deficiency(part);
            if !found.contains(&f) {
                found.push(f);
            }
        }
        if found.is_empty() {
            continue;
        }
        let top = rubric.ancestry(&rubric.item[k].group).into_iter().next().and_then(|g| rubric.group(g)).map(|g| g.name.clone()).unwrap_or_default();
        let lines = vec![format!("{}（平均扣{}分）：{}。", item.name, shown_mean(item.deduction), found.join("；"))];
        match out.iter_mut().find(|r| r.group == top) {
            Some(r) => r.lines.extend(lines),
            None => out.push(Recommendation { group: top, lines }),
        }
    }
    out
}

fn evidence_rows(rubric: &Rubric, group: &MergeGroup) -> Vec<EvidenceRow> {
    rubric
        .item
        .iter()
        .filter_map(|item| {
            let mut photos = Vec::new();
            for a in &group.assessors {
                for p in a.photos.get(&item.id).into_iter().flatten() {
                    photos.push(PhotoRow {
                        assessor: printable::bounded(&printable::clean(&a.name), printable::NAME_CHARS),
                        sha256: p.sha256.clone(),
                        prefix: p.sha256[..12].to_string(),
                        captured_at: p.taken_at.clone().unwrap_or_else(|| p.attached_at.replace('T', " ").chars().take(16).collect()),
                        caption: p.caption.clone(),
                    });
                }
            }
            (!photos.is_empty()).then(|| EvidenceRow { item: item.id.clone(), item_name: item.name.clone(), photos })
        })
        .collect()
}

/// `YYYY-MM-DD` plus whole months; a day past the month's end becomes its last day.
pub fn add_months(date: &str, months: u32) -> String {
    let (y, m, d): (i64, i64, i64) = (date[..4].parse().unwrap_or(0), date[5..7].parse().unwrap_or(1), date[8..10].parse().unwrap_or(1));
    let total = y * 12 + (m - 1) + months as i64;
    let (ny, nm) = (total / 12, total % 12 + 1);
    let leap = (ny % 4 == 0 && ny % 100 != 0) || ny % 400 == 0;
    let last = [31, if leap { 29 } else { 28 }, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][(nm - 1) as usize];
    format!("{ny:04}-{nm:02}-{:02}", d.min(last))
}

/// A hall whose conclusion lapses soon.
#[derive(Debug, Clone, Serialize)]
pub struct Due {
    pub site: String,
    pub rubric_id: String,
    pub issued_on: String,
    pub valid_until: String,
    /// Negative once lapsed.
    pub days_left: i64,
}

/// Halls whose passing conclusion expires within one month of `today` (or has expired): spec
/// 12 allows re-evaluation in the month before. Dates as the report computes them, from the
/// recorded issue date: a hall whose report was never made here is not listed.
pub fn due(store: &Store, today: &str) -> Result<Vec<Due>, ReportError> {
    let mut out = Vec::new();
    for g in store.merge()? {
        let (Some(panel), Some(first)) = (&g.panel, g.assessors.first()) else { continue };
        let Some(issued_on) = store.report_issue(&g.site, &g.rubric_id)? else { continue };
        // A withdrawn report (撤销) stands for nothing: no re-evaluation is due on it.
        if store.report_withdrawal(&g.site, &g.rubric_id)?.is_some() {
            continue;
        }
        let rubric = store.rubric(&first.inspection_id)?;
        let (Conclusion::Pass { .. }, Some(months)) = (&panel.conclusion, rubric.result.valid_months) else { continue };
        let mut valid_until = add_months(&issued_on, months);
        // A re-evaluation within the last month of the previous validity extends it (§12).
        if let Some(prev) = store.report_previous(&g.site, &g.rubric_id)?.and_then(|b| crate::seal::read_sidecar(&b).ok()) {
            if let (Some(Ok(until)), Ok(on)) =
                (prev.valid_until().as_deref().map(hallmark_core::date::parse_date), hallmark_core::date::parse_date(&issued_on))
            {
                if let Some(d) = hallmark_core::validity::after_reevaluation(until, on, true, months).valid_until() {
                    valid_until = d.to_string();
                }
            }
        }
        if valid_until <= add_months(today, 1) {
            out.push(Due {
                site: g.site.clone(),
                rubric_id: g.rubric_id.clone(),
                days_left: days(&valid_until) - days(today),
                issued_on,
                valid_until,
            });
        }
    }
    out.sort_by_key(|d| d.days_left);
    Ok(out)
}

/// 提示: the panel's warnings, then each assessor's implausible tablet dates (the merge view's
/// `date_warnings`), which the report records but never dates itself by.
fn warnings(panel: &Panel, group: &MergeGroup) -> Vec<String> {
    let mut out = panel.warnings.clone();
    for a in &group.assessors {
        for w in &a.date_warnings {
            out.push(format!("{}的平板日期有误：{w}（报告日期与有效期不取自平板时钟）", a.name));
        }
    }
    out
}

/// Days since 1970-01-01 of a `YYYY-MM-DD` date (proleptic Gregorian).
fn days(date: &str) -> i64 {
    let (y, m, d): (i64, i64, i64) = (date[..4].parse().unwrap_or(1970), date[5..7].parse().unwrap_or(1), date[8..10].parse().unwrap_or(1));
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

// ---- evidence Merkle tree (docs/report.md)

fn sha(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

/// Leaf for one assessor's observations: the observation document as hallmark writes it.
pub fn observation_leaf(doc: &serde_json::Value) -> [u8; 32] {
    let mut m = b"observations\n".to_vec();
    m.extend_from_slice(serde_json::to_string(doc).expect("JSON").as_bytes());
    sha(&m)
}

/// Leaf for a file of evidence (a photo or a signature image), by its SHA-256.
pub fn file_leaf(kind: &str, sha256: &str) -> [u8; 32] {
    sha(format!("{kind}\n{sha256}").as_bytes())
}

/// Root over the sorted, de-duplicated leaves as sidecar v1 computes it (issue #5): each level
/// pairs neighbours as SHA-256(left ‖ right), a level's odd last node moves up unpaired. No
/// domain separation (an inner node could pass for a leaf); kept only to verify v1 reports.
pub fn merkle_root(mut leaves: Vec<[u8; 32]>) -> String {
    leaves.sort();
    leaves.dedup();
    if leaves.is_empty() {
        return hex(&sha(b""));
    }
    while leaves.len() > 1 {
        leaves = leaves
            .chunks(2)
            .map(|p| match p {
                [a, b] => {
                    let mut m = a.to_vec();
                    m.extend_from_slice(b);
                    sha(&m)
                }
                [a] => *a,
                _ => unreachable!(),
            })
            .collect();
    }
    hex(&leaves[0])
}

/// Root over the sorted, de-duplicated leaves as an RFC 6962 Merkle tree (sidecar v2,
/// [`MERKLE_SCHEME`]): a leaf's hash is SHA-256(0x00 ‖ leaf), an inner node's SHA-256(0x01 ‖
/// left ‖ right), and n > 1 leaves split at the largest power of two below n. The prefixes keep
/// an inner node from passing for a leaf (a second preimage). No leaves: SHA-256 of nothing.
pub fn merkle_root_rfc6962(mut leaves: Vec<[u8; 32]>) -> String {
    leaves.sort();
    leaves.dedup();
    if leaves.is_empty() {
        return hex(&sha(b""));
    }
    hex(&tree_hash(&leaves))
}

/// RFC 6962 §2.1 MTH over `leaves` (non-empty).
fn tree_hash(leaves: &[[u8; 32]]) -> [u8; 32] {
    if let [leaf] = leaves {
        let mut m = Vec::with_capacity(33);
        m.push(0x00);
        m.extend_from_slice(leaf);
        return sha(&m);
    }
    let k = split(leaves.len());
    node_hash(&tree_hash(&leaves[..k]), &tree_hash(&leaves[k..]))
}

/// SHA-256(0x01 ‖ left ‖ right): an inner node.
pub fn node_hash(left: &[u8; 32], right: &[u8; 32]) -> [u8; 32] {
    let mut m = Vec::with_capacity(65);
    m.push(0x01);
    m.extend_from_slice(left);
    m.extend_from_slice(right);
    sha(&m)
}

/// The largest power of two smaller than `n` (n ≥ 2).
fn split(n: usize) -> usize {
    let mut k = 1;
    while k * 2 < n {
        k *= 2;
    }
    k
}

pub(crate) use hallmark_core::hex::hex;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_are_added_on_the_calendar() {
        assert_eq!(add_months("2026-11-20", 12), "2027-11-20");
        assert_eq!(add_months("2024-02-29", 12), "2025-02-28");
        assert_eq!(add_months("2026-01-31", 1), "2026-02-28");
        assert_eq!(add_months("2026-12-15", 1), "2027-01-15");
    }

    /// Issue #14: a mean of 13/3 printed as 4.3333; the report prints 2 decimals, the data keeps all.
    #[test]
    fn means_print_to_two_decimals() {
        let d = |s: &str| s.parse::<Decimal>().unwrap();
        assert_eq!(shown_mean(Some(d("4.3333"))), "4.33");
        assert_eq!(shown_mean(Some(d("4.6667"))), "4.67");
        assert_eq!(shown_mean(Some(d("0.125"))), "0.13");
        assert_eq!(shown_mean(Some(d("4.5"))), "4.5");
        assert_eq!(shown_mean(None), "—");
        let row = ItemRow {
            id: "x".into(),
            name: "x".into(),
            group: "g".into(),
            max: d("5"),
            mean: Some(d("4.3333")),
            deduction: Some(d("0.6667")),
            scores: vec![Some(d("4")), Some(d("4")), Some(d("5"))],
            outliers: vec![false; 3],
            min: Some(d("4")),
            max_score: Some(d("5")),
            stddev: Some(d("0.47")),
            explanations: Vec::new(),
            notes: Vec::new(),
        };
        let printed = serde_json::to_value(&row).unwrap();
        assert_eq!((printed["mean"].as_str(), printed["deduction"].as_str()), (Some("4.33"), Some("0.67")));
        assert_eq!(row.mean, Some(d("4.3333")), "the model keeps the exact mean (sidecar, CSV)");
    }

    #[test]
    fn days_count_on_the_calendar() {
        assert_eq!(days("1970-01-01"), 0);
        assert_eq!(days("2027-11-20") - days("2026-11-20"), 365);
        assert_eq!(days("2024-03-01") - days("2024-02-28"), 2);
    }

    /// Every observation file the repository scores, as panels: the examples and the aggregate
    /// cases as they are, and each single score case as a panel of one.
    fn panels() -> Vec<(Rubric, Vec<ScoreSheet>)> {
        use hallmark_core::{builtin, observation, score::score};
        use std::path::{Path, PathBuf};
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let rubrics: Vec<Rubric> = builtin::SHIPPED.iter().map(|s| Rubric::load(s.file, s.text).unwrap()).collect();
        let json = |dir: &Path| {
            let mut v: Vec<_> =
                std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).filter(|p| p.extension().is_some_and(|e| e == "json")).collect();
            v.sort();
            v
        };
        let mut sets: Vec<Vec<PathBuf>> = vec![json(&root.join("examples/liaoning-panel"))];
        let mut dirs: Vec<_> =
            std::fs::read_dir(root.join("tests/cases/aggregate")).unwrap().map(|e| e.unwrap().path()).filter(|p| p.is_dir()).collect();
        dirs.sort();
        sets.extend(dirs.iter().map(|d| json(d)));
        sets.extend(json(&root.join("examples")).into_iter().chain(json(&root.join("tests/cases/score"))).map(|f| vec![f]));
        let mut out = Vec::new();
        for files in sets {
            let mut sheets = Vec::new();
            let mut rubric = None;
            for f in &files {
                let text = std::fs::read_to_string(f).unwrap();
                let id: serde_json::Value = serde_json::from_str(&text).unwrap();
                // By the version the file was recorded against; the current one when it names none.
                let of_id = |r: &&Rubric| id["rubric"] == r.id.as_str();
                let r =
                    rubrics.iter().filter(of_id).find(|r| id["rubric_version"] == r.version.as_str()).or_else(|| rubrics.iter().find(of_id)).unwrap();
                let obs = observation::parse("case", &text, r).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
                sheets.push(score(r, &obs));
                rubric = Some(r.clone());
            }
            out.push((rubric.unwrap(), sheets));
        }
        out
    }

    /// The explanations worded differently, every template at once: the points first, then the
    /// facts as data, without today's "，扣…", "，得…", "，不得分".
    fn reworded(p: &PartScore) -> String {
        use hallmark_core::finding::Outcome;
        let points = match p.finding.outcome {
            Outcome::Awarded { points } => format!("计{}分", fmt(points)),
            Outcome::Deducted { deduction } => format!("减{}分", fmt(deduction)),
            Outcome::Zero => "零分".into(),
            Outcome::Unanswered => "待答".into(),
        };
        format!("[{points}] {} · {}", p.label, serde_json::to_string(&p.finding.fact).unwrap())
    }

    #[test]
    fn recommendations_do_not_depend_on_the_wording_of_explanations() {
        let mut lines = 0;
        let mut kinds = std::collections::BTreeSet::new();
        for (rubric, sheets) in panels() {
            let panel = hallmark_core::aggregate::aggregate(&rubric, &sheets).unwrap();
            let names: Vec<String> = (1..=sheets.len()).map(|n| format!("评价人员{n}")).collect();
            let refs: Vec<&ScoreSheet> = sheets.iter().collect();
            let rows = item_rows(&rubric, &panel, &refs, &names);
            let before = recommendations(&rubric, &rows, &refs);

            let mut other = sheets.clone();
            for p in other.iter_mut().flat_map(|s| &mut s.items).flat_map(|i| &mut i.parts) {
                let text = reworded(p);
                assert_ne!(text, p.explanation);
                assert!(!["，扣", "，得", "不得分"].iter().any(|m| text.contains(m)), "{text}");
                if lost(p) {
                    kinds.insert(serde_json::to_value(&p.finding.fact).unwrap()["kind"].as_str().unwrap().to_string());
                }
                p.explanation = text;
            }
            let other_refs: Vec<&ScoreSheet> = other.iter().collect();
            let other_rows = item_rows(&rubric, &panel, &other_refs, &names);
            // The reworded text reaches the report (扣分说明) ...
            for (a, b) in rows.iter().zip(&other_rows) {
                assert_eq!(a.explanations.len(), b.explanations.len());
                assert!(a.explanations.is_empty() || a.explanations != b.explanations, "{:?}", b.explanations);
            }
            // ... and the 整改建议 do not change.
            assert_eq!(before, recommendations(&rubric, &other_rows, &other_refs));
            lines += before.iter().map(|r| r.lines.len()).sum::<usize>();
        }
        assert!(lines > 100, "the cases have deductions to recommend on: {lines}");
        let every =
            ["bands", "dated_shortfall", "deduct", "excess", "key_missing", "level_shortfall", "quarters", "range", "shortfall", "yes", "zero_when"];
        assert_eq!(kinds, every.map(String::from).into(), "lost parts of every kind");
    }

    /// RFC 6962's shape for three leaves: MTH = node(node(leaf0, leaf1), leaf2).
    #[test]
    fn rfc6962_root_of_three_leaves_is_computed_by_hand() {
        let l = |s: &str| sha(s.as_bytes());
        let mut leaves = vec![l("a"), l("b"), l("c")];
        leaves.sort();
        let leaf = |x: &[u8; 32]| sha(&[&[0u8][..], x].concat());
        let by_hand = node_hash(&node_hash(&leaf(&leaves[0]), &leaf(&leaves[1])), &leaf(&leaves[2]));
        assert_eq!(merkle_root_rfc6962(leaves.clone()), hex(&by_hand));
        assert_eq!(merkle_root_rfc6962(vec![leaves[0]]), hex(&leaf(&leaves[0])), "one leaf: its leaf hash, not the leaf");
        assert_eq!(merkle_root_rfc6962(Vec::new()), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
        assert_eq!((split(2), split(3), split(4), split(5), split(8), split(9)), (1, 2, 2, 4, 4, 8));
    }

    /// Why v2 (issue #10): in the v1 tree two inner nodes, presented as leaves, give the same
    /// root as the four leaves under them; the RFC 6962 tree tells them apart.
    #[test]
    fn inner_nodes_passed_off_as_leaves_forge_a_v1_root_but_not_a_v2_root() {
        let pair = |x: &[u8; 32], y: &[u8; 32]| sha(&[&x[..], &y[..]].concat());
        // The v1 root sorts its leaves: take four whose two inner nodes sort in tree order.
        let (four, left, right) = (0..)
            .map(|n: u32| {
                let mut four: Vec<[u8; 32]> = ["a", "b", "c", "d"].iter().map(|s| sha(format!("{s}{n}").as_bytes())).collect();
                four.sort();
                let (left, right) = (pair(&four[0], &four[1]), pair(&four[2], &four[3]));
                (four, left, right)
            })
            .find(|(_, left, right)| left < right)
            .unwrap();
        assert_eq!(merkle_root(four.clone()), merkle_root(vec![left, right]), "v1: a second preimage");
        let v2_left = node_hash(&tree_hash(&four[..1]), &tree_hash(&four[1..2]));
        let v2_right = node_hash(&tree_hash(&four[2..3]), &tree_hash(&four[3..]));
        assert_ne!(merkle_root_rfc6962(four), merkle_root_rfc6962(vec![v2_left, v2_right]));
    }

    mod rfc6962 {
        use super::super::*;
        use proptest::prelude::*;

        fn leaves() -> impl Strategy<Value = Vec<[u8; 32]>> {
            proptest::collection::vec(any::<[u8; 32]>(), 1..40)
        }

        proptest! {
            #[test]
            fn the_root_does_not_depend_on_leaf_order_or_repeats(v in leaves(), seed in any::<u64>()) {
                let mut shuffled = v.clone();
                // A deterministic shuffle from the seed, then one leaf repeated.
                let n = shuffled.len();
                for i in (1..n).rev() {
                    let j = (seed.wrapping_mul(6364136223846793005).wrapping_add(i as u64) % (i as u64 + 1)) as usize;
                    shuffled.swap(i, j);
                }
                shuffled.push(v[(seed as usize) % n]);
                prop_assert_eq!(merkle_root_rfc6962(v), merkle_root_rfc6962(shuffled));
            }

            #[test]
            fn any_changed_leaf_changes_the_root(v in leaves(), at in any::<usize>(), bit in 0..256usize) {
                let mut unique = v.clone();
                unique.sort();
                unique.dedup();
                let k = at % unique.len();
                let mut changed = unique.clone();
                changed[k][bit / 8] ^= 1 << (bit % 8);
                prop_assume!(!unique.contains(&changed[k]));
                prop_assert_ne!(merkle_root_rfc6962(unique), merkle_root_rfc6962(changed));
            }

            /// A second preimage: the root's two children (inner nodes) presented as leaves, or
            /// any level of inner nodes, never give the root of the leaves under them.
            #[test]
            fn inner_nodes_presented_as_leaves_give_another_root(v in proptest::collection::vec(any::<[u8; 32]>(), 2..40)) {
                let mut unique = v.clone();
                unique.sort();
                unique.dedup();
                prop_assume!(unique.len() >= 2);
                let k = split(unique.len());
                let (left, right) = (tree_hash(&unique[..k]), tree_hash(&unique[k..]));
                let root = merkle_root_rfc6962(unique.clone());
                prop_assert_ne!(&root, &merkle_root_rfc6962(vec![left, right]));
                prop_assert_ne!(&root, &merkle_root_rfc6962(vec![node_hash(&left, &right)]));
                // A leaf list that adds an inner node changes the root too.
                let mut with_node = unique.clone();
                with_node.push(left);
                prop_assert_ne!(&root, &merkle_root_rfc6962(with_node));
            }
        }
    }

    #[test]
    fn merkle_root_ignores_leaf_order_and_changes_with_any_leaf() {
        let l = |s: &str| sha(s.as_bytes());
        let a = merkle_root(vec![l("a"), l("b"), l("c")]);
        assert_eq!(a, merkle_root(vec![l("c"), l("a"), l("b")]));
        assert_ne!(a, merkle_root(vec![l("a"), l("b"), l("d")]));
        assert_ne!(a, merkle_root(vec![l("a"), l("b")]));
    }
}

/// A panel member the lead took out of the report, and why (`hallmark panel remove`).
#[derive(Debug, Clone, Serialize)]
pub struct ExcludedRow {
    pub name: String,
    pub reason: String,
}
