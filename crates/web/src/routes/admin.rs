//! The owner API for scripting: slots, bookings, questions and settings, behind `Authorization: Bearer
//! $GUIDANCE_ADMIN_TOKEN` or the owner's admin session (state-changing requests with a session
//! also need its CSRF token in an `X-CSRF-Token` header). With no token configured, bearer
//! access is off.

use axum::body::Bytes;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use guidance_core::FieldReason;
use guidance_core::slot::format_utc;
use guidance_core::{BookingAction, BookingStatus, SlotStatus};
use guidance_store::{Booking, Slot};
use jiff::{SignedDuration, Timestamp};
use serde::Deserialize;
use subtle::ConstantTimeEq;
use utoipa::IntoParams;
use uuid::Uuid;

use super::bodies::{
    BookingDetail, BookingList, EmailBody, ErrorBody, EventBody, GeneratedSlots, NewSlot,
    OwnerActionRequest, OwnerBooking, OwnerSlot, OwnerSlotList, QuestionList, QuestionsChange,
    ReplyBody, ReplyList, ResendRequest, SettingsBody, SettingsChange, SkippedSession, SlotChange,
    SlotPattern,
};
use super::recorder::{RecordedRoute, Recorder};
use crate::error::HttpError;
use crate::extract::read_query;
use crate::extract::{Field, FieldErrors, JsonBody};
use crate::session;
use crate::state::WebState;
use guidance_app::AppError;
use guidance_app::bookings;
use guidance_app::owner_auth;
use guidance_app::settings;
use guidance_core::OwnerSettings;

/// Registers every owner API route; [`routes`] guards them all, [`route_table`] lists them.
fn register(r: Recorder) -> Recorder {
    super::admin_webhooks::register(super::admin_privacy::register(
        super::admin_calendars::register(r),
    ))
    .get("/api/admin/slots", list_slots)
    .post("/api/admin/slots", create_slot)
    .post("/api/admin/slots/generate", generate_slots)
    .patch("/api/admin/slots/{id}", update_slot)
    .delete("/api/admin/slots/{id}", delete_slot)
    .get("/api/admin/bookings", list_bookings)
    .get("/api/admin/bookings/{id}", booking_detail)
    .post("/api/admin/bookings/{id}/resend", resend)
    .post("/api/admin/bookings/{id}/{action}", booking_action)
    .get("/api/admin/questions", list_questions)
    .put("/api/admin/questions", put_questions)
    .get("/api/admin/settings", get_settings)
    .get("/api/admin/replies", list_replies)
    .put("/api/admin/settings", put_settings)
}

/// The owner API routes, each behind the owner check.
pub fn routes(state: WebState) -> Router<WebState> {
    register(Recorder::new())
        .into_router()
        .route_layer(middleware::from_fn_with_state(state, require_owner))
}

/// Every owner API route as registered (method and path pattern).
pub fn route_table() -> Vec<RecordedRoute> {
    register(Recorder::new()).table()
}

/// Lets a request through with the configured bearer token (compared in constant time) or with
/// the owner's session (plus its CSRF header when the request changes something).
async fn require_owner(State(state): State<WebState>, req: Request, next: Next) -> Response {
    let presented = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim);
    let bearer_ok = match (&state.app.settings.admin_token, presented) {
        (Some(expected), Some(given)) => bool::from(expected.as_bytes().ct_eq(given.as_bytes())),
        _ => false,
    };
    if bearer_ok {
        return next.run(req).await;
    }
    if presented.is_none() {
        match session::session_from(&state, req.headers()).await {
            Ok(Some(session)) => {
                let safe = matches!(
                    *req.method(),
                    axum::http::Method::GET | axum::http::Method::HEAD
                );
                let csrf_ok = req
                    .headers()
                    .get(session::CSRF_HEADER)
                    .and_then(|v| v.to_str().ok())
                    .is_some_and(|v| owner_auth::csrf_matches(&session, v));
                if safe || csrf_ok {
                    return next.run(req).await;
                }
                return HttpError::CsrfRefused.into_response();
            }
            Ok(None) => {}
            Err(e) => return e.into_response(),
        }
    }
    let mut resp = HttpError::App(AppError::Unauthorized).into_response();
    resp.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        axum::http::HeaderValue::from_static("Bearer"),
    );
    resp
}

