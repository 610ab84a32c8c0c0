//! `hallmark`: the command line over hallmark-core (and, later, the store).
//!
//! This crate does the IO: it reads files, resolves rubric ids, prints, and maps errors to
//! exit codes. Every rule about scores lives in hallmark-core.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use hallmark_core::aggregate::aggregate;
use hallmark_core::observation::{self, Observations};
use hallmark_core::render;
use hallmark_core::rubric::Rubric;
use hallmark_core::score::{score, ScoreSheet};

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

fn run(cli: Cli) -> Result<(), String> {
    match cli.command {
        Command::Rubric { command: RubricCommand::Check { files } } => {
            let mut failed = Vec::new();
            for f in &files {
                let (name, text) = rubric_source(f)?;
                match Rubric::from_toml(&name, &text) {
                    Ok(checked) => {
                        print!("{}", render::check_report(&name, &checked));
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
            print!("{}", render::rubric_tree(&checked.rubric));
            Ok(())
        }
        Command::Score { rubric, json: as_json, file } => {
            let (rubric, obs) = load_observations(&file, rubric.as_deref())?;
            let sheet = score(&rubric, &obs);
            if as_json {
                println!("{}", json(&sheet));
            } else {
                print!("{}", render::sheet_text(&rubric, &sheet));
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
                println!("{}", json(&panel));
            } else {
                print!("{}", render::panel_text(&rubric, &panel));
            }
            Ok(())
        }
    }
}
