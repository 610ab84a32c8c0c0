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

use chrono::{DateTime, SecondsFormat, Utc};
use hallmark_trust::certificate::Role;
use hallmark_trust::{CertInfo, TrustError, TrustStore, Trusted};
use rustls_pki_types::CertificateDer;

use crate::model::{self, Report};
use crate::ReportError;
use hallmark_core::hex::{hex, unhex};

/// The sidecar versions, each readable forever:
///
/// | format | introduced by | what |
/// |--------|---------------|------|
/// | `hallmark-report-signature/1` | #5 signed evaluation report | PDF hash and signature, rubric, Merkle root (pairs, no domain separation), final score, conclusion, dates, every assessor's points, statement signature |
/// | `hallmark-report-signature/2` | #10 trust chain | v1's fields, the signer's certificate chain, the signing time the lead's device claims, the Merkle tree named (`rfc6962-sha256`), and every bundle with when the lead first saw it |
/// | `hallmark-report-signature/3` | #13 report life cycle | v2's fields, `supersedes` (the report a corrected one, 更正, replaces, with the reason) and `previous` (the report a re-evaluation, 复评, follows) |
///
/// A new field is a new version (`SidecarV3`), read by [`read_sidecar`] and listed here and in
/// docs/report.md.
pub const FORMAT_V1: &str = "hallmark-report-signature/1";
pub const FORMAT_V2: &str = "hallmark-report-signature/2";
pub const FORMAT_V3: &str = "hallmark-report-signature/3";
/// The version this hallmark writes.
pub const FORMAT: &str = FORMAT_V3;

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

/// Sidecar version 2 (issue #10). Do not modify: v1's fields, plus who signed (the lead
/// device's certificate chain), when (the lead device's clock: its claim, which `verify
/// --trust` checks the chain at) and which Merkle tree the root is of. The statement signature
/// covers all of it, as in v1.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SidecarV2 {
    pub format: String,
    pub report_number: String,
    pub pdf_sha256: String,
    pub pdf_size: u64,
    pub signer_public_key: String,
    pub signer_fingerprint: String,
    /// The lead device's certificate and the CAs above it (PEM blocks, leaf first, root
    /// excluded); empty when the device is not enrolled.
    pub signer_certificates: Vec<String>,
    /// When the report was signed, RFC 3339 UTC, by the signing device's clock.
    pub signed_at: String,
    /// Ed25519 over the PDF's bytes, hex.
    pub pdf_signature: String,
    pub rubric: RubricRef,
    /// The Merkle tree `merkle_root` is of: `rfc6962-sha256` (docs/report.md).
    pub merkle: String,
    pub merkle_root: String,
    pub final_score: Option<String>,
    pub conclusion: String,
    pub issued_on: String,
    pub valid_until: Option<String>,
    pub assessors: Vec<AssessorScores>,
    /// Every bundle the report was made from, with when the lead's store first saw it: the
    /// trusted time `verify --trust --bundles` checks that bundle's certificate at, as the
    /// import did (a revocation after it does not undo it).
    pub bundles: Vec<BundleSeenV2>,
    /// Ed25519 over this record with `signature` empty (compact JSON), hex.
    pub signature: String,
}

/// Sidecar version 3 (issue #13): v2's fields, `supersedes`, the report a corrected one
/// (更正) replaces (`null` for a first issue), and `previous`, the report a re-evaluation
/// (复评) follows and compares with (`null` for a first evaluation). Do not modify.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SidecarV3 {
    pub format: String,
    pub report_number: String,
    pub pdf_sha256: String,
    pub pdf_size: u64,
    pub signer_public_key: String,
    pub signer_fingerprint: String,
    pub signer_certificates: Vec<String>,
    pub signed_at: String,
    pub pdf_signature: String,
    pub rubric: RubricRef,
    pub merkle: String,
    pub merkle_root: String,
    pub final_score: Option<String>,
    pub conclusion: String,
    pub issued_on: String,
    pub valid_until: Option<String>,
    pub assessors: Vec<AssessorScores>,
    pub bundles: Vec<BundleSeenV2>,
    /// The report this one corrects and replaces; `None` for a first issue.
    pub supersedes: Option<SupersedesV3>,
    /// The report this re-evaluation follows; `None` for a first evaluation.
    pub previous: Option<PreviousV3>,
    pub signature: String,
}

/// The report a re-evaluation follows (issue #13). Do not modify.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PreviousV3 {
    pub report_number: String,
    pub pdf_sha256: String,
}

/// The report a corrected one replaces (issue #13). Do not modify.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SupersedesV3 {
    pub report_number: String,
    pub pdf_sha256: String,
    /// Why it was corrected (the lead's words, also on the new report's cover).
    pub reason: String,
}

/// One bundle a v2 report was made from (issue #10). Do not modify.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BundleSeenV2 {
    pub inspection_id: String,
    /// SHA-256 of the bundle's manifest: its identity.
    pub bundle_id: String,
    /// When the lead's store imported it, RFC 3339 UTC (the lead's clock).
    pub seen_at: String,
}

