//! The bureau dashboard's queries (issue #12 reads them; issue #16 measures them). Numbers come
//! back as text, exactly as PostgreSQL's numeric holds them (never a float).

use postgres::Client;

use crate::load::HallRecord;
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
    Ok(rows.iter().map(HallLatest::of).collect())
}

impl HallLatest {
    /// From a row whose first nine columns are [`LATEST_RESULTS`]'s (the halls page's are too).
    fn of(r: &postgres::Row) -> HallLatest {
        HallLatest {
            hall_id: r.get(0),
            name: r.get(1),
            region_code: r.get(2),
            report_number: r.get(3),
            final_score: r.get(4),
            outcome: r.get(5),
            signed_on: r.get(6),
            valid_until: r.get(7),
            assessors: r.get(8),
        }
    }
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

/// The halls page's filters (issue #12): every field optional ("" or `None`: no filter).
#[derive(Debug, Clone, Default)]
pub struct HallFilter {
    /// 行政区划代码 prefix: the user's scope narrowed by the page's city filter.
    pub region: String,
    /// `province`, `city`, `county`, `township`.
    pub level: String,
    pub rubric: String,
    /// `pass`, `fail`, `vetoed`, `insufficient`, `no_pass_line`, or `none` (never evaluated).
    pub outcome: String,
    /// A part of the hall's name, or its id.
    pub search: String,
    /// Halls whose latest result expires within this many days of `today`, or has lapsed.
    pub due_within: Option<i32>,
    pub today: String,
    pub sort: HallSort,
    pub descending: bool,
    pub limit: i64,
    pub offset: i64,
}

/// What the halls page sorts by.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum HallSort {
    #[default]
    Region,
    Name,
    Score,
    Signed,
    ValidUntil,
}

impl HallSort {
    pub fn parse(s: &str) -> HallSort {
        match s {
            "name" => HallSort::Name,
            "score" => HallSort::Score,
            "signed" => HallSort::Signed,
            "valid" => HallSort::ValidUntil,
            _ => HallSort::Region,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            HallSort::Region => "region",
            HallSort::Name => "name",
            HallSort::Score => "score",
            HallSort::Signed => "signed",
            HallSort::ValidUntil => "valid",
        }
    }

    fn sql(self) -> &'static str {
        match self {
            // Qualified: the input columns, not the select list's text copies (a score sorted
            // as text puts 100 after 97).
            HallSort::Region => "latest.region_code",
            HallSort::Name => "latest.name",
            HallSort::Score => "latest.final_score",
            HallSort::Signed => "latest.signed_at",
            HallSort::ValidUntil => "latest.valid_until",
        }
    }
}

/// A row of the halls page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HallRow {
    pub latest: HallLatest,
    pub level: String,
    pub rubric_id: Option<String>,
}

/// `LIKE` pattern text with its wildcards escaped.
fn like_escaped(s: &str) -> String {
    s.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_")
}

/// One page of halls with their latest result, filtered and sorted, and how many match.
pub fn halls_page(db: &mut Client, f: &HallFilter) -> Result<(Vec<HallRow>, i64)> {
    let order = format!("{} {} NULLS LAST, latest.region_code, latest.id", f.sort.sql(), if f.descending { "DESC" } else { "ASC" });
    let sql = format!(
        "WITH latest AS (
            SELECT h.id, h.name, h.region_code::text AS region_code, h.level, l.report_number, l.final_score, l.outcome,
                   l.signed_at, l.valid_until, l.assessors, l.rubric_id
            FROM halls h
            LEFT JOIN LATERAL (SELECT * FROM evaluations e WHERE e.hall_id = h.id ORDER BY e.signed_at DESC LIMIT 1) l ON true
            WHERE h.region_code LIKE $1 || '%'
              AND ($2 = '' OR h.level = $2)
              AND ($3 = '' OR h.name LIKE '%' || $3 || '%' OR h.id = $4))
         SELECT id, name, region_code, report_number, final_score::text, outcome, (signed_at AT TIME ZONE 'Asia/Shanghai')::date::text,
                valid_until::text, assessors, level, rubric_id, count(*) OVER ()
         FROM latest
         WHERE ($5 = '' OR rubric_id = $5)
           AND ($6 = '' OR ($6 = 'none' AND outcome IS NULL) OR outcome = $6)
           AND ($7::int IS NULL OR valid_until <= $8::text::date + $7::int)
         ORDER BY {order}
         LIMIT $9 OFFSET $10"
    );
    let search = like_escaped(&f.search);
    let rows = db.query(&sql, &[&f.region, &f.level, &search, &f.search, &f.rubric, &f.outcome, &f.due_within, &f.today, &f.limit, &f.offset])?;
    let total = match rows.first() {
        Some(r) => r.get::<_, i64>(11),
        // A page past the end: still say how many match.
        None if f.offset > 0 => return Ok((Vec::new(), halls_page(db, &HallFilter { offset: 0, limit: 1, ..f.clone() })?.1)),
        None => 0,
    };
    Ok((rows.iter().map(|r| HallRow { latest: HallLatest::of(r), level: r.get(9), rubric_id: r.get(10) }).collect(), total))
}

