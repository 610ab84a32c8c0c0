//! Signed bundles: one inspection as one file (`.hallmark`), carried from a tablet to the
//! team lead by USB or file share.
//!
//! A bundle is a POSIX tar (ustar) archive, every entry *stored*:
//!
//! | entry                     | what                                                       |
//! |---------------------------|------------------------------------------------------------|
//! | `manifest.json`           | format, rubric (id, version, SHA-256, text), inspection,   |
//! |                           | device key, created-at, the whole event log, evidence      |
//! |                           | links, service entries, SHA-256 and size of every file      |
//! | `manifest.sig`            | Ed25519 signature over the exact bytes of manifest.json    |
//! | `photos/<sha256>.jpg`     | each photo, named by its hash                              |
//! | `thumbs/<sha256>.jpg`     | its 320 px thumbnail (so the lead's view needs no decode)  |
//! | `signature/<sha256>.png`  | the assessor's handwritten signature, if drawn             |
//!
//! Export streams: the manifest is built from the database (hashes already known), then each
//! file is copied in 1 MiB chunks and re-hashed on the way, so memory does not grow with the
//! photos and a store file damaged on disk is caught, not exported. The archive is written to a
//! temp file, fsynced and renamed: a failed export leaves no partial bundle.
//!
//! Import reads the manifest and its signature first, checks every rule it can without the
//! files, then streams each file to a temp file beside its final place while hashing it. Only
//! when every file matched is anything renamed into place and the database changed, in one
//! transaction. A refused bundle leaves the database as it was.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fs;
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use rusqlite::{params, OptionalExtension, TransactionBehavior};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::{identity, io as io_err, photo, Event, Result, Store, StoreError};

pub const FORMAT: &str = "hallmark-bundle";
pub const FORMAT_VERSION: u32 = 1;
pub const EXTENSION: &str = "hallmark";

const MANIFEST: &str = "manifest.json";
const SIGNATURE: &str = "manifest.sig";
/// Limits that keep a hostile bundle from exhausting memory or disk before it is refused.
const MAX_MANIFEST_BYTES: u64 = 64 << 20;
const MAX_SIGNATURE_BYTES: u64 = 4 << 10;
const MAX_FILE_BYTES: u64 = 200 << 20;
const MAX_FILES: usize = 30_000;
const CHUNK: usize = 1 << 20;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    pub format: String,
    pub format_version: u32,
    pub created_at: String,
    pub device: Device,
    pub rubric: RubricRef,
    pub inspection: Header,
    pub events: Vec<Event>,
    pub service_entries: Vec<ServiceEntryRecord>,
    pub evidence: Vec<EvidenceRecord>,
    pub photos: Vec<PhotoRecord>,
    pub signature_image: Option<SignatureImage>,
}

