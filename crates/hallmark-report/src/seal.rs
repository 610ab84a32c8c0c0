//! Sealing and verifying a report: the lead's Ed25519 key signs the PDF bytes; the sidecar
//! `FILE.pdf.sig.json` carries the signer's key, that signature, the rubric hash, the evidence
//! Merkle root, the final score and every assessor's per-item points, and a second signature
//! over all of that (its "statement"), so no claim in the sidecar can change unnoticed.
//!
//! `verify` needs nothing but the two files; with `--bundles DIR` it also recomputes every
//! assessor's points, the final score and the Merkle root from the raw bundles (their event
//! logs), and names each difference.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use hallmark_bundle::format::{Manifest, EXTENSION};
use hallmark_bundle::verify::{self as bundle_verify, Discard};
use hallmark_core::aggregate::aggregate;
use hallmark_core::num::fmt;
use hallmark_core::observation;
use hallmark_core::rubric::Rubric;
use hallmark_core::score::score;
use hallmark_store::bundle::apply::{events_of, inspection_of};
use hallmark_store::durable::{self, NewFile};
use hallmark_store::identity::{self, DeviceKey};
use hallmark_store::{derive_answers, observation_document_of, Event};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::model::{self, Report};
use crate::ReportError;
use hallmark_core::hex::{hex, unhex};

/// The sidecar version this hallmark writes. Every version ever written still verifies:
///
/// | format | introduced by | what |
/// |--------|---------------|------|
/// | `hallmark-report-signature/1` | #5 signed evaluation report | PDF hash and signature, rubric, Merkle root, final score, conclusion, dates, every assessor's points, statement signature |
///
/// A new field is a new version (`SidecarV2`), read by [`read_sidecar`] and listed here and in
/// docs/report.md.
pub const FORMAT: &str = "hallmark-report-signature/1";

/// The sidecar as this hallmark works with it: the newest version.
pub type Sidecar = SidecarV1;

/// Sidecar version 1 (issue #5). Do not modify: issued reports carry exactly these fields,
/// and its compact JSON (with `signature` empty) is what the statement signature covers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SidecarV1 {
    pub format: String,
    pub report_number: String,
    pub pdf_sha256: String,
    pub pdf_size: u64,
    pub signer_public_key: String,
    pub signer_fingerprint: String,
    /// Ed25519 over the PDF's bytes, hex.
    pub pdf_signature: String,
    pub rubric: RubricRef,
    pub merkle_root: String,
    pub final_score: Option<String>,
    pub conclusion: String,
    pub issued_on: String,
    pub valid_until: Option<String>,
    pub assessors: Vec<AssessorScores>,
    /// Ed25519 over this record with `signature` empty (compact JSON), hex.
    pub signature: String,
}

/// The rubric a report was scored by (sidecar V1). Do not modify.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RubricRef {
    pub id: String,
    pub version: String,
    pub sha256: String,
}

/// One assessor's points as the report claims them (sidecar V1). Do not modify.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AssessorScores {
    pub name: String,
    pub inspection_id: String,
    pub total: String,
    pub scores: BTreeMap<String, String>,
}

fn statement(s: &Sidecar) -> Vec<u8> {
    let mut unsigned = s.clone();
    unsigned.signature = String::new();
    serde_json::to_vec(&unsigned).expect("sidecar serializes")
}

/// The sidecar's path for a PDF: `FILE.pdf.sig.json`.
pub fn sidecar_path(pdf: &Path) -> PathBuf {
    let mut p = pdf.as_os_str().to_owned();
    p.push(".sig.json");
    PathBuf::from(p)
}

