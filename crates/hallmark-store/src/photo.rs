//! Photo evidence: checks a JPEG from its own markers before any decoder sees it, reads its EXIF
//! capture time and orientation, and makes a 320 px thumbnail by reduced-size (DCT-scaled)
//! decoding with libjpeg-turbo. On request it stores a downscaled copy instead of the camera's
//! file (the camera file's hash and size are recorded). Otherwise the bytes are never changed;
//! the files are written by [`crate::durable`], so none is ever partial.
//!
//! Checked from the markers alone, before anything is allocated for pixels or decoded (issue
//! #15: a 282-byte header declaring 60000×60000 took 7.2 GB): the file is at most
//! [`MAX_PHOTO_BYTES`]; a Huffman-coded JPEG (baseline, extended or progressive); both sides 1 to
//! [`MAX_SIDE_PX`] and at most [`MAX_PIXELS`]; a progressive (or multi-scan) picture, which the
//! decoder must hold whole as DCT coefficients, within [`MAX_COEFFICIENT_BYTES`]; at most
//! [`MAX_SCANS`] scans; image data neither too short for the declared size (a bomb, or a
//! truncated file) nor more than that many pixels can hold (junk inside); after the picture's
//! end marker only appended JPEGs (phones' gain maps, depth maps, previews) and at most
//! [`EXTRA_BYTES_ALLOWED`] of anything else. The decoder then stops at its first warning, and a
//! picture with lost image data is refused as damaged. docs/observations.md ("Photos") says why.

use std::ffi::CStr;
use std::ops::Range;

pub use hallmark_bundle::format::MAX_PHOTO_BYTES;
pub use hallmark_core::hex::sha256_hex;
use image::{DynamicImage, RgbImage};
use serde::Serialize;
use turbojpeg::raw;

pub const THUMBNAIL_PX: u16 = 320;
/// The longest side accepted: a 64 MP photo in 4:3 is 9238 px wide; panoramas may be longer.
pub const MAX_SIDE_PX: u32 = 16_384;
/// The most pixels accepted: 64 megapixels (tablet cameras take 8–13 MP, phones' full-resolution
/// modes 48–50 MP).
pub const MAX_PIXELS: u64 = 64_000_000;
/// The memory a progressive or multi-scan picture's DCT coefficients may take while it is
/// decoded (2 bytes × 64 per 8×8 block per component, all held at once): about 14 MP in 4:4:4
/// colour, 28 MP in 4:2:0 (cameras' usual), 42 MP in grey. With the decoder's other buffers a
/// photo then takes under 100 MB whatever it declares. A baseline picture is decoded a few rows
/// at a time and needs no such memory.
pub const MAX_COEFFICIENT_BYTES: u64 = 80 << 20;
/// Scans per image: libjpeg writes 10 for a progressive colour photo; each scan is a pass over
/// the whole picture.
pub const MAX_SCANS: usize = 100;
/// Bytes in a file that belong to no image (padding after the end, stray bytes between
/// markers) tolerated.
pub const EXTRA_BYTES_ALLOWED: u64 = 64 << 10;
/// Image data one sample (a pixel of one component, after subsampling) may take: random noise at
/// quality 100 takes 1.6 bytes.
const MAX_DATA_BYTES_PER_SAMPLE: u64 = 3;
/// The long sides downscale-on-capture may be set to. At 3072 a 64 MP photo is decoded at 1/2
/// scale and its copy made in under 100 MB.
pub const LONG_SIDE_RANGE: std::ops::RangeInclusive<u32> = 640..=3072;
/// JPEG quality of a downscaled copy, and of a thumbnail.
pub const DOWNSCALE_QUALITY: i32 = 88;
const THUMBNAIL_QUALITY: i32 = 80;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PhotoMeta {
    /// The stored file's SHA-256 and size.
    pub sha256: String,
    pub size: u64,
    pub width: u32,
    pub height: u32,
    /// EXIF orientation 1..=8; 1 when the photo has none.
    pub orientation: u16,
    /// EXIF DateTimeOriginal as the camera wrote it ("2026-11-20 10:21:03").
    pub taken_at: Option<String>,
    /// When the stored file is a downscaled copy: the camera file's SHA-256 and size.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub original_sha256: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub original_size: Option<u64>,
}

