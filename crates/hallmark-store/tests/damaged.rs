//! Damaged, missing and tampered databases and keys (issue #15): each is refused with its own
//! error and the files are left exactly as they were; backups restore only when every byte
//! checks; a database is rebuilt from bundles.

use std::path::{Path, PathBuf};

use hallmark_store::recovery::{self, BACKUP_EXTENSION};
use hallmark_store::{Access, Store, StoreError, DB_FILE};

const NOW: &str = "2026-11-25T09:00:00.000Z";

fn demo_bundles() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/bundles/demo");
    let mut v: Vec<PathBuf> =
        std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).filter(|p| p.extension().is_some_and(|x| x == "hallmark")).collect();
    v.sort();
    v
}

/// A lead's database (`lead.db` + `lead.db-files/`) with the six demo bundles, closed.
fn lead(root: &Path) -> (PathBuf, PathBuf) {
    let (db, dir) = (root.join("lead.db"), root.join("lead.db-files"));
    let mut store = Store::open_at(&db, &dir, NOW).unwrap();
    for b in demo_bundles() {
        store.import_bundle(&b, NOW, &mut |_, _| {}).unwrap();
    }
    checkpoint(&store_conn(&db));
    (db, dir)
}

fn store_conn(db: &Path) -> rusqlite::Connection {
    rusqlite::Connection::open(db).unwrap()
}

/// Moves everything from the WAL into the database file, so byte edits hit real pages.
fn checkpoint(conn: &rusqlite::Connection) {
    conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(())).unwrap();
}

/// Every file under `root` with its bytes' hash: compared before and after a refusal.
fn state(root: &Path) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let bytes = std::fs::read(&p).unwrap();
                out.push((p.strip_prefix(root).unwrap().display().to_string(), hallmark_core::hex::sha256_hex(&bytes)));
            }
        }
    }
    out.sort();
    out
}

const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/// Without SQLite's shared-memory index and an empty WAL: made by any reader of a WAL
/// database, holding no data.
fn without_sqlite_housekeeping(files: Vec<(String, String)>) -> Vec<(String, String)> {
    let housekeeping = |p: &str, h: &str| p.ends_with("-shm") || (p.ends_with("-wal") && h == EMPTY_SHA256);
    files.into_iter().filter(|(p, h)| !housekeeping(p, h)).collect()
}

fn code(r: Result<Store, StoreError>) -> (String, String) {
    match r {
        Ok(_) => ("opened".into(), String::new()),
        Err(e) => (e.code().to_string(), e.to_string()),
    }
}

#[test]
fn missing_empty_and_foreign_files_are_refused_and_left_as_they_are() {
    type Make = fn(&Path, &Path);
    /// How each open mode answers: the error code (or "opened") and a part of the message.
    type Answers = &'static [(Access, &'static str, &'static str)];
    let cases: &[(&str, Make, Answers)] = &[
        (
            "typo'd path",
            |_, _| {},
            &[
                (Access::ReadOnly, "missing", "no hallmark database here"),
                (Access::Existing, "missing", "no hallmark database here"),
                (Access::Create, "opened", ""),
            ],
        ),
        (
            "zero-length file",
            |db, _| std::fs::write(db, b"").unwrap(),
            &[(Access::ReadOnly, "damaged", "the file is empty (0 bytes)"), (Access::Existing, "damaged", "the file is empty (0 bytes)")],
        ),
        (
            "zero-length file in a used folder",
            |db, dir| {
                std::fs::write(db, b"").unwrap();
                std::fs::create_dir_all(dir).unwrap();
                std::fs::write(dir.join("device.key"), [7u8; 32]).unwrap();
            },
            &[(Access::Create, "damaged", "the file is empty (0 bytes)")],
        ),
        (
            "not a SQLite file",
            |db, _| std::fs::write(db, b"PK\x03\x04 this is a zip file, not a database ".repeat(200)).unwrap(),
            &[
                (Access::ReadOnly, "damaged", "file is not a database"),
                (Access::Existing, "damaged", "file is not a database"),
                (Access::Create, "damaged", "file is not a database"),
            ],
        ),
        (
            "truncated database",
            |db, dir| {
                lead(db.parent().unwrap());
                let _ = dir;
                let bytes = std::fs::read(db).unwrap();
                std::fs::write(db, &bytes[..bytes.len() / 3]).unwrap();
            },
            &[(Access::ReadOnly, "damaged", "is damaged"), (Access::Existing, "damaged", "is damaged")],
        ),
    ];
    for (name, make, expectations) in cases {
        for (access, want_code, want_text) in *expectations {
            let tmp = tempfile::tempdir().unwrap();
            let (db, dir) = (tmp.path().join("lead.db"), tmp.path().join("lead.db-files"));
            make(&db, &dir);
            let before = state(tmp.path());
            let (got_code, got_text) = code(Store::open_with(&db, &dir, *access, NOW));
            assert_eq!(&got_code, want_code, "{name} opened {access:?}: {got_text}");
            assert!(got_text.contains(want_text), "{name} opened {access:?}: {got_text:?} lacks {want_text:?}");
            if got_code != "opened" {
                assert_eq!(
                    without_sqlite_housekeeping(state(tmp.path())),
                    without_sqlite_housekeeping(before),
                    "{name} opened {access:?}: a refusal changed files"
                );
                assert!(got_text.contains("hallmark") || got_code == "missing", "{name}: the message names the way out: {got_text}");
            }
        }
    }
}

