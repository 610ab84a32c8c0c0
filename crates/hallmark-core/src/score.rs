//! Scoring: observations → score sheet, by the rubric, exactly.
//!
//! Every number here is a `Decimal`. Unanswered is not zero: a part whose inputs are not all
//! answered has no points, the item and the total say they are incomplete, and the sheet
//! lists what is missing.

use rust_decimal::Decimal;
use serde::Serialize;

use crate::num::fmt;
use crate::observation::{Answer, Observations};
use crate::rubric::{Condition, Input, InputKind, Item, Part, Rubric, Rule};

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScoreSheet {
    pub rubric: String,
    pub rubric_version: String,
    pub rubric_hash: String,
    pub site: Option<String>,
    pub assessor: Option<String>,
    pub items: Vec<ItemScore>,
    pub groups: Vec<GroupScore>,
    #[serde(with = "rust_decimal::serde::str")]
    pub total: Decimal,
    #[serde(with = "rust_decimal::serde::str")]
    pub max_total: Decimal,
    /// True when every required input is answered and every veto question is answered.
    pub complete: bool,
    pub veto: VetoOutcome,
    pub diagnostics: Vec<Diagnostic>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ItemScore {
    pub id: String,
    pub group: String,
    pub name: String,
    #[serde(with = "rust_decimal::serde::str")]
    pub max: Decimal,
    /// Sum of the answered parts (clamped to 0..=max); `None` when no part is answered.
    #[serde(with = "rust_decimal::serde::str_option")]
    pub points: Option<Decimal>,
    pub status: Status,
    pub parts: Vec<PartScore>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PartScore {
    pub label: String,
    #[serde(with = "rust_decimal::serde::str")]
    pub max: Decimal,
    #[serde(with = "rust_decimal::serde::str_option")]
    pub points: Option<Decimal>,
    /// In Chinese, naming the observation: "缺少复印机、电话，扣2分".
    pub explanation: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Complete,
    Partial,
    Unanswered,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GroupScore {
    pub id: String,
    pub name: String,
    pub depth: usize,
    #[serde(with = "rust_decimal::serde::str")]
    pub max: Decimal,
    #[serde(with = "rust_decimal::serde::str")]
    pub points: Decimal,
    pub complete: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VetoOutcome {
    /// Ids of the veto cases recorded as having occurred.
    pub triggered: Vec<String>,
    /// Ids of the veto cases nobody answered.
    pub unanswered: Vec<String>,
    pub vetoed: bool,
    pub text: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    pub severity: Severity,
    pub item: Option<String>,
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// The total is incomplete because of it.
    Missing,
    /// The score stands, but the method was not fully followed (e.g. sample too small).
    Warning,
}

/// Scores one assessor's observations. Pure: same inputs, same sheet.
pub fn score(rubric: &Rubric, obs: &Observations) -> ScoreSheet {
    let mut diagnostics = Vec::new();
    let mut items = Vec::new();
    for item in &rubric.item {
        items.push(score_item(rubric, item, obs, &mut diagnostics));
    }
    // Sample-size expectations on inputs that no rule reads (e.g. services observed).
    for (item, input) in rubric.inputs() {
        let answer = obs.answers.get(&input.id);
        if let (Some(min), Some(a)) = (input.expect_at_least, answer) {
            let n = match a {
                Answer::Count { value } => Some(*value),
                Answer::TimeSample { rows } => Some(rows.len() as u64),
                _ => None,
            };
            if let Some(n) = n.filter(|n| *n < min) {
                diagnostics.push(Diagnostic {
                    severity: Severity::Warning,
                    item: Some(item.id.clone()),
                    message: format!("{}：{}，少于规定的{}", input.label, n, min),
                });
            }
        }
        if input.required && answer.is_none() && !rubric_reads(rubric, &input.id) {
            diagnostics.push(Diagnostic {
                severity: Severity::Missing,
                item: Some(item.id.clone()),
                message: format!("未作答：{}", input.label),
            });
        }
    }

    let groups = rubric
        .groups_in_order()
        .into_iter()
        .map(|(depth, g)| {
            let members: Vec<&ItemScore> = items
                .iter()
                .filter(|s| rubric.ancestry(&s.group).contains(&g.id.as_str()))
                .collect();
            GroupScore {
                id: g.id.clone(),
                name: g.name.clone(),
                depth,
                max: g.points.0.normalize(),
                points: members.iter().filter_map(|s| s.points).sum::<Decimal>().normalize(),
                complete: members.iter().all(|s| s.status == Status::Complete),
            }
        })
        .collect();

    let triggered: Vec<String> = rubric.veto.iter().filter(|v| obs.veto.get(&v.id) == Some(&true)).map(|v| v.id.clone()).collect();
    let unanswered_veto: Vec<String> = rubric.veto.iter().filter(|v| !obs.veto.contains_key(&v.id)).map(|v| v.id.clone()).collect();
    for v in rubric.veto.iter().filter(|v| triggered.contains(&v.id)) {
        diagnostics.push(Diagnostic { severity: Severity::Warning, item: None, message: format!("否决情形：{}", v.text) });
    }
    if !unanswered_veto.is_empty() {
        diagnostics.push(Diagnostic {
            severity: Severity::Missing,
            item: None,
            message: format!("否决项未作答：{}", unanswered_veto.join("、")),
        });
    }
    let vetoed = !triggered.is_empty();
    let complete = items.iter().all(|s| s.status == Status::Complete) && unanswered_veto.is_empty();
    ScoreSheet {
        rubric: rubric.id.clone(),
        rubric_version: rubric.version.clone(),
        rubric_hash: rubric.content_hash.clone(),
        site: obs.site.name.clone(),
        assessor: obs.assessor.name.clone(),
        total: items.iter().filter_map(|s| s.points).sum::<Decimal>().normalize(),
        max_total: rubric.points.0.normalize(),
        items,
        groups,
        complete,
        veto: VetoOutcome {
            vetoed,
            text: vetoed.then(|| rubric.result.veto_text.clone()),
            triggered,
            unanswered: unanswered_veto,
        },
        diagnostics,
    }
}

fn rubric_reads(rubric: &Rubric, input: &str) -> bool {
    rubric.item.iter().flat_map(|i| &i.part).any(|p| p.rule.inputs().contains(&input) || p.zero_when.iter().any(|c| c.input == input))
}

fn score_item(rubric: &Rubric, item: &Item, obs: &Observations, diagnostics: &mut Vec<Diagnostic>) -> ItemScore {
    let mut parts = Vec::new();
    let mut key_missing: Option<String> = None;
    for part in &item.part {
        let scored = score_part(rubric, part, obs);
        if let Some(k) = &scored.key_missing {
            key_missing.get_or_insert_with(|| k.clone());
        }
        if scored.points.is_none() {
            diagnostics.push(Diagnostic {
                severity: Severity::Missing,
                item: Some(item.id.clone()),
                message: format!("{} {}：{}", item.id, part.label, scored.explanation),
            });
        }
        parts.push(PartScore {
            label: part.label.clone(),
            max: part.points.0.normalize(),
            points: scored.points.map(|p| p.normalize()),
            explanation: scored.explanation,
        });
    }
    let n_answered = parts.iter().filter(|p| p.points.is_some()).count();
    let (points, status) = if let Some(key) = key_missing {
        // 此项不得分: a missing key element zeroes the whole item, answered or not.
        for p in &mut parts {
            p.points = Some(Decimal::ZERO);
        }
        if let Some(first) = parts.first_mut() {
            first.explanation = format!("缺少{key}，此项不得分");
        }
        diagnostics.retain(|d| d.item.as_deref() != Some(item.id.as_str()) || d.severity != Severity::Missing);
        (Some(Decimal::ZERO), Status::Complete)
    } else if n_answered == 0 {
        (None, Status::Unanswered)
    } else {
        let sum: Decimal = parts.iter().filter_map(|p| p.points).sum();
        let clamped = sum.max(Decimal::ZERO).min(item.points.0);
        let status = if n_answered == parts.len() { Status::Complete } else { Status::Partial };
        (Some(clamped.normalize()), status)
    };
    ItemScore { id: item.id.clone(), group: item.group.clone(), name: item.name.clone(), max: item.points.0.normalize(), points, status, parts }
}

struct Scored {
    points: Option<Decimal>,
    explanation: String,
    key_missing: Option<String>,
}

fn answered(points: Decimal, explanation: String) -> Scored {
    Scored { points: Some(points), explanation, key_missing: None }
}

fn score_part(rubric: &Rubric, part: &Part, obs: &Observations) -> Scored {
    let input = |id: &str| rubric.input(id).map(|(_, i)| i).expect("validated: rules reference declared inputs");
    // Unanswered inputs make the part unanswered.
    // An optional (required = false) condition input that is unanswered simply does not hold.
    let mut needed: Vec<&str> = part.rule.inputs();
    needed.extend(part.zero_when.iter().filter(|c| input(&c.input).required).map(|c| c.input.as_str()));
    // Labels of the unanswered inputs, each once, in the order the rule reads them.
    let mut missing: Vec<&str> = Vec::new();
    for id in needed.iter().filter(|id| !obs.answers.contains_key(**id)) {
        let label = input(id).label.as_str();
        if !missing.contains(&label) {
            missing.push(label);
        }
    }
    if !missing.is_empty() {
        return Scored { points: None, explanation: format!("未作答：{}", missing.join("、")), key_missing: None };
    }
    let a = |id: &str| &obs.answers[id];
    for c in part.zero_when.iter().filter(|c| obs.answers.contains_key(&c.input)) {
        if let Some(why) = condition_holds(c, input(&c.input), a(&c.input)) {
            return answered(Decimal::ZERO, format!("{}：{}，不得分", part.label, why));
        }
    }
    let max = part.points.0;
    let label = &part.label;
    match &part.rule {
        Rule::Yes { input: id } => {
            let Answer::YesNo { value } = a(id) else { unreachable!("validated kind") };
            if *value {
                answered(max, format!("{label}：是，得{}分", fmt(max)))
            } else {
                answered(Decimal::ZERO, format!("{label}：否，不得分"))
            }
        }
        Rule::Bands { input: id, bands } => {
            let inp = input(id);
            let (value, shown) = band_value(inp, a(id));
            let hit = bands.iter().find(|b| value >= b.from.0);
            match hit {
                Some(b) => answered(b.points.0, format!("{label}：{shown}，得{}分", fmt(b.points.0))),
                None => {
                    let lowest = bands.last().map(|b| b.from.0).unwrap_or_default();
                    let unit = band_unit(inp);
                    answered(Decimal::ZERO, format!("{label}：{shown}，未达到{}{unit}，不得分", fmt(lowest)))
                }
            }
        }
        Rule::Deduct { input: one, inputs: many, per, key } => {
            let ids: Vec<&String> = one.iter().chain(many.iter()).collect();
            let mut n_total: u64 = 0;
            let mut said = Vec::new();
            for id in &ids {
                let inp = input(id);
                let (n, text) = deduct_count(inp, a(id));
                if let (Answer::Elements { missing }, false) = (a(id), key.is_empty()) {
                    if let Some(k) = key.iter().find(|k| missing.contains(*k)) {
                        return Scored { points: Some(Decimal::ZERO), explanation: format!("缺少{k}，此项不得分"), key_missing: Some(k.clone()) };
                    }
                }
                n_total += n;
                if let Some(t) = text {
                    said.push(t);
                }
            }
            let deduction = per.0 * Decimal::from(n_total);
            if n_total == 0 {
                let what = if said.is_empty() { "齐全/未发现问题".to_string() } else { said.join("；") };
                answered(max, format!("{label}：{what}，得{}分", fmt(max)))
            } else {
                answered((max - deduction).max(Decimal::ZERO), format!("{label}：{}，{}", said.join("；"), deduction_text(deduction, max)))
            }
        }
        Rule::Shortfall { input: id, target, per } => {
            let Answer::Count { value } = a(id) else { unreachable!("validated kind") };
            let short = (target.0 - Decimal::from(*value)).max(Decimal::ZERO);
            if short.is_zero() {
                answered(max, format!("{label}：{value}次，达到{}次，得{}分", target, fmt(max)))
            } else {
                let d = per.0 * short;
                answered((max - d).max(Decimal::ZERO), format!("{label}：{value}次，少{}次，{}", fmt(short), deduction_text(d, max)))
            }
        }
        Rule::Excess { input: id, limit, step, per } => {
            let inp = input(id);
            let value = numeric(a(id));
            let unit = inp.unit.as_deref().unwrap_or("");
            if value <= limit.0 {
                answered(max, format!("{label}：{}{unit}，未超过{}{unit}，得{}分", fmt(value), limit, fmt(max)))
            } else {
                let steps = ((value - limit.0) / step.0).ceil();
                let d = per.0 * steps;
                answered(
                    (max - d).max(Decimal::ZERO),
                    format!("{label}：{}{unit}，超过{}{unit}（按每{}{unit}计{}档），{}", fmt(value), limit, step, fmt(steps), deduction_text(d, max)),
                )
            }
        }
        Rule::LevelShortfall { input: id, level, requirement, step_percent, per } => {
            let inp = input(id);
            let unit = inp.unit.as_deref().unwrap_or("");
            let Answer::Choice { value: lv } = a(level) else { unreachable!("validated kind") };
            let lv_label = input(level).options.iter().find(|o| &o.id == lv).map(|o| o.label.as_str()).unwrap_or(lv);
            let req = requirement[lv].0;
            let value = numeric(a(id));
            if value >= req {
                answered(max, format!("{label}：{}{unit}，达到{lv_label}不少于{}{unit}的要求，得{}分", fmt(value), fmt(req), fmt(max)))
            } else {
                let short_pct = (req - value) * Decimal::ONE_HUNDRED / req;
                let steps = (short_pct / step_percent.0).ceil();
                let d = per.0 * steps;
                answered(
                    (max - d).max(Decimal::ZERO),
                    format!(
                        "{label}：{}{unit}，{lv_label}要求不少于{}{unit}，少{}%（按每{}%计{}档），{}",
                        fmt(value),
                        fmt(req),
                        fmt(short_pct.round_dp(2)),
                        step_percent,
                        fmt(steps),
                        deduction_text(d, max)
                    ),
                )
            }
        }
        Rule::Range { checks } => {
            let mut outside = Vec::new();
            let mut readings = Vec::new();
            for c in checks {
                let inp = input(&c.input);
                let unit = inp.unit.as_deref().unwrap_or("");
                let v = numeric(a(&c.input));
                let text = format!("{}{}{unit}", inp.label, fmt(v));
                if v < c.min.0 || v > c.max.0 {
                    outside.push(format!("{text}超出{}～{}{unit}", c.min, c.max));
                } else {
                    readings.push(text);
                }
            }
            if outside.is_empty() {
                answered(max, format!("{label}：{}，均在规定范围内，得{}分", readings.join("、"), fmt(max)))
            } else {
                answered(Decimal::ZERO, format!("{label}：{}，不得分", outside.join("、")))
            }
        }
    }
}

fn deduction_text(deduction: Decimal, max: Decimal) -> String {
    if deduction >= max {
        format!("扣{}分，扣完为止", fmt(deduction))
    } else {
        format!("扣{}分", fmt(deduction))
    }
}

fn numeric(a: &Answer) -> Decimal {
    match a {
        Answer::Measurement { value } => *value,
        Answer::Count { value } => Decimal::from(*value),
        Answer::Ratio { percent, .. } => *percent,
        _ => Decimal::ZERO,
    }
}

fn band_unit(inp: &Input) -> &str {
    match inp.kind {
        InputKind::Measurement => inp.unit.as_deref().unwrap_or(""),
        InputKind::Ratio => "%",
        InputKind::Elements => "项",
        _ => "",
    }
}

/// The value a band rule compares, and how to show it.
fn band_value(inp: &Input, a: &Answer) -> (Decimal, String) {
    match a {
        Answer::Measurement { value } => (*value, format!("{}{}", fmt(*value), inp.unit.as_deref().unwrap_or(""))),
        Answer::Count { value } => (Decimal::from(*value), format!("{value}")),
        Answer::Ratio { percent, numerator, denominator } => {
            let shown = match (numerator, denominator) {
                (Some(n), Some(d)) => format!("{}%（{n}/{d}）", fmt(percent.round_dp(2))),
                _ => format!("{}%", fmt(*percent)),
            };
            (*percent, shown)
        }
        Answer::Elements { missing } => {
            let present: Vec<&str> = inp.elements.iter().filter(|e| !missing.contains(*e)).map(String::as_str).collect();
            let shown = if present.is_empty() { "均不具备".to_string() } else { format!("具备{}项（{}）", present.len(), present.join("、")) };
            (Decimal::from(present.len()), shown)
        }
        _ => (Decimal::ZERO, String::new()),
    }
}

/// How many deduction steps an answer gives, and what to say about it.
fn deduct_count(inp: &Input, a: &Answer) -> (u64, Option<String>) {
    match a {
        Answer::Count { value } => (*value, Some(format!("{}为{}", inp.label, value))),
        Answer::Elements { missing } => {
            // keep the rubric's order
            let m: Vec<&str> = inp.elements.iter().filter(|e| missing.contains(*e)).map(String::as_str).collect();
            if m.is_empty() {
                (0, None)
            } else {
                (m.len() as u64, Some(format!("缺少{}", m.join("、"))))
            }
        }
        Answer::Windows { windows } => {
            let mut n = 0;
            let mut parts = Vec::new();
            for w in windows {
                let m: Vec<&str> = inp.elements.iter().filter(|e| w.missing.contains(*e)).map(String::as_str).collect();
                if !m.is_empty() {
                    n += m.len() as u64;
                    parts.push(format!("{}缺少{}", w.window, m.join("、")));
                }
            }
            let text = if parts.is_empty() { format!("{}个窗口设备齐全", windows.len()) } else { parts.join("；") };
            (n, Some(text))
        }
        Answer::TimeSample { rows } => {
            let mut units = Decimal::ZERO;
            let mut late = 0;
            for r in rows {
                if r.actual > r.standard {
                    late += 1;
                    units += (r.actual - r.standard).ceil();
                }
            }
            let n = u64::try_from(units).unwrap_or(u64::MAX);
            let text = if late == 0 {
                format!("抽查{}件，均在标准时限内", rows.len())
            } else {
                format!("抽查{}件，{}件超时，共超出{}个计量单位", rows.len(), late, fmt(units))
            };
            (n, Some(text))
        }
        _ => (0, None),
    }
}

fn condition_holds(c: &Condition, inp: &Input, a: &Answer) -> Option<String> {
    if let Some(want) = c.is {
        if let Answer::YesNo { value } = a {
            return (*value == want).then(|| format!("{}为{}", inp.label, if *value { "是" } else { "否" }));
        }
    }
    let v = match a {
        Answer::YesNo { value } => Decimal::from(*value as u8),
        other => numeric(other),
    };
    if let Some(above) = c.above {
        if v > above.0 {
            return Some(format!("{}{}", inp.label, fmt(v)));
        }
    }
    if let Some(below) = c.below {
        if v < below.0 {
            return Some(format!("{}{}", inp.label, fmt(v)));
        }
    }
    None
}
