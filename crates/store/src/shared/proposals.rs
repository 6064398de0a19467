//! Proposed times, written once for both databases: how a reschedule holds the slots the owner
//! proposes, how the visitor's link takes one, and how the others are given back. The hold is
//! the slot's own status (`booked`), set by the same statement that claims a slot for a booking,
//! so a held time can be neither booked nor proposed twice (see `booking::reserve_slot`).

use jiff::Timestamp;
use uuid::Uuid;

use super::booking::reserve_slot;
use super::rows::StoredRow;
use super::tx::Value::{Id, Text, Time};
use super::tx::{Db, Tx};
use crate::{NewProposal, ProposedTime, SlotChange, StoreError, StoreResult};

/// The columns [`proposal_from_row`] reads.
const COLUMNS: &str =
    "id, booking_id, slot_id, starts_at, ends_at, created_at, taken_at, released_at";

/// Holds each of `proposals` for booking `booking_id`: claims its slot (refused with
/// [`StoreError::SlotTaken`] or [`StoreError::NotFound`] like any booking of it) and records it
/// with the hash of its link.
pub(crate) async fn hold<T: Tx>(
    tx: &mut T,
    booking_id: Uuid,
    proposals: &[NewProposal],
    now: Timestamp,
) -> StoreResult<()> {
    for p in proposals {
        reserve_slot(tx, p.slot.slot_id, p.slot.window, now, None).await?;
        tx.execute(
            "INSERT INTO guidance_proposed_times \
             (id, booking_id, slot_id, starts_at, ends_at, token_hash, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
            &[
                Id(Uuid::new_v4()),
                Id(booking_id),
                Id(p.slot.slot_id),
                Time(p.slot.window.starts_at()),
                Time(p.slot.window.ends_at()),
                Text(p.hash.as_str()),
                Time(now),
            ],
        )
        .await?;
    }
    Ok(())
}

/// Takes the live proposal `proposal` of booking `booking_id`, for slot `change`: its slot,
/// already held, passes to the booking. [`StoreError::TokenUsed`] when it is no longer live
/// (taken, given back: its link is spent) or its time has begun.
pub(crate) async fn take<T: Tx>(
    tx: &mut T,
    booking_id: Uuid,
    proposal: Uuid,
    change: SlotChange,
    now: Timestamp,
) -> StoreResult<()> {
    let taken = tx
        .execute(
            "UPDATE guidance_proposed_times SET taken_at = $1 \
             WHERE id = $2 AND booking_id = $3 AND slot_id = $4 AND starts_at > $1 \
               AND taken_at IS NULL AND released_at IS NULL",
            &[Time(now), Id(proposal), Id(booking_id), Id(change.slot_id)],
        )
        .await?;
    if taken != 1 {
        return Err(StoreError::TokenUsed);
    }
    Ok(())
}

/// Gives back every live proposal of booking `booking_id`: their slots are open again.
pub(crate) async fn release<T: Tx>(
    tx: &mut T,
    booking_id: Uuid,
    now: Timestamp,
) -> StoreResult<()> {
    tx.execute(
        "UPDATE guidance_availability SET status = 'open', updated_at = $1 \
         WHERE status = 'booked' AND id IN ( \
             SELECT slot_id FROM guidance_proposed_times \
             WHERE booking_id = $2 AND taken_at IS NULL AND released_at IS NULL)",
        &[Time(now), Id(booking_id)],
    )
    .await?;
    tx.execute(
        "UPDATE guidance_proposed_times SET released_at = $1 \
         WHERE booking_id = $2 AND taken_at IS NULL AND released_at IS NULL",
        &[Time(now), Id(booking_id)],
    )
    .await?;
    Ok(())
}

/// See [`crate::Store::proposed_times`].
pub(crate) async fn of_booking<D: Db>(db: &D, booking_id: Uuid) -> StoreResult<Vec<ProposedTime>> {
    let rows = db
        .read_all(
            &format!(
                "SELECT {COLUMNS} FROM guidance_proposed_times WHERE booking_id = $1 \
                 ORDER BY created_at DESC, starts_at, id"
            ),
            &[Id(booking_id)],
        )
        .await?;
    let all: Vec<ProposedTime> = rows
        .iter()
        .map(proposal_from_row)
        .collect::<Result<_, _>>()?;
    // Only the latest reschedule's proposals (they share its moment), in time order.
    let latest = all.first().map(|p| p.created_at);
    let mut latest: Vec<ProposedTime> = all
        .into_iter()
        .filter(|p| Some(p.created_at) == latest)
        .collect();
    latest.sort_by_key(|p| (p.starts_at, p.id));
    Ok(latest)
}

/// See [`crate::Store::find_proposal`].
pub(crate) async fn by_hash<D: Db>(db: &D, hash: &str) -> StoreResult<Option<ProposedTime>> {
    let row = db
        .read_optional(
            &format!("SELECT {COLUMNS} FROM guidance_proposed_times WHERE token_hash = $1"),
            &[Text(hash)],
        )
        .await?;
    row.as_ref().map(proposal_from_row).transpose()
}

fn proposal_from_row(row: &impl StoredRow) -> StoreResult<ProposedTime> {
    Ok(ProposedTime {
        id: row.uuid("id")?,
        booking_id: row.uuid("booking_id")?,
        slot_id: row.opt_uuid("slot_id")?,
        starts_at: row.time("starts_at")?,
        ends_at: row.time("ends_at")?,
        created_at: row.time("created_at")?,
        taken_at: row.opt_time("taken_at")?,
        released_at: row.opt_time("released_at")?,
    })
}
