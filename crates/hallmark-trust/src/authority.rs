//! The bureau's certificate authority, as a folder (kept offline):
//!
//! | file | what |
//! |------|------|
//! | `ca.key` | the CA's ECDSA P-256 key, PKCS#8 encrypted under a passphrase, mode 0600 |
//! | `ca.pem` | the CA's certificate |
//! | `chain.pem` | the CA's certificate and the intermediates above it (root excluded): appended to every certificate it issues |
//! | `root.pem` | the root certificate: what tablets, leads and `verify --trust` trust |
//! | `crl.pem` | the current revocation list, signed by this CA, with its *next update* date |
//! | `ledger.json` | every certificate issued and revoked (`hallmark-ca-ledger/1`) |
//!
//! A root is made with [`init`]; an intermediate (a city under the province) with [`init`] and a
//! parent folder. [`issue`] certifies a device's Ed25519 key (from an enrollment request, see
//! [`read_request`]) or makes a server key; [`revoke`] and [`refresh_crl`] sign a new CRL.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Duration, Utc};
use rcgen::{
    BasicConstraints, CertificateParams, CertificateRevocationListParams, CustomExtension, DistinguishedName, DnType, IsCa, Issuer, KeyIdMethod,
    KeyPair, KeyUsagePurpose, PublicKeyData, RevocationReason, RevokedCertParams, SanType, SerialNumber, SignatureAlgorithm, SigningKey,
};
use serde::{Deserialize, Serialize};
use x509_parser::prelude::*;

use crate::certificate::{self, eku_der, CertInfo, Role};
use crate::{keyfile, malformed, Result, TrustError};

pub const KEY: &str = "ca.key";
pub const CERT: &str = "ca.pem";
pub const CHAIN: &str = "chain.pem";
pub const ROOT: &str = "root.pem";
pub const CRL: &str = "crl.pem";
pub const LEDGER: &str = "ledger.json";
const LEDGER_FORMAT: &str = "hallmark-ca-ledger/1";

/// Who a certificate names.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Subject {
    pub name: String,
    pub unit: String,
    pub title: String,
    /// The device's id (its bundles name it); certificates carry it as `urn:uuid:ID`.
    pub device_id: Option<String>,
}

/// The key a certificate certifies.
pub enum SubjectKey {
    /// A device's Ed25519 public key (32 bytes).
    Ed25519([u8; 32]),
    /// Make a new ECDSA P-256 key (a server's TLS key); [`Issued::key_pem`] returns it.
    NewP256,
}

pub struct IssueRequest {
    pub subject: Subject,
    pub roles: Vec<Role>,
    pub key: SubjectKey,
    pub days: i64,
    /// Host names and IP addresses a server answers on (for browsers); tablets do not need them.
    pub hosts: Vec<String>,
}

pub struct Issued {
    /// The new certificate followed by the CA chain (root excluded).
    pub chain_pem: String,
    pub info: CertInfo,
    /// A new server key (PKCS#8 PEM), only for [`SubjectKey::NewP256`].
    pub key_pem: Option<String>,
}

/// `ledger.json`: the CA's own record. Not a wire format others read.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Ledger {
    pub format: String,
    pub name: String,
    pub crl_number: u64,
    pub issued: Vec<LedgerEntry>,
    pub revoked: Vec<Revocation>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LedgerEntry {
    pub serial: String,
    pub name: String,
    pub unit: String,
    pub roles: Vec<Role>,
    pub device_id: Option<String>,
    pub fingerprint: String,
    pub issued_at: String,
    pub not_after: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Revocation {
    pub serial: String,
    /// When the CA revoked it.
    pub revoked_at: String,
    /// From when it is no longer trusted (a stolen device: when it was lost); defaults to
    /// `revoked_at`. Signed as the CRL entry's invalidity date.
    pub invalid_since: String,
    pub reason: String,
}

struct Ed25519Public([u8; 32]);
impl PublicKeyData for Ed25519Public {
    fn der_bytes(&self) -> &[u8] {
        &self.0
    }
    fn algorithm(&self) -> &'static SignatureAlgorithm {
        &rcgen::PKCS_ED25519
    }
}

