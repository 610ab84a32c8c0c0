//! Evidence: photos (checked and thumbnailed on worker threads, stored once by SHA-256, the
//! file before the row that names it; optionally downscaled on capture, the camera file's hash
//! and size recorded) and the assessor's handwritten signature image.

use std::path::{Path, PathBuf};

use rusqlite::{params, OptionalExtension, TransactionBehavior};
use serde::Serialize;

use crate::{durable, io, photo, Result, Store, StoreError};

#[derive(Debug, Clone, Serialize)]
pub struct Evidence {
    pub id: String,
    pub item_id: String,
    pub caption: String,
    pub attached_at: String,
    pub photo: photo::PhotoMeta,
}

/// The assessor's handwritten signature image as stored.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SignatureImage {
    pub sha256: String,
    pub size: u64,
    pub signed_at: String,
}

impl Store {
    /// Stores the assessor's handwritten signature (a PNG drawn on the tablet) as evidence of
    /// the inspection. A later signature replaces the earlier one; both files are kept.
    pub fn save_signature(&mut self, id: &str, png: &[u8], now: &str) -> Result<SignatureImage> {
        crate::inspections::check_clock(now)?;
        let insp = self.inspection(id)?;
        self.check_local(&insp)?;
        if !png.starts_with(b"\x89PNG\r\n\x1a\n") {
            return Err(StoreError::Invalid("the signature is not a PNG image (draw it again)".into()));
        }
        if png.len() > 4 << 20 {
            return Err(StoreError::Invalid(format!("the signature image is {} bytes, more than 4 MiB (draw it again)", png.len())));
        }
        let sha = photo::sha256_hex(png);
        durable::write_durably(&signature_path_in(&self.dir, &sha), png).map_err(|e| io("cannot store the signature", e))?;
        self.conn.execute(
            "INSERT INTO signatures (inspection_id, sha256, size, signed_at) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (inspection_id) DO UPDATE SET sha256 = excluded.sha256, size = excluded.size, signed_at = excluded.signed_at",
            params![id, sha, png.len() as i64, now],
        )?;
        Ok(SignatureImage { sha256: sha, size: png.len() as u64, signed_at: now.into() })
    }

    pub fn signature_image(&self, id: &str) -> Result<Option<SignatureImage>> {
        Ok(self
            .conn
            .query_row("SELECT sha256, size, signed_at FROM signatures WHERE inspection_id = ?1", [id], |r| {
                Ok(SignatureImage { sha256: r.get(0)?, size: r.get::<_, i64>(1)? as u64, signed_at: r.get(2)? })
            })
            .optional()?)
    }

    pub fn signature_path(&self, sha256: &str) -> PathBuf {
        signature_path_in(&self.dir, sha256)
    }

    /// A stored photo's description.
    pub fn photo_meta(&self, sha256: &str) -> Result<photo::PhotoMeta> {
        self.conn
            .query_row(&format!("SELECT {PHOTO_COLUMNS} FROM photos p WHERE p.sha256 = ?1"), [sha256], |r| photo_meta_at(r, 0))
            .optional()?
            .ok_or_else(|| StoreError::NotFound(format!("photo {sha256}")))
    }

    /// Downscale on capture: from now on a photo whose long side is longer than `px` is stored
    /// as a copy with that long side (the camera file's SHA-256 and size are recorded with it);
    /// `None` stores photos as the camera made them (the default). Kept in the database.
    pub fn set_photo_long_side(&mut self, px: Option<u32>) -> Result<()> {
        match px {
            Some(px) if !photo::LONG_SIDE_RANGE.contains(&px) => Err(StoreError::Invalid(format!(
                "a photo's long side must be between {} and {} pixels, not {px} (or turn downscaling off)",
                photo::LONG_SIDE_RANGE.start(),
                photo::LONG_SIDE_RANGE.end()
            ))),
            Some(px) => {
                self.conn.execute(
                    "INSERT INTO settings (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                    params![LONG_SIDE_SETTING, px.to_string()],
                )?;
                Ok(())
            }
            None => {
                self.conn.execute("DELETE FROM settings WHERE key = ?1", [LONG_SIDE_SETTING])?;
                Ok(())
            }
        }
    }

    /// The long side photos are downscaled to on capture, if set.
    pub fn photo_long_side(&self) -> Result<Option<u32>> {
        let value: Option<String> = self.conn.query_row("SELECT value FROM settings WHERE key = ?1", [LONG_SIDE_SETTING], |r| r.get(0)).optional()?;
        match value {
            None => Ok(None),
            Some(v) => v.parse().ok().filter(|px| photo::LONG_SIDE_RANGE.contains(px)).map(Some).ok_or_else(|| {
                StoreError::Invalid(format!("the setting {LONG_SIDE_SETTING} is '{v}', not a number of pixels (set the photo size again)"))
            }),
        }
    }

