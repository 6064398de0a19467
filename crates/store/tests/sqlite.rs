//! Runs the [`Store`] contract suite (`tests/contract/`) on SQLite: each test gets a fresh
//! database file in its own temporary directory.

#[macro_use]
mod contract;

use std::sync::Arc;

use guidance_store::Store;
use guidance_store::sqlite::SqliteStore;

/// A fresh, migrated SQLite store; the directory lives as long as the returned guard.
async fn fresh_store() -> (tempfile::TempDir, Arc<dyn Store>) {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = SqliteStore::open(&dir.path().join("guidance.db"))
        .await
        .expect("open SQLite store");
    (dir, Arc::new(store))
}

/// One `#[tokio::test]` per contract function, each on its own database.
macro_rules! contract_tests {
    ($($name:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                let (_dir, store) = fresh_store().await;
                contract::$name(store).await;
            }
        )*
    };
}

all_contract_tests!(contract_tests);

/// The overlap trigger on UPDATE checks what can create an overlap (times that change, a slot
/// that becomes live again) and lets a slot move between open and booked without a check.
#[tokio::test]
async fn overlap_trigger_checks_time_changes_and_reopening() {
    use sqlx::Connection;
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("guidance.db");
    SqliteStore::open(&path).await.expect("migrate");
    let mut db = sqlx::sqlite::SqliteConnection::connect(&format!("sqlite://{}", path.display()))
        .await
        .expect("connect");
    sqlx::raw_sql(
        "INSERT INTO guidance_availability (id, starts_at, ends_at, status, created_at, updated_at) VALUES \
         ('a', '2030-01-01T10:00:00Z', '2030-01-01T11:00:00Z', 'open', '2029-01-01T00:00:00Z', '2029-01-01T00:00:00Z'), \
         ('b', '2030-01-01T11:00:00Z', '2030-01-01T12:00:00Z', 'open', '2029-01-01T00:00:00Z', '2029-01-01T00:00:00Z')",
    )
    .execute(&mut db)
    .await
    .expect("two adjacent slots");
    let run = |sql: &'static str| sqlx::raw_sql(sql);

    for sql in [
        "UPDATE guidance_availability SET status = 'booked' WHERE id = 'a'",
        "UPDATE guidance_availability SET status = 'open' WHERE id = 'a'",
        "UPDATE guidance_availability SET ends_at = '2030-01-01T10:30:00Z' WHERE id = 'a'",
    ] {
        run(sql)
            .execute(&mut db)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
    }
    for sql in [
        "UPDATE guidance_availability SET ends_at = '2030-01-01T11:30:00Z' WHERE id = 'a'",
        "UPDATE guidance_availability SET starts_at = '2030-01-01T10:15:00Z' WHERE id = 'b'",
    ] {
        let e = run(sql).execute(&mut db).await.expect_err(sql);
        assert!(
            e.to_string().contains("guidance_slot_overlap"),
            "{sql}: {e}"
        );
    }
    // Withdrawn, b no longer blocks a; but b cannot come back over a.
    run("UPDATE guidance_availability SET status = 'unavailable' WHERE id = 'b'")
        .execute(&mut db)
        .await
        .expect("withdraw b");
    run("UPDATE guidance_availability SET ends_at = '2030-01-01T11:30:00Z' WHERE id = 'a'")
        .execute(&mut db)
        .await
        .expect("a may now reach into b's time");
    let e = run("UPDATE guidance_availability SET status = 'open' WHERE id = 'b'")
        .execute(&mut db)
        .await
        .expect_err("b reopened over a");
    assert!(e.to_string().contains("guidance_slot_overlap"), "{e}");
    db.close().await.ok();
}

