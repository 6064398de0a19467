//! Start-up you can test: [`Application::build`] opens the store, binds the listener (port 0 in
//! tests) and returns; [`Application::run_until_stopped`] serves HTTP and runs the outbox worker
//! until a shutdown signal, then finishes the email in hand.

use std::net::SocketAddr;
use std::sync::Arc;

use guidance_app::config::{Config, Settings};
use guidance_app::outbox::relay::SmtpMailer;
use guidance_app::outbox::{self, Delivery, MailDirMailer};
use guidance_app::{App, Clock};
use guidance_store::Store;
use guidance_store::postgres::PostgresStore;
use guidance_store::sqlite::SqliteStore;
use tokio::net::TcpListener;
use tokio::sync::watch;

/// An error that stops start-up.
pub type StartError = Box<dyn std::error::Error + Send + Sync>;

/// Whether a database URL names PostgreSQL (a plain server or Supabase).
pub fn is_postgres_url(url: &str) -> bool {
    guidance_app::config::is_postgres_url(url)
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
            let hello = guidance_app::outbox::smtp::hello_name(&settings.public_url);
            SmtpMailer::new(
                url,
                settings.smtp_ca.as_ref(),
                &settings.config.mail_from,
                &hello,
                settings.config.smtp_connections,
            )
            .map(Delivery::Smtp)
            .map_err(std::io::Error::other)
        }
    }
}

/// Checks the configuration and opens the store: what the server and the worker share.
async fn build_app(
    config: Config,
    bound: Option<SocketAddr>,
    clock: Clock,
) -> Result<App, StartError> {
    let settings = config.check(bound)?;
    let secret = config.load_secret()?;
    let store = open_store(&config).await?;
    if let Some(mode) = guidance_app::private_files::loose_mode(&config.data_dir) {
        tracing::warn!(
            dir = %config.data_dir.display(),
            mode = format!("{mode:o}"),
            "the data directory is open to other users; `chmod 700` it (it holds the secret and visitors' data)"
        );
    }
    let app = App::new(store, settings, secret, clock);
    outbox::seal_stored(&app)
        .await
        .map_err(|e| format!("cannot seal the stored emails: {e}"))?;
    Ok(app)
}

/// Warns about a site on https whose proxy is not trusted: every visitor would count as the
/// proxy's address, and no answer would carry `Strict-Transport-Security`.
fn warn_about_the_edge(settings: &Settings) {
    if settings.https() && settings.trusted_proxies.is_empty() {
        tracing::warn!(
            "GUIDANCE_PUBLIC_URL is https but GUIDANCE_TRUSTED_PROXIES is unset: all visitors \
             share the proxy's limits and HSTS is not sent (README, \"Deployment\")"
        );
    }
}

/// Runs the outbox worker, which also expires overdue bookings, the poller of the owner's
/// calendars, and the reader of calendar replies when a mailbox is configured, until `stop_rx`
/// turns true.
fn spawn_worker(
    app: App,
    mailer: Delivery,
    stop_rx: watch::Receiver<bool>,
) -> tokio::task::JoinHandle<()> {
    // The reply reader runs beside the outbox worker when a mailbox is configured.
    let replies = app.settings.inbox.clone().and_then(|inbox| {
        match guidance_app::replies::DkimVerifier::system() {
            Ok(verifier) => Some(tokio::spawn(guidance_app::replies::worker::run(
                app.clone(),
                inbox,
                verifier,
                stop_rx.clone(),
            ))),
            Err(e) => {
                tracing::error!(error = %e, "calendar replies will not be read");
                None
            }
        }
    });
    let calendars = tokio::spawn(guidance_app::calendars::poll_loop(
        app.clone(),
        stop_rx.clone(),
    ));
    let outbox = tokio::spawn(outbox::run(app, mailer, stop_rx));
    tokio::spawn(async move {
        let _ = outbox.await;
        let _ = calendars.await;
        if let Some(replies) = replies {
            let _ = replies.await;
        }
    })
}

