//! Idempotency keys, written once for both databases: a key is kept in the transaction of the
//! change it answered (see [`crate::KeepAnswer`]), and read back when the same request comes
//! again.

use guidance_core::idempotency::{IdempotencyKey, Scope};
use jiff::Timestamp;

use super::rows::PlainColumns;
use super::tx::Value::{Id, Text, Time};
use super::tx::{Db, Tx};
use crate::{Booking, KeepAnswer, KeptAnswer, StoreError, StoreResult};

/// Keeps `keep`'s key with `booking` as its answer, in `tx`. A key kept before is replaced only
/// once it has expired: while it lives, and while another transaction is keeping it, it is
/// [`StoreError::KeyInUse`] (the database's primary key is the judge, so two requests sent at
/// once with one key cannot both be answered as new).
pub(crate) async fn keep<T: Tx>(
    tx: &mut T,
    keep: &KeepAnswer,
    booking: &Booking,
    now: Timestamp,
) -> StoreResult<()> {
    let answer = serde_json::to_string(booking).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    let kept = tx
        .execute(
            "INSERT INTO guidance_idempotency_keys \
             (scope, key, request_hash, booking_id, answer, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) \
             ON CONFLICT (scope, key) DO UPDATE SET request_hash = excluded.request_hash, \
               booking_id = excluded.booking_id, answer = excluded.answer, \
               created_at = excluded.created_at, expires_at = excluded.expires_at \
             WHERE guidance_idempotency_keys.expires_at <= excluded.created_at",
            &[
                Text(keep.keyed.scope.as_str()),
                Text(keep.keyed.key.as_str()),
                Text(&keep.keyed.request_hash),
                Id(booking.id),
                Text(&answer),
                Time(now),
                Time(keep.expires_at),
            ],
        )
        .await?;
    if kept == 1 {
        Ok(())
    } else {
        Err(StoreError::KeyInUse)
    }
}

/// The answer kept for `key` of `scope`, unless it expired by `now`.
pub(crate) async fn kept<D: Db>(
    db: &D,
    scope: Scope,
    key: &IdempotencyKey,
    now: Timestamp,
) -> StoreResult<Option<KeptAnswer>> {
    let row = db
        .read_optional(
            "SELECT request_hash, answer FROM guidance_idempotency_keys \
             WHERE scope = $1 AND key = $2 AND expires_at > $3",
            &[Text(scope.as_str()), Text(key.as_str()), Time(now)],
        )
        .await?;
    let Some(row) = row else { return Ok(None) };
    let booking = serde_json::from_str(&row.text("answer")?)
        .map_err(|e| StoreError::Corrupt(format!("a kept answer: {e}")))?;
    Ok(Some(KeptAnswer {
        request_hash: row.text("request_hash")?,
        booking,
    }))
}

/// Forgets the keys expired by `now`; how many.
pub(crate) async fn forget_expired<D: Db>(db: &D, now: Timestamp) -> StoreResult<u64> {
    db.write(
        "DELETE FROM guidance_idempotency_keys WHERE expires_at <= $1",
        &[Time(now)],
    )
    .await
}
