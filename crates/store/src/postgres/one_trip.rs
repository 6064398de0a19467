//! A transaction's beginning, its first statement and, when that is its last, its `COMMIT`, in
//! one round trip.
//!
//! A booking is three round trips on the extended protocol: the `BEGIN` (with the role and the
//! address lock), the batch that books, and the `COMMIT`. Where the database is across a
//! network, each is a wait, and the slot and the address stay locked through the round trips
//! after the lock. PostgreSQL takes several statements in one simple query, but a simple query
//! has no parameters. So the batch is prepared by name once per connection (`PREPARE`, with
//! the types the extended protocol would bind), and each booking sends its `BEGIN`, role and
//! lock, an `EXECUTE` of that statement, the values written in as literals, and its `COMMIT`
//! (the batch is the booking's last statement: its webhook messages are in it) in one query.
//! On one machine the round trips saved no CPU that could be measured (`BENCHMARKS.md`, the
//! notes of the seventh and eighth sessions): the gain is in waiting, where the database is
//! across a network.
//!
//! Each statement of a simple query takes its own snapshot, as separate round trips would: the
//! batch's count of the address's requests, after the lock, still sees every request the
//! lock's earlier holders committed. The rows come back as text (see [`super::PgTime`]).

use std::fmt::Write as _;

use super::fnv1a;
use crate::shared::connections::Prepared;
use crate::shared::tx::Value;

/// One simple query that begins a transaction and runs a statement in it.
#[derive(Debug)]
pub(super) struct OneTrip {
    /// The query's text.
    pub(super) text: String,
    /// The statements of the query before the `EXECUTE`, whose rows are not the statement's.
    pub(super) before: usize,
    /// The key under which the statement is prepared on the connection, if this query prepares
    /// it (see [`Prepared`]).
    pub(super) prepares: Option<u64>,
    /// Whether the query ends with the transaction's `COMMIT` (see [`OneTrip::committing`]).
    pub(super) commits: bool,
}

impl OneTrip {
    /// `begin` alone, in a round trip of its own.
    pub(super) fn alone(begin: &str) -> OneTrip {
        OneTrip {
            text: begin.to_owned(),
            before: 0,
            prepares: None,
            commits: false,
        }
    }

    /// `begin` (statements that open the transaction, `;`-separated), then `sql` with `values`
    /// through the statement prepared by name on the connection, preparing it first if
    /// `prepared` does not hold it yet. `None` when this cannot go in one query: a value that
    /// has no literal (text with a NUL character), or no room left for another prepared
    /// statement.
    pub(super) fn new(
        begin: &str,
        sql: &str,
        values: &[Value<'_>],
        prepared: &Prepared,
    ) -> Option<OneTrip> {
        let key = statement_key(sql, values);
        let mut text = String::with_capacity(begin.len() + 64 + sql.len() + 48 * values.len());
        text.push_str(begin);
        let mut before = begin.split(';').count();
        let prepares = if prepared.has(key) {
            None
        } else if prepared.has_room() {
            let types: Vec<&str> = values.iter().map(type_name).collect();
            write!(
                text,
                "; PREPARE guidance_{key:016x} ({}) AS {sql}",
                types.join(", ")
            )
            .expect("a String takes it");
            before += 1;
            Some(key)
        } else {
            return None;
        };
        write!(text, "; EXECUTE guidance_{key:016x}").expect("a String takes it");
        if !values.is_empty() {
            text.push('(');
            for (i, value) in values.iter().enumerate() {
                if i > 0 {
                    text.push_str(", ");
                }
                write_literal(&mut text, value)?;
            }
            text.push(')');
        }
        Some(OneTrip {
            text,
            before,
            prepares,
            commits: false,
        })
    }

    /// The query with the transaction's `COMMIT` after its statement: the statement was the
    /// transaction's last. A statement refused skips the rest of the query, the `COMMIT`
    /// included, and leaves the transaction open to roll back, as before.
    pub(super) fn committing(mut self) -> OneTrip {
        self.text.push_str("; COMMIT");
        self.commits = true;
        self
    }
}

/// The statement's key: the 64-bit FNV-1a hash of its text and its parameters' types (the
/// same text with other types is another statement).
fn statement_key(sql: &str, values: &[Value<'_>]) -> u64 {
    let types = values.iter().map(|v| -> &str { type_name(v) });
    fnv1a(
        std::iter::once(sql)
            .chain(types)
            .flat_map(|part| part.bytes().chain([0])),
    )
}

/// The type a value is bound as, as the extended protocol binds it (see `tx::bind`).
fn type_name(value: &Value<'_>) -> &'static str {
    match value {
        Value::Id(_) | Value::OptId(_) => "uuid",
        Value::Time(_) | Value::OptTime(_) => "timestamptz",
        Value::Text(_) | Value::OptText(_) => "text",
        Value::Int(_) => "int8",
        Value::Flag(_) => "boolean",
        Value::Bytes(_) => "bytea",
    }
}

/// Writes `value` as a literal that its parameter's type reads back as the same value; `None`
/// for text with a NUL character (PostgreSQL's text cannot hold one, and the query's text ends
/// at it).
fn write_literal(out: &mut String, value: &Value<'_>) -> Option<()> {
    match *value {
        Value::Id(id) | Value::OptId(Some(id)) => write!(out, "'{id}'"),
        Value::Time(t) | Value::OptTime(Some(t)) => write!(out, "'{t}'"),
        Value::Text(s) | Value::OptText(Some(s)) => return write_text(out, s),
        Value::Int(n) => write!(out, "{n}"),
        Value::Flag(b) => write!(out, "{b}"),
        Value::Bytes(bytes) => {
            // Hex in an escape string, whatever `standard_conforming_strings` says.
            const HEX: &[u8; 16] = b"0123456789abcdef";
            out.reserve(bytes.len() * 2 + 8);
            out.push_str("E'\\\\x");
            for &b in bytes {
                out.push(char::from(HEX[usize::from(b >> 4)]));
                out.push(char::from(HEX[usize::from(b & 0xf)]));
            }
            out.push('\'');
            Ok(())
        }
        Value::OptId(None) | Value::OptTime(None) | Value::OptText(None) => {
            out.push_str("NULL");
            Ok(())
        }
    }
    .expect("a String takes it");
    Some(())
}

/// Writes `s` as an escape string (`E'…'`): its meaning does not depend on the server's
/// `standard_conforming_strings`, and a backslash or a quote in it is only itself.
fn write_text(out: &mut String, s: &str) -> Option<()> {
    if s.contains('\0') {
        return None;
    }
    out.push_str("E'");
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("''"),
            c => out.push(c),
        }
    }
    out.push('\'');
    Some(())
}

#[cfg(test)]
mod tests {
    use jiff::Timestamp;
    use uuid::Uuid;

