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

/// "Keep, because …" (issue #13 part 1): the assessor answers a return without changing the
/// answers; the reason travels in the next bundle and the lead reads it.
#[test]
fn a_return_is_answered_by_keeping_the_answers_with_a_reason() {
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let bureau = demo::DemoBureau::create(&t.join("bureau"), chrono::Utc::now() - chrono::Duration::days(1)).unwrap();
    let bundles = demo::write_bundles_keeping(&t.join("demo"), Some(&bureau), &|_, _| {}, true).unwrap();
    let now = || chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let mut lead = Store::open(&t.join("lead"), &now()).unwrap();
    bureau.enroll(&lead, "陈静", "铁岭市医疗保障局", "", &[hallmark_trust::Role::Lead]).unwrap();
    for b in &bundles {
        lead.import_bundle(&b.path, &now(), &mut |_, _| {}).unwrap();
    }
    let group = lead.merge().unwrap().into_iter().find(|g| g.rubric_id == "liaoning-demo-window").unwrap();
    let ids: Vec<String> = group.assessors.iter().map(|a| a.inspection_id.clone()).collect();
    let zhang = group.assessors.iter().find(|a| a.name == "张伟").unwrap().inspection_id.clone();
    lead.review(&zhang, Some("layout"), true, "面积读数与其他人差30平方米，请复核", &now()).unwrap();
    let file = serde_json::to_vec(&lead.review_file(&ids).unwrap()).unwrap();

    let tablet_dir = t.join("demo").join(demo::DEMO_TABLETS_DIR).join("liaoning-3-张伟");
    let mut tablet = Store::open(&tablet_dir, &now()).unwrap();
    let before = tablet.answers(&zhang).unwrap();
    // Before the return reaches the tablet there is nothing to answer.
    let e = tablet.keep_answers(&zhang, "layout", "读数无误", &now()).unwrap_err().to_string();
    assert!(e.contains("no open return"), "{e}");
    assert_eq!(tablet.receive_reviews(&file, &now()).unwrap(), 1);
    // Refused, recording nothing: no reason; an item with no return.
    let events = tablet.events(&zhang).unwrap().len();
    let e = tablet.keep_answers(&zhang, "layout", "  ", &now()).unwrap_err().to_string();
    assert!(e.contains("needs a reason"), "{e}");
    let e = tablet.keep_answers(&zhang, "comfort", "x", &now()).unwrap_err().to_string();
    assert!(e.contains("no open return"), "{e}");
    assert_eq!(tablet.events(&zhang).unwrap().len(), events);
    // Kept: one event per answered input of the item, the answers unchanged; answered here.
    std::thread::sleep(std::time::Duration::from_millis(5));
    let n = tablet.keep_answers(&zhang, "layout", "现场用激光测距仪复测两次，读数无误", &now()).unwrap();
    assert_eq!(n, before.keys().filter(|k| k.starts_with("layout.")).count());
    assert_eq!(tablet.answers(&zhang).unwrap(), before, "the answers stand");
    let r = tablet.reviews(std::slice::from_ref(&zhang)).unwrap().remove(0);
    assert_eq!(r.state.kept(), Some("现场用激光测距仪复测两次，读数无误"));
    // A keep is not an amendment (the sheet does not turn 已更正), and an amendment may not
    // pass itself off as one.
    assert!(tablet.summaries().unwrap().iter().any(|s| s.id == zhang && s.state != "amended"), "{:?}", tablet.summaries().unwrap());
    let e = tablet.amend(&zhang, "layout.transfers", Some(serde_json::json!(0)), "张伟", &now(), "保留原答案：其实改了").unwrap_err().to_string();
    assert!(e.contains("may not start with"), "{e}");
    // The next bundle carries it to the lead.
    let again = t.join("zhang-2.hallmark");
    tablet.export_bundle(&zhang, &again, &now(), &mut |_, _| {}).unwrap();
    lead.import_bundle(&again, &now(), &mut |_, _| {}).unwrap();
    let r = lead.reviews(&ids).unwrap().into_iter().find(|r| r.inspection_id == zhang).unwrap();
    assert!(!r.is_open());
    assert_eq!(
        r.text(),
        "张伟 · 场所布局：退回（面积读数与其他人差30平方米，请复核），评价人员保留原答案（现场用激光测距仪复测两次，读数无误），待组长接受"
    );
}
