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
