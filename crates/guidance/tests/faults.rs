//! Faults with the real binary: a `guidance serve` killed mid-stream, and the database out of
//! reach for a while.
//!
//! **Crash.** Several clients book many slots through one `serve` (on SQLite, and on
//! PostgreSQL), and the process is killed with SIGKILL in the middle of the stream; a new
//! process is started on the same data. Every booking answered 201 is in the database with its
//! slot held, no booking is written in part, and the SQLite file passes `PRAGMA
//! integrity_check`. Every email is delivered after the restart: exactly once, except that the
//! one email a worker may have had in hand at the kill (delivered, not yet recorded as sent) is
//! delivered again, with the same Message-ID, once its lease ends. Delivery is at-least-once
//! with a stable Message-ID, and the test proves that the only duplicate possible is that one.
//!
//! **Outage.** `serve` reaches PostgreSQL through a relay the test cuts (open connections
//! closed, new ones left unanswered) and restores. While cut, every endpoint that needs the
//! database answers 503 with `Retry-After` (JSON code `unavailable`, a localized page for
//! pages) within the pool's acquire timeout, and the health check says so; once restored, the
//! same process books and delivers again, and the database holds no partial booking. Every
//! email is delivered exactly once: what the worker sent while the line was cut, it records
//! once the line is back.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use guidance_testkit::api::{ADMIN_TOKEN, Answer, Api, client, retry_after, visitor_intake};
use guidance_testkit::binary::{self, Server};
use guidance_testkit::mail::MailDir;
use guidance_testkit::pg::TestDatabase;
use guidance_testkit::relay::Relay;
use guidance_testkit::wait::poll;
use serde_json::Value;
use sqlx::{PgPool, SqlitePool};

/// Emails claimed by a process that died are sent again after this lease (seconds), so that the
/// test need not wait the default five minutes.
const LEASE_SECS: &str = "2";

/// A booking answered 201.
#[derive(Debug, Clone)]
struct Booked {
    id: String,
    slot: String,
}

/// One outbox row.
#[derive(Debug, Clone)]
struct Email {
    booking_id: Option<String>,
    message_id: String,
    kind: String,
    status: String,
    /// Claimed by a worker and not finished.
    leased: bool,
}

/// What the database holds, read directly.
#[derive(Debug)]
struct Snapshot {
    /// Booking id → (slot id, booking status, slot status).
    bookings: BTreeMap<String, (String, String, String)>,
    outbox: Vec<Email>,
    /// See [`common::LIVE_COUNTS`].
    live: (i64, i64, i64, i64),
    /// See [`common::PARTIAL_BOOKINGS`].
    partial: i64,
}

/// A direct connection to the database the processes use.
enum Db {
    Sqlite(SqlitePool),
    Pg(PgPool),
}

/// The same portable queries on either pool.
macro_rules! snapshot_of {
    ($pool:expr) => {{
        let pool = $pool;
        let bookings: Vec<(String, String, String, String)> = sqlx::query_as(common::BOOKINGS)
            .fetch_all(pool)
            .await
            .expect("read bookings");
        let outbox: Vec<(Option<String>, String, String, String, bool)> =
            sqlx::query_as(common::OUTBOX)
                .fetch_all(pool)
                .await
                .expect("read the outbox");
        Snapshot {
            bookings: bookings
                .into_iter()
                .map(|(id, slot, status, slot_status)| (id, (slot, status, slot_status)))
                .collect(),
            outbox: outbox
                .into_iter()
                .map(|(booking_id, message_id, kind, status, leased)| Email {
                    booking_id,
                    message_id,
                    kind,
                    status,
                    leased,
                })
                .collect(),
            live: sqlx::query_as(common::LIVE_COUNTS)
                .fetch_one(pool)
                .await
                .expect("count live bookings"),
            partial: sqlx::query_scalar(common::PARTIAL_BOOKINGS)
                .fetch_one(pool)
                .await
                .expect("count partial bookings"),
        }
    }};
}

