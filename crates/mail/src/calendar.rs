//! The iTIP object a message carries, if any (NOTES-CALENDAR).
//!
//! The service's mailbox is always the `ORGANIZER` (Proton refuses a REQUEST addressed to its own
//! organizer), the owner and the requester are `ATTENDEE`s. The description holds the topic and
//! priority only: calendars keep it for ever, so no action links and no tokens go there.

use guidance_core::i18n::{self, t, tf};
use guidance_core::ics::{Attendee, EventStatus, Invite, Method, PartStat, Person};
use jiff::Timestamp;

use crate::content::multiline;
use crate::headers::{one_line, shorten};
use crate::{BookingFacts, MailContext, Message};

/// Longest SUMMARY, in characters (Proton cuts at 255).
const SUMMARY_MAX: usize = 200;
/// Longest DESCRIPTION, in characters (Proton cuts at 3000).
const DESCRIPTION_MAX: usize = 2900;

/// The calendar object of `msg`, or `None` for messages without calendar data.
pub fn invite(
    msg: &Message,
    b: &BookingFacts,
    ctx: &MailContext,
    now: Timestamp,
) -> Option<Invite> {
    let owner = Person {
        email: ctx.owner_email.clone(),
        name: one_line(&ctx.owner_name),
    };
    let requester = Person {
        email: b.email.clone(),
        name: one_line(&b.name),
    };
    let (method, status, attendees) = match msg {
        Message::OwnerNewRequest { .. } => (
            Method::Request,
            EventStatus::Tentative,
            vec![attendee(owner, PartStat::NeedsAction)],
        ),
        Message::OwnerCalendarCancel | Message::OwnerExpired => (
            Method::Cancel,
            EventStatus::Cancelled,
            vec![attendee(owner, PartStat::NeedsAction)],
        ),
        // The owner's entry and the requester's are the same event: same UID, SEQUENCE and
        // attendees, so both calendars agree on who said yes.
        Message::OwnerAccepted | Message::RequesterAccepted => (
            Method::Request,
            EventStatus::Confirmed,
            both(owner, requester),
        ),
        // The requester's entry came from a RequesterAccepted invitation: cancel that same event,
        // with the same attendees.
        Message::RequesterPickNewTime {
            had_invite: true, ..
        }
        | Message::RequesterCancelled {
            had_invite: true, ..
        } => (
            Method::Cancel,
            EventStatus::Cancelled,
            both(owner, requester),
        ),
        Message::RequesterConfirm { .. }
        | Message::OwnerAnswerReminder { .. }
        | Message::RequesterExpired
        | Message::RequesterSessionReminder
        | Message::OwnerSessionReminder
        | Message::RequesterReceived
        | Message::RequesterDeclined
        | Message::RequesterPickNewTime {
            had_invite: false, ..
        }
        | Message::RequesterCancelled {
            had_invite: false, ..
        } => return None,
    };

    // The calendar entry speaks the language of the person whose calendar it lands in.
    let (lang, summary) = if msg.to_owner() {
        let lang = i18n::resolve(&ctx.owner_lang);
        let s = tf(
            lang,
            "email.calendar.owner_summary",
            &[("name", &one_line(&b.name))],
        );
        (lang, s)
    } else {
        let lang = i18n::resolve(&b.locale);
        let s = tf(
            lang,
            "email.calendar.requester_summary",
            &[("owner", &one_line(&ctx.owner_name))],
        );
        (lang, s)
    };
    let description = tf(
        lang,
        "email.calendar.description",
        &[
            // Bidi overrides pass the calendar writer's control-character filter; drop them here.
            ("topic", &multiline(&b.topic)),
            (
                "priority",
                &t(lang, &format!("common.priority.{}", b.priority.as_str())),
            ),
        ],
    );

    Some(Invite {
        method,
        uid: b.ics_uid.clone(),
        sequence: b.ics_sequence,
        dtstamp: now,
        starts_at: b.starts_at,
        ends_at: b.ends_at,
        summary: shorten(&summary, SUMMARY_MAX),
        description: shorten(&description, DESCRIPTION_MAX),
        organizer: Person {
            email: ctx.from_email.clone(),
            name: one_line(&ctx.from_name),
        },
        attendees,
        // Where to meet, for the confirmed entry (a cancelled one needs no room).
        join_url: b
            .join_url
            .clone()
            .filter(|_| status == EventStatus::Confirmed),
        status,
    })
}

fn attendee(person: Person, partstat: PartStat) -> Attendee {
    Attendee { person, partstat }
}

/// The owner (who accepted) and the requester (who has yet to answer in their calendar).
///
/// When both are the same address (an owner trying their own page) the requester is left out:
/// Proton treats duplicate attendees as an error.
fn both(owner: Person, requester: Person) -> Vec<Attendee> {
    let same = owner.email.eq_ignore_ascii_case(&requester.email);
    let mut v = vec![attendee(owner, PartStat::Accepted)];
    if !same {
        v.push(attendee(requester, PartStat::NeedsAction));
    }
    v
}
