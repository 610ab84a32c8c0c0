//! The province backend (issue #16): the same server on PostgreSQL (province records
//! migration 7, `sync_*` tables, the registry's `halls`) and an object store for the files
//! (the records' `blobs`: PostgreSQL itself, or S3-compatible through `object_store`).
//!
//! A bundle is checked by the store's rules ([`hallmark_store::bundle::rules`]) — the same
//! code and words as `hallmark import` and the embedded server — asked of PostgreSQL through
//! [`rules::Held`]. A received file is hash-checked while read, stored as an object, and only
//! then indexed by its `blobs` row; a commit is one transaction (the inspection, its events,
//! the bundle and its files' rows, which reference the blobs), serialized per inspection by
//! an advisory lock. An object without a row (a kill between the two) is invisible: the tablet
//! is asked for the file again, and `hallmark records sweep-evidence` deletes what stays
//! unnamed. The database or the object store not answering is a 503, which clients retry.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use axum::http::StatusCode;
use hallmark_bundle::format::{ListedFile, Manifest};
use hallmark_province::blobs::BlobStore;
use hallmark_province::pool::{Conn, Pool};
use hallmark_province::RecordsError;
use hallmark_store::bundle::rules::{self, HeldEvent, HeldInspection, SignerRow};
use hallmark_store::reviews::ReviewV1;
use hallmark_store::sync::{HeldBundle, PublishedRubric};
use hallmark_store::{Result as StoreResult, StoreError};
use hallmark_trust::TrustStore;
use postgres::{GenericClient, Row};

use crate::embedded::{Assignment, AssignmentOf, Enrollment, NotAdded};
use crate::halls::Hall;
use crate::{ApiError, Backend, Committed, DeviceRow, Head};

/// The sync server on PostgreSQL and a blob store.
pub struct Province {
    pool: Arc<Pool>,
    blobs: Arc<BlobStore>,
    /// The server's own folder (admin token, a relay's temporary bundles).
    dir: PathBuf,
    /// The trust store as last parsed, with the `sync_trust` generation it was parsed at.
    trust: Mutex<Option<(i64, TrustStore)>>,
}

fn unavailable(what: &str, e: impl std::fmt::Display) -> ApiError {
    eprintln!("hallmark serve: {what}: {e}");
    ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", format!("{what}: {e} (try again shortly)"))
}

fn records_err(e: RecordsError) -> ApiError {
    if e.is_transient() {
        unavailable("the records did not answer", e)
    } else {
        ApiError::internal(e.to_string())
    }
}

fn db_err(e: postgres::Error) -> ApiError {
    records_err(RecordsError::Db(e))
}

/// How a database failure the rules met is marked (a 503, not the bundle's fault).
const NOT_ANSWERING: &str = "province records not answering: ";

/// For the store's rules: a database error is the holder's, not the bundle's — a 503 when the
/// database did not answer, else the server's fault (500).
fn held_err(e: postgres::Error) -> StoreError {
    let e = RecordsError::Db(e);
    if e.is_transient() {
        StoreError::Io(format!("{NOT_ANSWERING}{e}"))
    } else {
        StoreError::Io(format!("province records: {e}"))
    }
}

/// A store error from the rules: a transient database failure stays a 503.
fn from_rules(e: StoreError) -> ApiError {
    match &e {
        StoreError::Io(m) if m.starts_with(NOT_ANSWERING) => unavailable("the records did not answer", &m[NOT_ANSWERING.len()..]),
        _ => ApiError::from_store(e),
    }
}

fn chain_of(text: Option<String>) -> Vec<String> {
    text.and_then(|c| serde_json::from_str(&c).ok()).unwrap_or_default()
}

fn hall_of(r: &Row, at: usize) -> Hall {
    Hall { id: r.get(at), region_code: r.get(at + 1), name: r.get(at + 2), address: r.get(at + 3), level: r.get(at + 4) }
}

const HELD_COLUMNS: &str =
    "b.id, b.inspection_id, i.site_name, i.assessor_name, i.rubric_id, b.signer_key, b.imported_at, b.events, b.photos, i.assignment_id";

/// A held bundle from [`HELD_COLUMNS`], the first at column `at`.
fn held_of(r: &Row, at: usize) -> HeldBundle {
    HeldBundle {
        bundle_id: r.get(at),
        inspection_id: r.get(at + 1),
        site: r.get(at + 2),
        assessor: r.get(at + 3),
        rubric_id: r.get(at + 4),
        signer_key: r.get(at + 5),
        imported_at: r.get(at + 6),
        events: r.get::<_, i32>(at + 7) as u64,
        photos: r.get::<_, i32>(at + 8) as u64,
        assignment_id: r.get(at + 9),
    }
}

const ENROLLMENT_COLUMNS: &str = "public_key, request, name, unit, title, device_id, state, received_at, decided_at, reason, chain::text";

fn enrollment_of(r: &Row) -> Enrollment {
    Enrollment {
        public_key: r.get(0),
        request: r.get(1),
        name: r.get(2),
        unit: r.get(3),
        title: r.get(4),
        device_id: r.get(5),
        state: r.get(6),
        received_at: r.get(7),
        decided_at: r.get(8),
        reason: r.get(9),
        chain: chain_of(r.get(10)),
    }
}

/// What the rules ask, answered from one connection (or its open transaction).
struct HeldIn<'a, C: GenericClient> {
    db: std::cell::RefCell<&'a mut C>,
    trust: TrustStore,
}