impl Db {
    async fn snapshot(&self) -> Snapshot {
        match self {
            Db::Sqlite(pool) => snapshot_of!(pool),
            Db::Pg(pool) => snapshot_of!(pool),
        }
    }

    /// Waits (at most `limit`) until no email is left unsent; panics with `logs` otherwise.
    async fn wait_drained(&self, limit: Duration, logs: impl Fn() -> String) -> Snapshot {
        let drained = poll(limit, move || async move {
            let s = self.snapshot().await;
            s.outbox.iter().all(|e| e.status == "sent").then_some(s)
        })
        .await;
        drained.unwrap_or_else(|| panic!("emails left unsent:\n{}", logs()))
    }
}

/// `clients` clients book `slots` one after another, two clients racing for each slot, until
/// `kill_after` bookings were answered 201; then the server is killed with SIGKILL. Returns the
/// bookings answered 201 and how many requests got no answer (in flight at the kill).
async fn stream_and_kill(
    server: &mut Server,
    slots: &[String],
    clients: usize,
    kill_after: usize,
) -> (Vec<Booked>, usize) {
    let api = Api::with_client(&server.url, client(Duration::from_secs(30)));
    let wins = Arc::new(AtomicUsize::new(0));
    let groups = clients / 2;
    let tasks: Vec<_> = (0..clients)
        .map(|c| {
            let mine: Vec<String> = slots
                .iter()
                .enumerate()
                .filter(|(j, _)| j % groups == c % groups)
                .map(|(_, s)| s.clone())
                .collect();
            let (api, wins) = (api.clone(), wins.clone());
            tokio::spawn(async move {
                let mut answers = Vec::new();
                for (n, slot) in mine.into_iter().enumerate() {
                    let answer = api.try_book(&visitor_intake(&slot, c * 10_000 + n)).await;
                    if answer.status == 201 {
                        wins.fetch_add(1, Ordering::SeqCst);
                    }
                    let gone = answer.status == 0;
                    answers.push((slot, answer));
                    if gone {
                        break;
                    }
                }
                answers
            })
        })
        .collect();
    let counter = &wins;
    let enough = poll(Duration::from_secs(60), move || async move {
        (counter.load(Ordering::SeqCst) >= kill_after).then_some(())
    })
    .await;
    assert!(
        enough.is_some(),
        "only {} bookings in a minute:\n{}",
        wins.load(Ordering::SeqCst),
        server.process.log_text()
    );
    server.process.kill();
    let mut booked = Vec::new();
    let mut unanswered = 0;
    for t in tasks {
        for (slot, Answer { status, id, body }) in t.await.expect("client task") {
            match status {
                201 => booked.push(Booked {
                    id: id.expect("a 201 names its booking"),
                    slot,
                }),
                409 => {}
                0 => unanswered += 1,
                other => panic!("a booking was answered {other}: {body}"),
            }
        }
    }
    (booked, unanswered)
}

