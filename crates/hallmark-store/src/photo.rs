//! Photo evidence: checks a JPEG, reads its EXIF capture time and orientation, and makes a
//! 320 px thumbnail with reduced-size (DCT-scaled) decoding (libjpeg-turbo; jpeg-decoder for CMYK). The original bytes are never
//! changed; the files are written by [`crate::durable`], so none is ever partial.

use std::io::Cursor;

pub use hallmark_core::hex::sha256_hex;
use image::{imageops, DynamicImage, RgbImage};
use serde::Serialize;

pub const THUMBNAIL_PX: u16 = 320;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PhotoMeta {
    pub sha256: String,
    pub size: u64,
    pub width: u32,
    pub height: u32,
    /// EXIF orientation 1..=8; 1 when the photo has none.
    pub orientation: u16,
    /// EXIF DateTimeOriginal as the camera wrote it ("2026-11-20 10:21:03").
    pub taken_at: Option<String>,
}

/// Checks `bytes` is a whole JPEG and makes its thumbnail. The error says what is wrong.
pub fn examine(bytes: &[u8]) -> Result<(PhotoMeta, Vec<u8>), String> {
    if bytes.len() < 4 || bytes[..3] != [0xFF, 0xD8, 0xFF] {
        let what = if bytes.starts_with(b"\x89PNG") {
            "a PNG image"
        } else if bytes.is_empty() {
            "an empty file"
        } else {
            "not an image"
        };
        return Err(format!("the file is {what}, not a JPEG photo (take the photo with the camera, or pick a .jpg file)"));
    }
    let mut end = bytes.len();
    while end > 2 && bytes[end - 1] == 0 {
        end -= 1;
    }
    if bytes[..end].len() < 4 || bytes[end - 2..end] != [0xFF, 0xD9] {
        return Err("the JPEG is truncated: its end marker is missing (copy the photo again, or take it again)".into());
    }
    let (orientation, taken_at) = exif_fields(bytes);

    let (width, height, rgb) = match decode_scaled_turbo(bytes) {
        Ok(x) => x,
        // libjpeg-turbo cannot convert CMYK to RGB: jpeg-decoder can.
        Err(_) => decode_scaled_pure(bytes)?,
    };
    let (sw, sh) = (rgb.width(), rgb.height());
    let (tw, th) = fit(sw, sh, u32::from(THUMBNAIL_PX));
    let small = imageops::resize(&rgb, tw, th, imageops::FilterType::Triangle);
    let oriented = orient(DynamicImage::ImageRgb8(small), orientation);
    let mut thumb = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut thumb, 80)
        .encode_image(&oriented)
        .map_err(|e| format!("cannot encode the thumbnail: {e}"))?;
    let meta = PhotoMeta { sha256: sha256_hex(bytes), size: bytes.len() as u64, width, height, orientation, taken_at };
    Ok((meta, thumb))
}

/// Decodes with libjpeg-turbo at the smallest DCT scale (1/8, 1/4, 1/2, 1) whose long side is
/// still >= the thumbnail. Returns the full size and the scaled pixels.
fn decode_scaled_turbo(bytes: &[u8]) -> Result<(u32, u32, RgbImage), String> {
    let mut d = turbojpeg::Decompressor::new().map_err(|e| e.to_string())?;
    let header = d.read_header(bytes).map_err(|e| format!("the JPEG cannot be read: {e} (take the photo again)"))?;
    let (w, h) = (header.width, header.height);
    let long = w.max(h);
    let denom = [8usize, 4, 2, 1].into_iter().find(|d| long.div_ceil(*d) >= usize::from(THUMBNAIL_PX)).unwrap_or(1);
    let (sw, sh) = (w.div_ceil(denom), h.div_ceil(denom));
    let mut image = turbojpeg::Image { pixels: vec![0u8; sw * sh * 3], width: sw, pitch: sw * 3, height: sh, format: turbojpeg::PixelFormat::RGB };
    d.decompress(bytes, image.as_deref_mut()).map_err(|e| format!("the JPEG is damaged: {e} (take the photo again)"))?;
    let rgb = RgbImage::from_raw(sw as u32, sh as u32, image.pixels).ok_or("the JPEG's pixel data is short (take the photo again)")?;
    Ok((w as u32, h as u32, rgb))
}

