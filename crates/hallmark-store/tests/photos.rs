//! Photo evidence under hostile and oversized input (issue #15): decode bombs, junk-filled,
//! damaged and foreign files are refused from the header — in well under a second and 100 MB —
//! and store nothing; what the tablet accepts, the lead imports; downscale on capture.
//!
//! The hostile files are made here, at test time, by [`jpeg`]: a hand-built JPEG whose blocks
//! are all flat (1-bit Huffman codes), so a valid 64-megapixel image is a few hundred KB and a
//! header can declare any size.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use hallmark_bundle::format::{MAX_FILE_BYTES, MAX_PHOTO_BYTES};
use hallmark_store::photo::{self, MAX_PIXELS, MAX_SIDE_PX};
use hallmark_store::{demo, NewInspection, Store, StoreError};

const NOW: &str = "2026-11-20T09:00:00.000Z";

/// Tests here measure their own process's peak memory: one at a time.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner())
}

fn open() -> (tempfile::TempDir, Store, String) {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path(), NOW).unwrap();
    let id = store
        .create_inspection(
            &NewInspection {
                rubric_text: hallmark_core::builtin::JIANGSU.into(),
                site_name: "秣陵街道医保服务站".into(),
                site_level: "township".into(),
                visited_on: "2026-11-20".into(),
                assessor_name: "王敏".into(),
                ..Default::default()
            },
            NOW,
        )
        .unwrap();
    (dir, store, id)
}

// ---- JPEGs made by hand -------------------------------------------------------------------

/// How [`jpeg`] writes the image.
#[derive(Clone, Copy, PartialEq)]
enum Coding {
    /// SOF0, one interleaved scan.
    Baseline,
    /// SOF2: a DC scan, then one AC scan per component.
    Progressive,
    /// SOF9 (arithmetic coding): header only.
    Arithmetic,
}

fn segment(marker: u8, body: &[u8]) -> Vec<u8> {
    let mut s = vec![0xFF, marker];
    s.extend(((body.len() + 2) as u16).to_be_bytes());
    s.extend(body);
    s
}

/// A Huffman table holding one symbol with a 1-bit code ("0").
fn one_symbol_table(class_and_id: u8, symbol: u8) -> Vec<u8> {
    let mut body = vec![class_and_id, 1];
    body.extend([0u8; 15]);
    body.push(symbol);
    segment(0xC4, &body)
}

/// The markers of a `w`×`h` JPEG with `components` (1 or 3, all sampled 1×1) up to its image
/// data.
fn header(w: u16, h: u16, components: u8, coding: Coding) -> Vec<u8> {
    let mut out = vec![0xFF, 0xD8];
    let mut dqt = vec![0u8];
    dqt.extend([1u8; 64]);
    out.extend(segment(0xDB, &dqt));
    let sof = match coding {
        Coding::Baseline => 0xC0,
        Coding::Progressive => 0xC2,
        Coding::Arithmetic => 0xC9,
    };
    let mut frame = vec![8];
    frame.extend(h.to_be_bytes());
    frame.extend(w.to_be_bytes());
    frame.push(components);
    for c in 1..=components {
        frame.extend([c, 0x11, 0]);
    }
    out.extend(segment(sof, &frame));
    out.extend(one_symbol_table(0x00, 0x00)); // DC: difference 0
    out.extend(one_symbol_table(0x10, 0x00)); // AC: end of block
    out
}

fn scan(components: &[u8], ss: u8, se: u8) -> Vec<u8> {
    let mut body = vec![components.len() as u8];
    for c in components {
        body.extend([*c, 0x00]);
    }
    body.extend([ss, se, 0]);
    segment(0xDA, &body)
}