#[test]
fn flipped_bytes_stop_import_and_signing_and_change_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let (db, dir) = lead(tmp.path());
    // Flip bytes page by page (deterministic) until SQLite's integrity check fails.
    let original = std::fs::read(&db).unwrap();
    let pages = original.len() / 4096;
    let mut damaged = None;
    for page in (2..pages).rev() {
        let mut bytes = original.clone();
        for i in 0..64 {
            bytes[page * 4096 + 100 + i * 7] ^= 0x5a;
        }
        std::fs::write(&db, &bytes).unwrap();
        let ok: String = store_conn(&db).query_row("PRAGMA integrity_check", [], |r| r.get(0)).unwrap_or_else(|e| e.to_string());
        if ok != "ok" {
            damaged = Some(page);
            break;
        }
    }
    assert!(damaged.is_some(), "no page flip made integrity_check fail");
    let _ = std::fs::remove_file(tmp.path().join("lead.db-wal"));
    let _ = std::fs::remove_file(tmp.path().join("lead.db-shm"));
    let before = state(tmp.path());
    let bundle = &demo_bundles()[0];
    match Store::open_with(&db, &dir, Access::Existing, NOW) {
        Err(e) => assert_eq!(e.code(), "damaged", "{e}"),
        Ok(mut store) => {
            // quick_check on open skips the indexes: the full check before writing catches it.
            let e = store.import_bundle(bundle, NOW, &mut |_, _| {}).unwrap_err();
            assert_eq!(e.code(), "damaged", "{e}");
            assert!(e.to_string().contains("hallmark rebuild"), "{e}");
            let e = store.ensure_sound().unwrap_err();
            assert_eq!(e.code(), "damaged");
        }
    }
    let after: Vec<_> = state(tmp.path()).into_iter().filter(|(p, _)| !p.ends_with("-shm") && !p.ends_with("-wal")).collect();
    assert_eq!(after, before.into_iter().filter(|(p, _)| !p.ends_with("-shm") && !p.ends_with("-wal")).collect::<Vec<_>>());
}

