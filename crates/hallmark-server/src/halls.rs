//! The hall registry (issue #11): every service hall a bureau evaluates, with a stable id, the
//! six-digit 行政区划代码 (GB/T 2260) of the county, city or province it belongs to, its name,
//! address and level. Imported from the bureau's spreadsheet (`hallmark hall import
//! FILE.xlsx`); assignments name a hall by its id, so five assessors never retype it.

use std::path::Path;

use calamine::{open_workbook_auto, Data, Reader};
use hallmark_sync::wire::HallV1;

/// A hall as the server keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hall {
    pub id: String,
    pub region_code: String,
    pub name: String,
    pub address: String,
    /// `province`, `city`, `county` or `township`.
    pub level: String,
}

impl Hall {
    pub fn wire(&self) -> HallV1 {
        HallV1 {
            id: self.id.clone(),
            region_code: self.region_code.clone(),
            name: self.name.clone(),
            address: self.address.clone(),
            level: self.level.clone(),
        }
    }

    /// A hall from the wire, checked as an imported row is.
    pub fn from_wire(h: &HallV1) -> Result<Hall, String> {
        check(Row {
            id: Some(h.id.clone()),
            region_code: h.region_code.clone(),
            name: h.name.clone(),
            address: h.address.clone(),
            level: h.level.clone(),
        })
    }
}

/// The first two digits of every province-level division in GB/T 2260 (including 71 台湾,
/// 81 香港, 82 澳门).
const PROVINCES: [&str; 34] = [
    "11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37", "41", "42", "43", "44", "45", "46", "50", "51", "52",
    "53", "54", "61", "62", "63", "64", "65", "71", "81", "82",
];

/// Checks a 行政区划代码 against GB/T 2260's shape and the hall's level: six digits, a
/// province that exists; a province's hall sits at `PP0000`, a city's at `PPCC00`, a county's
/// or township's anywhere below its province (a township of a city without counties, 东莞
/// 441900, has its city's code).
pub fn check_region_code(code: &str, level: &str) -> Result<(), String> {
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("region code '{code}' is not six digits (GB/T 2260, e.g. 211221 for 铁岭县)"));
    }
    if !PROVINCES.contains(&&code[..2]) {
        return Err(format!("region code '{code}': '{}' is no province of GB/T 2260 (江苏 32, 辽宁 21, …)", &code[..2]));
    }
    let ok = match level {
        "province" => code.ends_with("0000"),
        "city" => code.ends_with("00") && !code.ends_with("0000"),
        _ => !code.ends_with("0000"),
    };
    if !ok {
        let want = match level {
            "province" => "a province's code ends in 0000",
            "city" => "a city's code ends in 00 (not 0000)",
            _ => "a county's or township's code is its county's (or city's), not the province's",
        };
        return Err(format!("region code '{code}' does not fit level '{level}': {want}"));
    }
    Ok(())
}

/// One row as read, before checks.
struct Row {
    id: Option<String>,
    region_code: String,
    name: String,
    address: String,
    level: String,
}

const MAX_CHARS: usize = 200;

fn check(r: Row) -> Result<Hall, String> {
    let name = r.name.trim().to_string();
    if name.is_empty() {
        return Err("the hall's name is empty".into());
    }
    let level = hallmark_core::observation::canonical_level(&r.level)
        .ok_or_else(|| format!("level '{}' is unknown (one of 省, 市, 县, 乡镇)", r.level.trim()))?
        .to_string();
    let region_code = r.region_code.trim().to_string();
    check_region_code(&region_code, &level)?;
    for (what, v) in [("name", &name), ("address", &r.address)] {
        if v.chars().count() > MAX_CHARS {
            return Err(format!("the {what} is longer than {MAX_CHARS} characters"));
        }
    }
    let id = match r.id.map(|s| s.trim().to_string()).filter(|s| !s.is_empty()) {
        Some(id) => {
            if id.len() > 64 || !id.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c)) {
                return Err(format!("hall id '{id}' may hold only letters, digits, '-', '_' and '.' (at most 64)"));
            }
            id
        }
        // No id column: one derived from the code and the name, stable while neither changes.
        None => format!("{region_code}-{}", &hallmark_core::hex::sha256_hex(name.as_bytes())[..8]),
    };
    Ok(Hall { id, region_code, name, address: r.address.trim().to_string(), level })
}

