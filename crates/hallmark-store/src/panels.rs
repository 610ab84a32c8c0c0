//! The lead's panels (issue #14): which inspections are merged into one report is the lead's
//! explicit choice, never a match of typed site names. A panel names its site (as the report
//! prints it); its members come and go by append-only membership events (`panel_members`),
//! an exclusion with its reason, which the report prints. All members share one pinned rubric.
//!
//! A database with no panels merges as before, by site name and rubric, except that an
//! inspection recorded here is never merged with imported ones ([`crate::merge`]).

use rusqlite::{params, TransactionBehavior};
use serde::Serialize;

use crate::inspections::{check_clock, check_length, MAX_NOTE_CHARS, MAX_SITE_NAME_CHARS};
use crate::{Result, Store, StoreError};

/// A panel with its members as they stand now.
#[derive(Debug, Clone, Serialize)]
pub struct Panel {
    pub id: String,
    pub site: String,
    pub author: String,
    pub created_at: String,
    /// Every inspection ever added, in the order first added; `included` is its current state.
    pub members: Vec<PanelMember>,
}

impl Panel {
    /// The inspections in the panel now, in the order first added.
    pub fn included(&self) -> impl Iterator<Item = &PanelMember> {
        self.members.iter().filter(|m| m.included)
    }

    /// The members taken out, each with its reason.
    pub fn excluded(&self) -> impl Iterator<Item = &PanelMember> {
        self.members.iter().filter(|m| !m.included)
    }
}

/// One inspection's place in a panel: its latest membership event.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PanelMember {
    pub inspection_id: String,
    pub assessor: String,
    pub included: bool,
    /// Why it was taken out (empty while included).
    pub reason: String,
    /// Who recorded the latest change, and when.
    pub author: String,
    pub recorded_at: String,
}

/// One membership event, as kept (the log behind [`PanelMember`]).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MembershipEvent {
    pub inspection_id: String,
    pub included: bool,
    pub reason: String,
    pub author: String,
    pub recorded_at: String,
}

impl Store {
    /// Makes an empty panel for `site` (the name the report prints). Returns its id.
    pub fn create_panel(&mut self, site: &str, author: &str, now: &str) -> Result<String> {
        check_clock(now)?;
        let site = site.trim();
        if site.is_empty() {
            return Err(StoreError::Invalid("a panel needs the site's name (as the report prints it)".into()));
        }
        check_length("site name", site, MAX_SITE_NAME_CHARS)?;
        let id = uuid::Uuid::now_v7().to_string();
        self.conn.execute("INSERT INTO panels (id, site, author, created_at) VALUES (?1, ?2, ?3, ?4)", params![id, site, author, now])?;
        Ok(id)
    }

    /// Adds an inspection to a panel (again, if it was taken out). Every member of a panel
    /// uses the same pinned rubric; an inspection is in one panel at a time.
    pub fn panel_add(&mut self, panel_id: &str, inspection_id: &str, author: &str, now: &str) -> Result<()> {
        check_clock(now)?;
        let panel = self.panel(panel_id)?;
        let insp = self.inspection(inspection_id)?;
        if panel.included().any(|m| m.inspection_id == insp.id) {
            return Ok(());
        }
        if let Some(other) = panel.members.first().filter(|m| m.inspection_id != insp.id) {
            let first = self.inspection(&other.inspection_id)?;
            if first.rubric_hash != insp.rubric_hash {
                return Err(StoreError::Invalid(format!(
                    "inspection '{}' ({} · {}) uses rubric '{}' v{}, the panel's members use '{}' v{} (a panel aggregates one rubric: make another panel)",
                    insp.id, insp.site_name, insp.assessor_name, insp.rubric_id, insp.rubric_version, first.rubric_id, first.rubric_version
                )));
            }
        }
        for other in self.panels()? {
            if other.id != panel.id && other.included().any(|m| m.inspection_id == insp.id) {
                return Err(StoreError::Invalid(format!(
                    "inspection '{}' ({} · {}) is already in the panel of '{}' ({}): remove it there first",
                    insp.id, insp.site_name, insp.assessor_name, other.site, other.id
                )));
            }
        }
        self.membership_event(&panel.id, &insp.id, true, "", author, now)
    }

