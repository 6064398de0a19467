//! The public JSON API: slots, bookings, actions (DESIGN §3), under both path names.

use std::net::SocketAddr;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use guidance_core::BookingAction;
use guidance_core::intake::RawIntake;
use guidance_core::slot::format_utc;
use guidance_store::Booking;
use jiff::Timestamp;
use serde::Deserialize;

use super::{api_language, parse_json_object};
use crate::error::ServiceError;
use crate::service;
use crate::state::AppState;

/// The public API routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/slots", get(list_slots))
        .route("/api/bookings", post(create_booking))
        .route(
            "/functions/v1/create-guidance-booking",
            post(create_booking),
        )
        .route("/api/actions", post(act))
        .route("/functions/v1/update-guidance-booking", post(act))
        .route("/api/openapi.json", get(openapi))
}

#[derive(Debug, Deserialize)]
struct SlotQuery {
    from: Option<String>,
    to: Option<String>,
}

fn parse_time(field: &str, raw: Option<&str>) -> Result<Option<Timestamp>, ServiceError> {
    match raw.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) => s
            .parse::<Timestamp>()
            .map(Some)
            .map_err(|_| ServiceError::field(field, "unknown_value")),
    }
}

async fn list_slots(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<SlotQuery>,
) -> Response {
    let tr = api_language(&headers);
    let result = async {
        let q = Some(q);
        let from = parse_time("from", q.as_ref().and_then(|q| q.from.as_deref()))?;
        let to = parse_time("to", q.as_ref().and_then(|q| q.to.as_deref()))?;
        service::open_slots(&state, from, to).await
    }
    .await;
    match result {
        Ok(slots) => {
            let slots: Vec<_> = slots
                .iter()
                .map(|s| serde_json::json!({"id": s.id, "starts_at": format_utc(s.starts_at), "ends_at": format_utc(s.ends_at)}))
                .collect();
            Json(serde_json::json!({ "slots": slots })).into_response()
        }
        Err(e) => e.to_json_response(&tr),
    }
}

/// What the public learns of a booking: never more than its requester typed and its state.
pub fn public_booking(b: &Booking) -> serde_json::Value {
    serde_json::json!({
        "id": b.id,
        "status": b.status,
        "starts_at": format_utc(b.starts_at),
        "ends_at": format_utc(b.ends_at),
    })
}

/// Reads a text field of a JSON object: missing or null is empty; another type is refused.
fn text_field(
    obj: &serde_json::Map<String, serde_json::Value>,
    name: &str,
    wrong: &mut std::collections::BTreeMap<String, String>,
) -> String {
    match obj.get(name) {
        None | Some(serde_json::Value::Null) => String::new(),
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(_) => {
            wrong.insert(name.to_owned(), "wrong_type".to_owned());
            String::new()
        }
    }
}

/// The body of a request that creates or changes a booking: counted against the client's rate
/// limit first, then read as a JSON object.
fn limited_json_object(
    state: &AppState,
    addr: &SocketAddr,
    body: &Bytes,
) -> Result<serde_json::Map<String, serde_json::Value>, ServiceError> {
    state
        .limiter
        .check(super::client_ip(addr))
        .map_err(ServiceError::RateLimited)?;
    parse_json_object(body)
}

async fn create_booking(
    State(state): State<AppState>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let tr = api_language(&headers);
    let result = async {
        let obj = &limited_json_object(&state, &addr, &body)?;
        let mut wrong = std::collections::BTreeMap::new();
        // The honeypot: optional, and empty when a person filled in the form.
        service::refuse_honeypot(&text_field(obj, "website", &mut wrong))?;
        let slot_id = text_field(obj, "slot_id", &mut wrong);
        let raw = RawIntake {
            name: text_field(obj, "name", &mut wrong),
            email: text_field(obj, "email", &mut wrong),
            topic: text_field(obj, "topic", &mut wrong),
            priority: text_field(obj, "priority", &mut wrong),
            answers: obj
                .get("answers")
                .cloned()
                .unwrap_or(serde_json::Value::Null),
            locale: text_field(obj, "locale", &mut wrong),
            time_zone: text_field(obj, "time_zone", &mut wrong),
        };
        let questions = service::questions(&state).await?;
        match service::parse_booking_request(&slot_id, &raw, &questions) {
            Ok(_) if !wrong.is_empty() => Err(ServiceError::Invalid(wrong)),
            Ok((slot_id, intake)) => service::book_parsed(&state, slot_id, intake).await,
            Err(mut fields) => {
                fields.extend(wrong);
                Err(ServiceError::Invalid(fields))
            }
        }
    }
    .await;
    match result {
        Ok(b) => {
            // The requester's own page: shown on the success screen, as in their email.
            let mut body = public_booking(&b);
            body["status_url"] = service::status_url(&state, b.id).into();
            (StatusCode::CREATED, Json(body)).into_response()
        }
        Err(e) => e.to_json_response(&tr),
    }
}

async fn act(
    State(state): State<AppState>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let tr = api_language(&headers);
    let result = async {
        let obj = &limited_json_object(&state, &addr, &body)?;
        let mut wrong = std::collections::BTreeMap::new();
        let token = text_field(obj, "token", &mut wrong);
        let action = text_field(obj, "action", &mut wrong);
        let slot_id = text_field(obj, "slot_id", &mut wrong);
        if !wrong.is_empty() {
            return Err(ServiceError::Invalid(wrong));
        }
        if token.is_empty() {
            return Err(ServiceError::field("token", "empty"));
        }
        let action = match action.trim() {
            "" => None,
            a => Some(
                BookingAction::parse(a)
                    .ok_or_else(|| ServiceError::field("action", "unknown_value"))?,
            ),
        };
        service::use_token(
            &state,
            &token,
            action,
            Some(slot_id.as_str()).filter(|s| !s.is_empty()),
        )
        .await
    }
    .await;
    match result {
        Ok(b) => Json(public_booking(&b)).into_response(),
        Err(e) => e.to_json_response(&tr),
    }
}

async fn openapi() -> Response {
    (
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        include_str!("../../static/openapi.json"),
    )
        .into_response()
}
