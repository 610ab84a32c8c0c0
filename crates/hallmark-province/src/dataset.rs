//! The province-scale dataset (issue #16): halls in 14 cities of Liaoning (行政区划 2101–2114),
//! each evaluated once a year by a panel, every assessor scoring every item of the Liaoning
//! rubric, with the events behind each sheet — generated in SQL (`generate_series`), so 1,500
//! halls × 5 years × 5 assessors (2.25 M events) take seconds, not an import. Deterministic:
//! the same scale gives the same rows (scores come from hashes of the ids, not a clock or RNG).
//! Totals, means, outcomes and validity are derived from the item scores as a report derives
//! them (≥ 90 passes, valid one year).

use postgres::Client;

use crate::Result;

/// How big a province.
#[derive(Debug, Clone, Copy)]
pub struct Scale {
    pub halls: u32,
    pub years: u32,
    /// The first year evaluated; the last is `first_year + years - 1`.
    pub first_year: i32,
    pub assessors: u32,
    pub events_per_sheet: u32,
}

impl Scale {
    /// The figure: 1,500 halls × 5 years × 5 assessors, every event.
    pub const PROVINCE: Scale = Scale { halls: 1500, years: 5, first_year: 2022, assessors: 5, events_per_sheet: 60 };
    /// What CI runs: 150 halls.
    pub const CI: Scale = Scale { halls: 150, ..Scale::PROVINCE };
}

/// The items of the shipped Liaoning rubric: (id, points).
pub fn liaoning_items() -> Vec<(String, String)> {
    let r = hallmark_core::rubric::Rubric::load("liaoning-demo-window.toml", hallmark_core::builtin::LIAONING).expect("the shipped rubric loads");
    r.item.iter().map(|i| (i.id.clone(), i.points.to_string())).collect()
}

/// Fills an empty, migrated database with `scale`. Refuses a database that holds halls.
pub fn generate(db: &mut Client, scale: Scale) -> Result<()> {
    let held: i64 = db.query_one("SELECT count(*) FROM halls", &[])?.get(0);
    if held > 0 {
        return Err(crate::RecordsError::Invalid(format!("the database already holds {held} halls: generate into an empty one")));
    }
    let items = liaoning_items();
    let values: Vec<String> = items.iter().map(|(id, pts)| format!("('{id}', {pts}::numeric)")).collect();
    let (halls, years, first, assessors, events) =
        (scale.halls as i32, scale.years as i32, scale.first_year, scale.assessors as i32, scale.events_per_sheet as i32);
    let mut tx = db.transaction()?;
    tx.execute(
        "INSERT INTO halls (id, region_code, name, address, level)
         SELECT 'LN-' || lpad(h::text, 5, '0'),
                (2101 + h % 14)::text || lpad((1 + h % 12)::text, 2, '0'),
                '示范窗口' || h || '号服务大厅', '', (ARRAY['city', 'county', 'township'])[1 + h % 3]
         FROM generate_series(1, $1) h",
        &[&halls],
    )?;
    tx.execute(
        "INSERT INTO evaluations (report_number, hall_id, rubric_id, rubric_version, visited_on, signed_at, final_score, outcome, valid_until, assessors)
         SELECT 'HM-LN-' || y || '-' || lpad(h::text, 5, '0'), 'LN-' || lpad(h::text, 5, '0'), 'liaoning-demo-window', '4',
                make_date(y, 1 + h % 12, 1 + h % 28), make_date(y, 1 + h % 12, 1 + h % 28) + time '10:00' + interval '2 days',
                NULL, 'insufficient', NULL, $4::int
         FROM generate_series(1, $1::int) h, generate_series($2::int, $2::int + $3::int - 1) y",
        &[&halls, &first, &years, &assessors],
    )?;
    tx.execute(
        "INSERT INTO sheets (inspection_id, report_number, assessor, device_key, total)
         SELECT md5(e.report_number || '/' || a)::uuid, e.report_number, '评价人员' || a, md5('device ' || e.hall_id || '/' || a), 0
         FROM evaluations e, generate_series(1, $1) a",
        &[&assessors],
    )?;
    // One item in five loses points, 1 to 3 (never below 0); a hall's weak item repeats.
    tx.batch_execute(&format!(
        "INSERT INTO item_scores (inspection_id, item_id, max_points, points)
         SELECT s.inspection_id, it.item_id, it.max_points,
                CASE WHEN abs(hashtext(s.inspection_id::text || it.item_id)) % 5 = 0
                     THEN greatest(0, it.max_points - (1 + abs(hashtext(it.item_id || s.report_number)) % 3))
                     ELSE it.max_points END
         FROM sheets s CROSS JOIN (VALUES {}) AS it(item_id, max_points);
         INSERT INTO evaluation_items (report_number, item_id, max_points, mean_lost)
         SELECT s.report_number, i.item_id, max(i.max_points), avg(i.max_points - i.points)
         FROM sheets s JOIN item_scores i ON i.inspection_id = s.inspection_id
         GROUP BY s.report_number, i.item_id;
         UPDATE sheets s SET total = t.total FROM (SELECT inspection_id, sum(points) AS total FROM item_scores GROUP BY inspection_id) t
          WHERE t.inspection_id = s.inspection_id;
         UPDATE evaluations e SET final_score = m.mean,
                outcome = CASE WHEN m.mean >= 90 THEN 'pass' ELSE 'fail' END,
                valid_until = CASE WHEN m.mean >= 90 THEN (e.signed_at::date + interval '1 year')::date END
           FROM (SELECT report_number, round(avg(total), 2) AS mean FROM sheets GROUP BY report_number) m
          WHERE m.report_number = e.report_number;",
        values.join(", ")
    ))?;
    tx.execute(
        "INSERT INTO events (id, inspection_id, key, value, recorded_at)
         SELECT md5(s.inspection_id::text || '#' || n)::uuid, s.inspection_id, 'item.' || n, to_jsonb(n % 7),
                e.signed_at - interval '2 days' + n * interval '1 minute'
         FROM sheets s JOIN evaluations e USING (report_number), generate_series(1, $1) n",
        &[&events],
    )?;
    tx.commit()?;
    db.batch_execute("ANALYZE")?;
    Ok(())
}
