//! What an operator watches, read from the database: bookings by status, the emails waiting
//! or failed, how long the oldest has waited, whether the schema is current, and how busy the
//! connection pools are. Read at `/metrics` and `/readyz` time, never on a request's path.

use guidance_core::BookingStatus;
use jiff::Timestamp;

/// The database's side of the service's health, as of one moment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Health {
    /// How many bookings are in each status (statuses without any are left out).
    pub bookings: Vec<(BookingStatus, i64)>,
    /// Emails waiting to be sent (due now or waiting for a retry; a reminder scheduled for
    /// later, or withdrawn, is not waiting).
    pub emails_queued: i64,
    /// Emails that failed for good and wait for the owner's "resend".
    pub emails_failed: i64,
    /// Since when the oldest email still waiting has waited (a scheduled one: since its moment).
    pub oldest_queued_at: Option<Timestamp>,
    /// The earliest `next_attempt_at` of the waiting emails that no worker holds right now:
    /// long past means no worker is sending.
    pub oldest_due_at: Option<Timestamp>,
    /// Migrations this binary knows that the database has not applied, by version.
    pub pending_migrations: Vec<i64>,
}

/// How many connections one pool holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolUse {
    /// Which pool: `main` (PostgreSQL), `writer` or `reader` (SQLite).
    pub pool: &'static str,
    /// Connections open now.
    pub size: u32,
    /// Of those, how many wait unused.
    pub idle: u32,
    /// The most it opens.
    pub max: u32,
}

/// The versions `migrator` holds that `applied` (the versions the database recorded as
/// successfully applied) lacks.
pub(crate) fn pending(migrator: &sqlx::migrate::Migrator, applied: &[i64]) -> Vec<i64> {
    migrator
        .iter()
        .filter(|m| m.migration_type.is_up_migration())
        .map(|m| m.version)
        .filter(|v| !applied.contains(v))
        .collect()
}

/// The pool's use as sqlx counts it.
pub(crate) fn pool_use<DB: sqlx::Database>(name: &'static str, pool: &sqlx::Pool<DB>) -> PoolUse {
    PoolUse {
        pool: name,
        size: pool.size(),
        idle: u32::try_from(pool.num_idle()).unwrap_or(u32::MAX),
        max: pool.options().get_max_connections(),
    }
}