    /// Checks, stores (once, by hash) and links a photo to an item. A refused file stores nothing.
    pub fn attach_photo(&mut self, id: &str, item_id: &str, bytes: &[u8], caption: &str, author: &str, now: &str) -> Result<Evidence> {
        let mut one = self.attach_photos(id, &[(item_id, bytes, caption)], author, now)?;
        Ok(one.remove(0))
    }

    /// Attaches several photos: checking and thumbnailing run on all cores, storing runs in
    /// order. Each photo is all-or-nothing; the first refused photo stops the batch with its
    /// reason (those before it are kept). With [`Store::set_photo_long_side`] set, larger photos
    /// are stored downscaled.
    pub fn attach_photos(&mut self, id: &str, photos: &[(&str, &[u8], &str)], author: &str, now: &str) -> Result<Vec<Evidence>> {
        crate::inspections::check_clock(now)?;
        for (_, _, caption) in photos {
            crate::inspections::check_length("photo caption", caption, crate::inspections::MAX_NOTE_CHARS)?;
        }
        let insp = self.inspection(id)?;
        self.check_local(&insp)?;
        let rubric = self.pinned(&insp)?;
        for (item, _, _) in photos {
            if !rubric.item.iter().any(|i| i.id == *item) {
                return Err(StoreError::Invalid(format!("item '{item}' is not in rubric '{}'", rubric.id)));
            }
        }
        let long_side = self.photo_long_side()?;
        // Workers check, thumbnail and durably write the files (in parallel, fsyncs included);
        // then the rows go in, in order. Files before rows: a row never names a missing file.
        // Twice the cores: a worker waiting on fsync leaves its core to another one decoding.
        let workers = (2 * std::thread::available_parallelism().map_or(1, |n| n.get())).min(photos.len().max(1));
        let next = std::sync::atomic::AtomicUsize::new(0);
        let dir = self.dir.as_path();
        let results: Vec<std::sync::Mutex<Option<Result<photo::PhotoMeta>>>> = photos.iter().map(|_| std::sync::Mutex::new(None)).collect();
        std::thread::scope(|scope| {
            for _ in 0..workers {
                scope.spawn(|| loop {
                    let k = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    if k >= photos.len() {
                        break;
                    }
                    let r = write_photo_files(dir, photos[k].1, long_side);
                    *results[k].lock().unwrap_or_else(|p| p.into_inner()) = Some(r);
                });
            }
        });
        // The rows of the photos before the first refused one, in order, in one transaction
        // (one fsync for the batch, not one per photo).
        let mut accepted = Vec::new();
        let mut refused = None;
        for ((item, _, caption), r) in photos.iter().zip(results) {
            match r.into_inner().unwrap_or_else(|p| p.into_inner()).expect("every photo examined") {
                Ok(meta) => accepted.push((*item, meta, *caption)),
                Err(e) => {
                    refused = Some(e);
                    break;
                }
            }
        }
        let out = self.insert_evidence(id, &accepted, author, now)?;
        match refused {
            Some(e) => Err(e),
            None => Ok(out),
        }
    }

    fn insert_evidence(&mut self, id: &str, photos: &[(&str, photo::PhotoMeta, &str)], author: &str, now: &str) -> Result<Vec<Evidence>> {
        if photos.is_empty() {
            return Ok(Vec::new());
        }
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut out = Vec::new();
        for (item_id, meta, caption) in photos {
            let evidence_id = uuid::Uuid::now_v7().to_string();
            insert_photo_row(&tx, meta)?;
            tx.execute(
                "INSERT INTO evidence (id, inspection_id, item_id, sha256, caption, author, device_id, attached_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                params![evidence_id, id, item_id, meta.sha256, caption.trim(), author, self.device_id, now],
            )?;
            out.push(Evidence {
                id: evidence_id,
                item_id: item_id.to_string(),
                caption: caption.trim().into(),
                attached_at: now.into(),
                photo: meta.clone(),
            });
        }
        tx.commit()?;
        Ok(out)
    }

    pub fn evidence(&self, id: &str) -> Result<Vec<Evidence>> {
        let mut st = self.conn.prepare(&format!(
            "SELECT e.id, e.item_id, e.caption, e.attached_at, {PHOTO_COLUMNS}
             FROM evidence e JOIN photos p ON p.sha256 = e.sha256 WHERE e.inspection_id = ?1 ORDER BY e.attached_at, e.id"
        ))?;
        let rows = st.query_map([id], |r| {
            Ok(Evidence { id: r.get(0)?, item_id: r.get(1)?, caption: r.get(2)?, attached_at: r.get(3)?, photo: photo_meta_at(r, 4)? })
        })?;
        Ok(rows.collect::<std::result::Result<Vec<_>, _>>()?)
    }

