//! Verifying a bundle, with no database: bytes or a path in, a [`Verified`] bundle out.
//!
//! [`open`] reads `manifest.json` and `manifest.sig` (the first two entries, bounded in size),
//! checks the format version, the Ed25519 signature over the exact manifest bytes, that the
//! signing key is the device key the manifest names, and every rule the manifest alone can
//! break (rubric text vs its hash, hashes well formed, no duplicates, evidence names listed
//! photos, event times). [`Opened::verify_files`] then streams every further entry through a
//! [`FileSink`], checking its name against the manifest, its size and its SHA-256, and that
//! nothing is missing or extra. Only a bundle that passed all of it comes out [`Verified`].
//!
//! An importer passes a sink that stages each file in a temp file beside its final place, so
//! verification and staging are one pass over the bytes; `verify --bundles` passes [`Discard`].

use std::collections::{BTreeSet, HashMap};
use std::fs;
use std::io::{BufReader, Read};
use std::path::Path;

use hallmark_core::hex::{hex, is_sha256, sha256_hex, unhex};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::format::{
    self, ListedFile, Manifest, SignatureFileV1, MANIFEST, MAX_FILES, MAX_FILE_BYTES, MAX_MANIFEST_BYTES, MAX_SIGNATURE_BYTES, SIGNATURE,
};
use crate::{refused, signature, ustar, Result};

const CHUNK: usize = 1 << 20;

/// Where a streamed byte count goes: (bytes done, bytes in all).
pub type Progress<'a> = &'a mut dyn FnMut(u64, u64);

/// Receives each listed file's bytes while they are verified.
pub trait FileSink {
    /// Called before a file's bytes. `false`: verify only, the bytes are not wanted (the
    /// file is already where it belongs).
    fn start(&mut self, file: &ListedFile) -> Result<bool>;
    /// The next chunk of the file started last (only after `start` said `true`).
    fn write(&mut self, bytes: &[u8]) -> Result<()>;
    /// The file started last matched its size and SHA-256.
    fn finish(&mut self) -> Result<()>;
}

/// A sink that wants no bytes: verification only.
pub struct Discard;

impl FileSink for Discard {
    fn start(&mut self, _: &ListedFile) -> Result<bool> {
        Ok(false)
    }
    fn write(&mut self, _: &[u8]) -> Result<()> {
        Ok(())
    }
    fn finish(&mut self) -> Result<()> {
        Ok(())
    }
}

/// A bundle whose manifest and signature checked out; its files not yet read.
pub struct Opened<R> {
    pub manifest: Manifest,
    /// SHA-256 of manifest.json: the bundle's identity.
    pub bundle_id: String,
    /// The file name used in messages.
    pub file: String,
    /// Only from [`open_for_audit`]: why the signature does not verify.
    pub signature_note: Option<String>,
    reader: R,
}

/// A bundle every byte of which was checked against its signed manifest.
#[derive(Debug, Clone)]
pub struct Verified {
    pub manifest: Manifest,
    pub bundle_id: String,
    pub file: String,
    /// Only from [`open_for_audit`]: why the signature does not verify.
    pub signature_note: Option<String>,
}

/// Verifies a bundle file completely, writing nothing.
pub fn verify(path: &Path) -> Result<Verified> {
    open(path)?.verify_files(&mut Discard, &mut |_, _| {})
}

/// Verifies a bundle held in memory (an upload), writing nothing.
pub fn verify_bytes(name: &str, bytes: &[u8]) -> Result<Verified> {
    open_reader(name, bytes.len() as u64, bytes, true)?.verify_files(&mut Discard, &mut |_, _| {})
}

/// Opens a bundle and verifies its manifest, signature and structure. Reads only the first
/// two entries.
pub fn open(path: &Path) -> Result<Opened<BufReader<fs::File>>> {
    open_path(path, true)
}

/// Like [`open`], but a signature that does not verify is kept as [`Opened::signature_note`]
/// instead of refusing the bundle: `verify --bundles` still recomputes from its content to name
/// what changed. Never used to import.
pub fn open_for_audit(path: &Path) -> Result<Opened<BufReader<fs::File>>> {
    open_path(path, false)
}

