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

/// An `INSERT` of rows of values, kept in its parts so that a guarded batch can make it
/// conditional (see [`Batch::guard`]).
#[derive(Debug)]
pub(crate) struct Insert<'a> {
    /// The table and its columns: `guidance_bookings (id, …)`.
    pub(crate) into: &'static str,
    /// The rows, `($1, …), (…)`, or a query that makes them (`SELECT …`), their placeholders
    /// numbered from `$1`.
    pub(crate) rows: String,
    /// The list after `RETURNING`, for an insert that answers its rows.
    pub(crate) returning: Option<String>,
    /// The values of the rows' placeholders.
    pub(crate) values: Vec<Value<'a>>,
}

impl Insert<'_> {
    /// The statement as it runs on its own.
    pub(crate) fn statement(&self) -> String {
        self.sql(None)
    }

    /// The statement, inserting its rows only where `condition` (an SQL expression) holds, if
    /// one is given.
    fn sql(&self, condition: Option<&str>) -> String {
        let rows = if self.rows.starts_with("SELECT ") {
            self.rows.clone()
        } else {
            format!("VALUES {}", self.rows)
        };
        let mut sql = match condition {
            None => format!("INSERT INTO {} {rows}", self.into),
            Some(condition) => format!(
                "INSERT INTO {} SELECT * FROM ({rows}) AS v WHERE {condition}",
                self.into
            ),
        };
        if let Some(returning) = &self.returning {
            sql.push_str(" RETURNING ");
            sql.push_str(returning);
        }
        sql
    }
}

