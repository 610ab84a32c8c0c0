//! Charts as inline SVG, drawn on the server (no script, no remote library). Coordinates are
//! computed in decimals like every figure here; labels carry the exact values.

use std::str::FromStr;

use rust_decimal::Decimal;

use crate::html::esc;

fn dec(s: &str) -> Option<Decimal> {
    Decimal::from_str(s).ok()
}

/// One decimal place, for coordinates.
fn c(d: Decimal) -> String {
    d.round_dp(1).normalize().to_string()
}

/// A hall's final scores over time: one point per evaluation (x: in order, labelled by the
/// visit date), the pass line dashed when the rubric has one. `points`: (date, final score).
pub fn score_plot(points: &[(String, Option<String>)], pass_at: Option<&str>) -> String {
    let (w, h, left, right, top, bottom) = (640, 220, 44, 16, 14, 36);
    let plot_w = Decimal::from(w - left - right);
    let plot_h = Decimal::from(h - top - bottom);
    let y_of =
        |score: Decimal| Decimal::from(top) + (Decimal::from(100) - score.clamp(Decimal::ZERO, Decimal::from(100))) * plot_h / Decimal::from(100);
    let n = points.len().max(1);
    let x_of = |i: usize| {
        if n == 1 {
            Decimal::from(left) + plot_w / Decimal::from(2)
        } else {
            Decimal::from(left) + plot_w * Decimal::from(i) / Decimal::from(n - 1)
        }
    };
    let mut s =
        format!("<svg class=\"chart\" viewBox=\"0 0 {w} {h}\" role=\"img\" aria-label=\"历次评价得分\" xmlns=\"http://www.w3.org/2000/svg\">");
    for tick in [0, 25, 50, 75, 100] {
        let y = c(y_of(Decimal::from(tick)));
        s.push_str(&format!(
            "<line x1=\"{left}\" x2=\"{}\" y1=\"{y}\" y2=\"{y}\" class=\"grid\"/><text x=\"{}\" y=\"{y}\" class=\"tick\" text-anchor=\"end\" dominant-baseline=\"middle\">{tick}</text>",
            w - right,
            left - 6
        ));
    }
    if let Some(p) = pass_at.and_then(dec) {
        let y = c(y_of(p));
        s.push_str(&format!(
            "<line x1=\"{left}\" x2=\"{}\" y1=\"{y}\" y2=\"{y}\" class=\"pass\"/><text x=\"{}\" y=\"{y}\" dy=\"-4\" class=\"tick\" text-anchor=\"end\">合格线 {}</text>",
            w - right,
            w - right,
            esc(&p.normalize().to_string())
        ));
    }
    let known: Vec<(usize, Decimal)> = points.iter().enumerate().filter_map(|(i, (_, v))| v.as_deref().and_then(dec).map(|v| (i, v))).collect();
    if known.len() > 1 {
        let path: Vec<String> = known.iter().map(|(i, v)| format!("{},{}", c(x_of(*i)), c(y_of(*v)))).collect();
        s.push_str(&format!("<polyline points=\"{}\" class=\"line\"/>", path.join(" ")));
    }
    for (i, (date, v)) in points.iter().enumerate() {
        let x = c(x_of(i));
        s.push_str(&format!("<text x=\"{x}\" y=\"{}\" class=\"tick\" text-anchor=\"middle\">{}</text>", h - bottom + 18, esc(date)));
        if let Some(v) = v.as_deref().and_then(dec) {
            let y = c(y_of(v));
            s.push_str(&format!(
                "<circle cx=\"{x}\" cy=\"{y}\" r=\"4\" class=\"dot\"><title>{} · {}</title></circle><text x=\"{x}\" y=\"{y}\" dy=\"-9\" class=\"value\" text-anchor=\"middle\">{}</text>",
                esc(date),
                esc(&v.normalize().to_string()),
                esc(&v.normalize().to_string())
            ));
        }
    }
    s.push_str("</svg>");
    s
}

