//! One error type for the service layer, mapped to a status and a stable code at the edge.
//! JSON clients get `{"error":{"code","message","fields"?}}`; pages show the same message.
//! Internal detail is logged, never sent.

use std::collections::BTreeMap;

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use guidance_core::IntakeErrors;
use guidance_store::StoreError;

use crate::i18n::Tr;

/// How long a client is asked to wait when the database is unreachable: about one attempt to
/// reach it again.
const UNAVAILABLE_RETRY_AFTER_SECS: u64 = 5;

/// Why a request could not be served.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// Some fields were refused: field name → reason code.
    #[error("invalid fields")]
    Invalid(BTreeMap<String, String>),
    /// The request body was not what the endpoint reads.
    #[error("bad request: {0}")]
    BadRequest(String),
    /// The slot is taken or no longer bookable.
    #[error("slot taken")]
    SlotTaken,
    /// The slot overlaps another one.
    #[error("slot overlap")]
    SlotOverlap,
    /// The slot is held by a booking.
    #[error("slot booked")]
    SlotBooked,
    /// No such thing.
    #[error("not found")]
    NotFound,
    /// The link is not one of ours.
    #[error("token invalid")]
    TokenInvalid,
    /// The link is too old.
    #[error("token expired")]
    TokenExpired,
    /// The link was used already.
    #[error("token used")]
    TokenUsed,
    /// The booking moved on since the link was sent.
    #[error("token outdated")]
    TokenOutdated,
    /// The link does something else than asked.
    #[error("wrong action")]
    WrongAction,
    /// The booking's status does not allow this.
    #[error("not allowed in this status")]
    InvalidTransition,
    /// Someone else changed the booking at the same moment.
    #[error("conflict")]
    Conflict,
    /// The honeypot field, invisible to people, was filled in: a form-filling robot.
    #[error("spam suspected")]
    SpamSuspected,
    /// The requester's address already has as many requests awaiting the owner as allowed.
    #[error("too many pending requests")]
    TooManyPending,
    /// Too many requests; retry after so many seconds.
    #[error("too many requests")]
    RateLimited(u64),
    /// Missing or wrong credentials.
    #[error("unauthorized")]
    Unauthorized,
    /// The owner has closed booking for now.
    #[error("booking is closed")]
    BookingClosed,
    /// A signed-in form or request came without its CSRF token (or with a wrong one).
    #[error("missing or wrong CSRF token")]
    CsrfRefused,
    /// The request body is larger than the service reads.
    #[error("request too large")]
    TooLarge,
    /// The body is not of a type the endpoint reads (JSON for the APIs, a form for pages).
    #[error("unsupported media type")]
    UnsupportedMediaType,
    /// The path exists, but not for this method.
    #[error("method not allowed")]
    MethodNotAllowed,
    /// The database cannot be reached for now; the same request may succeed in a moment. Its
    /// transaction did not commit, unless the connection broke while the commit's answer was on
    /// its way (which no client of a remote database can rule out).
    #[error("service unavailable: {0}")]
    Unavailable(String),
    /// Something broke on our side.
    #[error("internal error: {0}")]
    Internal(String),
}