impl Manifest {
    /// The inspection as the store would hold it after importing this bundle alone.
    pub fn inspection(&self) -> crate::Inspection {
        let h = &self.inspection;
        crate::Inspection {
            id: h.id.clone(),
            rubric_id: self.rubric.id.clone(),
            rubric_version: self.rubric.version.clone(),
            rubric_hash: self.rubric.sha256.clone(),
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
            rubric_content: self.rubric.content.clone(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Device {
    pub id: String,
    /// Ed25519 public key, 64 hex digits.
    pub public_key: String,
    pub fingerprint: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RubricRef {
    pub id: String,
    pub version: String,
    pub sha256: String,
    /// The pinned rubric text, so the lead scores with exactly the copy the tablet used.
    pub content: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Header {
    pub id: String,
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
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceEntryRecord {
    pub id: String,
    pub item_id: String,
    pub kind: String,
    pub observed_at: String,
    pub note: String,
    pub occurrences: BTreeMap<String, u64>,
    pub author: String,
    pub device_id: String,
    pub recorded_at: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EvidenceRecord {
    pub id: String,
    pub item_id: String,
    pub sha256: String,
    pub caption: String,
    pub author: String,
    pub device_id: String,
    pub attached_at: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PhotoRecord {
    pub sha256: String,
    pub size: u64,
    pub width: u32,
    pub height: u32,
    pub orientation: u16,
    pub taken_at: Option<String>,
    pub thumb_sha256: String,
    pub thumb_size: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignatureImage {
    pub sha256: String,
    pub size: u64,
    pub signed_at: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct SignatureFile {
    algorithm: String,
    public_key: String,
    signature: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Exported {
    pub path: PathBuf,
    pub bytes: u64,
    pub photos: usize,
    pub events: usize,
    /// SHA-256 of the signed manifest: the bundle's identity.
    pub bundle_id: String,
    pub fingerprint: String,
}

#[derive(Debug, Clone, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Imported {
    /// Applied: `new_events` of `events` were new to this database.
    Applied {
        bundle_id: String,
        inspection_id: String,
        site: String,
        assessor: String,
        fingerprint: String,
        /// The roster name of the signer, if the key is on the roster.
        known_as: Option<String>,
        events: usize,
        new_events: usize,
        photos: usize,
        new_photos: usize,
    },
    /// This very bundle was imported before: nothing changed.
    AlreadyImported { bundle_id: String, inspection_id: String, assessor: String, fingerprint: String, known_as: Option<String> },
}

impl Imported {
    pub fn line(&self, file: &str) -> String {
        match self {
            Imported::Applied { site, assessor, fingerprint, known_as, events, new_events, photos, new_photos, .. } => {
                let who = match known_as {
                    Some(n) => format!("签名者 {fingerprint}（名册：{n}）"),
                    None => format!("签名者 {fingerprint}（⚠ 不在名册中：请核实签名者后加入名册）"),
                };
                format!("{file}: 已导入 {site} · {assessor}：事件 {new_events}/{events} 条为新，照片 {new_photos}/{photos} 张为新；{who}")
            }
            Imported::AlreadyImported { assessor, fingerprint, known_as, .. } => {
                let flag = if known_as.is_some() { "" } else { "（⚠ 不在名册中）" };
                format!("{file}: already imported（{assessor}，签名者 {fingerprint}{flag}）：数据库未改变")
            }
        }
    }
}

fn bundle_err(file: &str, what: String) -> StoreError {
    StoreError::Bundle(format!("bundle '{file}': {what}"))
}

/// Where a streamed byte count goes: (bytes done, bytes in all).
pub type Progress<'a> = &'a mut dyn FnMut(u64, u64);

// ---------------------------------------------------------------------------------------
// Export

impl Store {
    /// The manifest of one inspection as it stands (unsigned).
    pub fn manifest(&self, inspection_id: &str, now: &str) -> Result<Manifest> {
        let insp = self.inspection(inspection_id)?;
        self.pinned(&insp)?;
        let events = self.events(inspection_id)?;
        let mut st = self.conn.prepare(
            "SELECT id, item_id, kind, observed_at, note, occurrences, author, device_id, recorded_at
             FROM service_entries WHERE inspection_id = ?1 ORDER BY recorded_at, id",
        )?;
        let service_entries = st
            .query_map([inspection_id], |r| {
                let occ: String = r.get(5)?;
                Ok(ServiceEntryRecord {
                    id: r.get(0)?,
                    item_id: r.get(1)?,
                    kind: r.get(2)?,
                    observed_at: r.get(3)?,
                    note: r.get(4)?,
                    occurrences: serde_json::from_str(&occ).expect("stored JSON"),
                    author: r.get(6)?,
                    device_id: r.get(7)?,
                    recorded_at: r.get(8)?,
                })
            })?
            .collect::<std::result::Result<Vec<_>, _>>()?;
        let mut st = self.conn.prepare(
            "SELECT id, item_id, sha256, caption, author, device_id, attached_at FROM evidence
             WHERE inspection_id = ?1 ORDER BY attached_at, id",
        )?;
        let evidence = st
            .query_map([inspection_id], |r| {
                Ok(EvidenceRecord {
                    id: r.get(0)?,
                    item_id: r.get(1)?,
                    sha256: r.get(2)?,
                    caption: r.get(3)?,
                    author: r.get(4)?,
                    device_id: r.get(5)?,
                    attached_at: r.get(6)?,
                })
            })?
            .collect::<std::result::Result<Vec<_>, _>>()?;
        let mut photos = Vec::new();
        let mut seen = BTreeSet::new();
        for e in &evidence {
            if !seen.insert(e.sha256.clone()) {
                continue;
            }
            let meta = self.photo_meta(&e.sha256)?;
            let thumb = fs::read(self.thumb_path(&e.sha256)).map_err(|err| io_err(&format!("cannot read the thumbnail of photo {}", &e.sha256[..12]), err))?;
            photos.push(PhotoRecord {
                sha256: meta.sha256,
                size: meta.size,
                width: meta.width,
                height: meta.height,
                orientation: meta.orientation,
                taken_at: meta.taken_at,
                thumb_sha256: photo::sha256_hex(&thumb),
                thumb_size: thumb.len() as u64,
            });
        }
        let signature_image = self.signature_image(inspection_id)?;
        Ok(Manifest {
            format: FORMAT.into(),
            format_version: FORMAT_VERSION,
            created_at: now.into(),
            device: Device {
                id: self.device_id.clone(),
                public_key: self.key.public_key_hex(),
                fingerprint: self.key.fingerprint(),
            },
            rubric: RubricRef {
                id: insp.rubric_id.clone(),
                version: insp.rubric_version.clone(),
                sha256: insp.rubric_hash.clone(),
                content: insp.rubric_content.clone(),
            },
            inspection: Header {
                id: insp.id,
                site_name: insp.site_name,
                site_address: insp.site_address,
                site_level: insp.site_level,
                visited_on: insp.visited_on,
                assessor_name: insp.assessor_name,
                assessor_unit: insp.assessor_unit,
                assessor_title: insp.assessor_title,
                assessor_phone: insp.assessor_phone,
                device_id: insp.device_id,
                created_at: insp.created_at,
                finished_at: insp.finished_at,
            },
            events,
            service_entries,
            evidence,
            photos,
            signature_image,
        })
    }

    /// Writes one inspection as a signed bundle at `out` (temp file, fsync, rename).
    pub fn export_bundle(&self, inspection_id: &str, out: &Path, now: &str, progress: Progress<'_>) -> Result<Exported> {
        let manifest = self.manifest(inspection_id, now)?;
        let manifest_bytes = serde_json::to_vec_pretty(&manifest).expect("manifest serializes");
        let signature = SignatureFile {
            algorithm: "ed25519".into(),
            public_key: manifest.device.public_key.clone(),
            signature: hex(&self.key.sign(&manifest_bytes)),
        };
        let sig_bytes = serde_json::to_vec_pretty(&signature).expect("signature serializes");

        let mut files: Vec<(String, PathBuf, String, u64)> = Vec::new();
        for p in &manifest.photos {
            files.push((format!("photos/{}.jpg", p.sha256), self.photo_path(&p.sha256), p.sha256.clone(), p.size));
            files.push((format!("thumbs/{}.jpg", p.sha256), self.thumb_path(&p.sha256), p.thumb_sha256.clone(), p.thumb_size));
        }
        if let Some(s) = &manifest.signature_image {
            files.push((format!("signature/{}.png", s.sha256), self.signature_path(&s.sha256), s.sha256.clone(), s.size));
        }
        let total: u64 = files.iter().map(|f| f.3).sum::<u64>() + manifest_bytes.len() as u64;

        let dir = match out.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => PathBuf::from("."),
        };
        fs::create_dir_all(&dir).map_err(|e| io_err(&format!("cannot create folder '{}'", dir.display()), e))?;
        let name = out.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "bundle".into());
        let tmp = dir.join(format!(".{name}.tmp-{}", uuid::Uuid::now_v7()));
        let result = (|| -> Result<u64> {
            let file = fs::File::create(&tmp).map_err(|e| io_err(&format!("cannot write '{}'", tmp.display()), e))?;
            let mut tar = TarWriter { out: BufWriter::with_capacity(CHUNK, Writeback::new(file)) };
            let werr = |e: io::Error| io_err(&format!("cannot write the bundle '{}'", out.display()), e);
            tar.append(MANIFEST, manifest_bytes.len() as u64, &mut manifest_bytes.as_slice()).map_err(werr)?;
            tar.append(SIGNATURE, sig_bytes.len() as u64, &mut sig_bytes.as_slice()).map_err(werr)?;
            let mut done = manifest_bytes.len() as u64;
            progress(done, total);
            for (entry, path, sha, size) in &files {
                let f = fs::File::open(path).map_err(|e| io_err(&format!("cannot read {entry} from the store"), e))?;
                let on_disk = f.metadata().map_err(|e| io_err("cannot read the store", e))?.len();
                if on_disk != *size {
                    return Err(StoreError::Io(format!(
                        "{entry} in the store is {on_disk} bytes, not {size} as recorded (the store's copy is damaged; nothing was exported)"
                    )));
                }
                let mut reader = Hashing { inner: f, hasher: Sha256::new(), count: 0, base: done, total, progress: &mut *progress };
                tar.append(entry, *size, &mut reader).map_err(werr)?;
                let got = hex(&reader.hasher.finalize());
                if got != *sha {
                    return Err(StoreError::Io(format!(
                        "{entry} in the store no longer matches its SHA-256 (the store's copy is damaged; nothing was exported)"
                    )));
                }
                done += size;
            }
            let buf = tar.finish().map_err(werr)?;
            let file = buf.into_inner().map_err(|e| werr(e.into_error()))?.into_file();
            file.sync_all().map_err(werr)?;
            let len = file.metadata().map_err(werr)?.len();
            drop(file);
            fs::rename(&tmp, out).map_err(werr)?;
            fs::File::open(&dir).and_then(|d| d.sync_all()).map_err(werr)?;
            Ok(len)
        })();
        match result {
            Ok(bytes) => {
                progress(total, total);
                Ok(Exported {
                    path: out.to_path_buf(),
                    bytes,
                    photos: manifest.photos.len(),
                    events: manifest.events.len(),
                    bundle_id: photo::sha256_hex(&manifest_bytes),
                    fingerprint: manifest.device.fingerprint.clone(),
                })
            }
            Err(e) => {
                let _ = fs::remove_file(&tmp);
                Err(e)
            }
        }
    }
}

/// A minimal ustar writer: regular files only, mtime 0, mode 0644, so identical content makes
/// an identical archive and any `tar` can list it.
struct TarWriter<W: Write> {
    out: W,
}

impl<W: Write> TarWriter<W> {
    fn append(&mut self, name: &str, size: u64, data: &mut dyn Read) -> io::Result<()> {
        self.out.write_all(&ustar_header(name, size))?;
        let copied = io::copy(&mut data.take(size), &mut self.out)?;
        if copied != size {
            return Err(io::Error::new(io::ErrorKind::UnexpectedEof, format!("{name} is shorter than {size} bytes")));
        }
        let pad = (512 - (size % 512) as usize) % 512;
        self.out.write_all(&[0u8; 512][..pad])
    }

    fn finish(mut self) -> io::Result<W> {
        self.out.write_all(&[0u8; 1024])?;
        Ok(self.out)
    }
}

fn ustar_header(name: &str, size: u64) -> [u8; 512] {
    let mut h = [0u8; 512];
    assert!(name.len() < 100, "bundle entry names are short");
    h[..name.len()].copy_from_slice(name.as_bytes());
    let octal = |h: &mut [u8; 512], at: usize, width: usize, v: u64| {
        let s = format!("{v:0w$o}", w = width - 1);
        h[at..at + width - 1].copy_from_slice(s.as_bytes());
    };
    octal(&mut h, 100, 8, 0o644);
    octal(&mut h, 108, 8, 0);
    octal(&mut h, 116, 8, 0);
    octal(&mut h, 124, 12, size);
    octal(&mut h, 136, 12, 0);
    h[156] = b'0';
    h[257..263].copy_from_slice(b"ustar\0");
    h[263..265].copy_from_slice(b"00");
    h[148..156].copy_from_slice(b"        ");
    let sum: u32 = h.iter().map(|&b| b as u32).sum();
    let s = format!("{sum:06o}\0 ");
    h[148..156].copy_from_slice(s.as_bytes());
    h
}

/// One entry header read back. The reader accepts exactly what [`TarWriter`] writes.
struct EntryHeader {
    name: String,
    size: u64,
}

/// Reads the next header: `Ok(None)` at the end-of-archive marker.
fn read_header(r: &mut impl Read) -> std::result::Result<Option<EntryHeader>, String> {
    let mut h = [0u8; 512];
    read_full(r, &mut h).map_err(|e| format!("the file ends inside an entry header ({e})"))?;
    if h.iter().all(|&b| b == 0) {
        return Ok(None);
    }
    let field = |a: usize, b: usize| -> &[u8] {
        let f = &h[a..b];
        let end = f.iter().position(|&c| c == 0).unwrap_or(f.len());
        &f[..end]
    };
    let octal = |a: usize, b: usize| -> Option<u64> {
        let t = std::str::from_utf8(field(a, b)).ok()?.trim_matches(' ');
        if t.is_empty() || t.len() > 11 {
            return None;
        }
        u64::from_str_radix(t, 8).ok()
    };
    let stored_sum = octal(148, 156).ok_or("an entry header has no checksum")?;
    let sum: u64 = h.iter().enumerate().map(|(i, &b)| if (148..156).contains(&i) { 32 } else { b as u64 }).sum();
    if sum != stored_sum {
        return Err("an entry header fails its checksum".into());
    }
    if &h[257..262] != b"ustar" {
        return Err("an entry is not in ustar form".into());
    }
    let mut name = String::from_utf8_lossy(field(0, 100)).into_owned();
    let prefix = field(345, 500);
    if !prefix.is_empty() {
        name = format!("{}/{name}", String::from_utf8_lossy(prefix));
    }
    if h[156] != b'0' && h[156] != 0 {
        return Err(format!("entry '{name}' is not a plain file (type '{}'; refused)", h[156] as char));
    }
    let size = octal(124, 136).ok_or_else(|| format!("entry '{name}' has no readable size"))?;
    Ok(Some(EntryHeader { name, size }))
}

fn read_full(r: &mut impl Read, buf: &mut [u8]) -> io::Result<()> {
    let mut got = 0;
    while got < buf.len() {
        match r.read(&mut buf[got..]) {
            Ok(0) => return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "unexpected end of file")),
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

fn skip_padding(r: &mut impl Read, size: u64) -> io::Result<()> {
    let pad = ((512 - (size % 512)) % 512) as usize;
    let mut b = [0u8; 512];
    read_full(r, &mut b[..pad])?;
    if b.iter().any(|&x| x != 0) {
        return Err(io::Error::new(io::ErrorKind::InvalidData, "padding after an entry is not zero (the file was altered)"));
    }
    Ok(())
}

/// A file writer that asks the kernel to start writing each 16 MiB to disk as soon as it is
/// written (Linux `sync_file_range`), instead of letting gigabytes of dirty pages wait for the
/// final fsync: the disk works while the rest is still being hashed. Durability still comes
/// from the fsync at the end.
struct Writeback {
    file: fs::File,
    written: u64,
    flushed: u64,
}

const WRITEBACK_STEP: u64 = 16 << 20;

impl Writeback {
    fn new(file: fs::File) -> Writeback {
        Writeback { file, written: 0, flushed: 0 }
    }

    fn start_writeback(&mut self) {
        #[cfg(target_os = "linux")]
        {
            use std::os::fd::AsRawFd;
            // SAFETY: a plain syscall on an open file descriptor we own; it only starts I/O.
            unsafe {
                libc::sync_file_range(
                    self.file.as_raw_fd(),
                    self.flushed as libc::off64_t,
                    (self.written - self.flushed) as libc::off64_t,
                    libc::SYNC_FILE_RANGE_WRITE,
                );
            }
        }
        self.flushed = self.written;
    }

    fn into_file(self) -> fs::File {
        self.file
    }
}

impl Write for Writeback {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.file.write(buf)?;
        self.written += n as u64;
        if self.written - self.flushed >= WRITEBACK_STEP {
            self.start_writeback();
        }
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }
}

/// A reader that hashes what passes through it and reports progress.
struct Hashing<'a, R> {
    inner: R,
    hasher: Sha256,
    count: u64,
    base: u64,
    total: u64,
    progress: Progress<'a>,
}

impl<R: Read> Read for Hashing<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        let before = self.count >> 22;
        self.count += n as u64;
        if self.count >> 22 != before {
            (self.progress)(self.base + self.count, self.total);
        }
        Ok(n)
    }
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if s.len() % 2 != 0 || !s.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()) {
        return None;
    }
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).ok()).collect()
}

fn is_sha256(s: &str) -> bool {
    s.len() == 64 && unhex(s).is_some()
}

// ---------------------------------------------------------------------------------------
// Reading and verifying

/// A bundle whose manifest and signature checked out (files not yet read).
pub struct Opened {
    pub manifest: Manifest,
    /// SHA-256 of manifest.json: the bundle's identity.
    pub bundle_id: String,
    reader: BufReader<fs::File>,
    file: String,
}

/// Where each expected file goes once verified.
struct Expected {
    sha256: String,
    size: u64,
    dest: PathBuf,
}

/// Opens a bundle and verifies its manifest signature and structure. Reads only the first two
/// entries; touches nothing.
pub fn open(path: &Path) -> Result<Opened> {
    open_checked(path, true).map(|(o, _)| o)
}

/// Like [`open`], but a signature that does not verify is returned as a note instead of
/// refusing the bundle: `verify --bundles` still recomputes from its content to name what
/// changed. Never used to import.
pub fn open_for_audit(path: &Path) -> Result<(Opened, Option<String>)> {
    open_checked(path, false)
}

fn open_checked(path: &Path, require_signature: bool) -> Result<(Opened, Option<String>)> {
    let file = path.display().to_string();
    let f = fs::File::open(path).map_err(|e| bundle_err(&file, format!("cannot open: {e} (check the path)")))?;
    if f.metadata().map(|m| m.len()).unwrap_or(0) < 1024 {
        return Err(bundle_err(&file, "is too short to be a hallmark bundle (empty or cut off: copy it again)".into()));
    }
    let mut reader = BufReader::with_capacity(CHUNK, f);
    let manifest_bytes = read_small(&file, &mut reader, MANIFEST, MAX_MANIFEST_BYTES)?;
    let sig_bytes = read_small(&file, &mut reader, SIGNATURE, MAX_SIGNATURE_BYTES)?;
    let sig: SignatureFile = serde_json::from_slice(&sig_bytes)
        .map_err(|e| bundle_err(&file, format!("{SIGNATURE} is not a signature record: {e} (export the bundle again)")))?;
    let manifest_value: Value = serde_json::from_slice(&manifest_bytes).map_err(|e| {
        bundle_err(&file, format!("{MANIFEST} is not JSON ({e}): the bundle was damaged or altered; export it again from the tablet"))
    })?;
    // The version is read before the full structure, so a newer format gets the right advice.
    match manifest_value.get("format").and_then(Value::as_str) {
        Some(FORMAT) => {}
        other => return Err(bundle_err(&file, format!("format {:?} is not a hallmark bundle (expected \"{FORMAT}\")", other.unwrap_or("none")))),
    }
    match manifest_value.get("format_version").and_then(Value::as_u64) {
        Some(v) if v == FORMAT_VERSION as u64 => {}
        Some(v) => {
            return Err(bundle_err(
                &file,
                format!("format version {v} is unknown (this hallmark reads version {FORMAT_VERSION}): update hallmark on this computer"),
            ))
        }
        None => return Err(bundle_err(&file, "manifest has no format_version (export the bundle again)".into())),
    }
    if sig.algorithm != "ed25519" {
        return Err(bundle_err(&file, format!("signature algorithm '{}' is not supported (expected ed25519)", sig.algorithm)));
    }
    let public = unhex(&sig.public_key).filter(|k| k.len() == 32);
    let signature = unhex(&sig.signature).filter(|s| s.len() == 64);
    let (Some(public), Some(signature)) = (public, signature) else {
        return Err(bundle_err(&file, format!("{SIGNATURE} holds a malformed key or signature (export the bundle again)")));
    };
    let mut note = None;
    if !identity::verify(&public, &manifest_bytes, &signature) {
        let e = bundle_err(
            &file,
            "the manifest signature does not verify: the manifest was altered after signing, or signed by another key (do not use this file; export it again from the tablet)".into(),
        );
        if require_signature {
            return Err(e);
        }
        note = Some(e.to_string());
    }
    let manifest: Manifest = serde_json::from_value(manifest_value)
        .map_err(|e| bundle_err(&file, format!("manifest does not have the bundle structure: {e} (export it again with this hallmark version)")))?;
    if manifest.device.public_key != sig.public_key {
        let e = bundle_err(
            &file,
            "signed by another key than the device key the manifest names (do not use this file; export it again from the tablet)".into(),
        );
        if require_signature {
            return Err(e);
        }
        note = Some(e.to_string());
    }
    check_manifest(&file, &manifest)?;
    Ok((Opened { manifest, bundle_id: photo::sha256_hex(&manifest_bytes), reader, file }, note))
}

fn read_small(file: &str, r: &mut impl Read, name: &str, max: u64) -> Result<Vec<u8>> {
    let header = match read_header(r) {
        Ok(Some(h)) => h,
        Ok(None) => return Err(bundle_err(file, format!("ends before {name} (the file is empty or truncated: copy it again)"))),
        Err(e) => return Err(bundle_err(file, format!("is not a hallmark bundle where {name} should be: {e} (damaged, truncated, or another kind of file)"))),
    };
    if header.name != name {
        return Err(bundle_err(file, format!("entry '{}' found where {name} must be (not a hallmark bundle, or altered)", header.name)));
    }
    if header.size > max {
        return Err(bundle_err(file, format!("{name} declares {} bytes, more than the {max} allowed (refused as a possible zip bomb)", header.size)));
    }
    let mut buf = vec![0u8; header.size as usize];
    read_full(r, &mut buf)
        .and_then(|_| skip_padding(r, header.size))
        .map_err(|e| bundle_err(file, format!("{name} is cut short ({e}): the file is truncated; copy it again")))?;
    Ok(buf)
}

/// Rules on the manifest alone.
fn check_manifest(file: &str, m: &Manifest) -> Result<()> {
    let bad = |what: String| Err(bundle_err(file, format!("{what} (export the bundle again from the tablet)")));
    if !is_sha256(&m.rubric.sha256) || photo::sha256_hex(m.rubric.content.as_bytes()) != m.rubric.sha256 {
        return bad(format!("the rubric text does not match its hash {}", m.rubric.sha256));
    }
    if m.photos.len() > MAX_FILES / 2 {
        return bad(format!("lists {} photos, more than the {} a bundle may hold", m.photos.len(), MAX_FILES / 2));
    }
    let mut seen = BTreeSet::new();
    for p in &m.photos {
        if !is_sha256(&p.sha256) || !is_sha256(&p.thumb_sha256) {
            return bad(format!("photo hash '{}' is not a SHA-256", p.sha256));
        }
        if !seen.insert(&p.sha256) {
            return bad(format!("photo {} is listed twice", &p.sha256[..12]));
        }
        if p.size > MAX_FILE_BYTES || p.thumb_size > MAX_FILE_BYTES {
            return bad(format!("photo {} declares {} bytes, more than the {} allowed", &p.sha256[..12], p.size, MAX_FILE_BYTES));
        }
    }
    if let Some(s) = &m.signature_image {
        if !is_sha256(&s.sha256) || s.size > MAX_FILE_BYTES {
            return bad("the handwritten signature entry is malformed".into());
        }
    }
    for e in &m.evidence {
        if !seen.contains(&e.sha256) {
            return bad(format!("evidence {} names photo {} that the bundle does not list", e.id, e.sha256));
        }
    }
    let mut ids = BTreeSet::new();
    for e in &m.events {
        if !ids.insert(&e.id) {
            return bad(format!("event {} appears twice", e.id));
        }
        if !crate::is_timestamp(&e.recorded_at) {
            return bad(format!("event {} has time '{}', not an RFC 3339 UTC time", e.id, e.recorded_at));
        }
    }
    Ok(())
}

impl Opened {
    /// Reads every file and checks name, size and SHA-256 against the manifest, writing
    /// nothing (`hallmark verify --bundles`).
    pub fn check_files(mut self) -> Result<Manifest> {
        // With `write` false every file counts as present: hashed, never written, so the
        // destinations do not matter.
        let mut expected = self.expected(Path::new(""));
        let mut staged = Staged { temps: Vec::new() };
        self.stage_into(&mut expected, &mut staged, 0, &mut |_, _| {}, false)?;
        Ok(self.manifest)
    }

    fn expected(&self, dir: &Path) -> HashMap<String, Expected> {
        let mut expected: HashMap<String, Expected> = HashMap::new();
        for p in &self.manifest.photos {
            expected.insert(
                format!("photos/{}.jpg", p.sha256),
                Expected { sha256: p.sha256.clone(), size: p.size, dest: crate::photo_path_in(dir, &p.sha256) },
            );
            expected.insert(
                format!("thumbs/{}.jpg", p.sha256),
                Expected { sha256: p.thumb_sha256.clone(), size: p.thumb_size, dest: crate::thumb_path_in(dir, &p.sha256) },
            );
        }
        if let Some(s) = &self.manifest.signature_image {
            expected.insert(
                format!("signature/{}.png", s.sha256),
                Expected { sha256: s.sha256.clone(), size: s.size, dest: crate::signature_path_in(dir, &s.sha256) },
            );
        }
        expected
    }

    /// Streams every file to a temp file beside its place under `dir`, checking name, size and
    /// SHA-256 against the manifest. On any mismatch the temps are removed and the reason
    /// returned. Files already present (same hash) are verified but not written again.
    fn stage(&mut self, dir: &Path, progress: Progress<'_>) -> Result<Staged> {
        let mut expected = self.expected(dir);
        let total: u64 = expected.values().map(|e| e.size).sum();
        let mut staged = Staged { temps: Vec::new() };
        let result = self.stage_into(&mut expected, &mut staged, total, progress, true);
        match result {
            Ok(()) => Ok(staged),
            Err(e) => {
                staged.discard();
                Err(e)
            }
        }
    }

    fn stage_into(
        &mut self,
        expected: &mut HashMap<String, Expected>,
        staged: &mut Staged,
        total: u64,
        progress: Progress<'_>,
        write: bool,
    ) -> Result<()> {
        let file = self.file.clone();
        let err = |what: String| bundle_err(&file, what);
        let mut done = 0u64;
        let mut count = 0usize;
        let mut buf = vec![0u8; CHUNK];
        let r = &mut self.reader;
        loop {
            let header = match read_header(r) {
                Ok(Some(h)) => h,
                Ok(None) => break,
                Err(e) => return Err(err(format!("{e} (the file is truncated, damaged or altered: copy it again)"))),
            };
            count += 1;
            if count > MAX_FILES {
                return Err(err(format!("holds more than {MAX_FILES} entries (refused as a possible zip bomb)")));
            }
            let name = header.name;
            if name.starts_with('/') || name.split(['/', '\\']).any(|part| part == "..") {
                return Err(err(format!("entry name '{name}' is absolute or climbs out with '..' (refused: a bundle never holds such paths)")));
            }
            let Some(exp) = expected.remove(&name) else {
                return Err(err(if name == MANIFEST || name == SIGNATURE {
                    format!("entry '{name}' appears twice (the bundle was altered)")
                } else {
                    format!("unexpected entry '{name}': the manifest does not list it (the bundle was altered; export it again)")
                }));
            };
            if header.size != exp.size {
                return Err(err(format!("entry '{name}' declares {} bytes but the manifest says {} (the bundle was altered)", header.size, exp.size)));
            }
            let present = !write || fs::metadata(&exp.dest).map(|m| m.len() == exp.size).unwrap_or(false);
            let mut out = if present {
                None
            } else {
                let folder = exp.dest.parent().expect("store paths have a folder");
                fs::create_dir_all(folder).map_err(|e| io_err("cannot create a store folder", e))?;
                let tmp = folder.join(format!(".tmp-{}", uuid::Uuid::now_v7()));
                let f = fs::File::create(&tmp).map_err(|e| io_err("cannot write to the store", e))?;
                staged.temps.push((tmp, exp.dest.clone(), None));
                Some(Writeback::new(f))
            };
            let mut hasher = Sha256::new();
            let mut left = exp.size;
            while left > 0 {
                let want = left.min(CHUNK as u64) as usize;
                let n = match r.read(&mut buf[..want]) {
                    Ok(0) => return Err(err(format!(
                        "entry '{name}' is cut short at {} of {} bytes (the file is truncated: copy it again)",
                        exp.size - left,
                        exp.size
                    ))),
                    Ok(n) => n,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(e) => return Err(err(format!("cannot read '{name}': {e}"))),
                };
                left -= n as u64;
                hasher.update(&buf[..n]);
                if let Some(f) = out.as_mut() {
                    f.write_all(&buf[..n]).map_err(|e| io_err("cannot write to the store", e))?;
                }
                let before = done >> 22;
                done += n as u64;
                if done >> 22 != before {
                    progress(done, total);
                }
            }
            skip_padding(r, exp.size).map_err(|_| err(format!("entry '{name}' is cut short (the file is truncated: copy it again)")))?;
            if hex(&hasher.finalize()) != exp.sha256 {
                return Err(err(format!(
                    "'{name}' does not match its SHA-256 in the signed manifest (the file was altered or damaged in transit; export it again from the tablet)"
                )));
            }
            if let Some(mut f) = out {
                f.start_writeback();
                staged.temps.last_mut().expect("pushed above").2 = Some(f.into_file());
            }
        }
        if let Some(missing) = expected.keys().min() {
            return Err(err(format!(
                "'{missing}' is missing ({} of the files the manifest lists are absent: the file is truncated or incomplete; copy it again)",
                expected.len()
            )));
        }
        progress(total, total);
        Ok(())
    }
}

/// Verified files in temp places, not yet renamed.
struct Staged {
    temps: Vec<(PathBuf, PathBuf, Option<fs::File>)>,
}

impl Staged {
    fn discard(&mut self) {
        for (tmp, _, _) in self.temps.drain(..) {
            let _ = fs::remove_file(tmp);
        }
    }

    /// Makes the files durable and moves them into place. One `syncfs` flushes every staged
    /// file (one journal commit, not one per file), a second one the renames.
    fn commit(mut self, dir: &Path) -> Result<usize> {
        let n = self.temps.len();
        if n == 0 {
            return Ok(0);
        }
        sync_filesystem(dir, &self.temps).map_err(|e| io_err("cannot flush the photos to disk", e))?;
        let mut folders = BTreeSet::new();
        for (tmp, dest, _) in self.temps.drain(..) {
            fs::rename(&tmp, &dest).map_err(|e| io_err("cannot move a photo into the store", e))?;
            folders.insert(dest.parent().expect("has folder").to_path_buf());
        }
        let folders: Vec<(PathBuf, PathBuf, Option<fs::File>)> = folders.into_iter().map(|d| (d.clone(), d, None)).collect();
        sync_filesystem(dir, &folders).map_err(|e| io_err("cannot flush the photo folders", e))?;
        Ok(n)
    }
}

/// Flushes everything written under `dir`: `syncfs` on Linux, else an fsync per file/folder.
fn sync_filesystem(dir: &Path, files: &[(PathBuf, PathBuf, Option<fs::File>)]) -> io::Result<()> {
    #[cfg(target_os = "linux")]
    {
        use std::os::fd::AsRawFd;
        let _ = files;
        let d = fs::File::open(dir)?;
        // SAFETY: syncfs on a descriptor we own.
        if unsafe { libc::syncfs(d.as_raw_fd()) } != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = dir;
        for (tmp, dest, f) in files {
            match f {
                Some(f) => f.sync_data()?,
                None => fs::File::open(if tmp.exists() { tmp } else { dest })?.sync_all()?,
            }
        }
        Ok(())
    }
}

impl Drop for Staged {
    fn drop(&mut self) {
        self.discard();
    }
}

// ---------------------------------------------------------------------------------------
// Import

impl Store {
    /// Verifies a bundle completely, then applies it in one transaction. A refused bundle
    /// changes nothing; the same bundle twice changes nothing the second time.
    pub fn import_bundle(&mut self, path: &Path, now: &str, progress: Progress<'_>) -> Result<Imported> {
        let mut opened = open(path)?;
        let file = opened.file.clone();
        let m = &opened.manifest;
        let known_as = self.roster_name(&m.device.public_key)?;
        let new_events = self.check_against_database(&file, m)?;
        // Every file is verified even for a bundle imported before: a damaged copy of a known
        // bundle is refused, not waved through as "already imported".
        let mut staged = opened.stage(&self.dir.clone(), progress)?;
        let m = &opened.manifest;
        let existing: Option<String> =
            self.conn.query_row("SELECT inspection_id FROM bundles WHERE id = ?1", [&opened.bundle_id], |r| r.get(0)).optional()?;
        if let Some(inspection_id) = existing {
            staged.discard();
            return Ok(Imported::AlreadyImported {
                bundle_id: opened.bundle_id.clone(),
                inspection_id,
                assessor: m.inspection.assessor_name.clone(),
                fingerprint: m.device.fingerprint.clone(),
                known_as,
            });
        }
        // Every byte verified: now the files go into place and the rows in, in one transaction.
        let new_photos = staged.commit(&self.dir.clone())?;
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let h = &m.inspection;
        tx.execute(
            "INSERT INTO inspections (id, rubric_id, rubric_version, rubric_hash, rubric_content, site_name, site_address,
             site_level, visited_on, assessor_name, assessor_unit, assessor_title, assessor_phone, device_id, created_at, finished_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)
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
                h.finished_at
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
                opened.bundle_id,
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
            tx.execute("INSERT INTO bundle_events (bundle_id, event_id) VALUES (?1, ?2)", params![opened.bundle_id, e.id])?;
        }
        crate::rebuild_answers_in(&tx, &h.id)?;
        tx.commit()?;
        Ok(Imported::Applied {
            bundle_id: opened.bundle_id.clone(),
            inspection_id: h.id.clone(),
            site: h.site_name.clone(),
            assessor: h.assessor_name.clone(),
            fingerprint: m.device.fingerprint.clone(),
            known_as,
            events: m.events.len(),
            new_events,
            photos: m.photos.len(),
            new_photos: new_photos.min(m.photos.len()),
        })
    }

    /// Rules that need the database: a known rubric, values valid under it, and no event or
    /// inspection that contradicts what is already here. Returns how many events are new.
    fn check_against_database(&self, file: &str, m: &Manifest) -> Result<usize> {
        let bad = |what: String| bundle_err(file, what);
        let known = crate::known_rubrics(self)?;
        let mut versions: Vec<String> = known.iter().filter(|k| k.0 == m.rubric.id).map(|k| format!("{} ({}…)", k.1, &k.2[..12])).collect();
        versions.dedup();
        if !known.iter().any(|k| k.0 == m.rubric.id && k.1 == m.rubric.version && k.2 == m.rubric.sha256) {
            return Err(bad(if versions.is_empty() {
                format!("rubric '{}' is unknown to this hallmark (add its file to rubrics/ or update hallmark)", m.rubric.id)
            } else {
                format!(
                    "rubric '{}' version '{}' ({}…) is unknown here (known: {}): update hallmark, or have the tablet use a known version",
                    m.rubric.id,
                    m.rubric.version,
                    &m.rubric.sha256[..12],
                    versions.join(", ")
                )
            }));
        }
        let rubric = hallmark_core::rubric::Rubric::load(&format!("rubric of {file}"), &m.rubric.content)
            .map_err(|e| bad(format!("its rubric does not load: {e}")))?;
        let h = &m.inspection;
        if hallmark_core::observation::canonical_level(&h.site_level).is_none() || !hallmark_core::observation::is_iso_date(&h.visited_on) {
            return Err(bad(format!("inspection header has level '{}' and date '{}', not a known level and a date", h.site_level, h.visited_on)));
        }
        for e in &m.events {
            crate::check_value(&rubric, &e.key, e.value.as_ref()).map_err(|err| bad(format!("event {}: {err}", e.id)))?;
        }
        let item_ids: BTreeSet<&str> = rubric.item.iter().map(|i| i.id.as_str()).collect();
        for e in &m.evidence {
            if !item_ids.contains(e.item_id.as_str()) {
                return Err(bad(format!("evidence {} is for item '{}', not in rubric '{}'", e.id, e.item_id, rubric.id)));
            }
        }
        if let Ok(existing) = self.inspection(&h.id) {
            if existing.rubric_hash != m.rubric.sha256 || existing.site_name != h.site_name || existing.assessor_name != h.assessor_name {
                return Err(bad(format!(
                    "inspection {} is already here as {} · {} ({}…), but the bundle says {} · {} ({}…) (the bundle was altered or made by a different hallmark)",
                    h.id, existing.site_name, existing.assessor_name, &existing.rubric_hash[..12], h.site_name, h.assessor_name, &m.rubric.sha256[..12]
                )));
            }
            if existing.device_id == self.device_id {
                return Err(bad(format!("inspection {} was recorded on this device: it is already here", h.id)));
            }
        }
        let mut new = 0;
        let mut st = self.conn.prepare("SELECT inspection_id, key, value, recorded_at, device_id FROM events WHERE id = ?1")?;
        for e in &m.events {
            let row: Option<(String, String, Option<String>, String, String)> =
                st.query_row([&e.id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))).optional()?;
            match row {
                None => new += 1,
                Some((insp, key, value, at, device)) => {
                    let value: Option<Value> = value.map(|v| serde_json::from_str(&v).expect("stored JSON"));
                    if insp != h.id || key != e.key || value != e.value || at != e.recorded_at || device != e.device_id {
                        return Err(bad(format!(
                            "event {} differs from the copy already imported (key '{}'): events never change once recorded, so this bundle was altered",
                            e.id, e.key
                        )));
                    }
                }
            }
        }
        Ok(new)
    }

    // ---- roster

    pub fn roster_add(&mut self, public_key: &str, name: &str, now: &str) -> Result<String> {
        let key = public_key.trim().to_ascii_lowercase();
        if unhex(&key).map(|k| k.len()) != Some(32) {
            return Err(StoreError::Invalid(format!(
                "'{public_key}' is not an Ed25519 public key (64 hex digits; the tablet shows it under 本机签名密钥)"
            )));
        }
        if name.trim().is_empty() {
            return Err(StoreError::Invalid("a roster entry needs the assessor's name".into()));
        }
        self.conn.execute(
            "INSERT INTO roster (public_key, name, added_at) VALUES (?1, ?2, ?3) ON CONFLICT (public_key) DO UPDATE SET name = excluded.name",
            params![key, name.trim(), now],
        )?;
        Ok(identity::fingerprint_of(&unhex(&key).expect("checked")))
    }

    pub fn roster(&self) -> Result<Vec<RosterEntry>> {
        let mut st = self.conn.prepare("SELECT public_key, name, added_at FROM roster ORDER BY name, public_key")?;
        let rows = st.query_map([], |r| {
            let key: String = r.get(0)?;
            Ok(RosterEntry {
                fingerprint: identity::fingerprint_of(&unhex(&key).unwrap_or_default()),
                public_key: key,
                name: r.get(1)?,
                added_at: r.get(2)?,
            })
        })?;
        Ok(rows.collect::<std::result::Result<Vec<_>, _>>()?)
    }

    pub fn roster_name(&self, public_key: &str) -> Result<Option<String>> {
        Ok(self.conn.query_row("SELECT name FROM roster WHERE public_key = ?1", [public_key], |r| r.get(0)).optional()?)
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
                fingerprint: identity::fingerprint_of(&unhex(&key).unwrap_or_default()),
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

    /// Keys whose edits diverged between two bundles of one inspection, with what each side
    /// said. Two bundles diverge when neither holds all the other's events (a normal later
    /// export holds everything the earlier one did).
    pub fn conflicts(&self, inspection_id: &str) -> Result<Vec<Conflict>> {
        let bundles = self.bundles(inspection_id)?;
        if bundles.len() < 2 {
            return Ok(Vec::new());
        }
        let events: BTreeMap<String, Event> = self.events(inspection_id)?.into_iter().map(|e| (e.id.clone(), e)).collect();
        let mut sets: Vec<BTreeSet<String>> = Vec::new();
        let mut st = self.conn.prepare("SELECT event_id FROM bundle_events WHERE bundle_id = ?1")?;
        for b in &bundles {
            sets.push(st.query_map([&b.id], |r| r.get(0))?.collect::<std::result::Result<BTreeSet<String>, _>>()?);
        }
        let answers = self.answers_with_events(inspection_id)?;
        let mut out: BTreeMap<String, Conflict> = BTreeMap::new();
        for i in 0..bundles.len() {
            for j in i + 1..bundles.len() {
                if sets[i].is_subset(&sets[j]) || sets[j].is_subset(&sets[i]) {
                    continue;
                }
                let side = |own: &BTreeSet<String>, other: &BTreeSet<String>| -> BTreeMap<String, &Event> {
                    let mut last: BTreeMap<String, &Event> = BTreeMap::new();
                    let mut mine: Vec<&Event> = own.difference(other).filter_map(|id| events.get(id)).collect();
                    crate::sort_events(&mut mine);
                    for e in mine {
                        last.insert(e.key.clone(), e);
                    }
                    last
                };
                let a = side(&sets[i], &sets[j]);
                let b = side(&sets[j], &sets[i]);
                for (key, ea) in &a {
                    let Some(eb) = b.get(key) else { continue };
                    if ea.value == eb.value {
                        continue;
                    }
                    let c = out.entry(key.clone()).or_insert_with(|| Conflict {
                        key: key.clone(),
                        current: answers.get(key).map(|(v, _)| v.clone()),
                        current_event: answers.get(key).map(|(_, id)| id.clone()),
                        sides: Vec::new(),
                    });
                    for (bundle, e) in [(&bundles[i], ea), (&bundles[j], eb)] {
                        if !c.sides.iter().any(|s| s.event_id == e.id) {
                            c.sides.push(ConflictSide {
                                bundle_file: bundle.file_name.clone(),
                                bundle_created_at: bundle.created_at.clone(),
                                value: e.value.clone(),
                                recorded_at: e.recorded_at.clone(),
                                event_id: e.id.clone(),
                            });
                        }
                    }
                }
            }
        }
        Ok(out.into_values().collect())
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct RosterEntry {
    pub public_key: String,
    pub fingerprint: String,
    pub name: String,
    pub added_at: String,
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

#[derive(Debug, Clone, Serialize)]
pub struct Conflict {
    pub key: String,
    /// The value in force, by the event order (docs/bundles.md).
    pub current: Option<Value>,
    pub current_event: Option<String>,
    pub sides: Vec<ConflictSide>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ConflictSide {
    pub bundle_file: String,
    pub bundle_created_at: String,
    pub value: Option<Value>,
    pub recorded_at: String,
    pub event_id: String,
}