impl<C: GenericClient> rules::Held for HeldIn<'_, C> {
    fn trust_store(&self) -> StoreResult<TrustStore> {
        Ok(self.trust.clone())
    }

    fn known_rubrics(&self) -> StoreResult<Vec<(String, String, String)>> {
        let mut out = hallmark_store::inspections::shipped_rubrics();
        let rows = self
            .db
            .borrow_mut()
            .query(
                "SELECT rubric_id, version, sha256::text FROM sync_rubrics
                 UNION SELECT DISTINCT rubric_id, rubric_version, rubric_hash::text FROM sync_inspections",
                &[],
            )
            .map_err(held_err)?;
        out.extend(rows.iter().map(|r| (r.get(0), r.get(1), r.get(2))));
        Ok(out)
    }

    fn certified_signer_of_key(&self, public_key: &str) -> StoreResult<Option<(String, String)>> {
        let row = self
            .db
            .borrow_mut()
            .query_opt(
                "SELECT signer->>'name', signer->>'serial' FROM sync_bundles WHERE signer_key = $1 AND signer IS NOT NULL LIMIT 1",
                &[&public_key],
            )
            .map_err(held_err)?;
        Ok(row.map(|r| (r.get::<_, Option<String>>(0).unwrap_or_default(), r.get::<_, Option<String>>(1).unwrap_or_default())))
    }

    fn inspection_header(&self, id: &str) -> StoreResult<Option<HeldInspection>> {
        let row = self
            .db
            .borrow_mut()
            .query_opt("SELECT rubric_hash::text, site_name, assessor_name, device_id FROM sync_inspections WHERE id = $1", &[&id])
            .map_err(held_err)?;
        Ok(row.map(|r| HeldInspection { rubric_hash: r.get(0), site_name: r.get(1), assessor_name: r.get(2), device_id: r.get(3) }))
    }

    fn first_signer_key(&self, inspection_id: &str) -> StoreResult<Option<String>> {
        let row = self
            .db
            .borrow_mut()
            .query_opt("SELECT signer_key FROM sync_bundles WHERE inspection_id = $1 ORDER BY imported_at, id LIMIT 1", &[&inspection_id])
            .map_err(held_err)?;
        Ok(row.map(|r| r.get(0)))
    }

    fn events(&self, ids: &[&str]) -> StoreResult<BTreeMap<String, HeldEvent>> {
        let ids: Vec<String> = ids.iter().map(|s| s.to_string()).collect();
        let rows = self
            .db
            .borrow_mut()
            .query("SELECT id, inspection_id, key, value, recorded_at, device_id FROM sync_events WHERE id = ANY($1)", &[&ids])
            .map_err(held_err)?;
        let mut out = BTreeMap::new();
        for r in rows {
            let value: Option<String> = r.get(3);
            let value = value
                .map(|v| serde_json::from_str(&v).map_err(|e| StoreError::Io(format!("province records: event value does not read: {e}"))))
                .transpose()?;
            out.insert(r.get(0), HeldEvent { inspection_id: r.get(1), key: r.get(2), value, recorded_at: r.get(4), device_id: r.get(5) });
        }
        Ok(out)
    }

    fn own_device_id(&self) -> Option<&str> {
        None
    }
}

impl Province {
    /// Connects (at most `connections` at once), migrates, and keeps the server's own files in
    /// `dir`.
    pub fn open(url: &str, blobs: Arc<BlobStore>, dir: &std::path::Path, connections: usize) -> Result<Province, String> {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: cannot create the data folder: {e}", dir.display()))?;
        let pool = Arc::new(Pool::open(url, connections)?);
        Ok(Province { pool, blobs, dir: dir.to_path_buf(), trust: Mutex::new(None) })
    }

    pub fn pool(&self) -> Arc<Pool> {
        self.pool.clone()
    }

    fn db(&self) -> Result<Conn<'_>, ApiError> {
        self.pool.get().map_err(|e| unavailable("the records did not answer", e))
    }

    fn trust_rows(&self, db: &mut Conn<'_>, kind: &str) -> Result<Vec<(String, String)>, ApiError> {
        let rows = db.query("SELECT file_name, pem FROM sync_trust WHERE kind = $1 ORDER BY seq", &[&kind]).map_err(db_err)?;
        Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
    }

    fn trust_in(&self, db: &mut Conn<'_>) -> Result<TrustStore, ApiError> {
        let generation: i64 = db.query_one("SELECT coalesce(max(seq), 0) FROM sync_trust", &[]).map_err(db_err)?.get(0);
        if let Some((g, ts)) = &*self.trust.lock().unwrap_or_else(|p| p.into_inner()) {
            if *g == generation {
                return Ok(ts.clone());
            }
        }
        let mut ts = TrustStore::new();
        for (file, pem) in self.trust_rows(db, "root")? {
            ts.add_roots_pem(&file, pem.as_bytes()).map_err(|e| ApiError::internal(format!("a kept root does not read: {e}")))?;
        }
        for (file, pem) in self.trust_rows(db, "crl")? {
            ts.add_crl_pem(&file, pem.as_bytes()).map_err(|e| ApiError::internal(format!("a kept CRL does not read: {e}")))?;
        }
        *self.trust.lock().unwrap_or_else(|p| p.into_inner()) = Some((generation, ts.clone()));
        Ok(ts)
    }

    fn open_head<'a>(head: &'a [u8], name: &str) -> Result<hallmark_bundle::verify::Opened<&'a [u8]>, ApiError> {
        hallmark_bundle::verify::open_reader(name, head.len() as u64, head, true).map_err(|e| ApiError::from_store(e.into()))
    }

    fn certify_and_check<C: GenericClient>(
        held: &HeldIn<'_, C>,
        first_seen: Option<&str>,
        file: &str,
        m: &Manifest,
        now: &str,
    ) -> Result<(Option<SignerRow>, usize), ApiError> {
        let signer = match first_seen {
            Some(_) => None,
            None => rules::certify(held, file, m, now, now).map_err(from_rules)?.1,
        };
        let new = rules::check_against(held, file, m).map_err(from_rules)?;
        Ok((signer, new))
    }

    fn held_where(&self, condition: &str, args: &[&(dyn postgres::types::ToSql + Sync)]) -> Result<Vec<HeldBundle>, ApiError> {
        let rows = self
            .db()?
            .query(
                &format!(
                    "SELECT {HELD_COLUMNS} FROM sync_bundles b JOIN sync_inspections i ON i.id = b.inspection_id WHERE {condition}
                     ORDER BY b.imported_at, b.id"
                ),
                args,
            )
            .map_err(db_err)?;
        Ok(rows.iter().map(|r| held_of(r, 0)).collect())
    }
}

