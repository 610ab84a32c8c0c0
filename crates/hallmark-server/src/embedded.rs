//! The embedded backend: one data folder. The bundles go into a hallmark store (the same
//! schema and import checks as a lead's database: `DIR/hallmark.sqlite3` and its
//! content-addressed `photos/`, `thumbs/`, `signatures/`); what only a server keeps — the
//! devices that presented certificates, used nonces, bundle heads, signed receipts,
//! assignments — is in `DIR/sync.sqlite3`.
//!
//! Files are received outside any lock (content-addressed, hash-checked, renamed into place);
//! a commit is one store transaction under the store's lock. The issue "Province scale"
//! puts PostgreSQL and S3 behind the same [`crate::Backend`].

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use hallmark_bundle::format::{ListedFile, Manifest};
use hallmark_store::bundle::{receive_file, Imported};
use hallmark_store::sync::HeldBundle;
use hallmark_store::Store;
use hallmark_trust::TrustStore;
use rusqlite::{params, Connection, OptionalExtension};

use crate::halls::Hall;
use crate::{ApiError, Backend, Committed, DeviceRow, Head};

const SCHEMA: &str = "
PRAGMA journal_mode = WAL;
CREATE TABLE IF NOT EXISTS devices (
    public_key    TEXT PRIMARY KEY,
    chain         TEXT NOT NULL,          -- JSON array of PEM blocks, leaf first
    name          TEXT NOT NULL,
    presented_at  TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS nonces (
    public_key  TEXT NOT NULL,
    nonce       TEXT NOT NULL,
    created     INTEGER NOT NULL,
    PRIMARY KEY (public_key, nonce)
);
CREATE TABLE IF NOT EXISTS heads (
    bundle_id      TEXT PRIMARY KEY,
    inspection_id  TEXT NOT NULL,
    signer_key     TEXT NOT NULL,
    head           BLOB NOT NULL,         -- manifest.json and manifest.sig as ustar, as sent
    offered_at     TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS receipts (
    bundle_id  TEXT PRIMARY KEY,
    signed     TEXT NOT NULL,             -- SignedReceiptV1 JSON, sent byte-identical every time
    issued_at  TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS upstream_receipts (
    bundle_id  TEXT NOT NULL,
    upstream   TEXT NOT NULL,             -- the upstream server's URL
    signed     TEXT NOT NULL,             -- its SignedReceiptV1, checked before it was kept
    kept_at    TEXT NOT NULL,
    PRIMARY KEY (bundle_id, upstream)
);
CREATE TABLE IF NOT EXISTS assignments (
    id          TEXT PRIMARY KEY,
    site        TEXT NOT NULL,
    rubric_id   TEXT NOT NULL,
    lead_key    TEXT NOT NULL,
    created_at  TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS assignment_members (
    assignment_id  TEXT NOT NULL REFERENCES assignments(id),
    member_key     TEXT NOT NULL,
    name           TEXT NOT NULL,
    PRIMARY KEY (assignment_id, member_key)
);
";

/// An assignment: the hall and rubric one panel evaluates, its lead and its members (by the
/// keys their certificates certify).
#[derive(Debug, Clone)]
pub struct Assignment {
    pub id: String,
    /// The hall's name: typed (an assignment made with V1), or the registry's for `hall_id`.
    pub site: String,
    /// The registry's hall (V2); its name becomes `site` when the assignment is added.
    pub hall_id: Option<String>,
    pub rubric_id: String,
    pub lead_key: String,
    pub members: Vec<(String, String)>,
    /// Planned visit days (`YYYY-MM-DD`), both or neither.
    pub planned: Option<(String, String)>,
}

/// An assignment as its lead or a member sees it.
#[derive(Debug, Clone)]
pub struct AssignmentOf {
    pub id: String,
    pub site: String,
    pub rubric_id: String,
    /// `lead` or `member`.
    pub role: String,
    pub hall: Option<Hall>,
    pub planned: Option<(String, String)>,
}

/// Why an assignment was not added.
#[derive(Debug, PartialEq, Eq)]
pub enum NotAdded {
    Exists,
    UnknownHall,
}

impl NotAdded {
    pub fn message(&self, a: &Assignment) -> String {
        match self {
            NotAdded::Exists => format!("assignment '{}' exists already (choose another id)", a.id),
            NotAdded::UnknownHall => format!(
                "hall '{}' is not in the registry (hallmark hall import FILE.xlsx first, or check the id with hallmark hall list)",
                a.hall_id.as_deref().unwrap_or_default()
            ),
        }
    }
}

/// Numbered changes to `sync.sqlite3` after its first schema (`PRAGMA user_version`): each runs
/// once, in its own transaction. A data folder written by an earlier hallmark opens and
/// migrates (tested with a saved copy of the first schema).
const MIGRATIONS: &[&str] = &[
    // 1 (issue #11, the hall registry): halls; an assignment's hall and planned days.
    "CREATE TABLE halls (
        id           TEXT PRIMARY KEY,
        region_code  TEXT NOT NULL,          -- GB/T 2260, six digits
        name         TEXT NOT NULL,
        address      TEXT NOT NULL,
        level        TEXT NOT NULL,          -- province, city, county, township
        updated_at   TEXT NOT NULL
    );
    CREATE INDEX halls_by_region ON halls (region_code);
    ALTER TABLE assignments ADD COLUMN hall_id TEXT REFERENCES halls(id);
    ALTER TABLE assignments ADD COLUMN planned_from TEXT;
    ALTER TABLE assignments ADD COLUMN planned_to TEXT;",
    // 2 (issue #11, enrollment over the network): requests from devices and the decisions.
    "CREATE TABLE enrollments (
        public_key   TEXT PRIMARY KEY,       -- Ed25519, hex; the request's key and its signer
        request      TEXT NOT NULL,          -- PKCS#10 PEM as sent
        name         TEXT NOT NULL,
        unit         TEXT NOT NULL,
        title        TEXT NOT NULL,
        device_id    TEXT,
        state        TEXT NOT NULL CHECK (state IN ('pending', 'approved', 'refused')),
        received_at  TEXT NOT NULL,
        decided_at   TEXT,
        reason       TEXT,
        chain        TEXT                    -- approved: JSON array of PEM blocks, leaf first
    );",
    // 3 (issue #13, review over sync): the leads' signed reviews, kept whole, each once, for
    // the tablets whose sheets they review.
    "CREATE TABLE reviews (
        statement     TEXT PRIMARY KEY,      -- hallmark-review/1 JSON as signed
        inspection_id TEXT NOT NULL,
        lead_key      TEXT NOT NULL,
        chain         TEXT NOT NULL,         -- the lead's certificate chain, JSON array of PEM
        received_at   TEXT NOT NULL
    );
    CREATE INDEX reviews_by_inspection ON reviews (inspection_id);",
];

fn migrate(conn: &mut Connection) -> rusqlite::Result<()> {
    for (i, sql) in MIGRATIONS.iter().enumerate() {
        let version = i as i64 + 1;
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let at: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        if at < version {
            tx.execute_batch(sql)?;
            tx.pragma_update(None, "user_version", version)?;
        }
        tx.commit()?;
    }
    Ok(())
}

pub struct Embedded {
    dir: PathBuf,
    store: Mutex<Store>,
    db: Mutex<Connection>,
    /// Waiting files this process received and hashed: their commit need not hash them again.
    received_here: Mutex<std::collections::HashSet<PathBuf>>,
}

fn db_err(e: rusqlite::Error) -> ApiError {
    ApiError::internal(format!("sync database: {e}"))
}

/// Opens (creating) the server's own tables in `DIR/sync.sqlite3`.
pub fn open_sync_db(dir: &Path) -> Result<Connection, String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: cannot create the data folder: {e}", dir.display()))?;
    let conn = Connection::open(dir.join("sync.sqlite3")).map_err(|e| format!("{}: cannot open sync.sqlite3: {e}", dir.display()))?;
    conn.busy_timeout(std::time::Duration::from_secs(10)).map_err(|e| e.to_string())?;
    conn.execute_batch(SCHEMA).map_err(|e| format!("sync.sqlite3: {e}"))?;
    let mut conn = conn;
    migrate(&mut conn).map_err(|e| format!("sync.sqlite3: cannot migrate: {e}"))?;
    // WAL with synchronous=NORMAL: a commit never corrupts the file, and a power cut may lose
    // the last few nonces, heads and receipts — each is made again (a receipt from the store's
    // row, which has the same content). The bundles themselves are in the store, FULL.
    conn.pragma_update(None, "synchronous", "NORMAL").map_err(|e| e.to_string())?;
    Ok(conn)
}

