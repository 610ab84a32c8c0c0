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
//! - [`panels`]: the lead's explicit panels (which inspections one report merges, exclusions
//!   with reasons); [`captions`]: photo captions fixed and photos withdrawn, as events;
//!   [`site_details`]: report details remembered per site.
//! - [`durable`]: the one temp-file + fsync + rename writer; [`identity`]: the device key.
//!
//! Time and authorship are passed in (`now`, `author`); ids are uuid v7 made here
//! (`Uuid::now_v7` reads the clock for the id's time prefix only: ordering, never meaning).
//! It must never depend on Tauri.

pub mod bundle;
pub mod captions;
pub mod conflicts;
pub mod demo;
pub mod durable;
pub mod enrollment;
pub mod events;
pub mod evidence;
pub mod identity;
pub mod inspections;
pub mod merge;
pub mod panels;
pub mod photo;
pub mod recovery;
pub mod rectifications;
pub mod report_issues;
pub mod reviews;
pub mod roster;
pub mod schema;
pub mod services;
pub mod site_details;
pub mod sync;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use hallmark_core::hex::unhex;
use hallmark_core::rubric::Rubric;
use rusqlite::Connection;

pub use enrollment::{Enrollment, TrustEntry};
pub use events::{check_value, derive_answers, sort_events, time_key, Event};
pub use evidence::{Evidence, SignatureImage};
pub use hallmark_core::date::is_timestamp;
pub use inspections::{observation_document_of, Inspection, InspectionSummary, NewInspection};
pub use services::{ServiceEntry, ServiceRecord};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database: {}", sqlite_words(.0))]
    Sqlite(#[from] rusqlite::Error),
    #[error("{0}")]
    Io(String),
    /// The input was refused; nothing was stored.
    #[error("{0}")]
    Invalid(String),
    /// A value refused by the pinned rubric (out of range, wrong kind): nothing was stored.
    #[error("{}", .0.message)]
    Reading(Box<RefusedReading>),
    /// Text longer than its field allows ([`inspections::check_length`]): nothing was stored.
    #[error("{message}")]
    TooLong { message: String, field: String, length: usize, max: usize },
    /// The device's clock reads an impossible time (1970, 2100, 2026-02-31): nothing was
    /// stored; the user sets the date and time and tries again. `value` is what it read.
    #[error("{message}")]
    Clock { message: String, value: String },
    #[error("no inspection '{0}' (it may belong to another device's database)")]
    NotFound(String),
    #[error("inspection '{0}' is finished: record a change as an amendment with a reason")]
    Finished(String),
    #[error("{0}")]
    Rubric(String),
    /// A bundle was refused; the database is unchanged.
    #[error("{0}")]
    Bundle(String),
    /// No database where one was expected (nothing was created).
    #[error("{0}: no hallmark database here (a typo? importing a bundle, or the app's first start, makes one)")]
    Missing(String),
    /// The database failed its check: nothing may be written or signed from it.
    #[error("{file} is damaged ({detail}): nothing was changed; restore a backup (`hallmark restore --from BACKUP --db DB`) or rebuild it from the bundles (`hallmark rebuild --from DIR --db NEW`)")]
    Damaged { file: String, detail: String },
    /// `device.key` is not the key this database was made with: signing stops.
    #[error("{file} is not this database's device key (its fingerprint is {found}, the database was made with {recorded}): restore the original device.key from a backup; a new key would sign as another device")]
    KeyChanged { file: String, found: String, recorded: String },
    /// A certificate, chain, root or revocation list was refused (issue #10): the message and
    /// [`hallmark_trust::TrustError::code`] say why; nothing was stored.
    #[error("{0}")]
    Trust(hallmark_trust::TrustError),
}

