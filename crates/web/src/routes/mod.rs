//! The HTTP surface (DESIGN §3): public JSON API, owner API, pages.

pub mod admin;
mod admin_calendars;
mod admin_privacy;
pub mod admin_ui;
mod admin_webhooks;
pub mod api;
pub mod assets;
pub mod bodies;
pub mod embed;
pub mod feed;
pub mod links;
pub mod openapi;
pub mod ops;
pub mod pages;
pub mod proposed;
pub mod readable;
pub mod recorder;
pub mod slot_days;
pub mod visitor;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::IntoResponse;
use axum::routing::get;

use crate::state::WebState;
use recorder::Recorder;

/// Every route of [`router`] as registered, for tests that must cover each one.
pub fn route_table() -> Vec<recorder::RecordedRoute> {
    let mut all = vec![recorder::RecordedRoute {
        method: axum::http::Method::GET,
        path: "/healthz",
    }];
    all.extend(ops::route_table());
    all.extend(public_route_table());
    all.extend(admin::route_table());
    all.extend(admin_ui::open_route_table());
    all.extend(admin_ui::route_table());
    all.extend(pages::route_table());
    all.extend(links::route_table());
    all.extend(visitor::route_table());
    all.extend(proposed::route_table());
    all.extend(embed::route_table());
    all.extend(assets::route_table());
    all.extend(feed::route_table());
    all
}

/// The public API: its own routes, the intake form the element reads, and the OpenAPI
/// document that describes it and the owner API.
fn public(r: Recorder) -> Recorder {
    api::register(r)
        .get("/api/intake", embed::intake)
        .get("/api/openapi.json", openapi::serve)
}

/// Every public API route as registered (method and path).
pub fn public_route_table() -> Vec<recorder::RecordedRoute> {
    public(Recorder::new()).table()
}

/// All routes.
pub fn router(state: WebState) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .merge(ops::register(Recorder::new()).into_router())
        .merge(public(Recorder::new()).into_router())
        .merge(admin::routes(state.clone()))
        .merge(admin_ui::routes(state.clone()))
        .merge(pages::routes())
        .merge(links::routes())
        .merge(visitor::routes())
        .merge(proposed::routes())
        .merge(embed::routes())
        .merge(assets::routes())
        .merge(feed::routes())
        .layer(axum::middleware::from_fn(readable::refuse_unreadable))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            embed::cors,
        ))
        .layer(DefaultBodyLimit::max(crate::BODY_LIMIT))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            forget_slots_after_changes,
        ))
        .layer(axum::middleware::from_fn(remember_language))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            security_headers,
        ))
        .with_state(state)
}

/// Any request that may change something (every method but GET, HEAD and OPTIONS, which never
/// change state here) drops the kept slot lists once it is done, so this process's next
/// `GET /api/slots` reads the database again.
async fn forget_slots_after_changes(
    axum::extract::State(state): axum::extract::State<WebState>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::http::Method;
    let changes = !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    let resp = next.run(req).await;
    if changes {
        state.app.slot_lists.invalidate();
    }
    resp
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

async fn healthz(axum::extract::State(state): axum::extract::State<WebState>) -> impl IntoResponse {
    // Answer 200 only when the database answers too.
    match state.app.store.next_email_due(state.app.now()).await {
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

/// `Strict-Transport-Security` when the public URL is https: a year, this host only (the owner's
/// other hosts are theirs to decide).
const HSTS: &str = "max-age=31536000";

/// The policy of every response: scripts and styles from this origin only, and no framing.
const POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// The policy of the public booking page, which the owner's own site may frame as a fallback
/// for the embedded element: the same, but framing allowed to this origin and the
/// `GUIDANCE_EMBED_ORIGINS`.
fn frameable_policy(embed_origins: &[String]) -> String {
    let mut ancestors = String::from("'self'");
    for origin in embed_origins {
        ancestors.push(' ');
        ancestors.push_str(origin);
    }
    POLICY.replace(
        "frame-ancestors 'none'",
        &format!("frame-ancestors {ancestors}"),
    )
}

/// Whether a path shows a secret link's page or private data: the email links, the visitor's
/// own pages, the admin UI.
fn is_private(path: &str) -> bool {
    path.starts_with("/a/")
        || path.starts_with("/my/")
        || path == "/admin"
        || path.starts_with("/admin/")
}

async fn security_headers(
    axum::extract::State(state): axum::extract::State<WebState>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let path = req.uri().path().to_owned();
    let hsts = state.app.settings.https()
        && crate::client::peer_of(req.extensions()).is_some_and(|peer| {
            crate::client::Client::of(&state.app.settings, peer, req.headers()).https()
        });
    let mut resp = next.run(req).await;
    let h = resp.headers_mut();
    if hsts {
        // Browsers keep to https for this host from now on. Sent only on answers that went out
        // over https, as browsers ignore it otherwise (RFC 6797).
        h.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static(HSTS),
        );
    }
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    // Links carry secrets in their path: no page passes its address on to another site.
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    if is_private(&path) {
        // Never kept in a shared or back-button cache.
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    if !h.contains_key(header::CONTENT_SECURITY_POLICY) {
        // A page with its own policy (the example host page) keeps it.
        let policy = if path == "/book" {
            HeaderValue::from_str(&frameable_policy(&state.app.settings.embed_origins))
                .unwrap_or(HeaderValue::from_static(POLICY))
        } else {
            HeaderValue::from_static(POLICY)
        };
        h.insert(header::CONTENT_SECURITY_POLICY, policy);
    }
    // Older browsers read framing rules from this header only.
    let unframeable = h
        .get(header::CONTENT_SECURITY_POLICY)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("frame-ancestors 'none'"));
    if unframeable {
        h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    }
    resp
}

/// The language of a JSON API request (`Accept-Language`).
pub fn api_language(headers: &HeaderMap) -> crate::i18n::Tr {
    crate::i18n::page_language(None, headers)
}
