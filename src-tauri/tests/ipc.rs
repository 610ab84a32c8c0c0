//! The IPC's wire types (src/view.rs), on real stores.
//!
//! `the_ui_receives_what_it_received_before`: the view types' JSON is byte for byte what the
//! app sent when its commands returned the library structs (serialized here as before), so
//! ui/app.js reads IPC version 1 unchanged. It holds only while the two agree: once a view type
//! is meant to differ from its library struct (a field added to one and not the other), retire
//! that comparison; the golden schema files (`ipc_schemas`) then pin what the UI receives.
//!
//! `ipc_schemas`: the shape of each IPC type, from fully populated values (every option both
//! set and unset, every enum variant), against `tests/schemas/ipc-*.txt`.

#[path = "../../tests/schemas/shape.rs"]
mod shape;

use std::path::{Path, PathBuf};

use base64::Engine;
use hallmark_app::view::{self, InspectionView, Parts};
use hallmark_core::aggregate::Conclusion;
use hallmark_core::finding::{Fact, Finding, Held, LevelShort, Outcome, RangeReading, Reading, Tally, WindowLack};
use hallmark_core::score::PartScore;
use hallmark_store::bundle::Imported;
use hallmark_store::conflicts::{Conflict, ConflictSide};
use hallmark_store::{demo, Evidence, Inspection, NewInspection, ServiceEntry, ServiceRecord, Store, StoreError};
use serde::Serialize;
use serde_json::{json, Value};

const NOW: &str = "2026-11-20T09:00:00.000Z";

/// A temporary folder, removed when dropped.
struct Temp(PathBuf);