/// The column headings a registry sheet may use (the first row that names 行政区划代码 is the
/// heading row).
const ID: &[&str] = &["编号", "大厅编号", "id", "hall id"];
const CODE: &[&str] = &["行政区划代码", "区划代码", "region code"];
const NAME: &[&str] = &["名称", "大厅名称", "服务大厅", "name"];
const ADDRESS: &[&str] = &["地址", "address"];
const LEVEL: &[&str] = &["级别", "层级", "level"];

fn text(d: &Data) -> String {
    match d {
        // A code typed as a number: 211221.0 is "211221".
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        other => other.to_string().trim().to_string(),
    }
}

/// Reads a registry spreadsheet (`.xlsx`, `.xls` or `.ods`; the first sheet). Every bad row is
/// named in one error (row numbers as the spreadsheet shows them); a file with any is refused
/// whole, so a registry is never half imported. Two rows with one id are refused too.
pub fn read_sheet(path: &Path) -> Result<Vec<Hall>, String> {
    let file = path.display();
    let mut book = open_workbook_auto(path).map_err(|e| format!("{file}: not a spreadsheet hallmark can read ({e}); save it as .xlsx"))?;
    let range = book
        .worksheet_range_at(0)
        .ok_or_else(|| format!("{file}: the workbook has no sheet"))?
        .map_err(|e| format!("{file}: the first sheet cannot be read: {e}"))?;
    let (top, _) = range.start().unwrap_or((0, 0));
    let rows: Vec<Vec<String>> = range.rows().map(|r| r.iter().map(text).collect()).collect();
    let find = |heading: &[String], names: &[&str]| heading.iter().position(|h| names.iter().any(|n| h.trim().eq_ignore_ascii_case(n)));
    let at = rows
        .iter()
        .position(|r| find(r, CODE).is_some())
        .ok_or_else(|| format!("{file}: no heading row names 行政区划代码 (the columns are 编号, 行政区划代码, 名称, 地址, 级别)"))?;
    let heading = &rows[at];
    let column = |names: &[&str], what: &str| find(heading, names).ok_or_else(|| format!("{file}: no column {what} in the heading row"));
    let (code, name, level) = (column(CODE, "行政区划代码")?, column(NAME, "名称")?, column(LEVEL, "级别")?);
    let (id, address) = (find(heading, ID), find(heading, ADDRESS));
    let cell = |r: &[String], i: usize| r.get(i).cloned().unwrap_or_default();
    let mut halls: Vec<Hall> = Vec::new();
    let mut errors = Vec::new();
    let mut seen = std::collections::HashMap::new();
    for (i, r) in rows.iter().enumerate().skip(at + 1) {
        if r.iter().all(|c| c.is_empty()) {
            continue;
        }
        let line = top as usize + i + 1;
        let row = Row {
            id: id.map(|c| cell(r, c)),
            region_code: cell(r, code),
            name: cell(r, name),
            address: address.map(|c| cell(r, c)).unwrap_or_default(),
            level: cell(r, level),
        };
        match check(row) {
            Ok(h) => match seen.insert(h.id.clone(), line) {
                Some(first) => errors.push(format!("row {line}: hall id '{}' is also on row {first} (each hall once)", h.id)),
                None => halls.push(h),
            },
            Err(e) => errors.push(format!("row {line}: {e}")),
        }
    }
    if !errors.is_empty() {
        let more = if errors.len() > 20 { format!("\n… and {} more", errors.len() - 20) } else { String::new() };
        errors.truncate(20);
        return Err(format!("{file}: nothing imported, fix these rows:\n{}{more}", errors.join("\n")));
    }
    if halls.is_empty() {
        return Err(format!("{file}: no hall below the heading row"));
    }
    Ok(halls)
}

