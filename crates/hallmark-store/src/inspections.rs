//! Inspections: created with a pinned rubric (validated, hashed, kept whole), listed with their
//! computed scores, finished (locked). The score sheet is always computed from the answers.

use std::collections::BTreeMap;

use hallmark_core::date::{tablet_day, DateProblem};
use hallmark_core::observation::{self, Observations};
use hallmark_core::rubric::Rubric;
use hallmark_core::score::{score, ScoreSheet};
use rusqlite::{params, OptionalExtension};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::{Result, Store, StoreError};

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct NewInspection {
    /// The rubric file's text; it is validated and pinned.
    pub rubric_text: String,
    pub site_name: String,
    #[serde(default)]
    pub site_address: String,
    /// province | city | county | township (or 省/市/县/乡镇)
    pub site_level: String,
    /// YYYY-MM-DD
    pub visited_on: String,
    pub assessor_name: String,
    #[serde(default)]
    pub assessor_unit: String,
    #[serde(default)]
    pub assessor_title: String,
    #[serde(default)]
    pub assessor_phone: String,
    /// The evaluation assignment it is started from (issue #11), and its registry hall.
    #[serde(default)]
    pub assignment_id: Option<String>,
    #[serde(default)]
    pub hall_id: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Inspection {
    pub id: String,
    pub rubric_id: String,
    pub rubric_version: String,
    pub rubric_hash: String,
    pub site_name: String,
    pub site_address: String,
    pub site_level: String,
    pub visited_on: String,
    pub assessor_name: String,
    pub assessor_unit: String,
    pub assessor_title: String,
    pub assessor_phone: String,
    pub device_id: String,
    pub created_at: String,
    pub finished_at: Option<String>,
    #[serde(skip)]
    pub rubric_content: String,
    /// The evaluation assignment it belongs to (issue #11), and its registry hall. Left out of
    /// the JSON when there is none (the app's views do not show it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub assignment_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hall_id: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct InspectionSummary {
    pub id: String,
    pub rubric_id: String,
    pub rubric_title: String,
    pub site_name: String,
    pub visited_on: String,
    pub assessor_name: String,
    pub finished: bool,
    pub total: String,
    pub complete: bool,
    pub answered_items: usize,
    pub total_items: usize,
    pub last_change: String,
    /// "local" (recorded on this device) or "imported" (from another tablet's bundle).
    pub origin: &'static str,
    /// "draft", "finished", "amended" (finished, then changed with a reason) or "imported"
    /// (read-only here).
    pub state: &'static str,
}

impl Store {
    pub fn create_inspection(&mut self, new: &NewInspection, now: &str) -> Result<String> {
        let today = check_clock(now)?;
        let rubric = Rubric::load("rubric", &new.rubric_text).map_err(|e| StoreError::Rubric(format!("the rubric does not load: {e}")))?;
        let level = observation::canonical_level(&new.site_level)
            .ok_or_else(|| StoreError::Invalid(format!("site level '{}' is unknown (choose 省, 市, 县 or 乡镇)", new.site_level)))?;
        if new.site_name.trim().is_empty() {
            return Err(StoreError::Invalid("site name is empty (enter the hall's name)".into()));
        }
        if new.assessor_name.trim().is_empty() {
            return Err(StoreError::Invalid("assessor name is empty (enter who inspects)".into()));
        }
        for (field, text, max) in [
            ("site name", &new.site_name, MAX_SITE_NAME_CHARS),
            ("site address", &new.site_address, MAX_ADDRESS_CHARS),
            ("assessor name", &new.assessor_name, MAX_PERSON_NAME_CHARS),
            ("assessor unit", &new.assessor_unit, MAX_UNIT_CHARS),
            ("assessor title", &new.assessor_title, MAX_TITLE_CHARS),
            ("assessor phone", &new.assessor_phone, MAX_PHONE_CHARS),
        ] {
            check_length(field, text.trim(), max)?;
        }
        check_typed_day("visit date", &new.visited_on, today, "enter the day of the visit")?;
        let id = uuid::Uuid::now_v7().to_string();
        self.conn.execute(
            "INSERT INTO inspections (id, rubric_id, rubric_version, rubric_hash, rubric_content, site_name, site_address,
             site_level, visited_on, assessor_name, assessor_unit, assessor_title, assessor_phone, device_id, created_at,
             assignment_id, hall_id)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)",
            params![
                id,
                rubric.id,
                rubric.version,
                rubric.content_hash,
                new.rubric_text,
                new.site_name.trim(),
                new.site_address.trim(),
                level,
                new.visited_on,
                new.assessor_name.trim(),
                new.assessor_unit.trim(),
                new.assessor_title.trim(),
                new.assessor_phone.trim(),
                self.device_id,
                now,
                new.assignment_id.as_deref().map(str::trim).filter(|a| !a.is_empty()),
                new.hall_id.as_deref().map(str::trim).filter(|a| !a.is_empty())
            ],
        )?;
        Ok(id)
    }

    pub fn inspection(&self, id: &str) -> Result<Inspection> {
        self.conn
            .query_row(
                "SELECT id, rubric_id, rubric_version, rubric_hash, site_name, site_address, site_level, visited_on,
                 assessor_name, assessor_unit, assessor_title, assessor_phone, device_id, created_at, finished_at, rubric_content,
                 assignment_id, hall_id
                 FROM inspections WHERE id = ?1",
                [id],
                |r| {
                    Ok(Inspection {
                        id: r.get(0)?,
                        rubric_id: r.get(1)?,
                        rubric_version: r.get(2)?,
                        rubric_hash: r.get(3)?,
                        site_name: r.get(4)?,
                        site_address: r.get(5)?,
                        site_level: r.get(6)?,
                        visited_on: r.get(7)?,
                        assessor_name: r.get(8)?,
                        assessor_unit: r.get(9)?,
                        assessor_title: r.get(10)?,
                        assessor_phone: r.get(11)?,
                        device_id: r.get(12)?,
                        created_at: r.get(13)?,
                        finished_at: r.get(14)?,
                        rubric_content: r.get(15)?,
                        assignment_id: r.get(16)?,
                        hall_id: r.get(17)?,
                    })
                },
            )
            .optional()?
            .ok_or_else(|| StoreError::NotFound(id.to_string()))
    }

    /// The inspection's pinned rubric. Refuses, with the reason, if the pinned copy is damaged.
    pub fn rubric(&self, id: &str) -> Result<Rubric> {
        let insp = self.inspection(id)?;
        self.pinned(&insp)
    }

    pub(crate) fn pinned(&self, insp: &Inspection) -> Result<Rubric> {
        let hash = hallmark_core::hex::sha256_hex(insp.rubric_content.as_bytes());
        if hash == insp.rubric_hash {
            if let Some(r) = self.parsed.borrow().get(&hash) {
                return Ok(r.clone());
            }
        }
        let rubric = pinned_rubric(insp)?;
        self.parsed.borrow_mut().insert(hash, rubric.clone());
        Ok(rubric)
    }

    pub fn inspection_ids(&self) -> Result<Vec<String>> {
        let mut st = self.conn.prepare("SELECT id FROM inspections ORDER BY created_at DESC, id DESC")?;
        let ids = st.query_map([], |r| r.get(0))?.collect::<std::result::Result<Vec<String>, _>>()?;
        Ok(ids)
    }

    pub fn summaries(&self) -> Result<Vec<InspectionSummary>> {
        let mut out = Vec::new();
        for id in self.inspection_ids()? {
            let insp = self.inspection(&id)?;
            let last: Option<String> = self.conn.query_row("SELECT max(recorded_at) FROM events WHERE inspection_id = ?1", [&id], |r| r.get(0))?;
            let amended: bool = self
                .conn
                // An answer kept unchanged in reply to the lead (reviews::KEEP) amends nothing.
                .query_row(
                    "SELECT EXISTS (SELECT 1 FROM events WHERE inspection_id = ?1 AND amendment IS NOT NULL
                         AND substr(amendment, 1, length(?2)) <> ?2)",
                    rusqlite::params![&id, crate::reviews::KEEP],
                    |r| r.get(0),
                )?;
            let local = insp.device_id == self.device_id;
            let state = match (local, &insp.finished_at, amended) {
                (false, _, _) => "imported",
                (true, None, _) => "draft",
                (true, Some(_), false) => "finished",
                (true, Some(_), true) => "amended",
            };
            let (title, total, complete, answered, n_items) = match self.sheet(&id) {
                Ok((rubric, sheet)) => {
                    let answered = sheet.items.iter().filter(|i| i.points.is_some()).count();
                    (rubric.title.clone(), sheet.total.normalize().to_string(), sheet.complete, answered, sheet.items.len())
                }
                Err(e) => (format!("（评分细则无法加载：{e}）"), "—".into(), false, 0, 0),
            };
            out.push(InspectionSummary {
                id: insp.id,
                rubric_id: insp.rubric_id,
                rubric_title: title,
                site_name: insp.site_name,
                visited_on: insp.visited_on,
                assessor_name: insp.assessor_name,
                finished: insp.finished_at.is_some(),
                total,
                complete,
                answered_items: answered,
                total_items: n_items,
                last_change: last.unwrap_or(insp.created_at),
                origin: if local { "local" } else { "imported" },
                state,
            });
        }
        Ok(out)
    }

    /// Inspections imported from another tablet are changed there and imported again.
    pub(crate) fn check_local(&self, insp: &Inspection) -> Result<()> {
        if insp.device_id != self.device_id {
            return Err(StoreError::Invalid(format!(
                "inspection '{}' ({} · {}) was imported from another tablet: change it there and import its new bundle",
                insp.id, insp.site_name, insp.assessor_name
            )));
        }
        Ok(())
    }

    /// The inspection's observations in the documented file format (docs/observations.md).
    pub fn observation_document(&self, id: &str) -> Result<Value> {
        let insp = self.inspection(id)?;
        let answers = self.answers(id)?;
        Ok(observation_document_of(&insp, answers))
    }

    pub fn observations(&self, id: &str) -> Result<(Rubric, Observations)> {
        let rubric = self.rubric(id)?;
        let doc = self.observation_document(id)?;
        let obs = observation::parse(&format!("inspection {id}"), &doc.to_string(), &rubric).map_err(|e| StoreError::Invalid(e.to_string()))?;
        Ok((rubric, obs))
    }

    /// The score sheet, always computed from the current answers by the pinned rubric.
    pub fn sheet(&self, id: &str) -> Result<(Rubric, ScoreSheet)> {
        let (rubric, obs) = self.observations(id)?;
        let sheet = score(&rubric, &obs);
        Ok((rubric, sheet))
    }

    pub fn finish(&mut self, id: &str, now: &str) -> Result<()> {
        let insp = self.inspection(id)?;
        if insp.finished_at.is_some() {
            return Err(StoreError::Finished(id.to_string()));
        }
        check_clock(now)?;
        self.conn.execute("UPDATE inspections SET finished_at = ?2 WHERE id = ?1 AND finished_at IS NULL", params![id, now])?;
        Ok(())
    }
}

