//! Signed bundles on real files: export, import, idempotency, divergent edits, the merge view,
//! and every kind of bad bundle (fixtures in tests/bundles/bad/, each with the exact refusal).
//!
//! `UPDATE_EXPECT=1 cargo test -p hallmark-store --test bundles` remakes the fixtures (new keys)
//! and their `.expected` messages; review the diff.

use std::path::{Path, PathBuf};

use hallmark_store::identity::DeviceKey;
use hallmark_store::{demo, NewInspection, Store, StoreError};
use proptest::prelude::*;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

const NOW: &str = "2026-11-20T09:00:00.000Z";

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/bundles")
}

fn updating() -> bool {
    std::env::var_os("UPDATE_EXPECT").is_some()
}

/// Everything a refused import must leave alone: the database file, its WAL, and every file in
/// the data folder (names and bytes).
fn state_hash(dir: &Path) -> String {
    let mut h = Sha256::new();
    let mut files = Vec::new();
    fn walk(d: &Path, out: &mut Vec<PathBuf>) {
        for e in std::fs::read_dir(d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(&p, out);
            } else if !p.to_string_lossy().ends_with("-shm") {
                out.push(p);
            }
        }
    }
    walk(dir, &mut files);
    files.sort();
    for f in files {
        h.update(f.strip_prefix(dir).unwrap().to_string_lossy().as_bytes());
        h.update(std::fs::read(&f).unwrap());
    }
    format!("{:x}", h.finalize())
}

fn tablet(dir: &Path, assessor: &str) -> (Store, String) {
    let mut store = Store::open(dir, NOW).unwrap();
    let id = store
        .create_inspection(
            &NewInspection {
                rubric_text: hallmark_core::builtin::LIAONING.to_string(),
                site_name: "铁岭县医疗保障事务服务中心".into(),
                site_level: "county".into(),
                visited_on: "2026-11-20".into(),
                assessor_name: assessor.into(),
                ..Default::default()
            },
            NOW,
        )
        .unwrap();
    store.record(&id, "comfort.hygiene", Some(json!(true)), assessor, "2026-11-20T09:01:00.000Z").unwrap();
    store.record(&id, "layout.transfers", Some(json!(0)), assessor, "2026-11-20T09:02:00.000Z").unwrap();
    store.attach_photo(&id, "layout", &demo::demo_photo_seeded(0, 7), "大厅", assessor, "2026-11-20T09:03:00.000Z").unwrap();
    (store, id)
}

fn export(store: &Store, id: &str, out: &Path, at: &str) {
    store.export_bundle(id, out, at, &mut |_, _| {}).unwrap();
}

// ---- a tiny ustar toolkit for making bad bundles -------------------------------------------

fn entries(bytes: &[u8]) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut at = 0;
    while at + 512 <= bytes.len() && bytes[at..at + 512].iter().any(|&b| b != 0) {
        let h = &bytes[at..at + 512];
        let name = String::from_utf8(h[..100].iter().take_while(|&&b| b != 0).copied().collect()).unwrap();
        let size = usize::from_str_radix(std::str::from_utf8(&h[124..135]).unwrap(), 8).unwrap();
        out.push((name, bytes[at + 512..at + 512 + size].to_vec()));
        at += 512 + size.div_ceil(512) * 512;
    }
    out
}

