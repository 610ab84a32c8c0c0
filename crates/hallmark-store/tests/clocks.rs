//! Dates from tablets and text lengths (issue #15: clocks, capture bounds), on real SQLite
//! files and real signed bundles.
//!
//! A tablet's date must be a real calendar day between 2020-01-01 and 2099-12-31 (and a visit
//! date no more than 2 days after the tablet's own clock): capture refuses anything else. A
//! bundle is signed evidence: a calendar-invalid date in it is refused (no clock writes
//! 2026-02-31), an implausible one is imported and flagged in the merge view.

use std::path::Path;

use hallmark_store::identity::DeviceKey;
use hallmark_store::merge::merge_text;
use hallmark_store::{NewInspection, ServiceEntry, Store, StoreError};
use serde_json::{json, Value};

const NOW: &str = "2026-11-20T09:00:00.000Z";
/// The lead's clock when importing.
const IMPORT: &str = "2026-11-21T09:00:00.000Z";

fn new_inspection() -> NewInspection {
    NewInspection {
        rubric_text: hallmark_core::builtin::LIAONING.to_string(),
        site_name: "铁岭县医疗保障事务服务中心".into(),
        site_address: "铁岭县银州路1号".into(),
        site_level: "county".into(),
        visited_on: "2026-11-20".into(),
        assessor_name: "王敏".into(),
        assessor_unit: "铁岭市医疗保障局".into(),
        assessor_title: "科长".into(),
        assessor_phone: "024-72345678".into(),
        ..Default::default()
    }
}

fn service(note: &str, observed_at: &str) -> ServiceEntry {
    ServiceEntry { kind: "real".into(), observed_at: observed_at.into(), note: note.into(), occurrences: Default::default() }
}

/// A tablet with one draft inspection, one answer recorded.
fn tablet(dir: &Path) -> (Store, String) {
    let mut store = Store::open(dir, NOW).unwrap();
    let id = store.create_inspection(&new_inspection(), NOW).unwrap();
    store.record(&id, "comfort.hygiene", Some(json!(true)), "王敏", "2026-11-20T09:01:00.000Z").unwrap();
    (store, id)
}

/// What a refused capture must leave alone: the inspections, their events and services.
fn state(store: &Store) -> String {
    let mut out = String::new();
    for id in store.inspection_ids().unwrap() {
        let i = store.inspection(&id).unwrap();
        out += &format!("{id} {:?} {:?} {}\n", i.finished_at, store.events(&id).unwrap(), store.service_entries(&id).unwrap().len());
    }
    out
}

// ---- capture ---------------------------------------------------------------------------

/// Each way a tablet's clock reaches the store, tried with `now`; `Ok` when stored.
fn capture(store: &mut Store, id: &str, op: &str, now: &str) -> Result<(), StoreError> {
    match op {
        "create_inspection" => store.create_inspection(&new_inspection(), now).map(drop),
        "record" => store.record(id, "layout.transfers", Some(json!(0)), "王敏", now).map(drop),
        "record_service" => store.record_service(id, "practice", &service("异地就医备案", now), "王敏", now).map(drop),
        "finish" => store.finish(id, now),
        "attach_photo" => store.attach_photo(id, "layout", &hallmark_store::demo::demo_photo(1), "窗口", "王敏", now).map(drop),
        "save_signature" => store.save_signature(id, &signature_png(), now).map(drop),
        // A change to a finished inspection.
        "amend" => store.amend(id, "comfort.hygiene", Some(json!(false)), "王敏", now, "复核").map(drop),
        _ => unreachable!(),
    }
}

/// A small real PNG, as the signature pad sends.
fn signature_png() -> Vec<u8> {
    let mut out = std::io::Cursor::new(Vec::new());
    image::RgbaImage::from_pixel(40, 20, image::Rgba([0, 0, 0, 255])).write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}