fn rc(what: &str) -> impl Fn(rcgen::Error) -> TrustError + '_ {
    move |e| TrustError::Authority(format!("{what}: {e}"))
}

fn offset(t: DateTime<Utc>) -> ::time::OffsetDateTime {
    ::time::OffsetDateTime::from_unix_timestamp(t.timestamp()).expect("a chrono time is in range")
}

fn new_serial() -> Result<SerialNumber> {
    let mut b = [0u8; 16];
    getrandom::getrandom(&mut b).map_err(|e| TrustError::Io(format!("no randomness: {e}")))?;
    b[0] &= 0x7f;
    b[0] |= 0x01; // positive, and no leading zero byte to strip
    Ok(SerialNumber::from_slice(&b))
}

fn dn(s: &Subject) -> DistinguishedName {
    let mut d = DistinguishedName::new();
    d.push(DnType::CommonName, s.name.clone());
    if !s.unit.is_empty() {
        d.push(DnType::OrganizationName, s.unit.clone());
    }
    if !s.title.is_empty() {
        d.push(DnType::CustomDnType(vec![2, 5, 4, 12]), s.title.clone());
    }
    d
}

fn check_subject(s: &Subject) -> Result<()> {
    let bad = |w: String| Err(TrustError::Authority(w));
    if s.name.trim().is_empty() {
        return bad("the name is empty: pass --name (the person, CA or server the certificate names)".into());
    }
    for (field, v) in [("name", &s.name), ("unit", &s.unit), ("title", &s.title)] {
        if v.chars().count() > 100 {
            return bad(format!("the {field} '{v}' is longer than 100 characters"));
        }
        if v.chars().any(char::is_control) {
            return bad(format!("the {field} {v:?} holds control characters"));
        }
    }
    if let Some(id) = &s.device_id {
        if id.len() != 36 || !id.chars().all(|c| c.is_ascii_hexdigit() || c == '-') {
            return bad(format!("device id '{id}' is not a UUID (the app shows it on the enrollment screen)"));
        }
    }
    Ok(())
}

fn read(dir: &Path, name: &str) -> Result<Vec<u8>> {
    let p = dir.join(name);
    std::fs::read(&p).map_err(|e| {
        TrustError::Authority(format!("{}: cannot read: {e} (is {} a CA folder made by `hallmark ca init`?)", p.display(), dir.display()))
    })
}

/// Writes a file through a temp file and a rename, so a CRL or ledger is never half written.
fn replace(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    let tmp = path.with_extension("tmp");
    let io = |e: std::io::Error| TrustError::Io(format!("cannot write {}: {e}", path.display()));
    let mut f = std::fs::File::create(&tmp).map_err(io)?;
    f.write_all(bytes).and_then(|_| f.sync_all()).map_err(io)?;
    std::fs::rename(&tmp, path).map_err(io)?;
    if let Some(d) = path.parent() {
        if let Ok(d) = std::fs::File::open(d) {
            let _ = d.sync_all();
        }
    }
    Ok(())
}

/// The CA in `dir`, unlocked.
struct Unlocked {
    dir: PathBuf,
    cert_pem: String,
    key: KeyPair,
    info: CertInfo,
    ledger: Ledger,
}

fn unlock(dir: &Path, passphrase: &str) -> Result<Unlocked> {
    let cert_pem = String::from_utf8(read(dir, CERT)?).map_err(|_| malformed(&dir.join(CERT).display().to_string(), "is not text"))?;
    let certs = certificate::read_pem(&dir.join(CERT).display().to_string(), cert_pem.as_bytes())?;
    let info = certificate::info(CERT, &certs[0])?;
    let der = keyfile::read(&dir.join(KEY), passphrase)?;
    let key = KeyPair::try_from(der.as_slice()).map_err(rc("the CA key"))?;
    if key.public_key_raw() != info.public_key.as_slice() {
        return Err(TrustError::Authority(format!(
            "{}: the key does not belong to {} (folder mixed up?)",
            dir.join(KEY).display(),
            dir.join(CERT).display()
        )));
    }
    let ledger_bytes = read(dir, LEDGER)?;
    let ledger: Ledger =
        serde_json::from_slice(&ledger_bytes).map_err(|e| malformed(&dir.join(LEDGER).display().to_string(), format!("is not a CA ledger: {e}")))?;
    if ledger.format != LEDGER_FORMAT {
        return Err(malformed(&dir.join(LEDGER).display().to_string(), format!("format '{}' is not {LEDGER_FORMAT}", ledger.format)));
    }
    Ok(Unlocked { dir: dir.to_path_buf(), cert_pem, key, info, ledger })
}

