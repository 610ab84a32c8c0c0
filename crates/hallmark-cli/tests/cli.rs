//! The `hallmark` binary end to end on real files: exit codes, output, and that a refused
//! input prints only an error (nothing on stdout, no file written).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn hallmark(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_hallmark")).args(args).current_dir(root()).output().unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn rubric_check_passes_on_both_seeds() {
    let o = hallmark(&["rubric", "check", "rubrics/jiangsu-15min.toml", "rubrics/liaoning-demo-window.toml"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("32 items"), "{out}");
    assert!(out.contains("19 items"), "{out}");
    assert!(out.contains("text-points-mismatch"), "Jiangsu 2.(4) must be reported: {out}");
    assert!(out.contains("band-overlap") && out.contains("band-gap"), "{out}");
}

#[test]
fn rubric_check_fails_on_a_bad_rubric() {
    let o = hallmark(&["rubric", "check", "tests/cases/bad-rubric/unknown-rule-kind.toml"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("unknown rule kind 'deduct_each'"), "{}", stderr(&o));
    let o = hallmark(&["rubric", "check", "tests/cases/bad-rubric/band-gap-without-interpretation.toml"]);
    assert_eq!(o.status.code(), Some(1), "an unanswered finding fails the check");
}

#[test]
fn rubric_show_lists_inputs() {
    let o = hallmark(&["rubric", "show", "liaoning-demo-window"]);
    assert!(o.status.success());
    assert!(stdout(&o).contains("layout.floor_area (measurement)"));
}

#[test]
fn score_prints_the_sheet_and_json() {
    let o = hallmark(&["score", "examples/jiangsu-complete.json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("总分 81.7 / 100"), "{}", stdout(&o));
    let o = hallmark(&["score", "--json", "--rubric", "liaoning-demo-window", "examples/liaoning-complete.json"]);
    assert!(o.status.success());
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["total"], "89");
    assert_eq!(v["complete"], true);
    assert_eq!(v["veto"]["vetoed"], false);
}

#[test]
fn aggregate_concludes_on_five_and_not_on_four() {
    let five: Vec<String> = (1..=5).map(|i| format!("examples/liaoning-panel/a{i}.json")).collect();
    let mut args = vec!["aggregate", "--json"];
    args.extend(five.iter().map(String::as_str));
    let o = hallmark(&args);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["final_score"], "90.2");
    assert_eq!(v["conclusion"]["outcome"], "pass");
    assert_eq!(v["conclusion"]["text"], "符合医疗保障经办服务示范窗口要求");

    let mut args = vec!["aggregate"];
    args.extend(five[..4].iter().map(String::as_str));
    let o = hallmark(&args);
    assert!(o.status.success());
    assert!(stdout(&o).contains("评价人员不足5名，不能形成评价结论"), "{}", stdout(&o));
    // Issue #13, on purpose: four assessors give no final score, only the mean, labelled.
    // Before, the JSON said final_score "90.25" next to 评价人员不足5名.
    assert!(stdout(&o).contains("最终得分：无（评价人员不足5名）；暂定平均分：90.25"), "{}", stdout(&o));
    let mut args = vec!["aggregate", "--json"];
    args.extend(five[..4].iter().map(String::as_str));
    let v: serde_json::Value = serde_json::from_slice(&hallmark(&args).stdout).unwrap();
    assert_eq!((&v["final_score"], &v["mean"]), (&serde_json::Value::Null, &serde_json::json!("90.25")));
    assert_eq!(v["conclusion"]["outcome"], "insufficient");
}

#[test]
fn bad_observations_exit_non_zero_and_print_nothing_on_stdout() {
    for (file, needle) in [
        ("liaoning-humidity-140.json", "140 % is outside the valid range"),
        ("liaoning-temperature-without-unit.json", "has no unit"),
        ("jiangsu-unknown-input-id.json", "unknown input '1.2.flor_area'"),
        ("jiangsu-negative-count.json", "is negative"),
        ("jiangsu-wrong-type-yes-no.json", "is not true/false"),
        ("jiangsu-truncated-json.json", "not valid JSON"),
    ] {
        let path = format!("tests/cases/bad-observations/{file}");
        let rubric = if file.starts_with("liaoning") { "liaoning-demo-window" } else { "jiangsu-15min" };
        let o = hallmark(&["score", "--rubric", rubric, &path]);
        assert_eq!(o.status.code(), Some(1), "{file}");
        assert!(o.stdout.is_empty(), "{file}: a refused file must print no sheet");
        let err = stderr(&o);
        assert!(err.starts_with("error: "), "{file}: {err}");
        assert!(err.contains(needle), "{file}: {err}");
        assert!(err.contains(file), "{file}: the message names the file: {err}");
    }
}

#[test]
fn a_missing_file_is_a_clear_error() {
    let o = hallmark(&["score", "no-such-file.json"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("no-such-file.json: cannot read"), "{}", stderr(&o));
}

/// The lead's workflow through the binary: demo bundles, roster, import (twice), merge,
/// report, verify; a tampered copy fails with exit code 1 and a reason.
#[test]
fn lead_workflow_import_merge_report_verify() {
    let t = std::env::temp_dir().join(format!("hallmark-cli-lead-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&t);
    let dir = t.join("bundles");
    let db = t.join("lead.db");
    let (d, db_s) = (dir.to_str().unwrap(), db.to_str().unwrap());
    let o = hallmark(&["demo", d, "--lead", db_s]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(hallmark(&["roster", "add", "--db", db_s, "--file", &format!("{d}/roster.tsv")]).status.success());
    let mut files: Vec<String> =
        std::fs::read_dir(&dir).unwrap().flatten().map(|e| e.path().display().to_string()).filter(|p| p.ends_with(".hallmark")).collect();
    files.sort();
    let mut args = vec!["import", "--db", db_s];
    args.extend(files.iter().map(String::as_str));
    let o = hallmark(&args);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stdout(&o).matches("已导入").count(), 6, "{}", stdout(&o));
    let o = hallmark(&["import", "--db", db_s, &files[1]]);
    assert!(stdout(&o).contains("already imported"), "{}", stdout(&o));

    let o = hallmark(&["merge", "--db", db_s, "--json"]);
    let groups: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    let ln = groups.as_array().unwrap().iter().find(|g| g["rubric_id"] == "liaoning-demo-window").unwrap();
    assert_eq!(ln["panel"]["final_score"], "90.2");
    assert_eq!(ln["panel"]["totals"], serde_json::json!(["91", "90", "93", "87", "90"]));

    let pdf = t.join("report.pdf");
    let o = hallmark(&["report", "--db", db_s, "--out", pdf.to_str().unwrap()]);
    assert!(!o.status.success() && stderr(&o).contains("--rubric liaoning-demo-window"), "two groups need a choice: {}", stderr(&o));
    let o = hallmark(&[
        "report",
        "--db",
        db_s,
        "--rubric",
        "liaoning-demo-window",
        "--details",
        &format!("{d}/report-details.toml"),
        "--out",
        pdf.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    // Issue #10 changed this on purpose: without a trusted root, verify exits 1.
    let o = hallmark(&["verify", pdf.to_str().unwrap(), "--bundles", d]);
    assert_eq!(o.status.code(), Some(1), "{}{}", stdout(&o), stderr(&o));
    assert!(stdout(&o).contains("signature valid, but the signer is not trusted: pass --trust"), "{}", stdout(&o));
    let o = hallmark(&["verify", pdf.to_str().unwrap(), "--bundles", d, "--trust", &format!("{d}/bureau-root.pem")]);
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
    let mut bytes = std::fs::read(&pdf).unwrap();
    bytes[1234] ^= 1;
    let bad = t.join("bad.pdf");
    std::fs::write(&bad, bytes).unwrap();
    std::fs::copy(t.join("report.pdf.sig.json"), t.join("bad.pdf.sig.json")).unwrap();
    let o = hallmark(&["verify", bad.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stdout(&o).contains("FAIL  PDF SHA-256"), "{}", stdout(&o));
    let xlsx = t.join("scores.xlsx");
    assert!(hallmark(&["scores", "--db", db_s, "--rubric", "liaoning-demo-window", "--out", xlsx.to_str().unwrap()]).status.success());
    let _ = std::fs::remove_dir_all(&t);
}

// ---------- regression tests, named after the case (issue #15, input limits) ----------

#[test]
fn json_syntax_error_without_rubric_is_reported_as_json() {
    let o = hallmark(&["score", "tests/cases/bad-observations/jiangsu-truncated-json.json"]);
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert!(err.contains("jiangsu-truncated-json.json: not valid JSON at line 1 column"), "{err}");
    assert!(!err.contains("no \"rubric\""), "{err}");
}

#[test]
fn duplicate_json_key_is_refused_naming_the_key() {
    let o = hallmark(&["score", "tests/cases/bad-observations/liaoning-duplicate-key.json"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("duplicate key \"layout.transfers\" in answers"), "{}", stderr(&o));
    assert!(stdout(&o).is_empty(), "a refused file scores nothing");
}

#[test]
fn observation_file_over_the_size_limit_is_refused_up_front() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("huge.json");
    let mut text = String::from("{\"format\": \"hallmark-observations/1\", \"rubric\": \"jiangsu-15min\", \"x\": \"");
    text.push_str(&"a".repeat(17 << 20));
    text.push_str("\"}");
    std::fs::write(&path, text).unwrap();
    let o = hallmark(&["score", path.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert!(err.contains("bytes, more than the 16 MiB an observation file may hold"), "{err}");
}

#[test]
fn rubric_file_over_the_size_limit_is_refused_up_front() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("huge.toml");
    std::fs::write(&path, format!("# {}\n", "a".repeat(5 << 20))).unwrap();
    let o = hallmark(&["rubric", "check", path.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert!(err.contains("bytes, more than the 4 MiB a rubric file may hold"), "{err}");
}

// ---------- regression tests (issue #15, damaged stores): only creating commands create ----------

#[test]
fn list_on_a_typod_db_creates_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let typo = dir.path().join("sub/leed.db");
    for args in [vec!["list"], vec!["merge"], vec!["roster", "list"], vec!["report", "--out", "r.pdf"], vec!["scores", "--out", "s.csv"]] {
        let mut a: Vec<&str> = args.clone();
        a.extend(["--db", typo.to_str().unwrap()]);
        let o = hallmark(&a);
        assert_eq!(o.status.code(), Some(1), "{args:?}: {}", stdout(&o));
        assert!(stderr(&o).contains("no hallmark database here"), "{args:?}: {}", stderr(&o));
        assert!(!dir.path().join("sub").exists(), "{args:?} created {}", typo.display());
    }
}

#[test]
fn zero_length_db_is_refused_not_recreated() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("lead.db");
    std::fs::write(&db, b"").unwrap();
    for args in [vec!["list"], vec!["merge"]] {
        let mut a: Vec<&str> = args.clone();
        a.extend(["--db", db.to_str().unwrap()]);
        let o = hallmark(&a);
        assert_eq!(o.status.code(), Some(1), "{args:?}");
        assert!(stderr(&o).contains("is empty (0 bytes)"), "{args:?}: {}", stderr(&o));
        assert_eq!(std::fs::metadata(&db).unwrap().len(), 0, "{args:?} wrote into the empty file");
    }
}