#[test]
fn an_answer_edited_behind_the_log_is_found_and_never_signed() {
    let tmp = tempfile::tempdir().unwrap();
    let (db, dir) = lead(tmp.path());
    let conn = store_conn(&db);
    let (id, key, value): (String, String, String) = conn
        .query_row("SELECT inspection_id, key, value FROM answers WHERE value = '985' OR value LIKE '%9%' LIMIT 1", [], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .unwrap();
    let edited = value.replacen('9', "3", 1);
    conn.execute("UPDATE answers SET value = ?1 WHERE inspection_id = ?2 AND key = ?3", [&edited, &id, &key]).unwrap();
    drop(conn);
    let store = Store::open_with(&db, &dir, Access::Existing, NOW).unwrap();
    let e = store.answers_agree(&id).unwrap_err();
    assert_eq!(e.code(), "damaged");
    assert!(e.to_string().contains(&format!("the answer to '{key}' is {edited} but its event log says {value}")), "{e}");
    let health = store.health().unwrap();
    assert!(!health.is_sound());
    assert_eq!(health.answers.len(), 1, "{:?}", health.answers);
    assert_eq!(health.integrity, "ok", "the file itself is sound: only the cache disagrees");
}

#[test]
fn a_replaced_device_key_stops_signing_but_not_reading() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("tablet");
    let mut store = Store::open(&dir, NOW).unwrap();
    let id = store
        .create_inspection(
            &hallmark_store::NewInspection {
                rubric_text: hallmark_core::builtin::JIANGSU.to_string(),
                site_name: "测试服务站".into(),
                site_level: "乡镇".into(),
                visited_on: "2026-11-20".into(),
                assessor_name: "王敏".into(),
                ..Default::default()
            },
            NOW,
        )
        .unwrap();
    let recorded = store.device_key().fingerprint();
    drop(store);
    std::fs::write(dir.join("device.key"), [9u8; 32]).unwrap();
    let store = Store::open(&dir, NOW).unwrap();
    assert_eq!(store.summaries().unwrap().len(), 1, "reading still works");
    let out = tmp.path().join("b.hallmark");
    let e = store.export_bundle(&id, &out, NOW, &mut |_, _| {}).unwrap_err();
    assert_eq!(e.code(), "key_changed", "{e}");
    assert!(e.to_string().contains(&recorded), "the message names the recorded key: {e}");
    assert!(!out.exists(), "nothing was written");
    assert!(!health_of(&store).is_sound());
}

fn health_of(store: &Store) -> recovery::Health {
    store.health().unwrap()
}

#[cfg(unix)]
#[test]
fn a_key_file_others_can_read_is_made_private_with_a_notice() {
    use std::os::unix::fs::PermissionsExt;
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("tablet");
    drop(Store::open(&dir, NOW).unwrap());
    let key = dir.join("device.key");
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
    let ro = Store::open_with(&dir.join(DB_FILE), &dir, Access::ReadOnly, NOW).unwrap();
    assert!(ro.notices().iter().any(|n| n.contains("chmod 600")), "{:?}", ro.notices());
    assert_eq!(std::fs::metadata(&key).unwrap().permissions().mode() & 0o777, 0o644, "a read-only open changes nothing");
    drop(ro);
    let store = Store::open(&dir, NOW).unwrap();
    assert!(store.notices().iter().any(|n| n.contains("made private (0600)")), "{:?}", store.notices());
    assert_eq!(std::fs::metadata(&key).unwrap().permissions().mode() & 0o777, 0o600);
}

#[test]
fn a_read_only_open_writes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let (db, dir) = lead(tmp.path());
    drop(Store::open_at(&db, &dir, NOW).unwrap());
    for f in ["lead.db-wal", "lead.db-shm"] {
        let _ = std::fs::remove_file(tmp.path().join(f));
    }
    let before = state(tmp.path());
    let store = Store::open_with(&db, &dir, Access::ReadOnly, NOW).unwrap();
    assert_eq!(store.merge().unwrap().len(), 2);
    assert_eq!(store.signing_key().err().map(|e| e.code()), Some("invalid"), "nothing is signed from a read-only open");
    drop(store);
    let after: Vec<_> = state(tmp.path()).into_iter().filter(|(p, _)| !p.ends_with("-shm") && !p.ends_with("-wal")).collect();
    assert_eq!(after, before);
}

