//! The SQLite store: the embedded default.
//!
//! WAL mode with a busy timeout; all writes go through a pool of one connection, so concurrent
//! requests queue in the pool instead of failing with "database is locked", while reads use
//! their own pool and never wait for a writer.

use std::path::Path;
use std::time::Duration;

use async_trait::async_trait;
use guidance_core::idempotency::{IdempotencyKey, Scope};
use guidance_core::{BookingStatus, Question, SlotStatus, SlotWindow, TokenHash};
use jiff::Timestamp;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Connection, SqliteConnection, SqlitePool};
use uuid::Uuid;

pub mod backup;
mod checkpoints;
mod rows;
mod tx;
mod writes;

/// The migrations of `crates/store/migrations/sqlite/`, compiled into the binary.
static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

use crate::shared::connections::Connections;
use crate::shared::{
    booking, calendars, erasure, idempotency, outbox, owner, proposals, reads, reminders, replies,
    settings, slots, webhooks,
};
use crate::{
    AnswerReminder, Booking, BookingEvent, CalendarPoll, CalendarSource, KeptAnswer,
    NewAdminSession, NewBooking, NewCalendarSource, OutboxMessage, ProposedTime, Slot, Store,
    StoreError, StoreResult, StoredBusy, TokenRecord, Transition,
};

/// The SQLite implementation of [`Store`].
#[derive(Clone)]
pub struct SqliteStore {
    writer: Connections<SqliteConnection>,
    reader: SqlitePool,
    /// Where the frequent write transactions run (see [`writes`]).
    writes: writes::Writes,
    /// Copies the log into the database file (see [`checkpoints`]).
    log_copier: checkpoints::LogCopier,
}

impl SqliteStore {
    /// Opens (creating when missing) the database file and applies the migrations. The file and
    /// its `-wal` and `-shm` companions are the service user's alone (`0600`).
    pub async fn open(path: &Path) -> StoreResult<Self> {
        keep_private(path).map_err(|e| StoreError::Database(sqlx::Error::Io(e)))?;
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            // Deleted content is overwritten with zeros rather than left in free space, so
            // that an erased visitor's data does not linger in the file.
            .pragma("secure_delete", "on")
            // The log is copied into the file by a connection of its own (see `checkpoints`).
            // The writer checkpoints itself only once the log holds 10,000 pages (40 MB), not
            // SQLite's 1,000: by then that connection has copied most of them (the log starts
            // again from its beginning once all of it is in the file and no reader needs it).
            // A booking's commit writes about 25 pages, so at 1,000 the writer copied and
            // synced every 40 bookings while all others waited (see BENCHMARKS.md).
            .pragma("wal_autocheckpoint", "10000")
            .busy_timeout(Duration::from_secs(10));
        // Migrations run on a connection of their own with foreign keys off: SQLite changes a
        // CHECK constraint only by rebuilding the table, and dropping a table that others
        // refer to would otherwise delete (or null) their rows. Each migration that rebuilds
        // checks the references itself before it commits.
        let mut migrating =
            SqliteConnection::connect_with(&options.clone().foreign_keys(false)).await?;
        MIGRATOR
            .run(&mut migrating)
            .await
            .map_err(|e| StoreError::Database(e.into()))?;
        migrating.close().await?;
        // The one writer: a list of our own (see `Connections`), without sqlx's pool's test of
        // each connection as it comes back, one more turn of the connection's thread that
        // every other write waits for. It is opened now, so that a file that cannot be written
        // fails here.
        let writer = Connections::new(options.clone(), 1, Duration::from_secs(30));
        drop(writer.acquire().await?);
        let log_copier =
            checkpoints::LogCopier::new(SqliteConnection::connect_with(&options).await?);
        // Without sqlx's test of a connection before each use: a ping, one more round trip to
        // the connection's thread. A connection to a local file does not go stale; one that
        // broke fails its next statement instead.
        let reader = SqlitePoolOptions::new()
            .max_connections(4)
            .acquire_timeout(Duration::from_secs(30))
            .test_before_acquire(false)
            .connect_with(options.read_only(true))
            .await?;
        let writes = writes::Writes::start(log_copier.clone())
            .map_err(|e| StoreError::Database(e.into()))?;
        Ok(Self {
            writer,
            reader,
            writes,
            log_copier,
        })
    }

    /// The read-only pool (for tools such as the copy to PostgreSQL, which read rows as they are).
    pub fn reader(&self) -> &SqlitePool {
        &self.reader
    }

    /// Opens the database named by a `sqlite://path` URL (a bare path works too).
    pub async fn open_url(url: &str) -> StoreResult<Self> {
        let path = path_of_url(url);
        if let Some(parent) = Path::new(path)
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
        {
            private_dir(parent).map_err(|e| StoreError::Database(sqlx::Error::Io(e)))?;
        }
        Self::open(Path::new(path)).await
    }
}

