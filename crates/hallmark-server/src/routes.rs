//! The HTTP surface (`hallmark-sync/1`, docs/sync.md) and request authentication. Each handler
//! reads its body within the limits, authenticates the request, and calls the backend on the
//! blocking pool; nothing here decides whether a bundle is acceptable — the store does.

use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use chrono::Utc;
use futures_util::StreamExt;
use hallmark_core::hex::{is_sha256, unhex};
use hallmark_store::reviews::ReviewFileV1;
use hallmark_sync::httpsig;
use hallmark_sync::receipt::ServerIdentity;
use hallmark_sync::wire::{
    CommittedV1, DeviceKnownV1, DeviceV1, ErrorV1, OfferV1, PullItemV1, PullListV1, ReceiptV1, ReviewFilesV1, ReviewsStoredV1, SignedReceiptV1,
    StoredV1, WantedFileV1, BUNDLE_TYPE, PROTOCOL, PROTOCOL_VERSION, RECEIPT_FORMAT,
};
use hallmark_trust::{certificate, CertInfo, Role};
use sha2::{Digest, Sha256};

use crate::net::Limits;
use crate::{now, ApiError, Backend, DeviceRow};

/// How far a request's `created` may be from the server's clock (seconds); nonces are kept
/// this long.
pub const WINDOW: i64 = 300;

pub struct App {
    pub backend: Arc<dyn Backend>,
    pub identity: Arc<ServerIdentity>,
    pub limits: Limits,
    /// `DIR/admin.token`: the bearer token of the admin verbs.
    pub admin_token: String,
    /// The province records and the dashboard (`--postgres`): where `POST /v1/reports` keeps reports.
    pub records: Option<Arc<hallmark_dashboard::Dashboard>>,
}

type Shared = State<Arc<App>>;

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorV1 { error: self.code, message: self.message, server_time: now() };
        (self.status, Json(body)).into_response()
    }
}

pub fn router(app: Arc<App>) -> Router {
    Router::new()
        .route("/v1/time", get(time))
        .route("/v1/device", put(present))
        .route("/v1/bundles", post(offer))
        .route("/v1/bundles/{id}/files/{sha256}", put(receive))
        .route("/v1/bundles/{id}/commit", post(commit))
        .route("/v1/bundles/{id}", get(fetch))
        .route("/v1/pull", get(pull))
        .route("/v1/assignments", get(assignments))
        .route("/v1/admin/assignments", post(add_assignment))
        .route("/v1/admin/halls", post(import_halls))
        .route("/v1/trust", get(trust))
        .route("/v1/rubrics", get(rubrics))
        .route("/v1/admin/rubrics", post(publish_rubric))
        .route("/v1/enrollments", post(enroll))
        .route("/v1/enrollment", get(enrollment))
        .route("/v1/admin/enrollments", get(admin_enrollments))
        .route("/v1/admin/enrollments/{key}", post(decide_enrollment))
        .route("/v1/reviews", post(push_reviews).get(reviews))
        .route("/v1/reports", post(push_report))
        .route("/v2/assignments", get(assignments_v2))
        .route("/v2/admin/assignments", post(add_assignment_v2))
        .fallback(|| async { ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such endpoint (see docs/sync.md)") })
        .with_state(app)
}

/// Fails the process at a named point when `HALLMARK_FAILPOINT` names it (the fault tests
/// kill the server exactly there).
pub(crate) fn failpoint(name: &str) {
    if std::env::var("HALLMARK_FAILPOINT").is_ok_and(|v| v == name) {
        eprintln!("hallmark serve: failpoint {name}: aborting");
        std::process::abort();
    }
}

/// `HALLMARK_SERVER_TIMING=1`: each step's time on stderr (a diagnostic).
fn timed<T>(what: &str, f: impl FnOnce() -> T) -> T {
    if std::env::var_os("HALLMARK_SERVER_TIMING").is_none() {
        return f();
    }
    let t = std::time::Instant::now();
    let out = f();
    eprintln!("server timing: {what} {} us", t.elapsed().as_micros());
    out
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> Result<T, ApiError> + Send + 'static) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f).await.map_err(|e| ApiError::internal(format!("task failed: {e}")))?
}

/// Reads a whole (small) body: at most `max` bytes, each chunk within the idle timeout.
async fn read_body(headers: &HeaderMap, body: Body, max: u64, idle: Duration) -> Result<Vec<u8>, ApiError> {
    let too_big = || ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "too_big", format!("the request body is larger than the {max} bytes allowed here"));
    if content_length(headers).is_some_and(|n| n > max) {
        return Err(too_big());
    }
    let mut stream = body.into_data_stream();
    let mut out = Vec::new();
    loop {
        match tokio::time::timeout(idle, stream.next()).await {
            Err(_) => {
                return Err(ApiError::new(StatusCode::REQUEST_TIMEOUT, "too_slow", "the request body stalled (sent too slowly): send it again"))
            }
            Ok(None) => return Ok(out),
            Ok(Some(Err(e))) => return Err(ApiError::new(StatusCode::BAD_REQUEST, "cut_off", format!("the request body was cut off: {e}"))),
            Ok(Some(Ok(chunk))) => {
                if out.len() as u64 + chunk.len() as u64 > max {
                    return Err(too_big());
                }
                out.extend_from_slice(&chunk);
            }
        }
    }
}

fn content_length(headers: &HeaderMap) -> Option<u64> {
    headers.get("content-length").and_then(|v| v.to_str().ok()).and_then(|v| v.parse().ok())
}

/// Who made a request, as its signature and the presented certificate say.
#[derive(Clone)]
struct Caller {
    key: String,
    leaf: CertInfo,
}

impl Caller {
    fn has(&self, role: Role) -> bool {
        self.leaf.has_role(role)
    }

    /// Refuses a caller not certified as a lead; `only` says what leads alone do ("pull panels").
    fn must_lead(&self, only: &str) -> Result<(), ApiError> {
        if self.has(Role::Lead) {
            return Ok(());
        }
        Err(ApiError::new(StatusCode::FORBIDDEN, "not_lead", format!("'{}' is not certified as a lead: only leads {only}", self.leaf.name)))
    }
}

struct Signed {
    method: Method,
    authority: String,
    path: String,
    headers: HeaderMap,
}

fn unauthorized(code: &str, message: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::UNAUTHORIZED, code, message)
}