/// The rubric a report was scored by (sidecar v1 and v2). Do not modify.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RubricRef {
    pub id: String,
    pub version: String,
    pub sha256: String,
}

/// One assessor's points as the report claims them (sidecar v1 and v2). Do not modify.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AssessorScores {
    pub name: String,
    pub inspection_id: String,
    pub total: String,
    pub scores: BTreeMap<String, String>,
}

/// A sidecar as read: each version as it was written, since the statement signature covers
/// that version's own JSON.
#[derive(Debug, Clone, PartialEq)]
pub enum Sidecar {
    V1(SidecarV1),
    V2(SidecarV2),
    V3(SidecarV3),
}

/// Accessors for the fields every version has.
macro_rules! shared {
    ($($field:ident: $t:ty),* $(,)?) => {
        impl Sidecar {
            $(pub fn $field(&self) -> &$t {
                match self {
                    Sidecar::V1(s) => &s.$field,
                    Sidecar::V2(s) => &s.$field,
                    Sidecar::V3(s) => &s.$field,
                }
            })*
        }
    };
}
shared!(
    format: String,
    report_number: String,
    pdf_sha256: String,
    pdf_size: u64,
    signer_public_key: String,
    signer_fingerprint: String,
    pdf_signature: String,
    rubric: RubricRef,
    merkle_root: String,
    final_score: Option<String>,
    conclusion: String,
    issued_on: String,
    valid_until: Option<String>,
    assessors: Vec<AssessorScores>,
    signature: String,
);

impl Sidecar {
    /// What the statement signature covers: the version's compact JSON with `signature` empty.
    fn statement(&self) -> Vec<u8> {
        match self {
            Sidecar::V1(s) => serde_json::to_vec(&SidecarV1 { signature: String::new(), ..s.clone() }),
            Sidecar::V2(s) => serde_json::to_vec(&SidecarV2 { signature: String::new(), ..s.clone() }),
            Sidecar::V3(s) => serde_json::to_vec(&SidecarV3 { signature: String::new(), ..s.clone() }),
        }
        .expect("sidecar serializes")
    }

    /// The root `verify --bundles` recomputes, the way this version computed it.
    fn merkle_root_of(&self, leaves: Vec<[u8; 32]>) -> Result<String, String> {
        match self {
            Sidecar::V1(_) => Ok(model::merkle_root(leaves)),
            Sidecar::V2(SidecarV2 { merkle, .. }) | Sidecar::V3(SidecarV3 { merkle, .. }) if merkle == model::MERKLE_SCHEME => {
                Ok(model::merkle_root_rfc6962(leaves))
            }
            Sidecar::V2(SidecarV2 { merkle, .. }) | Sidecar::V3(SidecarV3 { merkle, .. }) => {
                Err(format!("the sidecar names Merkle tree '{merkle}', which this hallmark does not know (update hallmark)"))
            }
        }
    }

    /// What v2 added (the signing time, the signer's chain, the bundles seen); `None` for v1.
    pub fn certified(&self) -> Option<Certified<'_>> {
        match self {
            Sidecar::V1(_) => None,
            Sidecar::V2(s) => Some(Certified { signed_at: &s.signed_at, signer_certificates: &s.signer_certificates, bundles: &s.bundles }),
            Sidecar::V3(s) => Some(Certified { signed_at: &s.signed_at, signer_certificates: &s.signer_certificates, bundles: &s.bundles }),
        }
    }

    /// The report a re-evaluation follows (v3).
    pub fn previous(&self) -> Option<&PreviousV3> {
        match self {
            Sidecar::V3(s) => s.previous.as_ref(),
            _ => None,
        }
    }

    /// The report a corrected one replaces (v3).
    pub fn supersedes(&self) -> Option<&SupersedesV3> {
        match self {
            Sidecar::V3(s) => s.supersedes.as_ref(),
            _ => None,
        }
    }
}

/// The fields v2 and later carry.
pub struct Certified<'a> {
    pub signed_at: &'a String,
    pub signer_certificates: &'a Vec<String>,
    pub bundles: &'a Vec<BundleSeenV2>,
}

/// The sidecar's path for a PDF: `FILE.pdf.sig.json`.
pub fn sidecar_path(pdf: &Path) -> PathBuf {
    let mut p = pdf.as_os_str().to_owned();
    p.push(".sig.json");
    PathBuf::from(p)
}

