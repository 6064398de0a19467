//! The PostgreSQL store: a plain server or a Supabase project, shared by any number of
//! `guidance serve` and `guidance worker` processes.
//!
//! The database is the judge: a partial unique index keeps one live booking per slot, an
//! exclusion constraint keeps live slots apart, and a conditional `UPDATE … WHERE status = 'open'`
//! claims a slot (a racing transaction waits, re-checks and finds nothing to update). Outbox rows
//! are claimed with `FOR UPDATE SKIP LOCKED` and a lease, so each email is sent once however many
//! workers run, and an email whose worker died is retried, with its Message-ID, when the lease ends.
//!
//! Pooler-safe: no session state. Every transaction starts with `SET LOCAL ROLE service_role`
//! where that role exists (Supabase), nothing takes a session lock, and the prepared-statement
//! cache can be switched off with `?statement-cache-capacity=0` in the URL (Supabase's
//! transaction pooler). The schema is `supabase/migrations/`, applied by [`PostgresStore::migrate`].

use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use guidance_core::idempotency::{IdempotencyKey, Scope};
use guidance_core::{BookingStatus, Question, SlotStatus, SlotWindow, TokenHash};
use jiff::Timestamp;
use sqlx::postgres::{PgConnectOptions, PgConnection};
use sqlx::{ConnectOptions, Connection as _};
use uuid::Uuid;

mod one_trip;
mod rows;
#[cfg(test)]
mod tests;
mod time;
mod tx;

pub use time::PgTime;

use crate::shared::connections::Connections;
use crate::shared::guard::to_the_end;
use crate::shared::tx::Db as _;
use crate::shared::tx::Value::{Int, Time};
use crate::shared::{
    booking, calendars, erasure, idempotency, outbox, owner, proposals, reads, reminders, replies,
    settings, slots, webhooks,
};
use crate::{
    AnswerReminder, Booking, BookingEvent, CalendarPoll, CalendarSource, KeptAnswer, Lease,
    NewAdminSession, NewBooking, NewCalendarSource, OutboxMessage, ProposedTime, Slot, Store,
    StoreError, StoreResult, StoredBusy, TokenRecord, Transition,
};

/// The migrations of `supabase/migrations/`, compiled into the binary.
static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../../supabase/migrations");

/// The tables of the schema, in an order that respects their foreign keys.
pub const TABLES: [&str; 19] = [
    "guidance_availability",
    "guidance_bookings",
    "guidance_booking_actions",
    "guidance_booking_events",
    "guidance_email_outbox",
    "guidance_questions",
    "guidance_admin_credentials",
    "guidance_admin_setup_tokens",
    "guidance_admin_sessions",
    "guidance_settings",
    "guidance_idempotency_keys",
    "guidance_calendar_sources",
    "guidance_calendar_busy",
    "guidance_calendar_feed",
    "guidance_calendar_replies",
    "guidance_inbox_lease",
    "guidance_proposed_times",
    "guidance_webhook_endpoints",
    "guidance_webhook_deliveries",
];

/// The 64-bit FNV-1a hash of `bytes`: short, stable across versions and machines, and enough
/// to tell apart the few keys it makes (address locks, prepared statements' names).
fn fnv1a(bytes: impl IntoIterator<Item = u8>) -> u64 {
    bytes.into_iter().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// The PostgreSQL implementation of [`Store`].
#[derive(Clone)]
pub struct PostgresStore {
    connections: Connections<PgConnection>,
    /// Whether transactions switch to `service_role` (it exists and this login may use it).
    service_role: bool,
    /// Whether statements are prepared once per connection and cached (the default), or, with
    /// `?statement-cache-capacity=0` in the URL, sent as unnamed statements that leave nothing
    /// behind on the server connection (a transaction pooler hands the next transaction to a
    /// connection that knows nothing of them).
    persistent: bool,
}

/// How long a request waits for a database connection (a new one included) before it is
/// answered [`StoreError::Unavailable`].
pub const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);

/// The most connections transactions use at once.
const MAX_CONNECTIONS: u32 = 10;

impl PostgresStore {
    /// Connects to the database named by a `postgres://` URL. Does not change the schema: see
    /// [`PostgresStore::migrate`]; fails clearly when the schema is missing.
    pub async fn connect(url: &str) -> StoreResult<Self> {
        let store = Self::connect_unchecked(url).await?;
        let present: bool =
            sqlx::query_scalar("SELECT to_regclass('public.guidance_bookings') IS NOT NULL")
                .persistent(store.persistent)
                .fetch_one(&mut *store.lease().await?)
                .await?;
        if !present {
            return Err(StoreError::Corrupt(
                "the Guidance tables are missing: run `guidance migrate` (or `supabase db push`) first"
                    .into(),
            ));
        }
        Ok(store)
    }

