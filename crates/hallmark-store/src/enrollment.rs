//! Trust (issue #10): this device's enrollment — the certificate the bureau issued for its
//! Ed25519 key — and the roots and revocation lists (CRLs) this store trusts when it imports
//! bundles (migration 0006).
//!
//! - [`Store::enrollment_request`]: a CSR signed by the device key, naming the device id.
//! - [`Store::install_certificate`]: the issued chain is checked against the root given with it
//!   (at `now`, role assessor or lead, the certified key = this device's key) before anything is
//!   stored; the root becomes trusted too. A re-installed certificate supersedes the last one
//!   (both rows kept); a certificate for another key is never used (a re-keyed device enrolls
//!   again).
//! - [`Store::add_trust`], [`Store::trust_store`], [`Store::trust_list`]: the lead's roots and
//!   CRLs, as PEM text in SQLite, append-only.
//!
//! Certificates are parsed and checked by hallmark-trust only; times are passed in.

use chrono::{DateTime, SecondsFormat, Utc};
use hallmark_core::hex::sha256_hex;
use hallmark_trust::authority::Subject;
use hallmark_trust::certificate::{self, CertInfo};
use hallmark_trust::{Role, TrustError, TrustStore};
use rusqlite::{params, OptionalExtension};
use serde::Serialize;

use crate::{Result, Store, StoreError};

/// A certificate expiring within this many days is flagged ([`Enrollment::expiring_soon`]).
pub const EXPIRY_WARNING_DAYS: i64 = 30;

/// Who this device is enrolled as: its current certificate.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Enrollment {
    pub name: String,
    pub unit: String,
    pub title: String,
    /// "assessor", "lead", "server".
    pub roles: Vec<String>,
    pub serial: String,
    /// The issuing CA's name.
    pub issuer: String,
    /// The root's name (the bureau).
    pub root: String,
    /// RFC 3339, UTC.
    pub not_after: String,
    /// Whole days until `not_after` (negative once expired).
    pub days_left: i64,
    pub fingerprint: String,
    pub device_id: Option<String>,
    /// `days_left <= 30`: the app warns and the bureau should issue a new certificate.
    pub expiring_soon: bool,
}

/// A root or a revocation list this store trusts (`hallmark trust list`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TrustEntry {
    /// "root" or "crl".
    pub kind: String,
    /// The root's name, or the name of the CA that signed the CRL.
    pub name: String,
    /// One line: validity and key of a root; revocations and next update of a CRL.
    pub detail: String,
    pub file: String,
    pub added_at: String,
    /// SHA-256 of the stored PEM text.
    pub sha256: String,
}

pub(crate) fn stamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// An RFC 3339 time passed in by the caller.
pub(crate) fn parse_now(now: &str) -> Result<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(now)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| StoreError::Invalid(format!("time '{now}' is not an RFC 3339 time ({e})")))
}

/// A stored certificate that no longer parses is damage.
fn stored(e: TrustError) -> StoreError {
    StoreError::Damaged { file: "the database".into(), detail: format!("a stored certificate does not read: {e}") }
}

impl Store {
    /// Who this device is enrolled as, or `None` when it is not (or its certificate is for a
    /// key it no longer has). `now` gives `days_left`.
    pub fn enrollment(&self, now: &str) -> Result<Option<Enrollment>> {
        let now = parse_now(now)?;
        let Some((chain, root)) = self.current_certificate()? else { return Ok(None) };
        let certs = certificate::read_pem("the stored certificate", chain.as_bytes()).map_err(stored)?;
        let leaf = certificate::info("the stored certificate", &certs[0]).map_err(stored)?;
        let root =
            certificate::read_pem("the stored root", root.as_bytes()).and_then(|r| certificate::info("the stored root", &r[0])).map_err(stored)?;
        Ok(Some(enrollment_of(&leaf, &root.name, now)))
    }

