//! The demo inspection a newcomer sees first: a partly filled Jiangsu inspection with photos.

use image::{Rgb, RgbImage};
use serde_json::Value;

use crate::{NewInspection, Result, Store};

pub const JIANGSU_RUBRIC: &str = hallmark_core::builtin::JIANGSU;
const JIANGSU_EXAMPLE: &str = include_str!("../../../examples/jiangsu-complete.json");

/// Adds the demo inspection unless the store already has one. Returns its id.
pub fn seed(store: &mut Store, now: &str) -> Result<String> {
    if let Some(id) = store.inspection_ids()?.into_iter().last() {
        return Ok(id);
    }
    let id = store.create_inspection(
        &NewInspection {
            rubric_text: JIANGSU_RUBRIC.to_string(),
            site_name: "南京市江宁区秣陵街道医保服务站（演示）".into(),
            site_address: "南京市江宁区秣陵街道胜太路88号".into(),
            site_level: "township".into(),
            visited_on: "2026-11-18".into(),
            assessor_name: "陈静".into(),
            assessor_unit: "南京市医疗保障局".into(),
            assessor_title: "科员".into(),
            assessor_phone: "025-00000000".into(),
        },
        now,
    )?;
    let example: Value = serde_json::from_str(JIANGSU_EXAMPLE).expect("example is JSON");
    // The first two areas answered; the third left for the newcomer to fill in.
    let answers = example["answers"].as_object().expect("answers");
    for (key, value) in answers {
        let indicator: u32 = key.split('.').next().and_then(|n| n.parse().ok()).unwrap_or(99);
        if indicator <= 9 {
            store.record(&id, key, Some(value.clone()), "陈静", now)?;
        }
    }
    for (item, caption, hue) in [("1.2", "服务大厅全景", 0u8), ("2.1", "1号窗口办公设施", 1), ("3.1", "CHS标识（不规范处）", 2)] {
        store.attach_photo(&id, item, &demo_photo(hue), caption, "陈静", now)?;
    }
    Ok(id)
}

/// A small generated JPEG standing in for a camera photo.
pub fn demo_photo(variant: u8) -> Vec<u8> {
    let (w, h) = (1024u32, 768u32);
    let mut img = RgbImage::new(w, h);
    for (x, y, p) in img.enumerate_pixels_mut() {
        let fx = x * 255 / w;
        let fy = y * 255 / h;
        let base = match variant % 3 {
            0 => [200 - (fy / 3) as u8, 220 - (fy / 4) as u8, 235],
            1 => [235, 225 - (fx / 5) as u8, 200],
            _ => [210, 235 - (fy / 4) as u8, 215 - (fx / 6) as u8],
        };
        // A counter, a window and a sign, drawn as blocks.
        let counter = y > h * 6 / 10 && y < h * 8 / 10 && x > w / 10 && x < w * 9 / 10;
        let window = y > h / 4 && y < h / 2 && (x / 160) % 2 == 0;
        let sign = y > h / 10 && y < h / 5 && x > w * 3 / 8 && x < w * 5 / 8;
        *p = if sign {
            Rgb([0, 92, 84])
        } else if counter {
            Rgb([120, 90, 60])
        } else if window {
            Rgb([90, 130, 170])
        } else {
            Rgb(base)
        };
    }
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 85).encode_image(&img).expect("encode demo photo");
    out
}