/// After the restart and the drain: every 201 booking is there with its slot held, nothing is
/// written in part, and every email was delivered once, except the ones a worker held at the
/// kill (`in_hand`), which may have been delivered twice, with the same Message-ID.
fn check_after_restart(
    after: &Snapshot,
    booked: &[Booked],
    unanswered: usize,
    in_hand: &BTreeSet<String>,
    mail_dir: &Path,
) {
    for b in booked {
        let (slot, status, slot_status) = after
            .bookings
            .get(&b.id)
            .unwrap_or_else(|| panic!("booking {} was answered 201 and is lost", b.id));
        assert_eq!(
            (slot.as_str(), status.as_str(), slot_status.as_str()),
            (b.slot.as_str(), "pending", "booked")
        );
    }
    // Requests cut off by the kill may have committed without their answer: no more than that.
    let extra = after.bookings.len() - booked.len();
    assert!(
        extra <= unanswered,
        "{extra} bookings nobody was told about"
    );
    let (live, doubled, booked_slots, live_on_booked) = after.live;
    assert_eq!(doubled, 0, "a slot holds two live bookings");
    assert_eq!((live, booked_slots, live_on_booked), (live, live, live));
    assert_eq!(after.partial, 0, "a booking is written only in part");

    let delivered = MailDir::new(mail_dir).delivered(None);
    let queued: BTreeSet<&str> = after.outbox.iter().map(|e| e.message_id.as_str()).collect();
    let arrived: BTreeSet<&str> = delivered.keys().map(String::as_str).collect();
    assert_eq!(arrived, queued, "every email delivered, nothing else");
    for (id, &n) in &delivered {
        let limit = if in_hand.contains(id) { 2 } else { 1 };
        assert!(
            n <= limit,
            "{id} was delivered {n} times (in hand at the kill: {})",
            in_hand.contains(id)
        );
    }
    // The owner's invitation of every booking answered 201, by Message-ID.
    let winners: BTreeSet<&str> = booked.iter().map(|b| b.id.as_str()).collect();
    let invitations = after
        .outbox
        .iter()
        .filter(|e| e.kind == "owner_new_request")
        .filter(|e| e.booking_id.as_deref().is_some_and(|b| winners.contains(b)))
        .count();
    assert_eq!(
        invitations,
        booked.len(),
        "one owner invitation per booking"
    );
    let twice: Vec<_> = delivered.iter().filter(|(_, n)| **n > 1).collect();
    eprintln!(
        "crash: {} bookings answered 201, {} requests cut off ({} of them committed), {} emails, \
         {} in hand at the kill, delivered twice: {twice:?}",
        booked.len(),
        unanswered,
        extra,
        after.outbox.len(),
        in_hand.len()
    );
}

/// `guidance serve` on `db_url` with a short mail lease, its data in `dir/serve`.
fn serve_with_short_lease(db_url: &str, dir: &Path, log: &str) -> Server {
    let mut cmd = common::command(&["serve"], db_url, &dir.join("mail"), &dir.join("serve"));
    cmd.env("GUIDANCE_MAIL_LEASE_SECS", LEASE_SECS);
    binary::serve(cmd, dir.join(log))
}

/// The emails a worker held when the process died.
fn in_hand(before: &Snapshot) -> BTreeSet<String> {
    before
        .outbox
        .iter()
        .filter(|e| e.status == "queued" && e.leased)
        .map(|e| e.message_id.clone())
        .collect()
}

/// Notes the emails a worker held at the kill, starts a second server on the same data, waits
/// until it has sent every email, and checks what [`check_after_restart`] checks.
async fn restart_and_check(
    db: &Db,
    db_url: &str,
    dir: &Path,
    first: &Server,
    booked: &[Booked],
    unanswered: usize,
) {
    let held = in_hand(&db.snapshot().await);
    let second = serve_with_short_lease(db_url, dir, "serve-2.log");
    let logs = || {
        format!(
            "before the kill:\n{}\nafter:\n{}",
            first.process.log_text(),
            second.process.log_text()
        )
    };
    let after = db.wait_drained(Duration::from_secs(60), logs).await;
    check_after_restart(&after, booked, unanswered, &held, &dir.join("mail"));
}

