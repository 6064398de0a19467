//! The owner API's bodies: slots, patterns, bookings with their history and emails, actions,
//! questions and settings.

use std::collections::BTreeMap;

use guidance_core::FieldReason;
use guidance_core::owner_settings::{self, Setting};
use guidance_core::slot::format_utc;
use guidance_core::{BookingStatus, Priority, SlotStatus};
use guidance_store::{Booking, BookingEvent, EmailStatus, OutboxMessage, Slot};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa::openapi::schema::Object;
use uuid::Uuid;

use super::*;
use crate::extract::{Field, FieldErrors, wrong_types};

/// A slot as the owner sees it.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"id": "0b9f4a84-3c55-4d0e-9a43-9a1a5e0f5d21",
    "starts_at": "2030-01-07T09:00:00Z", "ends_at": "2030-01-07T09:45:00Z", "status": "open",
    "meeting_details": "https://meet.example.org/owner"}))]
pub struct OwnerSlot {
    /// The slot.
    pub id: Uuid,
    /// Start, RFC 3339 in UTC.
    #[schema(format = DateTime)]
    pub starts_at: String,
    /// End, RFC 3339 in UTC.
    #[schema(format = DateTime)]
    pub ends_at: String,
    /// Its state.
    #[schema(schema_with = slot_status_schema)]
    pub status: SlotStatus,
    /// Private meeting details (sent to the requester once accepted).
    #[schema(required = true)]
    pub meeting_details: Option<String>,
}

impl From<&Slot> for OwnerSlot {
    fn from(s: &Slot) -> Self {
        OwnerSlot {
            id: s.id,
            starts_at: format_utc(s.starts_at),
            ends_at: format_utc(s.ends_at),
            status: s.status,
            meeting_details: s.meeting_details.clone(),
        }
    }
}

/// Slots, earliest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct OwnerSlotList {
    /// The slots.
    pub slots: Vec<OwnerSlot>,
}

/// A new slot.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[schema(example = json!({"starts_at": "2030-01-07T09:00:00Z", "ends_at": "2030-01-07T09:45:00Z"}))]
pub struct NewSlot {
    /// Start, RFC 3339.
    #[schema(value_type = String, format = DateTime, required = true)]
    #[serde(default)]
    pub starts_at: Field<String>,
    /// End, RFC 3339; after the start.
    #[schema(value_type = String, format = DateTime, required = true)]
    #[serde(default)]
    pub ends_at: Field<String>,
    /// Private meeting details.
    #[schema(value_type = Option<String>)]
    #[serde(default)]
    pub meeting_details: Field<String>,
}

impl NewSlot {
    /// The fields sent with a value of the wrong type.
    pub fn wrong_types(&self) -> FieldErrors {
        wrong_types!(self; starts_at, ends_at, meeting_details)
    }
}

/// A change to a slot: open or withdraw it, or move it (the fields not given keep their value).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[schema(example = json!({"status": "unavailable"}))]
pub struct SlotChange {
    /// Open it again or withdraw it.
    #[schema(schema_with = slot_availability_schema)]
    #[serde(default)]
    pub status: Field<String>,
    /// New start, RFC 3339.
    #[schema(value_type = String, format = DateTime)]
    #[serde(default)]
    pub starts_at: Field<String>,
    /// New end, RFC 3339.
    #[schema(value_type = String, format = DateTime)]
    #[serde(default)]
    pub ends_at: Field<String>,
    /// New meeting details (`null` or empty: none).
    #[schema(value_type = Option<String>)]
    #[serde(default)]
    pub meeting_details: Field<String>,
}

impl SlotChange {
    /// The fields sent with a value of the wrong type.
    pub fn wrong_types(&self) -> FieldErrors {
        wrong_types!(self; status, starts_at, ends_at, meeting_details)
    }
}

