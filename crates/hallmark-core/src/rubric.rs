//! Rubrics: the data model of `docs/rubric-format.md`, its parser and its validator.
//!
//! A [`Rubric`] is only ever built through [`Rubric::from_toml`], which rejects a file that
//! could score wrongly (unknown rule, duplicate id, wrong sums, dangling input) and reports
//! the seed's own inconsistencies as [`Finding`]s that the file must answer with an
//! interpretation.

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::num::Num;

mod validate;
use validate::{findings, validate};

pub const FORMAT: &str = "hallmark-rubric/1";

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Rubric {
    pub format: String,
    pub id: String,
    pub version: String,
    pub title: String,
    pub source: String,
    pub points: Num,
    #[serde(default)]
    pub levels: Vec<String>,
    pub result: ResultRule,
    #[serde(default)]
    pub veto: Vec<Veto>,
    #[serde(default)]
    pub group: Vec<Group>,
    #[serde(default)]
    pub item: Vec<Item>,
    /// SHA-256 of the file's bytes, hex; set by the parser, never read from the file.
    #[serde(skip_deserializing)]
    pub content_hash: String,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ResultRule {
    #[serde(default = "one")]
    pub min_assessors: u32,
    #[serde(default)]
    pub odd_assessors: bool,
    pub pass_at: Option<Num>,
    pub pass_text: Option<String>,
    pub fail_text: Option<String>,
    pub insufficient_text: Option<String>,
    pub veto_text: String,
    /// How long a conclusion stays valid (Liaoning spec 12: one year); `None`: not stated.
    #[serde(default)]
    pub valid_months: Option<u32>,
    /// The most working days a panel's visits should spread over (Liaoning spec 10: "工作时间不
    /// 宜超过3个工作日"); more is a warning, never a score. `None`: not stated.
    #[serde(default)]
    pub max_working_days: Option<u32>,
    /// The evaluation report's title (Liaoning appendix B: "医疗保障经办机构示范窗口评价报告").
    #[serde(default)]
    pub report_title: Option<String>,
    /// 评价流程 as the standard describes it, quoted in the report.
    #[serde(default)]
    pub process: Option<String>,
}

fn one() -> u32 {
    1
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Veto {
    pub id: String,
    pub text: String,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Group {
    pub id: String,
    pub parent: Option<String>,
    pub number: Option<String>,
    pub name: String,
    pub points: Num,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Item {
    pub id: String,
    pub group: String,
    pub number: Option<String>,
    pub name: String,
    pub text: String,
    #[serde(default)]
    pub criteria: String,
    #[serde(default)]
    pub method: Vec<String>,
    pub points: Num,
    #[serde(default)]
    pub input: Vec<Input>,
    #[serde(default)]
    pub part: Vec<Part>,
    #[serde(default)]
    pub interpretation: Vec<Interpretation>,
    /// Observed services logged one entry at a time (Liaoning 服务实操), feeding the counts.
    pub service_log: Option<ServiceLog>,
}

/// How one observed-service entry feeds an item's inputs: +1 to `real` or `simulated`, and
/// each category's occurrences added to that tally input.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceLog {
    pub real: String,
    pub simulated: String,
    pub categories: Vec<String>,
}

#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum InputKind {
    YesNo,
    Count,
    Tally,
    Elements,
    WindowEquipment,
    Measurement,
    Ratio,
    Choice,
    TimeSample,
    /// Dated entries (Jiangsu 7.(2) trainings: date and title), counted within `within_months`
    /// before the visit (issue #13).
    DatedList,
    /// Cases with two dates (Jiangsu 10.(2) 帮办代办: materials complete, submitted), each
    /// counted in working days against `limit_working_days` (issue #13).
    CaseDates,
}

impl InputKind {
    pub fn name(self) -> &'static str {
        match self {
            InputKind::YesNo => "yes_no",
            InputKind::Count => "count",
            InputKind::Tally => "tally",
            InputKind::Elements => "elements",
            InputKind::WindowEquipment => "window_equipment",
            InputKind::Measurement => "measurement",
            InputKind::Ratio => "ratio",
            InputKind::Choice => "choice",
            InputKind::TimeSample => "time_sample",
            InputKind::DatedList => "dated_list",
            InputKind::CaseDates => "case_dates",
        }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Input {
    pub id: String,
    pub kind: InputKind,
    pub label: String,
    pub help: Option<String>,
    #[serde(default = "yes")]
    pub required: bool,
    pub expect_at_least: Option<u64>,
    /// A `time_sample`'s required number of filled rows (Liaoning 服务时限: 50). With it the
    /// sample scores only when that many rows are filled, or fewer with the inspector's reason
    /// (`fewer_reason`); without it (rubrics before it existed) any rows score.
    pub sample_size: Option<u64>,
    pub unit: Option<String>,
    pub min: Option<Num>,
    pub max: Option<Num>,
    #[serde(default)]
    pub elements: Vec<String>,
    #[serde(default)]
    pub options: Vec<ChoiceOption>,
    #[serde(default)]
    pub units: Vec<String>,
    /// Where an unanswered value comes from: only `"site.level"` (the site's 省/市/县/乡镇).
    pub default_from: Option<String>,
    /// A `dated_list`'s window: entries dated in the months up to the visit count (12: "每年").
    pub within_months: Option<u32>,
    /// A `case_dates` input's limit: a case whose submission came more working days after its
    /// materials were complete than this is late (Jiangsu 10.(2): 3).
    pub limit_working_days: Option<u32>,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ChoiceOption {
    pub id: String,
    pub label: String,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Part {
    pub label: String,
    pub points: Num,
    pub text_points: Option<Num>,
    #[serde(default)]
    pub implied_points: bool,
    #[serde(default)]
    pub vacuous: bool,
    #[serde(default)]
    pub zero_when: Vec<Condition>,
    pub rule: Rule,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Condition {
    pub input: String,
    pub is: Option<bool>,
    pub above: Option<Num>,
    pub below: Option<Num>,
    /// `late = true` on a `case_dates` input: holds when one case is late (issue #13).
    pub late: Option<bool>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Rule {
    Yes {
        input: String,
    },
    Bands {
        input: String,
        bands: Vec<Band>,
    },
    Deduct {
        input: Option<String>,
        #[serde(default)]
        inputs: Vec<String>,
        per: Num,
        #[serde(default)]
        key: Vec<String>,
    },
    Shortfall {
        input: String,
        target: Num,
        per: Num,
    },
    Excess {
        input: String,
        limit: Num,
        step: Num,
        per: Num,
    },
    LevelShortfall {
        input: String,
        level: String,
        requirement: BTreeMap<String, Num>,
        step_percent: Num,
        per: Num,
    },
    Range {
        checks: Vec<RangeCheck>,
    },
    /// Full points when the count reaches `target`, else none; `lower` lowers the target when
    /// another number is below a threshold (Jiangsu 5.(1): 3 staff, 2 under 50,000 people).
    AtLeast {
        input: String,
        target: Num,
        lower: Option<Lower>,
    },
    /// Full points when each of the `quarters` completed calendar quarters before the visit's
    /// quarter holds an entry of the dated list, else none (Jiangsu 8.(1) "每季度": 4).
    Quarters {
        input: String,
        quarters: u32,
    },
}

/// `at_least`'s lowered target: `target` when input `input` is below `below`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Lower {
    pub input: String,
    pub below: Num,
    pub target: Num,
}

pub const RULE_KINDS: &str = "yes, bands, deduct, shortfall, excess, level_shortfall, range, at_least, quarters";

impl Rule {
    pub fn kind(&self) -> &'static str {
        match self {
            Rule::Yes { .. } => "yes",
            Rule::Bands { .. } => "bands",
            Rule::Deduct { .. } => "deduct",
            Rule::Shortfall { .. } => "shortfall",
            Rule::Excess { .. } => "excess",
            Rule::LevelShortfall { .. } => "level_shortfall",
            Rule::Range { .. } => "range",
            Rule::AtLeast { .. } => "at_least",
            Rule::Quarters { .. } => "quarters",
        }
    }

    /// The inputs the rule reads, in the order it reads them.
    pub fn inputs(&self) -> Vec<&str> {
        match self {
            Rule::Yes { input }
            | Rule::Bands { input, .. }
            | Rule::Shortfall { input, .. }
            | Rule::Excess { input, .. }
            | Rule::Quarters { input, .. } => vec![input.as_str()],
            Rule::Deduct { input, inputs, .. } => input.iter().chain(inputs.iter()).map(String::as_str).collect(),
            Rule::LevelShortfall { input, level, .. } => vec![level.as_str(), input.as_str()],
            Rule::Range { checks } => checks.iter().map(|c| c.input.as_str()).collect(),
            Rule::AtLeast { input, lower, .. } => std::iter::once(input.as_str()).chain(lower.iter().map(|l| l.input.as_str())).collect(),
        }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Band {
    pub from: Num,
    /// The upper figure as the seed writes it; informs the validator only.
    pub to: Option<Num>,
    pub points: Num,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RangeCheck {
    pub input: String,
    pub min: Num,
    pub max: Num,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Interpretation {
    pub finding: String,
    pub text: String,
    #[serde(default)]
    pub note: bool,
}

/// A place where the seed itself is inconsistent or silent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub item: String,
    pub code: &'static str,
    pub message: String,
    /// The rubric's written answer, when it has one.
    pub interpretation: Option<String>,
}

pub const FINDING_CODES: [&str; 7] =
    ["text-points-mismatch", "band-overlap", "band-gap", "step-rounding", "implied-points", "vacuous-requirement", "note"];

/// The largest rubric file read (4 MiB; both seed rubrics are under 60 KB).
pub const MAX_FILE_BYTES: usize = 4 << 20;

/// The refusal for a file over [`MAX_FILE_BYTES`].
pub fn too_big(bytes: usize) -> String {
    format!("is {bytes} bytes, more than the 4 MiB a rubric file may hold (is it the right file?)")
}

/// Why a rubric file was refused. Every message names the file and the place, and the fix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", .problems.join("\n"))]
pub struct RubricError {
    pub problems: Vec<String>,
}

/// The outcome of checking a rubric that parsed: its findings.
#[derive(Debug, Clone)]
pub struct Checked {
    pub rubric: Rubric,
    pub findings: Vec<Finding>,
}

impl Checked {
    pub fn unanswered(&self) -> impl Iterator<Item = &Finding> {
        self.findings.iter().filter(|f| f.interpretation.is_none())
    }
}

impl Rubric {
    /// Parses and validates a rubric. `name` is the file name used in messages.
    ///
    /// Refuses anything that could make a score wrong; unanswered findings are *not* refused
    /// here (see [`Rubric::check`]) so that a rubric under construction can still be shown.
    pub fn from_toml(name: &str, text: &str) -> Result<Checked, RubricError> {
        if text.len() > MAX_FILE_BYTES {
            return Err(RubricError { problems: vec![format!("{name}: {}", too_big(text.len()))] });
        }
        let mut rubric: Rubric = toml::from_str(text).map_err(|e| RubricError { problems: vec![toml_problem(name, text, &e)] })?;
        rubric.content_hash = crate::hex::sha256_hex(text.as_bytes());
        let problems = validate(name, &rubric);
        if !problems.is_empty() {
            return Err(RubricError { problems });
        }
        let findings = findings(&rubric);
        Ok(Checked { rubric, findings })
    }

    /// Parses, validates, and refuses a rubric whose findings are not all answered.
    /// This is what scoring uses: a rubric that scores must say how it reads its seed.
    pub fn load(name: &str, text: &str) -> Result<Rubric, RubricError> {
        let checked = Rubric::from_toml(name, text)?;
        let problems: Vec<String> = checked.unanswered().map(|f| unanswered_message(name, f)).collect();
        if problems.is_empty() {
            Ok(checked.rubric)
        } else {
            Err(RubricError { problems })
        }
    }

    pub fn input(&self, id: &str) -> Option<(&Item, &Input)> {
        self.item.iter().find_map(|item| item.input.iter().find(|i| i.id == id).map(|i| (item, i)))
    }

    pub fn inputs(&self) -> impl Iterator<Item = (&Item, &Input)> {
        self.item.iter().flat_map(|item| item.input.iter().map(move |i| (item, i)))
    }

    pub fn group(&self, id: &str) -> Option<&Group> {
        self.group.iter().find(|g| g.id == id)
    }

    /// Groups in tree order (depth first, file order among siblings), with their depth.
    pub fn groups_in_order(&self) -> Vec<(usize, &Group)> {
        let mut out = Vec::new();
        fn walk<'a>(r: &'a Rubric, parent: Option<&str>, depth: usize, out: &mut Vec<(usize, &'a Group)>) {
            for g in r.group.iter().filter(|g| g.parent.as_deref() == parent) {
                out.push((depth, g));
                walk(r, Some(&g.id), depth + 1, out);
            }
        }
        walk(self, None, 0, &mut out);
        out
    }

    /// The chain of group ids from the top down to (and including) `group`.
    pub fn ancestry(&self, group: &str) -> Vec<&str> {
        let mut chain = Vec::new();
        let mut cur = self.group(group);
        while let Some(g) = cur {
            chain.push(g.id.as_str());
            cur = g.parent.as_deref().and_then(|p| self.group(p));
        }
        chain.reverse();
        chain
    }
}

pub fn unanswered_message(name: &str, f: &Finding) -> String {
    format!(
        "{name}: item '{}': {} [{}] (answer it with [[item.interpretation]] finding = \"{}\" and a text saying how hallmark reads it)",
        f.item, f.message, f.code, f.code
    )
}

/// Turns a TOML/serde error into one line naming the file, line and the enclosing table.
fn toml_problem(name: &str, text: &str, e: &toml::de::Error) -> String {
    let Some(span) = e.span() else {
        return format!("{name}: {}", lower_first(e.message()));
    };
    let line_no = text[..span.start.min(text.len())].matches('\n').count() + 1;
    // Find the enclosing [[item]] / [[group]] and its id for a readable place.
    let before = &text[..span.start.min(text.len())];
    let mut place = String::new();
    for header in ["[[item]]", "[[group]]", "[[veto]]"] {
        if let Some(pos) = before.rfind(header) {
            let later = ["[[item]]", "[[group]]", "[[veto]]"].iter().filter_map(|h| before.rfind(h)).max().unwrap_or(0);
            if pos == later {
                let what = header.trim_matches(|c| c == '[' || c == ']');
                let id = before[pos..]
                    .lines()
                    .find_map(|l| l.trim().strip_prefix("id").map(str::trim).and_then(|r| r.strip_prefix('=')))
                    .map(|v| v.trim().trim_matches('"').to_string());
                place = match id {
                    Some(id) => format!(" {what} '{id}':"),
                    None => format!(" {what}:"),
                };
            }
        }
    }
    let msg = lower_first(e.message()).replace('`', "'").replace('\n', "; ").replace("unknown variant", "unknown rule kind");
    let hint = if msg.starts_with("unknown rule kind") {
        format!(" (rule kinds are: {RULE_KINDS}; see docs/rubric-format.md)")
    } else if msg.starts_with("unknown field") {
        " (check the spelling against docs/rubric-format.md)".to_string()
    } else if msg.starts_with("missing field") {
        " (add it; see docs/rubric-format.md)".to_string()
    } else {
        String::new()
    };
    format!("{name}:{line_no}:{place} {msg}{hint}")
}

fn lower_first(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_lowercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}
