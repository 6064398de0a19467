//! `spawn_app()` and the small helpers every test uses.

use std::path::{Path, PathBuf};
use std::time::Duration;

use guidance::startup::Application;
use guidance_app::config::Config;
use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};

pub const ADMIN_TOKEN: &str = "test-admin-token-0123456789";

/// A running application and what a test needs to talk to it.
pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    pub dir: tempfile::TempDir,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    handle: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
    /// The PostgreSQL database of an app spawned on PostgreSQL (dropped after the app).
    pub db: Option<guidance_testkit::pg::TestDatabase>,
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
    }
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// The application on a fresh PostgreSQL database (Supabase's roles emulated, migrated by
/// `guidance migrate`'s code), instead of SQLite.
pub async fn spawn_app_on_postgres() -> TestApp {
    let db = guidance_testkit::pg::TestDatabase::create().await;
    let url = db.url.clone();
    let mut app = spawn_app_with(|c| c.database_url = url).await;
    app.db = Some(db);
    app
}

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
    let app = Application::build_with_clock(config, clock.clone())
        .await
        .expect("the app builds");
    // Answers must match the owner's questions; the `intake()` below answers this one.
    let company = guidance_core::Question::parse_list(&json!([
        {"key": "company", "label": "Company", "kind": "short_text"}
    ]))
    .expect("a valid question");
    app.app()
        .store
        .replace_questions(&company, Timestamp::now())
        .await
        .expect("questions saved");
    let base = format!("http://127.0.0.1:{}", app.port());
    let inner = app.app().clone();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let handle = tokio::spawn(app.run_until_stopped(async move {
        let _ = stopped.await;
    }));
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(30))
        .build()
        .expect("client");
    TestApp {
        base,
        client,
        dir,
        stop: Some(stop),
        handle: Some(handle),
        db: None,
        clock,
        app: inner,
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

pub fn iso(t: Timestamp) -> String {
    t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// A whole hour `hours` from now, so that slots never overlap by accident.
pub fn hours_ahead(hours: i64) -> Timestamp {
    let now = Timestamp::now().as_second();
    Timestamp::from_second(now - now % 3600 + hours * 3600).unwrap()
}

pub fn intake(slot_id: &str) -> Value {
    json!({
        "slot_id": slot_id,
        "name": "Ada Lovelace",
        "email": "ada@example.net",
        "topic": "Analytical engines\nand what they could do",
        "priority": "high",
        "answers": {"company": "Difference Ltd"},
        "locale": "en",
        "time_zone": "America/Los_Angeles"
    })
}

impl TestApp {
    /// Moves the app's clock `hours` ahead and runs the expiry of overdue bookings, as the
    /// worker would at its next round.
    pub async fn pass_hours(&self, hours: f64) {
        let secs = (hours * 3600.0).round() as i64;
        self.clock.advance(jiff::SignedDuration::from_secs(secs));
        guidance_app::bookings::expire_overdue(&self.app)
            .await
            .expect("expiry runs");
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

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub fn mail_dir(&self) -> PathBuf {
        self.dir.path().join("mail")
    }

    pub async fn admin(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut req = self
            .client
            .request(method, self.url(path))
            .bearer_auth(ADMIN_TOKEN);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.expect("request");
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap_or_default();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    /// Creates a slot starting `hours` from now, lasting 45 minutes; returns its id.
    pub async fn create_slot(&self, hours: i64) -> String {
        let start = hours_ahead(hours);
        self.create_slot_at(
            start,
            start.checked_add(SignedDuration::from_mins(45)).unwrap(),
        )
        .await
    }

    pub async fn create_slot_at(&self, start: Timestamp, end: Timestamp) -> String {
        let (status, body) = self
            .admin(
                reqwest::Method::POST,
                "/api/admin/slots",
                Some(json!({"starts_at": iso(start), "ends_at": iso(end)})),
            )
            .await;
        assert_eq!(status, 201, "creating a slot: {body}");
        body["id"].as_str().unwrap().to_owned()
    }

    pub async fn post_json(&self, path: &str, body: &Value) -> (u16, Value) {
        let resp = self
            .client
            .post(self.url(path))
            .json(body)
            .send()
            .await
            .expect("request");
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap_or_default();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    pub async fn book(&self, body: &Value) -> (u16, Value) {
        self.post_json("/api/bookings", body).await
    }

    pub async fn open_slot_ids(&self) -> Vec<String> {
        let body: Value = self
            .client
            .get(self.url("/api/slots"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        body["slots"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["id"].as_str().unwrap().to_owned())
            .collect()
    }

    pub async fn booking(&self, id: &str) -> Value {
        let (status, body) = self
            .admin(
                reqwest::Method::GET,
                &format!("/api/admin/bookings/{id}"),
                None,
            )
            .await;
        assert_eq!(status, 200, "{body}");
        body
    }

    /// The `.eml` files of one kind, waiting until at least `count` are there.
    pub async fn wait_for_mail(&self, kind: &str, count: usize) -> Vec<Vec<u8>> {
        for _ in 0..150 {
            let found = self.mail_of_kind(kind);
            if found.len() >= count {
                return found;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!(
            "fewer than {count} {kind} emails appeared in {}",
            self.mail_dir().display()
        );
    }

    /// The `.eml` files of one kind present now, in the order they were written.
    pub fn mail_of_kind(&self, kind: &str) -> Vec<Vec<u8>> {
        self.mail_paths()
            .into_iter()
            .filter(|p| p.to_string_lossy().contains(&format!("-{kind}-")))
            .map(|p| std::fs::read(p).unwrap())
            .collect()
    }

    pub fn mail_paths(&self) -> Vec<PathBuf> {
        let mut v: Vec<PathBuf> = std::fs::read_dir(self.mail_dir())
            .map(|d| {
                d.filter_map(|e| e.ok().map(|e| e.path()))
                    .filter(|p| p.extension().is_some_and(|x| x == "eml"))
                    .collect()
            })
            .unwrap_or_default();
        // In the order the worker wrote them.
        v.sort_by_key(|p| {
            (
                std::fs::metadata(p).and_then(|m| m.modified()).ok(),
                p.clone(),
            )
        });
        v
    }
}

/// The decoded text/plain body of a message (parsed by `mailparse`, not by our code).
pub fn plain_text(raw: &[u8]) -> String {
    let mail = mailparse::parse_mail(raw).expect("parsable email");
    find_part(&mail, "text/plain")
        .expect("a text/plain part")
        .get_body()
        .unwrap()
}

/// The text/calendar part: its `method` parameter and its body.
pub fn calendar_part(raw: &[u8]) -> Option<(String, String)> {
    let mail = mailparse::parse_mail(raw).expect("parsable email");
    let part = find_part(&mail, "text/calendar")?;
    let method = part.ctype.params.get("method").cloned().unwrap_or_default();
    Some((method, part.get_body().unwrap()))
}

fn find_part<'a>(
    mail: &'a mailparse::ParsedMail<'a>,
    mimetype: &str,
) -> Option<&'a mailparse::ParsedMail<'a>> {
    if mail.ctype.mimetype == mimetype {
        return Some(mail);
    }
    mail.subparts.iter().find_map(|p| find_part(p, mimetype))
}

/// The links under `<base>/a/` in a message's text, in order.
pub fn action_links(raw: &[u8], base: &str) -> Vec<String> {
    let text = plain_text(raw);
    text.split_whitespace()
        .filter(|w| w.starts_with(&format!("{base}/a/")))
        .map(str::to_owned)
        .collect()
}

/// An unfolded ICS property value, e.g. `ics_value(ics, "UID")`.
pub fn ics_values(ics: &str, name: &str) -> Vec<String> {
    let unfolded = ics.replace("\r\n ", "");
    unfolded
        .split("\r\n")
        .filter_map(|l| {
            let (head, value) = l.split_once(':')?;
            (head.split(';').next() == Some(name)).then(|| value.to_owned())
        })
        .collect()
}

/// Runs the independent Python checker (icalendar + the stdlib email package) on `.eml` files.
/// In CI (`CI` set) the checker must be available; elsewhere it runs when `scripts/test` set it up.
pub fn python_check_eml(paths: &[PathBuf]) {
    let python = std::env::var("GUIDANCE_TEST_PYTHON").ok();
    let checker = std::env::var("GUIDANCE_CHECK_EML").ok();
    let (Some(python), Some(checker)) = (python, checker) else {
        assert!(
            std::env::var_os("CI").is_none(),
            "GUIDANCE_TEST_PYTHON and GUIDANCE_CHECK_EML must be set in CI (run ./scripts/test)"
        );
        eprintln!(
            "note: independent email checker not configured; run ./scripts/test to include it"
        );
        return;
    };
    let out = std::process::Command::new(python)
        .arg(checker)
        .args(paths)
        .output()
        .expect("python runs");
    assert!(
        out.status.success(),
        "check_eml.py refused our email:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
