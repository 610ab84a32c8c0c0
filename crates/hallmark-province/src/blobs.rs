//! Where the evidence's bytes live (issue #16): in PostgreSQL's `blobs` table, or in an
//! S3-compatible object store (Garage on loopback in the tests) keyed by SHA-256. Either way the
//! `blobs` row is the index: it is written only after the object is stored, so a row never names
//! an object that is not there; an object without a row (the server killed between the two) is
//! invisible and harmless, and written again, the same bytes under the same key, on the next try.
//! Every object read is checked against its hash.

use std::future::Future;

use object_store::aws::{AmazonS3, AmazonS3Builder};
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStoreExt, PutPayload};

use crate::{redact, RecordsError, Result};

/// The blob store the records use.
pub enum BlobStore {
    /// In the `blobs` table itself.
    Postgres,
    S3(S3Blobs),
}

impl BlobStore {
    /// `None`: PostgreSQL; `Some(url)`: the object store at `url` (see [`S3Blobs::open`]).
    pub fn open(s3: Option<&str>) -> Result<BlobStore> {
        Ok(match s3 {
            None => BlobStore::Postgres,
            Some(url) => BlobStore::S3(S3Blobs::open(url)?),
        })
    }

    /// `postgres` or `s3`: the `blobs.place` of what this store writes.
    pub fn place(&self) -> &'static str {
        match self {
            BlobStore::Postgres => "postgres",
            BlobStore::S3(_) => "s3",
        }
    }
}

/// An S3 bucket reached over plain HTTP on the server's own machine or private network (as the
/// database is, docs/deploy.md): path-style requests, SigV4 signed.
pub struct S3Blobs {
    store: AmazonS3,
    runtime: tokio::runtime::Runtime,
    /// The URL without its secret, for messages.
    pub shown: String,
}

impl S3Blobs {
    /// `http://KEY_ID:SECRET@HOST:PORT/BUCKET` (region `garage`, or `?region=R`).
    pub fn open(url: &str) -> Result<S3Blobs> {
        let bad = |why: &str| RecordsError::Invalid(format!("object store URL '{}': {why} (http://KEY_ID:SECRET@HOST:PORT/BUCKET)", redact(url)));
        let rest = url.strip_prefix("http://").ok_or_else(|| bad("not http://"))?;
        let (creds, rest) = rest.rsplit_once('@').ok_or_else(|| bad("no KEY_ID:SECRET@"))?;
        let (key, secret) = creds.split_once(':').ok_or_else(|| bad("no ':' between the key id and the secret"))?;
        let (rest, query) = rest.split_once('?').unwrap_or((rest, ""));
        let (host, bucket) = rest.split_once('/').ok_or_else(|| bad("no /BUCKET"))?;
        if bucket.is_empty() || bucket.contains('/') || host.is_empty() {
            return Err(bad("the host or the bucket is missing"));
        }
        let region = query.split('&').find_map(|kv| kv.strip_prefix("region=")).unwrap_or("garage");
        // The HTTP client's TLS (unused on http://, but built) takes the process default: ring.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let store = AmazonS3Builder::new()
            .with_endpoint(format!("http://{host}"))
            .with_bucket_name(bucket)
            .with_region(region)
            .with_access_key_id(key)
            .with_secret_access_key(secret)
            .with_allow_http(true)
            .with_virtual_hosted_style_request(false)
            .with_retry(object_store::RetryConfig { max_retries: 2, retry_timeout: std::time::Duration::from_secs(10), ..Default::default() })
            .build()
            .map_err(|e| bad(&e.to_string()))?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .map_err(|e| RecordsError::Invalid(format!("cannot start the object store client: {e}")))?;
        Ok(S3Blobs { store, runtime, shown: redact(url) })
    }

    /// Runs a request on this store's own runtime, from a plain thread (callers are blocking
    /// code, some of them on another runtime's blocking pool).
    fn run<T: Send>(&self, f: impl Future<Output = T> + Send) -> T {
        std::thread::scope(|s| s.spawn(|| self.runtime.block_on(f)).join().expect("the object store request did not panic"))
    }

    fn key(sha256: &str) -> ObjectPath {
        ObjectPath::from(format!("sha256/{}/{}", &sha256[..2.min(sha256.len())], sha256))
    }

