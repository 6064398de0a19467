//! The rows the store reads and writes.

use guidance_core::intake::Answers;
use guidance_core::{
    BookingAction, BookingStatus, Intake, Priority, SlotStatus, SlotWindow, TokenHash,
};
use jiff::Timestamp;
use serde::Serialize;
use uuid::Uuid;

/// An availability slot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Slot {
    /// Identity.
    pub id: Uuid,
    /// Start (UTC).
    pub starts_at: Timestamp,
    /// End (UTC).
    pub ends_at: Timestamp,
    /// Open, booked or unavailable.
    pub status: SlotStatus,
    /// Private meeting details (never shown to visitors).
    pub meeting_details: Option<String>,
    /// When it was created.
    pub created_at: Timestamp,
}

/// A booking as stored. Also kept, as JSON, with an idempotency key as the answer it was given
/// ([`KeptAnswer`]).
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct Booking {
    /// Identity.
    pub id: Uuid,
    /// The slot it holds or held (gone when the slot was deleted later).
    pub slot_id: Option<Uuid>,
    /// Session start (UTC).
    pub starts_at: Timestamp,
    /// Session end (UTC).
    pub ends_at: Timestamp,
    /// Requester's name.
    pub name: String,
    /// Requester's email address.
    pub email: String,
    /// Requester's language.
    pub locale: String,
    /// Requester's IANA time zone.
    pub time_zone: String,
    /// What it is about.
    pub topic: String,
    /// How urgent.
    pub priority: Priority,
    /// Supplemental answers (JSON object).
    pub answers: serde_json::Value,
    /// Where it stands.
    pub status: BookingStatus,
    /// Goes up on every transition; tokens are bound to it.
    pub version: i64,
    /// Calendar UID, stable for the booking's life.
    pub ics_uid: String,
    /// Calendar SEQUENCE of the last message sent.
    pub ics_sequence: i64,
    /// When requested.
    pub created_at: Timestamp,
    /// Last change.
    pub updated_at: Timestamp,
    /// When accepted, if it was.
    pub accepted_at: Option<Timestamp>,
    /// When declined, if it was.
    pub declined_at: Option<Timestamp>,
    /// When a new time was last asked for.
    pub reschedule_requested_at: Option<Timestamp>,
    /// When cancelled, if it was.
    pub cancelled_at: Option<Timestamp>,
    /// When it expired, if it did.
    pub expired_at: Option<Timestamp>,
    /// While pending: when it expires unless the owner answers (`None`: when the session
    /// starts).
    pub answer_by: Option<Timestamp>,
    /// The meeting room's name, made when it was first accepted and kept across new times.
    pub meeting_room: Option<String>,
}

impl Booking {
    /// The answers as the parsed type (they were parsed on the way in).
    pub fn parsed_answers(&self) -> Answers {
        Answers::parse(&self.answers).unwrap_or_default()
    }
}

/// A new action token's record (the token itself is never stored).
#[derive(Debug, Clone)]
pub struct NewToken {
    /// What the link does.
    pub action: BookingAction,
    /// SHA-256 of the token.
    pub hash: TokenHash,
    /// Last moment it works.
    pub expires_at: Timestamp,
}

/// A stored action token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRecord {
    /// Identity.
    pub id: Uuid,
    /// The booking it acts on.
    pub booking_id: Uuid,
    /// What it does.
    pub action: BookingAction,
    /// The booking version it was issued for; any later transition makes it out of date.
    pub booking_version: i64,
    /// Last moment it works.
    pub expires_at: Timestamp,
    /// When it was used, if it was.
    pub used_at: Option<Timestamp>,
}

/// An email to queue.
#[derive(Debug, Clone)]
pub struct NewEmail {
    /// The row's id, made by the caller (who may hand the email over before reading it back).
    pub id: Uuid,
    /// Stable kind name (`owner_new_request`, …).
    pub kind: String,
    /// Bare recipient address.
    pub recipient: String,
    /// Subject, for the owner's overview.
    pub subject: String,
    /// `<…@…>`, the same on every attempt.
    pub message_id: String,
    /// The complete message.
    pub message: Vec<u8>,
    /// A scheduled email: not sent before this moment (`None`: at once).
    pub send_after: Option<Timestamp>,
    /// A scheduled email: dropped unsent once this moment has passed, and withdrawn by the
    /// booking's next change (`None`: an ordinary email, sent however late and never withdrawn).
    pub send_before: Option<Timestamp>,
    /// Queued already claimed, until this moment, by the worker of the process that queues it,
    /// which sends it from memory (its first attempt counted, as a claim counts it): no worker
    /// claims it before the lease ends. `None`: queued for any worker to claim.
    pub leased_until: Option<Timestamp>,
}

