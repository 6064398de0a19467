//! The bookings: the list with its status filters and search, and the page of one booking with
//! the owner's actions, its emails and its history.

use askama::Template;
use axum::body::Bytes;
use axum::extract::{Extension, Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use guidance_app::AppError;
use guidance_app::bookings;
use guidance_app::owner_auth::AdminSession;
use guidance_app::proposals;
use guidance_app::slots;
use guidance_core::FieldReason;
use guidance_core::i18n::format_span;
use guidance_core::{BookingAction, BookingStatus, SlotStatus};
use serde::Deserialize;

use super::chrome::{Chrome, FlashQuery, chrome, error_response, render, see_other};
use super::form::{form_pairs, form_value, parse_uuid};
use super::format::{BookingRow, EmailRow, booking_row, email_row, label_or_code, short_moment};
use crate::error::HttpError;
use crate::state::WebState;

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct BookingsQuery {
    status: String,
    q: String,
}

/// A status filter link.
struct FilterLink {
    value: String,
    label: String,
    count: usize,
    active: bool,
}

#[derive(Template)]
#[template(path = "admin/bookings.html")]
struct BookingsPage {
    chrome: Chrome,
    title: String,
    filters: Vec<FilterLink>,
    status: String,
    q: String,
    rows: Vec<BookingRow>,
}

/// `GET /admin/bookings`: every booking, filtered by `status` and searched with `q`.
pub(super) async fn bookings_page(
    State(state): State<WebState>,
    Extension(session): Extension<AdminSession>,
    Query(q): Query<BookingsQuery>,
) -> Response {
    let result = async {
        let (chrome, owner) = chrome(&state, &session, "bookings", &FlashQuery::default()).await?;
        let tr = &chrome.tr;
        let status = match q.status.as_str() {
            "" => None,
            s => Some(
                BookingStatus::parse(s)
                    .ok_or_else(|| HttpError::field("status", FieldReason::UnknownValue))?,
            ),
        };
        // Counts per status for the filter links honour the search, so they say what a click shows.
        let all = bookings::find_bookings(&state.app, None, &q.q).await?;
        let mut filters = vec![FilterLink {
            value: String::new(),
            label: tr.get("admin.bookings.filter.all"),
            count: all.len(),
            active: status.is_none(),
        }];
        for s in BookingStatus::ALL {
            filters.push(FilterLink {
                value: s.as_str().to_owned(),
                label: tr.get(&format!("admin.status.{}", s.as_str())),
                count: all.iter().filter(|b| b.status == s).count(),
                active: status == Some(s),
            });
        }
        let rows = all
            .iter()
            .filter(|b| status.is_none_or(|s| b.status == s))
            .map(|b| booking_row(tr, &owner, b))
            .collect();
        Ok::<_, HttpError>(BookingsPage {
            title: tr.get("admin.bookings.title"),
            filters,
            status: q.status.clone(),
            q: q.q.clone(),
            rows,
            chrome,
        })
    }
    .await;
    match result {
        Ok(page) => render(StatusCode::OK, &page),
        Err(e) => error_response(&state, &session, e).await,
    }
}

/// One line of a booking's history.
struct EventRow {
    when: String,
    actor: String,
    action: String,
    change: String,
    note: String,
}

/// An action the owner may take now.
struct ActionChoice {
    action: &'static str,
    label: String,
    hint: String,
    danger: bool,
}

#[derive(Template)]
#[template(path = "admin/booking.html")]
struct BookingPage {
    chrome: Chrome,
    title: String,
    b: BookingRow,
    when_full: String,
    requester_when: String,
    topic_full: String,
    answers: Vec<(String, String)>,
    actions: Vec<ActionChoice>,
    events: Vec<EventRow>,
    emails: Vec<EmailRow>,
    slot_id: Option<String>,
    slot_status: Option<String>,
    slot_can_be_withdrawn: bool,
    /// The longest message the owner may add to an action.
    message_max: usize,
    /// The open times the owner may propose with a reschedule: ids and when (their zone).
    proposable: Vec<(String, String)>,
}

/// `GET /admin/bookings/{id}`.
pub(super) async fn booking_page(
    State(state): State<WebState>,
    Extension(session): Extension<AdminSession>,
    Path(id): Path<String>,
    Query(flash): Query<FlashQuery>,
) -> Response {
    let result = async {
        let id = parse_uuid(&id)?;
        let (chrome, owner) = chrome(&state, &session, "bookings", &flash).await?;
        let tr = &chrome.tr;
        let b = state.app.store.get_booking(id).await?;
        let events = state.app.store.booking_events(id).await?;
        let emails = state.app.store.booking_emails(id).await?;
        let slot = match b.slot_id {
            Some(s) => match state.app.store.get_slot(s).await {
                Ok(slot) => Some(slot),
                Err(guidance_store::StoreError::NotFound) => None,
                Err(e) => return Err(e.into()),
            },
            None => None,
        };
        let answers = tr.answers(&b.parsed_answers());
        let actions = BookingAction::BY_OWNER
            .into_iter()
            .filter(|a| a.allowed_from(b.status))
            .map(|a| ActionChoice {
                action: a.as_str(),
                label: tr.get(&format!("admin.booking.action.{}", a.as_str())),
                hint: tr.get(&format!("admin.booking.action.{}.hint", a.as_str())),
                danger: a.ends_booking(),
            })
            .collect();
        let status_label = |s: &str| label_or_code(tr, "admin.status", s);
        let events = events
            .iter()
            .map(|e| EventRow {
                when: short_moment(tr, &owner, e.created_at),
                actor: label_or_code(tr, "admin.actor", &e.actor),
                action: label_or_code(tr, "admin.event", &e.action),
                change: match &e.from_status {
                    Some(from) => {
                        format!("{} → {}", status_label(from), status_label(&e.to_status))
                    }
                    None => status_label(&e.to_status),
                },
                note: e.note.clone().unwrap_or_default(),
            })
            .collect();
        let row = booking_row(tr, &owner, &b);
        let proposable = if BookingAction::Reschedule.allowed_from(b.status) {
            let zone = owner.time_zone.as_str();
            proposals::proposable(&state.app)
                .await?
                .iter()
                .map(|s| {
                    let when = format_span(tr.lang, s.starts_at, s.ends_at, zone);
                    (s.id.to_string(), when)
                })
                .collect()
        } else {
            Vec::new()
        };
        Ok::<_, HttpError>(BookingPage {
            proposable,
            title: tr.fmt("admin.booking.title", &[("name", &b.name)]),
            when_full: format_span(tr.lang, b.starts_at, b.ends_at, owner.time_zone.as_str()),
            requester_when: format_span(tr.lang, b.starts_at, b.ends_at, &b.time_zone),
            topic_full: b.topic.clone(),
            answers,
            actions,
            events,
            emails: emails
                .iter()
                .map(|m| EmailRow {
                    text: guidance_app::outbox::readable_text(&state.app, m).unwrap_or_default(),
                    ..email_row(tr, &owner, m)
                })
                .collect(),
            slot_id: slot.as_ref().map(|s| s.id.to_string()),
            slot_status: slot
                .as_ref()
                .map(|s| tr.get(&format!("admin.slot_status.{}", s.status.as_str()))),
            slot_can_be_withdrawn: slot.as_ref().is_some_and(|s| s.status == SlotStatus::Open),
            message_max: guidance_core::booking::OWNER_MESSAGE_MAX,
            b: row,
            chrome,
        })
    }
    .await;
    match result {
        Ok(page) => render(StatusCode::OK, &page),
        Err(e) => error_response(&state, &session, e).await,
    }
}

/// `POST /admin/bookings/{id}/act`: the owner's action (`action`), with an optional message.
pub(super) async fn booking_act(
    State(state): State<WebState>,
    Extension(session): Extension<AdminSession>,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let pairs = form_pairs(&body);
    let result = async {
        let booking_id = parse_uuid(&id)?;
        let action = BookingAction::parse_by_owner(form_value(&pairs, "action"))
            .ok_or_else(|| AppError::field("action", FieldReason::UnknownValue))?;
        let message = form_value(&pairs, "message");
        if action == BookingAction::Reschedule {
            let proposed: Vec<String> = pairs
                .iter()
                .filter(|(k, _)| k == "proposed_slot_ids")
                .map(|(_, v)| v.clone())
                .collect();
            let app = &state.app;
            return Ok(
                proposals::owner_reschedule(app, booking_id, Some(message), &proposed).await?,
            );
        }
        Ok::<_, HttpError>(
            bookings::owner_action(&state.app, booking_id, action, Some(message)).await?,
        )
    }
    .await;
    match result {
        Ok(b) => see_other(&format!("/admin/bookings/{}?done=action_done", b.id)),
        Err(e) => error_response(&state, &session, e).await,
    }
}

/// `POST /admin/bookings/{id}/emails/{email_id}/resend`: queues a copy of one email.
pub(super) async fn booking_resend(
    State(state): State<WebState>,
    Extension(session): Extension<AdminSession>,
    Path((id, email_id)): Path<(String, String)>,
) -> Response {
    let result = async {
        let booking_id = parse_uuid(&id)?;
        bookings::resend_email(&state.app, booking_id, parse_uuid(&email_id)?).await?;
        Ok::<_, HttpError>(booking_id)
    }
    .await;
    match result {
        Ok(b) => see_other(&format!("/admin/bookings/{b}?done=email_queued")),
        Err(e) => error_response(&state, &session, e).await,
    }
}

/// `POST /admin/bookings/{id}/slot-unavailable`: withdraws the slot a booking left open.
pub(super) async fn booking_slot_unavailable(
    State(state): State<WebState>,
    Extension(session): Extension<AdminSession>,
    Path(id): Path<String>,
) -> Response {
    let result = async {
        let booking_id = parse_uuid(&id)?;
        slots::make_booking_slot_unavailable(&state.app, booking_id).await?;
        Ok::<_, HttpError>(booking_id)
    }
    .await;
    match result {
        Ok(b) => see_other(&format!("/admin/bookings/{b}?done=slot_unavailable")),
        Err(e) => error_response(&state, &session, e).await,
    }
}
