//! Around the session: the answer-by time of a request that reaches the owner, the owner's
//! reminder before it, and the reminders of an accepted session. The moments are decided by
//! [`guidance_core::session_times`]. The session reminders become scheduled emails, queued with
//! the change that causes them (the outbox worker sends each at its moment, and drops one whose
//! moment passed while nobody could send it; the booking's next change withdraws them). The
//! owner's reminder is only a time kept with the request, and is written when it falls due
//! ([`queue_due_answer_reminders`]).

use guidance_core::OwnerSettings;
use guidance_core::session_times;
use guidance_core::token;
use guidance_mail::{BookingFacts, MailContext, Message, render};
use guidance_store::{AnswerReminder, Booking, NewEmail};
use jiff::Timestamp;

use crate::outgoing;
use crate::{App, AppResult};

/// When a request that reaches the owner at `now`, for a session starting at `starts_at`, must
/// be answered by.
pub(crate) fn answer_by(owner: &OwnerSettings, now: Timestamp, starts_at: Timestamp) -> Timestamp {
    session_times::answer_by(
        now,
        starts_at,
        owner.answer_within_hours,
        owner.min_notice_hours,
    )
}

/// When the owner of a request due by `answer_by`, made (or made pending again) at `now`, is
/// reminded of it: `answer_reminder_hours` before, if that is still ahead (see
/// [`session_times::answer_reminder_at`]); `None`: no reminder.
pub(crate) fn answer_reminder_at(
    owner: &OwnerSettings,
    now: Timestamp,
    answer_by: Timestamp,
) -> Option<Timestamp> {
    session_times::answer_reminder_at(now, answer_by, owner.answer_reminder_hours)
}

/// Writes the owner's reminders that have fallen due at the app's `now`: one for each request
/// still pending at its reminder time, with links of its own (the request's tokens are kept only
/// as hashes), due at once and dropped unsent once the request's answer-by time has passed (a
/// change of the request withdraws it, as any scheduled email). Returns how many were queued.
///
/// Written when due rather than with the request: most owners answer first, and a request
/// then costs one rendered email less. The outbox worker runs this every minute, before the
/// expiry; a request's reminder is queued once, however many workers run it.
pub async fn queue_due_answer_reminders(app: &App) -> AppResult<usize> {
    let now = app.now();
    let due = app.store.answer_reminders_due(now).await?;
    if due.is_empty() {
        return Ok(0);
    }
    let owner = crate::settings::load(app).await?;
    let ctx = app.mail_context_for(&owner);
    let mut queued = 0;
    for booking in due {
        let answer_by = booking.answer_by.unwrap_or(booking.starts_at);
        let (tokens, links) =
            outgoing::owner_tokens(app, token::expiry(now, Some(booking.starts_at)));
        // The owner's reminder shows nothing of the visitor's own page.
        let facts = BookingFacts::of_booking(&booking, None);
        let rendered = render(&links.answer_reminder_message(answer_by), &facts, &ctx, now);
        let email = scheduled(app, rendered, now, answer_by);
        let reminder = AnswerReminder {
            booking_id: booking.id,
            version: booking.version,
            tokens,
            email,
            now,
        };
        if app.store.queue_answer_reminder(reminder).await? {
            queued += 1;
            tracing::info!(booking = %booking.id, "the owner reminded of a request awaiting their answer");
        }
    }
    if queued > 0 {
        app.outbox_wake.notify_one();
    }
    Ok(queued)
}

/// The reminders of a session accepted at `now`: one to the visitor at each of the owner's
/// offsets still ahead, and one to the owner too when they asked for it; each pointless once
/// the session has started.
pub(crate) fn session_reminders(
    app: &App,
    owner: &OwnerSettings,
    now: Timestamp,
    facts: &BookingFacts,
    ctx: &MailContext,
) -> Vec<NewEmail> {
    let mut messages = vec![Message::RequesterSessionReminder];
    if owner.remind_owner {
        messages.push(Message::OwnerSessionReminder);
    }
    session_times::session_reminders(now, facts.starts_at, &owner.reminder_offsets_minutes)
        .into_iter()
        .flat_map(|at| {
            messages
                .iter()
                .map(move |m| scheduled(app, render(m, facts, ctx, at), at, facts.starts_at))
        })
        .collect()
}

/// The meeting details of the slot a booking holds, if any.
pub(crate) async fn meeting_details(app: &App, booking: &Booking) -> AppResult<Option<String>> {
    let Some(slot_id) = booking.slot_id else {
        return Ok(None);
    };
    match app.store.get_slot(slot_id).await {
        Ok(slot) => Ok(slot.meeting_details),
        Err(guidance_store::StoreError::NotFound) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// A rendered email due at `at` (its `Date:` too), dropped unsent from `before` on; stored
/// sealed, as every queued email is.
fn scheduled(app: &App, r: guidance_mail::Rendered, at: Timestamp, before: Timestamp) -> NewEmail {
    NewEmail {
        send_after: Some(at),
        send_before: Some(before),
        ..outgoing::queued_email(app, r)
    }
}
