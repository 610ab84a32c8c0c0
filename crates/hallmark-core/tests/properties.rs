//! Invariants over random observations of both shipped rubrics:
//! 0 <= part <= part max, 0 <= item <= item max, total = sum of items, groups = sum of members,
//! and one more missing element or observed occurrence, one training fewer or a case submitted
//! a day later never raises a score.

use std::collections::{BTreeMap, BTreeSet};

use hallmark_core::builtin;
use hallmark_core::observation::{Answer, Assessor, CaseEntry, DatedEntry, Observations, Site, TimeRow, Window};
use hallmark_core::rubric::{Input, InputKind, Rubric};
use hallmark_core::score::score;
use proptest::prelude::*;
use rust_decimal::Decimal;

fn rubrics() -> Vec<Rubric> {
    builtin::ALL.iter().map(|(n, t)| Rubric::load(n, t).unwrap()).collect()
}

/// Day `n` counted from 2025-09-01.
fn day(n: i64) -> chrono::NaiveDate {
    chrono::NaiveDate::from_ymd_opt(2025, 9, 1).unwrap() + chrono::Duration::days(n)
}

/// A random answer for one input, or None (unanswered).
fn answer(input: &Input) -> BoxedStrategy<Option<Answer>> {
    let elements = input.elements.clone();
    let n_el = elements.len();
    let a: BoxedStrategy<Answer> = match input.kind {
        InputKind::YesNo => any::<bool>().prop_map(|value| Answer::YesNo { value }).boxed(),
        InputKind::Count | InputKind::Tally => {
            let max = input.max.map(|m| u64::try_from(m.0).unwrap()).unwrap_or(40);
            (0..=max).prop_map(|value| Answer::Count { value }).boxed()
        }
        InputKind::Elements => proptest::collection::vec(any::<bool>(), n_el)
            .prop_map(move |mask| Answer::Elements { missing: elements.iter().zip(mask).filter(|(_, m)| *m).map(|(e, _)| e.clone()).collect() })
            .boxed(),
        InputKind::WindowEquipment => proptest::collection::vec(proptest::collection::vec(any::<bool>(), n_el), 1..5)
            .prop_map(move |ws| Answer::Windows {
                windows: ws
                    .into_iter()
                    .enumerate()
                    .map(|(i, mask)| Window {
                        window: format!("{}号窗口", i + 1),
                        missing: elements.iter().zip(mask).filter(|(_, m)| *m).map(|(e, _)| e.clone()).collect(),
                    })
                    .collect(),
            })
            .boxed(),
        InputKind::Measurement => {
            let lo = input.min.unwrap().0;
            let hi = input.max.unwrap().0;
            // tenths within the valid range
            let span = ((hi - lo) * Decimal::TEN).to_string().parse::<i64>().unwrap_or(1000).min(2_000_000);
            (0..=span).prop_map(move |k| Answer::Measurement { value: lo + Decimal::new(k, 1) }).boxed()
        }
        InputKind::Ratio => (1u64..2000)
            .prop_flat_map(|d| (0..=d, Just(d)))
            .prop_map(|(n, d)| Answer::Ratio {
                percent: Decimal::from(n) * Decimal::ONE_HUNDRED / Decimal::from(d),
                numerator: Some(n),
                denominator: Some(d),
            })
            .boxed(),
        InputKind::Choice => {
            let ids: Vec<String> = input.options.iter().map(|o| o.id.clone()).collect();
            proptest::sample::select(ids).prop_map(|value| Answer::Choice { value }).boxed()
        }
        InputKind::TimeSample => {
            let units = input.units.clone();
            proptest::collection::vec((proptest::sample::select(units), 0i64..100, 0i64..100), 0..60)
                .prop_map(|rows| Answer::TimeSample {
                    rows: rows
                        .into_iter()
                        .map(|(unit, s, a)| TimeRow { matter: "m".into(), unit, standard: Decimal::new(s, 1), actual: Decimal::new(a, 1) })
                        .collect(),
                    unfilled: 0,
                    fewer_reason: None,
                })
                .boxed()
        }
        // Dates around the visit (2026-11-18), over 国庆 and a year the calendar does not list.
        InputKind::DatedList => proptest::collection::vec(0i64..800, 0..8)
            .prop_map(|days| Answer::DatedList { entries: days.into_iter().map(|d| DatedEntry { date: day(d), title: "t".into() }).collect() })
            .boxed(),
        InputKind::CaseDates => proptest::collection::vec((0i64..800, proptest::option::of(0i64..12)), 0..6)
            .prop_map(|cases| Answer::CaseDates {
                cases: cases
                    .into_iter()
                    .map(|(d, after)| CaseEntry { case: "c".into(), complete: day(d), submitted: after.map(|a| day(d + a)) })
                    .collect(),
            })
            .boxed(),
    };
    prop_oneof![1 => Just(None), 6 => a.prop_map(Some)].boxed()
}

