//! When a database is damaged: [`Store::health`] (the full check behind `hallmark check`),
//! [`Store::backup`] / [`restore`] (one file: the database as `VACUUM INTO` writes it, with every
//! photo, thumbnail and signature image, each listed with its SHA-256 and checked on restore),
//! and [`rebuild`] (a new database from the bundles in a folder).
//!
//! A backup is a ustar archive (the bundle's strict reader and writer): `backup.json` first,
//! then `hallmark.sqlite3`, then the files under `photos/`, `thumbs/`, `signatures/`, and
//! `device.key` only when asked for (a backup on a USB stick must not be a way to sign as
//! this device).

use std::collections::BTreeMap;
use std::fs;
use std::io::{BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};

use hallmark_bundle::ustar;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::{derive_answers, durable, identity, io, Access, Result, Store, StoreError, DB_FILE};

/// The backup file format this hallmark writes; every version ever written still restores.
///
/// | format | introduced by | what |
/// |--------|---------------|------|
/// | `hallmark-backup/1` | #15 hardening | database + photos, thumbnails, signature images (+ key on request), each with SHA-256 |
pub const BACKUP_FORMAT: &str = "hallmark-backup/1";
pub const BACKUP_EXTENSION: &str = "hallmark-backup";
const MANIFEST: &str = "backup.json";
const MAX_MANIFEST_BYTES: u64 = 64 << 20;
const FILE_FOLDERS: [&str; 3] = ["photos", "thumbs", "signatures"];

/// `backup.json`, version 1 (issue #15). Do not modify: a new field is a new version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BackupManifestV1 {
    pub format: String,
    pub created_at: String,
    pub device_id: String,
    /// Every entry after `backup.json`, in archive order.
    pub files: Vec<BackupFileV1>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BackupFileV1 {
    pub name: String,
    pub size: u64,
    pub sha256: String,
}

/// What [`Store::health`] found. Sound when every list is empty and `integrity` is "ok".
#[derive(Debug, Clone, Serialize)]
pub struct Health {
    pub file: String,
    /// `PRAGMA integrity_check`: "ok", or SQLite's first findings.
    pub integrity: String,
    /// Inspections whose answers cache disagrees with their event log (the key named).
    pub answers: Vec<String>,
    /// Stored files that are missing or whose bytes no longer match their hash.
    pub files: Vec<String>,
    /// `device.key` is not the key the database recorded.
    pub key: Option<String>,
    pub inspections: usize,
    pub events: usize,
    pub photos: usize,
}

impl Health {
    pub fn is_sound(&self) -> bool {
        self.integrity == "ok" && self.answers.is_empty() && self.files.is_empty() && self.key.is_none()
    }
}

/// A written backup.
#[derive(Debug, Clone, Serialize)]
pub struct Backup {
    pub path: PathBuf,
    pub files: usize,
    pub bytes: u64,
    pub with_key: bool,
}

impl Store {
    /// The full check: SQLite's `integrity_check`, every inspection's answers cache against its
    /// event log, every stored photo, thumbnail and signature file against its hash, the key.
    pub fn health(&self) -> Result<Health> {
        let integrity = self.integrity_check()?;
        let mut answers = Vec::new();
        let ids = self.inspection_ids()?;
        let mut events = 0;
        for id in &ids {
            match self.answers_agree(id) {
                Ok(n) => events += n,
                Err(StoreError::Damaged { detail, .. }) => answers.push(detail),
                Err(e) => answers.push(format!("inspection {id}: {e}")),
            }
        }
        let mut files = Vec::new();
        let stored: Vec<(String, String)> = {
            let mut st = self.conn.prepare(
                "SELECT 'photo', sha256 FROM photos UNION ALL SELECT 'thumb', sha256 FROM photos UNION ALL SELECT 'signature', sha256 FROM signatures",
            )?;
            let rows = st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<rusqlite::Result<_>>()?;
            rows
        };
        let photos = stored.iter().filter(|(k, _)| k == "photo").count();
        for (kind, sha) in &stored {
            let path = match kind.as_str() {
                "photo" => self.photo_path(sha),
                "thumb" => self.thumb_path(sha),
                _ => self.signature_path(sha),
            };
            match fs::read(&path) {
                // A thumbnail is named by its photo's hash, not its own.
                Ok(bytes) if kind == "thumb" || hallmark_core::hex::sha256_hex(&bytes) == *sha => {}
                Ok(_) => files.push(format!("{} does not match its hash (the file was altered)", path.display())),
                Err(e) => files.push(format!("{}: {e}", path.display())),
            }
        }
        let key = self.key_changed.as_ref().map(|e| e.to_string());
        Ok(Health { file: self.db_file.display().to_string(), integrity, answers, files, key, inspections: ids.len(), events, photos })
    }

