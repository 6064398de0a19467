//! How SQLite runs the shared statements: ids and times bound as text, reads on the read-only
//! pool, writes on the one writer connection (so writers take turns, and nothing needs a lock).

use std::borrow::Cow;

use sqlx::Sqlite;
use sqlx::query::Query;
use sqlx::sqlite::{SqliteArguments, SqliteRow};

use super::rows::ts;
use super::{SqliteStore, map_constraint};
use crate::StoreResult;
use crate::shared::guard::PooledTx;
use crate::shared::tx::{Batch, Db, Tx, Value};

/// A transaction on the writer connection, safe to drop at any point (see [`PooledTx`]).
pub(super) struct SqliteTx {
    tx: PooledTx<Sqlite>,
    /// Whether `BEGIN` has been sent: it goes in front of the first statement.
    begun: bool,
}

/// How a transaction on the writer begins. `IMMEDIATE`: it takes the file's write lock at once,
/// so that it never has to upgrade a read lock (which another process's writer could refuse)
/// half-way.
const BEGIN: &str = "BEGIN IMMEDIATE;\n";

impl SqliteStore {
    /// A transaction on the writer, for the shared rules. Its `BEGIN` is sent with its first
    /// statement, one round trip fewer on the connection's thread.
    pub(super) async fn tx(&self) -> StoreResult<SqliteTx> {
        Ok(SqliteTx {
            tx: PooledTx::begin_with_first(&self.writer).await?,
            begun: false,
        })
    }
}

impl SqliteTx {
    /// `sql`, after `BEGIN` if this is the transaction's first statement. Only for statements
    /// whose count of changed rows is not asked for: SQLite's count after `BEGIN` is that of
    /// the connection's previous statement, which sqlx would add to theirs.
    fn statement<'s>(&mut self, sql: &'s str) -> Cow<'s, str> {
        if std::mem::replace(&mut self.begun, true) {
            Cow::Borrowed(sql)
        } else {
            Cow::Owned(format!("{BEGIN}{sql}"))
        }
    }

    /// Sends `BEGIN` on its own if nothing was sent yet, before a statement whose count of
    /// changed rows is asked for.
    async fn begin_alone(&mut self) -> StoreResult<()> {
        if !self.begun {
            let done = sqlx::query(BEGIN).execute(self.tx.conn()).await;
            self.tx.settled();
            self.begun = true;
            done?;
        }
        Ok(())
    }
}

/// Binds `values` to `$1`, `$2`, … of `query`, as SQLite keeps them.
fn bind<'q>(
    mut query: Query<'q, Sqlite, SqliteArguments<'q>>,
    values: &[Value<'q>],
) -> Query<'q, Sqlite, SqliteArguments<'q>> {
    for value in values {
        query = match *value {
            Value::Id(id) => query.bind(id.to_string()),
            Value::OptId(id) => query.bind(id.map(|id| id.to_string())),
            Value::Time(t) => query.bind(ts(t)),
            Value::OptTime(t) => query.bind(t.map(ts)),
            Value::Text(s) => query.bind(s),
            Value::OptText(s) => query.bind(s),
            Value::Int(n) => query.bind(n),
            Value::Flag(b) => query.bind(b),
            Value::Bytes(b) => query.bind(b),
        };
    }
    query
}

impl Db for SqliteStore {
    type Row = SqliteRow;

    const GREATEST: &'static str = "MAX";

    const LEAST: &'static str = "MIN";

    const QUEUE_ORDER: &'static str = "rowid";

    async fn read_all(&self, sql: &str, values: &[Value<'_>]) -> StoreResult<Vec<SqliteRow>> {
        Ok(bind(sqlx::query(sql), values)
            .fetch_all(&self.reader)
            .await?)
    }

    async fn read_optional(
        &self,
        sql: &str,
        values: &[Value<'_>],
    ) -> StoreResult<Option<SqliteRow>> {
        Ok(bind(sqlx::query(sql), values)
            .fetch_optional(&self.reader)
            .await?)
    }

    async fn write(&self, sql: &str, values: &[Value<'_>]) -> StoreResult<u64> {
        let mut writer = self.writer.acquire().await?;
        let done = bind(sqlx::query(sql), values)
            .execute(&mut *writer)
            .await
            .map_err(map_constraint)?;
        Ok(done.rows_affected())
    }
}

impl Tx for SqliteTx {
    type Row = SqliteRow;

    const LOCK_ROWS: &'static str = "";

    const ID_TYPE: &'static str = "TEXT";

    const JSONB_CAST: &'static str = "";

    async fn execute(&mut self, sql: &str, values: &[Value<'_>]) -> StoreResult<u64> {
        self.begin_alone().await?;
        let done = bind(sqlx::query(sql), values).execute(self.tx.conn()).await;
        self.tx.settled();
        Ok(done.map_err(map_constraint)?.rows_affected())
    }

    /// One text of several statements: sqlx runs them all in one call on the connection's
    /// thread, each binding its own numbered values, and hands back the rows of every one (only
    /// one returns any).
    async fn fetch_batch(&mut self, batch: Batch<'_>) -> StoreResult<Vec<SqliteRow>> {
        let (sql, values) = batch.joined();
        self.fetch_all(&sql, &values).await
    }

    async fn fetch_optional(
        &mut self,
        sql: &str,
        values: &[Value<'_>],
    ) -> StoreResult<Option<SqliteRow>> {
        let sql = self.statement(sql);
        let row = bind(sqlx::query(&sql), values)
            .fetch_optional(self.tx.conn())
            .await;
        self.tx.settled();
        row.map_err(map_constraint)
    }

    async fn fetch_all(&mut self, sql: &str, values: &[Value<'_>]) -> StoreResult<Vec<SqliteRow>> {
        let sql = self.statement(sql);
        let rows = bind(sqlx::query(&sql), values)
            .fetch_all(self.tx.conn())
            .await;
        self.tx.settled();
        rows.map_err(map_constraint)
    }

    async fn lock_address(&mut self, _email: &str) -> StoreResult<()> {
        // The writer pool has one connection: no other request can write between this
        // transaction's count and its insert.
        Ok(())
    }

    async fn commit(self) -> StoreResult<()> {
        if !self.begun {
            // Nothing was sent: nothing to commit, and the connection goes back as it came.
            return Ok(());
        }
        self.tx.commit().await
    }
}