/// Creates the database's directory and its missing parents `0700`: it holds visitors' data.
pub(crate) fn private_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir)
}

/// Creates the database file `0600` when missing (an empty file is an empty database), and
/// makes it and its companions `0600` when they exist. SQLite creates `-wal` and `-shm` with
/// the database file's mode, so they follow.
fn keep_private(path: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(path)
        {
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(e),
        }
        for suffix in ["", "-wal", "-shm"] {
            let mut file = path.as_os_str().to_owned();
            file.push(suffix);
            let file = Path::new(&file);
            match std::fs::metadata(file) {
                Ok(m) if m.permissions().mode() & 0o077 != 0 => {
                    std::fs::set_permissions(file, std::fs::Permissions::from_mode(0o600))?;
                }
                _ => {}
            }
        }
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

/// The file a `sqlite://path` URL (or a bare path) names, without its `?…` options.
pub fn path_of_url(url: &str) -> &str {
    let path = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .unwrap_or(url);
    path.split('?').next().unwrap_or(path)
}

/// The migrations of this binary that the database `pool` reads has not applied (all of them
/// when it has none).
async fn pending_migrations(pool: &SqlitePool) -> StoreResult<Vec<i64>> {
    let present: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM sqlite_master \
         WHERE type = 'table' AND name = '_sqlx_migrations')",
    )
    .fetch_one(pool)
    .await?;
    let applied: Vec<i64> = if present {
        sqlx::query_scalar("SELECT version FROM _sqlx_migrations WHERE success")
            .fetch_all(pool)
            .await?
    } else {
        Vec::new()
    };
    Ok(crate::health::pending(&MIGRATOR, &applied))
}