// ---- limits on what is captured (docs/observations.md, "Limits" and "Dates") ----------------

/// The longest text kept per field, in characters (not bytes: a Chinese character is three):
/// longer text is refused at capture, before anything is stored.
pub const MAX_SITE_NAME_CHARS: usize = 100;
pub const MAX_ADDRESS_CHARS: usize = 200;
pub const MAX_PERSON_NAME_CHARS: usize = 50;
pub const MAX_UNIT_CHARS: usize = 100;
pub const MAX_TITLE_CHARS: usize = 100;
pub const MAX_PHONE_CHARS: usize = 30;
/// A service note, an amendment's reason (a photo caption should share it: evidence.rs).
pub const MAX_NOTE_CHARS: usize = 500;

/// Refuses `text` longer than `max` characters, naming the field and how the text starts.
pub fn check_length(field: &str, text: &str, max: usize) -> Result<()> {
    let n = text.chars().count();
    if n <= max {
        return Ok(());
    }
    let start: String = text.chars().take(12).collect();
    Err(StoreError::TooLong {
        message: format!("{field} '{start}…' is {n} characters, more than the {max} allowed (shorten it)"),
        field: field.to_string(),
        length: n,
        max,
    })
}

/// Refuses a `now` no honest clock reads (see [`hallmark_core::date::tablet_day`]): a time
/// before 2020, after 2099 or not on a calendar day. Returns its day, the tablet's today.
pub fn check_clock(now: &str) -> Result<hallmark_core::date::NaiveDate> {
    let refused = |why: String| StoreError::Clock {
        message: format!("the tablet's clock reads '{now}', which {why} (set the tablet's date and time, then try again)"),
        value: now.to_string(),
    };
    let day = tablet_day(now, None).map_err(|p| refused(p.why()))?;
    if !hallmark_core::date::is_timestamp(now) {
        return Err(refused("is not a time (write RFC 3339 UTC, e.g. \"2026-11-20T09:30:00Z\")".into()));
    }
    Ok(day)
}

