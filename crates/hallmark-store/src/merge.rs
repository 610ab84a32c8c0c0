//! The team lead's merge view: for each site and rubric, every assessor's sheet side by side,
//! aggregated by the rubric's rule (hallmark-core), with where each sheet came from (signer,
//! roster, bundles), each assessor's photos per item and any conflicting edits.

use std::collections::BTreeMap;

use hallmark_core::aggregate::{aggregate, Panel};
use hallmark_core::rubric::Rubric;
use hallmark_core::score::ScoreSheet;
use serde::Serialize;

use crate::conflicts::Conflict;
use crate::SignatureImage;
use crate::{Result, Store};

#[derive(Debug, Clone, Serialize)]
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
    /// The lead's panel this group is ([`crate::panels`]); `None` for a group made by site
    /// name and rubric (a database without panels).
    pub panel_id: Option<String>,
    /// Members the lead took out of the panel, each with its reason (printed in the report).
    pub excluded: Vec<Excluded>,
}

/// A panel member the lead took out, and why.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Excluded {
    pub inspection_id: String,
    pub name: String,
    pub reason: String,
    pub author: String,
    pub recorded_at: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Assessor {
    pub inspection_id: String,
    pub name: String,
    pub unit: String,
    pub title: String,
    pub phone: String,
    pub visited_on: String,
    pub finished_at: Option<String>,
    /// Fingerprint of the key that signed the latest bundle (this device's key if recorded here).
    pub fingerprint: String,
    pub public_key: String,
    /// The roster name of that key; `None` flags an unknown signer.
    pub known_as: Option<String>,
    /// Who the latest bundle's certificate says signed it (issue #10), as checked at import.
    pub certified: crate::bundle::Certified,
    pub local: bool,
    pub bundles: usize,
    pub total: String,
    pub complete: bool,
    pub vetoed: bool,
    /// item id → photos the assessor attached there.
    pub photos: BTreeMap<String, Vec<PhotoRef>>,
    /// Photos the assessor withdrew ([`crate::captions`]): not shown, but still evidence the
    /// bundle carries (the report's Merkle root counts them, as `verify --bundles` does).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub withdrawn_photos: Vec<PhotoRef>,
    pub conflicts: Vec<Conflict>,
    pub signature: Option<SignatureImage>,
    /// Dates from the tablet no honest clock wrote (before 2020-01-01, after 2099-12-31, or
    /// more than 2 days after the bundle's import), one line each (Chinese): shown with the
    /// assessor and in the report, never used for the report's dates. See [`date_warnings`].
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub date_warnings: Vec<String>,
    #[serde(skip)]
    pub sheet: Option<ScoreSheet>,
}

#[derive(Debug, Clone, Serialize)]
pub struct PhotoRef {
    pub sha256: String,
    pub caption: String,
    pub taken_at: Option<String>,
    pub attached_at: String,
}

impl Store {
    /// Every panel the lead made ([`crate::panels`]), then every site × rubric of the
    /// inspections in no panel, with their assessors merged. Without panels inspections are
    /// grouped by site name and rubric, but an inspection recorded here (its device is this
    /// store's) is never grouped with imported ones: a lead's own draft of the demo site is not
    /// a sixth assessor.
    pub fn merge(&self) -> Result<Vec<MergeGroup>> {
        let mut out = Vec::new();
        let mut in_panel = std::collections::BTreeSet::new();
        let mut ids = self.inspection_ids()?;
        ids.reverse(); // oldest first: assessors in the order their work began
        for p in self.panels()? {
            in_panel.extend(p.members.iter().map(|m| m.inspection_id.clone()));
            let members: Vec<String> = ids.iter().filter(|id| p.included().any(|m| &m.inspection_id == *id)).cloned().collect();
            let mut group = self.group_of(&members)?;
            group.site = p.site.clone();
            group.panel_id = Some(p.id.clone());
            group.excluded = p
                .excluded()
                .map(|m| Excluded {
                    inspection_id: m.inspection_id.clone(),
                    name: m.assessor.clone(),
                    reason: m.reason.clone(),
                    author: m.author.clone(),
                    recorded_at: m.recorded_at.clone(),
                })
                .collect();
            out.push(group);
        }
        // (site, rubric, version, recorded here): imported groups sort before local ones.
        let mut keyed: BTreeMap<(String, String, String, bool), Vec<String>> = BTreeMap::new();
        for id in ids.into_iter().filter(|id| !in_panel.contains(id)) {
            let insp = self.inspection(&id)?;
            let local = insp.device_id == self.device_id;
            keyed.entry((insp.site_name, insp.rubric_id, insp.rubric_version, local)).or_default().push(id);
        }
        for members in keyed.values() {
            out.push(self.group_of(members)?);
        }
        Ok(out)
    }

