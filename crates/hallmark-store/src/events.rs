//! The event log: every answer change is an event (who, when, old, new); the answers table is
//! a cache equal to [`derive_answers`] of the log. Events are appended, never updated or
//! deleted (SQLite triggers refuse it), and follow one total order on every device.

use std::collections::BTreeMap;

use hallmark_core::observation;
use hallmark_core::rubric::Rubric;
use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::inspections::Inspection;
use crate::{Result, Store, StoreError};

/// One change to one answer, as the store keeps it (the bundle's `EventV1` is its wire form).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Event {
    pub id: String,
    pub key: String,
    pub value: Option<Value>,
    pub previous: Option<Value>,
    pub author: String,
    pub device_id: String,
    pub recorded_at: String,
    pub amendment: Option<String>,
}

/// The current answers, derived from the log: the last event per key wins, in the event order
/// of [`sort_events`]; a NULL value clears the key. Pure, so it can be tested against the
/// stored cache.
pub fn derive_answers(events: &[Event]) -> BTreeMap<String, Value> {
    let mut ordered: Vec<&Event> = events.iter().collect();
    sort_events(&mut ordered);
    let mut answers = BTreeMap::new();
    for e in ordered {
        match &e.value {
            Some(v) => {
                answers.insert(e.key.clone(), v.clone());
            }
            None => {
                answers.remove(&e.key);
            }
        }
    }
    answers
}

/// The total order of events, the same on every device (docs/bundles.md): by recorded time,
/// then device id, then event id (uuid v7, time-ordered). A device never records an event
/// earlier than its last one for the inspection (see `append_event`), so its own edits keep
/// their order even if its clock steps back.
pub fn sort_events(events: &mut [&Event]) {
    events.sort_by(|a, b| {
        time_key(&a.recorded_at).cmp(&time_key(&b.recorded_at)).then_with(|| a.device_id.cmp(&b.device_id)).then_with(|| a.id.cmp(&b.id))
    });
}

/// An RFC 3339 UTC time ("2026-11-23T09:30:00.123Z"; fraction optional) as a sortable key.
pub fn time_key(t: &str) -> String {
    match t.strip_suffix('Z').map(|b| b.split_once('.').unwrap_or((b, ""))) {
        Some((whole, frac)) => format!("{whole}.{frac:0<9}"),
        None => t.to_string(),
    }
}

impl Store {
    /// Records one answer (or clears it with `None`). The value is checked against the pinned
    /// rubric first: a refused value writes nothing. Durable when this returns.
    pub fn record(&mut self, id: &str, key: &str, value: Option<Value>, author: &str, now: &str) -> Result<Event> {
        self.append(id, key, value, author, now, None)
    }

    /// A change after the inspection was finished: kept in the log with its reason.
    pub fn amend(&mut self, id: &str, key: &str, value: Option<Value>, author: &str, now: &str, reason: &str) -> Result<Event> {
        if reason.trim().is_empty() {
            return Err(StoreError::Invalid("an amendment needs a reason (say why the finished record changes)".into()));
        }
        crate::inspections::check_length("amendment reason", reason.trim(), crate::inspections::MAX_NOTE_CHARS)?;
        if reason.trim().starts_with(crate::reviews::KEEP) {
            return Err(StoreError::Invalid(format!(
                "an amendment's reason may not start with '{}': that marks an answer kept unchanged (say why it changes)",
                crate::reviews::KEEP
            )));
        }
        self.append(id, key, value, author, now, Some(reason.trim()))
    }

    fn append(&mut self, id: &str, key: &str, value: Option<Value>, author: &str, now: &str, amendment: Option<&str>) -> Result<Event> {
        crate::inspections::check_clock(now)?;
        let insp = self.inspection(id)?;
        self.check_local(&insp)?;
        check_open(&insp, amendment)?;
        let rubric = self.pinned(&insp)?;
        let value = match value {
            Some(Value::Null) | None => None,
            Some(v) => Some(v),
        };
        check_value(&rubric, key, value.as_ref())?;
        let device = self.device_id.clone();
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let event = append_event(&tx, id, &device, key, value, author, now, amendment)?;
        tx.commit()?;
        Ok(event)
    }

    /// The inspection's events in the event order ([`sort_events`]).
    pub fn events(&self, id: &str) -> Result<Vec<Event>> {
        events_in(&self.conn, id)
    }

    /// The current answers as cached (see [`derive_answers`] for the truth).
    pub fn answers(&self, id: &str) -> Result<BTreeMap<String, Value>> {
        let mut st = self.conn.prepare("SELECT key, value FROM answers WHERE inspection_id = ?1")?;
        let rows = st.query_map([id], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
        let mut out = BTreeMap::new();
        for row in rows {
            let (k, v) = row?;
            out.insert(k, crate::stored_json(&v)?);
        }
        Ok(out)
    }

    /// Rebuilds the answers cache of one inspection from its event log.
    pub fn rebuild_answers(&mut self, id: &str) -> Result<()> {
        let tx = self.conn.transaction()?;
        rebuild_answers_in(&tx, id)?;
        tx.commit()?;
        Ok(())
    }

    /// The current answers with the event that set each.
    pub fn answers_with_events(&self, id: &str) -> Result<BTreeMap<String, (Value, String)>> {
        let mut st = self.conn.prepare("SELECT key, value, event_id FROM answers WHERE inspection_id = ?1")?;
        let rows = st.query_map([id], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?)))?;
        let mut out = BTreeMap::new();
        for row in rows {
            let (k, v, e) = row?;
            out.insert(k, (crate::stored_json(&v)?, e));
        }
        Ok(out)
    }
}

