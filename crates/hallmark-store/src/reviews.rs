//! The lead's review of the panel's sheets (issue #13 part 1): per assessor sheet or item,
//! accepted, or returned with a comment. Each review is an Ed25519-signed statement
//! ([`ReviewV1`]) kept whole, append-only, checked whenever it is read. A return is *answered*
//! when the assessor's change reaches this store — an event on the item (any event, for a
//! returned sheet) later than the return, from an imported bundle — and *open* until then or
//! until the lead accepts. A report is not signed while a return is open, unless the lead
//! overrides with a reason the report prints (`hallmark_report::issue::Lifecycle`).

use hallmark_core::hex::{hex, unhex};
use rusqlite::params;
use serde::{Deserialize, Serialize};

use crate::{identity, Result, Store, StoreError};

/// | format | introduced by | what it says |
/// |---|---|---|
/// | `hallmark-review/1` | #13 review | a sheet or item accepted or returned with a comment, signed by the lead's device |
pub const FORMAT: &str = "hallmark-review/1";

/// One review, as signed (version 1, issue #13). Do not modify.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReviewV1 {
    pub format: String,
    pub inspection_id: String,
    /// `None`: the whole sheet.
    pub item_id: Option<String>,
    /// accepted | returned
    pub action: String,
    pub comment: String,
    /// RFC 3339 UTC, the lead device's clock.
    pub at: String,
    pub device_id: String,
    pub public_key: String,
    pub signature: String,
}

impl ReviewV1 {
    fn statement(&self) -> Vec<u8> {
        serde_json::to_vec(&ReviewV1 { signature: String::new(), ..self.clone() }).expect("review serializes")
    }
}

/// Where a sheet or an item stands in review.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum State {
    Accepted {
        comment: String,
        at: String,
    },
    /// Returned; `answered` once the assessor's change arrived.
    Returned {
        comment: String,
        at: String,
        answered: bool,
    },
}

/// The latest review of one sheet or item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Review {
    pub inspection_id: String,
    pub assessor: String,
    pub item_id: Option<String>,
    pub state: State,
}

impl Review {
    /// A return not answered yet.
    pub fn is_open(&self) -> bool {
        matches!(self.state, State::Returned { answered: false, .. })
    }

    /// In words, for the merge view, the CLI and the report: "张伟 · practice：退回（…），已修改".
    pub fn text(&self) -> String {
        let what = match &self.item_id {
            Some(i) => format!("{} · {i}", self.assessor),
            None => format!("{}（整张评分表）", self.assessor),
        };
        match &self.state {
            State::Accepted { comment, .. } if comment.is_empty() => format!("{what}：已接受"),
            State::Accepted { comment, .. } => format!("{what}：已接受（{comment}）"),
            State::Returned { comment, answered: true, .. } => format!("{what}：退回（{comment}），评价人员已修改，待组长接受"),
            State::Returned { comment, answered: false, .. } => format!("{what}：退回（{comment}），待评价人员修改"),
        }
    }
}

impl Store {
    /// Records the lead's review of a sheet (`item_id` None) or an item, signed by this device.
    /// A return needs a comment; an item must be in the sheet's rubric.
    pub fn review(&mut self, inspection_id: &str, item_id: Option<&str>, returned: bool, comment: &str, now: &str) -> Result<Review> {
        crate::inspections::check_clock(now)?;
        let insp = self.inspection(inspection_id)?;
        let comment = comment.trim();
        if returned && comment.is_empty() {
            return Err(StoreError::Invalid("a return needs a comment: say what the assessor should re-check".into()));
        }
        crate::inspections::check_length("review comment", comment, crate::inspections::MAX_NOTE_CHARS)?;
        if let Some(item) = item_id {
            let rubric = self.pinned(&insp)?;
            if !rubric.item.iter().any(|i| i.id == item) {
                return Err(StoreError::Invalid(format!(
                    "item '{item}' is not in rubric '{}' (its items: {})",
                    rubric.id,
                    rubric.item.iter().map(|i| i.id.as_str()).collect::<Vec<_>>().join(", ")
                )));
            }
        }
        let key = self.signing_key()?;
        let mut r = ReviewV1 {
            format: FORMAT.into(),
            inspection_id: inspection_id.into(),
            item_id: item_id.map(String::from),
            action: if returned { "returned" } else { "accepted" }.into(),
            comment: comment.into(),
            at: now.into(),
            device_id: self.device_id.clone(),
            public_key: key.public_key_hex(),
            signature: String::new(),
        };
        r.signature = hex(&key.sign(&r.statement()));
        let seen: i64 =
            self.conn.query_row("SELECT coalesce(max(seq), 0) FROM events WHERE inspection_id = ?1", params![inspection_id], |x| x.get(0))?;
        self.conn.execute(
            "INSERT INTO reviews (inspection_id, item_id, action, events_seen, statement, at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![inspection_id, item_id, r.action, seen, serde_json::to_string(&r).expect("review serializes"), now],
        )?;
        Ok(self.reviews(&[inspection_id.to_string()])?.into_iter().find(|x| x.item_id.as_deref() == item_id).expect("recorded above"))
    }

    /// The latest review of every reviewed sheet and item of these inspections, each checked.
    pub fn reviews(&self, inspection_ids: &[String]) -> Result<Vec<Review>> {
        let mut out: Vec<Review> = Vec::new();
        for id in inspection_ids {
            let assessor = self.inspection(id)?.assessor_name;
            let mut st = self.conn.prepare("SELECT seq, item_id, events_seen, statement FROM reviews WHERE inspection_id = ?1 ORDER BY seq")?;
            let rows = st
                .query_map(params![id], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, Option<String>>(1)?, r.get::<_, i64>(2)?, r.get::<_, String>(3)?)))?
                .collect::<std::result::Result<Vec<_>, _>>()?;
            for (seq, item, seen, text) in rows {
                let damaged =
                    || StoreError::Invalid(format!("review {seq} of {assessor}'s sheet does not verify: the database was changed outside hallmark"));
                let r: ReviewV1 = serde_json::from_str(&text).map_err(|_| damaged())?;
                let key = unhex(&r.public_key).unwrap_or_default();
                if r.inspection_id != *id || r.item_id != item || !identity::verify(&key, &r.statement(), &unhex(&r.signature).unwrap_or_default()) {
                    return Err(damaged());
                }
                let state = if r.action == "returned" {
                    let pattern = item.as_ref().map_or("%".to_string(), |i| format!("{i}.%"));
                    let later: i64 = self.conn.query_row(
                        "SELECT count(*) FROM events WHERE inspection_id = ?1 AND seq > ?2 AND key LIKE ?3",
                        params![id, seen, pattern],
                        |x| x.get(0),
                    )?;
                    State::Returned { comment: r.comment, at: r.at, answered: later > 0 }
                } else {
                    State::Accepted { comment: r.comment, at: r.at }
                };
                let review = Review { inspection_id: id.clone(), assessor: assessor.clone(), item_id: item, state };
                match out.iter_mut().find(|x| x.inspection_id == review.inspection_id && x.item_id == review.item_id) {
                    Some(x) => *x = review,
                    None => out.push(review),
                }
            }
        }
        Ok(out)
    }
}
