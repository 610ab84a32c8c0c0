//! 整改 (issue #13 part 2): every deduction in an issued report becomes a rectification item
//! — the finding, the item, an evidence photo, the points lost — followed to closure by a log
//! of signed events: assigned (an owner at the hall and a due date), progress, done (with an
//! evidence photo), reopened, verified (by a later signed report in which the item lost no
//! points). Items are opened once, when a site's report is first signed; the log is
//! append-only (triggers) and every event is an Ed25519-signed statement
//! ([`RectificationEventV1`]) checked whenever it is read.

use hallmark_core::hex::{hex, unhex};
use rusqlite::{params, OptionalExtension, TransactionBehavior};
use serde::{Deserialize, Serialize};

use crate::{identity, Result, Store, StoreError};

/// | format | introduced by | what it says |
/// |---|---|---|
/// | `hallmark-rectification-event/1` | #13 整改 | one step of a rectification item, signed by the device that recorded it |
pub const EVENT_FORMAT: &str = "hallmark-rectification-event/1";

/// A deduction as the report found it, to be rectified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub item_id: String,
    pub item_name: String,
    /// The item's full points and the panel's mean deduction, as decimals ("6", "0.4").
    pub max_points: String,
    pub points_lost: String,
    /// 扣分说明, as the report prints it.
    pub finding: String,
    /// One evidence photo of the item (SHA-256), if the panel took any.
    pub photo_sha256: Option<String>,
}

/// Where a rectification item stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// 待整改
    Open,
    /// 整改中
    InProgress,
    /// 已整改（待核验）: done at the hall, with a photo; not yet seen by an evaluation.
    Done,
    /// 已核验: a later signed report gives the item full points.
    Verified,
}

impl Status {
    pub fn label(self) -> &'static str {
        match self {
            Status::Open => "待整改",
            Status::InProgress => "整改中",
            Status::Done => "已整改（待核验）",
            Status::Verified => "已核验",
        }
    }
}

/// One step, as signed (version 1, issue #13). Do not modify: its compact JSON with
/// `signature` empty is what the signature covers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RectificationEventV1 {
    pub format: String,
    pub rectification_id: String,
    /// assigned | progress | done | reopened | verified
    pub kind: String,
    pub owner: Option<String>,
    /// `YYYY-MM-DD`
    pub due_on: Option<String>,
    pub note: String,
    /// The evidence photo of `done` (SHA-256 of a file in this store).
    pub photo_sha256: Option<String>,
    /// The report number that verified it (`verified`).
    pub by_report: Option<String>,
    /// RFC 3339 UTC, the recording device's clock.
    pub at: String,
    pub device_id: String,
    pub public_key: String,
    pub signature: String,
}

impl RectificationEventV1 {
    fn statement(&self) -> Vec<u8> {
        serde_json::to_vec(&RectificationEventV1 { signature: String::new(), ..self.clone() }).expect("event serializes")
    }

    fn verifies(&self) -> bool {
        let key = unhex(&self.public_key).unwrap_or_default();
        identity::verify(&key, &self.statement(), &unhex(&self.signature).unwrap_or_default())
    }
}

/// A rectification item with its log.
#[derive(Debug, Clone, Serialize)]
pub struct Rectification {
    pub id: String,
    pub site: String,
    pub rubric_id: String,
    pub report_number: String,
    pub item_id: String,
    pub item_name: String,
    pub max_points: String,
    pub points_lost: String,
    pub finding: String,
    pub photo_sha256: Option<String>,
    pub opened_at: String,
    pub status: Status,
    pub owner: Option<String>,
    pub due_on: Option<String>,
    pub events: Vec<RectificationEventV1>,
}

/// A step to record.
#[derive(Debug, Clone)]
pub enum Change {
    /// An owner at the hall and a due date.
    Assign {
        owner: String,
        due_on: String,
    },
    Progress {
        note: String,
    },
    /// Done, with the evidence photo's bytes (a JPEG, checked like an inspection photo).
    Done {
        note: String,
        photo: Vec<u8>,
    },
    /// Done was not enough.
    Reopen {
        note: String,
    },
    /// A later signed report gives the item full points.
    Verify {
        by_report: String,
        note: String,
    },
}

