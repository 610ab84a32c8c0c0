//! Per-item scores of every assessor, for officials: CSV (UTF-8 with BOM, so spreadsheet
//! programs read the Chinese right) and XLSX (two sheets: one row per assessor and item, and
//! the side-by-side summary with mean, min, max and standard deviation).

use rust_xlsxwriter::{Format, Workbook};

use crate::model::Report;
use crate::ReportError;

const HEADER: [&str; 9] = ["报告编号", "受评单位", "评价人员", "工作单位", "评分项编号", "评分项", "分值", "得分", "扣分说明"];

fn rows(r: &Report) -> Vec<[String; 9]> {
    let mut out = Vec::new();
    for (k, a) in r.assessors.iter().enumerate() {
        for i in &r.items {
            out.push([
                r.number.clone(),
                r.site.name.clone(),
                a.name.clone(),
                a.unit.clone(),
                i.id.clone(),
                i.name.clone(),
                i.max.clone(),
                i.scores.get(k).cloned().unwrap_or_default(),
                a.notes.get(&i.id).cloned().unwrap_or_default(),
            ]);
        }
        out.push([
            r.number.clone(),
            r.site.name.clone(),
            a.name.clone(),
            a.unit.clone(),
            "total".into(),
            "总分".into(),
            r.total.max.clone(),
            a.total.clone(),
            String::new(),
        ]);
    }
    out
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

pub fn csv(r: &Report) -> Vec<u8> {
    let mut o = String::from("\u{feff}");
    o.push_str(&HEADER.join(","));
    o.push_str("\r\n");
    for row in rows(r) {
        o.push_str(&row.iter().map(|f| csv_field(f)).collect::<Vec<_>>().join(","));
        o.push_str("\r\n");
    }
    o.into_bytes()
}

pub fn xlsx(r: &Report) -> Result<Vec<u8>, ReportError> {
    let err = |e: rust_xlsxwriter::XlsxError| ReportError::Io(format!("cannot build the XLSX: {e}"));
    let mut book = Workbook::new();
    let bold = Format::new().set_bold();
    let sheet = book.add_worksheet();
    sheet.set_name("各评价人员计分").map_err(err)?;
    for (c, h) in HEADER.iter().enumerate() {
        sheet.write_string_with_format(0, c as u16, *h, &bold).map_err(err)?;
    }
    for (n, row) in rows(r).iter().enumerate() {
        for (c, v) in row.iter().enumerate() {
            let (rr, cc) = ((n + 1) as u32, c as u16);
            // Points as numbers (an official sums them); everything else as text.
            match (c, v.parse::<f64>()) {
                (6 | 7, Ok(x)) => sheet.write_number(rr, cc, x).map_err(err)?,
                _ => sheet.write_string(rr, cc, v).map_err(err)?,
            };
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
        let rr = (n + 1) as u32;
        let mut cells: Vec<String> = vec![format!("{} {}", i.id, i.name), i.max.clone()];
        cells.extend(i.scores.iter().cloned());
        cells.extend([i.mean.clone(), i.min.clone(), i.max_score.clone(), i.stddev.clone()]);
        for (c, v) in cells.iter().enumerate() {
            match (c, v.parse::<f64>()) {
                (0, _) | (_, Err(_)) => sum.write_string(rr, c as u16, v).map_err(err)?,
                (_, Ok(x)) => sum.write_number(rr, c as u16, x).map_err(err)?,
            };
        }
    }
    let last = (r.items.len() + 3) as u32;
    sum.write_string(last, 0, format!("最终得分 {}：{}", r.final_score.as_deref().unwrap_or("—"), r.conclusion)).map_err(err)?;
    sum.autofit();
    book.save_to_buffer().map_err(err)
}
