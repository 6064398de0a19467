//! Every rendered message, read back with `mailparse` (an independent MIME parser): the MIME tree,
//! the headers, the calendar object and the bodies, with friendly and with hostile input.
//!
//! Set `GUIDANCE_DUMP_EML=<dir>` to also write sample messages there, for `scripts/check_eml.py`.

use std::collections::BTreeMap;

use guidance_core::Priority;
use guidance_core::intake::Answers;
use guidance_mail::{BookingFacts, MailContext, Message, Rendered, render};
use jiff::Timestamp;
use mailparse::{MailAddr, MailHeaderMap, ParsedMail, addrparse_header, parse_mail};

mod hostile;
mod samples;

const ACCEPT: &str = "http://127.0.0.1:8080/a/accept?t=AcC3pt_tok&x=1";
const DECLINE: &str = "http://127.0.0.1:8080/a/decline?t=D3cl1ne_tok";
const RESCHEDULE: &str = "http://127.0.0.1:8080/a/reschedule?t=R3sch_tok";
const PICK: &str = "http://127.0.0.1:8080/pick?t=P1ck_tok";
const CONFIRM: &str = "http://127.0.0.1:8080/a/confirm?t=C0nf1rm_tok";

fn ctx() -> MailContext {
    MailContext {
        from_email: "bookings@example.org".into(),
        from_name: "Guidance bookings".into(),
        owner_email: "owner@example.org".into(),
        owner_name: "Grace Hopper".into(),
        owner_time_zone: "Europe/Berlin".into(),
        owner_lang: "en".into(),
        public_url: "http://127.0.0.1:8080".into(),
    }
}

/// The requester's own page, shown in "received" and "accepted".
const STATUS: &str = "http://127.0.0.1:8080/my/00000000-0000-0000-0000-000000001234/c2lnbmF0dXJl";

/// The meeting room of the test booking.
const JOIN: &str = "https://meet.example.org/guidance-0123abcd?jwt=e30.e30.sig";

fn now() -> Timestamp {
    "2026-11-30T08:15:42Z".parse().unwrap()
}

fn booking(name: &str, topic: &str, answers: serde_json::Value) -> BookingFacts {
    BookingFacts {
        booking_id: uuid::Uuid::from_u128(0x1234),
        ics_uid: "5f0c2b1e-8d3a-4c52-9e77-0a1b2c3d4e5f@guidance".into(),
        ics_sequence: 0,
        name: name.into(),
        email: "ada@example.net".into(),
        topic: topic.into(),
        priority: Priority::Urgent,
        answers: Answers::parse(&answers).expect("test answers are valid"),
        locale: "en-GB".into(),
        time_zone: "America/New_York".into(),
        // Thursday 3 December 2026, 10:00–10:45 in Berlin, 04:00–04:45 in New York.
        starts_at: "2026-12-03T09:00:00Z".parse().unwrap(),
        ends_at: "2026-12-03T09:45:00Z".parse().unwrap(),
        status_url: Some(STATUS.into()),
        meeting_details: Some("Room 4, second floor".into()),
        join_url: Some(JOIN.into()),
    }
}

fn friendly() -> BookingFacts {
    booking(
        "Ada Lovelace",
        "Analytical engine: Bernoulli numbers\nSecond line of the topic",
        serde_json::json!({
            "company_size": "12",
            "newsletter": true,
            "interests": ["engines", "poetry"],
        }),
    )
}

fn all_messages() -> Vec<Message> {
    vec![
        Message::OwnerNewRequest {
            accept_url: ACCEPT.into(),
            decline_url: DECLINE.into(),
            reschedule_url: RESCHEDULE.into(),
        },
        Message::OwnerAccepted,
        Message::OwnerCalendarCancel,
        Message::RequesterConfirm {
            confirm_url: CONFIRM.into(),
            // 08:45 in New York, the requester's zone.
            hold_until: "2026-11-30T13:45:00Z".parse().unwrap(),
        },
        Message::RequesterReceived,
        Message::RequesterAccepted,
        Message::RequesterDeclined,
        Message::RequesterPickNewTime {
            pick_url: PICK.into(),
            had_invite: false,
            proposed: Vec::new(),
        },
        Message::RequesterPickNewTime {
            pick_url: PICK.into(),
            had_invite: true,
            proposed: Vec::new(),
        },
        Message::RequesterCancelled {
            had_invite: false,
            by_requester: false,
        },
        Message::RequesterCancelled {
            had_invite: true,
            by_requester: false,
        },
        Message::RequesterCancelled {
            had_invite: true,
            by_requester: true,
        },
        Message::OwnerAnswerReminder {
            accept_url: ACCEPT.into(),
            decline_url: DECLINE.into(),
            reschedule_url: RESCHEDULE.into(),
            answer_by: "2026-12-01T20:00:00Z".parse().unwrap(),
        },
        Message::OwnerExpired,
        Message::RequesterExpired,
        Message::RequesterSessionReminder,
        Message::OwnerSessionReminder,
    ]
}

