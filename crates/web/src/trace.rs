//! A span per request: method, matched route, a request id, and once answered its status and
//! latency. Every log line written while the request is served carries them, so that one
//! request's lines can be found together. The id is the client's (or the proxy's)
//! `X-Request-Id` when it is a short token, else a fresh one, and is echoed in the answer.
//!
//! The closing line of each request ("request answered") is logged at `debug` level (turn it on
//! with `RUST_LOG=info,guidance_web=debug`), except for server errors, which are `warn`: an
//! access log at `info` would cost every request a write.

use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;
use tracing::Instrument;
use tracing::field::Empty;

/// The header that carries the request id.
pub const REQUEST_ID: &str = "x-request-id";

/// The longest request id taken from a client.
const REQUEST_ID_MAX: usize = 64;

/// Serves a request inside its span and sets `X-Request-Id` on the answer.
pub async fn requests(req: Request, next: Next) -> Response {
    let id = req
        .headers()
        .get(REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| is_token(v))
        .map_or_else(|| uuid::Uuid::new_v4().simple().to_string(), str::to_owned);
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or("(unmatched)", MatchedPath::as_str)
        .to_owned();
    let span = tracing::info_span!(
        "request",
        method = %req.method(),
        route = %route,
        request_id = %id,
        status = Empty,
        latency_ms = Empty,
    );
    let started = Instant::now();
    let mut resp = next.run(req).instrument(span.clone()).await;
    let status = resp.status();
    span.record("status", status.as_u16());
    span.record("latency_ms", started.elapsed().as_secs_f64() * 1000.0);
    span.in_scope(|| {
        if status.is_server_error() {
            tracing::warn!("request answered");
        } else {
            tracing::debug!("request answered");
        }
    });
    if let Ok(v) = HeaderValue::from_str(&id) {
        resp.headers_mut().insert(REQUEST_ID, v);
    }
    resp
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
