//! The connections a store's transactions run on: idle connections in a list, and a limit on
//! how many are lent at once.
//!
//! sqlx's pool tests every connection that comes back with a round trip to the database, and
//! on PostgreSQL by default every connection it lends too: two of a booking's seven round
//! trips, each a wakeup of the database's process and of ours, and on SQLite's one writer a
//! turn that the next write waits for. A connection that broke while idle (the database
//! restarted, a proxy closed it) is instead found out by the first statement of the next
//! transaction, its `BEGIN`, which [`super::guard::PooledTx::begin`] retries on another
//! connection, since nothing has happened yet.

use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sqlx::{ConnectOptions, Connection};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;

use crate::health::PoolUse;

/// A connection older than this is closed when it comes back, so that the database's process
/// behind it does not keep growing its caches for ever (sqlx's default lifetime).
const MAX_LIFETIME: Duration = Duration::from_secs(30 * 60);

/// How long closing a connection may take before it is dropped (a database that stopped
/// answering).
const CLOSE_TIMEOUT: Duration = Duration::from_secs(5);

/// Connections of one kind to one database (see the module's comment). Cloning shares them.
pub(crate) struct Connections<C: Connection> {
    shared: Arc<Shared<C>>,
}

impl<C: Connection> Clone for Connections<C> {
    fn clone(&self) -> Self {
        Self {
            shared: self.shared.clone(),
        }
    }
}

struct Shared<C: Connection> {
    options: C::Options,
    /// How long [`Connections::acquire`] waits for a connection, a new one included.
    acquire_timeout: Duration,
    max: u32,
    /// One permit per connection that may be lent.
    permits: Arc<Semaphore>,
    /// The connections not lent, the most recently returned last (it is lent first: its
    /// database process is the likeliest to be in the CPU's caches).
    idle: Mutex<Vec<Idle<C>>>,
    /// Connections open, lent or idle.
    open: AtomicU32,
    closed: AtomicBool,
}

struct Idle<C> {
    conn: C,
    born: Instant,
    prepared: Prepared,
}

/// The statements a connection has prepared by name in SQL (`PREPARE`), by the keys their
/// user gave them: they live as long as the connection, which the user cannot see otherwise.
#[derive(Debug, Default)]
pub(crate) struct Prepared(Vec<u64>);

impl Prepared {
    /// The most kept: a few kinds of statement are prepared so, in a few shapes each.
    pub(crate) const MAX: usize = 32;

    /// Whether the statement of `key` is prepared on the connection.
    pub(crate) fn has(&self, key: u64) -> bool {
        self.0.contains(&key)
    }

    /// Whether another statement may be prepared on the connection.
    pub(crate) fn has_room(&self) -> bool {
        self.0.len() < Self::MAX
    }

    /// The statement of `key` is now prepared on the connection.
    pub(crate) fn add(&mut self, key: u64) {
        self.0.push(key);
    }
}

impl<C: Connection> Connections<C> {
    /// At most `max` connections made from `options`; none is opened before it is needed.
    pub(crate) fn new(options: C::Options, max: u32, acquire_timeout: Duration) -> Self {
        Self {
            shared: Arc::new(Shared {
                options,
                acquire_timeout,
                max,
                permits: Arc::new(Semaphore::new(max as usize)),
                idle: Mutex::new(Vec::new()),
                open: AtomicU32::new(0),
                closed: AtomicBool::new(false),
            }),
        }
    }

    /// The moment an acquire begun now gives up (for several tries under one deadline).
    pub(crate) fn deadline(&self) -> Instant {
        Instant::now() + self.shared.acquire_timeout
    }

    /// [`Connections::acquire_by`] the acquire timeout from now.
    pub(crate) async fn acquire(&self) -> Result<Lease<C>, sqlx::Error> {
        self.acquire_by(self.deadline()).await
    }

