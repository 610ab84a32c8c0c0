//! The lead's review of the panel's sheets (issue #13 part 1): per assessor sheet or item,
//! accepted, or returned with a comment. Each review is an Ed25519-signed statement
//! ([`ReviewV1`]) kept whole, append-only, checked whenever it is read. A return is *answered*
//! when the assessor's change reaches this store — an event on the item (any event, for a
//! returned sheet) later than the return, from an imported bundle — and *open* until then or
//! until the lead accepts. A report is not signed while a return is open, unless the lead
//! overrides with a reason the report prints (`hallmark_report::issue::Lifecycle`).

use hallmark_core::hex::{hex, unhex};
use rusqlite::{params, TransactionBehavior};
use serde::{Deserialize, Serialize};

use crate::{identity, Result, Store, StoreError};

/// | format | introduced by | what it says |
/// |---|---|---|
/// | `hallmark-review/1` | #13 review | a sheet or item accepted or returned with a comment, signed by the lead's device |
pub const FORMAT: &str = "hallmark-review/1";

/// | `hallmark-review-file/1` | #13 review | the lead's reviews of some sheets, with the lead device's certificate chain: what the tablet receives |
pub const FILE_FORMAT: &str = "hallmark-review-file/1";

/// What the lead hands to the assessors' tablets (version 1, issue #13): the reviews of their
/// sheets and the chain that certifies the lead. Do not modify.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReviewFileV1 {
    pub format: String,
    /// The lead device's certificate chain (PEM, leaf first); empty when unenrolled.
    pub lead_certificates: Vec<String>,
    pub reviews: Vec<ReviewV1>,
}

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

    /// A `hallmark-review/1` statement whose signature checks: what the tablet and the sync
    /// server accept.
    pub fn intact(&self) -> bool {
        self.format == FORMAT && self.verifies()
    }

    /// Its signature checks against the key it names.
    fn verifies(&self) -> bool {
        let key = unhex(&self.public_key).unwrap_or_default();
        identity::verify(&key, &self.statement(), &unhex(&self.signature).unwrap_or_default())
    }
}

/// How a "keep, because …" answer is written in the event's `amendment` field: the assessor
/// records each answer of the returned item again, unchanged, with the reason after this prefix.
/// The bundle format carries it as it is (no new field); the lead's store reads it back.
pub const KEEP: &str = "保留原答案：";

/// Where a sheet or an item stands in review.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum State {
    Accepted {
        comment: String,
        at: String,
    },
    /// Returned; `answered` once the assessor's change arrived; `kept` when that answer is
    /// "keep, because …" (the assessor's reason).
    Returned {
        comment: String,
        at: String,
        answered: bool,
        kept: Option<String>,
    },
}

/// The latest review of one sheet or item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Review {
    pub inspection_id: String,
    pub assessor: String,
    pub item_id: Option<String>,
    /// The item's name as the sheet's rubric gives it (服务实操), for the words shown.
    pub item_name: Option<String>,
    pub state: State,
}

impl State {
    /// returned | answered | accepted: what the screens show.
    pub fn name(&self) -> &'static str {
        match self {
            State::Returned { answered: false, .. } => "returned",
            State::Returned { answered: true, .. } => "answered",
            State::Accepted { .. } => "accepted",
        }
    }

    /// The lead's comment.
    pub fn comment(&self) -> &str {
        match self {
            State::Returned { comment, .. } | State::Accepted { comment, .. } => comment,
        }
    }

    /// The assessor's reason for keeping the answers of a returned item.
    pub fn kept(&self) -> Option<&str> {
        match self {
            State::Returned { kept, .. } => kept.as_deref(),
            State::Accepted { .. } => None,
        }
    }

    /// When the lead recorded it, RFC 3339 UTC.
    pub fn at(&self) -> &str {
        match self {
            State::Returned { at, .. } | State::Accepted { at, .. } => at,
        }
    }
}

impl Review {
    /// A return not answered yet.
    pub fn is_open(&self) -> bool {
        matches!(self.state, State::Returned { answered: false, .. })
    }

