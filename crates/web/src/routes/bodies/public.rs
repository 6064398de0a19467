//! The public API's bodies: open slots, a booking request and its answer, emailed actions, the
//! intake form the element reads.

use guidance_core::BookingStatus;
use guidance_core::slot::format_utc;
use guidance_store::{Booking, Slot};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::*;
use crate::extract::{Field, FieldErrors, wrong_types};

/// An open slot as visitors see it.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"id": "0b9f4a84-3c55-4d0e-9a43-9a1a5e0f5d21",
    "starts_at": "2030-01-07T09:00:00Z", "ends_at": "2030-01-07T09:45:00Z"}))]
pub struct PublicSlot {
    /// The slot to name in a booking request.
    pub id: Uuid,
    /// Start, RFC 3339 in UTC.
    #[schema(format = DateTime)]
    pub starts_at: String,
    /// End, RFC 3339 in UTC.
    #[schema(format = DateTime)]
    pub ends_at: String,
}

impl From<&Slot> for PublicSlot {
    fn from(s: &Slot) -> Self {
        PublicSlot {
            id: s.id,
            starts_at: format_utc(s.starts_at),
            ends_at: format_utc(s.ends_at),
        }
    }
}

/// The open future slots, earliest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct SlotList {
    /// The slots.
    pub slots: Vec<PublicSlot>,
}

/// What the public learns of a booking: its state and time, never more.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"id": "5d3c2f38-0c0a-4d0b-8d4e-4b7f0f1a2b3c", "status": "pending",
    "starts_at": "2030-01-07T09:00:00Z", "ends_at": "2030-01-07T09:45:00Z",
    "status_url": "https://guidance.example.org/r/..."}))]
pub struct PublicBooking {
    /// The booking.
    pub id: Uuid,
    /// Its state.
    #[schema(schema_with = booking_status_schema)]
    pub status: BookingStatus,
    /// Start of its slot, RFC 3339 in UTC.
    #[schema(format = DateTime)]
    pub starts_at: String,
    /// End of its slot, RFC 3339 in UTC.
    #[schema(format = DateTime)]
    pub ends_at: String,
    /// The requester's own page (status, cancel); only in the answer to a new booking.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status_url: Option<String>,
    /// While pending: when the request lapses unless the owner answers (`null` otherwise).
    #[schema(required = true, format = DateTime)]
    pub answer_by: Option<String>,
}

impl From<&Booking> for PublicBooking {
    fn from(b: &Booking) -> Self {
        PublicBooking {
            id: b.id,
            status: b.status,
            starts_at: format_utc(b.starts_at),
            ends_at: format_utc(b.ends_at),
            status_url: None,
            answer_by: (b.status == BookingStatus::Pending)
                .then(|| format_utc(b.answer_by.unwrap_or(b.starts_at))),
        }
    }
}

/// A visitor's request for a session. Text fields left out or `null` count as empty.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[schema(example = json!({"slot_id": "0b9f4a84-3c55-4d0e-9a43-9a1a5e0f5d21", "name": "Sam Doe",
    "email": "sam@example.net", "topic": "Moving our service to PostgreSQL", "priority": "normal",
    "answers": {}, "locale": "en", "time_zone": "Europe/Berlin"}))]
