//! The slots: the week and list views with the add form and bulk changes, and the page of one
//! slot with its edit form; each open slot says which of the owner's calendars hides it.

use guidance_core::FieldErrors;
use guidance_core::FieldReason;
use std::collections::BTreeMap;

use askama::Template;
use axum::body::Bytes;
use axum::extract::{Extension, Path, Query, State};
use axum::response::Response;
use guidance_app::calendars;
use guidance_app::owner_auth::AdminSession;
use guidance_app::settings;
use guidance_app::slots::{self, SlotBulkAction};
use guidance_core::{OwnerSettings, SlotStatus};
use guidance_store::{Booking, Slot};
use jiff::ToSpan;
use jiff::civil::Date;
use serde::Deserialize;
use uuid::Uuid;

use super::chrome::{Chrome, FlashQuery, chrome, error_response, render, see_other};
use super::form::{form_pairs, form_value, parse_uuid};
use super::format::{day_start, monday_of, short_date, time_of_day, zoned};
use super::slot_form::{self, Refused, SlotForm, SlotFormView};
use crate::error::HttpError;
use crate::i18n::Tr;
use crate::state::WebState;

/// One slot as the owner sees it.
struct SlotRow {
    id: String,
    date: String,
    time: String,
    status: &'static str,
    status_label: String,
    booking_id: Option<String>,
    booking_name: String,
    details: String,
    past: bool,
    /// "Hidden by your calendar “Work”" for an open slot a busy time hides; "" otherwise.
    hidden_by: String,
}

