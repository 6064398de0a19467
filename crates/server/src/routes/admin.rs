//! The owner API for scripting: slots and bookings, behind `Authorization: Bearer
//! $GUIDANCE_ADMIN_TOKEN`. With no token configured, bearer access is off: every request is 401.

use axum::body::Bytes;
use axum::extract::{Path, Query, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch, post};
use axum::{Json, Router};
use guidance_core::slot::format_utc;
use guidance_core::{BookingAction, BookingStatus, SlotStatus, SlotWindow};
use guidance_store::{Booking, OutboxMessage, Slot};
use jiff::{SignedDuration, Timestamp};
use serde::Deserialize;
use subtle::ConstantTimeEq;
use uuid::Uuid;

use super::parse_json;
use crate::error::ServiceError;
use crate::service;
use crate::state::AppState;

/// The owner API routes, each behind the bearer check.
pub fn routes(state: AppState) -> Router<AppState> {
    Router::new()
        .route("/api/admin/slots", get(list_slots).post(create_slot))
        .route(
            "/api/admin/slots/{id}",
            patch(update_slot).delete(delete_slot),
        )
        .route("/api/admin/bookings", get(list_bookings))
        .route("/api/admin/bookings/{id}", get(booking_detail))
        .route("/api/admin/bookings/{id}/{action}", post(booking_action))
        .route(
            "/api/admin/questions",
            get(list_questions).put(put_questions),
        )
        .route_layer(middleware::from_fn_with_state(state, require_owner))
}

/// Lets a request through only with the configured bearer token (compared in constant time).
async fn require_owner(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let presented = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim);
    let ok = match (&state.settings.admin_token, presented) {
        (Some(expected), Some(given)) => bool::from(expected.as_bytes().ct_eq(given.as_bytes())),
        _ => false,
    };
    if ok {
        next.run(req).await
    } else {
        let mut resp = ServiceError::Unauthorized.into_response();
        resp.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            axum::http::HeaderValue::from_static("Bearer"),
        );
        resp
    }
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
    let value: serde_json::Value = parse_json(&body)?;
    let obj = value
        .as_object()
        .ok_or_else(|| ServiceError::BadRequest("the body must be a JSON object".into()))?;
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
    let details = text(obj, "meeting_details")?
        .map(|d| d.trim().to_owned())
        .filter(|d| !d.is_empty());
    if details.as_ref().is_some_and(|d| d.chars().count() > 2000) {
        fields.insert("meeting_details".into(), "too_long".into());
    }
    let (Some(starts_at), Some(ends_at), true) = (starts_at, ends_at, fields.is_empty()) else {
        return Err(ServiceError::Invalid(fields));
    };
    let window = SlotWindow::parse(starts_at, ends_at).map_err(|e| {
        let reason = match e {
            guidance_core::slot::SlotWindowError::EndsBeforeStart => "ends_before_start",
            guidance_core::slot::SlotWindowError::BadLength => "bad_length",
            guidance_core::slot::SlotWindowError::OutOfRange => "out_of_range",
        };
        ServiceError::field("ends_at", reason)
    })?;
    if window.starts_at() <= Timestamp::now() {
        return Err(ServiceError::field("starts_at", "in_the_past"));
    }
    let slot = state
        .store
        .create_slot(window, details, Timestamp::now())
        .await?;
    Ok((StatusCode::CREATED, Json(slot_json(&slot))).into_response())
}

async fn update_slot(
    State(state): State<AppState>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, ServiceError> {
    let id = parse_id(&id)?;
    let value: serde_json::Value = parse_json(&body)?;
    let obj = value
        .as_object()
        .ok_or_else(|| ServiceError::BadRequest("the body must be a JSON object".into()))?;
    let available = match text(obj, "status")?.as_deref() {
        Some("open") => true,
        Some("unavailable") => false,
        Some(_) => return Err(ServiceError::field("status", "unknown_value")),
        None => return Err(ServiceError::field("status", "empty")),
    };
    let slot = state
        .store
        .set_slot_available(id, available, Timestamp::now())
        .await?;
    Ok(Json(slot_json(&slot)).into_response())
}

async fn delete_slot(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, ServiceError> {
    state.store.delete_slot(parse_id(&id)?).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[derive(Debug, Deserialize)]
struct BookingListQuery {
    status: Option<String>,
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
    let bookings = state.store.list_bookings(status).await?;
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
    state: &AppState,
    booking_id: Uuid,
    body: &Bytes,
) -> Result<Response, ServiceError> {
    let value: serde_json::Value = parse_json(body)?;
    let obj = value
        .as_object()
        .ok_or_else(|| ServiceError::BadRequest("the body must be a JSON object".into()))?;
    let email_id = match text(obj, "email_id")? {
        None => return Err(ServiceError::field("email_id", "empty")),
        Some(raw) => Uuid::parse_str(raw.trim())
            .map_err(|_| ServiceError::field("email_id", "unknown_value"))?,
    };
    let msg = service::resend_email(state, booking_id, email_id).await?;
    Ok((StatusCode::ACCEPTED, Json(email_json(&msg))).into_response())
}

async fn booking_action(
    State(state): State<AppState>,
    Path((id, action)): Path<(String, String)>,
    body: Bytes,
) -> Result<Response, ServiceError> {
    let id = parse_id(&id)?;
    let action = match action.as_str() {
        "resend" => return resend(&state, id, &body).await,
        "accept" => BookingAction::Accept,
        "decline" => BookingAction::Decline,
        "reschedule" => BookingAction::Reschedule,
        "cancel" => BookingAction::Cancel,
        _ => return Err(ServiceError::NotFound),
    };
    let note = if body.is_empty() {
        None
    } else {
        let value: serde_json::Value = parse_json(&body)?;
        let obj = value
            .as_object()
            .ok_or_else(|| ServiceError::BadRequest("the body must be a JSON object".into()))?;
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
