//! Rubrics: the data model of `docs/rubric-format.md`, its parser and its validator.
//!
//! A [`Rubric`] is only ever built through [`Rubric::from_toml`], which rejects a file that
//! could score wrongly (unknown rule, duplicate id, wrong sums, dangling input) and reports
//! the seed's own inconsistencies as [`Finding`]s that the file must answer with an
//! interpretation.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::num::{fmt, Num};

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
}

pub const RULE_KINDS: &str = "yes, bands, deduct, shortfall, excess, level_shortfall, range";

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
        }
    }

    /// The inputs the rule reads, in the order it reads them.
    pub fn inputs(&self) -> Vec<&str> {
        match self {
            Rule::Yes { input }
            | Rule::Bands { input, .. }
            | Rule::Shortfall { input, .. }
            | Rule::Excess { input, .. } => vec![input.as_str()],
            Rule::Deduct { input, inputs, .. } => {
                input.iter().chain(inputs.iter()).map(String::as_str).collect()
            }
            Rule::LevelShortfall { input, level, .. } => vec![level.as_str(), input.as_str()],
            Rule::Range { checks } => checks.iter().map(|c| c.input.as_str()).collect(),
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

pub const FINDING_CODES: [&str; 7] = [
    "text-points-mismatch",
    "band-overlap",
    "band-gap",
    "step-rounding",
    "implied-points",
    "vacuous-requirement",
    "note",
];

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
        let mut rubric: Rubric = toml::from_str(text).map_err(|e| RubricError {
            problems: vec![toml_problem(name, text, &e)],
        })?;
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
        let problems: Vec<String> = checked
            .unanswered()
            .map(|f| unanswered_message(name, f))
            .collect();
        if problems.is_empty() {
            Ok(checked.rubric)
        } else {
            Err(RubricError { problems })
        }
    }

    pub fn input(&self, id: &str) -> Option<(&Item, &Input)> {
        self.item
            .iter()
            .find_map(|item| item.input.iter().find(|i| i.id == id).map(|i| (item, i)))
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
            let later = ["[[item]]", "[[group]]", "[[veto]]"]
                .iter()
                .filter_map(|h| before.rfind(h))
                .max()
                .unwrap_or(0);
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

fn validate(name: &str, r: &Rubric) -> Vec<String> {
    let mut p = Vec::new();
    let mut say = |s: String| p.push(format!("{name}: {s}"));

    if r.format != FORMAT {
        say(format!("format '{}' is not supported (write format = \"{FORMAT}\")", r.format));
    }
    if r.id.is_empty() || !r.id.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-') {
        say(format!("rubric id '{}' must be lowercase letters, digits and '-' (e.g. \"jiangsu-15min\")", r.id));
    }
    if r.version.trim().is_empty() {
        say("version is empty (write version = \"1\")".into());
    }
    if r.result.pass_at.is_some() && (r.result.pass_text.is_none() || r.result.fail_text.is_none()) {
        say("[result] has pass_at but no pass_text/fail_text (write both conclusions)".into());
    }
    if r.result.min_assessors == 0 {
        say("[result] min_assessors is 0 (write at least 1)".into());
    }

    // Unique ids across everything that observations and reports refer to.
    let ids: Vec<(&str, &'static str)> = r
        .group
        .iter()
        .map(|g| (g.id.as_str(), "group"))
        .chain(r.item.iter().map(|i| (i.id.as_str(), "item")))
        .chain(r.inputs().map(|(_, i)| (i.id.as_str(), "input")))
        .chain(r.veto.iter().map(|v| (v.id.as_str(), "veto")))
        .collect();
    let mut seen: BTreeSet<&str> = BTreeSet::new();
    for (id, what) in ids {
        if id.trim().is_empty() {
            say(format!("a {what} has an empty id (give it a unique id)"));
        } else if !seen.insert(id) {
            say(format!("duplicate id '{id}' ({what}; ids must be unique across groups, items, inputs and vetoes)"));
        }
    }

    // Points are positive; parents and sums.
    let zero = Decimal::ZERO;
    for g in &r.group {
        if g.points.0 <= zero {
            say(format!("group '{}': points {} must be above 0", g.id, g.points));
        }
        if let Some(parent) = &g.parent {
            if r.group(parent).is_none() {
                say(format!("group '{}': parent '{parent}' does not exist (declare [[group]] id = \"{parent}\" or fix the name)", g.id));
            }
        }
    }
    // Cycles in groups.
    for g in &r.group {
        let mut cur = g.parent.as_deref();
        let mut steps = 0;
        while let Some(pid) = cur {
            steps += 1;
            if pid == g.id || steps > r.group.len() {
                say(format!("group '{}': its parents form a cycle (a group cannot contain itself)", g.id));
                break;
            }
            cur = r.group(pid).and_then(|x| x.parent.as_deref());
        }
    }
    let top: Decimal = r.group.iter().filter(|g| g.parent.is_none()).map(|g| g.points.0).sum();
    if !r.group.is_empty() && top != r.points.0 {
        say(format!(
            "top-level groups sum to {} but the rubric says points = {} (fix the groups' points or the total)",
            fmt(top),
            r.points
        ));
    }
    for g in &r.group {
        let child_groups: Vec<_> = r.group.iter().filter(|c| c.parent.as_deref() == Some(&g.id)).collect();
        let items: Vec<_> = r.item.iter().filter(|i| i.group == g.id).collect();
        if !child_groups.is_empty() && !items.is_empty() {
            say(format!("group '{}' holds both groups and items (put its items in a child group)", g.id));
        }
        if child_groups.is_empty() && items.is_empty() {
            say(format!("group '{}' is empty (add items or remove it)", g.id));
            continue;
        }
        let sum: Decimal = child_groups.iter().map(|c| c.points.0).sum::<Decimal>() + items.iter().map(|i| i.points.0).sum::<Decimal>();
        if sum != g.points.0 {
            say(format!(
                "group '{}': children sum to {} but the group says {} (fix the points of '{}' or of its children)",
                g.id,
                fmt(sum),
                g.points,
                g.id
            ));
        }
    }

    let all_inputs: HashMap<&str, &Input> = r.inputs().map(|(_, i)| (i.id.as_str(), i)).collect();
    for item in &r.item {
        let at = format!("item '{}'", item.id);
        if r.group(&item.group).is_none() {
            say(format!("{at}: group '{}' does not exist (declare it or fix the name)", item.group));
        }
        if item.points.0 <= zero {
            say(format!("{at}: points {} must be above 0", item.points));
        }
        if item.part.is_empty() {
            say(format!("{at}: has no [[item.part]] (every item needs a rule that turns inputs into points)"));
        }
        let parts_sum: Decimal = item.part.iter().map(|p| p.points.0).sum();
        if !item.part.is_empty() && parts_sum != item.points.0 {
            say(format!(
                "{at}: parts sum to {} but the item says {} (fix the parts' points or the item's)",
                fmt(parts_sum),
                item.points
            ));
        }
        for input in &item.input {
            validate_input(&at, input, &mut say);
        }
        if let Some(log) = &item.service_log {
            let own = |id: &str| item.input.iter().find(|i| i.id == id).map(|i| i.kind);
            for id in [&log.real, &log.simulated].into_iter().chain(log.categories.iter()) {
                match own(id) {
                    Some(InputKind::Count | InputKind::Tally) => {}
                    Some(k) => say(format!("{at}: service_log names '{id}' of kind {} (it feeds count or tally inputs only)", k.name())),
                    None => say(format!("{at}: service_log names '{id}', which is not an input of this item")),
                }
            }
            if log.categories.is_empty() {
                say(format!("{at}: service_log has no categories (list the tally inputs an entry feeds)"));
            }
        }
        for (n, part) in item.part.iter().enumerate() {
            let at = format!("{at} part {} ('{}')", n + 1, part.label);
            if part.points.0 <= zero {
                say(format!("{at}: points {} must be above 0", part.points));
            }
            let mut uses: Vec<&str> = part.rule.inputs();
            uses.extend(part.zero_when.iter().map(|c| c.input.as_str()));
            if uses.is_empty() {
                say(format!("{at}: rule '{}' reads no input (name the input it scores)", part.rule.kind()));
            }
            for u in &uses {
                if !all_inputs.contains_key(u) {
                    say(format!("{at}: input '{u}' is not declared (add [[item.input]] id = \"{u}\" or fix the name)"));
                }
            }
            for c in &part.zero_when {
                let n_set = c.is.is_some() as u8 + c.above.is_some() as u8 + c.below.is_some() as u8;
                if n_set != 1 {
                    say(format!("{at}: zero_when on '{}' needs exactly one of is / above / below", c.input));
                }
            }
            validate_rule(&at, part, &all_inputs, &mut say);
        }
        for interp in &item.interpretation {
            if !FINDING_CODES.contains(&interp.finding.as_str()) {
                say(format!(
                    "{at}: interpretation finding '{}' is unknown (one of: {})",
                    interp.finding,
                    FINDING_CODES.join(", ")
                ));
            }
            if interp.text.trim().is_empty() {
                say(format!("{at}: interpretation '{}' has no text (write how the item is read)", interp.finding));
            }
        }
    }
    p
}

fn validate_input(at: &str, input: &Input, say: &mut dyn FnMut(String)) {
    let at = format!("{at} input '{}'", input.id);
    if let Some(from) = &input.default_from {
        if from != "site.level" {
            say(format!("{at}: default_from '{from}' is unknown (only \"site.level\")"));
        }
    }
    match input.kind {
        InputKind::Measurement => {
            if input.unit.as_deref().is_none_or(str::is_empty) {
                say(format!("{at}: a measurement needs a unit (e.g. unit = \"m²\")"));
            }
            match (input.min, input.max) {
                (Some(lo), Some(hi)) if lo.0 < hi.0 => {}
                (Some(_), Some(_)) => say(format!("{at}: min must be below max")),
                _ => say(format!("{at}: a measurement needs a valid range min and max (a reading outside it is refused)")),
            }
        }
        InputKind::Elements | InputKind::WindowEquipment => {
            if input.elements.is_empty() {
                say(format!("{at}: lists no elements (write elements = [\"…\"])"));
            }
            let set: BTreeSet<_> = input.elements.iter().collect();
            if set.len() != input.elements.len() {
                say(format!("{at}: an element is listed twice"));
            }
        }
        // Not collapsed into guards: a choice with options must stop here, not fall through to
        // the default_from arm below.
        #[allow(clippy::collapsible_match)]
        InputKind::Choice => {
            if input.options.is_empty() {
                say(format!("{at}: a choice needs options = [{{ id = \"…\", label = \"…\" }}]"));
            }
        }
        _ if input.default_from.is_some() => {
            say(format!("{at}: default_from is only for choice inputs"));
        }
        #[allow(clippy::collapsible_match)]
        InputKind::TimeSample => {
            if input.units.is_empty() {
                say(format!("{at}: a time_sample needs units = [\"工作日\", \"小时\"]"));
            }
        }
        _ => {}
    }
}

fn validate_rule(at: &str, part: &Part, inputs: &HashMap<&str, &Input>, say: &mut dyn FnMut(String)) {
    use InputKind::*;
    let kind_of = |id: &str| inputs.get(id).map(|i| i.kind);
    let expect = |id: &str, allowed: &[InputKind], say: &mut dyn FnMut(String)| {
        if let Some(k) = kind_of(id) {
            if !allowed.contains(&k) {
                let names: Vec<_> = allowed.iter().map(|k| k.name()).collect();
                say(format!(
                    "{at}: rule '{}' cannot read input '{id}' of kind {} (it reads {})",
                    part.rule.kind(),
                    k.name(),
                    names.join(" / ")
                ));
            }
        }
    };
    let positive = |what: &str, v: Num, say: &mut dyn FnMut(String)| {
        if v.0 <= Decimal::ZERO {
            say(format!("{at}: {what} {v} must be above 0"));
        }
    };
    match &part.rule {
        Rule::Yes { input } => expect(input, &[YesNo], say),
        Rule::Bands { input, bands } => {
            expect(input, &[Measurement, Count, Tally, Ratio, Elements], say);
            if bands.is_empty() {
                say(format!("{at}: bands is empty"));
            }
            for w in bands.windows(2) {
                if w[0].from.0 <= w[1].from.0 {
                    say(format!("{at}: bands must be listed from the highest 'from' down ({} then {})", w[0].from, w[1].from));
                }
                if w[0].points.0 < w[1].points.0 {
                    say(format!("{at}: a higher band scores less than a lower one ({} < {})", w[0].points, w[1].points));
                }
            }
            for b in bands {
                if b.points.0 < Decimal::ZERO || b.points.0 > part.points.0 {
                    say(format!("{at}: band from {} gives {} points, outside 0–{}", b.from, b.points, part.points));
                }
                if let Some(to) = b.to {
                    if to.0 < b.from.0 {
                        say(format!("{at}: band from {} has to = {} below its from", b.from, to));
                    }
                }
            }
            if let Some(first) = bands.first() {
                if first.points.0 != part.points.0 {
                    say(format!("{at}: the top band gives {} but the part is worth {} (the best band must earn full points)", first.points, part.points));
                }
            }
        }
        Rule::Deduct { input, inputs: many, per, key } => {
            positive("per", *per, say);
            let all: Vec<&String> = input.iter().chain(many.iter()).collect();
            if all.is_empty() {
                say(format!("{at}: deduct needs input or inputs"));
            }
            for i in &all {
                expect(i, &[Count, Tally, Elements, WindowEquipment, TimeSample], say);
            }
            if !key.is_empty() {
                match all.as_slice() {
                    [one] if kind_of(one) == Some(Elements) => {
                        let listed = &inputs[one.as_str()].elements;
                        for k in key {
                            if !listed.contains(k) {
                                say(format!("{at}: key element '{k}' is not among the elements of '{one}'"));
                            }
                        }
                    }
                    _ => say(format!("{at}: key elements need exactly one elements input")),
                }
            }
        }
        Rule::Shortfall { input, target, per } => {
            expect(input, &[Count, Tally], say);
            positive("target", *target, say);
            positive("per", *per, say);
        }
        Rule::Excess { input, limit: _, step, per } => {
            expect(input, &[Measurement, Count, Tally], say);
            positive("step", *step, say);
            positive("per", *per, say);
        }
        Rule::LevelShortfall { input, level, requirement, step_percent, per } => {
            expect(input, &[Measurement], say);
            expect(level, &[Choice], say);
            positive("step_percent", *step_percent, say);
            positive("per", *per, say);
            if let Some(choice) = inputs.get(level.as_str()) {
                for o in &choice.options {
                    if !requirement.contains_key(&o.id) {
                        say(format!("{at}: requirement has no value for level '{}' (add {} = \"…\")", o.id, o.id));
                    }
                }
                for k in requirement.keys() {
                    if !choice.options.iter().any(|o| &o.id == k) {
                        say(format!("{at}: requirement names level '{k}', which '{level}' does not offer"));
                    }
                }
            }
            for (k, v) in requirement {
                positive(&format!("requirement {k}"), *v, say);
            }
        }
        Rule::Range { checks } => {
            if checks.is_empty() {
                say(format!("{at}: range needs checks"));
            }
            for c in checks {
                expect(&c.input, &[Measurement], say);
                if c.min.0 > c.max.0 {
                    say(format!("{at}: range on '{}' has min {} above max {}", c.input, c.min, c.max));
                }
            }
        }
    }
}

/// The seed's own inconsistencies, each matched with the rubric's interpretation if it has one.
fn findings(r: &Rubric) -> Vec<Finding> {
    let mut out = Vec::new();
    let inputs: HashMap<&str, &Input> = r.inputs().map(|(_, i)| (i.id.as_str(), i)).collect();
    for item in &r.item {
        let mut found: Vec<(&'static str, String)> = Vec::new();
        for part in &item.part {
            let label = &part.label;
            if let Some(tp) = part.text_points {
                if tp.0 != part.points.0 {
                    found.push(("text-points-mismatch", format!("'{label}' is worth {} but the seed's text awards {tp}", part.points)));
                }
            }
            if part.implied_points {
                found.push(("implied-points", format!("'{label}' has no stated points; {} derived from the item total", part.points)));
            }
            if part.vacuous {
                found.push(("vacuous-requirement", format!("'{label}' could be met vacuously")));
            }
            match &part.rule {
                Rule::Bands { input, bands } => {
                    // Counts are whole numbers: bands 1–1 and 2– leave no gap.
                    let whole = matches!(
                        inputs.get(input.as_str()).map(|i| i.kind),
                        Some(InputKind::Count | InputKind::Tally | InputKind::Elements)
                    );
                    let next = |to: Decimal| if whole { to + Decimal::ONE } else { to };
                    // bands are listed high to low; compare each band with the one above it.
                    for w in bands.windows(2) {
                        let (upper, lower) = (&w[0], &w[1]);
                        let Some(to) = lower.to else { continue };
                        if whole && next(to.0) == upper.from.0 {
                            continue;
                        }
                        if to.0 >= upper.from.0 {
                            found.push(("band-overlap", format!(
                                "'{label}': bands {}–{} and {}{} share {}",
                                lower.from, to, upper.from, upper.to.map(|t| format!("–{t}")).unwrap_or_default(), upper.from
                            )));
                        } else {
                            found.push(("band-gap", format!(
                                "'{label}': no band covers values between {to} and {}",
                                upper.from
                            )));
                        }
                    }
                }
                Rule::Excess { .. } | Rule::LevelShortfall { .. } => {
                    found.push(("step-rounding", format!("'{label}' deducts per step; values between steps need a reading")));
                }
                Rule::Deduct { input, inputs: many, .. } => {
                    let sample = input.iter().chain(many.iter()).any(|i| inputs.get(i.as_str()).map(|x| x.kind) == Some(InputKind::TimeSample));
                    if sample {
                        found.push(("step-rounding", format!("'{label}' deducts per unit of overrun; fractions of a unit need a reading")));
                    }
                }
                _ => {}
            }
        }
        let mut dedup = BTreeSet::new();
        for (code, message) in found {
            let interp = item.interpretation.iter().find(|i| i.finding == code).map(|i| i.text.clone());
            if dedup.insert((code, message.clone())) {
                out.push(Finding { item: item.id.clone(), code, message, interpretation: interp });
            }
        }
        for i in item.interpretation.iter().filter(|i| !i.note && i.finding != "note") {
            if !out.iter().any(|f| f.item == item.id && f.code == i.finding) {
                out.push(Finding {
                    item: item.id.clone(),
                    code: "stale-interpretation",
                    message: format!("interpretation '{}' answers no finding of this item (remove it, or make it a note = true)", i.finding),
                    interpretation: None,
                });
            }
        }
        for i in item.interpretation.iter().filter(|i| i.note || i.finding == "note") {
            out.push(Finding {
                item: item.id.clone(),
                code: "note",
                message: "reading noted".into(),
                interpretation: Some(i.text.clone()),
            });
        }
    }
    out
}
