//! The use cases, start to finish, as the CLI and the app both run them:
//!
//! - [`make`]: the signed report: model → font → thumbnails and signatures → PDF → seal →
//!   PDF and sidecar written durably.
//! - [`scores`]: every assessor's per-item scores as CSV or XLSX, written durably.

use std::path::{Path, PathBuf};

use hallmark_store::merge::MergeGroup;
use hallmark_store::Store;

use crate::model::{self, Details, Report};
use crate::{pdf, seal, table, ReportError};

/// Which merged site and rubric a report is about.
#[derive(Debug, Clone, Copy)]
pub enum Group<'a> {
    /// As the lead screen names it: the site's full name and the rubric id.
    Named { site: &'a str, rubric: &'a str },
    /// As the command line asks: part of the site's name and the rubric id, each needed only
    /// when the database holds several groups.
    Matching { site: Option<&'a str>, rubric: Option<&'a str> },
}

impl Group<'_> {
    /// The merged group this names, from the store's merge view.
    pub fn find(&self, store: &Store) -> Result<MergeGroup, ReportError> {
        match *self {
            Group::Matching { site, rubric } => model::pick_group(store, site, rubric),
            Group::Named { site, rubric } => store
                .merge()?
                .into_iter()
                .find(|g| g.site == site && g.rubric_id == rubric)
                .ok_or_else(|| ReportError::Input(format!("no merged inspections of '{site}' with rubric '{rubric}'"))),
        }
    }
}

/// Where a file goes.
#[derive(Debug, Clone, Copy)]
pub enum Out<'a> {
    /// Exactly this file (its folders are created).
    File(&'a Path),
    /// Into this folder, named after the report: `评价报告-NUMBER.pdf`, `评分明细-SITE.csv`.
    Folder(&'a Path),
}

/// What to report on, with what the lead adds, and where to write it.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    pub group: Group<'a>,
    pub details: &'a Details,
    pub out: Out<'a>,
    /// The lead's local date (`YYYY-MM-DD`, e.g. `chrono::Local::now().date_naive()`): the
    /// 报告日期 of a report made for the first time. Later makes print the recorded date.
    pub today: &'a str,
    /// The lead's clock (RFC 3339 UTC), kept with the recorded issue date.
    pub now: &'a str,
    /// A draft report (草稿 on every page, no signature sidecar, no issue date recorded): the
    /// only report of a panel that cannot conclude yet. See docs/report.md, "Drafts".
    pub draft: bool,
}

/// A written report.
#[derive(Debug)]
pub struct Made {
    pub report: Report,
    pub pdf: PathBuf,
    /// The signature sidecar; `None` for a draft, which is never sealed.
    pub sidecar: Option<PathBuf>,
    /// The PDF's size in bytes.
    pub pdf_size: usize,
}

/// An enrolled device signs a report only with a certificate `verify --trust` can accept: its
/// chain checked as `verify` will check it — role lead, valid at the signing time, not revoked
/// by a list this store holds, leading to the root it was installed with (issue #10). An
/// unenrolled device still signs (its report says 未登记设备 and `verify --trust` says why it
/// fails).
fn lead_may_sign(store: &Store, at: chrono::DateTime<chrono::Utc>) -> Result<(), ReportError> {
    let Some(pems) = store.device_certificates()? else { return Ok(()) };
    let chain = hallmark_trust::certificate::read_chain("this device's certificate", &pems).map_err(hallmark_store::StoreError::Trust)?;
    let trust = store.trust_store()?;
    trust.check(&chain, hallmark_trust::Role::Lead, at, at).map_err(hallmark_store::StoreError::Trust)?;
    Ok(())
}

/// Writes the signed report of one merged site: the PDF and its sidecar `FILE.pdf.sig.json`,
/// sealed with the store's device key. The first make records its 报告日期 (`request.today`,
/// the lead's date, never a tablet's) in the store; every later make prints that date, so the
/// same store gives the same bytes whatever day it is re-rendered.
///
/// A panel that cannot conclude (fewer assessors than the rubric asks, or an incomplete sheet;
/// a veto concludes whatever else is missing) is refused with `panel_incomplete` unless the
/// request asks for a draft. A draft prints 草稿 on every page, is written without a sidecar (so
/// `verify` never takes it for a report) and records no issue date.
pub fn make(store: &Store, request: &Request) -> Result<Made, ReportError> {
    let group = request.group.find(store)?;
    if !request.draft {
        if let Some(missing) = cannot_conclude(store, &group)? {
            return Err(ReportError::PanelIncomplete(format!(
                "the panel of '{}' cannot conclude: {missing}; or make a draft report (`hallmark report --draft`, 生成草稿 in the app)",
                group.site
            )));
        }
    }
    // Sign only from a sound database, and only what the event log backs: a cache edited
    // behind the store's back is refused.
    store.ensure_sound()?;
    for a in &group.assessors {
        store.answers_agree(&a.inspection_id)?;
    }
    if request.draft {
        return make_draft(store, request, &group);
    }
    let recorded = store.report_issue(&group.site, &group.rubric_id)?;
    if recorded.is_none() {
        hallmark_store::report_issues::check_issue_date(request.today, request.now)?;
    }
    // The signing time the sidecar records (v2): the lead's clock, as checked above.
    let signed_at = chrono::DateTime::parse_from_rfc3339(request.now)
        .map(|t| t.with_timezone(&chrono::Utc))
        .map_err(|e| ReportError::Input(format!("the time '{}' is not RFC 3339 ({e}): set this computer's date and time", request.now)))?;
    lead_may_sign(store, signed_at)?;
    let render = |issued_on: &str| -> Result<_, ReportError> {
        let report = model::build(store, &group, request.details, issued_on)?;
        let fonts = pdf::load_fonts()?;
        let assets = pdf::Assets::collect(&report, |s| store.thumb_path(s), |s| store.signature_path(s))?;
        let bytes = pdf::render(&report, assets, fonts)?;
        let sidecar = seal::seal(&report, &bytes, store.signing_key()?, signed_at);
        Ok((report, bytes, sidecar))
    };
    let (mut report, mut bytes, mut sidecar) = render(recorded.as_deref().unwrap_or(request.today))?;
    let path = match request.out {
        Out::File(p) => p.to_path_buf(),
        Out::Folder(dir) => dir.join(format!("评价报告-{}.pdf", report.number)),
    };
    seal::write(&path, &bytes, &sidecar)?;
    if recorded.is_none() {
        // Recorded once the report is written, so a refused or unwritten report (a full disk)
        // records no date; if another make recorded one meanwhile, that date stands and this
        // report is made again with it.
        let issued_on = store.report_issued_on(&group.site, &group.rubric_id, request.today, request.now)?;
        if issued_on != report.issued_on {
            (report, bytes, sidecar) = render(&issued_on)?;
            seal::write(&path, &bytes, &sidecar)?;
        }
    }
    Ok(Made { sidecar: Some(seal::sidecar_path(&path)), pdf: path, pdf_size: bytes.len(), report })
}

