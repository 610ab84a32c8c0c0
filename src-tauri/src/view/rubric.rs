//! The rubric as the checklist draws it.

use super::*;

// ---------- the rubric, as the checklist draws it ----------

#[derive(Debug, Serialize)]
pub struct Rubric {
    pub format: String,
    pub id: String,
    pub version: String,
    pub title: String,
    pub source: String,
    pub points: String,
    pub levels: Vec<String>,
    pub result: ResultRule,
    pub veto: Vec<Veto>,
    pub group: Vec<Group>,
    pub item: Vec<Item>,
    pub content_hash: String,
}

impl From<&rub::Rubric> for Rubric {
    fn from(r: &rub::Rubric) -> Self {
        Rubric {
            format: r.format.clone(),
            id: r.id.clone(),
            version: r.version.clone(),
            title: r.title.clone(),
            source: r.source.clone(),
            points: r.points.to_string(),
            levels: r.levels.clone(),
            result: (&r.result).into(),
            veto: r.veto.iter().map(|v| Veto { id: v.id.clone(), text: v.text.clone() }).collect(),
            group: r.group.iter().map(Group::from).collect(),
            item: r.item.iter().map(Item::from).collect(),
            content_hash: r.content_hash.clone(),
        }
    }
}

#[derive(Debug, Serialize)]
pub struct ResultRule {
    pub min_assessors: u32,
    pub odd_assessors: bool,
    pub pass_at: Option<String>,
    pub pass_text: Option<String>,
    pub fail_text: Option<String>,
    pub insufficient_text: Option<String>,
    pub veto_text: String,
    pub valid_months: Option<u32>,
    /// Issue #13: the most working days a panel's visits should spread over.
    pub max_working_days: Option<u32>,
    pub report_title: Option<String>,
    pub process: Option<String>,
}

impl From<&rub::ResultRule> for ResultRule {
    fn from(r: &rub::ResultRule) -> Self {
        ResultRule {
            min_assessors: r.min_assessors,
            odd_assessors: r.odd_assessors,
            pass_at: texts(&r.pass_at),
            pass_text: r.pass_text.clone(),
            fail_text: r.fail_text.clone(),
            insufficient_text: r.insufficient_text.clone(),
            veto_text: r.veto_text.clone(),
            valid_months: r.valid_months,
            max_working_days: r.max_working_days,
            report_title: r.report_title.clone(),
            process: r.process.clone(),
        }
    }
}

#[derive(Debug, Serialize)]
pub struct Veto {
    pub id: String,
    pub text: String,
}

#[derive(Debug, Serialize)]
pub struct Group {
    pub id: String,
    pub parent: Option<String>,
    pub number: Option<String>,
    pub name: String,
    pub points: String,
}

impl From<&rub::Group> for Group {
    fn from(g: &rub::Group) -> Self {
        Group { id: g.id.clone(), parent: g.parent.clone(), number: g.number.clone(), name: g.name.clone(), points: g.points.to_string() }
    }
}

#[derive(Debug, Serialize)]
pub struct Item {
    pub id: String,
    pub group: String,
    pub number: Option<String>,
    pub name: String,
    pub text: String,
    pub criteria: String,
    pub method: Vec<String>,
    pub points: String,
    pub input: Vec<Input>,
    pub part: Vec<Part>,
    pub interpretation: Vec<Interpretation>,
    pub service_log: Option<ServiceLog>,
}

impl From<&rub::Item> for Item {
    fn from(i: &rub::Item) -> Self {
        Item {
            id: i.id.clone(),
            group: i.group.clone(),
            number: i.number.clone(),
            name: i.name.clone(),
            text: i.text.clone(),
            criteria: i.criteria.clone(),
            method: i.method.clone(),
            points: i.points.to_string(),
            input: i.input.iter().map(Input::from).collect(),
            part: i.part.iter().map(Part::from).collect(),
            interpretation: i
                .interpretation
                .iter()
                .map(|n| Interpretation { finding: n.finding.clone(), text: n.text.clone(), note: n.note })
                .collect(),
            service_log: i.service_log.as_ref().map(|l| ServiceLog {
                real: l.real.clone(),
                simulated: l.simulated.clone(),
                categories: l.categories.clone(),
            }),
        }
    }
}

