//! Reading certificates: PEM files (strictly: a key or a CRL where a certificate belongs is
//! refused by name), and the fields hallmark uses ([`CertInfo`]): who, which device, which roles,
//! valid when, which key.
//!
//! Roles are extended key usages under hallmark's own OID arc `2.25.143692907600213603958593712769363282452`
//! (a UUID arc, ITU-T X.667: usable without registration): `.1` assessor, `.2` lead, `.3` server.
//! `openssl x509 -text` shows them as dotted OIDs.

use chrono::{DateTime, Utc};
use rustls_pki_types::pem::SectionKind;
use rustls_pki_types::CertificateDer;
use serde::Serialize;
use x509_parser::oid_registry::{OID_KEY_TYPE_EC_PUBLIC_KEY, OID_SIG_ED25519, OID_X509_TITLE};
use x509_parser::prelude::*;

use crate::{malformed, Result};

/// The most one certificate or CRL file may hold (a chain is a few KB).
pub const MAX_PEM_BYTES: usize = 1 << 20;
/// The most certificates one chain may hold (leaf + intermediates).
pub const MAX_CHAIN: usize = 8;

/// What a certificate lets its holder do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Records observations and signs bundles (评估人员).
    Assessor,
    /// Merges a panel and signs the evaluation report (评价组长).
    Lead,
    /// A sync server: serves TLS and signs receipts; may relay bundles signed by others.
    Server,
}

const ARC: [u8; 20] = [0x69, 0x81, 0xd8, 0x9a, 0x9f, 0xd4, 0xd3, 0xd0, 0xf2, 0xad, 0xf5, 0x8f, 0x90, 0xcf, 0xcb, 0xd7, 0xe4, 0xec, 0x94, 0x14];
const fn role_oid(last: u8) -> [u8; 21] {
    let mut out = [0u8; 21];
    let mut i = 0;
    while i < 20 {
        out[i] = ARC[i];
        i += 1;
    }
    out[20] = last;
    out
}
static ASSESSOR_OID: [u8; 21] = role_oid(1);
static LEAD_OID: [u8; 21] = role_oid(2);
static SERVER_OID: [u8; 21] = role_oid(3);
/// id-kp-serverAuth and id-kp-clientAuth (RFC 5280), DER content bytes.
pub(crate) const SERVER_AUTH: [u8; 8] = [0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x01];
pub(crate) const CLIENT_AUTH: [u8; 8] = [0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x02];

impl Role {
    pub const ALL: [Role; 3] = [Role::Assessor, Role::Lead, Role::Server];

    /// The extended key usage OID, as DER content bytes.
    pub fn oid(self) -> &'static [u8] {
        match self {
            Role::Assessor => &ASSESSOR_OID,
            Role::Lead => &LEAD_OID,
            Role::Server => &SERVER_OID,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Assessor => "assessor",
            Role::Lead => "lead",
            Role::Server => "server",
        }
    }

    /// The role as the app and the report print it.
    pub fn label(self) -> &'static str {
        match self {
            Role::Assessor => "评估人员",
            Role::Lead => "评价组长",
            Role::Server => "服务器",
        }
    }

    pub fn parse(s: &str) -> std::result::Result<Role, String> {
        match s.trim() {
            "assessor" => Ok(Role::Assessor),
            "lead" => Ok(Role::Lead),
            "server" => Ok(Role::Server),
            other => Err(format!("role '{other}' is unknown (expected assessor, lead or server)")),
        }
    }
}

/// The fields of a certificate hallmark shows and checks.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CertInfo {
    /// Serial number, lowercase hex.
    pub serial: String,
    /// Subject common name: the person (or the CA, or the server).
    pub name: String,
    /// Subject organization: the person's unit.
    pub unit: String,
    /// Subject title (OID 2.5.4.12), empty if none.
    pub title: String,
    /// The device id from a `urn:uuid:` subject alternative name.
    pub device_id: Option<String>,
    pub roles: Vec<Role>,
    pub is_ca: bool,
    pub not_before: DateTime<Utc>,
    pub not_after: DateTime<Utc>,
    /// The issuer's common name.
    pub issuer: String,
    /// Issuer and subject names are the same (a root, or a self-made certificate).
    pub self_issued: bool,
    /// The subject public key: 32 raw bytes for Ed25519, the SEC1 point for ECDSA.
    #[serde(skip)]
    pub public_key: Vec<u8>,
    /// "ed25519", "ecdsa-p256" or the OID.
    pub key_algorithm: String,
    /// hallmark's fingerprint of the public key ("3f9a 07c2 …"), as the app shows it.
    pub fingerprint: String,
}

impl CertInfo {
    pub fn has_role(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }

    /// The roles as text: "assessor, lead", or "none".
    pub fn roles_text(&self) -> String {
        if self.roles.is_empty() {
            return "none".into();
        }
        self.roles.iter().map(|r| r.as_str()).collect::<Vec<_>>().join(", ")
    }
}