/// On a read-only medium (a bind mount, root only): a cleanly closed database is opened
/// `immutable=1`, one with a WAL through a copy that includes it.
#[test]
fn a_database_on_a_read_only_mount_is_listed() {
    let tmp = tempfile::tempdir().unwrap();
    let (db, dir) = lead(tmp.path());
    // Leave a WAL with one more import in it.
    let extra = tempfile::tempdir().unwrap();
    {
        let mut store = Store::open_at(&db, &dir, NOW).unwrap();
        store.roster_add(&"ab".repeat(32), "赵磊", NOW).unwrap();
        let copy = extra.path().join("with-wal");
        std::fs::create_dir_all(&copy).unwrap();
        for f in ["lead.db", "lead.db-wal"] {
            std::fs::copy(tmp.path().join(f), copy.join(f)).unwrap();
        }
    }
    let ro = tempfile::tempdir().unwrap();
    let mounted = std::process::Command::new("mount").args(["--bind", "-o", "ro"]).arg(extra.path()).arg(ro.path()).status();
    if !mounted.is_ok_and(|s| s.success()) {
        eprintln!("skipped: cannot bind-mount read-only here (needs root)");
        return;
    }
    let _ = std::process::Command::new("mount").args(["-o", "remount,bind,ro"]).arg(ro.path()).status();
    let result = std::panic::catch_unwind(|| {
        let db = ro.path().join("with-wal/lead.db");
        let store = Store::open_with(&db, &ro.path().join("with-wal/lead.db-files"), Access::ReadOnly, NOW).unwrap();
        assert_eq!(store.roster().unwrap().len(), 1, "the transaction still in the WAL is read");
        assert_eq!(store.merge().unwrap().len(), 2);
    });
    let _ = std::process::Command::new("umount").arg(ro.path()).status();
    result.unwrap();
}

#[test]
fn a_backup_restores_byte_for_byte_and_a_damaged_one_changes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let (db, dir) = lead(tmp.path());
    let backup = tmp.path().join(format!("b.{BACKUP_EXTENSION}"));
    let store = Store::open_with(&db, &dir, Access::ReadOnly, NOW).unwrap();
    let made = store.backup(&backup, false, NOW).unwrap();
    let groups = serde_json::to_string(&store.merge().unwrap()).unwrap();
    drop(store);
    assert!(made.files > 30, "database + 18 photos + thumbnails + signatures: {}", made.files);

    // Into a new place: the same merge, the same files.
    let to = tmp.path().join("restored");
    std::fs::create_dir_all(&to).unwrap();
    let r = recovery::restore(&backup, &to.join("lead.db"), &to.join("lead.db-files"), false, NOW).unwrap();
    assert_eq!(r.inspections, 6);
    let restored = Store::open_with(&to.join("lead.db"), &to.join("lead.db-files"), Access::ReadOnly, NOW).unwrap();
    assert_eq!(serde_json::to_string(&restored.merge().unwrap()).unwrap(), groups);
    assert!(restored.health().unwrap().files.is_empty());
    drop(restored);

    // Over an existing database: refused without --replace; with it, the old one is kept aside.
    let e = recovery::restore(&backup, &db, &dir, false, NOW).unwrap_err();
    assert!(e.to_string().contains("--replace"), "{e}");
    let r = recovery::restore(&backup, &db, &dir, true, NOW).unwrap();
    assert!(r.moved_aside.as_ref().is_some_and(|p| p.exists()));

    // Damaged backups: each refused with its reason, and the target left as it was.
    let bytes = std::fs::read(&backup).unwrap();
    let flip_at = |at: usize| {
        let mut b = bytes.clone();
        b[at] ^= 0x01;
        b
    };
    // The database's ustar header: its name at the start of a 512-byte block.
    let db_entry = (0..bytes.len()).step_by(512).find(|&at| bytes[at..].starts_with(DB_FILE.as_bytes())).unwrap();
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("truncated", bytes[..bytes.len() / 2].to_vec(), "unexpected end of file"),
        ("a byte of the database flipped", flip_at(db_entry + 512 * 3 + 2000), "does not match its SHA-256"),
        ("a byte of the last photo flipped", flip_at(bytes.len() - 1024 - 700), "does not match its SHA-256"),
        ("not a backup", b"hello".repeat(300), "not a hallmark backup"),
    ];
    for (name, bad, want) in cases {
        let path = tmp.path().join("bad.hallmark-backup");
        std::fs::write(&path, bad).unwrap();
        let target = tmp.path().join(format!("t-{}", name.len()));
        let e = recovery::restore(&path, &target.join("x.db"), &target.join("x.db-files"), false, NOW).unwrap_err();
        assert!(e.to_string().contains(want), "{name}: {e}");
        assert!(!target.join("x.db").exists(), "{name}: no database was put in place");
        let left = std::fs::read_dir(target.join("x.db-files")).map(|r| r.flatten().count()).unwrap_or(0);
        assert_eq!(left, 0, "{name}: no staging left behind");
    }
}

