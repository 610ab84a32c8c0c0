//! The store on real temporary SQLite files.

use hallmark_store::{demo, derive_answers, NewInspection, ServiceEntry, Store, StoreError};
use serde_json::json;

const NOW: &str = "2026-11-20T09:00:00Z";

fn new_jiangsu() -> NewInspection {
    NewInspection {
        rubric_text: hallmark_core::builtin::JIANGSU.to_string(),
        site_name: "测试服务站".into(),
        site_level: "乡镇".into(),
        visited_on: "2026-11-20".into(),
        assessor_name: "王敏".into(),
        ..Default::default()
    }
}

fn open() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path(), NOW).unwrap();
    (dir, store)
}

fn db_dump(store_dir: &std::path::Path) -> Vec<(String, String)> {
    // Every row of every table, as text: compared before/after a refused input.
    let conn = rusqlite::Connection::open(store_dir.join(hallmark_store::DB_FILE)).unwrap();
    let tables: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let mut out = Vec::new();
    for t in tables {
        let mut st = conn.prepare(&format!("SELECT * FROM \"{t}\"")).unwrap();
        let n = st.column_count();
        let rows: Vec<String> = st
            .query_map([], |r| Ok((0..n).map(|i| format!("{:?}", r.get_ref(i).unwrap())).collect::<Vec<_>>().join("|")))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        for row in rows {
            out.push((t.clone(), row));
        }
    }
    out
}

#[test]
fn migrates_from_empty_and_reopens() {
    let (dir, store) = open();
    assert_eq!(store.schema_version().unwrap(), 13, "migration 0013 (issue #13): report withdrawals");
    assert!(store.published_rubrics().unwrap().is_empty());
    let device = store.device_id().to_string();
    drop(store);
    let again = Store::open(dir.path(), NOW).unwrap();
    assert_eq!(again.device_id(), device, "the device id is made once");
    assert_eq!(again.integrity_check().unwrap(), "ok");
}

#[test]
fn answers_rebuilt_from_the_log_equal_the_derived_state() {
    let (_dir, mut store) = open();
    let id = store.create_inspection(&new_jiangsu(), NOW).unwrap();
    store.record(&id, "1.1.location", Some(json!(true)), "王敏", NOW).unwrap();
    store.record(&id, "1.1.location", Some(json!(false)), "王敏", NOW).unwrap();
    store.record(&id, "3.1.chs_nonstandard", Some(json!(2)), "王敏", NOW).unwrap();
    store.record(&id, "3.1.chs_nonstandard", None, "王敏", NOW).unwrap();
    store.record(&id, "1.2.floor_area", Some(json!({"value": 120, "unit": "m²"})), "王敏", NOW).unwrap();
    store.record(&id, "veto:veto1", Some(json!(false)), "王敏", NOW).unwrap();

    let events = store.events(&id).unwrap();
    assert_eq!(events.len(), 6);
    assert_eq!(events[1].previous, Some(json!(true)), "an event keeps the value it replaced");
    let cached = store.answers(&id).unwrap();
    assert_eq!(cached, derive_answers(&events));
    assert_eq!(cached.get("1.1.location"), Some(&json!(false)));
    assert!(!cached.contains_key("3.1.chs_nonstandard"), "a cleared answer is unanswered");

    store.rebuild_answers(&id).unwrap();
    assert_eq!(store.answers(&id).unwrap(), cached);

    let (_, sheet) = store.sheet(&id).unwrap();
    assert_eq!(sheet.total.to_string(), "3", "1.1 location no → 0; 1.2 floor area 120 m² → 3");
}

#[test]
fn the_event_log_is_append_only() {
    let (dir, mut store) = open();
    let id = store.create_inspection(&new_jiangsu(), NOW).unwrap();
    store.record(&id, "1.1.location", Some(json!(true)), "王敏", NOW).unwrap();
    drop(store);
    let conn = rusqlite::Connection::open(dir.path().join(hallmark_store::DB_FILE)).unwrap();
    let err = conn.execute("UPDATE events SET value = 'false'", []).unwrap_err();
    assert!(err.to_string().contains("append-only"), "{err}");
    let err = conn.execute("DELETE FROM events", []).unwrap_err();
    assert!(err.to_string().contains("append-only"), "{err}");
}

