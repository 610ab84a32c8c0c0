//! The photo ingest benchmark's hallmark side (used by scripts/bench-photos.sh):
//! `hallmark-bench-photos PHOTOS_DIR STORE_DIR [N]` generates N (default 60) 12 MP photos into
//! PHOTOS_DIR once (the same `photo-NNN.jpg` files scripts/bench-bundles.sh uses), then times
//! reading them and attaching them (checks, EXIF, thumbnail, hash, durable store) to one
//! inspection in a fresh store at STORE_DIR, 16 photos per `attach_photos` call, as the app
//! does. Prints the milliseconds taken.

use std::io::Read;
use std::path::PathBuf;
use std::time::Instant;

use hallmark_store::{demo, NewInspection, Store};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 3 {
        eprintln!("usage: hallmark-bench-photos PHOTOS_DIR STORE_DIR [N]");
        std::process::exit(2);
    }
    let (photos, store_dir) = (PathBuf::from(&args[1]), PathBuf::from(&args[2]));
    let n: u32 = args.get(3).and_then(|a| a.parse().ok()).unwrap_or(60);
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
    let _ = std::fs::remove_dir_all(&store_dir);
    let now = "2026-11-20T09:00:00.000Z";
    let mut store = Store::open(&store_dir, now).expect("store");
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
    // The read buffers are reused from batch to batch, as a receiving app would.
    let mut bytes: Vec<Vec<u8>> = vec![Vec::new(); 16];
    let t = Instant::now();
    for chunk in paths.chunks(16) {
        for (p, b) in chunk.iter().zip(bytes.iter_mut()) {
            b.clear();
            std::fs::File::open(p).and_then(|mut f| f.read_to_end(b)).expect("read photo");
        }
        let batch: Vec<(&str, &[u8], &str)> = bytes[..chunk.len()].iter().map(|b| ("1.2", b.as_slice(), "")).collect();
        store.attach_photos(&id, &batch, "基准", now).expect("attach");
    }
    println!("{}", t.elapsed().as_millis());
}