    /// One merged group of these inspections (in this order), aggregated by their rubric.
    fn group_of(&self, ids: &[String]) -> Result<MergeGroup> {
        let mut group: Option<MergeGroup> = None;
        let mut rubric: Option<Rubric> = None;
        for id in ids {
            let insp = self.inspection(id)?;
            let bundles = self.bundles(id)?;
            let local = insp.device_id == self.device_id;
            let (public_key, fingerprint, known_as) = match bundles.last() {
                Some(b) => (b.signer_key.clone(), b.fingerprint.clone(), b.known_as.clone()),
                None => (self.key.public_key_hex(), self.key.fingerprint(), local.then(|| "本机".to_string())),
            };
            let certified = match bundles.last() {
                Some(b) => self.certified_of(&b.id)?,
                None => crate::bundle::Certified::Unenrolled,
            };
            let date_warnings = self.date_warnings_of(&insp, &bundles)?;
            let mut photos: BTreeMap<String, Vec<PhotoRef>> = BTreeMap::new();
            let mut withdrawn_photos = Vec::new();
            for (e, withdrawn) in self.current_evidence(id)? {
                let r = PhotoRef { sha256: e.photo.sha256, caption: e.caption, taken_at: e.photo.taken_at, attached_at: e.attached_at };
                match withdrawn {
                    false => photos.entry(e.item_id.clone()).or_default().push(r),
                    true => withdrawn_photos.push(r),
                }
            }
            let sheet = self.sheet(id);
            let (this_rubric, sheet, error) = match sheet {
                Ok((r, s)) => (Some(r), Some(s), None),
                Err(e) => (None, None, Some(e.to_string())),
            };
            let group = group.get_or_insert_with(|| MergeGroup {
                site: insp.site_name.clone(),
                site_address: insp.site_address.clone(),
                site_level: insp.site_level.clone(),
                rubric_id: insp.rubric_id.clone(),
                rubric_version: insp.rubric_version.clone(),
                rubric_hash: insp.rubric_hash.clone(),
                rubric_title: this_rubric.as_ref().map(|r| r.title.clone()).unwrap_or_default(),
                assessors: Vec::new(),
                panel: None,
                error: None,
                panel_id: None,
                excluded: Vec::new(),
            });
            if let Some(e) = error {
                group.error = Some(format!("{}: {e}", insp.assessor_name));
            }
            if rubric.is_none() {
                rubric = this_rubric;
            }
            group.assessors.push(Assessor {
                inspection_id: id.clone(),
                name: insp.assessor_name,
                unit: insp.assessor_unit,
                title: insp.assessor_title,
                phone: insp.assessor_phone,
                visited_on: insp.visited_on,
                finished_at: insp.finished_at,
                fingerprint,
                public_key,
                known_as,
                certified,
                local,
                bundles: bundles.len(),
                total: sheet.as_ref().map(|s| hallmark_core::num::fmt(s.total)).unwrap_or_else(|| "—".into()),
                complete: sheet.as_ref().is_some_and(|s| s.complete),
                vetoed: sheet.as_ref().is_some_and(|s| s.veto.vetoed),
                photos,
                withdrawn_photos,
                conflicts: self.conflicts(id)?,
                signature: self.signature_image(id)?,
                date_warnings,
                sheet,
            });
        }
        let Some(mut group) = group else {
            return Ok(MergeGroup {
                site: String::new(),
                site_address: String::new(),
                site_level: String::new(),
                rubric_id: String::new(),
                rubric_version: String::new(),
                rubric_hash: String::new(),
                rubric_title: String::new(),
                assessors: Vec::new(),
                panel: None,
                error: Some("the panel has no members (add the assessors' inspections)".into()),
                panel_id: None,
                excluded: Vec::new(),
            });
        };
        if let (None, Some(rubric)) = (&group.error, &rubric) {
            let sheets: Vec<ScoreSheet> = group.assessors.iter().filter_map(|a| a.sheet.clone()).collect();
            match aggregate(rubric, &sheets) {
                Ok(mut p) => {
                    let days: Vec<&str> = group.assessors.iter().filter(|a| a.sheet.is_some()).map(|a| a.visited_on.as_str()).collect();
                    hallmark_core::aggregate::warn_visit_spread(&mut p, rubric, &days, hallmark_core::calendar::WorkCalendar::shared());
                    group.panel = Some(p)
                }
                Err(e) => group.error = Some(e.to_string()),
            }
        }
        Ok(group)
    }