    use super::*;

    fn literal(value: Value<'_>) -> Option<String> {
        let mut out = String::new();
        write_literal(&mut out, &value).map(|()| out)
    }

    #[test]
    fn values_are_written_as_literals_that_cannot_end_early() {
        let id = Uuid::from_u128(0x0123_4567_89ab_cdef_0123_4567_89ab_cdef);
        assert_eq!(
            literal(Value::Id(id)).unwrap(),
            "'01234567-89ab-cdef-0123-456789abcdef'"
        );
        let t: Timestamp = "2026-12-07T19:40:00Z".parse().unwrap();
        assert_eq!(literal(Value::Time(t)).unwrap(), "'2026-12-07T19:40:00Z'");
        assert_eq!(
            literal(Value::Text(r"it's \'; DROP TABLE x; --")).unwrap(),
            r"E'it''s \\''; DROP TABLE x; --'"
        );
        assert_eq!(literal(Value::Text("Zoë 🌱")).unwrap(), "E'Zoë 🌱'");
        assert_eq!(literal(Value::Text("a\0b")), None);
        assert_eq!(
            literal(Value::Bytes(&[0, 0xff, b'A'])).unwrap(),
            r"E'\\x00ff41'"
        );
        assert_eq!(literal(Value::Int(-42)).unwrap(), "-42");
        assert_eq!(literal(Value::Flag(true)).unwrap(), "true");
        assert_eq!(literal(Value::OptText(None)).unwrap(), "NULL");
    }

    #[test]
    fn a_statement_is_prepared_on_first_use_and_executed_after() {
        let values = [Value::Int(7), Value::Text("x")];
        let begin = "BEGIN; SELECT pg_advisory_xact_lock(1)";
        let first = OneTrip::new(begin, "SELECT $1, $2", &values, &Prepared::default()).unwrap();
        let key = first.prepares.expect("prepared on first use");
        assert_eq!(
            first.text,
            format!(
                "BEGIN; SELECT pg_advisory_xact_lock(1); PREPARE guidance_{key:016x} \
                 (int8, text) AS SELECT $1, $2; EXECUTE guidance_{key:016x}(7, E'x')"
            )
        );
        assert_eq!(first.before, 3);
        let mut prepared = Prepared::default();
        prepared.add(key);
        let next = OneTrip::new(begin, "SELECT $1, $2", &values, &prepared).unwrap();
        assert_eq!(next.prepares, None);
        assert_eq!(next.before, 2);
        assert!(
            next.text
                .ends_with(&format!("; EXECUTE guidance_{key:016x}(7, E'x')"))
        );
        // The same text with other types is another statement.
        let other = [Value::Int(7), Value::Int(8)];
        let other = OneTrip::new(begin, "SELECT $1, $2", &other, &prepared).unwrap();
        assert!(other.prepares.is_some_and(|k| k != key));
    }

    #[test]
    fn a_last_statement_is_committed_in_the_same_query() {
        let values = [Value::Int(7)];
        let query = OneTrip::new("BEGIN", "SELECT $1", &values, &Prepared::default())
            .unwrap()
            .committing();
        let key = query.prepares.expect("prepared on first use");
        assert_eq!(
            query.text,
            format!(
                "BEGIN; PREPARE guidance_{key:016x} (int8) AS SELECT $1; \
                 EXECUTE guidance_{key:016x}(7); COMMIT"
            )
        );
        // The statement's rows are still those after the first two results.
        assert_eq!(query.before, 2);
        assert!(query.commits);
        assert!(!OneTrip::alone("BEGIN").commits);
    }
}
