//! The owner API for scripting: slots, bookings, questions and settings, behind `Authorization: Bearer
//! $GUIDANCE_ADMIN_TOKEN` or the owner's admin session (state-changing requests with a session
//! also need its CSRF token in an `X-CSRF-Token` header). With no token configured, bearer
//! access is off.

use axum::body::Bytes;
use axum::extract::{Path, Query, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use guidance_core::slot::format_utc;
use guidance_core::{BookingAction, BookingStatus, SlotStatus};
use guidance_store::{Booking, OutboxMessage, Slot};
use jiff::{SignedDuration, Timestamp};
use serde::Deserialize;
use subtle::ConstantTimeEq;
use uuid::Uuid;

use super::recorder::{RecordedRoute, Recorder};
use super::{parse_json, parse_json_object};
use crate::auth;
use crate::error::ServiceError;
use crate::owner_settings::{self, SettingsForm};
use crate::service;
use crate::state::AppState;

/// Registers every owner API route; [`routes`] guards them all, [`route_table`] lists them.
fn register(r: Recorder) -> Recorder {
    r.get("/api/admin/slots", list_slots)
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
        .put("/api/admin/settings", put_settings)
}

/// The owner API routes, each behind the owner check.
pub fn routes(state: AppState) -> Router<AppState> {
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
async fn require_owner(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let presented = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim);
    let bearer_ok = match (&state.settings.admin_token, presented) {
        (Some(expected), Some(given)) => bool::from(expected.as_bytes().ct_eq(given.as_bytes())),
        _ => false,
    };
    if bearer_ok {
        return next.run(req).await;
    }
    if presented.is_none() {
        match auth::session_from(&state, req.headers()).await {
            Ok(Some((session, _))) => {
                let safe = matches!(
                    *req.method(),
                    axum::http::Method::GET | axum::http::Method::HEAD
                );
                let csrf_ok = req
                    .headers()
                    .get(auth::CSRF_HEADER)
                    .and_then(|v| v.to_str().ok())
                    .is_some_and(|v| auth::csrf_matches(&session, v));
                if safe || csrf_ok {
                    return next.run(req).await;
                }
                return ServiceError::CsrfRefused.into_response();
            }
            Ok(None) => {}
            Err(e) => return e.into_response(),
        }
    }
    let mut resp = ServiceError::Unauthorized.into_response();
    resp.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        axum::http::HeaderValue::from_static("Bearer"),
    );
    resp
}

fn slot_json(s: &Slot) -> serde_json::Value {
    serde_json::json!({
        "id": s.id,
        "starts_at": format_utc(s.starts_at),
        "ends_at": format_utc(s.ends_at),
        "status": s.status,
        "meeting_details": s.meeting_details,
    })
}

fn booking_json(b: &Booking) -> serde_json::Value {
    serde_json::json!({
        "id": b.id,
        "slot_id": b.slot_id,
        "status": b.status,
        "starts_at": format_utc(b.starts_at),
        "ends_at": format_utc(b.ends_at),
        "name": b.name,
        "email": b.email,
        "topic": b.topic,
        "priority": b.priority,
        "answers": b.answers,
        "locale": b.locale,
        "time_zone": b.time_zone,
        "ics_uid": b.ics_uid,
        "ics_sequence": b.ics_sequence,
        "created_at": format_utc(b.created_at),
        "updated_at": format_utc(b.updated_at),
    })
}

fn parse_id(raw: &str) -> Result<Uuid, ServiceError> {
    Uuid::parse_str(raw).map_err(|_| ServiceError::NotFound)
}

#[derive(Debug, Deserialize)]
struct SlotListQuery {
    from: Option<String>,
    to: Option<String>,
    status: Option<String>,
}

