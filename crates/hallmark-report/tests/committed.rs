//! A report issued by an earlier hallmark must verify the same forever.
//!
//! `tests/bundles/demo/liaoning-report.pdf` and its sidecar were issued from the committed
//! demo bundles before the store was split into modules (issue #9). `verify --bundles` on them
//! must keep printing `verify.expected.txt`. A flipped byte must keep failing.

use std::path::{Path, PathBuf};

use hallmark_report::seal;

fn demo_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/bundles/demo")
}

#[test]
fn committed_report_verifies_against_the_committed_bundles() {
    let dir = demo_dir();
    let v = seal::verify(&dir.join("liaoning-report.pdf"), Some(&dir)).unwrap();
    let actual = v.text();
    let path = dir.join("verify.expected.txt");
    if std::env::var_os("UPDATE_EXPECT").is_some() {
        std::fs::write(&path, &actual).unwrap();
    }
    let expected = std::fs::read_to_string(&path).unwrap();
    assert!(expected == actual, "{} differs:\n{actual}", path.display());
    assert!(v.ok, "{actual}");
}

#[test]
fn committed_report_with_one_flipped_byte_fails() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = demo_dir();
    let pdf = tmp.path().join("report.pdf");
    let mut bytes = std::fs::read(dir.join("liaoning-report.pdf")).unwrap();
    let at = bytes.len() / 2;
    bytes[at] ^= 0x01;
    std::fs::write(&pdf, bytes).unwrap();
    std::fs::copy(seal::sidecar_path(&dir.join("liaoning-report.pdf")), seal::sidecar_path(&pdf)).unwrap();
    let v = seal::verify(&pdf, Some(&dir)).unwrap();
    assert!(!v.ok, "{}", v.text());
}

/// Issue #10: a report sealed before certificates (sidecar v1) is verified the weaker way. With
/// a trusted root but no certificate it fails and says how; with the lead's certificate for its
/// key (`--signer-cert`) it passes, saying it is the pre-certificate result; a certificate for
/// another key fails.
#[test]
fn a_committed_v1_report_verifies_the_weaker_way_with_its_signers_certificate() {
    use chrono::{Duration, Utc};
    use hallmark_trust::authority::{self, IssueRequest, Subject, SubjectKey};
    use hallmark_trust::Role;
    let tmp = tempfile::tempdir().unwrap();
    let dir = demo_dir();
    let pdf = dir.join("liaoning-report.pdf");
    let side: serde_json::Value = serde_json::from_slice(&std::fs::read(seal::sidecar_path(&pdf)).unwrap()).unwrap();
    let key: [u8; 32] = hallmark_core::hex::unhex(side["signer_public_key"].as_str().unwrap()).unwrap().try_into().unwrap();
    let ca = tmp.path().join("ca");
    let now = Utc::now();
    authority::init(&ca, "辽宁省医疗保障局", "", 10, None, "committed-test-pass", now - Duration::days(1)).unwrap();
    let cert_for = |key: [u8; 32], role: Role, file: &str| {
        let subject = Subject { name: "王敏".into(), unit: "辽宁省医疗保障局".into(), ..Default::default() };
        let req = IssueRequest { subject, roles: vec![role], key: SubjectKey::Ed25519(key), days: 365, hosts: vec![] };
        let path = tmp.path().join(file);
        std::fs::write(&path, authority::issue(&ca, "committed-test-pass", &req, now).unwrap().chain_pem).unwrap();
        path
    };
    let roots = [ca.join(authority::ROOT)];
    let trust =
        |signer: Option<&Path>| seal::Trust::load(&seal::TrustFiles { roots: &roots, crls: &[], signer_cert: signer, folder: None }, now).unwrap();
    let v = seal::verify_trusted(&pdf, Some(&dir), &trust(None)).unwrap();
    assert!(!v.ok && v.text().contains("pass --signer-cert CERT.pem"), "{}", v.text());
    let lead = cert_for(key, Role::Lead, "lead.pem");
    let v = seal::verify_trusted(&pdf, Some(&dir), &trust(Some(&lead))).unwrap();
    assert!(v.ok, "{}", v.text());
    assert!(v.text().contains("the weaker, pre-certificate result"), "{}", v.text());
    let other = cert_for([7; 32], Role::Lead, "other.pem");
    let v = seal::verify_trusted(&pdf, Some(&dir), &trust(Some(&other))).unwrap();
    assert!(!v.ok && v.text().contains("not the key its certificate binds"), "{}", v.text());
}
