//! The blocking sync client: a device's signed requests to `hallmark serve`, over rustls that
//! trusts only the bureau roots (no internet CA, no passwords on tablets).
//!
//! Push is resumable at file granularity: the manifest goes first and the server answers with
//! the files it lacks, so after a cut connection the next push sends only what never arrived.
//! A receipt is checked (signature, server certificate with the role server) before it is
//! kept; only a kept receipt makes an inspection 已同步.

use std::collections::HashMap;
use std::fs;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use hallmark_bundle::ustar;
use hallmark_core::hex::{hex, unhex};
use hallmark_store::sync::NewReceipt;
use hallmark_store::Store;
use hallmark_trust::{certificate, TrustStore};
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};

use crate::httpsig;
use crate::receipt::{self, CheckedReceipt};
use crate::wire::{CommittedV1, DeviceKnownV1, DeviceV1, ErrorV1, OfferV1, PullListV1, HEAD_TYPE};
use crate::SyncError;

type Result<T> = std::result::Result<T, SyncError>;

/// Signs a message with the device's key.
pub type SignFn = Box<dyn Fn(&[u8]) -> Vec<u8> + Send + Sync>;

/// Signs requests: the public key (hex, the keyid), the algorithm, and the signing function.
pub struct DeviceSigner {
    pub public_key_hex: String,
    /// [`httpsig::ED25519`] (a device) or [`httpsig::ECDSA_P256`] (a relaying server).
    pub alg: &'static str,
    pub sign: SignFn,
}

/// How many files of one bundle are uploaded at once.
const UPLOADS: usize = 3;

/// A connection to one server.
pub struct Client {
    agent: ureq::Agent,
    url: String,
    authority: String,
    signer: DeviceSigner,
    trust: TrustStore,
    /// Server clock minus ours, in seconds: a tablet with a wrong clock still signs within
    /// the server's window (learned from `GET /v1/time`, which needs no signature).
    offset: i64,
}

/// What one push did.
#[derive(Debug, Clone)]
pub struct Pushed {
    pub bundle_id: String,
    pub inspection_id: String,
    /// The server had committed this bundle before.
    pub already_had: bool,
    /// Files sent in this push, and their bytes.
    pub files_sent: usize,
    pub bytes_sent: u64,
    pub receipt: CheckedReceipt,
    /// The signed receipt as received (what the store keeps).
    pub signed: String,
    /// How long the commit request took (zero when the offer already had a receipt).
    pub commit_time: std::time::Duration,
}

/// Where a bundle file's entries are: the head (first two entries) and each entry's data.
struct BundleIndex {
    head: Vec<u8>,
    entries: HashMap<String, (u64, u64)>,
}

fn index_bundle(path: &Path) -> Result<(fs::File, BundleIndex)> {
    let name = path.display().to_string();
    let local = |what: String| SyncError::Local(format!("{name}: {what}"));
    let mut f = fs::File::open(path).map_err(|e| local(format!("cannot open: {e} (check the path)")))?;
    let len = f.metadata().map(|m| m.len()).unwrap_or(0);
    let mut entries = HashMap::new();
    let mut pos = 0u64;
    let mut head_end = 0u64;
    let mut n = 0;
    loop {
        f.seek(SeekFrom::Start(pos)).map_err(|e| local(e.to_string()))?;
        let Some(h) = ustar::read_header(&mut f).map_err(|e| local(format!("not a hallmark bundle: {e}")))? else { break };
        let data = pos + ustar::BLOCK as u64;
        if data + h.size > len {
            return Err(local("is cut short (copy it again)".into()));
        }
        entries.insert(h.name, (data, h.size));
        pos = data + h.size.div_ceil(ustar::BLOCK as u64) * ustar::BLOCK as u64;
        n += 1;
        if n == 2 {
            head_end = pos;
        }
    }
    if head_end == 0 {
        return Err(local("is not a hallmark bundle (no manifest and signature)".into()));
    }
    let mut head = vec![0u8; head_end as usize];
    f.seek(SeekFrom::Start(0)).and_then(|_| f.read_exact(&mut head)).map_err(|e| local(e.to_string()))?;
    Ok((f, BundleIndex { head, entries }))
}

/// A request body.
pub(crate) enum Body<'a> {
    Empty,
    Bytes(&'a [u8], &'static str),
    /// `len` bytes whose SHA-256 is already known (a listed file).
    File(&'a mut dyn Read, u64, Vec<u8>),
}

