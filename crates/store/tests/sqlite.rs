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
