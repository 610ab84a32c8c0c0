//! Test support for the durability test: records observations and photos into a store as
//! fast as it can, printing "ack …" after each write has returned (is durable), until killed.
//!
//! Usage: hallmark-writer DATA_DIR SEED

use std::io::Write;

use hallmark_store::{NewInspection, Store};
use serde_json::json;

fn main() {
    let mut args = std::env::args().skip(1);
    let dir = std::path::PathBuf::from(args.next().expect("DATA_DIR"));
    let seed: u64 = args.next().and_then(|s| s.parse().ok()).unwrap_or(1);
    let now = |n: u64| format!("2026-11-20T09:{:02}:{:02}.{:03}Z", (n / 60) % 60, n % 60, n % 1000);
    let mut store = Store::open(&dir, &now(0)).expect("open store");
    let id = match store.inspection_ids().expect("ids").into_iter().next() {
        Some(id) => id,
        None => store
            .create_inspection(
                &NewInspection {
                    rubric_text: hallmark_core::builtin::JIANGSU.to_string(),
                    site_name: "耐久测试".into(),
                    site_level: "township".into(),
                    visited_on: "2026-11-20".into(),
                    assessor_name: "测试".into(),
                    ..Default::default()
                },
                &now(0),
            )
            .expect("create"),
    };
    let out = std::io::stdout();
    let mut out = out.lock();
    writeln!(out, "inspection {id}").unwrap();
    out.flush().unwrap();
    let keys = ["3.1.chs_nonstandard", "3.2.signs_nonstandard", "6.1.nonstandard", "9.3.late_reports"];
    let mut n = seed * 1_000_000;
    loop {
        n += 1;
        if (n - seed * 1_000_000) % 4 == 1 {
            let photo = small_jpeg(n);
            let e = store.attach_photo(&id, "1.2", &photo, &format!("p{n}"), "测试", &now(n)).expect("attach");
            writeln!(out, "photo {} {}", e.id, e.photo.sha256).unwrap();
        } else {
            let key = keys[(n % keys.len() as u64) as usize];
            let value = (n % 9) as i64;
            let e = store.record(&id, key, Some(json!(value)), "测试", &now(n)).expect("record");
            writeln!(out, "ack {} {key} {value}", e.id).unwrap();
        }
        out.flush().unwrap();
    }
}

fn small_jpeg(n: u64) -> Vec<u8> {
    let mut img = image::RgbImage::new(400, 300);
    for (x, y, p) in img.enumerate_pixels_mut() {
        *p = image::Rgb([(x as u64 * 7 + n) as u8, (y as u64 * 5 + n / 3) as u8, (n % 251) as u8]);
    }
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 80).encode_image(&img).unwrap();
    out
}
