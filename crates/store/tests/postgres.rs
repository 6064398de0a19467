//! Runs the [`Store`] contract suite (`tests/contract/`) on PostgreSQL: each test gets a fresh
//! database (`guidance_test_<random>`, dropped afterwards) with Supabase's roles emulated, so the
//! store runs its transactions as `service_role` exactly as on a Supabase project.
//!
//! PostgreSQL must answer at `GUIDANCE_TEST_PG_URL` (default 127.0.0.1:5432, user postgres);
//! when it does not, every test here fails: none is skipped.

#[macro_use]
mod contract;

use std::sync::Arc;

use guidance_store::Store;
use guidance_store::postgres::PostgresStore;
use guidance_testkit::pg::TestDatabase;

/// A fresh, migrated PostgreSQL store; the database lives as long as the returned guard.
async fn fresh_store() -> (TestDatabase, Arc<dyn Store>) {
    let db = TestDatabase::create().await;
    let store = PostgresStore::migrate(&db.url)
        .await
        .expect("migrate the test database");
    assert!(
        store.uses_service_role(),
        "the store must switch to the emulated service_role"
    );
    (db, Arc::new(store))
}

/// One `#[tokio::test]` per contract function, each on its own database.
macro_rules! contract_tests {
    ($($name:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                let (_db, store) = fresh_store().await;
                contract::$name(store).await;
            }
        )*
    };
}

all_contract_tests!(contract_tests);

/// Behind Supabase's transaction pooler the prepared-statement cache is off
/// (`?statement-cache-capacity=0`): the store works the same, races included, and leaves no
/// prepared statement behind on the server connection.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_statement_cache() {
    let db = TestDatabase::create().await;
    PostgresStore::migrate(&db.url).await.expect("migrate");
    let url = format!("{}?statement-cache-capacity=0", db.url);
    let store = PostgresStore::connect(&url).await.expect("connect");
    // Each contract body expects an empty store: one body, the one with the most contention.
    contract::booking_race_has_one_winner(Arc::new(store.clone())).await;
    let mut conn = store.connection().await.expect("connection");
    let prepared: Vec<String> = sqlx::query_scalar("SELECT statement FROM pg_prepared_statements")
        .persistent(false)
        .fetch_all(&mut *conn)
        .await
        .expect("prepared statements");
    assert!(
        prepared.is_empty(),
        "named prepared statements outlived their transactions: {prepared:?}"
    );
}

/// Connections the database ended while they sat idle (a restart, a proxy's timeout) are found
/// out by the next transaction's `BEGIN`, which changed nothing, and replaced: no request
/// fails for them, a booking (whose `BEGIN` goes with its first statement) included, and the
/// store keeps no dead connection.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_ended_while_idle_are_replaced_without_a_failed_request() {
    let (db, store) = fresh_store().await;
    let t0 = jiff::Timestamp::now();
    let slot = contract::slot_at(&*store, contract::future(t0), 60).await;
    let earlier = contract::slot_at(
        &*store,
        contract::future(t0) + jiff::SignedDuration::from_hours(2),
        60,
    )
    .await;
    // Several connections at once, so that several are idle afterwards.
    let list = || store.list_slots(t0, t0, None);
    let (a, b, c) = tokio::join!(list(), list(), list());
    for listed in [a, b, c] {
        listed.expect("list slots");
    }
    // A booking last, so that the connection lent first next holds the booking's prepared
    // statement when the database ends it, and the others do not.
    contract::book(&*store, &earlier, "before", t0).await;
    let idle = store.pool_use()[0].idle;
    assert!(idle >= 1, "connections are kept for the next requests");

    let mut admin = db.connect().await;
    let ended: Vec<bool> = sqlx::query_scalar(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE datname = current_database() AND application_name = 'guidance'",
    )
    .fetch_all(&mut admin)
    .await
    .expect("end the store's connections");
    assert_eq!(
        ended.len(),
        idle as usize,
        "every idle connection was ended"
    );

    let booked = contract::book(&*store, &slot, "after", t0).await;
    assert_eq!(booked.booking.slot_id, Some(slot.id));
    for _ in 0..2 {
        store
            .list_slots(t0, t0, None)
            .await
            .expect("a request after the database ended the idle connections");
    }
    let pools = store.pool_use();
    assert_eq!(pools[0].size, 1, "the dead connections are gone: {pools:?}");
}

/// A booking's `COMMIT` goes with its batch, in its one round trip: the booking is there at
/// once for every other connection, no connection of the store is left inside a transaction,
/// and after a refused request (whose reason is then asked in a transaction of its own) the
/// same visitor books again at once: the address lock is free.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_booking_commits_with_its_batch_and_leaves_no_transaction_open() {
    let (db, store) = fresh_store().await;
    let t0 = jiff::Timestamp::now();
    let first = contract::slot_at(&*store, contract::future(t0), 60).await;
    let second = contract::slot_at(
        &*store,
        contract::future(t0) + jiff::SignedDuration::from_hours(2),
        60,
    )
    .await;
    let booked = contract::book(&*store, &first, "ann", t0).await;
    let mut admin = db.connect().await;
    let status: String = sqlx::query_scalar("SELECT status FROM guidance_bookings WHERE id = $1")
        .bind(booked.booking.id)
        .fetch_one(&mut admin)
        .await
        .expect("the booking, seen from another connection");
    assert_eq!(status, "pending");
    let in_transaction: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() \
         AND application_name = 'guidance' AND state <> 'idle'",
    )
    .fetch_one(&mut admin)
    .await
    .expect("the store's connections");
    assert_eq!(
        in_transaction, 0,
        "a connection was left inside a transaction"
    );

    let again = contract::request(&first, "ann", t0);
    assert!(matches!(
        store.create_booking(again.new).await,
        Err(guidance_store::StoreError::SlotTaken)
    ));
    let rebooked = tokio::time::timeout(
        std::time::Duration::from_secs(10),
        contract::book(&*store, &second, "ann", t0),
    )
    .await
    .expect("the address is not left locked");
    assert_eq!(rebooked.booking.slot_id, Some(second.id));
}
