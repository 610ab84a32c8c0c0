//! `hallmark serve`: the sync server (issue #11, protocol in docs/sync.md).
//!
//! Tablets push signed bundles (manifest first, then only the files the server lacks, then a
//! commit that answers with a receipt signed by the server's certificate); leads pull the
//! bundles of the panels they lead. Every request is signed with the device's Ed25519 key
//! (RFC 9421) and the key is mapped to the certificate the device presented; TLS (rustls,
//! `ring`) with the server's bureau-issued certificate. Handlers are thin: they
//! authenticate, then call the [`Backend`], whose checks are the store's (the same code as
//! `hallmark import`).
//!
//! - [`routes`]: the HTTP surface and authentication.
//! - [`embedded`]: the default backend, one data folder.
//! - [`province`]: PostgreSQL and an object store (`--postgres`, `--s3`; issue #16).
//! - [`net`]: the TLS listener with its limits and timeouts.

use std::io::Read;
use std::path::PathBuf;

use axum::http::StatusCode;
use hallmark_bundle::format::{ListedFile, Manifest};
use hallmark_store::sync::HeldBundle;
use hallmark_store::StoreError;
use hallmark_trust::TrustStore;

pub mod commissions;
pub mod embedded;
pub mod halls;
pub mod net;
pub mod province;
pub mod relay;
pub mod reports;
pub mod routes;

/// A device that presented its certificate chain.
#[derive(Debug, Clone)]
pub struct DeviceRow {
    pub public_key: String,
    pub chain: Vec<String>,
    pub name: String,
}

/// A bundle head the server was offered.
pub struct Head {
    pub bytes: Vec<u8>,
    pub signer_key: String,
}

pub struct Committed {
    pub applied: bool,
    pub new_events: u64,
}

