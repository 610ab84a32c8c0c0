//! Observations: one assessor's typed answers for one site, read against a rubric.
//!
//! Parsing is strict: an unknown input, a wrong type, a negative count, a reading without a
//! unit or outside the input's valid range is refused with a message that names the input and
//! the fix. Absent inputs are simply unanswered.

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::Serialize;
use serde_json::Value;

use crate::num::{fmt, parse_decimal};
use crate::rubric::{Input, InputKind, Rubric};

pub const FORMAT: &str = "hallmark-observations/1";

/// The largest observation file read (16 MiB; a complete Liaoning sheet is about 3 KB).
pub const MAX_FILE_BYTES: usize = 16 << 20;

/// The refusal for a file over [`MAX_FILE_BYTES`].
pub fn too_big(bytes: usize) -> String {
    format!("is {bytes} bytes, more than the 16 MiB an observation file may hold (is it the right file?)")
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Observations {
    pub rubric: String,
    pub rubric_version: Option<String>,
    pub site: Site,
    pub assessor: Assessor,
    pub visited_on: Option<String>,
    pub answers: BTreeMap<String, Answer>,
    pub veto: BTreeMap<String, bool>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Site {
    pub name: Option<String>,
    pub address: Option<String>,
    pub level: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Assessor {
    pub name: Option<String>,
    pub unit: Option<String>,
    pub title: Option<String>,
    pub phone: Option<String>,
}

/// A typed answer. Measurements are already checked against their unit and valid range.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Answer {
    YesNo {
        value: bool,
    },
    Count {
        value: u64,
    },
    Elements {
        missing: BTreeSet<String>,
    },
    Windows {
        windows: Vec<Window>,
    },
    Measurement {
        value: Decimal,
    },
    Ratio {
        percent: Decimal,
        numerator: Option<u64>,
        denominator: Option<u64>,
    },
    Choice {
        value: String,
    },
    /// `rows` are the filled rows (matter named, standard and actual time entered): only they
    /// score. Under a rubric with `sample_size`, `unfilled` counts the rows not yet filled (a
    /// row just added) and `fewer_reason` is why the sample is smaller than the rubric asks;
    /// under one without it, every row must be filled and both stay empty.
    TimeSample {
        rows: Vec<TimeRow>,
        unfilled: usize,
        fewer_reason: Option<String>,
    },
    /// Dated entries, in the order written (issue #13).
    DatedList {
        entries: Vec<DatedEntry>,
    },
    /// Cases with the day their materials were complete and the day they were submitted
    /// (`None`: not yet), in the order written (issue #13).
    CaseDates {
        cases: Vec<CaseEntry>,
    },
}

/// One entry of a `dated_list`: "2026-03-05 医保政策培训".
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DatedEntry {
    pub date: NaiveDate,
    pub title: String,
}

/// One case of a `case_dates` input.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CaseEntry {
    pub case: String,
    pub complete: NaiveDate,
    pub submitted: Option<NaiveDate>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Window {
    pub window: String,
    pub missing: BTreeSet<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TimeRow {
    pub matter: String,
    pub unit: String,
    pub standard: Decimal,
    pub actual: Decimal,
}

/// Why an observation file was refused; one line per problem.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", .problems.join("\n"))]
pub struct ObservationError {
    pub problems: Vec<String>,
}

/// Reads an observation file's JSON text against `rubric`. `name` is used in messages.
pub fn parse(name: &str, text: &str, rubric: &Rubric) -> Result<Observations, ObservationError> {
    let fail = |m: String| ObservationError { problems: vec![format!("{name}: {m}")] };
    if text.len() > MAX_FILE_BYTES {
        return Err(fail(too_big(text.len())));
    }
    let root: Value = crate::json::parse_strict(text).map_err(fail)?;
    let obj = root.as_object().ok_or_else(|| fail("the file must hold one JSON object (see docs/observations.md)".into()))?;
    let mut problems = Vec::new();
    let mut say = |m: String| problems.push(format!("{name}: {m}"));

    const KNOWN: [&str; 8] = ["format", "rubric", "rubric_version", "site", "assessor", "visited_on", "answers", "veto"];
    for k in obj.keys() {
        if !KNOWN.contains(&k.as_str()) {
            say(format!("unknown field '{k}' (fields are: {})", KNOWN.join(", ")));
        }
    }
    match obj.get("format").and_then(Value::as_str) {
        Some(FORMAT) => {}
        Some(other) => say(format!("format '{other}' is not supported (write \"format\": \"{FORMAT}\")")),
        None => say(format!("missing \"format\" (write \"format\": \"{FORMAT}\")")),
    }
    let rubric_id = obj.get("rubric").and_then(Value::as_str).unwrap_or_default().to_string();
    if rubric_id.is_empty() {
        say(format!("missing \"rubric\" (write \"rubric\": \"{}\")", rubric.id));
    } else if rubric_id != rubric.id {
        say(format!("the file is for rubric '{rubric_id}' but is being scored with '{}' (pass --rubric {rubric_id})", rubric.id));
    }
    let rubric_version = obj.get("rubric_version").map(|v| match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    });
    if let Some(v) = &rubric_version {
        if v != &rubric.version {
            say(format!(
                "the file was recorded against rubric '{}' version '{v}', but version '{}' is loaded (score it with the rubric version it was recorded with)",
                rubric.id, rubric.version
            ));
        }
    }
    let text_field = |o: Option<&Value>, key: &str| o.and_then(|s| s.get(key)).and_then(Value::as_str).map(str::to_string);
    let site_v = obj.get("site");
    let level = text_field(site_v, "level");
    let site = Site {
        name: text_field(site_v, "name"),
        address: text_field(site_v, "address"),
        level: match level.as_deref() {
            None => None,
            Some(l) => match canonical_level(l) {
                Some(c) => Some(c.to_string()),
                None => {
                    say(format!("site level '{l}' is unknown (one of: province 省, city 市, county 县, township 乡镇)"));
                    None
                }
            },
        },
    };
    let a = obj.get("assessor");
    let assessor =
        Assessor { name: text_field(a, "name"), unit: text_field(a, "unit"), title: text_field(a, "title"), phone: text_field(a, "phone") };
    let visited_on = obj.get("visited_on").and_then(Value::as_str).map(str::to_string);
    if let Some(d) = &visited_on {
        if let Err(why) = crate::date::parse_date(d) {
            say(format!("visited_on {why}"));
        }
    }

    let mut answers = BTreeMap::new();
    match obj.get("answers") {
        None => say("missing \"answers\" (an object of input id → value; may be empty)".into()),
        Some(Value::Object(map)) => {
            for (id, value) in map {
                match rubric.input(id) {
                    None => say(format!(
                        "unknown input '{id}'{} (the inputs of '{}' are listed by `hallmark rubric show {}`)",
                        suggest(id, rubric.inputs().map(|(_, i)| i.id.as_str())),
                        rubric.id,
                        rubric.id
                    )),
                    Some((_, input)) => match parse_answer(input, value) {
                        Ok(Some(a)) => {
                            answers.insert(id.clone(), a);
                        }
                        Ok(None) => {} // explicit null: unanswered
                        Err(m) => say(format!("input '{id}': {m}")),
                    },
                }
            }
        }
        Some(_) => say("\"answers\" must be an object of input id → value".into()),
    }
    // An unanswered input that defaults from the site's level takes it from there.
    if let Some(level) = &site.level {
        for (_, input) in rubric.inputs() {
            if input.default_from.as_deref() == Some("site.level") && !answers.contains_key(&input.id) {
                match parse_answer(input, &Value::String(level.clone())) {
                    Ok(Some(a)) => {
                        answers.insert(input.id.clone(), a);
                    }
                    Ok(None) => {}
                    Err(m) => say(format!("input '{}' (from site level): {m}", input.id)),
                }
            }
        }
    }
    let mut veto = BTreeMap::new();
    match obj.get("veto") {
        None | Some(Value::Null) => {}
        Some(Value::Object(map)) => {
            for (id, v) in map {
                if !rubric.veto.iter().any(|x| &x.id == id) {
                    let ids: Vec<_> = rubric.veto.iter().map(|v| v.id.as_str()).collect();
                    say(format!("unknown veto '{id}' (vetoes of '{}': {})", rubric.id, ids.join(", ")));
                } else if let Some(b) = v.as_bool() {
                    veto.insert(id.clone(), b);
                } else if !v.is_null() {
                    say(format!("veto '{id}': {} is not true/false", v));
                }
            }
        }
        Some(_) => say("\"veto\" must be an object of veto id → true/false".into()),
    }
    if !problems.is_empty() {
        return Err(ObservationError { problems });
    }
    Ok(Observations { rubric: rubric_id, rubric_version, site, assessor, visited_on, answers, veto })
}

pub fn canonical_level(l: &str) -> Option<&'static str> {
    Some(match l.trim() {
        "province" | "省" | "省级" => "province",
        "city" | "市" | "市级" => "city",
        "county" | "县" | "县级" | "区" | "县（区）级" => "county",
        "township" | "乡镇" | "乡镇（街道）" | "街道" => "township",
        _ => return None,
    })
}

/// A near input id, for "did you mean" hints.
fn suggest<'a>(id: &str, candidates: impl Iterator<Item = &'a str>) -> String {
    let best = candidates.map(|c| (edit_distance(id, c), c)).filter(|(d, c)| *d <= 3.max(c.len() / 4)).min();
    match best {
        Some((_, c)) => format!(" (did you mean '{c}'?)"),
        None => String::new(),
    }
}

fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + usize::from(ca != cb)).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

fn number(v: &Value) -> Option<Decimal> {
    match v {
        Value::Number(n) => parse_decimal(&n.to_string()),
        Value::String(s) => parse_decimal(s),
        _ => None,
    }
}

fn whole(v: &Value, what: &str) -> Result<u64, String> {
    match v {
        Value::Number(n) => {
            let d = parse_decimal(&n.to_string()).ok_or_else(|| format!("{what} {n} is not a number"))?;
            if d < Decimal::ZERO {
                return Err(format!("{what} {n} is negative (a count starts at 0)"));
            }
            if d.fract() != Decimal::ZERO {
                return Err(format!("{what} {n} is not a whole number (count whole occurrences)"));
            }
            u64::try_from(d).map_err(|_| format!("{what} {n} is too large"))
        }
        other => Err(format!("{what} {other} is not a whole number (write e.g. 2)")),
    }
}

/// Canonical unit for a unit the inspector may write.
pub fn canonical_unit(u: &str) -> &str {
    match u.trim() {
        "℃" | "°C" | "ºC" | "C" | "摄氏度" => "℃",
        "%" | "%RH" | "％" | "RH%" => "%",
        "m²" | "m2" | "㎡" | "平方米" | "sqm" => "m²",
        "lx" | "lux" | "勒克斯" => "lx",
        "min" | "分钟" | "minutes" | "分" => "min",
        other => other,
    }
}

