//! `hallmark records …`: the province records in PostgreSQL (issue #16) — thin wrappers over
//! `hallmark_province`, which the server and the dashboard use too.

use hallmark_province::dashboard;

use crate::{RecordsCommand, StaffCommand};

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
        RecordsCommand::ImportHalls { pg, file } => {
            let halls: Vec<_> = hallmark_server::halls::read_sheet(&file)?
                .into_iter()
                .map(|h| hallmark_province::load::HallRecord {
                    id: h.id,
                    region_code: h.region_code,
                    name: h.name,
                    address: h.address,
                    level: h.level,
                })
                .collect();
            let mut c = db(&pg.url()?)?;
            hallmark_province::migrate(&mut c).map_err(e)?;
            let (added, updated) = hallmark_province::load::upsert_halls(&mut c, &halls).map_err(e)?;
            outln!("{}: {added} halls added, {updated} updated", file.display());
        }
        RecordsCommand::Load { pg, report, bundles, trust, crl, hall } => {
            let files = hallmark_report::seal::TrustFiles { roots: &trust, crls: &crl, signer_cert: None, folder: None };
            let trust = hallmark_report::seal::Trust::load(&files, chrono::Utc::now()).map_err(|e| e.to_string())?;
            let mut c = db(&pg.url()?)?;
            hallmark_province::migrate(&mut c).map_err(e)?;
            let who = format!("hallmark records load ({})", whoami());
            let blobs = pg.blobs()?;
            let done = hallmark_dashboard::intake::load_report(&mut c, &blobs, &report, &bundles, &trust, hall.as_deref(), &who)?;
            match done.loaded {
                hallmark_province::load::Loaded::New { sheets, events, photos } => outln!(
                    "report {} of hall {}: verified and loaded ({sheets} sheets, {events} events, {photos} photos; {} new files)",
                    done.report_number,
                    done.hall_id,
                    done.blobs
                ),
                hallmark_province::load::Loaded::Already => outln!("report {} is held already: nothing changed", done.report_number),
            }
        }
        RecordsCommand::Staff { command } => staff(command)?,
        RecordsCommand::SweepEvidence { pg, older_than_minutes } => {
            let age = chrono::Duration::minutes(older_than_minutes.max(0));
            let (deleted, kept) = hallmark_province::load::sweep_objects(&mut db(&pg.url()?)?, &pg.blobs()?, age).map_err(e)?;
            outln!("{deleted} objects no record names deleted, {kept} kept");
        }
        RecordsCommand::ExportEvidence { pg, dir } => {
            let (copied, kept) = hallmark_province::load::export_objects(&mut db(&pg.url()?)?, &pg.blobs()?, &dir).map_err(e)?;
            outln!("{}: {copied} objects copied, {kept} already there", dir.display());
        }
        RecordsCommand::ImportEvidence { pg, dir } => {
            let (put, there) = hallmark_province::load::import_objects(&mut db(&pg.url()?)?, &pg.blobs()?, &dir).map_err(e)?;
            outln!("{}: {put} objects put into the object store, {there} already there", dir.display());
        }
        RecordsCommand::Reverify { pg, trust, crl, report } => {
            let files = hallmark_report::seal::TrustFiles { roots: &trust, crls: &crl, signer_cert: None, folder: None };
            let trust = hallmark_report::seal::Trust::load(&files, chrono::Utc::now()).map_err(|e| e.to_string())?;
            let mut c = db(&pg.url()?)?;
            let blobs = pg.blobs()?;
            let numbers = match report {
                Some(n) => vec![n],
                None => hallmark_province::load::report_numbers(&mut c).map_err(e)?,
            };
            let mut failed = Vec::new();
            for n in &numbers {
                match hallmark_dashboard::intake::reverify(&mut c, &blobs, n, &trust)? {
                    None => return Err(format!("report '{n}' is not in the records (hallmark records load it first)")),
                    Some(v) if v.ok => outln!("ok    {n}: {}", v.text().lines().last().unwrap_or("")),
                    Some(v) => {
                        outln!("FAIL  {n}: {}", v.failures());
                        failed.push(n.clone());
                    }
                }
            }
            if !failed.is_empty() {
                return Err(format!("{} of {} reports do not verify from the records: {}", failed.len(), numbers.len(), failed.join(", ")));
            }
            outln!("{} reports verified again from the records alone", numbers.len());
        }
    }
    Ok(())
}