/// Signs the PDF and the report's claims with the lead's key.
pub fn seal(report: &Report, pdf: &[u8], key: &DeviceKey) -> Sidecar {
    let mut s = Sidecar {
        format: FORMAT.into(),
        report_number: report.number.clone(),
        pdf_sha256: hex(&Sha256::digest(pdf)),
        pdf_size: pdf.len() as u64,
        signer_public_key: key.public_key_hex(),
        signer_fingerprint: key.fingerprint(),
        pdf_signature: hex(&key.sign(pdf)),
        rubric: RubricRef { id: report.rubric_id.clone(), version: report.rubric_version.clone(), sha256: report.rubric_hash.clone() },
        merkle_root: report.merkle_root.clone(),
        final_score: report.final_score.clone(),
        conclusion: report.conclusion.clone(),
        issued_on: report.issued_on.clone(),
        valid_until: report.valid_until.clone(),
        assessors: report
            .assessors
            .iter()
            .map(|a| AssessorScores {
                name: a.name.clone(),
                inspection_id: a.inspection_id.clone(),
                total: a.total.clone(),
                scores: a.scores.clone(),
            })
            .collect(),
        signature: String::new(),
    };
    s.signature = hex(&key.sign(&statement(&s)));
    s
}

/// Writes the PDF and its sidecar, each to a temp file that is then renamed.
/// The PDF and its sidecar appear together or not at all: both are written and fsynced before
/// either is renamed into place, and the sidecar is renamed first.
pub fn write(pdf_path: &Path, pdf: &[u8], sidecar: &Sidecar) -> Result<(), ReportError> {
    use std::io::Write as _;
    let json = serde_json::to_vec_pretty(sidecar).expect("sidecar serializes");
    prepare_folder(pdf_path)?;
    let side_path = sidecar_path(pdf_path);
    let cannot = |p: &Path, e: std::io::Error| ReportError::Io(format!("cannot write {}: {e}", p.display()));
    let mut side = NewFile::create(&side_path).map_err(|e| cannot(&side_path, e))?;
    side.write_all(&json).map_err(|e| cannot(&side_path, e))?;
    let mut doc = NewFile::create(pdf_path).map_err(|e| cannot(pdf_path, e))?;
    doc.write_all(pdf).map_err(|e| cannot(pdf_path, e))?;
    durable::commit_together(vec![side, doc]).map_err(|e| cannot(pdf_path, e))
}

/// Creates the file's folder and sweeps temp files a killed writer left there.
fn prepare_folder(path: &Path) -> Result<(), ReportError> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| ReportError::Io(format!("cannot create {}: {e}", dir.display())))?;
        durable::sweep_stale_temp_files(dir, durable::STALE_TEMP);
    }
    Ok(())
}

/// Writes one file through a temp file that is then renamed; creates its folder.
pub(crate) fn write_file(path: &Path, bytes: &[u8]) -> Result<(), ReportError> {
    prepare_folder(path)?;
    hallmark_store::durable::write_replacing(path, bytes).map_err(|e| ReportError::Io(format!("cannot write {}: {e}", path.display())))
}

/// The outcome of `verify`: every check with its result, in order.
#[derive(Debug, Clone, Serialize)]
pub struct Verification {
    pub ok: bool,
    pub checks: Vec<Check>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Check {
    pub ok: bool,
    pub what: String,
}

impl Verification {
    fn pass(&mut self, what: impl Into<String>) {
        self.checks.push(Check { ok: true, what: what.into() });
    }
    fn fail(&mut self, what: impl Into<String>) {
        self.ok = false;
        self.checks.push(Check { ok: false, what: what.into() });
    }

