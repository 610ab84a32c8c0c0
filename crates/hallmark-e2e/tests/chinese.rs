//! Every screen of the real app in a Chinese locale and Asia/Shanghai (issue #14): each screen and
//! error path (a bad reading, a refused bundle, a finished inspection, the dialogs, 撤销) is
//! read for Latin-script words outside an allow-list, photographed at 1280×800 and 800×1280
//! (target/e2e-screenshots/3x-*.png — look at them), and checked for layout: no horizontal
//! overflow, every tap target at least 44 px, nothing under the sticky bar after a jump.

use hallmark_e2e::{app_binary, enabled, workspace_root, Driver, Session};
use serde_json::{json, Value};
use std::path::Path;
use std::time::Duration;

const TAB: &str = "\u{E004}";

/// Words the inspector may read in Latin script: the app's name, units the standard writes so,
/// and the file format; file names, paths, ids and fingerprints are recognised by shape.
const ALLOWED: &[&str] = &["hallmark", "lx", "MB", "PDF", "m²"];

fn latin_words(text: &str) -> Vec<String> {
    text.split(|c: char| c.is_whitespace() || "，。：；（）()、“”·,:;".contains(c))
        .filter(|w| w.chars().any(|c| c.is_ascii_alphabetic()))
        .filter(|w| {
            let bare = w.trim_matches(|c: char| !c.is_alphanumeric());
            !(ALLOWED.contains(&bare)
                || w.contains('.')
                || w.contains('/')
                || w.contains('\\')
                || bare.chars().all(|c| c.is_ascii_hexdigit()) && bare.len() >= 4
                || bare.starts_with("HM-"))
        })
        .map(String::from)
        .collect()
}

fn pause() {
    std::thread::sleep(Duration::from_millis(500));
}

/// Reads the rendered text for English, checks the layout, and takes the screenshot, at both sizes.
fn check(s: &Session, name: &str) {
    let shots = workspace_root().join("target/e2e-screenshots");
    for (w, h) in [(1280, 800), (800, 1280)] {
        s.set_window(w, h);
        pause();
        let text = s.js("return document.body.innerText;", vec![]);
        let latin = latin_words(text.as_str().unwrap_or(""));
        assert!(latin.is_empty(), "{name} at {w}×{h}: Latin words {latin:?}");
        let overflow = s.js("return document.documentElement.scrollWidth - window.innerWidth;", vec![]);
        assert!(overflow.as_i64().unwrap_or(0) <= 0, "{name} at {w}×{h}: the page is {overflow} px wider than the window");
        let small = s.js(
            "const out = [];
             for (const e of document.querySelectorAll('button, a[href], select, input, textarea, summary, label.photo-add')) {
               if (e.offsetParent === null || e.type === 'file' || e.type === 'hidden') continue;
               let r = e.getBoundingClientRect();
               // A checkbox counts with its label (the label is the target).
               if (e.type === 'checkbox' && e.closest('label')) r = e.closest('label').getBoundingClientRect();
               if (r.width === 0 && r.height === 0) continue;
               if (r.height < 43.5 || r.width < 43.5) out.push(`${e.tagName.toLowerCase()}.${e.className} “${(e.textContent || e.placeholder || '').trim().slice(0, 20)}” ${Math.round(r.width)}×${Math.round(r.height)}`);
             }
             return out;",
            vec![],
        );
        assert_eq!(small, json!([]), "{name} at {w}×{h}: tap targets under 44 px");
        s.screenshot(&shots.join(format!("3x-{name}-{w}x{h}.png")));
    }
    s.set_window(1280, 800);
    pause();
}

/// After a jump, the target's top is below the sticky bar and summary.
fn assert_not_under_sticky(s: &Session, what: &str, target_js: &str) {
    pause();
    let v: Value = s.js(
        &format!(
            "const t = {target_js}; const top = t.getBoundingClientRect().top;
             const bar = document.querySelector('.summary') || document.querySelector('#bar');
             return [top, bar.getBoundingClientRect().bottom];"
        ),
        vec![],
    );
    let (top, bottom) = (v[0].as_f64().unwrap(), v[1].as_f64().unwrap());
    assert!(top >= bottom - 1.0, "{what}: the target's top {top} is under the sticky bar (bottom {bottom})");
}

