//! The report model: everything the PDF prints, built from the lead's merged data and nothing
//! else (no clock: every date comes from the inspections). The PDF, the golden text form, the
//! sidecar and the CSV/XLSX are all renderings of this one value.

use std::collections::BTreeMap;

use hallmark_core::aggregate::{Conclusion, Panel, Spread};
use hallmark_core::num::fmt;
use hallmark_core::rubric::Rubric;
use hallmark_core::score::ScoreSheet;
use hallmark_store::merge::MergeGroup;
use hallmark_store::Store;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::ReportError;

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
    pub final_score: Option<String>,
    pub pass_at: Option<String>,
    pub conclusion: String,
    /// pass | fail | vetoed | insufficient | incomplete | no_pass_line
    pub outcome: String,
    pub vetoes: Vec<VetoRow>,
    pub recommendations: Vec<Recommendation>,
    pub warnings: Vec<String>,
    pub evidence: Vec<EvidenceRow>,
    pub merkle_root: String,
    pub signer_public_key: String,
    pub signer_fingerprint: String,
}

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

#[derive(Debug, Clone, Serialize)]
pub struct ItemRow {
    pub id: String,
    pub name: String,
    pub group: String,
    pub max: String,
    pub mean: String,
    pub deduction: String,
    /// One per assessor, in the order of `Report::assessors`.
    pub scores: Vec<String>,
    pub outliers: Vec<bool>,
    pub min: String,
    pub max_score: String,
    pub stddev: String,
    /// 扣分说明: each distinct explanation, with the assessors who gave it.
    pub explanations: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct GroupRow {
    pub name: String,
    pub depth: usize,
    pub max: String,
    pub mean: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct VetoRow {
    pub text: String,
    pub found_by: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
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

fn d(v: Option<Decimal>) -> String {
    v.map(fmt).unwrap_or_else(|| "—".into())
}

/// Picks the merged group to report on: the only one, or the one `site`/`rubric` name.
pub fn pick_group(store: &Store, site: Option<&str>, rubric: Option<&str>) -> Result<MergeGroup, ReportError> {
    let groups = store.merge()?;
    let matching: Vec<MergeGroup> = groups
        .iter()
        .filter(|g| site.is_none_or(|s| g.site.contains(s)) && rubric.is_none_or(|r| g.rubric_id == r))
        .cloned()
        .collect();
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

/// Builds the report for one merged group.
pub fn build(store: &Store, group: &MergeGroup, details: &Details) -> Result<Report, ReportError> {
    let panel = group
        .panel
        .as_ref()
        .ok_or_else(|| ReportError::Input(format!("cannot report on {}: {}", group.site, group.error.as_deref().unwrap_or("no panel"))))?;
    let first = group.assessors.first().ok_or_else(|| ReportError::Input("the group has no assessors".into()))?;
    let rubric = store.rubric(&first.inspection_id)?;
    let sheets: Vec<&ScoreSheet> = group.assessors.iter().filter_map(|a| a.sheet.as_ref()).collect();
    let names: Vec<String> = group.assessors.iter().map(|a| a.name.clone()).collect();

    // Evidence leaves: each assessor's observation document, each photo, each signature image.
    let mut leaves = Vec::new();
    for a in &group.assessors {
        let doc = store.observation_document(&a.inspection_id)?;
        leaves.push(observation_leaf(&doc));
        for ps in a.photos.values() {
            for p in ps {
                leaves.push(file_leaf("photo", &p.sha256));
            }
        }
        if let Some(s) = &a.signature {
            leaves.push(file_leaf("signature", &s.sha256));
        }
    }
    let merkle_root = merkle_root(leaves);

    let leader = details.leader.clone().unwrap_or_else(|| first.name.clone());
    if !names.contains(&leader) {
        return Err(ReportError::Input(format!("leader '{leader}' is not one of the assessors ({}): fix `leader` in the details file", names.join("、"))));
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

    let items: Vec<ItemRow> = panel
        .items
        .iter()
        .enumerate()
        .map(|(k, sp)| {
            let item = &rubric.item[k];
            let group_name = rubric.group(&item.group).map(|g| g.name.clone()).unwrap_or_default();
            let mut explanations: Vec<(String, Vec<String>)> = Vec::new();
            for (sheet, name) in sheets.iter().zip(&names) {
                let it = &sheet.items[k];
                for part in &it.parts {
                    let lost = match (part.points, part.max) {
                        (Some(p), m) => p < m,
                        (None, _) => false,
                    };
                    if lost && !part.explanation.is_empty() {
                        match explanations.iter_mut().find(|(t, _)| *t == part.explanation) {
                            Some((_, who)) => who.push(name.clone()),
                            None => explanations.push((part.explanation.clone(), vec![name.clone()])),
                        }
                    }
                }
            }
            let explanations = explanations
                .into_iter()
                .map(|(t, who)| if who.len() == names.len() { format!("{t}（全体评价人员）") } else { format!("{t}（{}）", who.join("、")) })
                .collect();
            row(sp, &group_name, explanations)
        })
        .collect();
    let groups = rubric
        .groups_in_order()
        .into_iter()
        .zip(&panel.groups)
        .map(|((depth, g), sp)| GroupRow { name: g.name.clone(), depth, max: fmt(g.points.0), mean: d(sp.mean) })
        .collect();

    let vetoes = rubric
        .veto
        .iter()
        .map(|v| VetoRow {
            text: v.text.clone(),
            found_by: sheets.iter().zip(&names).filter(|(s, _)| s.veto.triggered.contains(&v.id)).map(|(_, n)| n.clone()).collect(),
        })
        .collect();

    let recommendations = recommendations(&rubric, &items);
    let dates: Vec<&str> = group.assessors.iter().map(|a| a.visited_on.as_str()).collect();
    let evaluated_from = dates.iter().min().copied().unwrap_or_default().to_string();
    let evaluated_to = dates.iter().max().copied().unwrap_or_default().to_string();
    let issued_on = issued_on(group);
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
    Ok(Report {
        number,
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
        pass_at: rubric.result.pass_at.as_ref().map(|p| fmt(p.0)),
        conclusion: panel.conclusion.text().to_string(),
        outcome,
        vetoes,
        recommendations,
        warnings: panel.warnings.clone(),
        evidence,
        merkle_root,
        signer_public_key: key.public_key_hex(),
        signer_fingerprint: key.fingerprint(),
    })
}

fn row(sp: &Spread, group: &str, explanations: Vec<String>) -> ItemRow {
    ItemRow {
        id: sp.id.clone(),
        name: sp.name.clone(),
        group: group.into(),
        max: fmt(sp.max_points),
        mean: d(sp.mean),
        deduction: sp.mean.map(|m| fmt((sp.max_points - m).max(Decimal::ZERO))).unwrap_or_else(|| "—".into()),
        scores: sp.scores.iter().map(|s| d(*s)).collect(),
        outliers: sp.outliers.clone(),
        min: d(sp.min),
        max_score: d(sp.max),
        stddev: d(sp.stddev),
        explanations,
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
            let lost: Vec<&str> =
                i.parts.iter().filter(|p| p.points.is_some_and(|x| x < p.max) && !p.explanation.is_empty()).map(|p| p.explanation.as_str()).collect();
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
        (Conclusion::Pass { .. }, Some(p)) => format!("示范窗口（总分{}分，≥{}分）", d(panel.final_score), fmt(p.0)),
        (Conclusion::Fail { .. }, Some(p)) => format!("未达到示范窗口要求（总分{}分，<{}分）", d(panel.final_score), fmt(p.0)),
        (Conclusion::NoPassLine { .. }, _) => format!("得分{}分（评分细则未设合格分数线，不定等级）", d(panel.final_score)),
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

/// 整改建议: every deduction, grouped by the rubric's top-level group, as an action.
fn recommendations(rubric: &Rubric, items: &[ItemRow]) -> Vec<Recommendation> {
    let mut out: Vec<Recommendation> = Vec::new();
    for (k, item) in items.iter().enumerate() {
        if item.explanations.is_empty() {
            continue;
        }
        let top = rubric.ancestry(&rubric.item[k].group).into_iter().next().and_then(|g| rubric.group(g)).map(|g| g.name.clone()).unwrap_or_default();
        let mut findings: Vec<String> = Vec::new();
        for e in &item.explanations {
            let finding = match e.rfind('（') {
                Some(i) => &e[..i],
                None => e.as_str(),
            };
            let f = action(finding);
            if !findings.contains(&f) {
                findings.push(f);
            }
        }
        let lines = vec![format!("{}（平均扣{}分）：{}。", item.name, item.deduction, findings.join("；"))];
        match out.iter_mut().find(|r| r.group == top) {
            Some(r) => r.lines.extend(lines),
            None => out.push(Recommendation { group: top, lines }),
        }
    }
    out
}

/// A deduction's explanation as a finding to act on: the points are dropped, a band result
/// says it fell short of full marks.
/// "办公设施：缺少复印机、电话，扣2分" → "办公设施：缺少复印机、电话"
fn action(explanation: &str) -> String {
    let t = explanation.trim_end_matches('。');
    if let Some(i) = t.find("，得") {
        return format!("{}，未达到满分档", &t[..i]);
    }
    strip_points(t)
}

fn strip_points(s: &str) -> String {
    let mut t = s.trim_end_matches('。').to_string();
    let cut = ["，扣", "，此项不得分", "，不得分"].iter().filter_map(|m| t.find(m)).min();
    if let Some(i) = cut {
        t.truncate(i);
    }
    t
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
                        assessor: a.name.clone(),
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
/// 12 allows re-evaluation in the month before. Dates as the report computes them.
pub fn due(store: &Store, today: &str) -> Result<Vec<Due>, ReportError> {
    let mut out = Vec::new();
    for g in store.merge()? {
        let (Some(panel), Some(first)) = (&g.panel, g.assessors.first()) else { continue };
        let rubric = store.rubric(&first.inspection_id)?;
        let (Conclusion::Pass { .. }, Some(months)) = (&panel.conclusion, rubric.result.valid_months) else { continue };
        let issued_on = issued_on(&g);
        let valid_until = add_months(&issued_on, months);
        if valid_until <= add_months(today, 1) {
            out.push(Due { site: g.site.clone(), rubric_id: g.rubric_id.clone(), days_left: days(&valid_until) - days(today), issued_on, valid_until });
        }
    }
    out.sort_by_key(|d| d.days_left);
    Ok(out)
}

/// 报告日期: the day the last assessor finished, else the last visit date — from the data,
/// never the clock. The report's expiry and the due list both count from it.
fn issued_on(group: &MergeGroup) -> String {
    let finished = group.assessors.iter().filter_map(|a| a.finished_at.as_deref().map(|t| t[..10].to_string())).max();
    finished.unwrap_or_else(|| group.assessors.iter().map(|a| a.visited_on.clone()).max().unwrap_or_default())
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

/// Root over the sorted, de-duplicated leaves; a level's odd last node moves up unpaired.
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

pub(crate) fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

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

    #[test]
    fn days_count_on_the_calendar() {
        assert_eq!(days("1970-01-01"), 0);
        assert_eq!(days("2027-11-20") - days("2026-11-20"), 365);
        assert_eq!(days("2024-03-01") - days("2024-02-28"), 2);
    }

    #[test]
    fn points_are_stripped_from_findings() {
        assert_eq!(strip_points("办公设施：缺少复印机、电话，扣2分"), "办公设施：缺少复印机、电话");
        assert_eq!(strip_points("缺少扫描仪（OCR），此项不得分"), "缺少扫描仪（OCR）");
        assert_eq!(strip_points("等候25min，超过10min（按每10min计2档），扣2分，扣完为止"), "等候25min，超过10min（按每10min计2档）");
        assert_eq!(action("好评率：98.5%（985/1000），得5分"), "好评率：98.5%（985/1000），未达到满分档");
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
