//! Issue #14: ℃ (U+2103) printed blank in WenQuanYi Micro Hei ("服务区域温度22 、"). The report
//! is set in Noto Sans CJK (Debian's fonts-noto-cjk), WenQuanYi only as the fallback. Checked
//! two ways: the font has a glyph with an outline for ℃, and a PDF of ℃ in the report's fonts,
//! rendered by poppler, has ink where a blank glyph has none.

use std::path::Path;
use std::process::Command;

use hallmark_report::pdf;
use typst::foundations::Bytes;
use typst::text::Font;

const CELSIUS: char = '\u{2103}';
const WENQUANYI: &str = "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc";

/// Dark pixels of a PDF's first page rendered by pdftoppm at 72 dpi, in grey.
fn ink(pdf_bytes: &[u8]) -> usize {
    let t = tempfile::tempdir().unwrap();
    let pdf = t.path().join("sample.pdf");
    std::fs::write(&pdf, pdf_bytes).unwrap();
    let out = t.path().join("sample");
    let ok = Command::new("pdftoppm")
        .args(["-gray", "-r", "72", "-singlefile"])
        .arg(&pdf)
        .arg(&out)
        .status()
        .expect("pdftoppm (apt-get install poppler-utils)");
    assert!(ok.success());
    let pgm = std::fs::read(t.path().join("sample.pgm")).unwrap();
    // P5 header: "P5\n<w> <h>\n<max>\n", then one byte per pixel.
    let mut fields = 0;
    let mut at = 0;
    while fields < 4 {
        while pgm[at].is_ascii_whitespace() {
            at += 1;
        }
        while !pgm[at].is_ascii_whitespace() {
            at += 1;
        }
        fields += 1;
    }
    pgm[at + 1..].iter().filter(|&&p| p < 128).count()
}

#[test]
fn the_report_font_draws_the_degree_celsius_sign() {
    let fonts = pdf::load_fonts().unwrap();
    let noto = fonts.iter().find(|f| f.info().family == "Noto Sans CJK SC").expect("Noto Sans CJK SC is loaded (apt-get install fonts-noto-cjk)");
    let face = ttf_parser::Face::parse(noto.data(), noto.index()).unwrap();
    let glyph = face.glyph_index(CELSIUS).expect("Noto Sans CJK SC maps ℃");
    assert!(face.glyph_bounding_box(glyph).is_some(), "Noto's ℃ has an outline");

    // Rendered: ℃ has ink, as much as a character of its size; a space (the blank glyph) none.
    let celsius = ink(&pdf::render_sample(&CELSIUS.to_string(), 48, fonts.clone()).unwrap());
    let blank = ink(&pdf::render_sample("\u{3000}", 48, fonts.clone()).unwrap());
    let degree_c = ink(&pdf::render_sample("°C", 48, fonts).unwrap());
    assert_eq!(blank, 0);
    assert!(celsius * 2 > degree_c && celsius > 50, "℃ rendered with {celsius} dark pixels (°C: {degree_c}): blank");
}

/// What the issue saw: WenQuanYi Micro Hei alone draws ℃ blank (skipped where it is not installed).
#[test]
fn wenquanyi_alone_draws_the_degree_celsius_sign_blank() {
    let Ok(bytes) = std::fs::read(Path::new(WENQUANYI)) else { return };
    let wqy: Vec<Font> = Font::iter(Bytes::new(bytes)).collect();
    let celsius = ink(&pdf::render_sample(&CELSIUS.to_string(), 48, wqy.clone()).unwrap());
    let degree_c = ink(&pdf::render_sample("°C", 48, wqy).unwrap());
    assert!(degree_c > 50, "°C is drawn ({degree_c})");
    assert!(celsius * 10 < degree_c, "℃ in WenQuanYi had {celsius} dark pixels: it is no longer blank; the fallback note in report.typ is stale");
}
