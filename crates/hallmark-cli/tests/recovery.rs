//! A lead's damaged database from the command line (issue #15): `check` finds it, every other
//! command refuses it with the way out, `restore` brings a backup back, `rebuild` makes a new
//! database from the bundles; `photo-size` keeps the downscale setting.

use std::process::{Command, Output};

fn hallmark(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_hallmark")).args(args).output().unwrap()
}

fn ok(args: &[&str]) -> String {
    let o = hallmark(args);
    assert!(o.status.success(), "hallmark {args:?}: {}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn refused(args: &[&str]) -> String {
    let o = hallmark(args);
    assert_eq!(o.status.code(), Some(1), "hallmark {args:?} should fail: {}", String::from_utf8_lossy(&o.stdout));
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn a_damaged_database_is_checked_refused_restored_and_rebuilt() {
    let tmp = tempfile::tempdir().unwrap();
    let p = |name: &str| tmp.path().join(name).display().to_string();
    ok(&["demo", &p("demo")]);
    let bundles: Vec<String> = std::fs::read_dir(tmp.path().join("demo"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|x| x.extension().is_some_and(|e| e == "hallmark"))
        .map(|x| x.display().to_string())
        .collect();
    let db = p("lead.db");
    let mut import = vec!["import", "--db", &db];
    import.extend(bundles.iter().map(String::as_str));
    ok(&import);
    assert!(ok(&["check", "--db", &db]).contains("数据库完整性（integrity_check）：通过"));
    let list = ok(&["list", "--db", &db]);
    ok(&["backup", "--db", &db, "--out", &p("lead.hallmark-backup")]);

    // Junk over the database: every command refuses, naming the file and the way out.
    std::fs::write(&db, b"junk where the database was ".repeat(100)).unwrap();
    for args in [vec!["list", "--db", &db], vec!["merge", "--db", &db], vec!["check", "--db", &db], vec!["import", "--db", &db, &bundles[0]]] {
        let e = refused(&args);
        assert!(e.contains("is damaged") && e.contains("hallmark restore") && e.contains("hallmark rebuild"), "{args:?}: {e}");
    }
    let e = refused(&["restore", "--db", &db, "--from", &p("lead.hallmark-backup")]);
    assert!(e.contains("--replace"), "{e}");
    let out = ok(&["restore", "--db", &db, "--from", &p("lead.hallmark-backup"), "--replace"]);
    assert!(out.contains("原数据库已移至") && out.contains("已恢复 6 次评价"), "{out}");
    assert_eq!(ok(&["list", "--db", &db]), list);

    ok(&["rebuild", "--db", &p("new.db"), "--from", &p("demo")]);
    assert_eq!(ok(&["list", "--db", &p("new.db")]).lines().count(), 6);

    assert!(ok(&["photo-size", "--db", &db]).contains("按相机原图保存"));
    ok(&["photo-size", "--db", &db, "2048"]);
    assert!(ok(&["photo-size", "--db", &db]).contains("2048"));
    assert!(refused(&["photo-size", "--db", &db, "99"]).contains("between 640 and 3072"));
}
