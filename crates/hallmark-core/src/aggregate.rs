//! Aggregation across assessors: one site, one rubric, several score sheets.
//!
//! The final result follows the rubric's `[result]` rule: the arithmetic mean of the
//! assessors' totals, rounded half away from zero to 2 decimals (the figure a report prints),
//! compared with `pass_at` when the rubric has one. Fewer than `min_assessors` assessors, or an
//! incomplete sheet, gives no conclusion, and says so.

use rust_decimal::prelude::*;
use rust_decimal::Decimal;
use serde::Serialize;

use crate::rubric::Rubric;
use crate::score::ScoreSheet;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Panel {
    pub rubric: String,
    pub rubric_version: String,
    pub site: Option<String>,
    pub assessors: Vec<String>,
    /// Each assessor's total, in the order of `assessors`.
    #[serde(serialize_with = "decimals")]
    pub totals: Vec<Decimal>,
    pub items: Vec<Spread>,
    pub groups: Vec<Spread>,
    pub total: Spread,
    /// The final score: the mean total as the report prints it (2 decimals). `None` without
    /// sheets, and `None` when fewer assessors scored than the rubric's `min_assessors` (issue
    /// #13: a panel too small to conclude has no final score; [`Panel::mean`] is then shown as
    /// a provisional mean, labelled so).
    #[serde(with = "rust_decimal::serde::str_option")]
    pub final_score: Option<Decimal>,
    /// The mean total (2 decimals) whatever the panel's size; `None` without sheets.
    #[serde(with = "rust_decimal::serde::str_option")]
    pub mean: Option<Decimal>,
    pub conclusion: Conclusion,
    pub warnings: Vec<String>,
}

/// Per-item (or group, or total) statistics across assessors.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Spread {
    pub id: String,
    pub name: String,
    #[serde(with = "rust_decimal::serde::str")]
    pub max_points: Decimal,
    /// One per assessor; `None` where that assessor left it unanswered.
    #[serde(serialize_with = "option_decimals")]
    pub scores: Vec<Option<Decimal>>,
    #[serde(with = "rust_decimal::serde::str_option")]
    pub mean: Option<Decimal>,
    #[serde(with = "rust_decimal::serde::str_option")]
    pub min: Option<Decimal>,
    #[serde(with = "rust_decimal::serde::str_option")]
    pub max: Option<Decimal>,
    /// Population standard deviation, 2 decimals.
    #[serde(with = "rust_decimal::serde::str_option")]
    pub stddev: Option<Decimal>,
    /// One per assessor: true where the score is an outlier ([`is_outlier`]).
    pub outliers: Vec<bool>,
}