/// What [`examine_for_capture`] found and what to store.
#[derive(Debug, Clone)]
pub struct Examined {
    /// Describes the file to store: the downscaled copy when there is one.
    pub meta: PhotoMeta,
    pub thumbnail: Vec<u8>,
    /// The downscaled copy to store instead of the camera's file.
    pub downscaled: Option<Vec<u8>>,
}

/// Checks `bytes` is a whole JPEG within the limits and makes its thumbnail. The error says what
/// is wrong and what to do.
pub fn examine(bytes: &[u8]) -> Result<(PhotoMeta, Vec<u8>), String> {
    let e = examine_for_capture(bytes, None)?;
    Ok((e.meta, e.thumbnail))
}

/// [`examine`], and with `long_side` set, a photo whose long side is longer becomes a copy of
/// that long side (JPEG quality [`DOWNSCALE_QUALITY`], the camera's EXIF and ICC profile kept,
/// pixels not turned: the EXIF orientation still applies).
/// The checks of [`examine_for_capture`] that read no pixels (kind, size, the marker walk
/// with its limits): cheap, so a caller can start storing a file that passes them while the
/// decode still runs.
pub fn precheck(bytes: &[u8]) -> Result<(), String> {
    check_kind(bytes)?;
    if bytes.len() as u64 > MAX_PHOTO_BYTES {
        return Err("the photo is larger than a photo may be".into());
    }
    read_file(bytes).map(drop)
}

pub fn examine_for_capture(bytes: &[u8], long_side: Option<u32>) -> Result<Examined, String> {
    check_kind(bytes)?;
    if bytes.len() as u64 > MAX_PHOTO_BYTES {
        return Err(format!(
            "the photo is {}, more than the {} MiB a photo may be (take it again at a lower resolution)",
            megabytes(bytes.len() as u64),
            MAX_PHOTO_BYTES >> 20
        ));
    }
    let picture = read_file(bytes)?;
    let frame = &picture.frame;
    let (orientation, taken_at) = picture.exif.clone().map_or((1, None), |r| exif_fields(&bytes[r]));
    let downscale_to = long_side.filter(|&side| frame.width.max(frame.height) > side);
    let decoded = decode_scaled(&bytes[..picture.end], frame, downscale_to.unwrap_or(u32::from(THUMBNAIL_PX)))?;
    let Some(side) = downscale_to else {
        let thumbnail = thumbnail(&decoded, orientation)?;
        let meta = PhotoMeta {
            sha256: sha256_hex(bytes),
            size: bytes.len() as u64,
            width: frame.width,
            height: frame.height,
            orientation,
            taken_at,
            original_sha256: None,
            original_size: None,
        };
        return Ok(Examined { meta, thumbnail, downscaled: None });
    };
    let (w, h) = fit(frame.width, frame.height, side);
    let pixels = Rgb { width: w, height: h, data: resize(&decoded, w, h) };
    drop(decoded);
    let copy = with_segments(&encode(&pixels, DOWNSCALE_QUALITY)?, bytes, &picture.keep);
    let thumbnail = thumbnail(&pixels, orientation)?;
    let meta = PhotoMeta {
        sha256: sha256_hex(&copy),
        size: copy.len() as u64,
        width: w,
        height: h,
        orientation,
        taken_at,
        original_sha256: Some(sha256_hex(bytes)),
        original_size: Some(bytes.len() as u64),
    };
    Ok(Examined { meta, thumbnail, downscaled: Some(copy) })
}

fn check_kind(bytes: &[u8]) -> Result<(), String> {
    if bytes.len() >= 4 && bytes[..3] == [0xFF, 0xD8, 0xFF] {
        return Ok(());
    }
    let what = if bytes.starts_with(b"\x89PNG") {
        "a PNG image"
    } else if bytes.is_empty() {
        "an empty file"
    } else {
        "not an image"
    };
    Err(format!("the file is {what}, not a JPEG photo (take the photo with the camera, or pick a .jpg file)"))
}

fn megabytes(n: u64) -> String {
    format!("{:.1} MB", n as f64 / 1e6)
}

fn truncated() -> String {
    "the JPEG is truncated: its end marker is missing (copy the photo again, or take it again)".into()
}

fn damaged(what: impl std::fmt::Display) -> String {
    format!("the JPEG is damaged: {what} (copy the photo again, or take it again)")
}

// ---- the markers ---------------------------------------------------------------------------