fn names(list: &Value, input: &Input, what: &str) -> Result<BTreeSet<String>, String> {
    let arr = list.as_array().ok_or_else(|| format!("\"{what}\" must be a list of element names"))?;
    let mut out = BTreeSet::new();
    for v in arr {
        let n = v.as_str().ok_or_else(|| format!("\"{what}\" holds {v}, which is not a name"))?;
        if !input.elements.iter().any(|e| e == n) {
            return Err(format!("'{n}' is not an element of this input (elements: {})", input.elements.join("、")));
        }
        if !out.insert(n.to_string()) {
            return Err(format!("'{n}' is listed twice"));
        }
    }
    Ok(out)
}

/// missing set from {"missing": [...]} or {"present": [...]}
fn missing_of(obj: &serde_json::Map<String, Value>, input: &Input) -> Result<BTreeSet<String>, String> {
    match (obj.get("missing"), obj.get("present")) {
        (Some(m), None) => names(m, input, "missing"),
        (None, Some(p)) => {
            let present = names(p, input, "present")?;
            Ok(input.elements.iter().filter(|e| !present.contains(*e)).cloned().collect())
        }
        (Some(_), Some(_)) => Err("give either \"missing\" or \"present\", not both".into()),
        (None, None) => Err("write {\"missing\": [...]} or {\"present\": [...]} (an empty list is fine)".into()),
    }
}

