//! The report sidecar's wire types pinned as golden schema files (`tests/schemas/sidecar-v1.txt`,
//! `sidecar-v2.txt`, issue #10; `sidecar-v3.txt`, issue #13) and the report status statement
//! (`report-status-v1.txt`, issue #13). A version never changes; a new version gets a file of
//! its own.

#[path = "../../../tests/schemas/shape.rs"]
mod shape;

use std::collections::BTreeMap;

use hallmark_report::lifecycle::{ReportRefV1, ReportStatusV1, Status};
use hallmark_report::seal::{
    AssessorScores, BundleSeenV2, PreviousV3, RubricRef, SidecarV1, SidecarV2, SidecarV3, SupersedesV3, FORMAT_V1 as FORMAT, FORMAT_V2, FORMAT_V3,
};

#[test]
fn sidecar_v1_keeps_its_shape() {
    let s = |v: &str| v.to_string();
    let sidecar = SidecarV1 {
        format: s(FORMAT),
        report_number: s("HM-LN-20261120-3D7C2813"),
        pdf_sha256: s("00"),
        pdf_size: 1,
        signer_public_key: s("00"),
        signer_fingerprint: s("0000 0000 0000 0000"),
        pdf_signature: s("00"),
        rubric: RubricRef { id: s("liaoning-demo-window"), version: s("1"), sha256: s("00") },
        merkle_root: s("00"),
        final_score: Some(s("90.2")),
        conclusion: s("符合"),
        issued_on: s("2026-11-20"),
        valid_until: Some(s("2027-11-20")),
        assessors: vec![AssessorScores { name: s("王敏"), inspection_id: s("i"), total: s("91"), scores: BTreeMap::from([(s("layout"), s("5"))]) }],
        signature: s("00"),
    };
    let mut bare = sidecar.clone();
    bare.final_score = None;
    bare.valid_until = None;
    let values = [serde_json::to_value(sidecar).unwrap(), serde_json::to_value(bare).unwrap()];
    shape::check("sidecar-v1", &shape::shape_of(&values, &["assessors[].scores"]));
}

#[test]
fn the_committed_sidecar_reads_as_version_1() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/bundles/demo");
    let bytes = std::fs::read(hallmark_report::seal::sidecar_path(&dir.join("liaoning-report.pdf"))).unwrap();
    let side = hallmark_report::seal::read_sidecar(&bytes).unwrap();
    assert_eq!(side.format(), FORMAT);
    let unknown = String::from_utf8(bytes).unwrap().replace(FORMAT, "hallmark-report-signature/9");
    assert_eq!(
        hallmark_report::seal::read_sidecar(unknown.as_bytes()).unwrap_err(),
        "sidecar format 'hallmark-report-signature/9' is unknown (this hallmark reads hallmark-report-signature/1, hallmark-report-signature/2 and hallmark-report-signature/3): update hallmark"
    );
}

#[test]
fn sidecar_v2_keeps_its_shape() {
    let s = |v: &str| v.to_string();
    let sidecar = SidecarV2 {
        format: s(FORMAT_V2),
        report_number: s("HM-LN-20261120-3D7C2813"),
        pdf_sha256: s("00"),
        pdf_size: 1,
        signer_public_key: s("00"),
        signer_fingerprint: s("0000 0000 0000 0000"),
        signer_certificates: vec![s("-----BEGIN CERTIFICATE-----")],
        signed_at: s("2026-11-20T10:00:00Z"),
        pdf_signature: s("00"),
        rubric: RubricRef { id: s("liaoning-demo-window"), version: s("2"), sha256: s("00") },
        merkle: s("rfc6962-sha256"),
        merkle_root: s("00"),
        final_score: Some(s("90.2")),
        conclusion: s("符合"),
        issued_on: s("2026-11-20"),
        valid_until: Some(s("2027-11-20")),
        assessors: vec![AssessorScores { name: s("王敏"), inspection_id: s("i"), total: s("91"), scores: BTreeMap::from([(s("layout"), s("5"))]) }],
        bundles: vec![BundleSeenV2 { inspection_id: s("i"), bundle_id: s("00"), seen_at: s("2026-11-20T09:00:00.000Z") }],
        signature: s("00"),
    };
    let mut bare = sidecar.clone();
    bare.final_score = None;
    bare.valid_until = None;
    let values = [serde_json::to_value(sidecar).unwrap(), serde_json::to_value(bare).unwrap()];
    shape::check("sidecar-v2", &shape::shape_of(&values, &["assessors[].scores"]));
}