impl StoreError {
    /// A stable code for the UI to branch on (never on the message).
    pub fn code(&self) -> &'static str {
        match self {
            StoreError::Sqlite(_) => "database",
            StoreError::Io(_) => "io",
            StoreError::Invalid(_) | StoreError::Reading(_) | StoreError::TooLong { .. } => "invalid",
            StoreError::Clock { .. } => "clock",
            StoreError::NotFound(_) => "not_found",
            StoreError::Finished(_) => "finished",
            StoreError::Rubric(_) => "rubric",
            StoreError::Bundle(_) => "bundle",
            StoreError::Missing(_) => "missing",
            StoreError::Damaged { .. } => "damaged",
            StoreError::KeyChanged { .. } => "key_changed",
            StoreError::Trust(e) => e.code(),
        }
    }
}

/// A reading the pinned rubric refused: `input` is the input id, `value` what was given;
/// `min`, `max` and `unit` the rubric's (as its text writes them).
#[derive(Debug)]
pub struct RefusedReading {
    pub message: String,
    pub input: String,
    pub label: String,
    pub value: serde_json::Value,
    pub min: Option<String>,
    pub max: Option<String>,
    pub unit: Option<String>,
}

impl StoreError {
    /// The error's facts as a JSON object, for a UI that words the error itself (in Chinese)
    /// from [`StoreError::code`] and these, never from the English message. Always an object,
    /// `{}` when there is nothing to add. `kind` refines `invalid` ("reading", "too_long").
    pub fn fields(&self) -> serde_json::Value {
        use serde_json::json;
        match self {
            StoreError::Reading(r) => {
                json!({ "kind": "reading", "input": r.input, "label": r.label, "value": r.value, "min": r.min, "max": r.max, "unit": r.unit })
            }
            StoreError::TooLong { field, length, max, .. } => json!({ "kind": "too_long", "field": field, "length": length, "max": max }),
            StoreError::Clock { value, .. } => json!({ "value": value }),
            StoreError::NotFound(id) => json!({ "id": id }),
            StoreError::Finished(id) => json!({ "inspection": id }),
            StoreError::Bundle(message) => json!({ "file": bundle_file(message), "reason_code": bundle_reason(message) }),
            StoreError::Missing(file) => json!({ "file": file }),
            StoreError::Damaged { file, detail } => json!({ "file": file, "detail": detail }),
            StoreError::KeyChanged { file, found, recorded } => json!({ "file": file, "found": found, "recorded": recorded }),
            StoreError::Trust(e) => trust_fields(e),
            StoreError::Sqlite(_) | StoreError::Io(_) | StoreError::Invalid(_) | StoreError::Rubric(_) => json!({}),
        }
    }
}

/// The facts of a refused certificate: who it names (`name`), and the dates, serial, issuer or
/// roles that make it wrong, so the UI says in Chinese which certificate and why.
fn trust_fields(e: &hallmark_trust::TrustError) -> serde_json::Value {
    use hallmark_trust::TrustError as T;
    use serde_json::json;
    match e {
        T::Malformed { file, detail } => json!({ "file": file, "detail": detail }),
        T::NoCertificate | T::NoTrustRoot => json!({}),
        T::Expired { name, not_after, at } => json!({ "name": name, "not_after": not_after, "at": at }),
        T::NotYetValid { name, not_before, at } => json!({ "name": name, "not_before": not_before, "at": at }),
        T::Revoked { name, serial, issuer, revoked_at, at } => {
            json!({ "name": name, "serial": serial, "issuer": issuer, "revoked_at": revoked_at, "at": at })
        }
        T::SelfSigned { name } => json!({ "name": name }),
        T::UnknownIssuer { name, issuer } => json!({ "name": name, "issuer": issuer }),
        T::WrongRole { name, has, wanted } => json!({ "name": name, "has": has, "wanted": wanted }),
        T::KeyMismatch { name, cert_key, signer_key } => json!({ "name": name, "cert_key": cert_key, "signer_key": signer_key }),
        T::Invalid { name, detail } => json!({ "name": name, "detail": detail }),
        T::Authority(detail) | T::Io(detail) => json!({ "detail": detail }),
    }
}