impl Unlocked {
    fn issuer(&self) -> Result<Issuer<'static, &KeyPair>> {
        Issuer::from_ca_cert_pem(&self.cert_pem, &self.key).map_err(rc("the CA certificate"))
    }

    fn save_ledger(&self) -> Result<()> {
        replace(&self.dir.join(LEDGER), &serde_json::to_vec_pretty(&self.ledger).expect("ledger serializes"))
    }

    /// Signs a CRL of every revocation, valid until `now + days`.
    fn sign_crl(&mut self, now: DateTime<Utc>, days: i64) -> Result<String> {
        self.ledger.crl_number += 1;
        let mut revoked = Vec::new();
        for r in &self.ledger.revoked {
            let at = parse_time(&r.revoked_at)?;
            let since = parse_time(&r.invalid_since)?;
            revoked.push(RevokedCertParams {
                serial_number: SerialNumber::from_slice(&hallmark_core::hex::unhex(&r.serial).unwrap_or_default()),
                revocation_time: offset(at),
                reason_code: Some(reason_code(&r.reason)),
                invalidity_date: (since != at).then(|| offset(since)),
            });
        }
        let params = CertificateRevocationListParams {
            this_update: offset(now),
            next_update: offset(now + Duration::days(days.max(1))),
            crl_number: SerialNumber::from(self.ledger.crl_number),
            issuing_distribution_point: None,
            revoked_certs: revoked,
            key_identifier_method: KeyIdMethod::Sha256,
        };
        let crl = params.signed_by(&self.issuer()?).map_err(rc("signing the CRL"))?;
        let pem = crl.pem().map_err(rc("encoding the CRL"))?;
        replace(&self.dir.join(CRL), pem.as_bytes())?;
        self.save_ledger()?;
        Ok(pem)
    }
}

fn parse_time(s: &str) -> Result<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s).map(|t| t.with_timezone(&Utc)).map_err(|e| TrustError::Authority(format!("ledger time '{s}': {e}")))
}

fn reason_code(s: &str) -> RevocationReason {
    match s {
        "key-compromise" => RevocationReason::KeyCompromise,
        "superseded" => RevocationReason::Superseded,
        "affiliation-changed" => RevocationReason::AffiliationChanged,
        "cessation-of-operation" => RevocationReason::CessationOfOperation,
        _ => RevocationReason::Unspecified,
    }
}

/// The revocation reasons `revoke` accepts.
pub const REASONS: [&str; 5] = ["unspecified", "key-compromise", "superseded", "affiliation-changed", "cessation-of-operation"];

/// Where a new intermediate CA hangs: its parent's folder and passphrase.
pub struct Parent<'a> {
    pub dir: &'a Path,
    pub passphrase: &'a str,
}

