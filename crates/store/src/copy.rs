//! Moving up: copies a site's data from its SQLite database into PostgreSQL as it is — ids,
//! statuses, timestamps, token hashes, the audit trail and queued emails (with their attempts,
//! leases and Message-IDs), the supplemental questions, and the owner's password hash, sessions,
//! setup link and settings, the calendar sources and the calendar replies read, the webhooks —
//! in one transaction, into a migrated target that must be empty. Only [`NOT_COPIED`] stays
//! behind.

use std::str::FromStr;

use jiff::Timestamp;
use sqlx::Row;
use sqlx::sqlite::SqliteRow;
use uuid::Uuid;

use crate::StoreError;
use crate::postgres::{PgTime, PostgresStore, TABLES};
use crate::sqlite::SqliteStore;

/// Why a copy did not happen.
#[derive(Debug, thiserror::Error)]
pub enum CopyError {
    /// The target already holds data; nothing was written.
    #[error(
        "the target database is not empty ({table} has {rows} rows): copy-data only writes into a fresh, empty database, so that nothing is mixed or overwritten"
    )]
    TargetNotEmpty {
        /// The first table found with rows.
        table: &'static str,
        /// How many.
        rows: i64,
    },
    /// A stored value could not be read or written.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for CopyError {
    fn from(e: sqlx::Error) -> Self {
        CopyError::Store(StoreError::from(e))
    }
}

/// How a column is carried over.
#[derive(Clone, Copy)]
enum Kind {
    Text,
    Uuid,
    Time,
    Int,
    Json,
    Bytes,
    /// `0`/`1` in SQLite, `boolean` in PostgreSQL.
    Bool,
}

use Kind::{Bool, Bytes, Int, Json, Text, Time, Uuid as Id};

/// Tables left behind, with why: runtime state that the new site's processes rebuild.
///
/// `guidance_inbox_lease` says which process of the *old* site reads the mailbox and until
/// when; copied, it would name a process that will never renew it and keep the new site's
/// readers waiting for it to expire. Its last look is stale too. The first reader of the new
/// site takes the lease and writes its own look within one round.
pub const NOT_COPIED: [&str; 1] = ["guidance_inbox_lease"];

