//! Copies SQLite's log into the database file off the writer's path.
//!
//! In WAL mode a commit appends pages to the log; a checkpoint copies them into the database
//! file and syncs it. Left to SQLite, the commit that takes the log past its limit runs the
//! checkpoint itself, holding the one writer (and every booking queued behind it) while it
//! copies and syncs: with a small limit the checkpoints were so frequent that the rate fell to
//! half after 100,000 bookings, with a large one each took long enough to show in the slowest
//! bookings. A connection of its own copies the log instead, whenever a write has committed
//! since its last copy; a passive checkpoint never waits for the writer nor holds it. The
//! writer's own checkpoint at its limit stays as the backstop for when this one falls behind.
//!
//! Only one checkpoint runs at a time in a database (another one in the meantime is refused,
//! not queued), so the erasure's emptying of the log goes through the same connection.

use std::sync::Arc;

use sqlx::SqliteConnection;
use tokio::sync::{Mutex, Notify};

use crate::StoreResult;

/// The connection that copies the log into the database file.
#[derive(Clone)]
pub(super) struct LogCopier(Arc<Mutex<SqliteConnection>>);

impl LogCopier {
    /// Copies with `connection`, which must be able to write the database.
    pub(super) fn new(connection: SqliteConnection) -> Self {
        Self(Arc::new(Mutex::new(connection)))
    }

    /// Copies what the readers allow into the file, without waiting for the writer.
    async fn copy(&self) -> StoreResult<()> {
        let mut connection = self.0.lock().await;
        sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
            .execute(&mut *connection)
            .await?;
        Ok(())
    }

    /// Copies everything into the file and empties the log, waiting up to the busy timeout for
    /// the writer and for readers on older snapshots; `false` when they held it up longer.
    pub(super) async fn empty(&self) -> StoreResult<bool> {
        let mut connection = self.0.lock().await;
        let (busy, _, _): (i64, i64, i64) = sqlx::query_as("PRAGMA wal_checkpoint(TRUNCATE)")
            .fetch_one(&mut *connection)
            .await?;
        Ok(busy == 0)
    }
}

/// Copies the log with `copier` each time `wanted` is notified, until the runtime it runs on
/// stops. Notifications that come while a copy runs fold into one copy after it: under load
/// each copy takes what many commits appended.
pub(super) async fn copy_when_told(copier: LogCopier, wanted: Arc<Notify>) {
    loop {
        wanted.notified().await;
        // A failure (the disk full, say) leaves the log to the writer's own checkpoint; the
        // next commit tries again.
        if let Err(e) = copier.copy().await {
            tracing::warn!(error = %e, "copying SQLite's log into the database file failed");
        }
    }
}