/// Makes a CA in the new folder `dir`: a root (no parent), or an intermediate signed by the
/// parent CA. Writes the encrypted key, the certificate, the chain, the root and an empty CRL.
pub fn init(dir: &Path, name: &str, unit: &str, years: i64, parent: Option<Parent<'_>>, passphrase: &str, now: DateTime<Utc>) -> Result<CertInfo> {
    let subject = Subject { name: name.into(), unit: unit.into(), title: String::new(), device_id: None };
    check_subject(&subject)?;
    if dir.join(KEY).exists() {
        return Err(TrustError::Authority(format!("{} already holds a CA (ca.key): a CA is made once; choose a new folder", dir.display())));
    }
    if !(1..=30).contains(&years) {
        return Err(TrustError::Authority(format!("--years {years}: a CA is valid 1 to 30 years")));
    }
    let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).map_err(rc("making the CA key"))?;
    let encrypted = keyfile::encrypt(&key.serialize_der(), passphrase)?;
    let mut params = CertificateParams::default();
    params.distinguished_name = dn(&subject);
    params.serial_number = Some(new_serial()?);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign, KeyUsagePurpose::DigitalSignature];
    params.not_before = offset(now - Duration::minutes(5));
    params.not_after = offset(now + Duration::days(365 * years));
    let (cert_pem, chain_pem, root_pem) = match parent {
        None => {
            params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
            let cert = params.self_signed(&key).map_err(rc("signing the root certificate"))?;
            (cert.pem(), cert.pem(), cert.pem())
        }
        Some(p) => {
            let mut up = unlock(p.dir, p.passphrase)?;
            if !up.info.self_issued {
                return Err(TrustError::Authority(format!(
                    "the parent CA '{}' is itself an intermediate: it issues devices and servers, not CAs (make the new CA with --parent ROOT_CA_DIR)",
                    up.info.name
                )));
            }
            params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
            params.use_authority_key_identifier_extension = true;
            if params.not_after > offset(up.info.not_after) {
                params.not_after = offset(up.info.not_after);
            }
            let cert = params.signed_by(&key, &up.issuer()?).map_err(rc("signing the intermediate certificate"))?;
            let parent_chain = String::from_utf8(read(p.dir, CHAIN)?).unwrap_or_default();
            let parent_root = String::from_utf8(read(p.dir, ROOT)?).unwrap_or_default();
            let chain = if up.info.self_issued { cert.pem() } else { format!("{}{parent_chain}", cert.pem()) };
            let info = certificate::info(CERT, cert.der())?;
            up.ledger.issued.push(entry(&info, now));
            up.save_ledger()?;
            (cert.pem(), chain, parent_root)
        }
    };
    std::fs::create_dir_all(dir).map_err(|e| TrustError::Io(format!("cannot create {}: {e}", dir.display())))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700));
    }
    keyfile::write_private(&dir.join(KEY), &encrypted)?;
    replace(&dir.join(CERT), cert_pem.as_bytes())?;
    replace(&dir.join(CHAIN), chain_pem.as_bytes())?;
    replace(&dir.join(ROOT), root_pem.as_bytes())?;
    let info = certificate::info(CERT, &certificate::read_pem(CERT, cert_pem.as_bytes())?[0])?;
    let ledger = Ledger { format: LEDGER_FORMAT.into(), name: name.into(), crl_number: 0, issued: Vec::new(), revoked: Vec::new() };
    replace(&dir.join(LEDGER), &serde_json::to_vec_pretty(&ledger).expect("ledger serializes"))?;
    let mut ca = unlock(dir, passphrase)?;
    ca.sign_crl(now, 30)?;
    Ok(info)
}

fn entry(info: &CertInfo, now: DateTime<Utc>) -> LedgerEntry {
    LedgerEntry {
        serial: info.serial.clone(),
        name: info.name.clone(),
        unit: info.unit.clone(),
        roles: info.roles.clone(),
        device_id: info.device_id.clone(),
        fingerprint: info.fingerprint.clone(),
        issued_at: now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        not_after: info.not_after.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
    }
}

