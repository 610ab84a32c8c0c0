//! Photo captions fixed and photos withdrawn after capture (issue #14), as append-only events
//! (`caption_events`): the evidence row keeps the original caption, the last event per photo
//! says what it is now. Views ([`Store::current_evidence`], the merge view, the report) show
//! the current caption and leave withdrawn photos out.
//!
//! Known limit: bundle V1 does not carry these events (its format must not change), so a
//! lead sees the captions a bundle was made with (docs/bundles.md).

use rusqlite::{params, OptionalExtension, TransactionBehavior};
use serde::Serialize;

use crate::inspections::{check_clock, check_length, MAX_NOTE_CHARS};
use crate::{Evidence, Result, Store, StoreError};

/// One change to one photo: a new caption, or its withdrawal with a reason.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CaptionEvent {
    pub id: String,
    pub evidence_id: String,
    /// The new caption; `None` for a withdrawal.
    pub caption: Option<String>,
    pub withdrawn: bool,
    pub reason: String,
    pub author: String,
    pub device_id: String,
    pub recorded_at: String,
}

impl Store {
    /// Changes a photo's caption (the original stays in the evidence row).
    pub fn edit_caption(&mut self, evidence_id: &str, caption: &str, author: &str, now: &str) -> Result<CaptionEvent> {
        check_length("caption", caption.trim(), MAX_NOTE_CHARS)?;
        self.caption_event(evidence_id, Some(caption.trim()), "", author, now)
    }

    /// Withdraws a photo, with the reason: it is no longer shown or printed, but kept.
    pub fn withdraw_photo(&mut self, evidence_id: &str, reason: &str, author: &str, now: &str) -> Result<CaptionEvent> {
        let reason = reason.trim();
        if reason.is_empty() {
            return Err(StoreError::Invalid("withdrawing a photo needs a reason (say why it does not count)".into()));
        }
        check_length("reason", reason, MAX_NOTE_CHARS)?;
        self.caption_event(evidence_id, None, reason, author, now)
    }

    fn caption_event(&mut self, evidence_id: &str, caption: Option<&str>, reason: &str, author: &str, now: &str) -> Result<CaptionEvent> {
        check_clock(now)?;
        let inspection: Option<String> =
            self.conn.query_row("SELECT inspection_id FROM evidence WHERE id = ?1", [evidence_id], |r| r.get(0)).optional()?;
        let inspection = inspection.ok_or_else(|| StoreError::NotFound(format!("photo evidence {evidence_id}")))?;
        let insp = self.inspection(&inspection)?;
        self.check_local(&insp)?;
        if self.caption_events(evidence_id)?.last().is_some_and(|e| e.withdrawn) {
            return Err(StoreError::Invalid(format!("photo evidence '{evidence_id}' was withdrawn: attach the photo again to use it")));
        }
        let event = CaptionEvent {
            id: uuid::Uuid::now_v7().to_string(),
            evidence_id: evidence_id.to_string(),
            caption: caption.map(str::to_string),
            withdrawn: caption.is_none(),
            reason: reason.to_string(),
            author: author.to_string(),
            device_id: self.device_id.clone(),
            recorded_at: now.to_string(),
        };
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute(
            "INSERT INTO caption_events (id, evidence_id, caption, withdrawn, reason, author, device_id, recorded_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![event.id, event.evidence_id, event.caption, event.withdrawn, event.reason, event.author, event.device_id, event.recorded_at],
        )?;
        tx.commit()?;
        Ok(event)
    }

    /// One photo's caption events, in the order recorded.
    pub fn caption_events(&self, evidence_id: &str) -> Result<Vec<CaptionEvent>> {
        let mut st = self.conn.prepare(
            "SELECT id, evidence_id, caption, withdrawn, reason, author, device_id, recorded_at FROM caption_events
             WHERE evidence_id = ?1 ORDER BY seq",
        )?;
        let rows = st.query_map([evidence_id], |r| {
            Ok(CaptionEvent {
                id: r.get(0)?,
                evidence_id: r.get(1)?,
                caption: r.get(2)?,
                withdrawn: r.get(3)?,
                reason: r.get(4)?,
                author: r.get(5)?,
                device_id: r.get(6)?,
                recorded_at: r.get(7)?,
            })
        })?;
        Ok(rows.collect::<std::result::Result<_, _>>()?)
    }

    /// The inspection's photos with their caption events applied: each with its current
    /// caption and whether it was withdrawn.
    pub fn current_evidence(&self, inspection_id: &str) -> Result<Vec<(Evidence, bool)>> {
        let mut out = Vec::new();
        for mut e in self.evidence(inspection_id)? {
            let mut withdrawn = false;
            for c in self.caption_events(&e.id)? {
                match c.caption {
                    Some(text) => e.caption = text,
                    None => withdrawn = c.withdrawn,
                }
            }
            out.push((e, withdrawn));
        }
        Ok(out)
    }

    /// The photos the views show: current captions, withdrawn ones left out.
    pub fn shown_evidence(&self, inspection_id: &str) -> Result<Vec<Evidence>> {
        Ok(self.current_evidence(inspection_id)?.into_iter().filter(|(_, w)| !w).map(|(e, _)| e).collect())
    }
}