    /// Checks that the answers cache of one inspection is exactly what its event log derives;
    /// returns the number of events. A difference is [`StoreError::Damaged`] naming the key:
    /// nothing may be scored or signed from a cache the log does not back.
    pub fn answers_agree(&self, id: &str) -> Result<usize> {
        let events = self.events(id)?;
        let derived = derive_answers(&events);
        let cached = self.answers(id)?;
        if derived != cached {
            let keys: Vec<&String> = derived.keys().chain(cached.keys()).collect();
            let key = keys.into_iter().find(|k| derived.get(*k) != cached.get(*k)).cloned().unwrap_or_default();
            let shown = |v: Option<&serde_json::Value>| v.map(|v| v.to_string()).unwrap_or_else(|| "nothing".into());
            return Err(StoreError::Damaged {
                file: self.db_file.display().to_string(),
                detail: format!(
                    "inspection {id}: the answer to '{key}' is {} but its event log says {}",
                    shown(cached.get(&key)),
                    shown(derived.get(&key))
                ),
            });
        }
        Ok(events.len())
    }

    /// Writes a backup of this database and its files to `out` (temp file, fsync, rename).
    /// `with_key` adds `device.key`: only for a backup kept as safely as the tablet itself.
    pub fn backup(&self, out: &Path, with_key: bool, now: &str) -> Result<Backup> {
        // The snapshot goes to the system's temp folder, never the shared bundle folder.
        let staging =
            tempfile::Builder::new().prefix("hallmark-backup-").tempdir().map_err(|e| io("cannot make a temp folder for the snapshot", e))?;
        let snapshot = staging.path().join(DB_FILE);
        // A consistent copy even while another connection writes; compact, no WAL.
        self.conn.execute("VACUUM INTO ?1", [snapshot.to_string_lossy()])?;
        let mut sources: Vec<(String, PathBuf)> = vec![(DB_FILE.to_string(), snapshot)];
        for folder in FILE_FOLDERS {
            let mut found = Vec::new();
            collect_files(&self.dir.join(folder), &self.dir, &mut found);
            found.sort();
            sources.extend(found);
        }
        if with_key {
            sources.push((identity::KEY_FILE.to_string(), self.dir.join(identity::KEY_FILE)));
        }
        let mut files = Vec::new();
        for (name, path) in &sources {
            let (sha256, size) = crate::durable::hash_file(path).map_err(|e| io(&format!("cannot read {}", path.display()), e))?;
            files.push(BackupFileV1 { name: name.clone(), size, sha256 });
        }
        let manifest = BackupManifestV1 { format: BACKUP_FORMAT.into(), created_at: now.into(), device_id: self.device_id.clone(), files };
        let manifest_bytes = serde_json::to_vec_pretty(&manifest).expect("backup manifest serializes");
        if let Some(dir) = out.parent().filter(|d| !d.as_os_str().is_empty()) {
            fs::create_dir_all(dir).map_err(|e| io(&format!("cannot create {}", dir.display()), e))?;
        }
        let write = || -> std::io::Result<u64> {
            let file = durable::NewFile::create(out)?;
            let mut tar = ustar::Writer::new(BufWriter::with_capacity(1 << 20, file));
            tar.append(MANIFEST, manifest_bytes.len() as u64, &mut manifest_bytes.as_slice())?;
            for ((name, path), listed) in sources.iter().zip(&manifest.files) {
                let mut f = fs::File::open(path)?;
                tar.append(name, listed.size, &mut f)?;
            }
            let file = tar.finish()?.into_inner().map_err(|e| e.into_error())?;
            file.commit()
        };
        let bytes = write().map_err(|e| io(&format!("cannot write the backup {}", out.display()), e))?;
        Ok(Backup { path: out.to_path_buf(), files: manifest.files.len(), bytes, with_key })
    }
}

