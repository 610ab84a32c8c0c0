//! Typing is never lost (issue #14): the real app with every save slowed down
//! (`HALLMARK_TEST_SAVE_DELAY_MS`), so a save always returns while the inspector is still typing.
//! Two fields of one item typed back to back, and a field typed while another item saves; then
//! the store itself is read and every character must be there. Tab moves to the next input.

use hallmark_e2e::{app_binary, enabled, Driver};
use hallmark_store::Store;
use serde_json::json;
use std::path::Path;
use std::time::Duration;

const TAB: &str = "\u{E004}";
const NOW: &str = "2026-11-25T09:00:00.000Z";

#[test]
fn typing_survives_saves_that_return_meanwhile() {
    if let Err(why) = enabled() {
        eprintln!("skipped: {why}");
        return;
    }
    let root = std::env::temp_dir().join(format!("hallmark-e2e-typing-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    let data_home = root.join("data");
    std::fs::create_dir_all(&data_home).unwrap();
    let driver = Driver::start_with(&data_home, &[("HALLMARK_TEST_SAVE_DELAY_MS", Path::new("400"))]);
    let s = driver.session(&app_binary(), &[]);
    s.set_window(1280, 800);
    s.click("#new-inspection");
    s.find("select[name=rubric_id]");
    s.js("document.querySelector('select[name=rubric_id]').value = 'liaoning-demo-window';", vec![]);
    s.type_into("input[name=site_name]", "铁岭县医疗保障事务服务中心");
    s.type_into("input[name=assessor_name]", "王敏");
    s.click("#create");
    s.find("#total");
    let id = s.js("return localStorage.getItem('hallmark.last');", vec![]).as_str().unwrap().to_string();

    // 1. Two fields of one item, back to back: the reading (Tab saves it, slowly) and at once
    //    the instrument, still being typed when the first save returns.
    s.type_into("[data-input='layout.floor_area'] .measure input", &format!("1850{TAB}"));
    s.type_into("[data-input='layout.floor_area'] .instrument", "激光测距仪");
    std::thread::sleep(Duration::from_millis(900)); // the first save has returned meanwhile

    // Enter moves to the next input (and saves the one left).
    s.type_into("[data-input='comfort.temperature'] .measure input", "22\u{E007}");
    s.wait_for(
        "focus on the temperature's instrument",
        "document.activeElement === document.querySelector(\"[data-input='comfort.temperature'] .instrument\")",
    );

    // An open 考核内容与标准 panel stays open, and nothing below moves, when an answer saves:
    // 全部具备 on the zones must not shift the next row under the finger.
    s.js("document.querySelector('#item-layout details').open = true;", vec![]);
    let top = "return Math.round(document.querySelector(\"[data-input='layout.transfers']\").getBoundingClientRect().top);";
    s.js("document.querySelector(\"[data-input='layout.zones'] .chip.all\").scrollIntoView({block: 'center'});", vec![]);
    let before = s.js(top, vec![]);
    s.click("[data-input='layout.zones'] .chip.all");
    s.find("[data-input='layout.zones'] .chip.present");
    s.wait_for("saved", "!document.querySelector('#status').textContent.includes('保存中')");
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(s.js(top, vec![]), before, "the row after the chips did not move");
    assert_eq!(s.js("return document.querySelector('#item-layout details').open;", vec![]), json!(true), "the open panel stays open");

    // 2. A field of another item typed while an answer elsewhere saves.
    s.click("[data-input='signage.guidance'] .yes-no button:first-child");
    s.type_into("[data-input='ratings.rate'] .ratio input:nth-of-type(3)", "98.5");
    std::thread::sleep(Duration::from_millis(900));
    // Leaving the field saves what is in it.
    s.js("document.activeElement && document.activeElement.blur();", vec![]);
    std::thread::sleep(Duration::from_millis(400));
    s.wait_for("every save done", "!document.querySelector('#status').textContent.includes('保存中')");
    std::thread::sleep(Duration::from_millis(1500));
    s.end();
    drop(driver);

    let store = Store::open(&data_home.join("cn.hallmark.inspector"), NOW).unwrap();
    let answers = store.answers(&id).unwrap();
    let area = answers.get("layout.floor_area").cloned().unwrap_or(json!(null));
    assert_eq!(area["value"], json!("1850"), "the reading is stored: {area}");
    assert_eq!(area["instrument"], json!("激光测距仪"), "the instrument typed while the reading saved is stored: {area}");
    assert_eq!(answers.get("signage.guidance"), Some(&json!(true)), "the tap elsewhere is stored");
    assert_eq!(answers.get("comfort.temperature").map(|v| v["value"].clone()), Some(json!("22")), "Enter saved the temperature");
    let rate = answers.get("ratings.rate").cloned().unwrap_or(json!(null));
    assert_eq!(rate["percent"], json!("98.5"), "the rate typed while another item saved is stored: {rate}");
    drop(store);
    let _ = std::fs::remove_dir_all(&root);
}
