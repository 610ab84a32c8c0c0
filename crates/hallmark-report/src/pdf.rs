//! The report as an A4 PDF, laid out by typst (as a library): the template `report.typ` reads
//! the report model as JSON from a virtual file, photos and signatures from virtual files too.
//! Nothing is read from the disk but the font; no clock is consulted, so the same model gives
//! the same bytes.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use typst::diag::{FileError, FileResult};
use typst::foundations::{Bytes, Datetime, Duration, Smart};
use typst::syntax::{FileId, RootedPath, Source, VirtualPath, VirtualRoot};
use typst::text::{Font, FontBook};
use typst::utils::LazyHash;
use typst::{Library, LibraryExt, World};

use crate::model::Report;
use crate::printable;
use crate::ReportError;

const TEMPLATE: &str = include_str!("report.typ");

/// The CJK fonts the report is set in, in order of preference: Noto Sans CJK (Debian's
/// `fonts-noto-cjk`, which draws ℃ and the other symbols the standards print), then WenQuanYi
/// as the fallback (it draws ℃ blank, issue #14). Every one found is loaded; the template asks
/// for Noto first and typst falls back glyph by glyph. `HALLMARK_REPORT_FONT`, when set, is
/// used alone.
pub const FONT_PATHS: [&str; 3] = [
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
];

/// Loads the CJK fonts the report is set in.
pub fn load_fonts() -> Result<Vec<Font>, ReportError> {
    let read = |path: &Path| -> Vec<Font> { std::fs::read(path).map(|bytes| Font::iter(Bytes::new(bytes)).collect()).unwrap_or_default() };
    let chosen = std::env::var_os("HALLMARK_REPORT_FONT").map(PathBuf::from);
    let fonts: Vec<Font> = match &chosen {
        Some(p) => read(p),
        None => FONT_PATHS.iter().flat_map(|p| read(Path::new(p))).collect(),
    };
    if !fonts.is_empty() {
        return Ok(fonts);
    }
    let looked: Vec<String> = chosen.iter().map(|p| p.display().to_string()).chain(FONT_PATHS.iter().map(|p| p.to_string())).collect();
    Err(ReportError::Font(format!(
        "no Chinese font for the report: install fonts-noto-cjk (scripts/setup.sh --app does), or set HALLMARK_REPORT_FONT to a .ttf/.ttc file (looked in: {})",
        looked.join(", ")
    )))
}

/// Files the template may read: `/data.json`, `/img/<sha256>.jpg` (thumbnails),
/// `/sig/<sha256>.png` (handwritten signatures), `/qr.svg` (the cover's QR code).
pub struct Assets {
    pub files: HashMap<String, Vec<u8>>,
}

impl Assets {
    /// Collects the thumbnails and signature images the report names from the store's folders.
    pub fn collect(report: &Report, thumb: impl Fn(&str) -> PathBuf, signature: impl Fn(&str) -> PathBuf) -> Result<Assets, ReportError> {
        let mut files = HashMap::new();
        for e in &report.evidence {
            for p in &e.photos {
                let path = thumb(&p.sha256);
                let bytes = read(&path)?;
                files.insert(format!("/img/{}.jpg", p.sha256), bytes);
            }
        }
        for a in &report.assessors {
            if let Some(s) = &a.signature {
                files.insert(format!("/sig/{s}.png"), read(&signature(s))?);
            }
        }
        files.insert(QR_FILE.into(), qr_svg(&report.qr_text)?.into_bytes());
        Ok(Assets { files })
    }
}

/// The cover's QR code, as the template reads it.
pub const QR_FILE: &str = "/qr.svg";

/// The QR code of `text` as SVG: error correction M (15 % of the code may be lost to a fold or
/// a stain), black on white, with the 4-module quiet zone the standard asks. The template
/// sets its printed size.
pub fn qr_svg(text: &str) -> Result<String, ReportError> {
    use qrcode::render::svg;
    let code = qrcode::QrCode::with_error_correction_level(text.as_bytes(), qrcode::EcLevel::M)
        .map_err(|e| ReportError::Layout(format!("the QR code cannot hold {} bytes: {e}", text.len())))?;
    Ok(code
        .render::<svg::Color<'_>>()
        .quiet_zone(true)
        .module_dimensions(4, 4)
        .dark_color(svg::Color("#000000"))
        .light_color(svg::Color("#ffffff"))
        .build())
}