    /// The implausible dates of one inspection ([`date_warnings`]), measured against the time
    /// of its latest import here (the lead's clock); an inspection recorded here, against the
    /// window only.
    fn date_warnings_of(&self, insp: &crate::Inspection, bundles: &[crate::bundle::BundleRecord]) -> Result<Vec<String>> {
        let id = &insp.id;
        let mut dates: Vec<(&str, String)> = vec![("评价日期", insp.visited_on.clone()), ("创建时间", insp.created_at.clone())];
        dates.extend(insp.finished_at.iter().map(|t| ("完成时间", t.clone())));
        dates.extend(self.events(id)?.into_iter().map(|e| ("记录时间", e.recorded_at)));
        for s in self.service_entries(id)? {
            dates.push(("服务观察时间", s.entry.observed_at));
            dates.push(("记录时间", s.recorded_at));
        }
        for e in self.evidence(id)? {
            dates.push(("照片附加时间", e.attached_at));
            // EXIF: "YYYY-MM-DD HH:MM:SS" in the camera's local time; its day is checked.
            dates.extend(e.photo.taken_at.map(|t| ("照片拍摄时间", t.chars().take(10).collect())));
        }
        dates.extend(self.signature_image(id)?.map(|s| ("签名时间", s.signed_at)));
        dates.extend(bundles.iter().map(|b| ("数据包导出时间", b.created_at.clone())));
        let imported = bundles.iter().map(|b| b.imported_at.as_str()).max();
        let reference = imported.and_then(|t| hallmark_core::date::day_of(t).ok());
        Ok(date_warnings(&dates, reference))
    }

    /// The merged group an inspection belongs to.
    pub fn merge_group_of(&self, inspection_id: &str) -> Result<MergeGroup> {
        self.merge()?
            .into_iter()
            .find(|g| g.assessors.iter().any(|a| a.inspection_id == inspection_id))
            .ok_or_else(|| crate::StoreError::NotFound(inspection_id.into()))
    }
}

/// The dates no honest clock wrote, one line per kind of date and problem (Chinese, as the
/// merge view and the report print them): "完成时间 2100-02-28T10:00:00.000Z 晚于导入时间
/// 2026-11-21 超过2天". `reference` is the import day (the lead's clock), if any. Pure.
pub fn date_warnings(dates: &[(&str, String)], reference: Option<hallmark_core::date::NaiveDate>) -> Vec<String> {
    use hallmark_core::date::{tablet_day, DateProblem, EARLIEST, LATEST, TOLERANCE_DAYS};
    // (label, problem) → (the first such value, how many)
    let mut found: Vec<(&str, String, &str, usize)> = Vec::new();
    for (label, value) in dates {
        let problem = match tablet_day(value, reference) {
            Ok(_) => continue,
            Err(DateProblem::Malformed(_)) => "不是有效的日期时间".to_string(),
            Err(DateProblem::BeforeEarliest) => format!("早于 {EARLIEST}"),
            Err(DateProblem::AfterLatest) => format!("晚于 {LATEST}"),
            Err(DateProblem::AfterReference(r)) => format!("晚于导入时间 {r} 超过{TOLERANCE_DAYS}天"),
        };
        match found.iter_mut().find(|f| f.0 == *label && f.1 == problem) {
            Some(f) => f.3 += 1,
            None => found.push((label, problem, value, 1)),
        }
    }
    found
        .into_iter()
        .map(|(label, problem, value, n)| match n {
            1 => format!("{label} {value} {problem}"),
            n => format!("{label} {value} 等 {n} 项{problem}"),
        })
        .collect()
}

