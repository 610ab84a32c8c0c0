//! `hallmark records …`: the province records in PostgreSQL (issue #16) — thin wrappers over
//! `hallmark_province`, which the server and the dashboard use too.

use hallmark_province::dashboard;

use crate::RecordsCommand;

fn db(url: &str) -> Result<postgres::Client, String> {
    hallmark_province::connect(url).map_err(|e| e.to_string())
}

fn or_dash(v: &Option<String>) -> &str {
    v.as_deref().unwrap_or("—")
}

pub(crate) fn run(command: RecordsCommand) -> Result<(), String> {
    let e = |e: hallmark_province::RecordsError| e.to_string();
    match command {
        RecordsCommand::Migrate { pg } => {
            let v = hallmark_province::migrate(&mut db(&pg.url()?)?).map_err(e)?;
            outln!("records schema at version {v}");
        }
        RecordsCommand::Generate { pg, halls } => {
            if halls == 0 || halls > 100_000 {
                return Err(format!("--halls {halls} is outside 1–100000"));
            }
            let mut c = db(&pg.url()?)?;
            hallmark_province::migrate(&mut c).map_err(e)?;
            let scale = hallmark_province::dataset::Scale { halls, ..hallmark_province::dataset::Scale::PROVINCE };
            hallmark_province::dataset::generate(&mut c, scale).map_err(e)?;
            outln!("generated {halls} halls × {} years × {} assessors", scale.years, scale.assessors);
        }
        RecordsCommand::Halls { pg, region, limit, offset } => {
            for h in dashboard::latest_results(&mut db(&pg.url()?)?, &region, limit.clamp(1, 1000), offset.max(0)).map_err(e)? {
                outln!(
                    "{}  {}  {}  {}  最终得分 {}  {}  有效期至 {}",
                    h.region_code,
                    h.hall_id,
                    h.name,
                    or_dash(&h.report_number),
                    or_dash(&h.final_score),
                    or_dash(&h.outcome),
                    or_dash(&h.valid_until)
                );
            }
        }
        RecordsCommand::Due { pg, region, today, days } => {
            hallmark_core::date::parse_date(&today).map_err(|why| format!("--today {why}"))?;
            for d in dashboard::due(&mut db(&pg.url()?)?, &region, &today, days).map_err(e)? {
                let left = if d.days_left >= 0 { format!("还剩 {} 天", d.days_left) } else { format!("已过期 {} 天", -d.days_left) };
                outln!("{}  {}  有效期至 {}（{left}）", d.hall_id, d.report_number, d.valid_until);
            }
        }
        RecordsCommand::Items { pg, region } => {
            for i in dashboard::item_deductions(&mut db(&pg.url()?)?, &region).map_err(e)? {
                outln!("{}  平均扣分 {}  扣分单位 {}/{}", i.item_id, i.mean_deduction, i.halls_losing, i.halls);
            }
        }
    }
    Ok(())
}
