//! The owner's reminder of a pending request, written when it falls due rather than with the
//! request: which requests are due (see [`crate::Store::answer_reminders_due`]), and the
//! transaction that queues one reminder once ([`queue_answer_reminder`]).

use super::booking::tokens_insert;
use super::outbox;
use super::tx::Value::{Id, Int};
use super::tx::{Batch, Tx};
use crate::{AnswerReminder, StoreResult};

/// Queues `r` as [`crate::Store::queue_answer_reminder`] says, on `tx`, and commits.
pub(crate) async fn queue_answer_reminder<T: Tx>(
    mut tx: T,
    r: AnswerReminder,
) -> StoreResult<bool> {
    let mut batch = Batch::default();
    // Clearing the reminder's time claims it: of two workers (two processes on one database)
    // the second finds it cleared, and the batch writes nothing for it.
    batch.guard(
        "UPDATE guidance_bookings SET answer_reminder_at = NULL \
         WHERE id = $1 AND version = $2 AND status = 'pending' \
           AND answer_reminder_at IS NOT NULL"
            .to_owned(),
        vec![Id(r.booking_id), Int(r.version)],
    );
    if let Some(insert) = tokens_insert(r.booking_id, r.version, &r.tokens, r.now) {
        batch.push_insert(insert);
    }
    let emails = std::slice::from_ref(&r.email);
    let mut insert = outbox::insert_statement(Some(r.booking_id), emails, r.now)
        .expect("one email is something to insert");
    // Its row answers the batch: none when the guard held the inserts back.
    insert.returning = Some("id".to_owned());
    batch.push_insert(insert);
    let queued = !tx.fetch_batch(batch).await?.is_empty();
    tx.commit().await?;
    Ok(queued)
}
