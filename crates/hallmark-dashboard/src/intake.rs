//! A signed report into the province's records (issue #12): verified exactly as `hallmark
//! verify --bundles --trust` does — every score, the final result and the evidence Merkle root
//! recomputed from the bundles, the lead's and every assessor's certificate checked — and then
//! the records are what was *recomputed* (every score, the final result, the events and photos),
//! never the sidecar's claims. Two fields are the signed report's own statements, covered by its
//! verified signature but not recomputed: the validity date (§12 may extend it from the previous
//! report) and the report a correction replaces. A report that does not verify writes nothing
//! and says why.

use std::path::{Path, PathBuf};

use hallmark_bundle::format::{FileKind, ListedFile};
use hallmark_bundle::verify::{self as bundle_verify, FileSink};
use hallmark_core::aggregate::Conclusion;
use hallmark_core::num::fmt;
use hallmark_province::blobs::BlobStore;
use hallmark_province::load::{self, EvaluationRecord, EventRecord, EvidenceRecord, Loaded, SheetRecord};
use hallmark_report::seal::{self, Recomputed, Trust};
use postgres::Client;

/// What loading a report did.
#[derive(Debug)]
pub struct Intake {
    pub report_number: String,
    pub hall_id: String,
    pub loaded: Loaded,
    /// New blobs written (photos, thumbnails, the PDF).
    pub blobs: usize,
    pub verification: String,
}

/// Verifies `pdf` (its sidecar beside it) against the bundles in `bundles` and `trust`, then
/// writes its records. The hall is the one the bundles' assignment names; `hall` is needed (and
/// must agree) when they name none (bundles carried on a stick).
pub fn load_report(
    db: &mut Client,
    store: &BlobStore,
    pdf: &Path,
    bundles: &Path,
    trust: &Trust,
    hall: Option<&str>,
    loaded_by: &str,
) -> Result<Intake, String> {
    let (v, recomputed) = seal::verify_recomputed(pdf, bundles, trust).map_err(|e| e.to_string())?;
    let Some(r) = recomputed else {
        return Err(format!("{}: the report does not verify, nothing was loaded: {}", pdf.display(), v.failures()));
    };
    let hall_id = hall_of(&r, hall)?;
    let pdf_bytes = std::fs::read(pdf).map_err(|e| format!("{}: cannot read: {e}", pdf.display()))?;
    let sidecar = std::fs::read(seal::sidecar_path(pdf)).map_err(|e| format!("{}: cannot read the sidecar: {e}", pdf.display()))?;
    let pdf_sha256 = hallmark_core::hex::sha256_hex(&pdf_bytes);
    // Blobs first (each idempotent); the rows that name them come after, in one transaction.
    let mut blobs = usize::from(load::put_blob(db, store, &pdf_sha256, &pdf_bytes).map_err(|e| e.to_string())?);
    let mut bundles = Vec::new();
    for s in &r.sheets {
        for f in &s.files {
            let (new, bundle) = keep_bundle(db, store, f)?;
            blobs += new;
            bundles.push(bundle);
        }
    }
    let mut record = record_of(&r, &hall_id, pdf_sha256, sidecar, &v, loaded_by)?;
    record.bundles = bundles;
    let loaded = load::load(db, &record).map_err(|e| e.to_string())?;
    Ok(Intake { report_number: record.report_number, hall_id, loaded, blobs, verification: v.text() })
}

/// The registry hall the panel's bundles name (all alike), or the one given.
fn hall_of(r: &Recomputed, given: Option<&str>) -> Result<String, String> {
    let mut named: Vec<&str> = r.sheets.iter().filter_map(|s| s.manifest.assignment.as_ref().and_then(|a| a.hall_id.as_deref())).collect();
    named.sort();
    named.dedup();
    match (named.as_slice(), given) {
        ([], Some(h)) => Ok(h.to_string()),
        ([], None) => Err(format!(
            "report {}: its bundles name no registry hall (they were not made from an assignment): pass --hall ID",
            r.sidecar.report_number()
        )),
        ([one], None) => Ok(one.to_string()),
        ([one], Some(h)) if *one == h => Ok(h.to_string()),
        ([one], Some(h)) => Err(format!("report {}: its bundles name hall '{one}', not '{h}' (leave --hall out)", r.sidecar.report_number())),
        (many, _) => {
            Err(format!("report {}: its bundles name several halls ({}): a panel evaluates one hall", r.sidecar.report_number(), many.join(", ")))
        }
    }
}

fn outcome(c: &Conclusion) -> &'static str {
    match c {
        Conclusion::Pass { .. } => "pass",
        Conclusion::Fail { .. } => "fail",
        Conclusion::Vetoed { .. } => "vetoed",
        Conclusion::Insufficient { .. } => "insufficient",
        Conclusion::NoPassLine { .. } => "no_pass_line",
        Conclusion::Incomplete { .. } => "incomplete",
    }
}