/// Signs the PDF and the report's claims with the lead's key, at `signed_at` (the lead
/// device's clock). The report carries the device's certificate chain (none: unenrolled).
pub fn seal(report: &Report, pdf: &[u8], key: &DeviceKey, signed_at: DateTime<Utc>) -> SidecarV3 {
    let mut s = SidecarV3 {
        format: FORMAT_V3.into(),
        report_number: report.number.clone(),
        pdf_sha256: hex(&Sha256::digest(pdf)),
        pdf_size: pdf.len() as u64,
        signer_public_key: key.public_key_hex(),
        signer_fingerprint: key.fingerprint(),
        signer_certificates: report.signer_certificates.clone(),
        signed_at: stamp(signed_at),
        pdf_signature: hex(&key.sign(pdf)),
        rubric: RubricRef { id: report.rubric_id.clone(), version: report.rubric_version.clone(), sha256: report.rubric_hash.clone() },
        merkle: model::MERKLE_SCHEME.into(),
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
        bundles: report
            .bundles_seen
            .iter()
            .map(|b| BundleSeenV2 { inspection_id: b.inspection_id.clone(), bundle_id: b.bundle_id.clone(), seen_at: b.seen_at.clone() })
            .collect(),
        supersedes: report.correction.as_ref().map(|c| SupersedesV3 {
            report_number: c.supersedes_number.clone(),
            pdf_sha256: c.supersedes_sha256.clone(),
            reason: c.reason.clone(),
        }),
        previous: report.previous.as_ref().map(|p| PreviousV3 { report_number: p.report_number.clone(), pdf_sha256: p.pdf_sha256.clone() }),
        signature: String::new(),
    };
    s.signature = hex(&key.sign(&Sidecar::V3(s.clone()).statement()));
    s
}

