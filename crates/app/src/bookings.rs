//! Bookings: a visitor's request, the owner's actions, the visitor's cancel and new time,
//! expiry, and the owner's view of them (the emailed links are `links`'s). The JSON API, the pages
//! and the owner API all call these functions; none of them repeats a rule.

use guidance_core::effects::{self, Notice};
use guidance_core::idempotency::{self, Keyed};
use guidance_core::intake::{Answers, RawIntake};
use guidance_core::question::check_answers;
use guidance_core::token;
use guidance_core::{
    BookingAction, BookingStatus, FieldErrors, FieldReason, Intake, OwnerSettings, Question,
    SlotStatus, SlotWindow, TokenHash,
};
use guidance_mail::{BookingFacts, Message, render, render_with_owner_message};
use guidance_store::{
    Actor, Booking, KeepAnswer, NewBooking, NewEmail, Slot, SlotChange, Transition,
};
use jiff::{SignedDuration, Timestamp};
use uuid::Uuid;

use crate::outbox::handoff;
use crate::outgoing::{new_token, owner_tokens, queued_email};
use crate::reminders;
use crate::settings as owner_settings;
use crate::{App, AppError, AppResult};

/// How long a visitor may take to choose a new time before the request expires.
pub const RESCHEDULE_WINDOW: SignedDuration = token::MAX_LIFETIME;

/// Parses a slot id from a request.
pub fn parse_slot_id(raw: &str) -> AppResult<Uuid> {
    if raw.trim().is_empty() {
        return Err(AppError::field("slot_id", FieldReason::Empty));
    }
    Uuid::parse_str(raw.trim()).map_err(|_| AppError::field("slot_id", FieldReason::UnknownValue))
}

/// The time a visitor saw for the slot they ask for, as their page sends it beside the slot's
/// id (the element does): both ends or neither.
#[derive(Debug, Clone, Copy, Default)]
pub struct SeenTime {
    /// The start shown.
    pub starts_at: Option<Timestamp>,
    /// The end shown.
    pub ends_at: Option<Timestamp>,
}

impl SeenTime {
    /// The window shown, if any; refused (naming the field) when only one end is given or the
    /// two make no slot.
    fn parse(self) -> AppResult<Option<SlotWindow>> {
        if self.starts_at.is_none() && self.ends_at.is_none() {
            return Ok(None);
        }
        crate::slots::parse_slot_window(self.starts_at, self.ends_at).map(Some)
    }
}

/// A booking request as read: the slot, the time the visitor saw (if sent) and the intake.
type ParsedRequest = (Uuid, Option<SlotWindow>, Intake);

/// Parses a booking request: the slot id and the time seen, every intake field, and the
/// answers against the owner's `questions`, reporting all refused fields at once (a refused
/// answer is named `answers.<key>`).
fn parse_booking_request(
    slot_id: &str,
    seen: SeenTime,
    raw: &RawIntake,
    questions: &[Question],
) -> Result<ParsedRequest, FieldErrors> {
    let slot_result = parse_slot_id(slot_id);
    let seen_result = seen.parse();
    let intake_result = Intake::parse(raw);
    let mut fields = FieldErrors::new();
    for refused in [slot_result.as_ref().err(), seen_result.as_ref().err()] {
        if let Some(AppError::Invalid(f)) = refused {
            fields.merge(f.clone());
        }
    }
    // Answers of the right shape are held to the configured questions even when other fields
    // fail, so that the visitor learns everything at once.
    if let Ok(answers) = Answers::parse(&raw.answers) {
        fields.merge(check_answers(questions, &answers));
    }
    match (slot_result, seen_result, intake_result) {
        (Ok(s), Ok(w), Ok(i)) if fields.is_empty() => Ok((s, w, i)),
        (_, _, intake_result) => {
            if let Err(e) = intake_result {
                fields.merge(e);
            }
            Err(fields)
        }
    }
}