/// The file a bundle refusal names: every refusal starts "bundle 'FILE': " (hallmark-bundle's
/// `refused`, the store's `bundle_err`).
fn bundle_file(message: &str) -> String {
    message.strip_prefix("bundle '").and_then(|rest| rest.split_once("': ")).map(|(f, _)| f.to_string()).unwrap_or_default()
}

/// Why a bundle was refused, from a closed set the UI words: the refusals are made in
/// hallmark-bundle and in the store as messages, so the reason is read from their fixed
/// phrases here, in one place next to them, and pinned by tests/panels.rs.
/// - `untrusted`: the signer's certificate chain is refused (issue #10: expired, revoked,
///   another bureau's, not an assessor's, another name or key);
/// - `signature`: the signature does not verify, or another key signed it;
/// - `altered`: a file does not match the signed manifest, or an entry is unlisted or unsafe;
/// - `damaged`: truncated, empty, not a bundle, cannot be opened or read;
/// - `too_big`: more entries or bytes than a bundle may hold;
/// - `newer_format`: a bundle format this hallmark does not read yet;
/// - `unknown_rubric`: its rubric is not one this hallmark knows;
/// - `own_device`: the inspection was recorded on this device;
/// - `contradicts`: it contradicts what this database holds;
/// - `invalid`: anything else in its content (a reading out of range, say).
fn bundle_reason(message: &str) -> &'static str {
    let m = message.to_ascii_lowercase();
    let has = |w: &[&str]| w.iter().any(|p| m.contains(p));
    if has(&["signer's certificate is refused"]) {
        "untrusted"
    } else if has(&[
        "signature does not verify",
        "signed by another key",
        "malformed key or signature",
        "signature algorithm",
        "is not a signature record",
    ]) {
        "signature"
    } else if has(&["recorded on this device"]) {
        "own_device"
    } else if has(&["zip bomb", "more than the"]) {
        "too_big"
    } else if has(&["format version"]) {
        "newer_format"
    } else if has(&["rubric"]) && has(&["is unknown", "does not load"]) {
        "unknown_rubric"
    } else if has(&["contradict", "differs from", "is already here as"]) {
        "contradicts"
    } else if has(&["was altered", "altered or damaged", "absolute or climbs out"]) {
        "altered"
    } else if has(&["truncated", "cut short", "cannot open", "cannot read", "too short", "not a hallmark bundle", "damaged", "not json"]) {
        "damaged"
    } else {
        "invalid"
    }
}

pub type Result<T> = std::result::Result<T, StoreError>;

/// SQLite's error, and for a value that cannot be read back what it most likely means.
fn sqlite_words(e: &rusqlite::Error) -> String {
    match e {
        rusqlite::Error::FromSqlConversionFailure(..) | rusqlite::Error::Utf8Error(..) | rusqlite::Error::InvalidColumnType(..) => {
            format!("a stored value cannot be read ({e}): the database may be damaged; run `hallmark check --db DB`")
        }
        _ => e.to_string(),
    }
}

/// A JSON value as stored by this store; one that does not parse is damage, not a panic.
pub(crate) fn stored_json(s: &str) -> Result<serde_json::Value> {
    serde_json::from_str(s).map_err(|e| StoreError::Damaged { file: "the database".into(), detail: format!("a stored value is not JSON ({e})") })
}

/// [`stored_json`] inside a row mapper.
pub(crate) fn stored_json_at<T: serde::de::DeserializeOwned>(col: usize, s: &str) -> rusqlite::Result<T> {
    serde_json::from_str(s).map_err(|e| rusqlite::Error::FromSqlConversionFailure(col, rusqlite::types::Type::Text, Box::new(e)))
}

fn io(what: &str, e: std::io::Error) -> StoreError {
    StoreError::Io(format!("{what}: {e}"))
}

