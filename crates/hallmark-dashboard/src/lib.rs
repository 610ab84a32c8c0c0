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
/// tokio's blocking pool). At most `max` are open: a flood of requests waits for one (up to
/// [`Pool::WAIT`]) instead of exhausting the database's connections.
pub struct Pool {
    url: String,
    /// Idle connections, and how many are open in all (idle or in use).
    state: Mutex<(Vec<Client>, usize)>,
    freed: std::sync::Condvar,
    max: usize,
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
            let mut state = self.pool.state.lock().unwrap_or_else(|e| e.into_inner());
            if c.is_closed() {
                state.1 -= 1;
            } else {
                state.0.push(c);
            }
            self.pool.freed.notify_one();
        }
    }
}

impl Pool {
    /// Connects once (so a wrong URL fails at start, not at the first page) and migrates.
    pub fn open(url: &str, max: usize) -> Result<Pool, String> {
        let mut first = hallmark_province::connect(url).map_err(|e| e.to_string())?;
        hallmark_province::migrate(&mut first).map_err(|e| format!("cannot migrate the province records: {e}"))?;
        Ok(Pool { url: url.to_string(), state: Mutex::new((vec![first], 1)), freed: std::sync::Condvar::new(), max: max.max(1) })
    }

    /// How long a request waits for a connection when all are in use.
    pub const WAIT: std::time::Duration = std::time::Duration::from_secs(10);

    pub fn get(&self) -> Result<Conn<'_>, String> {
        let started = std::time::Instant::now();
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            if let Some(c) = state.0.pop() {
                return Ok(Conn { pool: self, client: Some(c) });
            }
            if state.1 < self.max {
                state.1 += 1;
                drop(state);
                return match hallmark_province::connect(&self.url) {
                    Ok(c) => Ok(Conn { pool: self, client: Some(c) }),
                    Err(e) => {
                        self.state.lock().unwrap_or_else(|e| e.into_inner()).1 -= 1;
                        self.freed.notify_one();
                        Err(e.to_string())
                    }
                };
            }
            let left = Self::WAIT
                .checked_sub(started.elapsed())
                .ok_or_else(|| format!("all {} database connections stayed busy for {:?}", self.max, Self::WAIT))?;
            state = self.freed.wait_timeout(state, left).unwrap_or_else(|e| e.into_inner()).0;
        }
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
