//! hallmark-store: the inspector's durable store.
//!
//! Owns one data folder: `hallmark.sqlite3` (WAL, `synchronous = FULL`: a change is on disk
//! before `record` returns), `photos/` (originals by SHA-256) and `thumbs/` (320 px).
//!
//! - An inspection pins its rubric: id, version, hash and a full copy of its text, so a later
//!   rubric edit never changes an old inspection's score.
//! - Observations are an append-only event log (uuid v7 ids; SQLite triggers refuse UPDATE and
//!   DELETE). Current answers are a cache derived from the log ([`derive_answers`]).
//! - A finished inspection is locked: later changes are amendments with a reason, never silent
//!   edits.
//! - Every value is checked against the pinned rubric before anything is written.
//!
//! Time and authorship are passed in (`now`, `author`); this crate reads no clock.
//! It must never depend on Tauri.

pub mod bundle;
pub mod demo;
pub mod identity;
pub mod merge;
pub mod photo;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use hallmark_core::observation::{self, Observations};
use hallmark_core::rubric::Rubric;
use hallmark_core::score::{score, ScoreSheet};
use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};
use serde::{Deserialize, Serialize};
use serde_json::Value;

const MIGRATIONS: &[&str] = &[
    include_str!("../migrations/0001_init.sql"),
    include_str!("../migrations/0002_service_entries.sql"),
    include_str!("../migrations/0003_bundles.sql"),
];

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("{0}")]
    Io(String),
    /// The input was refused; nothing was stored.
    #[error("{0}")]
    Invalid(String),
    #[error("no inspection '{0}' (it may belong to another device's database)")]
    NotFound(String),
    #[error("inspection '{0}' is finished: record a change as an amendment with a reason")]
    Finished(String),
    #[error("{0}")]
    Rubric(String),
    /// A bundle was refused; the database is unchanged.
    #[error("{0}")]
    Bundle(String),
}

impl StoreError {
    /// A stable code for the UI to branch on (never on the message).
    pub fn code(&self) -> &'static str {
        match self {
            StoreError::Sqlite(_) => "database",
            StoreError::Io(_) => "io",
            StoreError::Invalid(_) => "invalid",
            StoreError::NotFound(_) => "not_found",
            StoreError::Finished(_) => "finished",
            StoreError::Rubric(_) => "rubric",
            StoreError::Bundle(_) => "bundle",
        }
    }
}

pub type Result<T> = std::result::Result<T, StoreError>;

