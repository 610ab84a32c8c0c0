//! Hostile text in the report (issue #15): whatever an assessor's tablet put in a name, a unit,
//! a site or a caption, the PDF stays sane. Each case re-signs the demo bundles as a tablet
//! without capture bounds would have written them, imports them into a lead database, renders
//! the real PDF with typst and reads it back with poppler (`pdftotext`, `pdfinfo`):
//!
//! - the text that must be visible is there (a replacement mark where the font has no glyph);
//! - no bidi control survives into the PDF's text;
//! - the page count stays within two pages of the plain demo report;
//! - every word lies inside the page's text column and no two words overlap (nothing runs off
//!   the page, the running header never lands on the footer or the body).
//!
//! `HALLMARK_KEEP_PDF=DIR` keeps each case's PDF for eyes.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use hallmark_bundle::format::{SignatureFileV1, MANIFEST, SIGNATURE};
use hallmark_bundle::ustar;
use hallmark_report::{model, pdf, seal, table};
use hallmark_store::identity::{install_seed, DeviceKey};
use hallmark_store::{demo, Store};
use serde_json::Value;
use sha2::{Digest, Sha256};

const NOW: &str = "2026-11-21T09:00:00.000Z";
const ISSUED_ON: &str = "2026-11-20";

/// The Unicode replacement character: what the PDF shows for a character its font cannot draw.
const REPLACEMENT: char = '\u{FFFD}';

/// A free-text field a tablet writes into its bundle.
#[derive(Debug, Clone, Copy)]
enum Field {
    /// `inspection.site_name`, in all five Liaoning bundles (the lead merges by site).
    SiteName,
    SiteAddress,
    /// `inspection.assessor_name` of the second assessor (李娜), and the author of her events.
    AssessorName,
    AssessorUnit,
    AssessorTitle,
    AssessorPhone,
}

struct Case {
    /// Each field set to its text.
    edits: Vec<(Field, String)>,
    /// Must be in the PDF's text (whitespace squeezed out).
    visible: Vec<String>,
    /// Must not be in the PDF's text.
    absent: Vec<String>,
    /// The PDF shows at least this many replacement marks.
    replacements: usize,
}

fn case(field: Field, text: impl Into<String>) -> Case {
    Case { edits: vec![(field, text.into())], visible: Vec::new(), absent: Vec::new(), replacements: 0 }
}

impl Case {
    fn and(mut self, field: Field, text: impl Into<String>) -> Case {
        self.edits.push((field, text.into()));
        self
    }
    fn shows(mut self, needle: impl Into<String>) -> Case {
        self.visible.push(needle.into());
        self
    }
    fn hides(mut self, needle: impl Into<String>) -> Case {
        self.absent.push(needle.into());
        self
    }
    fn replaced(mut self, n: usize) -> Case {
        self.replacements = n;
        self
    }
}

/// 2,000 characters: `head` then `fill` repeated.
fn long(head: &str, fill: &str) -> String {
    head.chars().chain(fill.chars().cycle()).take(2000).collect()
}

// ---- the cases

#[test]
fn assessor_name_of_2000_chinese_characters() {
    check(case(Field::AssessorName, long("李娜", "长名字")).shows("李娜长名字长名字"));
}

#[test]
fn assessor_name_of_2000_latin_letters_without_a_space() {
    check(case(Field::AssessorName, long("Lina", "X")).shows("LinaXXXX"));
}

#[test]
fn assessor_unit_of_2000_characters() {
    check(case(Field::AssessorUnit, long("铁岭市医疗保障局", "第一分局办公室")).shows("铁岭市医疗保障局第一分局"));
}

#[test]
fn assessor_title_and_phone_of_2000_characters() {
    check(case(Field::AssessorTitle, long("科员", "ABCDEFGHIJ")).shows("科员ABCDEFGH"));
    check(case(Field::AssessorPhone, long("024-", "0123456789")).shows("024-0123456789"));
}

#[test]
fn site_name_and_address_of_2000_characters() {
    // Cut on the cover, whole in 一、受评单位信息: its end is in the PDF.
    let site = long("铁岭县医疗保障事务服务中心", "服务大厅") + "（完）";
    let end: String = site.chars().skip(site.chars().count() - 12).collect();
    check(
        case(Field::SiteName, &site)
            .and(Field::SiteAddress, long("铁岭县", "银州路1号"))
            .shows("铁岭县医疗保障事务服务中心服务大厅")
            .shows(end)
            .shows("铁岭县银州路1号"),
    );
}

