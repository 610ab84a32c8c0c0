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
use std::io::{BufReader, BufWriter, Read, Write};
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
        let staging = tempfile::Builder::new()
            .prefix(".hallmark-backup-")
            .tempdir_in(out.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new(".")))
            .map_err(|e| io(&format!("cannot write beside {}", out.display()), e))?;
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
            let (sha256, size) = hash_file(path).map_err(|e| io(&format!("cannot read {}", path.display()), e))?;
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
    pub with_key: bool,
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
    if first.name != MANIFEST || first.size > MAX_MANIFEST_BYTES {
        return Err(bad(format!("its first entry is '{}', not {MANIFEST}", first.name)));
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
        tempfile::Builder::new().prefix(".hallmark-restore-").tempdir_in(dir).map_err(|e| io(&format!("cannot write in {}", dir.display()), e))?;
    let mut listed: BTreeMap<&str, &BackupFileV1> = BTreeMap::new();
    for f in &manifest.files {
        if !safe_name(&f.name) || listed.insert(f.name.as_str(), f).is_some() {
            return Err(bad(format!("{MANIFEST} lists '{}' (not a name a backup holds, or twice)", f.name)));
        }
    }
    let mut seen = 0;
    while let Some(entry) = ustar::read_header(&mut r).map_err(bad)? {
        let Some(f) = listed.get(entry.name.as_str()) else {
            return Err(bad(format!("entry '{}' is not listed in {MANIFEST}", entry.name)));
        };
        if entry.size != f.size {
            return Err(bad(format!("entry '{}' is {} bytes, {MANIFEST} says {}", entry.name, entry.size, f.size)));
        }
        let to = staging.path().join(&entry.name);
        fs::create_dir_all(to.parent().expect("a file in a folder")).map_err(|e| io("cannot stage the restore", e))?;
        let mut out = BufWriter::new(fs::File::create(&to).map_err(|e| io("cannot stage the restore", e))?);
        let mut hasher = Sha256::new();
        let mut left = entry.size;
        let mut buf = vec![0u8; 1 << 20];
        while left > 0 {
            let n = left.min(buf.len() as u64) as usize;
            ustar::read_full(&mut r, &mut buf[..n]).map_err(|e| bad(format!("entry '{}': {e}", entry.name)))?;
            hasher.update(&buf[..n]);
            out.write_all(&buf[..n]).map_err(|e| io("cannot stage the restore", e))?;
            left -= n as u64;
        }
        out.flush().map_err(|e| io("cannot stage the restore", e))?;
        ustar::skip_padding(&mut r, entry.size).map_err(|e| bad(e.to_string()))?;
        if hallmark_core::hex::hex(&hasher.finalize()) != f.sha256 {
            return Err(bad(format!("entry '{}' does not match its SHA-256 (the backup was altered or damaged)", entry.name)));
        }
        seen += 1;
    }
    if seen != manifest.files.len() {
        return Err(bad(format!(
            "{} of the {} listed files are missing (the backup is truncated)",
            manifest.files.len() - seen,
            manifest.files.len()
        )));
    }
    if !listed.contains_key(DB_FILE) {
        return Err(bad(format!("it holds no {DB_FILE}")));
    }
    // The restored database must be sound before it replaces anything.
    let staged_db = staging.path().join(DB_FILE);
    {
        let probe = Store::open_with(&staged_db, staging.path(), Access::ReadOnly, now)?;
        let health = probe.health()?;
        if health.integrity != "ok" || !health.answers.is_empty() {
            return Err(bad(format!("the database in it fails its check: {} {}", health.integrity, health.answers.join("; "))));
        }
    }
    let inspections = Store::open_with(&staged_db, staging.path(), Access::ReadOnly, now)?.inspection_ids()?.len();
    // Files first (content-addressed: adding them changes nothing that is there), then the
    // key if the folder has none, then the database by rename.
    let mut files = 0;
    for f in &manifest.files {
        if f.name == DB_FILE {
            continue;
        }
        let from = staging.path().join(&f.name);
        let to = dir.join(&f.name);
        if f.name == identity::KEY_FILE {
            let seed = fs::read(&from).map_err(|e| io("cannot read the restored key", e))?;
            durable::write_private_new(&to, &seed).map_err(|e| io(&format!("cannot store {}", to.display()), e))?;
        } else {
            let bytes = fs::read(&from).map_err(|e| io("cannot read a restored file", e))?;
            durable::write_durably(&to, &bytes).map_err(|e| io(&format!("cannot store {}", to.display()), e))?;
        }
        files += 1;
    }
    let moved_aside = move_aside(db, now)?;
    let staged = fs::File::open(&staged_db).map_err(|e| io("cannot reopen the restored database", e))?;
    staged.sync_all().map_err(|e| io("cannot sync the restored database", e))?;
    fs::rename(&staged_db, db).map_err(|e| io(&format!("cannot move the restored database to {}", db.display()), e))?;
    if let Some(folder) = db.parent().filter(|p| !p.as_os_str().is_empty()) {
        let _ = fs::File::open(folder).and_then(|f| f.sync_all());
    }
    Ok(Restored { db: db.to_path_buf(), files, inspections, moved_aside, with_key: listed.contains_key(identity::KEY_FILE) })
}

/// Renames a database and its WAL files to `DB.damaged-STAMP` (kept, never deleted), so a
/// restore or rebuild can take its place. `None` when there is no database.
pub fn move_aside(db: &Path, now: &str) -> Result<Option<PathBuf>> {
    if !db.exists() {
        return Ok(None);
    }
    let stamp: String = now.chars().filter(|c| c.is_ascii_digit()).take(14).collect();
    let aside = PathBuf::from(format!("{}.damaged-{stamp}", db.display()));
    for suffix in ["", "-wal", "-shm"] {
        let from = PathBuf::from(format!("{}{suffix}", db.display()));
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

fn hash_file(path: &Path) -> std::io::Result<(String, u64)> {
    let mut f = fs::File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut size = 0u64;
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        size += n as u64;
    }
    Ok((hallmark_core::hex::hex(&hasher.finalize()), size))
}

/// Names a backup may hold: the database, the key, or a file under one of the file folders;
/// never absolute, never `..`.
fn safe_name(name: &str) -> bool {
    if name == DB_FILE || name == identity::KEY_FILE {
        return true;
    }
    let mut parts = name.split('/');
    let top = parts.next().unwrap_or_default();
    FILE_FOLDERS.contains(&top)
        && name.split('/').all(|p| !p.is_empty() && p != ".." && p != "." && !p.starts_with('.'))
        && name.split('/').count() <= 3
}