fn record_of(
    r: &Recomputed,
    hall_id: &str,
    pdf_sha256: String,
    sidecar: Vec<u8>,
    v: &seal::Verification,
    loaded_by: &str,
) -> Result<EvaluationRecord, String> {
    let side = &r.sidecar;
    let signed_at = match side.certified() {
        Some(c) => c.signed_at.to_string(),
        None => {
            return Err(format!("report {}: a sidecar v1 carries no signing time; the province keeps certified reports only", side.report_number()))
        }
    };
    let visited_on = r.sheets.iter().map(|s| s.manifest.inspection.visited_on.clone()).min().unwrap_or_default();
    let mut sheets = Vec::new();
    for s in &r.sheets {
        let m = &s.manifest;
        let thumbs: std::collections::BTreeMap<&str, &str> = m.photos.iter().map(|p| (p.sha256.as_str(), p.thumb_sha256.as_str())).collect();
        sheets.push(SheetRecord {
            inspection_id: m.inspection.id.clone(),
            assessor: m.inspection.assessor_name.clone(),
            device_key: m.device.public_key.clone(),
            total: fmt(s.sheet.total),
            items: s.sheet.items.iter().filter_map(|i| i.points.map(|p| (i.id.clone(), fmt(i.max), fmt(p)))).collect(),
            events: s
                .events
                .iter()
                .map(|e| EventRecord {
                    id: e.id.clone(),
                    key: e.key.clone(),
                    value: e.value.as_ref().map(|v| v.to_string()),
                    recorded_at: e.recorded_at.clone(),
                })
                .collect(),
            evidence: m
                .evidence
                .iter()
                .map(|e| EvidenceRecord {
                    item_id: e.item_id.clone(),
                    sha256: e.sha256.clone(),
                    thumb_sha256: thumbs.get(e.sha256.as_str()).map(|t| t.to_string()),
                    caption: e.caption.clone(),
                })
                .collect(),
        });
    }
    let signer = v.signer.as_ref().map(|t| t.signer.name.clone()).unwrap_or_default();
    Ok(EvaluationRecord {
        report_number: side.report_number().clone(),
        hall_id: hall_id.to_string(),
        rubric_id: r.rubric.id.clone(),
        rubric_version: r.rubric.version.clone(),
        visited_on,
        signed_at,
        final_score: r.panel.final_score.map(fmt),
        outcome: outcome(&r.panel.conclusion).into(),
        valid_until: side.valid_until().clone(),
        replaces: side.supersedes().map(|s| s.report_number.clone()),
        sheets,
        pdf_sha256,
        sidecar,
        signer,
        verification: v.text(),
        loaded_by: loaded_by.to_string(),
        bundles: Vec::new(),
    })
}

/// Keeps a bundle as blobs — its head (manifest and signature), its photos, thumbnails and
/// signature image, each file checked against its hash as it is read (the bundle's own
/// verification): the bundle can be put together again from the records. Returns how many
/// blobs were new, and (bundle id, head SHA-256).
fn keep_bundle(db: &mut Client, store: &BlobStore, file: &Path) -> Result<(usize, (String, String)), String> {
    let head = head_of(file)?;
    let head_sha256 = hallmark_core::hex::sha256_hex(&head);
    let mut new = usize::from(load::put_blob(db, store, &head_sha256, &head).map_err(|e| e.to_string())?);
    let opened = bundle_verify::open_for_audit(file).map_err(|e| e.to_string())?;
    let bundle_id = opened.bundle_id.clone();
    let mut sink = BlobSink { db, store, current: None, buffer: Vec::new(), new: 0, failed: None };
    let result = opened.verify_files(&mut sink, &mut |_, _| {});
    if let Some(e) = sink.failed.take() {
        return Err(e);
    }
    result.map_err(|e| e.to_string())?;
    new += sink.new;
    Ok((new, (bundle_id, head_sha256)))
}

/// A bundle file's head: its first two entries (manifest.json, manifest.sig) as written.
pub fn head_of(file: &Path) -> Result<Vec<u8>, String> {
    use hallmark_bundle::ustar;
    use std::io::{Read, Seek, SeekFrom};
    let name = file.display();
    let mut f = std::fs::File::open(file).map_err(|e| format!("{name}: cannot read: {e}"))?;
    let mut pos = 0u64;
    for _ in 0..2 {
        f.seek(SeekFrom::Start(pos)).map_err(|e| format!("{name}: {e}"))?;
        let Some(h) = ustar::read_header(&mut f).map_err(|e| format!("{name}: not a hallmark bundle: {e}"))? else {
            return Err(format!("{name}: not a hallmark bundle (no manifest and signature)"));
        };
        pos += ustar::BLOCK as u64 + h.size.div_ceil(ustar::BLOCK as u64) * ustar::BLOCK as u64;
    }
    let mut head = vec![0u8; pos as usize];
    f.seek(SeekFrom::Start(0)).and_then(|_| f.read_exact(&mut head)).map_err(|e| format!("{name}: cut short: {e}"))?;
    Ok(head)
}

