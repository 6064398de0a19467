//! The steps of the SQLite store's writing transactions.

use super::*;

pub(super) type Tx<'a> = sqlx::Transaction<'a, sqlx::Sqlite>;

#[expect(
    clippy::too_many_arguments,
    reason = "one column each; a struct would only rename them"
)]
pub(super) async fn insert_event(
    tx: &mut Tx<'_>,
    booking_id: Uuid,
    actor: &str,
    action: &str,
    from: Option<BookingStatus>,
    to: BookingStatus,
    note: Option<&str>,
    now: Timestamp,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO guidance_booking_events (booking_id, actor, action, from_status, to_status, note, created_at) \
         VALUES (?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(booking_id.to_string())
    .bind(actor)
    .bind(action)
    .bind(from.map(|s| s.as_str()))
    .bind(to.as_str())
    .bind(note)
    .bind(ts(now))
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub(super) async fn insert_tokens(
    tx: &mut Tx<'_>,
    booking_id: Uuid,
    version: i64,
    tokens: &[crate::NewToken],
    now: Timestamp,
) -> StoreResult<()> {
    for t in tokens {
        sqlx::query(
            "INSERT INTO guidance_booking_actions (id, booking_id, action, token_hash, booking_version, expires_at, created_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(Uuid::new_v4().to_string())
        .bind(booking_id.to_string())
        .bind(t.action.as_str())
        .bind(t.hash.as_str())
        .bind(version)
        .bind(ts(t.expires_at))
        .bind(ts(now))
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

pub(super) async fn insert_emails(
    tx: &mut Tx<'_>,
    booking_id: Uuid,
    emails: &[crate::NewEmail],
    now: Timestamp,
) -> StoreResult<()> {
    for m in emails {
        sqlx::query(
            "INSERT INTO guidance_email_outbox (id, booking_id, kind, recipient, subject, message_id, message, next_attempt_at, created_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(Uuid::new_v4().to_string())
        .bind(booking_id.to_string())
        .bind(&m.kind)
        .bind(&m.recipient)
        .bind(&m.subject)
        .bind(&m.message_id)
        .bind(&m.message)
        .bind(ts(now))
        .bind(ts(now))
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

/// Marks an open slot booked if it still has the expected window and has not started.
/// Returns false when it is not (any more) free.
pub(super) async fn claim_slot(
    tx: &mut Tx<'_>,
    slot_id: Uuid,
    window: SlotWindow,
    now: Timestamp,
) -> StoreResult<bool> {
    let done = sqlx::query(
        "UPDATE guidance_availability SET status = 'booked', updated_at = ? \
         WHERE id = ? AND status = 'open' AND starts_at = ? AND ends_at = ? AND starts_at > ?",
    )
    .bind(ts(now))
    .bind(slot_id.to_string())
    .bind(ts(window.starts_at()))
    .bind(ts(window.ends_at()))
    .bind(ts(now))
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// How many bookings of an address (trimmed, ignoring case) await the owner: pending, or not yet
/// confirmed by the requester.
pub(super) async fn awaiting_owner(tx: &mut Tx<'_>, email: &str) -> StoreResult<i64> {
    Ok(sqlx::query_scalar(
        "SELECT COUNT(*) FROM guidance_bookings \
         WHERE lower(requester_email) = lower(?) AND status IN ('pending', 'unconfirmed')",
    )
    .bind(email.trim())
    .fetch_one(&mut **tx)
    .await?)
}

pub(super) async fn slot_exists(tx: &mut Tx<'_>, slot_id: Uuid) -> StoreResult<bool> {
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM guidance_availability WHERE id = ?")
        .bind(slot_id.to_string())
        .fetch_one(&mut **tx)
        .await?;
    Ok(n > 0)
}

pub(super) fn status_timestamp_column(to: BookingStatus) -> Option<&'static str> {
    match to {
        BookingStatus::Accepted => Some("accepted_at"),
        BookingStatus::Declined => Some("declined_at"),
        BookingStatus::NeedsReschedule => Some("reschedule_requested_at"),
        BookingStatus::Cancelled => Some("cancelled_at"),
        BookingStatus::Expired => Some("expired_at"),
        BookingStatus::Pending | BookingStatus::Unconfirmed => None,
    }
}

/// Sets the password; a new password ends every session and every setup link.
pub(super) async fn set_password(tx: &mut Tx<'_>, hash: &str, now: Timestamp) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO guidance_admin_credentials (id, password_hash, updated_at) VALUES (1, ?, ?) \
         ON CONFLICT (id) DO UPDATE SET password_hash = excluded.password_hash, updated_at = excluded.updated_at",
    )
    .bind(hash)
    .bind(ts(now))
    .execute(&mut **tx)
    .await?;
    sqlx::query("DELETE FROM guidance_admin_sessions")
        .execute(&mut **tx)
        .await?;
    sqlx::query("UPDATE guidance_admin_setup_tokens SET used_at = COALESCE(used_at, ?)")
        .bind(ts(now))
        .execute(&mut **tx)
        .await?;
    Ok(())
}
