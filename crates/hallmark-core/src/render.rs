//! Plain-text views of rubrics, score sheets and panels, for the terminal and golden tests.
//!
//! Column widths count CJK characters as two cells so the tables line up in a terminal.

use std::fmt::Write;

use rust_decimal::Decimal;

use crate::aggregate::Panel;
use crate::finding::{Fact, Held, Outcome, Reading, Tally};
use crate::num::fmt;
use crate::rubric::{Checked, InputKind, Rubric, Rule};
use crate::score::{PartScore, ScoreSheet, Severity, Status};

fn width(s: &str) -> usize {
    s.chars().map(|c| if (c as u32) >= 0x1100 { 2 } else { 1 }).sum()
}

fn pad(s: &str, w: usize) -> String {
    let n = width(s);
    if n >= w {
        s.to_string()
    } else {
        format!("{s}{}", " ".repeat(w - n))
    }
}

fn lpad(s: &str, w: usize) -> String {
    let n = width(s);
    if n >= w {
        s.to_string()
    } else {
        format!("{}{s}", " ".repeat(w - n))
    }
}

fn opt(d: Option<Decimal>) -> String {
    d.map(fmt).unwrap_or_else(|| "—".into())
}

/// `hallmark rubric show`: the tree with points, inputs and rules.
pub fn rubric_tree(r: &Rubric) -> String {
    let mut o = String::new();
    let _ = writeln!(o, "{} ({} v{}, {}分)", r.title, r.id, r.version, fmt(r.points.0));
    let _ = writeln!(o, "依据：{}", r.source);
    let _ = writeln!(o, "sha256：{}", r.content_hash);
    for (depth, g) in r.groups_in_order() {
        let indent = "  ".repeat(depth);
        let num = g.number.as_deref().map(|n| format!("{n} ")).unwrap_or_default();
        let _ = writeln!(o, "{indent}{num}{} [{}] {}分", g.name, g.id, fmt(g.points.0));
        for item in r.item.iter().filter(|i| i.group == g.id) {
            let indent = "  ".repeat(depth + 1);
            let _ = writeln!(o, "{indent}{} {} {}分", item.id, item.name, fmt(item.points.0));
            for input in &item.input {
                let extra = match input.kind {
                    InputKind::Measurement => {
                        format!(" {} {}–{}", input.unit.as_deref().unwrap_or(""), opt(input.min.map(|m| m.0)), opt(input.max.map(|m| m.0)))
                    }
                    InputKind::Elements | InputKind::WindowEquipment => format!(" [{}]", input.elements.join("、")),
                    InputKind::Choice => {
                        format!(" [{}]", input.options.iter().map(|o| format!("{}={}", o.id, o.label)).collect::<Vec<_>>().join(", "))
                    }
                    InputKind::TimeSample => {
                        format!(" [{}]{}", input.units.join("/"), input.sample_size.map(|n| format!(" sample_size {n}")).unwrap_or_default())
                    }
                    InputKind::DatedList => input.within_months.map(|m| format!(" within {m} months")).unwrap_or_default(),
                    InputKind::CaseDates => input.limit_working_days.map(|n| format!(" limit {n} working days")).unwrap_or_default(),
                    _ => String::new(),
                };
                let _ = writeln!(o, "{indent}  · {} ({}){} — {}", input.id, input.kind.name(), extra, input.label);
            }
            for part in &item.part {
                let _ = writeln!(o, "{indent}  ▸ {} {}分: {}", part.label, fmt(part.points.0), rule_summary(&part.rule));
            }
        }
    }
    if !r.veto.is_empty() {
        let _ = writeln!(o, "否决项（{}）", r.result.veto_text);
        for v in &r.veto {
            let _ = writeln!(o, "  {} {}", v.id, v.text);
        }
    }
    let res = &r.result;
    let line = match &res.pass_at {
        Some(p) => format!("≥{}分：{}", p, res.pass_text.as_deref().unwrap_or("")),
        None => "未规定合格分数线".into(),
    };
    let _ = writeln!(o, "结论：评价人员不少于{}名，取平均分；{line}", res.min_assessors);
    o
}

