//! Import: verify a bundle completely (hallmark-bundle), staging each file in a temp file
//! beside its final place in the same pass; check it against the database (known rubric,
//! values valid under it, nothing that contradicts what is here); then move the files into
//! place (one `syncfs`) and apply the rows in one transaction. A refused bundle changes
//! nothing; the same bundle twice changes nothing the second time.

use std::collections::BTreeSet;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use hallmark_bundle::format::{FileKind, ListedFile, Manifest};
use hallmark_bundle::verify::{self, FileSink};
use hallmark_bundle::BundleError;
use rusqlite::{params, OptionalExtension, TransactionBehavior};
use serde::Serialize;
use serde_json::Value;

use super::rules::{self, bundle_err, HeldEvent, HeldInspection};
use super::{Certified, Imported, Progress};
use crate::durable::{self, Writeback};
use crate::evidence::{photo_path_in, signature_path_in, thumb_path_in};
use crate::{identity, Event, Inspection, Result, Store, StoreError};

/// The store's form of a bundle's events.
pub fn events_of(m: &Manifest) -> Vec<Event> {
    m.events
        .iter()
        .map(|e| Event {
            id: e.id.clone(),
            key: e.key.clone(),
            value: e.value.clone(),
            previous: e.previous.clone(),
            author: e.author.clone(),
            device_id: e.device_id.clone(),
            recorded_at: e.recorded_at.clone(),
            amendment: e.amendment.clone(),
        })
        .collect()
}

/// The inspection as the store would hold it after importing this bundle alone.
pub fn inspection_of(m: &Manifest) -> Inspection {
    let h = &m.inspection;
    Inspection {
        id: h.id.clone(),
        rubric_id: m.rubric.id.clone(),
        rubric_version: m.rubric.version.clone(),
        rubric_hash: m.rubric.sha256.clone(),
        site_name: h.site_name.clone(),
        site_address: h.site_address.clone(),
        site_level: h.site_level.clone(),
        visited_on: h.visited_on.clone(),
        assessor_name: h.assessor_name.clone(),
        assessor_unit: h.assessor_unit.clone(),
        assessor_title: h.assessor_title.clone(),
        assessor_phone: h.assessor_phone.clone(),
        device_id: h.device_id.clone(),
        created_at: h.created_at.clone(),
        finished_at: h.finished_at.clone(),
        rubric_content: m.rubric.content.clone(),
        assignment_id: m.assignment.as_ref().map(|a| a.id.clone()),
        hall_id: m.assignment.as_ref().and_then(|a| a.hall_id.clone()),
    }
}

/// Stages a bundle's files under the store's folder: each in a temp file beside its place,
/// unless the file is already there. Nothing is renamed until [`Staging::commit`].
struct Staging {
    dir: PathBuf,
    /// (temp file, destination) of each file written so far.
    temps: Vec<(PathBuf, PathBuf)>,
    current: Option<Writeback>,
}

/// Where a bundle's listed file lives in a store folder (content-addressed).
pub fn stored_path(dir: &Path, f: &ListedFile) -> PathBuf {
    match f.kind {
        FileKind::Photo => photo_path_in(dir, &f.key),
        FileKind::Thumb => thumb_path_in(dir, &f.key),
        FileKind::SignatureImage => signature_path_in(dir, &f.key),
    }
}

/// Whether a listed file is already in the store folder (a content-addressed file of the
/// listed size is the listed file: only hash-checked bytes are ever renamed into place).
pub fn is_stored(dir: &Path, f: &ListedFile) -> bool {
    fs::metadata(stored_path(dir, f)).map(|m| m.len() == f.size).unwrap_or(false)
}

/// Where a file received by sync waits for its bundle's commit: beside its place, hidden.
pub fn received_path(dir: &Path, f: &ListedFile) -> PathBuf {
    let dest = stored_path(dir, f);
    let name = dest.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    dest.with_file_name(format!(".{name}.recv"))
}

