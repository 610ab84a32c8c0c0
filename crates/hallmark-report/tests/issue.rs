//! The use cases as the app and the CLI call them: `make` and `scores` write what the
//! step-by-step pipeline writes, under the app's names, and refuse a wrong group or format.

use std::path::Path;

use hallmark_report::{model, pdf, seal, Group, Out, Request};
use hallmark_store::{demo, Store};

const NOW: &str = "2026-11-21T09:00:00.000Z";
/// The lead's local date when the report is first made.
const TODAY: &str = "2026-11-20";

fn lead(dir: &Path) -> Store {
    let bundles = demo::write_bundles(&dir.join("bundles")).unwrap();
    let lead_dir = dir.join("lead");
    hallmark_store::identity::install_seed(&lead_dir, &[7u8; 32]).unwrap();
    let mut store = Store::open(&lead_dir, NOW).unwrap();
    for b in &bundles {
        store.import_bundle(&b.path, NOW, &mut |_, _| {}).unwrap();
    }
    store
}

#[test]
fn make_writes_the_pipeline_s_bytes_and_scores_follow_the_format() {
    let t = tempfile::tempdir().unwrap();
    let store = lead(t.path());
    let details = model::Details { leader: Some("王敏".into()), ..Default::default() };
    let site = model::pick_group(&store, None, Some("liaoning-demo-window")).unwrap().site;

    // Step by step, as the CLI and the app did before.
    let group = model::pick_group(&store, None, Some("liaoning-demo-window")).unwrap();
    let report = model::build(&store, &group, &details, TODAY).unwrap();
    let assets = pdf::Assets::collect(&report, |s| store.thumb_path(s), |s| store.signature_path(s)).unwrap();
    let bytes = pdf::render(&report, assets, pdf::load_fonts().unwrap()).unwrap();
    let by_hand = t.path().join("by-hand.pdf");
    let signed_at = chrono::DateTime::parse_from_rfc3339(NOW).unwrap().with_timezone(&chrono::Utc);
    seal::write(&by_hand, &bytes, &seal::seal(&report, &bytes, store.device_key(), signed_at)).unwrap();

    let folder = t.path().join("out");
    let made = hallmark_report::make(
        &store,
        &Request {
            group: Group::Named { site: &site, rubric: "liaoning-demo-window" },
            details: &details,
            out: Out::Folder(&folder),
            today: TODAY,
            now: NOW,
            draft: false,
        },
    )
    .unwrap();
    assert_eq!(made.pdf, folder.join(format!("评价报告-{}.pdf", report.number)));
    assert_eq!(made.sidecar, Some(seal::sidecar_path(&made.pdf)));
    assert_eq!(made.pdf_size, bytes.len());
    assert_eq!(std::fs::read(&made.pdf).unwrap(), bytes, "make's PDF differs from the pipeline's");
    assert_eq!(
        std::fs::read(made.sidecar.as_ref().unwrap()).unwrap(),
        std::fs::read(seal::sidecar_path(&by_hand)).unwrap(),
        "make's sidecar differs"
    );
    assert!(seal::verify(&made.pdf, None).unwrap().ok);

    let err = hallmark_report::make(
        &store,
        &Request {
            group: Group::Named { site: "铁岭", rubric: "liaoning-demo-window" },
            details: &details,
            out: Out::Folder(&folder),
            today: TODAY,
            now: NOW,
            draft: false,
        },
    )
    .unwrap_err();
    assert_eq!((err.code(), err.to_string().as_str()), ("invalid", "no merged inspections of '铁岭' with rubric 'liaoning-demo-window'"));

    let named = Request {
        group: Group::Named { site: &site, rubric: "liaoning-demo-window" },
        details: &Default::default(),
        out: Out::Folder(&folder),
        today: TODAY,
        now: NOW,
        draft: false,
    };
    let csv = hallmark_report::scores(&store, &named, Some("csv")).unwrap();
    assert_eq!(csv.path, folder.join(format!("评分明细-{}.csv", site.replace(|c: char| !c.is_alphanumeric() && c != '-', "_"))));
    assert_eq!((csv.assessors, csv.items), (5, 19));
    assert_eq!(std::fs::read(&csv.path).unwrap(), hallmark_report::table::csv(&model::build(&store, &group, &Default::default(), TODAY).unwrap()));
    let err = hallmark_report::scores(&store, &named, Some("pdf")).unwrap_err();
    assert_eq!(err.to_string(), "format 'pdf' is not csv or xlsx");

    let file = t.path().join("scores.txt");
    let matching = Request {
        group: Group::Matching { site: Some("铁岭"), rubric: None },
        details: &details,
        out: Out::File(&file),
        today: TODAY,
        now: NOW,
        draft: false,
    };
    let err = hallmark_report::scores(&store, &matching, None).unwrap_err();
    assert_eq!(err.to_string(), format!("{}: name the file .csv or .xlsx", file.display()));
    assert!(!file.exists());
    let xlsx = t.path().join("scores.xlsx");
    let written = hallmark_report::scores(&store, &Request { out: Out::File(&xlsx), ..matching }, None).unwrap();
    assert_eq!(written.path, xlsx);
    assert_eq!(&std::fs::read(&xlsx).unwrap()[..2], b"PK");
}