/// An assessor's score is flagged as an outlier when at least three assessors scored the item
/// and it differs from the mean of the *others* by more than a quarter of the item's points.
/// Leaving the assessor out of the mean keeps one wild score from hiding itself; a quarter of
/// the points is a difference no reading of one rubric rule explains (a whole band, or two
/// deductions on a 4-point item). A flag asks the lead to look; it changes no score.
pub fn is_outlier(score: Decimal, others: &[Decimal], max_points: Decimal) -> bool {
    if others.len() < 2 {
        return false;
    }
    let mean_others = others.iter().sum::<Decimal>() / Decimal::from(others.len());
    (score - mean_others).abs() * Decimal::from(4) > max_points
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Conclusion {
    Pass {
        text: String,
    },
    Fail {
        text: String,
    },
    /// A veto case was recorded by at least one assessor.
    Vetoed {
        text: String,
        cases: Vec<String>,
        by: Vec<String>,
    },
    /// Fewer assessors than the rubric requires.
    Insufficient {
        text: String,
    },
    /// Some sheet is incomplete: no conclusion until it is.
    Incomplete {
        text: String,
        assessors: Vec<String>,
    },
    /// The rubric names no pass line: the mean is the result.
    NoPassLine {
        text: String,
    },
}

impl Conclusion {
    pub fn text(&self) -> &str {
        match self {
            Conclusion::Pass { text }
            | Conclusion::Fail { text }
            | Conclusion::Vetoed { text, .. }
            | Conclusion::Insufficient { text }
            | Conclusion::Incomplete { text, .. }
            | Conclusion::NoPassLine { text } => text,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AggregateError {
    #[error(
        "sheet of '{assessor}' is for rubric '{found}' but the panel is scored with '{expected}' (aggregate sheets of one rubric and version only)"
    )]
    MixedRubrics { assessor: String, found: String, expected: String },
    #[error("sheet of '{assessor}' is for site '{found}' but the panel is for '{expected}' (aggregate one site at a time)")]
    MixedSites { assessor: String, found: String, expected: String },
    #[error("assessor '{0}' appears twice (each assessor's sheet counts once; merge their files first)")]
    DuplicateAssessor(String),
    #[error("no score sheets to aggregate (give one observation file per assessor)")]
    Empty,
}

/// Aggregates the sheets of several assessors for one site. Pure.
pub fn aggregate(rubric: &Rubric, sheets: &[ScoreSheet]) -> Result<Panel, AggregateError> {
    let first = sheets.first().ok_or(AggregateError::Empty)?;
    let names: Vec<String> = sheets.iter().enumerate().map(|(n, s)| s.assessor.clone().unwrap_or_else(|| format!("评价人员{}", n + 1))).collect();
    for (s, name) in sheets.iter().zip(&names) {
        if s.rubric != rubric.id || s.rubric_version != rubric.version {
            return Err(AggregateError::MixedRubrics {
                assessor: name.clone(),
                found: format!("{} v{}", s.rubric, s.rubric_version),
                expected: format!("{} v{}", rubric.id, rubric.version),
            });
        }
        if let (Some(a), Some(b)) = (&s.site, &first.site) {
            if a != b {
                return Err(AggregateError::MixedSites { assessor: name.clone(), found: a.clone(), expected: b.clone() });
            }
        }
    }
    for (i, n) in names.iter().enumerate() {
        if names[..i].contains(n) {
            return Err(AggregateError::DuplicateAssessor(n.clone()));
        }
    }

    let items = rubric
        .item
        .iter()
        .enumerate()
        .map(|(k, item)| spread(&item.id, &item.name, item.points.0, sheets.iter().map(|s| s.items[k].points).collect()))
        .collect();
    let groups = rubric
        .groups_in_order()
        .into_iter()
        .map(|(_, g)| {
            let scores = sheets.iter().map(|s| s.groups.iter().find(|x| x.id == g.id).map(|x| x.points)).collect();
            spread(&g.id, &g.name, g.points.0, scores)
        })
        .collect();
    let totals: Vec<Decimal> = sheets.iter().map(|s| s.total).collect();
    let total = spread("total", "总分", rubric.points.0, totals.iter().copied().map(Some).collect());
    // Rounded once, from the exact mean: rounding a rounded mean again could cross the pass line.
    let exact_mean = totals.iter().sum::<Decimal>() / Decimal::from(totals.len());
    let mean = exact_mean.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero).normalize();

    let mut warnings = Vec::new();
    let n = sheets.len() as u32;
    if rubric.result.odd_assessors && n >= rubric.result.min_assessors && n.is_multiple_of(2) {
        warnings.push(format!("评价专家组应由5名及以上单数人员组成，现有{n}名"));
    }
    let result = &rubric.result;
    let vetoing: Vec<String> = sheets.iter().zip(&names).filter(|(s, _)| s.veto.vetoed).map(|(_, n)| n.clone()).collect();
    let incomplete: Vec<String> = sheets.iter().zip(&names).filter(|(s, _)| !s.complete).map(|(_, n)| n.clone()).collect();
    let conclusion = if !vetoing.is_empty() {
        let mut cases: Vec<String> = sheets.iter().flat_map(|s| s.veto.triggered.clone()).collect();
        cases.sort();
        cases.dedup();
        Conclusion::Vetoed { text: result.veto_text.clone(), cases, by: vetoing }
    } else if n < result.min_assessors {
        Conclusion::Insufficient {
            text: result.insufficient_text.clone().unwrap_or_else(|| format!("评价人员不足{}名，不能形成评价结论", result.min_assessors)),
        }
    } else if !incomplete.is_empty() {
        Conclusion::Incomplete { text: format!("{}的评分不完整，不能形成评价结论", incomplete.join("、")), assessors: incomplete }
    } else {
        let score = mean;
        match (&result.pass_at, &result.pass_text, &result.fail_text) {
            (Some(line), Some(pass), Some(fail)) => {
                if score >= line.0 {
                    Conclusion::Pass { text: pass.clone() }
                } else {
                    Conclusion::Fail { text: fail.clone() }
                }
            }
            _ => Conclusion::NoPassLine { text: format!("平均得分{}分（本评分细则未规定合格分数线）", crate::num::fmt(score)) },
        }
    };

    Ok(Panel {
        rubric: rubric.id.clone(),
        rubric_version: rubric.version.clone(),
        site: first.site.clone(),
        assessors: names,
        totals,
        items,
        groups,
        total,
        final_score: (n >= result.min_assessors).then_some(mean),
        mean: Some(mean),
        conclusion,
        warnings,
    })
}

/// Adds the panel-validity warning that needs the visit days (issue #13): visits spread over
/// more working days than the rubric's `max_working_days` ("工作时间不宜超过3个工作日"). Days
/// that are not calendar days are left out (the sheet says so already).
pub fn warn_visit_spread(panel: &mut Panel, rubric: &Rubric, visited_on: &[&str], calendar: &crate::calendar::WorkCalendar) {
    let Some(max) = rubric.result.max_working_days else { return };
    let days: Vec<_> = visited_on.iter().filter_map(|d| crate::date::parse_date(d).ok()).collect();
    if let Some(w) = crate::calendar::spread_warning(calendar, &days, max) {
        panel.warnings.push(w);
    }
}

/// An item's spread over the assessors' scores: mean, min, max, σ and the outliers ([`is_outlier`]).
pub fn spread(id: &str, name: &str, max_points: Decimal, scores: Vec<Option<Decimal>>) -> Spread {
    let known: Vec<Decimal> = scores.iter().flatten().copied().collect();
    let (mean, min, max, stddev) = if known.is_empty() {
        (None, None, None, None)
    } else {
        let n = Decimal::from(known.len());
        let mean = known.iter().sum::<Decimal>() / n;
        let var = known.iter().map(|x| (x - mean) * (x - mean)).sum::<Decimal>() / n;
        let sd = var.sqrt().unwrap_or_default().round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero);
        (
            Some(mean.round_dp_with_strategy(4, RoundingStrategy::MidpointAwayFromZero).normalize()),
            known.iter().min().copied(),
            known.iter().max().copied(),
            Some(sd.normalize()),
        )
    };
    let outliers = scores
        .iter()
        .enumerate()
        .map(|(k, s)| {
            s.is_some_and(|s| {
                let others: Vec<Decimal> = scores.iter().enumerate().filter(|(j, _)| *j != k).filter_map(|(_, o)| *o).collect();
                is_outlier(s, &others, max_points)
            })
        })
        .collect();
    Spread { id: id.into(), name: name.into(), max_points, scores, mean, min, max, stddev, outliers }
}

fn decimals<S: serde::Serializer>(v: &[Decimal], s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(v.iter().map(|d| d.normalize().to_string()))
}

fn option_decimals<S: serde::Serializer>(v: &[Option<Decimal>], s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(v.iter().map(|d| d.map(|d| d.normalize().to_string())))
}

#[cfg(test)]
mod tests {
    use super::is_outlier;
    use rust_decimal::Decimal;

    fn d(v: &[i64]) -> Vec<Decimal> {
        v.iter().map(|&x| Decimal::from(x)).collect()
    }

    #[test]
    fn outlier_is_more_than_a_quarter_of_the_points_from_the_others() {
        // 8-point item: the others average 4; 6 is exactly a quarter away (not flagged), 7 is flagged.
        assert!(!is_outlier(Decimal::from(6), &d(&[4, 4, 4, 4]), Decimal::from(8)));
        assert!(is_outlier(Decimal::from(7), &d(&[4, 4, 4, 4]), Decimal::from(8)));
        assert!(is_outlier(Decimal::from(1), &d(&[4, 4, 4, 4]), Decimal::from(8)));
        // Two scores: no majority to stand out from.
        assert!(!is_outlier(Decimal::from(0), &d(&[8]), Decimal::from(8)));
    }
}
