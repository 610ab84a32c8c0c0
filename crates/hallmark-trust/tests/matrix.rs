//! The certificate matrix: every way a chain can be wrong gets its own error, at a trusted time.
//! Real certificates, made by `authority` in temp folders; cross-checked with `openssl verify`.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Duration, TimeZone, Utc};
use hallmark_trust::authority::{self, IssueRequest, Parent, Subject, SubjectKey};
use hallmark_trust::certificate::{self, Role};
use hallmark_trust::{TrustError, TrustStore};
use rustls_pki_types::CertificateDer;

const PASS: &str = "correct-horse-battery";

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 1, 8, 0, 0).unwrap()
}

struct Bureau {
    _tmp: tempfile::TempDir,
    root: PathBuf,
    city: PathBuf,
    other: PathBuf,
}

fn bureau() -> Bureau {
    bureau_at(t0())
}

fn bureau_at(t0: DateTime<Utc>) -> Bureau {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("province");
    let city = tmp.path().join("city");
    let other = tmp.path().join("other");
    authority::init(&root, "辽宁省医疗保障局", "", 10, None, PASS, t0).unwrap();
    authority::init(&city, "沈阳市医疗保障局", "", 5, Some(Parent { dir: &root, passphrase: PASS }), PASS, t0).unwrap();
    authority::init(&other, "某省医疗保障局", "", 10, None, PASS, t0).unwrap();
    Bureau { _tmp: tmp, root, city, other }
}

fn device_key(n: u8) -> [u8; 32] {
    ed25519_dalek::SigningKey::from_bytes(&[n; 32]).verifying_key().to_bytes()
}

fn issue(ca: &Path, roles: &[Role], days: i64, at: DateTime<Utc>) -> (Vec<CertificateDer<'static>>, String) {
    let req = IssueRequest {
        subject: Subject {
            name: "张伟".into(),
            unit: "沈阳市医疗保障局".into(),
            title: "科员".into(),
            device_id: Some("0193a3c2-7f00-7000-8000-000000000001".into()),
        },
        roles: roles.to_vec(),
        key: SubjectKey::Ed25519(device_key(7)),
        days,
        hosts: vec![],
    };
    let issued = authority::issue(ca, PASS, &req, at).unwrap();
    (certificate::read_pem("issued", issued.chain_pem.as_bytes()).unwrap(), issued.chain_pem)
}

fn trusting(b: &Bureau, crls: &[&Path]) -> TrustStore {
    let mut s = TrustStore::new();
    s.add_roots_pem("root.pem", &std::fs::read(b.root.join(authority::ROOT)).unwrap()).unwrap();
    for dir in crls {
        s.add_crl_pem("crl.pem", &std::fs::read(dir.join(authority::CRL)).unwrap()).unwrap();
    }
    s
}

#[test]
fn the_certificate_matrix() {
    let b = bureau();
    let day = Duration::days(1);
    let (good, _) = issue(&b.city, &[Role::Assessor], 365, t0());
    let (lead_only, _) = issue(&b.city, &[Role::Lead], 365, t0());
    let (short, _) = issue(&b.city, &[Role::Assessor], 10, t0());
    let (foreign, _) = issue(&b.other, &[Role::Assessor], 365, t0());
    // A self-made certificate for the same person and key.
    let self_signed = {
        let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
        let mut p = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        p.distinguished_name.push(rcgen::DnType::CommonName, "张伟");
        vec![p.self_signed(&key).unwrap().der().clone()]
    };
    let store = trusting(&b, &[&b.root, &b.city]);
    let at = t0() + day;
    type Case<'a> = (&'a str, &'a [CertificateDer<'static>], Role, DateTime<Utc>, Result<(), &'a str>);
    let cases: Vec<Case> = vec![
        ("enrolled assessor", &good, Role::Assessor, at, Ok(())),
        ("lead-only certificate signing as assessor", &lead_only, Role::Assessor, at, Err("wrong_role")),
        ("assessor certificate signing a report", &good, Role::Lead, at, Err("wrong_role")),
        ("expired", &short, Role::Assessor, t0() + day * 11, Err("expired")),
        ("not yet valid", &good, Role::Assessor, t0() - day, Err("not_yet_valid")),
        ("issued by another bureau", &foreign, Role::Assessor, at, Err("unknown_issuer")),
        ("self-signed", &self_signed, Role::Assessor, at, Err("self_signed")),
        ("no certificate", &[], Role::Assessor, at, Err("unenrolled")),
        ("intermediate missing from the chain", &good[..1], Role::Assessor, at, Err("unknown_issuer")),
    ];
    for (what, chain, role, when, want) in cases {
        let got = store.check(chain, role, when, when);
        match (want, &got) {
            (Ok(()), Ok(t)) => {
                assert_eq!(t.path, vec!["张伟", "沈阳市医疗保障局", "辽宁省医疗保障局"], "{what}");
                assert!(t.revocation_checked, "{what}: both CRLs were given");
            }
            (Err(code), Err(e)) => assert_eq!(e.code(), code, "{what}: {e}"),
            _ => panic!("{what}: expected {want:?}, got {got:?}"),
        }
    }
    assert_eq!(TrustStore::new().check(&good, Role::Assessor, at, at).unwrap_err(), TrustError::NoTrustRoot);
}

