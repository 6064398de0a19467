//! Helpers for the tests that run the real `guidance` binary as separate processes
//! (`scale_out.rs`, `faults.rs`): starting and killing processes, creating slots and sending
//! bookings over HTTP, and counting delivered emails by Message-ID.
//!
//! Every wait is bounded, so a stuck process fails the test instead of hanging it.

#![allow(
    dead_code,
    reason = "each test binary uses its own part of these helpers"
)]

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use jiff::{SignedDuration, Timestamp};
use mailparse::MailHeaderMap;
use serde_json::{Value, json};

/// The owner API token every process is given.
pub const ADMIN_TOKEN: &str = "real-binary-admin-token-0123456789";
const SECRET: &str = "real-binary-secret-0123456789abcdef0123456789";

/// A `guidance` process, killed when dropped; its output goes to a log file.
pub struct Process {
    child: Option<Child>,
    log: PathBuf,
}

impl Drop for Process {
    fn drop(&mut self) {
        self.kill();
    }
}

impl Process {
    /// Starts `cmd` with its output (the log) written to `log`.
    pub fn spawn(mut cmd: Command, log: PathBuf) -> Process {
        let file = std::fs::File::create(&log).expect("log file");
        let child = cmd
            .stdout(file.try_clone().expect("log file"))
            .stderr(file)
            .spawn()
            .expect("start guidance");
        Process {
            child: Some(child),
            log,
        }
    }

    /// What the process logged so far.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Whether the process is still running (it has not exited or been killed).
    pub fn is_running(&mut self) -> bool {
        self.child
            .as_mut()
            .is_some_and(|c| matches!(c.try_wait(), Ok(None)))
    }

    /// Kills the process without warning (SIGKILL on Unix: no shutdown code runs) and waits
    /// until it is gone.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// A running `guidance serve` and the address it answers at.
pub struct Server {
    /// The process.
    pub process: Process,
    /// `http://127.0.0.1:<port>`.
    pub url: String,
}

/// `guidance <args>` with the environment every process shares: one database, one secret,
/// one mail directory, rate limits far above what the tests send.
pub fn command(args: &[&str], db_url: &str, mail_dir: &Path, data_dir: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_guidance"));
    cmd.args(args)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("RUST_LOG", "info,sqlx=warn")
        .env("GUIDANCE_DATABASE_URL", db_url)
        .env("GUIDANCE_LISTEN", "127.0.0.1:0")
        .env("GUIDANCE_MAIL_DIR", mail_dir)
        .env("GUIDANCE_DATA_DIR", data_dir)
        .env("GUIDANCE_SECRET", SECRET)
        .env("GUIDANCE_ADMIN_TOKEN", ADMIN_TOKEN)
        .env("GUIDANCE_OWNER_EMAIL", "owner@example.org")
        .env("GUIDANCE_MAIL_FROM", "bookings@example.org")
        .env("GUIDANCE_BOOKING_RATE_LIMIT", "100000")
        .env("GUIDANCE_PUBLIC_URL", "http://guidance.example.org");
    cmd
}

/// Runs `guidance migrate` on `db_url` and panics with its output when it fails.
pub fn migrate(db_url: &str, dir: &Path) {
    let migrated = command(&["migrate"], db_url, &dir.join("mail"), &dir.join("m"))
        .output()
        .expect("run guidance migrate");
    assert!(
        migrated.status.success(),
        "guidance migrate: {}",
        String::from_utf8_lossy(&migrated.stderr)
    );
}

/// Starts `cmd` (a `guidance serve` command) and returns it once it listens, with the port it
/// got (read from its banner), logging to `log`.
pub fn serve_with(mut cmd: Command, log: PathBuf) -> Server {
    let stderr = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&log)
        .expect("log file");
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(stderr)
        .spawn()
        .expect("start guidance serve");
    let stdout = child.stdout.take().expect("stdout");
    let process = Process {
        child: Some(child),
        log,
    };
    // Port 0: the banner's "Listening on" line names the port the process got. A process that
    // fails to start closes its output, which ends the loop.
    let mut lines = BufReader::new(stdout).lines();
    let mut port = None;
    for line in lines.by_ref() {
        let Ok(line) = line else { break };
        if let Some(rest) = line.strip_prefix("Listening on 127.0.0.1:") {
            port = Some(rest.trim().parse::<u16>().expect("a port"));
            break;
        }
    }
    let Some(port) = port else {
        panic!("guidance serve did not start:\n{}", process.log_text());
    };
    // The log goes to stdout: keep copying it into the log file, so that the process never
    // blocks on a full pipe and a failing test can show what it logged.
    let mut copy = std::fs::OpenOptions::new()
        .append(true)
        .open(&process.log)
        .expect("log file");
    std::thread::spawn(move || {
        use std::io::Write;
        for line in lines.map_while(Result::ok) {
            let _ = writeln!(copy, "{line}");
        }
    });
    Server {
        process,
        url: format!("http://127.0.0.1:{port}"),
    }
}