/// Checks a request's signature (RFC 9421) and maps its key to a certificate chain: the
/// one `presented` (PUT /v1/device) or the one the device presented before. `body_sha256` is
/// the digest of the body as received (`None`: checked by the caller as the body streams).
fn authenticate(app: &App, req: &Signed, body_sha256: Option<&[u8]>, presented: Option<&[String]>) -> Result<Caller, ApiError> {
    let by = signed_by(req, body_sha256)?;
    let (key_hex, key) = (by.key_hex.clone(), by.key.clone());
    let chain_pems: Vec<String> = match presented {
        Some(c) => c.to_vec(),
        None => match app.backend.device(&key_hex)? {
            Some(d) => d.chain,
            None => {
                return Err(unauthorized(
                    "unknown_device",
                    format!(
                        "device key {} has not presented a certificate here: PUT /v1/device first (hallmark sync does it)",
                        certificate::fingerprint_of(&key)
                    ),
                ))
            }
        },
    };
    if chain_pems.is_empty() {
        return Err(unauthorized("unenrolled", "this device is not enrolled: only devices with a bureau certificate may sync (设备登记)"));
    }
    let chain = certificate::read_chain("the presented certificate", &chain_pems).map_err(|e| unauthorized("bad_certificate", e.to_string()))?;
    let leaf = certificate::info("the presented certificate", chain[0].as_ref()).map_err(|e| unauthorized("bad_certificate", e.to_string()))?;
    if leaf.public_key != key {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "key_mismatch",
            format!("the certificate of '{}' certifies another key than the one that signed the request", leaf.name),
        ));
    }
    let role = [Role::Assessor, Role::Lead, Role::Server].into_iter().find(|r| leaf.has_role(*r));
    let Some(role) = role else {
        return Err(ApiError::new(StatusCode::FORBIDDEN, "wrong_role", format!("'{}' has no hallmark role (assessor, lead or server)", leaf.name)));
    };
    let trust = app.backend.trust()?;
    let now = Utc::now();
    trust
        .check(&chain, role, now, now)
        .map_err(|e| ApiError::new(StatusCode::FORBIDDEN, e.code(), format!("the certificate of '{}' is refused: {e}", leaf.name)))?;
    spend_nonce(app, &by)?;
    Ok(Caller { key: key_hex, leaf })
}

/// A request's verified signature: the key that made it, and its nonce (not spent yet).
struct SignedBy {
    key_hex: String,
    key: Vec<u8>,
    nonce: String,
    created: i64,
}

/// Only with the signature good (and, for a device, its chain) is the nonce spent: nobody
/// else can burn it.
fn spend_nonce(app: &App, by: &SignedBy) -> Result<(), ApiError> {
    if !app.backend.use_nonce(&by.key_hex, &by.nonce, by.created, Utc::now().timestamp() - 2 * WINDOW)? {
        return Err(unauthorized("replay", format!("nonce '{}' was used before: a replayed request is refused", by.nonce)));
    }
    Ok(())
}

/// Checks a request's RFC 9421 signature with the key its `keyid` names, its time window and
/// its Content-Digest; says nothing yet of who holds that key.
fn signed_by(req: &Signed, body_sha256: Option<&[u8]>) -> Result<SignedBy, ApiError> {
    let h = |n: &str| req.headers.get(n).and_then(|v| v.to_str().ok()).map(str::to_string);
    let (Some(input), Some(sig)) = (h("signature-input"), h("signature")) else {
        return Err(unauthorized(
            "unsigned",
            "the request is not signed: every request carries Signature-Input and Signature (RFC 9421) made with an enrolled device key",
        ));
    };
    let received = httpsig::parse(&input, &sig).map_err(|e| unauthorized("bad_signature", e))?;
    let key_hex = received.keyid.clone().unwrap_or_default();
    // An Ed25519 device key (32 bytes), or a relaying server's P-256 key (a 65-byte SEC1 point).
    let key = unhex(&key_hex)
        .filter(|k| k.len() == 32 || (k.len() == 65 && k[0] == 4))
        .ok_or_else(|| unauthorized("bad_signature", format!("keyid '{key_hex}' is not an Ed25519 public key (64 hex digits) or a P-256 point")))?;
    let now_s = Utc::now().timestamp();
    let created = received.created.ok_or_else(|| unauthorized("bad_signature", "the signature has no 'created' time"))?;
    if (now_s - created).abs() > WINDOW {
        return Err(unauthorized(
            "clock_skew",
            format!("the request was signed at {created} (unix time) but the server's clock says {now_s}: more than {WINDOW} s apart (a replay, or the device's clock is wrong; the client corrects by the server's time)"),
        ));
    }
    let nonce = received
        .nonce
        .clone()
        .filter(|n| !n.is_empty() && n.len() <= 64)
        .ok_or_else(|| unauthorized("bad_signature", "the signature has no nonce"))?;
    let digest = h("content-digest").and_then(|d| httpsig::digest_sha256(&d));
    let Some(digest) = digest else {
        return Err(unauthorized("bad_signature", "the request has no Content-Digest with a sha-256 member (RFC 9530)"));
    };
    if let Some(body) = body_sha256 {
        if digest != body {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "digest_mismatch",
                "the body does not match its Content-Digest (cut or altered in transit): send it again",
            ));
        }
    }
    let header = |n: &str| h(n);
    let view = httpsig::Request { method: req.method.as_str(), authority: &req.authority, path: &req.path, query: None, header: &header };
    httpsig::verify(&view, &received, &key).map_err(|e| unauthorized("bad_signature", e))?;
    Ok(SignedBy { key_hex, key, nonce, created })
}

