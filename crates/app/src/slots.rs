//! The owner's slots, and the open ones visitors may book: offering, moving, withdrawing and
//! removing them, one at a time or several at once.

use guidance_core::{FieldErrors, FieldReason};
use guidance_core::{SlotStatus, SlotWindow};
use guidance_store::Slot;
use jiff::Timestamp;
use uuid::Uuid;

use crate::settings as owner_settings;
use crate::{App, AppError, AppResult};

/// The open, future slots visitors may book in `[from, to)` (bounded by the booking horizon).
pub async fn open_slots(
    app: &App,
    from: Option<Timestamp>,
    to: Option<Timestamp>,
) -> AppResult<Vec<Slot>> {
    let now = app.now();
    let owner = owner_settings::load(app).await?;
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
    let slots = app
        .store
        .list_slots(from, to, Some(SlotStatus::Open))
        .await?;
    // Slots that overlap the owner's own busy times are left out (see `calendars`).
    let snapshot = crate::calendars::snapshot(app).await?;
    let hidden = crate::calendars::hider(app, &owner, &snapshot);
    Ok(slots
        .into_iter()
        .filter(|s| s.starts_at > now && hidden(s.starts_at, s.ends_at).is_none())
        .collect())
}

/// Checks a slot window typed by the owner, naming the refused field.
pub fn parse_slot_window(
    starts_at: Option<Timestamp>,
    ends_at: Option<Timestamp>,
) -> AppResult<SlotWindow> {
    let mut fields = FieldErrors::new();
    if starts_at.is_none() {
        fields.add("starts_at", FieldReason::Empty);
    }
    if ends_at.is_none() {
        fields.add("ends_at", FieldReason::Empty);
    }
    let (Some(starts_at), Some(ends_at)) = (starts_at, ends_at) else {
        return Err(AppError::Invalid(fields));
    };
    SlotWindow::parse(starts_at, ends_at).map_err(|e| {
        let reason = match e {
            guidance_core::slot::SlotWindowError::EndsBeforeStart => FieldReason::EndsBeforeStart,
            guidance_core::slot::SlotWindowError::BadLength => FieldReason::BadLength,
            guidance_core::slot::SlotWindowError::OutOfRange => FieldReason::OutOfRange,
        };
        AppError::field("ends_at", reason)
    })
}

/// Longest private meeting details of a slot, in characters.
pub const MEETING_DETAILS_MAX: usize = 2000;

/// Trims meeting details; blank is none.
pub fn parse_meeting_details(raw: Option<&str>) -> AppResult<Option<String>> {
    let details = raw.map(str::trim).filter(|d| !d.is_empty());
    if details.is_some_and(|d| d.chars().count() > MEETING_DETAILS_MAX) {
        return Err(AppError::field("meeting_details", FieldReason::TooLong));
    }
    Ok(details.map(str::to_owned))
}

/// Offers one new slot. It must start in the future and overlap no live slot.
pub async fn create_slot(
    app: &App,
    window: SlotWindow,
    meeting_details: Option<String>,
) -> AppResult<Slot> {
    let now = app.now();
    if window.starts_at() <= now {
        return Err(AppError::field("starts_at", FieldReason::InThePast));
    }
    let slot = app.store.create_slot(window, meeting_details, now).await?;
    tracing::info!(slot = %slot.id, "slot created");
    Ok(slot)
}

/// Moves a slot or changes its meeting details; a booked slot refuses.
pub async fn update_slot(
    app: &App,
    id: Uuid,
    window: SlotWindow,
    meeting_details: Option<String>,
) -> AppResult<Slot> {
    let now = app.now();
    let current = app.store.get_slot(id).await?;
    if window.starts_at() <= now && window.starts_at() != current.starts_at {
        return Err(AppError::field("starts_at", FieldReason::InThePast));
    }
    Ok(app
        .store
        .update_slot(id, window, meeting_details, now)
        .await?)
}

/// Withdraws an open slot or offers an unavailable one again; a booked slot refuses.
pub async fn set_slot_available(app: &App, id: Uuid, available: bool) -> AppResult<Slot> {
    Ok(app
        .store
        .set_slot_available(id, available, app.now())
        .await?)
}

/// Removes a slot no live booking holds.
pub async fn delete_slot(app: &App, id: Uuid) -> AppResult<()> {
    app.store.delete_slot(id).await?;
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
    pub refused: Vec<(Uuid, AppError)>,
}

/// Applies one action to each slot in turn; one refusal does not stop the others.
pub async fn slots_bulk(app: &App, ids: &[Uuid], action: SlotBulkAction) -> AppResult<BulkReport> {
    let mut report = BulkReport::default();
    for &id in ids {
        let result = match action {
            SlotBulkAction::MakeUnavailable => set_slot_available(app, id, false).await.map(drop),
            SlotBulkAction::MakeAvailable => set_slot_available(app, id, true).await.map(drop),
            SlotBulkAction::Delete => delete_slot(app, id).await,
        };
        match result {
            Ok(()) => report.done += 1,
            Err(e) if e.is_failure() => return Err(e),
            Err(e) => report.refused.push((id, e)),
        }
    }
    Ok(report)
}

/// Withdraws the slot a booking holds or held, so that nobody can book that time again.
pub async fn make_booking_slot_unavailable(app: &App, booking_id: Uuid) -> AppResult<Slot> {
    let booking = app.store.get_booking(booking_id).await?;
    let slot_id = booking.slot_id.ok_or(AppError::NotFound)?;
    set_slot_available(app, slot_id, false).await
}