/// Binds the separate metrics address, when one is configured (`GUIDANCE_METRICS_LISTEN`).
async fn bind_metrics(settings: &Settings) -> Result<Option<TcpListener>, StartError> {
    let Some(addr) = &settings.metrics_listen else {
        return Ok(None);
    };
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|e| format!("cannot listen on {addr} for metrics: {e}"))?;
    Ok(Some(listener))
}

/// Serves `/metrics` on its own address until the task is aborted.
fn spawn_metrics(listener: TcpListener, router: axum::Router) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, router).await {
            tracing::error!(error = %e, "the metrics address stopped serving");
        }
    })
}

/// The outbox worker and the expiry of overdue bookings without HTTP (`guidance worker`): run
/// any number of them beside any number of servers on one PostgreSQL database; each email is
/// claimed by one worker at a time.
pub struct Worker {
    app: App,
    mailer: Delivery,
    metrics: Option<TcpListener>,
}

impl Worker {
    /// Checks the configuration and opens the store.
    pub async fn build(config: Config) -> Result<Self, StartError> {
        let app = build_app(config, None, Clock::system()).await?;
        let mailer = mailer(&app.settings)?;
        let metrics = bind_metrics(&app.settings).await?;
        Ok(Self {
            app,
            mailer,
            metrics,
        })
    }

    /// The separate metrics address, when one is configured.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics.as_ref().and_then(|l| l.local_addr().ok())
    }

    /// Works until `shutdown` completes, then finishes the email in hand.
    pub async fn run_until_stopped(self, shutdown: impl std::future::Future<Output = ()>) {
        let (stop_tx, stop_rx) = watch::channel(false);
        let metrics = self
            .metrics
            .map(|l| spawn_metrics(l, guidance_web::routers(self.app.clone()).1));
        let worker = spawn_worker(self.app, self.mailer, stop_rx);
        shutdown.await;
        if let Some(m) = metrics {
            m.abort();
        }
        let _ = stop_tx.send(true);
        let _ = worker.await;
    }
}

/// A built, bound application.
pub struct Application {
    listener: TcpListener,
    app: App,
    mailer: Delivery,
    metrics: Option<TcpListener>,
}

impl Application {
    /// Checks the configuration, opens the store and binds the listener.
    pub async fn build(config: Config) -> Result<Self, StartError> {
        Self::build_with_clock(config, Clock::system()).await
    }

    /// As [`Application::build`], telling the time by `clock` (tests pass a test clock and move
    /// it).
    pub async fn build_with_clock(config: Config, clock: Clock) -> Result<Self, StartError> {
        let listener = TcpListener::bind(&config.listen)
            .await
            .map_err(|e| format!("cannot listen on {}: {e}", config.listen))?;
        let app = build_app(config, Some(listener.local_addr()?), clock).await?;
        warn_about_the_edge(&app.settings);
        let mailer = mailer(&app.settings)?;
        let metrics = bind_metrics(&app.settings).await?;
        Ok(Self {
            listener,
            app,
            mailer,
            metrics,
        })
    }

    /// The separate metrics address, when one is configured.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics.as_ref().and_then(|l| l.local_addr().ok())
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

    /// The application (for seeding and tests).
    pub fn app(&self) -> &App {
        &self.app
    }

    /// Serves until `shutdown` completes; then stops taking requests, lets those in flight
    /// finish, and lets the worker finish the email in hand.
    pub async fn run_until_stopped(
        self,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let (stop_tx, stop_rx) = watch::channel(false);
        let worker = spawn_worker(self.app.clone(), self.mailer, stop_rx);
        let limits = crate::server::Limits::from_config(&self.app.settings.config.edge);
        let (router, metrics_router) = guidance_web::routers(self.app);
        let metrics = self.metrics.map(|l| spawn_metrics(l, metrics_router));
        let served = crate::server::serve(self.listener, router, limits, shutdown).await;
        if let Some(m) = metrics {
            m.abort();
        }
        let _ = stop_tx.send(true);
        let _ = worker.await;
        served
    }
}