impl Client {
    /// Connects to `url` (`https://HOST:PORT`), trusting `roots` (PEM texts: the bureau roots)
    /// for the server's TLS certificate and its receipts.
    pub fn new(url: &str, roots: &[String], trust: TrustStore, signer: DeviceSigner) -> Result<Client> {
        let url = url.trim_end_matches('/').to_string();
        let authority = url
            .strip_prefix("https://")
            .ok_or_else(|| SyncError::Local(format!("server '{url}' must be an https:// address (hallmark only syncs over TLS)")))?
            .split('/')
            .next()
            .unwrap_or("")
            .to_string();
        let agent = bureau_agent(roots)?;
        let mut client = Client { agent, url, authority, signer, trust, offset: 0 };
        client.offset = client.clock_offset()?;
        Ok(client)
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    /// The server's clock minus ours (seconds).
    fn clock_offset(&self) -> Result<i64> {
        let before = Utc::now();
        let resp = self.agent.get(&format!("{}/v1/time", self.url)).call().map_err(|e| self.transport(e))?;
        let t: serde_json::Value = resp.into_json().map_err(|e| SyncError::BadAnswer(format!("/v1/time: {e}")))?;
        let server = t.get("server_time").and_then(|v| v.as_str()).and_then(|s| DateTime::parse_from_rfc3339(s).ok());
        Ok(server.map(|s| s.with_timezone(&Utc).timestamp() - before.timestamp()).unwrap_or(0))
    }

    fn transport(&self, e: ureq::Error) -> SyncError {
        answer_error(&self.url, e)
    }

    pub(crate) fn send(&self, method: &str, path: &str, body: Body<'_>) -> Result<ureq::Response> {
        let digest: Vec<u8> = match &body {
            Body::Empty => Sha256::digest(b"").to_vec(),
            Body::Bytes(b, _) => Sha256::digest(b).to_vec(),
            Body::File(_, _, sha) => sha.clone(),
        };
        let content_digest = httpsig::content_digest(&digest);
        let cd = content_digest.clone();
        let header = move |n: &str| (n == "content-digest").then(|| cd.clone());
        let req = httpsig::Request { method, authority: &self.authority, path, query: None, header: &header };
        let nonce = {
            let mut b = [0u8; 16];
            getrandom::getrandom(&mut b).map_err(|e| SyncError::Local(format!("no randomness for a nonce: {e}")))?;
            hex(&b)
        };
        let created = Utc::now().timestamp() + self.offset;
        let (input, sig) =
            httpsig::sign_with(&req, &self.signer.public_key_hex, created, &nonce, self.signer.alg, &*self.signer.sign).map_err(SyncError::Local)?;
        let r = self
            .agent
            .request(method, &format!("{}{path}", self.url))
            .set("content-digest", &content_digest)
            .set("signature-input", &input)
            .set("signature", &sig);
        let res = match body {
            Body::Empty => r.call(),
            Body::Bytes(b, ctype) => r.set("content-type", ctype).send_bytes(b),
            Body::File(reader, len, _) => r.set("content-type", "application/octet-stream").set("content-length", &len.to_string()).send(reader),
        };
        res.map_err(|e| self.transport(e))
    }

    pub(crate) fn json<T: DeserializeOwned>(&self, what: &str, resp: ureq::Response) -> Result<T> {
        resp.into_json().map_err(|e| SyncError::BadAnswer(format!("{what}: {e}")))
    }

    /// Presents this device's certificate chain (the server maps the key to it).
    pub fn present(&self, certificates: &[String]) -> Result<DeviceKnownV1> {
        let body = serde_json::to_vec(&DeviceV1 { certificates: certificates.to_vec() }).expect("serializes");
        let resp = self.send("PUT", "/v1/device", Body::Bytes(&body, "application/json"))?;
        self.json("/v1/device", resp)
    }

    /// Pushes one bundle file: manifest, the files the server lacks, commit. Returns the
    /// checked receipt. Safe to repeat; after a cut it sends only what never arrived.
    pub fn push_file(&self, path: &Path, progress: &mut dyn FnMut(u64, u64)) -> Result<Pushed> {
        // HALLMARK_SYNC_TIMING=1 prints each phase's time on stderr (a diagnostic).
        let timing = std::env::var_os("HALLMARK_SYNC_TIMING").is_some();
        let started = std::time::Instant::now();
        let phase = |what: &str| {
            if timing {
                eprintln!("sync timing: {what} at {} ms", started.elapsed().as_millis());
            }
        };
        let (file, index) = index_bundle(path)?;
        let resp = self.send("POST", "/v1/bundles", Body::Bytes(&index.head, HEAD_TYPE))?;
        let offer: OfferV1 = self.json("offer", resp)?;
        if let Some(signed) = &offer.receipt {
            let checked = self.check_receipt(signed, &offer.bundle_id)?;
            let text = serde_json::to_string(signed).expect("serializes");
            return Ok(Pushed {
                bundle_id: offer.bundle_id,
                inspection_id: offer.inspection_id,
                already_had: true,
                files_sent: 0,
                bytes_sent: 0,
                receipt: checked,
                signed: text,
                commit_time: std::time::Duration::ZERO,
            });
        }
        phase("offer answered");
        let total: u64 = offer.missing.iter().map(|m| m.size).sum();
        progress(0, total);
        let mut wanted = Vec::with_capacity(offer.missing.len());
        for want in &offer.missing {
            let Some(&(offset, size)) = index.entries.get(&want.entry) else {
                return Err(SyncError::BadAnswer(format!("the server asks for '{}', which this bundle does not hold", want.entry)));
            };
            if size != want.size {
                return Err(SyncError::BadAnswer(format!("the server asks for '{}' with {} bytes; the bundle has {size}", want.entry, want.size)));
            }
            let sha =
                unhex(&want.sha256).filter(|s| s.len() == 32).ok_or_else(|| SyncError::BadAnswer(format!("'{}' is not a SHA-256", want.sha256)))?;
            wanted.push((want, offset, size, sha));
        }
        drop(file);
        // A few files in flight at once: the server stores one (in an object store, a
        // round trip of its own) while the next arrives (issue #16's push figure).
        let next = std::sync::atomic::AtomicUsize::new(0);
        let failed = std::sync::Mutex::new(None::<SyncError>);
        let (done_tx, done_rx) = std::sync::mpsc::channel::<u64>();
        std::thread::scope(|scope| {
            for _ in 0..UPLOADS.min(wanted.len()) {
                let (next, failed, wanted, done_tx, bundle_id) = (&next, &failed, &wanted, done_tx.clone(), &offer.bundle_id);
                scope.spawn(move || {
                    let mut file = match fs::File::open(path) {
                        Ok(f) => f,
                        Err(e) => {
                            failed
                                .lock()
                                .unwrap_or_else(|p| p.into_inner())
                                .get_or_insert(SyncError::Local(format!("{}: cannot open: {e}", path.display())));
                            return;
                        }
                    };
                    loop {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        if i >= wanted.len() || failed.lock().unwrap_or_else(|p| p.into_inner()).is_some() {
                            return;
                        }
                        let (want, offset, size, sha) = &wanted[i];
                        let sent = file.seek(SeekFrom::Start(*offset)).map_err(|e| SyncError::Local(e.to_string())).and_then(|_| {
                            let mut body = (&mut file).take(*size);
                            self.send("PUT", &format!("/v1/bundles/{bundle_id}/files/{}", want.sha256), Body::File(&mut body, *size, sha.clone()))
                        });
                        match sent {
                            Ok(_) => {
                                let _ = done_tx.send(*size);
                            }
                            Err(e) => {
                                failed.lock().unwrap_or_else(|p| p.into_inner()).get_or_insert(e);
                                return;
                            }
                        }
                    }
                });
            }
            drop(done_tx);
            let mut sent = 0u64;
            for size in done_rx {
                sent += size;
                progress(sent, total);
            }
        });
        if let Some(e) = failed.into_inner().unwrap_or_else(|p| p.into_inner()) {
            return Err(e);
        }
        let sent = total;
        phase("files sent");
        let commit_started = std::time::Instant::now();
        let resp = self.send("POST", &format!("/v1/bundles/{}/commit", offer.bundle_id), Body::Empty)?;
        let committed: CommittedV1 = self.json("commit", resp)?;
        let commit_time = commit_started.elapsed();
        phase("committed");
        let checked = self.check_receipt(&committed.receipt, &offer.bundle_id)?;
        Ok(Pushed {
            bundle_id: offer.bundle_id,
            inspection_id: offer.inspection_id,
            already_had: committed.outcome == "already_had",
            files_sent: offer.missing.len(),
            bytes_sent: sent,
            receipt: checked,
            signed: serde_json::to_string(&committed.receipt).expect("serializes"),
            commit_time,
        })
    }

    fn check_receipt(&self, signed: &crate::wire::SignedReceiptV1, bundle_id: &str) -> Result<CheckedReceipt> {
        receipt::check(signed, bundle_id, &self.trust, Utc::now() + chrono::Duration::seconds(self.offset)).map_err(SyncError::BadAnswer)
    }

    /// Keeps a push's receipt in the device's store.
    pub fn keep_receipt(&self, store: &Store, pushed: &Pushed, now: &str) -> Result<()> {
        let r = &pushed.receipt.receipt;
        store.record_receipt(
            &NewReceipt {
                bundle_id: &r.bundle_id,
                inspection_id: &r.inspection_id,
                server: &r.server,
                server_url: &self.url,
                events: r.events,
                photos: r.photos,
                received_at: &r.received_at,
                signed: &pushed.signed,
            },
            now,
        )?;
        Ok(())
    }

    /// The rubric files the server publishes, each checked (server signature and chain, the
    /// file's hash) and kept in `store` (which checks it is a rubric whose id and version
    /// name no other content). Returns the ones new here.
    pub fn fetch_rubrics(&self, store: &Store, now: &str) -> Result<Vec<hallmark_store::sync::PublishedRubric>> {
        let resp = self.send("GET", "/v1/rubrics", Body::Empty)?;
        let list: crate::wire::RubricListV1 = self.json("/v1/rubrics", resp)?;
        let had: Vec<String> = store.published_rubrics()?.into_iter().map(|p| p.sha256).collect();
        let mut new = Vec::new();
        for r in &list.rubrics {
            let release = receipt::check_rubric(r, &self.trust, Utc::now() + chrono::Duration::seconds(self.offset)).map_err(SyncError::BadAnswer)?;
            if had.contains(&release.sha256) {
                continue;
            }
            let signed = serde_json::to_string(r).expect("serializes");
            new.push(store.keep_rubric(&r.content, Some(&signed), now)?);
        }
        Ok(new)
    }

    /// The server's current revocation lists, loaded into `store` (each once): a tablet learns
    /// of a revoked device with every sync, not only when it enrolled.
    pub fn refresh_crls(&self, store: &Store, now: &str) -> Result<usize> {
        let resp = self.agent.get(&format!("{}/v1/trust", self.url)).call().map_err(|e| self.transport(e))?;
        let t: crate::wire::TrustV1 = resp.into_json().map_err(|e| SyncError::BadAnswer(format!("/v1/trust: {e}")))?;
        let mut added = 0;
        for crl in &t.crls {
            let line = store.add_trust(&format!("{}/v1/trust", self.url), crl.as_bytes(), now)?;
            if !line.ends_with("(already loaded)") {
                added += 1;
            }
        }
        Ok(added)
    }

    /// What a device takes from the server besides bundles, at every sync: the current
    /// revocation lists and the published rubric files. Returns (CRLs added, rubrics new here).
    pub fn refresh(&self, store: &Store, now: &str) -> Result<(usize, Vec<hallmark_store::sync::PublishedRubric>)> {
        let crls = self.refresh_crls(store, now)?;
        Ok((crls, self.fetch_rubrics(store, now)?))
    }

    /// Sends this lead's reviews of the sheets it holds (issue #13): the review file
    /// `hallmark review export` writes, over the network. Nothing to send: `None`.
    /// Only this device's reviews of the sheets the server lists for it (`GET /v1/pull`) go: a
    /// sheet imported from a stick, or another lead's review, would make the server refuse the
    /// whole file, every time.
    pub fn push_reviews(&self, store: &Store) -> Result<Option<crate::wire::ReviewsStoredV1>> {
        // The sheets the server lists for this lead (reviews are kept only of sheets held here).
        let mut ids: Vec<String> = self.pull_list()?.bundles.into_iter().map(|b| b.inspection_id).collect();
        ids.sort();
        ids.dedup();
        let mut file = store.review_file(&ids)?;
        let me = store.device_key().public_key_hex();
        file.reviews.retain(|r| r.public_key == me);
        if file.reviews.is_empty() {
            return Ok(None);
        }
        let body = serde_json::to_vec(&file).expect("review file serializes");
        let resp = self.send("POST", "/v1/reviews", Body::Bytes(&body, "application/json"))?;
        Ok(Some(self.json("/v1/reviews", resp)?))
    }

    /// Receives the leads' reviews of this device's sheets (issue #13), each file checked and
    /// kept by the store as one from the bundle folder, each on its own: a file refused (a
    /// lead's chain that no longer checks, say) does not stop the others. Returns how many
    /// reviews were new, and the refusals.
    pub fn receive_reviews(&self, store: &mut Store, now: &str) -> Result<(usize, Vec<String>)> {
        let resp = self.send("GET", "/v1/reviews", Body::Empty)?;
        let list: crate::wire::ReviewFilesV1 = self.json("/v1/reviews", resp)?;
        let (mut new, mut refused) = (0, Vec::new());
        for f in &list.files {
            match store.receive_reviews(&serde_json::to_vec(f).expect("serializes"), now) {
                Ok(n) => new += n,
                Err(e) => refused.push(e.to_string()),
            }
        }
        Ok((new, refused))
    }

    /// Sends a signed report (issue #12) to the province server, which verifies it against the
    /// panel's bundles it holds and keeps it in its records. `hall`: the registry hall, when the
    /// panel's bundles name none.
    pub fn push_report(&self, pdf: &std::path::Path, hall: Option<&str>) -> Result<crate::wire::ReportStoredV1> {
        use base64::Engine;
        let read =
            |p: &std::path::Path| std::fs::read(p).map_err(|e| SyncError::Local(format!("{}: cannot read: {e} (check the path)", p.display())));
        let bytes = read(pdf)?;
        let side_path = std::path::PathBuf::from(format!("{}.sig.json", pdf.display()));
        let sidecar = String::from_utf8(read(&side_path)?)
            .map_err(|_| SyncError::Local(format!("{}: not text: is it a report's signature sidecar?", side_path.display())))?;
        let up = crate::wire::ReportUploadV1 {
            format: crate::wire::REPORT_UPLOAD_FORMAT.into(),
            pdf_base64: base64::engine::general_purpose::STANDARD.encode(&bytes),
            sidecar,
            hall_id: hall.map(str::to_string),
        };
        let body = serde_json::to_vec(&up).expect("serializes");
        let resp = self.send("POST", "/v1/reports", Body::Bytes(&body, "application/json"))?;
        self.json("/v1/reports", resp)
    }

    /// The bundles this lead may fetch (the panels of the assignments it leads).
    pub fn pull_list(&self) -> Result<PullListV1> {
        let resp = self.send("GET", "/v1/pull", Body::Empty)?;
        self.json("pull", resp)
    }

    /// The assignments this device is a member or the lead of.
    pub fn assignments(&self) -> Result<crate::wire::AssignmentListV2> {
        let resp = self.send("GET", "/v2/assignments", Body::Empty)?;
        self.json("assignments", resp)
    }

    /// Downloads one bundle into `out` (a new file).
    pub fn fetch(&self, bundle_id: &str, out: &Path) -> Result<u64> {
        let resp = self.send("GET", &format!("/v1/bundles/{bundle_id}"), Body::Empty)?;
        let mut f = fs::File::create(out).map_err(|e| SyncError::Local(format!("{}: cannot write: {e}", out.display())))?;
        let n =
            std::io::copy(&mut resp.into_reader(), &mut f).map_err(|e| SyncError::Unreachable { url: self.url.clone(), detail: e.to_string() })?;
        f.sync_all().map_err(|e| SyncError::Local(e.to_string()))?;
        Ok(n)
    }
}

impl DeviceSigner {
    /// Signs with a store's device key.
    pub fn of(key: &hallmark_store::identity::DeviceKey) -> DeviceSigner {
        let k = key.clone();
        DeviceSigner { public_key_hex: k.public_key_hex(), alg: httpsig::ED25519, sign: Box::new(move |m| k.sign(m).to_vec()) }
    }
}

/// One inspection's outcome in a push of a whole store.
#[derive(Debug)]
pub struct InspectionPush {
    pub inspection_id: String,
    pub site: String,
    pub result: std::result::Result<Option<Pushed>, SyncError>,
}

/// One bundle's outcome in a pull.
#[derive(Debug)]
pub struct Pulled {
    pub bundle_id: String,
    pub site: String,
    pub assessor: String,
    pub result: std::result::Result<Option<hallmark_store::bundle::Imported>, SyncError>,
}

impl Client {
    /// Pushes every inspection recorded on this device that changed since its last receipt
    /// (drafts too: a lost tablet loses nothing that was ever online). Each is exported to a
    /// bundle in `work` (a folder of the caller's), pushed, and its receipt kept; an
    /// inspection whose push fails is reported and the others go on. Nothing local is
    /// deleted. `Ok(None)`: unchanged since the last receipt.
    pub fn push_changed(
        &self,
        store: &Store,
        work: &Path,
        now: &dyn Fn() -> String,
        progress: &mut dyn FnMut(&str, u64, u64),
    ) -> Result<Vec<InspectionPush>> {
        let mut out = Vec::new();
        for s in store.summaries()? {
            if s.origin != "local" {
                continue;
            }
            let result = self.push_one(store, &s.id, work, now, &mut |d, t| progress(&s.id, d, t));
            out.push(InspectionPush { inspection_id: s.id.clone(), site: s.site_name.clone(), result });
        }
        Ok(out)
    }