const CRASH_SLOTS: usize = 120;
const CRASH_CLIENTS: usize = 4;
const KILL_AFTER: usize = 30;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_server_on_sqlite_loses_no_booking_and_no_email() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db_path = dir.path().join("guidance.db");
    let db_url = format!("sqlite://{}", db_path.display());
    let mut first = serve_with_short_lease(&db_url, dir.path(), "serve-1.log");
    let slots = Api::new(&first.url).create_slots(48, CRASH_SLOTS).await;

    let (booked, unanswered) = stream_and_kill(&mut first, &slots, CRASH_CLIENTS, KILL_AFTER).await;
    assert!(booked.len() >= KILL_AFTER);

    // The file as the killed process left it (its write-ahead log included).
    let options = sqlx::sqlite::SqliteConnectOptions::new().filename(&db_path);
    let pool = SqlitePool::connect_with(options)
        .await
        .expect("open the database file");
    let integrity: Vec<String> = sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_all(&pool)
        .await
        .expect("integrity check");
    assert_eq!(integrity, ["ok"]);
    restart_and_check(
        &Db::Sqlite(pool),
        &db_url,
        dir.path(),
        &first,
        &booked,
        unanswered,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_server_on_postgres_loses_no_booking_and_no_email() {
    let pg = TestDatabase::create().await;
    let dir = tempfile::tempdir().expect("tempdir");
    common::migrate(&pg.url, dir.path());
    let mut first = serve_with_short_lease(&pg.url, dir.path(), "serve-1.log");
    let slots = Api::new(&first.url).create_slots(48, CRASH_SLOTS).await;

    let (booked, unanswered) = stream_and_kill(&mut first, &slots, CRASH_CLIENTS, KILL_AFTER).await;
    assert!(booked.len() >= KILL_AFTER);
    let db = Db::Pg(PgPool::connect(&pg.url).await.expect("connect"));
    restart_and_check(&db, &pg.url, dir.path(), &first, &booked, unanswered).await;
}

/// `url` pointed at `127.0.0.1:port`.
fn via(url: &str, port: u16) -> String {
    let mut u = url::Url::parse(url).expect("a database URL");
    u.set_host(Some("127.0.0.1")).expect("host");
    u.set_port(Some(port)).expect("port");
    u.to_string()
}

/// `host:port` of a database URL.
fn upstream_of(url: &str) -> String {
    let u = url::Url::parse(url).expect("a database URL");
    format!(
        "{}:{}",
        u.host_str().expect("host"),
        u.port().unwrap_or(5432)
    )
}

/// Asserts a 503 answer that says why and when to come back; returns its body.
async fn assert_unavailable(resp: reqwest::Response, what: &str) -> String {
    assert_eq!(resp.status().as_u16(), 503, "{what}");
    assert!(
        retry_after(&resp).is_some_and(|s| s > 0),
        "{what}: Retry-After"
    );
    resp.text().await.expect("body")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_the_database_out_of_reach_requests_get_503_and_the_same_process_recovers() {
    let pg = TestDatabase::create().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let mail_dir = dir.path().join("mail");
    common::migrate(&pg.url, dir.path());
    let relay = Relay::start(&upstream_of(&pg.url)).await;
    let mut server = serve_with_short_lease(&via(&pg.url, relay.port()), dir.path(), "serve.log");
    let db = Db::Pg(PgPool::connect(&pg.url).await.expect("connect"));
    // Longer than the pool's acquire timeout (5 s): an answer must come before this.
    let api = Api::with_client(&server.url, client(Duration::from_secs(20)));
    let client = &api.client;
    let slots = api.create_slots(48, 12).await;

    let mut booked = Vec::new();
    for (i, slot) in slots[..3].iter().enumerate() {
        let a = api.try_book(&visitor_intake(slot, i)).await;
        assert_eq!(a.status, 201);
        booked.push(a.id.expect("id"));
    }
    db.wait_drained(Duration::from_secs(30), || server.process.log_text())
        .await;

    // Cut the line while a burst of bookings is under way: each is booked whole or refused.
    let burst: Vec<_> = (3..9)
        .map(|i| {
            let (api, slot) = (api.clone(), slots[i].clone());
            tokio::spawn(async move { api.try_book(&visitor_intake(&slot, i)).await })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(20)).await;
    relay.cut();
    let mut refused_slots = BTreeSet::new();
    for (t, i) in burst.into_iter().zip(3..) {
        let a = t.await.expect("burst task");
        match a.status {
            201 => booked.push(a.id.expect("id")),
            503 => {
                refused_slots.insert(slots[i].clone());
            }
            other => panic!(
                "a booking during the cut was answered {other} {}:\n{}",
                a.body,
                server.process.log_text()
            ),
        }
    }

    // While cut: every endpoint that needs the database says so, in time.
    let booking = client
        .post(format!("{}/api/bookings", server.url))
        .json(&visitor_intake(&slots[9], 9))
        .send();
    let open_slots = client.get(format!("{}/api/slots", server.url)).send();
    let page = client.get(format!("{}/book?lang=de", server.url)).send();
    let admin = client
        .get(format!("{}/api/admin/bookings", server.url))
        .bearer_auth(ADMIN_TOKEN)
        .send();
    let health = client.get(format!("{}/healthz", server.url)).send();
    let (booking, open_slots, page, admin, health) =
        tokio::join!(booking, open_slots, page, admin, health);
    for (resp, what) in [
        (booking, "POST /api/bookings"),
        (open_slots, "GET /api/slots"),
        (admin, "GET /api/admin/bookings"),
    ] {
        let resp = resp.unwrap_or_else(|e| panic!("{what} got no answer in time: {e}"));
        let body: Value = serde_json::from_str(&assert_unavailable(resp, what).await)
            .unwrap_or_else(|e| panic!("{what}: a JSON error: {e}"));
        assert_eq!(body["error"]["code"], "unavailable", "{what}: {body}");
        assert!(
            body["error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty())
        );
    }
    let page = page.expect("GET /book answers in time");
    assert!(
        page.headers()["content-type"]
            .to_str()
            .is_ok_and(|t| t.starts_with("text/html"))
    );
    let html = assert_unavailable(page, "GET /book").await;
    assert!(
        html.contains("Der Dienst ist kurz nicht erreichbar."),
        "a German page: {html}"
    );
    assert_eq!(health.expect("healthz answers").status().as_u16(), 503);
    assert!(
        server.process.is_running(),
        "the server survived the outage"
    );

    // Restored: the same process books again, without a restart.
    relay.restore();
    let (api, slot) = (&api, &slots[9]);
    let back = poll(Duration::from_secs(30), move || async move {
        let a = api.try_book(&visitor_intake(slot, 9)).await;
        match a.status {
            201 => a.id,
            503 => None,
            other => panic!("a booking after the outage was answered {other}"),
        }
    })
    .await;
    booked.push(back.unwrap_or_else(|| {
        panic!(
            "no booking within 30 s of the restore:\n{}",
            server.process.log_text()
        )
    }));
    for (i, slot) in slots.iter().enumerate().skip(10) {
        let a = api.try_book(&visitor_intake(slot, i)).await;
        assert_eq!(a.status, 201);
        booked.push(a.id.expect("id"));
    }
    let after = db
        .wait_drained(Duration::from_secs(30), || server.process.log_text())
        .await;
    assert!(server.process.is_running(), "the same process all along");

    // Nothing half-written: the bookings answered 201 (and at most a refused one whose commit
    // went through as the line was cut), each whole; every email delivered.
    let winners: BTreeSet<&str> = booked.iter().map(String::as_str).collect();
    for id in &winners {
        let (_, status, slot_status) = &after.bookings[*id];
        assert_eq!(
            (status.as_str(), slot_status.as_str()),
            ("pending", "booked")
        );
    }
    for (id, (slot, _, _)) in &after.bookings {
        assert!(
            winners.contains(id.as_str()) || refused_slots.contains(slot),
            "booking {id} was never answered 201"
        );
    }
    assert_eq!(after.partial, 0, "a booking is written only in part");
    assert_eq!(after.live.1, 0, "a slot holds two live bookings");
    let delivered = MailDir::new(&mail_dir).delivered(None);
    let queued: BTreeSet<&str> = after.outbox.iter().map(|e| e.message_id.as_str()).collect();
    let arrived: BTreeSet<&str> = delivered.keys().map(String::as_str).collect();
    assert_eq!(arrived, queued, "every email delivered, nothing else");
    // Each delivered once: the worker records what it sent when the line is back, rather than
    // leaving it to its lease and sending it again (nobody else could take it meanwhile).
    let twice: Vec<_> = delivered.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "delivered more than once: {twice:?}");
    eprintln!(
        "outage: {} bookings, {} refused during the cut, {} emails, delivered twice: {twice:?}",
        after.bookings.len(),
        refused_slots.len(),
        after.outbox.len()
    );
}