pub struct Store {
    conn: Connection,
    dir: PathBuf,
    device_id: String,
    key: identity::DeviceKey,
    /// Set when `device.key` is not the key recorded in the database (see [`Store::signing_key`]).
    key_changed: Option<StoreError>,
    access: Access,
    /// What the opener should tell the user (a key file fixed to 0600, say); English, for logs.
    notices: Vec<String>,
    /// The temp copy a read-only open of a WAL database on a read-only medium works on.
    _copy: Option<tempfile::TempDir>,
    /// Set once `integrity_check` has passed in this session ([`Store::ensure_sound`]).
    sound: std::cell::Cell<bool>,
    /// The database file, for messages.
    db_file: PathBuf,
    /// Pinned rubrics already parsed, by content hash (the text is re-hashed on every use,
    /// so a tampered copy is still refused; only the parse is saved).
    parsed: std::cell::RefCell<BTreeMap<String, Rubric>>,
    /// The trusted roots and CRLs as of a generation of `trust_anchors` (a sync server checks
    /// every request's chain against them; parsed again only when one is added).
    trust_cache: std::cell::RefCell<Option<(i64, hallmark_trust::TrustStore)>>,
}

pub const DB_FILE: &str = "hallmark.sqlite3";

/// How a database is opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Make the database if there is none: `import`, `roster add`, the app's first start. A
    /// missing or empty database in a folder that was already used (it has a `device.key`) is
    /// damage, not a first start, and is refused.
    Create,
    /// An existing database, to write: a missing or empty file is refused, never created.
    Existing,
    /// An existing database, never written (`list`, `merge`, `scores`, `check`): works on a
    /// read-only folder or medium. No migration, no temp sweep, no key made.
    ReadOnly,
}

impl Store {
    /// Opens (creating if needed) the store in `dir`, migrating the schema.
    pub fn open(dir: &Path, now: &str) -> Result<Store> {
        Store::open_at(&dir.join(DB_FILE), dir, now)
    }

    /// Opens a database file with its files (photos, key) in `dir`, creating it if needed.
    /// `hallmark --db lead.db` uses `lead.db` with `lead.db-files/`.
    pub fn open_at(db: &Path, dir: &Path, now: &str) -> Result<Store> {
        Store::open_with(db, dir, Access::Create, now)
    }