/// Refuses a typed date or time (`YYYY-MM-DD` when `field` is a date, else RFC 3339 UTC) that
/// is not a calendar day in the window, or more than 2 days after the tablet's `today`.
pub(crate) fn check_typed_day(field: &str, value: &str, today: hallmark_core::date::NaiveDate, fix: &str) -> Result<()> {
    let is_date = field.ends_with("date");
    let why = match tablet_day(value, Some(today)) {
        Ok(_) if is_date == (value.len() == 10) => return Ok(()),
        Ok(_) if is_date => "is not a date (write YYYY-MM-DD, e.g. \"2026-11-20\")".to_string(),
        Ok(_) => "is not a time (write RFC 3339 UTC, e.g. \"2026-11-20T09:30:00Z\")".to_string(),
        Err(p @ DateProblem::AfterReference(_)) => format!("{}, the tablet's date", p.why()),
        Err(p) => p.why(),
    };
    Err(StoreError::Invalid(format!("{field} '{value}' {why} ({fix})")))
}

/// The observation document (docs/observations.md) of an inspection with these answers. One
/// function for the store and for bundles, so a report's evidence hash can be recomputed
/// from a bundle alone.
pub fn observation_document_of(insp: &Inspection, answers: BTreeMap<String, Value>) -> Value {
    let mut plain = serde_json::Map::new();
    let mut veto = serde_json::Map::new();
    for (k, v) in answers {
        match k.strip_prefix("veto:") {
            Some(vid) => {
                veto.insert(vid.to_string(), v);
            }
            None => {
                plain.insert(k, v);
            }
        }
    }
    serde_json::json!({
        "format": observation::FORMAT,
        "rubric": insp.rubric_id,
        "rubric_version": insp.rubric_version,
        "site": { "name": insp.site_name, "address": insp.site_address, "level": insp.site_level },
        "assessor": { "name": insp.assessor_name, "unit": insp.assessor_unit, "title": insp.assessor_title, "phone": insp.assessor_phone },
        "visited_on": insp.visited_on,
        "answers": plain,
        "veto": veto,
    })
}