#[test]
fn right_to_left_override_in_a_name_is_neutralized() {
    // Shown as typed, left to right: "李娜gnp.exe", never reversed to "李娜exe.png".
    check(case(Field::AssessorName, "李娜\u{202E}gnp.exe").shows("李娜gnp.exe").hides("\u{202E}").hides("exe.png"));
}

#[test]
fn every_bidi_control_in_a_site_name_is_neutralized() {
    let controls = "\u{202A}\u{202B}\u{202C}\u{202D}\u{202E}\u{2066}\u{2067}\u{2068}\u{2069}\u{200E}\u{200F}\u{061C}";
    let mut c = case(Field::SiteName, format!("铁岭县{controls}医疗保障事务服务中心")).shows("铁岭县医疗保障事务服务中心");
    for ch in controls.chars() {
        c = c.hides(ch.to_string());
    }
    check(c);
}

#[test]
fn arabic_in_a_name_shows_replacement_marks_not_blank() {
    check(case(Field::AssessorName, "李娜 محمد").shows("李娜").replaced(4));
}

#[test]
fn emoji_in_a_unit_show_replacement_marks_not_blank() {
    check(case(Field::AssessorUnit, "铁岭市医疗保障局😀👍🏽❤\u{FE0F}👨\u{200D}👩").shows("铁岭市医疗保障局").replaced(5));
}

#[test]
fn control_characters_in_a_name_are_replaced_visibly() {
    check(case(Field::AssessorName, "李\u{0}娜\u{7}\u{1b}[31m\u{7f}").shows("李\u{FFFD}娜").hides("\u{0}").hides("\u{1b}").replaced(4));
}

#[test]
fn line_breaks_in_a_unit_do_not_break_the_table() {
    check(case(Field::AssessorUnit, "铁岭市\n医疗保障局\r\n\t办公室\u{2028}二楼").shows("铁岭市医疗保障局办公室二楼"));
}

/// A guard, not a regression: this passed before issue #15 too (table.rs escapes the CSV cell,
/// typst prints a string as text, never as markup).
#[test]
fn spreadsheet_formula_and_typst_markup_in_a_name_are_shown_as_typed() {
    check(case(Field::AssessorName, "=cmd|' /C calc'!A0").shows("=cmd|'/Ccalc'!A0"));
    check(case(Field::AssessorName, "#a *粗* $x$ <a> @a \\ ]").shows("#a*粗*$x$<a>@a\\]"));
}

// ---- the machinery

/// The pages of the plain demo report: the bound every case is held to (+2).
fn normal_pages() -> usize {
    static PAGES: OnceLock<usize> = OnceLock::new();
    *PAGES.get_or_init(|| {
        let t = tempfile::tempdir().unwrap();
        let (pdf, _) = render(t.path(), None);
        pages(&pdf)
    })
}

fn check(case: Case) {
    let t = tempfile::tempdir().unwrap();
    let (pdf, report) = render(t.path(), Some(&case));
    if let Some(keep) = std::env::var_os("HALLMARK_KEEP_PDF") {
        let (field, text) = &case.edits[0];
        let name: String =
            format!("{field:?}-{}", text.chars().take(8).collect::<String>()).chars().map(|c| if c.is_alphanumeric() { c } else { '_' }).collect();
        std::fs::create_dir_all(&keep).unwrap();
        std::fs::copy(&pdf, Path::new(&keep).join(format!("{name}.pdf"))).unwrap();
    }
    let what: Vec<String> = case.edits.iter().map(|(f, t)| format!("{f:?} = {:?}", t.chars().take(24).collect::<String>())).collect();
    let what = what.join(", ");

    let text = pdftotext(&pdf);
    let squeezed: String = text.chars().filter(|c| !c.is_whitespace() && *c != '\u{200B}').collect();
    for needle in &case.visible {
        let needle: String = needle.chars().filter(|c| !c.is_whitespace()).collect();
        assert!(squeezed.contains(&needle), "{what}: the PDF's text lacks {needle:?}");
    }
    for needle in &case.absent {
        assert!(!text.contains(needle.as_str()), "{what}: the PDF's text holds {needle:?}");
    }
    for c in text.chars() {
        assert!(!is_bidi_control(c), "{what}: the PDF's text holds the bidi control U+{:04X}", c as u32);
    }
    let marks = text.chars().filter(|&c| c == REPLACEMENT).count();
    assert!(marks >= case.replacements, "{what}: {marks} replacement marks in the PDF, expected at least {}", case.replacements);

    let n = pages(&pdf);
    assert!(n <= normal_pages() + 2, "{what}: {n} pages, the plain report has {}", normal_pages());
    words_inside_the_column_and_apart(&pdf, &what);

    // The full text stays where it belongs: the score table (CSV) has every character of a
    // long name or unit, the model (plain text, sidecar) too.
    let csv = String::from_utf8(table::csv(&report)).unwrap();
    for (field, text) in &case.edits {
        if matches!(field, Field::AssessorName | Field::AssessorUnit | Field::SiteName) && text.chars().count() > 100 {
            assert!(csv.contains(text.as_str()), "{what}: the CSV lacks the full text");
        }
    }
}

fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}')
}

/// Demo bundles (edited by `case`) → lead database → report → PDF, sealed and verified.
fn render(dir: &Path, case: Option<&Case>) -> (PathBuf, model::Report) {
    let bundles = demo::write_bundles(&dir.join("bundles")).unwrap();
    let lead_dir = dir.join("lead");
    install_seed(&lead_dir, &[7u8; 32]).unwrap();
    let mut store = Store::open(&lead_dir, NOW).unwrap();
    for (n, b) in bundles.iter().enumerate() {
        if let Some(case) = case {
            if b.path.file_name().unwrap().to_string_lossy().starts_with("liaoning-") {
                resign(dir, n, &b.path, |m| edit(m, case, n));
            }
        }
        store.import_bundle(&b.path, NOW, &mut |_, _| {}).unwrap();
    }
    let group = model::pick_group(&store, None, Some("liaoning-demo-window")).unwrap();
    let details = model::Details { leader: Some("王敏".into()), ..model::Details::default() };
    let report = model::build(&store, &group, &details, ISSUED_ON).unwrap();
    let assets = pdf::Assets::collect(&report, |s| store.thumb_path(s), |s| store.signature_path(s)).unwrap();
    let bytes = pdf::render(&report, assets, pdf::load_fonts().unwrap()).unwrap();
    let out = dir.join("report.pdf");
    seal::write(&out, &bytes, &seal::seal(&report, &bytes, store.device_key(), chrono::Utc::now())).unwrap();
    let v = seal::verify(&out, Some(&dir.join("bundles"))).unwrap();
    assert!(v.ok, "{}", v.text());
    (out, report)
}

/// The fields the case names, set in bundle `n`'s manifest (n = 1 is 李娜).
fn edit(m: &mut Value, case: &Case, n: usize) {
    for (field, text) in &case.edits {
        set(m, *field, text, n);
    }
}

fn set(m: &mut Value, field: Field, text: &str, n: usize) {
    let text = Value::from(text);
    match field {
        Field::SiteName => m["inspection"]["site_name"] = text,
        Field::SiteAddress => m["inspection"]["site_address"] = text,
        _ if n != 1 => {}
        Field::AssessorName => {
            let old = m["inspection"]["assessor_name"].clone();
            m["inspection"]["assessor_name"] = text.clone();
            for list in ["events", "evidence"] {
                for e in m[list].as_array_mut().unwrap().iter_mut().filter(|e| e["author"] == old) {
                    e["author"] = text.clone();
                }
            }
        }
        Field::AssessorUnit => m["inspection"]["assessor_unit"] = text,
        Field::AssessorTitle => m["inspection"]["assessor_title"] = text,
        Field::AssessorPhone => m["inspection"]["assessor_phone"] = text,
    }
}

