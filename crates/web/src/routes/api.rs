//! The public JSON API: slots, bookings, actions (DESIGN §3), under both path names, and the
//! OpenAPI document that describes it and the owner API.

use guidance_core::FieldReason;

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use guidance_core::BookingAction;
use guidance_core::idempotency::{IdempotencyKey, Keyed, Scope};
use guidance_core::intake::RawIntake;
use guidance_store::Booking;
use jiff::Timestamp;
use serde::Deserialize;
use utoipa::IntoParams;

use super::api_language;
use super::bodies::{
    ActionRequest, BookingRequest, ErrorBody, PublicBooking, PublicSlot, SlotList,
};
use super::recorder::Recorder;
use crate::client::Client;
use crate::error::HttpError;
use crate::extract::JsonBody;
use crate::state::WebState;
use guidance_app::AppError;
use guidance_app::bookings;
use guidance_app::links::{self, LinkInput};

/// The alias of `POST /api/bookings` (the name the original plan gave the function).
pub const CREATE_BOOKING_ALIAS: &str = "/functions/v1/create-guidance-booking";
/// The alias of `POST /api/actions`.
pub const ACT_ALIAS: &str = "/functions/v1/update-guidance-booking";

/// Registers the public API's own routes (the parent module adds the intake form and the
/// OpenAPI document beside them).
pub(super) fn register(r: Recorder) -> Recorder {
    r.get("/api/slots", list_slots)
        .post("/api/bookings", create_booking)
        .post(CREATE_BOOKING_ALIAS, create_booking)
        .post("/api/actions", act)
        .post(ACT_ALIAS, act)
}

/// The `Idempotency-Key` header of the requests that create or change a booking.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Header)]
#[expect(
    dead_code,
    reason = "read from the headers; this type only documents it"
)]
pub struct IdempotencyHeader {
    /// A key of 1 to 255 visible ASCII characters (a random UUID, say), the same on every
    /// sending of one request: a sending after the first, with the same body, gets the first
    /// answer again for 24 hours; with another body it is refused (`idempotency_key_reused`).
    #[param(rename = "Idempotency-Key")]
    idempotency_key: Option<String>,
}

/// The query of `GET /api/slots`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SlotQuery {
    /// Earliest start, RFC 3339 (default: now).
    #[param(format = DateTime)]
    from: Option<String>,
    /// Latest start, RFC 3339 (default: the end of the booking horizon).
    #[param(format = DateTime)]
    to: Option<String>,
    /// At most this many slots, the earliest (default: every one): a page loads the next ones
    /// as the visitor moves on, starting just after the last one it has.
    limit: Option<usize>,
}

fn parse_time(field: &str, raw: Option<&str>) -> Result<Option<Timestamp>, HttpError> {
    match raw.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) => s
            .parse::<Timestamp>()
            .map(Some)
            .map_err(|_| HttpError::field(field, FieldReason::UnknownValue)),
    }
}

/// The open future slots.
#[utoipa::path(get, path = "/api/slots", tag = "public", params(SlotQuery),
    responses(
        (status = 200, description = "Open future slots, earliest first", body = SlotList),
        (status = 400, description = "Unreadable query", body = ErrorBody),
        (status = 422, description = "`from` or `to` is not an RFC 3339 time", body = ErrorBody),
    ))]
async fn list_slots(
    State(state): State<WebState>,
    headers: HeaderMap,
    q: Result<Query<SlotQuery>, QueryRejection>,
) -> Response {
    let tr = api_language(&headers);
    let window = match crate::extract::read_query(q).and_then(|q| {
        Ok((
            parse_time("from", q.from.as_deref())?,
            parse_time("to", q.to.as_deref())?,
            q.limit,
        ))
    }) {
        Ok(window) => window,
        Err(e) => return e.to_json_response(&tr),
    };
    let (from, to, limit) = window;
    let body = state
        .app
        .slot_lists
        .get_or_load(window, || async {
            let slots = guidance_app::slots::open_slots(&state.app, from, to).await?;
            let list = SlotList {
                slots: slots
                    .iter()
                    .take(limit.unwrap_or(usize::MAX))
                    .map(PublicSlot::from)
                    .collect(),
            };
            // Serializing strings and UUIDs cannot fail.
            Ok::<_, HttpError>(Bytes::from(serde_json::to_vec(&list).unwrap_or_default()))
        })
        .await;
    match body {
        Ok(body) => json_bytes(body),
        Err(e) => e.to_json_response(&tr),
    }
}

/// A JSON answer of bytes made earlier.
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
pub fn public_booking(b: &Booking) -> PublicBooking {
    PublicBooking::from(b)
}

/// The body of a request that creates or changes a booking: counted against the client's rate
/// limit first (whatever the body holds), then read.
fn limited_body<T: serde::de::DeserializeOwned>(
    state: &WebState,
    client: Client,
    body: &Bytes,
) -> Result<T, HttpError> {
    state
        .limiter
        .check(client.key())
        .map_err(HttpError::RateLimited)?;
    JsonBody::parse(body)
}

/// The request's `Idempotency-Key` header, if it sent one, with the hash of its `body`.
fn keyed(headers: &HeaderMap, scope: Scope, body: &Bytes) -> Result<Option<Keyed>, HttpError> {
    let Some(raw) = headers.get(IDEMPOTENCY_KEY) else {
        return Ok(None);
    };
    let key = raw
        .to_str()
        .ok()
        .and_then(|k| IdempotencyKey::parse(k).ok())
        .ok_or(HttpError::App(AppError::IdempotencyKeyInvalid))?;
    Ok(Some(Keyed::new(scope, key, body)))
}

/// The header that names a request sent again as the same request.
pub const IDEMPOTENCY_KEY: &str = "idempotency-key";