impl ServiceError {
    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        match self {
            ServiceError::Invalid(_) | ServiceError::SpamSuspected => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            // 429, not 409: nothing about the slot conflicts — the same address is asking too
            // much at once, and may ask again once the owner has answered. Without a
            // `Retry-After`, because nobody knows when the owner will answer.
            ServiceError::TooManyPending => StatusCode::TOO_MANY_REQUESTS,
            ServiceError::BadRequest(_) | ServiceError::WrongAction => StatusCode::BAD_REQUEST,
            ServiceError::SlotTaken
            | ServiceError::SlotOverlap
            | ServiceError::SlotBooked
            | ServiceError::TokenUsed
            | ServiceError::TokenOutdated
            | ServiceError::InvalidTransition
            | ServiceError::Conflict => StatusCode::CONFLICT,
            ServiceError::NotFound | ServiceError::TokenInvalid => StatusCode::NOT_FOUND,
            ServiceError::TokenExpired => StatusCode::GONE,
            ServiceError::RateLimited(_) => StatusCode::TOO_MANY_REQUESTS,
            ServiceError::Unauthorized => StatusCode::UNAUTHORIZED,
            ServiceError::BookingClosed | ServiceError::CsrfRefused => StatusCode::FORBIDDEN,
            ServiceError::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ServiceError::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ServiceError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ServiceError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ServiceError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The stable error code.
    pub fn code(&self) -> &'static str {
        match self {
            ServiceError::Invalid(_) => "invalid",
            ServiceError::BadRequest(_) => "bad_request",
            ServiceError::SlotTaken => "slot_taken",
            ServiceError::SlotOverlap => "slot_overlap",
            ServiceError::SlotBooked => "slot_booked",
            ServiceError::NotFound => "not_found",
            ServiceError::TokenInvalid => "token_invalid",
            ServiceError::TokenExpired => "token_expired",
            ServiceError::TokenUsed => "token_used",
            ServiceError::TokenOutdated => "token_outdated",
            ServiceError::WrongAction => "wrong_action",
            ServiceError::InvalidTransition => "invalid_transition",
            ServiceError::Conflict => "conflict",
            ServiceError::SpamSuspected => "spam_suspected",
            ServiceError::TooManyPending => "too_many_pending",
            ServiceError::RateLimited(_) => "too_many_requests",
            ServiceError::Unauthorized => "unauthorized",
            ServiceError::BookingClosed => "booking_closed",
            ServiceError::CsrfRefused => "csrf_refused",
            ServiceError::TooLarge => "too_large",
            ServiceError::UnsupportedMediaType => "unsupported_media_type",
            ServiceError::MethodNotAllowed => "method_not_allowed",
            ServiceError::Unavailable(_) => "unavailable",
            ServiceError::Internal(_) => "internal",
        }
    }

    /// Seconds after which the client may try again (the `Retry-After` header), when waiting
    /// helps.
    pub fn retry_after(&self) -> Option<u64> {
        match self {
            ServiceError::RateLimited(secs) => Some(*secs),
            ServiceError::Unavailable(_) => Some(UNAVAILABLE_RETRY_AFTER_SECS),
            _ => None,
        }
    }

    /// Logs what the client is not told: the cause of an internal error or an outage.
    pub fn log(&self) {
        match self {
            ServiceError::Internal(detail) => tracing::error!(%detail, "internal error"),
            ServiceError::Unavailable(detail) => {
                tracing::warn!(%detail, "database unavailable; answered 503");
            }
            _ => {}
        }
    }

    /// Sets `Retry-After` on `resp` when [`ServiceError::retry_after`] says so.
    pub fn add_retry_after(&self, resp: &mut Response) {
        if let Some(secs) = self.retry_after() {
            resp.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
    }

    /// The message for a reader of `tr`'s language.
    pub fn message(&self, tr: &Tr) -> String {
        tr.get(&format!("errors.{}", self.code()))
    }

    /// A single refused field.
    pub fn field(name: &str, reason: &str) -> Self {
        ServiceError::Invalid(BTreeMap::from([(name.to_owned(), reason.to_owned())]))
    }

    /// A JSON error response in `tr`'s language.
    pub fn to_json_response(&self, tr: &Tr) -> Response {
        self.log();
        let mut body =
            serde_json::json!({"error": {"code": self.code(), "message": self.message(tr)}});
        if let ServiceError::Invalid(fields) = self {
            let described: serde_json::Map<String, serde_json::Value> = fields
                .iter()
                .map(|(f, reason)| {
                    (f.clone(), serde_json::json!({"code": reason, "message": tr.get(&format!("errors.field.{reason}"))}))
                })
                .collect();
            body["error"]["fields"] = serde_json::Value::Object(described);
        }
        let mut resp = (self.status(), Json(body)).into_response();
        self.add_retry_after(&mut resp);
        resp
    }
}

impl IntoResponse for ServiceError {
    fn into_response(self) -> Response {
        self.to_json_response(&Tr::new("en"))
    }
}

impl From<IntakeErrors> for ServiceError {
    fn from(e: IntakeErrors) -> Self {
        ServiceError::Invalid(
            e.0.into_iter()
                .map(|f| (f.field, f.reason.code().to_owned()))
                .collect(),
        )
    }
}

impl From<StoreError> for ServiceError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::SlotTaken => ServiceError::SlotTaken,
            StoreError::SlotOverlap => ServiceError::SlotOverlap,
            StoreError::SlotBooked => ServiceError::SlotBooked,
            StoreError::NotFound => ServiceError::NotFound,
            StoreError::Conflict => ServiceError::Conflict,
            StoreError::TokenUsed => ServiceError::TokenUsed,
            StoreError::Unavailable(e) => ServiceError::Unavailable(e.to_string()),
            StoreError::TooManyPending => ServiceError::TooManyPending,
            other => ServiceError::Internal(other.to_string()),
        }
    }
}
