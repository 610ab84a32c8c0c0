//! Enrollment over the network (issue #11): a new tablet reaches the server knowing only its
//! address and the bureau root's fingerprint (printed on the enrollment notice), sends its
//! enrollment request signed with its own key, and — once an admin approved it with the
//! bureau's CA — installs the certificate, the root and the current revocation lists.
//!
//! First contact cannot check the server's TLS certificate (the tablet has no root yet): it
//! reads only `GET /v1/trust`, public data, keeps the root whose SHA-256 matches the
//! fingerprint, and reads the list again over a connection checked against that root (as
//! `kubeadm join --discovery-token-ca-cert-hash` does). Everything after is checked.

use std::sync::Arc;
use std::time::Duration;

use hallmark_core::hex::sha256_hex;
use hallmark_store::{Enrollment, Store};
use hallmark_trust::certificate;

use crate::client::{admin_post, answer_error, bureau_agent, Body, Client, DeviceSigner};
use crate::wire::{EnrollmentDecisionV1, EnrollmentListV1, EnrollmentRequestV1, EnrollmentV1, TrustV1};
use crate::SyncError;

type Result<T> = std::result::Result<T, SyncError>;

/// A certificate's SHA-256 over its DER bytes (hex): what the bureau prints as its root's
/// fingerprint and a tablet pins on first contact. `what` names the input in messages.
pub fn certificate_sha256(what: &str, pem: &str) -> Result<String> {
    let der = certificate::read_pem(what, pem.as_bytes()).map_err(|e| SyncError::Local(e.to_string()))?;
    Ok(sha256_hex(der[0].as_ref()))
}

/// The fingerprint as people read it: groups of four hex digits.
pub fn grouped(hex: &str) -> String {
    hex.as_bytes().chunks(4).map(|c| std::str::from_utf8(c).unwrap_or("")).collect::<Vec<_>>().join(" ")
}

/// A typed fingerprint without spaces or colons, lowercase: at least 32 hex digits (128
/// bits) of the root's SHA-256, so a forged root cannot be made to match.
pub fn normalize_pin(pin: &str) -> Result<String> {
    let p: String = pin.chars().filter(|c| !c.is_whitespace() && *c != ':' && *c != '-').collect::<String>().to_ascii_lowercase();
    if p.len() < 32 || p.len() > 64 || !p.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(SyncError::Fingerprint(format!(
            "root fingerprint '{pin}' is not 32 to 64 hex digits (the bureau prints its root's SHA-256: hallmark ca show ROOT.pem)"
        )));
    }
    Ok(p)
}

/// Accepts any server certificate: used only to read `GET /v1/trust`, whose root is then
/// checked against the fingerprint (and the server's certificate against the root).
#[derive(Debug)]
struct FirstContact(Arc<rustls::crypto::CryptoProvider>);