fn stamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// Writes the PDF and its sidecar, each to a temp file that is then renamed.
/// The PDF and its sidecar appear together or not at all: both are written and fsynced before
/// either is renamed into place, and the sidecar is renamed first.
pub fn write(pdf_path: &Path, pdf: &[u8], sidecar: &SidecarV3) -> Result<(), ReportError> {
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
    /// The signer's chain as it checked out ([`verify_trusted`] only).
    pub signer: Option<Trusted>,
    /// The signer was checked the weaker, pre-certificate way: a sidecar v1 with the
    /// certificate passed beside it (`--signer-cert`).
    pub pre_certificate: bool,
    /// Whether who signed was asked ([`verify_trusted`]) or only whether the files are intact.
    pub trust_asked: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct Check {
    pub ok: bool,
    pub what: String,
    /// Not a check but something weaker than it should be, spelled out (e.g. a revocation after
    /// the signing time); `ok` is true.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub note: bool,
}

impl Verification {
    fn new(trust_asked: bool) -> Verification {
        Verification { ok: true, checks: Vec::new(), signer: None, pre_certificate: false, trust_asked }
    }
    fn pass(&mut self, what: impl Into<String>) {
        self.checks.push(Check { ok: true, what: what.into(), note: false });
    }
    fn fail(&mut self, what: impl Into<String>) {
        self.ok = false;
        self.checks.push(Check { ok: false, what: what.into(), note: false });
    }
    fn note(&mut self, what: impl Into<String>) {
        self.checks.push(Check { ok: true, what: what.into(), note: true });
    }

    /// What failed, one check after another ("; "): for a refusal that names why.
    pub fn failures(&self) -> String {
        self.checks.iter().filter(|c| !c.ok).map(|c| c.what.as_str()).collect::<Vec<_>>().join("; ")
    }

    pub fn text(&self) -> String {
        let mut o = String::new();
        for c in &self.checks {
            o.push_str(match (c.ok, c.note) {
                (_, true) => "note  ",
                (true, false) => "ok    ",
                (false, false) => "FAIL  ",
            });
            o.push_str(&c.what);
            o.push('\n');
        }
        o.push_str(&match (&self.signer, self.ok) {
            (_, false) => "NOT verified: see FAIL lines".to_string(),
            (Some(t), true) if self.pre_certificate => {
                format!(
                    "verified: the report is intact, and its key is certified to {} (the weaker, pre-certificate result: see above)",
                    signer_name(&t.signer)
                )
            }
            (Some(t), true) => format!("verified: the report is intact and signed by {}, a lead the bureau certifies", signer_name(&t.signer)),
            (None, true) => "verified: the report is intact".to_string(),
        });
        o.push('\n');
        o
    }
}

/// "张伟 (沈阳市医疗保障局)".
fn signer_name(c: &CertInfo) -> String {
    if c.unit.is_empty() {
        c.name.clone()
    } else {
        format!("{} ({})", c.name, c.unit)
    }
}

/// Reads a sidecar of any version this hallmark knows.
pub fn read_sidecar(bytes: &[u8]) -> Result<Sidecar, String> {
    let value: serde_json::Value = serde_json::from_slice(bytes).map_err(|e| format!("not a hallmark report signature: {e}"))?;
    let bad = |e: serde_json::Error| format!("not a hallmark report signature: {e}");
    match value.get("format").and_then(serde_json::Value::as_str) {
        Some(FORMAT_V1) => serde_json::from_value::<SidecarV1>(value).map(Sidecar::V1).map_err(bad),
        Some(FORMAT_V2) => serde_json::from_value::<SidecarV2>(value).map(Sidecar::V2).map_err(bad),
        Some(FORMAT_V3) => serde_json::from_value::<SidecarV3>(value).map(Sidecar::V3).map_err(bad),
        Some(other) => {
            Err(format!("sidecar format '{other}' is unknown (this hallmark reads {FORMAT_V1}, {FORMAT_V2} and {FORMAT_V3}): update hallmark"))
        }
        None => Err("not a hallmark report signature: no \"format\"".into()),
    }
}

/// What [`verify_trusted`] trusts, and this computer's time.
#[derive(Debug, Clone)]
pub struct Trust {
    /// The bureau roots and revocation lists.
    pub store: TrustStore,
    /// For a report sealed before certificates (sidecar v1): the lead device's certificate
    /// (and the CAs above it), with the file it came from (`--signer-cert`).
    pub signer_cert: Option<(String, Vec<CertificateDer<'static>>)>,
    /// This computer's clock: whether a CRL is out of date; the latest time a v1 report's
    /// certificate is checked at.
    pub now: DateTime<Utc>,
}

/// Where the trust comes from: `--trust`, `--crl`, `--signer-cert`, or a folder
/// (`$HALLMARK_TRUST`) used when no root is named.
#[derive(Debug, Clone, Copy, Default)]
pub struct TrustFiles<'a> {
    pub roots: &'a [PathBuf],
    pub crls: &'a [PathBuf],
    pub signer_cert: Option<&'a Path>,
    /// A folder of `.pem` files: roots, and revocation lists (`*.crl.pem`, or any file holding
    /// an X509 CRL block). Read only when `roots` is empty.
    pub folder: Option<&'a Path>,
}

fn read_input(p: &Path) -> Result<Vec<u8>, ReportError> {
    std::fs::read(p).map_err(|e| ReportError::Input(format!("{}: cannot read: {e} (check the path)", p.display())))
}

fn trust_error(e: hallmark_trust::TrustError) -> ReportError {
    ReportError::Input(e.to_string())
}

impl Trust {
    /// Reads the roots, CRLs and signer certificate. A file that is not what its option asks
    /// (a CRL passed as a root, a certificate as a CRL, a truncated PEM) is refused by name.
    pub fn load(files: &TrustFiles<'_>, now: DateTime<Utc>) -> Result<Trust, ReportError> {
        let mut store = TrustStore::new();
        let mut roots: Vec<PathBuf> = files.roots.to_vec();
        let mut crls: Vec<PathBuf> = files.crls.to_vec();
        if roots.is_empty() {
            if let Some(dir) = files.folder {
                let listed = std::fs::read_dir(dir).map_err(|e| {
                    ReportError::Input(format!(
                        "{}: cannot list the trust folder ($HALLMARK_TRUST): {e} (set it to the folder holding the bureau's root.pem)",
                        dir.display()
                    ))
                })?;
                let mut pems: Vec<PathBuf> = listed.flatten().map(|e| e.path()).filter(|p| p.extension().is_some_and(|x| x == "pem")).collect();
                pems.sort();
                for p in pems {
                    let is_crl = p.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.ends_with(".crl.pem"))
                        || std::fs::read(&p).is_ok_and(|b| b.windows(24).any(|w| w == b"-----BEGIN X509 CRL-----"));
                    if is_crl {
                        crls.push(p);
                    } else {
                        roots.push(p);
                    }
                }
            }
        }
        for p in &roots {
            store.add_roots_pem(&p.display().to_string(), &read_input(p)?).map_err(trust_error)?;
        }
        for p in &crls {
            store.add_crl_pem(&p.display().to_string(), &read_input(p)?).map_err(trust_error)?;
        }
        let signer_cert = match files.signer_cert {
            Some(p) => {
                let file = p.display().to_string();
                let chain = hallmark_trust::certificate::read_pem(&file, &read_input(p)?).map_err(trust_error)?;
                Some((file, chain))
            }
            None => None,
        };
        Ok(Trust { store, signer_cert, now })
    }
}

/// Checks a report PDF against its sidecar — the PDF's hash, its signature and the sidecar's
/// signature — and with `bundles` recomputes from the raw bundles. Says whether the files are
/// intact, not who signed them: [`verify_trusted`] asks that too.
pub fn verify(pdf_path: &Path, bundles: Option<&Path>) -> Result<Verification, ReportError> {
    check(pdf_path, bundles, None).map(|(v, _)| v)
}

/// [`verify`], and the signer: the sidecar's certificate chain must lead to a trusted root
/// with the role lead at the signing time the report claims (sidecar v2); a v1 report passes
/// only with `--signer-cert`, the weaker result. With `bundles`, every bundle's chain is
/// checked too (role assessor, at the same time). `ok` only when all of it checks out.
pub fn verify_trusted(pdf_path: &Path, bundles: Option<&Path>, trust: &Trust) -> Result<Verification, ReportError> {
    check(pdf_path, bundles, Some(trust)).map(|(v, _)| v)
}