/// Refuses a request whose honeypot field — `website`, present in every booking form but hidden
/// from people — was filled in: robots that fill every field give themselves away. Checked
/// before anything else, so that nothing is stored or sent for them.
fn refuse_honeypot(website: &str) -> AppResult<()> {
    if website.trim().is_empty() {
        return Ok(());
    }
    tracing::info!("booking request refused: the honeypot field was filled in");
    Err(AppError::SpamSuspected)
}

/// Checks the honeypot and the intake, then books (see [`book_parsed`]). `unread` holds the
/// fields the caller could not even read (a number where text belongs): they are refused together
/// with every field the intake refuses, so that the visitor learns everything at once.
///
/// A request `keyed` with an idempotency key that was answered before with the same body gets
/// that answer (the booking as it was shown then) instead of a refusal its first sending caused.
pub async fn create_booking(
    app: &App,
    slot_id: &str,
    seen: SeenTime,
    raw: &RawIntake,
    website: &str,
    unread: FieldErrors,
    keyed: Option<&Keyed>,
) -> AppResult<Booking> {
    let booked = async {
        refuse_honeypot(website)?;
        let questions = crate::questions::questions(app).await?;
        match parse_booking_request(slot_id, seen, raw, &questions) {
            Ok((slot_id, seen, intake)) if unread.is_empty() => {
                book_parsed(app, slot_id, seen, intake, keyed).await
            }
            Ok(_) => Err(AppError::Invalid(unread)),
            Err(mut fields) => {
                fields.merge(unread);
                Err(AppError::Invalid(fields))
            }
        }
    }
    .await;
    answered_before(app, keyed, booked).await
}

/// What a request `keyed` with an idempotency key gets: its own `result` when that succeeded
/// or failed for want of a database; otherwise (a refusal, which its own first sending may have
/// caused: the slot it took, the link it used) the answer kept for the key if the key was kept
/// with the same body, [`AppError::IdempotencyKeyReused`] if with another, or the refusal.
pub(crate) async fn answered_before(
    app: &App,
    keyed: Option<&Keyed>,
    result: AppResult<Booking>,
) -> AppResult<Booking> {
    let (Some(keyed), Err(refusal)) = (keyed, &result) else {
        return result;
    };
    if refusal.is_failure() {
        return result;
    }
    match app
        .store
        .kept_answer(keyed.scope, &keyed.key, app.now())
        .await?
    {
        Some(kept) if kept.request_hash == keyed.request_hash => {
            tracing::info!(booking = %kept.booking.id, "request sent again: its first answer given again");
            Ok(kept.booking)
        }
        Some(_) => Err(AppError::IdempotencyKeyReused),
        None => result,
    }
}

/// The key of a request, to keep with the answer of the change it makes.
pub(crate) fn keep_answer(app: &App, keyed: Option<&Keyed>) -> Option<KeepAnswer> {
    keyed.map(|keyed| KeepAnswer {
        keyed: keyed.clone(),
        expires_at: app
            .now()
            .checked_add(idempotency::LIFETIME)
            .unwrap_or(Timestamp::MAX),
    })
}

