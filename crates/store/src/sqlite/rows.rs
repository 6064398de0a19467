//! Reading SQLite rows: timestamps and ids are stored as text.

use super::*;

pub(super) fn ts(t: Timestamp) -> String {
    format_utc(t)
}

pub(super) fn read_ts(row: &SqliteRow, col: &str) -> StoreResult<Timestamp> {
    let s: String = row.try_get(col)?;
    Timestamp::from_str(&s).map_err(|e| StoreError::Corrupt(format!("{col}: {e}")))
}

pub(super) fn read_opt_ts(row: &SqliteRow, col: &str) -> StoreResult<Option<Timestamp>> {
    let s: Option<String> = row.try_get(col)?;
    s.map(|s| Timestamp::from_str(&s).map_err(|e| StoreError::Corrupt(format!("{col}: {e}"))))
        .transpose()
}

pub(super) fn read_uuid(row: &SqliteRow, col: &str) -> StoreResult<Uuid> {
    let s: String = row.try_get(col)?;
    Uuid::parse_str(&s).map_err(|e| StoreError::Corrupt(format!("{col}: {e}")))
}

pub(super) fn read_opt_uuid(row: &SqliteRow, col: &str) -> StoreResult<Option<Uuid>> {
    let s: Option<String> = row.try_get(col)?;
    s.map(|s| Uuid::parse_str(&s).map_err(|e| StoreError::Corrupt(format!("{col}: {e}"))))
        .transpose()
}

pub(super) fn slot_from_row(row: &SqliteRow) -> StoreResult<Slot> {
    let status: String = row.try_get("status")?;
    Ok(Slot {
        id: read_uuid(row, "id")?,
        starts_at: read_ts(row, "starts_at")?,
        ends_at: read_ts(row, "ends_at")?,
        status: SlotStatus::parse(&status)
            .ok_or_else(|| StoreError::Corrupt(format!("slot status {status}")))?,
        meeting_details: row.try_get("meeting_details")?,
        created_at: read_ts(row, "created_at")?,
    })
}

pub(super) fn booking_from_row(row: &SqliteRow) -> StoreResult<Booking> {
    let status: String = row.try_get("status")?;
    let priority: String = row.try_get("priority")?;
    let answers: String = row.try_get("answers")?;
    Ok(Booking {
        id: read_uuid(row, "id")?,
        slot_id: read_opt_uuid(row, "slot_id")?,
        starts_at: read_ts(row, "starts_at")?,
        ends_at: read_ts(row, "ends_at")?,
        name: row.try_get("requester_name")?,
        email: row.try_get("requester_email")?,
        locale: row.try_get("requester_locale")?,
        time_zone: row.try_get("requester_time_zone")?,
        topic: row.try_get("topic")?,
        priority: Priority::parse(&priority)
            .map_err(|_| StoreError::Corrupt(format!("priority {priority}")))?,
        answers: serde_json::from_str(&answers)
            .map_err(|e| StoreError::Corrupt(format!("answers: {e}")))?,
        status: BookingStatus::parse(&status)
            .ok_or_else(|| StoreError::Corrupt(format!("status {status}")))?,
        version: row.try_get("version")?,
        ics_uid: row.try_get("ics_uid")?,
        ics_sequence: row.try_get("ics_sequence")?,
        created_at: read_ts(row, "created_at")?,
        updated_at: read_ts(row, "updated_at")?,
        accepted_at: read_opt_ts(row, "accepted_at")?,
        declined_at: read_opt_ts(row, "declined_at")?,
        reschedule_requested_at: read_opt_ts(row, "reschedule_requested_at")?,
        cancelled_at: read_opt_ts(row, "cancelled_at")?,
        expired_at: read_opt_ts(row, "expired_at")?,
    })
}

pub(super) fn outbox_from_row(row: &SqliteRow) -> StoreResult<OutboxMessage> {
    let status: String = row.try_get("status")?;
    Ok(OutboxMessage {
        id: read_uuid(row, "id")?,
        booking_id: read_opt_uuid(row, "booking_id")?,
        kind: row.try_get("kind")?,
        recipient: row.try_get("recipient")?,
        subject: row.try_get("subject")?,
        message_id: row.try_get("message_id")?,
        message: row.try_get("message")?,
        status: EmailStatus::parse(&status)
            .ok_or_else(|| StoreError::Corrupt(format!("email status {status}")))?,
        attempts: row.try_get("attempts")?,
        next_attempt_at: read_ts(row, "next_attempt_at")?,
        last_error: row.try_get("last_error")?,
        sent_at: read_opt_ts(row, "sent_at")?,
        created_at: read_ts(row, "created_at")?,
    })
}