/// The migration that adds the `unconfirmed` status rebuilds `guidance_bookings` and
/// `guidance_booking_actions` (SQLite changes a CHECK only that way): a database made before it,
/// with bookings, links, history and emails, keeps every row and every reference, and gains the
/// new rules.
#[tokio::test]
async fn the_rebuild_for_unconfirmed_requests_keeps_every_row_and_reference() {
    use sqlx::{Connection, Row};
    const REBUILD: i64 = 20261215000001;
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("guidance.db");
    let options = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(&path)
        .create_if_missing(true)
        .foreign_keys(true);
    let mut db = sqlx::sqlite::SqliteConnection::connect_with(&options)
        .await
        .expect("connect");
    let mut before = sqlx::migrate!("./migrations/sqlite");
    before.migrations = before
        .migrations
        .iter()
        .filter(|m| m.version < REBUILD)
        .cloned()
        .collect::<Vec<_>>()
        .into();
    assert!(!before.migrations.is_empty());
    before.run(&mut db).await.expect("the earlier migrations");
    let t = "'2029-01-01T00:00:00Z'";
    sqlx::raw_sql(&format!(
        "INSERT INTO guidance_availability (id, starts_at, ends_at, status, created_at, updated_at) VALUES \
           ('00000000-0000-0000-0000-0000000000a1', '2030-01-01T10:00:00Z', '2030-01-01T11:00:00Z', 'booked', {t}, {t}), \
           ('00000000-0000-0000-0000-0000000000a2', '2030-01-01T11:00:00Z', '2030-01-01T12:00:00Z', 'open', {t}, {t}); \
         INSERT INTO guidance_bookings (id, slot_id, starts_at, ends_at, requester_name, requester_email, \
           requester_locale, requester_time_zone, topic, priority, answers, status, version, ics_uid, \
           ics_sequence, created_at, updated_at, cancelled_at) VALUES \
           ('00000000-0000-0000-0000-0000000000b1', '00000000-0000-0000-0000-0000000000a1', '2030-01-01T10:00:00Z', '2030-01-01T11:00:00Z', \
            'Ann', 'Ann@Example.test', 'de', 'Europe/Berlin', 'Topic', 'high', '{{\"a\":1}}', 'pending', 0, 'u1', 0, {t}, {t}, NULL), \
           ('00000000-0000-0000-0000-0000000000b2', '00000000-0000-0000-0000-0000000000a2', '2030-01-01T11:00:00Z', '2030-01-01T12:00:00Z', \
            'Bob', 'bob@example.test', 'en', 'UTC', 'Other', 'low', '{{}}', 'cancelled', 2, 'u2', 2, {t}, {t}, {t}); \
         INSERT INTO guidance_booking_actions (id, booking_id, action, token_hash, booking_version, expires_at, created_at) VALUES \
           ('a1', '00000000-0000-0000-0000-0000000000b1', 'accept', 'h1', 0, '2030-01-01T10:00:00Z', {t}), \
           ('a2', '00000000-0000-0000-0000-0000000000b2', 'pick_slot', 'h2', 1, '2030-01-01T10:00:00Z', {t}); \
         INSERT INTO guidance_booking_events (booking_id, actor, action, from_status, to_status, created_at) VALUES \
           ('00000000-0000-0000-0000-0000000000b1', 'requester', 'request', NULL, 'pending', {t}), \
           ('00000000-0000-0000-0000-0000000000b2', 'owner', 'cancel', 'needs_reschedule', 'cancelled', {t}); \
         INSERT INTO guidance_email_outbox (id, booking_id, kind, recipient, subject, message_id, message, next_attempt_at, created_at) VALUES \
           ('00000000-0000-0000-0000-0000000000e1', '00000000-0000-0000-0000-0000000000b1', 'owner_new_request', 'o@example.test', 'S', '<m1@x>', x'00', {t}, {t});"
    ))
    .execute(&mut db)
    .await
    .expect("a site made before the rebuild");
    db.close().await.expect("close");

    let store = SqliteStore::open(&path).await.expect("the rebuild");
    let counts = |table: &'static str| {
        let reader = store.reader().clone();
        async move {
            sqlx::query_scalar::<_, i64>(&format!("SELECT COUNT(*) FROM {table}"))
                .fetch_one(&reader)
                .await
                .expect("count")
        }
    };
    assert_eq!(counts("guidance_bookings").await, 2);
    assert_eq!(counts("guidance_booking_actions").await, 2);
    assert_eq!(counts("guidance_booking_events").await, 2);
    assert_eq!(counts("guidance_email_outbox").await, 1);
    let b1: uuid::Uuid = "00000000-0000-0000-0000-0000000000b1".parse().unwrap();
    let b = store.get_booking(b1).await.expect("the pending booking");
    assert_eq!(
        (b.email.as_str(), b.status, b.answers.clone()),
        (
            "Ann@Example.test",
            guidance_core::BookingStatus::Pending,
            serde_json::json!({"a": 1})
        )
    );
    assert_eq!(store.booking_events(b1).await.expect("events").len(), 1);
    assert_eq!(store.booking_emails(b1).await.expect("emails").len(), 1);

    let mut db = sqlx::sqlite::SqliteConnection::connect_with(&options)
        .await
        .expect("connect");
    let broken = sqlx::query("PRAGMA foreign_key_check")
        .fetch_all(&mut db)
        .await
        .expect("foreign key check");
    assert!(broken.is_empty(), "every reference holds");
    // The other tables still refer to the (rebuilt) bookings.
    for table in [
        "guidance_booking_actions",
        "guidance_booking_events",
        "guidance_email_outbox",
    ] {
        let refs: Vec<String> = sqlx::query(&format!("PRAGMA foreign_key_list({table})"))
            .fetch_all(&mut db)
            .await
            .expect("foreign keys")
            .iter()
            .map(|r| r.get::<String, _>("table"))
            .collect();
        assert_eq!(refs, ["guidance_bookings"], "{table}");
    }
    // The new rules hold: 'unconfirmed' holds a slot, 'confirm' links exist, unknown values don't.
    let unconfirmed = format!(
        "INSERT INTO guidance_bookings (id, slot_id, starts_at, ends_at, requester_name, requester_email, \
           requester_locale, requester_time_zone, topic, priority, status, ics_uid, created_at, updated_at) \
         VALUES ('b3', '00000000-0000-0000-0000-0000000000a1', '2030-01-01T10:00:00Z', '2030-01-01T11:00:00Z', 'Cy', 'cy@example.test', 'en', 'UTC', \
           'T', 'low', 'unconfirmed', 'u3', {t}, {t})"
    );
    let e = sqlx::raw_sql(&unconfirmed)
        .execute(&mut db)
        .await
        .expect_err("one live booking per slot");
    assert!(e.to_string().contains("UNIQUE"), "{e}");
    sqlx::raw_sql(&unconfirmed.replace(
        "'00000000-0000-0000-0000-0000000000a1'",
        "'00000000-0000-0000-0000-0000000000a2'",
    ))
    .execute(&mut db)
    .await
    .expect("an unconfirmed request on a free slot");
    sqlx::raw_sql(&format!(
        "INSERT INTO guidance_booking_actions (id, booking_id, action, token_hash, booking_version, expires_at, created_at) \
         VALUES ('a3', 'b3', 'confirm', 'h3', 0, '2030-01-01T10:00:00Z', {t})"
    ))
    .execute(&mut db)
    .await
    .expect("a confirm link");
    for bad in [
        "UPDATE guidance_bookings SET status = 'maybe' WHERE id = 'b3'",
        "UPDATE guidance_booking_actions SET action = 'maybe' WHERE id = 'a3'",
        "INSERT INTO guidance_booking_actions (id, booking_id, action, token_hash, booking_version, expires_at, created_at) \
         VALUES ('a4', 'nobody', 'confirm', 'h4', 0, 'x', 'x')",
    ] {
        sqlx::raw_sql(bad).execute(&mut db).await.expect_err(bad);
    }
    // Deleting a booking still takes its links and history with it, and keeps its emails.
    sqlx::raw_sql(
        "DELETE FROM guidance_bookings WHERE id = '00000000-0000-0000-0000-0000000000b1'",
    )
    .execute(&mut db)
    .await
    .expect("delete");
    assert_eq!(counts("guidance_booking_actions").await, 2);
    assert_eq!(counts("guidance_booking_events").await, 1);
    assert_eq!(counts("guidance_email_outbox").await, 1);
    let indexes: Vec<String> = sqlx::query_scalar(
        "SELECT sql FROM sqlite_master WHERE type = 'index' AND name = 'guidance_bookings_one_live_per_slot'",
    )
    .fetch_all(&mut db)
    .await
    .expect("indexes");
    assert!(indexes[0].contains("'unconfirmed'"), "{indexes:?}");
}

