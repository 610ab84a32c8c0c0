//! `hallmark ca`: the bureau's certificate authority (hallmark-trust's `authority`).
//! Passphrases come from `$HALLMARK_CA_PASSPHRASE` (and `$HALLMARK_PARENT_CA_PASSPHRASE` for
//! an intermediate's parent) or a prompt on the terminal — never from the command line, where
//! other users and the shell history could read them.

use std::path::Path;

use chrono::{DateTime, Utc};
use hallmark_trust::authority::{self, IssueRequest, Parent, SubjectKey};
use hallmark_trust::certificate::{self, Role};

pub(crate) fn passphrase(var: &str, prompt: &str) -> Result<String, String> {
    if let Ok(p) = std::env::var(var) {
        return Ok(p);
    }
    rpassword::prompt_password(prompt).map_err(|e| format!("cannot read the passphrase: {e} (set ${var} when there is no terminal)"))
}

fn now() -> DateTime<Utc> {
    Utc::now()
}

fn write_new(path: &Path, text: &str) -> Result<(), String> {
    if path.exists() {
        return Err(format!("{}: already exists (a certificate is never overwritten; choose another --out)", path.display()));
    }
    std::fs::write(path, text).map_err(|e| format!("{}: cannot write: {e}", path.display()))
}

/// `hallmark ca init --dir DIR --name NAME [--parent DIR]`
pub(crate) fn init(dir: &Path, name: &str, unit: &str, years: i64, parent: Option<&Path>) -> Result<(), String> {
    let parent_pass = match parent {
        Some(_) => Some(passphrase("HALLMARK_PARENT_CA_PASSPHRASE", "passphrase of the parent CA: ")?),
        None => None,
    };
    let pass = passphrase("HALLMARK_CA_PASSPHRASE", "passphrase for the new CA key: ")?;
    if std::env::var("HALLMARK_CA_PASSPHRASE").is_err() {
        let again = passphrase("HALLMARK_CA_PASSPHRASE", "the same passphrase again: ")?;
        if again != pass {
            return Err("the passphrases differ; nothing was written".into());
        }
    }
    let parent = parent.zip(parent_pass.as_deref()).map(|(dir, passphrase)| Parent { dir, passphrase });
    let info = authority::init(dir, name, unit, years, parent, &pass, now()).map_err(|e| e.to_string())?;
    outln!("{}: CA '{}' valid until {}, issued by '{}'", dir.display(), info.name, info.not_after.date_naive(), info.issuer);
    outln!(
        "  distribute {} (the root tablets and verifiers trust) and {} (the revocation list)",
        dir.join(authority::ROOT).display(),
        dir.join(authority::CRL).display()
    );
    outln!("  keep {} offline; without its passphrase it cannot sign", dir.join(authority::KEY).display());
    Ok(())
}

/// `hallmark ca issue --ca DIR --role R (--request FILE | --name NAME) --out FILE`
pub(crate) fn issue(
    ca: &Path,
    roles: &[String],
    request: Option<&Path>,
    name: Option<&str>,
    hosts: &[String],
    days: i64,
    out: &Path,
) -> Result<(), String> {
    let roles: Vec<Role> = roles.iter().map(|r| Role::parse(r)).collect::<Result<_, _>>()?;
    let (subject, key) = match (request, name) {
        (Some(file), _) => {
            let bytes = std::fs::read(file).map_err(|e| format!("{}: cannot read: {e} (check the path)", file.display()))?;
            let req = authority::read_request(&file.display().to_string(), &bytes).map_err(|e| e.to_string())?;
            if roles.contains(&Role::Server) {
                return Err("a device request cannot get the server role (a server gets its own key: --role server --name NAME)".into());
            }
            (req.subject, SubjectKey::Ed25519(req.public_key))
        }
        (None, Some(name)) => {
            if !roles.contains(&Role::Server) {
                return Err("a device is certified from its enrollment request: pass --request FILE (only --role server makes a new key)".into());
            }
            (authority::Subject { name: name.into(), ..Default::default() }, SubjectKey::NewP256)
        }
        (None, None) => return Err("pass --request FILE (a device) or --name NAME (a server)".into()),
    };
    if out.exists() {
        return Err(format!("{}: already exists (choose another --out)", out.display()));
    }
    let pass = passphrase("HALLMARK_CA_PASSPHRASE", "passphrase of the CA: ")?;
    let req = IssueRequest { subject, roles, key, days, hosts: hosts.to_vec() };
    let issued = authority::issue(ca, &pass, &req, now()).map_err(|e| e.to_string())?;
    if let Some(key) = &issued.key_pem {
        let key_path = out.with_extension("key");
        hallmark_trust::keyfile::write_private(&key_path, key).map_err(|e| e.to_string())?;
        outln!("{}: the server's private key (mode 0600)", key_path.display());
    }
    write_new(out, &issued.chain_pem)?;
    let i = &issued.info;
    outln!(
        "{}: {} ({}{}), roles {}, serial {}, valid until {}",
        out.display(),
        i.name,
        i.unit,
        if i.title.is_empty() { String::new() } else { format!("，{}", i.title) },
        i.roles_text(),
        i.serial,
        i.not_after.date_naive()
    );
    Ok(())
}