fn open_path(path: &Path, require_signature: bool) -> Result<Opened<BufReader<fs::File>>> {
    let file = path.display().to_string();
    let f = fs::File::open(path).map_err(|e| refused(&file, format!("cannot open: {e} (check the path)")))?;
    let len = f.metadata().map(|m| m.len()).unwrap_or(0);
    open_reader(&file, len, BufReader::with_capacity(CHUNK, f), require_signature)
}

/// Opens a bundle from any reader of `len` bytes; `file` names it in messages.
pub fn open_reader<R: Read>(file: &str, len: u64, mut reader: R, require_signature: bool) -> Result<Opened<R>> {
    let bad = |what: String| refused(file, what);
    if len < 1024 {
        return Err(bad("is too short to be a hallmark bundle (empty or cut off: copy it again)".into()));
    }
    let manifest_bytes = read_small(file, &mut reader, MANIFEST, MAX_MANIFEST_BYTES)?;
    let sig_bytes = read_small(file, &mut reader, SIGNATURE, MAX_SIGNATURE_BYTES)?;
    let sig: SignatureFileV1 =
        serde_json::from_slice(&sig_bytes).map_err(|e| bad(format!("{SIGNATURE} is not a signature record: {e} (export the bundle again)")))?;
    let manifest_value: Value = serde_json::from_slice(&manifest_bytes)
        .map_err(|e| bad(format!("{MANIFEST} is not JSON ({e}): the bundle was damaged or altered; export it again from the tablet")))?;
    let version = format::manifest_version(&manifest_value).map_err(bad)?;
    if sig.algorithm != "ed25519" {
        return Err(bad(format!("signature algorithm '{}' is not supported (expected ed25519)", sig.algorithm)));
    }
    let public = unhex(&sig.public_key).filter(|k| k.len() == 32);
    let signature = unhex(&sig.signature).filter(|s| s.len() == 64);
    let (Some(public), Some(signature)) = (public, signature) else {
        return Err(bad(format!("{SIGNATURE} holds a malformed key or signature (export the bundle again)")));
    };
    let mut note = None;
    if !signature::verify(&public, &manifest_bytes, &signature) {
        let e = bad("the manifest signature does not verify: the manifest was altered after signing, or signed by another key (do not use this file; export it again from the tablet)".into());
        if require_signature {
            return Err(e);
        }
        note = Some(e.to_string());
    }
    let manifest = format::parse_manifest(version, manifest_value).map_err(bad)?;
    if manifest.device.public_key != sig.public_key {
        let e = bad("signed by another key than the device key the manifest names (do not use this file; export it again from the tablet)".into());
        if require_signature {
            return Err(e);
        }
        note = Some(e.to_string());
    }
    check_manifest(file, &manifest)?;
    Ok(Opened { manifest, bundle_id: sha256_hex(&manifest_bytes), file: file.to_string(), signature_note: note, reader })
}

fn read_small(file: &str, r: &mut impl Read, name: &str, max: u64) -> Result<Vec<u8>> {
    let header = match ustar::read_header(r) {
        Ok(Some(h)) => h,
        Ok(None) => return Err(refused(file, format!("ends before {name} (the file is empty or truncated: copy it again)"))),
        Err(e) => {
            return Err(refused(file, format!("is not a hallmark bundle where {name} should be: {e} (damaged, truncated, or another kind of file)")))
        }
    };
    if header.name != name {
        return Err(refused(file, format!("entry '{}' found where {name} must be (not a hallmark bundle, or altered)", header.name)));
    }
    if header.size > max {
        return Err(refused(file, format!("{name} declares {} bytes, more than the {max} allowed (refused as a possible zip bomb)", header.size)));
    }
    let mut buf = vec![0u8; header.size as usize];
    ustar::read_full(r, &mut buf)
        .and_then(|_| ustar::skip_padding(r, header.size))
        .map_err(|e| refused(file, format!("{name} is cut short ({e}): the file is truncated; copy it again")))?;
    Ok(buf)
}