fn rule_summary(rule: &Rule) -> String {
    match rule {
        Rule::Yes { input } => format!("yes({input})"),
        Rule::Bands { input, bands } => {
            format!("bands({input}: {})", bands.iter().map(|b| format!("≥{}→{}", b.from, b.points)).collect::<Vec<_>>().join(", "))
        }
        Rule::Deduct { input, inputs, per, key } => {
            let all: Vec<&str> = input.iter().chain(inputs.iter()).map(String::as_str).collect();
            let key = if key.is_empty() { String::new() } else { format!(", key: {}", key.join("、")) };
            format!("deduct({} −{} each{key})", all.join(" + "), per)
        }
        Rule::Shortfall { input, target, per } => format!("shortfall({input} < {target}: −{per} each)"),
        Rule::Excess { input, limit, step, per } => format!("excess({input} > {limit}: −{per} per {step})"),
        Rule::LevelShortfall { input, level, requirement, step_percent, per } => format!(
            "level_shortfall({input} by {level}: {}; −{per} per {step_percent}%)",
            requirement.iter().map(|(k, v)| format!("{k}≥{v}")).collect::<Vec<_>>().join(", ")
        ),
        Rule::Range { checks } => {
            format!("range({})", checks.iter().map(|c| format!("{} {}–{}", c.input, c.min, c.max)).collect::<Vec<_>>().join(" & "))
        }
        Rule::Quarters { input, quarters } => format!("quarters({input}: each of the {quarters} quarters before the visit's)"),
        Rule::AtLeast { input, target, lower } => {
            let lower = lower.as_ref().map(|l| format!("; ≥ {} when {} < {}", l.target, l.input, l.below)).unwrap_or_default();
            format!("at_least({input} ≥ {target}{lower})")
        }
    }
}

/// A part's explanation, in Chinese: what was found, then the points it gives.
/// "办公设施：缺少复印机、电话，扣2分". Every explanation is worded here, from the part's
/// finding; nothing parses one back.
pub fn explain(part: &PartScore) -> String {
    let f = &part.finding;
    let what = found(&part.label, &f.fact);
    match f.outcome {
        Outcome::Unanswered => what,
        Outcome::Awarded { points } => format!("{what}，得{}分", fmt(points)),
        Outcome::Deducted { deduction } if deduction >= part.max => format!("{what}，扣{}分，扣完为止", fmt(deduction)),
        Outcome::Deducted { deduction } => format!("{what}，扣{}分", fmt(deduction)),
        Outcome::Zero if matches!(f.fact, Fact::KeyMissing { .. }) => format!("{what}，此项不得分"),
        Outcome::Zero => format!("{what}，不得分"),
    }
}

/// What a part that lost points found, without the points: a line of the report's 整改建议.
/// "办公设施：缺少复印机、电话"; a part that was awarded less than its maximum (a lower band,
/// or an item zeroed by a key element elsewhere) says "…，未达到满分档".
pub fn deficiency(part: &PartScore) -> String {
    let what = found(&part.label, &part.finding.fact);
    match part.finding.outcome {
        Outcome::Awarded { .. } => format!("{what}，未达到满分档"),
        _ => what,
    }
}