/// `hallmark ca revoke --ca DIR (--serial S | --cert FILE) [--reason R] [--since TIME]`
pub(crate) fn revoke(ca: &Path, serial: Option<&str>, cert: Option<&Path>, reason: &str, since: Option<&str>) -> Result<(), String> {
    let serial = match (serial, cert) {
        (Some(s), _) => s.to_string(),
        (None, Some(f)) => {
            let bytes = std::fs::read(f).map_err(|e| format!("{}: cannot read: {e}", f.display()))?;
            authority::serial_of(&f.display().to_string(), &bytes).map_err(|e| e.to_string())?
        }
        (None, None) => return Err("pass --serial S or --cert FILE".into()),
    };
    let since = since
        .map(|s| {
            DateTime::parse_from_rfc3339(s)
                .map(|t| t.with_timezone(&Utc))
                .map_err(|e| format!("--since '{s}': {e} (expected RFC 3339, e.g. 2026-11-20T08:00:00+08:00)"))
        })
        .transpose()?;
    let pass = passphrase("HALLMARK_CA_PASSPHRASE", "passphrase of the CA: ")?;
    authority::revoke(ca, &pass, &serial, reason, since, now()).map_err(|e| e.to_string())?;
    outln!("revoked {serial}; distribute the new {}", ca.join(authority::CRL).display());
    Ok(())
}

/// `hallmark ca crl --ca DIR [--days N]`
pub(crate) fn crl(ca: &Path, days: i64) -> Result<(), String> {
    let pass = passphrase("HALLMARK_CA_PASSPHRASE", "passphrase of the CA: ")?;
    authority::refresh_crl(ca, &pass, days, now()).map_err(|e| e.to_string())?;
    outln!("{}: signed, next update in {days} days", ca.join(authority::CRL).display());
    Ok(())
}

/// `hallmark ca show FILE`
pub(crate) fn show(file: &Path) -> Result<(), String> {
    let bytes = std::fs::read(file).map_err(|e| format!("{}: cannot read: {e} (check the path)", file.display()))?;
    let name = file.display().to_string();
    for der in certificate::read_pem(&name, &bytes).map_err(|e| e.to_string())? {
        let i = certificate::info(&name, &der).map_err(|e| e.to_string())?;
        outln!("{}", i.name);
        outln!("  unit {}  title {}", i.unit, i.title);
        outln!("  roles {}{}", i.roles_text(), if i.is_ca { " (a CA)" } else { "" });
        outln!("  valid {} to {}", i.not_before.to_rfc3339(), i.not_after.to_rfc3339());
        outln!("  issued by {}  serial {}", i.issuer, i.serial);
        outln!("  key {} {}{}", i.key_algorithm, i.fingerprint, i.device_id.as_deref().map(|d| format!("  device {d}")).unwrap_or_default());
        // What a new tablet pins on first contact (hallmark enroll submit --root-fingerprint).
        outln!("  certificate sha256 {}", hallmark_sync::enroll::grouped(&hallmark_core::hex::sha256_hex(der.as_ref())));
    }
    Ok(())
}
