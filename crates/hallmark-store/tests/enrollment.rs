//! Enrollment (issue #10) on real SQLite files with real certificates from a bureau CA made by
//! hallmark_trust::authority in a temp folder: install checks the chain before storing
//! anything; a re-keyed device stops using its old certificate; roots and CRLs are trusted.

use std::path::Path;

use chrono::{DateTime, Duration, Utc};
use hallmark_store::Store;
use hallmark_trust::authority::{self, IssueRequest, SubjectKey};
use hallmark_trust::Role;

const PASS: &str = "correct-horse-battery";
const NOW: &str = "2026-11-25T10:00:00.000Z";

fn t(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn ca(dir: &Path, name: &str) -> std::path::PathBuf {
    let d = dir.join(name);
    authority::init(&d, name, "", 10, None, PASS, t(NOW) - Duration::days(1)).unwrap();
    d
}

/// The chain the CA issues for this store's enrollment request.
fn issue(ca: &Path, store: &Store, name: &str, roles: &[Role], days: i64, at: &str) -> String {
    let csr = store.enrollment_request(name, "沈阳市医疗保障局", "科员").unwrap();
    let req = authority::read_request("req", csr.as_bytes()).unwrap();
    let issued = authority::issue(
        ca,
        PASS,
        &IssueRequest { subject: req.subject, roles: roles.to_vec(), key: SubjectKey::Ed25519(req.public_key), days, hosts: vec![] },
        t(at),
    )
    .unwrap();
    issued.chain_pem
}

fn root(ca: &Path) -> Vec<u8> {
    std::fs::read(ca.join(authority::ROOT)).unwrap()
}

#[test]
fn an_issued_certificate_installs_and_names_the_device() {
    let tmp = tempfile::tempdir().unwrap();
    let bureau = ca(tmp.path(), "辽宁省医疗保障局");
    let store = Store::open(&tmp.path().join("tablet"), NOW).unwrap();
    assert_eq!(store.enrollment(NOW).unwrap(), None);
    assert_eq!(store.device_certificates().unwrap(), None);
    let chain = issue(&bureau, &store, "张伟", &[Role::Assessor], 365, NOW);
    let e = store.install_certificate(chain.as_bytes(), &root(&bureau), NOW).unwrap();
    assert_eq!((e.name.as_str(), e.unit.as_str(), e.title.as_str()), ("张伟", "沈阳市医疗保障局", "科员"));
    assert_eq!(e.roles, ["assessor"]);
    assert_eq!((e.issuer.as_str(), e.root.as_str()), ("辽宁省医疗保障局", "辽宁省医疗保障局"));
    assert_eq!(e.device_id.as_deref(), Some(store.device_id()));
    assert_eq!(e.fingerprint, store.device_key().fingerprint());
    assert_eq!(e.days_left, 365);
    assert!(!e.expiring_soon);
    assert_eq!(store.enrollment(NOW).unwrap(), Some(e.clone()));
    // 30 days before the end it warns.
    let late = store.enrollment("2027-10-26T10:00:00Z").unwrap().unwrap();
    assert_eq!(late.days_left, 30);
    assert!(late.expiring_soon);
    let certs = store.device_certificates().unwrap().unwrap();
    assert_eq!(certs.len(), 1);
    assert!(certs[0].starts_with("-----BEGIN CERTIFICATE-----"));
    // The root is trusted from now on.
    let list = store.trust_list().unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!((list[0].kind.as_str(), list[0].name.as_str()), ("root", "辽宁省医疗保障局"));
    assert!(store.trust_store().unwrap().has_roots());
}

// ---------- bundles: the signer's chain, checked when this store first saw the bundle ----------

use hallmark_store::bundle::{Certified, Imported};
use hallmark_store::demo::{DemoBureau, DEMO_CA_PASSPHRASE};
use hallmark_store::{Access, NewInspection, StoreError};

fn import(lead: &mut Store, file: &Path, at: &str) -> Result<Imported, StoreError> {
    lead.import_bundle(file, at, &mut |_, _| {})
}

/// What a refused import must leave unchanged: inspections, bundles' rows, trusted files.
fn snapshot(store: &Store) -> (Vec<String>, String, usize) {
    (store.inspection_ids().unwrap(), store.merge().map(|g| format!("{g:?}")).unwrap_or_default(), store.trust_list().unwrap().len())
}

/// One finished inspection by `assessor` on a tablet enrolled as `enrolled_as`, exported.
fn tablet_bundle(dir: &Path, bureau: &DemoBureau, enrolled_as: &str, assessor: &str) -> std::path::PathBuf {
    let mut tablet = Store::open(&dir.join(format!("tablet-{enrolled_as}-{assessor}")), NOW).unwrap();
    bureau.enroll(&tablet, enrolled_as, "铁岭市医疗保障局", "科员", &[Role::Assessor]).unwrap();
    let id = tablet
        .create_inspection(
            &NewInspection {
                rubric_text: hallmark_store::demo::JIANGSU_RUBRIC.to_string(),
                site_name: "铁岭县医疗保障事务服务中心".into(),
                site_address: String::new(),
                site_level: "county".into(),
                visited_on: "2026-11-25".into(),
                assessor_name: assessor.into(),
                assessor_unit: "铁岭市医疗保障局".into(),
                assessor_title: String::new(),
                assessor_phone: String::new(),
                ..Default::default()
            },
            NOW,
        )
        .unwrap();
    tablet.finish(&id, "2026-11-25T10:05:00.000Z").unwrap();
    let out = dir.join(format!("{enrolled_as}-{assessor}.hallmark"));
    tablet.export_bundle(&id, &out, "2026-11-25T10:06:00.000Z", &mut |_, _| {}).unwrap();
    out
}

/// The issue's case: a bundle first seen before the revocation stays good; one first seen after
/// it is refused — although its tablet dates it days before the revocation — and changes
/// nothing.
#[test]
fn a_bundle_is_judged_at_the_time_this_store_first_saw_it_not_at_its_tablets_date() {
    let tmp = tempfile::tempdir().unwrap();
    let bureau = DemoBureau::create(tmp.path(), t(NOW) - Duration::days(10)).unwrap();
    let bundles = hallmark_store::demo::write_bundles_from(&tmp.path().join("b"), Some(&bureau)).unwrap();
    let first = &bundles[0];
    let mut lead = Store::open_with(&tmp.path().join("lead.db"), &tmp.path().join("lead-files"), Access::Create, NOW).unwrap();
    lead.add_trust("bureau-root.pem", &bureau.root_pem, NOW).unwrap();
    match import(&mut lead, &first.path, "2026-11-25T11:00:00.000Z").unwrap() {
        Imported::Applied { certified: Certified::Enrolled { name, root, .. }, .. } => {
            assert_eq!((name.as_str(), root.as_str()), (first.assessor.as_str(), "辽宁省医疗保障局（演示）"));
        }
        other => panic!("{other:?}"),
    }
    // Her tablet is reported stolen at noon: revoked from then on.
    let serial = lead_serial_of(&first.path);
    authority::revoke(&bureau.ca_dir, DEMO_CA_PASSPHRASE, &serial, "key-compromise", Some(t("2026-11-25T12:00:00Z")), t("2026-11-25T12:30:00Z"))
        .unwrap();
    let crl = std::fs::read(bureau.ca_dir.join(authority::CRL)).unwrap();
    lead.add_trust("crl.pem", &crl, "2026-11-25T12:40:00.000Z").unwrap();
    // Seen at 11:00, before the revocation: still good (importing it again is a no-op).
    assert!(matches!(import(&mut lead, &first.path, "2026-11-25T13:00:00.000Z").unwrap(), Imported::AlreadyImported { .. }));
    // Another lead sees the same bundle only at 13:00: refused, whatever date the tablet wrote
    // (the demo bundle says 2026-11-20), and nothing changes.
    let mut late = Store::open_with(&tmp.path().join("late.db"), &tmp.path().join("late-files"), Access::Create, NOW).unwrap();
    late.add_trust("bureau-root.pem", &bureau.root_pem, NOW).unwrap();
    late.add_trust("crl.pem", &crl, NOW).unwrap();
    let before = snapshot(&late);
    let err = import(&mut late, &first.path, "2026-11-25T13:00:00.000Z").unwrap_err();
    assert_eq!((err.code(), err.fields()["reason_code"].as_str()), ("bundle", Some("untrusted")), "{err}");
    assert!(err.to_string().contains("was revoked"), "{err}");
    assert_eq!(snapshot(&late), before, "a refused bundle changes nothing");
    // The other assessors' tablets are untouched by her revocation.
    assert!(matches!(import(&mut late, &bundles[1].path, "2026-11-25T13:00:00.000Z").unwrap(), Imported::Applied { .. }));
}

/// The serial of the certificate a bundle carries.
fn lead_serial_of(bundle: &Path) -> String {
    let v = hallmark_bundle_manifest(bundle);
    let pem = v["device"]["certificates"][0].as_str().unwrap().to_string();
    authority::serial_of("bundle", pem.as_bytes()).unwrap()
}

fn hallmark_bundle_manifest(bundle: &Path) -> serde_json::Value {
    // The manifest is the first ustar entry: its size is octal at byte 124.
    let bytes = std::fs::read(bundle).unwrap();
    let size = usize::from_str_radix(std::str::from_utf8(&bytes[124..135]).unwrap().trim_matches(char::from(0)).trim(), 8).unwrap();
    serde_json::from_slice(&bytes[512..512 + size]).unwrap()
}

#[test]
fn a_broken_chain_refuses_the_bundle_and_changes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let bureau = DemoBureau::create(&tmp.path().join("liaoning"), t(NOW) - Duration::days(10)).unwrap();
    let other = DemoBureau::create(&tmp.path().join("other"), t(NOW) - Duration::days(10)).unwrap();
    let named_other = tablet_bundle(tmp.path(), &bureau, "张伟", "李强");
    let foreign = tablet_bundle(&tmp.path().join("foreign"), &other, "张伟", "张伟");
    let good = tablet_bundle(tmp.path(), &bureau, "张伟", "张伟");
    let mut lead = Store::open_with(&tmp.path().join("lead.db"), &tmp.path().join("lead-files"), Access::Create, NOW).unwrap();
    lead.add_trust("bureau-root.pem", &bureau.root_pem, NOW).unwrap();
    let before = snapshot(&lead);
    for (file, says) in [
        (&named_other, "the bundle names its assessor '李强', but the certificate certifies '张伟'"),
        // Another CA with the very name of the trusted one.
        (&foreign, "it was issued by another CA with the same name as a trusted one"),
    ] {
        let err = import(&mut lead, file, "2026-11-25T11:00:00.000Z").unwrap_err();
        assert_eq!(err.fields()["reason_code"], "untrusted", "{err}");
        assert!(err.to_string().contains(says), "{}: {err}", file.display());
        assert_eq!(snapshot(&lead), before, "{}: a refused bundle changes nothing", file.display());
    }
    assert!(matches!(import(&mut lead, &good, "2026-11-25T11:00:00.000Z").unwrap(), Imported::Applied { certified: Certified::Enrolled { .. }, .. }));
}

