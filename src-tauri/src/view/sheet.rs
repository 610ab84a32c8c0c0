//! The score sheet and its findings.

use super::*;

// ---------- the score sheet ----------

#[derive(Debug, Serialize)]
pub struct ScoreSheet {
    pub rubric: String,
    pub rubric_version: String,
    pub rubric_hash: String,
    pub site: Option<String>,
    pub assessor: Option<String>,
    pub items: Vec<ItemScore>,
    pub groups: Vec<GroupScore>,
    pub total: String,
    pub max_total: String,
    pub complete: bool,
    pub veto: VetoOutcome,
    pub diagnostics: Vec<Diagnostic>,
}

impl From<&sc::ScoreSheet> for ScoreSheet {
    fn from(s: &sc::ScoreSheet) -> Self {
        ScoreSheet {
            rubric: s.rubric.clone(),
            rubric_version: s.rubric_version.clone(),
            rubric_hash: s.rubric_hash.clone(),
            site: s.site.clone(),
            assessor: s.assessor.clone(),
            items: s.items.iter().map(ItemScore::from).collect(),
            groups: s
                .groups
                .iter()
                .map(|g| GroupScore {
                    id: g.id.clone(),
                    name: g.name.clone(),
                    depth: g.depth,
                    max: text(&g.max),
                    points: text(&g.points),
                    complete: g.complete,
                })
                .collect(),
            total: text(&s.total),
            max_total: text(&s.max_total),
            complete: s.complete,
            veto: VetoOutcome {
                triggered: s.veto.triggered.clone(),
                unanswered: s.veto.unanswered.clone(),
                vetoed: s.veto.vetoed,
                text: s.veto.text.clone(),
            },
            diagnostics: s
                .diagnostics
                .iter()
                .map(|d| Diagnostic {
                    severity: match d.severity {
                        sc::Severity::Missing => "missing",
                        sc::Severity::Warning => "warning",
                    },
                    item: d.item.clone(),
                    message: d.message.clone(),
                })
                .collect(),
        }
    }
}

#[derive(Debug, Serialize)]
pub struct ItemScore {
    pub id: String,
    pub group: String,
    pub name: String,
    pub max: String,
    /// `None` when no part is answered.
    pub points: Option<String>,
    /// complete | partial | unanswered
    pub status: &'static str,
    pub parts: Vec<PartScore>,
}

impl From<&sc::ItemScore> for ItemScore {
    fn from(i: &sc::ItemScore) -> Self {
        ItemScore {
            id: i.id.clone(),
            group: i.group.clone(),
            name: i.name.clone(),
            max: text(&i.max),
            points: texts(&i.points),
            status: match i.status {
                sc::Status::Complete => "complete",
                sc::Status::Partial => "partial",
                sc::Status::Unanswered => "unanswered",
            },
            parts: i.parts.iter().map(PartScore::from).collect(),
        }
    }
}

#[derive(Debug, Serialize)]
pub struct PartScore {
    pub label: String,
    pub max: String,
    pub points: Option<String>,
    /// In Chinese, naming the observation; read it, never parse it.
    pub explanation: String,
    pub finding: Finding,
}

impl From<&sc::PartScore> for PartScore {
    fn from(p: &sc::PartScore) -> Self {
        PartScore {
            label: p.label.clone(),
            max: text(&p.max),
            points: texts(&p.points),
            explanation: p.explanation.clone(),
            finding: (&p.finding).into(),
        }
    }
}

#[derive(Debug, Serialize)]
pub struct GroupScore {
    pub id: String,
    pub name: String,
    pub depth: usize,
    pub max: String,
    pub points: String,
    pub complete: bool,
}

#[derive(Debug, Serialize)]
pub struct VetoOutcome {
    pub triggered: Vec<String>,
    pub unanswered: Vec<String>,
    pub vetoed: bool,
    pub text: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct Diagnostic {
    /// missing | warning
    pub severity: &'static str,
    pub item: Option<String>,
    pub message: String,
}

/// What one part found, as data (hallmark_core::finding).
#[derive(Debug, Serialize)]
pub struct Finding {
    pub rule: String,
    pub inputs: Vec<String>,
    pub outcome: Outcome,
    pub fact: Fact,
}

impl From<&fnd::Finding> for Finding {
    fn from(f: &fnd::Finding) -> Self {
        Finding { rule: f.rule.to_string(), inputs: f.inputs.clone(), outcome: (&f.outcome).into(), fact: (&f.fact).into() }
    }
}

#[derive(Debug, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Outcome {
    Awarded { points: String },
    Deducted { deduction: String },
    Zero,
    Unanswered,
}

