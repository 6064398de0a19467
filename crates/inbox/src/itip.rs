//! The iTIP reply in a calendar part (RFC 5546 §3.2.3 REPLY, §3.2.7 COUNTER), parsed with the
//! `icalendar` crate's parser and read leniently where real clients differ:
//! - `METHOD` in any case, or only in the MIME `method=` parameter (Proton Bridge drops it);
//! - a `VTIMEZONE` (or anything else) before the `VEVENT`, or several `VEVENT`s: the first one
//!   without `RECURRENCE-ID` is the answer about the whole event;
//! - no `SEQUENCE` (Gmail), no `ORGANIZER` (Outlook), unknown `X-` properties (Apple);
//! - Windows zone names in `TZID` (Outlook), see [`crate::zones`].

use icalendar::parser::{Component, Property, read_calendar, unfold};
use jiff::Timestamp;
use jiff::civil::DateTime;

use crate::normalize_address;
use crate::zones::zone_for_tzid;

/// The iTIP method of a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ItipMethod {
    /// An attendee's answer.
    Reply,
    /// An attendee proposes another time.
    Counter,
    /// Anything else (REQUEST, REFRESH, …), upper-cased; never acted on.
    Other(String),
}

impl ItipMethod {
    /// The name as written in `METHOD:`.
    pub fn as_str(&self) -> &str {
        match self {
            ItipMethod::Reply => "REPLY",
            ItipMethod::Counter => "COUNTER",
            ItipMethod::Other(s) => s,
        }
    }
}

/// An attendee's participation status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PartStat {
    /// Yes.
    Accepted,
    /// No.
    Declined,
    /// Maybe.
    Tentative,
    /// Anything else (NEEDS-ACTION, DELEGATED, …), upper-cased.
    Other(String),
}

impl PartStat {
    fn parse(raw: &str) -> Self {
        match raw.trim().to_ascii_uppercase().as_str() {
            "ACCEPTED" => PartStat::Accepted,
            "DECLINED" => PartStat::Declined,
            "TENTATIVE" => PartStat::Tentative,
            other => PartStat::Other(other.to_owned()),
        }
    }

    /// The name as written in `PARTSTAT=`.
    pub fn as_str(&self) -> &str {
        match self {
            PartStat::Accepted => "ACCEPTED",
            PartStat::Declined => "DECLINED",
            PartStat::Tentative => "TENTATIVE",
            PartStat::Other(s) => s,
        }
    }
}

/// One `ATTENDEE` of the reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplyAttendee {
    /// The address, normalized.
    pub address: String,
    /// Their answer (`NEEDS-ACTION` when the line has none).
    pub partstat: PartStat,
}

/// What a calendar reply says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItipReply {
    /// REPLY, COUNTER or another method.
    pub method: ItipMethod,
    /// The event's UID.
    pub uid: String,
    /// The SEQUENCE answered, when the client wrote one.
    pub sequence: Option<i64>,
    /// Whether every event in it is one occurrence (`RECURRENCE-ID`); Guidance sends no
    /// recurring events, so such a reply answers nothing of ours.
    pub occurrence_only: bool,
    /// The attendees named (a REPLY has exactly one: the one answering).
    pub attendees: Vec<ReplyAttendee>,
    /// For a COUNTER: the proposed start, when it could be read.
    pub proposed_start: Option<Timestamp>,
    /// For a COUNTER: the proposed end, when given and readable.
    pub proposed_end: Option<Timestamp>,
}

/// Why a calendar part could not be read as a reply.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ItipError {
    /// Not an iCalendar object the parser understands.
    #[error("the calendar could not be parsed: {0}")]
    Unparsable(String),
    /// No `VEVENT` in it.
    #[error("the calendar holds no event")]
    NoEvent,
    /// The event has no `UID`.
    #[error("the event has no UID")]
    NoUid,
    /// Neither `METHOD` nor the MIME `method=` says what it is.
    #[error("the calendar says no method")]
    NoMethod,
}

/// The longest calendar part read; replies are a few kilobytes.
pub const MAX_CALENDAR_BYTES: usize = 256 * 1024;

