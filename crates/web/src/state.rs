//! What every request handler shares: the application, and the per-process limits that belong
//! to HTTP (requests per client address, failed sign-ins).

use std::sync::Arc;

use guidance_app::App;

use crate::rate_limit::{LoginThrottle, RateLimiter};

/// Shared state of the handlers. Cloning it is one reference count: axum clones the state for
/// every extractor and middleware of every request, and cloning each part (the application's
/// keys, clients and caches) showed as a fifth of the CPU time of `GET /api/slots` under load.
#[derive(Clone)]
pub struct WebState(Arc<Shared>);

/// What [`WebState`] shares; its fields are read through the state (`state.app`).
pub struct Shared {
    /// The application: every use case goes through it.
    pub app: App,
    /// Limits booking and action requests per client address.
    pub limiter: RateLimiter,
    /// Slows down repeated failed owner logins per client address.
    pub login_throttle: LoginThrottle,
    /// The requests counted for `/metrics` (shared with the layer that counts them).
    pub requests: Arc<crate::metrics::RequestMetrics>,
}

impl std::ops::Deref for WebState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

impl WebState {
    /// The handlers' state over `app`, with the configured request limit.
    pub fn new(app: App) -> Self {
        let per_minute = app.settings.config.booking_rate_limit;
        Self(Arc::new(Shared {
            app,
            limiter: RateLimiter::per_minute(per_minute),
            login_throttle: LoginThrottle::default(),
            requests: Arc::new(crate::metrics::RequestMetrics::default()),
        }))
    }
}