/// Reserves the slot atomically and queues the owner's request and the visitor's confirmation
/// of receipt, all in one transaction. Refused when the visitor's address already has
/// `GUIDANCE_MAX_PENDING_PER_EMAIL` requests awaiting the owner.
///
/// The time the visitor saw, when their page sent it, is the one they get: the emails are
/// rendered with it without reading the slot first (one transaction a booking instead of two),
/// and the slot is claimed only if it is still open at that very time (`reserve_slot`),
/// refused as taken otherwise. Without it, the slot is read first.
async fn book_parsed(
    app: &App,
    slot_id: Uuid,
    seen: Option<SlotWindow>,
    intake: Intake,
    keyed: Option<&Keyed>,
) -> AppResult<Booking> {
    let now = app.now();
    let owner = owner_settings::load(app).await?;
    let (status, window) = match seen {
        Some(window) => (SlotStatus::Open, window),
        None => {
            let slot = app.store.get_slot(slot_id).await?;
            (slot.status, window_of(&slot)?)
        }
    };
    check_bookable(app, &owner, status, window, now).await?;
    let booking_id = guidance_core::ids::new_row_id();
    let ics_uid = format!("{}@guidance", guidance_core::ids::new_row_id());
    let facts = BookingFacts::of_request(
        booking_id,
        &ics_uid,
        &intake,
        &window,
        Some(status_url(app, booking_id)),
    );
    let ctx = app.mail_context_for(&owner);
    let (status, tokens, mut emails, answer_by, answer_reminder_at) = if owner.confirm_email {
        // The owner hears of the request only once the visitor has confirmed their address
        // with the link sent to it; until then the request holds its slot, but not for long.
        let hold_until = confirm_hold_end(app, now, window.starts_at());
        let (confirm, confirm_url) = new_token(app, BookingAction::Confirm, hold_until);
        let message = Message::RequesterConfirm {
            confirm_url,
            hold_until,
        };
        (
            BookingStatus::Unconfirmed,
            vec![confirm],
            vec![queued_email(app, render(&message, &facts, &ctx, now))],
            None,
            None,
        )
    } else {
        let (tokens, links) = owner_tokens(app, token::expiry(now, Some(window.starts_at())));
        let answer_by = reminders::answer_by(&owner, now, window.starts_at());
        let emails = vec![
            queued_email(app, render(&links.new_request_message(), &facts, &ctx, now)),
            queued_email(app, render(&Message::RequesterReceived, &facts, &ctx, now)),
        ];
        (
            BookingStatus::Pending,
            tokens,
            emails,
            Some(answer_by),
            reminders::answer_reminder_at(&owner, now, answer_by),
        )
    };
    let webhook = crate::webhooks::of_request(status, booking_id, &intake, &window, now);
    let after_commit = handoff::lease_due(app, &mut emails, Some(booking_id));
    let new = NewBooking {
        id: booking_id,
        slot_id,
        window,
        intake,
        status,
        ics_uid,
        tokens,
        emails,
        webhook,
        answer_by,
        answer_reminder_at,
        pending_limit: pending_limit(app),
        keep_answer: keep_answer(app, keyed),
        after_commit,
        now,
    };
    let booking = app.store.create_booking(new).await?;
    app.outbox_wake.notify_one();
    app.metrics.booking_created();
    tracing::info!(booking = %booking.id, slot = %slot_id, status = %booking.status, "booking requested");
    Ok(booking)
}

/// Whether a visitor may take a slot (its `status` and `window`) at `now`: booking is open
/// ([`AppError::BookingClosed`] if not), and the slot is open, after the owner's minimum notice
/// and within their horizon ([`AppError::SlotTaken`] if not). The one rule for a new booking
/// and for a new time chosen from the visitor's link. A time the owner's own calendar has
/// filled (or one a failing calendar covers, see `calendars::hidden_by`) is taken too.
async fn check_bookable(
    app: &App,
    owner: &OwnerSettings,
    status: SlotStatus,
    window: SlotWindow,
    now: Timestamp,
) -> AppResult<()> {
    if !owner.booking_open {
        return Err(AppError::BookingClosed);
    }
    let (starts_at, ends_at) = (window.starts_at(), window.ends_at());
    if status != SlotStatus::Open
        || starts_at <= now
        || starts_at < owner.earliest_start(now)
        || starts_at > owner.horizon(now)
        || crate::calendars::hidden_by(app, owner, starts_at, ends_at)
            .await?
            .is_some()
    {
        return Err(AppError::SlotTaken);
    }
    Ok(())
}

/// A stored slot's window (the store keeps only valid ones).
fn window_of(slot: &Slot) -> AppResult<SlotWindow> {
    SlotWindow::parse(slot.starts_at, slot.ends_at).map_err(|e| AppError::Internal(e.to_string()))
}

/// When an unconfirmed request made at `now` stops holding its slot: after
/// `GUIDANCE_CONFIRM_HOLD_MINUTES`, or when the session starts if that is sooner. Its confirm
/// link expires then too.
fn confirm_hold_end(app: &App, now: Timestamp, session_start: Timestamp) -> Timestamp {
    let hold = SignedDuration::from_mins(i64::from(app.settings.config.confirm_hold_minutes));
    now.checked_add(hold)
        .map_or(session_start, |end| end.min(session_start))
}