impl ItipReply {
    /// Parses a calendar part; `mime_method` is the `method=` of its Content-Type, used when the
    /// calendar itself has no `METHOD`.
    pub fn parse(text: &str, mime_method: Option<&str>) -> Result<Self, ItipError> {
        if text.len() > MAX_CALENDAR_BYTES {
            return Err(ItipError::Unparsable("too large".into()));
        }
        // The parser wants line ends it knows and unfolded lines; some clients end lines with
        // LF only, and a trailing blank line upsets it.
        let unfolded = unfold(&text.replace("\r\n", "\n"));
        let unfolded = unfolded.trim();
        let calendar = read_calendar(unfolded)
            .map_err(|e| ItipError::Unparsable(e.lines().next().unwrap_or_default().to_owned()))?;
        let method = find(&calendar.properties, "METHOD")
            .map(|p| p.val.as_str().to_owned())
            .or_else(|| mime_method.map(str::to_owned))
            .map(|m| match m.trim().to_ascii_uppercase().as_str() {
                "REPLY" => ItipMethod::Reply,
                "COUNTER" => ItipMethod::Counter,
                other => ItipMethod::Other(other.to_owned()),
            })
            .ok_or(ItipError::NoMethod)?;
        let events: Vec<&Component> = calendar
            .components
            .iter()
            .filter(|c| c.name.as_str().eq_ignore_ascii_case("VEVENT"))
            .collect();
        let whole = events
            .iter()
            .find(|e| find(&e.properties, "RECURRENCE-ID").is_none());
        let event = whole.or(events.first()).ok_or(ItipError::NoEvent)?;
        let uid = find(&event.properties, "UID")
            .map(|p| p.val.as_str().trim().to_owned())
            .filter(|u| !u.is_empty())
            .ok_or(ItipError::NoUid)?;
        let sequence = find(&event.properties, "SEQUENCE")
            .and_then(|p| p.val.as_str().trim().parse::<i64>().ok());
        let attendees = event
            .properties
            .iter()
            .filter(|p| p.name.as_str().eq_ignore_ascii_case("ATTENDEE"))
            .map(|p| ReplyAttendee {
                address: normalize_address(p.val.as_str()),
                partstat: param(p, "PARTSTAT")
                    .map_or(PartStat::Other("NEEDS-ACTION".into()), |v| {
                        PartStat::parse(&v)
                    }),
            })
            .collect();
        let (proposed_start, proposed_end) = if method == ItipMethod::Counter {
            (
                find(&event.properties, "DTSTART").and_then(date_time),
                find(&event.properties, "DTEND").and_then(date_time),
            )
        } else {
            (None, None)
        };
        Ok(ItipReply {
            method,
            uid,
            sequence,
            occurrence_only: whole.is_none(),
            attendees,
            proposed_start,
            proposed_end,
        })
    }
}

fn find<'a, 'b>(props: &'b [Property<'a>], name: &str) -> Option<&'b Property<'a>> {
    props
        .iter()
        .find(|p| p.name.as_str().eq_ignore_ascii_case(name))
}

fn param(p: &Property<'_>, key: &str) -> Option<String> {
    p.params
        .iter()
        .find(|x| x.key.as_str().eq_ignore_ascii_case(key))
        .and_then(|x| x.val.as_ref())
        .map(|v| v.as_str().trim().trim_matches('"').to_owned())
}

