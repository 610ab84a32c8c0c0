//! `POST /v1/reports` (issue #12): a lead's signed report into the province records. The
//! server checks who sends it (the lead that signed it, leading the panel here), writes the
//! panel's bundles it holds beside the PDF, and hands them to the dashboard's intake — which
//! verifies everything `hallmark verify --bundles --trust` does and keeps what it recomputed.

use axum::http::StatusCode;
use base64::Engine;
use hallmark_dashboard::Pool;
use hallmark_report::seal::{self, Trust};
use hallmark_sync::wire::{ReportStoredV1, ReportUploadV1, REPORT_UPLOAD_FORMAT};

use crate::{ApiError, Backend};

/// The largest upload (a report PDF with its photos' pages, base64).
pub const MAX_UPLOAD: u64 = 64 << 20;

/// Receives one report from the lead `lead_key` (its name for the records' `loaded_by`).
pub fn receive(
    backend: &dyn Backend,
    pool: &Pool,
    blobs: &hallmark_province::blobs::BlobStore,
    lead_key: &str,
    lead_name: &str,
    body: &[u8],
) -> Result<ReportStoredV1, ApiError> {
    let bad = |code: &str, m: String| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, code, m);
    let up: ReportUploadV1 = serde_json::from_slice(body)
        .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "malformed", format!("not a report upload ({REPORT_UPLOAD_FORMAT}): {e}")))?;
    if up.format != REPORT_UPLOAD_FORMAT {
        return Err(ApiError::new(StatusCode::BAD_REQUEST, "malformed", format!("report upload format '{}' is unknown", up.format)));
    }
    let pdf = base64::engine::general_purpose::STANDARD
        .decode(up.pdf_base64.as_bytes())
        .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "malformed", format!("pdf_base64 is not base64: {e}")))?;
    let side = seal::read_sidecar(up.sidecar.as_bytes()).map_err(|e| bad("malformed", format!("the sidecar: {e}")))?;
    if side.signer_public_key() != lead_key {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "not_yours",
            format!("report {} is signed by another device: a lead sends its own reports", side.report_number()),
        ));
    }
    // Every sheet of the report must be a bundle of a panel this lead leads here.
    let held = backend.pullable(lead_key)?;
    let mut missing = Vec::new();
    let mut heads = Vec::new();
    let mut assignments = std::collections::BTreeSet::new();
    for a in side.assessors() {
        let of: Vec<_> = held.iter().filter(|(_, b)| b.inspection_id == a.inspection_id).collect();
        if of.is_empty() {
            missing.push(format!("{} ({})", a.name, a.inspection_id));
        }
        for (assignment, b) in of {
            heads.push(b.bundle_id.clone());
            assignments.insert(assignment.clone());
        }
    }
    if !missing.is_empty() {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "missing_bundles",
            format!(
                "report {}: this server holds no bundle of {} in a panel you lead: the assessors push first (hallmark sync push), then send the report again",
                side.report_number(),
                missing.join(", ")
            ),
        ));
    }
    let hall = hall_of_panel(backend, &assignments, up.hall_id.as_deref(), side.report_number())?;
    let folder = hallmark_dashboard::intake::ReportFolder::new(&backend.work_dir(), &pdf, up.sidecar.as_bytes()).map_err(ApiError::internal)?;
    for id in &heads {
        let head = backend.head(id)?.ok_or_else(|| ApiError::internal(format!("bundle {id} is held but its head is not")))?;
        let path = folder.bundle_path(id);
        let mut f = std::fs::File::create(&path).map_err(|e| ApiError::internal(format!("{}: {e}", path.display())))?;
        backend.write_bundle(&head.bytes, &mut f)?;
    }
    let trust = Trust { store: backend.trust()?, signer_cert: None, now: chrono::Utc::now() };
    let mut db = pool.get().map_err(ApiError::internal)?;
    let done =
        hallmark_dashboard::intake::load_report(&mut db, blobs, &folder.pdf(), &folder.dir, &trust, Some(&hall), &format!("sync: {lead_name}"))
            .map_err(|e| bad("refused", e))?;
    Ok(ReportStoredV1 {
        report_number: done.report_number,
        hall_id: done.hall_id,
        new: matches!(done.loaded, hallmark_province::load::Loaded::New { .. }),
    })
}

/// The registry hall a report is filed under: its panel's assignment's (the lead may name it
/// only as the same); for an assignment made without the registry (a typed site), the hall the
/// lead names, whose registry name must be that site. A lead cannot file a panel's result under
/// another hall.
fn hall_of_panel(
    backend: &dyn Backend,
    assignments: &std::collections::BTreeSet<String>,
    named: Option<&str>,
    report: &str,
) -> Result<String, ApiError> {
    let mismatch = |m: String| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "hall_mismatch", m);
    let all = backend.assignments()?;
    let mine: Vec<_> = all.iter().map(|(a, _)| a).filter(|a| assignments.contains(&a.id)).collect();
    let mut halls: Vec<&str> = mine.iter().filter_map(|a| a.hall_id.as_deref()).collect();
    halls.sort();
    halls.dedup();
    match (halls.as_slice(), named) {
        ([one], None) => Ok(one.to_string()),
        ([one], Some(n)) if *one == n => Ok(n.to_string()),
        ([one], Some(n)) => Err(mismatch(format!("report {report}: the panel's assignment names hall '{one}', not '{n}' (leave the hall out)"))),
        ([], None) => Err(mismatch(format!("report {report}: the panel's assignment names no registry hall: name it (--hall ID)"))),
        ([], Some(n)) => {
            let hall = backend.hall(n)?.ok_or_else(|| mismatch(format!("hall '{n}' is not in this server's registry")))?;
            match mine.iter().find(|a| a.site != hall.name) {
                Some(a) => {
                    Err(mismatch(format!("report {report}: the panel's assignment {} is for '{}', but hall '{n}' is '{}'", a.id, a.site, hall.name)))
                }
                None => Ok(n.to_string()),
            }
        }
        (many, _) => Err(mismatch(format!("report {report}: its sheets belong to assignments of several halls ({})", many.join(", ")))),
    }
}