/// Delivery state of an email.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EmailStatus {
    /// Waiting to be sent (or retried).
    Queued,
    /// Handed to the mail system.
    Sent,
    /// Gave up after the last attempt; resendable.
    Failed,
}

impl EmailStatus {
    /// The stable name.
    pub fn as_str(self) -> &'static str {
        match self {
            EmailStatus::Queued => "queued",
            EmailStatus::Sent => "sent",
            EmailStatus::Failed => "failed",
        }
    }

    /// Parses the stable name.
    pub fn parse(s: &str) -> Option<Self> {
        [EmailStatus::Queued, EmailStatus::Sent, EmailStatus::Failed]
            .into_iter()
            .find(|x| x.as_str() == s)
    }
}

/// A queued, sent or failed email.
#[derive(Debug, Clone, Serialize)]
pub struct OutboxMessage {
    /// Identity.
    pub id: Uuid,
    /// The booking it is about.
    pub booking_id: Option<Uuid>,
    /// Stable kind name.
    pub kind: String,
    /// Bare recipient address.
    pub recipient: String,
    /// Subject.
    pub subject: String,
    /// `<…@…>`.
    pub message_id: String,
    /// The complete message.
    #[serde(skip)]
    pub message: Vec<u8>,
    /// Delivery state.
    pub status: EmailStatus,
    /// Attempts made so far.
    pub attempts: i64,
    /// When the next attempt is due.
    pub next_attempt_at: Timestamp,
    /// The last error, if an attempt failed.
    pub last_error: Option<String>,
    /// When it was sent.
    pub sent_at: Option<Timestamp>,
    /// When it was queued.
    pub created_at: Timestamp,
    /// A scheduled email: the moment after which it is dropped unsent.
    pub send_before: Option<Timestamp>,
    /// When it was withdrawn unsent, and why (`withdrawn`: the booking changed; `too_late`:
    /// its moment had passed when the worker came to it).
    pub withdrawn: Option<(Timestamp, String)>,
}

/// Who caused a transition.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Actor {
    /// The site owner (email link, admin UI or owner API).
    Owner,
    /// The visitor who booked.
    Requester,
    /// The service itself (expiry).
    System,
}

impl Actor {
    /// The stable name.
    pub fn as_str(self) -> &'static str {
        match self {
            Actor::Owner => "owner",
            Actor::Requester => "requester",
            Actor::System => "system",
        }
    }
}

/// One line of a booking's history.
#[derive(Debug, Clone, Serialize)]
pub struct BookingEvent {
    /// Who.
    pub actor: String,
    /// What (`request`, `accept`, …).
    pub action: String,
    /// From which status (none for the request itself).
    pub from_status: Option<String>,
    /// To which status.
    pub to_status: String,
    /// An optional message.
    pub note: Option<String>,
    /// When.
    pub created_at: Timestamp,
}

/// Everything needed to record a new booking atomically.
#[derive(Debug, Clone)]
pub struct NewBooking {
    /// Chosen by the caller so that emails can name it before it is stored.
    pub id: Uuid,
    /// The slot to reserve.
    pub slot_id: Uuid,
    /// The slot's window as the caller saw it; the reservation fails if it changed.
    pub window: SlotWindow,
    /// The parsed intake.
    pub intake: Intake,
    /// The status it starts in: `pending` (the owner is told at once), or `unconfirmed` (the
    /// visitor first confirms their email address). Both hold the slot.
    pub status: BookingStatus,
    /// Calendar UID.
    pub ics_uid: String,
    /// Tokens for the links in the emails (issued for version 0).
    pub tokens: Vec<NewToken>,
    /// The emails this request causes.
    pub emails: Vec<NewEmail>,
    /// What webhook receivers are told of it, if anything.
    pub webhook: Option<crate::NewWebhookEvent>,
    /// When a pending request expires unanswered (`None`: at its session's start).
    pub answer_by: Option<Timestamp>,
    /// When the owner of a pending request is reminded of it, unless they answer first
    /// (`None`: never); the reminder is written then ([`crate::Store::queue_answer_reminder`]).
    pub answer_reminder_at: Option<Timestamp>,
    /// At most this many bookings of the requester's address may await the owner (pending, or
    /// unconfirmed) at once: with that many already, the request is refused with
    /// [`crate::StoreError::TooManyPending`]. Checked in the transaction that inserts, so that
    /// concurrent requests cannot get past it. `None`: no limit.
    pub pending_limit: Option<u32>,
    /// The request's idempotency key, kept with the booking as its answer.
    pub keep_answer: Option<KeepAnswer>,
    /// What the caller runs once the booking has committed.
    pub after_commit: AfterCommit,
    /// Now.
    pub now: Timestamp,
}

