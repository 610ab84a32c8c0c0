//! The lead's panel in the report (issue #14): a member taken out is listed under 评价人员
//! with its reason, in the text form and the PDF; the members left make the conclusion.

use std::path::Path;

use hallmark_report::{model, pdf, text};
use hallmark_store::{demo, NewInspection, Store};

const NOW: &str = "2026-11-21T09:00:00.000Z";

fn lead(dir: &Path) -> Store {
    let bundles = demo::write_bundles(&dir.join("bundles")).unwrap();
    let mut store = Store::open(&dir.join("lead"), NOW).unwrap();
    for b in &bundles {
        store.import_bundle(&b.path, NOW, &mut |_, _| {}).unwrap();
    }
    store
}

#[test]
fn the_report_lists_excluded_members_with_their_reasons() {
    let t = tempfile::tempdir().unwrap();
    let mut store = lead(t.path());
    let demo = model::pick_group(&store, None, Some("liaoning-demo-window")).unwrap();
    let pinned = store.inspection(&demo.assessors[0].inspection_id).unwrap();
    let stray = store
        .create_inspection(
            &NewInspection {
                rubric_text: pinned.rubric_content.clone(),
                site_name: pinned.site_name.clone(),
                site_level: pinned.site_level.clone(),
                visited_on: "2026-11-21".into(),
                assessor_name: "赵磊".into(),
                ..Default::default()
            },
            NOW,
        )
        .unwrap();
    let panel = store.create_panel(&demo.site, "组长", NOW).unwrap();
    for a in demo.assessors.iter().map(|a| a.inspection_id.as_str()).chain([stray.as_str()]) {
        store.panel_add(&panel, a, "组长", NOW).unwrap();
    }
    store.panel_remove(&panel, &stray, "组长本人的练习记录，不计入", "组长", NOW).unwrap();

    let group = store.merge().unwrap().remove(0);
    assert_eq!(group.panel_id.as_deref(), Some(panel.as_str()));
    let details = model::Details { leader: Some("王敏".into()), ..Default::default() };
    let report = model::build(&store, &group, &details, "2026-11-21").unwrap();
    assert_eq!(report.final_score.as_deref(), Some("90.2"), "the five members left conclude");
    let shown = text::render(&report);
    assert!(shown.contains("\n已排除：赵磊（组长本人的练习记录，不计入）\n\n三、评价依据"), "{shown}");
    // The PDF template prints the line too (it compiles with an exclusion).
    let assets = pdf::Assets::collect(&report, |s| store.thumb_path(s), |s| store.signature_path(s)).unwrap();
    let bytes = pdf::render(&report, assets, pdf::load_fonts().unwrap()).unwrap();
    assert!(bytes.starts_with(b"%PDF"));
}