/// What was found, in words, without the points: "办公设施：缺少复印机、电话".
fn found(label: &str, fact: &Fact) -> String {
    match fact {
        Fact::Unanswered { labels, .. } => format!("未作答：{}", labels.join("、")),
        Fact::SampleShort { label: input, filled, unfilled, sample_size, .. } => {
            let blank = if *unfilled > 0 { format!("（另有{unfilled}行未填写完整）") } else { String::new() };
            format!("{input}：已填写{filled}件{blank}，不足规定的{sample_size}件（继续抽样，或填写样本不足的原因）")
        }
        Fact::KeyMissing { element, .. } => format!("缺少{element}"),
        Fact::ZeroWhen { label: input, held, .. } => match held {
            Held::Is { value } => format!("{label}：{input}为{}", if *value { "是" } else { "否" }),
            Held::Above { value, .. } | Held::Below { value, .. } => format!("{label}：{input}{}", fmt(*value)),
            Held::Late { cases, limit, uncovered } => {
                let each: Vec<String> = cases
                    .iter()
                    .map(|c| {
                        let name = if c.case.is_empty() { "一件".to_string() } else { format!("“{}”", c.case) };
                        match c.submitted {
                            Some(s) => format!("{name}材料齐全{}，{s}提交，用{}个工作日", c.complete, c.working_days),
                            None => format!("{name}材料齐全{}，至评价日尚未提交，已{}个工作日", c.complete, c.working_days),
                        }
                    })
                    .collect();
                let note = if *uncovered { "（部分年份的法定节假日未收录，仅按周末计算）" } else { "" };
                format!("{label}：{}，超过{limit}个工作日{note}", each.join("；"))
            }
        },
        Fact::Yes { answer } => format!("{label}：{}", if *answer { "是" } else { "否" }),
        Fact::Bands { reading, reached, lowest, unit } => {
            let shown = match reading {
                Reading::Measured { value, unit } => format!("{}{unit}", fmt(*value)),
                Reading::Counted { value } => format!("{value}{unit}"),
                Reading::Percent { percent, numerator: Some(n), denominator: Some(d) } => format!("{}%（{n}/{d}）", fmt(percent.round_dp(2))),
                Reading::Percent { percent, .. } => format!("{}%", fmt(*percent)),
                Reading::Present { elements } if elements.is_empty() => "均不具备".to_string(),
                Reading::Present { elements } => format!("具备{}项（{}）", elements.len(), elements.join("、")),
            };
            match reached {
                Some(_) => format!("{label}：{shown}"),
                None => format!("{label}：{shown}，未达到{}{unit}", fmt(*lowest)),
            }
        }
        Fact::Deduct { tallies } => {
            let said: Vec<String> = tallies.iter().filter_map(tally_text).collect();
            if said.is_empty() {
                format!("{label}：齐全/未发现问题")
            } else {
                format!("{label}：{}", said.join("；"))
            }
        }
        Fact::Shortfall { count, target, short } if short.is_zero() => format!("{label}：{count}次，达到{}次", fmt(*target)),
        Fact::Shortfall { count, short, .. } => format!("{label}：{count}次，少{}次", fmt(*short)),
        Fact::DatedShortfall { counted, outside, from, to, target, short, .. } => {
            let dates: Vec<String> = counted.iter().map(|d| d.date.to_string()).collect();
            let listed = if dates.is_empty() { String::new() } else { format!("（{}）", dates.join("、")) };
            let met = if short.is_zero() { format!("达到{}次", fmt(*target)) } else { format!("少{}次", fmt(*short)) };
            let rest = if *outside > 0 { format!("；另有{outside}次不在此期间，不计") } else { String::new() };
            format!("{label}：{from}至{to}期间{}次{listed}，{met}{rest}", counted.len())
        }
        Fact::Quarters { quarters, .. } => {
            let q = |c: &crate::finding::QuarterCount| format!("{}年第{}季度", c.year, c.quarter);
            let each: Vec<String> = quarters.iter().map(|c| format!("{}{}次", q(c), c.entries)).collect();
            let missing: Vec<String> = quarters.iter().filter(|c| c.entries == 0).map(q).collect();
            if missing.is_empty() {
                format!("{label}：{}，每季度均已开展", each.join("、"))
            } else {
                format!("{label}：{}；{}未开展", each.join("、"), missing.join("、"))
            }
        }
        Fact::AtLeast { value, unit, target, lowered, .. } => {
            let why = match lowered {
                Some(l) => format!("{}{}，不足{}，", l.label, fmt(l.value), fmt(l.below)),
                None => String::new(),
            };
            format!("{label}：{value}{unit}（{why}应不少于{}{unit}）", fmt(*target))
        }
        Fact::Excess { value, unit, limit, step, steps } => match steps {
            None => format!("{label}：{}{unit}，未超过{}{unit}", fmt(*value), fmt(*limit)),
            Some(n) => format!("{label}：{}{unit}，超过{}{unit}（按每{}{unit}计{}档）", fmt(*value), fmt(*limit), fmt(*step), fmt(*n)),
        },
        Fact::LevelShortfall { value, unit, level_label, requirement, step_percent, short, .. } => match short {
            None => format!("{label}：{}{unit}，达到{level_label}不少于{}{unit}的要求", fmt(*value), fmt(*requirement)),
            Some(s) => format!(
                "{label}：{}{unit}，{level_label}要求不少于{}{unit}，少{}%（按每{}%计{}档）",
                fmt(*value),
                fmt(*requirement),
                fmt(s.percent.round_dp(2)),
                fmt(*step_percent),
                fmt(s.steps)
            ),
        },
        Fact::Range { readings } => {
            let shown = |r: &crate::finding::RangeReading| format!("{}{}{}", r.label, fmt(r.value), r.unit);
            let outside: Vec<String> =
                readings.iter().filter(|r| !r.inside()).map(|r| format!("{}超出{}～{}{}", shown(r), fmt(r.min), fmt(r.max), r.unit)).collect();
            if outside.is_empty() {
                format!("{label}：{}，均在规定范围内", readings.iter().map(shown).collect::<Vec<_>>().join("、"))
            } else {
                format!("{label}：{}", outside.join("、"))
            }
        }
    }
}

