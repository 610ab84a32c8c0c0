//! SIGKILL a writer at random moments, 200 times, while it records observations and photos.
//! After each kill: `PRAGMA integrity_check` is ok, every write the writer acknowledged is
//! present, the answers cache equals the log's derived state, every evidence row points at a
//! complete photo file (hash matches), and no temp file remains after the store reopens.

use std::collections::BTreeSet;
use std::io::Read;
use std::process::{Command, Stdio};
use std::time::Duration;

use hallmark_store::{derive_answers, photo::sha256_hex, Store};

const KILLS: u64 = 200;

#[test]
fn killed_writers_lose_nothing_they_acknowledged() {
    let dir = tempfile::tempdir().unwrap();
    let mut acked_events: BTreeSet<String> = BTreeSet::new();
    let mut acked_photos: BTreeSet<(String, String)> = BTreeSet::new();
    let mut rng: u64 = 0x9E37_79B9_7F4A_7C15;
    for round in 0..KILLS {
        let mut child = Command::new(env!("CARGO_BIN_EXE_hallmark-writer"))
            .arg(dir.path())
            .arg((round + 1).to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        std::thread::sleep(Duration::from_millis(20 + rng % 250));
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        let mut out = String::new();
        child.stdout.take().unwrap().read_to_string(&mut out).unwrap();
        for line in out.lines() {
            let parts: Vec<&str> = line.split(' ').collect();
            match parts.as_slice() {
                ["ack", id, ..] => {
                    acked_events.insert(id.to_string());
                }
                ["photo", id, sha] => {
                    acked_photos.insert((id.to_string(), sha.to_string()));
                }
                _ => {}
            }
        }

        let mut store = Store::open(dir.path(), "2026-11-20T10:00:00Z").unwrap();
        assert_eq!(store.integrity_check().unwrap(), "ok", "round {round}");
        let Some(id) = store.inspection_ids().unwrap().into_iter().next() else { continue };
        let events = store.events(&id).unwrap();
        let stored: BTreeSet<&str> = events.iter().map(|e| e.id.as_str()).collect();
        for a in &acked_events {
            assert!(stored.contains(a.as_str()), "round {round}: acknowledged event {a} is lost");
        }
        assert_eq!(store.answers(&id).unwrap(), derive_answers(&events), "round {round}: cache differs from the log");
        let evidence = store.evidence(&id).unwrap();
        let evidence_ids: BTreeSet<&str> = evidence.iter().map(|e| e.id.as_str()).collect();
        for (eid, _) in &acked_photos {
            assert!(evidence_ids.contains(eid.as_str()), "round {round}: acknowledged photo {eid} is lost");
        }
        for e in &evidence {
            let bytes = std::fs::read(store.photo_path(&e.photo.sha256)).unwrap_or_else(|_| panic!("round {round}: orphan row {}", e.id));
            assert_eq!(sha256_hex(&bytes), e.photo.sha256, "round {round}: partial photo file");
            assert!(store.thumb_path(&e.photo.sha256).exists(), "round {round}: missing thumbnail");
        }
        let leftovers = walk(&dir.path().join("photos")).into_iter().chain(walk(&dir.path().join("thumbs"))).filter(|p| p.contains(".tmp-")).count();
        assert_eq!(leftovers, 0, "round {round}: temp files remain after reopening");
        store.rebuild_answers(&id).unwrap();
    }
    assert!(acked_events.len() > 200, "the writer must have acknowledged writes: {}", acked_events.len());
    assert!(!acked_photos.is_empty());
    eprintln!("{KILLS} kills: {} acknowledged events and {} photos, none lost", acked_events.len(), acked_photos.len());
}

fn walk(dir: &std::path::Path) -> Vec<String> {
    let mut out = Vec::new();
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(walk(&p));
            } else {
                out.push(p.display().to_string());
            }
        }
    }
    out
}
