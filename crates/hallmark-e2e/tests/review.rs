//! The lead's review reaching the assessor's tablet in the real app (issue #13): the lead returns
//! an item of 张伟's sheet with a comment and exports the review file into the tablets' bundle
//! folder; 张伟's app receives it when it opens (a toast), and the inspection shows the returned
//! item at the top with the comment and a link to it; 张伟 answers by keeping his answers with a
//! reason. Screenshots 46 and 49 in target/e2e-screenshots/.

use std::path::Path;

use hallmark_e2e::{app_binary, enabled, workspace_root, Driver};
use hallmark_store::{demo, Store};

const NOW: &str = "2026-11-20T12:00:00.000Z";

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            copy_dir(&p, &to.join(e.file_name()));
        } else {
            std::fs::copy(&p, to.join(e.file_name())).unwrap();
        }
    }
}

#[test]
fn a_returned_item_shows_at_the_top_of_the_assessors_inspection() {
    if let Err(why) = enabled() {
        eprintln!("skipped: {why}");
        return;
    }
    let root = std::env::temp_dir().join(format!("hallmark-e2e-review-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    // Five tablets record and export; the lead imports them all.
    let demo_dir = root.join("demo");
    let bundles = demo::write_bundles_keeping(&demo_dir, None, &|_, _| {}, true).unwrap();
    let mut lead = Store::open(&root.join("lead"), NOW).unwrap();
    for b in &bundles {
        lead.import_bundle(&b.path, NOW, &mut |_, _| {}).unwrap();
    }
    let group = lead.merge().unwrap().into_iter().find(|g| g.rubric_id == "liaoning-demo-window").unwrap();
    let ids: Vec<String> = group.assessors.iter().map(|a| a.inspection_id.clone()).collect();
    let zhang = group.assessors.iter().find(|a| a.name == "张伟").unwrap().inspection_id.clone();
    // The lead returns 服务实操 with a comment and accepts 场所布局.
    lead.review(&zhang, Some("practice"), true, "服务实操比其他人低3分，请复核语言交流的次数", NOW).unwrap();
    lead.review(&zhang, Some("layout"), false, "", NOW).unwrap();
    let outbox = root.join("bundles");
    std::fs::create_dir_all(&outbox).unwrap();
    let file = lead.review_file(&ids).unwrap();
    std::fs::write(outbox.join("复核意见-铁岭县.review.json"), serde_json::to_vec_pretty(&file).unwrap()).unwrap();

    // 张伟's tablet: his data folder as the app's.
    copy_dir(&demo_dir.join(demo::DEMO_TABLETS_DIR).join("liaoning-3-张伟"), &root.join("data/cn.hallmark.inspector"));
    let driver = Driver::start_with(&root.join("data"), &[("HALLMARK_BUNDLE_DIR", &outbox)]);
    let s = driver.session(&app_binary(), &[]);
    s.set_window(1280, 800);
    s.wait_text("#toast", "收到组长复核意见 2 条");
    s.click(&format!("button.card[data-id='{zhang}']"));
    s.find("#reviews");
    let text = s.text("#reviews");
    assert!(text.contains("组长复核意见：1 项退回"), "{text}");
    assert!(
        text.contains("服务实操") && text.contains("组长退回，请复核修改") && text.contains("服务实操比其他人低3分，请复核语言交流的次数"),
        "{text}"
    );
    assert!(text.contains("场所布局") && text.contains("组长已接受"), "{text}");
    // Returned first, at the top of the sheet, above the items.
    let first = s.js("return document.querySelector('#reviews li').dataset.item;", vec![]);
    assert_eq!(first.as_str(), Some("practice"));
    let above = s.js(
        "return document.querySelector('#reviews').getBoundingClientRect().top < document.querySelector('.items').getBoundingClientRect().top;",
        vec![],
    );
    assert_eq!(above.as_bool(), Some(true));
    std::thread::sleep(std::time::Duration::from_millis(400));
    s.screenshot(&workspace_root().join("target/e2e-screenshots/46-review-returned.png"));
    // 去修改 goes to the item.
    s.click("#reviews li.returned button");
    s.wait_for("the item in view", "Math.abs(document.getElementById('item-practice').getBoundingClientRect().top) < 400");
    // Or 张伟 keeps his answers and says why: a dialog asks the reason; the review says so.
    s.js("document.querySelector('#reviews').scrollIntoView();", vec![]);
    s.click("#reviews li.returned button.keep");
    s.find("#dialog-reason");
    s.click("#dialog-ok");
    s.wait_text(".dialog-hint", "请填写原因");
    s.type_into("#dialog-reason", "复核录像，语言交流确有1次不规范，维持原分");
    s.click("#dialog-ok");
    s.wait_text("#reviews", "已答复：保留原答案（复核录像，语言交流确有1次不规范，维持原分）");
    assert!(s.text("#reviews").contains("已答复，待组长确认"), "{}", s.text("#reviews"));
    std::thread::sleep(std::time::Duration::from_millis(400));
    s.screenshot(&workspace_root().join("target/e2e-screenshots/49-review-kept.png"));
    s.end();
    drop(driver);

    // Received once: the tablet's store holds the two reviews, and receiving again adds none.
    let mut tablet = Store::open(&root.join("data/cn.hallmark.inspector"), NOW).unwrap();
    let reviews = tablet.reviews(std::slice::from_ref(&zhang)).unwrap();
    assert_eq!(reviews.len(), 2);
    let kept = reviews.iter().find(|r| r.item_id.as_deref() == Some("practice")).unwrap();
    assert_eq!(kept.state.kept(), Some("复核录像，语言交流确有1次不规范，维持原分"), "{kept:?}");
    let again = std::fs::read(outbox.join("复核意见-铁岭县.review.json")).unwrap();
    assert_eq!(tablet.receive_reviews(&again, NOW).unwrap(), 0);
    let _ = std::fs::remove_dir_all(&root);
}