/// How many requests of one address may await the owner at once (`None`: no limit).
fn pending_limit(app: &App) -> Option<u32> {
    Some(app.settings.config.max_pending_per_email).filter(|n| *n > 0)
}

/// The owner acts on a booking from the owner API or the admin UI. Their `message`, when not
/// blank, goes into the audit trail and, quoted, into the emails the requester gets.
pub async fn owner_action(
    app: &App,
    booking_id: Uuid,
    action: BookingAction,
    message: Option<&str>,
) -> AppResult<Booking> {
    owner_move(app, booking_id, action, message, Vec::new()).await
}

/// [`owner_action`], with the slots a reschedule proposes (checked by the caller: see
/// `proposals::owner_reschedule`).
pub(crate) async fn owner_move(
    app: &App,
    booking_id: Uuid,
    action: BookingAction,
    message: Option<&str>,
    proposals: Vec<Slot>,
) -> AppResult<Booking> {
    if !action.by_owner() {
        return Err(AppError::NotFound);
    }
    let note = owner_note(message)?;
    let booking = app.store.get_booking(booking_id).await?;
    let owner_move = Move {
        proposals,
        ..Move::plain(action, Actor::Owner, note)
    };
    apply(app, booking, owner_move).await
}

/// The owner's `message` for the audit trail and the requester's emails: trimmed, none when
/// blank, refused when longer than the owner may write.
pub(crate) fn owner_note(message: Option<&str>) -> AppResult<Option<String>> {
    let note = message.map(str::trim).filter(|m| !m.is_empty());
    if note.is_some_and(|m| m.chars().count() > guidance_core::booking::OWNER_MESSAGE_MAX) {
        return Err(AppError::field("message", FieldReason::TooLong));
    }
    Ok(note.map(str::to_owned))
}

/// The slot a visitor chose as their new time (`slot_id` of the form or body).
pub(crate) async fn chosen_slot(app: &App, raw: &str) -> AppResult<Slot> {
    let id = parse_slot_id(raw)?;
    app.store.get_slot(id).await.map_err(|e| match e {
        guidance_store::StoreError::NotFound => {
            AppError::field("slot_id", FieldReason::UnknownValue)
        }
        other => other.into(),
    })
}

/// The visitor's own page for a booking (status, cancel, a new time when asked), as a full URL.
pub fn status_url(app: &App, booking_id: Uuid) -> String {
    format!(
        "{}{}",
        app.settings.public_url,
        crate::visitor_link::path(&app.secret, booking_id)
    )
}

/// The visitor calls their booking off from their own page.
pub async fn requester_cancel(app: &App, booking_id: Uuid) -> AppResult<Booking> {
    let booking = app.store.get_booking(booking_id).await?;
    let cancel = Move::plain(BookingAction::Cancel, Actor::Requester, None);
    apply(app, booking, cancel).await
}

/// The visitor, asked for another time, picks a new slot from their own page.
pub async fn requester_pick(app: &App, booking_id: Uuid, slot_id: &str) -> AppResult<Booking> {
    let booking = app.store.get_booking(booking_id).await?;
    let slot = chosen_slot(app, slot_id).await?;
    let pick = Move {
        new_slot: Some(slot),
        ..Move::plain(BookingAction::PickSlot, Actor::Requester, None)
    };
    apply(app, booking, pick).await
}

/// A move of a booking, as [`apply`] makes it.
pub(crate) struct Move {
    pub(crate) action: BookingAction,
    pub(crate) actor: Actor,
    /// The link that causes it, spent with it.
    pub(crate) consume_token: Option<TokenHash>,
    /// For a new time: the slot chosen.
    pub(crate) new_slot: Option<Slot>,
    /// The owner's message.
    pub(crate) note: Option<String>,
    /// The request's idempotency key.
    pub(crate) keep_answer: Option<KeepAnswer>,
    /// For a reschedule: the slots the owner proposes, held for the visitor.
    pub(crate) proposals: Vec<Slot>,
    /// For a proposed time taken: which proposal (`new_slot` is its slot, already held).
    pub(crate) take_proposal: Option<Uuid>,
}