    /// Opens a database: checked (`PRAGMA quick_check`; a damaged file is refused with
    /// [`StoreError::Damaged`] before anything is written), migrated unless read-only, with
    /// its device key checked against the one the database recorded.
    pub fn open_with(db: &Path, dir: &Path, access: Access, now: &str) -> Result<Store> {
        let shown = db.display().to_string();
        match std::fs::metadata(db) {
            Ok(m) if m.is_dir() => return Err(StoreError::Invalid(format!("{shown} is a folder, not a database file"))),
            Ok(m) if m.len() == 0 && (access != Access::Create || dir.join(identity::KEY_FILE).exists()) => {
                return Err(StoreError::Damaged { file: shown, detail: "the file is empty (0 bytes)".into() });
            }
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(io(&format!("cannot open {shown}"), e)),
            Err(_) if access != Access::Create => return Err(StoreError::Missing(shown)),
            Err(_) if dir.join(identity::KEY_FILE).exists() && dir.join("photos").exists() => {
                return Err(StoreError::Damaged { file: shown, detail: "the database file is missing but its folder has been used".into() });
            }
            _ => {}
        }
        if access != Access::ReadOnly {
            std::fs::create_dir_all(dir).map_err(|e| io(&format!("cannot create data folder '{}'", dir.display()), e))?;
        }
        let (mut conn, mut copy_dir) = open_connection(db, access)?;
        // Before anything that may wait on another opener's lock (WAL switch, migrations).
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        check_quick(&conn, &shown)?;
        let device_id = if access == Access::ReadOnly {
            let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0)).map_err(|e| damaged(&shown, e))?;
            if version as usize > schema::CURRENT {
                return Err(StoreError::Invalid(format!(
                    "{shown} is from a newer hallmark (schema {version}, this build knows {}): update hallmark",
                    schema::CURRENT
                )));
            }
            if (version as usize) < schema::CURRENT {
                // An older database is read through a migrated copy: the file itself is never
                // written by a read-only command.
                let (mut copied, dir) = copy_for_reading(db)?;
                schema::migrate(&mut copied, now)?;
                conn = copied;
                copy_dir = Some(dir);
            }
            conn.query_row("SELECT id FROM device", [], |r| r.get(0)).map_err(|e| damaged(&shown, e))?
        } else {
            // Switching a new database to WAL needs it to itself, and SQLite answers BUSY at
            // once (no busy handler) while another first opener holds it: retry for 5 s.
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
            loop {
                match conn.pragma_update(None, "journal_mode", "WAL") {
                    Err(rusqlite::Error::SqliteFailure(e, _))
                        if e.code == rusqlite::ErrorCode::DatabaseBusy && std::time::Instant::now() < deadline =>
                    {
                        std::thread::sleep(std::time::Duration::from_millis(10));
                    }
                    other => break other.map_err(|e| damaged(&shown, e))?,
                }
            }
            conn.pragma_update(None, "synchronous", "FULL")?;
            conn.pragma_update(None, "foreign_keys", "ON")?;
            schema::migrate(&mut conn, now).map_err(|e| match e {
                StoreError::Sqlite(e) => damaged(&shown, e),
                other => other,
            })?
        };
        let mut notices = Vec::new();
        let key = if access == Access::ReadOnly {
            identity::DeviceKey::load(dir, &mut notices).map_err(StoreError::Io)?
        } else {
            identity::DeviceKey::load_or_create(dir, &mut notices).map_err(StoreError::Io)?
        };
        let key_changed = check_key(&conn, &key, dir, access)?;
        if access != Access::ReadOnly {
            // Temp files a killed writer left in every folder the store writes files into.
            for folder in ["photos", "thumbs", "signatures"] {
                durable::sweep_temp_files(&dir.join(folder));
            }
            recovery::sweep_staging(dir);
        }
        Ok(Store {
            conn,
            dir: dir.to_path_buf(),
            device_id,
            key,
            key_changed,
            access,
            notices,
            _copy: copy_dir,
            sound: Default::default(),
            db_file: db.to_path_buf(),
            parsed: Default::default(),
            trust_cache: Default::default(),
        })
    }

    pub fn device_id(&self) -> &str {
        &self.device_id
    }

    /// This device's key (Ed25519), made on first open: its public half names the device.
    /// Sign only with [`Store::signing_key`].
    pub fn device_key(&self) -> &identity::DeviceKey {
        &self.key
    }

    /// The key to sign bundles and reports with: refused when `device.key` is not the key the
    /// database recorded, or the store was opened read-only.
    pub fn signing_key(&self) -> Result<&identity::DeviceKey> {
        if let Some(StoreError::KeyChanged { file, found, recorded }) = &self.key_changed {
            return Err(StoreError::KeyChanged { file: file.clone(), found: found.clone(), recorded: recorded.clone() });
        }
        if self.access == Access::ReadOnly {
            return Err(StoreError::Invalid("the database was opened read-only: nothing can be signed from it".into()));
        }
        Ok(&self.key)
    }

    /// The full `integrity_check` (indexes included, which the `quick_check` on open skips),
    /// once per open, before the store writes imported data or anything is signed from it.
    pub fn ensure_sound(&self) -> Result<()> {
        if self.sound.get() {
            return Ok(());
        }
        let found = self.integrity_check()?;
        if found != "ok" {
            return Err(StoreError::Damaged { file: self.db_file.display().to_string(), detail: format!("integrity_check: {found}") });
        }
        self.sound.set(true);
        Ok(())
    }

    /// The database file.
    pub fn db_file(&self) -> &Path {
        &self.db_file
    }

    /// How the store was opened.
    pub fn access(&self) -> Access {
        self.access
    }

    /// What opening the store fixed or noticed (English, for logs and the CLI's stderr).
    pub fn notices(&self) -> &[String] {
        &self.notices
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn schema_version(&self) -> Result<i64> {
        Ok(self.conn.query_row("PRAGMA user_version", [], |r| r.get(0))?)
    }

    /// `PRAGMA integrity_check`: "ok" for a sound database, else its first findings.
    pub fn integrity_check(&self) -> Result<String> {
        let mut st = self.conn.prepare("PRAGMA integrity_check(20)")?;
        let rows: Vec<String> = st.query_map([], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?;
        Ok(rows.join("; "))
    }
}

/// Opens the SQLite connection. Read-only opens use `mode=ro`; on a folder this process may
/// not write, SQLite cannot make the WAL index (`-shm`) a read-only open of a WAL database
/// needs, so: with no `-wal` file (the last writer closed cleanly and checkpointed) the file
/// is opened `immutable=1`, which is safe because nothing can change it there either; with a
/// `-wal` file it is copied (database and WAL) to a temp folder and the copy is opened, as
/// `immutable=1` would silently miss the transactions still in the WAL. The copy is also read
/// when a killed writer left a WAL that needs recovery, which a read-only connection cannot do.
fn open_connection(db: &Path, access: Access) -> Result<(rusqlite::Connection, Option<tempfile::TempDir>)> {
    use rusqlite::OpenFlags;
    let shown = db.display().to_string();
    if access != Access::ReadOnly {
        return Ok((rusqlite::Connection::open(db).map_err(|e| damaged(&shown, e))?, None));
    }
    let folder = db.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_URI | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let mut wal = db.as_os_str().to_owned();
    wal.push("-wal");
    let wal = PathBuf::from(wal);
    let writable = folder_writable(folder);
    // `immutable=1` only where nothing can write: a read-only mount. A folder only this user
    // cannot write may have a writer of its own, so it is read through a copy.
    if writable || (read_only_mount(folder) && !wal.exists()) {
        let extra = if writable { "" } else { "&immutable=1" };
        let uri = format!("file:{}?mode=ro{extra}", percent_path(db));
        let conn = rusqlite::Connection::open_with_flags(uri, flags).map_err(|e| damaged(&shown, e))?;
        // A writer killed mid-transaction leaves a WAL that needs recovery, which a read-only
        // connection may not run (SQLITE_READONLY_RECOVERY): then read a copy, as below.
        match conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get::<_, i64>(0)) {
            Err(rusqlite::Error::SqliteFailure(e, _)) if e.code == rusqlite::ErrorCode::ReadOnly && wal.exists() => {}
            _ => return Ok((conn, None)),
        }
    }
    let (conn, dir) = copy_for_reading(db)?;
    Ok((conn, Some(dir)))
}

