//! Races with the real binary: many booking requests for few slots at the same moment.
//!
//! On PostgreSQL, two `guidance serve` processes and one `guidance worker` share one database
//! (Supabase's roles emulated), all delivering into one mail directory, the "receiving end";
//! on SQLite, one `guidance serve` on its own database file. 500 concurrent requests for 20
//! slots must give exactly 20 × 201 and 480 × 409, nothing else (no 5xx, no dropped request);
//! the database, read directly, must hold exactly 20 live bookings, never two on one slot, each
//! on a slot marked booked, and exactly the bookings whose ids were answered 201. On
//! PostgreSQL, every email, the owner's invitations included, must also arrive exactly once,
//! counted by Message-ID across the delivered files (the mail directory never overwrites, so a
//! double send would show). Two more tests queue 2,000 emails and check that each arrives at a
//! real SMTP server exactly once: from two `guidance worker` processes on one PostgreSQL database,
//! and from one on SQLite.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use guidance_testkit::api::{Answer, Api, book_all_at_once, client, count_statuses};
use guidance_testkit::mail::MailDir;
use guidance_testkit::pg::TestDatabase;
use guidance_testkit::process::Process;
use guidance_testkit::wait::poll;
use sqlx::Connection;

/// Each test here loads the machine fully (hundreds of requests at once, or thousands of emails
/// from several processes): they take turns, so that none measures another's load.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

const SLOTS: usize = 20;
const REQUESTS: usize = 500;

/// Exactly one 201 per slot and a 409 for every other request, nothing else.
fn assert_one_winner_per_slot(answers: &[Answer], logs: impl Fn() -> String) {
    let statuses = count_statuses(answers);
    assert_eq!(
        statuses,
        BTreeMap::from([(201, SLOTS), (409, REQUESTS - SLOTS)]),
        "statuses (0 = no answer): {statuses:?}\n{}",
        logs()
    );
}

