//! Data-driven cases under `tests/cases/` (repository root):
//!
//! - `score/<name>.json` → `score/<name>.expected`: the score sheet as `hallmark score` prints it.
//! - `aggregate/<name>/*.json` → `aggregate/<name>.expected`: the panel as `hallmark aggregate` prints it.
//! - `boundaries.toml`: many small cases, answers → expected item points.
//! - `bad-rubric/<name>.toml` → `<name>.expected`: the refusal message.
//! - `bad-observations/<name>.json` → `<name>.expected`: the refusal message.
//!
//! `UPDATE_EXPECT=1 cargo test` rewrites the `.expected` files; review the diff like code.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use hallmark_core::aggregate::aggregate;
use hallmark_core::observation;
use hallmark_core::render;
use hallmark_core::rubric::Rubric;
use hallmark_core::score::score;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn cases(dir: &str) -> PathBuf {
    root().join("tests/cases").join(dir)
}

fn rubric(id: &str) -> Rubric {
    let path = root().join("rubrics").join(format!("{id}.toml"));
    let text = fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    Rubric::load(&format!("rubrics/{id}.toml"), &text).unwrap_or_else(|e| panic!("{e}"))
}

/// Rubric `id` at `version` as hallmark shipped it (a file recorded against an earlier version
/// is scored by that version), else the current file in rubrics/.
fn rubric_at(id: &str, version: Option<&str>) -> Rubric {
    match version.and_then(|v| hallmark_core::builtin::find(id, v)) {
        Some(s) => Rubric::load(&format!("rubrics/{}", s.file), s.text).unwrap_or_else(|e| panic!("{e}")),
        None => rubric(id),
    }
}

fn rubric_of(json_text: &str) -> Rubric {
    let v: serde_json::Value = serde_json::from_str(json_text).expect("case is JSON");
    rubric_at(v["rubric"].as_str().expect("case names its rubric"), v["rubric_version"].as_str())
}

/// Compares with the expected file, or rewrites it under UPDATE_EXPECT=1. Returns a failure.
fn check(expected_path: &Path, actual: &str) -> Option<String> {
    if std::env::var_os("UPDATE_EXPECT").is_some() {
        fs::write(expected_path, actual).unwrap();
        return None;
    }
    let expected = fs::read_to_string(expected_path).unwrap_or_default();
    (expected != actual)
        .then(|| format!("--- {} (expected)\n{expected}\n+++ actual\n{actual}\n(run with UPDATE_EXPECT=1 to accept)", expected_path.display()))
}

fn sorted_files(dir: &Path, ext: &str) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == ext))
        .collect();
    v.sort();
    v
}

fn finish(failures: Vec<String>, n: usize) {
    assert!(n > 0, "no cases found: a test that checks nothing cannot fail");
    assert!(failures.is_empty(), "{} of {n} cases failed:\n{}", failures.len(), failures.join("\n\n"));
}

#[test]
fn score_cases() {
    let files = sorted_files(&cases("score"), "json");
    let mut failures = Vec::new();
    for f in &files {
        let text = fs::read_to_string(f).unwrap();
        let r = rubric_of(&text);
        let name = format!("{}", f.file_name().unwrap().to_string_lossy());
        let actual = match observation::parse(&name, &text, &r) {
            Ok(obs) => render::sheet_text(&r, &score(&r, &obs)),
            Err(e) => format!("refused:\n{e}\n"),
        };
        failures.extend(check(&f.with_extension("expected"), &actual));
    }
    finish(failures, files.len());
}

#[test]
fn examples_score_as_documented() {
    // The complete examples in examples/ are what newcomers copy: they must score cleanly.
    let mut n = 0;
    let mut files = sorted_files(&root().join("examples"), "json");
    files.extend(sorted_files(&root().join("examples/liaoning-panel"), "json"));
    for f in files {
        let text = fs::read_to_string(&f).unwrap();
        let r = rubric_of(&text);
        let obs = observation::parse("example", &text, &r).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
        let sheet = score(&r, &obs);
        assert!(sheet.complete, "{} is not complete: {:?}", f.display(), sheet.diagnostics);
        n += 1;
    }
    assert!(n >= 2);
}

