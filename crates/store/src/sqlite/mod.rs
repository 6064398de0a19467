//! The SQLite store: the embedded default.
//!
//! WAL mode with a busy timeout; all writes go through a pool of one connection, so concurrent
//! requests queue in the pool instead of failing with "database is locked", while reads use
//! their own pool and never wait for a writer.

use std::path::Path;
use std::time::Duration;

use async_trait::async_trait;
use guidance_core::{BookingStatus, Question, SlotStatus, SlotWindow, TokenHash};
use jiff::Timestamp;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Connection, SqliteConnection, SqlitePool};
use uuid::Uuid;

mod rows;
mod tx;

use rows::{parse_ts, ts};
use tx::bind;

use crate::shared::rows::{
    booking_from_row, event_from_row, outbox_from_row, question_from_row, slot_from_row,
    token_from_row,
};
use crate::shared::sql::{self, OUTBOX_COLUMNS};
use crate::shared::tx::Value::{Id, OptText, Text, Time};
use crate::shared::{booking, owner, settings, slots};
use crate::{
    Booking, BookingEvent, NewAdminSession, NewBooking, OutboxMessage, Slot, Store, StoreError,
    StoreResult, TokenRecord, Transition,
};

/// The SQLite implementation of [`Store`].
#[derive(Clone)]
pub struct SqliteStore {
    writer: SqlitePool,
    reader: SqlitePool,
}

impl SqliteStore {
    /// Opens (creating when missing) the database file and applies the migrations.
    pub async fn open(path: &Path) -> StoreResult<Self> {
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10));
        // Migrations run on a connection of their own with foreign keys off: SQLite changes a
        // CHECK constraint only by rebuilding the table, and dropping a table that others
        // refer to would otherwise delete (or null) their rows. Each migration that rebuilds
        // checks the references itself before it commits.
        let mut migrating =
            SqliteConnection::connect_with(&options.clone().foreign_keys(false)).await?;
        sqlx::migrate!("./migrations/sqlite")
            .run(&mut migrating)
            .await
            .map_err(|e| StoreError::Database(e.into()))?;
        migrating.close().await?;
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(options.clone())
            .await?;
        let reader = SqlitePoolOptions::new()
            .max_connections(4)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(options.read_only(true))
            .await?;
        Ok(Self { writer, reader })
    }

    /// The read-only pool (for tools such as the copy to PostgreSQL, which read rows as they are).
    pub fn reader(&self) -> &SqlitePool {
        &self.reader
    }

    /// Opens the database named by a `sqlite://path` URL (a bare path works too).
    pub async fn open_url(url: &str) -> StoreResult<Self> {
        let path = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
            .unwrap_or(url);
        let path = path.split('?').next().unwrap_or(path);
        if let Some(parent) = Path::new(path)
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
        {
            std::fs::create_dir_all(parent)
                .map_err(|e| StoreError::Database(sqlx::Error::Io(e)))?;
        }
        Self::open(Path::new(path)).await
    }
}

/// Maps the database's own refusals to domain errors: the overlap trigger and the unique index
/// on live bookings are the judges, not a racy check before the write.
fn map_constraint(e: sqlx::Error) -> StoreError {
    if let sqlx::Error::Database(db) = &e {
        if db.message().contains("guidance_slot_overlap") {
            return StoreError::SlotOverlap;
        }
        if db.is_unique_violation() && db.message().contains("guidance_bookings.slot_id") {
            return StoreError::SlotTaken;
        }
    }
    StoreError::from(e)
}

#[async_trait]
impl Store for SqliteStore {
    async fn create_slot(
        &self,
        window: SlotWindow,
        meeting_details: Option<String>,
        now: Timestamp,
    ) -> StoreResult<Slot> {
        let tx = self.tx().await?;
        slots::create_slot(tx, window, meeting_details.as_deref(), now).await
    }

    async fn get_slot(&self, id: Uuid) -> StoreResult<Slot> {
        let row = bind(sqlx::query(&sql::SLOT_BY_ID), &[Id(id)])
            .fetch_optional(&self.reader)
            .await?
            .ok_or(StoreError::NotFound)?;
        slot_from_row(&row)
    }

    async fn list_slots(
        &self,
        from: Timestamp,
        to: Timestamp,
        status: Option<SlotStatus>,
    ) -> StoreResult<Vec<Slot>> {
        let status = status.map(|s| s.as_str());
        let rows = bind(
            sqlx::query(&sql::LIST_SLOTS),
            &[Time(from), Time(to), OptText(status)],
        )
        .fetch_all(&self.reader)
        .await?;
        rows.iter().map(slot_from_row).collect()
    }

    async fn set_slot_available(
        &self,
        id: Uuid,
        available: bool,
        now: Timestamp,
    ) -> StoreResult<Slot> {
        slots::set_slot_available(self.tx().await?, id, available, now).await
    }

