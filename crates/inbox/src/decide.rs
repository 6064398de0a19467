//! What a calendar reply may change. Pure: the caller has read the email, verified who sent it
//! and looked up the booking its UID names.

use guidance_core::BookingStatus;
use jiff::Timestamp;

use crate::auth::AuthFailure;
use crate::itip::{ItipMethod, ItipReply, PartStat};
use crate::normalize_address;

/// What the reply asks for, once honoured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReplyAction {
    /// Yes: accept the request.
    Accept,
    /// No: decline the request.
    Decline,
    /// Maybe: nothing changes; the booking's history notes it.
    Tentative,
    /// Another time, please: ask the visitor to choose a new time, quoting the proposal.
    Counter {
        /// The proposed start, when it could be read.
        start: Option<Timestamp>,
        /// The proposed end, when given.
        end: Option<Timestamp>,
    },
}

impl ReplyAction {
    /// The stable name, as stored and shown.
    pub fn as_str(&self) -> &'static str {
        match self {
            ReplyAction::Accept => "accept",
            ReplyAction::Decline => "decline",
            ReplyAction::Tentative => "tentative",
            ReplyAction::Counter { .. } => "counter",
        }
    }
}

/// Why a reply changed nothing. Every one is logged and listed for the owner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IgnoreReason {
    /// No calendar part, or none that reads as an iTIP message.
    NoCalendar,
    /// A calendar message, but not a REPLY or COUNTER.
    NotAReply,
    /// It answers one occurrence only (none of ours recur).
    OccurrenceOnly,
    /// Its UID is none of ours.
    UnknownUid,
    /// The answering attendee is not the owner.
    NotTheOwner,
    /// The email is not shown to come from the owner.
    NotAuthenticated(AuthFailure),
    /// It answers an earlier version of the booking (older SEQUENCE).
    OldSequence,
    /// The booking is no longer in a state this answer applies to.
    StateDoesNotFit(BookingStatus),
    /// The attendee gave no answer we act on (NEEDS-ACTION, DELEGATED, …).
    NoAnswer,
    /// The message is larger than any reply (the server said so); it was not downloaded.
    TooLarge,
}

impl IgnoreReason {
    /// The stable code, as stored, sent in JSON and used as the locale key.
    pub fn code(&self) -> &'static str {
        match self {
            IgnoreReason::NoCalendar => "no_calendar",
            IgnoreReason::NotAReply => "not_a_reply",
            IgnoreReason::OccurrenceOnly => "occurrence_only",
            IgnoreReason::UnknownUid => "unknown_uid",
            IgnoreReason::NotTheOwner => "not_the_owner",
            IgnoreReason::NotAuthenticated(AuthFailure::NotFromOwner) => "not_from_owner",
            IgnoreReason::NotAuthenticated(AuthFailure::NotAuthenticated) => "not_authenticated",
            IgnoreReason::OldSequence => "old_sequence",
            IgnoreReason::StateDoesNotFit(_) => "state_does_not_fit",
            IgnoreReason::NoAnswer => "no_answer",
            IgnoreReason::TooLarge => "too_large",
        }
    }
}

/// The booking a reply's UID names, as far as the decision needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Booked {
    /// Where it stands.
    pub status: BookingStatus,
    /// The SEQUENCE of the last calendar message sent for it.
    pub ics_sequence: i64,
}

