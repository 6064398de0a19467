//! The reads both databases run alike: the statements of [`super::sql`], their rows mapped by
//! [`super::rows`].

use std::collections::BTreeMap;

use guidance_core::{BookingStatus, Question, SlotStatus, TokenHash};
use jiff::Timestamp;
use uuid::Uuid;

use super::rows::{
    PlainColumns, booking_from_row, event_from_row, question_from_row, slot_from_row,
    token_from_row,
};
use super::sql;
use super::tx::Db;
use super::tx::Value::{Id, OptText, Text, Time};
use crate::{Booking, BookingEvent, Slot, StoreError, StoreResult, TokenRecord};

/// See [`crate::Store::get_slot`].
pub(crate) async fn get_slot<D: Db>(db: &D, id: Uuid) -> StoreResult<Slot> {
    let row = db
        .read_optional(&sql::SLOT_BY_ID, &[Id(id)])
        .await?
        .ok_or(StoreError::NotFound)?;
    slot_from_row(&row)
}

/// See [`crate::Store::list_slots`].
pub(crate) async fn list_slots<D: Db>(
    db: &D,
    from: Timestamp,
    to: Timestamp,
    status: Option<SlotStatus>,
) -> StoreResult<Vec<Slot>> {
    let status = status.map(|s| s.as_str());
    let rows = db
        .read_all(&sql::LIST_SLOTS, &[Time(from), Time(to), OptText(status)])
        .await?;
    rows.iter().map(slot_from_row).collect()
}

/// See [`crate::Store::get_booking`].
pub(crate) async fn get_booking<D: Db>(db: &D, id: Uuid) -> StoreResult<Booking> {
    let row = db
        .read_optional(&sql::BOOKING_BY_ID, &[Id(id)])
        .await?
        .ok_or(StoreError::NotFound)?;
    booking_from_row(&row)
}

/// See [`crate::Store::booking_by_ics_uid`].
pub(crate) async fn booking_by_ics_uid<D: Db>(db: &D, uid: &str) -> StoreResult<Option<Booking>> {
    let row = db
        .read_optional(
            &format!(
                "SELECT {} FROM guidance_bookings WHERE ics_uid = $1",
                sql::BOOKING_COLUMNS
            ),
            &[Text(uid)],
        )
        .await?;
    row.as_ref().map(booking_from_row).transpose()
}

/// See [`crate::Store::list_bookings`].
pub(crate) async fn list_bookings<D: Db>(
    db: &D,
    status: Option<BookingStatus>,
) -> StoreResult<Vec<Booking>> {
    let status = status.map(|s| s.as_str());
    let rows = db.read_all(&sql::LIST_BOOKINGS, &[OptText(status)]).await?;
    rows.iter().map(booking_from_row).collect()
}

/// See [`crate::Store::list_overdue`].
pub(crate) async fn list_overdue<D: Db>(
    db: &D,
    now: Timestamp,
    reschedule_deadline: Timestamp,
) -> StoreResult<Vec<Booking>> {
    let rows = db
        .read_all(&sql::LIST_OVERDUE, &[Time(now), Time(reschedule_deadline)])
        .await?;
    rows.iter().map(booking_from_row).collect()
}

/// See [`crate::Store::answer_reminders_due`].
pub(crate) async fn answer_reminders_due<D: Db>(
    db: &D,
    now: Timestamp,
) -> StoreResult<Vec<Booking>> {
    let rows = db
        .read_all(&sql::ANSWER_REMINDERS_DUE, &[Time(now)])
        .await?;
    rows.iter().map(booking_from_row).collect()
}

/// See [`crate::Store::booking_events`].
pub(crate) async fn booking_events<D: Db>(
    db: &D,
    booking_id: Uuid,
) -> StoreResult<Vec<BookingEvent>> {
    let rows = db.read_all(&sql::BOOKING_EVENTS, &[Id(booking_id)]).await?;
    rows.iter().map(event_from_row).collect()
}

/// See [`crate::Store::find_token`].
pub(crate) async fn find_token<D: Db>(
    db: &D,
    hash: &TokenHash,
) -> StoreResult<Option<TokenRecord>> {
    let row = db
        .read_optional(&sql::TOKEN_BY_HASH, &[Text(hash.as_str())])
        .await?;
    row.as_ref().map(token_from_row).transpose()
}

/// See [`crate::Store::list_questions`].
pub(crate) async fn list_questions<D: Db>(db: &D) -> StoreResult<Vec<Question>> {
    let rows = db.read_all(&sql::LIST_QUESTIONS, &[]).await?;
    rows.iter().map(question_from_row).collect()
}

/// See [`crate::Store::settings`].
pub(crate) async fn settings<D: Db>(db: &D) -> StoreResult<BTreeMap<String, String>> {
    let rows = db
        .read_all("SELECT key, value FROM guidance_settings ORDER BY key", &[])
        .await?;
    rows.iter()
        .map(|row| Ok((row.text("key")?, row.text("value")?)))
        .collect()
}

/// See [`crate::Store::admin_password_hash`].
pub(crate) async fn admin_password_hash<D: Db>(db: &D) -> StoreResult<Option<String>> {
    let row = db
        .read_optional(
            "SELECT password_hash FROM guidance_admin_credentials WHERE id = 1",
            &[],
        )
        .await?;
    row.map(|row| row.text("password_hash")).transpose()
}

/// See [`crate::Store::admin_setup_token_valid`].
pub(crate) async fn admin_setup_link_valid<D: Db>(
    db: &D,
    link: &TokenHash,
    now: Timestamp,
) -> StoreResult<bool> {
    let row = db
        .read_optional(
            "SELECT 1 AS one FROM guidance_admin_setup_tokens \
             WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2",
            &[Text(link.as_str()), Time(now)],
        )
        .await?;
    Ok(row.is_some())
}