/// An image's frame header (SOF).
#[derive(Debug, Clone)]
struct Frame {
    width: u32,
    height: u32,
    progressive: bool,
    /// Each component's horizontal and vertical sampling factors.
    sampling: Vec<(u32, u32)>,
}

impl Frame {
    fn max_sampling(&self) -> (u32, u32) {
        self.sampling.iter().fold((1, 1), |(h, v), &(ch, cv)| (h.max(ch), v.max(cv)))
    }

    /// Each component's size in samples.
    fn component_sizes(&self) -> impl Iterator<Item = (u64, u64, u32, u32)> + '_ {
        let (hmax, vmax) = self.max_sampling();
        self.sampling.iter().map(move |&(h, v)| {
            (
                (u64::from(self.width) * u64::from(h)).div_ceil(u64::from(hmax)),
                (u64::from(self.height) * u64::from(v)).div_ceil(u64::from(vmax)),
                h,
                v,
            )
        })
    }

    fn samples(&self) -> u64 {
        self.component_sizes().map(|(w, h, _, _)| w * h).sum()
    }

    /// What libjpeg allocates to hold every DCT coefficient (blocks rounded up to whole MCUs).
    fn coefficient_bytes(&self) -> u64 {
        self.component_sizes()
            .map(|(w, h, hs, vs)| w.div_ceil(8).next_multiple_of(u64::from(hs)) * h.div_ceil(8).next_multiple_of(u64::from(vs)) * 128)
            .sum()
    }

    /// 8×8 blocks of the first component: each takes at least one bit of image data.
    fn first_component_blocks(&self) -> u64 {
        self.component_sizes().next().map_or(0, |(w, h, _, _)| w.div_ceil(8) * h.div_ceil(8))
    }
}

/// One image of a file as its markers describe it.
#[derive(Debug, Clone)]
struct Picture {
    frame: Frame,
    /// Just past its end marker.
    end: usize,
    /// Stray bytes between markers.
    stray_bytes: u64,
    /// The TIFF data of its EXIF segment.
    exif: Option<Range<usize>>,
    /// Whole segments a downscaled copy keeps: EXIF and the ICC profile.
    keep: Vec<Range<usize>>,
}

/// The first position at or after `from` holding 0xFF. Eight bytes at a time: image data is
/// most of a photo, and 0xFF is rare in it.
fn find_ff(bytes: &[u8], from: usize) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    let mut i = from;
    while let Some(chunk) = bytes.get(i..i + 8) {
        let inverted = !u64::from_le_bytes(chunk.try_into().expect("8 bytes"));
        if inverted.wrapping_sub(ONES) & !inverted & HIGHS != 0 {
            break;
        }
        i += 8;
    }
    bytes.get(i..)?.iter().position(|&b| b == 0xFF).map(|p| i + p)
}

/// Reads the picture that starts at 0 and what follows it; refuses what the limits refuse.
fn read_file(bytes: &[u8]) -> Result<Picture, String> {
    let picture = read_picture(bytes, 0, true)?;
    if picture.stray_bytes > EXTRA_BYTES_ALLOWED {
        return Err(damaged(format!("{} of stray data between its markers", megabytes(picture.stray_bytes))));
    }
    let mut extra = 0u64;
    let mut at = picture.end;
    while at < bytes.len() && extra <= EXTRA_BYTES_ALLOWED {
        if bytes[at..].starts_with(&[0xFF, 0xD8, 0xFF]) {
            // An appended image, as phones write gain maps and depth maps: checked, not decoded.
            match read_picture(bytes, at, false) {
                Ok(p) => {
                    extra += p.stray_bytes;
                    at = p.end;
                }
                Err(_) => {
                    extra += (bytes.len() - at) as u64;
                    at = bytes.len();
                }
            }
            continue;
        }
        let mut next = at + 1;
        let next_image = loop {
            match find_ff(bytes, next) {
                Some(p) if bytes[p..].starts_with(&[0xFF, 0xD8, 0xFF]) => break p,
                Some(p) => next = p + 1,
                None => break bytes.len(),
            }
        };
        extra += (next_image - at) as u64;
        at = next_image;
    }
    if extra > EXTRA_BYTES_ALLOWED {
        let after = (bytes.len() - picture.end) as u64;
        return Err(format!(
            "the photo has {} of data after the picture that is not an image (a motion photo's video, or a damaged copy): turn motion photos off in the camera and take it again, or copy the photo again",
            megabytes(after)
        ));
    }
    Ok(picture)
}