    fn push_one(&self, store: &Store, id: &str, work: &Path, now: &dyn Fn() -> String, progress: &mut dyn FnMut(u64, u64)) -> Result<Option<Pushed>> {
        let counts = store.sync_counts(id)?;
        if let Some(last) = store.last_receipt(id)? {
            if (last.events, last.photos) == counts {
                return Ok(None);
            }
        }
        let file = work.join(format!("{id}.hallmark"));
        let _ = fs::remove_file(&file);
        store.export_bundle(id, &file, &now(), &mut |_, _| {})?;
        let pushed = self.push_file(&file, progress);
        let _ = fs::remove_file(&file);
        let pushed = pushed?;
        self.keep_receipt(store, &pushed, &now())?;
        Ok(Some(pushed))
    }

    /// Fetches every bundle this lead may pull that the store does not hold, and imports each
    /// (verified again, all or nothing, as `hallmark import`). `work` holds the downloads.
    pub fn pull_into(&self, store: &mut Store, work: &Path, now: &dyn Fn() -> String) -> Result<Vec<Pulled>> {
        let list = self.pull_list()?;
        let mut out = Vec::new();
        for item in list.bundles {
            if store.has_bundle(&item.bundle_id)? {
                out.push(Pulled { bundle_id: item.bundle_id, site: item.site, assessor: item.assessor, result: Ok(None) });
                continue;
            }
            let file = work.join(format!("{}.hallmark", &item.bundle_id[..16.min(item.bundle_id.len())]));
            let result = self
                .fetch(&item.bundle_id, &file)
                .and_then(|_| store.import_bundle(&file, &now(), &mut |_, _| {}).map(Some).map_err(SyncError::from));
            let _ = fs::remove_file(&file);
            out.push(Pulled { bundle_id: item.bundle_id, site: item.site, assessor: item.assessor, result });
        }
        Ok(out)
    }
}

/// Connects a device's store to a server: trusts the store's roots (the bureau root installed
/// with its certificate, `hallmark trust add`) and `extra` (PEM texts of roots or CRLs), signs
/// with the device key, and presents the device's certificate. An unenrolled device cannot
/// sync: only enrolled devices are accepted by any server.
pub fn connect_store(store: &Store, server: &str, extra: &[(String, String)]) -> Result<(Client, DeviceKnownV1)> {
    let mut roots = store.trusted_root_pems()?;
    let mut ts = store.trust_store()?;
    for (file, pem) in extra {
        if pem.contains("-----BEGIN X509 CRL-----") {
            ts.add_crl_pem(file, pem.as_bytes()).map_err(|e| SyncError::Local(e.to_string()))?;
        } else {
            ts.add_roots_pem(file, pem.as_bytes()).map_err(|e| SyncError::Local(e.to_string()))?;
            roots.push(pem.clone());
        }
    }
    let certs = store.device_certificates()?.ok_or_else(|| {
        SyncError::Local(
            "this device is not enrolled: only enrolled devices sync (hallmark enroll request, then enroll install; the app: 设备登记)".into(),
        )
    })?;
    let client = Client::new(server, &roots, ts, DeviceSigner::of(store.signing_key()?))?;
    let who = client.present(&certs)?;
    Ok((client, who))
}

/// An admin verb over the network: adds an assignment with the server's admin token (the
/// file `hallmark serve` wrote, `DIR/admin.token`). `roots` are the bureau roots the server's TLS
/// certificate must chain to.
pub fn add_assignment_remote(url: &str, roots: &[String], token: &str, a: &crate::wire::AssignmentV1) -> Result<crate::wire::AssignmentAddedV1> {
    admin_post(url, roots, token, "/v1/admin/assignments", a)
}

/// `hallmark assignment add --server URL --hall ID`: an assignment of a registry hall (V2).
pub fn add_hall_assignment_remote(url: &str, roots: &[String], token: &str, a: &crate::wire::AssignmentV2) -> Result<crate::wire::AssignmentAddedV1> {
    admin_post(url, roots, token, "/v2/admin/assignments", a)
}

/// `hallmark hall import FILE --server URL`: registry halls added or updated by id.
pub fn import_halls_remote(url: &str, roots: &[String], token: &str, halls: &crate::wire::HallListV1) -> Result<crate::wire::HallsImportedV1> {
    admin_post(url, roots, token, "/v1/admin/halls", halls)
}

/// `hallmark rubric publish FILE --server URL`: a rubric file every device then fetches.
pub fn publish_rubric_remote(url: &str, roots: &[String], token: &str, content: &str) -> Result<crate::wire::RubricPublishedV1> {
    admin_post(url, roots, token, "/v1/admin/rubrics", &crate::wire::RubricPublishV1 { content: content.into() })
}

/// An admin verb: JSON posted with the server's admin token, the answer read as `T`.
pub(crate) fn admin_post<T: serde::de::DeserializeOwned>(
    url: &str,
    roots: &[String],
    token: &str,
    path: &str,
    body: &impl serde::Serialize,
) -> Result<T> {
    let url = url.trim_end_matches('/');
    let agent = bureau_agent(roots)?;
    let resp = agent
        .post(&format!("{url}{path}"))
        .set("authorization", &format!("Bearer {}", token.trim()))
        .send_json(serde_json::to_value(body).expect("serializes"));
    resp.map_err(|e| answer_error(url, e))?.into_json().map_err(|e| SyncError::BadAnswer(e.to_string()))
}

/// An HTTPS agent that trusts only `roots` (PEM texts: the bureau roots) — no internet CA.
pub(crate) fn bureau_agent(roots: &[String]) -> Result<ureq::Agent> {
    let mut store = rustls::RootCertStore::empty();
    for pem in roots {
        for der in certificate::read_pem("a trusted root", pem.as_bytes()).map_err(|e| SyncError::Local(e.to_string()))? {
            store.add(der).map_err(|e| SyncError::Local(format!("a trusted root is not usable for TLS: {e}")))?;
        }
    }
    if store.is_empty() {
        return Err(SyncError::Local(
            "no bureau root is trusted here, so no server can be trusted (hallmark trust add ROOT.pem, or pass --trust)".into(),
        ));
    }
    let tls = rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .map_err(|e| SyncError::Local(e.to_string()))?
        .with_root_certificates(store)
        .with_no_client_auth();
    Ok(ureq::AgentBuilder::new()
        .tls_config(Arc::new(tls))
        .timeout_connect(Duration::from_secs(10))
        .timeout_read(Duration::from_secs(120))
        .timeout_write(Duration::from_secs(120))
        // A push keeps UPLOADS connections busy: each stays open for the next file.
        .max_idle_connections_per_host(UPLOADS)
        .build())
}

/// A server's refusal (its `ErrorV1`) or a lost connection, as a [`SyncError`].
pub(crate) fn answer_error(url: &str, e: ureq::Error) -> SyncError {
    match e {
        ureq::Error::Status(status, resp) => {
            let text = resp.into_string().unwrap_or_default();
            match serde_json::from_str::<ErrorV1>(&text) {
                Ok(e) => SyncError::Refused { status, code: e.error, message: e.message },
                Err(_) => SyncError::Refused { status, code: "http".into(), message: text.chars().take(300).collect() },
            }
        }
        ureq::Error::Transport(t) => SyncError::Unreachable { url: url.to_string(), detail: t.to_string() },
    }
}
