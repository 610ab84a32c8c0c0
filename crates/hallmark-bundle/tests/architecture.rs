//! Keeps the bundle crate reusable without the store: a server verifies bundles with it
//! alone, so it depends on no SQLite, no store, no Tauri and reads no clock.

use std::fs;
use std::path::Path;

const ALLOWED_DEPENDENCIES: [&str; 6] = ["hallmark-core", "serde", "serde_json", "sha2", "thiserror", "ed25519-dalek"];

#[test]
fn bundle_crate_depends_on_no_database_store_or_tauri() {
    let manifest = fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml")).unwrap();
    let table: toml::Table = toml::from_str(&manifest).unwrap();
    let deps = table.get("dependencies").and_then(|d| d.as_table()).expect("[dependencies]");
    for name in deps.keys() {
        assert!(
            ALLOWED_DEPENDENCIES.contains(&name.as_str()),
            "hallmark-bundle must not depend on '{name}': verifying a bundle needs no database, store, runtime or clock"
        );
    }
}

#[test]
fn bundle_source_touches_no_database_and_reads_no_clock() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let forbidden = ["rusqlite", "hallmark_store", "tauri", "SystemTime", "Instant::now", "Utc::now", "now_v7"];
    for entry in fs::read_dir(&src).unwrap() {
        let path = entry.unwrap().path();
        let text = fs::read_to_string(&path).unwrap();
        for f in forbidden {
            assert!(!text.contains(f), "{} uses '{f}': bundle verification touches no database and reads no clock", path.display());
        }
    }
}