/// Checks one answer value against its input (kind, unit, range, element names).
/// `Ok(None)` for JSON null (unanswered); `Err` is the message without the input id.
pub fn parse_answer(input: &Input, v: &Value) -> Result<Option<Answer>, String> {
    if v.is_null() {
        return Ok(None);
    }
    Ok(Some(match input.kind {
        InputKind::YesNo => match v {
            Value::Bool(b) => Answer::YesNo { value: *b },
            other => return Err(format!("{other} is not true/false (this is a yes/no item)")),
        },
        InputKind::Count | InputKind::Tally => {
            let n = whole(v, "count")?;
            if let Some(max) = input.max {
                if Decimal::from(n) > max.0 {
                    return Err(format!("count {n} is above the most possible, {max} (check the tally)"));
                }
            }
            Answer::Count { value: n }
        }
        InputKind::Elements => {
            let obj = v.as_object().ok_or_else(|| format!("{v} is not an object; write {{\"missing\": [...]}} or {{\"present\": [...]}}"))?;
            reject_extra(obj, &["missing", "present"])?;
            Answer::Elements { missing: missing_of(obj, input)? }
        }
        InputKind::WindowEquipment => {
            let obj = v
                .as_object()
                .ok_or_else(|| format!("{v} is not an object; write {{\"windows\": [{{\"window\": \"1号窗口\", \"missing\": []}}]}}"))?;
            reject_extra(obj, &["windows"])?;
            let arr = obj.get("windows").and_then(Value::as_array).ok_or("write \"windows\": [{\"window\": \"1号窗口\", \"missing\": [...]}]")?;
            if arr.is_empty() {
                return Err("\"windows\" is empty (list every service window, even one with nothing missing)".into());
            }
            let mut windows = Vec::new();
            let mut labels = BTreeSet::new();
            for (n, w) in arr.iter().enumerate() {
                let wo = w.as_object().ok_or_else(|| format!("window {} is not an object", n + 1))?;
                reject_extra(wo, &["window", "missing", "present"])?;
                let label = wo.get("window").and_then(Value::as_str).map(str::to_string).unwrap_or_else(|| format!("{}号窗口", n + 1));
                if !labels.insert(label.clone()) {
                    return Err(format!("window '{label}' is listed twice (give each window its own label)"));
                }
                let missing = missing_of(wo, input).map_err(|e| format!("window '{label}': {e}"))?;
                windows.push(Window { window: label, missing });
            }
            Answer::Windows { windows }
        }
        InputKind::Measurement => {
            let unit = input.unit.as_deref().unwrap_or("");
            let obj = match v {
                Value::Object(o) => o,
                Value::Number(_) | Value::String(_) => {
                    return Err(format!("reading {v} has no unit (write {{\"value\": {v}, \"unit\": \"{unit}\"}})"))
                }
                other => return Err(format!("{other} is not a reading (write {{\"value\": 1, \"unit\": \"{unit}\"}})")),
            };
            reject_extra(obj, &["value", "unit", "instrument", "read_at", "note"])?;
            let raw = obj.get("value").ok_or_else(|| format!("reading has no \"value\" (write {{\"value\": 1, \"unit\": \"{unit}\"}})"))?;
            let value = number(raw).ok_or_else(|| format!("reading value {raw} is not a number"))?;
            let given = match obj.get("unit").and_then(Value::as_str) {
                Some(u) => u,
                None => return Err(format!("reading {} has no unit (write {{\"value\": {}, \"unit\": \"{unit}\"}})", fmt(value), fmt(value))),
            };
            if canonical_unit(given) != canonical_unit(unit) {
                return Err(format!("unit '{given}' is not '{unit}' (convert the reading to {unit})"));
            }
            let (lo, hi) = (input.min.map(|m| m.0), input.max.map(|m| m.0));
            if lo.is_some_and(|lo| value < lo) || hi.is_some_and(|hi| value > hi) {
                return Err(format!(
                    "{} {unit} is outside the valid range {}–{} {unit} (re-check the reading and the instrument)",
                    fmt(value),
                    lo.map(fmt).unwrap_or_default(),
                    hi.map(fmt).unwrap_or_default()
                ));
            }
            Answer::Measurement { value }
        }
        InputKind::Ratio => {
            let obj = v
                .as_object()
                .ok_or_else(|| format!("{v} is not a ratio; write {{\"numerator\": 98, \"denominator\": 100}} or {{\"percent\": 98}}"))?;
            reject_extra(obj, &["numerator", "denominator", "percent"])?;
            match (obj.get("numerator"), obj.get("denominator"), obj.get("percent")) {
                (Some(n), Some(d), None) => {
                    let n = whole(n, "numerator")?;
                    let d = whole(d, "denominator")?;
                    if d == 0 {
                        return Err("denominator is 0 (with no cases there is no rate; record the rate the records state as {\"percent\": …})".into());
                    }
                    if n > d {
                        return Err(format!("numerator {n} is above denominator {d} (a rate cannot exceed 100 %)"));
                    }
                    let percent = Decimal::from(n) * Decimal::ONE_HUNDRED / Decimal::from(d);
                    Answer::Ratio { percent, numerator: Some(n), denominator: Some(d) }
                }
                (None, None, Some(p)) => {
                    let p = number(p).ok_or_else(|| format!("percent {p} is not a number"))?;
                    if p < Decimal::ZERO || p > Decimal::ONE_HUNDRED {
                        return Err(format!("percent {} is outside 0–100", fmt(p)));
                    }
                    Answer::Ratio { percent: p, numerator: None, denominator: None }
                }
                _ => return Err("write either numerator and denominator, or percent".into()),
            }
        }
        InputKind::Choice => {
            let s = v.as_str().ok_or_else(|| format!("{v} is not an option id"))?;
            let s = if input.options.iter().any(|o| o.id == s) {
                s.to_string()
            } else if let Some(o) = input.options.iter().find(|o| o.label == s) {
                o.id.clone()
            } else if let Some(c) = canonical_level(s).filter(|c| input.options.iter().any(|o| o.id == *c)) {
                c.to_string()
            } else {
                let ids: Vec<_> = input.options.iter().map(|o| format!("{} ({})", o.id, o.label)).collect();
                return Err(format!("'{s}' is not an option (options: {})", ids.join(", ")));
            };
            Answer::Choice { value: s }
        }
        InputKind::TimeSample => time_sample(input, v)?,
        InputKind::DatedList => dated_list(v)?,
        InputKind::CaseDates => case_dates(v)?,
    }))
}

