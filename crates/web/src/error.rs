//! The web layer's one error: the application's refusals and failures, plus the refusals that
//! belong to HTTP (an unreadable body, a missing CSRF token, too many requests…), each mapped to
//! a status and a stable code. JSON clients get `{"error":{"code","message","fields"?}}`; pages
//! show the same message. Internal detail is logged, never sent.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use guidance_app::AppError;
use guidance_core::{FieldErrors, FieldReason};
use guidance_store::StoreError;

use crate::i18n::Tr;

/// How long a client is asked to wait when the database is unreachable: about one attempt to
/// reach it again.
const UNAVAILABLE_RETRY_AFTER_SECS: u64 = 5;
/// How long a client is asked to wait when sign-in is busy: a few hashes' time.
const BUSY_RETRY_AFTER_SECS: u64 = 2;

/// Why a request could not be served.
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    /// The application refused or failed.
    #[error(transparent)]
    App(#[from] AppError),
    /// The request body was not what the endpoint reads.
    #[error("bad request: {0}")]
    BadRequest(String),
    /// Too many requests; retry after so many seconds.
    #[error("too many requests")]
    RateLimited(u64),
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
    /// The request took longer than `GUIDANCE_REQUEST_TIMEOUT_SECS` (a slow body, or a slow
    /// answer).
    #[error("request timeout")]
    RequestTimeout,
}

impl HttpError {
    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        match self {
            HttpError::App(e) => app_status(e),
            HttpError::BadRequest(_) => StatusCode::BAD_REQUEST,
            HttpError::RateLimited(_) => StatusCode::TOO_MANY_REQUESTS,
            HttpError::CsrfRefused => StatusCode::FORBIDDEN,
            HttpError::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            HttpError::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            HttpError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            HttpError::RequestTimeout => StatusCode::REQUEST_TIMEOUT,
        }
    }

    /// The stable error code.
    pub fn code(&self) -> &'static str {
        match self {
            HttpError::App(e) => e.code(),
            HttpError::BadRequest(_) => "bad_request",
            HttpError::RateLimited(_) => "too_many_requests",
            HttpError::CsrfRefused => "csrf_refused",
            HttpError::TooLarge => "too_large",
            HttpError::UnsupportedMediaType => "unsupported_media_type",
            HttpError::MethodNotAllowed => "method_not_allowed",
            HttpError::RequestTimeout => "request_timeout",
        }
    }

    /// A single refused field.
    pub fn field(name: &str, reason: FieldReason) -> Self {
        HttpError::App(AppError::field(name, reason))
    }

    /// Seconds after which the client may try again (the `Retry-After` header), when waiting
    /// helps.
    pub fn retry_after(&self) -> Option<u64> {
        match self {
            HttpError::RateLimited(secs) => Some(*secs),
            HttpError::App(AppError::Unavailable(_)) => Some(UNAVAILABLE_RETRY_AFTER_SECS),
            HttpError::App(AppError::Busy) => Some(BUSY_RETRY_AFTER_SECS),
            _ => None,
        }
    }

    /// Logs what the client is not told: the cause of an internal error or an outage.
    pub fn log(&self) {
        match self {
            HttpError::App(AppError::Internal(detail)) => {
                tracing::error!(%detail, "internal error")
            }
            HttpError::App(AppError::Unavailable(detail)) => {
                tracing::warn!(%detail, "database unavailable; answered 503");
            }
            _ => {}
        }
    }

    /// Sets `Retry-After` on `resp` when [`HttpError::retry_after`] says so.
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

    /// A JSON error response in `tr`'s language.
    pub fn to_json_response(&self, tr: &Tr) -> Response {
        self.log();
        let mut body =
            serde_json::json!({"error": {"code": self.code(), "message": self.message(tr)}});
        if let HttpError::App(AppError::Invalid(fields)) = self {
            let described: serde_json::Map<String, serde_json::Value> = fields
                .iter()
                .map(|(f, reason)| {
                    (
                        f.to_owned(),
                        serde_json::json!({"code": reason.code(), "message": tr.field(reason)}),
                    )
                })
                .collect();
            body["error"]["fields"] = serde_json::Value::Object(described);
        }
        let mut resp = (self.status(), Json(body)).into_response();
        self.add_retry_after(&mut resp);
        resp
    }
}

impl IntoResponse for HttpError {
    fn into_response(self) -> Response {
        self.to_json_response(&Tr::new("en"))
    }
}

impl From<FieldErrors> for HttpError {
    fn from(e: FieldErrors) -> Self {
        HttpError::App(e.into())
    }
}

impl From<StoreError> for HttpError {
    fn from(e: StoreError) -> Self {
        HttpError::App(e.into())
    }
}

/// The status of an application error: refusals of input 422, of state 409, of missing things
/// 404, of credentials 401, outages 503, faults 500.
fn app_status(e: &AppError) -> StatusCode {
    match e {
        AppError::Invalid(_) | AppError::SpamSuspected => StatusCode::UNPROCESSABLE_ENTITY,
        // 429, not 409: nothing about the slot conflicts — the same address is asking too
        // much at once, and may ask again once the owner has answered. Without a
        // `Retry-After`, because nobody knows when the owner will answer.
        AppError::TooManyPending => StatusCode::TOO_MANY_REQUESTS,
        AppError::WrongAction => StatusCode::BAD_REQUEST,
        AppError::SlotTaken
        | AppError::SlotOverlap
        | AppError::SlotBooked
        | AppError::TokenUsed
        | AppError::TokenOutdated
        | AppError::InvalidTransition
        | AppError::Conflict => StatusCode::CONFLICT,
        AppError::NotFound | AppError::TokenInvalid => StatusCode::NOT_FOUND,
        AppError::TokenExpired => StatusCode::GONE,
        AppError::Unauthorized => StatusCode::UNAUTHORIZED,
        AppError::BookingClosed => StatusCode::FORBIDDEN,
        AppError::Unavailable(_) | AppError::Busy => StatusCode::SERVICE_UNAVAILABLE,
        AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
    }
}
