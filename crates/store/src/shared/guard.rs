//! Transactions that survive being cut off: a request whose client hangs up is dropped by the
//! server at whatever `.await` it had reached, and its transaction must then end whole, never
//! go back to the pool half-done.
//!
//! sqlx's own transactions are not safe there: a future dropped while its `BEGIN` is on the
//! wire leaves the server in a transaction that sqlx does not know of (the connection goes back
//! to the pool inside it, and the next request's `BEGIN` warns "there is already a transaction
//! in progress" and runs inside the first one's), and one dropped while its `COMMIT` is on the
//! wire sends a `ROLLBACK` after it ("there is no transaction in progress"). [`PooledTx`]
//! instead knows at every moment whether a statement is in flight:
//!
//! - dropped between statements, it rolls back in a task of its own and only then gives the
//!   connection back;
//! - dropped with a statement in flight, it closes the connection (the server rolls back what
//!   was not committed, and a commit already sent ends as the server decided): the pool opens a
//!   new one when needed, so nothing that happened on the old one can reach the next request.
//!
//! The writes that must run to their end once begun are started with [`to_the_end`].

use std::future::Future;
use std::pin::Pin;

use sqlx::{Database, Executor, Postgres, Sqlite};

use super::connections::{Connections, Lease};
use crate::{StoreError, StoreResult, is_unavailable};

/// A database whose connections run a statement given as text (`BEGIN`, `COMMIT`, …).
pub(crate) trait Raw: Database {
    /// Runs `sql` (one simple query, which may hold several statements) on `conn`.
    fn raw<'c>(
        conn: &'c mut Self::Connection,
        sql: &'c str,
    ) -> Pin<Box<dyn Future<Output = Result<(), sqlx::Error>> + Send + 'c>>;
}

impl Raw for Postgres {
    fn raw<'c>(
        conn: &'c mut Self::Connection,
        sql: &'c str,
    ) -> Pin<Box<dyn Future<Output = Result<(), sqlx::Error>> + Send + 'c>> {
        // A statement without arguments goes as a simple query (PostgreSQL's may hold several).
        Box::pin(async move { conn.execute(sql).await.map(drop) })
    }
}

impl Raw for Sqlite {
    fn raw<'c>(
        conn: &'c mut Self::Connection,
        sql: &'c str,
    ) -> Pin<Box<dyn Future<Output = Result<(), sqlx::Error>> + Send + 'c>> {
        // A statement without arguments goes as a simple query (PostgreSQL's may hold several).
        Box::pin(async move { conn.execute(sql).await.map(drop) })
    }
}

/// Where a [`PooledTx`] stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// A statement (`BEGIN` and `COMMIT` included) was sent and its answer not read yet: the
    /// server's state is unknown.
    InFlight,
    /// The transaction is open and nothing is in flight.
    Open,
    /// No transaction is open: it ended (committed, or ended by the server's refusal of the
    /// commit), or it has not begun yet (see [`PooledTx::begin_with_first`]).
    Ended,
}

/// A pooled connection with a transaction open on it, which never goes back to the pool inside
/// that transaction. Each statement takes the connection with [`PooledTx::conn`] and reports
/// its end with [`PooledTx::settled`].
pub(crate) struct PooledTx<DB: Raw> {
    conn: Option<Lease<DB::Connection>>,
    state: State,
}

