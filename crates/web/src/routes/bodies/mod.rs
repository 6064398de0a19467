//! The JSON bodies of the public and owner APIs as types. The handlers serialize the response
//! types and deserialize the request types (through [`JsonBody`](crate::extract::JsonBody)),
//! and the OpenAPI document (`GET /api/openapi.json`) is generated from the same types, so what
//! is documented is what is sent and what is read. A request field that may come with the wrong
//! JSON type is a [`Field`], documented with `value_type` as the type it should have; each
//! request type names its mistyped fields at once (`wrong_types`).

use std::collections::BTreeMap;

use guidance_core::{BookingAction, BookingStatus, Priority, SlotStatus};
use guidance_store::EmailStatus;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa::openapi::schema::{Object, ObjectBuilder, Type};

/// A string schema that takes one of `values`.
fn one_of(values: impl IntoIterator<Item = &'static str>, description: &str) -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(values))
        .description(Some(description))
        .build()
}

/// The schema of a booking's status, from the state machine's own list.
pub fn booking_status_schema() -> Object {
    one_of(
        BookingStatus::ALL.map(BookingStatus::as_str),
        "The booking's state.",
    )
}

fn slot_status_schema() -> Object {
    let all = [
        SlotStatus::Open,
        SlotStatus::Booked,
        SlotStatus::Unavailable,
    ];
    one_of(
        all.map(SlotStatus::as_str),
        "open: offered to visitors; booked: held by an unconfirmed, pending or accepted booking; unavailable: withdrawn by the owner.",
    )
}

fn priority_schema() -> Object {
    one_of(
        Priority::ALL.map(Priority::as_str),
        "How urgent the request is.",
    )
}

fn action_schema() -> Object {
    one_of(
        BookingAction::ALL.map(BookingAction::as_str),
        "What the link should do; it must be the link's own action. Empty: the link's action.",
    )
}

fn email_status_schema() -> Object {
    let all = [EmailStatus::Queued, EmailStatus::Sent, EmailStatus::Failed];
    one_of(all.map(EmailStatus::as_str), "The email's delivery state.")
}

// --- errors ------------------------------------------------------------------------------------

/// Every error answer: a stable code, a message in the reader's language (`Accept-Language`),
/// and for `invalid` the refused fields.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"error": {"code": "invalid", "message": "Some fields need another look.",
    "fields": {"email": {"code": "invalid_email", "message": "This is not an email address."}}}}))]
pub struct ErrorBody {
    /// What went wrong.
    pub error: ErrorDetail,
}

/// The inside of an [`ErrorBody`].
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable code: `invalid`, `bad_request`, `slot_taken`, `slot_overlap`, `slot_booked`,
    /// `not_found`, `token_invalid`, `token_expired`, `token_used`, `token_outdated`,
    /// `wrong_action`, `invalid_transition`, `conflict`, `too_many_requests`, `too_many_pending`,
    /// `spam_suspected`, `unauthorized`, `booking_closed`, `csrf_refused`, `too_large`,
    /// `unsupported_media_type`, `method_not_allowed`, `request_timeout`, `unavailable`, `busy`,
    /// `internal`.
    #[schema(example = "slot_taken")]
    pub code: String,
    /// For people, in the reader's language.
    pub message: String,
    /// With `invalid`: each refused field (for nested input, `questions.<index>.<field>`) and why.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fields: Option<BTreeMap<String, FieldError>>,
}

/// Why one field was refused.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct FieldError {
    /// Stable reason, e.g. `empty`, `too_long`, `unknown_value`, `wrong_type`, `invalid_email`.
    pub code: String,
    /// For people, in the reader's language.
    pub message: String,
}

// --- public API --------------------------------------------------------------------------------

mod calendars;
mod owner;
mod privacy;
mod public;
#[cfg(test)]
mod tests;
mod webhooks;

pub use calendars::*;
pub use owner::*;
pub use privacy::*;
pub use public::*;
pub use webhooks::*;