/// A complete, valid, flat grey `w`×`h` JPEG: every block's DC difference and its end of block
/// are 1-bit codes, so the image data is zero bytes — 64 megapixels in 250 KB.
fn jpeg(w: u16, h: u16, components: u8, coding: Coding) -> Vec<u8> {
    let blocks = u64::from(w).div_ceil(8) * u64::from(h).div_ceil(8);
    let mut out = header(w, h, components, coding);
    let ids: Vec<u8> = (1..=components).collect();
    match coding {
        Coding::Baseline | Coding::Arithmetic => {
            out.extend(scan(&ids, 0, 63));
            out.extend(vec![0u8; (blocks * u64::from(components) * 2).div_ceil(8) as usize]);
        }
        Coding::Progressive => {
            out.extend(scan(&ids, 0, 0));
            out.extend(vec![0u8; (blocks * u64::from(components)).div_ceil(8) as usize]);
            for c in &ids {
                out.extend(scan(&[*c], 1, 63));
                out.extend(vec![0u8; blocks.div_ceil(8) as usize]);
            }
        }
    }
    out.extend([0xFF, 0xD9]);
    out
}

/// The bomb: a progressive header declaring 60000×60000, a few bytes of image data and
/// an end marker, 282 bytes in all.
fn progressive_bomb() -> Vec<u8> {
    let mut out = header(60000, 60000, 3, Coding::Progressive);
    out.extend(scan(&[1, 2, 3], 0, 0));
    out.resize(280, 0);
    out.extend([0xFF, 0xD9]);
    assert_eq!(out.len(), 282);
    out
}

/// A `w`×`h` header whose image data is `data` bytes: a truncated or bomb-like file.
fn short(w: u16, h: u16, coding: Coding, data: usize) -> Vec<u8> {
    let mut out = header(w, h, 3, coding);
    out.extend(scan(&[1, 2, 3], 0, if coding == Coding::Progressive { 0 } else { 63 }));
    out.extend(vec![0u8; data]);
    out.extend([0xFF, 0xD9]);
    out
}

/// A noisy camera-like JPEG made by the image crate (baseline, 4:4:4).
fn camera(w: u32, h: u32) -> Vec<u8> {
    demo::camera_like(w, h, 7, (4, 3, 6))
}

fn with_tail(mut jpeg: Vec<u8>, tail: &[u8]) -> Vec<u8> {
    jpeg.extend(tail);
    jpeg
}

/// `filler` bytes inserted just before the end marker, inside the image data.
fn with_inner(jpeg: Vec<u8>, filler: &[u8]) -> Vec<u8> {
    let end = jpeg.len() - 2;
    assert_eq!(jpeg[end..], [0xFF, 0xD9]);
    let mut out = jpeg[..end].to_vec();
    out.extend(filler);
    out.extend([0xFF, 0xD9]);
    out
}

/// More scans than any camera writes: the DC scan again and again.
fn many_scans(n: usize) -> Vec<u8> {
    let mut out = header(64, 64, 1, Coding::Progressive);
    for _ in 0..n {
        out.extend(scan(&[1], 0, 0));
        out.extend([0u8; 8]);
    }
    out.extend([0xFF, 0xD9]);
    out
}

// ---- measuring -----------------------------------------------------------------------------

fn status_kb(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with(field)).unwrap_or_else(|| panic!("{field} in /proc/self/status"));
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

/// Runs `f`; returns its result, how long it took and how far the process's peak resident
/// memory rose above what it held before (MB).
fn measured<T>(f: impl FnOnce() -> T) -> (T, Duration, f64) {
    // "5" resets the peak (VmHWM) to the current resident size (Linux >= 4.0).
    std::fs::write("/proc/self/clear_refs", "5").unwrap();
    let before = status_kb("VmRSS:");
    let t = Instant::now();
    let out = f();
    let took = t.elapsed();
    let peak = status_kb("VmHWM:");
    (out, took, peak.saturating_sub(before) as f64 / 1024.0)
}

fn photo_files(dir: &std::path::Path) -> usize {
    ["photos", "thumbs"].iter().map(|f| walkdir(&dir.join(f))).sum()
}

fn walkdir(d: &std::path::Path) -> usize {
    let Ok(rd) = std::fs::read_dir(d) else { return 0 };
    rd.flatten().map(|e| if e.path().is_dir() { walkdir(&e.path()) } else { 1 }).sum()
}

