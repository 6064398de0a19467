//! The column lists the row mapping reads, the order of the lists of bookings, and the queries
//! that read rows by id or in lists.
//!
//! Every statement of the store is written once for both databases: SQLite understands
//! PostgreSQL's numbered placeholders (`$1`; a number used twice is one value), and both know
//! `CAST(… AS TEXT)`, `EXISTS`, `ON CONFLICT` and `RETURNING`. The few words that differ (row
//! locks, `jsonb`, `GREATEST`/`MAX`, `rowid`/`seq`) are constants of [`super::tx::Tx`] and
//! [`super::tx::Db`].

use std::sync::LazyLock;

/// The placeholders of `rows` rows of `columns` values each, numbered from `$first`:
/// `($1, $2), ($3, $4)` for two rows of two from 1. One statement writes many rows, in one round
/// trip.
pub(crate) fn placeholder_rows(rows: usize, columns: usize, first: usize) -> String {
    (0..rows)
        .map(|row| {
            let start = first + row * columns;
            let list: Vec<String> = (start..start + columns).map(|i| format!("${i}")).collect();
            format!("({})", list.join(", "))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// `sql` with each placeholder `$n` made `$(n + offset)`: statements joined into one text then
/// bind their values one after the other ([`super::tx::Batch::joined`]).
pub(crate) fn shift_placeholders(sql: &str, offset: usize) -> String {
    let mut out = String::with_capacity(sql.len() + 16);
    let mut rest = sql;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..=at]);
        rest = &rest[at + 1..];
        let digits = rest.len() - rest.trim_start_matches(|c: char| c.is_ascii_digit()).len();
        if let Ok(n) = rest[..digits].parse::<usize>() {
            out.push_str(&(n + offset).to_string());
            rest = &rest[digits..];
        }
    }
    out.push_str(rest);
    out
}

/// The columns [`super::rows::slot_from_row`] reads.
pub(crate) const SLOT_COLUMNS: &str = "id, starts_at, ends_at, status, meeting_details, created_at";

/// The columns [`super::rows::booking_from_row`] reads. The answers are read as text: `jsonb` on
/// PostgreSQL, already text on SQLite.
pub(crate) const BOOKING_COLUMNS: &str = "id, slot_id, starts_at, ends_at, requester_name, \
    requester_email, requester_locale, requester_time_zone, topic, priority, \
    CAST(answers AS TEXT) AS answers, status, version, ics_uid, ics_sequence, created_at, \
    updated_at, accepted_at, declined_at, reschedule_requested_at, cancelled_at, expired_at, \
    answer_by, meeting_room";

/// The columns [`super::rows::outbox_from_row`] reads.
pub(crate) const OUTBOX_COLUMNS: &str = "id, booking_id, kind, recipient, subject, message_id, \
    message, status, attempts, next_attempt_at, last_error, sent_at, created_at, \
    send_before, withdrawn_at, withdrawn_reason";

/// The columns [`super::rows::token_from_row`] reads.
pub(crate) const TOKEN_COLUMNS: &str =
    "id, booking_id, action, booking_version, expires_at, used_at";

/// The columns [`super::rows::event_from_row`] reads.
pub(crate) const EVENT_COLUMNS: &str = "actor, action, from_status, to_status, note, created_at";

/// The columns [`super::rows::question_from_row`] reads (the options are `jsonb` on PostgreSQL).
pub(crate) const QUESTION_COLUMNS: &str =
    "key, kind, label, required, CAST(options AS TEXT) AS options";

/// The order of every list of bookings: by session time, then by when they were requested, then
/// by id, so that two bookings of one slot (one cancelled, one live) or of one instant always
/// come in the same order. Ids compare alike on both: SQLite keeps them as lowercase hyphenated
/// text, whose order is that of PostgreSQL's `uuid` (byte by byte).
const BOOKING_ORDER: &str = "starts_at, created_at, id";

/// One slot by id (`$1`).
pub(crate) static SLOT_BY_ID: LazyLock<String> =
    LazyLock::new(|| format!("SELECT {SLOT_COLUMNS} FROM guidance_availability WHERE id = $1"));