/// Rewrites a demo bundle with an edited manifest, signed again with its tablet's key (the
/// demo tablets' keys are fixed seeds): a bundle as a tablet without capture bounds made it.
fn resign(dir: &Path, n: usize, path: &Path, edit: impl FnOnce(&mut Value)) {
    let key_dir = dir.join(format!("keys/tablet-{n}"));
    install_seed(&key_dir, &Sha256::digest(format!("hallmark demo tablet {n}")).into()).unwrap();
    let key = DeviceKey::load_or_create(&key_dir, &mut Vec::new()).unwrap();
    let entries = ustar::read_all(&mut std::fs::File::open(path).unwrap(), 1 << 30).unwrap();
    let mut manifest: Value = serde_json::from_slice(&entries.iter().find(|(name, _)| name == MANIFEST).unwrap().1).unwrap();
    assert_eq!(manifest["device"]["public_key"], key.public_key_hex().as_str(), "the demo tablet's key");
    edit(&mut manifest);
    let manifest = serde_json::to_vec_pretty(&manifest).unwrap();
    let signature = SignatureFileV1 {
        algorithm: "ed25519".into(),
        public_key: key.public_key_hex(),
        signature: key.sign(&manifest).iter().map(|b| format!("{b:02x}")).collect(),
    };
    let signature = serde_json::to_vec_pretty(&signature).unwrap();
    let mut tar = ustar::Writer::new(Vec::new());
    for (name, bytes) in &entries {
        let bytes = match name.as_str() {
            MANIFEST => &manifest,
            SIGNATURE => &signature,
            _ => bytes,
        };
        tar.append(name, bytes.len() as u64, &mut bytes.as_slice()).unwrap();
    }
    std::fs::write(path, tar.finish().unwrap()).unwrap();
}

fn pdftotext(pdf: &Path) -> String {
    let out = Command::new("pdftotext").arg(pdf).arg("-").output().expect("pdftotext (apt-get install poppler-utils)");
    assert!(out.status.success(), "pdftotext failed");
    String::from_utf8(out.stdout).unwrap()
}

fn pages(pdf: &Path) -> usize {
    let out = Command::new("pdfinfo").arg(pdf).output().expect("pdfinfo (apt-get install poppler-utils)");
    let info = String::from_utf8_lossy(&out.stdout).into_owned();
    info.lines().find_map(|l| l.strip_prefix("Pages:")).and_then(|n| n.trim().parse().ok()).unwrap_or_else(|| panic!("pdfinfo: {info}"))
}

/// A word as `pdftotext -bbox` places it, in points from the page's top left.
#[derive(Debug)]
struct Word {
    text: String,
    x0: f64,
    y0: f64,
    x1: f64,
    y1: f64,
}

/// Every word inside the page's text column (A4, 2 cm side margins, so 56.7 pt to 538.6 pt;
/// typst hangs CJK punctuation such as "（" and "；" up to half an em into the margin), and
/// no two words on a page overlapping.
fn words_inside_the_column_and_apart(pdf: &Path, what: &str) {
    let out = Command::new("pdftotext").arg("-bbox").arg(pdf).arg("-").output().expect("pdftotext");
    let html = String::from_utf8(out.stdout).unwrap();
    let attr = |tag: &str, name: &str| -> f64 {
        let tag = format!(" {}", tag.split('>').next().unwrap());
        let at = tag.find(&format!(" {name}=\"")).unwrap_or_else(|| panic!("{name} in {tag}")) + name.len() + 3;
        tag[at..].split('"').next().unwrap().parse().unwrap()
    };
    for (p, page) in html.split("<page ").skip(1).enumerate() {
        let (width, height) = (attr(page, "width"), attr(page, "height"));
        let (left, right) = (2.0 * 72.0 / 2.54 - 5.0, width - 2.0 * 72.0 / 2.54 + 5.0);
        let mut words = Vec::new();
        for w in page.split("<word ").skip(1) {
            let text = w.split('>').nth(1).unwrap().split('<').next().unwrap().to_string();
            let word = Word { x0: attr(w, "xMin"), y0: attr(w, "yMin"), x1: attr(w, "xMax"), y1: attr(w, "yMax"), text };
            assert!(
                word.x0 >= left && word.x1 <= right && word.y0 >= 0.0 && word.y1 <= height,
                "{what}: on page {} the word {:?} lies outside the text column: {word:?}",
                p + 1,
                word.text.chars().take(20).collect::<String>()
            );
            words.push(word);
        }
        for (i, a) in words.iter().enumerate() {
            for b in &words[i + 1..] {
                let dx = a.x1.min(b.x1) - a.x0.max(b.x0);
                let dy = a.y1.min(b.y1) - a.y0.max(b.y0);
                assert!(
                    dx <= 1.0 || dy <= 1.0,
                    "{what}: on page {} the words {:?} and {:?} overlap: {a:?} {b:?}",
                    p + 1,
                    a.text.chars().take(20).collect::<String>(),
                    b.text.chars().take(20).collect::<String>()
                );
            }
        }
    }
}
