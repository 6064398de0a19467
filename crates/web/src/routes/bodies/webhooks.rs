//! The owner API's bodies for webhooks: an endpoint to add, an endpoint (with its secret once),
//! and its delivery log.

use guidance_store::{WebhookDelivery, WebhookEndpoint};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::extract::{Field, FieldErrors, wrong_types};

/// A webhook endpoint to add.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[schema(example = json!({"url": "https://hooks.example/guidance", "events": ["booking.requested", "booking.cancelled"]}))]
pub struct NewWebhook {
    /// Where messages are posted: https on the public internet.
    #[schema(value_type = String, required = true)]
    #[serde(default)]
    pub url: Field<String>,
    /// The events it receives: `booking.requested`, `booking.accepted`, `booking.declined`,
    /// `booking.reschedule_requested`, `booking.rescheduled`, `booking.cancelled`,
    /// `booking.expired`.
    #[schema(value_type = Vec<String>, required = true)]
    #[serde(default)]
    pub events: Field<Vec<String>>,
}

impl NewWebhook {
    /// The fields sent with a value of the wrong type.
    pub fn wrong_types(&self) -> FieldErrors {
        wrong_types!(self; url, events)
    }
}

/// A webhook endpoint as the owner sees it.
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookBody {
    /// Its id.
    pub id: uuid::Uuid,
    /// Where messages are posted.
    pub url: String,
    /// The events it receives.
    pub events: Vec<String>,
    /// When it was added, RFC 3339.
    pub created_at: String,
    /// `whsec_…`, to verify signatures with: only in the answer that made the endpoint, never
    /// again.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
}

impl From<WebhookEndpoint> for WebhookBody {
    fn from(e: WebhookEndpoint) -> Self {
        Self {
            id: e.id,
            url: e.url,
            events: e.events,
            created_at: e.created_at.to_string(),
            secret: None,
        }
    }
}

/// Every webhook endpoint, oldest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookList {
    /// The endpoints.
    pub webhooks: Vec<WebhookBody>,
}

/// One message for an endpoint and how its delivery went.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryBody {
    /// Its id; the `webhook-id` header is `msg_` and this id without dashes.
    pub id: uuid::Uuid,
    /// The `webhook-id` of every attempt.
    pub webhook_id: String,
    /// The booking it reports on.
    pub booking_id: Option<uuid::Uuid>,
    /// The event.
    pub event: String,
    /// `queued`, `delivered` or `failed`.
    pub status: &'static str,
    /// Attempts so far.
    pub attempts: i64,
    /// The HTTP status of the last answer, if one came.
    pub last_status: Option<i64>,
    /// Why the last attempt failed.
    pub last_error: Option<String>,
    /// When it is tried next (while queued), RFC 3339.
    pub next_attempt_at: Option<String>,
    /// When it was last tried, RFC 3339.
    pub last_attempt_at: Option<String>,
    /// When the receiver took it, RFC 3339.
    pub delivered_at: Option<String>,
    /// When it was queued, RFC 3339.
    pub created_at: String,
}

impl From<WebhookDelivery> for DeliveryBody {
    fn from(d: WebhookDelivery) -> Self {
        let queued = d.status == guidance_store::WebhookStatus::Queued;
        Self {
            id: d.id,
            webhook_id: guidance_app::webhooks::deliver::message_id(d.id),
            booking_id: d.booking_id,
            event: d.event,
            status: d.status.as_str(),
            attempts: d.attempts,
            last_status: d.last_status,
            last_error: d.last_error,
            next_attempt_at: queued.then(|| d.next_attempt_at.to_string()),
            last_attempt_at: d.last_attempt_at.map(|t| t.to_string()),
            delivered_at: d.delivered_at.map(|t| t.to_string()),
            created_at: d.created_at.to_string(),
        }
    }
}

/// An endpoint's latest messages, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryList {
    /// The messages.
    pub deliveries: Vec<DeliveryBody>,
}
