//! Start-up you can test: [`Application::build`] opens the store, binds the listener (port 0 in
//! tests) and returns; [`Application::run_until_stopped`] serves HTTP and runs the outbox worker
//! until a shutdown signal, then finishes the email in hand.

use std::net::SocketAddr;
use std::sync::Arc;

use guidance_store::Store;
use guidance_store::postgres::PostgresStore;
use guidance_store::sqlite::SqliteStore;
use tokio::net::TcpListener;
use tokio::sync::{Notify, watch};

use crate::auth::LoginThrottle;
use crate::config::{Config, Settings};
use crate::outbox::{self, Delivery, MailDirMailer};
use crate::rate_limit::RateLimiter;
use crate::smtp::SmtpMailer;
use crate::state::AppState;

/// An error that stops start-up.
pub type StartError = Box<dyn std::error::Error + Send + Sync>;

/// Whether a database URL names PostgreSQL (a plain server or Supabase).
pub fn is_postgres_url(url: &str) -> bool {
    let url = url.trim();
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

/// Opens the database named in the configuration. SQLite applies its migrations here;
/// PostgreSQL, shared by many processes, is migrated by `guidance migrate` alone.
pub async fn open_store(config: &Config) -> Result<Arc<dyn Store>, StartError> {
    let url = config.database_url.trim();
    if is_postgres_url(url) {
        let store = PostgresStore::connect(url)
            .await
            .map_err(|e| format!("cannot open the PostgreSQL database: {e}"))?;
        return Ok(Arc::new(store));
    }
    let store = SqliteStore::open_url(url)
        .await
        .map_err(|e| format!("cannot open the database {url}: {e}"))?;
    Ok(Arc::new(store))
}

/// Applies the migrations of the configured database: `crates/store/migrations/sqlite/` or
/// `supabase/migrations/`.
pub async fn migrate(config: &Config) -> Result<(), StartError> {
    let url = config.database_url.trim();
    if is_postgres_url(url) {
        let store = PostgresStore::migrate(url)
            .await
            .map_err(|e| format!("cannot migrate the PostgreSQL database: {e}"))?;
        store.close().await;
        return Ok(());
    }
    open_store(config).await.map(|_| ())
}

/// The mailer the configuration asks for: SMTP when a server is set, else the mail directory.
/// Must be called inside the Tokio runtime (the SMTP connection pool runs a task there).
pub fn mailer(settings: &Settings) -> std::io::Result<Delivery> {
    match &settings.smtp {
        None => Ok(Delivery::Dir(MailDirMailer::new(
            settings.config.mail_dir.clone(),
        ))),
        Some(url) => {
            let hello = url::Url::parse(&settings.public_url)
                .ok()
                .and_then(|u| u.host_str().map(str::to_owned))
                .unwrap_or_default();
            SmtpMailer::new(
                url,
                settings.smtp_ca.as_ref(),
                &settings.config.mail_from,
                &hello,
            )
            .map(Delivery::Smtp)
            .map_err(std::io::Error::other)
        }
    }
}

/// Checks the configuration and opens the store: what the server and the worker share.
async fn build_state(config: Config, bound: Option<SocketAddr>) -> Result<AppState, StartError> {
    let settings = config.check(bound)?;
    let secret = config.load_secret()?;
    let store = open_store(&config).await?;
    Ok(AppState {
        store,
        limiter: Arc::new(RateLimiter::per_minute(config.booking_rate_limit)),
        login_throttle: Arc::new(LoginThrottle::default()),
        slots_cache: Arc::default(),
        settings_kept: Arc::default(),
        questions_kept: Arc::default(),
        settings: Arc::new(settings),
        secret,
        outbox_wake: Arc::new(Notify::new()),
    })
}

/// Runs the outbox worker, which also expires overdue bookings, until `stop_rx` turns true.
fn spawn_worker(
    state: AppState,
    mailer: Delivery,
    stop_rx: watch::Receiver<bool>,
) -> tokio::task::JoinHandle<()> {
    let policy = state.settings.retry;
    tokio::spawn(async move {
        let tick_state = state.clone();
        outbox::run(
            state.store.clone(),
            mailer,
            policy,
            state.outbox_wake.clone(),
            stop_rx,
            move || {
                let s = tick_state.clone();
                async move {
                    match crate::service::expire_overdue(&s).await {
                        Ok(0) => {}
                        Ok(n) => {
                            // An expired hold may free a slot.
                            s.slots_cache.invalidate();
                            tracing::info!(expired = n, "expired overdue bookings")
                        }
                        Err(e) => {
                            tracing::error!(error = %e, "expiring overdue bookings failed")
                        }
                    }
                }
            },
        )
        .await;
    })
}

/// The outbox worker and the expiry of overdue bookings without HTTP (`guidance worker`): run
/// any number of them beside any number of servers on one PostgreSQL database; each email is
/// claimed by one worker at a time.
pub struct Worker {
    state: AppState,
    mailer: Delivery,
}

impl Worker {
    /// Checks the configuration and opens the store.
    pub async fn build(config: Config) -> Result<Self, StartError> {
        let state = build_state(config, None).await?;
        let mailer = mailer(&state.settings)?;
        Ok(Self { state, mailer })
    }

    /// Works until `shutdown` completes, then finishes the email in hand.
    pub async fn run_until_stopped(self, shutdown: impl std::future::Future<Output = ()>) {
        let (stop_tx, stop_rx) = watch::channel(false);
        let worker = spawn_worker(self.state, self.mailer, stop_rx);
        shutdown.await;
        let _ = stop_tx.send(true);
        let _ = worker.await;
    }
}

/// A built, bound application.
pub struct Application {
    listener: TcpListener,
    state: AppState,
    mailer: Delivery,
}

impl Application {
    /// Checks the configuration, opens the store and binds the listener.
    pub async fn build(config: Config) -> Result<Self, StartError> {
        let listener = TcpListener::bind(&config.listen)
            .await
            .map_err(|e| format!("cannot listen on {}: {e}", config.listen))?;
        let state = build_state(config, Some(listener.local_addr()?)).await?;
        let mailer = mailer(&state.settings)?;
        Ok(Self {
            listener,
            state,
            mailer,
        })
    }

    /// The bound port.
    pub fn port(&self) -> u16 {
        self.listener
            .local_addr()
            .map(|a| a.port())
            .unwrap_or_default()
    }

    /// The bound address.
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
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
        let worker = spawn_worker(self.state.clone(), self.mailer, stop_rx);
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