#[cfg(unix)]
#[tokio::test]
async fn the_database_and_its_companions_are_the_owners_alone() {
    use std::os::unix::fs::PermissionsExt;
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("data/sub/guidance.db");
    let store = SqliteStore::open_url(&format!("sqlite://{}", db.display()))
        .await
        .expect("open");
    assert_eq!(mode(&dir.path().join("data")), 0o700);
    assert_eq!(mode(&dir.path().join("data/sub")), 0o700);
    for name in ["guidance.db", "guidance.db-wal", "guidance.db-shm"] {
        let file = dir.path().join("data/sub").join(name);
        if name == "guidance.db" || file.exists() {
            assert_eq!(mode(&file), 0o600, "{name}");
        }
    }
    assert!(
        dir.path().join("data/sub/guidance.db-wal").exists(),
        "WAL mode"
    );
    drop(store);
    // A database made readable by all (by an older version) is closed again when opened.
    std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o644)).unwrap();
    let _store = SqliteStore::open(&db).await.expect("reopen");
    assert_eq!(mode(&db), 0o600);
    assert_eq!(mode(&dir.path().join("data/sub/guidance.db-wal")), 0o600);
}

/// After an erasure, the visitor's name, address, topic and answers are in neither the database
/// file nor its write-ahead log: deleted content is overwritten, and the log emptied.
/// Books an hour three days after `t0` for Zebulon Quaxwright of Quaxcorp, with one email.
async fn book_zebulon(store: &SqliteStore, t0: jiff::Timestamp) -> uuid::Uuid {
    use guidance_core::intake::RawIntake;
    use guidance_core::{BookingStatus, Intake, SlotWindow};
    use guidance_store::{NewBooking, NewEmail};
    use jiff::SignedDuration;

    let start = t0 + SignedDuration::from_hours(72);
    let window = SlotWindow::parse(start, start + SignedDuration::from_mins(60)).unwrap();
    let slot = store.create_slot(window, None, t0).await.expect("slot");
    let intake = Intake::parse(&RawIntake {
        name: "Zebulon Quaxwright".into(),
        email: "zebulon.quaxwright@example.test".into(),
        topic: "Migrating the quaxwright archive".into(),
        priority: "normal".into(),
        answers: serde_json::json!({"company": "Quaxcorp Limited"}),
        locale: "en".into(),
        time_zone: "UTC".into(),
    })
    .expect("intake");
    let id = uuid::Uuid::new_v4();
    let email = NewEmail {
        id: guidance_core::ids::new_row_id(),
        kind: "requester_received".into(),
        recipient: "zebulon.quaxwright@example.test".into(),
        subject: "Your request, Zebulon Quaxwright".into(),
        message_id: format!("<{id}@guidance.test>"),
        message: b"To: zebulon.quaxwright@example.test\r\n\r\nQuaxcorp Limited".to_vec(),
        send_after: None,
        send_before: None,
        leased_until: None,
    };
    store
        .create_booking(NewBooking {
            id,
            slot_id: slot.id,
            window,
            intake,
            status: BookingStatus::Pending,
            ics_uid: format!("{id}@guidance.test"),
            tokens: Vec::new(),
            emails: vec![email],
            answer_by: None,
            answer_reminder_at: None,
            pending_limit: None,
            keep_answer: None,
            after_commit: Default::default(),
            webhook: None,
            now: t0,
        })
        .await
        .expect("booked");
    id
}

