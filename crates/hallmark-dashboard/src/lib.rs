//! The bureau dashboard (issue #12): pages for the province and city 医保局 over the province
//! records in PostgreSQL (`hallmark_province`), served by `hallmark serve --postgres URL` on the
//! same TLS listener as the sync protocol. Server-rendered HTML, charts as inline SVG, one
//! stylesheet compiled in: nothing is fetched from outside (a bureau intranet has no internet).
//!
//! - [`intake`]: a verified report and its bundles into the records.
//! - [`access`]: staff logins (argon2id), sessions, CSRF, roles by 行政区划, the login limit.
//! - [`pages`]: the routes and what they render; [`charts`]: the SVG.
//!
//! Every number on a page is a copy of what a verified report recomputed from signed bundles;
//! nothing here computes a score.

pub mod access;
pub mod assignments;
pub mod charts;
pub mod commissions;
pub mod html;
pub mod intake;
pub mod pages;
pub mod regions;

use std::sync::Arc;

pub use hallmark_province::pool::{Conn, Pool};

/// What the pages share.
pub struct Dashboard {
    pub pool: Pool,
    /// `Secure` on cookies: true behind TLS (always, under `hallmark serve`).
    pub secure_cookies: bool,
    pub login_limit: access::LoginLimit,
    /// The sync server's assignments (the 评价任务 pages); `None`: not served.
    pub commissions: Option<Arc<dyn commissions::Commissions>>,
    /// The bureau roots and revocation lists the server trusts now (重新核验); `None`: not offered.
    pub trust: Option<TrustSource>,
    /// Where the evidence's bytes are (PostgreSQL or the object store).
    pub blobs: Arc<hallmark_province::blobs::BlobStore>,
}

/// Where the current trust comes from (the server's store: roots and the newest CRLs).
pub type TrustSource = Arc<dyn Fn() -> Result<hallmark_trust::TrustStore, String> + Send + Sync>;

impl Dashboard {
    pub fn new(
        pool: Pool,
        blobs: Arc<hallmark_province::blobs::BlobStore>,
        commissions: Option<Arc<dyn commissions::Commissions>>,
        trust: Option<TrustSource>,
    ) -> Arc<Dashboard> {
        Arc::new(Dashboard { pool, secure_cookies: true, login_limit: access::LoginLimit::default(), commissions, trust, blobs })
    }
}

pub use pages::router;

/// Today in China (the bureau's day), as `YYYY-MM-DD`.
pub fn today() -> String {
    (chrono::Utc::now() + chrono::Duration::hours(8)).format("%Y-%m-%d").to_string()
}
