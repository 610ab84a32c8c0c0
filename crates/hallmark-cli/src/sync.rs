//! `hallmark serve`, `hallmark assignment add` and `hallmark sync push|pull` (issue #11):
//! thin wrappers over hallmark-server and hallmark-sync's client.

use hallmark_server::Backend;
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
    postgres: Option<String>,
    s3: Option<String>,
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
        postgres,
        s3,
    })
}

/// The Ed25519 key a device certificate certifies, and its name.
fn certified_key(file: &Path) -> Result<(String, String), String> {
    let (_, key, name) = hallmark_server::device_certificate(&file.display().to_string(), &read(file)?)?;
    Ok((key, name))
}

/// Where an admin verb acts: the data folder, or a running server with its admin token.
pub(crate) enum AdminPlace {
    Data(PathBuf),
    /// A server's PostgreSQL (issue #16).
    Postgres(String),
    Server {
        url: String,
        token_file: PathBuf,
        trust: Vec<PathBuf>,
    },
}

/// The province backend of a server's PostgreSQL, for an admin verb on the server's machine.
pub(crate) fn province_backend(url: &str) -> Result<hallmark_server::province::Province, String> {
    let blobs = std::sync::Arc::new(hallmark_province::blobs::BlobStore::Postgres);
    hallmark_server::province::Province::open(url, blobs, &std::env::temp_dir(), 2)
}

/// How `assignment add` names the hall.
pub(crate) enum HallNamed {
    /// Its id in the registry.
    Registry(String),
    /// Its name as typed (an assignment without a registry, V1).
    Typed(String),
}

