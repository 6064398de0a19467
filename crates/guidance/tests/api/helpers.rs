//! `spawn_app()`: the real application, in process, on a fresh database and a test clock. What a
//! test does with it (the HTTP API, the emails, time in whole hours) is `guidance_testkit`'s, as
//! the tests of the real binary do the same.

use std::ops::Deref;
use std::path::Path;

use guidance::startup::Application;
use guidance_app::config::Config;
use guidance_testkit::api::{ADMIN_TOKEN, Api};
use guidance_testkit::binary;
use guidance_testkit::mail::MailDir;
use guidance_testkit::pg::TestDatabase;
use jiff::Timestamp;
use serde_json::json;

/// A running application and what a test needs to talk to it. Its HTTP API ([`Api`]: `base`,
/// `client`, `create_slot`, `book`, …) is reached through it directly.
pub struct TestApp {
    /// The API of the app's HTTP server.
    pub api: Api,
    /// The mail directory the app delivers into.
    pub mail: MailDir,
    /// Its database file and folders (a PostgreSQL app keeps only its folders here).
    pub dir: tempfile::TempDir,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    handle: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
    /// The PostgreSQL database of an app spawned on PostgreSQL (dropped after the app).
    pub db: Option<TestDatabase>,
    /// The app's clock: a test clock, which tests move to make time pass.
    pub clock: guidance_app::Clock,
    /// The application behind the HTTP server, for running its background work on demand.
    pub app: guidance_app::App,
}

/// The configuration tests start from: everything in a fresh temporary folder.
pub fn test_config(dir: &Path) -> Config {
    Config {
        database_url: format!("sqlite://{}", dir.join("guidance.db").display()),
        listen: "127.0.0.1:0".into(),
        public_url: None,
        smtp_url: None,
        smtp_ca_file: None,
        smtp_connections: 4,
        mail_retry_base_ms: 30_000,
        mail_max_attempts: 8,
        mail_shutdown_grace_ms: 10_000,
        mail_lease_secs: 300,
        mail_dir: dir.join("mail"),
        mail_from: "bookings@example.org".into(),
        owner_email: "owner@example.org".into(),
        owner_name: "Olga Owner".into(),
        time_zone: "Europe/Berlin".into(),
        owner_language: "en".into(),
        admin_token: Some(ADMIN_TOKEN.into()),
        secret: None,
        data_dir: dir.join("data"),
        booking_rate_limit: 10_000,
        booking_horizon_days: 60,
        // Tests book many sessions from one address; the tests of the limit set it.
        max_pending_per_email: 0,
        confirm_hold_minutes: 30,
        embed_origins: None,
        edge: Default::default(),
        metrics_token: None,
        metrics_listen: None,
        meeting: Default::default(),
        imap_url: None,
        imap_ca_file: None,
        imap_trusted_authserv: None,
        imap_poll_secs: 60,
        calendar_poll_minutes: 5,
        calendar_grace_minutes: 30,
        calendar_allow_private: true,
        webhook_allow_private: true,
    }
}

/// The real `guidance` binary serving (`guidance serve`) on [`test_config`]'s database and
/// folders in `dir`, with `RUST_LOG=<rust_log>`, its log in `dir/<log>`.
pub fn serve_binary(dir: &Path, rust_log: &str, log: &str) -> binary::Server {
    let config = test_config(dir);
    let mut cmd = binary::command(
        env!("CARGO_BIN_EXE_guidance"),
        &["serve"],
        &config.database_url,
        &config.mail_dir,
        &config.data_dir,
    );
    cmd.current_dir(dir).env("RUST_LOG", rust_log);
    binary::serve(cmd, dir.join(log))
}

/// The application on a fresh SQLite database.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// The application on a fresh PostgreSQL database (Supabase's roles emulated, migrated by
/// `guidance migrate`'s code), instead of SQLite.
pub async fn spawn_app_on_postgres() -> TestApp {
    spawn_app_on_postgres_with(|_| {}).await
}

/// [`spawn_app_on_postgres`] with the configuration adjusted.
pub async fn spawn_app_on_postgres_with(adjust: impl FnOnce(&mut Config)) -> TestApp {
    let db = TestDatabase::create().await;
    let url = db.url.clone();
    let mut app = spawn_app_with(|c| {
        c.database_url = url;
        adjust(c);
    })
    .await;
    app.db = Some(db);
    app
}

/// The application on a fresh SQLite database, its configuration adjusted.
pub async fn spawn_app_with(adjust: impl FnOnce(&mut Config)) -> TestApp {
    spawn_app_in(tempfile::tempdir().expect("tempdir"), adjust).await
}

/// Starts the app on the database and folders in `dir` (for a restart after [`TestApp::stop`]).
pub async fn spawn_app_in(dir: tempfile::TempDir, adjust: impl FnOnce(&mut Config)) -> TestApp {
    let mut config = test_config(dir.path());
    adjust(&mut config);
    if guidance::startup::is_postgres_url(&config.database_url) {
        guidance::startup::migrate(&config)
            .await
            .expect("migrate PostgreSQL");
    }
    // A test clock: tests that need time to pass move it instead of editing rows.
    let clock = guidance_app::Clock::test();
    let config_mail_dir = config.mail_dir.clone();
    let app = Application::build_with_clock(config, clock.clone())
        .await
        .expect("the app builds");
    // Answers must match the owner's questions; `guidance_testkit::api::intake` answers this one.
    let company = guidance_core::Question::parse_list(&json!([
        {"key": "company", "label": "Company", "kind": "short_text"}
    ]))
    .expect("a valid question");
    app.app()
        .store
        .replace_questions(&company, Timestamp::now())
        .await
        .expect("questions saved");
    let api = Api::new(format!("http://127.0.0.1:{}", app.port()));
    let mail = MailDir::new(&config_mail_dir);
    let inner = app.app().clone();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let handle = tokio::spawn(app.run_until_stopped(async move {
        let _ = stopped.await;
    }));
    TestApp {
        api,
        mail,
        dir,
        stop: Some(stop),
        handle: Some(handle),
        db: None,
        clock,
        app: inner,
    }
}

impl Deref for TestApp {
    type Target = Api;

    fn deref(&self) -> &Api {
        &self.api
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(h) = self.handle.take() {
            h.abort();
        }
    }
}

impl TestApp {
    /// Moves the app's clock `hours` ahead and writes the owner's reminders that fell due, runs
    /// the expiry of overdue bookings and the retention of visitors' data, as the worker would
    /// at its next round; the worker is woken to send what became due (scheduled reminders
    /// among them).
    pub async fn pass_hours(&self, hours: f64) {
        let secs = (hours * 3600.0).round() as i64;
        self.clock.advance(jiff::SignedDuration::from_secs(secs));
        guidance_app::reminders::queue_due_answer_reminders(&self.app)
            .await
            .expect("the reminders that fell due are written");
        guidance_app::bookings::expire_overdue(&self.app)
            .await
            .expect("expiry runs");
        guidance_app::privacy::erase_past_retention(&self.app)
            .await
            .expect("retention runs");
        self.app.outbox_wake.notify_one();
    }

    /// Stops the app cleanly (as on a shutdown signal) and waits until it has; returns its
    /// folder, for a restart with [`spawn_app_in`].
    pub async fn stop(mut self) -> tempfile::TempDir {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(h) = self.handle.take() {
            h.await
                .expect("the app task")
                .expect("the app stops cleanly");
        }
        let placeholder = tempfile::tempdir().expect("tempdir");
        std::mem::replace(&mut self.dir, placeholder)
    }
}
