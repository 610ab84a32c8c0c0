//! What the lead last entered for a site's report (负责人, 电话, 电子邮箱, 组长), remembered
//! between visits (issue #14): saved by each report made, offered for the next.

use rusqlite::{params, OptionalExtension};
use serde::{Deserialize, Serialize};

use crate::{Result, Store};

/// The report details of one site, as the lead last entered them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SiteDetails {
    #[serde(default)]
    pub site_head: String,
    #[serde(default)]
    pub site_phone: String,
    #[serde(default)]
    pub site_email: String,
    #[serde(default)]
    pub leader: Option<String>,
}

impl Store {
    /// Remembers `details` for `site`, replacing what was remembered.
    pub fn save_report_details(&self, site: &str, details: &SiteDetails, now: &str) -> Result<()> {
        let json = serde_json::to_string(details).expect("plain strings serialize");
        self.conn.execute(
            "INSERT INTO report_details (site, details, saved_at) VALUES (?1, ?2, ?3)
             ON CONFLICT (site) DO UPDATE SET details = excluded.details, saved_at = excluded.saved_at",
            params![site, json, now],
        )?;
        Ok(())
    }

    /// The details last saved for `site`, if any.
    pub fn report_details(&self, site: &str) -> Result<Option<SiteDetails>> {
        let text: Option<String> = self.conn.query_row("SELECT details FROM report_details WHERE site = ?1", [site], |r| r.get(0)).optional()?;
        text.map(|t| {
            let v = crate::stored_json(&t)?;
            serde_json::from_value(v).map_err(|e| crate::StoreError::Damaged {
                file: "the database".into(),
                detail: format!("the saved report details of '{site}' do not read ({e})"),
            })
        })
        .transpose()
    }
}
