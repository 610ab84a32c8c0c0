//! Calendar dates and event times, the one parser for both (chrono's calendar, so
//! `2026-02-31` is refused). Parsing only: nothing here reads the clock.

use chrono::NaiveDate;

/// A visit date as hallmark writes it: `YYYY-MM-DD`, a real calendar day.
pub fn parse_date(s: &str) -> Result<NaiveDate, String> {
    let b = s.as_bytes();
    let digits = |r: std::ops::Range<usize>| b[r].iter().all(u8::is_ascii_digit);
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' || !digits(0..4) || !digits(5..7) || !digits(8..10) {
        return Err(format!("'{s}' is not a date (write YYYY-MM-DD, e.g. \"2026-11-20\")"));
    }
    let num = |r: std::ops::Range<usize>| s[r].parse::<u32>().expect("digits checked");
    let (year, month, day) = (num(0..4) as i32, num(5..7), num(8..10));
    if !(1..=12).contains(&month) {
        return Err(format!("'{s}' is not a date: there is no month {month} (write YYYY-MM-DD, e.g. \"2026-11-20\")"));
    }
    NaiveDate::from_ymd_opt(year, month, day).ok_or_else(|| {
        let last = (28..=31).rev().find(|d| NaiveDate::from_ymd_opt(year, month, *d).is_some()).unwrap_or(28);
        format!("'{s}' is not a date: {year}-{month:02} has {last} days")
    })
}

/// True for a real `YYYY-MM-DD` calendar date.
pub fn is_iso_date(s: &str) -> bool {
    parse_date(s).is_ok()
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