fn signed(method: Method, uri: &Uri, headers: HeaderMap) -> Signed {
    let authority =
        headers.get("host").and_then(|v| v.to_str().ok()).map(str::to_string).or_else(|| uri.authority().map(|a| a.to_string())).unwrap_or_default();
    Signed { method, authority, path: uri.path().to_string(), headers }
}

async fn time() -> Json<serde_json::Value> {
    Json(serde_json::json!({ "protocol": PROTOCOL, "protocol_version": PROTOCOL_VERSION, "server_time": now() }))
}

async fn present(State(app): Shared, method: Method, uri: Uri, headers: HeaderMap, body: Body) -> Result<Json<DeviceKnownV1>, ApiError> {
    let bytes = read_body(&headers, body, 1 << 20, app.limits.idle).await?;
    let req = signed(method, &uri, headers);
    blocking(move || {
        let device: DeviceV1 = serde_json::from_slice(&bytes)
            .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "malformed", format!("not a DeviceV1 document: {e}")))?;
        let caller = authenticate(&app, &req, Some(&Sha256::digest(&bytes)), Some(&device.certificates))?;
        let now = now();
        app.backend.put_device(&DeviceRow { public_key: caller.key.clone(), chain: device.certificates, name: caller.leaf.name.clone() }, &now)?;
        let l = &caller.leaf;
        Ok(Json(DeviceKnownV1 {
            name: l.name.clone(),
            unit: l.unit.clone(),
            roles: l.roles.iter().map(|r| r.as_str().to_string()).collect(),
            not_after: l.not_after.to_rfc3339(),
            server_time: now,
        }))
    })
    .await
}

fn may_push(caller: &Caller, signer_key: &str) -> Result<(), ApiError> {
    if caller.key == signer_key || caller.has(Role::Server) {
        return Ok(());
    }
    Err(ApiError::new(
        StatusCode::FORBIDDEN,
        "not_yours",
        format!(
            "'{}' may push only bundles its own key signed (this one is signed by {})",
            caller.leaf.name,
            certificate::fingerprint_of(&unhex(signer_key).unwrap_or_default())
        ),
    ))
}

/// The receipt for a committed bundle: the kept one, or a new one from the store's row
/// (after a crash between commit and receipt the retry gets one all the same).
fn receipt_for(app: &App, bundle_id: &str) -> Result<SignedReceiptV1, ApiError> {
    let kept = match app.backend.receipt(bundle_id)? {
        Some(k) => k,
        None => {
            let held = app
                .backend
                .held(bundle_id)?
                .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, "not_found", format!("bundle {bundle_id} is not held here")))?;
            let r = ReceiptV1 {
                format: RECEIPT_FORMAT.into(),
                format_version: 1,
                bundle_id: held.bundle_id.clone(),
                inspection_id: held.inspection_id.clone(),
                signer: certificate::fingerprint_of(&unhex(&held.signer_key).unwrap_or_default()),
                events: held.events,
                photos: held.photos,
                received_at: held.imported_at.clone(),
                server: app.identity.leaf.name.clone(),
            };
            let text = serde_json::to_string(&app.identity.sign(&r)).expect("serializes");
            app.backend.keep_receipt(bundle_id, &text, &now())?
        }
    };
    serde_json::from_str(&kept).map_err(|e| ApiError::internal(format!("kept receipt: {e}")))
}

