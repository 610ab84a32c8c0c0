//! The lead's report issue dates (报告日期): the day the report on a site and rubric was first
//! made, by the lead's clock, recorded once (`report_issues`, append-only by triggers).
//! Re-rendering the report prints the same date, so the same bytes; its validity counts from
//! it. A tablet's clock never sets it.

use rusqlite::{params, OptionalExtension};

use crate::{Result, Store, StoreError};

impl Store {
    /// The recorded issue date (`YYYY-MM-DD`) of the report on `site` with `rubric_id`, if one
    /// was made here.
    pub fn report_issue(&self, site: &str, rubric_id: &str) -> Result<Option<String>> {
        Ok(self
            .conn
            .query_row("SELECT issued_on FROM report_issues WHERE site = ?1 AND rubric_id = ?2", params![site, rubric_id], |r| r.get(0))
            .optional()?)
    }

    /// The issue date of the report on `site` with `rubric_id`: the one recorded, else `today`
    /// (the lead's local date, `YYYY-MM-DD`), recorded now (`now`, RFC 3339) and kept. A wrong
    /// `today` (2026-02-31, 1970, 2100) is refused before anything is recorded.
    pub fn report_issued_on(&self, site: &str, rubric_id: &str, today: &str, now: &str) -> Result<String> {
        if let Some(issued_on) = self.report_issue(site, rubric_id)? {
            return Ok(issued_on);
        }
        check_issue_date(today, now)?;
        // INSERT OR IGNORE: of two first makes racing, the first one's date stands for both.
        self.conn.execute(
            "INSERT OR IGNORE INTO report_issues (site, rubric_id, issued_on, recorded_at) VALUES (?1, ?2, ?3, ?4)",
            params![site, rubric_id, today, now],
        )?;
        Ok(self.report_issue(site, rubric_id)?.expect("recorded above"))
    }
}

/// Refuses an issue date (`today`, `YYYY-MM-DD`) or time (`now`, RFC 3339 UTC) the lead's clock
/// could not honestly read: not a calendar day, before 2020-01-01 or after 2099-12-31.
pub fn check_issue_date(today: &str, now: &str) -> Result<()> {
    let refused = |what: &str, value: &str, why: String| StoreError::Clock {
        message: format!("{what} '{value}' {why} (set this computer's date and time, then try again)"),
        value: value.to_string(),
    };
    let day = hallmark_core::date::tablet_day(today, None).map_err(|p| refused("today's date", today, p.why()))?;
    if day.to_string() != today {
        return Err(refused("today's date", today, "is not a date (write YYYY-MM-DD, e.g. \"2026-11-20\")".into()));
    }
    let time = hallmark_core::date::tablet_day(now, None).map_err(|p| refused("the time", now, p.why()))?;
    if !hallmark_core::date::is_timestamp(now) {
        return Err(refused("the time", now, "is not a time (write RFC 3339 UTC, e.g. \"2026-11-20T09:30:00Z\")".into()));
    }
    // The local date and the UTC time differ by the time zone, never by days.
    if (time - day).num_days().abs() > 1 {
        return Err(refused("today's date", today, format!("is not the day of the time '{now}'")));
    }
    Ok(())
}
