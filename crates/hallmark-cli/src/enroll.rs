//! `hallmark trust` (a lead's trusted roots and CRLs) and `hallmark enroll` (this device's
//! certificate). Thin wrappers over hallmark-store's enrollment (`enrollment.rs`).

use std::path::{Path, PathBuf};

use hallmark_store::{Access, Enrollment};

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
