//! A small, strict iCalendar writer for iTIP invitations (RFC 5545, 5546, 6047).
//!
//! It writes exactly what Guidance needs: one `VEVENT` per calendar object, UTC times, CRLF line
//! ends, lines folded at 75 octets without splitting a UTF-8 sequence, TEXT values escaped and
//! stripped of control characters, parameter values cleaned and always quoted. Anything a visitor
//! typed therefore lands inside one property value and can never start a new property or component.

use jiff::Timestamp;

/// The iTIP method of a calendar object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// A new or updated invitation.
    Request,
    /// The event is off.
    Cancel,
}

impl Method {
    /// The name as in `METHOD:` and the MIME `method=` parameter.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Request => "REQUEST",
            Method::Cancel => "CANCEL",
        }
    }
}

/// The event's `STATUS`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventStatus {
    /// Requested, not yet confirmed by the owner.
    Tentative,
    /// Confirmed.
    Confirmed,
    /// Called off.
    Cancelled,
}

impl EventStatus {
    /// The `STATUS` value.
    pub fn as_str(self) -> &'static str {
        match self {
            EventStatus::Tentative => "TENTATIVE",
            EventStatus::Confirmed => "CONFIRMED",
            EventStatus::Cancelled => "CANCELLED",
        }
    }
}

/// An attendee's participation status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PartStat {
    /// Has not answered yet.
    NeedsAction,
    /// Has said yes.
    Accepted,
}

impl PartStat {
    fn as_str(self) -> &'static str {
        match self {
            PartStat::NeedsAction => "NEEDS-ACTION",
            PartStat::Accepted => "ACCEPTED",
        }
    }
}

/// A person in an invitation: an address and a display name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    /// The email address (already parsed: no spaces, quotes or control characters).
    pub email: String,
    /// The display name (any text; it is cleaned here).
    pub name: String,
}

/// An `ATTENDEE` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attendee {
    /// Who.
    pub person: Person,
    /// Where they stand.
    pub partstat: PartStat,
}

/// One invitation, update or cancellation.
#[derive(Debug, Clone)]
pub struct Invite {
    /// `REQUEST` or `CANCEL`.
    pub method: Method,
    /// The booking's calendar UID, the same for its whole life.
    pub uid: String,
    /// Goes up by one on every change.
    pub sequence: u32,
    /// When this message was made; never goes backwards for a UID.
    pub dtstamp: Timestamp,
    /// Session start.
    pub starts_at: Timestamp,
    /// Session end.
    pub ends_at: Timestamp,
    /// The title.
    pub summary: String,
    /// Free text (never links with tokens: calendars keep it for ever).
    pub description: String,
    /// The service's own mailbox (never the owner: Proton refuses a REQUEST to its organizer).
    pub organizer: Person,
    /// The owner and, once accepted, the visitor.
    pub attendees: Vec<Attendee>,
    /// Matches the booking's state.
    pub status: EventStatus,
    /// The meeting room's address, when the session has one: written as `LOCATION`, `URL` and
    /// `CONFERENCE` (RFC 7986), so that calendar apps show a join button.
    pub join_url: Option<String>,
}

/// Longest line in octets, not counting CRLF (RFC 5545 §3.1).
pub const MAX_LINE_OCTETS: usize = 75;

impl Invite {
    /// The calendar object as bytes ready for a `text/calendar` part.
    pub fn to_ics(&self) -> String {
        let mut out = String::with_capacity(1024);
        let mut line = |s: &str| fold_into(&mut out, s);
        line("BEGIN:VCALENDAR");
        line("VERSION:2.0");
        line("PRODID:-//Guidance//Guidance booking//EN");
        line("CALSCALE:GREGORIAN");
        line(&format!("METHOD:{}", self.method.as_str()));
        line("BEGIN:VEVENT");
        line(&format!("UID:{}", text(&self.uid)));
        line(&format!("SEQUENCE:{}", self.sequence));
        line(&format!("DTSTAMP:{}", utc(self.dtstamp)));
        line(&format!("DTSTART:{}", utc(self.starts_at)));
        line(&format!("DTEND:{}", utc(self.ends_at)));
        line(&format!("SUMMARY:{}", text(&self.summary)));
        if !self.description.is_empty() {
            line(&format!("DESCRIPTION:{}", text(&self.description)));
        }
        if let Some(url) = self.join_url.as_deref().map(uri) {
            line(&format!("LOCATION:{}", text(&url)));
            line(&format!("URL:{url}"));
            line(&format!("CONFERENCE;VALUE=URI;FEATURE=AUDIO,VIDEO:{url}"));
        }
        line(&format!("STATUS:{}", self.status.as_str()));
        line("TRANSP:OPAQUE");
        line(&format!(
            "ORGANIZER;CN={}:mailto:{}",
            param(&self.organizer.name),
            address(&self.organizer.email)
        ));
        for a in &self.attendees {
            line(&format!(
                "ATTENDEE;CN={};ROLE=REQ-PARTICIPANT;PARTSTAT={};RSVP=TRUE:mailto:{}",
                param(&a.person.name),
                a.partstat.as_str(),
                address(&a.person.email)
            ));
        }
        line("END:VEVENT");
        line("END:VCALENDAR");
        out
    }
}

