//! How the admin UI writes moments and rows: dates and times in the owner's zone and language,
//! the booking and email rows several pages list, and the week arithmetic of the slot pages.

use guidance_core::OwnerSettings;
use guidance_core::i18n;
use guidance_store::{Booking, OutboxMessage};
use jiff::civil::Date;
use jiff::{Timestamp, ToSpan, Zoned};

use crate::i18n::Tr;

/// `at` in the owner's zone.
pub(super) fn zoned(at: Timestamp, owner: &OwnerSettings) -> Zoned {
    at.to_zoned(owner.time_zone.zone())
}

/// A short day ("Thu, Dec 3" in English), from CLDR data.
pub(super) fn short_date(tr: &Tr, z: &Zoned) -> String {
    i18n::format_short_date(tr.lang, z)
}

/// A time of day as the reader's language writes it ("10:00 AM", "10:00").
pub(super) fn time_of_day(tr: &Tr, z: &Zoned) -> String {
    i18n::format_time(tr.lang, z)
}

/// `HH:MM`, the value of an `<input type="time">` (not for reading: see [`time_of_day`]).
pub(super) fn hhmm(z: &Zoned) -> String {
    z.strftime("%H:%M").to_string()
}

/// "Thu, Dec 3, 10:00 AM–10:45 AM" in the owner's zone.
pub(super) fn short_span(
    tr: &Tr,
    owner: &OwnerSettings,
    start: Timestamp,
    end: Timestamp,
) -> String {
    let s = zoned(start, owner);
    tr.fmt(
        "admin.datetime.span",
        &[
            ("date", &short_date(tr, &s)),
            ("start", &time_of_day(tr, &s)),
            ("end", &time_of_day(tr, &zoned(end, owner))),
        ],
    )
}

/// "Thu, Dec 3, 10:00 AM" in the owner's zone.
pub(super) fn short_moment(tr: &Tr, owner: &OwnerSettings, at: Timestamp) -> String {
    let z = zoned(at, owner);
    tr.fmt(
        "admin.datetime.moment",
        &[
            ("date", &short_date(tr, &z)),
            ("time", &time_of_day(tr, &z)),
        ],
    )
}

/// A label that falls back to the raw code when the locale files do not name it (a new email
/// kind, say), instead of showing a missing-key marker.
pub(super) fn label_or_code(tr: &Tr, prefix: &str, code: &str) -> String {
    let text = tr.get(&format!("{prefix}.{code}"));
    if text.starts_with('⟦') {
        code.to_owned()
    } else {
        text
    }
}

/// One booking in a list.
pub(super) struct BookingRow {
    pub(super) id: String,
    pub(super) when: String,
    pub(super) name: String,
    pub(super) email: String,
    pub(super) topic: String,
    pub(super) priority: &'static str,
    pub(super) priority_label: String,
    pub(super) status: &'static str,
    pub(super) status_label: String,
}

/// `b` as a row of a bookings list, its topic cut to its first line.
pub(super) fn booking_row(tr: &Tr, owner: &OwnerSettings, b: &Booking) -> BookingRow {
    let first_line = b.topic.lines().next().unwrap_or_default().trim();
    let topic = if first_line.chars().count() > 90 {
        let mut s: String = first_line.chars().take(89).collect();
        s.push('…');
        s
    } else {
        first_line.to_owned()
    };
    BookingRow {
        id: b.id.to_string(),
        when: short_span(tr, owner, b.starts_at, b.ends_at),
        name: b.name.clone(),
        email: b.email.clone(),
        topic,
        priority: b.priority.as_str(),
        priority_label: tr.get(&format!("common.priority.{}", b.priority.as_str())),
        status: b.status.as_str(),
        status_label: tr.get(&format!("admin.status.{}", b.status.as_str())),
    }
}

/// One email in a list.
pub(super) struct EmailRow {
    pub(super) id: String,
    pub(super) booking_id: String,
    pub(super) kind: String,
    pub(super) recipient: String,
    pub(super) subject: String,
    pub(super) status: &'static str,
    pub(super) status_label: String,
    pub(super) attempts: String,
    pub(super) error: String,
    pub(super) when: String,
    /// Whether "send again" makes sense (not for a reminder withdrawn or still waiting).
    pub(super) resendable: bool,
    /// What the email said (its plain text), where the page shows it.
    pub(super) text: String,
}