impl Move {
    /// `action` by `actor`, with no link, slot or key.
    pub(crate) fn plain(action: BookingAction, actor: Actor, note: Option<String>) -> Self {
        Self {
            action,
            actor,
            consume_token: None,
            new_slot: None,
            note,
            keep_answer: None,
            proposals: Vec::new(),
            take_proposal: None,
        }
    }
}

/// Moves a booking and queues the emails the move causes, atomically.
pub(crate) async fn apply(app: &App, booking: Booking, m: Move) -> AppResult<Booking> {
    let Move {
        action,
        actor,
        consume_token,
        new_slot,
        note,
        keep_answer,
        proposals,
        take_proposal,
    } = m;
    let to = action
        .apply(booking.status)
        .map_err(|_| AppError::InvalidTransition)?;
    // The change's time is also its emails' DTSTAMP, which must move on from the last change's.
    let now = calendar_stamp(app.now(), booking.updated_at);
    // Confirming sends the very first calendar message of the booking (nothing reached any
    // calendar while it was unconfirmed), so it keeps SEQUENCE 0, as a request made without
    // confirmation does.
    let sequence = if action == BookingAction::Confirm {
        booking.ics_sequence
    } else {
        booking.ics_sequence + 1
    };
    let owner = owner_settings::load(app).await?;
    let (starts_at, ends_at) = match &new_slot {
        Some(s) => {
            // A new time is chosen as a new booking is made; a proposed one is held already.
            if take_proposal.is_none() {
                check_bookable(app, &owner, s.status, window_of(s)?, now).await?;
            }
            (s.starts_at, s.ends_at)
        }
        None => (booking.starts_at, booking.ends_at),
    };
    // How to join, told to both once the session is accepted: the slot's details and the
    // booking's room (made now, or kept from an earlier acceptance).
    let (meeting_details, meeting_room) = if to == BookingStatus::Accepted {
        (
            reminders::meeting_details(app, &booking).await?,
            crate::meeting::room_for(app, &booking),
        )
    } else {
        (None, None)
    };
    let join_url = crate::meeting::join_url(app, meeting_room.as_deref(), ends_at);
    let facts = BookingFacts {
        ics_sequence: u32::try_from(sequence).unwrap_or(u32::MAX),
        starts_at,
        ends_at,
        meeting_details,
        join_url,
        ..BookingFacts::of_booking(&booking, Some(status_url(app, booking.id)))
    };
    let ctx = app.mail_context_for(&owner);
    // A request that reaches the owner (again) must be answered by a time of its own.
    let answer_by =
        (to == BookingStatus::Pending).then(|| reminders::answer_by(&owner, now, starts_at));
    let answer_reminder_at =
        answer_by.and_then(|by| reminders::answer_reminder_at(&owner, now, by));
    let mut tokens = Vec::new();
    let mut held = Vec::new();
    let mut messages = Vec::new();
    // Emails due later, each at its own moment (rendered now, like every other).
    let mut scheduled = Vec::new();
    for notice in effects::notices(action, booking.status, to, actor == Actor::Requester) {
        let message = match notice {
            Notice::OwnerNewRequest => {
                let (owner_links, links) = owner_tokens(app, token::expiry(now, Some(starts_at)));
                tokens.extend(owner_links);
                links.new_request_message()
            }
            Notice::RequesterPickNewTime { had_invite } => {
                let (t, url) = new_token(app, BookingAction::PickSlot, token::expiry(now, None));
                tokens.push(t);
                let proposed;
                (held, proposed) = crate::proposal_links::links(app, &proposals)?;
                Message::RequesterPickNewTime {
                    pick_url: url,
                    had_invite,
                    proposed,
                }
            }
            Notice::OwnerAccepted => Message::OwnerAccepted,
            Notice::OwnerCalendarCancel => Message::OwnerCalendarCancel,
            Notice::RequesterReceived => Message::RequesterReceived,
            Notice::RequesterAccepted => Message::RequesterAccepted,
            Notice::RequesterDeclined => Message::RequesterDeclined,
            Notice::RequesterCancelled {
                had_invite,
                by_requester,
            } => Message::RequesterCancelled {
                had_invite,
                by_requester,
            },
            Notice::RequesterExpired => Message::RequesterExpired,
            Notice::OwnerExpired => Message::OwnerExpired,
        };
        messages.push(message);
    }
    if to == BookingStatus::Accepted {
        scheduled.extend(reminders::session_reminders(app, &owner, now, &facts, &ctx));
    }
    // The owner's note reaches the requester in the emails this move sends them.
    let mut emails: Vec<NewEmail> = messages
        .iter()
        .map(|m| {
            queued_email(
                app,
                render_with_owner_message(m, &facts, &ctx, now, note.as_deref()),
            )
        })
        .chain(scheduled)
        .collect();
    let new_slot = match new_slot {
        Some(s) => Some(SlotChange {
            slot_id: s.id,
            window: SlotWindow::parse(s.starts_at, s.ends_at)
                .map_err(|e| AppError::Internal(e.to_string()))?,
        }),
        None => None,
    };
    let after_commit = handoff::lease_due(app, &mut emails, Some(booking.id));
    let change = Transition {
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
        webhook: crate::webhooks::of_change(action, &booking, to, (starts_at, ends_at), now),
        keep_answer,
        answer_by,
        answer_reminder_at,
        meeting_room,
        proposals: held,
        take_proposal,
        after_commit,
        now,
    };
    let moved = app.store.transition(change).await?;
    app.outbox_wake.notify_one();
    app.metrics.booking_moved(moved.status);
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
    app: &App,
    booking_id: Uuid,
    email_id: Uuid,
) -> AppResult<guidance_store::OutboxMessage> {
    let msg = app
        .store
        .requeue_email(booking_id, email_id, app.now())
        .await?;
    app.outbox_wake.notify_one();
    tracing::info!(booking = %booking_id, email = %email_id, kind = %msg.kind, "email queued again");
    Ok(msg)
}