/// Walks the markers of the image starting at `start` (SOI) to its end marker. `decoded`: the
/// picture will be decoded, so the decoder's memory is checked too.
fn read_picture(bytes: &[u8], start: usize, decoded: bool) -> Result<Picture, String> {
    let len = bytes.len();
    let mut pos = start + 2;
    let mut frame: Option<Frame> = None;
    let (mut scans, mut data_bytes, mut stray_bytes) = (0usize, 0u64, 0u64);
    let (mut exif, mut keep) = (None, Vec::new());
    loop {
        if pos >= len {
            return Err(truncated());
        }
        if bytes[pos] != 0xFF {
            // Stray bytes where a marker should be: the decoder skips them, and so do we.
            let next = find_ff(bytes, pos).ok_or_else(truncated)?;
            stray_bytes += (next - pos) as u64;
            pos = next;
        }
        while pos < len && bytes[pos] == 0xFF {
            pos += 1;
        }
        let marker_at = pos - 1;
        let marker = *bytes.get(pos).ok_or_else(truncated)?;
        pos += 1;
        match marker {
            0xD9 if scans == 0 => return Err(damaged("it ends before any image data")),
            0xD9 => break,
            0xD8 => return Err(damaged(format!("a second start marker at byte {marker_at}"))),
            0x01 | 0xD0..=0xD7 => continue,
            0x00 => {
                stray_bytes += 2;
                continue;
            }
            0x02..=0xBF => return Err(damaged(format!("unknown marker 0x{marker:02X} at byte {marker_at}"))),
            _ => {}
        }
        let seg_len = usize::from(u16::from_be_bytes([*bytes.get(pos).ok_or_else(truncated)?, *bytes.get(pos + 1).ok_or_else(truncated)?]));
        if seg_len < 2 {
            return Err(damaged(format!("marker 0x{marker:02X} at byte {marker_at} has length {seg_len}")));
        }
        let body = bytes.get(pos + 2..pos + seg_len).ok_or_else(truncated)?;
        let segment = marker_at..pos + seg_len;
        pos += seg_len;
        match marker {
            0xC0..=0xC2 => {
                if frame.is_some() {
                    return Err(damaged("it has two image headers"));
                }
                let f = read_frame(marker, body)?;
                check_frame(&f)?;
                frame = Some(f);
            }
            0xC3 | 0xC5..=0xC7 | 0xC9..=0xCB | 0xCD..=0xCF => {
                let what = match marker {
                    0xC3 | 0xC7 | 0xCB | 0xCF => "lossless",
                    0xC5 | 0xC6 => "hierarchical",
                    _ => "arithmetic",
                };
                return Err(format!(
                    "the JPEG uses {what} coding, which cameras do not write and hallmark does not read (save it as a standard JPEG, or take the photo again)"
                ));
            }
            0xDA => {
                let f = frame.as_ref().ok_or_else(|| damaged("image data comes before the image header"))?;
                let components = usize::from(*body.first().unwrap_or(&0));
                if components == 0 || components > f.sampling.len() || body.len() != 1 + 2 * components + 3 {
                    return Err(damaged(format!("a malformed scan header at byte {marker_at}")));
                }
                scans += 1;
                if scans > MAX_SCANS {
                    return Err(format!(
                        "the JPEG has more than {MAX_SCANS} scans, more than any camera writes (the file is damaged or not a photo: take the photo again)"
                    ));
                }
                if decoded && scans == 1 && (f.progressive || components < f.sampling.len()) {
                    check_coefficient_memory(f)?;
                }
                // The entropy-coded data runs to the next marker that is not a restart marker
                // or a stuffed 0xFF.
                let data_start = pos;
                loop {
                    let ff = find_ff(bytes, pos).ok_or_else(truncated)?;
                    match *bytes.get(ff + 1).ok_or_else(truncated)? {
                        0x00 | 0xD0..=0xD7 => pos = ff + 2,
                        0xFF => pos = ff + 1,
                        _ => {
                            pos = ff;
                            break;
                        }
                    }
                }
                data_bytes += (pos - data_start) as u64;
            }
            0xE1 if exif.is_none() && body.starts_with(b"Exif\0\0") => {
                exif = Some(segment.start + 10..segment.end);
                keep.push(segment);
            }
            0xE2 if body.starts_with(b"ICC_PROFILE\0") => keep.push(segment),
            // Tables, restart interval, line count, application data, comments, extensions.
            _ => {}
        }
    }
    let frame = frame.expect("a scan needs a frame");
    let (w, h) = (frame.width, frame.height);
    if data_bytes * 8 < frame.first_component_blocks() {
        return Err(format!(
            "the JPEG is truncated or damaged: its image data ({data_bytes} bytes) is too short for {w} × {h} pixels (copy the photo again, or take it again)"
        ));
    }
    if data_bytes > frame.samples() * MAX_DATA_BYTES_PER_SAMPLE + EXTRA_BYTES_ALLOWED {
        return Err(format!(
            "the JPEG holds {} of image data, far more than a {w} × {h} picture can (the file is padded or damaged: copy the photo again, or take it again)",
            megabytes(data_bytes)
        ));
    }
    Ok(Picture { frame, end: pos, stray_bytes, exif, keep })
}