/// Where a server keeps what it holds. Blocking calls (the handlers run them on tokio's
/// blocking pool). The embedded backend is a data folder ([`embedded`]); the province's is
/// PostgreSQL and an object store ([`province`], issue #16).
pub trait Backend: Send + Sync + 'static {
    fn trust(&self) -> Result<TrustStore, ApiError>;
    /// Trusts a bureau root or loads a revocation list (`--trust FILE`, `hallmark trust add`):
    /// one line saying what was added. `file` names the input in messages.
    fn add_trust(&self, file: &str, pem: &[u8], now: &str) -> Result<String, ApiError>;
    fn device(&self, public_key: &str) -> Result<Option<DeviceRow>, ApiError>;
    fn put_device(&self, d: &DeviceRow, now: &str) -> Result<(), ApiError>;
    /// Records a nonce; `false` if this key used it before (a replay). Forgets nonces whose
    /// `created` is before `forget_before` (outside the window, refused anyway).
    fn use_nonce(&self, public_key: &str, nonce: &str, created: i64, forget_before: i64) -> Result<bool, ApiError>;
    /// Every check `hallmark import` makes, on a head alone; writes nothing.
    fn check_head(&self, head: &[u8], now: &str) -> Result<(Manifest, String), ApiError>;
    fn keep_head(&self, bundle_id: &str, m: &Manifest, head: &[u8], now: &str) -> Result<(), ApiError>;
    fn head(&self, bundle_id: &str) -> Result<Option<Head>, ApiError>;
    fn missing(&self, m: &Manifest) -> Vec<ListedFile>;
    fn receive(&self, f: &ListedFile, body: &mut dyn Read) -> Result<u64, ApiError>;
    fn commit(&self, bundle_id: &str, head: &[u8], now: &str) -> Result<Committed, ApiError>;
    fn held(&self, bundle_id: &str) -> Result<Option<HeldBundle>, ApiError>;
    fn receipt(&self, bundle_id: &str) -> Result<Option<String>, ApiError>;
    /// Keeps a signed receipt unless one is kept already; returns the one kept.
    fn keep_receipt(&self, bundle_id: &str, signed: &str, now: &str) -> Result<String, ApiError>;
    /// The bundles a lead may pull: (assignment id, bundle).
    fn pullable(&self, lead_key: &str) -> Result<Vec<(String, HeldBundle)>, ApiError>;
    fn write_bundle(&self, head: &[u8], out: &mut dyn std::io::Write) -> Result<(), ApiError>;
    /// Every bundle held (what a relay forwards).
    fn held_all(&self) -> Result<Vec<HeldBundle>, ApiError>;
    /// Whether `upstream` gave a receipt for this bundle.
    fn upstream_has(&self, bundle_id: &str, upstream: &str) -> Result<bool, ApiError>;
    fn keep_upstream_receipt(&self, bundle_id: &str, upstream: &str, signed: &str, now: &str) -> Result<(), ApiError>;
    /// A folder for temporary files (a relay's bundles on their way).
    fn work_dir(&self) -> PathBuf;
    /// The bureau roots this server trusts, as PEM texts.
    fn trusted_root_pems(&self) -> Result<Vec<String>, ApiError>;
    fn add_assignment(&self, a: &embedded::Assignment, now: &str) -> Result<(), ApiError>;
    /// Every assignment with when it was made (the dashboard's list, issue #12).
    fn assignments(&self) -> Result<Vec<(embedded::Assignment, String)>, ApiError>;
    /// Changes an assignment's lead, members and planned days (its hall and rubric stay: the
    /// inspections started from it name them). `false`: no such assignment.
    fn update_assignment(&self, a: &embedded::Assignment) -> Result<bool, ApiError>;
    /// Every hall of the registry.
    fn halls(&self) -> Result<Vec<halls::Hall>, ApiError>;
    /// Every device that presented its certificate chain here.
    fn devices(&self) -> Result<Vec<DeviceRow>, ApiError>;
    /// The assignments `key` is a member or the lead of.
    fn assignments_of(&self, key: &str) -> Result<Vec<embedded::AssignmentOf>, ApiError>;
    /// Adds or updates registry halls by id: (added, updated, unchanged).
    fn import_halls(&self, halls: &[halls::Hall], now: &str) -> Result<(u64, u64, u64), ApiError>;
    fn hall(&self, id: &str) -> Result<Option<halls::Hall>, ApiError>;
    /// The rubric files published here (`hallmark rubric publish`).
    fn published_rubrics(&self) -> Result<Vec<hallmark_store::sync::PublishedRubric>, ApiError>;
    /// Publishes a rubric file (checked as a rubric; its id and version name no other content).
    fn publish_rubric(&self, content: &str, now: &str) -> Result<hallmark_store::sync::PublishedRubric, ApiError>;
    /// The revocation lists this server has loaded, as PEM texts.
    fn trusted_crl_pems(&self) -> Result<Vec<String>, ApiError>;
    fn enrollment(&self, public_key: &str) -> Result<Option<embedded::Enrollment>, ApiError>;
    /// Keeps a lead's reviews (issue #13), each statement once, with the lead's certificate
    /// chain; returns how many were new.
    fn keep_reviews(&self, lead_key: &str, chain: &[String], reviews: &[hallmark_store::reviews::ReviewV1], now: &str) -> Result<u64, ApiError>;
    /// The reviews of the sheets whose bundles `device_key` signed, each with its lead's chain,
    /// in the order they arrived.
    fn reviews_for(&self, device_key: &str) -> Result<Vec<(Vec<String>, hallmark_store::reviews::ReviewV1)>, ApiError>;
    /// How many reviews the server holds of these inspections.
    fn reviews_held(&self, inspection_ids: &[String]) -> Result<u64, ApiError>;
    fn enrollments(&self) -> Result<Vec<embedded::Enrollment>, ApiError>;
    /// Keeps a request (replacing a pending or refused one; an approved one stays).
    fn put_enrollment_request(&self, e: &embedded::Enrollment) -> Result<embedded::Enrollment, ApiError>;
    fn decide_enrollment(
        &self,
        public_key: &str,
        state: &str,
        chain: &[String],
        reason: &str,
        now: &str,
    ) -> Result<Option<embedded::Enrollment>, ApiError>;
}

/// A refusal as the client sees it: status, a stable code, a message naming the input.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: String,
    pub message: String,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &str, message: impl Into<String>) -> ApiError {
        ApiError { status, code: code.into(), message: message.into() }
    }

    pub fn internal(message: String) -> ApiError {
        eprintln!("hallmark serve: internal error: {message}");
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", message)
    }

    /// A store error: a refused bundle is 422 (409 when it contradicts what is held), with the
    /// import's reason code; anything else is the server's fault (500).
    pub fn from_store(e: StoreError) -> ApiError {
        match &e {
            StoreError::Bundle(_) | StoreError::Rubric(_) | StoreError::Invalid(_) | StoreError::Reading(_) | StoreError::Trust(_) => {
                let reason = e.fields().get("reason_code").and_then(|v| v.as_str()).unwrap_or(e.code()).to_string();
                let status = match reason.as_str() {
                    "contradicts" => StatusCode::CONFLICT,
                    "untrusted" => StatusCode::FORBIDDEN,
                    "too_big" => StatusCode::PAYLOAD_TOO_LARGE,
                    _ => StatusCode::UNPROCESSABLE_ENTITY,
                };
                ApiError::new(status, &reason, e.to_string())
            }
            _ => ApiError::internal(e.to_string()),
        }
    }
}

