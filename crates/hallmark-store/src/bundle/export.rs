//! Export: the manifest built from the database (hashes already known), then each file copied
//! in 1 MiB chunks and re-hashed on the way, so memory does not grow with the photos and a
//! store file damaged on disk is caught, not exported. The archive is a [`NewFile`]: a failed
//! export leaves no partial bundle.

use std::collections::BTreeSet;
use std::fs;
use std::io::{self, BufWriter, Read};
use std::path::{Path, PathBuf};

use hallmark_bundle::format::{
    AssignmentRefV1, DeviceV2, EventV1, EvidenceV1, FileKind, HeaderV1, Manifest, PhotoV1, RubricRefV1, ServiceEntryV1, SignatureFileV1,
    SignatureImageV1, CURRENT_VERSION, FORMAT, MANIFEST, MAX_FILE_BYTES, MAX_PHOTO_BYTES, SIGNATURE,
};
use hallmark_bundle::ustar;
use hallmark_core::hex::{hex, sha256_hex};
use sha2::{Digest, Sha256};

use super::{Exported, Progress};
use crate::durable::{self, NewFile};
use crate::{io as io_err, Event, Result, Store, StoreError};

const CHUNK: usize = 1 << 20;

/// The wire form of a stored event.
pub fn event_v1(e: &Event) -> EventV1 {
    EventV1 {
        id: e.id.clone(),
        key: e.key.clone(),
        value: e.value.clone(),
        previous: e.previous.clone(),
        author: e.author.clone(),
        device_id: e.device_id.clone(),
        recorded_at: e.recorded_at.clone(),
        amendment: e.amendment.clone(),
    }
}

