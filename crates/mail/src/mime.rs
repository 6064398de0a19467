//! Headers and MIME structure, assembled with `lettre` (DESIGN §4, NOTES-CALENDAR "The email"):
//!
//! ```text
//! multipart/mixed                      (only with calendar data)
//!   multipart/alternative
//!     text/plain; charset=utf-8        quoted-printable
//!     text/html; charset=utf-8         quoted-printable
//!     text/calendar; charset=utf-8; method=REQUEST|CANCEL   7bit or 8bit
//!   application/ics; name="invite.ics" attachment, base64, the same bytes
//! ```
//!
//! Every transfer encoding is chosen here rather than by lettre, which would pick
//! quoted-printable for a calendar part with long or non-ASCII lines; several calendar clients
//! do not decode it there. The calendar's own lines are at most 75 octets, so 8bit is always
//! valid for it. The text parts use quoted-printable because a visitor's text may hold a line
//! longer than SMTP's 998-octet limit.

use std::time::SystemTime;

use guidance_core::ics::Invite;
use jiff::Timestamp;
use lettre::message::header::{ContentTransferEncoding, ContentType};
use lettre::message::{Attachment, Body, Mailbox, MultiPart, SinglePart};

/// The name of the attached calendar file (Proton finds invitations by the `.ics` ending).
pub const ATTACHMENT_NAME: &str = "invite.ics";

/// Everything that goes into one message.
pub struct Parts<'a> {
    /// The service's mailbox.
    pub from: Mailbox,
    /// The recipient.
    pub to: Mailbox,
    /// One line of plain text.
    pub subject: &'a str,
    /// The `Date:`.
    pub date: Timestamp,
    /// `<id@domain>`.
    pub message_id: &'a str,
    /// The text/plain body.
    pub plain: String,
    /// The text/html body.
    pub html: String,
    /// The calendar object, if the message carries one.
    pub invite: Option<&'a Invite>,
}

/// The whole message as bytes with CRLF line ends.
pub fn assemble(p: &Parts<'_>) -> Vec<u8> {
    let alternative = MultiPart::alternative()
        .singlepart(text_part(ContentType::TEXT_PLAIN, p.plain.clone()))
        .singlepart(text_part(ContentType::TEXT_HTML, p.html.clone()));
    let body = match p.invite {
        None => alternative,
        Some(invite) => {
            let ics = invite.to_ics();
            let method = invite.method.as_str();
            MultiPart::mixed()
                .multipart(alternative.singlepart(calendar_part(method, &ics)))
                .singlepart(attachment_part(ics))
        }
    };
    lettre::Message::builder()
        .from(p.from.clone())
        .to(p.to.clone())
        .subject(p.subject)
        .date(SystemTime::from(p.date))
        .message_id(Some(p.message_id.to_owned()))
        .multipart(body)
        // Building fails only without a From or a recipient, and both are always set.
        .expect("a message with From and To always builds")
        .formatted()
}

fn text_part(content_type: ContentType, text: String) -> SinglePart {
    // Quoted-printable can carry any text, so this cannot fail.
    let body = Body::new_with_encoding(text, ContentTransferEncoding::QuotedPrintable)
        .expect("quoted-printable accepts any text");
    SinglePart::builder().header(content_type).body(body)
}

/// The inline `text/calendar` part: 7bit when the calendar is ASCII, 8bit otherwise, never
/// quoted-printable; its `method=` is the calendar's `METHOD`.
fn calendar_part(method: &str, ics: &str) -> SinglePart {
    let encoding = if ics.is_ascii() {
        ContentTransferEncoding::SevenBit
    } else {
        ContentTransferEncoding::EightBit
    };
    let body = Body::new_with_encoding(ics.to_owned(), encoding).unwrap_or_else(|_| {
        // Unreachable with our writer (short lines, no NUL); base64 is still a valid calendar
        // encoding, unlike quoted-printable, should it ever happen.
        Body::new_with_encoding(ics.as_bytes().to_vec(), ContentTransferEncoding::Base64)
            .expect("base64 accepts any bytes")
    });
    let content_type =
        ContentType::parse(&format!("text/calendar; charset=utf-8; method={method}"))
            .expect("a fixed, valid content type");
    SinglePart::builder().header(content_type).body(body)
}

/// The `invite.ics` attachment: the very same bytes as the inline part, base64.
fn attachment_part(ics: String) -> SinglePart {
    let body = Body::new_with_encoding(ics.into_bytes(), ContentTransferEncoding::Base64)
        .expect("base64 accepts any bytes");
    let content_type = ContentType::parse(&format!("application/ics; name=\"{ATTACHMENT_NAME}\""))
        .expect("a fixed, valid content type");
    Attachment::new(ATTACHMENT_NAME.to_owned()).body(body, content_type)
}
