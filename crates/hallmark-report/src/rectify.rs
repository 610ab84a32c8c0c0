//! 整改 from the report's side (issue #13 part 2): the findings a signed report opens as
//! rectification items ([`findings`], called by [`crate::issue::make`]), closing them by a later
//! signed report ([`close_by`]: a re-evaluation naming the report that found them, trusted like
//! `verify --trust`, in which the item lost no points), and the list as XLSX for the hall and
//! the bureau ([`xlsx`]). The items and their signed log live in the store
//! (`hallmark_store::rectifications`).

use std::path::Path;

use hallmark_store::rectifications::{Change, Finding, Rectification};
use hallmark_store::Store;
use rust_decimal::Decimal;
use rust_xlsxwriter::{Format, Workbook, XlsxError};

use crate::model::Report;
use crate::seal::{self, Trust};
use crate::table::Cell;
use crate::ReportError;

/// Each item of a signed report that lost points, as a finding to rectify: 扣分说明 as printed,
/// one of the panel's photos of the item.
pub fn findings(r: &Report) -> Vec<Finding> {
    r.items
        .iter()
        .filter(|i| i.deduction.is_some_and(|d| d > Decimal::ZERO))
        .map(|i| Finding {
            item_id: i.id.clone(),
            item_name: i.name.clone(),
            max_points: hallmark_core::num::fmt(i.max),
            points_lost: crate::model::shown_mean(i.deduction),
            finding: if i.explanations.is_empty() { format!("扣{}分", crate::model::shown_mean(i.deduction)) } else { i.explanations.join("；") },
            photo_sha256: r.evidence.iter().find(|e| e.item == i.id).and_then(|e| e.photos.first()).map(|p| p.sha256.clone()),
        })
        .collect()
}

/// What closing by a later report did to one item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Closed {
    pub item_id: String,
    pub item_name: String,
    /// The later panel's points for the item (every assessor's), as the sidecar signs them.
    pub points: Vec<String>,
    /// Verified now (full points from every assessor); otherwise left as it stands.
    pub verified: bool,
}

/// The report number without a correction's `-R<n>`: the evaluation it names.
fn evaluation(number: &str) -> &str {
    match number.rsplit_once("-R") {
        Some((base, n)) if !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()) => base,
        _ => number,
    }
}

/// Closes the items a later report shows rectified: `pdf` must verify with `trust` (intact,
/// signed by a lead the bureau certifies) and be a re-evaluation naming a report this store
/// opened items from (or a correction of it); every open item of that report to which every
/// assessor of the later panel gave full points is verified by it (a signed event), the others
/// are left as they stand. Refused, recording nothing, otherwise.
pub fn close_by(store: &mut Store, pdf: &Path, trust: &Trust, now: &str) -> Result<Vec<Closed>, ReportError> {
    let side_path = seal::sidecar_path(pdf);
    let bytes = std::fs::read(&side_path)
        .map_err(|e| ReportError::Input(format!("{}: cannot read: {e} (a signed report has its sidecar beside it)", side_path.display())))?;
    let side = seal::read_sidecar(&bytes).map_err(|e| ReportError::Input(format!("{}: {e}", side_path.display())))?;
    let Some(prev) = side.previous() else {
        return Err(ReportError::Input(format!(
            "{}: report {} is not a re-evaluation (it names no previous report): a re-evaluation made with `hallmark report --previous` closes the items of the report it follows",
            pdf.display(),
            side.report_number()
        )));
    };
    let items: Vec<Rectification> =
        store.rectifications(None)?.into_iter().filter(|r| evaluation(&r.report_number) == evaluation(&prev.report_number)).collect();
    if items.is_empty() {
        return Err(ReportError::Input(format!(
            "{}: it follows report {}, which opened no 整改 items in this database: close them in the lead's database that issued it",
            pdf.display(),
            prev.report_number
        )));
    }
    if side.rubric().id != items[0].rubric_id {
        return Err(ReportError::Input(format!("{}: its rubric '{}' is not the items' '{}'", pdf.display(), side.rubric().id, items[0].rubric_id)));
    }
    let v = seal::verify_trusted(pdf, None, trust)?;
    if !v.ok {
        return Err(ReportError::Input(format!(
            "{}: the report does not verify ({}): only a report the bureau can trust closes 整改 items",
            pdf.display(),
            v.failures()
        )));
    }
    let mut out = Vec::new();
    for r in items {
        let points: Vec<String> = side.assessors().iter().filter_map(|a| a.scores.get(&r.item_id).cloned()).collect();
        let max: Decimal = r.max_points.parse().map_err(|_| ReportError::Input(format!("item '{}' has max points '{}'", r.item_id, r.max_points)))?;
        let full = !points.is_empty() && points.iter().all(|p| p.parse::<Decimal>().is_ok_and(|p| p >= max));
        let verified = full && r.status != hallmark_store::rectifications::Status::Verified;
        if verified {
            let note = format!("复评报告 {} 中本项各评价人员均给满分（{} 分），扣分已消除", side.report_number(), r.max_points);
            store.record_rectification(&r.id, &Change::Verify { by_report: side.report_number().clone(), note }, now)?;
        }
        out.push(Closed { item_id: r.item_id, item_name: r.item_name, points, verified });
    }
    Ok(out)
}

/// The items and where each stands, as an XLSX sheet (整改台账).
pub fn xlsx(items: &[Rectification]) -> Result<Vec<u8>, ReportError> {
    let err = |e: XlsxError| ReportError::Io(format!("cannot build the XLSX: {e}"));
    let mut book = Workbook::new();
    let bold = Format::new().set_bold();
    let sheet = book.add_worksheet();
    sheet.set_name("整改台账").map_err(err)?;
    let head = ["受评单位", "报告编号", "指标", "名称", "扣分", "问题", "责任人", "整改期限", "状态", "最近进展", "核验报告", "证据照片 SHA-256"];
    for (c, h) in head.iter().enumerate() {
        sheet.write_string_with_format(0, c as u16, *h, &bold).map_err(err)?;
    }
    for (n, r) in items.iter().enumerate() {
        let last = r.events.iter().rev().find(|e| !e.note.is_empty());
        let photo = r.events.iter().rev().find_map(|e| e.photo_sha256.clone()).or_else(|| r.photo_sha256.clone()).unwrap_or_default();
        let row = [
            r.site.clone(),
            r.report_number.clone(),
            r.item_id.clone(),
            r.item_name.clone(),
            r.points_lost.clone(),
            r.finding.clone(),
            r.owner.clone().unwrap_or_default(),
            r.due_on.clone().unwrap_or_default(),
            r.status.label().to_string(),
            last.map(|e| format!("{} {}", &e.at[..e.at.len().min(10)], e.note)).unwrap_or_default(),
            r.events.iter().find_map(|e| e.by_report.clone()).unwrap_or_default(),
            photo,
        ];
        for (c, text) in row.into_iter().enumerate() {
            // 扣分 as a number (an official sums it), through the table's one Decimal-to-cell call.
            let cell = match (c, text.parse::<Decimal>()) {
                (4, Ok(points)) => Cell::Points(Some(points)),
                _ => Cell::Text(text),
            };
            cell.write(sheet, (n + 1) as u32, c as u16).map_err(err)?;
        }
    }
    sheet.autofit();
    book.save_to_buffer().map_err(err)
}