impl rustls::client::danger::ServerCertVerifier for FirstContact {
    fn verify_server_cert(
        &self,
        _end_entity: &rustls_pki_types::CertificateDer<'_>,
        _intermediates: &[rustls_pki_types::CertificateDer<'_>],
        _server_name: &rustls_pki_types::ServerName<'_>,
        _ocsp: &[u8],
        _now: rustls_pki_types::UnixTime,
    ) -> std::result::Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        Ok(rustls::client::danger::ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &rustls_pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> std::result::Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &rustls_pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> std::result::Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

fn read_trust(agent: &ureq::Agent, url: &str) -> Result<TrustV1> {
    let resp = agent.get(&format!("{url}/v1/trust")).call().map_err(|e| answer_error(url, e))?;
    resp.into_json().map_err(|e| SyncError::BadAnswer(format!("/v1/trust: {e}")))
}

/// First contact: the bureau root whose SHA-256 starts with `pin`, and the server's current
/// revocation lists, read again over TLS checked against that root.
pub fn fetch_pinned_trust(url: &str, pin: &str) -> Result<(String, Vec<String>)> {
    let url = url.trim_end_matches('/');
    if !url.starts_with("https://") {
        return Err(SyncError::Local(format!("server '{url}' must be an https:// address (hallmark only syncs over TLS)")));
    }
    let pin = normalize_pin(pin)?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let tls = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| SyncError::Local(e.to_string()))?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(FirstContact(provider)))
        .with_no_client_auth();
    let agent = ureq::AgentBuilder::new().tls_config(Arc::new(tls)).timeout(Duration::from_secs(30)).build();
    let offered = read_trust(&agent, url)?;
    let mut seen = Vec::new();
    let mut root = None;
    for pem in &offered.roots {
        let sha = certificate_sha256("a root the server offers", pem).map_err(|e| SyncError::BadAnswer(e.to_string()))?;
        if sha.starts_with(&pin) {
            root = Some(pem.clone());
        }
        seen.push(grouped(&sha[..16]));
    }
    let Some(root) = root else {
        return Err(SyncError::Fingerprint(format!(
            "no root the server {url} offers has the fingerprint {} (it offers {}): check the fingerprint on the bureau's notice, and the server address",
            grouped(&pin),
            if seen.is_empty() { "none".to_string() } else { seen.join(", ") + " …" }
        )));
    };
    // The root is the bureau's; now the server must prove it is the bureau's server too.
    let checked = read_trust(&bureau_agent(std::slice::from_ref(&root))?, url)?;
    Ok((root, checked.crls))
}

/// `hallmark enroll submit` / the app's 向服务器申请登记: pins the bureau root, trusts it in this
/// store, and sends this device's enrollment request signed with its key. The answer says
/// `pending` until an admin decides.
pub fn submit(store: &Store, url: &str, pin: &str, name: &str, unit: &str, title: &str, now: &str) -> Result<EnrollmentV1> {
    let url = url.trim_end_matches('/');
    let (root, crls) = fetch_pinned_trust(url, pin)?;
    // The request is made before anything is stored: a bad name changes nothing here.
    let request = store.enrollment_request(name, unit, title)?;
    store.add_trust(&format!("{url}/v1/trust"), root.as_bytes(), now)?;
    for crl in &crls {
        store.add_trust(&format!("{url}/v1/trust"), crl.as_bytes(), now)?;
    }
    let client = device_client(store, url)?;
    let body = serde_json::to_vec(&EnrollmentRequestV1 { request }).expect("serializes");
    let resp = client.send("POST", "/v1/enrollments", Body::Bytes(&body, "application/json"))?;
    client.json("/v1/enrollments", resp)
}

/// A client signing with this device's key, trusting the roots this store trusts.
fn device_client(store: &Store, url: &str) -> Result<Client> {
    let roots = store.trusted_root_pems()?;
    if roots.is_empty() {
        return Err(SyncError::Local(
            "no bureau root is trusted here yet: send the enrollment request first (hallmark enroll submit --root-fingerprint …)".into(),
        ));
    }
    Client::new(url, &roots, store.trust_store()?, DeviceSigner::of(store.signing_key()?))
}

/// What [`fetch`] found.
#[derive(Debug)]
pub struct Fetched {
    pub enrollment: EnrollmentV1,
    /// The certificate installed now (approved, and not installed before).
    pub installed: Option<Enrollment>,
}

/// `hallmark enroll fetch` / the app's 检查审批结果: asks what became of the request; when it was
/// approved, loads the server's revocation lists and installs the certificate (checked
/// against the pinned root, as a certificate from a folder is).
pub fn fetch(store: &Store, url: &str, now: &str) -> Result<Fetched> {
    let url = url.trim_end_matches('/');
    let client = device_client(store, url)?;
    let resp = client.send("GET", "/v1/enrollment", Body::Empty)?;
    let enrollment: EnrollmentV1 = client.json("/v1/enrollment", resp)?;
    if enrollment.state != "approved" {
        return Ok(Fetched { enrollment, installed: None });
    }
    let chain = enrollment.certificates.join("");
    if store.device_certificates()?.is_some_and(|have| have.join("") == chain) {
        return Ok(Fetched { enrollment, installed: None });
    }
    let trust = read_trust(&bureau_agent(&store.trusted_root_pems()?)?, url)?;
    for crl in &trust.crls {
        store.add_trust(&format!("{url}/v1/trust"), crl.as_bytes(), now)?;
    }
    let mut last = None;
    for root in store.trusted_root_pems()? {
        match store.install_certificate_files("the certificate the server holds", chain.as_bytes(), "the pinned root", root.as_bytes(), now) {
            Ok(e) => return Ok(Fetched { enrollment, installed: Some(e) }),
            Err(e) => last = Some(e),
        }
    }
    Err(last.map(SyncError::Store).unwrap_or_else(|| SyncError::Local("no bureau root is trusted here".into())))
}

/// `hallmark enroll pending --server URL`: every request the server holds (admin token).
pub fn enrollments_remote(url: &str, roots: &[String], token: &str) -> Result<EnrollmentListV1> {
    let url = url.trim_end_matches('/');
    let resp = bureau_agent(roots)?
        .get(&format!("{url}/v1/admin/enrollments"))
        .set("authorization", &format!("Bearer {}", token.trim()))
        .call()
        .map_err(|e| answer_error(url, e))?;
    resp.into_json().map_err(|e| SyncError::BadAnswer(e.to_string()))
}

/// `hallmark enroll approve|refuse --server URL`: the decision on one request (admin token).
pub fn decide_remote(url: &str, roots: &[String], token: &str, public_key: &str, d: &EnrollmentDecisionV1) -> Result<EnrollmentV1> {
    admin_post(url, roots, token, &format!("/v1/admin/enrollments/{public_key}"), d)
}