impl Backend for Province {
    fn trust(&self) -> Result<TrustStore, ApiError> {
        let mut db = self.db()?;
        self.trust_in(&mut db)
    }

    fn add_trust(&self, file: &str, pem: &[u8], now: &str) -> Result<String, ApiError> {
        let anchors = hallmark_store::enrollment::trust_anchors_in(file, pem).map_err(ApiError::from_store)?;
        let mut db = self.db()?;
        let mut lines = Vec::new();
        for a in &anchors {
            let n = db
                .execute(
                    "INSERT INTO sync_trust (kind, sha256, pem, name, detail, file_name, added_at) VALUES ($1, $2, $3, $4, $5, $6, $7)
                     ON CONFLICT (sha256) DO NOTHING",
                    &[&a.kind, &hallmark_core::hex::sha256_hex(a.pem.as_bytes()), &a.pem, &a.name, &a.detail, &file, &now],
                )
                .map_err(db_err)?;
            lines.push(a.line(n == 1));
        }
        Ok(lines.join("; "))
    }

    fn device(&self, public_key: &str) -> Result<Option<DeviceRow>, ApiError> {
        let row = self.db()?.query_opt("SELECT chain::text, name FROM sync_devices WHERE public_key = $1", &[&public_key]).map_err(db_err)?;
        Ok(row.map(|r| DeviceRow { public_key: public_key.into(), chain: chain_of(r.get(0)), name: r.get(1) }))
    }

    fn put_device(&self, d: &DeviceRow, now: &str) -> Result<(), ApiError> {
        self.db()?
            .execute(
                "INSERT INTO sync_devices (public_key, chain, name, presented_at) VALUES ($1, $2::text::jsonb, $3, $4)
                 ON CONFLICT (public_key) DO UPDATE SET chain = excluded.chain, name = excluded.name, presented_at = excluded.presented_at",
                &[&d.public_key, &serde_json::to_string(&d.chain).expect("serializes"), &d.name, &now],
            )
            .map_err(db_err)?;
        Ok(())
    }

    fn use_nonce(&self, public_key: &str, nonce: &str, created: i64, forget_before: i64) -> Result<bool, ApiError> {
        let mut db = self.db()?;
        db.execute("DELETE FROM sync_nonces WHERE created < $1", &[&forget_before]).map_err(db_err)?;
        let n = db
            .execute(
                "INSERT INTO sync_nonces (public_key, nonce, created) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
                &[&public_key, &nonce, &created],
            )
            .map_err(db_err)?;
        Ok(n == 1)
    }

    fn check_head(&self, head: &[u8], now: &str) -> Result<(Manifest, String), ApiError> {
        let opened = Self::open_head(head, "the pushed manifest")?;
        let mut db = self.db()?;
        let trust = self.trust_in(&mut db)?;
        let first_seen: Option<String> =
            db.query_opt("SELECT imported_at FROM sync_bundles WHERE id = $1", &[&opened.bundle_id]).map_err(db_err)?.map(|r| r.get(0));
        let held = HeldIn { db: std::cell::RefCell::new(&mut *db), trust };
        Self::certify_and_check(&held, first_seen.as_deref(), &opened.file, &opened.manifest, now)?;
        Ok((opened.manifest, opened.bundle_id))
    }

    fn keep_head(&self, bundle_id: &str, m: &Manifest, head: &[u8], now: &str) -> Result<(), ApiError> {
        self.db()?
            .execute(
                "INSERT INTO sync_heads (bundle_id, inspection_id, signer_key, head, offered_at) VALUES ($1, $2, $3, $4, $5)
                 ON CONFLICT (bundle_id) DO NOTHING",
                &[&bundle_id, &m.inspection.id, &m.device.public_key, &head, &now],
            )
            .map_err(db_err)?;
        Ok(())
    }

    fn head(&self, bundle_id: &str) -> Result<Option<Head>, ApiError> {
        let row = self.db()?.query_opt("SELECT head, signer_key FROM sync_heads WHERE bundle_id = $1", &[&bundle_id]).map_err(db_err)?;
        Ok(row.map(|r| Head { bytes: r.get(0), signer_key: r.get(1) }))
    }

