//! Reading the email: the headers that matter and the calendar part, as real clients send it.
//!
//! Clients differ: Outlook and Gmail send the calendar inline as `text/calendar` inside a
//! `multipart/alternative`; others attach it (`application/ics`, or any type with a file name
//! ending in `.ics`); the part may be base64, quoted-printable or plain; `method=` may be in any
//! case or missing. Every such part is collected, the `text/calendar` ones first (Proton prefers
//! those when two carry the same UID).

use mail_parser::{MessageParser, MimeHeaders, PartType};

use crate::normalize_address;

/// The largest email read at all; calendar replies are a few kilobytes.
pub const MAX_EMAIL_BYTES: usize = 2 * 1024 * 1024;

/// One calendar part: its text and the MIME `method=` parameter, if given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CalendarPart {
    /// The calendar object, decoded from its transfer encoding.
    pub text: String,
    /// The `method=` of the Content-Type, upper-cased, when present.
    pub mime_method: Option<String>,
}

/// What the service needs of an email.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadEmail {
    /// The `Message-ID` without angle brackets, when the email has one.
    pub message_id: Option<String>,
    /// The `From:` address, normalized (see [`normalize_address`]).
    pub from: Option<String>,
    /// The calendar parts, `text/calendar` first.
    pub calendars: Vec<CalendarPart>,
    /// The raw values of the `Authentication-Results` headers, top-most first.
    pub auth_results: Vec<String>,
}

/// Reads an email; `None` when it is too large or not an email at all.
pub fn read_email(raw: &[u8]) -> Option<ReadEmail> {
    if raw.len() > MAX_EMAIL_BYTES {
        return None;
    }
    let message = MessageParser::default().parse(raw)?;
    let from = message
        .from()
        .and_then(|a| a.first())
        .and_then(|a| a.address())
        .map(normalize_address);
    let auth_results = message
        .headers_raw()
        .filter(|(name, _)| name.eq_ignore_ascii_case("Authentication-Results"))
        .map(|(_, value)| value.trim().to_owned())
        .collect();
    let mut inline = Vec::new();
    let mut attached = Vec::new();
    for part in &message.parts {
        if matches!(part.body, PartType::Multipart(_) | PartType::Message(_)) {
            continue;
        }
        let ctype = part.content_type();
        let full_type = ctype
            .map(|c| format!("{}/{}", c.ctype(), c.subtype().unwrap_or("")))
            .unwrap_or_default()
            .to_ascii_lowercase();
        let named_ics = part
            .attachment_name()
            .is_some_and(|n| n.to_ascii_lowercase().ends_with(".ics"));
        let is_calendar = full_type == "text/calendar";
        if !(is_calendar || full_type == "application/ics" || named_ics) {
            continue;
        }
        let Some(text) = part.text_contents() else {
            continue;
        };
        let mime_method = ctype.and_then(|c| {
            c.attributes()?
                .iter()
                .find(|a| a.name.eq_ignore_ascii_case("method"))
                .map(|a| a.value.trim().to_ascii_uppercase())
        });
        let found = CalendarPart {
            text: text.to_owned(),
            mime_method,
        };
        if is_calendar {
            inline.push(found);
        } else {
            attached.push(found);
        }
    }
    inline.extend(attached);
    Some(ReadEmail {
        message_id: message
            .message_id()
            .map(|m| m.trim().trim_matches(['<', '>']).to_owned())
            .filter(|m| !m.is_empty()),
        from,
        calendars: inline,
        auth_results,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const ICS: &str = "BEGIN:VCALENDAR\r\nMETHOD:REPLY\r\nEND:VCALENDAR\r\n";

    #[test]
    fn finds_the_part_inline_attached_and_encoded() {
        let b64 = "QkVHSU46VkNBTEVOREFSDQpNRVRIT0Q6UkVQTFkNCkVORDpWQ0FMRU5EQVINCg==";
        let raw = format!(
            "From: Owner <Owner@Example.ORG>\r\nMessage-ID: <abc@example.org>\r\n\
             Authentication-Results: mx.example.net; dkim=pass\r\n\
             Authentication-Results: other.example; dkim=fail\r\n\
             MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n\
             --b\r\nContent-Type: text/plain\r\n\r\nhello\r\n\
             --b\r\nContent-Type: application/octet-stream; name=invite.ics\r\n\
             Content-Disposition: attachment; filename=invite.ics\r\n\
             Content-Transfer-Encoding: base64\r\n\r\n{b64}\r\n\
             --b\r\nContent-Type: TEXT/Calendar; Method=reply; charset=utf-8\r\n\
             Content-Transfer-Encoding: quoted-printable\r\n\r\n\
             BEGIN:VCALENDAR\r\nMETHOD:REPLY\r\nEND:VCALEN=\r\nDAR\r\n\
             --b--\r\n"
        );
        let read = read_email(raw.as_bytes()).unwrap();
        assert_eq!(read.message_id.as_deref(), Some("abc@example.org"));
        assert_eq!(read.from.as_deref(), Some("owner@example.org"));
        assert_eq!(read.auth_results.len(), 2);
        assert!(read.auth_results[0].starts_with("mx.example.net"));
        assert_eq!(read.calendars.len(), 2);
        assert_eq!(read.calendars[0].mime_method.as_deref(), Some("REPLY"));
        assert!(read.calendars[0].text.contains("END:VCALENDAR"));
        assert_eq!(read.calendars[1].text, ICS);
        assert_eq!(read.calendars[1].mime_method, None);
    }

    #[test]
    fn an_email_without_a_calendar_has_no_parts() {
        let read = read_email(b"From: a@b.example\r\nSubject: hi\r\n\r\nplain\r\n").unwrap();
        assert!(read.calendars.is_empty());
        assert_eq!(read.message_id, None);
    }
}