/// The most rows a `dated_list` or `case_dates` answer holds (a year of weekly trainings is 52).
pub const MAX_DATED_ROWS: usize = 1000;

/// The longest title or case name kept (characters).
pub const MAX_TITLE_CHARS: usize = 200;

fn rows_of<'a>(v: &'a Value, shape: &str) -> Result<&'a Vec<Value>, String> {
    let arr = v.as_array().ok_or_else(|| format!("write a list of rows {shape} (an empty list is fine)"))?;
    if arr.len() > MAX_DATED_ROWS {
        return Err(format!("{} rows are more than the {MAX_DATED_ROWS} an answer may hold", arr.len()));
    }
    Ok(arr)
}

fn row_text(o: &serde_json::Map<String, Value>, key: &str, at: &str) -> Result<String, String> {
    let t = match o.get(key) {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(t)) => t.trim().to_string(),
        Some(other) => return Err(format!("{at}: {key} {other} is not text")),
    };
    if t.chars().count() > MAX_TITLE_CHARS {
        return Err(format!("{at}: {key} is longer than {MAX_TITLE_CHARS} characters (say it briefly)"));
    }
    Ok(t)
}

/// The days a row may name (a typo like 9026 is refused, and the working-day count stays short).
const ROW_DAYS: (&str, &str) = ("1990-01-01", "2099-12-31");

