//! The operator's routes: `GET /readyz` (may this instance take traffic?) and `GET /metrics`
//! (Prometheus text). `/healthz` stays the cheap liveness answer in [`super`].
//!
//! `/metrics` is off unless configured: on the main address only with
//! `GUIDANCE_METRICS_TOKEN` (as a bearer token, compared in constant time); with
//! `GUIDANCE_METRICS_LISTEN` only on that address ([`metrics_router`]), asking for the token
//! there too when one is set. Elsewhere it answers `404` as if it did not exist.

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use guidance_app::AppError;
use subtle::ConstantTimeEq;

use super::pages::error_page;
use super::recorder::Recorder;
use crate::i18n::page_language;
use crate::state::WebState;

/// Registers `/readyz` and `/metrics`.
pub fn register(r: Recorder) -> Recorder {
    r.get("/readyz", readyz)
        .get("/metrics", metrics_on_main_port)
}

/// Every route of this module as registered.
pub fn route_table() -> Vec<super::recorder::RecordedRoute> {
    register(Recorder::new()).table()
}

/// `200 {"status":"ready"}`, or `503` with the reason: the database does not answer, lacks
/// migrations, or an email has been due for long with no worker sending it.
async fn readyz(State(state): State<WebState>) -> Response {
    let readiness = guidance_app::ops::readiness(&state.app).await;
    let status = if readiness.is_ready() {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let mut resp = (status, axum::Json(readiness)).into_response();
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

/// `/metrics` on the main address: only with a token, and only when no separate address
/// serves them.
async fn metrics_on_main_port(State(state): State<WebState>, headers: HeaderMap) -> Response {
    if !state.app.settings.metrics_on_main_port() {
        return error_page(&page_language(None, &headers), AppError::NotFound);
    }
    metrics(state, &headers).await
}

/// The page, when the token (if one is configured) is presented.
async fn metrics(state: WebState, headers: &HeaderMap) -> Response {
    if let Some(expected) = &state.app.settings.metrics_token {
        let presented = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .unwrap_or_default();
        if !bool::from(expected.as_bytes().ct_eq(presented.as_bytes())) {
            let mut resp = error_page(&page_language(None, headers), AppError::Unauthorized);
            resp.headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            return resp;
        }
    }
    let mut page = guidance_app::ops::metrics(&state.app).await;
    state.requests.render(&mut page);
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static(guidance_app::exposition::CONTENT_TYPE),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ],
        page.into_string(),
    )
        .into_response()
}

/// The router of the separate metrics address (`GUIDANCE_METRICS_LISTEN`): `/metrics` only.
pub fn metrics_router(state: WebState) -> Router {
    Router::new()
        .route(
            "/metrics",
            get(
                |State(state): State<WebState>, headers: HeaderMap| async move {
                    metrics(state, &headers).await
                },
            ),
        )
        .with_state(state)
}