impl Temp {
    fn new(name: &str) -> Temp {
        let p = std::env::temp_dir().join(format!("hallmark-ipc-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        Temp(p)
    }
}

impl Drop for Temp {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// An inspector's tablet: the demo inspection (Jiangsu, partly filled, photos) and a finished
/// Liaoning inspection with every answer, an observed service, a photo, a signature and an
/// amendment.
fn tablet(dir: &Path) -> (Store, Vec<String>) {
    let mut store = Store::open(dir, NOW).unwrap();
    let jiangsu = demo::seed(&mut store, NOW).unwrap();
    let doc: Value = serde_json::from_str(include_str!("../../examples/liaoning-complete.json")).unwrap();
    let id = store
        .create_inspection(
            &NewInspection {
                rubric_text: hallmark_core::builtin::LIAONING.into(),
                site_name: doc["site"]["name"].as_str().unwrap().into(),
                site_address: doc["site"]["address"].as_str().unwrap().into(),
                site_level: "county".into(),
                visited_on: "2026-11-20".into(),
                assessor_name: "孙丽".into(),
                assessor_unit: "铁岭市医疗保障事务服务中心".into(),
                assessor_title: "科长".into(),
                assessor_phone: "024-70001000".into(),
                ..Default::default()
            },
            NOW,
        )
        .unwrap();
    let entry = ServiceEntry {
        kind: "real".into(),
        observed_at: NOW.into(),
        note: "异地就医备案".into(),
        occurrences: [("practice.language".to_string(), 1)].into(),
    };
    store.record_service(&id, "practice", &entry, "孙丽", NOW).unwrap();
    for (key, value) in doc["answers"].as_object().unwrap() {
        store.record(&id, key, Some(value.clone()), "孙丽", NOW).unwrap();
    }
    for (key, value) in doc["veto"].as_object().unwrap() {
        store.record(&id, &format!("veto:{key}"), Some(value.clone()), "孙丽", NOW).unwrap();
    }
    store.attach_photo(&id, "layout", &demo::demo_photo(2), "服务大厅全景", "孙丽", NOW).unwrap();
    store.save_signature(&id, &demo::demo_signature(1), NOW).unwrap();
    store.finish(&id, "2026-11-20T10:00:00.000Z").unwrap();
    store.amend(&id, "comfort.hygiene", Some(json!(false)), "孙丽", "2026-11-20T10:05:00.000Z", "复核时发现地面不洁").unwrap();
    (store, vec![jiangsu, id])
}

type ImportResult = Result<Imported, StoreError>;

/// A lead's store with the demo bundles (five Liaoning assessors, one Jiangsu; the first
/// signer on the roster) imported: each bundle's import result, then one bundle again and a
/// missing file.
fn lead(dir: &Path) -> (Store, Vec<(String, ImportResult)>) {
    let bundles = demo::write_bundles(&dir.join("bundles")).unwrap();
    let mut store = Store::open(&dir.join("lead"), NOW).unwrap();
    store.roster_add(&bundles[0].public_key, &bundles[0].assessor, NOW).unwrap();
    let mut paths: Vec<PathBuf> = bundles.into_iter().map(|b| b.path).collect();
    paths.extend([paths[0].clone(), dir.join("missing.hallmark")]);
    let imports =
        paths.iter().map(|p| (p.file_name().unwrap().to_string_lossy().into_owned(), store.import_bundle(p, NOW, &mut |_, _| {}))).collect();
    // The Liaoning panel's report was made on 2026-11-20 (the due list counts from that).
    let site = store.merge().unwrap().into_iter().find(|g| g.rubric_id == "liaoning-demo-window").unwrap().site;
    store.report_issued_on(&site, "liaoning-demo-window", "2026-11-20", NOW).unwrap();
    (store, imports)
}

fn data_url(mime: &str, bytes: &[u8]) -> String {
    format!("data:{mime};base64,{}", base64::engine::general_purpose::STANDARD.encode(bytes))
}

/// The library values an inspection view is made of, read from the store as the app did.
struct Owned {
    inspection: Inspection,
    rubric: hallmark_core::rubric::Rubric,
    answers: std::collections::BTreeMap<String, Value>,
    sheet: hallmark_core::score::ScoreSheet,
    evidence: Vec<(Evidence, Vec<u8>)>,
    services: Vec<ServiceRecord>,
    signature: Option<Vec<u8>>,
}

impl Owned {
    fn read(store: &Store, id: &str) -> Owned {
        let (rubric, sheet) = store.sheet(id).unwrap();
        Owned {
            inspection: store.inspection(id).unwrap(),
            rubric,
            answers: store.answers(id).unwrap(),
            sheet,
            evidence: store
                .evidence(id)
                .unwrap()
                .into_iter()
                .map(|e| (std::fs::read(store.thumb_path(&e.photo.sha256)).unwrap(), e))
                .map(|(thumb, e)| (e, thumb))
                .collect(),
            services: store.service_entries(id).unwrap(),
            signature: store.signature_image(id).unwrap().map(|s| std::fs::read(store.signature_path(&s.sha256)).unwrap()),
        }
    }

    fn parts(&self) -> Parts<'_> {
        Parts {
            inspection: &self.inspection,
            rubric: &self.rubric,
            answers: self.answers.clone(),
            sheet: &self.sheet,
            evidence: &self.evidence,
            services: &self.services,
            signature: self.signature.as_deref(),
            reviews: &[],
        }
    }

    /// The view as the app sent it before the view types: the library structs serialized
    /// (each photo's `Evidence` flattened next to its `thumbnail`).
    fn legacy(&self) -> Value {
        let evidence: Vec<Value> = self
            .evidence
            .iter()
            .map(|(e, thumb)| {
                let mut v = serde_json::to_value(e).unwrap();
                v["thumbnail"] = json!(data_url("image/jpeg", thumb));
                v
            })
            .collect();
        json!({
            "inspection": self.inspection,
            "rubric": self.rubric,
            "answers": self.answers,
            "sheet": self.sheet,
            "evidence": evidence,
            "services": self.services,
            "signature": self.signature.as_ref().map(|png| data_url("image/png", png)),
            // New in issue #13: the lead's reviews received on this tablet (none here).
            "reviews": [],
        })
    }
}

/// `import_bundles`' element as the app sent it before the view types.
fn legacy_import(file: &str, result: &ImportResult) -> Value {
    match result {
        // `certified` (issue #10) is the library's; the IPC keeps its shape and the line says it.
        Ok(r) => {
            let mut r = serde_json::to_value(r).unwrap();
            r.as_object_mut().unwrap().shift_remove("certified");
            json!({ "file": file, "result": r, "error": null, "line": r_line(file, result) })
        }
        // `fields` is new (issue #14): the error's facts for the UI's Chinese wording.
        Err(e) => {
            json!({ "file": file, "result": null, "error": { "code": e.code(), "message": e.to_string(), "fields": e.fields() }, "line": e.to_string() })
        }
    }
}

fn r_line(file: &str, result: &ImportResult) -> String {
    result.as_ref().map(|r| r.line(file)).unwrap_or_default()
}

/// The merge view as the library serializes it, less what issues #10 and #13 added to the
/// library only (`assessors[].certified`, `panel.mean`: the texts say them; the IPC keeps its
/// shape).
fn merge_legacy(groups: &[hallmark_store::merge::MergeGroup]) -> Value {
    let mut v = serde_json::to_value(groups).unwrap();
    for g in v.as_array_mut().unwrap() {
        for a in g["assessors"].as_array_mut().unwrap() {
            a.as_object_mut().unwrap().shift_remove("certified");
        }
        // `panel.mean` (issue #13) likewise: the UI shows the provisional mean from total.mean.
        if let Some(p) = g["panel"].as_object_mut() {
            p.shift_remove("mean");
        }
    }
    v
}

fn text(v: &impl Serialize) -> String {
    serde_json::to_string_pretty(v).unwrap()
}

/// Same JSON, byte for byte (field order included).
#[track_caller]
fn same(what: &str, new: &impl Serialize, legacy: &impl Serialize) {
    let (new, legacy) = (text(new), text(legacy));
    if new != legacy {
        let line = new.lines().zip(legacy.lines()).position(|(a, b)| a != b).unwrap_or(new.lines().count().min(legacy.lines().count()));
        panic!(
            "{what}: the view's JSON differs from the library's at line {}:\n  view:    {}\n  library: {}",
            line + 1,
            new.lines().skip(line).take(2).collect::<Vec<_>>().join(" ⏎ "),
            legacy.lines().skip(line).take(2).collect::<Vec<_>>().join(" ⏎ ")
        );
    }
}

#[test]
fn the_ui_receives_what_it_received_before() {
    let t = Temp::new("before");
    let (store, ids) = tablet(&t.0.join("tablet"));
    for id in &ids {
        same("inspection view", &InspectionView::load(&store, id).unwrap(), &Owned::read(&store, id).legacy());
    }
    let summaries = store.summaries().unwrap();
    same("inspection list", &summaries.iter().map(view::InspectionSummary::from).collect::<Vec<_>>(), &summaries);
    let exported = store.export_bundle(&ids[1], &t.0.join("x.hallmark"), "2026-11-20T11:00:00.000Z", &mut |_, _| {}).unwrap();
    same("exported", &view::Exported::from(&exported), &exported);

    // Issue #11: enrollment over the network, refused and approved-and-installed.
    let online = |state: &str, reason: Option<String>, installed: Option<view::Enrollment>| view::ServerEnrollment {
        state: s(state),
        name: s("赵敏"),
        unit: s("铁岭县医疗保障局"),
        fingerprint: s("3f14 6d9d ca38 474b"),
        received_at: s(NOW),
        reason,
        installed,
    };
    let installed = view::Enrollment {
        name: s("赵敏"),
        unit: s("铁岭县医疗保障局"),
        title: s(""),
        roles: vec![s("assessor")],
        serial: s("0a1b"),
        issuer: s("辽宁省医疗保障局"),
        root: s("辽宁省医疗保障局"),
        not_after: s("2027-12-04T00:00:00Z"),
        days_left: 365,
        fingerprint: s("3f14 6d9d ca38 474b"),
        device_id: None,
        expiring_soon: false,
    };
    check("ipc-server-enrollment", &[online("refused", Some(s("不是本局人员")), None), online("approved", None, Some(installed))], &[]);

    let (lead, imports) = lead(&t.0);
    let legacy: Vec<Value> = imports.iter().map(|(f, r)| legacy_import(f, r)).collect();
    let outcomes: Vec<view::ImportOutcome> = imports.into_iter().map(|(f, r)| view::ImportOutcome::of(f, r)).collect();
    same("import outcomes", &outcomes, &legacy);
    let groups = lead.merge().unwrap();
    same("merge view", &groups.iter().map(view::MergeGroup::from).collect::<Vec<_>>(), &merge_legacy(&groups));
    let due = hallmark_report::model::due(&lead, "2027-11-01").unwrap();
    assert!(!due.is_empty());
    same("due", &due.iter().map(view::Due::from).collect::<Vec<_>>(), &due);
    for id in lead.inspection_ids().unwrap() {
        same("imported inspection view", &InspectionView::load(&lead, &id).unwrap(), &Owned::read(&lead, &id).legacy());
    }
    // Populated beyond what the stores hold: every finding, conclusion and option.
    let populated = populated_inspection(&store, &ids[1]);
    same("populated inspection view", &InspectionView::new(populated.parts()), &populated.legacy());
    let groups = populated_groups(&lead);
    same("populated merge view", &groups.iter().map(view::MergeGroup::from).collect::<Vec<_>>(), &merge_legacy(&groups));
}

// ---------- fully populated values ----------

fn d<T: std::str::FromStr>(s: &str) -> T
where
    T::Err: std::fmt::Debug,
{
    s.parse().unwrap()
}

fn s(v: &str) -> String {
    v.to_string()
}

/// One part for every kind of finding, reading, tally, held condition and outcome.
fn every_finding() -> Vec<PartScore> {
    let bands = |reading: Reading| Fact::Bands { reading, reached: Some(d("80")), lowest: d("60"), unit: s("%") };
    let facts = [
        (Outcome::Awarded { points: d("2") }, Fact::Yes { answer: true }),
        (Outcome::Awarded { points: d("1.5") }, bands(Reading::Measured { value: d("1850"), unit: s("m²") })),
        (Outcome::Zero, Fact::Bands { reading: Reading::Counted { value: 3 }, reached: None, lowest: d("5"), unit: s("个") }),
        (Outcome::Awarded { points: d("1") }, bands(Reading::Percent { percent: d("85.5"), numerator: Some(171), denominator: Some(200) })),
        (Outcome::Awarded { points: d("1") }, bands(Reading::Present { elements: vec![s("叫号机")] })),
        (
            Outcome::Deducted { deduction: d("6") },
            Fact::Deduct {
                tallies: vec![
                    Tally::Count { input: s("practice.language"), label: s("语言交流"), value: 1 },
                    Tally::Missing { input: s("layout.zones"), elements: vec![s("等候区")] },
                    Tally::Windows {
                        input: s("equipment.windows"),
                        windows: 3,
                        lacking: vec![WindowLack { window: s("1号窗口"), missing: vec![s("电话")] }],
                    },
                    Tally::TimeSample {
                        input: s("efficiency.times"),
                        sampled: 10,
                        late: 2,
                        units: d("3"),
                        sample_size: Some(50),
                        unfilled: 1,
                        fewer_reason: Some(s("本期仅受理10件")),
                    },
                ],
            },
        ),
        (Outcome::Deducted { deduction: d("2") }, Fact::Shortfall { count: 8, target: d("10"), short: d("2") }),
        (
            Outcome::Deducted { deduction: d("1") },
            Fact::Excess { value: d("25"), unit: s("分钟"), limit: d("20"), step: d("5"), steps: Some(d("1")) },
        ),
        (
            Outcome::Deducted { deduction: d("1") },
            Fact::LevelShortfall {
                value: d("180"),
                unit: s("m²"),
                level: s("county"),
                level_label: s("县级"),
                requirement: d("200"),
                step_percent: d("10"),
                short: Some(LevelShort { percent: d("10"), steps: d("1") }),
            },
        ),
        (
            Outcome::Zero,
            Fact::Range {
                readings: vec![RangeReading {
                    input: s("comfort.temperature"),
                    label: s("温度"),
                    value: d("30"),
                    unit: s("℃"),
                    min: d("18"),
                    max: d("26"),
                }],
            },
        ),
        (Outcome::Zero, Fact::ZeroWhen { input: s("comfort.lighting_mix"), label: s("采光"), held: Held::Is { value: false } }),
        (Outcome::Zero, Fact::ZeroWhen { input: s("10.2.late_cases"), label: s("超时件"), held: Held::Above { value: d("2"), limit: d("0") } }),
        (Outcome::Zero, Fact::ZeroWhen { input: s("11.3.pharmacies"), label: s("药店"), held: Held::Below { value: d("0"), limit: d("1") } }),
        (Outcome::Zero, Fact::KeyMissing { input: s("2.1.office"), element: s("扫描仪（OCR）") }),
        (Outcome::Unanswered, Fact::Unanswered { inputs: vec![s("layout.area")], labels: vec![s("面积")] }),
        (Outcome::Unanswered, Fact::SampleShort { input: s("timeliness.sample"), label: s("抽样"), filled: 20, unfilled: 1, sample_size: 50 }),
    ];
    facts
        .into_iter()
        .map(|(outcome, fact)| PartScore {
            label: s("part"),
            max: d("2"),
            points: outcome.points(d("2")),
            explanation: s("explanation"),
            finding: Finding { rule: "yes", inputs: vec![s("input")], outcome, fact },
        })
        .collect()
}

/// The finished Liaoning inspection with a part of every finding, a service with its events,
/// a photo with and one without a capture time.
fn populated_inspection(store: &Store, id: &str) -> Owned {
    let mut o = Owned::read(store, id);
    o.sheet.items[0].parts.extend(every_finding());
    o.sheet.veto =
        hallmark_core::score::VetoOutcome { triggered: vec![s("veto1")], unanswered: vec![s("veto2")], vetoed: true, text: Some(s("否决")) };
    let (mut with_time, thumb) = o.evidence[0].clone();
    with_time.photo.taken_at = Some(s("2026-11-20 10:21:03"));
    o.evidence.push((with_time, thumb));
    let mut service = o.services[0].clone();
    let event = |value: Option<Value>, amendment: Option<String>| hallmark_store::Event {
        id: s("event"),
        key: s("practice.language"),
        value: value.clone(),
        previous: value,
        author: s("孙丽"),
        device_id: s("device"),
        recorded_at: s(NOW),
        amendment,
    };
    service.events = vec![event(Some(json!("<answer>")), Some(s("reason"))), event(None, None)];
    o.services.push(service);
    o
}

/// The lead's merge view, with a conflict and a photo's capture time on one assessor, and a
/// copy of the Liaoning group for every other conclusion and for sheets that do not aggregate.
fn populated_groups(lead: &Store) -> Vec<hallmark_store::merge::MergeGroup> {
    let mut groups = lead.merge().unwrap();
    let first = &mut groups[0].assessors[0];
    let side = |value: Option<Value>| ConflictSide {
        bundle_file: s("a.hallmark"),
        bundle_created_at: s(NOW),
        value,
        recorded_at: s(NOW),
        event_id: s("event"),
    };
    first.conflicts.push(Conflict {
        key: s("layout.transfers"),
        current: Some(json!("<answer>")),
        current_event: Some(s("event")),
        sides: vec![side(Some(json!("<answer>")))],
    });
    first.conflicts.push(Conflict { key: s("layout.area"), current: None, current_event: None, sides: vec![side(None)] });
    first.photos.values_mut().next().unwrap()[0].taken_at = Some(s("2026-11-20 10:21:03"));
    groups[0].panel_id = Some(s("panel"));
    groups[0].excluded.push(hallmark_store::merge::Excluded {
        inspection_id: s("inspection"),
        name: s("赵磊"),
        reason: s("练习记录"),
        author: s("组长"),
        recorded_at: s(NOW),
    });
    let text = s("结论");
    let conclusions = [
        Conclusion::Fail { text: text.clone() },
        Conclusion::Vetoed { text: text.clone(), cases: vec![s("veto1")], by: vec![s("王敏")] },
        Conclusion::Insufficient { text: text.clone() },
        Conclusion::Incomplete { text: text.clone(), assessors: vec![s("王敏")] },
        Conclusion::NoPassLine { text },
    ];
    let template = groups.iter().find(|g| g.rubric_id == "liaoning-demo-window").unwrap().clone();
    for c in conclusions {
        let mut g = template.clone();
        let incomplete = matches!(c, Conclusion::Incomplete { .. });
        let panel = g.panel.as_mut().unwrap();
        panel.conclusion = c;
        if incomplete {
            // An unfinished, unsigned sheet with an unanswered item: no mean, no final score.
            (panel.site, panel.final_score) = (None, None);
            panel.warnings.push(s("评价人员人数为偶数"));
            let item = &mut panel.items[0];
            item.scores[0] = None;
            (item.mean, item.min, item.max, item.stddev) = (None, None, None, None);
            (g.assessors[0].finished_at, g.assessors[0].signature) = (None, None);
        }
        groups.push(g);
    }
    let mut failed = template;
    failed.panel = None;
    failed.error = Some(s("sheet of '王敏' is for rubric 'x'"));
    groups.push(failed);
    groups
}

// ---------- golden schema files ----------

/// The shape of one IPC type from several of its values against `tests/schemas/<name>.txt`.
fn check<T: Serialize>(name: &str, values: &[T], maps: &[&str]) {
    let values: Vec<Value> = values.iter().map(|v| serde_json::to_value(v).unwrap()).collect();
    shape::check(name, &shape::shape_of(&values, maps));
}

#[test]
fn ipc_schemas() {
    let t = Temp::new("schemas");
    let (store, ids) = tablet(&t.0.join("tablet"));
    // Answers are any JSON an input takes (docs/observations.md); shown as strings.
    let mut views = vec![InspectionView::new(populated_inspection(&store, &ids[1]).parts()), InspectionView::load(&store, &ids[0]).unwrap()];
    for v in &mut views {
        v.answers = [(s("<input>"), json!("<answer>"))].into();
    }
    check("ipc-inspection-view", &views, &["answers", "services[].occurrences", "rubric.item[].part[].rule.requirement"]);
    check("ipc-inspection-summary", &store.summaries().unwrap().iter().map(view::InspectionSummary::from).collect::<Vec<_>>(), &[]);
    let exported = store.export_bundle(&ids[1], &t.0.join("x.hallmark"), "2026-11-20T11:00:00.000Z", &mut |_, _| {}).unwrap();
    check("ipc-exported", &[view::Exported::from(&exported)], &[]);
    check("ipc-app-info", &[view::AppInfo::of(&store, &t.0)], &[]);
    let rubrics =
        hallmark_core::builtin::ALL.iter().map(|(n, text)| view::RubricChoice::from(&hallmark_core::rubric::Rubric::load(n, text).unwrap()));
    check("ipc-rubric-choice", &rubrics.collect::<Vec<_>>(), &[]);
    let inbox =
        view::Inbox { dir: s("/media/usb"), files: vec![view::InboxFile { path: s("/media/usb/a.hallmark"), name: s("a.hallmark"), size: 1024 }] };
    check("ipc-inbox", &[inbox], &[]);
    check("ipc-progress", &[view::Progress { done: 1, total: 2 }], &[]);
    // `fields` differs by code (StoreError::fields): its keys are pinned by the store's tests.
    let errors = [StoreError::NotFound(s("x")), StoreError::Finished(s("x"))];
    check("ipc-command-error", &errors.map(view::CommandError::from), &["fields"]);
    let mut lead_store = Store::open(&t.0.join("panel-lead"), NOW).unwrap();
    let panel = lead_store.create_panel("铁岭", "组长", NOW).unwrap();
    let member = lead_store
        .create_inspection(
            &NewInspection {
                rubric_text: hallmark_core::builtin::JIANGSU.into(),
                site_name: s("铁岭"),
                site_level: s("县"),
                visited_on: s("2026-11-20"),
                assessor_name: s("赵磊"),
                ..Default::default()
            },
            NOW,
        )
        .unwrap();
    lead_store.panel_add(&panel, &member, "组长", NOW).unwrap();
    lead_store.panel_remove(&panel, &member, "练习记录", "组长", NOW).unwrap();
    check("ipc-panel-membership", &lead_store.panels().unwrap().iter().map(view::PanelMembership::from).collect::<Vec<_>>(), &[]);
    check("ipc-roster-loaded", &[view::RosterLoaded { name: s("王敏"), fingerprint: s("0000 0000") }], &[]);
    let details = view::ReportDetails { site_head: s("赵立新"), site_phone: s("024"), site_email: s("a@b"), leader: Some(s("王敏")) };
    check("ipc-report-details", &[details], &[]);
    let made = |some: bool| view::ReportMade {
        pdf: s("/b/report.pdf"),
        sidecar: some.then(|| s("/b/report.pdf.sig.json")),
        draft: !some,
        number: s("HM-LN-20261120-0123abcd"),
        final_score: some.then(|| s("90.2")),
        conclusion: s("合格"),
        valid_until: some.then(|| s("2027-11-20")),
    };
    check("ipc-report-made", &[made(true), made(false)], &[]);

    // Issue #10: the enrollment screen, a status, a written request.
    let enrolled = view::Enrollment {
        name: s("张伟"),
        unit: s("铁岭市医疗保障局"),
        title: s("科员"),
        roles: vec![s("assessor")],
        serial: s("0a1b"),
        issuer: s("铁岭市医疗保障局"),
        root: s("辽宁省医疗保障局"),
        not_after: s("2027-11-20T00:00:00Z"),
        days_left: 352,
        fingerprint: s("0000 0000"),
        device_id: Some(s("device")),
        expiring_soon: false,
    };
    let files = vec![view::InboxFile { path: s("/b/张伟.pem"), name: s("张伟.pem"), size: 900 }];
    let screens = [view::EnrollmentScreen::of(&store, Some(enrolled), &t.0, files), view::EnrollmentScreen::of(&store, None, &t.0, Vec::new())];
    check("ipc-enrollment-screen", &screens, &[]);
    check("ipc-request-written", &[view::RequestWritten { path: s("/b/a.csr.pem"), name: s("a.csr.pem"), dir: s("/b") }], &[]);
    // Sync (issue #11): every state, an error and none.
    let entry = |state, received: Option<&str>| view::SyncInspection {
        id: s("inspection"),
        state,
        done: 1,
        total: 2,
        received_at: received.map(s),
        server: received.map(|_| s("演示同步服务器")),
    };
    let mut error = view::CommandError::new("sync", "cannot reach the server");
    error.fields = json!({"kind": "sync", "reason": "unreachable", "status": 0, "transient": true});
    let statuses = [
        view::SyncStatus {
            server: Some(s("https://127.0.0.1:8443")),
            enrolled: true,
            last_attempt: Some(s("2026-12-03T08:00:00.000Z")),
            last_error: Some(error),
            next_in: 15,
            inspections: vec![entry("unsynced", None), entry("syncing", None), entry("synced", Some("2026-12-03T08:00:00.000Z"))],
        },
        view::SyncStatus { server: None, enrolled: false, last_attempt: None, last_error: None, next_in: 0, inspections: vec![] },
    ];
    check("ipc-sync-status", &statuses, &["last_error.fields"]);
    check("ipc-pulled", &[view::Pulled { lines: vec![s("…")], imported: 1, failed: 0, reviews_failed: false }], &[]);
    check(
        "ipc-server-assignment",
        &[
            view::ServerAssignment {
                id: s("TL-2027"),
                site: s("site"),
                rubric_id: s("liaoning-demo-window"),
                role: s("member"),
                hall_id: Some(s("TL-1")),
                region_code: Some(s("211221")),
                address: Some(s("address")),
                level: Some(s("county")),
                planned_from: Some(s("2027-11-02")),
                planned_to: Some(s("2027-11-04")),
            },
            view::ServerAssignment {
                id: s("TL-2026"),
                site: s("site"),
                rubric_id: s("liaoning-demo-window"),
                role: s("lead"),
                hall_id: None,
                region_code: None,
                address: None,
                level: None,
                planned_from: None,
                planned_to: None,
            },
        ],
        &[],
    );

    let (lead, imports) = lead(&t.0);
    check("ipc-import-outcome", &imports.into_iter().map(|(f, r)| view::ImportOutcome::of(f, r)).collect::<Vec<_>>(), &[]);
    check("ipc-merge-group", &populated_groups(&lead).iter().map(view::MergeGroup::from).collect::<Vec<_>>(), &["assessors[].photos"]);
    check("ipc-due", &hallmark_report::model::due(&lead, "2027-11-01").unwrap().iter().map(view::Due::from).collect::<Vec<_>>(), &[]);
    // Issue #13: the lead's reviews of a panel; received on a tablet, the received count.
    use hallmark_store::reviews::{Review, State};
    let reviews = [
        Review {
            inspection_id: s("i"),
            assessor: s("张伟"),
            item_id: Some(s("practice")),
            item_name: Some(s("服务实操")),
            state: State::Returned { comment: s("请复核"), at: s("t"), answered: false, kept: None },
        },
        Review {
            inspection_id: s("i"), assessor: s("张伟"), item_id: None, item_name: None, state: State::Accepted { comment: s(""), at: s("t") }
        },
    ];
    check("ipc-panel-review", &reviews.iter().map(view::PanelReview::from).collect::<Vec<_>>(), &[]);
    check("ipc-reviews-received", &[view::ReviewsReceived { received: 1, refused: vec![s("x.review.json")] }], &[]);
    // Issue #13: a 整改 item with one signed step, as the 整改跟踪 list shows it.
    use hallmark_store::rectifications::{Rectification, RectificationEventV1, Status};
    let step = RectificationEventV1 {
        format: s("hallmark-rectification-event/1"),
        rectification_id: s("r"),
        kind: s("assigned"),
        owner: Some(s("王主任")),
        due_on: Some(s("2027-01-31")),
        note: s(""),
        photo_sha256: None,
        by_report: None,
        at: s("t"),
        device_id: s("d"),
        public_key: s("k"),
        signature: s("x"),
    };
    let item = Rectification {
        id: s("r"),
        site: s("铁岭县医疗保障事务服务中心"),
        rubric_id: s("liaoning-demo-window"),
        report_number: s("HM-LN-1"),
        item_id: s("layout"),
        item_name: s("场所布局"),
        max_points: s("8"),
        points_lost: s("3.6"),
        finding: s("区域功能：缺少母婴休息"),
        photo_sha256: Some(s("ab")),
        opened_at: s("t"),
        status: Status::InProgress,
        owner: Some(s("王主任")),
        due_on: Some(s("2027-01-31")),
        events: vec![step],
    };
    check("ipc-rectification", &[view::RectificationView::from(&item)], &[]);
}
