//! Scale-out with the real binary: two `guidance serve` processes and one `guidance worker` on
//! one PostgreSQL database (Supabase's roles emulated), all delivering into one mail directory,
//! the "receiving end".
//!
//! 200 concurrent booking requests spread over both servers for 20 slots must give exactly 20
//! bookings (counted in the database), 180 answers 409 and no 5xx; and every email, the owner's
//! invitations included, must arrive exactly once, counted by Message-ID across the delivered
//! files (the mail directory never overwrites, so a double send would show).

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use guidance_testkit::pg::TestDatabase;
use jiff::{SignedDuration, Timestamp};
use mailparse::MailHeaderMap;
use serde_json::{Value, json};
use sqlx::Connection;

const ADMIN_TOKEN: &str = "scale-out-admin-token-0123456789";
const SECRET: &str = "scale-out-secret-0123456789abcdef0123456789";
const SLOTS: usize = 20;
const REQUESTS: usize = 200;

/// A `guidance` process, killed when dropped; its output goes to a log file.
struct Process {
    child: Child,
    log: PathBuf,
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Process {
    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

/// The environment every process shares: one database, one secret, one mail directory.
fn command(args: &[&str], db_url: &str, mail_dir: &Path, data_dir: &Path) -> Command {
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

/// Starts `guidance serve` and returns it with the port it listens on (read from its banner).
fn serve(db_url: &str, mail_dir: &Path, dir: &Path, name: &str) -> (Process, u16) {
    let data = dir.join(name);
    let log = dir.join(format!("{name}.log"));
    let mut child = command(&["serve"], db_url, mail_dir, &data)
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(&log).expect("log file"))
        .spawn()
        .expect("start guidance serve");
    // Port 0: the banner's "Listening on" line names the port the process got.
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    let process = Process { child, log };
    let mut port = None;
    for line in lines.by_ref() {
        let line = line.expect("read the banner");
        if let Some(rest) = line.strip_prefix("Listening on 127.0.0.1:") {
            port = Some(rest.trim().parse::<u16>().expect("a port"));
            break;
        }
    }
    let Some(port) = port else {
        panic!("{name} did not start:\n{}", process.log_text());
    };
    // Keep draining stdout so the process never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    (process, port)
}

fn iso(t: Timestamp) -> String {
    t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// Message-ID → number of delivered files carrying it, for files whose name has `-{kind}-`.
fn delivered(mail_dir: &Path, kind: Option<&str>) -> BTreeMap<String, usize> {
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_servers_and_a_worker_share_one_database() {
    let db = TestDatabase::create().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let mail_dir = dir.path().join("mail");

    let migrated = command(&["migrate"], &db.url, &mail_dir, &dir.path().join("m"))
        .output()
        .expect("run guidance migrate");
    assert!(
        migrated.status.success(),
        "guidance migrate: {}",
        String::from_utf8_lossy(&migrated.stderr)
    );

    // The worker alone first: an email queued before any server runs is sent by it.
    let mut conn = db.connect().await;
    sqlx::query(
        "INSERT INTO guidance_email_outbox (kind, recipient, subject, message_id, message, next_attempt_at) \
         VALUES ('owner_note', 'owner@example.org', 'Note', '<worker-alone@guidance.test>', $1, now())",
    )
    .bind(b"Message-ID: <worker-alone@guidance.test>\r\nSubject: Note\r\n\r\nHello\r\n".to_vec())
    .execute(&mut conn)
    .await
    .expect("queue an email");
    let worker_log = dir.path().join("worker.log");
    let worker = Process {
        child: command(&["worker"], &db.url, &mail_dir, &dir.path().join("worker"))
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&worker_log).expect("log file"))
            .spawn()
            .expect("start guidance worker"),
        log: worker_log,
    };
    let mut sent_by_worker = false;
    for _ in 0..600 {
        sent_by_worker = sqlx::query_scalar(
            "SELECT status = 'sent' FROM guidance_email_outbox WHERE message_id = '<worker-alone@guidance.test>'",
        )
        .fetch_one(&mut conn)
        .await
        .expect("email status");
        if sent_by_worker {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(
        sent_by_worker,
        "guidance worker sent nothing:\n{}",
        worker.log_text()
    );

    let (a, port_a) = serve(&db.url, &mail_dir, dir.path(), "serve-a");
    // The second server as behind Supabase's transaction pooler: no prepared-statement cache.
    let pooled_url = format!("{}?statement-cache-capacity=0", db.url);
    let (b, port_b) = serve(&pooled_url, &mail_dir, dir.path(), "serve-b");
    let servers = [
        format!("http://127.0.0.1:{port_a}"),
        format!("http://127.0.0.1:{port_b}"),
    ];
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(120))
        .build()
        .expect("client");

    // 20 slots, created through the first server.
    let now = Timestamp::now().as_second();
    let first_hour = Timestamp::from_second(now - now % 3600 + 48 * 3600).expect("in range");
    let mut slots = Vec::new();
    for i in 0..SLOTS {
        let start = first_hour + SignedDuration::from_hours(i as i64);
        let resp = client
            .post(format!("{}/api/admin/slots", servers[0]))
            .bearer_auth(ADMIN_TOKEN)
            .json(&json!({"starts_at": iso(start), "ends_at": iso(start + SignedDuration::from_mins(45))}))
            .send()
            .await
            .expect("create slot");
        assert_eq!(resp.status().as_u16(), 201);
        let body: Value = resp.json().await.expect("json");
        slots.push(body["id"].as_str().expect("id").to_owned());
    }

    // 200 requests at once: ten per slot, each slot's requests split over both servers.
    let requests = (0..REQUESTS).map(|i| {
        let slot = slots[i % SLOTS].clone();
        let server = servers[(i / SLOTS) % 2].clone();
        let client = client.clone();
        tokio::spawn(async move {
            client
                .post(format!("{server}/api/bookings"))
                .json(&json!({
                    "slot_id": slot,
                    "name": format!("Visitor {i}"),
                    "email": format!("visitor{i}@example.net"),
                    "topic": "Scaling out",
                    "priority": "normal",
                    "answers": {},
                    "locale": "en",
                    "time_zone": "Europe/Berlin"
                }))
                .send()
                .await
                .map(|r| r.status().as_u16())
                .unwrap_or(0)
        })
    });
    let mut statuses = BTreeMap::new();
    for r in requests.collect::<Vec<_>>() {
        *statuses
            .entry(r.await.expect("request task"))
            .or_insert(0usize) += 1;
    }
    let logs = || {
        format!(
            "serve-a:\n{}\nserve-b:\n{}\nworker:\n{}",
            a.log_text(),
            b.log_text(),
            worker.log_text()
        )
    };
    assert_eq!(
        statuses,
        BTreeMap::from([(201, SLOTS), (409, REQUESTS - SLOTS)]),
        "statuses (0 = no answer): {statuses:?}\n{}",
        logs()
    );

    // The database agrees: one booking per slot, every slot booked.
    let (bookings, distinct_slots): (i64, i64) =
        sqlx::query_as("SELECT count(*), count(DISTINCT slot_id) FROM guidance_bookings")
            .fetch_one(&mut conn)
            .await
            .expect("count bookings");
    assert_eq!((bookings, distinct_slots), (SLOTS as i64, SLOTS as i64));
    let booked: i64 =
        sqlx::query_scalar("SELECT count(*) FROM guidance_availability WHERE status = 'booked'")
            .fetch_one(&mut conn)
            .await
            .expect("count slots");
    assert_eq!(booked, SLOTS as i64);

    // Wait until the outbox is drained (by whichever process), then count at the receiving end.
    let queued_ids: Vec<String> = sqlx::query_scalar(
        "SELECT message_id FROM guidance_email_outbox WHERE kind = 'owner_new_request'",
    )
    .fetch_all(&mut conn)
    .await
    .expect("owner emails");
    assert_eq!(queued_ids.len(), SLOTS, "one invitation per booking");
    let mut unsent = i64::MAX;
    for _ in 0..600 {
        unsent =
            sqlx::query_scalar("SELECT count(*) FROM guidance_email_outbox WHERE status <> 'sent'")
                .fetch_one(&mut conn)
                .await
                .expect("count unsent");
        if unsent == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(unsent, 0, "emails left unsent\n{}", logs());
    let total: i64 = sqlx::query_scalar("SELECT count(*) FROM guidance_email_outbox")
        .fetch_one(&mut conn)
        .await
        .expect("count emails");
    conn.close().await.ok();

    let owner = delivered(&mail_dir, Some("owner_new_request"));
    let expected: BTreeMap<String, usize> = queued_ids.into_iter().map(|id| (id, 1)).collect();
    assert_eq!(
        owner, expected,
        "each owner invitation delivered exactly once"
    );
    let all = delivered(&mail_dir, None);
    assert_eq!(all.len() as i64, total, "every email delivered");
    assert!(
        all.values().all(|&n| n == 1),
        "an email was delivered twice: {:?}",
        all.iter().filter(|(_, n)| **n > 1).collect::<Vec<_>>()
    );
    drop((a, b, worker));
}
