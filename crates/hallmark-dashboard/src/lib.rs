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

use std::sync::{Arc, Mutex};

use postgres::Client;

/// A few PostgreSQL connections, reused (the `postgres` crate is blocking: pages use them on
/// tokio's blocking pool).
pub struct Pool {
    url: String,
    idle: Mutex<Vec<Client>>,
    max_idle: usize,
}

/// A connection from the pool; back to it when dropped (unless it broke).
pub struct Conn<'a> {
    pool: &'a Pool,
    client: Option<Client>,
}

impl std::ops::Deref for Conn<'_> {
    type Target = Client;
    fn deref(&self) -> &Client {
        self.client.as_ref().expect("held until dropped")
    }
}

impl std::ops::DerefMut for Conn<'_> {
    fn deref_mut(&mut self) -> &mut Client {
        self.client.as_mut().expect("held until dropped")
    }
}

impl Drop for Conn<'_> {
    fn drop(&mut self) {
        if let Some(c) = self.client.take() {
            if !c.is_closed() {
                let mut idle = self.pool.idle.lock().unwrap_or_else(|e| e.into_inner());
                if idle.len() < self.pool.max_idle {
                    idle.push(c);
                }
            }
        }
    }
}

impl Pool {
    /// Connects once (so a wrong URL fails at start, not at the first page) and migrates.
    pub fn open(url: &str, max_idle: usize) -> Result<Pool, String> {
        let mut first = hallmark_province::connect(url).map_err(|e| e.to_string())?;
        hallmark_province::migrate(&mut first).map_err(|e| format!("cannot migrate the province records: {e}"))?;
        Ok(Pool { url: url.to_string(), idle: Mutex::new(vec![first]), max_idle })
    }

    pub fn get(&self) -> Result<Conn<'_>, String> {
        let held = self.idle.lock().unwrap_or_else(|e| e.into_inner()).pop();
        let client = match held {
            Some(c) => c,
            None => hallmark_province::connect(&self.url).map_err(|e| e.to_string())?,
        };
        Ok(Conn { pool: self, client: Some(client) })
    }
}

/// What the pages share.
pub struct Dashboard {
    pub pool: Pool,
    /// `Secure` on cookies: true behind TLS (always, under `hallmark serve`).
    pub secure_cookies: bool,
    pub login_limit: access::LoginLimit,
    /// The sync server's assignments (the 评价任务 pages); `None`: not served.
    pub commissions: Option<Arc<dyn commissions::Commissions>>,
}

impl Dashboard {
    pub fn new(pool: Pool, commissions: Option<Arc<dyn commissions::Commissions>>) -> Arc<Dashboard> {
        Arc::new(Dashboard { pool, secure_cookies: true, login_limit: access::LoginLimit::default(), commissions })
    }
}

pub use pages::router;

/// Today in China (the bureau's day), as `YYYY-MM-DD`.
pub fn today() -> String {
    (chrono::Utc::now() + chrono::Duration::hours(8)).format("%Y-%m-%d").to_string()
}
