//! Text from the field, made printable (issue #15). A tablet may have put anything in a name, a
//! unit or a caption: a bidi override, a control character, an emoji, 2,000 characters. Every
//! free-text field of the report passes through [`clean`] when the model is built (the list is
//! [`each_text`]), so every rendering — PDF, plain text, CSV/XLSX, sidecar — gets the same text:
//!
//! - bidi controls (U+202A–U+202E, U+2066–U+2069, U+200E, U+200F, U+061C) are removed: a field
//!   is shown in the order it was typed, and an override can no longer reverse what a reader
//!   sees ("李娜\u{202E}gnp.exe" prints as "李娜gnp.exe");
//! - line and paragraph breaks and tabs become one space: every field is one line;
//! - every other control character (C0, DEL, C1) becomes U+FFFD, visibly.
//!
//! The PDF then replaces what none of its fonts can draw (an emoji, Arabic with the CJK font
//! alone) with U+FFFD through [`drawable`], so nothing prints blank. The model keeps each field
//! in full; where a name stands inside a list or a sentence it is cut with [`bounded`] at
//! [`NAME_CHARS`]; the PDF template cuts and wraps the rest (docs/report.md, "Text in the
//! report", lists every bound).

use crate::model::Report;

/// What stands for a character that cannot be shown: U+FFFD, which the report's font draws.
pub const REPLACEMENT: char = '\u{FFFD}';

/// The longest a name is printed where it stands inside a list or a sentence (扣分说明,
/// 否决项核查, photo labels), in characters with the "…" that ends a cut one.
pub const NAME_CHARS: usize = 24;

/// An explicit bidi embedding, override, isolate or mark.
pub fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}')
}

/// A break that would start a new line: each becomes one space.
fn is_line_break(c: char) -> bool {
    matches!(c, '\n' | '\r' | '\t' | '\u{0B}' | '\u{0C}' | '\u{85}' | '\u{2028}' | '\u{2029}')
}

/// The field as the report prints it: bidi controls removed, line breaks and tabs as one space,
/// other control characters as U+FFFD. Ordinary text comes back unchanged.
pub fn clean(s: &str) -> String {
    if !s.chars().any(|c| c.is_control() || is_bidi_control(c) || is_line_break(c)) {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len());
    let mut after_break = false;
    for c in s.chars() {
        if is_bidi_control(c) {
            continue;
        }
        if is_line_break(c) {
            if !after_break {
                out.push(' ');
            }
            after_break = true;
            continue;
        }
        after_break = false;
        out.push(if c.is_control() { REPLACEMENT } else { c });
    }
    out
}

/// At most `max_chars` characters: a longer text is cut to `max_chars - 1` and ends in "…".
pub fn bounded(s: &str, max_chars: usize) -> String {
    if s.chars().nth(max_chars).is_none() {
        return s.to_string();
    }
    let mut out: String = s.chars().take(max_chars.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// Invisible by definition (Unicode Default_Ignorable_Code_Point, the common ones): without a
/// glyph they print nothing, so they are dropped rather than marked. Emoji joiners and
/// variation selectors are among them.
fn is_ignorable(c: char) -> bool {
    matches!(
        c,
        '\u{AD}'
            | '\u{34F}'
            | '\u{180B}'..='\u{180F}'
            | '\u{200B}'..='\u{200D}'
            | '\u{2060}'..='\u{2064}'
            | '\u{FE00}'..='\u{FE0F}'
            | '\u{FEFF}'
            | '\u{E0000}'..='\u{E0FFF}'
    )
}

/// The text as the PDF can draw it: a character none of the fonts has a glyph for becomes
/// U+FFFD (an invisible one is dropped). `covers` says whether some font draws a character.
pub fn drawable(s: &str, covers: impl Fn(char) -> bool) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c.is_whitespace() || covers(c) {
            out.push(c);
        } else if !is_ignorable(c) {
            out.push(REPLACEMENT);
        }
    }
    out
}

