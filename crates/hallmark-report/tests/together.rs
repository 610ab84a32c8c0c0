//! A report's PDF and its sidecar appear together or not at all (issue #15).

use std::path::Path;

use hallmark_report::model::Details;
use hallmark_report::{Group, Out, Request};
use hallmark_store::Store;

const NOW: &str = "2026-11-25T09:00:00.000Z";

fn lead(root: &Path) -> Store {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/bundles/demo");
    let mut store = Store::open_at(&root.join("lead.db"), &root.join("lead.db-files"), NOW).unwrap();
    let mut bundles: Vec<_> =
        std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).filter(|p| p.extension().is_some_and(|x| x == "hallmark")).collect();
    bundles.sort();
    for b in bundles {
        store.import_bundle(&b, NOW, &mut |_, _| {}).unwrap();
    }
    store
}

#[test]
fn a_sidecar_that_cannot_be_written_leaves_no_pdf() {
    let tmp = tempfile::tempdir().unwrap();
    let store = lead(tmp.path());
    let out = tmp.path().join("out");
    std::fs::create_dir_all(out.join("r.pdf.sig.json")).unwrap(); // the sidecar's place is taken
    std::fs::write(out.join(".old.pdf.tmp-0190"), b"a killed writer's leftover").unwrap();
    let old = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
    std::fs::File::options().write(true).open(out.join(".old.pdf.tmp-0190")).unwrap().set_modified(old).unwrap();
    let details = Details::default();
    let request = Request {
        group: Group::Matching { site: Some("铁岭"), rubric: None },
        details: &details,
        out: Out::File(&out.join("r.pdf")),
        today: "2026-11-25",
        now: NOW,
        draft: false,
    };
    let e = hallmark_report::make(&store, &request).unwrap_err();
    assert!(e.to_string().contains("cannot write") && e.to_string().contains("r.pdf"), "{e}");
    assert!(
        store.report_issue("铁岭县医疗保障事务服务中心", "liaoning-demo-window").unwrap().is_none(),
        "a report not written records no issue date"
    );
    let mut left: Vec<String> = std::fs::read_dir(&out).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    left.sort();
    assert_eq!(left, ["r.pdf.sig.json"], "no PDF without its sidecar, no temp file, and the stale temp swept");
}