#[test]
fn aggregate_cases() {
    let dir = cases("aggregate");
    let mut panels: Vec<PathBuf> = fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).filter(|p| p.is_dir()).collect();
    panels.sort();
    let mut failures = Vec::new();
    for p in &panels {
        let mut sheets = Vec::new();
        let mut r = None;
        for f in sorted_files(p, "json") {
            let text = fs::read_to_string(&f).unwrap();
            let rb = r.get_or_insert_with(|| rubric_of(&text));
            let obs = observation::parse("case", &text, rb).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
            sheets.push(score(rb, &obs));
        }
        let r = r.expect("panel has files");
        let actual = match aggregate(&r, &sheets) {
            Ok(panel) => render::panel_text(&r, &panel),
            Err(e) => format!("refused: {e}\n"),
        };
        failures.extend(check(&p.with_extension("expected"), &actual));
    }
    finish(failures, panels.len());
}

/// Every file in `dir` must be refused; its message must equal `<name>.expected`.
fn refusal_cases(dir: &str, ext: &str, parse: impl Fn(&str, &str) -> Result<(), String>) {
    let files = sorted_files(&cases(dir), ext);
    let mut failures = Vec::new();
    for f in &files {
        let text = fs::read_to_string(f).unwrap();
        let name = format!("{}", f.file_name().unwrap().to_string_lossy());
        let actual = match parse(&name, &text) {
            Ok(()) => {
                failures.push(format!("{name}: bad input was accepted"));
                "accepted\n".to_string()
            }
            Err(e) => format!("{e}\n"),
        };
        failures.extend(check(&f.with_extension("expected"), &actual));
    }
    finish(failures, files.len());
}

#[test]
fn bad_rubrics_are_refused_with_a_message() {
    refusal_cases("bad-rubric", "toml", |name, text| Rubric::load(name, text).map(|_| ()).map_err(|e| e.to_string()));
}