async fn offer(State(app): Shared, method: Method, uri: Uri, headers: HeaderMap, body: Body) -> Result<Json<OfferV1>, ApiError> {
    let head = read_body(&headers, body, app.limits.max_head, app.limits.idle).await?;
    let req = signed(method, &uri, headers);
    blocking(move || {
        let caller = timed("offer: authenticate", || authenticate(&app, &req, Some(&Sha256::digest(&head)), None))?;
        let now = now();
        // The signature alone first: who may push it is decided before anything is kept.
        let (manifest, bundle_id) = timed("offer: check head", || app.backend.check_head(&head, &now))?;
        may_push(&caller, &manifest.device.public_key)?;
        timed("offer: keep head", || app.backend.keep_head(&bundle_id, &manifest, &head, &now))?;
        let receipt = if app.backend.held(&bundle_id)?.is_some() { Some(receipt_for(&app, &bundle_id)?) } else { None };
        let missing = if receipt.is_some() { vec![] } else { app.backend.missing(&manifest) };
        Ok(Json(OfferV1 {
            protocol: PROTOCOL.into(),
            protocol_version: PROTOCOL_VERSION,
            bundle_id,
            inspection_id: manifest.inspection.id.clone(),
            missing: missing.into_iter().map(|f| WantedFileV1 { entry: f.entry, sha256: f.sha256, size: f.size }).collect(),
            receipt,
        }))
    })
    .await
}

/// A `Read` over body chunks sent from the async side (each within the idle timeout).
struct ChannelReader {
    rx: tokio::sync::mpsc::Receiver<Result<Bytes, String>>,
    buf: Bytes,
}

impl std::io::Read for ChannelReader {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        while self.buf.is_empty() {
            match self.rx.blocking_recv() {
                None => return Ok(0),
                Some(Err(e)) => return Err(std::io::Error::other(e)),
                Some(Ok(b)) => self.buf = b,
            }
        }
        let n = out.len().min(self.buf.len());
        out[..n].copy_from_slice(&self.buf.split_to(n));
        Ok(n)
    }
}

async fn receive(
    State(app): Shared,
    Path((id, sha256)): Path<(String, String)>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<StoredV1>, ApiError> {
    if !is_sha256(&sha256) || !is_sha256(&id) {
        return Err(ApiError::new(StatusCode::BAD_REQUEST, "malformed", format!("'{id}/{sha256}' is not a bundle id and a SHA-256")));
    }
    let req = signed(method, &uri, headers.clone());
    let app2 = app.clone();
    let (id2, sha2) = (id.clone(), sha256.clone());
    let declared = content_length(&headers);
    // Authenticate and find the file before a byte of the body is read.
    let file = blocking(move || {
        let digest = unhex(&sha2).expect("checked");
        let caller = authenticate(&app2, &req, Some(&digest), None)?;
        let head = app2
            .backend
            .head(&id2)?
            .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, "no_offer", format!("bundle {id2} was not offered here: POST its manifest first")))?;
        may_push(&caller, &head.signer_key)?;
        let opened = hallmark_bundle::verify::open_reader("the offered manifest", head.bytes.len() as u64, head.bytes.as_slice(), true)
            .map_err(|e| ApiError::internal(e.to_string()))?;
        let file = opened
            .manifest
            .files()
            .into_iter()
            .find(|f| f.sha256 == sha2)
            .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, "not_listed", format!("bundle {id2} lists no file with SHA-256 {sha2}")))?;
        if declared.is_some_and(|n| n != file.size) {
            return Err(ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "wrong_size",
                format!("'{}' is {} bytes in the manifest, the request declares {}", file.entry, file.size, declared.unwrap_or(0)),
            ));
        }
        Ok(file)
    })
    .await?;
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Bytes, String>>(8);
    let backend = app.backend.clone();
    let f2 = file.clone();
    let task = tokio::task::spawn_blocking(move || backend.receive(&f2, &mut ChannelReader { rx, buf: Bytes::new() }));
    let mut stream = body.into_data_stream();
    let mut cut = None;
    loop {
        match tokio::time::timeout(app.limits.idle, stream.next()).await {
            Err(_) => {
                cut = Some(ApiError::new(StatusCode::REQUEST_TIMEOUT, "too_slow", "the upload stalled (sent too slowly): send the file again"));
                let _ = tx.send(Err("stalled".into())).await;
                break;
            }
            Ok(None) => break,
            Ok(Some(Err(e))) => {
                let _ = tx.send(Err(format!("cut off: {e}"))).await;
                break;
            }
            Ok(Some(Ok(chunk))) => {
                if tx.send(Ok(chunk)).await.is_err() {
                    break; // the receiver refused already (too long); its error says why
                }
            }
        }
    }
    drop(tx);
    let got = task.await.map_err(|e| ApiError::internal(e.to_string()))?;
    if let Some(e) = cut {
        return Err(e);
    }
    let bytes = got?;
    failpoint("file-stored");
    Ok(Json(StoredV1 { sha256: file.sha256, bytes }))
}

async fn commit(
    State(app): Shared,
    Path(id): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<CommittedV1>, ApiError> {
    let bytes = read_body(&headers, body, 4096, app.limits.idle).await?;
    let req = signed(method, &uri, headers);
    blocking(move || {
        let caller = timed("commit: authenticate", || authenticate(&app, &req, Some(&Sha256::digest(&bytes)), None))?;
        let head = app
            .backend
            .head(&id)?
            .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, "no_offer", format!("bundle {id} was not offered here: POST its manifest first")))?;
        may_push(&caller, &head.signer_key)?;
        let committed = timed("commit: import", || app.backend.commit(&id, &head.bytes, &now()))?;
        failpoint("committed");
        let receipt = timed("commit: receipt", || receipt_for(&app, &id))?;
        failpoint("receipt-kept");
        Ok(Json(CommittedV1 { outcome: if committed.applied { "applied" } else { "already_had" }.into(), new_events: committed.new_events, receipt }))
    })
    .await
}

