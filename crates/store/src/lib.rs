//! Guidance's storage: the [`Store`] trait and its implementations.
//!
//! The store owns every rule the database can enforce itself: one live booking per slot, no
//! overlapping live slots, compare-and-swap transitions, and the outbox written in the same
//! transaction as the change that causes an email. Handlers never see SQL.

pub mod copy;
mod erasure;
mod health;
mod model;
pub mod postgres;
mod shared;
pub mod sqlite;
mod webhooks;

pub use erasure::{Erase, Erased, Erasure};
pub use health::{Health, PoolUse};
pub use model::*;
pub use shared::connections::Lease;
pub use webhooks::*;

use async_trait::async_trait;
use guidance_core::{SlotStatus, SlotWindow, TokenHash};
use jiff::Timestamp;
use uuid::Uuid;

/// What can go wrong in the store, in the words of the domain.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The slot is held by another booking, or no longer open.
    #[error("the slot is already taken")]
    SlotTaken,
    /// The slot would overlap another live slot.
    #[error("the slot overlaps another slot")]
    SlotOverlap,
    /// The slot is held by a booking, so it cannot be changed or removed.
    #[error("the slot is booked")]
    SlotBooked,
    /// No such row.
    #[error("not found")]
    NotFound,
    /// The booking changed since it was read (compare-and-swap lost).
    #[error("the booking changed in the meantime")]
    Conflict,
    /// The token was used already.
    #[error("the link was used already")]
    TokenUsed,
    /// The database cannot be reached right now (connection refused or lost, no connection
    /// free in time, the server shutting down); the same call may succeed once it is back.
    #[error("database unavailable: {0}")]
    Unavailable(sqlx::Error),
    /// The requester's address already has as many requests awaiting the owner as allowed.
    #[error("too many requests of this address await an answer")]
    TooManyPending,
    /// The idempotency key is kept already, with the answer of another request (or of the same
    /// request, sent twice at once).
    #[error("the idempotency key is in use")]
    KeyInUse,
    /// The database failed.
    #[error("database error: {0}")]
    Database(sqlx::Error),
    /// A stored value could not be read back.
    #[error("corrupt stored value: {0}")]
    Corrupt(String),
}

impl From<sqlx::Error> for StoreError {
    /// Tells an unreachable database from a failing one, so that callers can answer "try again
    /// later" rather than "broken".
    fn from(e: sqlx::Error) -> Self {
        if is_unavailable(&e) {
            StoreError::Unavailable(e)
        } else {
            StoreError::Database(e)
        }
    }
}

