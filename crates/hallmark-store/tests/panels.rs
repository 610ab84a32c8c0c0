//! The lead's panel (issue #14): which inspections are merged into one report is the lead's
//! choice, never a match of typed site names.

use std::path::Path;

use hallmark_store::{demo, NewInspection, Store};

const NOW: &str = "2026-11-25T10:00:00.000Z";

/// A lead's store with the five Liaoning demo bundles (and the Jiangsu one) imported.
fn lead(dir: &Path) -> Store {
    let bundles = demo::write_bundles(&dir.join("demo")).unwrap();
    let mut lead = Store::open(&dir.join("lead"), NOW).unwrap();
    for b in &bundles {
        lead.import_bundle(&b.path, NOW, &mut |_, _| {}).unwrap();
    }
    lead
}

/// The lead's own half-finished inspection of the demo site, with the demo's rubric.
fn stray(lead: &mut Store) -> String {
    let first = lead.merge().unwrap().into_iter().find(|g| g.rubric_id == "liaoning-demo-window").unwrap();
    let insp = lead.inspection(&first.assessors[0].inspection_id).unwrap();
    lead.create_inspection(
        &NewInspection {
            rubric_text: insp.rubric_content.clone(),
            site_name: insp.site_name.clone(),
            site_level: insp.site_level.clone(),
            visited_on: "2026-11-25".into(),
            assessor_name: "赵磊".into(),
            ..Default::default()
        },
        NOW,
    )
    .unwrap()
}

#[test]
fn a_stray_local_inspection_with_the_demo_sites_name_never_joins_the_imported_panel() {
    let t = tempfile::tempdir().unwrap();
    let mut lead = lead(t.path());
    let stray = stray(&mut lead);
    let groups = lead.merge().unwrap();
    let liaoning: Vec<_> = groups.iter().filter(|g| g.rubric_id == "liaoning-demo-window").collect();
    let imported = liaoning.iter().find(|g| g.assessors.iter().all(|a| !a.local)).expect("a group of the imported bundles");
    let names: Vec<&str> = imported.assessors.iter().map(|a| a.name.as_str()).collect();
    assert_eq!(names, ["王敏", "李娜", "张伟", "刘洋", "陈静"]);
    assert_eq!(imported.panel.as_ref().unwrap().final_score.unwrap().to_string(), "90.2");
    let own = liaoning.iter().find(|g| g.assessors.iter().any(|a| a.inspection_id == stray)).unwrap();
    assert_eq!(own.assessors.len(), 1, "the stray inspection stands alone");
}

