//! Issue #14: a report is signed only for a panel that concludes. Fewer assessors than the
//! rubric asks, or an incomplete sheet, is refused (`panel_incomplete`) unless the lead asks
//! for a draft, which prints 草稿 on every page and is not sealed. A vetoed panel is a
//! conclusion (不予通过) and is signed as one.

use std::path::{Path, PathBuf};
use std::process::Command;

use hallmark_report::{model, Group, Out, Request};
use hallmark_store::{demo, NewInspection, Store};
use serde_json::Value;

const NOW: &str = "2026-11-21T09:00:00.000Z";
const TODAY: &str = "2026-11-21";
const SITE: &str = "铁岭县医疗保障事务服务中心";

/// A lead database holding the Liaoning demo bundles `take` (by index 0..5) and `extra`.
fn lead(dir: &Path, take: &[usize], extra: &[PathBuf]) -> Store {
    let bundles = demo::write_bundles(&dir.join("bundles")).unwrap();
    let lead_dir = dir.join("lead");
    hallmark_store::identity::install_seed(&lead_dir, &[7u8; 32]).unwrap();
    let mut store = Store::open(&lead_dir, NOW).unwrap();
    for k in take {
        store.import_bundle(&bundles[*k].path, NOW, &mut |_, _| {}).unwrap();
    }
    for p in extra {
        store.import_bundle(p, NOW, &mut |_, _| {}).unwrap();
    }
    store
}

