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
    make_as(store, request, &Lifecycle::default())
}

/// Where a report stands among the site's reports (issue #13): a correction of an earlier one,
/// a re-evaluation after an earlier one, or neither (the first report of a first evaluation).
#[derive(Debug, Clone, Copy, Default)]
pub struct Lifecycle<'a> {
    /// 更正: the signed report this one replaces, and why ([`correct`]).
    pub supersedes: Option<(&'a Path, &'a str)>,
    /// 复评: the signed report of the evaluation before this one, compared with item by item
    /// and deciding the validity by the standard's §12. Named once, when the report is first
    /// made (or corrected); recorded, so later makes compare with the same one.
    pub previous: Option<&'a Path>,
    /// Sign although a returned sheet or item is not answered yet: the lead's reason, printed in
    /// the report with the open returns (issue #13 part 1).
    pub override_reviews: Option<&'a str>,
}

/// [`make`], with where the report stands ([`Lifecycle`]).
pub fn make_as(store: &Store, request: &Request, lifecycle: &Lifecycle) -> Result<Made, ReportError> {
    match lifecycle.supersedes {
        Some((old, reason)) => correct_as(store, request, old, reason, lifecycle),
        None => make_signed(store, request, None, lifecycle),
    }
}

/// A corrected report (更正, issue #13 part 3): made like [`make`], numbered `…-R<n>`, its
/// cover and sidecar (v3) naming `old` — this site's signed report, signed by this device —
/// and `reason`; then `old` gets the signed statement that it is superseded
/// (`OLD.pdf.status.json`, [`crate::lifecycle`]). Refused, writing nothing, for a draft, a
/// report of another site or signer, or one withdrawn or corrected already. The first issue's
/// 报告日期 and validity stand: a correction does not extend a title.
pub fn correct(store: &Store, request: &Request, old: &Path, reason: &str) -> Result<Made, ReportError> {
    correct_as(store, request, old, reason, &Lifecycle::default())
}

fn correct_as(store: &Store, request: &Request, old: &Path, reason: &str, lifecycle: &Lifecycle) -> Result<Made, ReportError> {
    if request.draft {
        return Err(ReportError::Input("a draft is not a correction: a correction is a signed report (leave out --draft)".into()));
    }
    if reason.trim().is_empty() {
        return Err(ReportError::Input("a correction needs a reason (--reason: it is printed on the corrected report's cover)".into()));
    }
    make_signed(store, request, Some((old, reason.trim())), lifecycle)
}

/// The previous report's sidecar, checked: the PDF intact and signed as its sidecar says, and —
/// when this database trusts a bureau root — signed by a lead the bureau certifies (a
/// self-made "previous report" cannot drive the §12 extension).
fn read_previous(store: &Store, pdf: &Path, now: &str) -> Result<Vec<u8>, ReportError> {
    let roots = store.trust_store()?;
    let v = if roots.has_roots() {
        let now = chrono::DateTime::parse_from_rfc3339(now)
            .map(|t| t.with_timezone(&chrono::Utc))
            .map_err(|e| ReportError::Input(format!("the time '{now}' is not RFC 3339 ({e}): set this computer's date and time")))?;
        seal::verify_trusted(pdf, None, &seal::Trust { store: roots, signer_cert: None, now })?
    } else {
        seal::verify(pdf, None)?
    };
    if !v.ok {
        return Err(ReportError::Input(format!(
            "{}: the previous report does not verify ({}): name the report as it was issued",
            pdf.display(),
            v.failures()
        )));
    }
    let path = seal::sidecar_path(pdf);
    std::fs::read(&path).map_err(|e| ReportError::Input(format!("{}: cannot read: {e}", path.display())))
}