/// A hall of the records.
pub fn hall(db: &mut Client, id: &str) -> Result<Option<HallRecord>> {
    Ok(db.query_opt("SELECT id, region_code::text, name, address, level FROM halls WHERE id = $1", &[&id])?.map(|r| HallRecord {
        id: r.get(0),
        region_code: r.get(1),
        name: r.get(2),
        address: r.get(3),
        level: r.get(4),
    }))
}

/// An evaluation as a hall's page shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvaluationRow {
    pub report_number: String,
    pub rubric_id: String,
    pub rubric_version: String,
    pub visited_on: String,
    pub signed_on: String,
    pub final_score: Option<String>,
    pub outcome: String,
    pub valid_until: Option<String>,
    pub assessors: i32,
    pub replaces: Option<String>,
    /// The correction that replaced this report, if one is held.
    pub replaced_by: Option<String>,
    /// Whether the PDF and sidecar are held (loaded from a verified report, not generated).
    pub has_report: bool,
}

/// Every evaluation of a hall, oldest first.
pub fn evaluations(db: &mut Client, hall_id: &str) -> Result<Vec<EvaluationRow>> {
    Ok(db
        .query(
            "SELECT e.report_number, e.rubric_id, e.rubric_version, e.visited_on::text, (e.signed_at AT TIME ZONE 'Asia/Shanghai')::date::text,
                    e.final_score::text, e.outcome, e.valid_until::text, e.assessors, e.replaces, r.report_number IS NOT NULL,
                    (SELECT min(c.report_number) FROM evaluations c WHERE c.replaces = e.report_number)
             FROM evaluations e LEFT JOIN reports r ON r.report_number = e.report_number
             WHERE e.hall_id = $1 ORDER BY e.signed_at",
            &[&hall_id],
        )?
        .iter()
        .map(|r| EvaluationRow {
            report_number: r.get(0),
            rubric_id: r.get(1),
            rubric_version: r.get(2),
            visited_on: r.get(3),
            signed_on: r.get(4),
            final_score: r.get(5),
            outcome: r.get(6),
            valid_until: r.get(7),
            assessors: r.get(8),
            replaces: r.get(9),
            has_report: r.get(10),
            replaced_by: r.get(11),
        })
        .collect())
}

/// A report's per-item panel means: (item id, max points, mean deduction).
pub fn evaluation_items(db: &mut Client, report_number: &str) -> Result<Vec<(String, String, String)>> {
    Ok(db
        .query(
            "SELECT item_id, max_points::text, round(mean_lost, 2)::text FROM evaluation_items WHERE report_number = $1 ORDER BY item_id",
            &[&report_number],
        )?
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect())
}

/// One assessor of a report, with the points per item: (item id, max, points).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PanelSheet {
    pub inspection_id: String,
    pub assessor: String,
    pub total: String,
    pub items: Vec<(String, String, String)>,
}

/// The panel of a report, assessors in name order.
pub fn panel(db: &mut Client, report_number: &str) -> Result<Vec<PanelSheet>> {
    let rows = db.query(
        "SELECT s.inspection_id::text, s.assessor, s.total::text, i.item_id, i.max_points::text, i.points::text
         FROM sheets s LEFT JOIN item_scores i ON i.inspection_id = s.inspection_id
         WHERE s.report_number = $1 ORDER BY s.assessor, s.inspection_id, i.item_id",
        &[&report_number],
    )?;
    let mut out: Vec<PanelSheet> = Vec::new();
    for r in &rows {
        let id: String = r.get(0);
        if out.last().map(|s| s.inspection_id != id).unwrap_or(true) {
            out.push(PanelSheet { inspection_id: id, assessor: r.get(1), total: r.get(2), items: Vec::new() });
        }
        if let Some(item) = r.get::<_, Option<String>>(3) {
            out.last_mut().expect("pushed").items.push((item, r.get(4), r.get(5)));
        }
    }
    Ok(out)
}

/// A photo of a report's evidence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Photo {
    pub item_id: String,
    pub assessor: String,
    pub sha256: String,
    pub thumb_sha256: Option<String>,
    pub caption: String,
}

pub fn photos(db: &mut Client, report_number: &str) -> Result<Vec<Photo>> {
    Ok(db
        .query(
            "SELECT ev.item_id, s.assessor, ev.sha256::text, ev.thumb_sha256::text, ev.caption
             FROM evidence ev JOIN sheets s ON s.inspection_id = ev.inspection_id
             WHERE s.report_number = $1 ORDER BY ev.item_id, s.assessor, ev.sha256",
            &[&report_number],
        )?
        .iter()
        .map(|r| Photo { item_id: r.get(0), assessor: r.get(1), sha256: r.get(2), thumb_sha256: r.get(3), caption: r.get(4) })
        .collect())
}

