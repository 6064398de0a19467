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