/// What the calendar of a message should say.
struct ExpectedCalendar {
    method: &'static str,
    status: &'static str,
    /// Each ATTENDEE line's address and PARTSTAT, in order.
    attendees: Vec<(&'static str, &'static str)>,
}

/// The calendar `msg` must carry; `None` for messages without calendar data.
fn expected_calendar(msg: &Message) -> Option<ExpectedCalendar> {
    let owner_only = vec![("owner@example.org", "NEEDS-ACTION")];
    let both = vec![
        ("owner@example.org", "ACCEPTED"),
        ("ada@example.net", "NEEDS-ACTION"),
    ];
    let (method, status, attendees) = match msg {
        Message::OwnerNewRequest { .. } => ("REQUEST", "TENTATIVE", owner_only),
        Message::OwnerCalendarCancel | Message::OwnerExpired => ("CANCEL", "CANCELLED", owner_only),
        Message::OwnerAccepted | Message::RequesterAccepted => ("REQUEST", "CONFIRMED", both),
        Message::RequesterPickNewTime {
            had_invite: true, ..
        }
        | Message::RequesterCancelled {
            had_invite: true, ..
        } => ("CANCEL", "CANCELLED", both),
        _ => return None,
    };
    Some(ExpectedCalendar {
        method,
        status,
        attendees,
    })
}

/// The links a message must show, in text and HTML, and never in the calendar.
fn expected_links(msg: &Message) -> Vec<&'static str> {
    match msg {
        Message::OwnerNewRequest { .. } | Message::OwnerAnswerReminder { .. } => {
            vec![ACCEPT, DECLINE, RESCHEDULE]
        }
        Message::RequesterExpired => vec!["http://127.0.0.1:8080/book"],
        Message::RequesterSessionReminder => vec![JOIN, STATUS],
        Message::OwnerAccepted | Message::OwnerSessionReminder => vec![JOIN],
        Message::RequesterPickNewTime { .. } => vec![PICK],
        Message::RequesterConfirm { .. } => vec![CONFIRM],
        Message::RequesterDeclined | Message::RequesterCancelled { .. } => {
            vec!["http://127.0.0.1:8080/"]
        }
        Message::RequesterReceived => vec![STATUS],
        Message::RequesterAccepted => vec![JOIN, STATUS],
        _ => vec![],
    }
}

/// The decoded pieces of a message whose MIME tree has been checked.
struct Checked {
    headers: Vec<(String, String)>,
    plain: String,
    html: String,
    ics: Option<String>,
}

fn header(h: &[(String, String)], name: &str) -> String {
    let found: Vec<&String> = h
        .iter()
        .filter(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v)
        .collect();
    assert_eq!(found.len(), 1, "expected one {name} header, got {found:?}");
    found[0].clone()
}

fn cte(p: &ParsedMail<'_>) -> String {
    p.headers
        .get_first_value("Content-Transfer-Encoding")
        .unwrap_or_default()
        .to_ascii_lowercase()
}

fn text_part(p: &ParsedMail<'_>, mimetype: &str) -> String {
    assert_eq!(p.ctype.mimetype, mimetype);
    assert_eq!(p.ctype.charset.to_ascii_lowercase(), "utf-8");
    p.get_body().expect("text part decodes")
}