fn row_date(o: &serde_json::Map<String, Value>, key: &str, at: &str, example: &str) -> Result<Option<NaiveDate>, String> {
    match o.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(d)) => {
            let day = crate::date::parse_date(d).map_err(|why| format!("{at}: {key} {why}"))?;
            if d.as_str() < ROW_DAYS.0 || d.as_str() > ROW_DAYS.1 {
                return Err(format!("{at}: {key} {d} is outside {}–{} (a typo in the year?)", ROW_DAYS.0, ROW_DAYS.1));
            }
            Ok(Some(day))
        }
        Some(other) => Err(format!("{at}: {key} {other} is not a date (write \"{key}\": \"{example}\")")),
    }
}

/// `[{"date": "2026-03-05", "title": "医保政策培训"}]`: every row dated.
fn dated_list(v: &Value) -> Result<Answer, String> {
    let shape = "[{\"date\": \"2026-03-05\", \"title\": \"医保政策培训\"}]";
    let mut entries = Vec::new();
    for (n, r) in rows_of(v, shape)?.iter().enumerate() {
        let at = format!("row {}", n + 1);
        let o = r.as_object().ok_or_else(|| format!("{at} is not an object (write {shape})"))?;
        reject_extra(o, &["date", "title"]).map_err(|e| format!("{at}: {e}"))?;
        let date = row_date(o, "date", &at, "2026-03-05")?.ok_or_else(|| format!("{at} has no date (write \"date\": \"2026-03-05\")"))?;
        entries.push(DatedEntry { date, title: row_text(o, "title", &at)? });
    }
    Ok(Answer::DatedList { entries })
}

/// `[{"case": "…", "complete": "2026-11-02", "submitted": "2026-11-04"}]`; `submitted`
/// absent or null while the case waits.
fn case_dates(v: &Value) -> Result<Answer, String> {
    let shape = "[{\"case\": \"异地就医备案\", \"complete\": \"2026-11-02\", \"submitted\": \"2026-11-04\"}]";
    let mut cases = Vec::new();
    for (n, r) in rows_of(v, shape)?.iter().enumerate() {
        let at = format!("row {}", n + 1);
        let o = r.as_object().ok_or_else(|| format!("{at} is not an object (write {shape})"))?;
        reject_extra(o, &["case", "complete", "submitted"]).map_err(|e| format!("{at}: {e}"))?;
        let complete = row_date(o, "complete", &at, "2026-11-02")?
            .ok_or_else(|| format!("{at} has no complete date, the day its materials were complete (write \"complete\": \"2026-11-02\")"))?;
        let submitted = row_date(o, "submitted", &at, "2026-11-04")?;
        if let Some(s) = submitted.filter(|s| *s < complete) {
            return Err(format!("{at}: submitted {s} is before the materials were complete on {complete} (check the two dates)"));
        }
        cases.push(CaseEntry { case: row_text(o, "case", &at)?, complete, submitted });
    }
    Ok(Answer::CaseDates { cases })
}

/// The longest reason for a smaller sample kept (characters); longer is refused.
pub const MAX_REASON_CHARS: usize = 500;

