//! What a scored part found, as data.
//!
//! Scoring (`score.rs`) records the facts a part's rule read and the points they give; Chinese
//! text is made from a finding only when it is shown ([`crate::render::explain`] for the score
//! sheet, [`crate::render::deficiency`] for the report's 整改建议). Nothing reads a finding back
//! out of its text: reword a sentence and no score or recommendation changes.
//!
//! (Not `rubric::Finding`, which is a place where the seed itself is inconsistent.)

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::Serialize;

/// What one part of an item found, and how it scores.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    /// The kind of the part's rule ([`crate::rubric::Rule::kind`]): "yes", "bands", "deduct", …
    pub rule: &'static str,
    /// The ids of the inputs the part reads: its rule's, then its `zero_when` conditions', each once.
    pub inputs: Vec<String>,
    pub outcome: Outcome,
    pub fact: Fact,
}

/// How the facts score against the part's maximum.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Outcome {
    /// The rule awards these points (得N分): full marks, or the band reached.
    Awarded { points: Decimal },
    /// The rule takes `deduction` off the maximum (扣N分). It may exceed the maximum; the part
    /// then scores 0 (扣完为止).
    Deducted { deduction: Decimal },
    /// The part scores 0 (不得分).
    Zero,
    /// An input the part reads is unanswered: the part has no points (unanswered is not zero).
    Unanswered,
}

impl Outcome {
    /// The part's points out of `max`; `None` when unanswered.
    pub fn points(self, max: Decimal) -> Option<Decimal> {
        match self {
            Outcome::Awarded { points } => Some(points),
            Outcome::Deducted { deduction } => Some((max - deduction).max(Decimal::ZERO)),
            Outcome::Zero => Some(Decimal::ZERO),
            Outcome::Unanswered => None,
        }
    }
}

/// What was found. The rule kinds' facts carry the rule kind's name; `zero_when`, a missing key
/// element and unanswered inputs can end a part of any kind.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Fact {
    /// `yes`: the answer.
    Yes { answer: bool },
    /// `bands`: the reading; the lower edge of the band it reached (`None`: below every band);
    /// the lowest band's edge, in `unit` (how a miss is told).
    Bands { reading: Reading, reached: Option<Decimal>, lowest: Decimal, unit: String },
    /// `deduct`: what each input counted, in the order read; the deduction is `per` × all their steps.
    Deduct { tallies: Vec<Tally> },
    /// `shortfall`: the count against the target; `short` is 0 when the target is met.
    Shortfall { count: u64, target: Decimal, short: Decimal },
    /// `shortfall` on a `dated_list` (issue #13): the entries dated from `from` to `to` (the
    /// visit) count, in the order written; `outside` is how many entries fall outside.
    DatedShortfall { label: String, counted: Vec<Dated>, outside: usize, from: NaiveDate, to: NaiveDate, target: Decimal, short: Decimal },
    /// `at_least` (issue #13): the count against the target, lowered by `lowered` when the
    /// other number was below its threshold.
    AtLeast { label: String, value: u64, unit: String, target: Decimal, lowered: Option<Lowered> },
    /// `quarters` (issue #13): each completed quarter before the visit's, oldest first, with how
    /// many entries it holds.
    Quarters { label: String, quarters: Vec<QuarterCount> },
    /// `excess`: the value against the limit; `steps` started over it (`None`: within it).
    Excess { value: Decimal, unit: String, limit: Decimal, step: Decimal, steps: Option<Decimal> },
    /// `level_shortfall`: the value against the requirement of the site's level (`level` is the
    /// option id, `level_label` its name); `short` when below it.
    LevelShortfall {
        value: Decimal,
        unit: String,
        level: String,
        level_label: String,
        requirement: Decimal,
        step_percent: Decimal,
        short: Option<LevelShort>,
    },
    /// `range`: every reading with its allowed range.
    Range { readings: Vec<RangeReading> },
    /// A `zero_when` condition held: the part scores 0 whatever its rule says.
    ZeroWhen { input: String, label: String, held: Held },
    /// A key element is missing: the whole item scores 0 (此项不得分).
    KeyMissing { input: String, element: String },
    /// Inputs the part reads are unanswered: their ids, and their labels (each once, in the order read).
    Unanswered { inputs: Vec<String>, labels: Vec<String> },
    /// A time sample holds fewer filled rows than the rubric's `sample_size` and no reason why:
    /// the part is unanswered until more rows are filled or the reason is given.
    SampleShort { input: String, label: String, filled: usize, unfilled: usize, sample_size: u64 },
}

