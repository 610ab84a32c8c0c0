//! What sync (issue #11) keeps in a device's store: the receipts servers signed for the
//! bundles it pushed, and from them, which inspections changed since their last receipt.
//! The protocol and the client are hallmark-sync's; this is only their rows.

use rusqlite::{params, OptionalExtension};
use serde::Serialize;

use crate::{Result, Store};

/// One stored receipt.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ReceiptRecord {
    pub bundle_id: String,
    pub inspection_id: String,
    pub server: String,
    pub server_url: String,
    pub events: u64,
    pub photos: u64,
    pub received_at: String,
}

/// A receipt to keep (already checked by the client).
pub struct NewReceipt<'a> {
    pub bundle_id: &'a str,
    pub inspection_id: &'a str,
    pub server: &'a str,
    pub server_url: &'a str,
    pub events: u64,
    pub photos: u64,
    pub received_at: &'a str,
    pub signed: &'a str,
}

impl Store {
    /// Keeps a receipt (the same bundle and server twice is one row). Durable on return.
    pub fn record_receipt(&self, r: &NewReceipt<'_>, now: &str) -> Result<()> {
        self.conn.execute(
            "INSERT OR IGNORE INTO sync_receipts (bundle_id, inspection_id, server, server_url, events, photos, received_at, signed, stored_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            params![r.bundle_id, r.inspection_id, r.server, r.server_url, r.events as i64, r.photos as i64, r.received_at, r.signed, now],
        )?;
        Ok(())
    }

    /// The newest receipt for an inspection, if it was ever pushed.
    pub fn last_receipt(&self, inspection_id: &str) -> Result<Option<ReceiptRecord>> {
        Ok(self
            .conn
            .query_row(
                "SELECT bundle_id, inspection_id, server, server_url, events, photos, received_at FROM sync_receipts
                 WHERE inspection_id = ?1 ORDER BY seq DESC LIMIT 1",
                [inspection_id],
                |r| {
                    Ok(ReceiptRecord {
                        bundle_id: r.get(0)?,
                        inspection_id: r.get(1)?,
                        server: r.get(2)?,
                        server_url: r.get(3)?,
                        events: r.get::<_, i64>(4)? as u64,
                        photos: r.get::<_, i64>(5)? as u64,
                        received_at: r.get(6)?,
                    })
                },
            )
            .optional()?)
    }

    /// What an inspection recorded here holds now: (events, photos). A receipt with the same
    /// counts covers it; anything recorded since (an event, a photo) makes it 未同步 again.
    /// Events and photos are append-only, so a count cannot stay equal across a change.
    pub fn sync_counts(&self, inspection_id: &str) -> Result<(u64, u64)> {
        let events: i64 = self.conn.query_row("SELECT count(*) FROM events WHERE inspection_id = ?1", [inspection_id], |r| r.get(0))?;
        let photos: i64 =
            self.conn.query_row("SELECT count(DISTINCT sha256) FROM evidence WHERE inspection_id = ?1", [inspection_id], |r| r.get(0))?;
        Ok((events as u64, photos as u64))
    }

    /// Whether this store holds a bundle (by its id, the SHA-256 of its manifest).
    pub fn has_bundle(&self, bundle_id: &str) -> Result<bool> {
        Ok(self.conn.query_row("SELECT count(*) FROM bundles WHERE id = ?1", [bundle_id], |r| r.get::<_, i64>(0))? > 0)
    }
}

/// A bundle this store holds, with what a server needs to decide who may fetch it.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct HeldBundle {
    pub bundle_id: String,
    pub inspection_id: String,
    pub site: String,
    pub assessor: String,
    pub rubric_id: String,
    pub signer_key: String,
    pub imported_at: String,
    pub events: u64,
    pub photos: u64,
    /// The assignment the inspection was started from (bundle format 3), if any.
    pub assignment_id: Option<String>,
}

impl Store {
    /// Every bundle held, oldest first (a server's pull list is drawn from these).
    pub fn held_bundles(&self) -> Result<Vec<HeldBundle>> {
        self.held_where("1 = 1", &[])
    }

    /// One held bundle.
    pub fn held_bundle(&self, bundle_id: &str) -> Result<Option<HeldBundle>> {
        Ok(self.held_where("b.id = ?1", &[&bundle_id])?.into_iter().next())
    }

    fn held_where(&self, condition: &str, args: &[&dyn rusqlite::ToSql]) -> Result<Vec<HeldBundle>> {
        let sql = format!(
            "SELECT b.id, b.inspection_id, i.site_name, i.assessor_name, i.rubric_id, b.signer_key, b.imported_at, b.events, b.photos,
                    i.assignment_id
             FROM bundles b JOIN inspections i ON i.id = b.inspection_id WHERE {condition} ORDER BY b.imported_at, b.id"
        );
        let mut st = self.conn.prepare(&sql)?;
        let rows = st.query_map(args, |r| {
            Ok(HeldBundle {
                bundle_id: r.get(0)?,
                inspection_id: r.get(1)?,
                site: r.get(2)?,
                assessor: r.get(3)?,
                rubric_id: r.get(4)?,
                signer_key: r.get(5)?,
                imported_at: r.get(6)?,
                events: r.get::<_, i64>(7)? as u64,
                photos: r.get::<_, i64>(8)? as u64,
                assignment_id: r.get(9)?,
            })
        })?;
        Ok(rows.collect::<std::result::Result<Vec<_>, _>>()?)
    }
}