/// A chain carried as one PEM text per certificate (a bundle's `device.certificates`, a
/// sidecar's `signer_certificates`, the store's): every block read with [`read_pem`], in order.
pub fn read_chain(file: &str, pems: &[String]) -> Result<Vec<CertificateDer<'static>>> {
    let mut chain = Vec::new();
    for pem in pems {
        chain.extend(read_pem(file, pem.as_bytes())?);
    }
    Ok(chain)
}

/// Reads every certificate of a PEM file (a chain: leaf first). Refuses an empty file, text
/// that is not PEM, a truncated block, a private key or CRL where certificates belong, and
/// DER that does not parse as X.509. `file` names the input in messages.
pub fn read_pem(file: &str, bytes: &[u8]) -> Result<Vec<CertificateDer<'static>>> {
    let sections = pem_sections(file, bytes)?;
    let mut out = Vec::new();
    for (kind, der) in sections {
        match kind {
            SectionKind::Certificate => {
                info(file, &der)?;
                out.push(CertificateDer::from(der));
            }
            SectionKind::PrivateKey | SectionKind::EcPrivateKey | SectionKind::RsaPrivateKey => {
                return Err(malformed(file, "holds a private key, not a certificate (never pass or share key files; pass the .pem certificate)"))
            }
            SectionKind::Crl => return Err(malformed(file, "is a revocation list (CRL), not a certificate (pass it with --crl)")),
            other => return Err(malformed(file, format!("holds a {other:?} block, not a certificate"))),
        }
    }
    if out.is_empty() {
        return Err(malformed(file, "holds no certificate (expected -----BEGIN CERTIFICATE-----)"));
    }
    if out.len() > MAX_CHAIN {
        return Err(malformed(file, format!("holds {} certificates, more than the {MAX_CHAIN} a chain may have", out.len())));
    }
    Ok(out)
}

/// The PEM sections of a file, refusing what is not PEM.
pub(crate) fn pem_sections(file: &str, bytes: &[u8]) -> Result<Vec<(SectionKind, Vec<u8>)>> {
    if bytes.is_empty() {
        return Err(malformed(file, "is empty (copy the file again)"));
    }
    if bytes.len() > MAX_PEM_BYTES {
        return Err(malformed(file, format!("is {} bytes, more than the {MAX_PEM_BYTES} a certificate file may have", bytes.len())));
    }
    if bytes.first() == Some(&0x30) {
        return Err(malformed(file, "is binary DER, not PEM (convert it: `openssl x509 -inform der -in FILE -out FILE.pem`)"));
    }
    let mut reader: &[u8] = bytes;
    let mut out = Vec::new();
    loop {
        match rustls_pki_types::pem::from_buf(&mut reader) {
            Ok(Some(section)) => out.push(section),
            Ok(None) => break,
            Err(e) => return Err(malformed(file, format!("is not a valid PEM file ({e:?}): truncated or damaged; copy it again"))),
        }
    }
    if out.is_empty() {
        // A block of a kind this reader skips (an encrypted key, say): name it.
        let text = String::from_utf8_lossy(bytes);
        if let Some(label) = text.split("-----BEGIN ").nth(1).and_then(|rest| rest.split("-----").next()) {
            return Err(malformed(file, format!("holds a '{label}' block, not a certificate (never pass or share key files)")));
        }
        return Err(malformed(file, "is not a PEM file (no -----BEGIN ...----- block)"));
    }
    Ok(out)
}

/// Reads the fields of one DER certificate.
pub fn info(file: &str, der: &[u8]) -> Result<CertInfo> {
    let (rest, cert) = parse_x509_certificate(der).map_err(|e| malformed(file, format!("holds a certificate that does not parse: {e}")))?;
    if !rest.is_empty() {
        return Err(malformed(file, "has bytes after the certificate (damaged)"));
    }
    let bad = |what: String| malformed(file, what);
    let first = |name: &X509Name, oid: &x509_parser::der_parser::oid::Oid| -> Result<String> {
        match name.iter_by_oid(oid).next() {
            None => Ok(String::new()),
            Some(attr) => attr.as_str().map(str::to_string).map_err(|e| bad(format!("a name attribute is not text: {e}"))),
        }
    };
    let cn = x509_parser::oid_registry::OID_X509_COMMON_NAME;
    let org = x509_parser::oid_registry::OID_X509_ORGANIZATION_NAME;
    let subject = cert.subject();
    let mut roles = Vec::new();
    match cert.extended_key_usage() {
        Ok(Some(eku)) => {
            for oid in &eku.value.other {
                if let Some(r) = Role::ALL.into_iter().find(|r| r.oid() == oid.as_bytes()) {
                    roles.push(r);
                }
            }
        }
        Ok(None) => {}
        Err(e) => return Err(bad(format!("its extended key usage does not parse: {e}"))),
    }
    let mut device_id = None;
    match cert.subject_alternative_name() {
        Ok(Some(san)) => {
            for n in &san.value.general_names {
                if let GeneralName::URI(u) = n {
                    if let Some(id) = u.strip_prefix("urn:uuid:") {
                        device_id = Some(id.to_string());
                    }
                }
            }
        }
        Ok(None) => {}
        Err(e) => return Err(bad(format!("its alternative names do not parse: {e}"))),
    }
    let spki = cert.public_key();
    let alg = &spki.algorithm.algorithm;
    let key_algorithm = if *alg == OID_SIG_ED25519 {
        "ed25519".to_string()
    } else if *alg == OID_KEY_TYPE_EC_PUBLIC_KEY {
        "ecdsa-p256".to_string()
    } else {
        alg.to_id_string()
    };
    let public_key = spki.subject_public_key.data.to_vec();
    let time = |t: ASN1Time| DateTime::<Utc>::from_timestamp(t.timestamp(), 0).ok_or_else(|| bad("a validity date is out of range".into()));
    Ok(CertInfo {
        serial: hallmark_core::hex::hex(cert.raw_serial()),
        name: first(subject, &cn)?,
        unit: first(subject, &org)?,
        title: first(subject, &OID_X509_TITLE)?,
        device_id,
        roles,
        is_ca: cert.is_ca(),
        not_before: time(cert.validity().not_before)?,
        not_after: time(cert.validity().not_after)?,
        issuer: first(cert.issuer(), &cn)?,
        self_issued: cert.issuer().as_raw() == subject.as_raw(),
        fingerprint: fingerprint_of(&public_key),
        public_key,
        key_algorithm,
    })
}

