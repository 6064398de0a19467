//! A transaction as the shared rules see it: statements with numbered placeholders (`$1`, …)
//! and [`Value`]s, which each backend binds in its own encoding.

use std::future::Future;

use jiff::Timestamp;
use uuid::Uuid;

use super::rows::StoredRow;
use crate::StoreResult;

/// A value bound to a placeholder, in the words of the schema. Each backend encodes it its own
/// way: SQLite keeps ids and times as text, PostgreSQL as `uuid` and `timestamptz`.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Value<'a> {
    /// An id.
    Id(Uuid),
    /// A time (kept to whole seconds).
    Time(Timestamp),
    /// Text.
    Text(&'a str),
    /// Text or NULL.
    OptText(Option<&'a str>),
    /// An integer.
    Int(i64),
    /// Yes or no (`boolean` on PostgreSQL, 0 or 1 on SQLite).
    Flag(bool),
    /// Bytes.
    Bytes(&'a [u8]),
}

/// One open transaction of one backend. Dropped without [`Tx::commit`], it rolls back.
///
/// Statements run through it map the database's own refusals (the one-live-booking-per-slot
/// index, the rule that live slots do not overlap) to [`crate::StoreError`]s.
pub(crate) trait Tx: Send + Sized {
    /// A row this backend reads.
    type Row: StoredRow + Send;

    /// What follows a text placeholder to make it a `jsonb` value where the database has that
    /// type: `::jsonb` on PostgreSQL, nothing on SQLite (which keeps JSON as text).
    const JSONB_CAST: &'static str;

    /// What follows a `SELECT` to lock the rows it reads until the transaction ends:
    /// ` FOR UPDATE` on PostgreSQL, nothing on SQLite (whose writers take turns anyway).
    const LOCK_ROWS: &'static str;

    /// Runs a statement; how many rows it changed.
    fn execute(
        &mut self,
        sql: &str,
        values: &[Value<'_>],
    ) -> impl Future<Output = StoreResult<u64>> + Send;

    /// Runs a query (or a statement with `RETURNING`); its first row, if any.
    fn fetch_optional(
        &mut self,
        sql: &str,
        values: &[Value<'_>],
    ) -> impl Future<Output = StoreResult<Option<Self::Row>>> + Send;

    /// Keeps other transactions from counting the bookings of `email` (trimmed, any case) until
    /// this one ends, so that two requests of one address cannot both pass the limit of requests
    /// awaiting the owner. A backend whose writers take turns anyway does nothing.
    fn lock_address(&mut self, email: &str) -> impl Future<Output = StoreResult<()>> + Send;

    /// Makes every statement of the transaction durable.
    fn commit(self) -> impl Future<Output = StoreResult<()>> + Send;
}
