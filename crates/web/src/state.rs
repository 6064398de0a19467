//! What every request handler shares: the application, and the per-process limits that belong
//! to HTTP (requests per client address, failed sign-ins).

use std::sync::Arc;

use guidance_app::App;

use crate::rate_limit::{LoginThrottle, RateLimiter};

/// Shared state of the handlers; cheap to clone.
#[derive(Clone)]
pub struct WebState {
    /// The application: every use case goes through it.
    pub app: App,
    /// Limits booking and action requests per client address.
    pub limiter: Arc<RateLimiter>,
    /// Slows down repeated failed owner logins per client address.
    pub login_throttle: Arc<LoginThrottle>,
    /// The requests counted for `/metrics`.
    pub requests: Arc<crate::metrics::RequestMetrics>,
}

impl WebState {
    /// The handlers' state over `app`, with the configured request limit.
    pub fn new(app: App) -> Self {
        let per_minute = app.settings.config.booking_rate_limit;
        Self {
            app,
            limiter: Arc::new(RateLimiter::per_minute(per_minute)),
            login_throttle: Arc::new(LoginThrottle::default()),
            requests: Arc::new(crate::metrics::RequestMetrics::default()),
        }
    }
}