/// Why a merged group cannot conclude, in words naming what is missing; `None` when it can
/// (a vetoed panel concludes: 不予通过).
fn cannot_conclude(store: &Store, group: &MergeGroup) -> Result<Option<String>, ReportError> {
    use hallmark_core::aggregate::Conclusion;
    let (Some(panel), Some(first)) = (group.panel.as_ref(), group.assessors.first()) else { return Ok(None) };
    Ok(match &panel.conclusion {
        Conclusion::Insufficient { .. } => {
            let n = group.assessors.len();
            let at_least = store.rubric(&first.inspection_id)?.result.min_assessors;
            Some(format!(
                "{n} assessor{} in the panel, the rubric needs at least {at_least} (import the missing assessors' bundles)",
                if n == 1 { "" } else { "s" }
            ))
        }
        Conclusion::Incomplete { assessors, .. } => {
            let names: Vec<String> = assessors.iter().map(|a| format!("'{a}'")).collect();
            let (s, is) = if names.len() == 1 { ("", "is") } else { ("s", "are") };
            Some(format!("the sheet{s} of {} {is} incomplete (have them finish every item)", names.join(", ")))
        }
        _ => None,
    })
}

/// A draft: the report as it stands, 草稿 on every page, never sealed. The 报告日期 printed is
/// the recorded one, else today's; none is recorded.
fn make_draft(store: &Store, request: &Request, group: &MergeGroup) -> Result<Made, ReportError> {
    let issued_on = store.report_issue(&group.site, &group.rubric_id)?.unwrap_or_else(|| request.today.to_string());
    let mut report = model::build(store, group, request.details, &issued_on)?;
    report.draft = true;
    let fonts = pdf::load_fonts()?;
    let assets = pdf::Assets::collect(&report, |s| store.thumb_path(s), |s| store.signature_path(s))?;
    let bytes = pdf::render(&report, assets, fonts)?;
    let path = match request.out {
        Out::File(p) => p.to_path_buf(),
        Out::Folder(dir) => dir.join(format!("评价报告-草稿-{}.pdf", report.number)),
    };
    seal::write_file(&path, &bytes)?;
    // A sidecar left beside this path by an earlier report signs a PDF that is gone.
    let stale = seal::sidecar_path(&path);
    if stale.exists() {
        std::fs::remove_file(&stale)
            .map_err(|e| ReportError::Io(format!("{}: {e} (remove it: it signs a report this draft replaced)", stale.display())))?;
    }
    Ok(Made { pdf: path, sidecar: None, pdf_size: bytes.len(), report })
}

/// A written score table.
#[derive(Debug)]
pub struct Scores {
    pub path: PathBuf,
    pub assessors: usize,
    pub items: usize,
}

/// Writes every assessor's per-item scores of one merged site for officials. `format` is
/// "csv" or "xlsx"; without it, the extension of `Out::File` decides.
pub fn scores(store: &Store, request: &Request, format: Option<&str>) -> Result<Scores, ReportError> {
    let group = request.group.find(store)?;
    // The report's number carries its issue date: the recorded one, else today's (not recorded:
    // a score table issues nothing).
    let issued_on = store.report_issue(&group.site, &group.rubric_id)?.unwrap_or_else(|| request.today.to_string());
    let report = model::build(store, &group, request.details, &issued_on)?;
    let (format, refusal) = match (format, request.out) {
        (Some(f), _) => (f, format!("format '{f}' is not csv or xlsx")),
        (None, Out::File(p)) => (p.extension().and_then(|e| e.to_str()).unwrap_or_default(), format!("{}: name the file .csv or .xlsx", p.display())),
        (None, Out::Folder(dir)) => ("", format!("{}: name the format, csv or xlsx", dir.display())),
    };
    let bytes = match format {
        "csv" => table::csv(&report),
        "xlsx" => table::xlsx(&report)?,
        _ => return Err(ReportError::Input(refusal)),
    };
    let path = match request.out {
        Out::File(p) => p.to_path_buf(),
        Out::Folder(dir) => dir.join(format!("评分明细-{}.{format}", file_part(&group.site))),
    };
    seal::write_file(&path, &bytes)?;
    Ok(Scores { path, assessors: report.assessors.len(), items: report.items.len() })
}

/// A site's name as part of a file name.
fn file_part(s: &str) -> String {
    s.chars().map(|c| if c.is_alphanumeric() || c == '-' { c } else { '_' }).collect()
}