/// One more assessor's Liaoning sheet of the demo hall, from a tablet of its own, recording
/// `veto` (veto ids that occurred), finished and exported; `sample` replaces the example's
/// time sample.
fn another_assessor(dir: &Path, name: &str, veto: &[&str], sample: Option<Value>) -> PathBuf {
    let example: Value = serde_json::from_str(&std::fs::read_to_string(root().join("examples/liaoning-panel/a1.json")).unwrap()).unwrap();
    let tablet = dir.join(format!("tablet-{name}"));
    let mut store = Store::open(&tablet, NOW).unwrap();
    let id = store
        .create_inspection(
            &NewInspection {
                rubric_text: hallmark_core::builtin::LIAONING.to_string(),
                site_name: SITE.into(),
                site_address: example["site"]["address"].as_str().unwrap().into(),
                site_level: "county".into(),
                visited_on: "2026-11-20".into(),
                assessor_name: name.into(),
                assessor_unit: "铁岭市医疗保障局".into(),
                assessor_title: "科员".into(),
                assessor_phone: "024-70000000".into(),
                ..Default::default()
            },
            NOW,
        )
        .unwrap();
    for (key, value) in example["answers"].as_object().unwrap() {
        let value = match &sample {
            Some(v) if key == "timeliness.sample" => v.clone(),
            _ => value.clone(),
        };
        store.record(&id, key, Some(value), name, NOW).unwrap();
    }
    for (key, value) in example["veto"].as_object().unwrap() {
        let occurred = veto.contains(&key.as_str());
        store.record(&id, &format!("veto:{key}"), Some(if occurred { Value::Bool(true) } else { value.clone() }), name, NOW).unwrap();
    }
    store.finish(&id, NOW).unwrap();
    let out = dir.join(format!("{name}.hallmark"));
    store.export_bundle(&id, &out, NOW, &mut |_, _| {}).unwrap();
    out
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn request<'a>(details: &'a model::Details, out: &'a Path, draft: bool) -> Request<'a> {
    Request { group: Group::Named { site: SITE, rubric: "liaoning-demo-window" }, details, out: Out::File(out), today: TODAY, now: NOW, draft }
}

/// The text of each page of a PDF, by poppler's pdftotext.
fn pages(pdf: &Path) -> Vec<String> {
    let out = Command::new("pdftotext").args(["-layout"]).arg(pdf).arg("-").output().expect("pdftotext (apt-get install poppler-utils)");
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let mut pages: Vec<String> = text.split('\u{c}').map(str::to_string).collect();
    if pages.last().is_some_and(|p| p.trim().is_empty()) {
        pages.pop();
    }
    pages
}

#[test]
fn a_panel_of_four_is_refused_and_names_what_is_missing() {
    let t = tempfile::tempdir().unwrap();
    let store = lead(t.path(), &[0, 1, 2, 3], &[]);
    let out = t.path().join("report.pdf");
    let details = model::Details::default();
    let err = hallmark_report::make(&store, &request(&details, &out, false)).unwrap_err();
    assert_eq!(err.code(), "panel_incomplete", "{err}");
    let message = err.to_string();
    assert!(message.contains("4 assessors") && message.contains("at least 5") && message.contains("--draft"), "{message}");
    assert!(!out.exists(), "a refused report writes no PDF");
    assert!(!hallmark_report::seal::sidecar_path(&out).exists());
}

#[test]
fn an_incomplete_sheet_is_refused_and_named() {
    let t = tempfile::tempdir().unwrap();
    // The fifth assessor's sheet lacks its time sample: a blank row is not an answer (issue #14).
    let blank =
        another_assessor(t.path(), "赵磊", &[], Some(serde_json::json!([{ "matter": "", "unit": "工作日", "standard": null, "actual": null }])));
    let store = lead(t.path(), &[0, 1, 2, 3], &[blank]);
    let details = model::Details::default();
    let err = hallmark_report::make(&store, &request(&details, &t.path().join("r.pdf"), false)).unwrap_err();
    assert_eq!(err.code(), "panel_incomplete", "{err}");
    assert!(err.to_string().contains("'赵磊'"), "{err}");
}

#[test]
fn a_draft_prints_草稿_on_every_page_and_is_not_sealed() {
    let t = tempfile::tempdir().unwrap();
    let store = lead(t.path(), &[0, 1, 2, 3], &[]);
    let out = t.path().join("draft.pdf");
    let details = model::Details::default();
    let made = hallmark_report::make(&store, &request(&details, &out, true)).unwrap();
    assert!(made.report.draft);
    assert!(made.sidecar.is_none(), "a draft has no signature sidecar");
    assert!(!hallmark_report::seal::sidecar_path(&out).exists());
    let pages = pages(&out);
    assert!(pages.len() >= 3, "{} pages", pages.len());
    for (n, page) in pages.iter().enumerate() {
        assert!(page.contains("草稿"), "page {} has no 草稿:\n{page}", n + 1);
    }
    // verify never takes a draft for a report: there is nothing that signs it.
    assert!(hallmark_report::seal::verify(&out, None).is_err_and(|e| e.to_string().contains("A draft report, 草稿, has none")));
    let info = Command::new("pdfinfo").arg(&out).output().unwrap();
    let info = String::from_utf8_lossy(&info.stdout).into_owned();
    assert!(info.lines().any(|l| l.starts_with("Title:") && l.contains("草稿 ")), "the PDF's title says draft:\n{info}");
    // A draft issues nothing: no 报告日期 is recorded.
    assert_eq!(store.report_issue(SITE, "liaoning-demo-window").unwrap(), None);
}

#[test]
fn a_vetoed_panel_is_signed_as_不予通过() {
    let t = tempfile::tempdir().unwrap();
    let vetoed = another_assessor(t.path(), "赵磊", &["veto1"], None);
    let store = lead(t.path(), &[0, 1, 2, 3], &[vetoed]);
    let out = t.path().join("vetoed.pdf");
    let details = model::Details::default();
    let made = hallmark_report::make(&store, &request(&details, &out, false)).unwrap();
    assert_eq!(made.report.outcome, "vetoed");
    assert!(made.report.grade.starts_with("不予通过"), "{}", made.report.grade);
    assert!(!made.report.draft);
    let v = hallmark_report::seal::verify(&out, None).unwrap();
    assert!(v.ok, "{}", v.text());
    let text = pages(&out).join("\n");
    assert!(text.contains("不予通过") && text.contains("取消示范窗口评价资格"), "{text}");
    assert!(!text.contains("草稿") && !text.contains("不能形成评价结论"));
}

#[test]
fn a_vetoed_panel_of_four_is_a_conclusion_too() {
    let t = tempfile::tempdir().unwrap();
    let vetoed = another_assessor(t.path(), "赵磊", &["veto1"], None);
    let store = lead(t.path(), &[0, 1, 2], &[vetoed]);
    let details = model::Details::default();
    let made = hallmark_report::make(&store, &request(&details, &t.path().join("v.pdf"), false)).unwrap();
    assert_eq!(made.report.outcome, "vetoed");
}

/// A smaller sample scored on the inspector's reason: the reason prints under the item.
#[test]
fn a_short_sample_prints_its_reason_under_the_item() {
    let t = tempfile::tempdir().unwrap();
    let example: Value = serde_json::from_str(&std::fs::read_to_string(root().join("examples/liaoning-panel/a1.json")).unwrap()).unwrap();
    let rows: Vec<Value> = example["answers"]["timeliness.sample"].as_array().unwrap()[..20].to_vec();
    let sample = serde_json::json!({ "rows": rows, "fewer_reason": "本季度仅受理20件限时办结事项" });
    let short = another_assessor(t.path(), "赵磊", &[], Some(sample));
    let store = lead(t.path(), &[0, 1, 2, 3], &[short]);
    let out = t.path().join("short.pdf");
    let details = model::Details::default();
    let made = hallmark_report::make(&store, &request(&details, &out, false)).unwrap();
    let item = made.report.items.iter().find(|i| i.id == "timeliness").unwrap();
    assert_eq!(item.notes, ["抽样20件，少于规定的50件。原因：本季度仅受理20件限时办结事项（赵磊）"]);
    let text: String = pages(&out).join("").split_whitespace().collect();
    assert!(text.contains("注：抽样20件，少于规定的50件。原因：本季度仅受理20件限时办结事项（赵磊）"), "{text}");
}