#[test]
fn sidecar_v3_keeps_its_shape() {
    let s = |v: &str| v.to_string();
    let sidecar = SidecarV3 {
        format: s(FORMAT_V3),
        report_number: s("HM-LN-20261120-3D7C2813-R1"),
        pdf_sha256: s("00"),
        pdf_size: 1,
        signer_public_key: s("00"),
        signer_fingerprint: s("0000 0000 0000 0000"),
        signer_certificates: vec![s("-----BEGIN CERTIFICATE-----")],
        signed_at: s("2026-11-20T10:00:00Z"),
        pdf_signature: s("00"),
        rubric: RubricRef { id: s("liaoning-demo-window"), version: s("3"), sha256: s("00") },
        merkle: s("rfc6962-sha256"),
        merkle_root: s("00"),
        final_score: Some(s("90.2")),
        conclusion: s("符合"),
        issued_on: s("2026-11-20"),
        valid_until: Some(s("2027-11-20")),
        assessors: vec![AssessorScores { name: s("王敏"), inspection_id: s("i"), total: s("91"), scores: BTreeMap::from([(s("layout"), s("5"))]) }],
        bundles: vec![BundleSeenV2 { inspection_id: s("i"), bundle_id: s("00"), seen_at: s("2026-11-20T09:00:00.000Z") }],
        supersedes: Some(SupersedesV3 { report_number: s("HM-LN-20261120-3D7C2813"), pdf_sha256: s("00"), reason: s("电话有误") }),
        previous: Some(PreviousV3 { report_number: s("HM-LN-20251118-0A1B2C3D"), pdf_sha256: s("00") }),
        signature: s("00"),
    };
    let mut bare = sidecar.clone();
    bare.final_score = None;
    bare.valid_until = None;
    bare.supersedes = None;
    bare.previous = None;
    let values = [serde_json::to_value(sidecar).unwrap(), serde_json::to_value(bare).unwrap()];
    shape::check("sidecar-v3", &shape::shape_of(&values, &["assessors[].scores"]));
}

#[test]
fn report_status_v1_keeps_its_shape() {
    let s = |v: &str| v.to_string();
    let superseded = ReportStatusV1 {
        format: s(hallmark_report::lifecycle::FORMAT),
        report_number: s("HM-LN-20261120-3D7C2813"),
        pdf_sha256: s("00"),
        status: Status::Superseded,
        superseded_by: Some(ReportRefV1 { report_number: s("HM-LN-20261120-3D7C2813-R1"), pdf_sha256: s("00") }),
        reason: s("电话有误"),
        at: s("2026-12-04T10:00:00Z"),
        signer_public_key: s("00"),
        signer_fingerprint: s("0000 0000 0000 0000"),
        signer_certificates: vec![s("-----BEGIN CERTIFICATE-----")],
        signature: s("00"),
    };
    let withdrawn = ReportStatusV1 { status: Status::Withdrawn, superseded_by: None, ..superseded.clone() };
    let values = [serde_json::to_value(superseded).unwrap(), serde_json::to_value(withdrawn).unwrap()];
    shape::check("report-status-v1", &shape::shape_of(&values, &[]));
}

/// The signed 整改 event the store keeps (issue #13): `tests/schemas/rectification-event-v1.txt`.
#[test]
fn rectification_event_v1_keeps_its_shape() {
    use hallmark_store::rectifications::{RectificationEventV1, EVENT_FORMAT};
    let s = |v: &str| v.to_string();
    let done = RectificationEventV1 {
        format: s(EVENT_FORMAT),
        rectification_id: s("01a2"),
        kind: s("done"),
        owner: Some(s("张科长")),
        due_on: Some(s("2027-01-31")),
        note: s("导向标识已安装"),
        photo_sha256: Some(s("00")),
        by_report: Some(s("HM-LN-20271105-8ADD97CA")),
        at: s("2026-12-10T10:00:00.000Z"),
        device_id: s("d"),
        public_key: s("00"),
        signature: s("00"),
    };
    let bare = RectificationEventV1 { owner: None, due_on: None, photo_sha256: None, by_report: None, ..done.clone() };
    let values = [serde_json::to_value(done).unwrap(), serde_json::to_value(bare).unwrap()];
    shape::check("rectification-event-v1", &shape::shape_of(&values, &[]));
}

/// The lead's signed review the store keeps (issue #13): `tests/schemas/review-v1.txt`.
#[test]
fn review_v1_keeps_its_shape() {
    use hallmark_store::reviews::{ReviewV1, FORMAT};
    let s = |v: &str| v.to_string();
    let item = ReviewV1 {
        format: s(FORMAT),
        inspection_id: s("i"),
        item_id: Some(s("practice")),
        action: s("returned"),
        comment: s("请复核"),
        at: s("2026-11-20T12:00:00.000Z"),
        device_id: s("d"),
        public_key: s("00"),
        signature: s("00"),
    };
    let sheet = ReviewV1 { item_id: None, action: s("accepted"), ..item.clone() };
    let values = [serde_json::to_value(item).unwrap(), serde_json::to_value(sheet).unwrap()];
    shape::check("review-v1", &shape::shape_of(&values, &[]));
}

/// The review file the lead hands to the tablets (issue #13): `tests/schemas/review-file-v1.txt`.
#[test]
fn review_file_v1_keeps_its_shape() {
    use hallmark_store::reviews::{ReviewFileV1, ReviewV1, FILE_FORMAT, FORMAT};
    let s = |v: &str| v.to_string();
    let review = ReviewV1 {
        format: s(FORMAT),
        inspection_id: s("i"),
        item_id: Some(s("practice")),
        action: s("returned"),
        comment: s("请复核"),
        at: s("2026-11-20T12:00:00.000Z"),
        device_id: s("d"),
        public_key: s("00"),
        signature: s("00"),
    };
    let file = ReviewFileV1 { format: s(FILE_FORMAT), lead_certificates: vec![s("-----BEGIN CERTIFICATE-----")], reviews: vec![review] };
    shape::check("review-file-v1", &shape::shape_of(&[serde_json::to_value(file).unwrap()], &[]));
}