    fn missing(&self, m: &Manifest) -> Vec<ListedFile> {
        let files = m.files();
        let hashes: Vec<String> = files.iter().map(|f| f.sha256.clone()).collect();
        // Not answering: every file is asked for (receiving one again changes nothing).
        let held: std::collections::HashSet<String> = match self
            .db()
            .and_then(|mut db| db.query("SELECT sha256::text FROM blobs WHERE sha256 = ANY($1::text[]::bpchar[])", &[&hashes]).map_err(db_err))
        {
            Ok(rows) => rows.iter().map(|r| r.get(0)).collect(),
            Err(_) => Default::default(),
        };
        // Each SHA-256 asked for once (two photos may have the same thumbnail).
        let mut asked = std::collections::HashSet::new();
        files.into_iter().filter(|f| !held.contains(&f.sha256) && asked.insert(f.sha256.clone())).collect()
    }

    fn receive(&self, f: &ListedFile, body: &mut dyn Read) -> Result<u64, ApiError> {
        // Hash-checked while read (the same refusals as the embedded server's), then stored:
        // the object first, its row after.
        let mut bytes = Vec::with_capacity(f.size.min(64 << 20) as usize);
        let n = hallmark_store::bundle::copy_listed(f, body, &mut bytes).map_err(ApiError::from_store)?;
        match self.blobs.as_ref() {
            BlobStore::S3(s3) => {
                // No connection held while the object travels.
                if hallmark_province::load::has_blob(&mut *self.db()?, &f.sha256).map_err(records_err)? {
                    return Ok(n);
                }
                s3.put(&f.sha256, &bytes).map_err(records_err)?;
                crate::routes::failpoint("object-stored");
                hallmark_province::load::record_object(&mut *self.db()?, &f.sha256, n).map_err(records_err)?;
            }
            BlobStore::Postgres => {
                hallmark_province::load::put_blob(&mut *self.db()?, &self.blobs, &f.sha256, &bytes).map_err(records_err)?;
            }
        }
        Ok(n)
    }

    fn commit(&self, bundle_id: &str, head: &[u8], now: &str) -> Result<Committed, ApiError> {
        let opened = Self::open_head(head, &format!("bundle {}", &bundle_id[..12.min(bundle_id.len())]))?;
        let m = &opened.manifest;
        let mut db = self.db()?;
        let trust = self.trust_in(&mut db)?;
        let mut tx = db.transaction().map_err(db_err)?;
        // Commits of one signing key, then of one inspection, one at a time (always in that
        // order): the checks see what the one before wrote — a key cannot drop its certificate
        // in a racing bundle, two bundles of one inspection cannot both pass.
        tx.execute("SELECT pg_advisory_xact_lock(1, hashtext($1))", &[&m.device.public_key]).map_err(db_err)?;
        tx.execute("SELECT pg_advisory_xact_lock(2, hashtext($1))", &[&m.inspection.id]).map_err(db_err)?;
        if tx.query_opt("SELECT 1 FROM sync_bundles WHERE id = $1", &[&opened.bundle_id]).map_err(db_err)?.is_some() {
            return Ok(Committed { applied: false, new_events: 0 });
        }
        let files = m.files();
        // Each file's bytes once (two photos may share a thumbnail), in order.
        let hashes: Vec<String> = files.iter().map(|f| f.sha256.clone()).collect::<std::collections::BTreeSet<_>>().into_iter().collect();
        let here: std::collections::HashSet<String> = tx
            .query("SELECT sha256::text FROM blobs WHERE sha256 = ANY($1::text[]::bpchar[])", &[&hashes])
            .map_err(db_err)?
            .iter()
            .map(|r| r.get(0))
            .collect();
        let missing: Vec<&ListedFile> = files.iter().filter(|f| !here.contains(&f.sha256)).collect();
        if let Some(first) = missing.first() {
            return Err(ApiError::from_store(rules::bundle_err(
                &opened.file,
                format!("'{}' has not arrived ({} of the listed files are missing): send them, then commit again", first.entry, missing.len()),
            )));
        }
        // A row is written only after its object, but a bucket can be lost or restored from an
        // older copy: every object the bundle needs is looked up. One not there loses its row
        // (unless committed records name it: then the bucket needs restoring) and the tablet is
        // asked for it again (503: its client retries, the next offer asks).
        if let BlobStore::S3(s3) = self.blobs.as_ref() {
            let sizes = s3.sizes(&hashes).map_err(records_err)?;
            let gone: Vec<&String> = hashes.iter().zip(&sizes).filter(|(_, s)| s.is_none()).map(|(h, _)| h).collect();
            if !gone.is_empty() {
                drop(tx);
                let mut db = self.db()?;
                for h in &gone {
                    let deleted = db
                        .execute(
                            "DELETE FROM blobs b WHERE sha256 = $1
                               AND NOT EXISTS (SELECT 1 FROM sync_bundle_files f WHERE f.sha256 = b.sha256)
                               AND NOT EXISTS (SELECT 1 FROM evidence e WHERE e.sha256 = b.sha256 OR e.thumb_sha256 = b.sha256)
                               AND NOT EXISTS (SELECT 1 FROM reports r WHERE r.pdf_sha256 = b.sha256)
                               AND NOT EXISTS (SELECT 1 FROM report_bundles r WHERE r.head_sha256 = b.sha256)",
                            &[h],
                        )
                        .map_err(db_err)?;
                    if deleted == 0 {
                        return Err(ApiError::internal(format!(
                            "object {h} is named by committed records but is not in the object store: restore the bucket (scripts/province-backup.sh)"
                        )));
                    }
                }
                return Err(unavailable(
                    "the object store",
                    format!("{} of the bundle's files are not there (lost by the store): they will be asked for again", gone.len()),
                ));
            }
        }
        let (signer, new_events) = {
            let held = HeldIn { db: std::cell::RefCell::new(&mut tx), trust };
            Self::certify_and_check(&held, None, &opened.file, m, now)?
        };
        let h = &m.inspection;
        let assignment = m.assignment.as_ref();
        tx.execute(
            "INSERT INTO sync_inspections (id, rubric_id, rubric_version, rubric_hash, site_name, assessor_name, device_id, assignment_id, hall_id)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (id) DO NOTHING",
            &[
                &h.id,
                &m.rubric.id,
                &m.rubric.version,
                &m.rubric.sha256,
                &h.site_name,
                &h.assessor_name,
                &h.device_id,
                &assignment.map(|a| a.id.as_str()),
                &assignment.and_then(|a| a.hall_id.as_deref()),
            ],
        )
        .map_err(db_err)?;
        let insert_event = tx
            .prepare(
                "INSERT INTO sync_events (id, inspection_id, key, value, recorded_at, device_id) VALUES ($1, $2, $3, $4, $5, $6)
                 ON CONFLICT (id) DO NOTHING",
            )
            .map_err(db_err)?;
        for e in &m.events {
            let value = e.value.as_ref().map(|v| v.to_string());
            tx.execute(&insert_event, &[&e.id, &h.id, &e.key, &value, &e.recorded_at, &e.device_id]).map_err(db_err)?;
        }
        let signer = signer.map(|s| {
            serde_json::json!({
                "assurance": s.assurance, "name": s.name, "unit": s.unit, "title": s.title, "roles": s.roles,
                "serial": s.serial, "issuer": s.issuer, "root": s.root, "notes": s.notes, "checked_at": now,
            })
            .to_string()
        });
        tx.execute(
            "INSERT INTO sync_bundles (id, inspection_id, signer_key, created_at, imported_at, events, new_events, photos, signer)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::text::jsonb)",
            &[
                &opened.bundle_id,
                &h.id,
                &m.device.public_key,
                &m.created_at,
                &now,
                &(m.events.len() as i32),
                &(new_events as i32),
                &(m.photos.len() as i32),
                &signer,
            ],
        )
        .map_err(db_err)?;
        tx.execute("INSERT INTO sync_bundle_files (bundle_id, sha256) SELECT $1, unnest($2::text[])::bpchar", &[&opened.bundle_id, &hashes])
            .map_err(db_err)?;
        tx.commit().map_err(db_err)?;
        Ok(Committed { applied: true, new_events: new_events as u64 })
    }

