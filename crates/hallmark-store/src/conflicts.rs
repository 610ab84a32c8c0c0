//! Conflicts: keys whose edits diverged between two bundles of one inspection (neither bundle
//! holds all the other's events), with what each side said. Shown next to the merge view.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use serde_json::Value;

use crate::{Event, Result, Store};

impl Store {
    /// Keys whose edits diverged between two bundles of one inspection, with what each side
    /// said. Two bundles diverge when neither holds all the other's events (a normal later
    /// export holds everything the earlier one did).
    pub fn conflicts(&self, inspection_id: &str) -> Result<Vec<Conflict>> {
        let bundles = self.bundles(inspection_id)?;
        if bundles.len() < 2 {
            return Ok(Vec::new());
        }
        let events: BTreeMap<String, Event> = self.events(inspection_id)?.into_iter().map(|e| (e.id.clone(), e)).collect();
        let mut sets: Vec<BTreeSet<String>> = Vec::new();
        let mut st = self.conn.prepare("SELECT event_id FROM bundle_events WHERE bundle_id = ?1")?;
        for b in &bundles {
            sets.push(st.query_map([&b.id], |r| r.get(0))?.collect::<std::result::Result<BTreeSet<String>, _>>()?);
        }
        let answers = self.answers_with_events(inspection_id)?;
        let mut out: BTreeMap<String, Conflict> = BTreeMap::new();
        for i in 0..bundles.len() {
            for j in i + 1..bundles.len() {
                if sets[i].is_subset(&sets[j]) || sets[j].is_subset(&sets[i]) {
                    continue;
                }
                let side = |own: &BTreeSet<String>, other: &BTreeSet<String>| -> BTreeMap<String, &Event> {
                    let mut last: BTreeMap<String, &Event> = BTreeMap::new();
                    let mut mine: Vec<&Event> = own.difference(other).filter_map(|id| events.get(id)).collect();
                    crate::sort_events(&mut mine);
                    for e in mine {
                        last.insert(e.key.clone(), e);
                    }
                    last
                };
                let a = side(&sets[i], &sets[j]);
                let b = side(&sets[j], &sets[i]);
                for (key, ea) in &a {
                    let Some(eb) = b.get(key) else { continue };
                    if ea.value == eb.value {
                        continue;
                    }
                    let c = out.entry(key.clone()).or_insert_with(|| Conflict {
                        key: key.clone(),
                        current: answers.get(key).map(|(v, _)| v.clone()),
                        current_event: answers.get(key).map(|(_, id)| id.clone()),
                        sides: Vec::new(),
                    });
                    for (bundle, e) in [(&bundles[i], ea), (&bundles[j], eb)] {
                        if !c.sides.iter().any(|s| s.event_id == e.id) {
                            c.sides.push(ConflictSide {
                                bundle_file: bundle.file_name.clone(),
                                bundle_created_at: bundle.created_at.clone(),
                                value: e.value.clone(),
                                recorded_at: e.recorded_at.clone(),
                                event_id: e.id.clone(),
                            });
                        }
                    }
                }
            }
        }
        Ok(out.into_values().collect())
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Conflict {
    pub key: String,
    /// The value in force, by the event order (docs/bundles.md).
    pub current: Option<Value>,
    pub current_event: Option<String>,
    pub sides: Vec<ConflictSide>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ConflictSide {
    pub bundle_file: String,
    pub bundle_created_at: String,
    pub value: Option<Value>,
    pub recorded_at: String,
    pub event_id: String,
}
