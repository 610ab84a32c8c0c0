//! The tablet's outbox (issue #11): a background thread that pushes every inspection changed
//! since its last receipt whenever the configured server is reachable — drafts too, so a lost
//! tablet loses nothing that was ever online — with exponential backoff after a failure. It
//! works on its own connection to the data folder (the UI's commands never wait for the
//! network) and deletes nothing local: an inspection is 已同步 only while a checked receipt
//! covers everything it holds.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use hallmark_store::{Access, Store};
use hallmark_sync::SyncError;

use crate::view::{CommandError, SyncInspection, SyncStatus};

/// After a success the outbox looks again this often (new answers are pushed within it).
const SETTLED: Duration = Duration::from_secs(60);
/// The first wait after a failure; doubled on every failure up to [`MOST`].
const FIRST_BACKOFF: Duration = Duration::from_secs(15);
const MOST: Duration = Duration::from_secs(600);

#[derive(Default)]
struct Shared {
    /// Inspection id → (bytes sent, bytes to send) while it is being pushed.
    syncing: HashMap<String, (u64, u64)>,
    last_attempt: Option<String>,
    last_error: Option<CommandError>,
    next_at: Option<Instant>,
    wake: bool,
}

/// The outbox's state, shared by its thread and the commands.
#[derive(Clone, Default)]
pub struct Outbox {
    shared: Arc<(Mutex<Shared>, Condvar)>,
}

/// A sync failure as the UI sees it: `code` "sync" and the reason in `fields`.
pub fn sync_error(e: &SyncError) -> CommandError {
    let status = match e {
        SyncError::Refused { status, .. } => *status,
        _ => 0,
    };
    let mut c = CommandError::new("sync", e.to_string());
    c.fields = serde_json::json!({ "kind": "sync", "reason": e.code(), "status": status, "transient": e.is_transient() });
    c
}

impl Outbox {
    fn lock(&self) -> std::sync::MutexGuard<'_, Shared> {
        self.shared.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Asks the thread to try now (a server set, 立即同步, an inspection finished).
    pub fn wake(&self) {
        self.lock().wake = true;
        self.shared.1.notify_all();
    }

    /// Starts the thread over the data folder `dir` (its own connection).
    pub fn start(&self, dir: PathBuf) {
        let me = self.clone();
        std::thread::Builder::new().name("hallmark-outbox".into()).spawn(move || me.run(dir)).expect("the outbox thread starts");
    }

    fn run(self, dir: PathBuf) {
        let mut backoff = FIRST_BACKOFF;
        loop {
            let wait = match self.attempt(&dir) {
                Ok(true) => {
                    backoff = FIRST_BACKOFF;
                    SETTLED
                }
                Ok(false) => SETTLED, // nothing to do: no server, or not enrolled
                Err(()) => {
                    let w = backoff;
                    backoff = (backoff * 2).min(MOST);
                    w
                }
            };
            let (m, cv) = &*self.shared;
            let mut g = m.lock().unwrap_or_else(|p| p.into_inner());
            g.next_at = Some(Instant::now() + wait);
            let deadline = Instant::now() + wait;
            while !g.wake {
                let left = deadline.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    break;
                }
                g = cv.wait_timeout(g, left).unwrap_or_else(|p| p.into_inner()).0;
            }
            if g.wake {
                backoff = FIRST_BACKOFF;
            }
            g.wake = false;
            g.next_at = None;
        }
    }

    /// One pass: `Ok(true)` when everything changed was pushed, `Ok(false)` when there is no
    /// server or no enrollment, `Err` after a failure (recorded for the UI).
    fn attempt(&self, dir: &std::path::Path) -> std::result::Result<bool, ()> {
        let now = crate::now;
        let mut store = match Store::open_with(&dir.join(hallmark_store::DB_FILE), dir, Access::Existing, &now()) {
            Ok(s) => s,
            Err(_) => return Ok(false), // the UI shows the store's own trouble
        };
        let Ok(Some(server)) = store.sync_server() else { return Ok(false) };
        if !matches!(store.device_certificates(), Ok(Some(_))) {
            // Enrolling over the network: install the certificate once the bureau approved
            // (no request there, or still pending: nothing to do yet).
            if matches!(store.trusted_root_pems().as_deref(), Ok([_, ..])) {
                match hallmark_sync::enroll::fetch(&store, &server, &now()) {
                    Ok(f) if f.installed.is_some() => eprintln!("hallmark: sync: enrolled by the server's approval"),
                    Ok(_) => return Ok(false),
                    Err(e) => {
                        eprintln!("hallmark: sync: enrollment not checked: {e}");
                        return Ok(false);
                    }
                }
            } else {
                return Ok(false);
            }
        }
        let result = (|| -> std::result::Result<(), SyncError> {
            let (client, _) = hallmark_sync::client::connect_store(&store, &server, &[])?;
            if let Err(e) = client.refresh(&store, &now()) {
                eprintln!("hallmark: sync: revocation lists and rubrics not refreshed: {e}");
            }
            let work = tempfile::Builder::new().prefix(".outbox-").tempdir_in(dir).map_err(|e| SyncError::Local(e.to_string()))?;
            let pushes = client.push_changed(&store, work.path(), &now, &mut |id, done, total| {
                self.lock().syncing.insert(id.to_string(), (done, total));
            })?;
            self.lock().syncing.clear();
            // The lead's reviews of this tablet's sheets (issue #13): shown when the sheet opens.
            match client.receive_reviews(&mut store, &now()) {
                Ok((n, refused)) => {
                    if n > 0 {
                        eprintln!("hallmark: sync: {n} reviews from the lead received");
                    }
                    for why in refused {
                        eprintln!("hallmark: sync: a review file refused: {why}");
                    }
                }
                Err(e) => eprintln!("hallmark: sync: reviews not received: {e}"),
            }
            match pushes.into_iter().find_map(|p| p.result.err()) {
                Some(e) => Err(e),
                None => Ok(()),
            }
        })();
        let mut g = self.lock();
        g.syncing.clear();
        g.last_attempt = Some(now());
        match result {
            Ok(()) => {
                g.last_error = None;
                Ok(true)
            }
            Err(e) => {
                eprintln!("hallmark: sync: {e}");
                g.last_error = Some(sync_error(&e));
                Err(())
            }
        }
    }

    /// The outbox as the UI shows it, read from `store` (the UI's connection).
    pub fn status(&self, store: &Store) -> hallmark_store::Result<SyncStatus> {
        let server = store.sync_server()?;
        let enrolled = store.device_certificates()?.is_some();
        let g = self.lock();
        let mut inspections = Vec::new();
        for s in store.summaries()? {
            if s.origin != "local" {
                continue;
            }
            let receipt = store.last_receipt(&s.id)?;
            let counts = store.sync_counts(&s.id)?;
            let (state, done, total) = match g.syncing.get(&s.id) {
                Some((d, t)) => ("syncing", *d, *t),
                None if receipt.as_ref().is_some_and(|r| (r.events, r.photos) == counts) => ("synced", 0, 0),
                None => ("unsynced", 0, 0),
            };
            inspections.push(SyncInspection {
                id: s.id.clone(),
                state,
                done,
                total,
                received_at: receipt.as_ref().map(|r| r.received_at.clone()),
                server: receipt.map(|r| r.server),
            });
        }
        Ok(SyncStatus {
            server,
            enrolled,
            last_attempt: g.last_attempt.clone(),
            last_error: g.last_error.clone(),
            next_in: g.next_at.map(|t| t.saturating_duration_since(Instant::now()).as_secs()).unwrap_or(0),
            inspections,
        })
    }
}
