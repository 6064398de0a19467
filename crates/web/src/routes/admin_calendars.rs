//! The owner API for the owner's calendars and feed: list, add (with a first poll), remove and
//! refresh sources; show and rotate the feed address. Registered with the owner API's routes
//! (see [`super::admin`]), behind the same owner check.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use guidance_app::calendars::{self, NewSource};
use uuid::Uuid;

use super::bodies::{CalendarBody, CalendarList, ErrorBody, FeedBody, NewCalendar};
use super::recorder::Recorder;
use crate::error::HttpError;
use crate::extract::JsonBody;
use crate::state::WebState;
use guidance_app::AppError;

/// Adds the calendar routes to the owner API's.
pub(super) fn register(r: Recorder) -> Recorder {
    r.get("/api/admin/calendars", list_calendars)
        .post("/api/admin/calendars", add_calendar)
        .delete("/api/admin/calendars/{id}", remove_calendar)
        .post("/api/admin/calendars/{id}/refresh", refresh_calendar)
        .get("/api/admin/feed", get_feed)
        .post("/api/admin/feed/rotate", rotate_feed)
}

fn source_id(raw: &str) -> Result<Uuid, HttpError> {
    Uuid::parse_str(raw).map_err(|_| HttpError::App(AppError::NotFound))
}

/// Every calendar source with its last poll.
#[utoipa::path(get, path = "/api/admin/calendars", tag = "owner",
    responses((status = 200, description = "The sources", body = CalendarList)))]
pub(super) async fn list_calendars(State(state): State<WebState>) -> Result<Response, HttpError> {
    let calendars = calendars::list_sources(&state.app)
        .await?
        .into_iter()
        .map(CalendarBody::from)
        .collect();
    Ok(Json(CalendarList { calendars }).into_response())
}

/// Adds a source and polls it at once.
#[utoipa::path(post, path = "/api/admin/calendars", tag = "owner", request_body = NewCalendar,
    responses(
        (status = 201, description = "Added, with its first poll's result", body = CalendarBody),
        (status = 400, description = "The body is not a JSON object", body = ErrorBody),
        (status = 422, description = "Refused fields", body = ErrorBody),
    ))]
pub(super) async fn add_calendar(
    State(state): State<WebState>,
    JsonBody(new): JsonBody<NewCalendar>,
) -> Result<Response, HttpError> {
    let wrong = new.wrong_types();
    if !wrong.is_empty() {
        return Err(HttpError::App(AppError::Invalid(wrong)));
    }
    let text = |f: &crate::extract::Field<String>| f.value().cloned();
    let source = NewSource {
        name: text(&new.name).unwrap_or_default(),
        url: text(&new.url).unwrap_or_default(),
        username: text(&new.username),
        password: text(&new.password),
    };
    let added = calendars::add_source(&state.app, source).await?;
    Ok((StatusCode::CREATED, Json(CalendarBody::from(added))).into_response())
}

/// Removes a source: its busy times stop hiding slots at once.
#[utoipa::path(delete, path = "/api/admin/calendars/{id}", tag = "owner",
    params(("id" = Uuid, Path, description = "The source")),
    responses(
        (status = 204, description = "Removed"),
        (status = 404, description = "No such source", body = ErrorBody),
    ))]
pub(super) async fn remove_calendar(
    State(state): State<WebState>,
    Path(id): Path<String>,
) -> Result<Response, HttpError> {
    calendars::remove_source(&state.app, source_id(&id)?).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// Polls a source now; the result.
#[utoipa::path(post, path = "/api/admin/calendars/{id}/refresh", tag = "owner",
    params(("id" = Uuid, Path, description = "The source")),
    responses(
        (status = 200, description = "Polled", body = CalendarBody),
        (status = 404, description = "No such source", body = ErrorBody),
    ))]
pub(super) async fn refresh_calendar(
    State(state): State<WebState>,
    Path(id): Path<String>,
) -> Result<Response, HttpError> {
    let source = calendars::refresh_source(&state.app, source_id(&id)?).await?;
    Ok(Json(CalendarBody::from(source)).into_response())
}

/// The owner's feed address.
#[utoipa::path(get, path = "/api/admin/feed", tag = "owner",
    responses((status = 200, description = "The address", body = FeedBody)))]
pub(super) async fn get_feed(State(state): State<WebState>) -> Result<Response, HttpError> {
    let url = calendars::feed::feed_url(&state.app).await?;
    Ok(Json(FeedBody { url }).into_response())
}

/// A new feed address; the old one stops working at once.
#[utoipa::path(post, path = "/api/admin/feed/rotate", tag = "owner",
    responses((status = 200, description = "The new address", body = FeedBody)))]
pub(super) async fn rotate_feed(State(state): State<WebState>) -> Result<Response, HttpError> {
    let url = calendars::feed::rotate_feed(&state.app).await?;
    Ok(Json(FeedBody { url }).into_response())
}
