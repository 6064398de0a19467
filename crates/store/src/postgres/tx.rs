//! How PostgreSQL runs the shared statements: ids and times bound as `uuid` and `timestamptz`,
//! statements prepared or not as the URL asks, every statement in a transaction in the service's
//! role, rows locked with `FOR UPDATE`, and the requests of one address serialised by an
//! advisory lock.

use std::fmt::Write as _;

use futures_util::TryStreamExt as _;
use sqlx::postgres::{PgArguments, PgConnection, PgRow};
use sqlx::query::Query;
use sqlx::{Either, Postgres};

use super::one_trip::OneTrip;
use super::{PgTime, PostgresStore, fnv1a, map_constraint};
use crate::shared::connections::Connections;
use crate::shared::guard::PooledTx;
use crate::shared::tx::{Batch, Db, Tx, Value};
use crate::{StoreResult, is_unavailable};

/// A transaction in the service's role, safe to drop at any point (see [`PooledTx`]).
pub(super) struct PgTx {
    tx: PooledTx<Postgres>,
    /// See [`PostgresStore`]: whether statements are prepared and cached.
    persistent: bool,
    /// The key of the address lock it holds, or takes with its `BEGIN` (see
    /// [`Tx::lock_address`]), if any.
    locked: Option<i64>,
    /// The statements that begin the transaction, while they wait to go in front of its first
    /// statement (see [`PostgresStore::tx_locking`]).
    unsent_begin: Option<String>,
    /// Where another connection comes from when the one taken broke while idle.
    connections: Connections<PgConnection>,
}

impl PostgresStore {
    /// Begins a transaction in the service's role, for the shared code.
    pub(super) async fn tx(&self) -> StoreResult<PgTx> {
        self.begin(None).await
    }

    /// Begins a transaction that holds the lock of `email`'s address (see
    /// [`Tx::lock_address`]) from its start: the lock is taken in `BEGIN`'s round trip. Where
    /// statements are prepared, that round trip is also its first batch's (see
    /// [`super::one_trip`]): nothing is sent before.
    pub(super) async fn tx_locking(&self, email: &str) -> StoreResult<PgTx> {
        let key = address_key(email);
        if !self.persistent {
            return self.begin(Some(key)).await;
        }
        Ok(PgTx {
            tx: PooledTx::begin_with_first(&self.connections).await?,
            persistent: self.persistent,
            locked: Some(key),
            unsent_begin: Some(self.begin_text(Some(key))),
            connections: self.connections.clone(),
        })
    }

    async fn begin(&self, lock: Option<i64>) -> StoreResult<PgTx> {
        Ok(PgTx {
            tx: PooledTx::begin(&self.connections, &self.begin_text(lock)).await?,
            persistent: self.persistent,
            locked: lock,
            unsent_begin: None,
            connections: self.connections.clone(),
        })
    }

    /// The statements that begin a transaction, in the role, holding the address lock `lock`.
    /// They go in one simple query, and the transaction is open (in the role, with the lock)
    /// when it returns. The key is a number made here, so nothing a visitor typed is spliced
    /// into the text.
    fn begin_text(&self, lock: Option<i64>) -> String {
        let mut begin = String::from("BEGIN");
        if self.service_role {
            begin.push_str("; SET LOCAL ROLE service_role");
        }
        if let Some(key) = lock {
            write!(begin, "; SELECT pg_advisory_xact_lock({key})").expect("a String takes it");
        }
        begin
    }
}

impl PgTx {
    /// Sends the statements that begin the transaction, if they wait still: in a round trip of
    /// their own, before a statement that cannot take them in front of it.
    async fn open(&mut self) -> StoreResult<()> {
        let Some(begin) = self.unsent_begin.take() else {
            return Ok(());
        };
        self.begin_with(&begin, None, false).await.map(drop)
    }