#[test]
fn the_lead_picks_the_panel_and_each_removal_keeps_its_reason() {
    let t = tempfile::tempdir().unwrap();
    let mut lead = lead(t.path());
    let stray = stray(&mut lead);
    let imported = lead.merge().unwrap().into_iter().find(|g| g.rubric_id == "liaoning-demo-window" && g.assessors.len() == 5).unwrap();
    let ids: Vec<String> = imported.assessors.iter().map(|a| a.inspection_id.clone()).collect();

    let panel = lead.create_panel("铁岭县医疗保障事务服务中心（复评）", "组长", NOW).unwrap();
    for id in ids.iter().chain([&stray]) {
        lead.panel_add(&panel, id, "组长", NOW).unwrap();
    }
    assert_eq!(lead.panel(&panel).unwrap().included().count(), 6, "the lead may add their own inspection on purpose");
    let err = lead.panel_remove(&panel, &stray, "  ", "组长", NOW).unwrap_err();
    assert_eq!(err.to_string(), "taking an inspection out of a panel needs a reason (the report prints it)");
    lead.panel_remove(&panel, &stray, "组长本人的练习记录，不计入", "组长", "2026-11-25T10:05:00.000Z").unwrap();

    let groups = lead.merge().unwrap();
    let g = &groups[0];
    assert_eq!(g.panel_id.as_deref(), Some(panel.as_str()), "panels come first");
    assert_eq!(g.site, "铁岭县医疗保障事务服务中心（复评）");
    assert_eq!(g.assessors.iter().map(|a| a.name.as_str()).collect::<Vec<_>>(), ["王敏", "李娜", "张伟", "刘洋", "陈静"]);
    assert_eq!(g.panel.as_ref().unwrap().final_score.unwrap().to_string(), "90.2");
    let excluded: Vec<(&str, &str)> = g.excluded.iter().map(|x| (x.name.as_str(), x.reason.as_str())).collect();
    assert_eq!(excluded, [("赵磊", "组长本人的练习记录，不计入")]);
    assert!(groups.iter().all(|g| g.assessors.iter().all(|a| a.inspection_id != stray)), "the excluded inspection is in no group");
    let text = hallmark_store::merge::merge_text(|_| None, &groups[..1]);
    assert!(text.contains("已排除 赵磊：组长本人的练习记录，不计入"), "{text}");

    // The log keeps every change; a member is in one panel at a time.
    let log: Vec<(bool, String)> = lead.panel_events(&panel).unwrap().into_iter().map(|e| (e.included, e.reason)).collect();
    assert_eq!(log.len(), 7);
    assert_eq!(log[6], (false, "组长本人的练习记录，不计入".to_string()));
    let other = lead.create_panel("另一个", "组长", NOW).unwrap();
    let err = lead.panel_add(&other, &ids[0], "组长", NOW).unwrap_err();
    assert!(err.to_string().contains("is already in the panel of '铁岭县医疗保障事务服务中心（复评）'"), "{err}");
    let jiangsu = groups.iter().find(|g| g.rubric_id == "jiangsu-15min").unwrap().assessors[0].inspection_id.clone();
    let err = lead.panel_add(&panel, &jiangsu, "组长", NOW).unwrap_err();
    assert!(err.to_string().contains("a panel aggregates one rubric"), "{err}");
    // Membership is append-only.
    let conn = rusqlite::Connection::open(t.path().join("lead").join(hallmark_store::DB_FILE)).unwrap();
    assert!(conn.execute("DELETE FROM panel_members", []).is_err());
    assert!(conn.execute("UPDATE panel_members SET reason = ''", []).is_err());
}

#[test]
fn inspection_states_say_draft_finished_amended_or_imported() {
    let t = tempfile::tempdir().unwrap();
    let mut lead = lead(t.path());
    let stray = stray(&mut lead);
    let states = |lead: &Store| -> Vec<(String, &'static str, &'static str)> {
        let mut v: Vec<_> = lead.summaries().unwrap().into_iter().map(|s| (s.assessor_name, s.origin, s.state)).collect();
        v.sort();
        v
    };
    let imported = |v: &[(String, &str, &str)]| v.iter().filter(|s| s.1 == "imported" && s.2 == "imported").count();
    let now = states(&lead);
    assert_eq!(imported(&now), 6);
    assert!(now.contains(&("赵磊".into(), "local", "draft")));
    lead.finish(&stray, NOW).unwrap();
    assert!(states(&lead).contains(&("赵磊".into(), "local", "finished")));
    let key = lead.rubric(&stray).unwrap().inputs().next().unwrap().1.id.clone();
    lead.amend(&stray, &key, None, "赵磊", NOW, "补录").unwrap();
    assert!(states(&lead).contains(&("赵磊".into(), "local", "amended")));
}

