//! A re-evaluation (复评) compared with the report before it (issue #13 part 4): item by item,
//! the previous panel's mean points (from the previous report's signed sidecar: every
//! assessor's points) beside the new ones, and whether each deduction is gone; and the
//! validity by the Liaoning standard's §12 ([`hallmark_core::validity`]), explained.

use std::collections::BTreeMap;

use hallmark_core::validity::{self, Renewal};
use rust_decimal::Decimal;
use serde::Serialize;

use crate::model::{shown_mean, Report};
use crate::seal::Sidecar;
use crate::ReportError;

/// The comparison section (十、与上次评价比较).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PreviousRow {
    pub report_number: String,
    #[serde(skip)]
    pub pdf_sha256: String,
    pub issued_on: String,
    pub valid_until: Option<String>,
    pub final_score: Option<String>,
    pub conclusion: String,
    pub items: Vec<CompareRow>,
    /// The §12 rule applied, in words; empty when the previous report has no validity.
    pub renewal: String,
}

/// One item: the previous and the new mean (2 decimals, as printed), the change and what
/// became of a deduction.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CompareRow {
    pub id: String,
    pub name: String,
    pub before: String,
    pub after: String,
    pub change: String,
    /// 扣分已消除 | 仍有扣分 | 新增扣分 | 无扣分 | 本次新增指标 | 本次无此指标
    pub finding: String,
}

/// The mean of each item over the previous report's assessors, exact.
fn previous_means(prev: &Sidecar) -> Result<BTreeMap<String, Decimal>, ReportError> {
    let mut sums: BTreeMap<String, (Decimal, u32)> = BTreeMap::new();
    for a in prev.assessors() {
        for (item, points) in &a.scores {
            let p: Decimal = points
                .parse()
                .map_err(|_| ReportError::Input(format!("the previous report's sidecar gives '{points}' points for item '{item}': not a number")))?;
            let e = sums.entry(item.clone()).or_default();
            e.0 += p;
            e.1 += 1;
        }
    }
    Ok(sums.into_iter().map(|(k, (sum, n))| (k, sum / Decimal::from(n))).collect())
}

fn signed(d: Decimal) -> String {
    let d = d.round_dp_with_strategy(2, rust_decimal::RoundingStrategy::MidpointAwayFromZero).normalize();
    if d > Decimal::ZERO {
        format!("+{d}")
    } else if d < Decimal::ZERO {
        format!("−{}", -d)
    } else {
        "0".into()
    }
}

impl Report {
    /// This report as a re-evaluation after `prev` (its sidecar, its PDF's hash): the
    /// comparison, and the validity by §12 when the previous report has one (`months`, the
    /// rubric's validity period).
    pub fn after(mut self, prev: &Sidecar, months: Option<u32>) -> Result<Report, ReportError> {
        if prev.rubric().id != self.rubric_id {
            return Err(ReportError::Input(format!(
                "the previous report {} is of rubric '{}', this one of '{}': compare evaluations against the same rubric",
                prev.report_number(),
                prev.rubric().id,
                self.rubric_id
            )));
        }
        if prev.issued_on() >= &self.issued_on {
            return Err(ReportError::Input(format!(
                "the previous report {} is dated {}, not before this one ({}): name the report this evaluation follows",
                prev.report_number(),
                prev.issued_on(),
                self.issued_on
            )));
        }
        let before = previous_means(prev)?;
        let mut items = Vec::new();
        for i in &self.items {
            let was = before.get(&i.id).copied();
            let (change, finding) = match (was, i.mean) {
                (Some(b), Some(a)) => {
                    let finding = match (b < i.max, a < i.max) {
                        (true, false) => "扣分已消除",
                        (true, true) => "仍有扣分",
                        (false, true) => "新增扣分",
                        (false, false) => "无扣分",
                    };
                    (signed(a - b), finding)
                }
                (None, _) => ("—".to_string(), "本次新增指标"),
                (Some(_), None) => ("—".to_string(), "—"),
            };
            items.push(CompareRow {
                id: i.id.clone(),
                name: i.name.clone(),
                before: shown_mean(was),
                after: shown_mean(i.mean),
                change,
                finding: finding.into(),
            });
        }
        for (id, b) in &before {
            if !self.items.iter().any(|i| &i.id == id) {
                items.push(CompareRow {
                    id: id.clone(),
                    name: String::new(),
                    before: shown_mean(Some(*b)),
                    after: "—".into(),
                    change: "—".into(),
                    finding: "本次无此指标".into(),
                });
            }
        }
        let mut renewal = String::new();
        if let (Some(prev_until), Some(months)) = (prev.valid_until(), months) {
            let prev_until =
                hallmark_core::date::parse_date(prev_until).map_err(|e| ReportError::Input(format!("the previous report's validity {e}")))?;
            let on = hallmark_core::date::parse_date(&self.issued_on).map_err(|e| ReportError::Input(format!("issue date {e}")))?;
            let r = validity::after_reevaluation(prev_until, on, self.outcome == "pass", months);
            let pass_at = self.pass_at.map(hallmark_core::num::fmt).unwrap_or_else(|| "及格".into());
            renewal = r.explain(prev_until, on, &pass_at);
            if let Renewal::Extended { valid_until } = r {
                self.valid_until = Some(valid_until.to_string());
            }
        }
        self.previous = Some(PreviousRow {
            report_number: prev.report_number().clone(),
            pdf_sha256: prev.pdf_sha256().clone(),
            issued_on: prev.issued_on().clone(),
            valid_until: prev.valid_until().clone(),
            final_score: prev.final_score().clone(),
            conclusion: prev.conclusion().clone(),
            items,
            renewal,
        });
        Ok(self)
    }
}
