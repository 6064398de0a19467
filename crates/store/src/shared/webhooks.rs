//! Webhook endpoints and their messages, written once for both databases: a booking's change
//! queues one message per endpoint that asked for its event, in the change's transaction; the
//! worker claims them one at a time under a lease and records each attempt.

use guidance_core::ids::new_row_id;
use jiff::Timestamp;
use uuid::Uuid;

use super::rows::StoredRow;
use super::tx::Value::{Bytes, Id, Int, OptText, OptTime, Text, Time};
use super::tx::{Db, Insert, Tx};
use crate::{
    NewWebhookEndpoint, NewWebhookEvent, StoreError, StoreResult, WebhookAttempt, WebhookDelivery,
    WebhookEndpoint, WebhookOutcome, WebhookStatus,
};

const ENDPOINT_COLUMNS: &str = "id, url, events, sealed_secret, created_at";

const DELIVERY_COLUMNS: &str = "id, endpoint_id, booking_id, event, payload, status, attempts, \
    last_status, last_error, next_attempt_at, last_attempt_at, delivered_at, created_at";

fn endpoint_from_row(row: &impl StoredRow) -> StoreResult<WebhookEndpoint> {
    Ok(WebhookEndpoint {
        id: row.uuid("id")?,
        url: row.text("url")?,
        events: row
            .text("events")?
            .split_whitespace()
            .map(str::to_owned)
            .collect(),
        sealed_secret: row.bytes("sealed_secret")?,
        created_at: row.time("created_at")?,
    })
}

fn delivery_from_row(row: &impl StoredRow) -> StoreResult<WebhookDelivery> {
    let status = row.text("status")?;
    Ok(WebhookDelivery {
        id: row.uuid("id")?,
        endpoint_id: row.uuid("endpoint_id")?,
        booking_id: row.opt_uuid("booking_id")?,
        event: row.text("event")?,
        payload: row.text("payload")?,
        status: WebhookStatus::parse(&status)
            .ok_or_else(|| StoreError::Corrupt(format!("webhook status {status}")))?,
        attempts: row.int("attempts")?,
        last_status: row.opt_int("last_status")?,
        last_error: row.opt_text("last_error")?,
        next_attempt_at: row.time("next_attempt_at")?,
        last_attempt_at: row.opt_time("last_attempt_at")?,
        delivered_at: row.opt_time("delivered_at")?,
        created_at: row.time("created_at")?,
    })
}

/// See [`crate::Store::create_webhook_endpoint`].
pub(crate) async fn create_endpoint<T: Tx>(
    mut tx: T,
    new: NewWebhookEndpoint,
) -> StoreResult<WebhookEndpoint> {
    let events = new.events.join(" ");
    let sql = format!(
        "INSERT INTO guidance_webhook_endpoints (id, url, events, sealed_secret, created_at) \
         VALUES ($1, $2, $3, $4, $5) RETURNING {ENDPOINT_COLUMNS}"
    );
    let row = tx
        .fetch_optional(
            &sql,
            &[
                Id(new.id),
                Text(&new.url),
                Text(&events),
                Bytes(&new.sealed_secret),
                Time(new.now),
            ],
        )
        .await?
        .ok_or(StoreError::NotFound)?;
    let endpoint = endpoint_from_row(&row)?;
    tx.commit().await?;
    Ok(endpoint)
}

/// See [`crate::Store::list_webhook_endpoints`].
pub(crate) async fn list_endpoints<D: Db>(db: &D) -> StoreResult<Vec<WebhookEndpoint>> {
    let sql = format!(
        "SELECT {ENDPOINT_COLUMNS} FROM guidance_webhook_endpoints ORDER BY created_at, id"
    );
    let rows = db.read_all(&sql, &[]).await?;
    rows.iter().map(endpoint_from_row).collect()
}

/// See [`crate::Store::delete_webhook_endpoint`]: its messages go with it.
pub(crate) async fn delete_endpoint<T: Tx>(mut tx: T, id: Uuid) -> StoreResult<()> {
    tx.execute(
        "DELETE FROM guidance_webhook_deliveries WHERE endpoint_id = $1",
        &[Id(id)],
    )
    .await?;
    let deleted = tx
        .execute(
            "DELETE FROM guidance_webhook_endpoints WHERE id = $1",
            &[Id(id)],
        )
        .await?;
    if deleted == 0 {
        return Err(StoreError::NotFound);
    }
    tx.commit().await
}

/// See [`crate::Store::webhook_deliveries`].
pub(crate) async fn deliveries<D: Db>(
    db: &D,
    endpoint_id: Uuid,
    limit: u32,
) -> StoreResult<Vec<WebhookDelivery>> {
    let sql = format!(
        "SELECT {DELIVERY_COLUMNS} FROM guidance_webhook_deliveries WHERE endpoint_id = $1 \
         ORDER BY created_at DESC, id DESC LIMIT $2"
    );
    let rows = db
        .read_all(&sql, &[Id(endpoint_id), Int(i64::from(limit))])
        .await?;
    rows.iter().map(delivery_from_row).collect()
}