/// Attaches `bytes` and expects the refusal to contain `needle`, within 2 s, storing nothing;
/// for a bomb, also within 100 MB of memory.
fn check_refused(bytes: Vec<u8>, needle: &str, bomb: bool) {
    let _one = serial();
    let (dir, mut store, id) = open();
    let (result, took, grew_mb) = measured(|| store.attach_photo(&id, "1.2", &bytes, "", "王敏", NOW));
    let err = result.err().unwrap_or_else(|| panic!("accepted; expected a refusal containing '{needle}'"));
    eprintln!("{:>4} ms, +{grew_mb:.0} MB: {err}", took.as_millis());
    assert!(matches!(err, StoreError::Invalid(_)), "{err:?}");
    assert!(err.to_string().contains(needle), "'{err}' should contain '{needle}'");
    assert!(err.to_string().chars().next().is_some_and(|c| !c.is_uppercase()), "lowercase: {err}");
    assert!(took < Duration::from_secs(2), "refused in {took:?} (goal < 1 s)");
    if bomb {
        assert!(grew_mb < 100.0, "peak memory grew {grew_mb:.0} MB (goal < 100 MB)");
    }
    assert_eq!(photo_files(dir.path()), 0, "a refused photo stores no file");
    assert!(store.evidence(&id).unwrap().is_empty(), "a refused photo stores no evidence row");
    assert!(store.photo_meta(&photo::sha256_hex(&bytes)).is_err(), "a refused photo stores no photo row");
}

