//! The rules of a booking's transactions, written once for both databases: what
//! [`create_booking`] and [`transition`] write, in which order, and what each refusal means;
//! when a slot is given back, and which time column a status sets.

use guidance_core::ids::new_row_id;
use guidance_core::{BookingStatus, SlotWindow};
use jiff::Timestamp;
use uuid::Uuid;

use super::idempotency;
use super::outbox;
use super::proposals;
use super::rows::{PlainColumns, StoredRow, booking_from_row};
use super::slots::slot_exists;
use super::sql;
use super::tx::Value::{Id, Int, OptText, OptTime, Text, Time};
use super::tx::{Batch, Insert, Tx, Value};
use super::webhooks;
use crate::{Booking, NewBooking, NewEmail, NewToken, StoreError, StoreResult, Transition};

/// The column that records when a booking reached `to`, if that status has one.
fn status_timestamp_column(to: BookingStatus) -> Option<&'static str> {
    match to {
        BookingStatus::Accepted => Some("accepted_at"),
        BookingStatus::Declined => Some("declined_at"),
        BookingStatus::NeedsReschedule => Some("reschedule_requested_at"),
        BookingStatus::Cancelled => Some("cancelled_at"),
        BookingStatus::Expired => Some("expired_at"),
        BookingStatus::Pending | BookingStatus::Unconfirmed => None,
    }
}

/// Whether a booking moving from `from` to `to` gives its slot back: it held the slot and no
/// longer does.
fn frees_slot(from: BookingStatus, to: BookingStatus) -> bool {
    from.holds_slot() && !to.holds_slot()
}

/// Records a new booking as [`crate::Store::create_booking`] says, on `tx`, and commits.
pub(crate) async fn create_booking<T: Tx>(mut tx: T, new: NewBooking) -> StoreResult<Booking> {
    let awaiting = new.pending_limit.map(|limit| AwaitingLimit {
        email: new.intake.email.as_str().trim(),
        limit: i64::from(limit),
    });
    if let Some(awaiting) = &awaiting {
        // Counted inside the writing transaction, after the address is locked: no other request
        // of the same address can insert between the count and the insert below.
        tx.lock_address(awaiting.email).await?;
    }
    let answers = serde_json::Value::Object(new.intake.answers.as_json().clone()).to_string();
    let mut batch = Batch::default();
    // The slot's claim and the request's rows in one round trip: the rows are written only if
    // the claim returns the slot; if not, nothing was written, and the same transaction asks
    // why.
    let (sql, values) = reserve_statement(new.slot_id, new.window, new.now, awaiting.as_ref());
    batch.guard(sql, values);
    batch.push_insert(insert_booking::<T>(&new, &answers));
    let request = Record {
        actor: "requester",
        action: "request",
        from: None,
        to: new.status,
        note: None,
        tokens_version: 0,
        tokens: &new.tokens,
        emails: &new.emails,
        webhook: new.webhook.as_ref(),
    };
    let last = new.keep_answer.is_none();
    let Some(booking) = record(&mut tx, batch, new.id, request, new.now, last).await? else {
        // Where the batch committed (see `Tx::fetch_last_batch`), why is asked in a
        // transaction of its own, the address locked again: a change committed in between can
        // make the answer another refusal, never a booking.
        return Err(not_reserved(&mut tx, new.slot_id, awaiting.as_ref()).await?);
    };
    if let Some(keep) = &new.keep_answer {
        idempotency::keep(&mut tx, keep, &booking, new.now).await?;
    }
    tx.commit().await?;
    new.after_commit.run();
    Ok(booking)
}

