//! The bureau dashboard's queries (issue #12 reads them; issue #16 measures them). Numbers come
//! back as text, exactly as PostgreSQL's numeric holds them (never a float).

use postgres::Client;

use crate::Result;

/// The SQL of [`latest_results`] (its parameters in order), for EXPLAIN.
pub const LATEST_RESULTS: &str = "SELECT h.id, h.name, h.region_code::text, l.report_number, l.final_score::text, l.outcome, l.signed_at::date::text,
                l.valid_until::text, l.assessors
         FROM halls h
         LEFT JOIN LATERAL (SELECT * FROM evaluations e WHERE e.hall_id = h.id ORDER BY e.signed_at DESC LIMIT 1) l ON true
         WHERE h.region_code LIKE $1 || '%'
         ORDER BY h.region_code, h.id
         LIMIT $2 OFFSET $3";

/// The SQL of [`due`] (its parameters in order), for EXPLAIN.
pub const DUE: &str = "WITH latest AS (
            SELECT DISTINCT ON (e.hall_id) e.hall_id, e.report_number, e.valid_until
            FROM evaluations e JOIN halls h ON h.id = e.hall_id
            WHERE h.region_code LIKE $1 || '%'
            ORDER BY e.hall_id, e.signed_at DESC)
         SELECT hall_id, report_number, valid_until::text, (valid_until - $2::text::date)::int
         FROM latest WHERE valid_until IS NOT NULL AND valid_until <= $2::text::date + $3::int
         ORDER BY valid_until, hall_id";

/// The SQL of [`item_deductions`] (its parameters in order), for EXPLAIN.
pub const ITEM_DEDUCTIONS: &str = "WITH latest AS (
            SELECT DISTINCT ON (e.hall_id) e.hall_id, e.report_number
            FROM evaluations e JOIN halls h ON h.id = e.hall_id
            WHERE h.region_code LIKE $1 || '%'
            ORDER BY e.hall_id, e.signed_at DESC)
         SELECT ei.item_id, round(avg(ei.mean_lost), 2)::text, count(*) FILTER (WHERE ei.mean_lost > 0), count(*)
         FROM latest l JOIN evaluation_items ei ON ei.report_number = l.report_number
         GROUP BY ei.item_id ORDER BY avg(ei.mean_lost) DESC, ei.item_id";

/// The SQL of [`hall_history`] (its parameters in order), for EXPLAIN.
pub const HALL_HISTORY: &str = "SELECT report_number, visited_on::text, final_score::text, outcome, valid_until::text, assessors
         FROM evaluations WHERE hall_id = $1 ORDER BY signed_at";

/// A hall with its latest evaluation (none yet: the report fields are `None`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HallLatest {
    pub hall_id: String,
    pub name: String,
    pub region_code: String,
    pub report_number: Option<String>,
    pub final_score: Option<String>,
    pub outcome: Option<String>,
    pub signed_on: Option<String>,
    pub valid_until: Option<String>,
    pub assessors: Option<i32>,
}

/// Halls whose 行政区划代码 starts with `region` (all with ""), each with its latest report,
/// ordered by code and id; one page.
pub fn latest_results(db: &mut Client, region: &str, limit: i64, offset: i64) -> Result<Vec<HallLatest>> {
    let rows = db.query(LATEST_RESULTS, &[&region, &limit, &offset])?;
    Ok(rows
        .iter()
        .map(|r| HallLatest {
            hall_id: r.get(0),
            name: r.get(1),
            region_code: r.get(2),
            report_number: r.get(3),
            final_score: r.get(4),
            outcome: r.get(5),
            signed_on: r.get(6),
            valid_until: r.get(7),
            assessors: r.get(8),
        })
        .collect())
}

/// A hall due for re-evaluation: its latest result expires within the window, or has lapsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DueHall {
    pub hall_id: String,
    pub report_number: String,
    pub valid_until: String,
    /// Negative: lapsed that many days ago.
    pub days_left: i32,
}

/// Halls under `region` whose latest evaluation passed and expires on or before `today` +
/// `within_days` (lapsed ones included), soonest first.
pub fn due(db: &mut Client, region: &str, today: &str, within_days: i32) -> Result<Vec<DueHall>> {
    let rows = db.query(DUE, &[&region, &today, &within_days])?;
    Ok(rows.iter().map(|r| DueHall { hall_id: r.get(0), report_number: r.get(1), valid_until: r.get(2), days_left: r.get(3) }).collect())
}

/// One item across the halls of a region, from each hall's latest evaluation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemDeduction {
    pub item_id: String,
    /// The mean over halls of the panel's mean deduction, 2 decimals.
    pub mean_deduction: String,
    /// The halls whose panel lost points on the item, and how many halls.
    pub halls_losing: i64,
    pub halls: i64,
}

/// Per item, over the latest evaluation of every hall under `region`: the mean deduction and
/// how many halls lost points, most deducted first.
pub fn item_deductions(db: &mut Client, region: &str) -> Result<Vec<ItemDeduction>> {
    let rows = db.query(ITEM_DEDUCTIONS, &[&region])?;
    Ok(rows.iter().map(|r| ItemDeduction { item_id: r.get(0), mean_deduction: r.get(1), halls_losing: r.get(2), halls: r.get(3) }).collect())
}

/// One evaluation in a hall's history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Evaluation {
    pub report_number: String,
    pub visited_on: String,
    pub final_score: Option<String>,
    pub outcome: String,
    pub valid_until: Option<String>,
    pub assessors: i32,
}

/// Every evaluation of a hall, oldest first.
pub fn hall_history(db: &mut Client, hall_id: &str) -> Result<Vec<Evaluation>> {
    let rows = db.query(HALL_HISTORY, &[&hall_id])?;
    Ok(rows
        .iter()
        .map(|r| Evaluation {
            report_number: r.get(0),
            visited_on: r.get(1),
            final_score: r.get(2),
            outcome: r.get(3),
            valid_until: r.get(4),
            assessors: r.get(5),
        })
        .collect())
}
