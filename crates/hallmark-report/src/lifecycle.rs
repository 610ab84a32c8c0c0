//! A signed report's life after it is issued (issue #13 part 3): withdrawn (撤销) or
//! superseded by a corrected report (更正). Either way the lead who signed it signs a statement
//! naming the report (its number and the PDF's SHA-256), what became of it and why, written
//! beside the PDF as `FILE.pdf.status.json`. `verify` reads it when it lies there:
//!
//! - withdrawn: the report fails ("WITHDRAWN"), the reason printed;
//! - superseded: the report still verifies (it was what it says, when it was signed) and the
//!   output names the report that replaces it;
//! - a statement that does not check out (another key, another report, altered) is named and
//!   ignored: a stranger's file cannot withdraw somebody's report.
//!
//! A report has one status: a withdrawn or superseded report is not withdrawn or superseded
//! again. The corrected report itself names the one it supersedes in its sidecar (v3,
//! `supersedes`) and on its cover.

use std::path::{Path, PathBuf};

use chrono::{DateTime, SecondsFormat, Utc};
use hallmark_core::hex::{hex, unhex};
use hallmark_store::identity::{self, DeviceKey};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::seal::{read_sidecar, sidecar_path, Sidecar};
use crate::ReportError;

/// | format | introduced by | what it says |
/// |---|---|---|
/// | `hallmark-report-status/1` | #13 report life cycle | a report withdrawn, or superseded by another (its number and PDF hash), why, when, signed by the report's signer |
pub const FORMAT: &str = "hallmark-report-status/1";

/// What became of a report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// 撤销: it no longer stands as an evaluation result.
    Withdrawn,
    /// 更正: a corrected report replaces it.
    Superseded,
}

/// Another report, by its number and its PDF's SHA-256 (version 1, issue #13).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportRefV1 {
    pub report_number: String,
    pub pdf_sha256: String,
}

/// The status statement (version 1, issue #13). Do not modify: its compact JSON with
/// `signature` empty is what the signature covers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportStatusV1 {
    pub format: String,
    pub report_number: String,
    pub pdf_sha256: String,
    pub status: Status,
    /// The report that replaces this one (`superseded` only).
    pub superseded_by: Option<ReportRefV1>,
    /// Why (printed by `verify`; the lead's words).
    pub reason: String,
    /// RFC 3339 UTC, the lead device's clock.
    pub at: String,
    pub signer_public_key: String,
    pub signer_fingerprint: String,
    /// The lead device's certificate chain (PEM, leaf first), as in the report's sidecar.
    pub signer_certificates: Vec<String>,
    /// Ed25519 over this record with `signature` empty (compact JSON), hex.
    pub signature: String,
}

impl ReportStatusV1 {
    fn statement(&self) -> Vec<u8> {
        serde_json::to_vec(&ReportStatusV1 { signature: String::new(), ..self.clone() }).expect("statement serializes")
    }
}

/// `FILE.pdf.status.json`.
pub fn status_path(pdf: &Path) -> PathBuf {
    let mut s = pdf.as_os_str().to_os_string();
    s.push(".status.json");
    PathBuf::from(s)
}

/// A signed report as found on disk, checked to be one this device may change the status of:
/// the PDF is the one its sidecar signs, this device's key signed it, and no status statement
/// lies beside it yet.
pub struct Issued {
    pub path: PathBuf,
    pub sidecar: Sidecar,
}

/// Reads the report at `pdf_path` and checks that `key` may withdraw or supersede it.
pub fn issued_by(pdf_path: &Path, key: &DeviceKey) -> Result<Issued, ReportError> {
    let pdf = std::fs::read(pdf_path).map_err(|e| ReportError::Input(format!("{}: cannot read: {e} (check the path)", pdf_path.display())))?;
    let side_path = sidecar_path(pdf_path);
    let text = std::fs::read(&side_path).map_err(|e| {
        ReportError::Input(format!(
            "{}: cannot read the signature sidecar: {e} (a draft, 草稿, is not signed: it is neither withdrawn nor corrected)",
            side_path.display()
        ))
    })?;
    let sidecar = read_sidecar(&text).map_err(|e| ReportError::Input(format!("{}: {e}", side_path.display())))?;
    if hex(&Sha256::digest(&pdf)) != *sidecar.pdf_sha256() {
        return Err(ReportError::Input(format!(
            "{}: the PDF is not the one its sidecar signs (changed?): run `hallmark verify` on it",
            pdf_path.display()
        )));
    }
    if key.public_key_hex() != *sidecar.signer_public_key() {
        return Err(ReportError::Input(format!(
            "{}: signed by key {}, not this device's ({}): only the lead who signed a report withdraws or corrects it",
            pdf_path.display(),
            sidecar.signer_fingerprint(),
            key.fingerprint()
        )));
    }
    let path = status_path(pdf_path);
    if path.exists() {
        let what = match find(pdf_path, &sidecar) {
            Found::Status(s) if s.status == Status::Withdrawn => "withdrawn".to_string(),
            Found::Status(s) => format!("superseded by {}", s.superseded_by.map(|r| r.report_number).unwrap_or_default()),
            _ => "given a status (the file is not valid: look at it before removing it)".to_string(),
        };
        return Err(ReportError::Input(format!("{}: the report is {what} already", path.display())));
    }
    // Its claims (number, rubric, dates, panel) are used by the caller: the files must verify.
    let v = crate::seal::verify(pdf_path, None)?;
    if !v.ok {
        return Err(ReportError::Input(format!(
            "{}: the report does not verify ({}): run `hallmark verify` on it",
            pdf_path.display(),
            v.failures()
        )));
    }
    Ok(Issued { path: pdf_path.to_path_buf(), sidecar })
}

