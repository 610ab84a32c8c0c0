//! `hallmark serve`, `hallmark assignment add` and `hallmark sync push|pull` (issue #11):
//! thin wrappers over hallmark-server and hallmark-sync's client.

use std::path::{Path, PathBuf};

use hallmark_store::{Access, Store};
use hallmark_sync::client::Client;
use hallmark_sync::SyncError;

use crate::{now, open_db, read, Db};

/// `hallmark serve --data DIR --listen ADDR --cert FILE --key FILE --trust ROOT.pem [--trust CRL.pem]`
#[allow(clippy::too_many_arguments)]
pub(crate) fn serve(
    data: &Path,
    listen: &str,
    cert: &Path,
    key: &Path,
    trust: &[PathBuf],
    idle_secs: u64,
    upstream: Option<String>,
    relay_every: u64,
) -> Result<(), String> {
    let mut limits = hallmark_server::net::Limits::default();
    limits.idle = std::time::Duration::from_secs(idle_secs);
    limits.handshake = limits.handshake.min(limits.idle);
    hallmark_server::run(hallmark_server::Config {
        data: data.to_path_buf(),
        listen: listen.to_string(),
        cert_file: cert.to_path_buf(),
        key_file: key.to_path_buf(),
        trust_files: trust.to_vec(),
        limits,
        upstream,
        relay_every,
    })
}

/// The Ed25519 key a device certificate certifies, and its name.
fn certified_key(file: &Path) -> Result<(String, String), String> {
    let (_, key, name) = hallmark_server::device_certificate(&file.display().to_string(), &read(file)?)?;
    Ok((key, name))
}

/// Where `assignment add` adds: the data folder, or a running server with its admin token.
pub(crate) enum AssignmentPlace {
    Data(PathBuf),
    Server { url: String, token_file: PathBuf, trust: Vec<PathBuf> },
}

/// `hallmark assignment add (--data DIR | --server URL --token-file F --trust ROOT) --id ID --site NAME --rubric ID --lead CERT --member CERT...`
pub(crate) fn assignment_add(place: &AssignmentPlace, id: &str, site: &str, rubric: &str, lead: &Path, members: &[PathBuf]) -> Result<(), String> {
    let data = match place {
        AssignmentPlace::Data(d) => d,
        AssignmentPlace::Server { url, token_file, trust } => {
            let token = read(token_file)?;
            let roots = trust.iter().map(|f| read(f)).collect::<Result<Vec<_>, _>>()?;
            let a = hallmark_sync::wire::AssignmentV1 {
                id: id.into(),
                site: site.into(),
                rubric_id: rubric.into(),
                lead_certificate: read(lead)?,
                member_certificates: members.iter().map(|m| read(m)).collect::<Result<Vec<_>, _>>()?,
            };
            let added = hallmark_sync::client::add_assignment_remote(url, &roots, &token, &a).map_err(|e| e.to_string())?;
            outln!(
                "assignment {}: {} ({}), lead {}, {} members: {}",
                added.id,
                added.site,
                added.rubric_id,
                added.lead,
                added.members.len(),
                added.members.join("、")
            );
            return Ok(());
        }
    };
    let mut known: Vec<&str> = hallmark_core::builtin::SHIPPED.iter().map(|s| s.id).collect();
    known.dedup();
    if !known.contains(&rubric) {
        return Err(format!("rubric '{rubric}' is not one hallmark ships (one of: {})", known.join(", ")));
    }
    let (lead_key, lead_name) = certified_key(lead)?;
    let members = members.iter().map(|m| certified_key(m)).collect::<Result<Vec<_>, _>>()?;
    let a = hallmark_server::embedded::Assignment { id: id.into(), site: site.into(), rubric_id: rubric.into(), lead_key, members: members.clone() };
    hallmark_server::embedded::add_assignment(data, &a, &now())?;
    let names: Vec<&str> = members.iter().map(|m| m.1.as_str()).collect();
    outln!("assignment {id}: {site} ({rubric}), lead {lead_name}, {} members: {}", names.len(), names.join("、"));
    Ok(())
}