/// One bar of [`deduction_bars`].
pub struct Bar {
    pub label: String,
    pub href: String,
    /// The mean deduction and the item's points.
    pub mean: String,
    pub max: String,
    pub halls_losing: i64,
    pub halls: i64,
}

/// Per item: the mean deduction as a bar (scaled to the largest), and the share of halls that
/// lost points on it, as text and a second, thin bar.
pub fn deduction_bars(bars: &[Bar]) -> String {
    let row = 34;
    let (w, label_w) = (900, 330);
    let h = row * bars.len().max(1) + 24;
    let bar_w = Decimal::from(w - label_w - 190);
    let largest = bars.iter().filter_map(|b| dec(&b.mean)).max().unwrap_or(Decimal::ONE).max(Decimal::new(1, 2));
    let mut s = format!(
        "<svg class=\"chart bars\" viewBox=\"0 0 {w} {h}\" role=\"img\" aria-label=\"各项平均扣分\" xmlns=\"http://www.w3.org/2000/svg\">\
         <text x=\"{label_w}\" y=\"14\" class=\"tick\">平均扣分（条长）· 扣分机构占比（细条）</text>"
    );
    for (i, b) in bars.iter().enumerate() {
        let y = 24 + row * i;
        let mean = dec(&b.mean).unwrap_or_default();
        let len = c(bar_w * mean / largest);
        let share = if b.halls > 0 { Decimal::from(b.halls_losing) / Decimal::from(b.halls) } else { Decimal::ZERO };
        let share_len = c(bar_w * share);
        let pct = (share * Decimal::from(100)).round_dp(1).normalize();
        s.push_str(&format!(
            "<a href=\"{}\"><text x=\"{}\" y=\"{}\" class=\"label\" text-anchor=\"end\">{}</text>\
             <rect x=\"{label_w}\" y=\"{}\" width=\"{len}\" height=\"14\" class=\"bar\"><title>{} 平均扣分 {} / {} 分</title></rect>\
             <rect x=\"{label_w}\" y=\"{}\" width=\"{share_len}\" height=\"4\" class=\"share\"/>\
             <text x=\"{}\" y=\"{}\" class=\"value\">{} 分 · {}/{} 家（{}%）</text></a>",
            esc(&b.href),
            label_w - 8,
            y + 12,
            esc(&b.label),
            y + 2,
            esc(&b.label),
            esc(&b.mean),
            esc(&b.max),
            y + 19,
            label_w as i64 + 8 + bar_w.round().to_string().parse::<i64>().unwrap_or(0),
            y + 12,
            esc(&b.mean),
            b.halls_losing,
            b.halls,
            pct
        ));
    }
    s.push_str("</svg>");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plot_places_scores_by_value_and_escapes_labels() {
        let svg = score_plot(&[("2025-05-01".into(), Some("100".into())), ("<x>".into(), Some("0".into()))], Some("90"));
        // 100 at the top (y = 14), 0 at the bottom (y = 220 - 36 = 184), pass line at 90.
        assert!(svg.contains("points=\"44,14 624,184\""), "{svg}");
        assert!(svg.contains("合格线 90"));
        assert!(svg.contains("&lt;x&gt;") && !svg.contains("<x>"));
    }

    #[test]
    fn bars_scale_to_the_largest_mean() {
        let b = |m: &str, l: i64| Bar { label: "x".into(), href: "/items/x".into(), mean: m.into(), max: "4".into(), halls_losing: l, halls: 4 };
        let svg = deduction_bars(&[b("2", 4), b("1", 1)]);
        assert!(svg.contains("width=\"380\" height=\"14\""), "{svg}");
        assert!(svg.contains("width=\"190\" height=\"14\""), "{svg}");
        assert!(svg.contains("1/4 家（25%）"), "{svg}");
    }
}
