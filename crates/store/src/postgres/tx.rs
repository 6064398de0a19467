//! The steps of the PostgreSQL store's writing transactions.

use super::*;

#[expect(
    clippy::too_many_arguments,
    reason = "one column each; a struct would only rename them"
)]
pub(super) async fn insert_event(
    tx: &mut Tx,
    p: bool,
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
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    ).persistent(p)
    .bind(booking_id)
    .bind(actor)
    .bind(action)
    .bind(from.map(|s| s.as_str()))
    .bind(to.as_str())
    .bind(note)
    .bind(pt(now))
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub(super) async fn insert_tokens(
    tx: &mut Tx,
    p: bool,
    booking_id: Uuid,
    version: i64,
    tokens: &[crate::NewToken],
    now: Timestamp,
) -> StoreResult<()> {
    for t in tokens {
        sqlx::query(
            "INSERT INTO guidance_booking_actions (id, booking_id, action, token_hash, booking_version, expires_at, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        ).persistent(p)
        .bind(Uuid::new_v4())
        .bind(booking_id)
        .bind(t.action.as_str())
        .bind(t.hash.as_str())
        .bind(version)
        .bind(pt(t.expires_at))
        .bind(pt(now))
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

pub(super) async fn insert_emails(
    tx: &mut Tx,
    p: bool,
    booking_id: Uuid,
    emails: &[crate::NewEmail],
    now: Timestamp,
) -> StoreResult<()> {
    for m in emails {
        sqlx::query(
            "INSERT INTO guidance_email_outbox (id, booking_id, kind, recipient, subject, message_id, message, next_attempt_at, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)",
        ).persistent(p)
        .bind(Uuid::new_v4())
        .bind(booking_id)
        .bind(&m.kind)
        .bind(&m.recipient)
        .bind(&m.subject)
        .bind(&m.message_id)
        .bind(&m.message)
        .bind(pt(now))
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

/// Marks an open slot booked if it still has the expected window and has not started. A racing
/// transaction waits for the row lock, re-checks the condition and finds nothing to update.
pub(super) async fn claim_slot(
    tx: &mut Tx,
    p: bool,
    slot_id: Uuid,
    window: SlotWindow,
    now: Timestamp,
) -> StoreResult<bool> {
    let done = sqlx::query(
        "UPDATE guidance_availability SET status = 'booked', updated_at = $1 \
         WHERE id = $2 AND status = 'open' AND starts_at = $3 AND ends_at = $4 AND starts_at > $1",
    )
    .persistent(p)
    .bind(pt(now))
    .bind(slot_id)
    .bind(pt(window.starts_at()))
    .bind(pt(window.ends_at()))
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// How many bookings of an address (trimmed, ignoring case) await the owner: pending, or not yet
/// confirmed by the requester. First takes a transaction-level advisory lock on the address, so
/// that concurrent requests of one address count one after the other: each count (a fresh
/// snapshot under READ COMMITTED) sees the bookings the earlier lock holders committed. The lock
/// ends with the transaction, which keeps it safe behind a transaction pooler.
pub(super) async fn awaiting_owner(tx: &mut Tx, p: bool, email: &str) -> StoreResult<i64> {
    let email = email.trim();
    sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended(lower($1), 0))")
        .persistent(p)
        .bind(email)
        .execute(&mut **tx)
        .await?;
    Ok(sqlx::query_scalar(
        "SELECT COUNT(*) FROM guidance_bookings \
         WHERE lower(requester_email) = lower($1) AND status IN ('pending', 'unconfirmed')",
    )
    .persistent(p)
    .bind(email)
    .fetch_one(&mut **tx)
    .await?)
}

pub(super) async fn slot_taken_or_missing(tx: &mut Tx, p: bool, slot_id: Uuid) -> StoreError {
    match sqlx::query_scalar::<_, bool>(
        "SELECT EXISTS (SELECT 1 FROM guidance_availability WHERE id = $1)",
    )
    .persistent(p)
    .bind(slot_id)
    .fetch_one(&mut **tx)
    .await
    {
        Ok(true) => StoreError::SlotTaken,
        Ok(false) => StoreError::NotFound,
        Err(e) => StoreError::from(e),
    }
}

pub(super) async fn fetch_booking(tx: &mut Tx, p: bool, id: Uuid) -> StoreResult<Booking> {
    let row = sqlx::query(&format!(
        "SELECT {BOOKING_COLUMNS} FROM guidance_bookings WHERE id = $1"
    ))
    .persistent(p)
    .bind(id)
    .fetch_one(&mut **tx)
    .await?;
    booking_from_row(&row)
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
pub(super) async fn set_password(
    tx: &mut Tx,
    p: bool,
    hash: &str,
    now: Timestamp,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO guidance_admin_credentials (id, password_hash, updated_at) VALUES (1, $1, $2) \
         ON CONFLICT (id) DO UPDATE SET password_hash = EXCLUDED.password_hash, updated_at = EXCLUDED.updated_at",
    )
    .persistent(p)
    .bind(hash)
    .bind(pt(now))
    .execute(&mut **tx)
    .await?;
    sqlx::query("DELETE FROM guidance_admin_sessions")
        .persistent(p)
        .execute(&mut **tx)
        .await?;
    sqlx::query("UPDATE guidance_admin_setup_tokens SET used_at = COALESCE(used_at, $1)")
        .persistent(p)
        .bind(pt(now))
        .execute(&mut **tx)
        .await?;
    Ok(())
}