/// The migrations of this binary that the existing database at `url` has not applied, read
/// without creating, changing or migrating anything (`guidance check`); `None` when there is
/// no database file yet (`serve` creates and migrates it).
pub async fn inspect(url: &str) -> StoreResult<Option<Vec<i64>>> {
    let path = Path::new(path_of_url(url));
    if !path.exists() {
        return Ok(None);
    }
    let options = SqliteConnectOptions::new()
        .filename(path)
        .read_only(true)
        .busy_timeout(Duration::from_secs(10));
    let pool = SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(options)
        .await?;
    let pending = pending_migrations(&pool).await;
    pool.close().await;
    pending.map(Some)
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
        reads::get_slot(self, id).await
    }

    async fn list_slots(
        &self,
        from: Timestamp,
        to: Timestamp,
        status: Option<SlotStatus>,
    ) -> StoreResult<Vec<Slot>> {
        reads::list_slots(self, from, to, status).await
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
        let store = self.clone();
        self.writes
            .run(async move { booking::create_booking(store.tx().await?, new).await })
            .await
    }

    async fn get_booking(&self, id: Uuid) -> StoreResult<Booking> {
        reads::get_booking(self, id).await
    }

    async fn list_bookings(&self, status: Option<BookingStatus>) -> StoreResult<Vec<Booking>> {
        reads::list_bookings(self, status).await
    }

    async fn list_overdue(
        &self,
        now: Timestamp,
        reschedule_deadline: Timestamp,
    ) -> StoreResult<Vec<Booking>> {
        reads::list_overdue(self, now, reschedule_deadline).await
    }

    async fn transition(&self, t: Transition) -> StoreResult<Booking> {
        let store = self.clone();
        self.writes
            .run(async move { booking::transition(store.tx().await?, t).await })
            .await
    }

    async fn answer_reminders_due(&self, now: Timestamp) -> StoreResult<Vec<Booking>> {
        reads::answer_reminders_due(self, now).await
    }

    async fn queue_answer_reminder(&self, reminder: AnswerReminder) -> StoreResult<bool> {
        let store = self.clone();
        self.writes
            .run(async move { reminders::queue_answer_reminder(store.tx().await?, reminder).await })
            .await
    }

    async fn kept_answer(
        &self,
        scope: Scope,
        key: &IdempotencyKey,
        now: Timestamp,
    ) -> StoreResult<Option<KeptAnswer>> {
        idempotency::kept(self, scope, key, now).await
    }

    async fn forget_expired_answers(&self, now: Timestamp) -> StoreResult<u64> {
        idempotency::forget_expired(self, now).await
    }

    async fn booking_events(&self, booking_id: Uuid) -> StoreResult<Vec<BookingEvent>> {
        reads::booking_events(self, booking_id).await
    }

    async fn find_token(&self, hash: &TokenHash) -> StoreResult<Option<TokenRecord>> {
        reads::find_token(self, hash).await
    }

    async fn proposed_times(&self, booking_id: Uuid) -> StoreResult<Vec<ProposedTime>> {
        proposals::of_booking(self, booking_id).await
    }

    async fn find_proposal(&self, hash: &TokenHash) -> StoreResult<Option<ProposedTime>> {
        proposals::by_hash(self, hash.as_str()).await
    }

    async fn claim_emails(
        &self,
        now: Timestamp,
        lease_until: Timestamp,
        limit: u32,
    ) -> StoreResult<Vec<OutboxMessage>> {
        // One statement on the writer: writers take turns, so no other claim can read these
        // emails before they are leased.
        let writer = self.writer.clone();
        self.writes
            .run(async move {
                let sql = outbox::claim_statement::<Self>("");
                let rows = sqlx::query(&sql)
                    .bind(rows::ts(now))
                    .bind(rows::ts(lease_until))
                    .bind(i64::from(limit))
                    .fetch_all(&mut *writer.acquire().await?)
                    .await?;
                outbox::claimed(&rows)
            })
            .await
    }

    async fn mark_emails_sent(&self, ids: &[Uuid], now: Timestamp) -> StoreResult<()> {
        let (store, ids) = (self.clone(), ids.to_vec());
        self.writes
            .run(async move { outbox::mark_sent(&store, &ids, now).await })
            .await
    }

    async fn unsealed_emails(&self, limit: u32) -> StoreResult<Vec<OutboxMessage>> {
        outbox::unsealed(self, limit).await
    }

    async fn seal_stored_email(&self, id: Uuid, sealed: &[u8]) -> StoreResult<()> {
        outbox::seal_stored(self, id, sealed).await
    }

    async fn mark_email_retry(
        &self,
        id: Uuid,
        error: &str,
        next_attempt_at: Timestamp,
    ) -> StoreResult<()> {
        outbox::mark_retry(self, id, error, next_attempt_at).await
    }

    async fn mark_email_failed(&self, id: Uuid, error: &str) -> StoreResult<()> {
        outbox::mark_failed(self, id, error).await
    }

    async fn drop_late_email(&self, id: Uuid, now: Timestamp) -> StoreResult<()> {
        outbox::drop_late(self, id, now).await
    }

    async fn release_email(&self, id: Uuid) -> StoreResult<()> {
        outbox::release(self, id).await
    }

    async fn requeue_email(
        &self,
        booking_id: Uuid,
        email_id: Uuid,
        now: Timestamp,
    ) -> StoreResult<OutboxMessage> {
        outbox::requeue_email(self.tx().await?, booking_id, email_id, now).await
    }

    async fn next_email_due(&self, now: Timestamp) -> StoreResult<Option<Timestamp>> {
        outbox::next_due(self, now).await
    }

    async fn booking_emails(&self, booking_id: Uuid) -> StoreResult<Vec<OutboxMessage>> {
        outbox::of_booking(self, booking_id).await
    }

    async fn list_questions(&self) -> StoreResult<Vec<Question>> {
        reads::list_questions(self).await
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
        outbox::with_errors(self).await
    }

    async fn admin_password_hash(&self) -> StoreResult<Option<String>> {
        reads::admin_password_hash(self).await
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
        reads::admin_setup_link_valid(self, hash, now).await
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
        owner::touch_session(self, id_hash, now, idle_expires_at).await
    }

    async fn delete_admin_session(&self, id_hash: &TokenHash) -> StoreResult<()> {
        owner::delete_session(self, id_hash).await
    }

    async fn settings(&self) -> StoreResult<std::collections::BTreeMap<String, String>> {
        reads::settings(self).await
    }

    async fn save_settings(
        &self,
        values: &std::collections::BTreeMap<String, String>,
        now: Timestamp,
    ) -> StoreResult<()> {
        settings::save_settings(self.tx().await?, values, now).await
    }

    async fn health(&self, now: Timestamp) -> StoreResult<crate::Health> {
        let mut health = crate::shared::health::counts(self, now).await?;
        health.pending_migrations = pending_migrations(&self.reader).await?;
        Ok(health)
    }

    fn pool_use(&self) -> Vec<crate::PoolUse> {
        vec![
            self.writer.usage("writer"),
            crate::health::pool_use("reader", &self.reader),
        ]
    }

    async fn booking_by_ics_uid(&self, ics_uid: &str) -> StoreResult<Option<Booking>> {
        reads::booking_by_ics_uid(self, ics_uid).await
    }

    async fn calendar_reply_seen(&self, message_id: &str) -> StoreResult<bool> {
        replies::seen(self, message_id).await
    }

    async fn record_calendar_reply(&self, reply: &crate::CalendarReply) -> StoreResult<bool> {
        replies::record(self.tx().await?, reply).await
    }

    async fn list_calendar_replies(&self, limit: u32) -> StoreResult<Vec<crate::CalendarReply>> {
        replies::list(self, limit).await
    }

    async fn take_inbox_lease(
        &self,
        holder: Uuid,
        now: Timestamp,
        until: Timestamp,
    ) -> StoreResult<bool> {
        replies::take_lease(self, holder, now, until).await
    }

    async fn record_inbox_check(
        &self,
        holder: Uuid,
        now: Timestamp,
        error: Option<&str>,
    ) -> StoreResult<()> {
        replies::record_check(self, holder, now, error).await
    }

    async fn inbox_status(&self) -> StoreResult<Option<crate::InboxStatus>> {
        replies::status(self).await
    }

    async fn create_calendar_source(&self, new: NewCalendarSource) -> StoreResult<CalendarSource> {
        calendars::create_source(self.tx().await?, new).await
    }

    async fn list_calendar_sources(&self) -> StoreResult<Vec<CalendarSource>> {
        calendars::list_sources(self).await
    }

    async fn delete_calendar_source(&self, id: Uuid) -> StoreResult<()> {
        calendars::delete_source(self.tx().await?, id).await
    }

    async fn claim_calendar_source(
        &self,
        id: Uuid,
        now: Timestamp,
        lease_until: Timestamp,
    ) -> StoreResult<bool> {
        calendars::claim(self, id, now, lease_until).await
    }

    async fn record_calendar_poll(
        &self,
        id: Uuid,
        poll: CalendarPoll,
    ) -> StoreResult<CalendarSource> {
        calendars::record_poll(self.tx().await?, id, poll).await
    }

    async fn calendar_busy(&self) -> StoreResult<Vec<StoredBusy>> {
        calendars::busy(self).await
    }

    async fn feed_generation(&self) -> StoreResult<i64> {
        calendars::feed_generation(self).await
    }

    async fn rotate_feed(&self, now: Timestamp) -> StoreResult<i64> {
        calendars::rotate_feed(self.tx().await?, now).await
    }

    async fn erase(&self, erasure: crate::Erasure) -> StoreResult<crate::Erased> {
        if erasure::nothing_to_do(self, &erasure.whom).await? {
            return Ok(crate::Erased::default());
        }
        let store = self.clone();
        let erased = self
            .writes
            .run(async move { erasure::erase(store.tx().await?, &erasure).await })
            .await?;
        // A checkpoint that empties the log is a full write of it into the file: only when
        // there are erased bytes to purge.
        if erased.changed {
            self.forget_old_pages().await?;
        }
        Ok(erased)
    }

    async fn create_webhook_endpoint(
        &self,
        new: crate::NewWebhookEndpoint,
    ) -> StoreResult<crate::WebhookEndpoint> {
        webhooks::create_endpoint(self.tx().await?, new).await
    }

    async fn list_webhook_endpoints(&self) -> StoreResult<Vec<crate::WebhookEndpoint>> {
        webhooks::list_endpoints(self).await
    }

    async fn delete_webhook_endpoint(&self, id: Uuid) -> StoreResult<()> {
        webhooks::delete_endpoint(self.tx().await?, id).await
    }

    async fn webhook_deliveries(
        &self,
        endpoint_id: Uuid,
        limit: u32,
    ) -> StoreResult<Vec<crate::WebhookDelivery>> {
        webhooks::deliveries(self, endpoint_id, limit).await
    }

    async fn claim_webhook_delivery(
        &self,
        now: Timestamp,
        lease_until: Timestamp,
    ) -> StoreResult<Option<crate::WebhookDelivery>> {
        webhooks::claim(self.tx().await?, now, lease_until).await
    }

    async fn record_webhook_attempt(
        &self,
        id: Uuid,
        attempt: &crate::WebhookAttempt,
    ) -> StoreResult<()> {
        webhooks::record_attempt(self, id, attempt).await
    }

    async fn requeue_webhook_delivery(
        &self,
        endpoint_id: Uuid,
        id: Uuid,
        now: Timestamp,
    ) -> StoreResult<crate::WebhookDelivery> {
        webhooks::requeue(self.tx().await?, endpoint_id, id, now).await
    }

    async fn next_webhook_due(&self) -> StoreResult<Option<Timestamp>> {
        webhooks::next_due(self).await
    }
}

impl SqliteStore {
    /// Copies the write-ahead log into the database file and empties it: the log keeps whole
    /// pages as they were before a change, erased data among them, until then. A reader still
    /// on an old snapshot keeps the log from being emptied; the next erasure tries again.
    async fn forget_old_pages(&self) -> StoreResult<()> {
        if !self.log_copier.empty().await? {
            tracing::warn!(
                "the write-ahead log could not be emptied now; erased data stays in it until the next erasure"
            );
        }
        Ok(())
    }
}
