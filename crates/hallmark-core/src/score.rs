//! Scoring: observations → score sheet, by the rubric, exactly.
//!
//! Every number here is a `Decimal`. Unanswered is not zero: a part whose inputs are not all
//! answered has no points, the item and the total say they are incomplete, and the sheet
//! lists what is missing.

use rust_decimal::Decimal;
use serde::Serialize;

use crate::calendar::WorkCalendar;
use crate::finding::{Dated, Fact, Finding, Held, LateCase, LevelShort, Lowered, Outcome, QuarterCount, RangeReading, Reading, Tally, WindowLack};
use crate::observation::{Answer, Observations};
use crate::render;
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
    /// In Chinese, naming the observation: "办公设施：缺少复印机、电话，扣2分". Made from
    /// `finding` by `render::explain`; read it, never parse it.
    pub explanation: String,
    /// What the part found, as data: the rule kind, the inputs read, the facts and the points
    /// they give. When a missing key element zeroes the item, the first part carries that
    /// finding and the others keep their own (their `points` are 0 whatever it says).
    pub finding: Finding,
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
                Answer::TimeSample { rows, .. } => Some(rows.len() as u64),
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
        if let (Some(size), Some(Answer::TimeSample { rows, fewer_reason: Some(reason), .. })) = (input.sample_size, answer) {
            if (rows.len() as u64) < size && sample_sufficient(size, rows.len(), Some(reason)) {
                diagnostics.push(Diagnostic {
                    severity: Severity::Warning,
                    item: Some(item.id.clone()),
                    message: format!("{}：{}件，少于规定的{}件，原因：{}", input.label, rows.len(), size, reason),
                });
            }
        }
        if input.required && answer.is_none() && !rubric_reads(rubric, &input.id) {
            diagnostics
                .push(Diagnostic { severity: Severity::Missing, item: Some(item.id.clone()), message: format!("未作答：{}", input.label) });
        }
    }

    let groups = rubric
        .groups_in_order()
        .into_iter()
        .map(|(depth, g)| {
            let members: Vec<&ItemScore> = items.iter().filter(|s| rubric.ancestry(&s.group).contains(&g.id.as_str())).collect();
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
        diagnostics
            .push(Diagnostic { severity: Severity::Missing, item: None, message: format!("否决项未作答：{}", unanswered_veto.join("、")) });
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
        veto: VetoOutcome { vetoed, text: vetoed.then(|| rubric.result.veto_text.clone()), triggered, unanswered: unanswered_veto },
        diagnostics,
    }
}

fn rubric_reads(rubric: &Rubric, input: &str) -> bool {
    rubric.item.iter().flat_map(|i| &i.part).any(|p| p.rule.inputs().contains(&input) || p.zero_when.iter().any(|c| c.input == input))
}

