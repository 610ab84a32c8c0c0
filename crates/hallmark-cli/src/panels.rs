//! The lead's panels (issue #14): `hallmark panel create|add|remove|list --db DB`. Which
//! inspections one report merges is the lead's choice, never a match of typed site names.

use hallmark_store::Access;

use crate::bundles::find_inspection;
use crate::{now, open_db, Db};

/// `hallmark panel create --db DB --site NAME [INSPECTION...]`: prints the panel's id.
pub(crate) fn create(db: &Db, site: &str, author: &str, members: &[String]) -> Result<(), String> {
    let mut store = open_db(db, Access::Existing)?;
    let ids = members.iter().map(|m| find_inspection(&store, m)).collect::<Result<Vec<_>, _>>()?;
    let panel = store.create_panel(site, author, &now()).map_err(|e| e.to_string())?;
    for id in &ids {
        store.panel_add(&panel, id, author, &now()).map_err(|e| e.to_string())?;
    }
    outln!("{panel}");
    Ok(())
}

/// `hallmark panel add --db DB PANEL INSPECTION...`
pub(crate) fn add(db: &Db, panel: &str, author: &str, members: &[String]) -> Result<(), String> {
    let mut store = open_db(db, Access::Existing)?;
    for m in members {
        let id = find_inspection(&store, m)?;
        store.panel_add(panel, &id, author, &now()).map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// `hallmark panel remove --db DB PANEL INSPECTION --reason TEXT`
pub(crate) fn remove(db: &Db, panel: &str, member: &str, reason: &str, author: &str) -> Result<(), String> {
    let mut store = open_db(db, Access::Existing)?;
    let id = find_inspection(&store, member)?;
    store.panel_remove(panel, &id, reason, author, &now()).map_err(|e| e.to_string())
}

/// `hallmark panel list --db DB`: each panel, then its members (in, or out with the reason).
pub(crate) fn list(db: &Db) -> Result<(), String> {
    let store = open_db(db, Access::ReadOnly)?;
    for p in store.panels().map_err(|e| e.to_string())? {
        outln!("{}  {}  （{}，{}）", p.id, p.site, p.author, p.created_at);
        for m in &p.members {
            match m.included {
                true => outln!("  + {}  {}", m.inspection_id, m.assessor),
                false => outln!("  - {}  {}  已排除：{}（{}，{}）", m.inspection_id, m.assessor, m.reason, m.author, m.recorded_at),
            }
        }
    }
    Ok(())
}
