//! Guidance's emails: every message of the booking flow as complete RFC 5322 bytes (see
//! `ARCHITECTURE.md`).
//!
//! [`render`] is a pure function of the booking, the service's settings and the time, except for
//! the random `Message-ID`: the caller stores the returned bytes in the outbox and sends exactly
//! those, so a retry never produces a second identity for the same message.
//!
//! The layers, each escaping for its own context:
//! - [`content`] decides *what* a message says, with every word from `locales/<lang>/email.json`;
//! - [`html`] and [`plain`] lay that content out (HTML by a small writer that escapes every text);
//! - [`calendar`] builds the iTIP object with [`guidance_core::ics`], which escapes and folds;
//! - [`mime`] assembles headers and parts with `lettre`, which RFC 2047-encodes header text.

mod calendar;
mod content;
mod headers;
mod html;
mod mime;
mod notice;
mod plain;
mod quoted_printable;
mod reading;

pub use reading::plain_text;

pub use notice::{CalendarNotice, render_calendar_notice};

use guidance_core::Priority;
use guidance_core::intake::Answers;
use jiff::Timestamp;

/// The service's mailbox (`From:` and the calendar `ORGANIZER`) and the owner's settings.
#[derive(Debug, Clone)]
pub struct MailContext {
    /// The service's own address; it sends every message and organizes every event.
    pub from_email: String,
    /// The display name of the service's address.
    pub from_name: String,
    /// Where owner notifications go.
    pub owner_email: String,
    /// The owner's name, as shown to requesters.
    pub owner_name: String,
    /// The owner's IANA time zone, e.g. `Europe/Berlin`.
    pub owner_time_zone: String,
    /// The owner's language, e.g. `en`.
    pub owner_lang: String,
    /// The service's public base URL without a trailing slash, e.g. `http://127.0.0.1:8080`.
    pub public_url: String,
}

/// A time the owner proposed, with the signed link that takes it (a page whose button acts).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProposedLink {
    /// When it starts.
    pub starts_at: Timestamp,
    /// When it ends.
    pub ends_at: Timestamp,
    /// The link's page.
    pub url: String,
}

/// What an email needs to know of the booking.
#[derive(Debug, Clone)]
pub struct BookingFacts {
    /// The booking's id.
    pub booking_id: uuid::Uuid,
    /// The calendar UID, stable for the booking's whole life.
    pub ics_uid: String,
    /// The calendar SEQUENCE, already bumped by the caller for this change.
    pub ics_sequence: u32,
    /// The requester's name.
    pub name: String,
    /// The requester's address.
    pub email: String,
    /// What the requester wants to talk about (may span lines).
    pub topic: String,
    /// How urgent the requester says it is.
    pub priority: Priority,
    /// The answers to the owner's supplemental questions.
    pub answers: Answers,
    /// The requester's language.
    pub locale: String,
    /// The requester's IANA time zone.
    pub time_zone: String,
    /// Session start.
    pub starts_at: Timestamp,
    /// Session end.
    pub ends_at: Timestamp,
    /// The requester's own page for this booking (status, cancel), shown in the requester's
    /// "received" and "accepted" emails when given.
    pub status_url: Option<String>,
    /// The slot's meeting details (a link, a phone number, an address), shown to both once the
    /// session is accepted.
    pub meeting_details: Option<String>,
    /// The address of the session's meeting room (with its JWT, if secured), once accepted:
    /// a button in the emails, and `LOCATION`, `URL` and `CONFERENCE` in the invitation.
    pub join_url: Option<String>,
}

impl BookingFacts {
    /// The facts of a request about to be stored: SEQUENCE 0, the requested slot's window.
    pub fn of_request(
        booking_id: uuid::Uuid,
        ics_uid: &str,
        intake: &guidance_core::Intake,
        window: &guidance_core::SlotWindow,
        status_url: Option<String>,
    ) -> Self {
        Self {
            booking_id,
            ics_uid: ics_uid.to_owned(),
            ics_sequence: 0,
            name: intake.name.as_str().to_owned(),
            email: intake.email.as_str().to_owned(),
            topic: intake.topic.as_str().to_owned(),
            priority: intake.priority,
            answers: intake.answers.clone(),
            locale: intake.locale.as_str().to_owned(),
            time_zone: intake.time_zone.as_str().to_owned(),
            starts_at: window.starts_at(),
            ends_at: window.ends_at(),
            status_url,
            meeting_details: None,
            join_url: None,
        }
    }

