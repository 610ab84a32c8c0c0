//! `hallmark`: the command line over hallmark-core and hallmark-store.
//!
//! This crate does the IO: it reads files, resolves rubric ids, prints, and maps errors to
//! exit codes. Every rule about scores lives in hallmark-core.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use hallmark_store::Store;
use hallmark_core::aggregate::aggregate;
use hallmark_core::observation::{self, Observations};
use hallmark_core::render;
use hallmark_core::rubric::Rubric;
use hallmark_core::score::{score, ScoreSheet};

/// Output that ends quietly when the reader goes away (`hallmark merge | head`).
macro_rules! out {
    ($($t:tt)*) => {{
        use std::io::Write as _;
        let _ = write!(std::io::stdout(), $($t)*);
    }};
}
macro_rules! outln {
    ($($t:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout(), $($t)*);
    }};
}

#[derive(Parser)]
#[command(name = "hallmark", version, about = "Score medical-insurance service halls against official rubrics")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Rubric files: validate them or show their tree
    Rubric {
        #[command(subcommand)]
        command: RubricCommand,
    },
    /// Score one assessor's observation file
    Score {
        /// Rubric id (e.g. jiangsu-15min) or path to a rubric file; default: the file's "rubric"
        #[arg(long)]
        rubric: Option<String>,
        /// Print the score sheet as JSON
        #[arg(long)]
        json: bool,
        file: PathBuf,
    },
    /// Aggregate several assessors' observation files for one site
    Aggregate {
        #[arg(long)]
        rubric: Option<String>,
        #[arg(long)]
        json: bool,
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Write one inspection as a signed bundle (.hallmark)
    Export {
        #[command(flatten)]
        db: Db,
        /// Inspection id (or a unique prefix of it)
        #[arg(long)]
        inspection: String,
        #[arg(long)]
        out: PathBuf,
    },
    /// Verify and import assessors' bundles (each all-or-nothing)
    Import {
        #[command(flatten)]
        db: Db,
        #[arg(long)]
        json: bool,
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// The lead's view: every assessor side by side per site and rubric
    Merge {
        #[command(flatten)]
        db: Db,
        #[arg(long)]
        json: bool,
    },
    /// The lead's roster of known assessor keys
    Roster {
        #[command(subcommand)]
        command: RosterCommand,
    },
    /// List the inspections in a database
    List {
        #[command(flatten)]
        db: Db,
    },
    /// Write demo bundles: five assessors of one Liaoning hall and one Jiangsu inspection
    Demo { dir: PathBuf },
    /// Write the signed evaluation report (PDF + FILE.pdf.sig.json) for a merged site
    Report {
        #[command(flatten)]
        which: Which,
        #[arg(long)]
        out: PathBuf,
        /// Also print the report's text form
        #[arg(long)]
        text: bool,
    },
    /// Check a report's signature; with --bundles, recompute every score from the raw bundles
    Verify {
        pdf: PathBuf,
        #[arg(long)]
        bundles: Option<PathBuf>,
        #[arg(long)]
        json: bool,
    },
    /// Per-item scores of every assessor for officials: FILE.csv or FILE.xlsx
    Scores {
        #[command(flatten)]
        which: Which,
        #[arg(long)]
        out: PathBuf,
    },
}

#[derive(Args)]
struct Db {
    /// The database: a SQLite file (its photos go in FILE-files/) or a data folder (as the app's)
    #[arg(long)]
    db: PathBuf,
}

/// Which merged site a report is about, and what the lead adds to it.
#[derive(Args)]
struct Which {
    #[command(flatten)]
    db: Db,
    /// The hall's contact details and the leader (TOML: site_head, site_phone, site_email, leader)
    #[arg(long)]
    details: Option<PathBuf>,
    /// Which site (part of its name), when the database holds several
    #[arg(long)]
    site: Option<String>,
    /// Which rubric id, when the database holds several
    #[arg(long)]
    rubric: Option<String>,
}

#[derive(Subcommand)]
enum RosterCommand {
    /// Add an assessor's key (64 hex digits, shown on their tablet) with their name
    Add {
        #[command(flatten)]
        db: Db,
        /// The public key, or with --file a roster file of "key<TAB>name" lines
        #[arg(required_unless_present = "file")]
        key: Option<String>,
        #[arg(required_unless_present = "file")]
        name: Option<String>,
        #[arg(long, conflicts_with_all = ["key", "name"])]
        file: Option<PathBuf>,
    },
    /// List the known keys
    List {
        #[command(flatten)]
        db: Db,
    },
}

#[derive(Subcommand)]
enum RubricCommand {
    /// Validate rubric files and list the seed findings each answers
    Check {
        #[arg(required = true)]
        files: Vec<String>,
    },
    /// Print a rubric's tree with points, inputs and rules
    Show { rubric: String },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            for line in message.lines() {
                eprintln!("error: {line}");
            }
            ExitCode::FAILURE
        }
    }
}