fn slot_json(s: &Slot) -> OwnerSlot {
    OwnerSlot::from(s)
}

fn booking_json(b: &Booking) -> OwnerBooking {
    OwnerBooking::from(b)
}

fn parse_id(raw: &str) -> Result<Uuid, HttpError> {
    Uuid::parse_str(raw).map_err(|_| HttpError::App(AppError::NotFound))
}

/// The query of `GET /api/admin/slots`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SlotListQuery {
    /// Earliest start, RFC 3339 (default: a day ago).
    #[param(format = DateTime)]
    from: Option<String>,
    /// Latest start, RFC 3339 (default: a year ahead).
    #[param(format = DateTime)]
    to: Option<String>,
    /// Only slots in this state: `open`, `booked` or `unavailable`.
    status: Option<String>,
}

/// Lists slots in a time range.
#[utoipa::path(get, path = "/api/admin/slots", tag = "owner", operation_id = "list_owner_slots",
    params(SlotListQuery),
    responses(
        (status = 200, description = "Slots, earliest first", body = OwnerSlotList),
        (status = 400, description = "Unreadable query", body = ErrorBody),
        (status = 422, description = "`from`, `to` or `status` refused", body = ErrorBody),
    ))]
async fn list_slots(
    State(state): State<WebState>,
    q: Result<Query<SlotListQuery>, QueryRejection>,
) -> Result<Response, HttpError> {
    let q = Some(read_query(q)?);
    let parse = |field: &str, v: Option<&String>| -> Result<Option<Timestamp>, HttpError> {
        v.filter(|s| !s.is_empty())
            .map(|s| {
                s.parse::<Timestamp>()
                    .map_err(|_| HttpError::field(field, FieldReason::UnknownValue))
            })
            .transpose()
    };
    let now = state.app.now();
    let from = parse("from", q.as_ref().and_then(|q| q.from.as_ref()))?.unwrap_or_else(|| {
        now.checked_sub(SignedDuration::from_hours(24))
            .expect("in range")
    });
    let to = parse("to", q.as_ref().and_then(|q| q.to.as_ref()))?.unwrap_or_else(|| {
        now.checked_add(SignedDuration::from_hours(24 * 366))
            .expect("in range")
    });
    let status = match q
        .as_ref()
        .and_then(|q| q.status.as_deref())
        .filter(|s| !s.is_empty())
    {
        None => None,
        Some(s) => Some(
            SlotStatus::parse(s)
                .ok_or_else(|| HttpError::field("status", FieldReason::UnknownValue))?,
        ),
    };
    let slots = state.app.store.list_slots(from, to, status).await?;
    Ok(Json(OwnerSlotList {
        slots: slots.iter().map(slot_json).collect(),
    })
    .into_response())
}

/// Publishes a slot.
#[utoipa::path(post, path = "/api/admin/slots", tag = "owner", request_body = NewSlot,
    responses(
        (status = 201, description = "Created", body = OwnerSlot),
        (status = 400, description = "The body is not a JSON object", body = ErrorBody),
        (status = 409, description = "It overlaps another slot (`slot_overlap`)", body = ErrorBody),
        (status = 422, description = "Refused fields", body = ErrorBody),
    ))]
async fn create_slot(
    State(state): State<WebState>,
    JsonBody(new): JsonBody<NewSlot>,
) -> Result<Response, HttpError> {
    let wrong = new.wrong_types();
    let (window, details) = slot_fields(wrong, &new.starts_at, &new.ends_at, &new.meeting_details)?;
    let slot = guidance_app::slots::create_slot(&state.app, window, details).await?;
    Ok((StatusCode::CREATED, Json(slot_json(&slot))).into_response())
}