/// Moves a booking as [`crate::Store::transition`] says, on `tx`, and commits.
pub(crate) async fn transition<T: Tx>(mut tx: T, t: Transition) -> StoreResult<Booking> {
    if let Some(hash) = &t.consume_token {
        // Bound to its booking: a token can only ever be spent on the booking it was issued for.
        let spent = tx
            .execute(
                "UPDATE guidance_booking_actions SET used_at = $1 \
                 WHERE token_hash = $2 AND booking_id = $3 AND used_at IS NULL",
                &[Time(t.now), Text(hash.as_str()), Id(t.booking_id)],
            )
            .await?;
        if spent != 1 {
            return Err(StoreError::TokenUsed);
        }
    }
    let old_slot = tx
        .fetch_optional(
            "SELECT slot_id FROM guidance_bookings WHERE id = $1",
            &[Id(t.booking_id)],
        )
        .await?
        .ok_or(StoreError::NotFound)?
        .opt_uuid("slot_id")?;

    // Move to the new slot before the booking becomes live again: its old slot may have been
    // booked by someone else meanwhile, and the one-live-booking-per-slot index must never
    // see this booking live on it. All of it rolls back if the compare-and-swap below fails.
    // A proposed time taken passes its hold to the booking; any other slot is claimed as a new
    // booking claims it.
    if let Some(change) = t.new_slot {
        match &t.take_proposal {
            Some(proposal) => {
                proposals::take(&mut tx, t.booking_id, *proposal, change, t.now).await?;
            }
            None => reserve_slot(&mut tx, change.slot_id, change.window, t.now, None).await?,
        }
        tx.execute(
            "UPDATE guidance_bookings SET slot_id = $1, starts_at = $2, ends_at = $3 WHERE id = $4",
            &[
                Id(change.slot_id),
                Time(change.window.starts_at()),
                Time(change.window.ends_at()),
                Id(t.booking_id),
            ],
        )
        .await?;
    }

    // Scheduled emails (reminders) are about the booking as it was: the change withdraws them,
    // and queues below those its new state needs.
    tx.execute(
        "UPDATE guidance_email_outbox SET withdrawn_at = $1, withdrawn_reason = 'withdrawn' \
         WHERE booking_id = $2 AND status = 'queued' AND send_before IS NOT NULL \
           AND withdrawn_at IS NULL",
        &[Time(t.now), Id(t.booking_id)],
    )
    .await?;

    // The compare-and-swap: only the version and status the caller read may move on.
    let stamp = status_timestamp_column(t.to)
        .map(|column| format!(", {column} = $3"))
        .unwrap_or_default();
    let moved = tx
        .execute(
            &format!(
                "UPDATE guidance_bookings \
                 SET status = $1, version = version + 1, ics_sequence = $2, updated_at = $3, \
                     answer_by = $7, answer_reminder_at = $9, \
                     meeting_room = COALESCE(meeting_room, $8){stamp} \
                 WHERE id = $4 AND version = $5 AND status = $6"
            ),
            &[
                Text(t.to.as_str()),
                Int(t.ics_sequence),
                Time(t.now),
                Id(t.booking_id),
                Int(t.expected_version),
                Text(t.from.as_str()),
                OptTime(t.answer_by),
                OptText(t.meeting_room.as_deref()),
                OptTime(t.answer_reminder_at),
            ],
        )
        .await?;
    if moved != 1 {
        return Err(StoreError::Conflict);
    }

    // The slot follows the booking: freed when the booking stops holding it.
    if let Some(slot) = old_slot.filter(|_| frees_slot(t.from, t.to)) {
        tx.execute(
            "UPDATE guidance_availability SET status = 'open', updated_at = $1 \
             WHERE id = $2 AND status = 'booked'",
            &[Time(t.now), Id(slot)],
        )
        .await?;
    }
    // The times proposed with an earlier change are held no longer (any change of the booking
    // ends the wait for the visitor's choice); those this change proposes are held now.
    proposals::release(&mut tx, t.booking_id, t.now).await?;
    proposals::hold(&mut tx, t.booking_id, &t.proposals, t.now).await?;

    let change = Record {
        actor: t.actor.as_str(),
        action: t.action.as_str(),
        from: Some(t.from),
        to: t.to,
        note: t.note.as_deref(),
        tokens_version: t.expected_version + 1,
        tokens: &t.tokens,
        emails: &t.emails,
        webhook: t.webhook.as_ref(),
    };
    let last = t.keep_answer.is_none();
    let booking = record(&mut tx, Batch::default(), t.booking_id, change, t.now, last)
        .await?
        .ok_or(StoreError::NotFound)?;
    if let Some(keep) = &t.keep_answer {
        idempotency::keep(&mut tx, keep, &booking, t.now).await?;
    }
    tx.commit().await?;
    t.after_commit.run();
    Ok(booking)
}

/// The requests of one address (trimmed, ignoring case) that await the owner (pending, or not
/// yet confirmed by the requester), as an SQL expression of the address at `$n`.
fn awaiting_owner_count(n: usize) -> String {
    format!(
        "(SELECT COUNT(*) FROM guidance_bookings \
          WHERE lower(requester_email) = lower(${n}) AND status IN ('pending', 'unconfirmed'))"
    )
}