/// (id, version, SHA-256) of every rubric built into hallmark, earlier versions too.
pub fn shipped_rubrics() -> Vec<(String, String, String)> {
    // The shipped rubrics never change while the program runs: parsed once (a sync server
    // checks every bundle against them, two times a push).
    static SHIPPED: std::sync::OnceLock<Vec<(String, String, String)>> = std::sync::OnceLock::new();
    SHIPPED
        .get_or_init(|| {
            hallmark_core::builtin::SHIPPED
                .iter()
                .filter_map(|s| Rubric::load(s.file, s.text).ok())
                .map(|r| (r.id, r.version, r.content_hash))
                .collect()
        })
        .clone()
}

/// Rubrics a bundle may use: every version built into hallmark (earlier ones too: a tablet
/// may still hold an inspection of one) and those already pinned here.
pub(crate) fn known_rubrics(store: &Store) -> Result<Vec<(String, String, String)>> {
    let mut out = shipped_rubrics();
    for p in store.published_rubrics()? {
        out.push((p.rubric_id, p.version, p.sha256));
    }
    let mut st = store.conn.prepare("SELECT DISTINCT rubric_id, rubric_version, rubric_hash FROM inspections")?;
    for row in st.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))? {
        out.push(row?);
    }
    Ok(out)
}

fn pinned_rubric(insp: &Inspection) -> Result<Rubric> {
    let rubric = Rubric::load(&format!("pinned rubric of inspection {}", insp.id), &insp.rubric_content).map_err(|e| {
        StoreError::Rubric(format!(
            "inspection '{}' ({}): its pinned rubric '{}' v{} does not load: {e} (the stored copy is damaged; restore this inspection from a bundle)",
            insp.id, insp.site_name, insp.rubric_id, insp.rubric_version
        ))
    })?;
    if rubric.content_hash != insp.rubric_hash {
        return Err(StoreError::Rubric(format!(
            "inspection '{}' ({}): its pinned rubric '{}' v{} does not match its recorded hash (the stored copy was altered; restore this inspection from a bundle)",
            insp.id, insp.site_name, insp.rubric_id, insp.rubric_version
        )));
    }
    Ok(rubric)
}

/// A rubric text loaded once per program and content hash (`sha256` is the text's, already
/// checked by the caller): the same rubric arrives with every bundle of a panel.
pub(crate) fn load_rubric_by_hash(name: &str, content: &str, sha256: &str) -> std::result::Result<Rubric, String> {
    static LOADED: std::sync::OnceLock<std::sync::Mutex<std::collections::HashMap<String, Rubric>>> = std::sync::OnceLock::new();
    let cache = LOADED.get_or_init(Default::default);
    if let Some(r) = cache.lock().unwrap_or_else(|p| p.into_inner()).get(sha256) {
        return Ok(r.clone());
    }
    let r = Rubric::load(name, content).map_err(|e| e.to_string())?;
    let mut c = cache.lock().unwrap_or_else(|p| p.into_inner());
    if c.len() >= 32 {
        c.clear();
    }
    c.insert(sha256.to_string(), r.clone());
    Ok(r)
}
