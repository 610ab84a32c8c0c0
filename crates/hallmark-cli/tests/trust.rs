//! Issue #10 from the command line, on the demo: a bureau root, enrolled tablets and lead, and
//! `verify` that passes only for a lead the bureau certifies. The forgery the issue describes
//! (claims changed, re-signed with a new key) and the lead certificate's failures each fail
//! with their own message.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use hallmark_report::seal::{SidecarV2, SidecarV3};
use hallmark_store::identity::DeviceKey;
use sha2::{Digest, Sha256};

const PASS: &str = "hallmark-demo-only";

fn hallmark(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_hallmark"))
        .args(args)
        .env_remove("HALLMARK_TRUST")
        .env("HALLMARK_CA_PASSPHRASE", PASS)
        .env("HALLMARK_PARENT_CA_PASSPHRASE", PASS)
        .output()
        .unwrap()
}

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

fn ok(args: &[&str]) -> String {
    let o = hallmark(args);
    assert!(o.status.success(), "hallmark {args:?}: {}", text(&o));
    text(&o)
}

/// `verify` fails (exit 1) and its output says `says`.
fn fails(args: &[&str], says: &str) {
    let o = hallmark(args);
    assert_eq!(o.status.code(), Some(1), "hallmark {args:?} must fail: {}", text(&o));
    assert!(text(&o).contains(says), "hallmark {args:?} must say {says:?}:\n{}", text(&o));
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// A lead's database: demo bundles imported, the Liaoning report made.
fn report(t: &Path, db: &Path, bundles: &Path, name: &str) -> PathBuf {
    let mut args = vec!["import".to_string(), "--db".into(), s(db).into()];
    let mut files: Vec<String> =
        std::fs::read_dir(bundles).unwrap().flatten().map(|e| e.path().display().to_string()).filter(|p| p.ends_with(".hallmark")).collect();
    files.sort();
    args.extend(files);
    let out = ok(&args.iter().map(String::as_str).collect::<Vec<_>>());
    let pdf = t.join(format!("{name}.pdf"));
    let details = bundles.join("report-details.toml");
    ok(&["report", "--db", s(db), "--rubric", "liaoning-demo-window", "--details", s(&details), "--out", s(&pdf)]);
    assert!(out.contains("已导入"), "{out}");
    pdf
}

/// The forgery: the PDF and the sidecar's claims changed, both re-signed with a new random
/// key; `certificates` is what the forger puts in the sidecar.
fn forge(pdf: &Path, out: &Path, key: &DeviceKey, certificates: Vec<String>) {
    let mut bytes = std::fs::read(pdf).unwrap();
    let at = bytes.len() / 2;
    bytes[at] ^= 1;
    let mut side: SidecarV3 = serde_json::from_slice(&std::fs::read(hallmark_report::seal::sidecar_path(pdf)).unwrap()).unwrap();
    side.final_score = Some("99.8".into());
    side.pdf_sha256 = hallmark_core::hex::hex(&Sha256::digest(&bytes));
    side.pdf_size = bytes.len() as u64;
    side.pdf_signature = hallmark_core::hex::hex(&key.sign(&bytes));
    side.signer_public_key = key.public_key_hex();
    side.signer_fingerprint = key.fingerprint();
    side.signer_certificates = certificates;
    side.signature = String::new();
    side.signature = hallmark_core::hex::hex(&key.sign(&serde_json::to_vec(&side).unwrap()));
    std::fs::write(out, &bytes).unwrap();
    std::fs::write(hallmark_report::seal::sidecar_path(out), serde_json::to_vec_pretty(&side).unwrap()).unwrap();
}

/// A device's certificate from a CA: request, issue, install.
fn enroll(db: &Path, ca: &Path, root: &Path, name: &str, role: &str, out: &Path) {
    let csr = out.with_extension("csr.pem");
    ok(&["enroll", "request", "--db", s(db), "--name", name, "--unit", "辽宁省医疗保障局", "--out", s(&csr)]);
    ok(&["ca", "issue", "--ca", s(ca), "--role", role, "--request", s(&csr), "--out", s(out)]);
    ok(&["enroll", "install", "--db", s(db), "--cert", s(out), "--root", s(root)]);
}

#[test]
fn verify_passes_only_for_a_lead_the_bureau_certifies() {
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let (d, lead) = (t.join("demo"), t.join("lead.db"));
    let out = ok(&["demo", s(&d), "--lead", s(&lead)]);
    assert!(out.contains("已登记为评价组长 王敏"), "{out}");
    let root = d.join("bureau-root.pem");
    let ca = d.join("bureau-ca");
    let pdf = report(t, &lead, &d, "report");

    // The demo's own report: trusted with the root, not without it.
    let good = ok(&["verify", s(&pdf), "--trust", s(&root), "--bundles", s(&d)]);
    assert!(good.contains("signed by 王敏 (辽宁省医疗保障局), a lead the bureau certifies"), "{good}");
    assert!(good.contains("role assessor"), "every bundle's chain is checked too: {good}");
    fails(&["verify", s(&pdf)], "signature valid, but the signer is not trusted: pass --trust");
    // A configured default trust store: the folder in $HALLMARK_TRUST (root and CRL).
    let o = Command::new(env!("CARGO_BIN_EXE_hallmark")).args(["verify", s(&pdf)]).env("HALLMARK_TRUST", &d).output().unwrap();
    assert!(o.status.success(), "{}", text(&o));

    // The forgery of the issue, three ways of naming the signer. The forger's key is a
    // device of their own, which their own CA (named like the bureau) certifies as a lead.
    let (fake_ca, fake_db) = (t.join("fake-ca"), t.join("fake.db"));
    ok(&["ca", "init", "--dir", s(&fake_ca), "--name", "辽宁省医疗保障局"]);
    let fake_cert = t.join("fake-lead.pem");
    enroll(&fake_db, &fake_ca, &fake_ca.join("root.pem"), "王敏", "lead", &fake_cert);
    let forger = DeviceKey::load(&t.join("fake.db-files"), &mut Vec::new()).unwrap();
    let lead_chain: SidecarV3 = serde_json::from_slice(&std::fs::read(hallmark_report::seal::sidecar_path(&pdf)).unwrap()).unwrap();
    let forged = t.join("forged.pdf");
    forge(&pdf, &forged, &forger, lead_chain.signer_certificates.clone());
    fails(
        &["verify", s(&forged), "--trust", s(&root)],
        &format!("signed by key {}, which is not the key its certificate binds", forger.fingerprint()),
    );
    forge(&pdf, &forged, &forger, Vec::new());
    fails(&["verify", s(&forged), "--trust", s(&root)], "the signer's device is not enrolled");
    // Its signatures are valid: only the trust chain tells it from the real one.
    let o = hallmark(&["verify", s(&forged), "--trust", s(&root)]);
    assert!(text(&o).contains("ok    Ed25519 signature of the PDF") && text(&o).contains("ok    sidecar claims are signed"), "{}", text(&o));
    forge(&pdf, &forged, &forger, vec![std::fs::read_to_string(&fake_cert).unwrap()]);
    fails(&["verify", s(&forged), "--trust", s(&root)], "which does not lead to a trusted root");

    // A report signed by an assessor's device: `report` refuses to sign it, and one made
    // anyway (re-signed by that device's key, with its certificate) fails: role assessor, not lead.
    let assessor_db = t.join("assessor.db");
    let assessor_cert = t.join("assessor.pem");
    enroll(&assessor_db, &ca, &root, "李强", "assessor", &assessor_cert);
    let liaoning: Vec<String> = (1..=5)
        .map(|n| {
            std::fs::read_dir(&d).unwrap().flatten().map(|e| e.path()).find(|p| p.to_string_lossy().contains(&format!("liaoning-{n}-"))).unwrap()
        })
        .map(|p| p.display().to_string())
        .collect();
    let mut args = vec!["import", "--db", s(&assessor_db)];
    args.extend(liaoning.iter().map(String::as_str));
    ok(&args);
    let o = hallmark(&["report", "--db", s(&assessor_db), "--rubric", "liaoning-demo-window", "--out", s(&t.join("no.pdf"))]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("has role assessor, not lead"), "{}", text(&o));
    assert!(!t.join("no.pdf").exists(), "nothing written");
    let assessor_key = DeviceKey::load(&t.join("assessor.db-files"), &mut Vec::new()).unwrap();
    forge(&pdf, &forged, &assessor_key, vec![std::fs::read_to_string(&assessor_cert).unwrap()]);
    fails(&["verify", s(&forged), "--trust", s(&root)], "has role assessor, not lead");

    // Key life cycle: another lead takes the panel over — enrolled as lead, trusting the root,
    // importing the same bundles — and signs under their own name.
    let lead2 = t.join("lead2.db");
    enroll(&lead2, &ca, &root, "刘洋", "lead", &t.join("lead2.pem"));
    ok(&["trust", "add", "--db", s(&lead2), s(&root)]);
    let handed_over = report(t, &lead2, &d, "handed-over");
    let o = ok(&["verify", s(&handed_over), "--trust", s(&root), "--bundles", s(&d)]);
    assert!(o.contains("signed by 刘洋 (辽宁省医疗保障局)"), "{o}");
    // The CA key rolled over: a new root. Reports signed under the old one still verify while
    // the old root is kept as trusted (for the past); with only the new root they do not.
    let new_ca = t.join("bureau-ca-2027");
    ok(&["ca", "init", "--dir", s(&new_ca), "--name", "辽宁省医疗保障局（2027）"]);
    let new_root = new_ca.join("root.pem");
    ok(&["verify", s(&pdf), "--trust", s(&new_root), "--trust", s(&root)]);
    fails(&["verify", s(&pdf), "--trust", s(&new_root)], "which does not lead to a trusted root");

    // The lead's certificate revoked from before the report was signed: refused with the CRL,
    // still good without it (the CRL is what says so).
    let show = ok(&["enroll", "show", "--db", s(&lead)]);
    let serial = show.split("serial ").nth(1).unwrap().split(',').next().unwrap().to_string();
    let since = (chrono::DateTime::parse_from_rfc3339(&lead_chain.signed_at).unwrap() - chrono::Duration::minutes(1)).to_rfc3339();
    ok(&["ca", "revoke", "--ca", s(&ca), "--serial", &serial, "--reason", "key-compromise", "--since", &since]);
    fails(&["verify", s(&pdf), "--trust", s(&root), "--crl", s(&ca.join("crl.pem"))], "was revoked by");
}

#[test]
fn trust_files_of_the_wrong_kind_are_refused_by_name() {
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let ca = t.join("ca");
    ok(&["ca", "init", "--dir", s(&ca), "--name", "辽宁省医疗保障局"]);
    let root = std::fs::read_to_string(ca.join("root.pem")).unwrap();
    let truncated = t.join("truncated.pem");
    std::fs::write(&truncated, &root[..root.len() / 2]).unwrap();
    let db = t.join("lead.db");
    let key_file = ca.join("ca.key");
    for (file, says) in [
        (&key_file, "not a certificate (never pass or share key files)"),
        (&ca.join("crl.pem"), "crl.pem"),
        (&truncated, "truncated.pem"),
        (&t.join("missing.pem"), "missing.pem: cannot read"),
    ] {
        let o = hallmark(&["verify", s(&t.join("any.pdf")), "--trust", s(file)]);
        assert_eq!(o.status.code(), Some(1), "{}", text(&o));
        assert!(text(&o).contains(says), "verify --trust {}: must say {says:?}: {}", file.display(), text(&o));
    }
    for (file, says) in [(&key_file, "never pass or share key files"), (&truncated, "truncated.pem"), (&t.join("missing.pem"), "cannot read")] {
        let o = hallmark(&["trust", "add", "--db", s(&db), s(file)]);
        assert_eq!(o.status.code(), Some(1), "{}: {}", file.display(), text(&o));
        assert!(text(&o).contains(says), "trust add {}: must say {says:?}: {}", file.display(), text(&o));
    }
    // Nothing of them was trusted.
    let list = ok(&["trust", "list", "--db", s(&db)]);
    assert!(list.contains("no trusted root"), "{list}");
    ok(&["trust", "add", "--db", s(&db), s(&ca.join("root.pem")), s(&ca.join("crl.pem"))]);
    let list = ok(&["trust", "list", "--db", s(&db)]);
    assert!(list.contains("root\t辽宁省医疗保障局") && list.contains("crl\t辽宁省医疗保障局"), "{list}");
}

/// A command refused: it fails and says `says`.
fn refused(args: &[&str], says: &str) {
    let o = hallmark(args);
    assert!(!o.status.success(), "hallmark {args:?} must be refused: {}", text(&o));
    assert!(text(&o).contains(says), "hallmark {args:?} must say {says:?}:\n{}", text(&o));
}

/// Issue #13 part 3, the report's life cycle: a correction (更正) names the report it replaces,
/// both verify and the old one says it is superseded; a withdrawal (撤销) fails the report. Only
/// the signer may do either, once; a statement that is not the signer's is named and ignored.
#[test]
fn a_report_is_corrected_or_withdrawn_only_by_its_signer() {
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let (d, lead) = (t.join("demo"), t.join("lead.db"));
    ok(&["demo", s(&d), "--lead", s(&lead)]);
    let root = d.join("bureau-root.pem");
    let pdf = report(t, &lead, &d, "report");
    let old = hallmark_report::seal::read_sidecar(&std::fs::read(hallmark_report::seal::sidecar_path(&pdf)).unwrap()).unwrap();
    let old = hallmark_report::lifecycle::ReportRefV1 { report_number: old.report_number().clone(), pdf_sha256: old.pdf_sha256().clone() };
    let first: hallmark_report::seal::SidecarV3 = serde_json::from_slice(&std::fs::read(hallmark_report::seal::sidecar_path(&pdf)).unwrap()).unwrap();
    assert_eq!(first.supersedes, None, "a first issue supersedes nothing");
    // Reports sealed before this issue (sidecar v2, #10) still verify: the same report's
    // sidecar written as v2 was, signed by the same lead key.
    let lead_key = DeviceKey::load(&t.join("lead.db-files"), &mut Vec::new()).unwrap();
    let mut v2 = serde_json::to_value(&first).unwrap();
    v2.as_object_mut().unwrap().remove("supersedes");
    v2.as_object_mut().unwrap().remove("previous");
    v2["format"] = "hallmark-report-signature/2".into();
    v2["signature"] = "".into();
    let mut v2: SidecarV2 = serde_json::from_value(v2).unwrap();
    v2.signature = hallmark_core::hex::hex(&lead_key.sign(&serde_json::to_vec(&v2).unwrap()));
    let older = t.join("v2.pdf");
    std::fs::copy(&pdf, &older).unwrap();
    std::fs::write(hallmark_report::seal::sidecar_path(&older), serde_json::to_vec_pretty(&v2).unwrap()).unwrap();
    ok(&["verify", s(&older), "--trust", s(&root), "--bundles", s(&d)]);
    let details = d.join("report-details.toml");
    let base = ["report", "--db", s(&lead), "--rubric", "liaoning-demo-window", "--details", s(&details)];

    // A correction needs a reason, and a report of this site signed here.
    let corrected = t.join("corrected.pdf");
    let with = |out: &Path, old: &Path, reason: &str| -> Vec<String> {
        let mut a: Vec<String> = base.iter().map(|x| x.to_string()).collect();
        a.extend(["--out".into(), s(out).into(), "--supersedes".into(), s(old).into(), "--reason".into(), reason.into()]);
        a
    };
    let run = |a: &[String]| hallmark(&a.iter().map(String::as_str).collect::<Vec<_>>());
    let o = run(&with(&pdf, &pdf, "电话有误"));
    assert!(!o.status.success() && text(&o).contains("would overwrite the report it replaces"), "{}", text(&o));
    let o = run(&with(&corrected, &pdf, "  "));
    assert!(!o.status.success() && text(&o).contains("a correction needs a reason"), "{}", text(&o));
    assert!(!corrected.exists(), "nothing written");
    let o = run(&with(&corrected, &t.join("missing.pdf"), "电话有误"));
    assert!(!o.status.success() && text(&o).contains("missing.pdf: cannot read"), "{}", text(&o));

    // The correction: numbered -R1, naming the old report, on its cover and in its sidecar.
    let o = run(&with(&corrected, &pdf, "受评单位负责人电话有误"));
    assert!(o.status.success(), "{}", text(&o));
    let number = format!("{}-R1", old.report_number);
    assert!(text(&o).contains(&format!("报告编号 {number}")), "{}", text(&o));
    let good = ok(&["verify", s(&corrected), "--trust", s(&root), "--bundles", s(&d)]);
    assert!(good.contains(&format!("this report corrects and replaces report {}", old.report_number)), "{good}");
    assert!(good.contains("受评单位负责人电话有误"), "{good}");
    let side: hallmark_report::seal::SidecarV3 =
        serde_json::from_slice(&std::fs::read(hallmark_report::seal::sidecar_path(&corrected)).unwrap()).unwrap();
    assert_eq!(side.format, "hallmark-report-signature/3");
    assert_eq!(side.supersedes.as_ref().unwrap().report_number, old.report_number);
    assert_eq!(side.supersedes.as_ref().unwrap().pdf_sha256, old.pdf_sha256);
    assert_eq!((&side.issued_on, &side.valid_until), (&first.issued_on, &first.valid_until), "a correction keeps the date and validity");
    // The old report still verifies, and says it is superseded and by which.
    let was = ok(&["verify", s(&pdf), "--trust", s(&root)]);
    assert!(was.contains("SUPERSEDED: its signer corrected it at") && was.contains(&format!("by report {number}")), "{was}");
    // Once: the old report is superseded already.
    refused(&with(&t.join("again.pdf"), &pdf, "再次更正").iter().map(String::as_str).collect::<Vec<_>>(), &format!("superseded by {number} already"));
    assert!(!t.join("again.pdf").exists());
    // A plain `report` now renders the latest revision, the same PDF.
    let again = t.join("re-rendered.pdf");
    ok(&[&base[..], &["--out", s(&again)]].concat());
    assert_eq!(std::fs::read(&again).unwrap(), std::fs::read(&corrected).unwrap());

    // Withdrawal: a reason, the signer's device only.
    refused(&["withdraw", "--db", s(&lead), s(&corrected), "--reason", " "], "a withdrawal needs a reason");
    let other = t.join("other.db");
    ok(&["enroll", "request", "--db", s(&other), "--name", "赵六", "--out", s(&t.join("other.csr.pem"))]);
    refused(&["withdraw", "--db", s(&other), s(&corrected), "--reason", "冒名撤销"], "only the lead who signed a report withdraws or corrects it");
    assert!(!hallmark_report::lifecycle::status_path(&corrected).exists(), "nothing written");

    // A copy of the corrected report with a status statement that is not valid: ignored, named.
    let copy = t.join("copy.pdf");
    std::fs::copy(&corrected, &copy).unwrap();
    std::fs::copy(hallmark_report::seal::sidecar_path(&corrected), hallmark_report::seal::sidecar_path(&copy)).unwrap();
    // The old report's statement (about another report) beside it.
    std::fs::copy(hallmark_report::lifecycle::status_path(&pdf), hallmark_report::lifecycle::status_path(&copy)).unwrap();
    let o = ok(&["verify", s(&copy), "--trust", s(&root)]);
    assert!(o.contains(&format!("it names report {}", old.report_number)) && o.contains("ignored"), "{o}");

    // The withdrawal: verify fails it, with the reason; a second one is refused.
    let w = ok(&["withdraw", "--db", s(&lead), s(&corrected), "--reason", "评价组组成不符合要求"]);
    assert!(w.contains(&format!("报告 {number} 已撤销")), "{w}");
    fails(&["verify", s(&corrected), "--trust", s(&root)], "the report was WITHDRAWN by its signer");
    fails(&["verify", s(&corrected), "--trust", s(&root)], "评价组组成不符合要求");
    refused(&["withdraw", "--db", s(&lead), s(&corrected), "--reason", "again"], "the report is withdrawn already");
    // Recorded in the lead's database: the evaluation is not signed again from it.
    refused(&[&base[..], &["--out", s(&t.join("again-after-withdrawal.pdf"))]].concat(), "was withdrawn (\"评价组组成不符合要求\")");
    assert!(!t.join("again-after-withdrawal.pdf").exists());
    // The statement altered (its reason changed) beside the copy: not the signer's, ignored.
    let mut st: serde_json::Value = serde_json::from_slice(&std::fs::read(hallmark_report::lifecycle::status_path(&corrected)).unwrap()).unwrap();
    st["reason"] = "改过的原因".into();
    std::fs::write(hallmark_report::lifecycle::status_path(&copy), serde_json::to_vec(&st).unwrap()).unwrap();
    let o = ok(&["verify", s(&copy), "--trust", s(&root)]);
    assert!(o.contains("its signature does not verify (altered)"), "{o}");
    // A withdrawal signed by somebody else's key (re-signed whole): not the report's signer.
    let forger = DeviceKey::load(&t.join("other.db-files"), &mut Vec::new()).unwrap();
    st["signer_public_key"] = forger.public_key_hex().into();
    st["signer_fingerprint"] = forger.fingerprint().into();
    st["signature"] = "".into();
    let statement: hallmark_report::lifecycle::ReportStatusV1 = serde_json::from_value(st.clone()).unwrap();
    st["signature"] = hallmark_core::hex::hex(&forger.sign(&serde_json::to_vec(&statement).unwrap())).into();
    std::fs::write(hallmark_report::lifecycle::status_path(&copy), serde_json::to_vec(&st).unwrap()).unwrap();
    let o = ok(&["verify", s(&copy), "--trust", s(&root)]);
    assert!(o.contains("not by the report's signer"), "{o}");
}