#[test]
fn a_finished_inspection_takes_only_amendments() {
    let (_dir, mut store) = open();
    let id = store.create_inspection(&new_jiangsu(), NOW).unwrap();
    store.record(&id, "1.1.location", Some(json!(true)), "王敏", NOW).unwrap();
    store.finish(&id, NOW).unwrap();
    let err = store.record(&id, "1.1.location", Some(json!(false)), "王敏", NOW).unwrap_err();
    assert!(matches!(err, StoreError::Finished(_)), "{err}");
    let err = store.amend(&id, "1.1.location", Some(json!(false)), "王敏", NOW, " ").unwrap_err();
    assert!(err.to_string().contains("needs a reason"));
    let e = store.amend(&id, "1.1.location", Some(json!(false)), "王敏", NOW, "复核时发现选址材料有误").unwrap();
    assert_eq!(e.amendment.as_deref(), Some("复核时发现选址材料有误"));
    assert_eq!(store.answers(&id).unwrap()["1.1.location"], json!(false));
    assert_eq!(store.events(&id).unwrap().len(), 2, "the original answer stays in the log");
}

#[test]
fn the_rubric_is_pinned() {
    let (dir, mut store) = open();
    let id = store.create_inspection(&new_jiangsu(), NOW).unwrap();
    store.record(&id, "2.4.medical", Some(json!({"missing": []})), "王敏", NOW).unwrap();
    let before = store.sheet(&id).unwrap().1.total;
    // Someone edits the pinned copy in the database: the inspection refuses to score.
    drop(store);
    let conn = rusqlite::Connection::open(dir.path().join(hallmark_store::DB_FILE)).unwrap();
    conn.execute("UPDATE inspections SET rubric_content = replace(rubric_content, 'points = \"2\"', 'points = \"3\"')", []).unwrap();
    drop(conn);
    let store = Store::open(dir.path(), NOW).unwrap();
    let err = store.sheet(&id).unwrap_err();
    assert_eq!(err.code(), "rubric");
    assert!(err.to_string().contains("pinned rubric 'jiangsu-15min' v2"), "{err}");
    assert_eq!(before.to_string(), "2");
}

#[test]
fn bad_values_are_refused_and_nothing_is_stored() {
    let (dir, mut store) = open();
    let mut new = new_jiangsu();
    new.rubric_text = hallmark_core::builtin::LIAONING.to_string();
    new.site_level = "county".into();
    let id = store.create_inspection(&new, NOW).unwrap();
    store.record(&id, "comfort.humidity", Some(json!({"value": 55, "unit": "%"})), "王敏", NOW).unwrap();
    let before = db_dump(dir.path());
    for (key, value, needle) in [
        ("comfort.humidity", json!({"value": 140, "unit": "%"}), "outside the valid range"),
        ("layout.floor_area", json!({"value": -5, "unit": "m²"}), "outside the valid range"),
        ("comfort.temperature", json!(22), "has no unit"),
        ("layout.transfers", json!(-1), "negative"),
        ("no.such.input", json!(1), "unknown input"),
        ("veto:veto1", json!("yes"), "not true/false"),
    ] {
        let err = store.record(&id, key, Some(value), "王敏", NOW).unwrap_err();
        assert_eq!(err.code(), "invalid", "{key}");
        assert!(err.to_string().contains(needle), "{key}: {err}");
    }
    for (bytes, needle) in
        [(b"not a photo at all".to_vec(), "not an image"), (demo::demo_photo(0)[..5000].to_vec(), "truncated"), (Vec::new(), "empty")]
    {
        let err = store.attach_photo(&id, "layout", &bytes, "", "王敏", NOW).unwrap_err();
        assert!(err.to_string().contains(needle), "{err}");
    }
    assert_eq!(db_dump(dir.path()), before, "a refused input changes nothing");
    let photos = dir.path().join("photos");
    assert!(!photos.exists() || std::fs::read_dir(&photos).unwrap().next().is_none(), "no photo file for a refused photo");

    let mut bad = new_jiangsu();
    bad.rubric_text = "format = \"hallmark-rubric/1\"\nid = \"x\"".into();
    let err = store.create_inspection(&bad, NOW).unwrap_err();
    assert_eq!(err.code(), "rubric");
    bad = new_jiangsu();
    bad.site_level = "村".into();
    assert_eq!(store.create_inspection(&bad, NOW).unwrap_err().code(), "invalid");
    assert_eq!(db_dump(dir.path()), before);
}