async fn pull(State(app): Shared, method: Method, uri: Uri, headers: HeaderMap) -> Result<Json<PullListV1>, ApiError> {
    let req = signed(method, &uri, headers);
    blocking(move || {
        let caller = authenticate(&app, &req, Some(&Sha256::digest(b"")), None)?;
        caller.must_lead("pull panels")?;
        let bundles = app
            .backend
            .pullable(&caller.key)?
            .into_iter()
            .map(|(assignment, b)| PullItemV1 {
                bundle_id: b.bundle_id,
                inspection_id: b.inspection_id,
                assignment,
                site: b.site,
                assessor: b.assessor,
                received_at: b.imported_at,
            })
            .collect();
        Ok(Json(PullListV1 { bundles }))
    })
    .await
}

/// `POST /v1/reviews` (issue #13): a lead's review file. Each review must verify, be signed by
/// the requesting lead's key, and be of a sheet of the lead's panels (a bundle the lead may
/// pull); anything else refuses the whole file.
async fn push_reviews(State(app): Shared, method: Method, uri: Uri, headers: HeaderMap, body: Body) -> Result<Json<ReviewsStoredV1>, ApiError> {
    let bytes = read_body(&headers, body, 4 << 20, app.limits.idle).await?;
    let req = signed(method, &uri, headers);
    blocking(move || {
        let caller = authenticate(&app, &req, Some(&Sha256::digest(&bytes)), None)?;
        caller.must_lead("send reviews")?;
        let file: ReviewFileV1 = serde_json::from_slice(&bytes)
            .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "malformed", format!("not a review file (hallmark-review-file/1): {e}")))?;
        if file.format != hallmark_store::reviews::FILE_FORMAT {
            return Err(ApiError::new(StatusCode::BAD_REQUEST, "malformed", format!("review file format '{}' is unknown", file.format)));
        }
        let panels: std::collections::HashSet<String> = app.backend.pullable(&caller.key)?.into_iter().map(|(_, b)| b.inspection_id).collect();
        for r in &file.reviews {
            if !r.intact() {
                return Err(ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "bad_signature",
                    format!("the review of inspection {} does not verify (altered): nothing kept", r.inspection_id),
                ));
            }
            if r.public_key != caller.key {
                return Err(ApiError::new(
                    StatusCode::FORBIDDEN,
                    "not_yours",
                    format!("the review of inspection {} is signed by another device: send only this device's reviews", r.inspection_id),
                ));
            }
            if !panels.contains(&r.inspection_id) {
                return Err(ApiError::new(
                    StatusCode::FORBIDDEN,
                    "not_your_panel",
                    format!("inspection {} is not a sheet of a panel this lead leads here: nothing kept", r.inspection_id),
                ));
            }
        }
        let chain = app.backend.device(&caller.key)?.map(|d| d.chain).unwrap_or_default();
        let stored = app.backend.keep_reviews(&caller.key, &chain, &file.reviews, &now())?;
        let held = app.backend.reviews_held(&panels.into_iter().collect::<Vec<_>>())?;
        Ok(Json(ReviewsStoredV1 { stored, held }))
    })
    .await
}

/// `POST /v1/reports` (issue #12): a lead's signed report into the province records.
async fn push_report(
    State(app): Shared,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<hallmark_sync::wire::ReportStoredV1>, ApiError> {
    let bytes = read_body(&headers, body, crate::reports::MAX_UPLOAD, app.limits.idle).await?;
    let req = signed(method, &uri, headers);
    blocking(move || {
        let caller = authenticate(&app, &req, Some(&Sha256::digest(&bytes)), None)?;
        caller.must_lead("send reports")?;
        let Some(records) = &app.records else {
            return Err(ApiError::new(
                StatusCode::NOT_IMPLEMENTED,
                "no_records",
                "this server keeps no province records (it runs without --postgres): send the report to the province's server",
            ));
        };
        crate::reports::receive(app.backend.as_ref(), &records.pool, &records.blobs, &caller.key, &caller.leaf.name, &bytes).map(Json)
    })
    .await
}

/// `GET /v1/reviews` (issue #13): the reviews of the requesting device's own sheets, one file
/// per lead.
async fn reviews(State(app): Shared, method: Method, uri: Uri, headers: HeaderMap) -> Result<Json<ReviewFilesV1>, ApiError> {
    let req = signed(method, &uri, headers);
    blocking(move || {
        let caller = authenticate(&app, &req, Some(&Sha256::digest(b"")), None)?;
        let mut files: Vec<ReviewFileV1> = Vec::new();
        for (chain, r) in app.backend.reviews_for(&caller.key)? {
            match files.iter_mut().find(|f| f.lead_certificates == chain) {
                Some(f) => f.reviews.push(r),
                None => files.push(ReviewFileV1 { format: hallmark_store::reviews::FILE_FORMAT.into(), lead_certificates: chain, reviews: vec![r] }),
            }
        }
        Ok(Json(ReviewFilesV1 { files }))
    })
    .await
}

async fn fetch(State(app): Shared, Path(id): Path<String>, method: Method, uri: Uri, headers: HeaderMap) -> Result<Response, ApiError> {
    let req = signed(method, &uri, headers);
    let app2 = app.clone();
    let head = blocking(move || {
        let caller = authenticate(&app2, &req, Some(&Sha256::digest(b"")), None)?;
        let held =
            app2.backend.held(&id)?.ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, "not_found", format!("bundle {id} is not held here")))?;
        let allowed = caller.key == held.signer_key
            || caller.has(Role::Server)
            || (caller.has(Role::Lead) && app2.backend.pullable(&caller.key)?.iter().any(|(_, b)| b.bundle_id == id));
        if !allowed {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "not_yours",
                format!("'{}' leads no assignment this bundle belongs to", caller.leaf.name),
            ));
        }
        let head = app2.backend.head(&id)?.ok_or_else(|| ApiError::internal(format!("bundle {id} is held but its head is not")))?;
        Ok(head.bytes)
    })
    .await?;
    // The bundle is assembled on the blocking pool into a pipe the response streams from:
    // memory stays flat for a 700 MB bundle.
    let (writer, reader) = tokio::io::duplex(1 << 20);
    let backend = app.backend.clone();
    tokio::task::spawn_blocking(move || {
        let mut w = tokio_util::io::SyncIoBridge::new(writer);
        if let Err(e) = backend.write_bundle(&head, &mut w) {
            eprintln!("hallmark serve: sending a bundle failed: {}", e.message);
        }
    });
    let body = Body::from_stream(tokio_util::io::ReaderStream::new(reader));
    Ok(([("content-type", BUNDLE_TYPE)], body).into_response())
}