/// A restored backup.
#[derive(Debug, Clone, Serialize)]
pub struct Restored {
    pub db: PathBuf,
    pub files: usize,
    pub inspections: usize,
    /// Where the database that was there went (`--replace`), if there was one.
    pub moved_aside: Option<PathBuf>,
    pub key: KeyRestore,
}

/// Restores a backup into `db` (with its files in `dir`). Every file is checked against its
/// listed SHA-256 and the restored database passes `integrity_check` and the answers check
/// before it is moved into place; until then nothing at `db` changes. An existing database is
/// refused unless `replace`, which renames it (and its WAL) to `DB.damaged-STAMP` first.
pub fn restore(backup: &Path, db: &Path, dir: &Path, replace: bool, now: &str) -> Result<Restored> {
    let shown = backup.display().to_string();
    let bad = |what: String| StoreError::Invalid(format!("{shown}: {what} (not a hallmark backup, or damaged: use another copy)"));
    if db.exists() && !replace {
        return Err(StoreError::Invalid(format!(
            "{} exists: restore into a new path, or pass --replace to move the existing database aside first",
            db.display()
        )));
    }
    fs::create_dir_all(dir).map_err(|e| io(&format!("cannot create {}", dir.display()), e))?;
    let file = fs::File::open(backup).map_err(|e| io(&format!("cannot read {shown}"), e))?;
    let mut r = BufReader::with_capacity(1 << 20, file);
    let first = ustar::read_header(&mut r).map_err(bad)?.ok_or_else(|| bad("the archive is empty".into()))?;
    if first.name != MANIFEST {
        return Err(bad(format!("its first entry is '{}', not {MANIFEST}", first.name)));
    }
    if first.size > MAX_MANIFEST_BYTES {
        return Err(bad(format!("{MANIFEST} declares {} bytes, more than the {MAX_MANIFEST_BYTES} allowed", first.size)));
    }
    let mut manifest_bytes = vec![0u8; first.size as usize];
    ustar::read_full(&mut r, &mut manifest_bytes).map_err(|e| bad(e.to_string()))?;
    ustar::skip_padding(&mut r, first.size).map_err(|e| bad(e.to_string()))?;
    let manifest: BackupManifestV1 = match serde_json::from_slice::<serde_json::Value>(&manifest_bytes) {
        Ok(v) if v.get("format").and_then(|f| f.as_str()) == Some(BACKUP_FORMAT) => {
            serde_json::from_value(v).map_err(|e| bad(format!("{MANIFEST}: {e}")))?
        }
        Ok(v) => {
            return Err(bad(format!(
                "{MANIFEST} has format {}, this hallmark restores {BACKUP_FORMAT}",
                v.get("format").unwrap_or(&serde_json::Value::Null)
            )))
        }
        Err(e) => return Err(bad(format!("{MANIFEST}: {e}"))),
    };
    let staging =
        tempfile::Builder::new().prefix(STAGING_PREFIX).tempdir_in(dir).map_err(|e| io(&format!("cannot write in {}", dir.display()), e))?;
    let mut listed: BTreeMap<&str, &BackupFileV1> = BTreeMap::new();
    for f in &manifest.files {
        if !safe_name(&f.name) || listed.insert(f.name.as_str(), f).is_some() {
            return Err(bad(format!("{MANIFEST} lists '{}' (not a name a backup holds, or twice)", f.name)));
        }
    }
    let mut seen = std::collections::BTreeSet::new();
    while let Some(entry) = ustar::read_header(&mut r).map_err(bad)? {
        let Some(f) = listed.get(entry.name.as_str()) else {
            return Err(bad(format!("entry '{}' is not listed in {MANIFEST}", entry.name)));
        };
        if !seen.insert(entry.name.clone()) {
            return Err(bad(format!("entry '{}' appears twice", entry.name)));
        }
        if entry.size != f.size {
            return Err(bad(format!("entry '{}' is {} bytes, {MANIFEST} says {}", entry.name, entry.size, f.size)));
        }
        let to = staging.path().join(&entry.name);
        fs::create_dir_all(to.parent().unwrap_or(staging.path()))
            .map_err(|e| io(&format!("cannot stage the restore in {}", staging.path().display()), e))?;
        let staged = |e| io(&format!("cannot stage '{}' in {}", entry.name, staging.path().display()), e);
        let mut out = BufWriter::new(fs::File::create(&to).map_err(staged)?);
        let mut hasher = Sha256::new();
        let mut left = entry.size;
        let mut buf = vec![0u8; 1 << 20];
        while left > 0 {
            let n = left.min(buf.len() as u64) as usize;
            ustar::read_full(&mut r, &mut buf[..n]).map_err(|e| bad(format!("entry '{}': {e}", entry.name)))?;
            hasher.update(&buf[..n]);
            out.write_all(&buf[..n]).map_err(staged)?;
            left -= n as u64;
        }
        out.flush().map_err(staged)?;
        ustar::skip_padding(&mut r, entry.size).map_err(|e| bad(e.to_string()))?;
        if hallmark_core::hex::hex(&hasher.finalize()) != f.sha256 {
            return Err(bad(format!("entry '{}' does not match its SHA-256 (the backup was altered or damaged)", entry.name)));
        }
    }
    if seen.len() != manifest.files.len() {
        return Err(bad(format!(
            "{} of the {} listed files are missing (the backup is truncated)",
            manifest.files.len() - seen.len(),
            manifest.files.len()
        )));
    }
    if !listed.contains_key(DB_FILE) {
        return Err(bad(format!("it holds no {DB_FILE}")));
    }
    // The restored database must be sound before it replaces anything. It is opened to write
    // (a backup from an older hallmark is migrated here, in the staging copy), never the target.
    let staged_db = staging.path().join(DB_FILE);
    let inspections = {
        let probe = Store::open_with(&staged_db, staging.path(), Access::Existing, now)?;
        let health = probe.health()?;
        if health.integrity != "ok" || !health.answers.is_empty() {
            return Err(bad(format!("the database in it fails its check: {} {}", health.integrity, health.answers.join("; "))));
        }
        probe.inspection_ids()?.len()
    };
    let names: Vec<&str> = manifest.files.iter().map(|f| f.name.as_str()).collect();
    let (files, moved_aside, key) = install(staging.path(), &names, db, dir, now)?;
    Ok(Restored { db: db.to_path_buf(), files, inspections, moved_aside, key })
}