/// Verifies a held report again from the records alone: its PDF and sidecar, and its bundles
/// put together from their heads and blobs — every check of `hallmark verify --bundles
/// --trust` (after a restore, say). `Ok(None)`: no such report.
pub fn reverify(db: &mut Client, store: &BlobStore, report_number: &str, trust: &Trust) -> Result<Option<seal::Verification>, String> {
    let Some(held) = load::held_report(db, store, report_number).map_err(|e| e.to_string())? else {
        return Ok(None);
    };
    let folder = ReportFolder::new(&std::env::temp_dir(), &held.pdf, &held.sidecar)?;
    for (id, head) in &held.heads {
        let path = folder.bundle_path(id);
        let out = std::fs::File::create(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        let mut open = |f: &ListedFile| -> hallmark_store::Result<Box<dyn std::io::Read>> {
            match load::blob(db, store, &f.sha256) {
                Ok(Some(b)) => Ok(Box::new(std::io::Cursor::new(b))),
                Ok(None) => Err(hallmark_store::StoreError::Io(format!("{} ({}) is not in the records' blobs", f.entry, f.sha256))),
                Err(e) => Err(hallmark_store::StoreError::Io(e.to_string())),
            }
        };
        hallmark_store::bundle::assemble_bundle_from(&format!("bundle {id}"), head, out, &mut open)
            .map_err(|e| format!("report {report_number}: bundle {id} cannot be put together from the records: {e}"))?;
    }
    seal::verify_trusted(&folder.pdf(), Some(&folder.dir), trust).map(Some).map_err(|e| e.to_string())
}

/// A report laid out as `verify --bundles` reads it — `report.pdf`, its sidecar, and the
/// bundles the caller writes beside them — in a fresh folder under `parent`, removed when this
/// is dropped (a panic included).
pub struct ReportFolder {
    pub dir: PathBuf,
}

impl ReportFolder {
    pub fn new(parent: &Path, pdf: &[u8], sidecar: &[u8]) -> Result<ReportFolder, String> {
        let mut rnd = [0u8; 8];
        getrandom::getrandom(&mut rnd).map_err(|e| format!("no randomness for a folder name: {e}"))?;
        let dir = parent.join(format!("report-{}", hallmark_core::hex::hex(&rnd)));
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let folder = ReportFolder { dir };
        let path = folder.pdf();
        std::fs::write(&path, pdf).map_err(|e| format!("{}: {e}", path.display()))?;
        std::fs::write(seal::sidecar_path(&path), sidecar).map_err(|e| format!("{}: {e}", path.display()))?;
        Ok(folder)
    }

    pub fn pdf(&self) -> PathBuf {
        self.dir.join("report.pdf")
    }

    /// Where bundle `id` goes.
    pub fn bundle_path(&self, id: &str) -> PathBuf {
        self.dir.join(format!("{id}.{}", hallmark_bundle::format::EXTENSION))
    }
}

impl Drop for ReportFolder {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

struct BlobSink<'a> {
    db: &'a mut Client,
    store: &'a BlobStore,
    current: Option<ListedFile>,
    buffer: Vec<u8>,
    new: usize,
    failed: Option<String>,
}

impl FileSink for BlobSink<'_> {
    fn start(&mut self, file: &ListedFile) -> hallmark_bundle::Result<bool> {
        if !matches!(file.kind, FileKind::Photo | FileKind::Thumb | FileKind::SignatureImage) {
            return Ok(false);
        }
        match load::has_blob(self.db, &file.sha256) {
            Ok(true) => Ok(false),
            Ok(false) => {
                self.current = Some(file.clone());
                self.buffer.clear();
                Ok(true)
            }
            Err(e) => {
                self.failed = Some(e.to_string());
                Ok(false)
            }
        }
    }

    fn write(&mut self, bytes: &[u8]) -> hallmark_bundle::Result<()> {
        self.buffer.extend_from_slice(bytes);
        Ok(())
    }

    fn finish(&mut self) -> hallmark_bundle::Result<()> {
        if let Some(f) = self.current.take() {
            match load::put_blob(self.db, self.store, &f.sha256, &self.buffer) {
                Ok(new) => self.new += usize::from(new),
                Err(e) => self.failed = Some(e.to_string()),
            }
            self.buffer = Vec::new();
        }
        Ok(())
    }
}