fn slot_availability_schema() -> Object {
    one_of(
        [SlotStatus::Open.as_str(), SlotStatus::Unavailable.as_str()],
        "open or unavailable",
    )
}

/// A weekly pattern in the owner's time zone.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"weekdays": [1, 3], "window_start": "09:00", "window_end": "12:00",
    "session_minutes": 45, "gap_minutes": 15, "first_day": "2030-01-07", "last_day": "2030-01-31"}))]
pub struct SlotPattern {
    /// ISO weekdays, 1 = Monday … 7 = Sunday.
    pub weekdays: Vec<u8>,
    /// Local start of the daily window, `HH:MM`.
    pub window_start: String,
    /// Local end of the daily window, `HH:MM`.
    pub window_end: String,
    /// Length of each session.
    pub session_minutes: u32,
    /// Pause between sessions.
    #[serde(default)]
    pub gap_minutes: u32,
    /// First day, `YYYY-MM-DD`.
    #[schema(format = Date)]
    pub first_day: String,
    /// Last day, `YYYY-MM-DD`.
    #[schema(format = Date)]
    pub last_day: String,
}

/// What a pattern created, and the sessions it skipped.
#[derive(Debug, Serialize, ToSchema)]
pub struct GeneratedSlots {
    /// The new slots.
    pub created: Vec<OwnerSlot>,
    /// The sessions not created.
    pub skipped: Vec<SkippedSession>,
}

/// A session of a pattern that was not created.
#[derive(Debug, Serialize, ToSchema)]
pub struct SkippedSession {
    /// Local day.
    #[schema(format = Date)]
    pub date: String,
    /// Local start, `HH:MM`.
    pub time: String,
    /// `overlap`, `past`, `nonexistent_time` or `out_of_range`.
    pub reason: &'static str,
}

/// A booking as the owner sees it.
#[derive(Debug, Serialize, ToSchema)]
pub struct OwnerBooking {
    /// The booking.
    pub id: Uuid,
    /// Its slot (none once the slot is deleted).
    #[schema(required = true)]
    pub slot_id: Option<Uuid>,
    /// Its state.
    #[schema(schema_with = booking_status_schema)]
    pub status: BookingStatus,
    /// Start, RFC 3339 in UTC.
    #[schema(format = DateTime)]
    pub starts_at: String,
    /// End, RFC 3339 in UTC.
    #[schema(format = DateTime)]
    pub ends_at: String,
    /// The requester's name.
    pub name: String,
    /// The requester's email address.
    pub email: String,
    /// What the session is about.
    pub topic: String,
    /// How urgent.
    #[schema(schema_with = priority_schema)]
    pub priority: Priority,
    /// Answers to the owner's questions, by key.
    #[schema(value_type = Object)]
    pub answers: serde_json::Value,
    /// The requester's language.
    pub locale: String,
    /// The requester's time zone.
    pub time_zone: String,
    /// The calendar event's UID.
    pub ics_uid: String,
    /// The calendar event's SEQUENCE.
    pub ics_sequence: i64,
    /// When it was requested.
    #[schema(format = DateTime)]
    pub created_at: String,
    /// When it last changed.
    #[schema(format = DateTime)]
    pub updated_at: String,
    /// While pending: when it expires unless answered (`null` otherwise).
    #[schema(required = true, format = DateTime)]
    pub answer_by: Option<String>,
}

impl From<&Booking> for OwnerBooking {
    fn from(b: &Booking) -> Self {
        OwnerBooking {
            id: b.id,
            slot_id: b.slot_id,
            status: b.status,
            starts_at: format_utc(b.starts_at),
            ends_at: format_utc(b.ends_at),
            name: b.name.clone(),
            email: b.email.clone(),
            topic: b.topic.clone(),
            priority: b.priority,
            answers: b.answers.clone(),
            locale: b.locale.clone(),
            time_zone: b.time_zone.clone(),
            ics_uid: b.ics_uid.clone(),
            ics_sequence: b.ics_sequence,
            created_at: format_utc(b.created_at),
            updated_at: format_utc(b.updated_at),
            answer_by: answer_by(b),
        }
    }
}