/// What happened to `device.key` in a restore.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum KeyRestore {
    /// The backup held no key: the folder's key (if any) is kept.
    NotInBackup,
    /// The folder's key was already the backup's.
    Same,
    /// The backup's key was installed; a different key that was there is kept as `…replaced-STAMP`.
    Installed { replaced: Option<PathBuf> },
}

/// Moves a checked database and its files from `staging` into place: files first
/// (content-addressed; one whose bytes do not match its hash is replaced), then the key, then
/// the database by rename after moving the one there aside (put back if the rename fails).
fn install(staging: &Path, names: &[&str], db: &Path, dir: &Path, now: &str) -> Result<(usize, Option<PathBuf>, KeyRestore)> {
    let mut files = 0;
    let mut key = KeyRestore::NotInBackup;
    for name in names {
        if *name == DB_FILE {
            continue;
        }
        let from = staging.join(name);
        let to = dir.join(name);
        let bytes = fs::read(&from).map_err(|e| io(&format!("cannot read the staged {}", from.display()), e))?;
        if *name == identity::KEY_FILE {
            key = match fs::read(&to) {
                Ok(existing) if existing == bytes => KeyRestore::Same,
                Ok(_) => {
                    let replaced = unique_aside(&to, "replaced", now);
                    fs::rename(&to, &replaced).map_err(|e| io(&format!("cannot move {} aside", to.display()), e))?;
                    durable::write_private_new(&to, &bytes).map_err(|e| io(&format!("cannot store {}", to.display()), e))?;
                    KeyRestore::Installed { replaced: Some(replaced) }
                }
                Err(_) => {
                    durable::write_private_new(&to, &bytes).map_err(|e| io(&format!("cannot store {}", to.display()), e))?;
                    KeyRestore::Installed { replaced: None }
                }
            };
        } else {
            let sound = fs::read(&to).is_ok_and(|there| there == bytes);
            if !sound {
                durable::write_replacing(&to, &bytes)
                    .or_else(|_| fs::create_dir_all(to.parent().unwrap_or(dir)).and_then(|_| durable::write_replacing(&to, &bytes)))
                    .map_err(|e| io(&format!("cannot store {}", to.display()), e))?;
            }
        }
        files += 1;
    }
    let staged_db = staging.join(DB_FILE);
    // One self-contained file (the WAL checkpointed into it and removed); the store switches
    // it back to WAL on its next open.
    rusqlite::Connection::open(&staged_db)
        .and_then(|c| c.pragma_update_and_check(None, "journal_mode", "DELETE", |r| r.get::<_, String>(0)).map(|_| ()))
        .map_err(StoreError::from)?;
    fs::File::open(&staged_db).and_then(|f| f.sync_all()).map_err(|e| io("cannot sync the restored database", e))?;
    let moved_aside = move_aside(db, now)?;
    if let Err(e) = fs::rename(&staged_db, db) {
        if let Some(aside) = &moved_aside {
            let _ = fs::rename(aside, db);
        }
        return Err(io(&format!("cannot move the restored database to {} (the database that was there is back in place)", db.display()), e));
    }
    if let Some(folder) = db.parent().filter(|p| !p.as_os_str().is_empty()) {
        let _ = fs::File::open(folder).and_then(|f| f.sync_all());
    }
    Ok((files, moved_aside, key))
}

