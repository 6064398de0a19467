//! The HTTP surface (DESIGN §3): public JSON API, owner API, pages.

pub mod admin;
pub mod admin_ui;
pub mod api;
pub mod bodies;
pub mod embed;
pub mod openapi;
pub mod pages;
pub mod recorder;
pub mod visitor;

use std::net::SocketAddr;

use axum::Router;
use axum::body::Bytes;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::IntoResponse;
use axum::routing::get;
use serde::de::DeserializeOwned;

use crate::error::ServiceError;
use crate::state::AppState;

/// Largest request body accepted anywhere.
pub const BODY_LIMIT: usize = 64 * 1024;

/// All routes.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .merge(api::routes())
        .merge(admin::routes(state.clone()))
        .merge(admin_ui::routes(state.clone()))
        .merge(pages::routes())
        .merge(visitor::routes())
        .merge(embed::routes())
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            embed::cors,
        ))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(axum::middleware::from_fn(remember_language))
        .layer(axum::middleware::map_response(security_headers))
        .with_state(state)
}

/// A page asked for with `?lang=` keeps that language for the visitor's next pages: the choice
/// goes into a cookie, which comes after `?lang=` and before `Accept-Language`.
async fn remember_language(
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let chosen = req.uri().query().and_then(|q| {
        q.split('&')
            .find_map(|pair| pair.strip_prefix("lang="))
            .map(guidance_core::i18n::resolve)
    });
    let mut resp = next.run(req).await;
    let is_page = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    if let (Some(lang), true) = (chosen, is_page) {
        let cookie = format!("guidance_lang={lang}; Path=/; Max-Age=31536000; SameSite=Lax");
        if let Ok(v) = HeaderValue::from_str(&cookie) {
            resp.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    resp
}

async fn healthz(axum::extract::State(state): axum::extract::State<AppState>) -> impl IntoResponse {
    // Answer 200 only when the database answers too.
    match state.store.next_email_due().await {
        Ok(_) => (
            axum::http::StatusCode::OK,
            axum::Json(serde_json::json!({"status": "ok"})),
        ),
        Err(_) => (
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            axum::Json(serde_json::json!({"status": "database_unavailable"})),
        ),
    }
}

async fn security_headers(mut resp: axum::response::Response) -> axum::response::Response {
    let h = resp.headers_mut();
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    // A page with its own policy (the example host page) keeps it.
    h.entry(header::CONTENT_SECURITY_POLICY)
        .or_insert(HeaderValue::from_static(
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ));
    resp
}

/// Parses a JSON body, answering a JSON 400 (not axum's plain text) when it is not JSON.
pub fn parse_json<T: DeserializeOwned>(body: &Bytes) -> Result<T, ServiceError> {
    serde_json::from_slice(body)
        .map_err(|e| ServiceError::BadRequest(format!("the body is not valid JSON: {e}")))
}

/// Parses a body that must be a JSON object (every JSON endpoint here takes one).
pub fn parse_json_object(
    body: &Bytes,
) -> Result<serde_json::Map<String, serde_json::Value>, ServiceError> {
    match parse_json(body)? {
        serde_json::Value::Object(obj) => Ok(obj),
        _ => Err(ServiceError::BadRequest(
            "the body must be a JSON object".into(),
        )),
    }
}

/// The client's address, for rate limiting.
pub fn client_ip(addr: &SocketAddr) -> std::net::IpAddr {
    addr.ip()
}

/// The language of a JSON API request (`Accept-Language`).
pub fn api_language(headers: &HeaderMap) -> crate::i18n::Tr {
    crate::i18n::page_language(None, headers)
}