/// Adds an assignment to a data folder (`hallmark assignment add`; the server may be running).
pub fn add_assignment(dir: &Path, a: &Assignment, now: &str) -> Result<(), String> {
    let mut conn = open_sync_db(dir)?;
    match insert_assignment(&mut conn, a, now).map_err(|e| format!("assignment '{}': {e}", a.id))? {
        Ok(()) => Ok(()),
        Err(why) => Err(why.message(a)),
    }
}

/// Inserts an assignment and its members in one transaction (nothing written when its id
/// exists already or its hall is not in the registry). A hall's name comes from the registry.
fn insert_assignment(conn: &mut Connection, a: &Assignment, now: &str) -> rusqlite::Result<Result<(), NotAdded>> {
    let tx = conn.transaction()?;
    let site = match &a.hall_id {
        Some(h) => match tx.query_row("SELECT name FROM halls WHERE id = ?1", [h], |r| r.get::<_, String>(0)).optional()? {
            Some(name) => name,
            None => return Ok(Err(NotAdded::UnknownHall)),
        },
        None => a.site.clone(),
    };
    let (from, to) = a.planned.clone().unzip();
    let n = tx.execute(
        "INSERT OR IGNORE INTO assignments (id, site, rubric_id, lead_key, created_at, hall_id, planned_from, planned_to)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![a.id, site, a.rubric_id, a.lead_key, now, a.hall_id, from, to],
    )?;
    if n == 0 {
        return Ok(Err(NotAdded::Exists));
    }
    for (key, name) in &a.members {
        tx.execute("INSERT OR IGNORE INTO assignment_members (assignment_id, member_key, name) VALUES (?1, ?2, ?3)", params![a.id, key, name])?;
    }
    tx.commit()?;
    Ok(Ok(()))
}

