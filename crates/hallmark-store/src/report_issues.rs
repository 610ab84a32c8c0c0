//! The lead's report issue dates (报告日期): the day the report on a site and rubric was first
//! made, by the lead's clock, recorded once (`report_issues`, append-only by triggers).
//! Re-rendering the report prints the same date, so the same bytes; its validity counts from
//! it. A tablet's clock never sets it.
//!
//! A correction (更正, issue #13) is a revision recorded beside it (`report_corrections`): the
//! report it replaces and why. The date and the validity stay the first issue's.

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

/// A recorded correction of a site's report (更正, issue #13).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Correction {
    /// 1 for the first correction, then 2, …
    pub revision: u32,
    /// The lead's local date of the correction, `YYYY-MM-DD`.
    pub corrected_on: String,
    pub reason: String,
    /// The signed report it replaces: its number and its PDF's SHA-256.
    pub supersedes_number: String,
    pub supersedes_sha256: String,
}

impl Store {
    /// The latest correction of the report on `site` with `rubric_id`, if any.
    pub fn report_correction(&self, site: &str, rubric_id: &str) -> Result<Option<Correction>> {
        Ok(self
            .conn
            .query_row(
                "SELECT revision, corrected_on, reason, supersedes_number, supersedes_sha256 FROM report_corrections
                 WHERE site = ?1 AND rubric_id = ?2 ORDER BY revision DESC LIMIT 1",
                params![site, rubric_id],
                |r| {
                    Ok(Correction {
                        revision: r.get(0)?,
                        corrected_on: r.get(1)?,
                        reason: r.get(2)?,
                        supersedes_number: r.get(3)?,
                        supersedes_sha256: r.get(4)?,
                    })
                },
            )
            .optional()?)
    }

    /// Records `correction` (its revision the latest plus one, as the caller computed it). Two
    /// corrections racing for one revision: the second is refused.
    pub fn record_report_correction(&self, site: &str, rubric_id: &str, correction: &Correction, now: &str) -> Result<()> {
        check_issue_date(&correction.corrected_on, now)?;
        self.conn
            .execute(
                "INSERT INTO report_corrections (site, rubric_id, revision, corrected_on, reason, supersedes_number, supersedes_sha256, recorded_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                params![
                    site,
                    rubric_id,
                    correction.revision,
                    correction.corrected_on,
                    correction.reason,
                    correction.supersedes_number,
                    correction.supersedes_sha256,
                    now
                ],
            )
            .map_err(|e| match e {
                rusqlite::Error::SqliteFailure(f, _) if f.code == rusqlite::ErrorCode::ConstraintViolation => StoreError::Invalid(format!(
                    "correction {} of the report on '{site}' is recorded already (another correction ran meanwhile): make the report again to see it",
                    correction.revision
                )),
                e => e.into(),
            })?;
        Ok(())
    }
}

impl Store {
    /// The signed sidecar of the report a re-evaluation of `site` follows (复评), as recorded.
    pub fn report_previous(&self, site: &str, rubric_id: &str) -> Result<Option<Vec<u8>>> {
        Ok(self
            .conn
            .query_row("SELECT sidecar FROM report_previous WHERE site = ?1 AND rubric_id = ?2", params![site, rubric_id], |r| r.get(0))
            .optional()?)
    }

    /// Records the previous report's sidecar for `site`, once.
    pub fn record_report_previous(&self, site: &str, rubric_id: &str, sidecar: &[u8], now: &str) -> Result<()> {
        self.conn.execute(
            "INSERT OR IGNORE INTO report_previous (site, rubric_id, sidecar, recorded_at) VALUES (?1, ?2, ?3, ?4)",
            params![site, rubric_id, sidecar, now],
        )?;
        Ok(())
    }
}

impl Store {
    /// The withdrawal of the report on `site` with `rubric_id` recorded here, if any: its
    /// number and the reason.
    pub fn report_withdrawal(&self, site: &str, rubric_id: &str) -> Result<Option<(String, String)>> {
        Ok(self
            .conn
            .query_row("SELECT report_number, reason FROM report_withdrawals WHERE site = ?1 AND rubric_id = ?2", params![site, rubric_id], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .optional()?)
    }

    /// Records that the report on `site` was withdrawn (once; a second record is ignored).
    pub fn record_report_withdrawal(&self, site: &str, rubric_id: &str, number: &str, pdf_sha256: &str, reason: &str, now: &str) -> Result<()> {
        self.conn.execute(
            "INSERT OR IGNORE INTO report_withdrawals (site, rubric_id, report_number, pdf_sha256, reason, withdrawn_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![site, rubric_id, number, pdf_sha256, reason, now],
        )?;
        Ok(())
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