/// Copies a database and its WAL (the WAL first, then the file, then the WAL again if it
/// changed meanwhile) into a temp folder and opens the copy to write: SQLite recovers the
/// copy's WAL there, never the original's.
fn copy_for_reading(db: &Path) -> Result<(rusqlite::Connection, tempfile::TempDir)> {
    let shown = db.display().to_string();
    let copy = tempfile::tempdir().map_err(|e| io("cannot make a temp folder for a read-only copy", e))?;
    let to = copy.path().join(DB_FILE);
    let wal = PathBuf::from(format!("{}-wal", db.display()));
    let to_wal = PathBuf::from(format!("{}-wal", to.display()));
    for _ in 0..5 {
        let stamp = |p: &Path| std::fs::metadata(p).ok().map(|m| (m.len(), m.modified().ok()));
        let (db_before, wal_before) = (stamp(db), stamp(&wal));
        std::fs::copy(db, &to).map_err(|e| io(&format!("cannot copy {shown}"), e))?;
        let _ = std::fs::remove_file(&to_wal);
        if wal.exists() {
            std::fs::copy(&wal, &to_wal).map_err(|e| io(&format!("cannot copy {}", wal.display()), e))?;
        }
        if stamp(db) == db_before && stamp(&wal) == wal_before {
            break;
        }
    }
    let conn = rusqlite::Connection::open(&to).map_err(|e| damaged(&shown, e))?;
    Ok((conn, copy))
}

