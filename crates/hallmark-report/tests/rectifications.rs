//! 整改 to closure (issue #13 part 2), with real bundles, PDFs, signatures and certificates: a
//! signed report opens one item per deduction; the hall's progress is a log of signed events
//! with refused steps named; a re-evaluation (a later signed report by a certified lead naming
//! the first) verifies the items whose deduction is gone and leaves the others; the list
//! exports as XLSX; an event changed behind the store's back is refused as damage.

use std::path::Path;

use hallmark_report::issue::Lifecycle;
use hallmark_report::rectify;
use hallmark_report::seal::{Trust, TrustFiles};
use hallmark_report::{model, Group, Made, Out, Request};
use hallmark_store::demo::{self, DemoBureau};
use hallmark_store::rectifications::{Change, Status};
use hallmark_store::Store;

const NOW: &str = "2026-11-20T09:00:00.000Z";

/// A lead store holding the demo bundles; with `worse`, the first assessor's sheet says the
/// guidance signs are missing (so the panel loses points on signage, which the demo does not).
fn lead(dir: &Path, worse: bool) -> Store {
    let tweak = |n: usize, doc: &mut serde_json::Value| {
        if worse && n == 0 {
            doc["answers"]["signage.guidance"] = serde_json::json!(false);
        }
    };
    let bundles = demo::write_bundles_tweaked(&dir.join("bundles"), None, &tweak).unwrap();
    let mut lead = Store::open(&dir.join("lead"), NOW).unwrap();
    for b in &bundles {
        lead.import_bundle(&b.path, NOW, &mut |_, _| {}).unwrap();
    }
    lead
}

fn make(store: &Store, out: &Path, today: &str, previous: Option<&Path>) -> Made {
    let details = model::Details { leader: Some("王敏".into()), ..Default::default() };
    let site = model::pick_group(store, None, Some("liaoning-demo-window")).unwrap().site;
    let now = format!("{today}T09:00:00Z");
    let request = Request {
        group: Group::Named { site: &site, rubric: "liaoning-demo-window" },
        details: &details,
        out: Out::File(out),
        today,
        now: &now,
        draft: false,
    };
    hallmark_report::issue::make_as(store, &request, &Lifecycle { supersedes: None, previous, override_reviews: None }).unwrap()
}

fn at(day: &str) -> String {
    format!("{day}T10:00:00.000Z")
}

