//! Working days (issue #13): the Liaoning standard says a panel's on-site work "不宜超过3个工作
//! 日". Monday to Friday are working days except public holidays, and a weekend day made a
//! working day (调休上班) is one — both as data (`rubrics/holidays-cn.toml`, built in). Pure:
//! the calendar is passed in, no clock.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{Datelike, NaiveDate, Weekday};
use serde::Deserialize;

use crate::date::parse_date;

pub const FORMAT: &str = "hallmark-holidays/1";

/// The calendar hallmark ships (`rubrics/holidays-cn.toml`).
pub const BUILTIN: &str = include_str!("../../../rubrics/holidays-cn.toml");

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    format: String,
    #[serde(default)]
    year: Vec<Year>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Year {
    year: i32,
    source: String,
    #[serde(default)]
    holidays: Vec<String>,
    #[serde(default)]
    workdays: Vec<String>,
}

/// Public holidays and 调休 working days, by the years they cover.
#[derive(Debug, Clone, Default)]
pub struct WorkCalendar {
    holidays: BTreeSet<NaiveDate>,
    workdays: BTreeSet<NaiveDate>,
    /// Covered year → the notice it comes from.
    years: BTreeMap<i32, String>,
}

/// Working days in a span of calendar days.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Span {
    pub first: NaiveDate,
    pub last: NaiveDate,
    pub working_days: u32,
    /// Years in the span the calendar does not cover (counted by weekends alone).
    pub uncovered: Vec<i32>,
}

impl WorkCalendar {
    /// Reads a calendar file. `name` names it in messages.
    pub fn parse(name: &str, text: &str) -> Result<WorkCalendar, String> {
        let f: File = toml::from_str(text).map_err(|e| format!("{name}: not a holiday calendar: {e}"))?;
        if f.format != FORMAT {
            return Err(format!("{name}: format '{}' is not {FORMAT}", f.format));
        }
        let mut c = WorkCalendar::default();
        for y in f.year {
            if c.years.insert(y.year, y.source.clone()).is_some() {
                return Err(format!("{name}: year {} is listed twice", y.year));
            }
            for (list, set, weekend) in [(&y.holidays, &mut c.holidays, false), (&y.workdays, &mut c.workdays, true)] {
                for d in list {
                    let day = parse_date(d).map_err(|e| format!("{name}: year {}: '{d}': {e}", y.year))?;
                    if day.year() != y.year {
                        return Err(format!("{name}: '{d}' is listed under year {}", y.year));
                    }
                    if weekend && !is_weekend(day) {
                        return Err(format!("{name}: '{d}' is listed as a 调休 working day but is a weekday already"));
                    }
                    set.insert(day);
                }
            }
        }
        if let Some(d) = c.holidays.intersection(&c.workdays).next() {
            return Err(format!("{name}: '{d}' is both a holiday and a working day"));
        }
        Ok(c)
    }

    /// The built-in calendar.
    pub fn builtin() -> WorkCalendar {
        WorkCalendar::parse("rubrics/holidays-cn.toml", BUILTIN).expect("the shipped calendar parses (a test checks it)")
    }

    /// The built-in calendar, parsed once per program (scoring and the merge view read it).
    pub fn shared() -> &'static WorkCalendar {
        static CAL: std::sync::OnceLock<WorkCalendar> = std::sync::OnceLock::new();
        CAL.get_or_init(WorkCalendar::builtin)
    }

    pub fn is_working_day(&self, d: NaiveDate) -> bool {
        if self.workdays.contains(&d) {
            return true;
        }
        !is_weekend(d) && !self.holidays.contains(&d)
    }

    /// The working days from the first to the last of `days` (inclusive); `None` without days.
    pub fn span(&self, days: &[NaiveDate]) -> Option<Span> {
        let (first, last) = (*days.iter().min()?, *days.iter().max()?);
        let working_days = first.iter_days().take_while(|d| *d <= last).filter(|d| self.is_working_day(*d)).count() as u32;
        let uncovered = (first.year()..=last.year()).filter(|y| !self.years.contains_key(y)).collect();
        Some(Span { first, last, working_days, uncovered })
    }

    /// The working days after `start` up to and including `end` — how "within 3 working days
    /// of the materials being complete" counts: complete on Monday, submitted on Thursday is 3.
    /// 0 when `end` is not after `start`.
    pub fn working_days_after(&self, start: NaiveDate, end: NaiveDate) -> u32 {
        start.iter_days().skip(1).take_while(|d| *d <= end).filter(|d| self.is_working_day(*d)).count() as u32
    }

    /// Whether the calendar lists holidays for every year from `start` to `end`.
    pub fn covers(&self, start: NaiveDate, end: NaiveDate) -> bool {
        (start.year()..=end.year()).all(|y| self.years.contains_key(&y))
    }
}

fn is_weekend(d: NaiveDate) -> bool {
    matches!(d.weekday(), Weekday::Sat | Weekday::Sun)
}