/// The ids answered 201.
fn winners(answers: &[Answer]) -> BTreeSet<String> {
    answers
        .iter()
        .filter(|a| a.status == 201)
        .map(|a| a.id.clone().expect("a 201 names its booking"))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_servers_and_a_worker_share_one_database() {
    let _turn = ONE_AT_A_TIME.lock().await;
    let db = TestDatabase::create().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let mail_dir = dir.path().join("mail");
    common::migrate(&db.url, dir.path());

    // The worker alone first: an email queued before any server runs is sent by it.
    let pool = sqlx::PgPool::connect(&db.url).await.expect("connect");
    sqlx::query(
        "INSERT INTO guidance_email_outbox (kind, recipient, subject, message_id, message, next_attempt_at) \
         VALUES ('owner_note', 'owner@example.org', 'Note', '<worker-alone@guidance.test>', $1, now())",
    )
    .bind(b"Message-ID: <worker-alone@guidance.test>\r\nSubject: Note\r\n\r\nHello\r\n".to_vec())
    .execute(&pool)
    .await
    .expect("queue an email");
    let cmd = common::command(&["worker"], &db.url, &mail_dir, &dir.path().join("worker"));
    let worker = Process::start(cmd, dir.path().join("worker.log"));
    let sent_by_worker = poll(Duration::from_secs(60), || {
        let pool = pool.clone();
        async move {
            let sent: bool = sqlx::query_scalar(
                "SELECT status = 'sent' FROM guidance_email_outbox WHERE message_id = '<worker-alone@guidance.test>'",
            )
            .fetch_one(&pool)
            .await
            .expect("email status");
            sent.then_some(())
        }
    })
    .await;
    assert!(
        sent_by_worker.is_some(),
        "guidance worker sent nothing:\n{}",
        worker.log_text()
    );

    let a = common::serve(&db.url, &mail_dir, dir.path(), "serve-a");
    // The second server as behind Supabase's transaction pooler: no prepared-statement cache.
    let pooled_url = format!("{}?statement-cache-capacity=0", db.url);
    let b = common::serve(&pooled_url, &mail_dir, dir.path(), "serve-b");
    let client = client(Duration::from_secs(120));
    let servers = [
        Api::with_client(&a.url, client.clone()),
        Api::with_client(&b.url, client),
    ];
    let slots = servers[0].create_slots(48, SLOTS).await;

    // All at once: 25 per slot, each slot's requests split over both servers.
    let answers = book_all_at_once(&servers, &slots, REQUESTS).await;
    let logs = || {
        format!(
            "serve-a:\n{}\nserve-b:\n{}\nworker:\n{}",
            a.process.log_text(),
            b.process.log_text(),
            worker.log_text()
        )
    };
    assert_one_winner_per_slot(&answers, logs);

    // The database agrees: one live booking per slot, every slot booked, the winners' ids.
    let counts: (i64, i64, i64, i64) = sqlx::query_as(common::LIVE_COUNTS)
        .fetch_one(&pool)
        .await
        .expect("count bookings");
    assert_eq!(counts, (SLOTS as i64, 0, SLOTS as i64, SLOTS as i64));
    let all: i64 = sqlx::query_scalar("SELECT count(*) FROM guidance_bookings")
        .fetch_one(&pool)
        .await
        .expect("count bookings");
    assert_eq!(all, SLOTS as i64, "no booking besides the live ones");
    let live: BTreeSet<String> = sqlx::query_scalar(common::LIVE_IDS)
        .fetch_all(&pool)
        .await
        .expect("live ids")
        .into_iter()
        .collect();
    assert_eq!(live, winners(&answers));

    // Wait until the outbox is drained (by whichever process), then count at the receiving end.
    let queued_ids: Vec<String> = sqlx::query_scalar(
        "SELECT message_id FROM guidance_email_outbox WHERE kind = 'owner_new_request'",
    )
    .fetch_all(&pool)
    .await
    .expect("owner emails");
    assert_eq!(queued_ids.len(), SLOTS, "one invitation per booking");
    let drained = poll(Duration::from_secs(120), || {
        let pool = pool.clone();
        async move {
            let unsent: i64 = sqlx::query_scalar(
                "SELECT count(*) FROM guidance_email_outbox \
                 WHERE status <> 'sent' AND send_before IS NULL",
            )
            .fetch_one(&pool)
            .await
            .expect("count unsent");
            (unsent == 0).then_some(())
        }
    })
    .await;
    assert!(drained.is_some(), "emails left unsent\n{}", logs());
    // Reminders scheduled for later are not due yet.
    let total: i64 =
        sqlx::query_scalar("SELECT count(*) FROM guidance_email_outbox WHERE send_before IS NULL")
            .fetch_one(&pool)
            .await
            .expect("count emails");
    pool.close().await;

    let owner = MailDir::new(&mail_dir).delivered(Some("owner_new_request"));
    let expected: BTreeMap<String, usize> = queued_ids.into_iter().map(|id| (id, 1)).collect();
    assert_eq!(
        owner, expected,
        "each owner invitation delivered exactly once"
    );
    let all = MailDir::new(&mail_dir).delivered(None);
    assert_eq!(all.len() as i64, total, "every email delivered");
    assert!(
        all.values().all(|&n| n == 1),
        "an email was delivered twice: {:?}",
        all.iter().filter(|(_, n)| **n > 1).collect::<Vec<_>>()
    );
    drop((a, b, worker));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_server_on_sqlite_books_each_slot_once() {
    let _turn = ONE_AT_A_TIME.lock().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let db_path = dir.path().join("guidance.db");
    let db_url = format!("sqlite://{}", db_path.display());
    let server = common::serve(&db_url, &dir.path().join("mail"), dir.path(), "serve");
    let api = Api::with_client(&server.url, client(Duration::from_secs(120)));
    let slots = api.create_slots(48, SLOTS).await;

    let answers = book_all_at_once(std::slice::from_ref(&api), &slots, REQUESTS).await;
    assert_one_winner_per_slot(&answers, || server.process.log_text());

    // Read the file directly, while the server still runs (WAL: readers do not block it).
    let mut conn =
        sqlx::SqliteConnection::connect(&format!("sqlite://{}?mode=ro", db_path.display()))
            .await
            .expect("open the database file");
    let counts: (i64, i64, i64, i64) = sqlx::query_as(common::LIVE_COUNTS)
        .fetch_one(&mut conn)
        .await
        .expect("count bookings");
    assert_eq!(counts, (SLOTS as i64, 0, SLOTS as i64, SLOTS as i64));
    let all: i64 = sqlx::query_scalar("SELECT count(*) FROM guidance_bookings")
        .fetch_one(&mut conn)
        .await
        .expect("count bookings");
    assert_eq!(all, SLOTS as i64, "no booking besides the live ones");
    let live: BTreeSet<String> = sqlx::query_scalar(common::LIVE_IDS)
        .fetch_all(&mut conn)
        .await
        .expect("live ids")
        .into_iter()
        .collect();
    assert_eq!(live, winners(&answers));
    conn.close().await.ok();
}

/// Emails queued for the bulk tests.
const BULK: usize = 2_000;

/// `BULK` plain emails as an older version queued them, each with its own Message-ID: the
/// workers seal them at start-up and send them.
const BULK_PG: &str = "INSERT INTO guidance_email_outbox \
    (kind, recipient, subject, message_id, message, next_attempt_at) \
    SELECT 'owner_note', 'owner@example.org', 'Bulk', '<bulk-' || i || '@guidance.test>', \
      convert_to('Message-ID: <bulk-' || i || '@guidance.test>' || E'\\r\\nSubject: Bulk\\r\\n\\r\\nHello\\r\\n', 'UTF8'), \
      now() \
    FROM generate_series(1, 2000) AS i";

/// [`BULK_PG`] for SQLite.
const BULK_SQLITE: &str = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2000) \
    INSERT INTO guidance_email_outbox \
    (id, kind, recipient, subject, message_id, message, next_attempt_at, created_at) \
    SELECT printf('00000000-0000-4000-8000-%012d', i), 'owner_note', 'owner@example.org', 'Bulk', \
      '<bulk-' || i || '@guidance.test>', \
      CAST('Message-ID: <bulk-' || i || '@guidance.test>' || char(13, 10) || 'Subject: Bulk' \
        || char(13, 10, 13, 10) || 'Hello' || char(13, 10) AS BLOB), \
      '2000-01-01T00:00:00Z', '2000-01-01T00:00:00Z' \
    FROM n";

/// Starts `workers` × `guidance worker` on `db_url`, sending to a fresh SMTP sink, waits until
/// the outbox holds no unsent email, and checks at the sink that each of the `BULK` emails
/// arrived exactly once, with the bytes that were queued.
async fn bulk_arrives_once(db_url: &str, dir: &std::path::Path, workers: usize) {
    use guidance_testkit::smtp::Sink;
    let sink = Sink::start(&[]);
    let processes: Vec<Process> = (0..workers)
        .map(|n| {
            let mut cmd = common::command(
                &["worker"],
                db_url,
                &dir.join("mail"),
                &dir.join(format!("worker-{n}")),
            );
            cmd.env("GUIDANCE_SMTP_URL", sink.url(None));
            Process::start(cmd, dir.join(format!("worker-{n}.log")))
        })
        .collect();
    let logs = || {
        processes
            .iter()
            .map(Process::log_text)
            .collect::<Vec<_>>()
            .join("\n----\n")
    };
    let received = poll(Duration::from_secs(120), || async {
        let got = sink.messages();
        (got.len() >= BULK).then_some(got)
    })
    .await
    .unwrap_or_else(|| panic!("{} of {BULK} arrived\n{}", sink.messages().len(), logs()));
    let mut by_id: BTreeMap<String, usize> = BTreeMap::new();
    for m in &received {
        *by_id.entry(m.message_id.clone()).or_default() += 1;
        let want = format!(
            "Message-ID: {}\r\nSubject: Bulk\r\n\r\nHello\r\n",
            m.message_id
        );
        // The end of DATA adds a line break of its own.
        assert_eq!(
            String::from_utf8_lossy(&m.raw).trim_end(),
            want.trim_end(),
            "the bytes that were queued"
        );
    }
    assert_eq!(by_id.len(), BULK, "every email arrived\n{}", logs());
    let twice: Vec<_> = by_id.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "delivered more than once: {twice:?}");
    drop(processes);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_workers_on_postgresql_deliver_each_of_2000_emails_once() {
    let _turn = ONE_AT_A_TIME.lock().await;
    let db = TestDatabase::create().await;
    let dir = tempfile::tempdir().expect("tempdir");
    common::migrate(&db.url, dir.path());
    let pool = sqlx::PgPool::connect(&db.url).await.expect("connect");
    sqlx::query(BULK_PG)
        .execute(&pool)
        .await
        .expect("queue emails");
    bulk_arrives_once(&db.url, dir.path(), 2).await;
    let unsent: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM guidance_email_outbox WHERE status <> 'sent' OR get_byte(message, 0) <> 0",
    )
    .fetch_one(&pool)
    .await
    .expect("count");
    assert_eq!(unsent, 0, "every email recorded as sent, and kept sealed");
    pool.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_on_sqlite_delivers_each_of_2000_emails_once() {
    let _turn = ONE_AT_A_TIME.lock().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let db_url = format!("sqlite://{}", dir.path().join("guidance.db").display());
    common::migrate(&db_url, dir.path());
    let mut conn = sqlx::SqliteConnection::connect(&db_url)
        .await
        .expect("open the database file");
    sqlx::query(BULK_SQLITE)
        .execute(&mut conn)
        .await
        .expect("queue emails");
    bulk_arrives_once(&db_url, dir.path(), 1).await;
    let unsent: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM guidance_email_outbox WHERE status <> 'sent' OR substr(message, 1, 1) <> X'00'",
    )
    .fetch_one(&mut conn)
    .await
    .expect("count");
    assert_eq!(unsent, 0, "every email recorded as sent, and kept sealed");
}