impl Store {
    /// The manifest of one inspection as it stands (unsigned).
    pub fn manifest(&self, inspection_id: &str, now: &str) -> Result<Manifest> {
        let insp = self.inspection(inspection_id)?;
        self.pinned(&insp)?;
        let events: Vec<EventV1> = self.events(inspection_id)?.iter().map(event_v1).collect();
        let mut st = self.conn.prepare(
            "SELECT id, item_id, kind, observed_at, note, occurrences, author, device_id, recorded_at
             FROM service_entries WHERE inspection_id = ?1 ORDER BY recorded_at, id",
        )?;
        let service_entries = st
            .query_map([inspection_id], |r| {
                let occ: String = r.get(5)?;
                Ok(ServiceEntryV1 {
                    id: r.get(0)?,
                    item_id: r.get(1)?,
                    kind: r.get(2)?,
                    observed_at: r.get(3)?,
                    note: r.get(4)?,
                    occurrences: crate::stored_json_at(5, &occ)?,
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
                Ok(EvidenceV1 {
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
            let thumb = fs::read(self.thumb_path(&e.sha256))
                .map_err(|err| io_err(&format!("cannot read the thumbnail of photo {}", e.sha256.get(..12).unwrap_or(&e.sha256)), err))?;
            photos.push(PhotoV1 {
                sha256: meta.sha256,
                size: meta.size,
                width: meta.width,
                height: meta.height,
                orientation: meta.orientation,
                taken_at: meta.taken_at,
                thumb_sha256: sha256_hex(&thumb),
                thumb_size: thumb.len() as u64,
            });
        }
        let signature_image =
            self.signature_image(inspection_id)?.map(|s| SignatureImageV1 { sha256: s.sha256, size: s.size, signed_at: s.signed_at });
        Ok(Manifest {
            format: FORMAT.into(),
            format_version: CURRENT_VERSION,
            created_at: now.into(),
            device: DeviceV2 {
                id: self.device_id.clone(),
                public_key: self.key.public_key_hex(),
                fingerprint: self.key.fingerprint(),
                // Enrolled: the bureau's certificate for this key travels with the bundle (#10).
                certificates: self.device_certificates()?.unwrap_or_default(),
            },
            rubric: RubricRefV1 {
                id: insp.rubric_id.clone(),
                version: insp.rubric_version.clone(),
                sha256: insp.rubric_hash.clone(),
                content: insp.rubric_content.clone(),
            },
            // Format 3 only with an assignment; otherwise written as version 2 (to_bundle_json).
            assignment: insp.assignment_id.map(|id| AssignmentRefV1 { id, hall_id: insp.hall_id }),
            inspection: HeaderV1 {
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
        let key = self.signing_key()?;
        if let Some(folder) = out.parent().filter(|p| !p.as_os_str().is_empty()) {
            durable::sweep_stale_temp_files(folder, durable::STALE_TEMP);
        }
        let manifest = self.manifest(inspection_id, now)?;
        let manifest_bytes = manifest.to_bundle_json();
        let signature = SignatureFileV1 {
            algorithm: "ed25519".into(),
            public_key: manifest.device.public_key.clone(),
            signature: hex(&key.sign(&manifest_bytes)),
        };
        let sig_bytes = serde_json::to_vec_pretty(&signature).expect("signature serializes");

        let files: Vec<(String, PathBuf, String, u64)> = manifest
            .files()
            .into_iter()
            .map(|f| {
                let path = match f.kind {
                    FileKind::Photo => self.photo_path(&f.key),
                    FileKind::Thumb => self.thumb_path(&f.key),
                    FileKind::SignatureImage => self.signature_path(&f.key),
                };
                (f.entry, path, f.sha256, f.size)
            })
            .collect();
        // A file the lead's import would refuse makes no bundle (issue #15: such a bundle was
        // written, then refused at the lead). Capture keeps photos within MAX_PHOTO_BYTES, so
        // only a photo attached before that limit can be this large.
        if let Some((entry, _, _, size)) = files.iter().find(|f| f.3 > MAX_FILE_BYTES) {
            return Err(StoreError::Invalid(format!(
                "{entry} is {size} bytes, more than the {MAX_FILE_BYTES} a bundle may carry per file, so the lead could not import this bundle and none was written (the photo was attached before photos were limited to {} MiB)",
                MAX_PHOTO_BYTES >> 20
            )));
        }
        let total: u64 = files.iter().map(|f| f.3).sum::<u64>() + manifest_bytes.len() as u64;

        if let Some(dir) = out.parent().filter(|d| !d.as_os_str().is_empty()) {
            fs::create_dir_all(dir).map_err(|e| io_err(&format!("cannot create folder '{}'", dir.display()), e))?;
        }
        let werr = |e: io::Error| io_err(&format!("cannot write the bundle '{}'", out.display()), e);
        // `file` is dropped on any error below: its temp file goes with it, no partial bundle.
        let file = NewFile::create(out).map_err(werr)?;
        let mut tar = ustar::Writer::new(BufWriter::with_capacity(CHUNK, file));
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
        let file = buf.into_inner().map_err(|e| werr(e.into_error()))?;
        let bytes = file.commit().map_err(werr)?;
        progress(total, total);
        Ok(Exported {
            path: out.to_path_buf(),
            bytes,
            photos: manifest.photos.len(),
            events: manifest.events.len(),
            bundle_id: sha256_hex(&manifest_bytes),
            fingerprint: manifest.device.fingerprint.clone(),
        })
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

/// Writes the bundle file a received bundle came from (sync, issue #11): `head` (its first two
/// entries, as received) and then each listed file from the store folder, in the manifest's
/// order. The export writes the same entries in the same order with fixed metadata, so the
/// bytes equal the tablet's file. Every file is re-hashed on the way, like an export.
pub fn assemble_bundle<W: io::Write>(dir: &Path, name: &str, head: &[u8], out: W) -> Result<W> {
    assemble_bundle_from(name, head, out, &mut |f| {
        let path = super::apply::stored_path(dir, f);
        let file = fs::File::open(&path).map_err(|e| io_err(&format!("cannot read {} from the store", f.entry), e))?;
        Ok(Box::new(file))
    })
}

/// [`assemble_bundle`] with the files read from anywhere (`open` gives a file's bytes: the
/// province records keep them in PostgreSQL); each is checked against its hash as it is written.
pub fn assemble_bundle_from<W: io::Write>(
    name: &str,
    head: &[u8],
    mut out: W,
    open: &mut dyn FnMut(&hallmark_bundle::format::ListedFile) -> Result<Box<dyn io::Read>>,
) -> Result<W> {
    let opened = hallmark_bundle::verify::open_reader(name, head.len() as u64, head, true)?;
    let werr = |e: io::Error| io_err("cannot write the bundle", e);
    out.write_all(head).map_err(werr)?;
    let mut tar = ustar::Writer::new(out);
    for f in opened.manifest.files() {
        let file = open(&f)?;
        let mut reader = Hashing { inner: file, hasher: Sha256::new(), count: 0, base: 0, total: 0, progress: &mut |_, _| {} };
        tar.append(&f.entry, f.size, &mut reader).map_err(werr)?;
        if hex(&reader.hasher.finalize()) != f.sha256 {
            return Err(StoreError::Io(format!("{} in the store no longer matches its SHA-256 (the store's copy is damaged)", f.entry)));
        }
    }
    tar.finish().map_err(werr)
}
