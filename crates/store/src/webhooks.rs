//! What the store keeps of webhooks: the owner's endpoints and each message queued for one of
//! them, with its delivery log (attempts, the last answer, the next try).

use jiff::Timestamp;
use serde::Serialize;
use uuid::Uuid;

/// A receiver the owner set up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookEndpoint {
    /// Its id.
    pub id: Uuid,
    /// Where messages are posted (checked when set: https and public unless allowed).
    pub url: String,
    /// The names of the events it receives (`booking.accepted`, …).
    pub events: Vec<String>,
    /// Its signing secret, sealed (see `app::seal`); never stored open.
    pub sealed_secret: Vec<u8>,
    /// When it was set up.
    pub created_at: Timestamp,
}

/// A receiver to add.
#[derive(Debug, Clone)]
pub struct NewWebhookEndpoint {
    /// Its id (the sealed secret is bound to it).
    pub id: Uuid,
    /// Where messages are posted.
    pub url: String,
    /// The names of the events it receives.
    pub events: Vec<String>,
    /// Its signing secret, sealed.
    pub sealed_secret: Vec<u8>,
    /// Now.
    pub now: Timestamp,
}

/// A booking's change as receivers are told of it, queued in the change's transaction for
/// every endpoint that asked for `event`.
#[derive(Debug, Clone)]
pub struct NewWebhookEvent {
    /// The event's name (`booking.requested`, …).
    pub event: String,
    /// The JSON body every receiver gets.
    pub payload: String,
}

/// Where a message stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum WebhookStatus {
    /// Waiting for its (next) attempt.
    Queued,
    /// The receiver answered 2xx.
    Delivered,
    /// Gave up after the last attempt; can be sent again.
    Failed,
}

impl WebhookStatus {
    /// The name stored and shown.
    pub fn as_str(self) -> &'static str {
        match self {
            WebhookStatus::Queued => "queued",
            WebhookStatus::Delivered => "delivered",
            WebhookStatus::Failed => "failed",
        }
    }

    /// The status named `s`.
    pub fn parse(s: &str) -> Option<Self> {
        [Self::Queued, Self::Delivered, Self::Failed]
            .into_iter()
            .find(|v| v.as_str() == s)
    }
}

/// One message for one endpoint and its delivery log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookDelivery {
    /// Its id: the `webhook-id` of every attempt, so a receiver can tell a retry.
    pub id: Uuid,
    /// The endpoint it goes to.
    pub endpoint_id: Uuid,
    /// The booking it reports on.
    pub booking_id: Option<Uuid>,
    /// The event's name.
    pub event: String,
    /// The JSON body (empty once the visitor's data was erased).
    pub payload: String,
    /// Where it stands.
    pub status: WebhookStatus,
    /// Attempts so far.
    pub attempts: i64,
    /// The HTTP status of the last answer, if one came.
    pub last_status: Option<i64>,
    /// Why the last attempt failed.
    pub last_error: Option<String>,
    /// When it is (or was) due next.
    pub next_attempt_at: Timestamp,
    /// When it was last tried.
    pub last_attempt_at: Option<Timestamp>,
    /// When a receiver took it.
    pub delivered_at: Option<Timestamp>,
    /// When it was queued.
    pub created_at: Timestamp,
}

/// What became of one attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WebhookOutcome {
    /// Taken (2xx).
    Delivered,
    /// Failed; tried again at this time.
    Retry(Timestamp),
    /// Failed for the last time.
    Failed,
}

/// One attempt to record.
#[derive(Debug, Clone)]
pub struct WebhookAttempt {
    /// The HTTP status answered, if any.
    pub status_code: Option<i64>,
    /// Why it failed, if it did.
    pub error: Option<String>,
    /// What follows.
    pub outcome: WebhookOutcome,
    /// When it was made.
    pub now: Timestamp,
}