    fn held(&self, bundle_id: &str) -> Result<Option<HeldBundle>, ApiError> {
        Ok(self.held_where("b.id = $1", &[&bundle_id])?.into_iter().next())
    }

    fn receipt(&self, bundle_id: &str) -> Result<Option<String>, ApiError> {
        Ok(self.db()?.query_opt("SELECT signed FROM sync_receipts WHERE bundle_id = $1", &[&bundle_id]).map_err(db_err)?.map(|r| r.get(0)))
    }

    fn keep_receipt(&self, bundle_id: &str, signed: &str, now: &str) -> Result<String, ApiError> {
        let mut db = self.db()?;
        db.execute(
            "INSERT INTO sync_receipts (bundle_id, signed, issued_at) VALUES ($1, $2, $3) ON CONFLICT (bundle_id) DO NOTHING",
            &[&bundle_id, &signed, &now],
        )
        .map_err(db_err)?;
        // Of two racing commits the first receipt stays: everyone gets the same bytes.
        Ok(db.query_one("SELECT signed FROM sync_receipts WHERE bundle_id = $1", &[&bundle_id]).map_err(db_err)?.get(0))
    }

    fn pullable(&self, lead_key: &str) -> Result<Vec<(String, HeldBundle)>, ApiError> {
        // A bundle of format 3 names its assignment: it belongs to that one only. An older
        // bundle (no assignment) goes by the hall's name and the rubric. Either way only a
        // member's bundles are the panel's (as the embedded server decides).
        let rows = self
            .db()?
            .query(
                &format!(
                    "SELECT a.id, {HELD_COLUMNS}
                     FROM sync_assignments a
                     JOIN sync_assignment_members am ON am.assignment_id = a.id
                     JOIN sync_bundles b ON b.signer_key = am.member_key
                     JOIN sync_inspections i ON i.id = b.inspection_id
                     WHERE a.lead_key = $1
                       AND (i.assignment_id = a.id OR (i.assignment_id IS NULL AND i.site_name = a.site AND i.rubric_id = a.rubric_id))
                     ORDER BY a.created_at, a.id, b.imported_at, b.id"
                ),
                &[&lead_key],
            )
            .map_err(db_err)?;
        Ok(rows.iter().map(|r| (r.get(0), held_of(r, 1))).collect())
    }