#[test]
fn events_dated_1969_1970_and_9999_are_refused_at_capture() {
    let cases = [
        (
            "1969-12-31T23:59:59.000Z",
            "the tablet's clock reads '1969-12-31T23:59:59.000Z', which is before 2020-01-01, the earliest date hallmark accepts",
        ),
        (
            "1970-01-01T00:00:00.000Z",
            "the tablet's clock reads '1970-01-01T00:00:00.000Z', which is before 2020-01-01, the earliest date hallmark accepts",
        ),
        (
            "9999-12-31T23:59:59.000Z",
            "the tablet's clock reads '9999-12-31T23:59:59.000Z', which is after 2099-12-31, the latest date hallmark accepts",
        ),
        (
            "2100-02-28T10:00:00.000Z",
            "the tablet's clock reads '2100-02-28T10:00:00.000Z', which is after 2099-12-31, the latest date hallmark accepts",
        ),
    ];
    let mut failures = Vec::new();
    for op in ["create_inspection", "record", "record_service", "finish", "amend", "attach_photo", "save_signature"] {
        for (now, message) in cases {
            let t = tempfile::tempdir().unwrap();
            let (mut store, id) = tablet(t.path());
            if op == "amend" {
                store.finish(&id, "2026-11-20T10:00:00.000Z").unwrap();
            }
            let before = state(&store);
            let got = capture(&mut store, &id, op, now);
            let expected = format!("{message} (set the tablet's date and time, then try again)");
            match got {
                Err(e) if e.code() == "clock" && e.to_string() == expected => {}
                other => failures.push(format!("{op} at {now}: expected clock error '{expected}', got {other:?}")),
            }
            if state(&store) != before {
                failures.push(format!("{op} at {now}: refused, yet something was stored"));
            }
        }
    }
    // A visit date is typed (or picked) by the inspector: the same window, and not after the
    // tablet's today by more than 2 days.
    for (visited_on, message) in [
        ("1970-01-01", "visit date '1970-01-01' is before 2020-01-01, the earliest date hallmark accepts (enter the day of the visit)"),
        ("9999-12-31", "visit date '9999-12-31' is more than 2 days after 2026-11-20, the tablet's date (enter the day of the visit)"),
        ("2026-11-23", "visit date '2026-11-23' is more than 2 days after 2026-11-20, the tablet's date (enter the day of the visit)"),
    ] {
        let t = tempfile::tempdir().unwrap();
        let mut store = Store::open(t.path(), NOW).unwrap();
        let got = store.create_inspection(&NewInspection { visited_on: visited_on.into(), ..new_inspection() }, NOW);
        match got {
            Err(e) if e.code() == "invalid" && e.to_string() == message => {}
            other => failures.push(format!("visit date {visited_on}: expected '{message}', got {other:?}")),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));

    // The edges are accepted.
    let t = tempfile::tempdir().unwrap();
    let (mut store, id) = tablet(t.path());
    store.create_inspection(&NewInspection { visited_on: "2026-11-22".into(), ..new_inspection() }, NOW).unwrap();
    store.create_inspection(&NewInspection { visited_on: "2020-01-01".into(), ..new_inspection() }, "2020-01-01T00:00:00Z").unwrap();
    store.record(&id, "layout.transfers", Some(json!(0)), "王敏", "2099-12-31T23:59:59.999Z").unwrap();
}

// ---- 2026-02-31 --------------------------------------------------------------------------

