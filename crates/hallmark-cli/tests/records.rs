//! `hallmark records` on the real PostgreSQL (issue #16): migrate, generate a small province,
//! and the dashboard's queries printed; a bad day and a missing database are refused by name.
//! Needs HALLMARK_PG like crates/hallmark-province/tests (scripts/test.sh starts the cluster).

use std::process::{Command, Output};

fn hallmark(args: &[&str], pg: Option<&str>) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_hallmark"));
    c.args(args).env_remove("HALLMARK_PG");
    if let Some(url) = pg {
        c.env("HALLMARK_PG", url);
    }
    c.output().unwrap()
}

fn out(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

#[test]
fn records_are_migrated_generated_and_queried_from_the_command_line() {
    let Ok(url) = std::env::var("HALLMARK_PG") else {
        assert!(std::env::var_os("HALLMARK_REQUIRE_PG").is_none(), "HALLMARK_REQUIRE_PG is set but HALLMARK_PG is not");
        eprintln!("skipped: HALLMARK_PG is not set (scripts/test.sh starts PostgreSQL)");
        return;
    };
    let name = format!("hallmark_cli_records_{}", std::process::id());
    let mut admin = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    admin.batch_execute(&format!("DROP DATABASE IF EXISTS {name}")).unwrap();
    admin.batch_execute(&format!("CREATE DATABASE {name}")).unwrap();
    let db = format!("{}/{name}", url.rsplit_once('/').unwrap().0);
    let pg = Some(db.as_str());

    let o = hallmark(&["records", "migrate"], None);
    assert!(!o.status.success() && out(&o).contains("no database: give --postgres"), "{}", out(&o));
    let o = hallmark(&["records", "migrate"], pg);
    assert!(o.status.success() && out(&o).contains("records schema at version 7"), "{}", out(&o));
    let o = hallmark(&["records", "generate", "--postgres", &db, "--halls", "30"], None);
    assert!(o.status.success() && out(&o).contains("generated 30 halls × 5 years × 5 assessors"), "{}", out(&o));
    let o = hallmark(&["records", "generate", "--halls", "30"], pg);
    assert!(!o.status.success() && out(&o).contains("already holds 30 halls"), "{}", out(&o));

    let o = hallmark(&["records", "halls", "--region", "2103"], pg);
    let halls = out(&o);
    assert!(o.status.success() && !halls.is_empty() && halls.lines().all(|l| l.starts_with("2103") && l.contains("HM-LN-2026-")), "{halls}");
    let o = hallmark(&["records", "due", "--today", "2027-03-01", "--days", "30"], pg);
    assert!(o.status.success() && out(&o).contains("有效期至"), "{}", out(&o));
    let o = hallmark(&["records", "due", "--today", "2027-02-30"], pg);
    assert!(!o.status.success() && out(&o).contains("--today '2027-02-30'"), "{}", out(&o));
    let o = hallmark(&["records", "items", "--region", "21"], pg);
    assert!(o.status.success() && out(&o).lines().count() == hallmark_province::dataset::liaoning_items().len(), "{}", out(&o));

    admin.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).unwrap();
}