async fn list_slots(
    State(state): State<AppState>,
    Query(q): Query<SlotListQuery>,
) -> Result<Response, ServiceError> {
    let q = Some(q);
    let parse = |field: &str, v: Option<&String>| -> Result<Option<Timestamp>, ServiceError> {
        v.filter(|s| !s.is_empty())
            .map(|s| {
                s.parse::<Timestamp>()
                    .map_err(|_| ServiceError::field(field, "unknown_value"))
            })
            .transpose()
    };
    let now = Timestamp::now();
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
            SlotStatus::parse(s).ok_or_else(|| ServiceError::field("status", "unknown_value"))?,
        ),
    };
    let slots = state.store.list_slots(from, to, status).await?;
    Ok(
        Json(serde_json::json!({"slots": slots.iter().map(slot_json).collect::<Vec<_>>()}))
            .into_response(),
    )
}

fn text(
    obj: &serde_json::Map<String, serde_json::Value>,
    name: &str,
) -> Result<Option<String>, ServiceError> {
    match obj.get(name) {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(serde_json::Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(ServiceError::field(name, "wrong_type")),
    }
}

async fn create_slot(State(state): State<AppState>, body: Bytes) -> Result<Response, ServiceError> {
    let obj = &parse_json_object(&body)?;
    let (window, details) = slot_fields(obj)?;
    let slot = service::create_slot(&state, window, details).await?;
    Ok((StatusCode::CREATED, Json(slot_json(&slot))).into_response())
}

/// Reads `starts_at`, `ends_at` and `meeting_details`, reporting every refused field at once.
fn slot_fields(
    obj: &serde_json::Map<String, serde_json::Value>,
) -> Result<(guidance_core::SlotWindow, Option<String>), ServiceError> {
    let mut fields = std::collections::BTreeMap::new();
    let mut time = |name: &str| match text(obj, name) {
        Ok(Some(s)) => s
            .parse::<Timestamp>()
            .map_err(|_| fields.insert(name.to_owned(), "unknown_value".to_owned()))
            .ok(),
        Ok(None) => {
            fields.insert(name.to_owned(), "empty".to_owned());
            None
        }
        Err(_) => {
            fields.insert(name.to_owned(), "wrong_type".to_owned());
            None
        }
    };
    let starts_at = time("starts_at");
    let ends_at = time("ends_at");
    let details = match text(obj, "meeting_details")
        .and_then(|d| service::parse_meeting_details(d.as_deref()))
    {
        Ok(d) => d,
        Err(ServiceError::Invalid(f)) => {
            fields.extend(f);
            None
        }
        Err(e) => return Err(e),
    };
    if !fields.is_empty() {
        return Err(ServiceError::Invalid(fields));
    }
    Ok((service::parse_slot_window(starts_at, ends_at)?, details))
}

/// `POST /api/admin/slots/generate`: a weekly pattern in the owner's time zone.
async fn generate_slots(
    State(state): State<AppState>,
    body: Bytes,
) -> Result<Response, ServiceError> {
    #[derive(Deserialize)]
    struct Body {
        weekdays: Vec<u8>,
        window_start: String,
        window_end: String,
        session_minutes: u32,
        #[serde(default)]
        gap_minutes: u32,
        first_day: String,
        last_day: String,
    }
    let b: Body = parse_json(&body)?;
    let raw = guidance_core::pattern::RawPattern {
        weekdays: b.weekdays.iter().map(u8::to_string).collect(),
        window_start: b.window_start,
        window_end: b.window_end,
        session_minutes: b.session_minutes.to_string(),
        gap_minutes: b.gap_minutes.to_string(),
        first_day: b.first_day,
        last_day: b.last_day,
    };
    let report = service::generate_slots(&state, &raw).await?;
    Ok((
        StatusCode::CREATED,
        Json(serde_json::json!({
            "created": report.created.iter().map(slot_json).collect::<Vec<_>>(),
            "skipped": report.skipped.iter().map(|(date, time, why)| serde_json::json!({
                "date": date.to_string(),
                "time": time.strftime("%H:%M").to_string(),
                "reason": why.code(),
            })).collect::<Vec<_>>(),
        })),
    )
        .into_response())
}

async fn update_slot(
    State(state): State<AppState>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, ServiceError> {
    let id = parse_id(&id)?;
    let obj = &parse_json_object(&body)?;
    let mut slot = None;
    if obj.contains_key("starts_at")
        || obj.contains_key("ends_at")
        || obj.contains_key("meeting_details")
    {
        let current = state.store.get_slot(id).await?;
        let mut merged = serde_json::Map::new();
        merged.insert("starts_at".into(), format_utc(current.starts_at).into());
        merged.insert("ends_at".into(), format_utc(current.ends_at).into());
        if let Some(d) = current.meeting_details {
            merged.insert("meeting_details".into(), d.into());
        }
        merged.extend(obj.clone());
        let (window, details) = slot_fields(&merged)?;
        slot = Some(service::update_slot(&state, id, window, details).await?);
    }
    let available = match text(obj, "status")?.as_deref() {
        Some("open") => Some(true),
        Some("unavailable") => Some(false),
        Some(_) => return Err(ServiceError::field("status", "unknown_value")),
        None => None,
    };
    if let Some(available) = available {
        slot = Some(service::set_slot_available(&state, id, available).await?);
    }
    let slot = slot.ok_or_else(|| ServiceError::field("status", "empty"))?;
    Ok(Json(slot_json(&slot)).into_response())
}

async fn delete_slot(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, ServiceError> {
    service::delete_slot(&state, parse_id(&id)?).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[derive(Debug, Deserialize)]
struct BookingListQuery {
    status: Option<String>,
    q: Option<String>,
}

async fn list_bookings(
    State(state): State<AppState>,
    Query(q): Query<BookingListQuery>,
) -> Result<Response, ServiceError> {
    let status = match q.status.filter(|s| !s.is_empty()) {
        None => None,
        Some(s) => Some(
            BookingStatus::parse(&s)
                .ok_or_else(|| ServiceError::field("status", "unknown_value"))?,
        ),
    };
    let bookings = service::find_bookings(&state, status, q.q.as_deref().unwrap_or("")).await?;
    Ok(
        Json(
            serde_json::json!({"bookings": bookings.iter().map(booking_json).collect::<Vec<_>>()}),
        )
        .into_response(),
    )
}

async fn booking_detail(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, ServiceError> {
    let id = parse_id(&id)?;
    let booking = state.store.get_booking(id).await?;
    let events = state.store.booking_events(id).await?;
    let emails = state.store.booking_emails(id).await?;
    let mut body = booking_json(&booking);
    body["events"] =
        serde_json::json!(events
        .iter()
        .map(|e| serde_json::json!({
            "actor": e.actor, "action": e.action, "from_status": e.from_status,
            "to_status": e.to_status, "note": e.note, "created_at": format_utc(e.created_at),
        }))
        .collect::<Vec<_>>());
    body["emails"] = serde_json::json!(emails.iter().map(email_json).collect::<Vec<_>>());
    Ok(Json(body).into_response())
}

fn email_json(m: &OutboxMessage) -> serde_json::Value {
    serde_json::json!({
        "id": m.id, "kind": m.kind, "recipient": m.recipient, "subject": m.subject,
        "message_id": m.message_id, "status": m.status, "attempts": m.attempts,
        "next_attempt_at": format_utc(m.next_attempt_at),
        "last_error": m.last_error, "sent_at": m.sent_at.map(format_utc), "created_at": format_utc(m.created_at),
    })
}

/// `POST /api/admin/bookings/{id}/resend` with `{"email_id"}`: queues that email of the booking
/// again, with the same bytes and Message-ID. `202` with the email; `404` when the booking has
/// no such email; `409` while a worker is sending it.
async fn resend(
    State(state): State<AppState>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, ServiceError> {
    let booking_id = parse_id(&id)?;
    let obj = &parse_json_object(&body)?;
    let email_id = match text(obj, "email_id")? {
        None => return Err(ServiceError::field("email_id", "empty")),
        Some(raw) => Uuid::parse_str(raw.trim())
            .map_err(|_| ServiceError::field("email_id", "unknown_value"))?,
    };
    let msg = service::resend_email(&state, booking_id, email_id).await?;
    Ok((StatusCode::ACCEPTED, Json(email_json(&msg))).into_response())
}

async fn booking_action(
    State(state): State<AppState>,
    Path((id, action)): Path<(String, String)>,
    body: Bytes,
) -> Result<Response, ServiceError> {
    let id = parse_id(&id)?;
    let action = match action.as_str() {
        "accept" => BookingAction::Accept,
        "decline" => BookingAction::Decline,
        "reschedule" => BookingAction::Reschedule,
        "cancel" => BookingAction::Cancel,
        _ => return Err(ServiceError::NotFound),
    };
    let note = if body.is_empty() {
        None
    } else {
        let obj = &parse_json_object(&body)?;
        let note = text(obj, "message")?
            .map(|m| m.trim().to_owned())
            .filter(|m| !m.is_empty());
        if note.as_ref().is_some_and(|m| m.chars().count() > 2000) {
            return Err(ServiceError::field("message", "too_long"));
        }
        note
    };
    let booking = service::owner_action(&state, id, action, note).await?;
    Ok(Json(booking_json(&booking)).into_response())
}

async fn list_questions(State(state): State<AppState>) -> Result<Response, ServiceError> {
    let questions = service::questions(&state).await?;
    Ok(Json(serde_json::json!({ "questions": questions })).into_response())
}

/// Replaces the whole list: `{"questions":[{"key","label","kind","required","options"}]}`.
async fn put_questions(
    State(state): State<AppState>,
    body: Bytes,
) -> Result<Response, ServiceError> {
    let raw: serde_json::Value = parse_json(&body)?;
    let questions = service::replace_questions(&state, &raw).await?;
    Ok(Json(serde_json::json!({ "questions": questions })).into_response())
}

fn settings_json(s: &owner_settings::OwnerSettings) -> serde_json::Value {
    serde_json::json!({
        "booking_open": s.booking_open,
        "owner_name": s.owner_name,
        "owner_email": s.owner_email,
        "time_zone": s.time_zone.as_str(),
        "language": s.language,
        "min_notice_hours": s.min_notice_hours,
        "horizon_days": s.horizon_days,
        "confirm_email": s.confirm_email,
    })
}

async fn get_settings(State(state): State<AppState>) -> Result<Response, ServiceError> {
    Ok(Json(settings_json(&owner_settings::load(&state).await?)).into_response())
}

/// `PUT /api/admin/settings`: any subset of the fields; the others keep their value.
async fn put_settings(
    State(state): State<AppState>,
    body: Bytes,
) -> Result<Response, ServiceError> {
    let obj = &parse_json_object(&body)?;
    let mut form: SettingsForm = owner_settings::load(&state).await?.to_form();
    for (key, v) in obj {
        let text = match v {
            serde_json::Value::String(s) => s.clone(),
            serde_json::Value::Number(n) => n.to_string(),
            serde_json::Value::Bool(b) => b.to_string(),
            _ => return Err(ServiceError::field(key, "wrong_type")),
        };
        match key.as_str() {
            "booking_open" => form.booking_open = (text == "true").then_some(text),
            "owner_name" => form.owner_name = text,
            "owner_email" => form.owner_email = text,
            "time_zone" => form.time_zone = text,
            "language" => form.language = text,
            "min_notice_hours" => form.min_notice_hours = text,
            "horizon_days" => form.horizon_days = text,
            "confirm_email" => form.confirm_email = (text == "true").then_some(text),
            _ => return Err(ServiceError::field(key, "unknown_value")),
        }
    }
    let saved = owner_settings::save(&state, &form).await?;
    Ok(Json(settings_json(&saved)).into_response())
}