/// Checks a slot's times and meeting details, reporting every refused field at once, the fields
/// already refused for their JSON type (`wrong`) among them.
fn slot_fields(
    wrong: FieldErrors,
    starts_at: &Field<String>,
    ends_at: &Field<String>,
    meeting_details: &Field<String>,
) -> Result<(guidance_core::SlotWindow, Option<String>), HttpError> {
    let mut fields = wrong;
    let mut time = |name: &str, field: &Field<String>| match field {
        Field::Value(s) => s
            .parse::<Timestamp>()
            .map_err(|_| fields.add(name, FieldReason::UnknownValue))
            .ok(),
        Field::Missing | Field::Null => {
            fields.add(name, FieldReason::Empty);
            None
        }
        Field::WrongType => None,
    };
    let starts_at = time("starts_at", starts_at);
    let ends_at = time("ends_at", ends_at);
    let details = if meeting_details.is_wrong_type() {
        None
    } else {
        match guidance_app::slots::parse_meeting_details(
            meeting_details.value().map(String::as_str),
        ) {
            Ok(d) => d,
            Err(AppError::Invalid(f)) => {
                fields.extend(f);
                None
            }
            Err(e) => return Err(e.into()),
        }
    };
    if !fields.is_empty() {
        return Err(HttpError::App(AppError::Invalid(fields)));
    }
    Ok((
        guidance_app::slots::parse_slot_window(starts_at, ends_at)?,
        details,
    ))
}

/// Creates the slots of a weekly pattern in the owner's time zone; sessions that overlap a slot,
/// lie in the past or fall on a nonexistent local time are skipped and reported.
#[utoipa::path(post, path = "/api/admin/slots/generate", tag = "owner", request_body = SlotPattern,
    responses(
        (status = 201, description = "The slots created and the sessions skipped", body = GeneratedSlots),
        (status = 400, description = "The body is not a pattern (not JSON, or fields of the wrong type)", body = ErrorBody),
        (status = 422, description = "Refused fields", body = ErrorBody),
    ))]
async fn generate_slots(
    State(state): State<WebState>,
    JsonBody(b): JsonBody<SlotPattern>,
) -> Result<Response, HttpError> {
    let raw = guidance_core::pattern::RawPattern {
        weekdays: b.weekdays.iter().map(u8::to_string).collect(),
        window_start: b.window_start,
        window_end: b.window_end,
        session_minutes: b.session_minutes.to_string(),
        gap_minutes: b.gap_minutes.to_string(),
        first_day: b.first_day,
        last_day: b.last_day,
    };
    let report = guidance_app::patterns::generate_slots(&state.app, &raw).await?;
    Ok((
        StatusCode::CREATED,
        Json(GeneratedSlots {
            created: report.created.iter().map(slot_json).collect(),
            skipped: report
                .skipped
                .iter()
                .map(|(date, time, why)| SkippedSession {
                    date: date.to_string(),
                    time: time.strftime("%H:%M").to_string(),
                    reason: why.code(),
                })
                .collect(),
        }),
    )
        .into_response())
}

/// Opens or withdraws a slot, or moves it.
#[utoipa::path(patch, path = "/api/admin/slots/{id}", tag = "owner", params(SlotId),
    request_body = SlotChange,
    responses(
        (status = 200, description = "The slot as it is now", body = OwnerSlot),
        (status = 400, description = "The body is not a JSON object", body = ErrorBody),
        (status = 404, description = "No such slot", body = ErrorBody),
        (status = 409, description = "It is booked (`slot_booked`) or would overlap another (`slot_overlap`)", body = ErrorBody),
        (status = 422, description = "Refused fields, or nothing to change", body = ErrorBody),
    ))]
async fn update_slot(
    State(state): State<WebState>,
    Path(SlotId { id }): Path<SlotId>,
    body: Bytes,
) -> Result<Response, HttpError> {
    let id = parse_id(&id)?;
    let change: SlotChange = JsonBody::parse(&body)?;
    // Every field is read before anything changes, so a refused status leaves the times alone.
    // A refused status is answered at once, with every other mistyped field.
    let mut wrong = change.wrong_types();
    let available = match change.status.value().map(String::as_str) {
        Some("open") => Some(true),
        Some("unavailable") => Some(false),
        Some(_) => {
            wrong.add("status", FieldReason::UnknownValue);
            None
        }
        None => None,
    };
    if wrong.contains("status") {
        return Err(HttpError::App(AppError::Invalid(wrong)));
    }
    let mut slot = None;
    if !(change.starts_at.is_missing()
        && change.ends_at.is_missing()
        && change.meeting_details.is_missing())
    {
        // What the change leaves out keeps its current value.
        let current = state.app.store.get_slot(id).await?;
        let starts_at = change
            .starts_at
            .or(Field::Value(format_utc(current.starts_at)));
        let ends_at = change.ends_at.or(Field::Value(format_utc(current.ends_at)));
        let details = change
            .meeting_details
            .or(current.meeting_details.map_or(Field::Missing, Field::Value));
        let (window, details) = slot_fields(wrong, &starts_at, &ends_at, &details)?;
        slot = Some(guidance_app::slots::update_slot(&state.app, id, window, details).await?);
    }
    if let Some(available) = available {
        slot = Some(guidance_app::slots::set_slot_available(&state.app, id, available).await?);
    }
    let slot = slot.ok_or_else(|| HttpError::field("status", FieldReason::Empty))?;
    Ok(Json(slot_json(&slot)).into_response())
}

