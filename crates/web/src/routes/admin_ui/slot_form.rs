//! The form that adds a slot and the form that edits one, written once: the macro in
//! `templates/admin/slot_form.html` lays it out, [`SlotForm`] holds what was typed,
//! [`SlotFormView`] fills the macro, and [`save`] reads a posted form for both.

use guidance_core::FieldReason;

use axum::body::Bytes;
use guidance_app::AppError;
use guidance_app::settings;
use guidance_app::slots::{self, MEETING_DETAILS_MAX};
use guidance_core::pattern::local_instant;
use guidance_core::{OwnerSettings, SlotWindow};
use guidance_store::Slot;
use jiff::ToSpan;
use jiff::civil::{Date, Time};
use serde::Deserialize;

use super::chrome::Chrome;
use super::form::{FieldMessages, read_form};
use super::format::{hhmm, zoned};
use crate::state::WebState;
use guidance_core::FieldErrors;

/// The slot form as typed: a local date, two local times in the owner's zone and the meeting
/// details, kept as typed so that a refused form comes back unchanged.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default)]
pub(super) struct SlotForm {
    pub(super) date: String,
    pub(super) start: String,
    pub(super) end: String,
    pub(super) meeting_details: String,
}

impl SlotForm {
    /// The form as it edits `slot`: its times in the owner's zone.
    pub(super) fn of_slot(slot: &Slot, owner: &OwnerSettings) -> Self {
        let start = zoned(slot.starts_at, owner);
        SlotForm {
            date: start.date().to_string(),
            start: hhmm(&start),
            end: hhmm(&zoned(slot.ends_at, owner)),
            meeting_details: slot.meeting_details.clone().unwrap_or_default(),
        }
    }

    /// The add form: without a date it suggests tomorrow from 09:00 to 10:00 (keeping any
    /// details typed).
    pub(super) fn or_suggested(self, today: Date) -> Self {
        if !self.date.is_empty() {
            return self;
        }
        SlotForm {
            date: today.checked_add(1.day()).unwrap_or(today).to_string(),
            start: "09:00".into(),
            end: "10:00".into(),
            ..self
        }
    }

    /// Reads the local date and times in the owner's zone as a slot window, with the details.
    fn parse(&self, owner: &OwnerSettings) -> Result<(SlotWindow, Option<String>), AppError> {
        let mut fields = FieldErrors::new();
        let date = match self.date.trim().parse::<Date>() {
            Ok(d) => Some(d),
            Err(_) => {
                fields.add("date", field_reason(&self.date));
                None
            }
        };
        let mut time = |name: &str, raw: &str| match raw.trim().parse::<Time>() {
            Ok(t) => Some(t),
            Err(_) => {
                fields.add(name, field_reason(raw));
                None
            }
        };
        let start = time("start", &self.start);
        let end = time("end", &self.end);
        let (Some(date), Some(start), Some(end)) = (date, start, end) else {
            return Err(AppError::Invalid(fields));
        };
        let zone = owner.time_zone.zone();
        let at = |field: &str, t: Time| {
            local_instant(date.to_datetime(t), &zone)
                .map_err(|_| AppError::field(field, FieldReason::UnknownValue))
        };
        let starts_at = at("start", start)?;
        let ends_at = at("end", end)?;
        let window =
            slots::parse_slot_window(Some(starts_at), Some(ends_at)).map_err(|e| match e {
                // The form names the end time "end".
                AppError::Invalid(mut f) => {
                    f.rename("ends_at", "end");
                    AppError::Invalid(f)
                }
                other => other,
            })?;
        let details = slots::parse_meeting_details(Some(&self.meeting_details))?;
        Ok((window, details))
    }
}

fn field_reason(raw: &str) -> FieldReason {
    if raw.trim().is_empty() {
        FieldReason::Empty
    } else {
        FieldReason::UnknownValue
    }
}

/// Why a posted slot form was not saved.
pub(super) enum Refused {
    /// At the form's fields: the page shows the form again, as typed, with these reasons.
    Fields(SlotForm, FieldErrors),
    /// Anything else (the slot is gone or booked, the store failed): an error page.
    Page(AppError),
}

/// Reads a posted slot form in the owner's zone and hands the window and details to `store`
/// (which creates or updates the slot). A slot overlapping another is refused at the start time.
pub(super) async fn save<F, Fut>(state: &WebState, body: &Bytes, store: F) -> Result<Slot, Refused>
where
    F: FnOnce(SlotWindow, Option<String>) -> Fut,
    Fut: Future<Output = Result<Slot, AppError>>,
{
    let form: SlotForm = read_form(body);
    let result = async {
        let owner = settings::load(&state.app).await?;
        let (window, details) = form.parse(&owner)?;
        store(window, details).await
    }
    .await;
    result.map_err(|e| match e {
        AppError::Invalid(fields) => Refused::Fields(form, fields),
        AppError::SlotOverlap => {
            Refused::Fields(form, FieldErrors::one("start", FieldReason::SlotOverlap))
        }
        other => Refused::Page(other),
    })
}

/// The slot form as the `slot_form` macro shows it (the page templates read its fields).
pub(super) struct SlotFormView {
    /// The slot being edited; `None` in the add form.
    pub(super) slot_id: Option<String>,
    pub(super) values: SlotForm,
    pub(super) errors: FieldMessages,
    /// The longest meeting details the owner may type.
    pub(super) details_max: usize,
}

impl SlotFormView {
    /// The form adding a slot (`slot_id` `None`) or editing one, showing `values` and a message
    /// at each refused field of `fields`; with any, the page's `chrome` asks to fix them.
    pub(super) fn new(
        chrome: &mut Chrome,
        slot_id: Option<String>,
        values: SlotForm,
        fields: &FieldErrors,
    ) -> Self {
        SlotFormView {
            slot_id,
            values,
            errors: FieldMessages::show(chrome, fields),
            details_max: MEETING_DETAILS_MAX,
        }
    }
}
