//! The lead's review (issue #13 part 1) on real bundles: a return stays open until the
//! assessor's change arrives in a bundle (an amendment on the tablet, exported, imported), then
//! the lead accepts; every review is a signed statement, refused as damage when altered.

use hallmark_store::reviews::State;
use hallmark_store::{demo, Store};

const NOW: &str = "2026-11-20T12:00:00.000Z";

#[test]
fn a_return_is_answered_by_the_assessors_change_and_then_accepted() {
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let bundles = demo::write_bundles_keeping(&t.join("demo"), None, &|_, _| {}, true).unwrap();
    let mut lead = Store::open(&t.join("lead"), NOW).unwrap();
    for b in &bundles {
        lead.import_bundle(&b.path, NOW, &mut |_, _| {}).unwrap();
    }
    let group = lead.merge().unwrap().into_iter().find(|g| g.rubric_id == "liaoning-demo-window").unwrap();
    let ids: Vec<String> = group.assessors.iter().map(|a| a.inspection_id.clone()).collect();
    let zhang = group.assessors.iter().find(|a| a.name == "张伟").unwrap().inspection_id.clone();

    // Refused, recording nothing: a return without a comment, an item not in the rubric.
    let e = lead.review(&zhang, Some("practice"), true, "  ", NOW).unwrap_err().to_string();
    assert!(e.contains("a return needs a comment"), "{e}");
    let e = lead.review(&zhang, Some("nosuch"), true, "x", NOW).unwrap_err().to_string();
    assert!(e.contains("item 'nosuch' is not in rubric 'liaoning-demo-window'"), "{e}");
    assert!(lead.reviews(&ids).unwrap().is_empty());

    // A change 张伟 made before the return (exported, not yet imported) will not answer it.
    let tablet_dir = t.join("demo").join(demo::DEMO_TABLETS_DIR).join("liaoning-3-张伟");
    let stale = t.join("zhang-stale.hallmark");
    {
        let mut tablet = Store::open(&tablet_dir, NOW).unwrap();
        tablet.amend(&zhang, "practice.gestures", Some(serde_json::json!(1)), "张伟", "2026-11-20T11:30:00.000Z", "当场更正").unwrap();
        tablet.export_bundle(&zhang, &stale, "2026-11-20T11:31:00.000Z", &mut |_, _| {}).unwrap();
    }
    // Returned: open, in words.
    let r = lead.review(&zhang, Some("practice"), true, "服务实操比其他人低3分，请复核", NOW).unwrap();
    assert!(r.is_open());
    assert_eq!(r.text(), "张伟 · 服务实操：退回（服务实操比其他人低3分，请复核），待评价人员修改");
    // Another assessor's sheet accepted whole.
    let wang = group.assessors.iter().find(|a| a.name == "王敏").unwrap().inspection_id.clone();
    assert_eq!(lead.review(&wang, None, false, "", NOW).unwrap().text(), "王敏（整张评分表）：已接受");
    // Importing the same bundles again answers nothing.
    for b in &bundles {
        lead.import_bundle(&b.path, NOW, &mut |_, _| {}).unwrap();
    }
    assert!(lead.reviews(&ids).unwrap().iter().any(|r| r.is_open()));
    // Nor does the change made before the return, imported after it.
    lead.import_bundle(&stale, "2026-11-20T12:30:00.000Z", &mut |_, _| {}).unwrap();
    assert!(lead.reviews(&ids).unwrap().iter().any(|r| r.is_open()), "a change older than the return answers nothing");

    // The assessor changes the item on the tablet (an amendment: the sheet was finished) and
    // exports again; the lead imports: answered, then accepted.
    let mut tablet = Store::open(&tablet_dir, NOW).unwrap();
    tablet.amend(&zhang, "practice.language", Some(serde_json::json!(1)), "张伟", "2026-11-20T13:00:00.000Z", "复核后更正").unwrap();
    let again = t.join("zhang-2.hallmark");
    tablet.export_bundle(&zhang, &again, "2026-11-20T13:01:00.000Z", &mut |_, _| {}).unwrap();
    lead.import_bundle(&again, "2026-11-20T13:05:00.000Z", &mut |_, _| {}).unwrap();
    let r = lead.reviews(&ids).unwrap().into_iter().find(|r| r.inspection_id == zhang).unwrap();
    assert!(matches!(r.state, State::Returned { answered: true, .. }), "{r:?}");
    assert!(!r.is_open());
    let r = lead.review(&zhang, Some("practice"), false, "已核对", "2026-11-20T13:10:00.000Z").unwrap();
    assert_eq!(r.text(), "张伟 · 服务实操：已接受（已核对）");

    // A review altered behind the store's back (its trigger dropped): refused as damage.
    drop(lead);
    let conn = rusqlite::Connection::open(t.join("lead").join(hallmark_store::DB_FILE)).unwrap();
    conn.execute_batch("DROP TRIGGER reviews_append_only_update").unwrap();
    conn.execute("UPDATE reviews SET statement = replace(statement, '已核对', '未核对')", []).unwrap();
    drop(conn);
    let lead = Store::open(&t.join("lead"), NOW).unwrap();
    let e = lead.reviews(&ids).unwrap_err().to_string();
    assert!(e.contains("does not verify") && e.contains("changed outside hallmark"), "{e}");
}