/// A pending booking's answer-by time (its session's start when it has none of its own).
fn answer_by(b: &Booking) -> Option<String> {
    (b.status == BookingStatus::Pending).then(|| format_utc(b.answer_by.unwrap_or(b.starts_at)))
}

/// Bookings: pending first, then accepted, needs_reschedule, declined, cancelled, expired.
#[derive(Debug, Serialize, ToSchema)]
pub struct BookingList {
    /// The bookings.
    pub bookings: Vec<OwnerBooking>,
}

/// A booking with its history and its emails.
#[derive(Debug, Serialize, ToSchema)]
pub struct BookingDetail {
    /// The booking.
    #[serde(flatten)]
    pub booking: OwnerBooking,
    /// Every change, oldest first.
    pub events: Vec<EventBody>,
    /// Every email about it.
    pub emails: Vec<EmailBody>,
}

/// One change of a booking.
#[derive(Debug, Serialize, ToSchema)]
pub struct EventBody {
    /// `owner`, `requester` or `system`.
    pub actor: String,
    /// What was done.
    pub action: String,
    /// The state before (none for the request itself).
    #[schema(required = true)]
    pub from_status: Option<String>,
    /// The state after.
    pub to_status: String,
    /// The owner's message, if any.
    #[schema(required = true)]
    pub note: Option<String>,
    /// When.
    #[schema(format = DateTime)]
    pub created_at: String,
}

impl From<&BookingEvent> for EventBody {
    fn from(e: &BookingEvent) -> Self {
        EventBody {
            actor: e.actor.clone(),
            action: e.action.clone(),
            from_status: e.from_status.clone(),
            to_status: e.to_status.clone(),
            note: e.note.clone(),
            created_at: format_utc(e.created_at),
        }
    }
}

/// One email and its delivery.
#[derive(Debug, Serialize, ToSchema)]
pub struct EmailBody {
    /// The email.
    pub id: Uuid,
    /// What it is, e.g. `owner_invite`.
    pub kind: String,
    /// Its recipient.
    pub recipient: String,
    /// Its subject.
    pub subject: String,
    /// Its Message-ID (the same on every retry and resend).
    pub message_id: String,
    /// Its delivery state.
    #[schema(schema_with = email_status_schema)]
    pub status: EmailStatus,
    /// Delivery attempts so far.
    pub attempts: i64,
    /// When the next attempt is due.
    #[schema(format = DateTime)]
    pub next_attempt_at: String,
    /// Why the last attempt failed.
    #[schema(required = true)]
    pub last_error: Option<String>,
    /// When it was delivered.
    #[schema(required = true, format = DateTime)]
    pub sent_at: Option<String>,
    /// When it was queued.
    #[schema(format = DateTime)]
    pub created_at: String,
    /// A scheduled email (a reminder): dropped unsent once this moment has passed.
    #[schema(required = true, format = DateTime)]
    pub send_before: Option<String>,
    /// When it was withdrawn unsent, if it was.
    #[schema(required = true, format = DateTime)]
    pub withdrawn_at: Option<String>,
    /// Why: `withdrawn` (the booking changed) or `too_late` (its moment passed unsent).
    #[schema(required = true)]
    pub withdrawn_reason: Option<String>,
}

impl From<&OutboxMessage> for EmailBody {
    fn from(m: &OutboxMessage) -> Self {
        EmailBody {
            id: m.id,
            kind: m.kind.clone(),
            recipient: m.recipient.clone(),
            subject: m.subject.clone(),
            message_id: m.message_id.clone(),
            status: m.status,
            attempts: m.attempts,
            next_attempt_at: format_utc(m.next_attempt_at),
            last_error: m.last_error.clone(),
            sent_at: m.sent_at.map(format_utc),
            created_at: format_utc(m.created_at),
            send_before: m.send_before.map(format_utc),
            withdrawn_at: m.withdrawn.as_ref().map(|(at, _)| format_utc(*at)),
            withdrawn_reason: m.withdrawn.as_ref().map(|(_, why)| why.clone()),
        }
    }
}

