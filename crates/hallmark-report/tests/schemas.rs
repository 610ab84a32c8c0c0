//! The report sidecar's wire type pinned as a golden schema file (`tests/schemas/sidecar-v1.txt`).
//! Version 1 never changes; a new version gets a file of its own.

#[path = "../../../tests/schemas/shape.rs"]
mod shape;

use std::collections::BTreeMap;

use hallmark_report::seal::{AssessorScores, RubricRef, SidecarV1, FORMAT};

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
    assert_eq!(side.format, FORMAT);
    let unknown = String::from_utf8(bytes).unwrap().replace(FORMAT, "hallmark-report-signature/9");
    assert_eq!(
        hallmark_report::seal::read_sidecar(unknown.as_bytes()).unwrap_err(),
        "sidecar format 'hallmark-report-signature/9' is unknown (this hallmark reads hallmark-report-signature/1): update hallmark"
    );
}