/// Compares in time independent of where the first difference is.
fn same_secret(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |d, (x, y)| d | (x ^ y)) == 0
}

/// The Ed25519 key and name a device certificate certifies, checked with `role` now.
fn certified(app: &App, what: &str, pem: &str, role: Role) -> Result<(String, String), ApiError> {
    let (chain, key, name) =
        crate::device_certificate(what, pem).map_err(|e| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "bad_certificate", e))?;
    let now = Utc::now();
    app.backend.trust()?.check(&chain, role, now, now).map_err(|e| ApiError::new(StatusCode::FORBIDDEN, e.code(), format!("{what}: {e}")))?;
    Ok((key, name))
}

/// Refuses a request without the server's admin token (`Authorization: Bearer`, the file
/// `DIR/admin.token`).
fn admin(app: &App, headers: &HeaderMap) -> Result<(), ApiError> {
    let given = headers.get("authorization").and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Bearer ")).unwrap_or("");
    if !same_secret(given.trim().as_bytes(), app.admin_token.as_bytes()) {
        return Err(unauthorized("admin_token", "admin verbs need the server's admin token (Authorization: Bearer, the file DIR/admin.token)"));
    }
    Ok(())
}

fn parse<T: serde::de::DeserializeOwned>(bytes: &[u8], what: &str) -> Result<T, ApiError> {
    serde_json::from_slice(bytes).map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "malformed", format!("not {what} document: {e}")))
}

/// An assignment as either version asks for it.
struct AssignmentAsked {
    id: String,
    site: String,
    hall_id: Option<String>,
    rubric_id: String,
    lead_certificate: String,
    member_certificates: Vec<String>,
    planned: (Option<String>, Option<String>),
}

/// Checks and adds an assignment (both versions): the rubric is one hallmark ships, the lead's
/// and members' certificates are trusted now with their roles, the planned days are days.
fn add_asked(app: &App, a: AssignmentAsked) -> Result<hallmark_sync::wire::AssignmentAddedV1, ApiError> {
    let invalid = |m: String| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", m);
    if a.id.trim().is_empty() || (a.site.trim().is_empty() && a.hall_id.is_none()) || a.member_certificates.is_empty() {
        return Err(invalid("an assignment needs an id, a hall and at least one member".into()));
    }
    if !hallmark_core::builtin::SHIPPED.iter().any(|s| s.id == a.rubric_id) {
        return Err(ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "unknown_rubric", format!("rubric '{}' is not one hallmark ships", a.rubric_id)));
    }
    let planned = crate::embedded::planned_days(a.planned.0.as_deref(), a.planned.1.as_deref()).map_err(invalid)?;
    let (lead_key, lead) = certified(app, "the lead's certificate", &a.lead_certificate, Role::Lead)?;
    let members = a
        .member_certificates
        .iter()
        .enumerate()
        .map(|(i, pem)| certified(app, &format!("member certificate {}", i + 1), pem, Role::Assessor))
        .collect::<Result<Vec<_>, _>>()?;
    let row = crate::embedded::Assignment {
        id: a.id.clone(),
        site: a.site.clone(),
        hall_id: a.hall_id.clone(),
        rubric_id: a.rubric_id.clone(),
        lead_key,
        members: members.clone(),
        planned,
    };
    app.backend.add_assignment(&row, &now())?;
    let site = match &a.hall_id {
        Some(h) => app.backend.hall(h)?.map(|h| h.name).unwrap_or_default(),
        None => a.site,
    };
    Ok(hallmark_sync::wire::AssignmentAddedV1 { id: a.id, site, rubric_id: a.rubric_id, lead, members: members.into_iter().map(|m| m.1).collect() })
}