fn header(name: &str, size: u64) -> [u8; 512] {
    let mut h = [0u8; 512];
    h[..name.len()].copy_from_slice(name.as_bytes());
    h[100..107].copy_from_slice(b"0000644");
    h[108..115].copy_from_slice(b"0000000");
    h[116..123].copy_from_slice(b"0000000");
    h[124..135].copy_from_slice(format!("{size:011o}").as_bytes());
    h[136..147].copy_from_slice(b"00000000000");
    h[156] = b'0';
    h[257..263].copy_from_slice(b"ustar\0");
    h[263..265].copy_from_slice(b"00");
    h[148..156].copy_from_slice(b"        ");
    let sum: u32 = h.iter().map(|&b| b as u32).sum();
    h[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
    h
}

fn archive(list: &[(String, Vec<u8>)]) -> Vec<u8> {
    let mut out = Vec::new();
    for (name, data) in list {
        out.extend_from_slice(&header(name, data.len() as u64));
        out.extend_from_slice(data);
        out.resize(out.len().div_ceil(512) * 512, 0);
    }
    out.extend_from_slice(&[0u8; 1024]);
    out
}

use hallmark_core::hex::hex;

/// Replaces the manifest and signs it with `key` (the signature names `key`'s public key).
fn resign(list: &mut [(String, Vec<u8>)], manifest: &Value, key: &DeviceKey) {
    let bytes = serde_json::to_vec_pretty(manifest).unwrap();
    let sig = json!({"algorithm": "ed25519", "public_key": key.public_key_hex(), "signature": hex(&key.sign(&bytes))});
    list[0].1 = bytes;
    list[1].1 = serde_json::to_vec_pretty(&sig).unwrap();
}

/// The bad-bundle fixtures, made from one good bundle. Each is refused with its own reason.
fn make_bad_fixtures(good: &[u8], tablet_key: &DeviceKey, other_key: &DeviceKey) -> Vec<(&'static str, Vec<u8>)> {
    let list = entries(good);
    let manifest: Value = serde_json::from_slice(&list[0].1).unwrap();
    let photo_at = list.iter().position(|(n, _)| n.starts_with("photos/")).unwrap();
    let mut out = Vec::new();

    out.push(("truncated", good[..good.len() / 2].to_vec()));

    let mut l = list.clone();
    let mid = l[photo_at].1.len() / 2;
    l[photo_at].1[mid] ^= 0x01;
    out.push(("photo-byte-flipped", archive(&l)));

    let mut l = list.clone();
    let text = String::from_utf8(l[0].1.clone()).unwrap();
    let at = text.find("铁岭县").unwrap();
    l[0].1[at + 1] ^= 0x01; // still valid UTF-8 of a different character; JSON still parses
    out.push(("manifest-byte-flipped", archive(&l)));

    let mut l = list.clone();
    resign(&mut l, &manifest, other_key);
    out.push(("signed-by-another-key", archive(&l)));

    let mut l = list.clone();
    let sig: Value = serde_json::from_slice(&l[1].1).unwrap();
    let forged = json!({"algorithm": "ed25519", "public_key": sig["public_key"], "signature": hex(&other_key.sign(&l[0].1))});
    l[1].1 = serde_json::to_vec_pretty(&forged).unwrap();
    out.push(("signature-forged-for-the-device-key", archive(&l)));

    let mut l = list.clone();
    l.remove(photo_at);
    out.push(("photo-missing", archive(&l)));

    let mut l = list.clone();
    l.push(("notes.txt".into(), b"extra".to_vec()));
    out.push(("extra-file", archive(&l)));

    let mut l = list.clone();
    l.insert(2, ("../../etc/cron.d/evil".into(), b"x".to_vec()));
    out.push(("path-dot-dot", archive(&l)));

    let mut l = list.clone();
    l.insert(2, ("/etc/evil.jpg".into(), b"x".to_vec()));
    out.push(("path-absolute", archive(&l)));

    // A manifest entry declaring 8 GiB - 1: refused from the header, nothing read or allocated.
    let mut bomb = header("manifest.json", 0o77777777777).to_vec();
    bomb.extend_from_slice(&list[0].1[..512]);
    out.push(("bomb-huge-declared-size", bomb));

    // A photo entry declaring far more than the manifest says.
    let mut l = list.clone();
    let mut bytes = archive(&l[..photo_at]);
    bytes.truncate(bytes.len() - 1024);
    bytes.extend_from_slice(&header(&l[photo_at].0, 4 << 30));
    bytes.extend_from_slice(&l[photo_at].1);
    l.clear();
    out.push(("bomb-photo-size-mismatch", bytes));

    let mut m = manifest.clone();
    m["format_version"] = json!(9);
    let mut l = list.clone();
    resign(&mut l, &m, tablet_key);
    out.push(("unknown-format-version", archive(&l)));

    let mut m = manifest.clone();
    let content = m["rubric"]["content"].as_str().unwrap().replacen("version = \"1\"", "version = \"2\"", 1);
    assert_ne!(content, m["rubric"]["content"].as_str().unwrap(), "the rubric has a version line");
    m["rubric"]["sha256"] = json!(hex(&Sha256::digest(content.as_bytes())));
    m["rubric"]["content"] = json!(content);
    m["rubric"]["version"] = json!("2");
    let mut l = list.clone();
    resign(&mut l, &m, tablet_key);
    out.push(("unknown-rubric-version", archive(&l)));

    let mut m = manifest.clone();
    m["events"][0]["value"] = json!(-5);
    m["events"][0]["key"] = json!("layout.transfers");
    let mut l = list.clone();
    resign(&mut l, &m, tablet_key);
    out.push(("out-of-range-reading", archive(&l)));

    let mut zip = b"PK\x03\x04 this is a zip, not a hallmark bundle".to_vec();
    zip.resize(4096, b'x');
    out.push(("not-a-bundle", zip));
    out.push(("empty", Vec::new()));
    out
}

#[test]
fn bad_bundles_are_refused_with_their_reason_and_change_nothing() {
    let dir = fixtures();
    let bad_dir = dir.join("bad");
    if updating() {
        let t = tempfile::tempdir().unwrap();
        let (store, id) = tablet(&t.path().join("tablet"), "王敏");
        let good = dir.join("good.hallmark");
        export(&store, &id, &good, "2026-11-20T12:00:00.000Z");
        let other = DeviceKey::load_or_create(
            &{
                let p = t.path().join("other");
                std::fs::create_dir_all(&p).unwrap();
                p
            },
            &mut Vec::new(),
        )
        .unwrap();
        let good_bytes = std::fs::read(&good).unwrap();
        let _ = std::fs::remove_dir_all(&bad_dir);
        std::fs::create_dir_all(&bad_dir).unwrap();
        for (name, bytes) in make_bad_fixtures(&good_bytes, store.device_key(), &other) {
            std::fs::write(bad_dir.join(format!("{name}.hallmark")), bytes).unwrap();
        }
    }

    // A lead database that already holds a sound import, so "unchanged" means something.
    let lead_dir = tempfile::tempdir().unwrap();
    let mut lead = Store::open(lead_dir.path(), NOW).unwrap();
    let ok = lead.import_bundle(&dir.join("good.hallmark"), NOW, &mut |_, _| {}).unwrap();
    assert!(matches!(ok, hallmark_store::bundle::Imported::Applied { new_events: 2, photos: 1, .. }), "{ok:?}");

    let mut names: Vec<PathBuf> =
        std::fs::read_dir(&bad_dir).unwrap().flatten().map(|e| e.path()).filter(|p| p.extension().is_some_and(|e| e == "hallmark")).collect();
    names.sort();
    assert!(names.len() >= 16, "fixtures present: {names:?}");
    let mut failures = Vec::new();
    for path in names {
        // A fresh lead database for each, plus the shared one with data in it.
        let before = state_hash(lead_dir.path());
        let err = lead.import_bundle(&path, NOW, &mut |_, _| {}).expect_err(&format!("{} must be refused", path.display()));
        assert!(matches!(err, StoreError::Bundle(_)), "{}: {err:?}", path.display());
        assert_eq!(before, state_hash(lead_dir.path()), "{}: refused, yet the data folder changed", path.display());
        let message = err.to_string().replace(&path.display().to_string(), path.file_name().unwrap().to_str().unwrap());
        let expected_file = path.with_extension("expected");
        if updating() {
            std::fs::write(&expected_file, format!("{message}\n")).unwrap();
        } else {
            let expected = std::fs::read_to_string(&expected_file).unwrap_or_default();
            if expected.trim_end() != message {
                failures.push(format!("{}:\n  expected: {}\n  got:      {message}", path.display(), expected.trim_end()));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn a_bundle_with_100k_entries_is_refused_at_the_first_unlisted_one() {
    let t = tempfile::tempdir().unwrap();
    let good = std::fs::read(fixtures().join("good.hallmark")).unwrap();
    let list = entries(&good);
    let mut bytes = archive(&list[..2]);
    bytes.truncate(bytes.len() - 1024);
    for n in 0..100_000 {
        bytes.extend_from_slice(&header(&format!("photos/{n:064}.jpg"), 0));
    }
    bytes.extend_from_slice(&[0u8; 1024]);
    let path = t.path().join("many.hallmark");
    std::fs::write(&path, bytes).unwrap();
    let lead_dir = t.path().join("lead");
    let mut lead = Store::open(&lead_dir, NOW).unwrap();
    let before = state_hash(&lead_dir);
    let err = lead.import_bundle(&path, NOW, &mut |_, _| {}).unwrap_err().to_string();
    assert!(err.contains("unexpected entry 'photos/000"), "{err}");
    assert_eq!(before, state_hash(&lead_dir));
}

#[test]
fn demo_bundles_import_once_and_merge_to_the_hand_computed_mean() {
    let t = tempfile::tempdir().unwrap();
    let bundles = demo::write_bundles(&t.path().join("demo")).unwrap();
    assert_eq!(bundles.len(), 6);
    let lead_dir = t.path().join("lead");
    let mut lead = Store::open(&lead_dir, NOW).unwrap();
    for b in &bundles[..3] {
        lead.roster_add(&b.public_key, &b.assessor, NOW).unwrap();
    }
    for b in &bundles {
        let r = lead.import_bundle(&b.path, NOW, &mut |_, _| {}).unwrap();
        let known = bundles[..3].iter().any(|k| k.public_key == b.public_key);
        match r {
            hallmark_store::bundle::Imported::Applied { known_as, new_events, events, photos, .. } => {
                assert_eq!(known_as.is_some(), known, "roster flag of {}", b.assessor);
                assert_eq!(new_events, events);
                assert_eq!(photos, 3);
            }
            other => panic!("{other:?}"),
        }
    }
    // Importing one again changes nothing, byte for byte.
    let before = state_hash(&lead_dir);
    let again = lead.import_bundle(&bundles[0].path, "2026-11-21T10:00:00.000Z", &mut |_, _| {}).unwrap();
    assert!(matches!(again, hallmark_store::bundle::Imported::AlreadyImported { .. }), "{again:?}");
    assert!(again.line("x").contains("already imported"));
    assert_eq!(before, state_hash(&lead_dir));

    let groups = lead.merge().unwrap();
    assert_eq!(groups.len(), 2);
    let liaoning = groups.iter().find(|g| g.rubric_id == "liaoning-demo-window").unwrap();
    let panel = liaoning.panel.as_ref().unwrap();
    // Hand-computed from examples/liaoning-panel: 91, 90, 93, 87, 90 → 451 / 5 = 90.2.
    let totals: Vec<String> = panel.totals.iter().map(|d| d.normalize().to_string()).collect();
    assert_eq!(totals, ["91", "90", "93", "87", "90"]);
    assert_eq!(panel.final_score.unwrap().to_string(), "90.2");
    assert_eq!(panel.conclusion.text(), "符合医疗保障经办服务示范窗口要求");
    assert_eq!(liaoning.assessors.iter().filter(|a| a.known_as.is_none()).count(), 2, "two signers not on the roster");
    assert!(liaoning.assessors.iter().all(|a| a.photos.values().map(Vec::len).sum::<usize>() == 3 && a.signature.is_some()));
    let jiangsu = groups.iter().find(|g| g.rubric_id == "jiangsu-15min").unwrap();
    assert!(matches!(jiangsu.panel.as_ref().unwrap().conclusion, hallmark_core::aggregate::Conclusion::NoPassLine { .. }));

    // Four of five: no conclusion.
    let four_dir = t.path().join("four");
    let mut four = Store::open(&four_dir, NOW).unwrap();
    for b in &bundles[..4] {
        four.import_bundle(&b.path, NOW, &mut |_, _| {}).unwrap();
    }
    let g = four.merge().unwrap();
    assert_eq!(g[0].panel.as_ref().unwrap().conclusion.text(), "评价人员不足5名，不能形成评价结论");
}

#[test]
fn a_later_bundle_adds_only_new_events_and_imported_work_is_read_only() {
    let t = tempfile::tempdir().unwrap();
    let (mut store, id) = tablet(&t.path().join("tablet"), "李娜");
    let first = t.path().join("first.hallmark");
    export(&store, &id, &first, "2026-11-20T10:00:00.000Z");
    store.record(&id, "comfort.hygiene", Some(json!(false)), "李娜", "2026-11-20T10:05:00.000Z").unwrap();
    let second = t.path().join("second.hallmark");
    export(&store, &id, &second, "2026-11-20T10:10:00.000Z");

    let mut lead = Store::open(&t.path().join("lead"), NOW).unwrap();
    lead.import_bundle(&first, NOW, &mut |_, _| {}).unwrap();
    assert_eq!(lead.answers(&id).unwrap()["comfort.hygiene"], json!(true));
    match lead.import_bundle(&second, NOW, &mut |_, _| {}).unwrap() {
        hallmark_store::bundle::Imported::Applied { new_events, events, new_photos, .. } => {
            assert_eq!((new_events, events, new_photos), (1, 3, 0));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(lead.answers(&id).unwrap()["comfort.hygiene"], json!(false));
    assert_eq!(lead.events(&id).unwrap().len(), 3);
    assert!(lead.conflicts(&id).unwrap().is_empty(), "a later export is not a conflict");
    let err = lead.record(&id, "comfort.hygiene", Some(json!(true)), "组长", NOW).unwrap_err().to_string();
    assert!(err.contains("imported from another tablet"), "{err}");
}

#[test]
fn divergent_edits_are_both_kept_and_shown_as_a_conflict() {
    // A tablet restored from a backup: the same inspection goes on in two copies.
    let t = tempfile::tempdir().unwrap();
    let a_dir = t.path().join("tablet");
    let (store, id) = tablet(&a_dir, "张伟");
    drop(store);
    let b_dir = t.path().join("restored");
    copy_dir(&a_dir, &b_dir);
    let mut a = Store::open(&a_dir, NOW).unwrap();
    let mut b = Store::open(&b_dir, NOW).unwrap();
    a.record(&id, "layout.transfers", Some(json!(1)), "张伟", "2026-11-20T11:00:00.000Z").unwrap();
    b.record(&id, "layout.transfers", Some(json!(3)), "张伟", "2026-11-20T11:30:00.000Z").unwrap();
    b.record(&id, "comfort.air_noise", Some(json!(true)), "张伟", "2026-11-20T11:31:00.000Z").unwrap();
    let (fa, fb) = (t.path().join("a.hallmark"), t.path().join("b.hallmark"));
    export(&a, &id, &fa, "2026-11-20T12:00:00.000Z");
    export(&b, &id, &fb, "2026-11-20T12:01:00.000Z");

    // Either import order gives the same state: the order of events decides, not arrival.
    let mut states = Vec::new();
    for order in [[&fa, &fb], [&fb, &fa]] {
        let lead_dir = tempfile::tempdir().unwrap();
        let mut lead = Store::open(lead_dir.path(), NOW).unwrap();
        for f in order {
            lead.import_bundle(f, NOW, &mut |_, _| {}).unwrap();
        }
        assert_eq!(lead.events(&id).unwrap().len(), 2 + 1 + 2, "both sides kept");
        let conflicts = lead.conflicts(&id).unwrap();
        assert_eq!(conflicts.len(), 1, "{conflicts:?}");
        let c = &conflicts[0];
        assert_eq!(c.key, "layout.transfers");
        let mut said: Vec<String> = c.sides.iter().map(|s| s.value.as_ref().unwrap().to_string()).collect();
        said.sort();
        assert_eq!(said, ["1", "3"]);
        assert_eq!(c.current, Some(json!(3)), "the later event (11:30) is in force");
        states.push(lead.answers(&id).unwrap());
    }
    assert_eq!(states[0], states[1]);
}

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
fn a_failed_export_leaves_no_partial_bundle() {
    let t = tempfile::tempdir().unwrap();
    let (store, id) = tablet(&t.path().join("tablet"), "刘洋");
    // Damage the stored photo: the export must refuse rather than ship a bundle that fails.
    let sha = store.evidence(&id).unwrap()[0].photo.sha256.clone();
    let path = store.photo_path(&sha);
    let mut bytes = std::fs::read(&path).unwrap();
    bytes[1000] ^= 0xff;
    std::fs::write(&path, bytes).unwrap();
    let out_dir = t.path().join("out");
    let err = store.export_bundle(&id, &out_dir.join("x.hallmark"), NOW, &mut |_, _| {}).unwrap_err().to_string();
    assert!(err.contains("no longer matches its SHA-256"), "{err}");
    assert_eq!(std::fs::read_dir(&out_dir).unwrap().count(), 0, "no bundle and no temp file left");
}

#[test]
fn export_is_deterministic_for_the_same_state_and_time() {
    let t = tempfile::tempdir().unwrap();
    let (store, id) = tablet(&t.path().join("tablet"), "陈静");
    let (x, y) = (t.path().join("x.hallmark"), t.path().join("y.hallmark"));
    export(&store, &id, &x, "2026-11-20T12:00:00.000Z");
    export(&store, &id, &y, "2026-11-20T12:00:00.000Z");
    assert_eq!(std::fs::read(&x).unwrap(), std::fs::read(&y).unwrap());
    // And any tar can list it.
    let names: Vec<String> = entries(&std::fs::read(&x).unwrap()).into_iter().map(|e| e.0).collect();
    assert_eq!(names[..2], ["manifest.json", "manifest.sig"]);
    assert_eq!(names.len(), 4);
}

fn fuzz_cases() -> u32 {
    std::env::var("HALLMARK_FUZZ_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(300)
}

#[derive(Debug, Clone)]
enum Mutation {
    Flip(usize, u8),
    Truncate(usize),
    Insert(usize, Vec<u8>),
    Zero(usize, usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), 1u8..=255).prop_map(|(a, b)| Mutation::Flip(a, b)),
        any::<usize>().prop_map(Mutation::Truncate),
        (any::<usize>(), proptest::collection::vec(any::<u8>(), 1..600)).prop_map(|(a, v)| Mutation::Insert(a, v)),
        (any::<usize>(), 1usize..2048).prop_map(|(a, n)| Mutation::Zero(a, n)),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: fuzz_cases(), failure_persistence: None, ..ProptestConfig::default() })]

    /// The bundle reader under random damage: never a panic or a hang; a refusal leaves the
    /// data folder byte-identical; an acceptance is exactly the original bundle's content.
    #[test]
    fn mutated_bundles_never_panic_and_never_half_import(muts in proptest::collection::vec(mutation(), 1..4)) {
        let good = std::fs::read(fixtures().join("good.hallmark")).unwrap();
        let mut bytes = good.clone();
        for m in &muts {
            let len = bytes.len().max(1);
            match m {
                Mutation::Flip(at, x) => { let i = at % len; if i < bytes.len() { bytes[i] ^= x; } }
                Mutation::Truncate(at) => bytes.truncate(at % len),
                Mutation::Insert(at, v) => { let i = at % len; bytes.splice(i.min(bytes.len())..i.min(bytes.len()), v.iter().copied()); }
                Mutation::Zero(at, n) => { let i = (at % len).min(bytes.len()); let j = (i + n).min(bytes.len()); bytes[i..j].fill(0); }
            }
        }
        let t = tempfile::tempdir().unwrap();
        let path = t.path().join("m.hallmark");
        std::fs::write(&path, &bytes).unwrap();
        let lead_dir = t.path().join("lead");
        let mut lead = Store::open(&lead_dir, NOW).unwrap();
        let before = state_hash(&lead_dir);
        match lead.import_bundle(&path, NOW, &mut |_, _| {}) {
            Err(_) => prop_assert_eq!(before, state_hash(&lead_dir)),
            Ok(r) => {
                // Only damage the format ignores (after the end-of-archive marker) may pass.
                let good_path = t.path().join("good.hallmark");
                std::fs::write(&good_path, &good).unwrap();
                let again = lead.import_bundle(&good_path, NOW, &mut |_, _| {}).unwrap();
                prop_assert!(matches!(again, hallmark_store::bundle::Imported::AlreadyImported { .. }), "accepted {:?} differs from the original", r);
            }
        }
    }
}

/// Regression (issue #15, concurrency): two imports of the same bundle racing — the loser said
/// "UNIQUE constraint failed: bundles.id" instead of "already imported".
#[test]
fn duplicate_import_racing_another_says_already_imported() {
    let bundle = fixtures().join("good.hallmark");
    for round in 0..8 {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("lead");
        drop(Store::open(&dir, NOW).unwrap());
        let barrier = std::sync::Barrier::new(2);
        let outcomes: Vec<Result<String, String>> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..2)
                .map(|_| {
                    s.spawn(|| {
                        let mut store = Store::open(&dir, NOW).unwrap();
                        barrier.wait();
                        match store.import_bundle(&bundle, NOW, &mut |_, _| {}) {
                            Ok(hallmark_store::bundle::Imported::Applied { .. }) => Ok("applied".to_string()),
                            Ok(hallmark_store::bundle::Imported::AlreadyImported { .. }) => Ok("already imported".to_string()),
                            Err(e) => Err(e.to_string()),
                        }
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        let mut got: Vec<String> = outcomes.into_iter().map(|o| o.unwrap_or_else(|e| format!("error: {e}"))).collect();
        got.sort();
        assert_eq!(got, ["already imported", "applied"], "round {round}");
    }
}