    /// [`Tx::fetch_batch`], committing with the batch if `last` and the batch goes in the
    /// round trip of the transaction's `BEGIN` (see [`Tx::fetch_last_batch`]).
    async fn batch(&mut self, batch: Batch<'_>, last: bool) -> StoreResult<Vec<PgRow>> {
        // One statement instead of one round trip each: the server plans and runs it once, and
        // the transaction (a booking's holds its slot) ends that much sooner.
        let (sql, values) = batch.into_one_statement();
        if sql.is_empty() {
            return Ok(Vec::new());
        }
        if let Some(begin) = self.unsent_begin.take()
            && let Some(rows) = self.begin_with(&begin, Some((&sql, &values)), last).await?
        {
            if last {
                // Committed: what comes after begins a transaction of its own, as this one.
                self.unsent_begin = Some(begin);
            }
            return Ok(rows);
        }
        self.fetch_all(&sql, &values).await
    }

    /// Runs `begin`, the statements that begin the transaction, on this transaction's
    /// connection, with `statement` after it in the same round trip if one is given and
    /// [`OneTrip`] can write it so, and then the `COMMIT` if `commit`. Answers the statement's
    /// rows if it ran (`None` if it is still to run). A connection that broke while idle fails
    /// the query having changed nothing: it is closed and the query, made anew for the next
    /// connection (whose prepared statements are its own), runs there, as [`PooledTx::begin`]
    /// does.
    async fn begin_with(
        &mut self,
        begin: &str,
        statement: Option<(&str, &[Value<'_>])>,
        commit: bool,
    ) -> StoreResult<Option<Vec<PgRow>>> {
        loop {
            let together = statement
                .and_then(|(sql, values)| {
                    OneTrip::new(begin, sql, values, self.tx.lease().prepared())
                })
                .map(|query| if commit { query.committing() } else { query });
            let runs_statement = together.is_some();
            let query = together.unwrap_or_else(|| OneTrip::alone(begin));
            match self.try_first_query(&query).await {
                Err(e) if !self.tx.fresh() && is_unavailable(&e) => {
                    // Dropped in flight: the connection is closed.
                    self.tx = PooledTx::begin_with_first(&self.connections).await?;
                }
                Err(e) => return Err(map_constraint(e)),
                Ok(rows) => return Ok(runs_statement.then_some(rows)),
            }
        }
    }

    /// Runs `query` once; answers the rows of its last statement, and records a statement it
    /// prepared with the connection.
    async fn try_first_query(&mut self, query: &OneTrip) -> Result<Vec<PgRow>, sqlx::Error> {
        let mut results = 0;
        let mut rows = Vec::new();
        let outcome: Result<(), sqlx::Error> = async {
            let mut stream = sqlx::raw_sql(&query.text).fetch_many(self.tx.conn());
            while let Some(item) = stream.try_next().await? {
                match item {
                    Either::Left(_) => results += 1,
                    Either::Right(row) if results == query.before => rows.push(row),
                    Either::Right(_) => {}
                }
            }
            Ok(())
        }
        .await;
        match outcome {
            Ok(()) => {
                if query.commits {
                    self.tx.committed();
                } else {
                    self.tx.settled();
                }
                if let Some(key) = query.prepares {
                    self.tx.lease().prepared().add(key);
                }
                Ok(rows)
            }
            Err(e) => {
                if matches!(e, sqlx::Error::Database(_)) {
                    // The server refused a statement and ran none after it: the transaction, if
                    // its `BEGIN` ran, is open and rolls back when dropped. Whether a `PREPARE`
                    // in the query ran is not known, so the connection is not used again.
                    self.tx.settled();
                    if query.prepares.is_some() {
                        self.tx.lease().close_on_drop();
                    }
                }
                Err(e)
            }
        }
    }
}

/// The advisory lock's key for an address, trimmed and in any case: the 64-bit FNV-1a hash of
/// its lower case. Two addresses that share a key only wait for each other.
fn address_key(email: &str) -> i64 {
    fnv1a(email.trim().to_lowercase().bytes()).cast_signed()
}

/// Binds `values` to `$1`, `$2`, … of `query`, as PostgreSQL keeps them.
fn bind<'q>(
    mut query: Query<'q, Postgres, PgArguments>,
    values: &[Value<'q>],
) -> Query<'q, Postgres, PgArguments> {
    for value in values {
        query = match *value {
            Value::Id(id) => query.bind(id),
            Value::OptId(id) => query.bind(id),
            Value::Time(t) => query.bind(PgTime(t)),
            Value::OptTime(t) => query.bind(t.map(PgTime)),
            Value::Text(s) => query.bind(s),
            Value::OptText(s) => query.bind(s),
            Value::Int(n) => query.bind(n),
            Value::Flag(b) => query.bind(b),
            Value::Bytes(b) => query.bind(b),
        };
    }
    query
}

impl Db for PostgresStore {
    type Row = PgRow;