/// Calls `f` on every free-text field of the report: all that tablets, the lead's details
/// file or the rubric wrote, and the sentences made from them. Ids, hashes, points, dates
/// the model computes and key fingerprints are not free text and are left alone.
pub fn each_text(r: &mut Report, mut f: impl FnMut(&mut String)) {
    for s in [&mut r.title, &mut r.grade, &mut r.rubric_title, &mut r.source, &mut r.process, &mut r.conclusion] {
        f(s);
    }
    // A certificate from another CA may name anyone anything.
    for s in [&mut r.signer.name, &mut r.signer.unit, &mut r.signer.title, &mut r.signer.issuer] {
        f(s);
    }
    let site = &mut r.site;
    for s in [&mut site.name, &mut site.address, &mut site.level, &mut site.head, &mut site.phone, &mut site.email] {
        f(s);
    }
    for a in &mut r.assessors {
        for s in [&mut a.role, &mut a.name, &mut a.unit, &mut a.title, &mut a.phone] {
            f(s);
        }
        if let Some(k) = &mut a.known_as {
            f(k);
        }
        a.notes.values_mut().for_each(&mut f);
    }
    for i in r.items.iter_mut().chain([&mut r.total]) {
        f(&mut i.name);
        f(&mut i.group);
        i.explanations.iter_mut().for_each(&mut f);
        i.notes.iter_mut().for_each(&mut f);
    }
    r.groups.iter_mut().for_each(|g| f(&mut g.name));
    for v in &mut r.vetoes {
        f(&mut v.text);
        v.found_by.iter_mut().for_each(&mut f);
    }
    for g in &mut r.recommendations {
        f(&mut g.group);
        g.lines.iter_mut().for_each(&mut f);
    }
    r.warnings.iter_mut().for_each(&mut f);
    r.reviews.iter_mut().for_each(&mut f);
    for x in &mut r.excluded {
        f(&mut x.name);
        f(&mut x.reason);
    }
    for e in &mut r.evidence {
        f(&mut e.item_name);
        for p in &mut e.photos {
            for s in [&mut p.assessor, &mut p.captured_at, &mut p.caption] {
                f(s);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clean_neutralizes_bidi_and_control_characters() {
        let cases = [
            ("王敏", "王敏"),
            ("李娜\u{202E}gnp.exe", "李娜gnp.exe"),
            ("\u{2067}مرحبا\u{2069}\u{200F}", "مرحبا"),
            ("铁岭市\n医疗保障局\r\n\t办公室\u{2028}二楼", "铁岭市 医疗保障局 办公室 二楼"),
            ("李\u{0}娜\u{7}\u{1b}[31m\u{7f}\u{9b}", "李\u{FFFD}娜\u{FFFD}\u{FFFD}[31m\u{FFFD}\u{FFFD}"),
            ("=cmd|' /C calc'!A0", "=cmd|' /C calc'!A0"),
            ("👨\u{200D}👩\u{200D}👧", "👨\u{200D}👩\u{200D}👧"),
        ];
        for (field, printed) in cases {
            assert_eq!(clean(field), printed, "{field:?}");
        }
    }

    #[test]
    fn bounded_cuts_with_an_ellipsis_at_the_bound() {
        assert_eq!(bounded("王敏", 3), "王敏");
        assert_eq!(bounded("王敏敏", 3), "王敏敏");
        assert_eq!(bounded("王敏敏敏", 3), "王敏…");
        assert_eq!(bounded(&"长".repeat(2000), NAME_CHARS).chars().count(), NAME_CHARS);
    }

    #[test]
    fn drawable_marks_what_no_font_draws_and_drops_invisible_marks() {
        let cjk = |c: char| c.is_ascii() || ('\u{4E00}'..='\u{9FFF}').contains(&c);
        assert_eq!(drawable("李娜 محمد", cjk), "李娜 \u{FFFD}\u{FFFD}\u{FFFD}\u{FFFD}");
        assert_eq!(drawable("大厅❤\u{FE0F}👨\u{200D}👩", cjk), "大厅\u{FFFD}\u{FFFD}\u{FFFD}");
        assert_eq!(drawable("医保 window 2", cjk), "医保 window 2");
    }
}
