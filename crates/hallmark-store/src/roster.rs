//! The roster: public keys the lead knows, with the assessor's name. A bundle signed by a key
//! not on it is imported with a flag, never silently trusted. A roster file (the demo's
//! `roster.tsv`) holds "key<TAB>name" lines; `#` starts a comment line.

use hallmark_core::hex::unhex;
use rusqlite::{params, OptionalExtension};
use serde::Serialize;

use crate::{identity, Result, Store, StoreError};

impl Store {
    pub fn roster_add(&mut self, public_key: &str, name: &str, now: &str) -> Result<String> {
        check_entry(public_key, name)?;
        let key = public_key.trim().to_ascii_lowercase();
        self.conn.execute(
            "INSERT INTO roster (public_key, name, added_at) VALUES (?1, ?2, ?3) ON CONFLICT (public_key) DO UPDATE SET name = excluded.name",
            params![key, name.trim(), now],
        )?;
        Ok(identity::fingerprint_of(&unhex(&key).expect("checked")))
    }

    /// Adds every assessor of a roster file ([`parse_roster`]): all lines are checked before
    /// any is added. Returns each (name, fingerprint) added.
    pub fn roster_load(&mut self, path: &std::path::Path, now: &str) -> Result<Vec<(String, String)>> {
        let text =
            std::fs::read_to_string(path).map_err(|e| crate::io(&format!("{}: cannot read the roster file (check the path)", path.display()), e))?;
        let pairs = parse_roster(&path.display().to_string(), &text)?;
        for (key, name) in &pairs {
            check_entry(key, name)?;
        }
        let mut out = Vec::new();
        for (key, name) in pairs {
            let fp = self.roster_add(&key, &name, now)?;
            out.push((name, fp));
        }
        Ok(out)
    }

    pub fn roster(&self) -> Result<Vec<RosterEntry>> {
        let mut st = self.conn.prepare("SELECT public_key, name, added_at FROM roster ORDER BY name, public_key")?;
        let rows = st.query_map([], |r| {
            let key: String = r.get(0)?;
            Ok(RosterEntry {
                fingerprint: identity::fingerprint_of(&unhex(&key).unwrap_or_default()),
                public_key: key,
                name: r.get(1)?,
                added_at: r.get(2)?,
            })
        })?;
        Ok(rows.collect::<std::result::Result<Vec<_>, _>>()?)
    }

    pub fn roster_name(&self, public_key: &str) -> Result<Option<String>> {
        Ok(self.conn.query_row("SELECT name FROM roster WHERE public_key = ?1", [public_key], |r| r.get(0)).optional()?)
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct RosterEntry {
    pub public_key: String,
    pub fingerprint: String,
    pub name: String,
    pub added_at: String,
}

/// Refuses a key that is not 64 hex digits, or an empty name.
fn check_entry(public_key: &str, name: &str) -> Result<()> {
    let key = public_key.trim().to_ascii_lowercase();
    if unhex(&key).map(|k| k.len()) != Some(32) {
        return Err(StoreError::Invalid(format!(
            "'{public_key}' is not an Ed25519 public key (64 hex digits; the tablet shows it under 本机签名密钥)"
        )));
    }
    if name.trim().is_empty() {
        return Err(StoreError::Invalid("a roster entry needs the assessor's name".into()));
    }
    Ok(())
}

/// The (key, name) pairs of a roster file's text: "key<TAB>name" per line, blank lines and
/// `#` comments skipped. `file` names it in the error.
pub fn parse_roster(file: &str, text: &str) -> Result<Vec<(String, String)>> {
    let mut pairs = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (k, v) = line
            .split_once('\t')
            .ok_or_else(|| StoreError::Invalid(format!("{file}:{}: '{line}' is not \"key<TAB>name\" (one assessor per line)", n + 1)))?;
        pairs.push((k.to_string(), v.to_string()));
    }
    Ok(pairs)
}