#[test]
fn without_a_trusted_root_a_certificate_is_unchecked_and_without_one_the_bundle_is_unenrolled() {
    let tmp = tempfile::tempdir().unwrap();
    let bureau = DemoBureau::create(tmp.path(), t(NOW) - Duration::days(10)).unwrap();
    let enrolled = tablet_bundle(tmp.path(), &bureau, "张伟", "张伟");
    let plain = hallmark_store::demo::write_bundles(&tmp.path().join("plain")).unwrap();
    let mut lead = Store::open_with(&tmp.path().join("lead.db"), &tmp.path().join("lead-files"), Access::Create, NOW).unwrap();
    let got = import(&mut lead, &enrolled, "2026-11-25T11:00:00.000Z").unwrap();
    assert!(matches!(&got, Imported::Applied { certified: Certified::Unchecked { name }, .. } if name == "张伟"), "{got:?}");
    assert!(got.line("x").contains("未核验"), "{}", got.line("x"));
    let got = import(&mut lead, &plain[0].path, "2026-11-25T11:00:00.000Z").unwrap();
    assert!(matches!(&got, Imported::Applied { certified: Certified::Unenrolled, .. }), "{got:?}");
    assert!(got.line("x").contains("未登记设备"), "{}", got.line("x"));
}

/// Key life cycle: a tablet is replaced (or re-keyed: a new data folder, a new key). The new
/// one enrolls for the same person; the old certificate is revoked (superseded). The lead keeps
/// what the old tablet sent before, and takes the new tablet's bundles.
#[test]
fn a_replaced_tablet_enrolls_anew_and_the_old_certificate_is_revoked() {
    let tmp = tempfile::tempdir().unwrap();
    let bureau = DemoBureau::create(tmp.path(), t(NOW) - Duration::days(10)).unwrap();
    let old = tablet_bundle(&tmp.path().join("old"), &bureau, "张伟", "张伟");
    let mut lead = Store::open_with(&tmp.path().join("lead.db"), &tmp.path().join("lead-files"), Access::Create, NOW).unwrap();
    lead.add_trust("bureau-root.pem", &bureau.root_pem, NOW).unwrap();
    assert!(matches!(import(&mut lead, &old, "2026-11-25T11:00:00.000Z").unwrap(), Imported::Applied { .. }));
    // The old tablet's certificate is superseded; the new tablet's is issued.
    let serial = lead_serial_of(&old);
    authority::revoke(&bureau.ca_dir, DEMO_CA_PASSPHRASE, &serial, "superseded", None, t("2026-11-25T12:00:00Z")).unwrap();
    lead.add_trust("crl.pem", &std::fs::read(bureau.ca_dir.join(authority::CRL)).unwrap(), "2026-11-25T12:00:00.000Z").unwrap();
    let new = tablet_bundle(&tmp.path().join("new"), &bureau, "张伟", "张伟");
    let new_serial = lead_serial_of(&new);
    assert_ne!(serial, new_serial);
    match import(&mut lead, &new, "2026-11-25T13:00:00.000Z").unwrap() {
        Imported::Applied { certified: Certified::Enrolled { serial, .. }, .. } => assert_eq!(serial, new_serial),
        other => panic!("{other:?}"),
    }
    assert_eq!(lead.inspection_ids().unwrap().len(), 2, "the old tablet's inspection stays");
    // A certificate made for the old key does not install on the new tablet.
    let tablet = Store::open(&tmp.path().join("new/tablet-张伟-张伟"), NOW).unwrap();
    let old_chain = hallmark_bundle_manifest(&old)["device"]["certificates"][0].as_str().unwrap().to_string();
    let err = tablet.install_certificate(old_chain.as_bytes(), &bureau.root_pem, NOW).unwrap_err();
    assert_eq!(err.code(), "key_mismatch", "{err}");
}

