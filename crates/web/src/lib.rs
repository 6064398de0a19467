//! Guidance's HTTP layer: routers, extractors, middleware, the JSON and page handlers, templates
//! and static files. Handlers read a request, call one use case of [`guidance_app`] and answer;
//! no rule of the service is decided here. See `ARCHITECTURE.md` at the repository root.

pub mod client;
pub mod error;
pub mod extract;
pub mod i18n;
pub mod rate_limit;
pub mod routes;
pub mod session;
pub mod state;
pub mod trace;

pub use state::WebState;

/// Largest request body accepted anywhere.
pub const BODY_LIMIT: usize = 64 * 1024;

/// The whole HTTP service over `app`, each request in its own span (see [`trace`]).
pub fn router(app: guidance_app::App) -> axum::Router {
    routes::router(WebState::new(app)).layer(trace::RequestSpans)
}