/// Adds or updates halls by id, in one transaction: (added, updated, unchanged).
pub fn import_halls(conn: &mut Connection, halls: &[Hall], now: &str) -> rusqlite::Result<(u64, u64, u64)> {
    let tx = conn.transaction()?;
    let (mut added, mut updated, mut unchanged) = (0, 0, 0);
    for h in halls {
        let was: Option<(String, String, String, String)> = tx
            .query_row("SELECT region_code, name, address, level FROM halls WHERE id = ?1", [&h.id], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
            })
            .optional()?;
        match was {
            None => {
                tx.execute(
                    "INSERT INTO halls (id, region_code, name, address, level, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                    params![h.id, h.region_code, h.name, h.address, h.level, now],
                )?;
                added += 1;
            }
            Some(w) if w == (h.region_code.clone(), h.name.clone(), h.address.clone(), h.level.clone()) => unchanged += 1,
            Some(_) => {
                tx.execute(
                    "UPDATE halls SET region_code = ?2, name = ?3, address = ?4, level = ?5, updated_at = ?6 WHERE id = ?1",
                    params![h.id, h.region_code, h.name, h.address, h.level, now],
                )?;
                // Assignments show the registry's current name.
                tx.execute("UPDATE assignments SET site = ?2 WHERE hall_id = ?1", params![h.id, h.name])?;
                updated += 1;
            }
        }
    }
    tx.commit()?;
    Ok((added, updated, unchanged))
}

/// Planned visit days as given: both or neither, calendar days, the first not after the last.
pub fn planned_days(from: Option<&str>, to: Option<&str>) -> Result<Option<(String, String)>, String> {
    match (from, to) {
        (None, None) => Ok(None),
        (Some(f), Some(t)) => {
            let day = |d: &str| hallmark_core::date::parse_date(d.trim()).map_err(|e| format!("planned day '{d}': {e}"));
            let (a, b) = (day(f)?, day(t)?);
            if a > b {
                return Err(format!("planned days '{f}' to '{t}': the first is after the last"));
            }
            Ok(Some((a.to_string(), b.to_string())))
        }
        _ => Err("planned days need both the first and the last day (or neither)".into()),
    }
}

/// A device's enrollment request and what became of it.
#[derive(Debug, Clone, PartialEq)]
pub struct Enrollment {
    pub public_key: String,
    pub request: String,
    pub name: String,
    pub unit: String,
    pub title: String,
    pub device_id: Option<String>,
    /// `pending`, `approved` or `refused`.
    pub state: String,
    pub received_at: String,
    pub decided_at: Option<String>,
    pub reason: Option<String>,
    pub chain: Vec<String>,
}

const ENROLLMENT_COLUMNS: &str = "public_key, request, name, unit, title, device_id, state, received_at, decided_at, reason, chain";

fn enrollment_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Enrollment> {
    let chain: Option<String> = r.get(10)?;
    Ok(Enrollment {
        public_key: r.get(0)?,
        request: r.get(1)?,
        name: r.get(2)?,
        unit: r.get(3)?,
        title: r.get(4)?,
        device_id: r.get(5)?,
        state: r.get(6)?,
        received_at: r.get(7)?,
        decided_at: r.get(8)?,
        reason: r.get(9)?,
        chain: chain.and_then(|c| serde_json::from_str(&c).ok()).unwrap_or_default(),
    })
}

/// One device's enrollment.
pub fn enrollment(conn: &Connection, public_key: &str) -> rusqlite::Result<Option<Enrollment>> {
    conn.query_row(&format!("SELECT {ENROLLMENT_COLUMNS} FROM enrollments WHERE public_key = ?1"), [public_key], enrollment_row).optional()
}

/// Every enrollment: pending first, then by when it arrived.
pub fn enrollments(conn: &Connection) -> rusqlite::Result<Vec<Enrollment>> {
    let mut st = conn.prepare(&format!("SELECT {ENROLLMENT_COLUMNS} FROM enrollments ORDER BY state <> 'pending', received_at, public_key"))?;
    let rows = st.query_map([], enrollment_row)?;
    rows.collect()
}

/// Keeps a device's request. A pending or refused one is replaced (the person asks again,
/// maybe with a corrected name); an approved one stays as it is. Returns the row now held.
pub fn put_enrollment_request(conn: &Connection, e: &Enrollment) -> rusqlite::Result<Enrollment> {
    conn.execute(
        "INSERT INTO enrollments (public_key, request, name, unit, title, device_id, state, received_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'pending', ?7)
         ON CONFLICT (public_key) DO UPDATE SET request = excluded.request, name = excluded.name, unit = excluded.unit,
             title = excluded.title, device_id = excluded.device_id, state = 'pending', received_at = excluded.received_at,
             decided_at = NULL, reason = NULL, chain = NULL
         WHERE enrollments.state <> 'approved'",
        params![e.public_key, e.request, e.name, e.unit, e.title, e.device_id, e.received_at],
    )?;
    Ok(enrollment(conn, &e.public_key)?.expect("just written"))
}

