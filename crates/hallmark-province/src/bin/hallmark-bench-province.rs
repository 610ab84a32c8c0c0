//! `scripts/bench-province.sh`: the province-scale dataset generated in PostgreSQL and the
//! dashboard's queries timed (issue #16: p99 < 100 ms), with each query's EXPLAIN ANALYZE.
//! Usage: HALLMARK_PG=postgres://… hallmark-bench-province [province|ci] [RUNS]

use std::time::Instant;

use hallmark_province::dataset::{generate, Scale};
use hallmark_province::{connect, dashboard, migrate};
use postgres::Client;

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn main() {
    let url = std::env::var("HALLMARK_PG").unwrap_or_else(|_| {
        eprintln!("hallmark-bench-province: set HALLMARK_PG (scripts/bench-province.sh starts a cluster)");
        std::process::exit(2)
    });
    let args: Vec<String> = std::env::args().collect();
    let scale = match args.get(1).map(String::as_str) {
        Some("ci") => Scale::CI,
        None | Some("province") => Scale::PROVINCE,
        Some(other) => {
            eprintln!("hallmark-bench-province: unknown scale '{other}' (province or ci)");
            std::process::exit(2)
        }
    };
    let runs: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(200).clamp(10, 10_000);
    let mut admin = connect(&url).unwrap_or_else(|e| {
        eprintln!("hallmark-bench-province: {e}");
        std::process::exit(1)
    });
    let name = format!("hallmark_bench_{}", std::process::id());
    admin.batch_execute(&format!("CREATE DATABASE {name}")).unwrap();
    let (base, _) = url.rsplit_once('/').unwrap();
    let mut db = connect(&format!("{base}/{name}")).unwrap();
    migrate(&mut db).unwrap();
    let t = Instant::now();
    generate(&mut db, scale).unwrap();
    let count = |db: &mut Client, t: &str| -> i64 { db.query_one(&format!("SELECT count(*) FROM {t}"), &[]).unwrap().get(0) };
    println!(
        "dataset: {} halls × {} years × {} assessors: {} evaluations, {} item scores, {} events, generated in {:.1} s",
        scale.halls,
        scale.years,
        scale.assessors,
        count(&mut db, "evaluations"),
        count(&mut db, "item_scores"),
        count(&mut db, "events"),
        t.elapsed().as_secs_f64()
    );
    let size: String = db.query_one("SELECT pg_size_pretty(pg_database_size(current_database()))", &[]).unwrap().get(0);
    println!("database size: {size}");

    let cities: Vec<String> = (2101..=2114).map(|c| c.to_string()).collect();
    let halls: Vec<String> = db.query("SELECT id FROM halls ORDER BY id", &[]).unwrap().iter().map(|r| r.get(0)).collect();
    type Run = Box<dyn Fn(&mut Client, usize)>;
    let c1 = cities.clone();
    let c2 = cities.clone();
    let h1 = halls.clone();
    type Params = Vec<Box<dyn postgres::types::ToSql + Sync>>;
    let queries: Vec<(&str, Run, &str, Params)> = vec![
        (
            "latest result per hall (a city, page of 50)",
            Box::new(move |db, i| drop(dashboard::latest_results(db, &c1[i % c1.len()], 50, 0).unwrap())),
            dashboard::LATEST_RESULTS,
            vec![Box::new("2103"), Box::new(50i64), Box::new(0i64)],
        ),
        (
            "latest result per hall (the province, page 10 of 50)",
            Box::new(move |db, _| drop(dashboard::latest_results(db, "", 50, 450).unwrap())),
            dashboard::LATEST_RESULTS,
            vec![Box::new(""), Box::new(50i64), Box::new(450i64)],
        ),
        (
            "halls due for re-evaluation (the province, 30 days)",
            Box::new(move |db, _| drop(dashboard::due(db, "", "2027-03-01", 30).unwrap())),
            dashboard::DUE,
            vec![Box::new(""), Box::new("2027-03-01"), Box::new(30i32)],
        ),
        (
            "per-item deduction across a city",
            Box::new(move |db, i| drop(dashboard::item_deductions(db, &c2[i % c2.len()]).unwrap())),
            dashboard::ITEM_DEDUCTIONS,
            vec![Box::new("2103")],
        ),
        (
            "per-item deduction across the province",
            Box::new(move |db, _| drop(dashboard::item_deductions(db, "").unwrap())),
            dashboard::ITEM_DEDUCTIONS,
            vec![Box::new("")],
        ),
        (
            "a hall's history",
            Box::new(move |db, i| drop(dashboard::hall_history(db, &h1[(i * 7919) % h1.len()]).unwrap())),
            dashboard::HALL_HISTORY,
            vec![Box::new("LN-00042")],
        ),
    ];
    println!("{runs} runs of each query (server and client time, one connection):");
    for (what, run, _, _) in &queries {
        run(&mut db, 0); // warm
        let mut ms: Vec<f64> = (0..runs)
            .map(|i| {
                let t = Instant::now();
                run(&mut db, i);
                t.elapsed().as_secs_f64() * 1000.0
            })
            .collect();
        ms.sort_by(|a, b| a.partial_cmp(b).unwrap());
        println!("  {what}: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms", percentile(&ms, 0.5), percentile(&ms, 0.99), ms[ms.len() - 1]);
    }
    if std::env::var_os("HALLMARK_BENCH_EXPLAIN").is_some() {
        for (what, _, sql, params) in &queries {
            println!("\nEXPLAIN ANALYZE — {what}");
            let params: Vec<&(dyn postgres::types::ToSql + Sync)> = params.iter().map(|p| p.as_ref()).collect();
            for r in db.query(&format!("EXPLAIN (ANALYZE, BUFFERS) {sql}"), &params).unwrap() {
                println!("  {}", r.get::<_, String>(0));
            }
        }
    }
    drop(db);
    admin.batch_execute(&format!("DROP DATABASE {name} WITH (FORCE)")).unwrap();
}