/// Decides a reply, checking in this order: it is a REPLY or COUNTER about a whole event; its
/// UID is ours; the owner is the one answering; the owner sent it (`authenticated`); it answers
/// the booking's current version (a missing SEQUENCE, as Gmail sends, is not older); and the
/// booking still stands where the answer applies (yes, no and maybe to a pending request; a new
/// time to a pending or accepted one).
pub fn decide(
    reply: &ItipReply,
    booking: Option<Booked>,
    owner_address: &str,
    authenticated: Result<(), AuthFailure>,
) -> Result<ReplyAction, IgnoreReason> {
    if !matches!(reply.method, ItipMethod::Reply | ItipMethod::Counter) {
        return Err(IgnoreReason::NotAReply);
    }
    if reply.occurrence_only {
        return Err(IgnoreReason::OccurrenceOnly);
    }
    let booking = booking.ok_or(IgnoreReason::UnknownUid)?;
    let owner = normalize_address(owner_address);
    // A REPLY names exactly the attendee answering; a COUNTER may repeat them all, so there
    // the owner must be among them.
    let answer = match reply.method {
        ItipMethod::Reply if reply.attendees.len() == 1 => &reply.attendees[0],
        ItipMethod::Reply => return Err(IgnoreReason::NotTheOwner),
        _ => reply
            .attendees
            .iter()
            .find(|a| a.address == owner)
            .ok_or(IgnoreReason::NotTheOwner)?,
    };
    if answer.address != owner {
        return Err(IgnoreReason::NotTheOwner);
    }
    authenticated.map_err(IgnoreReason::NotAuthenticated)?;
    if reply.sequence.is_some_and(|s| s < booking.ics_sequence) {
        return Err(IgnoreReason::OldSequence);
    }
    let action = match (&reply.method, &answer.partstat) {
        (ItipMethod::Counter, _) => ReplyAction::Counter {
            start: reply.proposed_start,
            end: reply.proposed_end,
        },
        (_, PartStat::Accepted) => ReplyAction::Accept,
        (_, PartStat::Declined) => ReplyAction::Decline,
        (_, PartStat::Tentative) => ReplyAction::Tentative,
        (_, PartStat::Other(_)) => return Err(IgnoreReason::NoAnswer),
    };
    let fits = match action {
        ReplyAction::Counter { .. } => {
            matches!(
                booking.status,
                BookingStatus::Pending | BookingStatus::Accepted
            )
        }
        _ => booking.status == BookingStatus::Pending,
    };
    if !fits {
        return Err(IgnoreReason::StateDoesNotFit(booking.status));
    }
    Ok(action)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::itip::ReplyAttendee;

    const OWNER: &str = "owner@example.org";

    fn reply(
        method: ItipMethod,
        who: &str,
        partstat: PartStat,
        sequence: Option<i64>,
    ) -> ItipReply {
        ItipReply {
            method,
            uid: "u@guidance".into(),
            sequence,
            occurrence_only: false,
            attendees: vec![ReplyAttendee {
                address: who.into(),
                partstat,
            }],
            proposed_start: None,
            proposed_end: None,
        }
    }

    fn pending(seq: i64) -> Option<Booked> {
        Some(Booked {
            status: BookingStatus::Pending,
            ics_sequence: seq,
        })
    }

    #[test]
    fn the_owners_answers_to_a_pending_request() {
        let r = |p| {
            decide(
                &reply(ItipMethod::Reply, OWNER, p, Some(0)),
                pending(0),
                "Owner@Example.org",
                Ok(()),
            )
        };
        assert_eq!(r(PartStat::Accepted), Ok(ReplyAction::Accept));
        assert_eq!(r(PartStat::Declined), Ok(ReplyAction::Decline));
        assert_eq!(r(PartStat::Tentative), Ok(ReplyAction::Tentative));
        assert_eq!(
            r(PartStat::Other("DELEGATED".into())),
            Err(IgnoreReason::NoAnswer)
        );
        let counter = reply(
            ItipMethod::Counter,
            OWNER,
            PartStat::Other("NEEDS-ACTION".into()),
            Some(1),
        );
        let accepted = Some(Booked {
            status: BookingStatus::Accepted,
            ics_sequence: 1,
        });
        assert_eq!(
            decide(&counter, accepted, OWNER, Ok(())),
            Ok(ReplyAction::Counter {
                start: None,
                end: None
            })
        );
    }

    #[test]
    fn what_is_ignored_and_why() {
        let yes = reply(ItipMethod::Reply, OWNER, PartStat::Accepted, Some(1));
        assert_eq!(
            decide(&yes, None, OWNER, Ok(())),
            Err(IgnoreReason::UnknownUid)
        );
        assert_eq!(
            decide(&yes, pending(2), OWNER, Ok(())),
            Err(IgnoreReason::OldSequence)
        );
        // Gmail sends no SEQUENCE: not older.
        let gmail = reply(ItipMethod::Reply, OWNER, PartStat::Accepted, None);
        assert_eq!(
            decide(&gmail, pending(2), OWNER, Ok(())),
            Ok(ReplyAction::Accept)
        );
        assert_eq!(
            decide(&yes, pending(1), OWNER, Err(AuthFailure::NotAuthenticated)),
            Err(IgnoreReason::NotAuthenticated(
                AuthFailure::NotAuthenticated
            ))
        );
        let other = reply(
            ItipMethod::Reply,
            "visitor@example.net",
            PartStat::Accepted,
            Some(1),
        );
        assert_eq!(
            decide(&other, pending(1), OWNER, Ok(())),
            Err(IgnoreReason::NotTheOwner)
        );
        let accepted = Some(Booked {
            status: BookingStatus::Accepted,
            ics_sequence: 1,
        });
        assert_eq!(
            decide(&yes, accepted, OWNER, Ok(())),
            Err(IgnoreReason::StateDoesNotFit(BookingStatus::Accepted))
        );
        let request = reply(
            ItipMethod::Other("REQUEST".into()),
            OWNER,
            PartStat::Accepted,
            Some(1),
        );
        assert_eq!(
            decide(&request, pending(1), OWNER, Ok(())),
            Err(IgnoreReason::NotAReply)
        );
        let mut two = yes.clone();
        two.attendees.push(ReplyAttendee {
            address: "x@y.example".into(),
            partstat: PartStat::Accepted,
        });
        assert_eq!(
            decide(&two, pending(1), OWNER, Ok(())),
            Err(IgnoreReason::NotTheOwner)
        );
        let mut occurrence = yes;
        occurrence.occurrence_only = true;
        assert_eq!(
            decide(&occurrence, pending(1), OWNER, Ok(())),
            Err(IgnoreReason::OccurrenceOnly)
        );
    }
}