#[test]
fn a_deduction_is_followed_to_closure_by_a_reevaluation() {
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    // One bureau certifies last year's lead and this year's (their certificates run a year).
    let bureau = DemoBureau::create(&t.join("bureau"), "2026-11-19T08:00:00Z".parse().unwrap()).unwrap();
    let mut first = lead(&t.join("2026"), true);
    bureau.enroll(&first, "王敏", "辽宁省医疗保障局", "", &[hallmark_trust::Role::Lead]).unwrap();
    let report = make(&first, &t.join("2026.pdf"), "2026-11-20", None);

    // One item per deduction of the signed report, with its finding, points and a photo.
    let items = first.rectifications(None).unwrap();
    let deducted: Vec<&str> = report.report.items.iter().filter(|i| i.deduction.is_some_and(|d| !d.is_zero())).map(|i| i.id.as_str()).collect();
    assert_eq!(items.iter().map(|r| r.item_id.as_str()).collect::<Vec<_>>(), deducted);
    assert!(deducted.contains(&"signage") && deducted.contains(&"layout"), "{deducted:?}");
    let item = |store: &Store, id: &str| store.rectifications(None).unwrap().into_iter().find(|r| r.item_id == id).unwrap();
    let signage = item(&first, "signage");
    assert_eq!((signage.status, signage.points_lost.as_str(), signage.report_number.as_str()), (Status::Open, "0.2", report.report.number.as_str()));
    assert!(item(&first, "layout").photo_sha256.is_some(), "the panel's photo of the item");
    // Made again: nothing new is opened.
    make(&first, &t.join("again.pdf"), "2026-11-20", None);
    assert_eq!(first.rectifications(None).unwrap().len(), items.len());

    // The hall's progress; each refused step named, recording nothing.
    let photo = demo::demo_photo(1);
    let steps: Vec<(Change, Result<Status, &str>)> = vec![
        (Change::Progress { note: "  ".into() }, Err("the note is empty")),
        (Change::Assign { owner: "张科长".into(), due_on: "2027-02-30".into() }, Err("the due date '2027-02-30' is not a date")),
        (Change::Reopen { note: "x".into() }, Err("only an item reported done is reopened")),
        (Change::Assign { owner: "张科长".into(), due_on: "2027-01-31".into() }, Ok(Status::Open)),
        (Change::Progress { note: "已订制导向标识".into() }, Ok(Status::InProgress)),
        (Change::Done { note: "导向标识已安装".into(), photo: b"not a photo".to_vec() }, Err("not a JPEG photo")),
        (Change::Done { note: "导向标识已安装".into(), photo: photo.clone() }, Ok(Status::Done)),
        (Change::Done { note: "again".into(), photo: photo.clone() }, Err("it is reported done already")),
        (Change::Progress { note: "x".into() }, Err("reopen it first")),
        (Change::Reopen { note: "二楼缺导向标识".into() }, Ok(Status::InProgress)),
        (Change::Done { note: "二楼已补装".into(), photo }, Ok(Status::Done)),
    ];
    let mut events = 0;
    for (n, (change, want)) in steps.into_iter().enumerate() {
        let got = first.record_rectification(&signage.id, &change, &at("2026-12-10"));
        match want {
            Ok(status) => {
                events += 1;
                let r = got.unwrap_or_else(|e| panic!("step {n} {change:?}: {e}"));
                assert_eq!((r.status, r.events.len()), (status, events), "step {n} {change:?}");
            }
            Err(says) => {
                let e = got.expect_err(&format!("step {n} {change:?} must be refused")).to_string();
                assert!(e.contains(says), "step {n}: {e}");
                assert_eq!(item(&first, "signage").events.len(), events, "step {n} recorded nothing");
            }
        }
    }
    let signage = item(&first, "signage");
    assert_eq!((signage.owner.as_deref(), signage.due_on.as_deref()), (Some("张科长"), Some("2027-01-31")));
    assert!(first.photo_path(signage.events.last().unwrap().photo_sha256.as_ref().unwrap()).exists(), "the done photo is in the store");

    // The re-evaluation a year later: the demo panel (no signage deduction), a lead the
    // bureau certifies, naming the first report.
    let second = lead(&t.join("2027"), false);
    bureau.enroll(&second, "刘洋", "辽宁省医疗保障局", "", &[hallmark_trust::Role::Lead]).unwrap();
    // A "previous report" the bureau does not vouch for (the real one re-signed by a key of
    // somebody's own) is refused: it would decide the validity by §12.
    let fake = t.join("fake.pdf");
    std::fs::copy(&report.pdf, &fake).unwrap();
    let mut side: hallmark_report::seal::SidecarV3 = serde_json::from_slice(&std::fs::read(report.sidecar.as_ref().unwrap()).unwrap()).unwrap();
    std::fs::create_dir_all(t.join("forger")).unwrap();
    let key = hallmark_store::identity::DeviceKey::load_or_create(&t.join("forger"), &mut Vec::new()).unwrap();
    side.pdf_signature = hallmark_core::hex::hex(&key.sign(&std::fs::read(&fake).unwrap()));
    (side.signer_public_key, side.signer_fingerprint, side.signer_certificates) = (key.public_key_hex(), key.fingerprint(), Vec::new());
    side.signature = String::new();
    side.signature = hallmark_core::hex::hex(&key.sign(&serde_json::to_vec(&side).unwrap()));
    std::fs::write(hallmark_report::seal::sidecar_path(&fake), serde_json::to_vec(&side).unwrap()).unwrap();
    let details = model::Details::default();
    let site = model::pick_group(&second, None, Some("liaoning-demo-window")).unwrap().site;
    let request = Request {
        group: Group::Named { site: &site, rubric: "liaoning-demo-window" },
        details: &details,
        out: Out::File(&t.join("never.pdf")),
        today: "2027-11-05",
        now: "2027-11-05T09:00:00Z",
        draft: false,
    };
    let e = hallmark_report::issue::make_as(&second, &request, &Lifecycle { previous: Some(&fake), ..Default::default() }).unwrap_err().to_string();
    assert!(e.contains("the previous report does not verify") && e.contains("not enrolled"), "{e}");
    assert!(!t.join("never.pdf").exists());
    let re = make(&second, &t.join("2027.pdf"), "2027-11-05", Some(&report.pdf));
    let roots = [t.join("bureau").join("bureau-root.pem")];
    let trust =
        Trust::load(&TrustFiles { roots: &roots, crls: &[], signer_cert: None, folder: None }, "2027-11-06T08:00:00Z".parse().unwrap()).unwrap();

    // Not a re-evaluation, or not trusted: refused, nothing recorded.
    let e = rectify::close_by(&mut first, &report.pdf, &trust, &at("2027-11-06")).unwrap_err().to_string();
    assert!(e.contains("is not a re-evaluation"), "{e}");
    let nobody =
        Trust::load(&TrustFiles { roots: &[], crls: &[], signer_cert: None, folder: None }, "2027-11-06T08:00:00Z".parse().unwrap()).unwrap();
    let e = rectify::close_by(&mut first, &re.pdf, &nobody, &at("2027-11-06")).unwrap_err().to_string();
    assert!(e.contains("does not verify") && e.contains("only a report the bureau can trust closes"), "{e}");
    assert_eq!(item(&first, "signage").status, Status::Done);

    // Closed by it: signage (full points from every assessor now), not the others.
    let closed = rectify::close_by(&mut first, &re.pdf, &trust, &at("2027-11-06")).unwrap();
    let verified: Vec<&str> = closed.iter().filter(|c| c.verified).map(|c| c.item_id.as_str()).collect();
    assert_eq!(verified, ["signage"], "{closed:?}");
    let signage = item(&first, "signage");
    assert_eq!(signage.status, Status::Verified);
    assert_eq!(signage.events.last().unwrap().by_report.as_deref(), Some(re.report.number.as_str()));
    assert_eq!(item(&first, "layout").status, Status::Open, "still deducted: left as it stands");
    // Verified is final; closing again records nothing more.
    let e = first.record_rectification(&signage.id, &Change::Progress { note: "x".into() }, &at("2027-11-07")).unwrap_err().to_string();
    assert!(e.contains(&format!("closed by report {}", re.report.number)), "{e}");
    rectify::close_by(&mut first, &re.pdf, &trust, &at("2027-11-07")).unwrap();
    assert_eq!(item(&first, "signage").events.len(), signage.events.len());

    // The ledger as XLSX, read back.
    let bytes = rectify::xlsx(&first.rectifications(None).unwrap()).unwrap();
    let path = t.join("整改台账.xlsx");
    std::fs::write(&path, bytes).unwrap();
    use calamine::Reader;
    let mut book: calamine::Xlsx<_> = calamine::open_workbook(&path).unwrap();
    let sheet = book.worksheet_range("整改台账").unwrap();
    let rows: Vec<Vec<String>> = sheet.rows().map(|r| r.iter().map(|c| c.to_string()).collect()).collect();
    assert_eq!(rows[0][..9], ["受评单位", "报告编号", "指标", "名称", "扣分", "问题", "责任人", "整改期限", "状态"]);
    let row = rows.iter().find(|r| r[2] == "signage").unwrap();
    assert_eq!(
        (row[4].as_str(), row[6].as_str(), row[7].as_str(), row[8].as_str(), row[10].as_str()),
        ("0.2", "张科长", "2027-01-31", "已核验", re.report.number.as_str())
    );
    assert_eq!(rows.len(), items.len() + 1);

    // An event changed behind the store's back (its trigger dropped): refused as damage.
    drop(first);
    let db = t.join("2026").join("lead").join(hallmark_store::DB_FILE);
    let conn = rusqlite::Connection::open(&db).unwrap();
    conn.execute_batch("DROP TRIGGER rectification_events_append_only_update").unwrap();
    conn.execute("UPDATE rectification_events SET statement = replace(statement, '张科长', '李四')", []).unwrap();
    drop(conn);
    let first = Store::open(&t.join("2026").join("lead"), NOW).unwrap();
    let e = first.rectifications(None).unwrap_err().to_string();
    assert!(e.contains("does not verify") && e.contains("changed outside hallmark"), "{e}");
}