impl From<&fnd::Outcome> for Outcome {
    fn from(o: &fnd::Outcome) -> Self {
        match o {
            fnd::Outcome::Awarded { points } => Outcome::Awarded { points: text(points) },
            fnd::Outcome::Deducted { deduction } => Outcome::Deducted { deduction: text(deduction) },
            fnd::Outcome::Zero => Outcome::Zero,
            fnd::Outcome::Unanswered => Outcome::Unanswered,
        }
    }
}

#[derive(Debug, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Fact {
    Yes {
        answer: bool,
    },
    Bands {
        reading: Reading,
        reached: Option<String>,
        lowest: String,
        unit: String,
    },
    Deduct {
        tallies: Vec<Tally>,
    },
    Shortfall {
        count: u64,
        target: String,
        short: String,
    },
    Excess {
        value: String,
        unit: String,
        limit: String,
        step: String,
        steps: Option<String>,
    },
    LevelShortfall {
        value: String,
        unit: String,
        level: String,
        level_label: String,
        requirement: String,
        step_percent: String,
        short: Option<LevelShort>,
    },
    Range {
        readings: Vec<RangeReading>,
    },
    ZeroWhen {
        input: String,
        label: String,
        held: Held,
    },
    KeyMissing {
        input: String,
        element: String,
    },
    Unanswered {
        inputs: Vec<String>,
        labels: Vec<String>,
    },
    SampleShort {
        input: String,
        label: String,
        filled: usize,
        unfilled: usize,
        sample_size: u64,
    },
    /// Issue #13: a shortfall counted from a dated list.
    DatedShortfall {
        label: String,
        counted: Vec<Dated>,
        outside: usize,
        from: String,
        to: String,
        target: String,
        short: String,
    },
    /// Issue #13: entries per completed quarter before the visit's.
    Quarters {
        label: String,
        quarters: Vec<QuarterCount>,
    },
    /// Issue #13.
    AtLeast {
        label: String,
        value: u64,
        unit: String,
        target: String,
        lowered: Option<Lowered>,
    },
}

#[derive(Debug, Serialize)]
pub struct QuarterCount {
    pub year: i32,
    pub quarter: u32,
    pub entries: usize,
}

#[derive(Debug, Serialize)]
pub struct Dated {
    pub date: String,
    pub title: String,
}

#[derive(Debug, Serialize)]
pub struct Lowered {
    pub input: String,
    pub label: String,
    pub value: String,
    pub below: String,
}

#[derive(Debug, Serialize)]
pub struct LateCase {
    pub case: String,
    pub complete: String,
    pub submitted: Option<String>,
    pub working_days: u32,
}

impl From<&fnd::Fact> for Fact {
    fn from(f: &fnd::Fact) -> Self {
        match f {
            fnd::Fact::Yes { answer } => Fact::Yes { answer: *answer },
            fnd::Fact::Bands { reading, reached, lowest, unit } => {
                Fact::Bands { reading: reading.into(), reached: texts(reached), lowest: text(lowest), unit: unit.clone() }
            }
            fnd::Fact::Deduct { tallies } => Fact::Deduct { tallies: tallies.iter().map(Tally::from).collect() },
            fnd::Fact::Shortfall { count, target, short } => Fact::Shortfall { count: *count, target: text(target), short: text(short) },
            fnd::Fact::Excess { value, unit, limit, step, steps } => {
                Fact::Excess { value: text(value), unit: unit.clone(), limit: text(limit), step: text(step), steps: texts(steps) }
            }
            fnd::Fact::LevelShortfall { value, unit, level, level_label, requirement, step_percent, short } => Fact::LevelShortfall {
                value: text(value),
                unit: unit.clone(),
                level: level.clone(),
                level_label: level_label.clone(),
                requirement: text(requirement),
                step_percent: text(step_percent),
                short: short.map(|s| LevelShort { percent: text(&s.percent), steps: text(&s.steps) }),
            },
            fnd::Fact::Range { readings } => Fact::Range {
                readings: readings
                    .iter()
                    .map(|r| RangeReading {
                        input: r.input.clone(),
                        label: r.label.clone(),
                        value: text(&r.value),
                        unit: r.unit.clone(),
                        min: text(&r.min),
                        max: text(&r.max),
                    })
                    .collect(),
            },
            fnd::Fact::ZeroWhen { input, label, held } => Fact::ZeroWhen { input: input.clone(), label: label.clone(), held: held.into() },
            fnd::Fact::KeyMissing { input, element } => Fact::KeyMissing { input: input.clone(), element: element.clone() },
            fnd::Fact::Unanswered { inputs, labels } => Fact::Unanswered { inputs: inputs.clone(), labels: labels.clone() },
            fnd::Fact::SampleShort { input, label, filled, unfilled, sample_size } => {
                Fact::SampleShort { input: input.clone(), label: label.clone(), filled: *filled, unfilled: *unfilled, sample_size: *sample_size }
            }
            fnd::Fact::DatedShortfall { label, counted, outside, from, to, target, short } => Fact::DatedShortfall {
                label: label.clone(),
                counted: counted.iter().map(|d| Dated { date: d.date.to_string(), title: d.title.clone() }).collect(),
                outside: *outside,
                from: from.to_string(),
                to: to.to_string(),
                target: text(target),
                short: text(short),
            },
            fnd::Fact::Quarters { label, quarters } => Fact::Quarters {
                label: label.clone(),
                quarters: quarters.iter().map(|c| QuarterCount { year: c.year, quarter: c.quarter, entries: c.entries }).collect(),
            },
            fnd::Fact::AtLeast { label, value, unit, target, lowered } => Fact::AtLeast {
                label: label.clone(),
                value: *value,
                unit: unit.clone(),
                target: text(target),
                lowered: lowered.as_ref().map(|l| Lowered {
                    input: l.input.clone(),
                    label: l.label.clone(),
                    value: text(&l.value),
                    below: text(&l.below),
                }),
            },
        }
    }
}

