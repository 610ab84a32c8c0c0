//! Rubric files and one assessor's or one panel's observation files: `rubric check`,
//! `rubric show`, `score`, `aggregate`.

use std::path::{Path, PathBuf};

use hallmark_core::observation::{self, Observations};
use hallmark_core::render;
use hallmark_core::rubric::{self, Rubric};
use hallmark_core::score::ScoreSheet;

use crate::{json, read_at_most};

/// A rubric argument is a path to a file, or an id found in $HALLMARK_RUBRICS, ./rubrics or
/// the copies compiled into this binary.
fn rubric_source(arg: &str) -> Result<(String, String), String> {
    let path = Path::new(arg);
    if path.is_file() {
        return Ok((arg.to_string(), read_at_most(path, rubric::MAX_FILE_BYTES, rubric::too_big)?));
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
            return Ok((p.display().to_string(), read_at_most(&p, rubric::MAX_FILE_BYTES, rubric::too_big)?));
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
    let text = read_at_most(path, observation::MAX_FILE_BYTES, observation::too_big)?;
    let name = path.display().to_string();
    // A file that is not JSON says so, rather than that it names no rubric.
    let doc = hallmark_core::json::parse_strict(&text).map_err(|e| format!("{name}: {e}"));
    let rubric_id = match rubric_arg {
        Some(r) => r.to_string(),
        None => doc
            .clone()?
            .get("rubric")
            .and_then(|r| r.as_str())
            .map(str::to_string)
            .ok_or_else(|| format!("{name}: no \"rubric\" in the file (pass --rubric ID or add \"rubric\": \"jiangsu-15min\")"))?,
    };
    let mut rubric = load_rubric(&rubric_id)?;
    // A file recorded against an earlier version hallmark shipped is scored by that version,
    // unless a rubric file was named.
    let version = doc.ok().and_then(|d| d.get("rubric_version").and_then(|v| v.as_str()).map(str::to_string));
    let named_a_file = rubric_arg.is_some_and(|r| Path::new(r).is_file());
    if let Some(shipped) = version.filter(|v| *v != rubric.version && !named_a_file).and_then(|v| hallmark_core::builtin::find(&rubric.id, &v)) {
        rubric = Rubric::load(&format!("(built-in) {}", shipped.file), shipped.text).map_err(|e| e.to_string())?;
    }
    let obs = observation::parse(&name, &text, &rubric).map_err(|e| e.to_string())?;
    Ok((rubric, obs))
}

/// `hallmark rubric check FILE...`
pub(crate) fn check(files: &[String]) -> Result<(), String> {
    let mut failed = Vec::new();
    for f in files {
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

/// `hallmark rubric show RUBRIC`
pub(crate) fn show(rubric: &str) -> Result<(), String> {
    let (name, text) = rubric_source(rubric)?;
    let checked = Rubric::from_toml(&name, &text).map_err(|e| e.to_string())?;
    out!("{}", render::rubric_tree(&checked.rubric));
    Ok(())
}

/// `hallmark score [--rubric R] [--json] FILE`
pub(crate) fn score(file: &Path, rubric: Option<&str>, as_json: bool) -> Result<(), String> {
    let (rubric, obs) = load_observations(file, rubric)?;
    let sheet = hallmark_core::score::score(&rubric, &obs);
    if as_json {
        outln!("{}", json(&sheet));
    } else {
        out!("{}", render::sheet_text(&rubric, &sheet));
    }
    Ok(())
}

/// `hallmark aggregate [--rubric R] [--json] FILE...`
pub(crate) fn aggregate(files: &[PathBuf], rubric: Option<&str>, as_json: bool) -> Result<(), String> {
    let mut sheets: Vec<ScoreSheet> = Vec::new();
    let mut the_rubric: Option<Rubric> = None;
    let mut visited: Vec<String> = Vec::new();
    for f in files {
        let (r, obs) = load_observations(f, rubric)?;
        visited.extend(obs.visited_on.clone());
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
        sheets.push(hallmark_core::score::score(&r, &obs));
        the_rubric.get_or_insert(r);
    }
    let rubric = the_rubric.expect("clap requires at least one file");
    let mut panel = hallmark_core::aggregate::aggregate(&rubric, &sheets).map_err(|e| e.to_string())?;
    let days: Vec<&str> = visited.iter().map(String::as_str).collect();
    hallmark_core::aggregate::warn_visit_spread(&mut panel, &rubric, &days, hallmark_core::calendar::WorkCalendar::shared());
    if as_json {
        outln!("{}", json(&panel));
    } else {
        out!("{}", render::panel_text(&rubric, &panel));
    }
    Ok(())
}
