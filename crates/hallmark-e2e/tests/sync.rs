//! Sync in the real app (issue #11): an enrolled tablet (a demo tablet's data folder) shows its
//! inspection 未同步 and no server; the inspector sets the server's address; the outbox pushes by
//! itself and the card turns 已同步 with the receipt's time, while the server holds the bundle.
//! With the server stopped, a new answer turns the card 未同步 again and the strip says the
//! server cannot be reached, in Chinese. Screenshots: target/e2e-screenshots/4x-sync-*.png.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use hallmark_e2e::{app_binary, enabled, workspace_root, Driver};

fn cli() -> PathBuf {
    app_binary().with_file_name("hallmark")
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap().flatten() {
        let (src, dst) = (e.path(), to.join(e.file_name()));
        if src.is_dir() {
            copy_dir(&src, &dst);
        } else {
            std::fs::copy(&src, &dst).unwrap();
        }
    }
}

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn the_outbox_pushes_by_itself_and_the_card_turns_synced() {
    if let Err(why) = enabled() {
        eprintln!("skipped: {why}");
        return;
    }
    let root = std::env::temp_dir().join(format!("hallmark-e2e-sync-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    let demo = root.join("demo");
    let o = Command::new(cli()).args(["demo", demo.to_str().unwrap()]).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    // The app's data folder is a demo tablet's: enrolled, one finished inspection.
    let data_home = root.join("data");
    copy_dir(&demo.join("tablets/liaoning-2-李娜"), &data_home.join("cn.hallmark.inspector"));
    let server_data = root.join("server");
    let mut server = Command::new(cli())
        .args(["serve", "--data", server_data.to_str().unwrap(), "--listen", "127.0.0.1:0"])
        .args(["--cert", demo.join("sync/server.pem").to_str().unwrap(), "--key", demo.join("sync/server.key").to_str().unwrap()])
        .args(["--trust", demo.join("bureau-root.pem").to_str().unwrap()])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(server.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let url = line.split_whitespace().nth(2).unwrap().to_string();
    let server = Server(server);
    let shots = workspace_root().join("target/e2e-screenshots");
    std::fs::create_dir_all(&shots).unwrap();

    let driver = Driver::start(&data_home);
    let s = driver.session(&app_binary(), &[]);
    s.set_window(1280, 800);
    s.wait_text("#sync-state", "未设置同步服务器");
    s.wait_for("the card's chip", "document.querySelector('.card [data-sync]')");
    assert_eq!(s.text(".card [data-sync]"), "未同步");
    s.screenshot(&shots.join("40-sync-unsynced.png"));

    // A wrong address is refused in Chinese; nothing is set.
    s.type_into("#sync-server", "ftp://example");
    s.click("#sync-save");
    s.wait_text("#toast", "输入有误");
    s.js("document.querySelector('#sync-server').value = '';", vec![]);
    s.type_into("#sync-server", &url);
    s.click("#sync-save");
    s.wait_text("#sync-state", &url);
    s.wait_for("the card to turn 已同步", "(document.querySelector('.card [data-sync]') || {}).dataset?.sync === 'synced'");
    assert!(s.text(".card [data-sync]").starts_with("已同步 "), "{}", s.text(".card [data-sync]"));
    s.screenshot(&shots.join("41-sync-synced.png"));
    let held = hallmark_store::Store::open(&server_data, "2026-12-01T00:00:00.000Z").unwrap().held_bundles().unwrap();
    assert_eq!(held.len(), 1, "the server holds the tablet's bundle");
    assert_eq!(held[0].assessor, "李娜");

    // An assignment naming this tablet: 新建评价 offers it, and one tap fills the hall, the
    // rubric and (from the certificate) the assessor.
    // The hall comes from the registry (the demo's sheet): its address and level come with it.
    let o = Command::new(cli())
        .args(["hall", "import", demo.join("sync/halls.xlsx").to_str().unwrap(), "--data", server_data.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let o = Command::new(cli())
        .args(["assignment", "add", "--data", server_data.to_str().unwrap(), "--id", "TL-2027", "--hall", "LN-211282-01"])
        .args(["--rubric", "liaoning-demo-window", "--lead", demo.join("tablets/liaoning-1-王敏/certificate.pem").to_str().unwrap()])
        .args(["--member", demo.join("tablets/liaoning-2-李娜/certificate.pem").to_str().unwrap()])
        .args(["--from", "2027-11-02", "--to", "2027-11-04"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    s.click("#new-inspection");
    s.wait_text(".assignment[data-id='TL-2027']", "计划 2027-11-02 至 2027-11-04");
    s.click(".assignment[data-id='TL-2027']");
    assert_eq!(s.js("return document.querySelector('[name=site_name]').value;", vec![]), "开原市医疗保障事务服务中心");
    assert_eq!(s.js("return document.querySelector('[name=site_address]').value;", vec![]), "辽宁省铁岭市开原市新城街道政务服务中心二楼");
    assert_eq!(s.js("return document.querySelector('[name=site_level]').value;", vec![]), "county");
    assert_eq!(s.js("return document.querySelector('[name=rubric_id]').value;", vec![]), "liaoning-demo-window");
    assert_eq!(s.js("return document.querySelector('[name=assessor_name]').value;", vec![]), "李娜");
    s.screenshot(&shots.join("43-sync-assignment.png"));
    s.js("document.querySelector('#cancel-new').click();", vec![]); // the toast may cover it
    s.wait_text("#sync-state", &url);

    // The server goes away; 立即同步 says so in Chinese and nothing local changes.
    drop(server);
    s.click("#sync-now");
    s.wait_text("#sync-error", "无法连接服务器");
    assert_eq!(s.js("return document.querySelector('.card [data-sync]').dataset.sync;", vec![]), "synced", "a receipt already covers it");
    s.screenshot(&shots.join("42-sync-unreachable.png"));
    s.end();
    let _ = std::fs::remove_dir_all(&root);
}

/// A new tablet enrolls through the server: the inspector types the server's address and the
/// bureau root's fingerprint from the notice; a wrong fingerprint is refused in Chinese; the
/// request waits (等待医保局批准) until the bureau approves with its CA; 检查审批结果 installs
/// the certificate. Screenshots 44–45.
#[test]
fn a_new_tablet_enrolls_through_the_server() {
    if let Err(why) = enabled() {
        eprintln!("skipped: {why}");
        return;
    }
    let root = std::env::temp_dir().join(format!("hallmark-e2e-enroll-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    let demo = root.join("demo");
    let o = Command::new(cli()).args(["demo", demo.to_str().unwrap()]).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let shown = Command::new(cli()).args(["ca", "show", demo.join("bureau-root.pem").to_str().unwrap()]).output().unwrap();
    let shown = String::from_utf8_lossy(&shown.stdout).to_string();
    let pin = shown.lines().find_map(|l| l.trim().strip_prefix("certificate sha256 ")).unwrap().to_string();
    let server_data = root.join("server");
    let mut server = Command::new(cli())
        .args(["serve", "--data", server_data.to_str().unwrap(), "--listen", "127.0.0.1:0"])
        .args(["--cert", demo.join("sync/server.pem").to_str().unwrap(), "--key", demo.join("sync/server.key").to_str().unwrap()])
        .args(["--trust", demo.join("bureau-root.pem").to_str().unwrap(), "--trust", demo.join("bureau-crl.pem").to_str().unwrap()])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(server.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let url = line.split_whitespace().nth(2).unwrap().to_string();
    let _server = Server(server);
    let shots = workspace_root().join("target/e2e-screenshots");
    std::fs::create_dir_all(&shots).unwrap();

    let data_home = root.join("data");
    std::fs::create_dir_all(&data_home).unwrap();
    let driver = Driver::start(&data_home);
    let s = driver.session(&app_binary(), &[]);
    s.set_window(1280, 800);
    s.click("#enrollment-open");
    s.wait_for("the enrollment screen", "document.querySelector('#submit-enrollment')");
    s.type_into("[name=name]", "赵敏");
    s.type_into("[name=unit]", "铁岭县医疗保障局");
    s.type_into("#server-url", &url);
    // A fingerprint that is not the bureau's: refused, nothing trusted.
    s.type_into("#root-fingerprint", "0000 1111 2222 3333 4444 5555 6666 7777");
    s.click("#submit-enrollment");
    s.wait_text("#toast", "根证书指纹不符");
    s.js("document.querySelector('#root-fingerprint').value = '';", vec![]);
    s.type_into("#root-fingerprint", &pin);
    s.click("#submit-enrollment");
    s.wait_text("#server-enrollment", "等待医保局批准");
    let fingerprint = s.text("#pending-fingerprint");
    s.screenshot(&shots.join("44-enroll-pending.png"));

    // The bureau approves with its CA (on the server's machine: --data).
    let o = Command::new(cli())
        .args(["enroll", "approve", &fingerprint, "--ca", demo.join("bureau-ca").to_str().unwrap(), "--role", "assessor"])
        .args(["--data", server_data.to_str().unwrap()])
        .env("HALLMARK_CA_PASSPHRASE", hallmark_store::demo::DEMO_CA_PASSPHRASE)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    s.click("#check-enrollment");
    s.wait_text("#enrolled-name", "赵敏");
    assert!(s.text("#enrollment-status").contains("已登记"), "{}", s.text("#enrollment-status"));
    s.screenshot(&shots.join("45-enroll-approved.png"));
    s.end();
    let _ = std::fs::remove_dir_all(&root);
}
