//! The bundle's wire types pinned as golden schema files (`tests/schemas/bundle-*.txt`): the
//! shape of serde's output of a fully populated value. A versioned struct never changes, so
//! these files never change either; a new version gets files of its own.

#[path = "../../../tests/schemas/shape.rs"]
mod shape;

use std::collections::BTreeMap;

use hallmark_bundle::format::*;
use serde_json::json;

fn s(v: &str) -> String {
    v.to_string()
}

fn manifest_v1() -> ManifestV1 {
    ManifestV1 {
        format: s(FORMAT),
        format_version: 1,
        created_at: s("2026-11-20T10:57:00.000Z"),
        device: DeviceV1 { id: s("device"), public_key: s("00"), fingerprint: s("0000 0000 0000 0000") },
        rubric: RubricRefV1 { id: s("liaoning-demo-window"), version: s("1"), sha256: s("00"), content: s("…") },
        inspection: HeaderV1 {
            id: s("inspection"),
            site_name: s("site"),
            site_address: s("address"),
            site_level: s("county"),
            visited_on: s("2026-11-20"),
            assessor_name: s("王敏"),
            assessor_unit: s("unit"),
            assessor_title: s("title"),
            assessor_phone: s("phone"),
            device_id: s("device"),
            created_at: s("2026-11-20T08:30:00.000Z"),
            finished_at: Some(s("2026-11-20T10:56:00.000Z")),
        },
        // `value` and `previous` are any JSON an input takes (docs/observations.md); shown as strings.
        events: vec![EventV1 {
            id: s("event"),
            key: s("layout.area"),
            value: Some(json!("<answer>")),
            previous: Some(json!("<answer>")),
            author: s("王敏"),
            device_id: s("device"),
            recorded_at: s("2026-11-20T09:02:00.000Z"),
            amendment: Some(s("reason")),
        }],
        service_entries: vec![ServiceEntryV1 {
            id: s("entry"),
            item_id: s("practice"),
            kind: s("real"),
            observed_at: s("2026-11-20T09:10:00.000Z"),
            note: s("note"),
            occurrences: BTreeMap::from([(s("practice.errors"), 1)]),
            author: s("王敏"),
            device_id: s("device"),
            recorded_at: s("2026-11-20T09:11:00.000Z"),
        }],
        evidence: vec![EvidenceV1 {
            id: s("evidence"),
            item_id: s("layout"),
            sha256: s("00"),
            caption: s("caption"),
            author: s("王敏"),
            device_id: s("device"),
            attached_at: s("2026-11-20T09:20:00.000Z"),
        }],
        photos: vec![PhotoV1 {
            sha256: s("00"),
            size: 1,
            width: 1,
            height: 1,
            orientation: 1,
            taken_at: Some(s("2026-11-20 09:19:00")),
            thumb_sha256: s("00"),
            thumb_size: 1,
        }],
        signature_image: Some(SignatureImageV1 { sha256: s("00"), size: 1, signed_at: s("2026-11-20T10:55:00.000Z") }),
    }
}

#[test]
fn manifest_v1_keeps_its_shape() {
    let full = manifest_v1();
    let mut bare = full.clone();
    bare.inspection.finished_at = None;
    bare.events[0].value = None;
    bare.events[0].previous = None;
    bare.events[0].amendment = None;
    bare.photos[0].taken_at = None;
    bare.signature_image = None;
    let values = [serde_json::to_value(full).unwrap(), serde_json::to_value(bare).unwrap()];
    shape::check("bundle-manifest-v1", &shape::shape_of(&values, &["service_entries[].occurrences"]));
}