/// Work the caller of a change asks the store to run once the change has committed, in the task
/// the store runs the change in: it runs although the caller may have gone meanwhile (a request
/// whose client hung up), and not at all if the change did not commit (it is then dropped).
/// Cheap and without waiting: the store's task runs it before it answers.
///
/// A clone runs nothing: the work is the original's alone (a change commits once; tests clone
/// changes to try them again).
#[derive(Default)]
pub struct AfterCommit(Option<Box<dyn FnOnce() + Send>>);

impl AfterCommit {
    /// `work`, to run once the change has committed.
    pub fn new(work: impl FnOnce() + Send + 'static) -> Self {
        Self(Some(Box::new(work)))
    }

    /// Runs the work: the change has committed.
    pub(crate) fn run(self) {
        if let Some(work) = self.0 {
            work();
        }
    }
}

impl Clone for AfterCommit {
    fn clone(&self) -> Self {
        Self(None)
    }
}

impl std::fmt::Debug for AfterCommit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_some() {
            "AfterCommit(…)"
        } else {
            "AfterCommit(nothing)"
        })
    }
}

/// A request's idempotency key, to be kept in the transaction of the change it causes, with the
/// booking as that change leaves it. [`crate::StoreError::KeyInUse`] when the key is kept already
/// and has not expired.
#[derive(Debug, Clone)]
pub struct KeepAnswer {
    /// The key, its scope, and the hash of the request's body.
    pub keyed: guidance_core::idempotency::Keyed,
    /// When the key may be used again for another request.
    pub expires_at: Timestamp,
}

/// The answer kept for an idempotency key.
#[derive(Debug, Clone)]
pub struct KeptAnswer {
    /// The hash of the body of the request that was answered.
    pub request_hash: String,
    /// The booking as the answer showed it.
    pub booking: Booking,
}

/// A slot to move a booking to.
#[derive(Debug, Clone, Copy)]
pub struct SlotChange {
    /// The new slot.
    pub slot_id: Uuid,
    /// Its window as the caller saw it.
    pub window: SlotWindow,
}

/// Everything needed to move a booking atomically.
#[derive(Debug, Clone)]
pub struct Transition {
    /// Which booking.
    pub booking_id: Uuid,
    /// The version the caller read; the transition fails with Conflict if it moved on.
    pub expected_version: i64,
    /// The status the caller read.
    pub from: BookingStatus,
    /// The action.
    pub action: BookingAction,
    /// The resulting status (from the state machine).
    pub to: BookingStatus,
    /// Who.
    pub actor: Actor,
    /// Optional message.
    pub note: Option<String>,
    /// The token that caused it, consumed in the same transaction.
    pub consume_token: Option<TokenHash>,
    /// For `pick_slot`: the new slot to reserve.
    pub new_slot: Option<SlotChange>,
    /// The calendar SEQUENCE of the messages this transition sends.
    pub ics_sequence: i64,
    /// Tokens for links in the new emails (issued for `expected_version + 1`).
    pub tokens: Vec<NewToken>,
    /// Emails this transition causes. Every scheduled email still waiting (one with a
    /// `send_before`) is withdrawn first: the change makes it pointless, and the change queues
    /// those its new state needs.
    pub emails: Vec<NewEmail>,
    /// What webhook receivers are told of the change, if anything.
    pub webhook: Option<crate::NewWebhookEvent>,
    /// The request's idempotency key, kept with the moved booking as its answer.
    pub keep_answer: Option<KeepAnswer>,
    /// The booking's answer-by time after the change (set when it becomes pending).
    pub answer_by: Option<Timestamp>,
    /// When the owner is reminded of the booking after the change (set when it becomes pending,
    /// as [`NewBooking::answer_reminder_at`]).
    pub answer_reminder_at: Option<Timestamp>,
    /// A meeting room name for a booking that has none yet (a booking keeps its first).
    pub meeting_room: Option<String>,
    /// For a reschedule: the open slots the owner proposes, each held for the visitor (claimed
    /// like a booking claims its slot) until the booking changes again.
    pub proposals: Vec<NewProposal>,
    /// For taking a proposed time: which proposal (found by its link); `new_slot` is its slot,
    /// whose hold passes to the booking if the proposal is still live.
    pub take_proposal: Option<Uuid>,
    /// What the caller runs once the change has committed.
    pub after_commit: AfterCommit,
    /// Now.
    pub now: Timestamp,
}

