//! The import rules that need what a holder already has (issue #16): the signer's
//! certificate chain against the trusted roots and CRLs, a known rubric, values valid under
//! it, nothing that contradicts what is held. One copy, asked of any holder through
//! [`Held`]: a lead's or a server's SQLite store, or the province's PostgreSQL
//! (hallmark-server's `postgres` backend) — so `hallmark import`, a hall's server and the
//! province refuse the same bundles with the same words.

use std::collections::{BTreeMap, BTreeSet};

use hallmark_bundle::format::Manifest;
use hallmark_trust::TrustStore;
use serde_json::Value;

use super::Certified;
use crate::{Result, StoreError};

/// An inspection as a holder has it (its first bundle's header).
#[derive(Debug, Clone)]
pub struct HeldInspection {
    pub rubric_hash: String,
    pub site_name: String,
    pub assessor_name: String,
    pub device_id: String,
}

/// An event as a holder has it.
#[derive(Debug, Clone, PartialEq)]
pub struct HeldEvent {
    pub inspection_id: String,
    pub key: String,
    pub value: Option<Value>,
    pub recorded_at: String,
    pub device_id: String,
}

/// What the import rules ask of whoever holds bundles.
pub trait Held {
    /// The roots and revocation lists trusted here.
    fn trust_store(&self) -> Result<TrustStore>;
    /// (id, version, SHA-256) of every rubric a bundle may use here.
    fn known_rubrics(&self) -> Result<Vec<(String, String, String)>>;
    /// The certificate (name, serial) an earlier bundle signed by this key carried, if any.
    fn certified_signer_of_key(&self, public_key: &str) -> Result<Option<(String, String)>>;
    fn inspection_header(&self, id: &str) -> Result<Option<HeldInspection>>;
    /// The key that signed the first bundle of an inspection held here.
    fn first_signer_key(&self, inspection_id: &str) -> Result<Option<String>>;
    /// The events held with these ids.
    fn events(&self, ids: &[&str]) -> Result<BTreeMap<String, HeldEvent>>;
    /// The device this holder records on (a tablet's or a lead's store); `None` on a server.
    fn own_device_id(&self) -> Option<&str>;
}

/// A `bundle_signers` row (migration 0006): who a bundle's certificate named when it was
/// first seen.
#[derive(Debug, Clone, PartialEq)]
pub struct SignerRow {
    pub assurance: String,
    pub name: String,
    pub unit: String,
    pub title: String,
    pub roles: String,
    pub serial: String,
    pub issuer: String,
    pub root: String,
    pub notes: Vec<String>,
}

/// A refused bundle, named.
pub fn bundle_err(file: &str, what: String) -> StoreError {
    StoreError::Bundle(format!("bundle '{file}': {what}"))
}