/// How many requests of an address await the owner (see [`awaiting_owner_count`]).
async fn awaiting_owner<T: Tx>(tx: &mut T, email: &str) -> StoreResult<i64> {
    tx.fetch_optional(
        &format!("SELECT {} AS n", awaiting_owner_count(1)),
        &[Text(email)],
    )
    .await?
    .map_or(Ok(0), |row| row.int("n"))
}

/// A new request's address, and how many of its requests may await the owner at once.
pub(super) struct AwaitingLimit<'a> {
    email: &'a str,
    limit: i64,
}

/// Marks an open slot booked if it still has the expected window and has not started (a racing
/// transaction waits for the row, re-checks the condition and finds nothing to update), and,
/// given `awaiting`, if fewer than its limit of the address's requests await the owner (checked
/// in the same statement: one round trip). Otherwise the error [`not_reserved`] tells.
pub(super) async fn reserve_slot<T: Tx>(
    tx: &mut T,
    slot_id: Uuid,
    window: SlotWindow,
    now: Timestamp,
    awaiting: Option<AwaitingLimit<'_>>,
) -> StoreResult<()> {
    let (sql, values) = reserve_statement(slot_id, window, now, awaiting.as_ref());
    // `RETURNING` rather than a count of changed rows: on SQLite it lets this statement carry
    // the transaction's `BEGIN` (see `sqlite::tx`).
    let sql = format!("{sql} RETURNING id");
    if tx.fetch_optional(&sql, &values).await?.is_some() {
        return Ok(());
    }
    Err(not_reserved(tx, slot_id, awaiting.as_ref()).await?)
}

/// The statement of [`reserve_slot`], which marks the slot booked or changes nothing; also a
/// guard of a batch ([`Batch::guard`]).
fn reserve_statement<'a>(
    slot_id: Uuid,
    window: SlotWindow,
    now: Timestamp,
    awaiting: Option<&AwaitingLimit<'a>>,
) -> (String, Vec<Value<'a>>) {
    let mut sql = "UPDATE guidance_availability SET status = 'booked', updated_at = $1 \
         WHERE id = $2 AND status = 'open' AND starts_at = $3 AND ends_at = $4 \
           AND starts_at > $1"
        .to_owned();
    let mut values = vec![
        Time(now),
        Id(slot_id),
        Time(window.starts_at()),
        Time(window.ends_at()),
    ];
    if let Some(awaiting) = awaiting {
        sql.push_str(&format!(" AND {} < $6", awaiting_owner_count(5)));
        values.extend([Text(awaiting.email), Int(awaiting.limit)]);
    }
    (sql, values)
}

/// Why [`reserve_statement`] marked nothing, asked in its transaction:
/// [`StoreError::TooManyPending`] when as many of the address's requests as its limit await the
/// owner, [`StoreError::SlotTaken`] when the slot is not free (any more),
/// [`StoreError::NotFound`] when there is no such slot, in that order.
async fn not_reserved<T: Tx>(
    tx: &mut T,
    slot_id: Uuid,
    awaiting: Option<&AwaitingLimit<'_>>,
) -> StoreResult<StoreError> {
    if let Some(awaiting) = awaiting
        && awaiting_owner(tx, awaiting.email).await? >= awaiting.limit
    {
        return Ok(StoreError::TooManyPending);
    }
    Ok(if slot_exists(tx, slot_id).await? {
        StoreError::SlotTaken
    } else {
        StoreError::NotFound
    })
}

/// The insert of the booking row of a request (version 0, calendar sequence 0), returning the
/// booking as stored (nothing else in the request changes its row); `answers` are the intake's
/// answers as JSON text.
fn insert_booking<'a, T: Tx>(new: &'a NewBooking, answers: &'a str) -> Insert<'a> {
    let i = &new.intake;
    let values = vec![
        Id(new.id),
        Id(new.slot_id),
        Time(new.window.starts_at()),
        Time(new.window.ends_at()),
        Text(i.name.as_str()),
        Text(i.email.as_str()),
        Text(i.locale.as_str()),
        Text(i.time_zone.as_str()),
        Text(i.topic.as_str()),
        Text(i.priority.as_str()),
        Text(answers),
        Text(new.status.as_str()),
        Text(&new.ics_uid),
        Time(new.now),
        OptTime(new.answer_by),
        OptTime(new.answer_reminder_at),
    ];
    Insert {
        into: "guidance_bookings (id, slot_id, starts_at, ends_at, requester_name, \
               requester_email, requester_locale, requester_time_zone, topic, priority, answers, \
               status, version, ics_uid, ics_sequence, created_at, updated_at, answer_by, \
               answer_reminder_at)",
        rows: format!(
            "($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11{jsonb}, $12, 0, $13, 0, $14, $14, $15, $16)",
            jsonb = T::JSONB_CAST
        ),
        returning: Some(sql::BOOKING_COLUMNS.to_owned()),
        values,
    }
}

