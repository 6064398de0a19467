//! Start-up you can test: [`Application::build`] opens the store, binds the listener (port 0 in
//! tests) and returns; [`Application::run_until_stopped`] serves HTTP and runs the outbox worker
//! until a shutdown signal, then finishes the email in hand.

use std::net::SocketAddr;
use std::sync::Arc;

use guidance_app::config::{Config, Settings};
use guidance_app::outbox::smtp::SmtpMailer;
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
async fn build_app(
    config: Config,
    bound: Option<SocketAddr>,
    clock: Clock,
) -> Result<App, StartError> {
    let settings = config.check(bound)?;
    let secret = config.load_secret()?;
    let store = open_store(&config).await?;
    Ok(App::new(store, settings, secret, clock))
}

/// Runs the outbox worker, which also expires overdue bookings, and the poller of the owner's
/// calendars, until `stop_rx` turns true.
fn spawn_worker(
    app: App,
    mailer: Delivery,
    stop_rx: watch::Receiver<bool>,
) -> tokio::task::JoinHandle<()> {
    let calendars = tokio::spawn(guidance_app::calendars::poll_loop(
        app.clone(),
        stop_rx.clone(),
    ));
    let outbox = tokio::spawn(outbox::run(app, mailer, stop_rx));
    tokio::spawn(async move {
        let _ = outbox.await;
        let _ = calendars.await;
    })
}

/// The outbox worker and the expiry of overdue bookings without HTTP (`guidance worker`): run
/// any number of them beside any number of servers on one PostgreSQL database; each email is
/// claimed by one worker at a time.
pub struct Worker {
    app: App,
    mailer: Delivery,
}

impl Worker {
    /// Checks the configuration and opens the store.
    pub async fn build(config: Config) -> Result<Self, StartError> {
        let app = build_app(config, None, Clock::system()).await?;
        let mailer = mailer(&app.settings)?;
        Ok(Self { app, mailer })
    }

    /// Works until `shutdown` completes, then finishes the email in hand.
    pub async fn run_until_stopped(self, shutdown: impl std::future::Future<Output = ()>) {
        let (stop_tx, stop_rx) = watch::channel(false);
        let worker = spawn_worker(self.app, self.mailer, stop_rx);
        shutdown.await;
        let _ = stop_tx.send(true);
        let _ = worker.await;
    }
}

/// A built, bound application.
pub struct Application {
    listener: TcpListener,
    app: App,
    mailer: Delivery,
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
        let mailer = mailer(&app.settings)?;
        Ok(Self {
            listener,
            app,
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
        let router = guidance_web::router(self.app);
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
