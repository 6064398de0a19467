//! What each message says, independent of its layout: every word comes from the locale files,
//! every user text is kept raw here and escaped by the layout that shows it.

use guidance_core::i18n::{self, t, tf};
use guidance_core::intake::AnswerText;
use jiff::Timestamp;
use jiff::tz::TimeZone;

use crate::headers::{header_text, one_line, shorten};
use crate::{BookingFacts, MailContext, Message};

/// Longest name inside a subject, in characters: the subject must stay scannable in an inbox.
const SUBJECT_NAME_MAX: usize = 60;

/// One labelled value, e.g. "Topic" → the topic. The value may span lines.
#[derive(Debug, Clone)]
pub struct Fact {
    /// The label (from the locale files, or an answer's key).
    pub label: String,
    /// The value, raw.
    pub value: String,
}

/// A link shown as a button in HTML and as a labelled line in plain text.
#[derive(Debug, Clone)]
pub struct Button {
    /// What the button says.
    pub label: String,
    /// Where it leads.
    pub url: String,
    /// The main action gets the strong colour; the others an outline.
    pub primary: bool,
}

/// A message's content in one language, before layout.
#[derive(Debug, Clone)]
pub struct Content {
    /// The resolved language tag, for `<html lang>`.
    pub lang: &'static str,
    /// The subject, one line.
    pub subject: String,
    /// "Hello Ada,".
    pub greeting: String,
    /// Paragraphs before the facts.
    pub intro: Vec<String>,
    /// The owner's own words to the requester, quoted after the introduction.
    pub quote: Option<Fact>,
    /// The booking at a glance.
    pub facts: Vec<Fact>,
    /// The heading of the intake answers, when there are any to show.
    pub answers_heading: Option<String>,
    /// The intake answers.
    pub answers: Vec<Fact>,
    /// A paragraph just before the buttons.
    pub action_hint: Option<String>,
    /// The links.
    pub buttons: Vec<Button>,
    /// Paragraphs after the buttons.
    pub notes: Vec<String>,
    /// "Kind regards, …" (may span lines).
    pub signature: String,
    /// The small print.
    pub footer: String,
}

/// A short moment for subjects, in the reader's language: "Thu, Dec 3 10:00 AM".
fn short_when(lang: &str, at: Timestamp, zone: &str) -> String {
    let z = at.to_zoned(TimeZone::get(zone).unwrap_or(TimeZone::UTC));
    tf(
        lang,
        "email.date.short",
        &[
            ("date", &i18n::format_short_date(lang, &z)),
            ("time", &i18n::format_time(lang, &z)),
        ],
    )
}

/// An answer key as a label: `company_size` → "Company size". The owner chose these keys for
/// their own questions, so a readable form of the key is the best label available here.
fn answer_label(key: &str) -> String {
    let spaced = key.replace(['_', '-', '.'], " ");
    let mut chars = spaced.trim().chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => key.to_owned(),
    }
}

/// Multi-line user text for display: line ends normalised to LF, other control characters and
/// bidi overrides dropped. The intake parser already refuses those; this keeps the mail layer
/// safe on its own.
pub fn multiline(s: &str) -> String {
    guidance_core::text::normalize_newlines(s)
        .chars()
        .filter(|&c| !guidance_core::text::is_forbidden_multiline(c))
        .collect()
}