/// The panel's warning when its visits spread over more working days than the rubric allows
/// (`max`): "评价工作跨4个工作日（2026-11-16至2026-11-19），标准要求不宜超过3个工作日". A span
/// in a year the calendar does not cover says it was counted by weekends alone.
pub fn spread_warning(calendar: &WorkCalendar, days: &[NaiveDate], max: u32) -> Option<String> {
    let s = calendar.span(days)?;
    if s.working_days <= max {
        return None;
    }
    let note = if s.uncovered.is_empty() {
        String::new()
    } else {
        let years: Vec<String> = s.uncovered.iter().map(|y| y.to_string()).collect();
        format!("；{}年的法定节假日未收录，仅按周末计算", years.join("、"))
    };
    Some(format!("评价工作跨{}个工作日（{}至{}），标准要求不宜超过{max}个工作日{note}", s.working_days, s.first, s.last))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        parse_date(s).unwrap()
    }

    /// (visit days, working days, warned with max 3) — the cases and the holidays.
    #[test]
    fn working_days_of_visit_spans() {
        let cal = WorkCalendar::builtin();
        let cases: [(&[&str], u32, bool); 9] = [
            // Fri, Mon, Tue: 3 working days over 5 calendar days.
            (&["2026-11-20", "2026-11-23", "2026-11-24"], 3, false),
            // Mon to Thu: 4 working days.
            (&["2026-11-16", "2026-11-19"], 4, true),
            (&["2026-11-18"], 1, false),
            // 国庆: Sep 30 (Wed) to Oct 9 (Fri) holds Sep 30, Oct 8, Oct 9 only.
            (&["2026-09-30", "2026-10-09"], 3, false),
            // ... and Oct 10 (Sat) is a 调休 working day: 4.
            (&["2026-09-30", "2026-10-10"], 4, true),
            // 春节 2026: Feb 13 (Fri), Feb 14 (Sat, 调休), Feb 24 (Tue).
            (&["2026-02-13", "2026-02-24"], 3, false),
            // 2025 国庆 through Oct 11 (Sat, 调休): Sep 30, Oct 9, 10, 11.
            (&["2025-09-30", "2025-10-11"], 4, true),
            // Order does not matter.
            (&["2026-11-24", "2026-11-20", "2026-11-23"], 3, false),
            // Weekend only.
            (&["2026-11-21", "2026-11-22"], 0, false),
        ];
        for (days, n, warned) in cases {
            let days: Vec<NaiveDate> = days.iter().map(|s| d(s)).collect();
            assert_eq!(cal.span(&days).unwrap().working_days, n, "{days:?}");
            assert_eq!(spread_warning(&cal, &days, 3).is_some(), warned, "{days:?}");
        }
        assert!(cal.span(&[]).is_none());
    }

    /// (materials complete, submitted, working days after): the start day is not counted.
    #[test]
    fn working_days_after_a_start_day() {
        let cal = WorkCalendar::builtin();
        let cases = [
            // Mon → Thu: Tue, Wed, Thu.
            ("2026-11-16", "2026-11-19", 3),
            // Mon → Fri: 4.
            ("2026-11-16", "2026-11-20", 4),
            // Fri → Wed over a weekend: Mon, Tue, Wed.
            ("2026-11-20", "2026-11-25", 3),
            // The same day, and a day before: 0.
            ("2026-11-16", "2026-11-16", 0),
            ("2026-11-16", "2026-11-15", 0),
            // Over 国庆 2026: Sep 30 (Wed) → Oct 9 (Fri): Oct 8 and 9.
            ("2026-09-30", "2026-10-09", 2),
            // Oct 10 (Sat) is a 调休 working day.
            ("2026-09-30", "2026-10-10", 3),
        ];
        for (start, end, n) in cases {
            assert_eq!(cal.working_days_after(d(start), d(end)), n, "{start} → {end}");
        }
        assert!(cal.covers(d("2026-01-05"), d("2026-12-31")));
        assert!(!cal.covers(d("2026-12-28"), d("2027-01-05")));
    }

    #[test]
    fn the_warning_says_the_span_and_an_uncovered_year() {
        let cal = WorkCalendar::builtin();
        assert_eq!(
            spread_warning(&cal, &[d("2026-11-16"), d("2026-11-19")], 3).unwrap(),
            "评价工作跨4个工作日（2026-11-16至2026-11-19），标准要求不宜超过3个工作日"
        );
        let w = spread_warning(&cal, &[d("2027-11-15"), d("2027-11-18")], 3).unwrap();
        assert!(w.ends_with("；2027年的法定节假日未收录，仅按周末计算"), "{w}");
    }

    #[test]
    fn a_bad_calendar_file_is_refused_by_name() {
        let cases = [
            ("format = \"x\"\n", "is not hallmark-holidays/1"),
            ("format = \"hallmark-holidays/1\"\n[[year]]\nyear = 2026\nsource = \"s\"\nholidays = [\"2026-02-30\"]\n", "'2026-02-30'"),
            ("format = \"hallmark-holidays/1\"\n[[year]]\nyear = 2026\nsource = \"s\"\nholidays = [\"2025-01-01\"]\n", "listed under year 2026"),
            ("format = \"hallmark-holidays/1\"\n[[year]]\nyear = 2026\nsource = \"s\"\nworkdays = [\"2026-11-16\"]\n", "is a weekday already"),
            ("format = \"hallmark-holidays/1\"\n[[year]]\nyear = 2026\nsource = \"s\"\n[[year]]\nyear = 2026\nsource = \"s\"\n", "listed twice"),
        ];
        for (text, want) in cases {
            let e = WorkCalendar::parse("h.toml", text).unwrap_err();
            assert!(e.starts_with("h.toml: ") && e.contains(want), "{e}");
        }
    }
}