/// Which email of the booking to send again.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct ResendRequest {
    /// The email's id (from the booking's `emails`).
    #[schema(value_type = String, format = Uuid, required = true)]
    #[serde(default)]
    pub email_id: Field<String>,
}

impl ResendRequest {
    /// The fields sent with a value of the wrong type.
    pub fn wrong_types(&self) -> FieldErrors {
        wrong_types!(self; email_id)
    }
}

/// The owner's optional message to the requester with an action, and with a reschedule the
/// times they propose.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[schema(example = json!({"message": "Thursday works better for me.",
    "proposed_slot_ids": ["6f1c2e1a-7d1b-4d7e-9a55-0c1f5c4b2a10"]}))]
pub struct OwnerActionRequest {
    /// Shown to the requester in the email about the change (at most 2000 characters).
    #[schema(value_type = Option<String>, max_length = 2000)]
    #[serde(default)]
    pub message: Field<String>,
    /// Only with `reschedule`: up to three open slots proposed to the visitor, each held for
    /// them until they choose (or the reschedule window ends) and offered as a one-click choice.
    #[schema(value_type = Option<Vec<String>>, max_items = 3)]
    #[serde(default)]
    pub proposed_slot_ids: Field<Vec<String>>,
}

impl OwnerActionRequest {
    /// The fields sent with a value of the wrong type.
    pub fn wrong_types(&self) -> FieldErrors {
        wrong_types!(self; message, proposed_slot_ids)
    }
}

/// One of the owner's supplemental questions.
#[derive(Debug, ToSchema)]
#[schema(example = json!({"key": "company", "label": "Your company", "kind": "short_text",
    "required": false, "options": []}))]
pub struct QuestionBody {
    /// The answer's key in `answers` (letters, digits, `_`, `-`).
    #[schema(max_length = 64)]
    pub key: String,
    /// What the visitor reads.
    #[schema(max_length = 200)]
    pub label: String,
    /// `short_text`, `long_text`, `choice` or `checkbox`.
    pub kind: String,
    /// Whether an answer is needed.
    pub required: bool,
    /// The options of a choice question (each at most 100 characters).
    #[schema(max_items = 20)]
    pub options: Vec<String>,
}

/// The owner's supplemental questions, replacing the whole list.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct QuestionsChange {
    /// In the order the form shows them. Each is held to the question rules; a refused one is
    /// named `questions.<index>.<field>`.
    #[schema(value_type = Vec<QuestionBody>, max_items = 20, required = true)]
    #[serde(default)]
    pub questions: Field<Vec<serde_json::Value>>,
}

impl QuestionsChange {
    /// The fields sent with a value of the wrong type.
    pub fn wrong_types(&self) -> FieldErrors {
        wrong_types!(self; questions)
    }
}

/// The owner's supplemental questions.
#[derive(Debug, Serialize, ToSchema)]
pub struct QuestionList {
    /// In the order the form shows them.
    #[schema(value_type = Vec<QuestionBody>, max_items = 20)]
    pub questions: Vec<guidance_core::question::Question>,
}