/// `m` as a row of an emails list, with when it was sent, is due again or was queued.
pub(super) fn email_row(tr: &Tr, owner: &OwnerSettings, m: &OutboxMessage) -> EmailRow {
    let scheduled = m.send_before.is_some() && m.sent_at.is_none();
    let when = match m.sent_at {
        // Reminders: withdrawn or dropped unsent, or waiting for their moment.
        None if m.withdrawn.is_some() => {
            let at = m.withdrawn.as_ref().map_or(m.created_at, |(at, _)| *at);
            tr.fmt(
                "admin.email.withdrawn_at",
                &[("when", &short_moment(tr, owner, at))],
            )
        }
        None if scheduled && m.last_error.is_none() => tr.fmt(
            "admin.email.scheduled_at",
            &[("when", &short_moment(tr, owner, m.next_attempt_at))],
        ),
        Some(at) => tr.fmt(
            "admin.email.sent_at",
            &[("when", &short_moment(tr, owner, at))],
        ),
        None if m.status == guidance_store::EmailStatus::Queued && m.last_error.is_some() => tr
            .fmt(
                "admin.email.retry_at",
                &[("when", &short_moment(tr, owner, m.next_attempt_at))],
            ),
        None => tr.fmt(
            "admin.email.queued_at",
            &[("when", &short_moment(tr, owner, m.created_at))],
        ),
    };
    let status = match (m.status, &m.last_error, &m.withdrawn) {
        (_, _, Some((_, why))) if why == "too_late" => "too_late",
        (_, _, Some(_)) => "withdrawn",
        (guidance_store::EmailStatus::Queued, Some(_), _) => "retrying",
        (guidance_store::EmailStatus::Queued, None, _) if scheduled => "scheduled",
        (s, _, _) => s.as_str(),
    };
    EmailRow {
        id: m.id.to_string(),
        booking_id: m.booking_id.map(|b| b.to_string()).unwrap_or_default(),
        kind: label_or_code(tr, "admin.email_kind", &m.kind),
        recipient: m.recipient.clone(),
        subject: m.subject.clone(),
        status,
        status_label: tr.get(&format!("admin.email_status.{status}")),
        attempts: if m.attempts > 1 {
            tr.count(
                "admin.email.attempts",
                u64::try_from(m.attempts).unwrap_or(0),
                &[],
            )
        } else {
            String::new()
        },
        error: m.last_error.clone().unwrap_or_default(),
        when,
        resendable: m.withdrawn.is_none()
            && !(scheduled && m.status == guidance_store::EmailStatus::Queued),
        text: String::new(),
    }
}

/// The Monday of the week of `d`.
pub(super) fn monday_of(d: Date) -> Date {
    d.checked_sub(i64::from(d.weekday().to_monday_zero_offset()).days())
        .unwrap_or(d)
}

/// The first moment of the day `d` in the owner's zone.
pub(super) fn day_start(d: Date, owner: &OwnerSettings) -> Timestamp {
    // Midnight may not exist on a day the clocks change; the zone's own rule then picks the
    // first moment of the day. Only a date beyond the supported years fails.
    d.to_zoned(owner.time_zone.zone())
        .map_or(Timestamp::MIN, |z| z.timestamp())
}

/// Whether calendar replies are read, in one sentence for the owner: not configured, not read
/// yet, read (when last), or failing (with the reason).
pub(super) fn replies_reading(
    tr: &Tr,
    owner: &OwnerSettings,
    status: &guidance_app::replies::ReadingStatus,
) -> String {
    let Some(mailbox) = &status.mailbox else {
        return tr.get("admin.replies.status.off");
    };
    match status
        .last
        .as_ref()
        .and_then(|l| l.checked_at.map(|at| (at, l)))
    {
        None => tr.fmt("admin.replies.status.waiting", &[("mailbox", mailbox)]),
        Some((at, last)) => match &last.last_error {
            None => tr.fmt(
                "admin.replies.status.ok",
                &[("mailbox", mailbox), ("when", &short_moment(tr, owner, at))],
            ),
            Some(error) => tr.fmt(
                "admin.replies.status.failing",
                &[
                    ("mailbox", mailbox),
                    ("when", &short_moment(tr, owner, at)),
                    ("error", error),
                ],
            ),
        },
    }
}