/// A `DTSTART`/`DTEND` as a moment: UTC (`…Z`), in its `TZID`, or, floating, read as UTC.
/// `None` for a date without time or a zone we do not know.
fn date_time(p: &Property<'_>) -> Option<Timestamp> {
    let raw = p.val.as_str().trim();
    let (local, utc) = match raw.strip_suffix(['Z', 'z']) {
        Some(l) => (l, true),
        None => (raw, false),
    };
    let dt = DateTime::strptime("%Y%m%dT%H%M%S", local).ok()?;
    let zone = if utc {
        jiff::tz::TimeZone::UTC
    } else {
        match param(p, "TZID") {
            Some(tzid) => zone_for_tzid(&tzid)?,
            None => jiff::tz::TimeZone::UTC,
        }
    };
    dt.to_zoned(zone).ok().map(|z| z.timestamp())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn crlf(s: &str) -> String {
        s.lines().map(|l| format!("{l}\r\n")).collect()
    }

    #[test]
    fn outlook_counter_with_windows_zone_and_vtimezone_first() {
        let ics = crlf(
            "BEGIN:VCALENDAR\nMETHOD:COUNTER\nPRODID:Microsoft Exchange Server 2010\nVERSION:2.0\n\
             BEGIN:VTIMEZONE\nTZID:W. Europe Standard Time\nBEGIN:STANDARD\nDTSTART:16010101T030000\n\
             TZOFFSETFROM:+0200\nTZOFFSETTO:+0100\nEND:STANDARD\nEND:VTIMEZONE\n\
             BEGIN:VEVENT\nATTENDEE;PARTSTAT=TENTATIVE;CN=Owner:mailto:OWNER@example.org\n\
             UID:abc@guidance\nSEQUENCE:2\n\
             DTSTART;TZID=W. Europe Standard Time:20300115T140000\n\
             DTEND;TZID=W. Europe Standard Time:20300115T150000\nEND:VEVENT\nEND:VCALENDAR",
        );
        let r = ItipReply::parse(&ics, None).unwrap();
        assert_eq!(r.method, ItipMethod::Counter);
        assert_eq!(r.uid, "abc@guidance");
        assert_eq!(r.sequence, Some(2));
        assert_eq!(r.attendees[0].address, "owner@example.org");
        assert_eq!(
            r.proposed_start,
            Some("2030-01-15T13:00:00Z".parse().unwrap())
        );
        assert_eq!(
            r.proposed_end,
            Some("2030-01-15T14:00:00Z".parse().unwrap())
        );
    }

    #[test]
    fn gmail_without_sequence_proton_lower_case_and_folded_lines() {
        let ics = crlf(
            "BEGIN:VCALENDAR\nMETHOD:reply\nBEGIN:VEVENT\nUID:u1@guidance\n\
             ATTENDEE;CN=\"Owner, Ltd\";PARTSTAT=accepted:mailto:owner@exa\n mple.org\n\
             END:VEVENT\nEND:VCALENDAR",
        );
        let r = ItipReply::parse(&ics, None).unwrap();
        assert_eq!(r.method, ItipMethod::Reply);
        assert_eq!(r.sequence, None);
        assert_eq!(r.attendees.len(), 1);
        assert_eq!(r.attendees[0].address, "owner@example.org");
        assert_eq!(r.attendees[0].partstat, PartStat::Accepted);
    }

    #[test]
    fn method_from_mime_when_missing_and_occurrences_skipped() {
        let ics = crlf(
            "BEGIN:VCALENDAR\nBEGIN:VEVENT\nUID:u2\nRECURRENCE-ID:20300101T100000Z\n\
             ATTENDEE;PARTSTAT=DECLINED:mailto:o@x.example\nEND:VEVENT\n\
             BEGIN:VEVENT\nUID:u2\nX-APPLE-TRAVEL-ADVISORY-BEHAVIOR:AUTOMATIC\n\
             ATTENDEE;PARTSTAT=TENTATIVE:mailto:o@x.example\nEND:VEVENT\nEND:VCALENDAR",
        );
        let r = ItipReply::parse(&ics, Some("REPLY")).unwrap();
        assert_eq!(r.method, ItipMethod::Reply);
        assert!(!r.occurrence_only);
        assert_eq!(r.attendees[0].partstat, PartStat::Tentative);
        assert_eq!(ItipReply::parse(&ics, None), Err(ItipError::NoMethod));
    }

    #[test]
    fn refuses_what_is_not_a_reply() {
        assert!(ItipReply::parse("hello", Some("REPLY")).is_err());
        let no_event = crlf("BEGIN:VCALENDAR\nMETHOD:REPLY\nEND:VCALENDAR");
        assert_eq!(ItipReply::parse(&no_event, None), Err(ItipError::NoEvent));
        let no_uid = crlf("BEGIN:VCALENDAR\nMETHOD:REPLY\nBEGIN:VEVENT\nEND:VEVENT\nEND:VCALENDAR");
        assert_eq!(ItipReply::parse(&no_uid, None), Err(ItipError::NoUid));
    }
}