#[test]
fn a_database_is_rebuilt_from_its_bundles() {
    let tmp = tempfile::tempdir().unwrap();
    let (db, dir) = lead(tmp.path());
    let from = tmp.path().join("bundles");
    std::fs::create_dir_all(&from).unwrap();
    for b in demo_bundles() {
        std::fs::copy(&b, from.join(b.file_name().unwrap())).unwrap();
    }
    std::fs::write(from.join("junk.hallmark"), b"not a bundle").unwrap();
    let e = recovery::rebuild(&from, &db, &dir, NOW).unwrap_err();
    assert!(e.to_string().contains("exists"), "never into the damaged database: {e}");
    let new = tmp.path().join("new.db");
    let r = recovery::rebuild(&from, &new, &tmp.path().join("new.db-files"), NOW).unwrap();
    assert_eq!((r.imported, r.already, r.refused.len()), (6, 0, 1), "{:?}", r.refused);
    let old = Store::open_with(&db, &dir, Access::ReadOnly, NOW).unwrap();
    let rebuilt = Store::open_with(&new, &tmp.path().join("new.db-files"), Access::ReadOnly, NOW).unwrap();
    let totals = |s: &Store| s.merge().unwrap().iter().map(|g| g.panel.as_ref().map(|p| p.final_score.map(|d| d.to_string()))).collect::<Vec<_>>();
    assert_eq!(totals(&rebuilt), totals(&old));
}

#[test]
fn the_app_rebuilds_in_place_in_a_used_folder_and_keeps_the_damaged_file() {
    let tmp = tempfile::tempdir().unwrap();
    let (db, dir) = lead(tmp.path());
    let key_before = std::fs::read(dir.join("device.key")).unwrap();
    std::fs::write(&db, b"junk, not a database").unwrap();
    let from = tmp.path().join("bundles");
    std::fs::create_dir_all(&from).unwrap();
    for b in demo_bundles() {
        std::fs::copy(&b, from.join(b.file_name().unwrap())).unwrap();
    }
    let (r, aside) = recovery::rebuild_in_place(&from, &db, &dir, NOW).unwrap();
    assert_eq!(r.imported, 6);
    assert_eq!(std::fs::read(aside.unwrap()).unwrap(), b"junk, not a database", "the damaged file is kept");
    let store = Store::open_with(&db, &dir, Access::Existing, NOW).unwrap();
    assert_eq!(store.merge().unwrap().len(), 2);
    assert!(store.signing_key().is_ok(), "the folder's key is this database's key again");
    assert_eq!(std::fs::read(dir.join("device.key")).unwrap(), key_before);
    let staging: Vec<_> = std::fs::read_dir(&dir).unwrap().flatten().filter(|e| e.file_name().to_string_lossy().starts_with(".hallmark")).collect();
    assert!(staging.is_empty(), "no staging folder left");
}