impl<DB: Raw> PooledTx<DB> {
    /// Takes a connection and opens a transaction on it with `begin` (one simple query, which
    /// may hold several statements). A connection that broke while idle fails its `BEGIN`, which
    /// changed nothing: it is closed, and the next one is tried, until one opened for this
    /// transaction answers or the connections' acquire timeout passes.
    pub(crate) async fn begin(
        connections: &Connections<DB::Connection>,
        begin: &str,
    ) -> StoreResult<Self> {
        let deadline = connections.deadline();
        loop {
            let conn = connections.acquire_by(deadline).await?;
            let fresh = conn.fresh();
            let mut tx = PooledTx {
                conn: Some(conn),
                state: State::InFlight,
            };
            match DB::raw(tx.conn(), begin).await {
                Ok(()) => {
                    tx.settled();
                    return Ok(tx);
                }
                // Dropped in flight: the connection is closed.
                Err(e) if !fresh && is_unavailable(&e) => continue,
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// Takes a connection for a transaction whose `BEGIN` goes in front of its first
    /// statement, in the same round trip: the caller sends it so (SQLite, where every round trip
    /// is two switches of threads while the one writer waits). Dropped before that statement,
    /// the connection goes back as it came.
    pub(crate) async fn begin_with_first(
        connections: &Connections<DB::Connection>,
    ) -> StoreResult<Self> {
        Ok(PooledTx {
            conn: Some(connections.acquire().await?),
            state: State::Ended,
        })
    }

    /// The connection's lease, for what is kept with the connection (see
    /// [`Lease::prepared`]).
    pub(crate) fn lease(&mut self) -> &mut Lease<DB::Connection> {
        self.conn
            .as_mut()
            .expect("a transaction keeps its connection until dropped")
    }

    /// Whether the connection was opened for this transaction (see [`Lease::fresh`]).
    pub(crate) fn fresh(&self) -> bool {
        self.conn.as_ref().is_some_and(Lease::fresh)
    }

    /// The connection, for one statement: from now until [`PooledTx::settled`], dropping the
    /// transaction closes the connection.
    pub(crate) fn conn(&mut self) -> &mut DB::Connection {
        self.state = State::InFlight;
        self.lease()
    }

    /// The statement begun with [`PooledTx::conn`] has its answer (success or refusal).
    pub(crate) fn settled(&mut self) {
        self.state = State::Open;
    }

    /// The statement begun with [`PooledTx::conn`] has its answer, and it ended the
    /// transaction (a `COMMIT` at the end of its query): the connection goes back as it is.
    pub(crate) fn committed(&mut self) {
        self.state = State::Ended;
    }

    /// Commits. A commit the server refuses ends the transaction too (it rolls back).
    pub(crate) async fn commit(mut self) -> StoreResult<()> {
        let done = DB::raw(self.conn(), "COMMIT").await;
        match done {
            Ok(_) => {
                self.state = State::Ended;
                Ok(())
            }
            Err(e) => {
                if matches!(e, sqlx::Error::Database(_)) {
                    self.state = State::Ended;
                }
                Err(e.into())
            }
        }
    }
}

impl<DB: Raw> Drop for PooledTx<DB> {
    fn drop(&mut self) {
        let Some(mut conn) = self.conn.take() else {
            return;
        };
        match self.state {
            State::Ended => {}
            State::InFlight => conn.close_on_drop(),
            State::Open => match tokio::runtime::Handle::try_current() {
                Ok(runtime) => {
                    runtime.spawn(roll_back::<DB>(conn));
                }
                Err(_) => conn.close_on_drop(),
            },
        }
    }
}

/// Rolls back the open transaction on `conn`, then gives the connection back; closes it instead
/// if the rollback fails.
async fn roll_back<DB: Raw>(mut conn: Lease<DB::Connection>) {
    if DB::raw(&mut conn, "ROLLBACK").await.is_err() {
        conn.close_on_drop();
    }
}

/// Runs `write` to its end in a task of its own, so that dropping the caller (a request whose
/// client hung up) cannot cut it between its statements: a booking begun is booked or refused
/// whole, and a retry finds it done. A panic in it is the caller's panic.
pub(crate) async fn to_the_end<T: Send + 'static>(
    write: impl Future<Output = StoreResult<T>> + Send + 'static,
) -> StoreResult<T> {
    to_the_end_on(&tokio::runtime::Handle::current(), write).await
}

/// [`to_the_end`] on `runtime` rather than the caller's (SQLite's writes thread).
pub(crate) async fn to_the_end_on<T: Send + 'static>(
    runtime: &tokio::runtime::Handle,
    write: impl Future<Output = StoreResult<T>> + Send + 'static,
) -> StoreResult<T> {
    match runtime.spawn(write).await {
        Ok(result) => result,
        Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
        // Only a runtime shutting down cancels the task.
        Err(_) => Err(StoreError::Unavailable(sqlx::Error::PoolClosed)),
    }
}