    /// Connects without looking at the schema (for [`PostgresStore::migrate`]).
    async fn connect_unchecked(url: &str) -> StoreResult<Self> {
        let options = PgConnectOptions::from_str(url)?.application_name("guidance");
        let connections = Connections::new(options, MAX_CONNECTIONS, ACQUIRE_TIMEOUT);
        let persistent = statement_cache_enabled(url);
        let mut conn = connections.acquire().await?;
        let service_role = detect_service_role(&mut conn, persistent).await?;
        drop(conn);
        Ok(Self {
            connections,
            service_role,
            persistent,
        })
    }

    /// Connects and applies the migrations of `supabase/migrations/` that are not applied yet.
    /// Run it on a direct connection, not through a transaction pooler: it holds an advisory
    /// lock for its duration so that two processes never migrate at once.
    pub async fn migrate(url: &str) -> StoreResult<Self> {
        let store = Self::connect_unchecked(url).await?;
        // Closed afterwards, not lent again: a migration that fails leaves the migrator's
        // session-level advisory lock held on it.
        let mut conn = store.connection().await?;
        MIGRATOR
            .run(&mut *conn)
            .await
            .map_err(|e| StoreError::Database(e.into()))?;
        Ok(store)
    }

    /// Whether transactions run as `service_role`.
    pub fn uses_service_role(&self) -> bool {
        self.service_role
    }

    /// A connection of the store's, as the login (not in the service's role), for tools that
    /// write rows as they are (the copy from SQLite) and for tests. It is closed when dropped,
    /// never lent again: what was done on it stays with it.
    pub async fn connection(&self) -> StoreResult<Lease<PgConnection>> {
        let mut conn = self.lease().await?;
        conn.close_on_drop();
        Ok(conn)
    }

    /// A connection for one statement outside the transactions, lent again afterwards.
    async fn lease(&self) -> StoreResult<Lease<PgConnection>> {
        Ok(self.connections.acquire().await?)
    }

    /// Runs `sql` (no arguments: a simple query) on a lent connection, outside any transaction.
    async fn run_raw(&self, sql: &str) -> StoreResult<()> {
        let mut conn = self.lease().await?;
        sqlx::Executor::execute(&mut *conn, sql).await?;
        Ok(())
    }

    /// Closes the connections, once those lent have come back.
    pub async fn close(&self) {
        self.connections.close().await;
    }
}

/// Whether the URL leaves the prepared-statement cache on (sqlx reads the same parameter).
/// sqlx 0.8 still prepares *named* statements with a capacity of 0 unless each query is marked
/// non-persistent, so the store marks them itself.
fn statement_cache_enabled(url: &str) -> bool {
    let query = url.split_once('?').map(|(_, q)| q).unwrap_or("");
    !query.split('&').any(|pair| {
        pair.split_once('=')
            .is_some_and(|(k, v)| k == "statement-cache-capacity" && v.trim() == "0")
    })
}

/// Whether `service_role` exists and this login may switch to it. Detected once at connect: the
/// roles of a database do not come and go while the service runs.
async fn detect_service_role(conn: &mut PgConnection, p: bool) -> StoreResult<bool> {
    Ok(sqlx::query_scalar(
        "SELECT COALESCE((SELECT pg_has_role(current_user, oid, 'MEMBER') FROM pg_roles \
         WHERE rolname = 'service_role'), false)",
    )
    .persistent(p)
    .fetch_one(conn)
    .await?)
}

/// Maps the database's own refusals to domain errors: the unique index on live bookings
/// (23505) and the exclusion constraint on live slots (23P01) are the judges.
fn map_constraint(e: sqlx::Error) -> StoreError {
    if let sqlx::Error::Database(db) = &e {
        match (db.code().as_deref(), db.constraint()) {
            (Some("23P01"), _) => return StoreError::SlotOverlap,
            (Some("23505"), Some("guidance_bookings_one_live_per_slot")) => {
                return StoreError::SlotTaken;
            }
            _ => {}
        }
    }
    StoreError::from(e)
}

