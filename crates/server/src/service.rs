//! The booking service: every rule of the flow, in one place. The JSON API, the pages and the
//! owner API all call these functions; none of them repeats a rule.

use guidance_core::intake::{Answers, RawIntake};
use guidance_core::question::check_answers;
use guidance_core::token::{self, ActionToken};
use guidance_core::{
    BookingAction, BookingStatus, Intake, IntakeErrors, Question, SlotStatus, SlotWindow, TokenHash,
};
use guidance_mail::{BookingFacts, Message, render, render_with_owner_message};
use guidance_store::{
    Actor, Booking, NewBooking, NewEmail, NewToken, Slot, SlotChange, TokenRecord, Transition,
};
use jiff::{SignedDuration, Timestamp};
use uuid::Uuid;

use crate::error::ServiceError;
use crate::owner_settings;
use crate::state::AppState;

/// Result of the service functions.
pub type ServiceResult<T> = Result<T, ServiceError>;

/// How long a visitor may take to choose a new time before the request expires.
pub const RESCHEDULE_WINDOW: SignedDuration = token::MAX_LIFETIME;

/// The open, future slots visitors may book in `[from, to)` (bounded by the booking horizon).
pub async fn open_slots(
    state: &AppState,
    from: Option<Timestamp>,
    to: Option<Timestamp>,
) -> ServiceResult<Vec<Slot>> {
    let now = Timestamp::now();
    let owner = owner_settings::load(state).await?;
    if !owner.booking_open {
        return Ok(Vec::new());
    }
    let horizon = owner.horizon(now);
    let earliest = owner.earliest_start(now);
    let from = from.map_or(earliest, |f| f.max(earliest));
    let to = to.map_or(horizon, |t| t.min(horizon));
    if to <= from {
        return Ok(Vec::new());
    }
    let slots = state
        .store
        .list_slots(from, to, Some(SlotStatus::Open))
        .await?;
    Ok(slots.into_iter().filter(|s| s.starts_at > now).collect())
}

/// Parses a slot id from a request.
pub fn parse_slot_id(raw: &str) -> ServiceResult<Uuid> {
    if raw.trim().is_empty() {
        return Err(ServiceError::field("slot_id", "empty"));
    }
    Uuid::parse_str(raw.trim()).map_err(|_| ServiceError::field("slot_id", "unknown_value"))
}

/// Parses a booking request: the slot id, every intake field, and the answers against the
/// owner's `questions`, reporting all refused fields at once (field name → reason code; a
/// refused answer is named `answers.<key>`).
pub fn parse_booking_request(
    slot_id: &str,
    raw: &RawIntake,
    questions: &[Question],
) -> Result<(Uuid, Intake), std::collections::BTreeMap<String, String>> {
    let slot_result = parse_slot_id(slot_id);
    let intake_result = Intake::parse(raw);
    let mut fields = std::collections::BTreeMap::new();
    if let Err(ServiceError::Invalid(f)) = &slot_result {
        fields.extend(f.clone());
    }
    // Answers of the right shape are held to the configured questions even when other fields
    // fail, so that the visitor learns everything at once.
    if let Ok(answers) = Answers::parse(&raw.answers) {
        fields.extend(
            check_answers(questions, &answers)
                .into_iter()
                .map(|f| (f.field, f.reason.code().to_owned())),
        );
    }
    match (slot_result, intake_result) {
        (Ok(s), Ok(i)) if fields.is_empty() => Ok((s, i)),
        (_, intake_result) => {
            if let Err(e) = intake_result {
                fields.extend(
                    e.0.into_iter()
                        .map(|f| (f.field, f.reason.code().to_owned())),
                );
            }
            Err(fields)
        }
    }
}

/// The owner's supplemental questions, in the order shown.
pub async fn questions(state: &AppState) -> ServiceResult<Vec<Question>> {
    Ok(state
        .questions_kept
        .get_or_load((), || state.store.list_questions())
        .await?)
}