/// One test per hostile file, each named after it: `bytes => needle` (the refusal must contain
/// it), `bomb` when peak memory is checked too.
macro_rules! refused {
    (@bomb) => { false };
    (@bomb bomb) => { true };
    ($($(#[$doc:meta])* $name:ident: $bytes:expr => $needle:expr $(, $bomb:ident)?;)*) => {$(
        $(#[$doc])*
        #[test]
        fn $name() {
            check_refused($bytes, $needle, refused!(@bomb $($bomb)?));
        }
    )*};
}

refused! {
    /// The file: 7.2 GB for 30 s before "damaged".
    refused_progressive_282_byte_header_declaring_60000_square: progressive_bomb() => "60000 × 60000 pixels", bomb;
    refused_baseline_header_declaring_60000_square: short(60000, 60000, Coding::Baseline, 200) => "60000 × 60000 pixels", bomb;
    /// A valid JPEG, 15 MB: 60000² flat grey.
    refused_valid_60000_square: jpeg(60000, 60000, 1, Coding::Baseline) => "more than the 16384 pixels a side", bomb;
    refused_valid_one_side_over_16384: jpeg(16385, 16, 1, Coding::Baseline) => "more than the 16384 pixels a side", bomb;
    /// Valid, both sides allowed, 72 megapixels.
    refused_valid_72_megapixels: jpeg(9000, 8000, 1, Coding::Baseline) => "more than the 64 megapixels", bomb;
    refused_zero_by_zero: jpeg(0, 0, 3, Coding::Baseline) => "0 × 0 pixels";
    refused_zero_height: short(640, 0, Coding::Baseline, 16) => "640 × 0 pixels";
    /// Within the pixel limits, but progressive decoding keeps every coefficient: 294 MB.
    refused_progressive_needing_too_much_memory: jpeg(7000, 7000, 3, Coding::Progressive) => "progressive", bomb;
    /// A header declaring 64 MP with 100 bytes of image data (a bomb within the limits).
    refused_64_megapixel_header_with_100_bytes_of_data: short(8000, 8000, Coding::Baseline, 100) => "too short for 8000 × 8000", bomb;
    refused_progressive_64_megapixel_header_with_100_bytes: short(8000, 8000, Coding::Progressive, 100) => "progressive", bomb;
    refused_more_scans_than_a_camera_writes: many_scans(2000) => "scans", bomb;
    refused_arithmetic_coding: jpeg(64, 64, 3, Coding::Arithmetic) => "arithmetic", bomb;
    /// The 150 MB and 250 MB "JPEGs" accepted as 16×16 photos, at 3 MB: junk after the
    /// end marker; zeros after it (trimmed and accepted before); junk ending with an end marker.
    refused_16px_jpeg_followed_by_3_mb_of_junk: with_tail(camera(16, 16), &[0x5A; 3 << 20]) => "after the picture", bomb;
    refused_16px_jpeg_followed_by_3_mb_of_zeros: with_tail(camera(16, 16), &vec![0; 3 << 20]) => "after the picture", bomb;
    refused_16px_jpeg_followed_by_junk_and_an_end_marker: with_tail(camera(16, 16), &[&[0x5A; 3 << 20][..], &[0xFF, 0xD9]].concat()) => "after the picture", bomb;
    /// The junk inside the image data, before the end marker.
    refused_16px_jpeg_filled_with_3_mb_of_junk: with_inner(camera(16, 16), &[0x5A; 3 << 20]) => "a 16 × 16 picture", bomb;
    refused_16px_jpeg_followed_by_a_video: with_tail(camera(16, 16), &[&[0, 0, 0, 0x18][..], b"ftypmp42", &[0x11; 200_000]].concat()) => "motion photo", bomb;
    /// One byte over the limit, refused before anything is decoded.
    refused_over_the_size_limit: with_tail(camera(16, 16), &vec![0; MAX_PHOTO_BYTES as usize + 1 - camera(16, 16).len()]) => "more than the 64 MiB", bomb;
    refused_truncated: camera(640, 480)[..20_000].to_vec() => "truncated", bomb;
    refused_cut_inside_a_segment: camera(640, 480)[..30].to_vec() => "truncated";
    refused_png: { let mut png = std::io::Cursor::new(Vec::new()); image::RgbImage::new(8, 8).write_to(&mut png, image::ImageFormat::Png).unwrap(); png.into_inner() } => "a PNG image";
    refused_empty: Vec::new() => "an empty file";
    refused_text: b"not a photo at all".to_vec() => "not an image";
    refused_two_image_headers: { let j = jpeg(16, 16, 1, Coding::Baseline); with_inner(j, &segment(0xC0, &[8, 0, 16, 0, 16, 1, 1, 0x11, 0])) } => "damaged";
    refused_damaged_image_data: with_inner(camera(64, 64), &[0xFF, 0x47, 0x00, 0x10]) => "damaged";
}

// ---- what is accepted ----------------------------------------------------------------------

#[test]
fn a_64_megapixel_photo_is_accepted_quickly_in_little_memory() {
    let _one = serial();
    for (w, h, coding) in [(8000u16, 8000u16, Coding::Baseline), (16384, 3906, Coding::Baseline), (4000, 3000, Coding::Progressive)] {
        let (dir, mut store, id) = open();
        let bytes = jpeg(w, h, 3, coding);
        assert!(u64::from(w) * u64::from(h) <= MAX_PIXELS && u32::from(w.max(h)) <= MAX_SIDE_PX);
        let (result, took, grew_mb) = measured(|| store.attach_photo(&id, "1.2", &bytes, "", "王敏", NOW));
        let e = result.unwrap_or_else(|e| panic!("{w}×{h}: {e}"));
        eprintln!("{w}×{h}: {} ms, +{grew_mb:.0} MB", took.as_millis());
        assert_eq!((e.photo.width, e.photo.height), (u32::from(w), u32::from(h)));
        assert!(took < Duration::from_secs(2), "{w}×{h} took {took:?}");
        assert!(grew_mb < 100.0, "{w}×{h}: peak memory grew {grew_mb:.0} MB");
        let thumb = image::load_from_memory(&std::fs::read(store.thumb_path(&e.photo.sha256)).unwrap()).unwrap();
        assert_eq!(thumb.width().max(thumb.height()), 320);
        assert_eq!(photo_files(dir.path()), 2);
    }
    // Downscaled on capture to the longest long side allowed: still under 100 MB.
    let (_dir, mut store, id) = open();
    store.set_photo_long_side(Some(*photo::LONG_SIDE_RANGE.end())).unwrap();
    let bytes = jpeg(8000, 8000, 3, Coding::Baseline);
    let (result, took, grew_mb) = measured(|| store.attach_photo(&id, "1.2", &bytes, "", "王敏", NOW));
    let e = result.unwrap();
    eprintln!("8000×8000 downscaled: {} ms, +{grew_mb:.0} MB", took.as_millis());
    assert_eq!((e.photo.width, e.photo.height), (3072, 3072));
    assert!(grew_mb < 100.0, "downscaling grew peak memory {grew_mb:.0} MB");
}

#[test]
fn a_real_progressive_photo_and_a_cmyk_photo_are_accepted() {
    let _one = serial();
    let (_dir, mut store, id) = open();
    let (w, h) = (1200usize, 900usize);
    let rgb: Vec<u8> = (0..w * h).flat_map(|i| [(i % w * 255 / w) as u8, (i / w * 255 / h) as u8, 90]).collect();
    let progressive = compress_raw(&rgb, w, h, turbojpeg::raw::TJPF_TJPF_RGB, turbojpeg::raw::TJFLAG_PROGRESSIVE as i32);
    assert!(progressive.windows(2).any(|m| m == [0xFF, 0xC2]), "libjpeg-turbo wrote SOF2");
    let e = store.attach_photo(&id, "1.2", &progressive, "", "王敏", NOW).unwrap();
    assert_eq!((e.photo.width, e.photo.height), (1200, 900));
    let thumb = image::load_from_memory(&std::fs::read(store.thumb_path(&e.photo.sha256)).unwrap()).unwrap().to_rgb8();
    assert_eq!(thumb.dimensions(), (320, 240));
    let corner = thumb.get_pixel(318, 238);
    assert!(corner[0] > 200 && corner[1] > 200, "the thumbnail shows the picture: {corner:?}");

    // CMYK as libjpeg-turbo stores it (inverted, Adobe): pure cyan ink on the left half.
    let cmyk: Vec<u8> = (0..w * h).flat_map(|i| if i % w < w / 2 { [0, 255, 255, 255] } else { [255, 255, 255, 255] }).collect();
    let jpeg = compress_raw(&cmyk, w, h, turbojpeg::raw::TJPF_TJPF_CMYK, 0);
    let e = store.attach_photo(&id, "1.2", &jpeg, "", "王敏", NOW).unwrap();
    let thumb = image::load_from_memory(&std::fs::read(store.thumb_path(&e.photo.sha256)).unwrap()).unwrap().to_rgb8();
    let (left, right) = (thumb.get_pixel(40, 120), thumb.get_pixel(280, 120));
    assert!(left[0] < 60 && left[1] > 200 && left[2] > 200, "cyan on the left: {left:?}");
    assert!(right.0.iter().all(|&c| c > 230), "white on the right: {right:?}");
}

/// libjpeg-turbo's compressor with flags the crate does not expose (progressive).
fn compress_raw(pixels: &[u8], w: usize, h: usize, format: i32, flags: i32) -> Vec<u8> {
    use turbojpeg::raw;
    let bpp = pixels.len() / (w * h);
    unsafe {
        let handle = raw::tjInitCompress();
        let mut buf: *mut u8 = std::ptr::null_mut();
        let mut size: std::os::raw::c_ulong = 0;
        let r = raw::tjCompress2(
            handle,
            pixels.as_ptr(),
            w as i32,
            (w * bpp) as i32,
            h as i32,
            format,
            &mut buf,
            &mut size,
            raw::TJSAMP_TJSAMP_420 as i32,
            90,
            flags,
        );
        assert_eq!(r, 0, "tjCompress2");
        let out = std::slice::from_raw_parts(buf, size as usize).to_vec();
        raw::tjFree(buf);
        raw::tjDestroy(handle);
        out
    }
}

#[test]
fn images_appended_after_the_picture_and_a_little_padding_are_accepted_and_kept() {
    let _one = serial();
    let (_dir, mut store, id) = open();
    // Phones append a second JPEG (gain map, depth map, preview) after the picture's end
    // marker, listed in an MPF segment; some pad the file.
    let gain_map = camera(160, 120);
    for bytes in [
        with_tail(camera(640, 480), &gain_map),
        with_tail(with_tail(camera(640, 480), &gain_map), &[0u8; 4096]),
        with_tail(camera(640, 480), &vec![0u8; photo::EXTRA_BYTES_ALLOWED as usize]),
    ] {
        let e = store.attach_photo(&id, "1.2", &bytes, "", "王敏", NOW).unwrap();
        assert_eq!((e.photo.width, e.photo.height), (640, 480));
        assert_eq!(e.photo.size, bytes.len() as u64);
        assert_eq!(std::fs::read(store.photo_path(&e.photo.sha256)).unwrap(), bytes, "kept byte for byte");
        assert_eq!(e.photo.original_sha256, None);
    }
    let over = with_tail(camera(640, 480), &vec![0u8; photo::EXTRA_BYTES_ALLOWED as usize + 1]);
    let err = store.attach_photo(&id, "1.2", &over, "", "王敏", NOW).unwrap_err();
    assert!(err.to_string().contains("after the picture"), "{err}");
}

// ---- one size limit from the tablet to the lead --------------------------------------------

/// Regression (issue #15, "a stranded inspection"): the tablet accepted a 250 MB photo, the
/// export succeeded, and the lead refused the bundle — for ever, since evidence is append-only.
/// Now the largest photo the tablet accepts is one the lead imports.
#[test]
fn the_largest_photo_the_tablet_accepts_exports_and_the_lead_imports_it() {
    let _one = serial();
    const { assert!(MAX_PHOTO_BYTES <= MAX_FILE_BYTES, "capture's limit is within import's") };
    let (dir, mut store, id) = open();
    // A camera picture followed by an appended flat 8000×8000 JPEG whose image data fills the
    // file to exactly the limit.
    let picture = camera(1024, 768);
    let mut appended = header(8000, 8000, 1, Coding::Baseline);
    appended.extend(scan(&[1], 0, 63));
    let fill = MAX_PHOTO_BYTES as usize - picture.len() - appended.len() - 2;
    appended.extend(vec![0u8; fill]);
    appended.extend([0xFF, 0xD9]);
    let bytes = with_tail(picture, &appended);
    assert_eq!(bytes.len() as u64, MAX_PHOTO_BYTES);
    let e = store.attach_photo(&id, "1.2", &bytes, "", "王敏", NOW).unwrap();
    assert_eq!(e.photo.size, MAX_PHOTO_BYTES);
    let too_big = with_tail(bytes.clone(), &[0]);
    let err = store.attach_photo(&id, "1.2", &too_big, "", "王敏", NOW).unwrap_err();
    assert!(err.to_string().contains("more than the 64 MiB"), "{err}");

    let bundle = dir.path().join("out/tablet.hallmark");
    store.export_bundle(&id, &bundle, NOW, &mut |_, _| {}).unwrap();
    let lead_dir = tempfile::tempdir().unwrap();
    let mut lead = Store::open(lead_dir.path(), NOW).unwrap();
    let imported = lead.import_bundle(&bundle, NOW, &mut |_, _| {}).unwrap();
    assert!(matches!(imported, hallmark_store::bundle::Imported::Applied { photos: 1, .. }), "{imported:?}");
    assert_eq!(std::fs::read(lead.photo_path(&e.photo.sha256)).unwrap().len() as u64, MAX_PHOTO_BYTES);
}

/// Regression (issue #15, "a stranded inspection"): a photo over the import's per-file limit,
/// stored by a tablet before photos were limited, made a bundle that the lead then refused.
/// Export now refuses it before writing anything.
#[test]
fn export_refuses_a_photo_the_lead_could_not_import_and_writes_nothing() {
    use sha2::{Digest, Sha256};
    let _one = serial();
    let (dir, store, id) = open();
    let device = store.device_id().to_string();
    drop(store);
    // The 262144161-byte photo as such a tablet stored it: the file (sparse: zeros),
    // its thumbnail and its rows.
    let size: u64 = 262_144_161;
    let mut hasher = Sha256::new();
    let zeros = vec![0u8; 1 << 20];
    let mut left = size;
    while left > 0 {
        let n = left.min(zeros.len() as u64);
        hasher.update(&zeros[..n as usize]);
        left -= n;
    }
    let sha = format!("{:x}", hasher.finalize());
    let file = |folder: &str| dir.path().join(folder).join(&sha[..2]).join(format!("{sha}.jpg"));
    std::fs::create_dir_all(file("photos").parent().unwrap()).unwrap();
    std::fs::File::create(file("photos")).unwrap().set_len(size).unwrap();
    std::fs::create_dir_all(file("thumbs").parent().unwrap()).unwrap();
    std::fs::write(file("thumbs"), camera(320, 240)).unwrap();
    let db = rusqlite::Connection::open(dir.path().join(hallmark_store::DB_FILE)).unwrap();
    db.execute("INSERT INTO photos (sha256, size, width, height, orientation) VALUES (?1, ?2, 16, 16, 1)", rusqlite::params![sha, size as i64])
        .unwrap();
    db.execute(
        "INSERT INTO evidence (id, inspection_id, item_id, sha256, caption, author, device_id, attached_at) VALUES ('e1', ?1, '1.2', ?2, '', '王敏', ?3, ?4)",
        rusqlite::params![id, sha, device, NOW],
    )
    .unwrap();
    drop(db);

    let store = Store::open(dir.path(), NOW).unwrap();
    let out = dir.path().join("out");
    let err = store.export_bundle(&id, &out.join("tablet.hallmark"), NOW, &mut |_, _| {}).unwrap_err();
    assert!(matches!(err, StoreError::Invalid(_)), "{err:?}");
    assert!(err.to_string().contains(&format!("is 262144161 bytes, more than the {MAX_FILE_BYTES}")), "{err}");
    assert!(err.to_string().contains("none was written"), "{err}");
    assert_eq!(walkdir(&out), 0, "no bundle, no temp file");
}

// ---- downscale on capture ------------------------------------------------------------------

/// A JPEG with an EXIF block: Orientation and DateTimeOriginal.
fn with_exif(jpeg: &[u8], orientation: u16, taken: &str) -> Vec<u8> {
    let mut tiff: Vec<u8> = b"II*\0".to_vec();
    tiff.extend(8u32.to_le_bytes());
    tiff.extend(2u16.to_le_bytes()); // IFD0: Orientation, ExifIFDPointer
    tiff.extend(0x0112u16.to_le_bytes());
    tiff.extend(3u16.to_le_bytes());
    tiff.extend(1u32.to_le_bytes());
    tiff.extend(u32::from(orientation).to_le_bytes());
    let exif_ifd = 8 + 2 + 2 * 12 + 4;
    tiff.extend(0x8769u16.to_le_bytes());
    tiff.extend(4u16.to_le_bytes());
    tiff.extend(1u32.to_le_bytes());
    tiff.extend((exif_ifd as u32).to_le_bytes());
    tiff.extend(0u32.to_le_bytes());
    let data_at = exif_ifd + 2 + 12 + 4;
    tiff.extend(1u16.to_le_bytes()); // Exif IFD: DateTimeOriginal
    tiff.extend(0x9003u16.to_le_bytes());
    tiff.extend(2u16.to_le_bytes());
    tiff.extend(20u32.to_le_bytes());
    tiff.extend((data_at as u32).to_le_bytes());
    tiff.extend(0u32.to_le_bytes());
    tiff.extend(taken.as_bytes());
    tiff.push(0);
    let mut app1 = b"Exif\0\0".to_vec();
    app1.extend(tiff);
    let mut out = jpeg[..2].to_vec();
    out.extend(segment(0xE1, &app1));
    out.extend(&jpeg[2..]);
    out
}

#[test]
fn downscale_on_capture_stores_a_smaller_copy_and_records_the_original() {
    let _one = serial();
    let (dir, mut store, id) = open();
    assert_eq!(store.photo_long_side().unwrap(), None, "off by default");
    for bad in [0, 100, 639, 3073, 100_000] {
        let err = store.set_photo_long_side(Some(bad)).unwrap_err();
        assert!(matches!(err, StoreError::Invalid(_)) && err.to_string().contains("between 640 and 3072"), "{bad}: {err}");
    }
    store.set_photo_long_side(Some(1024)).unwrap();
    assert_eq!(store.photo_long_side().unwrap(), Some(1024));
    drop(store);
    let mut store = Store::open(dir.path(), NOW).unwrap();
    assert_eq!(store.photo_long_side().unwrap(), Some(1024), "kept in the database");

    let camera_file = with_exif(&camera(2000, 1500), 6, "2026:11:20 10:21:03");
    let e = store.attach_photo(&id, "1.2", &camera_file, "", "王敏", NOW).unwrap();
    assert_eq!((e.photo.width, e.photo.height), (1024, 768), "the long side is 1024");
    assert_eq!(e.photo.original_sha256.as_deref(), Some(photo::sha256_hex(&camera_file).as_str()));
    assert_eq!(e.photo.original_size, Some(camera_file.len() as u64));
    assert_eq!((e.photo.orientation, e.photo.taken_at.as_deref()), (6, Some("2026-11-20 10:21:03")));
    let stored = std::fs::read(store.photo_path(&e.photo.sha256)).unwrap();
    assert_eq!(photo::sha256_hex(&stored), e.photo.sha256);
    assert_eq!(stored.len() as u64, e.photo.size);
    assert!(stored.len() < camera_file.len() / 2, "{} vs {}", stored.len(), camera_file.len());
    // The stored copy is itself a photo hallmark accepts, with the camera's EXIF kept (the
    // pixels are not turned: orientation 6 still applies).
    let (again, _) = photo::examine(&stored).unwrap();
    assert_eq!((again.width, again.height, again.orientation), (1024, 768, 6));
    assert_eq!(again.taken_at.as_deref(), Some("2026-11-20 10:21:03"));
    let thumb = image::load_from_memory(&std::fs::read(store.thumb_path(&e.photo.sha256)).unwrap()).unwrap();
    assert_eq!((thumb.width(), thumb.height()), (240, 320), "the thumbnail is upright");
    assert_eq!(store.photo_meta(&e.photo.sha256).unwrap(), e.photo, "the row records the original");
    // The same camera file again: the same copy, stored once.
    let twice = store.attach_photo(&id, "2.1", &camera_file, "", "王敏", NOW).unwrap();
    assert_eq!(twice.photo.sha256, e.photo.sha256);

    // A photo already within the long side is stored as the camera made it.
    let small = camera(1024, 600);
    let kept = store.attach_photo(&id, "1.2", &small, "", "王敏", NOW).unwrap();
    assert_eq!((kept.photo.original_sha256, kept.photo.size), (None, small.len() as u64));
    assert_eq!(std::fs::read(store.photo_path(&kept.photo.sha256)).unwrap(), small);

    // Off again: originals.
    store.set_photo_long_side(None).unwrap();
    assert_eq!(store.photo_long_side().unwrap(), None);
    let original = store.attach_photo(&id, "1.2", &camera_file, "", "王敏", NOW).unwrap();
    assert_eq!(std::fs::read(store.photo_path(&original.photo.sha256)).unwrap(), camera_file);

    // The bundle carries the stored copy; the lead imports it.
    let bundle = dir.path().join("out/tablet.hallmark");
    store.export_bundle(&id, &bundle, NOW, &mut |_, _| {}).unwrap();
    let lead_dir = tempfile::tempdir().unwrap();
    let mut lead = Store::open(lead_dir.path(), NOW).unwrap();
    lead.import_bundle(&bundle, NOW, &mut |_, _| {}).unwrap();
    assert_eq!(std::fs::read(lead.photo_path(&e.photo.sha256)).unwrap(), stored);
}