/// Whether a listed file was received (and is waiting for its commit) with the listed size.
pub fn is_received(dir: &Path, f: &ListedFile) -> bool {
    fs::metadata(received_path(dir, f)).map(|m| m.len() == f.size).unwrap_or(false)
}

/// Receives one listed file by itself (sync, issue #11): its bytes go to a temp file while
/// hashed; only when the size and SHA-256 match the manifest's is it renamed to its waiting
/// name ([`received_path`]), and the kernel starts writing it out. It is made durable and moved
/// into place by the bundle's commit — one `syncfs` for all its files, as a file import does —
/// which hashes it again first (a crash between the two may have left anything there). A cut
/// or wrong upload leaves nothing; receiving a file again replaces the waiting copy.
pub fn receive_file(dir: &Path, f: &ListedFile, src: &mut dyn std::io::Read) -> Result<u64> {
    let waiting = received_path(dir, f);
    let folder = waiting.parent().expect("store paths have a folder");
    fs::create_dir_all(folder).map_err(|e| crate::io("cannot create a store folder", e))?;
    let tmp = durable::temp_path_for(&waiting);
    let file = fs::File::create(&tmp).map_err(|e| crate::io("cannot write to the store", e))?;
    // Removes the temp file on every early return.
    struct Temp<'a>(&'a Path, bool);
    impl Drop for Temp<'_> {
        fn drop(&mut self) {
            if !self.1 {
                let _ = fs::remove_file(self.0);
            }
        }
    }
    let mut guard = Temp(&tmp, false);
    let mut out = Writeback::new(file);
    let got = copy_listed(f, src, &mut out)?;
    out.start_writeback();
    drop(out);
    fs::rename(&tmp, &waiting).map_err(|e| crate::io("cannot keep a received file", e))?;
    guard.1 = true;
    Ok(got)
}

/// Copies one listed file from `src` to `out`, refusing it unless its size and SHA-256 are the
/// manifest's (the words a tablet sees whichever server received it). Returns its size.
pub fn copy_listed(f: &ListedFile, src: &mut dyn std::io::Read, out: &mut dyn std::io::Write) -> Result<u64> {
    use sha2::{Digest, Sha256};
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut got = 0u64;
    loop {
        let n = match src.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(StoreError::Io(format!("'{}' was cut off after {got} of {} bytes: {e} (send it again)", f.entry, f.size))),
        };
        got += n as u64;
        if got > f.size {
            return Err(StoreError::Bundle(format!("'{}' is longer than the {} bytes the manifest lists (refused)", f.entry, f.size)));
        }
        hasher.update(&buf[..n]);
        out.write_all(&buf[..n]).map_err(|e| crate::io("cannot write to the store", e))?;
    }
    if got != f.size {
        return Err(StoreError::Io(format!("'{}' was cut off after {got} of {} bytes (send it again)", f.entry, f.size)));
    }
    if hallmark_core::hex::hex(&hasher.finalize()) != f.sha256 {
        return Err(StoreError::Bundle(format!(
            "'{}' does not match its SHA-256 in the signed manifest (the file was altered or damaged in transit; send it again)",
            f.entry
        )));
    }
    Ok(got)
}

/// Whether a file's bytes hash to `sha256` (a received file, checked again at its commit).
fn hashes_to(path: &Path, size: u64, sha256: &str) -> bool {
    matches!(durable::hash_file(path), Ok((h, n)) if n == size && h == sha256)
}

impl Staging {
    fn dest(&self, f: &ListedFile) -> PathBuf {
        stored_path(&self.dir, f)
    }

    fn discard(&mut self) {
        self.current = None;
        for (tmp, _) in self.temps.drain(..) {
            let _ = fs::remove_file(tmp);
        }
    }

