//! The report's dates (issue #15, clocks): 报告日期 is the lead's date of the first make,
//! recorded once in the lead's store; a tablet's clock (a finish dated 2100) never dates the
//! report or its validity, and is printed as a 提示 instead. Real bundles, real PDFs.

use std::path::Path;

use hallmark_report::{model, seal, text, Group, Made, Out, Request};
use hallmark_store::{demo, Store};
use serde_json::{json, Value};

/// The lead's clock when importing and first making the report.
const NOW: &str = "2026-11-21T09:00:00.000Z";
const TODAY: &str = "2026-11-21";

/// The demo bundles, the first (王敏's, Liaoning) re-exported as if her tablet's clock had
/// read 2100-02-28 when she finished; imported into a lead store with a fixed key.
fn lead(dir: &Path, finished_at: &str) -> Store {
    let bundles = demo::write_bundles(&dir.join("bundles")).unwrap();
    // Her tablet's key, as demo::write_bundles made it, signs the changed manifest.
    let tablet = dir.join("tablet-1");
    let seed = sha2::Digest::finalize(<sha2::Sha256 as sha2::Digest>::new_with_prefix("hallmark demo tablet 0")).into();
    hallmark_store::identity::install_seed(&tablet, &seed).unwrap();
    let key = Store::open(&tablet, NOW).unwrap();
    assert_eq!(key.device_key().public_key_hex(), bundles[0].public_key);
    rewrite(&bundles[0].path, key.device_key(), |m| m["inspection"]["finished_at"] = json!(finished_at));
    let lead_dir = dir.join("lead");
    hallmark_store::identity::install_seed(&lead_dir, &[7u8; 32]).unwrap();
    let mut lead = Store::open(&lead_dir, NOW).unwrap();
    for b in &bundles {
        lead.import_bundle(&b.path, NOW, &mut |_, _| {}).unwrap();
    }
    lead
}

fn make(store: &Store, out: &Path, today: &str, now: &str) -> Made {
    let details = model::Details { leader: Some("王敏".into()), ..Default::default() };
    let site = model::pick_group(store, None, Some("liaoning-demo-window")).unwrap().site;
    let request = Request {
        group: Group::Named { site: &site, rubric: "liaoning-demo-window" },
        details: &details,
        out: Out::File(out),
        today,
        now,
        draft: false,
    };
    hallmark_report::make(store, &request).unwrap()
}

#[test]
fn a_finish_dated_2100_does_not_date_the_report() {
    let t = tempfile::tempdir().unwrap();
    let store = lead(t.path(), "2100-02-28T10:56:00.000Z");
    let made = make(&store, &t.path().join("report.pdf"), TODAY, NOW);
    let printed = text::render(&made.report);
    assert!(printed.contains("报告日期：2026-11-21") && printed.contains("有效期至：2027-11-21"), "{printed}");
    assert!(made.report.number.starts_with("HM-LN-20261121-"), "{}", made.report.number);
    assert!(
        made.report
            .warnings
            .iter()
            .any(|w| w == "王敏的平板日期有误：完成时间 2100-02-28T10:56:00.000Z 晚于导入时间 2026-11-21 超过2天（报告日期与有效期不取自平板时钟）"),
        "{:?}",
        made.report.warnings
    );
    let sidecar = std::fs::read_to_string(made.sidecar.as_ref().unwrap()).unwrap();
    assert!(!sidecar.contains("2100-") && !sidecar.contains("2101-"), "{sidecar}");
    assert!(seal::verify(&made.pdf, None).unwrap().ok);
    // The re-evaluation reminder counts from the same date.
    let due = model::due(&store, "2027-10-25").unwrap();
    assert_eq!((due.len(), due[0].issued_on.as_str(), due[0].valid_until.as_str()), (1, TODAY, "2027-11-21"), "{due:?}");
}

