//! The rules of the owner's slot changes, written once for both databases: a slot a booking
//! holds cannot be changed, withdrawn or removed, and the database judges overlaps (its refusal
//! becomes [`StoreError::SlotOverlap`]).

use guidance_core::SlotWindow;
use jiff::Timestamp;
use uuid::Uuid;

use super::rows::{PlainColumns, slot_from_row};
use super::sql::{self, SLOT_COLUMNS};
use super::tx::Tx;
use super::tx::Value::{Id, OptText, Text, Time};
use crate::{Slot, StoreError, StoreResult};

/// Creates an open slot as [`crate::Store::create_slot`] says, and commits.
pub(crate) async fn create_slot<T: Tx>(
    mut tx: T,
    window: SlotWindow,
    meeting_details: Option<&str>,
    now: Timestamp,
) -> StoreResult<Slot> {
    let slot = fetch_slot(
        &mut tx,
        &format!(
            "INSERT INTO guidance_availability \
             (id, starts_at, ends_at, status, meeting_details, created_at, updated_at) \
             VALUES ($1, $2, $3, 'open', $4, $5, $5) RETURNING {SLOT_COLUMNS}"
        ),
        &[
            Id(Uuid::new_v4()),
            Time(window.starts_at()),
            Time(window.ends_at()),
            OptText(meeting_details),
            Time(now),
        ],
    )
    .await?;
    tx.commit().await?;
    Ok(slot)
}

/// Opens an unavailable slot again or withdraws an open one, as
/// [`crate::Store::set_slot_available`] says, and commits.
pub(crate) async fn set_slot_available<T: Tx>(
    mut tx: T,
    id: Uuid,
    available: bool,
    now: Timestamp,
) -> StoreResult<Slot> {
    let (to, from) = if available {
        ("open", "unavailable")
    } else {
        ("unavailable", "open")
    };
    let current = locked_status(&mut tx, id).await?;
    if current == "booked" {
        return Err(StoreError::SlotBooked);
    }
    // Anything else is already as asked.
    if current == from {
        tx.execute(
            "UPDATE guidance_availability SET status = $1, updated_at = $2 \
             WHERE id = $3 AND status = $4",
            &[Text(to), Time(now), Id(id), Text(from)],
        )
        .await?;
    }
    let slot = fetch_slot(&mut tx, &sql::SLOT_BY_ID, &[Id(id)]).await?;
    tx.commit().await?;
    Ok(slot)
}

/// Changes a slot's window and meeting details as [`crate::Store::update_slot`] says, and
/// commits.
pub(crate) async fn update_slot<T: Tx>(
    mut tx: T,
    id: Uuid,
    window: SlotWindow,
    meeting_details: Option<&str>,
    now: Timestamp,
) -> StoreResult<Slot> {
    // The row lock keeps a booking from claiming the slot while it moves.
    if locked_status(&mut tx, id).await? == "booked" {
        return Err(StoreError::SlotBooked);
    }
    let slot = fetch_slot(
        &mut tx,
        &format!(
            "UPDATE guidance_availability \
             SET starts_at = $1, ends_at = $2, meeting_details = $3, updated_at = $4 \
             WHERE id = $5 RETURNING {SLOT_COLUMNS}"
        ),
        &[
            Time(window.starts_at()),
            Time(window.ends_at()),
            OptText(meeting_details),
            Time(now),
            Id(id),
        ],
    )
    .await?;
    tx.commit().await?;
    Ok(slot)
}

/// Removes a slot as [`crate::Store::delete_slot`] says, and commits.
pub(crate) async fn delete_slot<T: Tx>(mut tx: T, id: Uuid) -> StoreResult<()> {
    let deleted = tx
        .execute(
            "DELETE FROM guidance_availability WHERE id = $1 AND status <> 'booked'",
            &[Id(id)],
        )
        .await?;
    if deleted == 1 {
        return tx.commit().await;
    }
    Err(if slot_exists(&mut tx, id).await? {
        StoreError::SlotBooked
    } else {
        StoreError::NotFound
    })
}

/// Whether the slot exists.
pub(crate) async fn slot_exists<T: Tx>(tx: &mut T, id: Uuid) -> StoreResult<bool> {
    let found = tx
        .fetch_optional(
            "SELECT 1 AS one FROM guidance_availability WHERE id = $1",
            &[Id(id)],
        )
        .await?;
    Ok(found.is_some())
}

/// The slot's status, its row locked until the transaction ends; [`StoreError::NotFound`] when
/// there is no such slot.
async fn locked_status<T: Tx>(tx: &mut T, id: Uuid) -> StoreResult<String> {
    let sql = format!(
        "SELECT status FROM guidance_availability WHERE id = $1{lock}",
        lock = T::LOCK_ROWS
    );
    tx.fetch_optional(&sql, &[Id(id)])
        .await?
        .ok_or(StoreError::NotFound)?
        .text("status")
}

/// The slot a statement returns ([`SLOT_COLUMNS`]); [`StoreError::NotFound`] when none.
async fn fetch_slot<T: Tx>(
    tx: &mut T,
    sql: &str,
    values: &[super::tx::Value<'_>],
) -> StoreResult<Slot> {
    let row = tx
        .fetch_optional(sql, values)
        .await?
        .ok_or(StoreError::NotFound)?;
    slot_from_row(&row)
}
