//! The shape of a wire type, for the golden schema files in `tests/schemas/`: every field path
//! of serde's JSON output of a fully populated value, with its JSON type, one per line, sorted.
//! A field added, removed, renamed or retyped in a wire type changes its file; the test that
//! compares says which line. Included by tests with `#[path = ".../tests/schemas/shape.rs"]`.
//!
//! `UPDATE_EXPECT=1` rewrites the files; review the diff like code: a changed line in a
//! versioned wire type (bundle, sidecar) means a new version, never an edit.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde_json::Value;

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn walk(path: &str, v: &Value, maps: &[&str], out: &mut BTreeMap<String, Vec<&'static str>>) {
    let types = out.entry(path.to_string()).or_default();
    if !types.contains(&kind(v)) {
        types.push(kind(v));
        types.sort();
    }
    match v {
        Value::Object(map) if maps.contains(&path) => {
            for child in map.values() {
                walk(&format!("{path}.*"), child, maps, out);
            }
        }
        Value::Object(map) => {
            for (k, child) in map {
                let p = if path.is_empty() { k.clone() } else { format!("{path}.{k}") };
                walk(&p, child, maps, out);
            }
        }
        Value::Array(items) => {
            for child in items {
                walk(&format!("{path}[]"), child, maps, out);
            }
        }
        _ => {}
    }
}

/// `path: type` lines (types of one path joined by `|`), sorted by path.
pub fn shape(value: &Value) -> String {
    shape_of(std::slice::from_ref(value), &[])
}

/// The shape of several values of one type merged: pass a fully populated value and one with
/// every `Option` `None`, and optional fields read `string|null`. Objects at `map_paths` are
/// maps whose keys are data (scores by item id): their keys are written as `*`.
pub fn shape_of(values: &[Value], map_paths: &[&str]) -> String {
    let mut out = BTreeMap::new();
    for v in values {
        walk("", v, map_paths, &mut out);
    }
    out.into_iter().filter(|(p, _)| !p.is_empty()).map(|(p, t)| format!("{p}: {}\n", t.join("|"))).collect()
}

/// Compares `actual` with `tests/schemas/<name>.txt`; `UPDATE_EXPECT=1` rewrites it.
pub fn check(name: &str, actual: &str) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .find(|p| p.join("tests/schemas").is_dir())
        .expect("repository root")
        .join(format!("tests/schemas/{name}.txt"));
    if std::env::var_os("UPDATE_EXPECT").is_some() {
        std::fs::write(&path, actual).unwrap();
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_default();
    if expected != actual {
        let gone: Vec<&str> = expected.lines().filter(|l| !actual.lines().any(|a| a == *l)).collect();
        let new: Vec<&str> = actual.lines().filter(|l| !expected.lines().any(|e| e == *l)).collect();
        panic!(
            "the wire type {name} changed shape ({}):\n  removed: {gone:?}\n  added: {new:?}\na versioned wire format never changes: add a new version (docs say how); an unversioned one: UPDATE_EXPECT=1 and say why in the commit",
            path.display()
        );
    }
}