#[test]
fn re_rendering_a_report_keeps_its_issue_date() {
    let t = tempfile::tempdir().unwrap();
    let store = lead(t.path(), "2026-11-20T10:56:00.000Z");
    assert!(model::due(&store, "2027-11-20").unwrap().is_empty(), "no report made: nothing is due");
    let first = make(&store, &t.path().join("first.pdf"), TODAY, NOW);
    assert_eq!(first.report.issued_on, TODAY);
    assert_eq!(store.report_issue(&first.report.site.name, "liaoning-demo-window").unwrap().as_deref(), Some(TODAY));
    // Two weeks later, the same report again: the same date, the same bytes.
    let again = make(&store, &t.path().join("again.pdf"), "2026-12-05", "2026-12-05T02:00:00.000Z");
    assert_eq!(again.report.issued_on, TODAY);
    assert_eq!(std::fs::read(&again.pdf).unwrap(), std::fs::read(&first.pdf).unwrap(), "re-rendering changed the PDF");
    // The sidecar (v2, issue #10) is the same claims signed again: only the signing time it
    // records (the lead's clock, now) and the statement signature over it differ.
    let claims = |p: &std::path::Path| {
        let mut v: serde_json::Value = serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap();
        let at = v["signed_at"].as_str().unwrap().to_string();
        v.as_object_mut().unwrap().retain(|k, _| k != "signed_at" && k != "signature");
        (v, at)
    };
    let (first_claims, first_at) = claims(first.sidecar.as_ref().unwrap());
    let (again_claims, again_at) = claims(again.sidecar.as_ref().unwrap());
    assert_eq!(again_claims, first_claims, "re-rendering changed the sidecar's claims");
    assert_eq!((first_at.as_str(), again_at.as_str()), ("2026-11-21T09:00:00Z", "2026-12-05T02:00:00Z"));
    assert_eq!(model::due(&store, "2027-10-25").unwrap()[0].valid_until, "2027-11-21");

    // A lead clock no report may be dated by is refused, and records nothing.
    let t2 = tempfile::tempdir().unwrap();
    let other = lead(t2.path(), "2026-11-20T10:56:00.000Z");
    let details = model::Details::default();
    for (today, now, message) in [
        ("2026-02-31", NOW, "today's date '2026-02-31' is not a date: 2026-02 has 28 days (set this computer's date and time, then try again)"),
        (
            "2100-02-28",
            "2100-02-28T01:00:00Z",
            "today's date '2100-02-28' is after 2099-12-31, the latest date hallmark accepts (set this computer's date and time, then try again)",
        ),
        (
            "1970-01-01",
            "1970-01-01T00:00:00Z",
            "today's date '1970-01-01' is before 2020-01-01, the earliest date hallmark accepts (set this computer's date and time, then try again)",
        ),
        (
            "2026-11-28",
            NOW,
            "today's date '2026-11-28' is not the day of the time '2026-11-21T09:00:00.000Z' (set this computer's date and time, then try again)",
        ),
    ] {
        let out = t2.path().join("r.pdf");
        let request = Request {
            group: Group::Matching { site: None, rubric: Some("liaoning-demo-window") },
            details: &details,
            out: Out::File(&out),
            today,
            now,
            draft: false,
        };
        let err = hallmark_report::make(&other, &request).unwrap_err();
        assert_eq!((err.code(), err.to_string().as_str()), ("clock", message));
        assert!(!out.exists());
        assert_eq!(other.report_issue(&first.report.site.name, "liaoning-demo-window").unwrap(), None);
    }
}

// ---- a small toolkit: rewrite a bundle's manifest and sign it again with the tablet's key ----

fn rewrite(path: &Path, key: &hallmark_store::identity::DeviceKey, change: impl FnOnce(&mut Value)) {
    let mut list = hallmark_bundle::ustar::read_all(&mut std::fs::read(path).unwrap().as_slice(), u64::MAX).unwrap();
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
    std::fs::write(path, out).unwrap();
}
