//! The public JSON API: slots, bookings, actions (DESIGN §3), under both path names.

use std::net::SocketAddr;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use guidance_core::BookingAction;
use guidance_core::intake::RawIntake;
use guidance_core::slot::format_utc;
use guidance_store::Booking;
use jiff::Timestamp;
use serde::Deserialize;

use super::recorder::{RecordedRoute, Recorder};
use super::{api_language, parse_json_object};
use crate::error::ServiceError;
use crate::service;
use crate::state::AppState;

fn register(r: Recorder) -> Recorder {
    r.get("/api/slots", list_slots)
        .post("/api/bookings", create_booking)
        .post("/functions/v1/create-guidance-booking", create_booking)
        .post("/api/actions", act)
        .post("/functions/v1/update-guidance-booking", act)
        .get("/api/openapi.json", openapi)
}

/// The public API routes.
pub fn routes() -> Router<AppState> {
    register(Recorder::new()).into_router()
}

/// Every public API route as registered.
pub fn route_table() -> Vec<RecordedRoute> {
    register(Recorder::new()).table()
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
    let window = match (
        parse_time("from", q.from.as_deref()),
        parse_time("to", q.to.as_deref()),
    ) {
        (Ok(from), Ok(to)) => (from, to),
        (Err(e), _) | (_, Err(e)) => return e.to_json_response(&tr),
    };
    if let Some(body) = state.slots_cache.get(&window) {
        return json_bytes(body);
    }
    let generation = state.slots_cache.generation();
    match service::open_slots(&state, window.0, window.1).await {
        Ok(slots) => {
            let body = slot_list_json(&slots);
            state.slots_cache.put(window, generation, body.clone());
            json_bytes(body)
        }
        Err(e) => e.to_json_response(&tr),
    }
}

/// `{"slots":[{"id","starts_at","ends_at"}]}`, serialized straight from the slots.
fn slot_list_json(slots: &[guidance_store::Slot]) -> Bytes {
    #[derive(serde::Serialize)]
    struct PublicSlot {
        id: uuid::Uuid,
        starts_at: String,
        ends_at: String,
    }
    #[derive(serde::Serialize)]
    struct SlotList {
        slots: Vec<PublicSlot>,
    }
    let list = SlotList {
        slots: slots
            .iter()
            .map(|s| PublicSlot {
                id: s.id,
                starts_at: format_utc(s.starts_at),
                ends_at: format_utc(s.ends_at),
            })
            .collect(),
    };
    // Serializing plain strings and UUIDs cannot fail.
    Bytes::from(serde_json::to_vec(&list).unwrap_or_default())
}

fn json_bytes(body: Bytes) -> Response {
    (
        [(
            axum::http::header::CONTENT_TYPE,
            axum::http::HeaderValue::from_static("application/json"),
        )],
        body,
    )
        .into_response()
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