    pub fn photo_path(&self, sha256: &str) -> PathBuf {
        photo_path_in(&self.dir, sha256)
    }

    pub fn thumb_path(&self, sha256: &str) -> PathBuf {
        thumb_path_in(&self.dir, sha256)
    }
}

/// The settings key of downscale-on-capture (migration 0004's `settings` table).
const LONG_SIDE_SETTING: &str = "photo.long_side";

/// A photo row's columns as [`photo_meta_at`] reads them (`photos` as `p`).
pub(crate) const PHOTO_COLUMNS: &str = "p.sha256, p.size, p.width, p.height, p.orientation, p.taken_at, p.original_sha256, p.original_size";

/// A photo's [`PHOTO_COLUMNS`] from `at` on.
pub(crate) fn photo_meta_at(r: &rusqlite::Row<'_>, at: usize) -> rusqlite::Result<photo::PhotoMeta> {
    Ok(photo::PhotoMeta {
        sha256: r.get(at)?,
        size: r.get::<_, i64>(at + 1)? as u64,
        width: r.get(at + 2)?,
        height: r.get(at + 3)?,
        orientation: r.get(at + 4)?,
        taken_at: r.get(at + 5)?,
        original_sha256: r.get(at + 6)?,
        original_size: r.get::<_, Option<i64>>(at + 7)?.map(|n| n as u64),
    })
}

pub(crate) fn signature_path_in(dir: &Path, sha256: &str) -> PathBuf {
    dir.join("signatures").join(format!("{sha256}.png"))
}

pub(crate) fn photo_path_in(dir: &Path, sha256: &str) -> PathBuf {
    dir.join("photos").join(&sha256[..2]).join(format!("{sha256}.jpg"))
}

pub(crate) fn thumb_path_in(dir: &Path, sha256: &str) -> PathBuf {
    dir.join("thumbs").join(&sha256[..2]).join(format!("{sha256}.jpg"))
}

/// Checks a photo (downscaling it if `long_side` says so) and writes it and its thumbnail
/// durably. Runs on worker threads.
/// Checks and stores a photo that belongs to no inspection (a 整改 item's evidence, issue #13):
/// its files by hash and its row in `photos`. Returns its SHA-256.
pub(crate) fn store_photo(store: &Store, bytes: &[u8]) -> Result<String> {
    let meta = write_photo_files(&store.dir, bytes, store.photo_long_side()?)?;
    insert_photo_row(&store.conn, &meta)?;
    Ok(meta.sha256)
}

/// The photo's row (once per content hash), after its files are written.
fn insert_photo_row(conn: &rusqlite::Connection, meta: &photo::PhotoMeta) -> Result<()> {
    conn.execute(
        "INSERT OR IGNORE INTO photos (sha256, size, width, height, orientation, taken_at, original_sha256, original_size)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![
            meta.sha256,
            meta.size as i64,
            meta.width,
            meta.height,
            meta.orientation,
            meta.taken_at,
            meta.original_sha256,
            meta.original_size.map(|n| n as i64)
        ],
    )?;
    Ok(())
}

fn write_photo_files(dir: &Path, bytes: &[u8], long_side: Option<u32>) -> Result<photo::PhotoMeta> {
    // Without downscaling, the camera's file is what is stored: its write to disk starts before
    // the decode, so the fsync at the end finds it mostly written. A refused photo's temp file
    // is removed when `early` is dropped; nothing reaches the final name unchecked, and a file
    // whose header is refused is never written at all.
    let early = if long_side.is_none() && photo::precheck(bytes).is_ok() {
        let path = photo_path_in(dir, &photo::sha256_hex(bytes));
        if std::fs::metadata(&path).is_ok_and(|m| m.len() == bytes.len() as u64) {
            None
        } else {
            let start = || -> std::io::Result<durable::NewFile> {
                std::fs::create_dir_all(path.parent().unwrap_or(dir))?;
                let mut f = durable::NewFile::create(&path)?;
                std::io::Write::write_all(&mut f, bytes)?;
                f.start_writeback()?;
                Ok(f)
            };
            Some(start().map_err(|err| io("cannot store the photo", err))?)
        }
    } else {
        None
    };
    let e = photo::examine_for_capture(bytes, long_side).map_err(StoreError::Invalid)?;
    let stored = e.downscaled.as_deref().unwrap_or(bytes);
    match early {
        Some(file) => file.commit().map(|_| ()),
        None => durable::write_durably(&photo_path_in(dir, &e.meta.sha256), stored),
    }
    .map_err(|err| io("cannot store the photo", err))?;
    durable::write_durably(&thumb_path_in(dir, &e.meta.sha256), &e.thumbnail).map_err(|err| io("cannot store the thumbnail", err))?;
    Ok(e.meta)
}