    fn write_bundle(&self, head: &[u8], out: &mut dyn std::io::Write) -> Result<(), ApiError> {
        let mut failed: Option<ApiError> = None;
        // A connection per file, not for the whole download (a slow tablet must not keep one).
        let mut open = |f: &ListedFile| -> Result<Box<dyn Read>, StoreError> {
            let got = self.db().and_then(|mut db| hallmark_province::load::blob(&mut db, &self.blobs, &f.sha256).map_err(records_err));
            match got {
                Ok(Some(bytes)) => Ok(Box::new(std::io::Cursor::new(bytes))),
                Ok(None) => Err(StoreError::Io(format!("'{}' of a held bundle is not in the records", f.entry))),
                Err(e) => {
                    let msg = e.message.clone();
                    failed = Some(e);
                    Err(StoreError::Io(msg))
                }
            }
        };
        let result = hallmark_store::bundle::assemble_bundle_from("held bundle", head, out, &mut open);
        match (result, failed) {
            (Ok(_), _) => Ok(()),
            (Err(_), Some(e)) => Err(e),
            (Err(e), None) => Err(ApiError::from_store(e)),
        }
    }

    fn held_all(&self) -> Result<Vec<HeldBundle>, ApiError> {
        self.held_where("true", &[])
    }

    fn upstream_has(&self, bundle_id: &str, upstream: &str) -> Result<bool, ApiError> {
        Ok(self
            .db()?
            .query_opt("SELECT 1 FROM sync_upstream_receipts WHERE bundle_id = $1 AND upstream = $2", &[&bundle_id, &upstream])
            .map_err(db_err)?
            .is_some())
    }

    fn keep_upstream_receipt(&self, bundle_id: &str, upstream: &str, signed: &str, now: &str) -> Result<(), ApiError> {
        self.db()?
            .execute(
                "INSERT INTO sync_upstream_receipts (bundle_id, upstream, signed, kept_at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
                &[&bundle_id, &upstream, &signed, &now],
            )
            .map_err(db_err)?;
        Ok(())
    }

    fn work_dir(&self) -> PathBuf {
        self.dir.clone()
    }

    fn trusted_root_pems(&self) -> Result<Vec<String>, ApiError> {
        let mut db = self.db()?;
        Ok(self.trust_rows(&mut db, "root")?.into_iter().map(|(_, p)| p).collect())
    }

    fn trusted_crl_pems(&self) -> Result<Vec<String>, ApiError> {
        let mut db = self.db()?;
        Ok(self.trust_rows(&mut db, "crl")?.into_iter().map(|(_, p)| p).collect())
    }