fn read(path: &Path) -> Result<Vec<u8>, ReportError> {
    std::fs::read(path)
        .map_err(|e| ReportError::Io(format!("cannot read evidence file {}: {e} (re-import the bundle that carries it)", path.display())))
}

struct ReportWorld {
    library: LazyHash<Library>,
    book: LazyHash<FontBook>,
    fonts: Vec<Font>,
    main: FileId,
    source: Source,
    files: HashMap<FileId, Bytes>,
}

fn file_id(path: &str) -> FileId {
    RootedPath::new(VirtualRoot::Project, VirtualPath::new(path).expect("static virtual path")).intern()
}

impl World for ReportWorld {
    fn library(&self) -> &LazyHash<Library> {
        &self.library
    }
    fn book(&self) -> &LazyHash<FontBook> {
        &self.book
    }
    fn main(&self) -> FileId {
        self.main
    }
    fn source(&self, id: FileId) -> FileResult<Source> {
        if id == self.main {
            Ok(self.source.clone())
        } else {
            Err(FileError::NotFound(PathBuf::from(id.vpath().get_with_slash())))
        }
    }
    fn file(&self, id: FileId) -> FileResult<Bytes> {
        self.files.get(&id).cloned().ok_or_else(|| FileError::NotFound(PathBuf::from(id.vpath().get_with_slash())))
    }
    fn font(&self, index: usize) -> Option<Font> {
        self.fonts.get(index).cloned()
    }
    fn today(&self, _offset: Option<Duration>) -> Option<Datetime> {
        None // the report's dates come from the inspections, never the clock
    }
}

/// Whether one of the fonts has a glyph for `c`.
pub fn covers(fonts: &[Font], c: char) -> bool {
    fonts.iter().any(|f| f.info().coverage.contains(c as u32))
}

/// Lays out and writes the PDF. Free text is printed as the fonts can draw it: a character
/// none of them has (an emoji, Arabic) shows as U+FFFD instead of blank ([`printable::drawable`]).
pub fn render(report: &Report, assets: Assets, fonts: Vec<Font>) -> Result<Vec<u8>, ReportError> {
    let mut printed = report.clone();
    printable::each_text(&mut printed, |s| *s = printable::drawable(s, |c| covers(&fonts, c)));
    let mut files: HashMap<FileId, Bytes> = HashMap::new();
    files.insert(file_id("/data.json"), Bytes::new(serde_json::to_vec(&printed).expect("report serializes")));
    for (path, bytes) in assets.files {
        files.insert(file_id(&path), Bytes::new(bytes));
    }
    compile(TEMPLATE.to_string(), files, fonts, &report.number)
}

/// A one-page PDF of `text` at `size_pt`, set in the report's fonts exactly as the template
/// sets them (its `#set text(font: …)` line): how a test checks that a character is drawn.
pub fn render_sample(text: &str, size_pt: u32, fonts: Vec<Font>) -> Result<Vec<u8>, ReportError> {
    let font_line = TEMPLATE.lines().find(|l| l.starts_with("#set text(font:")).expect("the template sets its fonts");
    let escaped: String = text.chars().flat_map(|c| if c.is_ascii_alphanumeric() || !c.is_ascii() { vec![c] } else { vec!['\\', c] }).collect();
    let source = format!("#set page(width: auto, height: auto, margin: 10pt)\n{font_line}\n#set text(size: {size_pt}pt)\n{escaped}\n");
    compile(source, HashMap::new(), fonts, "sample")
}

fn compile(source: String, files: HashMap<FileId, Bytes>, fonts: Vec<Font>, ident: &str) -> Result<Vec<u8>, ReportError> {
    let main = file_id("/report.typ");
    let world = ReportWorld {
        library: LazyHash::new(Library::builder().build()),
        book: LazyHash::new(FontBook::from_fonts(&fonts)),
        fonts,
        main,
        source: Source::new(main, source),
        files,
    };
    let warned = typst::compile::<typst_layout::PagedDocument>(&world);
    let document =
        warned.output.map_err(|errors| ReportError::Layout(errors.iter().map(|e| e.message.to_string()).collect::<Vec<_>>().join("; ")))?;
    let options = typst_pdf::PdfOptions { ident: Smart::Custom(ident.to_string()), ..Default::default() };
    typst_pdf::pdf(&document, &options)
        .map_err(|errors| ReportError::Layout(errors.iter().map(|e| e.message.to_string()).collect::<Vec<_>>().join("; ")))
}
