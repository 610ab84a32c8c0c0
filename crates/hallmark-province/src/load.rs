//! Writing a verified report's records (issue #12): the evaluation, its sheets, item scores,
//! events and evidence, the PDF and its sidecar — in one transaction, so a page never shows
//! half a report. The caller verified the report and recomputed every number from its bundles
//! (`hallmark_report::seal::verify_recomputed`); this module only writes what it is given.
//! Blobs are written first, each on its own and idempotently (keyed by SHA-256): a blob
//! without rows is invisible and harmless, a row never names a blob that is not there.

use postgres::Client;

use crate::blobs::BlobStore;
use crate::{RecordsError, Result};

/// One signed, verified report as the province keeps it. Decimals and dates are text as the
/// report prints them; PostgreSQL parses them (never a float).
#[derive(Debug, Clone)]
pub struct EvaluationRecord {
    pub report_number: String,
    pub hall_id: String,
    pub rubric_id: String,
    pub rubric_version: String,
    /// The first visit day of the panel.
    pub visited_on: String,
    /// RFC 3339.
    pub signed_at: String,
    pub final_score: Option<String>,
    /// `pass`, `fail`, `vetoed`, `insufficient` or `no_pass_line`.
    pub outcome: String,
    pub valid_until: Option<String>,
    /// The report this one corrects (更正).
    pub replaces: Option<String>,
    pub sheets: Vec<SheetRecord>,
    pub pdf_sha256: String,
    pub sidecar: Vec<u8>,
    /// Who signed, as the verification names them.
    pub signer: String,
    pub verification: String,
    pub loaded_by: String,
    /// (bundle id, SHA-256 of its head blob) of every bundle the report was verified against.
    pub bundles: Vec<(String, String)>,
}

#[derive(Debug, Clone)]
pub struct SheetRecord {
    pub inspection_id: String,
    pub assessor: String,
    pub device_key: String,
    pub total: String,
    /// (item id, max points, points); unanswered items have no row.
    pub items: Vec<(String, String, String)>,
    pub events: Vec<EventRecord>,
    pub evidence: Vec<EvidenceRecord>,
}

#[derive(Debug, Clone)]
pub struct EventRecord {
    pub id: String,
    pub key: String,
    /// JSON text; `None` clears the key.
    pub value: Option<String>,
    pub recorded_at: String,
}

#[derive(Debug, Clone)]
pub struct EvidenceRecord {
    pub item_id: String,
    pub sha256: String,
    pub thumb_sha256: Option<String>,
    pub caption: String,
}

/// Keeps a blob by its SHA-256 (the caller hashed it) in `store`; `true` when it was new. In
/// the object store the object is written first, its row after: a row never names a missing
/// object.
pub fn put_blob(db: &mut Client, store: &BlobStore, sha256: &str, bytes: &[u8]) -> Result<bool> {
    if has_blob(db, sha256)? {
        return Ok(false);
    }
    let n = match store {
        BlobStore::Postgres => db.execute(
            "INSERT INTO blobs (sha256, size, bytes, place) VALUES ($1, $2, $3, 'postgres') ON CONFLICT (sha256) DO NOTHING",
            &[&sha256, &(bytes.len() as i64), &bytes],
        )?,
        BlobStore::S3(s3) => {
            s3.put(sha256, bytes)?;
            return record_object(db, sha256, bytes.len() as u64);
        }
    };
    Ok(n == 1)
}

/// Indexes an object already in the object store by its `blobs` row; `true` when it was new.
pub fn record_object(db: &mut Client, sha256: &str, size: u64) -> Result<bool> {
    let n = db.execute(
        "INSERT INTO blobs (sha256, size, bytes, place) VALUES ($1, $2, NULL, 's3') ON CONFLICT (sha256) DO NOTHING",
        &[&sha256, &(size as i64)],
    )?;
    Ok(n == 1)
}

/// Whether a blob is held.
pub fn has_blob(db: &mut Client, sha256: &str) -> Result<bool> {
    Ok(db.query_one("SELECT EXISTS (SELECT 1 FROM blobs WHERE sha256 = $1)", &[&sha256])?.get(0))
}

/// A blob's bytes, wherever its row says they are (an object is checked against its hash).
pub fn blob(db: &mut Client, store: &BlobStore, sha256: &str) -> Result<Option<Vec<u8>>> {
    let Some(row) = db.query_opt("SELECT place, bytes FROM blobs WHERE sha256 = $1", &[&sha256])? else {
        return Ok(None);
    };
    match (row.get::<_, &str>(0), store) {
        ("postgres", _) => Ok(row.get(1)),
        (_, BlobStore::S3(s3)) => match s3.get(sha256)? {
            Some(b) => Ok(Some(b)),
            None => {
                Err(RecordsError::Invalid(format!("blob {sha256} is recorded in the object store {} but is not there: restore the bucket", s3.shown)))
            }
        },
        (_, BlobStore::Postgres) => Err(RecordsError::Invalid(format!(
            "blob {sha256} is kept in the object store: give its URL (--s3 http://KEY:SECRET@HOST:PORT/BUCKET or HALLMARK_S3)"
        ))),
    }
}