#[derive(Debug, Serialize)]
pub struct ServiceLog {
    pub real: String,
    pub simulated: String,
    pub categories: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct Input {
    pub id: String,
    /// yes_no | count | tally | elements | window_equipment | measurement | ratio | choice |
    /// time_sample | dated_list | case_dates (the last two: issue #13)
    pub kind: &'static str,
    pub label: String,
    pub help: Option<String>,
    pub required: bool,
    pub expect_at_least: Option<u64>,
    /// A time sample's required filled rows (issue #14); `None` before rubrics had it.
    pub sample_size: Option<u64>,
    pub unit: Option<String>,
    pub min: Option<String>,
    pub max: Option<String>,
    pub elements: Vec<String>,
    pub options: Vec<ChoiceOption>,
    pub units: Vec<String>,
    pub default_from: Option<String>,
    /// Issue #13: a dated list's window in months before the visit.
    pub within_months: Option<u32>,
    /// Issue #13: the working days a case may take.
    pub limit_working_days: Option<u32>,
}

impl From<&rub::Input> for Input {
    fn from(i: &rub::Input) -> Self {
        Input {
            id: i.id.clone(),
            kind: i.kind.name(),
            label: i.label.clone(),
            help: i.help.clone(),
            required: i.required,
            expect_at_least: i.expect_at_least,
            sample_size: i.sample_size,
            unit: i.unit.clone(),
            min: texts(&i.min),
            max: texts(&i.max),
            elements: i.elements.clone(),
            options: i.options.iter().map(|o| ChoiceOption { id: o.id.clone(), label: o.label.clone() }).collect(),
            units: i.units.clone(),
            default_from: i.default_from.clone(),
            within_months: i.within_months,
            limit_working_days: i.limit_working_days,
        }
    }
}

#[derive(Debug, Serialize)]
pub struct ChoiceOption {
    pub id: String,
    pub label: String,
}

#[derive(Debug, Serialize)]
pub struct Part {
    pub label: String,
    pub points: String,
    pub text_points: Option<String>,
    pub implied_points: bool,
    pub vacuous: bool,
    pub zero_when: Vec<Condition>,
    pub rule: Rule,
}

impl From<&rub::Part> for Part {
    fn from(p: &rub::Part) -> Self {
        Part {
            label: p.label.clone(),
            points: p.points.to_string(),
            text_points: texts(&p.text_points),
            implied_points: p.implied_points,
            vacuous: p.vacuous,
            zero_when: p
                .zero_when
                .iter()
                .map(|c| Condition { input: c.input.clone(), is: c.is, above: texts(&c.above), below: texts(&c.below), late: c.late })
                .collect(),
            rule: (&p.rule).into(),
        }
    }
}

#[derive(Debug, Serialize)]
pub struct Condition {
    pub input: String,
    pub is: Option<bool>,
    pub above: Option<String>,
    pub below: Option<String>,
    /// Issue #13: holds when a case of a case_dates input is late.
    pub late: Option<bool>,
}

#[derive(Debug, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
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
        inputs: Vec<String>,
        per: String,
        key: Vec<String>,
    },
    Shortfall {
        input: String,
        target: String,
        per: String,
    },
    Excess {
        input: String,
        limit: String,
        step: String,
        per: String,
    },
    LevelShortfall {
        input: String,
        level: String,
        requirement: BTreeMap<String, String>,
        step_percent: String,
        per: String,
    },
    Range {
        checks: Vec<RangeCheck>,
    },
    /// Issue #13.
    AtLeast {
        input: String,
        target: String,
        lower: Option<Lower>,
    },
    /// Issue #13.
    Quarters {
        input: String,
        quarters: u32,
    },
}

#[derive(Debug, Serialize)]
pub struct Lower {
    pub input: String,
    pub below: String,
    pub target: String,
}

impl From<&rub::Rule> for Rule {
    fn from(r: &rub::Rule) -> Self {
        match r {
            rub::Rule::Yes { input } => Rule::Yes { input: input.clone() },
            rub::Rule::Bands { input, bands } => Rule::Bands {
                input: input.clone(),
                bands: bands.iter().map(|b| Band { from: b.from.to_string(), to: texts(&b.to), points: b.points.to_string() }).collect(),
            },
            rub::Rule::Deduct { input, inputs, per, key } => {
                Rule::Deduct { input: input.clone(), inputs: inputs.clone(), per: per.to_string(), key: key.clone() }
            }
            rub::Rule::Shortfall { input, target, per } => Rule::Shortfall { input: input.clone(), target: target.to_string(), per: per.to_string() },
            rub::Rule::Excess { input, limit, step, per } => {
                Rule::Excess { input: input.clone(), limit: limit.to_string(), step: step.to_string(), per: per.to_string() }
            }
            rub::Rule::LevelShortfall { input, level, requirement, step_percent, per } => Rule::LevelShortfall {
                input: input.clone(),
                level: level.clone(),
                requirement: requirement.iter().map(|(k, n)| (k.clone(), n.to_string())).collect(),
                step_percent: step_percent.to_string(),
                per: per.to_string(),
            },
            rub::Rule::Range { checks } => Rule::Range {
                checks: checks.iter().map(|c| RangeCheck { input: c.input.clone(), min: c.min.to_string(), max: c.max.to_string() }).collect(),
            },
            rub::Rule::Quarters { input, quarters } => Rule::Quarters { input: input.clone(), quarters: *quarters },
            rub::Rule::AtLeast { input, target, lower } => Rule::AtLeast {
                input: input.clone(),
                target: target.to_string(),
                lower: lower.as_ref().map(|l| Lower { input: l.input.clone(), below: l.below.to_string(), target: l.target.to_string() }),
            },
        }
    }
}

#[derive(Debug, Serialize)]
pub struct Band {
    pub from: String,
    pub to: Option<String>,
    pub points: String,
}

#[derive(Debug, Serialize)]
pub struct RangeCheck {
    pub input: String,
    pub min: String,
    pub max: String,
}

#[derive(Debug, Serialize)]
pub struct Interpretation {
    pub finding: String,
    pub text: String,
    pub note: bool,
}
