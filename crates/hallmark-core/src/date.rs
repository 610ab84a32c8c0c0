//! Calendar dates and event times, the one parser for both (chrono's calendar, so
//! `2026-02-31` is refused), and the window a tablet's date must fall in ([`tablet_day`]).
//! Parsing only: nothing here reads the clock.

/// Re-exported so the store and the report name a day without depending on chrono.
pub use chrono::NaiveDate;

/// A visit date as hallmark writes it: `YYYY-MM-DD`, a real calendar day.
pub fn parse_date(s: &str) -> Result<NaiveDate, String> {
    date(s).map_err(|why| format!("'{s}' {}", why.sentence("date")))
}

/// Why a `YYYY-MM-DD` string is not a date.
enum NotADate {
    /// Not of the form at all.
    Form,
    /// Of the form, but no such day: "there is no month 13", "2026-02 has 28 days".
    Calendar(String),
}

impl NotADate {
    /// "is not a date: 2026-02 has 28 days", with `noun` for "date".
    fn sentence(&self, noun: &str) -> String {
        match self {
            NotADate::Form => format!("is not a {noun} (write YYYY-MM-DD, e.g. \"2026-11-20\")"),
            NotADate::Calendar(why) => format!("is not a {noun}: {why}"),
        }
    }
}

fn date(s: &str) -> Result<NaiveDate, NotADate> {
    let b = s.as_bytes();
    let digits = |r: std::ops::Range<usize>| b[r].iter().all(u8::is_ascii_digit);
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' || !digits(0..4) || !digits(5..7) || !digits(8..10) {
        return Err(NotADate::Form);
    }
    let num = |r: std::ops::Range<usize>| s[r].parse::<u32>().expect("digits checked");
    let (year, month, day) = (num(0..4) as i32, num(5..7), num(8..10));
    if !(1..=12).contains(&month) {
        return Err(NotADate::Calendar(format!("there is no month {month} (write YYYY-MM-DD, e.g. \"2026-11-20\")")));
    }
    NaiveDate::from_ymd_opt(year, month, day).ok_or_else(|| {
        let last = (28..=31).rev().find(|d| NaiveDate::from_ymd_opt(year, month, *d).is_some()).unwrap_or(28);
        NotADate::Calendar(format!("{year}-{month:02} has {last} days"))
    })
}

/// True for a real `YYYY-MM-DD` calendar date.
pub fn is_iso_date(s: &str) -> bool {
    parse_date(s).is_ok()
}

/// The earliest day hallmark accepts from a tablet. The rubrics carry no effective date
/// (docs/rubric-format.md); every rubric hallmark knows dates from after 2020 (Jiangsu's
/// 15-minute circle, Liaoning DB21/T …—2025), so no real inspection is earlier. A clock that
/// reset to 1970 (or 1969, a time zone west of UTC) is caught here.
pub const EARLIEST: &str = "2020-01-01";
/// The latest day hallmark accepts from a tablet: no tablet in service reads a later year.
pub const LATEST: &str = "2099-12-31";
/// How far after a reference time (the lead's import time, the tablet's today for a typed
/// date) a tablet's date may be: time zones and a clock a little fast, not more.
pub const TOLERANCE_DAYS: i64 = 2;

/// Why a date from a tablet is not taken at face value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DateProblem {
    /// Not a date or time as hallmark writes them, or not a calendar day (`2026-02-31`): no
    /// clock writes it. The message says which.
    Malformed(String),
    /// Before [`EARLIEST`].
    BeforeEarliest,
    /// After [`LATEST`].
    AfterLatest,
    /// More than [`TOLERANCE_DAYS`] after the reference day.
    AfterReference(NaiveDate),
}

impl DateProblem {
    /// What is wrong, as the rest of a sentence that names the value: "is before 2020-01-01, …".
    pub fn why(&self) -> String {
        match self {
            DateProblem::Malformed(m) => m.clone(),
            DateProblem::BeforeEarliest => format!("is before {EARLIEST}, the earliest date hallmark accepts"),
            DateProblem::AfterLatest => format!("is after {LATEST}, the latest date hallmark accepts"),
            DateProblem::AfterReference(r) => format!("is more than {TOLERANCE_DAYS} days after {r}"),
        }
    }
}

