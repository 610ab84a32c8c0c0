//! The report model as plain text, in the order of the PDF: what the golden test compares and
//! what `hallmark report --text` prints.

use std::fmt::Write;

use hallmark_core::num::fmt;

use crate::model::{shown, shown_mean, Report};

pub fn render(r: &Report) -> String {
    let mut o = String::new();
    if r.draft {
        let _ = writeln!(o, "草稿（未签名，不作为评价结论）");
    }
    let _ = writeln!(o, "报告编号：{}", r.number);
    let _ = writeln!(o, "{}", r.title);
    let _ = writeln!(o, "受评单位：{}", r.site.name);
    let _ = writeln!(o, "评价时间：{}", span(&r.evaluated_from, &r.evaluated_to));
    let _ = writeln!(o, "评价等级：{}", r.grade);
    let _ = writeln!(o, "报告日期：{}", r.issued_on);
    let _ = writeln!(o, "有效期至：{}", r.valid_until.as_deref().unwrap_or("（不适用）"));
    if let Some(c) = &r.correction {
        let _ = writeln!(o, "更正日期：{}", c.corrected_on);
        let _ = writeln!(o, "更正说明：本报告更正并取代报告 {}（原报告作废，以本报告为准）。更正原因：{}", c.supersedes_number, c.reason);
    }
    let _ = writeln!(o, "\n一、受评单位信息");
    let _ = writeln!(o, "单位名称：{}（{}）", r.site.name, r.site.level);
    let _ = writeln!(o, "地址：{}", r.site.address);
    let _ = writeln!(o, "负责人：{}  电话：{}  电子邮箱：{}", blank(&r.site.head), blank(&r.site.phone), blank(&r.site.email));
    let _ = writeln!(o, "\n二、评价人员");
    let mut ordered: Vec<_> = r.assessors.iter().collect();
    ordered.sort_by_key(|a| a.role != "组长");
    for a in ordered {
        let _ = writeln!(
            o,
            "{}  {}  {}  {}  {}  签名：{}  密钥 {}{}",
            a.role,
            a.name,
            blank(&a.unit),
            blank(&a.title),
            blank(&a.phone),
            if a.signature.is_some() { "已手写签名" } else { "（未签名）" },
            a.fingerprint,
            if a.known_as.is_some() { "" } else { "（不在名册）" }
        );
    }
    for x in &r.excluded {
        let _ = writeln!(o, "已排除：{}（{}）", x.name, x.reason);
    }
    let _ = writeln!(o, "\n三、评价依据\n{}（{} v{}，SHA-256 {}…）", r.source, r.rubric_id, r.rubric_version, &r.rubric_hash[..16]);
    let _ = writeln!(o, "\n四、评价流程\n{}", r.process);
    let _ = writeln!(o, "\n五、否决项核查");
    for v in &r.vetoes {
        let found = if v.found_by.is_empty() { "未发现".to_string() } else { format!("发现（{}）", v.found_by.join("、")) };
        let _ = writeln!(o, "{}：{}", v.text, found);
    }
    let _ = writeln!(o, "\n六、指标计分（分值 / 平均得分 / 平均扣分 / 扣分说明）");
    for i in &r.items {
        let _ = writeln!(o, "{} {}  {} / {} / {}", i.id, i.name, fmt(i.max), shown_mean(i.mean), shown_mean(i.deduction));
        for e in &i.explanations {
            let _ = writeln!(o, "    - {e}");
        }
        for n in &i.notes {
            let _ = writeln!(o, "    注：{n}");
        }
    }
    let _ = writeln!(o, "总分  {} / {}", fmt(r.total.max), shown_score(r));
    let _ = writeln!(o, "\n七、评价人员计分与离散度");
    let names: Vec<&str> = r.assessors.iter().map(|a| a.name.as_str()).collect();
    let _ = writeln!(o, "（按录入顺序）{}", names.join(" | "));
    for i in r.items.iter().chain([&r.total]) {
        let scores: Vec<String> = i.scores.iter().zip(&i.outliers).map(|(s, out)| format!("{}{}", shown(*s), if *out { "!" } else { "" })).collect();
        let _ = writeln!(
            o,
            "{} {}: {}  均值 {} 最低 {} 最高 {} 标准差 {}",
            i.id,
            i.name,
            scores.join(" "),
            shown_mean(i.mean),
            shown(i.min),
            shown(i.max_score),
            shown(i.stddev)
        );
    }
    let _ = writeln!(o, "\n八、评价结论\n最终得分（{}名评价人员算术平均）：{}", r.assessors.len(), shown_score(r));
    let _ = writeln!(o, "{}", r.conclusion);
    if let Some(p) = r.previous.as_ref().filter(|p| !p.renewal.is_empty()) {
        let _ = writeln!(o, "复评：{}", p.renewal);
    }
    for w in &r.warnings {
        let _ = writeln!(o, "提示：{w}");
    }
    for l in &r.reviews {
        let _ = writeln!(o, "复核：{l}");
    }
    if let Some(x) = &r.review_override {
        let _ = writeln!(o, "{x}");
    }
    let _ = writeln!(o, "\n九、整改建议");
    if r.recommendations.is_empty() {
        let _ = writeln!(o, "无扣分项。");
    }
    for g in &r.recommendations {
        let _ = writeln!(o, "【{}】", g.group);
        for (n, l) in g.lines.iter().enumerate() {
            let _ = writeln!(o, "{}. {l}", n + 1);
        }
    }
    if !r.recommendations.is_empty() {
        let _ = writeln!(o, "请受评单位对照评分细则逐项整改，整改资料留存备查，复评时提供。");
    }
    if let Some(p) = &r.previous {
        let _ = writeln!(o, "\n十、与上次评价比较");
        let _ = writeln!(
            o,
            "上次报告：{}（报告日期 {}；最终得分 {}；{}{}）",
            p.report_number,
            p.issued_on,
            p.final_score.as_deref().unwrap_or("无"),
            p.conclusion,
            p.valid_until.as_ref().map(|v| format!("；有效期至 {v}")).unwrap_or_default()
        );
        for i in &p.items {
            let _ = writeln!(o, "{} {}: 上次 {} 本次 {} 变化 {} {}", i.id, i.name, i.before, i.after, i.change, i.finding);
        }
        if !p.renewal.is_empty() {
            let _ = writeln!(o, "{}", p.renewal);
        }
    }
    let _ = writeln!(o, "\n附：证据照片");
    for e in &r.evidence {
        let photos: Vec<String> = e.photos.iter().map(|p| format!("{} {} {}", p.assessor, p.prefix, p.captured_at)).collect();
        let _ = writeln!(o, "{} {}: {}", e.item, e.item_name, photos.join("; "));
    }
    let _ = writeln!(o, "\n证据默克尔根：{}", r.merkle_root);
    let who = match (r.signer.enrolled, r.signer.unit.is_empty()) {
        (true, false) => format!("{}（{}）", r.signer.name, r.signer.unit),
        _ => r.signer.name.clone(),
    };
    let _ = writeln!(o, "报告签名者：{who}  密钥 {}", r.signer_fingerprint);
    let _ = writeln!(o, "二维码：{}", r.qr_text.trim_end().replace('\n', " | "));
    o
}

fn blank(s: &str) -> &str {
    if s.is_empty() {
        "（未填写）"
    } else {
        s
    }
}

fn span(from: &str, to: &str) -> String {
    if from == to {
        from.to_string()
    } else {
        format!("{from} 至 {to}")
    }
}

/// The final score, or for a panel too small to have one the labelled provisional mean.
fn shown_score(r: &Report) -> String {
    match (&r.final_score, &r.provisional_mean) {
        (Some(f), _) => f.clone(),
        (None, Some(m)) => format!("无（暂定平均分 {m}，评价人员不足，不是最终得分）"),
        (None, None) => "—".into(),
    }
}
