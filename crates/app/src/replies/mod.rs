//! The owner's answers from their calendar app: iMIP replies read from the service mailbox
//! ([`imap`], [`worker`]) and what each one does ([`handle_email`]). Reading and deciding is
//! `guidance-inbox`'s; acting goes through the same use case as the owner's own links
//! ([`crate::bookings::owner_action`]), so that the same emails follow.

pub mod imap;
pub mod worker;

use guidance_core::BookingAction;
use guidance_inbox::auth::authenticate;
use guidance_inbox::itip::ItipReply;
use guidance_inbox::{Booked, IgnoreReason, ReplyAction, TrustedAuthserv, decide, read_email};
use guidance_store::{Booking, CalendarReply, InboxStatus, ReplyOutcome};
use sha2::{Digest, Sha256};

use crate::{App, AppError, AppResult};

pub use guidance_inbox::DkimVerifier;

/// How many replies the owner's list shows.
pub const LIST_LIMIT: u32 = 100;

/// The largest message the reader downloads. A calendar's answer is a few kilobytes (some
/// clients quote the invitation: still far below this); anything larger is not a reply, and
/// fetching it would let anyone who can mail the service mailbox make it read without bound.
pub const MAX_MESSAGE_BYTES: u32 = 1024 * 1024;

/// What became of one email.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Handled {
    /// Its Message-ID (or digest).
    pub key: String,
    /// What it did; `None` when it had been handled before (delivered twice).
    pub outcome: Option<ReplyOutcome>,
    /// Why it was ignored, when it was.
    pub reason: Option<&'static str>,
}

/// Reads one email from the service mailbox and acts on it once: a REPLY or COUNTER that the
/// owner sent about one of our bookings, in a state it applies to, moves the booking as the
/// owner's links would; anything else is recorded with its reason. An email whose Message-ID
/// was recorded before changes nothing.
pub async fn handle_email(
    app: &App,
    verifier: &DkimVerifier,
    trusted: Option<&TrustedAuthserv>,
    raw: &[u8],
) -> AppResult<Handled> {
    let email = read_email(raw);
    let key = email
        .as_ref()
        .and_then(|e| e.message_id.clone())
        .unwrap_or_else(|| format!("sha256:{:x}", Sha256::digest(raw)));
    if app.store.calendar_reply_seen(&key).await? {
        tracing::info!(message_id = %key, "calendar reply handled before; delivered again");
        return Ok(Handled {
            key,
            outcome: None,
            reason: None,
        });
    }
    let mut record = CalendarReply {
        message_id: key.clone(),
        received_at: app.now(),
        sender: email.as_ref().and_then(|e| e.from.clone()),
        method: None,
        partstat: None,
        ics_uid: None,
        booking_id: None,
        outcome: ReplyOutcome::Ignored,
        reason: None,
    };
    let owner_email = crate::settings::load(app).await?.owner_email;
    let reply = email.as_ref().and_then(|e| {
        e.calendars
            .iter()
            .find_map(|c| ItipReply::parse(&c.text, c.mime_method.as_deref()).ok())
    });
    let verdict = match (&email, &reply) {
        (Some(email), Some(reply)) => {
            record.method = Some(reply.method.as_str().to_owned());
            record.ics_uid = Some(reply.uid.clone());
            record.partstat = reply
                .attendees
                .iter()
                .find(|a| a.address == guidance_inbox::normalize_address(&owner_email))
                .or(reply.attendees.first())
                .map(|a| a.partstat.as_str().to_owned());
            let booking = app.store.booking_by_ics_uid(&reply.uid).await?;
            record.booking_id = booking.as_ref().map(|b| b.id);
            // Signatures are checked only for replies about one of our bookings: an unknown
            // UID costs no DNS look-up.
            let authenticated = match &booking {
                Some(_) => {
                    let passing = verifier.passing_domains(raw).await;
                    authenticate(email, &passing, trusted, &owner_email).map(|_| ())
                }
                None => Ok(()),
            };
            let booked = booking.as_ref().map(|b| Booked {
                status: b.status,
                ics_sequence: b.ics_sequence,
            });
            match decide(reply, booked, &owner_email, authenticated) {
                Ok(action) => act(app, booking.as_ref(), &action).await.map(|()| action),
                Err(reason) => Err(reason),
            }
        }
        _ => Err(IgnoreReason::NoCalendar),
    };
    match &verdict {
        Ok(action) => {
            record.outcome = match action {
                ReplyAction::Accept => ReplyOutcome::Accept,
                ReplyAction::Decline => ReplyOutcome::Decline,
                ReplyAction::Tentative => ReplyOutcome::Tentative,
                ReplyAction::Counter { .. } => ReplyOutcome::Counter,
            };
            tracing::info!(message_id = %key, booking = ?record.booking_id, outcome = %record.outcome.as_str(), "calendar reply acted on");
        }
        Err(reason) => {
            record.reason = Some(reason.code().to_owned());
            tracing::warn!(message_id = %key, sender = ?record.sender, uid = ?record.ics_uid, reason = %reason.code(), "calendar reply ignored");
        }
    }
    app.store.record_calendar_reply(&record).await?;
    Ok(Handled {
        key,
        outcome: Some(record.outcome),
        reason: verdict.err().map(|r| r.code()),
    })
}