/// The calendar day of a date (`YYYY-MM-DD`) or an RFC 3339 UTC time as hallmark writes it.
/// The error is the rest of a sentence that names the value: "is not a time: 2026-02 has 28 days".
pub fn day_of(s: &str) -> Result<NaiveDate, String> {
    if s.len() == 10 {
        return date(s).map_err(|why| why.sentence("date"));
    }
    match s.get(..10).map(date) {
        // A calendar problem says which; any other shape, the form to write.
        Some(Err(why @ NotADate::Calendar(_))) => Err(why.sentence("time")),
        Some(Ok(day)) if is_timestamp(s) => Ok(day),
        _ => Err("is not a time (write RFC 3339 UTC, e.g. \"2026-11-20T09:30:00Z\")".into()),
    }
}

/// A day from a tablet's clock or typed on a tablet, if plausible: a real calendar day (see
/// [`day_of`]), from [`EARLIEST`] to [`LATEST`], and when `reference` is given no more than
/// [`TOLERANCE_DAYS`] after it (checked before [`LATEST`]: the more telling problem). Pure: the reference is passed in, the clock never read.
pub fn tablet_day(s: &str, reference: Option<NaiveDate>) -> Result<NaiveDate, DateProblem> {
    let day = day_of(s).map_err(DateProblem::Malformed)?;
    let bound = |b: &str| parse_date(b).expect("a calendar day");
    if day < bound(EARLIEST) {
        return Err(DateProblem::BeforeEarliest);
    }
    match reference {
        // The reference first: "after the import time" says more than "after 2099".
        Some(r) if (day - r).num_days() > TOLERANCE_DAYS => Err(DateProblem::AfterReference(r)),
        _ if day > bound(LATEST) => Err(DateProblem::AfterLatest),
        _ => Ok(day),
    }
}

