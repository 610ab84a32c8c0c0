//! Relay (issue #11): a server forwards every bundle it holds to an upstream server — the
//! lead's LAN server to the province's when it sees the internet. It pushes as a client with
//! its own certificate (role server, requests signed with its P-256 key); the upstream checks
//! every bundle again exactly as an import does, so nothing is trusted because of the path it
//! came by. A bundle counts as relayed only when the upstream's receipt checks out (kept in
//! `upstream_receipts`); until then every pass tries again, with backoff after a failure.

use std::sync::Arc;
use std::time::Duration;

use hallmark_sync::client::Client;
use hallmark_sync::receipt::ServerIdentity;

use crate::Backend;

/// Starts the relay thread: a pass every `every` (doubled up to 10 min after a failure).
pub fn start(upstream: String, every: Duration, identity: Arc<ServerIdentity>, backend: Arc<dyn Backend>) {
    std::thread::Builder::new()
        .name("hallmark-relay".into())
        .spawn(move || {
            let mut wait = every;
            loop {
                match pass(&upstream, &identity, &*backend) {
                    Ok(0) => wait = every,
                    Ok(n) => {
                        eprintln!("hallmark serve: relayed {n} bundles to {upstream}");
                        wait = every;
                    }
                    Err(e) => {
                        eprintln!("hallmark serve: relay to {upstream}: {e}");
                        wait = (wait * 2).min(Duration::from_secs(600));
                    }
                }
                std::thread::sleep(wait);
            }
        })
        .expect("the relay thread starts");
}

/// One pass: pushes every held bundle the upstream has not receipted. Returns how many.
pub fn pass(upstream: &str, identity: &ServerIdentity, backend: &dyn Backend) -> Result<usize, String> {
    let todo: Vec<_> =
        backend.held_all().map_err(|e| e.message)?.into_iter().filter(|b| !backend.upstream_has(&b.bundle_id, upstream).unwrap_or(false)).collect();
    if todo.is_empty() {
        return Ok(0);
    }
    let trust = backend.trust().map_err(|e| e.message)?;
    let root_pems = backend.trusted_root_pems().map_err(|e| e.message)?;
    let client = Client::new(upstream, &root_pems, trust, identity.request_signer()).map_err(|e| e.to_string())?;
    client.present(&identity.certificates).map_err(|e| e.to_string())?;
    let work = backend.work_dir().join(".relay");
    std::fs::create_dir_all(&work).map_err(|e| format!("{}: {e}", work.display()))?;
    let mut done = 0;
    for b in todo {
        let head = backend.head(&b.bundle_id).map_err(|e| e.message)?.ok_or_else(|| format!("bundle {} is held but its head is not", b.bundle_id))?;
        let file = work.join(format!("{}.hallmark", b.bundle_id));
        {
            let out = std::fs::File::create(&file).map_err(|e| format!("{}: {e}", file.display()))?;
            let mut out = std::io::BufWriter::new(out);
            backend.write_bundle(&head.bytes, &mut out).map_err(|e| e.message)?;
            std::io::Write::flush(&mut out).map_err(|e| e.to_string())?;
        }
        let pushed = client.push_file(&file, &mut |_, _| {});
        let _ = std::fs::remove_file(&file);
        let pushed = pushed.map_err(|e| format!("bundle {}: {e}", &b.bundle_id[..12]))?;
        backend.keep_upstream_receipt(&b.bundle_id, upstream, &pushed.signed, &crate::now()).map_err(|e| e.message)?;
        done += 1;
    }
    Ok(done)
}