/// A time sample: a list of rows, or (under a rubric with `sample_size`) an object
/// `{"rows": [...], "fewer_reason": "…"}`. Under `sample_size` a row left unfilled (no matter,
/// or a time not entered) is kept aside, not refused: it does not score.
fn time_sample(input: &Input, v: &Value) -> Result<Answer, String> {
    let sized = input.sample_size.is_some();
    let row_shape = "[{\"matter\": …, \"unit\": \"工作日\", \"standard\": 5, \"actual\": 6}]";
    let (arr, fewer_reason) = match v {
        Value::Array(a) => (a, None),
        Value::Object(o) if sized => {
            reject_extra(o, &["rows", "fewer_reason"])?;
            let rows = o.get("rows").and_then(Value::as_array).ok_or_else(|| format!("write \"rows\": {row_shape}"))?;
            let reason = match o.get("fewer_reason") {
                None | Some(Value::Null) => None,
                Some(Value::String(r)) => Some(r.trim().to_string()).filter(|r| !r.is_empty()),
                Some(other) => return Err(format!("fewer_reason {other} is not text (write why fewer rows exist, e.g. \"本期仅受理32件\")")),
            };
            if reason.as_ref().is_some_and(|r| r.chars().count() > MAX_REASON_CHARS) {
                return Err(format!("fewer_reason is longer than {MAX_REASON_CHARS} characters (say it briefly)"));
            }
            (rows, reason)
        }
        Value::Object(_) => return Err(format!("this rubric version takes a list of rows, without a reason (write {row_shape})")),
        _ => return Err(format!("write a list of rows {row_shape}")),
    };
    let mut rows = Vec::new();
    let mut unfilled = 0;
    for (n, r) in arr.iter().enumerate() {
        let at = format!("row {}", n + 1);
        let o = r.as_object().ok_or_else(|| format!("{at} is not an object"))?;
        reject_extra(o, &["matter", "unit", "standard", "actual", "note"]).map_err(|e| format!("{at}: {e}"))?;
        let matter = o.get("matter").and_then(Value::as_str).unwrap_or("").to_string();
        let unit = match o.get("unit").and_then(Value::as_str) {
            Some(u) if input.units.iter().any(|x| x == u) => Some(u),
            Some(u) => return Err(format!("{at}: unit '{u}' is not one of {}", input.units.join(", "))),
            None if sized => None,
            None => return Err(format!("{at} has no unit (one of: {})", input.units.join(", "))),
        };
        let get = |k: &str| -> Result<Option<Decimal>, String> {
            let raw = match o.get(k) {
                None | Some(Value::Null) if sized => return Ok(None),
                None => return Err(format!("{at} has no \"{k}\"")),
                Some(raw) => raw,
            };
            if sized && raw.as_str().is_some_and(|s| s.trim().is_empty()) {
                return Ok(None);
            }
            let d = number(raw).ok_or_else(|| format!("{at}: {k} {raw} is not a number"))?;
            if d < Decimal::ZERO {
                return Err(format!("{at}: {k} {} is negative", fmt(d)));
            }
            Ok(Some(d))
        };
        let (standard, actual) = (get("standard")?, get("actual")?);
        match (unit, standard, actual) {
            (Some(unit), Some(standard), Some(actual)) if !sized || !matter.trim().is_empty() => {
                rows.push(TimeRow { matter, unit: unit.to_string(), standard, actual })
            }
            _ => unfilled += 1,
        }
    }
    Ok(Answer::TimeSample { rows, unfilled, fewer_reason })
}

fn reject_extra(obj: &serde_json::Map<String, Value>, allowed: &[&str]) -> Result<(), String> {
    match obj.keys().find(|k| !allowed.contains(&k.as_str())) {
        Some(k) => Err(format!("unknown key '{k}' (allowed: {})", allowed.join(", "))),
        None => Ok(()),
    }
}
