//! Availability slots: a window of time the owner offers.

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

/// Shortest session the service accepts.
pub const MIN_LENGTH: SignedDuration = SignedDuration::from_mins(5);
/// Longest session the service accepts.
pub const MAX_LENGTH: SignedDuration = SignedDuration::from_hours(12);

/// Whether a slot can be booked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SlotStatus {
    /// Offered to visitors.
    Open,
    /// Held by a pending or accepted booking.
    Booked,
    /// Withdrawn by the owner.
    Unavailable,
}

impl SlotStatus {
    /// The stable name, as in SQL and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            SlotStatus::Open => "open",
            SlotStatus::Booked => "booked",
            SlotStatus::Unavailable => "unavailable",
        }
    }

    /// Parses the stable name.
    pub fn parse(s: &str) -> Option<Self> {
        [
            SlotStatus::Open,
            SlotStatus::Booked,
            SlotStatus::Unavailable,
        ]
        .into_iter()
        .find(|st| st.as_str() == s)
    }
}

/// Why a slot window was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SlotWindowError {
    /// The end is not after the start.
    #[error("ends_at must be after starts_at")]
    EndsBeforeStart,
    /// Shorter than [`MIN_LENGTH`] or longer than [`MAX_LENGTH`].
    #[error("a slot lasts between 5 minutes and 12 hours")]
    BadLength,
    /// Outside the years calendars accept (Proton refuses dates outside 1970–2037).
    #[error("slots must lie between 1970 and 2037")]
    OutOfRange,
}

/// A checked slot window: start before end, a sensible length, whole seconds, within 1970–2037.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SlotWindow {
    starts_at: Timestamp,
    ends_at: Timestamp,
}

impl SlotWindow {
    /// Checks a window. Sub-second parts are dropped (calendars know only seconds).
    pub fn parse(starts_at: Timestamp, ends_at: Timestamp) -> Result<Self, SlotWindowError> {
        let starts_at = truncate(starts_at);
        let ends_at = truncate(ends_at);
        if ends_at <= starts_at {
            return Err(SlotWindowError::EndsBeforeStart);
        }
        let len = ends_at.duration_since(starts_at);
        if len < MIN_LENGTH || len > MAX_LENGTH {
            return Err(SlotWindowError::BadLength);
        }
        let lo = Timestamp::from_second(0).expect("epoch");
        let hi = Timestamp::from_second(2_145_916_800).expect("2038-01-01"); // 2038-01-01T00:00:00Z
        if starts_at < lo || ends_at > hi {
            return Err(SlotWindowError::OutOfRange);
        }
        Ok(Self { starts_at, ends_at })
    }

    /// When the session starts (UTC).
    pub fn starts_at(&self) -> Timestamp {
        self.starts_at
    }

    /// When the session ends (UTC).
    pub fn ends_at(&self) -> Timestamp {
        self.ends_at
    }
}

fn truncate(t: Timestamp) -> Timestamp {
    Timestamp::from_second(t.as_second()).expect("in range")
}

/// The canonical text form of a timestamp in storage and JSON: `2026-03-29T01:00:00Z`.
/// Fixed width, so that text comparison orders like time.
pub fn format_utc(t: Timestamp) -> String {
    t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn windows_are_checked() {
        assert!(SlotWindow::parse(ts("2030-01-01T10:00:00Z"), ts("2030-01-01T10:45:00Z")).is_ok());
        assert_eq!(
            SlotWindow::parse(ts("2030-01-01T10:00:00Z"), ts("2030-01-01T10:00:00Z")),
            Err(SlotWindowError::EndsBeforeStart)
        );
        assert_eq!(
            SlotWindow::parse(ts("2030-01-01T10:00:00Z"), ts("2030-01-01T10:01:00Z")),
            Err(SlotWindowError::BadLength)
        );
        assert_eq!(
            SlotWindow::parse(ts("2040-01-01T10:00:00Z"), ts("2040-01-01T11:00:00Z")),
            Err(SlotWindowError::OutOfRange)
        );
    }

    #[test]
    fn utc_text_is_fixed_width() {
        let w =
            SlotWindow::parse(ts("2030-01-01T10:00:00.789Z"), ts("2030-01-01T11:00:00Z")).unwrap();
        assert_eq!(format_utc(w.starts_at()), "2030-01-01T10:00:00Z");
        assert_eq!(
            format_utc(ts("1999-12-31T23:59:59+01:00")),
            "1999-12-31T22:59:59Z"
        );
    }
}