/// Every column of every copied table (every one of [`TABLES`] but [`NOT_COPIED`]), in
/// foreign-key order; the same names on both databases.
const COLUMNS: [(&str, &[(&str, Kind)]); TABLES.len() - NOT_COPIED.len()] = [
    (
        "guidance_availability",
        &[
            ("id", Id),
            ("starts_at", Time),
            ("ends_at", Time),
            ("status", Text),
            ("meeting_details", Text),
            ("notes", Text),
            ("created_at", Time),
            ("updated_at", Time),
        ],
    ),
    (
        "guidance_bookings",
        &[
            ("id", Id),
            ("slot_id", Id),
            ("starts_at", Time),
            ("ends_at", Time),
            ("requester_name", Text),
            ("requester_email", Text),
            ("requester_locale", Text),
            ("requester_time_zone", Text),
            ("topic", Text),
            ("priority", Text),
            ("answers", Json),
            ("status", Text),
            ("version", Int),
            ("ics_uid", Text),
            ("ics_sequence", Int),
            ("created_at", Time),
            ("updated_at", Time),
            ("accepted_at", Time),
            ("declined_at", Time),
            ("reschedule_requested_at", Time),
            ("cancelled_at", Time),
            ("expired_at", Time),
            ("answer_by", Time),
            ("meeting_room", Text),
            ("answer_reminder_at", Time),
        ],
    ),
    (
        "guidance_booking_actions",
        &[
            ("id", Id),
            ("booking_id", Id),
            ("action", Text),
            ("token_hash", Text),
            ("booking_version", Int),
            ("expires_at", Time),
            ("used_at", Time),
            ("created_at", Time),
        ],
    ),
    (
        "guidance_booking_events",
        &[
            ("id", Int),
            ("booking_id", Id),
            ("actor", Text),
            ("action", Text),
            ("from_status", Text),
            ("to_status", Text),
            ("note", Text),
            ("created_at", Time),
        ],
    ),
    (
        "guidance_email_outbox",
        &[
            ("id", Id),
            ("booking_id", Id),
            ("kind", Text),
            ("recipient", Text),
            ("subject", Text),
            ("message_id", Text),
            ("message", Bytes),
            ("status", Text),
            ("attempts", Int),
            ("next_attempt_at", Time),
            ("lease_until", Time),
            ("last_error", Text),
            ("sent_at", Time),
            ("created_at", Time),
            ("send_before", Time),
            ("withdrawn_at", Time),
            ("withdrawn_reason", Text),
        ],
    ),
    (
        "guidance_questions",
        &[
            ("key", Text),
            ("position", Int),
            ("kind", Text),
            ("label", Text),
            ("required", Bool),
            ("options", Json),
            ("updated_at", Time),
        ],
    ),
    (
        "guidance_admin_credentials",
        &[("id", Int), ("password_hash", Text), ("updated_at", Time)],
    ),
    (
        "guidance_admin_setup_tokens",
        &[
            ("token_hash", Text),
            ("expires_at", Time),
            ("used_at", Time),
            ("created_at", Time),
        ],
    ),
    (
        "guidance_admin_sessions",
        &[
            ("id_hash", Text),
            ("created_at", Time),
            ("last_seen_at", Time),
            ("idle_expires_at", Time),
            ("expires_at", Time),
        ],
    ),
    (
        "guidance_settings",
        &[("key", Text), ("value", Text), ("updated_at", Time)],
    ),
    (
        "guidance_idempotency_keys",
        &[
            ("scope", Text),
            ("key", Text),
            ("request_hash", Text),
            ("booking_id", Id),
            ("answer", Text),
            ("created_at", Time),
            ("expires_at", Time),
        ],
    ),
    (
        "guidance_calendar_sources",
        &[
            ("id", Id),
            ("name", Text),
            ("kind", Text),
            ("host", Text),
            ("sealed", Bytes),
            ("created_at", Time),
            ("last_polled_at", Time),
            ("last_success_at", Time),
            ("failing_since", Time),
            ("last_error", Text),
            ("failure_notified", Bool),
            ("etag", Text),
            ("last_modified", Text),
            ("busy_count", Int),
            ("lease_until", Time),
        ],
    ),
    (
        "guidance_calendar_busy",
        &[("source_id", Id), ("starts_at", Time), ("ends_at", Time)],
    ),
    (
        "guidance_calendar_feed",
        &[("id", Int), ("generation", Int), ("updated_at", Time)],
    ),
    (
        "guidance_calendar_replies",
        &[
            ("message_id", Text),
            ("received_at", Time),
            ("sender", Text),
            ("method", Text),
            ("partstat", Text),
            ("ics_uid", Text),
            ("booking_id", Id),
            ("outcome", Text),
            ("reason", Text),
        ],
    ),
    (
        "guidance_proposed_times",
        &[
            ("id", Id),
            ("booking_id", Id),
            ("slot_id", Id),
            ("starts_at", Time),
            ("ends_at", Time),
            ("token_hash", Text),
            ("created_at", Time),
            ("taken_at", Time),
            ("released_at", Time),
        ],
    ),
    (
        "guidance_webhook_endpoints",
        &[
            ("id", Id),
            ("url", Text),
            ("events", Text),
            ("sealed_secret", Bytes),
            ("created_at", Time),
        ],
    ),
    (
        "guidance_webhook_deliveries",
        &[
            ("id", Id),
            ("endpoint_id", Id),
            ("booking_id", Id),
            ("event", Text),
            ("payload", Text),
            ("status", Text),
            ("attempts", Int),
            ("last_status", Int),
            ("last_error", Text),
            ("next_attempt_at", Time),
            ("lease_until", Time),
            ("last_attempt_at", Time),
            ("delivered_at", Time),
            ("created_at", Time),
        ],
    ),
];

