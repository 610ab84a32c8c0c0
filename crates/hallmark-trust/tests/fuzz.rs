//! Mutation property test: certificate, CRL and request parsing never panics or hangs, whatever
//! bytes arrive (a hostile bundle carries certificates; a tablet imports files from a folder).

use std::time::{Duration, Instant};

use chrono::{TimeZone, Utc};
use hallmark_trust::authority::{self, IssueRequest, Subject, SubjectKey};
use hallmark_trust::certificate::{self, Role};
use hallmark_trust::TrustStore;
use proptest::prelude::*;

const PASS: &str = "correct-horse-battery";

struct Samples {
    chain_pem: Vec<u8>,
    chain_der: Vec<u8>,
    crl_pem: Vec<u8>,
    root_pem: Vec<u8>,
    request_pem: Vec<u8>,
}

fn samples() -> &'static Samples {
    static S: std::sync::OnceLock<Samples> = std::sync::OnceLock::new();
    S.get_or_init(|| {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("ca");
        let t0 = Utc.with_ymd_and_hms(2026, 3, 1, 8, 0, 0).unwrap();
        authority::init(&dir, "辽宁省医疗保障局", "", 10, None, PASS, t0).unwrap();
        let key = ed25519_dalek::SigningKey::from_bytes(&[3; 32]);
        let subject = Subject { name: "张伟".into(), unit: "单位".into(), title: "科员".into(), device_id: None };
        let req = IssueRequest {
            subject: subject.clone(),
            roles: vec![Role::Assessor, Role::Lead],
            key: SubjectKey::Ed25519(key.verifying_key().to_bytes()),
            days: 365,
            hosts: vec![],
        };
        let issued = authority::issue(&dir, PASS, &req, t0).unwrap();
        let chain_der = certificate::read_pem("c", issued.chain_pem.as_bytes()).unwrap()[0].as_ref().to_vec();
        let request_pem =
            authority::enrollment_request(&subject, key.verifying_key().to_bytes(), &|m: &[u8]| ed25519_dalek::Signer::sign(&key, m).to_bytes())
                .unwrap();
        Samples {
            chain_pem: issued.chain_pem.into_bytes(),
            chain_der,
            crl_pem: std::fs::read(dir.join(authority::CRL)).unwrap(),
            root_pem: std::fs::read(dir.join(authority::ROOT)).unwrap(),
            request_pem: request_pem.into_bytes(),
        }
    })
}

#[derive(Debug, Clone)]
enum Mutation {
    Flip(usize, u8),
    Truncate(usize),
    Insert(usize, Vec<u8>),
    Remove(usize, usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), 1u8..=255).prop_map(|(i, x)| Mutation::Flip(i, x)),
        any::<usize>().prop_map(Mutation::Truncate),
        (any::<usize>(), prop::collection::vec(any::<u8>(), 1..40)).prop_map(|(i, b)| Mutation::Insert(i, b)),
        (any::<usize>(), 1usize..64).prop_map(|(i, n)| Mutation::Remove(i, n)),
    ]
}

fn apply(bytes: &[u8], ms: &[Mutation]) -> Vec<u8> {
    let mut b = bytes.to_vec();
    for m in ms {
        if b.is_empty() {
            break;
        }
        match m {
            Mutation::Flip(i, x) => {
                let i = i % b.len();
                b[i] ^= x;
            }
            Mutation::Truncate(i) => b.truncate(i % b.len()),
            Mutation::Insert(i, ins) => {
                let i = i % (b.len() + 1);
                b.splice(i..i, ins.iter().copied());
            }
            Mutation::Remove(i, n) => {
                let i = i % b.len();
                let end = (i + n).min(b.len());
                b.drain(i..end);
            }
        }
    }
    b
}

/// Every reader over the mutated bytes; returns nothing — only a panic or a hang fails.
fn read_everything(pem: &[u8], der: &[u8]) {
    let at = Utc.with_ymd_and_hms(2026, 6, 1, 0, 0, 0).unwrap();
    let _ = certificate::info("der", der);
    if let Ok(chain) = certificate::read_pem("pem", pem) {
        let mut store = TrustStore::new();
        store.add_roots_pem("root", &samples().root_pem).unwrap();
        let _ = store.add_crl_pem("crl", &samples().crl_pem);
        let _ = store.check(&chain, Role::Assessor, at, at);
    }
    let mut store = TrustStore::new();
    let _ = store.add_roots_pem("root", pem);
    let _ = store.add_crl_pem("crl", pem);
    let _ = authority::read_request("req", pem);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn mutated_certificates_crls_and_requests_never_panic_or_hang(which in 0usize..4, ms in prop::collection::vec(mutation(), 1..4)) {
        let s = samples();
        let source: &[u8] = match which {
            0 => &s.chain_pem,
            1 => &s.crl_pem,
            2 => &s.root_pem,
            _ => &s.request_pem,
        };
        let pem = apply(source, &ms);
        let der = apply(&s.chain_der, &ms);
        let start = Instant::now();
        read_everything(&pem, &der);
        prop_assert!(start.elapsed() < Duration::from_secs(2), "one input took {:?}", start.elapsed());
    }
}
