//! A store as the shared code sees it: statements with numbered placeholders (`$1`, …) and
//! [`Value`]s, which each backend binds in its own encoding, run in a transaction ([`Tx`]) or on
//! their own ([`Db`]).

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
    /// An id or NULL.
    OptId(Option<Uuid>),
    /// A time (kept to whole seconds).
    Time(Timestamp),
    /// A time or NULL.
    OptTime(Option<Timestamp>),
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

/// Statements to run together in a transaction ([`Tx::fetch_batch`]), at most one of them
/// returning rows, in one round trip: SQLite takes them as one text, run one after the other
/// (its connection lives on a thread of its own, so every round trip is two switches of
/// threads); PostgreSQL, whose protocol takes one statement with values at a time, as one
/// statement of `WITH` queries, run in no set order (see [`Batch::into_one_statement`]). So
/// none may read or change the rows another of the batch writes.
#[derive(Debug, Default)]
pub(crate) struct Batch<'a> {
    statements: Vec<(String, Vec<Value<'a>>)>,
    /// The statement whose rows the batch answers, if any.
    returning: Option<usize>,
}

impl<'a> Batch<'a> {
    /// Adds a statement that returns nothing, with its values (numbered from `$1`, as on their
    /// own).
    pub(crate) fn push(&mut self, sql: String, values: Vec<Value<'a>>) {
        self.statements.push((sql, values));
    }

    /// Adds the statement whose rows the batch answers (a query, or one with `RETURNING`); it
    /// replaces any added before as the one answered, which then must return nothing.
    pub(crate) fn push_returning(&mut self, sql: String, values: Vec<Value<'a>>) {
        self.returning = Some(self.statements.len());
        self.push(sql, values);
    }

    /// Whether a statement of the batch returns rows.
    pub(crate) fn returns_rows(&self) -> bool {
        self.returning.is_some()
    }

    /// The statements as one text, each one's placeholders moved past the values of those
    /// before it, with all their values in order: for a backend that takes several statements
    /// in one text (SQLite).
    pub(crate) fn joined(self) -> (String, Vec<Value<'a>>) {
        let (statements, values) = self.numbered_on();
        let mut sql = String::new();
        for statement in statements {
            sql.push_str(&statement);
            sql.push_str(";\n");
        }
        (sql, values)
    }

    /// The statements as one statement, for a backend that takes statements which change rows
    /// in `WITH` (PostgreSQL): the answered one (or else the last) is the main statement, each
    /// other one a query of its `WITH`. They all run, in no set order and on one snapshot: none
    /// may read or change the rows another writes, and each but the answered one must change
    /// rows (a `WITH` query that only reads runs only if something refers to it). A foreign
    /// key is checked at the statement's end, so a row may refer to one the same statement
    /// inserts.
    pub(crate) fn into_one_statement(self) -> (String, Vec<Value<'a>>) {
        let main = self
            .returning
            .unwrap_or(self.statements.len().saturating_sub(1));
        let (statements, values) = self.numbered_on();
        let mut with = Vec::new();
        let mut sql = String::new();
        for (i, statement) in statements.into_iter().enumerate() {
            if i == main {
                sql = statement;
            } else {
                with.push(format!("s{i} AS ({statement})"));
            }
        }
        if !with.is_empty() {
            sql = format!("WITH {} {sql}", with.join(", "));
        }
        (sql, values)
    }

    /// The statements, each one's placeholders moved past the values of those before it, with
    /// all their values in order.
    fn numbered_on(self) -> (Vec<String>, Vec<Value<'a>>) {
        let mut statements = Vec::new();
        let mut values = Vec::new();
        for (statement, own) in self.statements {
            statements.push(super::sql::shift_placeholders(&statement, values.len()));
            values.extend(own);
        }
        (statements, values)
    }
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

    /// Runs a query (or a statement with `RETURNING`); all its rows.
    fn fetch_all(
        &mut self,
        sql: &str,
        values: &[Value<'_>],
    ) -> impl Future<Output = StoreResult<Vec<Self::Row>>> + Send;

    /// Runs the statements of `batch` (see [`Batch`]); the rows of the one that returns them, if
    /// any.
    fn fetch_batch(
        &mut self,
        batch: Batch<'_>,
    ) -> impl Future<Output = StoreResult<Vec<Self::Row>>> + Send;

    /// Keeps other transactions from counting the bookings of `email` (trimmed, any case) until
    /// this one ends, so that two requests of one address cannot both pass the limit of requests
    /// awaiting the owner. A backend whose writers take turns anyway does nothing.
    fn lock_address(&mut self, email: &str) -> impl Future<Output = StoreResult<()>> + Send;

    /// Makes every statement of the transaction durable.
    fn commit(self) -> impl Future<Output = StoreResult<()>> + Send;
}

/// A store as the shared reads and single writes see it: SQLite reads from its read-only pool
/// and writes on its one writer connection; PostgreSQL runs each statement in a transaction of
/// its own, in the service's role.
pub(crate) trait Db: Sync {
    /// A row this backend reads.
    type Row: StoredRow + Send;

    /// The function that picks the greater of two values: `GREATEST` on PostgreSQL, `MAX` (with
    /// two arguments) on SQLite.
    const GREATEST: &'static str;

    /// The function that picks the lesser of two values: `LEAST` on PostgreSQL, `MIN` on SQLite.
    const LEAST: &'static str;

    /// What orders the emails queued in one second as they were queued: PostgreSQL's `seq`
    /// column, SQLite's `rowid`.
    const QUEUE_ORDER: &'static str;

    /// Runs a query; all its rows.
    fn read_all(
        &self,
        sql: &str,
        values: &[Value<'_>],
    ) -> impl Future<Output = StoreResult<Vec<Self::Row>>> + Send;

    /// Runs a query; its first row, if any.
    fn read_optional(
        &self,
        sql: &str,
        values: &[Value<'_>],
    ) -> impl Future<Output = StoreResult<Option<Self::Row>>> + Send;

    /// Runs one statement, mapping the database's refusals like [`Tx::execute`]; how many rows
    /// it changed.
    fn write(
        &self,
        sql: &str,
        values: &[Value<'_>],
    ) -> impl Future<Output = StoreResult<u64>> + Send;
}