/// One calendar quarter and the entries dated in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct QuarterCount {
    pub year: i32,
    /// 1–4
    pub quarter: u32,
    pub entries: usize,
}

/// A dated entry that counted.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Dated {
    pub date: NaiveDate,
    pub title: String,
}

/// Why an `at_least` target was lowered: `label`'s value was below `below`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Lowered {
    pub input: String,
    pub label: String,
    pub value: Decimal,
    pub below: Decimal,
}

/// A case over its limit of working days (`submitted` `None`: still waiting on the visit day).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LateCase {
    pub case: String,
    pub complete: NaiveDate,
    pub submitted: Option<NaiveDate>,
    pub working_days: u32,
}

/// A value a `bands` rule compares.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Reading {
    Measured {
        value: Decimal,
        unit: String,
    },
    Counted {
        value: u64,
    },
    /// A percentage; with the counts it was computed from when the assessor gave them.
    Percent {
        percent: Decimal,
        numerator: Option<u64>,
        denominator: Option<u64>,
    },
    /// The elements present, in the rubric's order (the value is how many).
    Present {
        elements: Vec<String>,
    },
}

impl Reading {
    /// The number the bands are compared with.
    pub fn value(&self) -> Decimal {
        match self {
            Reading::Measured { value, .. } => *value,
            Reading::Counted { value } => Decimal::from(*value),
            Reading::Percent { percent, .. } => *percent,
            Reading::Present { elements } => Decimal::from(elements.len()),
        }
    }
}

/// What one input of a `deduct` rule counted.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Tally {
    /// A count or tally: each one is a step.
    Count { input: String, label: String, value: u64 },
    /// The elements missing, in the rubric's order: each one is a step.
    Missing { input: String, elements: Vec<String> },
    /// Window equipment: how many windows were checked, and the ones lacking something (each
    /// missing piece is a step).
    Windows { input: String, windows: usize, lacking: Vec<WindowLack> },
    /// A time sample: rows sampled (filled), rows over their standard, and the overrun in whole
    /// units summed over the rows (each unit is a step). Under a rubric with `sample_size`:
    /// that size, the rows left unfilled (not scored) and, for a smaller sample, why.
    TimeSample { input: String, sampled: usize, late: usize, units: Decimal, sample_size: Option<u64>, unfilled: usize, fewer_reason: Option<String> },
}

impl Tally {
    /// The deduction steps this input gives.
    pub fn steps(&self) -> u64 {
        match self {
            Tally::Count { value, .. } => *value,
            Tally::Missing { elements, .. } => elements.len() as u64,
            Tally::Windows { lacking, .. } => lacking.iter().map(|w| w.missing.len() as u64).sum(),
            Tally::TimeSample { units, .. } => u64::try_from(*units).unwrap_or(u64::MAX),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WindowLack {
    pub window: String,
    /// In the rubric's order.
    pub missing: Vec<String>,
}

/// How far a value falls below its level's requirement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct LevelShort {
    /// (requirement − value) / requirement × 100, exact.
    pub percent: Decimal,
    /// ⌈percent / step_percent⌉
    pub steps: Decimal,
}

/// One reading of a `range` rule.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RangeReading {
    pub input: String,
    pub label: String,
    pub value: Decimal,
    pub unit: String,
    pub min: Decimal,
    pub max: Decimal,
}

impl RangeReading {
    pub fn inside(&self) -> bool {
        self.value >= self.min && self.value <= self.max
    }
}

/// The `zero_when` condition that held, with the value that made it hold.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Held {
    Is {
        value: bool,
    },
    Above {
        value: Decimal,
        limit: Decimal,
    },
    Below {
        value: Decimal,
        limit: Decimal,
    },
    /// `late = true` (issue #13): the cases over `limit` working days, in the order written;
    /// `uncovered` when a case's dates fall in a year the holiday calendar does not list
    /// (counted by weekends alone).
    Late {
        cases: Vec<LateCase>,
        limit: u32,
        uncovered: bool,
    },
}
