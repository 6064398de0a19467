//! Start-up you can test: [`Application::build`] opens the store, binds the listener (port 0 in
//! tests) and returns; [`Application::run_until_stopped`] serves HTTP and runs the outbox worker
//! until a shutdown signal, then finishes the email in hand.

use std::net::SocketAddr;
use std::sync::Arc;

use guidance_store::Store;
use guidance_store::sqlite::SqliteStore;
use tokio::net::TcpListener;
use tokio::sync::{Notify, watch};

use crate::config::{Config, ConfigError};
use crate::outbox::{self, MailDirMailer};
use crate::rate_limit::RateLimiter;
use crate::state::AppState;

/// An error that stops start-up.
pub type StartError = Box<dyn std::error::Error + Send + Sync>;

/// Opens the database named in the configuration and applies its migrations.
pub async fn open_store(config: &Config) -> Result<Arc<dyn Store>, StartError> {
    let url = config.database_url.trim();
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        return Err(Box::new(ConfigError(
            "PostgreSQL is not supported by this version yet; use a sqlite:// database URL".into(),
        )));
    }
    let store = SqliteStore::open_url(url)
        .await
        .map_err(|e| format!("cannot open the database {url}: {e}"))?;
    Ok(Arc::new(store))
}

/// A built, bound application.
pub struct Application {
    listener: TcpListener,
    state: AppState,
}

impl Application {
    /// Checks the configuration, opens the store and binds the listener.
    pub async fn build(config: Config) -> Result<Self, StartError> {
        let listener = TcpListener::bind(&config.listen)
            .await
            .map_err(|e| format!("cannot listen on {}: {e}", config.listen))?;
        let settings = config.check(Some(listener.local_addr()?))?;
        let secret = config.load_secret()?;
        let store = open_store(&config).await?;
        let state = AppState {
            store,
            limiter: Arc::new(RateLimiter::per_minute(config.booking_rate_limit)),
            login_throttle: Arc::new(crate::auth::LoginThrottle::default()),
            settings: Arc::new(settings),
            secret,
            outbox_wake: Arc::new(Notify::new()),
        };
        Ok(Self { listener, state })
    }

    /// The bound port.
    pub fn port(&self) -> u16 {
        self.listener
            .local_addr()
            .map(|a| a.port())
            .unwrap_or_default()
    }

    /// The shared state (for seeding and tests).
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until `shutdown` completes; then stops taking requests, lets those in flight
    /// finish, and lets the worker finish the email in hand.
    pub async fn run_until_stopped(
        self,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let (stop_tx, stop_rx) = watch::channel(false);
        let worker_state = self.state.clone();
        let mailer = MailDirMailer::new(self.state.settings.config.mail_dir.clone());
        let worker = tokio::spawn(async move {
            let tick_state = worker_state.clone();
            outbox::run(
                worker_state.store.clone(),
                mailer,
                worker_state.outbox_wake.clone(),
                stop_rx,
                move || {
                    let s = tick_state.clone();
                    async move {
                        match crate::service::expire_overdue(&s).await {
                            Ok(0) => {}
                            Ok(n) => tracing::info!(expired = n, "expired overdue bookings"),
                            Err(e) => {
                                tracing::error!(error = %e, "expiring overdue bookings failed")
                            }
                        }
                    }
                },
            )
            .await;
        });
        let router = crate::routes::router(self.state.clone());
        let served = axum::serve(
            self.listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(shutdown)
        .await;
        let _ = stop_tx.send(true);
        let _ = worker.await;
        served
    }
}