#[test]
fn date_2026_02_31_is_refused_by_score_create_and_import() {
    let mut failures = Vec::new();
    // score: the observation file's visit date.
    let rubric = hallmark_core::rubric::Rubric::load("liaoning", hallmark_core::builtin::LIAONING).unwrap();
    let doc = json!({"format": "hallmark-observations/1", "rubric": "liaoning-demo-window", "visited_on": "2026-02-31", "answers": {}});
    match hallmark_core::observation::parse("obs.json", &doc.to_string(), &rubric) {
        Err(e) if e.to_string().contains("visited_on '2026-02-31' is not a date: 2026-02 has 28 days") => {}
        other => failures.push(format!("score: {other:?}")),
    }
    // capture: the visit date typed, and a tablet clock that reads 2026-02-31.
    let t = tempfile::tempdir().unwrap();
    let (mut store, id) = tablet(&t.path().join("tablet"));
    match store.create_inspection(&NewInspection { visited_on: "2026-02-31".into(), ..new_inspection() }, NOW) {
        Err(e)
            if e.code() == "invalid"
                && e.to_string() == "visit date '2026-02-31' is not a date: 2026-02 has 28 days (enter the day of the visit)" => {}
        other => failures.push(format!("create_inspection visited_on: {other:?}")),
    }
    for op in ["create_inspection", "record", "record_service", "finish"] {
        let t = tempfile::tempdir().unwrap();
        let (mut store, id) = tablet(t.path());
        let before = state(&store);
        match capture(&mut store, &id, op, "2026-02-31T10:00:00.000Z") {
            Err(e) if e.code() == "clock"
                && e.to_string()
                    == "the tablet's clock reads '2026-02-31T10:00:00.000Z', which is not a time: 2026-02 has 28 days (set the tablet's date and time, then try again)" => {}
            other => failures.push(format!("{op}: {other:?}")),
        }
        if state(&store) != before {
            failures.push(format!("{op}: refused, yet something was stored"));
        }
    }
    match store.record_service(&id, "practice", &service("", "2026-02-31T10:00:00.000Z"), "王敏", NOW) {
        Err(e)
            if e.code() == "invalid"
                && e.to_string()
                    == "service time '2026-02-31T10:00:00.000Z' is not a time: 2026-02 has 28 days (enter when the service was observed)" => {}
        other => failures.push(format!("record_service observed_at: {other:?}")),
    }

    // import: every date a bundle carries, set to 2026-02-31 and re-signed by the tablet.
    store.record_service(&id, "practice", &service("", NOW), "王敏", NOW).unwrap();
    store.attach_photo(&id, "layout", &hallmark_store::demo::demo_photo_seeded(0, 7), "大厅", "王敏", "2026-11-20T09:03:00.000Z").unwrap();
    store.save_signature(&id, &hallmark_store::demo::demo_signature(1), "2026-11-20T09:04:00.000Z").unwrap();
    store.finish(&id, "2026-11-20T10:00:00.000Z").unwrap();
    let good = t.path().join("good.hallmark");
    store.export_bundle(&id, &good, "2026-11-20T11:00:00.000Z", &mut |_, _| {}).unwrap();
    let bad = "2026-02-31T10:00:00.000Z";
    for (pointer, what) in [
        ("/inspection/visited_on", "inspection header has level 'county' and date '2026-02-31'"),
        ("/inspection/created_at", "created_at '2026-02-31T10:00:00.000Z' is not a time: 2026-02 has 28 days"),
        ("/inspection/finished_at", "finished_at '2026-02-31T10:00:00.000Z' is not a time: 2026-02 has 28 days"),
        ("/created_at", "the bundle's created_at '2026-02-31T10:00:00.000Z' is not a time: 2026-02 has 28 days"),
        ("/events/0/recorded_at", "has time '2026-02-31T10:00:00.000Z', not an RFC 3339 UTC time"),
        ("/service_entries/0/observed_at", "observed_at '2026-02-31T10:00:00.000Z' is not a time: 2026-02 has 28 days"),
        ("/service_entries/0/recorded_at", "recorded_at '2026-02-31T10:00:00.000Z' is not a time: 2026-02 has 28 days"),
        ("/evidence/0/attached_at", "attached_at '2026-02-31T10:00:00.000Z' is not a time: 2026-02 has 28 days"),
        ("/signature_image/signed_at", "signed_at '2026-02-31T10:00:00.000Z' is not a time: 2026-02 has 28 days"),
    ] {
        let value = if pointer == "/inspection/visited_on" { "2026-02-31" } else { bad };
        let path = t.path().join(format!("bad-{}.hallmark", pointer.replace('/', "-")));
        rewrite(&good, &path, store.device_key(), |m| *m.pointer_mut(pointer).unwrap() = json!(value));
        let lead_dir = t.path().join(format!("lead{}", pointer.replace('/', "-")));
        let mut lead = Store::open(&lead_dir, IMPORT).unwrap();
        match lead.import_bundle(&path, IMPORT, &mut |_, _| {}) {
            Err(e) if e.code() == "bundle" && e.to_string().contains(what) => {}
            other => failures.push(format!("import with {pointer} = {value}: expected a refusal saying '{what}', got {other:?}")),
        }
        if !lead.inspection_ids().unwrap().is_empty() {
            failures.push(format!("{pointer}: imported"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

// ---- import ------------------------------------------------------------------------------

#[test]
fn a_bundle_finished_in_2100_imports_flagged() {
    let t = tempfile::tempdir().unwrap();
    let (mut store, id) = tablet(&t.path().join("tablet"));
    store.finish(&id, "2026-11-20T10:00:00.000Z").unwrap();
    let good = t.path().join("good.hallmark");
    store.export_bundle(&id, &good, "2026-11-20T11:00:00.000Z", &mut |_, _| {}).unwrap();
    // As a tablet whose clock was wrong, with a hallmark that did not check, signed it.
    let wrong = t.path().join("wrong-clock.hallmark");
    rewrite(&good, &wrong, store.device_key(), |m| {
        m["inspection"]["finished_at"] = json!("2100-02-28T10:00:00.000Z");
        m["inspection"]["created_at"] = json!("1970-01-01T00:00:00.000Z");
        m["events"][0]["recorded_at"] = json!("1970-01-01T00:00:05.000Z");
        m["created_at"] = json!("2100-02-28T11:00:00.000Z");
    });
    let mut lead = Store::open(&t.path().join("lead"), IMPORT).unwrap();
    lead.import_bundle(&wrong, IMPORT, &mut |_, _| {}).expect("signed evidence is imported, not refused");
    let groups = lead.merge().unwrap();
    let text = merge_text(|_| None, &groups);
    for flag in [
        "⚠ 日期：完成时间 2100-02-28T10:00:00.000Z 晚于导入时间 2026-11-21 超过2天",
        "⚠ 日期：创建时间 1970-01-01T00:00:00.000Z 早于 2020-01-01",
        "⚠ 日期：记录时间 1970-01-01T00:00:05.000Z 早于 2020-01-01",
        "⚠ 日期：数据包导出时间 2100-02-28T11:00:00.000Z 晚于导入时间 2026-11-21 超过2天",
    ] {
        assert!(text.contains(flag), "the merge view lacks '{flag}':\n{text}");
    }
    let json = serde_json::to_value(&groups).unwrap();
    assert_eq!(json[0]["assessors"][0]["date_warnings"].as_array().map(Vec::len), Some(4), "{json:#}");

    // The same inspection from a sound clock: no flag, and no field in the JSON.
    let mut lead = Store::open(&t.path().join("lead2"), IMPORT).unwrap();
    lead.import_bundle(&good, IMPORT, &mut |_, _| {}).unwrap();
    let groups = lead.merge().unwrap();
    assert!(!merge_text(|_| None, &groups).contains("⚠ 日期"));
    assert!(serde_json::to_value(&groups).unwrap()[0]["assessors"][0].get("date_warnings").is_none());
}

// ---- lengths -----------------------------------------------------------------------------

#[test]
fn over_long_site_name_is_refused_at_capture() {
    // (field, limit in characters): one character over is refused, the limit itself accepted.
    let fields = [
        ("site name", 100),
        ("site address", 200),
        ("assessor name", 50),
        ("assessor unit", 100),
        ("assessor title", 100),
        ("assessor phone", 30),
        ("service note", 500),
        ("amendment reason", 500),
    ];
    let mut failures = Vec::new();
    for (field, limit) in fields {
        for (n, refused) in [(limit + 1, true), (limit, false)] {
            // Chinese characters: 3 bytes each, so a byte limit would refuse the limit itself.
            let text: String = "铁岭县医疗保障事务服务中心".chars().cycle().take(n).collect();
            let t = tempfile::tempdir().unwrap();
            let (mut store, id) = tablet(t.path());
            let mut new = new_inspection();
            let before = state(&store);
            let got = match field {
                "site name" => store.create_inspection(&NewInspection { site_name: text.clone(), ..new }, NOW).map(drop),
                "site address" => store.create_inspection(&NewInspection { site_address: text.clone(), ..new }, NOW).map(drop),
                "assessor name" => {
                    new.assessor_name = text.clone();
                    store.create_inspection(&new, NOW).map(drop)
                }
                "assessor unit" => store.create_inspection(&NewInspection { assessor_unit: text.clone(), ..new }, NOW).map(drop),
                "assessor title" => store.create_inspection(&NewInspection { assessor_title: text.clone(), ..new }, NOW).map(drop),
                "assessor phone" => store.create_inspection(&NewInspection { assessor_phone: text.clone(), ..new }, NOW).map(drop),
                "service note" => store.record_service(&id, "practice", &service(&text, NOW), "王敏", NOW).map(drop),
                "amendment reason" => {
                    store.finish(&id, "2026-11-20T10:00:00.000Z").unwrap();
                    let before = state(&store);
                    let got = store.amend(&id, "comfort.hygiene", Some(json!(false)), "王敏", NOW, &text).map(drop);
                    if refused && state(&store) != before {
                        failures.push(format!("{field}: refused, yet something was stored"));
                    }
                    got
                }
                _ => unreachable!(),
            };
            let shown: String = text.chars().take(12).collect();
            let expected = format!("{field} '{shown}…' is {n} characters, more than the {limit} allowed (shorten it)");
            match (refused, got) {
                (true, Err(e)) if e.code() == "invalid" && e.to_string() == expected => {
                    if field != "amendment reason" && state(&store) != before {
                        failures.push(format!("{field}: refused, yet something was stored"));
                    }
                }
                (false, Ok(())) => {}
                (refused, got) => {
                    failures.push(format!("{field} of {n} characters: expected {}, got {got:?}", if refused { &expected } else { "Ok" }))
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

// ---- a small toolkit: rewrite a bundle's manifest and sign it again with the tablet's key ----

fn rewrite(from: &Path, to: &Path, key: &DeviceKey, change: impl FnOnce(&mut Value)) {
    let mut list = hallmark_bundle::ustar::read_all(&mut std::fs::read(from).unwrap().as_slice(), u64::MAX).unwrap();
    let mut manifest: Value = serde_json::from_slice(&list[0].1).unwrap();
    change(&mut manifest);
    let bytes = serde_json::to_vec_pretty(&manifest).unwrap();
    let sig = json!({"algorithm": "ed25519", "public_key": key.public_key_hex(), "signature": hallmark_core::hex::hex(&key.sign(&bytes))});
    list[0].1 = bytes;
    list[1].1 = serde_json::to_vec_pretty(&sig).unwrap();
    let mut tar = hallmark_bundle::ustar::Writer::new(Vec::new());
    for (name, data) in &list {
        tar.append(name, data.len() as u64, &mut data.as_slice()).unwrap();
    }
    let out = tar.finish().unwrap();
    std::fs::write(to, out).unwrap();
}