/// Replaces the owner's supplemental questions with a checked list.
pub async fn replace_questions(
    state: &AppState,
    raw: &serde_json::Value,
) -> ServiceResult<Vec<Question>> {
    let list = Question::parse_list(raw).map_err(|e| ServiceError::from(IntakeErrors(e)))?;
    state
        .store
        .replace_questions(&list, Timestamp::now())
        .await?;
    state.questions_kept.invalidate();
    Ok(list)
}

/// Refuses a request whose honeypot field — `website`, present in every booking form but hidden
/// from people — was filled in: robots that fill every field give themselves away. Checked
/// before anything else, so that nothing is stored or sent for them.
pub fn refuse_honeypot(website: &str) -> ServiceResult<()> {
    if website.trim().is_empty() {
        return Ok(());
    }
    tracing::info!("booking request refused: the honeypot field was filled in");
    Err(ServiceError::SpamSuspected)
}

/// Checks the honeypot and the intake, then books (see [`book_parsed`]).
pub async fn create_booking(
    state: &AppState,
    slot_id: &str,
    raw: &RawIntake,
    website: &str,
) -> ServiceResult<Booking> {
    refuse_honeypot(website)?;
    let questions = questions(state).await?;
    let (slot_id, intake) =
        parse_booking_request(slot_id, raw, &questions).map_err(ServiceError::Invalid)?;
    book_parsed(state, slot_id, intake).await
}

/// Reserves the slot atomically and queues the owner's request and the visitor's confirmation
/// of receipt, all in one transaction. Refused when the visitor's address already has
/// `GUIDANCE_MAX_PENDING_PER_EMAIL` requests awaiting the owner.
pub async fn book_parsed(
    state: &AppState,
    slot_id: Uuid,
    intake: Intake,
) -> ServiceResult<Booking> {
    let now = Timestamp::now();
    let owner = owner_settings::load(state).await?;
    if !owner.booking_open {
        return Err(ServiceError::BookingClosed);
    }
    let slot = state.store.get_slot(slot_id).await?;
    if slot.status != SlotStatus::Open
        || slot.starts_at <= now
        || slot.starts_at < owner.earliest_start(now)
        || slot.starts_at > owner.horizon(now)
    {
        return Err(ServiceError::SlotTaken);
    }
    let window = SlotWindow::parse(slot.starts_at, slot.ends_at)
        .map_err(|e| ServiceError::Internal(e.to_string()))?;
    let booking_id = Uuid::new_v4();
    let ics_uid = format!("{}@guidance", Uuid::new_v4());
    let facts = BookingFacts {
        booking_id,
        ics_uid: ics_uid.clone(),
        ics_sequence: 0,
        name: intake.name.as_str().to_owned(),
        email: intake.email.as_str().to_owned(),
        topic: intake.topic.as_str().to_owned(),
        priority: intake.priority,
        answers: intake.answers.clone(),
        locale: intake.locale.as_str().to_owned(),
        time_zone: intake.time_zone.as_str().to_owned(),
        starts_at: slot.starts_at,
        ends_at: slot.ends_at,
        status_url: Some(status_url(state, booking_id)),
    };
    let ctx = state.mail_context_for(&owner);
    let (status, tokens, emails) = if owner.confirm_email {
        // The owner hears of the request only once the visitor has confirmed their address
        // with the link sent to it; until then the request holds its slot, but not for long.
        let hold_until = confirm_hold_end(state, now, slot.starts_at);
        let (confirm, confirm_url) = new_token(state, BookingAction::Confirm, hold_until);
        let message = Message::RequesterConfirm {
            confirm_url,
            hold_until,
        };
        (
            BookingStatus::Unconfirmed,
            vec![confirm],
            vec![email(render(&message, &facts, &ctx, now))],
        )
    } else {
        let (tokens, links) = owner_tokens(state, token::expiry(now, Some(slot.starts_at)));
        let emails = vec![
            email(render(&links.new_request_message(), &facts, &ctx, now)),
            email(render(&Message::RequesterReceived, &facts, &ctx, now)),
        ];
        (BookingStatus::Pending, tokens, emails)
    };
    let booking = state
        .store
        .create_booking(NewBooking {
            id: booking_id,
            slot_id,
            window,
            intake,
            status,
            ics_uid,
            tokens,
            emails,
            pending_limit: pending_limit(state),
            now,
        })
        .await?;
    state.outbox_wake.notify_one();
    tracing::info!(booking = %booking.id, slot = %slot_id, status = %booking.status, "booking requested");
    Ok(booking)
}

