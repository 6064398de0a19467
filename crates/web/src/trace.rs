//! A span per request: method, matched route and a request id, so that one request's log lines
//! can be found together; its closing line ("request answered") adds the status and latency. The
//! id is the client's (or the proxy's) `X-Request-Id` when it is a short token, else a fresh one,
//! and is echoed in the answer.
//!
//! What it costs decides the levels. Requests that may change something (and log what they
//! did) run in an `info` span; reads (GET, HEAD, OPTIONS) in a `debug` one, and the closing line
//! is `debug` too, except for server errors (`warn`): formatting a span and a line for each of
//! the many reads would cost the slot list a fifth of its speed. `RUST_LOG=info,guidance_web=debug`
//! turns both on, which makes an access log.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::LazyLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::Instant;

use axum::body::Bytes;
use axum::extract::{MatchedPath, Request};
use axum::http::{HeaderValue, Method};
use axum::response::Response;
use tower::{Layer, Service};
use tracing::Instrument;

/// The header that carries the request id.
pub const REQUEST_ID: &str = "x-request-id";

/// The longest request id taken from a client.
const REQUEST_ID_MAX: usize = 64;

/// Request ids made here are this process's random half and its count of requests: unique
/// across processes and restarts, without asking the system for randomness on every request.
static PROCESS: LazyLock<u64> = LazyLock::new(rand::random);
/// Requests counted by this process.
static COUNT: AtomicU64 = AtomicU64::new(0);

/// The layer that serves each request inside its span and sets `X-Request-Id` on the answer.
/// A plain tower layer rather than a `from_fn` middleware: it calls the routes it wraps at once
/// and only wraps their future, so a request costs no copy of the stack below it.
#[derive(Debug, Clone, Copy, Default)]
pub struct RequestSpans;

impl<S> Layer<S> for RequestSpans {
    type Service = RequestSpan<S>;

    fn layer(&self, inner: S) -> RequestSpan<S> {
        RequestSpan { inner }
    }
}

/// The service of [`RequestSpans`] around the routes it wraps.
#[derive(Debug, Clone)]
pub struct RequestSpan<S> {
    inner: S,
}

impl<S> Service<Request> for RequestSpan<S>
where
    S: Service<Request, Response = Response, Error = Infallible>,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request) -> Self::Future {
        let id = request_id(&req);
        let method = req.method().clone();
        let matched = req.extensions().get::<MatchedPath>().cloned();
        let route = matched.as_ref().map_or("(unmatched)", MatchedPath::as_str);
        // Requests that may change something run in an `info` span, so that every line they log
        // carries the request; reads (GET, HEAD, OPTIONS: most of the traffic, and they log
        // little) in a `debug` one, which costs nothing unless turned on.
        let span = if matches!(method, Method::GET | Method::HEAD | Method::OPTIONS) {
            tracing::debug_span!("request", method = %method, route = %route, request_id = %id)
        } else {
            tracing::info_span!("request", method = %method, route = %route, request_id = %id)
        };
        let started = Instant::now();
        let answer = span
            .in_scope(|| self.inner.call(req))
            .instrument(span.clone());
        Box::pin(async move {
            let mut resp = answer.await?;
            let status = resp.status().as_u16();
            let latency_ms = started.elapsed().as_secs_f64() * 1000.0;
            let route = matched.as_ref().map_or("(unmatched)", MatchedPath::as_str);
            // The closing line names the request itself, so that it reads whole even where the
            // span was off.
            if resp.status().is_server_error() {
                tracing::warn!(parent: &span, %method, %route, request_id = %id, status, latency_ms, "request answered");
            } else {
                tracing::debug!(parent: &span, %method, %route, request_id = %id, status, latency_ms, "request answered");
            }
            // A checked token or hex digits: a valid header value, handed over without a copy.
            if let Ok(v) = HeaderValue::from_maybe_shared(Bytes::from(id)) {
                resp.headers_mut().insert(REQUEST_ID, v);
            }
            Ok(resp)
        })
    }
}

/// The client's request id when it is fit to log and echo, else a new one.
fn request_id(req: &Request) -> String {
    match req.headers().get(REQUEST_ID).and_then(|v| v.to_str().ok()) {
        Some(v) if is_token(v) => v.to_owned(),
        _ => format!(
            "{:016x}{:016x}",
            *PROCESS,
            COUNT.fetch_add(1, Ordering::Relaxed)
        ),
    }
}

/// Whether a presented request id is safe to log and echo: short, letters, digits, `-_.`.
fn is_token(v: &str) -> bool {
    !v.is_empty()
        && v.len() <= REQUEST_ID_MAX
        && v.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

#[cfg(test)]
mod tests {
    use super::is_token;

    #[test]
    fn only_short_plain_ids_are_taken_from_the_client() {
        assert!(is_token("3f2a-req_1.b"));
        assert!(!is_token(""));
        assert!(!is_token("a b"));
        assert!(!is_token("line\nbreak"));
        assert!(!is_token(&"x".repeat(65)));
    }
}