    /// Makes the files durable and moves them into place. One `syncfs` flushes every staged
    /// file (one journal commit, not one per file), a second one the renames.
    fn commit(mut self) -> Result<usize> {
        let n = self.temps.len();
        if n == 0 {
            return Ok(0);
        }
        let staged: Vec<PathBuf> = self.temps.iter().map(|t| t.0.clone()).collect();
        durable::sync_filesystem(&self.dir, &staged).map_err(|e| crate::io("cannot flush the photos to disk", e))?;
        let mut folders = BTreeSet::new();
        for (tmp, dest) in self.temps.drain(..) {
            fs::rename(&tmp, &dest).map_err(|e| crate::io("cannot move a photo into the store", e))?;
            folders.insert(dest.parent().expect("has folder").to_path_buf());
        }
        let folders: Vec<PathBuf> = folders.into_iter().collect();
        durable::sync_filesystem(&self.dir, &folders).map_err(|e| crate::io("cannot flush the photo folders", e))?;
        Ok(n)
    }
}

impl FileSink for Staging {
    fn start(&mut self, f: &ListedFile) -> std::result::Result<bool, BundleError> {
        let dest = self.dest(f);
        if fs::metadata(&dest).map(|m| m.len() == f.size).unwrap_or(false) {
            return Ok(false);
        }
        let folder = dest.parent().expect("store paths have a folder");
        let io = |e: std::io::Error| BundleError::Io(format!("cannot write to the store: {e}"));
        fs::create_dir_all(folder).map_err(|e| BundleError::Io(format!("cannot create a store folder: {e}")))?;
        let tmp = durable::temp_path_for(&dest);
        let file = fs::File::create(&tmp).map_err(io)?;
        self.temps.push((tmp, dest));
        self.current = Some(Writeback::new(file));
        Ok(true)
    }

    fn write(&mut self, bytes: &[u8]) -> std::result::Result<(), BundleError> {
        self.current.as_mut().expect("started").write_all(bytes).map_err(|e| BundleError::Io(format!("cannot write to the store: {e}")))
    }

    fn finish(&mut self) -> std::result::Result<(), BundleError> {
        // Writeback starts now and the file closes; the one `syncfs` in `commit` makes it
        // durable (no descriptor held per file: a bundle may list 30 000).
        let mut f = self.current.take().expect("started");
        f.start_writeback();
        Ok(())
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        self.discard();
    }
}

impl Store {
    /// Verifies a bundle completely, then applies it in one transaction. A refused bundle
    /// changes nothing; the same bundle twice changes nothing the second time.
    pub fn import_bundle(&mut self, path: &Path, now: &str, progress: Progress<'_>) -> Result<Imported> {
        // Never write into a damaged database (checked once per open).
        self.ensure_sound()?;
        let opened = verify::open(path)?;
        self.import_opened(opened, None, now, progress)
    }

    /// The files of a bundle that is not yet complete here: what sync (issue #11) asks a
    /// tablet to send after its manifest.
    /// Files with the same bytes (two photos whose thumbnails are identical) are asked for
    /// once: sync sends a file by its SHA-256.
    pub fn missing_files(&self, m: &Manifest) -> Vec<ListedFile> {
        let files = m.files();
        let here: BTreeSet<&str> = files.iter().filter(|f| is_stored(&self.dir, f) || is_received(&self.dir, f)).map(|f| f.sha256.as_str()).collect();
        let mut asked = BTreeSet::new();
        files.iter().filter(|f| !here.contains(f.sha256.as_str()) && asked.insert(f.sha256.clone())).cloned().collect()
    }