/// Issues a certificate. Its validity ends no later than the CA's.
pub fn issue(dir: &Path, passphrase: &str, req: &IssueRequest, now: DateTime<Utc>) -> Result<Issued> {
    check_subject(&req.subject)?;
    if req.roles.is_empty() {
        return Err(TrustError::Authority("no role: pass --role assessor, lead or server".into()));
    }
    if !(1..=3650).contains(&req.days) {
        return Err(TrustError::Authority(format!("--days {}: a certificate is valid 1 to 3650 days", req.days)));
    }
    let mut ca = unlock(dir, passphrase)?;
    if now > ca.info.not_after {
        return Err(TrustError::Authority(format!(
            "the CA '{}' expired on {}: make a new one (docs/trust.md, \"Rolling the CA key\")",
            ca.info.name, ca.info.not_after
        )));
    }
    let mut params = CertificateParams::default();
    params.distinguished_name = dn(&req.subject);
    params.serial_number = Some(new_serial()?);
    params.is_ca = IsCa::ExplicitNoCa;
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.use_authority_key_identifier_extension = true;
    params.not_before = offset(now - Duration::minutes(5));
    params.not_after = offset((now + Duration::days(req.days)).min(ca.info.not_after));
    params.custom_extensions.push(CustomExtension::from_oid_content(&[2, 5, 29, 37], eku_der(&req.roles)));
    let mut sans = Vec::new();
    if let Some(id) = &req.subject.device_id {
        sans.push(SanType::URI(format!("urn:uuid:{id}").try_into().map_err(rc("the device id"))?));
    }
    for h in &req.hosts {
        sans.push(match h.parse::<std::net::IpAddr>() {
            Ok(ip) => SanType::IpAddress(ip),
            Err(_) => SanType::DnsName(h.clone().try_into().map_err(|e| TrustError::Authority(format!("host '{h}': {e}")))?),
        });
    }
    params.subject_alt_names = sans;
    let issuer = ca.issuer()?;
    let (cert, key_pem) = match &req.key {
        SubjectKey::Ed25519(k) => (params.signed_by(&Ed25519Public(*k), &issuer).map_err(rc("signing the certificate"))?, None),
        SubjectKey::NewP256 => {
            let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).map_err(rc("making the server key"))?;
            (params.signed_by(&key, &issuer).map_err(rc("signing the certificate"))?, Some(key.serialize_pem()))
        }
    };
    drop(issuer);
    let info = certificate::info("the new certificate", cert.der())?;
    let ca_chain = if ca.info.self_issued { String::new() } else { String::from_utf8(read(dir, CHAIN)?).unwrap_or_default() };
    ca.ledger.issued.push(entry(&info, now));
    ca.save_ledger()?;
    Ok(Issued { chain_pem: format!("{}{ca_chain}", cert.pem()), info, key_pem })
}

/// Revokes a certificate this CA issued (by serial, hex) and signs a new CRL. `invalid_since`
/// (a lost device: when it was lost) makes signatures from that time on untrusted; defaults
/// to now.
pub fn revoke(dir: &Path, passphrase: &str, serial: &str, reason: &str, invalid_since: Option<DateTime<Utc>>, now: DateTime<Utc>) -> Result<String> {
    if !REASONS.contains(&reason) {
        return Err(TrustError::Authority(format!("reason '{reason}' is unknown (expected one of: {})", REASONS.join(", "))));
    }
    let mut ca = unlock(dir, passphrase)?;
    let serial = serial.trim().to_lowercase().replace(':', "");
    if !ca.ledger.issued.iter().any(|e| e.serial == serial) {
        return Err(TrustError::Authority(format!(
            "serial '{serial}' was not issued by the CA '{}' (see {}; an intermediate's certificates are revoked in its own folder)",
            ca.info.name,
            dir.join(LEDGER).display()
        )));
    }
    if ca.ledger.revoked.iter().any(|r| r.serial == serial) {
        return Err(TrustError::Authority(format!("serial '{serial}' is already revoked")));
    }
    let since = invalid_since.unwrap_or(now).min(now);
    let stamp = |t: DateTime<Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    ca.ledger.revoked.push(Revocation { serial, revoked_at: stamp(now), invalid_since: stamp(since), reason: reason.into() });
    ca.sign_crl(now, 30)
}

/// Signs a fresh CRL (same revocations, new *next update*); run before the old one's date.
pub fn refresh_crl(dir: &Path, passphrase: &str, days: i64, now: DateTime<Utc>) -> Result<String> {
    unlock(dir, passphrase)?.sign_crl(now, days)
}

/// The serial of the first certificate in a PEM file (for `revoke --cert FILE`).
pub fn serial_of(file: &str, pem: &[u8]) -> Result<String> {
    let certs = certificate::read_pem(file, pem)?;
    Ok(certificate::info(file, &certs[0])?.serial)
}