/// Deletes a slot that no booking holds.
#[utoipa::path(delete, path = "/api/admin/slots/{id}", tag = "owner", params(SlotId),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "No such slot", body = ErrorBody),
        (status = 409, description = "A booking holds it (`slot_booked`)", body = ErrorBody),
    ))]
async fn delete_slot(
    State(state): State<WebState>,
    Path(SlotId { id }): Path<SlotId>,
) -> Result<Response, HttpError> {
    guidance_app::slots::delete_slot(&state.app, parse_id(&id)?).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// The path of a slot.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct SlotId {
    /// The slot's id (anything else is a 404).
    #[param(format = Uuid)]
    id: String,
}

/// The path of a booking.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct BookingId {
    /// The booking's id (anything else is a 404).
    #[param(format = Uuid)]
    id: String,
}

/// The query of `GET /api/admin/bookings`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct BookingListQuery {
    /// Only bookings in this state.
    #[param(schema_with = super::bodies::booking_status_schema)]
    status: Option<String>,
    /// Part of the requester's name, email or topic (any case).
    q: Option<String>,
}

/// Lists bookings, optionally by state and matching a search.
#[utoipa::path(get, path = "/api/admin/bookings", tag = "owner", params(BookingListQuery),
    responses(
        (status = 200, description = "Bookings", body = BookingList),
        (status = 400, description = "Unreadable query", body = ErrorBody),
        (status = 422, description = "Unknown `status`", body = ErrorBody),
    ))]
async fn list_bookings(
    State(state): State<WebState>,
    q: Result<Query<BookingListQuery>, QueryRejection>,
) -> Result<Response, HttpError> {
    let q = read_query(q)?;
    let status = match q.status.filter(|s| !s.is_empty()) {
        None => None,
        Some(s) => Some(
            BookingStatus::parse(&s)
                .ok_or_else(|| HttpError::field("status", FieldReason::UnknownValue))?,
        ),
    };
    let bookings =
        bookings::find_bookings(&state.app, status, q.q.as_deref().unwrap_or("")).await?;
    Ok(Json(BookingList {
        bookings: bookings.iter().map(booking_json).collect(),
    })
    .into_response())
}

/// A booking with its history and its emails.
#[utoipa::path(get, path = "/api/admin/bookings/{id}", tag = "owner", params(BookingId),
    responses(
        (status = 200, description = "The booking", body = BookingDetail),
        (status = 404, description = "No such booking", body = ErrorBody),
    ))]
async fn booking_detail(
    State(state): State<WebState>,
    Path(BookingId { id }): Path<BookingId>,
) -> Result<Response, HttpError> {
    let id = parse_id(&id)?;
    let booking = state.app.store.get_booking(id).await?;
    let events = state.app.store.booking_events(id).await?;
    let emails = state.app.store.booking_emails(id).await?;
    Ok(Json(BookingDetail {
        booking: booking_json(&booking),
        events: events.iter().map(EventBody::from).collect(),
        emails: emails.iter().map(EmailBody::from).collect(),
    })
    .into_response())
}

/// `POST /api/admin/bookings/{id}/resend` with `{"email_id"}`: queues that email of the booking
/// again, with the same bytes and Message-ID. `202` with the email; `404` when the booking has
/// no such email; `409` while a worker is sending it.
#[utoipa::path(post, path = "/api/admin/bookings/{id}/resend", tag = "owner", params(BookingId),
    request_body = ResendRequest,
    responses(
        (status = 202, description = "Queued again", body = EmailBody),
        (status = 400, description = "The body is not a JSON object", body = ErrorBody),
        (status = 404, description = "No such booking, or it has no such email", body = ErrorBody),
        (status = 409, description = "The email is being sent right now", body = ErrorBody),
        (status = 422, description = "`email_id` missing or not an id", body = ErrorBody),
    ))]