/// What a change of a booking records with it: a line of history, the tokens for the links in
/// its emails, and the emails.
struct Record<'a> {
    actor: &'a str,
    action: &'a str,
    from: Option<BookingStatus>,
    to: BookingStatus,
    note: Option<&'a str>,
    /// The booking version the tokens are issued for (the one the change leads to).
    tokens_version: i64,
    tokens: &'a [NewToken],
    emails: &'a [NewEmail],
    /// What receivers are told of the change, queued for each endpoint that asked for it.
    webhook: Option<&'a crate::NewWebhookEvent>,
}

/// Writes what `change` records, for booking `booking_id`, at `now`, after the statements of
/// `batch`: its history line, tokens, emails and webhook messages in one batch with them (one
/// round trip), committed with it where the backend can if it is the transaction's `last`
/// (see [`Tx::fetch_last_batch`]). Answers the booking
/// as it then stands: the row `batch` returns (a new booking's insert), or else read at the end
/// of the batch; `None` when the batch's guard held it back (see [`Batch::guard`]), and then
/// nothing was written.
async fn record<'a, T: Tx>(
    tx: &mut T,
    mut batch: Batch<'a>,
    booking_id: Uuid,
    change: Record<'a>,
    now: Timestamp,
    last: bool,
) -> StoreResult<Option<Booking>> {
    let read_back = !batch.returns_rows();
    batch.push_insert(Insert {
        into: "guidance_booking_events \
               (booking_id, actor, action, from_status, to_status, note, created_at)",
        rows: "($1, $2, $3, $4, $5, $6, $7)".to_owned(),
        returning: None,
        values: vec![
            Id(booking_id),
            Text(change.actor),
            Text(change.action),
            OptText(change.from.map(|s| s.as_str())),
            Text(change.to.as_str()),
            OptText(change.note),
            Time(now),
        ],
    });
    if let Some(insert) = tokens_insert(booking_id, change.tokens_version, change.tokens, now) {
        batch.push_insert(insert);
    }
    if let Some(insert) = outbox::insert_statement(Some(booking_id), change.emails, now) {
        batch.push_insert(insert);
    }
    if read_back {
        batch.push_returning(
            format!(
                "SELECT {} FROM guidance_bookings WHERE id = $1",
                sql::BOOKING_COLUMNS
            ),
            vec![Id(booking_id)],
        );
    }
    if let Some(event) = change.webhook {
        // Last: it may insert no rows (see `Batch::push_insert`).
        batch.push_insert(webhooks::queue_insert::<T>(booking_id, event, now));
    }
    let rows = if last {
        tx.fetch_last_batch(batch).await?
    } else {
        tx.fetch_batch(batch).await?
    };
    rows.first().map(booking_from_row).transpose()
}

/// The insert of `tokens` of booking `booking_id`, issued for its `version`, all in one (none
/// without tokens).
pub(super) fn tokens_insert<'a>(
    booking_id: Uuid,
    version: i64,
    tokens: &'a [NewToken],
    now: Timestamp,
) -> Option<Insert<'a>> {
    const COLUMNS: usize = 7;
    if tokens.is_empty() {
        return None;
    }
    let mut values = Vec::new();
    for token in tokens {
        values.extend([
            Id(new_row_id()),
            Id(booking_id),
            Text(token.action.as_str()),
            Text(token.hash.as_str()),
            Int(version),
            Time(token.expires_at),
            Time(now),
        ]);
    }
    Some(Insert {
        into: "guidance_booking_actions \
               (id, booking_id, action, token_hash, booking_version, expires_at, created_at)",
        rows: sql::placeholder_rows(tokens.len(), COLUMNS, 1),
        returning: None,
        values,
    })
}
