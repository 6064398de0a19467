//! Headers and MIME structure, assembled with `lettre` (the structure calendar clients expect;
//! the text parts quoted-printable by `quoted_printable.rs`):
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
//! do not decode it there. The calendar's own lines are at most 75 octets, so 7bit/8bit is
//! always valid for it. The text parts use quoted-printable because a visitor's text may hold a line
//! longer than SMTP's 998-octet limit.

use std::time::SystemTime;

use guidance_core::ics::Invite;
use jiff::Timestamp;
use lettre::address::Envelope;
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
        .singlepart(text_part(ContentType::TEXT_PLAIN, &p.plain))
        .singlepart(text_part(ContentType::TEXT_HTML, &p.html));
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
    // The envelope given, not derived: lettre would parse the From and To it was just given.
    let envelope = Envelope::new(Some(p.from.email.clone()), vec![p.to.email.clone()])
        .expect("an envelope with a recipient always builds");
    lettre::Message::builder()
        .envelope(envelope)
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

/// A text part, quoted-printable by [`crate::quoted_printable`] (so lettre neither scans it nor
/// copies it again).
fn text_part(content_type: ContentType, text: &str) -> SinglePart {
    let body = Body::dangerous_pre_encoded(
        crate::quoted_printable::encode(text),
        ContentTransferEncoding::QuotedPrintable,
    );
    SinglePart::builder().header(content_type).body(body)
}

/// The inline `text/calendar` part: 7bit when the calendar is ASCII, 8bit otherwise, never
/// quoted-printable; its `method=` is the calendar's `METHOD`.
///
/// lettre's own check refuses 7bit/8bit for lines of 76 octets or more (the quoted-printable
/// limit of RFC 2045), which a folded 75-octet calendar line plus CRLF reaches; the real limit
/// for 7bit/8bit is 998 octets. So the body is passed as pre-encoded after checking here what
/// RFC 2045 §2.7–2.8 asks: CRLF line ends only, no NUL, lines of at most 998 octets.
fn calendar_part(method: &str, ics: &str) -> SinglePart {
    let body = if is_valid_8bit(ics.as_bytes()) {
        let encoding = if ics.is_ascii() {
            ContentTransferEncoding::SevenBit
        } else {
            ContentTransferEncoding::EightBit
        };
        Body::dangerous_pre_encoded(ics.as_bytes().to_vec(), encoding)
    } else {
        // Unreachable with our calendar writer; base64 is still a valid calendar encoding,
        // unlike quoted-printable, should it ever happen.
        Body::new_with_encoding(ics.as_bytes().to_vec(), ContentTransferEncoding::Base64)
            .expect("base64 accepts any bytes")
    };
    let content_type =
        ContentType::parse(&format!("text/calendar; charset=utf-8; method={method}"))
            .expect("a fixed, valid content type");
    SinglePart::builder().header(content_type).body(body)
}

/// Whether `bytes` may go as a 7bit/8bit body as they are: every CR is followed by LF and every
/// LF preceded by CR, no NUL, no line longer than 998 octets, and a final line end.
fn is_valid_8bit(bytes: &[u8]) -> bool {
    const MAX_LINE: usize = 998;
    let mut line_len = 0;
    for (i, &b) in bytes.iter().enumerate() {
        match b {
            0 => return false,
            b'\r' if bytes.get(i + 1) != Some(&b'\n') => return false,
            b'\n' if i == 0 || bytes[i - 1] != b'\r' => return false,
            b'\r' => {}
            b'\n' => line_len = 0,
            _ => {
                line_len += 1;
                if line_len > MAX_LINE {
                    return false;
                }
            }
        }
    }
    bytes.ends_with(b"\r\n")
}

/// The `invite.ics` attachment: the very same bytes as the inline part, base64.
fn attachment_part(ics: String) -> SinglePart {
    let body = Body::new_with_encoding(ics.into_bytes(), ContentTransferEncoding::Base64)
        .expect("base64 accepts any bytes");
    let content_type = ContentType::parse(&format!("application/ics; name=\"{ATTACHMENT_NAME}\""))
        .expect("a fixed, valid content type");
    Attachment::new(ATTACHMENT_NAME.to_owned()).body(body, content_type)
}

#[cfg(test)]
mod tests {
    use super::is_valid_8bit;

    #[test]
    fn eight_bit_bodies_need_crlf_short_lines_and_no_nul() {
        assert!(is_valid_8bit(b"A:1\r\nB:\xc3\xa9\r\n"));
        assert!(is_valid_8bit(format!("{}\r\n", "x".repeat(998)).as_bytes()));
        assert!(!is_valid_8bit(
            format!("{}\r\n", "x".repeat(999)).as_bytes()
        ));
        assert!(!is_valid_8bit(b"A:1\nB:2\r\n"));
        assert!(!is_valid_8bit(b"A:1\rB:2\r\n"));
        assert!(!is_valid_8bit(b"A:\x001\r\n"));
        assert!(!is_valid_8bit(b"A:1"));
    }
}
