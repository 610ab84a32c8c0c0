//! Checking a certificate chain: trusted roots, revocation lists, a role and a trusted time.
//!
//! The chain is built and its signatures, validity periods, CA constraints and extended key
//! usage (the role) are checked by `rustls-webpki`, at the time passed in. Revocation is
//! checked here, because its question is "revoked *before* the trusted time?": a bundle the
//! lead first saw before a tablet was reported stolen stays good; one first seen after it does
//! not, whatever date the tablet claims. A CRL entry's invalidity date (when the device was
//! lost), if earlier, counts instead of its revocation date.

use chrono::{DateTime, SecondsFormat, Utc};
use rustls_pki_types::pem::SectionKind;
use rustls_pki_types::{CertificateDer, UnixTime};
use serde::Serialize;
use webpki::{EndEntityCert, KeyUsage};
use x509_parser::prelude::*;

use crate::certificate::{self, CertInfo, Role};
use crate::{malformed, Result, TrustError};

static ALGORITHMS: &[&dyn rustls_pki_types::SignatureVerificationAlgorithm] =
    &[webpki::ring::ECDSA_P256_SHA256, webpki::ring::ECDSA_P384_SHA384, webpki::ring::ED25519, webpki::ring::RSA_PKCS1_2048_8192_SHA256];

/// One revocation list, its signature not yet checked (it is checked against the issuer the
/// chain leads to).
#[derive(Debug, Clone)]
struct Crl {
    file: String,
    der: Vec<u8>,
}

/// The roots (and CRLs) a lead's store, `verify` or a server trusts.
#[derive(Debug, Clone, Default)]
pub struct TrustStore {
    roots: Vec<(CertificateDer<'static>, CertInfo)>,
    crls: Vec<Crl>,
}

/// A chain that checked out.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Trusted {
    /// The signer's certificate.
    pub signer: CertInfo,
    /// Names from the signer up to the root: "张伟 ← 沈阳市医疗保障局 ← 辽宁省医疗保障局".
    pub path: Vec<String>,
    /// The root's common name.
    pub root: String,
    /// The root's key fingerprint (two roots may share a name across a key rollover).
    pub root_key: String,
    /// Whether every certificate in the path was checked against its issuer's CRL.
    pub revocation_checked: bool,
    /// What is weaker than it should be: no CRL for an issuer, a CRL past its next update.
    pub notes: Vec<String>,
}

fn stamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

impl TrustStore {
    pub fn new() -> TrustStore {
        TrustStore::default()
    }

    pub fn has_roots(&self) -> bool {
        !self.roots.is_empty()
    }

    pub fn roots(&self) -> impl Iterator<Item = &CertInfo> {
        self.roots.iter().map(|r| &r.1)
    }

    /// Adds the root certificate(s) in a PEM file. A root must be a self-issued CA certificate.
    pub fn add_roots_pem(&mut self, file: &str, pem: &[u8]) -> Result<Vec<CertInfo>> {
        let mut added = Vec::new();
        for der in certificate::read_pem(file, pem)? {
            let info = certificate::info(file, &der)?;
            if !info.is_ca || !info.self_issued {
                return Err(malformed(
                    file,
                    format!(
                        "'{}' is not a root CA certificate (a trusted root is the bureau's root.pem, not a device or intermediate certificate)",
                        info.name
                    ),
                ));
            }
            let (_, x) = parse_x509_certificate(&der).map_err(|e| malformed(file, e.to_string()))?;
            if x.verify_signature(None).is_err() {
                return Err(malformed(file, format!("the root '{}' is not signed by its own key (altered)", info.name)));
            }
            if !self.roots.iter().any(|r| r.0 == der) {
                self.roots.push((der, info.clone()));
            }
            added.push(info);
        }
        Ok(added)
    }

    /// Adds a revocation list (PEM "X509 CRL"). Its signature is checked when it is used.
    pub fn add_crl_pem(&mut self, file: &str, pem: &[u8]) -> Result<()> {
        let sections = certificate::pem_sections(file, pem)?;
        for (kind, der) in sections {
            if kind != SectionKind::Crl {
                return Err(malformed(file, format!("holds a {kind:?}, not a revocation list (X509 CRL)")));
            }
            let (rest, _) = parse_x509_crl(&der).map_err(|e| malformed(file, format!("is not a revocation list: {e}")))?;
            if !rest.is_empty() {
                return Err(malformed(file, "has bytes after the revocation list (damaged)"));
            }
            self.crls.push(Crl { file: file.to_string(), der });
        }
        Ok(())
    }

