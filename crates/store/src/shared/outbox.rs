//! The outbox's rules written once for both databases: how a send, a retry, a failure and a
//! release are recorded, when the next email is due, and that a resent email is left to a worker
//! that is sending it right now. Claiming an email differs (PostgreSQL skips the rows other
//! workers hold) and stays with each backend.

use jiff::Timestamp;
use uuid::Uuid;

use super::rows::{StoredRow, outbox_from_row};
use super::sql::{self, OUTBOX_COLUMNS};
use super::tx::Value::{Bytes, Id, Int, OptId, OptTime, Text, Time};
use super::tx::{Db, Insert, Tx};
use crate::{NewEmail, OutboxMessage, StoreError, StoreResult};

/// Queues `emails` inside `tx`, the transaction of the change that causes them (a booking's, or
/// a calendar poll's with no booking), in one statement ([`insert_statement`]).
pub(crate) async fn insert<T: Tx>(
    tx: &mut T,
    booking_id: Option<Uuid>,
    emails: &[NewEmail],
    now: Timestamp,
) -> StoreResult<()> {
    if let Some(insert) = insert_statement(booking_id, emails, now) {
        tx.execute(&insert.statement(), &insert.values).await?;
    }
    Ok(())
}

/// The insert queueing `emails` (none without emails): the one place that writes outbox rows.
/// Each is due at once, or at its moment when scheduled; one queued under a lease
/// ([`NewEmail::leased_until`]) has its first attempt counted.
pub(crate) fn insert_statement<'a>(
    booking_id: Option<Uuid>,
    emails: &'a [NewEmail],
    now: Timestamp,
) -> Option<Insert<'a>> {
    const COLUMNS: usize = 12;
    if emails.is_empty() {
        return None;
    }
    let mut values = Vec::new();
    for email in emails {
        values.extend([
            Id(email.id),
            OptId(booking_id),
            Text(&email.kind),
            Text(&email.recipient),
            Text(&email.subject),
            Text(&email.message_id),
            Bytes(&email.message),
            Time(email.send_after.unwrap_or(now)),
            Time(now),
            OptTime(email.send_before),
            OptTime(email.leased_until),
            Int(i64::from(email.leased_until.is_some())),
        ]);
    }
    Some(Insert {
        into: "guidance_email_outbox (id, booking_id, kind, recipient, subject, message_id, \
               message, next_attempt_at, created_at, send_before, lease_until, attempts)",
        rows: sql::placeholder_rows(emails.len(), COLUMNS, 1),
        returning: None,
        values,
    })
}

/// See [`crate::Store::mark_emails_sent`].
pub(crate) async fn mark_sent<D: Db>(db: &D, ids: &[Uuid], now: Timestamp) -> StoreResult<()> {
    if ids.is_empty() {
        return Ok(());
    }
    // One row of all the ids: `($2, $3, …)`.
    let list = sql::placeholder_rows(1, ids.len(), 2);
    let mut values = vec![Time(now)];
    values.extend(ids.iter().map(|id| Id(*id)));
    db.write(
        &format!(
            "UPDATE guidance_email_outbox \
             SET status = 'sent', sent_at = $1, lease_until = NULL, last_error = NULL \
             WHERE id IN {list}"
        ),
        &values,
    )
    .await?;
    Ok(())
}

/// The statement that claims up to `$3` due emails until `$2` (`$1` is now) and returns them,
/// the subquery's rows locked by `lock` (PostgreSQL skips the rows other workers are claiming;
/// SQLite's writers take turns anyway). Each backend runs it where it writes. The index of the
/// waiting emails holds them in the claim's order, so a claim stops at the last email it takes
/// rather than sorting every due one (see the migration `waiting_emails_in_claim_order`).
pub(crate) fn claim_statement<D: Db>(lock: &str) -> String {
    format!(
        "UPDATE guidance_email_outbox SET lease_until = $2, attempts = attempts + 1 \
         WHERE id IN ( \
             SELECT id FROM guidance_email_outbox \
             WHERE status = 'queued' AND next_attempt_at <= $1 AND withdrawn_at IS NULL \
               AND (lease_until IS NULL OR lease_until < $1) \
             ORDER BY next_attempt_at, created_at, {queued} LIMIT $3{lock}) \
         RETURNING {OUTBOX_COLUMNS}",
        queued = D::QUEUE_ORDER
    )
}