    async fn delete_slot(&self, id: Uuid) -> StoreResult<()> {
        slots::delete_slot(self.tx().await?, id).await
    }

    async fn create_booking(&self, new: NewBooking) -> StoreResult<Booking> {
        booking::create_booking(self.tx().await?, new).await
    }

    async fn get_booking(&self, id: Uuid) -> StoreResult<Booking> {
        let row = bind(sqlx::query(&sql::BOOKING_BY_ID), &[Id(id)])
            .fetch_optional(&self.reader)
            .await?
            .ok_or(StoreError::NotFound)?;
        booking_from_row(&row)
    }

    async fn list_bookings(&self, status: Option<BookingStatus>) -> StoreResult<Vec<Booking>> {
        let status = status.map(|s| s.as_str());
        let rows = bind(sqlx::query(&sql::LIST_BOOKINGS), &[OptText(status)])
            .fetch_all(&self.reader)
            .await?;
        rows.iter().map(booking_from_row).collect()
    }

    async fn list_overdue(
        &self,
        now: Timestamp,
        reschedule_deadline: Timestamp,
    ) -> StoreResult<Vec<Booking>> {
        let values = [Time(now), Time(reschedule_deadline)];
        let rows = bind(sqlx::query(&sql::LIST_OVERDUE), &values)
            .fetch_all(&self.reader)
            .await?;
        rows.iter().map(booking_from_row).collect()
    }

    async fn transition(&self, t: Transition) -> StoreResult<Booking> {
        booking::transition(self.tx().await?, t).await
    }

    async fn booking_events(&self, booking_id: Uuid) -> StoreResult<Vec<BookingEvent>> {
        let rows = bind(sqlx::query(&sql::BOOKING_EVENTS), &[Id(booking_id)])
            .fetch_all(&self.reader)
            .await?;
        rows.iter().map(event_from_row).collect()
    }

    async fn find_token(&self, hash: &TokenHash) -> StoreResult<Option<TokenRecord>> {
        let row = bind(sqlx::query(&sql::TOKEN_BY_HASH), &[Text(hash.as_str())])
            .fetch_optional(&self.reader)
            .await?;
        row.as_ref().map(token_from_row).transpose()
    }

    async fn claim_email(
        &self,
        now: Timestamp,
        lease_until: Timestamp,
    ) -> StoreResult<Option<OutboxMessage>> {
        let mut tx = self.writer.begin().await?;
        let row = sqlx::query(&format!(
            "SELECT {OUTBOX_COLUMNS} FROM guidance_email_outbox \
             WHERE status = 'queued' AND next_attempt_at <= ? AND (lease_until IS NULL OR lease_until < ?) \
             ORDER BY next_attempt_at, created_at, rowid LIMIT 1"
        ))
        .bind(ts(now))
        .bind(ts(now))
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let mut msg = outbox_from_row(&row)?;
        sqlx::query("UPDATE guidance_email_outbox SET lease_until = ?, attempts = attempts + 1 WHERE id = ?")
            .bind(ts(lease_until))
            .bind(msg.id.to_string())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        msg.attempts += 1;
        Ok(Some(msg))
    }