/// One day of the week view.
struct WeekDay {
    label: String,
    today: bool,
    slots: Vec<SlotRow>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct SlotsQuery {
    view: Option<String>,
    week: Option<String>,
    done: Option<String>,
    n: Option<u32>,
    r: Option<u32>,
}

#[derive(Template)]
#[template(path = "admin/slots.html")]
struct SlotsPage {
    chrome: Chrome,
    title: String,
    list_view: bool,
    week_label: String,
    week: String,
    prev_week: String,
    next_week: String,
    days: Vec<WeekDay>,
    rows: Vec<SlotRow>,
    form: SlotFormView,
}

async fn slot_rows(
    state: &WebState,
    tr: &Tr,
    owner: &OwnerSettings,
    slots: &[Slot],
) -> Result<Vec<SlotRow>, HttpError> {
    // Which live booking holds each booked slot, for a link to it.
    let holders: BTreeMap<Uuid, Booking> = state
        .app
        .store
        .list_bookings(None)
        .await?
        .into_iter()
        .filter(|b| b.status.holds_slot())
        .filter_map(|b| b.slot_id.map(|s| (s, b)))
        .collect();
    let now = state.app.now();
    // Which of the owner's calendars hides each open slot from visitors, by name.
    let snapshot = calendars::snapshot(&state.app).await?;
    let hidden = calendars::hider(&state.app, owner, &snapshot);
    Ok(slots
        .iter()
        .map(|s| {
            let start = zoned(s.starts_at, owner);
            let holder = holders.get(&s.id);
            let hidden_by = (s.status == SlotStatus::Open && s.starts_at > now)
                .then(|| hidden(s.starts_at, s.ends_at))
                .flatten()
                .map(|source| tr.fmt("admin.slots.hidden_by", &[("source", &source)]))
                .unwrap_or_default();
            SlotRow {
                id: s.id.to_string(),
                date: short_date(tr, &start),
                time: tr.fmt(
                    "admin.datetime.time_range",
                    &[
                        ("start", &time_of_day(tr, &start)),
                        ("end", &time_of_day(tr, &zoned(s.ends_at, owner))),
                    ],
                ),
                status: s.status.as_str(),
                status_label: tr.get(&format!("admin.slot_status.{}", s.status.as_str())),
                booking_id: holder.map(|b| b.id.to_string()),
                booking_name: holder.map(|b| b.name.clone()).unwrap_or_default(),
                details: s.meeting_details.clone().unwrap_or_default(),
                past: s.starts_at <= now,
                hidden_by,
            }
        })
        .collect())
}

/// `GET /admin/slots`: the week (`?week=`) or list (`?view=list`) view and the add form.
pub(super) async fn slots_page(
    State(state): State<WebState>,
    Extension(session): Extension<AdminSession>,
    Query(q): Query<SlotsQuery>,
) -> Response {
    slots_response(
        &state,
        &session,
        &q,
        SlotForm::default(),
        FieldErrors::new(),
    )
    .await
}

async fn slots_response(
    state: &WebState,
    session: &AdminSession,
    q: &SlotsQuery,
    form: SlotForm,
    field_errors: FieldErrors,
) -> Response {
    let flash = FlashQuery {
        done: q.done.clone(),
        n: q.n,
        r: q.r,
    };
    let result = async {
        let (mut chrome, owner) = chrome(state, session, "slots", &flash).await?;
        let tr = chrome.tr.clone();
        let today = zoned(state.app.now(), &owner).date();
        let list_view = q.view.as_deref() == Some("list");
        let monday = monday_of(
            q.week
                .as_deref()
                .and_then(|w| w.parse::<Date>().ok())
                .unwrap_or(today),
        );
        let next_monday = monday.checked_add(7.days()).unwrap_or(monday);
        let (from, to) = if list_view {
            let end = today.checked_add(366.days()).unwrap_or(today);
            (day_start(today, &owner), day_start(end, &owner))
        } else {
            (day_start(monday, &owner), day_start(next_monday, &owner))
        };
        let slots = state.app.store.list_slots(from, to, None).await?;
        let mut rows = slot_rows(state, &tr, &owner, &slots).await?;
        let mut days = Vec::new();
        if !list_view {
            for i in 0..7 {
                let d = monday.checked_add(i.days()).unwrap_or(monday);
                let label =
                    short_date(&tr, &d.to_zoned(owner.time_zone.zone()).unwrap_or_default());
                days.push(WeekDay {
                    label,
                    today: d == today,
                    slots: Vec::new(),
                });
            }
            for (s, row) in slots.iter().zip(std::mem::take(&mut rows)) {
                let d = zoned(s.starts_at, &owner).date();
                let i = monday.until(d).map(|sp| sp.get_days()).unwrap_or(0);
                if let Some(day) = usize::try_from(i).ok().and_then(|i| days.get_mut(i)) {
                    day.slots.push(row);
                }
            }
        }
        let form = SlotFormView::new(&mut chrome, None, form.or_suggested(today), &field_errors);
        let sunday = monday.checked_add(6.days()).unwrap_or(monday);
        Ok::<_, HttpError>(SlotsPage {
            title: tr.get("admin.slots.title"),
            list_view,
            week_label: tr.fmt(
                "admin.slots.week_of",
                &[
                    (
                        "from",
                        &short_date(
                            &tr,
                            &monday.to_zoned(owner.time_zone.zone()).unwrap_or_default(),
                        ),
                    ),
                    (
                        "to",
                        &short_date(
                            &tr,
                            &sunday.to_zoned(owner.time_zone.zone()).unwrap_or_default(),
                        ),
                    ),
                ],
            ),
            week: monday.to_string(),
            prev_week: monday.checked_sub(7.days()).unwrap_or(monday).to_string(),
            next_week: next_monday.to_string(),
            days,
            rows,
            form,
            chrome,
        })
    }
    .await;
    match result {
        Ok(page) => render(page.form.errors.status(), &page),
        Err(e) => error_response(state, session, e).await,
    }
}

/// `POST /admin/slots`: adds one slot; refused, the page comes back with the form as typed.
pub(super) async fn add_slot(
    State(state): State<WebState>,
    Extension(session): Extension<AdminSession>,
    body: Bytes,
) -> Response {
    let saved = slot_form::save(&state, &body, |window, details| {
        slots::create_slot(&state.app, window, details)
    })
    .await;
    match saved {
        Ok(slot) => {
            let owner = settings::load_or_defaults(&state.app).await;
            let week = zoned(slot.starts_at, &owner).date();
            see_other(&format!("/admin/slots?week={week}&done=slot_created&n=1"))
        }
        Err(Refused::Fields(form, fields)) => {
            slots_response(&state, &session, &SlotsQuery::default(), form, fields).await
        }
        Err(Refused::Page(e)) => error_response(&state, &session, e).await,
    }
}

/// `POST /admin/slots/bulk`: makes the chosen slots unavailable or available again, or deletes
/// them, then goes back to the view (`back`) it came from.
pub(super) async fn slots_bulk(
    State(state): State<WebState>,
    Extension(session): Extension<AdminSession>,
    body: Bytes,
) -> Response {
    let pairs = form_pairs(&body);
    let Some(action) = SlotBulkAction::parse(form_value(&pairs, "action")) else {
        return error_response(
            &state,
            &session,
            HttpError::field("action", FieldReason::UnknownValue),
        )
        .await;
    };
    let Ok(ids) = pairs
        .iter()
        .filter(|(k, _)| k == "ids")
        .map(|(_, v)| Uuid::parse_str(v))
        .collect::<Result<Vec<Uuid>, _>>()
    else {
        return error_response(
            &state,
            &session,
            HttpError::field("ids", FieldReason::UnknownValue),
        )
        .await;
    };
    let back = match form_value(&pairs, "back") {
        b if b.starts_with("/admin/slots") && !b.starts_with("//") => b.to_owned(),
        _ => "/admin/slots".to_owned(),
    };
    match slots::slots_bulk(&state.app, &ids, action).await {
        Ok(report) => {
            let sep = if back.contains('?') { '&' } else { '?' };
            // A deleted slot has no page to go back to.
            let back = if action == SlotBulkAction::Delete && back.starts_with("/admin/slots/") {
                "/admin/slots".to_owned()
            } else {
                back
            };
            let sep = if back.contains('?') { '&' } else { sep };
            see_other(&format!(
                "{back}{sep}done=slots_changed&n={}&r={}",
                report.done,
                report.refused.len()
            ))
        }
        Err(e) => error_response(&state, &session, e).await,
    }
}

#[derive(Template)]
#[template(path = "admin/slot.html")]
struct SlotPage {
    chrome: Chrome,
    title: String,
    slot: SlotRow,
    form: SlotFormView,
}

/// `GET /admin/slots/{id}`: one slot and its edit form.
pub(super) async fn slot_edit_page(
    State(state): State<WebState>,
    Extension(session): Extension<AdminSession>,
    Path(id): Path<String>,
    Query(flash): Query<FlashQuery>,
) -> Response {
    slot_response(&state, &session, &id, None, FieldErrors::new(), &flash).await
}

async fn slot_response(
    state: &WebState,
    session: &AdminSession,
    id: &str,
    form: Option<SlotForm>,
    field_errors: FieldErrors,
    flash: &FlashQuery,
) -> Response {
    let result = async {
        let id = parse_uuid(id)?;
        let (mut chrome, owner) = chrome(state, session, "slots", flash).await?;
        let tr = chrome.tr.clone();
        let slot = state.app.store.get_slot(id).await?;
        let row = slot_rows(state, &tr, &owner, std::slice::from_ref(&slot))
            .await?
            .remove(0);
        let form = SlotFormView::new(
            &mut chrome,
            Some(row.id.clone()),
            form.unwrap_or_else(|| SlotForm::of_slot(&slot, &owner)),
            &field_errors,
        );
        Ok::<_, HttpError>(SlotPage {
            title: tr.fmt(
                "admin.slot.title",
                &[("when", &format!("{} {}", row.date, row.time))],
            ),
            slot: row,
            form,
            chrome,
        })
    }
    .await;
    match result {
        Ok(page) => render(page.form.errors.status(), &page),
        Err(e) => error_response(state, session, e).await,
    }
}

/// `POST /admin/slots/{id}`: saves the edited slot.
pub(super) async fn slot_edit_submit(
    State(state): State<WebState>,
    Extension(session): Extension<AdminSession>,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let slot_id = match parse_uuid(&id) {
        Ok(slot_id) => slot_id,
        Err(e) => return error_response(&state, &session, e).await,
    };
    let saved = slot_form::save(&state, &body, |window, details| {
        slots::update_slot(&state.app, slot_id, window, details)
    })
    .await;
    match saved {
        Ok(slot) => see_other(&format!("/admin/slots/{}?done=slot_saved&n=1", slot.id)),
        Err(Refused::Fields(form, fields)) => {
            slot_response(
                &state,
                &session,
                &id,
                Some(form),
                fields,
                &FlashQuery::default(),
            )
            .await
        }
        Err(Refused::Page(e)) => error_response(&state, &session, e).await,
    }
}