    /// Lends an idle connection, or a new one when none is idle; waits for one to come back
    /// when `max` are lent. Fails with [`sqlx::Error::PoolTimedOut`] at `deadline`, and with
    /// the connection's own error when a new one cannot be opened.
    pub(crate) async fn acquire_by(&self, deadline: Instant) -> Result<Lease<C>, sqlx::Error> {
        let shared = &self.shared;
        let permit =
            match tokio::time::timeout_at(deadline, shared.permits.clone().acquire_owned()).await {
                Err(_) => return Err(sqlx::Error::PoolTimedOut),
                Ok(Err(_)) => return Err(sqlx::Error::PoolClosed),
                Ok(Ok(permit)) => permit,
            };
        if shared.closed.load(Ordering::Acquire) {
            return Err(sqlx::Error::PoolClosed);
        }
        let idle = shared.idle.lock().expect("the idle list").pop();
        let (conn, born, fresh, prepared) = match idle {
            Some(idle) => (idle.conn, idle.born, false, idle.prepared),
            None => {
                let conn = tokio::time::timeout_at(deadline, shared.options.connect())
                    .await
                    .map_err(|_| sqlx::Error::PoolTimedOut)??;
                shared.open.fetch_add(1, Ordering::AcqRel);
                (conn, Instant::now(), true, Prepared::default())
            }
        };
        Ok(Lease {
            conn: Some(conn),
            born,
            fresh,
            prepared,
            keep: true,
            home: self.shared.clone(),
            _permit: permit,
        })
    }

    /// How many connections are open and idle, for the health check.
    pub(crate) fn usage(&self, name: &'static str) -> PoolUse {
        let idle = self.shared.idle.lock().expect("the idle list").len();
        PoolUse {
            pool: name,
            size: self.shared.open.load(Ordering::Acquire),
            idle: u32::try_from(idle).unwrap_or(u32::MAX),
            max: self.shared.max,
        }
    }

    /// Lends no more connections, waits until the lent ones come back, and closes every one.
    pub(crate) async fn close(&self) {
        let shared = &self.shared;
        shared.closed.store(true, Ordering::Release);
        // Fair: queued behind the leases already waiting, ahead of any later one, and granted
        // once every lent connection is back.
        if let Ok(all) = shared.permits.acquire_many(shared.max).await {
            all.forget();
        }
        shared.permits.close();
        let idle = std::mem::take(&mut *shared.idle.lock().expect("the idle list"));
        for Idle { conn, .. } in idle {
            shared.open.fetch_sub(1, Ordering::AcqRel);
            conn.close().await.ok();
        }
    }
}

/// A lent connection (it dereferences to it); it goes back to the idle list when dropped,
/// unless [`Lease::close_on_drop`] was called.
pub struct Lease<C: Connection> {
    conn: Option<C>,
    born: Instant,
    fresh: bool,
    prepared: Prepared,
    keep: bool,
    home: Arc<Shared<C>>,
    /// Released after the connection is back in the list (fields drop after `drop`).
    _permit: OwnedSemaphorePermit,
}

impl<C: Connection> std::ops::Deref for Lease<C> {
    type Target = C;

    fn deref(&self) -> &C {
        self.conn
            .as_ref()
            .expect("a lease holds its connection until dropped")
    }
}

impl<C: Connection> std::ops::DerefMut for Lease<C> {
    fn deref_mut(&mut self) -> &mut C {
        self.conn
            .as_mut()
            .expect("a lease holds its connection until dropped")
    }
}

impl<C: Connection> Lease<C> {
    /// Whether the connection was opened for this lease (so it cannot have broken while idle).
    pub(crate) fn fresh(&self) -> bool {
        self.fresh
    }

    /// Closes the connection instead of returning it: its state is unknown, or another's.
    pub fn close_on_drop(&mut self) {
        self.keep = false;
    }

    /// The statements prepared by name on the connection (see [`Prepared`]).
    pub(crate) fn prepared(&mut self) -> &mut Prepared {
        &mut self.prepared
    }
}

impl<C: Connection> Drop for Lease<C> {
    fn drop(&mut self) {
        let Some(conn) = self.conn.take() else {
            return;
        };
        let home = &self.home;
        if self.keep && !home.closed.load(Ordering::Acquire) && self.born.elapsed() < MAX_LIFETIME {
            home.idle.lock().expect("the idle list").push(Idle {
                conn,
                born: self.born,
                prepared: std::mem::take(&mut self.prepared),
            });
        } else {
            home.open.fetch_sub(1, Ordering::AcqRel);
            // Closed politely where a runtime can: a statement in flight still gets its answer
            // (a commit sent is kept or refused by the server, not cut) before the connection
            // ends, and the database does not log it as lost. Otherwise only dropped: the
            // database rolls back what was open when the socket closes.
            if let Ok(runtime) = tokio::runtime::Handle::try_current() {
                runtime.spawn(tokio::time::timeout(CLOSE_TIMEOUT, conn.close()));
            }
        }
    }
}