/// When an unconfirmed request made at `now` stops holding its slot: after
/// `GUIDANCE_CONFIRM_HOLD_MINUTES`, or when the session starts if that is sooner. Its confirm
/// link expires then too.
fn confirm_hold_end(state: &AppState, now: Timestamp, session_start: Timestamp) -> Timestamp {
    let hold = SignedDuration::from_mins(i64::from(state.settings.config.confirm_hold_minutes));
    now.checked_add(hold)
        .map_or(session_start, |end| end.min(session_start))
}

/// How many requests of one address may await the owner at once (`None`: no limit).
fn pending_limit(state: &AppState) -> Option<u32> {
    Some(state.settings.config.max_pending_per_email).filter(|n| *n > 0)
}

/// The owner's three links for a pending request.
struct OwnerLinks {
    accept: String,
    decline: String,
    reschedule: String,
}

impl OwnerLinks {
    fn new_request_message(&self) -> Message {
        Message::OwnerNewRequest {
            accept_url: self.accept.clone(),
            decline_url: self.decline.clone(),
            reschedule_url: self.reschedule.clone(),
        }
    }
}

fn owner_tokens(state: &AppState, expires_at: Timestamp) -> (Vec<NewToken>, OwnerLinks) {
    let mut tokens = Vec::new();
    let mut link = |action| {
        let (t, url) = new_token(state, action, expires_at);
        tokens.push(t);
        url
    };
    let links = OwnerLinks {
        accept: link(BookingAction::Accept),
        decline: link(BookingAction::Decline),
        reschedule: link(BookingAction::Reschedule),
    };
    (tokens, links)
}

fn new_token(state: &AppState, action: BookingAction, expires_at: Timestamp) -> (NewToken, String) {
    let t = ActionToken::generate(&state.secret);
    let url = format!("{}/a/{}", state.settings.public_url, t.expose());
    (
        NewToken {
            action,
            hash: t.hash(),
            expires_at,
        },
        url,
    )
}

fn email(r: guidance_mail::Rendered) -> NewEmail {
    NewEmail {
        kind: r.kind.to_owned(),
        recipient: r.recipient,
        subject: r.subject,
        message_id: r.message_id,
        message: r.bytes,
    }
}

/// A checked link: the token's record and the booking it acts on, valid right now.
#[derive(Debug, Clone)]
pub struct CheckedToken {
    /// The stored record.
    pub record: TokenRecord,
    /// The booking as it stands.
    pub booking: Booking,
    /// The hash to consume when the action is carried out.
    pub hash: TokenHash,
}

/// Checks a link without changing anything (a GET, which mail scanners also make).
pub async fn check_token(state: &AppState, presented: &str) -> ServiceResult<CheckedToken> {
    let token =
        ActionToken::verify(&state.secret, presented).map_err(|_| ServiceError::TokenInvalid)?;
    let hash = token.hash();
    let record = state
        .store
        .find_token(&hash)
        .await?
        .ok_or(ServiceError::TokenInvalid)?;
    if record.used_at.is_some() {
        return Err(ServiceError::TokenUsed);
    }
    if record.expires_at <= Timestamp::now() {
        return Err(ServiceError::TokenExpired);
    }
    let booking = state.store.get_booking(record.booking_id).await?;
    if booking.version != record.booking_version || record.action.apply(booking.status).is_err() {
        return Err(ServiceError::TokenOutdated);
    }
    Ok(CheckedToken {
        record,
        booking,
        hash,
    })
}