    fn add_assignment(&self, a: &Assignment, now: &str) -> Result<(), ApiError> {
        let mut db = self.db()?;
        let mut tx = db.transaction().map_err(db_err)?;
        let site = match &a.hall_id {
            Some(h) => match tx.query_opt("SELECT name FROM halls WHERE id = $1", &[h]).map_err(db_err)? {
                Some(r) => r.get(0),
                None => return Err(ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "unknown_hall", NotAdded::UnknownHall.message(a))),
            },
            None => a.site.clone(),
        };
        let (from, to) = a.planned.clone().unzip();
        let n = tx
            .execute(
                "INSERT INTO sync_assignments (id, site, rubric_id, lead_key, created_at, hall_id, planned_from, planned_to)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (id) DO NOTHING",
                &[&a.id, &site, &a.rubric_id, &a.lead_key, &now, &a.hall_id, &from, &to],
            )
            .map_err(db_err)?;
        if n == 0 {
            return Err(ApiError::new(StatusCode::CONFLICT, "exists", NotAdded::Exists.message(a)));
        }
        for (key, name) in &a.members {
            tx.execute(
                "INSERT INTO sync_assignment_members (assignment_id, member_key, name) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
                &[&a.id, key, name],
            )
            .map_err(db_err)?;
        }
        tx.commit().map_err(db_err)
    }

    fn assignments(&self) -> Result<Vec<(Assignment, String)>, ApiError> {
        let mut db = self.db()?;
        let rows = db
            .query(
                "SELECT id, site, hall_id, rubric_id, lead_key, planned_from, planned_to, created_at FROM sync_assignments ORDER BY created_at DESC, id",
                &[],
            )
            .map_err(db_err)?;
        let members = db
            .query("SELECT assignment_id, member_key, name FROM sync_assignment_members ORDER BY name COLLATE \"C\", member_key", &[])
            .map_err(db_err)?;
        Ok(rows
            .iter()
            .map(|r| {
                let id: String = r.get(0);
                let planned = match (r.get::<_, Option<String>>(5), r.get::<_, Option<String>>(6)) {
                    (Some(a), Some(b)) => Some((a, b)),
                    _ => None,
                };
                let members = members.iter().filter(|m| m.get::<_, &str>(0) == id).map(|m| (m.get::<_, String>(1), m.get::<_, String>(2))).collect();
                (Assignment { id, site: r.get(1), hall_id: r.get(2), rubric_id: r.get(3), lead_key: r.get(4), members, planned }, r.get(7))
            })
            .collect())
    }

    fn update_assignment(&self, a: &Assignment) -> Result<bool, ApiError> {
        let mut db = self.db()?;
        let mut tx = db.transaction().map_err(db_err)?;
        let (from, to) = a.planned.clone().unzip();
        let n = tx
            .execute("UPDATE sync_assignments SET lead_key = $2, planned_from = $3, planned_to = $4 WHERE id = $1", &[&a.id, &a.lead_key, &from, &to])
            .map_err(db_err)?;
        if n == 0 {
            return Ok(false);
        }
        tx.execute("DELETE FROM sync_assignment_members WHERE assignment_id = $1", &[&a.id]).map_err(db_err)?;
        for (key, name) in &a.members {
            tx.execute("INSERT INTO sync_assignment_members (assignment_id, member_key, name) VALUES ($1, $2, $3)", &[&a.id, key, name])
                .map_err(db_err)?;
        }
        tx.commit().map_err(db_err)?;
        Ok(true)
    }

    fn halls(&self) -> Result<Vec<Hall>, ApiError> {
        let rows = self.db()?.query("SELECT id, region_code::text, name, address, level FROM halls ORDER BY region_code, id", &[]).map_err(db_err)?;
        Ok(rows.iter().map(|r| hall_of(r, 0)).collect())
    }

    fn devices(&self) -> Result<Vec<DeviceRow>, ApiError> {
        let rows = self
            .db()?
            .query("SELECT public_key, chain::text, name FROM sync_devices ORDER BY name COLLATE \"C\", public_key", &[])
            .map_err(db_err)?;
        Ok(rows.iter().map(|r| DeviceRow { public_key: r.get(0), chain: chain_of(r.get(1)), name: r.get(2) }).collect())
    }

    fn assignments_of(&self, key: &str) -> Result<Vec<AssignmentOf>, ApiError> {
        let rows = self
            .db()?
            .query(
                "SELECT a.id, a.site, a.rubric_id, CASE WHEN a.lead_key = $1 THEN 'lead' ELSE 'member' END,
                        h.id, h.region_code::text, h.name, h.address, h.level, a.planned_from, a.planned_to
                 FROM sync_assignments a LEFT JOIN halls h ON h.id = a.hall_id
                 WHERE a.lead_key = $1 OR EXISTS (SELECT 1 FROM sync_assignment_members m WHERE m.assignment_id = a.id AND m.member_key = $1)
                 ORDER BY a.created_at, a.id",
                &[&key],
            )
            .map_err(db_err)?;
        Ok(rows
            .iter()
            .map(|r| {
                let hall = r.get::<_, Option<String>>(4).map(|_| hall_of(r, 4));
                let planned = match (r.get::<_, Option<String>>(9), r.get::<_, Option<String>>(10)) {
                    (Some(f), Some(t)) => Some((f, t)),
                    _ => None,
                };
                AssignmentOf { id: r.get(0), site: r.get(1), rubric_id: r.get(2), role: r.get(3), hall, planned }
            })
            .collect())
    }

    fn import_halls(&self, halls: &[Hall], _now: &str) -> Result<(u64, u64, u64), ApiError> {
        let mut db = self.db()?;
        let mut tx = db.transaction().map_err(db_err)?;
        let (mut added, mut updated, mut unchanged) = (0, 0, 0);
        for h in halls {
            let was = tx
                .query_opt("SELECT region_code::text, name, address, level FROM halls WHERE id = $1", &[&h.id])
                .map_err(db_err)?
                .map(|r| (r.get::<_, String>(0), r.get::<_, String>(1), r.get::<_, String>(2), r.get::<_, String>(3)));
            match was {
                None => {
                    tx.execute(
                        "INSERT INTO halls (id, region_code, name, address, level) VALUES ($1, $2, $3, $4, $5)",
                        &[&h.id, &h.region_code, &h.name, &h.address, &h.level],
                    )
                    .map_err(db_err)?;
                    added += 1;
                }
                Some(w) if w == (h.region_code.clone(), h.name.clone(), h.address.clone(), h.level.clone()) => unchanged += 1,
                Some(_) => {
                    tx.execute(
                        "UPDATE halls SET region_code = $2, name = $3, address = $4, level = $5 WHERE id = $1",
                        &[&h.id, &h.region_code, &h.name, &h.address, &h.level],
                    )
                    .map_err(db_err)?;
                    // Assignments show the registry's current name.
                    tx.execute("UPDATE sync_assignments SET site = $2 WHERE hall_id = $1", &[&h.id, &h.name]).map_err(db_err)?;
                    updated += 1;
                }
            }
        }
        tx.commit().map_err(db_err)?;
        Ok((added, updated, unchanged))
    }

    fn hall(&self, id: &str) -> Result<Option<Hall>, ApiError> {
        let row = self.db()?.query_opt("SELECT id, region_code::text, name, address, level FROM halls WHERE id = $1", &[&id]).map_err(db_err)?;
        Ok(row.map(|r| hall_of(&r, 0)))
    }

    fn published_rubrics(&self) -> Result<Vec<PublishedRubric>, ApiError> {
        let rows = self
            .db()?
            .query("SELECT rubric_id, version, sha256::text, content, published_at FROM sync_rubrics ORDER BY rubric_id, version", &[])
            .map_err(db_err)?;
        Ok(rows
            .iter()
            .map(|r| PublishedRubric {
                rubric_id: r.get(0),
                version: r.get(1),
                sha256: r.get(2),
                content: r.get(3),
                signed: None,
                published_at: r.get(4),
            })
            .collect())
    }

    fn publish_rubric(&self, content: &str, now: &str) -> Result<PublishedRubric, ApiError> {
        let r = hallmark_store::sync::publishable_rubric(content).map_err(ApiError::from_store)?;
        let mut db = self.db()?;
        db.execute(
            "INSERT INTO sync_rubrics (sha256, rubric_id, version, content, published_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
            &[&r.content_hash, &r.id, &r.version, &content, &now],
        )
        .map_err(db_err)?;
        let held: String =
            db.query_one("SELECT sha256::text FROM sync_rubrics WHERE rubric_id = $1 AND version = $2", &[&r.id, &r.version]).map_err(db_err)?.get(0);
        drop(db);
        if held != r.content_hash {
            return Err(ApiError::from_store(hallmark_store::sync::rubric_clash(&r, "kept here before")));
        }
        Ok(self.published_rubrics()?.into_iter().find(|p| p.sha256 == r.content_hash).expect("kept above"))
    }

    fn enrollment(&self, public_key: &str) -> Result<Option<Enrollment>, ApiError> {
        let row = self
            .db()?
            .query_opt(&format!("SELECT {ENROLLMENT_COLUMNS} FROM sync_enrollments WHERE public_key = $1"), &[&public_key])
            .map_err(db_err)?;
        Ok(row.as_ref().map(enrollment_of))
    }

    fn enrollments(&self) -> Result<Vec<Enrollment>, ApiError> {
        let rows = self
            .db()?
            .query(&format!("SELECT {ENROLLMENT_COLUMNS} FROM sync_enrollments ORDER BY state <> 'pending', received_at, public_key"), &[])
            .map_err(db_err)?;
        Ok(rows.iter().map(enrollment_of).collect())
    }

    fn put_enrollment_request(&self, e: &Enrollment) -> Result<Enrollment, ApiError> {
        self.db()?
            .execute(
                "INSERT INTO sync_enrollments (public_key, request, name, unit, title, device_id, state, received_at)
                 VALUES ($1, $2, $3, $4, $5, $6, 'pending', $7)
                 ON CONFLICT (public_key) DO UPDATE SET request = excluded.request, name = excluded.name, unit = excluded.unit,
                     title = excluded.title, device_id = excluded.device_id, state = 'pending', received_at = excluded.received_at,
                     decided_at = NULL, reason = NULL, chain = NULL
                 WHERE sync_enrollments.state <> 'approved'",
                &[&e.public_key, &e.request, &e.name, &e.unit, &e.title, &e.device_id, &e.received_at],
            )
            .map_err(db_err)?;
        Ok(self.enrollment(&e.public_key)?.expect("just written"))
    }

    fn decide_enrollment(&self, public_key: &str, state: &str, chain: &[String], reason: &str, now: &str) -> Result<Option<Enrollment>, ApiError> {
        let chain = (!chain.is_empty()).then(|| serde_json::to_string(chain).expect("serializes"));
        let reason = (!reason.trim().is_empty()).then(|| reason.trim().to_string());
        self.db()?
            .execute(
                "UPDATE sync_enrollments SET state = $2, chain = $3::text::jsonb, reason = $4, decided_at = $5 WHERE public_key = $1",
                &[&public_key, &state, &chain, &reason, &now],
            )
            .map_err(db_err)?;
        self.enrollment(public_key)
    }

    fn keep_reviews(&self, lead_key: &str, chain: &[String], reviews: &[ReviewV1], now: &str) -> Result<u64, ApiError> {
        let chain = serde_json::to_string(chain).expect("serializes");
        let mut db = self.db()?;
        let mut tx = db.transaction().map_err(db_err)?;
        let mut new = 0;
        for r in reviews {
            let statement = serde_json::to_string(r).expect("serializes");
            new += tx
                .execute(
                    "INSERT INTO sync_reviews (statement, inspection_id, lead_key, chain, received_at) VALUES ($1, $2, $3, $4::text::jsonb, $5)
                     ON CONFLICT (statement) DO NOTHING",
                    &[&statement, &r.inspection_id, &lead_key, &chain, &now],
                )
                .map_err(db_err)?;
        }
        tx.commit().map_err(db_err)?;
        Ok(new)
    }

    fn reviews_for(&self, device_key: &str) -> Result<Vec<(Vec<String>, ReviewV1)>, ApiError> {
        // The lead's chain as it last presented it (a renewed certificate replaces the one kept
        // with older reviews); the kept one when the lead is not known here any more.
        let rows = self
            .db()?
            .query(
                "SELECT coalesce(d.chain, r.chain)::text, r.statement, r.inspection_id FROM sync_reviews r
                 LEFT JOIN sync_devices d ON d.public_key = r.lead_key
                 WHERE r.inspection_id IN (SELECT inspection_id FROM sync_bundles WHERE signer_key = $1)
                 ORDER BY r.inspection_id, r.received_at, r.seq",
                &[&device_key],
            )
            .map_err(db_err)?;
        let mut out = Vec::new();
        for r in rows {
            let (chain, statement, id): (String, String, String) = (r.get(0), r.get(1), r.get(2));
            match (serde_json::from_str(&chain), serde_json::from_str(&statement)) {
                (Ok(chain), Ok(review)) => out.push((chain, review)),
                // One damaged row must not stop the device's other reviews.
                _ => eprintln!("hallmark serve: a review of inspection {id} in the records does not read; skipped"),
            }
        }
        Ok(out)
    }

    fn reviews_held(&self, inspection_ids: &[String]) -> Result<u64, ApiError> {
        let ids = inspection_ids.to_vec();
        let n: i64 = self.db()?.query_one("SELECT count(*) FROM sync_reviews WHERE inspection_id = ANY($1)", &[&ids]).map_err(db_err)?.get(0);
        Ok(n as u64)
    }
}
