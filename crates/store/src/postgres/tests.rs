//! What PostgreSQL does with the outbox's statements, seen from inside one transaction.

use jiff::{SignedDuration, Timestamp};
use sqlx::Connection as _;

use super::{PgTime, PostgresStore};
use crate::shared::outbox;
use guidance_testkit::pg::TestDatabase;

/// A claim writes the email's new version beside the old one, with no new entry in any index
/// (a heap-only tuple): it changes no indexed column, and the page has room for it. An index
/// that reads the lease, or a full page, would double the claim's cost (see BENCHMARKS.md).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_claim_updates_the_email_in_place() {
    let db = TestDatabase::create().await;
    let store = PostgresStore::migrate(&db.url).await.expect("migrate");
    let mut conn = store.connection().await.expect("connection");
    let mut tx = conn.begin().await.expect("begin");
    let now = Timestamp::now();
    sqlx::query(
        "INSERT INTO guidance_email_outbox (kind, recipient, subject, message_id, message, \
         next_attempt_at) VALUES ('owner_request', 'owner@example.org', 'A request', \
         'claim-in-place@example.org', $1, $2)",
    )
    .bind(vec![7_u8; 1024])
    .bind(PgTime(now))
    .execute(&mut *tx)
    .await
    .expect("queue an email");
    let claim = outbox::claim_statement::<PostgresStore>(" FOR UPDATE SKIP LOCKED");
    let claimed = sqlx::query(&claim)
        .bind(PgTime(now))
        .bind(PgTime(now + SignedDuration::from_mins(5)))
        .bind(32_i64)
        .fetch_all(&mut *tx)
        .await
        .expect("claim");
    assert_eq!(claimed.len(), 1);
    let (updated, in_place): (i64, i64) = sqlx::query_as(
        "SELECT pg_stat_get_xact_tuples_updated(c.oid), \
                pg_stat_get_xact_tuples_hot_updated(c.oid) \
         FROM pg_class c WHERE c.relname = 'guidance_email_outbox'",
    )
    .fetch_one(&mut *tx)
    .await
    .expect("the transaction's counts");
    assert_eq!((updated, in_place), (1, 1));
}