/// Carries out what a link says. `action`, when given, must be the link's own action;
/// `slot_id` is required for choosing a new time.
pub async fn use_token(
    state: &AppState,
    presented: &str,
    action: Option<BookingAction>,
    slot_id: Option<&str>,
) -> ServiceResult<Booking> {
    let checked = check_token(state, presented).await?;
    if action.is_some_and(|a| a != checked.record.action) {
        return Err(ServiceError::WrongAction);
    }
    let new_slot = match checked.record.action {
        BookingAction::PickSlot => {
            let id = parse_slot_id(slot_id.unwrap_or_default())?;
            let slot = state.store.get_slot(id).await.map_err(|e| match e {
                guidance_store::StoreError::NotFound => {
                    ServiceError::field("slot_id", "unknown_value")
                }
                other => other.into(),
            })?;
            Some(slot)
        }
        _ => None,
    };
    let actor = match checked.record.action {
        BookingAction::PickSlot | BookingAction::Confirm => Actor::Requester,
        _ => Actor::Owner,
    };
    apply(
        state,
        checked.booking,
        checked.record.action,
        actor,
        Some(checked.hash),
        new_slot,
        None,
    )
    .await
}

/// The owner acts on a booking from the owner API or the admin UI; `note` goes into the audit
/// trail and, quoted, into the emails the requester gets.
pub async fn owner_action(
    state: &AppState,
    booking_id: Uuid,
    action: BookingAction,
    note: Option<String>,
) -> ServiceResult<Booking> {
    // Only the visitor picks a new time or confirms their address; only time expires.
    if matches!(
        action,
        BookingAction::PickSlot | BookingAction::Expire | BookingAction::Confirm
    ) {
        return Err(ServiceError::NotFound);
    }
    let booking = state.store.get_booking(booking_id).await?;
    apply(state, booking, action, Actor::Owner, None, None, note).await
}

/// The visitor's own page for a booking (status, cancel, a new time when asked), as a full URL.
pub fn status_url(state: &AppState, booking_id: Uuid) -> String {
    format!(
        "{}{}",
        state.settings.public_url,
        crate::visitor_link::path(&state.secret, booking_id)
    )
}

/// The visitor calls their booking off from their own page.
pub async fn requester_cancel(state: &AppState, booking_id: Uuid) -> ServiceResult<Booking> {
    let booking = state.store.get_booking(booking_id).await?;
    apply(
        state,
        booking,
        BookingAction::Cancel,
        Actor::Requester,
        None,
        None,
        None,
    )
    .await
}

/// The visitor, asked for another time, picks a new slot from their own page.
pub async fn requester_pick(
    state: &AppState,
    booking_id: Uuid,
    slot_id: &str,
) -> ServiceResult<Booking> {
    let booking = state.store.get_booking(booking_id).await?;
    let id = parse_slot_id(slot_id)?;
    let slot = state.store.get_slot(id).await.map_err(|e| match e {
        guidance_store::StoreError::NotFound => ServiceError::field("slot_id", "unknown_value"),
        other => other.into(),
    })?;
    apply(
        state,
        booking,
        BookingAction::PickSlot,
        Actor::Requester,
        None,
        Some(slot),
        None,
    )
    .await
}