/// hallmark's fingerprint of a public key: the first 16 hex digits of its SHA-256 in groups
/// of four, as the app, the roster and bundles show it.
pub fn fingerprint_of(public_key: &[u8]) -> String {
    let h = hallmark_core::hex::sha256_hex(public_key);
    [&h[0..4], &h[4..8], &h[8..12], &h[12..16]].join(" ")
}

/// PEM text of certificates (leaf first).
pub fn to_pem(certs: &[CertificateDer<'_>]) -> String {
    certs.iter().map(|c| pem_block("CERTIFICATE", c.as_ref())).collect()
}

pub(crate) fn pem_block(label: &str, der: &[u8]) -> String {
    let b64 = base64(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for line in b64.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(line).expect("base64 is ascii"));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

fn base64(bytes: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for c in bytes.chunks(3) {
        let n = (c[0] as u32) << 16 | (*c.get(1).unwrap_or(&0) as u32) << 8 | *c.get(2).unwrap_or(&0) as u32;
        out.push(T[(n >> 18) as usize & 63] as char);
        out.push(T[(n >> 12) as usize & 63] as char);
        out.push(if c.len() > 1 { T[(n >> 6) as usize & 63] as char } else { '=' });
        out.push(if c.len() > 2 { T[n as usize & 63] as char } else { '=' });
    }
    out
}

/// The DER of the extended key usage extension's value: the roles, plus the TLS purposes a
/// server (serverAuth, clientAuth) or device (clientAuth) uses.
pub(crate) fn eku_der(roles: &[Role]) -> Vec<u8> {
    let mut oids: Vec<&[u8]> = roles.iter().map(|r| r.oid()).collect();
    if roles.contains(&Role::Server) {
        oids.push(&SERVER_AUTH);
    }
    oids.push(&CLIENT_AUTH);
    let mut body = Vec::new();
    for o in oids {
        body.push(0x06);
        body.push(o.len() as u8);
        body.extend_from_slice(o);
    }
    let mut out = vec![0x30];
    der_len(&mut out, body.len());
    out.extend(body);
    out
}

fn der_len(out: &mut Vec<u8>, n: usize) {
    if n < 128 {
        out.push(n as u8);
    } else if n < 256 {
        out.extend([0x81, n as u8]);
    } else {
        out.extend([0x82, (n >> 8) as u8, n as u8]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_oids_read_back_as_the_documented_dotted_arcs() {
        // x509-parser prints arcs beyond 64 bits as hex, so decode base 128 here (openssl
        // prints the same dotted form: see the CLI test).
        fn dotted(der: &[u8]) -> String {
            let mut arcs: Vec<u128> = Vec::new();
            let mut v: u128 = 0;
            for b in der {
                v = (v << 7) | (b & 0x7f) as u128;
                if b & 0x80 == 0 {
                    arcs.push(v);
                    v = 0;
                }
            }
            let first = arcs.remove(0);
            let (a, b) = if first < 80 { (first / 40, first % 40) } else { (2, first - 80) };
            std::iter::once(a).chain(std::iter::once(b)).chain(arcs).map(|x| x.to_string()).collect::<Vec<_>>().join(".")
        }
        for (role, last) in [(Role::Assessor, 1), (Role::Lead, 2), (Role::Server, 3)] {
            assert_eq!(dotted(role.oid()), format!("2.25.143692907600213603958593712769363282452.{last}"));
        }
        assert_eq!(dotted(&SERVER_AUTH), "1.3.6.1.5.5.7.3.1");
    }

    #[test]
    fn base64_matches_the_standard_alphabet_and_padding() {
        for (input, want) in [(&b""[..], ""), (b"f", "Zg=="), (b"fo", "Zm8="), (b"foo", "Zm9v"), (b"foobar", "Zm9vYmFy")] {
            assert_eq!(base64(input), want);
        }
    }
}