impl Store {
    /// Opens one item per finding of the report on `site` with `rubric_id`, once: a report made
    /// again (or corrected) opens nothing new. Returns how many were opened now.
    pub fn open_rectifications(&self, site: &str, rubric_id: &str, report_number: &str, findings: &[Finding], now: &str) -> Result<usize> {
        let tx = self.conn.unchecked_transaction()?;
        let mut opened = 0;
        for f in findings {
            opened += tx.execute(
                "INSERT OR IGNORE INTO rectifications
                 (id, site, rubric_id, report_number, item_id, item_name, max_points, points_lost, finding, photo_sha256, opened_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
                params![
                    uuid::Uuid::now_v7().to_string(),
                    site,
                    rubric_id,
                    report_number,
                    f.item_id,
                    f.item_name,
                    f.max_points,
                    f.points_lost,
                    f.finding,
                    f.photo_sha256,
                    now
                ],
            )?;
        }
        tx.commit()?;
        Ok(opened)
    }

    /// Every rectification item (of `site` when given, matched in full), in report and item
    /// order, each with its log checked: an event whose signature fails is refused as damage.
    pub fn rectifications(&self, site: Option<&str>) -> Result<Vec<Rectification>> {
        let mut st = self.conn.prepare(
            "SELECT id, site, rubric_id, report_number, item_id, item_name, max_points, points_lost, finding, photo_sha256, opened_at
             FROM rectifications WHERE ?1 IS NULL OR site = ?1 ORDER BY site, rubric_id, rowid",
        )?;
        let rows = st
            .query_map(params![site], |r| {
                Ok(Rectification {
                    id: r.get(0)?,
                    site: r.get(1)?,
                    rubric_id: r.get(2)?,
                    report_number: r.get(3)?,
                    item_id: r.get(4)?,
                    item_name: r.get(5)?,
                    max_points: r.get(6)?,
                    points_lost: r.get(7)?,
                    finding: r.get(8)?,
                    photo_sha256: r.get(9)?,
                    opened_at: r.get(10)?,
                    status: Status::Open,
                    owner: None,
                    due_on: None,
                    events: Vec::new(),
                })
            })?
            .collect::<std::result::Result<Vec<_>, _>>()?;
        rows.into_iter().map(|r| self.with_log(r)).collect()
    }

    /// One item by id.
    pub fn rectification(&self, id: &str) -> Result<Rectification> {
        let site: Option<String> = self.conn.query_row("SELECT site FROM rectifications WHERE id = ?1", params![id], |r| r.get(0)).optional()?;
        let Some(site) = site else {
            return Err(StoreError::Invalid(format!("no rectification item '{id}' (`hallmark rectify list` shows them)")));
        };
        Ok(self.rectifications(Some(&site))?.into_iter().find(|r| r.id == id).expect("listed above"))
    }

    fn with_log(&self, mut r: Rectification) -> Result<Rectification> {
        let mut st = self.conn.prepare("SELECT seq, statement FROM rectification_events WHERE rectification_id = ?1 ORDER BY seq")?;
        let events =
            st.query_map(params![r.id], |row| Ok((row.get::<_, i64>(0)?, row.get::<_, String>(1)?)))?.collect::<std::result::Result<Vec<_>, _>>()?;
        for (seq, text) in events {
            let damaged = |why: &str| {
                StoreError::Invalid(format!("rectification event {seq} of item '{}' {why}: the database was changed outside hallmark", r.item_id))
            };
            let e: RectificationEventV1 = serde_json::from_str(&text).map_err(|_| damaged("is not a signed event"))?;
            if e.rectification_id != r.id || !e.verifies() {
                return Err(damaged("does not verify"));
            }
            r.status = match e.kind.as_str() {
                "assigned" => {
                    r.owner = e.owner.clone();
                    r.due_on = e.due_on.clone();
                    r.status
                }
                "progress" | "reopened" => Status::InProgress,
                "done" => Status::Done,
                "verified" => Status::Verified,
                _ => return Err(damaged("has an unknown kind")),
            };
            r.events.push(e);
        }
        Ok(r)
    }

    /// Records one step of item `id`, signed by this device. Refused, recording nothing, when
    /// the step does not follow from where the item stands (docs/report.md, "整改").
    pub fn record_rectification(&mut self, id: &str, change: &Change, now: &str) -> Result<Rectification> {
        crate::inspections::check_clock(now)?;
        let r = self.rectification(id)?;
        let refused = |why: String| Err(StoreError::Invalid(format!("item '{}' ({}) is {}: {why}", r.item_id, r.item_name, r.status.label())));
        let text = |field: &str, s: &str| -> Result<String> {
            let s = s.trim();
            if s.is_empty() {
                return Err(StoreError::Invalid(format!("the {field} is empty: say what was done")));
            }
            crate::inspections::check_length(field, s, crate::inspections::MAX_NOTE_CHARS)?;
            Ok(s.to_string())
        };
        let mut e = RectificationEventV1 {
            format: EVENT_FORMAT.into(),
            rectification_id: r.id.clone(),
            kind: String::new(),
            owner: None,
            due_on: None,
            note: String::new(),
            photo_sha256: None,
            by_report: None,
            at: now.to_string(),
            device_id: self.device_id.clone(),
            public_key: String::new(),
            signature: String::new(),
        };
        if r.status == Status::Verified {
            return refused(format!(
                "closed by report {} (nothing more to record)",
                r.events.last().and_then(|e| e.by_report.clone()).unwrap_or_default()
            ));
        }
        match change {
            Change::Assign { owner, due_on } => {
                let owner = text("owner", owner)?;
                hallmark_core::date::parse_date(due_on).map_err(|e| StoreError::Invalid(format!("the due date {e}")))?;
                (e.kind, e.owner, e.due_on) = ("assigned".into(), Some(owner), Some(due_on.clone()));
            }
            Change::Progress { note } => {
                if r.status == Status::Done {
                    return refused("reopen it first (it was reported done)".into());
                }
                (e.kind, e.note) = ("progress".into(), text("note", note)?);
            }
            Change::Done { note, photo } => {
                if r.status == Status::Done {
                    return refused("it is reported done already".into());
                }
                let note = text("note", note)?;
                let meta = crate::evidence::store_photo(self, photo)?;
                (e.kind, e.note, e.photo_sha256) = ("done".into(), note, Some(meta));
            }
            Change::Reopen { note } => {
                if r.status != Status::Done {
                    return refused("only an item reported done is reopened".into());
                }
                (e.kind, e.note) = ("reopened".into(), text("note", note)?);
            }
            Change::Verify { by_report, note } => {
                (e.kind, e.note, e.by_report) = ("verified".into(), note.trim().to_string(), Some(by_report.clone()));
            }
        }
        let key = self.signing_key()?;
        e.public_key = key.public_key_hex();
        e.signature = hex(&key.sign(&e.statement()));
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute(
            "INSERT INTO rectification_events (rectification_id, kind, statement, at) VALUES (?1, ?2, ?3, ?4)",
            params![r.id, e.kind, serde_json::to_string(&e).expect("event serializes"), now],
        )?;
        tx.commit()?;
        self.rectification(id)
    }
}