fn read(path: &Path) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|e| format!("{}: cannot read: {} (check the path)", path.display(), lower(&e.to_string())))
}

fn lower(s: &str) -> String {
    let mut c = s.chars();
    c.next().map(|f| f.to_lowercase().collect::<String>() + c.as_str()).unwrap_or_default()
}

/// A rubric argument is a path to a file, or an id found in $HALLMARK_RUBRICS, ./rubrics or
/// the copies compiled into this binary.
fn rubric_source(arg: &str) -> Result<(String, String), String> {
    let path = Path::new(arg);
    if path.is_file() {
        return Ok((arg.to_string(), read(path)?));
    }
    let file = format!("{arg}.toml");
    let mut dirs: Vec<PathBuf> = Vec::new();
    if let Ok(d) = std::env::var("HALLMARK_RUBRICS") {
        dirs.push(d.into());
    }
    dirs.push("rubrics".into());
    for d in dirs {
        let p = d.join(&file);
        if p.is_file() {
            return Ok((p.display().to_string(), read(&p)?));
        }
    }
    if let Some((name, text)) = hallmark_core::builtin::ALL.iter().find(|(n, _)| *n == file) {
        return Ok((format!("(built-in) {name}"), text.to_string()));
    }
    let known: Vec<&str> = hallmark_core::builtin::ALL.iter().map(|(n, _)| n.trim_end_matches(".toml")).collect();
    Err(format!("rubric '{arg}' is neither a file nor a known id (known: {})", known.join(", ")))
}

fn load_rubric(arg: &str) -> Result<Rubric, String> {
    let (name, text) = rubric_source(arg)?;
    Rubric::load(&name, &text).map_err(|e| e.to_string())
}

/// Reads an observation file; the rubric is `--rubric` or the file's own "rubric" field.
fn load_observations(path: &Path, rubric_arg: Option<&str>) -> Result<(Rubric, Observations), String> {
    let text = read(path)?;
    let name = path.display().to_string();
    let rubric_id = match rubric_arg {
        Some(r) => r.to_string(),
        None => serde_json::from_str::<serde_json::Value>(&text)
            .ok()
            .and_then(|v| v.get("rubric").and_then(|r| r.as_str()).map(str::to_string))
            .ok_or_else(|| format!("{name}: no \"rubric\" in the file (pass --rubric ID or add \"rubric\": \"jiangsu-15min\")"))?,
    };
    let rubric = load_rubric(&rubric_id)?;
    let obs = observation::parse(&name, &text, &rubric).map_err(|e| e.to_string())?;
    Ok((rubric, obs))
}

fn json<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string_pretty(v).expect("score types serialize")
}

fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// `--db X`: a folder is a data folder (like the app's); anything else is the SQLite file,
/// with its photos and key in `X-files/`.
fn open_db(db: &Db) -> Result<Store, String> {
    let store = if db.db.is_dir() {
        Store::open(&db.db, &now())
    } else {
        let mut files = db.db.clone().into_os_string();
        files.push("-files");
        Store::open_at(&db.db, Path::new(&files), &now())
    };
    store.map_err(|e| format!("{}: {}", db.db.display(), e))
}

