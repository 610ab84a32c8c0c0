//! 设备登记 in the real app (issue #10): an unenrolled tablet shows 未登记 and its key as a QR
//! code; it writes its enrollment request into the bundle folder; a certificate from another
//! bureau is refused in Chinese; the bureau's certificate installs, and the app shows who the
//! tablet is enrolled as, until when, with the 30-day warning. Screenshots go to
//! target/e2e-screenshots/3x-enrollment-*.png.

use chrono::{Duration, Utc};
use hallmark_e2e::{app_binary, enabled, workspace_root, Driver};
use hallmark_trust::authority::{self, IssueRequest, SubjectKey};
use hallmark_trust::Role;

const PASS: &str = "e2e-passphrase";

/// Issues a certificate for the request file the app wrote.
fn issue(ca: &std::path::Path, csr: &std::path::Path, days: i64) -> String {
    let req = authority::read_request("request", &std::fs::read(csr).unwrap()).unwrap();
    let req = IssueRequest { subject: req.subject, roles: vec![Role::Assessor], key: SubjectKey::Ed25519(req.public_key), days, hosts: vec![] };
    authority::issue(ca, PASS, &req, Utc::now()).unwrap().chain_pem
}

#[test]
fn a_tablet_enrolls_from_its_bundle_folder() {
    if let Err(why) = enabled() {
        eprintln!("skipped: {why}");
        return;
    }
    let root = std::env::temp_dir().join(format!("hallmark-e2e-enrollment-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    let bundles = root.join("bundles");
    std::fs::create_dir_all(&bundles).unwrap();
    let (bureau, other) = (root.join("bureau-ca"), root.join("other-ca"));
    authority::init(&bureau, "辽宁省医疗保障局", "", 10, None, PASS, Utc::now() - Duration::days(1)).unwrap();
    authority::init(&other, "吉林省医疗保障局", "", 10, None, PASS, Utc::now() - Duration::days(1)).unwrap();
    let shots = workspace_root().join("target/e2e-screenshots");

    let driver = Driver::start_with(&root.join("data"), &[("HALLMARK_BUNDLE_DIR", &bundles)]);
    let s = driver.session(&app_binary(), &[]);
    s.set_window(1280, 800);
    s.wait_text("#enrollment-chip", "未登记");
    s.click("#enrollment-open");
    s.find("#enrollment");
    s.wait_text("#enrollment-status", "本机尚未登记");
    s.wait_for("the QR code of the key is drawn", "document.querySelector('#device-qr').naturalWidth > 0");
    let key = s.js("return document.querySelector('#device-key').dataset.key", vec![]).as_str().unwrap().to_string();
    assert_eq!(key.len(), 64, "the full public key is on the screen");
    s.wait_text("#no-certificates", "没有证书文件");
    std::thread::sleep(std::time::Duration::from_millis(400));
    s.screenshot(&shots.join("30-enrollment-unenrolled.png"));

    // The request, written into the bundle folder.
    s.type_into("#request-form input[name=name]", "张伟");
    s.type_into("#request-form input[name=unit]", "铁岭市医疗保障局");
    s.click("#write-request");
    s.wait_text("#request-file", ".csr.pem");
    let csr = bundles.join(s.text("#request-file"));
    assert!(csr.exists(), "{} was written", csr.display());

    // The bureau issues (20 days: within the 30-day warning); another bureau issues too.
    std::fs::write(bundles.join("张伟-证书.pem"), issue(&bureau, &csr, 20)).unwrap();
    std::fs::write(bundles.join("吉林-证书.pem"), issue(&other, &csr, 365)).unwrap();
    std::fs::copy(bureau.join(authority::ROOT), bundles.join("bureau-root.pem")).unwrap();
    s.click("#refresh-certificates");
    s.find("#certificate-file");
    let pick = |id: &str, name: &str| {
        s.js(
            "const sel = document.querySelector(arguments[0]);
             const o = [...sel.options].find(o => o.textContent === arguments[1]);
             sel.value = o.value; return o.value;",
            vec![id.into(), name.into()],
        );
    };
    pick("#certificate-file", "吉林-证书.pem");
    pick("#root-file", "bureau-root.pem");
    s.click("#install-certificate");
    s.wait_text("#install-error", "证书不是由所选的医保局根证书签发的");
    assert!(s.text("#enrollment-status").contains("本机尚未登记"), "a refused certificate changes nothing");

    pick("#certificate-file", "张伟-证书.pem");
    pick("#root-file", "bureau-root.pem");
    s.click("#install-certificate");
    s.wait_text("#enrolled-name", "张伟");
    s.wait_text("#enrollment-warning", "天后到期");
    assert!(s.text("#enrollment-status").contains("辽宁省医疗保障局"), "{}", s.text("#enrollment-status"));
    s.js("window.scrollTo(0, 0);", vec![]);
    std::thread::sleep(std::time::Duration::from_millis(400));
    s.screenshot(&shots.join("31-enrollment-enrolled.png"));
    s.click("#enrollment-back");
    s.wait_text("#enrollment-chip", "已登记：张伟");
    s.screenshot(&shots.join("32-list-enrolled.png"));
    s.end();
    let _ = std::fs::remove_dir_all(&root);
}