    /// The facts of a stored booking as it stands: its window and the SEQUENCE of its last
    /// message. A change sets what it changes (a new SEQUENCE, a new window) on the result.
    pub fn of_booking(booking: &guidance_store::Booking, status_url: Option<String>) -> Self {
        Self {
            booking_id: booking.id,
            ics_uid: booking.ics_uid.clone(),
            ics_sequence: u32::try_from(booking.ics_sequence).unwrap_or(u32::MAX),
            name: booking.name.clone(),
            email: booking.email.clone(),
            topic: booking.topic.clone(),
            priority: booking.priority,
            answers: booking.parsed_answers(),
            locale: booking.locale.clone(),
            time_zone: booking.time_zone.clone(),
            starts_at: booking.starts_at,
            ends_at: booking.ends_at,
            status_url,
            meeting_details: None,
            join_url: None,
        }
    }
}

/// Which email to write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// To the owner: a new request, or one moved after the requester picked a new slot.
    /// ICS `METHOD:REQUEST`, `STATUS:TENTATIVE`, the owner an `ATTENDEE` with
    /// `PARTSTAT=NEEDS-ACTION;RSVP=TRUE`, the service the `ORGANIZER`. The body shows who, when
    /// (in the owner's zone), the topic, priority and every intake answer, and three links.
    OwnerNewRequest {
        /// Accepts the request.
        accept_url: String,
        /// Declines the request.
        decline_url: String,
        /// Asks the requester for another time.
        reschedule_url: String,
    },
    /// To the owner: they accepted, so the tentative entry becomes a confirmed one. ICS
    /// `METHOD:REQUEST`, `STATUS:CONFIRMED`, the same UID with a higher `SEQUENCE`; attendees the
    /// owner (`ACCEPTED`) and the requester (`NEEDS-ACTION`), as in [`Message::RequesterAccepted`].
    OwnerAccepted,
    /// To the owner: the calendar entry is off (declined, cancelled, or a new time was asked).
    /// ICS `METHOD:CANCEL`, `STATUS:CANCELLED`.
    OwnerCalendarCancel,
    /// To the requester, when the owner asks visitors to confirm their address: please confirm
    /// the request with the link, before `hold_until`, when the held time is offered again.
    /// Nothing has reached the owner yet; no calendar data.
    RequesterConfirm {
        /// Confirms the request (a page with a button: opening the link changes nothing).
        confirm_url: String,
        /// When the hold ends and the request expires unconfirmed.
        hold_until: jiff::Timestamp,
    },
    /// To the requester: the request arrived and the owner will answer; no calendar data.
    RequesterReceived,
    /// To the requester: confirmed. ICS `METHOD:REQUEST`, `STATUS:CONFIRMED`; attendees the owner
    /// (`ACCEPTED`) and the requester (`NEEDS-ACTION`).
    RequesterAccepted,
    /// To the requester: declined; no calendar data.
    RequesterDeclined,
    /// To the requester: please pick a new time, with a link. When `had_invite` is true (the
    /// booking had been accepted, so their calendar holds the event) it carries a
    /// `METHOD:CANCEL` for that entry; otherwise no calendar data.
    RequesterPickNewTime {
        /// Where the requester chooses a new slot.
        pick_url: String,
        /// Whether the requester had received an invitation before.
        had_invite: bool,
        /// The times the owner proposed (at most three), each a one-click choice.
        proposed: Vec<ProposedLink>,
    },
    /// To the requester: the booking is cancelled (by the owner, or by themselves). When
    /// `had_invite` is true (it had been accepted) it carries a `METHOD:CANCEL` for the entry in
    /// their calendar; otherwise no calendar data.
    RequesterCancelled {
        /// Whether the requester had received an invitation before.
        had_invite: bool,
        /// Whether the requester cancelled it themselves (the wording differs).
        by_requester: bool,
    },
    // Around the session: the answer-by time and the reminders.
    /// To the owner: a request still waits for an answer, due by `answer_by`; the same three
    /// links as the request (rendered with it, so they are the very same links). No calendar
    /// data: the tentative entry is already in the owner's calendar.
    OwnerAnswerReminder {
        /// Accepts the request.
        accept_url: String,
        /// Declines the request.
        decline_url: String,
        /// Asks the requester for another time.
        reschedule_url: String,
        /// When the request expires unanswered.
        answer_by: Timestamp,
    },
    /// To the owner: nobody answered the request in time, so it expired and its time is open
    /// again. ICS `METHOD:CANCEL` for the tentative entry, as [`Message::OwnerCalendarCancel`].
    OwnerExpired,
    /// To the requester: the owner did not answer in time, so the request lapsed; a link to
    /// choose another time. No calendar data.
    RequesterExpired,
    /// To the requester: a reminder of the accepted session, with the meeting details and their
    /// own page (where they can cancel). No calendar data.
    RequesterSessionReminder,
    /// To the owner: a reminder of the accepted session. No calendar data.
    OwnerSessionReminder,
}