/// How a server runs.
pub struct Config {
    pub data: PathBuf,
    pub listen: String,
    pub cert_file: PathBuf,
    pub key_file: PathBuf,
    /// Bureau roots and CRLs to trust (added to the data folder's store; kept there).
    pub trust_files: Vec<PathBuf>,
    pub limits: net::Limits,
    /// Forward every held bundle to this server (`--upstream https://…`), checking its receipt.
    pub upstream: Option<String>,
    /// Seconds between relay passes.
    pub relay_every: u64,
    /// The province records (`--postgres URL`): the bureau dashboard's pages are served when set.
    pub postgres: Option<String>,
    /// The object store for the records' evidence (`--s3 URL`); without it, PostgreSQL keeps it.
    pub s3: Option<String>,
}

/// Now, as the store writes times.
pub fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// Runs the server until killed. Prints `listening on https://ADDR` once it accepts.
pub fn run(config: Config) -> Result<(), String> {
    let now = now();
    // The evidence's object store, when there is one: the dashboard's records and (on
    // PostgreSQL) the sync server's bundle files share it.
    let blobs = std::sync::Arc::new(hallmark_province::blobs::BlobStore::open(config.s3.as_deref()).map_err(|e| e.to_string())?);
    let read = |p: &PathBuf| std::fs::read(p).map_err(|e| format!("{}: cannot read: {e} (check the path)", p.display()));
    let backend: std::sync::Arc<dyn Backend> = match &config.postgres {
        // Issue #16: the same server on PostgreSQL and the object store.
        Some(url) => {
            let backend = province::Province::open(url, blobs.clone(), &config.data, 16)?;
            eprintln!("hallmark serve: bundles, devices and assignments in {}", hallmark_province::redact(url));
            std::sync::Arc::new(backend)
        }
        None => std::sync::Arc::new(embedded::Embedded::open(&config.data, &now)?),
    };
    for f in &config.trust_files {
        let line = backend.add_trust(&f.display().to_string(), &read(f)?, &now).map_err(|e| e.message)?;
        eprintln!("hallmark serve: {line}");
    }
    if !backend.trust().map_err(|e| e.message)?.has_roots() {
        return Err("no bureau root is trusted: pass --trust ROOT.pem (devices are only accepted with certificates from it)".into());
    }
    // One identity serves TLS, signs receipts and (relaying) signs requests upstream.
    let identity = std::sync::Arc::new(hallmark_sync::receipt::ServerIdentity::load(
        &config.cert_file.display().to_string(),
        &read(&config.cert_file)?,
        &config.key_file.display().to_string(),
        &read(&config.key_file)?,
    )?);
    let admin_token = admin_token(&config.data)?;
    if let Some(up) = &config.upstream {
        relay::start(up.clone(), std::time::Duration::from_secs(config.relay_every.max(1)), identity.clone(), backend.clone());
    }
    let dashboard = match &config.postgres {
        Some(url) => {
            let pool = hallmark_dashboard::Pool::open(url, 8)?;
            if let hallmark_province::blobs::BlobStore::S3(s3) = blobs.as_ref() {
                eprintln!("hallmark serve: the records' evidence in the object store {}", s3.shown);
            }
            eprintln!("hallmark serve: the bureau dashboard's pages over {}", hallmark_province::redact(url));
            let desk = std::sync::Arc::new(commissions::ServerCommissions(backend.clone()));
            let b = backend.clone();
            let trust: hallmark_dashboard::TrustSource = std::sync::Arc::new(move || b.trust().map_err(|e| e.message));
            Some(hallmark_dashboard::Dashboard::new(pool, blobs, Some(desk), Some(trust)))
        }
        None => None,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().map_err(|e| format!("cannot start: {e}"))?;
    runtime.block_on(net::serve(config.listen.clone(), config.limits, identity, backend, admin_token, dashboard))
}

/// The admin token for remote admin verbs: `DIR/admin.token` (0600), made on the first start.
/// Whoever can read it may add assignments; it never travels but as `Authorization: Bearer`.
pub fn admin_token(dir: &std::path::Path) -> Result<String, String> {
    let path = dir.join(ADMIN_TOKEN);
    if !path.exists() {
        let mut b = [0u8; 32];
        getrandom::getrandom(&mut b).map_err(|e| format!("no randomness for the admin token: {e}"))?;
        hallmark_store::durable::write_private_new(&path, hallmark_core::hex::hex(&b).as_bytes())
            .map_err(|e| format!("{}: cannot write the admin token: {e}", path.display()))?;
        eprintln!("hallmark serve: admin token for remote admin verbs in {} (mode 0600)", path.display());
    }
    let token = std::fs::read_to_string(&path).map_err(|e| format!("{}: cannot read: {e}", path.display()))?;
    let token = token.trim().to_string();
    if token.len() < 32 {
        return Err(format!("{}: the admin token is too short (delete the file; a new one is made at the next start)", path.display()));
    }
    Ok(token)
}

/// A device certificate's chain, and the Ed25519 key (hex) and name it certifies: what an
/// assignment names its lead and members by. `what` names the input in messages.
pub fn device_certificate(what: &str, pem: &str) -> Result<(Vec<rustls_pki_types::CertificateDer<'static>>, String, String), String> {
    let chain = hallmark_trust::certificate::read_pem(what, pem.as_bytes()).map_err(|e| e.to_string())?;
    let leaf = hallmark_trust::certificate::info(what, chain[0].as_ref()).map_err(|e| e.to_string())?;
    if leaf.key_algorithm != "ed25519" {
        return Err(format!("{what}: certifies a {} key, not a device's Ed25519 key (pass the device's certificate)", leaf.key_algorithm));
    }
    Ok((chain, hallmark_core::hex::hex(&leaf.public_key), leaf.name))
}

/// The admin token's file name in the data folder.
pub const ADMIN_TOKEN: &str = "admin.token";

/// An admin's decision on an enrollment request (the endpoint and `hallmark enroll approve|refuse
/// --data DIR` alike): approving needs the chain the bureau's CA issued from the request —
/// certifying exactly the requesting key, role assessor or lead, trusted now by this server;
/// refusing needs a reason (the inspector sees it).
pub fn decide_enrollment(
    backend: &dyn Backend,
    key: &str,
    d: &hallmark_sync::wire::EnrollmentDecisionV1,
    now: &str,
) -> Result<embedded::Enrollment, ApiError> {
    use hallmark_trust::{certificate, Role};
    let Some(held) = backend.enrollment(key)? else {
        return Err(ApiError::new(StatusCode::NOT_FOUND, "no_request", format!("no enrollment request from key '{key}'")));
    };
    if held.state != "pending" {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "decided",
            format!(
                "the request of {} was {} already ({}): a device that needs another decision sends a new request",
                held.name,
                held.state,
                held.decided_at.as_deref().unwrap_or("")
            ),
        ));
    }
    let bad = |code: &str, m: String| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, code, m);
    let (state, chain, reason) = match d.decision.as_str() {
        "approve" => {
            let (chain, cert_key, name) =
                device_certificate("the issued certificate", &d.certificates.join("")).map_err(|e| bad("bad_certificate", e))?;
            if cert_key != held.public_key {
                return Err(bad(
                    "key_mismatch",
                    format!("the certificate of '{name}' certifies another key than the request's (issue it from this request)"),
                ));
            }
            let leaf = certificate::info("the issued certificate", chain[0].as_ref()).map_err(|e| bad("bad_certificate", e.to_string()))?;
            let role = if leaf.has_role(Role::Assessor) { Role::Assessor } else { Role::Lead };
            let t = chrono::Utc::now();
            backend
                .trust()?
                .check(&chain, role, t, t)
                .map_err(|e| ApiError::new(StatusCode::FORBIDDEN, e.code(), format!("the issued certificate: {e}")))?;
            ("approved", chain.iter().map(|c| certificate::to_pem(std::slice::from_ref(c))).collect::<Vec<_>>(), String::new())
        }
        "refuse" => {
            if d.reason.trim().is_empty() {
                return Err(bad("invalid", "a refusal needs a reason (the inspector sees it)".into()));
            }
            ("refused", Vec::new(), d.reason.clone())
        }
        other => return Err(bad("invalid", format!("decision '{other}' is neither 'approve' nor 'refuse'"))),
    };
    Ok(backend.decide_enrollment(key, state, &chain, &reason, now)?.expect("held above"))
}