/// What `verify --bundles` recomputed from the bundles: the records a province keeps of a
/// verified report (issue #12) are these, never the sidecar's claims.
#[derive(Debug, Clone)]
pub struct Recomputed {
    pub sidecar: Sidecar,
    pub rubric: Rubric,
    pub panel: hallmark_core::aggregate::Panel,
    /// One per assessor, in the report's order.
    pub sheets: Vec<RecomputedSheet>,
}

/// One assessor's inspection as the bundles hold it.
#[derive(Debug, Clone)]
pub struct RecomputedSheet {
    /// The newest manifest of the inspection (its events are the union over its bundles).
    pub manifest: Manifest,
    pub events: Vec<Event>,
    pub sheet: hallmark_core::score::ScoreSheet,
    /// The bundle files in `bundles` that hold this inspection.
    pub files: Vec<PathBuf>,
}

/// [`verify_trusted`] with the bundles, and what it recomputed from them when every check
/// passed (`None` otherwise: a report that does not verify yields no records).
pub fn verify_recomputed(pdf_path: &Path, bundles: &Path, trust: &Trust) -> Result<(Verification, Option<Recomputed>), ReportError> {
    let (v, r) = check(pdf_path, Some(bundles), Some(trust))?;
    let r = if v.ok { r } else { None };
    Ok((v, r))
}

fn check(pdf_path: &Path, bundles: Option<&Path>, trust: Option<&Trust>) -> Result<(Verification, Option<Recomputed>), ReportError> {
    let pdf = std::fs::read(pdf_path).map_err(|e| ReportError::Input(format!("{}: cannot read: {e} (check the path)", pdf_path.display())))?;
    let side_path = sidecar_path(pdf_path);
    let side_text = std::fs::read(&side_path).map_err(|e| {
        ReportError::Input(format!(
            "{}: cannot read the signature sidecar: {e} (it is written beside the PDF; copy both files together. A draft report, 草稿, has none: it is not signed)",
            side_path.display()
        ))
    })?;
    let side = read_sidecar(&side_text).map_err(|e| ReportError::Input(format!("{}: {e}", side_path.display())))?;
    let mut v = Verification::new(trust.is_some());
    let key = unhex(side.signer_public_key()).unwrap_or_default();
    let digest = hex(&Sha256::digest(&pdf));
    if digest == *side.pdf_sha256() && pdf.len() as u64 == *side.pdf_size() {
        v.pass(format!("PDF SHA-256 {}… matches the sidecar", &digest[..16]));
    } else {
        v.fail(format!(
            "PDF SHA-256 {}… ({} bytes) differs from the signed {}… ({} bytes): the PDF was changed",
            &digest[..16],
            pdf.len(),
            &side.pdf_sha256().get(..16).unwrap_or(""),
            side.pdf_size()
        ));
    }
    let pdf_signed = identity::verify(&key, &pdf, &unhex(side.pdf_signature()).unwrap_or_default());
    if pdf_signed {
        v.pass(format!("Ed25519 signature of the PDF by {} verifies", identity::fingerprint_of(&key)));
    } else {
        v.fail(format!("the PDF's Ed25519 signature by {} does not verify: the PDF or the signature was changed", side.signer_fingerprint()));
    }
    let claims_signed = identity::verify(&key, &side.statement(), &unhex(side.signature()).unwrap_or_default());
    if claims_signed {
        v.pass(format!(
            "sidecar claims are signed: report {}, final score {}, Merkle root {}…",
            side.report_number(),
            side.final_score().as_deref().unwrap_or("—"),
            &side.merkle_root().get(..16).unwrap_or("")
        ));
    } else {
        v.fail("the sidecar's own signature does not verify: its scores, root or conclusion were changed");
    }
    let at = trust.and_then(|t| check_signer(&side, &key, t, pdf_signed && claims_signed, &mut v));
    if let Some(p) = side.previous() {
        v.note(format!(
            "a re-evaluation: it compares with the previous report {} (PDF sha256 {}…)",
            p.report_number,
            p.pdf_sha256.get(..16).unwrap_or("")
        ));
    }
    if let Some(old) = side.supersedes() {
        v.note(format!(
            "this report corrects and replaces report {} (PDF sha256 {}…): \"{}\"",
            old.report_number,
            old.pdf_sha256.get(..16).unwrap_or(""),
            old.reason
        ));
    }
    // 撤销 / 更正 (issue #13): the signer's own statement beside the PDF.
    use crate::lifecycle::{status_path, Found, Status};
    match crate::lifecycle::find(pdf_path, &side) {
        Found::None => {}
        Found::Status(s) if s.status == Status::Withdrawn => v.fail(format!(
            "the report was WITHDRAWN by its signer {} at {}: \"{}\" (statement {}); it no longer stands as an evaluation result",
            s.signer_fingerprint,
            s.at,
            s.reason,
            status_path(pdf_path).display()
        )),
        Found::Status(s) => v.note(format!(
            "SUPERSEDED: its signer corrected it at {} by report {} (PDF sha256 {}…): \"{}\"; this one is kept as it was, verify the new one for the result",
            s.at,
            s.superseded_by.as_ref().map(|r| r.report_number.as_str()).unwrap_or(""),
            s.superseded_by.as_ref().and_then(|r| r.pdf_sha256.get(..16)).unwrap_or(""),
            s.reason
        )),
        Found::Invalid(why) => {
            v.note(format!("{} lies beside the report but is not a valid statement about it ({why}): ignored", status_path(pdf_path).display()))
        }
    }
    let mut recomputed = None;
    if let Some(dir) = bundles {
        let floor = v.signer.as_ref().map(|t| t.signer.not_before);
        let chains = trust.map(|t| BundleTrust { trust: t, at, floor, pre_certificate: matches!(side, Sidecar::V1(_)) });
        recomputed = recompute(&side, dir, chains.as_ref(), &mut v)?;
    }
    Ok((v, recomputed))
}

