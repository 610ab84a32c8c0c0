//! hallmark-store: the inspector's (and the lead's) durable store.
//!
//! Owns one data folder: `hallmark.sqlite3` (WAL, `synchronous = FULL`: a change is on disk
//! before `record` returns), `photos/` (originals by SHA-256), `thumbs/` (320 px),
//! `signatures/` and `device.key`.
//!
//! - [`schema`]: numbered migrations, one transaction each, tracked by `PRAGMA user_version`.
//! - [`inspections`]: an inspection pins its rubric (id, version, hash, full text), so a later
//!   rubric edit never changes an old inspection's score; the score sheet is always computed.
//! - [`events`]: observations are an append-only event log (SQLite triggers refuse UPDATE and
//!   DELETE); current answers are a cache derived from it ([`derive_answers`]). A finished
//!   inspection changes only by amendments with a reason. Every value is checked against the
//!   pinned rubric before anything is written.
//! - [`services`]: the observed-service log that feeds counts and tallies.
//! - [`evidence`]: photos (checked, thumbnailed, stored once by hash) and signature images.
//! - [`bundle`]: export to and import from signed `.hallmark` bundles (the format and its
//!   verification live in hallmark-bundle), [`roster`], [`conflicts`], [`merge`].
//! - [`durable`]: the one temp-file + fsync + rename writer; [`identity`]: the device key.
//!
//! Time and authorship are passed in (`now`, `author`); ids are uuid v7 made here
//! (`Uuid::now_v7` reads the clock for the id's time prefix only: ordering, never meaning).
//! It must never depend on Tauri.

pub mod bundle;
pub mod conflicts;
pub mod demo;
pub mod durable;
pub mod events;
pub mod evidence;
pub mod identity;
pub mod inspections;
pub mod merge;
pub mod photo;
pub mod report_issues;
pub mod roster;
pub mod schema;
pub mod services;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use hallmark_core::rubric::Rubric;
use rusqlite::Connection;

pub use events::{check_value, derive_answers, sort_events, time_key, Event};
pub use evidence::{Evidence, SignatureImage};
pub use hallmark_core::date::is_timestamp;
pub use inspections::{observation_document_of, Inspection, InspectionSummary, NewInspection};
pub use services::{ServiceEntry, ServiceRecord};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("{0}")]
    Io(String),
    /// The input was refused; nothing was stored.
    #[error("{0}")]
    Invalid(String),
    /// The device's clock reads an impossible time (1970, 2100, 2026-02-31): nothing was
    /// stored; the user sets the date and time and tries again.
    #[error("{0}")]
    Clock(String),
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
            StoreError::Clock(_) => "clock",
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
        // Before anything that may wait on another opener's lock (WAL switch, migrations).
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        // Switching a new database to WAL needs it to itself, and SQLite answers BUSY at once
        // (no busy handler) while another first opener holds it: retry for the same 5 s.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        loop {
            match conn.pragma_update(None, "journal_mode", "WAL") {
                Err(rusqlite::Error::SqliteFailure(e, _)) if e.code == rusqlite::ErrorCode::DatabaseBusy && std::time::Instant::now() < deadline => {
                    std::thread::sleep(std::time::Duration::from_millis(10));
                }
                other => break other?,
            }
        }
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        let device_id = schema::migrate(&mut conn, now)?;
        let key = identity::DeviceKey::load_or_create(dir).map_err(StoreError::Io)?;
        // Temp files a killed writer left in every folder the store writes files into.
        for folder in ["photos", "thumbs", "signatures"] {
            durable::sweep_temp_files(&dir.join(folder));
        }
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

    /// `PRAGMA integrity_check`: "ok" for a sound database.
    pub fn integrity_check(&self) -> Result<String> {
        Ok(self.conn.query_row("PRAGMA integrity_check", [], |r| r.get(0))?)
    }
}
