//! SQLite's side of the shared writing transactions: ids and times bound as text, and nothing to
//! lock, since all writes go through one connection and so take turns.

use sqlx::query::Query;
use sqlx::sqlite::{SqliteArguments, SqliteRow};
use sqlx::{Sqlite, SqlitePool, Transaction};

use super::map_constraint;
use super::rows::ts;
use crate::StoreResult;
use crate::shared::tx::{Tx, Value};

/// A writing transaction on the writer pool.
pub(super) struct SqliteTx(Transaction<'static, Sqlite>);

impl SqliteTx {
    /// Begins a transaction on `writer`.
    pub(super) async fn begin(writer: &SqlitePool) -> StoreResult<Self> {
        Ok(Self(writer.begin().await?))
    }
}

/// Binds `values` to `$1`, `$2`, … of `query`, as SQLite keeps them.
pub(super) fn bind<'q>(
    mut query: Query<'q, Sqlite, SqliteArguments<'q>>,
    values: &[Value<'q>],
) -> Query<'q, Sqlite, SqliteArguments<'q>> {
    for value in values {
        query = match *value {
            Value::Id(id) => query.bind(id.to_string()),
            Value::Time(t) => query.bind(ts(t)),
            Value::Text(s) => query.bind(s),
            Value::OptText(s) => query.bind(s),
            Value::Int(n) => query.bind(n),
            Value::Flag(b) => query.bind(b),
            Value::Bytes(b) => query.bind(b),
        };
    }
    query
}

impl Tx for SqliteTx {
    type Row = SqliteRow;

    const LOCK_ROWS: &'static str = "";

    const JSONB_CAST: &'static str = "";

    async fn execute(&mut self, sql: &str, values: &[Value<'_>]) -> StoreResult<u64> {
        let done = bind(sqlx::query(sql), values)
            .execute(&mut *self.0)
            .await
            .map_err(map_constraint)?;
        Ok(done.rows_affected())
    }

    async fn fetch_optional(
        &mut self,
        sql: &str,
        values: &[Value<'_>],
    ) -> StoreResult<Option<SqliteRow>> {
        bind(sqlx::query(sql), values)
            .fetch_optional(&mut *self.0)
            .await
            .map_err(map_constraint)
    }

    async fn lock_address(&mut self, _email: &str) -> StoreResult<()> {
        // The writer pool has one connection: no other request can write between this
        // transaction's count and its insert.
        Ok(())
    }

    async fn commit(self) -> StoreResult<()> {
        Ok(self.0.commit().await?)
    }
}
