//! Around the session: the answer-by time of a request that reaches the owner, the owner's
//! reminder before it, and the reminders of an accepted session. The moments are decided by
//! [`guidance_core::session_times`]; here they become scheduled emails, queued with the change
//! that causes them (the outbox worker sends each at its moment, and drops one whose moment
//! passed while nobody could send it; the booking's next change withdraws them).

use guidance_core::OwnerSettings;
use guidance_core::session_times;
use guidance_mail::{BookingFacts, MailContext, Message, render};
use guidance_store::{Booking, NewEmail};
use jiff::Timestamp;

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

/// The owner's reminder of a request due by `answer_by` (`reminder`, rendered with the
/// request's own links), if there is time for one: sent `answer_reminder_hours` before,
/// pointless once the answer-by time has come.
pub(crate) fn answer_reminder(
    app: &App,
    owner: &OwnerSettings,
    now: Timestamp,
    answer_by: Timestamp,
    reminder: &Message,
    facts: &BookingFacts,
    ctx: &MailContext,
) -> Option<NewEmail> {
    let at = session_times::answer_reminder_at(now, answer_by, owner.answer_reminder_hours)?;
    Some(scheduled(
        app,
        render(reminder, facts, ctx, at),
        at,
        answer_by,
    ))
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
        ..crate::bookings::queued_email(app, r)
    }
}
