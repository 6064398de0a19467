//! Webhooks: the owner's endpoints (set, listed, removed), what a booking's change tells them
//! (queued with the change, in its transaction, as emails are), and their delivery log with
//! "send again". Delivering is [`deliver`]'s, run by the outbox worker.
//!
//! An endpoint's secret is shown once, when it is made, and kept only sealed under a key
//! derived from the site's secret, bound to the endpoint's id.

pub mod deliver;

use guidance_core::webhook::{self, WebhookEvent, WebhookSecret};
use guidance_core::{BookingStatus, FieldErrors, FieldReason};
use guidance_store::{NewWebhookEndpoint, NewWebhookEvent, WebhookDelivery, WebhookEndpoint};
use jiff::Timestamp;
use url::Url;
use uuid::Uuid;

use crate::{App, AppError, AppResult};

/// The purpose an endpoint's secret is sealed for (see [`crate::seal`]).
const SEAL_PURPOSE: &str = "webhook-secret";
/// Messages shown per endpoint in its delivery log.
pub const LOG_LENGTH: u32 = 50;

/// A new endpoint and its secret, which is shown this once.
#[derive(Debug, Clone)]
pub struct CreatedEndpoint {
    /// The endpoint as stored.
    pub endpoint: WebhookEndpoint,
    /// `whsec_…`: what the receiver verifies signatures with.
    pub secret: String,
}

/// Sets up an endpoint at `url` for `events` (their names). Refused with field errors when the
/// address is not https and public (unless `GUIDANCE_WEBHOOK_ALLOW_PRIVATE` is set) or an
/// event is unknown; nothing is stored then.
pub async fn create_endpoint(
    app: &App,
    url: &str,
    events: &[String],
) -> AppResult<CreatedEndpoint> {
    let mut errors = FieldErrors::new();
    let url = match parse_url(url, app.settings.config.webhook_allow_private) {
        Ok(u) => Some(u),
        Err(reason) => {
            errors.add("url", reason);
            None
        }
    };
    let events = match webhook::parse_events(events) {
        Ok(e) => Some(e),
        Err(e) => {
            errors.merge(e);
            None
        }
    };
    let (Some(url), Some(events)) = (url, events) else {
        return Err(AppError::Invalid(errors));
    };
    let id = Uuid::new_v4();
    let secret = WebhookSecret::generate();
    let sealed_secret = guidance_core::sealed::seal(
        &app.secret,
        SEAL_PURPOSE,
        id.as_bytes(),
        secret.text().as_bytes(),
    );
    let endpoint = app
        .store
        .create_webhook_endpoint(NewWebhookEndpoint {
            id,
            url: url.to_string(),
            events: events.iter().map(|e| e.as_str().to_owned()).collect(),
            sealed_secret,
            now: app.now(),
        })
        .await?;
    tracing::info!(endpoint = %endpoint.id, "webhook endpoint added");
    Ok(CreatedEndpoint {
        endpoint,
        secret: secret.text(),
    })
}

/// An endpoint's address parsed and checked (see [`crate::outbound`]): no credentials in it,
/// at most [`webhook::URL_MAX`] long.
fn parse_url(raw: &str, allow_private: bool) -> Result<Url, FieldReason> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Err(FieldReason::Empty);
    }
    if raw.len() > webhook::URL_MAX {
        return Err(FieldReason::TooLong);
    }
    let url = Url::parse(raw).map_err(|_| FieldReason::NotPublicHttps)?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err(FieldReason::NotPublicHttps);
    }
    crate::outbound::check_url(&url, allow_private).map_err(|_| FieldReason::NotPublicHttps)?;
    Ok(url)
}

/// Every endpoint, oldest first.
pub async fn list_endpoints(app: &App) -> AppResult<Vec<WebhookEndpoint>> {
    Ok(app.store.list_webhook_endpoints().await?)
}

/// Removes an endpoint and its log.
pub async fn delete_endpoint(app: &App, id: Uuid) -> AppResult<()> {
    app.store.delete_webhook_endpoint(id).await?;
    tracing::info!(endpoint = %id, "webhook endpoint removed");
    Ok(())
}