async fn resend(
    State(state): State<WebState>,
    Path(BookingId { id }): Path<BookingId>,
    body: Bytes,
) -> Result<Response, HttpError> {
    let booking_id = parse_id(&id)?;
    let request: ResendRequest = JsonBody::parse(&body)?;
    let wrong = request.wrong_types();
    if !wrong.is_empty() {
        return Err(HttpError::App(AppError::Invalid(wrong)));
    }
    let email_id = match request.email_id.value() {
        None => return Err(HttpError::field("email_id", FieldReason::Empty)),
        Some(raw) => Uuid::parse_str(raw.trim())
            .map_err(|_| HttpError::field("email_id", FieldReason::UnknownValue))?,
    };
    let msg = bookings::resend_email(&state.app, booking_id, email_id).await?;
    Ok((StatusCode::ACCEPTED, Json(EmailBody::from(&msg))).into_response())
}

/// The path of an owner action on a booking.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct BookingActionPath {
    /// The booking's id (anything else is a 404).
    #[param(format = Uuid)]
    id: String,
    /// What to do (anything else is a 404).
    #[param(value_type = OwnerAction, inline)]
    action: String,
}

/// The actions of `POST /api/admin/bookings/{id}/{action}`, as [`booking_action`] reads them.
#[derive(utoipa::ToSchema)]
#[schema(rename_all = "snake_case")]
#[expect(
    dead_code,
    reason = "only describes the path segment in the OpenAPI document"
)]
enum OwnerAction {
    Accept,
    Decline,
    Reschedule,
    Cancel,
}

/// Accepts, declines, asks to reschedule or cancels a booking; the requester is told by email.
#[utoipa::path(post, path = "/api/admin/bookings/{id}/{action}", tag = "owner",
    params(BookingActionPath),
    request_body(content = Option<OwnerActionRequest>, description = "Optional: a message for the requester"),
    responses(
        (status = 200, description = "The booking as it is now", body = OwnerBooking),
        (status = 400, description = "The body is not a JSON object", body = ErrorBody),
        (status = 404, description = "No such booking or action", body = ErrorBody),
        (status = 409, description = "Not allowed in the booking's state (`invalid_transition`), or changed meanwhile (`conflict`)", body = ErrorBody),
        (status = 422, description = "The message is too long or not text, or a proposed slot is not open, unknown, given twice, or one of more than three (`proposed_slot_ids`, `proposed_slot_ids.<index>`); nothing changed", body = ErrorBody),
    ))]
async fn booking_action(
    State(state): State<WebState>,
    Path(BookingActionPath { id, action }): Path<BookingActionPath>,
    body: Bytes,
) -> Result<Response, HttpError> {
    let id = parse_id(&id)?;
    let action = BookingAction::parse_by_owner(&action).ok_or(AppError::NotFound)?;
    // No body at all is no message.
    let (message, proposed) = if body.is_empty() {
        (None, Vec::new())
    } else {
        let request: OwnerActionRequest = JsonBody::parse(&body)?;
        let wrong = request.wrong_types();
        if !wrong.is_empty() {
            return Err(HttpError::App(AppError::Invalid(wrong)));
        }
        let proposed = request
            .proposed_slot_ids
            .value()
            .cloned()
            .unwrap_or_default();
        (request.message.value().cloned(), proposed)
    };
    let booking = if action == BookingAction::Reschedule {
        let message = message.as_deref();
        guidance_app::proposals::owner_reschedule(&state.app, id, message, &proposed).await?
    } else if !proposed.is_empty() {
        // Times are proposed only with a reschedule.
        return Err(AppError::field("proposed_slot_ids", FieldReason::UnknownValue).into());
    } else {
        bookings::owner_action(&state.app, id, action, message.as_deref()).await?
    };
    Ok(Json(booking_json(&booking)).into_response())
}

/// The owner's supplemental questions.
#[utoipa::path(get, path = "/api/admin/questions", tag = "owner",
    responses((status = 200, description = "The questions", body = QuestionList)))]
