//! `hallmark trust` (a lead's trusted roots and CRLs) and `hallmark enroll` (this device's
//! certificate). Thin wrappers over hallmark-store's enrollment (`enrollment.rs`).

use std::path::{Path, PathBuf};

use hallmark_store::{Access, Enrollment};

use crate::sync::AdminPlace;
use crate::{now, open_db, read, Db};

/// `hallmark trust add --db DB ROOT.pem|CRL.pem...`: each file is checked before it is stored;
/// a file that is not a root certificate or a revocation list is refused by name (the files
/// before it stay added).
pub(crate) fn trust_add(db: &Db, files: &[PathBuf]) -> Result<(), String> {
    let store = open_db(db, Access::Create)?;
    for f in files {
        let line = store.add_trust(&f.display().to_string(), read(f)?.as_bytes(), &now()).map_err(|e| e.to_string())?;
        outln!("{}: {line}", f.display());
    }
    Ok(())
}

/// `hallmark trust add --postgres URL FILE...`: a root or CRL for a province server (issue #16).
pub(crate) fn trust_add_postgres(url: &str, files: &[PathBuf]) -> Result<(), String> {
    use hallmark_server::Backend;
    let backend = crate::sync::province_backend(url)?;
    for f in files {
        let line = backend.add_trust(&f.display().to_string(), read(f)?.as_bytes(), &now()).map_err(|e| e.message)?;
        outln!("{}: {line}", f.display());
    }
    Ok(())
}

/// `hallmark trust list --db DB`
pub(crate) fn trust_list(db: &Db) -> Result<(), String> {
    let store = open_db(db, Access::ReadOnly)?;
    let list = store.trust_list().map_err(|e| e.to_string())?;
    if list.is_empty() {
        outln!("no trusted root: bundles' certificates are not checked (`hallmark trust add --db DB root.pem`)");
    }
    for t in list {
        outln!("{}\t{}\t{}\t(from {}, added {})", t.kind, t.name, t.detail, t.file, t.added_at);
    }
    Ok(())
}

/// `hallmark enroll request --db DB --name NAME [--unit U] [--title T] --out FILE.csr.pem`
pub(crate) fn request(db: &Db, name: &str, unit: &str, title: &str, out: &Path) -> Result<(), String> {
    let store = open_db(db, Access::Create)?;
    let pem = store.enrollment_request(name, unit, title).map_err(|e| e.to_string())?;
    if out.exists() {
        return Err(format!("{}: already exists (choose another --out)", out.display()));
    }
    hallmark_store::durable::write_replacing(out, pem.as_bytes()).map_err(|e| format!("{}: cannot write: {e}", out.display()))?;
    outln!("{}: enrollment request of {} for key {}", out.display(), name.trim(), store.device_key().fingerprint());
    outln!("  the bureau issues the certificate: hallmark ca issue --ca CA_DIR --role assessor --request {} --out CERT.pem", out.display());
    Ok(())
}

/// `hallmark enroll install --db DB --cert CERT.pem --root ROOT.pem`
pub(crate) fn install(db: &Db, cert: &Path, root: &Path) -> Result<(), String> {
    let store = open_db(db, Access::Existing)?;
    let e = store
        .install_certificate_files(&cert.display().to_string(), read(cert)?.as_bytes(), &root.display().to_string(), read(root)?.as_bytes(), &now())
        .map_err(|e| e.to_string())?;
    outln!("enrolled: {}", describe(&e));
    Ok(())
}

/// `hallmark enroll show --db DB`
pub(crate) fn show(db: &Db) -> Result<(), String> {
    let store = open_db(db, Access::ReadOnly)?;
    match store.enrollment(&now()).map_err(|e| e.to_string())? {
        Some(e) => outln!("enrolled: {}", describe(&e)),
        None => outln!(
            "not enrolled: key {} has no certificate (bundles are marked unenrolled; `hallmark enroll request`)",
            store.device_key().fingerprint()
        ),
    }
    Ok(())
}

