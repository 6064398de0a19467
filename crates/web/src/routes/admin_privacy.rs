//! The owner API's erase of a visitor's data. Registered with the owner API's routes (see
//! [`super::admin`]), behind the same owner check.

use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use guidance_core::FieldReason;

use super::bodies::{EraseRequest, ErasedBody, ErrorBody};
use super::recorder::Recorder;
use crate::error::HttpError;
use crate::extract::JsonBody;
use crate::state::WebState;
use guidance_app::AppError;

/// Adds the erase route to the owner API's.
pub(super) fn register(r: Recorder) -> Recorder {
    r.post("/api/admin/erase", erase)
}

/// Erases everything about one email address: its live requests are cancelled first (with the
/// usual emails), then every booking of it keeps only its times and status, and its emails,
/// history texts, kept answers and calendar replies are deleted, in the database and the mail
/// directory.
#[utoipa::path(post, path = "/api/admin/erase", tag = "owner", request_body = EraseRequest,
    responses(
        (status = 200, description = "Erased", body = ErasedBody),
        (status = 400, description = "The body is not a JSON object", body = ErrorBody),
        (status = 422, description = "`email` missing or not an address", body = ErrorBody),
    ))]
pub(super) async fn erase(
    State(state): State<WebState>,
    JsonBody(request): JsonBody<EraseRequest>,
) -> Result<Response, HttpError> {
    let wrong = request.wrong_types();
    if !wrong.is_empty() {
        return Err(HttpError::App(AppError::Invalid(wrong)));
    }
    let Some(email) = request.email.value() else {
        return Err(HttpError::field("email", FieldReason::Empty));
    };
    let erased = guidance_app::privacy::erase_address(&state.app, email).await?;
    Ok(Json(ErasedBody { erased }).into_response())
}
