//! Notices to the owner that are about no booking: a calendar source that cannot be read, and
//! its recovery. Laid out like every other email; no calendar data.

use guidance_core::i18n::{self, tf};
use jiff::Timestamp;

use crate::content::{Button, Content};
use crate::headers::{self, one_line};
use crate::{MailContext, Rendered, html, mime, plain};

/// What to tell the owner about one of their calendar sources.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CalendarNotice {
    /// It has failed for longer than the grace period.
    Failing {
        /// The owner's name for it.
        source: String,
        /// Since when it fails.
        since: Timestamp,
        /// The last error, as shown in the admin UI.
        error: String,
        /// Whether its slots are hidden meanwhile (fail closed) or stay bookable.
        slots_hidden: bool,
    },
    /// It can be read again.
    Recovered {
        /// The owner's name for it.
        source: String,
    },
}

impl CalendarNotice {
    /// The stable kind name (for the outbox).
    pub fn kind(&self) -> &'static str {
        match self {
            CalendarNotice::Failing { .. } => "calendar_failing",
            CalendarNotice::Recovered { .. } => "calendar_recovered",
        }
    }
}

/// Renders `notice` to the owner, in the owner's language and zone.
pub fn render_calendar_notice(
    notice: &CalendarNotice,
    ctx: &MailContext,
    now: Timestamp,
) -> Rendered {
    let lang = i18n::resolve(&ctx.owner_lang);
    let kind = notice.kind();
    let k = |purpose: &str| format!("email.{kind}.{purpose}");
    let (source, intro, notes) = match notice {
        CalendarNotice::Failing {
            source,
            since,
            error,
            slots_hidden,
        } => {
            let source = one_line(source);
            let zone =
                jiff::tz::TimeZone::get(&ctx.owner_time_zone).unwrap_or(jiff::tz::TimeZone::UTC);
            let at = since.to_zoned(zone);
            let since = format!(
                "{} {}",
                i18n::format_date(lang, &at),
                i18n::format_time(lang, &at)
            );
            let intro = tf(
                lang,
                &k("intro"),
                &[
                    ("source", &source),
                    ("since", &since),
                    ("error", &one_line(error)),
                ],
            );
            let note = if *slots_hidden {
                k("hidden")
            } else {
                k("open")
            };
            (source, intro, vec![tf(lang, &note, &[])])
        }
        CalendarNotice::Recovered { source } => {
            let source = one_line(source);
            let intro = tf(lang, &k("intro"), &[("source", &source)]);
            (source, intro, Vec::new())
        }
    };
    let content = Content {
        lang,
        subject: tf(lang, &k("subject"), &[("source", &source)]),
        greeting: tf(
            lang,
            "email.common.greeting",
            &[("name", &one_line(&ctx.owner_name))],
        ),
        intro: vec![intro],
        quote: None,
        facts: Vec::new(),
        answers_heading: None,
        answers: Vec::new(),
        action_hint: None,
        buttons: vec![Button {
            label: tf(lang, "email.calendar_failing.action", &[]),
            url: format!("{}/admin/calendars", ctx.public_url.trim_end_matches('/')),
            primary: true,
        }],
        notes,
        signature: tf(
            lang,
            "email.common.signature",
            &[("sender", &one_line(&ctx.from_name))],
        ),
        footer: tf(lang, "email.common.footer", &[("url", &ctx.public_url)]),
    };
    let message_id = format!(
        "<{}@{}>",
        guidance_core::ids::new_row_id(),
        headers::domain_of(&ctx.from_email)
    );
    let to = headers::mailbox(&ctx.owner_email, &ctx.owner_name);
    let bytes = mime::assemble(&mime::Parts {
        from: headers::mailbox(&ctx.from_email, &ctx.from_name),
        to: to.clone(),
        subject: &content.subject,
        date: now,
        message_id: &message_id,
        plain: plain::render(&content),
        html: html::render(&content),
        invite: None,
    });
    Rendered {
        kind,
        recipient: to.email.to_string(),
        subject: content.subject,
        message_id,
        bytes,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx() -> MailContext {
        MailContext {
            from_email: "bookings@example.org".into(),
            from_name: "Guidance".into(),
            owner_email: "owner@example.org".into(),
            owner_name: "Olga Owner".into(),
            owner_time_zone: "Europe/Berlin".into(),
            owner_lang: "de".into(),
            public_url: "https://book.example.org".into(),
        }
    }

    #[test]
    fn the_failing_and_recovered_notices_go_to_the_owner_in_their_language() {
        let now: Timestamp = "2030-01-07T09:00:00Z".parse().unwrap();
        let failing = render_calendar_notice(
            &CalendarNotice::Failing {
                source: "Arbeit\r\nBcc: x@evil.example".into(),
                since: now,
                error: "the server answered HTTP 503".into(),
                slots_hidden: true,
            },
            &ctx(),
            now,
        );
        assert_eq!(failing.kind, "calendar_failing");
        assert_eq!(failing.recipient, "owner@example.org");
        assert!(failing.subject.contains("Arbeit"), "{}", failing.subject);
        let text = String::from_utf8_lossy(&failing.bytes);
        assert!(!text.contains("\r\nBcc:"), "a name cannot add a header");
        assert!(text.contains("https://book.example.org/admin/calendars"));
        assert!(!text.contains("text/calendar"), "no calendar data");

        let recovered = render_calendar_notice(
            &CalendarNotice::Recovered {
                source: "Arbeit".into(),
            },
            &ctx(),
            now,
        );
        assert_eq!(recovered.kind, "calendar_recovered");
        assert_ne!(recovered.message_id, failing.message_id);
    }
}
