//! One `VEVENT` read into what busy times need: when, how long, how it repeats, whether it
//! blocks. Titles, descriptions and attendees are never read.

use icalendar::parser::Component;
use jiff::{SignedDuration, Span, Timestamp, Zoned};

use crate::values::{When, when, whens};
use crate::zone::Zones;

/// How long each occurrence lasts.
#[derive(Clone, Debug)]
pub(crate) enum Length {
    /// Exact elapsed time (timed events, `DURATION:PT…`).
    Exact(SignedDuration),
    /// Calendar days, which may be 23 or 25 hours long across a DST change (all-day events,
    /// `DURATION:P1D`).
    Nominal(Span),
}

/// A `VEVENT`, as busy times see it.
#[derive(Clone, Debug)]
pub(crate) struct Event {
    /// Its `UID` (empty when absent).
    pub uid: String,
    /// `DTSTART`.
    pub start: When,
    /// How long each occurrence lasts.
    pub length: Length,
    /// The `RRULE` value, if it repeats.
    pub rrule: Option<String>,
    /// Extra occurrences (`RDATE`).
    pub rdates: Vec<When>,
    /// Left-out occurrences (`EXDATE`).
    pub exdates: Vec<When>,
    /// For a moved or cancelled single occurrence: the original start it replaces.
    pub recurrence_id: Option<When>,
    /// Whether it makes the owner busy: not `TRANSP:TRANSPARENT`, not `STATUS:CANCELLED`.
    pub blocks: bool,
}

impl Event {
    /// Reads a `VEVENT`; `None` when it has no readable `DTSTART`.
    pub(crate) fn read(c: &Component<'_>, zones: &Zones) -> Option<Self> {
        let text = |name: &str| c.find_prop(name).map(|p| p.val.as_str().trim().to_owned());
        let start = when(c.find_prop("DTSTART")?, zones)?;
        let end = c.find_prop("DTEND").and_then(|p| when(p, zones));
        let duration = text("DURATION").and_then(|d| d.parse::<Span>().ok());
        let length = length(&start, end.as_ref(), duration)?;
        let many = |name: &str| {
            c.properties
                .iter()
                .filter(|p| p.name.as_str().eq_ignore_ascii_case(name))
                .flat_map(|p| whens(p, zones))
                .collect::<Vec<_>>()
        };
        let transparent = text("TRANSP").is_some_and(|t| t.eq_ignore_ascii_case("TRANSPARENT"));
        let cancelled = text("STATUS").is_some_and(|s| s.eq_ignore_ascii_case("CANCELLED"));
        Some(Self {
            uid: text("UID").unwrap_or_default(),
            length,
            rrule: text("RRULE"),
            rdates: many("RDATE"),
            exdates: many("EXDATE"),
            recurrence_id: c.find_prop("RECURRENCE-ID").and_then(|p| when(p, zones)),
            blocks: !transparent && !cancelled,
            start,
        })
    }

    /// The end of an occurrence starting at `start`.
    pub(crate) fn end_of(&self, start: &Zoned) -> Option<Timestamp> {
        match &self.length {
            Length::Exact(d) => start.timestamp().checked_add(*d).ok(),
            Length::Nominal(span) => start.checked_add(*span).ok().map(|z| z.timestamp()),
        }
    }
}

/// The length from `DTEND` or `DURATION`; without either, a date lasts one day and a time
/// takes no time (RFC 5545 §3.6.1).
fn length(start: &When, end: Option<&When>, duration: Option<Span>) -> Option<Length> {
    if let Some(end) = end {
        if start.all_day {
            let days = start.civil.date().until(end.civil.date()).ok()?;
            return Some(Length::Nominal(days));
        }
        let exact = end.instant()?.duration_since(start.instant()?);
        return Some(Length::Exact(exact));
    }
    match duration {
        Some(span) if span.get_days() != 0 || span.get_weeks() != 0 => Some(Length::Nominal(span)),
        Some(span) => SignedDuration::try_from(span).ok().map(Length::Exact),
        None if start.all_day => Some(Length::Nominal(Span::new().days(1))),
        None => Some(Length::Exact(SignedDuration::ZERO)),
    }
}