fn make_signed(store: &Store, request: &Request, correcting: Option<(&Path, &str)>, lifecycle: &Lifecycle) -> Result<Made, ReportError> {
    let previous = lifecycle.previous;
    let group = request.group.find(store)?;
    // Review (issue #13 part 1): no signed report while a return is open, unless overridden.
    let ids: Vec<String> = group.assessors.iter().map(|a| a.inspection_id.clone()).collect();
    let reviews = store.reviews(&ids)?;
    let open: Vec<String> = reviews.iter().filter(|r| r.is_open()).map(|r| r.text()).collect();
    let override_reason = lifecycle.override_reviews.map(str::trim).filter(|r| !r.is_empty());
    if !request.draft && !open.is_empty() && override_reason.is_none() {
        return Err(ReportError::ReviewsOpen {
            message: format!(
                "the panel of '{}' has returned items not answered yet: {}; wait for the assessors' changed bundles, accept them (`hallmark review accept`), or sign anyway with the reason printed in the report (--override-reviews REASON)",
                group.site,
                open.join("; ")
            ),
            open,
        });
    }
    let review_lines: Vec<String> = reviews.iter().map(|r| crate::printable::clean(&r.text())).collect();
    let review_override = match override_reason {
        Some(reason) if !open.is_empty() => {
            Some(crate::printable::clean(&format!("组长在复核未完成时签发本报告（{}项退回待修改），原因：{reason}", open.len())))
        }
        _ => None,
    };
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
    // 复评: the previous report, named now or recorded by an earlier make.
    let recorded_previous = store.report_previous(&group.site, &group.rubric_id)?;
    let mut new_previous = None;
    if let Some(p) = previous {
        let bytes = read_previous(store, p, request.now)?;
        match &recorded_previous {
            Some(r) if *r != bytes => {
                let r = seal::read_sidecar(r).map_err(ReportError::Input)?;
                return Err(ReportError::Input(format!(
                    "this evaluation of '{}' was recorded as following report {} already, not {}: leave out --previous",
                    group.site,
                    r.report_number(),
                    p.display()
                )));
            }
            Some(_) => {}
            None if store.report_issue(&group.site, &group.rubric_id)?.is_some() && correcting.is_none() && !request.draft => {
                return Err(ReportError::Input(format!(
                    "the report on '{}' was issued already without a previous report: correct it to add one (--supersedes REPORT.pdf --reason … --previous {})",
                    group.site,
                    p.display()
                )));
            }
            None => new_previous = Some(bytes),
        }
    }
    let previous = match new_previous.as_ref().or(recorded_previous.as_ref()) {
        Some(bytes) => Some(seal::read_sidecar(bytes).map_err(|e| ReportError::Input(format!("the previous report's sidecar: {e}")))?),
        None => None,
    };
    let months = match group.assessors.first() {
        Some(a) => store.rubric(&a.inspection_id)?.result.valid_months,
        None => None,
    };
    if request.draft {
        return make_draft(store, request, &group, previous.as_ref().map(|p| (p, months)), review_lines);
    }
    if let Some((number, reason)) = store.report_withdrawal(&group.site, &group.rubric_id)? {
        return Err(ReportError::Input(format!(
            "the report on '{}' ({number}) was withdrawn (\"{reason}\"): a withdrawn evaluation is not signed again; a new evaluation is a new panel in a new lead database",
            group.site
        )));
    }
    let recorded = store.report_issue(&group.site, &group.rubric_id)?;
    if recorded.is_none() {
        hallmark_store::report_issues::check_issue_date(request.today, request.now)?;
    }
    // A correction: the old report checked, the next revision made ready (recorded once the
    // new report is written).
    let mut correction = store.report_correction(&group.site, &group.rubric_id)?;
    let mut replacing = None;
    if let Some((old, reason)) = correcting {
        let issued = crate::lifecycle::issued_by(old, store.signing_key()?)?;
        let out = match request.out {
            Out::File(p) => Some(p),
            Out::Folder(_) => None,
        };
        if out.is_some_and(|p| p == old || std::fs::canonicalize(p).ok().is_some_and(|p| std::fs::canonicalize(old).ok() == Some(p))) {
            return Err(ReportError::Input(format!(
                "{}: the corrected report would overwrite the report it replaces: write it to another file (--out)",
                old.display()
            )));
        }
        let Some(issued_on) = recorded.as_deref() else {
            return Err(ReportError::Input(format!(
                "no report on '{}' was issued from this database: `hallmark report` issues the first one, a correction replaces it",
                group.site
            )));
        };
        let side = &issued.sidecar;
        // The sidecar names no site: the report is this site's when its sheets are this
        // panel's (two halls reported on the same day with the same rubric stay apart).
        if side.rubric().id != group.rubric_id || side.issued_on() != issued_on || !made_from(&group, side) {
            return Err(ReportError::Input(format!(
                "{}: report {} (rubric {}, issued {}) is not the report on '{}' with {} issued {issued_on}: correct the report of this site",
                old.display(),
                side.report_number(),
                side.rubric().id,
                side.issued_on(),
                group.site,
                group.rubric_id
            )));
        }
        hallmark_store::report_issues::check_issue_date(request.today, request.now)?;
        correction = Some(hallmark_store::report_issues::Correction {
            revision: correction.map_or(1, |c| c.revision + 1),
            corrected_on: request.today.to_string(),
            reason: reason.to_string(),
            supersedes_number: side.report_number().clone(),
            supersedes_sha256: side.pdf_sha256().clone(),
        });
        replacing = Some(issued);
    }
    // The signing time the sidecar records (v2): the lead's clock, as checked above.
    let signed_at = chrono::DateTime::parse_from_rfc3339(request.now)
        .map(|t| t.with_timezone(&chrono::Utc))
        .map_err(|e| ReportError::Input(format!("the time '{}' is not RFC 3339 ({e}): set this computer's date and time", request.now)))?;
    lead_may_sign(store, signed_at)?;
    let render = |issued_on: &str| -> Result<_, ReportError> {
        let mut report = model::build(store, &group, request.details, issued_on)?;
        report.reviews = review_lines.clone();
        report.review_override = review_override.clone();
        if let Some(p) = &previous {
            report = report.after(p, months)?;
        }
        if let Some(c) = &correction {
            report = report.corrected(c);
        }
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
    if let Some(bytes) = &new_previous {
        store.record_report_previous(&group.site, &group.rubric_id, bytes, request.now)?;
    }
    // 整改: each deduction of the signed report is a rectification item, opened once.
    store.open_rectifications(&group.site, &group.rubric_id, &report.number, &crate::rectify::findings(&report), request.now)?;
    if let (Some(issued), Some(c)) = (replacing, &correction) {
        // Recorded once the corrected report is written; then the old one is marked.
        store.record_report_correction(&group.site, &group.rubric_id, c, request.now)?;
        let new = crate::lifecycle::ReportRefV1 { report_number: sidecar.report_number.clone(), pdf_sha256: sidecar.pdf_sha256.clone() };
        let certificates = store.device_certificates()?.unwrap_or_default();
        crate::lifecycle::record(&issued, crate::lifecycle::Status::Superseded, Some(new), store.signing_key()?, certificates, &c.reason, signed_at)?;
    }
    Ok(Made { sidecar: Some(seal::sidecar_path(&path)), pdf: path, pdf_size: bytes.len(), report })
}

/// Whether a signed report was made from this panel: every sheet its sidecar names is one of
/// the group's, counted or taken out (the sidecar names no site).
fn made_from(group: &MergeGroup, side: &seal::Sidecar) -> bool {
    side.assessors().iter().all(|a| {
        group.assessors.iter().any(|x| x.inspection_id == a.inspection_id) || group.excluded.iter().any(|x| x.inspection_id == a.inspection_id)
    })
}

/// Withdraws a report this database issued (撤销, issue #13): recorded in the store (so the
/// evaluation is never signed again from here), then the signer's statement written beside the
/// PDF ([`crate::lifecycle::withdraw`]). Safe to run again after a failure between the two.
pub fn withdraw(
    store: &Store,
    pdf: &Path,
    reason: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<crate::lifecycle::ReportStatusV1, ReportError> {
    if reason.trim().is_empty() {
        return Err(ReportError::Input("a withdrawal needs a reason (--reason: it is printed wherever the report is verified)".into()));
    }
    let issued = crate::lifecycle::issued_by(pdf, store.signing_key()?)?;
    let side = &issued.sidecar;
    // The panel it was made from: its sheets are this group's (the sidecar names no site).
    let group = store.merge()?.into_iter().find(|g| g.rubric_id == side.rubric().id && made_from(g, side));
    if let Some(g) = group {
        let stamp = now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        store.record_report_withdrawal(&g.site, &g.rubric_id, side.report_number(), side.pdf_sha256(), reason.trim(), &stamp)?;
    }
    let certificates = store.device_certificates()?.unwrap_or_default();
    crate::lifecycle::withdraw(pdf, store.signing_key()?, certificates, reason, now)
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
fn make_draft(
    store: &Store,
    request: &Request,
    group: &MergeGroup,
    previous: Option<(&seal::Sidecar, Option<u32>)>,
    reviews: Vec<String>,
) -> Result<Made, ReportError> {
    let issued_on = store.report_issue(&group.site, &group.rubric_id)?.unwrap_or_else(|| request.today.to_string());
    let mut report = model::build(store, group, request.details, &issued_on)?;
    report.reviews = reviews;
    if let Some((p, months)) = previous {
        report = report.after(p, months)?;
    }
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