/// Whether `e` means the database could not be reached or the connection was lost, as opposed
/// to a refused or failed statement.
pub(crate) fn is_unavailable(e: &sqlx::Error) -> bool {
    match e {
        // A connection closed in the middle of a message, e.g. before the server answered the
        // TLS request of a new connection, shows as a protocol error rather than an IO error.
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::Protocol(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => true,
        // SQLSTATE class 08 (connection exception) and the server shutting down or starting
        // up (57P01 admin_shutdown, 57P02 crash_shutdown, 57P03 cannot_connect_now).
        sqlx::Error::Database(db) => db.code().is_some_and(|c| {
            c.starts_with("08") || matches!(c.as_ref(), "57P01" | "57P02" | "57P03")
        }),
        _ => false,
    }
}

/// A `Result` with [`StoreError`].
pub type StoreResult<T> = Result<T, StoreError>;

/// Everything the service keeps. One implementation per database; one contract test suite.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Creates an open slot. Fails with [`StoreError::SlotOverlap`] when it overlaps a live slot.
    async fn create_slot(
        &self,
        window: SlotWindow,
        meeting_details: Option<String>,
        now: Timestamp,
    ) -> StoreResult<Slot>;
    /// One slot.
    async fn get_slot(&self, id: Uuid) -> StoreResult<Slot>;
    /// Slots starting in `[from, to)`, in start order, optionally only those of one status.
    async fn list_slots(
        &self,
        from: Timestamp,
        to: Timestamp,
        status: Option<SlotStatus>,
    ) -> StoreResult<Vec<Slot>>;
    /// Opens an unavailable slot again or withdraws an open one. A booked slot refuses.
    async fn set_slot_available(
        &self,
        id: Uuid,
        available: bool,
        now: Timestamp,
    ) -> StoreResult<Slot>;
    /// Removes a slot that no live booking holds.
    async fn delete_slot(&self, id: Uuid) -> StoreResult<()>;

    /// Reserves the slot and records the booking, its first audit event, its action tokens and
    /// its emails, all in one transaction. [`StoreError::SlotTaken`] when the slot is not open
    /// (any more) with the expected times; [`StoreError::NotFound`] when there is no such slot;
    /// [`StoreError::TooManyPending`] when the requester's address is at its
    /// [`NewBooking::pending_limit`] (compared trimmed and ignoring case). Once committed, runs
    /// [`NewBooking::after_commit`] (see [`AfterCommit`]), even if the caller has gone.
    async fn create_booking(&self, new: NewBooking) -> StoreResult<Booking>;
    /// One booking.
    async fn get_booking(&self, id: Uuid) -> StoreResult<Booking>;
    /// Bookings, optionally only those of one status, by session start (`starts_at`), then by
    /// request time (`created_at`: a declined request and a later one for its slot start
    /// together), then by id; the same order on every database.
    async fn list_bookings(
        &self,
        status: Option<guidance_core::BookingStatus>,
    ) -> StoreResult<Vec<Booking>>;
    /// Bookings that time has overtaken: pending ones whose answer-by time (or, without one,
    /// whose session start) has come, ones waiting
    /// for a new time since before `reschedule_deadline`, and unconfirmed ones whose hold (the
    /// expiry of their `confirm` link) ended or whose session started. In the order of
    /// [`Store::list_bookings`]: by `starts_at`, then `created_at`, then id.
    async fn list_overdue(
        &self,
        now: Timestamp,
        reschedule_deadline: Timestamp,
    ) -> StoreResult<Vec<Booking>>;
    /// Moves a booking (compare-and-swap on its version and status), frees or claims slots,
    /// consumes the token that caused it, and writes the audit event, new tokens and emails,
    /// all in one transaction. Once committed, runs [`Transition::after_commit`], as
    /// [`Store::create_booking`] does.
    async fn transition(&self, t: Transition) -> StoreResult<Booking>;
    /// The pending requests whose owner's reminder has fallen due at `now` (their
    /// `answer_reminder_at`) and is not written yet, while their answer-by time is still ahead;
    /// in the order of [`Store::list_bookings`].
    async fn answer_reminders_due(&self, now: Timestamp) -> StoreResult<Vec<Booking>>;
    /// Queues a request's reminder with the tokens of its links, in one transaction, once: only
    /// while the request is still pending at [`AnswerReminder::version`] and its reminder is not
    /// written yet. `false`, and nothing written, otherwise.
    async fn queue_answer_reminder(&self, reminder: AnswerReminder) -> StoreResult<bool>;
    /// The answer kept for `key` of `scope`, unless none is or it expired by `now`.
    async fn kept_answer(
        &self,
        scope: guidance_core::idempotency::Scope,
        key: &guidance_core::idempotency::IdempotencyKey,
        now: Timestamp,
    ) -> StoreResult<Option<KeptAnswer>>;
    /// Forgets the idempotency keys expired by `now`; how many.
    async fn forget_expired_answers(&self, now: Timestamp) -> StoreResult<u64>;
    /// The audit trail of a booking, oldest first.
    async fn booking_events(&self, booking_id: Uuid) -> StoreResult<Vec<BookingEvent>>;

    /// The token with this hash, if any.
    async fn find_token(&self, hash: &TokenHash) -> StoreResult<Option<TokenRecord>>;

    /// The times proposed with the booking's latest reschedule that proposed any, in time
    /// order, live or not.
    async fn proposed_times(&self, booking_id: Uuid) -> StoreResult<Vec<ProposedTime>>;

    /// The proposed time whose link hashes to `hash`, if any.
    async fn find_proposal(&self, hash: &TokenHash) -> StoreResult<Option<ProposedTime>>;

    /// Claims up to `limit` due emails, the longest due first, for sending until `lease_until`,
    /// counting each one's attempt, in one statement. While its lease lasts an email is claimed
    /// by nobody else, in this process or another.
    async fn claim_emails(
        &self,
        now: Timestamp,
        lease_until: Timestamp,
        limit: u32,
    ) -> StoreResult<Vec<OutboxMessage>>;
    /// Claims the next due email, as [`Store::claim_emails`] does.
    async fn claim_email(
        &self,
        now: Timestamp,
        lease_until: Timestamp,
    ) -> StoreResult<Option<OutboxMessage>> {
        Ok(self.claim_emails(now, lease_until, 1).await?.pop())
    }
    /// Records that the emails `ids` were sent, in one statement.
    async fn mark_emails_sent(&self, ids: &[Uuid], now: Timestamp) -> StoreResult<()>;
    /// Records a successful send.
    async fn mark_email_sent(&self, id: Uuid, now: Timestamp) -> StoreResult<()> {
        self.mark_emails_sent(&[id], now).await
    }
    /// Up to `limit` emails whose message an older version stored plain rather than sealed
    /// (see [`guidance_core::sealed`]), to be sealed at start-up.
    async fn unsealed_emails(&self, limit: u32) -> StoreResult<Vec<OutboxMessage>>;
    /// Replaces the plain stored message of email `id` by `sealed`; an email already sealed is
    /// left alone.
    async fn seal_stored_email(&self, id: Uuid, sealed: &[u8]) -> StoreResult<()>;
    /// Records a failed attempt to be retried at `next_attempt_at`.
    async fn mark_email_retry(
        &self,
        id: Uuid,
        error: &str,
        next_attempt_at: Timestamp,
    ) -> StoreResult<()>;
    /// Records the last failed attempt: the email stays failed until resent.
    async fn mark_email_failed(&self, id: Uuid, error: &str) -> StoreResult<()>;
    /// Withdraws a claimed scheduled email unsent because its moment passed (`too_late`): the
    /// row stays, with when and why.
    async fn drop_late_email(&self, id: Uuid, now: Timestamp) -> StoreResult<()>;
    /// Gives back a claimed email untouched (clean shutdown), so that it is sent promptly.
    async fn release_email(&self, id: Uuid) -> StoreResult<()>;
    /// Queues an email of `booking_id` again (owner's "resend"): the same bytes and Message-ID,
    /// due at `now`, with a fresh attempt budget; the last error stays until a send succeeds.
    /// [`StoreError::NotFound`] when the booking has no such email; [`StoreError::Conflict`] when
    /// a worker holds it right now.
    async fn requeue_email(
        &self,
        booking_id: Uuid,
        email_id: Uuid,
        now: Timestamp,
    ) -> StoreResult<OutboxMessage>;
    /// When the next queued email is due, if any: the first one no worker holds, or the end of
    /// a lease a worker holds on one (it was due by `now`, when it was claimed).
    async fn next_email_due(&self, now: Timestamp) -> StoreResult<Option<Timestamp>>;
    /// The emails of a booking, oldest first.
    async fn booking_emails(&self, booking_id: Uuid) -> StoreResult<Vec<OutboxMessage>>;

    /// The owner's supplemental questions, in the order shown.
    async fn list_questions(&self) -> StoreResult<Vec<guidance_core::Question>>;
    /// Replaces all supplemental questions with `questions` (already checked), in one
    /// transaction; answers already given stay with their bookings.
    async fn replace_questions(
        &self,
        questions: &[guidance_core::Question],
        now: Timestamp,
    ) -> StoreResult<()>;

    // --- Owner (admin UI) ---------------------------------------------------------------------

    /// Changes a slot's window and meeting details. A booked slot refuses
    /// ([`StoreError::SlotBooked`]); a window overlapping another live slot too
    /// ([`StoreError::SlotOverlap`]).
    async fn update_slot(
        &self,
        id: Uuid,
        window: SlotWindow,
        meeting_details: Option<String>,
        now: Timestamp,
    ) -> StoreResult<Slot>;
    /// Emails that failed for good, or whose last attempt failed and that wait for a retry,
    /// oldest first.
    async fn emails_with_errors(&self) -> StoreResult<Vec<OutboxMessage>>;

    /// The owner's argon2id password hash (PHC string), if a password was set.
    async fn admin_password_hash(&self) -> StoreResult<Option<String>>;
    /// Sets the owner's password hash. Every session ends and every setup link dies with it.
    async fn set_admin_password_hash(&self, hash: &str, now: Timestamp) -> StoreResult<()>;
    /// Records a setup link (its hash only) that works until `expires_at`, replacing any earlier.
    async fn create_admin_setup_token(
        &self,
        hash: &TokenHash,
        expires_at: Timestamp,
        now: Timestamp,
    ) -> StoreResult<()>;
    /// Whether a setup link is known, unused and unexpired.
    async fn admin_setup_token_valid(&self, hash: &TokenHash, now: Timestamp) -> StoreResult<bool>;
    /// Spends a setup link and sets the password in one transaction.
    /// [`StoreError::TokenUsed`] when it was used, [`StoreError::NotFound`] when unknown or expired.
    async fn use_admin_setup_token(
        &self,
        hash: &TokenHash,
        password_hash: &str,
        now: Timestamp,
    ) -> StoreResult<()>;
    /// Records a new signed-in session (the hash of its id only); forgets expired ones.
    async fn create_admin_session(&self, session: NewAdminSession) -> StoreResult<()>;
    /// Whether the session is alive at `now`; if so its idle expiry moves to `idle_expires_at`
    /// (never past its absolute expiry).
    async fn touch_admin_session(
        &self,
        id_hash: &TokenHash,
        now: Timestamp,
        idle_expires_at: Timestamp,
    ) -> StoreResult<bool>;
    /// Ends a session.
    async fn delete_admin_session(&self, id_hash: &TokenHash) -> StoreResult<()>;

    /// The owner's stored settings (key → value).
    async fn settings(&self) -> StoreResult<std::collections::BTreeMap<String, String>>;
    /// Stores settings (each key replaced), all in one transaction.
    async fn save_settings(
        &self,
        values: &std::collections::BTreeMap<String, String>,
        now: Timestamp,
    ) -> StoreResult<()>;

    // --- Operations (metrics, readiness) ------------------------------------------------------

    /// Bookings by status, the waiting and failed emails, and the migrations not applied, as
    /// of `now`: a few counting queries, for `/metrics` and `/readyz` rather than requests.
    async fn health(&self, now: Timestamp) -> StoreResult<Health>;
    /// How many connections each pool holds, and how many of them are idle (no IO).
    fn pool_use(&self) -> Vec<PoolUse>;
    // --- Calendar replies read from the service mailbox ---------------------------------------

    /// The booking whose calendar UID is `ics_uid`, if any.
    async fn booking_by_ics_uid(&self, ics_uid: &str) -> StoreResult<Option<Booking>>;
    /// Whether a reply with this Message-ID was recorded already.
    async fn calendar_reply_seen(&self, message_id: &str) -> StoreResult<bool>;
    /// Records what became of a reply, unless one with its Message-ID was recorded already
    /// (then nothing is written and the answer is `false`). A reply that changed something is
    /// also named in its booking's history (`calendar_<outcome>`), in the same transaction.
    async fn record_calendar_reply(&self, reply: &CalendarReply) -> StoreResult<bool>;
    /// The latest `limit` replies, newest first.
    async fn list_calendar_replies(&self, limit: u32) -> StoreResult<Vec<CalendarReply>>;
    /// Takes or renews the right to read the mailbox until `until`, for `holder`: granted when
    /// nobody holds it, `holder` holds it already, or the last holder's time ran out at `now`.
    async fn take_inbox_lease(
        &self,
        holder: Uuid,
        now: Timestamp,
        until: Timestamp,
    ) -> StoreResult<bool>;
    /// Notes a look at the mailbox by the lease's `holder` (with its error, if it failed).
    async fn record_inbox_check(
        &self,
        holder: Uuid,
        now: Timestamp,
        error: Option<&str>,
    ) -> StoreResult<()>;
    /// Who reads the mailbox and how the last look went; `None` before any process did.
    async fn inbox_status(&self) -> StoreResult<Option<InboxStatus>>;
    // --- The owner's calendars ----------------------------------------------------------------

    /// Adds a calendar source (not yet polled).
    async fn create_calendar_source(&self, new: NewCalendarSource) -> StoreResult<CalendarSource>;
    /// Every calendar source, oldest first.
    async fn list_calendar_sources(&self) -> StoreResult<Vec<CalendarSource>>;
    /// Removes a source and its busy intervals; [`StoreError::NotFound`] when there is none.
    async fn delete_calendar_source(&self, id: Uuid) -> StoreResult<()>;
    /// Claims a source for polling until `lease_until`, unless another process holds it;
    /// whether this one got it.
    async fn claim_calendar_source(
        &self,
        id: Uuid,
        now: Timestamp,
        lease_until: Timestamp,
    ) -> StoreResult<bool>;
    /// Records a poll: its outcome, its busy intervals (replacing the old ones when given) and
    /// its email, in one transaction; ends the lease.
    async fn record_calendar_poll(
        &self,
        id: Uuid,
        poll: CalendarPoll,
    ) -> StoreResult<CalendarSource>;
    /// Every stored busy interval, by source, then start.
    async fn calendar_busy(&self) -> StoreResult<Vec<StoredBusy>>;
    /// The generation the owner's feed address is signed over (0 before any rotation).
    async fn feed_generation(&self) -> StoreResult<i64>;
    /// Moves the feed to a new generation, killing the old address; the new generation.
    async fn rotate_feed(&self, now: Timestamp) -> StoreResult<i64>;

    // --- The visitor's data -------------------------------------------------------------------

    /// Erases the visitors' data `erasure` names from every table, and what earlier erasures
    /// left (see [`Erase::Leftovers`]), in one transaction; the bookings keep their times and
    /// status. On SQLite the deleted bytes leave the file and its write-ahead log too.
    async fn erase(&self, erasure: Erasure) -> StoreResult<Erased>;

    // --- Webhooks -----------------------------------------------------------------------------

    /// Adds a webhook endpoint.
    async fn create_webhook_endpoint(
        &self,
        new: NewWebhookEndpoint,
    ) -> StoreResult<WebhookEndpoint>;
    /// Every webhook endpoint, oldest first.
    async fn list_webhook_endpoints(&self) -> StoreResult<Vec<WebhookEndpoint>>;
    /// Removes an endpoint and its messages; [`StoreError::NotFound`] when there is none.
    async fn delete_webhook_endpoint(&self, id: Uuid) -> StoreResult<()>;
    /// The latest `limit` messages of an endpoint, newest first (then by id).
    async fn webhook_deliveries(
        &self,
        endpoint_id: Uuid,
        limit: u32,
    ) -> StoreResult<Vec<WebhookDelivery>>;
    /// Claims the longest-due webhook message until `lease_until`, counting its attempt: while
    /// the lease lasts nobody else, in this process or another, claims it.
    async fn claim_webhook_delivery(
        &self,
        now: Timestamp,
        lease_until: Timestamp,
    ) -> StoreResult<Option<WebhookDelivery>>;
    /// Records a claimed message's attempt and what follows from it; ends the lease.
    async fn record_webhook_attempt(&self, id: Uuid, attempt: &WebhookAttempt) -> StoreResult<()>;
    /// Queues message `id` of endpoint `endpoint_id` again (the owner's "send again"): the same
    /// id and body, due at `now`, with a fresh attempt budget. [`StoreError::NotFound`] when the
    /// endpoint has no such message (or its body was erased); [`StoreError::Conflict`] while a
    /// worker holds it.
    async fn requeue_webhook_delivery(
        &self,
        endpoint_id: Uuid,
        id: Uuid,
        now: Timestamp,
    ) -> StoreResult<WebhookDelivery>;
    /// When the next queued webhook message is due, if any.
    async fn next_webhook_due(&self) -> StoreResult<Option<Timestamp>>;
}