fn whoami() -> String {
    std::env::var("USER").or_else(|_| std::env::var("LOGNAME")).unwrap_or_else(|_| "unknown".into())
}

/// A password from HALLMARK_STAFF_PASSWORD, or typed twice (never an argument: it would stay in
/// the shell's history and the process list).
fn new_password(username: &str) -> Result<String, String> {
    if let Ok(p) = std::env::var("HALLMARK_STAFF_PASSWORD") {
        return Ok(p);
    }
    let p = rpassword::prompt_password(format!("password for {username}: "))
        .map_err(|e| format!("cannot read the password: {e} (or set HALLMARK_STAFF_PASSWORD)"))?;
    let again = rpassword::prompt_password("again: ").map_err(|e| format!("cannot read the password: {e}"))?;
    if p != again {
        return Err("the two passwords differ: nothing was changed".into());
    }
    Ok(p)
}

fn staff(command: StaffCommand) -> Result<(), String> {
    use hallmark_province::staff::{self, Role, Staff};
    let e = |e: hallmark_province::RecordsError| e.to_string();
    match command {
        StaffCommand::Add { pg, username, name, role, region, admin } => {
            let role = Role::parse(&role).map_err(e)?;
            if admin && role != Role::Province {
                return Err("--admin is for a province user (--role province)".into());
            }
            staff::check_scope(role, &region).map_err(e)?;
            let mut c = db(&pg.url()?)?;
            hallmark_province::migrate(&mut c).map_err(e)?;
            let hash = hallmark_dashboard::access::hash_password(&new_password(&username)?)?;
            let s = Staff { username: username.clone(), display_name: name, role, region_code: region, admin, disabled: false };
            staff::create(&mut c, &s, &hash).map_err(e)?;
            staff::audit(&mut c, &format!("cli:{}", whoami()), "创建用户", &username).map_err(e)?;
            outln!("user {username} added ({}, {})", role.as_str(), s.region_code);
        }
        StaffCommand::List { pg } => {
            for s in staff::list(&mut db(&pg.url()?)?).map_err(e)? {
                outln!(
                    "{}  {}  {}  {}{}{}",
                    s.username,
                    s.display_name,
                    s.role.as_str(),
                    s.region_code,
                    if s.admin { "  admin" } else { "" },
                    if s.disabled { "  disabled" } else { "" }
                );
            }
        }
        StaffCommand::Disable { pg, username } => {
            let mut c = db(&pg.url()?)?;
            staff::set_disabled(&mut c, &username, true).map_err(e)?;
            staff::audit(&mut c, &format!("cli:{}", whoami()), "停用用户", &username).map_err(e)?;
            outln!("user {username} disabled");
        }
        StaffCommand::Enable { pg, username } => {
            let mut c = db(&pg.url()?)?;
            staff::set_disabled(&mut c, &username, false).map_err(e)?;
            staff::audit(&mut c, &format!("cli:{}", whoami()), "启用用户", &username).map_err(e)?;
            outln!("user {username} enabled");
        }
        StaffCommand::Reset { pg, username } => {
            let mut c = db(&pg.url()?)?;
            let hash = hallmark_dashboard::access::hash_password(&new_password(&username)?)?;
            staff::set_password(&mut c, &username, &hash).map_err(e)?;
            staff::audit(&mut c, &format!("cli:{}", whoami()), "重置密码", &username).map_err(e)?;
            outln!("user {username}: password set, sessions ended");
        }
    }
    Ok(())
}
