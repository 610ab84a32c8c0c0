//! Sync (issue #11) as the UI sees it: the server, and per inspection 未同步 / 同步中 / 已同步.

use super::*;

/// The outbox: where this tablet's inspections stand with the server.
#[derive(Debug, Serialize)]
pub struct SyncStatus {
    /// `https://HOST:PORT`, or null when no server is set.
    pub server: Option<String>,
    pub enrolled: bool,
    /// When the last attempt ended (RFC 3339), null before the first.
    pub last_attempt: Option<String>,
    /// Why the last attempt failed, null when it did not.
    pub last_error: Option<CommandError>,
    /// Seconds until the next attempt (backoff after a failure).
    pub next_in: u64,
    pub inspections: Vec<SyncInspection>,
}

#[derive(Debug, Serialize)]
pub struct SyncInspection {
    pub id: String,
    /// "unsynced" (未同步), "syncing" (同步中), "synced" (已同步).
    pub state: &'static str,
    /// While syncing: bytes sent of bytes to send.
    pub done: u64,
    pub total: u64,
    /// When the server received it (the receipt's time), null if never.
    pub received_at: Option<String>,
    /// The server's name on the receipt.
    pub server: Option<String>,
}

/// The answer to 从服务器获取: one line per bundle, in Chinese.
#[derive(Debug, Serialize)]
pub struct Pulled {
    pub lines: Vec<String>,
    pub imported: usize,
    pub failed: usize,
    /// Issue #13: the lead's reviews did not reach the server this time.
    pub reviews_failed: bool,
}

/// An assignment from the server that 新建评价 offers (the hall and rubric prefilled).
#[derive(Debug, Serialize)]
pub struct ServerAssignment {
    pub id: String,
    pub site: String,
    pub rubric_id: String,
    /// "member" or "lead".
    pub role: String,
    /// The registry's hall (issue #11): its id, 行政区划代码, address and level; absent for an
    /// assignment made without the registry.
    pub hall_id: Option<String>,
    pub region_code: Option<String>,
    pub address: Option<String>,
    pub level: Option<String>,
    /// Planned visit days (`YYYY-MM-DD`).
    pub planned_from: Option<String>,
    pub planned_to: Option<String>,
}