/// The settings key of the sync server's address (migration 0004's `settings` table).
const SERVER_SETTING: &str = "sync_server";

impl Store {
    /// The sync server this device pushes to, if one is set.
    pub fn sync_server(&self) -> Result<Option<String>> {
        Ok(self.conn.query_row("SELECT value FROM settings WHERE key = ?1", [SERVER_SETTING], |r| r.get(0)).optional()?)
    }

    /// Sets (or, with an empty text, clears) the sync server: `https://HOST[:PORT]`.
    pub fn set_sync_server(&self, url: &str) -> Result<Option<String>> {
        let url = url.trim().trim_end_matches('/');
        if url.is_empty() {
            self.conn.execute("DELETE FROM settings WHERE key = ?1", [SERVER_SETTING])?;
            return Ok(None);
        }
        let host = url.strip_prefix("https://").unwrap_or("");
        if host.is_empty() || host.contains(['/', ' ', '?', '#']) {
            return Err(crate::StoreError::Invalid(format!(
                "server address '{url}' is not https://HOST or https://HOST:PORT (hallmark only syncs over TLS)"
            )));
        }
        self.conn.execute(
            "INSERT INTO settings (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            params![SERVER_SETTING, url],
        )?;
        Ok(Some(url.to_string()))
    }
}

/// A rubric file as it may be published: it loads and passes the validator, and its id and
/// version name no built-in rubric's other content.
pub fn publishable_rubric(content: &str) -> Result<hallmark_core::rubric::Rubric> {
    let r = hallmark_core::rubric::Rubric::load("the rubric file", content).map_err(|e| crate::StoreError::Rubric(e.to_string()))?;
    for s in hallmark_core::builtin::SHIPPED.iter() {
        if let Ok(b) = hallmark_core::rubric::Rubric::load(s.file, s.text) {
            if b.id == r.id && b.version == r.version && b.content_hash != r.content_hash {
                return Err(rubric_clash(&r, "built into hallmark"));
            }
        }
    }
    Ok(r)
}

/// A rubric whose id and version were kept with other content (`other` says where).
pub fn rubric_clash(r: &hallmark_core::rubric::Rubric, other: &str) -> crate::StoreError {
    crate::StoreError::Rubric(format!(
        "rubric '{}' version {} exists already with other content ({other}): a changed rubric needs a new version",
        r.id, r.version
    ))
}

/// A rubric file beyond the built-in ones (published on a server, or fetched from one).
#[derive(Debug, Clone, PartialEq)]
pub struct PublishedRubric {
    pub rubric_id: String,
    pub version: String,
    pub sha256: String,
    pub content: String,
    /// The server's signed release as received; `None` where it was published.
    pub signed: Option<String>,
    pub published_at: String,
}

impl Store {
    /// Keeps a rubric file: it must load and pass the validator, and its id and version must
    /// not name other content (a built-in rubric's or one kept before) — a changed rubric is
    /// a new version. The same file again changes nothing. Returns it as kept.
    pub fn keep_rubric(&self, content: &str, signed: Option<&str>, now: &str) -> Result<PublishedRubric> {
        let r = publishable_rubric(content)?;
        let clash = |other: &str| rubric_clash(&r, other);
        let held: Option<String> = self
            .conn
            .query_row("SELECT sha256 FROM published_rubrics WHERE rubric_id = ?1 AND version = ?2", params![r.id, r.version], |x| x.get(0))
            .optional()?;
        match held {
            Some(h) if h != r.content_hash => return Err(clash("kept here before")),
            Some(_) => {}
            None => {
                self.conn.execute(
                    "INSERT INTO published_rubrics (sha256, rubric_id, version, content, signed, published_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                    params![r.content_hash, r.id, r.version, content, signed, now],
                )?;
            }
        }
        Ok(self.published_rubrics()?.into_iter().find(|p| p.sha256 == r.content_hash).expect("kept above"))
    }

    /// The rubric files kept here, by id and version.
    pub fn published_rubrics(&self) -> Result<Vec<PublishedRubric>> {
        let mut st = self
            .conn
            .prepare("SELECT rubric_id, version, sha256, content, signed, published_at FROM published_rubrics ORDER BY rubric_id, version")?;
        let rows = st.query_map([], |r| {
            Ok(PublishedRubric {
                rubric_id: r.get(0)?,
                version: r.get(1)?,
                sha256: r.get(2)?,
                content: r.get(3)?,
                signed: r.get(4)?,
                published_at: r.get(5)?,
            })
        })?;
        Ok(rows.collect::<std::result::Result<_, _>>()?)
    }
}
