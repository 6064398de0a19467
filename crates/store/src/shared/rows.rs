//! Each row of the schema read into its model type, once for both databases.
//!
//! A row is read through [`StoredRow`]: text, numbers, bytes and flags read alike on both
//! databases ([`PlainColumns`], for any sqlx row that can decode them), while ids and times are
//! stored differently (text on SQLite, `uuid` and `timestamptz` on PostgreSQL), so each backend
//! says how it reads those.

use guidance_core::{BookingAction, BookingStatus, Priority, Question, QuestionKind, SlotStatus};
use jiff::Timestamp;
use sqlx::{ColumnIndex, Decode, Row, Type};
use uuid::Uuid;

use crate::{
    Booking, BookingEvent, EmailStatus, OutboxMessage, Slot, StoreError, StoreResult, TokenRecord,
};

/// Columns every database stores the same way.
pub(crate) trait PlainColumns {
    /// A text column.
    fn text(&self, col: &str) -> StoreResult<String>;
    /// A text column that may be NULL.
    fn opt_text(&self, col: &str) -> StoreResult<Option<String>>;
    /// An integer column.
    fn int(&self, col: &str) -> StoreResult<i64>;
    /// An integer column that may be NULL.
    fn opt_int(&self, col: &str) -> StoreResult<Option<i64>>;
    /// A binary column.
    fn bytes(&self, col: &str) -> StoreResult<Vec<u8>>;
    /// A yes/no column (`boolean` on PostgreSQL, 0 or 1 on SQLite).
    fn flag(&self, col: &str) -> StoreResult<bool>;
}

impl<R> PlainColumns for R
where
    R: Row,
    for<'c> &'c str: ColumnIndex<R>,
    for<'r> String: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> i64: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> Vec<u8>: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> bool: Decode<'r, R::Database> + Type<R::Database>,
{
    fn text(&self, col: &str) -> StoreResult<String> {
        Ok(self.try_get(col)?)
    }

    fn opt_text(&self, col: &str) -> StoreResult<Option<String>> {
        Ok(self.try_get(col)?)
    }

    fn int(&self, col: &str) -> StoreResult<i64> {
        Ok(self.try_get(col)?)
    }

    fn opt_int(&self, col: &str) -> StoreResult<Option<i64>> {
        Ok(self.try_get(col)?)
    }

    fn bytes(&self, col: &str) -> StoreResult<Vec<u8>> {
        Ok(self.try_get(col)?)
    }

    fn flag(&self, col: &str) -> StoreResult<bool> {
        Ok(self.try_get(col)?)
    }
}

/// A row of one database, read column by column.
pub(crate) trait StoredRow: PlainColumns {
    /// An id column.
    fn uuid(&self, col: &str) -> StoreResult<Uuid>;
    /// An id column that may be NULL.
    fn opt_uuid(&self, col: &str) -> StoreResult<Option<Uuid>>;
    /// A timestamp column (whole seconds, UTC).
    fn time(&self, col: &str) -> StoreResult<Timestamp>;
    /// A timestamp column that may be NULL.
    fn opt_time(&self, col: &str) -> StoreResult<Option<Timestamp>>;
}

/// Reads a text column holding one of the names `parse` knows; `what` names it in the error.
fn named<T>(
    row: &impl StoredRow,
    col: &str,
    what: &str,
    parse: impl FnOnce(&str) -> Option<T>,
) -> StoreResult<T> {
    let name = row.text(col)?;
    parse(&name).ok_or_else(|| StoreError::Corrupt(format!("{what} {name}")))
}

/// Reads a text column holding JSON; `what` names it in the error.
fn json<T: serde::de::DeserializeOwned>(
    row: &impl StoredRow,
    col: &str,
    what: &str,
) -> StoreResult<T> {
    serde_json::from_str(&row.text(col)?).map_err(|e| StoreError::Corrupt(format!("{what}: {e}")))
}

/// A slot ([`super::sql::SLOT_COLUMNS`]).
pub(crate) fn slot_from_row(row: &impl StoredRow) -> StoreResult<Slot> {
    Ok(Slot {
        id: row.uuid("id")?,
        starts_at: row.time("starts_at")?,
        ends_at: row.time("ends_at")?,
        status: named(row, "status", "slot status", SlotStatus::parse)?,
        meeting_details: row.opt_text("meeting_details")?,
        created_at: row.time("created_at")?,
    })
}