fn read_frame(marker: u8, body: &[u8]) -> Result<Frame, String> {
    if body.len() < 6 {
        return Err(damaged("its image header is cut short"));
    }
    let precision = body[0];
    let height = u32::from(u16::from_be_bytes([body[1], body[2]]));
    let width = u32::from(u16::from_be_bytes([body[3], body[4]]));
    let n = usize::from(body[5]);
    if body.len() != 6 + 3 * n {
        return Err(damaged("its image header is malformed"));
    }
    if precision != 8 {
        return Err(format!(
            "the JPEG has {precision}-bit samples; hallmark reads 8-bit JPEGs, as cameras write (save it as a standard JPEG, or take the photo again)"
        ));
    }
    if ![1, 3, 4].contains(&n) {
        return Err(format!("the JPEG has {n} colour components; a photo has 1 (grey), 3 (colour) or 4 (CMYK) (take the photo again)"));
    }
    let sampling: Vec<(u32, u32)> = body[6..].chunks_exact(3).map(|c| (u32::from(c[1] >> 4), u32::from(c[1] & 15))).collect();
    if sampling.iter().any(|&(h, v)| !(1..=4).contains(&h) || !(1..=4).contains(&v)) {
        return Err(damaged("a sampling factor outside 1 to 4"));
    }
    Ok(Frame { width, height, progressive: marker == 0xC2, sampling })
}

/// The size limits, from the header alone.
fn check_frame(f: &Frame) -> Result<(), String> {
    let (w, h) = (f.width, f.height);
    if w == 0 || h == 0 {
        return Err(damaged(format!("it declares {w} × {h} pixels")));
    }
    if w > MAX_SIDE_PX || h > MAX_SIDE_PX {
        return Err(format!(
            "the photo is {w} × {h} pixels, more than the {MAX_SIDE_PX} pixels a side allowed (take it with the tablet's camera, or resize it)"
        ));
    }
    let pixels = u64::from(w) * u64::from(h);
    if pixels > MAX_PIXELS {
        return Err(format!(
            "the photo is {w} × {h} pixels ({:.1} megapixels), more than the {} megapixels allowed (take it again at a lower resolution, or resize it)",
            pixels as f64 / 1e6,
            MAX_PIXELS / 1_000_000
        ));
    }
    Ok(())
}

fn check_coefficient_memory(f: &Frame) -> Result<(), String> {
    let need = f.coefficient_bytes();
    if need > MAX_COEFFICIENT_BYTES {
        let kind = if f.progressive { "a progressive" } else { "a multi-scan" };
        return Err(format!(
            "the photo is {kind} JPEG of {} × {} pixels: decoding it takes {} of memory, more than the {} MiB allowed (save it as a standard, non-progressive JPEG, or resize it)",
            f.width,
            f.height,
            megabytes(need),
            MAX_COEFFICIENT_BYTES >> 20
        ));
    }
    Ok(())
}

// ---- decoding ------------------------------------------------------------------------------

/// 8-bit RGB pixels, rows packed.
struct Rgb {
    width: u32,
    height: u32,
    data: Vec<u8>,
}

/// libjpeg-turbo's decompressor, called directly for what the turbojpeg crate does not pass
/// on: flags (stop at the first warning) and whether a failure was only a warning.
struct Decompressor(raw::tjhandle);

enum Failure {
    Warning(String),
    Fatal(String),
}