#[derive(Debug, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Reading {
    Measured { value: String, unit: String },
    Counted { value: u64 },
    Percent { percent: String, numerator: Option<u64>, denominator: Option<u64> },
    Present { elements: Vec<String> },
}

impl From<&fnd::Reading> for Reading {
    fn from(r: &fnd::Reading) -> Self {
        match r {
            fnd::Reading::Measured { value, unit } => Reading::Measured { value: text(value), unit: unit.clone() },
            fnd::Reading::Counted { value } => Reading::Counted { value: *value },
            fnd::Reading::Percent { percent, numerator, denominator } => {
                Reading::Percent { percent: text(percent), numerator: *numerator, denominator: *denominator }
            }
            fnd::Reading::Present { elements } => Reading::Present { elements: elements.clone() },
        }
    }
}

#[derive(Debug, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Tally {
    Count { input: String, label: String, value: u64 },
    Missing { input: String, elements: Vec<String> },
    Windows { input: String, windows: usize, lacking: Vec<WindowLack> },
    TimeSample { input: String, sampled: usize, late: usize, units: String, sample_size: Option<u64>, unfilled: usize, fewer_reason: Option<String> },
}

impl From<&fnd::Tally> for Tally {
    fn from(t: &fnd::Tally) -> Self {
        match t {
            fnd::Tally::Count { input, label, value } => Tally::Count { input: input.clone(), label: label.clone(), value: *value },
            fnd::Tally::Missing { input, elements } => Tally::Missing { input: input.clone(), elements: elements.clone() },
            fnd::Tally::Windows { input, windows, lacking } => Tally::Windows {
                input: input.clone(),
                windows: *windows,
                lacking: lacking.iter().map(|w| WindowLack { window: w.window.clone(), missing: w.missing.clone() }).collect(),
            },
            fnd::Tally::TimeSample { input, sampled, late, units, sample_size, unfilled, fewer_reason } => Tally::TimeSample {
                input: input.clone(),
                sampled: *sampled,
                late: *late,
                units: text(units),
                sample_size: *sample_size,
                unfilled: *unfilled,
                fewer_reason: fewer_reason.clone(),
            },
        }
    }
}

#[derive(Debug, Serialize)]
pub struct WindowLack {
    pub window: String,
    pub missing: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct LevelShort {
    pub percent: String,
    pub steps: String,
}

#[derive(Debug, Serialize)]
pub struct RangeReading {
    pub input: String,
    pub label: String,
    pub value: String,
    pub unit: String,
    pub min: String,
    pub max: String,
}

#[derive(Debug, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Held {
    Is {
        value: bool,
    },
    Above {
        value: String,
        limit: String,
    },
    Below {
        value: String,
        limit: String,
    },
    /// Issue #13.
    Late {
        cases: Vec<LateCase>,
        limit: u32,
        uncovered: bool,
    },
}

impl From<&fnd::Held> for Held {
    fn from(h: &fnd::Held) -> Self {
        match h {
            fnd::Held::Is { value } => Held::Is { value: *value },
            fnd::Held::Above { value, limit } => Held::Above { value: text(value), limit: text(limit) },
            fnd::Held::Below { value, limit } => Held::Below { value: text(value), limit: text(limit) },
            fnd::Held::Late { cases, limit, uncovered } => Held::Late {
                cases: cases
                    .iter()
                    .map(|c| LateCase {
                        case: c.case.clone(),
                        complete: c.complete.to_string(),
                        submitted: c.submitted.map(|d| d.to_string()),
                        working_days: c.working_days,
                    })
                    .collect(),
                limit: *limit,
                uncovered: *uncovered,
            },
        }
    }
}
