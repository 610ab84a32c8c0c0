//! Raw inputs where the seed gives a number (issue #13), in the real app: a Jiangsu inspection
//! records the township's staff and population, the trainings held (dated rows) and the 帮办代办
//! cases (two dates each), and the scores the rubric computes from them appear under the items.
//! A half-typed row is marked, not saved, and not lost; reopened, every row is there. Screenshot
//! target/e2e-screenshots/48-dated-rows.png (look at it).

use hallmark_e2e::{app_binary, enabled, workspace_root, Driver};
use hallmark_store::Store;
use serde_json::json;
use std::time::Duration;

const NOW: &str = "2026-11-25T09:00:00.000Z";

#[test]
fn dated_rows_are_recorded_and_scored() {
    if let Err(why) = enabled() {
        eprintln!("skipped: {why}");
        return;
    }
    let root = std::env::temp_dir().join(format!("hallmark-e2e-dated-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    let data_home = root.join("data");
    std::fs::create_dir_all(&data_home).unwrap();
    let driver = Driver::start(&data_home);
    let s = driver.session(&app_binary(), &[]);
    s.set_window(1280, 1000);
    s.click("#new-inspection");
    s.find("select[name=rubric_id]");
    s.js("document.querySelector('select[name=rubric_id]').value = 'jiangsu-15min';", vec![]);
    s.type_into("input[name=site_name]", "南京市江宁区秣陵街道医保服务站");
    s.type_into("input[name=assessor_name]", "陈静");
    s.js("document.querySelector('input[name=visited_on]').value = '2026-11-18';", vec![]);
    s.click("#create");
    s.find("#total");
    let id = s.js("return localStorage.getItem('hallmark.last');", vec![]).as_str().unwrap().to_string();
    let item = |i: &str| format!("[id='item-{i}']");
    let field = |input: &str, rest: &str| format!("[data-input='{input}'] {rest}");

    // 5.(1): 2 staff where fewer than 50,000 people live: the target is 2.
    s.type_into(&field("5.1.township_staff", "input[type=number]"), "2\u{E004}");
    s.type_into(&field("5.1.population", "input[type=number]"), "42000\u{E004}");
    s.click(&field("5.1.village_staff", ".yes-no button:first-child"));
    s.wait_text(&format!("{} .explain", item("5.1")), "不足50000，应不少于2名），得1分");

    // 7.(2): one training typed with a bad day first: marked, not saved; then fixed.
    s.click(&field("7.2.trainings", ".add"));
    s.type_into(&field("7.2.trainings", "tbody tr:nth-child(1) input.date"), "2026-02-30\u{E004}");
    s.wait_text(&field("7.2.trainings", ".row-problem"), "日期请按 年-月-日 填写");
    s.wait_text(&field("7.2.trainings", ".sample-count"), "1 行未填写完整（未保存）");
    s.type_into(&field("7.2.trainings", "tbody tr:nth-child(1) input.title"), "医保政策业务培训\u{E004}");
    s.js(
        "const f = document.querySelector(\"[data-input='7.2.trainings'] tbody tr:nth-child(1) input.date\");
         f.value = '2026-03-05'; f.dispatchEvent(new Event('input')); f.dispatchEvent(new Event('change'));",
        vec![],
    );
    s.click(&field("7.2.trainings", ".add"));
    s.type_into(&field("7.2.trainings", "tbody tr:nth-child(2) input.date"), "2025-10-09\u{E004}");
    s.click(&field("7.2.topic_training", ".yes-no button:first-child"));
    s.wait_text(&format!("{} .explain", item("7.2")), "2025-11-19至2026-11-18期间1次（2026-03-05），少1次；另有1次不在此期间，不计，扣0.5分");

    // 10.(2): a case submitted 4 working days after its materials were complete.
    s.click(&field("10.2.proxy_service", ".yes-no button:first-child"));
    s.type_into(&field("10.2.failed_matters", "input[type=number]"), "0\u{E004}");
    s.click(&field("10.2.proxy_cases", ".add"));
    s.type_into(&field("10.2.proxy_cases", "tbody tr:nth-child(1) input.case"), "异地就医备案（王某）\u{E004}");
    s.type_into(&field("10.2.proxy_cases", "tbody tr:nth-child(1) input.complete"), "2026-11-16\u{E004}");
    s.type_into(&field("10.2.proxy_cases", "tbody tr:nth-child(1) input.submitted"), "2026-11-20\u{E004}");
    s.wait_text(
        &format!("{} .explain", item("10.2")),
        "“异地就医备案（王某）”材料齐全2026-11-16，2026-11-20提交，用4个工作日，超过3个工作日，不得分",
    );
    // Submitted before complete: said in Chinese, the saved row unchanged.
    s.click(&field("10.2.proxy_cases", ".add"));
    s.type_into(&field("10.2.proxy_cases", "tbody tr:nth-child(2) input.complete"), "2026-11-10\u{E004}");
    s.type_into(&field("10.2.proxy_cases", "tbody tr:nth-child(2) input.submitted"), "2026-11-09\u{E004}");
    s.wait_text(&field("10.2.proxy_cases", "tbody tr:nth-child(2) .row-problem"), "提交日期早于材料齐全日期，请核对（保留原记录）");
    s.wait_for("saved", "!document.querySelector('#status').textContent.includes('保存中')");
    std::thread::sleep(Duration::from_millis(500));
    let text = s.js("return document.body.innerText;", vec![]);
    assert!(!text.as_str().unwrap().contains("row 1"), "no English reaches the inspector");
    s.js(&format!("document.querySelector(\"{}\").scrollIntoView();", item("10.2")), vec![]);
    let shots = workspace_root().join("target/e2e-screenshots");
    std::fs::create_dir_all(&shots).unwrap();
    s.screenshot(&shots.join("48-dated-rows.png"));

    // Restarted, the app reopens the inspection: the saved rows are there (the half-typed ones
    // were never saved).
    s.end();
    let s = driver.session(&app_binary(), &[]);
    s.set_window(1280, 1000);
    s.find("#total");
    s.wait_text(&format!("{} .explain", item("7.2")), "期间1次（2026-03-05）");
    assert_eq!(s.js("return document.querySelectorAll(\"[data-input='7.2.trainings'] tbody tr\").length;", vec![]), json!(2));
    s.end();
    drop(driver);

    let store = Store::open(&data_home.join("cn.hallmark.inspector"), NOW).unwrap();
    let answers = store.answers(&id).unwrap();
    assert_eq!(
        answers.get("7.2.trainings"),
        Some(&json!([{ "date": "2026-03-05", "title": "医保政策业务培训" }, { "date": "2025-10-09" }])),
        "{answers:?}"
    );
    // The second case was saved as waiting once its complete date was in; the bad submitted
    // date typed after it did not replace it (the row says 保留原记录).
    assert_eq!(
        answers.get("10.2.proxy_cases"),
        Some(&json!([{ "case": "异地就医备案（王某）", "complete": "2026-11-16", "submitted": "2026-11-20" }, { "complete": "2026-11-10" }]))
    );
    assert_eq!(answers.get("5.1.population"), Some(&json!(42000)));
}