/// What one input of a deduct rule counted, in words; nothing when an elements input lacks nothing.
fn tally_text(t: &Tally) -> Option<String> {
    match t {
        Tally::Count { label, value, .. } => Some(format!("{label}为{value}")),
        Tally::Missing { elements, .. } if elements.is_empty() => None,
        Tally::Missing { elements, .. } => Some(format!("缺少{}", elements.join("、"))),
        Tally::Windows { windows, lacking, .. } if lacking.is_empty() => Some(format!("{windows}个窗口设备齐全")),
        Tally::Windows { lacking, .. } => {
            Some(lacking.iter().map(|w| format!("{}缺少{}", w.window, w.missing.join("、"))).collect::<Vec<_>>().join("；"))
        }
        Tally::TimeSample { sampled, late, units, sample_size, unfilled, fewer_reason, .. } => {
            let mut said = format!("抽查{sampled}件");
            if let (Some(n), Some(why)) = (sample_size, fewer_reason) {
                said.push_str(&format!("（少于规定的{n}件，原因：{why}）"));
            }
            if *unfilled > 0 {
                said.push_str(&format!("（另有{unfilled}行未填写完整，不计）"));
            }
            match late {
                0 => said.push_str("，均在标准时限内"),
                late => said.push_str(&format!("，{late}件超时，共超出{}个计量单位", fmt(*units))),
            }
            Some(said)
        }
    }
}

/// `hallmark rubric check`: findings and their interpretations.
pub fn check_report(name: &str, c: &Checked) -> String {
    let mut o = String::new();
    let r = &c.rubric;
    let n_inputs = r.inputs().count();
    let n_parts: usize = r.item.iter().map(|i| i.part.len()).sum();
    let _ = writeln!(
        o,
        "{name}: {} v{}: {} groups, {} items, {} parts, {} inputs, {} vetoes, {} points",
        r.id,
        r.version,
        r.group.len(),
        r.item.len(),
        n_parts,
        n_inputs,
        r.veto.len(),
        fmt(r.points.0)
    );
    for f in &c.findings {
        match &f.interpretation {
            Some(text) if f.code == "note" => {
                let _ = writeln!(o, "  note    item '{}': {text}", f.item);
            }
            Some(text) => {
                let _ = writeln!(o, "  answered item '{}': {} [{}]\n           → {text}", f.item, f.message, f.code);
            }
            None => {
                let _ = writeln!(o, "  error   {}", crate::rubric::unanswered_message(name, f));
            }
        }
    }
    let unanswered = c.unanswered().count();
    let answered = c.findings.iter().filter(|f| f.interpretation.is_some() && f.code != "note").count();
    if unanswered == 0 {
        let _ = writeln!(o, "ok: {answered} findings in the seed, each answered by an interpretation");
    } else {
        let _ = writeln!(o, "{unanswered} findings have no interpretation");
    }
    o
}