/// Whether a blob is a photo or thumbnail of an evaluation of this hall.
pub fn hall_has_photo(db: &mut Client, hall_id: &str, sha256: &str) -> Result<bool> {
    Ok(db
        .query_one(
            "SELECT EXISTS (SELECT 1 FROM evidence ev JOIN sheets s ON s.inspection_id = ev.inspection_id
                            JOIN evaluations e ON e.report_number = s.report_number
                            WHERE e.hall_id = $1 AND (ev.sha256 = $2 OR ev.thumb_sha256 = $2))",
            &[&hall_id, &sha256],
        )?
        .get(0))
}

/// A verified report's files and verification, with its hall.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportFiles {
    pub report_number: String,
    pub hall_id: String,
    pub region_code: String,
    pub pdf_sha256: String,
    pub sidecar: Vec<u8>,
    pub signer: String,
    pub verified_at: String,
    pub verification: String,
}

pub fn report_files(db: &mut Client, report_number: &str) -> Result<Option<ReportFiles>> {
    Ok(db
        .query_opt(
            "SELECT r.report_number, e.hall_id, h.region_code::text, r.pdf_sha256::text, r.sidecar, r.signer,
                    to_char(r.verified_at AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD HH24:MI'), r.verification
             FROM reports r JOIN evaluations e ON e.report_number = r.report_number JOIN halls h ON h.id = e.hall_id
             WHERE r.report_number = $1",
            &[&report_number],
        )?
        .map(|r| ReportFiles {
            report_number: r.get(0),
            hall_id: r.get(1),
            region_code: r.get(2),
            pdf_sha256: r.get(3),
            sidecar: r.get(4),
            signer: r.get(5),
            verified_at: r.get(6),
            verification: r.get(7),
        }))
}

/// A hall whose latest panel lost points on an item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HallLosing {
    pub hall_id: String,
    pub name: String,
    pub region_code: String,
    pub report_number: String,
    pub max_points: String,
    pub mean_lost: String,
}

/// The halls under `region` whose latest panel lost points on `item_id`, most lost first.
pub fn halls_losing(db: &mut Client, region: &str, item_id: &str, limit: i64) -> Result<Vec<HallLosing>> {
    Ok(db
        .query(
            "WITH latest AS (
                SELECT DISTINCT ON (e.hall_id) e.hall_id, e.report_number
                FROM evaluations e JOIN halls h ON h.id = e.hall_id
                WHERE h.region_code LIKE $1 || '%'
                ORDER BY e.hall_id, e.signed_at DESC)
             SELECT h.id, h.name, h.region_code::text, l.report_number, ei.max_points::text, round(ei.mean_lost, 2)::text
             FROM latest l JOIN evaluation_items ei ON ei.report_number = l.report_number AND ei.item_id = $2
             JOIN halls h ON h.id = l.hall_id
             WHERE ei.mean_lost > 0 ORDER BY ei.mean_lost DESC, h.id LIMIT $3",
            &[&region, &item_id, &limit],
        )?
        .iter()
        .map(|r| HallLosing {
            hall_id: r.get(0),
            name: r.get(1),
            region_code: r.get(2),
            report_number: r.get(3),
            max_points: r.get(4),
            mean_lost: r.get(5),
        })
        .collect())
}

/// The rubrics the evaluations under `region` were made with: (id, version), for names.
pub fn rubrics_used(db: &mut Client, region: &str) -> Result<Vec<(String, String)>> {
    Ok(db
        .query(
            "SELECT DISTINCT e.rubric_id, e.rubric_version FROM evaluations e JOIN halls h ON h.id = e.hall_id
             WHERE h.region_code LIKE $1 || '%' ORDER BY 1, 2",
            &[&region],
        )?
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect())
}

/// The cities (行政区划代码 PPCC00) that have halls under `region`.
pub fn cities(db: &mut Client, region: &str) -> Result<Vec<String>> {
    Ok(db
        .query("SELECT DISTINCT substr(region_code, 1, 4) || '00' FROM halls WHERE region_code LIKE $1 || '%' ORDER BY 1", &[&region])?
        .iter()
        .map(|r| r.get(0))
        .collect())
}

/// [`due`] with each hall's name and 行政区划代码, for the due list and its export.
pub fn due_named(db: &mut Client, region: &str, today: &str, within_days: i32) -> Result<Vec<(DueHall, String, String)>> {
    let rows = db.query(
        &format!("SELECT d.*, h.name, h.region_code::text FROM ({DUE}) d JOIN halls h ON h.id = d.hall_id ORDER BY d.valid_until, d.hall_id"),
        &[&region, &today, &within_days],
    )?;
    Ok(rows
        .iter()
        .map(|r| (DueHall { hall_id: r.get(0), report_number: r.get(1), valid_until: r.get(2), days_left: r.get(3) }, r.get(4), r.get(5)))
        .collect())
}
