//! The TLS listener: rustls (`ring`) with the server's bureau-issued certificate, HTTP/1.1,
//! and the limits that keep a slow or hostile client from holding the server: a TLS
//! handshake and the request headers must arrive within `handshake`, every body chunk within
//! `idle`, and bodies are bounded by what the endpoint expects.

use std::sync::Arc;
use std::time::Duration;

use hallmark_sync::receipt::ServerIdentity;
use hallmark_trust::certificate;
use hyper_util::rt::{TokioIo, TokioTimer};
use rustls_pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};

use crate::routes::{router, App};
use crate::Backend;

#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// TLS handshake and request headers.
    pub handshake: Duration,
    /// Between two chunks of a body.
    pub idle: Duration,
    /// A bundle head (manifest + signature).
    pub max_head: u64,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            handshake: Duration::from_secs(10),
            idle: Duration::from_secs(30),
            max_head: hallmark_bundle::format::MAX_MANIFEST_BYTES + 64 * 1024,
        }
    }
}

pub async fn serve(
    listen: String,
    limits: Limits,
    identity: Arc<ServerIdentity>,
    backend: Arc<dyn Backend>,
    admin_token: String,
    dashboard: Option<Arc<hallmark_dashboard::Dashboard>>,
) -> Result<(), String> {
    let chain = certificate::read_chain("the server certificate", &identity.certificates).map_err(|e| e.to_string())?;
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(identity.key_der.clone()));
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut tls = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(|e| format!("the server certificate and key do not make a TLS identity: {e}"))?;
    tls.alpn_protocols = vec![b"http/1.1".to_vec()];
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(tls));
    let listener =
        tokio::net::TcpListener::bind(&listen).await.map_err(|e| format!("cannot listen on {listen}: {e} (is another server running there?)"))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let name = identity.leaf.name.clone();
    let app = Arc::new(App { backend, identity, limits, admin_token, records: dashboard.clone() });
    let routes = match dashboard {
        Some(d) => router(app).merge(hallmark_dashboard::router(d)),
        None => router(app),
    };
    let service = hyper_util::service::TowerToHyperService::new(routes);
    println!("listening on https://{addr} as '{name}'");
    use std::io::Write as _;
    let _ = std::io::stdout().flush();
    loop {
        let (tcp, peer) = match listener.accept().await {
            Ok(c) => c,
            Err(e) => {
                eprintln!("hallmark serve: accept failed: {e}");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let acceptor = acceptor.clone();
        let service = service.clone();
        tokio::spawn(async move {
            let tls = match tokio::time::timeout(limits.handshake, acceptor.accept(tcp)).await {
                Ok(Ok(s)) => s,
                Ok(Err(e)) => {
                    eprintln!("hallmark serve: TLS from {peer} refused: {e}");
                    return;
                }
                Err(_) => return, // a slow handshake is dropped
            };
            let conn = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(limits.handshake)
                .serve_connection(TokioIo::new(tls), service);
            if let Err(e) = conn.await {
                if !e.is_incomplete_message() {
                    eprintln!("hallmark serve: connection from {peer}: {e}");
                }
            }
        });
    }
}