/// Builds the content of `msg`.
pub fn build(msg: &Message, b: &BookingFacts, ctx: &MailContext) -> Content {
    let to_owner = msg.to_owner();
    let (lang, zone) = if to_owner {
        (i18n::resolve(&ctx.owner_lang), ctx.owner_time_zone.as_str())
    } else {
        (i18n::resolve(&b.locale), b.time_zone.as_str())
    };
    let k = |purpose: &str| format!("email.{}.{purpose}", msg.kind());

    // Names as they appear inside running text: one line, so a newline in a name cannot
    // split a sentence or fake a new paragraph.
    let name = one_line(&b.name);
    let owner = one_line(&ctx.owner_name);
    let subject_name = shorten(&name, SUBJECT_NAME_MAX);
    let subject_owner = shorten(&owner, SUBJECT_NAME_MAX);
    let when_short = short_when(lang, b.starts_at, zone);
    let when = i18n::format_span(lang, b.starts_at, b.ends_at, zone);
    let priority = t(lang, &format!("common.priority.{}", b.priority.as_str()));

    let fact = |label_key: &str, value: String| Fact {
        label: t(lang, &format!("email.label.{label_key}")),
        value,
    };

    let mut c = Content {
        lang,
        subject: String::new(),
        // The requester is greeted without the name they typed: whoever typed it may not be
        // whoever reads this (see `Message::quotes_requester_text`).
        greeting: if to_owner {
            tf(lang, "email.common.greeting", &[("name", &owner)])
        } else {
            t(lang, "email.common.greeting_plain")
        },
        intro: Vec::new(),
        quote: None,
        facts: Vec::new(),
        answers_heading: None,
        answers: Vec::new(),
        action_hint: None,
        buttons: Vec::new(),
        notes: Vec::new(),
        signature: tf(
            lang,
            "email.common.signature",
            &[("sender", &one_line(&ctx.from_name))],
        ),
        footer: tf(lang, "email.common.footer", &[("url", &ctx.public_url)]),
    };

    let subject_args = [
        ("priority", priority.as_str()),
        ("name", subject_name.as_str()),
        ("owner", subject_owner.as_str()),
        ("when", when_short.as_str()),
    ];
    c.subject = header_text(&tf(lang, &k("subject"), &subject_args));
    let text_args = [
        ("name", name.as_str()),
        ("owner", owner.as_str()),
        ("when", when.as_str()),
    ];

    match msg {
        Message::OwnerNewRequest {
            accept_url,
            decline_url,
            reschedule_url,
        } => {
            // A SEQUENCE above 0 means the calendar has seen this booking before: the requester
            // picked a new slot after being asked to.
            let intro = if b.ics_sequence > 0 {
                k("intro_moved")
            } else {
                k("intro")
            };
            c.intro.push(tf(lang, &intro, &text_args));
            c.facts = vec![
                fact("when", when.clone()),
                fact("requester", format!("{name} <{}>", one_line(&b.email))),
                fact("priority", priority.clone()),
                fact("topic", multiline(&b.topic)),
                fact("requester_time_zone", one_line(&b.time_zone)),
            ];
            c.answers = b
                .answers
                .display_pairs()
                .into_iter()
                .map(|(key, value)| Fact {
                    label: answer_label(&key),
                    value: match value {
                        AnswerText::Text(s) => multiline(&s),
                        AnswerText::Flag(true) => t(lang, "common.yes"),
                        AnswerText::Flag(false) => t(lang, "common.no"),
                    },
                })
                .collect();
            if !c.answers.is_empty() {
                c.answers_heading = Some(t(lang, &k("answers_heading")));
            }
            c.action_hint = Some(tf(lang, &k("action_hint"), &text_args));
            c.buttons = vec![
                Button {
                    label: t(lang, &k("accept")),
                    url: accept_url.clone(),
                    primary: true,
                },
                Button {
                    label: t(lang, &k("decline")),
                    url: decline_url.clone(),
                    primary: false,
                },
                Button {
                    label: t(lang, &k("reschedule")),
                    url: reschedule_url.clone(),
                    primary: false,
                },
            ];
            c.notes.push(t(lang, &k("calendar_note")));
        }
        Message::OwnerAccepted => {
            c.intro.push(tf(lang, &k("intro"), &text_args));
            c.facts = vec![
                fact("when", when.clone()),
                fact("requester", format!("{name} <{}>", one_line(&b.email))),
                fact("priority", priority.clone()),
                fact("topic", multiline(&b.topic)),
                fact("requester_time_zone", one_line(&b.time_zone)),
            ];
            c.notes.push(t(lang, &k("calendar_note")));
        }
        Message::OwnerCalendarCancel => {
            c.intro.push(tf(lang, &k("intro"), &text_args));
            c.facts = vec![
                fact("when", when.clone()),
                fact("requester", format!("{name} <{}>", one_line(&b.email))),
                fact("topic", multiline(&b.topic)),
            ];
            c.notes.push(t(lang, &k("calendar_note")));
        }
        Message::RequesterConfirm {
            confirm_url,
            hold_until,
        } => {
            c.intro.push(tf(lang, &k("intro"), &text_args));
            c.facts = requester_facts(msg, lang, &owner, &when, &priority, b);
            c.action_hint = Some(tf(
                lang,
                &k("action_hint"),
                &[("until", &short_when(lang, *hold_until, zone))],
            ));
            c.buttons.push(Button {
                label: t(lang, &k("confirm")),
                url: confirm_url.clone(),
                primary: true,
            });
            c.notes.push(tf(lang, &k("note"), &text_args));
        }
        Message::RequesterReceived => {
            c.intro.push(tf(lang, &k("intro"), &text_args));
            c.facts = requester_facts(msg, lang, &owner, &when, &priority, b);
            c.notes.push(tf(lang, &k("note"), &text_args));
        }
        Message::RequesterAccepted => {
            c.intro.push(tf(lang, &k("intro"), &text_args));
            c.facts = requester_facts(msg, lang, &owner, &when, &priority, b);
            c.facts.extend(meeting_facts(lang, b));
            c.notes.push(t(lang, &k("calendar_note")));
        }
        Message::RequesterDeclined => {
            c.intro.push(tf(lang, &k("intro"), &text_args));
            // The invitation to try again leads to the button, so it goes right above it.
            c.action_hint = Some(t(lang, &k("note")));
            c.buttons.push(Button {
                label: t(lang, &k("book_again")),
                url: format!("{}/", ctx.public_url),
                primary: true,
            });
        }
        Message::OwnerAnswerReminder {
            accept_url,
            decline_url,
            reschedule_url,
            answer_by,
        } => {
            c.intro.push(tf(lang, &k("intro"), &text_args));
            c.facts = vec![
                fact("when", when.clone()),
                fact("requester", format!("{name} <{}>", one_line(&b.email))),
                fact("priority", priority.clone()),
                fact("topic", multiline(&b.topic)),
            ];
            c.action_hint = Some(tf(
                lang,
                &k("action_hint"),
                &[("until", &short_when(lang, *answer_by, zone))],
            ));
            // The very buttons of the request itself.
            let label = |key: &str| t(lang, &format!("email.owner_new_request.{key}"));
            c.buttons = vec![
                Button {
                    label: label("accept"),
                    url: accept_url.clone(),
                    primary: true,
                },
                Button {
                    label: label("decline"),
                    url: decline_url.clone(),
                    primary: false,
                },
                Button {
                    label: label("reschedule"),
                    url: reschedule_url.clone(),
                    primary: false,
                },
            ];
        }
        Message::OwnerExpired => {
            c.intro.push(tf(lang, &k("intro"), &text_args));
            c.facts = vec![
                fact("when", when.clone()),
                fact("requester", format!("{name} <{}>", one_line(&b.email))),
                fact("topic", multiline(&b.topic)),
            ];
            c.notes.push(t(lang, &k("calendar_note")));
        }
        Message::RequesterExpired => {
            c.intro.push(tf(lang, &k("intro"), &text_args));
            c.action_hint = Some(t(lang, &k("note")));
            c.buttons.push(Button {
                label: t(lang, &k("pick")),
                url: format!("{}/book", ctx.public_url),
                primary: true,
            });
        }
        Message::RequesterSessionReminder => {
            c.intro.push(tf(lang, &k("intro"), &text_args));
            c.facts = requester_facts(msg, lang, &owner, &when, &priority, b);
            c.facts.extend(meeting_facts(lang, b));
            c.notes.push(t(lang, &k("note")));
        }
        Message::OwnerSessionReminder => {
            c.intro.push(tf(lang, &k("intro"), &text_args));
            c.facts = vec![
                fact("when", when.clone()),
                fact("requester", format!("{name} <{}>", one_line(&b.email))),
                fact("topic", multiline(&b.topic)),
            ];
            c.facts.extend(meeting_facts(lang, b));
        }
        Message::RequesterPickNewTime {
            pick_url,
            had_invite,
            proposed,
        } => {
            c.intro.push(tf(lang, &k("intro"), &text_args));
            c.intro.push(t(lang, &k("note")));
            // The owner's proposals come first, one click each; the whole list after them.
            if !proposed.is_empty() {
                c.action_hint = Some(tf(lang, &k("proposed"), &text_args));
            }
            for p in proposed {
                c.buttons.push(Button {
                    label: i18n::format_span(lang, p.starts_at, p.ends_at, zone),
                    url: p.url.clone(),
                    primary: true,
                });
            }
            let pick = if proposed.is_empty() {
                "pick"
            } else {
                "see_all"
            };
            c.buttons.push(Button {
                label: t(lang, &k(pick)),
                url: pick_url.clone(),
                primary: proposed.is_empty(),
            });
            if *had_invite {
                c.notes.push(t(lang, &k("calendar_note")));
            }
        }
        Message::RequesterCancelled {
            had_invite,
            by_requester,
        } => {
            let intro = if *by_requester {
                k("intro_by_requester")
            } else {
                k("intro")
            };
            c.intro.push(tf(lang, &intro, &text_args));
            c.facts = requester_facts(msg, lang, &owner, &when, &priority, b);
            if *had_invite {
                c.notes.push(t(lang, &k("calendar_note")));
            }
            c.action_hint = Some(t(lang, &k("note")));
            c.buttons.push(Button {
                label: t(lang, &k("book_again")),
                url: format!("{}/", ctx.public_url),
                primary: true,
            });
        }
    }
    // The meeting room, once the session is accepted.
    if let (
        Message::RequesterAccepted
        | Message::OwnerAccepted
        | Message::RequesterSessionReminder
        | Message::OwnerSessionReminder,
        Some(url),
    ) = (msg, &b.join_url)
    {
        c.buttons.push(Button {
            label: t(lang, "email.common.join"),
            url: url.clone(),
            primary: true,
        });
    }
    // The requester's own page, where they follow and can cancel the booking.
    if let (
        Message::RequesterReceived | Message::RequesterAccepted | Message::RequesterSessionReminder,
        Some(url),
    ) = (msg, &b.status_url)
    {
        c.buttons.push(Button {
            label: t(lang, "email.common.status_link"),
            url: url.clone(),
            primary: true,
        });
    }
    c
}