fn connect(store: &Store, server: &str, trust: &[PathBuf]) -> Result<Client, String> {
    let extra = trust.iter().map(|f| Ok((f.display().to_string(), read(f)?))).collect::<Result<Vec<_>, String>>()?;
    let (client, who) = hallmark_sync::client::connect_store(store, server, &extra).map_err(|e| e.to_string())?;
    eprintln!("{}: known as {} ({}), roles {}", client.url(), who.name, who.unit, who.roles.join(", "));
    Ok(client)
}

fn work_dir(store: &Store) -> Result<tempfile::TempDir, String> {
    tempfile::Builder::new().prefix(".sync-").tempdir_in(store.dir()).map_err(|e| format!("cannot make a work folder: {e}"))
}

/// `hallmark sync push --server URL --db DB [--trust ROOT.pem] [FILE.hallmark...]`
pub(crate) fn push(db: &Db, server: &str, trust: &[PathBuf], files: &[PathBuf]) -> Result<(), String> {
    let store = open_db(db, Access::Existing)?;
    let client = connect(&store, server, trust)?;
    let mut failed = 0;
    if !files.is_empty() {
        for f in files {
            match client.push_file(f, &mut |_, _| {}) {
                Ok(p) => {
                    let r = &p.receipt.receipt;
                    let what =
                        if p.already_had { "already held".to_string() } else { format!("{} files, {} bytes sent", p.files_sent, p.bytes_sent) };
                    outln!("{}: received by '{}' at {} ({what}; {} events, {} photos)", f.display(), r.server, r.received_at, r.events, r.photos);
                }
                Err(e) => {
                    failed += 1;
                    outln!("{}: not pushed: {e}", f.display());
                }
            }
        }
    } else {
        let work = work_dir(&store)?;
        for p in client.push_changed(&store, work.path(), &now, &mut |_, _, _| {}).map_err(|e| e.to_string())? {
            match p.result {
                Ok(None) => outln!("{} {}: 已同步 (unchanged since its last receipt)", p.inspection_id, p.site),
                Ok(Some(x)) => outln!(
                    "{} {}: 已同步, received by '{}' at {} ({} files sent)",
                    p.inspection_id,
                    p.site,
                    x.receipt.receipt.server,
                    x.receipt.receipt.received_at,
                    x.files_sent
                ),
                Err(e) => {
                    failed += 1;
                    outln!("{} {}: 未同步: {e}", p.inspection_id, p.site);
                }
            }
        }
    }
    if failed > 0 {
        return Err(format!("{failed} not pushed (nothing local was changed; run the same command again)"));
    }
    Ok(())
}

/// `hallmark sync pull --server URL --db DB [--trust ROOT.pem]`
pub(crate) fn pull(db: &Db, server: &str, trust: &[PathBuf]) -> Result<(), String> {
    let mut store = open_db(db, Access::Create)?;
    let client = connect(&store, server, trust)?;
    let work = work_dir(&store)?;
    let pulled = client.pull_into(&mut store, work.path(), &now).map_err(|e| e.to_string())?;
    if pulled.is_empty() {
        outln!("nothing to pull: no assignment led by this device holds bundles yet");
    }
    let mut failed = 0;
    for p in pulled {
        let short = &p.bundle_id[..12];
        match p.result {
            Ok(None) => outln!("{short} {} · {}: already here", p.site, p.assessor),
            Ok(Some(i)) => outln!("{}", i.line(short)),
            Err(SyncError::Store(e)) => {
                failed += 1;
                outln!("{short} {} · {}: refused: {e}", p.site, p.assessor);
            }
            Err(e) => {
                failed += 1;
                outln!("{short} {} · {}: not pulled: {e}", p.site, p.assessor);
            }
        }
    }
    if failed > 0 {
        return Err(format!("{failed} bundles not pulled (the others are imported; run the same command again)"));
    }
    Ok(())
}

/// `hallmark sync assignments --db DB --server URL`
pub(crate) fn assignments(db: &Db, server: &str, trust: &[PathBuf]) -> Result<(), String> {
    let store = open_db(db, Access::Existing)?;
    let client = connect(&store, server, trust)?;
    let list = client.assignments().map_err(|e| e.to_string())?;
    if list.assignments.is_empty() {
        outln!("no assignment names this device yet");
    }
    for a in list.assignments {
        outln!("{}\t{}\t{}\t{}", a.id, a.site, a.rubric_id, if a.role == "lead" { "评价组长" } else { "评价人员" });
    }
    Ok(())
}
