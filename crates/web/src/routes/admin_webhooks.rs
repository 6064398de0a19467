//! The owner API for webhooks: list, add (the answer carries the secret, once), remove, an
//! endpoint's delivery log, and "send again". Registered with the owner API's routes (see
//! [`super::admin`]), behind the same owner check.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use guidance_app::webhooks;
use uuid::Uuid;

use super::bodies::{DeliveryBody, DeliveryList, ErrorBody, NewWebhook, WebhookBody, WebhookList};
use super::recorder::Recorder;
use crate::error::HttpError;
use crate::extract::JsonBody;
use crate::state::WebState;
use guidance_app::AppError;

/// Adds the webhook routes to the owner API's.
pub(super) fn register(r: Recorder) -> Recorder {
    r.get("/api/admin/webhooks", list_webhooks)
        .post("/api/admin/webhooks", add_webhook)
        .delete("/api/admin/webhooks/{id}", remove_webhook)
        .get("/api/admin/webhooks/{id}/deliveries", list_deliveries)
        .post(
            "/api/admin/webhooks/{id}/deliveries/{delivery_id}/send",
            send_again,
        )
}

fn id(raw: &str) -> Result<Uuid, HttpError> {
    Uuid::parse_str(raw).map_err(|_| HttpError::App(AppError::NotFound))
}

/// Every webhook endpoint (never their secrets).
#[utoipa::path(get, path = "/api/admin/webhooks", tag = "owner",
    responses((status = 200, description = "The endpoints", body = WebhookList)))]
pub(super) async fn list_webhooks(State(state): State<WebState>) -> Result<Response, HttpError> {
    let webhooks = webhooks::list_endpoints(&state.app)
        .await?
        .into_iter()
        .map(WebhookBody::from)
        .collect();
    Ok(Json(WebhookList { webhooks }).into_response())
}

/// Adds an endpoint; the answer carries its signing secret, shown this once.
#[utoipa::path(post, path = "/api/admin/webhooks", tag = "owner", request_body = NewWebhook,
    responses(
        (status = 201, description = "Added, with its `secret`", body = WebhookBody),
        (status = 400, description = "The body is not a JSON object", body = ErrorBody),
        (status = 422, description = "Refused fields: `url` not https on the public internet, an unknown event", body = ErrorBody),
    ))]
pub(super) async fn add_webhook(
    State(state): State<WebState>,
    JsonBody(new): JsonBody<NewWebhook>,
) -> Result<Response, HttpError> {
    let wrong = new.wrong_types();
    if !wrong.is_empty() {
        return Err(HttpError::App(AppError::Invalid(wrong)));
    }
    let url = new.url.value().cloned().unwrap_or_default();
    let events = new.events.value().cloned().unwrap_or_default();
    let created = webhooks::create_endpoint(&state.app, &url, &events).await?;
    let body = WebhookBody {
        secret: Some(created.secret),
        ..WebhookBody::from(created.endpoint)
    };
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

/// Removes an endpoint and its log; nothing more is sent to it.
#[utoipa::path(delete, path = "/api/admin/webhooks/{id}", tag = "owner",
    params(("id" = Uuid, Path, description = "The endpoint")),
    responses(
        (status = 204, description = "Removed"),
        (status = 404, description = "No such endpoint", body = ErrorBody),
    ))]
pub(super) async fn remove_webhook(
    State(state): State<WebState>,
    Path(raw): Path<String>,
) -> Result<Response, HttpError> {
    webhooks::delete_endpoint(&state.app, id(&raw)?).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// An endpoint's latest messages, newest first: attempts, last answer, next try.
#[utoipa::path(get, path = "/api/admin/webhooks/{id}/deliveries", tag = "owner",
    params(("id" = Uuid, Path, description = "The endpoint")),
    responses(
        (status = 200, description = "The delivery log", body = DeliveryList),
        (status = 404, description = "No such endpoint", body = ErrorBody),
    ))]
pub(super) async fn list_deliveries(
    State(state): State<WebState>,
    Path(raw): Path<String>,
) -> Result<Response, HttpError> {
    let (_, log) = webhooks::endpoint_log(&state.app, id(&raw)?).await?;
    let deliveries = log.into_iter().map(DeliveryBody::from).collect();
    Ok(Json(DeliveryList { deliveries }).into_response())
}

/// Sends a message again, at once: the same `webhook-id` and body, a fresh attempt budget.
#[utoipa::path(post, path = "/api/admin/webhooks/{id}/deliveries/{delivery_id}/send", tag = "owner",
    params(
        ("id" = Uuid, Path, description = "The endpoint"),
        ("delivery_id" = Uuid, Path, description = "The message"),
    ),
    responses(
        (status = 200, description = "Queued again", body = DeliveryBody),
        (status = 404, description = "No such message for this endpoint", body = ErrorBody),
        (status = 409, description = "It is being sent right now", body = ErrorBody),
    ))]
pub(super) async fn send_again(
    State(state): State<WebState>,
    Path((raw, delivery)): Path<(String, String)>,
) -> Result<Response, HttpError> {
    let queued = webhooks::send_again(&state.app, id(&raw)?, id(&delivery)?).await?;
    Ok(Json(DeliveryBody::from(queued)).into_response())
}