/// Rows copied per table, in [`TABLES`] order ([`NOT_COPIED`] left out).
pub type CopyReport = Vec<(&'static str, u64)>;

/// Copies everything from `from` into `to` (migrated first, and required to be empty), in one
/// transaction: on any error nothing is left behind in the target.
pub async fn sqlite_to_postgres(from: &SqliteStore, to: &str) -> Result<CopyReport, CopyError> {
    let target = PostgresStore::migrate(to).await?;
    // As the login (the tables' owner), not service_role: restoring identity counters is the
    // owner's business.
    let mut conn = target.connection().await?;
    let mut tx = sqlx::Connection::begin(&mut *conn).await?;
    sqlx::query(&format!(
        "LOCK TABLE {} IN EXCLUSIVE MODE",
        TABLES.join(", ")
    ))
    .execute(&mut *tx)
    .await?;
    for table in TABLES {
        let rows: i64 = sqlx::query_scalar(&format!("SELECT count(*) FROM {table}"))
            .fetch_one(&mut *tx)
            .await?;
        if rows > 0 {
            return Err(CopyError::TargetNotEmpty { table, rows });
        }
    }
    let mut report = Vec::new();
    for (table, columns) in COLUMNS {
        let names: Vec<&str> = columns.iter().map(|(n, _)| *n).collect();
        let placeholders: Vec<String> = columns
            .iter()
            .enumerate()
            .map(|(i, (_, kind))| match kind {
                Json => format!("${}::jsonb", i + 1),
                _ => format!("${}", i + 1),
            })
            .collect();
        let insert = format!(
            "INSERT INTO {table} ({}) VALUES ({})",
            names.join(", "),
            placeholders.join(", ")
        );
        // Insertion order (rowid): the outbox keeps sending in the order emails were caused.
        let rows = sqlx::query(&format!(
            "SELECT {} FROM {table} ORDER BY rowid",
            names.join(", ")
        ))
        .fetch_all(from.reader())
        .await?;
        for row in &rows {
            let mut q = sqlx::query(&insert);
            for (name, kind) in columns {
                q = match kind {
                    Text | Json => q.bind(row.try_get::<Option<String>, _>(*name)?),
                    Int => q.bind(row.try_get::<Option<i64>, _>(*name)?),
                    Bool => q.bind(row.try_get::<Option<i64>, _>(*name)?.map(|n| n != 0)),
                    Bytes => q.bind(row.try_get::<Option<Vec<u8>>, _>(*name)?),
                    Id => q.bind(read_uuid(row, name)?),
                    Time => q.bind(read_time(row, name)?),
                };
            }
            q.execute(&mut *tx).await?;
        }
        report.push((table, rows.len() as u64));
    }
    // The audit trail kept its ids: new events continue after the highest.
    sqlx::query(
        "SELECT setval(pg_get_serial_sequence('public.guidance_booking_events', 'id'), \
         COALESCE((SELECT max(id) FROM guidance_booking_events), 0) + 1, false)",
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    // Closing waits for every lent connection, this one included.
    drop(conn);
    target.close().await;
    Ok(report)
}

fn read_uuid(row: &SqliteRow, col: &str) -> Result<Option<Uuid>, CopyError> {
    let s: Option<String> = row.try_get(col)?;
    s.map(|s| Uuid::parse_str(&s).map_err(|e| StoreError::Corrupt(format!("{col}: {e}"))))
        .transpose()
        .map_err(CopyError::from)
}

fn read_time(row: &SqliteRow, col: &str) -> Result<Option<PgTime>, CopyError> {
    let s: Option<String> = row.try_get(col)?;
    s.map(|s| {
        Timestamp::from_str(&s)
            .map(PgTime)
            .map_err(|e| StoreError::Corrupt(format!("{col}: {e}")))
    })
    .transpose()
    .map_err(CopyError::from)
}

#[cfg(test)]
mod tests {
    use super::{COLUMNS, NOT_COPIED, TABLES};

    #[test]
    fn every_table_is_copied_in_foreign_key_order() {
        let copied: Vec<&str> = COLUMNS.iter().map(|(t, _)| *t).collect();
        let wanted: Vec<&str> = TABLES
            .into_iter()
            .filter(|t| !NOT_COPIED.contains(t))
            .collect();
        assert_eq!(copied, wanted);
    }
}