#[test]
fn photos_are_stored_once_with_a_thumbnail() {
    let (_dir, mut store) = open();
    let id = store.create_inspection(&new_jiangsu(), NOW).unwrap();
    let bytes = demo::demo_photo(1);
    let a = store.attach_photo(&id, "2.1", &bytes, "窗口", "王敏", NOW).unwrap();
    let b = store.attach_photo(&id, "2.2", &bytes, "同一张", "王敏", NOW).unwrap();
    assert_eq!(a.photo.sha256, b.photo.sha256);
    assert_eq!(std::fs::read(store.photo_path(&a.photo.sha256)).unwrap(), bytes, "original bytes unchanged");
    let thumb = image::load_from_memory(&std::fs::read(store.thumb_path(&a.photo.sha256)).unwrap()).unwrap();
    assert_eq!((thumb.width(), thumb.height()), (320, 240));
    assert_eq!((a.photo.width, a.photo.height), (1024, 768));
    assert_eq!(store.evidence(&id).unwrap().len(), 2);
}

#[test]
fn demo_seed_gives_a_partly_filled_inspection() {
    let (_dir, mut store) = open();
    let id = demo::seed(&mut store, NOW).unwrap();
    assert_eq!(demo::seed(&mut store, NOW).unwrap(), id, "seeding twice adds nothing");
    let (_, sheet) = store.sheet(&id).unwrap();
    assert!(!sheet.complete);
    assert!(sheet.items.iter().any(|i| i.points.is_some()));
    assert!(sheet.items.iter().any(|i| i.points.is_none()));
    assert_eq!(store.evidence(&id).unwrap().len(), 3);
}

/// ui/test/fixture.json is what the UI's fake backend serves in a plain browser
/// (open ui/index.html from a static server). It is the demo inspection's view, kept current.
#[test]
fn ui_fixture_is_current() {
    let (_dir, mut store) = open();
    let id = demo::seed(&mut store, NOW).unwrap();
    let (rubric, sheet) = store.sheet(&id).unwrap();
    let mut inspection = serde_json::to_value(store.inspection(&id).unwrap()).unwrap();
    // ids and the device differ per run: fix them so the file is stable.
    inspection["id"] = json!("demo");
    inspection["device_id"] = json!("demo-device");
    let view = json!({
        "inspection": inspection,
        "rubric": rubric,
        "answers": store.answers(&id).unwrap(),
        "sheet": sheet,
        "evidence": [],
    });
    let text = serde_json::to_string_pretty(&view).unwrap() + "\n";
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../ui/test/fixture.json");
    if std::env::var_os("UPDATE_EXPECT").is_some() || !path.exists() {
        std::fs::write(&path, &text).unwrap();
    }
    let stored = std::fs::read_to_string(&path).unwrap();
    assert!(stored == text, "ui/test/fixture.json is stale: run UPDATE_EXPECT=1 cargo test -p hallmark-store");
}

#[test]
fn a_version_1_database_migrates_and_keeps_its_data() {
    let dir = tempfile::tempdir().unwrap();
    {
        // A database as the first release wrote it: migration 1 only.
        let conn = rusqlite::Connection::open(dir.path().join(hallmark_store::DB_FILE)).unwrap();
        conn.execute_batch(include_str!("../migrations/0001_init.sql")).unwrap();
        conn.pragma_update(None, "user_version", 1).unwrap();
    }
    let mut store = Store::open(dir.path(), NOW).unwrap();
    let id = store.create_inspection(&new_jiangsu(), NOW).unwrap();
    store.record(&id, "1.1.location", Some(json!(true)), "王敏", NOW).unwrap();
    drop(store);
    let store = Store::open(dir.path(), NOW).unwrap();
    assert_eq!(store.schema_version().unwrap(), 13, "migration 0013 (issue #13): report withdrawals");
    assert_eq!(store.inspection(&id).unwrap().assignment_id, None);
    assert!(store.published_rubrics().unwrap().is_empty());
    assert_eq!(store.answers(&id).unwrap()["1.1.location"], json!(true));
    assert!(store.service_entries(&id).unwrap().is_empty());
}

fn liaoning(store: &mut Store) -> String {
    let mut new = new_jiangsu();
    new.rubric_text = hallmark_core::builtin::LIAONING.to_string();
    new.site_level = "county".into();
    store.create_inspection(&new, NOW).unwrap()
}

fn service(kind: &str, occurrences: &[(&str, u64)]) -> ServiceEntry {
    ServiceEntry {
        kind: kind.into(),
        observed_at: NOW.into(),
        note: "异地就医备案".into(),
        occurrences: occurrences.iter().map(|(k, n)| (k.to_string(), *n)).collect(),
    }
}

