//! A few PostgreSQL connections, reused: the dashboard's pages and the sync server's
//! PostgreSQL backend share one pool.

use std::sync::Mutex;

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
        let mut first = crate::connect(url).map_err(|e| e.to_string())?;
        crate::migrate(&mut first).map_err(|e| format!("cannot migrate the province records: {e}"))?;
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
                return match crate::connect(&self.url) {
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
