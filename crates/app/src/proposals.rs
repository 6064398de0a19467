//! Proposed times: the owner, asking a visitor to choose another time, proposes up to three
//! open slots; each is held for the visitor until the reschedule window ends (the booking then
//! expires, which gives the holds back) and offered as a one-click choice. A proposed time the
//! visitor takes is accepted at once (the owner chose it), or goes back to the owner when the
//! setting `proposed_time_needs_approval` says so. The holds themselves are the store's (see
//! `guidance_store::Transition::proposals`).

use std::collections::HashSet;

use guidance_core::token::ActionToken;
use guidance_core::{BookingAction, BookingStatus, FieldErrors, FieldReason};
use guidance_store::{Actor, Booking, ProposedTime, Slot};
use uuid::Uuid;

use crate::bookings::{self, Move};
use crate::settings as owner_settings;
use crate::{App, AppError, AppResult};

/// The most times the owner may propose with one reschedule.
pub const MAX_PROPOSED: usize = 3;

/// The name of the refused field: the list, or one entry of it.
pub const FIELD: &str = "proposed_slot_ids";

/// The owner asks the visitor of booking `booking_id` to choose another time, proposing the
/// open slots `proposed_slot_ids` (none: the visitor chooses from every open time). Ids that
/// are not slots, slots not open to visitors, duplicates and more than [`MAX_PROPOSED`] are
/// refused together, naming `proposed_slot_ids.<index>` or the list; nothing changes then.
pub async fn owner_reschedule(
    app: &App,
    booking_id: Uuid,
    message: Option<&str>,
    proposed_slot_ids: &[String],
) -> AppResult<Booking> {
    let slots = check_proposed(app, proposed_slot_ids).await?;
    bookings::owner_move(app, booking_id, BookingAction::Reschedule, message, slots)
        .await
        .map_err(refused_hold)
}

/// A reschedule proposing times was refused because another visitor took a checked slot at the
/// same moment (the whole change was refused): the owner is told which field to change.
pub(crate) fn refused_hold(e: AppError) -> AppError {
    match e {
        AppError::SlotTaken => AppError::field(FIELD, FieldReason::SlotNotOpen),
        other => other,
    }
}

/// How many of the next open times the owner is offered to propose (admin UI, link page).
pub const PROPOSABLE_SHOWN: usize = 30;

/// The open times the owner is offered to propose with a reschedule: the next
/// [`PROPOSABLE_SHOWN`] open to visitors.
pub async fn proposable(app: &App) -> AppResult<Vec<Slot>> {
    let mut open = crate::slots::open_slots(app, None, None).await?;
    open.truncate(PROPOSABLE_SHOWN);
    Ok(open)
}

/// The slots of `raw`, each open to visitors right now, or every reason they are not.
pub(crate) async fn check_proposed(app: &App, raw: &[String]) -> AppResult<Vec<Slot>> {
    if raw.is_empty() {
        return Ok(Vec::new());
    }
    if raw.len() > MAX_PROPOSED {
        return Err(AppError::field(FIELD, FieldReason::TooMany));
    }
    let open = crate::slots::open_slots(app, None, None).await?;
    let mut fields = FieldErrors::new();
    let mut seen = HashSet::new();
    let mut slots = Vec::new();
    for (n, id) in raw.iter().enumerate() {
        let name = format!("{FIELD}.{n}");
        let Ok(id) = Uuid::parse_str(id.trim()) else {
            fields.add(name, FieldReason::UnknownValue);
            continue;
        };
        if !seen.insert(id) {
            fields.add(name, FieldReason::Duplicate);
            continue;
        }
        match open.iter().find(|s| s.id == id) {
            Some(slot) => slots.push(slot.clone()),
            None => match app.store.get_slot(id).await {
                Ok(_) => fields.add(name, FieldReason::SlotNotOpen),
                Err(guidance_store::StoreError::NotFound) => {
                    fields.add(name, FieldReason::UnknownValue)
                }
                Err(e) => return Err(e.into()),
            },
        }
    }
    if fields.is_empty() {
        Ok(slots)
    } else {
        Err(AppError::Invalid(fields))
    }
}

