//! The evidence appendix prints each photo's caption (issue #14): what the inspector wrote
//! about a photo reaches the signed report.

use std::path::Path;
use std::process::Command;

use hallmark_report::model::Details;
use hallmark_report::{Group, Out, Request};
use hallmark_store::Store;

const NOW: &str = "2026-11-25T09:00:00.000Z";

#[test]
fn photo_captions_print_in_the_evidence_appendix() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/bundles/demo");
    let mut store = Store::open_at(&tmp.path().join("lead.db"), &tmp.path().join("lead.db-files"), NOW).unwrap();
    let mut bundles: Vec<_> =
        std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).filter(|p| p.extension().is_some_and(|x| x == "hallmark")).collect();
    bundles.sort();
    for b in bundles {
        store.import_bundle(&b, NOW, &mut |_, _| {}).unwrap();
    }
    let details = Details::default();
    let pdf = tmp.path().join("r.pdf");
    let request = Request {
        group: Group::Matching { site: Some("铁岭"), rubric: None },
        details: &details,
        out: Out::File(&pdf),
        today: "2026-11-25",
        now: NOW,
        draft: false,
    };
    hallmark_report::make(&store, &request).unwrap();
    let text = Command::new("pdftotext").arg(&pdf).arg("-").output().unwrap();
    let text = String::from_utf8_lossy(&text.stdout);
    let appendix = text.split("附：证据照片").nth(1).expect("the evidence appendix");
    for caption in ["服务大厅全景", "窗口办公设施"] {
        assert!(appendix.contains(caption), "the appendix lacks the caption {caption}");
    }
}