/// Starts `guidance serve` named `name` (its data directory and log file under `dir`).
pub fn serve(db_url: &str, mail_dir: &Path, dir: &Path, name: &str) -> Server {
    serve_with(
        command(&["serve"], db_url, mail_dir, &dir.join(name)),
        dir.join(format!("{name}.log")),
    )
}

/// An HTTP client whose every request gives up after `timeout`.
pub fn client(timeout: Duration) -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(timeout)
        .build()
        .expect("client")
}

/// RFC 3339 in UTC, whole seconds.
pub fn iso(t: Timestamp) -> String {
    t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// Creates `n` consecutive 45-minute slots an hour apart, starting two days ahead plus
/// `offset_hours`, through the owner API of `server`; returns their ids.
pub async fn create_slots(
    client: &reqwest::Client,
    server: &str,
    n: usize,
    offset_hours: i64,
) -> Vec<String> {
    let now = Timestamp::now().as_second();
    let first_hour =
        Timestamp::from_second(now - now % 3600 + (48 + offset_hours) * 3600).expect("in range");
    let mut slots = Vec::new();
    for i in 0..n {
        let start = first_hour + SignedDuration::from_hours(i as i64);
        let resp = client
            .post(format!("{server}/api/admin/slots"))
            .bearer_auth(ADMIN_TOKEN)
            .json(&json!({"starts_at": iso(start), "ends_at": iso(start + SignedDuration::from_mins(45))}))
            .send()
            .await
            .expect("create slot");
        assert_eq!(resp.status().as_u16(), 201, "create slot");
        let body: Value = resp.json().await.expect("json");
        slots.push(body["id"].as_str().expect("id").to_owned());
    }
    slots
}

/// The request body of booking `slot` by visitor number `i`.
pub fn booking_body(slot: &str, i: usize) -> Value {
    json!({
        "slot_id": slot,
        "name": format!("Visitor {i}"),
        "email": format!("visitor{i}@example.net"),
        "topic": "Real processes",
        "priority": "normal",
        "answers": {},
        "locale": "en",
        "time_zone": "Europe/Berlin"
    })
}

/// Live bookings, slots holding two or more live bookings, slots marked booked, and live
/// bookings on a slot marked booked: the same SQL on SQLite and PostgreSQL.
pub const LIVE_COUNTS: &str = "SELECT \
    (SELECT count(*) FROM guidance_bookings WHERE status IN ('pending', 'accepted')), \
    (SELECT count(*) FROM (SELECT slot_id FROM guidance_bookings WHERE status IN ('pending', 'accepted') \
        GROUP BY slot_id HAVING count(*) > 1) AS doubled), \
    (SELECT count(*) FROM guidance_availability WHERE status = 'booked'), \
    (SELECT count(*) FROM guidance_bookings b JOIN guidance_availability s ON s.id = b.slot_id \
        WHERE b.status IN ('pending', 'accepted') AND s.status = 'booked')";

/// The ids of the live bookings, as text on both databases.
pub const LIVE_IDS: &str =
    "SELECT CAST(id AS TEXT) FROM guidance_bookings WHERE status IN ('pending', 'accepted')";

/// Bookings written only in part: without their event, without their two emails (the owner's
/// invitation and the requester's note) or without the owner's three action links. A booking
/// is one transaction, so this must be 0 whatever happened to the process or the connection.
pub const PARTIAL_BOOKINGS: &str = "SELECT count(*) FROM guidance_bookings b WHERE \
    (SELECT count(*) FROM guidance_booking_events e WHERE e.booking_id = b.id) <> 1 \
    OR (SELECT count(*) FROM guidance_email_outbox o WHERE o.booking_id = b.id) <> 2 \
    OR (SELECT count(*) FROM guidance_booking_actions a WHERE a.booking_id = b.id) <> 3";

/// Every email in the outbox: its booking, Message-ID, kind, status, and whether a worker holds
/// it (claimed and not finished), as text on both databases.
pub const OUTBOX: &str = "SELECT CAST(booking_id AS TEXT), message_id, kind, status, \
    lease_until IS NOT NULL FROM guidance_email_outbox ORDER BY message_id";

/// Every booking: id, its slot, its status and its slot's status, as text on both databases.
pub const BOOKINGS: &str = "SELECT CAST(b.id AS TEXT), CAST(b.slot_id AS TEXT), b.status, s.status \
    FROM guidance_bookings b JOIN guidance_availability s ON s.id = b.slot_id";

/// What one booking request got: its status (0 when no answer came) and, for a 201, the id.
#[derive(Debug, Clone)]
pub struct Answer {
    /// The HTTP status, or 0 when the connection failed or timed out.
    pub status: u16,
    /// The booking id of a 201.
    pub id: Option<String>,
    /// The body, for the message of a failed assertion.
    pub body: Value,
}

/// Sends one booking request for `slot` to `server`.
pub async fn book(client: &reqwest::Client, server: &str, slot: &str, i: usize) -> Answer {
    let resp = match client
        .post(format!("{server}/api/bookings"))
        .json(&booking_body(slot, i))
        .send()
        .await
    {
        Ok(r) => r,
        Err(e) => {
            return Answer {
                status: 0,
                id: None,
                body: Value::String(e.to_string()),
            };
        }
    };
    let status = resp.status().as_u16();
    let body: Value = resp.json().await.unwrap_or(Value::Null);
    Answer {
        status,
        id: body["id"].as_str().map(str::to_owned),
        body,
    }
}

/// Sends `requests` booking requests at once: request `i` books `slots[i % slots.len()]` on
/// `servers[(i / slots.len()) % servers.len()]`, so every slot's requests are split over every
/// server. Returns each request's answer.
pub async fn book_all_at_once(
    client: &reqwest::Client,
    servers: &[String],
    slots: &[String],
    requests: usize,
) -> Vec<Answer> {
    let tasks: Vec<_> = (0..requests)
        .map(|i| {
            let slot = slots[i % slots.len()].clone();
            let server = servers[(i / slots.len()) % servers.len()].clone();
            let client = client.clone();
            tokio::spawn(async move { book(&client, &server, &slot, i).await })
        })
        .collect();
    let mut answers = Vec::new();
    for t in tasks {
        answers.push(t.await.expect("request task"));
    }
    answers
}

/// Status → how many answers had it.
pub fn count_statuses(answers: &[Answer]) -> BTreeMap<u16, usize> {
    let mut statuses = BTreeMap::new();
    for a in answers {
        *statuses.entry(a.status).or_insert(0) += 1;
    }
    statuses
}

/// Message-ID → number of delivered files carrying it, for files whose name has `-{kind}-`
/// (the mail directory writes every delivery to a new file, so a second delivery shows).
pub fn delivered(mail_dir: &Path, kind: Option<&str>) -> BTreeMap<String, usize> {
    let mut seen = BTreeMap::new();
    for entry in std::fs::read_dir(mail_dir).into_iter().flatten().flatten() {
        let path = entry.path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if !name.ends_with(".eml") || kind.is_some_and(|k| !name.contains(&format!("-{k}-"))) {
            continue;
        }
        let raw = std::fs::read(&path).expect("read email");
        let mail = mailparse::parse_mail(&raw).expect("a parsable email");
        let id = mail
            .headers
            .get_first_value("Message-ID")
            .expect("a Message-ID");
        *seen.entry(id.trim().to_owned()).or_insert(0) += 1;
    }
    seen
}

/// Polls `check` every 100 ms until it gives `Some`, for at most `limit`; `None` when time
/// ran out.
pub async fn poll<T, F, Fut>(limit: Duration, mut check: F) -> Option<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + limit;
    loop {
        if let Some(v) = check().await {
            return Some(v);
        }
        if Instant::now() >= deadline {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