    /// Takes an inspection out of a panel, with the reason the report prints.
    pub fn panel_remove(&mut self, panel_id: &str, inspection_id: &str, reason: &str, author: &str, now: &str) -> Result<()> {
        check_clock(now)?;
        let reason = reason.trim();
        if reason.is_empty() {
            return Err(StoreError::Invalid("taking an inspection out of a panel needs a reason (the report prints it)".into()));
        }
        check_length("reason", reason, MAX_NOTE_CHARS)?;
        let panel = self.panel(panel_id)?;
        if !panel.included().any(|m| m.inspection_id == inspection_id) {
            return Err(StoreError::Invalid(format!(
                "inspection '{inspection_id}' is not in the panel of '{}' (`hallmark panel list` shows its members)",
                panel.site
            )));
        }
        self.membership_event(&panel.id, inspection_id, false, reason, author, now)
    }

    fn membership_event(&mut self, panel_id: &str, inspection_id: &str, included: bool, reason: &str, author: &str, now: &str) -> Result<()> {
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute(
            "INSERT INTO panel_members (panel_id, inspection_id, included, reason, author, recorded_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![panel_id, inspection_id, included, reason, author, now],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Every panel, oldest first, with its members as they stand.
    pub fn panels(&self) -> Result<Vec<Panel>> {
        let mut st = self.conn.prepare("SELECT id FROM panels ORDER BY created_at, id")?;
        let ids = st.query_map([], |r| r.get::<_, String>(0))?.collect::<std::result::Result<Vec<_>, _>>()?;
        ids.iter().map(|id| self.panel(id)).collect()
    }

    /// One panel by id (or a unique prefix of it).
    pub fn panel(&self, id: &str) -> Result<Panel> {
        let found: Vec<(String, String, String, String)> = {
            let mut st = self.conn.prepare("SELECT id, site, author, created_at FROM panels WHERE id = ?1 OR id LIKE ?2 || '%' ORDER BY id")?;
            let rows = st.query_map(params![id, id.replace(['%', '_'], "")], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?;
            rows.collect::<std::result::Result<_, _>>()?
        };
        let exact = found.iter().find(|p| p.0 == id);
        let (pid, site, author, created_at) = match (exact, found.len()) {
            (Some(p), _) => p.clone(),
            (None, 1) if !id.is_empty() => found[0].clone(),
            (None, 0) | (None, 1) => {
                return Err(StoreError::NotFound(format!("panel {id}")));
            }
            (None, n) => return Err(StoreError::Invalid(format!("panel id '{id}' is the start of {n} panels: give more of it"))),
        };
        let mut members: Vec<PanelMember> = Vec::new();
        for e in self.panel_events(&pid)? {
            let assessor = self.inspection(&e.inspection_id).map(|i| i.assessor_name).unwrap_or_default();
            let member = PanelMember {
                inspection_id: e.inspection_id.clone(),
                assessor,
                included: e.included,
                reason: if e.included { String::new() } else { e.reason },
                author: e.author,
                recorded_at: e.recorded_at,
            };
            match members.iter_mut().find(|m| m.inspection_id == e.inspection_id) {
                Some(m) => *m = member,
                None => members.push(member),
            }
        }
        Ok(Panel { id: pid, site, author, created_at, members })
    }

    /// A panel's membership log, in the order recorded.
    pub fn panel_events(&self, panel_id: &str) -> Result<Vec<MembershipEvent>> {
        let mut st =
            self.conn.prepare("SELECT inspection_id, included, reason, author, recorded_at FROM panel_members WHERE panel_id = ?1 ORDER BY seq")?;
        let rows = st.query_map([panel_id], |r| {
            Ok(MembershipEvent { inspection_id: r.get(0)?, included: r.get(1)?, reason: r.get(2)?, author: r.get(3)?, recorded_at: r.get(4)? })
        })?;
        Ok(rows.collect::<std::result::Result<_, _>>()?)
    }
}