fn parse_time(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s).ok().map(|t| t.with_timezone(&Utc))
}

fn parse_chain(pems: &[String]) -> Result<Vec<CertificateDer<'static>>, String> {
    hallmark_trust::certificate::read_chain("a certificate in the sidecar", pems).map_err(|e| e.to_string())
}

/// Who signed, checked against the trust: returns the trusted time the bundles are checked at
/// (the signing time a v2 report claims; for v1, the time its certificate was checked at).
fn check_signer(side: &Sidecar, key: &[u8], trust: &Trust, signatures_valid: bool, v: &mut Verification) -> Option<DateTime<Utc>> {
    let fp = identity::fingerprint_of(key);
    let no_roots = (!trust.store.has_roots()).then(|| {
        let lead = if signatures_valid {
            "signature valid, but the signer is not trusted: pass --trust"
        } else {
            "the signer is not trusted either: pass --trust"
        };
        format!("{lead} ROOT.pem (the bureau's root certificate), or set $HALLMARK_TRUST to a folder holding it; signer key {fp}")
    });
    match side.certified() {
        Some(s) => {
            let Some(at) = parse_time(s.signed_at) else {
                v.fail(format!("the sidecar's signing time '{}' is not an RFC 3339 time: the sidecar is damaged", s.signed_at));
                return None;
            };
            if trust.signer_cert.is_some() {
                v.note("--signer-cert was not used: this report's sidecar (v2) carries the signer's certificate chain");
            }
            if at > trust.now + chrono::Duration::minutes(5) {
                v.note(format!(
                    "the report claims to be signed at {}, later than this computer's clock ({}): one of the two clocks is wrong",
                    stamp(at),
                    stamp(trust.now)
                ));
            }
            if s.signer_certificates.is_empty() {
                if let Some(line) = no_roots {
                    v.fail(line);
                }
                v.fail(format!(
                    "signed by key {fp}: the signer's device is not enrolled (the sidecar carries no certificate), so no bureau vouches for it: enroll the lead's device (`hallmark enroll`) and make the report again"
                ));
                return Some(at);
            }
            match parse_chain(s.signer_certificates) {
                Ok(chain) => signer_chain(&chain, key, trust, at, None, no_roots, v),
                Err(e) => v.fail(format!("the signer's certificate chain in the sidecar is damaged: {e}")),
            }
            Some(at)
        }
        None => {
            let Some((file, chain)) = &trust.signer_cert else {
                if let Some(line) = no_roots {
                    v.fail(line);
                }
                v.fail(format!(
                    "signed by key {fp}, which no certificate binds: pass --signer-cert CERT.pem (the lead device's certificate) with --trust ROOT.pem; this report was sealed before certificates (sidecar v1)"
                ));
                return None;
            };
            let leaf = match hallmark_trust::certificate::info(file, &chain[0]) {
                Ok(l) => l,
                Err(e) => {
                    v.fail(e.to_string());
                    return None;
                }
            };
            // A v1 sidecar carries no signing time: the certificate is checked at the latest
            // time it is valid (now, or its expiry), so a revocation at any time before that
            // fails.
            let at = trust.now.min(leaf.not_after);
            v.pre_certificate = true;
            let how = format!(
                "{file}, checked at {} — the weaker, pre-certificate result: this report (sidecar v1) was sealed before certificates and carries no signing time, so the certificate vouches for the key, not for this report's date",
                stamp(at)
            );
            signer_chain(chain, key, trust, at, Some(&how), no_roots, v);
            Some(at)
        }
    }
}