fn describe(e: &Enrollment) -> String {
    let warn = match e.days_left {
        d if d < 0 => " — EXPIRED: ask the bureau for a new certificate".to_string(),
        d if e.expiring_soon => format!(" — expires in {d} days: ask the bureau for a new certificate"),
        _ => String::new(),
    };
    format!(
        "{} ({}{}), roles {}, serial {}, issued by '{}' under '{}', valid until {}, key {}{warn}",
        e.name,
        e.unit,
        if e.title.is_empty() { String::new() } else { format!("，{}", e.title) },
        e.roles.join(","),
        e.serial,
        e.issuer,
        e.root,
        &e.not_after[..10],
        e.fingerprint
    )
}

/// `hallmark enroll submit --db DB --server URL --root-fingerprint HEX --name NAME [--unit U] [--title T]`
pub(crate) fn submit(db: &Db, server: &str, pin: &str, name: &str, unit: &str, title: &str) -> Result<(), String> {
    let store = open_db(db, Access::Create)?;
    let e = hallmark_sync::enroll::submit(&store, server, pin, name, unit, title, &now()).map_err(|e| e.to_string())?;
    outln!("enrollment request of {} ({}) for key {} sent to {server}: {}", e.name, e.unit, e.fingerprint, e.state);
    outln!("  the bureau approves it (hallmark enroll approve); then: hallmark enroll fetch --db {} --server {server}", db.db.display());
    Ok(())
}

/// `hallmark enroll fetch --db DB --server URL`
pub(crate) fn fetch(db: &Db, server: &str) -> Result<(), String> {
    let store = open_db(db, Access::Existing)?;
    let f = hallmark_sync::enroll::fetch(&store, server, &now()).map_err(|e| e.to_string())?;
    let e = &f.enrollment;
    match (e.state.as_str(), &f.installed) {
        (_, Some(installed)) => outln!("enrolled: {}", describe(installed)),
        ("approved", None) => outln!("approved; this certificate is installed already"),
        ("refused", _) => {
            return Err(format!(
                "the request of {} was refused: {} (send a new one: hallmark enroll submit)",
                e.name,
                e.reason.as_deref().unwrap_or("")
            ))
        }
        _ => outln!("pending since {}: the bureau has not decided yet (key {})", e.received_at, e.fingerprint),
    }
    Ok(())
}

fn roots_and_token(token_file: &Path, trust: &[PathBuf]) -> Result<(Vec<String>, String), String> {
    Ok((trust.iter().map(|f| read(f)).collect::<Result<Vec<_>, _>>()?, read(token_file)?))
}

/// Every request the place holds.
fn held(place: &AdminPlace) -> Result<Vec<hallmark_sync::wire::EnrollmentV1>, String> {
    match place {
        AdminPlace::Data(d) => {
            let conn = hallmark_server::embedded::open_sync_db(d)?;
            let rows = hallmark_server::embedded::enrollments(&conn).map_err(|e| e.to_string())?;
            Ok(rows.into_iter().map(hallmark_server::routes::enrollment_wire).collect())
        }
        AdminPlace::Postgres(url) => {
            use hallmark_server::Backend;
            let rows = crate::sync::province_backend(url)?.enrollments().map_err(|e| e.message)?;
            Ok(rows.into_iter().map(hallmark_server::routes::enrollment_wire).collect())
        }
        AdminPlace::Server { url, token_file, trust } => {
            let (roots, token) = roots_and_token(token_file, trust)?;
            Ok(hallmark_sync::enroll::enrollments_remote(url, &roots, &token).map_err(|e| e.to_string())?.enrollments)
        }
    }
}

/// `hallmark enroll pending (--data DIR | --server URL --token-file F --trust ROOT)`
pub(crate) fn pending(place: &AdminPlace) -> Result<(), String> {
    let all = held(place)?;
    if all.is_empty() {
        outln!("no enrollment request");
    }
    for e in all {
        outln!("{}\t{}\t{}\t{}\t{}\t{}\t{}", e.state, e.fingerprint, e.name, e.unit, e.title, e.received_at, e.public_key);
    }
    Ok(())
}