pub(crate) fn check_open(insp: &Inspection, amendment: Option<&str>) -> Result<()> {
    match (&insp.finished_at, amendment) {
        (Some(_), None) => Err(StoreError::Finished(insp.id.clone())),
        (None, Some(_)) => Err(StoreError::Invalid("the inspection is still a draft: change the answer directly".into())),
        _ => Ok(()),
    }
}

/// Appends one event and updates the answers cache, inside the caller's transaction.
#[allow(clippy::too_many_arguments)]
pub(crate) fn append_event(
    tx: &rusqlite::Transaction<'_>,
    id: &str,
    device: &str,
    key: &str,
    value: Option<Value>,
    author: &str,
    now: &str,
    amendment: Option<&str>,
) -> Result<Event> {
    let previous: Option<String> =
        tx.query_row("SELECT value FROM answers WHERE inspection_id = ?1 AND key = ?2", params![id, key], |r| r.get(0)).optional()?;
    // Never earlier than this inspection's last event: a clock that steps back must not
    // reorder the device's own edits (the event order is by time first).
    let last: Option<String> = tx.query_row("SELECT max(recorded_at) FROM events WHERE inspection_id = ?1", [id], |r| r.get(0))?;
    let now = match last {
        Some(l) if time_key(&l) > time_key(now) => l,
        _ => now.to_string(),
    };
    let now = now.as_str();
    let event = Event {
        id: uuid::Uuid::now_v7().to_string(),
        key: key.to_string(),
        value,
        previous: previous.as_deref().map(crate::stored_json).transpose()?,
        author: author.to_string(),
        device_id: device.to_string(),
        recorded_at: now.to_string(),
        amendment: amendment.map(str::to_string),
    };
    let value_text = event.value.as_ref().map(|v| v.to_string());
    tx.execute(
        "INSERT INTO events (id, inspection_id, key, value, previous, author, device_id, recorded_at, amendment)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        params![event.id, id, key, value_text, previous, event.author, event.device_id, now, event.amendment],
    )?;
    match &value_text {
        Some(v) => tx.execute(
            "INSERT INTO answers (inspection_id, key, value, event_id) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (inspection_id, key) DO UPDATE SET value = excluded.value, event_id = excluded.event_id",
            params![id, key, v, event.id],
        )?,
        None => tx.execute("DELETE FROM answers WHERE inspection_id = ?1 AND key = ?2", params![id, key])?,
    };
    Ok(event)
}

pub(crate) fn events_in(conn: &Connection, id: &str) -> Result<Vec<Event>> {
    let mut st = conn.prepare(
        "SELECT id, key, value, previous, author, device_id, recorded_at, amendment FROM events
         WHERE inspection_id = ?1 ORDER BY seq",
    )?;
    let rows = st.query_map([id], |r| {
        let parse =
            |col: usize| -> rusqlite::Result<Option<Value>> { r.get::<_, Option<String>>(col)?.map(|s| crate::stored_json_at(col, &s)).transpose() };
        Ok(Event {
            id: r.get(0)?,
            key: r.get(1)?,
            value: parse(2)?,
            previous: parse(3)?,
            author: r.get(4)?,
            device_id: r.get(5)?,
            recorded_at: r.get(6)?,
            amendment: r.get(7)?,
        })
    })?;
    let events = rows.collect::<std::result::Result<Vec<_>, _>>()?;
    let mut order: Vec<&Event> = events.iter().collect();
    sort_events(&mut order);
    Ok(order.into_iter().cloned().collect())
}

/// Rebuilds the answers cache of one inspection, inside the caller's transaction.
pub(crate) fn rebuild_answers_in(conn: &Connection, id: &str) -> Result<()> {
    let events = events_in(conn, id)?;
    let mut last_event: BTreeMap<&str, &str> = BTreeMap::new();
    for e in &events {
        last_event.insert(&e.key, &e.id);
    }
    let answers = derive_answers(&events);
    conn.execute("DELETE FROM answers WHERE inspection_id = ?1", [id])?;
    for (k, v) in &answers {
        conn.execute(
            "INSERT INTO answers (inspection_id, key, value, event_id) VALUES (?1, ?2, ?3, ?4)",
            params![id, k, v.to_string(), last_event[k.as_str()]],
        )?;
    }
    Ok(())
}

/// Checks a value for `key` (an input id, or `veto:<id>`) against the rubric.
pub fn check_value(rubric: &Rubric, key: &str, value: Option<&Value>) -> Result<()> {
    if let Some(veto) = key.strip_prefix("veto:") {
        if !rubric.veto.iter().any(|v| v.id == veto) {
            return Err(StoreError::Invalid(format!("unknown veto '{veto}' in rubric '{}'", rubric.id)));
        }
        return match value {
            None | Some(Value::Bool(_)) => Ok(()),
            Some(v) => Err(StoreError::Invalid(format!("veto '{veto}': {v} is not true/false"))),
        };
    }
    let (_, input) = rubric.input(key).ok_or_else(|| StoreError::Invalid(format!("unknown input '{key}' in rubric '{}'", rubric.id)))?;
    if let Some(v) = value {
        observation::parse_answer(input, v).map_err(|m| {
            StoreError::Reading(Box::new(crate::RefusedReading {
                message: format!("{}（{key}）: {m}", input.label),
                input: key.to_string(),
                label: input.label.clone(),
                value: v.clone(),
                min: input.min.as_ref().map(|n| n.to_string()),
                max: input.max.as_ref().map(|n| n.to_string()),
                unit: input.unit.clone(),
            }))
        })?;
    }
    Ok(())
}
