//! The lead's database: `merge`, `roster add`, `roster list`, `list`.

use std::path::Path;

use hallmark_store::Access;

use crate::{json, now, open_db, read, Db};

/// `hallmark merge --db DB [--json]`
pub(crate) fn merge(db: &Db, as_json: bool) -> Result<(), String> {
    let store = open_db(db, Access::ReadOnly)?;
    let groups = store.merge().map_err(|e| e.to_string())?;
    if as_json {
        outln!("{}", json(&groups));
    } else {
        let rubric_of = |g: &hallmark_store::merge::MergeGroup| g.assessors.first().and_then(|a| store.rubric(&a.inspection_id).ok());
        out!("{}", hallmark_store::merge::merge_text(rubric_of, &groups));
        // The lead's review (issue #13): every reviewed sheet and item of each panel.
        for g in &groups {
            let ids: Vec<String> = g.assessors.iter().map(|a| a.inspection_id.clone()).collect();
            let reviews = store.reviews(&ids).map_err(|e| e.to_string())?;
            if !reviews.is_empty() {
                outln!("复核（{}）：", g.site);
                for r in &reviews {
                    outln!("  {}", r.text());
                }
            }
        }
    }
    Ok(())
}

/// `hallmark roster add --db DB KEY NAME` or `--file ROSTER` of "key<TAB>name" lines.
pub(crate) fn roster_add(db: &Db, key: Option<String>, name: Option<String>, file: Option<&Path>) -> Result<(), String> {
    let mut store = open_db(db, Access::Create)?;
    let pairs = match file {
        Some(f) => hallmark_store::roster::parse_roster(&f.display().to_string(), &read(f)?).map_err(|e| e.to_string())?,
        None => vec![(key.unwrap_or_default(), name.unwrap_or_default())],
    };
    for (k, v) in pairs {
        let fp = store.roster_add(&k, &v, &now()).map_err(|e| e.to_string())?;
        outln!("名册：{v} {fp}");
    }
    Ok(())
}

/// `hallmark roster list --db DB`
pub(crate) fn roster_list(db: &Db) -> Result<(), String> {
    let store = open_db(db, Access::ReadOnly)?;
    for r in store.roster().map_err(|e| e.to_string())? {
        outln!("{}\t{}\t{}", r.fingerprint, r.name, r.public_key);
    }
    Ok(())
}

/// `hallmark list --db DB`
pub(crate) fn list(db: &Db) -> Result<(), String> {
    let store = open_db(db, Access::ReadOnly)?;
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
