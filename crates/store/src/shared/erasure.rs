//! Erasing a visitor's data, written once for both databases. A booking erased keeps only its
//! times, status and history of moves; its visitor's name, email, topic and answers are
//! blanked, and every other row that holds them is deleted or blanked by [`BY_BOOKING`].
//!
//! An erased booking is one whose `requester_email` is empty (no booking is made without an
//! address). Every erasure also sweeps what earlier ones had to leave: an email queued when its
//! booking was erased (a cancellation's notices) is sent first and deleted at the next erasure
//! after that, which the outbox worker runs after each round that sent something.

use super::tx::Value::{Id, Text, Time};
use super::tx::{Db, Tx};
use crate::erasure::{Erase, Erased, Erasure};
use crate::{StoreError, StoreResult};

/// The erased bookings, for the statements of [`BY_BOOKING`].
const ERASED: &str = "SELECT id FROM guidance_bookings WHERE requester_email = ''";

/// Every table that holds a visitor's data by booking, and how its rows of the erased bookings
/// (`{erased}`) go. A new table with visitor data is one more line here.
const BY_BOOKING: &[&str] = &[
    // The kept answers are the booking as JSON.
    "DELETE FROM guidance_idempotency_keys WHERE booking_id IN ({erased})",
    // Tokens are hashes, but an erased booking has nothing left to act on.
    "DELETE FROM guidance_booking_actions WHERE booking_id IN ({erased})",
    // The owner's messages to the visitor may name them; the moves themselves stay.
    "UPDATE guidance_booking_events SET note = NULL \
     WHERE note IS NOT NULL AND booking_id IN ({erased})",
    // A calendar reply names the booking's invitation and who answered it.
    "DELETE FROM guidance_calendar_replies WHERE booking_id IN ({erased})",
    // A webhook message carries the booking; one still to be sent (a cancellation's, queued
    // with the erasure) goes first, as emails do, and is blanked by a later erasure. Its log
    // line (times, status, answer) stays.
    "UPDATE guidance_webhook_deliveries SET payload = '' \
     WHERE payload <> '' AND status <> 'queued' AND booking_id IN ({erased})",
];

/// Every table an erasure changes: PostgreSQL vacuums them after an erasure, so that the old
/// versions of the rows leave the tables' pages soon (see `PostgresStore::erase`).
pub(crate) const TABLES: &[&str] = &[
    "guidance_bookings",
    "guidance_idempotency_keys",
    "guidance_booking_actions",
    "guidance_booking_events",
    "guidance_calendar_replies",
    "guidance_webhook_deliveries",
    "guidance_email_outbox",
];

/// The stored emails of the erased bookings, but for those still to be sent (a cancellation's
/// notices, queued in the transaction that erased the booking's other data): they go once sent.
const EMAILS: &str = "DELETE FROM guidance_email_outbox \
     WHERE booking_id IN ({erased}) AND NOT (status = 'queued' AND withdrawn_at IS NULL) \
     RETURNING id";

/// Whether `whom` is only the sweep of what earlier erasures left and there is nothing to
/// sweep: no booking was ever erased. The outbox worker asks for that sweep after every round
/// that sent something, and the answer then comes from the index of erased bookings, without
/// a write transaction.
pub(crate) async fn nothing_to_do<D: Db>(db: &D, whom: &Erase) -> StoreResult<bool> {
    if !matches!(whom, Erase::Leftovers) {
        return Ok(false);
    }
    Ok(db
        .read_optional(&format!("{ERASED} LIMIT 1"), &[])
        .await?
        .is_none())
}

/// Erases what `erasure` names, and what earlier erasures left, in one transaction.
pub(crate) async fn erase<T: Tx>(mut tx: T, erasure: &Erasure) -> StoreResult<Erased> {
    // Ids and times are bound as each backend keeps them: text on SQLite, typed on PostgreSQL.
    let (which, arg) = match &erasure.whom {
        Erase::Booking(id) => ("id = $1", Id(*id)),
        Erase::Email(email) => (
            "lower(trim(requester_email)) = lower(trim($1))",
            Text(email),
        ),
        Erase::EndedBefore(at) => ("ends_at <= $1", Time(*at)),
        Erase::Leftovers => ("FALSE AND $1 = ''", Text("")),
    };
    let chosen = format!("requester_email <> '' AND {which}");
    tx.execute(
        &format!(
            "INSERT INTO guidance_booking_events \
             (booking_id, actor, action, from_status, to_status, note, created_at) \
             SELECT id, $2, 'erased', status, status, NULL, $3 FROM guidance_bookings \
             WHERE {chosen}"
        ),
        &[arg, Text(erasure.actor.as_str()), Time(erasure.now)],
    )
    .await?;
    let rows = tx
        .fetch_all(
            &format!(
                "UPDATE guidance_bookings SET requester_name = '', requester_email = '', \
                 topic = '', answers = '{{}}', meeting_room = NULL WHERE {chosen} RETURNING id"
            ),
            &[arg],
        )
        .await?;
    let bookings = ids(&rows)?;
    // Rows of earlier erasures' bookings deleted or blanked now (a sweep finds some or none).
    let mut changed = 0;
    for statement in BY_BOOKING {
        changed += tx
            .execute(&statement.replace("{erased}", ERASED), &[])
            .await?;
    }
    let mut emails = ids(&tx
        .fetch_all(&EMAILS.replace("{erased}", ERASED), &[])
        .await?)?;
    if let Erase::Email(email) = &erasure.whom {
        // Rows that name the address without a booking (one deleted since, a reply it sent).
        let rows = tx
            .fetch_all(
                "DELETE FROM guidance_email_outbox WHERE booking_id IS NULL \
                 AND lower(trim(recipient)) = lower(trim($1)) RETURNING id",
                &[Text(email)],
            )
            .await?;
        emails.extend(ids(&rows)?);
        changed += tx
            .execute(
                "DELETE FROM guidance_calendar_replies WHERE lower(trim(sender)) = lower(trim($1))",
                &[Text(email)],
            )
            .await?;
    }
    tx.commit().await?;
    let changed = changed > 0 || !bookings.is_empty() || !emails.is_empty();
    Ok(Erased {
        bookings,
        emails,
        changed,
    })
}

/// The `id` column of `rows`.
fn ids<R: super::rows::StoredRow>(rows: &[R]) -> StoreResult<Vec<uuid::Uuid>> {
    rows.iter()
        .map(|r| r.uuid("id"))
        .collect::<Result<_, StoreError>>()
}

#[cfg(test)]
mod tests {
    use super::{BY_BOOKING, EMAILS, TABLES};

    #[test]
    fn every_table_an_erasure_changes_is_vacuumed() {
        for statement in BY_BOOKING.iter().chain([&EMAILS]) {
            let table = statement
                .split_whitespace()
                .skip_while(|w| !matches!(*w, "FROM" | "UPDATE"))
                .nth(1)
                .expect("a table");
            assert!(TABLES.contains(&table), "{table} is not vacuumed");
        }
    }
}