#[test]
fn each_observed_service_feeds_the_counts_and_tallies() {
    let (_dir, mut store) = open();
    let id = liaoning(&mut store);
    store.record_service(&id, "practice", &service("real", &[("practice.language", 1)]), "王敏", NOW).unwrap();
    store.record_service(&id, "practice", &service("real", &[("practice.language", 2), ("practice.gestures", 1)]), "王敏", NOW).unwrap();
    let r = store.record_service(&id, "practice", &service("simulated", &[]), "王敏", NOW).unwrap();
    assert_eq!(r.events.len(), 1, "a clean simulated service only counts itself");
    let a = store.answers(&id).unwrap();
    assert_eq!(a["practice.real_services"], json!(2));
    assert_eq!(a["practice.simulated_services"], json!(1));
    assert_eq!(a["practice.language"], json!(3));
    assert_eq!(a["practice.gestures"], json!(1));
    assert_eq!(store.service_entries(&id).unwrap().len(), 3);
    assert_eq!(store.answers(&id).unwrap(), derive_answers(&store.events(&id).unwrap()));
    let (_, sheet) = store.sheet(&id).unwrap();
    let practice = sheet.items.iter().find(|i| i.id == "practice").unwrap();
    assert!(practice.parts.iter().any(|p| p.explanation.contains("扣3分")), "{:?}", practice.parts);
    assert!(sheet.diagnostics.iter().any(|d| d.message.contains("少于规定的10")), "fewer than 10 + 10 is warned");
}

#[test]
fn a_bad_service_entry_stores_nothing() {
    let (dir, mut store) = open();
    let id = liaoning(&mut store);
    store.record_service(&id, "practice", &service("real", &[]), "王敏", NOW).unwrap();
    let before = db_dump(dir.path());
    for (item, entry, needle) in [
        ("practice", service("walk-in", &[]), "kind 'walk-in' is unknown"),
        ("practice", service("real", &[("practice.atmosphere", 1)]), "not a category"),
        ("layout", service("real", &[]), "does not log observed services"),
        ("nope", service("real", &[]), "is not in rubric"),
    ] {
        let err = store.record_service(&id, item, &entry, "王敏", NOW).unwrap_err();
        assert!(err.to_string().contains(needle), "{err}");
    }
    store.finish(&id, NOW).unwrap();
    let after_finish = db_dump(dir.path());
    let err = store.record_service(&id, "practice", &service("real", &[]), "王敏", NOW).unwrap_err();
    assert_eq!(err.code(), "finished");
    assert_eq!(db_dump(dir.path()), after_finish);
    assert_ne!(before, after_finish, "finishing is recorded");
}

/// A JPEG with an EXIF block: Orientation and DateTimeOriginal.
fn with_exif(jpeg: &[u8], orientation: u16, taken: &str) -> Vec<u8> {
    let mut tiff: Vec<u8> = b"II*\0".to_vec();
    tiff.extend(8u32.to_le_bytes()); // IFD0 at 8
                                     // IFD0: 2 entries (Orientation, ExifIFDPointer)
    tiff.extend(2u16.to_le_bytes());
    tiff.extend(0x0112u16.to_le_bytes());
    tiff.extend(3u16.to_le_bytes());
    tiff.extend(1u32.to_le_bytes());
    tiff.extend((orientation as u32).to_le_bytes());
    let exif_ifd = 8 + 2 + 2 * 12 + 4;
    tiff.extend(0x8769u16.to_le_bytes());
    tiff.extend(4u16.to_le_bytes());
    tiff.extend(1u32.to_le_bytes());
    tiff.extend((exif_ifd as u32).to_le_bytes());
    tiff.extend(0u32.to_le_bytes()); // no next IFD
                                     // Exif IFD: DateTimeOriginal
    let data_at = exif_ifd + 2 + 12 + 4;
    tiff.extend(1u16.to_le_bytes());
    tiff.extend(0x9003u16.to_le_bytes());
    tiff.extend(2u16.to_le_bytes());
    tiff.extend(20u32.to_le_bytes());
    tiff.extend((data_at as u32).to_le_bytes());
    tiff.extend(0u32.to_le_bytes());
    tiff.extend(taken.as_bytes());
    tiff.push(0);
    let mut app1 = b"Exif\0\0".to_vec();
    app1.extend(tiff);
    let mut out = jpeg[..2].to_vec();
    out.extend([0xFF, 0xE1]);
    out.extend(((app1.len() + 2) as u16).to_be_bytes());
    out.extend(app1);
    out.extend(&jpeg[2..]);
    out
}

