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
    pub site: String,
    pub rubric_id: String,
    pub lead_key: String,
    pub members: Vec<(String, String)>,
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
        true => Ok(()),
        false => Err(format!("assignment '{}' exists already (choose another id)", a.id)),
    }
}

/// Inserts an assignment and its members in one transaction; `false` (nothing written) when
/// its id exists already.
fn insert_assignment(conn: &mut Connection, a: &Assignment, now: &str) -> rusqlite::Result<bool> {
    let tx = conn.transaction()?;
    let n = tx.execute(
        "INSERT OR IGNORE INTO assignments (id, site, rubric_id, lead_key, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![a.id, a.site, a.rubric_id, a.lead_key, now],
    )?;
    if n == 0 {
        return Ok(false);
    }
    for (key, name) in &a.members {
        tx.execute("INSERT OR IGNORE INTO assignment_members (assignment_id, member_key, name) VALUES (?1, ?2, ?3)", params![a.id, key, name])?;
    }
    tx.commit()?;
    Ok(true)
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
                if members.contains(&b.signer_key) && b.site == site && b.rubric_id == rubric {
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
        if !insert_assignment(&mut self.db(), a, now).map_err(db_err)? {
            return Err(ApiError::new(
                axum::http::StatusCode::CONFLICT,
                "exists",
                format!("assignment '{}' exists already (choose another id)", a.id),
            ));
        }
        Ok(())
    }

    fn assignments_of(&self, key: &str) -> Result<Vec<(String, String, String, String)>, ApiError> {
        let db = self.db();
        let mut st = db
            .prepare(
                "SELECT a.id, a.site, a.rubric_id, CASE WHEN a.lead_key = ?1 THEN 'lead' ELSE 'member' END FROM assignments a
                 WHERE a.lead_key = ?1 OR EXISTS (SELECT 1 FROM assignment_members m WHERE m.assignment_id = a.id AND m.member_key = ?1)
                 ORDER BY a.created_at, a.id",
            )
            .map_err(db_err)?;
        let rows = st.query_map([key], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))).map_err(db_err)?;
        rows.collect::<Result<_, _>>().map_err(db_err)
    }

    fn trusted_root_pems(&self) -> Result<Vec<String>, ApiError> {
        self.store().trusted_root_pems().map_err(ApiError::from_store)
    }

    fn write_bundle(&self, head: &[u8], out: &mut dyn std::io::Write) -> Result<(), ApiError> {
        hallmark_store::bundle::assemble_bundle(&self.dir, "held bundle", head, out).map(|_| ()).map_err(ApiError::from_store)
    }
}