/// Parses `r` and checks the MIME tree against DESIGN §4; `method` is the expected calendar
/// method, `None` when the message must carry no calendar data.
fn check_mime(r: &Rendered, method: Option<&str>) -> Checked {
    let bytes = &r.bytes;
    // CRLF everywhere, no bare CR or LF, no line over SMTP's 998 octets.
    for (i, &b) in bytes.iter().enumerate() {
        if b == b'\n' {
            assert!(i > 0 && bytes[i - 1] == b'\r', "bare LF at {i}");
        }
        if b == b'\r' {
            assert_eq!(bytes.get(i + 1), Some(&b'\n'), "bare CR at {i}");
        }
    }
    for line in bytes.split(|&b| b == b'\n') {
        assert!(line.len() <= 999, "line of {} octets", line.len());
    }

    let m = parse_mail(bytes).expect("mailparse reads the message");
    let headers: Vec<(String, String)> = m
        .headers
        .iter()
        .map(|h| (h.get_key(), h.get_value()))
        .collect();
    let mut names: Vec<String> = headers
        .iter()
        .map(|(k, _)| k.to_ascii_lowercase())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "content-type",
            "date",
            "from",
            "message-id",
            "mime-version",
            "subject",
            "to"
        ],
        "exactly the expected top-level headers"
    );
    assert_eq!(header(&headers, "MIME-Version"), "1.0");
    assert_eq!(header(&headers, "Message-ID"), r.message_id);
    assert_eq!(header(&headers, "Subject"), r.subject);
    let date = mailparse::dateparse(&header(&headers, "Date")).expect("a valid Date");
    assert_eq!(date, now().as_second());
    let from = addrparse_header(m.headers.get_first_header("From").unwrap()).unwrap();
    match &from[0] {
        MailAddr::Single(s) => {
            assert_eq!(s.addr, "bookings@example.org");
            assert_eq!(s.display_name.as_deref(), Some("Guidance bookings"));
        }
        other => panic!("From is not a single mailbox: {other:?}"),
    }
    let to = addrparse_header(m.headers.get_first_header("To").unwrap()).unwrap();
    assert_eq!(to.len(), 1, "one recipient");
    match &to[0] {
        MailAddr::Single(s) => assert_eq!(s.addr, r.recipient),
        other => panic!("To is not a single mailbox: {other:?}"),
    }

    let alternative = match method {
        None => &m,
        Some(method) => {
            assert_eq!(m.ctype.mimetype, "multipart/mixed");
            assert_eq!(m.subparts.len(), 2, "alternative + attachment");
            let alt = &m.subparts[0];
            let att = &m.subparts[1];
            assert_eq!(att.ctype.mimetype, "application/ics");
            assert_eq!(
                att.ctype.params.get("name").map(String::as_str),
                Some("invite.ics")
            );
            let disp = att.get_content_disposition();
            assert_eq!(disp.disposition, mailparse::DispositionType::Attachment);
            assert_eq!(
                disp.params.get("filename").map(String::as_str),
                Some("invite.ics")
            );
            assert_eq!(cte(att), "base64");
            assert_eq!(alt.subparts.len(), 3, "plain, html, calendar");
            let cal = &alt.subparts[2];
            assert_eq!(cal.ctype.mimetype, "text/calendar");
            assert_eq!(cal.ctype.charset.to_ascii_lowercase(), "utf-8");
            assert_eq!(
                cal.ctype.params.get("method").map(String::as_str),
                Some(method)
            );
            assert!(
                matches!(cte(cal).as_str(), "7bit" | "8bit"),
                "calendar part encoded as {:?}",
                cte(cal)
            );
            let inline = cal.get_body_raw().unwrap();
            let attached = att.get_body_raw().unwrap();
            assert_eq!(inline, attached, "the attachment holds the very same bytes");
            alt
        }
    };
    assert_eq!(alternative.ctype.mimetype, "multipart/alternative");
    if method.is_none() {
        assert_eq!(alternative.subparts.len(), 2, "plain and html only");
    }
    let plain = text_part(&alternative.subparts[0], "text/plain");
    let html = text_part(&alternative.subparts[1], "text/html");
    let ics = method.map(|_| {
        String::from_utf8(alternative.subparts[2].get_body_raw().unwrap()).expect("UTF-8 calendar")
    });
    Checked {
        headers,
        plain,
        html,
        ics,
    }
}

