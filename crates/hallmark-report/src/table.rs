//! Per-item scores of every assessor, for officials: CSV (UTF-8 with BOM, so spreadsheet
//! programs read the Chinese right) and XLSX (two sheets: one row per assessor and item, and
//! the side-by-side summary with mean, min, max and standard deviation).

use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;
use rust_xlsxwriter::{Format, Workbook, Worksheet, XlsxError};

use crate::model::{shown, ItemRow, Report};
use crate::ReportError;

const HEADER: [&str; 9] = ["报告编号", "受评单位", "评价人员", "工作单位", "评分项编号", "评分项", "分值", "得分", "扣分说明"];

/// A cell: text, or points (`None` where unanswered, shown as "—").
pub(crate) enum Cell {
    Text(String),
    Points(Option<Decimal>),
}

impl Cell {
    fn text(&self) -> String {
        match self {
            Cell::Text(t) => t.clone(),
            Cell::Points(p) => shown(*p),
        }
    }

    /// Points as numbers (an official sums them); everything else, "—" included, as text.
    pub(crate) fn write(&self, sheet: &mut Worksheet, row: u32, col: u16) -> Result<(), XlsxError> {
        match self {
            // The one place a Decimal becomes a float: an XLSX number cell is an IEEE double
            // (rust_xlsxwriter writes f64). Points have at most a few decimals, so the float is
            // the nearest double to the exact value; nothing computes with it.
            Cell::Points(Some(p)) => match p.to_f64() {
                Some(x) => sheet.write_number(row, col, x).map(|_| ()),
                None => sheet.write_string(row, col, shown(Some(*p))).map(|_| ()),
            },
            _ => sheet.write_string(row, col, self.text()).map(|_| ()),
        }
    }
}

fn rows(r: &Report) -> Vec<[Cell; 9]> {
    let mut out = Vec::new();
    for (k, a) in r.assessors.iter().enumerate() {
        let row = |i: &ItemRow, note: String| {
            [
                Cell::Text(r.number.clone()),
                Cell::Text(r.site.name.clone()),
                Cell::Text(a.name.clone()),
                Cell::Text(a.unit.clone()),
                Cell::Text(i.id.clone()),
                Cell::Text(i.name.clone()),
                Cell::Points(Some(i.max)),
                Cell::Points(i.scores.get(k).copied().flatten()),
                Cell::Text(note),
            ]
        };
        for i in &r.items {
            out.push(row(i, a.notes.get(&i.id).cloned().unwrap_or_default()));
        }
        // The total row: the assessor's total ("total", "总分"), no notes.
        out.push(row(&r.total, String::new()));
    }
    out
}

/// One CSV cell. A cell a spreadsheet would read as a formula (starting `=`, `+`, `-`, `@`, tab
/// or CR; a name or a note can be anything) is written as text with a leading `'`, as OWASP
/// advises; numbers, negative ones included, stay numbers.
fn csv_field(s: &str) -> String {
    let formula_like = s.starts_with(['=', '+', '-', '@', '\t', '\r']) && s.parse::<rust_decimal::Decimal>().is_err();
    let s = if formula_like { format!("'{s}") } else { s.to_string() };
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

pub fn csv(r: &Report) -> Vec<u8> {
    let mut o = String::from("\u{feff}");
    o.push_str(&HEADER.join(","));
    o.push_str("\r\n");
    for row in rows(r) {
        o.push_str(&row.iter().map(|c| csv_field(&c.text())).collect::<Vec<_>>().join(","));
        o.push_str("\r\n");
    }
    o.into_bytes()
}

pub fn xlsx(r: &Report) -> Result<Vec<u8>, ReportError> {
    let err = |e: XlsxError| ReportError::Io(format!("cannot build the XLSX: {e}"));
    let mut book = Workbook::new();
    let bold = Format::new().set_bold();
    let sheet = book.add_worksheet();
    sheet.set_name("各评价人员计分").map_err(err)?;
    for (c, h) in HEADER.iter().enumerate() {
        sheet.write_string_with_format(0, c as u16, *h, &bold).map_err(err)?;
    }
    for (n, row) in rows(r).iter().enumerate() {
        for (c, cell) in row.iter().enumerate() {
            cell.write(sheet, (n + 1) as u32, c as u16).map_err(err)?;
        }
    }
    sheet.autofit();
    let sum = book.add_worksheet();
    sum.set_name("汇总").map_err(err)?;
    let mut head: Vec<String> = vec!["评分项".into(), "分值".into()];
    head.extend(r.assessors.iter().map(|a| a.name.clone()));
    head.extend(["均值", "最低", "最高", "标准差"].map(String::from));
    for (c, h) in head.iter().enumerate() {
        sum.write_string_with_format(0, c as u16, h, &bold).map_err(err)?;
    }
    for (n, i) in r.items.iter().chain([&r.total]).enumerate() {
        let mut cells = vec![Cell::Text(format!("{} {}", i.id, i.name)), Cell::Points(Some(i.max))];
        cells.extend(i.scores.iter().map(|s| Cell::Points(*s)));
        cells.extend([i.mean, i.min, i.max_score, i.stddev].map(Cell::Points));
        for (c, cell) in cells.iter().enumerate() {
            cell.write(sum, (n + 1) as u32, c as u16).map_err(err)?;
        }
    }
    let last = (r.items.len() + 3) as u32;
    sum.write_string(last, 0, format!("最终得分 {}：{}", r.final_score.as_deref().unwrap_or("—"), r.conclusion)).map_err(err)?;
    sum.autofit();
    book.save_to_buffer().map_err(err)
}

#[cfg(test)]
mod formula_injection {
    use super::csv_field;

    #[test]
    fn csv_cells_that_start_like_a_formula_are_text() {
        let cases = [
            ("=HYPERLINK(\"http://x\",\"y\")", "\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\""),
            ("=cmd|' /C calc'!A0", "'=cmd|' /C calc'!A0"),
            ("+SUM(A1:A9)", "'+SUM(A1:A9)"),
            ("-2+3", "'-2+3"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\tx", "'\tx"),
            ("\rx", "\"'\rx\""),
            // Numbers, negative ones included, stay numbers.
            ("-2", "-2"),
            ("4.33", "4.33"),
            ("王敏", "王敏"),
            ("", ""),
        ];
        for (cell, written) in cases {
            assert_eq!(csv_field(cell), written, "{cell:?}");
        }
    }
}