/// The merge view as text (`hallmark merge`): the panel table, then sources and evidence.
pub fn merge_text(rubric_of: impl Fn(&MergeGroup) -> Option<Rubric>, groups: &[MergeGroup]) -> String {
    use std::fmt::Write;
    let mut o = String::new();
    if groups.is_empty() {
        let _ = writeln!(o, "数据库中没有检查记录（先用 `hallmark import --db DB FILE...` 导入评价人员的数据包）");
    }
    for g in groups {
        let _ = writeln!(o, "══ {} · {} v{} ══", g.site, g.rubric_id, g.rubric_version);
        match (&g.panel, rubric_of(g)) {
            (Some(p), Some(r)) => o.push_str(&hallmark_core::render::panel_text(&r, p)),
            _ => {
                let _ = writeln!(o, "不能汇总：{}", g.error.as_deref().unwrap_or("评分细则无法加载"));
            }
        }
        let _ = writeln!(o);
        let _ = writeln!(o, "评价人员与来源：");
        for (n, a) in g.assessors.iter().enumerate() {
            use crate::bundle::Certified;
            let who = match (&a.certified, &a.known_as, a.local) {
                (_, _, true) => "本机记录".to_string(),
                (Certified::Enrolled { name, root, .. }, _, _) => format!("证书：{name}，经「{root}」核验"),
                (Certified::Unchecked { name }, _, _) => format!("⚠ 证书未核验（{name}）：导入时本库没有医保局根证书"),
                (Certified::Unenrolled, Some(name), _) => format!("名册：{name}（未登记设备，仅凭名册）"),
                (Certified::Unenrolled, None, _) => "⚠ 签名密钥不在名册中（未登记设备）".to_string(),
            };
            let photos: usize = a.photos.values().map(Vec::len).sum();
            let _ = writeln!(
                o,
                "  #{} {}  总分 {}{}  签名者 {}（{}）  数据包 {} 个  照片 {} 张{}",
                n + 1,
                a.name,
                a.total,
                if a.complete { "" } else { "（不完整）" },
                a.fingerprint,
                who,
                a.bundles,
                photos,
                if a.finished_at.is_some() { "" } else { "  （未完成）" }
            );
            for w in &a.date_warnings {
                let _ = writeln!(o, "     ⚠ 日期：{w}（平板时钟可能有误；报告日期与有效期不取自平板）");
            }
            for c in &a.conflicts {
                let sides: Vec<String> = c
                    .sides
                    .iter()
                    .map(|s| format!("{} 记为 {}（{}）", s.bundle_file, s.value.as_ref().map_or("（清除）".into(), |v| v.to_string()), s.recorded_at))
                    .collect();
                let _ = writeln!(
                    o,
                    "     ⚠ 冲突 {}：{}；现值 {}（按事件顺序）",
                    c.key,
                    sides.join("；"),
                    c.current.as_ref().map_or("（无）".into(), |v| v.to_string())
                );
            }
        }
        for x in &g.excluded {
            let _ = writeln!(o, "  已排除 {}：{}（{}，{}）", x.name, x.reason, x.author, x.recorded_at);
        }
        let mut items: BTreeMap<&str, Vec<String>> = BTreeMap::new();
        for (n, a) in g.assessors.iter().enumerate() {
            for (item, ps) in &a.photos {
                for p in ps {
                    let caption = if p.caption.is_empty() { String::new() } else { format!("「{}」", p.caption) };
                    items.entry(item).or_default().push(format!("#{} {}{caption}", n + 1, p.sha256.get(..12).unwrap_or(&p.sha256)));
                }
            }
        }
        if !items.is_empty() {
            let _ = writeln!(o, "照片证据（评分项：评价人员 照片SHA-256前缀「说明」）：");
            for (item, ps) in items {
                let _ = writeln!(o, "  {item}: {}", ps.join("  "));
            }
        }
        let _ = writeln!(o);
    }
    o
}