/// A timestamp in iCalendar's UTC form: `20260329T010000Z`.
pub fn utc(t: Timestamp) -> String {
    t.strftime("%Y%m%dT%H%M%SZ").to_string()
}

/// Escapes a TEXT value: line ends become `\n`, other control characters (and bidi overrides,
/// which can make text display as something else) are dropped, and
/// `\`, `;` and `,` are escaped.
pub fn text(s: &str) -> String {
    let s = crate::text::normalize_newlines(s);
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\t' => out.push(' '),
            c if c.is_control() || crate::text::is_bidi_override(c) => {}
            c => out.push(c),
        }
    }
    out
}

/// A quoted parameter value: control characters dropped, `"` replaced by `'` (a parameter value
/// cannot hold a double quote at all).
pub fn param(s: &str) -> String {
    let cleaned: String = s
        .chars()
        .filter(|c| !c.is_control() && !crate::text::is_bidi_override(*c))
        .map(|c| if c == '"' { '\'' } else { c })
        .collect();
    format!("\"{cleaned}\"")
}

/// A URI value (RFC 5545 §3.3.13, not TEXT: no escaping), with anything that could end the
/// line or the value removed.
fn uri(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_control() && !c.is_whitespace() && *c != '"')
        .collect()
}

/// An address for a `mailto:` value, with anything that could end the value removed.
fn address(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_control() && !c.is_whitespace() && !matches!(c, '"' | ';' | ':' | ','))
        .collect()
}