/// Requests a session: reserves the slot and tells the owner. Also served at
/// `POST /functions/v1/create-guidance-booking`. A request sent again with the
/// `Idempotency-Key` of its first sending and the same body gets the first answer again.
#[utoipa::path(post, path = "/api/bookings", tag = "public", request_body = BookingRequest,
    params(IdempotencyHeader),
    responses(
        (status = 201, description = "Requested: `pending`, the owner is told; or, when the owner asks visitors to confirm their address, `unconfirmed` until the visitor uses the emailed link. A request sent again with the same `Idempotency-Key` and body gets this answer again", body = PublicBooking),
        (status = 400, description = "The body is not a JSON object, or the `Idempotency-Key` is malformed (`idempotency_key_invalid`)", body = ErrorBody),
        (status = 403, description = "The owner has closed booking (`booking_closed`)", body = ErrorBody),
        (status = 404, description = "No such slot", body = ErrorBody),
        (status = 409, description = "The slot is taken or no longer bookable (`slot_taken`)", body = ErrorBody),
        (status = 422, description = "Refused fields (`invalid`, with `fields`), the hidden `website` field filled in (`spam_suspected`), or an `Idempotency-Key` used for another body (`idempotency_key_reused`)", body = ErrorBody),
    ))]
async fn create_booking(
    State(state): State<WebState>,
    client: Client,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let tr = api_language(&headers);
    let result = async {
        let request: BookingRequest = limited_body(&state, client, &body)?;
        let keyed = keyed(&headers, Scope::Booking, &body)?;
        // Mistyped fields count as empty below, and are named with the intake's refusals; so
        // do times that are not RFC 3339.
        let mut wrong = request.wrong_types();
        let mut time = |field: &'static str, raw: &str| {
            parse_time(field, Some(raw)).unwrap_or_else(|_| {
                wrong.add(field, FieldReason::UnknownValue);
                None
            })
        };
        let seen = bookings::SeenTime {
            starts_at: time("starts_at", request.starts_at.text()),
            ends_at: time("ends_at", request.ends_at.text()),
        };
        let raw = RawIntake {
            name: request.name.text().to_owned(),
            email: request.email.text().to_owned(),
            topic: request.topic.text().to_owned(),
            priority: request.priority.text().to_owned(),
            answers: request.answers,
            locale: request.locale.text().to_owned(),
            time_zone: request.time_zone.text().to_owned(),
        };
        // The honeypot, `website`: optional, and empty when a person filled in the form.
        let website = request.website.text();
        let slot_id = request.slot_id.text();
        Ok::<_, HttpError>(
            bookings::create_booking(
                &state.app,
                slot_id,
                seen,
                &raw,
                website,
                wrong,
                keyed.as_ref(),
            )
            .await?,
        )
    }
    .await;
    match result {
        Ok(b) => {
            // The requester's own page: shown on the success screen, as in their email.
            let mut body = public_booking(&b);
            body.status_url = Some(bookings::status_url(&state.app, b.id));
            (StatusCode::CREATED, Json(body)).into_response()
        }
        Err(e) => e.to_json_response(&tr),
    }
}

/// Carries out an emailed link (accept, decline, ask to reschedule with times proposed or not,
/// cancel, pick a new slot).
/// Also served at `POST /functions/v1/update-guidance-booking`.
#[utoipa::path(post, path = "/api/actions", tag = "public", request_body = ActionRequest,
    params(IdempotencyHeader),
    responses(
        (status = 200, description = "Done; the booking as it is now. A request sent again with the same `Idempotency-Key` and body gets this answer again", body = PublicBooking),
        (status = 400, description = "The body is not a JSON object, the link does something else (`wrong_action`), or the `Idempotency-Key` is malformed (`idempotency_key_invalid`)", body = ErrorBody),
        (status = 404, description = "Not one of our links (`token_invalid`), or no such slot", body = ErrorBody),
        (status = 409, description = "The link was used (`token_used`), the booking moved on (`token_outdated`, `invalid_transition`), or the new slot is taken", body = ErrorBody),
        (status = 410, description = "The link is too old (`token_expired`)", body = ErrorBody),
        (status = 422, description = "Refused fields (`invalid`, with `fields`: a message or proposed times the link does not take, a message too long, a proposed slot not open, unknown, given twice or one of more than three), or an `Idempotency-Key` used for another body (`idempotency_key_reused`)", body = ErrorBody),
    ))]
async fn act(
    State(state): State<WebState>,
    client: Client,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let tr = api_language(&headers);
    let result = async {
        let request: ActionRequest = limited_body(&state, client, &body)?;
        let keyed = keyed(&headers, Scope::Action, &body)?;
        let wrong = request.wrong_types();
        if !wrong.is_empty() {
            return Err(HttpError::App(AppError::Invalid(wrong)));
        }
        let token = request.token.text();
        if token.is_empty() {
            return Err(HttpError::field("token", FieldReason::Empty));
        }
        let action = match request.action.text().trim() {
            "" => None,
            a => Some(
                BookingAction::parse(a)
                    .ok_or_else(|| HttpError::field("action", FieldReason::UnknownValue))?,
            ),
        };
        let proposed_slot_ids = request
            .proposed_slot_ids
            .value()
            .cloned()
            .unwrap_or_default();
        let input = LinkInput {
            action,
            slot_id: Some(request.slot_id.text()).filter(|s| !s.is_empty()),
            message: request.message.value().map(String::as_str),
            proposed_slot_ids: &proposed_slot_ids,
        };
        Ok(links::use_token(&state.app, token, input, keyed.as_ref()).await?)
    }
    .await;
    match result {
        Ok(b) => Json(public_booking(&b)).into_response(),
        Err(e) => e.to_json_response(&tr),
    }
}
