//! `hallmark-bench-sync DEMO_DIR WORK URL [TABLETS] [BUNDLES_EACH]`: the sync load figure of
//! issue #11 — TABLETS enrolled tablets (default 50) each push BUNDLES_EACH small bundles
//! (default 20) concurrently to a running `hallmark serve` at URL; prints bundles/s and the
//! p50/p99 latency of one whole push (offer, files, commit with its signed receipt). Run by
//! scripts/bench-sync.sh, which starts the server.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use hallmark_store::demo::DemoBureau;
use hallmark_store::{NewInspection, Store};
use hallmark_sync::client::{Client, DeviceSigner};

const ANSWERS: &str = include_str!("../../../../examples/jiangsu-complete.json");

fn stamp(base: chrono::DateTime<chrono::Utc>, secs: i64) -> String {
    (base + chrono::Duration::seconds(secs)).to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// One enrolled tablet with `n` bundles of one inspection, each a few events longer.
fn tablet(bureau: &DemoBureau, dir: &Path, i: usize, n: usize) -> Vec<PathBuf> {
    let base = chrono::Utc::now() - chrono::Duration::hours(2);
    let mut store = Store::open(dir, &stamp(base, 0)).expect("tablet store");
    let name = format!("基准{i:02}");
    bureau.enroll(&store, &name, "基准单位", "", &[hallmark_trust::Role::Assessor]).expect("enroll");
    let id = store
        .create_inspection(
            &NewInspection {
                rubric_text: hallmark_core::builtin::JIANGSU.into(),
                site_name: format!("基准服务站{i:02}"),
                site_level: "township".into(),
                visited_on: base.date_naive().to_string(),
                assessor_name: name.clone(),
                ..Default::default()
            },
            &stamp(base, 1),
        )
        .expect("inspection");
    let doc: serde_json::Value = serde_json::from_str(ANSWERS).expect("example");
    let answers: Vec<(String, serde_json::Value)> =
        doc["answers"].as_object().expect("answers").iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    let mut out = Vec::new();
    for b in 0..n {
        let (k, v) = &answers[b % answers.len()];
        store.record(&id, k, Some(v.clone()), &name, &stamp(base, 10 + b as i64)).expect("record");
        let file = dir.join(format!("b{b:02}.hallmark"));
        store.export_bundle(&id, &file, &stamp(base, 11 + b as i64), &mut |_, _| {}).expect("export");
        out.push(file);
    }
    out
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (demo, work, url) = (PathBuf::from(&args[1]), PathBuf::from(&args[2]), args[3].clone());
    let tablets: usize = args.get(4).and_then(|a| a.parse().ok()).unwrap_or(50);
    let each: usize = args.get(5).and_then(|a| a.parse().ok()).unwrap_or(20);
    let root = std::fs::read(demo.join("bureau-root.pem")).expect("demo root");
    let bureau = DemoBureau { ca_dir: demo.join("bureau-ca"), root_pem: root.clone(), now: chrono::Utc::now() - chrono::Duration::hours(3) };
    let t0 = Instant::now();
    let sets: Vec<(PathBuf, Vec<PathBuf>)> = (0..tablets)
        .map(|i| {
            let dir = work.join(format!("tablet-{i:02}"));
            let files = tablet(&bureau, &dir, i, each);
            (dir, files)
        })
        .collect();
    eprintln!("{tablets} enrolled tablets with {each} bundles each made in {:.1} s", t0.elapsed().as_secs_f64());
    let root = String::from_utf8(root).expect("PEM");
    let start = Instant::now();
    let latencies: Vec<(Duration, Duration)> = std::thread::scope(|s| {
        let handles: Vec<_> = sets
            .iter()
            .map(|(dir, files)| {
                let (root, url) = (root.clone(), url.clone());
                s.spawn(move || {
                    let store = Store::open(dir, &stamp(chrono::Utc::now(), 0)).expect("tablet");
                    let mut trust = hallmark_trust::TrustStore::new();
                    trust.add_roots_pem("root", root.as_bytes()).expect("root");
                    let client = Client::new(&url, &[root], trust, DeviceSigner::of(store.device_key())).expect("connect");
                    client.present(&store.device_certificates().expect("certs").expect("enrolled")).expect("present");
                    let mut lat = Vec::new();
                    for f in files {
                        let t = Instant::now();
                        let p = client.push_file(f, &mut |_, _| {}).expect("push");
                        assert!(!p.already_had);
                        lat.push((t.elapsed(), p.commit_time));
                    }
                    lat
                })
            })
            .collect();
        handles.into_iter().flat_map(|h| h.join().expect("client thread")).collect()
    });
    let wall = start.elapsed();
    let sorted = |pick: fn(&(Duration, Duration)) -> Duration| {
        let mut ms: Vec<f64> = latencies.iter().map(|l| pick(l).as_secs_f64() * 1000.0).collect();
        ms.sort_by(|a, b| a.total_cmp(b));
        ms
    };
    let pct = |ms: &[f64], p: f64| ms[((ms.len() as f64 * p).ceil() as usize).clamp(1, ms.len()) - 1];
    let (push, commit) = (sorted(|l| l.0), sorted(|l| l.1));
    println!(
        "{} bundles from {tablets} concurrent clients in {:.1} s: {:.0} bundles/s; commit latency (the commit request: import + signed receipt) p50 {:.0} ms, p99 {:.0} ms (goal p99 < 250 ms); whole push (offer + file + commit) p50 {:.0} ms, p99 {:.0} ms",
        push.len(),
        wall.as_secs_f64(),
        push.len() as f64 / wall.as_secs_f64(),
        pct(&commit, 0.50),
        pct(&commit, 0.99),
        pct(&push, 0.50),
        pct(&push, 0.99),
    );
}