#[test]
fn bad_observations_are_refused_with_a_message() {
    refusal_cases("bad-observations", "json", |name, text| {
        // A file that does not parse is read against the current version.
        let version = serde_json::from_str::<serde_json::Value>(text).ok().and_then(|v| v["rubric_version"].as_str().map(str::to_string));
        let r = rubric_at(if name.starts_with("liaoning") { "liaoning-demo-window" } else { "jiangsu-15min" }, version.as_deref());
        observation::parse(name, text, &r).map(|_| ()).map_err(|e| e.to_string())
    });
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Boundary {
    name: String,
    rubric: String,
    /// the observation file's rubric_version (default: the current version)
    rubric_version: Option<String>,
    /// the observation file's site.level
    site_level: Option<String>,
    /// the observation file's visited_on
    visited_on: Option<String>,
    answers: toml::Table,
    #[serde(default)]
    veto: BTreeMap<String, bool>,
    /// item id → expected points
    #[serde(default)]
    expect: BTreeMap<String, String>,
    expect_total: Option<String>,
    expect_vetoed: Option<bool>,
    /// substring expected in the explanations of the expected items
    explain: Option<String>,
}

#[test]
fn boundaries() {
    #[derive(serde::Deserialize)]
    struct File {
        case: Vec<Boundary>,
    }
    let text = fs::read_to_string(cases("boundaries.toml")).unwrap();
    let file: File = toml::from_str(&text).unwrap_or_else(|e| panic!("boundaries.toml: {e}"));
    let mut rubrics: BTreeMap<(String, Option<String>), Rubric> = BTreeMap::new();
    let mut failures = Vec::new();
    for c in &file.case {
        let r = rubrics.entry((c.rubric.clone(), c.rubric_version.clone())).or_insert_with(|| rubric_at(&c.rubric, c.rubric_version.as_deref()));
        let mut json = serde_json::json!({
            "format": "hallmark-observations/1",
            "rubric": c.rubric,
            "site": { "level": c.site_level },
            "answers": serde_json::to_value(&c.answers).unwrap(),
            "veto": c.veto,
        });
        if let Some(v) = &c.rubric_version {
            json["rubric_version"] = v.clone().into();
        }
        if let Some(d) = &c.visited_on {
            json["visited_on"] = d.clone().into();
        }
        let obs = match observation::parse(&c.name, &json.to_string(), r) {
            Ok(o) => o,
            Err(e) => {
                failures.push(format!("{}: refused: {e}", c.name));
                continue;
            }
        };
        let sheet = score(r, &obs);
        let mut explanations = Vec::new();
        for (item, want) in &c.expect {
            let Some(got) = sheet.items.iter().find(|s| &s.id == item) else {
                failures.push(format!("{}: no item '{item}'", c.name));
                continue;
            };
            let why: Vec<&str> = got.parts.iter().map(|p| p.explanation.as_str()).collect();
            explanations.push(why.join("；"));
            let got_s = got.points.map(|p| p.normalize().to_string()).unwrap_or_else(|| "unanswered".into());
            if &got_s != want {
                failures.push(format!("{}: item {item}: expected {want}, got {got_s} ({})", c.name, why.join("；")));
            }
        }
        if let Some(sub) = &c.explain {
            if !explanations.iter().any(|e| e.contains(sub.as_str())) {
                failures.push(format!("{}: explanation lacks '{sub}': {}", c.name, explanations.join(" | ")));
            }
        }
        if let Some(t) = &c.expect_total {
            if &sheet.total.normalize().to_string() != t {
                failures.push(format!("{}: total expected {t}, got {}", c.name, sheet.total));
            }
        }
        if let Some(v) = c.expect_vetoed {
            if sheet.veto.vetoed != v {
                failures.push(format!("{}: vetoed expected {v}, got {}", c.name, sheet.veto.vetoed));
            }
        }
    }
    finish(failures, file.case.len());
}

#[test]
fn every_shipped_rubric_version_loads_and_is_what_the_table_says() {
    use hallmark_core::builtin;
    for s in builtin::SHIPPED {
        let r = Rubric::load(s.file, s.text).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((r.id.as_str(), r.version.as_str()), (s.id, s.version), "{}", s.file);
        let on_disk = fs::read_to_string(root().join("rubrics").join(s.file)).unwrap();
        assert_eq!(on_disk, s.text, "rubrics/{} differs from the built-in copy", s.file);
    }
    for (file, text) in builtin::ALL {
        assert!(builtin::SHIPPED.iter().any(|s| s.file == file && s.text == text), "{file} is not in SHIPPED");
    }
}

/// Issue #14: the time sample of version 1 scored as soon as any row existed (the app's
/// "添加一行" gave 事项1 / 1 / 1 and 5/5). Inspections pinned to version 1 keep those rules.
#[test]
fn version_1_still_scores_a_single_row_and_version_2_does_not() {
    let one_row = r#"[{"matter": "事项1", "unit": "工作日", "standard": 1, "actual": 1}]"#;
    let points = |version: &str| {
        let r = rubric_at("liaoning-demo-window", Some(version));
        let text = format!(
            r#"{{"format": "hallmark-observations/1", "rubric": "liaoning-demo-window", "rubric_version": "{version}", "answers": {{"timeliness.sample": {one_row}}}}}"#
        );
        let sheet = score(&r, &observation::parse("t", &text, &r).unwrap());
        sheet.items.iter().find(|i| i.id == "timeliness").unwrap().points
    };
    assert_eq!(points("1"), Some(5.into()));
    assert_eq!(points("2"), None);
}