/// The slots starting in `[$1, $2)`, all or those of one status (`$3`, text or NULL), in start
/// order.
pub(crate) static LIST_SLOTS: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT {SLOT_COLUMNS} FROM guidance_availability \
         WHERE starts_at >= $1 AND starts_at < $2 AND (CAST($3 AS TEXT) IS NULL OR status = $3) \
         ORDER BY starts_at"
    )
});

/// One booking by id (`$1`).
pub(crate) static BOOKING_BY_ID: LazyLock<String> =
    LazyLock::new(|| format!("SELECT {BOOKING_COLUMNS} FROM guidance_bookings WHERE id = $1"));

/// Every booking, or those of one status (`$1`, text or NULL), in [`BOOKING_ORDER`].
pub(crate) static LIST_BOOKINGS: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT {BOOKING_COLUMNS} FROM guidance_bookings \
         WHERE (CAST($1 AS TEXT) IS NULL OR status = $1) ORDER BY {BOOKING_ORDER}"
    )
});

/// The bookings time has overtaken at `$1`, with `$2` the reschedule deadline (see
/// [`crate::Store::list_overdue`]), in [`BOOKING_ORDER`].
pub(crate) static LIST_OVERDUE: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT {BOOKING_COLUMNS} FROM guidance_bookings \
         WHERE (status = 'pending' AND COALESCE(answer_by, starts_at) <= $1) \
            OR (status = 'needs_reschedule' AND reschedule_requested_at <= $2) \
            OR (status = 'unconfirmed' AND (starts_at <= $1 OR EXISTS ( \
                SELECT 1 FROM guidance_booking_actions a \
                WHERE a.booking_id = guidance_bookings.id AND a.action = 'confirm' \
                  AND a.expires_at <= $1))) \
         ORDER BY {BOOKING_ORDER}"
    )
});

/// The pending requests whose owner's reminder is due at `$1` and whose answer-by time (or,
/// without one, session start) is still ahead (see [`crate::Store::answer_reminders_due`]), in
/// [`BOOKING_ORDER`].
pub(crate) static ANSWER_REMINDERS_DUE: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT {BOOKING_COLUMNS} FROM guidance_bookings \
         WHERE status = 'pending' AND answer_reminder_at <= $1 \
           AND COALESCE(answer_by, starts_at) > $1 \
         ORDER BY {BOOKING_ORDER}"
    )
});

/// The audit trail of booking `$1`, oldest first.
pub(crate) static BOOKING_EVENTS: LazyLock<String> = LazyLock::new(|| {
    format!("SELECT {EVENT_COLUMNS} FROM guidance_booking_events WHERE booking_id = $1 ORDER BY id")
});

/// The token whose hash is `$1`.
pub(crate) static TOKEN_BY_HASH: LazyLock<String> = LazyLock::new(|| {
    format!("SELECT {TOKEN_COLUMNS} FROM guidance_booking_actions WHERE token_hash = $1")
});

/// Every supplemental question, in the order shown.
pub(crate) static LIST_QUESTIONS: LazyLock<String> = LazyLock::new(|| {
    format!("SELECT {QUESTION_COLUMNS} FROM guidance_questions ORDER BY position")
});

/// One email (`$1`) of one booking (`$2`).
pub(crate) static EMAIL_OF_BOOKING: LazyLock<String> = LazyLock::new(|| {
    format!("SELECT {OUTBOX_COLUMNS} FROM guidance_email_outbox WHERE id = $1 AND booking_id = $2")
});

#[cfg(test)]
mod tests {
    use super::{placeholder_rows, shift_placeholders};

    #[test]
    fn placeholder_rows_number_every_value_once_in_row_order() {
        assert_eq!(placeholder_rows(2, 2, 1), "($1, $2), ($3, $4)");
        assert_eq!(placeholder_rows(1, 3, 2), "($2, $3, $4)");
        assert_eq!(placeholder_rows(0, 3, 1), "");
    }

    #[test]
    fn placeholders_move_past_the_values_before_them() {
        assert_eq!(
            shift_placeholders("INSERT INTO t (a, b, c) VALUES ($1, $2, $1) -- $x", 7),
            "INSERT INTO t (a, b, c) VALUES ($8, $9, $8) -- $x"
        );
        assert_eq!(shift_placeholders("SELECT $10, $9", 0), "SELECT $10, $9");
        assert_eq!(shift_placeholders("$1$2", 10), "$11$12");
    }
}
