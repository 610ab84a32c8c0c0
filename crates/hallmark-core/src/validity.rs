//! How long an evaluation's conclusion stands after a re-evaluation (复评), by the Liaoning
//! standard's §12 (DB21/T, issue #13 part 4):
//!
//! > 评价结论的有效期为一年。……评价结论有效期满前 1 个月，可进行复评；如复评总分在 90 分及以上，
//! > 评价认定结论有效期延长一年。
//!
//! - a passing re-evaluation issued within the last month before the previous conclusion
//!   expires (from one month before `valid_until` to `valid_until`, both included) extends it
//!   by one validity period from the old expiry: [`Renewal::Extended`];
//! - a passing one issued earlier (§12 also asks for a re-evaluation within the validity when
//!   staff or procedures change) or after the expiry stands on its own: valid one period from
//!   its own report date, as a first evaluation is: [`Renewal::Fresh`];
//! - one that does not pass extends nothing: the previous conclusion ends on its own date (or
//!   has ended): [`Renewal::NotExtended`].
//!
//! Dates only: no clock.

use chrono::{Months, NaiveDate};

/// Why a passing re-evaluation counts as a fresh one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outside {
    /// Before the last month of the previous validity.
    Early,
    /// After the previous conclusion expired.
    Lapsed,
}

/// What a re-evaluation does to the conclusion's validity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Renewal {
    /// Extended one period from the previous expiry.
    Extended { valid_until: NaiveDate },
    /// Valid one period from this report's date.
    Fresh { valid_until: NaiveDate, outside: Outside },
    /// Not passing: no extension.
    NotExtended,
}

/// The first day a re-evaluation extends the conclusion expiring on `valid_until`: one month
/// before it (the same day of the month, or the month's last day).
pub fn window_opens(valid_until: NaiveDate) -> NaiveDate {
    valid_until.checked_sub_months(Months::new(1)).unwrap_or(valid_until)
}

/// The rule of §12: the previous conclusion valid until `previous_valid_until`, the
/// re-evaluation's report dated `issued_on`, passing or not, `months` the validity period.
pub fn after_reevaluation(previous_valid_until: NaiveDate, issued_on: NaiveDate, passed: bool, months: u32) -> Renewal {
    let period = Months::new(months);
    if !passed {
        return Renewal::NotExtended;
    }
    let fresh = |outside| Renewal::Fresh { valid_until: issued_on.checked_add_months(period).unwrap_or(issued_on), outside };
    if issued_on > previous_valid_until {
        fresh(Outside::Lapsed)
    } else if issued_on < window_opens(previous_valid_until) {
        fresh(Outside::Early)
    } else {
        Renewal::Extended { valid_until: previous_valid_until.checked_add_months(period).unwrap_or(previous_valid_until) }
    }
}

impl Renewal {
    /// The new validity, if any.
    pub fn valid_until(&self) -> Option<NaiveDate> {
        match self {
            Renewal::Extended { valid_until } | Renewal::Fresh { valid_until, .. } => Some(*valid_until),
            Renewal::NotExtended => None,
        }
    }

    /// The rule as the report explains it, in Chinese.
    pub fn explain(&self, previous_valid_until: NaiveDate, issued_on: NaiveDate, pass_at: &str) -> String {
        let opens = window_opens(previous_valid_until);
        match self {
            Renewal::Extended { valid_until } => format!(
                "本次复评在原评价结论有效期满前1个月内（{opens}至{previous_valid_until}）进行，复评总分在{pass_at}分及以上：评价认定结论有效期延长一年，至{valid_until}。"
            ),
            Renewal::Fresh { valid_until, outside: Outside::Early } => format!(
                "本次复评（{issued_on}）早于原评价结论有效期满前1个月（{opens}起），不适用延长规定：按本次评价计，有效期自报告日期起一年，至{valid_until}。"
            ),
            Renewal::Fresh { valid_until, outside: Outside::Lapsed } => format!(
                "原评价结论已于{previous_valid_until}期满，本次复评（{issued_on}）不适用延长规定：按本次评价计，有效期自报告日期起一年，至{valid_until}。"
            ),
            Renewal::NotExtended if issued_on > previous_valid_until => {
                format!("复评总分未达到{pass_at}分，评价认定结论不予延长；原评价结论已于{previous_valid_until}期满。")
            }
            Renewal::NotExtended => format!("复评总分未达到{pass_at}分，评价认定结论不予延长；原评价结论至{previous_valid_until}期满。"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    /// (previous valid_until, re-evaluation date, passed) → the renewal, as data.
    #[test]
    fn the_rule_of_section_12() {
        let extended = |s: &str| Renewal::Extended { valid_until: d(s) };
        let early = |s: &str| Renewal::Fresh { valid_until: d(s), outside: Outside::Early };
        let lapsed = |s: &str| Renewal::Fresh { valid_until: d(s), outside: Outside::Lapsed };
        let cases = [
            // the window's first day, a day inside, its last day (the expiry itself)
            ("2027-11-20", "2027-10-20", true, extended("2028-11-20")),
            ("2027-11-20", "2027-11-05", true, extended("2028-11-20")),
            ("2027-11-20", "2027-11-20", true, extended("2028-11-20")),
            // the day before the window opens; the day after the expiry
            ("2027-11-20", "2027-10-19", true, early("2028-10-19")),
            ("2027-11-20", "2027-11-21", true, lapsed("2028-11-21")),
            // failing: nothing extended, in or out of the window
            ("2027-11-20", "2027-11-05", false, Renewal::NotExtended),
            ("2027-11-20", "2028-01-05", false, Renewal::NotExtended),
            // month ends: one month before 03-31 is 02-28 (2027) or 02-29 (2028)
            ("2027-03-31", "2027-02-28", true, extended("2028-03-31")),
            ("2027-03-31", "2027-02-27", true, early("2028-02-27")),
            ("2028-03-31", "2028-02-29", true, extended("2029-03-31")),
            // a leap day's expiry extends to the 28th
            ("2028-02-29", "2028-02-10", true, extended("2029-02-28")),
        ];
        for (prev, on, passed, want) in cases {
            assert_eq!(after_reevaluation(d(prev), d(on), passed, 12), want, "previous valid until {prev}, re-evaluated {on}, passed {passed}");
        }
    }

    #[test]
    fn each_outcome_is_explained() {
        let prev = d("2027-11-20");
        let text = |on: &str, passed| after_reevaluation(prev, d(on), passed, 12).explain(prev, d(on), "90");
        assert!(
            text("2027-11-05", true).contains("有效期满前1个月内（2027-10-20至2027-11-20）")
                && text("2027-11-05", true).contains("延长一年，至2028-11-20")
        );
        assert!(text("2027-06-01", true).contains("早于原评价结论有效期满前1个月（2027-10-20起）"));
        assert!(text("2027-12-01", true).contains("已于2027-11-20期满") && text("2027-12-01", true).contains("至2028-12-01"));
        assert!(text("2027-11-05", false).contains("未达到90分") && text("2027-11-05", false).contains("至2027-11-20期满"));
        assert!(text("2027-12-05", false).contains("已于2027-11-20期满"));
    }
}