#[test]
fn exif_capture_time_and_orientation_are_honoured() {
    let (_dir, mut store) = open();
    let id = store.create_inspection(&new_jiangsu(), NOW).unwrap();
    let photo = with_exif(&demo::demo_photo(0), 6, "2026:11:20 10:21:03");
    let e = store.attach_photo(&id, "1.2", &photo, "", "王敏", NOW).unwrap();
    assert_eq!(e.photo.orientation, 6);
    assert_eq!(e.photo.taken_at.as_deref(), Some("2026-11-20 10:21:03"));
    assert_eq!((e.photo.width, e.photo.height), (1024, 768), "stored size is the sensor's");
    let thumb = image::load_from_memory(&std::fs::read(store.thumb_path(&e.photo.sha256)).unwrap()).unwrap();
    assert_eq!((thumb.width(), thumb.height()), (240, 320), "the thumbnail is turned upright (orientation 6 = 90° clockwise)");
    assert_eq!(std::fs::read(store.photo_path(&e.photo.sha256)).unwrap(), photo, "the original bytes are kept unchanged");
}

#[test]
fn the_device_key_is_made_once_private_and_signs() {
    let (dir, store) = open();
    let fp = store.device_key().fingerprint();
    assert_eq!(fp.len(), 19, "{fp}");
    let sig = store.device_key().sign(b"manifest");
    let pk = store.device_key().public_key_hex();
    let pk_bytes: Vec<u8> = (0..32).map(|i| u8::from_str_radix(&pk[2 * i..2 * i + 2], 16).unwrap()).collect();
    assert!(hallmark_store::identity::verify(&pk_bytes, b"manifest", &sig));
    assert!(!hallmark_store::identity::verify(&pk_bytes, b"manifesT", &sig), "a changed message fails");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.path().join("device.key")).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    drop(store);
    let again = Store::open(dir.path(), NOW).unwrap();
    assert_eq!(again.device_key().fingerprint(), fp, "the key is made once");
    drop(again);
    std::fs::write(dir.path().join("device.key"), b"short").unwrap();
    let err = Store::open(dir.path(), NOW).err().expect("a damaged key is refused");
    assert!(err.to_string().contains("not a 32-byte Ed25519 key"), "{err}");
}

/// Regression (issue #15, concurrency): two first opens of a new database raced their schema
/// setup ("table device already exists"), and each could make its own device id and key.
#[test]
fn first_opens_racing_agree_on_schema_device_and_key() {
    for round in 0..10 {
        let dir = tempfile::tempdir().unwrap();
        let barrier = std::sync::Barrier::new(6);
        let seen: Vec<Result<(String, String), String>> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..6)
                .map(|_| {
                    s.spawn(|| {
                        barrier.wait();
                        Store::open(dir.path(), NOW).map(|st| (st.device_id().to_string(), st.device_key().fingerprint())).map_err(|e| e.to_string())
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        let first = seen[0].clone().unwrap_or_else(|e| panic!("round {round}: {e}"));
        for s in &seen {
            assert_eq!(
                s.as_ref().map_err(|e| format!("round {round}: {e}")).unwrap(),
                &first,
                "round {round}: every opener sees one device and one key"
            );
        }
        let reopened = Store::open(dir.path(), NOW).unwrap();
        assert_eq!((reopened.device_id().to_string(), reopened.device_key().fingerprint()), first);
    }
}

/// Regression (issue #15, concurrency): `.tmp-*` files a killed writer left under `signatures/`
/// were never swept (only `photos/` and `thumbs/` were).
#[test]
fn temp_files_under_signatures_are_swept_on_open() {
    let dir = tempfile::tempdir().unwrap();
    drop(Store::open(dir.path(), NOW).unwrap());
    let sigs = dir.path().join("signatures");
    std::fs::create_dir_all(&sigs).unwrap();
    let left = sigs.join(".ab.png.tmp-0193");
    std::fs::write(&left, b"half a png").unwrap();
    std::fs::write(sigs.join("ab.png"), b"kept").unwrap();
    drop(Store::open(dir.path(), NOW).unwrap());
    assert!(!left.exists(), "{} was left behind", left.display());
    assert!(sigs.join("ab.png").exists());
}