fn build_report(which: &Which) -> Result<(Store, hallmark_report::model::Report), String> {
    let store = open_db(&which.db)?;
    let details: hallmark_report::model::Details = match &which.details {
        Some(p) => toml::from_str(&read(p)?).map_err(|e| format!("{}: {} (fields: site_head, site_phone, site_email, leader)", p.display(), lower(&e.to_string())))?,
        None => Default::default(),
    };
    let group = hallmark_report::model::pick_group(&store, which.site.as_deref(), which.rubric.as_deref()).map_err(|e| e.to_string())?;
    let report = hallmark_report::model::build(&store, &group, &details).map_err(|e| e.to_string())?;
    Ok((store, report))
}

fn find_inspection(store: &Store, id: &str) -> Result<String, String> {
    let ids = store.inspection_ids().map_err(|e| e.to_string())?;
    let hits: Vec<&String> = ids.iter().filter(|i| i.starts_with(id)).collect();
    match hits.as_slice() {
        [one] => Ok(one.to_string()),
        [] => Err(format!("no inspection '{id}' in this database (see `hallmark list --db DB`)")),
        _ => Err(format!("'{id}' matches {} inspections (give more of the id)", hits.len())),
    }
}

/// A progress bar on stderr when it is a terminal; silent otherwise.
fn progress_bar(label: &'static str) -> impl FnMut(u64, u64) {
    use std::io::{IsTerminal, Write};
    let tty = std::io::stderr().is_terminal();
    let mut last = u64::MAX;
    move |done, total| {
        if !tty || total == 0 {
            return;
        }
        let pct = done * 100 / total;
        if pct == last {
            return;
        }
        last = pct;
        let filled = (pct / 4) as usize;
        eprint!("\r{label} [{}{}] {pct:>3}%  {} / {} MB", "#".repeat(filled), " ".repeat(25 - filled), done >> 20, total >> 20);
        if done >= total {
            eprintln!();
        }
        let _ = std::io::stderr().flush();
    }
}