    /// A listed file received (or stored) under one name serves every other listed name with
    /// the same SHA-256: copied to their waiting names (hashed again at the commit, as any
    /// waiting file).
    fn share_received(&self, m: &Manifest) -> Result<()> {
        let files = m.files();
        for f in &files {
            if is_stored(&self.dir, f) || is_received(&self.dir, f) {
                continue;
            }
            let twin = files.iter().find(|g| g.sha256 == f.sha256 && (is_stored(&self.dir, g) || is_received(&self.dir, g)));
            if let Some(g) = twin {
                let from = if is_received(&self.dir, g) { received_path(&self.dir, g) } else { stored_path(&self.dir, g) };
                let to = received_path(&self.dir, f);
                if let Some(folder) = to.parent() {
                    fs::create_dir_all(folder).map_err(|e| crate::io("cannot create a store folder", e))?;
                }
                let tmp = durable::temp_path_for(&to);
                fs::copy(&from, &tmp).map_err(|e| crate::io("cannot copy a received file", e))?;
                fs::rename(&tmp, &to).map_err(|e| crate::io("cannot keep a received file", e))?;
            }
        }
        Ok(())
    }

    /// Imports a bundle that arrived in parts (sync, issue #11): `head` is its first two
    /// entries (`manifest.json`, `manifest.sig`) as a ustar stream, and every listed file was
    /// received by [`receive_file`] (hash-checked on arrival). Everything else is checked
    /// exactly as [`Store::import_bundle`] checks a file; a listed file not yet here refuses
    /// the commit and changes nothing.
    ///
    /// Each waiting file is hashed again unless `verified_here` says so of its path: the
    /// server that received it and hashed it on arrival is still the same process (no crash
    /// in between could have changed it).
    pub fn import_uploaded(&mut self, name: &str, head: &[u8], now: &str, verified_here: &dyn Fn(&Path) -> bool) -> Result<Imported> {
        self.ensure_sound()?;
        let opened = verify::open_reader(name, head.len() as u64, head, true)?;
        self.import_opened(opened, Some(verified_here), now, &mut |_, _| {})
    }

    /// Checks a bundle's head as [`Store::import_uploaded`] will at commit — signature,
    /// manifest, the signer's certificate chain, rubric, every value against this database —
    /// without writing anything (sync's offer, issue #11). Returns the manifest and the bundle
    /// id.
    pub fn check_uploaded(&self, name: &str, head: &[u8], now: &str) -> Result<(Manifest, String)> {
        self.ensure_sound()?;
        let opened = verify::open_reader(name, head.len() as u64, head, true)?;
        if self.first_seen(&opened.bundle_id)?.is_none() {
            rules::certify(self, &opened.file, &opened.manifest, now, now)?;
        }
        rules::check_against(self, &opened.file, &opened.manifest)?;
        Ok((opened.manifest, opened.bundle_id))
    }