/// The owner's reminder of a pending request, written when it falls due
/// ([`crate::Store::queue_answer_reminder`]).
#[derive(Debug, Clone)]
pub struct AnswerReminder {
    /// The request.
    pub booking_id: Uuid,
    /// Its version, as the caller read it: a request changed since gets no reminder.
    pub version: i64,
    /// The tokens of the reminder's links (issued for `version`).
    pub tokens: Vec<NewToken>,
    /// The reminder.
    pub email: NewEmail,
    /// Now.
    pub now: Timestamp,
}

/// A time the owner proposes with a reschedule, with the hash of the link that takes it.
#[derive(Debug, Clone)]
pub struct NewProposal {
    /// The slot, as the caller saw it.
    pub slot: SlotChange,
    /// SHA-256 of the link's token (the link itself is only in the visitor's email).
    pub hash: TokenHash,
}

/// A time the owner proposed to a visitor asked to choose another one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProposedTime {
    /// Identity.
    pub id: Uuid,
    /// The booking it was proposed for.
    pub booking_id: Uuid,
    /// The slot (none once the owner deleted it).
    pub slot_id: Option<Uuid>,
    /// When it starts.
    pub starts_at: Timestamp,
    /// When it ends.
    pub ends_at: Timestamp,
    /// When it was proposed (one moment for all proposed with one reschedule).
    pub created_at: Timestamp,
    /// When the visitor took it.
    pub taken_at: Option<Timestamp>,
    /// When its hold was given back (another time taken, or the booking changed otherwise).
    pub released_at: Option<Timestamp>,
}

impl ProposedTime {
    /// Whether it is still held for the visitor.
    pub fn is_live(&self) -> bool {
        self.taken_at.is_none() && self.released_at.is_none()
    }
}

/// A new signed-in owner session.
#[derive(Debug, Clone)]
pub struct NewAdminSession {
    /// SHA-256 of the session id (the id itself lives only in the owner's cookie).
    pub id_hash: TokenHash,
    /// Now.
    pub now: Timestamp,
    /// When it ends unless used again.
    pub idle_expires_at: Timestamp,
    /// When it ends however much it is used.
    pub expires_at: Timestamp,
}

/// What became of a calendar reply read from the service mailbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ReplyOutcome {
    /// The owner said yes: the request was accepted.
    Accept,
    /// The owner said no: the request was declined.
    Decline,
    /// The owner said maybe: noted in the booking's history.
    Tentative,
    /// The owner proposed another time: the visitor was asked to choose one.
    Counter,
    /// Nothing changed; the reason says why.
    Ignored,
}

impl ReplyOutcome {
    /// Every outcome.
    pub const ALL: [ReplyOutcome; 5] = [
        ReplyOutcome::Accept,
        ReplyOutcome::Decline,
        ReplyOutcome::Tentative,
        ReplyOutcome::Counter,
        ReplyOutcome::Ignored,
    ];

    /// The stable name, as in SQL and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            ReplyOutcome::Accept => "accept",
            ReplyOutcome::Decline => "decline",
            ReplyOutcome::Tentative => "tentative",
            ReplyOutcome::Counter => "counter",
            ReplyOutcome::Ignored => "ignored",
        }
    }

    /// Parses the stable name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|o| o.as_str() == s)
    }
}