/// The heading a registry sheet is written with (and read back by [`read_sheet`]).
pub const HEADING: [&str; 5] = ["编号", "行政区划代码", "名称", "地址", "级别"];

/// Writes a registry sheet: the heading, then one row per entry (as given: the demo's and the
/// tests' sheets, bad rows included, are written with it).
pub fn write_sheet(path: &Path, rows: &[[&str; 5]]) -> Result<(), String> {
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    let bold = rust_xlsxwriter::Format::new().set_bold();
    let err = |e: rust_xlsxwriter::XlsxError| format!("{}: cannot write: {e}", path.display());
    for (c, h) in HEADING.iter().enumerate() {
        sheet.write_string_with_format(0, c as u16, *h, &bold).map_err(err)?;
    }
    for (r, row) in rows.iter().enumerate() {
        for (c, v) in row.iter().enumerate() {
            sheet.write_string(r as u32 + 1, c as u16, *v).map_err(err)?;
        }
    }
    sheet.set_column_width(2, 40).map_err(err)?;
    sheet.set_column_width(3, 50).map_err(err)?;
    book.save(path).map_err(err)
}

/// The demo's registry (`hallmark demo` writes it as `sync/halls.xlsx`): the Liaoning demo
/// panel's hall and the Jiangsu demo station, with their neighbours.
pub const DEMO_HALLS: [[&str; 5]; 6] = [
    ["LN-210000-01", "210000", "辽宁省医疗保障事务服务中心", "辽宁省沈阳市和平区和平北大街28号", "省"],
    ["LN-211200-01", "211200", "铁岭市医疗保障事务服务中心", "辽宁省铁岭市银州区广裕街32号", "市"],
    ["LN-211221-01", "211221", "铁岭县医疗保障事务服务中心", "辽宁省铁岭市铁岭县政务服务中心一楼医保服务大厅", "县"],
    ["LN-211282-01", "211282", "开原市医疗保障事务服务中心", "辽宁省铁岭市开原市新城街道政务服务中心二楼", "县"],
    ["JS-320115-01", "320115", "南京市江宁区秣陵街道医保服务站（演示）", "南京市江宁区秣陵街道胜太路88号", "乡镇"],
    ["JS-320115-02", "320115", "南京市江宁区东山街道医保服务站", "南京市江宁区东山街道上元大街412号", "乡镇"],
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn region_codes_by_level() {
        let cases = [
            ("211221", "county", true),
            ("211221", "township", true),
            ("210000", "province", true),
            ("211200", "city", true),
            ("441900", "township", true), // 东莞: townships under a city without counties
            ("210000", "county", false),
            ("211221", "city", false),
            ("211200", "province", false),
            ("21122", "county", false),
            ("2112211", "county", false),
            ("21122a", "county", false),
            ("991221", "county", false),
            ("001221", "county", false),
        ];
        for (code, level, ok) in cases {
            assert_eq!(check_region_code(code, level).is_ok(), ok, "{code} as {level}: {:?}", check_region_code(code, level));
        }
    }

    #[test]
    fn a_hall_without_an_id_gets_one_from_code_and_name() {
        let row =
            || Row {
                id: None, region_code: "211221".into(), name: "铁岭县医疗保障事务服务中心".into(), address: String::new(), level: "县".into()
            };
        let a = check(row()).unwrap();
        assert!(a.id.starts_with("211221-") && a.id.len() == 15, "{}", a.id);
        assert_eq!(a, check(row()).unwrap(), "the same row gives the same id");
        assert_eq!(a.level, "county");
    }
}