    /// The newest installed (chain, root) PEM for this device's current key.
    fn current_certificate(&self) -> Result<Option<(String, String)>> {
        Ok(self
            .conn
            .query_row(
                "SELECT chain_pem, root_pem FROM device_certificates WHERE public_key = ?1 ORDER BY seq DESC LIMIT 1",
                [self.key.public_key_hex()],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?)
    }

    /// This device's enrollment request for the bureau: a PKCS#10 CSR naming the person and the
    /// device id, signed by the device key (so the CA knows the device holds it).
    pub fn enrollment_request(&self, name: &str, unit: &str, title: &str) -> Result<String> {
        let key = self.signing_key()?;
        let public: [u8; 32] = hallmark_core::hex::unhex(&key.public_key_hex()).and_then(|k| k.try_into().ok()).expect("a device key is 32 bytes");
        let subject = Subject {
            name: name.trim().to_string(),
            unit: unit.trim().to_string(),
            title: title.trim().to_string(),
            device_id: Some(self.device_id.clone()),
        };
        Ok(hallmark_trust::authority::enrollment_request(&subject, public, &|m| key.sign(m))?)
    }

    /// Installs the certificate the bureau issued for this device (`chain_pem`: the device
    /// certificate first, then any intermediates) with the bureau's root. Refused, with nothing
    /// stored, unless the chain leads to that root at `now`, has the role assessor or lead, and
    /// certifies this device's key. The root is trusted from then on (for imports).
    pub fn install_certificate(&self, chain_pem: &[u8], root_pem: &[u8], now: &str) -> Result<Enrollment> {
        self.install_certificate_files("the certificate file", chain_pem, "the root file", root_pem, now)
    }

    /// [`Store::install_certificate`] with the files' names for messages.
    pub fn install_certificate_files(&self, cert_file: &str, chain_pem: &[u8], root_file: &str, root_pem: &[u8], now: &str) -> Result<Enrollment> {
        let at = parse_now(now)?;
        let key = self.signing_key()?;
        let mut chain = certificate::read_pem(cert_file, chain_pem)?;
        let mut roots = TrustStore::new();
        let root_infos = roots.add_roots_pem(root_file, root_pem)?;
        let root_ders = certificate::read_pem(root_file, root_pem)?;
        // A chain file that ends with the root itself: the root is not part of the chain.
        while chain.len() > 1 && chain.last().is_some_and(|c| root_ders.iter().any(|r| r.as_ref() == c.as_ref())) {
            chain.pop();
        }
        let leaf = certificate::info(cert_file, &chain[0])?;
        if leaf.is_ca {
            return Err(TrustError::Malformed {
                file: cert_file.into(),
                detail: format!("'{}' is a CA certificate, not this device's certificate (pass the file `hallmark ca issue` wrote)", leaf.name),
            }
            .into());
        }
        // Revocation lists this store already holds apply here too.
        for (file, pem) in self.trust_rows("crl")? {
            roots.add_crl_pem(&file, pem.as_bytes()).map_err(stored)?;
        }
        let trusted = match roots.check(&chain, Role::Assessor, at, at) {
            Err(TrustError::WrongRole { .. }) => roots.check(&chain, Role::Lead, at, at).map_err(|e| match e {
                TrustError::WrongRole { name, has, .. } => TrustError::WrongRole { name, has, wanted: "assessor or lead".into() },
                other => other,
            })?,
            other => other?,
        };
        let device_key = key.public_key_hex();
        if hallmark_core::hex::hex(&leaf.public_key) != device_key {
            return Err(TrustError::KeyMismatch { name: leaf.name.clone(), cert_key: leaf.fingerprint.clone(), signer_key: key.fingerprint() }.into());
        }
        // The root the chain led to, by its key: a file may hold an old and a new root of one name.
        let root_info = root_infos.iter().find(|r| r.fingerprint == trusted.root_key).unwrap_or(&root_infos[0]);
        let root_der = root_ders
            .iter()
            .find(|d| certificate::info(root_file, d).map(|i| i.fingerprint == trusted.root_key).unwrap_or(false))
            .unwrap_or(&root_ders[0]);
        let root_one = certificate::to_pem(std::slice::from_ref(root_der));
        let tx = self.conn.unchecked_transaction()?;
        tx.execute(
            "INSERT INTO device_certificates (public_key, chain_pem, root_pem, serial, name, not_after, installed_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![device_key, certificate::to_pem(&chain), root_one, leaf.serial, leaf.name, stamp(leaf.not_after), now],
        )?;
        insert_anchor(&tx, "root", &root_one, &root_info.name, &root_detail(root_info), root_file, now)?;
        tx.commit()?;
        Ok(enrollment_of(&leaf, &trusted.root, at))
    }

    /// This device's certificate chain as PEM blocks, leaf first, root excluded: what its
    /// bundles (and report sidecars) carry. `None` when the device is not enrolled.
    pub fn device_certificates(&self) -> Result<Option<Vec<String>>> {
        let Some((chain, _)) = self.current_certificate()? else { return Ok(None) };
        let certs = certificate::read_pem("the stored certificate", chain.as_bytes()).map_err(stored)?;
        Ok(Some(certs.iter().map(|c| certificate::to_pem(std::slice::from_ref(c))).collect()))
    }

    /// Trusts a bureau's root certificate, or loads a revocation list (which one is read from
    /// the PEM). Returns one line saying what was added. `file` names the input in messages.
    pub fn add_trust(&self, file: &str, pem: &[u8], now: &str) -> Result<String> {
        parse_now(now)?;
        let anchors = trust_anchors_in(file, pem)?;
        let tx = self.conn.unchecked_transaction()?;
        let mut lines = Vec::new();
        for a in &anchors {
            let added = insert_anchor(&tx, a.kind, &a.pem, &a.name, &a.detail, file, now)?;
            lines.push(a.line(added));
        }
        tx.commit()?;
        Ok(lines.join("; "))
    }

    fn trust_rows(&self, kind: &str) -> Result<Vec<(String, String)>> {
        let mut st = self.conn.prepare("SELECT file_name, pem FROM trust_anchors WHERE kind = ?1 ORDER BY seq")?;
        let rows = st.query_map([kind], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<std::result::Result<Vec<_>, _>>()?)
    }

    /// Changes whenever a root or revocation list is added (a server reloads its trust store
    /// only then, instead of parsing every certificate on every request).
    pub fn trust_generation(&self) -> Result<i64> {
        Ok(self.conn.query_row("SELECT coalesce(max(seq), 0) FROM trust_anchors", [], |r| r.get(0))?)
    }

    /// The trusted roots as PEM texts, in the order added: what a sync client trusts a
    /// server's TLS certificate to chain to (issue #11).
    pub fn trusted_root_pems(&self) -> Result<Vec<String>> {
        Ok(self.trust_rows("root")?.into_iter().map(|(_, pem)| pem).collect())
    }

    /// The loaded revocation lists as PEM texts, in the order added: what a sync server hands
    /// to the tablets it enrolls (issue #11).
    pub fn trusted_crl_pems(&self) -> Result<Vec<String>> {
        Ok(self.trust_rows("crl")?.into_iter().map(|(_, pem)| pem).collect())
    }

    /// The roots and revocation lists this store trusts, for checking a bundle's chain.
    pub fn trust_store(&self) -> Result<TrustStore> {
        let generation = self.trust_generation()?;
        if let Some((g, ts)) = &*self.trust_cache.borrow() {
            if *g == generation {
                return Ok(ts.clone());
            }
        }
        let ts = self.load_trust_store()?;
        *self.trust_cache.borrow_mut() = Some((generation, ts.clone()));
        Ok(ts)
    }

    fn load_trust_store(&self) -> Result<TrustStore> {
        let mut ts = TrustStore::new();
        for (file, pem) in self.trust_rows("root")? {
            ts.add_roots_pem(&file, pem.as_bytes()).map_err(stored)?;
        }
        for (file, pem) in self.trust_rows("crl")? {
            ts.add_crl_pem(&file, pem.as_bytes()).map_err(stored)?;
        }
        Ok(ts)
    }

    /// Every trusted root and revocation list, in the order added.
    pub fn trust_list(&self) -> Result<Vec<TrustEntry>> {
        let mut st = self.conn.prepare("SELECT kind, name, detail, file_name, added_at, sha256 FROM trust_anchors ORDER BY seq")?;
        let rows = st.query_map([], |r| {
            Ok(TrustEntry { kind: r.get(0)?, name: r.get(1)?, detail: r.get(2)?, file: r.get(3)?, added_at: r.get(4)?, sha256: r.get(5)? })
        })?;
        Ok(rows.collect::<std::result::Result<Vec<_>, _>>()?)
    }
}

/// A root certificate or a revocation list read from a PEM file, checked, ready to keep.
#[derive(Debug, Clone)]
pub struct NewAnchor {
    /// `root` or `crl`.
    pub kind: &'static str,
    /// One root's PEM block, or the whole CRL text.
    pub pem: String,
    /// The root's name, or the CRL's issuer.
    pub name: String,
    pub detail: String,
}

impl NewAnchor {
    /// What `hallmark trust add` prints for it; `added`: it was not kept before.
    pub fn line(&self, added: bool) -> String {
        match (self.kind, added) {
            ("crl", true) => format!("revocation list from '{}': {}", self.name, self.detail),
            ("crl", false) => format!("revocation list from '{}': {} (already loaded)", self.name, self.detail),
            (_, true) => format!("trusted root '{}': {}", self.name, self.detail),
            (_, false) => format!("trusted root '{}': {} (already trusted)", self.name, self.detail),
        }
    }
}

/// Reads a bureau's root certificates, or a revocation list (which one is read from the PEM):
/// each checked as a trust store would load it. `file` names the input in messages.
pub fn trust_anchors_in(file: &str, pem: &[u8]) -> Result<Vec<NewAnchor>> {
    let text = std::str::from_utf8(pem).map_err(|_| TrustError::Malformed {
        file: file.into(),
        detail: "is not text (a root certificate or revocation list is PEM: -----BEGIN ...-----)".into(),
    })?;
    if text.contains("-----BEGIN X509 CRL-----") {
        let mut check = TrustStore::new();
        check.add_crl_pem(file, pem)?;
        let (issuer, detail) = crl_summary(file, pem)?;
        return Ok(vec![NewAnchor { kind: "crl", pem: text.to_string(), name: issuer, detail }]);
    }
    let mut check = TrustStore::new();
    let infos = check.add_roots_pem(file, pem)?;
    let ders = certificate::read_pem(file, pem)?;
    Ok(infos
        .iter()
        .zip(&ders)
        .map(|(info, der)| NewAnchor {
            kind: "root",
            pem: certificate::to_pem(std::slice::from_ref(der)),
            name: info.name.clone(),
            detail: root_detail(info),
        })
        .collect())
}

/// Inserts a root or CRL unless the same text is already there; `true` when added.
fn insert_anchor(conn: &rusqlite::Connection, kind: &str, pem: &str, name: &str, detail: &str, file: &str, now: &str) -> Result<bool> {
    let n = conn.execute(
        "INSERT OR IGNORE INTO trust_anchors (kind, sha256, pem, name, detail, file_name, added_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![kind, sha256_hex(pem.as_bytes()), pem, name, detail, file, now],
    )?;
    Ok(n == 1)
}

fn root_detail(info: &CertInfo) -> String {
    format!("valid {} to {}, key {}", info.not_before.format("%Y-%m-%d"), info.not_after.format("%Y-%m-%d"), info.fingerprint)
}

/// The issuer's name and a one-line summary of a CRL file (already checked to be CRLs).
fn crl_summary(file: &str, pem: &[u8]) -> Result<(String, String)> {
    use x509_parser::prelude::*;
    let mut parts = Vec::new();
    let mut issuer = String::new();
    for p in Pem::iter_from_buffer(pem) {
        let p = p.map_err(|e| TrustError::Malformed { file: file.into(), detail: format!("is not a valid PEM file ({e})") })?;
        let (_, crl) =
            parse_x509_crl(&p.contents).map_err(|e| TrustError::Malformed { file: file.into(), detail: format!("is not a revocation list: {e}") })?;
        issuer = crl.issuer().iter_common_name().next().and_then(|a| a.as_str().ok()).unwrap_or("").to_string();
        let next = crl.next_update().map(|t| t.to_datetime().date().to_string()).unwrap_or_else(|| "none".into());
        parts.push(format!(
            "{} revoked, issued {}, next update {next}",
            crl.iter_revoked_certificates().count(),
            crl.last_update().to_datetime().date()
        ));
    }
    Ok((issuer, parts.join("; ")))
}

fn enrollment_of(leaf: &CertInfo, root: &str, now: DateTime<Utc>) -> Enrollment {
    let days_left = (leaf.not_after - now).num_days();
    Enrollment {
        name: leaf.name.clone(),
        unit: leaf.unit.clone(),
        title: leaf.title.clone(),
        roles: leaf.roles.iter().map(|r| r.as_str().to_string()).collect(),
        serial: leaf.serial.clone(),
        issuer: leaf.issuer.clone(),
        root: root.to_string(),
        not_after: stamp(leaf.not_after),
        days_left,
        fingerprint: leaf.fingerprint.clone(),
        device_id: leaf.device_id.clone(),
        expiring_soon: days_left <= EXPIRY_WARNING_DAYS,
    }
}

impl From<TrustError> for StoreError {
    fn from(e: TrustError) -> StoreError {
        StoreError::Trust(e)
    }
}