fn score_item(rubric: &Rubric, item: &Item, obs: &Observations, diagnostics: &mut Vec<Diagnostic>) -> ItemScore {
    let mut parts: Vec<PartScore> = Vec::new();
    let mut key_missing: Option<Finding> = None;
    for part in &item.part {
        let scored = score_part(rubric, part, obs);
        if matches!(scored.finding.fact, Fact::KeyMissing { .. }) {
            key_missing.get_or_insert_with(|| scored.finding.clone());
        }
        let mut p = PartScore {
            label: part.label.clone(),
            max: part.points.0.normalize(),
            points: scored.points.map(|p| p.normalize()),
            explanation: String::new(),
            finding: scored.finding,
        };
        p.explanation = render::explain(&p);
        if p.points.is_none() {
            diagnostics.push(Diagnostic {
                severity: Severity::Missing,
                item: Some(item.id.clone()),
                message: format!("{} {}：{}", item.id, part.label, p.explanation),
            });
        }
        parts.push(p);
    }
    let n_answered = parts.iter().filter(|p| p.points.is_some()).count();
    let (points, status) = if let Some(key) = key_missing {
        // 此项不得分: a missing key element zeroes the whole item, answered or not; the first
        // part says why.
        for p in &mut parts {
            p.points = Some(Decimal::ZERO);
        }
        if let Some(first) = parts.first_mut() {
            first.finding = key;
            first.explanation = render::explain(first);
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
    finding: Finding,
}

/// Scores one part: the facts its rule reads, as a [`Finding`], and the points they give.
/// No text is made here (`render::explain` words a finding).
fn score_part(rubric: &Rubric, part: &Part, obs: &Observations) -> Scored {
    let input = |id: &str| rubric.input(id).map(|(_, i)| i).expect("validated: rules reference declared inputs");
    let mut read: Vec<String> = Vec::new();
    for id in part.rule.inputs().into_iter().chain(part.zero_when.iter().map(|c| c.input.as_str())) {
        if !read.iter().any(|r| r == id) {
            read.push(id.to_string());
        }
    }
    let max = part.points.0;
    let found = |outcome: Outcome, fact: Fact| Scored {
        points: outcome.points(max),
        finding: Finding { rule: part.rule.kind(), inputs: read.clone(), outcome, fact },
    };
    // Unanswered inputs make the part unanswered.
    // An optional (required = false) condition input that is unanswered simply does not hold.
    let mut needed: Vec<&str> = part.rule.inputs();
    needed.extend(part.zero_when.iter().filter(|c| input(&c.input).required).map(|c| c.input.as_str()));
    // The unanswered inputs, each once, in the order the rule reads them; their labels likewise.
    let (mut ids, mut labels): (Vec<String>, Vec<String>) = (Vec::new(), Vec::new());
    for id in needed.iter().filter(|id| !obs.answers.contains_key(**id)) {
        if !ids.iter().any(|i| i == id) {
            ids.push(id.to_string());
        }
        let label = &input(id).label;
        if !labels.contains(label) {
            labels.push(label.clone());
        }
    }
    if !ids.is_empty() {
        return found(Outcome::Unanswered, Fact::Unanswered { inputs: ids, labels });
    }
    let a = |id: &str| &obs.answers[id];
    // A time sample under its rubric's sample size, with no reason why, is not yet an answer.
    for id in part.rule.inputs() {
        let inp = input(id);
        if let (Some(size), Answer::TimeSample { rows, unfilled, fewer_reason }) = (inp.sample_size, a(id)) {
            if !sample_sufficient(size, rows.len(), fewer_reason.as_deref()) {
                let fact =
                    Fact::SampleShort { input: id.to_string(), label: inp.label.clone(), filled: rows.len(), unfilled: *unfilled, sample_size: size };
                return found(Outcome::Unanswered, fact);
            }
        }
    }
    let visited = obs.visited_on.as_deref().and_then(|d| crate::date::parse_date(d).ok());
    // A rule that counts from the visit day, without one: the part waits for 评价日期.
    let no_visit_date = || found(Outcome::Unanswered, Fact::Unanswered { inputs: vec!["visited_on".into()], labels: vec!["评价日期".into()] });
    for c in part.zero_when.iter().filter(|c| obs.answers.contains_key(&c.input)) {
        if let Some(held) = condition_holds(c, input(&c.input), a(&c.input), visited) {
            return found(Outcome::Zero, Fact::ZeroWhen { input: c.input.clone(), label: input(&c.input).label.clone(), held });
        }
    }
    let unit_of = |inp: &Input| inp.unit.clone().unwrap_or_default();
    // A deduction of `d` steps of `per`, or full marks when there is none.
    let deduct = |d: Decimal| if d.is_zero() { Outcome::Awarded { points: max.normalize() } } else { Outcome::Deducted { deduction: d.normalize() } };
    match &part.rule {
        Rule::Yes { input: id } => {
            let Answer::YesNo { value } = a(id) else { unreachable!("validated kind") };
            let outcome = if *value { Outcome::Awarded { points: max.normalize() } } else { Outcome::Zero };
            found(outcome, Fact::Yes { answer: *value })
        }
        Rule::Bands { input: id, bands } => {
            let inp = input(id);
            let reading = band_reading(inp, a(id));
            let hit = bands.iter().find(|b| reading.value() >= b.from.0);
            let lowest = bands.last().map(|b| b.from.0).unwrap_or_default();
            let outcome = match hit {
                Some(b) => Outcome::Awarded { points: b.points.0.normalize() },
                None => Outcome::Zero,
            };
            found(outcome, Fact::Bands { reading, reached: hit.map(|b| b.from.0), lowest, unit: band_unit(inp).to_string() })
        }
        Rule::Deduct { input: one, inputs: many, per, key } => {
            let mut tallies = Vec::new();
            for id in one.iter().chain(many.iter()) {
                if let (Answer::Elements { missing }, false) = (a(id), key.is_empty()) {
                    if let Some(k) = key.iter().find(|k| missing.contains(*k)) {
                        return found(Outcome::Zero, Fact::KeyMissing { input: id.clone(), element: k.clone() });
                    }
                }
                tallies.extend(tally(id, input(id), a(id)));
            }
            let steps: u64 = tallies.iter().map(Tally::steps).sum();
            found(deduct(per.0 * Decimal::from(steps)), Fact::Deduct { tallies })
        }
        Rule::Shortfall { input: id, target, per } => match a(id) {
            Answer::Count { value } => {
                let short = (target.0 - Decimal::from(*value)).max(Decimal::ZERO);
                found(deduct(per.0 * short), Fact::Shortfall { count: *value, target: target.0, short })
            }
            Answer::DatedList { entries } => {
                // Counted in the months up to the visit: without its date nothing can count.
                let Some(to) = visited else { return no_visit_date() };
                let inp = input(id);
                let months = chrono::Months::new(inp.within_months.expect("validated: a dated_list has within_months"));
                let from = to.checked_sub_months(months).and_then(|d| d.succ_opt()).unwrap_or(chrono::NaiveDate::MIN);
                let counted: Vec<Dated> =
                    entries.iter().filter(|e| e.date >= from && e.date <= to).map(|e| Dated { date: e.date, title: e.title.clone() }).collect();
                let outside = entries.len() - counted.len();
                let short = (target.0 - Decimal::from(counted.len())).max(Decimal::ZERO);
                let fact = Fact::DatedShortfall { label: inp.label.clone(), counted, outside, from, to, target: target.0, short };
                found(deduct(per.0 * short), fact)
            }
            _ => unreachable!("validated kind"),
        },
        Rule::Quarters { input: id, quarters } => {
            let Answer::DatedList { entries } = a(id) else { unreachable!("validated kind") };
            let Some(visit) = visited else { return no_visit_date() };
            // The completed quarters before the visit's own, oldest first; quarters numbered
            // year × 4 + (quarter − 1) so that going back crosses years.
            let now = quarter_index(visit);
            let counts: Vec<QuarterCount> = (1..=*quarters as i64)
                .rev()
                .map(|back| {
                    let i = now - back;
                    let entries = entries.iter().filter(|e| quarter_index(e.date) == i).count();
                    QuarterCount { year: i.div_euclid(4) as i32, quarter: (i.rem_euclid(4) + 1) as u32, entries }
                })
                .collect();
            let outcome = if counts.iter().all(|c| c.entries > 0) { Outcome::Awarded { points: max.normalize() } } else { Outcome::Zero };
            found(outcome, Fact::Quarters { label: input(id).label.clone(), quarters: counts })
        }
        Rule::AtLeast { input: id, target, lower } => {
            let Answer::Count { value } = a(id) else { unreachable!("validated kind") };
            let lowered = lower.as_ref().and_then(|l| {
                let v = numeric(a(&l.input));
                (v < l.below.0)
                    .then(|| (l.target.0, Lowered { input: l.input.clone(), label: input(&l.input).label.clone(), value: v, below: l.below.0 }))
            });
            let target = lowered.as_ref().map(|(t, _)| *t).unwrap_or(target.0);
            let outcome = if Decimal::from(*value) >= target { Outcome::Awarded { points: max.normalize() } } else { Outcome::Zero };
            let inp = input(id);
            found(outcome, Fact::AtLeast { label: inp.label.clone(), value: *value, unit: unit_of(inp), target, lowered: lowered.map(|(_, l)| l) })
        }
        Rule::Excess { input: id, limit, step, per } => {
            let value = numeric(a(id));
            let steps = (value > limit.0).then(|| ((value - limit.0) / step.0).ceil());
            let d = steps.map(|s| per.0 * s).unwrap_or_default();
            found(deduct(d), Fact::Excess { value, unit: unit_of(input(id)), limit: limit.0, step: step.0, steps })
        }
        Rule::LevelShortfall { input: id, level, requirement, step_percent, per } => {
            let Answer::Choice { value: lv } = a(level) else { unreachable!("validated kind") };
            let level_label = input(level).options.iter().find(|o| &o.id == lv).map(|o| o.label.clone()).unwrap_or_else(|| lv.clone());
            let req = requirement[lv].0;
            let value = numeric(a(id));
            let short = (value < req).then(|| {
                let percent = (req - value) * Decimal::ONE_HUNDRED / req;
                LevelShort { percent, steps: (percent / step_percent.0).ceil() }
            });
            let d = short.map(|s| per.0 * s.steps).unwrap_or_default();
            let fact = Fact::LevelShortfall {
                value,
                unit: unit_of(input(id)),
                level: lv.clone(),
                level_label,
                requirement: req,
                step_percent: step_percent.0,
                short,
            };
            found(deduct(d), fact)
        }
        Rule::Range { checks } => {
            let readings: Vec<RangeReading> = checks
                .iter()
                .map(|c| {
                    let inp = input(&c.input);
                    RangeReading {
                        input: c.input.clone(),
                        label: inp.label.clone(),
                        value: numeric(a(&c.input)),
                        unit: unit_of(inp),
                        min: c.min.0,
                        max: c.max.0,
                    }
                })
                .collect();
            let outcome = if readings.iter().all(RangeReading::inside) { Outcome::Awarded { points: max.normalize() } } else { Outcome::Zero };
            found(outcome, Fact::Range { readings })
        }
    }
}

/// Whether a time sample may score: its size reached, or at least one filled row and the
/// inspector's reason why there are fewer (no rows at all is no evidence: it stays unanswered).
pub fn sample_sufficient(sample_size: u64, filled: usize, fewer_reason: Option<&str>) -> bool {
    filled as u64 >= sample_size || (filled > 0 && fewer_reason.is_some_and(|r| !r.trim().is_empty()))
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
        // A count says its unit when the rubric gives one (signage places: "2处"; issue #13).
        InputKind::Measurement | InputKind::Count | InputKind::Tally => inp.unit.as_deref().unwrap_or(""),
        InputKind::Ratio => "%",
        InputKind::Elements => "项",
        _ => "",
    }
}

/// The value a band rule compares.
fn band_reading(inp: &Input, a: &Answer) -> Reading {
    match a {
        Answer::Measurement { value } => Reading::Measured { value: *value, unit: inp.unit.clone().unwrap_or_default() },
        Answer::Count { value } => Reading::Counted { value: *value },
        Answer::Ratio { percent, numerator, denominator } => Reading::Percent { percent: *percent, numerator: *numerator, denominator: *denominator },
        Answer::Elements { missing } => Reading::Present { elements: inp.elements.iter().filter(|e| !missing.contains(*e)).cloned().collect() },
        _ => unreachable!("validated kind: bands read a measurement, count, ratio or elements"),
    }
}

/// What one input of a deduct rule counted (in the rubric's element order).
fn tally(id: &str, inp: &Input, a: &Answer) -> Option<Tally> {
    let in_order = |missing: &std::collections::BTreeSet<String>| inp.elements.iter().filter(|e| missing.contains(*e)).cloned().collect::<Vec<_>>();
    let input = id.to_string();
    match a {
        Answer::Count { value } => Some(Tally::Count { input, label: inp.label.clone(), value: *value }),
        Answer::Elements { missing } => Some(Tally::Missing { input, elements: in_order(missing) }),
        Answer::Windows { windows } => {
            let lacking = windows
                .iter()
                .map(|w| WindowLack { window: w.window.clone(), missing: in_order(&w.missing) })
                .filter(|w| !w.missing.is_empty())
                .collect();
            Some(Tally::Windows { input, windows: windows.len(), lacking })
        }
        Answer::TimeSample { rows, unfilled, fewer_reason } => {
            let late: Vec<_> = rows.iter().filter(|r| r.actual > r.standard).collect();
            let units = late.iter().map(|r| (r.actual - r.standard).ceil()).sum();
            // A reason is kept only where it explains something: a sample below its size.
            let short = inp.sample_size.is_some_and(|n| (rows.len() as u64) < n);
            Some(Tally::TimeSample {
                input,
                sampled: rows.len(),
                late: late.len(),
                units,
                sample_size: inp.sample_size,
                unfilled: *unfilled,
                fewer_reason: fewer_reason.clone().filter(|_| short),
            })
        }
        _ => None,
    }
}

/// The cases of a `case_dates` answer over the input's limit of working days: submitted later,
/// or still waiting on the visit day (`visited`) and already over it. Pure: the calendar is
/// the one hallmark ships.
pub fn late_cases(input: &Input, a: &Answer, visited: Option<chrono::NaiveDate>) -> Option<Held> {
    let Answer::CaseDates { cases } = a else { return None };
    let limit = input.limit_working_days.unwrap_or(u32::MAX);
    let cal = WorkCalendar::shared();
    let mut uncovered = false;
    let late: Vec<LateCase> = cases
        .iter()
        .filter_map(|c| {
            let end = c.submitted.or(visited)?;
            uncovered |= !cal.covers(c.complete, end);
            let working_days = cal.working_days_after(c.complete, end);
            (working_days > limit).then(|| LateCase { case: c.case.clone(), complete: c.complete, submitted: c.submitted, working_days })
        })
        .collect();
    (!late.is_empty()).then_some(Held::Late { cases: late, limit, uncovered })
}

/// A day's calendar quarter as year × 4 + (quarter − 1).
fn quarter_index(d: chrono::NaiveDate) -> i64 {
    chrono::Datelike::year(&d) as i64 * 4 + (chrono::Datelike::month0(&d) / 3) as i64
}

fn condition_holds(c: &Condition, input: &Input, a: &Answer, visited: Option<chrono::NaiveDate>) -> Option<Held> {
    if c.late == Some(true) {
        return late_cases(input, a, visited);
    }
    if let Some(want) = c.is {
        if let Answer::YesNo { value } = a {
            return (*value == want).then_some(Held::Is { value: *value });
        }
    }
    let v = match a {
        Answer::YesNo { value } => Decimal::from(*value as u8),
        other => numeric(other),
    };
    if let Some(above) = c.above {
        if v > above.0 {
            return Some(Held::Above { value: v, limit: above.0 });
        }
    }
    if let Some(below) = c.below {
        if v < below.0 {
            return Some(Held::Below { value: v, limit: below.0 });
        }
    }
    None
}