    pub fn text(&self) -> String {
        let mut o = String::new();
        for c in &self.checks {
            o.push_str(if c.ok { "ok    " } else { "FAIL  " });
            o.push_str(&c.what);
            o.push('\n');
        }
        o.push_str(if self.ok { "verified: the report is intact\n" } else { "NOT verified: see FAIL lines\n" });
        o
    }
}

/// Reads a sidecar of any version this hallmark knows, as the current [`Sidecar`].
pub fn read_sidecar(bytes: &[u8]) -> Result<Sidecar, String> {
    let value: serde_json::Value = serde_json::from_slice(bytes).map_err(|e| format!("not a hallmark report signature: {e}"))?;
    match value.get("format").and_then(serde_json::Value::as_str) {
        Some(FORMAT) => serde_json::from_value::<SidecarV1>(value).map_err(|e| format!("not a hallmark report signature: {e}")),
        Some(other) => Err(format!("sidecar format '{other}' is unknown (this hallmark reads {FORMAT}): update hallmark")),
        None => Err("not a hallmark report signature: no \"format\"".into()),
    }
}

/// Checks a report PDF against its sidecar; with `bundles`, recomputes from the raw bundles.
pub fn verify(pdf_path: &Path, bundles: Option<&Path>) -> Result<Verification, ReportError> {
    let pdf = std::fs::read(pdf_path).map_err(|e| ReportError::Input(format!("{}: cannot read: {e} (check the path)", pdf_path.display())))?;
    let side_path = sidecar_path(pdf_path);
    let side_text = std::fs::read(&side_path).map_err(|e| {
        ReportError::Input(format!(
            "{}: cannot read the signature sidecar: {e} (it is written beside the PDF; copy both files together. A draft report, 草稿, has none: it is not signed)",
            side_path.display()
        ))
    })?;
    let side = read_sidecar(&side_text).map_err(|e| ReportError::Input(format!("{}: {e}", side_path.display())))?;
    let mut v = Verification { ok: true, checks: Vec::new() };
    let key = unhex(&side.signer_public_key).unwrap_or_default();
    let digest = hex(&Sha256::digest(&pdf));
    if digest == side.pdf_sha256 && pdf.len() as u64 == side.pdf_size {
        v.pass(format!("PDF SHA-256 {}… matches the sidecar", &digest[..16]));
    } else {
        v.fail(format!(
            "PDF SHA-256 {}… ({} bytes) differs from the signed {}… ({} bytes): the PDF was changed",
            &digest[..16],
            pdf.len(),
            &side.pdf_sha256.get(..16).unwrap_or(""),
            side.pdf_size
        ));
    }
    if identity::verify(&key, &pdf, &unhex(&side.pdf_signature).unwrap_or_default()) {
        v.pass(format!("Ed25519 signature of the PDF by {} verifies", identity::fingerprint_of(&key)));
    } else {
        v.fail(format!("the PDF's Ed25519 signature by {} does not verify: the PDF or the signature was changed", side.signer_fingerprint));
    }
    if identity::verify(&key, &statement(&side), &unhex(&side.signature).unwrap_or_default()) {
        v.pass(format!(
            "sidecar claims are signed: report {}, final score {}, Merkle root {}…",
            side.report_number,
            side.final_score.as_deref().unwrap_or("—"),
            &side.merkle_root.get(..16).unwrap_or("")
        ));
    } else {
        v.fail("the sidecar's own signature does not verify: its scores, root or conclusion were changed");
    }
    if let Some(dir) = bundles {
        recompute(&side, dir, &mut v)?;
    }
    Ok(v)
}

/// Recomputes every score and the Merkle root from the bundles in `dir`.
fn recompute(side: &Sidecar, dir: &Path, v: &mut Verification) -> Result<(), ReportError> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| ReportError::Input(format!("{}: cannot list: {e}", dir.display())))?
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == EXTENSION))
        .collect();
    files.sort();
    // Union of each inspection's events across its bundles (as an import would do).
    let mut by_inspection: BTreeMap<String, (Manifest, BTreeMap<String, Event>)> = BTreeMap::new();
    for f in &files {
        let opened = match bundle_verify::open_for_audit(f) {
            Ok(o) => {
                if let Some(n) = &o.signature_note {
                    v.fail(n.clone());
                }
                o
            }
            Err(e) => {
                v.fail(e.to_string());
                continue;
            }
        };
        let in_report = side.assessors.iter().any(|a| a.inspection_id == opened.manifest.inspection.id);
        if !in_report {
            continue;
        }
        let manifest = match opened.verify_files(&mut Discard, &mut |_, _| {}) {
            Ok(verified) => verified.manifest,
            Err(e) => {
                v.fail(e.to_string());
                continue;
            }
        };
        let entry = by_inspection.entry(manifest.inspection.id.clone()).or_insert_with(|| (manifest.clone(), BTreeMap::new()));
        for e in events_of(&manifest) {
            entry.1.insert(e.id.clone(), e);
        }
        if manifest.created_at > entry.0.created_at {
            let events = std::mem::take(&mut entry.1);
            *entry = (manifest, events);
        }
    }
    let mut sheets = Vec::new();
    let mut leaves = Vec::new();
    let mut rubric: Option<Rubric> = None;
    for a in &side.assessors {
        let Some((m, events)) = by_inspection.get(&a.inspection_id) else {
            v.fail(format!("no bundle in {} for assessor {} (inspection {})", dir.display(), a.name, a.inspection_id));
            continue;
        };
        if m.rubric.sha256 != side.rubric.sha256 {
            v.fail(format!("{}'s bundle uses rubric {}… but the report {}…", a.name, &m.rubric.sha256[..12], &side.rubric.sha256[..12]));
            continue;
        }
        let r = match Rubric::load("rubric in bundle", &m.rubric.content) {
            Ok(r) => r,
            Err(e) => {
                v.fail(format!("{}'s bundle: rubric does not load: {e}", a.name));
                continue;
            }
        };
        let events: Vec<Event> = events.values().cloned().collect();
        let insp = inspection_of(m);
        let doc = observation_document_of(&insp, derive_answers(&events));
        leaves.push(model::observation_leaf(&doc));
        let mut photos = BTreeSet::new();
        for e in &m.evidence {
            photos.insert(e.sha256.clone());
        }
        for p in photos {
            leaves.push(model::file_leaf("photo", &p));
        }
        if let Some(s) = &m.signature_image {
            leaves.push(model::file_leaf("signature", &s.sha256));
        }
        let obs = match observation::parse(&format!("{}'s bundle", a.name), &doc.to_string(), &r) {
            Ok(o) => o,
            Err(e) => {
                v.fail(format!("{}'s observations do not parse: {e}", a.name));
                continue;
            }
        };
        let sheet = score(&r, &obs);
        let mut differences = 0;
        for item in &sheet.items {
            let got = item.points.map(fmt).unwrap_or_default();
            let claimed = a.scores.get(&item.id).cloned().unwrap_or_default();
            if got != claimed {
                differences += 1;
                v.fail(format!(
                    "{} · {} {}: the report says {}, the bundle's observations give {}",
                    a.name,
                    item.id,
                    item.name,
                    if claimed.is_empty() { "—" } else { &claimed },
                    if got.is_empty() { "—" } else { &got }
                ));
            }
        }
        let total = fmt(sheet.total);
        if total != a.total {
            v.fail(format!("{}: total in the report {}, recomputed {total}", a.name, a.total));
        } else if differences == 0 {
            v.pass(format!("{}: all {} items and the total {total} recomputed from the bundle match", a.name, sheet.items.len()));
        }
        sheets.push(sheet);
        rubric.get_or_insert(r);
    }
    if let Some(r) = rubric {
        if sheets.len() == side.assessors.len() {
            match aggregate(&r, &sheets) {
                Ok(panel) => {
                    let fs = panel.final_score.map(fmt);
                    if fs == side.final_score && panel.conclusion.text() == side.conclusion {
                        v.pass(format!("final score {} and conclusion recomputed: {}", fs.as_deref().unwrap_or("—"), side.conclusion));
                    } else {
                        v.fail(format!(
                            "final result recomputed as {} ({}), the report says {} ({})",
                            fs.as_deref().unwrap_or("—"),
                            panel.conclusion.text(),
                            side.final_score.as_deref().unwrap_or("—"),
                            side.conclusion
                        ));
                    }
                }
                Err(e) => v.fail(format!("cannot aggregate the bundles: {e}")),
            }
        }
    }
    let root = model::merkle_root(leaves);
    if root == side.merkle_root {
        v.pass(format!("evidence Merkle root {}… recomputed from {} bundles", &root[..16], files.len()));
    } else {
        v.fail(format!(
            "evidence Merkle root recomputed as {}…, the report says {}…: observations, photos or signatures differ",
            &root[..16],
            &side.merkle_root.get(..16).unwrap_or("")
        ));
    }
    Ok(())
}