/// A proposed time's link, checked without changing anything (a GET, which mail scanners also
/// make): the proposal and the booking it is for.
#[derive(Debug, Clone)]
pub struct CheckedProposal {
    /// The proposed time.
    pub proposal: ProposedTime,
    /// The booking as it stands.
    pub booking: Booking,
}

/// Checks the link of a proposed time: signed by this site, of a proposal still held for a
/// visitor who has not chosen yet.
pub async fn check_link(app: &App, presented: &str) -> AppResult<CheckedProposal> {
    let token = ActionToken::verify(&app.secret, presented).map_err(|_| AppError::TokenInvalid)?;
    let proposal = app
        .store
        .find_proposal(&token.hash())
        .await?
        .ok_or(AppError::TokenInvalid)?;
    if proposal.taken_at.is_some() {
        return Err(AppError::TokenUsed);
    }
    let booking = app.store.get_booking(proposal.booking_id).await?;
    if proposal.released_at.is_some() || booking.status != BookingStatus::NeedsReschedule {
        return Err(AppError::TokenOutdated);
    }
    if proposal.starts_at <= app.now() {
        return Err(AppError::TokenExpired);
    }
    Ok(CheckedProposal { proposal, booking })
}

/// The visitor takes the proposed time of a link (the button of its page).
pub async fn take_by_link(app: &App, presented: &str) -> AppResult<Booking> {
    let checked = check_link(app, presented).await?;
    take(app, checked).await
}

/// The live proposals of a booking waiting for the visitor's new time, in time order (none
/// for a booking in any other state).
pub async fn live_proposals(app: &App, booking: &Booking) -> AppResult<Vec<ProposedTime>> {
    if booking.status != BookingStatus::NeedsReschedule {
        return Ok(Vec::new());
    }
    let now = app.now();
    Ok(app
        .store
        .proposed_times(booking.id)
        .await?
        .into_iter()
        .filter(|p| p.is_live() && p.starts_at > now)
        .collect())
}

/// The visitor takes proposal `proposal_id` from their own page (whose link proves who they
/// are).
pub async fn take_from_page(app: &App, booking_id: Uuid, proposal_id: &str) -> AppResult<Booking> {
    let booking = app.store.get_booking(booking_id).await?;
    let id = Uuid::parse_str(proposal_id.trim())
        .map_err(|_| AppError::field("proposal_id", FieldReason::UnknownValue))?;
    let proposal = live_proposals(app, &booking)
        .await?
        .into_iter()
        .find(|p| p.id == id)
        .ok_or_else(|| AppError::field("proposal_id", FieldReason::SlotNotOpen))?;
    take(app, CheckedProposal { proposal, booking }).await
}

/// Moves the booking to the proposal's slot: accepted at once, or pending for the owner's
/// approval. The hold passes to the booking and the other holds are given back in the same
/// transaction; a proposal taken meanwhile refuses it ([`AppError::TokenUsed`]).
async fn take(app: &App, checked: CheckedProposal) -> AppResult<Booking> {
    let CheckedProposal { proposal, booking } = checked;
    let slot_id = proposal.slot_id.ok_or(AppError::TokenOutdated)?;
    let slot = app.store.get_slot(slot_id).await?;
    let owner = owner_settings::load(app).await?;
    let action = if owner.proposed_time_needs_approval {
        BookingAction::PickSlot
    } else {
        BookingAction::TakeProposedTime
    };
    let take = Move {
        new_slot: Some(slot),
        take_proposal: Some(proposal.id),
        ..Move::plain(action, Actor::Requester, None)
    };
    bookings::apply(app, booking, take).await
}