/// Rules on the manifest alone.
fn check_manifest(file: &str, m: &Manifest) -> Result<()> {
    let bad = |what: String| Err(refused(file, format!("{what} (export the bundle again from the tablet)")));
    if !is_sha256(&m.rubric.sha256) || sha256_hex(m.rubric.content.as_bytes()) != m.rubric.sha256 {
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
        if !hallmark_core::date::is_timestamp(&e.recorded_at) {
            return bad(format!("event {} has time '{}', not an RFC 3339 UTC time", e.id, e.recorded_at));
        }
    }
    Ok(())
}

impl<R> Opened<R> {
    /// The bundle's files were checked elsewhere, one by one: sync (issue #11) receives each
    /// listed file by itself, checks its SHA-256 on arrival and keeps it only under that hash
    /// in a content-addressed store. The caller vouches that every listed file is there.
    pub fn files_checked_on_arrival(self) -> Verified {
        Verified { manifest: self.manifest, bundle_id: self.bundle_id, file: self.file, signature_note: self.signature_note }
    }
}

impl<R: Read> Opened<R> {
    /// Streams every further entry through `sink`, checking name, size and SHA-256 against
    /// the manifest; refuses extra, duplicate and missing entries. On an error the sink's
    /// staged bytes are the caller's to discard.
    pub fn verify_files(mut self, sink: &mut dyn FileSink, progress: Progress<'_>) -> Result<Verified> {
        let file = self.file.clone();
        let err = |what: String| refused(&file, what);
        let mut expected: HashMap<String, ListedFile> = self.manifest.files().into_iter().map(|f| (f.entry.clone(), f)).collect();
        let total: u64 = expected.values().map(|e| e.size).sum();
        let mut done = 0u64;
        let mut count = 0usize;
        let mut buf = vec![0u8; CHUNK];
        let r = &mut self.reader;
        loop {
            let header = match ustar::read_header(r) {
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
            let Some(listed) = expected.remove(&name) else {
                return Err(err(if name == MANIFEST || name == SIGNATURE {
                    format!("entry '{name}' appears twice (the bundle was altered)")
                } else {
                    format!("unexpected entry '{name}': the manifest does not list it (the bundle was altered; export it again)")
                }));
            };
            if header.size != listed.size {
                return Err(err(format!(
                    "entry '{name}' declares {} bytes but the manifest says {} (the bundle was altered)",
                    header.size, listed.size
                )));
            }
            let wanted = sink.start(&listed)?;
            let mut hasher = Sha256::new();
            let mut left = listed.size;
            while left > 0 {
                let want = left.min(CHUNK as u64) as usize;
                let n = match r.read(&mut buf[..want]) {
                    Ok(0) => {
                        return Err(err(format!(
                            "entry '{name}' is cut short at {} of {} bytes (the file is truncated: copy it again)",
                            listed.size - left,
                            listed.size
                        )))
                    }
                    Ok(n) => n,
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                    Err(e) => return Err(err(format!("cannot read '{name}': {e}"))),
                };
                left -= n as u64;
                hasher.update(&buf[..n]);
                if wanted {
                    sink.write(&buf[..n])?;
                }
                let before = done >> 22;
                done += n as u64;
                if done >> 22 != before {
                    progress(done, total);
                }
            }
            ustar::skip_padding(r, listed.size).map_err(|_| err(format!("entry '{name}' is cut short (the file is truncated: copy it again)")))?;
            if hex(&hasher.finalize()) != listed.sha256 {
                return Err(err(format!(
                    "'{name}' does not match its SHA-256 in the signed manifest (the file was altered or damaged in transit; export it again from the tablet)"
                )));
            }
            if wanted {
                sink.finish()?;
            }
        }
        if let Some(missing) = expected.keys().min() {
            return Err(err(format!(
                "'{missing}' is missing ({} of the files the manifest lists are absent: the file is truncated or incomplete; copy it again)",
                expected.len()
            )));
        }
        progress(total, total);
        Ok(Verified { manifest: self.manifest, bundle_id: self.bundle_id, file: self.file, signature_note: self.signature_note })
    }
}