/// The owner settings in force.
#[derive(Debug, Serialize, ToSchema)]
pub struct SettingsBody {
    /// Whether visitors may book.
    pub booking_open: bool,
    /// The owner's name.
    pub owner_name: String,
    /// Where requests are sent.
    pub owner_email: String,
    /// The owner's IANA time zone.
    pub time_zone: String,
    /// The owner's language.
    pub language: &'static str,
    /// A slot can be booked only this many hours before it starts.
    pub min_notice_hours: i64,
    /// How many days ahead slots can be booked.
    pub horizon_days: i64,
    /// Whether a visitor must confirm their email address before the owner hears of a request.
    pub confirm_email: bool,
    // Around the session.
    /// Hours the owner has to answer a request before it expires.
    pub answer_within_hours: i64,
    /// Hours before the answer-by time the owner is reminded (0: never).
    pub answer_reminder_hours: i64,
    /// Minutes before an accepted session its reminders go out, largest first.
    pub reminder_offsets_minutes: Vec<i64>,
    /// Whether the owner gets the session reminders too.
    pub remind_owner: bool,
    /// Whether a proposed time the visitor takes waits for the owner's approval.
    pub proposed_time_needs_approval: bool,
    /// Minutes kept free before and after each busy time of the owner's calendars.
    pub busy_buffer_minutes: i64,
    /// Whether slots stay bookable while a calendar source cannot be read.
    pub calendar_fail_open: bool,
    /// Days after a session its visitor's data is kept (then erased).
    pub retention_days: i64,
}

/// Any subset of the settings; the others keep their value. A key that is no setting is refused
/// (`unknown_value`), as is `null` or a value of another type (`wrong_type`).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[schema(example = json!({"booking_open": true, "min_notice_hours": 24}))]
pub struct SettingsChange {
    /// Whether visitors may book.
    #[schema(value_type = bool)]
    #[serde(default)]
    pub booking_open: Field<bool>,
    /// The owner's name.
    #[schema(value_type = String)]
    #[serde(default)]
    pub owner_name: Field<String>,
    /// Where requests are sent.
    #[schema(value_type = String)]
    #[serde(default)]
    pub owner_email: Field<String>,
    /// The owner's IANA time zone.
    #[schema(value_type = String)]
    #[serde(default)]
    pub time_zone: Field<String>,
    /// The owner's language.
    #[schema(value_type = String)]
    #[serde(default)]
    pub language: Field<String>,
    /// Minimum notice in hours.
    #[schema(value_type = i64)]
    #[serde(default)]
    pub min_notice_hours: Field<i64>,
    /// Booking horizon in days.
    #[schema(value_type = i64)]
    #[serde(default)]
    pub horizon_days: Field<i64>,
    /// Whether a visitor must confirm their email address before the owner hears of a request.
    #[schema(value_type = bool)]
    #[serde(default)]
    pub confirm_email: Field<bool>,
    // Around the session.
    /// Hours the owner has to answer a request (1 to 720).
    #[schema(value_type = i64)]
    #[serde(default)]
    pub answer_within_hours: Field<i64>,
    /// Hours before the answer-by time the owner is reminded (0 to 720; 0: never).
    #[schema(value_type = i64)]
    #[serde(default)]
    pub answer_reminder_hours: Field<i64>,
    /// Minutes before an accepted session its reminders go out (at most 5, each 1 to 43200).
    #[schema(value_type = Vec<i64>)]
    #[serde(default)]
    pub reminder_offsets_minutes: Field<Vec<i64>>,
    /// Whether the owner gets the session reminders too.
    #[schema(value_type = bool)]
    #[serde(default)]
    pub remind_owner: Field<bool>,
    /// Whether a proposed time the visitor takes waits for the owner's approval.
    #[schema(value_type = bool)]
    #[serde(default)]
    pub proposed_time_needs_approval: Field<bool>,
    /// Minutes kept free before and after each busy time of the owner's calendars (0–240).
    #[schema(value_type = i64)]
    #[serde(default)]
    pub busy_buffer_minutes: Field<i64>,
    /// Whether slots stay bookable while a calendar source cannot be read.
    #[schema(value_type = bool)]
    #[serde(default)]
    pub calendar_fail_open: Field<bool>,
    /// Days after a session its visitor's name, email, topic, answers and emails are kept
    /// (1–3650), then erased.
    #[schema(value_type = i64)]
    #[serde(default)]
    pub retention_days: Field<i64>,
    /// Every other key: none is a setting.
    #[serde(flatten)]
    #[schema(ignore)]
    pub unknown: BTreeMap<String, serde_json::Value>,
}