/// Moves a booking and queues the emails the move causes, atomically.
async fn apply(
    state: &AppState,
    booking: Booking,
    action: BookingAction,
    actor: Actor,
    consume_token: Option<TokenHash>,
    new_slot: Option<Slot>,
    note: Option<String>,
) -> ServiceResult<Booking> {
    let to = action
        .apply(booking.status)
        .map_err(|_| ServiceError::InvalidTransition)?;
    // The change's time is also its emails' DTSTAMP, which must move on from the last change's.
    let now = calendar_stamp(Timestamp::now(), booking.updated_at);
    // Confirming sends the very first calendar message of the booking (nothing reached any
    // calendar while it was unconfirmed), so it keeps SEQUENCE 0, as a request made without
    // confirmation does.
    let sequence = if action == BookingAction::Confirm {
        booking.ics_sequence
    } else {
        booking.ics_sequence + 1
    };
    let (starts_at, ends_at) = match &new_slot {
        Some(s) => {
            if s.status != SlotStatus::Open || s.starts_at <= now {
                return Err(ServiceError::SlotTaken);
            }
            (s.starts_at, s.ends_at)
        }
        None => (booking.starts_at, booking.ends_at),
    };
    let facts = BookingFacts {
        booking_id: booking.id,
        ics_uid: booking.ics_uid.clone(),
        ics_sequence: u32::try_from(sequence).unwrap_or(u32::MAX),
        name: booking.name.clone(),
        email: booking.email.clone(),
        topic: booking.topic.clone(),
        priority: booking.priority,
        answers: booking.parsed_answers(),
        locale: booking.locale.clone(),
        time_zone: booking.time_zone.clone(),
        starts_at,
        ends_at,
        status_url: Some(status_url(state, booking.id)),
    };
    let ctx = state.mail_context_for(&owner_settings::load(state).await?);
    let mut tokens = Vec::new();
    let mut messages = Vec::new();
    // The owner's calendar holds an entry while the booking holds its slot; take it out whenever
    // the booking stops holding it.
    let owner_had_entry = booking.status.in_owner_calendar();
    match (action, to) {
        (BookingAction::Accept, _) => {
            messages.push(Message::RequesterAccepted);
            // The owner's tentative entry becomes a confirmed one (same UID, SEQUENCE up).
            messages.push(Message::OwnerAccepted);
        }
        (BookingAction::Decline, _) => messages.push(Message::RequesterDeclined),
        (BookingAction::Reschedule, _) => {
            let (t, url) = new_token(state, BookingAction::PickSlot, token::expiry(now, None));
            tokens.push(t);
            messages.push(Message::RequesterPickNewTime {
                pick_url: url,
                had_invite: booking.status == BookingStatus::Accepted,
            });
        }
        // A new time, or a confirmed request: the owner hears of it now.
        (BookingAction::PickSlot | BookingAction::Confirm, _) => {
            let (owner, links) = owner_tokens(state, token::expiry(now, Some(starts_at)));
            tokens.extend(owner);
            messages.push(links.new_request_message());
            messages.push(Message::RequesterReceived);
        }
        (BookingAction::Cancel, _) => messages.push(Message::RequesterCancelled {
            had_invite: booking.status == BookingStatus::Accepted,
            by_requester: actor == Actor::Requester,
        }),
        (BookingAction::Expire, _) => {}
    }
    if owner_had_entry && !to.in_owner_calendar() {
        messages.push(Message::OwnerCalendarCancel);
    }
    // The owner's note reaches the requester in the emails this move sends them.
    let emails = messages
        .iter()
        .map(|m| {
            email(render_with_owner_message(
                m,
                &facts,
                &ctx,
                now,
                note.as_deref(),
            ))
        })
        .collect();
    let new_slot = match new_slot {
        Some(s) => Some(SlotChange {
            slot_id: s.id,
            window: SlotWindow::parse(s.starts_at, s.ends_at)
                .map_err(|e| ServiceError::Internal(e.to_string()))?,
        }),
        None => None,
    };
    let moved = state
        .store
        .transition(Transition {
            booking_id: booking.id,
            expected_version: booking.version,
            from: booking.status,
            action,
            to,
            actor,
            note,
            consume_token,
            new_slot,
            ics_sequence: sequence,
            tokens,
            emails,
            now,
        })
        .await?;
    state.outbox_wake.notify_one();
    tracing::info!(booking = %moved.id, from = %booking.status, to = %moved.status, "booking moved");
    Ok(moved)
}

