//! The owner's own words to the requester: quoted in requester emails, escaped in HTML, never
//! added to the owner's own emails. Parsed back with `mailparse`, not with our code.

use guidance_core::Priority;
use guidance_core::intake::Answers;
use guidance_mail::{BookingFacts, MailContext, Message, render, render_with_owner_message};
use jiff::Timestamp;

fn ctx() -> MailContext {
    MailContext {
        from_email: "bookings@example.org".into(),
        from_name: "Guidance".into(),
        owner_email: "owner@example.org".into(),
        owner_name: "Grace \"G\" Hopper".into(),
        owner_time_zone: "Europe/Berlin".into(),
        owner_lang: "en".into(),
        public_url: "http://127.0.0.1:8080".into(),
    }
}

fn facts() -> BookingFacts {
    BookingFacts {
        booking_id: uuid::Uuid::from_u128(7),
        ics_uid: "owner-message@guidance".into(),
        ics_sequence: 1,
        name: "Ada Lovelace".into(),
        email: "ada@example.net".into(),
        topic: "Engines".into(),
        priority: Priority::Normal,
        answers: Answers::default(),
        locale: "en".into(),
        time_zone: "Europe/London".into(),
        starts_at: "2026-12-03T09:00:00Z".parse().unwrap(),
        ends_at: "2026-12-03T09:45:00Z".parse().unwrap(),
        status_url: Some("http://127.0.0.1:8080/my/x/y".into()),
        meeting_details: None,
        join_url: None,
    }
}

fn part(raw: &[u8], mimetype: &str) -> String {
    fn find<'a>(
        m: &'a mailparse::ParsedMail<'a>,
        t: &str,
    ) -> Option<&'a mailparse::ParsedMail<'a>> {
        if m.ctype.mimetype == t {
            return Some(m);
        }
        m.subparts.iter().find_map(|p| find(p, t))
    }
    let mail = mailparse::parse_mail(raw).unwrap();
    find(&mail, mimetype)
        .unwrap()
        .get_body()
        .unwrap()
        .replace("\r\n", "\n")
}

const MESSAGE: &str = "Happy to help.\r\nBring <b>your</b> notes & questions.";

fn now() -> Timestamp {
    "2026-11-30T08:00:00Z".parse().unwrap()
}

#[test]
fn requester_emails_quote_the_owners_message() {
    for msg in [
        Message::RequesterAccepted,
        Message::RequesterDeclined,
        Message::RequesterPickNewTime {
            pick_url: "http://127.0.0.1:8080/a/x".into(),
            had_invite: false,
            proposed: Vec::new(),
        },
        Message::RequesterCancelled {
            had_invite: true,
            by_requester: false,
        },
    ] {
        let r = render_with_owner_message(&msg, &facts(), &ctx(), now(), Some(MESSAGE));
        let plain = part(&r.bytes, "text/plain");
        assert!(
            plain.contains(
                "A message from Grace \"G\" Hopper:\n> Happy to help.\n> Bring <b>your</b> notes & questions.\n"
            ),
            "{plain}"
        );
        let html = part(&r.bytes, "text/html");
        assert!(html.contains("<blockquote"), "{html}");
        assert!(!html.contains("<b>your</b>"), "escaped: {html}");
        assert!(
            html.contains("notes &amp; questions") || html.contains("notes &#38; questions"),
            "{html}"
        );
    }
}

#[test]
fn without_a_message_or_to_the_owner_nothing_is_added() {
    let plain = |r: guidance_mail::Rendered| part(&r.bytes, "text/plain");
    let without = plain(render(&Message::RequesterAccepted, &facts(), &ctx(), now()));
    let blank = plain(render_with_owner_message(
        &Message::RequesterAccepted,
        &facts(),
        &ctx(),
        now(),
        Some("  \n "),
    ));
    assert!(!without.contains("A message from"));
    assert!(!blank.contains("A message from"));
    for msg in [Message::OwnerCalendarCancel, Message::OwnerAccepted] {
        let owner = plain(render_with_owner_message(
            &msg,
            &facts(),
            &ctx(),
            now(),
            Some(MESSAGE),
        ));
        assert!(!owner.contains("Happy to help"), "{owner}");
    }
}