    fn import_opened<R: std::io::Read>(
        &mut self,
        opened: verify::Opened<R>,
        // Some: the files were received one by one (sync); the predicate names waiting files
        // this process hashed on arrival.
        files_in_store: Option<&dyn Fn(&Path) -> bool>,
        now: &str,
        progress: Progress<'_>,
    ) -> Result<Imported> {
        let file = opened.file.clone();
        let known_as = self.roster_name(&opened.manifest.device.public_key)?;
        // Who signed, as the bundle's certificate chain says, at the trusted time: when this
        // store first saw the bundle (now, or its first import) — never the tablet's clock.
        // A bundle imported before keeps what its chain said then: a revocation list loaded
        // later never turns data already here into an error.
        let seen = self.first_seen(&opened.bundle_id)?;
        let seen_at = seen.clone().unwrap_or_else(|| now.to_string());
        let (certified, signer_row) = match seen {
            Some(_) => (self.certified_of(&opened.bundle_id)?, None),
            None => rules::certify(self, &file, &opened.manifest, &seen_at, now)?,
        };
        let new_events = rules::check_against(self, &file, &opened.manifest)?;
        // Every file is verified even for a bundle imported before: a damaged copy of a known
        // bundle is refused, not waved through as "already imported".
        let mut staging = Staging { dir: self.dir.clone(), temps: Vec::new(), current: None };
        let verified = if let Some(verified_here) = files_in_store {
            self.share_received(&opened.manifest)?;
            let missing = self.missing_files(&opened.manifest);
            if let Some(first) = missing.first() {
                return Err(bundle_err(
                    &file,
                    format!("'{}' has not arrived ({} of the listed files are missing): send them, then commit again", first.entry, missing.len()),
                ));
            }
            // Received files wait beside their place: hashed again (nothing made them durable
            // yet), then moved into place with the transaction like a file import's staging.
            // A damaged one is removed (the others keep waiting) and refuses the commit.
            let mut waiting = Vec::new();
            for f in opened.manifest.files() {
                let dest = staging.dest(&f);
                if is_stored(&self.dir, &f) || waiting.iter().any(|(_, d)| *d == dest) {
                    continue;
                }
                let path = received_path(&self.dir, &f);
                let sound = if verified_here(&path) { is_received(&self.dir, &f) } else { hashes_to(&path, f.size, &f.sha256) };
                if !sound {
                    let _ = fs::remove_file(&path);
                    return Err(bundle_err(
                        &file,
                        format!("the received '{}' is damaged (a crash before its commit?) and was removed: send it again, then commit", f.entry),
                    ));
                }
                waiting.push((path, dest));
            }
            staging.temps.extend(waiting);
            opened.files_checked_on_arrival()
        } else {
            opened.verify_files(&mut staging, progress)?
        };
        let m = &verified.manifest;
        // The write lock first, then the check: of two imports of one bundle racing, the second
        // waits here and then finds the first one's row ("already imported", not a UNIQUE error).
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let existing: Option<String> =
            tx.query_row("SELECT inspection_id FROM bundles WHERE id = ?1", [&verified.bundle_id], |r| r.get(0)).optional()?;
        if let Some(inspection_id) = existing {
            drop(tx);
            staging.discard();
            return Ok(Imported::AlreadyImported {
                bundle_id: verified.bundle_id.clone(),
                inspection_id,
                assessor: m.inspection.assessor_name.clone(),
                fingerprint: m.device.fingerprint.clone(),
                known_as,
                certified,
            });
        }
        // Every byte verified: now the files go into place (before the rows that name them)
        // and the rows in, in this one transaction.
        let new_photos = staging.commit()?;
        let h = &m.inspection;
        tx.execute(
            "INSERT INTO inspections (id, rubric_id, rubric_version, rubric_hash, rubric_content, site_name, site_address,
             site_level, visited_on, assessor_name, assessor_unit, assessor_title, assessor_phone, device_id, created_at, finished_at,
             assignment_id, hall_id)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18)
             ON CONFLICT (id) DO UPDATE SET finished_at = coalesce(inspections.finished_at, excluded.finished_at)",
            params![
                h.id,
                m.rubric.id,
                m.rubric.version,
                m.rubric.sha256,
                m.rubric.content,
                h.site_name,
                h.site_address,
                h.site_level,
                h.visited_on,
                h.assessor_name,
                h.assessor_unit,
                h.assessor_title,
                h.assessor_phone,
                h.device_id,
                h.created_at,
                h.finished_at,
                m.assignment.as_ref().map(|a| a.id.as_str()),
                m.assignment.as_ref().and_then(|a| a.hall_id.as_deref())
            ],
        )?;
        for e in &m.events {
            tx.execute(
                "INSERT OR IGNORE INTO events (id, inspection_id, key, value, previous, author, device_id, recorded_at, amendment)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                params![
                    e.id,
                    h.id,
                    e.key,
                    e.value.as_ref().map(|v| v.to_string()),
                    e.previous.as_ref().map(|v| v.to_string()),
                    e.author,
                    e.device_id,
                    e.recorded_at,
                    e.amendment
                ],
            )?;
        }
        for s in &m.service_entries {
            tx.execute(
                "INSERT OR IGNORE INTO service_entries (id, inspection_id, item_id, kind, observed_at, note, occurrences, author, device_id, recorded_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                params![
                    s.id,
                    h.id,
                    s.item_id,
                    s.kind,
                    s.observed_at,
                    s.note,
                    serde_json::to_string(&s.occurrences).expect("map serializes"),
                    s.author,
                    s.device_id,
                    s.recorded_at
                ],
            )?;
        }
        for p in &m.photos {
            tx.execute(
                "INSERT OR IGNORE INTO photos (sha256, size, width, height, orientation, taken_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![p.sha256, p.size as i64, p.width, p.height, p.orientation, p.taken_at],
            )?;
        }
        for e in &m.evidence {
            tx.execute(
                "INSERT OR IGNORE INTO evidence (id, inspection_id, item_id, sha256, caption, author, device_id, attached_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                params![e.id, h.id, e.item_id, e.sha256, e.caption, e.author, e.device_id, e.attached_at],
            )?;
        }
        if let Some(s) = &m.signature_image {
            tx.execute(
                "INSERT INTO signatures (inspection_id, sha256, size, signed_at) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (inspection_id) DO UPDATE SET sha256 = excluded.sha256, size = excluded.size, signed_at = excluded.signed_at
                 WHERE excluded.signed_at > signatures.signed_at",
                params![h.id, s.sha256, s.size as i64, s.signed_at],
            )?;
        }
        tx.execute(
            "INSERT INTO bundles (id, inspection_id, signer_key, created_at, imported_at, file_name, events, new_events, photos)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            params![
                verified.bundle_id,
                h.id,
                m.device.public_key,
                m.created_at,
                now,
                file,
                m.events.len() as i64,
                new_events as i64,
                m.photos.len() as i64
            ],
        )?;
        for e in &m.events {
            tx.execute("INSERT INTO bundle_events (bundle_id, event_id) VALUES (?1, ?2)", params![verified.bundle_id, e.id])?;
        }
        if let Some(r) = &signer_row {
            tx.execute(
                "INSERT INTO bundle_signers (bundle_id, assurance, name, unit, title, roles, serial, issuer, root, checked_at, notes)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
                params![
                    verified.bundle_id,
                    r.assurance,
                    r.name,
                    r.unit,
                    r.title,
                    r.roles,
                    r.serial,
                    r.issuer,
                    r.root,
                    seen_at,
                    serde_json::to_string(&r.notes).expect("notes serialize")
                ],
            )?;
        }
        crate::events::rebuild_answers_in(&tx, &h.id)?;
        tx.commit()?;
        Ok(Imported::Applied {
            bundle_id: verified.bundle_id.clone(),
            inspection_id: h.id.clone(),
            site: h.site_name.clone(),
            assessor: h.assessor_name.clone(),
            fingerprint: m.device.fingerprint.clone(),
            known_as,
            certified,
            events: m.events.len(),
            new_events,
            photos: m.photos.len(),
            new_photos: new_photos.min(m.photos.len()),
        })
    }

    /// Who a stored bundle's certificate named when it was imported (issue #10).
    pub fn certified_of(&self, bundle_id: &str) -> Result<Certified> {
        let row: Option<(String, String, String, String, String)> = self
            .conn
            .query_row("SELECT assurance, name, unit, root, serial FROM bundle_signers WHERE bundle_id = ?1", [bundle_id], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
            })
            .optional()?;
        Ok(match row {
            None => Certified::Unenrolled,
            Some((a, name, unit, root, serial)) if a == "enrolled" => Certified::Enrolled { name, unit, root, serial },
            Some((_, name, ..)) => Certified::Unchecked { name },
        })
    }

    /// When this store first saw a bundle (its import time), if it did.
    fn first_seen(&self, bundle_id: &str) -> Result<Option<String>> {
        Ok(self.conn.query_row("SELECT imported_at FROM bundles WHERE id = ?1", [bundle_id], |r| r.get(0)).optional()?)
    }

    /// The bundles imported for one inspection, oldest first.
    pub fn bundles(&self, inspection_id: &str) -> Result<Vec<BundleRecord>> {
        let mut st = self.conn.prepare(
            "SELECT b.id, b.signer_key, b.created_at, b.imported_at, b.file_name, b.events, b.new_events, b.photos, r.name
             FROM bundles b LEFT JOIN roster r ON r.public_key = b.signer_key
             WHERE b.inspection_id = ?1 ORDER BY b.imported_at, b.created_at, b.id",
        )?;
        let rows = st.query_map([inspection_id], |r| {
            let key: String = r.get(1)?;
            Ok(BundleRecord {
                id: r.get(0)?,
                fingerprint: identity::fingerprint_of(&hallmark_core::hex::unhex(&key).unwrap_or_default()),
                signer_key: key,
                created_at: r.get(2)?,
                imported_at: r.get(3)?,
                file_name: r.get(4)?,
                events: r.get::<_, i64>(5)? as usize,
                new_events: r.get::<_, i64>(6)? as usize,
                photos: r.get::<_, i64>(7)? as usize,
                known_as: r.get(8)?,
            })
        })?;
        Ok(rows.collect::<std::result::Result<Vec<_>, _>>()?)
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct BundleRecord {
    pub id: String,
    pub signer_key: String,
    pub fingerprint: String,
    pub known_as: Option<String>,
    pub created_at: String,
    pub imported_at: String,
    pub file_name: String,
    pub events: usize,
    pub new_events: usize,
    pub photos: usize,
}

/// The import rules ask a lead's (or a server's) SQLite store what it holds.
impl rules::Held for Store {
    fn trust_store(&self) -> Result<hallmark_trust::TrustStore> {
        Store::trust_store(self)
    }

    fn known_rubrics(&self) -> Result<Vec<(String, String, String)>> {
        crate::inspections::known_rubrics(self)
    }

    fn certified_signer_of_key(&self, public_key: &str) -> Result<Option<(String, String)>> {
        Ok(self
            .conn
            .query_row(
                "SELECT s.name, s.serial FROM bundle_signers s JOIN bundles b ON b.id = s.bundle_id WHERE b.signer_key = ?1 LIMIT 1",
                [public_key],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?)
    }

    fn inspection_header(&self, id: &str) -> Result<Option<HeldInspection>> {
        match self.inspection(id) {
            Ok(i) => Ok(Some(HeldInspection {
                rubric_hash: i.rubric_hash,
                site_name: i.site_name,
                assessor_name: i.assessor_name,
                device_id: i.device_id,
            })),
            Err(StoreError::NotFound(_)) => Ok(None),
            Err(e) => Err(e),
        }
    }

    fn first_signer_key(&self, inspection_id: &str) -> Result<Option<String>> {
        Ok(self
            .conn
            .query_row("SELECT signer_key FROM bundles WHERE inspection_id = ?1 ORDER BY imported_at, id LIMIT 1", [inspection_id], |r| r.get(0))
            .optional()?)
    }

    fn events(&self, ids: &[&str]) -> Result<std::collections::BTreeMap<String, HeldEvent>> {
        let mut st = self.conn.prepare("SELECT inspection_id, key, value, recorded_at, device_id FROM events WHERE id = ?1")?;
        let mut out = std::collections::BTreeMap::new();
        for id in ids {
            let row: Option<(String, String, Option<String>, String, String)> =
                st.query_row([id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))).optional()?;
            if let Some((inspection_id, key, value, recorded_at, device_id)) = row {
                let value: Option<Value> = value.map(|v| crate::stored_json(&v)).transpose()?;
                out.insert(id.to_string(), HeldEvent { inspection_id, key, value, recorded_at, device_id });
            }
        }
        Ok(out)
    }

    fn own_device_id(&self) -> Option<&str> {
        Some(&self.device_id)
    }
}