/// How to join the session, once it is accepted: the slot's meeting details.
fn meeting_facts(lang: &str, b: &BookingFacts) -> Vec<Fact> {
    b.meeting_details
        .iter()
        .map(|details| Fact {
            label: t(lang, "email.label.meeting"),
            value: multiline(details),
        })
        .collect()
}

/// The owner's message to the requester: "A message from Olga:" and the text.
pub fn owner_quote(lang: &str, ctx: &MailContext, text: &str) -> Fact {
    Fact {
        label: tf(
            lang,
            "email.common.owner_message",
            &[("owner", &one_line(&ctx.owner_name))],
        ),
        value: multiline(text.trim()),
    }
}

/// What a requester sees of their own booking.
/// The topic only when `msg` may quote the requester's text.
fn requester_facts(
    msg: &Message,
    lang: &str,
    owner: &str,
    when: &str,
    priority: &str,
    b: &BookingFacts,
) -> Vec<Fact> {
    let fact = |label_key: &str, value: String| Fact {
        label: t(lang, &format!("email.label.{label_key}")),
        value,
    };
    let mut facts = vec![
        fact("when", when.to_owned()),
        fact("with", owner.to_owned()),
    ];
    if msg.quotes_requester_text() {
        facts.push(fact("topic", multiline(&b.topic)));
    }
    facts.push(fact("priority", priority.to_owned()));
    facts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answer_keys_become_labels() {
        assert_eq!(answer_label("company_size"), "Company size");
        assert_eq!(answer_label("x"), "X");
    }

    #[test]
    fn short_moments_use_the_readers_zone() {
        let at: Timestamp = "2026-12-03T09:00:00Z".parse().unwrap();
        assert_eq!(
            short_when("en", at, "Europe/Berlin"),
            "Thu, Dec 3 10:00\u{202f}AM"
        );
        assert_eq!(
            short_when("en", at, "America/New_York"),
            "Thu, Dec 3 4:00\u{202f}AM"
        );
    }
}
