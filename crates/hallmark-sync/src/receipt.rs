//! Receipts: the server's signed statement that it holds a bundle, committed. Signed with the
//! key of the server's certificate (ECDSA P-256, role server, issued by the bureau CA:
//! `hallmark ca issue --role server`), so a tablet checks a receipt with the same bureau root
//! it checks the server's TLS certificate with. A receipt is the one thing that tells a
//! tablet its data is safe elsewhere.

use chrono::{DateTime, Utc};
use hallmark_core::hex::{hex, unhex};
use hallmark_trust::{certificate, CertInfo, Role, TrustStore, Trusted};
use ring::rand::SystemRandom;
use ring::signature::{EcdsaKeyPair, UnparsedPublicKey, ECDSA_P256_SHA256_ASN1, ECDSA_P256_SHA256_ASN1_SIGNING, ECDSA_P256_SHA256_FIXED_SIGNING};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::PrivateKeyDer;

use crate::wire::{ReceiptV1, SignedReceiptV1, RECEIPT_FORMAT};

pub const ALGORITHM: &str = "ecdsa-p256-sha256";

/// The server's certificate chain and its key: what signs receipts (and serves TLS).
pub struct ServerIdentity {
    key: EcdsaKeyPair,
    /// PEM blocks, leaf first, as the chain file holds them.
    pub certificates: Vec<String>,
    pub leaf: CertInfo,
    /// The key as DER (PKCS#8), for the TLS config.
    pub key_der: Vec<u8>,
}

impl ServerIdentity {
    /// Reads the chain file and key file `hallmark ca issue --role server --out FILE` wrote.
    pub fn load(cert_file: &str, cert_pem: &[u8], key_file: &str, key_pem: &[u8]) -> Result<ServerIdentity, String> {
        let chain = certificate::read_pem(cert_file, cert_pem).map_err(|e| e.to_string())?;
        let leaf = certificate::info(cert_file, chain[0].as_ref()).map_err(|e| e.to_string())?;
        if !leaf.has_role(Role::Server) {
            return Err(format!(
                "{cert_file}: '{}' does not have the role server (issue one with hallmark ca issue --role server --name NAME --host HOST)",
                leaf.name
            ));
        }
        let key = PrivateKeyDer::from_pem_slice(key_pem).map_err(|e| format!("{key_file}: not a PEM private key ({e})"))?;
        let PrivateKeyDer::Pkcs8(pkcs8) = key else {
            return Err(format!("{key_file}: expected a PKCS#8 key (-----BEGIN PRIVATE KEY-----)"));
        };
        let key_der = pkcs8.secret_pkcs8_der().to_vec();
        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, &key_der, &SystemRandom::new())
            .map_err(|e| format!("{key_file}: not an ECDSA P-256 key ({e})"))?;
        use ring::signature::KeyPair as _;
        if pair.public_key().as_ref() != leaf.public_key.as_slice() {
            return Err(format!("{key_file}: this key is not the key {cert_file} certifies (pass the .key written next to that certificate)"));
        }
        let certificates = chain.iter().map(|c| certificate::to_pem(std::slice::from_ref(c))).collect();
        Ok(ServerIdentity { key: pair, certificates, leaf, key_der })
    }

    /// The server as a client of another server (relay): requests signed with the
    /// certificate's P-256 key (`ecdsa-p256-sha256`), keyid the key's SEC1 point in hex.
    pub fn request_signer(&self) -> crate::client::DeviceSigner {
        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &self.key_der, &SystemRandom::new()).expect("the key loaded before");
        crate::client::DeviceSigner {
            public_key_hex: hex(&self.leaf.public_key),
            alg: crate::httpsig::ECDSA_P256,
            sign: Box::new(move |m| pair.sign(&SystemRandom::new(), m).expect("ECDSA signing does not fail").as_ref().to_vec()),
        }
    }

    /// Signs a rubric release: the file with its release statement's exact text and the
    /// signature over those bytes.
    pub fn sign_rubric(&self, rubric_id: &str, version: &str, sha256: &str, published_at: &str, content: &str) -> crate::wire::SignedRubricV1 {
        let release = crate::wire::RubricReleaseV1 {
            format: crate::wire::RUBRIC_RELEASE_FORMAT.into(),
            format_version: 1,
            rubric_id: rubric_id.into(),
            version: version.into(),
            sha256: sha256.into(),
            published_at: published_at.into(),
            server: self.leaf.name.clone(),
        };
        let text = serde_json::to_string(&release).expect("release serializes");
        let sig = self.key.sign(&SystemRandom::new(), text.as_bytes()).expect("ECDSA signing does not fail");
        crate::wire::SignedRubricV1 {
            release: text,
            algorithm: ALGORITHM.into(),
            signature: hex(sig.as_ref()),
            certificates: self.certificates.clone(),
            content: content.into(),
        }
    }

    /// Signs a receipt: its JSON text exactly as sent, and the signature over those bytes.
    pub fn sign(&self, receipt: &ReceiptV1) -> SignedReceiptV1 {
        let text = serde_json::to_string(receipt).expect("receipt serializes");
        let sig = self.key.sign(&SystemRandom::new(), text.as_bytes()).expect("ECDSA signing does not fail");
        SignedReceiptV1 { receipt: text, algorithm: ALGORITHM.into(), signature: hex(sig.as_ref()), certificates: self.certificates.clone() }
    }
}