    /// In words, for the merge view, the CLI and the report: "张伟 · 服务实操：退回（…），已修改".
    pub fn text(&self) -> String {
        let what = match (&self.item_name, &self.item_id) {
            (Some(n), _) => format!("{} · {n}", self.assessor),
            (None, Some(i)) => format!("{} · {i}", self.assessor),
            (None, None) => format!("{}（整张评分表）", self.assessor),
        };
        match &self.state {
            State::Accepted { comment, .. } if comment.is_empty() => format!("{what}：已接受"),
            State::Accepted { comment, .. } => format!("{what}：已接受（{comment}）"),
            State::Returned { comment, kept: Some(why), .. } => format!("{what}：退回（{comment}），评价人员保留原答案（{why}），待组长接受"),
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

    /// Every review this store holds of these inspections, as the lead signed them, with this
    /// device's certificate chain: the file the assessors' tablets receive.
    pub fn review_file(&self, inspection_ids: &[String]) -> Result<ReviewFileV1> {
        let mut reviews = Vec::new();
        for id in inspection_ids {
            let mut st = self.conn.prepare("SELECT statement FROM reviews WHERE inspection_id = ?1 ORDER BY seq")?;
            for text in st.query_map(params![id], |r| r.get::<_, String>(0))? {
                reviews.push(
                    serde_json::from_str(&text?)
                        .map_err(|_| StoreError::Invalid("a review does not read: the database was changed outside hallmark".into()))?,
                );
            }
        }
        Ok(ReviewFileV1 { format: FILE_FORMAT.into(), lead_certificates: self.device_certificates()?.unwrap_or_default(), reviews })
    }

    /// Receives the lead's review file on an assessor's tablet: the reviews of inspections this
    /// store holds, each checked (its signature; with a trusted root installed, the lead's chain,
    /// role lead, binding the signing key) and kept once. Reviews of other tablets' sheets are
    /// skipped. Returns how many were new. A file that is not a review file, or a review that
    /// does not check, is refused whole, keeping nothing.
    pub fn receive_reviews(&mut self, bytes: &[u8], now: &str) -> Result<usize> {
        let file: ReviewFileV1 = serde_json::from_slice(bytes).map_err(|e| StoreError::Invalid(format!("not a hallmark review file: {e}")))?;
        if file.format != FILE_FORMAT {
            return Err(StoreError::Invalid(format!(
                "review file format '{}' is unknown (this hallmark reads {FILE_FORMAT}): update hallmark",
                file.format
            )));
        }
        let trust = self.trust_store()?;
        let chain = if trust.has_roots() {
            let chain = hallmark_trust::certificate::read_chain("the lead's certificate", &file.lead_certificates).map_err(StoreError::Trust)?;
            let at = chrono::DateTime::parse_from_rfc3339(now)
                .map(|t| t.with_timezone(&chrono::Utc))
                .map_err(|e| StoreError::Invalid(format!("the time '{now}': {e}")))?;
            let trusted = trust.check(&chain, hallmark_trust::Role::Lead, at, at).map_err(StoreError::Trust)?;
            Some(hex(&trusted.signer.public_key))
        } else {
            None
        };
        let tx = self.conn.unchecked_transaction()?;
        let mut new = 0;
        for r in &file.reviews {
            if !r.intact() {
                return Err(StoreError::Invalid(format!(
                    "a review of inspection {} in the file does not verify (altered): nothing received",
                    r.inspection_id
                )));
            }
            if chain.as_ref().is_some_and(|k| *k != r.public_key) {
                return Err(StoreError::Invalid(format!(
                    "a review of inspection {} is signed by a key the lead's certificate does not bind: nothing received",
                    r.inspection_id
                )));
            }
            let here: i64 = tx.query_row("SELECT count(*) FROM inspections WHERE id = ?1", params![r.inspection_id], |x| x.get(0))?;
            let text = serde_json::to_string(r).expect("review serializes");
            let have: i64 = tx.query_row("SELECT count(*) FROM reviews WHERE statement = ?1", params![text], |x| x.get(0))?;
            if here == 0 || have > 0 {
                continue;
            }
            let seen: i64 =
                tx.query_row("SELECT coalesce(max(seq), 0) FROM events WHERE inspection_id = ?1", params![r.inspection_id], |x| x.get(0))?;
            tx.execute(
                "INSERT INTO reviews (inspection_id, item_id, action, events_seen, statement, at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![r.inspection_id, r.item_id, r.action, seen, text, r.at],
            )?;
            new += 1;
        }
        tx.commit()?;
        Ok(new)
    }

    /// The assessor's "keep, because …" answer to a returned item, on the tablet that holds the
    /// sheet: every answer of the item is recorded again, unchanged, with the reason (a new event
    /// per input, its `amendment` [`KEEP`] + reason). Once the next bundle reaches the lead, the
    /// return is answered and the lead reads the reason. Refused without an open return of the
    /// item here, without a reason, or when the item has no answer to keep.
    pub fn keep_answers(&mut self, inspection_id: &str, item_id: &str, reason: &str, now: &str) -> Result<usize> {
        crate::inspections::check_clock(now)?;
        let insp = self.inspection(inspection_id)?;
        self.check_local(&insp)?;
        let reason = reason.trim();
        if reason.is_empty() {
            return Err(StoreError::Invalid("keeping an answer needs a reason: say why it stands".into()));
        }
        crate::inspections::check_length("reason", reason, crate::inspections::MAX_NOTE_CHARS)?;
        let open = self.reviews(&[inspection_id.to_string()])?.into_iter().any(|r| r.item_id.as_deref() == Some(item_id) && r.is_open());
        if !open {
            return Err(StoreError::Invalid(format!("item '{item_id}' of this sheet has no open return from the lead: nothing to answer")));
        }
        let prefix = format!("{item_id}.");
        let answers: Vec<(String, serde_json::Value)> = self.answers(inspection_id)?.into_iter().filter(|(k, _)| k.starts_with(&prefix)).collect();
        if answers.is_empty() {
            return Err(StoreError::Invalid(format!("item '{item_id}' has no answer to keep: answer it")));
        }
        let note = format!("{KEEP}{reason}");
        let device = self.device_id.clone();
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        for (key, value) in &answers {
            crate::events::append_event(&tx, inspection_id, &device, key, Some(value.clone()), &insp.assessor_name, now, Some(&note))?;
        }
        tx.commit()?;
        Ok(answers.len())
    }

    /// The latest review of every reviewed sheet and item of these inspections, each checked.
    pub fn reviews(&self, inspection_ids: &[String]) -> Result<Vec<Review>> {
        let mut out: Vec<Review> = Vec::new();
        for id in inspection_ids {
            let insp = self.inspection(id)?;
            let rubric = self.pinned(&insp)?;
            let assessor = insp.assessor_name;
            let mut st = self.conn.prepare("SELECT seq, item_id, events_seen, statement FROM reviews WHERE inspection_id = ?1 ORDER BY seq")?;
            let rows = st
                .query_map(params![id], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, Option<String>>(1)?, r.get::<_, i64>(2)?, r.get::<_, String>(3)?)))?
                .collect::<std::result::Result<Vec<_>, _>>()?;
            for (seq, item, seen, text) in rows {
                let damaged =
                    || StoreError::Invalid(format!("review {seq} of {assessor}'s sheet does not verify: the database was changed outside hallmark"));
                let r: ReviewV1 = serde_json::from_str(&text).map_err(|_| damaged())?;
                if r.inspection_id != *id || r.item_id != item || !r.verifies() {
                    return Err(damaged());
                }
                let state = if r.action == "returned" {
                    // An answer is a change made after the return: imported after it (seq) and
                    // recorded after it (a bundle exported before the return answers nothing),
                    // on one of the item's inputs (exactly "item.", no LIKE wildcards).
                    let prefix = item.as_ref().map_or(String::new(), |i| format!("{i}."));
                    let mut st = self.conn.prepare(
                        "SELECT amendment, value IS previous FROM events WHERE inspection_id = ?1 AND seq > ?2 AND recorded_at > ?3
                         AND substr(key, 1, length(?4)) = ?4 ORDER BY seq",
                    )?;
                    let after: Vec<(Option<String>, bool)> =
                        st.query_map(params![id, seen, r.at, prefix], |x| Ok((x.get(0)?, x.get(1)?)))?.collect::<std::result::Result<_, _>>()?;
                    // Kept only when every answer after the return is a keep that changed nothing
                    // (a change with a reason that merely starts like one is a change).
                    let keeps: Option<Vec<&str>> =
                        after.iter().map(|(a, same)| a.as_deref().and_then(|a| a.strip_prefix(KEEP)).filter(|_| *same)).collect();
                    let kept = keeps.and_then(|k| k.last().map(|s| s.to_string()));
                    State::Returned { comment: r.comment, at: r.at, answered: !after.is_empty(), kept }
                } else {
                    State::Accepted { comment: r.comment, at: r.at }
                };
                let item_name = item.as_ref().and_then(|i| rubric.item.iter().find(|x| &x.id == i)).map(|x| x.name.clone());
                let review = Review { inspection_id: id.clone(), assessor: assessor.clone(), item_id: item, item_name, state };
                match out.iter_mut().find(|x| x.inspection_id == review.inspection_id && x.item_id == review.item_id) {
                    Some(x) => *x = review,
                    None => out.push(review),
                }
            }
        }
        Ok(out)
    }
}
