//! The owner's calendar sources, their busy intervals and the feed's generation, written once
//! for both databases. A poll's outcome, its intervals and its email land in one transaction.

use jiff::Timestamp;
use uuid::Uuid;

use super::outbox;
use super::rows::{PlainColumns, StoredRow};
use super::tx::Value::{Bytes, Flag, Id, Int, OptText, OptTime, Text, Time};
use super::tx::{Db, Tx};
use crate::{
    CalendarKind, CalendarPoll, CalendarSource, NewCalendarSource, StoreError, StoreResult,
    StoredBusy,
};

const SOURCE_COLUMNS: &str = "id, name, kind, host, sealed, created_at, last_polled_at, \
    last_success_at, failing_since, last_error, failure_notified, etag, last_modified, busy_count";

/// Intervals written per statement.
const BUSY_BATCH: usize = 200;

fn source_from_row(row: &impl StoredRow) -> StoreResult<CalendarSource> {
    let kind = row.text("kind")?;
    Ok(CalendarSource {
        id: row.uuid("id")?,
        name: row.text("name")?,
        kind: CalendarKind::parse(&kind)
            .ok_or_else(|| StoreError::Corrupt(format!("calendar kind {kind}")))?,
        host: row.text("host")?,
        sealed: row.bytes("sealed")?,
        created_at: row.time("created_at")?,
        last_polled_at: row.opt_time("last_polled_at")?,
        last_success_at: row.opt_time("last_success_at")?,
        failing_since: row.opt_time("failing_since")?,
        last_error: row.opt_text("last_error")?,
        failure_notified: row.flag("failure_notified")?,
        etag: row.opt_text("etag")?,
        last_modified: row.opt_text("last_modified")?,
        busy_count: row.int("busy_count")?,
    })
}

async fn fetch_source<T: Tx>(tx: &mut T, id: Uuid) -> StoreResult<CalendarSource> {
    let sql = format!("SELECT {SOURCE_COLUMNS} FROM guidance_calendar_sources WHERE id = $1");
    let row = tx
        .fetch_optional(&sql, &[Id(id)])
        .await?
        .ok_or(StoreError::NotFound)?;
    source_from_row(&row)
}

/// See [`crate::Store::create_calendar_source`].
pub(crate) async fn create_source<T: Tx>(
    mut tx: T,
    new: NewCalendarSource,
) -> StoreResult<CalendarSource> {
    tx.execute(
        "INSERT INTO guidance_calendar_sources (id, name, kind, host, sealed, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
        &[
            Id(new.id),
            Text(&new.name),
            Text(new.kind.as_str()),
            Text(&new.host),
            Bytes(&new.sealed),
            Time(new.now),
        ],
    )
    .await?;
    let source = fetch_source(&mut tx, new.id).await?;
    tx.commit().await?;
    Ok(source)
}

/// See [`crate::Store::list_calendar_sources`].
pub(crate) async fn list_sources<D: Db>(db: &D) -> StoreResult<Vec<CalendarSource>> {
    let sql =
        format!("SELECT {SOURCE_COLUMNS} FROM guidance_calendar_sources ORDER BY created_at, id");
    let rows = db.read_all(&sql, &[]).await?;
    rows.iter().map(source_from_row).collect()
}

/// See [`crate::Store::delete_calendar_source`].
pub(crate) async fn delete_source<T: Tx>(mut tx: T, id: Uuid) -> StoreResult<()> {
    tx.execute(
        "DELETE FROM guidance_calendar_busy WHERE source_id = $1",
        &[Id(id)],
    )
    .await?;
    let deleted = tx
        .execute(
            "DELETE FROM guidance_calendar_sources WHERE id = $1",
            &[Id(id)],
        )
        .await?;
    if deleted == 0 {
        return Err(StoreError::NotFound);
    }
    tx.commit().await
}

/// See [`crate::Store::claim_calendar_source`].
pub(crate) async fn claim<D: Db>(
    db: &D,
    id: Uuid,
    now: Timestamp,
    lease_until: Timestamp,
) -> StoreResult<bool> {
    let claimed = db
        .write(
            "UPDATE guidance_calendar_sources SET lease_until = $3 \
             WHERE id = $1 AND (lease_until IS NULL OR lease_until < $2)",
            &[Id(id), Time(now), Time(lease_until)],
        )
        .await?;
    Ok(claimed == 1)
}