/// The pure-Rust path (jpeg-decoder, DCT-scaled too), for what libjpeg-turbo will not convert.
fn decode_scaled_pure(bytes: &[u8]) -> Result<(u32, u32, RgbImage), String> {
    let mut decoder = jpeg_decoder::Decoder::new(Cursor::new(bytes));
    decoder.read_info().map_err(|e| format!("the JPEG cannot be read: {e} (take the photo again)"))?;
    let info = decoder.info().ok_or("the JPEG has no image header (take the photo again)")?;
    let (width, height) = (u32::from(info.width), u32::from(info.height));
    let (sw, sh) = decoder.scale(THUMBNAIL_PX, THUMBNAIL_PX).map_err(|e| format!("the JPEG cannot be scaled: {e}"))?;
    let pixels = decoder.decode().map_err(|e| format!("the JPEG is damaged: {e} (take the photo again)"))?;
    let info = decoder.info().expect("decoded");
    Ok((width, height, to_rgb(&pixels, u32::from(sw), u32::from(sh), info.pixel_format)?))
}

fn fit(w: u32, h: u32, max: u32) -> (u32, u32) {
    if w <= max && h <= max {
        return (w.max(1), h.max(1));
    }
    if w >= h {
        (max, (h * max / w).max(1))
    } else {
        ((w * max / h).max(1), max)
    }
}

fn to_rgb(pixels: &[u8], w: u32, h: u32, format: jpeg_decoder::PixelFormat) -> Result<RgbImage, String> {
    use jpeg_decoder::PixelFormat::*;
    let rgb: Vec<u8> = match format {
        RGB24 => pixels.to_vec(),
        L8 => pixels.iter().flat_map(|&l| [l, l, l]).collect(),
        L16 => pixels.chunks_exact(2).flat_map(|c| [c[0], c[0], c[0]]).collect(),
        CMYK32 => pixels
            .chunks_exact(4)
            .flat_map(|c| {
                let k = u16::from(255 - c[3]);
                let f = |v: u8| ((u16::from(255 - v) * k) / 255) as u8;
                [f(c[0]), f(c[1]), f(c[2])]
            })
            .collect(),
    };
    RgbImage::from_raw(w, h, rgb).ok_or_else(|| "the JPEG's pixel data is short (take the photo again)".to_string())
}

fn orient(img: DynamicImage, orientation: u16) -> DynamicImage {
    match orientation {
        2 => img.fliph(),
        3 => img.rotate180(),
        4 => img.flipv(),
        5 => img.rotate90().fliph(),
        6 => img.rotate90(),
        7 => img.rotate270().fliph(),
        8 => img.rotate270(),
        _ => img,
    }
}

fn exif_fields(bytes: &[u8]) -> (u16, Option<String>) {
    let Ok(exif) = exif::Reader::new().read_from_container(&mut Cursor::new(bytes)) else {
        return (1, None);
    };
    let orientation = exif
        .get_field(exif::Tag::Orientation, exif::In::PRIMARY)
        .and_then(|f| f.value.get_uint(0))
        .and_then(|v| u16::try_from(v).ok())
        .filter(|v| (1..=8).contains(v))
        .unwrap_or(1);
    let taken_at = [exif::Tag::DateTimeOriginal, exif::Tag::DateTime].iter().find_map(|tag| {
        let f = exif.get_field(*tag, exif::In::PRIMARY)?;
        match &f.value {
            exif::Value::Ascii(v) => v
                .first()
                .and_then(|s| exif::DateTime::from_ascii(s).ok())
                .map(|d| format!("{:04}-{:02}-{:02} {:02}:{:02}:{:02}", d.year, d.month, d.day, d.hour, d.minute, d.second)),
            _ => None,
        }
    });
    (orientation, taken_at)
}