#[test]
fn a_restore_repairs_altered_photos_installs_the_backed_up_key_and_never_replays_a_stray_wal() {
    let tmp = tempfile::tempdir().unwrap();
    let (db, dir) = lead(tmp.path());
    let backup = tmp.path().join("b.hallmark-backup");
    Store::open_with(&db, &dir, Access::ReadOnly, NOW).unwrap().backup(&backup, true, NOW).unwrap();
    let key = std::fs::read(dir.join("device.key")).unwrap();
    // A photo altered in place (same size), another key, and the database gone with its WAL left.
    let photo = std::fs::read_dir(dir.join("photos")).unwrap().flatten().next().unwrap().path();
    let photo = std::fs::read_dir(photo).unwrap().flatten().next().unwrap().path();
    let mut bytes = std::fs::read(&photo).unwrap();
    let good = bytes.clone();
    bytes[1000] ^= 0xff;
    std::fs::write(&photo, &bytes).unwrap();
    std::fs::write(dir.join("device.key"), [5u8; 32]).unwrap();
    std::fs::remove_file(&db).unwrap();
    std::fs::write(tmp.path().join("lead.db-wal"), b"frames of another database").unwrap();
    let r = recovery::restore(&backup, &db, &dir, true, NOW).unwrap();
    assert_eq!(std::fs::read(&photo).unwrap(), good, "the altered photo is repaired from the backup");
    assert_eq!(std::fs::read(dir.join("device.key")).unwrap(), key, "the backed-up key is installed");
    assert!(matches!(&r.key, recovery::KeyRestore::Installed { replaced: Some(p) } if std::fs::read(p).unwrap() == [5u8; 32]), "{:?}", r.key);
    let aside = r.moved_aside.expect("the stray WAL went aside");
    assert_eq!(std::fs::read(format!("{}-wal", aside.display())).unwrap(), b"frames of another database");
    let store = Store::open_with(&db, &dir, Access::Existing, NOW).unwrap();
    assert!(store.health().unwrap().is_sound(), "{:?}", store.health().unwrap());
    // Moving aside twice in the same second never overwrites the first kept file.
    drop(store);
    let first = recovery::move_aside(&db, NOW).unwrap().unwrap();
    std::fs::write(&db, b"second").unwrap();
    let second = recovery::move_aside(&db, NOW).unwrap().unwrap();
    assert_ne!(first, second);
    assert!(first.exists() && second.exists());
}

#[test]
fn a_backup_naming_a_folder_or_another_path_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let (db, dir) = lead(tmp.path());
    let backup = tmp.path().join("b.hallmark-backup");
    Store::open_with(&db, &dir, Access::ReadOnly, NOW).unwrap().backup(&backup, false, NOW).unwrap();
    let good = std::fs::read(&backup).unwrap();
    let text = String::from_utf8_lossy(&good[512..]).into_owned();
    let start = text.find("\"photos/").unwrap() + 1;
    let name = &text[start..start + 77];
    for hostile in ["photos", "photos/../../x", "thumbs/zz/notahash.jpg"] {
        // Same manifest with one name swapped (kept the same length so the archive stays valid
        // up to the check): the listed name is refused before anything is written.
        let padded = format!("{hostile:<width$}", width = name.len()).replace(' ', "_");
        let bad = String::from_utf8_lossy(&good).replacen(name, &padded, 1).into_bytes();
        let path = tmp.path().join("hostile.hallmark-backup");
        std::fs::write(&path, &bad).unwrap();
        let target = tmp.path().join("t");
        let e = recovery::restore(&path, &target.join("x.db"), &target.join("x.db-files"), false, NOW).unwrap_err();
        assert!(e.to_string().contains("not a name a backup holds") || e.to_string().contains("not a hallmark backup"), "{hostile}: {e}");
        assert!(!target.join("x.db-files/photos").is_file());
    }
}

#[test]
fn a_database_from_an_older_hallmark_is_read_without_writing_it() {
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("old.db");
    let conn = rusqlite::Connection::open(&db).unwrap();
    let migrations = Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
    for m in ["0001_init.sql", "0002_service_entries.sql", "0003_bundles.sql"] {
        conn.execute_batch(&std::fs::read_to_string(migrations.join(m)).unwrap()).unwrap();
    }
    conn.pragma_update(None, "user_version", 3).unwrap();
    conn.execute("INSERT INTO device (id, created_at) VALUES ('old-device', ?1)", [NOW]).unwrap();
    drop(conn);
    let before = std::fs::read(&db).unwrap();
    let store = Store::open_with(&db, &tmp.path().join("old.db-files"), Access::ReadOnly, NOW).unwrap();
    assert_eq!(store.device_id(), "old-device");
    assert!(store.summaries().unwrap().is_empty());
    drop(store);
    assert_eq!(std::fs::read(&db).unwrap(), before, "schema 3 is read through a migrated copy; the file is unchanged");
}