/// A calendar reply as recorded: what it said and what became of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CalendarReply {
    /// The email's Message-ID (or a digest of it when it had none): read once.
    pub message_id: String,
    /// When the service read it.
    pub received_at: Timestamp,
    /// The `From:` address.
    pub sender: Option<String>,
    /// `REPLY`, `COUNTER`, … when a calendar part was read.
    pub method: Option<String>,
    /// The answering attendee's `PARTSTAT`.
    pub partstat: Option<String>,
    /// The UID it answers.
    pub ics_uid: Option<String>,
    /// The booking it named, when the UID is one of ours.
    pub booking_id: Option<Uuid>,
    /// What became of it.
    pub outcome: ReplyOutcome,
    /// Why it was ignored (a stable code), when it was.
    pub reason: Option<String>,
}

/// Who reads the service mailbox and how the last look went.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InboxStatus {
    /// The process holding the lease.
    pub holder: Uuid,
    /// Until when it holds it.
    pub expires_at: Timestamp,
    /// When the mailbox was last looked at (successfully or not).
    pub checked_at: Option<Timestamp>,
    /// The error of the last look, when it failed.
    pub last_error: Option<String>,
}

// --- The owner's calendars --------------------------------------------------------------------

/// How a calendar source is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CalendarKind {
    /// A private ICS address, fetched whole.
    Ics,
    /// A CalDAV collection, read with a time-bounded `calendar-query` REPORT.
    Caldav,
}

impl CalendarKind {
    /// The stable name.
    pub fn as_str(self) -> &'static str {
        match self {
            CalendarKind::Ics => "ics",
            CalendarKind::Caldav => "caldav",
        }
    }

    /// Parses the stable name.
    pub fn parse(s: &str) -> Option<Self> {
        [CalendarKind::Ics, CalendarKind::Caldav]
            .into_iter()
            .find(|k| k.as_str() == s)
    }
}

/// A calendar source to add.
#[derive(Debug, Clone)]
pub struct NewCalendarSource {
    /// Identity, chosen by the caller.
    pub id: Uuid,
    /// The owner's name for it.
    pub name: String,
    /// How it is read.
    pub kind: CalendarKind,
    /// The host of its address, shown instead of the address.
    pub host: String,
    /// Its address and credentials, sealed (never stored in the clear).
    pub sealed: Vec<u8>,
    /// When it was added.
    pub now: Timestamp,
}

/// A calendar source and the state of its polls.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CalendarSource {
    /// Identity.
    pub id: Uuid,
    /// The owner's name for it.
    pub name: String,
    /// How it is read.
    pub kind: CalendarKind,
    /// The host of its address.
    pub host: String,
    /// Its address and credentials, sealed.
    pub sealed: Vec<u8>,
    /// When it was added.
    pub created_at: Timestamp,
    /// When it was last polled.
    pub last_polled_at: Option<Timestamp>,
    /// When a poll last succeeded.
    pub last_success_at: Option<Timestamp>,
    /// Since when every poll has failed (none while it works).
    pub failing_since: Option<Timestamp>,
    /// The last poll's error, if it failed.
    pub last_error: Option<String>,
    /// Whether the owner was told it fails (reset when it works again).
    pub failure_notified: bool,
    /// The `ETag` of the last document read, for `If-None-Match`.
    pub etag: Option<String>,
    /// The `Last-Modified` of the last document read, for `If-Modified-Since`.
    pub last_modified: Option<String>,
    /// How many busy intervals it holds.
    pub busy_count: i64,
}

/// What a poll of a source found, recorded at once with its busy intervals and any email.
#[derive(Debug, Clone)]
pub struct CalendarPoll {
    /// When it was polled.
    pub polled_at: Timestamp,
    /// Whether it succeeded (an unchanged document counts as success).
    pub succeeded: bool,
    /// The error, if it failed.
    pub error: Option<String>,
    /// Since when it has been failing (kept from before, set at the first failure).
    pub failing_since: Option<Timestamp>,
    /// Whether the owner has been told it fails.
    pub failure_notified: bool,
    /// The validators of the document read.
    pub etag: Option<String>,
    /// See [`CalendarPoll::etag`].
    pub last_modified: Option<String>,
    /// The new busy intervals `(start, end)` replacing the old ones; `None` keeps them.
    pub busy: Option<Vec<(Timestamp, Timestamp)>>,
    /// An email to the owner this poll causes (it started failing, or recovered).
    pub email: Option<NewEmail>,
}

/// A stored busy interval of a source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoredBusy {
    /// The source it came from.
    pub source_id: Uuid,
    /// When it starts.
    pub starts_at: Timestamp,
    /// When it ends.
    pub ends_at: Timestamp,
}
