//! The report benchmark (scripts/bench-report.sh): a Jiangsu inspection (32 items) by 5
//! assessors with 60 photos each (camera-like noisy JPEGs, so thumbnails weigh what real ones
//! do), then the report — model, PDF, seal — timed and weighed. Goal: < 2 s and < 15 MB.
//! `hallmark-bench-report WORK_DIR [PHOTOS_PER_ASSESSOR]`

use std::path::PathBuf;
use std::time::Instant;

use hallmark_report::{model, pdf, seal};
use hallmark_store::{NewInspection, Store};

const EXAMPLE: &str = include_str!("../../../../examples/jiangsu-complete.json");

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let work = PathBuf::from(&args[1]);
    let per: usize = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(60);
    let _ = std::fs::remove_dir_all(&work);
    let now = "2026-11-20T09:00:00.000Z";
    let mut store = Store::open(&work, now).expect("store");
    let example: serde_json::Value = serde_json::from_str(EXAMPLE).expect("example");
    let items: Vec<String> =
        hallmark_core::rubric::Rubric::load("j", hallmark_core::builtin::JIANGSU).unwrap().item.iter().map(|i| i.id.clone()).collect();
    eprintln!("preparing 5 assessors × {per} photos…");
    for a in 0..5u32 {
        let name = format!("评价人员{}", a + 1);
        let id = store
            .create_inspection(
                &NewInspection {
                    rubric_text: hallmark_core::builtin::JIANGSU.into(),
                    site_name: "基准服务站".into(),
                    site_level: "township".into(),
                    visited_on: "2026-11-20".into(),
                    assessor_name: name.clone(),
                    ..Default::default()
                },
                now,
            )
            .unwrap();
        for (k, v) in example["answers"].as_object().unwrap() {
            store.record(&id, k, Some(v.clone()), &name, now).unwrap();
        }
        let photos: Vec<Vec<u8>> = (0..per).map(|p| hallmark_store::demo::camera_like(1600, 1200, a * 1000 + p as u32, (7, 5, 9))).collect();
        let batch: Vec<(&str, &[u8], &str)> = photos.iter().enumerate().map(|(p, b)| (items[p % items.len()].as_str(), b.as_slice(), "")).collect();
        store.attach_photos(&id, &batch, &name, now).unwrap();
        store.finish(&id, now).unwrap();
    }
    let fonts = pdf::load_fonts().expect("font");
    let t = Instant::now();
    let group = model::pick_group(&store, None, None).unwrap();
    let report = model::build(&store, &group, &model::Details::default(), "2026-11-20").unwrap();
    let assets = pdf::Assets::collect(&report, |s| store.thumb_path(s), |s| store.signature_path(s)).unwrap();
    let bytes = pdf::render(&report, assets, fonts).unwrap();
    let sidecar = seal::seal(&report, &bytes, store.device_key(), chrono::Utc::now());
    let out = work.join("report.pdf");
    seal::write(&out, &bytes, &sidecar).unwrap();
    let secs = t.elapsed().as_secs_f64();
    println!(
        "report for {} items × 5 assessors × {per} photos: {:.2} s (model + PDF + seal + durable write), {:.1} MB  (goal < 2 s and < 15 MB)",
        report.items.len(),
        secs,
        bytes.len() as f64 / 1_048_576.0
    );
}