/// A booking ([`super::sql::BOOKING_COLUMNS`]).
pub(crate) fn booking_from_row(row: &impl StoredRow) -> StoreResult<Booking> {
    Ok(Booking {
        id: row.uuid("id")?,
        slot_id: row.opt_uuid("slot_id")?,
        starts_at: row.time("starts_at")?,
        ends_at: row.time("ends_at")?,
        name: row.text("requester_name")?,
        email: row.text("requester_email")?,
        locale: row.text("requester_locale")?,
        time_zone: row.text("requester_time_zone")?,
        topic: row.text("topic")?,
        priority: named(row, "priority", "priority", |p| Priority::parse(p).ok())?,
        answers: json(row, "answers", "answers")?,
        status: named(row, "status", "status", BookingStatus::parse)?,
        version: row.int("version")?,
        ics_uid: row.text("ics_uid")?,
        ics_sequence: row.int("ics_sequence")?,
        created_at: row.time("created_at")?,
        updated_at: row.time("updated_at")?,
        accepted_at: row.opt_time("accepted_at")?,
        declined_at: row.opt_time("declined_at")?,
        reschedule_requested_at: row.opt_time("reschedule_requested_at")?,
        cancelled_at: row.opt_time("cancelled_at")?,
        expired_at: row.opt_time("expired_at")?,
        answer_by: row.opt_time("answer_by")?,
        meeting_room: row.opt_text("meeting_room")?,
    })
}

/// An email ([`super::sql::OUTBOX_COLUMNS`]).
pub(crate) fn outbox_from_row(row: &impl StoredRow) -> StoreResult<OutboxMessage> {
    Ok(OutboxMessage {
        id: row.uuid("id")?,
        booking_id: row.opt_uuid("booking_id")?,
        kind: row.text("kind")?,
        recipient: row.text("recipient")?,
        subject: row.text("subject")?,
        message_id: row.text("message_id")?,
        message: row.bytes("message")?,
        status: named(row, "status", "email status", EmailStatus::parse)?,
        attempts: row.int("attempts")?,
        next_attempt_at: row.time("next_attempt_at")?,
        last_error: row.opt_text("last_error")?,
        sent_at: row.opt_time("sent_at")?,
        created_at: row.time("created_at")?,
        send_before: row.opt_time("send_before")?,
        withdrawn: match row.opt_time("withdrawn_at")? {
            Some(at) => Some((at, row.opt_text("withdrawn_reason")?.unwrap_or_default())),
            None => None,
        },
    })
}

/// An action token ([`super::sql::TOKEN_COLUMNS`]).
pub(crate) fn token_from_row(row: &impl StoredRow) -> StoreResult<TokenRecord> {
    Ok(TokenRecord {
        id: row.uuid("id")?,
        booking_id: row.uuid("booking_id")?,
        action: named(row, "action", "action", BookingAction::parse)?,
        booking_version: row.int("booking_version")?,
        expires_at: row.time("expires_at")?,
        used_at: row.opt_time("used_at")?,
    })
}

/// A line of a booking's history ([`super::sql::EVENT_COLUMNS`]).
pub(crate) fn event_from_row(row: &impl StoredRow) -> StoreResult<BookingEvent> {
    Ok(BookingEvent {
        actor: row.text("actor")?,
        action: row.text("action")?,
        from_status: row.opt_text("from_status")?,
        to_status: row.text("to_status")?,
        note: row.opt_text("note")?,
        created_at: row.time("created_at")?,
    })
}

/// A supplemental question ([`super::sql::QUESTION_COLUMNS`]).
pub(crate) fn question_from_row(row: &impl StoredRow) -> StoreResult<Question> {
    Ok(Question {
        key: row.text("key")?,
        label: row.text("label")?,
        kind: named(row, "kind", "question kind", QuestionKind::parse)?,
        required: row.flag("required")?,
        options: json(row, "options", "question options")?,
    })
}