pub struct BookingRequest {
    /// The open slot asked for.
    #[schema(value_type = String, format = Uuid, required = true)]
    #[serde(default)]
    pub slot_id: Field<String>,
    /// The slot's start as the visitor saw it (RFC 3339), sent with `ends_at` by pages that
    /// show times: the booking is then made at that time or not at all (`409 slot_taken` if
    /// the slot no longer has it), and one read fewer. Left out, the slot's time is read.
    #[schema(value_type = Option<String>, format = DateTime)]
    #[serde(default)]
    pub starts_at: Field<String>,
    /// The slot's end as the visitor saw it (RFC 3339), with `starts_at`.
    #[schema(value_type = Option<String>, format = DateTime)]
    #[serde(default)]
    pub ends_at: Field<String>,
    /// The requester's name.
    #[schema(value_type = String, max_length = 120, required = true)]
    #[serde(default)]
    pub name: Field<String>,
    /// Where the answer goes.
    #[schema(value_type = String, max_length = 254, format = Email, required = true)]
    #[serde(default)]
    pub email: Field<String>,
    /// What the session is about.
    #[schema(value_type = String, max_length = 2000, required = true)]
    #[serde(default)]
    pub topic: Field<String>,
    /// How urgent it is.
    #[schema(schema_with = priority_schema, required = true)]
    #[serde(default)]
    pub priority: Field<String>,
    /// Answers to the owner's questions (`GET /api/intake`), by question key.
    #[schema(value_type = Object)]
    #[serde(default)]
    pub answers: serde_json::Value,
    /// The requester's language (e.g. `en`, `pt-BR`); emails to them use it.
    #[schema(value_type = Option<String>)]
    #[serde(default)]
    pub locale: Field<String>,
    /// The requester's IANA time zone, e.g. `Europe/Berlin`.
    #[schema(value_type = String, required = true)]
    #[serde(default)]
    pub time_zone: Field<String>,
    /// A field hidden from people: automated senders fill it in. Leave it out or empty; filled
    /// in, the request is refused (`422`, `spam_suspected`).
    #[schema(value_type = Option<String>)]
    #[serde(default)]
    pub website: Field<String>,
}

impl BookingRequest {
    /// The fields sent with a value of the wrong type (the answers are checked by the intake).
    pub fn wrong_types(&self) -> FieldErrors {
        wrong_types!(self; slot_id, starts_at, ends_at, name, email, topic, priority, locale, time_zone, website)
    }
}

/// Carries out an emailed link.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[schema(example = json!({"token": "the token from the link", "action": "accept"}))]
pub struct ActionRequest {
    /// The token from the link.
    #[schema(value_type = String, required = true)]
    #[serde(default)]
    pub token: Field<String>,
    /// The action, when the caller wants it checked against the link.
    #[schema(schema_with = action_schema)]
    #[serde(default)]
    pub action: Field<String>,
    /// With a `pick_slot` link: the new slot.
    #[schema(value_type = Option<String>, format = Uuid)]
    #[serde(default)]
    pub slot_id: Field<String>,
    /// With an owner's link: shown to the requester in the email about the change (at most
    /// 2000 characters).
    #[schema(value_type = Option<String>, max_length = 2000)]
    #[serde(default)]
    pub message: Field<String>,
    /// With a `reschedule` link: up to three open slots proposed to the visitor, each held for
    /// them until they choose (or the reschedule window ends) and offered as a one-click choice.
    #[schema(value_type = Option<Vec<String>>, max_items = 3)]
    #[serde(default)]
    pub proposed_slot_ids: Field<Vec<String>>,
}

impl ActionRequest {
    /// The fields sent with a value of the wrong type.
    pub fn wrong_types(&self) -> FieldErrors {
        wrong_types!(self; token, action, slot_id, message, proposed_slot_ids)
    }
}

/// The greatest lengths the booking form accepts.
#[derive(Debug, Serialize, ToSchema)]
pub struct IntakeLimits {
    /// Name.
    pub name: usize,
    /// Email address.
    pub email: usize,
    /// Topic.
    pub topic: usize,
    /// A short-text answer.
    pub short_text: usize,
    /// A long-text answer.
    pub long_text: usize,
}

/// What the booking form shows, in one language.
#[derive(Debug, Serialize, ToSchema)]
pub struct IntakeForm {
    /// The language the texts are in.
    pub lang: &'static str,
    /// The form's texts by key.
    #[schema(value_type = Object)]
    pub texts: serde_json::Value,
    /// The owner's questions.
    #[schema(value_type = Vec<QuestionBody>)]
    pub questions: Vec<guidance_core::question::Question>,
    /// The priorities, lowest first.
    #[schema(value_type = Vec<String>)]
    pub priorities: Vec<&'static str>,
    /// Field limits.
    pub limits: IntakeLimits,
}

// --- owner API ---------------------------------------------------------------------------------
