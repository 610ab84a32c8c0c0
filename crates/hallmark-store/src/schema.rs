//! The database schema: numbered migrations (`migrations/NNNN_*.sql`), embedded, each run in
//! one transaction and counted by `PRAGMA user_version`. A shipped migration is never edited.

use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};

use crate::{Result, StoreError};

const MIGRATIONS: &[&str] = &[
    include_str!("../migrations/0001_init.sql"),
    include_str!("../migrations/0002_service_entries.sql"),
    include_str!("../migrations/0003_bundles.sql"),
    include_str!("../migrations/0004_hardening.sql"),
    include_str!("../migrations/0005_panels.sql"),
    include_str!("../migrations/0006_trust.sql"),
    include_str!("../migrations/0007_sync.sql"),
    include_str!("../migrations/0008_rubrics.sql"),
    include_str!("../migrations/0009_assignments.sql"),
    include_str!("../migrations/0010_report_corrections.sql"),
    include_str!("../migrations/0011_rectifications.sql"),
    include_str!("../migrations/0012_reviews.sql"),
    include_str!("../migrations/0013_report_withdrawals.sql"),
];

/// The schema version this build writes and reads.
pub const CURRENT: usize = MIGRATIONS.len();

/// Brings the schema up to date and makes sure the database names its device, all under one
/// exclusive lock: two first opens of a new database (two `hallmark` commands, the app and a
/// command) cannot both run migration 1 or both make a device id. Returns the device id.
pub(crate) fn migrate(conn: &mut Connection, now: &str) -> Result<String> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Exclusive)?;
    let current: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if current as usize > MIGRATIONS.len() {
        return Err(StoreError::Invalid(format!(
            "the database is from a newer hallmark (schema {current}, this build knows {}): update hallmark",
            MIGRATIONS.len()
        )));
    }
    for (n, sql) in MIGRATIONS.iter().enumerate().skip(current as usize) {
        // Each migration is all or nothing within the one transaction.
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", (n + 1) as i64)?;
    }
    let device: Option<String> = tx.query_row("SELECT id FROM device", [], |r| r.get(0)).optional()?;
    let device = match device {
        Some(d) => d,
        None => {
            let d = uuid::Uuid::now_v7().to_string();
            tx.execute("INSERT INTO device (id, created_at) VALUES (?1, ?2)", params![d, now])?;
            d
        }
    };
    tx.commit()?;
    Ok(device)
}