/// The time of a change made at `now` to a booking last changed at `last_change`, which is also
/// the `DTSTAMP` (and `Date:`) of its emails: at least the next whole second after the last
/// change, because calendars (Proton among them) ignore an update whose whole-second DTSTAMP did
/// not move, and two changes can fall into the same second.
fn calendar_stamp(now: Timestamp, last_change: Timestamp) -> Timestamp {
    let next_second = Timestamp::from_second(last_change.as_second().saturating_add(1));
    next_second.map_or(now, |n| now.max(n))
}

/// Queues an email of a booking again — the owner's "resend" — with the same bytes and
/// Message-ID, due now and with a fresh attempt budget.
pub async fn resend_email(
    state: &AppState,
    booking_id: Uuid,
    email_id: Uuid,
) -> ServiceResult<guidance_store::OutboxMessage> {
    let msg = state
        .store
        .requeue_email(booking_id, email_id, Timestamp::now())
        .await?;
    state.outbox_wake.notify_one();
    tracing::info!(booking = %booking_id, email = %email_id, kind = %msg.kind, "email queued again");
    Ok(msg)
}

/// Expires pending requests whose session has started, reschedule requests nobody answered
/// within [`RESCHEDULE_WINDOW`], and unconfirmed requests whose hold ended (which frees their
/// slots). Returns how many expired.
pub async fn expire_overdue(state: &AppState) -> ServiceResult<usize> {
    let now = Timestamp::now();
    let deadline = now
        .checked_sub(RESCHEDULE_WINDOW)
        .map_err(|e| ServiceError::Internal(e.to_string()))?;
    let mut n = 0;
    for booking in state.store.list_overdue(now, deadline).await? {
        match apply(
            state,
            booking,
            BookingAction::Expire,
            Actor::System,
            None,
            None,
            None,
        )
        .await
        {
            Ok(_) => n += 1,
            // Someone acted on it at the same moment: nothing to expire.
            Err(ServiceError::Conflict | ServiceError::InvalidTransition) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

// --- The owner's slots, bookings and emails (owner API and admin UI) -------------------------

/// Checks a slot window typed by the owner, naming the refused field.
pub fn parse_slot_window(
    starts_at: Option<Timestamp>,
    ends_at: Option<Timestamp>,
) -> ServiceResult<SlotWindow> {
    let mut fields = std::collections::BTreeMap::new();
    if starts_at.is_none() {
        fields.insert("starts_at".to_owned(), "empty".to_owned());
    }
    if ends_at.is_none() {
        fields.insert("ends_at".to_owned(), "empty".to_owned());
    }
    let (Some(starts_at), Some(ends_at)) = (starts_at, ends_at) else {
        return Err(ServiceError::Invalid(fields));
    };
    SlotWindow::parse(starts_at, ends_at).map_err(|e| {
        let reason = match e {
            guidance_core::slot::SlotWindowError::EndsBeforeStart => "ends_before_start",
            guidance_core::slot::SlotWindowError::BadLength => "bad_length",
            guidance_core::slot::SlotWindowError::OutOfRange => "out_of_range",
        };
        ServiceError::field("ends_at", reason)
    })
}

/// Longest private meeting details of a slot, in characters.
pub const MEETING_DETAILS_MAX: usize = 2000;

/// Trims meeting details; blank is none.
pub fn parse_meeting_details(raw: Option<&str>) -> ServiceResult<Option<String>> {
    let details = raw.map(str::trim).filter(|d| !d.is_empty());
    if details.is_some_and(|d| d.chars().count() > MEETING_DETAILS_MAX) {
        return Err(ServiceError::field("meeting_details", "too_long"));
    }
    Ok(details.map(str::to_owned))
}

/// Offers one new slot. It must start in the future and overlap no live slot.
pub async fn create_slot(
    state: &AppState,
    window: SlotWindow,
    meeting_details: Option<String>,
) -> ServiceResult<Slot> {
    let now = Timestamp::now();
    if window.starts_at() <= now {
        return Err(ServiceError::field("starts_at", "in_the_past"));
    }
    let slot = state
        .store
        .create_slot(window, meeting_details, now)
        .await?;
    tracing::info!(slot = %slot.id, "slot created");
    Ok(slot)
}

/// Moves a slot or changes its meeting details; a booked slot refuses.
pub async fn update_slot(
    state: &AppState,
    id: Uuid,
    window: SlotWindow,
    meeting_details: Option<String>,
) -> ServiceResult<Slot> {
    let now = Timestamp::now();
    let current = state.store.get_slot(id).await?;
    if window.starts_at() <= now && window.starts_at() != current.starts_at {
        return Err(ServiceError::field("starts_at", "in_the_past"));
    }
    Ok(state
        .store
        .update_slot(id, window, meeting_details, now)
        .await?)
}

/// Withdraws an open slot or offers an unavailable one again; a booked slot refuses.
pub async fn set_slot_available(
    state: &AppState,
    id: Uuid,
    available: bool,
) -> ServiceResult<Slot> {
    Ok(state
        .store
        .set_slot_available(id, available, Timestamp::now())
        .await?)
}

/// Removes a slot no live booking holds.
pub async fn delete_slot(state: &AppState, id: Uuid) -> ServiceResult<()> {
    state.store.delete_slot(id).await?;
    tracing::info!(slot = %id, "slot deleted");
    Ok(())
}

/// What the owner can do to several slots at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SlotBulkAction {
    /// Withdraw them.
    MakeUnavailable,
    /// Offer them again.
    MakeAvailable,
    /// Remove them.
    Delete,
}

impl SlotBulkAction {
    /// Parses the stable name used in forms.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "unavailable" => Some(Self::MakeUnavailable),
            "available" => Some(Self::MakeAvailable),
            "delete" => Some(Self::Delete),
            _ => None,
        }
    }
}