/// The insert that queues `event` of booking `booking_id` for every endpoint that asked for
/// it, a statement of the batch of the change it announces (`booking::record`): the endpoints
/// are chosen by the statement itself, in the change's transaction and round trip, so that
/// nothing is left to do between that batch and the commit.
///
/// An endpoint keeps its events in one text, separated by single spaces; it asked for `event`
/// when the text, spaces put around it, holds the event's name with a space on each side
/// (`replace` compares text as it is, where `LIKE` would read the `_` of a name as any
/// character). Each message's id is the change's own new id (time-ordered: the first 28 of
/// its characters hold its time and the counter that orders the ids made in one millisecond)
/// ended by the endpoint's number among those chosen, in eight decimal digits: unique, and in
/// the order the changes were made.
pub(crate) fn queue_insert<'a, T: Tx>(
    booking_id: Uuid,
    event: &'a NewWebhookEvent,
    now: Timestamp,
) -> Insert<'a> {
    Insert {
        into: "guidance_webhook_deliveries (id, endpoint_id, booking_id, event, payload, \
               next_attempt_at, created_at)",
        rows: format!(
            "SELECT CAST(substr(CAST($1 AS TEXT), 1, 28) || \
             substr(CAST(100000000 + row_number() OVER (ORDER BY id) AS TEXT), 2) AS {id}), \
             id, $2, $3, $4, $5, $5 FROM guidance_webhook_endpoints \
             WHERE replace(' ' || events || ' ', ' ' || $3 || ' ', ' ') <> ' ' || events || ' '",
            id = T::ID_TYPE
        ),
        returning: None,
        values: vec![
            Id(new_row_id()),
            Id(booking_id),
            Text(&event.event),
            Text(&event.payload),
            Time(now),
        ],
    }
}

/// See [`crate::Store::claim_webhook_delivery`]. PostgreSQL skips the row another worker is
/// claiming; SQLite's writers take turns anyway.
pub(crate) async fn claim<T: Tx>(
    mut tx: T,
    now: Timestamp,
    lease_until: Timestamp,
) -> StoreResult<Option<WebhookDelivery>> {
    let lock = if T::LOCK_ROWS.is_empty() {
        ""
    } else {
        " FOR UPDATE SKIP LOCKED"
    };
    let sql = format!(
        "UPDATE guidance_webhook_deliveries \
         SET lease_until = $2, attempts = attempts + 1, last_attempt_at = $1 \
         WHERE id = ( \
             SELECT id FROM guidance_webhook_deliveries \
             WHERE status = 'queued' AND next_attempt_at <= $1 \
               AND (lease_until IS NULL OR lease_until < $1) \
             ORDER BY next_attempt_at, created_at, id LIMIT 1{lock}) \
         RETURNING {DELIVERY_COLUMNS}"
    );
    let row = tx
        .fetch_optional(&sql, &[Time(now), Time(lease_until)])
        .await?;
    let claimed = row.as_ref().map(delivery_from_row).transpose()?;
    tx.commit().await?;
    Ok(claimed)
}

/// See [`crate::Store::record_webhook_attempt`].
pub(crate) async fn record_attempt<D: Db>(
    db: &D,
    id: Uuid,
    attempt: &WebhookAttempt,
) -> StoreResult<()> {
    let (status, delivered_at, next) = match attempt.outcome {
        WebhookOutcome::Delivered => ("delivered", Some(attempt.now), attempt.now),
        WebhookOutcome::Retry(at) => ("queued", None, at),
        WebhookOutcome::Failed => ("failed", None, attempt.now),
    };
    let mut values = vec![
        Id(id),
        Text(status),
        OptTime(delivered_at),
        Time(next),
        OptText(attempt.error.as_deref()),
    ];
    // No answer (the connection failed) leaves no status code.
    let last_status = match attempt.status_code {
        Some(code) => {
            values.push(Int(code));
            "$6"
        }
        None => "NULL",
    };
    db.write(
        &format!(
            "UPDATE guidance_webhook_deliveries SET status = $2, delivered_at = $3, \
             next_attempt_at = $4, last_error = $5, last_status = {last_status}, \
             lease_until = NULL WHERE id = $1"
        ),
        &values,
    )
    .await?;
    Ok(())
}

/// See [`crate::Store::requeue_webhook_delivery`].
pub(crate) async fn requeue<T: Tx>(
    mut tx: T,
    endpoint_id: Uuid,
    id: Uuid,
    now: Timestamp,
) -> StoreResult<WebhookDelivery> {
    let sql = format!(
        "SELECT {DELIVERY_COLUMNS}, lease_until FROM guidance_webhook_deliveries \
         WHERE id = $1 AND endpoint_id = $2{}",
        T::LOCK_ROWS
    );
    let row = tx
        .fetch_optional(&sql, &[Id(id), Id(endpoint_id)])
        .await?
        .ok_or(StoreError::NotFound)?;
    let current = delivery_from_row(&row)?;
    // Nothing left to send once the visitor's data was erased from it.
    if current.payload.is_empty() {
        return Err(StoreError::NotFound);
    }
    if row.opt_time("lease_until")?.is_some_and(|l| l >= now) {
        return Err(StoreError::Conflict);
    }
    let sql = format!(
        "UPDATE guidance_webhook_deliveries \
         SET status = 'queued', attempts = 0, next_attempt_at = $2, lease_until = NULL, \
             delivered_at = NULL \
         WHERE id = $1 RETURNING {DELIVERY_COLUMNS}"
    );
    let row = tx
        .fetch_optional(&sql, &[Id(id), Time(now)])
        .await?
        .ok_or(StoreError::NotFound)?;
    let delivery = delivery_from_row(&row)?;
    tx.commit().await?;
    Ok(delivery)
}

/// See [`crate::Store::next_webhook_due`].
pub(crate) async fn next_due<D: Db>(db: &D) -> StoreResult<Option<Timestamp>> {
    let row = db
        .read_optional(
            "SELECT next_attempt_at FROM guidance_webhook_deliveries WHERE status = 'queued' \
             ORDER BY next_attempt_at LIMIT 1",
            &[],
        )
        .await?;
    row.map(|r| r.time("next_attempt_at")).transpose()
}
