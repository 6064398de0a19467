//! The emailed links (`/a/{token}`): checking one without changing anything (a `GET`, which mail
//! scanners also make), and carrying out what it says with what its reader adds: the new slot
//! of a visitor's `pick_slot` link, the owner's message and, with a `reschedule` link, the
//! times the owner proposes. The page behind each link and `POST /api/actions` both call these.

use guidance_core::idempotency::Keyed;
use guidance_core::token::ActionToken;
use guidance_core::{BookingAction, FieldReason, TokenHash};
use guidance_store::{Actor, Booking, TokenRecord};

use crate::bookings::{self, Move};
use crate::{App, AppError, AppResult, proposals};

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

/// Checks a link without changing anything.
pub async fn check_token(app: &App, presented: &str) -> AppResult<CheckedToken> {
    let token = ActionToken::verify(&app.secret, presented).map_err(|_| AppError::TokenInvalid)?;
    let hash = token.hash();
    let record = app
        .store
        .find_token(&hash)
        .await?
        .ok_or(AppError::TokenInvalid)?;
    if record.used_at.is_some() {
        return Err(AppError::TokenUsed);
    }
    if record.expires_at <= app.now() {
        return Err(AppError::TokenExpired);
    }
    let booking = app.store.get_booking(record.booking_id).await?;
    if booking.version != record.booking_version || record.action.apply(booking.status).is_err() {
        return Err(AppError::TokenOutdated);
    }
    Ok(CheckedToken {
        record,
        booking,
        hash,
    })
}

/// What the reader of a link adds to it; each part only where the link's action takes it.
#[derive(Debug, Default, Clone, Copy)]
pub struct LinkInput<'a> {
    /// The action the caller expects: refused ([`AppError::WrongAction`]) when the link does
    /// something else.
    pub action: Option<BookingAction>,
    /// With a `pick_slot` link (required there): the new slot.
    pub slot_id: Option<&'a str>,
    /// With an owner's link: a message for the visitor, quoted in their email.
    pub message: Option<&'a str>,
    /// With a `reschedule` link: up to three open slots proposed to the visitor (see
    /// `proposals`).
    pub proposed_slot_ids: &'a [String],
}

/// Carries out what a link says, with `input`. A request `keyed` with an idempotency key is
/// answered as `bookings::create_booking` says.
pub async fn use_token(
    app: &App,
    presented: &str,
    input: LinkInput<'_>,
    keyed: Option<&Keyed>,
) -> AppResult<Booking> {
    let used = carry_out(app, presented, input, keyed).await;
    bookings::answered_before(app, keyed, used).await
}

/// See [`use_token`].
async fn carry_out(
    app: &App,
    presented: &str,
    input: LinkInput<'_>,
    keyed: Option<&Keyed>,
) -> AppResult<Booking> {
    let checked = check_token(app, presented).await?;
    let action = checked.record.action;
    if input.action.is_some_and(|a| a != action) {
        return Err(AppError::WrongAction);
    }
    let by_owner = action.by_owner();
    if !by_owner && input.message.is_some_and(|m| !m.trim().is_empty()) {
        return Err(AppError::field("message", FieldReason::UnknownValue));
    }
    if action != BookingAction::Reschedule && !input.proposed_slot_ids.is_empty() {
        return Err(AppError::field(proposals::FIELD, FieldReason::UnknownValue));
    }
    let new_slot = match action {
        BookingAction::PickSlot => {
            Some(bookings::chosen_slot(app, input.slot_id.unwrap_or_default()).await?)
        }
        _ => None,
    };
    let proposals = proposals::check_proposed(app, input.proposed_slot_ids).await?;
    let holds = !proposals.is_empty();
    let actor = if by_owner {
        Actor::Owner
    } else {
        Actor::Requester
    };
    let moved = Move {
        consume_token: Some(checked.hash),
        new_slot,
        keep_answer: bookings::keep_answer(app, keyed),
        proposals,
        ..Move::plain(action, actor, bookings::owner_note(input.message)?)
    };
    let applied = bookings::apply(app, checked.booking, moved).await;
    if holds {
        applied.map_err(proposals::refused_hold)
    } else {
        applied
    }
}
