//! The HTTP/1 server loop, with the limits a public service needs (README, "Deployment"):
//!
//! - a **header time-out**: a connection that has not sent a whole request head within it (a
//!   slow client, or one idle between requests) is closed, so that slow clients cannot hold
//!   connections for ever;
//! - a **request time-out**: a request whose body or answer takes longer is answered `408`;
//! - a **connection cap**: beyond it, new connections wait in the listen queue until one ends.
//!
//! Each request carries its peer address (`ConnectInfo`), from which `guidance_web::client`
//! decides the client. On shutdown the listener closes, idle connections end, and requests in
//! flight finish.

use std::convert::Infallible;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use axum::response::IntoResponse;
use guidance_app::config::EdgeConfig;
use guidance_web::error::HttpError;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tower::Service;

/// The limits of the server loop.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// How long a request head may take to arrive (and a connection may stay idle).
    pub header_timeout: Duration,
    /// How long a request may take, body and answer included.
    pub request_timeout: Duration,
    /// Connections served at once.
    pub max_connections: usize,
}

impl Limits {
    /// The limits configured in `edge`.
    pub fn from_config(edge: &EdgeConfig) -> Self {
        Self {
            header_timeout: Duration::from_secs(edge.header_timeout_secs),
            request_timeout: Duration::from_secs(edge.request_timeout_secs),
            max_connections: edge.max_connections,
        }
    }
}

/// Serves `router` on `listener` within `limits` until `shutdown` completes; then lets the
/// requests in flight finish.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: Limits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let graceful = GracefulShutdown::new();
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout);
    tokio::pin!(shutdown);
    loop {
        // A free slot first: at the cap, new connections wait in the kernel's queue.
        let slot = tokio::select! {
            slot = slots.clone().acquire_owned() => slot.expect("the semaphore is never closed"),
            () = &mut shutdown => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    accept_failed(e).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let router = router.clone();
        let timeout = limits.request_timeout;
        let service = hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
            req.extensions_mut().insert(ConnectInfo(peer));
            let answer = router.clone().call(req);
            async move {
                match tokio::time::timeout(timeout, answer).await {
                    Ok(resp) => resp,
                    Err(_) => {
                        tracing::warn!(%peer, "request timed out; answered 408");
                        Ok::<_, Infallible>(HttpError::RequestTimeout.into_response())
                    }
                }
            }
        });
        let connection = graceful.watch(http.serve_connection(TokioIo::new(stream), service));
        tokio::spawn(async move {
            // Errors here are the client's (it hung up, sent garbage, was too slow).
            if let Err(e) = connection.await {
                tracing::debug!(%peer, error = %e, "connection ended");
            }
            drop(slot);
        });
    }
    drop(listener);
    graceful.shutdown().await;
    Ok(())
}

/// After a failed `accept`: a connection that went away before it was taken is nothing; running
/// out of file descriptors is worth a line and a pause, so that the loop does not spin.
async fn accept_failed(e: std::io::Error) {
    use std::io::ErrorKind;
    if matches!(
        e.kind(),
        ErrorKind::ConnectionAborted | ErrorKind::ConnectionReset | ErrorKind::ConnectionRefused
    ) {
        return;
    }
    tracing::error!(error = %e, "accepting a connection failed");
    tokio::time::sleep(Duration::from_secs(1)).await;
}
