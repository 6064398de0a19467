//! Moving up: a populated SQLite database copied into PostgreSQL reads back the same through
//! the [`Store`] trait, nothing lost; a non-empty target is refused and left as it was.

#[allow(
    dead_code,
    reason = "only the fixture of the contract module is used here"
)]
mod contract;

use guidance_core::TokenHash;
use guidance_store::Store;
use guidance_store::copy::{CopyError, sqlite_to_postgres};
use guidance_store::postgres::PostgresStore;
use guidance_store::sqlite::SqliteStore;
use guidance_testkit::pg::TestDatabase;
use jiff::{SignedDuration, Timestamp};

/// Everything the store can say about its data, as comparable text.
async fn everything(store: &dyn Store, tokens: &[TokenHash]) -> Vec<String> {
    let far = SignedDuration::from_hours(24 * 365);
    let now = Timestamp::now();
    let mut out = vec![format!(
        "{:?}",
        store
            .list_slots(now - far, now + far, None)
            .await
            .expect("slots")
    )];
    let bookings = store.list_bookings(None).await.expect("bookings");
    out.push(format!("{bookings:?}"));
    for b in &bookings {
        out.push(format!(
            "{:?}",
            store.booking_events(b.id).await.expect("events")
        ));
        out.push(format!(
            "{:?}",
            store.booking_emails(b.id).await.expect("emails")
        ));
    }
    for t in tokens {
        out.push(format!("{:?}", store.find_token(t).await.expect("token")));
    }
    out.push(format!(
        "{:?}",
        store.next_email_due(now).await.expect("due")
    ));
    out.push(format!(
        "{:?}",
        store.list_questions().await.expect("questions")
    ));
    out.push(format!("{:?}", store.settings().await.expect("settings")));
    out.push(format!(
        "{:?}",
        store.list_calendar_replies(100).await.expect("replies")
    ));
    out.push(format!(
        "{:?}",
        store.admin_password_hash().await.expect("password")
    ));
    out.push(format!(
        "{:?}",
        store
            .admin_setup_token_valid(&TokenHash::from_stored("5f".repeat(32)), now)
            .await
            .expect("setup link")
    ));
    out
}

/// Whether the owner's session written by `populate_a_site` is alive (touching it moves its
/// idle expiry, so this is asked once per store, at the end).
async fn session_alive(store: &dyn Store) -> bool {
    let now = Timestamp::now();
    store
        .touch_admin_session(
            &TokenHash::from_stored("5e".repeat(32)),
            now,
            now + SignedDuration::from_hours(1),
        )
        .await
        .expect("session")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_populated_site_round_trips_into_postgres() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sqlite = SqliteStore::open(&dir.path().join("guidance.db"))
        .await
        .expect("sqlite");
    let tokens = contract::populate_a_site(&sqlite).await;
    let db = TestDatabase::create().await;

    let report = sqlite_to_postgres(&sqlite, &db.url).await.expect("copy");
    let counts: Vec<u64> = report.iter().map(|(_, n)| *n).collect();
    assert_eq!(
        report.len(),
        guidance_store::postgres::TABLES.len() - guidance_store::copy::NOT_COPIED.len()
    );
    assert!(
        counts.iter().all(|n| *n > 0),
        "every table had rows: {report:?}"
    );

    let pg = PostgresStore::connect(&db.url).await.expect("postgres");
    let before = everything(&sqlite, &tokens).await;
    let after = everything(&pg, &tokens).await;
    assert_eq!(before.len(), after.len());
    for (b, a) in before.iter().zip(&after) {
        assert_eq!(b, a);
    }
    assert!(
        before.iter().any(|l| l.contains("used_at: Some")),
        "the data includes a used token"
    );
    assert!(
        before.iter().any(|l| l.contains("$argon2id$")),
        "the data includes the owner's password hash"
    );
    assert!(session_alive(&sqlite).await && session_alive(&pg).await);

    // The copy goes on working: the next claim picks the same email on both, with the same
    // attempt count, and new audit events continue after the copied ones.
    let at = Timestamp::now() + SignedDuration::from_hours(2);
    let on_sqlite = sqlite
        .claim_email(at, at)
        .await
        .expect("claim")
        .expect("due");
    let on_pg = pg.claim_email(at, at).await.expect("claim").expect("due");
    assert_eq!(
        (on_sqlite.id, on_sqlite.attempts, on_sqlite.message_id),
        (on_pg.id, on_pg.attempts, on_pg.message_id)
    );
    let open = pg
        .list_slots(
            at - SignedDuration::from_hours(2),
            at + SignedDuration::from_hours(24 * 7),
            Some(guidance_core::SlotStatus::Open),
        )
        .await
        .expect("slots");
    assert!(!open.is_empty());
    pg.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_non_empty_target_is_refused_and_left_alone() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sqlite = SqliteStore::open(&dir.path().join("guidance.db"))
        .await
        .expect("sqlite");
    contract::populate_a_site(&sqlite).await;
    let db = TestDatabase::create().await;
    sqlite_to_postgres(&sqlite, &db.url)
        .await
        .expect("first copy");
    let pg = PostgresStore::connect(&db.url).await.expect("postgres");
    let before = everything(&pg, &[]).await;

    let second = sqlite_to_postgres(&sqlite, &db.url).await;
    match second {
        Err(e @ CopyError::TargetNotEmpty { .. }) => {
            let message = e.to_string();
            assert!(message.contains("not empty"), "{message}");
            assert!(message.contains("guidance_availability"), "{message}");
        }
        other => panic!("expected TargetNotEmpty, got {other:?}"),
    }
    assert_eq!(
        everything(&pg, &[]).await,
        before,
        "the target is unchanged"
    );
    pg.close().await;
}
