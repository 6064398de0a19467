//! Guidance's HTTP layer: routers, extractors, middleware, the JSON and page handlers, templates
//! and static files. Handlers read a request, call one use case of [`guidance_app`] and answer;
//! no rule of the service is decided here. See `ARCHITECTURE.md` at the repository root.

pub mod client;
pub mod error;
pub mod extract;
pub mod i18n;
pub mod metrics;
pub mod rate_limit;
pub mod routes;
pub mod session;
pub mod state;
pub mod trace;

pub use state::WebState;

/// Largest request body accepted anywhere.
pub const BODY_LIMIT: usize = 64 * 1024;

/// Answers smaller than this are sent as they are: compressing them saves a few bytes at most
/// and costs every request some CPU time.
pub const COMPRESS_ABOVE: u16 = 1024;

/// The whole HTTP service over `app`, each request in its own span (see [`trace`]), every answer
/// of some size compressed (gzip or brotli) when the client accepts it.
pub fn router(app: guidance_app::App) -> axum::Router {
    routers(app).0
}

/// The whole HTTP service over `app`, each request in its own span (see [`trace`]) and counted
/// (see [`metrics`]), every answer of some size compressed (gzip or brotli) when the client
/// accepts it; and beside it the router of the separate metrics address
/// (`GUIDANCE_METRICS_LISTEN`), which reads the same counters.
pub fn routers(app: guidance_app::App) -> (axum::Router, axum::Router) {
    use tower_http::compression::predicate::{NotForContentType, Predicate, SizeAbove};
    // Brotli 5 instead of tower-http's 4: a tenth smaller pages and JSON for about the same time.
    let compression = tower_http::compression::CompressionLayer::new()
        .quality(tower_http::compression::CompressionLevel::Precise(5))
        .compress_when(SizeAbove::new(COMPRESS_ABOVE).and(NotForContentType::IMAGES));
    let state = WebState::new(app);
    let main = routes::router(state.clone())
        .layer(compression)
        .layer(trace::RequestSpans)
        .layer(metrics::CountRequests(state.requests.clone()));
    (main, routes::ops::metrics_router(state))
}
