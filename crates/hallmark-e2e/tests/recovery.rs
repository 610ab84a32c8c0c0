//! A damaged database in the real app (issue #15): no panic and no black window, but a Chinese
//! recovery screen that restores the backup from the bundle folder; then the inspections are
//! back. Screenshots go to target/e2e-screenshots/.

use hallmark_e2e::{app_binary, enabled, workspace_root, Driver};
use hallmark_store::Store;

const NOW: &str = "2026-11-25T09:00:00.000Z";

#[test]
fn a_damaged_database_shows_the_recovery_screen_and_a_backup_brings_it_back() {
    if let Err(why) = enabled() {
        eprintln!("skipped: {why}");
        return;
    }
    let root = std::env::temp_dir().join(format!("hallmark-e2e-recovery-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    let data = root.join("data/cn.hallmark.inspector");
    let bundles = root.join("bundles");
    std::fs::create_dir_all(&bundles).unwrap();
    {
        let mut store = Store::open(&data, NOW).unwrap();
        hallmark_store::demo::seed(&mut store, NOW).unwrap();
        store.backup(&bundles.join("hallmark-备份-20261125.hallmark-backup"), false, NOW).unwrap();
    }
    // The database file is overwritten with junk (a card that lost power mid-write, say).
    let db = data.join(hallmark_store::DB_FILE);
    std::fs::write(&db, b"\0garbage not a database ".repeat(400)).unwrap();
    for f in ["hallmark.sqlite3-wal", "hallmark.sqlite3-shm"] {
        let _ = std::fs::remove_file(data.join(f));
    }

    let driver = Driver::start_with(&root.join("data"), &[("HALLMARK_BUNDLE_DIR", &bundles)]);
    let s = driver.session(&app_binary(), &[]);
    s.set_window(1280, 800);
    s.find("#recovery");
    let heading = s.text("#recovery h1");
    assert_eq!(heading, "本机数据库已损坏，已停止写入和签名");
    // Every word the inspector reads is Chinese: Latin only in file names and the technical details.
    let visible = s
        .js(
            "const c = document.querySelector('#recovery').cloneNode(true);
             c.querySelectorAll('details, .card-title').forEach(e => e.remove());
             return c.innerText;",
            vec![],
        )
        .as_str()
        .unwrap()
        .to_string();
    let latin: Vec<&str> = visible
        .split(|c: char| !c.is_ascii_alphabetic())
        .filter(|w| w.len() > 1 && !["hallmark", "backup", "MB"].contains(w) && !visible.contains(&format!(".{w}")))
        .collect();
    assert!(latin.is_empty(), "English on the recovery screen: {latin:?}\n{visible}");
    let shots = workspace_root().join("target/e2e-screenshots");
    std::thread::sleep(std::time::Duration::from_millis(500)); // let the screen paint
    s.screenshot(&shots.join("20-recovery.png"));

    s.click("#recovery button.card");
    s.wait_text("#toast", "已从备份恢复");
    s.find("#new-inspection");
    s.wait_for("the demo inspection is back", "document.querySelectorAll('button.card[data-id]').length === 1");
    std::thread::sleep(std::time::Duration::from_millis(500));
    s.screenshot(&shots.join("21-recovered.png"));
    s.end();
    let kept: Vec<String> = std::fs::read_dir(&data)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".damaged-"))
        .collect();
    assert!(!kept.is_empty(), "the damaged database is kept aside, never deleted");
    let _ = std::fs::remove_dir_all(&root);
}