/// Re-signs a bundle's manifest after `change`, with `key` (the way a thief holding a tablet's
/// key, or anyone with a copied bundle, would).
fn resign(from: &Path, to: &Path, key: &hallmark_store::identity::DeviceKey, change: impl FnOnce(&mut serde_json::Value)) {
    let mut list = hallmark_bundle::ustar::read_all(&mut std::fs::read(from).unwrap().as_slice(), u64::MAX).unwrap();
    let mut manifest: serde_json::Value = serde_json::from_slice(&list[0].1).unwrap();
    change(&mut manifest);
    let bytes = serde_json::to_vec_pretty(&manifest).unwrap();
    let sig =
        serde_json::json!({"algorithm": "ed25519", "public_key": key.public_key_hex(), "signature": hallmark_core::hex::hex(&key.sign(&bytes))});
    list[0].1 = bytes;
    list[1].1 = serde_json::to_vec_pretty(&sig).unwrap();
    let mut tar = hallmark_bundle::ustar::Writer::new(Vec::new());
    for (name, data) in &list {
        tar.append(name, data.len() as u64, &mut data.as_slice()).unwrap();
    }
    std::fs::write(to, tar.finish().unwrap()).unwrap();
}

/// Review of #10: a key this store has seen certified cannot drop its certificate to pass as
/// an unenrolled tablet (a revoked one would escape every check), and a bundle signed by
/// another key cannot add to an inspection already here (a copied header re-signed by anyone).
/// Both are refused and change nothing. Before the fix both imported (`Applied`).
#[test]
fn a_certified_key_cannot_drop_its_certificate_nor_another_key_add_to_its_inspection() {
    let tmp = tempfile::tempdir().unwrap();
    let bureau = DemoBureau::create(tmp.path(), t(NOW) - Duration::days(10)).unwrap();
    let good = tablet_bundle(&tmp.path().join("a"), &bureau, "张伟", "张伟");
    let mut lead = Store::open_with(&tmp.path().join("lead.db"), &tmp.path().join("lead-files"), Access::Create, NOW).unwrap();
    lead.add_trust("bureau-root.pem", &bureau.root_pem, NOW).unwrap();
    assert!(matches!(import(&mut lead, &good, "2026-11-25T11:00:00.000Z").unwrap(), Imported::Applied { .. }));
    let before = snapshot(&lead);

    let tablet_key = hallmark_store::identity::DeviceKey::load(&tmp.path().join("a/tablet-张伟-张伟"), &mut Vec::new()).unwrap();
    let stripped = tmp.path().join("stripped.hallmark");
    resign(&good, &stripped, &tablet_key, |m| {
        m["device"]["certificates"] = serde_json::json!([]);
        m["created_at"] = serde_json::json!("2026-11-25T10:30:00.000Z");
    });
    let err = import(&mut lead, &stripped, "2026-11-25T12:00:00.000Z").unwrap_err();
    assert_eq!(err.fields()["reason_code"], "untrusted", "{err}");
    assert!(err.to_string().contains("the bundle carries none, but key"), "{err}");
    assert_eq!(snapshot(&lead), before);

    let thief_dir = tmp.path().join("thief");
    std::fs::create_dir_all(&thief_dir).unwrap();
    let thief = hallmark_store::identity::DeviceKey::load_or_create(&thief_dir, &mut Vec::new()).unwrap();
    let copied = tmp.path().join("copied.hallmark");
    resign(&good, &copied, &thief, |m| {
        m["device"]["public_key"] = serde_json::json!(thief.public_key_hex());
        m["device"]["fingerprint"] = serde_json::json!(thief.fingerprint());
        m["device"]["certificates"] = serde_json::json!([]);
    });
    let err = import(&mut lead, &copied, "2026-11-25T12:00:00.000Z").unwrap_err();
    assert_eq!(err.fields()["reason_code"], "contradicts", "{err}");
    assert!(err.to_string().contains(&format!("but this bundle is signed by key {}", thief.fingerprint())), "{err}");
    assert_eq!(snapshot(&lead), before);
}