/// Signs and writes the statement beside the report. `superseded_by` only with `Superseded`.
pub fn record(
    issued: &Issued,
    status: Status,
    superseded_by: Option<ReportRefV1>,
    key: &DeviceKey,
    certificates: Vec<String>,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<ReportStatusV1, ReportError> {
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(ReportError::Input(
            "a withdrawal or a correction needs a reason (--reason: it is printed wherever the report is verified)".into(),
        ));
    }
    let mut s = ReportStatusV1 {
        format: FORMAT.into(),
        report_number: issued.sidecar.report_number().clone(),
        pdf_sha256: issued.sidecar.pdf_sha256().clone(),
        status,
        superseded_by,
        reason: reason.into(),
        at: now.to_rfc3339_opts(SecondsFormat::Secs, true),
        signer_public_key: key.public_key_hex(),
        signer_fingerprint: key.fingerprint(),
        signer_certificates: certificates,
        signature: String::new(),
    };
    s.signature = hex(&key.sign(&s.statement()));
    crate::seal::write_file(&status_path(&issued.path), &serde_json::to_vec_pretty(&s).expect("serializes"))?;
    Ok(s)
}

/// Withdraws a report (撤销): only the key that signed it may, with a reason. Refused, writing
/// nothing, when the PDF is not the one its sidecar signs or it has a status already.
pub fn withdraw(
    pdf_path: &Path,
    key: &DeviceKey,
    certificates: Vec<String>,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<ReportStatusV1, ReportError> {
    if reason.trim().is_empty() {
        return Err(ReportError::Input("a withdrawal needs a reason (--reason: it is printed wherever the report is verified)".into()));
    }
    let issued = issued_by(pdf_path, key)?;
    record(&issued, Status::Withdrawn, None, key, certificates, reason, now)
}

/// What a status statement beside a report says, if one lies there.
pub enum Found {
    None,
    /// Signed by the report's signer, naming this very report.
    Status(Box<ReportStatusV1>),
    /// There, but not a valid statement about this report: why.
    Invalid(String),
}

/// Reads the statement beside `pdf_path` and checks it against the report's sidecar: same
/// report number and PDF hash, signed by the key that signed the report.
pub fn find(pdf_path: &Path, side: &Sidecar) -> Found {
    let path = status_path(pdf_path);
    let Ok(bytes) = std::fs::read(&path) else { return Found::None };
    let s: ReportStatusV1 = match serde_json::from_slice::<ReportStatusV1>(&bytes) {
        Ok(s) if s.format == FORMAT => s,
        Ok(s) => return Found::Invalid(format!("format '{}' is not {FORMAT}", s.format)),
        Err(e) => return Found::Invalid(format!("not a report status statement: {e}")),
    };
    if s.report_number != *side.report_number() || s.pdf_sha256 != *side.pdf_sha256() {
        return Found::Invalid(format!("it names report {} ({}…), not this one", s.report_number, s.pdf_sha256.get(..16).unwrap_or("")));
    }
    if s.signer_public_key != *side.signer_public_key() {
        return Found::Invalid(format!("it is signed by key {}, not by the report's signer", s.signer_fingerprint));
    }
    let key = unhex(&s.signer_public_key).unwrap_or_default();
    if !identity::verify(&key, &s.statement(), &unhex(&s.signature).unwrap_or_default()) {
        return Found::Invalid("its signature does not verify (altered)".into());
    }
    if (s.status == Status::Superseded) != s.superseded_by.is_some() {
        return Found::Invalid("a superseded report names the report that replaces it, a withdrawn one none".into());
    }
    Found::Status(Box::new(s))
}
