//! How PostgreSQL runs the shared statements: ids and times bound as `uuid` and `timestamptz`,
//! statements prepared or not as the URL asks, every statement in a transaction in the service's
//! role, rows locked with `FOR UPDATE`, and the requests of one address serialised by an
//! advisory lock.

use std::fmt::Write as _;

use sqlx::Postgres;
use sqlx::postgres::{PgArguments, PgRow};
use sqlx::query::Query;

use super::{PgTime, PostgresStore, map_constraint};
use crate::StoreResult;
use crate::shared::guard::PooledTx;
use crate::shared::tx::{Batch, Db, Tx, Value};

/// A transaction in the service's role, safe to drop at any point (see [`PooledTx`]).
pub(super) struct PgTx {
    tx: PooledTx<Postgres>,
    /// See [`PostgresStore`]: whether statements are prepared and cached.
    persistent: bool,
    /// The key of the address lock it holds (see [`Tx::lock_address`]), if any.
    locked: Option<i64>,
}

impl PostgresStore {
    /// Begins a transaction in the service's role, for the shared code.
    pub(super) async fn tx(&self) -> StoreResult<PgTx> {
        self.begin(None).await
    }

    /// Begins a transaction that holds the lock of `email`'s address (see
    /// [`Tx::lock_address`]) from its start: the lock is taken in `BEGIN`'s round trip.
    pub(super) async fn tx_locking(&self, email: &str) -> StoreResult<PgTx> {
        self.begin(Some(address_key(email))).await
    }

    async fn begin(&self, lock: Option<i64>) -> StoreResult<PgTx> {
        // One round trip for all: the statements go in one simple query, and the transaction
        // is open (in the role, with the lock) when it returns. The key is a number made here,
        // so nothing a visitor typed is spliced into the text.
        let mut begin = String::from("BEGIN");
        if self.service_role {
            begin.push_str("; SET LOCAL ROLE service_role");
        }
        if let Some(key) = lock {
            write!(begin, "; SELECT pg_advisory_xact_lock({key})").expect("a String takes it");
        }
        Ok(PgTx {
            tx: PooledTx::begin(&self.connections, &begin).await?,
            persistent: self.persistent,
            locked: lock,
        })
    }
}

/// The advisory lock's key for an address, trimmed and in any case: the 64-bit FNV-1a hash of
/// its lower case. Two addresses that share a key only wait for each other.
fn address_key(email: &str) -> i64 {
    let hash = email
        .trim()
        .to_lowercase()
        .bytes()
        .fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
        });
    hash.cast_signed()
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

    const JSONB_CAST: &'static str = "::jsonb";

    async fn execute(&mut self, sql: &str, values: &[Value<'_>]) -> StoreResult<u64> {
        let query = sqlx::query(sql).persistent(self.persistent);
        let done = bind(query, values).execute(self.tx.conn()).await;
        self.tx.settled();
        Ok(done.map_err(map_constraint)?.rows_affected())
    }

    async fn fetch_batch(&mut self, batch: Batch<'_>) -> StoreResult<Vec<PgRow>> {
        // One statement instead of one round trip each: the server plans and runs it once, and
        // the transaction (a booking's holds its slot) ends that much sooner.
        let (sql, values) = batch.into_one_statement();
        if sql.is_empty() {
            return Ok(Vec::new());
        }
        self.fetch_all(&sql, &values).await
    }

    async fn fetch_optional(
        &mut self,
        sql: &str,
        values: &[Value<'_>],
    ) -> StoreResult<Option<PgRow>> {
        let query = sqlx::query(sql).persistent(self.persistent);
        let row = bind(query, values).fetch_optional(self.tx.conn()).await;
        self.tx.settled();
        row.map_err(map_constraint)
    }

    async fn fetch_all(&mut self, sql: &str, values: &[Value<'_>]) -> StoreResult<Vec<PgRow>> {
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
        self.tx.commit().await
    }
}