/// Records a decision on a pending request (`approved` with the chain, or `refused` with a
/// reason). `None`: there is no request from that key; a decided one is decided again only
/// by a new request.
pub fn decide_enrollment(
    conn: &Connection,
    public_key: &str,
    state: &str,
    chain: &[String],
    reason: &str,
    now: &str,
) -> rusqlite::Result<Option<Enrollment>> {
    let chain = (!chain.is_empty()).then(|| serde_json::to_string(chain).expect("serializes"));
    let reason = (!reason.trim().is_empty()).then(|| reason.trim().to_string());
    conn.execute(
        "UPDATE enrollments SET state = ?2, chain = ?3, reason = ?4, decided_at = ?5 WHERE public_key = ?1",
        params![public_key, state, chain, reason, now],
    )?;
    enrollment(conn, public_key)
}

/// Every hall of the registry, by region code and name.
pub fn list_halls(conn: &Connection) -> rusqlite::Result<Vec<Hall>> {
    let mut st = conn.prepare("SELECT id, region_code, name, address, level FROM halls ORDER BY region_code, name, id")?;
    let rows = st.query_map([], |r| Ok(Hall { id: r.get(0)?, region_code: r.get(1)?, name: r.get(2)?, address: r.get(3)?, level: r.get(4)? }))?;
    rows.collect()
}

impl Embedded {
    pub fn open(dir: &Path, now: &str) -> Result<Embedded, String> {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: cannot create the data folder: {e}", dir.display()))?;
        let store = Store::open(dir, now).map_err(|e| format!("{}: {e}", dir.display()))?;
        let db = open_sync_db(dir)?;
        Ok(Embedded { dir: dir.to_path_buf(), store: Mutex::new(store), db: Mutex::new(db), received_here: Mutex::default() })
    }

