//! Makes the bundle benchmark's tablet (used by scripts/bench-bundles.sh):
//! `hallmark-bench-tablet PHOTOS_DIR TABLET_DIR [N]` generates N (default 200) 12 MP photos
//! into PHOTOS_DIR once, records one inspection with all of them attached in TABLET_DIR, and
//! prints its id.

use std::path::PathBuf;

use hallmark_store::{demo, NewInspection, Store};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (photos, tablet) = (PathBuf::from(&args[1]), PathBuf::from(&args[2]));
    let n: u32 = args.get(3).and_then(|a| a.parse().ok()).unwrap_or(200);
    std::fs::create_dir_all(&photos).expect("photos folder");
    let paths: Vec<PathBuf> = (0..n).map(|i| photos.join(format!("photo-{i:03}.jpg"))).collect();
    let missing: Vec<(u32, &PathBuf)> = paths.iter().enumerate().filter(|(_, p)| !p.exists()).map(|(i, p)| (i as u32, p)).collect();
    if !missing.is_empty() {
        eprintln!("generating {} 12 MP test photos in {} (once)…", missing.len(), photos.display());
        std::thread::scope(|s| {
            for chunk in missing.chunks(missing.len().div_ceil(2)) {
                s.spawn(move || {
                    for (seed, p) in chunk {
                        std::fs::write(p, demo::photo_12mp(*seed)).expect("write photo");
                    }
                });
            }
        });
    }
    let _ = std::fs::remove_dir_all(&tablet);
    let now = "2026-11-20T09:00:00.000Z";
    let mut store = Store::open(&tablet, now).expect("tablet store");
    let id = store
        .create_inspection(
            &NewInspection {
                rubric_text: hallmark_core::builtin::JIANGSU.into(),
                site_name: "基准服务站".into(),
                site_level: "township".into(),
                visited_on: "2026-11-20".into(),
                assessor_name: "基准".into(),
                ..Default::default()
            },
            now,
        )
        .expect("inspection");
    let bytes: Vec<Vec<u8>> = paths.iter().map(|p| std::fs::read(p).expect("read photo")).collect();
    for chunk in bytes.chunks(20) {
        let batch: Vec<(&str, &[u8], &str)> = chunk.iter().map(|b| ("1.2", b.as_slice(), "")).collect();
        store.attach_photos(&id, &batch, "基准", now).expect("attach");
    }
    println!("{id}");
}