/// What became of a bulk action: how many slots it changed and each refusal.
#[derive(Debug, Default)]
pub struct BulkReport {
    /// Slots changed.
    pub done: usize,
    /// Slots left as they were, with the reason.
    pub refused: Vec<(Uuid, ServiceError)>,
}

/// Applies one action to each slot in turn; one refusal does not stop the others.
pub async fn slots_bulk(
    state: &AppState,
    ids: &[Uuid],
    action: SlotBulkAction,
) -> ServiceResult<BulkReport> {
    let mut report = BulkReport::default();
    for &id in ids {
        let result = match action {
            SlotBulkAction::MakeUnavailable => set_slot_available(state, id, false).await.map(drop),
            SlotBulkAction::MakeAvailable => set_slot_available(state, id, true).await.map(drop),
            SlotBulkAction::Delete => delete_slot(state, id).await,
        };
        match result {
            Ok(()) => report.done += 1,
            Err(e @ (ServiceError::Internal(_) | ServiceError::Unavailable(_))) => return Err(e),
            Err(e) => report.refused.push((id, e)),
        }
    }
    Ok(report)
}

/// Why a session of a pattern was not created.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SkippedBecause {
    /// It overlaps a slot that exists already.
    Overlap,
    /// It starts in the past.
    Past,
    /// The local time does not exist that day, or lies outside the supported years.
    Pattern(guidance_core::pattern::SkipReason),
}

impl SkippedBecause {
    /// The stable code (a locale key suffix).
    pub fn code(self) -> &'static str {
        match self {
            SkippedBecause::Overlap => "overlap",
            SkippedBecause::Past => "past",
            SkippedBecause::Pattern(r) => r.code(),
        }
    }
}