impl Decompressor {
    fn new() -> Result<Decompressor, String> {
        // SAFETY: no arguments; a null handle (out of memory) is checked.
        let handle = unsafe { raw::tjInitDecompress() };
        if handle.is_null() {
            return Err("cannot start the JPEG decoder (the tablet is out of memory: close other apps and try again)".into());
        }
        Ok(Decompressor(handle))
    }

    /// Decodes `jpeg` into `out`, `width` × `height` pixels of `bytes_per_pixel` in `format`;
    /// libjpeg-turbo picks the DCT scale whose output fits.
    fn decode(
        &self,
        jpeg: &[u8],
        out: &mut [u8],
        (width, height, bytes_per_pixel): (usize, usize, usize),
        format: i32,
        flags: u32,
    ) -> Result<(), Failure> {
        assert_eq!(out.len(), width * height * bytes_per_pixel, "the output holds the requested size");
        let c_int = |n: usize| std::os::raw::c_int::try_from(n).expect("checked dimensions fit");
        // SAFETY: `jpeg` is read within its length; libjpeg-turbo writes at most `height` rows
        // of `width` pixels (it scales down to fit, or fails), `width * bytes_per_pixel` apart,
        // which is `out`'s length (asserted). The handle lives as long as `self`.
        let status = unsafe {
            raw::tjDecompress2(
                self.0,
                jpeg.as_ptr(),
                jpeg.len() as std::os::raw::c_ulong,
                out.as_mut_ptr(),
                c_int(width),
                c_int(width * bytes_per_pixel),
                c_int(height),
                format,
                flags as std::os::raw::c_int,
            )
        };
        if status == 0 {
            return Ok(());
        }
        // SAFETY: the handle is valid; the message is a NUL-terminated string it owns, copied.
        let (message, code) = unsafe { (CStr::from_ptr(raw::tjGetErrorStr2(self.0)).to_string_lossy().into_owned(), raw::tjGetErrorCode(self.0)) };
        if code == raw::TJERR_TJERR_WARNING as std::os::raw::c_int {
            Err(Failure::Warning(message))
        } else {
            Err(Failure::Fatal(message))
        }
    }
}

impl Drop for Decompressor {
    fn drop(&mut self) {
        // SAFETY: the handle came from tjInitDecompress and is destroyed once.
        unsafe {
            raw::tjDestroy(self.0);
        }
    }
}

/// A decoder warning that lost image data refuses the photo; others (an unknown JFIF version,
/// a few padding bytes before the end marker) do not.
fn check_warning(message: &str) -> Result<(), String> {
    let m = message.to_lowercase();
    let extraneous = m.split_once(" extraneous bytes").and_then(|(before, _)| before.rsplit(' ').next()?.parse::<u64>().ok());
    if let Some(n) = extraneous {
        if n <= EXTRA_BYTES_ALLOWED {
            return Ok(());
        }
        return Err(format!(
            "the JPEG holds {} inside its image data that is not part of the picture (the file is padded or damaged: copy the photo again, or take it again)",
            megabytes(n)
        ));
    }
    let lost = ["premature end", "corrupt jpeg data", "bad huffman", "bad arithmetic", "resync"];
    if lost.iter().any(|l| m.contains(l)) {
        return Err(damaged(m.trim_end_matches('.')));
    }
    Ok(())
}