/// True for an RFC 3339 UTC time as hallmark writes it: `YYYY-MM-DDTHH:MM:SS[.fff…]Z`, on a
/// real calendar day, hours 00–23, minutes and seconds 00–59.
pub fn is_timestamp(t: &str) -> bool {
    let Some(body) = t.strip_suffix('Z') else { return false };
    let (whole, frac) = body.split_once('.').unwrap_or((body, "0"));
    let b = whole.as_bytes();
    let two =
        |i: usize| -> Option<u32> { std::str::from_utf8(b.get(i..i + 2)?).ok()?.parse().ok().filter(|_| b[i..i + 2].iter().all(u8::is_ascii_digit)) };
    b.len() == 19
        && is_iso_date(&whole[..10])
        && b[10] == b'T'
        && b[13] == b':'
        && b[16] == b':'
        && two(11).is_some_and(|h| h < 24)
        && two(14).is_some_and(|m| m < 60)
        && two(17).is_some_and(|s| s < 60)
        && !frac.is_empty()
        && frac.len() <= 9
        && frac.bytes().all(|c| c.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_calendar_days() {
        for good in ["2026-11-20", "2024-02-29", "2026-12-31", "2026-01-01"] {
            assert!(is_iso_date(good), "{good}");
        }
        let cases = [
            ("2026-02-31", "'2026-02-31' is not a date: 2026-02 has 28 days"),
            ("2026-02-29", "'2026-02-29' is not a date: 2026-02 has 28 days"),
            ("2026-04-31", "'2026-04-31' is not a date: 2026-04 has 30 days"),
            ("2026-13-01", "'2026-13-01' is not a date: there is no month 13 (write YYYY-MM-DD, e.g. \"2026-11-20\")"),
            ("2026-11-00", "'2026-11-00' is not a date: 2026-11 has 30 days"),
            ("2026-1-20", "'2026-1-20' is not a date (write YYYY-MM-DD, e.g. \"2026-11-20\")"),
            ("20261120", "'20261120' is not a date (write YYYY-MM-DD, e.g. \"2026-11-20\")"),
            ("2026-+1-20", "'2026-+1-20' is not a date (write YYYY-MM-DD, e.g. \"2026-11-20\")"),
        ];
        for (s, message) in cases {
            assert_eq!(parse_date(s).unwrap_err(), message);
        }
    }

    #[test]
    fn tablet_days_are_calendar_days_in_the_window() {
        let day = |s: &str| parse_date(s).unwrap();
        let r = Some(day("2026-11-21"));
        for (s, reference, expected) in [
            ("2026-11-20", r, Ok(day("2026-11-20"))),
            ("2026-11-23T23:59:59.999Z", r, Ok(day("2026-11-23"))),
            ("2026-11-24T00:00:00Z", r, Err(DateProblem::AfterReference(day("2026-11-21")))),
            ("2100-02-28T10:00:00.000Z", r, Err(DateProblem::AfterReference(day("2026-11-21")))),
            ("2100-02-28T10:00:00.000Z", None, Err(DateProblem::AfterLatest)),
            ("2099-12-31T23:59:59Z", None, Ok(day("2099-12-31"))),
            ("9999-12-31", None, Err(DateProblem::AfterLatest)),
            ("2020-01-01T00:00:00Z", r, Ok(day("2020-01-01"))),
            ("2019-12-31T23:59:59Z", r, Err(DateProblem::BeforeEarliest)),
            ("1970-01-01T00:00:00Z", r, Err(DateProblem::BeforeEarliest)),
            ("1969-12-31", r, Err(DateProblem::BeforeEarliest)),
            ("2026-02-31", r, Err(DateProblem::Malformed("is not a date: 2026-02 has 28 days".into()))),
            ("2026-02-31T10:00:00Z", r, Err(DateProblem::Malformed("is not a time: 2026-02 has 28 days".into()))),
            (
                "2026-13-01T10:00:00Z",
                r,
                Err(DateProblem::Malformed("is not a time: there is no month 13 (write YYYY-MM-DD, e.g. \"2026-11-20\")".into())),
            ),
            ("2026-11-20T25:00:00Z", r, Err(DateProblem::Malformed("is not a time (write RFC 3339 UTC, e.g. \"2026-11-20T09:30:00Z\")".into()))),
            ("2026-11-20 09:00:00", r, Err(DateProblem::Malformed("is not a time (write RFC 3339 UTC, e.g. \"2026-11-20T09:30:00Z\")".into()))),
            ("", r, Err(DateProblem::Malformed("is not a time (write RFC 3339 UTC, e.g. \"2026-11-20T09:30:00Z\")".into()))),
            ("20261120", r, Err(DateProblem::Malformed("is not a time (write RFC 3339 UTC, e.g. \"2026-11-20T09:30:00Z\")".into()))),
            ("2026-1-200", r, Err(DateProblem::Malformed("is not a date (write YYYY-MM-DD, e.g. \"2026-11-20\")".into()))),
            ("时间时间时", r, Err(DateProblem::Malformed("is not a time (write RFC 3339 UTC, e.g. \"2026-11-20T09:30:00Z\")".into()))),
        ] {
            assert_eq!(tablet_day(s, reference), expected, "{s}");
        }
        assert_eq!(DateProblem::AfterReference(day("2026-11-21")).why(), "is more than 2 days after 2026-11-21");
    }

    #[test]
    fn timestamps_are_utc_times_on_calendar_days() {
        for good in ["2026-11-23T09:30:00Z", "2026-11-23T09:30:00.123Z", "2026-11-23T23:59:59.123456789Z"] {
            assert!(is_timestamp(good), "{good}");
        }
        for bad in [
            "2026-02-31T09:30:00Z",
            "2026-11-23T24:00:00Z",
            "2026-11-23T09:60:00Z",
            "2026-11-23T09:30:00",
            "2026-11-23T09:30:00+08:00",
            "2026-11-23T09:30:00.Z",
            "2026-11-23 09:30:00Z",
        ] {
            assert!(!is_timestamp(bad), "{bad}");
        }
    }
}