    pub fn store(&self) -> std::sync::MutexGuard<'_, Store> {
        self.store.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn db(&self) -> std::sync::MutexGuard<'_, Connection> {
        self.db.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Backend for Embedded {
    fn trust(&self) -> Result<TrustStore, ApiError> {
        // The store parses its roots and CRLs again only when one was added (even while the
        // server runs: `hallmark trust add --db DIR/hallmark.sqlite3 crl.pem`).
        self.store().trust_store().map_err(|e| ApiError::internal(e.to_string()))
    }

    fn add_trust(&self, file: &str, pem: &[u8], now: &str) -> Result<String, ApiError> {
        self.store().add_trust(file, pem, now).map_err(ApiError::from_store)
    }

    fn device(&self, public_key: &str) -> Result<Option<DeviceRow>, ApiError> {
        let row: Option<(String, String)> = self
            .db()
            .query_row("SELECT chain, name FROM devices WHERE public_key = ?1", [public_key], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()
            .map_err(db_err)?;
        Ok(row.map(|(chain, name)| DeviceRow { public_key: public_key.into(), chain: serde_json::from_str(&chain).unwrap_or_default(), name }))
    }

    fn put_device(&self, d: &DeviceRow, now: &str) -> Result<(), ApiError> {
        self.db()
            .execute(
                "INSERT INTO devices (public_key, chain, name, presented_at) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (public_key) DO UPDATE SET chain = excluded.chain, name = excluded.name, presented_at = excluded.presented_at",
                params![d.public_key, serde_json::to_string(&d.chain).expect("serializes"), d.name, now],
            )
            .map_err(db_err)?;
        Ok(())
    }

    fn use_nonce(&self, public_key: &str, nonce: &str, created: i64, forget_before: i64) -> Result<bool, ApiError> {
        let db = self.db();
        db.execute("DELETE FROM nonces WHERE created < ?1", [forget_before]).map_err(db_err)?;
        let n = db
            .execute("INSERT OR IGNORE INTO nonces (public_key, nonce, created) VALUES (?1, ?2, ?3)", params![public_key, nonce, created])
            .map_err(db_err)?;
        Ok(n == 1)
    }

    fn check_head(&self, head: &[u8], now: &str) -> Result<(Manifest, String), ApiError> {
        self.store().check_uploaded("the pushed manifest", head, now).map_err(ApiError::from_store)
    }

    fn keep_head(&self, bundle_id: &str, m: &Manifest, head: &[u8], now: &str) -> Result<(), ApiError> {
        self.db()
            .execute(
                "INSERT OR IGNORE INTO heads (bundle_id, inspection_id, signer_key, head, offered_at) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![bundle_id, m.inspection.id, m.device.public_key, head, now],
            )
            .map_err(db_err)?;
        Ok(())
    }

    fn head(&self, bundle_id: &str) -> Result<Option<Head>, ApiError> {
        let row: Option<(Vec<u8>, String)> = self
            .db()
            .query_row("SELECT head, signer_key FROM heads WHERE bundle_id = ?1", [bundle_id], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()
            .map_err(db_err)?;
        Ok(row.map(|(bytes, signer_key)| Head { bytes, signer_key }))
    }

    fn missing(&self, m: &Manifest) -> Vec<ListedFile> {
        self.store().missing_files(m)
    }

    fn receive(&self, f: &ListedFile, body: &mut dyn Read) -> Result<u64, ApiError> {
        // No store lock: content-addressed, and only hash-checked bytes get the waiting name.
        let n = receive_file(&self.dir, f, body).map_err(ApiError::from_store)?;
        self.received_here.lock().unwrap_or_else(|p| p.into_inner()).insert(hallmark_store::bundle::received_path(&self.dir, f));
        Ok(n)
    }

    fn commit(&self, bundle_id: &str, head: &[u8], now: &str) -> Result<Committed, ApiError> {
        let here = self.received_here.lock().unwrap_or_else(|p| p.into_inner()).clone();
        let imported = self
            .store()
            .import_uploaded(&format!("bundle {}", &bundle_id[..12.min(bundle_id.len())]), head, now, &|p| here.contains(p))
            .map_err(ApiError::from_store)?;
        // Files moved into place (or removed) wait no longer.
        self.received_here.lock().unwrap_or_else(|p| p.into_inner()).retain(|p| p.exists());
        let (applied, new_events) = match imported {
            Imported::Applied { new_events, .. } => (true, new_events as u64),
            Imported::AlreadyImported { .. } => (false, 0),
        };
        Ok(Committed { applied, new_events })
    }

    fn held(&self, bundle_id: &str) -> Result<Option<HeldBundle>, ApiError> {
        self.store().held_bundle(bundle_id).map_err(ApiError::from_store)
    }

    fn receipt(&self, bundle_id: &str) -> Result<Option<String>, ApiError> {
        self.db().query_row("SELECT signed FROM receipts WHERE bundle_id = ?1", [bundle_id], |r| r.get(0)).optional().map_err(db_err)
    }

    fn keep_receipt(&self, bundle_id: &str, signed: &str, now: &str) -> Result<String, ApiError> {
        let db = self.db();
        db.execute("INSERT OR IGNORE INTO receipts (bundle_id, signed, issued_at) VALUES (?1, ?2, ?3)", params![bundle_id, signed, now])
            .map_err(db_err)?;
        // Of two racing commits the first receipt stays: everyone gets the same bytes.
        db.query_row("SELECT signed FROM receipts WHERE bundle_id = ?1", [bundle_id], |r| r.get(0)).map_err(db_err)
    }

    fn pullable(&self, lead_key: &str) -> Result<Vec<(String, HeldBundle)>, ApiError> {
        let assignments: Vec<(String, String, String)> = {
            let db = self.db();
            let mut st = db.prepare("SELECT id, site, rubric_id FROM assignments WHERE lead_key = ?1 ORDER BY created_at, id").map_err(db_err)?;
            let rows = st.query_map([lead_key], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?))).map_err(db_err)?;
            rows.collect::<Result<_, _>>().map_err(db_err)?
        };
        let mut out = Vec::new();
        let held = self.store().held_bundles().map_err(ApiError::from_store)?;
        for (id, site, rubric) in assignments {
            let members: Vec<String> = {
                let db = self.db();
                let mut st = db.prepare("SELECT member_key FROM assignment_members WHERE assignment_id = ?1").map_err(db_err)?;
                let rows = st.query_map([&id], |r| r.get(0)).map_err(db_err)?;
                rows.collect::<Result<_, _>>().map_err(db_err)?
            };
            for b in &held {
                // A bundle of format 3 names its assignment: it belongs to that one only. An
                // older bundle (no assignment) goes by the hall's name and the rubric. Either
                // way only a member's bundles are the panel's.
                let ours = match &b.assignment_id {
                    Some(a) => *a == id,
                    None => b.site == site && b.rubric_id == rubric,
                };
                if ours && members.contains(&b.signer_key) {
                    out.push((id.clone(), b.clone()));
                }
            }
        }
        Ok(out)
    }

    fn held_all(&self) -> Result<Vec<HeldBundle>, ApiError> {
        self.store().held_bundles().map_err(ApiError::from_store)
    }

    fn upstream_has(&self, bundle_id: &str, upstream: &str) -> Result<bool, ApiError> {
        let n: i64 = self
            .db()
            .query_row("SELECT count(*) FROM upstream_receipts WHERE bundle_id = ?1 AND upstream = ?2", [bundle_id, upstream], |r| r.get(0))
            .map_err(db_err)?;
        Ok(n > 0)
    }

    fn keep_upstream_receipt(&self, bundle_id: &str, upstream: &str, signed: &str, now: &str) -> Result<(), ApiError> {
        self.db()
            .execute(
                "INSERT OR IGNORE INTO upstream_receipts (bundle_id, upstream, signed, kept_at) VALUES (?1, ?2, ?3, ?4)",
                params![bundle_id, upstream, signed, now],
            )
            .map_err(db_err)?;
        Ok(())
    }

    fn work_dir(&self) -> PathBuf {
        self.dir.clone()
    }

    fn add_assignment(&self, a: &Assignment, now: &str) -> Result<(), ApiError> {
        use axum::http::StatusCode;
        match insert_assignment(&mut self.db(), a, now).map_err(db_err)? {
            Ok(()) => Ok(()),
            Err(why @ NotAdded::Exists) => Err(ApiError::new(StatusCode::CONFLICT, "exists", why.message(a))),
            Err(why @ NotAdded::UnknownHall) => Err(ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "unknown_hall", why.message(a))),
        }
    }