/// The signer of a bundle as its certificate chain says (issue #10), checked against the
/// holder's trusted roots and revocation lists at `seen_at`: the chain must lead to a trusted
/// root with the role assessor, certify the key that signed the bundle, and name the
/// assessor the bundle names. A chain that fails refuses the bundle (nothing changes); a
/// bundle without certificates is unenrolled (the roster is its only assurance); one with
/// certificates while no root is trusted is accepted unchecked.
pub fn certify(held: &dyn Held, file: &str, m: &Manifest, seen_at: &str, now: &str) -> Result<(Certified, Option<SignerRow>)> {
    use hallmark_trust::certificate;
    let refused = |e: hallmark_trust::TrustError| bundle_err(file, format!("the signer's certificate is refused: {e}"));
    if m.device.certificates.is_empty() {
        // A key seen certified here cannot drop its certificate to pass as an unenrolled
        // tablet (a revoked or expired one would escape every check).
        if let Some((name, serial)) = held.certified_signer_of_key(&m.device.public_key)? {
            return Err(bundle_err(
                file,
                format!(
                    "the signer's certificate is refused: the bundle carries none, but key {} signed here before with the certificate of '{name}' (serial {serial}); export it again from that tablet with its current certificate",
                    m.device.fingerprint
                ),
            ));
        }
        return Ok((Certified::Unenrolled, None));
    }
    let chain = certificate::read_chain("the certificate in the bundle", &m.device.certificates).map_err(refused)?;
    let leaf = certificate::info("the certificate in the bundle", &chain[0]).map_err(refused)?;
    if hallmark_core::hex::hex(&leaf.public_key) != m.device.public_key {
        return Err(refused(hallmark_trust::TrustError::KeyMismatch {
            name: leaf.name.clone(),
            cert_key: leaf.fingerprint.clone(),
            signer_key: m.device.fingerprint.clone(),
        }));
    }
    let row = |assurance: &str, root: &str, notes: Vec<String>| SignerRow {
        assurance: assurance.into(),
        name: leaf.name.clone(),
        unit: leaf.unit.clone(),
        title: leaf.title.clone(),
        roles: leaf.roles.iter().map(|r| r.as_str()).collect::<Vec<_>>().join(","),
        serial: leaf.serial.clone(),
        issuer: leaf.issuer.clone(),
        root: root.into(),
        notes,
    };
    let trust = held.trust_store()?;
    if !trust.has_roots() {
        return Ok((Certified::Unchecked { name: leaf.name.clone() }, Some(row("unchecked", "", Vec::new()))));
    }
    let at = crate::enrollment::parse_now(seen_at)?;
    let checked = trust.check(&chain, hallmark_trust::Role::Assessor, at, crate::enrollment::parse_now(now)?).map_err(refused)?;
    // Names compare without spaces (张 伟 = 张伟): the one a tablet typed before it enrolled
    // cannot be changed on the tablet.
    let named = m.inspection.assessor_name.trim();
    let bare = |s: &str| s.chars().filter(|c| !c.is_whitespace()).collect::<String>();
    if bare(&checked.signer.name) != bare(named) {
        return Err(bundle_err(
            file,
            format!(
                "the signer's certificate is refused: the bundle names its assessor '{named}', but the certificate certifies '{}' (correct the assessor's name on the tablet and export again)",
                checked.signer.name
            ),
        ));
    }
    Ok((
        Certified::Enrolled {
            name: checked.signer.name.clone(),
            unit: checked.signer.unit.clone(),
            root: checked.root.clone(),
            serial: checked.signer.serial.clone(),
        },
        Some(row("enrolled", &checked.root, checked.notes.clone())),
    ))
}