/// Whether `folder` is on a file system mounted read-only (statvfs `ST_RDONLY`).
#[cfg(target_os = "linux")]
fn read_only_mount(folder: &Path) -> bool {
    use std::os::unix::ffi::OsStrExt;
    let Ok(c) = std::ffi::CString::new(folder.as_os_str().as_bytes()) else { return false };
    let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
    // SAFETY: a valid C string and a zeroed statvfs the call fills in.
    let rc = unsafe { libc::statvfs(c.as_ptr(), &mut st) };
    rc == 0 && st.f_flag & libc::ST_RDONLY != 0
}

#[cfg(not(target_os = "linux"))]
fn read_only_mount(_folder: &Path) -> bool {
    false
}

fn folder_writable(folder: &Path) -> bool {
    let probe = durable::temp_path_for(&folder.join("probe"));
    match std::fs::OpenOptions::new().write(true).create_new(true).open(&probe) {
        Ok(_) => {
            let _ = std::fs::remove_file(&probe);
            true
        }
        Err(_) => false,
    }
}

/// A path as a `file:` URI path (RFC 3986: `?`, `#` and `%` escaped).
fn percent_path(path: &Path) -> String {
    let abs = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    abs.to_string_lossy().replace('%', "%25").replace('?', "%3f").replace('#', "%23")
}

/// SQLite's own words for a file that is not a sound database become [`StoreError::Damaged`].
fn damaged(file: &str, e: rusqlite::Error) -> StoreError {
    match &e {
        rusqlite::Error::SqliteFailure(f, _) if matches!(f.code, rusqlite::ErrorCode::NotADatabase | rusqlite::ErrorCode::DatabaseCorrupt) => {
            StoreError::Damaged { file: file.to_string(), detail: e.to_string() }
        }
        _ => StoreError::Sqlite(e),
    }
}

/// `PRAGMA quick_check` (O(N), no index cross-check: cheap enough for every open).
fn check_quick(conn: &rusqlite::Connection, file: &str) -> Result<()> {
    let mut st = conn.prepare("PRAGMA quick_check(5)").map_err(|e| damaged(file, e))?;
    let rows: Vec<String> =
        st.query_map([], |r| r.get(0)).map_err(|e| damaged(file, e))?.collect::<rusqlite::Result<_>>().map_err(|e| damaged(file, e))?;
    if rows != ["ok"] {
        return Err(StoreError::Damaged { file: file.to_string(), detail: format!("quick_check: {}", rows.join("; ")) });
    }
    Ok(())
}

/// Compares `device.key` with the public key the database recorded (recording it on the first
/// open that can). A different key does not stop reading, only signing.
fn check_key(conn: &rusqlite::Connection, key: &identity::DeviceKey, dir: &Path, access: Access) -> Result<Option<StoreError>> {
    let recorded: Option<String> = conn.query_row("SELECT public_key FROM device", [], |r| r.get(0))?;
    match recorded {
        None if access != Access::ReadOnly => {
            conn.execute("UPDATE device SET public_key = ?1 WHERE public_key IS NULL", [key.public_key_hex()])?;
            Ok(None)
        }
        Some(r) if r != key.public_key_hex() => Ok(Some(StoreError::KeyChanged {
            file: dir.join(identity::KEY_FILE).display().to_string(),
            found: key.fingerprint(),
            recorded: unhex(&r).map(|b| identity::fingerprint_of(&b)).unwrap_or(r),
        })),
        _ => Ok(None),
    }
}