/// Format 2 (issue #10): version 1 with the device's certificate chain.
#[test]
fn manifest_v2_keeps_its_shape() {
    let v1 = manifest_v1();
    let full = ManifestV2 {
        format_version: 2,
        device: DeviceV2 {
            id: s("device"),
            public_key: s("00"),
            fingerprint: s("0000 0000 0000 0000"),
            certificates: vec![s("-----BEGIN CERTIFICATE-----")],
        },
        ..ManifestV2::from(v1)
    };
    let mut bare = full.clone();
    bare.inspection.finished_at = None;
    bare.events[0].value = None;
    bare.events[0].previous = None;
    bare.events[0].amendment = None;
    bare.photos[0].taken_at = None;
    bare.signature_image = None;
    let values = [serde_json::to_value(full).unwrap(), serde_json::to_value(bare).unwrap()];
    shape::check("bundle-manifest-v2", &shape::shape_of(&values, &["service_entries[].occurrences"]));
}

/// Format 3 (issue #11): version 2 with the assignment the inspection was started from;
/// without one the manifest is still written as version 2, byte for byte as before.
#[test]
fn manifest_v3_keeps_its_shape_and_is_written_only_with_an_assignment() {
    let v2 = ManifestV2 {
        format_version: 2,
        device: DeviceV2 { id: s("device"), public_key: s("00"), fingerprint: s("0000 0000 0000 0000"), certificates: vec![] },
        ..ManifestV2::from(manifest_v1())
    };
    let with =
        ManifestV3 { assignment: Some(AssignmentRefV1 { id: s("TL-2027"), hall_id: Some(s("LN-211221-01")) }), ..ManifestV3::from(v2.clone()) };
    let mut bare = with.clone();
    bare.assignment = Some(AssignmentRefV1 { id: s("TL-2027"), hall_id: None });
    let values = [serde_json::to_value(&with).unwrap(), serde_json::to_value(&bare).unwrap()];
    shape::check("bundle-manifest-v3", &shape::shape_of(&values, &["service_entries[].occurrences"]));

    // Written: version 3 with the assignment; without, exactly the version 2 bytes.
    let written: serde_json::Value = serde_json::from_slice(&with.to_bundle_json()).unwrap();
    assert_eq!((written["format_version"].as_u64(), written["assignment"]["id"].as_str()), (Some(3), Some("TL-2027")));
    let none = ManifestV3::from(v2.clone());
    assert_eq!(none.to_bundle_json(), serde_json::to_vec_pretty(&v2).unwrap());
    // And both read back as what was written.
    for m in [&with, &none] {
        let v: serde_json::Value = serde_json::from_slice(&m.to_bundle_json()).unwrap();
        let version = hallmark_bundle::format::manifest_version(&v).unwrap();
        let back = hallmark_bundle::format::parse_manifest(version, v).unwrap();
        assert_eq!(back.assignment, m.assignment);
    }
}

#[test]
fn signature_file_v1_keeps_its_shape() {
    let sig = SignatureFileV1 { algorithm: s("ed25519"), public_key: s("00"), signature: s("00") };
    shape::check("bundle-signature-v1", &shape::shape(&serde_json::to_value(sig).unwrap()));
}

#[test]
fn every_committed_bundle_reads_as_version_1_with_that_shape() {
    // The committed bundles, written by earlier hallmarks, parse as V1 with no field the
    // fully populated value lacks.
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/bundles");
    let mut n = 0;
    for dir in [root.clone(), root.join("demo")] {
        for e in std::fs::read_dir(&dir).unwrap() {
            let p = e.unwrap().path();
            if p.extension().is_some_and(|x| x == EXTENSION) {
                let v = hallmark_bundle::verify::verify(&p).unwrap_or_else(|e| panic!("{e}"));
                assert_eq!(v.manifest.format_version, 1);
                // The same bundle held in memory (an upload) verifies to the same identity.
                let from_bytes = hallmark_bundle::verify::verify_bytes("upload", &std::fs::read(&p).unwrap()).unwrap();
                assert_eq!(from_bytes.bundle_id, v.bundle_id);
                n += 1;
            }
        }
    }
    assert!(n >= 7, "{n} committed bundles");
}