/// Claimed rows in the order they were due (`RETURNING` keeps no order).
pub(crate) fn claimed<R: StoredRow>(rows: &[R]) -> StoreResult<Vec<OutboxMessage>> {
    let mut emails = rows
        .iter()
        .map(outbox_from_row)
        .collect::<StoreResult<Vec<_>>>()?;
    emails.sort_by_key(|e| (e.next_attempt_at, e.created_at));
    Ok(emails)
}

/// See [`crate::Store::unsealed_emails`]: a sealed message starts with a NUL byte.
pub(crate) async fn unsealed<D: Db>(db: &D, limit: u32) -> StoreResult<Vec<OutboxMessage>> {
    let sql = format!(
        "SELECT {OUTBOX_COLUMNS} FROM guidance_email_outbox \
         WHERE substr(message, 1, 1) <> $1 LIMIT {limit}"
    );
    let rows = db.read_all(&sql, &[Bytes(&SEALED_MARK)]).await?;
    rows.iter().map(outbox_from_row).collect()
}

/// See [`crate::Store::seal_stored_email`].
pub(crate) async fn seal_stored<D: Db>(db: &D, id: Uuid, sealed: &[u8]) -> StoreResult<()> {
    db.write(
        "UPDATE guidance_email_outbox SET message = $1 \
         WHERE id = $2 AND substr(message, 1, 1) <> $3",
        &[Bytes(sealed), Id(id), Bytes(&SEALED_MARK)],
    )
    .await?;
    Ok(())
}

/// The first byte of every sealed message.
const SEALED_MARK: [u8; 1] = [guidance_core::sealed::SEALED_PREFIX[0]];

/// See [`crate::Store::mark_email_retry`].
pub(crate) async fn mark_retry<D: Db>(
    db: &D,
    id: Uuid,
    error: &str,
    next_attempt_at: Timestamp,
) -> StoreResult<()> {
    db.write(
        "UPDATE guidance_email_outbox \
         SET next_attempt_at = $1, last_error = $2, lease_until = NULL WHERE id = $3",
        &[Time(next_attempt_at), Text(error), Id(id)],
    )
    .await?;
    Ok(())
}

/// See [`crate::Store::mark_email_failed`].
pub(crate) async fn mark_failed<D: Db>(db: &D, id: Uuid, error: &str) -> StoreResult<()> {
    db.write(
        "UPDATE guidance_email_outbox \
         SET status = 'failed', last_error = $1, lease_until = NULL WHERE id = $2",
        &[Text(error), Id(id)],
    )
    .await?;
    Ok(())
}

/// See [`crate::Store::drop_late_email`].
pub(crate) async fn drop_late<D: Db>(db: &D, id: Uuid, now: Timestamp) -> StoreResult<()> {
    db.write(
        "UPDATE guidance_email_outbox \
         SET withdrawn_at = $1, withdrawn_reason = 'too_late', lease_until = NULL WHERE id = $2",
        &[Time(now), Id(id)],
    )
    .await?;
    Ok(())
}

/// See [`crate::Store::release_email`].
pub(crate) async fn release<D: Db>(db: &D, id: Uuid) -> StoreResult<()> {
    db.write(
        &format!(
            "UPDATE guidance_email_outbox \
             SET lease_until = NULL, attempts = {greatest}(attempts - 1, 0) \
             WHERE id = $1 AND status = 'queued'",
            greatest = D::GREATEST
        ),
        &[Id(id)],
    )
    .await?;
    Ok(())
}

/// See [`crate::Store::next_email_due`]: a leased email is due when its lease ends.
pub(crate) async fn next_due<D: Db>(db: &D, now: Timestamp) -> StoreResult<Option<Timestamp>> {
    let row = db
        .read_optional(&next_due_statement::<D>(), &[Time(now)])
        .await?;
    Ok(row
        .map(|row| row.opt_time("next_attempt_at"))
        .transpose()?
        .flatten())
}

/// The statement of [`next_due`] (`$1` is now): the first waiting email that no worker holds,
/// and the leases of those being sent, both from the index of the waiting emails, never a walk
/// of every queued email (most are reminders scheduled days ahead). An email is only ever
/// claimed once due, so the leased ones are among those due by now: the worker asks once it has
/// claimed every due email it could, when those are the few that workers are sending.
///
/// No index of its own for the leased emails: the claim's update then changes no indexed
/// column, and PostgreSQL writes it beside the row without a new entry in every index (a
/// heap-only tuple; see the migration `outbox_claims_in_place`).
fn next_due_statement<D: Db>() -> String {
    format!(
        "SELECT MIN(due) AS next_attempt_at FROM ( \
             SELECT next_attempt_at AS due FROM ( \
                 SELECT next_attempt_at FROM guidance_email_outbox \
                 WHERE status = 'queued' AND withdrawn_at IS NULL AND lease_until IS NULL \
                 ORDER BY next_attempt_at LIMIT 1) AS waiting \
             UNION ALL \
             SELECT {greatest}(next_attempt_at, lease_until) AS due FROM guidance_email_outbox \
             WHERE status = 'queued' AND withdrawn_at IS NULL AND lease_until IS NOT NULL \
               AND next_attempt_at <= $1 \
         ) AS due_times",
        greatest = D::GREATEST
    )
}