    fn assignments(&self) -> Result<Vec<(Assignment, String)>, ApiError> {
        let db = self.db();
        let mut st = db
            .prepare(
                "SELECT id, site, hall_id, rubric_id, lead_key, planned_from, planned_to, created_at FROM assignments ORDER BY created_at DESC, id",
            )
            .map_err(db_err)?;
        let rows: Vec<(Assignment, String)> = st
            .query_map([], |r| {
                let planned = match (r.get::<_, Option<String>>(5)?, r.get::<_, Option<String>>(6)?) {
                    (Some(a), Some(b)) => Some((a, b)),
                    _ => None,
                };
                Ok((
                    Assignment {
                        id: r.get(0)?,
                        site: r.get(1)?,
                        hall_id: r.get(2)?,
                        rubric_id: r.get(3)?,
                        lead_key: r.get(4)?,
                        members: Vec::new(),
                        planned,
                    },
                    r.get(7)?,
                ))
            })
            .map_err(db_err)?
            .collect::<rusqlite::Result<_>>()
            .map_err(db_err)?;
        let mut members =
            db.prepare("SELECT member_key, name FROM assignment_members WHERE assignment_id = ?1 ORDER BY name, member_key").map_err(db_err)?;
        let mut out = Vec::new();
        for (mut a, at) in rows {
            a.members =
                members.query_map([&a.id], |r| Ok((r.get(0)?, r.get(1)?))).map_err(db_err)?.collect::<rusqlite::Result<_>>().map_err(db_err)?;
            out.push((a, at));
        }
        Ok(out)
    }

    fn update_assignment(&self, a: &Assignment) -> Result<bool, ApiError> {
        let mut db = self.db();
        let tx = db.transaction().map_err(db_err)?;
        let (from, to) = a.planned.clone().unzip();
        let n = tx
            .execute("UPDATE assignments SET lead_key = ?2, planned_from = ?3, planned_to = ?4 WHERE id = ?1", params![a.id, a.lead_key, from, to])
            .map_err(db_err)?;
        if n == 0 {
            return Ok(false);
        }
        tx.execute("DELETE FROM assignment_members WHERE assignment_id = ?1", [&a.id]).map_err(db_err)?;
        for (key, name) in &a.members {
            tx.execute("INSERT INTO assignment_members (assignment_id, member_key, name) VALUES (?1, ?2, ?3)", params![a.id, key, name])
                .map_err(db_err)?;
        }
        tx.commit().map_err(db_err)?;
        Ok(true)
    }

    fn halls(&self) -> Result<Vec<Hall>, ApiError> {
        let db = self.db();
        let mut st = db.prepare("SELECT id, region_code, name, address, level FROM halls ORDER BY region_code, id").map_err(db_err)?;
        let rows = st
            .query_map([], |r| Ok(Hall { id: r.get(0)?, region_code: r.get(1)?, name: r.get(2)?, address: r.get(3)?, level: r.get(4)? }))
            .map_err(db_err)?
            .collect::<rusqlite::Result<_>>()
            .map_err(db_err);
        rows
    }

    fn devices(&self) -> Result<Vec<DeviceRow>, ApiError> {
        let db = self.db();
        let mut st = db.prepare("SELECT public_key, chain, name FROM devices ORDER BY name, public_key").map_err(db_err)?;
        let rows = st
            .query_map([], |r| {
                Ok(DeviceRow { public_key: r.get(0)?, chain: serde_json::from_str(&r.get::<_, String>(1)?).unwrap_or_default(), name: r.get(2)? })
            })
            .map_err(db_err)?
            .collect::<rusqlite::Result<_>>()
            .map_err(db_err);
        rows
    }

    fn assignments_of(&self, key: &str) -> Result<Vec<AssignmentOf>, ApiError> {
        let db = self.db();
        let mut st = db
            .prepare(
                "SELECT a.id, a.site, a.rubric_id, CASE WHEN a.lead_key = ?1 THEN 'lead' ELSE 'member' END,
                        h.id, h.region_code, h.name, h.address, h.level, a.planned_from, a.planned_to
                 FROM assignments a LEFT JOIN halls h ON h.id = a.hall_id
                 WHERE a.lead_key = ?1 OR EXISTS (SELECT 1 FROM assignment_members m WHERE m.assignment_id = a.id AND m.member_key = ?1)
                 ORDER BY a.created_at, a.id",
            )
            .map_err(db_err)?;
        let rows = st
            .query_map([key], |r| {
                let hall = match r.get::<_, Option<String>>(4)? {
                    Some(id) => Some(Hall { id, region_code: r.get(5)?, name: r.get(6)?, address: r.get(7)?, level: r.get(8)? }),
                    None => None,
                };
                let planned = match (r.get::<_, Option<String>>(9)?, r.get::<_, Option<String>>(10)?) {
                    (Some(f), Some(t)) => Some((f, t)),
                    _ => None,
                };
                Ok(AssignmentOf { id: r.get(0)?, site: r.get(1)?, rubric_id: r.get(2)?, role: r.get(3)?, hall, planned })
            })
            .map_err(db_err)?;
        rows.collect::<Result<_, _>>().map_err(db_err)
    }