/// What loading did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Loaded {
    New {
        sheets: usize,
        events: usize,
        photos: usize,
    },
    /// The report was loaded before; nothing changed.
    Already,
}

/// Writes one evaluation in one transaction. Refuses a hall not in the records, a blob not
/// held, and a sheet another report already holds (one inspection belongs to one report).
pub fn load(db: &mut Client, r: &EvaluationRecord) -> Result<Loaded> {
    let mut tx = db.transaction()?;
    let held: Option<Option<String>> = tx
        .query_opt(
            "SELECT r.pdf_sha256::text FROM evaluations e LEFT JOIN reports r ON r.report_number = e.report_number WHERE e.report_number = $1",
            &[&r.report_number],
        )?
        .map(|row| row.get(0));
    match held {
        Some(Some(pdf)) if pdf == r.pdf_sha256 => return Ok(Loaded::Already),
        Some(_) => {
            return Err(RecordsError::Invalid(format!(
                "report number {} is held already with another PDF: two reports cannot share a number (nothing was loaded)",
                r.report_number
            )))
        }
        None => {}
    }
    let hall: bool = tx.query_one("SELECT EXISTS (SELECT 1 FROM halls WHERE id = $1)", &[&r.hall_id])?.get(0);
    if !hall {
        return Err(RecordsError::Invalid(format!(
            "hall '{}' is not in the province's records: import the hall registry first (hallmark records halls --import FILE.xlsx)",
            r.hall_id
        )));
    }
    // A correction (更正) is made from the same panel: its sheets move from the report it
    // replaces (of the same hall) to it; any other report's sheet is refused.
    if let Some(old) = &r.replaces {
        let hall: Option<String> = tx.query_opt("SELECT hall_id FROM evaluations WHERE report_number = $1", &[old])?.map(|row| row.get(0));
        if hall.as_ref().is_some_and(|h| *h != r.hall_id) {
            return Err(RecordsError::Invalid(format!(
                "report {} corrects report {old} of another hall: a correction keeps its hall",
                r.report_number
            )));
        }
    }
    let mut moving = std::collections::HashSet::new();
    for s in &r.sheets {
        let other: Option<String> =
            tx.query_opt("SELECT report_number FROM sheets WHERE inspection_id = $1::text::uuid", &[&s.inspection_id])?.map(|row| row.get(0));
        match other {
            Some(other) if r.replaces.as_ref() == Some(&other) => {
                moving.insert(s.inspection_id.clone());
            }
            Some(other) => {
                return Err(RecordsError::Invalid(format!(
                    "{}'s inspection {} is held already as part of report {other}: one inspection belongs to one report (a correction names the report it replaces)",
                    s.assessor, s.inspection_id
                )))
            }
            None => {}
        }
    }
    tx.execute(
        "INSERT INTO evaluations (report_number, hall_id, rubric_id, rubric_version, visited_on, signed_at, final_score, outcome, valid_until, assessors, replaces)
         VALUES ($1, $2, $3, $4, $5::text::date, $6::text::timestamptz, $7::text::numeric, $8, $9::text::date, $10, $11)",
        &[
            &r.report_number,
            &r.hall_id,
            &r.rubric_id,
            &r.rubric_version,
            &r.visited_on,
            &r.signed_at,
            &r.final_score,
            &r.outcome,
            &r.valid_until,
            &(r.sheets.len() as i32),
            &r.replaces,
        ],
    )?;
    let mut events = 0;
    let mut photos = 0;
    let item = tx.prepare(
        "INSERT INTO item_scores (inspection_id, item_id, max_points, points) VALUES ($1::text::uuid, $2, $3::text::numeric, $4::text::numeric)",
    )?;
    let event = tx.prepare(
        "INSERT INTO events (id, inspection_id, key, value, recorded_at) VALUES ($1::text::uuid, $2::text::uuid, $3, $4::text::jsonb, $5::text::timestamptz)
         ON CONFLICT (id) DO NOTHING",
    )?;
    let evidence = tx.prepare(
        "INSERT INTO evidence (inspection_id, item_id, sha256, thumb_sha256, caption) VALUES ($1::text::uuid, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
    )?;
    for s in &r.sheets {
        if moving.contains(&s.inspection_id) {
            tx.execute(
                "UPDATE sheets SET report_number = $2, assessor = $3, device_key = $4, total = $5::text::numeric WHERE inspection_id = $1::text::uuid",
                &[&s.inspection_id, &r.report_number, &s.assessor, &s.device_key, &s.total],
            )?;
            tx.execute("DELETE FROM item_scores WHERE inspection_id = $1::text::uuid", &[&s.inspection_id])?;
            tx.execute("DELETE FROM evidence WHERE inspection_id = $1::text::uuid", &[&s.inspection_id])?;
        } else {
            tx.execute(
                "INSERT INTO sheets (inspection_id, report_number, assessor, device_key, total) VALUES ($1::text::uuid, $2, $3, $4, $5::text::numeric)",
                &[&s.inspection_id, &r.report_number, &s.assessor, &s.device_key, &s.total],
            )?;
        }
        for (id, max, points) in &s.items {
            tx.execute(&item, &[&s.inspection_id, id, max, points])?;
        }
        for e in &s.events {
            events += tx.execute(&event, &[&e.id, &s.inspection_id, &e.key, &e.value, &e.recorded_at])? as usize;
        }
        for p in &s.evidence {
            photos += tx.execute(&evidence, &[&s.inspection_id, &p.item_id, &p.sha256, &p.thumb_sha256, &p.caption])? as usize;
        }
    }
    tx.execute(
        "INSERT INTO evaluation_items (report_number, item_id, max_points, mean_lost)
         SELECT s.report_number, i.item_id, max(i.max_points), avg(i.max_points - i.points)
         FROM sheets s JOIN item_scores i ON i.inspection_id = s.inspection_id
         WHERE s.report_number = $1 GROUP BY s.report_number, i.item_id",
        &[&r.report_number],
    )?;
    tx.execute(
        "INSERT INTO reports (report_number, pdf_sha256, sidecar, signer, verified_at, verification, loaded_by) VALUES ($1, $2, $3, $4, now(), $5, $6)",
        &[&r.report_number, &r.pdf_sha256, &r.sidecar, &r.signer, &r.verification, &r.loaded_by],
    )?;
    for (bundle_id, head) in &r.bundles {
        tx.execute("INSERT INTO report_bundles (report_number, bundle_id, head_sha256) VALUES ($1, $2, $3)", &[&r.report_number, bundle_id, head])?;
    }
    tx.commit()?;
    Ok(Loaded::New { sheets: r.sheets.len(), events, photos })
}