/// Appends one content line, folded so that no physical line exceeds 75 octets, each fold
/// placed on a character boundary, every line ended by CRLF.
pub(crate) fn fold_into(out: &mut String, line: &str) {
    let mut budget = MAX_LINE_OCTETS;
    let mut used = 0;
    for c in line.chars() {
        let w = c.len_utf8();
        if used + w > budget {
            out.push_str("\r\n ");
            // The leading space of a continuation line counts towards its 75 octets.
            budget = MAX_LINE_OCTETS - 1;
            used = 0;
        }
        out.push(c);
        used += w;
    }
    out.push_str("\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn invite(summary: &str, name: &str) -> Invite {
        Invite {
            method: Method::Request,
            uid: "b7c1e0f2-uid@guidance".into(),
            sequence: 0,
            dtstamp: "2030-01-01T08:00:00Z".parse().unwrap(),
            starts_at: "2030-01-02T09:00:00Z".parse().unwrap(),
            ends_at: "2030-01-02T09:45:00Z".parse().unwrap(),
            summary: summary.into(),
            description: "Topic:\nwhat, exactly; and \\ why".into(),
            organizer: Person {
                email: "bookings@example.org".into(),
                name: "Guidance".into(),
            },
            attendees: vec![Attendee {
                person: Person {
                    email: "owner@example.org".into(),
                    name: name.into(),
                },
                partstat: PartStat::NeedsAction,
            }],
            status: EventStatus::Tentative,
            join_url: None,
        }
    }

    fn unfold(ics: &str) -> Vec<String> {
        ics.replace("\r\n ", "")
            .split("\r\n")
            .filter(|l| !l.is_empty())
            .map(str::to_owned)
            .collect()
    }

    #[test]
    fn writes_a_request_with_the_required_properties() {
        let ics = invite("Session with Ada", "Owner").to_ics();
        let lines = unfold(&ics);
        for needed in [
            "METHOD:REQUEST",
            "UID:b7c1e0f2-uid@guidance",
            "SEQUENCE:0",
            "DTSTAMP:20300101T080000Z",
            "DTSTART:20300102T090000Z",
            "DTEND:20300102T094500Z",
            "STATUS:TENTATIVE",
            "ORGANIZER;CN=\"Guidance\":mailto:bookings@example.org",
            "ATTENDEE;CN=\"Owner\";ROLE=REQ-PARTICIPANT;PARTSTAT=NEEDS-ACTION;RSVP=TRUE:mailto:owner@example.org",
        ] {
            assert!(
                lines.iter().any(|l| l == needed),
                "missing {needed} in\n{ics}"
            );
        }
        assert!(lines.contains(&"DESCRIPTION:Topic:\\nwhat\\, exactly\\; and \\\\ why".to_owned()));
        assert!(ics.ends_with("END:VCALENDAR\r\n"));
        assert!(!ics.replace("\r\n", "").contains('\n') && !ics.replace("\r\n", "").contains('\r'));
    }

    #[test]
    fn a_meeting_room_is_the_location_the_url_and_the_conference() {
        let url = "https://meet.example.org/g-abc?jwt=a.b.c";
        let ics = Invite {
            join_url: Some(format!("{url}\r\nATTENDEE:mailto:evil@example.com")),
            ..invite("Session", "Owner")
        }
        .to_ics();
        let lines = unfold(&ics);
        let smuggled = format!("{url}ATTENDEE:mailto:evil@example.com");
        for needed in [
            format!("LOCATION:{smuggled}"),
            format!("URL:{smuggled}"),
            format!("CONFERENCE;VALUE=URI;FEATURE=AUDIO,VIDEO:{smuggled}"),
        ] {
            assert!(lines.contains(&needed), "missing {needed} in\n{ics}");
        }
        assert_eq!(
            lines.iter().filter(|l| l.starts_with("ATTENDEE")).count(),
            1
        );
    }

    #[test]
    fn hostile_text_stays_inside_its_property() {
        let evil = "x\r\nEND:VEVENT\r\nBEGIN:VALARM\nATTENDEE:mailto:evil@example.com\r";
        let ics = invite(evil, "Bad\"; ROLE=CHAIR:mailto:evil@example.com\r\nX").to_ics();
        let lines = unfold(&ics);
        assert_eq!(
            lines
                .iter()
                .filter(|l| l.starts_with("BEGIN:VEVENT"))
                .count(),
            1
        );
        assert_eq!(
            lines.iter().filter(|l| l.starts_with("END:VEVENT")).count(),
            1
        );
        assert!(!lines.iter().any(|l| l.starts_with("BEGIN:VALARM")));
        assert_eq!(
            lines.iter().filter(|l| l.starts_with("ATTENDEE")).count(),
            1
        );
        let att = lines.iter().find(|l| l.starts_with("ATTENDEE")).unwrap();
        assert!(
            att.starts_with("ATTENDEE;CN=\"Bad'; ROLE=CHAIR:mailto:evil@example.comX\";"),
            "{att}"
        );
    }

    #[test]
    fn bidi_overrides_are_dropped() {
        assert_eq!(text("abc\u{202E}gpj.exe"), "abcgpj.exe");
        assert_eq!(param("\u{2066}x\u{2069}"), "\"x\"");
    }

    #[test]
    fn long_lines_fold_at_75_octets_on_character_boundaries() {
        let summary = "é🙂م".repeat(60);
        let ics = invite(&summary, "Owner").to_ics();
        for l in ics.split("\r\n") {
            assert!(l.len() <= MAX_LINE_OCTETS, "{} octets: {l}", l.len());
        }
        let lines = unfold(&ics);
        assert!(lines.contains(&format!("SUMMARY:{summary}")));
    }

    proptest! {
        #[test]
        fn any_text_round_trips_through_escape_and_fold(s in "(\\PC|\r|\n|\t|;|,|\\\\|\"){0,300}") {
            let ics = invite(&s, &s).to_ics();
            for l in ics.split("\r\n") {
                prop_assert!(l.len() <= MAX_LINE_OCTETS);
            }
            let lines = unfold(&ics);
            let summary = lines.iter().find(|l| l.starts_with("SUMMARY:")).unwrap();
            // Unescape and compare with the cleaned input.
            let mut back = String::new();
            let mut it = summary["SUMMARY:".len()..].chars();
            while let Some(c) = it.next() {
                if c == '\\' {
                    match it.next() { Some('n') => back.push('\n'), Some(o) => back.push(o), None => {} }
                } else { back.push(c) }
            }
            let expected: String = crate::text::normalize_newlines(&s)
                .chars()
                .filter_map(|c| if c == '\t' { Some(' ') } else if (c.is_control() && c != '\n') || crate::text::is_bidi_override(c) { None } else { Some(c) })
                .collect();
            prop_assert_eq!(back, expected);
            prop_assert_eq!(lines.iter().filter(|l| l.starts_with("ATTENDEE")).count(), 1);
        }
    }
}