    fn import_halls(&self, halls: &[Hall], now: &str) -> Result<(u64, u64, u64), ApiError> {
        import_halls(&mut self.db(), halls, now).map_err(db_err)
    }

    fn published_rubrics(&self) -> Result<Vec<hallmark_store::sync::PublishedRubric>, ApiError> {
        self.store().published_rubrics().map_err(ApiError::from_store)
    }

    fn publish_rubric(&self, content: &str, now: &str) -> Result<hallmark_store::sync::PublishedRubric, ApiError> {
        self.store().keep_rubric(content, None, now).map_err(ApiError::from_store)
    }

    fn trusted_crl_pems(&self) -> Result<Vec<String>, ApiError> {
        self.store().trusted_crl_pems().map_err(ApiError::from_store)
    }

    fn enrollment(&self, public_key: &str) -> Result<Option<Enrollment>, ApiError> {
        enrollment(&self.db(), public_key).map_err(db_err)
    }

    fn enrollments(&self) -> Result<Vec<Enrollment>, ApiError> {
        enrollments(&self.db()).map_err(db_err)
    }

    fn put_enrollment_request(&self, e: &Enrollment) -> Result<Enrollment, ApiError> {
        put_enrollment_request(&self.db(), e).map_err(db_err)
    }

    fn decide_enrollment(&self, public_key: &str, state: &str, chain: &[String], reason: &str, now: &str) -> Result<Option<Enrollment>, ApiError> {
        decide_enrollment(&self.db(), public_key, state, chain, reason, now).map_err(db_err)
    }

    fn hall(&self, id: &str) -> Result<Option<Hall>, ApiError> {
        self.db()
            .query_row("SELECT id, region_code, name, address, level FROM halls WHERE id = ?1", [id], |r| {
                Ok(Hall { id: r.get(0)?, region_code: r.get(1)?, name: r.get(2)?, address: r.get(3)?, level: r.get(4)? })
            })
            .optional()
            .map_err(db_err)
    }

    fn trusted_root_pems(&self) -> Result<Vec<String>, ApiError> {
        self.store().trusted_root_pems().map_err(ApiError::from_store)
    }

    fn keep_reviews(&self, lead_key: &str, chain: &[String], reviews: &[hallmark_store::reviews::ReviewV1], now: &str) -> Result<u64, ApiError> {
        let chain = serde_json::to_string(chain).expect("serializes");
        let mut db = self.db();
        let tx = db.transaction().map_err(db_err)?;
        let mut new = 0;
        for r in reviews {
            let statement = serde_json::to_string(r).expect("serializes");
            new += tx
                .execute(
                    "INSERT OR IGNORE INTO reviews (statement, inspection_id, lead_key, chain, received_at) VALUES (?1, ?2, ?3, ?4, ?5)",
                    params![statement, r.inspection_id, lead_key, chain, now],
                )
                .map_err(db_err)? as u64;
        }
        tx.commit().map_err(db_err)?;
        Ok(new)
    }

