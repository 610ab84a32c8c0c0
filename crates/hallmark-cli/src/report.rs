//! The signed evaluation report: `report`, `verify`, `scores`. The pipelines are
//! hallmark-report's ([`hallmark_report::make`], [`hallmark_report::scores`]), as in the app.

use std::path::Path;

use hallmark_report::model::Details;
use hallmark_report::seal::{Trust, TrustFiles};
use hallmark_report::{Group, Out, Request};
use hallmark_store::Access;

use crate::{json, lower, open_db, read, Which};

/// The lead's additions from `--details FILE` (TOML), or none.
fn details(which: &Which) -> Result<Details, String> {
    match &which.details {
        Some(p) => toml::from_str(&read(p)?)
            .map_err(|e| format!("{}: {} (fields: site_head, site_phone, site_email, leader)", p.display(), lower(&e.to_string()))),
        None => Ok(Default::default()),
    }
}

fn group(which: &Which) -> Group<'_> {
    Group::Matching { site: which.site.as_deref(), rubric: which.rubric.as_deref() }
}

/// `hallmark report --db DB [--site S] [--rubric R] [--details FILE] --out FILE.pdf [--text] [--draft]
/// [--supersedes OLD.pdf --reason R] [--previous LAST.pdf]`
pub(crate) fn report(which: &Which, out: &Path, text: bool, draft: bool, lifecycle: &hallmark_report::issue::Lifecycle) -> Result<(), String> {
    let store = open_db(&which.db, Access::Existing)?;
    let details = details(which)?;
    // 报告日期: the lead's local date, recorded by the first make (later makes print that one).
    let (today, now) = (chrono::Local::now().date_naive().to_string(), crate::now());
    let request = Request { group: group(which), details: &details, out: Out::File(out), today: &today, now: &now, draft };
    let made = hallmark_report::issue::make_as(&store, &request, lifecycle).map_err(|e| e.to_string())?;
    let report = &made.report;
    if text {
        out!("{}", hallmark_report::text::render(report));
    }
    outln!(
        "{}: 报告编号 {}，{} 页字节 {}；最终得分 {}：{}",
        made.pdf.display(),
        report.number,
        "PDF",
        made.pdf_size,
        report.final_score.as_deref().unwrap_or("—"),
        report.conclusion
    );
    match &made.sidecar {
        Some(sidecar) => outln!("{}: 签名者 {}，证据默克尔根 {}", sidecar.display(), report.signer_fingerprint, report.merkle_root),
        None => outln!("草稿：未签名，不作为评价结论（证据默克尔根 {}）", report.merkle_root),
    }
    if let Some(p) = &report.previous {
        outln!("复评：与上次报告 {}（{}）逐项比较；{}", p.report_number, p.issued_on, p.renewal);
    }
    if let (Some(c), Some((old, _))) = (&report.correction, lifecycle.supersedes) {
        outln!("{}: 报告 {} 已被本报告（更正 {}）取代", hallmark_report::lifecycle::status_path(old).display(), c.supersedes_number, c.revision);
    }
    Ok(())
}

/// `hallmark verify FILE.pdf [--trust ROOT.pem]... [--crl CRL.pem]... [--signer-cert CERT.pem]
/// [--bundles DIR] [--json]`: exit 0 only when the files are intact and the signer's chain
/// leads to a trusted root with the role lead (docs/report.md, "Verifying, offline"). Without
/// --trust, the roots are the `.pem` files in `$HALLMARK_TRUST`.
pub(crate) fn verify(pdf: &Path, bundles: Option<&Path>, trust: &crate::TrustArgs, as_json: bool) -> Result<(), String> {
    let folder = std::env::var_os("HALLMARK_TRUST").filter(|v| !v.is_empty()).map(std::path::PathBuf::from);
    let files = TrustFiles { roots: &trust.roots, crls: &trust.crls, signer_cert: trust.signer_cert.as_deref(), folder: folder.as_deref() };
    let trust = Trust::load(&files, chrono::Utc::now()).map_err(|e| e.to_string())?;
    let v = hallmark_report::seal::verify_trusted(pdf, bundles, &trust).map_err(|e| e.to_string())?;
    if as_json {
        outln!("{}", json(&v));
    } else {
        out!("{}", v.text());
    }
    if v.ok {
        Ok(())
    } else {
        Err(format!("{}: verification failed ({} of {} checks)", pdf.display(), v.checks.iter().filter(|c| !c.ok).count(), v.checks.len()))
    }
}

/// `hallmark withdraw --db DB REPORT.pdf --reason R`: the lead whose device signed the report
/// withdraws it (撤销) with a signed statement beside the PDF.
pub(crate) fn withdraw(db: &crate::Db, pdf: &Path, reason: &str) -> Result<(), String> {
    let store = open_db(db, Access::Existing)?;
    let w = hallmark_report::issue::withdraw(&store, pdf, reason, chrono::Utc::now()).map_err(|e| e.to_string())?;
    outln!("{}: 报告 {} 已撤销（{}），原因：{}", hallmark_report::lifecycle::status_path(pdf).display(), w.report_number, w.at, w.reason);
    Ok(())
}

/// `hallmark scores --db DB [--site S] [--rubric R] [--details FILE] --out FILE.csv|FILE.xlsx`
pub(crate) fn scores(which: &Which, out: &Path) -> Result<(), String> {
    let store = open_db(&which.db, Access::ReadOnly)?;
    let details = details(which)?;
    let (today, now) = (chrono::Local::now().date_naive().to_string(), crate::now());
    let request = Request { group: group(which), details: &details, out: Out::File(out), today: &today, now: &now, draft: false };
    let written = hallmark_report::scores(&store, &request, None).map_err(|e| e.to_string())?;
    outln!("{}: {} 名评价人员 × {} 个评分项", written.path.display(), written.assessors, written.items);
    Ok(())
}
