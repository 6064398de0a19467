//! What PostgreSQL does with the outbox's statements, seen from inside one transaction.

use guidance_testkit::pg::TestDatabase;
use jiff::{SignedDuration, Timestamp};

use super::PostgresStore;
use super::tx::PgTx;
use crate::NewEmail;
use crate::shared::outbox;
use crate::shared::rows::PlainColumns as _;
use crate::shared::tx::Tx as _;
use crate::shared::tx::Value::{Int, Time};

/// A transaction on a freshly migrated database; the database is dropped with the first of the
/// pair, so keep it as long as the transaction.
async fn migrated_tx() -> (TestDatabase, PgTx) {
    let db = TestDatabase::create().await;
    let store = PostgresStore::migrate(&db.url).await.expect("migrate");
    let tx = store.tx().await.expect("begin");
    (db, tx)
}

/// An email to the owner, due at once, of `size` bytes.
fn owner_email(message_id: String, size: usize) -> NewEmail {
    NewEmail {
        id: guidance_core::ids::new_row_id(),
        kind: "owner_request".into(),
        recipient: "owner@example.org".into(),
        subject: "A request".into(),
        message_id,
        message: vec![7; size],
        send_after: None,
        send_before: None,
        leased_until: None,
    }
}

/// A claim writes the email's new version beside the old one, with no new entry in any index
/// (a heap-only tuple): it changes no indexed column, and the page has room for it. An index
/// that reads the lease, or a full page, would double the claim's cost (see BENCHMARKS.md).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_claim_updates_the_email_in_place() {
    let (_db, mut tx) = migrated_tx().await;
    let now = Timestamp::now();
    let email = owner_email("<claim-in-place@example.org>".into(), 1024);
    outbox::insert(&mut tx, None, &[email], now)
        .await
        .expect("queue an email");
    let claim = outbox::claim_statement::<PostgresStore>(" FOR UPDATE SKIP LOCKED");
    let lease = now + SignedDuration::from_mins(5);
    let claimed = tx
        .fetch_all(&claim, &[Time(now), Time(lease), Int(32)])
        .await
        .expect("claim");
    assert_eq!(claimed.len(), 1);
    let counts = tx
        .fetch_optional(
            "SELECT pg_stat_get_xact_tuples_updated(c.oid) AS updated, \
                    pg_stat_get_xact_tuples_hot_updated(c.oid) AS in_place \
             FROM pg_class c WHERE c.relname = 'guidance_email_outbox'",
            &[],
        )
        .await
        .expect("the transaction's counts")
        .expect("the outbox's row in pg_class");
    let updated = counts.int("updated").expect("updated");
    let in_place = counts.int("in_place").expect("in place");
    assert_eq!((updated, in_place), (1, 1));
}

/// A claim reads the waiting emails in its own order and stops at the last one it takes: a
/// busy second queues hundreds with the same due time (times are whole seconds), and a claim
/// that sorted them all would cost as much as the backlog is long (see BENCHMARKS.md).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_claim_reads_only_the_emails_it_takes() {
    let (_db, mut tx) = migrated_tx().await;
    let now = Timestamp::now();
    let emails: Vec<NewEmail> = (0..300)
        .map(|i| owner_email(format!("<backlog-{i}@example.org>"), 512))
        .collect();
    outbox::insert(&mut tx, None, &emails, now)
        .await
        .expect("queue a second's emails");
    tx.execute("ANALYZE guidance_email_outbox", &[])
        .await
        .expect("analyze");
    let claim = outbox::claim_statement::<PostgresStore>(" FOR UPDATE SKIP LOCKED");
    let lease = now + SignedDuration::from_mins(5);
    let plan = tx
        .fetch_all(
            &format!("EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) {claim}"),
            &[Time(now), Time(lease), Int(16)],
        )
        .await
        .expect("explain the claim")
        .iter()
        .map(|row| row.text("QUERY PLAN"))
        .collect::<Result<Vec<_>, _>>()
        .expect("the plan's lines")
        .join("\n");
    assert!(!plan.contains("Sort"), "the claim sorts:\n{plan}");
    // `Index Scan using guidance_email_outbox_waiting on … (actual rows=16 loops=1)`
    let read_waiting = plan
        .lines()
        .find(|line| line.contains("using guidance_email_outbox_waiting"))
        .and_then(|line| line.split("actual rows=").nth(1))
        .and_then(|rest| rest.split(' ').next());
    assert_eq!(read_waiting, Some("16"), "{plan}");
}
