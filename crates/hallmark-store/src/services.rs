//! The observed-service log (Liaoning 服务实操): each logged service adds to the item's counts
//! and tallies in the same transaction as the entry itself.

use std::collections::BTreeMap;

use rusqlite::{params, TransactionBehavior};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::events::{append_event, check_open, check_value};
use crate::inspections::{check_clock, check_length, check_typed_day, MAX_NOTE_CHARS};
use crate::{Event, Result, Store, StoreError};

/// One observed service (Liaoning 服务实操), as the inspector logged it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServiceEntry {
    /// "real" (实际经办) or "simulated" (模拟服务)
    pub kind: String,
    pub observed_at: String,
    #[serde(default)]
    pub note: String,
    /// tally input id → occurrences seen during this service
    #[serde(default)]
    pub occurrences: BTreeMap<String, u64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ServiceRecord {
    pub id: String,
    pub item_id: String,
    #[serde(flatten)]
    pub entry: ServiceEntry,
    pub recorded_at: String,
    /// The count/tally events this entry appended (empty when listed).
    pub events: Vec<Event>,
}

impl Store {
    /// Logs one observed service and adds it to the item's counts and tallies, all in one
    /// transaction: the entry and its effect are stored together or not at all.
    pub fn record_service(&mut self, id: &str, item_id: &str, entry: &ServiceEntry, author: &str, now: &str) -> Result<ServiceRecord> {
        let today = check_clock(now)?;
        check_typed_day("service time", &entry.observed_at, today, "enter when the service was observed")?;
        check_length("service note", entry.note.trim(), MAX_NOTE_CHARS)?;
        let insp = self.inspection(id)?;
        self.check_local(&insp)?;
        check_open(&insp, None)?;
        let rubric = self.pinned(&insp)?;
        let item = rubric
            .item
            .iter()
            .find(|i| i.id == item_id)
            .ok_or_else(|| StoreError::Invalid(format!("item '{item_id}' is not in rubric '{}'", rubric.id)))?;
        let log = item.service_log.as_ref().ok_or_else(|| StoreError::Invalid(format!("item '{item_id}' does not log observed services")))?;
        let count_key = match entry.kind.as_str() {
            "real" => &log.real,
            "simulated" => &log.simulated,
            other => return Err(StoreError::Invalid(format!("service kind '{other}' is unknown (real 实际 or simulated 模拟)"))),
        };
        for k in entry.occurrences.keys() {
            if !log.categories.contains(k) {
                return Err(StoreError::Invalid(format!("'{k}' is not a category of item '{item_id}' (categories: {})", log.categories.join(", "))));
            }
        }
        let mut increments: Vec<(&str, u64)> = vec![(count_key.as_str(), 1)];
        increments.extend(entry.occurrences.iter().filter(|(_, n)| **n > 0).map(|(k, n)| (k.as_str(), *n)));
        let current = self.answers(id)?;
        let mut new_values = Vec::new();
        for (key, n) in increments {
            let old = current.get(key).and_then(Value::as_u64).unwrap_or(0);
            let value = serde_json::json!(old + n);
            check_value(&rubric, key, Some(&value))?;
            new_values.push((key.to_string(), value));
        }
        let entry_id = uuid::Uuid::now_v7().to_string();
        let device = self.device_id.clone();
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute(
            "INSERT INTO service_entries (id, inspection_id, item_id, kind, observed_at, note, occurrences, author, device_id, recorded_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            params![
                entry_id,
                id,
                item_id,
                entry.kind,
                entry.observed_at,
                entry.note.trim(),
                serde_json::to_string(&entry.occurrences).expect("map serializes"),
                author,
                device,
                now
            ],
        )?;
        let mut events = Vec::new();
        for (key, value) in new_values {
            events.push(append_event(&tx, id, &device, &key, Some(value), author, now, None)?);
        }
        tx.commit()?;
        Ok(ServiceRecord { id: entry_id, item_id: item_id.into(), entry: entry.clone(), recorded_at: now.into(), events })
    }

    pub fn service_entries(&self, id: &str) -> Result<Vec<ServiceRecord>> {
        let mut st = self.conn.prepare(
            "SELECT id, item_id, kind, observed_at, note, occurrences, recorded_at FROM service_entries
             WHERE inspection_id = ?1 ORDER BY recorded_at, id",
        )?;
        let rows = st.query_map([id], |r| {
            let occ: String = r.get(5)?;
            Ok(ServiceRecord {
                id: r.get(0)?,
                item_id: r.get(1)?,
                entry: ServiceEntry { kind: r.get(2)?, observed_at: r.get(3)?, note: r.get(4)?, occurrences: crate::stored_json_at(5, &occ)? },
                recorded_at: r.get(6)?,
                events: Vec::new(),
            })
        })?;
        Ok(rows.collect::<std::result::Result<Vec<_>, _>>()?)
    }
}