fn io(what: &str, e: std::io::Error) -> StoreError {
    StoreError::Io(format!("{what}: {e}"))
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct NewInspection {
    /// The rubric file's text; it is validated and pinned.
    pub rubric_text: String,
    pub site_name: String,
    #[serde(default)]
    pub site_address: String,
    /// province | city | county | township (or 省/市/县/乡镇)
    pub site_level: String,
    /// YYYY-MM-DD
    pub visited_on: String,
    pub assessor_name: String,
    #[serde(default)]
    pub assessor_unit: String,
    #[serde(default)]
    pub assessor_title: String,
    #[serde(default)]
    pub assessor_phone: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Inspection {
    pub id: String,
    pub rubric_id: String,
    pub rubric_version: String,
    pub rubric_hash: String,
    pub site_name: String,
    pub site_address: String,
    pub site_level: String,
    pub visited_on: String,
    pub assessor_name: String,
    pub assessor_unit: String,
    pub assessor_title: String,
    pub assessor_phone: String,
    pub device_id: String,
    pub created_at: String,
    pub finished_at: Option<String>,
    #[serde(skip)]
    pub rubric_content: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct InspectionSummary {
    pub id: String,
    pub rubric_id: String,
    pub rubric_title: String,
    pub site_name: String,
    pub visited_on: String,
    pub assessor_name: String,
    pub finished: bool,
    pub total: String,
    pub complete: bool,
    pub answered_items: usize,
    pub total_items: usize,
    pub last_change: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Event {
    pub id: String,
    pub key: String,
    pub value: Option<Value>,
    pub previous: Option<Value>,
    pub author: String,
    pub device_id: String,
    pub recorded_at: String,
    pub amendment: Option<String>,
}

/// One observed service (Liaoning 服务实操), as the inspector logged it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServiceEntry {
    /// "real" (实际经办) or "simulated" (模拟服务)
    pub kind: String,
    pub observed_at: String,
    #[serde(default)]
    pub note: String,
    /// tally input id → occurrences seen during this service
    #[serde(default)]
    pub occurrences: BTreeMap<String, u64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ServiceRecord {
    pub id: String,
    pub item_id: String,
    #[serde(flatten)]
    pub entry: ServiceEntry,
    pub recorded_at: String,
    /// The count/tally events this entry appended (empty when listed).
    pub events: Vec<Event>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Evidence {
    pub id: String,
    pub item_id: String,
    pub caption: String,
    pub attached_at: String,
    pub photo: photo::PhotoMeta,
}

/// The current answers, derived from the log: the last event per key wins, in the event order
/// of [`sort_events`]; a NULL value clears the key. Pure, so it can be tested against the
/// stored cache.
pub fn derive_answers(events: &[Event]) -> BTreeMap<String, Value> {
    let mut ordered: Vec<&Event> = events.iter().collect();
    sort_events(&mut ordered);
    let mut answers = BTreeMap::new();
    for e in ordered {
        match &e.value {
            Some(v) => {
                answers.insert(e.key.clone(), v.clone());
            }
            None => {
                answers.remove(&e.key);
            }
        }
    }
    answers
}

/// The total order of events, the same on every device (docs/bundles.md): by recorded time,
/// then device id, then event id (uuid v7, time-ordered). A device never records an event
/// earlier than its last one for the inspection (see `append_event`), so its own edits keep
/// their order even if its clock steps back.
pub fn sort_events(events: &mut [&Event]) {
    events.sort_by(|a, b| {
        time_key(&a.recorded_at)
            .cmp(&time_key(&b.recorded_at))
            .then_with(|| a.device_id.cmp(&b.device_id))
            .then_with(|| a.id.cmp(&b.id))
    });
}

/// An RFC 3339 UTC time ("2026-11-23T09:30:00.123Z"; fraction optional) as a sortable key.
pub fn time_key(t: &str) -> String {
    match t.strip_suffix('Z').map(|b| b.split_once('.').unwrap_or((b, ""))) {
        Some((whole, frac)) => format!("{whole}.{frac:0<9}"),
        None => t.to_string(),
    }
}

/// True for an RFC 3339 UTC time as hallmark writes it: `YYYY-MM-DDTHH:MM:SS[.fff…]Z`.
pub fn is_timestamp(t: &str) -> bool {
    let Some(body) = t.strip_suffix('Z') else { return false };
    let (whole, frac) = body.split_once('.').unwrap_or((body, "0"));
    let b = whole.as_bytes();
    b.len() == 19
        && observation::is_iso_date(&whole[..10])
        && b[10] == b'T'
        && b[13] == b':'
        && b[16] == b':'
        && [11, 12, 14, 15, 17, 18].iter().all(|&i| b[i].is_ascii_digit())
        && !frac.is_empty()
        && frac.len() <= 9
        && frac.bytes().all(|c| c.is_ascii_digit())
}

pub struct Store {
    conn: Connection,
    dir: PathBuf,
    device_id: String,
    key: identity::DeviceKey,
    /// Pinned rubrics already parsed, by content hash (the text is re-hashed on every use,
    /// so a tampered copy is still refused; only the parse is saved).
    parsed: std::cell::RefCell<BTreeMap<String, Rubric>>,
}

pub const DB_FILE: &str = "hallmark.sqlite3";

impl Store {
    /// Opens (creating if needed) the store in `dir`, migrating the schema.
    pub fn open(dir: &Path, now: &str) -> Result<Store> {
        Store::open_at(&dir.join(DB_FILE), dir, now)
    }

    /// Opens a database file with its files (photos, key) in `dir`. `hallmark --db lead.db`
    /// uses `lead.db` with `lead.db-files/`.
    pub fn open_at(db: &Path, dir: &Path, now: &str) -> Result<Store> {
        std::fs::create_dir_all(dir).map_err(|e| io(&format!("cannot create data folder '{}'", dir.display()), e))?;
        let mut conn = Connection::open(db)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        migrate(&mut conn)?;
        let device_id: Option<String> = conn.query_row("SELECT id FROM device", [], |r| r.get(0)).optional()?;
        let device_id = match device_id {
            Some(d) => d,
            None => {
                let d = uuid::Uuid::now_v7().to_string();
                conn.execute("INSERT INTO device (id, created_at) VALUES (?1, ?2)", params![d, now])?;
                d
            }
        };
        let key = identity::DeviceKey::load_or_create(dir).map_err(StoreError::Io)?;
        photo::sweep_temp_files(&dir.join("photos"));
        photo::sweep_temp_files(&dir.join("thumbs"));
        Ok(Store { conn, dir: dir.to_path_buf(), device_id, key, parsed: Default::default() })
    }

    pub fn device_id(&self) -> &str {
        &self.device_id
    }

    /// This device's signing key (Ed25519), made on first open.
    pub fn device_key(&self) -> &identity::DeviceKey {
        &self.key
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn schema_version(&self) -> Result<i64> {
        Ok(self.conn.query_row("PRAGMA user_version", [], |r| r.get(0))?)
    }

    pub fn create_inspection(&mut self, new: &NewInspection, now: &str) -> Result<String> {
        let rubric = Rubric::load("rubric", &new.rubric_text).map_err(|e| StoreError::Rubric(format!("the rubric does not load: {e}")))?;
        let level = observation::canonical_level(&new.site_level).ok_or_else(|| {
            StoreError::Invalid(format!("site level '{}' is unknown (choose 省, 市, 县 or 乡镇)", new.site_level))
        })?;
        if new.site_name.trim().is_empty() {
            return Err(StoreError::Invalid("site name is empty (enter the hall's name)".into()));
        }
        if new.assessor_name.trim().is_empty() {
            return Err(StoreError::Invalid("assessor name is empty (enter who inspects)".into()));
        }
        if !observation::is_iso_date(&new.visited_on) {
            return Err(StoreError::Invalid(format!("visit date '{}' is not a date (YYYY-MM-DD)", new.visited_on)));
        }
        let id = uuid::Uuid::now_v7().to_string();
        self.conn.execute(
            "INSERT INTO inspections (id, rubric_id, rubric_version, rubric_hash, rubric_content, site_name, site_address,
             site_level, visited_on, assessor_name, assessor_unit, assessor_title, assessor_phone, device_id, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
            params![
                id,
                rubric.id,
                rubric.version,
                rubric.content_hash,
                new.rubric_text,
                new.site_name.trim(),
                new.site_address.trim(),
                level,
                new.visited_on,
                new.assessor_name.trim(),
                new.assessor_unit.trim(),
                new.assessor_title.trim(),
                new.assessor_phone.trim(),
                self.device_id,
                now
            ],
        )?;
        Ok(id)
    }

    pub fn inspection(&self, id: &str) -> Result<Inspection> {
        self.conn
            .query_row(
                "SELECT id, rubric_id, rubric_version, rubric_hash, site_name, site_address, site_level, visited_on,
                 assessor_name, assessor_unit, assessor_title, assessor_phone, device_id, created_at, finished_at, rubric_content
                 FROM inspections WHERE id = ?1",
                [id],
                |r| {
                    Ok(Inspection {
                        id: r.get(0)?,
                        rubric_id: r.get(1)?,
                        rubric_version: r.get(2)?,
                        rubric_hash: r.get(3)?,
                        site_name: r.get(4)?,
                        site_address: r.get(5)?,
                        site_level: r.get(6)?,
                        visited_on: r.get(7)?,
                        assessor_name: r.get(8)?,
                        assessor_unit: r.get(9)?,
                        assessor_title: r.get(10)?,
                        assessor_phone: r.get(11)?,
                        device_id: r.get(12)?,
                        created_at: r.get(13)?,
                        finished_at: r.get(14)?,
                        rubric_content: r.get(15)?,
                    })
                },
            )
            .optional()?
            .ok_or_else(|| StoreError::NotFound(id.to_string()))
    }

    /// The inspection's pinned rubric. Refuses, with the reason, if the pinned copy is damaged.
    pub fn rubric(&self, id: &str) -> Result<Rubric> {
        let insp = self.inspection(id)?;
        self.pinned(&insp)
    }

    fn pinned(&self, insp: &Inspection) -> Result<Rubric> {
        let hash = photo::sha256_hex(insp.rubric_content.as_bytes());
        if hash == insp.rubric_hash {
            if let Some(r) = self.parsed.borrow().get(&hash) {
                return Ok(r.clone());
            }
        }
        let rubric = pinned_rubric(insp)?;
        self.parsed.borrow_mut().insert(hash, rubric.clone());
        Ok(rubric)
    }

    pub fn inspection_ids(&self) -> Result<Vec<String>> {
        let mut st = self.conn.prepare("SELECT id FROM inspections ORDER BY created_at DESC, id DESC")?;
        let ids = st.query_map([], |r| r.get(0))?.collect::<std::result::Result<Vec<String>, _>>()?;
        Ok(ids)
    }

    pub fn summaries(&self) -> Result<Vec<InspectionSummary>> {
        let mut out = Vec::new();
        for id in self.inspection_ids()? {
            let insp = self.inspection(&id)?;
            let last: Option<String> =
                self.conn.query_row("SELECT max(recorded_at) FROM events WHERE inspection_id = ?1", [&id], |r| r.get(0))?;
            let (title, total, complete, answered, n_items) = match self.sheet(&id) {
                Ok((rubric, sheet)) => {
                    let answered = sheet.items.iter().filter(|i| i.points.is_some()).count();
                    (rubric.title.clone(), sheet.total.normalize().to_string(), sheet.complete, answered, sheet.items.len())
                }
                Err(e) => (format!("（评分细则无法加载：{e}）"), "—".into(), false, 0, 0),
            };
            out.push(InspectionSummary {
                id: insp.id,
                rubric_id: insp.rubric_id,
                rubric_title: title,
                site_name: insp.site_name,
                visited_on: insp.visited_on,
                assessor_name: insp.assessor_name,
                finished: insp.finished_at.is_some(),
                total,
                complete,
                answered_items: answered,
                total_items: n_items,
                last_change: last.unwrap_or(insp.created_at),
            });
        }
        Ok(out)
    }

    /// Records one answer (or clears it with `None`). The value is checked against the pinned
    /// rubric first: a refused value writes nothing. Durable when this returns.
    pub fn record(&mut self, id: &str, key: &str, value: Option<Value>, author: &str, now: &str) -> Result<Event> {
        self.append(id, key, value, author, now, None)
    }

    /// A change after the inspection was finished: kept in the log with its reason.
    pub fn amend(&mut self, id: &str, key: &str, value: Option<Value>, author: &str, now: &str, reason: &str) -> Result<Event> {
        if reason.trim().is_empty() {
            return Err(StoreError::Invalid("an amendment needs a reason (say why the finished record changes)".into()));
        }
        self.append(id, key, value, author, now, Some(reason.trim()))
    }

    fn append(&mut self, id: &str, key: &str, value: Option<Value>, author: &str, now: &str, amendment: Option<&str>) -> Result<Event> {
        let insp = self.inspection(id)?;
        self.check_local(&insp)?;
        check_open(&insp, amendment)?;
        let rubric = self.pinned(&insp)?;
        let value = match value {
            Some(Value::Null) | None => None,
            Some(v) => Some(v),
        };
        check_value(&rubric, key, value.as_ref())?;
        let device = self.device_id.clone();
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let event = append_event(&tx, id, &device, key, value, author, now, amendment)?;
        tx.commit()?;
        Ok(event)
    }

    /// Logs one observed service and adds it to the item's counts and tallies, all in one
    /// transaction: the entry and its effect are stored together or not at all.
    pub fn record_service(&mut self, id: &str, item_id: &str, entry: &ServiceEntry, author: &str, now: &str) -> Result<ServiceRecord> {
        let insp = self.inspection(id)?;
        self.check_local(&insp)?;
        check_open(&insp, None)?;
        let rubric = self.pinned(&insp)?;
        let item = rubric
            .item
            .iter()
            .find(|i| i.id == item_id)
            .ok_or_else(|| StoreError::Invalid(format!("item '{item_id}' is not in rubric '{}'", rubric.id)))?;
        let log = item
            .service_log
            .as_ref()
            .ok_or_else(|| StoreError::Invalid(format!("item '{item_id}' does not log observed services")))?;
        let count_key = match entry.kind.as_str() {
            "real" => &log.real,
            "simulated" => &log.simulated,
            other => return Err(StoreError::Invalid(format!("service kind '{other}' is unknown (real 实际 or simulated 模拟)"))),
        };
        for k in entry.occurrences.keys() {
            if !log.categories.contains(k) {
                return Err(StoreError::Invalid(format!("'{k}' is not a category of item '{item_id}' (categories: {})", log.categories.join(", "))));
            }
        }
        let mut increments: Vec<(&str, u64)> = vec![(count_key.as_str(), 1)];
        increments.extend(entry.occurrences.iter().filter(|(_, n)| **n > 0).map(|(k, n)| (k.as_str(), *n)));
        let current = self.answers(id)?;
        let mut new_values = Vec::new();
        for (key, n) in increments {
            let old = current.get(key).and_then(Value::as_u64).unwrap_or(0);
            let value = serde_json::json!(old + n);
            check_value(&rubric, key, Some(&value))?;
            new_values.push((key.to_string(), value));
        }
        let entry_id = uuid::Uuid::now_v7().to_string();
        let device = self.device_id.clone();
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute(
            "INSERT INTO service_entries (id, inspection_id, item_id, kind, observed_at, note, occurrences, author, device_id, recorded_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            params![
                entry_id,
                id,
                item_id,
                entry.kind,
                entry.observed_at,
                entry.note.trim(),
                serde_json::to_string(&entry.occurrences).expect("map serializes"),
                author,
                device,
                now
            ],
        )?;
        let mut events = Vec::new();
        for (key, value) in new_values {
            events.push(append_event(&tx, id, &device, &key, Some(value), author, now, None)?);
        }
        tx.commit()?;
        Ok(ServiceRecord { id: entry_id, item_id: item_id.into(), entry: entry.clone(), recorded_at: now.into(), events })
    }

    pub fn service_entries(&self, id: &str) -> Result<Vec<ServiceRecord>> {
        let mut st = self.conn.prepare(
            "SELECT id, item_id, kind, observed_at, note, occurrences, recorded_at FROM service_entries
             WHERE inspection_id = ?1 ORDER BY recorded_at, id",
        )?;
        let rows = st.query_map([id], |r| {
            let occ: String = r.get(5)?;
            Ok(ServiceRecord {
                id: r.get(0)?,
                item_id: r.get(1)?,
                entry: ServiceEntry {
                    kind: r.get(2)?,
                    observed_at: r.get(3)?,
                    note: r.get(4)?,
                    occurrences: serde_json::from_str(&occ).expect("stored JSON"),
                },
                recorded_at: r.get(6)?,
                events: Vec::new(),
            })
        })?;
        Ok(rows.collect::<std::result::Result<Vec<_>, _>>()?)
    }

    /// The inspection's events in the event order ([`sort_events`]).
    pub fn events(&self, id: &str) -> Result<Vec<Event>> {
        events_in(&self.conn, id)
    }

    /// The current answers as cached (see [`derive_answers`] for the truth).
    pub fn answers(&self, id: &str) -> Result<BTreeMap<String, Value>> {
        let mut st = self.conn.prepare("SELECT key, value FROM answers WHERE inspection_id = ?1")?;
        let rows = st.query_map([id], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
        let mut out = BTreeMap::new();
        for row in rows {
            let (k, v) = row?;
            out.insert(k, serde_json::from_str(&v).expect("stored JSON"));
        }
        Ok(out)
    }

    /// Rebuilds the answers cache of one inspection from its event log.
    pub fn rebuild_answers(&mut self, id: &str) -> Result<()> {
        let tx = self.conn.transaction()?;
        rebuild_answers_in(&tx, id)?;
        tx.commit()?;
        Ok(())
    }

    /// The current answers with the event that set each.
    pub fn answers_with_events(&self, id: &str) -> Result<BTreeMap<String, (Value, String)>> {
        let mut st = self.conn.prepare("SELECT key, value, event_id FROM answers WHERE inspection_id = ?1")?;
        let rows = st.query_map([id], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?)))?;
        let mut out = BTreeMap::new();
        for row in rows {
            let (k, v, e) = row?;
            out.insert(k, (serde_json::from_str(&v).expect("stored JSON"), e));
        }
        Ok(out)
    }

    /// Stores the assessor's handwritten signature (a PNG drawn on the tablet) as evidence of
    /// the inspection. A later signature replaces the earlier one; both files are kept.
    pub fn save_signature(&mut self, id: &str, png: &[u8], now: &str) -> Result<bundle::SignatureImage> {
        let insp = self.inspection(id)?;
        self.check_local(&insp)?;
        if !png.starts_with(b"\x89PNG\r\n\x1a\n") {
            return Err(StoreError::Invalid("the signature is not a PNG image (draw it again)".into()));
        }
        if png.len() > 4 << 20 {
            return Err(StoreError::Invalid(format!("the signature image is {} bytes, more than 4 MiB (draw it again)", png.len())));
        }
        let sha = photo::sha256_hex(png);
        photo::write_durably(&signature_path_in(&self.dir, &sha), png).map_err(|e| io("cannot store the signature", e))?;
        self.conn.execute(
            "INSERT INTO signatures (inspection_id, sha256, size, signed_at) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (inspection_id) DO UPDATE SET sha256 = excluded.sha256, size = excluded.size, signed_at = excluded.signed_at",
            params![id, sha, png.len() as i64, now],
        )?;
        Ok(bundle::SignatureImage { sha256: sha, size: png.len() as u64, signed_at: now.into() })
    }

    pub fn signature_image(&self, id: &str) -> Result<Option<bundle::SignatureImage>> {
        Ok(self
            .conn
            .query_row("SELECT sha256, size, signed_at FROM signatures WHERE inspection_id = ?1", [id], |r| {
                Ok(bundle::SignatureImage { sha256: r.get(0)?, size: r.get::<_, i64>(1)? as u64, signed_at: r.get(2)? })
            })
            .optional()?)
    }

    pub fn signature_path(&self, sha256: &str) -> PathBuf {
        signature_path_in(&self.dir, sha256)
    }

    /// A stored photo's description.
    pub fn photo_meta(&self, sha256: &str) -> Result<photo::PhotoMeta> {
        self.conn
            .query_row("SELECT sha256, size, width, height, orientation, taken_at FROM photos WHERE sha256 = ?1", [sha256], |r| photo_meta_at(r, 0))
            .optional()?
            .ok_or_else(|| StoreError::NotFound(format!("photo {sha256}")))
    }

    /// Inspections imported from another tablet are changed there and imported again.
    fn check_local(&self, insp: &Inspection) -> Result<()> {
        if insp.device_id != self.device_id {
            return Err(StoreError::Invalid(format!(
                "inspection '{}' ({} · {}) was imported from another tablet: change it there and import its new bundle",
                insp.id, insp.site_name, insp.assessor_name
            )));
        }
        Ok(())
    }

    /// The inspection's observations in the documented file format (docs/observations.md).
    pub fn observation_document(&self, id: &str) -> Result<Value> {
        let insp = self.inspection(id)?;
        let answers = self.answers(id)?;
        Ok(observation_document_of(&insp, answers))
    }

    pub fn observations(&self, id: &str) -> Result<(Rubric, Observations)> {
        let rubric = self.rubric(id)?;
        let doc = self.observation_document(id)?;
        let obs = observation::parse(&format!("inspection {id}"), &doc.to_string(), &rubric)
            .map_err(|e| StoreError::Invalid(e.to_string()))?;
        Ok((rubric, obs))
    }

    /// The score sheet, always computed from the current answers by the pinned rubric.
    pub fn sheet(&self, id: &str) -> Result<(Rubric, ScoreSheet)> {
        let (rubric, obs) = self.observations(id)?;
        let sheet = score(&rubric, &obs);
        Ok((rubric, sheet))
    }

    pub fn finish(&mut self, id: &str, now: &str) -> Result<()> {
        let insp = self.inspection(id)?;
        if insp.finished_at.is_some() {
            return Err(StoreError::Finished(id.to_string()));
        }
        self.conn.execute("UPDATE inspections SET finished_at = ?2 WHERE id = ?1 AND finished_at IS NULL", params![id, now])?;
        Ok(())
    }

    /// Checks, stores (once, by hash) and links a photo to an item. A refused file stores nothing.
    pub fn attach_photo(&mut self, id: &str, item_id: &str, bytes: &[u8], caption: &str, author: &str, now: &str) -> Result<Evidence> {
        let mut one = self.attach_photos(id, &[(item_id, bytes, caption)], author, now)?;
        Ok(one.remove(0))
    }

    /// Attaches several photos: checking and thumbnailing run on all cores, storing runs in
    /// order. Each photo is all-or-nothing; the first refused photo stops the batch with its
    /// reason (those before it are kept).
    pub fn attach_photos(&mut self, id: &str, photos: &[(&str, &[u8], &str)], author: &str, now: &str) -> Result<Vec<Evidence>> {
        let insp = self.inspection(id)?;
        self.check_local(&insp)?;
        let rubric = self.pinned(&insp)?;
        for (item, _, _) in photos {
            if !rubric.item.iter().any(|i| i.id == *item) {
                return Err(StoreError::Invalid(format!("item '{item}' is not in rubric '{}'", rubric.id)));
            }
        }
        // Workers check, thumbnail and durably write the files (in parallel, fsyncs included);
        // then the rows go in, in order. Files before rows: a row never names a missing file.
        // Twice the cores: a worker waiting on fsync leaves its core to another one decoding.
        let workers = (2 * std::thread::available_parallelism().map_or(1, |n| n.get())).min(photos.len().max(1));
        let next = std::sync::atomic::AtomicUsize::new(0);
        let dir = self.dir.as_path();
        let results: Vec<std::sync::Mutex<Option<Result<photo::PhotoMeta>>>> = photos.iter().map(|_| std::sync::Mutex::new(None)).collect();
        std::thread::scope(|scope| {
            for _ in 0..workers {
                scope.spawn(|| loop {
                    let k = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    if k >= photos.len() {
                        break;
                    }
                    let r = write_photo_files(dir, photos[k].1);
                    *results[k].lock().unwrap_or_else(|p| p.into_inner()) = Some(r);
                });
            }
        });
        let mut out = Vec::new();
        for ((item, _, caption), r) in photos.iter().zip(results) {
            let meta = r.into_inner().unwrap_or_else(|p| p.into_inner()).expect("every photo examined")?;
            out.push(self.insert_evidence(id, item, &meta, caption, author, now)?);
        }
        Ok(out)
    }

    fn insert_evidence(&mut self, id: &str, item_id: &str, meta: &photo::PhotoMeta, caption: &str, author: &str, now: &str) -> Result<Evidence> {
        let evidence_id = uuid::Uuid::now_v7().to_string();
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute(
            "INSERT OR IGNORE INTO photos (sha256, size, width, height, orientation, taken_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![meta.sha256, meta.size as i64, meta.width, meta.height, meta.orientation, meta.taken_at],
        )?;
        tx.execute(
            "INSERT INTO evidence (id, inspection_id, item_id, sha256, caption, author, device_id, attached_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![evidence_id, id, item_id, meta.sha256, caption.trim(), author, self.device_id, now],
        )?;
        tx.commit()?;
        Ok(Evidence { id: evidence_id, item_id: item_id.into(), caption: caption.trim().into(), attached_at: now.into(), photo: meta.clone() })
    }

    pub fn evidence(&self, id: &str) -> Result<Vec<Evidence>> {
        let mut st = self.conn.prepare(
            "SELECT e.id, e.item_id, e.caption, e.attached_at, p.sha256, p.size, p.width, p.height, p.orientation, p.taken_at
             FROM evidence e JOIN photos p ON p.sha256 = e.sha256 WHERE e.inspection_id = ?1 ORDER BY e.attached_at, e.id",
        )?;
        let rows = st.query_map([id], |r| {
            Ok(Evidence {
                id: r.get(0)?,
                item_id: r.get(1)?,
                caption: r.get(2)?,
                attached_at: r.get(3)?,
                photo: photo_meta_at(r, 4)?,
            })
        })?;
        Ok(rows.collect::<std::result::Result<Vec<_>, _>>()?)
    }

    pub fn photo_path(&self, sha256: &str) -> PathBuf {
        photo_path_in(&self.dir, sha256)
    }

    pub fn thumb_path(&self, sha256: &str) -> PathBuf {
        thumb_path_in(&self.dir, sha256)
    }

    /// `PRAGMA integrity_check`: "ok" for a sound database.
    pub fn integrity_check(&self) -> Result<String> {
        Ok(self.conn.query_row("PRAGMA integrity_check", [], |r| r.get(0))?)
    }
}

fn check_open(insp: &Inspection, amendment: Option<&str>) -> Result<()> {
    match (&insp.finished_at, amendment) {
        (Some(_), None) => Err(StoreError::Finished(insp.id.clone())),
        (None, Some(_)) => Err(StoreError::Invalid("the inspection is still a draft: change the answer directly".into())),
        _ => Ok(()),
    }
}

/// Appends one event and updates the answers cache, inside the caller's transaction.
#[allow(clippy::too_many_arguments)]
fn append_event(
    tx: &rusqlite::Transaction<'_>,
    id: &str,
    device: &str,
    key: &str,
    value: Option<Value>,
    author: &str,
    now: &str,
    amendment: Option<&str>,
) -> Result<Event> {
    let previous: Option<String> = tx
        .query_row("SELECT value FROM answers WHERE inspection_id = ?1 AND key = ?2", params![id, key], |r| r.get(0))
        .optional()?;
    // Never earlier than this inspection's last event: a clock that steps back must not
    // reorder the device's own edits (the event order is by time first).
    let last: Option<String> = tx.query_row("SELECT max(recorded_at) FROM events WHERE inspection_id = ?1", [id], |r| r.get(0))?;
    let now = match last {
        Some(l) if time_key(&l) > time_key(now) => l,
        _ => now.to_string(),
    };
    let now = now.as_str();
    let event = Event {
        id: uuid::Uuid::now_v7().to_string(),
        key: key.to_string(),
        value,
        previous: previous.as_deref().map(|p| serde_json::from_str(p).expect("stored JSON")),
        author: author.to_string(),
        device_id: device.to_string(),
        recorded_at: now.to_string(),
        amendment: amendment.map(str::to_string),
    };
    let value_text = event.value.as_ref().map(|v| v.to_string());
    tx.execute(
        "INSERT INTO events (id, inspection_id, key, value, previous, author, device_id, recorded_at, amendment)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        params![event.id, id, key, value_text, previous, event.author, event.device_id, now, event.amendment],
    )?;
    match &value_text {
        Some(v) => tx.execute(
            "INSERT INTO answers (inspection_id, key, value, event_id) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (inspection_id, key) DO UPDATE SET value = excluded.value, event_id = excluded.event_id",
            params![id, key, v, event.id],
        )?,
        None => tx.execute("DELETE FROM answers WHERE inspection_id = ?1 AND key = ?2", params![id, key])?,
    };
    Ok(event)
}

/// The observation document (docs/observations.md) of an inspection with these answers. One
/// function for the store and for bundles, so a report's evidence hash can be recomputed
/// from a bundle alone.
pub fn observation_document_of(insp: &Inspection, answers: BTreeMap<String, Value>) -> Value {
    let mut plain = serde_json::Map::new();
    let mut veto = serde_json::Map::new();
    for (k, v) in answers {
        match k.strip_prefix("veto:") {
            Some(vid) => {
                veto.insert(vid.to_string(), v);
            }
            None => {
                plain.insert(k, v);
            }
        }
    }
    serde_json::json!({
        "format": observation::FORMAT,
        "rubric": insp.rubric_id,
        "rubric_version": insp.rubric_version,
        "site": { "name": insp.site_name, "address": insp.site_address, "level": insp.site_level },
        "assessor": { "name": insp.assessor_name, "unit": insp.assessor_unit, "title": insp.assessor_title, "phone": insp.assessor_phone },
        "visited_on": insp.visited_on,
        "answers": plain,
        "veto": veto,
    })
}

/// A photo's columns (sha256, size, width, height, orientation, taken_at) from `at` on.
fn photo_meta_at(r: &rusqlite::Row<'_>, at: usize) -> rusqlite::Result<photo::PhotoMeta> {
    Ok(photo::PhotoMeta {
        sha256: r.get(at)?,
        size: r.get::<_, i64>(at + 1)? as u64,
        width: r.get(at + 2)?,
        height: r.get(at + 3)?,
        orientation: r.get(at + 4)?,
        taken_at: r.get(at + 5)?,
    })
}

fn events_in(conn: &Connection, id: &str) -> Result<Vec<Event>> {
    let mut st = conn.prepare(
        "SELECT id, key, value, previous, author, device_id, recorded_at, amendment FROM events
         WHERE inspection_id = ?1 ORDER BY seq",
    )?;
    let rows = st.query_map([id], |r| {
        let parse = |s: Option<String>| s.map(|s| serde_json::from_str::<Value>(&s).expect("stored JSON"));
        Ok(Event {
            id: r.get(0)?,
            key: r.get(1)?,
            value: parse(r.get(2)?),
            previous: parse(r.get(3)?),
            author: r.get(4)?,
            device_id: r.get(5)?,
            recorded_at: r.get(6)?,
            amendment: r.get(7)?,
        })
    })?;
    let events = rows.collect::<std::result::Result<Vec<_>, _>>()?;
    let mut order: Vec<&Event> = events.iter().collect();
    sort_events(&mut order);
    Ok(order.into_iter().cloned().collect())
}

/// Rebuilds the answers cache of one inspection, inside the caller's transaction.
fn rebuild_answers_in(conn: &Connection, id: &str) -> Result<()> {
    let events = events_in(conn, id)?;
    let mut last_event: BTreeMap<&str, &str> = BTreeMap::new();
    for e in &events {
        last_event.insert(&e.key, &e.id);
    }
    let answers = derive_answers(&events);
    conn.execute("DELETE FROM answers WHERE inspection_id = ?1", [id])?;
    for (k, v) in &answers {
        conn.execute(
            "INSERT INTO answers (inspection_id, key, value, event_id) VALUES (?1, ?2, ?3, ?4)",
            params![id, k, v.to_string(), last_event[k.as_str()]],
        )?;
    }
    Ok(())
}

/// Rubrics a bundle may use: those built into hallmark and those already pinned here.
fn known_rubrics(store: &Store) -> Result<Vec<(String, String, String)>> {
    let mut out = Vec::new();
    for (name, text) in hallmark_core::builtin::ALL {
        if let Ok(r) = Rubric::load(name, text) {
            out.push((r.id, r.version, r.content_hash));
        }
    }
    let mut st = store.conn.prepare("SELECT DISTINCT rubric_id, rubric_version, rubric_hash FROM inspections")?;
    for row in st.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))? {
        out.push(row?);
    }
    Ok(out)
}

fn signature_path_in(dir: &Path, sha256: &str) -> PathBuf {
    dir.join("signatures").join(format!("{sha256}.png"))
}

fn photo_path_in(dir: &Path, sha256: &str) -> PathBuf {
    dir.join("photos").join(&sha256[..2]).join(format!("{sha256}.jpg"))
}

fn thumb_path_in(dir: &Path, sha256: &str) -> PathBuf {
    dir.join("thumbs").join(&sha256[..2]).join(format!("{sha256}.jpg"))
}

/// Checks a photo and writes it and its thumbnail durably. Runs on worker threads.
fn write_photo_files(dir: &Path, bytes: &[u8]) -> Result<photo::PhotoMeta> {
    let (meta, thumb) = photo::examine(bytes).map_err(StoreError::Invalid)?;
    photo::write_durably(&photo_path_in(dir, &meta.sha256), bytes).map_err(|e| io("cannot store the photo", e))?;
    photo::write_durably(&thumb_path_in(dir, &meta.sha256), &thumb).map_err(|e| io("cannot store the thumbnail", e))?;
    Ok(meta)
}

fn pinned_rubric(insp: &Inspection) -> Result<Rubric> {
    let rubric = Rubric::load(&format!("pinned rubric of inspection {}", insp.id), &insp.rubric_content).map_err(|e| {
        StoreError::Rubric(format!(
            "inspection '{}' ({}): its pinned rubric '{}' v{} does not load: {e} (the stored copy is damaged; restore this inspection from a bundle)",
            insp.id, insp.site_name, insp.rubric_id, insp.rubric_version
        ))
    })?;
    if rubric.content_hash != insp.rubric_hash {
        return Err(StoreError::Rubric(format!(
            "inspection '{}' ({}): its pinned rubric '{}' v{} does not match its recorded hash (the stored copy was altered; restore this inspection from a bundle)",
            insp.id, insp.site_name, insp.rubric_id, insp.rubric_version
        )));
    }
    Ok(rubric)
}

/// Checks a value for `key` (an input id, or `veto:<id>`) against the rubric.
pub fn check_value(rubric: &Rubric, key: &str, value: Option<&Value>) -> Result<()> {
    if let Some(veto) = key.strip_prefix("veto:") {
        if !rubric.veto.iter().any(|v| v.id == veto) {
            return Err(StoreError::Invalid(format!("unknown veto '{veto}' in rubric '{}'", rubric.id)));
        }
        return match value {
            None | Some(Value::Bool(_)) => Ok(()),
            Some(v) => Err(StoreError::Invalid(format!("veto '{veto}': {v} is not true/false"))),
        };
    }
    let (_, input) = rubric
        .input(key)
        .ok_or_else(|| StoreError::Invalid(format!("unknown input '{key}' in rubric '{}'", rubric.id)))?;
    if let Some(v) = value {
        observation::parse_answer(input, v).map_err(|m| StoreError::Invalid(format!("{}（{key}）: {m}", input.label)))?;
    }
    Ok(())
}

fn migrate(conn: &mut Connection) -> Result<()> {
    let current: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if current as usize > MIGRATIONS.len() {
        return Err(StoreError::Invalid(format!(
            "the database is from a newer hallmark (schema {current}, this build knows {}): update hallmark",
            MIGRATIONS.len()
        )));
    }
    for (n, sql) in MIGRATIONS.iter().enumerate().skip(current as usize) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", (n + 1) as i64)?;
        tx.commit()?;
    }
    Ok(())
}
