//! The SQL both databases run as it is: the column lists the row mapping reads.

/// The columns [`super::rows::slot_from_row`] reads.
pub(crate) const SLOT_COLUMNS: &str = "id, starts_at, ends_at, status, meeting_details, created_at";

/// The columns [`super::rows::booking_from_row`] reads. The answers are read as text: `jsonb` on
/// PostgreSQL, already text on SQLite.
pub(crate) const BOOKING_COLUMNS: &str = "id, slot_id, starts_at, ends_at, requester_name, \
    requester_email, requester_locale, requester_time_zone, topic, priority, \
    CAST(answers AS TEXT) AS answers, status, version, ics_uid, ics_sequence, created_at, \
    updated_at, accepted_at, declined_at, reschedule_requested_at, cancelled_at, expired_at";

/// The columns [`super::rows::outbox_from_row`] reads.
pub(crate) const OUTBOX_COLUMNS: &str = "id, booking_id, kind, recipient, subject, message_id, \
    message, status, attempts, next_attempt_at, last_error, sent_at, created_at";

/// The columns [`super::rows::token_from_row`] reads.
pub(crate) const TOKEN_COLUMNS: &str =
    "id, booking_id, action, booking_version, expires_at, used_at";

/// The columns [`super::rows::event_from_row`] reads.
pub(crate) const EVENT_COLUMNS: &str = "actor, action, from_status, to_status, note, created_at";

/// The columns [`super::rows::question_from_row`] reads (the options are `jsonb` on PostgreSQL).
pub(crate) const QUESTION_COLUMNS: &str =
    "key, kind, label, required, CAST(options AS TEXT) AS options";