#[test]
fn a_caption_edit_and_a_withdrawal_keep_the_original_in_the_log() {
    let t = tempfile::tempdir().unwrap();
    let mut store = Store::open(t.path(), NOW).unwrap();
    let id = demo::seed(&mut store, NOW).unwrap();
    let photos = store.evidence(&id).unwrap();
    let (first, second) = (photos[0].clone(), photos[1].clone());
    store.edit_caption(&first.id, "服务大厅全景（东侧）", "陈静", NOW).unwrap();
    store.withdraw_photo(&second.id, "拍错了窗口", "陈静", NOW).unwrap();
    let err = store.withdraw_photo(&first.id, "", "陈静", NOW).unwrap_err();
    assert_eq!(err.to_string(), "withdrawing a photo needs a reason (say why it does not count)");

    // The views: the current caption, the withdrawn photo left out.
    let shown = store.shown_evidence(&id).unwrap();
    assert_eq!(shown.len(), photos.len() - 1);
    assert_eq!(shown[0].caption, "服务大厅全景（东侧）");
    assert!(shown.iter().all(|e| e.id != second.id));
    let group = store.merge_group_of(&id).unwrap();
    let a = &group.assessors[0];
    let captions: Vec<&str> = a.photos.values().flatten().map(|p| p.caption.as_str()).collect();
    assert!(captions.contains(&"服务大厅全景（东侧）") && !captions.contains(&second.caption.as_str()), "{captions:?}");
    assert_eq!(a.withdrawn_photos.len(), 1, "still evidence for the report's Merkle root");
    let text = hallmark_store::merge::merge_text(|_| None, std::slice::from_ref(&group));
    assert!(text.contains("「服务大厅全景（东侧）」") && !text.contains(&format!("「{}」", second.caption)), "{text}");

    // The log: the evidence row unchanged, both events kept, neither can be rewritten.
    assert_eq!(store.evidence(&id).unwrap()[0].caption, first.caption);
    let log = store.caption_events(&second.id).unwrap();
    assert_eq!((log[0].withdrawn, log[0].reason.as_str(), log[0].caption.as_deref()), (true, "拍错了窗口", None));
    let err = store.edit_caption(&second.id, "x", "陈静", NOW).unwrap_err();
    assert!(err.to_string().contains("was withdrawn"), "{err}");
    let conn = rusqlite::Connection::open(t.path().join(hallmark_store::DB_FILE)).unwrap();
    assert!(conn.execute("UPDATE caption_events SET caption = 'x'", []).is_err());
    assert!(conn.execute("DELETE FROM caption_events", []).is_err());
}

#[test]
fn the_demo_roster_file_loads_and_a_bad_line_adds_nothing() {
    let t = tempfile::tempdir().unwrap();
    let mut store = Store::open(t.path(), NOW).unwrap();
    let loaded = store.roster_load(Path::new("../../tests/bundles/demo/roster.tsv"), NOW).unwrap();
    let names: Vec<&str> = loaded.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["王敏", "李娜", "张伟", "刘洋", "陈静", "陈静"]);
    assert_eq!(store.roster().unwrap().len(), 6);

    let other = tempfile::tempdir().unwrap();
    let mut fresh = Store::open(other.path(), NOW).unwrap();
    let bad = other.path().join("bad.tsv");
    std::fs::write(&bad, "c0d8c16e5808fd330a9025fe3ef3c791a32b0ed7b9345c5f761b23f674f1c938\t王敏\nnot-a-key 李娜\n").unwrap();
    let err = fresh.roster_load(&bad, NOW).unwrap_err();
    assert_eq!(err.to_string(), format!("{}:2: 'not-a-key 李娜' is not \"key<TAB>name\" (one assessor per line)", bad.display()));
    assert!(fresh.roster().unwrap().is_empty(), "a bad line adds nothing");
}

#[test]
fn report_details_are_remembered_per_site() {
    use hallmark_store::site_details::SiteDetails;
    let t = tempfile::tempdir().unwrap();
    let store = Store::open(t.path(), NOW).unwrap();
    assert_eq!(store.report_details("铁岭").unwrap(), None);
    let d = SiteDetails { site_head: "赵立新".into(), site_phone: "024-72345678".into(), leader: Some("王敏".into()), ..Default::default() };
    store.save_report_details("铁岭", &d, NOW).unwrap();
    let later = SiteDetails { site_email: "tlxyb@example.cn".into(), ..d.clone() };
    store.save_report_details("铁岭", &later, NOW).unwrap();
    assert_eq!(store.report_details("铁岭").unwrap(), Some(later));
    assert_eq!(store.report_details("开原").unwrap(), None);
}