/// Rules that need what is held: a known rubric, values valid under it, and no event or
/// inspection that contradicts what is already here. Returns how many events are new.
pub fn check_against(held: &dyn Held, file: &str, m: &Manifest) -> Result<usize> {
    let bad = |what: String| bundle_err(file, what);
    let known = held.known_rubrics()?;
    let mut versions: Vec<String> =
        known.iter().filter(|k| k.0 == m.rubric.id).map(|k| format!("{} ({}…)", k.1, k.2.get(..12).unwrap_or(&k.2))).collect();
    versions.dedup();
    if !known.iter().any(|k| k.0 == m.rubric.id && k.1 == m.rubric.version && k.2 == m.rubric.sha256) {
        return Err(bad(if versions.is_empty() {
            format!("rubric '{}' is unknown to this hallmark (add its file to rubrics/ or update hallmark)", m.rubric.id)
        } else {
            format!(
                "rubric '{}' version '{}' ({}…) is unknown here (known: {}): update hallmark, or have the tablet use a known version",
                m.rubric.id,
                m.rubric.version,
                &m.rubric.sha256[..12],
                versions.join(", ")
            )
        }));
    }
    // The manifest's check made sure the text matches its hash.
    let rubric = crate::inspections::load_rubric_by_hash(&format!("rubric of {file}"), &m.rubric.content, &m.rubric.sha256)
        .map_err(|e| bad(format!("its rubric does not load: {e}")))?;
    let h = &m.inspection;
    if hallmark_core::observation::canonical_level(&h.site_level).is_none() || !hallmark_core::date::is_iso_date(&h.visited_on) {
        return Err(bad(format!("inspection header has level '{}' and date '{}', not a known level and a date", h.site_level, h.visited_on)));
    }
    // Every time in the bundle is a real one: no clock writes 2026-02-31. (A real but
    // implausible time, 1970 or 2100, is signed evidence: imported, and flagged by the
    // merge view.) Event times are checked with the manifest (hallmark-bundle).
    let mut times: Vec<(String, &str)> =
        vec![("inspection header: created_at".into(), &h.created_at), ("the bundle's created_at".into(), &m.created_at)];
    times.extend(h.finished_at.as_deref().map(|t| ("inspection header: finished_at".to_string(), t)));
    for s in &m.service_entries {
        times.push((format!("service entry {}: observed_at", s.id), &s.observed_at));
        times.push((format!("service entry {}: recorded_at", s.id), &s.recorded_at));
    }
    times.extend(m.evidence.iter().map(|e| (format!("evidence {}: attached_at", e.id), e.attached_at.as_str())));
    times.extend(m.signature_image.iter().map(|s| ("signature image: signed_at".to_string(), s.signed_at.as_str())));
    for (what, t) in times {
        let why = match hallmark_core::date::day_of(t) {
            Err(why) => why,
            Ok(_) if !hallmark_core::date::is_timestamp(t) => "is not a time (write RFC 3339 UTC, e.g. \"2026-11-20T09:30:00Z\")".into(),
            Ok(_) => continue,
        };
        return Err(bad(format!("{what} '{t}' {why} (no clock writes it: the bundle was altered or made by a faulty hallmark)")));
    }
    for e in &m.events {
        crate::events::check_value(&rubric, &e.key, e.value.as_ref()).map_err(|err| bad(format!("event {}: {err}", e.id)))?;
    }
    let item_ids: BTreeSet<&str> = rubric.item.iter().map(|i| i.id.as_str()).collect();
    for e in &m.evidence {
        if !item_ids.contains(e.item_id.as_str()) {
            return Err(bad(format!("evidence {} is for item '{}', not in rubric '{}'", e.id, e.item_id, rubric.id)));
        }
    }
    if let Some(existing) = held.inspection_header(&h.id)? {
        if existing.rubric_hash != m.rubric.sha256 || existing.site_name != h.site_name || existing.assessor_name != h.assessor_name {
            return Err(bad(format!(
                "inspection {} is already here as {} · {} ({}…), but the bundle says {} · {} ({}…) (the bundle was altered or made by a different hallmark)",
                h.id, existing.site_name, existing.assessor_name, existing.rubric_hash.get(..12).unwrap_or(&existing.rubric_hash), h.site_name, h.assessor_name, m.rubric.sha256.get(..12).unwrap_or(&m.rubric.sha256)
            )));
        }
        if held.own_device_id() == Some(existing.device_id.as_str()) {
            return Err(bad(format!("inspection {} was recorded on this device: it is already here", h.id)));
        }
        // One inspection, one tablet, one key: a later bundle signed by another key cannot
        // add to it (a copied header re-signed by anyone else would change its answers).
        if let Some(key) = held.first_signer_key(&h.id)?.filter(|k| *k != m.device.public_key) {
            return Err(bad(format!(
                "inspection {} is already here, signed by key {}, but this bundle is signed by key {}: it contradicts what is here (a bundle of one inspection comes from the tablet that recorded it; this one was altered or re-signed)",
                h.id,
                crate::identity::fingerprint_of(&hallmark_core::hex::unhex(&key).unwrap_or_default()),
                m.device.fingerprint
            )));
        }
    }
    let ids: Vec<&str> = m.events.iter().map(|e| e.id.as_str()).collect();
    let have = held.events(&ids)?;
    let mut new = 0;
    for e in &m.events {
        match have.get(&e.id) {
            None => new += 1,
            Some(x) => {
                if x.inspection_id != h.id || x.key != e.key || x.value != e.value || x.recorded_at != e.recorded_at || x.device_id != e.device_id {
                    return Err(bad(format!(
                        "event {} differs from the copy already imported (key '{}'): events never change once recorded, so this bundle was altered",
                        e.id, e.key
                    )));
                }
            }
        }
    }
    Ok(new)
}