    const GREATEST: &'static str = "GREATEST";

    const LEAST: &'static str = "LEAST";

    const QUEUE_ORDER: &'static str = "seq";

    async fn read_all(&self, sql: &str, values: &[Value<'_>]) -> StoreResult<Vec<PgRow>> {
        let mut tx = self.tx().await?;
        let query = sqlx::query(sql).persistent(tx.persistent);
        let rows = bind(query, values).fetch_all(tx.tx.conn()).await?;
        tx.tx.settled();
        tx.commit().await?;
        Ok(rows)
    }

    async fn read_optional(&self, sql: &str, values: &[Value<'_>]) -> StoreResult<Option<PgRow>> {
        let mut tx = self.tx().await?;
        let row = tx.fetch_optional(sql, values).await?;
        tx.commit().await?;
        Ok(row)
    }

    async fn write(&self, sql: &str, values: &[Value<'_>]) -> StoreResult<u64> {
        let mut tx = self.tx().await?;
        let changed = tx.execute(sql, values).await?;
        tx.commit().await?;
        Ok(changed)
    }
}

impl Tx for PgTx {
    type Row = PgRow;

    const LOCK_ROWS: &'static str = " FOR UPDATE";

    const ID_TYPE: &'static str = "uuid";

    const JSONB_CAST: &'static str = "::jsonb";

    async fn execute(&mut self, sql: &str, values: &[Value<'_>]) -> StoreResult<u64> {
        self.open().await?;
        let query = sqlx::query(sql).persistent(self.persistent);
        let done = bind(query, values).execute(self.tx.conn()).await;
        self.tx.settled();
        Ok(done.map_err(map_constraint)?.rows_affected())
    }

    async fn fetch_batch(&mut self, batch: Batch<'_>) -> StoreResult<Vec<PgRow>> {
        self.batch(batch, false).await
    }

    async fn fetch_last_batch(&mut self, batch: Batch<'_>) -> StoreResult<Vec<PgRow>> {
        self.batch(batch, true).await
    }

    async fn fetch_optional(
        &mut self,
        sql: &str,
        values: &[Value<'_>],
    ) -> StoreResult<Option<PgRow>> {
        self.open().await?;
        let query = sqlx::query(sql).persistent(self.persistent);
        let row = bind(query, values).fetch_optional(self.tx.conn()).await;
        self.tx.settled();
        row.map_err(map_constraint)
    }

    async fn fetch_all(&mut self, sql: &str, values: &[Value<'_>]) -> StoreResult<Vec<PgRow>> {
        self.open().await?;
        let query = sqlx::query(sql).persistent(self.persistent);
        let rows = bind(query, values).fetch_all(self.tx.conn()).await;
        self.tx.settled();
        rows.map_err(map_constraint)
    }

    /// A transaction-level advisory lock on the address: concurrent requests of one address
    /// count one after the other, and each count (a fresh snapshot under READ COMMITTED) sees the
    /// bookings the earlier lock holders committed. The lock ends with the transaction, which
    /// keeps it safe behind a transaction pooler.
    async fn lock_address(&mut self, email: &str) -> StoreResult<()> {
        self.open().await?;
        let key = address_key(email);
        if self.locked == Some(key) {
            return Ok(());
        }
        let locked = sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .persistent(self.persistent)
            .bind(key)
            .execute(self.tx.conn())
            .await;
        self.tx.settled();
        locked?;
        self.locked = Some(key);
        Ok(())
    }

    async fn commit(self) -> StoreResult<()> {
        if self.unsent_begin.is_some() {
            // Nothing was sent: there is nothing to commit.
            return Ok(());
        }
        self.tx.commit().await
    }
}
