//! Bundles written by an earlier hallmark must import the same forever.
//!
//! `tests/bundles/demo/` holds the five Liaoning demo bundles and the Jiangsu one as exported
//! before the store was split into modules (issue #9), and `lead.dump`: the lead database they
//! import into (every table but `device`, whose id is random, and every stored file by hash).
//! `UPDATE_EXPECT=1 cargo test -p hallmark-store --test committed` rewrites `lead.dump`; it
//! should never need to.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use hallmark_store::Store;
use rusqlite::types::ValueRef;
use sha2::{Digest, Sha256};

const NOW: &str = "2026-11-25T10:00:00.000Z";

/// Relative (tests run in the crate's folder): the dump records each bundle's file name as given.
fn demo_dir() -> PathBuf {
    PathBuf::from("../../tests/bundles/demo")
}

fn committed_bundles() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> =
        std::fs::read_dir(demo_dir()).unwrap().map(|e| e.unwrap().path()).filter(|p| p.extension().is_some_and(|x| x == "hallmark")).collect();
    files.sort();
    files
}

fn short(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

use hallmark_core::hex::hex;

/// Every table but `device`, rows in column order; long text shown by its SHA-256.
fn dump(db: &Path, files: &Path) -> String {
    let conn = rusqlite::Connection::open(db).unwrap();
    let mut out = String::new();
    let mut tables: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> 'device' ORDER BY name")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    tables.sort();
    for t in tables {
        let st = conn.prepare(&format!("SELECT * FROM {t}")).unwrap();
        let n = st.column_count();
        let order: Vec<String> = (1..=n).map(|i| i.to_string()).collect();
        let mut st = conn.prepare(&format!("SELECT * FROM {t} ORDER BY {}", order.join(", "))).unwrap();
        let names: Vec<String> = st.column_names().map(|s| s.to_string()).collect();
        let _ = writeln!(out, "## {t} ({})", names.join(", "));
        let mut rows = st.query([]).unwrap();
        while let Some(r) = rows.next().unwrap() {
            let cells: Vec<String> = (0..n)
                .map(|i| match r.get_ref(i).unwrap() {
                    ValueRef::Null => "NULL".into(),
                    ValueRef::Integer(v) => v.to_string(),
                    ValueRef::Real(v) => v.to_string(),
                    ValueRef::Text(s) if s.len() > 160 => format!("<text {} bytes sha256 {}>", s.len(), short(s)),
                    ValueRef::Text(s) => format!("{:?}", String::from_utf8_lossy(s)),
                    ValueRef::Blob(b) => format!("<blob {} bytes sha256 {}>", b.len(), short(b)),
                })
                .collect();
            let _ = writeln!(out, "{}", cells.join(" | "));
        }
    }
    let _ = writeln!(out, "## files");
    let mut listed = Vec::new();
    for sub in ["photos", "thumbs", "signatures"] {
        walk(&files.join(sub), files, &mut listed);
    }
    listed.sort();
    for l in listed {
        let _ = writeln!(out, "{l}");
    }
    out
}

fn walk(dir: &Path, root: &Path, out: &mut Vec<String>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for e in entries {
        let p = e.unwrap().path();
        if p.is_dir() {
            walk(&p, root, out);
        } else {
            let bytes = std::fs::read(&p).unwrap();
            out.push(format!("{} {} {}", p.strip_prefix(root).unwrap().display(), bytes.len(), short(&bytes)));
        }
    }
}

#[test]
fn committed_demo_bundles_import_into_the_committed_database() {
    let bundles = committed_bundles();
    assert_eq!(bundles.len(), 6, "five Liaoning assessors and one Jiangsu inspection");
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("lead");
    let mut store = Store::open(&dir, NOW).unwrap();
    for b in &bundles {
        store.import_bundle(b, NOW, &mut |_, _| {}).unwrap();
    }
    // Again: every one is "already imported" and nothing changes.
    let first = dump(&dir.join(hallmark_store::DB_FILE), &dir);
    for b in &bundles {
        let again = store.import_bundle(b, NOW, &mut |_, _| {}).unwrap();
        assert!(matches!(again, hallmark_store::bundle::Imported::AlreadyImported { .. }), "{}", b.display());
    }
    drop(store);
    let actual = dump(&dir.join(hallmark_store::DB_FILE), &dir);
    assert_eq!(first, actual);
    let path = demo_dir().join("lead.dump");
    if std::env::var_os("UPDATE_EXPECT").is_some() {
        std::fs::write(&path, &actual).unwrap();
    }
    let expected = std::fs::read_to_string(&path).unwrap();
    assert!(
        expected == actual,
        "the committed demo bundles no longer import into {} (UPDATE_EXPECT=1 to accept; it should never be needed)",
        path.display()
    );
}