/// What a pattern produced.
#[derive(Debug, Default)]
pub struct GenerateReport {
    /// The slots created, in time order.
    pub created: Vec<Slot>,
    /// The sessions not created: local day, local start time and why.
    pub skipped: Vec<(jiff::civil::Date, jiff::civil::Time, SkippedBecause)>,
}

/// Creates the slots of a weekly pattern in the owner's time zone, skipping (and reporting)
/// every session that overlaps an existing slot, lies in the past or does not exist locally.
pub async fn generate_slots(
    state: &AppState,
    raw: &guidance_core::pattern::RawPattern,
) -> ServiceResult<GenerateReport> {
    let owner = owner_settings::load(state).await?;
    let pattern = guidance_core::pattern::WeeklyPattern::parse(raw, owner.time_zone.zone())
        .map_err(|e| ServiceError::Invalid(e.0))?;
    let now = Timestamp::now();
    let mut report = GenerateReport::default();
    for session in pattern.plan() {
        let skip = |why| (session.date, session.time, why);
        let window = match session.outcome {
            Ok(w) => w,
            Err(reason) => {
                report.skipped.push(skip(SkippedBecause::Pattern(reason)));
                continue;
            }
        };
        if window.starts_at() <= now {
            report.skipped.push(skip(SkippedBecause::Past));
            continue;
        }
        match state.store.create_slot(window, None, now).await {
            Ok(slot) => report.created.push(slot),
            Err(guidance_store::StoreError::SlotOverlap) => {
                report.skipped.push(skip(SkippedBecause::Overlap));
            }
            Err(e) => return Err(e.into()),
        }
    }
    tracing::info!(
        created = report.created.len(),
        skipped = report.skipped.len(),
        "slots generated from a pattern"
    );
    Ok(report)
}

/// Bookings of one status (or all, in the owner's order: pending first, then accepted, needs
/// reschedule, unconfirmed, declined, cancelled, expired; by session time within each), whose requester name,
/// email or topic contains `query` (ignoring case).
pub async fn find_bookings(
    state: &AppState,
    status: Option<BookingStatus>,
    query: &str,
) -> ServiceResult<Vec<Booking>> {
    let needle = query.trim().to_lowercase();
    let mut bookings: Vec<Booking> = state
        .store
        .list_bookings(status)
        .await?
        .into_iter()
        .filter(|b| {
            needle.is_empty()
                || b.name.to_lowercase().contains(&needle)
                || b.email.to_lowercase().contains(&needle)
                || b.topic.to_lowercase().contains(&needle)
        })
        .collect();
    let rank = |s: BookingStatus| BookingStatus::ALL.iter().position(|x| *x == s);
    bookings.sort_by_key(|b| (rank(b.status), b.starts_at, b.created_at));
    Ok(bookings)
}

/// Withdraws the slot a booking holds or held, so that nobody can book that time again.
pub async fn make_booking_slot_unavailable(
    state: &AppState,
    booking_id: Uuid,
) -> ServiceResult<Slot> {
    let booking = state.store.get_booking(booking_id).await?;
    let slot_id = booking.slot_id.ok_or(ServiceError::NotFound)?;
    set_slot_available(state, slot_id, false).await
}

#[cfg(test)]
mod tests {
    use super::calendar_stamp;
    use jiff::Timestamp;

    #[test]
    fn a_change_is_stamped_after_the_last_one_even_within_the_same_second() {
        let t = |s: &str| s.parse::<Timestamp>().unwrap();
        let last = t("2030-01-01T10:00:00.200Z");
        assert_eq!(
            calendar_stamp(t("2030-01-01T10:00:00.500Z"), last),
            t("2030-01-01T10:00:01Z")
        );
        assert_eq!(
            calendar_stamp(t("2030-01-01T10:05:00.500Z"), last),
            t("2030-01-01T10:05:00.500Z")
        );
    }
}
