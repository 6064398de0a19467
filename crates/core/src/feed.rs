//! The owner's subscription feed: every booking as one `VEVENT` of a `VCALENDAR` without a
//! `METHOD` (a published calendar, not a message), each with the UID and `SEQUENCE` of the
//! booking's emailed invites, so that calendar apps merge the two.

use jiff::Timestamp;

use crate::ics::{EventStatus, fold_into, text, utc};

/// One booking in the feed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedEvent {
    /// The booking's calendar UID.
    pub uid: String,
    /// The booking's calendar sequence.
    pub sequence: u32,
    /// When the booking last changed (`DTSTAMP`, `LAST-MODIFIED`).
    pub updated_at: Timestamp,
    /// When the session starts.
    pub starts_at: Timestamp,
    /// When it ends.
    pub ends_at: Timestamp,
    /// The entry's title (the visitor's name and topic).
    pub summary: String,
    /// Tentative (pending), confirmed (accepted) or cancelled.
    pub status: EventStatus,
}

/// The feed as an iCalendar document named `name`, asking apps to look again every
/// `refresh_minutes`.
pub fn feed(name: &str, refresh_minutes: u32, events: &[FeedEvent]) -> String {
    let mut out = String::with_capacity(512 + 400 * events.len());
    let mut line = |s: &str| fold_into(&mut out, s);
    line("BEGIN:VCALENDAR");
    line("VERSION:2.0");
    line("PRODID:-//Guidance//Guidance booking feed//EN");
    line("CALSCALE:GREGORIAN");
    line(&format!("X-WR-CALNAME:{}", text(name)));
    line(&format!("NAME:{}", text(name)));
    line(&format!(
        "REFRESH-INTERVAL;VALUE=DURATION:PT{refresh_minutes}M"
    ));
    line(&format!("X-PUBLISHED-TTL:PT{refresh_minutes}M"));
    for e in events {
        line("BEGIN:VEVENT");
        line(&format!("UID:{}", text(&e.uid)));
        line(&format!("SEQUENCE:{}", e.sequence));
        line(&format!("DTSTAMP:{}", utc(e.updated_at)));
        line(&format!("LAST-MODIFIED:{}", utc(e.updated_at)));
        line(&format!("DTSTART:{}", utc(e.starts_at)));
        line(&format!("DTEND:{}", utc(e.ends_at)));
        line(&format!("SUMMARY:{}", text(&e.summary)));
        line(&format!("STATUS:{}", e.status.as_str()));
        let transp = if e.status == EventStatus::Cancelled {
            "TRANSPARENT"
        } else {
            "OPAQUE"
        };
        line(&format!("TRANSP:{transp}"));
        line("END:VEVENT");
    }
    line("END:VCALENDAR");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_feed_holds_each_booking_with_its_uid_sequence_and_status() {
        let at: Timestamp = "2030-01-07T09:00:00Z".parse().unwrap();
        let doc = feed(
            "Guidance: Olga",
            15,
            &[FeedEvent {
                uid: "abc@guidance".into(),
                sequence: 2,
                updated_at: at,
                starts_at: at,
                ends_at: at + jiff::SignedDuration::from_hours(1),
                summary: "Ada; migration, help".into(),
                status: EventStatus::Cancelled,
            }],
        );
        for want in [
            "X-WR-CALNAME:Guidance: Olga\r\n",
            "REFRESH-INTERVAL;VALUE=DURATION:PT15M\r\n",
            "UID:abc@guidance\r\nSEQUENCE:2\r\n",
            "SUMMARY:Ada\\; migration\\, help\r\n",
            "STATUS:CANCELLED\r\n",
        ] {
            assert!(doc.contains(want), "{want:?} in {doc}");
        }
        assert!(!doc.contains("METHOD:"));
    }
}