/// Decodes the character references the HTML part writes (`&#60;` and the like) and the usual
/// named ones.
fn unescape(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        let end = rest.find(';').filter(|&e| e <= 8);
        let decoded = end.and_then(|e| {
            let entity = &rest[1..e];
            let c = match entity {
                "amp" => Some('&'),
                "lt" => Some('<'),
                "gt" => Some('>'),
                "quot" => Some('"'),
                "apos" => Some('\''),
                _ => entity
                    .strip_prefix('#')
                    .and_then(|n| n.parse::<u32>().ok())
                    .and_then(char::from_u32),
            };
            c.map(|c| (c, e))
        });
        match decoded {
            Some((c, e)) => {
                out.push(c);
                rest = &rest[e + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// Every `href` value in the HTML, decoded.
fn hrefs(html: &str) -> Vec<String> {
    html.split("href=\"")
        .skip(1)
        .filter_map(|s| s.split_once('"').map(|(v, _)| unescape(v)))
        .collect()
}

fn unfold(ics: &str) -> Vec<String> {
    ics.replace("\r\n ", "")
        .split("\r\n")
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Checks the calendar object's bytes and content; returns the unfolded lines.
fn check_ics(ics: &str, method: &str, status: &str, attendees: &[(&str, &str)]) -> Vec<String> {
    assert!(ics.ends_with("\r\n"));
    for l in ics.split("\r\n") {
        assert!(l.len() <= 75, "calendar line of {} octets: {l}", l.len());
        assert!(!l.contains(['\r', '\n']));
    }
    let lines = unfold(ics);
    let count = |prefix: &str| lines.iter().filter(|l| l.starts_with(prefix)).count();
    assert_eq!(count("BEGIN:VCALENDAR"), 1);
    assert_eq!(count("BEGIN:VEVENT"), 1);
    assert_eq!(count("END:VEVENT"), 1);
    assert_eq!(count("BEGIN:"), 2, "no other component: {lines:#?}");
    assert_eq!(count("METHOD:"), 1);
    assert!(lines.contains(&format!("METHOD:{method}")));
    assert!(lines.contains(&format!("STATUS:{status}")));
    assert!(lines.contains(&"UID:5f0c2b1e-8d3a-4c52-9e77-0a1b2c3d4e5f@guidance".to_owned()));
    assert!(lines.contains(&"DTSTAMP:20261130T081542Z".to_owned()));
    assert!(lines.contains(&"DTSTART:20261203T090000Z".to_owned()));
    assert!(lines.contains(&"DTEND:20261203T094500Z".to_owned()));
    assert_eq!(count("SEQUENCE:"), 1);
    assert_eq!(count("ORGANIZER"), 1);
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("ORGANIZER;") && l.ends_with(":mailto:bookings@example.org"))
    );
    let found: Vec<&String> = lines.iter().filter(|l| l.starts_with("ATTENDEE")).collect();
    assert_eq!(found.len(), attendees.len(), "{found:#?}");
    for (line, (addr, partstat)) in found.iter().zip(attendees) {
        assert!(line.ends_with(&format!(":mailto:{addr}")), "{line}");
        assert!(line.contains(&format!(";PARTSTAT={partstat};")), "{line}");
        assert!(line.contains(";RSVP=TRUE"), "{line}");
    }
    lines
}

/// Renders every message for `b` and runs all structural checks; returns the pieces.
fn render_all(b: &BookingFacts) -> Vec<(Message, Rendered, Checked)> {
    all_messages()
        .into_iter()
        .map(|msg| {
            let r = render(&msg, b, &ctx(), now());
            let cal = expected_calendar(&msg);
            let checked = check_mime(&r, cal.as_ref().map(|c| c.method));
            if let (Some(cal), Some(ics)) = (&cal, &checked.ics) {
                check_ics(ics, cal.method, cal.status, &cal.attendees);
            }
            for link in expected_links(&msg) {
                assert!(
                    checked.plain.lines().any(|l| l == link),
                    "{}: link {link} not on a line of its own in\n{}",
                    r.kind,
                    checked.plain
                );
                assert!(
                    hrefs(&checked.html).iter().any(|h| h == link),
                    "{}: link {link} not in the HTML",
                    r.kind
                );
            }
            if let Some(ics) = &checked.ics {
                let flat = ics.replace("\r\n ", "");
                assert!(
                    !flat.contains('\u{202E}'),
                    "{}: a bidi override in the calendar",
                    r.kind
                );
                // The meeting room is the only link, and only in a confirmed entry.
                let rest = flat.replace(JOIN, "");
                assert!(!rest.contains("http"), "{}: a link in the calendar", r.kind);
                let confirmed = flat.contains("STATUS:CONFIRMED");
                for prop in [
                    "LOCATION:",
                    "URL:",
                    "CONFERENCE;VALUE=URI;FEATURE=AUDIO,VIDEO:",
                ] {
                    assert_eq!(
                        flat.contains(&format!("\r\n{prop}{JOIN}\r\n")),
                        confirmed,
                        "{}: {prop}",
                        r.kind
                    );
                }
                assert!(
                    !flat.contains("_tok"),
                    "{}: a token in the calendar",
                    r.kind
                );
            }
            assert!(
                checked
                    .html
                    .contains(r#"<meta name="color-scheme" content="light dark">"#)
            );
            (msg, r, checked)
        })
        .collect()
}

#[test]
fn every_message_has_the_designed_mime_shape_and_calendar() {
    let results = render_all(&friendly());
    let kinds: Vec<&str> = results.iter().map(|(_, r, _)| r.kind).collect();
    assert_eq!(
        kinds,
        [
            "owner_new_request",
            "owner_accepted",
            "owner_calendar_cancel",
            "requester_confirm",
            "requester_received",
            "requester_accepted",
            "requester_declined",
            "requester_pick_new_time",
            "requester_pick_new_time",
            "requester_cancelled",
            "requester_cancelled",
            "requester_cancelled",
            "owner_answer_reminder",
            "owner_expired",
            "requester_expired",
            "requester_session_reminder",
            "owner_session_reminder"
        ]
    );
    for (msg, r, c) in &results {
        let (addr, name) = if msg.to_owner() {
            ("owner@example.org", "Grace Hopper")
        } else {
            ("ada@example.net", "Ada Lovelace")
        };
        assert_eq!(r.recipient, addr);
        // The owner is greeted by name and always learns who it is about; the requester's name
        // is never written back to the address it was typed with.
        let greeting = if msg.to_owner() {
            assert!(header(&c.headers, "To").contains(name));
            assert!(c.plain.contains("Ada Lovelace"));
            assert!(c.plain.contains("ada@example.net"));
            format!("Hello {name},")
        } else {
            assert_eq!(header(&c.headers, "To"), addr);
            assert!(
                !c.plain.contains(name) && !c.html.contains(name),
                "{}",
                r.kind
            );
            "Hello,".to_owned()
        };
        assert!(c.plain.starts_with(&greeting), "{}", c.plain);
        assert!(c.html.contains(&greeting));
        // The owner reads the same text back from the stored message.
        assert_eq!(
            guidance_mail::plain_text(&r.bytes).map(|t| t.trim_end().to_owned()),
            Some(c.plain.replace("\r\n", "\n").trim_end().to_owned()),
            "{}",
            r.kind
        );
        // No untranslated key anywhere.
        assert!(!c.plain.contains('⟦') && !c.html.contains('⟦') && !r.subject.contains('⟦'));
        assert!(!c.plain.contains("{") && !r.subject.contains("{"));
        // Message-ID: <uuid@domain of From>.
        let id = r
            .message_id
            .strip_prefix('<')
            .unwrap()
            .strip_suffix('>')
            .unwrap();
        let (u, domain) = id.split_once('@').unwrap();
        assert!(uuid::Uuid::parse_str(u).is_ok());
        assert_eq!(domain, "example.org");
    }
}

#[test]
fn owner_emails_use_the_owners_zone_requester_emails_theirs() {
    let b = friendly();
    let owner = render(&all_messages()[0], &b, &ctx(), now());
    assert_eq!(
        owner.subject,
        "[Urgent] Session request: Ada Lovelace — Thu, Dec 3 10:00 AM"
    );
    let c = check_mime(&owner, Some("REQUEST"));
    assert!(
        c.plain.contains(
            "Thursday, December 3, 2026, 10:00\u{202f}AM–10:45\u{202f}AM (Europe/Berlin)"
        )
    );
    assert!(
        c.html.contains(
            "Thursday, December 3, 2026, 10:00\u{202f}AM–10:45\u{202f}AM (Europe/Berlin)"
        )
    );

    let requester = render(&Message::RequesterAccepted, &b, &ctx(), now());
    assert_eq!(
        requester.subject,
        "Confirmed: your session with Grace Hopper — Thu, Dec 3 4:00 AM"
    );
    let c = check_mime(&requester, Some("REQUEST"));
    assert!(
        c.plain.contains(
            "Thursday, December 3, 2026, 4:00\u{202f}AM–4:45\u{202f}AM (America/New_York)"
        )
    );
    assert!(!c.plain.contains("Europe/Berlin"));
}

#[test]
fn the_owner_sees_every_intake_answer_and_the_priority() {
    let b = friendly();
    let r = render(&all_messages()[0], &b, &ctx(), now());
    let c = check_mime(&r, Some("REQUEST"));
    for needle in [
        "Priority: Urgent",
        "Company size: 12",
        "Newsletter: Yes",
        "Interests: engines, poetry",
        "  Analytical engine: Bernoulli numbers",
        "  Second line of the topic",
        "Their time zone: America/New_York",
    ] {
        assert!(c.plain.contains(needle), "{needle} missing in\n{}", c.plain);
    }
    for needle in [
        "Company size",
        "engines, poetry",
        "Second line of the topic",
        "Urgent",
    ] {
        assert!(c.html.contains(needle), "{needle} missing in the HTML");
    }
    // The calendar carries topic and priority, nothing else of the intake.
    let lines = unfold(c.ics.as_deref().unwrap());
    let desc = lines
        .iter()
        .find(|l| l.starts_with("DESCRIPTION:"))
        .unwrap();
    assert!(
        desc.contains("Bernoulli numbers") && desc.contains("Urgent"),
        "{desc}"
    );
    assert!(!desc.contains("poetry"));
    assert!(lines.contains(&"SUMMARY:Session with Ada Lovelace".to_owned()));
}

#[test]
fn a_moved_request_says_so_and_keeps_the_sequence() {
    let mut b = friendly();
    b.ics_sequence = 3;
    let r = render(&all_messages()[0], &b, &ctx(), now());
    let c = check_mime(&r, Some("REQUEST"));
    assert!(c.plain.contains("has picked a new time"));
    assert!(unfold(c.ics.as_deref().unwrap()).contains(&"SEQUENCE:3".to_owned()));
}

#[test]
fn the_owners_confirmation_and_the_requesters_cancellation_say_what_happened() {
    let b = friendly();
    let r = render(&Message::OwnerAccepted, &b, &ctx(), now());
    assert_eq!(
        r.subject,
        "Confirmed: session with Ada Lovelace — Thu, Dec 3 10:00 AM"
    );
    let c = check_mime(&r, Some("REQUEST"));
    assert!(
        c.plain
            .contains("You accepted the session with Ada Lovelace")
    );
    assert!(c.plain.contains("Priority: Urgent"));

    let by_owner = Message::RequesterCancelled {
        had_invite: true,
        by_requester: false,
    };
    let r = render(&by_owner, &b, &ctx(), now());
    assert_eq!(
        r.subject,
        "Cancelled: your session with Grace Hopper — Thu, Dec 3 4:00 AM"
    );
    let c = check_mime(&r, Some("CANCEL"));
    assert!(c.plain.contains("Grace Hopper has cancelled your session"));
    assert!(c.plain.contains("removes the session from your calendar"));
    let by_self = Message::RequesterCancelled {
        had_invite: false,
        by_requester: true,
    };
    let c = check_mime(&render(&by_self, &b, &ctx(), now()), None);
    assert!(c.plain.contains("is cancelled, as you asked"));
    assert!(!c.plain.contains("calendar"), "{}", c.plain);
}

#[test]
fn the_confirm_request_goes_to_the_requester_with_the_end_of_the_hold_in_their_zone() {
    let b = friendly();
    let msg = Message::RequesterConfirm {
        confirm_url: CONFIRM.into(),
        hold_until: "2026-11-30T13:45:00Z".parse().unwrap(),
    };
    let r = render(&msg, &b, &ctx(), now());
    assert_eq!(r.kind, "requester_confirm");
    assert_eq!(r.recipient, "ada@example.net");
    assert_eq!(
        r.subject,
        "Please confirm your request: session with Grace Hopper — Thu, Dec 3 4:00 AM"
    );
    let c = check_mime(&r, None);
    assert!(
        c.plain.contains("held for you until Mon, Nov 30 8:45"),
        "{}",
        c.plain
    );
    assert!(c.plain.contains("Confirm my request"));
    // Not the owner's links, nor the visitor's status page: only confirming leads on.
    assert!(!c.plain.contains(STATUS));
    assert_eq!(
        hrefs(&c.html).iter().filter(|h| h.contains("/a/")).count(),
        1
    );
}

#[test]
fn non_ascii_calendars_go_8bit_and_ascii_ones_7bit() {
    let r = render(&Message::RequesterAccepted, &friendly(), &ctx(), now());
    let text = String::from_utf8_lossy(&r.bytes);
    assert!(text.contains("Content-Transfer-Encoding: 7bit"));
    let b = booking("Zoë 🙂 Łukasz", "Café", serde_json::Value::Null);
    let r = render(&Message::RequesterAccepted, &b, &ctx(), now());
    let text = String::from_utf8_lossy(&r.bytes);
    assert!(text.contains("Content-Transfer-Encoding: 8bit"));
    assert!(!text.to_ascii_lowercase().contains("text/calendar; charset=utf-8; method=request\r\ncontent-transfer-encoding: quoted-printable"));
}