#[test]
fn a_revocation_counts_from_its_time_not_from_when_the_list_is_read() {
    let b = bureau();
    let (cert, pem) = issue(&b.city, &[Role::Assessor], 365, t0());
    let serial = authority::serial_of("cert", pem.as_bytes()).unwrap();
    let stolen = t0() + Duration::days(20);
    let reported = t0() + Duration::days(22);
    authority::revoke(&b.city, PASS, &serial, "key-compromise", Some(stolen), reported).unwrap();
    let store = trusting(&b, &[&b.root, &b.city]);
    let now = reported + Duration::days(1);
    // First seen before the tablet was lost: still good, with the revocation noted.
    let before = store.check(&cert, Role::Assessor, stolen - Duration::hours(1), now).unwrap();
    assert!(before.notes.iter().any(|n| n.contains("revoked")), "{:?}", before.notes);
    // First seen after it (even before the bureau heard of it): refused.
    for at in [stolen + Duration::hours(1), reported + Duration::hours(1)] {
        let e = store.check(&cert, Role::Assessor, at, now).unwrap_err();
        assert_eq!(e.code(), "revoked", "{e}");
        assert!(e.to_string().contains("张伟") && e.to_string().contains(&serial), "{e}");
    }
    // Without the city's list, revocation is not checked, and says so.
    let blind = trusting(&b, &[&b.root]);
    let t = blind.check(&cert, Role::Assessor, reported + Duration::hours(1), now).unwrap();
    assert!(!t.revocation_checked);
    assert!(t.notes.iter().any(|n| n.contains("沈阳市医疗保障局")), "{:?}", t.notes);
}

#[test]
fn a_revoked_intermediate_takes_its_devices_with_it() {
    let b = bureau();
    let (cert, _) = issue(&b.city, &[Role::Assessor], 365, t0());
    let city_serial = authority::serial_of("city", &std::fs::read(b.city.join(authority::CERT)).unwrap()).unwrap();
    authority::revoke(&b.root, PASS, &city_serial, "cessation-of-operation", None, t0() + Duration::days(5)).unwrap();
    let store = trusting(&b, &[&b.root, &b.city]);
    let e = store.check(&cert, Role::Assessor, t0() + Duration::days(6), t0() + Duration::days(6)).unwrap_err();
    assert_eq!(e.code(), "revoked");
    assert!(e.to_string().contains("沈阳市医疗保障局"), "{e}");
}

#[test]
fn an_out_of_date_revocation_list_is_noted() {
    let b = bureau();
    let (cert, _) = issue(&b.city, &[Role::Assessor], 365, t0());
    let store = trusting(&b, &[&b.root, &b.city]);
    let later = t0() + Duration::days(45);
    let t = store.check(&cert, Role::Assessor, later, later).unwrap();
    assert!(t.notes.iter().any(|n| n.contains("due for renewal")), "{:?}", t.notes);
    authority::refresh_crl(&b.city, PASS, 30, later).unwrap();
    authority::refresh_crl(&b.root, PASS, 30, later).unwrap();
    let fresh = trusting(&b, &[&b.root, &b.city]);
    assert!(fresh.check(&cert, Role::Assessor, later, later).unwrap().notes.is_empty());
}

