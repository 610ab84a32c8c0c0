//! The database schema: numbered migrations (`migrations/NNNN_*.sql`), embedded, each run in
//! one transaction and counted by `PRAGMA user_version`. A shipped migration is never edited.

use rusqlite::Connection;

use crate::{Result, StoreError};

const MIGRATIONS: &[&str] = &[
    include_str!("../migrations/0001_init.sql"),
    include_str!("../migrations/0002_service_entries.sql"),
    include_str!("../migrations/0003_bundles.sql"),
];

pub(crate) fn migrate(conn: &mut Connection) -> Result<()> {
    let current: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if current as usize > MIGRATIONS.len() {
        return Err(StoreError::Invalid(format!(
            "the database is from a newer hallmark (schema {current}, this build knows {}): update hallmark",
            MIGRATIONS.len()
        )));
    }
    for (n, sql) in MIGRATIONS.iter().enumerate().skip(current as usize) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", (n + 1) as i64)?;
        tx.commit()?;
    }
    Ok(())
}