/// The request a key or fingerprint names (spaces ignored).
fn find(place: &AdminPlace, key: &str) -> Result<hallmark_sync::wire::EnrollmentV1, String> {
    let want: String = key.chars().filter(|c| !c.is_whitespace()).collect::<String>().to_ascii_lowercase();
    let found: Vec<_> = held(place)?
        .into_iter()
        .filter(|e| e.public_key == want || e.fingerprint.chars().filter(|c| !c.is_whitespace()).collect::<String>() == want)
        .collect();
    match found.len() {
        1 => Ok(found.into_iter().next().expect("one")),
        0 => Err(format!("no enrollment request from key '{key}' (hallmark enroll pending lists them)")),
        _ => Err(format!("'{key}' names several requests: pass the whole key (64 hex digits)")),
    }
}

fn decide(place: &AdminPlace, public_key: &str, d: &hallmark_sync::wire::EnrollmentDecisionV1) -> Result<hallmark_sync::wire::EnrollmentV1, String> {
    match place {
        AdminPlace::Data(dir) => {
            let backend = hallmark_server::embedded::Embedded::open(dir, &now())?;
            let e = hallmark_server::decide_enrollment(&backend, public_key, d, &now()).map_err(|e| e.message)?;
            Ok(hallmark_server::routes::enrollment_wire(e))
        }
        AdminPlace::Postgres(url) => {
            let backend = crate::sync::province_backend(url)?;
            let e = hallmark_server::decide_enrollment(&backend, public_key, d, &now()).map_err(|e| e.message)?;
            Ok(hallmark_server::routes::enrollment_wire(e))
        }
        AdminPlace::Server { url, token_file, trust } => {
            let (roots, token) = roots_and_token(token_file, trust)?;
            hallmark_sync::enroll::decide_remote(url, &roots, &token, public_key, d).map_err(|e| e.to_string())
        }
    }
}

/// `hallmark enroll approve KEY --ca DIR --role assessor [--days N] (--data DIR | --server URL …)`:
/// the certificate is issued here, with the CA's key that never leaves this machine; the
/// server only checks and keeps it for the tablet.
pub(crate) fn approve(place: &AdminPlace, key: &str, ca: &Path, roles: &[String], days: i64) -> Result<(), String> {
    use hallmark_trust::{authority, Role};
    let e = find(place, key)?;
    if e.state == "approved" {
        return Err(format!("the request of {} ({}) is approved already", e.name, e.fingerprint));
    }
    let roles: Vec<Role> = roles.iter().map(|r| Role::parse(r)).collect::<Result<_, _>>()?;
    if roles.contains(&Role::Server) {
        return Err("a device request cannot get the server role (a server gets its own key: hallmark ca issue --role server)".into());
    }
    let req = authority::read_request("the request the server holds", e.request.as_bytes()).map_err(|e| e.to_string())?;
    let pass = crate::ca::passphrase("HALLMARK_CA_PASSPHRASE", "passphrase of the CA: ")?;
    let issue = authority::IssueRequest { subject: req.subject, roles, key: authority::SubjectKey::Ed25519(req.public_key), days, hosts: Vec::new() };
    let issued = authority::issue(ca, &pass, &issue, chrono::Utc::now()).map_err(|e| e.to_string())?;
    let d = hallmark_sync::wire::EnrollmentDecisionV1 { decision: "approve".into(), certificates: vec![issued.chain_pem], reason: String::new() };
    let done = decide(place, &e.public_key, &d)?;
    outln!(
        "approved: {} ({}), roles {}, serial {}, valid until {}; the tablet installs it at its next check (key {})",
        done.name,
        done.unit,
        issued.info.roles_text(),
        issued.info.serial,
        issued.info.not_after.date_naive(),
        done.fingerprint
    );
    Ok(())
}

/// `hallmark enroll refuse KEY --reason R (--data DIR | --server URL …)`
pub(crate) fn refuse(place: &AdminPlace, key: &str, reason: &str) -> Result<(), String> {
    let e = find(place, key)?;
    let d = hallmark_sync::wire::EnrollmentDecisionV1 { decision: "refuse".into(), certificates: Vec::new(), reason: reason.into() };
    let done = decide(place, &e.public_key, &d)?;
    outln!("refused: {} ({}): {}", done.name, done.fingerprint, reason);
    Ok(())
}