/// The signer's chain: it certifies the key that signed, and leads to a trusted root with the
/// role lead at `at`.
fn signer_chain(
    chain: &[CertificateDer<'_>],
    key: &[u8],
    trust: &Trust,
    at: DateTime<Utc>,
    weaker: Option<&str>,
    no_roots: Option<String>,
    v: &mut Verification,
) {
    let fp = identity::fingerprint_of(key);
    let leaf = match hallmark_trust::certificate::info("the signer's certificate", &chain[0]) {
        Ok(l) => l,
        Err(e) => return v.fail(e.to_string()),
    };
    if leaf.public_key != key {
        return v.fail(format!(
            "the report is signed by key {fp}, which is not the key its certificate binds: {}",
            TrustError::KeyMismatch { name: leaf.name, cert_key: leaf.fingerprint, signer_key: fp.clone() }
        ));
    }
    if let Some(line) = no_roots {
        return v.fail(format!("{line} (its certificate names '{}', which nothing here confirms)", signer_name(&leaf)));
    }
    match trust.store.check(chain, Role::Lead, at, trust.now) {
        Ok(t) => {
            let when = match weaker {
                Some(how) => how.to_string(),
                None => format!("at {}, the signing time the report claims", stamp(at)),
            };
            v.pass(format!("signer {}, role lead, key {fp}: {} ({when})", signer_name(&t.signer), t.path.join(" ← ")));
            for n in &t.notes {
                v.note(n.clone());
            }
            v.signer = Some(t);
        }
        Err(e) => v.fail(format!("the signer (key {fp}) is not trusted: {e}")),
    }
}

/// How `verify --bundles` checks the bundles' chains under [`verify_trusted`].
struct BundleTrust<'a> {
    trust: &'a Trust,
    /// The report's trusted time (None: it could not be told, the bundles are not checked).
    at: Option<DateTime<Utc>>,
    /// The earliest time a bundle is checked at: the start of the lead's certificate. The times
    /// a v2 sidecar says the lead first saw its bundles are the lead's claim; a lead cannot
    /// vouch for a time before the bureau vouched for the lead.
    floor: Option<DateTime<Utc>>,
    /// A v1 report: its bundles predate certificates too, so an unenrolled one is noted, not failed.
    pre_certificate: bool,
}

/// Recomputes every score and the Merkle root from the bundles in `dir`.
fn recompute(side: &Sidecar, dir: &Path, chains: Option<&BundleTrust<'_>>, v: &mut Verification) -> Result<Option<Recomputed>, ReportError> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| ReportError::Input(format!("{}: cannot list: {e}", dir.display())))?
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == EXTENSION))
        .collect();
    files.sort();
    // Union of each inspection's events across its bundles (as an import would do).
    let mut by_inspection: BTreeMap<String, (Manifest, BTreeMap<String, Event>)> = BTreeMap::new();
    let mut files_of: BTreeMap<String, Vec<PathBuf>> = BTreeMap::new();
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
        let in_report = side.assessors().iter().any(|a| a.inspection_id == opened.manifest.inspection.id);
        if !in_report {
            continue;
        }
        let bundle_id = opened.bundle_id.clone();
        let manifest = match opened.verify_files(&mut Discard, &mut |_, _| {}) {
            Ok(verified) => verified.manifest,
            Err(e) => {
                v.fail(e.to_string());
                continue;
            }
        };
        if let Some(chains) = chains {
            bundle_chain(&manifest, &bundle_id, f, side, chains, v);
        }
        files_of.entry(manifest.inspection.id.clone()).or_default().push(f.clone());
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
    let mut kept = Vec::new();
    let mut leaves = Vec::new();
    let mut rubric: Option<Rubric> = None;
    for a in side.assessors() {
        let Some((m, events)) = by_inspection.get(&a.inspection_id) else {
            v.fail(format!("no bundle in {} for assessor {} (inspection {})", dir.display(), a.name, a.inspection_id));
            continue;
        };
        if m.rubric.sha256 != side.rubric().sha256 {
            v.fail(format!(
                "{}'s bundle uses rubric {}… but the report {}…",
                a.name,
                m.rubric.sha256.get(..12).unwrap_or(""),
                side.rubric().sha256.get(..12).unwrap_or("")
            ));
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
        kept.push(RecomputedSheet {
            manifest: m.clone(),
            events: events.clone(),
            sheet: sheet.clone(),
            files: files_of.get(&a.inspection_id).cloned().unwrap_or_default(),
        });
        sheets.push(sheet);
        rubric.get_or_insert(r);
    }
    let mut recomputed = None;
    if let Some(r) = rubric {
        if sheets.len() == side.assessors().len() {
            match aggregate(&r, &sheets) {
                Ok(panel) => {
                    recomputed =
                        Some(Recomputed { sidecar: side.clone(), rubric: r.clone(), panel: panel.clone(), sheets: std::mem::take(&mut kept) });
                    let fs = panel.final_score.map(fmt);
                    if fs == *side.final_score() && panel.conclusion.text() == side.conclusion() {
                        v.pass(format!("final score {} and conclusion recomputed: {}", fs.as_deref().unwrap_or("—"), side.conclusion()));
                    } else {
                        v.fail(format!(
                            "final result recomputed as {} ({}), the report says {} ({})",
                            fs.as_deref().unwrap_or("—"),
                            panel.conclusion.text(),
                            side.final_score().as_deref().unwrap_or("—"),
                            side.conclusion()
                        ));
                    }
                }
                Err(e) => v.fail(format!("cannot aggregate the bundles: {e}")),
            }
        }
    }
    let root = match side.merkle_root_of(leaves) {
        Ok(r) => r,
        Err(e) => {
            v.fail(e);
            return Ok(None);
        }
    };
    if root == *side.merkle_root() {
        v.pass(format!("evidence Merkle root {}… recomputed from {} bundles", &root[..16], files.len()));
    } else {
        v.fail(format!(
            "evidence Merkle root recomputed as {}…, the report says {}…: observations, photos or signatures differ",
            &root[..16],
            &side.merkle_root().get(..16).unwrap_or("")
        ));
    }
    Ok(recomputed)
}