#[test]
fn every_screen_is_chinese_local_and_fits_a_finger() {
    if let Err(why) = enabled() {
        eprintln!("skipped: {why}");
        return;
    }
    let root = std::env::temp_dir().join(format!("hallmark-e2e-chinese-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    let bundles = root.join("bundles");
    hallmark_store::demo::write_bundles(&bundles).unwrap();
    std::fs::write(bundles.join("坏数据包.hallmark"), b"not a bundle at all").unwrap();
    let driver = Driver::start_with(
        &root.join("data"),
        &[
            ("HALLMARK_BUNDLE_DIR", &bundles),
            ("LANG", Path::new("zh_CN.UTF-8")),
            ("LC_ALL", Path::new("zh_CN.UTF-8")),
            ("TZ", Path::new("Asia/Shanghai")),
        ],
    );
    let s = driver.session(&app_binary(), &[]);
    s.set_window(1280, 800);
    s.find("#new-inspection");
    let zone = s.js("return Intl.DateTimeFormat().resolvedOptions().timeZone;", vec![]);
    assert_eq!(zone, json!("Asia/Shanghai"), "the app runs in the tablet's zone");
    check(&s, "list-empty");

    s.click("#new-inspection");
    s.find("select[name=rubric_id]");
    check(&s, "new");
    s.js("document.querySelector('select[name=rubric_id]').value = 'liaoning-demo-window';", vec![]);
    s.type_into("input[name=site_name]", "铁岭县医疗保障事务服务中心");
    s.type_into("input[name=assessor_name]", "王敏");
    s.click("#create");
    s.find("#total");
    check(&s, "inspection");

    // A bad reading: refused in Chinese under the field, which keeps it.
    s.type_into("[data-input='comfort.humidity'] .measure input", &format!("140{TAB}"));
    s.wait_text("[data-input='comfort.humidity'] .reason", "超出有效范围");
    s.js("document.querySelector(\"[data-input='comfort.humidity']\").scrollIntoView({block: 'center'});", vec![]);
    check(&s, "bad-reading");

    // A damaged photo is refused in Chinese.
    s.js(
        "const input = document.querySelector('#item-layout .photo-input');
         const dt = new DataTransfer();
         dt.items.add(new File([new Uint8Array([255, 216, 255, 0, 1, 2, 3])], '坏照片.jpg', {type: 'image/jpeg'}));
         input.files = dt.files;
         input.dispatchEvent(new Event('change'));",
        vec![],
    );
    s.wait_text("#toast", "照片未保存");
    check(&s, "damaged-photo");

    // A veto answered 否 (it did not happen) is the good answer: not red.
    s.click("[data-input^='veto:'] .yes-no button:nth-child(2)");
    s.find("[data-input^='veto:'] button.on.no.good");

    // One tap never wipes an answer: ⌫ shows 已清除 · 撤销, and 撤销 brings it back.
    s.click("[data-input='signage.guidance'] .yes-no button:first-child");
    s.find("[data-input='signage.guidance'] button.on.yes");
    s.wait_for("saved", "document.querySelector('#status').textContent.includes('已保存')");
    s.click("[data-input='signage.guidance'] .clear");
    s.find("#undo:not([hidden])");
    assert!(s.text("#undo").contains("已清除"));
    s.wait_for("cleared", "!document.querySelector(\"[data-input='signage.guidance'] button.on\")");
    check(&s, "undo");
    s.click("#undo-button");
    s.find("[data-input='signage.guidance'] button.on.yes");

    // Deleting a window is undone the same way.
    s.click("[data-input='equipment.office'] .add");
    s.click("[data-input='equipment.office'] .window.draft .chip.all");
    s.find("[data-input='equipment.office'] .window:not(.draft) .remove");
    s.wait_for("saved", "!document.querySelector('#status').textContent.includes('保存中')");
    s.click("[data-input='equipment.office'] .window:not(.draft) .remove");
    s.wait_text("#undo", "已删除1号窗口");
    s.wait_for("saved", "!document.querySelector('#status').textContent.includes('保存中')");
    s.click("#undo-button");
    s.find("[data-input='equipment.office'] .window:not(.draft)");
    s.wait_text("[data-input='equipment.office'] .window", "1号窗口");
    s.wait_for("saved", "!document.querySelector('#status').textContent.includes('保存中')");
    assert_eq!(
        s.js("return document.querySelector(\"[data-input='equipment.office'] .clear\").style.visibility;", vec![]),
        json!("visible"),
        "answered again"
    );

    // 只看未作答 jumps to the first unanswered item, not under the sticky bar.
    s.js("window.scrollTo(0, document.body.scrollHeight);", vec![]);
    s.click("#only-unanswered");
    assert_not_under_sticky(&s, "只看未作答", "[...document.querySelectorAll('.item')].find(e => !e.hidden)");
    s.click("#only-unanswered");

    // Portrait: the section menu jumps, and the section is not under the sticky bar.
    s.set_window(800, 1280);
    pause();
    s.js(
        "const m = document.querySelector('#section-menu'); m.value = m.options[m.options.length - 2].value; m.dispatchEvent(new Event('change'));",
        vec![],
    );
    assert_not_under_sticky(
        &s,
        "目录",
        "document.getElementById(document.querySelector('#section-menu').options[document.querySelector('#section-menu').options.length - 2].value)",
    );
    s.set_window(1280, 800);
    pause();

    // 完成评价: an in-app dialog, then the inspection is read-only with 更正 per item.
    s.click("#finish");
    s.find("#dialog:not([hidden]) #dialog-ok");
    check(&s, "finish-dialog");
    s.click("#dialog-ok");
    s.wait_text("#state", "已完成");
    assert_eq!(s.js("return document.querySelector(\"[data-input='layout.level'] button\").closest('fieldset').disabled;", vec![]), json!(true));
    check(&s, "finished");
    s.click("#item-layout .amend");
    s.find("#dialog-reason");
    check(&s, "amend-dialog");
    s.type_into("#dialog-reason", "复核照片后发现漏记");
    s.click("#dialog-ok");
    s.find("#item-layout.amending");
    s.click("[data-input='layout.level'] .segmented button:nth-child(3)");
    s.find("[data-input='layout.level'] button.on:not(.default)");
    s.wait_for("saved", "document.querySelector('#status').textContent.includes('已保存')");

    s.click("#home");
    s.find(".card");
    check(&s, "list");

    // The lead: a refused bundle is said in Chinese.
    s.click("#lead");
    s.find("#inbox");
    s.click("#import");
    s.wait_for("import lines", "document.querySelectorAll('#import-results li').length === 7");
    assert!(s.text("#import-results li.refused").contains("坏数据包.hallmark"), "{}", s.text("#import-results"));
    check(&s, "lead");

    // The explicit panel: the lead forms it, takes one out with a reason; 4 cannot conclude, so
    // the report is refused unless the lead asks for a draft (草稿, unsigned).
    let liaoning = "article[data-rubric='liaoning-demo-window']";
    s.click(&format!("{liaoning} .panel-create"));
    s.wait_for("a panel", &format!("document.querySelector(\"{liaoning}\").dataset.panel !== ''"));
    s.click(&format!("{liaoning} .panel-remove"));
    s.find("#dialog-reason");
    check(&s, "panel-remove-dialog");
    s.type_into("#dialog-reason", "未到现场");
    s.click("#dialog-ok");
    s.wait_text(&format!("{liaoning} .excluded"), "未到现场");
    s.click(&format!("{liaoning} .report-form button[type=submit]"));
    s.find("#dialog:not([hidden]) #dialog-ok");
    assert!(s.text("#dialog").contains("草稿"), "{}", s.text("#dialog"));
    check(&s, "draft-report-dialog");
    s.click("#dialog-ok");
    s.find(&format!("{liaoning} .report-made"));
    assert!(s.text(&format!("{liaoning} .report-made")).contains("草稿，未签名"), "{}", s.text(&format!("{liaoning} .report-made")));
    s.js(&format!("document.querySelector(\"{liaoning}\").scrollIntoView();"), vec![]);
    check(&s, "lead-panel");
    s.end();

    // A restart never opens a colleague's imported inspection, and the inspector's list holds
    // only this tablet's own.
    let s = driver.session(&app_binary(), &[]);
    s.set_window(1280, 800);
    s.find("#new-inspection");
    assert_eq!(s.js("return document.querySelectorAll('.card').length;", vec![]), json!(1), "only the local inspection is listed");
    assert!(s.text(".list").contains("另有 6 份导入的评价"), "{}", s.text(".list"));
    assert!(s.text(".card").contains("已更正"), "{}", s.text(".card"));
    s.end();
    drop(driver);
    let _ = std::fs::remove_dir_all(&root);
}