#[test]
fn a_crl_from_another_ca_with_the_same_name_is_ignored_with_a_note() {
    let b = bureau();
    let (cert, _) = issue(&b.city, &[Role::Assessor], 365, t0());
    let tmp = tempfile::tempdir().unwrap();
    let impostor = tmp.path().join("impostor");
    // Same name as the city CA, another key: its CRL must not be believed.
    authority::init(&impostor, "沈阳市医疗保障局", "", 5, None, PASS, t0()).unwrap();
    let mut store = trusting(&b, &[&b.root]);
    store.add_crl_pem("impostor.crl.pem", &std::fs::read(impostor.join(authority::CRL)).unwrap()).unwrap();
    // Neither believed nor allowed to block: the chain checks, revocation unchecked, a note.
    let t = store.check(&cert, Role::Assessor, t0(), t0()).unwrap();
    assert!(!t.revocation_checked, "{t:?}");
    assert!(t.notes.iter().any(|n| n.contains("impostor.crl.pem") && n.contains("was ignored")), "{:?}", t.notes);
    // With the city's own list too, revocation is checked: the impostor's list cannot clear a
    // revoked certificate either.
    let serial = authority::serial_of("c", certificate::to_pem(&cert).as_bytes()).unwrap();
    authority::revoke(&b.city, PASS, &serial, "key-compromise", None, t0()).unwrap();
    store.add_crl_pem("city.crl.pem", &std::fs::read(b.city.join(authority::CRL)).unwrap()).unwrap();
    let e = store.check(&cert, Role::Assessor, t0() + Duration::hours(1), t0() + Duration::hours(1)).unwrap_err();
    assert_eq!(e.code(), "revoked", "{e}");
}

/// Revocation lists are never chosen by their dates: a revocation on any list the CA signed
/// counts, even when a list with a later issue date (a CA clock set wrong) does not carry it.
#[test]
fn a_revocation_on_any_signed_list_counts_whatever_the_lists_dates() {
    let b = bureau();
    let (cert, _) = issue(&b.city, &[Role::Assessor], 365, t0());
    // The list of the future (the CA's clock a year ahead) does not carry the revocation.
    authority::refresh_crl(&b.city, PASS, 30, t0() + Duration::days(365)).unwrap();
    let future = std::fs::read(b.city.join(authority::CRL)).unwrap();
    let serial = authority::serial_of("c", certificate::to_pem(&cert).as_bytes()).unwrap();
    authority::revoke(&b.city, PASS, &serial, "key-compromise", None, t0()).unwrap();
    let revoking = std::fs::read(b.city.join(authority::CRL)).unwrap();
    let mut store = trusting(&b, &[&b.root]);
    store.add_crl_pem("future.crl.pem", &future).unwrap();
    store.add_crl_pem("revoking.crl.pem", &revoking).unwrap();
    let e = store.check(&cert, Role::Assessor, t0() + Duration::hours(1), t0() + Duration::hours(1)).unwrap_err();
    assert_eq!(e.code(), "revoked", "{e}");
}

#[test]
fn files_of_the_wrong_kind_are_refused_by_name() {
    let b = bureau();
    let root = std::fs::read(b.root.join(authority::ROOT)).unwrap();
    let key = std::fs::read(b.root.join(authority::KEY)).unwrap();
    let crl = std::fs::read(b.root.join(authority::CRL)).unwrap();
    let (_, device) = issue(&b.city, &[Role::Assessor], 365, t0());
    let cut = &root[..root.len() / 2];
    let cases: Vec<(&str, &[u8], &str)> = vec![
        ("empty", b"", "is empty"),
        ("text", b"hello, this is not a certificate\n", "not a PEM file"),
        ("truncated", cut, "not a valid PEM file"),
        ("der", b"\x30\x82\x01\x00", "binary DER"),
        ("key as certificate", &key, "holds a"),
        ("crl as certificate", &crl, "revocation list"),
    ];
    for (what, bytes, want) in cases {
        let e = certificate::read_pem(what, bytes).unwrap_err();
        assert!(e.to_string().contains(want), "{what}: {e}");
        assert!(e.to_string().starts_with(what), "{what}: the message names the file: {e}");
    }
    let mut s = TrustStore::new();
    let e = s.add_roots_pem("device.pem", device.as_bytes()).unwrap_err();
    assert!(e.to_string().contains("not a root CA certificate"), "{e}");
    let e = s.add_crl_pem("root.pem", &root).unwrap_err();
    assert!(e.to_string().contains("not a revocation list"), "{e}");
}

#[test]
fn the_ca_key_needs_its_passphrase_and_stays_private() {
    let b = bureau();
    let req = || IssueRequest {
        subject: Subject { name: "x".into(), ..Default::default() },
        roles: vec![Role::Server],
        key: SubjectKey::NewP256,
        days: 30,
        hosts: vec!["127.0.0.1".into()],
    };
    let e = authority::issue(&b.root, "wrong passphrase!", &req(), t0()).err().unwrap();
    assert!(e.to_string().contains("wrong passphrase"), "{e}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let key = b.root.join(authority::KEY);
        assert_eq!(std::fs::metadata(&key).unwrap().permissions().mode() & 0o777, 0o600);
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
        let e = authority::issue(&b.root, PASS, &req(), t0()).err().unwrap();
        assert!(e.to_string().contains("chmod 600"), "{e}");
    }
    let tmp = tempfile::tempdir().unwrap();
    let e = authority::init(&tmp.path().join("weak"), "x", "", 1, None, "short", t0()).unwrap_err();
    assert!(e.to_string().contains("at least"), "{e}");
    let e = authority::init(&b.root, "again", "", 1, None, PASS, t0()).unwrap_err();
    assert!(e.to_string().contains("already holds a CA"), "{e}");
}