/// A receipt that checked out: what it says and who said it.
#[derive(Debug, Clone)]
pub struct CheckedReceipt {
    pub receipt: ReceiptV1,
    pub server: Trusted,
}

/// Checks a receipt: the signature over its exact text with the key of its first
/// certificate, and that certificate chain with the role server against `trust` at `now`.
/// `bundle_id` is the bundle the client sent: a receipt for another bundle is refused.
pub fn check(signed: &SignedReceiptV1, bundle_id: &str, trust: &TrustStore, now: DateTime<Utc>) -> Result<CheckedReceipt, String> {
    if signed.algorithm != ALGORITHM {
        return Err(format!("receipt algorithm '{}' is not {ALGORITHM}", signed.algorithm));
    }
    let chain = certificate::read_chain("the receipt", &signed.certificates).map_err(|e| e.to_string())?;
    let server = trust.check(&chain, Role::Server, now, now).map_err(|e| format!("the receipt's server certificate is refused: {e}"))?;
    let sig = unhex(&signed.signature).ok_or("the receipt's signature is not hex")?;
    UnparsedPublicKey::new(&ECDSA_P256_SHA256_ASN1, &server.signer.public_key)
        .verify(signed.receipt.as_bytes(), &sig)
        .map_err(|_| "the receipt's signature does not verify (altered, or not signed by the server certificate it carries)".to_string())?;
    let receipt: ReceiptV1 = serde_json::from_str(&signed.receipt).map_err(|e| format!("the receipt is not a hallmark receipt: {e}"))?;
    if receipt.format != RECEIPT_FORMAT || receipt.format_version != 1 {
        return Err(format!("receipt format {} {} is unknown (update hallmark)", receipt.format, receipt.format_version));
    }
    if receipt.bundle_id != bundle_id {
        return Err(format!("the receipt is for bundle {}, not {bundle_id}", receipt.bundle_id));
    }
    Ok(CheckedReceipt { receipt, server })
}

/// Checks a rubric release: the signature over its exact text by its first certificate, that
/// chain with the role server against `trust` at `now`, and that the file is the one the
/// release names (its SHA-256). Whether the file is a rubric is the store's to check.
pub fn check_rubric(signed: &crate::wire::SignedRubricV1, trust: &TrustStore, now: DateTime<Utc>) -> Result<crate::wire::RubricReleaseV1, String> {
    if signed.algorithm != ALGORITHM {
        return Err(format!("rubric release algorithm '{}' is not {ALGORITHM}", signed.algorithm));
    }
    let chain = certificate::read_chain("the rubric release", &signed.certificates).map_err(|e| e.to_string())?;
    let server = trust.check(&chain, Role::Server, now, now).map_err(|e| format!("the rubric release's server certificate is refused: {e}"))?;
    let sig = unhex(&signed.signature).ok_or("the rubric release's signature is not hex")?;
    UnparsedPublicKey::new(&ECDSA_P256_SHA256_ASN1, &server.signer.public_key)
        .verify(signed.release.as_bytes(), &sig)
        .map_err(|_| "the rubric release's signature does not verify (altered, or not signed by the server certificate it carries)".to_string())?;
    let release: crate::wire::RubricReleaseV1 = serde_json::from_str(&signed.release).map_err(|e| format!("not a rubric release: {e}"))?;
    if release.format != crate::wire::RUBRIC_RELEASE_FORMAT || release.format_version != 1 {
        return Err(format!("rubric release format {} {} is unknown (update hallmark)", release.format, release.format_version));
    }
    if hallmark_core::hex::sha256_hex(signed.content.as_bytes()) != release.sha256 {
        return Err(format!("the file of rubric '{}' v{} is not the one its release names (altered in transit)", release.rubric_id, release.version));
    }
    Ok(release)
}