fn run(cli: Cli) -> Result<(), String> {
    match cli.command {
        Command::Export { db, inspection, out } => {
            let store = open_db(&db)?;
            let id = find_inspection(&store, &inspection)?;
            let done = store.export_bundle(&id, &out, &now(), &mut progress_bar("导出")).map_err(|e| e.to_string())?;
            outln!(
                "{}: {} 条事件，{} 张照片，{} 字节；签名者 {}",
                done.path.display(),
                done.events,
                done.photos,
                done.bytes,
                done.fingerprint
            );
            Ok(())
        }
        Command::Import { db, json: as_json, files } => {
            let mut store = open_db(&db)?;
            let mut refused = Vec::new();
            let mut results = Vec::new();
            for f in &files {
                let name = f.display().to_string();
                match store.import_bundle(f, &now(), &mut progress_bar("校验导入")) {
                    Ok(r) => {
                        if !as_json {
                            outln!("{}", r.line(&name));
                        }
                        results.push(serde_json::json!({"file": name, "result": r}));
                    }
                    Err(e) => {
                        eprintln!("error: {e}");
                        results.push(serde_json::json!({"file": name, "error": e.to_string(), "code": e.code()}));
                        refused.push(name);
                    }
                }
            }
            if as_json {
                outln!("{}", json(&results));
            }
            if refused.is_empty() {
                Ok(())
            } else {
                Err(format!("{} of {} bundles refused (nothing of them was imported): {}", refused.len(), files.len(), refused.join(", ")))
            }
        }
        Command::Merge { db, json: as_json } => {
            let store = open_db(&db)?;
            let groups = store.merge().map_err(|e| e.to_string())?;
            if as_json {
                outln!("{}", json(&groups));
            } else {
                let rubric_of = |g: &hallmark_store::merge::MergeGroup| {
                    g.assessors.first().and_then(|a| store.rubric(&a.inspection_id).ok())
                };
                out!("{}", hallmark_store::merge::merge_text(rubric_of, &groups));
            }
            Ok(())
        }
        Command::Roster { command: RosterCommand::Add { db, key, name, file } } => {
            let mut store = open_db(&db)?;
            let mut pairs = Vec::new();
            if let Some(f) = file {
                for (n, line) in read(&f)?.lines().enumerate() {
                    let line = line.trim();
                    if line.is_empty() || line.starts_with('#') {
                        continue;
                    }
                    let (k, v) = line.split_once('\t').ok_or_else(|| {
                        format!("{}:{}: '{line}' is not \"key<TAB>name\" (one assessor per line)", f.display(), n + 1)
                    })?;
                    pairs.push((k.to_string(), v.to_string()));
                }
            } else {
                pairs.push((key.unwrap_or_default(), name.unwrap_or_default()));
            }
            for (k, v) in pairs {
                let fp = store.roster_add(&k, &v, &now()).map_err(|e| e.to_string())?;
                outln!("名册：{v} {fp}");
            }
            Ok(())
        }
        Command::Roster { command: RosterCommand::List { db } } => {
            let store = open_db(&db)?;
            for r in store.roster().map_err(|e| e.to_string())? {
                outln!("{}\t{}\t{}", r.fingerprint, r.name, r.public_key);
            }
            Ok(())
        }
        Command::List { db } => {
            let store = open_db(&db)?;
            for s in store.summaries().map_err(|e| e.to_string())? {
                outln!(
                    "{}  {}  {}  {}  {}  总分 {}{}",
                    s.id,
                    s.rubric_id,
                    s.site_name,
                    s.assessor_name,
                    s.visited_on,
                    s.total,
                    if s.finished { "" } else { "（未完成）" }
                );
            }
            Ok(())
        }
        Command::Report { which, out, text } => {
            let (store, report) = build_report(&which)?;
            let fonts = hallmark_report::pdf::load_fonts().map_err(|e| e.to_string())?;
            let assets = hallmark_report::pdf::Assets::collect(&report, |s| store.thumb_path(s), |s| store.signature_path(s)).map_err(|e| e.to_string())?;
            let pdf = hallmark_report::pdf::render(&report, assets, fonts).map_err(|e| e.to_string())?;
            let sidecar = hallmark_report::seal::seal(&report, &pdf, store.device_key());
            hallmark_report::seal::write(&out, &pdf, &sidecar).map_err(|e| e.to_string())?;
            if text {
                out!("{}", hallmark_report::text::render(&report));
            }
            outln!(
                "{}: 报告编号 {}，{} 页字节 {}；最终得分 {}：{}",
                out.display(),
                report.number,
                "PDF",
                pdf.len(),
                report.final_score.as_deref().unwrap_or("—"),
                report.conclusion
            );
            outln!("{}: 签名者 {}，证据默克尔根 {}", hallmark_report::seal::sidecar_path(&out).display(), report.signer_fingerprint, report.merkle_root);
            Ok(())
        }
        Command::Verify { pdf, bundles, json: as_json } => {
            let v = hallmark_report::seal::verify(&pdf, bundles.as_deref()).map_err(|e| e.to_string())?;
            if as_json {
                outln!("{}", json(&v));
            } else {
                out!("{}", v.text());
            }
            if v.ok {
                Ok(())
            } else {
                Err(format!("{}: verification failed ({} of {} checks)", pdf.display(), v.checks.iter().filter(|c| !c.ok).count(), v.checks.len()))
            }
        }
        Command::Scores { which, out } => {
            let (_, report) = build_report(&which)?;
            let bytes = match out.extension().and_then(|e| e.to_str()) {
                Some("csv") => hallmark_report::table::csv(&report),
                Some("xlsx") => hallmark_report::table::xlsx(&report).map_err(|e| e.to_string())?,
                _ => return Err(format!("{}: name the file .csv or .xlsx", out.display())),
            };
            hallmark_store::durable::write_replacing(&out, &bytes).map_err(|e| format!("{}: cannot write: {e}", out.display()))?;
            outln!("{}: {} 名评价人员 × {} 个评分项", out.display(), report.assessors.len(), report.items.len());
            Ok(())
        }
        Command::Demo { dir } => {
            std::fs::create_dir_all(&dir).map_err(|e| format!("{}: cannot create: {e}", dir.display()))?;
            let bundles = hallmark_store::demo::write_bundles(&dir).map_err(|e| e.to_string())?;
            let mut roster = String::from("# public key\tname — `hallmark roster add --db DB --file THIS`\n");
            for b in &bundles {
                outln!("{}  {} · {}  签名者 {}", b.path.display(), b.site, b.assessor, b.fingerprint);
                roster.push_str(&format!("{}\t{}\n", b.public_key, b.assessor));
            }
            let details = "# 受评单位联系信息与评价组长：`hallmark report --details 本文件`\nsite_head = \"赵立新\"\nsite_phone = \"024-72345678\"\nsite_email = \"tlxyb@example.cn\"\nleader = \"王敏\"\n";
            std::fs::write(dir.join("report-details.toml"), details).map_err(|e| format!("{}: cannot write: {e}", dir.display()))?;
            let roster_file = dir.join("roster.tsv");
            std::fs::write(&roster_file, roster).map_err(|e| format!("{}: cannot write: {e}", roster_file.display()))?;
            outln!("{}  评价人员密钥名册", roster_file.display());
            Ok(())
        }
        Command::Rubric { command: RubricCommand::Check { files } } => {
            let mut failed = Vec::new();
            for f in &files {
                let (name, text) = rubric_source(f)?;
                match Rubric::from_toml(&name, &text) {
                    Ok(checked) => {
                        out!("{}", render::check_report(&name, &checked));
                        if checked.unanswered().next().is_some() {
                            failed.push(name);
                        }
                    }
                    Err(e) => {
                        for line in e.to_string().lines() {
                            eprintln!("error: {line}");
                        }
                        failed.push(name);
                    }
                }
            }
            if failed.is_empty() {
                Ok(())
            } else {
                Err(format!("{} of {} rubric files failed the check: {}", failed.len(), files.len(), failed.join(", ")))
            }
        }
        Command::Rubric { command: RubricCommand::Show { rubric } } => {
            let (name, text) = rubric_source(&rubric)?;
            let checked = Rubric::from_toml(&name, &text).map_err(|e| e.to_string())?;
            out!("{}", render::rubric_tree(&checked.rubric));
            Ok(())
        }
        Command::Score { rubric, json: as_json, file } => {
            let (rubric, obs) = load_observations(&file, rubric.as_deref())?;
            let sheet = score(&rubric, &obs);
            if as_json {
                outln!("{}", json(&sheet));
            } else {
                out!("{}", render::sheet_text(&rubric, &sheet));
            }
            Ok(())
        }
        Command::Aggregate { rubric, json: as_json, files } => {
            let mut sheets: Vec<ScoreSheet> = Vec::new();
            let mut the_rubric: Option<Rubric> = None;
            for f in &files {
                let (r, obs) = load_observations(f, rubric.as_deref())?;
                if let Some(prev) = &the_rubric {
                    if prev.id != r.id || prev.version != r.version {
                        return Err(format!(
                            "{}: is for rubric '{}' v{} but the first file is for '{}' v{} (aggregate one rubric at a time)",
                            f.display(),
                            r.id,
                            r.version,
                            prev.id,
                            prev.version
                        ));
                    }
                }
                sheets.push(score(&r, &obs));
                the_rubric.get_or_insert(r);
            }
            let rubric = the_rubric.expect("clap requires at least one file");
            let panel = aggregate(&rubric, &sheets).map_err(|e| e.to_string())?;
            if as_json {
                outln!("{}", json(&panel));
            } else {
                out!("{}", render::panel_text(&rubric, &panel));
            }
            Ok(())
        }
    }
}