/// An enrollment request: a PKCS#10 certificate signing request (CSR) made and signed by the
/// device's Ed25519 key, so the CA knows the device holds the key. `openssl req -verify` reads it.
pub fn enrollment_request(subject: &Subject, public_key: [u8; 32], sign: &dyn Fn(&[u8]) -> [u8; 64]) -> Result<String> {
    check_subject(subject)?;
    struct Device<'a>(Ed25519Public, &'a dyn Fn(&[u8]) -> [u8; 64]);
    impl PublicKeyData for Device<'_> {
        fn der_bytes(&self) -> &[u8] {
            self.0.der_bytes()
        }
        fn algorithm(&self) -> &'static SignatureAlgorithm {
            self.0.algorithm()
        }
    }
    impl SigningKey for Device<'_> {
        fn sign(&self, msg: &[u8]) -> std::result::Result<Vec<u8>, rcgen::Error> {
            Ok((self.1)(msg).to_vec())
        }
    }
    let mut params = CertificateParams::default();
    params.distinguished_name = dn(subject);
    if let Some(id) = &subject.device_id {
        params.subject_alt_names = vec![SanType::URI(format!("urn:uuid:{id}").try_into().map_err(rc("the device id"))?)];
    }
    let csr = params.serialize_request(&Device(Ed25519Public(public_key), sign)).map_err(rc("making the request"))?;
    csr.pem().map_err(rc("encoding the request"))
}

/// A checked enrollment request: who asks, and the Ed25519 key it proved it holds.
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    pub subject: Subject,
    pub public_key: [u8; 32],
}

/// Reads and checks an enrollment request: PEM, a CSR, an Ed25519 key, a valid self-signature.
pub fn read_request(file: &str, bytes: &[u8]) -> Result<Request> {
    let sections = certificate::pem_sections(file, bytes)?;
    let der = match sections.as_slice() {
        [(rustls_pki_types::pem::SectionKind::Csr, der)] => der,
        [(kind, _)] => return Err(malformed(file, format!("holds a {kind:?}, not an enrollment request (CERTIFICATE REQUEST)"))),
        _ => return Err(malformed(file, "holds several PEM blocks; an enrollment request is one CERTIFICATE REQUEST")),
    };
    let (rest, csr) = X509CertificationRequest::from_der(der).map_err(|e| malformed(file, format!("is not a certificate request: {e}")))?;
    if !rest.is_empty() {
        return Err(malformed(file, "has bytes after the request (damaged)"));
    }
    csr.verify_signature()
        .map_err(|_| malformed(file, "the request's signature does not verify: it was altered, or not made by the device's key"))?;
    let info = &csr.certification_request_info;
    if info.subject_pki.algorithm.algorithm != x509_parser::oid_registry::OID_SIG_ED25519 {
        return Err(malformed(file, "requests a certificate for a non-Ed25519 key (hallmark devices sign with Ed25519)"));
    }
    let public_key: [u8; 32] =
        info.subject_pki.subject_public_key.data.as_ref().try_into().map_err(|_| malformed(file, "the Ed25519 key is not 32 bytes"))?;
    let text = |oid: &x509_parser::der_parser::oid::Oid| -> Result<String> {
        match info.subject.iter_by_oid(oid).next() {
            None => Ok(String::new()),
            Some(a) => a.as_str().map(str::to_string).map_err(|e| malformed(file, format!("a name is not text: {e}"))),
        }
    };
    let mut device_id = None;
    if let Some(exts) = csr.requested_extensions() {
        for e in exts {
            if let ParsedExtension::SubjectAlternativeName(san) = e {
                for n in &san.general_names {
                    if let GeneralName::URI(u) = n {
                        device_id = u.strip_prefix("urn:uuid:").map(str::to_string);
                    }
                }
            }
        }
    }
    let subject = Subject {
        name: text(&x509_parser::oid_registry::OID_X509_COMMON_NAME)?,
        unit: text(&x509_parser::oid_registry::OID_X509_ORGANIZATION_NAME)?,
        title: text(&x509_parser::oid_registry::OID_X509_TITLE)?,
        device_id,
    };
    check_subject(&subject).map_err(|e| malformed(file, e.to_string()))?;
    Ok(Request { subject, public_key })
}