/// Decodes at the smallest DCT scale (n/8) whose long side is at least `long_side_at_least`.
fn decode_scaled(jpeg: &[u8], frame: &Frame, long_side_at_least: u32) -> Result<Rgb, String> {
    let (w, h) = (frame.width as usize, frame.height as usize);
    let long = w.max(h);
    let n = (1..=8).find(|n| (long * n).div_ceil(8) >= long_side_at_least as usize).unwrap_or(8);
    let (sw, sh) = ((w * n).div_ceil(8), (h * n).div_ceil(8));
    // libjpeg-turbo converts CMYK (and YCCK) to CMYK only.
    let cmyk = frame.sampling.len() == 4;
    let (format, bpp) = if cmyk { (raw::TJPF_TJPF_CMYK, 4) } else { (raw::TJPF_TJPF_RGB, 3) };
    let mut out = vec![0u8; sw * sh * bpp];
    let d = Decompressor::new()?;
    let size = (sw, sh, bpp);
    match d.decode(jpeg, &mut out, size, format, raw::TJFLAG_STOPONWARNING) {
        Ok(()) => {}
        Err(Failure::Fatal(m)) => return Err(damaged(m.to_lowercase().trim_end_matches('.'))),
        Err(Failure::Warning(first)) => {
            // Stopped at a warning that may be harmless: judge it, then decode through.
            check_warning(&first)?;
            match d.decode(jpeg, &mut out, size, format, 0) {
                Ok(()) => {}
                Err(Failure::Warning(last)) => check_warning(&last)?,
                Err(Failure::Fatal(m)) => return Err(damaged(m.to_lowercase().trim_end_matches('.'))),
            }
        }
    }
    let data = if cmyk {
        // libjpeg-turbo's CMYK is inverted as Adobe writes it: 255 is no ink.
        out.chunks_exact(4)
            .flat_map(|p| {
                let k = u16::from(p[3]);
                [p[0], p[1], p[2]].map(|c| ((u16::from(c) * k + 127) / 255) as u8)
            })
            .collect()
    } else {
        out
    };
    Ok(Rgb { width: sw as u32, height: sh as u32, data })
}

// ---- thumbnails and downscaled copies ------------------------------------------------------

fn fit(w: u32, h: u32, max: u32) -> (u32, u32) {
    if w <= max && h <= max {
        return (w.max(1), h.max(1));
    }
    let (w, h, max) = (u64::from(w), u64::from(h), u64::from(max));
    if w >= h {
        (max as u32, ((h * max + w / 2) / w).max(1) as u32)
    } else {
        (((w * max + h / 2) / h).max(1) as u32, max as u32)
    }
}

/// Each output position's first source position and weights: a triangle filter widened by the
/// reduction factor (what image's `FilterType::Triangle` does), normalized.
fn weights(from: usize, to: usize) -> Vec<(usize, Vec<f32>)> {
    let scale = from as f32 / to as f32;
    let support = scale.max(1.0);
    (0..to)
        .map(|i| {
            let center = (i as f32 + 0.5) * scale;
            let first = ((center - support).floor().max(0.0) as usize).min(from - 1);
            let last = ((center + support).ceil() as usize).clamp(first + 1, from);
            let mut ws: Vec<f32> = (first..last).map(|j| (1.0 - ((j as f32 + 0.5 - center) / support).abs()).max(0.0)).collect();
            let sum: f32 = ws.iter().sum();
            if sum > 0.0 {
                ws.iter_mut().for_each(|w| *w /= sum);
            } else {
                ws = vec![1.0];
            }
            (first, ws)
        })
        .collect()
}

/// Resamples to `w` × `h`, one output row at a time (the source rows it covers blended, then
/// across): memory is one source row, whatever the sizes.
fn resize(src: &Rgb, w: u32, h: u32) -> Vec<u8> {
    let (sw, sh, dw, dh) = (src.width as usize, src.height as usize, w as usize, h as usize);
    if (sw, sh) == (dw, dh) {
        return src.data.clone();
    }
    let (xs, ys) = (weights(sw, dw), weights(sh, dh));
    let mut blended = vec![0f32; sw * 3];
    let mut out = vec![0u8; dh * dw * 3];
    for ((first, ws), line) in ys.iter().zip(out.chunks_exact_mut(dw * 3)) {
        blended.iter_mut().for_each(|b| *b = 0.0);
        for (wt, row) in ws.iter().zip(src.data[first * sw * 3..].chunks_exact(sw * 3)) {
            for (b, &v) in blended.iter_mut().zip(row) {
                *b += wt * f32::from(v);
            }
        }
        for ((first, ws), px) in xs.iter().zip(line.chunks_exact_mut(3)) {
            let mut acc = [0f32; 3];
            for (wt, p) in ws.iter().zip(blended[first * 3..].chunks_exact(3)) {
                acc[0] += wt * p[0];
                acc[1] += wt * p[1];
                acc[2] += wt * p[2];
            }
            for (o, a) in px.iter_mut().zip(acc) {
                *o = (a + 0.5).clamp(0.0, 255.0) as u8;
            }
        }
    }
    out
}

fn encode(p: &Rgb, quality: i32) -> Result<Vec<u8>, String> {
    let image = turbojpeg::Image {
        pixels: p.data.as_slice(),
        width: p.width as usize,
        pitch: p.width as usize * 3,
        height: p.height as usize,
        format: turbojpeg::PixelFormat::RGB,
    };
    let out = turbojpeg::compress(image, quality, turbojpeg::Subsamp::Sub2x2).map_err(|e| format!("cannot encode the photo: {e}"))?;
    Ok(out.to_vec())
}