#[async_trait]
impl Store for PostgresStore {
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
        to_the_end(async move {
            // The address the shared code locks, locked with the `BEGIN` (one round trip less);
            // where no limit needs it, the lock costs nothing more than the `BEGIN`.
            let tx = store.tx_locking(new.intake.email.as_str()).await?;
            booking::create_booking(tx, new).await
        })
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
        to_the_end(async move { booking::transition(store.tx().await?, t).await }).await
    }

    async fn answer_reminders_due(&self, now: Timestamp) -> StoreResult<Vec<Booking>> {
        reads::answer_reminders_due(self, now).await
    }

    async fn queue_answer_reminder(&self, reminder: AnswerReminder) -> StoreResult<bool> {
        let store = self.clone();
        to_the_end(
            async move { reminders::queue_answer_reminder(store.tx().await?, reminder).await },
        )
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
        // SKIP LOCKED: a worker never waits for rows another worker is claiming; the lease
        // keeps a row out of reach while it is being sent, and gives it back if that worker
        // dies (the next claim after `lease_until` sends it again, with the same Message-ID).
        let sql = outbox::claim_statement::<Self>(" FOR UPDATE SKIP LOCKED");
        let rows = self
            .read_all(&sql, &[Time(now), Time(lease_until), Int(i64::from(limit))])
            .await?;
        outbox::claimed(&rows)
    }

    async fn mark_emails_sent(&self, ids: &[Uuid], now: Timestamp) -> StoreResult<()> {
        outbox::mark_sent(self, ids, now).await
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

    async fn next_email_due(&self, now: Timestamp) -> StoreResult<Option<Timestamp>> {
        outbox::next_due(self, now).await
    }

    async fn requeue_email(
        &self,
        booking_id: Uuid,
        email_id: Uuid,
        now: Timestamp,
    ) -> StoreResult<OutboxMessage> {
        outbox::requeue_email(self.tx().await?, booking_id, email_id, now).await
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
        owner::use_setup_link(self.tx().await?, hash, password_hash, now).await
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
        health.pending_migrations =
            pending_migrations(&mut *self.lease().await?, self.persistent).await?;
        Ok(health)
    }

    fn pool_use(&self) -> Vec<crate::PoolUse> {
        vec![self.connections.usage("main")]
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
        let erased =
            to_the_end(async move { erasure::erase(store.tx().await?, &erasure).await }).await?;
        if erased.changed {
            self.vacuum_erased().await;
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

/// The migrations of this binary that the database has not applied (all of them on a database
/// never migrated). Read as the login user, which ran them, rather than in the service's role.
async fn pending_migrations(conn: &mut PgConnection, persistent: bool) -> StoreResult<Vec<i64>> {
    let present: bool =
        sqlx::query_scalar("SELECT to_regclass('public._sqlx_migrations') IS NOT NULL")
            .persistent(persistent)
            .fetch_one(&mut *conn)
            .await?;
    let applied: Vec<i64> = if present {
        sqlx::query_scalar("SELECT version FROM public._sqlx_migrations WHERE success")
            .persistent(persistent)
            .fetch_all(conn)
            .await?
    } else {
        Vec::new()
    };
    Ok(crate::health::pending(&MIGRATOR, &applied))
}

impl PostgresStore {
    /// The migrations of this binary that the database at `url` has not applied, read without
    /// changing anything (`guidance check`).
    pub async fn inspect(url: &str) -> StoreResult<Vec<i64>> {
        let options = PgConnectOptions::from_str(url)?.application_name("guidance check");
        let mut conn = tokio::time::timeout(ACQUIRE_TIMEOUT, options.connect())
            .await
            .map_err(|_| StoreError::Unavailable(sqlx::Error::PoolTimedOut))??;
        let pending = pending_migrations(&mut conn, statement_cache_enabled(url)).await;
        conn.close().await.ok();
        pending
    }
}

impl PostgresStore {
    /// Vacuums the tables an erasure changed, so that the old versions of its rows leave the
    /// tables' pages now rather than at autovacuum's next look. Where the service does not own
    /// the tables (Supabase's service role) PostgreSQL skips them with a warning; autovacuum
    /// does it then. A failure is logged, never returned: the erasure itself is committed.
    async fn vacuum_erased(&self) {
        let statement = format!("VACUUM (SKIP_LOCKED) {}", erasure::TABLES.join(", "));
        if let Err(e) = self.run_raw(&statement).await {
            tracing::warn!(error = %e, "vacuuming after an erasure failed; autovacuum will");
        }
    }
}