/// An endpoint and its latest messages, newest first.
pub async fn endpoint_log(
    app: &App,
    id: Uuid,
) -> AppResult<(WebhookEndpoint, Vec<WebhookDelivery>)> {
    let endpoint = list_endpoints(app)
        .await?
        .into_iter()
        .find(|e| e.id == id)
        .ok_or(AppError::NotFound)?;
    let log = app.store.webhook_deliveries(id, LOG_LENGTH).await?;
    Ok((endpoint, log))
}

/// Sends message `delivery_id` of endpoint `endpoint_id` again (same `webhook-id`, same body),
/// at once.
pub async fn send_again(
    app: &App,
    endpoint_id: Uuid,
    delivery_id: Uuid,
) -> AppResult<WebhookDelivery> {
    let queued = app
        .store
        .requeue_webhook_delivery(endpoint_id, delivery_id, app.now())
        .await?;
    app.outbox_wake.notify_one();
    Ok(queued)
}

/// The secret of `endpoint`, opened to sign with; `None` when another site secret sealed it.
pub(crate) fn secret_of(app: &App, endpoint: &WebhookEndpoint) -> Option<WebhookSecret> {
    let plain = guidance_core::sealed::open(
        &app.secret,
        SEAL_PURPOSE,
        endpoint.id.as_bytes(),
        &endpoint.sealed_secret,
    )
    .ok()?;
    WebhookSecret::from_text(std::str::from_utf8(&plain).ok()?)
}

/// A booking as receivers are told of it.
#[derive(Debug, Clone, Copy)]
pub struct Announced<'a> {
    /// The booking's id.
    pub id: Uuid,
    /// Its state after the change.
    pub status: BookingStatus,
    /// The session's start.
    pub starts_at: Timestamp,
    /// The session's end.
    pub ends_at: Timestamp,
    /// The visitor's name.
    pub name: &'a str,
    /// The visitor's email address.
    pub email: &'a str,
    /// What the session is about.
    pub topic: &'a str,
}

/// What receivers are told of `event` of `booking` at `now`: the Standard Webhooks payload
/// (`type`, `timestamp`, `data`), with the booking in the owner API's words.
pub fn message(event: WebhookEvent, booking: Announced<'_>, now: Timestamp) -> NewWebhookEvent {
    let payload = serde_json::json!({
        "type": event.as_str(),
        "timestamp": now.to_string(),
        "data": {
            "id": booking.id,
            "status": booking.status.as_str(),
            "starts_at": booking.starts_at.to_string(),
            "ends_at": booking.ends_at.to_string(),
            "name": booking.name,
            "email": booking.email,
            "topic": booking.topic,
        },
    });
    NewWebhookEvent {
        event: event.as_str().to_owned(),
        payload: payload.to_string(),
    }
}

/// What receivers are told of a new booking `id` of `intake` in `status`, if anything.
pub fn of_request(
    status: BookingStatus,
    id: Uuid,
    intake: &guidance_core::Intake,
    window: &guidance_core::SlotWindow,
    now: Timestamp,
) -> Option<NewWebhookEvent> {
    let event = WebhookEvent::of_new_booking(status)?;
    let booking = Announced {
        id,
        status,
        starts_at: window.starts_at(),
        ends_at: window.ends_at(),
        name: intake.name.as_str(),
        email: intake.email.as_str(),
        topic: intake.topic.as_str(),
    };
    Some(message(event, booking, now))
}

/// What receivers are told of `action` moving `booking` to `to`, the session then from
/// `starts_at` to `ends_at`, if anything.
pub fn of_change(
    action: guidance_core::BookingAction,
    booking: &guidance_store::Booking,
    to: BookingStatus,
    (starts_at, ends_at): (Timestamp, Timestamp),
    now: Timestamp,
) -> Option<NewWebhookEvent> {
    let event = WebhookEvent::of_change(action, booking.status)?;
    let announced = Announced {
        id: booking.id,
        status: to,
        starts_at,
        ends_at,
        name: &booking.name,
        email: &booking.email,
        topic: &booking.topic,
    };
    Some(message(event, announced, now))
}
