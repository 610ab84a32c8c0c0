//! The report benchmark (scripts/bench-report.sh): a Jiangsu inspection (32 items) by 5
//! assessors with 60 photos each (camera-like noisy JPEGs, so thumbnails weigh what real ones
//! do), then the report — model, PDF, seal — timed and weighed. Goal: < 2 s and < 15 MB.
//! `hallmark-bench-report WORK_DIR [PHOTOS_PER_ASSESSOR]`

use std::path::PathBuf;
use std::time::Instant;

use hallmark_report::{model, pdf, seal};
use hallmark_store::{NewInspection, Store};
use image::{Rgb, RgbImage};

const EXAMPLE: &str = include_str!("../../../../examples/jiangsu-complete.json");

fn noisy_photo(seed: u32) -> Vec<u8> {
    let mut state = seed.wrapping_mul(2_654_435_761).wrapping_add(1);
    let img = RgbImage::from_fn(1600, 1200, |x, y| {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        let noise = (state % 29) as i32 - 14;
        let c = |base: i32| (base + noise).clamp(0, 255) as u8;
        Rgb([c((x / 7) as i32 % 256), c((y / 5) as i32 % 256), c(((x + y + seed) / 9) as i32 % 256)])
    });
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 88).encode_image(&img).expect("encode");
    out
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let work = PathBuf::from(&args[1]);
    let per: usize = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(60);
    let _ = std::fs::remove_dir_all(&work);
    let now = "2026-11-20T09:00:00.000Z";
    let mut store = Store::open(&work, now).expect("store");
    let example: serde_json::Value = serde_json::from_str(EXAMPLE).expect("example");
    let items: Vec<String> = hallmark_core::rubric::Rubric::load("j", hallmark_core::builtin::JIANGSU).unwrap().item.iter().map(|i| i.id.clone()).collect();
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
        let photos: Vec<Vec<u8>> = (0..per).map(|p| noisy_photo(a * 1000 + p as u32)).collect();
        let batch: Vec<(&str, &[u8], &str)> = photos.iter().enumerate().map(|(p, b)| (items[p % items.len()].as_str(), b.as_slice(), "")).collect();
        store.attach_photos(&id, &batch, &name, now).unwrap();
        store.finish(&id, now).unwrap();
    }
    let fonts = pdf::load_fonts().expect("font");
    let t = Instant::now();
    let group = model::pick_group(&store, None, None).unwrap();
    let report = model::build(&store, &group, &model::Details::default()).unwrap();
    let assets = pdf::Assets::collect(&report, |s| store.thumb_path(s), |s| store.signature_path(s)).unwrap();
    let bytes = pdf::render(&report, assets, fonts).unwrap();
    let sidecar = seal::seal(&report, &bytes, store.device_key());
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