/// A hall of the registry as the records keep it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HallRecord {
    pub id: String,
    pub region_code: String,
    pub name: String,
    pub address: String,
    pub level: String,
}

/// Adds or updates halls by id, in one transaction: (added, updated).
pub fn upsert_halls(db: &mut Client, halls: &[HallRecord]) -> Result<(u64, u64)> {
    let mut tx = db.transaction()?;
    let (mut added, mut updated) = (0, 0);
    for h in halls {
        let row = tx.query_one(
            "INSERT INTO halls (id, region_code, name, address, level) VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (id) DO UPDATE SET region_code = EXCLUDED.region_code, name = EXCLUDED.name, address = EXCLUDED.address, level = EXCLUDED.level
             RETURNING (xmax = 0)",
            &[&h.id, &h.region_code, &h.name, &h.address, &h.level],
        )?;
        if row.get::<_, bool>(0) {
            added += 1
        } else {
            updated += 1
        }
    }
    tx.commit()?;
    Ok((added, updated))
}

/// A report as the records can give it back: its PDF, its sidecar and the heads of its
/// bundles (`(bundle id, head bytes)`).
pub struct HeldReport {
    pub report_number: String,
    pub pdf: Vec<u8>,
    pub sidecar: Vec<u8>,
    pub heads: Vec<(String, Vec<u8>)>,
}

/// Every report number held, oldest first.
pub fn report_numbers(db: &mut Client) -> Result<Vec<String>> {
    Ok(db
        .query("SELECT r.report_number FROM reports r JOIN evaluations e USING (report_number) ORDER BY e.signed_at, r.report_number", &[])?
        .iter()
        .map(|r| r.get(0))
        .collect())
}