/// `POST /v1/admin/assignments` (admin token): a hall by its typed name.
async fn add_assignment(State(app): Shared, headers: HeaderMap, body: Body) -> Result<Json<hallmark_sync::wire::AssignmentAddedV1>, ApiError> {
    let bytes = read_body(&headers, body, 4 << 20, app.limits.idle).await?;
    blocking(move || {
        admin(&app, &headers)?;
        let a: hallmark_sync::wire::AssignmentV1 = parse(&bytes, "an AssignmentV1")?;
        let asked = AssignmentAsked {
            id: a.id,
            site: a.site,
            hall_id: None,
            rubric_id: a.rubric_id,
            lead_certificate: a.lead_certificate,
            member_certificates: a.member_certificates,
            planned: (None, None),
        };
        add_asked(&app, asked).map(Json)
    })
    .await
}

/// `POST /v2/admin/assignments` (admin token): a hall of the registry, with planned days.
async fn add_assignment_v2(State(app): Shared, headers: HeaderMap, body: Body) -> Result<Json<hallmark_sync::wire::AssignmentAddedV1>, ApiError> {
    let bytes = read_body(&headers, body, 4 << 20, app.limits.idle).await?;
    blocking(move || {
        admin(&app, &headers)?;
        let a: hallmark_sync::wire::AssignmentV2 = parse(&bytes, "an AssignmentV2")?;
        let asked = AssignmentAsked {
            id: a.id,
            site: String::new(),
            hall_id: Some(a.hall_id),
            rubric_id: a.rubric_id,
            lead_certificate: a.lead_certificate,
            member_certificates: a.member_certificates,
            planned: (a.planned_from, a.planned_to),
        };
        add_asked(&app, asked).map(Json)
    })
    .await
}

/// `POST /v1/admin/halls` (admin token): registry halls added or updated by id, all or none.
async fn import_halls(State(app): Shared, headers: HeaderMap, body: Body) -> Result<Json<hallmark_sync::wire::HallsImportedV1>, ApiError> {
    let bytes = read_body(&headers, body, 32 << 20, app.limits.idle).await?;
    blocking(move || {
        admin(&app, &headers)?;
        let list: hallmark_sync::wire::HallListV1 = parse(&bytes, "a HallListV1")?;
        let mut errors = Vec::new();
        let mut halls = Vec::new();
        for (i, h) in list.halls.iter().enumerate() {
            match crate::halls::Hall::from_wire(h) {
                Ok(h) => halls.push(h),
                Err(e) => errors.push(format!("hall {} ('{}'): {e}", i + 1, h.id)),
            }
        }
        if !errors.is_empty() {
            errors.truncate(20);
            return Err(ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", format!("nothing imported: {}", errors.join("; "))));
        }
        let (added, updated, unchanged) = app.backend.import_halls(&halls, &now())?;
        Ok(Json(hallmark_sync::wire::HallsImportedV1 { added, updated, unchanged }))
    })
    .await
}

/// `GET /v2/assignments`: the requesting device's assignments with their registry halls and
/// planned days.
async fn assignments_v2(
    State(app): Shared,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Json<hallmark_sync::wire::AssignmentListV2>, ApiError> {
    let req = signed(method, &uri, headers);
    blocking(move || {
        let caller = authenticate(&app, &req, Some(&Sha256::digest(b"")), None)?;
        let assignments = app
            .backend
            .assignments_of(&caller.key)?
            .into_iter()
            .map(|a| {
                let (planned_from, planned_to) = a.planned.unzip();
                hallmark_sync::wire::AssignmentItemV2 {
                    id: a.id,
                    site: a.site,
                    rubric_id: a.rubric_id,
                    role: a.role,
                    hall: a.hall.map(|h| h.wire()),
                    planned_from,
                    planned_to,
                }
            })
            .collect();
        Ok(Json(hallmark_sync::wire::AssignmentListV2 { assignments }))
    })
    .await
}

/// `GET /v1/assignments`: the requesting device's assignments (as a member or the lead).
async fn assignments(
    State(app): Shared,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Json<hallmark_sync::wire::AssignmentListV1>, ApiError> {
    let req = signed(method, &uri, headers);
    blocking(move || {
        let caller = authenticate(&app, &req, Some(&Sha256::digest(b"")), None)?;
        let assignments = app
            .backend
            .assignments_of(&caller.key)?
            .into_iter()
            .map(|a| hallmark_sync::wire::AssignmentItemV1 { id: a.id, site: a.site, rubric_id: a.rubric_id, role: a.role })
            .collect();
        Ok(Json(hallmark_sync::wire::AssignmentListV1 { assignments }))
    })
    .await
}

/// `GET /v1/trust`: the bureau roots and revocation lists this server trusts (public).
async fn trust(State(app): Shared) -> Result<Json<hallmark_sync::wire::TrustV1>, ApiError> {
    blocking(move || {
        Ok(Json(hallmark_sync::wire::TrustV1 { roots: app.backend.trusted_root_pems()?, crls: app.backend.trusted_crl_pems()?, server_time: now() }))
    })
    .await
}

pub fn enrollment_wire(e: crate::embedded::Enrollment) -> hallmark_sync::wire::EnrollmentV1 {
    let fingerprint = unhex(&e.public_key).map(|k| certificate::fingerprint_of(&k)).unwrap_or_default();
    hallmark_sync::wire::EnrollmentV1 {
        fingerprint,
        public_key: e.public_key,
        name: e.name,
        unit: e.unit,
        title: e.title,
        device_id: e.device_id,
        state: e.state,
        received_at: e.received_at,
        decided_at: e.decided_at,
        reason: e.reason,
        request: e.request,
        certificates: e.chain,
    }
}

/// `POST /v1/enrollments`, signed with the device's own key: its enrollment request, kept
/// pending until an admin decides. The request must be signed by the key that signs the HTTP
/// request (so nobody files a request for a key they do not hold).
async fn enroll(
    State(app): Shared,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<hallmark_sync::wire::EnrollmentV1>, ApiError> {
    let bytes = read_body(&headers, body, 64 << 10, app.limits.idle).await?;
    let req = signed(method, &uri, headers);
    blocking(move || {
        let by = signed_by(&req, Some(&Sha256::digest(&bytes)))?;
        let asked: hallmark_sync::wire::EnrollmentRequestV1 = parse(&bytes, "an EnrollmentRequestV1")?;
        let r = hallmark_trust::authority::read_request("the enrollment request", asked.request.as_bytes())
            .map_err(|e| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "bad_request", e.to_string()))?;
        if r.public_key.as_slice() != by.key.as_slice() {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "key_mismatch",
                "the enrollment request names another key than the one that signed the HTTP request (a device asks only for its own key)",
            ));
        }
        if r.subject.name.trim().is_empty() {
            return Err(ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "bad_request", "the enrollment request names nobody (fill in the name)"));
        }
        spend_nonce(&app, &by)?;
        let held = app.backend.put_enrollment_request(&crate::embedded::Enrollment {
            public_key: by.key_hex.clone(),
            request: asked.request,
            name: r.subject.name,
            unit: r.subject.unit,
            title: r.subject.title,
            device_id: r.subject.device_id,
            state: "pending".into(),
            received_at: now(),
            decided_at: None,
            reason: None,
            chain: Vec::new(),
        })?;
        Ok(Json(enrollment_wire(held)))
    })
    .await
}