/// The 320 px thumbnail, turned upright.
fn thumbnail(p: &Rgb, orientation: u16) -> Result<Vec<u8>, String> {
    let (tw, th) = fit(p.width, p.height, u32::from(THUMBNAIL_PX));
    let small = RgbImage::from_raw(tw, th, resize(p, tw, th)).expect("resize makes tw × th pixels");
    let upright = orient(DynamicImage::ImageRgb8(small), orientation).into_rgb8();
    let (width, height) = upright.dimensions();
    encode(&Rgb { width, height, data: upright.into_raw() }, THUMBNAIL_QUALITY)
}

/// A downscaled copy: libjpeg-turbo's JPEG with the camera file's EXIF and ICC segments in
/// place of its JFIF segment.
fn with_segments(encoded: &[u8], original: &[u8], keep: &[Range<usize>]) -> Vec<u8> {
    let mut rest = &encoded[2..];
    if rest.starts_with(&[0xFF, 0xE0]) && rest.len() >= 4 {
        let len = usize::from(u16::from_be_bytes([rest[2], rest[3]]));
        rest = &rest[(2 + len).min(rest.len())..];
    }
    let mut out = Vec::with_capacity(encoded.len() + keep.iter().map(|r| r.len()).sum::<usize>());
    out.extend([0xFF, 0xD8]);
    for r in keep {
        out.extend(&original[r.clone()]);
    }
    out.extend(rest);
    out
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

/// Orientation and capture time from an EXIF segment's TIFF data.
fn exif_fields(tiff: &[u8]) -> (u16, Option<String>) {
    let Ok(exif) = exif::Reader::new().read_raw(tiff.to_vec()) else {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn find_ff_finds_every_position() {
        for len in 0..40 {
            for at in 0..len {
                let mut b = vec![0x7Fu8; len];
                b[at] = 0xFF;
                for from in 0..=len {
                    assert_eq!(find_ff(&b, from), (at >= from).then_some(at), "len {len}, 0xFF at {at}, from {from}");
                }
            }
        }
        assert_eq!(find_ff(&[], 0), None);
        assert_eq!(find_ff(&[1, 2], 5), None);
    }

    #[test]
    fn warnings_that_lose_image_data_refuse_and_others_do_not() {
        for harmless in [
            "Corrupt JPEG data: 2 extraneous bytes before marker 0xd9",
            "Warning: unknown JFIF revision number 3.01",
            "Inconsistent progression sequence for component 0 coefficient 1",
        ] {
            assert_eq!(check_warning(harmless), Ok(()), "{harmless}");
        }
        for (lost, needle) in [
            ("Corrupt JPEG data: 3000000 extraneous bytes before marker 0xd9", "3.0 MB inside its image data"),
            ("Premature end of JPEG file", "damaged: premature end of jpeg file"),
            ("Corrupt JPEG data: premature end of data segment", "damaged"),
            ("Corrupt JPEG data: bad Huffman code", "damaged"),
        ] {
            let err = check_warning(lost).unwrap_err();
            assert!(err.contains(needle), "{lost}: {err}");
        }
    }

    #[test]
    fn fit_keeps_the_aspect_and_never_enlarges() {
        assert_eq!(fit(4000, 3000, 320), (320, 240));
        assert_eq!(fit(3000, 4000, 320), (240, 320));
        assert_eq!(fit(100, 50, 320), (100, 50));
        assert_eq!(fit(16384, 1, 320), (320, 1));
    }

    #[test]
    fn resize_keeps_a_flat_colour_and_averages_a_pattern() {
        let flat = Rgb { width: 50, height: 30, data: [10u8, 200, 77].repeat(50 * 30) };
        assert!(resize(&flat, 17, 9).chunks_exact(3).all(|p| p == [10, 200, 77]));
        let stripes = Rgb { width: 64, height: 2, data: (0..128).flat_map(|i| if i % 2 == 0 { [0u8; 3] } else { [255u8; 3] }).collect() };
        let out = resize(&stripes, 8, 1);
        assert!(out.iter().all(|&v| (118..=138).contains(&v)), "{out:?}");
    }
}