impl SettingsChange {
    /// The change for the settings' check, with the keys refused here: each unknown key, and
    /// each setting sent as `null` or with a value of another type.
    pub fn into_change(self) -> owner_settings::SettingsChange {
        let mut refused: FieldErrors = self
            .unknown
            .into_keys()
            .map(|key| (key, FieldReason::UnknownValue))
            .collect();
        let r = &mut refused;
        owner_settings::SettingsChange {
            booking_open: self.booking_open.given(Setting::BookingOpen.key(), r),
            owner_name: self.owner_name.given(Setting::OwnerName.key(), r),
            owner_email: self.owner_email.given(Setting::OwnerEmail.key(), r),
            time_zone: self.time_zone.given(Setting::TimeZone.key(), r),
            language: self.language.given(Setting::Language.key(), r),
            min_notice_hours: self
                .min_notice_hours
                .given(Setting::MinNoticeHours.key(), r),
            horizon_days: self.horizon_days.given(Setting::HorizonDays.key(), r),
            confirm_email: self.confirm_email.given(Setting::ConfirmEmail.key(), r),
            answer_within_hours: self
                .answer_within_hours
                .given(Setting::AnswerWithinHours.key(), r),
            answer_reminder_hours: self
                .answer_reminder_hours
                .given(Setting::AnswerReminderHours.key(), r),
            reminder_offsets_minutes: self
                .reminder_offsets_minutes
                .given(Setting::ReminderOffsetsMinutes.key(), r),
            remind_owner: self.remind_owner.given(Setting::RemindOwner.key(), r),
            proposed_time_needs_approval: self
                .proposed_time_needs_approval
                .given(Setting::ProposedTimeNeedsApproval.key(), r),
            busy_buffer_minutes: self
                .busy_buffer_minutes
                .given(Setting::BusyBufferMinutes.key(), r),
            calendar_fail_open: self
                .calendar_fail_open
                .given(Setting::CalendarFailOpen.key(), r),
            retention_days: self.retention_days.given(Setting::RetentionDays.key(), r),
            refused,
        }
    }
}

/// A calendar reply read from the service mailbox, and what became of it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReplyBody {
    /// The email's Message-ID (or `sha256:<digest>` when it had none).
    pub message_id: String,
    /// When the service read it (RFC 3339, UTC).
    pub received_at: String,
    /// The `From:` address.
    pub sender: Option<String>,
    /// `REPLY`, `COUNTER`, … when a calendar answer was found.
    pub method: Option<String>,
    /// The answering attendee's `PARTSTAT`.
    pub partstat: Option<String>,
    /// The calendar UID it answers.
    pub ics_uid: Option<String>,
    /// The booking it named, when the UID is one of ours.
    pub booking_id: Option<Uuid>,
    /// `accept`, `decline`, `tentative`, `counter` or `ignored`.
    pub outcome: &'static str,
    /// Why it was ignored: `no_calendar`, `not_a_reply`, `occurrence_only`, `unknown_uid`,
    /// `not_the_owner`, `not_from_owner`, `not_authenticated`, `old_sequence`,
    /// `state_does_not_fit`, `no_answer` or `too_large`.
    pub reason: Option<String>,
}

/// The latest calendar replies, newest first, and whether the mailbox is read.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReplyList {
    /// The mailbox read (`imaps://host:port/INBOX`, without credentials); none when replies
    /// are not read.
    pub mailbox: Option<String>,
    /// When the mailbox was last looked at (RFC 3339, UTC).
    pub checked_at: Option<String>,
    /// The error of the last look, when it failed.
    pub last_error: Option<String>,
    /// The replies.
    pub replies: Vec<ReplyBody>,
}