impl Message {
    /// The stable name of this kind of message (for the outbox and logs).
    pub fn kind(&self) -> &'static str {
        match self {
            Message::OwnerNewRequest { .. } => "owner_new_request",
            Message::OwnerAccepted => "owner_accepted",
            Message::OwnerCalendarCancel => "owner_calendar_cancel",
            Message::RequesterConfirm { .. } => "requester_confirm",
            Message::RequesterReceived => "requester_received",
            Message::RequesterAccepted => "requester_accepted",
            Message::RequesterDeclined => "requester_declined",
            Message::RequesterPickNewTime { .. } => "requester_pick_new_time",
            Message::RequesterCancelled { .. } => "requester_cancelled",
            Message::OwnerAnswerReminder { .. } => "owner_answer_reminder",
            Message::OwnerExpired => "owner_expired",
            Message::RequesterExpired => "requester_expired",
            Message::RequesterSessionReminder => "requester_session_reminder",
            Message::OwnerSessionReminder => "owner_session_reminder",
        }
    }

    /// Whether the message goes to the owner (otherwise to the requester).
    pub fn to_owner(&self) -> bool {
        matches!(
            self,
            Message::OwnerNewRequest { .. }
                | Message::OwnerAccepted
                | Message::OwnerCalendarCancel
                | Message::OwnerAnswerReminder { .. }
                | Message::OwnerExpired
                | Message::OwnerSessionReminder
        )
    }

    /// Whether the message may quote what the requester typed (topic, answers). Always to the
    /// owner; to the requester's address only once it has proved itself by the owner's answer.
    /// Before that anyone may have typed any address, and the service must not carry their text
    /// (a link, a lure) to it from its own mailbox: the requester reads their request on their
    /// own page instead. The requester's name is never quoted to the requester, for the same
    /// reason and since they know it.
    pub fn quotes_requester_text(&self) -> bool {
        !matches!(
            self,
            Message::RequesterConfirm { .. }
                | Message::RequesterReceived
                | Message::RequesterExpired
                | Message::RequesterCancelled {
                    by_requester: true,
                    had_invite: false,
                }
        )
    }
}

/// A message ready for the outbox.
#[derive(Debug, Clone)]
pub struct Rendered {
    /// The stable kind name, see [`Message::kind`].
    pub kind: &'static str,
    /// The bare recipient address (the SMTP envelope recipient).
    pub recipient: String,
    /// The subject as plain text (the header carries it RFC 2047-encoded where needed).
    pub subject: String,
    /// `<uuid@domain-of-from>`, also in the bytes; store it with them and never regenerate it.
    pub message_id: String,
    /// The whole message, CRLF line ends.
    pub bytes: Vec<u8>,
}

/// Renders `msg` about `booking`, as sent by the service described by `ctx` at `now` (the
/// `Date:` header and the calendar `DTSTAMP`).
///
/// Owner messages are in `ctx.owner_lang` and the owner's time zone; requester messages in
/// `booking.locale` and `booking.time_zone`.
pub fn render(
    msg: &Message,
    booking: &BookingFacts,
    ctx: &MailContext,
    now: Timestamp,
) -> Rendered {
    render_with_owner_message(msg, booking, ctx, now, None)
}

/// Like [`render`], with the owner's own words to the requester (typed when acting in the admin
/// UI) shown as a quoted paragraph below the introduction. Ignored in messages to the owner.
pub fn render_with_owner_message(
    msg: &Message,
    booking: &BookingFacts,
    ctx: &MailContext,
    now: Timestamp,
    owner_message: Option<&str>,
) -> Rendered {
    let mut content = content::build(msg, booking, ctx);
    if let Some(text) = owner_message.filter(|t| !t.trim().is_empty() && !msg.to_owner()) {
        content.quote = Some(content::owner_quote(content.lang, ctx, text));
    }
    let invite = calendar::invite(msg, booking, ctx, now);
    // The requester's name is not written back to them (see `Message::quotes_requester_text`).
    let (recipient_email, recipient_name) = if msg.to_owner() {
        (&ctx.owner_email, ctx.owner_name.as_str())
    } else {
        (&booking.email, "")
    };
    let message_id = format!(
        "<{}@{}>",
        guidance_core::ids::new_row_id(),
        headers::domain_of(&ctx.from_email)
    );
    let bytes = mime::assemble(&mime::Parts {
        from: headers::mailbox(&ctx.from_email, &ctx.from_name),
        to: headers::mailbox(recipient_email, recipient_name),
        subject: &content.subject,
        date: now,
        message_id: &message_id,
        plain: plain::render(&content),
        html: html::render(&content),
        invite: invite.as_ref(),
    });
    Rendered {
        kind: msg.kind(),
        recipient: headers::mailbox(recipient_email, recipient_name)
            .email
            .to_string(),
        subject: content.subject,
        message_id,
        bytes,
    }
}