#[test]
fn an_enrollment_request_proves_the_key_and_a_tampered_one_does_not() {
    let signing = ed25519_dalek::SigningKey::from_bytes(&[9; 32]);
    let subject = Subject {
        name: "李娜".into(),
        unit: "大连市医疗保障局".into(),
        title: "主任科员".into(),
        device_id: Some("0193a3c2-7f00-7000-8000-0000000000aa".into()),
    };
    let sign = |m: &[u8]| ed25519_dalek::Signer::sign(&signing, m).to_bytes();
    let pem = authority::enrollment_request(&subject, signing.verifying_key().to_bytes(), &sign).unwrap();
    let req = authority::read_request("req.pem", pem.as_bytes()).unwrap();
    assert_eq!(req.subject, subject);
    assert_eq!(req.public_key, signing.verifying_key().to_bytes());
    // Another key's signature over the same request: refused.
    let other = ed25519_dalek::SigningKey::from_bytes(&[10; 32]);
    let forged =
        authority::enrollment_request(&subject, signing.verifying_key().to_bytes(), &|m: &[u8]| ed25519_dalek::Signer::sign(&other, m).to_bytes())
            .unwrap();
    let e = authority::read_request("forged.pem", forged.as_bytes()).unwrap_err();
    assert!(e.to_string().contains("does not verify"), "{e}");
}

/// `openssl verify` is a second implementation of chain checking: it must agree.
#[test]
fn openssl_agrees_on_issued_chains_and_revocation() {
    if std::process::Command::new("openssl").arg("version").output().is_err() {
        panic!("openssl is not installed: scripts/setup.sh installs it");
    }
    let now = Utc::now();
    let b = bureau_at(now);
    let tmp = tempfile::tempdir().unwrap();
    let issue_now = |ca: &Path, name: &str| {
        let req = IssueRequest {
            subject: Subject { name: name.into(), ..Default::default() },
            roles: vec![Role::Server],
            key: SubjectKey::NewP256,
            days: 30,
            hosts: vec!["127.0.0.1".into()],
        };
        let issued = authority::issue(ca, PASS, &req, now).unwrap();
        let path = tmp.path().join(format!("{name}.pem"));
        std::fs::write(&path, &issued.chain_pem).unwrap();
        (path, issued.info.serial)
    };
    let (good, _) = issue_now(&b.city, "good");
    let (revoked, serial) = issue_now(&b.city, "revoked");
    let (foreign, _) = issue_now(&b.other, "foreign");
    authority::revoke(&b.city, PASS, &serial, "key-compromise", None, now).unwrap();
    let crls = tmp.path().join("crls.pem");
    let both = [std::fs::read(b.root.join(authority::CRL)).unwrap(), std::fs::read(b.city.join(authority::CRL)).unwrap()].concat();
    std::fs::write(&crls, both).unwrap();
    let verify = |cert: &Path| {
        std::process::Command::new("openssl")
            .args(["verify", "-crl_check_all", "-CRLfile"])
            .arg(&crls)
            .arg("-CAfile")
            .arg(b.root.join(authority::ROOT))
            .arg("-untrusted")
            .arg(b.city.join(authority::CHAIN))
            .arg(cert)
            .output()
            .unwrap()
    };
    let ok = verify(&good);
    assert!(ok.status.success(), "{}", String::from_utf8_lossy(&ok.stderr));
    for (what, path, want) in [("revoked", &revoked, "revoked"), ("foreign", &foreign, "unable to get")] {
        let out = verify(path);
        let text = String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success() && text.contains(want), "{what}: {text}");
    }
    // And ours agrees on each.
    let store = trusting(&b, &[&b.root, &b.city]);
    let chain = |p: &Path| certificate::read_pem("c", &std::fs::read(p).unwrap()).unwrap();
    assert!(store.check(&chain(&good), Role::Server, now, now).is_ok());
    assert_eq!(store.check(&chain(&revoked), Role::Server, now + Duration::seconds(1), now).unwrap_err().code(), "revoked");
    assert_eq!(store.check(&chain(&foreign), Role::Server, now, now).unwrap_err().code(), "unknown_issuer");
    // openssl also opens the encrypted CA key with the passphrase.
    let out = std::process::Command::new("openssl")
        .args(["pkey", "-noout", "-passin", &format!("pass:{PASS}"), "-in"])
        .arg(b.root.join(authority::KEY))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}