/// `PATH.WHAT-STAMP`, or `PATH.WHAT-STAMP-N` if that exists: a kept file is never overwritten.
fn unique_aside(path: &Path, what: &str, now: &str) -> PathBuf {
    let stamp: String = now.chars().filter(|c| c.is_ascii_digit()).take(14).collect();
    let base = format!("{}.{what}-{stamp}", path.display());
    let mut candidate = PathBuf::from(&base);
    let mut n = 1;
    while candidate.exists() || PathBuf::from(format!("{}-wal", candidate.display())).exists() {
        candidate = PathBuf::from(format!("{base}-{n}"));
        n += 1;
    }
    candidate
}

/// Renames a database and its WAL files to `DB.damaged-STAMP` (kept, never deleted), so a
/// restore or rebuild can take its place. `None` when there is no database.
pub fn move_aside(db: &Path, now: &str) -> Result<Option<PathBuf>> {
    let with = |suffix: &str| PathBuf::from(format!("{}{suffix}", db.display()));
    if !["", "-wal", "-shm"].iter().any(|s| with(s).exists()) {
        return Ok(None);
    }
    // A WAL left without its database would be replayed into the next one put there: it goes
    // aside too.
    let aside = unique_aside(db, "damaged", now);
    for suffix in ["", "-wal", "-shm"] {
        let from = with(suffix);
        if from.exists() {
            fs::rename(&from, format!("{}{suffix}", aside.display())).map_err(|e| io(&format!("cannot move {} aside", from.display()), e))?;
        }
    }
    Ok(Some(aside))
}

/// A rebuilt database.
#[derive(Debug, Clone, Serialize)]
pub struct Rebuilt {
    pub imported: usize,
    pub already: usize,
    /// Bundles refused, with the reason.
    pub refused: Vec<(String, String)>,
}

/// Makes a new database at `db` from every `.hallmark` bundle in `from` (each verified and
/// imported as `hallmark import` does). Refuses an existing `db`: rebuilding never writes
/// into the damaged one.
pub fn rebuild(from: &Path, db: &Path, dir: &Path, now: &str) -> Result<Rebuilt> {
    if db.exists() {
        return Err(StoreError::Invalid(format!("{} exists: rebuild into a new path (the damaged database is left as it is)", db.display())));
    }
    let mut bundles: Vec<PathBuf> = fs::read_dir(from)
        .map_err(|e| io(&format!("cannot read the bundle folder {}", from.display()), e))?
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == hallmark_bundle::format::EXTENSION))
        .collect();
    bundles.sort();
    if bundles.is_empty() {
        return Err(StoreError::Invalid(format!("{}: no .hallmark bundles to rebuild from", from.display())));
    }
    let mut store = Store::open_with(db, dir, Access::Create, now)?;
    let mut out = Rebuilt { imported: 0, already: 0, refused: Vec::new() };
    for b in bundles {
        match store.import_bundle(&b, now, &mut |_, _| {}) {
            Ok(crate::bundle::Imported::AlreadyImported { .. }) => out.already += 1,
            Ok(_) => out.imported += 1,
            Err(e) => out.refused.push((b.display().to_string(), e.to_string())),
        }
    }
    Ok(out)
}

