//! Keeps the scoring core honest without a reviewer: it depends on no IO, clock, SQLite or
//! Tauri, and its source touches no file system, network, process, environment or clock.

use std::fs;
use std::path::Path;

const ALLOWED_DEPENDENCIES: [&str; 7] = ["serde", "serde_json", "toml", "rust_decimal", "thiserror", "sha2", "chrono"];

#[test]
fn core_depends_only_on_pure_crates() {
    let manifest = fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml")).unwrap();
    let table: toml::Table = toml::from_str(&manifest).unwrap();
    let deps = table.get("dependencies").and_then(|d| d.as_table()).expect("[dependencies]");
    assert!(!deps.is_empty());
    for name in deps.keys() {
        assert!(
            ALLOWED_DEPENDENCIES.contains(&name.as_str()),
            "hallmark-core must stay pure: dependency '{name}' is not allowed (IO, clocks, SQLite and Tauri belong in other crates)"
        );
    }
    // chrono for calendar arithmetic only: without its `clock` feature it cannot read the time.
    let chrono = deps["chrono"].as_table().expect("chrono = { version, default-features = false }");
    assert_eq!(chrono.get("default-features").and_then(|v| v.as_bool()), Some(false), "chrono's defaults include the clock");
    // `serde` only (issue #13: dates in answers and findings); never `clock`.
    let features: Vec<&str> =
        chrono.get("features").and_then(|f| f.as_array()).map(|f| f.iter().filter_map(|v| v.as_str()).collect()).unwrap_or_default();
    assert!(features.iter().all(|f| *f == "serde"), "hallmark-core takes no chrono feature but serde (no clock): {features:?}");
}

#[test]
fn core_source_does_no_io_and_reads_no_clock() {
    let forbidden = [
        "std::fs",
        "std::net",
        "std::process",
        "std::env",
        "std::time",
        "SystemTime",
        "Instant::now",
        "rusqlite",
        "tauri",
        "Utc::now",
        "Local::now",
        "std::thread",
        "File::open",
    ];
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = vec![];
    let mut dirs = vec![src];
    while let Some(dir) = dirs.pop() {
        for entry in fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else {
                files.push(path);
            }
        }
    }
    let mut n = 0;
    for path in files {
        let text = fs::read_to_string(&path).unwrap();
        n += 1;
        for f in forbidden {
            assert!(!text.contains(f), "{} uses '{f}': the scoring core does no IO and reads no clock", path.display());
        }
        // Points are Decimal: f64 appears only where TOML floats are converted exactly (num.rs)
        // and where the duplicate-key check skips over a number without keeping it (json.rs).
        if !["num.rs", "json.rs"].contains(&path.file_name().unwrap().to_str().unwrap()) {
            assert!(!text.contains("f64"), "{} uses f64: points are rust_decimal::Decimal, never floats", path.display());
        }
    }
    assert!(n >= 5);
}