/// One report's files from the records (`None`: not held; a blob missing is an error).
pub fn held_report(db: &mut Client, store: &BlobStore, report_number: &str) -> Result<Option<HeldReport>> {
    let Some(row) = db.query_opt("SELECT pdf_sha256::text, sidecar FROM reports WHERE report_number = $1", &[&report_number])? else {
        return Ok(None);
    };
    let missing =
        |what: &str| RecordsError::Invalid(format!("report {report_number}: its {what} is not in the blobs (the records are damaged: restore them)"));
    let pdf = blob(db, store, row.get::<_, &str>(0))?.ok_or_else(|| missing("PDF"))?;
    let mut heads = Vec::new();
    for r in
        db.query("SELECT bundle_id::text, head_sha256::text FROM report_bundles WHERE report_number = $1 ORDER BY bundle_id", &[&report_number])?
    {
        let id: String = r.get(0);
        let head = blob(db, store, r.get::<_, &str>(1))?.ok_or_else(|| missing(&format!("bundle {id}'s head")))?;
        heads.push((id, head));
    }
    Ok(Some(HeldReport { report_number: report_number.to_string(), pdf, sidecar: row.get(1), heads }))
}

/// The blobs kept in the object store, by hash: what a backup copies beside the dump.
pub fn object_blobs(db: &mut Client) -> Result<Vec<(String, i64)>> {
    Ok(db.query("SELECT sha256::text, size FROM blobs WHERE place = 's3' ORDER BY sha256", &[])?.iter().map(|r| (r.get(0), r.get(1))).collect())
}

/// Copies every object-store blob into `dir` (`dir/ab/<sha256>`), each checked against its
/// hash; files already there and whole are kept. Returns (copied, kept).
pub fn export_objects(db: &mut Client, store: &BlobStore, dir: &std::path::Path) -> Result<(usize, usize)> {
    let io = |e: std::io::Error, p: &std::path::Path| RecordsError::Invalid(format!("{}: {e}", p.display()));
    let (mut copied, mut kept) = (0, 0);
    for (sha, _) in object_blobs(db)? {
        let path = dir.join(&sha[..2]).join(&sha);
        if std::fs::read(&path).is_ok_and(|b| hallmark_core::hex::sha256_hex(&b) == sha) {
            kept += 1;
            continue;
        }
        let bytes = blob(db, store, &sha)?.ok_or_else(|| RecordsError::Invalid(format!("blob {sha} vanished")))?;
        std::fs::create_dir_all(path.parent().expect("has a parent")).map_err(|e| io(e, &path))?;
        let partial = path.with_extension("partial");
        std::fs::write(&partial, &bytes).map_err(|e| io(e, &partial))?;
        std::fs::rename(&partial, &path).map_err(|e| io(e, &path))?;
        copied += 1;
    }
    Ok((copied, kept))
}

/// Puts every object-store blob the records name into `store` from `dir` (a restore into a
/// fresh bucket): each file checked against its hash first. Returns (put, already there).
pub fn import_objects(db: &mut Client, store: &BlobStore, dir: &std::path::Path) -> Result<(usize, usize)> {
    let BlobStore::S3(s3) = store else {
        return Err(RecordsError::Invalid("importing objects needs the object store (--s3 URL or HALLMARK_S3)".into()));
    };
    let (mut put, mut there) = (0, 0);
    for (sha, _) in object_blobs(db)? {
        if s3.get(&sha)?.is_some() {
            there += 1;
            continue;
        }
        let path = dir.join(&sha[..2]).join(&sha);
        let bytes = std::fs::read(&path)
            .map_err(|e| RecordsError::Invalid(format!("{}: {e} (the backup's evidence folder lacks blob {sha})", path.display())))?;
        if hallmark_core::hex::sha256_hex(&bytes) != sha {
            return Err(RecordsError::Invalid(format!("{}: holds other bytes than blob {sha} (the backup is damaged)", path.display())));
        }
        s3.put(&sha, &bytes)?;
        put += 1;
    }
    Ok((put, there))
}

/// Deletes the objects no `blobs` row names that are older than `older_than` (an object is
/// written before its row: a younger one may be a load in progress). Such objects come from a
/// load stopped between the two writes; they were never visible. Returns (deleted, kept).
pub fn sweep_objects(db: &mut Client, store: &BlobStore, older_than: chrono::Duration) -> Result<(usize, usize)> {
    let BlobStore::S3(s3) = store else {
        return Err(RecordsError::Invalid("sweeping needs the object store (--s3 URL or HALLMARK_S3)".into()));
    };
    let cutoff = chrono::Utc::now() - older_than;
    let (mut deleted, mut kept) = (0, 0);
    for (sha, modified) in s3.list()? {
        if has_blob(db, &sha)? || modified >= cutoff {
            kept += 1;
            continue;
        }
        // Looked at again just before deleting: the same bytes stored anew since the listing
        // (a push or a load, object first, row after) have a fresh time or a row by now.
        let fresh = s3.modified(&sha)?.map_or(true, |m| m >= cutoff);
        if fresh || has_blob(db, &sha)? {
            kept += 1;
        } else {
            s3.delete(&sha)?;
            deleted += 1;
        }
    }
    Ok((deleted, kept))
}