    /// A refusal that trying again will not cure (credentials, permissions, no such bucket) is
    /// `Invalid`; anything else — the store not answering — `Unavailable`.
    fn failed(&self, what: &str, e: object_store::Error) -> RecordsError {
        let refused = matches!(e, object_store::Error::PermissionDenied { .. } | object_store::Error::Unauthenticated { .. })
            || e.to_string().contains("NoSuchBucket");
        if refused {
            return RecordsError::Invalid(format!("object store {}: cannot {what}: {e} (check the key, its permissions and the bucket)", self.shown));
        }
        RecordsError::Unavailable(format!("object store {}: cannot {what}: {e} (is it running? nothing was recorded)", self.shown))
    }

    pub fn put(&self, sha256: &str, bytes: &[u8]) -> Result<()> {
        let payload = PutPayload::from(bytes.to_vec());
        self.run(self.store.put(&Self::key(sha256), payload)).map_err(|e| self.failed(&format!("store {sha256}"), e))?;
        Ok(())
    }

    /// An object's metadata (`None`: not there).
    async fn meta(&self, sha256: &str) -> std::result::Result<Option<object_store::ObjectMeta>, object_store::Error> {
        match self.store.head(&Self::key(sha256)).await {
            Ok(m) => Ok(Some(m)),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// The sizes of these objects (`None`: not there), a few requests at a time.
    pub fn sizes(&self, sha256s: &[String]) -> Result<Vec<Option<u64>>> {
        use futures_util::StreamExt;
        let got: Vec<_> = self.run(futures_util::stream::iter(sha256s.iter().map(|h| self.meta(h))).buffered(16).collect());
        got.into_iter().map(|r| r.map(|m| m.map(|m| m.size)).map_err(|e| self.failed("look up the objects", e))).collect()
    }

    /// When the object was last written, if it is there.
    pub fn modified(&self, sha256: &str) -> Result<Option<chrono::DateTime<chrono::Utc>>> {
        let got = self.run(self.meta(sha256));
        got.map(|m| m.map(|m| m.last_modified)).map_err(|e| self.failed(&format!("look up {sha256}"), e))
    }

    /// The object's bytes, checked against its hash (`None`: not there).
    pub fn get(&self, sha256: &str) -> Result<Option<Vec<u8>>> {
        let got = self.run(async {
            match self.store.get(&Self::key(sha256)).await {
                Ok(r) => r.bytes().await.map(Some),
                Err(object_store::Error::NotFound { .. }) => Ok(None),
                Err(e) => Err(e),
            }
        });
        let Some(bytes) = got.map_err(|e| self.failed(&format!("read {sha256}"), e))? else { return Ok(None) };
        let hash = hallmark_core::hex::sha256_hex(&bytes);
        if hash != sha256 {
            return Err(RecordsError::Invalid(format!(
                "object store {}: object {sha256} holds other bytes (SHA-256 {hash}): the store's copy is damaged",
                self.shown
            )));
        }
        Ok(Some(bytes.to_vec()))
    }
}

impl S3Blobs {
    /// Every object under the store's key space: (SHA-256, last modified).
    pub fn list(&self) -> Result<Vec<(String, chrono::DateTime<chrono::Utc>)>> {
        use futures_util::TryStreamExt;
        use object_store::ObjectStore;
        let metas: Vec<object_store::ObjectMeta> =
            self.run(self.store.list(Some(&ObjectPath::from("sha256"))).try_collect()).map_err(|e| self.failed("list the objects", e))?;
        Ok(metas.into_iter().filter_map(|m| m.location.filename().map(|f| (f.to_string(), m.last_modified))).collect())
    }

    pub fn delete(&self, sha256: &str) -> Result<()> {
        self.run(self.store.delete(&Self::key(sha256))).map_err(|e| self.failed(&format!("delete {sha256}"), e))
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_bad_url_is_named_without_its_secret() {
        let e = super::S3Blobs::open("http://key:topsecret@127.0.0.1:3900").err().unwrap().to_string();
        assert!(e.contains("no /BUCKET") && !e.contains("topsecret") && e.contains("key:***@"), "{e}");
        let e = super::S3Blobs::open("https://key:s@h/b").err().unwrap().to_string();
        assert!(e.contains("not http://"), "{e}");
    }
}