    fn reviews_for(&self, device_key: &str) -> Result<Vec<(Vec<String>, hallmark_store::reviews::ReviewV1)>, ApiError> {
        let mut ids: Vec<String> = self
            .store()
            .held_bundles()
            .map_err(ApiError::from_store)?
            .into_iter()
            .filter(|b| b.signer_key == device_key)
            .map(|b| b.inspection_id)
            .collect();
        ids.sort();
        ids.dedup();
        let db = self.db();
        let mut out = Vec::new();
        // The lead's chain as it last presented it (a renewed certificate replaces the one kept
        // with older reviews); the kept one when the lead is not known here any more.
        let mut st = db
            .prepare(
                "SELECT coalesce(d.chain, r.chain), r.statement FROM reviews r LEFT JOIN devices d ON d.public_key = r.lead_key
                 WHERE r.inspection_id = ?1 ORDER BY r.received_at, r.rowid",
            )
            .map_err(db_err)?;
        for id in &ids {
            let rows = st.query_map([id], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))).map_err(db_err)?;
            for row in rows {
                let (chain, statement) = row.map_err(db_err)?;
                match (serde_json::from_str(&chain), serde_json::from_str(&statement)) {
                    (Ok(chain), Ok(review)) => out.push((chain, review)),
                    // One damaged row must not stop the device's other reviews.
                    _ => eprintln!("hallmark serve: a review of inspection {id} in sync.sqlite3 does not read; skipped"),
                }
            }
        }
        Ok(out)
    }

    fn reviews_held(&self, inspection_ids: &[String]) -> Result<u64, ApiError> {
        let db = self.db();
        let mut n = 0u64;
        for id in inspection_ids {
            n += db.query_row("SELECT count(*) FROM reviews WHERE inspection_id = ?1", [id], |r| r.get::<_, i64>(0)).map_err(db_err)? as u64;
        }
        Ok(n)
    }

    fn write_bundle(&self, head: &[u8], out: &mut dyn std::io::Write) -> Result<(), ApiError> {
        hallmark_store::bundle::assemble_bundle(&self.dir, "held bundle", head, out).map(|_| ()).map_err(ApiError::from_store)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `sync.sqlite3` as the first release of `hallmark serve` wrote it (issue #11, before the
    /// hall registry): its tables as they were, user_version 0.
    const FIRST_SCHEMA: &str = "
        CREATE TABLE devices (public_key TEXT PRIMARY KEY, chain TEXT NOT NULL, name TEXT NOT NULL, presented_at TEXT NOT NULL);
        CREATE TABLE nonces (public_key TEXT NOT NULL, nonce TEXT NOT NULL, created INTEGER NOT NULL, PRIMARY KEY (public_key, nonce));
        CREATE TABLE heads (bundle_id TEXT PRIMARY KEY, inspection_id TEXT NOT NULL, signer_key TEXT NOT NULL, head BLOB NOT NULL, offered_at TEXT NOT NULL);
        CREATE TABLE receipts (bundle_id TEXT PRIMARY KEY, signed TEXT NOT NULL, issued_at TEXT NOT NULL);
        CREATE TABLE upstream_receipts (bundle_id TEXT NOT NULL, upstream TEXT NOT NULL, signed TEXT NOT NULL, kept_at TEXT NOT NULL, PRIMARY KEY (bundle_id, upstream));
        CREATE TABLE assignments (id TEXT PRIMARY KEY, site TEXT NOT NULL, rubric_id TEXT NOT NULL, lead_key TEXT NOT NULL, created_at TEXT NOT NULL);
        CREATE TABLE assignment_members (assignment_id TEXT NOT NULL REFERENCES assignments(id), member_key TEXT NOT NULL, name TEXT NOT NULL, PRIMARY KEY (assignment_id, member_key));
        INSERT INTO assignments VALUES ('TL-2026', '铁岭县医疗保障事务服务中心', 'liaoning-demo-window', 'lead', '2026-11-20T09:00:00.000Z');
        INSERT INTO assignment_members VALUES ('TL-2026', 'member', '李娜');
        INSERT INTO receipts VALUES ('b1', '{}', '2026-11-20T09:00:00.000Z');
    ";

    #[test]
    fn a_first_release_data_folder_migrates_and_keeps_its_rows() {
        let dir = tempfile::tempdir().unwrap();
        Connection::open(dir.path().join("sync.sqlite3")).unwrap().execute_batch(FIRST_SCHEMA).unwrap();
        let mut conn = open_sync_db(dir.path()).unwrap();
        let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0)).unwrap();
        assert_eq!(version, MIGRATIONS.len() as i64);
        let receipts: i64 = conn.query_row("SELECT count(*) FROM receipts", [], |r| r.get(0)).unwrap();
        assert_eq!(receipts, 1);
        // The old assignment reads as one without a registry hall.
        let e = Embedded {
            dir: dir.path().into(),
            store: Mutex::new(Store::open(dir.path(), "2026-11-20T09:00:00.000Z").unwrap()),
            db: Mutex::new(open_sync_db(dir.path()).unwrap()),
            received_here: Mutex::default(),
        };
        let of = e.assignments_of("member").unwrap();
        assert_eq!((of.len(), of[0].site.as_str(), of[0].hall.is_none(), of[0].planned.is_none()), (1, "铁岭县医疗保障事务服务中心", true, true));
        // And the registry works on it: a hall, then an assignment of it.
        let hall = Hall {
            id: "LN-1".into(),
            region_code: "211221".into(),
            name: "铁岭县医疗保障事务服务中心".into(),
            address: "a".into(),
            level: "county".into(),
        };
        assert_eq!(import_halls(&mut conn, std::slice::from_ref(&hall), "t").unwrap(), (1, 0, 0));
        let a = Assignment {
            id: "TL-2027".into(),
            site: String::new(),
            hall_id: Some("LN-1".into()),
            rubric_id: "r".into(),
            lead_key: "lead".into(),
            members: vec![("member".into(), "李娜".into())],
            planned: Some(("2027-11-02".into(), "2027-11-04".into())),
        };
        add_assignment(dir.path(), &a, "t").unwrap();
        let of = e.assignments_of("member").unwrap();
        assert_eq!(of[1].hall.as_ref(), Some(&hall));
        // Opening again runs nothing twice.
        drop(open_sync_db(dir.path()).unwrap());
    }

    #[test]
    fn planned_days_are_both_or_neither_and_in_order() {
        type Case<'a> = (Option<&'a str>, Option<&'a str>, Result<Option<(&'a str, &'a str)>, &'a str>);
        let cases: [Case; 5] = [
            (None, None, Ok(None)),
            (Some("2027-11-02"), Some("2027-11-04"), Ok(Some(("2027-11-02", "2027-11-04")))),
            (Some("2027-11-04"), Some("2027-11-02"), Err("the first is after the last")),
            (Some("2027-11-02"), None, Err("both the first and the last")),
            (Some("2027-02-30"), Some("2027-03-01"), Err("planned day '2027-02-30'")),
        ];
        for (from, to, want) in cases {
            let got = planned_days(from, to);
            match want {
                Ok(w) => assert_eq!(got.unwrap(), w.map(|(a, b)| (a.to_string(), b.to_string()))),
                Err(m) => assert!(got.as_ref().is_err_and(|e| e.contains(m)), "{from:?} {to:?}: {got:?}"),
            }
        }
    }
}