/// `hallmark score`: one assessor's sheet as a table.
pub fn sheet_text(r: &Rubric, s: &ScoreSheet) -> String {
    let mut o = String::new();
    let who = s.assessor.as_deref().unwrap_or("（未署名）");
    let site = s.site.as_deref().unwrap_or("（未填写单位）");
    let _ = writeln!(o, "{}  {}  评价人员：{who}", r.title, site);
    let _ = writeln!(o, "{} v{}  sha256 {}", s.rubric, s.rubric_version, &s.rubric_hash[..12.min(s.rubric_hash.len())]);
    let _ = writeln!(o);
    let _ = writeln!(o, "{} {} {}  说明", pad("评分项", 28), lpad("得分", 6), lpad("分值", 5));
    for (depth, g) in r.groups_in_order() {
        let gs = s.groups.iter().find(|x| x.id == g.id).expect("sheet has every group");
        let mark = if gs.complete { "" } else { " (不完整)" };
        let head = format!("{}{}{}", "  ".repeat(depth), g.number.as_deref().map(|n| format!("{n} ")).unwrap_or_default(), g.name);
        let _ = writeln!(o, "{} {} {}{mark}", pad(&head, 28), lpad(&fmt(gs.points), 6), lpad(&fmt(gs.max), 5));
        for (item, is) in r.item.iter().zip(&s.items).filter(|(i, _)| i.group == g.id) {
            let name = format!("{}{} {}", "  ".repeat(depth + 1), item.id, item.name);
            let points = match is.status {
                Status::Unanswered => "—".to_string(),
                Status::Partial => format!("{}*", opt(is.points)),
                Status::Complete => opt(is.points),
            };
            let lost: Vec<&str> = is.parts.iter().filter(|p| p.points != Some(p.max)).map(|p| p.explanation.as_str()).collect();
            let _ = writeln!(o, "{} {} {}  {}", pad(&name, 28), lpad(&points, 6), lpad(&fmt(is.max), 5), lost.join("；"));
        }
    }
    let _ = writeln!(o);
    let complete = if s.complete { "" } else { "（不完整：有未作答项目）" };
    let _ = writeln!(o, "总分 {} / {}{complete}", fmt(s.total), fmt(s.max_total));
    if s.veto.vetoed {
        let _ = writeln!(o, "否决：{}（{}）", s.veto.text.as_deref().unwrap_or(""), s.veto.triggered.join("、"));
    } else if s.veto.unanswered.is_empty() {
        let _ = writeln!(o, "否决项：未出现");
    }
    let missing = s.diagnostics.iter().filter(|d| d.severity == Severity::Missing).count();
    if missing > 0 {
        let _ = writeln!(o, "未作答 {missing} 处：");
    }
    for d in &s.diagnostics {
        let tag = match d.severity {
            Severity::Missing => "未作答",
            Severity::Warning => "提示",
        };
        let _ = writeln!(o, "  [{tag}] {}", d.message);
    }
    o
}

/// `hallmark aggregate`: assessors side by side.
pub fn panel_text(r: &Rubric, p: &Panel) -> String {
    let mut o = String::new();
    let _ = writeln!(o, "{}  {}", r.title, p.site.as_deref().unwrap_or(""));
    let _ = writeln!(o, "评价人员 {} 名：{}", p.assessors.len(), p.assessors.join("、"));
    let _ = writeln!(o);
    let mut head = format!("{} {}", pad("评分项", 24), lpad("分值", 5));
    for n in 0..p.assessors.len() {
        head.push_str(&lpad(&format!("#{}", n + 1), 7));
    }
    head.push_str(&format!("{}{}{}{}", lpad("均值", 8), lpad("最低", 6), lpad("最高", 6), lpad("标准差", 7)));
    let _ = writeln!(o, "{head}");
    let mut row = |name: &str, sp: &crate::aggregate::Spread| {
        let mut line = format!("{} {}", pad(name, 24), lpad(&fmt(sp.max_points), 5));
        for (s, out) in sp.scores.iter().zip(&sp.outliers) {
            line.push_str(&lpad(&format!("{}{}", opt(*s), if *out { "!" } else { "" }), 7));
        }
        line.push_str(&format!("{}{}{}{}", lpad(&opt(sp.mean), 8), lpad(&opt(sp.min), 6), lpad(&opt(sp.max), 6), lpad(&opt(sp.stddev), 7)));
        let _ = writeln!(o, "{line}");
    };
    for sp in &p.items {
        let name = r.item.iter().find(|i| i.id == sp.id).map(|i| format!("{} {}", i.id, i.name)).unwrap_or_default();
        row(&name, sp);
    }
    for sp in &p.groups {
        row(&format!("[{}]", sp.name), sp);
    }
    row("总分", &p.total);
    let _ = writeln!(o);
    if p.items.iter().chain(&p.groups).chain([&p.total]).any(|sp| sp.outliers.contains(&true)) {
        let _ = writeln!(o, "注：标“!”的分数与其他评价人员的均值相差超过该项分值的四分之一，请核对。");
    }
    match (p.final_score, p.mean) {
        (None, Some(mean)) => {
            let _ = writeln!(
                o,
                "最终得分：无（评价人员不足{}名）；暂定平均分：{}（仅供参考，不是最终得分）",
                r.result.min_assessors,
                crate::num::fmt(mean)
            );
        }
        (final_score, _) => {
            let _ = writeln!(o, "最终得分（算术平均）：{}", opt(final_score));
        }
    }
    let _ = writeln!(o, "评价结论：{}", p.conclusion.text());
    for w in &p.warnings {
        let _ = writeln!(o, "提示：{w}");
    }
    o
}