    /// Checks `chain` (signer first, then intermediates) for `role` at the trusted time `at`.
    /// `now` only judges whether a CRL is out of date.
    pub fn check(&self, chain: &[CertificateDer<'_>], role: Role, at: DateTime<Utc>, now: DateTime<Utc>) -> Result<Trusted> {
        let Some(leaf) = chain.first() else { return Err(TrustError::NoCertificate) };
        let signer = certificate::info("the signer's certificate", leaf)?;
        if self.roots.is_empty() {
            return Err(TrustError::NoTrustRoot);
        }
        // Name the certificate whose dates are wrong (webpki only says that one is).
        for der in chain {
            let c = certificate::info("a certificate in the chain", der)?;
            if at > c.not_after {
                return Err(TrustError::Expired { name: c.name, not_after: stamp(c.not_after), at: stamp(at) });
            }
            if at < c.not_before {
                return Err(TrustError::NotYetValid { name: c.name, not_before: stamp(c.not_before), at: stamp(at) });
            }
        }
        if signer.self_issued && !self.roots.iter().any(|r| r.0.as_ref() == leaf.as_ref()) {
            return Err(TrustError::SelfSigned { name: signer.name });
        }
        // webpki applies the usage to every certificate of the path, and CA certificates carry
        // no extended key usage: so "required if present" there, and the signer's role is
        // required here.
        if !signer.has_role(role) {
            return Err(TrustError::WrongRole { name: signer.name.clone(), has: signer.roles_text(), wanted: role.as_str().into() });
        }
        let anchors: Vec<_> = self.roots.iter().filter_map(|r| webpki::anchor_from_trusted_cert(&r.0).ok()).collect();
        let ee = EndEntityCert::try_from(leaf).map_err(|e| TrustError::Invalid { name: signer.name.clone(), detail: format!("{e:?}") })?;
        let intermediates: Vec<CertificateDer<'_>> = chain[1..].iter().map(|c| CertificateDer::from(c.as_ref())).collect();
        let time = UnixTime::since_unix_epoch(std::time::Duration::from_secs(at.timestamp().max(0) as u64));
        let path =
            ee.verify_for_usage(ALGORITHMS, &anchors, &intermediates, time, KeyUsage::required_if_present(role.oid()), None, None).map_err(|e| {
                use webpki::Error as E;
                match e {
                    #[allow(deprecated)]
                    E::RequiredEkuNotFound | E::RequiredEkuNotFoundContext(_) => {
                        TrustError::WrongRole { name: signer.name.clone(), has: signer.roles_text(), wanted: role.as_str().into() }
                    }
                    E::UnknownIssuer => {
                        let top = chain.last().and_then(|c| certificate::info("", c).ok()).map(|c| c.issuer).unwrap_or_default();
                        TrustError::UnknownIssuer { name: signer.name.clone(), issuer: top }
                    }
                    E::CertExpired { .. } => TrustError::Expired { name: signer.name.clone(), not_after: stamp(signer.not_after), at: stamp(at) },
                    E::InvalidSignatureForPublicKey => TrustError::Invalid {
                        name: signer.name.clone(),
                        detail: "a signature in the chain does not verify against the key of the CA it names: it was issued by another CA with the same name as a trusted one, or altered".into(),
                    },
                    other => TrustError::Invalid { name: signer.name.clone(), detail: format!("{other:?}") },
                }
            })?;
        // The path, signer first: each certificate with the one that issued it.
        let mut ders: Vec<Vec<u8>> = vec![leaf.as_ref().to_vec()];
        ders.extend(path.intermediate_certificates().map(|c| c.der().as_ref().to_vec()));
        // The root webpki chose: its name *and* key (a rolled-over root may keep the name).
        let (anchor_subject, anchor_key) = (path.anchor().subject.as_ref().to_vec(), path.anchor().subject_public_key_info.as_ref().to_vec());
        let root = self
            .roots
            .iter()
            .find(|r| {
                webpki::anchor_from_trusted_cert(&r.0)
                    .map(|a| a.subject.as_ref() == anchor_subject.as_slice() && a.subject_public_key_info.as_ref() == anchor_key.as_slice())
                    .unwrap_or(false)
            })
            .ok_or_else(|| TrustError::Invalid {
                name: signer.name.clone(),
                detail: "the root the chain leads to is not in the trust store".into(),
            })?;
        let root_info = &root.1;
        if at > root_info.not_after {
            return Err(TrustError::Expired { name: root_info.name.clone(), not_after: stamp(root_info.not_after), at: stamp(at) });
        }
        ders.push(root.0.as_ref().to_vec());
        let mut names = Vec::new();
        let mut notes = Vec::new();
        let mut all_checked = true;
        for pair in ders.windows(2) {
            let (_, cert) = parse_x509_certificate(&pair[0]).map_err(|e| malformed("chain", e.to_string()))?;
            let (_, issuer) = parse_x509_certificate(&pair[1]).map_err(|e| malformed("chain", e.to_string()))?;
            let name = certificate::info("chain", &pair[0])?.name;
            names.push(name.clone());
            let issuer_name = certificate::info("chain", &pair[1])?.name;
            match self.revocation(&cert, &issuer, &issuer_name, now, &mut notes) {
                Revocation::Unknown => {
                    all_checked = false;
                    notes.push(format!(
                        "no revocation list from '{issuer_name}': the certificates it issued are not checked for revocation (pass its crl.pem)"
                    ));
                }
                Revocation::Good { stale } => {
                    if let Some(next) = stale {
                        notes.push(format!(
                            "the revocation list from '{issuer_name}' was due for renewal on {} (fetch the current crl.pem)",
                            stamp(next)
                        ));
                    }
                }
                Revocation::Revoked { since } => {
                    if since <= at {
                        return Err(TrustError::Revoked {
                            name,
                            serial: hallmark_core::hex::hex(cert.raw_serial()),
                            issuer: issuer_name,
                            revoked_at: stamp(since),
                            at: stamp(at),
                        });
                    }
                    notes.push(format!("the certificate of '{name}' was revoked on {}, after the trusted time {}", stamp(since), stamp(at)));
                }
            }
        }
        names.push(root_info.name.clone());
        Ok(Trusted {
            signer,
            path: names,
            root: root_info.name.clone(),
            root_key: root_info.fingerprint.clone(),
            revocation_checked: all_checked,
            notes,
        })
    }

    /// Is `cert` revoked, by any revocation list `issuer` signed? Every list that verifies
    /// counts (an entry on an older list is not undone by a newer one that lost it, and no
    /// clock or number decides which list wins); the newest one says whether the lists are out
    /// of date. A list that names `issuer` but is not signed by its key (another CA with the
    /// same name, or altered) is ignored, with a note: it must never block, nor clear, a chain.
    fn revocation(
        &self,
        cert: &X509Certificate<'_>,
        issuer: &X509Certificate<'_>,
        issuer_name: &str,
        now: DateTime<Utc>,
        notes: &mut Vec<String>,
    ) -> Revocation {
        let mut newest: Option<(i64, Option<i64>)> = None;
        let mut revoked: Option<i64> = None;
        for crl in &self.crls {
            let Ok((_, parsed)) = parse_x509_crl(&crl.der) else { continue };
            if parsed.issuer().as_raw() != issuer.subject().as_raw() {
                continue;
            }
            if parsed.verify_signature(issuer.public_key()).is_err() {
                let note = format!(
                    "{}: a revocation list naming '{issuer_name}' that its key did not sign (another CA with the same name, or altered) was ignored",
                    crl.file
                );
                if !notes.contains(&note) {
                    notes.push(note);
                }
                continue;
            }
            let when = parsed.last_update().timestamp();
            if newest.is_none_or(|(w, _)| when > w) {
                newest = Some((when, parsed.next_update().map(|t| t.timestamp())));
            }
            for r in parsed.iter_revoked_certificates() {
                if r.raw_serial() == cert.raw_serial() {
                    let mut since = r.revocation_date.timestamp();
                    for ext in r.extensions() {
                        if let ParsedExtension::InvalidityDate(t) = ext.parsed_extension() {
                            since = since.min(t.timestamp());
                        }
                    }
                    revoked = Some(revoked.map_or(since, |s| s.min(since)));
                }
            }
        }
        if let Some(since) = revoked {
            return Revocation::Revoked { since: DateTime::from_timestamp(since, 0).unwrap_or_default() };
        }
        let Some((_, next)) = newest else { return Revocation::Unknown };
        let stale = next.filter(|t| *t < now.timestamp()).and_then(|t| DateTime::from_timestamp(t, 0));
        Revocation::Good { stale }
    }
}

enum Revocation {
    Unknown,
    Good { stale: Option<DateTime<Utc>> },
    Revoked { since: DateTime<Utc> },
}