/// `hallmark assignment add (--data DIR | --server URL --token-file F --trust ROOT) --id ID (--hall ID | --site NAME) --rubric ID --lead CERT --member CERT... [--from DAY --to DAY]`
pub(crate) fn assignment_add(
    place: &AdminPlace,
    id: &str,
    hall: &HallNamed,
    rubric: &str,
    lead: &Path,
    members: &[PathBuf],
    planned: Option<(String, String)>,
) -> Result<(), String> {
    match place {
        AdminPlace::Data(_) | AdminPlace::Postgres(_) => {}
        AdminPlace::Server { url, token_file, trust } => {
            let token = read(token_file)?;
            let roots = trust.iter().map(|f| read(f)).collect::<Result<Vec<_>, _>>()?;
            let lead_certificate = read(lead)?;
            let member_certificates = members.iter().map(|m| read(m)).collect::<Result<Vec<_>, _>>()?;
            let added = match hall {
                HallNamed::Typed(site) => {
                    if planned.is_some() {
                        return Err("planned days need a registry hall (--hall ID)".into());
                    }
                    let a = hallmark_sync::wire::AssignmentV1 {
                        id: id.into(),
                        site: site.clone(),
                        rubric_id: rubric.into(),
                        lead_certificate,
                        member_certificates,
                    };
                    hallmark_sync::client::add_assignment_remote(url, &roots, &token, &a)
                }
                HallNamed::Registry(hall_id) => {
                    let (planned_from, planned_to) = planned.unzip();
                    let a = hallmark_sync::wire::AssignmentV2 {
                        id: id.into(),
                        hall_id: hall_id.clone(),
                        rubric_id: rubric.into(),
                        lead_certificate,
                        member_certificates,
                        planned_from,
                        planned_to,
                    };
                    hallmark_sync::client::add_hall_assignment_remote(url, &roots, &token, &a)
                }
            }
            .map_err(|e| e.to_string())?;
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
    let planned = hallmark_server::embedded::planned_days(planned.as_ref().map(|p| p.0.as_str()), planned.as_ref().map(|p| p.1.as_str()))?;
    let (lead_key, lead_name) = certified_key(lead)?;
    let members = members.iter().map(|m| certified_key(m)).collect::<Result<Vec<_>, _>>()?;
    let (site, hall_id) = match hall {
        HallNamed::Typed(s) => (s.clone(), None),
        HallNamed::Registry(h) => (String::new(), Some(h.clone())),
    };
    let a =
        hallmark_server::embedded::Assignment { id: id.into(), site, hall_id, rubric_id: rubric.into(), lead_key, members: members.clone(), planned };
    let hall_name = |b: &dyn Backend, h: &str| b.hall(h).map(|x| x.map(|x| x.name).unwrap_or_default()).map_err(|e| e.message);
    let site = match place {
        AdminPlace::Postgres(url) => {
            let b = province_backend(url)?;
            b.add_assignment(&a, &now()).map_err(|e| e.message)?;
            match hall {
                HallNamed::Typed(s) => s.clone(),
                HallNamed::Registry(h) => hall_name(&b, h)?,
            }
        }
        AdminPlace::Data(data) => {
            hallmark_server::embedded::add_assignment(data, &a, &now())?;
            match hall {
                HallNamed::Typed(s) => s.clone(),
                HallNamed::Registry(h) => hall_name(&hallmark_server::embedded::Embedded::open(data, &now())?, h)?,
            }
        }
        AdminPlace::Server { .. } => unreachable!("sent above"),
    };
    let names: Vec<&str> = members.iter().map(|m| m.1.as_str()).collect();
    outln!("assignment {id}: {site} ({rubric}), lead {lead_name}, {} members: {}", names.len(), names.join("、"));
    Ok(())
}

/// `hallmark hall import FILE.xlsx (--data DIR | --server URL --token-file F --trust ROOT)`
pub(crate) fn hall_import(place: &AdminPlace, file: &Path) -> Result<(), String> {
    let halls = hallmark_server::halls::read_sheet(file)?;
    let (added, updated, unchanged) = match place {
        AdminPlace::Data(d) => {
            let mut conn = hallmark_server::embedded::open_sync_db(d)?;
            hallmark_server::embedded::import_halls(&mut conn, &halls, &now()).map_err(|e| format!("{}: {e}", d.display()))?
        }
        AdminPlace::Postgres(url) => province_backend(url)?.import_halls(&halls, &now()).map_err(|e| e.message)?,
        AdminPlace::Server { url, token_file, trust } => {
            let token = read(token_file)?;
            let roots = trust.iter().map(|f| read(f)).collect::<Result<Vec<_>, _>>()?;
            let list = hallmark_sync::wire::HallListV1 { halls: halls.iter().map(|h| h.wire()).collect() };
            let r = hallmark_sync::client::import_halls_remote(url, &roots, &token, &list).map_err(|e| e.to_string())?;
            (r.added, r.updated, r.unchanged)
        }
    };
    outln!("{}: {} halls: {added} added, {updated} updated, {unchanged} unchanged", file.display(), halls.len());
    Ok(())
}

/// `hallmark hall list --data DIR`
pub(crate) fn hall_list(data: &Path) -> Result<(), String> {
    let conn = hallmark_server::embedded::open_sync_db(data)?;
    let halls = hallmark_server::embedded::list_halls(&conn).map_err(|e| e.to_string())?;
    if halls.is_empty() {
        outln!("the registry is empty (hallmark hall import FILE.xlsx --data {})", data.display());
    }
    for h in halls {
        outln!("{}\t{}\t{}\t{}\t{}", h.id, h.region_code, h.level, h.name, h.address);
    }
    Ok(())
}

fn connect(store: &Store, server: &str, trust: &[PathBuf]) -> Result<Client, String> {
    let extra = trust.iter().map(|f| Ok((f.display().to_string(), read(f)?))).collect::<Result<Vec<_>, String>>()?;
    let (client, who) = hallmark_sync::client::connect_store(store, server, &extra).map_err(|e| e.to_string())?;
    eprintln!("{}: known as {} ({}), roles {}", client.url(), who.name, who.unit, who.roles.join(", "));
    // Revocation lists and published rubrics come with every sync; a failure here does not
    // stop the push or pull (it is said, and tried again next time).
    match client.refresh(store, &now()) {
        Ok((crls, rubrics)) => {
            if crls > 0 {
                eprintln!("{}: {crls} new revocation lists loaded", client.url());
            }
            for r in rubrics {
                eprintln!("{}: rubric '{}' v{} fetched (sha256 {})", client.url(), r.rubric_id, r.version, &r.sha256[..16]);
            }
        }
        Err(e) => eprintln!("{}: revocation lists and rubrics not refreshed: {e}", client.url()),
    }
    Ok(client)
}

fn work_dir(store: &Store) -> Result<tempfile::TempDir, String> {
    tempfile::Builder::new().prefix(".sync-").tempdir_in(store.dir()).map_err(|e| format!("cannot make a work folder: {e}"))
}

/// `hallmark sync push --server URL --db DB [--trust ROOT.pem] [FILE.hallmark...]`
pub(crate) fn push(db: &Db, server: &str, trust: &[PathBuf], files: &[PathBuf]) -> Result<(), String> {
    let mut store = open_db(db, Access::Existing)?;
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
        // The lead's reviews of this device's sheets come back on the same connection (#13).
        // A review not received is said, but the bundles above were pushed all the same.
        match client.receive_reviews(&mut store, &now()) {
            Ok((n, refused)) => {
                if n > 0 {
                    outln!("收到组长复核意见 {n} 条");
                }
                for why in refused {
                    outln!("a review file from the server was refused (nothing of it kept): {why}");
                }
            }
            Err(e) => outln!("reviews not received (the bundles above are pushed): {e}"),
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
    // The lead's reviews go the other way on the same connection (issue #13).
    match client.push_reviews(&store) {
        Ok(Some(r)) => outln!("复核意见 {} 条新送达服务器（服务器共有本组复核意见 {} 条）", r.stored, r.held),
        Ok(None) => {}
        Err(e) => return Err(format!("the reviews were not sent: {e} (the bundles are imported; run the same command again)")),
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
        let days = match (&a.planned_from, &a.planned_to) {
            (Some(f), Some(t)) => format!("{f}..{t}"),
            _ => "-".into(),
        };
        let address = a.hall.as_ref().map(|h| format!("{} {}", h.region_code, h.address)).unwrap_or_default();
        outln!("{}\t{}\t{}\t{}\t{days}\t{address}", a.id, a.site, a.rubric_id, if a.role == "lead" { "评价组长" } else { "评价人员" });
    }
    Ok(())
}

/// `hallmark sync report --db LEAD --server URL --trust ROOT [--hall ID] REPORT.pdf`
pub(crate) fn report(db: &Db, server: &str, trust: &[PathBuf], hall: Option<&str>, pdf: &Path) -> Result<(), String> {
    let store = open_db(db, Access::Existing)?;
    let client = connect(&store, server, trust)?;
    let stored = client.push_report(pdf, hall).map_err(|e| e.to_string())?;
    if stored.new {
        outln!("report {} of hall {}: verified by {server} and kept in the province records", stored.report_number, stored.hall_id);
    } else {
        outln!("report {} of hall {}: the province records held it already", stored.report_number, stored.hall_id);
    }
    Ok(())
}

/// `hallmark rubric publish FILE (--data DIR | --server URL --token-file F --trust ROOT)`
pub(crate) fn rubric_publish(place: &AdminPlace, file: &Path) -> Result<(), String> {
    let content = read(file)?;
    let (id, version, sha) = match place {
        AdminPlace::Data(d) => {
            let store = Store::open(d, &now()).map_err(|e| format!("{}: {e}", d.display()))?;
            let p = store.keep_rubric(&content, None, &now()).map_err(|e| format!("{}: {e}", file.display()))?;
            (p.rubric_id, p.version, p.sha256)
        }
        AdminPlace::Postgres(url) => {
            let p = province_backend(url)?.publish_rubric(&content, &now()).map_err(|e| format!("{}: {}", file.display(), e.message))?;
            (p.rubric_id, p.version, p.sha256)
        }
        AdminPlace::Server { url, token_file, trust } => {
            let token = read(token_file)?;
            let roots = trust.iter().map(|f| read(f)).collect::<Result<Vec<_>, _>>()?;
            let p = hallmark_sync::client::publish_rubric_remote(url, &roots, &token, &content).map_err(|e| format!("{}: {e}", file.display()))?;
            (p.rubric_id, p.version, p.sha256)
        }
    };
    outln!("{}: published rubric '{id}' v{version} (sha256 {}); devices fetch it at their next sync", file.display(), &sha[..16]);
    Ok(())
}