fn observations(r: &Rubric) -> BoxedStrategy<Observations> {
    let inputs: Vec<(String, BoxedStrategy<Option<Answer>>)> = r.inputs().map(|(_, i)| (i.id.clone(), answer(i))).collect();
    let ids: Vec<String> = inputs.iter().map(|(id, _)| id.clone()).collect();
    let strategies: Vec<BoxedStrategy<Option<Answer>>> = inputs.into_iter().map(|(_, s)| s).collect();
    let veto_ids: Vec<String> = r.veto.iter().map(|v| v.id.clone()).collect();
    let rubric_id = r.id.clone();
    (
        strategies,
        proptest::collection::vec(prop_oneof![8 => Just(Some(false)), 1 => Just(Some(true)), 1 => Just(None)], veto_ids.len()),
        proptest::option::of(0i64..800),
    )
        .prop_map(move |(answers, vetoes, visited)| Observations {
            rubric: rubric_id.clone(),
            rubric_version: None,
            site: Site::default(),
            assessor: Assessor::default(),
            visited_on: visited.map(|d| day(d).to_string()),
            answers: ids.iter().cloned().zip(answers).filter_map(|(id, a)| a.map(|a| (id, a))).collect::<BTreeMap<_, _>>(),
            veto: veto_ids.iter().cloned().zip(vetoes).filter_map(|(id, v)| v.map(|v| (id, v))).collect(),
        })
        .boxed()
}

fn check_invariants(r: &Rubric, obs: &Observations) -> Result<(), TestCaseError> {
    let sheet = score(r, obs);
    let mut sum = Decimal::ZERO;
    for item in &sheet.items {
        for p in &item.parts {
            if let Some(pts) = p.points {
                prop_assert!(pts >= Decimal::ZERO && pts <= p.max, "part {} of {}: {pts} outside 0..={}", p.label, item.id, p.max);
            }
        }
        if let Some(pts) = item.points {
            prop_assert!(pts >= Decimal::ZERO && pts <= item.max, "item {}: {pts} outside 0..={}", item.id, item.max);
            sum += pts;
        }
    }
    prop_assert_eq!(sheet.total, sum);
    prop_assert!(sheet.total <= r.points.0);
    for g in &sheet.groups {
        prop_assert!(g.points >= Decimal::ZERO && g.points <= g.max, "group {}: {} > {}", g.id, g.points, g.max);
    }
    let top: Decimal = sheet.groups.iter().filter(|g| g.depth == 0).map(|g| g.points).sum();
    prop_assert_eq!(top, sheet.total);
    prop_assert_eq!(sheet.veto.vetoed, obs.veto.values().any(|v| *v));
    Ok(())
}

/// One more thing wrong: a present element goes missing, or a tally grows by one.
fn worsen(r: &Rubric, obs: &Observations, pick: usize) -> Option<(String, Observations)> {
    let candidates: Vec<(&Input, &Answer)> = r
        .inputs()
        .filter_map(|(_, i)| obs.answers.get(&i.id).map(|a| (i, a)))
        .filter(|(i, a)| match a {
            Answer::Elements { missing } => missing.len() < i.elements.len(),
            Answer::Windows { .. } => true,
            Answer::Count { value } => i.kind == InputKind::Tally && i.max.is_none_or(|m| Decimal::from(*value) < m.0),
            Answer::DatedList { entries } => !entries.is_empty(),
            Answer::CaseDates { cases } => cases.iter().any(|c| c.submitted.is_some()),
            _ => false,
        })
        .collect();
    if candidates.is_empty() {
        return None;
    }
    let (input, a) = candidates[pick % candidates.len()];
    let worse = match a {
        Answer::Elements { missing } => {
            let e = input.elements.iter().find(|e| !missing.contains(*e)).unwrap().clone();
            let mut m: BTreeSet<String> = missing.clone();
            m.insert(e);
            Answer::Elements { missing: m }
        }
        Answer::Windows { windows } => {
            let mut w = windows.clone();
            match w.iter_mut().find(|w| w.missing.len() < input.elements.len()) {
                Some(win) => {
                    let e = input.elements.iter().find(|e| !win.missing.contains(*e)).unwrap().clone();
                    win.missing.insert(e);
                }
                None => return None,
            }
            Answer::Windows { windows: w }
        }
        Answer::Count { value } => Answer::Count { value: value + 1 },
        Answer::DatedList { entries } => Answer::DatedList { entries: entries[1..].to_vec() },
        Answer::CaseDates { cases } => {
            let mut c = cases.clone();
            let late = c.iter_mut().find(|c| c.submitted.is_some()).unwrap();
            late.submitted = late.submitted.map(|d| d + chrono::Duration::days(1));
            Answer::CaseDates { cases: c }
        }
        _ => unreachable!(),
    };
    let mut o = obs.clone();
    o.answers.insert(input.id.clone(), worse);
    Some((input.id.clone(), o))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn jiangsu_scores_stay_in_bounds(obs in observations(&rubrics()[0])) {
        check_invariants(&rubrics()[0], &obs)?;
    }

    #[test]
    fn liaoning_scores_stay_in_bounds(obs in observations(&rubrics()[1])) {
        check_invariants(&rubrics()[1], &obs)?;
    }

    #[test]
    fn one_more_missing_element_never_raises_a_score(which in 0usize..2, pick in 0usize..64, seed_obs in observations(&rubrics()[0]), seed_obs2 in observations(&rubrics()[1])) {
        let rs = rubrics();
        let (r, obs) = if which == 0 { (&rs[0], &seed_obs) } else { (&rs[1], &seed_obs2) };
        if let Some((input, worse)) = worsen(r, obs, pick) {
            let before = score(r, obs);
            let after = score(r, &worse);
            prop_assert!(after.total <= before.total, "{input}: total rose from {} to {}", before.total, after.total);
            for (b, a) in before.items.iter().zip(&after.items) {
                prop_assert!(a.points.unwrap_or_default() <= b.points.unwrap_or_default(), "{input}: item {} rose", b.id);
            }
        }
    }
}
