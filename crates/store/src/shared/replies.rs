//! Calendar replies read from the service mailbox and the lease of the process reading it,
//! written once for both databases.

use jiff::Timestamp;
use uuid::Uuid;

use super::rows::{PlainColumns, StoredRow};
use super::tx::Value::{Id, OptId, OptText, Text, Time};
use super::tx::{Db, Tx};
use crate::{CalendarReply, InboxStatus, ReplyOutcome, StoreError, StoreResult};

/// Records a reply as [`crate::Store::record_calendar_reply`] says, and commits.
pub(crate) async fn record<T: Tx>(mut tx: T, reply: &CalendarReply) -> StoreResult<bool> {
    let inserted = tx
        .execute(
            "INSERT INTO guidance_calendar_replies \
             (message_id, received_at, sender, method, partstat, ics_uid, booking_id, outcome, reason) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (message_id) DO NOTHING",
            &[
                Text(&reply.message_id),
                Time(reply.received_at),
                OptText(reply.sender.as_deref()),
                OptText(reply.method.as_deref()),
                OptText(reply.partstat.as_deref()),
                OptText(reply.ics_uid.as_deref()),
                OptId(reply.booking_id),
                Text(reply.outcome.as_str()),
                OptText(reply.reason.as_deref()),
            ],
        )
        .await?;
    if inserted == 0 {
        return Ok(false);
    }
    if let (Some(booking_id), true) = (reply.booking_id, reply.outcome != ReplyOutcome::Ignored) {
        // The booking's history names the calendar answer beside the change it caused (or, for
        // a "maybe", instead of one).
        tx.execute(
            "INSERT INTO guidance_booking_events \
             (booking_id, actor, action, from_status, to_status, note, created_at) \
             SELECT id, 'owner', $2, NULL, status, NULL, $3 FROM guidance_bookings WHERE id = $1",
            &[
                Id(booking_id),
                Text(&format!("calendar_{}", reply.outcome.as_str())),
                Time(reply.received_at),
            ],
        )
        .await?;
    }
    tx.commit().await?;
    Ok(true)
}

/// See [`crate::Store::calendar_reply_seen`].
pub(crate) async fn seen<D: Db>(db: &D, message_id: &str) -> StoreResult<bool> {
    let row = db
        .read_optional(
            "SELECT 1 AS one FROM guidance_calendar_replies WHERE message_id = $1",
            &[Text(message_id)],
        )
        .await?;
    Ok(row.is_some())
}

/// See [`crate::Store::list_calendar_replies`].
pub(crate) async fn list<D: Db>(db: &D, limit: u32) -> StoreResult<Vec<CalendarReply>> {
    let rows = db
        .read_all(
            "SELECT message_id, received_at, sender, method, partstat, ics_uid, booking_id, \
             outcome, reason FROM guidance_calendar_replies \
             ORDER BY received_at DESC, message_id LIMIT $1",
            &[super::tx::Value::Int(i64::from(limit))],
        )
        .await?;
    rows.iter().map(reply_from_row).collect()
}

fn reply_from_row(row: &impl StoredRow) -> StoreResult<CalendarReply> {
    let outcome = row.text("outcome")?;
    Ok(CalendarReply {
        message_id: row.text("message_id")?,
        received_at: row.time("received_at")?,
        sender: row.opt_text("sender")?,
        method: row.opt_text("method")?,
        partstat: row.opt_text("partstat")?,
        ics_uid: row.opt_text("ics_uid")?,
        booking_id: row.opt_uuid("booking_id")?,
        outcome: ReplyOutcome::parse(&outcome)
            .ok_or_else(|| StoreError::Corrupt(format!("reply outcome {outcome:?}")))?,
        reason: row.opt_text("reason")?,
    })
}

/// See [`crate::Store::take_inbox_lease`].
pub(crate) async fn take_lease<D: Db>(
    db: &D,
    holder: Uuid,
    now: Timestamp,
    until: Timestamp,
) -> StoreResult<bool> {
    let changed = db
        .write(
            "INSERT INTO guidance_inbox_lease (id, holder, expires_at) VALUES (1, $1, $3) \
             ON CONFLICT (id) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at \
             WHERE guidance_inbox_lease.holder = $1 OR guidance_inbox_lease.expires_at <= $2",
            &[Id(holder), Time(now), Time(until)],
        )
        .await?;
    Ok(changed > 0)
}

/// See [`crate::Store::record_inbox_check`].
pub(crate) async fn record_check<D: Db>(
    db: &D,
    holder: Uuid,
    now: Timestamp,
    error: Option<&str>,
) -> StoreResult<()> {
    db.write(
        "UPDATE guidance_inbox_lease SET checked_at = $2, last_error = $3 WHERE id = 1 AND holder = $1",
        &[Id(holder), Time(now), OptText(error)],
    )
    .await?;
    Ok(())
}

/// See [`crate::Store::inbox_status`].
pub(crate) async fn status<D: Db>(db: &D) -> StoreResult<Option<InboxStatus>> {
    let row = db
        .read_optional(
            "SELECT holder, expires_at, checked_at, last_error FROM guidance_inbox_lease WHERE id = 1",
            &[],
        )
        .await?;
    row.map(|row| {
        Ok(InboxStatus {
            holder: row.uuid("holder")?,
            expires_at: row.time("expires_at")?,
            checked_at: row.opt_time("checked_at")?,
            last_error: row.opt_text("last_error")?,
        })
    })
    .transpose()
}