/// Each error path the app's UI words in Chinese: its code and structured fields, with the
/// English message unchanged (the CLI prints it).
#[test]
fn errors_carry_their_code_and_fields() {
    let t = tempfile::tempdir().unwrap();
    let mut tablet = Store::open(&t.path().join("tablet"), NOW).unwrap();
    let id = demo::seed(&mut tablet, NOW).unwrap();
    let bundles = demo::write_bundles(&t.path().join("demo")).unwrap();
    let mut lead = Store::open(&t.path().join("lead"), NOW).unwrap();
    let damaged = t.path().join("damaged.hallmark");
    let bytes = std::fs::read(&bundles[0].path).unwrap();
    std::fs::write(&damaged, &bytes[..bytes.len() / 2]).unwrap();
    let forged = t.path().join("forged.hallmark");
    let mut altered = bytes.clone();
    let at = altered.windows(8).position(|w| w == b"\"site_na").unwrap();
    altered[at + 20] ^= 1;
    std::fs::write(&forged, &altered).unwrap();
    let own = t.path().join("own.hallmark");
    tablet.export_bundle(&id, &own, NOW, &mut |_, _| {}).unwrap();
    let long = "长".repeat(501);

    type Case<'a> = (&'a str, Box<dyn FnOnce(&mut Store, &mut Store) -> hallmark_store::StoreError + 'a>, &'a str, serde_json::Value);
    let cases: Vec<Case> = vec![
        (
            "bad reading",
            Box::new(|tablet, _| {
                let rubric = tablet.rubric(&id).unwrap();
                let (_, input) = rubric.inputs().find(|(_, p)| p.max.is_some()).unwrap();
                tablet.record(&id, &input.id.clone(), Some(serde_json::json!(100000)), "陈静", NOW).unwrap_err()
            }),
            "invalid",
            serde_json::json!({"kind": "reading", "value": 100000}),
        ),
        (
            "too long",
            Box::new(|tablet, _| tablet.amend(&id, "x", None, "陈静", NOW, &long).unwrap_err()),
            "invalid",
            serde_json::json!({"kind": "too_long", "field": "amendment reason", "length": 501, "max": 500}),
        ),
        (
            "clock",
            Box::new(|tablet, _| tablet.record(&id, "x", None, "陈静", "1970-01-01T00:00:00Z").unwrap_err()),
            "clock",
            serde_json::json!({"value": "1970-01-01T00:00:00Z"}),
        ),
        (
            "finished",
            Box::new(|tablet, _| {
                tablet.finish(&id, NOW).unwrap();
                tablet.finish(&id, NOW).unwrap_err()
            }),
            "finished",
            serde_json::json!({"inspection": id}),
        ),
        (
            "damaged bundle",
            Box::new(|_, lead| lead.import_bundle(&damaged, NOW, &mut |_, _| {}).unwrap_err()),
            "bundle",
            serde_json::json!({"file": damaged.display().to_string(), "reason_code": "damaged"}),
        ),
        (
            "altered bundle",
            Box::new(|_, lead| lead.import_bundle(&forged, NOW, &mut |_, _| {}).unwrap_err()),
            "bundle",
            serde_json::json!({"file": forged.display().to_string(), "reason_code": "signature"}),
        ),
        (
            "own bundle",
            Box::new(|tablet, _| tablet.import_bundle(&own, NOW, &mut |_, _| {}).unwrap_err()),
            "bundle",
            serde_json::json!({"file": own.display().to_string(), "reason_code": "own_device"}),
        ),
        (
            "damaged database",
            Box::new(|_, _| {
                let db = t.path().join("empty.sqlite3");
                std::fs::write(&db, b"").unwrap();
                Store::open_with(&db, &t.path().join("empty-files"), hallmark_store::Access::Existing, NOW).err().unwrap()
            }),
            "damaged",
            serde_json::json!({"detail": "the file is empty (0 bytes)"}),
        ),
    ];
    let mut failures = Vec::new();
    for (name, action, code, expected) in cases {
        let err = action(&mut tablet, &mut lead);
        let fields = err.fields();
        let missing: Vec<&String> = expected.as_object().unwrap().iter().filter(|(k, v)| fields.get(k.as_str()) != Some(v)).map(|(k, _)| k).collect();
        if err.code() != code || !missing.is_empty() {
            failures.push(format!("{name}: code {} fields {fields} (wanted {code} with {expected}); message: {err}", err.code()));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Every committed bad bundle (tests/bundles/bad) is refused with a reason code the UI words
/// in Chinese; the table is the expectation.
#[test]
fn each_bad_bundle_has_its_reason_code() {
    let expected = [
        ("bomb-huge-declared-size", "too_big"),
        ("bomb-photo-size-mismatch", "altered"),
        ("empty", "damaged"),
        ("extra-file", "altered"),
        ("manifest-byte-flipped", "signature"),
        ("not-a-bundle", "damaged"),
        ("out-of-range-reading", "invalid"),
        ("path-absolute", "altered"),
        ("path-dot-dot", "altered"),
        ("photo-byte-flipped", "altered"),
        ("photo-missing", "damaged"),
        ("signature-forged-for-the-device-key", "signature"),
        ("signed-by-another-key", "signature"),
        ("truncated", "damaged"),
        ("unknown-format-version", "newer_format"),
        ("unknown-rubric-version", "unknown_rubric"),
    ];
    let t = tempfile::tempdir().unwrap();
    let mut lead = Store::open(t.path(), NOW).unwrap();
    let mut got = Vec::new();
    for (name, _) in expected {
        let path = Path::new("../../tests/bundles/bad").join(format!("{name}.hallmark"));
        let err = lead.import_bundle(&path, NOW, &mut |_, _| {}).unwrap_err();
        assert_eq!(err.fields()["file"], path.display().to_string(), "{name}");
        got.push((name, err.fields()["reason_code"].as_str().unwrap_or("").to_string(), err.to_string()));
    }
    let wrong: Vec<String> =
        got.iter().zip(expected).filter(|(g, e)| g.1 != e.1).map(|(g, e)| format!("{}: {} (wanted {}): {}", g.0, g.1, e.1, g.2)).collect();
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// Issue #13: "工作时间不宜超过3个工作日" — the merge view (and so the report's 提示) warns when a
/// panel's visit days spread over more working days than the rubric allows; weekends and
/// public holidays do not count; a rubric without the rule (Liaoning v2) never warns.
#[test]
fn visits_spread_over_more_than_three_working_days_are_warned() {
    let cases: [(&str, [&str; 5], Option<&str>); 4] = [
        // Fri, Mon, Tue: 3 working days over 5 calendar days.
        ("v3", ["2026-11-13", "2026-11-16", "2026-11-17", "2026-11-17", "2026-11-17"], None),
        // Mon to Thu: 4 working days.
        (
            "v3",
            ["2026-11-16", "2026-11-17", "2026-11-18", "2026-11-19", "2026-11-19"],
            Some("评价工作跨4个工作日（2026-11-16至2026-11-19），标准要求不宜超过3个工作日"),
        ),
        // 国庆 2026: Sep 30 (Wed), then Oct 8, 9 (Thu, Fri): 3 working days over 10.
        ("v3", ["2026-09-30", "2026-10-08", "2026-10-09", "2026-10-09", "2026-10-09"], None),
        // The same spread under version 2 (no such rule): no warning.
        ("v2", ["2026-11-16", "2026-11-17", "2026-11-18", "2026-11-19", "2026-11-19"], None),
    ];
    for (version, days, want) in cases {
        let t = tempfile::tempdir().unwrap();
        let mut store = Store::open(t.path(), NOW).unwrap();
        let text = match version {
            "v3" => hallmark_core::builtin::LIAONING,
            _ => hallmark_core::builtin::LIAONING_V2,
        };
        for (n, day) in days.iter().enumerate() {
            let new = NewInspection {
                rubric_text: text.into(),
                site_name: "铁岭县医疗保障事务服务中心".into(),
                site_level: "county".into(),
                visited_on: day.to_string(),
                assessor_name: format!("评价人员{n}"),
                ..Default::default()
            };
            store.create_inspection(&new, NOW).unwrap();
        }
        let groups = store.merge().unwrap();
        assert_eq!(groups.len(), 1);
        let warnings = &groups[0].panel.as_ref().unwrap().warnings;
        let spread: Vec<&String> = warnings.iter().filter(|w| w.starts_with("评价工作跨")).collect();
        match want {
            Some(w) => assert_eq!(spread, [w], "{version} {days:?}"),
            None => assert!(spread.is_empty(), "{version} {days:?}: {warnings:?}"),
        }
    }
}