async fn list_questions(State(state): State<WebState>) -> Result<Response, HttpError> {
    let questions = guidance_app::questions::questions(&state.app).await?;
    Ok(Json(QuestionList { questions }).into_response())
}

/// Replaces the whole list of supplemental questions.
#[utoipa::path(put, path = "/api/admin/questions", tag = "owner", request_body = QuestionsChange,
    responses(
        (status = 200, description = "The questions now in force", body = QuestionList),
        (status = 400, description = "The body is not a JSON object", body = ErrorBody),
        (status = 422, description = "Refused, fields named `questions.<index>.<field>`", body = ErrorBody),
    ))]
async fn put_questions(
    State(state): State<WebState>,
    JsonBody(change): JsonBody<QuestionsChange>,
) -> Result<Response, HttpError> {
    // The question rules read each question, and refuse anything but a list (`wrong_type`).
    let raw = match change.questions {
        Field::Value(list) => serde_json::Value::Array(list),
        _ => serde_json::Value::Null,
    };
    let questions = guidance_app::questions::replace_questions(&state.app, &raw).await?;
    Ok(Json(QuestionList { questions }).into_response())
}

fn settings_json(s: &OwnerSettings) -> SettingsBody {
    SettingsBody {
        booking_open: s.booking_open,
        owner_name: s.owner_name.clone(),
        owner_email: s.owner_email.clone(),
        time_zone: s.time_zone.as_str().to_owned(),
        language: s.language,
        min_notice_hours: s.min_notice_hours,
        horizon_days: s.horizon_days,
        confirm_email: s.confirm_email,
        answer_within_hours: s.answer_within_hours,
        answer_reminder_hours: s.answer_reminder_hours,
        reminder_offsets_minutes: s.reminder_offsets_minutes.minutes().to_vec(),
        remind_owner: s.remind_owner,
        proposed_time_needs_approval: s.proposed_time_needs_approval,
        busy_buffer_minutes: s.busy_buffer_minutes,
        calendar_fail_open: s.calendar_fail_open,
        retention_days: s.retention_days,
    }
}

/// The owner settings in force.
#[utoipa::path(get, path = "/api/admin/settings", tag = "owner",
    responses((status = 200, description = "The settings", body = SettingsBody)))]
async fn get_settings(State(state): State<WebState>) -> Result<Response, HttpError> {
    Ok(Json(settings_json(&settings::load(&state.app).await?)).into_response())
}

/// Changes any subset of the owner settings; the others keep their value.
#[utoipa::path(put, path = "/api/admin/settings", tag = "owner", request_body = SettingsChange,
    responses(
        (status = 200, description = "The settings now in force", body = SettingsBody),
        (status = 400, description = "The body is not a JSON object", body = ErrorBody),
        (status = 422, description = "Refused fields", body = ErrorBody),
    ))]
async fn put_settings(
    State(state): State<WebState>,
    JsonBody(change): JsonBody<SettingsChange>,
) -> Result<Response, HttpError> {
    let saved = settings::change(&state.app, &change.into_change()).await?;
    Ok(Json(settings_json(&saved)).into_response())
}

/// The latest calendar replies read from the service mailbox (newest first, at most 100), what
/// became of each, and whether the mailbox is read.
#[utoipa::path(get, path = "/api/admin/replies", tag = "owner",
    responses((status = 200, description = "The replies", body = ReplyList)))]
async fn list_replies(State(state): State<WebState>) -> Result<Response, HttpError> {
    let status = guidance_app::replies::reading_status(&state.app).await?;
    let replies = guidance_app::replies::list(&state.app).await?;
    let last = status.last.as_ref();
    Ok(Json(ReplyList {
        mailbox: status.mailbox.clone(),
        checked_at: last.and_then(|l| l.checked_at).map(format_utc),
        last_error: last.and_then(|l| l.last_error.clone()),
        replies: replies
            .into_iter()
            .map(|r| ReplyBody {
                message_id: r.message_id,
                received_at: format_utc(r.received_at),
                sender: r.sender,
                method: r.method,
                partstat: r.partstat,
                ics_uid: r.ics_uid,
                booking_id: r.booking_id,
                outcome: r.outcome.as_str(),
                reason: r.reason,
            })
            .collect(),
    })
    .into_response())
}