/// One statement of a [`Batch`], with its values.
#[derive(Debug)]
enum Statement<'a> {
    /// Any statement, as written.
    Plain(String, Vec<Value<'a>>),
    /// An insert of rows of values, which a guard can hold back.
    Insert(Insert<'a>),
}

/// Statements to run together in a transaction ([`Tx::fetch_batch`]), at most one of them
/// returning rows, in one round trip: SQLite takes them as one text, run one after the other
/// (its connection lives on a thread of its own, so every round trip is two switches of
/// threads); PostgreSQL, whose protocol takes one statement with values at a time, as one
/// statement of `WITH` queries, run in no set order (see [`Batch::into_one_statement`]). So
/// none may read or change the rows another of the batch writes.
///
/// A batch may have a guard ([`Batch::guard`]): then its inserts insert rows only if the guard
/// changed one.
#[derive(Debug, Default)]
pub(crate) struct Batch<'a> {
    /// The statement the others wait on, with its values.
    guard: Option<(String, Vec<Value<'a>>)>,
    statements: Vec<Statement<'a>>,
    /// The statement whose rows the batch answers, if any.
    returning: Option<usize>,
}

impl<'a> Batch<'a> {
    /// Adds a statement that returns nothing, with its values (numbered from `$1`, as on their
    /// own). Not in a guarded batch, which holds only inserts.
    pub(crate) fn push(&mut self, sql: String, values: Vec<Value<'a>>) {
        self.statements.push(Statement::Plain(sql, values));
    }

    /// Adds the statement whose rows the batch answers (a query, or one with `RETURNING`); it
    /// replaces any added before as the one answered, which then must return nothing. Not in a
    /// guarded batch, which holds only inserts.
    pub(crate) fn push_returning(&mut self, sql: String, values: Vec<Value<'a>>) {
        self.returning = Some(self.statements.len());
        self.push(sql, values);
    }

    /// Adds an insert; one with a `RETURNING` list becomes the statement whose rows the batch
    /// answers, as with [`Batch::push_returning`]. In a guarded batch, an insert whose query
    /// may make no rows must be the last statement (SQLite runs each insert if the one before
    /// it inserted rows).
    pub(crate) fn push_insert(&mut self, insert: Insert<'a>) {
        if insert.returning.is_some() {
            self.returning = Some(self.statements.len());
        }
        self.statements.push(Statement::Insert(insert));
    }

    /// Makes the batch wait on `sql`, an `UPDATE` (without `RETURNING`) that claims what the
    /// inserts are about: it runs first, and when it changes no row the batch's inserts insert
    /// nothing and the batch answers no rows, leaving the transaction as it was before the
    /// guard's claim, free to ask why. A guarded batch holds only inserts, each of at least
    /// one row. PostgreSQL makes the guard a `WITH` query of the batch's one statement, and
    /// each insert selects its rows if the guard returned one; SQLite runs it as the first
    /// statement of the batch's text, and each insert if the statement before it changed rows
    /// (`changes()`): the guard for the first, the insert before for each next one, which
    /// inserted rows exactly when the guard had changed one.
    pub(crate) fn guard(&mut self, sql: String, values: Vec<Value<'a>>) {
        self.guard = Some((sql, values));
    }

    /// Whether a statement of the batch returns rows.
    pub(crate) fn returns_rows(&self) -> bool {
        self.returning.is_some()
    }

    /// The statements as one text, each one's placeholders moved past the values of those
    /// before it, with all their values in order: for a backend that takes several statements
    /// in one text, run one after the other (SQLite). The guard, if any, comes first.
    pub(crate) fn joined(self) -> (String, Vec<Value<'a>>) {
        let (guard, statements, values) = self.numbered_on("changes() > 0");
        let mut sql = String::new();
        for statement in guard.into_iter().chain(statements) {
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
    /// inserts. The guard, if any, is the `WITH` query `guard`, and each insert selects its
    /// rows only if the guard returned a row.
    pub(crate) fn into_one_statement(self) -> (String, Vec<Value<'a>>) {
        let main = self
            .returning
            .unwrap_or(self.statements.len().saturating_sub(1));
        let (guard, statements, values) = self.numbered_on("EXISTS (SELECT FROM guard)");
        let mut with: Vec<String> = guard
            .map(|guard| format!("guard AS ({guard} RETURNING 1)"))
            .into_iter()
            .collect();
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

    /// The guard, if any, and the statements, each one's placeholders moved past the values of
    /// those before it (the guard's first), with all their values in order; in a guarded batch
    /// the inserts hold their rows back unless `condition` (the backend's test of the guard)
    /// holds.
    fn numbered_on(self, condition: &str) -> (Option<String>, Vec<String>, Vec<Value<'a>>) {
        let (guard, mut values) = match self.guard {
            Some((sql, values)) => (Some(sql), values),
            None => (None, Vec::new()),
        };
        let condition = guard.is_some().then_some(condition);
        let mut statements = Vec::new();
        for statement in self.statements {
            let (sql, own) = match statement {
                Statement::Plain(sql, own) => {
                    debug_assert!(condition.is_none(), "a guarded batch holds only inserts");
                    (sql, own)
                }
                Statement::Insert(insert) => (insert.sql(condition), insert.values),
            };
            statements.push(super::sql::shift_placeholders(&sql, values.len()));
            values.extend(own);
        }
        (guard, statements, values)
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

    /// The type ids are kept as, for a `CAST` of one made in SQL: `uuid` on PostgreSQL,
    /// `TEXT` on SQLite.
    const ID_TYPE: &'static str;

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

    /// [`Tx::fetch_batch`] for the transaction's last statement, which a backend may commit
    /// with, in the same round trip (PostgreSQL, where the transaction's `BEGIN` goes with it:
    /// see `postgres::one_trip`). If it did, what runs after it runs in a transaction of its
    /// own, begun as this one was, and [`Tx::commit`] commits that one.
    fn fetch_last_batch(
        &mut self,
        batch: Batch<'_>,
    ) -> impl Future<Output = StoreResult<Vec<Self::Row>>> + Send {
        self.fetch_batch(batch)
    }

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

#[cfg(test)]
mod tests {
    use super::Value::Int;
    use super::{Batch, Insert};

    #[test]
    fn a_guarded_batch_is_one_statement_whose_inserts_wait_on_the_guard() {
        let mut batch = Batch::default();
        batch.guard(
            "UPDATE t SET a = $1 WHERE id = $2".to_owned(),
            vec![Int(1), Int(2)],
        );
        batch.push_insert(Insert {
            into: "u (a)",
            rows: "($1)".to_owned(),
            returning: None,
            values: vec![Int(3)],
        });
        batch.push_insert(Insert {
            into: "w (a, b)",
            rows: "($1, $2), ($1, $2)".to_owned(),
            returning: Some("a".to_owned()),
            values: vec![Int(4), Int(5)],
        });
        let (sql, values) = batch.into_one_statement();
        assert_eq!(
            sql,
            "WITH guard AS (UPDATE t SET a = $1 WHERE id = $2 RETURNING 1), \
             s0 AS (INSERT INTO u (a) SELECT * FROM (VALUES ($3)) AS v \
             WHERE EXISTS (SELECT FROM guard)) \
             INSERT INTO w (a, b) SELECT * FROM (VALUES ($4, $5), ($4, $5)) AS v \
             WHERE EXISTS (SELECT FROM guard) RETURNING a"
        );
        assert_eq!(
            format!("{values:?}"),
            "[Int(1), Int(2), Int(3), Int(4), Int(5)]"
        );
    }

    #[test]
    fn a_guarded_text_of_statements_runs_each_insert_after_rows_changed() {
        let mut batch = Batch::default();
        batch.guard("UPDATE t SET a = $1".to_owned(), vec![Int(1)]);
        batch.push_insert(Insert {
            into: "u (a)",
            rows: "($1)".to_owned(),
            returning: Some("a".to_owned()),
            values: vec![Int(2)],
        });
        batch.push_insert(Insert {
            into: "w (a)",
            rows: "($1), ($1)".to_owned(),
            returning: None,
            values: vec![Int(3)],
        });
        let (sql, values) = batch.joined();
        assert_eq!(
            sql,
            "UPDATE t SET a = $1;\n\
             INSERT INTO u (a) SELECT * FROM (VALUES ($2)) AS v WHERE changes() > 0 RETURNING a;\n\
             INSERT INTO w (a) SELECT * FROM (VALUES ($3), ($3)) AS v WHERE changes() > 0;\n"
        );
        assert_eq!(format!("{values:?}"), "[Int(1), Int(2), Int(3)]");
    }

    #[test]
    fn rows_a_query_makes_are_inserted_as_it_makes_them_and_wait_on_the_guard() {
        let insert = || Insert {
            into: "u (a)",
            rows: "SELECT $1 FROM e WHERE b = $2".to_owned(),
            returning: None,
            values: vec![Int(2), Int(3)],
        };
        assert_eq!(
            insert().statement(),
            "INSERT INTO u (a) SELECT $1 FROM e WHERE b = $2"
        );
        let mut batch = Batch::default();
        batch.guard("UPDATE t SET a = $1".to_owned(), vec![Int(1)]);
        batch.push_insert(insert());
        assert_eq!(
            batch.joined().0,
            "UPDATE t SET a = $1;\n\
             INSERT INTO u (a) SELECT * FROM (SELECT $2 FROM e WHERE b = $3) AS v \
             WHERE changes() > 0;\n"
        );
    }

    #[test]
    fn a_batch_without_a_guard_inserts_its_values_as_written() {
        let mut batch = Batch::default();
        batch.push_insert(Insert {
            into: "u (a)",
            rows: "($1)".to_owned(),
            returning: None,
            values: vec![Int(3)],
        });
        batch.push_returning("SELECT a FROM u WHERE a = $1".to_owned(), vec![Int(3)]);
        assert_eq!(
            batch.into_one_statement().0,
            "WITH s0 AS (INSERT INTO u (a) VALUES ($1)) SELECT a FROM u WHERE a = $2"
        );
    }
}