/// `GET /v1/enrollment`, signed with the device's own key: what became of its request.
async fn enrollment(State(app): Shared, method: Method, uri: Uri, headers: HeaderMap) -> Result<Json<hallmark_sync::wire::EnrollmentV1>, ApiError> {
    let req = signed(method, &uri, headers);
    blocking(move || {
        let by = signed_by(&req, Some(&Sha256::digest(b"")))?;
        spend_nonce(&app, &by)?;
        match app.backend.enrollment(&by.key_hex)? {
            Some(e) => Ok(Json(enrollment_wire(e))),
            None => Err(ApiError::new(
                StatusCode::NOT_FOUND,
                "no_request",
                format!("no enrollment request from key {}: send one first (POST /v1/enrollments)", certificate::fingerprint_of(&by.key)),
            )),
        }
    })
    .await
}

/// `GET /v1/admin/enrollments` (admin token): every request, pending first.
async fn admin_enrollments(State(app): Shared, headers: HeaderMap) -> Result<Json<hallmark_sync::wire::EnrollmentListV1>, ApiError> {
    blocking(move || {
        admin(&app, &headers)?;
        let enrollments = app.backend.enrollments()?.into_iter().map(enrollment_wire).collect();
        Ok(Json(hallmark_sync::wire::EnrollmentListV1 { enrollments }))
    })
    .await
}

/// `POST /v1/admin/enrollments/{public_key}` (admin token): approve with the issued chain —
/// which must certify exactly the requesting key, with role assessor or lead, trusted now —
/// or refuse with a reason.
async fn decide_enrollment(
    State(app): Shared,
    Path(key): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<hallmark_sync::wire::EnrollmentV1>, ApiError> {
    let bytes = read_body(&headers, body, 1 << 20, app.limits.idle).await?;
    blocking(move || {
        admin(&app, &headers)?;
        let d: hallmark_sync::wire::EnrollmentDecisionV1 = parse(&bytes, "an EnrollmentDecisionV1")?;
        crate::decide_enrollment(&*app.backend, &key, &d, &now()).map(|e| Json(enrollment_wire(e)))
    })
    .await
}

/// `GET /v1/rubrics` (any enrolled device): the published rubric files, each with a release
/// signed by this server's certificate.
async fn rubrics(State(app): Shared, method: Method, uri: Uri, headers: HeaderMap) -> Result<Json<hallmark_sync::wire::RubricListV1>, ApiError> {
    let req = signed(method, &uri, headers);
    blocking(move || {
        authenticate(&app, &req, Some(&Sha256::digest(b"")), None)?;
        let rubrics = app
            .backend
            .published_rubrics()?
            .into_iter()
            .map(|p| app.identity.sign_rubric(&p.rubric_id, &p.version, &p.sha256, &p.published_at, &p.content))
            .collect();
        Ok(Json(hallmark_sync::wire::RubricListV1 { rubrics }))
    })
    .await
}

/// `POST /v1/admin/rubrics` (admin token): publishes a rubric file to every device.
async fn publish_rubric(State(app): Shared, headers: HeaderMap, body: Body) -> Result<Json<hallmark_sync::wire::RubricPublishedV1>, ApiError> {
    let bytes = read_body(&headers, body, 4 << 20, app.limits.idle).await?;
    blocking(move || {
        admin(&app, &headers)?;
        let r: hallmark_sync::wire::RubricPublishV1 = parse(&bytes, "a RubricPublishV1")?;
        let p = app.backend.publish_rubric(&r.content, &now())?;
        Ok(Json(hallmark_sync::wire::RubricPublishedV1 { rubric_id: p.rubric_id, version: p.version, sha256: p.sha256 }))
    })
    .await
}