    async fn mark_email_sent(&self, id: Uuid, now: Timestamp) -> StoreResult<()> {
        sqlx::query("UPDATE guidance_email_outbox SET status = 'sent', sent_at = ?, lease_until = NULL, last_error = NULL WHERE id = ?")
            .bind(ts(now))
            .bind(id.to_string())
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    async fn mark_email_retry(
        &self,
        id: Uuid,
        error: &str,
        next_attempt_at: Timestamp,
    ) -> StoreResult<()> {
        sqlx::query("UPDATE guidance_email_outbox SET next_attempt_at = ?, last_error = ?, lease_until = NULL WHERE id = ?")
            .bind(ts(next_attempt_at))
            .bind(error)
            .bind(id.to_string())
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    async fn mark_email_failed(&self, id: Uuid, error: &str) -> StoreResult<()> {
        sqlx::query("UPDATE guidance_email_outbox SET status = 'failed', last_error = ?, lease_until = NULL WHERE id = ?")
            .bind(error)
            .bind(id.to_string())
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    async fn release_email(&self, id: Uuid) -> StoreResult<()> {
        sqlx::query("UPDATE guidance_email_outbox SET lease_until = NULL, attempts = MAX(attempts - 1, 0) WHERE id = ? AND status = 'queued'")
            .bind(id.to_string())
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    async fn requeue_email(
        &self,
        booking_id: Uuid,
        email_id: Uuid,
        now: Timestamp,
    ) -> StoreResult<OutboxMessage> {
        let tx = self.tx().await?;
        owner::requeue_email(tx, booking_id, email_id, now).await
    }

    async fn next_email_due(&self) -> StoreResult<Option<Timestamp>> {
        let s: Option<String> = sqlx::query_scalar(
            "SELECT MIN(MAX(next_attempt_at, COALESCE(lease_until, next_attempt_at))) FROM guidance_email_outbox WHERE status = 'queued'",
        )
        .fetch_one(&self.reader)
        .await?;
        s.map(|s| parse_ts("next_attempt_at", &s)).transpose()
    }

    async fn booking_emails(&self, booking_id: Uuid) -> StoreResult<Vec<OutboxMessage>> {
        let rows = sqlx::query(&format!(
            "SELECT {OUTBOX_COLUMNS} FROM guidance_email_outbox WHERE booking_id = ? ORDER BY created_at, rowid"
        ))
        .bind(booking_id.to_string())
        .fetch_all(&self.reader)
        .await?;
        rows.iter().map(outbox_from_row).collect()
    }

    async fn list_questions(&self) -> StoreResult<Vec<Question>> {
        let rows = sqlx::query(&sql::LIST_QUESTIONS)
            .fetch_all(&self.reader)
            .await?;
        rows.iter().map(question_from_row).collect()
    }

    async fn replace_questions(&self, questions: &[Question], now: Timestamp) -> StoreResult<()> {
        settings::replace_questions(self.tx().await?, questions, now).await
    }

    async fn update_slot(
        &self,
        id: Uuid,
        window: SlotWindow,
        meeting_details: Option<String>,
        now: Timestamp,
    ) -> StoreResult<Slot> {
        let tx = self.tx().await?;
        slots::update_slot(tx, id, window, meeting_details.as_deref(), now).await
    }

    async fn emails_with_errors(&self) -> StoreResult<Vec<OutboxMessage>> {
        let rows = sqlx::query(&format!(
            "SELECT {OUTBOX_COLUMNS} FROM guidance_email_outbox \
             WHERE status = 'failed' OR (status = 'queued' AND last_error IS NOT NULL) \
             ORDER BY created_at, rowid"
        ))
        .fetch_all(&self.reader)
        .await?;
        rows.iter().map(outbox_from_row).collect()
    }

    async fn admin_password_hash(&self) -> StoreResult<Option<String>> {
        Ok(
            sqlx::query_scalar("SELECT password_hash FROM guidance_admin_credentials WHERE id = 1")
                .fetch_optional(&self.reader)
                .await?,
        )
    }

    async fn set_admin_password_hash(&self, hash: &str, now: Timestamp) -> StoreResult<()> {
        owner::set_password(self.tx().await?, hash, now).await
    }

    async fn create_admin_setup_token(
        &self,
        hash: &TokenHash,
        expires_at: Timestamp,
        now: Timestamp,
    ) -> StoreResult<()> {
        owner::create_setup_link(self.tx().await?, hash, expires_at, now).await
    }

    async fn admin_setup_token_valid(&self, hash: &TokenHash, now: Timestamp) -> StoreResult<bool> {
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM guidance_admin_setup_tokens WHERE token_hash = ? AND used_at IS NULL AND expires_at > ?",
        )
        .bind(hash.as_str())
        .bind(ts(now))
        .fetch_one(&self.reader)
        .await?;
        Ok(n > 0)
    }

    async fn use_admin_setup_token(
        &self,
        hash: &TokenHash,
        password_hash: &str,
        now: Timestamp,
    ) -> StoreResult<()> {
        let tx = self.tx().await?;
        owner::use_setup_link(tx, hash, password_hash, now).await
    }

    async fn create_admin_session(&self, session: NewAdminSession) -> StoreResult<()> {
        owner::create_session(self.tx().await?, &session).await
    }

    async fn touch_admin_session(
        &self,
        id_hash: &TokenHash,
        now: Timestamp,
        idle_expires_at: Timestamp,
    ) -> StoreResult<bool> {
        let done = sqlx::query(
            "UPDATE guidance_admin_sessions SET last_seen_at = ?, idle_expires_at = MIN(?, expires_at) \
             WHERE id_hash = ? AND idle_expires_at > ? AND expires_at > ?",
        )
        .bind(ts(now))
        .bind(ts(idle_expires_at))
        .bind(id_hash.as_str())
        .bind(ts(now))
        .bind(ts(now))
        .execute(&self.writer)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn delete_admin_session(&self, id_hash: &TokenHash) -> StoreResult<()> {
        sqlx::query("DELETE FROM guidance_admin_sessions WHERE id_hash = ?")
            .bind(id_hash.as_str())
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    async fn settings(&self) -> StoreResult<std::collections::BTreeMap<String, String>> {
        let rows: Vec<(String, String)> =
            sqlx::query_as("SELECT key, value FROM guidance_settings ORDER BY key")
                .fetch_all(&self.reader)
                .await?;
        Ok(rows.into_iter().collect())
    }

    async fn save_settings(
        &self,
        values: &std::collections::BTreeMap<String, String>,
        now: Timestamp,
    ) -> StoreResult<()> {
        settings::save_settings(self.tx().await?, values, now).await
    }
}