/// See [`crate::Store::booking_emails`].
pub(crate) async fn of_booking<D: Db>(db: &D, booking_id: Uuid) -> StoreResult<Vec<OutboxMessage>> {
    let sql = format!(
        "SELECT {OUTBOX_COLUMNS} FROM guidance_email_outbox WHERE booking_id = $1 \
         ORDER BY created_at, {queued}",
        queued = D::QUEUE_ORDER
    );
    let rows = db.read_all(&sql, &[Id(booking_id)]).await?;
    rows.iter().map(outbox_from_row).collect()
}

/// See [`crate::Store::emails_with_errors`].
pub(crate) async fn with_errors<D: Db>(db: &D) -> StoreResult<Vec<OutboxMessage>> {
    let sql = format!(
        "SELECT {OUTBOX_COLUMNS} FROM guidance_email_outbox \
         WHERE status = 'failed' OR (status = 'queued' AND last_error IS NOT NULL) \
         ORDER BY created_at, {queued}",
        queued = D::QUEUE_ORDER
    );
    let rows = db.read_all(&sql, &[]).await?;
    rows.iter().map(outbox_from_row).collect()
}

/// Queues an email again as [`crate::Store::requeue_email`] says, and commits.
pub(crate) async fn requeue_email<T: Tx>(
    mut tx: T,
    booking_id: Uuid,
    email_id: Uuid,
    now: Timestamp,
) -> StoreResult<OutboxMessage> {
    // A live lease means a worker is sending it right now: leave it to that worker.
    let requeued = tx
        .execute(
            "UPDATE guidance_email_outbox SET status = 'queued', attempts = 0, \
             next_attempt_at = $1, lease_until = NULL, sent_at = NULL \
             WHERE id = $2 AND booking_id = $3 AND (lease_until IS NULL OR lease_until < $1) \
               AND withdrawn_at IS NULL",
            &[Time(now), Id(email_id), Id(booking_id)],
        )
        .await?;
    let row = tx
        .fetch_optional(&sql::EMAIL_OF_BOOKING, &[Id(email_id), Id(booking_id)])
        .await?
        .ok_or(StoreError::NotFound)?;
    if requeued == 0 {
        return Err(StoreError::Conflict);
    }
    let email = outbox_from_row(&row)?;
    tx.commit().await?;
    Ok(email)
}

#[cfg(test)]
mod tests {
    use sqlx::Row;

    use super::{claim_statement, next_due_statement};
    use crate::sqlite::SqliteStore;

    /// What the worker asks after every round reads only the index of the waiting emails, in
    /// its order, never the reminders scheduled ahead or the withdrawn emails:
    /// SQLite's plan for each names an index for every read of the outbox (the claim's update
    /// finds its rows by id).
    #[tokio::test]
    async fn the_workers_questions_stay_on_the_waiting_emails_index() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = SqliteStore::open(&dir.path().join("guidance.db"))
            .await
            .expect("open");
        for (sql, params) in [
            (claim_statement::<SqliteStore>(""), 3),
            (next_due_statement::<SqliteStore>(), 1),
        ] {
            let explain = format!("EXPLAIN QUERY PLAN {sql}");
            let mut query = sqlx::query(&explain);
            for _ in 0..params {
                query = query.bind(None::<String>);
            }
            let plan: Vec<String> = query
                .fetch_all(store.reader())
                .await
                .expect("a plan")
                .iter()
                .map(|row| row.get::<String, _>("detail"))
                .collect();
            assert!(
                plan.iter()
                    .any(|l| l.contains("guidance_email_outbox_waiting")),
                "{plan:?}"
            );
            assert!(
                plan.iter()
                    .filter(|l| l.contains("guidance_email_outbox"))
                    .all(|l| l.contains(" INDEX ")),
                "{plan:?}"
            );
            // Read in the claim's order, so that a claim stops at the last email it takes
            // rather than sorting the whole backlog.
            assert!(!plan.iter().any(|l| l.contains("TEMP B-TREE")), "{plan:?}");
        }
    }
}