/// A booking reaches the database file itself soon after its commit, copied from the log by the
/// store's own checkpoints, not by the writer stopping every so many thousand pages: a copy of
/// the file without its log holds it.
#[tokio::test]
async fn a_booking_reaches_the_database_file_soon_after_its_commit() {
    use sqlx::Connection;
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("guidance.db");
    let store = SqliteStore::open(&path).await.expect("open");
    let t0 = jiff::Timestamp::from_second(jiff::Timestamp::now().as_second()).unwrap();
    let id = book_zebulon(&store, t0).await;

    let copies = tempfile::tempdir().expect("temp dir");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    for attempt in 0.. {
        // A copy taken in the middle of a checkpoint may be torn: that is a "not yet".
        let copy = copies.path().join(format!("alone-{attempt}.db"));
        std::fs::copy(&path, &copy).expect("copy the file alone");
        let found = async {
            let mut db =
                sqlx::sqlite::SqliteConnection::connect(&format!("sqlite://{}", copy.display()))
                    .await
                    .ok()?;
            sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM guidance_bookings WHERE id = ?")
                .bind(id.to_string())
                .fetch_one(&mut db)
                .await
                .ok()
        }
        .await;
        if found == Some(1) {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "after 10 s the booking is still only in the log"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn erased_data_leaves_no_bytes_in_the_file_or_its_log() {
    use guidance_store::{Actor, Erase, Erasure};
    use jiff::{SignedDuration, Timestamp};

    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("guidance.db");
    let store = SqliteStore::open(&path).await.expect("open");
    let t0 = Timestamp::from_second(Timestamp::now().as_second()).unwrap();
    book_zebulon(&store, t0).await;
    let sent: Vec<uuid::Uuid> = store
        .claim_emails(t0, t0 + SignedDuration::from_mins(5), 10)
        .await
        .expect("claimed")
        .iter()
        .map(|m| m.id)
        .collect();
    store.mark_emails_sent(&sent, t0).await.expect("sent");
    let files = || {
        ["", "-wal"]
            .iter()
            .map(|suffix| {
                let mut p = path.as_os_str().to_owned();
                p.push(suffix);
                std::fs::read(std::path::PathBuf::from(p)).unwrap_or_default()
            })
            .collect::<Vec<_>>()
            .concat()
    };
    let holds =
        |bytes: &[u8], needle: &str| bytes.windows(needle.len()).any(|w| w == needle.as_bytes());
    let words = ["Zebulon", "Quaxwright", "quaxwright@example", "Quaxcorp"];
    // The check can fail: before the erasure, the data is there to be found.
    assert!(words.iter().all(|w| holds(&files(), w)));

    store
        .erase(Erasure {
            whom: Erase::Email("ZEBULON.QUAXWRIGHT@example.test".into()),
            actor: Actor::Owner,
            now: t0,
        })
        .await
        .expect("erased");
    let bytes = files();
    for w in words {
        assert!(!holds(&bytes, w), "{w} is still in the database files");
    }
}