/// Rebuilds the database at `db` in place (the app's 从数据包重建): the bundles are imported
/// into a new database in a staging folder first, so nothing changes unless that works; then
/// its files are added to `dir`, the damaged database is moved aside (`DB.damaged-STAMP`) and
/// the new one takes its place. The new database has a new device id; the folder's
/// `device.key` stays and is recorded as its key on the next open. A tablet's own inspections
/// come back from its exported bundles as imported (read-only) ones.
pub fn rebuild_in_place(from: &Path, db: &Path, dir: &Path, now: &str) -> Result<(Rebuilt, Option<PathBuf>)> {
    fs::create_dir_all(dir).map_err(|e| io(&format!("cannot create {}", dir.display()), e))?;
    let staging =
        tempfile::Builder::new().prefix(STAGING_PREFIX).tempdir_in(dir).map_err(|e| io(&format!("cannot write in {}", dir.display()), e))?;
    let staged_db = staging.path().join(DB_FILE);
    let rebuilt = rebuild(from, &staged_db, staging.path(), now)?;
    rusqlite::Connection::open(&staged_db)
        .and_then(|c| c.execute("UPDATE device SET public_key = NULL", []).map(|_| ()))
        .map_err(StoreError::from)?;
    let mut found = Vec::new();
    for folder in FILE_FOLDERS {
        collect_files(&staging.path().join(folder), staging.path(), &mut found);
    }
    let names: Vec<&str> = found.iter().map(|(n, _)| n.as_str()).collect();
    let (_, moved_aside, _) = install(staging.path(), &names, db, dir, now)?;
    Ok((rebuilt, moved_aside))
}

/// Staging folders of a restore or rebuild start with this; one a killed run left is swept
/// when the store next opens to write.
pub const STAGING_PREFIX: &str = ".hallmark-staging-";

/// Removes staging folders under `dir` untouched for [`durable::STALE_TEMP`].
pub fn sweep_staging(dir: &Path) {
    let Ok(entries) = fs::read_dir(dir) else { return };
    for e in entries.flatten() {
        let stale = e.metadata().ok().and_then(|m| m.modified().ok()).and_then(|t| t.elapsed().ok()).is_some_and(|a| a >= durable::STALE_TEMP);
        if e.file_name().to_string_lossy().starts_with(STAGING_PREFIX) && stale && e.file_type().is_ok_and(|t| t.is_dir()) {
            let _ = fs::remove_dir_all(e.path());
        }
    }
}

fn collect_files(dir: &Path, root: &Path, out: &mut Vec<(String, PathBuf)>) {
    let Ok(entries) = fs::read_dir(dir) else { return };
    for e in entries.flatten() {
        let p = e.path();
        let name = e.file_name().to_string_lossy().into_owned();
        if p.is_dir() {
            collect_files(&p, root, out);
        } else if !name.starts_with('.') {
            let rel = p.strip_prefix(root).expect("under root").to_string_lossy().into_owned();
            out.push((rel, p));
        }
    }
}

/// Names a backup may hold: the database, the key, `photos/xx/<sha256>.jpg`,
/// `thumbs/xx/<sha256>.jpg` or `signatures/<sha256>.png` — nothing else (never a path that
/// could block a folder or leave the data folder).
fn safe_name(name: &str) -> bool {
    if name == DB_FILE || name == identity::KEY_FILE {
        return true;
    }
    let parts: Vec<&str> = name.split('/').collect();
    let hashed = |file: &str, ext: &str| file.strip_suffix(ext).is_some_and(hallmark_core::hex::is_sha256);
    match parts.as_slice() {
        [folder @ ("photos" | "thumbs"), prefix, file] => {
            let _ = folder;
            hashed(file, ".jpg") && file.starts_with(prefix) && prefix.len() == 2
        }
        ["signatures", file] => hashed(file, ".png"),
        _ => false,
    }
}