/// Expires pending requests whose answer-by time has come (telling the visitor, with a link to
/// choose another time, and the owner), reschedule requests nobody answered
/// within [`RESCHEDULE_WINDOW`], and unconfirmed requests whose hold ended (which frees their
/// slots). Returns how many expired. The outbox worker runs this every minute.
pub async fn expire_overdue(app: &App) -> AppResult<usize> {
    let now = app.now();
    let deadline = now
        .checked_sub(RESCHEDULE_WINDOW)
        .map_err(|e| AppError::Internal(e.to_string()))?;
    // Idempotency keys live as long as the same clock says.
    app.store.forget_expired_answers(now).await?;
    let mut n = 0;
    for booking in app.store.list_overdue(now, deadline).await? {
        match apply(
            app,
            booking,
            Move::plain(BookingAction::Expire, Actor::System, None),
        )
        .await
        {
            Ok(_) => n += 1,
            // Someone acted on it at the same moment: nothing to expire.
            Err(AppError::Conflict | AppError::InvalidTransition) => {}
            Err(e) => return Err(e),
        }
    }
    if n > 0 {
        // An expired hold frees its slot.
        app.slot_lists.invalidate();
    }
    Ok(n)
}

/// Bookings of one status (or all, in the owner's order: pending first, then accepted, needs
/// reschedule, unconfirmed, declined, cancelled, expired; by session time within each), whose requester name,
/// email or topic contains `query` (ignoring case).
pub async fn find_bookings(
    app: &App,
    status: Option<BookingStatus>,
    query: &str,
) -> AppResult<Vec<Booking>> {
    let needle = query.trim().to_lowercase();
    let mut bookings: Vec<Booking> = app
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