/// Records a message that the reader did not download because the server said it is larger
/// than [`MAX_MESSAGE_BYTES`]: listed for the owner with its reason, from what the server's
/// envelope tells (`message_id`, `sender`), and filed away like any handled message. Without a
/// Message-ID it is known by its place in the folder and its size.
pub async fn refuse_too_large(
    app: &App,
    message_id: Option<String>,
    sender: Option<String>,
    uid: u32,
    size: u32,
) -> AppResult<Handled> {
    let key = message_id.unwrap_or_else(|| format!("too-large:{uid}:{size}"));
    let reason = IgnoreReason::TooLarge.code();
    if app.store.calendar_reply_seen(&key).await? {
        return Ok(Handled {
            key,
            outcome: None,
            reason: None,
        });
    }
    tracing::warn!(message_id = %key, sender = ?sender, size, limit = MAX_MESSAGE_BYTES, "calendar reply refused unread: too large");
    app.store
        .record_calendar_reply(&CalendarReply {
            message_id: key.clone(),
            received_at: app.now(),
            sender: sender.as_deref().map(guidance_inbox::normalize_address),
            method: None,
            partstat: None,
            ics_uid: None,
            booking_id: None,
            outcome: ReplyOutcome::Ignored,
            reason: Some(reason.to_owned()),
        })
        .await?;
    Ok(Handled {
        key,
        outcome: Some(ReplyOutcome::Ignored),
        reason: Some(reason),
    })
}

/// Carries out an honoured answer. A booking that moved on in the meantime (the owner clicked
/// a link a moment before) makes the answer one that no longer fits.
async fn act(
    app: &App,
    booking: Option<&Booking>,
    action: &ReplyAction,
) -> Result<(), IgnoreReason> {
    let Some(booking) = booking else {
        return Err(IgnoreReason::UnknownUid);
    };
    let result = match action {
        ReplyAction::Tentative => return Ok(()),
        ReplyAction::Accept => {
            crate::bookings::owner_action(app, booking.id, BookingAction::Accept, None).await
        }
        ReplyAction::Decline => {
            crate::bookings::owner_action(app, booking.id, BookingAction::Decline, None).await
        }
        ReplyAction::Counter { start, end } => {
            let note = counter_note(booking, *start, *end);
            crate::bookings::owner_action(app, booking.id, BookingAction::Reschedule, Some(&note))
                .await
        }
    };
    match result {
        Ok(_) => Ok(()),
        Err(AppError::InvalidTransition | AppError::Conflict) => {
            Err(IgnoreReason::StateDoesNotFit(booking.status))
        }
        Err(e) => {
            tracing::error!(booking = %booking.id, error = %e, "acting on a calendar reply failed");
            Err(IgnoreReason::StateDoesNotFit(booking.status))
        }
    }
}

/// The owner's proposal, in the visitor's language and time zone: it reaches them as the
/// owner's message in the "choose a new time" email, and stays in the booking's history.
fn counter_note(
    booking: &Booking,
    start: Option<jiff::Timestamp>,
    end: Option<jiff::Timestamp>,
) -> String {
    let lang = booking.locale.as_str();
    match start {
        Some(start) => {
            let end = end
                .filter(|e| *e > start)
                .unwrap_or(start + (booking.ends_at.duration_since(booking.starts_at)));
            let when = guidance_core::i18n::format_span(lang, start, end, &booking.time_zone);
            guidance_core::i18n::tf(lang, "email.reply.counter_note", &[("when", &when)])
        }
        None => guidance_core::i18n::t(lang, "email.reply.counter_note_unreadable"),
    }
}

/// The latest replies, newest first, for the owner.
pub async fn list(app: &App) -> AppResult<Vec<CalendarReply>> {
    Ok(app.store.list_calendar_replies(LIST_LIMIT).await?)
}

/// Whether replies are read: the mailbox configured (shown without its password) and how the
/// last look went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadingStatus {
    /// `imaps://host:port/INBOX`, when configured.
    pub mailbox: Option<String>,
    /// The reader's lease and last look, once a process has read.
    pub last: Option<InboxStatus>,
}

/// See [`ReadingStatus`].
pub async fn reading_status(app: &App) -> AppResult<ReadingStatus> {
    Ok(ReadingStatus {
        mailbox: app.settings.inbox.as_ref().map(|i| i.url.to_string()),
        last: app.store.inbox_status().await?,
    })
}