/// See [`crate::Store::record_calendar_poll`].
pub(crate) async fn record_poll<T: Tx>(
    mut tx: T,
    id: Uuid,
    poll: CalendarPoll,
) -> StoreResult<CalendarSource> {
    let changed = tx
        .execute(
            "UPDATE guidance_calendar_sources SET last_polled_at = $2, \
             last_success_at = CASE WHEN $3 THEN $2 ELSE last_success_at END, \
             failing_since = $4, last_error = $5, failure_notified = $6, \
             etag = CASE WHEN $3 THEN $7 ELSE etag END, \
             last_modified = CASE WHEN $3 THEN $8 ELSE last_modified END, \
             lease_until = NULL WHERE id = $1",
            &[
                Id(id),
                Time(poll.polled_at),
                Flag(poll.succeeded),
                OptTime(poll.failing_since),
                OptText(poll.error.as_deref()),
                Flag(poll.failure_notified),
                OptText(poll.etag.as_deref()),
                OptText(poll.last_modified.as_deref()),
            ],
        )
        .await?;
    if changed == 0 {
        return Err(StoreError::NotFound);
    }
    if let Some(busy) = &poll.busy {
        replace_busy(&mut tx, id, busy).await?;
    }
    if let Some(email) = &poll.email {
        outbox::insert(&mut tx, None, std::slice::from_ref(email), poll.polled_at).await?;
    }
    let source = fetch_source(&mut tx, id).await?;
    tx.commit().await?;
    Ok(source)
}

async fn replace_busy<T: Tx>(
    tx: &mut T,
    id: Uuid,
    busy: &[(Timestamp, Timestamp)],
) -> StoreResult<()> {
    tx.execute(
        "DELETE FROM guidance_calendar_busy WHERE source_id = $1",
        &[Id(id)],
    )
    .await?;
    for chunk in busy.chunks(BUSY_BATCH) {
        let rows: Vec<String> = (0..chunk.len())
            .map(|i| format!("($1, ${}, ${})", 2 + 2 * i, 3 + 2 * i))
            .collect();
        let sql = format!(
            "INSERT INTO guidance_calendar_busy (source_id, starts_at, ends_at) VALUES {}",
            rows.join(", ")
        );
        let mut values = vec![Id(id)];
        for (start, end) in chunk {
            values.push(Time(*start));
            values.push(Time(*end));
        }
        tx.execute(&sql, &values).await?;
    }
    let count = i64::try_from(busy.len()).unwrap_or(i64::MAX);
    tx.execute(
        "UPDATE guidance_calendar_sources SET busy_count = $2 WHERE id = $1",
        &[Id(id), Int(count)],
    )
    .await?;
    Ok(())
}

/// See [`crate::Store::calendar_busy`].
pub(crate) async fn busy<D: Db>(db: &D) -> StoreResult<Vec<StoredBusy>> {
    let rows = db
        .read_all(
            "SELECT source_id, starts_at, ends_at FROM guidance_calendar_busy \
             ORDER BY source_id, starts_at, ends_at",
            &[],
        )
        .await?;
    rows.iter()
        .map(|row| {
            Ok(StoredBusy {
                source_id: row.uuid("source_id")?,
                starts_at: row.time("starts_at")?,
                ends_at: row.time("ends_at")?,
            })
        })
        .collect()
}

/// See [`crate::Store::feed_generation`].
pub(crate) async fn feed_generation<D: Db>(db: &D) -> StoreResult<i64> {
    let row = db
        .read_optional(
            "SELECT generation FROM guidance_calendar_feed WHERE id = 1",
            &[],
        )
        .await?;
    row.map_or(Ok(0), |r| r.int("generation"))
}

/// See [`crate::Store::rotate_feed`].
pub(crate) async fn rotate_feed<T: Tx>(mut tx: T, now: Timestamp) -> StoreResult<i64> {
    let row = tx
        .fetch_optional(
            "INSERT INTO guidance_calendar_feed (id, generation, updated_at) VALUES (1, 1, $1) \
             ON CONFLICT (id) DO UPDATE SET generation = guidance_calendar_feed.generation + 1, \
             updated_at = excluded.updated_at RETURNING generation",
            &[Time(now)],
        )
        .await?
        .ok_or(StoreError::NotFound)?;
    let generation = row.int("generation")?;
    tx.commit().await?;
    Ok(generation)
}