/// One bundle's signer: its chain (bundle v2's `device.certificates`) leads to a trusted root
/// with the role assessor at the report's trusted time, and certifies the key that signed it
/// and the name it records. An unenrolled bundle fails under a v2 report (the report claims
/// what the bundle cannot show: who recorded it) and is noted under a v1 report (sealed before
/// certificates, as its bundles were).
fn bundle_chain(manifest: &Manifest, bundle_id: &str, file: &Path, side: &Sidecar, chains: &BundleTrust<'_>, v: &mut Verification) {
    let name = &manifest.inspection.assessor_name;
    let file = file.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let key = unhex(&manifest.device.public_key).unwrap_or_default();
    let fp = identity::fingerprint_of(&key);
    let pems = bundle_certificates(manifest);
    if pems.is_empty() {
        let what = format!("{name}'s bundle {file} (key {fp}): the assessor's device is not enrolled (the bundle carries no certificate)");
        if chains.pre_certificate {
            v.note(format!("{what}; like this report (sidecar v1) it predates certificates — the weaker, pre-certificate result"));
        } else {
            v.fail(format!(
                "{what}, so no bureau vouches for who recorded it: the report claims more than the bundle can show (enroll the tablet and export the bundle again)"
            ));
        }
        return;
    }
    let Some(signed_at) = chains.at else {
        return v.fail(format!("{name}'s bundle {file}: its certificate is not checked, since the report's signing time is not known"));
    };
    // When the lead first saw this bundle (sidecar v2 lists it), never after the signing.
    let seen = side.certified().and_then(|s| s.bundles.iter().find(|b| b.bundle_id == bundle_id).and_then(|b| parse_time(&b.seen_at)));
    let at = seen.map_or(signed_at, |t| t.min(signed_at));
    let at = chains.floor.map_or(at, |f| at.max(f.min(signed_at)));
    let chain = match parse_chain(&pems) {
        Ok(c) => c,
        Err(e) => return v.fail(format!("{name}'s bundle {file}: its certificate chain is damaged: {e}")),
    };
    let leaf = match hallmark_trust::certificate::info("the bundle's certificate", &chain[0]) {
        Ok(l) => l,
        Err(e) => return v.fail(format!("{name}'s bundle {file}: {e}")),
    };
    if leaf.public_key != key {
        let e = TrustError::KeyMismatch { name: leaf.name, cert_key: leaf.fingerprint, signer_key: fp };
        return v.fail(format!("{name}'s bundle {file}: {e}"));
    }
    if !chains.trust.store.has_roots() {
        return v.fail(format!(
            "{name}'s bundle {file}: its certificate names '{}', which nothing here confirms: pass --trust ROOT.pem",
            signer_name(&leaf)
        ));
    }
    match chains.trust.store.check(&chain, Role::Assessor, at, chains.trust.now) {
        Ok(t) if t.signer.name.trim() != name.trim() => v.fail(format!(
            "{name}'s bundle {file}: the bundle names its assessor '{name}', but its certificate certifies '{}': the name was changed on the tablet, or the bundle is another person's",
            t.signer.name
        )),
        Ok(t) => {
            v.pass(format!("{name}'s bundle {file}: signer {}, role assessor: {} (at {})", signer_name(&t.signer), t.path.join(" ← "), stamp(at)));
            // A note the report's own check already made (one CRL missing for all) is said once.
            for n in &t.notes {
                if !v.checks.iter().any(|c| c.note && c.what.ends_with(n.as_str())) {
                    v.note(format!("{name}'s bundle: {n}"));
                }
            }
        }
        Err(e) => v.fail(format!("{name}'s bundle {file} (key {fp}) is not trusted: {e}")),
    }
}

/// The certificate chain a bundle carries (PEM blocks, leaf first); none in a bundle v1.
fn bundle_certificates(manifest: &Manifest) -> Vec<String> {
    manifest.device.certificates.clone()
}
